/**
 * Lazy x86 arithmetic flags (the idea of QEMU's cc_op, our own code): a flag-setting
 * instruction records what it did in CC_OP and its values in CC_DST/CC_SRC/CC_SRC2;
 * the six flags are computed only where something reads them. Within a block the
 * translator knows CC_OP and derives conditions directly (cmp + jcc becomes one compare);
 * otherwise it calls computeFlags here.
 *
 * CC_OP = kind * 4 + log2(operand size). What CC_DST/CC_SRC/CC_SRC2 hold per kind:
 *   Add    result, second operand            CF: result < operand
 *   Adc    result, second operand, carry-in
 *   Sub    result, second operand, first operand   CF: first < second
 *   Sbb    result, second operand, borrow-in
 *   Logic  result                            CF = OF = AF = 0
 *   Inc    result, CF before                 (INC/DEC leave CF alone)
 *   Dec    result, CF before
 *   Shl    result, the operand shifted by count - 1 (its top bit is CF)
 *   Sar    result, the operand shifted by count - 1 (its low bit is CF); also SHR
 *   Mul    result (low half), non-zero if the product overflowed the size
 *   Eflags —, the flags themselves in CC_SRC (ROL/ROR, POPF, SAHF, ... computed eagerly)
 */
import { AF, CF, OF, PF, SF, ZF } from './state.js';

export const enum CcKind {
  Eflags = 0,
  Add = 1,
  Adc = 2,
  Sub = 3,
  Sbb = 4,
  Logic = 5,
  Inc = 6,
  Dec = 7,
  Shl = 8,
  Sar = 9,
  Mul = 10,
}
export const CC_KINDS = 11;

export const ccOp = (kind: CcKind, sizeLog2: number): number => kind * 4 + sizeLog2;
/** CC_OP for flags already in CC_SRC (any size). */
export const CC_OP_EFLAGS = 0;

/** PF for every byte value: set when the number of 1 bits is even. */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  PARITY[i] = n & 1 ? 0 : PF;
}

/** Unsigned a < b over (lo, hi) pairs. */
function ltu(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi !== bhi ? ahi >>> 0 < bhi >>> 0 : alo >>> 0 < blo >>> 0;
}

/**
 * The six arithmetic flags for CC_OP `op` and the CC_* values as (lo, hi) pairs. Values
 * narrower than 64 bits are taken from their low `8 << size` bits, whatever lies above.
 */
export function computeFlags(op: number, dlo: number, dhi: number, slo: number, shi: number, s2lo: number, s2hi: number): number {
  const kind = op >> 2;
  if (kind === CcKind.Eflags) return slo & (CF | PF | AF | ZF | SF | OF);
  const size = op & 3;
  // Bring every value to a canonical form: narrower sizes zero-extended into lo, hi = 0.
  let signBit: number; // of the hi word for 64-bit values, of lo otherwise
  if (size === 3) {
    signBit = 0x80000000;
  } else {
    const bits = 8 << size;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    dlo &= mask;
    slo &= mask;
    s2lo &= mask;
    dhi = shi = s2hi = 0;
    signBit = bits === 32 ? 0x80000000 : 1 << (bits - 1);
  }
  const top = size === 3 ? dhi : dlo;
  let f = PARITY[dlo & 0xff] | ((dlo | dhi) === 0 ? ZF : 0) | (top & signBit ? SF : 0);
  const sTop = size === 3 ? shi : slo;
  switch (kind) {
    case CcKind.Add:
    case CcKind.Adc: {
      const carryIn = kind === CcKind.Adc && (s2lo | s2hi) !== 0;
      // first operand = result - second (- carry-in)
      let alo = (dlo - slo) | 0;
      let ahi = (dhi - shi - (dlo >>> 0 < slo >>> 0 ? 1 : 0)) | 0;
      if (carryIn) {
        ahi = (ahi - (alo === 0 ? 1 : 0)) | 0;
        alo = (alo - 1) | 0;
      }
      if (size !== 3) {
        const mask = size === 2 ? -1 : (1 << (8 << size)) - 1;
        alo &= mask;
        ahi = 0;
      }
      const aTop = size === 3 ? ahi : alo;
      const carry = carryIn ? !ltu(slo, shi, dlo, dhi) : ltu(dlo, dhi, slo, shi); // result <= / < second
      if (carry) f |= CF;
      if ((alo ^ slo ^ dlo) & 0x10) f |= AF;
      if ((aTop ^ top) & (sTop ^ top) & signBit) f |= OF;
      return f;
    }
    case CcKind.Sub:
    case CcKind.Sbb: {
      let alo: number, ahi: number;
      let borrow: boolean;
      if (kind === CcKind.Sub) {
        alo = s2lo;
        ahi = s2hi;
        borrow = ltu(alo, ahi, slo, shi);
      } else {
        const borrowIn = (s2lo | s2hi) !== 0;
        // first operand = result + second (+ borrow-in)
        alo = (dlo + slo) | 0;
        ahi = (dhi + shi + (alo >>> 0 < dlo >>> 0 ? 1 : 0)) | 0;
        if (borrowIn) {
          alo = (alo + 1) | 0;
          if (alo === 0) ahi = (ahi + 1) | 0;
        }
        if (size !== 3) {
          const mask = size === 2 ? -1 : (1 << (8 << size)) - 1;
          alo &= mask;
          ahi = 0;
        }
        borrow = borrowIn ? !ltu(slo, shi, alo, ahi) : ltu(alo, ahi, slo, shi); // first <= / < second
      }
      const aTop = size === 3 ? ahi : alo;
      if (borrow) f |= CF;
      if ((alo ^ slo ^ dlo) & 0x10) f |= AF;
      if ((aTop ^ sTop) & (aTop ^ top) & signBit) f |= OF;
      return f;
    }
    case CcKind.Logic:
      return f;
    case CcKind.Inc:
    case CcKind.Dec: {
      if (slo | shi) f |= CF;
      // The operand was result - 1 (INC) or result + 1 (DEC): bit 4 flips iff the low nibble wrapped.
      if (kind === CcKind.Inc ? (dlo & 0xf) === 0 : (dlo & 0xf) === 0xf) f |= AF;
      // INC overflows to the most negative value, DEC to the most positive.
      const maxValue = size === 3 ? dlo === -1 && dhi === 0x7fffffff : dlo >>> 0 === signBit - 1;
      const minValue = size === 3 ? dlo === 0 && dhi === (0x80000000 | 0) : dlo >>> 0 === signBit;
      if (kind === CcKind.Inc ? minValue : maxValue) f |= OF;
      return f;
    }
    case CcKind.Shl:
      if (sTop & signBit) f |= CF;
      if (((sTop ^ top) & signBit) !== 0) f |= OF;
      return f;
    case CcKind.Sar:
      if (slo & 1) f |= CF;
      if (((sTop ^ top) & signBit) !== 0) f |= OF;
      return f;
    case CcKind.Mul:
      if (slo | shi) f |= CF | OF;
      return f;
  }
  return f;
}
