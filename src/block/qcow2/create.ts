/**
 * Creating an empty qcow2 image, laid out as qemu-img does: header cluster, refcount
 * table, refcount blocks (16-bit refcounts), then a zeroed L1 table large enough for the
 * virtual size. Every cluster of that metadata is counted by the refcount blocks.
 */
import { UserError } from '../../machine/options.js';
import type { RandomAccessFile } from '../file.js';
import * as F from './format.js';
import type { Qcow2CreateOptions } from './types.js';

export async function createQcow2(file: RandomAccessFile, opts: Qcow2CreateOptions): Promise<void> {
  if (!Number.isSafeInteger(opts.size) || opts.size < 0) throw new UserError(`qcow2: invalid image size ${opts.size}`);
  // As qemu-img: the virtual size is a whole number of 512-byte sectors.
  const size = Math.ceil(opts.size / 512) * 512;
  const cs = opts.clusterSize ?? 65536;
  if (!Number.isInteger(cs) || cs < 512 || cs > 2 * 1024 * 1024 || (cs & (cs - 1)) !== 0) {
    throw new UserError('Cluster size must be a power of two between 512 and 2048k');
  }
  const compat = opts.compat ?? '1.1';
  if (compat !== '0.10' && compat !== '1.1') throw new UserError(`qcow2: invalid compat level '${String(compat)}'`);
  const version = compat === '0.10' ? 2 : 3;
  if (opts.lazyRefcounts && version === 2) throw new UserError('Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)');
  if (opts.backingFormat !== undefined && opts.backingFile === undefined) {
    throw new UserError('qcow2: a backing format needs a backing file');
  }
  if (opts.backingFile !== undefined && opts.backingFile === '') throw new UserError('qcow2: empty backing file name');
  const cb = Math.log2(cs);
  const l2n = cs / 8;
  const l1Size = Math.ceil(size / (cs * l2n));
  if (l1Size * 8 > F.MAX_L1_BYTES) throw new UserError(`qcow2: image size ${size} is too large for ${cs}-byte clusters`);

  const refcountOrder = 4;
  const rbn = (cs * 8) / 16;
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  let rtc = 1;
  let nbk = 1;
  for (;;) {
    const total = 1 + rtc + nbk + l1Clusters;
    const nbk2 = Math.ceil(total / rbn);
    const rtc2 = Math.max(1, Math.ceil((nbk2 * 8) / cs));
    if (nbk2 === nbk && rtc2 === rtc) break;
    nbk = nbk2;
    rtc = rtc2;
  }
  const rtOffset = cs;
  const blocksOffset = (1 + rtc) * cs;
  const l1Offset = (1 + rtc + nbk) * cs;
  const totalClusters = 1 + rtc + nbk + l1Clusters;

  const h: F.Qcow2Header = {
    version,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits: cb,
    size,
    cryptMethod: 0,
    l1Size,
    l1TableOffset: l1Offset,
    refcountTableOffset: rtOffset,
    refcountTableClusters: rtc,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: 0n,
    compatibleFeatures: opts.lazyRefcounts ? F.COMPAT_LAZY_REFCOUNTS : 0n,
    autoclearFeatures: 0n,
    refcountOrder,
    headerLength: version === 3 ? F.V3_HEADER_LENGTH : F.V2_HEADER_LENGTH,
    compressionType: 0,
    extraFields: new Uint8Array(version === 3 ? F.V3_HEADER_LENGTH - F.V3_MIN_HEADER_LENGTH : 0),
    backingFile: opts.backingFile ?? null,
    backingFormat: opts.backingFormat ?? null,
    featureNames: F.FEATURE_NAMES_WE_WRITE.map((f) => ({ ...f })),
    otherExtensions: [],
    hasFeatureTable: version === 3, // as qemu-img: version 2 images carry no feature name table
  };
  const header = F.serializeHeader(h);

  await file.truncate(0);
  const c0 = new Uint8Array(cs);
  c0.set(header);
  await file.write(0, c0);
  const rt = new Uint8Array(rtc * cs);
  const rtv = new DataView(rt.buffer);
  for (let i = 0; i < nbk; i++) F.setU64(rtv, i * 8, blocksOffset + i * cs);
  await file.write(rtOffset, rt);
  for (let i = 0; i < nbk; i++) {
    const b = new Uint8Array(cs);
    const bv = new DataView(b.buffer);
    for (let k = 0; k < rbn; k++) {
      const c = i * rbn + k;
      if (c >= totalClusters) break;
      F.setRefcount(b, bv, k, refcountOrder, 1);
    }
    await file.write(blocksOffset + i * cs, b);
  }
  if (l1Clusters > 0) await file.write(l1Offset, new Uint8Array(l1Clusters * cs));
  await file.truncate(totalClusters * cs);
  await file.sync();
}
