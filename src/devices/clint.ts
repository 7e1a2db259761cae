/**
 * SiFive CLINT, i.e. the RISC-V ACLINT MSWI + MTIMER devices in the legacy combined
 * layout that QEMU's virt board maps at 0x2000000 (RISC-V ACLINT specification v1.0,
 * sections 2 "MTIMER" and 3 "MSWI"; SiFive FU540 manual, chapter "CLINT"):
 *
 *   0x0000 + 4*hart  MSIP[hart]      bit 0 drives the hart's machine software interrupt
 *   0x4000 + 8*hart  MTIMECMP[hart]  64-bit compare value
 *   0xbff8           MTIME           64-bit counter, 10 MHz timebase
 *
 * MTIME = floor(virtual ns / 100) + an offset that a guest write to MTIME sets.
 * MTIP[hart] is a level: high exactly while MTIME >= MTIMECMP[hart] (unsigned). A
 * Timer on the VirtualClock is armed for the moment that becomes true, so the line
 * rises on time without polling; MTIMECMP and MTIME writes re-evaluate at once.
 *
 * 64-bit registers are accessed as two 32-bit halves (the bus splits 8-byte accesses
 * low word first); byte and half-word accesses are merged into the containing word.
 * MTIMECMP resets to all ones (the spec leaves it unspecified) so no timer interrupt
 * is pending before software programs it.
 */
import type { IrqLine } from './irq.js';
import type { MmioOps } from '../memory/mmio.js';
import type { Timer, VirtualClock } from '../machine/clock.js';

export const CLINT_MSIP_BASE = 0x0000;
export const CLINT_MTIMECMP_BASE = 0x4000;
export const CLINT_MTIME = 0xbff8;
/** Size of the region the virt board maps. */
export const CLINT_REGION_SIZE = 0x10000;
/** MTIME ticks per second (QEMU virt's timebase-frequency). */
export const CLINT_TIMEBASE_HZ = 10_000_000;
const NS_PER_TICK = 1_000_000_000 / CLINT_TIMEBASE_HZ; // 100
/** ACLINT MSWI/MTIMER allow at most 4095 harts per device. */
export const CLINT_MAX_HARTS = 4095;

const U64_MASK = (1n << 64n) - 1n;
const U32_MASK = 0xffffffffn;

export interface ClintHartLines {
  /** Machine software interrupt (MSIP). */
  msip: IrqLine;
  /** Machine timer interrupt (MTIP). */
  mtip: IrqLine;
}

/** Serializable CLINT state. 64-bit values as hex strings. */
export interface ClintState {
  msip: boolean[];
  mtimecmp: string[];
  /** MTIME at save time; restoring continues counting from it. */
  mtime: string;
}

interface HartState {
  readonly lines: ClintHartLines;
  msip: boolean;
  mtimecmp: bigint;
  mtipLevel: boolean;
  readonly timer: Timer;
}

export class Clint implements MmioOps {
  private readonly harts: HartState[];
  /** Added to floor(ns / 100) to give MTIME (signed; a guest write to MTIME sets it). */
  private mtimeOffset = 0n;

  constructor(
    private readonly clock: VirtualClock,
    harts: ClintHartLines[],
  ) {
    if (harts.length > CLINT_MAX_HARTS) throw new RangeError(`CLINT supports at most ${CLINT_MAX_HARTS} harts`);
    this.harts = harts.map((lines, i) => ({
      lines,
      msip: false,
      mtimecmp: U64_MASK,
      mtipLevel: false,
      timer: clock.createTimer(() => this.updateTimer(i)),
    }));
    for (const h of this.harts) {
      h.lines.msip.set(false);
      h.lines.mtip.set(false);
    }
  }

  /** Current MTIME (the `time` CSR reads this). */
  mtimeNow(): bigint {
    return BigInt.asUintN(64, this.ticksNow() + this.mtimeOffset);
  }

  read(offset: number, size: number): number {
    const word = this.readWord(offset & ~3);
    const shift = (offset & 3) * 8;
    if (size === 4) return word | 0;
    const mask = size === 2 ? 0xffff : 0xff;
    return (word >>> shift) & mask;
  }

  write(offset: number, value: number, size: number): void {
    const aligned = offset & ~3;
    let word: number;
    if (size === 4) {
      word = value >>> 0;
    } else {
      const shift = (offset & 3) * 8;
      const mask = (size === 2 ? 0xffff : 0xff) << shift;
      word = ((this.readWord(aligned) & ~mask) | ((value << shift) & mask)) >>> 0;
    }
    this.writeWord(aligned, word);
  }

