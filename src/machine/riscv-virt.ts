/**
 * The RISC-V `virt` board, laid out as QEMU's hw/riscv/virt.c lays it out
 * (src/machine/virt-memmap.ts) so stock firmware and kernels run unchanged: RAM, the
 * SiFive test finisher (also the DT's syscon poweroff/reboot), goldfish RTC, CLINT,
 * PLIC, a 16550 UART, eight virtio-mmio slots, and a generated device tree.
 *
 * Three ways to start, chosen by -bios:
 *  - 'none': -kernel is a bare-metal program (ELF or raw at the start of RAM) entered in
 *    M-mode; HTIF is mapped when the ELF has a `tohost` symbol.
 *  - 'default': the built-in SBI (src/machine/riscv-sbi.ts). The kernel (Linux Image,
 *    ELF or raw) is entered in S-mode with a0 = hartid and a1 = the device tree.
 *  - a firmware file (OpenSBI fw_jump.bin / fw_dynamic.bin): loaded at the start of
 *    RAM and entered in M-mode with a0 = hartid, a1 = device tree and a2 = the
 *    fw_dynamic info block in the mask ROM, as QEMU's reset vector leaves them.
 */
import { TcgEngine, ExecMode } from '../accel/tcg/engine.js';
import { Clint } from '../devices/clint.js';
import { GoldfishRtc } from '../devices/goldfish-rtc.js';
import { Htif } from '../devices/htif.js';
import type { IrqLine } from '../devices/irq.js';
import { Plic } from '../devices/plic.js';
import { SifiveTest } from '../devices/sifive-test.js';
import { Uart16550 } from '../devices/uart16550.js';
import { VirtioBlk } from '../devices/virtio/blk.js';
import { VirtioMmio } from '../devices/virtio/mmio.js';
import { Irq, RiscvCpu } from '../frontend/riscv/cpu.js';
import { Priv } from '../frontend/riscv/state.js';
import { AddressSpace } from '../memory/address-space.js';
import type { MmioOps } from '../memory/mmio.js';
import { VirtualClock, hostTimeSource } from './clock.js';
import { EM_RISCV, ElfImage, findSymbol, isElf } from './elf.js';
import { findNode, node, parseFdt, prop, serializeFdt } from './fdt.js';
import { loadImage } from './loader.js';
import { MachineOptions, UserError } from './options.js';
import { BuiltinSbi } from './riscv-sbi.js';
import { buildVirtFdt } from './virt-fdt.js';
import { runBoard } from './run-loop.js';
import { OutputBuffer } from './output-buffer.js';
import {
  VIRT_IRQ, VIRT_KERNEL_OFFSET, VIRT_MEMMAP, VIRT_PLIC_NUM_SOURCES,
} from './virt-memmap.js';

/** Deterministic mode: virtual nanoseconds per guest instruction. */
const DETERMINISTIC_NS_PER_INSN = 10;
/** Deterministic mode: the RTC's fixed wall-clock start (2026-01-01T00:00:00Z). */
const DETERMINISTIC_EPOCH_NS = 1767225600n * 1_000_000_000n;

/** A status passed back when the guest asked for a reset (finisher 0x7777, SBI reboot). */
export const RESET_REQUESTED = -1;

/** What the CPU implements, for the device tree (Linux reads it to pick extensions). */
const RISCV_ISA = 'rv64imafdc_zicsr_zifencei_zba_zbb_zbs';

const MiB = 1024 * 1024;
/** Exceptions the built-in SBI leaves to S-mode: everything but ecalls from S and M. */
const SBI_MEDELEG = 0xb1ffn;
/** Interrupts the built-in SBI leaves to S-mode: SSI, STI, SEI. */
const SBI_MIDELEG = (1n << 1n) | (1n << 5n) | (1n << 9n);

/** fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h): where the next stage starts. */
const FW_DYNAMIC_INFO_MAGIC = 0x4942534fn;
const FW_DYNAMIC_INFO_VERSION = 2n;
const FW_DYNAMIC_NEXT_MODE_S = 1n;

/** Read-only bytes as an MMIO region (the mask ROM). */
class RomRegion implements MmioOps {
  constructor(private readonly bytes: Uint8Array) {}
  read(offset: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | (this.bytes[offset + i] ?? 0);
    return size === 4 ? v | 0 : v;
  }
  write(): void {}
}

const hex = (v: number | bigint) => '0x' + v.toString(16);

