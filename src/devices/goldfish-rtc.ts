/**
 * Goldfish RTC, as QEMU's hw/rtc/goldfish_rtc.c implements it (register layout from
 * Android's GOLDFISH-VIRTUAL-HARDWARE.TXT, "goldfish_rtc"). Time is a 64-bit count of
 * nanoseconds since the Unix epoch; all registers are 32 bits:
 *
 *   0x00 TIME_LOW         read: low word of the time, and latches the high word
 *                         write: replaces the low word of the time
 *   0x04 TIME_HIGH        read: the high word latched by the last TIME_LOW read
 *                         write: replaces the high word of the time
 *   0x08 ALARM_LOW        write: low word of the alarm time, and arms the alarm
 *   0x0c ALARM_HIGH       write: high word of the alarm time (write it first)
 *   0x10 IRQ_ENABLED      bit 0 enables the interrupt output
 *   0x14 CLEAR_ALARM      write: disarms the alarm
 *   0x18 ALARM_STATUS     read: 1 while an alarm is armed
 *   0x1c CLEAR_INTERRUPT  write: clears the pending interrupt
 *
 * Time keeping: time = offset + the VirtualClock's ns. The offset starts as
 * `wallClockNs()` minus the clock's current time, so the RTC starts at the wall-clock
 * time the board supplies and then advances with the VirtualClock, the same clock the
 * alarm Timer runs on (so an alarm fires exactly when the time reaches it, also in
 * deterministic mode and across idle skips). `wallClockNs` is called only at
 * construction: the board passes `hostWallClockNs` normally and
 * `() => GOLDFISH_RTC_DETERMINISTIC_EPOCH_NS` in deterministic mode. Guest writes to
 * TIME move the offset.
 *
 * An alarm at or before the current time fires at once; otherwise a Timer is armed.
 * When the alarm fires it is disarmed (ALARM_STATUS 0) and the interrupt becomes
 * pending; the output line is pending AND IRQ_ENABLED. Unlike QEMU, a TIME write while
 * an alarm is armed re-evaluates the alarm against the new time (QEMU keeps the old
 * deadline in host time). Only 32-bit accesses act (QEMU rejects other sizes); byte
 * and half-word accesses read 0 and are ignored.
 */
import type { IrqLine } from './irq.js';
import type { MmioOps } from '../memory/mmio.js';
import type { Timer, VirtualClock } from '../machine/clock.js';

export const GOLDFISH_RTC_TIME_LOW = 0x00;
export const GOLDFISH_RTC_TIME_HIGH = 0x04;
export const GOLDFISH_RTC_ALARM_LOW = 0x08;
export const GOLDFISH_RTC_ALARM_HIGH = 0x0c;
export const GOLDFISH_RTC_IRQ_ENABLED = 0x10;
export const GOLDFISH_RTC_CLEAR_ALARM = 0x14;
export const GOLDFISH_RTC_ALARM_STATUS = 0x18;
export const GOLDFISH_RTC_CLEAR_INTERRUPT = 0x1c;
/** Size of the window the virt board maps (the registers end at 0x20). */
export const GOLDFISH_RTC_REGION_SIZE = 0x1000;

/** Fixed start time for deterministic runs: 2024-01-01T00:00:00Z. */
export const GOLDFISH_RTC_DETERMINISTIC_EPOCH_NS = 1_704_067_200n * 1_000_000_000n;

/** The host's wall-clock time in ns since the Unix epoch (ms resolution). */
export const hostWallClockNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

const U64_MASK = (1n << 64n) - 1n;
const U32_MASK = 0xffffffffn;

/** Serializable RTC state. 64-bit values as hex strings. */
export interface GoldfishRtcState {
  /** RTC time at save; restoring continues counting from it. */
  time: string;
  alarmNext: string;
  alarmRunning: boolean;
  irqPending: boolean;
  irqEnabled: boolean;
  timeHigh: number;
}

