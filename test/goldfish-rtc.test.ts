import { describe, expect, it } from 'vitest';
import { LatchedIrqLine } from '../src/devices/irq.js';
import {
  GOLDFISH_RTC_DETERMINISTIC_EPOCH_NS,
  GoldfishRtc,
  hostWallClockNs,
} from '../src/devices/goldfish-rtc.js';
import { VirtualClock } from '../src/machine/clock.js';

// Register offsets spelled out independently (QEMU hw/rtc/goldfish_rtc.c).
const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;

const EPOCH = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z

function make(startNs = 0) {
  let now = startNs;
  const clock = new VirtualClock(() => now);
  const irq = new LatchedIrqLine();
  const rtc = new GoldfishRtc(clock, irq, () => EPOCH);
  const r = (off: number): number => rtc.read(off, 4) >>> 0;
  const w = (off: number, v: number): void => rtc.write(off, v, 4);
  const time = (): bigint => {
    const lo = r(TIME_LOW);
    return (BigInt(r(TIME_HIGH)) << 32n) | BigInt(lo);
  };
  const setAlarm = (t: bigint): void => {
    w(ALARM_HIGH, Number(t >> 32n));
    w(ALARM_LOW, Number(t & 0xffffffffn));
  };
  const advance = (ns: number): void => {
    now += ns;
    clock.runDue();
  };
  return { clock, irq, rtc, r, w, time, setAlarm, advance };
}

describe('GoldfishRtc time', () => {
  it('starts at the wall-clock time and advances with the virtual clock', () => {
    const { time, advance, rtc } = make(5_000);
    expect(time()).toBe(EPOCH);
    advance(1_234_567);
    expect(time()).toBe(EPOCH + 1_234_567n);
    expect(rtc.timeNs()).toBe(EPOCH + 1_234_567n);
  });

  it('TIME_LOW latches TIME_HIGH', () => {
    const { r, w, advance } = make();
    // Put the time just below a 2^32 boundary so the high word changes.
    w(TIME_HIGH, 5);
    w(TIME_LOW, 0xffffff00);
    const lo = r(TIME_LOW);
    expect(lo).toBe(0xffffff00);
    advance(0x200);
    expect(r(TIME_HIGH)).toBe(5); // still the latched value
    expect(r(TIME_LOW)).toBe(0x100);
    expect(r(TIME_HIGH)).toBe(6);
  });

  it('writes set the time (an offset), which keeps counting', () => {
    const { w, time, advance } = make(1000);
    const target = 0x0000_1234_89ab_cdefn;
    w(TIME_HIGH, Number(target >> 32n));
    w(TIME_LOW, Number(target & 0xffffffffn));
    expect(time()).toBe(target);
    advance(500);
    expect(time()).toBe(target + 500n);
  });

  it('sub-word accesses do nothing', () => {
    const { rtc, time } = make();
    rtc.write(TIME_LOW, 0, 1);
    expect(time()).toBe(EPOCH);
    expect(rtc.read(TIME_LOW, 2)).toBe(0);
  });

  it('exports host and deterministic wall-clock sources', () => {
    const host = hostWallClockNs();
    expect(host).toBeGreaterThan(1_600_000_000n * 1_000_000_000n);
    expect(host % 1_000_000n).toBe(0n);
    expect(GOLDFISH_RTC_DETERMINISTIC_EPOCH_NS).toBe(BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n);
  });
});

