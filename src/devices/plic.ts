/**
 * Platform-Level Interrupt Controller (RISC-V PLIC Specification v1.0.0), in the
 * SiFive layout QEMU's hw/intc/sifive_plic.c implements for the virt board:
 *
 *   0x000000 + 4*source               priority[source]      (source 0 reads 0)
 *   0x001000 + 4*word                 pending bits, read-only (bit n = source n)
 *   0x002000 + 0x80*context + 4*word  enable bits of one context
 *   0x200000 + 0x1000*context         priority threshold of one context
 *   0x200004 + 0x1000*context         claim (read) / complete (write)
 *
 * Contexts are the interrupt targets; the virt board has two per hart: context 2*hart
 * drives the hart's MEIP and 2*hart+1 its SEIP.
 *
 * Gateways are level-triggered: while a source is not claimed its pending bit follows
 * the input level; a claim clears the pending bit and no new request is forwarded until
 * the claiming context writes the completion; at completion, a line that is still high
 * pends again. (QEMU instead only re-pends on the device's next qemu_set_irq call.)
 *
 * A context's output is high exactly while some source is pending, not claimed, enabled
 * for it and has priority > its threshold. A claim returns the such source with the
 * highest priority (lowest id on ties), or 0; as in QEMU, sources at or below the
 * threshold are not claimable. A completion for a source that is not enabled for the
 * context is ignored (spec section "Interrupt Completion").
 *
 * Priorities and thresholds have 3 bits (0..7) and are WARL: writes keep the low 3 bits.
 * Priority 0 means "never interrupt". Enable bit 0 (source 0) and bits of nonexistent
 * sources are hardwired to 0. Registers are 32 bits wide: byte and half-word accesses
 * to priority/enable/threshold registers are merged into the word; claim/complete only
 * acts on 32-bit accesses.
 */
import type { IrqLine } from './irq.js';
import type { MmioOps } from '../memory/mmio.js';

export const PLIC_PRIORITY_BASE = 0x0;
export const PLIC_PENDING_BASE = 0x1000;
export const PLIC_ENABLE_BASE = 0x2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT_BASE = 0x200000;
export const PLIC_CONTEXT_STRIDE = 0x1000;
export const PLIC_CONTEXT_THRESHOLD = 0x0;
export const PLIC_CONTEXT_CLAIM = 0x4;
/** Size of the region the virt board maps (VIRT_MEMMAP.plic.size). */
export const PLIC_REGION_SIZE = 0x600000;
/** The spec's maximum number of sources (including source 0) and contexts. */
export const PLIC_MAX_SOURCES = 1024;
export const PLIC_MAX_CONTEXTS = 15872;
/** Mask of the implemented priority bits (3 bits, as QEMU virt's VIRT_IRQCHIP_NUM_PRIO_BITS). */
export const PLIC_PRIORITY_MASK = 7;

/** Serializable PLIC state (plain JSON). */
export interface PlicState {
  priority: number[];
  /** Pending bits as 32-bit words. */
  pending: number[];
  /** Claimed (in service) bits as 32-bit words. */
  claimed: number[];
  /** Input line levels as 32-bit words. */
  level: number[];
  /** Enable words, context-major (context * words + word). */
  enable: number[];
  threshold: number[];
}

export class Plic implements MmioOps {
  private readonly numWords: number;
  private readonly priority: Uint8Array;
  private readonly pending: Uint32Array;
  private readonly claimed: Uint32Array;
  private readonly level: Uint32Array;
  private readonly enable: Uint32Array;
  private readonly threshold: Uint8Array;
  private readonly outLevel: boolean[];
  /** Bits of sources that exist (bit 0 and bits >= numSources are zero). */
  private readonly validMask: Uint32Array;
  private readonly lines: IrqLine[];

