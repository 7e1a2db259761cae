/**
 * Split virtqueues, device side (Virtual I/O Device (VIRTIO) Version 1.1, section 2.6
 * "Split Virtqueues"; the same layout is section 2.7 in 1.2):
 *
 *   Descriptor Table  16 bytes each: le64 addr, le32 len, le16 flags, le16 next
 *   Available Ring    le16 flags, le16 idx, le16 ring[size], (le16 used_event)
 *   Used Ring         le16 flags, le16 idx, {le32 id, le32 len} ring[size], (le16 avail_event)
 *
 * The ring memory belongs to a hostile driver, so every field is validated before use
 * and every walk is bounded:
 * - the available index may run ahead of ours by at most `size` entries;
 * - a head or `next` index must be inside its table (the queue, or an indirect table);
 * - a direct chain visits at most `size` descriptors and an indirect table at most its
 *   own entry count, which also catches loops (a chain that long must revisit one);
 * - VIRTQ_DESC_F_INDIRECT needs VIRTIO_F_INDIRECT_DESC, may not be combined with
 *   NEXT or appear inside an indirect table, and its table length must be a non-zero
 *   multiple of 16 of at most VIRTQ_MAX_INDIRECT entries (a direct chain may end in
 *   one indirect descriptor, as the spec requires devices to accept);
 * - device-writable descriptors must follow all device-readable ones;
 * - each buffer's first and last byte must be RAM (every later access goes through
 *   GuestMemory again, which refuses non-RAM, so a hole inside a buffer is still
 *   caught when the device touches it).
 * A violation makes the queue "broken": it reports the reason through the error hook
 * (the transport sets DEVICE_NEEDS_RESET) and stops handing out chains. Nothing here
 * throws on guest input.
 *
 * No VIRTIO_F_EVENT_IDX: a used-buffer notification is sent after every used element
 * unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT; the device never suppresses
 * driver notifications (used flags stay 0).
 */
import type { GuestMemory } from '../../memory/address-space.js';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Largest queue size a split virtqueue may have. */
export const VIRTQ_MAX_SIZE = 32768;
/** Largest indirect table accepted, in descriptors (QEMU's limit as well). */
export const VIRTQ_MAX_INDIRECT = 1024;

const DESC_SIZE = 16;

/** A guest-physical buffer; `len` is never 0. */
export interface VirtqSegment {
  readonly addr: number;
  readonly len: number;
}

/** One available descriptor chain, split by direction. */
export interface VirtqChain {
  /** Head descriptor index: the id the used element reports. */
  readonly head: number;
  /** Device-readable buffers, in chain order. */
  readonly readable: readonly VirtqSegment[];
  /** Device-writable buffers, in chain order (all after the readable ones). */
  readonly writable: readonly VirtqSegment[];
  readonly readableLength: number;
  readonly writableLength: number;
}

export interface VirtqueueLayout {
  /** Queue size (number of descriptors); a power of two in 1..VIRTQ_MAX_SIZE. */
  readonly size: number;
  /** Guest-physical addresses of the three parts. */
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirect: boolean;
}

export interface VirtqueueHooks {
  /** The driver broke the ring protocol; the transport sets DEVICE_NEEDS_RESET. */
  error(reason: string): void;
  /** A used-buffer notification is due (the driver did not suppress it). */
  interrupt(): void;
}

type QueueState = 'active' | 'broken' | 'detached';

export class Virtqueue {
  /** Free-running 16-bit index of the next available entry to consume. */
  lastAvailIdx = 0;
  /** Free-running 16-bit index of the next used entry to fill (mirrors used->idx). */
  usedIdx = 0;
  private state: QueueState = 'active';

  constructor(
    private readonly mem: GuestMemory,
    readonly layout: VirtqueueLayout,
    private readonly hooks: VirtqueueHooks,
  ) {}

  get size(): number {
    return this.layout.size;
  }

  /**
   * False once the transport dropped the queue (reset, QueueReady=0): the buffers are
   * the driver's again, so a request completing late must not touch them.
   */
  get active(): boolean {
    return this.state !== 'detached';
  }

  /** True after a protocol violation; no more chains are handed out. */
  get broken(): boolean {
    return this.state === 'broken';
  }

