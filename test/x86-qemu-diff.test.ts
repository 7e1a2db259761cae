// Differential test against QEMU for x86: the bare-metal programs of
// test/x86/ (32- and 64-bit, Multiboot ELF on the pc board).
//
// 1. Every program runs on QEMU 7.2 and must print exactly what
//    test/x86/expected/<name>.out records and exit with <name>.status: the
//    corpus itself must stay deterministic (regenerate with
//    `node test/x86/update-expected.mjs` after changing a program).
// 2. Programs listed in test/x86/qemu-ts-passing.txt must also print the same
//    bytes and exit with the same status on qemu-ts as on the live QEMU run.
//    The list grows as the x86 CPU grows; the others are reported as todo.
//
// Commands live in test/x86/emulators.mjs, the build in test/x86/build.mjs.
// Missing tools: with CI=true a missing gcc (or its -m32 multilib support),
// nasm, objcopy, qemu-system-i386/x86_64 or qemu-ts CLI is a failure;
// otherwise the affected tests are skipped.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, CORPUS_DIR, corpusTargets, missingTools, type X86Target } from './x86/build.mjs';
import {
  commandLine,
  missingQemu,
  qemuCommand,
  qemuTsAvailable,
  qemuTsCommand,
  runEmulator,
  type EmulatorResult,
} from './x86/emulators.mjs';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const QEMU_TIMEOUT_MS = 30_000;
const QEMU_TS_TIMEOUT_MS = 120_000;
const EXPECTED_DIR = join(CORPUS_DIR, 'expected');
const PASSING_FILE = join(CORPUS_DIR, 'qemu-ts-passing.txt');

const missing = [...missingTools(), ...missingQemu()];
const haveQemuTs = qemuTsAvailable();

// Target lists are known without building (they come from the source tree).
const programs: X86Target[] = corpusTargets();

/** Names in qemu-ts-passing.txt ('#' comments and blank lines ignored). */
function passingList(): string[] {
  if (!existsSync(PASSING_FILE)) return [];
  return readFileSync(PASSING_FILE, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0);
}
const passing = new Set(passingList());

function expectedOf(name: string): { out: string; status: number } | null {
  const outFile = join(EXPECTED_DIR, `${name}.out`);
  const statusFile = join(EXPECTED_DIR, `${name}.status`);
  if (!existsSync(outFile) || !existsSync(statusFile)) return null;
  return { out: readFileSync(outFile, 'latin1'), status: Number(readFileSync(statusFile, 'utf8').trim()) };
}

/** First differing line of two outputs, or null when equal. */
function firstDifference(expected: string, actual: string, names = ['QEMU', 'qemu-ts']): string | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const show = (s: string | undefined) => (s === undefined ? '<end of output>' : JSON.stringify(s.slice(0, 300)));
      return `line ${i + 1}:\n  ${names[0]}: ${show(a[i])}\n  ${names[1]}: ${show(b[i])}`;
    }
  }
  return 'outputs differ only in line endings';
}

function describeRun(r: EmulatorResult): string {
  if (r.spawnError) return `failed to start: ${r.spawnError.message}`;
  if (r.timedOut) return `timed out after ${r.wallMs.toFixed(0)} ms`;
  if (r.status === null) return `killed by ${r.signal}`;
  return `exit status ${r.status}`;
}

// One QEMU run per program, shared by the QEMU and the qemu-ts checks.
const qemuRuns = new Map<string, Promise<EmulatorResult>>();
function qemuRun(t: X86Target): Promise<EmulatorResult> {
  let p = qemuRuns.get(t.name);
  if (!p) {
    p = runEmulator(qemuCommand(t), { timeoutMs: QEMU_TIMEOUT_MS });
    qemuRuns.set(t.name, p);
  }
  return p;
}

