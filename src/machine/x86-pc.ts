/**
 * The x86 `pc` board, so far in the parts bare-metal test programs use (the full i440FX
 * PC with its interrupt controllers, timers, PCI and ACPI is the PC board's work): RAM
 * at 0, COM1 (16550 at I/O port 0x3f8), QEMU's isa-debug-exit device
 * (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`: a write of v ends the run with
 * status (v << 1) | 1), the debug console port 0xe9 (`-debugcon`), the fast A20 gate at
 * port 0x92, and the Multiboot v1 loader QEMU uses for `-kernel prog.elf`.
 *
 * Multiboot (the Multiboot Specification 0.6.96, section 3.2): the ELF's segments are
 * loaded at their physical addresses and the CPU enters the ELF entry in 32-bit
 * protected mode with flat 4 GiB segments, paging and interrupts off, EAX = 0x2BADB002
 * and EBX = the physical address of the Multiboot information (memory sizes, the
 * command line, an E820-style memory map), as QEMU's Multiboot option ROM leaves it.
 */
import { TcgEngine, ExecMode } from '../accel/tcg/engine.js';
import { Uart16550 } from '../devices/uart16550.js';
import { LatchedIrqLine } from '../devices/irq.js';
import { X86Cpu, ATTR_DB, ATTR_G, ATTR_P, ATTR_S, CR0_ET, CR0_PE } from '../frontend/x86/cpu.js';
import { CPU_MODELS, withCpuProps } from '../frontend/x86/cpuid.js';
import { GPR_BASE, Seg } from '../frontend/x86/state.js';
import { AddressSpace } from '../memory/address-space.js';
import { IoSpace } from '../memory/io-space.js';
import type { MmioOps } from '../memory/mmio.js';
import { VirtualClock, hostTimeSource } from './clock.js';
import { EM_386, EM_X86_64, isElf, parseElf } from './elf.js';
import { MachineOptions, UserError } from './options.js';
import { runBoard } from './run-loop.js';
import { OutputBuffer } from './output-buffer.js';

/** Deterministic mode: virtual nanoseconds per guest instruction. */
const DETERMINISTIC_NS_PER_INSN = 10;
const MiB = 1024 * 1024;

/** Where the board puts things (one table, as for virt). */
export const PC_LAYOUT = {
  com1: { port: 0x3f8, size: 8 },
  debugcon: 0xe9,
  a20Port: 0x92,
  postPort: 0x80,
  /** isa-debug-exit's defaults, as QEMU's. */
  debugExit: { iobase: 0x501, iosize: 2 },
  /** Multiboot information, its command line and memory map, and the boot GDT. */
  multibootInfo: 0x9000,
  multibootCmdline: 0x9100,
  multibootMmap: 0x9400,
  bootGdt: 0x8f00,
  /** The BIOS area below 1 MiB that the memory map reserves. */
  lowRamEnd: 0x9fc00,
  biosStart: 0xf0000,
} as const;

const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** Multiboot info flags: mem_lower/upper, cmdline, mmap, boot loader name. */
const MBI_MEM = 1 << 0;
const MBI_CMDLINE = 1 << 2;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;

export interface DebugExitConfig {
  iobase: number;
  iosize: number;
}

/** Port writes that end the run: QEMU's isa-debug-exit. */
class DebugExit implements MmioOps {
  constructor(private readonly onExit: (status: number) => void) {}
  read(): number {
    return 0xffffffff | 0;
  }
  write(_offset: number, value: number): void {
    this.onExit(((value << 1) | 1) & 0xff);
  }
}

/** Bytes written to a port go to a sink (the debug console); reads return 0xe9, as Bochs and QEMU do. */
class DebugCon implements MmioOps {
  constructor(private readonly sink: (byte: number) => void) {}
  read(): number {
    return 0xe9;
  }
  write(_offset: number, value: number): void {
    this.sink(value & 0xff);
  }
}

export class X86PcMachine {
  readonly bus: AddressSpace;
  readonly io = new IoSpace();
  readonly cpu: X86Cpu;
  readonly engine: TcgEngine;
  readonly clock: VirtualClock;
  readonly uart: Uart16550;
  exitStatus: number | null = null;
  private readonly output: OutputBuffer;

