/**
 * IEEE 754 binary32 / binary64 arithmetic with RISC-V semantics.
 *
 * - Values are bit patterns: f32 is an int32, f64 is a (lo, hi) pair of int32
 *   halves; 64-bit results return `lo` and leave `hi` in `fpu.hi`.  64-bit
 *   integers are (lo, hi) pairs too.
 * - Rounding modes use the RISC-V `rm` encoding (RNE=0 RTZ=1 RDN=2 RUP=3 RMM=4).
 * - Exception flags are OR-ed into `fpu.flags` in RISC-V fflags order
 *   (NX=1 UF=2 OF=4 DZ=8 NV=16).  Tininess is detected after rounding; UF is
 *   raised only when the result is tiny and inexact.
 * - Every NaN result is the canonical quiet NaN; signalling NaN inputs raise NV.
 *
 * Structure:
 * - A general, format-parametric path on BigInt ("g*" functions): unpack to
 *   sign / integer significand / exponent, compute the exact result (or an
 *   exact quotient/root with a sticky bit), then one shared `roundPack`.
 *   It is exported as `general` so tests can check the fast paths against it.
 * - f32 arithmetic in every rounding mode runs on native doubles: the double
 *   result is either exact or "round-to-odd equivalent" (see roundToF32), so a
 *   single careful rounding of the double to binary32 gives the IEEE result and
 *   flags.
 * - f64 add/sub/mul/div/sqrt/fma have fast paths on native doubles in every
 *   rounding mode: the RN result plus an error-free transformation (TwoSum,
 *   Dekker product, exact division/sqrt remainder, Boldo-Melquiond fma with a
 *   round-to-odd middle term) gives inexactness and the sign of the error, so
 *   directed modes move the RN result by one ulp and RMM detects exact ties.
 *   They are restricted to exponent ranges where those transformations are
 *   exact and the result can neither overflow nor be tiny (roughly: operands
 *   and result in [2^-960, 2^990], normal operands for mul/div/fma); anything
 *   else (NaN, inf, zero where not trivial, subnormal, near-overflow) takes the
 *   general path.
 * - Conversions run on native doubles in every rounding mode.
 */

export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;

export const FLAG_NX = 1;
export const FLAG_UF = 2;
export const FLAG_OF = 4;
export const FLAG_DZ = 8;
export const FLAG_NV = 16;

const NX = 1;
const UF = 2;
const OF = 4;
const DZ = 8;
const NV = 16;

/** Accrued flags (OR-ed, never cleared here) and the high half of 64-bit results. */
export const fpu = { flags: 0, hi: 0 };

export const F32_CANONICAL_NAN = 0x7fc00000;
export const F64_CANONICAL_NAN_HI = 0x7ff80000;

// ---------------------------------------------------------------------------
// Scratch views
// ---------------------------------------------------------------------------

const scratch = new ArrayBuffer(8);
const F64 = new Float64Array(scratch);
const F32 = new Float32Array(scratch);
const I32 = new Int32Array(scratch);

F64[0] = 1;
if (I32[1] !== 0x3ff00000) throw new Error('softfloat: little-endian host required');

/** POW2[k + 1074] = 2^k for k in [-1074, 1023]. */
const POW2 = new Float64Array(2098);
for (let k = -1074; k <= 1023; k++) {
  if (k >= -1022) {
    I32[0] = 0;
    I32[1] = (k + 1023) << 20;
  } else {
    const bit = k + 1074; // 0..51
    I32[0] = bit < 32 ? 1 << bit : 0;
    I32[1] = bit >= 32 ? 1 << (bit - 32) : 0;
  }
  POW2[k + 1074] = F64[0];
}
function p2(k: number): number {
  return POW2[k + 1074];
}

const TWO32 = 4294967296;
const TWO31 = 2147483648;
const TWO63 = 9223372036854775808;
const TWO64 = 18446744073709551616;
const SPLIT = 134217729; // 2^27 + 1 (Veltkamp)
const F32_MIN_NORMAL = p2(-126);
/** Below this magnitude a value rounds (RNE/RMM, unbounded exponent) to < 2^-126. */
const F32_TINY_NEAREST = p2(-126) - p2(-151);
const F32_OVERFLOW = p2(128);
const P2_M160 = p2(-160);
const P2_M960 = p2(-960);
const P2_990 = p2(990);

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/** Increment decision for a truncated magnitude `t` with fraction `fr` in [0,1). */
function roundInc(t: number, fr: number, neg: boolean, rm: number): number {
  if (fr === 0) return 0;
  switch (rm) {
    case RNE:
      return fr > 0.5 || (fr === 0.5 && t % 2 !== 0) ? 1 : 0;
    case RTZ:
      return 0;
    case RDN:
      return neg ? 1 : 0;
    case RUP:
      return neg ? 0 : 1;
    default:
      return fr >= 0.5 ? 1 : 0;
  }
}

/** Round a double to an integral double in mode rm (exact operation). */
function roundIntegral(x: number, rm: number): number {
  const neg = x < 0;
  const ax = neg ? -x : x;
  if (!(ax < 4503599627370496)) return x; // >= 2^52: already integral (or NaN/inf)
  const t = Math.floor(ax);
  const r = t + roundInc(t, ax - t, neg, rm);
  return neg ? -r : r;
}

/**
 * Given s = RN(exact) and err = exact - s (nonzero), return the 53-bit
 * round-to-odd value of exact: truncate toward zero and set the last bit.
 */
function roundToOdd(s: number, err: number): number {
  F64[0] = s;
  let lo = I32[0];
  if ((lo & 1) === 0) {
    if (err > 0 === s > 0) {
      // |exact| > |s|: the odd value just above |s|
      I32[0] = lo + 1;
    } else {
      // |exact| < |s|: the value just below |s| (odd since s is even)
      if (lo === 0) I32[1] = I32[1] - 1;
      I32[0] = lo - 1;
    }
    return F64[0];
  }
  return s;
}

function overflowIsInf(neg: boolean, rm: number): boolean {
  return rm === RNE || rm === RMM || (rm === RDN && neg) || (rm === RUP && !neg);
}

/**
 * Round a finite nonzero double to binary32 in mode rm and raise the flags.
 *
 * Precondition ("RO property"): rounding `d` to any precision of at most 25
 * bits (in any mode, including the subnormal grid and the unbounded-exponent
 * rounding used for tininess) gives the same result and inexactness as
 * rounding the exact value.  This holds when d is exact, when d is the 53-bit
 * round-to-odd of the exact value, and when d = RN(a/b) or RN(sqrt(a)) for
 * binary32 a, b (the exact quotient / root is at least 2^-49 relative away
 * from every 25-bit number unless it is one).
 */
