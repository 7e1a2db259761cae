import { describe, expect, it } from 'vitest';
import { LatchedIrqLine, type IrqLine } from '../src/devices/irq.js';
import { Plic } from '../src/devices/plic.js';
import { VIRT_PLIC_NUM_SOURCES } from '../src/machine/virt-memmap.js';

// Register layout spelled out independently of the model (RISC-V PLIC spec 1.0.0).
const PRIORITY = (src: number): number => 4 * src;
const PENDING = (word: number): number => 0x1000 + 4 * word;
const ENABLE = (ctx: number, word: number): number => 0x2000 + 0x80 * ctx + 4 * word;
const THRESHOLD = (ctx: number): number => 0x200000 + 0x1000 * ctx;
const CLAIM = (ctx: number): number => 0x200004 + 0x1000 * ctx;

/** Counts edges so tests can check the output is only driven on changes. */
class CountingLine implements IrqLine {
  level = false;
  edges = 0;
  set(level: boolean): void {
    if (level !== this.level) this.edges++;
    this.level = level;
  }
}

function makePlic(harts = 1) {
  const ctx = Array.from({ length: 2 * harts }, () => new CountingLine());
  const plic = new Plic(VIRT_PLIC_NUM_SOURCES, ctx);
  const r = (off: number): number => plic.read(off, 4) >>> 0;
  const w = (off: number, v: number): void => plic.write(off, v, 4);
  const enable = (c: number, ...srcs: number[]): void => {
    const words = new Map<number, number>();
    for (const s of srcs) words.set(s >> 5, (words.get(s >> 5) ?? 0) | (1 << (s & 31)));
    for (const [word, bits] of words) w(ENABLE(c, word), (r(ENABLE(c, word)) | bits) >>> 0);
  };
  return { plic, ctx, r, w, enable };
}

describe('Plic registers', () => {
  it('priorities are 3-bit WARL and source 0 is hardwired to 0', () => {
    const { r, w } = makePlic();
    w(PRIORITY(10), 5);
    expect(r(PRIORITY(10))).toBe(5);
    w(PRIORITY(10), 0xff);
    expect(r(PRIORITY(10))).toBe(7);
    w(PRIORITY(95), 9);
    expect(r(PRIORITY(95))).toBe(1);
    w(PRIORITY(0), 7);
    expect(r(PRIORITY(0))).toBe(0);
    // Beyond the last source: reserved, reads 0, writes ignored.
    w(PRIORITY(96), 3);
    expect(r(PRIORITY(96))).toBe(0);
  });

  it('enables keep only existing sources; thresholds are 3 bits; pending is read-only', () => {
    const { r, w } = makePlic(2);
    w(ENABLE(3, 0), 0xffffffff);
    expect(r(ENABLE(3, 0))).toBe(0xfffffffe); // source 0 does not exist
    w(ENABLE(3, 2), 0xffffffff);
    expect(r(ENABLE(3, 2))).toBe(0xffffffff); // sources 64..95
    w(ENABLE(3, 3), 0xffffffff);
    expect(r(ENABLE(3, 3))).toBe(0); // 96..127 do not exist
    expect(r(ENABLE(2, 0))).toBe(0); // other contexts untouched
    w(THRESHOLD(1), 0x1f);
    expect(r(THRESHOLD(1))).toBe(7);
    w(PENDING(0), 0xffffffff);
    expect(r(PENDING(0))).toBe(0);
    // Contexts that do not exist.
    w(THRESHOLD(4), 3);
    expect(r(THRESHOLD(4))).toBe(0);
    expect(r(CLAIM(4))).toBe(0);
  });

  it('merges byte and half-word writes into the word', () => {
    const { plic, r, w } = makePlic();
    w(ENABLE(0, 0), 0x00000400);
    plic.write(ENABLE(0, 0) + 1, 0x06, 1); // bits 9 and 10
    expect(r(ENABLE(0, 0))).toBe(0x00000600);
    plic.write(ENABLE(0, 0) + 2, 0x8001, 2);
    expect(r(ENABLE(0, 0))).toBe(0x80010600);
    expect(plic.read(ENABLE(0, 0) + 3, 1)).toBe(0x80);
    plic.write(PRIORITY(3), 6, 1);
    expect(plic.read(PRIORITY(3), 2)).toBe(6);
  });
});

