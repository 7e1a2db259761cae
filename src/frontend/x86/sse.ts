/**
 * MMX, SSE, SSE2, SSE3 and SSSE3: one helper, executeSimd, runs a whole decoded instruction against
 * the CPU state words. The translator keeps the common XMM moves and bitwise logic in IR and calls
 * this for everything else (every handler here also accepts those XMM forms).
 *
 * The reference is QEMU 7.2 TCG, bit for bit, where it departs from the SDM too (the differential
 * tests run the same programs on QEMU; test/x86-sse.test.ts checks both against real hardware and
 * against a recorded QEMU run):
 * - two NaN operands: QEMU's x87 rule (an SNaN loses to a QNaN, else the larger significand, then
 *   the positive one), where SSE hardware returns the first operand;
 * - MXCSR.DE is never set (hardware sets it for denormal operands when DAZ is clear);
 * - FTZ flushes results that are tiny before rounding (hardware: after rounding), with UE and PE;
 *   the UE flag itself uses tininess after rounding, as hardware does;
 * - MINPS & co. with DAZ compare the flushed operands but return the chosen one unflushed;
 * - RCPPS/RCPSS/RSQRTPS/RSQRTSS are 1/x and 1/sqrt(x) correctly rounded in the MXCSR rounding
 *   mode (DAZ and FTZ apply), and raise no flags;
 * - every instruction with an MMX operand, reading or writing, switches the x87 unit to MMX
 *   state (TOP = 0, all tags valid); CVTPI2PS/PD do so with a memory source too.
 * Deliberate departures from QEMU, at the interface's request: an MMX register write sets that
 * register's sign/exponent word to 0xffff (hardware; QEMU leaves it), unmasked SIMD exceptions raise
 * #XM (#UD without CR4.OSXMMEXCPT) and leave the destination unchanged (QEMU only sets the flags),
 * and every memory read happens before any state changes (QEMU switches to MMX state first).
 */
import { OpKind, RegClass } from './decode.js';
import { X86Handler } from './decode-generated.js';
import { GuestFault } from './cpu.js';
import { CC_OP_EFLAGS } from './flags.js';
import { CC_OP, CC_SRC, CF, FPU_REGS, FPU_TAG, FPU_TOP, MXCSR, PF, Vector, XMM_BASE, ZF } from './state.js';
import {
  FLAG_NV, FLAG_NX, RDN, RNE, RTZ, RUP, f32_add, f32_div, f32_mul, f32_sqrt, f32_sub, f32_to_f64, f32_to_i32,
  f32_to_i64, f64_add, f64_div, f64_mul, f64_sqrt, f64_sub, f64_to_f32, f64_to_i32, f64_to_i64, fpu, i32_to_f32,
  i32_to_f64, i64_to_f32, i64_to_f64,
} from '../../fpu/softfloat.js';

/** One decoded instruction, as the translator registers it (plain data, built once per distinct instruction). */
export interface SimdInsn {
  handler: X86Handler; // which table handler (e.g. X86Handler.ADDPS)
  opcode: number; // the last opcode byte (0x58 for 0F 58)
  map: number; // 1 = 0F, 2 = 0F38, 3 = 0F3A
  mandatoryPrefix: number; // 0, 0x66, 0xf3 or 0xf2 as consumed by the table entry
  opSize: number; // effective operand size 2/4/8 (REX.W -> 8), for MOVD/MOVQ r/m64, CVTSI2SD r/m64, CVT*2SI r64, PEXTRW ...
  operands: { kind: OpKind; size: number; reg: number; regClass: RegClass }[]; // as X86Insn.operands[0..nOperands)
  imm: number; // the 8-bit immediate where there is one (PSHUFD, CMPPS, PALIGNR, SHUFPS, PINSRW, PEXTRW, PSRLW imm ...)
}

/** What the module needs from the CPU. */
export interface SimdHost {
  readonly state: Int32Array; // the CPU state words (layout in src/frontend/x86/state.ts)
  /** Read `size` bytes (1, 2, 4, 8 or 16) at linear address (lo, hi) into out[0..size); throws GuestFault (cpu.ts) on a fault. */
  readMem(lo: number, hi: number, size: number, out: Uint8Array): void;
  /** Write bytes[0..size) at linear address (lo, hi); throws GuestFault on a fault; a fault writes nothing. */
  writeMem(lo: number, hi: number, size: number, bytes: Uint8Array): void;
  /** High word of a 64-bit result returned to generated code. */
  readonly retHi: Int32Array;
  /** CR4.OSXMMEXCPT: unmasked SIMD floating-point exceptions raise #XM when set, #UD when clear. */
  readonly osxmmexcpt: boolean;
}

// ---- scratch vectors: the source operand, the destination's old value, the result -------------

/** A 16-byte scratch register with the lane views the operations use. */
function scratch() {
  const b = new ArrayBuffer(16);
  return {
    i32: new Int32Array(b), u8: new Uint8Array(b), i8: new Int8Array(b), u16: new Uint16Array(b), i16: new Int16Array(b),
  };
}
const SV = scratch();
const DV = scratch();
const RV = scratch();
const S32 = SV.i32, S8 = SV.u8, SI8 = SV.i8, S16 = SV.u16, SI16 = SV.i16;
const D32 = DV.i32, D8 = DV.u8, DI8 = DV.i8, D16 = DV.u16, DI16 = DV.i16;
const R32 = RV.i32, R8 = RV.u8, R16 = RV.u16;
const ONE_BYTE = new Uint8Array(1);

/** (TypedArray.set costs more than four stores.) */
function copy4(dst: Int32Array, src: Int32Array): void {
  dst[0] = src[0];
  dst[1] = src[1];
  dst[2] = src[2];
  dst[3] = src[3];
}

/** The memory operand's address and a general-register source of the instruction being executed. */
let memLo = 0;
let memHi = 0;
let gprValLo = 0;
let gprValHi = 0;

/** MMX writes make the register a NaN-like x87 value, as hardware does (QEMU 7.2 leaves the word alone). */
const MMX_EXPONENT = 0xffff;

/** Handlers whose 16-byte memory operands need no alignment; every other legacy-SSE one must be 16-byte aligned. */
const UNALIGNED = new Set<X86Handler>([X86Handler.MOVUPS, X86Handler.MOVUPD, X86Handler.MOVDQU, X86Handler.LDDQU]);

/** #GP(0) for a misaligned 16-byte memory operand of an aligned-access instruction. */
function checkAlign(insn: SimdInsn, size: number): void {
  if (size === 16 && (memLo & 15) !== 0 && !UNALIGNED.has(insn.handler)) throw new GuestFault(Vector.GP, 0);
}

/**
 * Operand i into (out32, out8): memory (its size, zero-extended), a whole XMM register, an MMX
 * register (zero-extended) or the general-register value the translator passed.
 */
function readOperand(h: SimdHost, insn: SimdInsn, i: number, out32: Int32Array, out8: Uint8Array): void {
  const op = insn.operands[i];
  if (op.kind === OpKind.Mem) {
    checkAlign(insn, op.size);
    if (op.size < 16) out32[0] = out32[1] = out32[2] = out32[3] = 0;
    h.readMem(memLo, memHi, op.size, out8);
    return;
  }
  const st = h.state;
  if (op.regClass === RegClass.XMM) {
    const b = XMM_BASE + 4 * op.reg;
    out32[0] = st[b];
    out32[1] = st[b + 1];
    out32[2] = st[b + 2];
    out32[3] = st[b + 3];
  } else if (op.regClass === RegClass.MMX) {
    const b = FPU_REGS + 4 * op.reg;
    out32[0] = st[b];
    out32[1] = st[b + 1];
    out32[2] = out32[3] = 0;
  } else {
    out32[0] = gprValLo;
    out32[1] = op.size === 8 ? gprValHi : 0;
    out32[2] = out32[3] = 0;
  }
}

/** The source (operand 1) into S. */
function readSrc(h: SimdHost, insn: SimdInsn): void {
  readOperand(h, insn, 1, S32, S8);
}
/** The destination register's old value (operand 0) into D. */
function readDst(h: SimdHost, insn: SimdInsn): void {
  readOperand(h, insn, 0, D32, D8);
}

/** Writes R to register operand 0 (MMX: R[63:0]), or `size` bytes of R to memory. */
function writeDst(h: SimdHost, insn: SimdInsn, size: number): void {
  const op = insn.operands[0];
  const st = h.state;
  if (op.kind === OpKind.Mem) {
    checkAlign(insn, size);
    h.writeMem(memLo, memHi, size, R8);
  } else if (op.regClass === RegClass.XMM) {
    const b = XMM_BASE + 4 * op.reg;
    st[b] = R32[0];
    st[b + 1] = R32[1];
    st[b + 2] = R32[2];
    st[b + 3] = R32[3];
  } else {
    writeMmx(st, op.reg, R32[0], R32[1]);
  }
}

function writeMmx(st: Int32Array, r: number, lo: number, hi: number): void {
  const b = FPU_REGS + 4 * r;
  st[b] = lo;
  st[b + 1] = hi;
  st[b + 2] = MMX_EXPONENT;
}

/** Any MMX instruction (EMMS aside) leaves the x87 unit with TOP = 0 and every register valid. */
function enterMmx(st: Int32Array): void {
  st[FPU_TOP] = 0;
  st[FPU_TAG] = 0;
}

function isMmx(insn: SimdInsn, i: number): boolean {
  const op = insn.operands[i];
  return op.kind === OpKind.Reg && op.regClass === RegClass.MMX;
}

/** Vector width in bytes of a packed-integer instruction: 8 for the MMX forms. */
function width(insn: SimdInsn): number {
  return isMmx(insn, 0) ? 8 : 16;
}

