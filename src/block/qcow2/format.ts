/**
 * qcow2 on-disk format: header (versions 2 and 3), header extensions, table entry
 * layouts, and the validation that refuses hostile or unsupported images before any
 * table is trusted. Specification: QEMU docs/interop/qcow2.txt. All numbers on disk are
 * big-endian.
 *
 * Offsets are JavaScript numbers: the format allows 56-bit host offsets, we accept
 * offsets below 2^53 (far beyond any real file) and refuse anything larger as corrupt.
 */
import { UserError } from '../../machine/options.js';
import type { RandomAccessFile } from '../file.js';
import type { Qcow2Info } from './types.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
export const AUTOCLEAR_BITMAPS = 1n << 0n;

/** Field offsets in the header that are rewritten in place (each update fits in one sector). */
export const HDR_SIZE = 24;
export const HDR_L1_SIZE = 36; // l1_size (4) + l1_table_offset (8): one 12-byte write
export const HDR_REFCOUNT_TABLE = 48; // refcount_table_offset (8) + refcount_table_clusters (4)
export const HDR_INCOMPAT = 72;
export const HDR_AUTOCLEAR = 88;

export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;
/** What we write for v3: the 104-byte header, compression_type and padding, as QEMU 7.2 does. */
export const V3_HEADER_LENGTH = 112;

export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** Implementation limits (the same as QEMU's): they bound the memory a hostile header can make us allocate. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
/** Bound on the L1 tables of all snapshots together (check reads them all). */
export const MAX_SNAPSHOT_L1_TOTAL = 1024 * 1024 * 1024;
export const MAX_BACKING_NAME = 1023;
/** Virtual sizes must be safe integers; real limits (L1 table size) are far lower. */
export const MAX_VIRTUAL_SIZE = 2 ** 53 - 1;

export interface FeatureName {
  type: 'incompatible' | 'compatible' | 'autoclear';
  bit: number;
  name: string;
}

export interface HeaderExtension {
  type: number;
  data: Uint8Array;
}

/** The parsed header: every field, plus what is needed to rewrite it losslessly. */
export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  /** v3 header bytes from 104 to header_length (unknown additional fields are preserved). */
  extraFields: Uint8Array;
  backingFile: string | null;
  backingFormat: string | null;
  featureNames: FeatureName[];
  /** Extensions other than end, backing format and feature table, in file order (preserved on rewrite). */
  otherExtensions: HeaderExtension[];
  /** Whether a feature name table extension was present. */
  hasFeatureTable: boolean;
}

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

function fail(msg: string): never {
  throw new UserError(msg);
}

/** Read a big-endian u64 that must fit a safe integer; returns -1 when it does not. */
function getU64(dv: DataView, pos: number): number {
  const hi = dv.getUint32(pos);
  const lo = dv.getUint32(pos + 4);
  if (hi >= 0x200000) return -1;
  return hi * 4294967296 + lo;
}

function getBig64(dv: DataView, pos: number): bigint {
  return dv.getBigUint64(pos);
}

export function setU64(dv: DataView, pos: number, v: number): void {
  dv.setUint32(pos, Math.floor(v / 4294967296));
  dv.setUint32(pos + 4, v >>> 0);
}

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

export const FEATURE_NAMES_WE_WRITE: readonly FeatureName[] = [
  { type: 'incompatible', bit: 0, name: 'dirty bit' },
  { type: 'incompatible', bit: 1, name: 'corrupt bit' },
  { type: 'incompatible', bit: 2, name: 'external data file' },
  { type: 'incompatible', bit: 3, name: 'compression type' },
  { type: 'incompatible', bit: 4, name: 'extended L2 entries' },
  { type: 'compatible', bit: 0, name: 'lazy refcounts' },
  { type: 'autoclear', bit: 0, name: 'bitmaps' },
  { type: 'autoclear', bit: 1, name: 'raw external data' },
];

const FEATURE_TYPES = ['incompatible', 'compatible', 'autoclear'] as const;

/** Names for incompatible bits we know but do not implement (used when the image has no table). */
const KNOWN_INCOMPAT: Readonly<Record<number, string>> = {
  2: 'external data file',
  3: 'compression type',
  4: 'extended L2 entries',
};

const CRYPT_NAMES: Readonly<Record<number, string>> = { 1: 'AES', 2: 'LUKS' };