  constructor(
    private readonly options: MachineOptions,
    mode: ExecMode = 'jit',
  ) {
    this.output = new OutputBuffer(options.serialOut);
    if (options.ramSize < 2 * MiB) throw new UserError(`-m ${options.ramSize / MiB}M: too little RAM for the pc board (2M at least)`);
    if (options.ramSize > 3 * 1024 * MiB) {
      throw new UserError(`-m ${options.ramSize / MiB}M: the pc board takes at most 3072M for now (RAM above 4 GiB is not mapped yet)`);
    }
    const modelName = options.cpu ?? 'qemu64';
    const base = CPU_MODELS[modelName];
    if (!base) throw new UserError(`-cpu ${modelName}: unable to find CPU model '${modelName}' (x86 models: ${Object.keys(CPU_MODELS).join(', ')})`);
    let model = base;
    try {
      model = withCpuProps(base, options.cpuProps ?? {});
    } catch (e) {
      throw new UserError(`-cpu ${modelName}: ${(e as Error).message}`);
    }
    if (options.bios !== 'none' && options.bios !== 'default') {
      throw new UserError('-bios: the pc board does not run firmware images yet; give a Multiboot -kernel');
    }
    if (!options.kernel) throw new UserError('no -kernel given: the pc board needs a Multiboot kernel for now');

    const bus = (this.bus = new AddressSpace(0, options.ramSize));
    let engine: TcgEngine | null = null;
    const clock = (this.clock = new VirtualClock(
      options.deterministic ? () => (engine ? engine.instret * DETERMINISTIC_NS_PER_INSN : 0) : hostTimeSource(),
    ));
    const io = this.io;
    const cpu = (this.cpu = new X86Cpu(bus, model, {
      instret: () => engine!.instret,
      requestExit: () => engine?.requestExit(),
      flushTranslations: () => engine?.flush(),
      tlbFlushed: () => engine?.tlbFlushed(),
      tlbFlushedPage: (lo, hi) => engine?.tlbFlushedPage(lo, hi),
      ioRead: (port, size) => io.read(port, size),
      ioWrite: (port, value, size) => io.write(port, value, size),
      acknowledgeInterrupt: () => -1,
      shutdown: (reason) => this.shutdown(reason),
      tsc: () => BigInt(Math.floor(clock.nowNs())),
      overlapsCode: (page, offset, length) => engine!.overlapsCode(page, offset, length),
      logTrap: options.log.int ? (t) => options.logSink(t + '\n') : undefined,
    }));
    engine = this.engine = new TcgEngine(cpu, { mode, backend: options.backend, log: options.log, logSink: options.logSink });
    clock.onDeadlinesChanged = () => engine!.requestExit();

    // ---- devices --------------------------------------------------------------------------
    this.uart = new Uart16550(new LatchedIrqLine(), (b) => this.emit(b));
    io.add(PC_LAYOUT.com1.port, PC_LAYOUT.com1.size, this.uart, 'com1');
    const exit = options.debugExit;
    if (exit) {
      io.add(exit.iobase, exit.iosize, new DebugExit((status) => this.end(status)), 'isa-debug-exit', Math.min(4, exit.iosize));
    }
    if (options.debugconOut) io.add(PC_LAYOUT.debugcon, 1, new DebugCon(options.debugconOut), 'debugcon');
    io.add(PC_LAYOUT.a20Port, 1, {
      read: () => (cpu.a20Mask === -1 ? 2 : 0),
      write: (_o, v) => {
        cpu.a20Mask = v & 2 ? -1 : ~(1 << 20);
        cpu.flushTlb();
        if (v & 1) this.shutdown('reset through port 0x92');
      },
    }, 'port92');
    io.add(PC_LAYOUT.postPort, 1, { read: () => 0xff, write: () => {} }, 'post');

    this.bootMultiboot();
  }

  /** Load a Multiboot ELF and set the CPU up as a Multiboot loader leaves it. */
  private bootMultiboot(): void {
    const k = this.options.kernel!;
    const data = k.data;
    const fail = (msg: string): never => {
      throw new UserError(`-kernel ${k.path}: ${msg}`);
    };
    if (!isElf(data)) fail('not a Multiboot kernel (the pc board loads Multiboot ELF files for now)');
    const header = findMultibootHeader(data);
    if (header < 0) fail('not a Multiboot kernel: no Multiboot header in its first 8 KiB');
    const elf = parseElf(data);
    if (elf.machine !== EM_386 && elf.machine !== EM_X86_64) fail('not an x86 ELF file');
    if (elf.elfClass !== 32) fail('Cannot load x86-64 image, give a 32bit one.');
    const ramSize = this.options.ramSize;
    for (const seg of elf.loadSegments) {
      const end = seg.paddr + seg.memsz;
      if (seg.paddr < 0x100000n && seg.memsz > 0n && seg.paddr < BigInt(PC_LAYOUT.multibootInfo + 0x1000)) {
        fail(`segment at 0x${seg.paddr.toString(16)} overlaps the boot area below 1 MiB`);
      }
      if (end > BigInt(ramSize)) fail(`segment 0x${seg.paddr.toString(16)}-0x${end.toString(16)} does not fit in ${ramSize / MiB} MiB of RAM`);
      this.bus.writeBytes(Number(seg.paddr), seg.data);
      if (seg.memsz > seg.filesz) this.bus.writeBytes(Number(seg.paddr + seg.filesz), new Uint8Array(Number(seg.memsz - seg.filesz)));
    }
    this.writeMultibootInfo(k.path);
    this.enterProtectedMode(Number(elf.entry));
  }