function roundToF32(d: number, rm: number): number {
  if (rm === RNE) {
    const r = Math.fround(d);
    if (r !== d) {
      const m = d < 0 ? -d : d;
      if (m < F32_TINY_NEAREST) fpu.flags |= NX | UF;
      else if (r === Infinity || r === -Infinity) fpu.flags |= NX | OF;
      else fpu.flags |= NX;
    }
    F32[0] = r;
    return I32[0];
  }
  return roundToF32Dir(d, rm);
}

function roundToF32Dir(d: number, rm: number): number {
  const neg = d < 0;
  let m = neg ? -d : d;
  if (m < P2_M160) m = P2_M160; // rounds like any value in (0, 2^-150)
  F64[0] = m;
  const E = (I32[1] >>> 20) - 1023;
  let lsb = E - 23;
  if (lsb < -149) lsb = -149;
  const q = m * p2(-lsb);
  const t = Math.floor(q);
  const fr = q - t;
  let r = (t + roundInc(t, fr, neg, rm)) * p2(lsb);
  let fl = 0;
  if (fr !== 0) {
    fl = NX;
    if (E < -126) {
      let tiny = true;
      if (E === -127) {
        const q2 = m * p2(150);
        const t2 = Math.floor(q2);
        tiny = t2 + roundInc(t2, q2 - t2, neg, rm) < 16777216;
      }
      if (tiny) fl |= UF;
    }
  }
  if (r >= F32_OVERFLOW) {
    fl |= OF | NX;
    fpu.flags |= fl;
    if (overflowIsInf(neg, rm)) return neg ? 0xff800000 | 0 : 0x7f800000;
    return neg ? 0xff7fffff | 0 : 0x7f7fffff;
  }
  fpu.flags |= fl;
  F32[0] = neg ? -r : r;
  return I32[0];
}

function rdF32(a: number): number {
  I32[0] = a;
  return F32[0];
}

function rdF64(lo: number, hi: number): number {
  I32[0] = lo;
  I32[1] = hi;
  return F64[0];
}

function retF64(x: number): number {
  F64[0] = x;
  fpu.hi = I32[1];
  return I32[0];
}

function isNaN32(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000;
}
function isSNaN32(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000 && (a & 0x00400000) === 0;
}
function isNaN64(lo: number, hi: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}
function isSNaN64(lo: number, hi: number): boolean {
  return isNaN64(lo, hi) && (hi & 0x00080000) === 0;
}

// ---------------------------------------------------------------------------
// General path (BigInt, format-parametric)
// ---------------------------------------------------------------------------

interface Fmt {
  p: number; // precision including the hidden bit
  fb: number; // fraction bits
  fbN: bigint;
  bias: number;
  emin: number;
  emax: number;
  expAll: number;
  expMaskN: bigint;
  fracMask: bigint;
  hidden: bigint;
  signBit: bigint;
  quiet: bigint;
  qnan: bigint;
  inf: bigint;
  maxF: bigint;
}

function mkFmt(p: number, eb: number): Fmt {
  const fb = p - 1;
  const fbN = BigInt(fb);
  const bias = (1 << (eb - 1)) - 1;
  const expAll = (1 << eb) - 1;
  const signBit = 1n << BigInt(fb + eb);
  const inf = BigInt(expAll) << fbN;
  return {
    p,
    fb,
    fbN,
    bias,
    emin: 1 - bias,
    emax: bias,
    expAll,
    expMaskN: BigInt(expAll),
    fracMask: (1n << fbN) - 1n,
    hidden: 1n << fbN,
    signBit,
    quiet: 1n << (fbN - 1n),
    qnan: inf | (1n << (fbN - 1n)),
    inf,
    maxF: inf - 1n,
  };
}

const FMT32 = mkFmt(24, 8);
const FMT64 = mkFmt(53, 11);

const K_ZERO = 0;
const K_FIN = 1;
const K_INF = 2;
const K_QNAN = 3;
const K_SNAN = 4;

class Unpacked {
  k = 0;
  s = 0;
  sig = 0n;
  e = 0;
}
const UA = new Unpacked();
const UB = new Unpacked();
const UC = new Unpacked();

function unpack(f: Fmt, bits: bigint, u: Unpacked): Unpacked {
  u.s = (bits & f.signBit) !== 0n ? 1 : 0;
  const ef = Number((bits >> f.fbN) & f.expMaskN);
  const fr = bits & f.fracMask;
  if (ef === f.expAll) {
    u.k = fr === 0n ? K_INF : (fr & f.quiet) !== 0n ? K_QNAN : K_SNAN;
  } else if (ef === 0) {
    if (fr === 0n) u.k = K_ZERO;
    else {
      u.k = K_FIN;
      u.sig = fr;
      u.e = f.emin - f.fb;
    }
  } else {
    u.k = K_FIN;
    u.sig = fr | f.hidden;
    u.e = ef - f.bias - f.fb;
  }
  return u;
}

function bitLen(x: bigint): number {
  // x > 0
  if (x < 0x20000000000000n) {
    const n = Number(x);
    return n >= TWO32 ? 64 - Math.clz32(Math.floor(n / TWO32)) : 32 - Math.clz32(n);
  }
  const s = x.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(parseInt(s[0], 16)));
}

/** sig >> sh rounded in mode rm (sh >= 1). */
function rshRound(sig: bigint, sh: number, s: number, rm: number): bigint {
  const shN = BigInt(sh);
  const q = sig >> shN;
  const rem = sig - (q << shN);
  if (rem === 0n) return q;
  switch (rm) {
    case RNE: {
      const half = 1n << (shN - 1n);
      return rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
    }
    case RTZ:
      return q;
    case RDN:
      return s ? q + 1n : q;
    case RUP:
      return s ? q : q + 1n;
    default:
      return rem >= 1n << (shN - 1n) ? q + 1n : q;
  }
}

/**
 * Round the exact value (-1)^s * sig * 2^e (sig > 0) to format f in mode rm,
 * raising NX/UF/OF.  Callers with an inexact quotient/root pass a significand
 * of at least p+3 bits with a sticky 1 appended (round-to-odd), which rounds
 * identically to the exact value.
 */