  /**
   * @param numSources number of sources including the reserved source 0 (virt: 96).
   * @param contexts   one output line per context, in context order.
   */
  constructor(
    readonly numSources: number,
    private readonly contexts: IrqLine[],
  ) {
    if (!Number.isInteger(numSources) || numSources < 1 || numSources > PLIC_MAX_SOURCES) {
      throw new RangeError(`PLIC: numSources must be 1..${PLIC_MAX_SOURCES}, not ${numSources}`);
    }
    if (contexts.length > PLIC_MAX_CONTEXTS) throw new RangeError(`PLIC: at most ${PLIC_MAX_CONTEXTS} contexts`);
    this.numWords = (numSources + 31) >>> 5;
    this.priority = new Uint8Array(numSources);
    this.pending = new Uint32Array(this.numWords);
    this.claimed = new Uint32Array(this.numWords);
    this.level = new Uint32Array(this.numWords);
    this.enable = new Uint32Array(this.numWords * contexts.length);
    this.threshold = new Uint8Array(contexts.length);
    this.outLevel = contexts.map(() => false);
    this.validMask = new Uint32Array(this.numWords);
    for (let s = 1; s < numSources; s++) this.validMask[s >>> 5]! |= 1 << (s & 31);
    this.lines = [];
    for (let s = 0; s < numSources; s++) {
      this.lines.push({ set: (lvl: boolean) => this.setLevel(s, lvl) });
    }
    for (const c of contexts) c.set(false);
  }

  /** The input line of source `n` (1..numSources-1; source 0 is reserved and ignores input). */
  source(n: number): IrqLine {
    const line = this.lines[n];
    if (line === undefined || !Number.isInteger(n)) throw new RangeError(`PLIC: no source ${n}`);
    return line;
  }

  read(offset: number, size: number): number {
    const aligned = offset & ~3;
    if (size === 4) return this.readWord(aligned, true) | 0;
    if (this.isClaimRegister(aligned)) return 0;
    const shift = (offset & 3) * 8;
    return (this.readWord(aligned, false) >>> shift) & (size === 2 ? 0xffff : 0xff);
  }

  write(offset: number, value: number, size: number): void {
    const aligned = offset & ~3;
    if (size === 4) {
      this.writeWord(aligned, value >>> 0);
      return;
    }
    if (this.isClaimRegister(aligned)) return;
    const shift = (offset & 3) * 8;
    const mask = (size === 2 ? 0xffff : 0xff) << shift;
    const word = ((this.readWord(aligned, false) & ~mask) | ((value << shift) & mask)) >>> 0;
    this.writeWord(aligned, word);
  }

  saveState(): PlicState {
    return {
      priority: Array.from(this.priority),
      pending: Array.from(this.pending),
      claimed: Array.from(this.claimed),
      level: Array.from(this.level),
      enable: Array.from(this.enable),
      threshold: Array.from(this.threshold),
    };
  }

  restoreState(state: PlicState): void {
    const load = (dst: Uint8Array | Uint32Array, src: unknown, mask: (i: number) => number): void => {
      for (let i = 0; i < dst.length; i++) {
        const v = Array.isArray(src) ? (src[i] as unknown) : undefined;
        dst[i] = typeof v === 'number' && Number.isFinite(v) ? (v >>> 0) & mask(i) : 0;
      }
    };
    const valid = (i: number): number => this.validMask[i % this.numWords]!;
    load(this.priority, state.priority, (i) => (i === 0 ? 0 : PLIC_PRIORITY_MASK));
    load(this.pending, state.pending, valid);
    load(this.claimed, state.claimed, valid);
    load(this.level, state.level, valid);
    load(this.enable, state.enable, valid);
    load(this.threshold, state.threshold, () => PLIC_PRIORITY_MASK);
    this.update();
  }

  // --- internals -------------------------------------------------------------------

  private setLevel(source: number, high: boolean): void {
    if (source === 0) return;
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    const before = this.pending[w]!;
    if (high) this.level[w]! |= bit;
    else this.level[w]! &= ~bit;
    if ((this.claimed[w]! & bit) === 0) {
      if (high) this.pending[w]! |= bit;
      else this.pending[w]! &= ~bit;
    }
    if (this.pending[w] !== before) this.update();
  }