export class RiscvVirtMachine {
  readonly bus: AddressSpace;
  readonly cpu: RiscvCpu;
  readonly engine: TcgEngine;
  readonly clock: VirtualClock;
  readonly uart: Uart16550;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly rtc: GoldfishRtc;
  readonly disks: VirtioBlk[] = [];
  /** The device tree the guest was given (null for -bios none). */
  readonly dtb: Uint8Array | null = null;
  /** Exit status once the guest has ended the run (RESET_REQUESTED for a reset). */
  exitStatus: number | null = null;
  private readonly output: OutputBuffer;
  private readonly ramBase = VIRT_MEMMAP.dram.base;

  constructor(
    private readonly options: MachineOptions,
    mode: ExecMode = 'jit',
  ) {
    this.output = new OutputBuffer(options.serialOut);
    if (options.machine !== 'virt') throw new UserError(`unsupported machine type '${options.machine}'`);
    if (options.ramSize < 16 * MiB) throw new UserError(`-m ${options.ramSize / MiB}M: too little RAM for the virt board (16M at least)`);
    const firmware = options.bios;
    const builtinSbi = firmware === 'default';
    if (!options.kernel && firmware === 'none') throw new UserError('no -kernel given: nothing to run with -bios none');
    if (!options.kernel && builtinSbi) throw new UserError('no -kernel given: the built-in firmware needs a kernel to start');

    const bus = (this.bus = new AddressSpace(this.ramBase, options.ramSize));
    let engine: TcgEngine | null = null;
    const clock = (this.clock = new VirtualClock(
      options.deterministic ? () => (engine ? engine.instret * DETERMINISTIC_NS_PER_INSN : 0) : hostTimeSource(),
    ));
    let sbi: BuiltinSbi | null = null;
    const cpu = (this.cpu = new RiscvCpu(bus, 0, {
      instret: () => engine!.instret,
      mtime: () => this.clint.mtimeNow(),
      requestExit: () => engine?.requestExit(),
      flushTranslations: () => engine?.flush(),
      tlbFlushed: () => engine?.tlbFlushed(),
      tlbFlushedPage: (lo, hi) => engine?.tlbFlushedPage(lo, hi),
      machineTrap: (cause, interrupt, epc) => (sbi ? sbi.handleTrap(cause, interrupt, epc) : false),
      logTrap: options.log.int ? (t) => options.logSink(t + '\n') : undefined,
    }));
    engine = this.engine = new TcgEngine(cpu, { mode, backend: options.backend, log: options.log, logSink: options.logSink });
    clock.onDeadlinesChanged = () => engine!.requestExit();

    // ---- devices --------------------------------------------------------------------------
    const line = (irq: Irq): IrqLine => ({ set: (level) => cpu.setIrq(irq, level) });
    const end = (status: number) => {
      this.exitStatus = status;
      engine!.requestExit();
    };
    const test = new SifiveTest({ onExit: end, onReset: () => this.reboot() });
    bus.addMmio(VIRT_MEMMAP.test.base, VIRT_MEMMAP.test.size, test, 'test');
    // With the built-in SBI there is no M-mode code to forward the machine timer to S-mode,
    // so the CLINT's timer line drives STIP directly: what OpenSBI would do in software.
    this.clint = new Clint(clock, [{ msip: line(Irq.MSI), mtip: line(builtinSbi ? Irq.STI : Irq.MTI) }]);
    bus.addMmio(VIRT_MEMMAP.clint.base, VIRT_MEMMAP.clint.size, this.clint, 'clint');
    // PLIC contexts: hart 0 M-mode (MEIP), hart 0 S-mode (SEIP).
    this.plic = new Plic(VIRT_PLIC_NUM_SOURCES, [line(Irq.MEI), line(Irq.SEI)]);
    bus.addMmio(VIRT_MEMMAP.plic.base, VIRT_MEMMAP.plic.size, this.plic, 'plic');
    this.uart = new Uart16550(this.plic.source(VIRT_IRQ.uart0), (b) => this.emit(b));
    bus.addMmio(VIRT_MEMMAP.uart0.base, VIRT_MEMMAP.uart0.size, this.uart, 'uart0');
    const wallClock = options.deterministic
      ? () => DETERMINISTIC_EPOCH_NS
      : () => BigInt(Date.now()) * 1_000_000n;
    this.rtc = new GoldfishRtc(clock, this.plic.source(VIRT_IRQ.rtc), wallClock);
    bus.addMmio(VIRT_MEMMAP.rtc.base, VIRT_MEMMAP.rtc.size, this.rtc, 'rtc');
    const drives = options.drives ?? [];
    if (drives.length > VIRT_MEMMAP.virtio.count) {
      throw new UserError(`too many virtio drives: the virt board has ${VIRT_MEMMAP.virtio.count} virtio-mmio slots`);
    }
    // Like QEMU, devices fill the slots from the highest address down, so the first disk
    // sits in the last slot and Linux (probing in address order) still names it vda
    // when it is the only one.
    for (let slot = 0; slot < VIRT_MEMMAP.virtio.count; slot++) {
      const driveIndex = VIRT_MEMMAP.virtio.count - 1 - slot;
      const drive = drives[driveIndex];
      const blk = drive ? new VirtioBlk(drive.backend, { serial: drive.serial }) : null;
      if (blk) this.disks[driveIndex] = blk;
      const transport = new VirtioMmio(bus, this.plic.source(VIRT_IRQ.virtio + slot), blk);
      bus.addMmio(VIRT_MEMMAP.virtio.base + slot * VIRT_MEMMAP.virtio.size, VIRT_MEMMAP.virtio.size, transport, `virtio${slot}`);
    }

    // ---- images and boot state -------------------------------------------------------------
    if (firmware === 'none') {
      this.bootBareMetal();
      return;
    }
    if (builtinSbi) {
      sbi = new BuiltinSbi(cpu, {
        setTimer: (value) => this.clint.setTimecmp(0, value),
        putchar: (b) => this.emit(b),
        getchar: () => this.uart.takeHostByte(),
        reset: (kind, failure) => (kind === 'shutdown' ? end(failure ? 1 : 0) : this.reboot()),
      });
    }
    this.dtb = this.bootLinux(builtinSbi);
  }