// ---- floating point: MXCSR, flags, x86 results around the softfloat core ---------------------

const MX_IE = 0x01;
const MX_ZE = 0x04;
const MX_OE = 0x08;
const MX_UE = 0x10;
const MX_PE = 0x20;
const MX_DAZ = 0x40;
const MX_UM = 0x800;
const MX_FTZ = 0x8000;
/** Exceptions detected before the result is computed (DE is never raised, see above). */
const MX_PRE = MX_IE | MX_ZE;

/** MXCSR.RC (nearest, down, up, toward zero) -> softfloat rounding mode. */
const RC_TO_RM = [RNE, RDN, RUP, RTZ];
/** softfloat flags (NX UF OF DZ NV) -> MXCSR flags (PE UE OE ZE IE). */
const SF_TO_MX = new Uint8Array(32);
for (let f = 0; f < 32; f++) {
  SF_TO_MX[f] = (f & 1 ? MX_PE : 0) | (f & 2 ? MX_UE : 0) | (f & 4 ? MX_OE : 0) | (f & 8 ? MX_ZE : 0) | (f & 16 ? MX_IE : 0);
}

const SIGN = 0x80000000 | 0;
const DEFAULT_NAN32 = 0xffc00000 | 0;
const DEFAULT_NAN64_HI = 0xfff80000 | 0;
const ONE32 = 0x3f800000;
const INT32_INDEFINITE = SIGN;

/** The MXCSR of the instruction being executed, decoded. */
let mx = 0x1f80;
let rmode = RNE;
let daz = false;
let ftz = false;
/** MXCSR exception flags raised so far by this instruction. */
let fl = 0;
/** High word of the last 64-bit result (f64 or int64). */
let hiOut = 0;

function fpBegin(st: Int32Array): void {
  mx = st[MXCSR];
  rmode = RC_TO_RM[(mx >> 13) & 3];
  daz = (mx & MX_DAZ) !== 0;
  ftz = (mx & MX_FTZ) !== 0;
  fl = 0;
}

/**
 * Records the instruction's exception flags, or raises #XM (#UD) for an unmasked one before anything
 * is written. As on hardware, an unmasked invalid or divide-by-zero keeps the post-computation flags
 * (overflow, underflow, precision) from being set.
 */
function fpCommit(h: SimdHost): void {
  if (fl === 0) return;
  const unmasked = fl & ~(mx >> 7) & 0x3f;
  if (unmasked !== 0) {
    h.state[MXCSR] = mx | (unmasked & MX_PRE ? fl & MX_PRE : fl);
    throw new GuestFault(h.osxmmexcpt ? Vector.XM : Vector.UD, -1);
  }
  h.state[MXCSR] = mx | fl;
}

const enum Ar {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
}

// -- binary32

function isNaN32(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000;
}
function isSNaN32(a: number): boolean {
  return isNaN32(a) && (a & 0x400000) === 0;
}
/** DAZ: a denormal reads as a zero of its sign. */
function flush32(a: number): number {
  return (a & 0x7f800000) === 0 ? a & SIGN : a;
}

/**
 * The NaN result of an operation with NaN operand(s), QEMU's x87 rule: an SNaN yields to a QNaN,
 * two of a kind pick the larger significand (the positive one on a tie); quieted. IE for an SNaN.
 */
function pickNaN32(a: number, b: number): number {
  const an = isNaN32(a), bn = isNaN32(b);
  const as = an && (a & 0x400000) === 0, bs = bn && (b & 0x400000) === 0;
  if (as || bs) fl |= MX_IE;
  let useB: boolean;
  if (!an) useB = true;
  else if (!bn) useB = false;
  else if (as !== bs) useB = as; // an SNaN against a QNaN: the QNaN
  else {
    const fa = a & 0x7fffff, fb = b & 0x7fffff;
    useB = !(fa > fb || (fa === fb && a >= 0 && b < 0));
  }
  return (useB ? b : a) | 0x400000;
}

function sf32(op: Ar, a: number, b: number, rm: number): number {
  switch (op) {
    case Ar.Add: return f32_add(a, b, rm);
    case Ar.Sub: return f32_sub(a, b, rm);
    case Ar.Mul: return f32_mul(a, b, rm);
    default: return f32_div(a, b, rm);
  }
}

/** a op b with the x86 result and flags. */
function ar32(op: Ar, a: number, b: number): number {
  if (daz) {
    a = flush32(a);
    b = flush32(b);
  }
  if (isNaN32(a) || isNaN32(b)) return pickNaN32(a, b);
  fpu.flags = 0;
  const r = sf32(op, a, b, rmode);
  const f = fpu.flags;
  if (f & FLAG_NV) {
    fl |= MX_IE;
    return DEFAULT_NAN32;
  }
  // Exponent field 0 or 1: the result may be tiny (FTZ, unmasked underflow).
  if ((r & 0x7f000000) === 0 && (ftz || (mx & MX_UM) === 0)) return tiny32(op, a, b, r, f);
  fl |= SF_TO_MX[f];
  return r;
}

/**
 * A result near the underflow threshold. FTZ (QEMU) flushes when the exact result is below 2^-126,
 * that is when rounding it toward zero gives a denormal; the sole ambiguous rounded value is the
 * smallest normal. An unmasked underflow exception is raised for any denormal result, exact or not.
 */
function tiny32(op: Ar, a: number, b: number, r: number, f: number): number {
  const mag = r & 0x7fffffff;
  if (ftz) {
    let tiny = mag < 0x800000 ? mag !== 0 || (f & FLAG_NX) !== 0 : false;
    if (mag === 0x800000 && f & FLAG_NX) {
      tiny = rmode !== RTZ && (sf32(op, a, b, RTZ) & 0x7fffffff) < 0x800000;
      fpu.flags = f;
    }
    if (tiny) {
      fl |= MX_UE | MX_PE;
      return r & SIGN;
    }
  }
  if ((mx & MX_UM) === 0 && mag !== 0 && mag < 0x800000) fl |= MX_UE;
  fl |= SF_TO_MX[f];
  return r;
}

function sqrt32(a: number): number {
  if (daz) a = flush32(a);
  if (isNaN32(a)) {
    if (isSNaN32(a)) fl |= MX_IE;
    return a | 0x400000;
  }
  if (a < 0 && a !== SIGN) {
    fl |= MX_IE;
    return DEFAULT_NAN32;
  }
  fpu.flags = 0;
  const r = f32_sqrt(a, rmode);
  fl |= SF_TO_MX[fpu.flags];
  return r;
}

/** RCPPS/RCPSS (QEMU: an exact division, flags dropped). */
function rcp32(a: number): number {
  const saved = fl;
  const r = ar32(Ar.Div, ONE32, a);
  fl = saved;
  return r;
}
function rsqrt32(a: number): number {
  const saved = fl;
  const r = ar32(Ar.Div, ONE32, sqrt32(a));
  fl = saved;
  return r;
}

/** Ordering key of a non-NaN binary32 (both zeros equal). */
function key32(a: number): number {
  return a < 0 ? -(a & 0x7fffffff) : a;
}

/** MINPS & co.: the first operand if it is less, else the second (NaNs, equal zeros); IE for any NaN. */
function min32(a: number, b: number): number {
  const x = daz ? flush32(a) : a, y = daz ? flush32(b) : b;
  if (isNaN32(x) || isNaN32(y)) {
    fl |= MX_IE;
    return b;
  }
  return key32(x) < key32(y) ? a : b;
}
function max32(a: number, b: number): number {
  const x = daz ? flush32(a) : a, y = daz ? flush32(b) : b;
  if (isNaN32(x) || isNaN32(y)) {
    fl |= MX_IE;
    return b;
  }
  return key32(y) < key32(x) ? a : b;
}

/** Relations of compares: less, equal, greater, unordered. */
const enum Rel {
  Lt = 0,
  Eq = 1,
  Gt = 2,
  Un = 3,
}

/** Compare; IE for an SNaN, or for any NaN when `signaling`. */
function cmp32(a: number, b: number, signaling: boolean): Rel {
  if (daz) {
    a = flush32(a);
    b = flush32(b);
  }
  if (isNaN32(a) || isNaN32(b)) {
    if (signaling || isSNaN32(a) || isSNaN32(b)) fl |= MX_IE;
    return Rel.Un;
  }
  const x = key32(a), y = key32(b);
  return x < y ? Rel.Lt : x === y ? Rel.Eq : Rel.Gt;
}

/** float -> int32 (mode: rmode or RTZ); out of range or NaN: the integer indefinite, IE only. */
function cvt32toI32(a: number, rm: number): number {
  if (daz) a = flush32(a);
  fpu.flags = 0;
  const r = f32_to_i32(a, rm);
  if (fpu.flags & FLAG_NV) {
    fl |= MX_IE;
    return INT32_INDEFINITE;
  }
  if (fpu.flags & FLAG_NX) fl |= MX_PE;
  return r;
}
function cvt32toI64(a: number, rm: number): number {
  if (daz) a = flush32(a);
  fpu.flags = 0;
  const r = f32_to_i64(a, rm);
  if (fpu.flags & FLAG_NV) {
    fl |= MX_IE;
    hiOut = SIGN;
    return 0;
  }
  if (fpu.flags & FLAG_NX) fl |= MX_PE;
  hiOut = fpu.hi;
  return r;
}

/** binary32 -> binary64 (exact; NaNs keep their payload, quieted). */
function cvt32to64(a: number): number {
  if (daz) a = flush32(a);
  if (isNaN32(a)) {
    if (isSNaN32(a)) fl |= MX_IE;
    hiOut = (a & SIGN) | 0x7ff80000 | ((a & 0x7fffff) >>> 3);
    return a << 29;
  }
  const lo = f32_to_f64(a);
  hiOut = fpu.hi;
  return lo;
}

