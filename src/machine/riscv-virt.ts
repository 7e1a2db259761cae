/**
 * The RISC-V `virt` board, laid out as QEMU's hw/riscv/virt.c lays it out so the same
 * firmware and kernels run unchanged. This first version carries what bare-metal
 * programs use: RAM, the SiFive test finisher, the CLINT, the 16550 UART and HTIF
 * (when the ELF has a `tohost` symbol). PLIC, RTC, virtio and the device tree come with
 * the system-emulation work.
 */
import { TcgEngine, StopReason, ExecMode } from '../accel/tcg/engine.js';
import { Clint } from '../devices/clint.js';
import { Htif } from '../devices/htif.js';
import { LatchedIrqLine } from '../devices/irq.js';
import { SifiveTest } from '../devices/sifive-test.js';
import { Uart16550 } from '../devices/uart16550.js';
import { RiscvCpu, Irq } from '../frontend/riscv/cpu.js';
import { AddressSpace } from '../memory/address-space.js';
import { VirtualClock, hostTimeSource } from './clock.js';
import { EM_RISCV, findSymbol } from './elf.js';
import { loadImage } from './loader.js';
import { MachineOptions, UserError } from './options.js';
import { VIRT_MEMMAP } from './virt-memmap.js';


/** Deterministic mode: virtual nanoseconds per guest instruction. */
const DETERMINISTIC_NS_PER_INSN = 10;

/** A status passed back when the guest asked for a reset (finisher 0x7777). */
export const RESET_REQUESTED = -1;

export class RiscvVirtMachine {
  readonly bus: AddressSpace;
  readonly cpu: RiscvCpu;
  readonly engine: TcgEngine;
  readonly clock: VirtualClock;
  readonly uart: Uart16550;
  readonly clint: Clint;
  /** Exit status once the guest has ended the run (RESET_REQUESTED for a reset). */
  exitStatus: number | null = null;
  private readonly pendingOutput: number[] = [];

  constructor(
    private readonly options: MachineOptions,
    mode: ExecMode = 'jit',
  ) {
    if (options.machine !== 'virt') throw new UserError(`unsupported machine type '${options.machine}'`);
    if (options.bios !== 'none') {
      throw new UserError(`-bios ${options.bios.path}: only -bios none is supported by this version`);
    }
    if (!options.kernel) throw new UserError('no -kernel given: nothing to run (bare-metal mode needs -kernel)');
    const bus = (this.bus = new AddressSpace(VIRT_MEMMAP.dram.base, options.ramSize));
    let engine: TcgEngine | null = null;
    const clock = (this.clock = new VirtualClock(
      options.deterministic ? () => (engine ? engine.instret * DETERMINISTIC_NS_PER_INSN : 0) : hostTimeSource(),
    ));
    const cpu = (this.cpu = new RiscvCpu(bus, 0, {
      instret: () => engine!.instret,
      mtime: () => this.clint.mtimeNow(),
      requestExit: () => engine?.requestExit(),
      flushTranslations: () => engine?.flush(),
      tlbFlushed: () => engine?.tlbFlushed(),
      logTrap: options.log.int ? (t) => options.logSink(t + '\n') : undefined,
    }));
    engine = this.engine = new TcgEngine(cpu, { mode, log: options.log, logSink: options.logSink });
    clock.onDeadlinesChanged = () => engine!.requestExit();

    const end = (status: number) => {
      this.exitStatus = status;
      engine!.requestExit();
    };
    bus.addMmio(VIRT_MEMMAP.test.base, VIRT_MEMMAP.test.size, new SifiveTest({ onExit: end, onReset: () => end(RESET_REQUESTED) }), 'test');
    this.clint = new Clint(clock, [
      { msip: { set: (l) => cpu.setIrq(Irq.MSI, l) }, mtip: { set: (l) => cpu.setIrq(Irq.MTI, l) } },
    ]);
    bus.addMmio(VIRT_MEMMAP.clint.base, VIRT_MEMMAP.clint.size, this.clint, 'clint');
    this.uart = new Uart16550(new LatchedIrqLine(), (b) => this.emit(b));
    bus.addMmio(VIRT_MEMMAP.uart0.base, VIRT_MEMMAP.uart0.size, this.uart, 'uart0');

    const kernel = options.kernel;
    const loaded = loadImage({
      data: kernel.data,
      path: kernel.path,
      expectedMachine: EM_RISCV,
      machineName: 'virt',
      ram: [{ base: BigInt(VIRT_MEMMAP.dram.base), size: BigInt(options.ramSize) }],
      write: (addr, bytes) => bus.writeBytes(Number(addr), bytes),
      rawLoadAddress: BigInt(VIRT_MEMMAP.dram.base),
    });
    if (loaded.elf) this.mapHtif(loaded.elf);
    // As QEMU's reset vector leaves them for -bios none: a0 = hartid, a1 = device tree (none yet).
    cpu.setX(10, 0n);
    cpu.setX(11, 0n);
    cpu.pc = loaded.entry;
  }

  private mapHtif(elf: NonNullable<ReturnType<typeof loadImage>['elf']>): void {
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

  private emit(byte: number): void {
    this.pendingOutput.push(byte);
    if (this.pendingOutput.length >= 4096) this.flushOutput();
  }

  flushOutput(): void {
    if (this.pendingOutput.length === 0) return;
    this.options.serialOut(Uint8Array.from(this.pendingOutput));
    this.pendingOutput.length = 0;
  }

  /**
   * Run until the guest exits (finisher, HTIF) or asks for a reset. Yields to the event
   * loop regularly so host input and timers are served.
   */
  async run(): Promise<number> {
    const detach = this.options.attachConsole?.(
      (bytes) => this.uart.receive(bytes),
      () => {
        this.exitStatus = 0; // as QEMU exits on C-a x
        this.engine.requestExit();
      },
    );
    try {
      return await this.runLoop();
    } finally {
      detach?.();
    }
  }

  private async runLoop(): Promise<number> {
    const SLICE = 1_000_000;
    let lastYield = performance.now();
    for (;;) {
      const reason = this.engine.run(SLICE);
      this.clock.runDue();
      if (this.exitStatus !== null) break;
      if (reason === StopReason.Halted) {
        this.flushOutput();
        const next = this.clock.nextDeadlineNs;
        if (next !== Infinity) {
          // Idle: jump the virtual clock to the next timer instead of spinning.
          this.clock.skipTo(next);
          this.clock.runDue();
        } else {
          await new Promise((r) => setTimeout(r, 10)); // wait for input
        }
      }
      const now = performance.now();
      if (now - lastYield > 20) {
        this.flushOutput();
        await new Promise((r) => setTimeout(r, 0));
        lastYield = performance.now();
      }
    }
    this.flushOutput();
    return this.exitStatus;
  }
}