function roundPack(f: Fmt, s: number, sig: bigint, e: number, rm: number): bigint {
  const n = bitLen(sig);
  const E = e + n - 1;
  let EU = E;
  const shU = n - f.p;
  if (shU > 0) {
    const m = rshRound(sig, shU, s, rm);
    if (m >> BigInt(f.p) !== 0n) EU++;
  }
  if (EU > f.emax) {
    fpu.flags |= OF | NX;
    const mag = overflowIsInf(s !== 0, rm) ? f.inf : f.maxF;
    return s ? mag | f.signBit : mag;
  }
  const minLsb = f.emin - f.p + 1;
  let lsb = E - f.p + 1;
  if (lsb < minLsb) lsb = minLsb;
  const sh = lsb - e;
  let m: bigint;
  if (sh <= 0) m = sig << BigInt(-sh);
  else {
    m = rshRound(sig, sh, s, rm);
    if ((sig & ((1n << BigInt(sh)) - 1n)) !== 0n) {
      fpu.flags |= EU < f.emin ? NX | UF : NX;
    }
  }
  const bits = (BigInt(lsb - minLsb) << f.fbN) + m;
  return s ? bits | f.signBit : bits;
}

function nanResult(f: Fmt, A: Unpacked, B: Unpacked | null, C: Unpacked | null): bigint {
  if (A.k === K_SNAN || (B !== null && B.k === K_SNAN) || (C !== null && C.k === K_SNAN)) fpu.flags |= NV;
  return f.qnan;
}

function gAdd(f: Fmt, a: bigint, b: bigint, rm: number): bigint {
  const A = unpack(f, a, UA);
  const B = unpack(f, b, UB);
  if (A.k >= K_QNAN || B.k >= K_QNAN) return nanResult(f, A, B, null);
  if (A.k === K_INF) {
    if (B.k === K_INF && A.s !== B.s) {
      fpu.flags |= NV;
      return f.qnan;
    }
    return a;
  }
  if (B.k === K_INF) return b;
  if (A.k === K_ZERO) {
    if (B.k === K_ZERO) return A.s === B.s ? a : rm === RDN ? f.signBit : 0n;
    return b;
  }
  if (B.k === K_ZERO) return a;
  const e = A.e < B.e ? A.e : B.e;
  let va = A.sig << BigInt(A.e - e);
  let vb = B.sig << BigInt(B.e - e);
  if (A.s) va = -va;
  if (B.s) vb = -vb;
  const sum = va + vb;
  if (sum === 0n) return rm === RDN ? f.signBit : 0n;
  return sum < 0n ? roundPack(f, 1, -sum, e, rm) : roundPack(f, 0, sum, e, rm);
}

function gMul(f: Fmt, a: bigint, b: bigint, rm: number): bigint {
  const A = unpack(f, a, UA);
  const B = unpack(f, b, UB);
  if (A.k >= K_QNAN || B.k >= K_QNAN) return nanResult(f, A, B, null);
  const s = A.s ^ B.s;
  const sb = s ? f.signBit : 0n;
  if (A.k === K_INF || B.k === K_INF) {
    if (A.k === K_ZERO || B.k === K_ZERO) {
      fpu.flags |= NV;
      return f.qnan;
    }
    return f.inf | sb;
  }
  if (A.k === K_ZERO || B.k === K_ZERO) return sb;
  return roundPack(f, s, A.sig * B.sig, A.e + B.e, rm);
}

function gDiv(f: Fmt, a: bigint, b: bigint, rm: number): bigint {
  const A = unpack(f, a, UA);
  const B = unpack(f, b, UB);
  if (A.k >= K_QNAN || B.k >= K_QNAN) return nanResult(f, A, B, null);
  const s = A.s ^ B.s;
  const sb = s ? f.signBit : 0n;
  if (A.k === K_INF) {
    if (B.k === K_INF) {
      fpu.flags |= NV;
      return f.qnan;
    }
    return f.inf | sb;
  }
  if (B.k === K_INF) return sb;
  if (B.k === K_ZERO) {
    if (A.k === K_ZERO) {
      fpu.flags |= NV;
      return f.qnan;
    }
    fpu.flags |= DZ;
    return f.inf | sb;
  }
  if (A.k === K_ZERO) return sb;
  const k = f.p + 3 + bitLen(B.sig);
  const num = A.sig << BigInt(k);
  let q = num / B.sig;
  let e = A.e - B.e - k;
  if (num !== q * B.sig) {
    q = (q << 1n) | 1n;
    e -= 1;
  }
  return roundPack(f, s, q, e, rm);
}

