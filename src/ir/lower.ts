/**
 * Lowering of i64 to pairs of i32 words, for the JavaScript backend (JS has no fast
 * 64-bit integers). After this pass every temp is i32; 64-bit arithmetic uses the pair
 * ops add2/sub2/shl2/shr2/sar2/setcond2/brcond2, loads and stores take the address as
 * (lo, hi), and a 64-bit load or helper result is written to (dst, dst2).
 * Multiplication of two i64 goes through the `mul64` helper, which the caller registers.
 * The lowering itself is word for word; `simplifyLowered` (simplify.ts) then uses what is
 * known about each word (constant, sign or zero extension) to keep 32-bit values in one
 * word, and removes the moves and dead halves this leaves.
 */
import type { IrBuilder } from './builder.js';
import { Cond, MemOp, Op, Opc, Temp, TempKind, Type } from './ir.js';
import { simplifyLowered } from './simplify.js';

export interface LowerOptions {
  /** Helper index of mul64(alo, ahi, blo, bhi) -> i64. */
  mul64: number;
  /**
   * Simplify the lowered block with per-value facts (see simplify.ts): default true;
   * false leaves the word-for-word lowering (for tests and measurements).
   */
  simplify?: boolean;
}

/**
 * The i32 halves of each i64 global, made once: a CPU's globals are the same objects in
 * all its blocks. (Pair arrays are shared: ops get copies.)
 */
const globalHalves = new WeakMap<Temp, [Temp, Temp]>();