/**
 * Parse and validate the header in `buf` (the start of the file: at least the first
 * cluster, or the whole file if it is shorter). `fileSize` bounds every table.
 * Throws UserError with a one-line reason; never reads beyond `buf`.
 */
export function parseHeader(buf: Uint8Array, fileSize: number): Qcow2Header {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4 || dv.getUint32(0) !== QCOW2_MAGIC) fail('Image is not in qcow2 format');
  if (buf.length < 8) fail(`qcow2 header: file is truncated (${fileSize} bytes)`);
  const versionRaw = dv.getUint32(4);
  if (versionRaw !== 2 && versionRaw !== 3) fail(`qcow2 header: unsupported qcow2 version ${versionRaw}`);
  const version = versionRaw as 2 | 3;
  const minLen = version === 2 ? V2_HEADER_LENGTH : V3_MIN_HEADER_LENGTH;
  if (buf.length < minLen) fail(`qcow2 header: file is truncated (${fileSize} bytes, the header needs ${minLen})`);

  const clusterBits = dv.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    fail(`qcow2 header: cluster_bits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS})`);
  }
  const cs = 2 ** clusterBits;

  let headerLength = V2_HEADER_LENGTH;
  let incompatibleFeatures = 0n;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  if (version === 3) {
    incompatibleFeatures = getBig64(dv, 72);
    compatibleFeatures = getBig64(dv, 80);
    autoclearFeatures = getBig64(dv, 88);
    refcountOrder = dv.getUint32(96);
    headerLength = dv.getUint32(100);
    if (headerLength < V3_MIN_HEADER_LENGTH) fail(`qcow2 header: header_length ${headerLength} is less than ${V3_MIN_HEADER_LENGTH}`);
    if (headerLength % 8 !== 0) fail(`qcow2 header: header_length ${headerLength} is not a multiple of 8`);
    if (headerLength > cs) fail(`qcow2 header: header_length ${headerLength} is larger than a cluster (${cs})`);
  }
  if (buf.length < headerLength) fail(`qcow2 header: file is truncated (${fileSize} bytes, header_length is ${headerLength})`);
  if (refcountOrder > 6) fail(`qcow2 header: refcount_order ${refcountOrder} is larger than 6`);

  const backingFileOffset = getU64(dv, 8);
  const backingFileSize = dv.getUint32(16);
  const size = getU64(dv, 24);
  if (size < 0) fail(`qcow2 header: virtual size ${hex(getBig64(dv, 24))} is too large`);
  const cryptMethod = dv.getUint32(32);
  const l1Size = dv.getUint32(36);
  const l1TableOffset = getU64(dv, 40);
  const refcountTableOffset = getU64(dv, 48);
  const refcountTableClusters = dv.getUint32(56);
  const nbSnapshots = dv.getUint32(60);
  const snapshotsOffset = getU64(dv, 64);
  const extraFields = version === 3 ? buf.slice(V3_MIN_HEADER_LENGTH, headerLength) : new Uint8Array(0);
  const compressionType = headerLength > 104 ? buf[104]! : 0;

  // Header extensions: between the header and the backing file name (or the end of cluster 0).
  let extEnd = Math.min(cs, buf.length);
  if (backingFileOffset > 0 && backingFileOffset < extEnd) extEnd = backingFileOffset;
  let backingFormat: string | null = null;
  const featureNames: FeatureName[] = [];
  const otherExtensions: HeaderExtension[] = [];
  let hasFeatureTable = false;
  let p = headerLength;
  for (;;) {
    if (p + 8 > extEnd) {
      // QEMU tolerates a header without an end marker when it is followed directly by the
      // backing file name or the end of the cluster.
      break;
    }
    const type = dv.getUint32(p);
    const len = dv.getUint32(p + 4);
    if (type === EXT_END) break;
    if (len > extEnd - p - 8) {
      fail(`qcow2 header: header extension ${hex(type)} (${len} bytes at ${p}) overruns the header area`);
    }
    const data = buf.slice(p + 8, p + 8 + len);
    if (type === EXT_BACKING_FORMAT) {
      if (len > MAX_BACKING_NAME) fail(`qcow2 header: backing format name is too long (${len} bytes)`);
      backingFormat = utf8.decode(data);
    } else if (type === EXT_FEATURE_TABLE) {
      hasFeatureTable = true;
      for (let q = 0; q + 48 <= len; q += 48) {
        const t = data[q]!;
        const bit = data[q + 1]!;
        let nameEnd = q + 2;
        while (nameEnd < q + 48 && data[nameEnd] !== 0) nameEnd++;
        const typeName = FEATURE_TYPES[t];
        if (typeName !== undefined && bit < 64) {
          featureNames.push({ type: typeName, bit, name: utf8.decode(data.subarray(q + 2, nameEnd)) });
        }
      }
    } else {
      otherExtensions.push({ type, data });
    }
    p += 8 + Math.ceil(len / 8) * 8;
  }

  // Features: refuse what we cannot honour, naming it.
  if (cryptMethod !== 0) {
    const name = CRYPT_NAMES[cryptMethod] ?? `method ${cryptMethod}`;
    fail(`qcow2: encrypted images are not supported (crypt_method ${cryptMethod}: ${name})`);
  }
  const unsupported = incompatibleFeatures & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT);
  if (unsupported !== 0n) {
    const names: string[] = [];
    for (let bit = 0; bit < 64; bit++) {
      if ((unsupported >> BigInt(bit)) & 1n) {
        const fromTable = featureNames.find((f) => f.type === 'incompatible' && f.bit === bit);
        if (bit === 3 && compressionType === 1) names.push('compression type zstd');
        else names.push(fromTable?.name ?? KNOWN_INCOMPAT[bit] ?? `unknown incompatible feature bit ${bit}`);
      }
    }
    fail(`qcow2: unsupported feature(s): ${names.join(', ')}`);
  }
  if (compressionType !== 0) {
    fail(`qcow2 header: compression_type ${compressionType} is set without the compression type feature bit`);
  }

  // Tables: aligned, outside the header cluster, inside the file.
  if (backingFileOffset < 0) fail('qcow2 header: backing file offset is too large');
  let backingFile: string | null = null;
  if (backingFileOffset !== 0) {
    if (backingFileSize > MAX_BACKING_NAME) fail(`qcow2 header: backing file name is too long (${backingFileSize} bytes)`);
    if (backingFileOffset + backingFileSize > Math.min(cs, buf.length)) {
      fail(`qcow2 header: backing file name at ${hex(backingFileOffset)} (${backingFileSize} bytes) lies outside the header cluster`);
    }
    if (backingFileSize > 0) {
      backingFile = utf8.decode(buf.subarray(backingFileOffset, backingFileOffset + backingFileSize));
    }
  }

  const l2Entries = cs / 8;
  const neededL1 = Math.ceil(size / (cs * l2Entries));
  if (l1Size * 8 > MAX_L1_BYTES) fail(`qcow2 header: L1 table of ${l1Size} entries is too large`);
  if (l1Size < neededL1) {
    fail(`qcow2 header: L1 table has ${l1Size} entries, too few for the virtual size ${size} (needs ${neededL1})`);
  }
  checkTable('L1 table', l1TableOffset, l1Size * 8, cs, fileSize);
  if (refcountTableClusters === 0) fail('qcow2 header: refcount table has no clusters');
  if (refcountTableClusters * cs > MAX_REFTABLE_BYTES) {
    fail(`qcow2 header: refcount table of ${refcountTableClusters} clusters is too large`);
  }
  checkTable('refcount table', refcountTableOffset, refcountTableClusters * cs, cs, fileSize);
  if (l1Size > 0 && overlaps(l1TableOffset, l1Size * 8, refcountTableOffset, refcountTableClusters * cs)) {
    fail('qcow2 header: L1 table overlaps the refcount table');
  }
  if (nbSnapshots > MAX_SNAPSHOTS) fail(`qcow2 header: too many snapshots (${nbSnapshots})`);
  if (nbSnapshots > 0) checkTable('snapshot table', snapshotsOffset, 40 * nbSnapshots, cs, fileSize);

  return {
    version,
    backingFileOffset,
    backingFileSize,
    clusterBits,
    size,
    cryptMethod,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatibleFeatures,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType,
    extraFields,
    backingFile,
    backingFormat,
    featureNames,
    otherExtensions,
    hasFeatureTable,
  };
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

