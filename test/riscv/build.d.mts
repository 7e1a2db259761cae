// Types for build.mjs (consumed by the TypeScript tests).
export const REPO_ROOT: string;
export const CORPUS_DIR: string;
export const COMMON_DIR: string;
export const ISA_DIR: string;
export const OUT_DIR: string;
export const CROSS_GCC: string;
export const DEFAULT_MARCH: string;

export interface BuildTarget {
  kind: 'program' | 'isa';
  name: string;
  sources: string[];
  march: string;
  /** Path of the ELF. */
  out: string;
  args: string[];
  /** ISA tests: exit status the test must produce (HTIF). */
  expectedStatus?: number;
  /** ISA tests: status QEMU 7.2 reports instead because of a documented QEMU bug. */
  qemuKnownBugStatus?: number;
}

export class CrossCompilerMissingError extends Error {}
export function crossCompilerVersion(): string | null;
export function corpusTargets(outDir?: string): BuildTarget[];
export function isaTargets(outDir?: string): BuildTarget[];
export function programTarget(
  name: string,
  sources: string[],
  options?: { march?: string; extra?: string[]; outDir?: string },
): BuildTarget;
export function buildTargets(
  targets: BuildTarget[],
  options?: { log?: ((msg: string) => void) | null; jobs?: number },
): Promise<BuildTarget[]>;
export function buildCorpus(options?: {
  log?: ((msg: string) => void) | null;
  jobs?: number;
}): Promise<{ programs: BuildTarget[]; isa: BuildTarget[] }>;
