/**
 * `qemu-ts-img`: qemu-img's commands with qemu-img's spelling, flags, output and exit
 * codes (QEMU 7.2 is the reference): create, info, convert, check, resize, commit,
 * rebase, map. Images are opened through src/block/node-open.ts (probing, backing
 * chains, loop detection), qcow2 work is done by src/block/qcow2.ts.
 *
 * Options are parsed the way qemu-img's getopt_long does it: short options may be
 * clustered (`-cp`) and take their argument attached or as the next word (`-fqcow2`,
 * `-f qcow2`), long options take `--opt=value` or `--opt value` and may be abbreviated,
 * options and file names may be mixed, `--` ends the options.
 *
 * Differences from qemu-img, on purpose:
 * - every error is one line, `qemu-ts-img: <message>`; where qemu-img adds a second line
 *   ("Try 'qemu-img --help'...", "Could not open backing image."), it goes in parentheses;
 * - progress (-p) is written to stderr, so stdout stays machine-readable;
 * - a backing chain that loops is an error, where qemu-img 7.2 never returns;
 * - raw images: holes are not visible from Node (no SEEK_DATA), so `map` reports zero
 *   blocks by reading them (4 KiB granularity): an allocated block of zeros shows as
 *   zero where qemu-img says data.
 *
 * I/O is blocking (readSync/writeSync through node-open's `io: 'sync'`): a command-line
 * tool has nothing else to do meanwhile, and it moves data 2-3x faster than fs.promises.
 * As in qemu-img, convert writes its target with cache=unsafe (no syncs) unless -t gives
 * another mode; the other commands sync what they change.
 */
import * as fs from 'node:fs';
import { UserError } from '../machine/options.js';
import { BlockError, type BlockBackend } from '../block/backend.js';
import type { RandomAccessFile } from '../block/file.js';
import {
  combineBackingPath,
  openFileSync as openFile,
  openImage as openImageWith,
  parseFormatName,
  probeFormat,
  type ImageFormat,
  type ImageLayer,
  type OpenedImage,
  type OpenImageOptions,
} from '../block/node-open.js';
import { createQcow2, Qcow2Image, readQcow2Info, type CheckResult, type Qcow2Info } from '../block/qcow2.js';

/** Same as qemu-ts's version (a test keeps both equal to package.json); not imported from
 * qemu-ts.ts so this small tool does not bundle the whole machine. */
export const QEMU_TS_VERSION = '0.1.0';

/** qemu-img commands this tool implements, with their synopsis (qemu-img's wording). */
export const COMMANDS: Readonly<Record<string, string>> = {
  check: 'check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-U] filename',
  commit: 'commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename',
  convert:
    'convert [-U] [-c] [-p] [-q] [-n] [--target-is-zero] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] [-o options] [-S sparse_size] [-m num_coroutines] [-W] filename [filename2 [...]] output_filename',
  create: 'create [-q] [-f fmt] [-b backing_file -F backing_fmt] [-u] [-o options] filename [size]',
  info: 'info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename',
  map: 'map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename',
  rebase: 'rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file [-F backing_fmt] filename',
  resize: 'resize [-f fmt] [--preallocation=off] [-q] [--shrink] filename [+ | -]size',
};

/** qemu-img commands that exist there but not here (yet). */
const NOT_IMPLEMENTED = ['amend', 'bench', 'bitmap', 'compare', 'dd', 'measure', 'snapshot'];

export interface ImgIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo = (): ImgIo => ({
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
});

export function imgHelpText(): string {
  const lines = [
    `qemu-ts-img version ${QEMU_TS_VERSION}`,
    'usage: qemu-ts-img [--help | --version] command [command options]',
    'QEMU disk image utility (qemu-img compatible; formats: raw, qcow2)',
    '',
    'Command syntax:',
  ];
  for (const syn of Object.values(COMMANDS)) lines.push(`  ${syn}`);
  lines.push(
    '',
    'Command parameters:',
    "  'filename' is a disk image filename",
    "  'fmt' is the disk image format (raw or qcow2); it is guessed automatically in most cases",
    "  'size' is the disk image size in bytes; optional suffixes 'k' or 'K' (kilobyte, 1024),",
    "    'M' (megabyte, 1024k), 'G' (gigabyte, 1024M), 'T' (terabyte, 1024G), 'P' and 'E'",
    "  'output_filename' is the destination disk image filename",
    "  'output_fmt' is the destination format (default raw)",
    "  'options' is a comma separated list of format specific options in a name=value",
    "    format; use -o help for an overview of the options supported by the format",
    "  '-c' indicates that target image must be compressed (qcow2 format only)",
    "  '-p' show progress of command (on stderr)",
    "  '-q' use Quiet mode - do not print any output (except errors)",
    "  '-u' unsafe: the backing file is not opened, only the image header changes",
    "  '--output' takes the format in which the output must be done (human or json)",
    "  '-r leaks|all' (check) repairs leaked clusters only, or all errors",
    '',
    `Not implemented: ${NOT_IMPLEMENTED.join(', ')}`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// Option parsing (getopt_long, as qemu-img uses it)

interface LongOpt {
  name: string;
  arg: boolean;
  /** Key reported for it (short letter it aliases, or the long name). */
  key: string;
}

interface Parsed {
  opts: { key: string; value: string; spelled: string }[];
  args: string[];
}

const tryHelp = " (try 'qemu-ts-img --help')";

function usageError(text: string): UserError {
  return new UserError(text + tryHelp);
}

/** `shortSpec`: letters, a ':' after a letter = takes an argument (getopt syntax). */
function getopt(argv: readonly string[], shortSpec: string, longs: readonly LongOpt[]): Parsed {
  const shortArg = new Map<string, boolean>();
  for (let i = 0; i < shortSpec.length; i++) {
    const c = shortSpec[i]!;
    if (c === ':') continue;
    shortArg.set(c, shortSpec[i + 1] === ':');
  }
  const out: Parsed = { opts: [], args: [] };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      out.args.push(...argv.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      const exact = longs.find((l) => l.name === name);
      const prefixed = longs.filter((l) => l.name.startsWith(name));
      const spec = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (!spec || name === '') {
        if (prefixed.length > 1) throw usageError(`option '${oneLine(w)}' is ambiguous`);
        throw usageError(`unrecognized option '${oneLine(w)}'`);
      }
      if (spec.arg) {
        let value: string;
        if (eq >= 0) value = w.slice(eq + 1);
        else {
          if (i + 1 >= argv.length) throw usageError(`missing argument for option '${oneLine(w)}'`);
          value = argv[++i]!;
        }
        out.opts.push({ key: spec.key, value, spelled: `--${spec.name}` });
      } else {
        if (eq >= 0) throw usageError(`option '--${spec.name}' doesn't allow an argument`);
        out.opts.push({ key: spec.key, value: '', spelled: `--${spec.name}` });
      }
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const c = w[j]!;
        const takes = shortArg.get(c);
        if (takes === undefined) throw usageError(`unrecognized option '${oneLine(w)}'`);
        if (!takes) {
          out.opts.push({ key: c, value: '', spelled: `-${c}` });
          continue;
        }
        let value: string;
        if (j + 1 < w.length) value = w.slice(j + 1);
        else {
          if (i + 1 >= argv.length) throw usageError(`missing argument for option '-${c}'`);
          value = argv[++i]!;
        }
        out.opts.push({ key: c, value, spelled: `-${c}` });
        break;
      }
      continue;
    }
    out.args.push(w);
  }
  return out;
}

/** Long options every command takes. */
const COMMON_LONGS: readonly LongOpt[] = [
  { name: 'help', arg: false, key: 'h' },
  { name: 'object', arg: true, key: 'object' },
  { name: 'image-opts', arg: false, key: 'image-opts' },
  { name: 'force-share', arg: false, key: 'U' },
];

function rejectUnsupported(p: Parsed): void {
  for (const o of p.opts) {
    if (o.key === 'object' || o.key === 'image-opts' || o.key === 'target-image-opts') {
      throw new UserError(`${o.spelled} is not supported by qemu-ts-img`);
    }
  }
}

type OutputFormat = 'human' | 'json';

function parseOutputFormat(v: string): OutputFormat {
  if (v === 'human' || v === 'json') return v;
  throw new UserError('--output must be used with human or json as argument.');
}

function parseFormatOption(v: string, what = 'file format'): ImageFormat {
  const f = parseFormatName(v);
  if (!f) throw new UserError(`Unknown ${what} '${oneLine(v)}'`);
  return f;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

// ---------------------------------------------------------------------------------------
// Sizes, human-readable numbers, QEMU's JSON

const SIZE_SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
  e: 2 ** 60,
};

/** qemu_strtosz: decimal (a fraction only with a unit suffix) or 0x hex, suffix k/M/G/T/P/E. Null when invalid. */
export function parseSize(text: string): number | null {
  const hex = /^0x([0-9a-f]+)([bkmgtpe]?)$/i.exec(text);
  let value: number;
  if (hex) {
    value = parseInt(hex[1]!, 16) * SIZE_SUFFIX[hex[2]!.toLowerCase()]!;
  } else {
    const m = /^(\d+)(\.\d*)?([bkmgtpe]?)$/i.exec(text);
    if (!m) return null;
    const mul = SIZE_SUFFIX[m[3]!.toLowerCase()]!;
    const frac = m[2] && m[2].length > 1 ? Number(`0${m[2]}`) : 0;
    if (frac !== 0 && mul === 1) return null;
    value = Number(m[1]) * mul + Math.floor(frac * mul);
  }
  if (!Number.isSafeInteger(value)) return null;
  return value;
}

