#!/usr/bin/env node
// The x86 benchmark workloads: the RISC-V workloads' C sources (bench/riscv/<source>.c),
// built for i686 and x86-64 as Multiboot programs with the x86 test runtime
// (test/x86/build.mjs) into build/x86-bench/. bench/x86/shim/lib.h maps the workloads'
// print helpers onto that runtime. Each workload prints "<name>: rounds=N checksum=X".
// They are compiled as the test corpus is (gcc -O2, SSE allowed).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, buildTargets, programTarget } from '../../test/x86/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const X86_BENCH_OUT_DIR = join(REPO_ROOT, 'build', 'x86-bench');
const RISCV_SOURCES = resolve(here, '..', 'riscv');

/** name, width, source in bench/riscv, default rounds (about 1-2 s on QEMU 7.2). */
export const X86_WORKLOADS = [
  { name: 'intmix-i686', bits: 32, source: 'intmix', rounds: 300, what: 'intmix built for i686 (-m32): 64-bit arithmetic in register pairs, SHLD/SHRD, DIV' },
  { name: 'intmix-x86_64', bits: 64, source: 'intmix', rounds: 600, what: 'intmix built for x86-64' },
];
export const X86_WORKLOAD_NAMES = X86_WORKLOADS.map((w) => w.name);

const COMMON_FLAGS = [`-I${join(here, 'shim')}`];

/** Build target of one workload; `rounds` overrides its default. */
export function x86WorkloadTarget(name, { rounds } = {}) {
  const w = X86_WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown x86 workload ${name} (have: ${X86_WORKLOAD_NAMES.join(', ')})`);
  const extra = [...COMMON_FLAGS, `-DWORKLOAD_NAME="${name}"`, `-DROUNDS=${rounds ?? w.rounds}`];
  const t = programTarget(rounds === undefined ? name : `${name}-r${rounds}`, [join(RISCV_SOURCES, `${w.source}.c`)], {
    bits: w.bits, extra, outDir: X86_BENCH_OUT_DIR,
  });
  return { ...t, platform: `x86-${w.bits}` };
}

/** The start-up probe for each width: a program that exits at once. */
export function x86NopTarget(bits) {
  const t = programTarget(`nop${bits}`, [join(RISCV_SOURCES, 'nop.c')], { bits, extra: COMMON_FLAGS, outDir: X86_BENCH_OUT_DIR });
  return { ...t, platform: `x86-${bits}` };
}

export async function buildX86Bench({ names = X86_WORKLOAD_NAMES, rounds = {}, log = null } = {}) {
  const t = { 'nop-x86-32': x86NopTarget(32), 'nop-x86-64': x86NopTarget(64) };
  for (const n of names) t[n] = x86WorkloadTarget(n, { rounds: typeof rounds === 'object' ? rounds?.[n] : rounds });
  await buildTargets(Object.values(t), { log });
  return t;
}
