/**
 * The micro-op IR: target- and host-independent, in the spirit of TCG ops.
 *
 * A translation block (TB) is a flat list of ops over typed temps. Temps are
 *  - globals: named slots of the CPU state (a guest register), i32 or i64;
 *  - temporaries: values local to the block;
 *  - constants: i32 values are int32 numbers, i64 values are bigints (two's complement,
 *    normalised with BigInt.asIntN(64, v)).
 * Frontends emit i64 freely; `lowerI64` rewrites the block into i32-only ops (plus the
 * pair ops add2/sub2/...) for the JavaScript backend, as TCG does on 32-bit hosts.
 */

export const enum Type {
  I32 = 0,
  I64 = 1,
}

export const enum TempKind {
  Global = 0,
  Temp = 1,
  Const = 2,
}

export class Temp {
  constructor(
    readonly id: number,
    readonly type: Type,
    readonly kind: TempKind,
    /** Constant value (number for i32, bigint for i64); 0 otherwise. */
    readonly value: number | bigint,
    /** For globals: the int32 index of the (low word of the) slot in the state array. */
    readonly slot: number,
    readonly name: string,
  ) {
    this.isConst = kind === TempKind.Const;
  }
  /** kind === Const, as a field: read in every pass (a getter was 3 % of a boot's time). */
  readonly isConst: boolean;
}

/** Comparison conditions; unsigned ones end in U. */
export const enum Cond {
  EQ = 0,
  NE = 1,
  LT = 2,
  GE = 3,
  LE = 4,
  GT = 5,
  LTU = 6,
  GEU = 7,
  LEU = 8,
  GTU = 9,
}
export const condNames = ['eq', 'ne', 'lt', 'ge', 'le', 'gt', 'ltu', 'geu', 'leu', 'gtu'];

export const enum Opc {
  // d = op(a[, b]); all operands have the op's type unless noted.
  Mov,
  Add,
  Sub,
  Mul,
  And,
  Or,
  Xor,
  /** Shifts: the count is taken modulo the width (frontends mask explicitly anyway). */
  Shl,
  Shr,
  Sar,
  Neg,
  Not,
  /** d = cond(a, b) ? 1 : 0 */
  SetCond,
  /** d = cond(a, b) ? c : e   (args a, b, c, e) */
  MovCond,
  /** Sign/zero extension within a type: aux = bits (8, 16 or 32). */
  ExtS,
  ExtU,
  /** i64 d = sign/zero-extend(i32 a) */
  ExtI32I64,
  ExtUI32I64,
  /** i32 d = low / high word of i64 a */
  ExtrlI64,
  ExtrhI64,
  /** i64 d = (i32 hi << 32) | i32 lo   (args lo, hi) */
  Concat,
  // i32 pair ops produced by lowering (dst and dst2 are the low and high words).
  /** (d, d2) = (a, b) + (c, e) */
  Add2,
  Sub2,
  /** (d, d2) = (a, b) <op> c  with c in 0..63 */
  Shl2,
  Shr2,
  Sar2,
  /** d = cond((a, b), (c, e)) ? 1 : 0 */
  SetCond2,
  /** if cond((a, b), (c, e)) goto label */
  BrCond2,
  // Control flow.
  /** if cond(a, b) goto label (aux = label id) */
  BrCond,
  Br,
  SetLabel,
  // Memory: d = load(addr) / store(value, addr). aux packs size/sign/mmu (see MemOp).
  Load,
  Store,
  /** Load/store pair forms after lowering: address is (lo, hi). */
  // Helpers: d (may be null) = helper(args). aux = helper index.
  Call,
  /** Marks the start of a guest instruction: aux = index in the TB, pc in `pc`. */
  InsnStart,
  /** End the TB: chainable jump to a constant pc (already stored). aux = slot 0/1. */
  GotoTb,
  /** End the TB, pc already stored in the state: look up the next TB. */
  LookupAndGoto,
  /** End the TB with an exit code (aux). */
  ExitTb,
}

export const opcNames = [
  'mov', 'add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr', 'sar', 'neg', 'not',
  'setcond', 'movcond', 'exts', 'extu', 'ext_i32_i64', 'extu_i32_i64', 'extrl_i64_i32',
  'extrh_i64_i32', 'concat', 'add2', 'sub2', 'shl2', 'shr2', 'sar2', 'setcond2', 'brcond2',
  'brcond', 'br', 'set_label', 'ld', 'st', 'call', 'insn_start', 'goto_tb',
  'lookup_and_goto', 'exit_tb',
];

/** Memory operation descriptor packed into Op.aux: bits 0-1 log2(size), bit 2 signed. */
export const enum MemOp {
  UB = 0,
  UW = 1,
  UL = 2,
  Q = 3,
  SB = 4,
  SW = 5,
  SL = 6,
  SizeMask = 3,
  Sign = 4,
}

export class Op {
  constructor(
    public opc: Opc,
    /** Result (null for ops without one). */
    public dst: Temp | null,
    public args: Temp[],
    /** Op-specific: cond, label id, MemOp, helper index, insn index, exit code. */
    public aux: number,
    /** Second op-specific field: extension bits, the insn index of a memory op or helper call. */
    public aux2 = 0,
    /** Second result of pair ops and of calls returning two words after lowering. */
    public dst2: Temp | null = null,
    /** InsnStart: the guest pc; GotoTb: the target pc. */
    public pc = 0n,
  ) {}
}

/** Side effects a helper may have, so passes know what they can move or delete. */
export const enum HelperFlags {
  /** Pure function of its arguments: may be constant-folded or deleted if unused. */
  Pure = 0,
  /** Reads guest globals from the state array. */
  ReadsGlobals = 1,
  /** Writes guest globals or other CPU state. */
  WritesGlobals = 2,
  /** May raise a guest exception: the backend checks the pending-exception flag after it. */
  MayRaise = 4,
  /** Has other side effects (device access, clock, ...): never deleted. */
  SideEffects = 8,
}

export interface HelperInfo {
  name: string;
  /** The function called by generated code with every i64 argument split into (lo, hi). */
  fn: (...args: number[]) => number;
  args: Type[];
  ret: Type | null;
  flags: number;
}

/** A registry of helpers shared by a frontend and the backends. Indices are stable. */
export class HelperTable {
  readonly list: HelperInfo[] = [];
  private readonly byName = new Map<string, number>();
  add(info: HelperInfo): number {
    const existing = this.byName.get(info.name);
    if (existing !== undefined) return existing;
    this.list.push(info);
    this.byName.set(info.name, this.list.length - 1);
    return this.list.length - 1;
  }
}

/** One translated block's IR. */
export class IrBlock {
  readonly ops: Op[] = [];
  readonly temps: Temp[] = [];
  labelCount = 0;
  constructor(readonly globals: readonly Temp[]) {}
}