  saveState(): ClintState {
    return {
      msip: this.harts.map((h) => h.msip),
      mtimecmp: this.harts.map((h) => '0x' + h.mtimecmp.toString(16)),
      mtime: '0x' + this.mtimeNow().toString(16),
    };
  }

  restoreState(state: ClintState): void {
    const big = (s: unknown, fallback: bigint): bigint => {
      if (typeof s !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(s)) return fallback;
      return BigInt(s);
    };
    this.mtimeOffset = big(state.mtime, 0n) - this.ticksNow();
    this.harts.forEach((h, i) => {
      h.msip = state.msip?.[i] === true;
      h.lines.msip.set(h.msip);
      h.mtimecmp = big(state.mtimecmp?.[i], U64_MASK);
    });
    this.updateAllTimers();
  }

  // --- internals -------------------------------------------------------------------

  private ticksNow(): bigint {
    return BigInt(Math.floor(this.clock.nowNs() / NS_PER_TICK));
  }

  private readWord(offset: number): number {
    if (offset >= CLINT_MSIP_BASE && offset < CLINT_MSIP_BASE + 4 * this.harts.length) {
      return this.harts[(offset - CLINT_MSIP_BASE) >> 2]!.msip ? 1 : 0;
    }
    if (offset >= CLINT_MTIMECMP_BASE && offset < CLINT_MTIMECMP_BASE + 8 * this.harts.length) {
      const rel = offset - CLINT_MTIMECMP_BASE;
      const cmp = this.harts[rel >> 3]!.mtimecmp;
      return Number(rel & 4 ? cmp >> 32n : cmp & U32_MASK);
    }
    if (offset === CLINT_MTIME) return Number(this.mtimeNow() & U32_MASK);
    if (offset === CLINT_MTIME + 4) return Number(this.mtimeNow() >> 32n);
    return 0;
  }

  private writeWord(offset: number, word: number): void {
    if (offset >= CLINT_MSIP_BASE && offset < CLINT_MSIP_BASE + 4 * this.harts.length) {
      const h = this.harts[(offset - CLINT_MSIP_BASE) >> 2]!;
      h.msip = (word & 1) !== 0;
      h.lines.msip.set(h.msip);
      return;
    }
    if (offset >= CLINT_MTIMECMP_BASE && offset < CLINT_MTIMECMP_BASE + 8 * this.harts.length) {
      const rel = offset - CLINT_MTIMECMP_BASE;
      const index = rel >> 3;
      const h = this.harts[index]!;
      h.mtimecmp = replaceHalf(h.mtimecmp, (rel & 4) !== 0, word);
      this.updateTimer(index);
      return;
    }
    if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      const wanted = replaceHalf(this.mtimeNow(), offset !== CLINT_MTIME, word);
      this.mtimeOffset = wanted - this.ticksNow();
      this.updateAllTimers();
    }
  }

  /** Set a hart's mtimecmp in one step (the built-in SBI's set_timer). */
  setTimecmp(hart: number, value: bigint): void {
    this.harts[hart]!.mtimecmp = BigInt.asUintN(64, value);
    this.updateTimer(hart);
  }

  private updateAllTimers(): void {
    for (let i = 0; i < this.harts.length; i++) this.updateTimer(i);
  }

  /** Re-evaluate MTIP for one hart and arm its timer for the next rising edge. */
  private updateTimer(index: number): void {
    const h = this.harts[index]!;
    const level = this.mtimeNow() >= h.mtimecmp;
    if (level !== h.mtipLevel) {
      h.mtipLevel = level;
      h.lines.mtip.set(level);
    }
    if (level) {
      if (h.timer.deadlineNs !== Infinity) h.timer.cancel();
      return;
    }
    // MTIME reaches MTIMECMP when floor(ns/100) + offset >= cmp, i.e. ns >= (cmp - offset) * 100.
    // Beyond 2^53 ns (104 days) a double cannot hold the deadline exactly: leave it disarmed
    // (MTIME wrapping past 2^64 is likewise never reached).
    const deadlineNs = (h.mtimecmp - this.mtimeOffset) * BigInt(NS_PER_TICK);
    if (deadlineNs > BigInt(Number.MAX_SAFE_INTEGER)) {
      if (h.timer.deadlineNs !== Infinity) h.timer.cancel();
    } else {
      h.timer.arm(Number(deadlineNs));
    }
  }
}

function replaceHalf(value: bigint, high: boolean, word: number): bigint {
  const w = BigInt(word >>> 0);
  return high ? (value & U32_MASK) | (w << 32n) : (value & ~U32_MASK & U64_MASK) | w;
}
