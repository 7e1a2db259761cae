/**
 * The device tree of the RISC-V `virt` board, built from VIRT_MEMMAP the way QEMU 7.2's
 * hw/riscv/virt.c (create_fdt and its helpers) builds it for one socket, so that stock
 * OpenSBI and Linux see the same machine description as under qemu-system-riscv64.
 *
 * Mirrored from QEMU, including the order of nodes and properties in the blob (libfdt
 * prepends, so QEMU's order is the reverse of its code; virtio_mmio nodes therefore run
 * from the highest slot down, which is the order Linux probes them in) and the phandle
 * numbering (cpus from the last hart down, each cpu then its interrupt controller, then
 * the PLIC, then the test device).
 *
 * Left out because qemu-ts does not emulate them: /pmu, /fw-cfg, /flash, /platform-bus,
 * /soc/pci, and /chosen/rng-seed unless the caller passes one.
 *
 * Deliberate differences from QEMU 7.2:
 * - plic riscv,ndev is 95 (sources 1..95; VIRT_PLIC_NUM_SOURCES counts source 0).
 *   QEMU 7.2 says 96, one more than the PLIC implements; later QEMU says 95.
 * - linux,initrd-start/-end are 64-bit (two cells), as later QEMU writes them; QEMU 7.2
 *   writes one cell. Linux and OpenSBI accept either width.
 */
import { PhandleAllocator, node, prop, serializeFdt, type FdtNode } from './fdt.js';
import { VIRT_IRQ, VIRT_MEMMAP, VIRT_PLIC_NUM_SOURCES, VIRT_TIMEBASE_HZ } from './virt-memmap.js';

export interface VirtFdtConfig {
  /** RAM size in bytes (RAM starts at VIRT_MEMMAP.dram.base). */
  ramSize: number;
  /** Number of harts (hart ids 0..harts-1). */
  harts: number;
  /** The cpu nodes' riscv,isa string, e.g. "rv64imafdc_zicsr_zifencei_zba_zbb_zbs". */
  isa: string;
  mmuType: 'riscv,sv39' | 'riscv,sv48';
  /** Kernel command line (/chosen/bootargs); omitted when absent or empty, as QEMU does. */
  bootargs?: string;
  /** Guest-physical initrd range [start, end) for /chosen/linux,initrd-start/-end. */
  initrd?: { start: number; end: number };
  /** Number of virtio-mmio transports to describe; default VIRT_MEMMAP.virtio.count. */
  virtioSlots?: number;
  /** Bytes for /chosen/rng-seed (QEMU 7.2 passes 32 random bytes); omitted by default. */
  rngSeed?: Uint8Array;
  /** Make the blob at least this big (free space for firmware fix-ups); default packed. */
  padTo?: number;
}

/** The 16550's input clock on virt (QEMU: 3686400 Hz, i.e. 115200 * 32). */
export const VIRT_UART_CLOCK_HZ = 3_686_400;
/** Values the SiFive test device understands (sifive_test.h FINISHER_PASS / FINISHER_RESET). */
export const VIRT_TEST_FINISHER_PASS = 0x5555;
export const VIRT_TEST_FINISHER_RESET = 0x7777;
/** RISC-V local interrupt numbers used in interrupts-extended. */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

/** Reg for a 2-address-cell, 2-size-cell parent. */
const reg64 = (base: number | bigint, size: number | bigint): Uint8Array => prop.u64(base, size);
const hex = (v: number): string => v.toString(16);

