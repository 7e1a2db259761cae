/**
 * Flattened Device Tree (DTB) writer and reader, as the Devicetree Specification
 * v0.4, chapter 5 "Flattened Devicetree (DTB) Format" defines it (format version 17,
 * last compatible version 16). All fields are big-endian.
 *
 *   header (40 bytes)    magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings,
 *                        off_mem_rsvmap, version, last_comp_version, boot_cpuid_phys,
 *                        size_dt_strings, size_dt_struct
 *   memory reservation   8-byte aligned; {u64 address, u64 size} entries ended by {0, 0}
 *   structure block      4-byte aligned tokens: FDT_BEGIN_NODE (1) + NUL-terminated name
 *                        padded to 4, FDT_PROP (3) + u32 len + u32 nameoff + value padded
 *                        to 4, FDT_END_NODE (2), FDT_NOP (4), FDT_END (9)
 *   strings block        NUL-terminated property names, referenced by offset
 *
 * The writer lays the blocks out the way dtc and libfdt do (reservation map right after
 * the header, then the structure block, then the strings block), de-duplicates property
 * names in the strings block, and can leave free space at the end (`padTo`) for firmware
 * that edits the tree in place (OpenSBI's fdt_open_into). Trees are plain objects built
 * with `node()` and the value helpers in `prop`. Phandles are plain u32 cells; a
 * PhandleAllocator hands out the numbers.
 *
 * The reader (`parseFdt`) accepts versions 16 and 17 and checks every offset and length
 * against the blob before use, so a malformed user-supplied `-dtb` file is rejected with
 * an Error naming the problem instead of reading out of bounds.
 */

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_HEADER_SIZE = 40;

export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;

/** Deepest node nesting the reader accepts (real trees are under 10 deep). */
const MAX_DEPTH = 64;

export interface FdtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface FdtNode {
  /** Node name with unit address ("serial@10000000"); "" for the root. */
  readonly name: string;
  readonly props: FdtProperty[];
  readonly children: FdtNode[];
}

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

/** A property value given to `node()`: raw bytes, or a string (one NUL-terminated string). */
export type FdtPropInput = Uint8Array | string;

/**
 * Build a node. `props` keeps its insertion order, which is the order the properties
 * appear in the blob (property names are never integer-like, so object order is safe).
 */
export function node(
  name: string,
  props: Record<string, FdtPropInput> | ReadonlyArray<readonly [string, FdtPropInput]> = {},
  children: FdtNode[] = [],
): FdtNode {
  const entries: ReadonlyArray<readonly [string, FdtPropInput]> = Array.isArray(props)
    ? (props as ReadonlyArray<readonly [string, FdtPropInput]>)
    : Object.entries(props as Record<string, FdtPropInput>);
  return {
    name,
    props: entries.map(([n, v]) => ({ name: n, value: typeof v === 'string' ? prop.string(v) : v })),
    children,
  };
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${v} is not a u32`);
  return v;
}

function toU64(v: number | bigint, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what}: ${v} is not a u64`);
    return BigInt(v);
  }
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`${what}: ${v} is not a u64`);
  return v;
}

/** Property value encoders (Devicetree Specification 2.2.4 "Property values"). */
export const prop = {
  /** A property with no value (e.g. `interrupt-controller;`, `ranges;`). */
  empty(): Uint8Array {
    return new Uint8Array(0);
  },
  /** One or more 32-bit cells. */
  u32(...cells: number[]): Uint8Array {
    const out = new Uint8Array(cells.length * 4);
    const dv = new DataView(out.buffer);
    cells.forEach((c, i) => dv.setUint32(i * 4, checkU32(c, 'u32 cell')));
    return out;
  },
  /** 64-bit values, each as two cells (high word first). */
  u64(...values: Array<number | bigint>): Uint8Array {
    const out = new Uint8Array(values.length * 8);
    const dv = new DataView(out.buffer);
    values.forEach((v, i) => dv.setBigUint64(i * 8, toU64(v, 'u64 value')));
    return out;
  },
  /**
   * A cell list where each entry is [value, cells]: e.g. a `reg` of
   * <address (2 cells) size (2 cells)> is cells([base, 2], [size, 2]).
   */
  cells(...entries: Array<readonly [number | bigint, 1 | 2]>): Uint8Array {
    return concat(entries.map(([v, n]) => (n === 1 ? prop.u32(Number(v)) : prop.u64(v))));
  },
  /** A phandle reference (one cell). */
  phandle(ph: number): Uint8Array {
    return prop.u32(ph);
  },
  /** One NUL-terminated string. */
  string(s: string): Uint8Array {
    if (s.includes('\0')) throw new RangeError('FDT string contains NUL');
    return concat([textEncoder.encode(s), new Uint8Array(1)]);
  },
  /** A string list (`"a", "b"`): each string NUL-terminated, concatenated. */
  strings(...list: string[]): Uint8Array {
    return concat(list.map((s) => prop.string(s)));
  },
  /** Raw bytes, copied. */
  bytes(data: ArrayLike<number>): Uint8Array {
    return Uint8Array.from(data);
  },
};