function isqrt(n: bigint): bigint {
  if (n < 0x10000000000000n) {
    let r = BigInt(Math.floor(Math.sqrt(Number(n))));
    while (r * r > n) r--;
    while ((r + 1n) * (r + 1n) <= n) r++;
    return r;
  }
  let sh = bitLen(n) - 52;
  if (sh & 1) sh++;
  let x = (BigInt(Math.floor(Math.sqrt(Number(n >> BigInt(sh))))) + 2n) << BigInt(sh >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function gSqrt(f: Fmt, a: bigint, rm: number): bigint {
  const A = unpack(f, a, UA);
  if (A.k >= K_QNAN) return nanResult(f, A, null, null);
  if (A.k === K_ZERO) return a;
  if (A.s) {
    fpu.flags |= NV;
    return f.qnan;
  }
  if (A.k === K_INF) return a;
  let sig = A.sig;
  let e = A.e;
  if (e & 1) {
    sig <<= 1n;
    e -= 1;
  }
  let sh = 2 * (f.p + 3) - bitLen(sig);
  if (sh < 0) sh = 0;
  if (sh & 1) sh++;
  sig <<= BigInt(sh);
  e -= sh;
  let r = isqrt(sig);
  e /= 2;
  if (r * r !== sig) {
    r = (r << 1n) | 1n;
    e -= 1;
  }
  return roundPack(f, 0, r, e, rm);
}

function gFma(f: Fmt, a: bigint, b: bigint, c: bigint, rm: number, negP: number, negC: number): bigint {
  const A = unpack(f, a, UA);
  const B = unpack(f, b, UB);
  const C = unpack(f, c, UC);
  const sp = A.s ^ B.s ^ (negP ? 1 : 0);
  const sc = C.s ^ (negC ? 1 : 0);
  const infZero = (A.k === K_INF && B.k === K_ZERO) || (A.k === K_ZERO && B.k === K_INF);
  if (A.k >= K_QNAN || B.k >= K_QNAN || C.k >= K_QNAN) {
    // RISC-V: inf * 0 raises NV even when the addend is a quiet NaN.
    if (infZero) fpu.flags |= NV;
    return nanResult(f, A, B, C);
  }
  if (infZero) {
    fpu.flags |= NV;
    return f.qnan;
  }
  if (A.k === K_INF || B.k === K_INF) {
    if (C.k === K_INF && sc !== sp) {
      fpu.flags |= NV;
      return f.qnan;
    }
    return sp ? f.inf | f.signBit : f.inf;
  }
  if (C.k === K_INF) return sc ? f.inf | f.signBit : f.inf;
  if (A.k === K_ZERO || B.k === K_ZERO) {
    if (C.k === K_ZERO) return sp === sc ? (sp ? f.signBit : 0n) : rm === RDN ? f.signBit : 0n;
    const mag = c & ~f.signBit;
    return sc ? mag | f.signBit : mag;
  }
  const prod = A.sig * B.sig;
  const ep = A.e + B.e;
  if (C.k === K_ZERO) return roundPack(f, sp, prod, ep, rm);
  const e = ep < C.e ? ep : C.e;
  let vp = prod << BigInt(ep - e);
  let vc = C.sig << BigInt(C.e - e);
  if (sp) vp = -vp;
  if (sc) vc = -vc;
  const sum = vp + vc;
  if (sum === 0n) return rm === RDN ? f.signBit : 0n;
  return sum < 0n ? roundPack(f, 1, -sum, e, rm) : roundPack(f, 0, sum, e, rm);
}

function gCvt(from: Fmt, to: Fmt, a: bigint, rm: number): bigint {
  const A = unpack(from, a, UA);
  if (A.k >= K_QNAN) return nanResult(to, A, null, null);
  if (A.k === K_INF) return A.s ? to.inf | to.signBit : to.inf;
  if (A.k === K_ZERO) return A.s ? to.signBit : 0n;
  return roundPack(to, A.s, A.sig, A.e, rm);
}

/** Float to integer with RISC-V saturation; returns the width-bit two's complement pattern. */
function gToInt(f: Fmt, a: bigint, rm: number, width: number, signed: boolean): bigint {
  const w = BigInt(width);
  const max = signed ? (1n << (w - 1n)) - 1n : (1n << w) - 1n;
  const min = signed ? -(1n << (w - 1n)) : 0n;
  const A = unpack(f, a, UA);
  if (A.k >= K_QNAN) {
    fpu.flags |= NV;
    return max;
  }
  if (A.k === K_INF) {
    fpu.flags |= NV;
    return BigInt.asUintN(width, A.s ? min : max);
  }
  if (A.k === K_ZERO) return 0n;
  let v: bigint;
  let inexact = false;
  if (A.e >= 0) v = A.sig << BigInt(A.e);
  else {
    v = rshRound(A.sig, -A.e, A.s, rm);
    inexact = (A.sig & ((1n << BigInt(-A.e)) - 1n)) !== 0n;
  }
  if (A.s) v = -v;
  if (v < min) {
    fpu.flags |= NV;
    v = min;
  } else if (v > max) {
    fpu.flags |= NV;
    v = max;
  } else if (inexact) fpu.flags |= NX;
  return BigInt.asUintN(width, v);
}

function gFromInt(f: Fmt, v: bigint, rm: number): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(f, 1, -v, 0, rm) : roundPack(f, 0, v, 0, rm);
}

function b32(a: number): bigint {
  return BigInt(a >>> 0);
}
function n32(b: bigint): number {
  return Number(b) | 0;
}
function b64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
function r64(b: bigint): number {
  fpu.hi = Number(b >> 32n) | 0;
  return Number(b & 0xffffffffn) | 0;
}
function i64v(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}
function u64v(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const SIGN32 = 0x80000000 | 0;

/**
 * The general (BigInt) implementation of every arithmetic operation and
 * conversion, with the same signatures as the public functions.  Used as the
 * slow path and by the tests as a reference for the fast paths.
 */
export const general = {
  f32_add: (a: number, b: number, rm: number): number => n32(gAdd(FMT32, b32(a), b32(b), rm)),
  f32_sub: (a: number, b: number, rm: number): number => n32(gAdd(FMT32, b32(a), b32(b ^ SIGN32), rm)),
  f32_mul: (a: number, b: number, rm: number): number => n32(gMul(FMT32, b32(a), b32(b), rm)),
  f32_div: (a: number, b: number, rm: number): number => n32(gDiv(FMT32, b32(a), b32(b), rm)),
  f32_sqrt: (a: number, rm: number): number => n32(gSqrt(FMT32, b32(a), rm)),
  f32_muladd: (a: number, b: number, c: number, rm: number, negP: number, negC: number): number =>
    n32(gFma(FMT32, b32(a), b32(b), b32(c), rm, negP, negC)),
  f64_add: (aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number =>
    r64(gAdd(FMT64, b64(aLo, aHi), b64(bLo, bHi), rm)),
  f64_sub: (aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number =>
    r64(gAdd(FMT64, b64(aLo, aHi), b64(bLo, bHi ^ SIGN32), rm)),
  f64_mul: (aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number =>
    r64(gMul(FMT64, b64(aLo, aHi), b64(bLo, bHi), rm)),
  f64_div: (aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number =>
    r64(gDiv(FMT64, b64(aLo, aHi), b64(bLo, bHi), rm)),
  f64_sqrt: (aLo: number, aHi: number, rm: number): number => r64(gSqrt(FMT64, b64(aLo, aHi), rm)),
  f64_muladd: (
    aLo: number,
    aHi: number,
    bLo: number,
    bHi: number,
    cLo: number,
    cHi: number,
    rm: number,
    negP: number,
    negC: number,
  ): number => r64(gFma(FMT64, b64(aLo, aHi), b64(bLo, bHi), b64(cLo, cHi), rm, negP, negC)),
  f32_to_f64: (a: number): number => r64(gCvt(FMT32, FMT64, b32(a), RNE)),
  f64_to_f32: (lo: number, hi: number, rm: number): number => n32(gCvt(FMT64, FMT32, b64(lo, hi), rm)),
  f32_to_i32: (a: number, rm: number): number => n32(gToInt(FMT32, b32(a), rm, 32, true)),
  f32_to_u32: (a: number, rm: number): number => n32(gToInt(FMT32, b32(a), rm, 32, false)),
  f32_to_i64: (a: number, rm: number): number => r64(gToInt(FMT32, b32(a), rm, 64, true)),
  f32_to_u64: (a: number, rm: number): number => r64(gToInt(FMT32, b32(a), rm, 64, false)),
  f64_to_i32: (lo: number, hi: number, rm: number): number => n32(gToInt(FMT64, b64(lo, hi), rm, 32, true)),
  f64_to_u32: (lo: number, hi: number, rm: number): number => n32(gToInt(FMT64, b64(lo, hi), rm, 32, false)),
  f64_to_i64: (lo: number, hi: number, rm: number): number => r64(gToInt(FMT64, b64(lo, hi), rm, 64, true)),
  f64_to_u64: (lo: number, hi: number, rm: number): number => r64(gToInt(FMT64, b64(lo, hi), rm, 64, false)),
  i32_to_f32: (x: number, rm: number): number => n32(gFromInt(FMT32, BigInt(x | 0), rm)),
  u32_to_f32: (x: number, rm: number): number => n32(gFromInt(FMT32, BigInt(x >>> 0), rm)),
  i64_to_f32: (lo: number, hi: number, rm: number): number => n32(gFromInt(FMT32, i64v(lo, hi), rm)),
  u64_to_f32: (lo: number, hi: number, rm: number): number => n32(gFromInt(FMT32, u64v(lo, hi), rm)),
  i32_to_f64: (x: number): number => r64(gFromInt(FMT64, BigInt(x | 0), RNE)),
  u32_to_f64: (x: number): number => r64(gFromInt(FMT64, BigInt(x >>> 0), RNE)),
  i64_to_f64: (lo: number, hi: number, rm: number): number => r64(gFromInt(FMT64, i64v(lo, hi), rm)),
  u64_to_f64: (lo: number, hi: number, rm: number): number => r64(gFromInt(FMT64, u64v(lo, hi), rm)),
};

// ---------------------------------------------------------------------------
// binary32 arithmetic (native double path, every rounding mode)
// ---------------------------------------------------------------------------

function special32(a: number): boolean {
  return (a & 0x7f800000) === 0x7f800000;
}

/** x + y for binary32 values given as doubles; sa/sb are the operands' int32 bit patterns (for zero signs). */
function add32(x: number, y: number, sa: number, sb: number, rm: number): number {
  let s = x + y;
  if (s === 0) {
    // exact zero: both zeros of the same sign keep it, otherwise +0 (-0 in RDN)
    if ((sa ^ sb) >= 0 && x === 0) return sa & SIGN32;
    return rm === RDN ? SIGN32 : 0;
  }
  const bb = s - x;
  const err = x - (s - bb) + (y - bb);
  if (err !== 0) s = roundToOdd(s, err);
  return roundToF32(s, rm);
}

export function f32_add(a: number, b: number, rm: number): number {
  if (special32(a) || special32(b)) return general.f32_add(a, b, rm);
  I32[0] = a;
  const x = F32[0];
  I32[0] = b;
  return add32(x, F32[0], a, b, rm);
}

export function f32_sub(a: number, b: number, rm: number): number {
  if (special32(a) || special32(b)) return general.f32_sub(a, b, rm);
  I32[0] = a;
  const x = F32[0];
  I32[0] = b;
  return add32(x, -F32[0], a, b ^ SIGN32, rm);
}

export function f32_mul(a: number, b: number, rm: number): number {
  if (special32(a) || special32(b)) return general.f32_mul(a, b, rm);
  I32[0] = a;
  const x = F32[0];
  I32[0] = b;
  const p = x * F32[0]; // exact: 48-bit product, within double range
  if (p === 0) return (a ^ b) & SIGN32;
  return roundToF32(p, rm);
}

export function f32_div(a: number, b: number, rm: number): number {
  if (special32(a) || special32(b) || (b & 0x7fffffff) === 0) return general.f32_div(a, b, rm);
  I32[0] = a;
  const x = F32[0];
  if (x === 0) return (a ^ b) & SIGN32;
  I32[0] = b;
  return roundToF32(x / F32[0], rm);
}

export function f32_sqrt(a: number, rm: number): number {
  if ((a & 0x7fffffff) === 0) return a;
  if ((a & SIGN32) !== 0 || special32(a)) return general.f32_sqrt(a, rm);
  I32[0] = a;
  return roundToF32(Math.sqrt(F32[0]), rm);
}

export function f32_muladd(a: number, b: number, c: number, rm: number, negateProduct: number, negateAddend: number): number {
  if (special32(a) || special32(b) || special32(c)) return general.f32_muladd(a, b, c, rm, negateProduct, negateAddend);
  I32[0] = a;
  const x = F32[0];
  I32[0] = b;
  let p = x * F32[0]; // exact
  I32[0] = c;
  let z = F32[0];
  let sp = (a ^ b) & SIGN32;
  let sc = c & SIGN32;
  if (negateProduct) {
    p = -p;
    sp ^= SIGN32;
  }
  if (negateAddend) {
    z = -z;
    sc ^= SIGN32;
  }
  return add32(p, z, sp, sc, rm);
}

// ---------------------------------------------------------------------------
// binary64 arithmetic
// ---------------------------------------------------------------------------

/** The double adjacent to s (finite, nonzero) in the direction of +inf (up) or -inf. */
function nextToward(s: number, up: boolean): number {
  F64[0] = s;
  const lo = I32[0];
  if (s > 0 === up) {
    I32[0] = lo + 1;
    if (lo === -1) I32[1] = I32[1] + 1;
  } else {
    if (lo === 0) I32[1] = I32[1] - 1;
    I32[0] = lo - 1;
  }
  return F64[0];
}

/**
 * Directed rounding (RTZ/RDN/RUP) of an inexact exact value given s = RN(exact)
 * and the sign of exact - s (errPos).  s must be normal and not the largest
 * binade's last value (callers keep results well inside the normal range).
 */
function directed(s: number, errPos: boolean, rm: number): number {
  switch (rm) {
    case RTZ:
      return errPos !== s > 0 ? nextToward(s, errPos) : s;
    case RDN:
      return errPos ? s : nextToward(s, false);
    case RUP:
      return errPos ? nextToward(s, true) : s;
  }
  return s;
}

/** RMM from s = RN(exact) and the exact error err = exact - s (nonzero). */
function rmmFromError(s: number, err: number): number {
  const n = nextToward(s, err > 0);
  // a tie iff err is half the gap; then take the neighbour if it has the larger magnitude
  if (n - s === 2 * err && (n > 0 ? n > s : n < s)) return n;
  return s;
}

function retSigned(s: number, rm: number, err: number): number {
  if (rm !== RNE) s = rm === RMM ? rmmFromError(s, err) : directed(s, err > 0, rm);
  F64[0] = s;
  fpu.hi = I32[1];
  return I32[0];
}

const P2_1023 = p2(1023);

export function f64_add(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  if ((aHi & 0x7ff00000) !== 0x7ff00000 && (bHi & 0x7ff00000) !== 0x7ff00000) {
    I32[0] = aLo;
    I32[1] = aHi;
    const x = F64[0];
    I32[0] = bLo;
    I32[1] = bHi;
    const y = F64[0];
    const s = x + y;
    if (s - s === 0) {
      // finite: TwoSum is exact, err === 0 iff the sum is exact; sums are never tiny-inexact
      const bb = s - x;
      const err = x - (s - bb) + (y - bb);
      if (err === 0) {
        if (s === 0 && rm === RDN && ((aHi | bHi) < 0 || x !== 0)) {
          fpu.hi = SIGN32;
          return 0;
        }
        F64[0] = s;
        fpu.hi = I32[1];
        return I32[0];
      }
      if (rm === RNE || (s < P2_1023 && s > -P2_1023)) {
        fpu.flags |= NX;
        return retSigned(s, rm, err);
      }
    }
  }
  return general.f64_add(aLo, aHi, bLo, bHi, rm);
}

export function f64_sub(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  return f64_add(aLo, aHi, bLo, bHi ^ SIGN32, rm);
}

export function f64_mul(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  const es = ea + eb - 2046;
  // normal operands below 2^995 (Veltkamp split cannot overflow), product in [2^-960, 2^1022)
  if (ea !== 0 && eb !== 0 && ea < 2018 && eb < 2018 && es >= -960 && es <= 1020) {
    I32[0] = aLo;
    I32[1] = aHi;
    const x = F64[0];
    I32[0] = bLo;
    I32[1] = bHi;
    const y = F64[0];
    const p = x * y;
    let t = SPLIT * x;
    const xh = t - (t - x);
    const xl = x - xh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const err = xh * yh - p + xh * yl + xl * yh + xl * yl; // exact: a*b - p
    if (err === 0) {
      F64[0] = p;
      fpu.hi = I32[1];
      return I32[0];
    }
    fpu.flags |= NX;
    return retSigned(p, rm, err);
  }
  // zero times finite: exact signed zero
  if (((aHi & 0x7fffffff) | aLo) === 0 && eb !== 0x7ff) {
    fpu.hi = (aHi ^ bHi) & SIGN32;
    return 0;
  }
  if (((bHi & 0x7fffffff) | bLo) === 0 && ea !== 0x7ff) {
    fpu.hi = (aHi ^ bHi) & SIGN32;
    return 0;
  }
  return general.f64_mul(aLo, aHi, bLo, bHi, rm);
}

export function f64_div(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  // |a| in [2^-960, 2^996), |b| in [2^-990, 2^991)
  if (ea >= 63 && ea < 2019 && eb >= 33 && eb < 2014) {
    I32[0] = aLo;
    I32[1] = aHi;
    const x = F64[0];
    I32[0] = bLo;
    I32[1] = bHi;
    const y = F64[0];
    const q = x / y;
    const aq = q < 0 ? -q : q;
    if (aq >= P2_M960 && aq < P2_990) {
      // remainder x - q*y is exact: x - ph (Sterbenz) minus pl
      const ph = q * y;
      let t = SPLIT * q;
      const qh = t - (t - q);
      const ql = q - qh;
      t = SPLIT * y;
      const yh = t - (t - y);
      const yl = y - yh;
      const pl = qh * yh - ph + qh * yl + ql * yh + ql * yl;
      const xr = x - ph;
      if (xr !== pl) {
        fpu.flags |= NX;
        // sign(exact - q) = sign(remainder) * sign(y); no ties for normal quotients (RMM == RNE)
        if (rm !== RNE && rm !== RMM) return retSigned(q, rm, xr > pl === y > 0 ? 1 : -1);
      }
      F64[0] = q;
      fpu.hi = I32[1];
      return I32[0];
    }
  }
  if (((aHi & 0x7fffffff) | aLo) === 0 && ((bHi & 0x7fffffff) | bLo) !== 0 && !isNaN64(bLo, bHi)) {
    fpu.hi = (aHi ^ bHi) & SIGN32;
    return 0;
  }
  return general.f64_div(aLo, aHi, bLo, bHi, rm);
}

export function f64_sqrt(aLo: number, aHi: number, rm: number): number {
  const ea = aHi >>> 20; // includes the sign bit: positive only
  if (ea >= 63 && ea < 2024) {
    // |a| in [2^-960, 2^1001)
    I32[0] = aLo;
    I32[1] = aHi;
    const x = F64[0];
    const r = Math.sqrt(x);
    const ph = r * r;
    const t = SPLIT * r;
    const rh = t - (t - r);
    const rl = r - rh;
    const pl = rh * rh - ph + 2 * (rh * rl) + rl * rl;
    const xr = x - ph; // exact (Sterbenz)
    if (xr !== pl) {
      fpu.flags |= NX;
      // sign(sqrt(x) - r) = sign(x - r*r); no ties (RMM == RNE)
      if (rm !== RNE && rm !== RMM) return retSigned(r, rm, xr > pl ? 1 : -1);
    }
    F64[0] = r;
    fpu.hi = I32[1];
    return I32[0];
  }
  if (((aHi & 0x7fffffff) | aLo) === 0) {
    fpu.hi = aHi;
    return aLo;
  }
  return general.f64_sqrt(aLo, aHi, rm);
}

export function f64_muladd(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
  rm: number,
  negateProduct: number,
  negateAddend: number,
): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  const ec = (cHi >>> 20) & 0x7ff;
  const es = ea + eb - 2046;
  if (ea !== 0 && eb !== 0 && ea < 2018 && eb < 2018 && es >= -960 && es <= 1000 && ec < 2023) {
    // Boldo & Melquiond: RN(a*b + c) = RN(th + RO(tl + pl)) where
    // (ph, pl) = exact product, (th, tl) = TwoSum(c, ph).
    I32[0] = aLo;
    I32[1] = aHi;
    let x = F64[0];
    I32[0] = bLo;
    I32[1] = bHi;
    const y = F64[0];
    I32[0] = cLo;
    I32[1] = cHi;
    let z = F64[0];
    if (negateProduct) x = -x;
    if (negateAddend) z = -z;
    const ph = x * y;
    let t = SPLIT * x;
    const xh = t - (t - x);
    const xl = x - xh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const pl = xh * yh - ph + xh * yl + xl * yh + xl * yl;
    const th = z + ph;
    let bb = th - z;
    const tl = z - (th - bb) + (ph - bb);
    const u = tl + pl;
    bb = u - tl;
    const w = tl - (u - bb) + (pl - bb); // tl + pl = u + w exactly
    const v = w !== 0 ? roundToOdd(u, w) : u;
    const r = th + v;
    const ar = r < 0 ? -r : r;
    if (ar >= P2_M960 && ar < P2_990) {
      bb = r - th;
      const e1 = th - (r - bb) + (v - bb); // th + v - r exactly
      if (w === 0) {
        // exact = th + v: e1 is the exact error of r
        if (e1 === 0) {
          F64[0] = r;
          fpu.hi = I32[1];
          return I32[0];
        }
        fpu.flags |= NX;
        return retSigned(r, rm, e1);
      }
      // w != 0: inexact, never a tie (RMM == RNE).  exact - r = e1 + d with
      // d = u + w - v, |d| < ulp(v) <= |e1| unless e1 == 0 (which cannot
      // happen here: v is odd far below ulp(th); the fallback is defensive).
      fpu.flags |= NX;
      if (rm !== RNE && rm !== RMM) return retSigned(r, rm, e1 !== 0 ? e1 : u === v ? w : u - v);
      F64[0] = r;
      fpu.hi = I32[1];
      return I32[0];
    }
  }
  return general.f64_muladd(aLo, aHi, bLo, bHi, cLo, cHi, rm, negateProduct, negateAddend);
}

// ---------------------------------------------------------------------------
// min / max / compare / classify
// ---------------------------------------------------------------------------

export function f32_min(a: number, b: number): number {
  const an = isNaN32(a);
  const bn = isNaN32(b);
  if (an || bn) {
    if (isSNaN32(a) || isSNaN32(b)) fpu.flags |= NV;
    if (an && bn) return F32_CANONICAL_NAN;
    return an ? b : a;
  }
  const x = rdF32(a);
  const y = rdF32(b);
  if (x < y) return a;
  if (y < x) return b;
  return a | b; // equal: identical, or zeros where -0 wins
}

export function f32_max(a: number, b: number): number {
  const an = isNaN32(a);
  const bn = isNaN32(b);
  if (an || bn) {
    if (isSNaN32(a) || isSNaN32(b)) fpu.flags |= NV;
    if (an && bn) return F32_CANONICAL_NAN;
    return an ? b : a;
  }
  const x = rdF32(a);
  const y = rdF32(b);
  if (x > y) return a;
  if (y > x) return b;
  return a & b; // equal: identical, or zeros where +0 wins
}

function minmax64(aLo: number, aHi: number, bLo: number, bHi: number, isMax: boolean): number {
  const an = isNaN64(aLo, aHi);
  const bn = isNaN64(bLo, bHi);
  if (an || bn) {
    if (isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi)) fpu.flags |= NV;
    if (an && bn) {
      fpu.hi = F64_CANONICAL_NAN_HI;
      return 0;
    }
    if (an) {
      fpu.hi = bHi;
      return bLo;
    }
    fpu.hi = aHi;
    return aLo;
  }
  const x = rdF64(aLo, aHi);
  const y = rdF64(bLo, bHi);
  let pickA: boolean;
  if (x !== y) pickA = isMax ? x > y : x < y;
  else pickA = isMax === ((aHi & SIGN32) === 0);
  if (pickA) {
    fpu.hi = aHi;
    return aLo;
  }
  fpu.hi = bHi;
  return bLo;
}

export function f64_min(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return minmax64(aLo, aHi, bLo, bHi, false);
}

export function f64_max(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return minmax64(aLo, aHi, bLo, bHi, true);
}

export function f32_eq(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) fpu.flags |= NV;
    return 0;
  }
  return rdF32(a) === rdF32(b) ? 1 : 0;
}

export function f32_lt(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    fpu.flags |= NV;
    return 0;
  }
  return rdF32(a) < rdF32(b) ? 1 : 0;
}

export function f32_le(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) {
    fpu.flags |= NV;
    return 0;
  }
  return rdF32(a) <= rdF32(b) ? 1 : 0;
}

