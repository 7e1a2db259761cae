/**
 * helper_* runtime functions called from RISC-V generated code. Every i64 argument
 * arrives as (lo, hi) int32 words; an i64 result returns its low word and leaves the high
 * word in `ret[0]` (the runtime's retHi), so nothing allocates on these paths.
 */
import { HelperFlags, HelperInfo, HelperTable, Type } from '../../ir/ir.js';
import * as sf from '../../fpu/softfloat.js';
import { createI64Ops } from '../../backend/wasm-i64.js';

const { I32, I64 } = { I32: Type.I32, I64: Type.I64 };

/** The CPU operations the system helpers need (implemented by RiscvCpu). */
export interface SystemHelperHost {
  raise(cause: number, tvalLo: number, tvalHi: number): number;
  csr(insn: number, srcLo: number, srcHi: number): number;
  mret(): number;
  sret(): number;
  sfenceVma(insn: number, addrLo: number, addrHi: number): number;
  markFsDirty(): number;
}

export interface HelperIds {
  mul64: number;
  raise: number;
  csr: number;
  mret: number;
  sret: number;
  sfenceVma: number;
  markFsDirty: number;
  mulh: number;
  mulhsu: number;
  mulhu: number;
  div: number;
  divu: number;
  rem: number;
  remu: number;
  divw: number;
  divuw: number;
  remw: number;
  remuw: number;
  clz: number;
  ctz: number;
  cpop: number;
  clzw: number;
  ctzw: number;
  cpopw: number;
  orcB: number;
  rev8: number;
  fp: Record<string, number>;
}

