/**
 * x87 80-bit extended precision arithmetic, bit-compatible with QEMU 7.2's softfloat floatx80 as the
 * i386 target configures it: tininess detected after rounding, no flush-to-zero, no default-NaN
 * mode, x87 NaN propagation (the larger significand wins), default NaN = "real indefinite"
 * 0xFFFF:C000000000000000, and the x87 precision control applied to the significand only (the
 * exponent range stays 15 bits, as on hardware).
 *
 * Values are (sign/exponent word, 64-bit significand as a BigInt). x87 code is cold in the
 * guests we run, and each operation already costs a helper call, so BigInt buys clarity (128- and
 * 256-bit intermediates, exact remainders) at a price nobody measures.
 *
 * Internally a finite nonzero value is "parts": sign, unbiased exponent and a 128-bit significand
 * with the integer bit at bit 127, value = frac / 2^127 * 2^exp. Every operation computes the
 * exact result (or a result whose low bit is a sticky bit, far below any rounding point) and then
 * rounds once, as softfloat's FloatParts128 path does; the operations QEMU defines oddly (the
 * precision control applied to loads, FRNDINT's precision-dependent "already integral" test, the
 * remainder rounded to the precision control) follow QEMU.
 *
 * Exception flags are x87 status-word bits, accumulated in FloatStatus.flags.
 */

export const FLAG_IE = 0x01;
export const FLAG_DE = 0x02;
export const FLAG_ZE = 0x04;
export const FLAG_OE = 0x08;
export const FLAG_UE = 0x10;
export const FLAG_PE = 0x20;

/** The x87 rounding control encoding (CW bits 11:10). */
export const enum Round {
  Nearest = 0,
  Down = 1,
  Up = 2,
  Zero = 3,
}

export class FloatStatus {
  round: Round = Round.Nearest;
  /** Significand bits of x87 results: 24, 53 or 64 (the precision control). */
  precision = 64;
  flags = 0;
}

/** An x87 register value: sign << 15 | biased exponent, and the 64-bit significand (explicit integer bit). */
export interface F80 {
  readonly se: number;
  readonly m: bigint;
}

export const M64 = (1n << 64n) - 1n;
const M128 = (1n << 128n) - 1n;
const BIT63 = 1n << 63n;
const BIT126 = 1n << 126n;
const BIT127 = 1n << 127n;
const BIAS = 16383;
const EXP_MAX = 0x7fff;

export const f80 = (se: number, m: bigint): F80 => ({ se: se & 0xffff, m: m & M64 });
export const F80_ZERO = f80(0, 0n);
export const F80_ONE = f80(0x3fff, BIT63);
export const F80_INF = f80(0x7fff, BIT63);
/** The default NaN: the x87 "real indefinite". */
export const F80_DEFAULT_NAN = f80(0xffff, 0xc000000000000000n);

export const expOf = (a: F80): number => a.se & 0x7fff;
export const signOf = (a: F80): boolean => (a.se & 0x8000) !== 0;
export const chs = (a: F80): F80 => f80(a.se ^ 0x8000, a.m);
export const abs = (a: F80): F80 => f80(a.se & 0x7fff, a.m);
export const isZero = (a: F80): boolean => (a.se & 0x7fff) === 0 && a.m === 0n;
/** Exactly the canonical infinity (integer bit set, fraction zero). */
export const isInf = (a: F80): boolean => (a.se & 0x7fff) === EXP_MAX && a.m === BIT63;
/** Maximum exponent and a nonzero fraction, whatever the integer bit. */
export const isAnyNaN = (a: F80): boolean => (a.se & 0x7fff) === EXP_MAX && (a.m & (M64 >> 1n)) !== 0n;
export const isSignalingNaN = (a: F80): boolean =>
  (a.se & 0x7fff) === EXP_MAX && (a.m & (1n << 62n)) === 0n && (a.m & ((1n << 62n) - 1n)) !== 0n;
/** Unnormals, pseudo-infinities and pseudo-NaNs: a nonzero exponent without the integer bit. */
export const isInvalidEncoding = (a: F80): boolean => (a.m & BIT63) === 0n && (a.se & 0x7fff) !== 0;
export const silenceNaN = (a: F80): F80 => f80(a.se, a.m | 0xc000000000000000n);

// ---- bit helpers -------------------------------------------------------------------------------