  private isClaimRegister(offset: number): boolean {
    return (
      offset >= PLIC_CONTEXT_BASE &&
      offset < PLIC_CONTEXT_BASE + this.contexts.length * PLIC_CONTEXT_STRIDE &&
      (offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE === PLIC_CONTEXT_CLAIM
    );
  }

  /** `sideEffects` false: never claim (used for sub-word merges). */
  private readWord(offset: number, sideEffects: boolean): number {
    if (offset < PLIC_PRIORITY_BASE + 4 * this.numSources) {
      return this.priority[(offset - PLIC_PRIORITY_BASE) >>> 2]!;
    }
    if (offset >= PLIC_PENDING_BASE && offset < PLIC_PENDING_BASE + 4 * this.numWords) {
      return this.pending[(offset - PLIC_PENDING_BASE) >>> 2]!;
    }
    if (offset >= PLIC_ENABLE_BASE && offset < PLIC_ENABLE_BASE + this.contexts.length * PLIC_ENABLE_STRIDE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      return w < this.numWords ? this.enable[ctx * this.numWords + w]! : 0;
    }
    if (offset >= PLIC_CONTEXT_BASE && offset < PLIC_CONTEXT_BASE + this.contexts.length * PLIC_CONTEXT_STRIDE) {
      const rel = offset - PLIC_CONTEXT_BASE;
      const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
      const reg = rel % PLIC_CONTEXT_STRIDE;
      if (reg === PLIC_CONTEXT_THRESHOLD) return this.threshold[ctx]!;
      if (reg === PLIC_CONTEXT_CLAIM && sideEffects) return this.claim(ctx);
    }
    return 0;
  }

  private writeWord(offset: number, word: number): void {
    if (offset < PLIC_PRIORITY_BASE + 4 * this.numSources) {
      const s = (offset - PLIC_PRIORITY_BASE) >>> 2;
      if (s === 0) return;
      this.priority[s] = word & PLIC_PRIORITY_MASK;
      this.update();
      return;
    }
    if (offset >= PLIC_ENABLE_BASE && offset < PLIC_ENABLE_BASE + this.contexts.length * PLIC_ENABLE_STRIDE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      if (w >= this.numWords) return;
      this.enable[ctx * this.numWords + w] = word & this.validMask[w]!;
      this.updateContext(ctx);
      return;
    }
    if (offset >= PLIC_CONTEXT_BASE && offset < PLIC_CONTEXT_BASE + this.contexts.length * PLIC_CONTEXT_STRIDE) {
      const rel = offset - PLIC_CONTEXT_BASE;
      const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
      const reg = rel % PLIC_CONTEXT_STRIDE;
      if (reg === PLIC_CONTEXT_THRESHOLD) {
        this.threshold[ctx] = word & PLIC_PRIORITY_MASK;
        this.updateContext(ctx);
      } else if (reg === PLIC_CONTEXT_CLAIM) {
        this.complete(ctx, word);
      }
    }
    // Pending bits are read-only; everything else in the region is reserved.
  }

  /** Best claimable source for a context, or 0. */
  private best(ctx: number): number {
    let bestId = 0;
    let bestPrio = this.threshold[ctx]!;
    const base = ctx * this.numWords;
    for (let w = 0; w < this.numWords; w++) {
      let bits = this.pending[w]! & ~this.claimed[w]! & this.enable[base + w]!;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const s = (w << 5) | b;
        const p = this.priority[s]!;
        if (p > bestPrio) {
          bestPrio = p;
          bestId = s;
        }
      }
    }
    return bestId;
  }

  private claim(ctx: number): number {
    const s = this.best(ctx);
    if (s !== 0) {
      const w = s >>> 5;
      const bit = 1 << (s & 31);
      this.pending[w]! &= ~bit;
      this.claimed[w]! |= bit;
      this.update();
    }
    return s;
  }

  private complete(ctx: number, id: number): void {
    if (id === 0 || id >= this.numSources) return;
    const w = id >>> 5;
    const bit = 1 << (id & 31);
    if ((this.enable[ctx * this.numWords + w]! & bit) === 0) return;
    if ((this.claimed[w]! & bit) === 0) return;
    this.claimed[w]! &= ~bit;
    if (this.level[w]! & bit) this.pending[w]! |= bit;
    this.update();
  }

  private update(): void {
    for (let c = 0; c < this.contexts.length; c++) this.updateContext(c);
  }

  private updateContext(ctx: number): void {
    const lvl = this.best(ctx) !== 0;
    if (lvl !== this.outLevel[ctx]) {
      this.outLevel[ctx] = lvl;
      this.contexts[ctx]!.set(lvl);
    }
  }
}
