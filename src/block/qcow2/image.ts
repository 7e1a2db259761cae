/**
 * A qcow2 image as a BlockBackend (QEMU docs/interop/qcow2.txt): two-level L1/L2
 * cluster mapping, two-level refcounts of any width, copy-on-write from a backing image,
 * zero clusters, compressed clusters, lazy refcounts (dirty bit), internal snapshots
 * honoured through refcounts and the COPIED flag (a cluster is written in place only
 * when its refcount is exactly one).
 *
 * Memory is bounded: the L1 table and the refcount table live in memory (both capped by
 * the header validation, 32 MiB and 8 MiB as in QEMU); L2 tables and refcount blocks go
 * through bounded LRU caches.
 *
 * Crash safety. Guest data is written straight to newly allocated clusters; metadata is
 * cached and written back by flush() in an order that keeps the image consistent at
 * every instant (a crash may leak clusters, never corrupt):
 *   A. refcount blocks (increments), new refcount table entries, or a whole moved
 *      refcount table followed by its header switch; then sync. After this point every
 *      cluster that B and C are about to reference has a durable refcount, and all guest
 *      data written so far is durable.
 *   B. L2 tables (new ones and modified ones); then sync, so that no L1 entry written in C
 *      can point at an L2 table whose contents are not yet on disk.
 *   C. L1 entries, or a whole moved L1 table followed by its header switch; then sync.
 *   D. deferred refcount decrements (clusters whose last reference was removed in B/C:
 *      discarded data, copied-on-write clusters, old L2 tables, old tables); then sync.
 *      Decrements are never written before the removal of the reference is durable.
 * Allocation only appends after everything allocated so far (freed clusters are not
 * reused while the image is open), so a cluster freed in D can never be referenced again
 * before its decrement is durable. Dirty tables are never evicted from the caches; when a
 * cache is over its bound, the operation that filled it ends with a flush.
 *
 * With lazy refcounts the image is marked dirty (incompatible bit 0, synced) before the
 * first modification and marked clean on close after a complete flush; opening a dirty
 * image read-write first rebuilds the refcounts (check with repair).
 */
import { UserError } from '../../machine/options.js';
import { type BlockBackend, BlockError, checkAccess } from '../backend.js';
import type { RandomAccessFile } from '../file.js';
import { newTable, type Table, TableCache } from './cache.js';
import * as F from './format.js';
import { ClusterKind } from './format.js';
import { deflateRaw, inflateRaw, InflateError } from './inflate.js';
import type { CheckResult, MapExtent, Qcow2Info, RepairMode } from './types.js';
import { checkQcow2 } from './check.js';

const L2_CACHE_BYTES = 32 * 1024 * 1024;
const REFBLOCK_CACHE_BYTES = 4 * 1024 * 1024;
const MIN_CACHE_TABLES = 16;
/** Flush when this many refcount decrements are waiting. */
const MAX_PENDING_FREES = 65536;

function corrupt(msg: string): never {
  throw new BlockError('io', `qcow2: corrupt image: ${msg}`);
}

/** Serializes operations: metadata caches and the allocator are shared state. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

export interface Qcow2OpenOptions {
  readOnly: boolean;
  /** The already-opened backing image (the caller opens the chain and detects loops), or null. The image owns it and closes it on close(). */
  backing: BlockBackend | null;
}

export class Qcow2Image implements BlockBackend {
  readonly readOnly: boolean;
  private readonly cs: number;
  private readonly cb: number;
  /** Entries per L2 table. */
  private readonly l2n: number;
  /** Entries per refcount block. */
  private readonly rbn: number;
  private readonly rorder: number;
  private readonly rmax: number;

  private l1 = new Uint8Array(0);
  private l1v = new DataView(this.l1.buffer);
  private readonly l1Dirty = new Set<number>();
  /** The L1 table was moved (resize): write it whole, then switch the header. */
  private l1Moved = false;
  private rt = new Uint8Array(0);
  private rtv = new DataView(this.rt.buffer);
  private rtEntries = 0;
  private readonly rtDirty = new Set<number>();
  /** The refcount table was moved (grown): write it whole, then switch the header. */
  private rtMoved = false;

  private readonly l2Cache: TableCache;
  private readonly rbCache: TableCache;
  /** Next cluster index the allocator tries (clusters are appended, never reused while open). */
  private nextCluster: number;
  /** Host clusters whose refcount is decremented in flush phase D. */
  private pendingFree: number[] = [];
  /** Host clusters holding metadata: a data write there means a corrupt image. */
  private readonly metadata = new Set<number>();
  /** End of the last compressed data written, for packing the next one behind it. */
  private compressedEnd = 0;
  private decompCache: { hi: number; lo: number; data: Uint8Array } | null = null;
  private unsynced = false;
  private modified = false;
  private setDirtyBit = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly lock = new Mutex();

  private constructor(
    private readonly file: RandomAccessFile,
    private readonly h: F.Qcow2Header,
    fileSize: number,
    readOnly: boolean,
    private readonly backing: BlockBackend | null,
  ) {
    this.readOnly = readOnly;
    this.cb = h.clusterBits;
    this.cs = 2 ** h.clusterBits;
    this.l2n = this.cs / 8;
    this.rorder = h.refcountOrder;
    this.rbn = (this.cs * 8) / 2 ** h.refcountOrder;
    this.rmax = F.refcountMax(h.refcountOrder);
    this.l2Cache = new TableCache(Math.max(MIN_CACHE_TABLES, Math.floor(L2_CACHE_BYTES / this.cs)));
    this.rbCache = new TableCache(Math.max(MIN_CACHE_TABLES, Math.floor(REFBLOCK_CACHE_BYTES / this.cs)));
    this.nextCluster = Math.ceil(fileSize / this.cs);
  }

  /**
   * Open a qcow2 image. Throws UserError (one line) for anything unsupported or
   * inconsistent, without writing to the file. On success the image owns `file` and
   * `opts.backing`; on failure the caller still owns them.
   */
  static async open(file: RandomAccessFile, opts: Qcow2OpenOptions): Promise<Qcow2Image> {
    if (!opts.readOnly && file.readOnly) throw new UserError(`qcow2: '${file.name}' is open read-only`);
    let { header, fileSize } = await F.readHeader(file);
    if (!opts.readOnly && (header.incompatibleFeatures & F.INCOMPAT_CORRUPT) !== 0n) {
      throw new UserError('qcow2: image is corrupt; cannot be opened read/write');
    }
    if (!opts.readOnly && (header.incompatibleFeatures & F.INCOMPAT_DIRTY) !== 0n) {
      // Refcounts may be stale (lazy refcounts, crash): rebuild them before trusting them.
      const r = await checkQcow2(file, 'all', { clearDirty: true });
      if (r.corruptions > 0 || r.checkErrors > 0) {
        throw new UserError(`qcow2: image is dirty and could not be repaired (${r.corruptions} corruptions remain)`);
      }
      ({ header, fileSize } = await F.readHeader(file));
    }
    const img = new Qcow2Image(file, header, fileSize, opts.readOnly, opts.backing);
    await img.load(fileSize);
    return img;
  }

