/**
 * IrBuilder: the API frontends use to emit IR (the analogue of tcg-op.c).
 *
 * Value-returning methods create a fresh single-assignment temp, or fold: `add(x, 0)`
 * returns x, an op on constants returns a constant. Globals and temps made with
 * `mutableTemp` are only written through `assign`. Passes rely on that: a temp made by
 * a value-returning method is written exactly once, before every use.
 */
import { Cond, HelperTable, IrBlock, MemOp, Op, Opc, Temp, TempKind, Type } from './ir.js';
import { evalBinary, evalCond, norm64 } from './fold.js';

export class Label {
  constructor(readonly id: number) {}
}

export class IrBuilder {
  readonly block: IrBlock;
  private nextId: number;
  /** Temporaries that may be written more than once (made by mutableTemp). */
  private readonly mutableTemps = new Set<Temp>();
  private insnIndex = -1;
  private readonly const32Cache = new Map<number, Temp>();
  private readonly const64Cache = new Map<bigint, Temp>();

  constructor(
    globals: readonly Temp[],
    readonly helpers: HelperTable,
  ) {
    this.block = new IrBlock(globals);
    this.nextId = globals.length;
  }

  get ops(): Op[] {
    return this.block.ops;
  }

  // ---- temps -------------------------------------------------------------------------

  private newTemp(type: Type, kind = TempKind.Temp, value: number | bigint = 0): Temp {
    const t = new Temp(this.nextId++, type, kind, value, -1, '');
    this.block.temps.push(t);
    return t;
  }

  /** A fresh single-assignment temp (for passes that rewrite ops themselves). */
  freshTemp(type: Type): Temp {
    return this.newTemp(type);
  }

  /** Globals and mutable temps may be written several times; passes never propagate them. */
  isMutable(t: Temp): boolean {
    return t.kind === TempKind.Global || this.mutableTemps.has(t);
  }

  /** Mark a temp made by a pass as mutable (the halves of a lowered mutable i64). */
  markMutable(t: Temp): void {
    this.mutableTemps.add(t);
  }

  /** A temp that may be assigned several times (e.g. in both arms of a branch). */
  mutableTemp(type: Type): Temp {
    const t = this.newTemp(type);
    this.mutableTemps.add(t);
    return t;
  }

  const32(v: number): Temp {
    v |= 0;
    let t = this.const32Cache.get(v);
    if (!t) {
      t = this.newTemp(Type.I32, TempKind.Const, v);
      this.const32Cache.set(v, t);
    }
    return t;
  }

  const64(v: bigint | number): Temp {
    const n = norm64(BigInt(v));
    let t = this.const64Cache.get(n);
    if (!t) {
      t = this.newTemp(Type.I64, TempKind.Const, n);
      this.const64Cache.set(n, t);
    }
    return t;
  }

  constOf(type: Type, v: bigint | number): Temp {
    return type === Type.I64 ? this.const64(v) : this.const32(Number(BigInt.asIntN(32, BigInt(v))));
  }

  private emit(opc: Opc, dst: Temp | null, args: Temp[], aux = 0, aux2 = 0): Op {
    const op = new Op(opc, dst, args, aux, aux2);
    this.block.ops.push(op);
    return op;
  }

  // ---- moves and arithmetic ------------------------------------------------------------

  /**
   * The current value of `t` as a single-assignment temp: a copy when `t` is a global or
   * mutable temp (which a later assign would change), else `t` itself.
   */
  snapshot(t: Temp): Temp {
    if (!this.isMutable(t)) return t;
    const d = this.newTemp(t.type);
    this.emit(Opc.Mov, d, [t]);
    return d;
  }

  /** Write `value` into a global or mutable temp. */
  assign(dst: Temp, value: Temp): void {
    if (!this.isMutable(dst)) throw new Error(`assign to immutable temp t${dst.id}`);
    if (dst === value) return;
    this.emit(Opc.Mov, dst, [value]);
  }

  private binary(opc: Opc, a: Temp, b: Temp): Temp {
    if (a.type !== b.type && !(opc >= Opc.Shl && opc <= Opc.Sar)) {
      throw new Error(`type mismatch in ${opc}`);
    }
    if (a.isConst && b.isConst) return this.constOf(a.type, evalBinary(opc, a.type, a.value, b.value));
    const identity = this.foldIdentity(opc, a, b);
    if (identity) return identity;
    const d = this.newTemp(a.type);
    this.emit(opc, d, [a, b]);
    return d;
  }

