/**
 * qcow2 consistency check and repair (what `qemu-img check [-r leaks|all]` does):
 * count every reference to every host cluster (header, L1 tables of the active state and
 * of snapshots, L2 tables, data and compressed clusters, refcount table and blocks,
 * snapshot table, persistent bitmaps), compare with the stored refcounts, and check the
 * COPIED flags of the active tables.
 *
 * Repair writes refcounts equal to the references (leaks only, or everything) and fixes
 * COPIED flags. When a refcount that must change lives in a refcount block that does not
 * exist (or the refcount table is itself damaged), the refcount structures are rebuilt
 * whole at the end of the file and switched in with one header write after a sync; the
 * old structures simply become free space.
 */
import { UserError } from '../../machine/options.js';
import type { RandomAccessFile } from '../file.js';
import * as F from './format.js';
import { ClusterKind } from './format.js';
import type { CheckResult, RepairMode } from './types.js';

interface Fix {
  cluster: number;
  value: number;
}

export interface CheckOptions {
  /** After a successful repair, clear the dirty bit (and the corrupt bit for repair 'all'). */
  clearDirty: boolean;
}

export async function checkQcow2(file: RandomAccessFile, repair: RepairMode, opts: CheckOptions): Promise<CheckResult> {
  if (repair !== 'none' && file.readOnly) throw new UserError(`qcow2: cannot repair '${file.name}': it is open read-only`);
  const first = await checkPass(file, repair);
  if (repair === 'none' || (first.fixedLeaks === 0 && first.fixedCorruptions === 0 && !first.needHeaderClean)) {
    return first.result;
  }
  // Double check the repaired image, as qemu-img does.
  const second = await checkPass(file, 'none');
  const r = second.result;
  r.leaksFixed = first.fixedLeaks;
  r.corruptionsFixed = first.fixedCorruptions;
  r.messages = [...first.result.messages, ...r.messages];
  if (opts.clearDirty && r.corruptions === 0 && r.checkErrors === 0) {
    const { header } = await F.readHeader(file);
    let bits = header.incompatibleFeatures & ~F.INCOMPAT_DIRTY;
    if (repair === 'all') bits &= ~F.INCOMPAT_CORRUPT;
    if (bits !== header.incompatibleFeatures && header.version === 3) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, bits);
      await file.write(F.HDR_INCOMPAT, b);
      await file.sync();
    }
  }
  return r;
}

interface PassResult {
  result: CheckResult;
  fixedLeaks: number;
  fixedCorruptions: number;
  needHeaderClean: boolean;
}

