#!/usr/bin/env node
// Builds the bare-metal benchmark workloads into build/riscv-bench/ with the
// corpus toolchain (test/riscv/build.mjs) and its runtime (test/riscv/common).
//
//   node bench/riscv/build.mjs [--rounds N] [name ...]
//
// Every workload is bench/riscv/<name>.c, listed in WORKLOADS below. Each
// prints "<name>: rounds=<N> checksum=<16 hex digits>" and exits 0 through
// the test finisher; ROUNDS (-DROUNDS=N) scales its run time, and the default
// in the source is sized for about 1-3 s on QEMU 7.2 TCG. A source may ask for
// extra compiler flags with a line "// build-flags: -fno-math-errno".
// Everything links with bench/riscv/link.ld: the corpus layout, but with
// writable data on its own pages (see the comment there).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, buildTargets, programTarget } from '../../test/riscv/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const BENCH_OUT_DIR = join(REPO_ROOT, 'build', 'riscv-bench');
export const BENCH_LINK_SCRIPT = join(here, 'link.ld');

/**
 * The corpus target, linked with the benchmark linker script. The script is
 * added to the target's inputs (sources is what the incremental build checks
 * for changes; the compiler's arguments are args).
 */
function benchProgram(name, sources, options) {
  const t = programTarget(name, sources, { ...options, outDir: BENCH_OUT_DIR });
  const i = t.args.indexOf('-T');
  if (i < 0) throw new Error('test/riscv/build.mjs no longer passes -T: update bench/riscv/build.mjs');
  t.args[i + 1] = BENCH_LINK_SCRIPT;
  t.sources = [...t.sources, BENCH_LINK_SCRIPT];
  return t;
}

/** The workloads, in the order the suite runs and prints them. */
export const WORKLOADS = [
  { name: 'intmix', what: 'LCG fill, CRC32, FNV-1a, sorting, binary search, some 64-bit mul/div' },
  {
    name: 'intmix-nocsr',
    what: 'intmix started as the CPU comes out of reset: no CSR is ever written (translation flags from reset)',
    source: 'intmix',
    flags: ['-DCRT_NO_CSR', '-DWORKLOAD_NAME="intmix-nocsr"'],
  },
  { name: 'memops', what: 'memcpy/memset/memmove of 64 B-256 KiB buffers, word and byte loops' },
  { name: 'branchy', what: 'bytecode VM (switch dispatch), tokenizer state machine, data-dependent branches' },
  { name: 'pointer', what: 'random-cycle pointer chasing over 16 MiB, physical (M-mode) and through Sv39 4 KiB pages (S-mode)' },
  { name: 'muldiv64', what: '64-bit mul/mulh/mulhu/mulhsu, div/rem signed and unsigned, 128-bit modmul' },
  { name: 'float', what: 'double/float dot products, 24x24 matmul, n-body with sqrt, conversions' },
];

export const WORKLOAD_NAMES = WORKLOADS.map((w) => w.name);

/** Extra compiler flags a source asks for: "// build-flags: -fno-math-errno". */
function extraFlagsOf(src) {
  const m = /build-flags:\s*(.+)$/m.exec(readFileSync(src, 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
}

/** Build target of one workload; with rounds given, the ELF name carries the count. */
export function workloadTarget(name, { rounds } = {}) {
  if (!WORKLOAD_NAMES.includes(name)) throw new Error(`unknown workload ${name} (have: ${WORKLOAD_NAMES.join(', ')})`);
  const workload = WORKLOADS.find((w) => w.name === name);
  const src = join(here, `${workload.source ?? name}.c`);
  const extra = [...extraFlagsOf(src), ...(workload.flags ?? []), ...(rounds === undefined ? [] : [`-DROUNDS=${rounds}`])];
  const elfName = rounds === undefined ? name : `${name}-r${rounds}`;
  return benchProgram(elfName, [src], { extra });
}

/** The start-up probe: a program that exits at once. */
export function nopTarget() {
  return benchProgram('nop', [join(here, 'nop.c')], {});
}

/**
 * Targets: one per workload ({ [name]: target }) plus nop. rounds is a number
 * for every workload (each counts rounds in its own unit) or { name: N } for
 * some; a workload without one uses its source's default.
 */
export function benchTargets({ rounds, names = WORKLOAD_NAMES } = {}) {
  const t = { nop: nopTarget() };
  for (const n of names) t[n] = workloadTarget(n, { rounds: typeof rounds === 'object' ? rounds?.[n] : rounds });
  return t;
}

/** Builds the benchmark ELFs; returns benchTargets(options) (paths in .out). */
export async function buildBench(options = {}) {
  const t = benchTargets(options);
  await buildTargets(Object.values(t), { log: options.log ?? null });
  return t;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--rounds');
  const rounds = i >= 0 ? Number(args[i + 1]) : undefined;
  const names = args.filter((a, k) => !a.startsWith('--') && !(i >= 0 && k === i + 1));
  try {
    const t = await buildBench({ rounds, names: names.length ? names : WORKLOAD_NAMES, log: (m) => console.log(m) });
    for (const target of Object.values(t)) console.log(target.out);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
