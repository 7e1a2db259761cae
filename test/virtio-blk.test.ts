/**
 * virtio-mmio + virtio-blk driven the way Linux's virtio_mmio.c and virtio_blk.c drive
 * them: probe the magic/version/device id, negotiate features through the Sel
 * registers, check FEATURES_OK sticks, program the queue with QueueNum/Desc/Driver/
 * Device and QueueReady, set DRIVER_OK, kick with QueueNotify, and take interrupts by
 * reading InterruptStatus and writing InterruptACK. Guest memory is a plain array at
 * 0x80000000; register offsets and bits are spelled out here, independently of the model.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestMemory } from '../src/memory/address-space.js';
import { LatchedIrqLine } from '../src/devices/irq.js';
import type { BlockBackend } from '../src/block/backend.js';
import { MemoryBackend } from '../src/block/memory.js';
import { openRawFile } from '../src/block/node-file.js';
import { VirtioMmio } from '../src/devices/virtio/mmio.js';
import { VirtioBlk } from '../src/devices/virtio/blk.js';

// virtio-mmio registers (virtio 1.1, 4.2.2).
const MagicValue = 0x000, Version = 0x004, DeviceID = 0x008, VendorID = 0x00c;
const DeviceFeatures = 0x010, DeviceFeaturesSel = 0x014, DriverFeatures = 0x020, DriverFeaturesSel = 0x024;
const QueueSel = 0x030, QueueNumMax = 0x034, QueueNum = 0x038, QueueReady = 0x044, QueueNotify = 0x050;
const InterruptStatus = 0x060, InterruptACK = 0x064, Status = 0x070;
const QueueDescLow = 0x080, QueueDescHigh = 0x084, QueueDriverLow = 0x090, QueueDriverHigh = 0x094;
const QueueDeviceLow = 0x0a0, QueueDeviceHigh = 0x0a4, ConfigGeneration = 0x0fc, Config = 0x100;

const ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, NEEDS_RESET = 64;
const F_INDIRECT_DESC = 28, F_EVENT_IDX = 29, F_VERSION_1 = 32;
const BLK_F_SEG_MAX = 2, BLK_F_RO = 5, BLK_F_BLK_SIZE = 6, BLK_F_FLUSH = 9, BLK_F_DISCARD = 13, BLK_F_WRITE_ZEROES = 14;
const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13;
const S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
const DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 4 << 20;
const DESC = RAM_BASE + 0x0000;
const AVAIL = RAM_BASE + 0x1000;
const USED = RAM_BASE + 0x2000;
const HEAP = RAM_BASE + 0x10000;
const OUTSIDE_RAM = 0x1000_0000;

class TestRam implements GuestMemory {
  readonly bytes = new Uint8Array(RAM_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  private off(paddr: number, len: number): number {
    const o = paddr - RAM_BASE;
    return o < 0 || o + len > RAM_SIZE ? -1 : o;
  }
  read(paddr: number, length: number): Uint8Array | null {
    const o = this.off(paddr, length);
    return o < 0 ? null : this.bytes.slice(o, o + length);
  }
  write(paddr: number, bytes: Uint8Array): boolean {
    const o = this.off(paddr, bytes.length);
    if (o < 0) return false;
    this.bytes.set(bytes, o);
    return true;
  }
  u8(a: number): number { return this.view.getUint8(a - RAM_BASE); }
  u16(a: number): number { return this.view.getUint16(a - RAM_BASE, true); }
  u32(a: number): number { return this.view.getUint32(a - RAM_BASE, true); }
  set16(a: number, v: number): void { this.view.setUint16(a - RAM_BASE, v, true); }
  set32(a: number, v: number): void { this.view.setUint32(a - RAM_BASE, v, true); }
  set64(a: number, v: number): void {
    this.set32(a, v >>> 0);
    this.set32(a + 4, Math.floor(v / 0x1_0000_0000));
  }
}

interface Buf { addr: number; len: number; write: boolean }

/** A BlockBackend whose operations wait until the test releases them. */
class GatedBackend implements BlockBackend {
  readonly gates: { op: string; release: () => void }[] = [];
  flushes = 0;
  constructor(readonly inner: MemoryBackend) {}
  get length(): number { return this.inner.length; }
  get readOnly(): boolean { return this.inner.readOnly; }
  private gate(op: string): Promise<void> {
    return new Promise((release) => this.gates.push({ op, release }));
  }
  async read(offset: number, into: Uint8Array): Promise<void> { await this.gate('read'); await this.inner.read(offset, into); }
  async write(offset: number, data: Uint8Array): Promise<void> { await this.gate('write'); await this.inner.write(offset, data); }
  async flush(): Promise<void> { await this.gate('flush'); this.flushes++; await this.inner.flush(); }
  async discard(offset: number, length: number): Promise<void> { await this.gate('discard'); await this.inner.discard(offset, length); }
  close(): Promise<void> { return this.inner.close(); }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  return b;
}

/** Fast byte comparison (toEqual walks typed arrays element by element); names the first difference. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  let diff = actual.length === expected.length ? -1 : Math.min(actual.length, expected.length);
  if (diff < 0) for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) { diff = i; break; }
  expect(diff < 0 ? 'equal' : `differ at ${diff} (lengths ${actual.length}/${expected.length})`).toBe('equal');
}

const bit = (n: number): bigint => 1n << BigInt(n);

/** The guest side: what Linux's virtio_mmio + virtio_ring + virtio_blk do, in miniature. */
class Driver {
  readonly ram = new TestRam();
  readonly irq = new LatchedIrqLine();
  readonly dev: VirtioMmio;
  readonly errors: string[] = [];
  queueSize = 0;
  availIdx = 0;
  lastUsed = 0;
  private heap = HEAP;
  private freeDescs: number[] = [];
  private chains = new Map<number, number[]>();