describe('Plic interrupt flow', () => {
  it('routes a source to the contexts that enable it, above their threshold', () => {
    const { plic, ctx, r, w, enable } = makePlic(2);
    w(PRIORITY(10), 1);
    enable(1, 10); // hart 0 S-mode
    enable(3, 10); // hart 1 S-mode
    w(THRESHOLD(3), 1); // hart 1 masks priority 1
    plic.source(10).set(true);
    expect(r(PENDING(0))).toBe(1 << 10);
    expect(ctx.map((c) => c.level)).toEqual([false, true, false, false]);
    // Raising the priority above hart 1's threshold reaches it too.
    w(PRIORITY(10), 2);
    expect(ctx.map((c) => c.level)).toEqual([false, true, false, true]);
    // Disabling at hart 0 drops its line.
    w(ENABLE(1, 0), 0);
    expect(ctx[1]!.level).toBe(false);
  });

  it('claim/complete: the claim clears pending and lowers the line; completion re-arms', () => {
    const { plic, ctx, r, w, enable } = makePlic();
    w(PRIORITY(10), 1);
    enable(0, 10);
    const uart = plic.source(10);
    uart.set(true);
    expect(ctx[0]!.level).toBe(true);
    expect(r(CLAIM(0))).toBe(10);
    expect(r(PENDING(0))).toBe(0);
    expect(ctx[0]!.level).toBe(false);
    // A second claim finds nothing.
    expect(r(CLAIM(0))).toBe(0);
    // The device drops its line while being serviced, then we complete: nothing pends.
    uart.set(false);
    w(CLAIM(0), 10);
    expect(r(PENDING(0))).toBe(0);
    expect(ctx[0]!.level).toBe(false);
    // A new request goes through again.
    uart.set(true);
    expect(ctx[0]!.level).toBe(true);
    expect(r(CLAIM(0))).toBe(10);
  });

  it('a level still high at completion pends again; none while claimed', () => {
    const { plic, ctx, r, w, enable } = makePlic();
    w(PRIORITY(5), 3);
    enable(0, 5);
    const line = plic.source(5);
    line.set(true);
    expect(r(CLAIM(0))).toBe(5);
    // Toggling the line while claimed does not pend or interrupt.
    line.set(false);
    line.set(true);
    expect(r(PENDING(0))).toBe(0);
    expect(ctx[0]!.level).toBe(false);
    expect(r(CLAIM(0))).toBe(0);
    w(CLAIM(0), 5);
    expect(r(PENDING(0))).toBe(1 << 5);
    expect(ctx[0]!.level).toBe(true);
    expect(r(CLAIM(0))).toBe(5);
  });

  it('pending follows the level until claimed', () => {
    const { plic, ctx, r, w, enable } = makePlic();
    w(PRIORITY(7), 1);
    enable(0, 7);
    plic.source(7).set(true);
    expect(ctx[0]!.level).toBe(true);
    plic.source(7).set(false);
    expect(r(PENDING(0))).toBe(0);
    expect(ctx[0]!.level).toBe(false);
    expect(r(CLAIM(0))).toBe(0);
  });

  it('claims the highest priority first, the lowest id on ties', () => {
    const { plic, r, w, enable } = makePlic();
    for (const [s, p] of [
      [3, 2],
      [40, 5],
      [9, 5],
      [70, 7],
      [2, 1],
    ] as const) {
      w(PRIORITY(s), p);
      enable(0, s);
      plic.source(s).set(true);
    }
    expect(r(PENDING(0))).toBe((1 << 2) | (1 << 3) | (1 << 9));
    expect(r(PENDING(1))).toBe(1 << (40 - 32));
    expect(r(PENDING(2))).toBe(1 << (70 - 64));
    const order: number[] = [];
    for (let i = 0; i < 6; i++) order.push(r(CLAIM(0)));
    expect(order).toEqual([70, 9, 40, 3, 2, 0]);
  });

  it('threshold masks the output and the claim; priority 0 never interrupts', () => {
    const { plic, ctx, r, w, enable } = makePlic();
    enable(0, 1, 2);
    plic.source(1).set(true); // priority 0
    expect(ctx[0]!.level).toBe(false);
    expect(r(CLAIM(0))).toBe(0);
    w(PRIORITY(2), 4);
    w(THRESHOLD(0), 4);
    plic.source(2).set(true);
    expect(ctx[0]!.level).toBe(false);
    expect(r(CLAIM(0))).toBe(0);
    expect(r(PENDING(0))).toBe(0b110); // still pending, just masked
    w(THRESHOLD(0), 3);
    expect(ctx[0]!.level).toBe(true);
    expect(r(CLAIM(0))).toBe(2);
    expect(ctx[0]!.level).toBe(false);
    // Source 1 gets a priority: now it is delivered.
    w(PRIORITY(1), 7);
    expect(ctx[0]!.level).toBe(true);
    expect(r(CLAIM(0))).toBe(1);
  });

  it('ignores completions for sources the context has not enabled, or out of range', () => {
    const { plic, ctx, r, w, enable } = makePlic(1);
    w(PRIORITY(10), 1);
    enable(0, 10);
    plic.source(10).set(true);
    expect(r(CLAIM(0))).toBe(10);
    // Context 1 (S-mode) has not enabled 10: its completion is ignored.
    w(CLAIM(1), 10);
    expect(r(PENDING(0))).toBe(0);
    expect(ctx[0]!.level).toBe(false);
    w(CLAIM(0), 0);
    w(CLAIM(0), 96);
    w(CLAIM(0), 0xffffffff);
    expect(ctx[0]!.level).toBe(false);
    // Sub-word access to claim/complete does nothing.
    plic.write(CLAIM(0), 10, 1);
    expect(ctx[0]!.level).toBe(false);
    w(CLAIM(0), 10);
    expect(ctx[0]!.level).toBe(true);
    expect(plic.read(CLAIM(0), 2)).toBe(0);
    expect(ctx[0]!.level).toBe(true);
  });

  it('one claim per source across contexts', () => {
    const { plic, ctx, r, w, enable } = makePlic(2);
    w(PRIORITY(33), 1);
    enable(0, 33);
    enable(2, 33);
    plic.source(33).set(true);
    expect(ctx[0]!.level && ctx[2]!.level).toBe(true);
    expect(r(CLAIM(2))).toBe(33);
    expect(ctx[0]!.level).toBe(false);
    expect(r(CLAIM(0))).toBe(0);
    w(CLAIM(2), 33);
    expect(ctx[0]!.level && ctx[2]!.level).toBe(true);
  });

  it('drives each output only on changes; source 0 and bad sources', () => {
    const { plic, ctx, w, enable } = makePlic();
    w(PRIORITY(4), 1);
    enable(0, 4);
    plic.source(4).set(true);
    plic.source(4).set(true);
    w(PRIORITY(4), 2);
    expect(ctx[0]!.edges).toBe(1);
    plic.source(0).set(true);
    expect(() => plic.source(96)).toThrow(RangeError);
    expect(() => plic.source(-1)).toThrow(RangeError);
    expect(() => new Plic(0, [])).toThrow(RangeError);
    expect(() => new Plic(1025, [])).toThrow(RangeError);
  });

  it('resets its outputs low at construction', () => {
    const line = new LatchedIrqLine();
    line.level = true;
    new Plic(32, [line]);
    expect(line.level).toBe(false);
  });
});