export function bitLength(x: bigint): number {
  if (x <= 0n) return 0;
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/** Leading zeros of a 64-bit value (64 for zero). */
export const clz64 = (x: bigint): number => 64 - bitLength(x & M64);

/** x shifted right by c, with any bit shifted out or-ed into bit 0 (softfloat's "jamming"). */
export function shrjam(x: bigint, c: number): bigint {
  if (c <= 0) return x;
  if (c >= bitLength(x)) return x !== 0n ? 1n : 0n;
  const cb = BigInt(c);
  return (x >> cb) | ((x & ((1n << cb) - 1n)) !== 0n ? 1n : 0n);
}

// ---- parts ---------------------------------------------------------------------------------------

export const enum Cls {
  Zero = 1,
  Normal = 2,
  Inf = 3,
  QNaN = 4,
  SNaN = 5,
}
const cmask = (c: Cls): number => 1 << c;
const M_ZERO = 1 << Cls.Zero;
const M_NORMAL = 1 << Cls.Normal;
const M_INF = 1 << Cls.Inf;
const M_NAN = (1 << Cls.QNaN) | (1 << Cls.SNaN);

interface Parts {
  cls: Cls;
  sign: boolean;
  exp: number;
  /** 128 bits; normals have bit 127 set; NaNs keep their fraction (without the integer bit) in bits 126:64. */
  frac: bigint;
}

const defaultNaNParts = (): Parts => ({ cls: Cls.QNaN, sign: true, exp: 0, frac: BIT126 });

/** Unpacks a, or raises IE and returns null for an invalid encoding. */
function unpack(a: F80, s: FloatStatus): Parts | null {
  if (isInvalidEncoding(a)) {
    s.flags |= FLAG_IE;
    return null;
  }
  const sign = signOf(a);
  const e = expOf(a);
  if (e === EXP_MAX) {
    const f = a.m & (M64 >> 1n);
    const cls = f === 0n ? Cls.Inf : f & (1n << 62n) ? Cls.QNaN : Cls.SNaN;
    return { cls, sign, exp: e, frac: f << 64n };
  }
  if (e === 0) {
    if (a.m === 0n) return { cls: Cls.Zero, sign, exp: 0, frac: 0n };
    // Denormals and pseudo-denormals alike: the value is m * 2^(1 - bias - 63).
    const shift = clz64(a.m);
    return { cls: Cls.Normal, sign, exp: 1 - BIAS - shift, frac: (a.m << BigInt(shift)) << 64n };
  }
  return { cls: Cls.Normal, sign, exp: e - BIAS, frac: a.m << 64n };
}

/** A normal parts for the nonzero integer v * 2^exp2. */
function fromInteger(sign: boolean, v: bigint, exp2: number): Parts {
  const len = bitLength(v);
  return { cls: Cls.Normal, sign, exp: exp2 + len - 1, frac: v << BigInt(128 - len) };
}

interface Fmt {
  /** Width of the significand being rounded (128, or 64 after a sticky truncation). */
  n: number;
  roundMask: bigint;
  /** Bits dropped after rounding. */
  shift: bigint;
  bias: number;
  expMax: number;
}
const FMT_X80X: Fmt = { n: 128, roundMask: M64, shift: 64n, bias: BIAS, expMax: EXP_MAX };
const FMT_X80D: Fmt = { n: 64, roundMask: (1n << 11n) - 1n, shift: 0n, bias: BIAS, expMax: EXP_MAX };
const FMT_X80S: Fmt = { n: 64, roundMask: (1n << 40n) - 1n, shift: 0n, bias: BIAS, expMax: EXP_MAX };
const FMT_F64: Fmt = { n: 64, roundMask: (1n << 11n) - 1n, shift: 11n, bias: 1023, expMax: 2047 };
const FMT_F32: Fmt = { n: 64, roundMask: (1n << 40n) - 1n, shift: 40n, bias: 127, expMax: 255 };

const x80Fmt = (precision: number): Fmt => (precision === 24 ? FMT_X80S : precision === 53 ? FMT_X80D : FMT_X80X);
/** The 128-bit significand as the 64 bits a narrower format rounds, with a sticky bit. */
const truncjam = (frac: bigint): bigint => (frac >> 64n) | ((frac & M64) !== 0n ? 1n : 0n);

/**
 * Rounds a normal value (significand frac of fmt.n bits, integer bit at the top) to fmt in s.round,
 * raising the flags. Returns the biased exponent (0 for zero and denormals, expMax for infinity) and
 * the significand with fmt.shift bits dropped.
 */
function roundNormal(sign: boolean, exp: number, frac: bigint, s: FloatStatus, fmt: Fmt): { exp: number; frac: bigint } {
  const top = 1n << BigInt(fmt.n);
  const rm = fmt.roundMask;
  const lsb = rm + 1n;
  const half = rm ^ (rm >> 1n);
  let inc: bigint;
  let overflowNorm = false;
  switch (s.round) {
    case Round.Nearest:
      inc = (frac & (rm | lsb)) !== half ? half : 0n;
      break;
    case Round.Zero:
      overflowNorm = true;
      inc = 0n;
      break;
    case Round.Up:
      inc = sign ? 0n : rm;
      overflowNorm = sign;
      break;
    default:
      inc = sign ? rm : 0n;
      overflowNorm = !sign;
      break;
  }
  let e = exp + fmt.bias;
  let flags = 0;
  if (e > 0) {
    if (frac & rm) {
      flags |= FLAG_PE;
      frac += inc;
      if (frac >= top) {
        frac >>= 1n;
        e++;
      }
      frac &= ~rm;
    }
    if (e >= fmt.expMax) {
      flags |= FLAG_OE | FLAG_PE;
      if (overflowNorm) {
        e = fmt.expMax - 1;
        frac = (top - 1n) & ~rm;
      } else {
        e = fmt.expMax;
        frac = 0n;
      }
    }
  } else {
    // Tininess after rounding: tiny unless rounding at the normal precision would carry out.
    const tiny = e < 0 || frac + inc < top;
    frac = shrjam(frac, 1 - e);
    if (frac & rm) {
      if (s.round === Round.Nearest) inc = (frac & (rm | lsb)) !== half ? half : 0n;
      flags |= FLAG_PE;
      frac = (frac + inc) & ~rm;
    }
    e = frac & (top >> 1n) ? 1 : 0;
    if (tiny && flags & FLAG_PE) flags |= FLAG_UE;
  }
  s.flags |= flags;
  return { exp: e, frac: frac >> fmt.shift };
}

/** Packs parts into an x87 value, rounding normals to the precision control. */
function pack(p: Parts, s: FloatStatus, precision = s.precision): F80 {
  const sign = p.sign ? 0x8000 : 0;
  switch (p.cls) {
    case Cls.Normal: {
      const fmt = x80Fmt(precision);
      const r = roundNormal(p.sign, p.exp, fmt.n === 128 ? p.frac : truncjam(p.frac), s, fmt);
      if (r.exp === EXP_MAX) return f80(sign | EXP_MAX, BIT63);
      return f80(sign | r.exp, r.frac);
    }
    case Cls.Inf:
      return f80(sign | EXP_MAX, BIT63);
    case Cls.Zero:
      return f80(sign, 0n);
    default:
      return f80(sign | EXP_MAX, (p.frac >> 64n) | BIT63);
  }
}

function silence(p: Parts): Parts {
  p.frac |= BIT126;
  p.cls = Cls.QNaN;
  return p;
}

/** A NaN operand of a one-operand operation: signalling ones raise IE and are quieted. */
function returnNaN(p: Parts, s: FloatStatus): Parts {
  if (p.cls === Cls.SNaN) {
    s.flags |= FLAG_IE;
    silence(p);
  }
  return p;
}

/**
 * x87 NaN propagation: a QNaN beats an SNaN, otherwise the larger significand wins (the positive
 * one on a tie); a NaN beats a number.
 */
function pickNaN(a: Parts, b: Parts, s: FloatStatus): Parts {
  if (a.cls === Cls.SNaN || b.cls === Cls.SNaN) s.flags |= FLAG_IE;
  let cmp = a.frac < b.frac ? -1 : a.frac > b.frac ? 1 : 0;
  if (cmp === 0) cmp = !a.sign && b.sign ? 1 : 0;
  const aLarger = cmp > 0;
  let pickB: boolean;
  if (a.cls === Cls.SNaN) pickB = b.cls === Cls.SNaN ? !aLarger : b.cls === Cls.QNaN;
  else if (a.cls === Cls.QNaN) pickB = b.cls === Cls.QNaN && !aLarger;
  else pickB = true;
  const r = pickB ? b : a;
  return r.cls === Cls.SNaN ? silence(r) : r;
}

function addNormal(a: Parts, b: Parts): void {
  const d = a.exp - b.exp;
  if (d > 0) b.frac = shrjam(b.frac, d);
  else if (d < 0) {
    a.frac = shrjam(a.frac, -d);
    a.exp = b.exp;
  }
  let f = a.frac + b.frac;
  if (f > M128) {
    f = (f >> 1n) | (f & 1n);
    a.exp++;
  }
  a.frac = f;
}

/** a - b on magnitudes; false (and a becomes a zero) when the difference is exactly zero. */
function subNormal(a: Parts, b: Parts): boolean {
  const d = a.exp - b.exp;
  if (d > 0) {
    a.frac -= shrjam(b.frac, d);
  } else if (d < 0) {
    a.exp = b.exp;
    a.sign = !a.sign;
    a.frac = b.frac - shrjam(a.frac, -d);
  } else {
    a.frac -= b.frac;
    if (a.frac < 0n) {
      a.frac = -a.frac;
      a.sign = !a.sign;
    }
  }
  if (a.frac === 0n) {
    a.cls = Cls.Zero;
    return false;
  }
  const shift = 128 - bitLength(a.frac);
  a.frac <<= BigInt(shift);
  a.exp -= shift;
  return true;
}

function addsubParts(a: Parts, b: Parts, s: FloatStatus, subtract: boolean): Parts {
  const bSign = b.sign !== subtract;
  let mask = cmask(a.cls) | cmask(b.cls);
  if (a.sign !== bSign) {
    if (mask === M_NORMAL) {
      if (subNormal(a, b)) return a;
      mask = M_ZERO;
    }
    if (mask === M_ZERO) {
      a.sign = s.round === Round.Down;
      return a;
    }
    if (mask & M_NAN) return pickNaN(a, b, s);
    if (mask & M_INF) {
      if (a.cls !== Cls.Inf) {
        b.sign = bSign;
        return b;
      }
      if (b.cls !== Cls.Inf) return a;
      s.flags |= FLAG_IE;
      return defaultNaNParts();
    }
  } else {
    if (mask === M_NORMAL) {
      addNormal(a, b);
      return a;
    }
    if (mask === M_ZERO) return a;
    if (mask & M_NAN) return pickNaN(a, b, s);
    if (mask & M_INF) {
      a.cls = Cls.Inf;
      return a;
    }
  }
  if (b.cls === Cls.Zero) return a;
  b.sign = bSign;
  return b;
}

function mulParts(a: Parts, b: Parts, s: FloatStatus): Parts {
  const mask = cmask(a.cls) | cmask(b.cls);
  const sign = a.sign !== b.sign;
  if (mask === M_NORMAL) {
    const prod = a.frac * b.frac;
    let f = (prod >> 128n) | ((prod & M128) !== 0n ? 1n : 0n);
    let e = a.exp + b.exp + 1;
    if (!(f & BIT127)) {
      f <<= 1n;
      e--;
    }
    return { cls: Cls.Normal, sign, exp: e, frac: f };
  }
  if (mask === (M_INF | M_ZERO)) {
    s.flags |= FLAG_IE;
    return defaultNaNParts();
  }
  if (mask & M_NAN) return pickNaN(a, b, s);
  a.cls = mask & M_INF ? Cls.Inf : Cls.Zero;
  a.sign = sign;
  return a;
}

function divParts(a: Parts, b: Parts, s: FloatStatus): Parts {
  const mask = cmask(a.cls) | cmask(b.cls);
  const sign = a.sign !== b.sign;
  if (mask === M_NORMAL) {
    const less = a.frac < b.frac;
    const num = (less ? a.frac : a.frac >> 1n) << 128n;
    const q = num / b.frac;
    const frac = q | (num % b.frac !== 0n ? 1n : 0n);
    return { cls: Cls.Normal, sign, exp: a.exp - b.exp - (less ? 1 : 0), frac };
  }
  if (mask === M_ZERO || mask === M_INF) {
    s.flags |= FLAG_IE;
    return defaultNaNParts();
  }
  if (mask & M_NAN) return pickNaN(a, b, s);
  a.sign = sign;
  if (a.cls === Cls.Inf || a.cls === Cls.Zero) return a;
  if (b.cls === Cls.Inf) {
    a.cls = Cls.Zero;
    return a;
  }
  s.flags |= FLAG_ZE;
  a.cls = Cls.Inf;
  return a;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function sqrtParts(a: Parts, s: FloatStatus): Parts {
  switch (a.cls) {
    case Cls.QNaN:
    case Cls.SNaN:
      return returnNaN(a, s);
    case Cls.Zero:
      return a;
    case Cls.Inf:
      if (!a.sign) return a;
      s.flags |= FLAG_IE;
      return defaultNaNParts();
    default:
      break;
  }
  if (a.sign) {
    s.flags |= FLAG_IE;
    return defaultNaNParts();
  }
  // frac/2^127 * 2^exp with an even exponent left over: sqrt(frac * 2^127 or 2^128) has 128 bits.
  const odd = (a.exp & 1) !== 0;
  const radicand = a.frac << (odd ? 128n : 127n);
  const r = isqrt(radicand);
  return { cls: Cls.Normal, sign: false, exp: a.exp >> 1, frac: r | (r * r !== radicand ? 1n : 0n) };
}

/**
 * The remainder of a / b with a truncated quotient (mod) or the IEEE round-to-nearest-even one,
 * and the low 64 bits of |quotient| (mod only; 0 otherwise).
 */
function modremParts(a: Parts, b: Parts, mod: boolean, s: FloatStatus): { r: Parts; q: bigint } {
  const mask = cmask(a.cls) | cmask(b.cls);
  if (mask === M_NORMAL) {
    const d = a.exp - b.exp;
    if (d < -1) return { r: a, q: 0n };
    // Both as integers in units of 2^(b.exp - 128).
    const num = a.frac << BigInt(d + 1);
    const den = b.frac << 1n;
    let q = num / den;
    let rem = num - q * den;
    let sign = a.sign;
    if (!mod && (2n * rem > den || (2n * rem === den && (q & 1n) === 1n))) {
      rem = den - rem;
      sign = !sign;
      q += 1n;
    }
    if (rem === 0n) return { r: { cls: Cls.Zero, sign, exp: 0, frac: 0n }, q: mod ? q & M64 : 0n };
    return { r: fromInteger(sign, rem, b.exp - 128), q: mod ? q & M64 : 0n };
  }
  if (mask & M_NAN) return { r: pickNaN(a, b, s), q: 0n };
  if (a.cls === Cls.Inf || b.cls === Cls.Zero) {
    s.flags |= FLAG_IE;
    return { r: defaultNaNParts(), q: 0n };
  }
  return { r: a, q: 0n };
}

/** Rounds a normal value to an integer in rmode; true if that was inexact. */
function roundToIntNormal(a: Parts, rmode: Round, fracSize: number): boolean {
  if (a.exp < 0) {
    let one: boolean;
    switch (rmode) {
      case Round.Nearest:
        one = a.exp === -1 && (a.frac & ~BIT127) !== 0n;
        break;
      case Round.Zero:
        one = false;
        break;
      case Round.Up:
        one = !a.sign;
        break;
      default:
        one = a.sign;
        break;
    }
    a.exp = 0;
    if (one) a.frac = BIT127;
    else {
      a.frac = 0n;
      a.cls = Cls.Zero;
    }
    return true;
  }
  if (a.exp >= fracSize) return false;
  const fbits = BigInt(127 - a.exp);
  const fracMask = (1n << fbits) - 1n;
  const rest = a.frac & fracMask;
  if (rest === 0n) return false;
  let int = a.frac >> fbits;
  const half = 1n << (fbits - 1n);
  let up: boolean;
  switch (rmode) {
    case Round.Nearest:
      up = rest > half || (rest === half && (int & 1n) === 1n);
      break;
    case Round.Zero:
      up = false;
      break;
    case Round.Up:
      up = !a.sign;
      break;
    default:
      up = a.sign;
      break;
  }
  if (up) int += 1n;
  let f = int << fbits;
  if (f > M128) {
    f >>= 1n;
    a.exp++;
  }
  a.frac = f;
  return true;
}

export const enum Relation {
  Less = -1,
  Equal = 0,
  Greater = 1,
  Unordered = 2,
}

function compareParts(a: Parts, b: Parts, s: FloatStatus, quiet: boolean): Relation {
  const mask = cmask(a.cls) | cmask(b.cls);
  const aSign = (): Relation => (a.sign ? Relation.Less : Relation.Greater);
  const bSign = (): Relation => (b.sign ? Relation.Greater : Relation.Less);
  if (mask === M_NORMAL) {
    if (a.sign !== b.sign) return aSign();
    let cmp: Relation;
    if (a.exp === b.exp) cmp = a.frac < b.frac ? Relation.Less : a.frac > b.frac ? Relation.Greater : Relation.Equal;
    else cmp = a.exp < b.exp ? Relation.Less : Relation.Greater;
    return a.sign ? (-cmp as Relation) : cmp;
  }
  if (mask & M_NAN) {
    if (mask & (1 << Cls.SNaN) || !quiet) s.flags |= FLAG_IE;
    return Relation.Unordered;
  }
  if (mask & M_ZERO) {
    if (mask === M_ZERO) return Relation.Equal;
    return a.cls === Cls.Zero ? bSign() : aSign();
  }
  if (mask === M_INF) {
    if (a.sign === b.sign) return Relation.Equal;
    return aSign();
  }
  return b.cls === Cls.Inf ? bSign() : aSign();
}

/** The integer value of a, rounded in rmode, saturating with IE to [min, max] (NaN: max). */
function toSint(p: Parts, rmode: Round, min: bigint, max: bigint, s: FloatStatus): bigint {
  switch (p.cls) {
    case Cls.SNaN:
    case Cls.QNaN:
      s.flags |= FLAG_IE;
      return max;
    case Cls.Inf:
      s.flags |= FLAG_IE;
      return p.sign ? min : max;
    case Cls.Zero:
      return 0n;
    default:
      break;
  }
  let flags = roundToIntNormal(p, rmode, 126) ? FLAG_PE : 0;
  let r = p.exp <= 63 ? p.frac >> BigInt(127 - p.exp) : M64;
  if (p.sign) {
    if (r <= -min) r = -r;
    else {
      // An overflow reports IE alone, not PE (softfloat replaces the flags).
      flags = FLAG_IE;
      r = min;
    }
  } else if (r > max) {
    flags = FLAG_IE;
    r = max;
  }
  s.flags |= flags;
  return r;
}

// ---- x87 value operations ----------------------------------------------------------------------

function binary(a: F80, b: F80, s: FloatStatus, op: (pa: Parts, pb: Parts) => Parts): F80 {
  const pa = unpack(a, s);
  const pb = pa && unpack(b, s);
  if (!pa || !pb) return F80_DEFAULT_NAN;
  return pack(op(pa, pb), s);
}

export const add = (a: F80, b: F80, s: FloatStatus): F80 => binary(a, b, s, (x, y) => addsubParts(x, y, s, false));
export const sub = (a: F80, b: F80, s: FloatStatus): F80 => binary(a, b, s, (x, y) => addsubParts(x, y, s, true));
export const mul = (a: F80, b: F80, s: FloatStatus): F80 => binary(a, b, s, (x, y) => mulParts(x, y, s));
export const div = (a: F80, b: F80, s: FloatStatus): F80 => binary(a, b, s, (x, y) => divParts(x, y, s));

export function sqrt(a: F80, s: FloatStatus): F80 {
  const p = unpack(a, s);
  return p ? pack(sqrtParts(p, s), s) : F80_DEFAULT_NAN;
}

/** Remainder: mod = true truncates the quotient (FPREM), false rounds it to nearest (IEEE). */
export function modrem(a: F80, b: F80, mod: boolean, s: FloatStatus): { r: F80; q: bigint } {
  const pa = unpack(a, s);
  const pb = pa && unpack(b, s);
  if (!pa || !pb) return { r: F80_DEFAULT_NAN, q: 0n };
  const { r, q } = modremParts(pa, pb, mod, s);
  return { r: pack(r, s), q };
}

/** FRNDINT: to an integer in the rounding control; values of at least 2^(precision-1) count as integral. */
export function roundToInt(a: F80, s: FloatStatus): F80 {
  const p = unpack(a, s);
  if (!p) return F80_DEFAULT_NAN;
  if (p.cls === Cls.QNaN || p.cls === Cls.SNaN) returnNaN(p, s);
  else if (p.cls === Cls.Normal) {
    const fracSize = s.precision === 24 ? 23 : s.precision === 53 ? 52 : 63;
    if (roundToIntNormal(p, s.round, fracSize)) s.flags |= FLAG_PE;
  }
  return pack(p, s);
}

/** a * 2^n (n clamped to +-65536, as softfloat does), rounded to the precision control. */
export function scalbn(a: F80, n: number, s: FloatStatus): F80 {
  const p = unpack(a, s);
  if (!p) return F80_DEFAULT_NAN;
  if (p.cls === Cls.QNaN || p.cls === Cls.SNaN) returnNaN(p, s);
  else if (p.cls === Cls.Normal) p.exp += Math.min(Math.max(n, -0x10000), 0x10000);
  return pack(p, s);
}

/** Ordered comparison: IE for any NaN operand (quiet: only for signalling ones) and invalid encodings. */
export function compare(a: F80, b: F80, s: FloatStatus, quiet: boolean): Relation {
  const pa = unpack(a, s);
  const pb = pa && unpack(b, s);
  if (!pa || !pb) return Relation.Unordered;
  return compareParts(pa, pb, s, quiet);
}

/** To a signed integer of `bits` (32 or 64) bits in rmode; out of range or NaN: IE and the saturated value (NaN: max). */
export function toInt(a: F80, bits: number, rmode: Round, s: FloatStatus): bigint {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const p = unpack(a, s) ?? defaultNaNParts();
  return toSint(p, rmode, -max - 1n, max, s);
}

/** A signed integer, rounded to the precision control (QEMU rounds integer loads too). */
export function fromInt(v: bigint, s: FloatStatus, precision = s.precision): F80 {
  if (v === 0n) return F80_ZERO;
  return pack(fromInteger(v < 0n, v < 0n ? -v : v, 0), s, precision);
}

function fromIeee(bits: bigint, fracBits: number, expBits: number, s: FloatStatus): F80 {
  const sign = (bits >> BigInt(fracBits + expBits)) & 1n ? true : false;
  const e = Number((bits >> BigInt(fracBits)) & ((1n << BigInt(expBits)) - 1n));
  const f = bits & ((1n << BigInt(fracBits)) - 1n);
  const expMax = (1 << expBits) - 1;
  const bias = (expMax >> 1);
  let p: Parts;
  if (e === expMax) {
    const frac = f << BigInt(127 - fracBits);
    p = { cls: f === 0n ? Cls.Inf : frac & BIT126 ? Cls.QNaN : Cls.SNaN, sign, exp: 0, frac };
    if (p.cls !== Cls.Inf) returnNaN(p, s);
  } else if (e === 0) {
    p = f === 0n ? { cls: Cls.Zero, sign, exp: 0, frac: 0n } : fromInteger(sign, f, 1 - bias - fracBits);
  } else {
    p = { cls: Cls.Normal, sign, exp: e - bias, frac: (f | (1n << BigInt(fracBits))) << BigInt(127 - fracBits) };
  }
  return pack(p, s);
}

/** binary32 (as an int32 bit pattern) to x87, rounded to the precision control. */
export function fromF32(bits: number, s: FloatStatus): F80 {
  const e = (bits >>> 23) & 0xff;
  // Normal values fit every precision: the common case needs no rounding.
  if (e !== 0 && e !== 0xff) return f80(((bits >>> 31) << 15) | (e - 127 + BIAS), BigInt((bits & 0x7fffff) | 0x800000) << 40n);
  return fromIeee(BigInt(bits >>> 0), 23, 8, s);
}

/** binary64 bit pattern to x87, rounded to the precision control. */
export function fromF64(bits: bigint, s: FloatStatus): F80 {
  const hi = Number((bits >> 32n) & 0xffffffffn);
  const e = (hi >>> 20) & 0x7ff;
  if (e !== 0 && e !== 0x7ff && s.precision !== 24) {
    return f80(((hi >>> 31) << 15) | (e - 1023 + BIAS), ((bits & 0xfffffffffffffn) | (1n << 52n)) << 11n);
  }
  return fromIeee(bits & M64, 52, 11, s);
}

function toIeee(a: F80, fmt: Fmt, fracBits: number, s: FloatStatus): bigint {
  const p = unpack(a, s) ?? defaultNaNParts();
  const expBits = fracBits === 23 ? 8 : 11;
  const signBit = p.sign ? 1n << BigInt(fracBits + expBits) : 0n;
  const expMax = BigInt(fmt.expMax);
  const fracMask = (1n << BigInt(fracBits)) - 1n;
  switch (p.cls) {
    case Cls.Zero:
      return signBit;
    case Cls.Inf:
      return signBit | (expMax << BigInt(fracBits));
    case Cls.QNaN:
    case Cls.SNaN: {
      returnNaN(p, s);
      return signBit | (expMax << BigInt(fracBits)) | (((p.frac >> 64n) >> fmt.shift) & fracMask);
    }
    default: {
      const r = roundNormal(p.sign, p.exp, truncjam(p.frac), s, fmt);
      return signBit | (BigInt(r.exp) << BigInt(fracBits)) | (r.frac & fracMask);
    }
  }
}

/** x87 to binary32 in the rounding control (an int32 bit pattern). */
export const toF32 = (a: F80, s: FloatStatus): number => Number(toIeee(a, FMT_F32, 23, s)) | 0;
/** x87 to a binary64 bit pattern in the rounding control. */
export function toF64(a: F80, s: FloatStatus): bigint {
  const e = expOf(a) - BIAS + 1023;
  // Normal results that cannot overflow: round the significand here (the general path agrees).
  if (e >= 1 && e <= 2045 && a.m & BIT63) {
    const sign = signOf(a);
    let mant = a.m >> 11n;
    const rest = Number(a.m & 0x7ffn);
    if (rest) {
      s.flags |= FLAG_PE;
      const up = s.round === Round.Nearest ? rest > 0x400 || (rest === 0x400 && (mant & 1n) === 1n)
        : s.round === Round.Up ? !sign : s.round === Round.Down ? sign : false;
      if (up) mant += 1n;
    }
    // A carry out of the significand moves into the exponent field by itself.
    return ((sign ? 1n : 0n) << 63n) + (BigInt(e) << 52n) + mant - (1n << 52n);
  }
  return toIeee(a, FMT_F64, 52, s);
}

/**
 * Rounds sign * (sig0:sig1) / 2^127 * 2^(exp - bias), sig0:sig1 not necessarily normalized but
 * nonzero, to 64 bits in the rounding control (softfloat's normalizeRoundAndPackFloatx80 at
 * extended precision, which the transcendental algorithms end with).
 */
export function roundPack(sign: boolean, exp: number, sig0: bigint, sig1: bigint, s: FloatStatus): F80 {
  let frac = ((sig0 & M64) << 64n) | (sig1 & M64);
  if ((sig0 & M64) === 0n) {
    frac = (sig1 & M64) << 64n;
    exp -= 64;
  }
  const shift = 64 - bitLength(frac >> 64n);
  frac = (frac << BigInt(shift)) & M128;
  return pack({ cls: Cls.Normal, sign, exp: exp - shift - BIAS, frac }, s, 64);
}

// ---- transcendental functions --------------------------------------------------------------------
//
// F2XM1, FYL2X, FYL2XP1 and FPATAN reproduce, step for step, the floatx80 algorithms of QEMU 7.2
// (target/i386/tcg/fpu_helper.c, by Joseph Myers): a table lookup and a polynomial evaluated in
// floatx80 arithmetic, combined in 128-bit fixed point with the C code's exact word operations
// (including the estimated divisions), then one rounding. Their results are within an ulp of
// the true value but not always correctly rounded, so matching QEMU bit for bit means using the
// same steps and the same constants. Multi-word values are BigInts of 64-bit words here.

const w64 = (x: bigint): bigint => x & M64;
const isNeg64 = (x: bigint): boolean => (x & BIT63) !== 0n;

function mul64To128(a: bigint, b: bigint): [bigint, bigint] {
  const p = a * b;
  return [w64(p >> 64n), w64(p)];
}
function mul128By64To192(a0: bigint, a1: bigint, b: bigint): [bigint, bigint, bigint] {
  const p = ((a0 << 64n) | a1) * b;
  return [w64(p >> 128n), w64(p >> 64n), w64(p)];
}
function mul128To256(a0: bigint, a1: bigint, b0: bigint, b1: bigint): [bigint, bigint, bigint, bigint] {
  const p = ((a0 << 64n) | a1) * ((b0 << 64n) | b1);
  return [w64(p >> 192n), w64(p >> 128n), w64(p >> 64n), w64(p)];
}
function add128(a0: bigint, a1: bigint, b0: bigint, b1: bigint): [bigint, bigint] {
  const r = (((a0 << 64n) | a1) + ((b0 << 64n) | b1)) & M128;
  return [r >> 64n, w64(r)];
}
function sub128(a0: bigint, a1: bigint, b0: bigint, b1: bigint): [bigint, bigint] {
  const r = (((a0 << 64n) | a1) - ((b0 << 64n) | b1)) & M128;
  return [r >> 64n, w64(r)];
}
const M192 = (1n << 192n) - 1n;
function add192(a0: bigint, a1: bigint, a2: bigint, b0: bigint, b1: bigint, b2: bigint): [bigint, bigint, bigint] {
  const r = (((a0 << 128n) | (a1 << 64n) | a2) + ((b0 << 128n) | (b1 << 64n) | b2)) & M192;
  return [r >> 128n, w64(r >> 64n), w64(r)];
}
function sub192(a0: bigint, a1: bigint, a2: bigint, b0: bigint, b1: bigint, b2: bigint): [bigint, bigint, bigint] {
  const r = (((a0 << 128n) | (a1 << 64n) | a2) - ((b0 << 128n) | (b1 << 64n) | b2)) & M192;
  return [r >> 128n, w64(r >> 64n), w64(r)];
}
function shift128RightJamming(a0: bigint, a1: bigint, count: number): [bigint, bigint] {
  const r = shrjam((a0 << 64n) | a1, count);
  return [r >> 64n, w64(r)];
}
function shift128Right(a0: bigint, a1: bigint, count: number): [bigint, bigint] {
  const r = ((a0 << 64n) | a1) >> BigInt(count);
  return [r >> 64n, w64(r)];
}
function shift128Left(a0: bigint, a1: bigint, count: number): [bigint, bigint] {
  const r = (((a0 << 64n) | a1) << BigInt(count)) & M128;
  return [r >> 64n, w64(r)];
}

/** softfloat's estimate of floor((a0:a1) / b) (b normalized): at most 2 too large. */
function estimateDiv128To64(a0: bigint, a1: bigint, b: bigint): bigint {
  if (b <= a0) return M64;
  const b0 = b >> 32n;
  let z = b0 << 32n <= a0 ? 0xffffffff00000000n : (a0 / b0) << 32n;
  const [t0, t1] = mul64To128(b, z);
  let [rem0, rem1] = sub128(a0, a1, t0, t1);
  while (isNeg64(rem0)) {
    z = w64(z - 0x100000000n);
    [rem0, rem1] = add128(rem0, rem1, b0, w64(b << 32n));
  }
  rem0 = w64((rem0 << 32n) | (rem1 >> 32n));
  z |= b0 << 32n <= rem0 ? 0xffffffffn : rem0 / b0;
  return w64(z);
}

/** A denormal's significand normalized, and the exponent that goes with it. */
function normalizeSubnormal(sig: bigint): { exp: number; sig: bigint } {
  const shift = clz64(sig);
  return { exp: 1 - shift, sig: w64(sig << BigInt(shift)) };
}

const X = (se: number, m: bigint): F80 => f80(se, m);

/** 128-bit significands of ln(2), log2(e) and pi (pi/4, pi/2 share it). */
const LN2_HI = 0xb17217f7d1cf79abn;
const LN2_LO = 0xc9e3b39803f2f6afn;
const LOG2E_HI = 0xb8aa3b295c17f0bbn;
const LOG2E_LO = 0xbe87fed0691d3e89n;
const PI_HI = 0xc90fdaa22168c234n;
const PI_LO = 0xc4c6628b80dc1cd1n;
const PI34_HI = 0x96cbe3f9990e91a7n;
const PI34_LO = 0x9394c9e8a0a5159dn;

/** (2^x - 1) / x on [-1/64, 1/64]: coefficients 0 (with a low part) to 7. */
const F2XM1_C0 = X(0x3ffe, 0xb17217f7d1cf79acn);
const F2XM1_C0_LOW = X(0xbfbc, 0xd87edabf495b3762n);
const F2XM1_C = [
  X(0x3ffc, 0xf5fdeffc162c7543n), X(0x3ffa, 0xe35846b82505fcc7n), X(0x3ff8, 0x9d955b7dd273b899n),
  X(0x3ff5, 0xaec3ff3c4ef4ac0cn), X(0x3ff2, 0xa184897c3a7f0de9n), X(0x3fee, 0xffe634d0ec30d504n),
  X(0x3feb, 0xb160111d2db515e4n),
];

/**
 * For n = 0..64: t close to (n - 32) / 32 where 2^t and 2^t - 1 are very close to floatx80
 * values, and those values. Packed as [t.se, t.m, 2^t.se, 2^t.m, (2^t - 1).se, (2^t - 1).m].
 */
const F2XM1_TABLE_RAW: [number, bigint, number, bigint, number, bigint][] = [
  [0xbfff, 0x8000000000000000n, 0x3ffe, 0x8000000000000000n, 0xbffe, 0x8000000000000000n],
  [0xbffe, 0xf800000000002e7en, 0x3ffe, 0x82cd8698ac2b9160n, 0xbffd, 0xfa64f2cea7a8dd40n],
  [0xbffe, 0xefffffffffffe960n, 0x3ffe, 0x85aac367cc488345n, 0xbffd, 0xf4aa7930676ef976n],
  [0xbffe, 0xe800000000006f10n, 0x3ffe, 0x88980e8092da5c14n, 0xbffd, 0xeecfe2feda4b47d8n],
  [0xbffe, 0xe000000000008a45n, 0x3ffe, 0x8b95c1e3ea8ba2a5n, 0xbffd, 0xe8d47c382ae8bab6n],
  [0xbffe, 0xd7ffffffffff8a9en, 0x3ffe, 0x8ea4398b45cd8116n, 0xbffd, 0xe2b78ce97464fdd4n],
  [0xbffe, 0xd0000000000019a0n, 0x3ffe, 0x91c3d373ab11b919n, 0xbffd, 0xdc785918a9dc8dcen],
  [0xbffe, 0xc7ffffffffff14dfn, 0x3ffe, 0x94f4efa8fef76836n, 0xbffd, 0xd61620ae02112f94n],
  [0xbffe, 0xc000000000006530n, 0x3ffe, 0x9837f0518db87fbbn, 0xbffd, 0xcf901f5ce48f008an],
  [0xbffe, 0xb7ffffffffff1723n, 0x3ffe, 0x9b8d39b9d54eb74cn, 0xbffd, 0xc8e58c8c55629168n],
  [0xbffe, 0xb00000000000b5e1n, 0x3ffe, 0x9ef5326091a0c366n, 0xbffd, 0xc2159b3edcbe7934n],
  [0xbffe, 0xa800000000006f8an, 0x3ffe, 0xa27043030c49370an, 0xbffd, 0xbb1f79f9e76d91ecn],
  [0xbffe, 0x9fffffffffff816an, 0x3ffe, 0xa5fed6a9b15171cfn, 0xbffd, 0xb40252ac9d5d1c62n],
  [0xbffe, 0x97ffffffffffb621n, 0x3ffe, 0xa9a15ab4ea7c30e6n, 0xbffd, 0xacbd4a962b079e34n],
  [0xbffe, 0x8fffffffffff162bn, 0x3ffe, 0xad583eea42a1b886n, 0xbffd, 0xa54f822b7abc8ef4n],
  [0xbffe, 0x87ffffffffff4d34n, 0x3ffe, 0xb123f581d2ac7b51n, 0xbffd, 0x9db814fc5aa7095en],
  [0xbffe, 0x800000000000227dn, 0x3ffe, 0xb504f333f9de539dn, 0xbffd, 0x95f619980c4358c6n],
  [0xbffd, 0xefffffffffff3978n, 0x3ffe, 0xb8fbaf4762fbd0a1n, 0xbffd, 0x8e08a1713a085eben],
  [0xbffd, 0xe00000000000df81n, 0x3ffe, 0xbd08a39f580bfd8cn, 0xbffd, 0x85eeb8c14fe804e8n],
  [0xbffd, 0xd00000000000bccfn, 0x3ffe, 0xc12c4cca667062f6n, 0xbffc, 0xfb4eccd6663e7428n],
  [0xbffd, 0xc00000000000eff0n, 0x3ffe, 0xc5672a1155069aben, 0xbffc, 0xea6357baabe59508n],
  [0xbffd, 0xb000000000000fe6n, 0x3ffe, 0xc9b9bd866e2f234bn, 0xbffc, 0xd91909e6474372d4n],
  [0xbffd, 0x9fffffffffff2172n, 0x3ffe, 0xce248c151f84bf00n, 0xbffc, 0xc76dcfab81ed0400n],
  [0xbffd, 0x8fffffffffffafffn, 0x3ffe, 0xd2a81d91f12afb2bn, 0xbffc, 0xb55f89b83b541354n],
  [0xbffc, 0xffffffffffff81a3n, 0x3ffe, 0xd744fccad69d7d5en, 0xbffc, 0xa2ec0cd4a58a0a88n],
  [0xbffc, 0xdfffffffffff1568n, 0x3ffe, 0xdbfbb797daf25a44n, 0xbffc, 0x901121a0943696f0n],
  [0xbffc, 0xbfffffffffff68dan, 0x3ffe, 0xe0ccdeec2a94f811n, 0xbffb, 0xf999089eab583f78n],
  [0xbffc, 0x9fffffffffff4690n, 0x3ffe, 0xe5b906e77c83657en, 0xbffb, 0xd237c8c41be4d410n],
  [0xbffb, 0xffffffffffff8aeen, 0x3ffe, 0xeac0c6e7dd24427cn, 0xbffb, 0xa9f9c8c116ddec20n],
  [0xbffb, 0xbfffffffffff2d18n, 0x3ffe, 0xefe4b99bdcdb06ebn, 0xbffb, 0x80da33211927c8a8n],
  [0xbffa, 0xffffffffffff8ccbn, 0x3ffe, 0xf5257d152486d0f4n, 0xbffa, 0xada82eadb792f0c0n],
  [0xbff9, 0xffffffffffff11fen, 0x3ffe, 0xfa83b2db722a0846n, 0xbff9, 0xaf89a491babef740n],
  [0x0000, 0x0000000000000000n, 0x3fff, 0x8000000000000000n, 0x0000, 0x0000000000000000n],
  [0x3ff9, 0xffffffffffff2680n, 0x3fff, 0x82cd8698ac2b9f6fn, 0x3ff9, 0xb361a62b0ae7dbc0n],
  [0x3ffb, 0x800000000000b500n, 0x3fff, 0x85aac367cc488345n, 0x3ffa, 0xb5586cf9891068a0n],
  [0x3ffb, 0xbfffffffffff4b67n, 0x3fff, 0x88980e8092da7ccen, 0x3ffb, 0x8980e8092da7cce0n],
  [0x3ffb, 0xffffffffffffff57n, 0x3fff, 0x8b95c1e3ea8bd6dfn, 0x3ffb, 0xb95c1e3ea8bd6df0n],
  [0x3ffc, 0x9fffffffffff811fn, 0x3fff, 0x8ea4398b45cd4780n, 0x3ffb, 0xea4398b45cd47800n],
  [0x3ffc, 0xbfffffffffff9980n, 0x3fff, 0x91c3d373ab11b919n, 0x3ffc, 0x8e1e9b9d588dc8c8n],
  [0x3ffc, 0xdffffffffffff631n, 0x3fff, 0x94f4efa8fef70864n, 0x3ffc, 0xa7a77d47f7b84320n],
  [0x3ffc, 0xffffffffffff2499n, 0x3fff, 0x9837f0518db892d4n, 0x3ffc, 0xc1bf828c6dc496a0n],
  [0x3ffd, 0x8fffffffffff80fbn, 0x3fff, 0x9b8d39b9d54e3a79n, 0x3ffc, 0xdc69cdceaa71d3c8n],
  [0x3ffd, 0x9fffffffffffbc23n, 0x3fff, 0x9ef5326091a10313n, 0x3ffc, 0xf7a993048d081898n],
  [0x3ffd, 0xafffffffffff20ecn, 0x3fff, 0xa27043030c49370an, 0x3ffd, 0x89c10c0c3124dc28n],
  [0x3ffd, 0xc00000000000fd2cn, 0x3fff, 0xa5fed6a9b15171cfn, 0x3ffd, 0x97fb5aa6c545c73cn],
  [0x3ffd, 0xd0000000000093ben, 0x3fff, 0xa9a15ab4ea7c30e6n, 0x3ffd, 0xa6856ad3a9f0c398n],
  [0x3ffd, 0xe00000000000c2aen, 0x3fff, 0xad583eea42a17876n, 0x3ffd, 0xb560fba90a85e1d8n],
  [0x3ffd, 0xefffffffffff1e3fn, 0x3fff, 0xb123f581d2abef6cn, 0x3ffd, 0xc48fd6074aafbdb0n],
  [0x3ffd, 0xffffffffffff1c23n, 0x3fff, 0xb504f333f9de2cadn, 0x3ffd, 0xd413cccfe778b2b4n],
  [0x3ffe, 0x8800000000006344n, 0x3fff, 0xb8fbaf4762fbd0a1n, 0x3ffd, 0xe3eebd1d8bef4284n],
  [0x3ffe, 0x9000000000005d67n, 0x3fff, 0xbd08a39f580c668dn, 0x3ffd, 0xf4228e7d60319a34n],
  [0x3ffe, 0x9800000000009127n, 0x3fff, 0xc12c4cca6670e042n, 0x3ffe, 0x82589994cce1c084n],
  [0x3ffe, 0x9fffffffffff06f9n, 0x3fff, 0xc5672a11550655c3n, 0x3ffe, 0x8ace5422aa0cab86n],
  [0x3ffe, 0xa7fffffffffff80dn, 0x3fff, 0xc9b9bd866e2f234bn, 0x3ffe, 0x93737b0cdc5e4696n],
  [0x3ffe, 0xafffffffffff1470n, 0x3fff, 0xce248c151f83fd69n, 0x3ffe, 0x9c49182a3f07fad2n],
  [0x3ffe, 0xb800000000000e0an, 0x3fff, 0xd2a81d91f12aec5cn, 0x3ffe, 0xa5503b23e255d8b8n],
  [0x3ffe, 0xc00000000000b7fan, 0x3fff, 0xd744fccad69dd630n, 0x3ffe, 0xae89f995ad3bac60n],
  [0x3ffe, 0xc800000000003aa6n, 0x3fff, 0xdbfbb797daf25a44n, 0x3ffe, 0xb7f76f2fb5e4b488n],
  [0x3ffe, 0xd00000000000a6aen, 0x3fff, 0xe0ccdeec2a954685n, 0x3ffe, 0xc199bdd8552a8d0an],
  [0x3ffe, 0xd800000000004165n, 0x3fff, 0xe5b906e77c837155n, 0x3ffe, 0xcb720dcef906e2aan],
  [0x3ffe, 0xe00000000000582cn, 0x3fff, 0xeac0c6e7dd24713an, 0x3ffe, 0xd5818dcfba48e274n],
  [0x3ffe, 0xe800000000001a5dn, 0x3fff, 0xefe4b99bdcdb06ebn, 0x3ffe, 0xdfc97337b9b60dd6n],
  [0x3ffe, 0xefffffffffffc1efn, 0x3fff, 0xf5257d152486a2fan, 0x3ffe, 0xea4afa2a490d45f4n],
  [0x3ffe, 0xf800000000001069n, 0x3fff, 0xfa83b2db722a0e5cn, 0x3ffe, 0xf50765b6e4541cb8n],
  [0x3fff, 0x8000000000000000n, 0x4000, 0x8000000000000000n, 0x3fff, 0x8000000000000000n],
];
const F2XM1_TABLE = F2XM1_TABLE_RAW.map(([a, b, c, d, e, f]) => ({ t: X(a, b), exp2: X(c, d), exp2m1: X(e, f) }));

/** Runs fn at extended precision in round-to-nearest, as the algorithms' internal steps are. */
function internal<T>(s: FloatStatus, fn: () => T): T {
  const round = s.round;
  const precision = s.precision;
  s.round = Round.Nearest;
  s.precision = 64;
  try {
    return fn();
  } finally {
    s.round = round;
    s.precision = precision;
  }
}

/** F2XM1: 2^x - 1 for -1 <= x <= 1 (IE and the default NaN outside). */
export function f2xm1(a: F80, s: FloatStatus): F80 {
  let sig = a.m;
  let exp = expOf(a);
  const sign = signOf(a);
  if (isInvalidEncoding(a)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isAnyNaN(a)) {
    if (!isSignalingNaN(a)) return a;
    s.flags |= FLAG_IE;
    return silenceNaN(a);
  }
  if (exp > 0x3fff || (exp === 0x3fff && sig !== BIT63)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (exp === 0x3fff) return sign ? X(0xbffe, BIT63) : a;
  if (exp < 0x3fb0) {
    if (isZero(a)) return a;
    // Tiny: x * ln(2) with a 128-bit ln(2) is close enough; the result is inexact.
    if (exp === 0) ({ exp, sig } = normalizeSubnormal(sig));
    const [s0, s1] = mul128By64To192(LN2_HI, LN2_LO, sig);
    return roundPack(sign, exp, s0, s1 | 1n, s);
  }
  const round = s.round;
  const precision = s.precision;
  s.round = Round.Nearest;
  s.precision = 64;
  // The nearest multiple of 1/32, t, and y = x - t: 2^x - 1 = 2^t * (2^y - 1) + (2^t - 1).
  const n = 32 + Number(toInt(scalbn(a, 5, s), 32, s.round, s));
  const entry = F2XM1_TABLE[n];
  const y = sub(a, entry.t, s);
  let result: F80;
  if (isZero(y)) {
    // QEMU 7.2 returns t here (its comment says 2^t - 1), with only PE raised; so do we.
    result = entry.t;
    s.flags = FLAG_PE;
    s.round = round;
  } else {
    let accum = mul(F2XM1_C[6], y, s);
    for (let i = 5; i >= 0; i--) {
      accum = add(F2XM1_C[i], accum, s);
      accum = mul(accum, y, s);
    }
    accum = add(F2XM1_C0_LOW, accum, s);
    // c0 + accum, then times y: an approximation of 2^y - 1 in 128-bit fixed point.
    let aexp = expOf(F2XM1_C0);
    let asign = signOf(F2XM1_C0);
    let [a0, a1] = shift128RightJamming(accum.m, 0n, aexp - expOf(accum));
    [a0, a1] = asign === signOf(accum) ? add128(F2XM1_C0.m, 0n, a0, a1) : sub128(F2XM1_C0.m, 0n, a0, a1);
    [a0, a1] = mul128By64To192(a0, a1, y.m);
    aexp += expOf(y) - 0x3ffe;
    asign = asign !== signOf(y);
    if (n !== 32) {
      [a0, a1] = mul128By64To192(a0, a1, entry.exp2.m);
      aexp += expOf(entry.exp2) - 0x3ffe;
      const bexp = expOf(entry.exp2m1);
      let b0 = entry.exp2m1.m;
      let b1 = 0n;
      if (bexp < aexp) [b0, b1] = shift128RightJamming(b0, b1, aexp - bexp);
      else if (aexp < bexp) {
        [a0, a1] = shift128RightJamming(a0, a1, bexp - aexp);
        aexp = bexp;
      }
      const bsign = signOf(entry.exp2m1);
      if (asign === bsign) {
        [a0, a1] = shift128RightJamming(a0, a1, 1);
        [b0, b1] = shift128RightJamming(b0, b1, 1);
        aexp++;
        [a0, a1] = add128(a0, a1, b0, b1);
      } else {
        [a0, a1] = sub128(b0, b1, a0, a1);
        asign = bsign;
      }
    }
    s.round = round;
    result = roundPack(asign, aexp, a0, a1 | 1n, s);
  }
  s.precision = precision;
  return result;
}

/** arctan on [-1/16, 1/16], odd powers: coefficients 0 (exactly 1) to 6. */
const FPATAN_C0 = X(0x3fff, 0x8000000000000000n);
const FPATAN_C = [
  X(0xbffd, 0xaaaaaaaaaaaaaa43n), X(0x3ffc, 0xccccccccccbfe4f8n), X(0xbffc, 0x92492491fbab2e66n),
  X(0x3ffb, 0xe38e372881ea1e0bn), X(0xbffb, 0xba2c0104bbdd0615n), X(0x3ffb, 0x9baf7ebf898b42efn),
];
/** arctan(n/8), n = 0..8, as high and low parts. */
const FPATAN_TABLE: { hi: F80; lo: F80 }[] = [
  [0x0000, 0x0000000000000000n, 0x0000, 0x0000000000000000n],
  [0x3ffb, 0xfeadd4d5617b6e33n, 0xbfb9, 0xdda19d8305ddc420n],
  [0x3ffc, 0xfadbafc96406eb15n, 0x3fbb, 0xdb8f3debef442fccn],
  [0x3ffd, 0xb7b0ca0f26f78474n, 0xbfbc, 0xeab9bdba460376fan],
  [0x3ffd, 0xed63382b0dda7b45n, 0x3fbc, 0xdfc88bd978751a06n],
  [0x3ffe, 0x8f005d5ef7f59f9bn, 0x3fbd, 0xb906bc2ccb886e90n],
  [0x3ffe, 0xa4bc7d1934f70924n, 0x3fbb, 0xcd43f9522bed64f8n],
  [0x3ffe, 0xb8053e2bc2319e74n, 0xbfbc, 0xd3496ab7bd6eef0cn],
  [0x3ffe, 0xc90fdaa22168c235n, 0xbfbc, 0xece675d1fc8f8cbcn],
].map(([a, b, c, d]) => ({ hi: X(a as number, b as bigint), lo: X(c as number, d as bigint) }));

/** FPATAN: arctan(st1 / st0) with the quadrant from both signs. */
export function fpatan(st0: F80, st1: F80, s: FloatStatus): F80 {
  let sig0 = st0.m;
  let exp0 = expOf(st0);
  const sign0 = signOf(st0);
  let sig1 = st1.m;
  let exp1 = expOf(st1);
  const sign1 = signOf(st1);
  if (isSignalingNaN(st0)) {
    s.flags |= FLAG_IE;
    return silenceNaN(st0);
  }
  if (isSignalingNaN(st1)) {
    s.flags |= FLAG_IE;
    return silenceNaN(st1);
  }
  if (isInvalidEncoding(st0) || isInvalidEncoding(st1)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isAnyNaN(st0)) return st0;
  if (isAnyNaN(st1)) return st1;
  if (isZero(st1) && !sign0) return st1;
  if (((isInf(st0) && !isInf(st1)) || exp0 - exp1 >= 80) && !sign0) {
    // st1 / st0 is right up to rounding; a finite nonzero exact quotient is still inexact, and
    // the true value lies slightly closer to zero.
    const precision = s.precision;
    s.precision = 64;
    const before = s.flags;
    s.flags = 0;
    let r = div(st1, st0, s);
    const inexact = (s.flags & FLAG_PE) !== 0;
    s.flags |= before;
    s.precision = precision;
    if (!isZero(r) && !inexact) {
      let sig = r.m;
      let exp = expOf(r);
      if (exp === 0) ({ exp, sig } = normalizeSubnormal(sig));
      r = roundPack(signOf(r), exp, sig - 1n, M64, s);
    }
    return r;
  }
  let rexp: number;
  let r0: bigint;
  let r1: bigint;
  if (isZero(st1)) {
    [rexp, r0, r1] = [0x4000, PI_HI, PI_LO];
  } else if (isInf(st1)) {
    if (isInf(st0)) [rexp, r0, r1] = sign0 ? [0x4000, PI34_HI, PI34_LO] : [0x3ffe, PI_HI, PI_LO];
    else [rexp, r0, r1] = [0x3fff, PI_HI, PI_LO];
  } else if (isZero(st0) || exp1 - exp0 >= 80) {
    [rexp, r0, r1] = [0x3fff, PI_HI, PI_LO];
  } else if (isInf(st0) || exp0 - exp1 >= 80) {
    [rexp, r0, r1] = [0x4000, PI_HI, PI_LO];
  } else {
    [rexp, r0, r1] = internal(s, () => {
      if (exp0 === 0) ({ exp: exp0, sig: sig0 } = normalizeSubnormal(sig0));
      if (exp1 === 0) ({ exp: exp1, sig: sig1 } = normalizeSubnormal(sig1));
      // x = num / den in (0, 1]; the result is adj +- arctan(x).
      let numExp: number, numSig: bigint, denExp: number, denSig: bigint;
      let adjExp: number, adj0: bigint, adj1: bigint, adjSub: boolean;
      if (exp0 > exp1 || (exp0 === exp1 && sig0 >= sig1)) {
        [numExp, numSig, denExp, denSig] = [exp1, sig1, exp0, sig0];
        if (sign0) [adjExp, adj0, adj1, adjSub] = [0x4000, PI_HI, PI_LO, true];
        else [adjExp, adj0, adj1, adjSub] = [0, 0n, 0n, false];
      } else {
        [numExp, numSig, denExp, denSig] = [exp0, sig0, exp1, sig1];
        [adjExp, adj0, adj1, adjSub] = [0x3fff, PI_HI, PI_LO, !sign0];
      }
      let xexp = numExp - denExp + 0x3ffe;
      let rem0 = numSig;
      let rem1 = 0n;
      if (denSig <= rem0) {
        [rem0, rem1] = shift128Right(rem0, rem1, 1);
        xexp++;
      }
      let x0 = estimateDiv128To64(rem0, rem1, denSig);
      let [m0, m1] = mul64To128(denSig, x0);
      [rem0, rem1] = sub128(rem0, rem1, m0, m1);
      while (isNeg64(rem0)) {
        x0 = w64(x0 - 1n);
        [rem0, rem1] = add128(rem0, rem1, 0n, denSig);
      }
      const x1 = estimateDiv128To64(rem1, 0n, denSig);
      // x = t + y with t = n/8 the nearest multiple of 1/8.
      const x8 = roundPack(false, xexp + 3, x0, x1, s);
      const n = Number(toInt(x8, 32, s.round, s));
      let ysign: boolean, yexp: number, y0: bigint, y1: bigint, texp: number, tsig: bigint;
      if (n === 0) {
        [ysign, yexp, y0, y1, texp, tsig] = [false, xexp, x0, x1, 0, 0n];
      } else {
        let shift = Math.clz32(n) + 32;
        texp = 0x403b - shift;
        tsig = w64(BigInt(n) << BigInt(shift));
        if (texp === xexp) {
          [y0, y1] = sub128(x0, x1, tsig, 0n);
          if (!isNeg64(y0)) {
            ysign = false;
            if (y0 === 0n) {
              if (y1 === 0n) yexp = 0;
              else {
                shift = clz64(y1) + 64;
                yexp = xexp - shift;
                [y0, y1] = shift128Left(y0, y1, shift);
              }
            } else {
              shift = clz64(y0);
              yexp = xexp - shift;
              [y0, y1] = shift128Left(y0, y1, shift);
            }
          } else {
            ysign = true;
            [y0, y1] = sub128(0n, 0n, y0, y1);
            shift = y0 === 0n ? clz64(y1) + 64 : clz64(y0);
            yexp = xexp - shift;
            [y0, y1] = shift128Left(y0, y1, shift);
          }
        } else {
          const [u0, u1] = shift128RightJamming(x0, x1, texp - xexp);
          ysign = true;
          [y0, y1] = sub128(tsig, 0n, u0, u1);
          shift = y0 === 0n ? clz64(y1) + 64 : clz64(y0);
          yexp = texp - shift;
          [y0, y1] = shift128Left(y0, y1, shift);
        }
      }
      // z = y / (1 + t*x): arctan(x) = arctan(t) + arctan(z).
      const zsign = ysign;
      let zexp: number, z0: bigint, z1: bigint;
      if (texp === 0 || yexp === 0) {
        [zexp, z0, z1] = [yexp, y0, y1];
      } else {
        const dexp = texp + xexp - 0x3ffe;
        let [d0, d1] = mul128By64To192(x0, x1, tsig);
        [d0, d1] = shift128RightJamming(d0, d1, 0x3fff - dexp);
        d0 |= BIT63;
        zexp = yexp - 1;
        let r2: bigint;
        [rem0, rem1, r2] = [y0, y1, 0n];
        if (d0 <= rem0) {
          [rem0, rem1] = shift128Right(rem0, rem1, 1);
          zexp++;
        }
        z0 = estimateDiv128To64(rem0, rem1, d0);
        const [p0, p1, p2] = mul128By64To192(d0, d1, z0);
        [rem0, rem1, r2] = sub192(rem0, rem1, r2, p0, p1, p2);
        while (isNeg64(rem0)) {
          z0 = w64(z0 - 1n);
          [rem0, rem1, r2] = add192(rem0, rem1, r2, 0n, d0, d1);
        }
        z1 = estimateDiv128To64(rem1, r2, d0);
      }
      let azexp: number, az0: bigint, az1: bigint;
      if (zexp === 0) {
        [azexp, az0, az1] = [0, 0n, 0n];
      } else {
        const [q0, q1] = mul128To256(z0, z1, z0, z1);
        const z2 = roundPack(false, zexp + zexp - 0x3ffe, q0, q1, s);
        let accum = mul(FPATAN_C[5], z2, s);
        for (let i = 4; i >= 0; i--) {
          accum = add(FPATAN_C[i], accum, s);
          accum = mul(accum, z2, s);
        }
        // z * (1 + accum), accum negative and small.
        const aexp = expOf(FPATAN_C0);
        let [a0, a1] = shift128RightJamming(accum.m, 0n, aexp - expOf(accum));
        [a0, a1] = sub128(FPATAN_C0.m, 0n, a0, a1);
        azexp = aexp + zexp - 0x3ffe;
        [az0, az1] = mul128To256(a0, a1, z0, z1);
      }
      let axexp: number, ax0: bigint, ax1: bigint;
      if (texp === 0) {
        [axexp, ax0, ax1] = [azexp, az0, az1];
      } else {
        const { hi, lo } = FPATAN_TABLE[n];
        axexp = expOf(hi);
        const [l0, l1] = shift128RightJamming(lo.m, 0n, axexp - expOf(lo));
        [ax0, ax1] = signOf(lo) ? sub128(hi.m, 0n, l0, l1) : add128(hi.m, 0n, l0, l1);
        if (azexp >= axexp) {
          [ax0, ax1] = shift128RightJamming(ax0, ax1, azexp - axexp + 1);
          axexp = azexp + 1;
          [az0, az1] = shift128RightJamming(az0, az1, 1);
        } else {
          [ax0, ax1] = shift128RightJamming(ax0, ax1, 1);
          [az0, az1] = shift128RightJamming(az0, az1, axexp - azexp + 1);
          axexp++;
        }
        [ax0, ax1] = zsign ? sub128(ax0, ax1, az0, az1) : add128(ax0, ax1, az0, az1);
      }
      if (adjExp === 0) return [axexp, ax0, ax1] as [number, bigint, bigint];
      let e: number;
      if (adjExp >= axexp) {
        [ax0, ax1] = shift128RightJamming(ax0, ax1, adjExp - axexp + 1);
        e = adjExp + 1;
        [adj0, adj1] = shift128RightJamming(adj0, adj1, 1);
      } else {
        [ax0, ax1] = shift128RightJamming(ax0, ax1, 1);
        [adj0, adj1] = shift128RightJamming(adj0, adj1, axexp - adjExp + 1);
        e = axexp + 1;
      }
      const [q0, q1] = adjSub ? sub128(adj0, adj1, ax0, ax1) : add128(adj0, adj1, ax0, ax1);
      return [e, q0, q1] as [number, bigint, bigint];
    });
  }
  // The result is inexact.
  return roundPack(sign1, rexp, r0, r1 | 1n, s);
}

/** log2((1+x)/(1-x)) on [2*sqrt(2)-3, 3-2*sqrt(2)], odd powers: coefficients 0 (with a low part) to 9. */
const FYL2X_C0 = X(0x4000, 0xb8aa3b295c17f0bcn);
const FYL2X_C0_LOW = X(0xbfbf, 0x834972fe2d7bab1bn);
const FYL2X_C = [
  X(0x3ffe, 0xf6384ee1d01febb8n), X(0x3ffe, 0x93bb62877cdfa2e3n), X(0x3ffd, 0xd30bb153d808f269n),
  X(0x3ffd, 0xa42589eaf451499en), X(0x3ffd, 0x864d42c0f8f17517n), X(0x3ffc, 0xe3476578adf26272n),
  X(0x3ffc, 0xc506c5f874e6d80fn), X(0x3ffc, 0xac5cf50cc57d6372n), X(0x3ffc, 0xb1ed0066d971a103n),
];

/**
 * log2(1 + arg) for 1 + arg in [sqrt(2)/2, sqrt(2)], arg not (nearly) zero, in 128-bit fixed
 * point; the caller has set round-to-nearest and extended precision.
 */
function log2Common(arg: F80, s: FloatStatus): { exp: number; sig0: bigint; sig1: bigint } {
  const sig = arg.m;
  const exp = expOf(arg);
  // t = arg / (2 + arg) with extra precision.
  let dexp: number;
  let d0: bigint, d1: bigint;
  if (signOf(arg)) {
    dexp = 0x3fff;
    [d0, d1] = shift128RightJamming(sig, 0n, dexp - exp);
    [d0, d1] = sub128(0n, 0n, d0, d1);
  } else {
    dexp = 0x4000;
    [d0, d1] = shift128RightJamming(sig, 0n, dexp - exp);
    d0 |= BIT63;
  }
  let texp = exp - dexp + 0x3ffe;
  let [r0, r1, r2] = [sig, 0n, 0n];
  if (d0 <= r0) {
    [r0, r1] = shift128Right(r0, r1, 1);
    texp++;
  }
  let t0 = estimateDiv128To64(r0, r1, d0);
  const [m0, m1, m2] = mul128By64To192(d0, d1, t0);
  [r0, r1, r2] = sub192(r0, r1, r2, m0, m1, m2);
  while (isNeg64(r0)) {
    t0 = w64(t0 - 1n);
    [r0, r1, r2] = add192(r0, r1, r2, 0n, d0, d1);
  }
  const t1 = estimateDiv128To64(r1, r2, d0);
  const [q0, q1] = mul128To256(t0, t1, t0, t1);
  const t2 = roundPack(false, texp + texp - 0x3ffe, q0, q1, s);
  let accum = mul(FYL2X_C[8], t2, s);
  for (let i = 7; i >= 0; i--) {
    accum = add(FYL2X_C[i], accum, s);
    accum = mul(accum, t2, s);
  }
  accum = add(FYL2X_C0_LOW, accum, s);
  // (c0 + accum) * t
  let aexp = expOf(FYL2X_C0);
  let [a0, a1] = shift128RightJamming(accum.m, 0n, aexp - expOf(accum));
  [a0, a1] = signOf(FYL2X_C0) === signOf(accum) ? add128(FYL2X_C0.m, 0n, a0, a1) : sub128(FYL2X_C0.m, 0n, a0, a1);
  [a0, a1] = mul128To256(a0, a1, t0, t1);
  aexp += texp - 0x3ffe;
  return { exp: aexp, sig0: a0, sig1: a1 };
}

/** The NaN and invalid-encoding cases FYL2X and FYL2XP1 share; null when both are numbers. */
function twoOperandNaN(st0: F80, st1: F80, s: FloatStatus): F80 | null {
  if (isSignalingNaN(st0)) {
    s.flags |= FLAG_IE;
    return silenceNaN(st0);
  }
  if (isSignalingNaN(st1)) {
    s.flags |= FLAG_IE;
    return silenceNaN(st1);
  }
  if (isInvalidEncoding(st0) || isInvalidEncoding(st1)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isAnyNaN(st0)) return st0;
  if (isAnyNaN(st1)) return st1;
  return null;
}

/** FYL2XP1: st1 * log2(st0 + 1), |st0| within about 1 - sqrt(2)/2 (IE and the default NaN outside). */
export function fyl2xp1(st0: F80, st1: F80, s: FloatStatus): F80 {
  const nan = twoOperandNaN(st0, st1, s);
  if (nan) return nan;
  let sig0 = st0.m;
  let exp0 = expOf(st0);
  const sign0 = signOf(st0);
  let sig1 = st1.m;
  let exp1 = expOf(st1);
  const sign1 = signOf(st1);
  if (exp0 > 0x3ffd || (exp0 === 0x3ffd && sig0 > (sign0 ? 0x95f619980c4336f7n : 0xd413cccfe7799211n))) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isZero(st0) || isZero(st1) || exp1 === 0x7fff) return mul(st0, st1, s);
  if (exp0 < 0x3fb0) {
    // Tiny: st0 * st1 * log2(e) with a 128-bit log2(e).
    if (exp0 === 0) ({ exp: exp0, sig: sig0 } = normalizeSubnormal(sig0));
    if (exp1 === 0) ({ exp: exp1, sig: sig1 } = normalizeSubnormal(sig1));
    let [a0, a1] = mul128By64To192(LOG2E_HI, LOG2E_LO, sig0);
    let exp = exp0 + 1;
    [a0, a1] = mul128By64To192(a0, a1, sig1);
    exp += exp1 - 0x3ffe;
    return roundPack(sign0 !== sign1, exp, a0, a1 | 1n, s);
  }
  const round = s.round;
  const precision = s.precision;
  s.round = Round.Nearest;
  s.precision = 64;
  let { exp: aexp, sig0: a0, sig1: a1 } = log2Common(st0, s);
  if (exp1 === 0) ({ exp: exp1, sig: sig1 } = normalizeSubnormal(sig1));
  [a0, a1] = mul128By64To192(a0, a1, sig1);
  aexp += exp1 - 0x3ffe;
  s.round = round;
  const r = roundPack(sign0 !== sign1, aexp, a0, a1 | 1n, s);
  s.precision = precision;
  return r;
}

/** FYL2X: st1 * log2(st0). */
export function fyl2x(st0: F80, st1: F80, s: FloatStatus): F80 {
  const nan = twoOperandNaN(st0, st1, s);
  if (nan) return nan;
  let sig0 = st0.m;
  let exp0 = expOf(st0);
  const sign0 = signOf(st0);
  let sig1 = st1.m;
  let exp1 = expOf(st1);
  const sign1 = signOf(st1);
  if (sign0 && !isZero(st0)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isInf(st1)) {
    const cmp = compare(st0, F80_ONE, s, false);
    if (cmp === Relation.Less) return chs(st1);
    if (cmp === Relation.Greater) return st1;
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isInf(st0)) {
    if (isZero(st1)) {
      s.flags |= FLAG_IE;
      return F80_DEFAULT_NAN;
    }
    return sign1 ? chs(st0) : st0;
  }
  if (isZero(st0)) {
    if (isZero(st1)) {
      s.flags |= FLAG_IE;
      return F80_DEFAULT_NAN;
    }
    s.flags |= FLAG_ZE;
    return X(sign1 ? 0x7fff : 0xffff, BIT63);
  }
  if (isZero(st1)) return compare(st0, F80_ONE, s, false) === Relation.Less ? chs(st1) : st1;
  if (compare(st0, F80_ONE, s, false) === Relation.Equal) return sign1 ? chs(F80_ZERO) : F80_ZERO;
  const round = s.round;
  const precision = s.precision;
  s.round = Round.Nearest;
  s.precision = 64;
  if (exp0 === 0) ({ exp: exp0, sig: sig0 } = normalizeSubnormal(sig0));
  if (exp1 === 0) ({ exp: exp1, sig: sig1 } = normalizeSubnormal(sig1));
  // st0 = 2^k * m with m in [sqrt(2)/2, sqrt(2)]: log2(st0) = k + log2(1 + (m - 1)).
  let intExp = exp0 - 0x3fff;
  if (sig0 > 0xb504f333f9de6484n) intExp++;
  const m1 = sub(scalbn(st0, -intExp, s), F80_ONE, s);
  let r: F80;
  if (isZero(m1)) {
    s.round = round;
    r = mul(fromInt(BigInt(intExp), s), st1, s);
  } else {
    let asign = signOf(m1);
    let { exp: aexp, sig0: a0, sig1: a1 } = log2Common(m1, s);
    if (intExp !== 0) {
      const isign = intExp < 0;
      const mag = Math.abs(intExp);
      const shift = Math.clz32(mag) + 32;
      const isig = w64(BigInt(mag) << BigInt(shift));
      const iexp = 0x403e - shift;
      [a0, a1] = shift128RightJamming(a0, a1, iexp - aexp);
      [a0, a1] = asign === isign ? add128(isig, 0n, a0, a1) : sub128(isig, 0n, a0, a1);
      aexp = iexp;
      asign = isign;
    }
    [a0, a1] = mul128By64To192(a0, a1, sig1);
    aexp += exp1 - 0x3ffe;
    s.round = round;
    r = roundPack(asign !== sign1, aexp, a0, a1 | 1n, s);
  }
  s.precision = precision;
  return r;
}

// ---- the host libm's sin, cos and tan -----------------------------------------------------------
//
// QEMU 7.2 computes FSIN, FCOS, FSINCOS and FPTAN by converting ST0 to a double and calling the
// host C library. We return the correctly rounded double: an exact reduction by pi/2 with a
// 400-bit pi (enough for every double up to 2^63, whose distance to a multiple of pi/2 is never
// below 2^-62), Taylor series in 400-bit fixed point, one round-to-nearest-even. glibc 2.36 is
// not correctly rounded: for about 0.5% of arguments (results within ~0.002 ulp of a halfway
// point) its result is the other neighbour. Matching those would mean reproducing glibc's
// table-driven code including the compiler's FMA contractions. NaNs pass through as the C
// code's x/x does; infinities never get here (they fail the |x| <= 2^63 test).

const TRIG_FRAC = 400;
let piFixedCache: bigint | null = null;

/** pi * 2^TRIG_FRAC, by Machin's formula with guard bits. */
function piFixed(): bigint {
  if (piFixedCache !== null) return piFixedCache;
  const bits = BigInt(TRIG_FRAC + 64);
  const atanInv = (x: bigint): bigint => {
    const x2 = x * x;
    let term = (1n << bits) / x;
    let sum = 0n;
    for (let k = 1n; term !== 0n; k += 2n) {
      sum += (k & 2n ? -term : term) / k;
      term /= x2;
    }
    return sum;
  };
  piFixedCache = (16n * atanInv(5n) - 4n * atanInv(239n)) >> 64n;
  return piFixedCache;
}

/** sin and cos of r * 2^-TRIG_FRAC, |r| <= pi/4, in the same fixed point. */
function sinCosFixed(r: bigint): { sin: bigint; cos: bigint } {
  const fb = BigInt(TRIG_FRAC);
  let sin = 0n;
  let cos = 0n;
  let term = 1n << fb; // r^n / n!
  for (let n = 0; term !== 0n; n++) {
    switch (n & 3) {
      case 0: cos += term; break;
      case 1: sin += term; break;
      case 2: cos -= term; break;
      default: sin -= term; break;
    }
    term = ((term * r) >> fb) / BigInt(n + 1);
  }
  return { sin, cos };
}

/** v * 2^-frac (v nonzero, result in the normal range) correctly rounded to a binary64 bit pattern. */
function fixedToF64(v: bigint, frac: number): bigint {
  const sign = v < 0n ? 1n << 63n : 0n;
  let mag = v < 0n ? -v : v;
  const len = bitLength(mag);
  let e = len - 1 - frac;
  const drop = len - 53;
  let mant: bigint;
  if (drop > 0) {
    const db = BigInt(drop);
    const rest = mag & ((1n << db) - 1n);
    const half = 1n << (db - 1n);
    mant = mag >> db;
    if (rest > half || (rest === half && (mant & 1n) === 1n)) mant += 1n;
    if (mant >> 53n) {
      mant >>= 1n;
      e++;
    }
  } else {
    mant = mag << BigInt(-drop);
  }
  mag = mant;
  return sign | (BigInt(e + 1023) << 52n) | (mag & ((1n << 52n) - 1n));
}

const enum Trig {
  Sin,
  Cos,
  Tan,
}

function libmTrig(bits: bigint, fn: Trig): bigint {
  const e = Number((bits >> 52n) & 0x7ffn);
  const f = bits & ((1n << 52n) - 1n);
  const neg = bits >> 63n === 1n;
  if (e === 0x7ff) return f !== 0n ? bits | (1n << 51n) : 0xfff8000000000000n;
  if (e === 0 && f === 0n) return fn === Trig.Cos ? 0x3ff0000000000000n : bits;
  // Tiny arguments: the correctly rounded result is x itself (or 1 for cos).
  if (e < 1023 - 28) return fn === Trig.Cos ? 0x3ff0000000000000n : bits;
  const mant = f | (1n << 52n);
  const shift = e - 1075 + TRIG_FRAC;
  let x = shift >= 0 ? mant << BigInt(shift) : mant >> BigInt(-shift);
  if (neg) x = -x;
  // x = k * pi/2 + r, |r| <= pi/4.
  const halfPi = piFixed() >> 1n;
  let k = (2n * x + halfPi) / (2n * halfPi);
  if (2n * x + halfPi < 0n && (2n * x + halfPi) % (2n * halfPi) !== 0n) k -= 1n;
  const r = x - k * halfPi;
  const { sin, cos } = sinCosFixed(r);
  const q = Number(((k % 4n) + 4n) % 4n);
  let v: bigint;
  if (fn === Trig.Tan) {
    v = q & 1 ? -((cos << BigInt(TRIG_FRAC)) / sin) : (sin << BigInt(TRIG_FRAC)) / cos;
  } else {
    const pick = fn === Trig.Sin ? [sin, cos, -sin, -cos] : [cos, -sin, -cos, sin];
    v = pick[q];
  }
  return fixedToF64(v, TRIG_FRAC);
}

/** sin, cos and tan of a binary64 bit pattern, as the host C library computes them. */
export const libmSin = (bits: bigint): bigint => libmTrig(bits, Trig.Sin);
export const libmCos = (bits: bigint): bigint => libmTrig(bits, Trig.Cos);
export const libmTan = (bits: bigint): bigint => libmTrig(bits, Trig.Tan);