/** High 32 bits of the unsigned 64-bit product of two uint32 words. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

export function createRiscvHelpers(host: SystemHelperHost, ret: Int32Array): { table: HelperTable; ids: HelperIds } {
  const table = new HelperTable();
  const add = (name: string, args: Type[], r: Type | null, flags: number, fn: (...a: number[]) => number) =>
    table.add({ name, args, ret: r, flags, fn } as HelperInfo);
  // A wasm instance per CPU (its memory holds the high word of the last result). The
  // exports go into local constants so each wrapper below calls its function directly.
  const { mulh, mulhsu, mulhu, div, divu, rem, remu, hi: wHi } = createI64Ops();
  const pure = HelperFlags.Pure;
  const sys = HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals | HelperFlags.MayRaise | HelperFlags.SideEffects;
  const isSext32 = (lo: number, hi: number) => hi === lo >> 31;

  const ids: HelperIds = {
    // Low 64 bits of a product stay in int32 JS: measured as fast as the wasm `mul` call
    // (~6 vs ~7 ns), since only one 32x32 high half is needed.
    mul64: add('mul64', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      ret[0] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
      return Math.imul(al, bl);
    }),
    raise: add('raise', [I32, I64], null, sys, (c, lo, hi) => host.raise(c, lo, hi)),
    csr: add('csr', [I32, I64], I64, sys, (insn, lo, hi) => host.csr(insn, lo, hi)),
    mret: add('mret', [], null, sys, () => host.mret()),
    sret: add('sret', [], null, sys, () => host.sret()),
    sfenceVma: add('sfence_vma', [I32, I64], null, sys, (insn, lo, hi) => host.sfenceVma(insn, lo, hi)),
    markFsDirty: add('mark_fs_dirty', [], null, HelperFlags.SideEffects, () => host.markFsDirty()),
    // 64x64 -> high 64 multiply and 64-bit divide run in WebAssembly (native i64); the
    // wasm function leaves the high word in its memory and each wrapper copies it to ret[0].
    // One explicit wrapper per op, not a shared factory: closures from one creation site
    // share call feedback, and a polymorphic call would stop V8 inlining the wasm call.
    mulh: add('mulh', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      const lo = mulh(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    mulhsu: add('mulhsu', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      const lo = mulhsu(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    mulhu: add('mulhu', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      const lo = mulhu(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    // Division by zero and INT_MIN / -1 follow the RISC-V M spec (no traps); the wasm
    // bodies handle them too. The int32 fast paths measure a little faster than the wasm
    // call (a float divide, no copy of the high word), so operands that fit stay in JS.
    div: add('div', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      if ((bl | bh) === 0) return (ret[0] = -1), -1;
      if (isSext32(al, ah) && isSext32(bl, bh) && !(al === -0x80000000 && bl === -1)) {
        const q = Math.trunc(al / bl) | 0;
        ret[0] = q >> 31;
        return q;
      }
      const lo = div(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    divu: add('divu', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      if ((bl | bh) === 0) return (ret[0] = -1), -1;
      if (ah === 0 && bh === 0) {
        ret[0] = 0;
        return Math.floor((al >>> 0) / (bl >>> 0)) | 0;
      }
      const lo = divu(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    rem: add('rem', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      if ((bl | bh) === 0) return (ret[0] = ah), al;
      if (isSext32(al, ah) && isSext32(bl, bh)) {
        const r = bl === -1 ? 0 : al % bl | 0;
        ret[0] = r >> 31;
        return r;
      }
      const lo = rem(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    remu: add('remu', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      if ((bl | bh) === 0) return (ret[0] = ah), al;
      if (ah === 0 && bh === 0) {
        ret[0] = 0;
        return (al >>> 0) % (bl >>> 0) | 0;
      }
      const lo = remu(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    divw: add('divw', [I32, I32], I32, pure, (a, b) => (b === 0 ? -1 : b === -1 ? -a | 0 : Math.trunc(a / b) | 0)),
    divuw: add('divuw', [I32, I32], I32, pure, (a, b) => (b === 0 ? -1 : Math.floor((a >>> 0) / (b >>> 0)) | 0)),
    remw: add('remw', [I32, I32], I32, pure, (a, b) => (b === 0 ? a : b === -1 ? 0 : a % b | 0)),
    remuw: add('remuw', [I32, I32], I32, pure, (a, b) => (b === 0 ? a : (a >>> 0) % (b >>> 0) | 0)),
    clz: add('clz', [I64], I64, pure, (lo, hi) => ((ret[0] = 0), hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo))),
    ctz: add('ctz', [I64], I64, pure, (lo, hi) => ((ret[0] = 0), lo !== 0 ? ctz32(lo) : 32 + ctz32(hi))),
    cpop: add('cpop', [I64], I64, pure, (lo, hi) => ((ret[0] = 0), popcount32(lo) + popcount32(hi))),
    clzw: add('clzw', [I32], I32, pure, (x) => Math.clz32(x)),
    ctzw: add('ctzw', [I32], I32, pure, (x) => ctz32(x)),
    cpopw: add('cpopw', [I32], I32, pure, (x) => popcount32(x)),
    orcB: add('orc_b', [I64], I64, pure, (lo, hi) => ((ret[0] = orcB32(hi)), orcB32(lo))),
    rev8: add('rev8', [I64], I64, pure, (lo, hi) => ((ret[0] = bswap32(lo)), bswap32(hi))),
    fp: {},
  };
  registerFpHelpers(ids.fp, add, ret);
  return { table, ids };
}

export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
function orcB32(x: number): number {
  let r = 0;
  for (let i = 0; i < 32; i += 8) if ((x >>> i) & 0xff) r |= 0xff << i;
  return r;
}
function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

// ---- F and D -------------------------------------------------------------------------------

const CANONICAL_NAN_S = 0x7fc00000;
/** A single-precision operand: the low word if properly NaN-boxed, else the canonical NaN. */
const unbox = (lo: number, hi: number): number => (hi === -1 ? lo : CANONICAL_NAN_S);

type AddFn = (name: string, args: Type[], r: Type | null, flags: number, fn: (...a: number[]) => number) => number;

