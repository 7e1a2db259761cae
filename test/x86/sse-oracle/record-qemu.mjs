#!/usr/bin/env node
// Records QEMU 7.2's results for the SSE oracle (sse-oracle.c) where they differ from the host
// CPU's, into qemu-7.2.txt.gz, for test/x86-sse.test.ts: there QEMU is the reference.
//
//   node test/x86/sse-oracle/record-qemu.mjs
//
// Builds sse-oracle.c twice: as a Linux program (the host CPU's results) and with -DBAREMETAL
// against the x86 corpus runtime (64-bit Multiboot), runs the latter on qemu-system-x86_64 -cpu max
// (about two minutes: the output goes through the emulated UART), and keeps
//  - every line whose results differ from the host's other than in MXCSR.DE (QEMU never sets DE),
//  - every RCPPS/RCPSS/RSQRTPS/RSQRTSS line (hardware approximates; QEMU divides exactly, and
//    approximations differ between CPU vendors),
// as "<line index> r0 r1 r2 r3 mxcsr". The header holds the line count and a hash of the input
// columns, so the test notices when the oracle changed and this needs running again.
// Needs gcc, nasm, objcopy, gcc-multilib (the corpus runtime) and qemu-system-x86_64.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT, buildTargets, programTarget } from '../build.mjs';
import { qemuCommand, qemuVersion } from '../emulators.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'sse-oracle.c');
const OUT = join(REPO_ROOT, 'build', 'x86-sse-oracle');
export const FIXTURE = join(here, 'qemu-7.2.txt.gz');

/** Ops whose every line is taken from QEMU. */
export const QEMU_DEFINED = /^(rcpps|rcpss|rsqrtps|rsqrtss)$/;

/** FNV-1a over the input columns (name imm mxcsr a0..a3 b0..b3) of every result line. */
export function inputsHash(lines) {
  let h = 0x811c9dc5;
  for (const line of lines) {
    const cols = line.split(' ').slice(0, 11).join(' ');
    for (let i = 0; i < cols.length; i++) h = Math.imul(h ^ cols.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 10, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Result lines of an oracle run (the trailing "done" line removed). */
export function resultLines(text) {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.pop() !== 'sse-oracle: done') throw new Error('sse-oracle output incomplete');
  return lines;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error || r.status === null) throw new Error(`${cmd}: ${r.error ?? r.signal}`);
  return r;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const hostExe = join(OUT, 'sse-oracle-host');
  const cc = run('gcc', ['-O1', '-msse3', '-mssse3', '-o', hostExe, SOURCE]);
  if (cc.status !== 0) throw new Error(cc.stderr);
  const host = resultLines(run(hostExe, []).stdout);

  const target = programTarget('sse-oracle', [SOURCE], { bits: 64, cpu: 'max', extra: ['-DBAREMETAL'], outDir: OUT });
  await buildTargets([target], { log: console.log });
  const { cmd, args } = qemuCommand(target);
  console.log(`running ${cmd} (about two minutes)`);
  const q = run(cmd, args, { timeout: 900_000 });
  const qemu = resultLines(q.stdout);
  if (qemu.length !== host.length) throw new Error(`QEMU printed ${qemu.length} lines, the host ${host.length}`);

  const out = [];
  let differ = 0;
  for (let i = 0; i < host.length; i++) {
    const h = host[i].split(' '), e = qemu[i].split(' ');
    if (h.slice(0, 11).join(' ') !== e.slice(0, 11).join(' ')) throw new Error(`inputs differ at line ${i}`);
    const sameButDE = h.slice(11, 15).join(' ') === e.slice(11, 15).join(' ') &&
      (parseInt(h[15], 16) & ~2) === (parseInt(e[15], 16) & ~2);
    if (sameButDE && !QEMU_DEFINED.test(h[0])) continue;
    if (!sameButDE) differ++;
    out.push(`${i} ${e.slice(11).join(' ')}`);
  }
  const header = [
    '# QEMU 7.2 results of test/x86/sse-oracle/sse-oracle.c (written by record-qemu.mjs)',
    `# lines ${host.length} inputs ${inputsHash(host)}`,
    `# ${qemuVersion('x86_64')}; host ${cpus()[0]?.model ?? 'unknown'}`,
  ];
  writeFileSync(FIXTURE, gzipSync(`${[...header, ...out].join('\n')}\n`, { level: 9 }));
  console.log(`${host.length} lines, ${differ} differ from the host beyond DE; ${out.length} kept in ${FIXTURE}`);
}

if (process.argv[1] && process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