/** Hands out phandles 1, 2, 3... in request order (as QEMU's board code does). */
export class PhandleAllocator {
  private nextValue: number;
  constructor(first = 1) {
    this.nextValue = first;
  }
  next(): number {
    return this.nextValue++;
  }
}

// --- writer ---------------------------------------------------------------------------

/** Node names: 1-31 chars of [0-9a-zA-Z,._+-] then optional @unit-address (spec 2.2.1). */
const NODE_NAME_RE = /^[0-9a-zA-Z,._+-]{1,31}(@[0-9a-zA-Z,._+-]+)?$/;
/** Property names: 1-31 chars of [0-9a-zA-Z,._+?#-] (spec 2.2.4.1). */
const PROP_NAME_RE = /^[0-9a-zA-Z,._+?#-]{1,31}$/;

export interface FdtWriteOptions {
  /** Physical id of the boot CPU (header field boot_cpuid_phys). Default 0. */
  bootCpuidPhys?: number;
  /** Memory reservation entries (the block always ends with the {0, 0} terminator). */
  reservations?: readonly FdtReservation[];
  /** Make totalsize at least this many bytes (zero-filled free space at the end). */
  padTo?: number;
}

class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Serialize a tree rooted at `root` (whose name must be "") into a version-17 DTB. */
export function serializeFdt(root: FdtNode, options: FdtWriteOptions = {}): Uint8Array {
  if (root.name !== '') throw new Error(`FDT root node must have an empty name, not "${root.name}"`);
  const bootCpuidPhys = checkU32(options.bootCpuidPhys ?? 0, 'boot_cpuid_phys');
  const reservations = options.reservations ?? [];

  // Strings block with de-duplication.
  const strings = new ByteWriter();
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      strings.bytes(prop.string(name));
      stringOffsets.set(name, off);
    }
    return off;
  };

  // Structure block.
  const struct = new ByteWriter();
  const emit = (n: FdtNode, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new Error(`FDT nesting deeper than ${MAX_DEPTH} at ${path}`);
    if (depth > 0 && !NODE_NAME_RE.test(n.name)) throw new Error(`invalid FDT node name "${n.name}" at ${path}`);
    struct.u32(FDT_BEGIN_NODE);
    struct.bytes(prop.string(n.name));
    struct.align(4);
    const seenProps = new Set<string>();
    for (const p of n.props) {
      if (!PROP_NAME_RE.test(p.name)) throw new Error(`invalid FDT property name "${p.name}" in ${path}`);
      if (seenProps.has(p.name)) throw new Error(`duplicate FDT property "${p.name}" in ${path}`);
      seenProps.add(p.name);
      struct.u32(FDT_PROP);
      struct.u32(p.value.length);
      struct.u32(nameOffset(p.name));
      struct.bytes(p.value);
      struct.align(4);
    }
    const seenChildren = new Set<string>();
    for (const c of n.children) {
      if (seenChildren.has(c.name)) throw new Error(`duplicate FDT node "${c.name}" in ${path}`);
      seenChildren.add(c.name);
      emit(c, path === '/' ? `/${c.name}` : `${path}/${c.name}`, depth + 1);
    }
    struct.u32(FDT_END_NODE);
  };
  emit(root, '/', 0);
  struct.u32(FDT_END);

  const offMemRsvmap = FDT_HEADER_SIZE; // 40 is already 8-aligned
  const rsvSize = (reservations.length + 1) * 16;
  const offDtStruct = offMemRsvmap + rsvSize;
  const offDtStrings = offDtStruct + struct.length;
  const used = offDtStrings + strings.length;
  const totalSize = Math.max(used, options.padTo ?? 0);
  checkU32(totalSize, 'FDT totalsize');

  const out = new Uint8Array(totalSize);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    totalSize,
    offDtStruct,
    offDtStrings,
    offMemRsvmap,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    bootCpuidPhys,
    strings.length,
    struct.length,
  ];
  header.forEach((v, i) => dv.setUint32(i * 4, v));
  reservations.forEach((r, i) => {
    dv.setBigUint64(offMemRsvmap + i * 16, toU64(r.address, 'reservation address'));
    dv.setBigUint64(offMemRsvmap + i * 16 + 8, toU64(r.size, 'reservation size'));
  });
  out.set(struct.finish(), offDtStruct);
  out.set(strings.finish(), offDtStrings);
  return out;
}