  /** The transport disowns the queue; later pushes are ignored. */
  detach(): void {
    this.state = 'detached';
  }

  /** Stop handing out chains (the device needs a reset) without reporting again. */
  markBroken(): void {
    if (this.state === 'active') this.state = 'broken';
  }

  /** Report a protocol violation the device found (for example a request it cannot complete). */
  fail(reason: string): void {
    if (this.state !== 'active') return;
    this.state = 'broken';
    this.hooks.error(reason);
  }

  /** Number of chains the driver has made available and we have not popped (0 if the ring is bad). */
  pendingCount(): number {
    if (this.state !== 'active') return 0;
    const availIdx = this.readU16(this.layout.availAddr + 2);
    if (availIdx === null) return 0;
    return (availIdx - this.lastAvailIdx) & 0xffff;
  }

  /** The next available chain, or null when there is none or the queue is (now) broken. */
  pop(): VirtqChain | null {
    if (this.state !== 'active') return null;
    const { availAddr, size } = this.layout;
    const availIdx = this.readU16(availAddr + 2);
    if (availIdx === null) return this.failNull('available ring is not in RAM');
    const pending = (availIdx - this.lastAvailIdx) & 0xffff;
    if (pending === 0) return null;
    if (pending > size) return this.failNull(`available index moved by ${pending}, more than the queue size ${size}`);
    const head = this.readU16(availAddr + 4 + 2 * (this.lastAvailIdx % size));
    if (head === null) return this.failNull('available ring is not in RAM');
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (head >= size) return this.failNull(`available ring entry ${head} is not below the queue size ${size}`);
    return this.walk(head);
  }

  /**
   * Re-read the chain starting at `head` without consuming an available entry (used to
   * resubmit in-flight requests after a snapshot restore). Null if it is malformed.
   */
  chainAt(head: number): VirtqChain | null {
    if (this.state !== 'active') return null;
    if (!Number.isInteger(head) || head < 0 || head >= this.layout.size) {
      return this.failNull(`descriptor head ${head} is not below the queue size`);
    }
    return this.walk(head);
  }