async function checkPass(file: RandomAccessFile, repair: RepairMode): Promise<PassResult> {
  const { header: h, fileSize } = await F.readHeader(file);
  const cs = 2 ** h.clusterBits;
  const cb = h.clusterBits;
  const l2n = cs / 8;
  const rbn = (cs * 8) / 2 ** h.refcountOrder;
  const rmax = F.refcountMax(h.refcountOrder);
  const nbClusters = Math.ceil(fileSize / cs);
  const messages: string[] = [];
  let corruptions = 0;
  let checkErrors = 0;

  // References, saturating at 65535 (more than any refcount we could need to write).
  const refs = new Uint16Array(nbClusters);
  const addRef = (off: number, what: string): boolean => {
    const c = Math.floor(off / cs);
    if (c >= nbClusters || off < 0) {
      messages.push(`ERROR ${what} offset=${off.toString(16)}: cluster is outside the image`);
      corruptions++;
      return false;
    }
    if (refs[c]! < 0xffff) refs[c]!++;
    return true;
  };
  const addRange = (off: number, bytes: number, what: string): void => {
    if (bytes <= 0) return;
    const firstC = Math.floor(off / cs);
    const lastC = Math.floor((off + bytes - 1) / cs);
    for (let c = firstC; c <= lastC; c++) addRef(c * cs, what);
  };
  const readFull = async (pos: number, len: number): Promise<Uint8Array | null> => {
    const buf = new Uint8Array(len);
    const n = await file.read(pos, buf);
    return n === len ? buf : null;
  };

  addRef(0, 'header');

  // L1 tables: the active one and the snapshots'.
  const { snapshots, tableBytes } = await F.readSnapshotTable(file, h, fileSize);
  addRange(h.snapshotsOffset, tableBytes, 'snapshot table');
  const l1s = [{ offset: h.l1TableOffset, size: h.l1Size, active: true }];
  for (const s of snapshots) l1s.push({ offset: s.l1TableOffset, size: s.l1Size, active: false });

  let allocatedClusters = 0;
  let fragmentedClusters = 0;
  let compressedClusters = 0;
  let nextContiguous = 0;
  for (const l1 of l1s) {
    addRange(l1.offset, l1.size * 8, 'L1 table');
    if (l1.size === 0) continue;
    const table = await readFull(l1.offset, l1.size * 8);
    if (!table) {
      messages.push(`ERROR L1 table at ${F.hex(l1.offset)} extends past the end of the image`);
      corruptions++;
      continue;
    }
    const dv = new DataView(table.buffer);
    for (let i = 0; i < l1.size; i++) {
      const hi = dv.getUint32(i * 8);
      const lo = dv.getUint32(i * 8 + 4);
      const l2off = F.entryOffset(hi, lo);
      if (l2off === 0) continue;
      if (l2off % cs !== 0) {
        messages.push(`ERROR l2_offset=${l2off.toString(16)}: Table is not cluster aligned; L1 entry corrupted`);
        corruptions++;
        continue;
      }
      if (!addRef(l2off, 'l2_offset')) continue;
      const l2 = await readFull(l2off, cs);
      if (!l2) {
        messages.push(`ERROR l2_offset=${l2off.toString(16)}: L2 table extends past the end of the image`);
        corruptions++;
        continue;
      }
      const l2v = new DataView(l2.buffer);
      for (let j = 0; j < l2n; j++) {
        const ehi = l2v.getUint32(j * 8);
        const elo = l2v.getUint32(j * 8 + 4);
        const kind = F.classify(ehi, elo);
        switch (kind) {
          case ClusterKind.Compressed: {
            if (ehi & F.L2_COPIED) {
              messages.push(`ERROR: coffset=${F.hex(F.entryOffset(ehi, elo))}: copied flag must never be set for compressed clusters`);
              corruptions++;
            }
            const d = F.compressedDescriptor(ehi, elo, cb);
            const { first: fc, count } = F.compressedClusters(d.offset, d.length, cb);
            for (let c = fc; c < fc + count; c++) addRef(c * cs, 'compressed cluster');
            if (l1.active) {
              allocatedClusters++;
              compressedClusters++;
              fragmentedClusters++;
            }
            break;
          }
          case ClusterKind.Normal:
          case ClusterKind.ZeroAlloc: {
            const off = F.entryOffset(ehi, elo);
            if (off % cs !== 0 || off === 0) {
              messages.push(`ERROR offset=${off.toString(16)}: Cluster is not properly aligned; L2 entry corrupted.`);
              corruptions++;
              break;
            }
            addRef(off, 'offset');
            if (l1.active) {
              allocatedClusters++;
              if (nextContiguous !== 0 && off !== nextContiguous) fragmentedClusters++;
              nextContiguous = off + cs;
            }
            break;
          }
          default:
            break;
        }
      }
    }
  }

  // Refcount structures (remembered: a rebuild replaces them, so they lose their references).
  const refcountMeta: number[] = [];
  for (let c = Math.floor(h.refcountTableOffset / cs); c < h.refcountTableOffset / cs + h.refcountTableClusters; c++) {
    if (c < nbClusters) refcountMeta.push(c);
  }
  addRange(h.refcountTableOffset, h.refcountTableClusters * cs, 'refcount table');
  const rt = (await readFull(h.refcountTableOffset, h.refcountTableClusters * cs))!;
  const rtv = new DataView(rt.buffer);
  const rtEntries = rt.length / 8;
  /** Valid refcount block offsets by table index (0 = none or invalid). */
  const blocks = new Array<number>(rtEntries).fill(0);
  let refcountStructureBroken = false;
  for (let i = 0; i < rtEntries; i++) {
    const hi = rtv.getUint32(i * 8);
    const lo = rtv.getUint32(i * 8 + 4);
    if (hi === 0 && lo === 0) continue;
    const off = hi >= 0x200000 ? -1 : hi * 4294967296 + lo;
    if (off < 0 || off % cs !== 0) {
      messages.push(`ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      corruptions++;
      refcountStructureBroken = true;
      continue;
    }
    if (off + cs > fileSize || off === 0) {
      messages.push(`ERROR refcount block ${i} is outside image`);
      corruptions++;
      refcountStructureBroken = true;
      continue;
    }
    addRef(off, 'refcount block');
    refcountMeta.push(off / cs);
    blocks[i] = off;
  }

  const bitmaps = await F.readBitmapRefs(file, h, fileSize);
  for (const m of bitmaps.errors) {
    messages.push(`ERROR ${m}`);
    corruptions++;
  }
  for (const r of bitmaps.ranges) addRange(r.offset, r.bytes, 'bitmap');

  // Compare stored refcounts with references.
  const blockCache = new Map<number, { bytes: Uint8Array; view: DataView }>();
  const loadBlock = async (ti: number): Promise<{ bytes: Uint8Array; view: DataView } | null> => {
    const off = ti < rtEntries ? blocks[ti]! : 0;
    if (off === 0) return null;
    let b = blockCache.get(ti);
    if (!b) {
      const bytes = (await readFull(off, cs)) ?? new Uint8Array(cs);
      b = { bytes, view: new DataView(bytes.buffer) };
      blockCache.set(ti, b);
    }
    return b;
  };
  const fixes: Fix[] = [];
  let leaks = 0;
  let fixedLeaks = 0;
  let fixedCorruptions = 0;
  let highest = -1;
  // Clusters covered by an existing block, plus every cluster of the file.
  let maxCluster = nbClusters;
  for (let i = 0; i < rtEntries; i++) if (blocks[i]! !== 0) maxCluster = Math.max(maxCluster, (i + 1) * rbn);
  for (let ti = 0; ti * rbn < maxCluster; ti++) {
    const b = await loadBlock(ti);
    const cEnd = Math.min(maxCluster, (ti + 1) * rbn);
    if (!b && (ti + 1) * rbn > nbClusters && ti * rbn >= nbClusters) continue;
    for (let c = ti * rbn; c < cEnd; c++) {
      const ref = c < nbClusters ? refs[c]! : 0;
      if (ref > 0) highest = c;
      const disk = b ? F.getRefcount(b.bytes, b.view, c % rbn, h.refcountOrder) : 0;
      if (disk === ref) continue;
      const fix = repair === 'all' || (repair === 'leaks' && disk > ref);
      if (disk > ref) {
        leaks++;
        messages.push(`Leaked cluster ${c} refcount=${disk} reference=${ref}`);
        if (fix) fixedLeaks++;
      } else {
        corruptions++;
        messages.push(`ERROR cluster ${c} refcount=${disk} reference=${ref}`);
        if (fix) fixedCorruptions++;
      }
      if (fix) {
        messages.push(`Repairing cluster ${c} refcount=${disk} reference=${ref}`);
        fixes.push({ cluster: c, value: ref });
      }
    }
  }

  if (fixes.length > 0) {
    for (const f of fixes) {
      if (f.value > rmax) {
        messages.push(`ERROR cluster ${f.cluster}: refcount ${f.value} does not fit in ${2 ** h.refcountOrder} bits`);
        checkErrors++;
        f.value = rmax;
      }
    }
    let inPlace = !refcountStructureBroken;
    if (inPlace) {
      for (const f of fixes) {
        const ti = Math.floor(f.cluster / rbn);
        if (f.value > 0 && (ti >= rtEntries || blocks[ti] === 0)) {
          inPlace = false;
          break;
        }
      }
    }
    if (inPlace) {
      const touched = new Set<number>();
      for (const f of fixes) {
        const ti = Math.floor(f.cluster / rbn);
        const b = await loadBlock(ti);
        if (!b) continue; // value 0 in a missing block: already 0
        F.setRefcount(b.bytes, b.view, f.cluster % rbn, h.refcountOrder, f.value);
        touched.add(ti);
      }
      for (const ti of touched) await file.write(blocks[ti]!, blockCache.get(ti)!.bytes);
      await file.sync();
    } else {
      messages.push('Rebuilding refcount structure');
      const newRefs = refs.slice();
      for (const c of refcountMeta) if (newRefs[c]! > 0) newRefs[c]!--;
      await rebuildRefcounts(file, h, newRefs, nbClusters);
    }
  }

  // COPIED flags of the active tables, against the refcounts now on disk.
  let copiedFixes = 0;
  if (h.l1Size > 0) {
    const now = await refcountReader(file);
    const l1 = await readFull(h.l1TableOffset, h.l1Size * 8);
    if (l1) {
      const dv = new DataView(l1.buffer);
      for (let i = 0; i < h.l1Size; i++) {
        let hi = dv.getUint32(i * 8);
        let lo = dv.getUint32(i * 8 + 4);
        const l2off = F.entryOffset(hi, lo);
        const reserved = (hi & F.L1_RESERVED_HI) !== 0 || (lo & F.L1_RESERVED_LO) !== 0 || (l2off === 0 && (hi !== 0 || lo !== 0));
        if (reserved) {
          const fix = repair === 'all';
          const entryHex = ((BigInt(hi) << 32n) | BigInt(lo)).toString(16);
          messages.push(`${fix ? 'Repairing' : 'ERROR'} L1 entry ${i} (${entryHex}) has reserved bits set`);
          corruptions++;
          if (fix) {
            hi = l2off === 0 ? 0 : F.offsetHi(l2off) | (hi & F.L2_COPIED);
            lo = F.offsetLo(l2off);
            const b = new Uint8Array(8);
            const bv = new DataView(b.buffer);
            bv.setUint32(0, hi >>> 0);
            bv.setUint32(4, lo);
            await file.write(h.l1TableOffset + i * 8, b);
            fixedCorruptions++;
            copiedFixes++;
          }
        }
        if (l2off === 0 || l2off % cs !== 0 || l2off + cs > fileSize) continue;
        const rc = await now(l2off / cs);
        const copied = (hi & F.L2_COPIED) !== 0;
        if ((rc === 1) !== copied) {
          const fix = repair === 'all';
          messages.push(
            `${fix ? 'Repairing' : 'ERROR'} OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${((BigInt(hi) << 32n) | BigInt(lo)).toString(16)} refcount=${rc}`,
          );
          corruptions++;
          if (fix) {
            const nhi = rc === 1 ? (hi | F.L2_COPIED) >>> 0 : (hi & ~F.L2_COPIED) >>> 0;
            const b = new Uint8Array(8);
            const bv = new DataView(b.buffer);
            bv.setUint32(0, nhi);
            bv.setUint32(4, lo);
            await file.write(h.l1TableOffset + i * 8, b);
            fixedCorruptions++;
            copiedFixes++;
          }
        }
        const l2 = await readFull(l2off, cs);
        if (!l2) continue;
        const l2v = new DataView(l2.buffer);
        let dirty = false;
        for (let j = 0; j < l2n; j++) {
          const ehi = l2v.getUint32(j * 8);
          const elo = l2v.getUint32(j * 8 + 4);
          const kind = F.classify(ehi, elo);
          if (kind !== ClusterKind.Normal && kind !== ClusterKind.ZeroAlloc) continue;
          const off = F.entryOffset(ehi, elo);
          if (off % cs !== 0 || off === 0 || off >= nbClusters * cs) continue;
          const drc = await now(off / cs);
          const dcopied = (ehi & F.L2_COPIED) !== 0;
          if ((drc === 1) !== dcopied) {
            const fix = repair === 'all';
            const entryHex = (BigInt(ehi) << 32n) | BigInt(elo);
            messages.push(`${fix ? 'Repairing' : 'ERROR'} OFLAG_COPIED data cluster: l2_entry=${entryHex.toString(16)} refcount=${drc}`);
            corruptions++;
            if (fix) {
              l2v.setUint32(j * 8, drc === 1 ? (ehi | F.L2_COPIED) >>> 0 : (ehi & ~F.L2_COPIED) >>> 0);
              dirty = true;
              fixedCorruptions++;
              copiedFixes++;
            }
          }
        }
        if (dirty) await file.write(l2off, l2);
      }
      if (copiedFixes > 0) await file.sync();
    }
  }

  const needHeaderClean =
    repair !== 'none' && (h.incompatibleFeatures & (F.INCOMPAT_DIRTY | (repair === 'all' ? F.INCOMPAT_CORRUPT : 0n))) !== 0n;
  return {
    result: {
      corruptions,
      leaks,
      checkErrors,
      corruptionsFixed: fixedCorruptions,
      leaksFixed: fixedLeaks,
      imageEndOffset: (highest + 1) * cs,
      allocatedClusters,
      totalClusters: Math.ceil(h.size / cs),
      fragmentedClusters,
      compressedClusters,
      messages,
    },
    fixedLeaks,
    fixedCorruptions,
    needHeaderClean,
  };
}

/** Reads stored refcounts of the image as it is on disk now. */
async function refcountReader(file: RandomAccessFile): Promise<(cluster: number) => Promise<number>> {
  const { header: h, fileSize } = await F.readHeader(file);
  const cs = 2 ** h.clusterBits;
  const rbn = (cs * 8) / 2 ** h.refcountOrder;
  const rt = new Uint8Array(h.refcountTableClusters * cs);
  await file.read(h.refcountTableOffset, rt);
  const rtv = new DataView(rt.buffer);
  const cache = new Map<number, { bytes: Uint8Array; view: DataView }>();
  return async (cluster: number): Promise<number> => {
    const ti = Math.floor(cluster / rbn);
    if (ti >= rt.length / 8) return 0;
    const hi = rtv.getUint32(ti * 8);
    const lo = rtv.getUint32(ti * 8 + 4);
    const off = hi * 4294967296 + lo;
    if (off === 0 || off % cs !== 0 || off + cs > fileSize) return 0;
    let b = cache.get(ti);
    if (!b) {
      const bytes = new Uint8Array(cs);
      await file.read(off, bytes);
      b = { bytes, view: new DataView(bytes.buffer) };
      if (cache.size > 256) cache.clear();
      cache.set(ti, b);
    }
    return F.getRefcount(b.bytes, b.view, cluster % rbn, h.refcountOrder);
  };
}

/**
 * Write a complete new refcount table and blocks after the end of the file, holding
 * `refs` plus their own clusters, then switch the header to them. Crash safe: the new
 * structures are durable before the (single-sector) header switch.
 */
async function rebuildRefcounts(file: RandomAccessFile, h: F.Qcow2Header, refs: Uint16Array, nbClusters: number): Promise<void> {
  const cs = 2 ** h.clusterBits;
  const rbn = (cs * 8) / 2 ** h.refcountOrder;
  const base = nbClusters;
  let extra = 0;
  let nb = 0;
  let rtc = 0;
  for (;;) {
    nb = Math.ceil((base + extra) / rbn);
    rtc = Math.ceil((nb * 8) / cs);
    if (nb + rtc === extra) break;
    extra = nb + rtc;
  }
  if (rtc * cs > F.MAX_REFTABLE_BYTES) throw new UserError('qcow2: cannot rebuild refcounts: the refcount table would be too large');
  const rtStart = base;
  const blocksStart = base + rtc;
  const rt = new Uint8Array(rtc * cs);
  const rtv = new DataView(rt.buffer);
  const value = (c: number): number => (c < nbClusters ? refs[c]! : c < base + extra ? 1 : 0);
  for (let ti = 0; ti < nb; ti++) {
    const bytes = new Uint8Array(cs);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < rbn; k++) {
      const v = value(ti * rbn + k);
      if (v !== 0) F.setRefcount(bytes, view, k, h.refcountOrder, Math.min(v, F.refcountMax(h.refcountOrder)));
    }
    const off = (blocksStart + ti) * cs;
    await file.write(off, bytes);
    F.setU64(rtv, ti * 8, off);
  }
  await file.write(rtStart * cs, rt);
  await file.sync();
  const hb = new Uint8Array(12);
  const hv = new DataView(hb.buffer);
  F.setU64(hv, 0, rtStart * cs);
  hv.setUint32(8, rtc);
  await file.write(F.HDR_REFCOUNT_TABLE, hb);
  await file.sync();
}