function registerFpHelpers(fp: Record<string, number>, add: AddFn, ret: Int32Array): void {
  // Every FP helper accrues fflags (in sf.fpu.flags), so none is pure.
  const F = HelperFlags.SideEffects;
  const s = (v: number): number => ((ret[0] = -1), v); // box a single result
  const d = (lo: number): number => ((ret[0] = sf.fpu.hi), lo); // a double result
  const x32 = (v: number): number => ((ret[0] = v >> 31), v); // sign-extended 32-bit int result
  const x64 = (lo: number): number => ((ret[0] = sf.fpu.hi), lo);
  const reg = (name: string, args: Type[], fn: (...a: number[]) => number) => {
    fp[name] = add(name, args, I64, F, fn);
  };
  const FF = [I64, I64], FFR = [I64, I64, I32], FFFR = [I64, I64, I64, I32], FR = [I64, I32], XR = [I64, I32];

  reg('fadd_s', FFR, (al, ah, bl, bh, rm) => s(sf.f32_add(unbox(al, ah), unbox(bl, bh), rm)));
  reg('fsub_s', FFR, (al, ah, bl, bh, rm) => s(sf.f32_sub(unbox(al, ah), unbox(bl, bh), rm)));
  reg('fmul_s', FFR, (al, ah, bl, bh, rm) => s(sf.f32_mul(unbox(al, ah), unbox(bl, bh), rm)));
  reg('fdiv_s', FFR, (al, ah, bl, bh, rm) => s(sf.f32_div(unbox(al, ah), unbox(bl, bh), rm)));
  reg('fsqrt_s', FR, (al, ah, rm) => s(sf.f32_sqrt(unbox(al, ah), rm)));
  const fma32 = (np: number, na: number) => (al: number, ah: number, bl: number, bh: number, cl: number, ch: number, rm: number) =>
    s(sf.f32_muladd(unbox(al, ah), unbox(bl, bh), unbox(cl, ch), rm, np, na));
  reg('fmadd_s', FFFR, fma32(0, 0));
  reg('fmsub_s', FFFR, fma32(0, 1));
  reg('fnmsub_s', FFFR, fma32(1, 0));
  reg('fnmadd_s', FFFR, fma32(1, 1));
  reg('fsgnj_s', FF, (al, ah, bl, bh) => s((unbox(al, ah) & 0x7fffffff) | (unbox(bl, bh) & 0x80000000)));
  reg('fsgnjn_s', FF, (al, ah, bl, bh) => s((unbox(al, ah) & 0x7fffffff) | (~unbox(bl, bh) & 0x80000000)));
  reg('fsgnjx_s', FF, (al, ah, bl, bh) => s(unbox(al, ah) ^ (unbox(bl, bh) & 0x80000000)));
  reg('fmin_s', FF, (al, ah, bl, bh) => s(sf.f32_min(unbox(al, ah), unbox(bl, bh))));
  reg('fmax_s', FF, (al, ah, bl, bh) => s(sf.f32_max(unbox(al, ah), unbox(bl, bh))));
  reg('feq_s', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f32_eq(unbox(al, ah), unbox(bl, bh))));
  reg('flt_s', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f32_lt(unbox(al, ah), unbox(bl, bh))));
  reg('fle_s', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f32_le(unbox(al, ah), unbox(bl, bh))));
  reg('fclass_s', [I64], (al, ah) => ((ret[0] = 0), sf.f32_classify(unbox(al, ah))));
  reg('fcvt_w_s', FR, (al, ah, rm) => x32(sf.f32_to_i32(unbox(al, ah), rm)));
  reg('fcvt_wu_s', FR, (al, ah, rm) => x32(sf.f32_to_u32(unbox(al, ah), rm)));
  reg('fcvt_l_s', FR, (al, ah, rm) => x64(sf.f32_to_i64(unbox(al, ah), rm)));
  reg('fcvt_lu_s', FR, (al, ah, rm) => x64(sf.f32_to_u64(unbox(al, ah), rm)));
  reg('fcvt_s_w', XR, (lo, _hi, rm) => s(sf.i32_to_f32(lo, rm)));
  reg('fcvt_s_wu', XR, (lo, _hi, rm) => s(sf.u32_to_f32(lo, rm)));
  reg('fcvt_s_l', XR, (lo, hi, rm) => s(sf.i64_to_f32(lo, hi, rm)));
  reg('fcvt_s_lu', XR, (lo, hi, rm) => s(sf.u64_to_f32(lo, hi, rm)));

  reg('fadd_d', FFR, (al, ah, bl, bh, rm) => d(sf.f64_add(al, ah, bl, bh, rm)));
  reg('fsub_d', FFR, (al, ah, bl, bh, rm) => d(sf.f64_sub(al, ah, bl, bh, rm)));
  reg('fmul_d', FFR, (al, ah, bl, bh, rm) => d(sf.f64_mul(al, ah, bl, bh, rm)));
  reg('fdiv_d', FFR, (al, ah, bl, bh, rm) => d(sf.f64_div(al, ah, bl, bh, rm)));
  reg('fsqrt_d', FR, (al, ah, rm) => d(sf.f64_sqrt(al, ah, rm)));
  const fma64 = (np: number, na: number) => (al: number, ah: number, bl: number, bh: number, cl: number, ch: number, rm: number) =>
    d(sf.f64_muladd(al, ah, bl, bh, cl, ch, rm, np, na));
  reg('fmadd_d', FFFR, fma64(0, 0));
  reg('fmsub_d', FFFR, fma64(0, 1));
  reg('fnmsub_d', FFFR, fma64(1, 0));
  reg('fnmadd_d', FFFR, fma64(1, 1));
  reg('fsgnj_d', FF, (al, ah, _bl, bh) => ((ret[0] = (ah & 0x7fffffff) | (bh & 0x80000000)), al));
  reg('fsgnjn_d', FF, (al, ah, _bl, bh) => ((ret[0] = (ah & 0x7fffffff) | (~bh & 0x80000000)), al));
  reg('fsgnjx_d', FF, (al, ah, _bl, bh) => ((ret[0] = ah ^ (bh & 0x80000000)), al));
  reg('fmin_d', FF, (al, ah, bl, bh) => d(sf.f64_min(al, ah, bl, bh)));
  reg('fmax_d', FF, (al, ah, bl, bh) => d(sf.f64_max(al, ah, bl, bh)));
  reg('feq_d', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f64_eq(al, ah, bl, bh)));
  reg('flt_d', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f64_lt(al, ah, bl, bh)));
  reg('fle_d', FF, (al, ah, bl, bh) => ((ret[0] = 0), sf.f64_le(al, ah, bl, bh)));
  reg('fclass_d', [I64], (al, ah) => ((ret[0] = 0), sf.f64_classify(al, ah)));
  reg('fcvt_w_d', FR, (al, ah, rm) => x32(sf.f64_to_i32(al, ah, rm)));
  reg('fcvt_wu_d', FR, (al, ah, rm) => x32(sf.f64_to_u32(al, ah, rm)));
  reg('fcvt_l_d', FR, (al, ah, rm) => x64(sf.f64_to_i64(al, ah, rm)));
  reg('fcvt_lu_d', FR, (al, ah, rm) => x64(sf.f64_to_u64(al, ah, rm)));
  reg('fcvt_d_w', XR, (lo, _hi, _rm) => d(sf.i32_to_f64(lo)));
  reg('fcvt_d_wu', XR, (lo, _hi, _rm) => d(sf.u32_to_f64(lo)));
  reg('fcvt_d_l', XR, (lo, hi, rm) => d(sf.i64_to_f64(lo, hi, rm)));
  reg('fcvt_d_lu', XR, (lo, hi, rm) => d(sf.u64_to_f64(lo, hi, rm)));
  reg('fcvt_s_d', FR, (al, ah, rm) => s(sf.f64_to_f32(al, ah, rm)));
  reg('fcvt_d_s', FR, (al, ah, _rm) => d(sf.f32_to_f64(unbox(al, ah))));
}