describe('Plic save/restore', () => {
  it('restores registers, pending/claimed state and outputs', () => {
    const a = makePlic(2);
    a.w(PRIORITY(10), 3);
    a.w(PRIORITY(11), 1);
    a.enable(1, 10, 11);
    a.enable(2, 11);
    a.w(THRESHOLD(2), 0);
    a.w(THRESHOLD(3), 6);
    a.plic.source(10).set(true);
    a.plic.source(11).set(true);
    expect(a.r(CLAIM(1))).toBe(10); // 10 claimed, line still high
    const state = JSON.parse(JSON.stringify(a.plic.saveState())) as ReturnType<Plic['saveState']>;

    const b = makePlic(2);
    b.plic.restoreState(state);
    for (const off of [PRIORITY(10), PRIORITY(11), ENABLE(1, 0), ENABLE(2, 0), THRESHOLD(3), PENDING(0)]) {
      expect(b.r(off), `offset ${off.toString(16)}`).toBe(a.r(off));
    }
    expect(b.ctx.map((c) => c.level)).toEqual(a.ctx.map((c) => c.level));
    expect(b.ctx[1]!.level).toBe(true); // 11 still pending for context 1
    // Completing 10 re-pends it because its level was saved high.
    b.w(CLAIM(1), 10);
    expect(b.r(CLAIM(1))).toBe(10);
  });

  it('tolerates malformed state', () => {
    const { plic, ctx, r } = makePlic();
    plic.restoreState({ priority: [0, 99], pending: [], claimed: [], level: [], enable: ['x'], threshold: [] } as never);
    expect(r(PRIORITY(1))).toBe(3);
    expect(ctx[0]!.level).toBe(false);
  });
});
