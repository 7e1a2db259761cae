/**
 * Simplification of lowered (i32-only) blocks, run by `lowerI64` as its last step.
 *
 * Lowering turns each i64 op into word ops on (lo, hi) pairs without looking at the
 * values, so RV64 code that is really 32-bit (sign-extended results of the *w ops,
 * zero-extended bytes, small constants) pays for two words everywhere, plus a move per
 * word for every guest register write. This pass keeps facts per i32 value within the
 * block and rewrites the ops with them:
 *
 *  1. `Forward`: value numbering over the block. Every location (temp or global half)
 *     maps to a value (`Val`) with what is known about it: a constant, "is the sign word
 *     of value u" (hi = lo >> 31: the pair is a sign-extended 32-bit value), or "below
 *     2^k" (zero-extended). Ops on known values fold; pair ops whose high words are known
 *     become single-word ops (a compare of two sign-extended values is one 32-bit
 *     compare); constants and copies propagate, through globals too.
 *  2. `eliminateDeadCode`: backward liveness over temps and globals (globals are live at
 *     every exit and wherever the state can be observed); a pair op with one dead half
 *     becomes a single-word op where one op computes the live half (add2 -> add).
 *  3. `coalesce`: `t = op(...); g = t` becomes `g = op(...)` when nothing in between can
 *     observe g.
 *
 * Soundness rests on the shape of generated blocks: branches only go forwards (checked)
 * and a single-assignment temp is written before every use on every path (the builder's
 * rule). So ops run in increasing index order, and the state at a label is the
 * intersection of the states on its incoming edges: the fallthrough and the branches to
 * it, which all come before it. Facts about a *value* never change; only which location
 * holds which value does, and that map is what labels merge. Globals start the block
 * unknown, and are all forgotten when a helper that writes globals is called.
 */
import type { IrBuilder } from './builder.js';
import { evalBinary, evalCond, evalCond64, evalExt } from './fold.js';
import { Cond, HelperFlags, MemOp, Op, Opc, Temp, TempKind, Type } from './ir.js';

export interface SimplifyOptions {
  /** Helper index of mul64: a call whose high word is unused becomes an i32 multiply. */
  mul64?: number;
}

// Scratch arrays shared by all calls (the passes are synchronous): a typed array per block
// would be an allocation of its own, which costs about as much as a pass.
/** Dead-code pass: live locations. */
let scratch8 = new Uint8Array(1024);
/** Coalescing: def and last use per location. */
let scratch32 = new Int32Array(2048);
/** Locations: per location, single-assignment or not. */
let scratchKind = new Uint8Array(1024);
/** Locations: state slot -> location, valid where the slot's stamp is the block's. */
let scratchSlots = new Int32Array(256);
let scratchStamps = new Int32Array(256);
let blockStamp = 0;
/** The globals list the slot arrays were sized for (one per CPU). */
let slotsFor: readonly Temp[] | null = null;
/** Dead-code pass: per label id, the label's live set. */
const labelPool: Uint8Array[] = [];

/**
 * Dense numbering of the locations of one block: the globals it mentions (by state slot:
 * each half of an i64 global is its own), then its temps by id. Constants have none.
 */
class Locations {
  /** Number of globals mentioned: they are locations 0..globalCount-1. */
  readonly globalCount: number;
  readonly size: number;
  /** Location of each state slot (valid for the slots the block mentions). */
  private readonly slotLoc: Int32Array;
  /** Location of a temp minus its id (the builder numbers temps after the globals). */
  private readonly tempOffset: number;
  /** Per location: 0 not looked up yet, 1 single-assignment temp, 2 otherwise. */
  private readonly kind: Uint8Array;
  constructor(private readonly b: IrBuilder) {
    if (slotsFor !== b.block.globals) {
      // A new CPU (the list is the same for all its blocks): room for all its slots.
      let max = 0;
      for (const t of b.block.globals) max = Math.max(max, t.slot + 2);
      if (scratchSlots.length < max) {
        scratchSlots = new Int32Array(max);
        scratchStamps = new Int32Array(max);
      }
      slotsFor = b.block.globals;
    }
    const slotLoc = (this.slotLoc = scratchSlots);
    if (++blockStamp > 0x3fffffff) {
      scratchStamps.fill(0);
      blockStamp = 1;
    }
    const stamps = scratchStamps, stamp = blockStamp;
    let g = 0;
    const note = (t: Temp | null) => {
      if (t !== null && t.kind === TempKind.Global && stamps[t.slot] !== stamp) {
        stamps[t.slot] = stamp;
        slotLoc[t.slot] = g++;
      }
    };
    for (const op of b.ops) {
      const a = op.args;
      for (let i = 0; i < a.length; i++) note(a[i]);
      note(op.dst);
      note(op.dst2);
    }
    this.globalCount = g;
    this.tempOffset = g - b.block.globals.length;
    this.size = g + b.block.temps.length;
    if (scratchKind.length < this.size) scratchKind = new Uint8Array(2 * this.size);
    this.kind = scratchKind;
    this.kind.fill(0, 0, this.size);
  }
  /** Not for constants. */
  at(t: Temp): number {
    return t.kind === TempKind.Global ? this.slotLoc[t.slot] : this.tempOffset + t.id;
  }
  isImmutable(t: Temp): boolean {
    if (t.kind !== TempKind.Temp) return false;
    const i = this.tempOffset + t.id;
    let k = this.kind[i];
    if (k === 0) this.kind[i] = k = this.b.isMutable(t) ? 2 : 1;
    return k === 1;
  }
}