function checkTable(what: string, offset: number, bytes: number, cs: number, fileSize: number): void {
  if (offset < 0) fail(`qcow2 header: ${what} offset is too large`);
  if (offset % cs !== 0) fail(`qcow2 header: ${what} offset ${hex(offset)} is not aligned to a cluster`);
  if (bytes === 0) return;
  if (offset === 0) fail(`qcow2 header: ${what} offset 0x0 points into the header`);
  if (offset + bytes > fileSize) {
    fail(`qcow2 header: ${what} at ${hex(offset)} (${bytes} bytes) extends past the end of the file (${fileSize} bytes)`);
  }
}

/** Read and validate the header of `file`. */
export async function readHeader(file: RandomAccessFile): Promise<{ header: Qcow2Header; fileSize: number }> {
  const fileSize = await file.size();
  const first = new Uint8Array(Math.min(fileSize, 512));
  const n = await file.read(0, first);
  const head = first.subarray(0, n);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 4 || dv.getUint32(0) !== QCOW2_MAGIC) fail('Image is not in qcow2 format');
  let buf = head;
  if (head.length >= 24) {
    const cb = dv.getUint32(20);
    if (cb >= MIN_CLUSTER_BITS && cb <= MAX_CLUSTER_BITS && 2 ** cb > head.length && fileSize > head.length) {
      buf = new Uint8Array(Math.min(fileSize, 2 ** cb));
      const m = await file.read(0, buf);
      buf = buf.subarray(0, m);
    }
  }
  return { header: parseHeader(buf, fileSize), fileSize };
}