  private isZero(t: Temp): boolean {
    return t.isConst && (t.value === 0 || t.value === 0n);
  }
  private isAllOnes(t: Temp): boolean {
    return t.isConst && (t.value === -1 || t.value === -1n);
  }

  /** x+0, x|0, x^0, x<<0, x*1, x&-1 return x; x*0, x&0 return 0. */
  private foldIdentity(opc: Opc, a: Temp, b: Temp): Temp | null {
    switch (opc) {
      case Opc.Add:
      case Opc.Or:
      case Opc.Xor:
      case Opc.Sub:
      case Opc.Shl:
      case Opc.Shr:
      case Opc.Sar:
        if (this.isZero(b)) return a;
        if (this.isZero(a) && (opc === Opc.Add || opc === Opc.Or || opc === Opc.Xor)) return b;
        return null;
      case Opc.And:
        if (this.isAllOnes(b)) return a;
        if (this.isAllOnes(a)) return b;
        if (this.isZero(a) || this.isZero(b)) return this.constOf(a.type, 0);
        return null;
      case Opc.Mul:
        if (b.isConst && (b.value === 1 || b.value === 1n)) return a;
        if (this.isZero(a) || this.isZero(b)) return this.constOf(a.type, 0);
        return null;
      default:
        return null;
    }
  }

