/**
 * RAM sizes in QEMU's syntax (qemu_strtosz and -m's size=): one parser for the command
 * line and the embedding API.
 */
import { UserError } from './options.js';

/** One ArrayBuffer holds guest RAM; keep well inside what V8 allocates. */
export const MAX_RAM_SIZE = 16 * 1024 * 1024 * 1024;
/** QEMU rounds RAM sizes up to this. */
const RAM_ALIGN = 8192;

const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ');

/** QEMU's size syntax (qemu_strtosz): a number with an optional B/K/M/G/T/P/E suffix. */
export function parseRamSize(text: string, spelled = '-m'): number {
  const bad = (why: string): never => {
    throw new UserError(`${spelled} ${oneLine(text)}: ${why}`);
  };
  let sizeText: string | undefined;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? (sizeText === undefined ? 'size' : part) : part.slice(0, eq);
    const value = eq < 0 ? part : part.slice(eq + 1);
    if (key === 'size') {
      if (sizeText !== undefined) bad("'size' given twice");
      sizeText = value;
    } else if (key === 'slots' || key === 'maxmem') {
      bad(`'${key}' (memory hotplug) is not supported`);
    } else {
      bad(`invalid parameter '${key}'`);
    }
  }
  const m = /^(\d+(?:\.\d*)?|\.\d+)([bkmgtpe]?)$/i.exec(sizeText ?? '');
  if (!m) return bad('invalid RAM size (examples: 128M, 1G, 512)');
  const units: Record<string, number> = { b: 1, k: 2 ** 10, '': 2 ** 20, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };
  const bytes = Number(m[1]) * units[m[2]!.toLowerCase()]!;
  if (!(bytes > 0)) bad('RAM size must be greater than zero');
  const aligned = Math.ceil(bytes / RAM_ALIGN) * RAM_ALIGN;
  if (aligned > MAX_RAM_SIZE) bad(`RAM size too large (at most ${MAX_RAM_SIZE / 2 ** 30}G)`);
  return aligned;
}