function cvtI32to32(x: number): number {
  fpu.flags = 0;
  const r = i32_to_f32(x, rmode);
  fl |= SF_TO_MX[fpu.flags];
  return r;
}
function cvtI64to32(lo: number, hi: number): number {
  fpu.flags = 0;
  const r = i64_to_f32(lo, hi, rmode);
  fl |= SF_TO_MX[fpu.flags];
  return r;
}

// -- binary64 (values as lo, hi; results return lo with the high word in hiOut)

function isNaN64(lo: number, hi: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}
function isSNaN64(lo: number, hi: number): boolean {
  return isNaN64(lo, hi) && (hi & 0x80000) === 0;
}
function isDenormal64(hi: number): boolean {
  return (hi & 0x7ff00000) === 0;
}

function pickNaN64(alo: number, ahi: number, blo: number, bhi: number): number {
  const an = isNaN64(alo, ahi), bn = isNaN64(blo, bhi);
  const as = an && (ahi & 0x80000) === 0, bs = bn && (bhi & 0x80000) === 0;
  if (as || bs) fl |= MX_IE;
  let useB: boolean;
  if (!an) useB = true;
  else if (!bn) useB = false;
  else if (as !== bs) useB = as;
  else {
    const fa = ahi & 0xfffff, fb = bhi & 0xfffff;
    const larger = fa !== fb ? fa > fb : alo >>> 0 !== blo >>> 0 ? alo >>> 0 > blo >>> 0 : ahi >= 0 && bhi < 0;
    useB = !larger;
  }
  hiOut = (useB ? bhi : ahi) | 0x80000;
  return useB ? blo : alo;
}

function sf64(op: Ar, alo: number, ahi: number, blo: number, bhi: number, rm: number): number {
  switch (op) {
    case Ar.Add: return f64_add(alo, ahi, blo, bhi, rm);
    case Ar.Sub: return f64_sub(alo, ahi, blo, bhi, rm);
    case Ar.Mul: return f64_mul(alo, ahi, blo, bhi, rm);
    default: return f64_div(alo, ahi, blo, bhi, rm);
  }
}

function ar64(op: Ar, alo: number, ahi: number, blo: number, bhi: number): number {
  if (daz) {
    if (isDenormal64(ahi)) {
      alo = 0;
      ahi &= SIGN;
    }
    if (isDenormal64(bhi)) {
      blo = 0;
      bhi &= SIGN;
    }
  }
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) return pickNaN64(alo, ahi, blo, bhi);
  fpu.flags = 0;
  const lo = sf64(op, alo, ahi, blo, bhi, rmode);
  const hi = fpu.hi;
  const f = fpu.flags;
  if (f & FLAG_NV) {
    fl |= MX_IE;
    hiOut = DEFAULT_NAN64_HI;
    return 0;
  }
  hiOut = hi;
  if ((hi & 0x7fe00000) === 0 && (ftz || (mx & MX_UM) === 0)) return tiny64(op, alo, ahi, blo, bhi, lo, f);
  fl |= SF_TO_MX[f];
  return lo;
}

/** As tiny32. */
function tiny64(op: Ar, alo: number, ahi: number, blo: number, bhi: number, lo: number, f: number): number {
  const hi = hiOut;
  const mhi = hi & 0x7fffffff;
  const denormal = mhi < 0x100000 && (mhi | lo) !== 0;
  if (ftz) {
    let tiny = denormal || ((mhi | lo) === 0 && (f & FLAG_NX) !== 0);
    if (mhi === 0x100000 && lo === 0 && f & FLAG_NX && rmode !== RTZ) {
      sf64(op, alo, ahi, blo, bhi, RTZ);
      tiny = (fpu.hi & 0x7ff00000) === 0;
      fpu.flags = f;
    }
    if (tiny) {
      fl |= MX_UE | MX_PE;
      hiOut = hi & SIGN;
      return 0;
    }
  }
  if ((mx & MX_UM) === 0 && denormal) fl |= MX_UE;
  fl |= SF_TO_MX[f];
  return lo;
}

function sqrt64(lo: number, hi: number): number {
  if (daz && isDenormal64(hi)) {
    lo = 0;
    hi &= SIGN;
  }
  if (isNaN64(lo, hi)) {
    if (isSNaN64(lo, hi)) fl |= MX_IE;
    hiOut = hi | 0x80000;
    return lo;
  }
  if (hi < 0 && ((hi & 0x7fffffff) | lo) !== 0) {
    fl |= MX_IE;
    hiOut = DEFAULT_NAN64_HI;
    return 0;
  }
  fpu.flags = 0;
  const r = f64_sqrt(lo, hi, rmode);
  hiOut = fpu.hi;
  fl |= SF_TO_MX[fpu.flags];
  return r;
}

/** Ordering of non-NaN binary64 values: -1, 0, 1 (both zeros equal). */
function order64(alo: number, ahi: number, blo: number, bhi: number): number {
  const az = ((ahi & 0x7fffffff) | alo) === 0, bz = ((bhi & 0x7fffffff) | blo) === 0;
  if (az && bz) return 0;
  const an = ahi < 0, bn = bhi < 0;
  if (an !== bn) return an ? -1 : 1;
  const ah = ahi & 0x7fffffff, bh = bhi & 0x7fffffff;
  let c = ah !== bh ? (ah < bh ? -1 : 1) : alo >>> 0 !== blo >>> 0 ? (alo >>> 0 < blo >>> 0 ? -1 : 1) : 0;
  if (an) c = -c;
  return c;
}

function flushLo64(lo: number, hi: number): number {
  return daz && isDenormal64(hi) ? 0 : lo;
}
function flushHi64(hi: number): number {
  return daz && isDenormal64(hi) ? hi & SIGN : hi;
}

/** MINPD & co.: whether the second operand is the result. */
function minmax64UsesB(alo: number, ahi: number, blo: number, bhi: number, max: boolean): boolean {
  const xlo = flushLo64(alo, ahi), xhi = flushHi64(ahi), ylo = flushLo64(blo, bhi), yhi = flushHi64(bhi);
  if (isNaN64(xlo, xhi) || isNaN64(ylo, yhi)) {
    fl |= MX_IE;
    return true;
  }
  const o = order64(xlo, xhi, ylo, yhi);
  return max ? !(o > 0) : !(o < 0);
}

function cmp64(alo: number, ahi: number, blo: number, bhi: number, signaling: boolean): Rel {
  const xlo = flushLo64(alo, ahi), xhi = flushHi64(ahi), ylo = flushLo64(blo, bhi), yhi = flushHi64(bhi);
  if (isNaN64(xlo, xhi) || isNaN64(ylo, yhi)) {
    if (signaling || isSNaN64(xlo, xhi) || isSNaN64(ylo, yhi)) fl |= MX_IE;
    return Rel.Un;
  }
  const o = order64(xlo, xhi, ylo, yhi);
  return o < 0 ? Rel.Lt : o === 0 ? Rel.Eq : Rel.Gt;
}

function cvt64toI32(lo: number, hi: number, rm: number): number {
  fpu.flags = 0;
  const r = f64_to_i32(flushLo64(lo, hi), flushHi64(hi), rm);
  if (fpu.flags & FLAG_NV) {
    fl |= MX_IE;
    return INT32_INDEFINITE;
  }
  if (fpu.flags & FLAG_NX) fl |= MX_PE;
  return r;
}
function cvt64toI64(lo: number, hi: number, rm: number): number {
  fpu.flags = 0;
  const r = f64_to_i64(flushLo64(lo, hi), flushHi64(hi), rm);
  if (fpu.flags & FLAG_NV) {
    fl |= MX_IE;
    hiOut = SIGN;
    return 0;
  }
  if (fpu.flags & FLAG_NX) fl |= MX_PE;
  hiOut = fpu.hi;
  return r;
}

/** binary64 -> binary32 in the MXCSR rounding mode; NaNs keep the top of their payload, quieted. */
function cvt64to32(lo: number, hi: number): number {
  if (daz && isDenormal64(hi)) {
    lo = 0;
    hi &= SIGN;
  }
  if (isNaN64(lo, hi)) {
    if (isSNaN64(lo, hi)) fl |= MX_IE;
    return (hi & SIGN) | 0x7fc00000 | ((hi & 0xfffff) << 3) | (lo >>> 29);
  }
  fpu.flags = 0;
  const r = f64_to_f32(lo, hi, rmode);
  const f = fpu.flags;
  if ((r & 0x7f000000) === 0) {
    // The input is the exact value: FTZ's test (below 2^-126) is direct.
    const mag = r & 0x7fffffff;
    if (ftz && ((hi & 0x7fffffff) | lo) !== 0 && (hi & 0x7fffffff) < 0x38100000) {
      fl |= MX_UE | MX_PE;
      return r & SIGN;
    }
    if ((mx & MX_UM) === 0 && mag !== 0 && mag < 0x800000) fl |= MX_UE;
  }
  fl |= SF_TO_MX[f];
  return r;
}

function cvtI64to64(lo: number, hi: number): number {
  fpu.flags = 0;
  const r = i64_to_f64(lo, hi, rmode);
  hiOut = fpu.hi;
  fl |= SF_TO_MX[fpu.flags];
  return r;
}
function cvtI32to64(x: number): number {
  const r = i32_to_f64(x);
  hiOut = fpu.hi;
  return r;
}

// ---- packed and scalar floating-point instructions ------------------------------------------

