// Types for emulators.mjs (consumed by the TypeScript tests).
export interface EmulatorCommand {
  cmd: string;
  args: string[];
}
export interface EmulatorResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the process was killed or failed to start. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  wallMs: number;
  spawnError?: Error;
}
/** What the commands need to know about a program. */
export interface RunnableTarget {
  out: string;
  cpu: string;
  qemu: 'i386' | 'x86_64';
}
export const QEMU_BINARIES: { i386: string; x86_64: string };
export const QEMU_TS_CLI: string;
export const QEMU_ONLY_ARGS: string[];
export function pcArgs(elf: string, cpu: string): string[];
export function qemuCommand(target: RunnableTarget): EmulatorCommand;
export function qemuTsCommand(target: RunnableTarget): EmulatorCommand;
export function qemuVersion(which?: 'i386' | 'x86_64'): string | null;
export function missingQemu(): string[];
export function qemuTsAvailable(): boolean;
export function runEmulator(
  command: EmulatorCommand,
  options?: { timeoutMs?: number; env?: Record<string, string> },
): Promise<EmulatorResult>;
export function commandLine(command: EmulatorCommand): string;
