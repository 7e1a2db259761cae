// Types for record-qemu.mjs (consumed by test/x86-sse.test.ts).
/** Path of the recorded QEMU results (gzip). */
export const FIXTURE: string;
/** Ops whose every line is taken from QEMU. */
export const QEMU_DEFINED: RegExp;
/** FNV-1a (hex) over the input columns of the oracle's result lines. */
export function inputsHash(lines: readonly string[]): string;
/** Result lines of an oracle run; throws when the final "done" line is missing. */
export function resultLines(text: string): string[];