export function lowerI64(b: IrBuilder, opts: LowerOptions): void {
  // The halves of each non-global i64 temp, by temp id (unique within a builder; an
  // array, not a Map: lowering runs for every translated block).
  const pairs: ([Temp, Temp] | undefined)[] = [];
  const out: Op[] = [];

  const pair = (t: Temp): [Temp, Temp] => {
    if (t.type !== Type.I64) throw new Error('pair() of an i32 temp');
    if (t.kind === TempKind.Global) {
      let g = globalHalves.get(t);
      if (!g) {
        g = [
          new Temp(t.id, Type.I32, TempKind.Global, 0, t.slot, t.name),
          new Temp(t.id, Type.I32, TempKind.Global, 0, t.slot + 1, t.name + '.hi'),
        ];
        globalHalves.set(t, g);
      }
      return g;
    }
    let p = pairs[t.id];
    if (p) return p;
    if (t.kind === TempKind.Const) {
      const v = t.value as bigint;
      p = [b.const32(Number(BigInt.asIntN(32, v))), b.const32(Number(v >> 32n))];
    } else {
      p = [b.freshTemp(Type.I32), b.freshTemp(Type.I32)];
      if (b.isMutable(t)) {
        b.markMutable(p[0]);
        b.markMutable(p[1]);
      }
    }
    pairs[t.id] = p;
    return p;
  };
  /** The words of two i64 operands: (a.lo, a.hi, b.lo, b.hi). */
  const quad = (x: Temp, y: Temp): Temp[] => {
    const px = pair(x), py = pair(y);
    return [px[0], px[1], py[0], py[1]];
  };
  const emit = (opc: Opc, dst: Temp | null, args: Temp[], aux = 0, aux2 = 0, dst2: Temp | null = null) => {
    out.push(new Op(opc, dst, args, aux, aux2, dst2));
  };
  const c32 = (v: number) => b.const32(v);

  for (const op of b.ops) {
    const d = op.dst;
    const a = op.args;
    const wide = d !== null && d.type === Type.I64;
    switch (op.opc) {
      case Opc.Mov: case Opc.And: case Opc.Or: case Opc.Xor: case Opc.Not:
        if (wide) {
          const [dl, dh] = pair(d);
          const ps = a.map(pair);
          emit(op.opc, dl, ps.map((p) => p[0]));
          emit(op.opc, dh, ps.map((p) => p[1]));
          continue;
        }
        break;
      case Opc.Add: case Opc.Sub:
        if (wide) {
          const [dl, dh] = pair(d);
          const [al, ah] = pair(a[0]);
          const [bl, bh] = pair(a[1]);
          emit(op.opc === Opc.Add ? Opc.Add2 : Opc.Sub2, dl, [al, ah, bl, bh], 0, 0, dh);
          continue;
        }
        break;
      case Opc.Neg:
        if (wide) {
          const [dl, dh] = pair(d);
          const [al, ah] = pair(a[0]);
          emit(Opc.Sub2, dl, [c32(0), c32(0), al, ah], 0, 0, dh);
          continue;
        }
        break;
      case Opc.Mul:
        if (wide) {
          const [dl, dh] = pair(d);
          emit(Opc.Call, dl, quad(a[0], a[1]), opts.mul64, op.aux2, dh);
          continue;
        }
        break;
      case Opc.Shl: case Opc.Shr: case Opc.Sar:
        if (wide) {
          const [dl, dh] = pair(d);
          const [al, ah] = pair(a[0]);
          const cnt = a[1].type === Type.I64 ? pair(a[1])[0] : a[1];
          const count = cnt.isConst ? c32((cnt.value as number) & 63) : cnt;
          const opc = op.opc === Opc.Shl ? Opc.Shl2 : op.opc === Opc.Shr ? Opc.Shr2 : Opc.Sar2;
          emit(opc, dl, [al, ah, count], 0, 0, dh);
          continue;
        }
        break;
      case Opc.SetCond:
        if (a[0].type === Type.I64) {
          const r = wide ? pair(d)[0] : d!;
          emit(Opc.SetCond2, r, quad(a[0], a[1]), op.aux);
          if (wide) emit(Opc.Mov, pair(d)[1], [c32(0)]);
          continue;
        }
        if (wide) {
          const [dl, dh] = pair(d);
          emit(Opc.SetCond, dl, a, op.aux);
          emit(Opc.Mov, dh, [c32(0)]);
          continue;
        }
        break;
      case Opc.MovCond: {
        let c0 = a[0];
        let c1 = a[1];
        let cond: Cond = op.aux;
        if (c0.type === Type.I64) {
          const t = b.freshTemp(Type.I32);
          emit(Opc.SetCond2, t, quad(c0, c1), cond);
          c0 = t;
          c1 = c32(0);
          cond = Cond.NE;
        }
        if (wide) {
          const [dl, dh] = pair(d);
          const [xl, xh] = pair(a[2]);
          const [yl, yh] = pair(a[3]);
          emit(Opc.MovCond, dl, [c0, c1, xl, yl], cond);
          emit(Opc.MovCond, dh, [c0, c1, xh, yh], cond);
        } else {
          emit(Opc.MovCond, d, [c0, c1, a[2], a[3]], cond);
        }
        continue;
      }
      case Opc.ExtS: case Opc.ExtU:
        if (wide) {
          const [dl, dh] = pair(d);
          const [al] = pair(a[0]);
          if (op.aux2 >= 32) emit(Opc.Mov, dl, [al]);
          else emit(op.opc, dl, [al], 0, op.aux2);
          if (op.opc === Opc.ExtS) emit(Opc.Sar, dh, [dl, c32(31)]);
          else emit(Opc.Mov, dh, [c32(0)]);
          continue;
        }
        break;
      case Opc.ExtI32I64: case Opc.ExtUI32I64: {
        const [dl, dh] = pair(d!);
        emit(Opc.Mov, dl, [a[0]]);
        if (op.opc === Opc.ExtI32I64) emit(Opc.Sar, dh, [a[0], c32(31)]);
        else emit(Opc.Mov, dh, [c32(0)]);
        continue;
      }
      case Opc.ExtrlI64:
        emit(Opc.Mov, d, [pair(a[0])[0]]);
        continue;
      case Opc.ExtrhI64:
        emit(Opc.Mov, d, [pair(a[0])[1]]);
        continue;
      case Opc.Concat: {
        const [dl, dh] = pair(d!);
        emit(Opc.Mov, dl, [a[0]]);
        emit(Opc.Mov, dh, [a[1]]);
        continue;
      }
      case Opc.BrCond:
        if (a[0].type === Type.I64) {
          emit(Opc.BrCond2, null, quad(a[0], a[1]), op.aux, op.aux2);
          continue;
        }
        break;
      case Opc.Load: {
        const p = pair(a[0]);
        const addr = [p[0], p[1]]; // a copy: later passes may rewrite an op's args in place
        const size = op.aux & MemOp.SizeMask;
        if (wide) {
          const [dl, dh] = pair(d);
          if (size === 3) {
            emit(Opc.Load, dl, addr, op.aux, op.aux2, dh);
          } else {
            // A narrower load into i64: the high word is the sign (or zero) extension.
            emit(Opc.Load, dl, addr, op.aux, op.aux2);
            if (op.aux & MemOp.Sign) emit(Opc.Sar, dh, [dl, c32(31)]);
            else emit(Opc.Mov, dh, [c32(0)]);
          }
        } else {
          emit(Opc.Load, d, addr, op.aux, op.aux2);
        }
        continue;
      }
      case Opc.Store: {
        const addr = pair(a[1]);
        const v = a[0].type === Type.I64 ? pair(a[0]) : [a[0], c32(0)];
        emit(Opc.Store, null, [v[0], v[1], addr[0], addr[1]], op.aux, op.aux2);
        continue;
      }
      case Opc.Call: {
        const args = a.flatMap((t) => (t.type === Type.I64 ? pair(t) : [t]));
        if (wide) {
          const [dl, dh] = pair(d);
          emit(Opc.Call, dl, args, op.aux, op.aux2, dh);
        } else {
          emit(Opc.Call, d, args, op.aux, op.aux2);
        }
        continue;
      }
    }
    if (wide) throw new Error(`lowerI64: unhandled i64 op ${op.opc}`);
    out.push(op);
  }
  b.ops.length = 0;
  for (const op of out) b.ops.push(op);
  if (opts.simplify !== false) simplifyLowered(b, { mul64: opts.mul64 });
}