// --- reader ---------------------------------------------------------------------------

export interface FdtHeader {
  magic: number;
  totalsize: number;
  offDtStruct: number;
  offDtStrings: number;
  offMemRsvmap: number;
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  sizeDtStrings: number;
  sizeDtStruct: number;
}

export interface ParsedFdt {
  header: FdtHeader;
  reservations: FdtReservation[];
  root: FdtNode;
}

function fail(msg: string): never {
  throw new Error(`invalid device tree blob: ${msg}`);
}

/**
 * Parse and validate a DTB. Throws an Error starting with "invalid device tree blob:"
 * for bad magic, unsupported versions, truncation, and any offset or length that points
 * outside its block.
 */
export function parseFdt(bytes: Uint8Array): ParsedFdt {
  if (bytes.length < FDT_HEADER_SIZE) fail(`${bytes.length} bytes is shorter than the ${FDT_HEADER_SIZE}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (i: number): number => dv.getUint32(i * 4);
  const header: FdtHeader = {
    magic: word(0),
    totalsize: word(1),
    offDtStruct: word(2),
    offDtStrings: word(3),
    offMemRsvmap: word(4),
    version: word(5),
    lastCompVersion: word(6),
    bootCpuidPhys: word(7),
    sizeDtStrings: word(8),
    sizeDtStruct: word(9),
  };
  const hex = (v: number): string => '0x' + v.toString(16);
  if (header.magic !== FDT_MAGIC) fail(`bad magic ${hex(header.magic)} (expected ${hex(FDT_MAGIC)})`);
  if (header.version < 16) fail(`version ${header.version} is older than 16`);
  if (header.lastCompVersion > FDT_VERSION) fail(`last_comp_version ${header.lastCompVersion} is newer than ${FDT_VERSION}`);
  const total = header.totalsize;
  if (total < FDT_HEADER_SIZE) fail(`totalsize ${total} is smaller than the header`);
  if (total > bytes.length) fail(`truncated: totalsize is ${total} but only ${bytes.length} bytes are present`);

  const inBlob = (off: number, size: number, what: string): void => {
    if (off < FDT_HEADER_SIZE || off > total || size > total - off) {
      fail(`${what} (offset ${hex(off)}, size ${size}) lies outside the ${total}-byte blob`);
    }
  };
  // Version 16 has no size fields for the blocks: they extend at most to totalsize.
  const sizeStrings = header.version >= 17 ? header.sizeDtStrings : total - Math.min(header.offDtStrings, total);
  const sizeStruct = header.version >= 17 ? header.sizeDtStruct : total - Math.min(header.offDtStruct, total);
  if (header.offMemRsvmap % 8 !== 0) fail(`off_mem_rsvmap ${hex(header.offMemRsvmap)} is not 8-byte aligned`);
  if (header.offDtStruct % 4 !== 0) fail(`off_dt_struct ${hex(header.offDtStruct)} is not 4-byte aligned`);
  inBlob(header.offMemRsvmap, 0, 'memory reservation block');
  inBlob(header.offDtStruct, sizeStruct, 'structure block');
  inBlob(header.offDtStrings, sizeStrings, 'strings block');

  // Memory reservation block.
  const reservations: FdtReservation[] = [];
  for (let off = header.offMemRsvmap; ; off += 16) {
    if (off + 16 > total) fail('memory reservation block has no terminating entry');
    const address = dv.getBigUint64(off);
    const size = dv.getBigUint64(off + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  // Structure block.
  const structEnd = header.offDtStruct + sizeStruct;
  const stringsStart = header.offDtStrings;
  const stringsEnd = stringsStart + sizeStrings;
  let pos = header.offDtStruct;
  const token = (): number => {
    if (pos + 4 > structEnd) fail(`structure block ends without FDT_END (at ${hex(pos)})`);
    const t = dv.getUint32(pos);
    pos += 4;
    return t;
  };
  const cstring = (start: number, end: number, what: string): { text: string; next: number } => {
    let i = start;
    while (i < end && bytes[i] !== 0) i++;
    if (i >= end) fail(`${what} at ${hex(start)} is not NUL-terminated inside its block`);
    return { text: textDecoder.decode(bytes.subarray(start, i)), next: i + 1 };
  };
  const align4 = (v: number): number => (v + 3) & ~3;

  let root: FdtNode | undefined;
  const stack: FdtNode[] = [];
  for (;;) {
    const at = pos;
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      if (root !== undefined && stack.length === 0) fail(`second root node at ${hex(at)}`);
      if (stack.length >= MAX_DEPTH) fail(`nodes nested deeper than ${MAX_DEPTH}`);
      const { text, next } = cstring(pos, structEnd, 'node name');
      pos = align4(next);
      if (pos > structEnd) fail(`node name at ${hex(at)} runs past the structure block`);
      const n: FdtNode = { name: text, props: [], children: [] };
      if (stack.length === 0) {
        if (text !== '') fail(`root node has name "${text}"`);
        root = n;
      } else {
        stack[stack.length - 1]!.children.push(n);
      }
      stack.push(n);
    } else if (t === FDT_PROP) {
      const cur = stack[stack.length - 1];
      if (cur === undefined) fail(`property outside any node at ${hex(at)}`);
      if (cur.children.length > 0) fail(`property after a subnode in "${cur.name}" at ${hex(at)}`);
      const len = token();
      const nameoff = token();
      if (len > structEnd - pos) fail(`property at ${hex(at)} with length ${len} runs past the structure block`);
      if (nameoff >= sizeStrings) fail(`property at ${hex(at)} has name offset ${hex(nameoff)} outside the strings block`);
      const { text } = cstring(stringsStart + nameoff, stringsEnd, 'property name');
      cur.props.push({ name: text, value: bytes.slice(pos, pos + len) });
      pos = align4(pos + len);
      if (pos > structEnd) fail(`property at ${hex(at)} padding runs past the structure block`);
    } else if (t === FDT_END_NODE) {
      if (stack.length === 0) fail(`unbalanced FDT_END_NODE at ${hex(at)}`);
      stack.pop();
    } else if (t === FDT_END) {
      if (stack.length !== 0) fail(`FDT_END at ${hex(at)} inside an open node`);
      break;
    } else {
      fail(`unknown token ${hex(t)} at ${hex(at)}`);
    }
  }
  if (root === undefined) fail('no root node');
  return { header, reservations, root };
}

// --- tree queries ---------------------------------------------------------------------

/** Find a node by absolute path ("/soc/serial@10000000"); "/" is the root. */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  if (!path.startsWith('/')) return undefined;
  let cur: FdtNode | undefined = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    cur = cur.children.find((c) => c.name === part);
    if (cur === undefined) return undefined;
  }
  return cur;
}

export function getProp(n: FdtNode, name: string): Uint8Array | undefined {
  return n.props.find((p) => p.name === name)?.value;
}

/** Decode a value as big-endian 32-bit cells (throws if the length is not a multiple of 4). */
export function decodeU32Cells(value: Uint8Array): number[] {
  if (value.length % 4 !== 0) throw new Error(`property length ${value.length} is not a multiple of 4`);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/** Decode a one- or two-cell value (as Linux reads linux,initrd-start) as a bigint. */
export function decodeCellsAsBigint(value: Uint8Array): bigint {
  let v = 0n;
  for (const c of decodeU32Cells(value)) v = (v << 32n) | BigInt(c);
  return v;
}

/** Decode a string list (each NUL-terminated). Throws if the last string is unterminated. */
export function decodeStrings(value: Uint8Array): string[] {
  if (value.length === 0 || value[value.length - 1] !== 0) throw new Error('property is not a NUL-terminated string list');
  return textDecoder.decode(value.subarray(0, value.length - 1)).split('\0');
}