const isBranch = (opc: Opc) => opc === Opc.Br || opc === Opc.BrCond || opc === Opc.BrCond2;
const isExit = (opc: Opc) => opc === Opc.GotoTb || opc === Opc.ExitTb || opc === Opc.LookupAndGoto;

export function simplifyLowered(b: IrBuilder, opts: SimplifyOptions = {}): void {
  if (!branchesForward(b.ops)) return; // everything below relies on it
  const locs = new Locations(b);
  if (!new Forward(b, locs).run()) return;
  eliminateDeadCode(b, locs, opts);
  coalesce(b, locs);
}

function branchesForward(ops: readonly Op[]): boolean {
  const placed = new Set<number>();
  for (const op of ops) {
    if (op.opc === Opc.SetLabel) placed.add(op.aux);
    else if (isBranch(op.opc) && placed.has(op.aux)) return false;
  }
  return true;
}

// ---- 1. forward: values, facts, folding ---------------------------------------------------

/** One i32 value and the facts known about it. */
class Val {
  /** This value is `signOf >> 31`: a pair (signOf, this) is a sign-extended 32-bit value. */
  signOf: Val | null = null;
  /** An immutable temp also holding the value, for when `rep` has been overwritten. */
  alt: Temp | null = null;
  constructor(
    /** Where the value was made (its constant temp for constants). */
    readonly rep: Temp,
    readonly konst: number | null,
    /** The value, as unsigned, is below 2^bits (32: nothing known). */
    readonly bits: number,
  ) {}
}

/** Location -> value held there (undefined: not known, a fresh value on first read). */
type State = (Val | undefined)[];

/** The unsigned form of an ordered condition (EQ and NE stay). */
function unsignedCond(c: Cond): Cond {
  switch (c) {
    case Cond.LT: return Cond.LTU;
    case Cond.GE: return Cond.GEU;
    case Cond.LE: return Cond.LEU;
    case Cond.GT: return Cond.GTU;
    default: return c;
  }
}
/** cond(x, x) for every x. */
const reflexive = (c: Cond) => c === Cond.EQ || c === Cond.GE || c === Cond.LE || c === Cond.GEU || c === Cond.LEU;