describe('x86 bare-metal corpus vs QEMU', () => {
  if (missing.length) {
    if (CI) {
      it('has the tools it needs (CI)', () => {
        expect.fail(`missing in CI: ${missing.join(', ')}`);
      });
    } else {
      it.skip(`skipped: ${missing.join(', ')} not installed`, () => {});
    }
    return;
  }

  beforeAll(async () => {
    await buildCorpus({ log: null });
  }, 300_000);

  it('corpus is complete: programs, recorded expectations, a valid passing list', () => {
    expect(programs.length).toBeGreaterThanOrEqual(20);
    const names = new Set(programs.map((t) => t.name));
    for (const n of ['runtime32', 'runtime64', 'int_alu32', 'int_alu64', 'x87', 'smc32']) {
      expect(names.has(n), `program ${n}`).toBe(true);
    }
    const unrecorded = programs.filter((t) => !expectedOf(t.name)).map((t) => t.name);
    expect(unrecorded, 'programs without expected/<name>.out and .status').toEqual([]);
    const unknown = [...passing].filter((n) => !names.has(n));
    expect(unknown, 'names in qemu-ts-passing.txt that are not programs').toEqual([]);
    expect(programs.some((t) => t.bits === 64) && programs.some((t) => t.bits === 32)).toBe(true);
  });

  it('QEMU output is non-trivial (the comparison cannot be vacuous)', async () => {
    const rt = programs.find((t) => t.name === 'runtime32')!;
    const r = await qemuRun(rt);
    expect(r.status, describeRun(r)).toBe(7);
    expect(r.stdout.startsWith('== runtime32 ==\n'), 'no firmware text before the program').toBe(true);
    expect(r.stdout).toContain('ud2: #UD ip=+0');
    expect(r.stdout).toContain('user cli: #GP(0000) ip=+0');
    expect(r.stdout).toContain('real mode: ax=2345');
    const alu = programs.find((t) => t.name === 'int_alu32')!;
    const a = await qemuRun(alu);
    // 0x7f + 1: result 0x80 with OF, SF, AF set (PF clear: one bit set)
    expect(a.stdout).toContain('add.8 7f,01 = 80 f=890');
    expect(a.stdout.length).toBeGreaterThan(10_000);
    const rt64 = programs.find((t) => t.name === 'runtime64')!;
    const r64 = await qemuRun(rt64);
    expect(r64.status, describeRun(r64)).toBe(9);
    expect(r64.stdout).toContain('long mode: efer.lme=1 efer.lma=1 cr0.pg=1 cr4.pae=1');
  }, 3 * QEMU_TIMEOUT_MS);

  describe('QEMU matches the recorded expectation (deterministic corpus)', () => {
    for (const t of programs) {
      it(t.name, async () => {
        const exp = expectedOf(t.name);
        expect(exp, `test/x86/expected/${t.name}.out missing: run node test/x86/update-expected.mjs`).not.toBeNull();
        const r = await qemuRun(t);
        const context = `${commandLine(qemuCommand(t))}: ${describeRun(r)}\n${r.stderr.slice(-1000)}`;
        expect(r.status, context).not.toBeNull();
        expect(r.stdout.length, `QEMU printed nothing for ${t.name}`).toBeGreaterThan(0);
        expect(
          { status: r.status, firstDifference: firstDifference(exp!.out, r.stdout, ['expected', 'QEMU    ']) },
          context,
        ).toEqual({ status: exp!.status, firstDifference: null });
      }, QEMU_TIMEOUT_MS + 5_000);
    }
  });

  describe('qemu-ts: identical output and exit status (programs in qemu-ts-passing.txt)', () => {
    if (passing.size > 0 && !haveQemuTs) {
      if (CI) {
        it('qemu-ts CLI exists (CI)', () => {
          expect.fail('bin/qemu-ts.js is missing');
        });
      } else {
        it.skip('skipped: bin/qemu-ts.js does not exist yet', () => {});
      }
      return;
    }
    for (const t of programs) {
      if (!passing.has(t.name)) {
        it.todo(`${t.name} (not yet in test/x86/qemu-ts-passing.txt)`);
        continue;
      }
      it(t.name, async () => {
        const q = await qemuRun(t);
        expect(q.status, `QEMU ${describeRun(q)}: ${commandLine(qemuCommand(t))}`).not.toBeNull();
        expect(q.stdout.length, `QEMU printed nothing for ${t.name}`).toBeGreaterThan(0);

        const cmd = qemuTsCommand(t);
        const r = await runEmulator(cmd, { timeoutMs: QEMU_TS_TIMEOUT_MS });
        const context = `${commandLine(cmd)}: ${describeRun(r)}\n${r.stderr.slice(-2000)}`;
        expect(r.status, context).not.toBeNull();
        expect(
          { status: r.status, firstDifference: firstDifference(q.stdout, r.stdout) },
          context,
        ).toEqual({ status: q.status, firstDifference: null });
      }, QEMU_TIMEOUT_MS + QEMU_TS_TIMEOUT_MS + 10_000);
    }
  });
});