const enum FpOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Min = 4,
  Max = 5,
  Sqrt = 6,
  Rcp = 7,
  Rsqrt = 8,
}

function lane32(op: FpOp, a: number, b: number): number {
  switch (op) {
    case FpOp.Min: return min32(a, b);
    case FpOp.Max: return max32(a, b);
    case FpOp.Sqrt: return sqrt32(b);
    case FpOp.Rcp: return rcp32(b);
    case FpOp.Rsqrt: return rsqrt32(b);
    default: return ar32(op as number as Ar, a, b);
  }
}

/** Lane k (0, 1) of R = D op S in binary64. */
function lane64(op: FpOp, k: number): void {
  const alo = D32[2 * k], ahi = D32[2 * k + 1], blo = S32[2 * k], bhi = S32[2 * k + 1];
  let lo: number;
  switch (op) {
    case FpOp.Min:
    case FpOp.Max:
      if (minmax64UsesB(alo, ahi, blo, bhi, op === FpOp.Max)) {
        lo = blo;
        hiOut = bhi;
      } else {
        lo = alo;
        hiOut = ahi;
      }
      break;
    case FpOp.Sqrt:
      lo = sqrt64(blo, bhi);
      break;
    default:
      lo = ar64(op as number as Ar, alo, ahi, blo, bhi);
  }
  R32[2 * k] = lo;
  R32[2 * k + 1] = hiOut;
}