describe('GoldfishRtc alarm', () => {
  it('fires through the clock at the alarm time and raises the IRQ when enabled', () => {
    const { irq, r, w, setAlarm, advance, clock } = make();
    w(IRQ_ENABLED, 1);
    expect(r(IRQ_ENABLED)).toBe(1);
    setAlarm(EPOCH + 1_000_000n);
    expect(r(ALARM_STATUS)).toBe(1);
    expect(r(ALARM_LOW)).toBe(Number((EPOCH + 1_000_000n) & 0xffffffffn));
    expect(r(ALARM_HIGH)).toBe(Number((EPOCH + 1_000_000n) >> 32n));
    expect(clock.nextDeadlineNs).toBe(1_000_000);
    advance(999_999);
    expect(irq.level).toBe(false);
    expect(r(ALARM_STATUS)).toBe(1);
    advance(1);
    expect(irq.level).toBe(true);
    expect(r(ALARM_STATUS)).toBe(0);
    expect(clock.nextDeadlineNs).toBe(Infinity);
    // CLEAR_INTERRUPT drops the line.
    w(CLEAR_INTERRUPT, 1);
    expect(irq.level).toBe(false);
  });

  it('an alarm in the past fires at once', () => {
    const { irq, r, w, setAlarm, advance } = make();
    advance(10_000);
    w(IRQ_ENABLED, 1);
    setAlarm(EPOCH + 10_000n);
    expect(irq.level).toBe(true);
    expect(r(ALARM_STATUS)).toBe(0);
  });

  it('IRQ_ENABLED gates the output, not the pending state', () => {
    const { irq, w, setAlarm, advance } = make();
    setAlarm(EPOCH + 100n);
    advance(100);
    expect(irq.level).toBe(false);
    w(IRQ_ENABLED, 1);
    expect(irq.level).toBe(true);
    w(IRQ_ENABLED, 0);
    expect(irq.level).toBe(false);
    w(CLEAR_INTERRUPT, 0);
    w(IRQ_ENABLED, 1);
    expect(irq.level).toBe(false);
  });

  it('CLEAR_ALARM disarms a pending alarm', () => {
    const { irq, r, w, setAlarm, advance, clock } = make();
    w(IRQ_ENABLED, 1);
    setAlarm(EPOCH + 5000n);
    w(CLEAR_ALARM, 1);
    expect(r(ALARM_STATUS)).toBe(0);
    expect(clock.nextDeadlineNs).toBe(Infinity);
    advance(10_000);
    expect(irq.level).toBe(false);
  });

  it('ALARM_HIGH alone does not arm; a new alarm replaces the old one', () => {
    const { irq, r, w, setAlarm, advance } = make();
    w(IRQ_ENABLED, 1);
    w(ALARM_HIGH, 0);
    expect(r(ALARM_STATUS)).toBe(0);
    setAlarm(EPOCH + 1000n);
    setAlarm(EPOCH + 3000n);
    advance(2000);
    expect(irq.level).toBe(false);
    advance(1000);
    expect(irq.level).toBe(true);
  });

  it('an idle skip to the next deadline fires the alarm', () => {
    const { irq, w, setAlarm, clock } = make();
    w(IRQ_ENABLED, 1);
    setAlarm(EPOCH + 60_000_000_000n); // one minute ahead
    clock.skipTo(clock.nextDeadlineNs);
    clock.runDue();
    expect(irq.level).toBe(true);
  });

  it('setting the time re-evaluates an armed alarm', () => {
    const { irq, w, setAlarm, advance } = make();
    w(IRQ_ENABLED, 1);
    setAlarm(EPOCH + 1_000_000n);
    // Jump the RTC forward past the alarm: it fires at once.
    const t = EPOCH + 2_000_000n;
    w(TIME_HIGH, Number(t >> 32n));
    w(TIME_LOW, Number(t & 0xffffffffn));
    expect(irq.level).toBe(true);
    w(CLEAR_INTERRUPT, 0);
    // Jump back and re-arm: the alarm waits for the new time.
    setAlarm(t + 500n);
    const back = t - 1_000n;
    w(TIME_HIGH, Number(back >> 32n));
    w(TIME_LOW, Number(back & 0xffffffffn));
    advance(1000);
    expect(irq.level).toBe(false);
    advance(500);
    expect(irq.level).toBe(true);
  });

  it('reset clears the alarm and interrupt but keeps the time', () => {
    const { irq, r, w, setAlarm, advance, rtc, time } = make();
    w(IRQ_ENABLED, 1);
    setAlarm(EPOCH);
    expect(irq.level).toBe(true);
    advance(77);
    rtc.reset();
    expect(irq.level).toBe(false);
    expect(r(IRQ_ENABLED)).toBe(0);
    expect(r(ALARM_STATUS)).toBe(0);
    expect(time()).toBe(EPOCH + 77n);
  });
});

describe('GoldfishRtc save/restore', () => {
  it('continues the time and the armed alarm', () => {
    const a = make();
    a.w(IRQ_ENABLED, 1);
    a.advance(1_000);
    a.setAlarm(EPOCH + 5_000n);
    a.r(TIME_LOW);
    const state = JSON.parse(JSON.stringify(a.rtc.saveState())) as ReturnType<GoldfishRtc['saveState']>;
    expect(state.alarmRunning).toBe(true);

    // A machine whose clock is elsewhere and whose wall clock differs.
    const b = make(123_456);
    b.rtc.restoreState(state);
    expect(b.rtc.timeNs()).toBe(EPOCH + 1_000n);
    expect(b.r(TIME_HIGH)).toBe(Number((EPOCH + 1_000n) >> 32n));
    expect(b.r(ALARM_STATUS)).toBe(1);
    expect(b.r(IRQ_ENABLED)).toBe(1);
    b.advance(3_999);
    expect(b.irq.level).toBe(false);
    b.advance(1);
    expect(b.irq.level).toBe(true);
  });

  it('restores a pending interrupt', () => {
    const a = make();
    a.w(IRQ_ENABLED, 1);
    a.setAlarm(EPOCH);
    const b = make();
    b.rtc.restoreState(a.rtc.saveState());
    expect(b.irq.level).toBe(true);
    expect(b.r(ALARM_STATUS)).toBe(0);
  });
});
