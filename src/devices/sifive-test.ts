/**
 * SiFive test finisher ("sifive,test0"), as QEMU's riscv virt board maps it at
 * 0x100000 (hw/misc/sifive_test.c behaviour; no public datasheet exists).
 *
 * One 32-bit register at offset 0 (FINISHER), write-only:
 *   low 16 bits = status, high 16 bits = code
 *   0x5555 FINISHER_PASS  -> exit status 0
 *   0x3333 FINISHER_FAIL  -> exit status `code`
 *   0x7777 FINISHER_RESET -> machine reset
 * Any other status is ignored. Like QEMU, 16- and 32-bit writes are honoured
 * (a 16-bit write carries a code of 0); byte writes and reads do nothing / read 0.
 */
import type { MmioOps } from '../memory/mmio.js';

export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/** Size of the region the virt board maps. */
export const SIFIVE_TEST_REGION_SIZE = 0x1000;

export interface SifiveTestCallbacks {
  onExit(status: number): void;
  onReset(): void;
}

export class SifiveTest implements MmioOps {
  constructor(private readonly callbacks: SifiveTestCallbacks) {}

  read(_offset: number, _size: number): number {
    return 0;
  }

  write(offset: number, value: number, size: number): void {
    if (offset !== 0 || (size !== 2 && size !== 4)) return;
    const status = value & 0xffff;
    const code = size === 4 ? (value >>> 16) & 0xffff : 0;
    switch (status) {
      case FINISHER_PASS:
        this.callbacks.onExit(0);
        break;
      case FINISHER_FAIL:
        this.callbacks.onExit(code);
        break;
      case FINISHER_RESET:
        this.callbacks.onReset();
        break;
      default:
        break;
    }
  }

  /** Stateless: kept for the uniform device snapshot interface. */
  saveState(): Record<string, never> {
    return {};
  }
  restoreState(_state: Record<string, never>): void {}
}