  /** Read just the header: for `info` and for opening backing chains. */
  static async readInfo(file: RandomAccessFile): Promise<Qcow2Info> {
    const { header } = await F.readHeader(file);
    return F.headerInfo(header);
  }

  static check(file: RandomAccessFile, repair: RepairMode): Promise<CheckResult> {
    return checkQcow2(file, repair, { clearDirty: true });
  }

  get info(): Qcow2Info {
    return F.headerInfo(this.h);
  }

  get length(): number {
    return this.h.size;
  }

  // ------------------------------------------------------------------------------------
  // Opening

  private async load(fileSize: number): Promise<void> {
    const h = this.h;
    const cs = this.cs;
    const inHeaderOrTables = (off: number): string | null => {
      if (off < cs) return 'the header';
      if (off < h.l1TableOffset + h.l1Size * 8 && off + cs > h.l1TableOffset) return 'the L1 table';
      const rtEnd = h.refcountTableOffset + h.refcountTableClusters * cs;
      if (off < rtEnd && off + cs > h.refcountTableOffset) return 'the refcount table';
      return null;
    };

    const refblocks = new Set<number>();
    this.rt = new Uint8Array(h.refcountTableClusters * cs);
    this.rtv = new DataView(this.rt.buffer);
    this.rtEntries = this.rt.length / 8;
    await this.readExact(h.refcountTableOffset, this.rt, 'refcount table');
    for (let i = 0; i < this.rtEntries; i++) {
      const hi = this.rtv.getUint32(i * 8);
      const lo = this.rtv.getUint32(i * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      const what = `refcount table entry ${i}`;
      if (lo & F.RT_RESERVED_LO) throw new UserError(`qcow2: ${what} has reserved bits set`);
      if (hi >= 0x200000) throw new UserError(`qcow2: ${what} points past the end of the file`);
      const off = hi * 4294967296 + lo;
      if (off % cs !== 0) throw new UserError(`qcow2: ${what} (${F.hex(off)}) is not aligned to a cluster`);
      const bad = inHeaderOrTables(off);
      if (bad) throw new UserError(`qcow2: ${what} (${F.hex(off)}) points into ${bad}`);
      if (off + cs > fileSize) throw new UserError(`qcow2: ${what} (${F.hex(off)}) points past the end of the file`);
      this.metadata.add(off / cs);
      refblocks.add(off / cs);
    }

    this.l1 = new Uint8Array(h.l1Size * 8);
    this.l1v = new DataView(this.l1.buffer);
    if (h.l1Size > 0) await this.readExact(h.l1TableOffset, this.l1, 'L1 table');
    for (let i = 0; i < h.l1Size; i++) {
      const hi = this.l1v.getUint32(i * 8);
      const lo = this.l1v.getUint32(i * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      const off = F.entryOffset(hi, lo);
      const what = `L1 entry ${i} (${F.hex(off)})`;
      if (hi & F.L1_RESERVED_HI || lo & F.L1_RESERVED_LO) throw new UserError(`qcow2: ${what} has reserved bits set`);
      if (off % cs !== 0) throw new UserError(`qcow2: ${what} is not aligned to a cluster`);
      const bad = inHeaderOrTables(off);
      if (bad) throw new UserError(`qcow2: ${what} points into ${bad}`);
      if (off + cs > fileSize) throw new UserError(`qcow2: ${what} points past the end of the file`);
      if (refblocks.has(off / cs)) throw new UserError(`qcow2: ${what} points into a refcount block`);
      this.metadata.add(off / cs);
    }

    this.metadata.add(0);
    this.addMetaRange(h.l1TableOffset, h.l1Size * 8);
    this.addMetaRange(h.refcountTableOffset, h.refcountTableClusters * cs);
    if (h.nbSnapshots > 0) {
      let snaps;
      try {
        snaps = await F.readSnapshotTable(this.file, h, fileSize);
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new UserError(`qcow2: cannot read the snapshot table: ${(e as Error).message}`);
      }
      this.addMetaRange(h.snapshotsOffset, snaps.tableBytes);
      // Inactive L1 tables are not tracked for overlap checks: their total size is not
      // bounded by anything but the file, and only a corrupt image points data at them.
    }
  }

  private addMetaRange(offset: number, bytes: number): void {
    if (bytes <= 0) return;
    const first = Math.floor(offset / this.cs);
    const last = Math.floor((offset + bytes - 1) / this.cs);
    for (let c = first; c <= last; c++) this.metadata.add(c);
  }

  private async readExact(pos: number, into: Uint8Array, what: string): Promise<void> {
    const n = await this.file.read(pos, into);
    if (n < into.length) throw new UserError(`qcow2: ${what} at ${F.hex(pos)} extends past the end of the file`);
  }

  // ------------------------------------------------------------------------------------
  // BlockBackend

  read(offset: number, into: Uint8Array): Promise<void> {
    try {
      checkAccess(this, offset, into.length, false, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(() => this.readLocked(offset, into));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    try {
      checkAccess(this, offset, data.length, true, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      await this.beginWrite();
      await this.writeLocked(offset, data);
      await this.maybeFlush();
    });
  }

  flush(): Promise<void> {
    try {
      checkAccess(this, 0, 0, false, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(() => this.flushLocked());
  }

  /**
   * Whole clusters in the range stop using storage: they become unallocated when nothing
   * shows through (no backing file, or beyond its end), zero clusters on version 3, and
   * stay as they are on version 2 with a backing file. Partial clusters are left alone.
   */
  discard(offset: number, length: number): Promise<void> {
    try {
      checkAccess(this, offset, length, true, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      await this.beginWrite();
      await this.zeroLocked(offset, length, 'discard');
      await this.maybeFlush();
    });
  }

  /** Write zeros efficiently (zero clusters on v3, unallocated clusters when nothing shows through, else allocated zeroes). */
  writeZeroes(offset: number, length: number): Promise<void> {
    try {
      checkAccess(this, offset, length, true, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      await this.beginWrite();
      await this.zeroLocked(offset, length, 'zero');
      await this.maybeFlush();
    });
  }

  /** Wait for queued operations, flush, mark clean, close the file and the backing image. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true; // later requests are refused; those already queued still run first
    this.closing = this.run(async () => {
      try {
        if (!this.readOnly) {
          await this.flushLocked();
          if (this.setDirtyBit) {
            this.h.incompatibleFeatures &= ~F.INCOMPAT_DIRTY;
            await this.writeIncompat();
            await this.file.sync();
            this.setDirtyBit = false;
          }
        }
      } finally {
        this.l2Cache.clear();
        this.rbCache.clear();
        await this.file.close();
        if (this.backing) await this.backing.close();
      }
    });
    return this.closing;
  }

  /** Run `fn` after every earlier operation; host errors become BlockError('io'). */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn).catch((e: unknown) => {
      if (e instanceof BlockError || e instanceof UserError) throw e;
      throw new BlockError('io', `qcow2: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  // ------------------------------------------------------------------------------------
  // Mapping helpers

  private l1Entry(i: number): { hi: number; lo: number } {
    return { hi: this.l1v.getUint32(i * 8), lo: this.l1v.getUint32(i * 8 + 4) };
  }

  private setL1(i: number, off: number): void {
    this.l1v.setUint32(i * 8, (F.offsetHi(off) | F.L2_COPIED) >>> 0);
    this.l1v.setUint32(i * 8 + 4, F.offsetLo(off));
    this.l1Dirty.add(i);
  }

  private rtGet(i: number): number {
    return this.rtv.getUint32(i * 8) * 4294967296 + ((this.rtv.getUint32(i * 8 + 4) & ~F.RT_RESERVED_LO) >>> 0);
  }

  private rtSet(i: number, off: number): void {
    this.rtv.setUint32(i * 8, F.offsetHi(off));
    this.rtv.setUint32(i * 8 + 4, F.offsetLo(off));
    this.rtDirty.add(i);
  }

  private async loadTable(cache: TableCache, off: number, what: string): Promise<Table> {
    const cached = cache.get(off);
    if (cached) return cached;
    if (off % this.cs !== 0 || off < this.cs) corrupt(`${what} offset ${F.hex(off)} is invalid`);
    const bytes = new Uint8Array(this.cs);
    const n = await this.file.read(off, bytes);
    if (n < this.cs) corrupt(`${what} at ${F.hex(off)} extends past the end of the file`);
    const t = newTable(off, bytes);
    cache.put(t);
    return t;
  }

  private loadL2(off: number): Promise<Table> {
    return this.loadTable(this.l2Cache, off, 'L2 table');
  }

  private loadRefblock(off: number): Promise<Table> {
    return this.loadTable(this.rbCache, off, 'refcount block');
  }

  private markDirty(cache: TableCache, t: Table): void {
    t.dirty = true;
    if (!cache.has(t.offset)) cache.put(t);
  }

  private async l2ForRead(l1i: number): Promise<Table | null> {
    if (l1i >= this.h.l1Size) return null;
    const { hi, lo } = this.l1Entry(l1i);
    const off = F.entryOffset(hi, lo);
    if (off === 0) return null;
    return this.loadL2(off);
  }

  /** The L2 table for `l1i`, allocated or copied (when shared with a snapshot) so it can be modified. */
  private async l2ForWrite(l1i: number): Promise<Table> {
    if (l1i >= this.h.l1Size) corrupt(`guest offset beyond the L1 table`);
    const { hi, lo } = this.l1Entry(l1i);
    const off = F.entryOffset(hi, lo);
    if (off === 0) {
      const noff = await this.allocClusters(1);
      const t = newTable(noff, new Uint8Array(this.cs));
      t.dirty = true;
      this.l2Cache.put(t);
      this.metadata.add(noff / this.cs);
      this.setL1(l1i, noff);
      return t;
    }
    const t = await this.loadL2(off);
    if (hi & F.L2_COPIED) return t;
    const rc = await this.refcountOf(off / this.cs);
    if (rc === 0) corrupt(`L2 table at ${F.hex(off)} has refcount 0`);
    if (rc === 1) {
      this.setL1(l1i, off);
      return t;
    }
    // Shared with a snapshot: copy it. The data clusters keep their refcounts (the copy
    // takes over the active table's references) but are no longer exclusively ours.
    const noff = await this.allocClusters(1);
    const copy = t.bytes.slice();
    const nt = newTable(noff, copy);
    for (let i = 0; i < this.l2n; i++) {
      nt.view.setUint32(i * 8, (nt.view.getUint32(i * 8) & ~F.L2_COPIED) >>> 0);
    }
    nt.dirty = true;
    this.l2Cache.put(nt);
    this.metadata.add(noff / this.cs);
    this.setL1(l1i, noff);
    this.pendingFree.push(off / this.cs);
    return nt;
  }

  private dataOffset(hi: number, lo: number): number {
    const off = F.entryOffset(hi, lo);
    if (off % this.cs !== 0 || off < this.cs) corrupt(`data cluster offset ${F.hex(off)} is invalid`);
    return off;
  }

  // ------------------------------------------------------------------------------------
  // Refcounts and allocation

  private async refcountOf(cluster: number): Promise<number> {
    const ti = Math.floor(cluster / this.rbn);
    if (ti >= this.rtEntries) return 0;
    const rb = this.rtGet(ti);
    if (rb === 0) return 0;
    const t = await this.loadRefblock(rb);
    return F.getRefcount(t.bytes, t.view, cluster % this.rbn, this.rorder);
  }

  private async updateRefcount(cluster: number, delta: number): Promise<void> {
    let ti = Math.floor(cluster / this.rbn);
    if (ti >= this.rtEntries) {
      if (delta < 0) corrupt(`refcount decrement of unreferenced cluster ${cluster}`);
      await this.growRefcountTable(ti);
      ti = Math.floor(cluster / this.rbn);
    }
    let rb = this.rtGet(ti);
    if (rb === 0) {
      if (delta < 0) corrupt(`refcount decrement of unreferenced cluster ${cluster}`);
      // A new refcount block, placed at the next free cluster; its own refcount may live in
      // itself (when it covers its own position) or in another block (recursively).
      const bc = await this.findFree(1);
      this.nextCluster = bc + 1;
      const t = newTable(bc * this.cs, new Uint8Array(this.cs));
      t.dirty = true;
      this.rbCache.put(t);
      this.metadata.add(bc);
      this.rtSet(ti, bc * this.cs);
      await this.updateRefcount(bc, 1);
      rb = bc * this.cs;
    }
    const t = await this.loadRefblock(rb);
    const idx = cluster % this.rbn;
    const v = F.getRefcount(t.bytes, t.view, idx, this.rorder);
    const nv = v + delta;
    if (nv < 0) corrupt(`refcount of cluster ${cluster} would drop below zero`);
    if (nv > this.rmax) throw new BlockError('io', `qcow2: refcount overflow for cluster ${cluster} (${this.rmax} is the maximum)`);
    F.setRefcount(t.bytes, t.view, idx, this.rorder, nv);
    this.markDirty(this.rbCache, t);
  }

  /** First run of `n` clusters with refcount 0 at or after nextCluster. */
  private async findFree(n: number): Promise<number> {
    let start = this.nextCluster;
    for (let c = start; c < start + n; ) {
      if ((await this.refcountOf(c)) !== 0) {
        start = c + 1;
        c = start;
      } else {
        c++;
      }
    }
    return start;
  }

  /** Allocate `n` contiguous clusters (refcount 1); returns the host offset. */
  private async allocClusters(n: number): Promise<number> {
    const start = await this.findFree(n);
    this.nextCluster = start + n;
    for (let c = start; c < start + n; c++) await this.updateRefcount(c, 1);
    return start * this.cs;
  }

  /**
   * Make room for refcount table index `minIndex`: a larger table at the end of the
   * file, covering its own clusters and the blocks they need. It reaches the disk in
   * flush phase A (table, sync, header switch); the old table is freed in phase D.
   */
  private async growRefcountTable(minIndex: number): Promise<void> {
    const cs = this.cs;
    const perCluster = cs / 8;
    let clusters = Math.max(this.h.refcountTableClusters * 2, Math.ceil((minIndex + 1) / perCluster));
    let start: number;
    for (;;) {
      start = await this.findFree(clusters);
      const maxCluster = start + clusters + Math.ceil(clusters / this.rbn) + 8;
      const needEntries = Math.max(minIndex + 1, Math.ceil(maxCluster / this.rbn) + 1);
      if (needEntries <= clusters * perCluster) break;
      clusters = Math.ceil(needEntries / perCluster);
    }
    if (clusters * cs > F.MAX_REFTABLE_BYTES) {
      throw new BlockError('io', 'qcow2: the refcount table would exceed its 8 MiB limit');
    }
    const oldFirst = this.h.refcountTableOffset / cs;
    const oldClusters = this.h.refcountTableClusters;
    const nrt = new Uint8Array(clusters * cs);
    nrt.set(this.rt);
    this.rt = nrt;
    this.rtv = new DataView(nrt.buffer);
    this.rtEntries = nrt.length / 8;
    this.h.refcountTableOffset = start * cs;
    this.h.refcountTableClusters = clusters;
    this.rtMoved = true;
    this.nextCluster = start + clusters;
    for (let c = start; c < start + clusters; c++) {
      this.metadata.add(c);
      await this.updateRefcount(c, 1);
    }
    for (let c = oldFirst; c < oldFirst + oldClusters; c++) this.pendingFree.push(c);
  }

  /** Defer dropping the references an L2 entry held (phase D of flush). */
  private release(hi: number, lo: number): void {
    const kind = F.classify(hi, lo);
    if (kind === ClusterKind.Normal || kind === ClusterKind.ZeroAlloc) {
      const off = F.entryOffset(hi, lo);
      if (off !== 0) this.pendingFree.push(off / this.cs);
    } else if (kind === ClusterKind.Compressed) {
      const d = F.compressedDescriptor(hi, lo, this.cb);
      const { first, count } = F.compressedClusters(d.offset, d.length, this.cb);
      for (let c = first; c < first + count; c++) this.pendingFree.push(c);
      if (this.decompCache && this.decompCache.hi === hi && this.decompCache.lo === lo) this.decompCache = null;
    }
  }

  // ------------------------------------------------------------------------------------
  // Writing back

  private async fwrite(pos: number, data: Uint8Array): Promise<void> {
    this.unsynced = true;
    await this.file.write(pos, data);
  }

  private async barrier(): Promise<void> {
    if (!this.unsynced) return;
    this.unsynced = false;
    await this.file.sync();
  }

  private async writeIncompat(): Promise<void> {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, this.h.incompatibleFeatures);
    await this.fwrite(F.HDR_INCOMPAT, b);
  }

  /** Before the first modification: clear autoclear bits we do not maintain, mark dirty with lazy refcounts. */
  private async beginWrite(): Promise<void> {
    if (this.modified) return;
    this.modified = true;
    if (this.h.version !== 3) return;
    let changed = false;
    if (this.h.autoclearFeatures !== 0n) {
      // Features we do not maintain must be invalidated before we write (spec: autoclear).
      // Persistent bitmaps would become stale: drop them and free their clusters (after
      // the header no longer references them) rather than leave leaked clusters behind.
      const bitmaps = await F.readBitmapRefs(this.file, this.h, await this.file.size());
      const hadBitmaps = this.h.otherExtensions.some((e) => e.type === F.EXT_BITMAPS);
      this.h.autoclearFeatures = 0n;
      if (hadBitmaps && bitmaps.errors.length === 0) {
        const oldLen = F.serializeHeader(this.h).length;
        this.h.otherExtensions = this.h.otherExtensions.filter((e) => e.type !== F.EXT_BITMAPS);
        const bytes = F.serializeHeader(this.h);
        const out = new Uint8Array(Math.max(oldLen, bytes.length));
        out.set(bytes);
        await this.fwrite(0, out);
        for (const r of bitmaps.ranges) {
          const first = Math.floor(r.offset / this.cs);
          const last = Math.floor((r.offset + Math.max(r.bytes, 1) - 1) / this.cs);
          for (let c = first; c <= last; c++) this.pendingFree.push(c);
        }
      } else {
        await this.fwrite(F.HDR_AUTOCLEAR, new Uint8Array(8));
      }
      changed = true;
    }
    if ((this.h.compatibleFeatures & F.COMPAT_LAZY_REFCOUNTS) !== 0n && (this.h.incompatibleFeatures & F.INCOMPAT_DIRTY) === 0n) {
      this.h.incompatibleFeatures |= F.INCOMPAT_DIRTY;
      await this.writeIncompat();
      this.setDirtyBit = true;
      changed = true;
    }
    if (changed) await this.barrier();
  }

  private async maybeFlush(): Promise<void> {
    if (this.l2Cache.overfull || this.rbCache.overfull || this.pendingFree.length > MAX_PENDING_FREES) {
      await this.flushLocked();
    }
  }

  private async writeEntryRuns(tableOffset: number, view: DataView, dirty: Set<number>): Promise<void> {
    const idx = [...dirty].sort((a, b) => a - b);
    dirty.clear();
    let i = 0;
    while (i < idx.length) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
      const first = idx[i]!;
      const count = idx[j]! - first + 1;
      await this.fwrite(tableOffset + first * 8, new Uint8Array(view.buffer, view.byteOffset + first * 8, count * 8).slice());
      i = j + 1;
    }
  }

  private async writeHeaderField(pos: number, build: (dv: DataView) => void, len: number): Promise<void> {
    const b = new Uint8Array(len);
    build(new DataView(b.buffer));
    await this.fwrite(pos, b);
  }

  private async flushLocked(): Promise<void> {
    if (this.readOnly) return;
    const cs = this.cs;
    // Phase A: refcount increments, new refcount blocks, the refcount table.
    for (const t of this.rbCache.dirtyTables()) {
      await this.fwrite(t.offset, t.bytes);
      t.dirty = false;
    }
    if (this.rtMoved) {
      await this.fwrite(this.h.refcountTableOffset, this.rt);
      await this.barrier();
      await this.writeHeaderField(
        F.HDR_REFCOUNT_TABLE,
        (dv) => {
          F.setU64(dv, 0, this.h.refcountTableOffset);
          dv.setUint32(8, this.h.refcountTableClusters);
        },
        12,
      );
      this.rtMoved = false;
      this.rtDirty.clear();
    } else if (this.rtDirty.size > 0) {
      await this.writeEntryRuns(this.h.refcountTableOffset, this.rtv, this.rtDirty);
    }
    // Guest data and refcounts must be durable before anything references them.
    await this.barrier();

    // Phase B: L2 tables.
    const l2s = this.l2Cache.dirtyTables();
    for (const t of l2s) {
      await this.fwrite(t.offset, t.bytes);
      t.dirty = false;
    }
    if (this.l1Moved || this.l1Dirty.size > 0) {
      await this.barrier();
      // Phase C: the L1 table.
      if (this.l1Moved) {
        await this.fwrite(this.h.l1TableOffset, this.l1);
        await this.barrier();
        await this.writeHeaderField(
          F.HDR_L1_SIZE,
          (dv) => {
            dv.setUint32(0, this.h.l1Size);
            F.setU64(dv, 4, this.h.l1TableOffset);
          },
          12,
        );
        this.l1Moved = false;
        this.l1Dirty.clear();
      } else {
        await this.writeEntryRuns(this.h.l1TableOffset, this.l1v, this.l1Dirty);
      }
    }
    await this.barrier();

    // Phase D: decrements, now that the references they drop are gone on disk.
    if (this.pendingFree.length > 0) {
      const frees = this.pendingFree;
      this.pendingFree = [];
      for (const c of frees) {
        // A refcount already at 0 means the image was inconsistent before we touched it:
        // leave it (never make it worse) rather than fail the flush.
        if ((await this.refcountOf(c)) === 0) continue;
        await this.updateRefcount(c, -1);
        if ((await this.refcountOf(c)) === 0) {
          this.metadata.delete(c);
          this.l2Cache.delete(c * cs);
          this.rbCache.delete(c * cs);
          if (this.compressedEnd % cs !== 0 && Math.floor(this.compressedEnd / cs) === c) this.compressedEnd = 0;
        }
      }
      for (const t of this.rbCache.dirtyTables()) {
        await this.fwrite(t.offset, t.bytes);
        t.dirty = false;
      }
      await this.barrier();
    }
  }

  // ------------------------------------------------------------------------------------
  // Reading

  private async readLocked(offset: number, into: Uint8Array): Promise<void> {
    const cs = this.cs;
    const end = offset + into.length;
    let pos = offset;
    while (pos < end) {
      const l1i = Math.floor(pos / cs / this.l2n);
      const tableEnd = Math.min(end, (l1i + 1) * this.l2n * cs);
      const t = await this.l2ForRead(l1i);
      if (!t) {
        await this.readUnallocated(pos, into.subarray(pos - offset, tableEnd - offset));
        pos = tableEnd;
        continue;
      }
      const v = t.view;
      while (pos < tableEnd) {
        const vc = Math.floor(pos / cs);
        let i = vc % this.l2n;
        const hi = v.getUint32(i * 8);
        const lo = v.getUint32(i * 8 + 4);
        const kind = F.classify(hi, lo);
        let runEnd = Math.min(tableEnd, (vc + 1) * cs);
        const dst = (): Uint8Array => into.subarray(pos - offset, runEnd - offset);
        switch (kind) {
          case ClusterKind.Unallocated:
            while (runEnd < tableEnd && F.classify(v.getUint32(++i * 8), v.getUint32(i * 8 + 4)) === ClusterKind.Unallocated) {
              runEnd = Math.min(tableEnd, runEnd + cs);
            }
            await this.readUnallocated(pos, dst());
            break;
          case ClusterKind.ZeroPlain:
          case ClusterKind.ZeroAlloc:
            for (;;) {
              if (runEnd >= tableEnd) break;
              const k = F.classify(v.getUint32(++i * 8), v.getUint32(i * 8 + 4));
              if (k !== ClusterKind.ZeroPlain && k !== ClusterKind.ZeroAlloc) break;
              runEnd = Math.min(tableEnd, runEnd + cs);
            }
            dst().fill(0);
            break;
          case ClusterKind.Normal: {
            const host = this.dataOffset(hi, lo);
            let next = host + cs;
            while (runEnd < tableEnd) {
              const h2 = v.getUint32(++i * 8);
              const l2 = v.getUint32(i * 8 + 4);
              if (F.classify(h2, l2) !== ClusterKind.Normal || F.entryOffset(h2, l2) !== next) break;
              runEnd = Math.min(tableEnd, runEnd + cs);
              next += cs;
            }
            const d = dst();
            const n = await this.file.read(host + (pos % cs), d);
            if (n < d.length) d.fill(0, n); // beyond the end of the file reads as zeros
            break;
          }
          case ClusterKind.Compressed: {
            const data = await this.decompress(hi, lo);
            dst().set(data.subarray(pos % cs, pos % cs + (runEnd - pos)));
            break;
          }
        }
        pos = runEnd;
      }
    }
  }

  private async readUnallocated(pos: number, dst: Uint8Array): Promise<void> {
    const b = this.backing;
    if (!b || pos >= b.length) {
      dst.fill(0);
      return;
    }
    const n = Math.min(dst.length, b.length - pos);
    await b.read(pos, dst.subarray(0, n));
    if (n < dst.length) dst.fill(0, n);
  }

  private async decompress(hi: number, lo: number): Promise<Uint8Array> {
    const c = this.decompCache;
    if (c && c.hi === hi && c.lo === lo) return c.data;
    const { offset, length } = F.compressedDescriptor(hi, lo, this.cb);
    if (offset < this.cs || offset >= F.MAX_VIRTUAL_SIZE) corrupt(`compressed cluster offset ${F.hex(offset)} is invalid`);
    const src = new Uint8Array(length);
    const n = await this.file.read(offset, src);
    const out = new Uint8Array(this.cs);
    let produced: number;
    try {
      produced = inflateRaw(src.subarray(0, n), out);
    } catch (e) {
      if (e instanceof InflateError) corrupt(`compressed cluster at ${F.hex(offset)}: ${e.message}`);
      throw e;
    }
    if (produced !== this.cs) corrupt(`compressed cluster at ${F.hex(offset)} decompresses to ${produced} bytes, not ${this.cs}`);
    this.decompCache = { hi, lo, data: out };
    return out;
  }

  /** The current contents of guest cluster `vc` described by entry (hi, lo), as a fresh cluster-sized buffer. */
  private async clusterContents(vc: number, hi: number, lo: number): Promise<Uint8Array> {
    const cs = this.cs;
    const buf = new Uint8Array(cs);
    switch (F.classify(hi, lo)) {
      case ClusterKind.Unallocated:
        await this.readUnallocated(vc * cs, buf.subarray(0, Math.max(0, Math.min(cs, this.h.size - vc * cs))));
        break;
      case ClusterKind.Normal: {
        const host = this.dataOffset(hi, lo);
        await this.file.read(host, buf);
        break;
      }
      case ClusterKind.Compressed:
        buf.set(await this.decompress(hi, lo));
        break;
      default:
        break; // zero clusters
    }
    return buf;
  }

  // ------------------------------------------------------------------------------------
  // Writing

  private async writeLocked(offset: number, data: Uint8Array): Promise<void> {
    const cs = this.cs;
    const end = offset + data.length;
    let pos = offset;
    while (pos < end) {
      const l1i = Math.floor(pos / cs / this.l2n);
      const tableEnd = Math.min(end, (l1i + 1) * this.l2n * cs);
      const t = await this.l2ForWrite(l1i);
      while (pos < tableEnd) pos = await this.writeStep(t, pos, tableEnd, data, offset);
    }
  }

  /** Write from `pos` into one run of clusters of table `t`; returns where the run ended. */
  private async writeStep(t: Table, pos: number, tableEnd: number, data: Uint8Array, dOff: number): Promise<number> {
    const cs = this.cs;
    const v = t.view;
    const vc = Math.floor(pos / cs);
    const i = vc % this.l2n;
    let hi = v.getUint32(i * 8);
    const lo = v.getUint32(i * 8 + 4);
    const kind = F.classify(hi, lo);
    let runEnd = Math.min(tableEnd, (vc + 1) * cs);

    if (kind === ClusterKind.Normal) {
      const host = this.dataOffset(hi, lo);
      if ((hi & F.L2_COPIED) === 0) {
        const rc = await this.refcountOf(host / cs);
        if (rc === 0) corrupt(`data cluster ${F.hex(host)} is referenced but has refcount 0`);
        if (rc === 1) {
          hi = (hi | F.L2_COPIED) >>> 0;
          v.setUint32(i * 8, hi);
          this.markDirty(this.l2Cache, t);
        }
      }
      if (hi & F.L2_COPIED) {
        if (this.metadata.has(host / cs)) corrupt(`data cluster ${F.hex(host)} overlaps metadata`);
        let next = host + cs;
        let j = i + 1;
        while (runEnd < tableEnd) {
          const h2 = v.getUint32(j * 8);
          const l2 = v.getUint32(j * 8 + 4);
          if ((h2 & F.L2_COPIED) === 0 || F.classify(h2, l2) !== ClusterKind.Normal || F.entryOffset(h2, l2) !== next) break;
          if (this.metadata.has(next / cs)) break;
          runEnd = Math.min(tableEnd, runEnd + cs);
          next += cs;
          j++;
        }
        await this.fwrite(host + (pos % cs), data.subarray(pos - dOff, runEnd - dOff));
        return runEnd;
      }
    }

    // New clusters: a run of entries that are not in-place writable (a shared standard
    // cluster is copied on its own).
    let n = 1;
    if (kind !== ClusterKind.Normal) {
      let j = i + 1;
      while (runEnd < tableEnd) {
        if (F.classify(v.getUint32(j * 8), v.getUint32(j * 8 + 4)) === ClusterKind.Normal) break;
        runEnd = Math.min(tableEnd, runEnd + cs);
        n++;
        j++;
      }
    }
    const host = await this.allocClusters(n);
    // Partial first/last clusters get the rest of their contents (backing, zeros, the old
    // shared or compressed data); whole clusters are written straight from `data`.
    let fullStart = 0;
    let fullEnd = n;
    if (pos % cs !== 0 || (n === 1 && runEnd < (vc + 1) * cs)) {
      const buf = await this.clusterContents(vc, hi, lo);
      const a = pos % cs;
      const b = Math.min(cs, runEnd - vc * cs);
      buf.set(data.subarray(pos - dOff, pos - dOff + (b - a)), a);
      await this.fwrite(host, buf);
      fullStart = 1;
    }
    if (n > fullStart && runEnd % cs !== 0) {
      const lvc = vc + n - 1;
      const li = i + n - 1;
      const buf = await this.clusterContents(lvc, v.getUint32(li * 8), v.getUint32(li * 8 + 4));
      buf.set(data.subarray(lvc * cs - dOff, runEnd - dOff), 0);
      await this.fwrite(host + (n - 1) * cs, buf);
      fullEnd = n - 1;
    }
    if (fullEnd > fullStart) {
      const gs = (vc + fullStart) * cs;
      await this.fwrite(host + fullStart * cs, data.subarray(gs - dOff, gs + (fullEnd - fullStart) * cs - dOff));
    }
    // The data is written; now point the entries at it.
    for (let k = 0; k < n; k++) {
      const e = (i + k) * 8;
      this.release(v.getUint32(e), v.getUint32(e + 4));
      const off = host + k * cs;
      v.setUint32(e, (F.offsetHi(off) | F.L2_COPIED) >>> 0);
      v.setUint32(e + 4, F.offsetLo(off));
    }
    this.markDirty(this.l2Cache, t);
    return runEnd;
  }

  /** True when guest range [s, e) of cluster entry (hi, lo) already reads as zeros. */
  private readsAsZero(kind: ClusterKind, s: number): boolean {
    if (kind === ClusterKind.ZeroPlain || kind === ClusterKind.ZeroAlloc) return true;
    if (kind === ClusterKind.Unallocated) return !this.backing || s >= this.backing.length;
    return false;
  }

  private async entryAt(vc: number): Promise<{ hi: number; lo: number }> {
    const t = await this.l2ForRead(Math.floor(vc / this.l2n));
    if (!t) return { hi: 0, lo: 0 };
    const i = vc % this.l2n;
    return { hi: t.view.getUint32(i * 8), lo: t.view.getUint32(i * 8 + 4) };
  }

  private async zeroLocked(offset: number, length: number, mode: 'zero' | 'discard'): Promise<void> {
    if (length === 0) return;
    const cs = this.cs;
    const end = offset + length;
    const a = Math.ceil(offset / cs) * cs;
    // The image's last, partial cluster counts as whole when the range reaches the end.
    const b = end >= this.h.size ? Math.ceil(end / cs) * cs : Math.floor(end / cs) * cs;
    const zeroPart = async (s: number, e: number): Promise<void> => {
      if (mode !== 'zero' || e <= s) return;
      const { hi, lo } = await this.entryAt(Math.floor(s / cs));
      if (this.readsAsZero(F.classify(hi, lo), s)) return;
      await this.writeLocked(s, new Uint8Array(e - s));
    };
    if (a >= b) {
      // No whole cluster: at most the tail of one cluster and the head of the next.
      await zeroPart(offset, Math.min(a, end));
      if (end > a) await zeroPart(a, end);
      return;
    }
    await zeroPart(offset, Math.min(a, end));
    if (b < end) await zeroPart(b, end);

    // Whole clusters [a, b).
    const backingLen = this.backing ? this.backing.length : 0;
    const zeroWrites: [number, number][] = [];
    let pos = a;
    while (pos < b) {
      const l1i = Math.floor(pos / cs / this.l2n);
      const tableEnd = Math.min(b, (l1i + 1) * this.l2n * cs);
      const needTable = pos < backingLen && (this.h.version === 3 || mode === 'zero');
      const { hi: l1hi, lo: l1lo } = this.l1Entry(l1i);
      if (F.entryOffset(l1hi, l1lo) === 0 && !needTable) {
        pos = tableEnd;
        continue;
      }
      const t = await this.l2ForWrite(l1i);
      const v = t.view;
      for (; pos < tableEnd; pos += cs) {
        const i = Math.floor(pos / cs) % this.l2n;
        const hi = v.getUint32(i * 8);
        const lo = v.getUint32(i * 8 + 4);
        const kind = F.classify(hi, lo);
        let nhi = 0;
        let nlo = 0;
        if (pos < backingLen) {
          if (this.h.version === 3) {
            nlo = F.L2_ZERO;
          } else if (mode === 'zero') {
            zeroWrites.push([pos, Math.min(pos + cs, this.h.size)]);
            continue;
          } else {
            continue; // v2 with a backing file: discard keeps the data
          }
        }
        if (nlo === 0 && kind === ClusterKind.Unallocated) continue;
        if (nlo === F.L2_ZERO && kind === ClusterKind.ZeroPlain) continue;
        this.release(hi, lo);
        v.setUint32(i * 8, nhi);
        v.setUint32(i * 8 + 4, nlo);
        this.markDirty(this.l2Cache, t);
      }
      await this.maybeFlush();
    }
    // Version 2 with a backing file: zeros must be real data.
    const zeros = new Uint8Array(Math.min(1 << 20, Math.max(cs, 1)));
    for (const [s, e] of zeroWrites) {
      for (let p = s; p < e; p += zeros.length) {
        await this.writeLocked(p, zeros.subarray(0, Math.min(zeros.length, e - p)));
      }
    }
  }

  // ------------------------------------------------------------------------------------
  // Queries

  /** Allocation map (this image, then backing depth). */
  map(): Promise<MapExtent[]> {
    try {
      checkAccess(this, 0, 0, false, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      const out: MapExtent[] = [];
      await this.mapInto(0, this.h.size, 0, out);
      return out;
    });
  }

  /** Map [start, end) of this image at `depth` into `out` (used recursively by the images above). */
  private async mapInto(start: number, end: number, depth: number, out: MapExtent[]): Promise<void> {
    const cs = this.cs;
    let pos = start;
    while (pos < end) {
      const l1i = Math.floor(pos / cs / this.l2n);
      const tableEnd = Math.min(end, (l1i + 1) * this.l2n * cs);
      const t = await this.l2ForRead(l1i);
      if (!t) {
        await this.mapBacking(pos, tableEnd, depth, out);
        pos = tableEnd;
        continue;
      }
      while (pos < tableEnd) {
        const vc = Math.floor(pos / cs);
        const i = vc % this.l2n;
        const hi = t.view.getUint32(i * 8);
        const lo = t.view.getUint32(i * 8 + 4);
        const runEnd = Math.min(tableEnd, (vc + 1) * cs);
        const len = runEnd - pos;
        switch (F.classify(hi, lo)) {
          case ClusterKind.Unallocated:
            await this.mapBacking(pos, runEnd, depth, out);
            break;
          case ClusterKind.ZeroPlain:
            pushExtent(out, { start: pos, length: len, data: false, zero: true, compressed: false, offset: null, depth });
            break;
          case ClusterKind.ZeroAlloc:
            pushExtent(out, { start: pos, length: len, data: false, zero: true, compressed: false, offset: F.entryOffset(hi, lo) + (pos % cs), depth });
            break;
          case ClusterKind.Normal:
            pushExtent(out, { start: pos, length: len, data: true, zero: false, compressed: false, offset: this.dataOffset(hi, lo) + (pos % cs), depth });
            break;
          case ClusterKind.Compressed:
            pushExtent(out, { start: pos, length: len, data: true, zero: false, compressed: true, offset: null, depth });
            break;
        }
        pos = runEnd;
      }
    }
  }

  private async mapBacking(s: number, e: number, depth: number, out: MapExtent[]): Promise<void> {
    const b = this.backing;
    if (!b) {
      pushExtent(out, { start: s, length: e - s, data: false, zero: true, compressed: false, offset: null, depth });
      return;
    }
    const bl = b.length;
    if (s < bl) {
      const be = Math.min(e, bl);
      if (b instanceof Qcow2Image) {
        await b.lock.run(() => b.mapInto(s, be, depth + 1, out));
      } else {
        pushExtent(out, { start: s, length: be - s, data: true, zero: false, compressed: false, offset: s, depth: depth + 1 });
      }
    }
    if (e > bl) {
      const zs = Math.max(s, bl);
      // As qemu-img map: beyond the end of the backing file, the depth is this layer's.
      pushExtent(out, { start: zs, length: e - zs, data: false, zero: true, compressed: false, offset: null, depth });
    }
  }

  /**
   * Allocation status of the run starting at `offset` (at most `length` bytes) in THIS
   * image: allocated = the image decides the contents (data, compressed or zero
   * clusters), else they come from the backing file. zero = the run reads as zeros (zero
   * clusters; unallocated with no backing data there).
   */
  blockStatus(offset: number, length: number): Promise<{ allocated: boolean; zero: boolean; length: number }> {
    try {
      checkAccess(this, offset, length, false, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      const cs = this.cs;
      const end = offset + length;
      const status = (kind: ClusterKind, p: number): [boolean, boolean] => [
        kind !== ClusterKind.Unallocated,
        this.readsAsZero(kind, p),
      ];
      let pos = offset;
      let first: [boolean, boolean] | null = null;
      while (pos < end) {
        const l1i = Math.floor(pos / cs / this.l2n);
        const tableEnd = Math.min(end, (l1i + 1) * this.l2n * cs);
        const t = await this.l2ForRead(l1i);
        let stepEnd = tableEnd;
        let st: [boolean, boolean];
        if (!t) {
          st = status(ClusterKind.Unallocated, pos);
        } else {
          const vc = Math.floor(pos / cs);
          const i = vc % this.l2n;
          st = status(F.classify(t.view.getUint32(i * 8), t.view.getUint32(i * 8 + 4)), pos);
          stepEnd = Math.min(tableEnd, (vc + 1) * cs);
        }
        // Unallocated runs change zero-ness at the end of the backing file.
        if (!st[0] && this.backing && pos < this.backing.length) stepEnd = Math.min(stepEnd, this.backing.length);
        if (first === null) first = st;
        else if (first[0] !== st[0] || first[1] !== st[1]) break;
        pos = stepEnd;
      }
      const f = first ?? [false, true];
      return { allocated: f[0], zero: f[1], length: pos - offset };
    });
  }

  // ------------------------------------------------------------------------------------
  // Image-level operations

  /** Grow, or shrink when nothing is allocated at or beyond the new size. */
  resize(newSize: number): Promise<void> {
    try {
      checkAccess(this, 0, 0, true, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      if (!Number.isSafeInteger(newSize) || newSize < 0) throw new UserError(`qcow2: invalid size ${newSize}`);
      const cs = this.cs;
      const oldSize = this.h.size;
      if (newSize === oldSize) return;
      const neededL1 = Math.ceil(newSize / (cs * this.l2n));
      if (neededL1 * 8 > F.MAX_L1_BYTES) throw new UserError(`qcow2: size ${newSize} is too large for ${cs}-byte clusters`);
      await this.beginWrite();
      if (newSize < oldSize) {
        if (this.h.nbSnapshots > 0) throw new UserError('qcow2: cannot shrink an image that has internal snapshots');
        for (let vc = Math.ceil(newSize / cs); vc * cs < oldSize; ) {
          const l1i = Math.floor(vc / this.l2n);
          const t = await this.l2ForRead(l1i);
          if (!t) {
            vc = (l1i + 1) * this.l2n;
            continue;
          }
          const kind = F.classify(t.view.getUint32((vc % this.l2n) * 8), t.view.getUint32((vc % this.l2n) * 8 + 4));
          if (kind !== ClusterKind.Unallocated && kind !== ClusterKind.ZeroPlain) {
            throw new UserError(`qcow2: cannot shrink to ${newSize} bytes: data is allocated at offset ${vc * cs}`);
          }
          vc++;
        }
        await this.flushLocked();
        this.h.size = newSize;
        await this.writeSize();
        return;
      }
      if (neededL1 > this.h.l1Size) await this.growL1(neededL1);
      // What lies beyond the old end (the rest of its last cluster, a longer backing file)
      // must read as zeros once visible: zero it before the size changes.
      const zeroEnd = Math.min(newSize, Math.max(Math.ceil(oldSize / cs) * cs, this.backing ? this.backing.length : 0));
      if (zeroEnd > oldSize) {
        const saved = this.h.size;
        this.h.size = zeroEnd; // let the zeroing treat the range as inside the image
        try {
          await this.zeroLocked(oldSize, zeroEnd - oldSize, 'zero');
        } finally {
          this.h.size = saved;
        }
      }
      await this.flushLocked();
      this.h.size = newSize;
      await this.writeSize();
    });
  }

  private async writeSize(): Promise<void> {
    await this.writeHeaderField(F.HDR_SIZE, (dv) => F.setU64(dv, 0, this.h.size), 8);
    await this.barrier();
  }

  /** Move the L1 table to a larger one (written and switched by the flush). */
  private async growL1(entries: number): Promise<void> {
    const cs = this.cs;
    const clusters = Math.ceil((entries * 8) / cs);
    const host = await this.allocClusters(clusters);
    const nl1 = new Uint8Array(entries * 8);
    nl1.set(this.l1);
    const oldOff = this.h.l1TableOffset;
    const oldClusters = Math.ceil((this.h.l1Size * 8) / cs);
    this.l1 = nl1;
    this.l1v = new DataView(nl1.buffer);
    this.h.l1TableOffset = host;
    this.h.l1Size = entries;
    this.l1Moved = true;
    this.addMetaRange(host, entries * 8);
    if (oldClusters > 0 && oldOff > 0) {
      for (let c = oldOff / cs; c < oldOff / cs + oldClusters; c++) this.pendingFree.push(c);
    }
    await this.flushLocked();
  }

  /** Header only (rebase -u, commit): set or remove the backing file name and format. */
  setBackingFile(file: string | null, format: string | null): Promise<void> {
    try {
      checkAccess(this, 0, 0, true, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      await this.flushLocked();
      const old = { file: this.h.backingFile, format: this.h.backingFormat };
      const oldLen = F.serializeHeader(this.h).length;
      this.h.backingFile = file !== null && file !== '' ? file : null;
      this.h.backingFormat = this.h.backingFile !== null ? format : null;
      let bytes: Uint8Array;
      try {
        bytes = F.serializeHeader(this.h);
      } catch (e) {
        this.h.backingFile = old.file;
        this.h.backingFormat = old.format;
        F.serializeHeader(this.h);
        throw e;
      }
      const out = new Uint8Array(Math.max(bytes.length, oldLen));
      out.set(bytes);
      await this.fwrite(0, out);
      await this.barrier();
    });
  }

  /**
   * Write a compressed cluster (for convert -c): `data` is one whole cluster (or the
   * image's final partial cluster) at a cluster-aligned offset that is unallocated.
   * Data that does not compress below a cluster is written as a standard cluster.
   */
  writeCompressed(offset: number, data: Uint8Array): Promise<void> {
    try {
      checkAccess(this, offset, data.length, true, this.closed);
      if (offset % this.cs !== 0) throw new BlockError('range', `compressed write at ${offset} is not cluster aligned`);
      if (data.length !== this.cs && offset + data.length !== this.h.size) {
        throw new BlockError('range', `compressed write of ${data.length} bytes is not one cluster`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run(async () => {
      await this.beginWrite();
      const cs = this.cs;
      const vc = offset / cs;
      const cur = await this.entryAt(vc);
      if (F.classify(cur.hi, cur.lo) !== ClusterKind.Unallocated) {
        throw new BlockError('io', `qcow2: compressed write to allocated cluster at offset ${offset}`);
      }
      let cluster = data;
      if (data.length !== cs) {
        cluster = new Uint8Array(cs);
        cluster.set(data);
      }
      const comp = await deflateRaw(cluster);
      if (comp.length >= cs) {
        await this.writeLocked(offset, data);
        await this.maybeFlush();
        return;
      }
      const t = await this.l2ForWrite(Math.floor(vc / this.l2n));
      let pos = -1;
      const ce = this.compressedEnd;
      const c0 = Math.floor(ce / cs);
      if (ce % cs !== 0 && c0 + 1 === this.nextCluster && (await this.refcountOf(c0)) < this.rmax) {
        // Pack behind the previous compressed cluster, spilling into fresh clusters.
        const extra = Math.floor((ce + comp.length - 1) / cs) - c0;
        if (extra === 0) {
          await this.updateRefcount(c0, 1);
          pos = ce;
        } else if ((await this.findFree(extra)) === c0 + 1) {
          await this.allocClusters(extra);
          await this.updateRefcount(c0, 1);
          pos = ce;
        }
      }
      if (pos < 0) pos = await this.allocClusters(1);
      await this.fwrite(pos, comp);
      const e = F.encodeCompressed(pos, comp.length, this.cb);
      const i = vc % this.l2n;
      t.view.setUint32(i * 8, e.hi);
      t.view.setUint32(i * 8 + 4, e.lo);
      this.markDirty(this.l2Cache, t);
      this.compressedEnd = pos + comp.length;
      await this.maybeFlush();
    });
  }
}

function pushExtent(out: MapExtent[], e: MapExtent): void {
  const last = out[out.length - 1];
  if (
    last &&
    last.start + last.length === e.start &&
    last.data === e.data &&
    last.zero === e.zero &&
    last.compressed === e.compressed &&
    last.depth === e.depth &&
    ((last.offset === null && e.offset === null) || (last.offset !== null && e.offset !== null && last.offset + last.length === e.offset))
  ) {
    last.length += e.length;
    return;
  }
  out.push(e);
}
