/**
 * Reference semantics of IR ops on constants: used by the builder and the optimizer to
 * fold, and by the IR interpreter to execute. i32 values are int32 numbers, i64 values
 * are bigints normalised to the signed 64-bit range.
 */
import { Cond, Opc, Type } from './ir.js';

export const norm64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

export function evalBinary(opc: Opc, type: Type, a: number | bigint, b: number | bigint): number | bigint {
  if (type === Type.I64) {
    const x = a as bigint;
    const y = BigInt(b);
    switch (opc) {
      case Opc.Add: return norm64(x + y);
      case Opc.Sub: return norm64(x - y);
      case Opc.Mul: return norm64(x * y);
      case Opc.And: return x & y;
      case Opc.Or: return x | y;
      case Opc.Xor: return x ^ y;
      case Opc.Shl: return norm64(x << (y & 63n));
      case Opc.Shr: return norm64(u64(x) >> (y & 63n));
      case Opc.Sar: return x >> (y & 63n);
    }
  } else {
    const x = a as number;
    const y = Number(b);
    switch (opc) {
      case Opc.Add: return (x + y) | 0;
      case Opc.Sub: return (x - y) | 0;
      case Opc.Mul: return Math.imul(x, y);
      case Opc.And: return x & y;
      case Opc.Or: return x | y;
      case Opc.Xor: return x ^ y;
      case Opc.Shl: return x << y;
      case Opc.Shr: return (x >>> y) | 0;
      case Opc.Sar: return x >> y;
    }
  }
  throw new Error(`evalBinary: not a binary op: ${opc}`);
}

export function evalCond(cond: Cond, type: Type, a: number | bigint, b: number | bigint): boolean {
  let x: number | bigint = a;
  let y: number | bigint = b;
  if (cond >= Cond.LTU) {
    if (type === Type.I64) {
      x = u64(a as bigint);
      y = u64(b as bigint);
    } else {
      x = (a as number) >>> 0;
      y = (b as number) >>> 0;
    }
  }
  switch (cond) {
    case Cond.EQ: return x === y;
    case Cond.NE: return x !== y;
    case Cond.LT: case Cond.LTU: return x < y;
    case Cond.GE: case Cond.GEU: return x >= y;
    case Cond.LE: case Cond.LEU: return x <= y;
    case Cond.GT: case Cond.GTU: return x > y;
  }
}

/** Sign/zero-extension of the low `bits` bits, within `type`. */
export function evalExt(signed: boolean, type: Type, a: number | bigint, bits: number): number | bigint {
  if (type === Type.I64) {
    const v = signed ? BigInt.asIntN(bits, a as bigint) : BigInt.asUintN(bits, a as bigint);
    return norm64(v);
  }
  const x = a as number;
  if (bits >= 32) return x | 0;
  const sh = 32 - bits;
  return signed ? (x << sh) >> sh : (x << sh) >>> sh;
}

/** A 64-bit comparison of (al, ah) with (bl, bh), given as int32 words. */
export function evalCond64(c: Cond, al: number, ah: number, bl: number, bh: number): boolean {
  if (c === Cond.EQ) return al === bl && ah === bh;
  if (c === Cond.NE) return al !== bl || ah !== bh;
  const unsigned = c >= Cond.LTU;
  const hiLt = unsigned ? ah >>> 0 < bh >>> 0 : ah < bh;
  const hiGt = unsigned ? ah >>> 0 > bh >>> 0 : ah > bh;
  const lt = hiLt || (ah === bh && al >>> 0 < bl >>> 0);
  const gt = hiGt || (ah === bh && al >>> 0 > bl >>> 0);
  switch (c) {
    case Cond.LT: case Cond.LTU: return lt;
    case Cond.GE: case Cond.GEU: return !lt;
    case Cond.GT: case Cond.GTU: return gt;
    default: return !gt;
  }
}