  constructor(readonly blk: VirtioBlk | null) {
    this.dev = new VirtioMmio(this.ram, this.irq, blk);
    this.dev.onDeviceError = (r) => this.errors.push(r);
  }

  r(off: number): number { return this.dev.read(off, 4) >>> 0; }
  w(off: number, v: number): void { this.dev.write(off, v | 0, 4); }
  status(): number { return this.r(Status); }

  alloc(len: number, align = 16): number {
    const a = Math.ceil(this.heap / align) * align;
    this.heap = a + len;
    if (this.heap > RAM_BASE + RAM_SIZE) throw new Error('test heap exhausted');
    return a;
  }

  deviceFeatures(): bigint {
    this.w(DeviceFeaturesSel, 1);
    const hi = this.r(DeviceFeatures);
    this.w(DeviceFeaturesSel, 0);
    const lo = this.r(DeviceFeatures);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** virtio_dev_probe + vm_setup_vq + virtio_device_ready. Returns the accepted features. */
  init(opts: { queueSize?: number; want?: bigint; driverOk?: boolean } = {}): bigint {
    expect(this.r(MagicValue)).toBe(0x74726976);
    expect(this.r(Version)).toBe(2);
    expect(this.r(DeviceID)).toBe(2);
    this.w(Status, 0);
    expect(this.status()).toBe(0);
    this.w(Status, ACKNOWLEDGE);
    this.w(Status, ACKNOWLEDGE | DRIVER);
    const features = this.deviceFeatures() & (opts.want ?? ~0n);
    this.w(DriverFeaturesSel, 1);
    this.w(DriverFeatures, Number(features >> 32n));
    this.w(DriverFeaturesSel, 0);
    this.w(DriverFeatures, Number(features & 0xffffffffn));
    this.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    expect(this.status() & FEATURES_OK).toBe(FEATURES_OK);
    this.w(QueueSel, 0);
    expect(this.r(QueueReady)).toBe(0);
    const max = this.r(QueueNumMax);
    expect(max).toBe(256);
    this.queueSize = opts.queueSize ?? 16;
    this.ram.bytes.fill(0, 0, 0x3000);
    this.availIdx = 0;
    this.lastUsed = 0;
    this.freeDescs = Array.from({ length: this.queueSize }, (_, i) => i);
    this.chains.clear();
    this.w(QueueNum, this.queueSize);
    this.w(QueueDescLow, DESC >>> 0);
    this.w(QueueDescHigh, 0);
    this.w(QueueDriverLow, AVAIL >>> 0);
    this.w(QueueDriverHigh, 0);
    this.w(QueueDeviceLow, USED >>> 0);
    this.w(QueueDeviceHigh, 0);
    this.w(QueueReady, 1);
    expect(this.r(QueueReady)).toBe(1);
    if (opts.driverOk !== false) this.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    return features;
  }

  writeDesc(i: number, addr: number, len: number, flags: number, next: number, table = DESC): void {
    const a = table + 16 * i;
    this.ram.set64(a, addr);
    this.ram.set32(a + 8, len);
    this.ram.set16(a + 12, flags);
    this.ram.set16(a + 14, next);
  }

  /** Put `head` in the available ring and bump avail->idx (no kick). */
  publish(head: number): void {
    this.ram.set16(AVAIL + 4 + 2 * (this.availIdx % this.queueSize), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.ram.set16(AVAIL + 2, this.availIdx);
  }

  kick(): void {
    this.w(QueueNotify, 0);
  }

  /** virtqueue_add_split: direct descriptors, or one indirect table. Returns the head. */
  addChain(bufs: Buf[], indirect = false): number {
    if (indirect) {
      const table = this.alloc(16 * bufs.length);
      bufs.forEach((b, i) => {
        const last = i === bufs.length - 1;
        this.writeDesc(i, b.addr, b.len, (b.write ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), last ? 0 : i + 1, table);
      });
      const head = this.freeDescs.shift()!;
      this.writeDesc(head, table, 16 * bufs.length, DESC_F_INDIRECT, 0);
      this.chains.set(head, [head]);
      this.publish(head);
      return head;
    }
    const ids = bufs.map(() => {
      const id = this.freeDescs.shift();
      if (id === undefined) throw new Error('out of descriptors');
      return id;
    });
    bufs.forEach((b, i) => {
      const last = i === bufs.length - 1;
      this.writeDesc(ids[i]!, b.addr, b.len, (b.write ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), last ? 0 : ids[i + 1]!);
    });
    this.chains.set(ids[0]!, ids);
    this.publish(ids[0]!);
    return ids[0]!;
  }

  /** The used elements the device added since the last call (and recycle their descriptors). */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.ram.u16(USED + 2);
    while (this.lastUsed !== idx) {
      const e = USED + 4 + 8 * (this.lastUsed % this.queueSize);
      const id = this.ram.u32(e);
      out.push({ id, len: this.ram.u32(e + 4) });
      for (const d of this.chains.get(id) ?? []) this.freeDescs.push(d);
      this.chains.delete(id);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** vm_interrupt: read and acknowledge InterruptStatus. */
  interrupt(): number {
    const isr = this.r(InterruptStatus);
    this.w(InterruptACK, isr);
    return isr;
  }

  /** Build a virtio_blk request: header, data, status. */
  request(
    type: number,
    sector: number,
    opts: { out?: Uint8Array; inLen?: number; split?: number; indirect?: boolean; sectorHi?: number } = {},
  ): { head: number; hdr: number; data: number; status: number } {
    const hdr = this.alloc(16);
    this.ram.set32(hdr, type);
    this.ram.set32(hdr + 4, 0);
    this.ram.set32(hdr + 8, sector >>> 0);
    this.ram.set32(hdr + 12, opts.sectorHi ?? Math.floor(sector / 0x1_0000_0000));
    const bufs: Buf[] = [{ addr: hdr, len: 16, write: false }];
    const dataLen = opts.out?.length ?? opts.inLen ?? 0;
    const data = dataLen ? this.alloc(dataLen, 512) : 0;
    if (opts.out) this.ram.bytes.set(opts.out, data - RAM_BASE);
    if (dataLen) {
      // Split the data over `split` descriptors like a scatter-gather list.
      const parts = opts.split ?? 1;
      const step = Math.ceil(dataLen / parts);
      for (let o = 0; o < dataLen; o += step) {
        bufs.push({ addr: data + o, len: Math.min(step, dataLen - o), write: !opts.out });
      }
    }
    const status = this.alloc(1, 1);
    this.ram.bytes[status - RAM_BASE] = 0xff;
    bufs.push({ addr: status, len: 1, write: true });
    const head = this.addChain(bufs, opts.indirect);
    return { head, hdr, data, status };
  }

  /** Submit one request, kick, wait for the device, take the interrupt; return the outcome. */
  async run(
    type: number,
    sector: number,
    opts: { out?: Uint8Array; inLen?: number; split?: number; indirect?: boolean; sectorHi?: number } = {},
  ): Promise<{ status: number; data: Uint8Array; used: { id: number; len: number }[]; isr: number }> {
    const req = this.request(type, sector, opts);
    this.kick();
    await this.blk!.whenIdle();
    expect(this.irq.level).toBe(true);
    const isr = this.interrupt();
    expect(this.irq.level).toBe(false);
    const used = this.takeUsed();
    const len = opts.inLen ?? 0;
    return {
      status: this.ram.u8(req.status),
      data: this.ram.bytes.slice(req.data - RAM_BASE, req.data - RAM_BASE + len),
      used,
      isr,
    };
  }
}

/** Records every backend call, so a test can tell the device refused a request itself. */
class RecordingBackend implements BlockBackend {
  readonly calls: string[] = [];
  constructor(readonly inner: MemoryBackend) {}
  get length(): number { return this.inner.length; }
  get readOnly(): boolean { return this.inner.readOnly; }
  read(offset: number, into: Uint8Array): Promise<void> { this.calls.push(`read ${offset}+${into.length}`); return this.inner.read(offset, into); }
  write(offset: number, data: Uint8Array): Promise<void> { this.calls.push(`write ${offset}+${data.length}`); return this.inner.write(offset, data); }
  flush(): Promise<void> { this.calls.push('flush'); return this.inner.flush(); }
  discard(offset: number, length: number): Promise<void> { this.calls.push(`discard ${offset}+${length}`); return this.inner.discard(offset, length); }
  close(): Promise<void> { return this.inner.close(); }
}

function makeDisk(sectors = 64, opts: { readOnly?: boolean; serial?: string } = {}) {
  const image = pattern(sectors * 512, 1);
  const backend = new RecordingBackend(new MemoryBackend(image, { readOnly: opts.readOnly }));
  const blk = new VirtioBlk(backend, { serial: opts.serial });
  const drv = new Driver(blk);
  return { image, backend, blk, drv };
}

describe('virtio-mmio transport', () => {
  it('an empty slot reads DeviceID 0 and ignores writes', () => {
    const drv = new Driver(null);
    expect(drv.r(MagicValue)).toBe(0x74726976);
    expect(drv.r(Version)).toBe(2);
    expect(drv.r(DeviceID)).toBe(0);
    expect(drv.r(VendorID)).toBe(0x554d4551);
    drv.w(Status, ACKNOWLEDGE);
    drv.w(QueueNotify, 0);
    expect(drv.status()).toBe(0);
    expect(drv.r(QueueNumMax)).toBe(0);
    expect(drv.r(DeviceFeatures)).toBe(0);
    expect(drv.dev.read(Config, 4)).toBe(0);
    expect(drv.irq.level).toBe(false);
  });

  it('offers VERSION_1, INDIRECT_DESC and the block features, not EVENT_IDX', () => {
    const { drv } = makeDisk();
    expect(drv.r(DeviceID)).toBe(2);
    const f = drv.deviceFeatures();
    for (const b of [F_VERSION_1, F_INDIRECT_DESC, BLK_F_SEG_MAX, BLK_F_BLK_SIZE, BLK_F_FLUSH, BLK_F_DISCARD, BLK_F_WRITE_ZEROES]) {
      expect(f & bit(b)).toBe(bit(b));
    }
    expect(f & bit(F_EVENT_IDX)).toBe(0n);
    expect(f & bit(BLK_F_RO)).toBe(0n);
    drv.w(DeviceFeaturesSel, 2);
    expect(drv.r(DeviceFeatures)).toBe(0);
  });

  it('keeps FEATURES_OK clear without VERSION_1 or with a feature it did not offer', () => {
    const { drv } = makeDisk();
    drv.w(Status, ACKNOWLEDGE | DRIVER);
    drv.w(DriverFeaturesSel, 0);
    drv.w(DriverFeatures, 1 << BLK_F_FLUSH);
    drv.w(DriverFeaturesSel, 1);
    drv.w(DriverFeatures, 0);
    drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    expect(drv.status() & FEATURES_OK).toBe(0);
    drv.w(DriverFeatures, 1 | (1 << 5)); // VERSION_1 plus an unoffered high bit
    drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    expect(drv.status() & FEATURES_OK).toBe(0);
    drv.w(DriverFeatures, 1);
    drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    expect(drv.status() & FEATURES_OK).toBe(FEATURES_OK);
    // Frozen once accepted.
    drv.w(DriverFeatures, 0);
    expect(drv.dev.driverFeatures & bit(F_VERSION_1)).toBe(bit(F_VERSION_1));
    // Writing 0 resets everything.
    drv.w(Status, 0);
    expect(drv.status()).toBe(0);
    expect(drv.dev.driverFeatures).toBe(0n);
  });

  it('exposes the block configuration space at 0x100 with 1-, 2- and 4-byte reads', () => {
    const { drv } = makeDisk(100);
    expect(drv.r(Config + 0)).toBe(100); // capacity low
    expect(drv.r(Config + 4)).toBe(0); // capacity high
    expect(drv.dev.read(Config, 1)).toBe(100);
    expect(drv.dev.read(Config, 2)).toBe(100);
    expect(drv.r(Config + 0x0c)).toBe(254); // seg_max
    expect(drv.r(Config + 0x14)).toBe(512); // blk_size
    expect(drv.r(Config + 0x28)).toBe(1); // max_discard_seg
    expect(drv.r(Config + 0x200 - 4)).toBe(0); // beyond the config space
    expect(drv.r(ConfigGeneration)).toBe(0);
    expect(drv.dev.read(MagicValue, 2)).toBe(0); // registers are 32-bit only
    drv.dev.write(Config, 0xff, 1); // read-only: ignored
    expect(drv.r(Config)).toBe(100);
  });

  it('reports a capacity above 2^32 sectors through both words', () => {
    const huge: BlockBackend = {
      length: 2 ** 50 + 1024,
      readOnly: true,
      read: async () => {},
      write: async () => {},
      flush: async () => {},
      discard: async () => {},
      close: async () => {},
    };
    const drv = new Driver(new VirtioBlk(huge));
    expect(drv.r(Config)).toBe(2);
    expect(drv.r(Config + 4)).toBe(0x200);
    expect(drv.deviceFeatures() & bit(BLK_F_RO)).toBe(bit(BLK_F_RO));
  });
});

describe('virtio-blk requests', () => {
  it('writes and reads sectors, fills the used ring and interrupts', async () => {
    const { drv, image } = makeDisk();
    drv.init();
    const data = pattern(1024, 9);
    const w = await drv.run(T_OUT, 5, { out: data });
    expect(w.status).toBe(S_OK);
    expect(w.used).toHaveLength(1);
    expect(w.used[0]!.len).toBe(1); // only the status byte was written
    expect(w.isr).toBe(1);
    expectBytes(image.subarray(5 * 512, 7 * 512), data);
    expectBytes(image.subarray(4 * 512, 5 * 512), pattern(64 * 512, 1).subarray(4 * 512, 5 * 512));

    const r = await drv.run(T_IN, 5, { inLen: 1024 });
    expect(r.status).toBe(S_OK);
    expectBytes(r.data, data);
    expect(r.used).toEqual([{ id: r.used[0]!.id, len: 1025 }]);
    expect(drv.ram.u16(USED + 2)).toBe(2);
    expect(drv.ram.u16(USED)).toBe(0); // the device never sets VIRTQ_USED_F_NO_NOTIFY
  });

  it('handles scatter-gather lists, direct and indirect', async () => {
    const { drv, image } = makeDisk();
    expect(drv.init() & bit(F_INDIRECT_DESC)).toBe(bit(F_INDIRECT_DESC));
    const r1 = await drv.run(T_IN, 10, { inLen: 4096, split: 5 });
    expect(r1.status).toBe(S_OK);
    expectBytes(r1.data, image.subarray(10 * 512, 18 * 512));
    const r2 = await drv.run(T_IN, 3, { inLen: 2048, split: 4, indirect: true });
    expect(r2.status).toBe(S_OK);
    expectBytes(r2.data, image.subarray(3 * 512, 7 * 512));
    const out = pattern(1536, 4);
    const w = await drv.run(T_OUT, 60, { out, split: 3, indirect: true });
    expect(w.status).toBe(S_OK);
    expectBytes(image.subarray(60 * 512, 63 * 512), out);
  });

  it('processes several requests from one kick', async () => {
    const { drv, image } = makeDisk();
    drv.init();
    const reqs = [0, 1, 2, 3].map((i) => drv.request(T_IN, i * 8, { inLen: 512 }));
    drv.kick();
    await drv.blk!.whenIdle();
    const used = drv.takeUsed();
    expect(used.map((u) => u.id).sort()).toEqual(reqs.map((r) => r.head).sort());
    reqs.forEach((r, i) => {
      expect(drv.ram.u8(r.status)).toBe(S_OK);
      expectBytes(drv.ram.bytes.slice(r.data - RAM_BASE, r.data - RAM_BASE + 512), image.subarray(i * 4096, i * 4096 + 512));
    });
  });

  it('answers FLUSH and GET_ID', async () => {
    const inner = new MemoryBackend(64 * 512);
    const gated = new GatedBackend(inner);
    const drv = new Driver(new VirtioBlk(gated, { serial: 'QEMU-TS-0001' }));
    drv.init();
    drv.request(T_FLUSH, 0);
    drv.kick();
    await settle();
    expect(gated.gates.map((g) => g.op)).toEqual(['flush']);
    expect(drv.blk!.pendingRequests()).toBe(1);
    gated.gates.shift()!.release();
    await drv.blk!.whenIdle();
    expect(gated.flushes).toBe(1);
    expect(drv.takeUsed()).toHaveLength(1);
    drv.interrupt();

    const id = await drv.run(T_GET_ID, 0, { inLen: 20 });
    expect(id.status).toBe(S_OK);
    const expected = new Uint8Array(20);
    expected.set(new TextEncoder().encode('QEMU-TS-0001'));
    expectBytes(id.data, expected);
    expect(id.used[0]!.len).toBe(21);
  });

  it('zeroes and discards sector ranges', async () => {
    const { drv, image } = makeDisk();
    drv.init();
    const dwz = (sector: number, count: number, flags: number): Uint8Array => {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      v.setUint32(0, sector, true);
      v.setUint32(8, count, true);
      v.setUint32(12, flags, true);
      return b;
    };
    // Send the segment as the data of a write-type request (readable after the header).
    const wz = await drv.run(T_WRITE_ZEROES, 0, { out: dwz(8, 4, 0) });
    expect(wz.status).toBe(S_OK);
    expectBytes(image.subarray(8 * 512, 12 * 512), new Uint8Array(4 * 512));
    expect(image[12 * 512]).toBe(pattern(64 * 512, 1)[12 * 512]);
    expect((await drv.run(T_WRITE_ZEROES, 0, { out: dwz(20, 1, 1) })).status).toBe(S_OK); // UNMAP allowed
    expect((await drv.run(T_DISCARD, 0, { out: dwz(30, 2, 0) })).status).toBe(S_OK);
    expectBytes(image.subarray(30 * 512, 32 * 512), new Uint8Array(1024)); // the memory backend zeroes
    expect((await drv.run(T_DISCARD, 0, { out: dwz(30, 2, 1) })).status).toBe(S_UNSUPP); // discard + UNMAP
    expect((await drv.run(T_WRITE_ZEROES, 0, { out: dwz(30, 2, 2) })).status).toBe(S_UNSUPP); // unknown flag
    const two = new Uint8Array(32);
    two.set(dwz(1, 1, 0));
    two.set(dwz(2, 1, 0), 16);
    expect((await drv.run(T_DISCARD, 0, { out: two })).status).toBe(S_UNSUPP); // max_discard_seg is 1
    expect((await drv.run(T_DISCARD, 0, { out: dwz(63, 2, 0) })).status).toBe(S_IOERR); // past the end
    expect((await drv.run(T_DISCARD, 0, { out: new Uint8Array(8) })).status).toBe(S_IOERR); // short segment
  });

  it('suppresses the interrupt when the driver sets VIRTQ_AVAIL_F_NO_INTERRUPT', async () => {
    const { drv } = makeDisk();
    drv.init();
    drv.ram.set16(AVAIL, AVAIL_F_NO_INTERRUPT);
    const req = drv.request(T_IN, 0, { inLen: 512 });
    drv.kick();
    await drv.blk!.whenIdle();
    expect(drv.irq.level).toBe(false);
    expect(drv.r(InterruptStatus)).toBe(0);
    expect(drv.takeUsed().map((u) => u.id)).toEqual([req.head]);
    drv.ram.set16(AVAIL, 0);
    const r = await drv.run(T_IN, 0, { inLen: 512 });
    expect(r.isr).toBe(1);
  });

  it('picks up buffers queued before DRIVER_OK when DRIVER_OK is set', async () => {
    const { drv } = makeDisk();
    drv.init({ driverOk: false });
    drv.request(T_IN, 1, { inLen: 512 });
    drv.kick(); // before DRIVER_OK: the device must not consume it yet
    await drv.blk!.whenIdle();
    expect(drv.takeUsed()).toEqual([]);
    drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    await drv.blk!.whenIdle();
    expect(drv.takeUsed()).toHaveLength(1);
  });

  it('completes requests in the order the backend finishes them', async () => {
    const inner = new MemoryBackend(pattern(64 * 512, 1));
    const gated = new GatedBackend(inner);
    const drv = new Driver(new VirtioBlk(gated));
    drv.init();
    const a = drv.request(T_IN, 0, { inLen: 512 });
    const b = drv.request(T_IN, 1, { inLen: 512 });
    drv.kick();
    await settle();
    expect(gated.gates).toHaveLength(2);
    expect(drv.blk!.pendingRequests()).toBe(2);
    gated.gates[1]!.release();
    await settle();
    expect(drv.takeUsed().map((u) => u.id)).toEqual([b.head]);
    expect(drv.irq.level).toBe(true);
    drv.interrupt();
    gated.gates[0]!.release();
    await drv.blk!.whenIdle();
    expect(drv.takeUsed().map((u) => u.id)).toEqual([a.head]);
    expectBytes(drv.ram.bytes.slice(a.data - RAM_BASE, a.data - RAM_BASE + 512), inner.bytes.subarray(0, 512));
  });

  it('abandons in-flight requests on reset: no guest memory or used ring writes afterwards', async () => {
    const inner = new MemoryBackend(pattern(64 * 512, 1));
    const gated = new GatedBackend(inner);
    const drv = new Driver(new VirtioBlk(gated));
    drv.init();
    const req = drv.request(T_IN, 2, { inLen: 512 });
    drv.kick();
    await settle();
    drv.w(Status, 0);
    expect(drv.status()).toBe(0);
    let idle = false;
    void drv.blk!.whenIdle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false); // the backend read is still outstanding
    gated.gates[0]!.release();
    await drv.blk!.whenIdle();
    expect(idle).toBe(true);
    expect(drv.ram.u16(USED + 2)).toBe(0);
    expect(drv.ram.u8(req.status)).toBe(0xff);
    expectBytes(drv.ram.bytes.slice(req.data - RAM_BASE, req.data - RAM_BASE + 512), new Uint8Array(512));
    expect(drv.irq.level).toBe(false);
    // The device works again after re-initialisation.
    drv.init();
    const r = drv.request(T_IN, 2, { inLen: 512 });
    drv.kick();
    await settle();
    gated.gates[1]!.release();
    await drv.blk!.whenIdle();
    expect(drv.ram.u8(r.status)).toBe(S_OK);
  });

  it('saves in-flight requests and resubmits them on restore', async () => {
    const inner = new MemoryBackend(pattern(64 * 512, 1));
    const gated = new GatedBackend(inner);
    const drv = new Driver(new VirtioBlk(gated));
    drv.init();
    const req = drv.request(T_IN, 7, { inLen: 1024 });
    drv.kick();
    await settle();
    const state = JSON.parse(JSON.stringify(drv.dev.saveState()));
    // A second machine with the same RAM and disk contents.
    const blk2 = new VirtioBlk(new MemoryBackend(inner.bytes.slice()));
    const dev2 = new VirtioMmio(drv.ram, drv.irq, blk2);
    dev2.restoreState(state);
    await blk2.whenIdle();
    expect(drv.ram.u8(req.status)).toBe(S_OK);
    expectBytes(drv.ram.bytes.slice(req.data - RAM_BASE, req.data - RAM_BASE + 1024), inner.bytes.subarray(7 * 512, 9 * 512));
    expect(drv.ram.u16(USED + 2)).toBe(1);
    expect(dev2.read(InterruptStatus, 4)).toBe(1);
    expect(dev2.read(Status, 4)).toBe(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    gated.gates[0]!.release(); // the first machine's read completes too
    await drv.blk!.whenIdle();
  });

  it('puts a guest write into the image file once the device is idle and flushed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-ts-vblk-'));
    try {
      const path = join(dir, 'disk.img');
      writeFileSync(path, new Uint8Array(64 * 512));
      const backend = await openRawFile(path);
      const blk = new VirtioBlk(backend);
      const drv = new Driver(blk);
      drv.init();
      const data = pattern(2048, 11);
      drv.request(T_OUT, 16, { out: data, split: 2 });
      drv.kick();
      // What the machine does at exit.
      await blk.whenIdle();
      await backend.flush();
      await backend.close();
      expectBytes(new Uint8Array(readFileSync(path)).subarray(16 * 512, 20 * 512), data);
      expect(drv.takeUsed()).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('virtio-blk against a hostile driver', () => {
  /** Expect DEVICE_NEEDS_RESET with a configuration-change interrupt, nothing used. */
  function expectNeedsReset(drv: Driver, reason: RegExp): void {
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(drv.irq.level).toBe(true);
    expect(drv.r(InterruptStatus) & 2).toBe(2);
    expect(drv.errors.join('\n')).toMatch(reason);
  }

  /** After a reset and re-initialisation, the device serves requests again. */
  async function expectRecovers(drv: Driver): Promise<void> {
    drv.w(Status, 0);
    expect(drv.status()).toBe(0);
    expect(drv.irq.level).toBe(false);
    drv.init();
    const r = await drv.run(T_IN, 0, { inLen: 512 });
    expect(r.status).toBe(S_OK);
  }

  it('detects a descriptor loop', async () => {
    const { drv } = makeDisk();
    drv.init();
    const hdr = drv.alloc(16);
    drv.writeDesc(0, hdr, 16, DESC_F_NEXT, 1);
    drv.writeDesc(1, hdr, 16, DESC_F_NEXT, 0);
    drv.publish(0);
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /longer than the queue size/);
    expect(drv.ram.u16(USED + 2)).toBe(0);
    // Further kicks do nothing until reset.
    drv.request(T_IN, 0, { inLen: 512 });
    drv.kick();
    await drv.blk!.whenIdle();
    expect(drv.ram.u16(USED + 2)).toBe(0);
    await expectRecovers(drv);
  });

  it('bounds a chain by the queue size even through every descriptor', async () => {
    const { drv } = makeDisk();
    drv.init({ queueSize: 4 });
    const buf = drv.alloc(512);
    for (let i = 0; i < 4; i++) drv.writeDesc(i, buf, 16, DESC_F_NEXT, (i + 1) % 4);
    drv.publish(2);
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /longer than the queue size 4/);
  });

  it('rejects bad indirect tables', async () => {
    const cases: [string, (drv: Driver) => void, RegExp][] = [
      ['loop', (drv) => {
        const t = drv.alloc(32);
        drv.writeDesc(0, t + 64, 16, DESC_F_NEXT, 1, t);
        drv.writeDesc(1, t + 64, 16, DESC_F_NEXT, 0, t);
        drv.writeDesc(0, t, 32, DESC_F_INDIRECT, 0);
      }, /indirect descriptor chain loops/],
      ['length', (drv) => drv.writeDesc(0, drv.alloc(32), 24, DESC_F_INDIRECT, 0), /not a multiple of 16/],
      ['too long', (drv) => drv.writeDesc(0, drv.alloc(16 * 2048), 16 * 2048, DESC_F_INDIRECT, 0), /too long/],
      ['nested', (drv) => {
        const t = drv.alloc(16);
        drv.writeDesc(0, t, 16, DESC_F_INDIRECT, 0, t);
        drv.writeDesc(0, t, 16, DESC_F_INDIRECT, 0);
      }, /inside an indirect table/],
      ['indirect+next', (drv) => drv.writeDesc(0, drv.alloc(16), 16, DESC_F_INDIRECT | DESC_F_NEXT, 1), /NEXT/],
      ['next outside table', (drv) => {
        const t = drv.alloc(32);
        drv.writeDesc(0, t + 64, 16, DESC_F_NEXT, 2, t);
        drv.writeDesc(0, t, 32, DESC_F_INDIRECT, 0);
      }, /outside its table of 2/],
      ['table outside RAM', (drv) => drv.writeDesc(0, OUTSIDE_RAM, 32, DESC_F_INDIRECT, 0), /indirect table is not in RAM/],
    ];
    for (const [, setup, reason] of cases) {
      const { drv } = makeDisk();
      drv.init();
      setup(drv);
      drv.publish(0);
      drv.kick();
      await drv.blk!.whenIdle();
      expectNeedsReset(drv, reason);
      expect(drv.ram.u16(USED + 2)).toBe(0);
    }
    // Without VIRTIO_F_INDIRECT_DESC negotiated, an indirect descriptor is a violation.
    const { drv } = makeDisk();
    drv.init({ want: ~bit(F_INDIRECT_DESC) });
    drv.request(T_IN, 0, { inLen: 512, indirect: true });
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /without VIRTIO_F_INDIRECT_DESC/);
  });

  it('refuses buffers outside RAM', async () => {
    for (const where of ['data', 'status', 'desc-table', 'huge']) {
      const { drv } = makeDisk();
      drv.init();
      if (where === 'desc-table') {
        drv.w(Status, 0);
        drv.init({ driverOk: false });
        drv.w(QueueReady, 0);
        drv.w(QueueDescLow, OUTSIDE_RAM);
        drv.w(QueueReady, 1);
        drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        drv.publish(0);
        drv.kick();
        await drv.blk!.whenIdle();
        expectNeedsReset(drv, /descriptor table is not in RAM/);
        continue;
      }
      const req = drv.request(T_IN, 0, { inLen: 512 });
      const chain = [req.head, (req.head + 1) % drv.queueSize, (req.head + 2) % drv.queueSize];
      if (where === 'data') drv.writeDesc(chain[1]!, RAM_BASE + RAM_SIZE - 256, 512, DESC_F_WRITE | DESC_F_NEXT, chain[2]!);
      if (where === 'status') drv.writeDesc(chain[2]!, OUTSIDE_RAM, 1, DESC_F_WRITE, 0);
      if (where === 'huge') drv.writeDesc(chain[1]!, 2 ** 60, 512, DESC_F_WRITE | DESC_F_NEXT, chain[2]!);
      drv.kick();
      await drv.blk!.whenIdle();
      expectNeedsReset(drv, where === 'huge' ? /address out of range/ : /is not in RAM/);
      expect(drv.ram.u16(USED + 2)).toBe(0);
      await expectRecovers(drv);
    }
  });

  it('refuses an available index that runs ahead by more than the queue size, and bad heads', async () => {
    const { drv } = makeDisk();
    drv.init();
    drv.ram.set16(AVAIL + 2, 17);
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /more than the queue size 16/);

    const second = makeDisk().drv;
    second.init();
    second.publish(16); // head == queue size
    second.kick();
    await second.blk!.whenIdle();
    expectNeedsReset(second, /not below the queue size/);
  });

  it('refuses a queue size that is not a power of two', async () => {
    const { drv } = makeDisk();
    drv.init({ queueSize: 3, driverOk: false });
    // Before DRIVER_OK the device only sets the bit; there is nobody to interrupt yet.
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(drv.irq.level).toBe(false);
    expect(drv.errors.join('\n')).toMatch(/queue size 3/);
    drv.w(Status, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(drv.status()).toBe(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | NEEDS_RESET);
    drv.request(T_IN, 0, { inLen: 512 });
    drv.kick();
    await drv.blk!.whenIdle();
    expect(drv.ram.u16(USED + 2)).toBe(0);
    await expectRecovers(drv);
  });

  it('needs a reset when a request has no device-writable status byte', async () => {
    const { drv } = makeDisk();
    drv.init();
    const hdr = drv.alloc(16);
    drv.addChain([{ addr: hdr, len: 16, write: false }]);
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /no device-writable status byte/);
  });

  it('answers IOERR for out-of-range sectors and bad lengths', async () => {
    const { drv, image, backend } = makeDisk(64);
    drv.init();
    const before = image.slice();
    expect((await drv.run(T_IN, 63, { inLen: 512 })).status).toBe(S_OK); // the last sector
    expect(backend.calls).toEqual([`read ${63 * 512}+512`]);
    expect((await drv.run(T_IN, 63, { inLen: 1024 })).status).toBe(S_IOERR);
    expect((await drv.run(T_IN, 64, { inLen: 512 })).status).toBe(S_IOERR);
    expect((await drv.run(T_OUT, 64, { out: new Uint8Array(512) })).status).toBe(S_IOERR);
    expect((await drv.run(T_IN, 0, { inLen: 512, sectorHi: 0xffffffff })).status).toBe(S_IOERR);
    expect((await drv.run(T_OUT, 0xffffffff, { out: new Uint8Array(512), sectorHi: 0xffffffff })).status).toBe(S_IOERR);
    expect((await drv.run(T_IN, 0, { inLen: 100 })).status).toBe(S_IOERR); // not whole sectors
    expect((await drv.run(T_OUT, 0, { out: new Uint8Array(513) })).status).toBe(S_IOERR);
    expectBytes(image, before);
    expect(backend.calls).toHaveLength(1); // refused by the device, not by the backend
    // The device keeps working.
    expect((await drv.run(T_IN, 0, { inLen: 512 })).status).toBe(S_OK);
    expect(drv.status() & NEEDS_RESET).toBe(0);
  });

  it('answers IOERR for data in the wrong direction and a short header', async () => {
    const { drv, image, backend } = makeDisk();
    drv.init();
    const before = image.slice();
    const status = (): number => drv.alloc(1, 1);
    const kickAndStatus = async (s: number): Promise<number> => {
      drv.ram.bytes[s - RAM_BASE] = 0xff;
      drv.kick();
      await drv.blk!.whenIdle();
      drv.interrupt();
      drv.takeUsed();
      return drv.ram.u8(s);
    };
    const header = (type: number): number => {
      const h = drv.alloc(16);
      drv.ram.set32(h, type);
      return h;
    };
    // IN whose data buffer is device-readable.
    let s = status();
    drv.addChain([
      { addr: header(T_IN), len: 16, write: false },
      { addr: drv.alloc(512), len: 512, write: false },
      { addr: s, len: 1, write: true },
    ]);
    expect(await kickAndStatus(s)).toBe(S_IOERR);
    // OUT whose data buffer is device-writable (the device would have to write guest data).
    s = status();
    const dataBuf = drv.alloc(512);
    drv.addChain([
      { addr: header(T_OUT), len: 16, write: false },
      { addr: dataBuf, len: 512, write: true },
      { addr: s, len: 1, write: true },
    ]);
    expect(await kickAndStatus(s)).toBe(S_IOERR);
    expectBytes(image, before);
    expect(backend.calls).toEqual([]);
    // Header in a device-writable buffer: the header is missing.
    s = status();
    drv.addChain([
      { addr: header(T_IN), len: 16, write: true },
      { addr: s, len: 1, write: true },
    ]);
    expect(await kickAndStatus(s)).toBe(S_IOERR);
    // Header of 8 bytes.
    s = status();
    drv.addChain([
      { addr: header(T_IN), len: 8, write: false },
      { addr: s, len: 1, write: true },
    ]);
    expect(await kickAndStatus(s)).toBe(S_IOERR);
    // A readable descriptor after a writable one breaks the ring protocol itself.
    s = status();
    drv.addChain([
      { addr: header(T_IN), len: 16, write: false },
      { addr: drv.alloc(512), len: 512, write: true },
      { addr: s, len: 1, write: false },
    ]);
    drv.kick();
    await drv.blk!.whenIdle();
    expectNeedsReset(drv, /readable descriptor after a device-writable one/);
  });

  it('answers UNSUPP for unknown request types', async () => {
    const { drv } = makeDisk();
    drv.init();
    const r = await drv.run(99, 0);
    expect(r.status).toBe(S_UNSUPP);
    expect(r.used[0]!.len).toBe(1);
    expect((await drv.run(T_IN, 0, { inLen: 512 })).status).toBe(S_OK);
  });

  it('refuses writes to a read-only disk with IOERR', async () => {
    const { drv, image, backend } = makeDisk(64, { readOnly: true });
    const f = drv.init();
    expect(f & bit(BLK_F_RO)).toBe(bit(BLK_F_RO));
    expect(f & bit(BLK_F_DISCARD)).toBe(0n);
    const before = image.slice();
    expect((await drv.run(T_OUT, 0, { out: pattern(512, 3) })).status).toBe(S_IOERR);
    const seg = new Uint8Array(16);
    seg[8] = 1;
    expect((await drv.run(T_WRITE_ZEROES, 0, { out: seg })).status).toBe(S_IOERR);
    expect((await drv.run(T_DISCARD, 0, { out: seg })).status).toBe(S_IOERR);
    expectBytes(image, before);
    expect(backend.calls).toEqual([]);
    expect((await drv.run(T_FLUSH, 0)).status).toBe(S_OK);
    const r = await drv.run(T_IN, 0, { inLen: 512 });
    expect(r.status).toBe(S_OK);
    expectBytes(r.data, before.subarray(0, 512));
  });

  it('survives random descriptor garbage without throwing', async () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let round = 0; round < 200; round++) {
      const { drv } = makeDisk(16);
      drv.init({ queueSize: 8 });
      for (let i = 0; i < 8; i++) {
        const inRam = rand() % 4 !== 0;
        const addr = inRam ? RAM_BASE + 0x10000 + (rand() % 0x1000) * 16 : rand() * 4096;
        const len = rand() % 3 === 0 ? rand() : rand() % 2048;
        drv.writeDesc(i, addr, len, rand() & 7, rand() % 10);
      }
      // Some headers where the descriptors may point.
      for (let i = 0; i < 64; i++) drv.ram.set32(RAM_BASE + 0x10000 + (rand() % 0x1000) * 16, rand() % 16);
      for (let i = 0; i < 1 + (rand() % 8); i++) drv.publish(rand() % 9);
      expect(() => drv.kick()).not.toThrow();
      await drv.blk!.whenIdle();
      expect(drv.ram.u16(USED + 2)).toBeLessThanOrEqual(8);
    }
  });
});