/** ADDPS ... SQRTSD, RCPPS, RSQRTSS: packed or scalar (the upper lanes kept from the destination). */
function fpArith(op: FpOp, double: boolean, scalar: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    fpBegin(h.state);
    copy4(R32, D32);
    if (double) {
      lane64(op, 0);
      if (!scalar) lane64(op, 1);
    } else {
      const n = scalar ? 1 : 4;
      for (let i = 0; i < n; i++) R32[i] = lane32(op, D32[i], S32[i]);
    }
    fpCommit(h);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** ADDSUBPS/PD: subtract in even lanes, add in odd ones. */
function addsub(double: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    fpBegin(h.state);
    if (double) {
      lane64(FpOp.Sub, 0);
      lane64(FpOp.Add, 1);
    } else {
      for (let i = 0; i < 4; i++) R32[i] = ar32(i & 1 ? Ar.Add : Ar.Sub, D32[i], S32[i]);
    }
    fpCommit(h);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** HADDPS/HSUBPS/HADDPD/HSUBPD: adjacent pairs of the destination, then of the source. */
function horizontal(op: Ar, double: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    fpBegin(h.state);
    if (double) {
      R32[0] = ar64(op, D32[0], D32[1], D32[2], D32[3]);
      R32[1] = hiOut;
      R32[2] = ar64(op, S32[0], S32[1], S32[2], S32[3]);
      R32[3] = hiOut;
    } else {
      R32[0] = ar32(op, D32[0], D32[1]);
      R32[1] = ar32(op, D32[2], D32[3]);
      R32[2] = ar32(op, S32[0], S32[1]);
      R32[3] = ar32(op, S32[2], S32[3]);
    }
    fpCommit(h);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** CMPPS predicates 0-7 (EQ LT LE UNORD NEQ NLT NLE ORD): which relations are true, bit per Rel. */
const CMP_TRUE = [0b0010, 0b0001, 0b0011, 0b1000, 0b1101, 0b1110, 0b1100, 0b0111];
/** LT, LE, NLT and NLE signal on QNaNs too. */
const CMP_SIGNALING = 0b01100110;

function cmpPacked(double: boolean, scalar: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    fpBegin(h.state);
    const p = insn.imm & 7;
    const sig = ((CMP_SIGNALING >> p) & 1) !== 0;
    const truth = CMP_TRUE[p];
    copy4(R32, D32);
    if (double) {
      const n = scalar ? 1 : 2;
      for (let k = 0; k < n; k++) {
        const m = (truth >> cmp64(D32[2 * k], D32[2 * k + 1], S32[2 * k], S32[2 * k + 1], sig)) & 1 ? -1 : 0;
        R32[2 * k] = R32[2 * k + 1] = m;
      }
    } else {
      const n = scalar ? 1 : 4;
      for (let i = 0; i < n; i++) R32[i] = (truth >> cmp32(D32[i], S32[i], sig)) & 1 ? -1 : 0;
    }
    fpCommit(h);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** COMISS & co.: ZF PF CF from the relation, OF SF AF cleared (lazy flags: CC_OP_EFLAGS). */
const COMIS_FLAGS = [CF, ZF, 0, ZF | PF | CF];
function comis(double: boolean, signaling: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    fpBegin(h.state);
    const rel = double ? cmp64(D32[0], D32[1], S32[0], S32[1], signaling) : cmp32(D32[0], S32[0], signaling);
    fpCommit(h);
    const st = h.state;
    st[CC_OP] = CC_OP_EFLAGS;
    st[CC_SRC] = COMIS_FLAGS[rel];
    st[CC_SRC + 1] = 0;
    return 0;
  };
}

// ---- conversions ----------------------------------------------------------------------------

/** How a conversion's result is placed: `lanes` results from the source's lanes. */
const enum Cv {
  /** CVTDQ2PS: 4 int32 -> 4 binary32. */
  DqToPs,
  /** CVTPS2DQ, CVTTPS2DQ. */
  PsToDq,
  /** CVTDQ2PD, CVTPI2PD: 2 int32 -> 2 binary64. */
  DqToPd,
  /** CVTPD2DQ, CVTTPD2DQ (upper half zeroed); CVTPD2PI, CVTTPD2PI to MMX. */
  PdToDq,
  /** CVTPS2PD. */
  PsToPd,
  /** CVTPD2PS (upper half zeroed). */
  PdToPs,
  /** CVTSS2SD (merge). */
  SsToSd,
  /** CVTSD2SS (merge). */
  SdToSs,
  /** CVTPI2PS: 2 int32 into the low half, the upper half kept. */
  PiToPs,
  /** CVTPS2PI, CVTTPS2PI to MMX. */
  PsToPi,
  /** CVTSI2SS (merge), 32- or 64-bit source. */
  SiToSs,
  /** CVTSI2SD (merge). */
  SiToSd,
}

function convert(kind: Cv, truncate: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    fpBegin(h.state);
    const rm = truncate ? RTZ : rmode;
    switch (kind) {
      case Cv.DqToPs:
        for (let i = 0; i < 4; i++) R32[i] = cvtI32to32(S32[i]);
        break;
      case Cv.PsToDq:
        for (let i = 0; i < 4; i++) R32[i] = cvt32toI32(S32[i], rm);
        break;
      case Cv.DqToPd: {
        const a = S32[0], b = S32[1];
        R32[0] = cvtI32to64(a);
        R32[1] = hiOut;
        R32[2] = cvtI32to64(b);
        R32[3] = hiOut;
        break;
      }
      case Cv.PdToDq:
        R32[0] = cvt64toI32(S32[0], S32[1], rm);
        R32[1] = cvt64toI32(S32[2], S32[3], rm);
        R32[2] = R32[3] = 0;
        break;
      case Cv.PsToPd: {
        const a = S32[0], b = S32[1];
        R32[0] = cvt32to64(a);
        R32[1] = hiOut;
        R32[2] = cvt32to64(b);
        R32[3] = hiOut;
        break;
      }
      case Cv.PdToPs:
        R32[0] = cvt64to32(S32[0], S32[1]);
        R32[1] = cvt64to32(S32[2], S32[3]);
        R32[2] = R32[3] = 0;
        break;
      case Cv.SsToSd:
        readDst(h, insn);
        copy4(R32, D32);
        R32[0] = cvt32to64(S32[0]);
        R32[1] = hiOut;
        break;
      case Cv.SdToSs:
        readDst(h, insn);
        copy4(R32, D32);
        R32[0] = cvt64to32(S32[0], S32[1]);
        break;
      case Cv.PiToPs:
        readDst(h, insn);
        copy4(R32, D32);
        R32[0] = cvtI32to32(S32[0]);
        R32[1] = cvtI32to32(S32[1]);
        break;
      case Cv.PsToPi:
        R32[0] = cvt32toI32(S32[0], rm);
        R32[1] = cvt32toI32(S32[1], rm);
        R32[2] = R32[3] = 0;
        break;
      case Cv.SiToSs:
        readDst(h, insn);
        copy4(R32, D32);
        R32[0] = insn.operands[1].size === 8 ? cvtI64to32(S32[0], S32[1]) : cvtI32to32(S32[0]);
        break;
      case Cv.SiToSd:
        readDst(h, insn);
        copy4(R32, D32);
        R32[0] = insn.operands[1].size === 8 ? cvtI64to64(S32[0], S32[1]) : cvtI32to64(S32[0]);
        R32[1] = hiOut;
        break;
    }
    fpCommit(h);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** CVTSS2SI & co.: the result for a general register (the translator writes it with its size). */
function convertToGpr(double: boolean, truncate: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    fpBegin(h.state);
    const rm = truncate ? RTZ : rmode;
    let lo: number;
    if (insn.operands[0].size === 8) {
      lo = double ? cvt64toI64(S32[0], S32[1], rm) : cvt32toI64(S32[0], rm);
    } else {
      lo = double ? cvt64toI32(S32[0], S32[1], rm) : cvt32toI32(S32[0], rm);
      hiOut = 0;
    }
    fpCommit(h);
    h.retHi[0] = hiOut;
    return lo;
  };
}

// ---- packed integers: R = D op S over `n` bytes (8: MMX, 16: XMM) ----------------------------

const sat8s = (x: number): number => (x < -128 ? -128 : x > 127 ? 127 : x);
const sat8u = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : x);
const sat16s = (x: number): number => (x < -32768 ? -32768 : x > 32767 ? 32767 : x);
const sat16u = (x: number): number => (x < 0 ? 0 : x > 65535 ? 65535 : x);
/** PSIGN*: the destination element negated, zeroed or kept by the source element's sign. */
const psign = (d: number, s: number): number => (s < 0 ? -d : s === 0 ? 0 : d);

function add64(alo: number, ahi: number, blo: number, bhi: number): number {
  const lo = (alo + blo) | 0;
  hiOut = (ahi + bhi + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  return lo;
}
function sub64(alo: number, ahi: number, blo: number, bhi: number): number {
  const lo = (alo - blo) | 0;
  hiOut = (ahi - bhi - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
  return lo;
}
/** Unsigned 32 x 32 -> 64 (PMULUDQ). */
function mulu32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const mid = ah * bl + al * bh; // < 2^33
  const lo = al * bl + (mid % 65536) * 65536; // < 2^49: exact
  hiOut = (ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) | 0;
  return lo | 0;
}

/** Lane-wise a + b for the byte (top = 0x80808080) or word (0x80008000) lanes of a dword. */
function addLanes(a: number, b: number, top: number): number {
  return (((a & ~top) + (b & ~top)) ^ ((a ^ b) & top)) | 0;
}
function subLanes(a: number, b: number, top: number): number {
  return (((a | top) - (b & ~top)) ^ ((a ^ ~b) & top)) | 0;
}
/** The top bit of every lane of x that is zero. */
function zeroLanes(x: number, top: number): number {
  return ~(((x & ~top) + ~top) | x) & top;
}

/** PUNPCKL/H: interleave the low (high) halves of D and S, `size` bytes per element. */
function unpack(size: number, high: boolean, n: number): void {
  const count = n / size / 2; // elements taken from each operand
  const base = high ? count : 0;
  switch (size) {
    case 1:
      for (let e = 0; e < count; e++) {
        R8[2 * e] = D8[base + e];
        R8[2 * e + 1] = S8[base + e];
      }
      return;
    case 2:
      for (let e = 0; e < count; e++) {
        R16[2 * e] = D16[base + e];
        R16[2 * e + 1] = S16[base + e];
      }
      return;
    case 4:
      for (let e = 0; e < count; e++) {
        R32[2 * e] = D32[base + e];
        R32[2 * e + 1] = S32[base + e];
      }
      return;
    default: {
      const q = 2 * base;
      R32[0] = D32[q];
      R32[1] = D32[q + 1];
      R32[2] = S32[q];
      R32[3] = S32[q + 1];
    }
  }
}

/**
 * The packed-integer operations: one loop each behind a switch taken once per instruction
 * (element callbacks would cost a megamorphic call per element, several times slower).
 */
const enum IOp {
  PaddB, PaddW, PaddD, PaddQ, PsubB, PsubW, PsubD, PsubQ,
  PaddSB, PaddSW, PaddUSB, PaddUSW, PsubSB, PsubSW, PsubUSB, PsubUSW,
  PmulLW, PmulHW, PmulHUW, PmulHRSW, PmulUDQ, PmaddWD, PmaddUBSW, PsadBW,
  PavgB, PavgW, PminUB, PmaxUB, PminSW, PmaxSW,
  PcmpeqB, PcmpeqW, PcmpeqD, PcmpgtB, PcmpgtW, PcmpgtD,
  And, AndN, Or, Xor,
  PackSSWB, PackUSWB, PackSSDW,
  UnpckLBW, UnpckLWD, UnpckLDQ, UnpckLQDQ, UnpckHBW, UnpckHWD, UnpckHDQ, UnpckHQDQ,
  Pshufb, PhaddW, PhsubW, PhaddSW, PhsubSW, PhaddD, PhsubD, PsignB, PsignW, PsignD,
}

function intOp(op: IOp, n: number): void {
  const nw = n >> 1, nd = n >> 2;
  switch (op) {
    // The common byte and word ops work on dwords (SIMD within a register): a quarter of the iterations.
    case IOp.PaddB: for (let i = 0; i < nd; i++) R32[i] = addLanes(D32[i], S32[i], 0x80808080); return;
    case IOp.PaddW: for (let i = 0; i < nd; i++) R32[i] = addLanes(D32[i], S32[i], 0x80008000); return;
    case IOp.PaddD: for (let i = 0; i < nd; i++) R32[i] = D32[i] + S32[i]; return;
    case IOp.PsubB: for (let i = 0; i < nd; i++) R32[i] = subLanes(D32[i], S32[i], 0x80808080); return;
    case IOp.PsubW: for (let i = 0; i < nd; i++) R32[i] = subLanes(D32[i], S32[i], 0x80008000); return;
    case IOp.PsubD: for (let i = 0; i < nd; i++) R32[i] = D32[i] - S32[i]; return;
    case IOp.PaddQ:
      for (let i = 0; i < nd; i += 2) {
        R32[i] = add64(D32[i], D32[i + 1], S32[i], S32[i + 1]);
        R32[i + 1] = hiOut;
      }
      return;
    case IOp.PsubQ:
      for (let i = 0; i < nd; i += 2) {
        R32[i] = sub64(D32[i], D32[i + 1], S32[i], S32[i + 1]);
        R32[i + 1] = hiOut;
      }
      return;
    case IOp.PaddSB: for (let i = 0; i < n; i++) R8[i] = sat8s(DI8[i] + SI8[i]); return;
    case IOp.PaddSW: for (let i = 0; i < nw; i++) R16[i] = sat16s(DI16[i] + SI16[i]); return;
    case IOp.PaddUSB: for (let i = 0; i < n; i++) R8[i] = sat8u(D8[i] + S8[i]); return;
    case IOp.PaddUSW: for (let i = 0; i < nw; i++) R16[i] = sat16u(D16[i] + S16[i]); return;
    case IOp.PsubSB: for (let i = 0; i < n; i++) R8[i] = sat8s(DI8[i] - SI8[i]); return;
    case IOp.PsubSW: for (let i = 0; i < nw; i++) R16[i] = sat16s(DI16[i] - SI16[i]); return;
    case IOp.PsubUSB: for (let i = 0; i < n; i++) R8[i] = sat8u(D8[i] - S8[i]); return;
    case IOp.PsubUSW: for (let i = 0; i < nw; i++) R16[i] = sat16u(D16[i] - S16[i]); return;
    case IOp.PmulLW: for (let i = 0; i < nw; i++) R16[i] = Math.imul(D16[i], S16[i]); return;
    case IOp.PmulHW: for (let i = 0; i < nw; i++) R16[i] = (DI16[i] * SI16[i]) >> 16; return;
    case IOp.PmulHUW: for (let i = 0; i < nw; i++) R16[i] = (D16[i] * S16[i]) >>> 16; return;
    case IOp.PmulHRSW: for (let i = 0; i < nw; i++) R16[i] = (DI16[i] * SI16[i] + 0x4000) >> 15; return;
    case IOp.PmulUDQ:
      for (let i = 0; i < nd; i += 2) {
        R32[i] = mulu32(D32[i], S32[i]);
        R32[i + 1] = hiOut;
      }
      return;
    case IOp.PmaddWD:
      for (let i = 0; i < nd; i++) R32[i] = DI16[2 * i] * SI16[2 * i] + DI16[2 * i + 1] * SI16[2 * i + 1];
      return;
    case IOp.PmaddUBSW: // unsigned bytes of the destination times signed bytes of the source
      for (let i = 0; i < nw; i++) R16[i] = sat16s(D8[2 * i] * SI8[2 * i] + D8[2 * i + 1] * SI8[2 * i + 1]);
      return;
    case IOp.PsadBW:
      R32[0] = R32[1] = R32[2] = R32[3] = 0;
      for (let g = 0; g < n; g += 8) {
        let sum = 0;
        for (let i = g; i < g + 8; i++) sum += Math.abs(D8[i] - S8[i]);
        R16[g >> 1] = sum;
      }
      return;
    case IOp.PavgB: for (let i = 0; i < n; i++) R8[i] = (D8[i] + S8[i] + 1) >> 1; return;
    case IOp.PavgW: for (let i = 0; i < nw; i++) R16[i] = (D16[i] + S16[i] + 1) >> 1; return;
    case IOp.PminUB: for (let i = 0; i < n; i++) R8[i] = D8[i] < S8[i] ? D8[i] : S8[i]; return;
    case IOp.PmaxUB: for (let i = 0; i < n; i++) R8[i] = D8[i] > S8[i] ? D8[i] : S8[i]; return;
    case IOp.PminSW: for (let i = 0; i < nw; i++) R16[i] = DI16[i] < SI16[i] ? DI16[i] : SI16[i]; return;
    case IOp.PmaxSW: for (let i = 0; i < nw; i++) R16[i] = DI16[i] > SI16[i] ? DI16[i] : SI16[i]; return;
    case IOp.PcmpeqB: for (let i = 0; i < nd; i++) R32[i] = Math.imul(zeroLanes(D32[i] ^ S32[i], 0x80808080) >>> 7, 0xff); return;
    case IOp.PcmpeqW: for (let i = 0; i < nd; i++) R32[i] = Math.imul(zeroLanes(D32[i] ^ S32[i], 0x80008000) >>> 15, 0xffff); return;
    case IOp.PcmpeqD: for (let i = 0; i < nd; i++) R32[i] = D32[i] === S32[i] ? -1 : 0; return;
    case IOp.PcmpgtB: for (let i = 0; i < n; i++) R8[i] = DI8[i] > SI8[i] ? 0xff : 0; return;
    case IOp.PcmpgtW: for (let i = 0; i < nw; i++) R16[i] = DI16[i] > SI16[i] ? 0xffff : 0; return;
    case IOp.PcmpgtD: for (let i = 0; i < nd; i++) R32[i] = D32[i] > S32[i] ? -1 : 0; return;
    case IOp.And: for (let i = 0; i < nd; i++) R32[i] = D32[i] & S32[i]; return;
    case IOp.AndN: for (let i = 0; i < nd; i++) R32[i] = ~D32[i] & S32[i]; return;
    case IOp.Or: for (let i = 0; i < nd; i++) R32[i] = D32[i] | S32[i]; return;
    case IOp.Xor: for (let i = 0; i < nd; i++) R32[i] = D32[i] ^ S32[i]; return;
    // Packs: the destination's elements narrowed, then the source's.
    case IOp.PackSSWB:
      for (let i = 0; i < nw; i++) R8[i] = sat8s(DI16[i]);
      for (let i = 0; i < nw; i++) R8[nw + i] = sat8s(SI16[i]);
      return;
    case IOp.PackUSWB:
      for (let i = 0; i < nw; i++) R8[i] = sat8u(DI16[i]);
      for (let i = 0; i < nw; i++) R8[nw + i] = sat8u(SI16[i]);
      return;
    case IOp.PackSSDW:
      for (let i = 0; i < nd; i++) R16[i] = sat16s(D32[i]);
      for (let i = 0; i < nd; i++) R16[nd + i] = sat16s(S32[i]);
      return;
    case IOp.UnpckLBW: unpack(1, false, n); return;
    case IOp.UnpckLWD: unpack(2, false, n); return;
    case IOp.UnpckLDQ: unpack(4, false, n); return;
    case IOp.UnpckLQDQ: unpack(8, false, n); return;
    case IOp.UnpckHBW: unpack(1, true, n); return;
    case IOp.UnpckHWD: unpack(2, true, n); return;
    case IOp.UnpckHDQ: unpack(4, true, n); return;
    case IOp.UnpckHQDQ: unpack(8, true, n); return;
    case IOp.Pshufb: for (let i = 0; i < n; i++) R8[i] = S8[i] & 0x80 ? 0 : D8[S8[i] & (n - 1)]; return;
    // Horizontal: adjacent pairs of the destination, then of the source.
    case IOp.PhaddW:
    case IOp.PhsubW:
    case IOp.PhaddSW:
    case IOp.PhsubSW: {
      const q = n >> 2, sub = op === IOp.PhsubW || op === IOp.PhsubSW, sat = op === IOp.PhaddSW || op === IOp.PhsubSW;
      for (let i = 0; i < 2 * q; i++) {
        const a = i < q ? DI16[2 * i] : SI16[2 * (i - q)], b = i < q ? DI16[2 * i + 1] : SI16[2 * (i - q) + 1];
        const r = sub ? a - b : a + b;
        R16[i] = sat ? sat16s(r) : r;
      }
      return;
    }
    case IOp.PhaddD:
    case IOp.PhsubD: {
      const q = n >> 3;
      for (let i = 0; i < 2 * q; i++) {
        const a = i < q ? D32[2 * i] : S32[2 * (i - q)], b = i < q ? D32[2 * i + 1] : S32[2 * (i - q) + 1];
        R32[i] = op === IOp.PhaddD ? a + b : a - b;
      }
      return;
    }
    case IOp.PsignB: for (let i = 0; i < n; i++) R8[i] = psign(DI8[i], SI8[i]); return;
    case IOp.PsignW: for (let i = 0; i < nw; i++) R16[i] = psign(DI16[i], SI16[i]); return;
    case IOp.PsignD: for (let i = 0; i < nd; i++) R32[i] = psign(D32[i], S32[i]); return;
  }
}

const LANE_OPS: [X86Handler, IOp][] = [
  [X86Handler.PADDB, IOp.PaddB], [X86Handler.PADDW, IOp.PaddW], [X86Handler.PADDD, IOp.PaddD],
  [X86Handler.PADDQ, IOp.PaddQ], [X86Handler.PSUBB, IOp.PsubB], [X86Handler.PSUBW, IOp.PsubW],
  [X86Handler.PSUBD, IOp.PsubD], [X86Handler.PSUBQ, IOp.PsubQ], [X86Handler.PADDSB, IOp.PaddSB],
  [X86Handler.PADDSW, IOp.PaddSW], [X86Handler.PADDUSB, IOp.PaddUSB], [X86Handler.PADDUSW, IOp.PaddUSW],
  [X86Handler.PSUBSB, IOp.PsubSB], [X86Handler.PSUBSW, IOp.PsubSW], [X86Handler.PSUBUSB, IOp.PsubUSB],
  [X86Handler.PSUBUSW, IOp.PsubUSW], [X86Handler.PMULLW, IOp.PmulLW], [X86Handler.PMULHW, IOp.PmulHW],
  [X86Handler.PMULHUW, IOp.PmulHUW], [X86Handler.PMULHRSW, IOp.PmulHRSW], [X86Handler.PMULUDQ, IOp.PmulUDQ],
  [X86Handler.PMADDWD, IOp.PmaddWD], [X86Handler.PMADDUBSW, IOp.PmaddUBSW], [X86Handler.PSADBW, IOp.PsadBW],
  [X86Handler.PAVGB, IOp.PavgB], [X86Handler.PAVGW, IOp.PavgW], [X86Handler.PMINUB, IOp.PminUB],
  [X86Handler.PMAXUB, IOp.PmaxUB], [X86Handler.PMINSW, IOp.PminSW], [X86Handler.PMAXSW, IOp.PmaxSW],
  [X86Handler.PCMPEQB, IOp.PcmpeqB], [X86Handler.PCMPEQW, IOp.PcmpeqW], [X86Handler.PCMPEQD, IOp.PcmpeqD],
  [X86Handler.PCMPGTB, IOp.PcmpgtB], [X86Handler.PCMPGTW, IOp.PcmpgtW], [X86Handler.PCMPGTD, IOp.PcmpgtD],
  [X86Handler.PAND, IOp.And], [X86Handler.ANDPS, IOp.And], [X86Handler.ANDPD, IOp.And],
  [X86Handler.PANDN, IOp.AndN], [X86Handler.ANDNPS, IOp.AndN], [X86Handler.ANDNPD, IOp.AndN],
  [X86Handler.POR, IOp.Or], [X86Handler.ORPS, IOp.Or], [X86Handler.ORPD, IOp.Or],
  [X86Handler.PXOR, IOp.Xor], [X86Handler.XORPS, IOp.Xor], [X86Handler.XORPD, IOp.Xor],
  [X86Handler.PACKSSWB, IOp.PackSSWB], [X86Handler.PACKUSWB, IOp.PackUSWB], [X86Handler.PACKSSDW, IOp.PackSSDW],
  [X86Handler.PUNPCKLBW, IOp.UnpckLBW], [X86Handler.PUNPCKLWD, IOp.UnpckLWD], [X86Handler.PUNPCKLDQ, IOp.UnpckLDQ],
  [X86Handler.PUNPCKLQDQ, IOp.UnpckLQDQ], [X86Handler.PUNPCKHBW, IOp.UnpckHBW], [X86Handler.PUNPCKHWD, IOp.UnpckHWD],
  [X86Handler.PUNPCKHDQ, IOp.UnpckHDQ], [X86Handler.PUNPCKHQDQ, IOp.UnpckHQDQ],
  [X86Handler.UNPCKLPS, IOp.UnpckLDQ], [X86Handler.UNPCKHPS, IOp.UnpckHDQ],
  [X86Handler.UNPCKLPD, IOp.UnpckLQDQ], [X86Handler.UNPCKHPD, IOp.UnpckHQDQ],
  [X86Handler.PSHUFB, IOp.Pshufb], [X86Handler.PHADDW, IOp.PhaddW], [X86Handler.PHSUBW, IOp.PhsubW],
  [X86Handler.PHADDSW, IOp.PhaddSW], [X86Handler.PHSUBSW, IOp.PhsubSW], [X86Handler.PHADDD, IOp.PhaddD],
  [X86Handler.PHSUBD, IOp.PhsubD], [X86Handler.PSIGNB, IOp.PsignB], [X86Handler.PSIGNW, IOp.PsignW],
  [X86Handler.PSIGND, IOp.PsignD],
];

/** R = D op S, written back to the destination register. */
function laneBinary(op: IOp) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    intOp(op, width(insn));
    writeDst(h, insn, 16);
    return 0;
  };
}

/** PABSB/W/D: |S| (the most negative value stays, read as unsigned). */
function pabs(size: number) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const n = width(insn);
    if (size === 1) for (let i = 0; i < n; i++) R8[i] = Math.abs(SI8[i]);
    else if (size === 2) for (let i = 0; i < n >> 1; i++) R16[i] = Math.abs(SI16[i]);
    else for (let i = 0; i < n >> 2; i++) R32[i] = Math.abs(S32[i]);
    writeDst(h, insn, 16);
    return 0;
  };
}