export function f64_eq(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    if (isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi)) fpu.flags |= NV;
    return 0;
  }
  return rdF64(aLo, aHi) === rdF64(bLo, bHi) ? 1 : 0;
}

export function f64_lt(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    fpu.flags |= NV;
    return 0;
  }
  return rdF64(aLo, aHi) < rdF64(bLo, bHi) ? 1 : 0;
}

export function f64_le(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    fpu.flags |= NV;
    return 0;
  }
  return rdF64(aLo, aHi) <= rdF64(bLo, bHi) ? 1 : 0;
}

/** fclass bits: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0, 5 +subnormal, 6 +normal, 7 +inf, 8 sNaN, 9 qNaN. */
export function f32_classify(a: number): number {
  const neg = (a & SIGN32) !== 0;
  const e = (a >>> 23) & 0xff;
  const f = a & 0x7fffff;
  if (e === 0xff) {
    if (f === 0) return neg ? 1 : 1 << 7;
    return f & 0x400000 ? 1 << 9 : 1 << 8;
  }
  if (e === 0) {
    if (f === 0) return neg ? 1 << 3 : 1 << 4;
    return neg ? 1 << 2 : 1 << 5;
  }
  return neg ? 1 << 1 : 1 << 6;
}

export function f64_classify(lo: number, hi: number): number {
  const neg = (hi & SIGN32) !== 0;
  const e = (hi >>> 20) & 0x7ff;
  const fz = (hi & 0xfffff) === 0 && lo === 0;
  if (e === 0x7ff) {
    if (fz) return neg ? 1 : 1 << 7;
    return hi & 0x80000 ? 1 << 9 : 1 << 8;
  }
  if (e === 0) {
    if (fz) return neg ? 1 << 3 : 1 << 4;
    return neg ? 1 << 2 : 1 << 5;
  }
  return neg ? 1 << 1 : 1 << 6;
}