/** C's printf("%0.3g") for a non-negative value that is an exact binary fraction (round half to even). */
function formatG3(num: bigint, den: bigint): string {
  if (num === 0n) return '0';
  // Find the decimal exponent X with 10^X <= num/den < 10^(X+1) after rounding to 3 digits.
  const intDigits = (num / den).toString();
  let x = num >= den ? intDigits.length - 1 : -1;
  if (num < den) {
    let t = num * 10n;
    while (t < den) {
      t *= 10n;
      x--;
    }
  }
  const roundTo = (exp: number): bigint => {
    // round(num/den * 10^(2-exp)) half to even
    const shift = 2 - exp;
    let n = num;
    let d = den;
    if (shift >= 0) n *= 10n ** BigInt(shift);
    else d *= 10n ** BigInt(-shift);
    const q = n / d;
    const r = n - q * d;
    if (2n * r > d || (2n * r === d && q % 2n === 1n)) return q + 1n;
    return q;
  };
  let digits = roundTo(x);
  if (digits >= 1000n) {
    x++;
    digits = roundTo(x);
  }
  const s = digits.toString().padStart(3, '0');
  if (x < -4 || x >= 3) {
    const mant = (s[0] + '.' + s.slice(1)).replace(/\.?0+$/, '');
    return `${mant}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  }
  let text: string;
  if (x >= 0) text = s.slice(0, x + 1) + '.' + s.slice(x + 1);
  else text = '0.' + '0'.repeat(-x - 1) + s;
  if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return text;
}

/** C's printf("%.<digits>f") for a non-negative double: exact value, ties to even (JS toFixed rounds ties up). */
export function cFixed(x: number, digits: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let num = mant * 10n ** BigInt(digits);
  let den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  let q = num / den;
  const r = num - q * den;
  if (2n * r > den || (2n * r === den && (q & 1n) === 1n)) q++;
  if (digits === 0) return q.toString();
  const s = q.toString().padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** QEMU's size_to_str: "1 GiB", "196 KiB", "1.5 MiB", "512 B". */
export function sizeToStr(bytes: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  // frexp(val / (1000/1024)) exponent, minus one, divided by 10 (truncating toward zero).
  const scaled = (bytes * 1024) / 1000;
  let exp = 0;
  if (scaled > 0) exp = Math.floor(Math.log2(scaled)) + 1;
  // Guard the log2 rounding at exact powers of two.
  if (scaled > 0 && 2 ** (exp - 1) > scaled) exp--;
  if (scaled > 0 && 2 ** exp <= scaled) exp++;
  const i = Math.trunc((exp - 1) / 10);
  const div = 2n ** BigInt(i * 10);
  return `${formatG3(BigInt(bytes), div)} ${suffixes[i]}B`;
}

/** QDict iteration order in QEMU: 512 hash buckets (tdb hash), latest insertion first in a bucket. */
function qdictBucket(key: string): number {
  let v = Math.imul(0x238f13af, key.length) >>> 0;
  for (let i = 0; i < key.length; i++) v = (v + ((key.charCodeAt(i) << ((i * 5) % 24)) >>> 0)) >>> 0;
  return ((Math.imul(1103515243, v) + 12345) >>> 0) % 512;
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue | undefined };

function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0xffff)) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (cp > 0xffff) {
      const hi = 0xd800 + ((cp - 0x10000) >> 10);
      const lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      out += `\\u${hi.toString(16).toUpperCase()}\\u${lo.toString(16).toUpperCase()}`;
    } else out += ch;
  }
  return out + '"';
}

/** qobject_to_json_pretty: 4-space indent, object keys in QDict order (insertion order = schema order). */
export function qemuJson(v: JsonValue, level = 0): string {
  const pad = (n: number): string => '    '.repeat(n);
  if (v === null) return 'null';
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[\n' + pad(level) + ']';
    return '[\n' + v.map((x) => pad(level + 1) + qemuJson(x, level + 1)).join(',\n') + '\n' + pad(level) + ']';
  }
  const entries = Object.entries(v).filter((e): e is [string, JsonValue] => e[1] !== undefined);
  const ordered = entries
    .map(([k, val], idx) => ({ k, val, idx, b: qdictBucket(k) }))
    .sort((a, b) => a.b - b.b || b.idx - a.idx);
  if (ordered.length === 0) return '{\n' + pad(level) + '}';
  return (
    '{\n' + ordered.map((e) => `${pad(level + 1)}${jsonString(e.k)}: ${qemuJson(e.val, level + 1)}`).join(',\n') + '\n' + pad(level) + '}'
  );
}

// ---------------------------------------------------------------------------------------
// Progress (-p): qemu-img's "    (12.00/100%)\r" lines, on stderr

class Progress {
  private last = -1;
  constructor(
    private readonly enabled: boolean,
    private readonly io: ImgIo,
  ) {
    this.print(0);
  }
  /** `fraction` of the work is done. */
  update(fraction: number): void {
    const pct = Math.min(100, Math.max(0, fraction * 100));
    if (pct - this.last >= 1) this.print(pct);
  }
  end(): void {
    if (this.last !== 100) this.print(100);
    if (this.enabled) this.io.stderr('\n');
  }
  private print(pct: number): void {
    this.last = pct;
    if (this.enabled) this.io.stderr(`    (${cFixed(pct, 2)}/100%)\r`);
  }
}

// ---------------------------------------------------------------------------------------
// Block status of a chain: qemu-img map's view (get_block_status)

/** What one image says about a range, without looking at its backing file. */
interface OwnExtent {
  start: number;
  length: number;
  allocated: boolean;
  zero: boolean;
  data: boolean;
  compressed: boolean;
  /** Host offset in the image file, when the data is stored plainly. */
  offset: number | null;
}

/** One entry of qemu-img map. */
export interface ChainExtent {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset: number | null;
  /** File holding the data (for offset), as qemu-img map's "File" column. */
  filename: string | null;
}

const ZERO_SCAN_CHUNK = 4 << 20;
const ZERO_BLOCK = 4096;
const zeroPage = Buffer.alloc(Math.max(ZERO_SCAN_CHUNK, 2 << 20));

/** A Buffer over the same memory (no copy), for memcmp-speed zero checks. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function isZero(b: Buffer, start = 0, end = b.length): boolean {
  let pos = start;
  while (pos < end) {
    const n = Math.min(end - pos, zeroPage.length);
    if (b.compare(zeroPage, 0, n, pos, pos + n) !== 0) return false;
    pos += n;
  }
  return true;
}

/**
 * Raw images: the host file's holes are not visible from Node, so zero blocks are found
 * by reading (4 KiB granularity); `scan: false` reports the whole image as data.
 */
async function rawOwnStatus(layer: ImageLayer, scan: boolean): Promise<OwnExtent[]> {
  const len = layer.backend.length;
  if (!scan) return len === 0 ? [] : [{ start: 0, length: len, allocated: true, zero: false, data: true, compressed: false, offset: 0 }];
  const out: OwnExtent[] = [];
  const push = (start: number, length: number, zero: boolean): void => {
    const last = out[out.length - 1];
    if (last && last.zero === zero && last.start + last.length === start) last.length += length;
    else out.push({ start, length, allocated: true, zero, data: !zero, compressed: false, offset: start });
  };
  const buf = new Uint8Array(ZERO_SCAN_CHUNK);
  for (let pos = 0; pos < len; pos += ZERO_SCAN_CHUNK) {
    const n = Math.min(ZERO_SCAN_CHUNK, len - pos);
    const view = buf.subarray(0, n);
    await layer.backend.read(pos, view);
    const bv = asBuffer(view);
    for (let b = 0; b < n; b += ZERO_BLOCK) {
      const e = Math.min(n, b + ZERO_BLOCK);
      push(pos + b, e - b, isZero(bv, b, e));
    }
  }
  return out;
}

/**
 * A qcow2 image's own extents: blockStatus() says which runs the image itself decides
 * (allocated: data, compressed or zero clusters); map() (depth 0) says how.
 */
async function qcow2OwnStatus(img: Qcow2Image): Promise<OwnExtent[]> {
  const len = img.length;
  const runs: [number, number][] = [];
  for (let pos = 0; pos < len; ) {
    const st = await img.blockStatus(pos, len - pos);
    if (!(st.length > 0)) throw new Error(`qcow2 block status made no progress at offset ${pos}`);
    if (st.allocated) {
      const last = runs[runs.length - 1];
      if (last && last[1] === pos) last[1] = pos + st.length;
      else runs.push([pos, pos + st.length]);
    }
    pos += st.length;
  }
  if (runs.length === 0) return [];
  const details = (await img.map()).filter((e) => e.depth === 0).sort((a, b) => a.start - b.start);
  const out: OwnExtent[] = [];
  let j = 0;
  for (const [rs, re] of runs) {
    while (j < details.length && details[j]!.start + details[j]!.length <= rs) j++;
    for (let k = j; k < details.length && details[k]!.start < re; k++) {
      const e = details[k]!;
      const a = Math.max(rs, e.start);
      const b = Math.min(re, e.start + e.length);
      if (b <= a) continue;
      const offset = e.offset === null || e.compressed ? null : e.offset + (a - e.start);
      out.push({ start: a, length: b - a, allocated: true, zero: e.zero, data: e.data, compressed: e.compressed, offset });
    }
  }
  return out;
}

/** Own extents of a layer covering [0, length): allocated ones from the image, holes filled in. */
async function ownStatus(layer: ImageLayer, scanRaw: boolean): Promise<OwnExtent[]> {
  const len = layer.backend.length;
  const allocated = layer.qcow2 ? await qcow2OwnStatus(layer.qcow2) : await rawOwnStatus(layer, scanRaw);
  allocated.sort((a, b) => a.start - b.start);
  const out: OwnExtent[] = [];
  let pos = 0;
  for (const e of allocated) {
    const start = Math.max(e.start, pos);
    const end = Math.min(e.start + e.length, len);
    if (end <= start) continue;
    if (start > pos) out.push({ start: pos, length: start - pos, allocated: false, zero: false, data: false, compressed: false, offset: null });
    const delta = start - e.start;
    out.push({ ...e, start, length: end - start, offset: e.offset !== null && !e.compressed ? e.offset + delta : e.offset });
    pos = end;
  }
  if (pos < len) out.push({ start: pos, length: len - pos, allocated: false, zero: false, data: false, compressed: false, offset: null });
  return out;
}

/**
 * The chain's status over [start, end), as qemu-img map computes it: the topmost image
 * that has the range allocated decides; a range no image has is zero (at the depth of the
 * bottom image, or of the image whose backing file ends before it).
 */
export async function chainStatus(
  layers: readonly ImageLayer[],
  start: number,
  end: number,
  opts: { scanRaw: boolean; maxDepth?: number },
): Promise<ChainExtent[]> {
  const cache = new Map<number, OwnExtent[]>();
  const own = async (d: number): Promise<OwnExtent[]> => {
    let v = cache.get(d);
    if (!v) {
      v = await ownStatus(layers[d]!, opts.scanRaw);
      cache.set(d, v);
    }
    return v;
  };
  const maxDepth = Math.min(opts.maxDepth ?? layers.length - 1, layers.length - 1);
  const out: ChainExtent[] = [];
  const resolve = async (d: number, s: number, e: number): Promise<void> => {
    const layer = layers[d]!;
    for (const x of await own(d)) {
      const a = Math.max(s, x.start);
      const b = Math.min(e, x.start + x.length);
      if (b <= a) continue;
      if (x.allocated) {
        const offset = x.offset === null || x.compressed ? null : x.offset + (a - x.start);
        out.push({ start: a, length: b - a, depth: d, present: true, zero: x.zero, data: x.data, offset, filename: offset === null ? null : layer.path });
        continue;
      }
      if (d >= maxDepth) {
        out.push({ start: a, length: b - a, depth: d, present: false, zero: true, data: false, offset: null, filename: null });
        continue;
      }
      const backingLen = layers[d + 1]!.backend.length;
      if (a < backingLen) await resolve(d + 1, a, Math.min(b, backingLen));
      if (b > backingLen) {
        const z = Math.max(a, backingLen);
        out.push({ start: z, length: b - z, depth: d, present: false, zero: true, data: false, offset: null, filename: null });
      }
    }
  };
  await resolve(0, start, end);
  out.sort((a, b) => a.start - b.start);
  return out;
}

function mergeable(cur: ChainExtent, next: ChainExtent): boolean {
  if (cur.length === 0) return false;
  if (cur.zero !== next.zero || cur.data !== next.data || cur.depth !== next.depth || cur.present !== next.present) return false;
  if (!cur.filename !== !next.filename || (cur.offset === null) !== (next.offset === null)) return false;
  if (cur.filename && cur.filename !== next.filename) return false;
  if (cur.offset !== null && cur.offset + cur.length !== next.offset) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// Opening images for a command

/** A command-line tool has nothing else to serve during I/O: blocking I/O is faster (see node-open.ts). */
function openImage(path: string, opts: Omit<OpenImageOptions, 'io'>): Promise<OpenedImage> {
  return openImageWith(path, { ...opts, io: 'sync' });
}

interface OpenSpec {
  format?: ImageFormat;
  readOnly: boolean;
  backing?: boolean;
  /** Default 'sync'; convert reads its sources asynchronously so reads overlap its writes. */
  io?: 'sync' | 'async';
}

/** Open with qemu-img's message on failure: Could not open 'x': <reason>. */
async function open(path: string, spec: OpenSpec, io: ImgIo, warnProbedRaw = false): Promise<OpenedImage> {
  let img: OpenedImage;
  try {
    img = await openImageWith(path, { ...spec, io: spec.io ?? 'sync' });
  } catch (e) {
    throw new UserError(`Could not open '${path}': ${errorText(e)}`);
  }
  if (warnProbedRaw && img.probed && img.format === 'raw' && !spec.readOnly) io.stderr(probedRawWarning(path));
  return img;
}

function probedRawWarning(file: string): string {
  return (
    `qemu-ts-img: warning: Image format was not specified for '${oneLine(file)}' and probing guessed raw.\n` +
    `         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.\n` +
    `         Specify the 'raw' format explicitly to remove the restrictions.\n`
  );
}

function errorText(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}

async function withImage<T>(img: OpenedImage, fn: (img: OpenedImage) => Promise<T>): Promise<T> {
  try {
    return await fn(img);
  } finally {
    await img.close();
  }
}

/** st_blocks * 512, what qemu-img reports as disk size. */
function allocatedFileSize(path: string): number | null {
  try {
    const st = fs.statSync(path);
    return st.blocks * 512;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// create

interface CreateOptions {
  size?: number;
  clusterSize?: number;
  compat?: { version: '0.10' | '1.1'; spelled: string };
  backingFile?: string;
  backingFmt?: string;
  lazyRefcounts?: { on: boolean; spelled: string };
  preallocation?: string;
  refcountBits?: string;
  extendedL2?: string;
  compressionType?: string;
}

/** QemuOpts syntax: key=value,key=value; ",," is a literal comma; a bare key means key=on. */
function splitOptions(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    while (i < text.length) {
      if (text[i] === ',') {
        if (text[i + 1] === ',') {
          part += ',';
          i += 2;
          continue;
        }
        break;
      }
      part += text[i++];
    }
    i++;
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [part, 'on'] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

function parseBool(name: string, v: string): boolean {
  if (['on', 'yes', 'true', 'y'].includes(v)) return true;
  if (['off', 'no', 'false', 'n'].includes(v)) return false;
  throw new UserError(`Parameter '${name}' expects 'on' or 'off'`);
}

const QCOW2_OPTION_HELP = [
  'Supported qcow2 options:',
  '  backing_file=<str>     - File name of a base image',
  '  backing_fmt=<str>      - Image format of the base image',
  '  cluster_size=<size>    - qcow2 cluster size',
  '  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])',
  '  compression_type=<str> - Compression method used for image cluster compression (zlib)',
  '  extended_l2=<bool (on/off)> - Extended L2 tables (off)',
  '  lazy_refcounts=<bool (on/off)> - Postpone refcount updates',
  '  preallocation=<str>    - Preallocation mode (off)',
  '  refcount_bits=<num>    - Width of a reference count entry in bits (16)',
  '  size=<size>            - Virtual disk size',
  '',
];
const RAW_OPTION_HELP = ['Supported raw options:', '  preallocation=<str>    - Preallocation mode (off)', '  size=<size>            - Virtual disk size', ''];

function parseCreateOptions(fmt: ImageFormat, texts: readonly string[]): CreateOptions {
  const o: CreateOptions = {};
  for (const text of texts) {
    for (const [k, v] of splitOptions(text)) {
      const known = fmt === 'qcow2' ? QCOW2_KEYS : RAW_KEYS;
      if (!known.includes(k)) throw new UserError(`Invalid parameter '${oneLine(k)}'`);
      switch (k) {
        case 'size': {
          const n = parseSize(v);
          if (n === null) throw new UserError(`Parameter 'size' expects a non-negative number below 2^64`);
          o.size = n;
          break;
        }
        case 'cluster_size': {
          const n = parseSize(v);
          if (n === null) throw new UserError(`Parameter 'cluster_size' expects a non-negative number below 2^64`);
          o.clusterSize = n;
          break;
        }
        case 'compat':
          if (v === '0.10' || v === 'v2') o.compat = { version: '0.10', spelled: v };
          else if (v === '1.1' || v === 'v3') o.compat = { version: '1.1', spelled: v };
          else throw new UserError(`Parameter 'version' does not accept value '${oneLine(v)}'`);
          break;
        case 'backing_file':
          o.backingFile = v;
          break;
        case 'backing_fmt':
          o.backingFmt = v;
          break;
        case 'lazy_refcounts':
          o.lazyRefcounts = { on: parseBool(k, v), spelled: v };
          break;
        case 'preallocation':
          if (v !== 'off') throw new UserError(`Preallocation mode '${oneLine(v)}' is not supported by qemu-ts-img (only 'off')`);
          o.preallocation = v;
          break;
        case 'refcount_bits':
          if (v !== '16') throw new UserError(`Refcount width ${oneLine(v)} is not supported by qemu-ts-img (only 16)`);
          o.refcountBits = v;
          break;
        case 'extended_l2':
          if (parseBool(k, v)) throw new UserError('Extended L2 tables are not supported by qemu-ts-img');
          o.extendedL2 = v;
          break;
        case 'compression_type':
          if (v !== 'zlib') throw new UserError(`Compression type '${oneLine(v)}' is not supported by qemu-ts-img (only zlib)`);
          o.compressionType = v;
          break;
      }
    }
  }
  return o;
}

const QCOW2_KEYS = ['size', 'cluster_size', 'compat', 'backing_file', 'backing_fmt', 'lazy_refcounts', 'preallocation', 'refcount_bits', 'extended_l2', 'compression_type'];
const RAW_KEYS = ['size', 'preallocation'];

/** QemuOpts string values are printed with commas doubled. */
function optString(v: string): string {
  return v.replace(/,/g, ',,');
}

function validateQcow2Create(o: CreateOptions): void {
  const cs = o.clusterSize ?? 65536;
  if (cs < 512 || cs > 2 * 1024 * 1024 || (cs & (cs - 1)) !== 0) {
    throw new UserError('Cluster size must be a power of two between 512 and 2048k');
  }
  if (o.lazyRefcounts?.on && o.compat?.version === '0.10') {
    throw new UserError('Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
}

function formattingLine(filename: string, fmt: ImageFormat, size: number, o: CreateOptions): string {
  const parts = [`fmt=${fmt}`];
  if (fmt === 'qcow2') {
    parts.push(`cluster_size=${o.clusterSize ?? 65536}`, `extended_l2=${o.extendedL2 ?? 'off'}`);
    if (o.preallocation !== undefined) parts.push(`preallocation=${o.preallocation}`);
    parts.push(`compression_type=${o.compressionType ?? 'zlib'}`, `size=${size}`);
    if (o.compat) parts.push(`compat=${optString(o.compat.spelled)}`);
    if (o.backingFile !== undefined) parts.push(`backing_file=${optString(o.backingFile)}`);
    if (o.backingFmt !== undefined) parts.push(`backing_fmt=${optString(o.backingFmt)}`);
    parts.push(`lazy_refcounts=${o.lazyRefcounts?.spelled ?? 'off'}`, `refcount_bits=${o.refcountBits ?? '16'}`);
  } else {
    parts.push(`size=${size}`);
    if (o.preallocation !== undefined) parts.push(`preallocation=${o.preallocation}`);
  }
  return `Formatting '${filename}', ${parts.join(' ')}\n`;
}

const MAX_IMAGE_SIZE = Number.MAX_SAFE_INTEGER - 2 * 1024 * 1024;

async function cmdCreate(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':F:b:f:ho:qu', COMMON_LONGS);
  rejectUnsupported(p);
  let fmt: ImageFormat = 'raw';
  let backing: string | undefined;
  let backingFmt: string | undefined;
  const optTexts: string[] = [];
  let quiet = false;
  let unsafe = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'b') backing = o.value;
    else if (o.key === 'F') backingFmt = o.value;
    else if (o.key === 'o') optTexts.push(o.value);
    else if (o.key === 'q') quiet = true;
    else if (o.key === 'u') unsafe = true;
  }
  if (optTexts.some((t) => t === 'help' || t === '?')) {
    io.stdout((fmt === 'qcow2' ? QCOW2_OPTION_HELP : RAW_OPTION_HELP).join('\n'));
    return 0;
  }
  if (p.args.length < 1) throw usageError('Expecting image file name');
  if (p.args.length > 2) throw usageError(`Unexpected argument: ${oneLine(p.args[2]!)}`);
  const filename = p.args[0]!;
  const fail = (why: string): never => {
    throw new UserError(`${filename}: ${why}`);
  };
  let sizeArg: number | undefined;
  if (p.args[1] !== undefined) {
    const n = parseSize(p.args[1]);
    if (n === null) {
      throw new UserError(
        'Invalid image size specified. You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.',
      );
    }
    if (n > MAX_IMAGE_SIZE) throw new UserError('Image size must be less than 8 EiB!');
    sizeArg = n;
  }
  let o: CreateOptions;
  try {
    o = parseCreateOptions(fmt, optTexts);
  } catch (e) {
    return fail(errorText(e));
  }
  if (backing !== undefined) o.backingFile = backing;
  if (backingFmt !== undefined) o.backingFmt = backingFmt;
  if (fmt === 'raw' && (o.backingFile !== undefined || o.backingFmt !== undefined)) {
    fail(`Backing file not supported for file format 'raw'`);
  }
  if (sizeArg !== undefined && o.size !== undefined) fail('The image size must be specified only once');
  let size = sizeArg ?? o.size;
  if (o.backingFile === '') o.backingFile = undefined;
  if (fmt === 'qcow2') {
    try {
      validateQcow2Create(o);
    } catch (e) {
      fail(errorText(e));
    }
  }
  let backingFormat: ImageFormat | undefined;
  if (o.backingFmt !== undefined) {
    const f = parseFormatName(o.backingFmt);
    if (!f) fail(`Unknown backing format '${oneLine(o.backingFmt)}' (qemu-ts-img knows raw and qcow2)`);
    backingFormat = f ?? undefined;
  }
  if (o.backingFile !== undefined && !unsafe) {
    // Open the backing chain: it must exist, and it gives the default size.
    const full = combineBackingPath(filename, o.backingFile);
    let chain: OpenedImage;
    try {
      chain = await openImage(full, { format: backingFormat, readOnly: true });
    } catch (e) {
      return fail(`${errorText(e)} (could not open backing image)`);
    }
    const detected = chain.format;
    const backingSize = chain.backend.length;
    await chain.close();
    if (o.backingFmt === undefined) fail(`Backing file specified without backing format (detected format of ${detected})`);
    size ??= backingSize;
  } else if (o.backingFile !== undefined && o.backingFmt === undefined) {
    fail('Backing file specified without backing format');
  }
  if (size === undefined) fail('Image creation needs a size parameter');
  if (size! > MAX_IMAGE_SIZE) throw new UserError('Image size must be less than 8 EiB!');
  if (!quiet) io.stdout(formattingLine(filename, fmt, size!, o));
  // Both formats round the virtual size up to whole 512-byte sectors.
  const rounded = Math.ceil(size! / 512) * 512;
  let file: RandomAccessFile;
  try {
    file = await openFile(filename, { readOnly: false, create: true });
  } catch (e) {
    return fail(errorText(e));
  }
  try {
    if (fmt === 'raw') {
      await file.truncate(rounded);
      await allocateFirstBlock(file, rounded);
    } else {
      await createQcow2(file, {
        size: rounded,
        clusterSize: o.clusterSize,
        compat: o.compat?.version,
        backingFile: o.backingFile,
        backingFormat: o.backingFmt,
        lazyRefcounts: o.lazyRefcounts?.on,
      });
    }
    await file.sync();
  } catch (e) {
    fail(errorText(e));
  } finally {
    await file.close();
  }
  return 0;
}

/**
 * QEMU's file driver writes the first 4 KiB of a new raw image (so that later probes of
 * the alignment work); done too, so our images map and measure as qemu-img's do.
 */
async function allocateFirstBlock(file: RandomAccessFile, size: number): Promise<void> {
  const n = Math.min(4096, size);
  if (n > 0) await file.write(0, new Uint8Array(n));
}

function help(io: ImgIo): number {
  io.stdout(imgHelpText());
  return 0;
}

// ---------------------------------------------------------------------------------------
// info

function qcow2Specific(info: Qcow2Info): Record<string, JsonValue> {
  if (info.version === 2) return { compat: '0.10', 'compression-type': info.compressionType, 'refcount-bits': info.refcountBits };
  return {
    compat: '1.1',
    'compression-type': info.compressionType,
    'lazy-refcounts': info.lazyRefcounts,
    'refcount-bits': info.refcountBits,
    corrupt: info.corrupt,
    'extended-l2': false,
  };
}

/** ImageInfo as QAPI builds it; undefined members are absent (schema order). */
function imageInfo(layer: ImageLayer): Record<string, JsonValue | undefined> {
  const info = layer.info;
  const virtualSize = info ? Math.floor(info.size / 512) * 512 : Math.ceil(layer.fileSize / 512) * 512;
  const actual = allocatedFileSize(layer.path);
  const r: Record<string, JsonValue | undefined> = {
    filename: layer.path,
    format: layer.format,
    'dirty-flag': info ? info.dirty : false,
    'actual-size': actual ?? undefined,
    'virtual-size': virtualSize,
    'cluster-size': info ? info.clusterSize : undefined,
  };
  if (info?.backingFile) {
    r['backing-filename'] = info.backingFile;
    r['full-backing-filename'] = combineBackingPath(layer.path, info.backingFile);
    if (info.backingFormat) r['backing-filename-format'] = info.backingFormat;
  }
  if (info) r['format-specific'] = { type: 'qcow2', data: qcow2Specific(info) };
  return r;
}

function humanInfo(r: Record<string, JsonValue | undefined>): string {
  const lines: string[] = [];
  const vs = r['virtual-size'] as number;
  const actual = r['actual-size'] as number | undefined;
  lines.push(
    `image: ${r.filename as string}`,
    `file format: ${r.format as string}`,
    `virtual size: ${sizeToStr(vs)} (${vs} bytes)`,
    `disk size: ${actual === undefined ? 'unavailable' : sizeToStr(actual)}`,
  );
  if (r['cluster-size'] !== undefined) lines.push(`cluster_size: ${r['cluster-size'] as number}`);
  if (r['dirty-flag'] === true) lines.push('cleanly shut down: no');
  if (r['backing-filename'] !== undefined) {
    const b = r['backing-filename'] as string;
    const full = r['full-backing-filename'] as string;
    lines.push(`backing file: ${b}${full !== b ? ` (actual path: ${full})` : ''}`);
    if (r['backing-filename-format'] !== undefined) lines.push(`backing file format: ${r['backing-filename-format'] as string}`);
  }
  const spec = r['format-specific'] as { data: Record<string, JsonValue> } | undefined;
  if (spec) {
    lines.push('Format specific information:');
    for (const [k, v] of Object.entries(spec.data)) lines.push(`    ${k.replace(/-/g, ' ')}: ${String(v)}`);
  }
  return lines.join('\n') + '\n';
}

async function cmdInfo(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':f:hU', [
    ...COMMON_LONGS,
    { name: 'output', arg: true, key: 'output' },
    { name: 'backing-chain', arg: false, key: 'backing-chain' },
  ]);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let output: OutputFormat = 'human';
  let chain = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'output') output = parseOutputFormat(o.value);
    else if (o.key === 'backing-chain') chain = true;
  }
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  const filename = p.args[0]!;
  const img = await open(filename, { format: fmt, readOnly: true, backing: chain }, io);
  return withImage(img, async () => {
    const infos = (chain ? img.layers : img.layers.slice(0, 1)).map(imageInfo);
    if (output === 'json') {
      io.stdout(qemuJson(chain ? (infos as JsonValue[]) : (infos[0] as JsonValue)) + '\n');
    } else {
      io.stdout(infos.map(humanInfo).join('\n'));
    }
    return 0;
  });
}

// ---------------------------------------------------------------------------------------
// map

async function cmdMap(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':f:s:l:hU', [
    ...COMMON_LONGS,
    { name: 'output', arg: true, key: 'output' },
    { name: 'start-offset', arg: true, key: 's' },
    { name: 'max-length', arg: true, key: 'l' },
  ]);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let output: OutputFormat = 'human';
  let startOffset = 0;
  let maxLength = Infinity;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'output') output = parseOutputFormat(o.value);
    else if (o.key === 's') {
      const n = parseSize(o.value);
      if (n === null) throw new UserError('Invalid start offset specified! You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.');
      startOffset = n;
    } else if (o.key === 'l') {
      const n = parseSize(o.value);
      if (n === null) throw new UserError('Invalid length specified! You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.');
      maxLength = n;
    }
  }
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  const filename = p.args[0]!;
  const img = await open(filename, { format: fmt, readOnly: true }, io);
  return withImage(img, async () => {
    const length = Math.min(img.backend.length, startOffset + maxLength);
    const entries = startOffset < length ? await chainStatus(img.layers, startOffset, length, { scanRaw: true }) : [];
    const lines: string[] = [];
    if (output === 'human') lines.push('Offset          Length          Mapped to       File\n');
    else lines.push('[');
    const hex = (n: number): string => (n === 0 ? '0' : '0x' + n.toString(16)).padEnd(16);
    const dump = (e: ChainExtent, next: ChainExtent | null): void => {
      if (output === 'json') {
        let s =
          `{ "start": ${e.start}, "length": ${e.length}, "depth": ${e.depth}, "present": ${e.present}, ` +
          `"zero": ${e.zero}, "data": ${e.data}`;
        if (e.offset !== null) s += `, "offset": ${e.offset}`;
        s += '}';
        lines.push(next ? s + ',\n' : s);
        return;
      }
      if (e.data && e.offset === null) throw new UserError('File contains external, encrypted or compressed clusters.');
      if (e.data && !e.zero) lines.push(`${hex(e.start)}${hex(e.length)}${hex(e.offset ?? 0)}${e.filename ?? ''}\n`);
      // The human format does not tell 0, ZERO and ZERO|DATA apart: coalesce them.
      if (next && (!next.data || next.zero)) {
        next.data = false;
        next.zero = true;
      }
    };
    let cur: ChainExtent | null = null;
    for (const next of entries) {
      if (cur && mergeable(cur, next)) {
        cur.length += next.length;
        continue;
      }
      if (cur && cur.length > 0) dump(cur, next);
      cur = { ...next };
    }
    if (cur) dump(cur, null);
    if (output === 'json') lines.push(']\n');
    io.stdout(lines.join(''));
    return 0;
  });
}

// ---------------------------------------------------------------------------------------
// check

function humanCheck(c: CheckResult): string {
  let s = '';
  if (!(c.corruptions || c.leaks || c.checkErrors)) s += 'No errors were found on the image.\n';
  else {
    if (c.corruptions) {
      s += `\n${c.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    }
    if (c.leaks) s += `\n${c.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    if (c.checkErrors) s += `\n${c.checkErrors} internal errors have occurred during the check.\n`;
  }
  if (c.totalClusters !== 0 && c.allocatedClusters !== 0) {
    const pct = (a: number, b: number): string => cFixed((a * 100) / b, 2);
    s +=
      `${c.allocatedClusters}/${c.totalClusters} = ${pct(c.allocatedClusters, c.totalClusters)}% allocated, ` +
      `${pct(c.fragmentedClusters, c.allocatedClusters)}% fragmented, ${pct(c.compressedClusters, c.allocatedClusters)}% compressed clusters\n`;
  }
  if (c.imageEndOffset) s += `Image end offset: ${c.imageEndOffset}\n`;
  return s;
}

function jsonCheck(c: CheckResult, filename: string): string {
  const nz = (n: number): number | undefined => (n !== 0 ? n : undefined);
  return (
    qemuJson({
      filename,
      format: 'qcow2',
      'check-errors': c.checkErrors,
      'image-end-offset': nz(c.imageEndOffset),
      corruptions: nz(c.corruptions),
      leaks: nz(c.leaks),
      'corruptions-fixed': nz(c.corruptionsFixed),
      'leaks-fixed': nz(c.leaksFixed),
      'total-clusters': nz(c.totalClusters),
      'allocated-clusters': nz(c.allocatedClusters),
      'fragmented-clusters': nz(c.fragmentedClusters),
      'compressed-clusters': nz(c.compressedClusters),
    }) + '\n'
  );
}

async function cmdCheck(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':hf:r:T:qU', [
    ...COMMON_LONGS,
    { name: 'output', arg: true, key: 'output' },
    { name: 'repair', arg: true, key: 'r' },
  ]);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let output: OutputFormat = 'human';
  let repair: 'none' | 'leaks' | 'all' = 'none';
  let quiet = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'output') output = parseOutputFormat(o.value);
    else if (o.key === 'q') quiet = true;
    else if (o.key === 'r') {
      if (o.value !== 'leaks' && o.value !== 'all') {
        throw usageError(`Unknown option value for -r (expecting 'leaks' or 'all'): ${oneLine(o.value)}`);
      }
      repair = o.value;
    }
  }
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  const filename = p.args[0]!;
  const readOnly = repair === 'none';
  let file: RandomAccessFile;
  try {
    file = await openFile(filename, { readOnly });
  } catch (e) {
    throw new UserError(`Could not open '${filename}': ${errorText(e)}`);
  }
  try {
    const head = new Uint8Array(2048);
    const n = await file.read(0, head);
    const probed = probeFormat(head.subarray(0, n));
    const format = fmt ?? probed;
    if (format === 'qcow2' && probed !== 'qcow2') throw new UserError(`Could not open '${filename}': Image is not in qcow2 format`);
    if (format === 'raw') {
      io.stderr('qemu-ts-img: This image format does not support checks\n');
      return 63;
    }
    const out = (t: string): void => {
      if (!quiet) io.stdout(t);
    };
    const runCheck = async (mode: 'none' | 'leaks' | 'all'): Promise<CheckResult> => {
      let r: CheckResult;
      try {
        r = await Qcow2Image.check(file, mode);
      } catch (e) {
        throw new UserError(`Check failed: ${errorText(e)}`);
      }
      for (const m of r.messages) io.stderr(m.endsWith('\n') ? m : m + '\n');
      return r;
    };
    let result = await runCheck(repair);
    if (result.corruptionsFixed || result.leaksFixed) {
      if (output === 'human') {
        out(
          'The following inconsistencies were found and repaired:\n\n' +
            `    ${result.leaksFixed} leaked clusters\n    ${result.corruptionsFixed} corruptions\n\n` +
            'Double checking the fixed image now...\n',
        );
      }
      const again = await runCheck('none');
      result = { ...again, leaksFixed: result.leaksFixed, corruptionsFixed: result.corruptionsFixed };
    }
    out(output === 'json' ? jsonCheck(result, filename) : humanCheck(result));
    if (result.checkErrors) {
      io.stderr('qemu-ts-img: Check failed\n');
      return 1;
    }
    if (result.corruptions) return 2;
    if (result.leaks) return 3;
    return 0;
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------
// resize

async function cmdResize(argv: readonly string[], io: ImgIo): Promise<number> {
  // The size is taken off the end first, so "-1G" is not read as an option (as qemu-img does).
  if (argv.length < 2) throw usageError('Not enough arguments');
  const sizeText = argv[argv.length - 1]!;
  const p = getopt(argv.slice(0, -1), ':f:hq', [
    ...COMMON_LONGS,
    { name: 'preallocation', arg: true, key: 'preallocation' },
    { name: 'shrink', arg: false, key: 'shrink' },
  ]);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let quiet = false;
  let shrink = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'q') quiet = true;
    else if (o.key === 'shrink') shrink = true;
    else if (o.key === 'preallocation' && o.value !== 'off') {
      throw new UserError(`Preallocation mode '${oneLine(o.value)}' is not supported by qemu-ts-img (only 'off')`);
    }
  }
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  const filename = p.args[0]!;
  let relative = 0;
  let text = sizeText;
  if (text.startsWith('+')) {
    relative = 1;
    text = text.slice(1);
  } else if (text.startsWith('-')) {
    relative = -1;
    text = text.slice(1);
  }
  const n = parseSize(text);
  if (n === null) {
    throw new UserError(
      "Parameter 'size' expects a non-negative number below 2^64 (optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively)",
    );
  }
  const img = await open(filename, { format: fmt, readOnly: false, backing: false }, io, true);
  return withImage(img, async () => {
    const layer = img.layers[0]!;
    const current = layer.qcow2 ? layer.backend.length : Math.ceil(layer.fileSize / 512) * 512;
    const total = relative === 0 ? n : current + relative * n;
    if (total <= 0) throw new UserError('New image size must be positive');
    if (total > MAX_IMAGE_SIZE) throw new UserError('Image size must be less than 8 EiB!');
    if (total < current && !shrink) {
      throw new UserError(
        "Use the --shrink option to perform a shrink operation. (Shrinking an image will delete all data beyond the shrunken image's end; make sure there is no important data there.)",
      );
    }
    if (layer.qcow2) {
      if (total % 512 !== 0) throw new UserError('The new size must be a multiple of 512');
      await layer.qcow2.resize(total);
      await layer.qcow2.flush();
    } else {
      await img.close();
      const f = await openFile(filename, { readOnly: false });
      try {
        await f.truncate(total);
        await f.sync();
      } finally {
        await f.close();
      }
    }
    if (!quiet) io.stdout('Image resized.\n');
    return 0;
  });
}

// ---------------------------------------------------------------------------------------
// convert

/** A byte range of the concatenated sources with its status. */
interface Region {
  start: number;
  length: number;
  data: boolean;
}

const COPY_CHUNK = 2 << 20;
const READ_AHEAD = 4;

interface Target {
  /** qcow2: the cluster size (allocation unit); raw: 0. */
  clusterSize: number;
  write(offset: number, data: Uint8Array): Promise<void>;
  writeZeroes(offset: number, length: number): Promise<void>;
  writeCompressed?(offset: number, data: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

async function cmdConvert(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':hf:O:B:Cco:l:S:pt:T:qnm:WUr:F:', [
    ...COMMON_LONGS,
    { name: 'target-image-opts', arg: false, key: 'target-image-opts' },
    { name: 'salvage', arg: false, key: 'salvage' },
    { name: 'target-is-zero', arg: false, key: 'target-is-zero' },
    { name: 'bitmaps', arg: false, key: 'bitmaps' },
  ]);
  rejectUnsupported(p);
  let srcFmt: ImageFormat | undefined;
  let outFmt: ImageFormat = 'raw';
  let compress = false;
  let progress = false;
  let quiet = false;
  let noCreate = false;
  let targetIsZero = false;
  let sparse = 4096;
  // qemu-img convert writes the target with cache=unsafe unless -t says otherwise: no syncs.
  let cacheUnsafe = true;
  const optTexts: string[] = [];
  for (const o of p.opts) {
    switch (o.key) {
      case 'h':
        return help(io);
      case 'f':
        srcFmt = parseFormatOption(o.value);
        break;
      case 'O':
        outFmt = parseFormatOption(o.value);
        break;
      case 'c':
        compress = true;
        break;
      case 'p':
        progress = true;
        break;
      case 'q':
        quiet = true;
        break;
      case 'n':
        noCreate = true;
        break;
      case 'o':
        optTexts.push(o.value);
        break;
      case 'S': {
        const n = parseSize(o.value);
        if (n === null || n % 512 !== 0 || n > 2 ** 31) {
          throw new UserError('Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to 2147483648.');
        }
        sparse = n;
        break;
      }
      case 't':
      case 'T':
        if (!['none', 'writeback', 'writethrough', 'directsync', 'unsafe'].includes(o.value)) {
          throw new UserError(`Invalid cache option: ${oneLine(o.value)}`);
        }
        if (o.key === 't') cacheUnsafe = o.value === 'unsafe';
        break;
      case 'm': {
        const n = Number(o.value);
        if (!Number.isInteger(n) || n < 1 || n > 16) throw new UserError('Invalid number of coroutines. Allowed number of coroutines is between 1 and 16');
        break;
      }
      case 'W':
      case 'U':
        break;
      case 'target-is-zero':
        targetIsZero = true;
        break;
      case 'B':
      case 'F':
      case 'l':
      case 'C':
      case 'r':
      case 'salvage':
      case 'bitmaps':
        throw new UserError(`${o.spelled} is not supported by qemu-ts-img convert`);
    }
  }
  if (quiet) progress = false;
  if (optTexts.some((t) => t === 'help' || t === '?')) {
    io.stdout((outFmt === 'qcow2' ? QCOW2_OPTION_HELP : RAW_OPTION_HELP).join('\n'));
    return 0;
  }
  if (p.args.length < 2) throw usageError('Expecting image file name and output file name');
  if (targetIsZero && !noCreate) throw new UserError('--target-is-zero requires use of -n flag');
  const outName = p.args[p.args.length - 1]!;
  const srcNames = p.args.slice(0, -1);
  if (compress && outFmt !== 'qcow2') throw new UserError('Compression not supported for this file format');
  let copts: CreateOptions;
  try {
    copts = parseCreateOptions(outFmt, optTexts);
  } catch (e) {
    throw new UserError(errorText(e));
  }
  if (copts.backingFile !== undefined || copts.backingFmt !== undefined) {
    throw new UserError('Backing files for the target (-o backing_file, -B) are not supported by qemu-ts-img convert');
  }
  if (copts.size !== undefined) throw new UserError("Option 'size' is not allowed with convert");
  if (outFmt === 'qcow2') validateQcow2Create(copts);

  const sources: { img: OpenedImage; base: number }[] = [];
  let target: Target | null = null;
  try {
    let total = 0;
    for (const name of srcNames) {
      const img = await open(name, { format: srcFmt, readOnly: true, io: 'async' }, io);
      sources.push({ img, base: total });
      total += img.backend.length;
    }
    target = noCreate ? await openTarget(outName, outFmt, total) : await createTarget(outName, outFmt, total, copts, cacheUnsafe);
    // Status of everything, from metadata only (raw sources count as data; zero blocks
    // are then found when the data is read).
    const regions: Region[] = [];
    for (const s of sources) {
      for (const e of await chainStatus(s.img.layers, 0, s.img.backend.length, { scanRaw: false })) {
        regions.push({ start: s.base + e.start, length: e.length, data: e.data });
      }
    }
    const prog = new Progress(progress, io);
    const readSources = async (offset: number, into: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < into.length) {
        const pos = offset + done;
        let s = sources[0]!;
        for (const x of sources) if (x.base <= pos && x.img.backend.length > 0) s = x;
        const n = Math.min(into.length - done, s.base + s.img.backend.length - pos);
        await s.img.backend.read(pos - s.base, into.subarray(done, done + n));
        done += n;
      }
    };
    await copyRegions(regions, total, target, readSources, {
      compress,
      sparse,
      zeroTarget: !noCreate || targetIsZero,
      progress: (done) => prog.update(total === 0 ? 1 : done / total),
    });
    await target.finish();
    target = null;
    prog.end();
    return 0;
  } catch (e) {
    if (target) await target.abort();
    throw e;
  } finally {
    for (const s of sources) await s.img.close();
  }
}

/** cache=unsafe: the file never syncs (a crash during convert leaves a useless target anyway). */
function withoutSync(file: RandomAccessFile): RandomAccessFile {
  return {
    name: file.name,
    readOnly: file.readOnly,
    size: () => file.size(),
    read: (pos, into) => file.read(pos, into),
    write: (pos, data) => file.write(pos, data),
    truncate: (n) => file.truncate(n),
    sync: async () => {},
    close: () => file.close(),
  };
}

async function createTarget(path: string, fmt: ImageFormat, size: number, o: CreateOptions, unsafe: boolean): Promise<Target> {
  const rounded = Math.ceil(size / 512) * 512;
  let file: RandomAccessFile;
  try {
    file = await openFile(path, { readOnly: false, create: true });
  } catch (e) {
    throw new UserError(`${path}: ${errorText(e)}`);
  }
  if (unsafe) file = withoutSync(file);
  if (fmt === 'raw') {
    await file.truncate(rounded);
    await allocateFirstBlock(file, rounded);
    return {
      clusterSize: 0,
      write: (off, data) => file.write(off, data),
      writeZeroes: async () => {},
      finish: async () => {
        await file.sync();
        await file.close();
      },
      abort: () => file.close(),
    };
  }
  await createQcow2(file, {
    size: rounded,
    clusterSize: o.clusterSize,
    compat: o.compat?.version,
    lazyRefcounts: o.lazyRefcounts?.on,
  });
  const img = await Qcow2Image.open(file, { readOnly: false, backing: null });
  return qcow2Target(img, file);
}

function qcow2Target(img: Qcow2Image, file: RandomAccessFile | null, onClose?: () => Promise<void>): Target {
  const close = async (): Promise<void> => {
    await img.close();
    await file?.close();
    await onClose?.();
  };
  return {
    clusterSize: img.info.clusterSize,
    write: (off, data) => img.write(off, data),
    writeZeroes: (off, len) => img.writeZeroes(off, len),
    writeCompressed: (off, data) => img.writeCompressed(off, data),
    finish: async () => {
      await img.flush();
      await close();
    },
    abort: close,
  };
}

/** convert -n: the target exists; it must be large enough, and zeros are written explicitly. */
async function openTarget(path: string, fmt: ImageFormat, size: number): Promise<Target> {
  let img: OpenedImage;
  try {
    img = await openImage(path, { format: fmt, readOnly: false });
  } catch (e) {
    throw new UserError(`Could not open '${path}': ${errorText(e)}`);
  }
  if (img.backend.length < size) {
    await img.close();
    throw new UserError('Output image is too small');
  }
  const top = img.layers[0]!;
  if (top.qcow2) return qcow2Target(top.qcow2, null, () => img.close());
  const be: BlockBackend = img.backend;
  const zeros = new Uint8Array(COPY_CHUNK);
  return {
    clusterSize: 0,
    write: (off, data) => be.write(off, data),
    writeZeroes: async (off, len) => {
      for (let p = off; p < off + len; p += COPY_CHUNK) await be.write(p, zeros.subarray(0, Math.min(COPY_CHUNK, off + len - p)));
    },
    finish: async () => {
      await be.flush();
      await img.close();
    },
    abort: () => img.close(),
  };
}

interface CopyOptions {
  compress: boolean;
  /** Zero runs at least this long are not written (0: write everything). */
  sparse: number;
  /** The target reads as zeros where nothing is written. */
  zeroTarget: boolean;
  progress(doneBytes: number): void;
}

/**
 * Copy the data regions into the target, chunk by chunk with reads running ahead of
 * writes; zero regions are skipped (or written as zeros when the target is not known to
 * be zero). Within data, blocks of zeros are skipped too: whole clusters for a qcow2
 * target (a partly written cluster is allocated anyway), `sparse` bytes for raw.
 */
async function copyRegions(
  regions: readonly Region[],
  total: number,
  target: Target,
  read: (offset: number, into: Uint8Array) => Promise<void>,
  opts: CopyOptions,
): Promise<void> {
  const cluster = target.clusterSize;
  const chunkSize = Math.max(COPY_CHUNK, cluster);
  if (opts.compress && !target.writeCompressed) throw new UserError('Compression not supported for this file format');
  // Chunks are aligned to the target's cluster size, so each cluster is decided once.
  interface Chunk {
    start: number;
    length: number;
    data: boolean;
  }
  const chunks: Chunk[] = [];
  let ri = 0;
  for (let start = 0; start < total; start += chunkSize) {
    const end = Math.min(total, start + chunkSize);
    while (ri < regions.length && regions[ri]!.start + regions[ri]!.length <= start) ri++;
    let data = false;
    for (let j = ri; j < regions.length && regions[j]!.start < end; j++) if (regions[j]!.data) data = true;
    chunks.push({ start, length: end - start, data });
  }
  const granule = opts.sparse === 0 ? 0 : Math.max(opts.sparse, cluster);
  const buffers: Uint8Array[] = [];
  const take = (): Uint8Array => buffers.pop() ?? new Uint8Array(chunkSize);
  const inflight: (Promise<Uint8Array> | null)[] = [];
  const startRead = (i: number): void => {
    const c = chunks[i];
    if (!c || !c.data) {
      inflight[i] = null;
      return;
    }
    const buf = take().subarray(0, c.length);
    inflight[i] = read(c.start, buf).then(() => buf);
  };
  for (let i = 0; i < Math.min(READ_AHEAD, chunks.length); i++) startRead(i);
  let done = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    const pending = inflight[i];
    inflight[i] = null;
    if (i + READ_AHEAD < chunks.length) startRead(i + READ_AHEAD);
    if (!pending) {
      if (!opts.zeroTarget) await target.writeZeroes(c.start, c.length);
    } else {
      const buf = await pending;
      const bb = asBuffer(buf);
      if (opts.compress) {
        for (let o = 0; o < c.length; o += cluster) {
          const e = Math.min(c.length, o + cluster);
          if (isZero(bb, o, e)) {
            if (!opts.zeroTarget) await target.writeZeroes(c.start + o, e - o);
            continue;
          }
          await target.writeCompressed!(c.start + o, buf.subarray(o, e));
        }
      } else if (granule === 0) {
        await target.write(c.start, buf);
      } else {
        // Write maximal runs of non-zero granules; zero runs are skipped or zeroed.
        let runStart = -1;
        let zeroStart = -1;
        const flushRun = async (end: number): Promise<void> => {
          if (runStart >= 0) await target.write(c.start + runStart, buf.subarray(runStart, end));
          runStart = -1;
        };
        const flushZero = async (end: number): Promise<void> => {
          if (zeroStart >= 0 && !opts.zeroTarget) await target.writeZeroes(c.start + zeroStart, end - zeroStart);
          zeroStart = -1;
        };
        for (let o = 0; o < c.length; o += granule) {
          const e = Math.min(c.length, o + granule);
          if (isZero(bb, o, e)) {
            await flushRun(o);
            if (zeroStart < 0) zeroStart = o;
          } else {
            await flushZero(o);
            if (runStart < 0) runStart = o;
          }
        }
        await flushRun(c.length);
        await flushZero(c.length);
      }
      buffers.push(new Uint8Array(buf.buffer, 0, chunkSize));
    }
    done += c.length;
    opts.progress(done);
  }
}

// ---------------------------------------------------------------------------------------
// commit

async function cmdCommit(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':f:ht:b:dpqr:', COMMON_LONGS);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let baseName: string | undefined;
  let keep = false;
  let progress = false;
  let quiet = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'b') baseName = o.value;
    else if (o.key === 'd') keep = true;
    else if (o.key === 'p') progress = true;
    else if (o.key === 'q') quiet = true;
    else if (o.key === 'r') throw new UserError('-r (rate limit) is not supported by qemu-ts-img');
    else if (o.key === 't' && !['none', 'writeback', 'writethrough', 'directsync', 'unsafe'].includes(o.value)) {
      throw new UserError(`Invalid cache option: ${oneLine(o.value)}`);
    }
  }
  if (quiet) progress = false;
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  const filename = p.args[0]!;
  // -b implies -d: the images above the base are left as they are.
  if (baseName !== undefined) keep = true;
  const img = await open(filename, { format: fmt, readOnly: true }, io);
  let emptyTop: { path: string; info: Qcow2Info } | null = null;
  try {
    if (img.layers.length < 2) throw new UserError('Image does not have a backing file');
    let baseIndex = 1;
    if (baseName !== undefined) {
      // As qemu-img: the name as written in a header, or a file relative to the image's directory.
      const want = fileId(combineBackingPath(filename, baseName));
      baseIndex = img.layers.findIndex(
        (l, i) => i > 0 && (img.layers[i - 1]!.info?.backingFile === baseName || (want !== null && fileId(l.path) === want)),
      );
      if (baseIndex < 0) throw new UserError(`Did not find '${oneLine(baseName)}' in the backing chain of '${oneLine(filename)}'`);
    }
    const baseLayer = img.layers[baseIndex]!;
    const extents = (await chainStatus(img.layers, 0, img.backend.length, { scanRaw: false, maxDepth: baseIndex })).filter(
      (e) => e.present && e.depth < baseIndex,
    );
    // A base smaller than the top image grows first (as QEMU's commit job does).
    const newLength = Math.ceil(img.backend.length / 512) * 512;
    if (baseLayer.format === 'raw' && baseLayer.backend.length < img.backend.length) {
      const f = await openFile(baseLayer.path, { readOnly: false });
      try {
        await f.truncate(newLength);
      } finally {
        await f.close();
      }
    }
    const base = await open(baseLayer.path, { format: baseLayer.format, readOnly: false }, io, false);
    try {
      const baseTop = base.layers[0]!;
      if (baseTop.qcow2 && base.backend.length < img.backend.length) await baseTop.qcow2.resize(newLength);
      const total = extents.reduce((a, e) => a + e.length, 0);
      const prog = new Progress(progress, io);
      let done = 0;
      const buf = new Uint8Array(COPY_CHUNK);
      const zeros = new Uint8Array(COPY_CHUNK);
      for (const e of extents) {
        for (let pos = e.start; pos < e.start + e.length; pos += COPY_CHUNK) {
          const n = Math.min(COPY_CHUNK, e.start + e.length - pos);
          if (e.zero && !e.data) {
            if (baseTop.qcow2) await baseTop.qcow2.writeZeroes(pos, n);
            else await base.backend.write(pos, zeros.subarray(0, n));
          } else {
            const view = buf.subarray(0, n);
            await img.backend.read(pos, view);
            await base.backend.write(pos, view);
          }
          done += n;
          prog.update(total === 0 ? 1 : done / total);
        }
      }
      await base.backend.flush();
      prog.end();
    } finally {
      await base.close();
    }
    const top = img.layers[0]!;
    if (!keep && top.qcow2 && top.info) emptyTop = { path: top.path, info: top.info };
  } finally {
    await img.close();
  }
  if (emptyTop) await makeEmpty(emptyTop.path, emptyTop.info);
  if (!quiet) io.stdout('Image committed.\n');
  return 0;
}

function fileId(path: string): string | null {
  try {
    const st = fs.statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** Empty a committed qcow2 image: a fresh image with the same geometry and backing file. */
async function makeEmpty(path: string, info: Qcow2Info): Promise<void> {
  const file = await openFile(path, { readOnly: false, create: true });
  try {
    await createQcow2(file, {
      size: info.size,
      clusterSize: info.clusterSize,
      compat: info.version === 2 ? '0.10' : '1.1',
      backingFile: info.backingFile ?? undefined,
      backingFormat: info.backingFormat ?? undefined,
      lazyRefcounts: info.lazyRefcounts,
    });
    await file.sync();
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------
// rebase

async function cmdRebase(argv: readonly string[], io: ImgIo): Promise<number> {
  const p = getopt(argv, ':hf:F:b:upt:T:qUc', COMMON_LONGS);
  rejectUnsupported(p);
  let fmt: ImageFormat | undefined;
  let newBacking: string | undefined;
  let newFmtName: string | undefined;
  let unsafe = false;
  let progress = false;
  let quiet = false;
  for (const o of p.opts) {
    if (o.key === 'h') return help(io);
    if (o.key === 'f') fmt = parseFormatOption(o.value);
    else if (o.key === 'b') newBacking = o.value;
    else if (o.key === 'F') newFmtName = o.value;
    else if (o.key === 'u') unsafe = true;
    else if (o.key === 'p') progress = true;
    else if (o.key === 'q') quiet = true;
    else if (o.key === 'c') throw new UserError('-c (compressed rebase) is not supported by qemu-ts-img');
  }
  if (quiet) progress = false;
  if (p.args.length !== 1) throw usageError('Expecting one image file name');
  if (newBacking === undefined && !unsafe) throw usageError('Must specify backing file (-b) or use unsafe mode (-u)');
  const filename = p.args[0]!;
  const target = newBacking === undefined || newBacking === '' ? null : newBacking;
  let newFmt: ImageFormat | undefined;
  if (newFmtName !== undefined) newFmt = parseFormatOption(newFmtName, 'backing format');
  if (target !== null && newFmtName === undefined) {
    throw new UserError(`Could not change the backing file to '${oneLine(target)}': backing format must be specified`);
  }
  const img = await open(filename, { format: fmt, readOnly: false, backing: !unsafe }, io);
  return withImage(img, async () => {
    const top = img.layers[0]!;
    if (!top.qcow2) {
      throw new UserError(`Could not change the backing file to '${oneLine(target ?? '')}': Operation not supported`);
    }
    if (!unsafe) {
      let newChain: OpenedImage | null = null;
      if (target !== null) {
        const full = combineBackingPath(filename, target);
        try {
          newChain = await openImage(full, { format: newFmt, readOnly: true });
        } catch (e) {
          throw new UserError(`Could not open new backing file '${oneLine(full)}': ${errorText(e)}`);
        }
      }
      try {
        await rebaseCopy(img, newChain, new Progress(progress, io));
      } finally {
        await newChain?.close();
      }
    }
    try {
      await top.qcow2.setBackingFile(target, target === null ? null : (newFmtName ?? null));
      await top.qcow2.flush();
    } catch (e) {
      throw new UserError(`Could not change the backing file to '${oneLine(target ?? '')}': ${errorText(e)}`);
    }
    return 0;
  });
}

/**
 * Safe rebase: wherever the image does not have data of its own, what the old backing
 * chain shows and what the new one shows must agree; where they differ (512-byte
 * sectors), the old contents are copied into the image.
 */
async function rebaseCopy(img: OpenedImage, newChain: OpenedImage | null, prog: Progress): Promise<void> {
  const top = img.layers[0]!;
  const length = img.backend.length;
  const oldBacking = img.layers[1]?.backend ?? null;
  const newBacking = newChain?.backend ?? null;
  const unallocated = (await chainStatus(img.layers, 0, length, { scanRaw: false, maxDepth: 0 })).filter((e) => !e.present);
  // maxDepth 0 reports every range the top does not have as not present.
  const total = unallocated.reduce((a, e) => a + e.length, 0);
  const oldBuf = new Uint8Array(COPY_CHUNK);
  const newBuf = new Uint8Array(COPY_CHUNK);
  const readView = async (be: BlockBackend | null, pos: number, into: Uint8Array): Promise<void> => {
    into.fill(0);
    if (!be) return;
    const n = Math.max(0, Math.min(into.length, be.length - pos));
    if (n > 0) await be.read(pos, into.subarray(0, n));
  };
  let done = 0;
  for (const e of unallocated) {
    for (let pos = e.start; pos < e.start + e.length; pos += COPY_CHUNK) {
      const n = Math.min(COPY_CHUNK, e.start + e.length - pos);
      const o = oldBuf.subarray(0, n);
      const w = newBuf.subarray(0, n);
      await readView(oldBacking, pos, o);
      await readView(newBacking, pos, w);
      const ob = asBuffer(o);
      const wb = asBuffer(w);
      if (ob.compare(wb) !== 0) {
        let run = -1;
        for (let s = 0; s <= n; s += 512) {
          const differs = s < n && ob.compare(wb, s, Math.min(n, s + 512), s, Math.min(n, s + 512)) !== 0;
          if (differs && run < 0) run = s;
          if (!differs && run >= 0) {
            await top.backend.write(pos + run, o.subarray(run, s));
            run = -1;
          }
        }
      }
      done += n;
      prog.update(total === 0 ? 1 : done / total);
    }
  }
  prog.end();
}

// ---------------------------------------------------------------------------------------
// main

const HANDLERS: Readonly<Record<string, (argv: readonly string[], io: ImgIo) => Promise<number>>> = {
  check: cmdCheck,
  commit: cmdCommit,
  convert: cmdConvert,
  create: cmdCreate,
  info: cmdInfo,
  map: cmdMap,
  rebase: cmdRebase,
  resize: cmdResize,
};

/** Errors the user can act on print their message; anything else is an internal error. */
function reportError(e: unknown, io: ImgIo): void {
  if (e instanceof UserError || e instanceof BlockError) {
    io.stderr(`qemu-ts-img: ${oneLine(e.message)}\n`);
    return;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.constructor === Error) io.stderr(`qemu-ts-img: ${oneLine(err.message)}\n`);
  else io.stderr(`qemu-ts-img: internal error: ${oneLine(`${err.name}: ${err.message}`)}\n`);
  if (process.env.QEMU_TS_DEBUG === '1' && err.stack) io.stderr(err.stack + '\n');
}

export async function imgMain(argv: readonly string[], io: ImgIo = processIo()): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr("qemu-ts-img: Not enough arguments (try 'qemu-ts-img --help')\n");
    return 1;
  }
  if (first === '--help' || first === '-h' || first === '-help') return help(io);
  if (first === '--version' || first === '-V' || first === '-version') {
    io.stdout(`qemu-ts-img version ${QEMU_TS_VERSION}\n`);
    return 0;
  }
  if (first.startsWith('-')) {
    io.stderr(`qemu-ts-img: unrecognized option '${oneLine(first)}' (try 'qemu-ts-img --help')\n`);
    return 1;
  }
  const handler = HANDLERS[first];
  if (!handler) {
    if (NOT_IMPLEMENTED.includes(first)) io.stderr(`qemu-ts-img: Command not supported by qemu-ts-img yet: ${first}\n`);
    else io.stderr(`qemu-ts-img: Command not found: ${oneLine(first)} (try 'qemu-ts-img --help')\n`);
    return 1;
  }
  try {
    return await handler(argv.slice(1), io);
  } catch (e) {
    reportError(e, io);
    return 1;
  }
}

export { imgMain as main };