// ---- shifts ---------------------------------------------------------------------------------

const enum Sh {
  Left,
  Right,
  Arith,
}

/**
 * Shift each `bits`-wide element of D by `count` (0 .. 2^32-1; `big`: a count beyond 32 bits).
 * Counts of the element width or more clear the element, or fill it with its sign.
 */
function shiftLanes(n: number, bits: number, kind: Sh, count: number, big: boolean): void {
  const over = big || count >= bits;
  if (over && kind !== Sh.Arith) {
    R32[0] = R32[1] = R32[2] = R32[3] = 0;
    return;
  }
  const c = over ? bits - 1 : count;
  if (bits === 16) {
    for (let i = 0; i < n >> 1; i++) R16[i] = kind === Sh.Left ? D16[i] << c : kind === Sh.Right ? D16[i] >>> c : DI16[i] >> c;
  } else if (bits === 32) {
    for (let i = 0; i < n >> 2; i++) R32[i] = kind === Sh.Left ? D32[i] << c : kind === Sh.Right ? D32[i] >>> c : D32[i] >> c;
  } else {
    for (let i = 0; i < n >> 2; i += 2) {
      const lo = D32[i], hi = D32[i + 1];
      if (c === 0) {
        R32[i] = lo;
        R32[i + 1] = hi;
      } else if (c < 32) {
        R32[i] = kind === Sh.Left ? lo << c : (lo >>> c) | (hi << (32 - c));
        R32[i + 1] = kind === Sh.Left ? (hi << c) | (lo >>> (32 - c)) : hi >>> c;
      } else {
        R32[i] = kind === Sh.Left ? 0 : hi >>> (c - 32);
        R32[i + 1] = kind === Sh.Left ? lo << (c - 32) : 0;
      }
    }
  }
}