export class GoldfishRtc implements MmioOps {
  /** time = tickOffset + virtual ns (mod 2^64). */
  private tickOffset: bigint;
  private alarmNext = 0n;
  private alarmRunning = false;
  private irqPending = false;
  private irqEnabled = false;
  private timeHigh = 0;
  private irqLevel = false;
  private readonly timer: Timer;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq: IrqLine,
    wallClockNs: () => bigint,
  ) {
    this.tickOffset = (wallClockNs() - this.virtualNs()) & U64_MASK;
    this.timer = clock.createTimer(() => this.timerFired());
    irq.set(false);
  }

  /** Current RTC time in ns since the epoch. */
  timeNs(): bigint {
    return (this.tickOffset + this.virtualNs()) & U64_MASK;
  }

  /** Device reset (QEMU goldfish_rtc_reset): alarm and interrupt state clear, time kept. */
  reset(): void {
    this.clearAlarm();
    this.alarmNext = 0n;
    this.irqPending = false;
    this.irqEnabled = false;
    this.updateIrq();
  }

  read(offset: number, size: number): number {
    if (size !== 4) return 0;
    switch (offset) {
      case GOLDFISH_RTC_TIME_LOW: {
        const t = this.timeNs();
        this.timeHigh = Number(t >> 32n);
        return Number(t & U32_MASK) | 0;
      }
      case GOLDFISH_RTC_TIME_HIGH:
        return this.timeHigh | 0;
      case GOLDFISH_RTC_ALARM_LOW:
        return Number(this.alarmNext & U32_MASK) | 0;
      case GOLDFISH_RTC_ALARM_HIGH:
        return Number(this.alarmNext >> 32n) | 0;
      case GOLDFISH_RTC_IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case GOLDFISH_RTC_ALARM_STATUS:
        return this.alarmRunning ? 1 : 0;
      default:
        return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    if (size !== 4) return;
    const word = value >>> 0;
    switch (offset) {
      case GOLDFISH_RTC_TIME_LOW:
      case GOLDFISH_RTC_TIME_HIGH: {
        const current = this.timeNs();
        const wanted = replaceHalf(current, offset === GOLDFISH_RTC_TIME_HIGH, word);
        this.tickOffset = (this.tickOffset + wanted - current) & U64_MASK;
        if (this.alarmRunning) this.setAlarm();
        break;
      }
      case GOLDFISH_RTC_ALARM_LOW:
        this.alarmNext = replaceHalf(this.alarmNext, false, word);
        this.setAlarm();
        break;
      case GOLDFISH_RTC_ALARM_HIGH:
        this.alarmNext = replaceHalf(this.alarmNext, true, word);
        break;
      case GOLDFISH_RTC_IRQ_ENABLED:
        this.irqEnabled = (word & 1) !== 0;
        this.updateIrq();
        break;
      case GOLDFISH_RTC_CLEAR_ALARM:
        this.clearAlarm();
        break;
      case GOLDFISH_RTC_CLEAR_INTERRUPT:
        this.irqPending = false;
        this.updateIrq();
        break;
      default:
        break;
    }
  }

  saveState(): GoldfishRtcState {
    return {
      time: '0x' + this.timeNs().toString(16),
      alarmNext: '0x' + this.alarmNext.toString(16),
      alarmRunning: this.alarmRunning,
      irqPending: this.irqPending,
      irqEnabled: this.irqEnabled,
      timeHigh: this.timeHigh >>> 0,
    };
  }

  restoreState(state: GoldfishRtcState): void {
    const big = (s: unknown, fallback: bigint): bigint =>
      typeof s === 'string' && /^0x[0-9a-f]{1,16}$/i.test(s) ? BigInt(s) : fallback;
    this.tickOffset = (big(state.time, this.timeNs()) - this.virtualNs()) & U64_MASK;
    this.alarmNext = big(state.alarmNext, 0n);
    this.irqPending = state.irqPending === true;
    this.irqEnabled = state.irqEnabled === true;
    this.timeHigh = typeof state.timeHigh === 'number' ? state.timeHigh >>> 0 : 0;
    this.clearAlarm();
    if (state.alarmRunning === true) this.setAlarm();
    this.updateIrq();
  }

  // --- internals -------------------------------------------------------------------

  private virtualNs(): bigint {
    return BigInt(Math.floor(this.clock.nowNs()));
  }

  private setAlarm(): void {
    const now = this.timeNs();
    if (this.alarmNext <= now) {
      this.clearAlarm();
      this.fire();
      return;
    }
    this.alarmRunning = true;
    // The clock reaches the alarm at virtual ns = alarmNext - tickOffset (mod 2^64).
    // Past 2^53 ns (104 days away) a double cannot hold it exactly: leave the timer
    // disarmed; the alarm stays "running" as far as the guest can tell.
    const deadline = (this.alarmNext - this.tickOffset) & U64_MASK;
    if (deadline > BigInt(Number.MAX_SAFE_INTEGER)) {
      if (this.timer.deadlineNs !== Infinity) this.timer.cancel();
    } else {
      this.timer.arm(Number(deadline));
    }
  }

  private clearAlarm(): void {
    if (this.timer.deadlineNs !== Infinity) this.timer.cancel();
    this.alarmRunning = false;
  }

  private timerFired(): void {
    if (!this.alarmRunning) return;
    this.alarmRunning = false;
    this.fire();
  }

  private fire(): void {
    this.irqPending = true;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

function replaceHalf(value: bigint, high: boolean, word: number): bigint {
  const w = BigInt(word >>> 0);
  return high ? (value & U32_MASK) | (w << 32n) : (value & ~U32_MASK & U64_MASK) | w;
}
