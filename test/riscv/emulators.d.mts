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
export const QEMU: string;
export const QEMU_TS_CLI: string;
export function virtArgs(elf: string): string[];
export function spikeArgs(elf: string): string[];
export function qemuVirtCommand(elf: string): EmulatorCommand;
export function qemuSpikeCommand(elf: string): EmulatorCommand;
export function qemuTsCommand(elf: string): EmulatorCommand;
export function qemuVersion(): string | null;
export function qemuTsAvailable(): boolean;
export function runEmulator(
  command: EmulatorCommand,
  options?: { timeoutMs?: number; env?: Record<string, string> },
): Promise<EmulatorResult>;
export function commandLine(command: EmulatorCommand): string;
