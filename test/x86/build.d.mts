// Types for build.mjs (consumed by the TypeScript tests).
export const REPO_ROOT: string;
export const CORPUS_DIR: string;
export const COMMON_DIR: string;
export const OUT_DIR: string;
export const GCC: string;
export const NASM: string;
export const OBJCOPY: string;

export interface BuildStep {
  out: string;
  cmd: string;
  args: string[];
}

export interface X86Target {
  kind: 'program';
  name: string;
  sources: string[];
  bits: 32 | 64;
  /** -cpu model for QEMU and qemu-ts. */
  cpu: string;
  /** Which QEMU binary: qemu-system-i386 or qemu-system-x86_64. */
  qemu: 'i386' | 'x86_64';
  /** Path of the (ELF32) program. */
  out: string;
  common: BuildStep[];
  steps: BuildStep[];
}

export class ToolchainMissingError extends Error {
  missing: string[];
}
export function missingTools(): string[];
export function gccVersion(): string | null;
export function corpusTargets(outDir?: string): X86Target[];
export function programTarget(
  name: string,
  sources: string[],
  options?: { bits?: 32 | 64; cpu?: string; qemu?: 'i386' | 'x86_64'; extra?: string[]; outDir?: string },
): X86Target;
export function buildTargets(
  targets: X86Target[],
  options?: { log?: ((msg: string) => void) | null; jobs?: number },
): Promise<X86Target[]>;
export function buildCorpus(options?: {
  log?: ((msg: string) => void) | null;
  jobs?: number;
}): Promise<{ programs: X86Target[] }>;
