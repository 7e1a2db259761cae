// A hart straight out of reset must run at full speed: test/riscv/reset_state.c never
// writes a CSR, so nothing but reset itself sets the translation flags. If they named
// another MMU index than the one the memory slow path fills, compiled code would miss
// the soft TLB on every access (it did: 25 guest MIPS instead of ~450). The program
// makes ROUNDS * N loads and as many stores in its hot loop; here they must take the
// slow path only rarely, on both backends.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTargets, corpusTargets } from './riscv/build.mjs';
import { runProgram } from './riscv/run-program.js';

const ACCESSES = 2 * 64 * 4096; // reset_state.c: 2 * ROUNDS * N

describe('state at reset', () => {
  const target = corpusTargets().find((t) => t.name === 'reset_state')!;
  beforeAll(async () => {
    await buildTargets([target], { log: null });
  }, 300_000);

  for (const backend of ['wasm', 'js'] as const) {
    it(`compiled code hits the soft TLB without any CSR write (${backend})`, async () => {
      expect(existsSync(target.out)).toBe(true);
      const r = await runProgram(target.out, 'jit', backend);
      expect(r.status).toBe(0);
      expect(r.output).toMatch(/^== reset_state ==\nchecksum=[0-9a-f]{16}\n$/);
      expect(r.blocksCompiled).toBeGreaterThan(0);
      // The first touch of each page and the tier-0 runs take the slow path; compiled
      // iterations must not.
      console.log(backend, r.slowAccesses); expect(r.slowAccesses).toBeLessThan(ACCESSES / 100);
    });
  }
});