/** PSLLW & co. by the low 64 bits of the source (register or memory). */
function shiftByOperand(bits: number, kind: Sh) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    readDst(h, insn);
    shiftLanes(width(insn), bits, kind, S32[0] >>> 0, S32[1] !== 0);
    writeDst(h, insn, 16);
    return 0;
  };
}

/** The Grp12-14 forms: shift operand 0 by the immediate; PSRLDQ/PSLLDQ shift whole bytes. */
function shiftByImm(bits: number, kind: Sh) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readDst(h, insn);
    const n = width(insn);
    const count = insn.imm & 0xff;
    if (bits === 128) {
      for (let i = 0; i < 16; i++) {
        const j = kind === Sh.Left ? i - count : i + count;
        R8[i] = j >= 0 && j < 16 ? D8[j] : 0;
      }
    } else {
      shiftLanes(n, bits, kind, count, false);
    }
    writeDst(h, insn, 16);
    return 0;
  };
}

// ---- shuffles and inserts -------------------------------------------------------------------

/** PSHUFW/PSHUFD/PSHUFLW/PSHUFHW: elements of the source picked by 2-bit fields of imm8. */
function pshuf(kind: 'w' | 'd' | 'lw' | 'hw') {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const o = insn.imm;
    copy4(R32, S32);
    for (let i = 0; i < 4; i++) {
      const sel = (o >> (2 * i)) & 3;
      if (kind === 'd') R32[i] = S32[sel];
      else if (kind === 'hw') R16[4 + i] = S16[4 + sel];
      else R16[i] = S16[sel];
    }
    writeDst(h, insn, 16);
    return 0;
  };
}

function shufps(h: SimdHost, insn: SimdInsn): number {
  readSrc(h, insn);
  readDst(h, insn);
  const o = insn.imm;
  R32[0] = D32[o & 3];
  R32[1] = D32[(o >> 2) & 3];
  R32[2] = S32[(o >> 4) & 3];
  R32[3] = S32[(o >> 6) & 3];
  writeDst(h, insn, 16);
  return 0;
}

function shufpd(h: SimdHost, insn: SimdInsn): number {
  readSrc(h, insn);
  readDst(h, insn);
  const a = (insn.imm & 1) * 2, b = ((insn.imm >> 1) & 1) * 2;
  R32[0] = D32[a];
  R32[1] = D32[a + 1];
  R32[2] = S32[b];
  R32[3] = S32[b + 1];
  writeDst(h, insn, 16);
  return 0;
}

/** PALIGNR: bytes imm.. of the concatenation destination:source (source low); zeros beyond. */
function palignr(h: SimdHost, insn: SimdInsn): number {
  readSrc(h, insn);
  readDst(h, insn);
  const n = width(insn);
  const c = insn.imm & 0xff;
  for (let i = 0; i < n; i++) {
    const j = i + c;
    R8[i] = j < n ? S8[j] : j < 2 * n ? D8[j - n] : 0;
  }
  writeDst(h, insn, 16);
  return 0;
}

function pinsrw(h: SimdHost, insn: SimdInsn): number {
  readSrc(h, insn);
  readDst(h, insn);
  copy4(R32, D32);
  R16[insn.imm & ((width(insn) >> 1) - 1)] = S16[0];
  writeDst(h, insn, 16);
  return 0;
}

function pextrw(h: SimdHost, insn: SimdInsn): number {
  readSrc(h, insn);
  h.retHi[0] = 0;
  const n = isMmx(insn, 1) ? 8 : 16;
  return S16[insn.imm & ((n >> 1) - 1)];
}

/** MOVMSKPS (4), MOVMSKPD (8), PMOVMSKB (1; 8 or 16 bytes): the elements' sign bits. */
function movmsk(elemBytes: number) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const n = isMmx(insn, 1) ? 8 : 16;
    let m = 0;
    if (elemBytes === 1) {
      // Per dword: the four sign bits gathered by one multiply (the partial products never overlap).
      for (let i = 0; i < n >> 2; i++) m |= (Math.imul((S32[i] >>> 7) & 0x01010101, 0x10204080) >>> 28) << (4 * i);
    } else {
      for (let i = 0; i < n / elemBytes; i++) m |= (S8[(i + 1) * elemBytes - 1] >> 7) << i;
    }
    h.retHi[0] = 0;
    return m;
  };
}

// ---- moves ----------------------------------------------------------------------------------

/**
 * MOVD, MOVQ and the full moves (MOVAPS ... LDDQU, MOVNT*): the source's low `size` bytes,
 * zero-extended into a register. size: the destination's size, or 16.
 */
function move(full: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const dst = insn.operands[0];
    const size = full ? 16 : dst.size;
    copy4(R32, S32);
    if (size < 16) {
      R32[2] = R32[3] = 0;
      if (size === 4) R32[1] = 0;
    }
    if (dst.kind === OpKind.Reg && dst.regClass === RegClass.GPR) {
      h.retHi[0] = size === 8 ? R32[1] : 0;
      return R32[0];
    }
    writeDst(h, insn, size);
    return 0;
  };
}

/**
 * MOVSS/MOVSD: between registers only the low element moves; a load zeroes the rest; a store
 * writes the element.
 */
function moveScalar(size: number) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const dst = insn.operands[0];
    if (dst.kind === OpKind.Mem) {
      copy4(R32, S32);
    } else if (insn.operands[1].kind === OpKind.Mem) {
      copy4(R32, S32); // zero-extended by the read
    } else {
      readDst(h, insn);
      copy4(R32, D32);
      R32[0] = S32[0];
      if (size === 8) R32[1] = S32[1];
    }
    writeDst(h, insn, size);
    return 0;
  };
}

/**
 * MOVLPS/MOVLPD/MOVHPS/MOVHPD (a 64-bit half to or from memory, the other half kept) and
 * MOVHLPS/MOVLHPS (a half of another register).
 */
function moveHalf(dstHigh: boolean, srcHigh: boolean) {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    const s = srcHigh && insn.operands[1].kind !== OpKind.Mem ? 2 : 0;
    if (insn.operands[0].kind === OpKind.Mem) {
      R32[0] = S32[s];
      R32[1] = S32[s + 1];
      writeDst(h, insn, 8);
      return 0;
    }
    readDst(h, insn);
    copy4(R32, D32);
    const d = dstHigh ? 2 : 0;
    R32[d] = S32[s];
    R32[d + 1] = S32[s + 1];
    writeDst(h, insn, 16);
    return 0;
  };
}

/** MOVSLDUP/MOVSHDUP/MOVDDUP: dwords (or the low qword) of the source duplicated. */
function dup(kind: 'l' | 'h' | 'd') {
  return (h: SimdHost, insn: SimdInsn): number => {
    readSrc(h, insn);
    if (kind === 'd') {
      R32[0] = R32[2] = S32[0];
      R32[1] = R32[3] = S32[1];
    } else {
      const o = kind === 'h' ? 1 : 0;
      R32[0] = R32[1] = S32[o];
      R32[2] = R32[3] = S32[2 + o];
    }
    writeDst(h, insn, 16);
    return 0;
  };
}

/** MASKMOVQ/MASKMOVDQU: the bytes of operand 0 whose mask byte (operand 1) has bit 7, to DS:rDI, one by one. */
function maskmov(h: SimdHost, insn: SimdInsn): number {
  readDst(h, insn);
  readSrc(h, insn);
  const n = width(insn);
  for (let i = 0; i < n; i++) {
    if ((S8[i] & 0x80) === 0) continue;
    ONE_BYTE[0] = D8[i];
    const lo = (memLo + i) | 0;
    h.writeMem(lo, (memHi + ((lo >>> 0) < (memLo >>> 0) ? 1 : 0)) | 0, 1, ONE_BYTE);
  }
  return 0;
}

// ---- the table ------------------------------------------------------------------------------

type Exec = (h: SimdHost, insn: SimdInsn) => number;

const EXEC: (Exec | undefined)[] = [];
function def(handler: X86Handler, f: Exec): void {
  EXEC[handler] = f;
}

for (const [handler, op] of LANE_OPS) def(handler, laneBinary(op));

