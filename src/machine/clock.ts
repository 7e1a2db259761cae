/**
 * The virtual clock that drives every device timer (CLINT mtime, later PIT, LAPIC, RTC).
 *
 * Time is in nanoseconds since the machine was created, as a double (exact for 104 days).
 * The source is either the host's monotonic clock or, in deterministic mode, a function
 * of the guest instruction count, so a run is reproducible bit for bit. Idle guests
 * (WFI/HLT) skip ahead to the next deadline with `skipTo`. Device models never use
 * setTimeout: they arm a Timer, and the execution loop calls `runDue()` between blocks.
 */
export class Timer {
  /** Absolute deadline in ns, or Infinity when disarmed. */
  deadlineNs = Infinity;
  constructor(
    private readonly clock: VirtualClock,
    readonly callback: () => void,
  ) {}
  arm(deadlineNs: number): void {
    this.deadlineNs = deadlineNs;
    this.clock.deadlinesChanged();
  }
  cancel(): void {
    this.deadlineNs = Infinity;
    this.clock.deadlinesChanged();
  }
}

export type TimeSource = () => number;

export const hostTimeSource = (): TimeSource => {
  const start = performance.now();
  return () => (performance.now() - start) * 1e6;
};

export class VirtualClock {
  private readonly timers: Timer[] = [];
  private skippedNs = 0;
  /** Earliest armed deadline, cached; Infinity when no timer is armed. */
  nextDeadlineNs = Infinity;
  /** Called whenever a timer is armed or cancelled (the CPU loop shortens its budget). */
  onDeadlinesChanged: () => void = () => {};

  constructor(private readonly source: TimeSource = hostTimeSource()) {}

  nowNs(): number {
    return this.source() + this.skippedNs;
  }

  createTimer(callback: () => void): Timer {
    const t = new Timer(this, callback);
    this.timers.push(t);
    return t;
  }

  /** Jump forward to `ns` (idle skip); never moves backwards. */
  skipTo(ns: number): void {
    const now = this.nowNs();
    if (ns > now) this.skippedNs += ns - now;
  }

  deadlinesChanged(): void {
    let next = Infinity;
    for (const t of this.timers) if (t.deadlineNs < next) next = t.deadlineNs;
    this.nextDeadlineNs = next;
    this.onDeadlinesChanged();
  }

  /** Fire every timer whose deadline has passed. Callbacks may re-arm their timer. */
  runDue(): void {
    if (this.nextDeadlineNs === Infinity) return;
    const now = this.nowNs();
    if (now < this.nextDeadlineNs) return;
    for (const t of this.timers) {
      if (t.deadlineNs <= now) {
        t.deadlineNs = Infinity;
        t.callback();
      }
    }
    this.deadlinesChanged();
  }
}