  private get ramEnd(): number {
    return this.ramBase + this.options.ramSize;
  }

  private ramRanges() {
    return [{ base: BigInt(this.ramBase), size: BigInt(this.options.ramSize) }];
  }

  private load(file: { path: string; data: Uint8Array }, option: string, rawAt: number) {
    return loadImage({
      data: file.data,
      path: file.path,
      option,
      expectedMachine: EM_RISCV,
      expectedClass: 64,
      machineName: 'virt',
      ram: this.ramRanges(),
      write: (addr, bytes) => this.bus.writeBytes(Number(addr), bytes),
      rawLoadAddress: BigInt(rawAt),
    });
  }

  private bootBareMetal(): void {
    const loaded = this.load(this.options.kernel!, '-kernel', this.ramBase);
    if (loaded.elf) this.mapHtif(loaded.elf);
    // As QEMU's reset vector leaves them for -bios none: a0 = hartid, a1 = device tree (none).
    this.cpu.setX(10, 0n);
    this.cpu.setX(11, 0n);
    this.cpu.pc = loaded.entry;
  }

  /** Place firmware, kernel, initrd and device tree; set the boot registers. Returns the DTB. */
  private bootLinux(builtinSbi: boolean): Uint8Array {
    const opts = this.options;
    const cpu = this.cpu;
    let firmwareEnd = this.ramBase;
    let firmwareEntry = 0n;
    if (!builtinSbi && opts.bios !== 'none' && opts.bios !== 'default') {
      const fw = this.load(opts.bios, '-bios', this.ramBase);
      firmwareEntry = fw.entry;
      firmwareEnd = this.ramBase + imageEnd(fw.elf, opts.bios.data.length);
    }
    // The kernel: at RAM + 2 MiB (or the next 2 MiB boundary after the firmware).
    const kernelBase = Math.max(this.ramBase + VIRT_KERNEL_OFFSET, alignUp(firmwareEnd, 2 * MiB));
    let kernelEntry = 0n;
    let kernelEnd = kernelBase;
    if (opts.kernel) {
      const k = opts.kernel;
      const imageSize = riscvImageSize(k.data);
      if (imageSize === null && !isElf(k.data)) {
        throw new UserError(`-kernel ${k.path}: not a RISC-V kernel (neither an ELF file nor a Linux Image)`);
      }
      if (imageSize !== null && kernelBase + imageSize > this.ramEnd) {
        throw new UserError(`-kernel ${k.path}: the kernel needs ${imageSize >> 20} MiB from ${hex(kernelBase)}, more than the ${opts.ramSize >> 20} MiB of RAM`);
      }
      const loaded = this.load(k, '-kernel', kernelBase);
      kernelEntry = loaded.entry;
      kernelEnd = loaded.elf ? this.ramBase + imageEnd(loaded.elf, 0) : kernelBase + Math.max(imageSize ?? 0, k.data.length);
    }
    // The device tree at the last 2 MiB boundary that leaves room for it (QEMU's rule).
    let initrdRange: { start: number; end: number } | undefined;
    if (opts.initrd) {
      const data = opts.initrd.data;
      if (data.length === 0) throw new UserError(`-initrd ${opts.initrd.path}: the file is empty`);
      if (!looksLikeInitramfs(data)) {
        throw new UserError(`-initrd ${opts.initrd.path}: not an initramfs (a cpio archive, plain or gzip/xz/zstd/lz4/bzip2/lzma-compressed)`);
      }
      // QEMU: halfway into RAM for small machines, else 128 MiB above the kernel.
      const start = alignUp(Math.max(kernelBase + Math.min(opts.ramSize / 2, 128 * MiB), kernelEnd), 4096);
      initrdRange = { start, end: start + data.length };
    }
    let dtb = opts.dtb ? this.patchUserDtb(opts.dtb, initrdRange) : this.generateDtb(initrdRange);
    const fdtAddr = alignDown(Math.min(this.ramEnd, this.ramBase + 3 * 1024 * MiB) - dtb.length, 2 * MiB);
    if (fdtAddr < kernelEnd) {
      throw new UserError(`-m ${opts.ramSize >> 20}M: not enough RAM for the kernel and the device tree`);
    }
    if (initrdRange && initrdRange.end > fdtAddr) {
      throw new UserError(`-initrd ${opts.initrd!.path}: the initrd (${(opts.initrd!.data.length / MiB).toFixed(1)} MiB) does not fit in RAM at ${hex(initrdRange.start)}; use more -m`);
    }
    if (initrdRange) this.bus.writeBytes(initrdRange.start, opts.initrd!.data);
    this.bus.writeBytes(fdtAddr, dtb);

    cpu.setX(10, 0n); // hartid
    cpu.setX(11, BigInt(fdtAddr));
    if (builtinSbi) {
      // The state OpenSBI leaves when it enters the kernel: S-mode, traps delegated,
      // counters readable.
      cpu.writeCsr(0x302, SBI_MEDELEG);
      cpu.writeCsr(0x303, SBI_MIDELEG);
      cpu.writeCsr(0x306, 7n);
      // User mode may read `time` (the vDSO's clock_gettime does). Linux grants that in
      // its SBI PMU driver (scounteren = TM), which needs the PMU extension we don't
      // offer, so grant it here as the kernel would have.
      cpu.writeCsr(0x106, 2n);
      cpu.priv = Priv.S;
      cpu.pc = kernelEntry;
    } else {
      // Real firmware: M-mode at its entry; a2 points at fw_dynamic_info in the mask ROM.
      const rom = new Uint8Array(VIRT_MEMMAP.mrom.size);
      const info = new DataView(rom.buffer, 0x40, 48);
      const words = [FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, kernelEntry || BigInt(kernelBase),
        FW_DYNAMIC_NEXT_MODE_S, 0n, 0n];
      words.forEach((w, i) => info.setBigUint64(i * 8, w, true));
      this.bus.addMmio(VIRT_MEMMAP.mrom.base, VIRT_MEMMAP.mrom.size, new RomRegion(rom), 'mrom');
      cpu.setX(12, BigInt(VIRT_MEMMAP.mrom.base + 0x40));
      cpu.pc = firmwareEntry;
    }
    return dtb;
  }

