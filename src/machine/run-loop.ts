/**
 * The run loop every board shares: run the engine in slices, fire due timers, idle while
 * the CPU halts (in deterministic time the clock jumps to the next timer; in host time
 * the loop sleeps until a timer, input or I/O), and yield to the host event loop often
 * enough that input, block I/O completions and timers are served.
 */
import { StopReason, type TcgEngine } from '../accel/tcg/engine.js';
import type { VirtualClock } from './clock.js';
import { yieldToHost } from './yield.js';

export interface RunLoopBoard {
  readonly engine: TcgEngine;
  readonly clock: VirtualClock;
  /** Set when the guest ended the run. */
  readonly exitStatus: number | null;
  readonly deterministic: boolean;
  /** Device work in flight (block I/O) that a halted CPU waits for. */
  ioPending(): boolean;
  flushOutput(): void;
}

const SLICE = 1_000_000;

export async function runBoard(board: RunLoopBoard): Promise<number> {
  const { engine, clock } = board;
  let lastYield = performance.now();
  for (;;) {
    const reason = engine.run(SLICE);
    clock.runDue();
    if (board.exitStatus !== null) break;
    if (reason === StopReason.Halted) {
      board.flushOutput();
      const next = clock.nextDeadlineNs;
      if (board.deterministic && next !== Infinity && !board.ioPending()) {
        // Idle in deterministic time: jump the clock to the next timer.
        clock.skipTo(next);
        clock.runDue();
      } else {
        // Idle in host time: sleep until the next timer, input or I/O (at most 10 ms).
        const wait = next === Infinity ? 10 : Math.min(10, Math.max(0, (next - clock.nowNs()) / 1e6));
        await new Promise((r) => setTimeout(r, wait));
        clock.runDue();
      }
      lastYield = performance.now();
      continue;
    }
    const now = performance.now();
    if (now - lastYield > 20) {
      board.flushOutput();
      await yieldToHost();
      lastYield = performance.now();
    }
  }
  return board.exitStatus!;
}
