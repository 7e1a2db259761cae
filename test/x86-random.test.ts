// Randomized differential test against QEMU: thousands of random instruction sequences
// (test/x86/random/gen.mjs: the integer groups in every operand size, random registers,
// immediates and flags) run in 32-bit protected mode and in 64-bit mode on QEMU 7.2 and
// on qemu-ts; every general register and the defined flags after each case must agree.
// Fixed seed in CI; X86_RANDOM_SEED and X86_RANDOM_CASES pick others locally.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTargets, missingTools, programTarget, REPO_ROOT } from './x86/build.mjs';
import { missingQemu, qemuCommand, qemuTsCommand, runEmulator } from './x86/emulators.mjs';
// @ts-expect-error: a plain JavaScript module without types
import { generateCases, programSource } from './x86/random/gen.mjs';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const SEED = Number(process.env.X86_RANDOM_SEED ?? 0x1234);
const CASES = Number(process.env.X86_RANDOM_CASES ?? 2500);
const OUT = join(REPO_ROOT, 'build', 'x86-random');
const missing = [...missingTools(), ...missingQemu()];

interface Case {
  insns: string[];
  flagMask: number;
}

describe('x86 random instruction sequences vs QEMU', () => {
  if (missing.length) {
    if (CI) it('has the tools it needs (CI)', () => expect.fail(`missing in CI: ${missing.join(', ')}`));
    else it.skip(`skipped: ${missing.join(', ')} not installed`, () => {});
    return;
  }
  const modes = [32, 64] as const;
  const programs = new Map<number, { target: ReturnType<typeof programTarget>; cases: Case[] }>();
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const targets = [];
    for (const bits of modes) {
      const cases: Case[] = generateCases(SEED + bits, bits, CASES);
      const asm = join(OUT, `cases${bits}.asm`);
      writeFileSync(asm, programSource(cases, bits));
      const target = programTarget(`random${bits}`, [asm, join(REPO_ROOT, 'test/x86/random/random.c')], { bits, outDir: OUT });
      programs.set(bits, { target, cases });
      targets.push(target);
    }
    await buildTargets(targets, { log: null });
  }, 300_000);

  for (const bits of modes) {
    it(`${bits}-bit code: ${CASES} cases agree`, async () => {
      const { target, cases } = programs.get(bits)!;
      const [q, t] = await Promise.all([
        runEmulator(qemuCommand(target), { timeoutMs: 60_000 }),
        runEmulator(qemuTsCommand(target), { timeoutMs: 120_000 }),
      ]);
      expect(q.stdout).toMatch(/random: done/);
      const ql = q.stdout.split('\n'), tl = t.stdout.split('\n');
      for (let i = 0; i < ql.length; i++) {
        if (ql[i] !== tl[i]) {
          const m = /^(\d+):/.exec(ql[i] ?? '');
          const c = m ? cases[Number(m[1])] : undefined;
          expect.fail(
            `first difference at line ${i + 1}${c ? ` (case ${m![1]}: ${c.insns.join('; ')}, flag mask ${c.flagMask.toString(16)})` : ''}:\n` +
            `  QEMU:    ${ql[i]}\n  qemu-ts: ${tl[i]}`,
          );
        }
      }
      expect(t.status).toBe(q.status);
    }, 180_000);
  }
});
