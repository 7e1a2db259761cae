// Types for build.mjs (consumed by the TypeScript tests).
import type { BuildTarget } from '../../test/riscv/build.mjs';

export const BENCH_OUT_DIR: string;
export const BENCH_LINK_SCRIPT: string;
export const WORKLOAD_NAMES: string[];
export function workloadTarget(name: string, options?: { rounds?: number }): BuildTarget;
export function nopTarget(): BuildTarget;
export function benchTargets(options?: {
  rounds?: number | Record<string, number>;
  names?: string[];
}): Record<string, BuildTarget>;
export function buildBench(options?: {
  rounds?: number | Record<string, number>;
  names?: string[];
  log?: ((message: string) => void) | null;
}): Promise<Record<string, BuildTarget>>;