/**
 * Serialize the header, its extensions and the backing file name into the bytes of
 * cluster 0 that hold them. Throws UserError when they do not fit in one cluster.
 */
export function serializeHeader(h: Qcow2Header): Uint8Array {
  const cs = 2 ** h.clusterBits;
  const exts: HeaderExtension[] = [];
  if (h.backingFormat !== null && h.backingFile !== null) {
    exts.push({ type: EXT_BACKING_FORMAT, data: utf8enc.encode(h.backingFormat) });
  }
  for (const e of h.otherExtensions) exts.push(e);
  if (h.hasFeatureTable) {
    const t = new Uint8Array(48 * h.featureNames.length);
    h.featureNames.forEach((f, i) => {
      t[i * 48] = FEATURE_TYPES.indexOf(f.type);
      t[i * 48 + 1] = f.bit;
      t.set(utf8enc.encode(f.name).subarray(0, 46), i * 48 + 2);
    });
    exts.push({ type: EXT_FEATURE_TABLE, data: t });
  }
  let len = h.headerLength;
  for (const e of exts) len += 8 + Math.ceil(e.data.length / 8) * 8;
  len += 8; // end marker
  const backing = h.backingFile !== null ? utf8enc.encode(h.backingFile) : new Uint8Array(0);
  if (backing.length > MAX_BACKING_NAME) fail(`qcow2: backing file name is too long (${backing.length} bytes)`);
  const backingOffset = backing.length > 0 ? len : 0;
  const total = len + backing.length;
  if (total > cs && h.hasFeatureTable) {
    // The feature name table is optional: like qemu-img, leave it out when it does not fit.
    h.hasFeatureTable = false;
    try {
      return serializeHeader(h);
    } catch (e) {
      h.hasFeatureTable = true;
      throw e;
    }
  }
  if (total > cs) fail(`qcow2: the header, its extensions and the backing file name do not fit in one cluster (${total} > ${cs} bytes)`);

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, QCOW2_MAGIC);
  dv.setUint32(4, h.version);
  setU64(dv, 8, backingOffset);
  dv.setUint32(16, backing.length);
  dv.setUint32(20, h.clusterBits);
  setU64(dv, 24, h.size);
  dv.setUint32(32, h.cryptMethod);
  dv.setUint32(36, h.l1Size);
  setU64(dv, 40, h.l1TableOffset);
  setU64(dv, 48, h.refcountTableOffset);
  dv.setUint32(56, h.refcountTableClusters);
  dv.setUint32(60, h.nbSnapshots);
  setU64(dv, 64, h.snapshotsOffset);
  if (h.version === 3) {
    dv.setBigUint64(72, h.incompatibleFeatures);
    dv.setBigUint64(80, h.compatibleFeatures);
    dv.setBigUint64(88, h.autoclearFeatures);
    dv.setUint32(96, h.refcountOrder);
    dv.setUint32(100, h.headerLength);
    out.set(h.extraFields.subarray(0, h.headerLength - V3_MIN_HEADER_LENGTH), V3_MIN_HEADER_LENGTH);
  }
  let p = h.headerLength;
  for (const e of exts) {
    dv.setUint32(p, e.type);
    dv.setUint32(p + 4, e.data.length);
    out.set(e.data, p + 8);
    p += 8 + Math.ceil(e.data.length / 8) * 8;
  }
  p += 8; // end marker (zeros)
  out.set(backing, p);
  h.backingFileOffset = backingOffset;
  h.backingFileSize = backing.length;
  return out;
}

