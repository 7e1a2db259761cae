#!/usr/bin/env node
// Builds the bare-metal benchmark workloads into build/riscv-bench/ with the
// corpus toolchain (test/riscv/build.mjs) and its runtime (test/riscv/common).
//
//   node bench/riscv/build.mjs [--rounds N]

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, buildTargets, programTarget } from '../../test/riscv/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const BENCH_OUT_DIR = join(REPO_ROOT, 'build', 'riscv-bench');

/**
 * Targets: intmix (the workload; -DROUNDS when rounds is given, in which case
 * the ELF name carries the count) and nop (exits at once: start-up cost).
 */
export function benchTargets({ rounds } = {}) {
  const intmixName = rounds === undefined ? 'intmix' : `intmix-r${rounds}`;
  const extra = rounds === undefined ? [] : [`-DROUNDS=${rounds}`];
  return {
    intmix: programTarget(intmixName, [join(here, 'intmix.c')], { extra, outDir: BENCH_OUT_DIR }),
    nop: programTarget('nop', [join(here, 'nop.c')], { outDir: BENCH_OUT_DIR }),
  };
}

/** Builds the benchmark ELFs; returns { intmix, nop } targets (paths in .out). */
export async function buildBench(options = {}) {
  const t = benchTargets(options);
  await buildTargets([t.intmix, t.nop], { log: options.log ?? null });
  return t;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : undefined;
  try {
    const t = await buildBench({ rounds, log: (m) => console.log(m) });
    console.log(`${t.intmix.out}\n${t.nop.out}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