const FP_TABLE: [X86Handler, FpOp, boolean, boolean][] = [
  [X86Handler.ADDPS, FpOp.Add, false, false], [X86Handler.ADDSS, FpOp.Add, false, true],
  [X86Handler.ADDPD, FpOp.Add, true, false], [X86Handler.ADDSD, FpOp.Add, true, true],
  [X86Handler.SUBPS, FpOp.Sub, false, false], [X86Handler.SUBSS, FpOp.Sub, false, true],
  [X86Handler.SUBPD, FpOp.Sub, true, false], [X86Handler.SUBSD, FpOp.Sub, true, true],
  [X86Handler.MULPS, FpOp.Mul, false, false], [X86Handler.MULSS, FpOp.Mul, false, true],
  [X86Handler.MULPD, FpOp.Mul, true, false], [X86Handler.MULSD, FpOp.Mul, true, true],
  [X86Handler.DIVPS, FpOp.Div, false, false], [X86Handler.DIVSS, FpOp.Div, false, true],
  [X86Handler.DIVPD, FpOp.Div, true, false], [X86Handler.DIVSD, FpOp.Div, true, true],
  [X86Handler.MINPS, FpOp.Min, false, false], [X86Handler.MINSS, FpOp.Min, false, true],
  [X86Handler.MINPD, FpOp.Min, true, false], [X86Handler.MINSD, FpOp.Min, true, true],
  [X86Handler.MAXPS, FpOp.Max, false, false], [X86Handler.MAXSS, FpOp.Max, false, true],
  [X86Handler.MAXPD, FpOp.Max, true, false], [X86Handler.MAXSD, FpOp.Max, true, true],
  [X86Handler.SQRTPS, FpOp.Sqrt, false, false], [X86Handler.SQRTSS, FpOp.Sqrt, false, true],
  [X86Handler.SQRTPD, FpOp.Sqrt, true, false], [X86Handler.SQRTSD, FpOp.Sqrt, true, true],
  [X86Handler.RCPPS, FpOp.Rcp, false, false], [X86Handler.RCPSS, FpOp.Rcp, false, true],
  [X86Handler.RSQRTPS, FpOp.Rsqrt, false, false], [X86Handler.RSQRTSS, FpOp.Rsqrt, false, true],
];
for (const [handler, op, double, scalar] of FP_TABLE) def(handler, fpArith(op, double, scalar));

def(X86Handler.ADDSUBPS, addsub(false));
def(X86Handler.ADDSUBPD, addsub(true));
def(X86Handler.HADDPS, horizontal(Ar.Add, false));
def(X86Handler.HSUBPS, horizontal(Ar.Sub, false));
def(X86Handler.HADDPD, horizontal(Ar.Add, true));
def(X86Handler.HSUBPD, horizontal(Ar.Sub, true));
def(X86Handler.CMPPS, cmpPacked(false, false));
def(X86Handler.CMPSS, cmpPacked(false, true));
def(X86Handler.CMPPD, cmpPacked(true, false));
def(X86Handler.CMPSD, cmpPacked(true, true));
def(X86Handler.COMISS, comis(false, true));
def(X86Handler.UCOMISS, comis(false, false));
def(X86Handler.COMISD, comis(true, true));
def(X86Handler.UCOMISD, comis(true, false));

def(X86Handler.CVTDQ2PS, convert(Cv.DqToPs, false));
def(X86Handler.CVTPS2DQ, convert(Cv.PsToDq, false));
def(X86Handler.CVTTPS2DQ, convert(Cv.PsToDq, true));
def(X86Handler.CVTDQ2PD, convert(Cv.DqToPd, false));
def(X86Handler.CVTPI2PD, convert(Cv.DqToPd, false));
def(X86Handler.CVTPD2DQ, convert(Cv.PdToDq, false));
def(X86Handler.CVTTPD2DQ, convert(Cv.PdToDq, true));
def(X86Handler.CVTPD2PI, convert(Cv.PdToDq, false));
def(X86Handler.CVTTPD2PI, convert(Cv.PdToDq, true));
def(X86Handler.CVTPS2PD, convert(Cv.PsToPd, false));
def(X86Handler.CVTPD2PS, convert(Cv.PdToPs, false));
def(X86Handler.CVTSS2SD, convert(Cv.SsToSd, false));
def(X86Handler.CVTSD2SS, convert(Cv.SdToSs, false));
def(X86Handler.CVTPI2PS, convert(Cv.PiToPs, false));
def(X86Handler.CVTPS2PI, convert(Cv.PsToPi, false));
def(X86Handler.CVTTPS2PI, convert(Cv.PsToPi, true));
def(X86Handler.CVTSI2SS, convert(Cv.SiToSs, false));
def(X86Handler.CVTSI2SD, convert(Cv.SiToSd, false));
def(X86Handler.CVTSS2SI, convertToGpr(false, false));
def(X86Handler.CVTTSS2SI, convertToGpr(false, true));
def(X86Handler.CVTSD2SI, convertToGpr(true, false));
def(X86Handler.CVTTSD2SI, convertToGpr(true, true));

def(X86Handler.PABSB, pabs(1));
def(X86Handler.PABSW, pabs(2));
def(X86Handler.PABSD, pabs(4));

const SHIFTS: [X86Handler, number, Sh][] = [
  [X86Handler.PSLLW, 16, Sh.Left], [X86Handler.PSLLD, 32, Sh.Left], [X86Handler.PSLLQ, 64, Sh.Left],
  [X86Handler.PSRLW, 16, Sh.Right], [X86Handler.PSRLD, 32, Sh.Right], [X86Handler.PSRLQ, 64, Sh.Right],
  [X86Handler.PSRAW, 16, Sh.Arith], [X86Handler.PSRAD, 32, Sh.Arith],
];
for (const [handler, bits, kind] of SHIFTS) {
  const byOperand = shiftByOperand(bits, kind), byImm = shiftByImm(bits, kind);
  // One handler serves both forms: the immediate one has an Imm second operand.
  def(handler, (h, insn) => (insn.operands[1].kind === OpKind.Imm ? byImm(h, insn) : byOperand(h, insn)));
}
def(X86Handler.PSLLDQ, shiftByImm(128, Sh.Left));
def(X86Handler.PSRLDQ, shiftByImm(128, Sh.Right));

def(X86Handler.PSHUFW, pshuf('w'));
def(X86Handler.PSHUFD, pshuf('d'));
def(X86Handler.PSHUFLW, pshuf('lw'));
def(X86Handler.PSHUFHW, pshuf('hw'));
def(X86Handler.SHUFPS, shufps);
def(X86Handler.SHUFPD, shufpd);
def(X86Handler.PALIGNR, palignr);
def(X86Handler.PINSRW, pinsrw);
def(X86Handler.PEXTRW, pextrw);
def(X86Handler.MOVMSKPS, movmsk(4));
def(X86Handler.MOVMSKPD, movmsk(8));
def(X86Handler.PMOVMSKB, movmsk(1));

for (const handler of [X86Handler.MOVD, X86Handler.MOVQ, X86Handler.MOVNTQ, X86Handler.MOVQ2DQ, X86Handler.MOVDQ2Q]) {
  def(handler, move(false));
}
for (const handler of [
  X86Handler.MOVAPS, X86Handler.MOVAPD, X86Handler.MOVUPS, X86Handler.MOVUPD, X86Handler.MOVDQA, X86Handler.MOVDQU,
  X86Handler.LDDQU, X86Handler.MOVNTPS, X86Handler.MOVNTPD, X86Handler.MOVNTDQ,
]) {
  def(handler, move(true));
}
def(X86Handler.MOVSS, moveScalar(4));
def(X86Handler.MOVSD, moveScalar(8));
def(X86Handler.MOVLPS, moveHalf(false, false));
def(X86Handler.MOVLPD, moveHalf(false, false));
def(X86Handler.MOVHPS, moveHalf(true, true));
def(X86Handler.MOVHPD, moveHalf(true, true));
def(X86Handler.MOVHLPS, moveHalf(false, true));
def(X86Handler.MOVLHPS, moveHalf(true, false));
def(X86Handler.MOVSLDUP, dup('l'));
def(X86Handler.MOVSHDUP, dup('h'));
def(X86Handler.MOVDDUP, dup('d'));
def(X86Handler.MASKMOVQ, maskmov);
def(X86Handler.MASKMOVDQU, maskmov);

/** Whether executeSimd implements a handler. */
export function simdHandles(handler: X86Handler): boolean {
  return EXEC[handler] !== undefined;
}

/**
 * Execute one MMX/SSE instruction. (eaLo, eaHi): the linear address of the memory operand (when an
 * operand has kind Mem; for MASKMOVQ/MASKMOVDQU, DS:rDI). (gprLo, gprHi): the value of a
 * general-register source operand. Returns the value for a general-register destination (the low
 * 32 bits, the high ones in host.retHi[0]), else 0. Throws GuestFault: #GP(0) for a misaligned
 * 16-byte operand of an aligned-access instruction, #XM (#UD without OSXMMEXCPT) for unmasked SIMD
 * floating-point exceptions, the host's faults from memory accesses; a fault changes nothing (but
 * MXCSR's flags for #XM, and MASKMOV* stores made before a faulting byte, as QEMU does).
 */
export function executeSimd(host: SimdHost, insn: SimdInsn, eaLo: number, eaHi: number, gprLo: number, gprHi: number): number {
  const f = EXEC[insn.handler];
  if (f === undefined) throw new GuestFault(Vector.UD, -1);
  memLo = eaLo;
  memHi = eaHi;
  gprValLo = gprLo;
  gprValHi = gprHi;
  const r = f(host, insn);
  // QEMU switches to MMX state for CVTPI2PS/PD from memory too.
  if (insn.handler === X86Handler.CVTPI2PS || insn.handler === X86Handler.CVTPI2PD) {
    enterMmx(host.state);
    return r;
  }
  const ops = insn.operands;
  for (let i = 0; i < ops.length; i++) {
    if (ops[i].kind === OpKind.Reg && ops[i].regClass === RegClass.MMX) {
      enterMmx(host.state);
      break;
    }
  }
  return r;
}