  add(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Add, a, b);
  }
  sub(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Sub, a, b);
  }
  mul(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Mul, a, b);
  }
  and(a: Temp, b: Temp): Temp {
    return this.binary(Opc.And, a, b);
  }
  or(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Or, a, b);
  }
  xor(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Xor, a, b);
  }
  /** Shift counts are used modulo the width of `a`. */
  shl(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Shl, a, b);
  }
  shr(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Shr, a, b);
  }
  sar(a: Temp, b: Temp): Temp {
    return this.binary(Opc.Sar, a, b);
  }
  addi(a: Temp, v: number | bigint): Temp {
    return this.add(a, this.constOf(a.type, v));
  }
  andi(a: Temp, v: number | bigint): Temp {
    return this.and(a, this.constOf(a.type, v));
  }
  shli(a: Temp, n: number): Temp {
    return this.shl(a, this.constOf(a.type, n));
  }
  shri(a: Temp, n: number): Temp {
    return this.shr(a, this.constOf(a.type, n));
  }
  sari(a: Temp, n: number): Temp {
    return this.sar(a, this.constOf(a.type, n));
  }

  private unary(opc: Opc, a: Temp): Temp {
    if (a.isConst) {
      const v = a.value;
      const r = opc === Opc.Neg ? (typeof v === 'bigint' ? -v : -v | 0) : typeof v === 'bigint' ? ~v : ~v;
      return this.constOf(a.type, r);
    }
    const d = this.newTemp(a.type);
    this.emit(opc, d, [a]);
    return d;
  }
  neg(a: Temp): Temp {
    return this.unary(Opc.Neg, a);
  }
  not(a: Temp): Temp {
    return this.unary(Opc.Not, a);
  }

  /** Sign-extend the low `bits` bits of `a` within its own type. */
  exts(a: Temp, bits: number): Temp {
    if (a.isConst) return this.constOf(a.type, BigInt.asIntN(bits, BigInt(a.value)));
    const d = this.newTemp(a.type);
    this.emit(Opc.ExtS, d, [a], 0, bits);
    return d;
  }
  /** Zero-extend the low `bits` bits of `a` within its own type. */
  extu(a: Temp, bits: number): Temp {
    if (a.isConst) return this.constOf(a.type, BigInt.asUintN(bits, BigInt(a.value)));
    const d = this.newTemp(a.type);
    this.emit(Opc.ExtU, d, [a], 0, bits);
    return d;
  }

  /** i32 -> i64 sign- or zero-extended. */
  extI32(a: Temp, signed: boolean): Temp {
    if (a.isConst) return this.const64(signed ? BigInt(a.value) : BigInt((a.value as number) >>> 0));
    const d = this.newTemp(Type.I64);
    this.emit(signed ? Opc.ExtI32I64 : Opc.ExtUI32I64, d, [a]);
    return d;
  }
  /** Low 32 bits of an i64. */
  lo32(a: Temp): Temp {
    if (a.isConst) return this.const32(Number(BigInt.asIntN(32, a.value as bigint)));
    const d = this.newTemp(Type.I32);
    this.emit(Opc.ExtrlI64, d, [a]);
    return d;
  }
  /** High 32 bits of an i64. */
  hi32(a: Temp): Temp {
    if (a.isConst) return this.const32(Number(BigInt.asIntN(32, (a.value as bigint) >> 32n)));
    const d = this.newTemp(Type.I32);
    this.emit(Opc.ExtrhI64, d, [a]);
    return d;
  }
  concat(lo: Temp, hi: Temp): Temp {
    if (lo.isConst && hi.isConst) {
      return this.const64((BigInt(hi.value) << 32n) | BigInt((lo.value as number) >>> 0));
    }
    const d = this.newTemp(Type.I64);
    this.emit(Opc.Concat, d, [lo, hi]);
    return d;
  }

  setcond(cond: Cond, a: Temp, b: Temp, type: Type = a.type): Temp {
    if (a.isConst && b.isConst) return this.constOf(type, evalCond(cond, a.type, a.value, b.value) ? 1 : 0);
    const d = this.newTemp(type);
    if (type !== a.type) {
      // Result type differs from the operands': compute in the operands' type, then convert.
      const t = this.setcond(cond, a, b);
      return type === Type.I64 ? this.extI32(t, false) : this.lo32(t);
    }
    this.emit(Opc.SetCond, d, [a, b], cond);
    return d;
  }

  /** cond(a, b) ? x : y; x and y share a type, a and b share a type. */
  movcond(cond: Cond, a: Temp, b: Temp, x: Temp, y: Temp): Temp {
    if (a.isConst && b.isConst) return evalCond(cond, a.type, a.value, b.value) ? x : y;
    if (x === y) return x;
    const d = this.newTemp(x.type);
    this.emit(Opc.MovCond, d, [a, b, x, y], cond);
    return d;
  }

  // ---- control flow --------------------------------------------------------------------

  newLabel(): Label {
    return new Label(this.block.labelCount++);
  }
  setLabel(l: Label): void {
    this.emit(Opc.SetLabel, null, [], l.id);
  }
  /** Labels must follow their branches: generated blocks only branch forwards. */
  brcond(cond: Cond, a: Temp, b: Temp, l: Label): void {
    if (a.isConst && b.isConst) {
      if (evalCond(cond, a.type, a.value, b.value)) this.br(l);
      return;
    }
    this.emit(Opc.BrCond, null, [a, b], l.id, cond);
  }
  br(l: Label): void {
    this.emit(Opc.Br, null, [], l.id);
  }

  // ---- memory --------------------------------------------------------------------------

  /** Load with MemOp `mop` from the guest virtual address `addr` (i64) into a `type` temp. */
  load(type: Type, addr: Temp, mop: MemOp): Temp {
    const d = this.newTemp(type);
    this.emit(Opc.Load, d, [addr], mop, this.insnIndex);
    return d;
  }
  store(value: Temp, addr: Temp, mop: MemOp): void {
    this.emit(Opc.Store, null, [value, addr], mop, this.insnIndex);
  }

  // ---- helpers and TB structure ----------------------------------------------------------

  /** Call helper `index`; returns its result temp, or null for void helpers. */
  call(index: number, args: Temp[]): Temp | null {
    const h = this.helpers.list[index];
    if (h.args.length !== args.length) throw new Error(`helper ${h.name}: wrong argument count`);
    args.forEach((a, i) => {
      if (a.type !== h.args[i]) throw new Error(`helper ${h.name}: argument ${i} has the wrong type`);
    });
    const d = h.ret === null ? null : this.newTemp(h.ret);
    this.emit(Opc.Call, d, args, index, this.insnIndex);
    return d;
  }

  insnStart(pc: bigint): void {
    this.insnIndex++;
    const op = this.emit(Opc.InsnStart, null, [], this.insnIndex);
    op.pc = pc;
  }
  get currentInsnIndex(): number {
    return this.insnIndex;
  }
  /** Chainable exit to the constant guest pc `target` (the frontend stores it in its pc global). */
  gotoTb(slot: number, target: bigint): void {
    this.emit(Opc.GotoTb, null, [], slot).pc = target;
  }
  lookupAndGoto(): void {
    this.emit(Opc.LookupAndGoto, null, []);
  }
  exitTb(code: number): void {
    this.emit(Opc.ExitTb, null, [], code);
  }
}
