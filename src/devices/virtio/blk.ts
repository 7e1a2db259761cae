/**
 * virtio-blk: Virtual I/O Device (VIRTIO) Version 1.1, section 5.2 "Block Device".
 *
 * One request queue (requestq, 256 entries). Configuration space (struct
 * virtio_blk_config, little-endian):
 *
 *   0x00 capacity                  le64  in 512-byte sectors
 *   0x08 size_max                  le32  (VIRTIO_BLK_F_SIZE_MAX, not offered)
 *   0x0c seg_max                   le32  VIRTIO_BLK_F_SEG_MAX: queue size - 2, as QEMU
 *   0x10 geometry                        (not offered)
 *   0x14 blk_size                  le32  VIRTIO_BLK_F_BLK_SIZE: 512
 *   0x18 topology, 0x20 writeback, 0x22 num_queues (not offered)
 *   0x24 max_discard_sectors       le32  VIRTIO_BLK_F_DISCARD (writable disks)
 *   0x28 max_discard_seg           le32
 *   0x2c discard_sector_alignment  le32
 *   0x30 max_write_zeroes_sectors  le32  VIRTIO_BLK_F_WRITE_ZEROES (writable disks)
 *   0x34 max_write_zeroes_seg      le32
 *   0x38 write_zeroes_may_unmap    u8
 *
 * A request (5.2.6) is a header { le32 type; le32 reserved; le64 sector } in the
 * device-readable part, data (readable for OUT/DISCARD/WRITE_ZEROES, writable for
 * IN/GET_ID), and a status byte: the last device-writable byte. The buffers are
 * treated as two byte streams, so any framing works (VIRTIO_F_ANY_LAYOUT is implied
 * by VERSION_1). Every request is checked before the backend is touched:
 * - no device-writable byte at all: the request cannot be answered; the queue fails
 *   (DEVICE_NEEDS_RESET), as QEMU does;
 * - short header, data in the wrong direction, a length that is not a multiple of
 *   512, a sector range beyond the capacity, a write to a read-only disk: IOERR;
 * - an unknown type, too many discard segments, unknown or refused flags: UNSUPP.
 *
 * I/O goes through the async BlockBackend in chunks of at most CHUNK bytes, so a huge
 * request never needs a huge buffer. Requests run concurrently and complete in the
 * order the backend finishes them (overlapping concurrent writes are the driver's
 * problem, as on real hardware). At most `queue size` requests are in flight; more
 * wait in the ring until one completes. After a reset the in-flight requests are
 * abandoned: their backend operation may still finish, but guest memory and the
 * used ring are no longer touched. `whenIdle()` waits for every backend operation,
 * which the machine must await (then flush the backend) before the process exits.
 */
import type { BlockBackend } from '../../block/backend.js';
import type { VirtioDevice, VirtioHost } from './mmio.js';
import type { VirtqChain, Virtqueue } from './virtqueue.js';

export const VIRTIO_ID_BLOCK = 2;

// Feature bits (5.2.3).
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
export const VIRTIO_BLK_F_MQ = 12;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

// Request types (5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;

// Request status (5.2.6).
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** struct virtio_blk_discard_write_zeroes flags. */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** GET_ID answers with this many bytes (VIRTIO_BLK_ID_BYTES). */
export const VIRTIO_BLK_ID_BYTES = 20;
export const VIRTIO_BLK_QUEUE_SIZE = 256;
const CONFIG_SIZE = 0x3c;
const HEADER_SIZE = 16;
const DWZ_SEGMENT_SIZE = 16;
/** Largest discard / write-zeroes extent, in sectors (QEMU's default). */
const MAX_DWZ_SECTORS = 0x3fffff;
const MAX_DWZ_SEG = 1;
/** Largest single backend transfer a request is split into. */
const CHUNK = 1 << 20;

export interface VirtioBlkOptions {
  /** Reported by GET_ID (at most 20 bytes are used); default empty. */
  serial?: string;
}

/** Serializable state: requests taken from the ring and not yet completed. */
export interface VirtioBlkState {
  inflight: { queue: number; head: number }[];
}

interface Request {
  readonly queue: Virtqueue;
  readonly head: number;
}

interface Outcome {
  status: number;
  /** Data bytes written into the writable stream before the status byte. */
  written: number;
}

