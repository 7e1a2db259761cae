/**
 * virtio-mmio transport, version 2 (non-legacy): Virtual I/O Device (VIRTIO) Version
 * 1.1, section 4.2 "Virtio Over MMIO", register layout of 4.2.2:
 *
 *   0x000 MagicValue        R  0x74726976 ("virt")
 *   0x004 Version           R  2
 *   0x008 DeviceID          R  0 = no device (an empty slot; Linux skips it)
 *   0x00c VendorID          R  0x554d4551 ("QEMU", as QEMU reports)
 *   0x010 DeviceFeatures    R  32 bits of the offered features, word DeviceFeaturesSel
 *   0x014 DeviceFeaturesSel W
 *   0x020 DriverFeatures    W  32 bits of the accepted features, word DriverFeaturesSel
 *   0x024 DriverFeaturesSel W
 *   0x030 QueueSel          W
 *   0x034 QueueNumMax       R  0 if the selected queue does not exist
 *   0x038 QueueNum          W
 *   0x044 QueueReady        RW
 *   0x050 QueueNotify       W  queue index
 *   0x060 InterruptStatus   R  bit 0 used buffer, bit 1 configuration change
 *   0x064 InterruptACK      W
 *   0x070 Status            RW writing 0 resets the device
 *   0x080 QueueDescLow/High      W  descriptor table
 *   0x090 QueueDriverLow/High    W  available ring
 *   0x0a0 QueueDeviceLow/High    W  used ring
 *   0x0ac SHMSel, 0x0b0 SHMLenLow/High, 0x0b8 SHMBaseLow/High: no shared memory
 *         regions, so the length reads as -1 (1.2, 4.2.2)
 *   0x0fc ConfigGeneration  R
 *   0x100 Config            RW device-specific configuration space
 *
 * Registers below 0x100 are 32-bit: other widths read 0 and writes are ignored, as
 * QEMU does. The configuration space takes 1, 2 and 4-byte accesses (8-byte fields
 * arrive as two 4-byte accesses, low word first).
 *
 * The transport offers VIRTIO_F_VERSION_1 and VIRTIO_F_INDIRECT_DESC on top of the
 * device's own features, and accepts FEATURES_OK only for a subset of the offer that
 * includes VERSION_1 (otherwise the bit stays clear, as 3.1.1 prescribes). Queues are
 * processed only after DRIVER_OK; buffers made available before it are picked up when
 * the driver sets DRIVER_OK. A protocol violation sets DEVICE_NEEDS_RESET, stops all
 * queues and, after DRIVER_OK, raises a configuration-change interrupt (2.1.2).
 *
 * The interrupt line is level-triggered: high while InterruptStatus is non-zero.
 */
import type { IrqLine } from '../irq.js';
import type { MmioOps } from '../../memory/mmio.js';
import type { GuestMemory } from '../../memory/address-space.js';
import { Virtqueue, VIRTQ_MAX_SIZE } from './virtqueue.js';

/** Register offsets, named as in the specification. */
export const VirtioMmioReg = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceID: 0x008,
  VendorID: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptACK: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

export const VIRTIO_MMIO_MAGIC = 0x74726976;
export const VIRTIO_MMIO_VERSION = 2;
/** QEMU's vendor id ("QEMU" little-endian), which Linux ignores but tools print. */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;
/** Size of one transport's register window (QEMU's virt maps slots 0x1000 apart). */
export const VIRTIO_MMIO_REGION_SIZE = 0x200;

// Device status bits (2.1).
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
export const VIRTIO_STATUS_DRIVER = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4;
export const VIRTIO_STATUS_FEATURES_OK = 8;
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64;
export const VIRTIO_STATUS_FAILED = 128;

// InterruptStatus bits (4.2.2).
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

// Reserved feature bits (6).
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

/** Features every device gets from the transport and the virtqueue code. */
const TRANSPORT_FEATURES = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_F_INDIRECT_DESC));

/** What a device model sees of its transport. */
export interface VirtioHost {
  /** Features the driver accepted (valid once FEATURES_OK is set). */
  readonly driverFeatures: bigint;
  /** The live queue `index`, or null if the driver has not enabled it. */
  queue(index: number): Virtqueue | null;
  /** The configuration space changed: bump ConfigGeneration and interrupt the driver. */
  configChanged(): void;
  /** The driver broke the protocol: set DEVICE_NEEDS_RESET (reason goes to the log). */
  deviceError(reason: string): void;
}