  private generateDtb(initrd?: { start: number; end: number }): Uint8Array {
    return buildVirtFdt({
      ramSize: this.options.ramSize,
      harts: 1,
      isa: RISCV_ISA,
      mmuType: 'riscv,sv48',
      bootargs: this.options.append,
      initrd,
    });
  }

  /** A -dtb file: validated, then /chosen gets bootargs and the initrd range, as QEMU does. */
  private patchUserDtb(file: { path: string; data: Uint8Array }, initrd?: { start: number; end: number }): Uint8Array {
    let parsed;
    try {
      parsed = parseFdt(file.data);
    } catch (e) {
      throw new UserError(`-dtb ${file.path}: not a valid device tree blob: ${(e as Error).message}`);
    }
    const root = parsed.root;
    let chosen = findNode(root, '/chosen');
    if (!chosen) {
      chosen = node('chosen', {});
      root.children.push(chosen);
    }
    const set = (name: string, value: Uint8Array) => {
      const i = chosen!.props.findIndex((p) => p.name === name);
      if (i >= 0) chosen!.props[i] = { name, value };
      else chosen!.props.push({ name, value });
    };
    if (this.options.append !== undefined) set('bootargs', prop.string(this.options.append));
    if (initrd) {
      set('linux,initrd-start', prop.u64(BigInt(initrd.start)));
      set('linux,initrd-end', prop.u64(BigInt(initrd.end)));
    }
    return serializeFdt(root);
  }