/** Thrown inside a request when its queue was dropped: stop without touching the guest. */
class Abandoned extends Error {}

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueMaxSizes = [VIRTIO_BLK_QUEUE_SIZE] as const;
  readonly configSize = CONFIG_SIZE;
  /** Capacity in 512-byte sectors (a trailing partial sector is not visible). */
  readonly capacity: number;

  private host: VirtioHost | null = null;
  private readonly config: DataView;
  private readonly serial: Uint8Array;
  private readonly inflight = new Set<Request>();
  private readonly inflightPerQueue = new Map<Virtqueue, number>();
  private pendingOps = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly backend: BlockBackend,
    opts: VirtioBlkOptions = {},
  ) {
    this.capacity = Math.floor(backend.length / VIRTIO_BLK_SECTOR_SIZE);
    const bit = (n: number): bigint => 1n << BigInt(n);
    let features = bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE) | bit(VIRTIO_BLK_F_FLUSH);
    if (backend.readOnly) features |= bit(VIRTIO_BLK_F_RO);
    else features |= bit(VIRTIO_BLK_F_DISCARD) | bit(VIRTIO_BLK_F_WRITE_ZEROES);
    this.features = features;

    this.serial = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.serial.set(new TextEncoder().encode(opts.serial ?? '').subarray(0, VIRTIO_BLK_ID_BYTES));

    const c = new DataView(new ArrayBuffer(CONFIG_SIZE));
    c.setUint32(0x00, this.capacity >>> 0, true);
    c.setUint32(0x04, Math.floor(this.capacity / 0x1_0000_0000), true);
    c.setUint32(0x0c, VIRTIO_BLK_QUEUE_SIZE - 2, true);
    c.setUint32(0x14, VIRTIO_BLK_SECTOR_SIZE, true);
    if (!backend.readOnly) {
      c.setUint32(0x24, MAX_DWZ_SECTORS, true);
      c.setUint32(0x28, MAX_DWZ_SEG, true);
      c.setUint32(0x2c, 1, true);
      c.setUint32(0x30, MAX_DWZ_SECTORS, true);
      c.setUint32(0x34, MAX_DWZ_SEG, true);
    }
    this.config = c;
  }

  // --- VirtioDevice ----------------------------------------------------------------

  attach(host: VirtioHost): void {
    this.host = host;
  }

  readConfig(offset: number, size: number): number {
    const c = this.config;
    if (offset < 0 || offset + size > CONFIG_SIZE) return 0;
    switch (size) {
      case 1: return c.getUint8(offset);
      case 2: return c.getUint16(offset, true);
      case 4: return c.getUint32(offset, true);
      default: return 0;
    }
  }

  /** Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE. */
  writeConfig(_offset: number, _value: number, _size: number): void {}

  notify(_queueIndex: number, queue: Virtqueue): void {
    this.kick(queue);
  }

  reset(): void {
    // The transport has detached the queues; late completions see that and stop.
    this.inflight.clear();
    this.inflightPerQueue.clear();
  }

  saveState(): VirtioBlkState {
    const inflight: VirtioBlkState['inflight'] = [];
    for (const r of this.inflight) {
      if (r.queue.active && this.host?.queue(0) === r.queue) inflight.push({ queue: 0, head: r.head });
    }
    return { inflight };
  }

  /** Resubmit the requests that were in flight when the state was saved. */
  restoreState(state: unknown): void {
    const list = (state as Partial<VirtioBlkState> | null)?.inflight;
    if (!Array.isArray(list)) return;
    const queue = this.host?.queue(0);
    if (!queue) return;
    for (const entry of list.slice(0, queue.size)) {
      const head = (entry as { head?: unknown }).head;
      if (typeof head !== 'number') continue;
      const chain = queue.chainAt(head);
      if (!chain) return;
      this.start(queue, chain);
    }
  }

  // --- host side -------------------------------------------------------------------

  /** Backend operations not yet finished (including those of abandoned requests). */
  pendingRequests(): number {
    return this.pendingOps;
  }

  /** Resolves when no backend operation is outstanding. */
  whenIdle(): Promise<void> {
    if (this.pendingOps === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // --- request processing ----------------------------------------------------------

  private kick(queue: Virtqueue): void {
    // Bounded: each iteration consumes an available entry, and at most `size` run at once.
    while ((this.inflightPerQueue.get(queue) ?? 0) < queue.size) {
      const chain = queue.pop();
      if (!chain) return;
      this.start(queue, chain);
    }
  }

  private start(queue: Virtqueue, chain: VirtqChain): void {
    if (chain.writableLength < 1) {
      queue.fail(`block request ${chain.head} has no device-writable status byte`);
      return;
    }
    const req: Request = { queue, head: chain.head };
    this.inflight.add(req);
    this.inflightPerQueue.set(queue, (this.inflightPerQueue.get(queue) ?? 0) + 1);
    this.pendingOps++;
    this.execute(queue, chain)
      .catch((e: unknown): Outcome | null =>
        e instanceof Abandoned ? null : { status: VIRTIO_BLK_S_IOERR, written: 0 },
      )
      .then((outcome) => this.finish(req, chain, outcome));
  }

  private finish(req: Request, chain: VirtqChain, outcome: Outcome | null): void {
    try {
      const { queue } = req;
      const live = this.inflight.delete(req) && queue.active;
      const n = this.inflightPerQueue.get(queue);
      if (n !== undefined) this.inflightPerQueue.set(queue, n - 1);
      if (live && outcome) {
        if (queue.scatter(chain, chain.writableLength - 1, new Uint8Array([outcome.status]))) {
          queue.push(chain.head, outcome.written + 1);
        } else {
          queue.fail(`block request ${chain.head}: status byte is not in RAM`);
        }
      }
      if (live && !queue.broken) this.kick(queue);
    } catch (e) {
      // Nothing here should throw; if it does, fail the queue rather than the host.
      req.queue.fail(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (--this.pendingOps === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Validate, then perform one request. Rejects with Abandoned if the queue goes away. */
  private async execute(queue: Virtqueue, chain: VirtqChain): Promise<Outcome> {
    const ioerr: Outcome = { status: VIRTIO_BLK_S_IOERR, written: 0 };
    const unsupp: Outcome = { status: VIRTIO_BLK_S_UNSUPP, written: 0 };
    const ok = (written = 0): Outcome => ({ status: VIRTIO_BLK_S_OK, written });
    const header = queue.gather(chain, 0, HEADER_SIZE);
    if (!header) return ioerr;
    const hv = new DataView(header.buffer);
    const type = hv.getUint32(0, true);
    const sector = this.sectorNumber(hv.getUint32(8, true), hv.getUint32(12, true));
    const backend = this.backend;
    const dataIn = chain.writableLength - 1; // device-writable data bytes
    const dataOut = chain.readableLength - HEADER_SIZE; // device-readable data bytes

    switch (type) {
      case VIRTIO_BLK_T_IN: {
        if (dataOut !== 0 || !this.rangeOk(sector, dataIn)) return ioerr;
        const base = sector * VIRTIO_BLK_SECTOR_SIZE;
        for (let off = 0; off < dataIn; off += CHUNK) {
          const buf = new Uint8Array(Math.min(CHUNK, dataIn - off));
          await backend.read(base + off, buf);
          this.checkLive(queue);
          if (!queue.scatter(chain, off, buf)) return ioerr;
        }
        return ok(dataIn);
      }
      case VIRTIO_BLK_T_OUT: {
        if (dataIn !== 0 || backend.readOnly || !this.rangeOk(sector, dataOut)) return ioerr;
        const base = sector * VIRTIO_BLK_SECTOR_SIZE;
        for (let off = 0; off < dataOut; off += CHUNK) {
          const buf = queue.gather(chain, HEADER_SIZE + off, Math.min(CHUNK, dataOut - off));
          if (!buf) return ioerr;
          await backend.write(base + off, buf);
          this.checkLive(queue);
        }
        return ok();
      }
      case VIRTIO_BLK_T_FLUSH:
        if (dataOut !== 0 || dataIn !== 0) return ioerr;
        await backend.flush();
        return ok();
      case VIRTIO_BLK_T_GET_ID: {
        if (dataOut !== 0) return ioerr;
        const n = Math.min(VIRTIO_BLK_ID_BYTES, dataIn);
        if (!queue.scatter(chain, 0, this.serial.subarray(0, n))) return ioerr;
        return ok(n);
      }
      case VIRTIO_BLK_T_DISCARD:
      case VIRTIO_BLK_T_WRITE_ZEROES: {
        if (backend.readOnly || dataIn !== 0) return ioerr;
        if (dataOut <= 0 || dataOut % DWZ_SEGMENT_SIZE !== 0) return ioerr;
        if (dataOut / DWZ_SEGMENT_SIZE > MAX_DWZ_SEG) return unsupp;
        const seg = queue.gather(chain, HEADER_SIZE, DWZ_SEGMENT_SIZE);
        if (!seg) return ioerr;
        const sv = new DataView(seg.buffer);
        const start = this.sectorNumber(sv.getUint32(0, true), sv.getUint32(4, true));
        const count = sv.getUint32(8, true);
        const flags = sv.getUint32(12, true);
        // Discard may not ask for UNMAP; unknown flags are refused (5.2.6.2).
        const allowed = type === VIRTIO_BLK_T_WRITE_ZEROES ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
        if (flags & ~allowed) return unsupp;
        if (count > MAX_DWZ_SECTORS || !this.rangeOk(start, count * VIRTIO_BLK_SECTOR_SIZE)) return ioerr;
        const base = start * VIRTIO_BLK_SECTOR_SIZE;
        const bytes = count * VIRTIO_BLK_SECTOR_SIZE;
        if (type === VIRTIO_BLK_T_DISCARD) {
          await backend.discard(base, bytes);
          return ok();
        }
        const zeros = new Uint8Array(Math.min(CHUNK, bytes));
        for (let off = 0; off < bytes; off += CHUNK) {
          await backend.write(base + off, zeros.subarray(0, Math.min(CHUNK, bytes - off)));
          this.checkLive(queue);
        }
        return ok();
      }
      default:
        return unsupp;
    }
  }

  /** A 64-bit sector number, or Infinity when it cannot be inside any disk we could hold. */
  private sectorNumber(lo: number, hi: number): number {
    return hi >= 0x200000 ? Infinity : hi * 0x1_0000_0000 + lo;
  }

  /** `bytes` is whole sectors and [sector, sector + bytes/512) lies inside the disk. */
  private rangeOk(sector: number, bytes: number): boolean {
    if (bytes < 0 || bytes % VIRTIO_BLK_SECTOR_SIZE !== 0) return false;
    return sector <= this.capacity && bytes / VIRTIO_BLK_SECTOR_SIZE <= this.capacity - sector;
  }

  private checkLive(queue: Virtqueue): void {
    if (!queue.active) throw new Abandoned();
  }
}