// ---------------------------------------------------------------------------------------
// Table entries. An entry is handled as two u32 halves (hi = bits 63..32, lo = 31..0) so
// no BigInt is needed on the I/O path.

export const L2_COPIED = 0x80000000; // bit 63, in hi
export const L2_COMPRESSED = 0x40000000; // bit 62, in hi
export const L2_ZERO = 0x1; // bit 0, in lo
/** Reserved bits of a standard L2 entry: 56-61 (hi) and 1-8 (lo). */
export const L2_RESERVED_HI = 0x3f000000;
export const L2_RESERVED_LO = 0x1fe;
/** Reserved bits of an L1 entry: 56-62 (hi) and 0-8 (lo). */
export const L1_RESERVED_HI = 0x7f000000;
export const L1_RESERVED_LO = 0x1ff;
/** Reserved bits of a refcount table entry: 0-8; offsets use bits 9-63 (we accept < 2^53). */
export const RT_RESERVED_LO = 0x1ff;

/** Bits 9-55 of an entry (a host offset). */
export function entryOffset(hi: number, lo: number): number {
  return (hi & 0x00ffffff) * 4294967296 + ((lo & 0xfffffe00) >>> 0);
}

export function offsetHi(off: number): number {
  return Math.floor(off / 4294967296);
}
export function offsetLo(off: number): number {
  return off >>> 0;
}

export const enum ClusterKind {
  Unallocated = 0,
  ZeroPlain = 1,
  ZeroAlloc = 2,
  Normal = 3,
  Compressed = 4,
}

export function classify(hi: number, lo: number): ClusterKind {
  if (hi & L2_COMPRESSED) return ClusterKind.Compressed;
  const off = entryOffset(hi, lo);
  if (lo & L2_ZERO) return off === 0 ? ClusterKind.ZeroPlain : ClusterKind.ZeroAlloc;
  if (off === 0 && (hi & L2_COPIED) === 0) return ClusterKind.Unallocated;
  return ClusterKind.Normal;
}

/** Decode a compressed cluster descriptor: host byte offset and byte length of the compressed data. */
export function compressedDescriptor(hi: number, lo: number, clusterBits: number): { offset: number; length: number } {
  const x = 62 - (clusterBits - 8); // first bit of the sector count
  const hiBits = x - 32; // offset bits that live in hi
  const d = hi & 0x3fffffff;
  const offHi = d & ((1 << hiBits) - 1);
  const nbSectors = d >>> hiBits;
  const offset = offHi * 4294967296 + (lo >>> 0);
  const length = (nbSectors + 1) * 512 - (offset % 512);
  return { offset, length };
}

export function encodeCompressed(offset: number, length: number, clusterBits: number): { hi: number; lo: number } {
  const x = 62 - (clusterBits - 8);
  const hiBits = x - 32;
  const nbSectors = Math.floor((offset + length - 1) / 512) - Math.floor(offset / 512);
  const hi = (L2_COMPRESSED | (nbSectors << hiBits) | offsetHi(offset)) >>> 0;
  return { hi, lo: offsetLo(offset) };
}

/** The host clusters a compressed cluster's data touches (each holds one reference for it). */
export function compressedClusters(offset: number, length: number, clusterBits: number): { first: number; count: number } {
  const cs = 2 ** clusterBits;
  const first = Math.floor(offset / cs);
  const last = Math.floor((offset + length - 1) / cs);
  return { first, count: last - first + 1 };
}

// ---------------------------------------------------------------------------------------
// Refcount block entries of width 2^order bits.