/**
 * A virtio device model, independent of the transport (MMIO here, PCI later).
 * The transport owns feature negotiation, queue setup, interrupts and status.
 */
export interface VirtioDevice {
  /** Virtio device ID (5: 2 = block, 1 = network, ...). */
  readonly deviceId: number;
  /** Device-specific feature bits offered (the transport adds its own). */
  readonly features: bigint;
  /** Maximum size of each queue; the length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Size of the configuration space in bytes. */
  readonly configSize: number;
  /** Called once, by the transport's constructor. */
  attach(host: VirtioHost): void;
  /** Read `size` (1, 2, 4) bytes at `offset` (< configSize), zero-extended. */
  readConfig(offset: number, size: number): number;
  writeConfig(offset: number, value: number, size: number): void;
  /** The driver notified queue `queueIndex` (after DRIVER_OK). Must not throw on guest input. */
  notify(queueIndex: number, queue: Virtqueue): void;
  /** Device reset (status written 0): forget every request; queues are already detached. */
  reset(): void;
  saveState?(): unknown;
  /** Called after the transport restored its queues. */
  restoreState?(state: unknown): void;
}

interface QueueConfig {
  num: number;
  ready: boolean;
  descLo: number;
  descHi: number;
  driverLo: number;
  driverHi: number;
  deviceLo: number;
  deviceHi: number;
  live: Virtqueue | null;
}

export interface VirtioMmioQueueState {
  num: number;
  ready: boolean;
  descLo: number;
  descHi: number;
  driverLo: number;
  driverHi: number;
  deviceLo: number;
  deviceHi: number;
  lastAvailIdx: number;
  usedIdx: number;
}

/** Serializable transport state (plain JSON); `device` is the device model's own. */
export interface VirtioMmioState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  /** Accepted features, hex. */
  driverFeatures: string;
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  queues: VirtioMmioQueueState[];
  device?: unknown;
}

const u32 = (x: number): number => x >>> 0;

export class VirtioMmio implements MmioOps, VirtioHost {
  /** Called with the reason whenever the device enters DEVICE_NEEDS_RESET. */
  onDeviceError: (reason: string) => void = () => {};

  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private acceptedFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private irqLevel = false;
  private readonly queues: QueueConfig[];

  constructor(
    private readonly mem: GuestMemory,
    private readonly irq: IrqLine,
    readonly device: VirtioDevice | null,
  ) {
    const sizes = device?.queueMaxSizes ?? [];
    for (const max of sizes) {
      if (!Number.isInteger(max) || max < 1 || max > VIRTQ_MAX_SIZE || (max & (max - 1)) !== 0) {
        throw new Error(`virtio queue size ${max} is not a power of two up to ${VIRTQ_MAX_SIZE}`);
      }
    }
    this.queues = sizes.map((max) => ({
      num: max,
      ready: false,
      descLo: 0,
      descHi: 0,
      driverLo: 0,
      driverHi: 0,
      deviceLo: 0,
      deviceHi: 0,
      live: null,
    }));
    device?.attach(this);
  }

  /** Features offered to the driver: the device's plus the transport's. */
  get offeredFeatures(): bigint {
    return this.device ? this.device.features | TRANSPORT_FEATURES : 0n;
  }

  get driverFeatures(): bigint {
    return this.acceptedFeatures;
  }

  /** The device status register as the driver sees it. */
  get deviceStatus(): number {
    return this.status;
  }

  // --- MmioOps ---------------------------------------------------------------------