  private writeMultibootInfo(kernelPath: string): void {
    const L = PC_LAYOUT;
    const ramSize = this.options.ramSize;
    const w32 = (addr: number, v: number) => this.bus.ramView.setUint32(addr, v >>> 0, true);
    const cmdline = `${kernelPath}${this.options.append ? ' ' + this.options.append : ''}`;
    const text = new TextEncoder().encode(cmdline.slice(0, 0x2ff) + '\0');
    this.bus.writeBytes(L.multibootCmdline, text);
    const name = new TextEncoder().encode('qemu-ts\0');
    const nameAt = L.multibootCmdline + 0x300 - 16;
    this.bus.writeBytes(nameAt, name);
    // Memory map: entries of (size, base64, length64, type).
    const map: [number, number, number][] = [
      [0, L.lowRamEnd, 1],
      [L.lowRamEnd, 0xa0000 - L.lowRamEnd, 2],
      [L.biosStart, 0x100000 - L.biosStart, 2],
      [0x100000, ramSize - 0x100000, 1],
    ];
    let at = L.multibootMmap;
    for (const [base, length, type] of map) {
      w32(at, 20);
      w32(at + 4, base);
      w32(at + 8, 0);
      w32(at + 12, length);
      w32(at + 16, 0);
      w32(at + 20, type);
      at += 24;
    }
    const mbi = L.multibootInfo;
    for (let i = 0; i < 88; i += 4) w32(mbi + i, 0);
    w32(mbi, MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME);
    w32(mbi + 4, L.lowRamEnd / 1024);
    w32(mbi + 8, (ramSize - 0x100000) / 1024);
    w32(mbi + 16, L.multibootCmdline);
    w32(mbi + 44, at - L.multibootMmap);
    w32(mbi + 48, L.multibootMmap);
    w32(mbi + 64, nameAt);
  }

  /** 32-bit protected mode with flat segments from a small GDT (code 0x08, data 0x10). */
  private enterProtectedMode(entry: number): void {
    const cpu = this.cpu;
    const gdt = PC_LAYOUT.bootGdt;
    const v = this.bus.ramView;
    // null, code (0x00cf9a000000ffff), data (0x00cf92000000ffff)
    v.setBigUint64(gdt, 0n, true);
    v.setBigUint64(gdt + 8, 0x00cf9a000000ffffn, true);
    v.setBigUint64(gdt + 16, 0x00cf92000000ffffn, true);
    cpu.gdtBase = BigInt(gdt);
    cpu.gdtLimit = 23;
    cpu.idtBase = 0n;
    cpu.idtLimit = 0x3ff;
    // As SeaBIOS and QEMU's Multiboot loader leave it: caches on (CD and NW clear).
    cpu.writeCr0(CR0_PE | CR0_ET);
    const flat = ATTR_P | ATTR_S | ATTR_DB | ATTR_G;
    for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentRaw(s, 0x10, 0n, 0xffffffff, flat | 3);
    cpu.setSegmentRaw(Seg.CS, 0x08, 0n, 0xffffffff, flat | 0xb);
    cpu.state[GPR_BASE] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
    cpu.state[GPR_BASE + 6] = PC_LAYOUT.multibootInfo;
    cpu.setRip(BigInt(entry >>> 0));
  }

  private end(status: number): void {
    this.exitStatus = status;
    this.engine.requestExit();
  }

  private shutdown(reason: string): void {
    this.options.logSink(`qemu-ts: ${reason}\n`);
    // Without firmware there is nothing to reset into: a reset ends the run, as -no-reboot does.
    this.end(0);
  }

  private emit(byte: number): void {
    this.output.push(byte);
  }

  flushOutput(): void {
    this.output.flush();
  }

  stop(status = 0): void {
    this.end(status);
  }

  get deterministic(): boolean {
    return this.options.deterministic === true;
  }
  ioPending(): boolean {
    return false;
  }

  async run(): Promise<number> {
    const detach = this.options.attachConsole?.(
      (bytes) => this.uart.receive(bytes),
      () => this.stop(0),
    );
    try {
      return await runBoard(this);
    } finally {
      detach?.();
      this.flushOutput();
    }
  }
}

/** Offset of a valid Multiboot v1 header (magic, flags, checksum summing to 0) in the first 8 KiB, or -1. */
export function findMultibootHeader(data: Uint8Array): number {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = Math.min(8192, data.length) - 12;
  for (let i = 0; i <= end; i += 4) {
    if (v.getUint32(i, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = v.getUint32(i + 4, true);
    const sum = (MULTIBOOT_HEADER_MAGIC + flags + v.getUint32(i + 8, true)) >>> 0;
    if (sum === 0) return i;
  }
  return -1;
}