export function getRefcount(block: Uint8Array, dv: DataView, index: number, order: number): number {
  switch (order) {
    case 0:
      return (block[index >>> 3]! >>> (index & 7)) & 1;
    case 1:
      return (block[index >>> 2]! >>> ((index & 3) * 2)) & 3;
    case 2:
      return (block[index >>> 1]! >>> ((index & 1) * 4)) & 15;
    case 3:
      return block[index]!;
    case 4:
      return dv.getUint16(index * 2);
    case 5:
      return dv.getUint32(index * 4);
    default: {
      const hi = dv.getUint32(index * 8);
      const lo = dv.getUint32(index * 8 + 4);
      // Refcounts beyond 2^53 cannot be real; report them as the largest safe value.
      return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 4294967296 + lo;
    }
  }
}

export function setRefcount(block: Uint8Array, dv: DataView, index: number, order: number, v: number): void {
  switch (order) {
    case 0: {
      const s = index & 7;
      block[index >>> 3] = (block[index >>> 3]! & ~(1 << s)) | ((v & 1) << s);
      return;
    }
    case 1: {
      const s = (index & 3) * 2;
      block[index >>> 2] = (block[index >>> 2]! & ~(3 << s)) | ((v & 3) << s);
      return;
    }
    case 2: {
      const s = (index & 1) * 4;
      block[index >>> 1] = (block[index >>> 1]! & ~(15 << s)) | ((v & 15) << s);
      return;
    }
    case 3:
      block[index] = v;
      return;
    case 4:
      dv.setUint16(index * 2, v);
      return;
    case 5:
      dv.setUint32(index * 4, v);
      return;
    default:
      setU64(dv, index * 8, v);
  }
}

export function refcountMax(order: number): number {
  return order >= 6 ? Number.MAX_SAFE_INTEGER : 2 ** (2 ** order) - 1;
}

// ---------------------------------------------------------------------------------------
// Snapshot table (read only: we never create or delete snapshots).

export interface SnapshotEntry {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
}

/** Parse the snapshot table; validates every entry against the file. Returns the entries and the table's byte length. */
export async function readSnapshotTable(
  file: RandomAccessFile,
  h: Qcow2Header,
  fileSize: number,
): Promise<{ snapshots: SnapshotEntry[]; tableBytes: number }> {
  const snapshots: SnapshotEntry[] = [];
  if (h.nbSnapshots === 0) return { snapshots, tableBytes: 0 };
  const cs = 2 ** h.clusterBits;
  // Each entry is at most 40 + extra (<= 1 MiB we accept) + 2 * 65535 bytes; read in pieces.
  let pos = h.snapshotsOffset;
  let totalL1 = 0;
  const fixed = new Uint8Array(40);
  const fdv = new DataView(fixed.buffer);
  for (let i = 0; i < h.nbSnapshots; i++) {
    if (pos + 40 > fileSize) fail(`qcow2: snapshot table entry ${i} extends past the end of the file`);
    await file.read(pos, fixed);
    const l1TableOffset = getU64(fdv, 0);
    const l1Size = fdv.getUint32(8);
    const idLen = fdv.getUint16(12);
    const nameLen = fdv.getUint16(14);
    const extra = fdv.getUint32(36);
    if (extra > 1024) fail(`qcow2: snapshot ${i} has ${extra} bytes of extra data (too many)`);
    const rest = new Uint8Array(extra + idLen + nameLen);
    const varPos = pos + 40;
    if (varPos + rest.length > fileSize) fail(`qcow2: snapshot table entry ${i} extends past the end of the file`);
    await file.read(varPos, rest);
    if (l1TableOffset < 0 || l1TableOffset % cs !== 0) fail(`qcow2: snapshot ${i} L1 table offset is not aligned to a cluster`);
    if (l1Size * 8 > MAX_L1_BYTES) fail(`qcow2: snapshot ${i} L1 table is too large`);
    if (l1Size > 0 && (l1TableOffset === 0 || l1TableOffset + l1Size * 8 > fileSize)) {
      fail(`qcow2: snapshot ${i} L1 table lies outside the file`);
    }
    totalL1 += l1Size * 8;
    if (totalL1 > MAX_SNAPSHOT_L1_TOTAL) fail('qcow2: the snapshot L1 tables are too large in total');
    snapshots.push({
      l1TableOffset,
      l1Size,
      id: utf8.decode(rest.subarray(extra, extra + idLen)),
      name: utf8.decode(rest.subarray(extra + idLen)),
    });
    pos = varPos + rest.length;
    pos = Math.ceil(pos / 8) * 8;
  }
  return { snapshots, tableBytes: pos - h.snapshotsOffset };
}

