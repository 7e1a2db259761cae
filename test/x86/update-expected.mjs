#!/usr/bin/env node
// Builds the corpus and records QEMU's output and exit status for each
// program in test/x86/expected/<name>.out and <name>.status, plus the QEMU
// version in expected/QEMU_VERSION. test/x86-qemu-diff.test.ts checks that a
// live QEMU run still prints exactly the recorded output (the corpus must be
// deterministic) and compares qemu-ts against the live QEMU run.
//
//   node test/x86/update-expected.mjs [--check] [names...]
//
// --check runs every program twice and fails if the two runs differ, or if
// a recorded file would change (nothing is written).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildCorpus, CORPUS_DIR, REPO_ROOT } from './build.mjs';
import { commandLine, missingQemu, qemuCommand, qemuVersion, runEmulator } from './emulators.mjs';

const args = process.argv.slice(2);
const check = args.includes('--check');
const names = args.filter((a) => !a.startsWith('--'));
const missing = missingQemu();
if (missing.length) {
  console.error(`not found: ${missing.join(', ')}`);
  process.exit(1);
}
const { programs } = await buildCorpus({ log: () => {} });
const dir = join(CORPUS_DIR, 'expected');
mkdirSync(dir, { recursive: true });

let failures = 0;
let total = 0;
for (const t of programs) {
  if (names.length && !names.includes(t.name)) continue;
  const cmd = qemuCommand(t);
  const r = await runEmulator(cmd, { timeoutMs: 30_000 });
  total += r.wallMs;
  if (r.timedOut || r.status === null) {
    console.error(`${t.name}: QEMU did not exit (${commandLine(cmd)})`);
    failures++;
    continue;
  }
  const outFile = join(dir, `${t.name}.out`);
  const statusFile = join(dir, `${t.name}.status`);
  if (check) {
    const again = await runEmulator(cmd, { timeoutMs: 30_000 });
    const same = again.stdout === r.stdout && again.status === r.status;
    const recorded = existsSync(outFile) && readFileSync(outFile, 'latin1') === r.stdout &&
      existsSync(statusFile) && readFileSync(statusFile, 'utf8').trim() === String(r.status);
    if (!same || !recorded) failures++;
    console.log(`${t.name}: status ${r.status}, ${r.stdout.length} bytes, ${r.wallMs.toFixed(0)} ms` +
      `${same ? '' : ', NOT DETERMINISTIC'}${recorded ? '' : ', differs from expected/'}`);
    continue;
  }
  writeFileSync(outFile, r.stdout, 'latin1');
  writeFileSync(statusFile, `${r.status}\n`);
  console.log(`${t.name}: status ${r.status}, ${r.stdout.length} bytes, ${r.wallMs.toFixed(0)} ms`);
}
if (!check && !names.length) {
  writeFileSync(join(dir, 'QEMU_VERSION'),
    `${qemuVersion('i386')}\n${qemuVersion('x86_64')}\n`);
}
console.log(`${check ? 'checked' : 'expected outputs in'} ${relative(REPO_ROOT, dir)}/ ` +
  `(QEMU total ${(total / 1000).toFixed(1)} s)`);
process.exitCode = failures ? 1 : 0;
