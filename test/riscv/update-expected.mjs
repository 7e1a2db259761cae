#!/usr/bin/env node
// Builds the corpus and records QEMU's output for each program in
// test/riscv/expected/<name>.out and <name>.status (documentation and a
// debugging aid: the differential test always compares against a live QEMU
// run). Also records the QEMU spike exit status of each HTIF ISA test in
// expected/isa.status.
//
//   node test/riscv/update-expected.mjs [names...]

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildCorpus, CORPUS_DIR, REPO_ROOT } from './build.mjs';
import {
  commandLine, qemuSpikeCommand, qemuVersion, qemuVirtCommand, runEmulator,
} from './emulators.mjs';

const names = process.argv.slice(2);
const version = qemuVersion();
if (!version) {
  console.error('qemu-system-riscv64 not found');
  process.exit(1);
}
const { programs, isa } = await buildCorpus({ log: () => {} });
const dir = join(CORPUS_DIR, 'expected');
mkdirSync(dir, { recursive: true });

let failures = 0;
for (const t of programs) {
  if (names.length && !names.includes(t.name)) continue;
  const cmd = qemuVirtCommand(t.out);
  const r = await runEmulator(cmd, { timeoutMs: 30_000 });
  if (r.timedOut || r.status === null) {
    console.error(`${t.name}: QEMU did not exit (${commandLine(cmd)})`);
    failures++;
    continue;
  }
  writeFileSync(join(dir, `${t.name}.out`), r.stdout, 'latin1');
  writeFileSync(join(dir, `${t.name}.status`), `${r.status}\n`);
  console.log(`${t.name}: status ${r.status}, ${r.stdout.length} bytes, ${r.wallMs.toFixed(0)} ms`);
}

if (!names.length) {
  const lines = [`# QEMU spike exit status of each HTIF ISA test (${version})`];
  for (const t of isa) {
    const r = await runEmulator(qemuSpikeCommand(t.out), { timeoutMs: 30_000 });
    lines.push(`${t.name} ${r.timedOut ? 'timeout' : r.status}`);
    console.log(`isa ${t.name}: status ${r.status} (expect ${t.expectedStatus}` +
      (t.qemuKnownBugStatus !== undefined ? `, QEMU known bug ${t.qemuKnownBugStatus}` : '') + ')');
  }
  writeFileSync(join(dir, 'isa.status'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'QEMU_VERSION'), `${version}\n`);
}
console.log(`expected outputs in ${relative(REPO_ROOT, dir)}/`);
process.exitCode = failures ? 1 : 0;