  /**
   * Return a chain to the driver: used element (head, len), then used->idx, then a
   * notification unless the driver suppressed it. `len` is the number of bytes the
   * device wrote into the chain's writable buffers.
   */
  push(head: number, len: number): void {
    if (this.state === 'detached') return;
    const { usedAddr, availAddr, size } = this.layout;
    const elem = new Uint8Array(8);
    const dv = new DataView(elem.buffer);
    dv.setUint32(0, head, true);
    dv.setUint32(4, len >>> 0, true);
    if (!this.mem.write(usedAddr + 4 + 8 * (this.usedIdx % size), elem)) {
      this.fail('used ring is not in RAM');
      return;
    }
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    if (!this.writeU16(usedAddr + 2, this.usedIdx)) {
      this.fail('used ring is not in RAM');
      return;
    }
    const flags = this.readU16(availAddr);
    if (flags === null) {
      this.fail('available ring is not in RAM');
      return;
    }
    if ((flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0) this.hooks.interrupt();
  }

  /**
   * `length` bytes of the chain's readable stream (its readable buffers concatenated)
   * starting at `offset`; null if that runs past the stream or leaves RAM.
   */
  gather(chain: VirtqChain, offset: number, length: number): Uint8Array | null {
    if (offset < 0 || length < 0 || offset + length > chain.readableLength) return null;
    const out = new Uint8Array(length);
    let done = 0;
    let skip = offset;
    for (const seg of chain.readable) {
      if (done === length) break;
      if (skip >= seg.len) {
        skip -= seg.len;
        continue;
      }
      const n = Math.min(seg.len - skip, length - done);
      const bytes = this.mem.read(seg.addr + skip, n);
      if (bytes === null) return null;
      out.set(bytes, done);
      done += n;
      skip = 0;
    }
    return out;
  }

  /**
   * Write `bytes` into the chain's writable stream at `offset`; false if that runs past
   * the stream or leaves RAM (earlier segments may already have been written).
   */
  scatter(chain: VirtqChain, offset: number, bytes: Uint8Array): boolean {
    if (offset < 0 || offset + bytes.length > chain.writableLength) return false;
    let done = 0;
    let skip = offset;
    for (const seg of chain.writable) {
      if (done === bytes.length) break;
      if (skip >= seg.len) {
        skip -= seg.len;
        continue;
      }
      const n = Math.min(seg.len - skip, bytes.length - done);
      if (!this.mem.write(seg.addr + skip, bytes.subarray(done, done + n))) return false;
      done += n;
      skip = 0;
    }
    return true;
  }

  // --- internals -------------------------------------------------------------------

  private walk(head: number): VirtqChain | null {
    const { descAddr, size } = this.layout;
    const readable: VirtqSegment[] = [];
    const writable: VirtqSegment[] = [];
    let readableLength = 0;
    let writableLength = 0;
    let table: DataView | null = null; // the indirect table, once we are in one
    let limit = size; // entries in the current table
    let idx = head;
    let visited = 0;
    for (;;) {
      if (++visited > limit) {
        return this.failNull(
          table ? 'indirect descriptor chain loops' : `descriptor chain longer than the queue size ${size} (loop?)`,
        );
      }
      let dv: DataView;
      let base: number;
      if (table) {
        dv = table;
        base = idx * DESC_SIZE;
      } else {
        const bytes = this.mem.read(descAddr + idx * DESC_SIZE, DESC_SIZE);
        if (bytes === null) return this.failNull('descriptor table is not in RAM');
        dv = new DataView(bytes.buffer, bytes.byteOffset, DESC_SIZE);
        base = 0;
      }
      const addrLo = dv.getUint32(base, true);
      const addrHi = dv.getUint32(base + 4, true);
      const len = dv.getUint32(base + 8, true);
      const flags = dv.getUint16(base + 12, true);
      const next = dv.getUint16(base + 14, true);
      // Above 2^53 nothing is RAM; refuse before the number loses precision.
      if (addrHi >= 0x200000) return this.failNull('descriptor address out of range');
      const addr = addrHi * 0x1_0000_0000 + addrLo;

      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.layout.indirect) return this.failNull('indirect descriptor without VIRTIO_F_INDIRECT_DESC');
        if (table) return this.failNull('indirect descriptor inside an indirect table');
        if (flags & VIRTQ_DESC_F_NEXT) return this.failNull('indirect descriptor with the NEXT flag');
        if (len === 0 || len % DESC_SIZE !== 0) return this.failNull(`indirect table length ${len} is not a multiple of 16`);
        const entries = len / DESC_SIZE;
        if (entries > VIRTQ_MAX_INDIRECT) return this.failNull(`indirect table of ${entries} descriptors is too long`);
        const bytes = this.mem.read(addr, len);
        if (bytes === null) return this.failNull('indirect table is not in RAM');
        table = new DataView(bytes.buffer, bytes.byteOffset, len);
        limit = entries;
        visited = 0;
        idx = 0;
        continue;
      }

      const isWrite = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!isWrite && writable.length > 0) return this.failNull('device-readable descriptor after a device-writable one');
      if (len > 0) {
        if (!this.isRam(addr, len)) {
          return this.failNull(`buffer 0x${addr.toString(16)}+0x${len.toString(16)} is not in RAM`);
        }
        if (isWrite) {
          writable.push({ addr, len });
          writableLength += len;
        } else {
          readable.push({ addr, len });
          readableLength += len;
        }
      }
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) break;
      if (next >= limit) return this.failNull(`next descriptor ${next} is outside its table of ${limit}`);
      idx = next;
    }
    return { head, readable, writable, readableLength, writableLength };
  }

  /** First and last byte are RAM (see the header comment for why that suffices here). */
  private isRam(addr: number, len: number): boolean {
    return this.mem.read(addr, 1) !== null && this.mem.read(addr + len - 1, 1) !== null;
  }

  private failNull(reason: string): null {
    this.fail(reason);
    return null;
  }

  private readU16(addr: number): number | null {
    const b = this.mem.read(addr, 2);
    return b === null ? null : b[0]! | (b[1]! << 8);
  }

  private writeU16(addr: number, value: number): boolean {
    return this.mem.write(addr, new Uint8Array([value & 0xff, (value >>> 8) & 0xff]));
  }
}