// ---------------------------------------------------------------------------
// Float <-> float conversions
// ---------------------------------------------------------------------------

export function f32_to_f64(a: number): number {
  if (special32(a) && (a & 0x7fffff) !== 0) {
    if ((a & 0x400000) === 0) fpu.flags |= NV;
    fpu.hi = F64_CANONICAL_NAN_HI;
    return 0;
  }
  I32[0] = a;
  F64[0] = F32[0]; // exact (infinities included)
  fpu.hi = I32[1];
  return I32[0];
}

export function f64_to_f32(lo: number, hi: number, rm: number): number {
  if ((hi & 0x7ff00000) === 0x7ff00000) {
    if ((hi & 0xfffff) === 0 && lo === 0) return (hi & SIGN32) !== 0 ? 0xff800000 | 0 : 0x7f800000;
    if ((hi & 0x80000) === 0) fpu.flags |= NV;
    return F32_CANONICAL_NAN;
  }
  if (((hi & 0x7fffffff) | lo) === 0) return hi & SIGN32;
  I32[0] = lo;
  I32[1] = hi;
  return roundToF32(F64[0], rm);
}

// ---------------------------------------------------------------------------
// Float -> integer (RISC-V saturation)
// ---------------------------------------------------------------------------

/**
 * 32-bit targets: round x (a double holding a binary32/binary64 value; NaN
 * allowed) to an integral value and range-check it against [min, maxPlus1);
 * returns the saturated integral double and sets NV/NX.
 */