export function headerInfo(h: Qcow2Header): Qcow2Info {
  return {
    version: h.version,
    clusterSize: 2 ** h.clusterBits,
    clusterBits: h.clusterBits,
    size: h.size,
    backingFile: h.backingFile,
    backingFormat: h.backingFile !== null ? h.backingFormat : null,
    incompatibleFeatures: h.incompatibleFeatures,
    compatibleFeatures: h.compatibleFeatures,
    autoclearFeatures: h.autoclearFeatures,
    refcountBits: 2 ** h.refcountOrder,
    dirty: (h.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n,
    corrupt: (h.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n,
    lazyRefcounts: (h.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) !== 0n,
    l1Size: h.l1Size,
    l1TableOffset: h.l1TableOffset,
    refcountTableOffset: h.refcountTableOffset,
    refcountTableClusters: h.refcountTableClusters,
    nbSnapshots: h.nbSnapshots,
    compressionType: 'zlib',
    featureNames: h.featureNames.map((f) => ({ ...f })),
  };
}

// ---------------------------------------------------------------------------------------
// Persistent bitmaps: we do not maintain them, but count (check) and free (first write)
// the clusters they hold.

/**
 * The host ranges referenced by the bitmaps extension (directory, bitmap tables, bitmap
 * data clusters; one range per reference), when the extension is present and marked
 * consistent by its autoclear bit. Invalid parts are reported in `errors` and skipped.
 */
export async function readBitmapRefs(
  file: RandomAccessFile,
  h: Qcow2Header,
  fileSize: number,
): Promise<{ ranges: { offset: number; bytes: number }[]; errors: string[] }> {
  const ranges: { offset: number; bytes: number }[] = [];
  const errors: string[] = [];
  if ((h.autoclearFeatures & AUTOCLEAR_BITMAPS) === 0n) return { ranges, errors };
  const ext = h.otherExtensions.find((e) => e.type === EXT_BITMAPS);
  if (!ext || ext.data.length < 24) return { ranges, errors };
  const cs = 2 ** h.clusterBits;
  const ev = new DataView(ext.data.buffer, ext.data.byteOffset, ext.data.byteLength);
  const nb = ev.getUint32(0);
  const dirSize = getU64(ev, 8);
  const dirOffset = getU64(ev, 16);
  if (dirSize < 0 || dirOffset < 0 || dirSize > 64 * 1024 * 1024 || dirOffset % cs !== 0 || dirOffset + dirSize > fileSize || nb > 65535) {
    errors.push('bitmap directory is invalid');
    return { ranges, errors };
  }
  ranges.push({ offset: dirOffset, bytes: dirSize });
  const dir = new Uint8Array(dirSize);
  await file.read(dirOffset, dir);
  const dv = new DataView(dir.buffer);
  let p = 0;
  for (let i = 0; i < nb && p + 24 <= dirSize; i++) {
    const tOff = getU64(dv, p);
    const tSize = dv.getUint32(p + 8);
    const nameSize = dv.getUint16(p + 18);
    const extraSize = dv.getUint32(p + 20);
    p = Math.ceil((p + 24 + extraSize + nameSize) / 8) * 8;
    if (tOff < 0 || tOff % cs !== 0 || tOff + tSize * 8 > fileSize || tSize * 8 > 64 * 1024 * 1024) {
      errors.push(`bitmap ${i} table is invalid`);
      continue;
    }
    ranges.push({ offset: tOff, bytes: tSize * 8 });
    const table = new Uint8Array(tSize * 8);
    await file.read(tOff, table);
    const tv = new DataView(table.buffer);
    for (let j = 0; j < tSize; j++) {
      const off = entryOffset(tv.getUint32(j * 8), tv.getUint32(j * 8 + 4));
      if (off !== 0) ranges.push({ offset: off, bytes: cs });
    }
  }
  return { ranges, errors };
}
