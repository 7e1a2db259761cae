// V8 hygiene guard (DESIGN.md section 5): a hot guest loop must end up in code TurboFan
// optimized, and stay there. A child node runs the integer benchmark with
// --allow-natives-syntax and --trace-deopt; we assert that compiled functions running
// insertion_sort and quicksort are TurboFan code at the end, that none of the
// generated functions deoptimized in the steady state (after a warm-up), and that no
// function deoptimizes repeatedly there. A change that makes generated code
// polymorphic, allocate, or fall off TurboFan fails here.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBench } from '../bench/riscv/build.mjs';
import { REPO_ROOT } from './riscv/build.mjs';

// V8's OptimizationStatus bits (src/runtime/runtime-test.cc).
const TURBOFANNED = 1 << 6;
const MAYBE_DEOPTED = 1 << 3;

const HARNESS = join(REPO_ROOT, 'build', 'v8-hygiene.mjs');
let elf = '';

describe('V8 hygiene', () => {
  beforeAll(async () => {
    elf = (await buildBench({ names: ['intmix'], rounds: 400 })).intmix.out;
    await build({
      entryPoints: [join(REPO_ROOT, 'test', 'v8', 'hygiene-harness.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: HARNESS,
      logLevel: 'warning',
    });
  }, 300_000);

  it('runs hot guest loops in TurboFan code without deopts in steady state', () => {
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--trace-deopt', HARNESS, elf, '1500', 'insertion_sort', 'quicksort.constprop.0'],
      { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const steady = lines.indexOf('STEADY');
    const done = lines.indexOf('DONE');
    // The workload must outlast the warm-up, or "steady state" means nothing.
    expect(steady).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(steady);
    const steadyBailouts = lines.slice(steady, done).filter((l) => l.includes('[bailout'));
    // Generated code must not deoptimize at all once warm.
    expect(steadyBailouts.filter((l) => /<JSFunction (tb_|region_)/.test(l))).toEqual([]);
    // Runtime code may meet a cold path late (one deopt, then V8 reoptimizes with the new
    // feedback), but code that deoptimizes again and again is a bug: it once did at
    // every return from the engine's dispatch loop.
    const perFunction = new Map<string, number>();
    for (const l of steadyBailouts) {
      const sfi = /sfi = (0x[0-9a-f]+)/.exec(l)?.[1] ?? l;
      perFunction.set(sfi, (perFunction.get(sfi) ?? 0) + 1);
    }
    const repeated = steadyBailouts.filter((l) => (perFunction.get(/sfi = (0x[0-9a-f]+)/.exec(l)?.[1] ?? l) ?? 0) > 2);
    expect(repeated).toEqual([]);

    const report = JSON.parse(lines.find((l) => l.startsWith('{"status"'))!);
    expect(report.status).toBe(0);
    for (const [symbol, fns] of Object.entries(report.functions as Record<string, { name: string; status: number }[]>)) {
      // The region holding the hot loop is TurboFan code (a member region that runs
      // rarely may still be in V8's baseline tier: that is fine).
      expect(fns.filter((f) => f.status & TURBOFANNED).length, `${symbol}: ${JSON.stringify(fns)}`).toBeGreaterThan(0);
      for (const f of fns) expect({ name: f.name, maybeDeopted: (f.status & MAYBE_DEOPTED) !== 0 }).toEqual({ name: f.name, maybeDeopted: false });
    }
  }, 300_000);
});