/** The virt board's device tree as an object tree (see buildVirtFdt for the blob). */
export function buildVirtFdtTree(cfg: VirtFdtConfig): FdtNode {
  validate(cfg);
  const m = VIRT_MEMMAP;
  const virtioSlots = cfg.virtioSlots ?? m.virtio.count;
  const phandles = new PhandleAllocator();

  // QEMU allocates cpu phandles from the last hart down: cpu, then its intc.
  const cpuPhandle: number[] = new Array<number>(cfg.harts);
  const intcPhandle: number[] = new Array<number>(cfg.harts);
  for (let hart = cfg.harts - 1; hart >= 0; hart--) {
    cpuPhandle[hart] = phandles.next();
    intcPhandle[hart] = phandles.next();
  }
  const plicPhandle = phandles.next();
  const testPhandle = phandles.next();

  const cpus: FdtNode[] = [];
  const cores: FdtNode[] = [];
  for (let hart = 0; hart < cfg.harts; hart++) {
    cpus.push(
      node(
        `cpu@${hart}`,
        {
          phandle: prop.phandle(cpuPhandle[hart]!),
          device_type: 'cpu',
          reg: prop.u32(hart),
          status: 'okay',
          compatible: 'riscv',
          'riscv,isa': cfg.isa,
          'mmu-type': cfg.mmuType,
        },
        [
          node('interrupt-controller', {
            '#interrupt-cells': prop.u32(1),
            'interrupt-controller': prop.empty(),
            compatible: 'riscv,cpu-intc',
            phandle: prop.phandle(intcPhandle[hart]!),
          }),
        ],
      ),
    );
    cores.push(node(`core${hart}`, { cpu: prop.phandle(cpuPhandle[hart]!) }));
  }

  const perHart = (a: number, b: number): Uint8Array =>
    prop.u32(...intcPhandle.flatMap((ph) => [ph, a, ph, b]));

  const chosenProps: Array<[string, Uint8Array | string]> = [];
  if (cfg.initrd !== undefined) {
    chosenProps.push(['linux,initrd-end', prop.u64(cfg.initrd.end)]);
    chosenProps.push(['linux,initrd-start', prop.u64(cfg.initrd.start)]);
  }
  if (cfg.rngSeed !== undefined) chosenProps.push(['rng-seed', prop.bytes(cfg.rngSeed)]);
  if (cfg.bootargs !== undefined && cfg.bootargs !== '') chosenProps.push(['bootargs', cfg.bootargs]);
  chosenProps.push(['stdout-path', `/soc/serial@${hex(m.uart0.base)}`]);

  const virtio: FdtNode[] = [];
  for (let slot = virtioSlots - 1; slot >= 0; slot--) {
    const base = m.virtio.base + slot * m.virtio.size;
    virtio.push(
      node(`virtio_mmio@${hex(base)}`, {
        interrupts: prop.u32(VIRT_IRQ.virtio + slot),
        'interrupt-parent': prop.phandle(plicPhandle),
        reg: reg64(base, m.virtio.size),
        compatible: 'virtio,mmio',
      }),
    );
  }

  const soc = node(
    'soc',
    {
      '#address-cells': prop.u32(2),
      '#size-cells': prop.u32(2),
      compatible: 'simple-bus',
      ranges: prop.empty(),
    },
    [
      node(`rtc@${hex(m.rtc.base)}`, {
        interrupts: prop.u32(VIRT_IRQ.rtc),
        'interrupt-parent': prop.phandle(plicPhandle),
        reg: reg64(m.rtc.base, m.rtc.size),
        compatible: 'google,goldfish-rtc',
      }),
      node(`serial@${hex(m.uart0.base)}`, {
        interrupts: prop.u32(VIRT_IRQ.uart0),
        'interrupt-parent': prop.phandle(plicPhandle),
        'clock-frequency': prop.u32(VIRT_UART_CLOCK_HZ),
        reg: reg64(m.uart0.base, m.uart0.size),
        compatible: 'ns16550a',
      }),
      node(`test@${hex(m.test.base)}`, {
        phandle: prop.phandle(testPhandle),
        reg: reg64(m.test.base, m.test.size),
        compatible: prop.strings('sifive,test1', 'sifive,test0', 'syscon'),
      }),
      ...virtio,
      node(`plic@${hex(m.plic.base)}`, {
        phandle: prop.phandle(plicPhandle),
        'riscv,ndev': prop.u32(VIRT_PLIC_NUM_SOURCES - 1),
        reg: reg64(m.plic.base, m.plic.size),
        'interrupts-extended': perHart(IRQ_M_EXT, IRQ_S_EXT),
        'interrupt-controller': prop.empty(),
        compatible: prop.strings('sifive,plic-1.0.0', 'riscv,plic0'),
        '#address-cells': prop.u32(0),
        '#interrupt-cells': prop.u32(1),
      }),
      node(`clint@${hex(m.clint.base)}`, {
        'interrupts-extended': perHart(IRQ_M_SOFT, IRQ_M_TIMER),
        reg: reg64(m.clint.base, m.clint.size),
        compatible: prop.strings('sifive,clint0', 'riscv,clint0'),
      }),
    ],
  );

  return node(
    '',
    {
      '#address-cells': prop.u32(2),
      '#size-cells': prop.u32(2),
      compatible: 'riscv-virtio',
      model: 'riscv-virtio,qemu',
    },
    [
      node('chosen', chosenProps),
      node('poweroff', {
        value: prop.u32(VIRT_TEST_FINISHER_PASS),
        offset: prop.u32(0),
        regmap: prop.phandle(testPhandle),
        compatible: 'syscon-poweroff',
      }),
      node('reboot', {
        value: prop.u32(VIRT_TEST_FINISHER_RESET),
        offset: prop.u32(0),
        regmap: prop.phandle(testPhandle),
        compatible: 'syscon-reboot',
      }),
      node(`memory@${hex(m.dram.base)}`, {
        device_type: 'memory',
        reg: reg64(m.dram.base, cfg.ramSize),
      }),
      node(
        'cpus',
        {
          '#address-cells': prop.u32(1),
          '#size-cells': prop.u32(0),
          'timebase-frequency': prop.u32(VIRT_TIMEBASE_HZ),
        },
        [...cpus, node('cpu-map', {}, [node('cluster0', {}, cores)])],
      ),
      soc,
    ],
  );
}

/** The virt board's device tree blob (DTB version 17). */
export function buildVirtFdt(cfg: VirtFdtConfig): Uint8Array {
  return serializeFdt(buildVirtFdtTree(cfg), cfg.padTo !== undefined ? { padTo: cfg.padTo } : {});
}

function validate(cfg: VirtFdtConfig): void {
  if (!Number.isSafeInteger(cfg.ramSize) || cfg.ramSize <= 0) throw new RangeError(`virt fdt: bad ramSize ${cfg.ramSize}`);
  if (!Number.isInteger(cfg.harts) || cfg.harts < 1 || cfg.harts > 512) {
    throw new RangeError(`virt fdt: harts must be 1..512, not ${cfg.harts}`);
  }
  if (!/^rv(32|64)[a-z0-9_]*$/.test(cfg.isa)) throw new RangeError(`virt fdt: bad riscv,isa string "${cfg.isa}"`);
  const slots = cfg.virtioSlots ?? VIRT_MEMMAP.virtio.count;
  if (!Number.isInteger(slots) || slots < 0 || slots > VIRT_MEMMAP.virtio.count) {
    throw new RangeError(`virt fdt: virtioSlots must be 0..${VIRT_MEMMAP.virtio.count}, not ${slots}`);
  }
  if (cfg.initrd !== undefined) {
    const { start, end } = cfg.initrd;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`virt fdt: bad initrd range [${start}, ${end})`);
    }
  }
}
