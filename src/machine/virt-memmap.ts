/**
 * The RISC-V `virt` board's layout, as QEMU's hw/riscv/virt.c defines it, so stock
 * firmware and kernels find every device where they expect it. One table: the board,
 * the device tree and the tests all read it.
 */
export const VIRT_MEMMAP = {
  /** Mask ROM with the reset vector (QEMU starts harts here). */
  mrom: { base: 0x1000, size: 0xf000 },
  /** SiFive test finisher, also the syscon behind the DT's poweroff/reboot nodes. */
  test: { base: 0x100000, size: 0x1000 },
  /** Goldfish RTC. */
  rtc: { base: 0x101000, size: 0x1000 },
  /** Core-local interruptor (SiFive CLINT: msip, mtimecmp, mtime). */
  clint: { base: 0x2000000, size: 0x10000 },
  /** Platform-level interrupt controller. */
  plic: { base: 0xc000000, size: 0x600000 },
  /** NS16550A UART0. */
  uart0: { base: 0x10000000, size: 0x100 },
  /** virtio-mmio transports: slot n at base + n * size. */
  virtio: { base: 0x10001000, size: 0x1000, count: 8 },
  /** Main memory. */
  dram: { base: 0x80000000 },
} as const;

/** PLIC interrupt sources (QEMU virt). */
export const VIRT_IRQ = {
  /** virtio-mmio slot n raises VIRTIO_IRQ + n. */
  virtio: 1,
  uart0: 10,
  rtc: 11,
} as const;

/** Number of PLIC interrupt sources including the reserved source 0 (QEMU: VIRT_IRQCHIP_NUM_SOURCES). */
export const VIRT_PLIC_NUM_SOURCES = 96;
/** PLIC priority levels (QEMU: VIRT_IRQCHIP_NUM_PRIO_BITS = 3, so priorities 0..7). */
export const VIRT_PLIC_NUM_PRIORITIES = 7;
/** CLINT/`time` CSR frequency. */
export const VIRT_TIMEBASE_HZ = 10_000_000;
/** Where a Linux Image goes: RAM + 2 MiB (the kernel's own alignment requirement on RV64). */
export const VIRT_KERNEL_OFFSET = 0x200000;
