/**
 * The IR interpreter: runs any block from its optimized, not yet lowered IR, with i64
 * values as bigints. It is the reference the JS backend is checked against (it shares
 * no code with lowering or code generation), and the fallback where `new Function` is
 * forbidden. Memory goes through the runtime's slow paths, so it also checks the
 * generated soft-TLB fast path.
 */
import { evalBinary, evalCond, evalExt, norm64 } from '../../ir/fold.js';
import { HelperFlags, MemOp, Op, Opc, Temp, TempKind, Type } from '../../ir/ir.js';
import { ExitCode, Runtime } from '../runtime.js';

type Value = number | bigint;

export class PreparedBlock {
  readonly labelPos: Int32Array;
  constructor(
    readonly ops: readonly Op[],
    readonly tempCount: number,
  ) {
    let maxLabel = -1;
    for (const op of ops) if (op.opc === Opc.SetLabel) maxLabel = Math.max(maxLabel, op.aux);
    this.labelPos = new Int32Array(maxLabel + 1);
    ops.forEach((op, i) => {
      if (op.opc === Opc.SetLabel) this.labelPos[op.aux] = i;
    });
  }
}

const lo32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint) => Number(BigInt.asIntN(32, v >> 32n));
const join64 = (lo: number, hi: number) => (BigInt(hi) << 32n) | BigInt(lo >>> 0);

export function interpretBlock(block: PreparedBlock, rt: Runtime): number {
  const vals: Value[] = new Array<Value>(block.tempCount).fill(0);
  const s = rt.state;
  const read = (t: Temp): Value => {
    switch (t.kind) {
      case TempKind.Const: return t.value;
      case TempKind.Global: return t.type === Type.I64 ? norm64(join64(s[t.slot], s[t.slot + 1])) : s[t.slot];
      default: return vals[t.id];
    }
  };
  const write = (t: Temp, v: Value): void => {
    if (t.kind === TempKind.Global) {
      if (t.type === Type.I64) {
        s[t.slot] = lo32(v as bigint);
        s[t.slot + 1] = hi32(v as bigint);
      } else {
        s[t.slot] = v as number;
      }
    } else {
      vals[t.id] = v;
    }
  };
  const ops = block.ops;
  for (let pc = 0; pc < ops.length; pc++) {
    const op = ops[pc];
    const a = op.args;
    const d = op.dst!;
    switch (op.opc) {
      case Opc.Mov: write(d, read(a[0])); break;
      case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
      case Opc.Shl: case Opc.Shr: case Opc.Sar:
        write(d, evalBinary(op.opc, d.type, read(a[0]), read(a[1])));
        break;
      case Opc.Neg: {
        const v = read(a[0]);
        write(d, typeof v === 'bigint' ? norm64(-v) : -v | 0);
        break;
      }
      case Opc.Not: {
        const v = read(a[0]);
        write(d, typeof v === 'bigint' ? ~v : ~v);
        break;
      }
      case Opc.ExtS: case Opc.ExtU:
        write(d, evalExt(op.opc === Opc.ExtS, d.type, read(a[0]), op.aux2));
        break;
      case Opc.ExtI32I64: write(d, BigInt(read(a[0]) as number)); break;
      case Opc.ExtUI32I64: write(d, BigInt((read(a[0]) as number) >>> 0)); break;
      case Opc.ExtrlI64: write(d, lo32(read(a[0]) as bigint)); break;
      case Opc.ExtrhI64: write(d, hi32(read(a[0]) as bigint)); break;
      case Opc.Concat: write(d, norm64(join64(read(a[0]) as number, read(a[1]) as number))); break;
      case Opc.SetCond: {
        const r = evalCond(op.aux, a[0].type, read(a[0]), read(a[1])) ? 1 : 0;
        write(d, d.type === Type.I64 ? BigInt(r) : r);
        break;
      }
      case Opc.MovCond:
        write(d, evalCond(op.aux, a[0].type, read(a[0]), read(a[1])) ? read(a[2]) : read(a[3]));
        break;
      case Opc.BrCond:
        if (evalCond(op.aux2, a[0].type, read(a[0]), read(a[1]))) pc = block.labelPos[op.aux];
        break;
      case Opc.Br: pc = block.labelPos[op.aux]; break;
      case Opc.SetLabel: case Opc.InsnStart: break;
      case Opc.Load: {
        const addr = read(a[0]) as bigint;
        const lo = rt.loadSlow(lo32(addr), hi32(addr), op.aux, op.aux2);
        if (rt.exceptionPending[0] !== 0) return ExitCode.ExceptionBase + op.aux2;
        const size = op.aux & MemOp.SizeMask;
        if (d.type === Type.I64) {
          const wide = size === 3 ? join64(lo, rt.retHi[0]) : op.aux & MemOp.Sign ? BigInt(lo) : BigInt(lo >>> 0);
          write(d, norm64(wide));
        } else {
          write(d, lo);
        }
        break;
      }
      case Opc.Store: {
        const v = read(a[0]);
        const addr = read(a[1]) as bigint;
        const vl = typeof v === 'bigint' ? lo32(v) : v;
        const vh = typeof v === 'bigint' ? hi32(v) : 0;
        rt.storeSlow(vl, vh, lo32(addr), hi32(addr), op.aux, op.aux2);
        if (rt.exceptionPending[0] !== 0) return ExitCode.ExceptionBase + op.aux2;
        break;
      }
      case Opc.Call: {
        const h = rt.helpers[op.aux];
        const args: number[] = [];
        for (const t of a) {
          const v = read(t);
          if (typeof v === 'bigint') args.push(lo32(v), hi32(v));
          else args.push(v);
        }
        const r = h.fn(...args);
        if (op.dst) write(op.dst, op.dst.type === Type.I64 ? norm64(join64(r, rt.retHi[0])) : r);
        if (h.flags & HelperFlags.MayRaise && rt.exceptionPending[0] !== 0) return ExitCode.ExceptionBase + op.aux2;
        break;
      }
      case Opc.GotoTb: return op.aux;
      case Opc.LookupAndGoto: return ExitCode.Lookup;
      case Opc.ExitTb: return op.aux;
      default:
        throw new Error(`interpreter: unexpected op ${op.opc}`);
    }
  }
  return ExitCode.Lookup;
}