function toIntCommon(x: number, rm: number, min: number, maxPlus1: number): number {
  if (x !== x) {
    fpu.flags |= NV;
    return maxPlus1 - 1;
  }
  const r = roundIntegral(x, rm);
  if (r < min) {
    fpu.flags |= NV;
    return min;
  }
  if (r >= maxPlus1) {
    fpu.flags |= NV;
    return maxPlus1 - 1;
  }
  if (r !== x) fpu.flags |= NX;
  return r;
}

/** Split an integral double in [-2^63, 2^64) into (lo, hi) int32 halves. */
function retI64(r: number): number {
  const hi = Math.floor(r / TWO32);
  fpu.hi = hi | 0;
  return (r - hi * TWO32) | 0;
}

function toI64(x: number, rm: number): number {
  if (x !== x) {
    fpu.flags |= NV;
    fpu.hi = 0x7fffffff;
    return -1;
  }
  const r = roundIntegral(x, rm);
  if (r < -TWO63) {
    fpu.flags |= NV;
    fpu.hi = SIGN32;
    return 0;
  }
  if (r >= TWO63) {
    fpu.flags |= NV;
    fpu.hi = 0x7fffffff;
    return -1;
  }
  if (r !== x) fpu.flags |= NX;
  return retI64(r);
}