  read(offset: number, size: number): number {
    const R = VirtioMmioReg;
    if (offset >= R.Config) {
      const dev = this.device;
      const rel = offset - R.Config;
      if (!dev || rel + size > dev.configSize) return 0;
      const v = dev.readConfig(rel, size);
      return size === 4 ? v | 0 : v;
    }
    if (size !== 4) return 0;
    switch (offset) {
      case R.MagicValue:
        return VIRTIO_MMIO_MAGIC;
      case R.Version:
        return VIRTIO_MMIO_VERSION;
      case R.VendorID:
        return VIRTIO_MMIO_VENDOR;
    }
    if (!this.device) return 0; // an empty slot: DeviceID 0 and nothing else
    switch (offset) {
      case R.DeviceID:
        return this.device.deviceId;
      case R.DeviceFeatures:
        if (this.deviceFeaturesSel > 1) return 0;
        return Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffffffffn) | 0;
      case R.QueueNumMax:
        return this.queues[this.queueSel] ? this.device.queueMaxSizes[this.queueSel]! : 0;
      case R.QueueReady:
        return this.queues[this.queueSel]?.ready ? 1 : 0;
      case R.InterruptStatus:
        return this.interruptStatus;
      case R.Status:
        return this.status;
      case R.SHMLenLow:
      case R.SHMLenHigh:
        return -1; // no shared memory region with this id
      case R.ConfigGeneration:
        return this.configGeneration | 0;
      default:
        return 0; // write-only or reserved
    }
  }

  write(offset: number, value: number, size: number): void {
    const R = VirtioMmioReg;
    const dev = this.device;
    if (!dev) return;
    if (offset >= R.Config) {
      const rel = offset - R.Config;
      if (rel + size <= dev.configSize) dev.writeConfig(rel, size === 4 ? u32(value) : value, size);
      return;
    }
    if (size !== 4) return;
    const v = u32(value);
    const q = this.queues[this.queueSel];
    switch (offset) {
      case R.DeviceFeaturesSel:
        this.deviceFeaturesSel = v;
        return;
      case R.DriverFeaturesSel:
        this.driverFeaturesSel = v;
        return;
      case R.DriverFeatures:
        this.writeDriverFeatures(v);
        return;
      case R.QueueSel:
        this.queueSel = v;
        return;
      case R.QueueNum:
        if (q && !q.ready) q.num = v;
        return;
      case R.QueueReady:
        if (q) this.setQueueReady(this.queueSel, q, (v & 1) !== 0);
        return;
      case R.QueueNotify:
        this.queueNotify(v);
        return;
      case R.InterruptACK:
        this.interruptStatus &= ~v;
        this.updateIrq();
        return;
      case R.Status:
        this.writeStatus(v & 0xff);
        return;
      case R.QueueDescLow:
        if (q && !q.ready) q.descLo = v;
        return;
      case R.QueueDescHigh:
        if (q && !q.ready) q.descHi = v;
        return;
      case R.QueueDriverLow:
        if (q && !q.ready) q.driverLo = v;
        return;
      case R.QueueDriverHigh:
        if (q && !q.ready) q.driverHi = v;
        return;
      case R.QueueDeviceLow:
        if (q && !q.ready) q.deviceLo = v;
        return;
      case R.QueueDeviceHigh:
        if (q && !q.ready) q.deviceHi = v;
        return;
      default:
        return; // read-only or reserved
    }
  }

  // --- VirtioHost ------------------------------------------------------------------

  queue(index: number): Virtqueue | null {
    return this.queues[index]?.live ?? null;
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & VIRTIO_STATUS_DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  deviceError(reason: string): void {
    if (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) return;
    this.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    for (const q of this.queues) q.live?.markBroken();
    this.onDeviceError(reason);
    if (this.status & VIRTIO_STATUS_DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  // --- snapshots -------------------------------------------------------------------

  saveState(): VirtioMmioState {
    return {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: this.acceptedFeatures.toString(16),
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => ({
        num: q.num,
        ready: q.ready,
        descLo: q.descLo,
        descHi: q.descHi,
        driverLo: q.driverLo,
        driverHi: q.driverHi,
        deviceLo: q.deviceLo,
        deviceHi: q.deviceHi,
        lastAvailIdx: q.live?.lastAvailIdx ?? 0,
        usedIdx: q.live?.usedIdx ?? 0,
      })),
      device: this.device?.saveState?.(),
    };
  }

  restoreState(state: VirtioMmioState): void {
    const num = (x: unknown, mask = 0xffffffff): number => (typeof x === 'number' ? (x & mask) >>> 0 : 0);
    this.reset();
    if (!this.device) return;
    this.status = num(state.status, 0xff);
    this.deviceFeaturesSel = num(state.deviceFeaturesSel);
    this.driverFeaturesSel = num(state.driverFeaturesSel);
    const feats = typeof state.driverFeatures === 'string' && /^[0-9a-f]{1,16}$/.test(state.driverFeatures);
    this.acceptedFeatures = feats ? BigInt('0x' + state.driverFeatures) & this.offeredFeatures : 0n;
    this.queueSel = num(state.queueSel);
    this.configGeneration = num(state.configGeneration);
    const saved = Array.isArray(state.queues) ? state.queues : [];
    this.queues.forEach((q, i) => {
      const s = saved[i];
      if (!s) return;
      q.num = num(s.num);
      q.descLo = num(s.descLo);
      q.descHi = num(s.descHi);
      q.driverLo = num(s.driverLo);
      q.driverHi = num(s.driverHi);
      q.deviceLo = num(s.deviceLo);
      q.deviceHi = num(s.deviceHi);
      if (s.ready === true) {
        this.setQueueReady(i, q, true);
        if (q.live) {
          q.live.lastAvailIdx = num(s.lastAvailIdx, 0xffff);
          q.live.usedIdx = num(s.usedIdx, 0xffff);
        }
      }
    });
    if (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) for (const q of this.queues) q.live?.markBroken();
    this.interruptStatus = num(state.interruptStatus, VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    this.irqLevel = false;
    this.irq.set(false);
    this.updateIrq();
    if (state.device !== undefined) this.device.restoreState?.(state.device);
  }

  // --- internals -------------------------------------------------------------------

  private writeDriverFeatures(v: number): void {
    // Features are frozen once accepted (3.1.1 step 5).
    if (this.status & VIRTIO_STATUS_FEATURES_OK) return;
    if (this.driverFeaturesSel > 1) return;
    const shift = BigInt(32 * this.driverFeaturesSel);
    this.acceptedFeatures = (this.acceptedFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const dev = this.device!;
    const wasOk = (this.status & VIRTIO_STATUS_DRIVER_OK) !== 0;
    // DEVICE_NEEDS_RESET is the device's to set; FEATURES_OK only sticks when acceptable.
    let next = (v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if ((next & VIRTIO_STATUS_FEATURES_OK) && !(this.status & VIRTIO_STATUS_FEATURES_OK)) {
      const f = this.acceptedFeatures;
      const ok = (f & ~this.offeredFeatures) === 0n && (f & (1n << BigInt(VIRTIO_F_VERSION_1))) !== 0n;
      if (!ok) next &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    this.status = next;
    if (!wasOk && (next & VIRTIO_STATUS_DRIVER_OK)) {
      // Buffers the driver queued before DRIVER_OK are handled now.
      this.queues.forEach((q, i) => {
        if (q.live && q.live.pendingCount() > 0) this.deliverNotify(dev, i, q.live);
      });
    }
  }

  private setQueueReady(index: number, q: QueueConfig, ready: boolean): void {
    if (ready === q.ready) return;
    if (!ready) {
      q.live?.detach();
      q.live = null;
      q.ready = false;
      return;
    }
    const max = this.device!.queueMaxSizes[index]!;
    q.ready = true;
    const live = new Virtqueue(
      this.mem,
      {
        size: q.num,
        descAddr: q.descHi * 0x1_0000_0000 + q.descLo,
        availAddr: q.driverHi * 0x1_0000_0000 + q.driverLo,
        usedAddr: q.deviceHi * 0x1_0000_0000 + q.deviceLo,
        indirect: (this.acceptedFeatures & (1n << BigInt(VIRTIO_F_INDIRECT_DESC))) !== 0n,
      },
      {
        error: (reason) => this.deviceError(`virtio queue ${index}: ${reason}`),
        interrupt: () => this.raise(VIRTIO_MMIO_INT_VRING),
      },
    );
    q.live = live;
    if (q.num < 1 || q.num > max || (q.num & (q.num - 1)) !== 0) {
      live.fail(`queue size ${q.num} is not a power of two up to ${max}`);
    } else if (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
      live.markBroken();
    }
  }

  private queueNotify(index: number): void {
    const q = this.queues[index];
    if (!q?.live || !(this.status & VIRTIO_STATUS_DRIVER_OK)) return;
    if (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) return;
    this.deliverNotify(this.device!, index, q.live);
  }

  /** The device must not throw on guest input; if it does anyway, the guest gets NEEDS_RESET, not the host. */
  private deliverNotify(dev: VirtioDevice, index: number, queue: Virtqueue): void {
    try {
      dev.notify(index, queue);
    } catch (e) {
      this.deviceError(`virtio queue ${index}: internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private reset(): void {
    this.queues.forEach((q, i) => {
      q.live?.detach();
      q.live = null;
      q.ready = false;
      q.num = this.device!.queueMaxSizes[i]!; // QueueNum defaults to the maximum, as in QEMU
      q.descLo = q.descHi = q.driverLo = q.driverHi = q.deviceLo = q.deviceHi = 0;
    });
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.acceptedFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.updateIrq();
    this.device?.reset();
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