// Constant folding of pair ops, in int32 arithmetic (bigints would cost more than the rest
// of the pass): the results are [lo, hi].
function add64(al: number, ah: number, bl: number, bh: number): [number, number] {
  const lo = (al + bl) | 0;
  return [lo, (ah + bh + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0];
}
function sub64(al: number, ah: number, bl: number, bh: number): [number, number] {
  return [(al - bl) | 0, (ah - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0];
}
/** (lo, hi) shifted by n in 1..63. */
function shift64(opc: Opc, lo: number, hi: number, n: number): [number, number] {
  if (opc === Opc.Shl2) return n < 32 ? [lo << n, (hi << n) | (lo >>> (32 - n))] : [0, lo << (n - 32)];
  const top = opc === Opc.Sar2 ? hi >> 31 : 0;
  if (n < 32) return [(lo >>> n) | (hi << (32 - n)), opc === Opc.Sar2 ? hi >> n : (hi >>> n) | 0];
  return [opc === Opc.Sar2 ? hi >> (n - 32) : (hi >>> (n - 32)) | 0, top];
}
/** The low n bits set. */
const lowMask = (n: number) => (n >= 32 ? -1 : (1 << n) - 1);

class Forward {
  private readonly out: Op[] = [];
  /** Null where the code is unreachable (after an exit or br, before a label). */
  private state: State | null;
  /** Per label: the intersection of the states at the branches to it seen so far. */
  private readonly pending = new Map<number, State>();
  private readonly consts: Val[] = [];
  /** A single-assignment temp was read where it had not been written on every path. */
  private broken = false;

  constructor(
    private readonly b: IrBuilder,
    private readonly locs: Locations,
  ) {
    this.state = new Array<Val | undefined>(locs.size);
  }

  // ---- values --------------------------------------------------------------------------

  private c32(v: number): Temp {
    return this.b.const32(v);
  }
  private val(t: Temp): Val {
    if (t.isConst) {
      // Constant temps are unique per value (the builder caches them).
      let v = this.consts[t.id];
      if (!v) {
        const c = t.value as number;
        this.consts[t.id] = v = new Val(t, c, c >= 0 ? 32 - Math.clz32(c) : 32);
      }
      return v;
    }
    const i = this.locs.at(t);
    let v = this.state![i];
    if (!v) {
      // Not known: a global at entry, say. Never a single-assignment temp, unless the block
      // breaks the builder's rule (its constant value may have been propagated away).
      if (this.locs.isImmutable(t)) this.broken = true;
      this.state![i] = v = new Val(t, null, 32);
    }
    return v;
  }
  private holds(t: Temp, v: Val): boolean {
    return this.state![this.locs.at(t)] === v;
  }
  /** A temp that holds v here (its maker or an immutable copy, if not overwritten), or null. */
  private holder(v: Val): Temp | null {
    if (v.konst !== null || this.holds(v.rep, v)) return v.rep;
    if (v.alt && this.holds(v.alt, v)) return v.alt;
    return null;
  }
  /** What to read instead of t: a constant, or where its value was made (copy propagation). */
  private operand(t: Temp): Temp {
    return t.isConst ? t : (this.holder(this.val(t)) ?? t);
  }
  private define(t: Temp, v: Val): void {
    this.state![this.locs.at(t)] = v;
    // A value that came from a global: an immutable copy outlives the global.
    if (!v.alt && v.konst === null && this.locs.isImmutable(t) && !this.locs.isImmutable(v.rep)) v.alt = t;
  }
  /** A new value, made by a kept op into d. */
  private result(d: Temp, bits = 32, signOf: Val | null = null): void {
    const v = new Val(d, null, bits);
    v.signOf = signOf;
    this.define(d, v);
  }

  private same(x: Temp, y: Temp): boolean {
    return this.val(x) === this.val(y);
  }
  private bits(t: Temp): number {
    return this.val(t).bits;
  }
  /** 0 or -1. */
  private isSign(t: Temp): boolean {
    const v = this.val(t);
    return v.signOf !== null || v.konst === 0 || v.konst === -1;
  }
  /** (lo, hi) is a sign-extended 32-bit value: hi = lo >> 31. */
  private isSext(lo: Temp, hi: Temp): boolean {
    const l = this.val(lo), h = this.val(hi);
    if (h.signOf === l) return true;
    if (h.konst === null) return false;
    if (l.konst !== null) return h.konst === l.konst >> 31;
    return l.bits < 32 && h.konst === 0; // lo is non-negative
  }

  // ---- emitting ------------------------------------------------------------------------

  /** d = src (an operand already). */
  private copy(d: Temp, src: Temp): void {
    const v = this.val(src);
    if (this.locs.isImmutable(d)) {
      // Reads of d read the value where it was made instead (a constant, or a temp: it is
      // still there wherever d is). Only a value from a global needs the copy, as the
      // global may be overwritten before d is read.
      const keep = v.konst === null && !this.locs.isImmutable(this.holder(v) ?? src);
      this.define(d, v);
      if (keep) this.out.push(new Op(Opc.Mov, d, [src], 0));
      return;
    }
    if (this.holds(d, v)) return; // already there (pc.hi = 0 twice, say)
    this.define(d, v);
    this.out.push(new Op(Opc.Mov, d, [src], 0));
  }

  /** A single-word op on operands: folded, or an identity, or kept with facts about its result. */
  private single(op: Op): void {
    const r = this.identity(op);
    if (r !== null) {
      this.copy(op.dst!, r);
      return;
    }
    this.out.push(op);
    this.resultOf(op);
  }
  private emit1(opc: Opc, d: Temp, args: Temp[], aux = 0): void {
    this.single(new Op(opc, d, args, aux));
  }
  /** Keep a pair op (or any op) with unknown results. */
  private keep(op: Op): void {
    this.out.push(op);
    if (op.dst) this.result(op.dst);
    if (op.dst2) this.result(op.dst2);
  }

  // ---- rules ---------------------------------------------------------------------------

  /** cond(x, y) when it is known, else null. */
  private decide(c: Cond, x: Temp, y: Temp): boolean | null {
    if (x.isConst && y.isConst) return evalCond(c, Type.I32, x.value, y.value);
    if (this.same(x, y)) return reflexive(c);
    return null;
  }

  /** What a single-word op's result equals without computing it (a constant or an operand), or null. */
  private identity(op: Op): Temp | null {
    const a = op.args;
    const x = a[0], y = a[1];
    const cx = x.isConst ? (x.value as number) : null;
    const cy = y !== undefined && y.isConst ? (y.value as number) : null;
    switch (op.opc) {
      case Opc.Mov:
        return x;
      case Opc.Neg: case Opc.Not:
        return cx === null ? null : this.c32(op.opc === Opc.Neg ? -cx | 0 : ~cx);
      case Opc.ExtS: case Opc.ExtU:
        if (cx !== null) return this.c32(evalExt(op.opc === Opc.ExtS, Type.I32, cx, op.aux2) as number);
        // A value below 2^k is unchanged by zero-extension from k bits, and by sign-extension
        // from more than k bits (its sign bit there is 0).
        if (op.aux2 >= 32 || (op.opc === Opc.ExtU ? this.bits(x) <= op.aux2 : this.bits(x) < op.aux2)) return x;
        return null;
      case Opc.SetCond: {
        const r = this.decide(op.aux, x, y);
        return r === null ? null : this.c32(r ? 1 : 0);
      }
      case Opc.MovCond: {
        const r = this.decide(op.aux, x, y);
        if (r !== null) return r ? a[2] : a[3];
        return this.same(a[2], a[3]) ? a[2] : null;
      }
    }
    if (cx !== null && cy !== null) return this.c32(evalBinary(op.opc, Type.I32, cx, cy) as number);
    switch (op.opc) {
      case Opc.Add:
        if (cy === 0) return x;
        if (cx === 0) return y;
        return null;
      case Opc.Sub:
        if (cy === 0) return x;
        if (this.same(x, y)) return this.c32(0);
        return null;
      case Opc.Mul:
        if (cx === 0 || cy === 0) return this.c32(0);
        if (cy === 1) return x;
        if (cx === 1) return y;
        return null;
      case Opc.And:
        if (cx === 0 || cy === 0) return this.c32(0);
        if (this.same(x, y)) return x;
        // x & m is x when m keeps every bit x can have set (m = -1, or 255 on a byte).
        if (cy !== null && (cy & lowMask(this.bits(x))) === lowMask(this.bits(x))) return x;
        if (cx !== null && (cx & lowMask(this.bits(y))) === lowMask(this.bits(y))) return y;
        return null;
      case Opc.Or:
        if (cy === 0 || this.same(x, y)) return x;
        if (cx === 0) return y;
        if (cx === -1 || cy === -1) return this.c32(-1);
        return null;
      case Opc.Xor:
        if (cy === 0) return x;
        if (cx === 0) return y;
        if (this.same(x, y)) return this.c32(0);
        return null;
      case Opc.Shl: case Opc.Shr: case Opc.Sar: {
        if (cx === 0) return x;
        // A sign word (0 or -1) is its own arithmetic shift.
        if (op.opc === Opc.Sar && this.isSign(x)) return x;
        if (cy === null) return null;
        const n = cy & 31; // both backends shift i32 by the count modulo 32
        if (n === 0) return x;
        // A value below 2^k shifted right by k or more is 0 (it is non-negative: k < 32).
        if (op.opc !== Opc.Shl && this.bits(x) <= n) return this.c32(0);
        return null;
      }
    }
    return null;
  }

  /** Record the result of a kept single-word op, with what is known about it. */
  private resultOf(op: Op): void {
    const d = op.dst!;
    const a = op.args;
    const bx = this.bits(a[0]);
    const by = a.length > 1 ? this.bits(a[1]) : 32;
    const n = a.length > 1 && a[1].isConst ? (a[1].value as number) & 31 : -1;
    switch (op.opc) {
      case Opc.And: return this.result(d, Math.min(bx, by));
      case Opc.Or: case Opc.Xor: return this.result(d, Math.max(bx, by));
      case Opc.Add: return this.result(d, bx < 32 && by < 32 ? Math.max(bx, by) + 1 : 32);
      case Opc.Mul: return this.result(d, bx < 32 && by < 32 ? Math.min(32, bx + by) : 32);
      case Opc.Shl: return this.result(d, n >= 0 && bx + n <= 32 ? bx + n : 32);
      case Opc.Shr: return this.result(d, n >= 0 ? Math.max(0, bx - n) : 32);
      case Opc.Sar:
        // x >> 31 is x's sign word: the pair (x, d) is sign-extended. (x >= 0 folded to 0.)
        return this.result(d, n >= 0 && bx < 32 ? Math.max(0, bx - n) : 32, n === 31 ? this.val(a[0]) : null);
      case Opc.ExtU: return this.result(d, Math.min(op.aux2, bx));
      case Opc.SetCond: return this.result(d, 1);
      case Opc.MovCond: return this.result(d, Math.max(this.bits(a[2]), this.bits(a[3])));
      default: return this.result(d);
    }
  }

  /**
   * A 64-bit comparison of (al, ah) with (bl, bh), reduced to one of the low words when
   * the high words make that exact; or its known outcome; or null.
   */
  private reduceCond2(c: Cond, al: Temp, ah: Temp, bl: Temp, bh: Temp): { c: Cond; x: Temp; y: Temp } | boolean | null {
    if (al.isConst && ah.isConst && bl.isConst && bh.isConst) {
      return evalCond64(c, al.value as number, ah.value as number, bl.value as number, bh.value as number);
    }
    // Equal high words: the order of the 64-bit values is the unsigned order of the low words.
    if (this.same(ah, bh)) return { c: unsignedCond(c), x: al, y: bl };
    // Both sign-extended from 32 bits: the signed order of the 64-bit values is that of the
    // low words. So is the unsigned order: values with lo >= 0 are 0..2^31-1 in both
    // widths, and those with lo < 0 are the top 2^31 values in both, in the same order.
    if (this.isSext(al, ah) && this.isSext(bl, bh)) return { c, x: al, y: bl };
    if (c === Cond.EQ || c === Cond.NE) {
      // Equality of equal low words is that of the high words.
      if (this.same(al, bl)) return { c, x: ah, y: bh };
      // Different known words: never equal.
      if ((ah.isConst && bh.isConst) || (al.isConst && bl.isConst)) return c === Cond.NE;
    }
    return null;
  }

  private branchTo(label: number): void {
    const prev = this.pending.get(label);
    const s = this.state!;
    if (!prev) this.pending.set(label, s.slice());
    else for (let i = 0; i < prev.length; i++) if (prev[i] !== s[i]) prev[i] = undefined;
  }
  private brcond(op: Op): void {
    const r = this.decide(op.aux2, op.args[0], op.args[1]);
    if (r === false) return;
    this.branchTo(op.aux);
    if (r === true) {
      this.out.push(new Op(Opc.Br, null, [], op.aux));
      this.state = null;
    } else {
      this.out.push(op);
    }
  }
  private setLabel(op: Op): void {
    const incoming = this.pending.get(op.aux);
    this.pending.delete(op.aux);
    const s = this.state;
    if (s === null) this.state = incoming ?? null;
    else if (incoming) for (let i = 0; i < s.length; i++) if (s[i] !== incoming[i]) s[i] = undefined;
    this.out.push(op);
  }

  /** Add2/Sub2 on operands. `split`: the results are fresh temps, so they may be written one at a time. */
  private addSub2(op: Op, split: boolean): void {
    const a = op.args;
    const al = a[0], ah = a[1], bl = a[2], bh = a[3];
    const d = op.dst!, d2 = op.dst2!;
    const add = op.opc === Opc.Add2;
    if (al.isConst && ah.isConst && bl.isConst && bh.isConst) {
      const [lo, hi] = (add ? add64 : sub64)(al.value as number, ah.value as number, bl.value as number, bh.value as number);
      this.copy(d, this.c32(lo));
      this.copy(d2, this.c32(hi));
      return;
    }
    if (split) {
      const isZero = (t: Temp) => t.isConst && t.value === 0;
      // A low word of 0 cannot carry or borrow.
      if (isZero(bl) || (add && isZero(al))) {
        this.copy(d, isZero(bl) ? al : bl);
        this.emit1(add ? Opc.Add : Opc.Sub, d2, [ah, bh]);
        return;
      }
      // x - x: the low words cancel without a borrow.
      if (!add && this.same(al, bl)) {
        this.copy(d, this.c32(0));
        this.emit1(Opc.Sub, d2, [ah, bh]);
        return;
      }
      // Low words below 2^31 cannot carry; worth it when the high sum is free.
      if (add && this.bits(al) < 32 && this.bits(bl) < 32 && (isZero(ah) || isZero(bh) || (ah.isConst && bh.isConst))) {
        this.emit1(Opc.Add, d, [al, bl]);
        this.emit1(Opc.Add, d2, [ah, bh]);
        return;
      }
    }
    this.keep(op);
  }

  /** Shl2/Shr2/Sar2 on operands. */
  private shift2(op: Op, split: boolean): void {
    const a = op.args;
    const al = a[0], ah = a[1], cnt = a[2];
    const d = op.dst!, d2 = op.dst2!;
    const opc = op.opc;
    if (!cnt.isConst) return this.keep(op);
    const n = (cnt.value as number) & 63; // both backends take a constant count modulo 64
    const c = (v: number) => this.c32(v);
    if (al.isConst && ah.isConst) {
      const [lo, hi] = n === 0 ? [al.value as number, ah.value as number] : shift64(opc, al.value as number, ah.value as number, n);
      this.copy(d, c(lo));
      this.copy(d2, c(hi));
      return;
    }
    if (!split) return this.keep(op);
    if (n === 0) {
      this.copy(d, al);
      this.copy(d2, ah);
      return;
    }
    if (n >= 32) {
      // Only one input word reaches the result.
      if (opc === Opc.Shl2) {
        this.copy(d, c(0));
        this.emit1(Opc.Shl, d2, [al, c(n - 32)]);
      } else if (opc === Opc.Shr2) {
        this.emit1(Opc.Shr, d, [ah, c(n - 32)]);
        this.copy(d2, c(0));
      } else {
        this.emit1(Opc.Sar, d, [ah, c(n - 32)]);
        this.emit1(Opc.Sar, d2, [ah, c(31)]);
      }
      return;
    }
    const isZero = (t: Temp) => t.isConst && t.value === 0;
    if (opc === Opc.Shl2) {
      // hi = (ah << n) | (al >>> (32 - n))
      if (isZero(al)) {
        this.copy(d, c(0));
        this.emit1(Opc.Shl, d2, [ah, c(n)]);
        return;
      }
      if (isZero(ah) && this.bits(al) + n <= 32) {
        // al < 2^(32 - n): no bit crosses into the high word.
        this.emit1(Opc.Shl, d, [al, c(n)]);
        this.copy(d2, c(0));
        return;
      }
    } else {
      // lo = (al >>> n) | (ah << (32 - n))
      if (isZero(ah)) {
        this.emit1(Opc.Shr, d, [al, c(n)]);
        this.copy(d2, c(0));
        return;
      }
      if (opc === Opc.Sar2 && this.isSext(al, ah)) {
        // Bits 31..63 all equal the sign: lo = al >> n, and the sign word stays.
        this.emit1(Opc.Sar, d, [al, c(n)]);
        this.copy(d2, ah);
        return;
      }
    }
    this.keep(op);
  }

  /** Rewrite the block; false if it had to be left as it was. */
  run(): boolean {
    const b = this.b;
    /** Operands replaced in place, to undo: op, index, old operand. */
    const undo: (Op | number | Temp)[] = [];
    for (const op of b.ops) {
      if (op.opc === Opc.SetLabel) {
        this.setLabel(op);
        continue;
      }
      if (op.opc === Opc.InsnStart) {
        this.out.push(op);
        continue;
      }
      if (this.state === null) continue; // unreachable
      const a = op.args; // each op has its own array (lowering copies shared pairs)
      for (let i = 0; i < a.length; i++) {
        const t = this.operand(a[i]);
        if (t !== a[i]) {
          undo.push(op, i, a[i]);
          a[i] = t;
        }
      }
      const d = op.dst, d2 = op.dst2;
      // Splitting a pair op into two single-word ops writes one result before the second
      // reads its arguments: only when the results are fresh temps (never arguments).
      const split = d !== null && d2 !== null && this.locs.isImmutable(d) && this.locs.isImmutable(d2);
      switch (op.opc) {
        case Opc.Mov: case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
        case Opc.Shl: case Opc.Shr: case Opc.Sar: case Opc.Neg: case Opc.Not: case Opc.ExtS: case Opc.ExtU:
        case Opc.SetCond: case Opc.MovCond:
          this.single(op);
          break;
        case Opc.SetCond2: {
          const r = this.reduceCond2(op.aux, a[0], a[1], a[2], a[3]);
          if (typeof r === 'boolean') this.copy(d!, this.c32(r ? 1 : 0));
          else if (r !== null) this.emit1(Opc.SetCond, d!, [r.x, r.y], r.c);
          else {
            this.out.push(op);
            this.result(d!, 1);
          }
          break;
        }
        case Opc.BrCond:
          this.brcond(op);
          break;
        case Opc.BrCond2: {
          const r = this.reduceCond2(op.aux2, a[0], a[1], a[2], a[3]);
          if (typeof r === 'boolean') {
            this.brcond(new Op(Opc.BrCond, null, [this.c32(0), this.c32(0)], op.aux, r ? Cond.EQ : Cond.NE));
          } else if (r !== null) {
            this.brcond(new Op(Opc.BrCond, null, [r.x, r.y], op.aux, r.c));
          } else {
            this.out.push(op);
            this.branchTo(op.aux);
          }
          break;
        }
        case Opc.Br:
          this.branchTo(op.aux);
          this.out.push(op);
          this.state = null;
          break;
        case Opc.Add2: case Opc.Sub2:
          this.addSub2(op, split);
          break;
        case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
          this.shift2(op, split);
          break;
        case Opc.Load: {
          this.out.push(op);
          // Narrow unsigned loads zero-extend (fast paths of both backends and the slow path).
          const size = op.aux & MemOp.SizeMask;
          this.result(d!, !(op.aux & MemOp.Sign) && size < 2 ? 8 << size : 32);
          if (d2) this.result(d2);
          break;
        }
        case Opc.Store:
          // A store narrower than 8 bytes never reads the high word of its value.
          if ((op.aux & MemOp.SizeMask) < 3 && a[1] !== this.c32(0)) {
            undo.push(op, 1, a[1]);
            a[1] = this.c32(0);
          }
          this.out.push(op);
          break;
        case Opc.Call:
          if (b.helpers.list[op.aux].flags & HelperFlags.WritesGlobals) this.state.fill(undefined, 0, this.locs.globalCount);
          this.keep(op);
          break;
        default:
          if (isExit(op.opc)) {
            this.out.push(op);
            this.state = null;
          } else {
            this.keep(op);
          }
      }
    }
    if (this.broken) {
      for (let i = undo.length - 3; i >= 0; i -= 3) (undo[i] as Op).args[undo[i + 1] as number] = undo[i + 2] as Temp;
      return false;
    }
    b.ops.length = 0;
    b.ops.push(...this.out);
    return true;
  }
}

// ---- 2. dead code ------------------------------------------------------------------------

/** May the op leave the block with the state written back, or let a helper see it? */
function observesGlobals(b: IrBuilder, op: Op): boolean {
  switch (op.opc) {
    case Opc.Load: case Opc.Store:
      return true; // may raise a guest exception
    case Opc.Call:
      return (b.helpers.list[op.aux].flags & (HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals | HelperFlags.MayRaise)) !== 0;
    default:
      return false;
  }
}

function hasSideEffects(b: IrBuilder, op: Op): boolean {
  switch (op.opc) {
    case Opc.Call:
      return b.helpers.list[op.aux].flags !== HelperFlags.Pure;
    case Opc.Load: case Opc.Store:
      return true;
    default:
      return op.dst === null;
  }
}

/**
 * Backward liveness. A label's live set is recorded when the walk reaches it, before the
 * (earlier) branches to it. Globals are live at exits and at ops that may observe the
 * state; temps are dead at the end of the block.
 */
function eliminateDeadCode(b: IrBuilder, locs: Locations, opts: SimplifyOptions): void {
  const ops = b.ops;
  const liveAt = new Map<number, Uint8Array>();
  if (scratch8.length < locs.size) scratch8 = new Uint8Array(2 * locs.size);
  const live = scratch8.subarray(0, locs.size);
  live.fill(0);
  const allGlobals = () => live.fill(1, 0, locs.globalCount);
  allGlobals(); // falling off the end exits the block
  const keep: Op[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    let op = ops[i];
    if (isExit(op.opc)) {
      live.fill(0);
      allGlobals();
    } else if (op.opc === Opc.Br) {
      const l = liveAt.get(op.aux);
      if (l) live.set(l);
      else live.fill(1);
    } else if (op.opc === Opc.BrCond || op.opc === Opc.BrCond2) {
      const l = liveAt.get(op.aux);
      if (l) for (let k = 0; k < l.length; k++) live[k] |= l[k];
      else live.fill(1);
    } else if (op.opc === Opc.SetLabel) {
      let copy = labelPool[op.aux];
      if (!copy || copy.length < live.length) copy = labelPool[op.aux] = new Uint8Array(Math.max(256, 2 * live.length));
      copy.set(live);
      liveAt.set(op.aux, copy.subarray(0, live.length));
    } else if (op.opc !== Opc.InsnStart) {
      const l1 = op.dst !== null && live[locs.at(op.dst)] === 1;
      const l2 = op.dst2 !== null && live[locs.at(op.dst2)] === 1;
      if (!hasSideEffects(b, op)) {
        if (!l1 && !l2) continue;
        if (op.dst2 !== null && l1 !== l2) op = narrow(op, l1, opts) ?? op;
      }
      if (op.dst) live[locs.at(op.dst)] = 0;
      if (op.dst2) live[locs.at(op.dst2)] = 0;
      if (observesGlobals(b, op)) allGlobals();
    }
    for (const a of op.args) if (!a.isConst) live[locs.at(a)] = 1;
    keep.push(op);
  }
  keep.reverse();
  b.ops.length = 0;
  b.ops.push(...keep);
}

/** A pair op of which only the low (loLive) or only the high word is used, as one single-word op; else null. */
function narrow(op: Op, loLive: boolean, opts: SimplifyOptions): Op | null {
  const a = op.args;
  const d = loLive ? op.dst! : op.dst2!;
  switch (op.opc) {
    case Opc.Add2: case Opc.Sub2:
      // The low word of a sum or difference does not depend on the high words.
      return loLive ? new Op(op.opc === Opc.Add2 ? Opc.Add : Opc.Sub, d, [a[0], a[2]], 0) : null;
    case Opc.Call:
      // The low word of a 64-bit product is the 32-bit product of the low words.
      return loLive && op.aux === opts.mul64 ? new Op(Opc.Mul, d, [a[0], a[2]], 0) : null;
    case Opc.Shl2: case Opc.Shr2: case Opc.Sar2: {
      if (!a[2].isConst) return null;
      const n = (a[2].value as number) & 63;
      if (n === 0 || n >= 32) return null; // the forward pass already split those
      // lo of a left shift is al << n; hi of a right shift is ah >>> n or ah >> n.
      if (op.opc === Opc.Shl2) return loLive ? new Op(Opc.Shl, d, [a[0], a[2]], 0) : null;
      return loLive ? null : new Op(op.opc === Opc.Shr2 ? Opc.Shr : Opc.Sar, d, [a[1], a[2]], 0);
    }
    default:
      return null;
  }
}

// ---- 3. coalescing -----------------------------------------------------------------------

/**
 * Ops that read all their arguments before writing a result and cannot fault, so their
 * result may go straight into a global. Not loads: the JS backend's slow path assigns
 * the result before it checks for a fault, which would then leave the global clobbered.
 * Pure helper calls qualify (no fault, no reload of globals after them).
 */
function retargetable(b: IrBuilder, op: Op): boolean {
  switch (op.opc) {
    case Opc.Call:
      return b.helpers.list[op.aux].flags === HelperFlags.Pure;
    case Opc.Mov: case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
    case Opc.Shl: case Opc.Shr: case Opc.Sar: case Opc.Neg: case Opc.Not: case Opc.ExtS: case Opc.ExtU:
    case Opc.SetCond: case Opc.MovCond: case Opc.SetCond2:
    case Opc.Add2: case Opc.Sub2: case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
      return true;
    default:
      return false;
  }
}

/** Ops a write may not move across: control flow, and ops that may observe the state. */
function barrier(opc: Opc): boolean {
  switch (opc) {
    case Opc.Load: case Opc.Store: case Opc.Call: case Opc.Br: case Opc.BrCond: case Opc.BrCond2:
    case Opc.SetLabel: case Opc.GotoTb: case Opc.ExitTb: case Opc.LookupAndGoto:
      return true;
    default:
      return false;
  }
}

/**
 * `t = op(...); ...; g = t` with t a single-assignment temp becomes `g = op(...); ...`,
 * and later reads of t read g, when:
 *  - between the op and the move nothing reads or writes g, and nothing can branch, be a
 *    branch target, exit, or let a helper see the state: no path sees g early;
 *  - after the move, g is not written again up to t's last use (which may write it: ops
 *    read their arguments first).
 * Every path to a use of t runs through the op (the builder's rule), hence through the
 * move, as nothing in between branches.
 */
function coalesce(b: IrBuilder, locs: Locations): void {
  const ops = b.ops;
  const n = locs.size;
  if (scratch32.length < 2 * n) scratch32 = new Int32Array(4 * n);
  const def = scratch32.subarray(0, n).fill(-1);
  const lastUse = scratch32.subarray(n, 2 * n).fill(-1);
  ops.forEach((op, i) => {
    if (op.dst && op.dst.kind === TempKind.Temp) def[locs.at(op.dst)] = i;
    if (op.dst2 && op.dst2.kind === TempKind.Temp) def[locs.at(op.dst2)] = i;
    for (const a of op.args) if (!a.isConst) lastUse[locs.at(a)] = i;
  });
  const dead: boolean[] = [];
  const writes = (op: Op, g: number) =>
    (op.dst !== null && locs.at(op.dst) === g) || (op.dst2 !== null && locs.at(op.dst2) === g);
  const reads = (op: Op, g: number) => op.args.some((a) => !a.isConst && locs.at(a) === g);
  for (let j = 0; j < ops.length; j++) {
    const mov = ops[j];
    if (mov.opc !== Opc.Mov || !locs.isImmutable(mov.args[0])) continue;
    const g = mov.dst!, t = mov.args[0];
    const i = def[locs.at(t)];
    if (i < 0 || i >= j) continue;
    const x = ops[i];
    if (!retargetable(b, x) || (x.dst !== t && x.dst2 !== t)) continue;
    const gl = locs.at(g);
    if (writes(x, gl)) continue; // its other result already went to g
    let ok = true;
    for (let k = i + 1; k < j && ok; k++) {
      const o = ops[k];
      if (!dead[k] && (barrier(o.opc) || writes(o, gl) || reads(o, gl))) ok = false;
    }
    const last = lastUse[locs.at(t)];
    for (let k = j + 1; k < last && ok; k++) {
      const o = ops[k];
      if (dead[k]) continue;
      if (writes(o, gl)) ok = false;
      else if (g.kind === TempKind.Global && o.opc === Opc.Call && b.helpers.list[o.aux].flags & HelperFlags.WritesGlobals) ok = false;
    }
    if (!ok) continue;
    if (x.dst === t) x.dst = g;
    else x.dst2 = g;
    for (let k = i + 1; k <= last; k++) {
      const args = ops[k].args;
      for (let m = 0; m < args.length; m++) if (args[m] === t) args[m] = g;
    }
    dead[j] = true;
  }
  let kept = 0;
  for (let i = 0; i < ops.length; i++) if (!dead[i]) ops[kept++] = ops[i];
  ops.length = kept;
}
