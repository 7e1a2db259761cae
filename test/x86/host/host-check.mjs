#!/usr/bin/env node
// Developer tool: runs user-level corpus programs natively on the host CPU
// (as Linux processes, see hosted.c) and compares their output with QEMU's.
// Differences are either host-CPU-specific behaviour (undefined results that
// the programs should not print), exceptions (signals only approximate the
// vectors) or places where QEMU 7.2 differs from this CPU.
//
//   node test/x86/host/host-check.mjs int_alu32 shifts32 ...  [--show N]
//
// Only for programs that do not need ring 0 (no paging, descriptor tables,
// I/O ports); the result is informative, not a test.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTargets, COMMON_DIR, corpusTargets, OUT_DIR } from '../build.mjs';
import { qemuCommand, runEmulator } from '../emulators.mjs';

const args = process.argv.slice(2);
const showIdx = args.indexOf('--show');
const show = showIdx >= 0 ? Number(args.splice(showIdx, 2)[1]) : 20;
const names = args;
const here = new URL('.', import.meta.url).pathname;
const dir = join(OUT_DIR, 'host');
mkdirSync(dir, { recursive: true });
let bad = 0;
const chosen = corpusTargets().filter((x) => names.includes(x.name));
await buildTargets(chosen, { log: null });
for (const t of chosen) {
  const exe = join(dir, t.name);
  const c = spawnSync('gcc', [
    '-O2', `-m${t.bits}`, ...(t.bits === 64 ? ['-mno-red-zone'] : []), '-fno-pic', '-no-pie', '-fno-builtin', '-fcf-protection=none', '-DHOSTED',
    '-Dmain=corpus_main', '-w', `-I${COMMON_DIR}`, ...(t.bits === 32 ? ['-march=i686'] : []),
    ...t.sources.filter((s) => s.endsWith('.c')), join(COMMON_DIR, 'lib.c'), join(here, 'hosted.c'), '-o', exe,
  ], { encoding: 'utf8' });
  if (c.status !== 0) {
    console.log(`${t.name}: host build failed\n${c.stderr}`);
    bad++;
    continue;
  }
  const h = spawnSync(exe, [], { encoding: 'latin1', maxBuffer: 1 << 26 });
  if (h.error) {
    console.log(`${t.name}: cannot run on this host: ${h.error.message}` +
      (t.bits === 32 ? ' (a kernel without IA32 emulation runs only the 64-bit programs)' : ''));
    bad++;
    continue;
  }
  const q = await runEmulator(qemuCommand(t));
  writeFileSync(join(dir, `${t.name}.host.out`), h.stdout ?? '', 'latin1');
  writeFileSync(join(dir, `${t.name}.qemu.out`), q.stdout, 'latin1');
  const a = q.stdout.split('\n');
  const b = (h.stdout ?? '').split('\n');
  const diffs = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) diffs.push(`  line ${i + 1}\n    qemu: ${a[i]}\n    host: ${b[i]}`);
  }
  console.log(`${t.name}: qemu status ${q.status}, host status ${h.status}, ${diffs.length} differing lines` +
    ` (of ${a.length})`);
  for (const d of diffs.slice(0, show)) console.log(d);
  if (diffs.length) bad++;
}
process.exitCode = bad ? 1 : 0;
