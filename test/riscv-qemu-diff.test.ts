// Differential test against QEMU: every bare-metal program of the RISC-V
// corpus (test/riscv/*.c, *.S) must print exactly the same thing and exit with
// the same status on qemu-ts as on qemu-system-riscv64 (-M virt -bios none).
// The HTIF ISA tests (test/riscv/isa/*.S) must end with their declared status
// on qemu-ts, cross-checked against QEMU's spike board.
//
// Commands live in test/riscv/emulators.mjs. QEMU's recorded outputs in
// test/riscv/expected/ are documentation only; this test always runs QEMU.
//
// Missing tools: with CI=true a missing cross compiler, QEMU or qemu-ts CLI is
// a failure; otherwise the affected tests are skipped.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildCorpus,
  corpusTargets,
  crossCompilerVersion,
  isaTargets,
  type BuildTarget,
} from './riscv/build.mjs';
import {
  commandLine,
  qemuSpikeCommand,
  qemuTsAvailable,
  qemuTsCommand,
  qemuVersion,
  qemuVirtCommand,
  runEmulator,
  type EmulatorResult,
} from './riscv/emulators.mjs';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const QEMU_TIMEOUT_MS = 30_000;
const QEMU_TS_TIMEOUT_MS = 120_000;

const gcc = crossCompilerVersion();
const qemu = qemuVersion();
const haveQemuTs = qemuTsAvailable();

const missing: string[] = [];
if (!gcc) missing.push('riscv64-unknown-elf-gcc');
if (!qemu) missing.push('qemu-system-riscv64');
const canBuildAndRunQemu = missing.length === 0;
const canRunQemuTs = canBuildAndRunQemu && haveQemuTs;

// Target lists are known without building (they come from the source tree).
const programs: BuildTarget[] = corpusTargets();
const isaTests: BuildTarget[] = isaTargets();

/** First differing line of two outputs, or null when equal. */
function firstDifference(expected: string, actual: string): string | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const show = (s: string | undefined) => (s === undefined ? '<end of output>' : JSON.stringify(s.slice(0, 300)));
      return `line ${i + 1}:\n  QEMU:    ${show(a[i])}\n  qemu-ts: ${show(b[i])}`;
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

describe('RISC-V bare-metal corpus vs QEMU', () => {
  if (!canBuildAndRunQemu) {
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

  it('corpus is non-empty and includes the deliberate-failure ISA test', () => {
    expect(programs.length).toBeGreaterThanOrEqual(10);
    const failing = isaTests.find((t) => t.name === 'fail_deliberate');
    expect(failing?.expectedStatus).toBe(5);
  });

  it('QEMU output is non-trivial (the comparison cannot be vacuous)', async () => {
    const muldiv = programs.find((t) => t.name === 'muldiv');
    expect(muldiv).toBeDefined();
    const r = await runEmulator(qemuVirtCommand(muldiv!.out), { timeoutMs: QEMU_TIMEOUT_MS });
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('== muldiv ==');
    expect(r.stdout).toContain('div-min-neg1=8000000000000000');
    expect(r.stdout).toContain('divu-by-x0=ffffffffffffffff');
    expect(r.stdout).toContain('muldiv: done');
    const exit = programs.find((t) => t.name === 'exit_status');
    const e = await runEmulator(qemuVirtCommand(exit!.out), { timeoutMs: QEMU_TIMEOUT_MS });
    expect(e.status, describeRun(e)).toBe(3);
    expect(e.stdout).toContain('exiting with status 3');
  }, 60_000);

  describe('programs: identical output and exit status', () => {
    if (!haveQemuTs) {
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
      it(t.name, async () => {
        const q = await runEmulator(qemuVirtCommand(t.out), { timeoutMs: QEMU_TIMEOUT_MS });
        expect(q.status, `QEMU ${describeRun(q)}: ${commandLine(qemuVirtCommand(t.out))}`).not.toBeNull();
        // If QEMU printed nothing the comparison would prove nothing.
        expect(q.stdout.length, `QEMU printed nothing for ${t.name}`).toBeGreaterThan(0);

        const cmd = qemuTsCommand(t.out);
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

  describe('HTIF ISA tests', () => {
    for (const t of isaTests) {
      it(`${t.name} on QEMU spike exits with ${t.expectedStatus}`, async () => {
        const cmd = qemuSpikeCommand(t.out);
        const q = await runEmulator(cmd, { timeoutMs: QEMU_TIMEOUT_MS });
        const allowed = [t.expectedStatus];
        if (t.qemuKnownBugStatus !== undefined) allowed.push(t.qemuKnownBugStatus);
        expect(allowed, `${commandLine(cmd)}: ${describeRun(q)}`).toContain(q.status);
      }, QEMU_TIMEOUT_MS + 5_000);

      it.skipIf(!canRunQemuTs && !CI)(`${t.name} on qemu-ts exits with ${t.expectedStatus}`, async () => {
        expect(haveQemuTs, 'bin/qemu-ts.js is missing').toBe(true);
        const cmd = qemuTsCommand(t.out);
        const r = await runEmulator(cmd, { timeoutMs: QEMU_TS_TIMEOUT_MS });
        expect(r.status, `${commandLine(cmd)}: ${describeRun(r)}\n${r.stderr.slice(-2000)}`).toBe(
          t.expectedStatus,
        );
      }, QEMU_TS_TIMEOUT_MS + 5_000);
    }
  });
});