function toU64(x: number, rm: number): number {
  if (x !== x) {
    fpu.flags |= NV;
    fpu.hi = -1;
    return -1;
  }
  const r = roundIntegral(x, rm);
  if (r < 0) {
    fpu.flags |= NV;
    fpu.hi = 0;
    return 0;
  }
  if (r >= TWO64) {
    fpu.flags |= NV;
    fpu.hi = -1;
    return -1;
  }
  if (r !== x) fpu.flags |= NX;
  return retI64(r);
}

function f32val(a: number): number {
  return isNaN32(a) ? NaN : rdF32(a);
}
function f64val(lo: number, hi: number): number {
  return isNaN64(lo, hi) ? NaN : rdF64(lo, hi);
}

export function f32_to_i32(a: number, rm: number): number {
  return toIntCommon(f32val(a), rm, -TWO31, TWO31) | 0;
}
export function f32_to_u32(a: number, rm: number): number {
  return toIntCommon(f32val(a), rm, 0, TWO32) | 0;
}
export function f32_to_i64(a: number, rm: number): number {
  return toI64(f32val(a), rm);
}
export function f32_to_u64(a: number, rm: number): number {
  return toU64(f32val(a), rm);
}
export function f64_to_i32(lo: number, hi: number, rm: number): number {
  return toIntCommon(f64val(lo, hi), rm, -TWO31, TWO31) | 0;
}
export function f64_to_u32(lo: number, hi: number, rm: number): number {
  return toIntCommon(f64val(lo, hi), rm, 0, TWO32) | 0;
}
export function f64_to_i64(lo: number, hi: number, rm: number): number {
  return toI64(f64val(lo, hi), rm);
}
export function f64_to_u64(lo: number, hi: number, rm: number): number {
  return toU64(f64val(lo, hi), rm);
}

// ---------------------------------------------------------------------------
// Integer -> float
// ---------------------------------------------------------------------------

export function i32_to_f32(x: number, rm: number): number {
  if (x === 0) return 0;
  return roundToF32(x | 0, rm);
}
export function u32_to_f32(x: number, rm: number): number {
  if (x === 0) return 0;
  return roundToF32(x >>> 0, rm);
}
export function i32_to_f64(x: number): number {
  return retF64(x | 0);
}
export function u32_to_f64(x: number): number {
  return retF64(x >>> 0);
}

/**
 * Magnitude (mHi, mLo) as unsigned 32-bit numbers, > 2^53: returns the value
 * rounded to 53 bits toward zero, with the dropped bits in u64Rem/u64Sh.
 */
let u64Rem = 0;
let u64Sh = 0;
function u64Trunc53(mHi: number, mLo: number): number {
  const sh = 11 - Math.clz32(mHi); // bits beyond 53, in 1..11
  u64Sh = sh;
  u64Rem = mLo & ((1 << sh) - 1);
  return mHi * p2(32 - sh) + (mLo >>> sh);
}

function u64ToF32(neg: boolean, mHi: number, mLo: number, rm: number): number {
  if (mHi < 0x200000) {
    const d = mHi * TWO32 + mLo; // exact
    if (d === 0) return 0;
    return roundToF32(neg ? -d : d, rm);
  }
  let t = u64Trunc53(mHi, mLo);
  if (u64Rem !== 0 && t % 2 === 0) t += 1; // round to odd
  const d = t * p2(u64Sh);
  return roundToF32(neg ? -d : d, rm);
}

function u64ToF64(neg: boolean, mHi: number, mLo: number, rm: number): number {
  if (mHi < 0x200000) {
    const d = mHi * TWO32 + mLo;
    return retF64(neg ? -d : d);
  }
  const t = u64Trunc53(mHi, mLo);
  let inc = 0;
  if (u64Rem !== 0) {
    fpu.flags |= NX;
    const half = 1 << (u64Sh - 1);
    switch (rm) {
      case RNE:
        inc = u64Rem > half || (u64Rem === half && t % 2 !== 0) ? 1 : 0;
        break;
      case RDN:
        inc = neg ? 1 : 0;
        break;
      case RUP:
        inc = neg ? 0 : 1;
        break;
      case RMM:
        inc = u64Rem >= half ? 1 : 0;
        break;
    }
  }
  const d = (t + inc) * p2(u64Sh);
  return retF64(neg ? -d : d);
}

export function i64_to_f32(lo: number, hi: number, rm: number): number {
  hi |= 0;
  if (hi < 0) {
    const nlo = -lo | 0;
    const nhi = (~hi + (lo === 0 ? 1 : 0)) | 0;
    return u64ToF32(true, nhi >>> 0, nlo >>> 0, rm);
  }
  return u64ToF32(false, hi >>> 0, lo >>> 0, rm);
}
export function u64_to_f32(lo: number, hi: number, rm: number): number {
  return u64ToF32(false, hi >>> 0, lo >>> 0, rm);
}
export function i64_to_f64(lo: number, hi: number, rm: number): number {
  hi |= 0;
  if (hi < 0) {
    const nlo = -lo | 0;
    const nhi = (~hi + (lo === 0 ? 1 : 0)) | 0;
    return u64ToF64(true, nhi >>> 0, nlo >>> 0, rm);
  }
  return u64ToF64(false, hi >>> 0, lo >>> 0, rm);
}
export function u64_to_f64(lo: number, hi: number, rm: number): number {
  return u64ToF64(false, hi >>> 0, lo >>> 0, rm);
}
