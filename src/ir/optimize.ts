/**
 * Optimizer passes over one block: constant folding and propagation, copy propagation,
 * and dead-code elimination. They rely on the builder's rule that temps not in
 * `b.isMutable` are written exactly once before any use.
 */
import type { IrBuilder } from './builder.js';
import { evalBinary, evalCond, evalExt } from './fold.js';
import { HelperFlags, Op, Opc, Temp, TempKind, Type } from './ir.js';

export function optimize(b: IrBuilder): void {
  propagate(b);
  eliminateDeadCode(b);
}

/**
 * Forward pass: substitute known constants and copies, fold ops on constants. (Temps are
 * looked up by id, unique within a builder, in arrays: Maps and Sets cost more in passes
 * that run for every translated block.)
 */
export function propagate(b: IrBuilder): void {
  const repl: (Temp | undefined)[] = [];
  const out: Op[] = [];
  const sub = (t: Temp): Temp => repl[t.id] ?? t;
  const isConst = (t: Temp) => t.isConst;
  for (const op of b.ops) {
    for (let i = 0; i < op.args.length; i++) op.args[i] = sub(op.args[i]);
    const d = op.dst;
    const single = d !== null && !b.isMutable(d);
    const a = op.args;
    let folded: Temp | null = null;
    switch (op.opc) {
      case Opc.Mov:
        if (single && (a[0].isConst || !b.isMutable(a[0]))) folded = a[0];
        break;
      case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
      case Opc.Shl: case Opc.Shr: case Opc.Sar:
        if (single && a.every(isConst)) folded = b.constOf(d!.type, evalBinary(op.opc, d!.type, a[0].value, a[1].value));
        break;
      case Opc.Neg: case Opc.Not:
        if (single && isConst(a[0])) {
          const v = a[0].value;
          const r = typeof v === 'bigint' ? (op.opc === Opc.Neg ? -v : ~v) : op.opc === Opc.Neg ? -v | 0 : ~v;
          folded = b.constOf(d!.type, r);
        }
        break;
      case Opc.ExtS: case Opc.ExtU:
        if (single && isConst(a[0])) folded = b.constOf(d!.type, evalExt(op.opc === Opc.ExtS, d!.type, a[0].value, op.aux2));
        break;
      case Opc.ExtI32I64: case Opc.ExtUI32I64:
        if (single && isConst(a[0])) {
          const v = a[0].value as number;
          folded = b.const64(op.opc === Opc.ExtI32I64 ? BigInt(v) : BigInt(v >>> 0));
        }
        break;
      case Opc.ExtrlI64: case Opc.ExtrhI64:
        if (single && isConst(a[0])) {
          const v = a[0].value as bigint;
          folded = b.const32(Number(BigInt.asIntN(32, op.opc === Opc.ExtrlI64 ? v : v >> 32n)));
        }
        break;
      case Opc.SetCond:
        if (single && isConst(a[0]) && isConst(a[1])) {
          folded = b.constOf(d!.type, evalCond(op.aux, a[0].type, a[0].value, a[1].value) ? 1 : 0);
        }
        break;
      case Opc.MovCond:
        if (single && isConst(a[0]) && isConst(a[1])) {
          folded = evalCond(op.aux, a[0].type, a[0].value, a[1].value) ? a[2] : a[3];
        }
        break;
      case Opc.BrCond:
        if (isConst(a[0]) && isConst(a[1])) {
          if (evalCond(op.aux2, a[0].type, a[0].value, a[1].value)) out.push(new Op(Opc.Br, null, [], op.aux));
          continue;
        }
        break;
    }
    if (folded !== null) {
      repl[d!.id] = folded;
      continue;
    }
    out.push(op);
  }
  b.ops.length = 0;
  for (const op of out) b.ops.push(op);
}

function hasSideEffects(b: IrBuilder, op: Op): boolean {
  switch (op.opc) {
    case Opc.Call:
      return b.helpers.list[op.aux].flags !== HelperFlags.Pure;
    case Opc.Store: case Opc.Load: case Opc.BrCond: case Opc.BrCond2: case Opc.Br: case Opc.SetLabel:
    case Opc.InsnStart: case Opc.GotoTb: case Opc.LookupAndGoto: case Opc.ExitTb:
      return true;
    default:
      return false;
  }
}

/**
 * Backward pass: drop ops whose single-assignment results are never used, and writes of
 * globals that a later write in the same straight-line stretch overwrites unread (x86's
 * lazy flags: an instruction's flag values die when the next one sets them). Anything
 * that can leave the block or look at the state in between (memory ops, which may fault;
 * helpers that are not pure; branches, labels, exits) keeps every earlier write.
 */
export function eliminateDeadCode(b: IrBuilder): void {
  const used: boolean[] = [];
  const isLive = (t: Temp | null) => t !== null && (b.isMutable(t) || used[t.id] === true);
  /** Globals written later with no read or barrier in between. */
  const overwritten = new Set<number>();
  const keep: Op[] = [];
  for (let i = b.ops.length - 1; i >= 0; i--) {
    const op = b.ops[i];
    const sideEffects = hasSideEffects(b, op);
    if (!sideEffects && op.dst !== null && op.dst.kind === TempKind.Global && op.dst2 === null) {
      if (overwritten.has(op.dst.id)) continue;
      overwritten.add(op.dst.id);
    } else if (sideEffects && op.opc !== Opc.InsnStart) {
      overwritten.clear(); // an instruction boundary alone is no barrier: nothing leaves there
    }
    const live = sideEffects || (op.dst === null && op.dst2 === null) || isLive(op.dst) || isLive(op.dst2);
    if (!live) continue;
    for (const a of op.args) {
      used[a.id] = true;
      if (a.kind === TempKind.Global) overwritten.delete(a.id);
    }
    keep.push(op);
  }
  b.ops.length = 0;
  for (let i = keep.length - 1; i >= 0; i--) b.ops.push(keep[i]);
}

export const isI64 = (t: Temp): boolean => t.type === Type.I64;