  private mapHtif(elf: ElfImage): void {
    const tohost = findSymbol(elf, 'tohost');
    if (!tohost) return;
    const htif = new Htif({
      onExit: (status) => {
        this.exitStatus = status;
        this.engine.requestExit();
      },
      putchar: (b) => this.emit(b),
    });
    const fromhost = findSymbol(elf, 'fromhost');
    const base = Number(tohost.value);
    if (fromhost && Number(fromhost.value) === base + 8) {
      this.bus.addMmio(base, 16, htif, 'htif');
    } else {
      this.bus.addMmio(base, 8, htif.tohostRegion, 'htif-tohost');
      if (fromhost) this.bus.addMmio(Number(fromhost.value), 8, htif.fromhostRegion, 'htif-fromhost');
    }
  }

  private reboot(): void {
    this.exitStatus = this.options.noReboot ? 0 : RESET_REQUESTED;
    this.engine.requestExit();
  }

  private emit(byte: number): void {
    this.output.push(byte);
  }

  flushOutput(): void {
    this.output.flush();
  }

  /** Request the run loop to stop (status as given), e.g. from the embedding API. */
  stop(status = 0): void {
    this.exitStatus = status;
    this.engine.requestExit();
  }

  /**
   * Run until the guest exits (finisher, HTIF, SBI) or asks for a reset. Yields to the
   * event loop regularly so host input, block I/O completions and timers are served.
   * Outstanding disk writes are completed and flushed before it resolves.
   */
  async run(): Promise<number> {
    const detach = this.options.attachConsole?.(
      (bytes) => this.uart.receive(bytes),
      () => this.stop(0), // as QEMU exits on C-a x
    );
    try {
      return await runBoard(this);
    } finally {
      detach?.();
      this.flushOutput();
      for (const d of this.disks) if (d) await d.whenIdle();
      for (const d of this.disks) if (d) await d.backend.flush();
    }
  }

  get deterministic(): boolean {
    return this.options.deterministic === true;
  }

  ioPending(): boolean {
    return this.disks.some((d) => d && d.pendingRequests() > 0);
  }
}

/** The formats Linux unpacks as an initramfs: newc/odc cpio, or a compressed stream. */
function looksLikeInitramfs(d: Uint8Array): boolean {
  const starts = (...bytes: number[]) => bytes.every((b, i) => d[i] === b);
  return (
    starts(0x30, 0x37, 0x30, 0x37, 0x30) || // "07070" cpio (newc, crc, odc)
    starts(0x1f, 0x8b) || // gzip
    starts(0xfd, 0x37, 0x7a, 0x58, 0x5a) || // xz
    starts(0x28, 0xb5, 0x2f, 0xfd) || // zstd
    starts(0x02, 0x21, 0x4c, 0x18) || // lz4 legacy
    starts(0x42, 0x5a, 0x68) || // bzip2 "BZh"
    starts(0x5d, 0x00, 0x00) || // lzma
    starts(0x89, 0x4c, 0x5a, 0x4f) // lzo
  );
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
function alignDown(v: number, a: number): number {
  return Math.floor(v / a) * a;
}

/** End of an image relative to RAM: the highest loaded byte of an ELF, else its size. */
function imageEnd(elf: ElfImage | undefined, rawSize: number): number {
  if (!elf) return rawSize;
  let end = 0n;
  for (const s of elf.loadSegments) {
    const e = s.paddr + s.memsz;
    if (e > end) end = e;
  }
  return Number(end) - VIRT_MEMMAP.dram.base;
}

/**
 * The memory a RISC-V Linux `Image` needs (header field image_size), or null if the
 * bytes are not an Image (see Documentation/arch/riscv/boot-image-header.rst).
 */
export function riscvImageSize(data: Uint8Array): number | null {
  if (data.length < 64) return null;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic2 = v.getUint32(0x38, true);
  const isImage = magic2 === 0x05435352 /* "RSC\x05" */ || String.fromCharCode(...data.subarray(0x30, 0x35)) === 'RISCV';
  if (!isImage) return null;
  const size = Number(v.getBigUint64(0x10, true));
  return size > 0 ? size : data.length;
}
