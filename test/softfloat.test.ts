/**
 * src/fpu/softfloat.ts against
 *  - a C oracle (test/fpu/oracle.c) running the same operations on the host
 *    x86-64 SSE/FMA hardware (IEEE 754, tininess after rounding, like RISC-V),
 *  - the module's own general (BigInt) path, which every fast path must match,
 *  - hand-written RISC-V specific cases.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sf from '../src/fpu/softfloat.js';
import { fpu, general } from '../src/fpu/softfloat.js';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// Oracle build
// ---------------------------------------------------------------------------

let oracleDir = '';
let oracleBin: string | null = null;
let oracleError = '';

beforeAll(() => {
  oracleDir = mkdtempSync(join(tmpdir(), 'softfloat-oracle-'));
  const bin = join(oracleDir, 'oracle');
  let hasFma = false;
  try {
    hasFma = /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    /* not Linux: use the libm fma */
  }
  const args = ['-O2', '-frounding-math', '-ffp-contract=off', '-fno-fast-math', '-o', bin, join(HERE, 'fpu/oracle.c'), '-lm'];
  if (hasFma) args.unshift('-mfma');
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status === 0 && existsSync(bin)) oracleBin = bin;
  else oracleError = r.error ? String(r.error) : r.stderr;
  if (!oracleBin && process.env.CI) throw new Error(`cannot build the softfloat oracle: ${oracleError}`);
});

afterAll(() => {
  if (oracleDir) rmSync(oracleDir, { recursive: true, force: true });
});

function runOracle(lines: string[]): string[] {
  const r = spawnSync(oracleBin!, [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  const out = r.stdout.split('\n');
  out.length = lines.length;
  return out;
}

// ---------------------------------------------------------------------------
// Deterministic random values
// ---------------------------------------------------------------------------

let seed = 1;
function rnd32(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
function rndInt(n: number): number {
  return Math.floor((rnd32() / 4294967296) * n);
}
function rnd64(): bigint {
  return (BigInt(rnd32()) << 32n) | BigInt(rnd32());
}
function rndBits(n: number): bigint {
  return n <= 0 ? 0n : rnd64() & ((1n << BigInt(n)) - 1n);
}
function pick<T>(a: readonly T[]): T {
  return a[rndInt(a.length)];
}

interface FmtT {
  bits: number;
  p: number; // precision
  eb: number; // exponent bits
  bias: number;
  specials: bigint[];
}

const S32: bigint[] = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000,
  0x00800001, 0x00ffffff, 0x00400000, 0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0xbf7fffff, 0x40000000,
  0x3f000000, 0x40400000, 0xc0400000, 0x3fc00000, 0x3f400000, 0x4b000000, 0x4b000001, 0x4b7fffff, 0x4b800000,
  0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x4f7fffff, 0x4f800000, 0x5effffff, 0x5f000000, 0xdf000000,
  0xdf000001, 0x5f7fffff, 0x5f800000, 0x7f7fffff, 0xff7fffff, 0x7f7ffffe, 0x7f000000, 0x7f800000, 0xff800000,
  0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001, 0xff800001, 0x7fbfffff, 0x33800000, 0x34000000, 0x3effffff,
  0xbeffffff, 0x3f000001, 0x3e800000, 0x0c000000, 0x1f800000, 0x3fffffff, 0x40490fdb, 0xc0490fdb, 0x3eaaaaab,
].map((x) => BigInt(x >>> 0));

const S64: bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, 0x0000000000000001n, 0x8000000000000001n, 0x0000000000000002n,
  0x000fffffffffffffn, 0x800fffffffffffffn, 0x0010000000000000n, 0x8010000000000000n, 0x0010000000000001n,
  0x001fffffffffffffn, 0x0008000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff0000000000001n,
  0x3fefffffffffffffn, 0xbfefffffffffffffn, 0x4000000000000000n, 0x3fe0000000000000n, 0x4008000000000000n,
  0xc008000000000000n, 0x3ff8000000000000n, 0x3fe8000000000000n, 0x4330000000000000n, 0x4330000000000001n,
  0x433fffffffffffffn, 0x4340000000000000n, 0x41dfffffffc00000n, 0x41dfffffffe00000n, 0x41e0000000000000n,
  0xc1e0000000000000n, 0xc1e0000000100000n, 0xc1e0000000200000n, 0x41efffffffe00000n, 0x41effffffff00000n,
  0x41f0000000000000n, 0x43dfffffffffffffn, 0x43e0000000000000n, 0xc3e0000000000000n, 0xc3e0000000000001n,
  0x43efffffffffffffn, 0x43f0000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7feffffffffffffen,
  0x7fe0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0xfff8000000000000n,
  0x7ff8000000000001n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7ff7ffffffffffffn, 0x3ca0000000000000n,
  0x3cb0000000000000n, 0x3fdfffffffffffffn, 0xbfdfffffffffffffn, 0x3fe0000000000001n, 0x3690000000000000n,
  0x36a0000000000000n, 0x3698000000000000n, 0x3810000000000000n, 0x380fffffffffffffn, 0x380ffffff0000000n,
  0x380ffffff0000001n, 0x380fffffefffffffn, 0x47efffffe0000000n, 0x47effffff0000000n, 0x47efffffefffffffn,
  0x47f0000000000000n, 0x400921fb54442d18n, 0x3fd5555555555555n, 0x1ff0000000000000n, 0x5ff0000000000000n,
];

const FMT32: FmtT = { bits: 32, p: 24, eb: 8, bias: 127, specials: S32 };
const FMT64: FmtT = { bits: 64, p: 53, eb: 11, bias: 1023, specials: S64 };

function mk(f: FmtT, s: number, e: number, m: bigint): bigint {
  return (BigInt(s) << BigInt(f.bits - 1)) | (BigInt(e) << BigInt(f.p - 1)) | m;
}
function expOf(f: FmtT, x: bigint): number {
  return Number((x >> BigInt(f.p - 1)) & BigInt((1 << f.eb) - 1));
}
function mant(f: FmtT): bigint {
  const fb = f.p - 1;
  const all = rndBits(fb);
  switch (rndInt(6)) {
    case 0:
    case 1:
      return all;
    case 2: // short significand: exact results, ties
      return all & ~((1n << BigInt(rndInt(fb + 1))) - 1n);
    case 3: // near the ends
      return rndInt(2) ? BigInt(rndInt(4)) : (1n << BigInt(fb)) - 1n - BigInt(rndInt(4));
    case 4: {
      // ...x1000..0 / ...x0111..1 patterns
      const k = rndInt(fb);
      const base = all & ~((1n << BigInt(k + 1)) - 1n);
      return rndInt(2) ? base | (1n << BigInt(k)) : base | ((1n << BigInt(k)) - 1n);
    }
    default:
      return BigInt(rndInt(16)) << BigInt(fb - 4);
  }
}
function clampE(f: FmtT, e: number): number {
  const max = (1 << f.eb) - 2;
  return e < 0 ? 0 : e > max ? max : e;
}
/** A random value of format f from a mixture of distributions. */
function gen(f: FmtT): bigint {
  const s = rndInt(2);
  switch (rndInt(10)) {
    case 0:
      return rndBits(f.bits);
    case 1:
      return pick(f.specials);
    case 2: {
      const sp = pick(f.specials) + BigInt(rndInt(5) - 2);
      return sp < 0n ? 0n : sp & ((1n << BigInt(f.bits)) - 1n);
    }
    case 3:
      return mk(f, s, 0, mant(f));
    case 4:
      return mk(f, s, clampE(f, rndInt(1 << f.eb)), mant(f));
    default:
      return mk(f, s, clampE(f, f.bias + rndInt(81) - 40), mant(f));
  }
}
/** A random value whose exponent is within d of target (biased). */
function genExp(f: FmtT, target: number, d: number): bigint {
  return mk(f, rndInt(2), clampE(f, target + rndInt(2 * d + 1) - d), mant(f));
}

// ---------------------------------------------------------------------------
// Op table
// ---------------------------------------------------------------------------

type ArgT = 'f32' | 'f64' | 'i32' | 'i64';
type ResT = 'f32' | 'f64' | 'i32' | 'i64';
type AnyFn = (...a: number[]) => number;

interface Op {
  code: number;
  name: string;
  args: ArgT[];
  res: ResT;
  rm: boolean;
  extra: number[];
  fn: AnyFn;
  gen: AnyFn | null;
  vectors: () => bigint[][];
}

const N = 4000; // random operand tuples per op (each run in every rounding mode)

function crossProduct(list: bigint[], arity: number): bigint[][] {
  const out: bigint[][] = [];
  if (arity === 1) for (const a of list) out.push([a]);
  else if (arity === 2) for (const a of list) for (const b of list) out.push([a, b]);
  else for (const a of list) for (const b of list) for (const c of list) out.push([a, b, c]);
  return out;
}

function subsetSpecials(f: FmtT, n: number): bigint[] {
  const s = f.specials;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(s[Math.floor((i * s.length) / n)]);
  return out;
}

function vecAdd(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 2);
    for (let i = 0; i < N; i++) {
      const a = gen(f);
      if (rndInt(2)) v.push([a, gen(f)]);
      else {
        const ea = expOf(f, a);
        const b = genExp(f, ea, f.p + 8);
        v.push(rndInt(2) ? [a, b] : [b, a]);
      }
    }
    return v;
  };
}

function vecMulDiv(f: FmtT, div: boolean): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 2);
    const emin = 1 - f.bias;
    const emax = f.bias;
    for (let i = 0; i < N; i++) {
      const a = gen(f);
      const r = rndInt(3);
      if (r === 0) v.push([a, gen(f)]);
      else {
        // result exponent near the underflow or overflow threshold
        const target = r === 1 ? emin - rndInt(f.p + 3) + 1 : emax - rndInt(3) + 1;
        const ea = expOf(f, a) - f.bias;
        const eb = div ? ea - target : target - ea;
        v.push([a, mk(f, rndInt(2), clampE(f, eb + f.bias), mant(f))]);
      }
    }
    return v;
  };
}

function vecSqrt(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 1);
    const buf = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < N; i++) {
      if (rndInt(2)) v.push([gen(f)]);
      else {
        // exact squares and their neighbours
        const k = rndInt(f.bits === 32 ? 4096 : 67108864) + 1;
        const e = rndInt(200) - 100;
        const sq = k * k * 2 ** (f.bits === 32 ? Math.trunc(e / 2) * 2 : e * 2);
        let bits: bigint;
        if (f.bits === 32) {
          buf.setFloat32(0, sq);
          bits = BigInt(buf.getUint32(0));
        } else {
          buf.setFloat64(0, sq);
          bits = buf.getBigUint64(0);
        }
        v.push([bits + BigInt(rndInt(3) - 1)]);
      }
    }
    return v;
  };
}

function vecFma(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(subsetSpecials(f, 16), 3);
    for (let i = 0; i < N; i++) {
      const a = gen(f);
      const b = gen(f);
      if (rndInt(3) === 0) v.push([a, b, gen(f)]);
      else {
        const ep = expOf(f, a) + expOf(f, b) - f.bias;
        v.push([a, b, genExp(f, ep, f.p + 4)]);
      }
    }
    // exact cancellation: c = -RN(a*b) (and neighbours)
    for (let i = 0; i < N / 4; i++) {
      const a = mk(f, rndInt(2), clampE(f, f.bias + rndInt(41) - 20), mant(f));
      const b = mk(f, rndInt(2), clampE(f, f.bias + rndInt(41) - 20), mant(f));
      let c: bigint;
      if (f.bits === 32) {
        c = BigInt(sf.f32_mul(Number(a) | 0, Number(b) | 0, 0) >>> 0);
      } else {
        const lo = sf.f64_mul(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0, Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0, 0);
        c = (BigInt(fpu.hi >>> 0) << 32n) | BigInt(lo >>> 0);
      }
      c = c + BigInt(rndInt(3) - 1);
      v.push([a, b, c]);
    }
    return v;
  };
}

function vecCmp(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 2);
    for (let i = 0; i < N; i++) {
      const a = gen(f);
      switch (rndInt(3)) {
        case 0:
          v.push([a, gen(f)]);
          break;
        case 1:
          v.push([a, a]);
          break;
        default:
          v.push([a, a + BigInt(rndInt(3) - 1) * (rndInt(2) ? 1n : 1n << BigInt(f.bits - 1))]);
      }
    }
    return v.map(([a, b]) => [a & ((1n << BigInt(f.bits)) - 1n), b & ((1n << BigInt(f.bits)) - 1n)]);
  };
}

function vecUnary(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 1);
    for (let i = 0; i < N; i++) v.push([gen(f)]);
    return v;
  };
}

function vecF64toF32(): bigint[][] {
  const v = crossProduct(S64, 1);
  for (const x of S32) {
    // f32 specials widened, then perturbed around the f32 rounding points
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, new Float32Array(new Uint32Array([Number(x)]).buffer)[0]);
    v.push([buf.getBigUint64(0)]);
  }
  for (let i = 0; i < N; i++) {
    const r = rndInt(4);
    if (r === 0) v.push([gen(FMT64)]);
    else {
      // exponent in or near the binary32 range (incl. subnormals); low 29 bits near the half-ulp
      const e = r === 1 ? 1023 - 150 + rndInt(30) : r === 2 ? 1023 + 120 + rndInt(12) : 1023 + rndInt(301) - 150;
      let m = rndBits(52);
      const k = 28 + rndInt(24) - (e < 1023 - 126 ? 0 : 0);
      switch (rndInt(4)) {
        case 0:
          m = (m & ~((1n << BigInt(k + 1)) - 1n)) | (1n << BigInt(k));
          break;
        case 1:
          m = (m & ~((1n << BigInt(k + 1)) - 1n)) | ((1n << BigInt(k)) - 1n);
          break;
        case 2:
          m = m & ~((1n << BigInt(k)) - 1n);
          break;
      }
      v.push([mk(FMT64, rndInt(2), e, m)]);
    }
  }
  return v;
}

function vecToInt(f: FmtT): () => bigint[][] {
  return () => {
    const v = crossProduct(f.specials, 1);
    for (let i = 0; i < N; i++) {
      if (rndInt(4) === 0) v.push([gen(f)]);
      else {
        // magnitudes from 2^-2 to 2^66, many exact halves and quarters
        const e = f.bias - 2 + rndInt(69);
        v.push([mk(f, rndInt(2), e, mant(f))]);
      }
    }
    return v;
  };
}

function vecFromInt(width: number, p: number): () => bigint[][] {
  return () => {
    const v: bigint[][] = [];
    const mask = (1n << BigInt(width)) - 1n;
    for (let L = 0; L <= width; L++) {
      const top = L === 0 ? 0n : 1n << BigInt(L - 1);
      v.push([top], [(top - 1n) & mask], [(-top) & mask], [(top + 1n) & mask], [(-top - 1n) & mask]);
    }
    for (let i = 0; i < N; i++) {
      const L = 1 + rndInt(width);
      let x = rndBits(L) | (1n << BigInt(L - 1));
      const k = L - p - 1; // position of the rounding bit
      if (k > 0) {
        switch (rndInt(4)) {
          case 0: // exact tie
            x = (x & ~((1n << BigInt(k + 1)) - 1n)) | (1n << BigInt(k));
            break;
          case 1: // just below / above the tie
            x = (x & ~((1n << BigInt(k + 1)) - 1n)) | (1n << BigInt(k)) | BigInt(rndInt(2));
            if (rndInt(2)) x -= 2n;
            break;
          case 2:
            x = x & ~((1n << BigInt(k)) - 1n);
            break;
        }
      }
      if (rndInt(2)) x = -x;
      v.push([x & mask]);
    }
    return v;
  };
}

const A32: ArgT[] = ['f32'];
const A64: ArgT[] = ['f64'];
const AA32: ArgT[] = ['f32', 'f32'];
const AA64: ArgT[] = ['f64', 'f64'];
const AAA32: ArgT[] = ['f32', 'f32', 'f32'];
const AAA64: ArgT[] = ['f64', 'f64', 'f64'];

function op(
  code: number,
  name: string,
  args: ArgT[],
  res: ResT,
  rm: boolean,
  vectors: () => bigint[][],
  extra: number[] = [],
  fnName = name,
): Op {
  const fn = (sf as unknown as Record<string, AnyFn>)[fnName];
  const g = (general as unknown as Record<string, AnyFn>)[fnName] ?? null;
  if (!fn) throw new Error(`missing export ${fnName}`);
  return { code, name, args, res, rm, extra, fn, gen: g, vectors };
}

const OPS: Op[] = [
  op(0, 'f32_add', AA32, 'f32', true, vecAdd(FMT32)),
  op(1, 'f32_sub', AA32, 'f32', true, vecAdd(FMT32)),
  op(2, 'f32_mul', AA32, 'f32', true, vecMulDiv(FMT32, false)),
  op(3, 'f32_div', AA32, 'f32', true, vecMulDiv(FMT32, true)),
  op(4, 'f32_sqrt', A32, 'f32', true, vecSqrt(FMT32)),
  op(5, 'f32_fmadd', AAA32, 'f32', true, vecFma(FMT32), [0, 0], 'f32_muladd'),
  op(6, 'f32_fmsub', AAA32, 'f32', true, vecFma(FMT32), [0, 1], 'f32_muladd'),
  op(7, 'f32_fnmsub', AAA32, 'f32', true, vecFma(FMT32), [1, 0], 'f32_muladd'),
  op(8, 'f32_fnmadd', AAA32, 'f32', true, vecFma(FMT32), [1, 1], 'f32_muladd'),
  op(10, 'f64_add', AA64, 'f64', true, vecAdd(FMT64)),
  op(11, 'f64_sub', AA64, 'f64', true, vecAdd(FMT64)),
  op(12, 'f64_mul', AA64, 'f64', true, vecMulDiv(FMT64, false)),
  op(13, 'f64_div', AA64, 'f64', true, vecMulDiv(FMT64, true)),
  op(14, 'f64_sqrt', A64, 'f64', true, vecSqrt(FMT64)),
  op(15, 'f64_fmadd', AAA64, 'f64', true, vecFma(FMT64), [0, 0], 'f64_muladd'),
  op(16, 'f64_fmsub', AAA64, 'f64', true, vecFma(FMT64), [0, 1], 'f64_muladd'),
  op(17, 'f64_fnmsub', AAA64, 'f64', true, vecFma(FMT64), [1, 0], 'f64_muladd'),
  op(18, 'f64_fnmadd', AAA64, 'f64', true, vecFma(FMT64), [1, 1], 'f64_muladd'),
  op(20, 'f32_min', AA32, 'f32', false, vecCmp(FMT32)),
  op(21, 'f32_max', AA32, 'f32', false, vecCmp(FMT32)),
  op(22, 'f32_eq', AA32, 'i32', false, vecCmp(FMT32)),
  op(23, 'f32_lt', AA32, 'i32', false, vecCmp(FMT32)),
  op(24, 'f32_le', AA32, 'i32', false, vecCmp(FMT32)),
  op(25, 'f32_classify', A32, 'i32', false, vecUnary(FMT32)),
  op(30, 'f64_min', AA64, 'f64', false, vecCmp(FMT64)),
  op(31, 'f64_max', AA64, 'f64', false, vecCmp(FMT64)),
  op(32, 'f64_eq', AA64, 'i32', false, vecCmp(FMT64)),
  op(33, 'f64_lt', AA64, 'i32', false, vecCmp(FMT64)),
  op(34, 'f64_le', AA64, 'i32', false, vecCmp(FMT64)),
  op(35, 'f64_classify', A64, 'i32', false, vecUnary(FMT64)),
  op(40, 'f32_to_f64', A32, 'f64', false, vecUnary(FMT32)),
  op(41, 'f64_to_f32', A64, 'f32', true, vecF64toF32),
  op(42, 'f32_to_i32', A32, 'i32', true, vecToInt(FMT32)),
  op(43, 'f32_to_u32', A32, 'i32', true, vecToInt(FMT32)),
  op(44, 'f32_to_i64', A32, 'i64', true, vecToInt(FMT32)),
  op(45, 'f32_to_u64', A32, 'i64', true, vecToInt(FMT32)),
  op(46, 'f64_to_i32', A64, 'i32', true, vecToInt(FMT64)),
  op(47, 'f64_to_u32', A64, 'i32', true, vecToInt(FMT64)),
  op(48, 'f64_to_i64', A64, 'i64', true, vecToInt(FMT64)),
  op(49, 'f64_to_u64', A64, 'i64', true, vecToInt(FMT64)),
  op(50, 'i32_to_f32', ['i32'], 'f32', true, vecFromInt(32, 24)),
  op(51, 'u32_to_f32', ['i32'], 'f32', true, vecFromInt(32, 24)),
  op(52, 'i64_to_f32', ['i64'], 'f32', true, vecFromInt(64, 24)),
  op(53, 'u64_to_f32', ['i64'], 'f32', true, vecFromInt(64, 24)),
  op(54, 'i32_to_f64', ['i32'], 'f64', false, vecFromInt(32, 53)),
  op(55, 'u32_to_f64', ['i32'], 'f64', false, vecFromInt(32, 53)),
  op(56, 'i64_to_f64', ['i64'], 'f64', true, vecFromInt(64, 53)),
  op(57, 'u64_to_f64', ['i64'], 'f64', true, vecFromInt(64, 53)),
];

// ---------------------------------------------------------------------------
// Running one vector
// ---------------------------------------------------------------------------

function hex(x: bigint, digits: number): string {
  return x.toString(16).padStart(digits, '0');
}

function callArgs(o: Op, vals: bigint[], rm: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < o.args.length; i++) {
    const v = vals[i];
    if (o.args[i] === 'f32' || o.args[i] === 'i32') out.push(Number(v & 0xffffffffn) | 0);
    else out.push(Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0);
  }
  if (o.rm) out.push(rm);
  out.push(...o.extra);
  return out;
}

/** Result formatted like the oracle ("N" for the canonical NaN, "BADNAN:..." for any other NaN). */
function run(o: Op, fn: AnyFn, args: number[]): string {
  fpu.flags = 0;
  const r = fn(...args);
  const hi = fpu.hi;
  const flags = fpu.flags;
  switch (o.res) {
    case 'f32': {
      const u = r >>> 0;
      if ((u & 0x7fffffff) > 0x7f800000) return `${u === 0x7fc00000 ? 'N' : 'BADNAN:' + u.toString(16)} ${flags}`;
      return `${hex(BigInt(u), 8)} ${flags}`;
    }
    case 'f64': {
      const b = (BigInt(hi >>> 0) << 32n) | BigInt(r >>> 0);
      if ((b & 0x7fffffffffffffffn) > 0x7ff0000000000000n)
        return `${b === 0x7ff8000000000000n ? 'N' : 'BADNAN:' + b.toString(16)} ${flags}`;
      return `${hex(b, 16)} ${flags}`;
    }
    case 'i32':
      return `${hex(BigInt(r >>> 0), 8)} ${flags}`;
    case 'i64':
      return `${hex((BigInt(hi >>> 0) << 32n) | BigInt(r >>> 0), 16)} ${flags}`;
  }
}

function vectorsFor(o: Op): { lines: string[]; vals: bigint[][]; rms: number[] } {
  seed = o.code * 7919 + 17;
  const tuples = o.vectors();
  const lines: string[] = [];
  const vals: bigint[][] = [];
  const rms: number[] = [];
  const modes = o.rm ? [0, 1, 2, 3, 4] : [0];
  for (const t of tuples) {
    for (const rm of modes) {
      lines.push(`${o.code} ${rm} ${hex(t[0] ?? 0n, 1)} ${hex(t[1] ?? 0n, 1)} ${hex(t[2] ?? 0n, 1)}`);
      vals.push(t);
      rms.push(rm);
    }
  }
  return { lines, vals, rms };
}

describe.each(OPS)('$name', (o) => {
  it('matches the hardware oracle and the general path', () => {
    const { lines, vals, rms } = vectorsFor(o);
    const expected = oracleBin ? runOracle(lines) : null;
    const bad: string[] = [];
    let checks = 0;
    for (let i = 0; i < lines.length; i++) {
      const args = callArgs(o, vals[i], rms[i]);
      const fast = run(o, o.fn, args);
      const slow = o.gen ? run(o, o.gen, args) : null;
      if (expected) {
        checks++;
        if (fast !== expected[i]) bad.push(`${o.name} rm=${rms[i]} [${lines[i]}]: got ${fast}, oracle ${expected[i]}`);
        if (slow !== null && slow !== expected[i])
          bad.push(`general ${o.name} rm=${rms[i]} [${lines[i]}]: got ${slow}, oracle ${expected[i]}`);
      }
      if (slow !== null && slow !== fast) bad.push(`${o.name} rm=${rms[i]} [${lines[i]}]: fast ${fast} != general ${slow}`);
      if (bad.length > 20) break;
    }
    expect(bad).toEqual([]);
    expect(lines.length).toBeGreaterThan(4000);
    if (expected) expect(checks).toBe(lines.length);
  });
});

// ---------------------------------------------------------------------------
// Hand-written RISC-V cases
// ---------------------------------------------------------------------------

const f32bits = (x: number): number => {
  const b = new Float32Array([x]);
  return new Int32Array(b.buffer)[0];
};
const f64pair = (x: number): [number, number] => {
  const b = new Float64Array([x]);
  const i = new Int32Array(b.buffer);
  return [i[0], i[1]];
};
function call(fn: () => number): { r: number; hi: number; flags: number } {
  fpu.flags = 0;
  const r = fn();
  return { r, hi: fpu.hi, flags: fpu.flags };
}

const QNAN32 = 0x7fc00000;
const SNAN32 = 0x7f800001;
const PAYLOAD_NAN32 = 0xffc12345 | 0;
const [QNAN_LO, QNAN_HI] = [0, 0x7ff80000];
const [SNAN_LO, SNAN_HI] = [1, 0x7ff00000];

describe('hand-written RISC-V cases', () => {
  it('flags accumulate and are never cleared', () => {
    fpu.flags = 0;
    sf.f32_div(f32bits(1), 0, 0);
    sf.f32_add(f32bits(1), f32bits(2 ** -30), 0);
    expect(fpu.flags).toBe(sf.FLAG_DZ | sf.FLAG_NX);
    sf.f32_add(f32bits(1), f32bits(1), 0);
    expect(fpu.flags).toBe(sf.FLAG_DZ | sf.FLAG_NX);
  });

  it('RMM rounds ties away from zero', () => {
    const one = f32bits(1);
    const half = f32bits(2 ** -24);
    expect(call(() => sf.f32_add(one, half, sf.RMM))).toMatchObject({ r: 0x3f800001, flags: 1 });
    expect(call(() => sf.f32_add(one, half, sf.RNE))).toMatchObject({ r: 0x3f800000, flags: 1 });
    expect(call(() => sf.f32_sub(f32bits(-1), half, sf.RMM))).toMatchObject({ r: 0xbf800001 | 0, flags: 1 });
    const [oLo, oHi] = f64pair(1);
    const [hLo, hHi] = f64pair(2 ** -53);
    expect(call(() => sf.f64_add(oLo, oHi, hLo, hHi, sf.RMM))).toMatchObject({ r: 1, hi: 0x3ff00000, flags: 1 });
    expect(call(() => sf.f64_add(oLo, oHi, hLo, hHi, sf.RNE))).toMatchObject({ r: 0, hi: 0x3ff00000, flags: 1 });
    expect(call(() => sf.i32_to_f32(0x1000001, sf.RMM))).toMatchObject({ r: f32bits(16777218), flags: 1 });
    expect(call(() => sf.i32_to_f32(0x1000001, sf.RNE))).toMatchObject({ r: f32bits(16777216), flags: 1 });
    expect(call(() => sf.f32_to_i32(f32bits(2.5), sf.RMM))).toMatchObject({ r: 3, flags: 1 });
    expect(call(() => sf.f32_to_i32(f32bits(2.5), sf.RNE))).toMatchObject({ r: 2, flags: 1 });
    expect(call(() => sf.f32_to_i32(f32bits(-2.5), sf.RMM))).toMatchObject({ r: -3, flags: 1 });
    expect(call(() => sf.f32_to_i32(f32bits(-3.5), sf.RNE))).toMatchObject({ r: -4, flags: 1 });
    // subnormal tie: min_subnormal * 0.5 -> min_subnormal (RMM), 0 (RNE)
    expect(call(() => sf.f32_mul(1, f32bits(0.5), sf.RMM))).toMatchObject({ r: 1, flags: 3 });
    expect(call(() => sf.f32_mul(1, f32bits(0.5), sf.RNE))).toMatchObject({ r: 0, flags: 3 });
  });

  it('produces only canonical NaNs; sNaN inputs raise NV', () => {
    expect(call(() => sf.f32_add(PAYLOAD_NAN32, f32bits(1), 0))).toMatchObject({ r: QNAN32, flags: 0 });
    expect(call(() => sf.f32_mul(SNAN32, f32bits(1), 0))).toMatchObject({ r: QNAN32, flags: 16 });
    expect(call(() => sf.f32_sqrt(f32bits(-1), 0))).toMatchObject({ r: QNAN32, flags: 16 });
    expect(call(() => sf.f32_sqrt(0x80000000 | 0, 0))).toMatchObject({ r: 0x80000000 | 0, flags: 0 });
    expect(call(() => sf.f64_to_f32(0x1234, 0xfff81234 | 0, 0))).toMatchObject({ r: QNAN32, flags: 0 });
    expect(call(() => sf.f32_to_f64(SNAN32))).toMatchObject({ r: 0, hi: 0x7ff80000, flags: 16 });
    expect(call(() => sf.f32_to_f64(PAYLOAD_NAN32))).toMatchObject({ r: 0, hi: 0x7ff80000, flags: 0 });
    expect(call(() => sf.f64_div(0, 0, 0, 0, 0))).toMatchObject({ r: QNAN_LO, hi: QNAN_HI, flags: 16 });
    expect(call(() => sf.f64_sub(0, 0x7ff00000, 0, 0x7ff00000, 0))).toMatchObject({ r: 0, hi: QNAN_HI, flags: 16 });
    expect(call(() => sf.f64_add(0x55, 0xfff80000 | 0, 0, 0, 0))).toMatchObject({ r: 0, hi: QNAN_HI, flags: 0 });
  });

  it('fma: inf * 0 raises NV even with a quiet NaN addend', () => {
    const inf = 0x7f800000;
    expect(call(() => sf.f32_muladd(inf, 0, QNAN32, 0, 0, 0))).toMatchObject({ r: QNAN32, flags: 16 });
    expect(call(() => sf.f32_muladd(0, inf, QNAN32, 0, 1, 1))).toMatchObject({ r: QNAN32, flags: 16 });
    expect(call(() => sf.f32_muladd(f32bits(1), f32bits(2), QNAN32, 0, 0, 0))).toMatchObject({ r: QNAN32, flags: 0 });
    expect(call(() => sf.f64_muladd(0, 0x7ff00000, 0, 0, QNAN_LO, QNAN_HI, 0, 0, 0))).toMatchObject({
      r: 0,
      hi: QNAN_HI,
      flags: 16,
    });
    // fnmadd = -(a*b) - c
    const [aLo, aHi] = f64pair(2);
    const [bLo, bHi] = f64pair(3);
    const [cLo, cHi] = f64pair(1);
    expect(call(() => sf.f64_muladd(aLo, aHi, bLo, bHi, cLo, cHi, 0, 1, 1))).toMatchObject({
      r: f64pair(-7)[0],
      hi: f64pair(-7)[1],
      flags: 0,
    });
    expect(call(() => sf.f32_muladd(f32bits(2), f32bits(3), f32bits(1), 0, 1, 0))).toMatchObject({ r: f32bits(-5) });
    expect(call(() => sf.f32_muladd(f32bits(2), f32bits(3), f32bits(1), 0, 0, 1))).toMatchObject({ r: f32bits(5) });
    // exact zero: +0 except RDN
    expect(call(() => sf.f32_muladd(f32bits(2), f32bits(3), f32bits(-6), sf.RNE, 0, 0)).r).toBe(0);
    expect(call(() => sf.f32_muladd(f32bits(2), f32bits(3), f32bits(-6), sf.RDN, 0, 0)).r).toBe(0x80000000 | 0);
  });

  it('fmin/fmax: -0 < +0, NaN operands, sNaN raises NV', () => {
    const nz = 0x80000000 | 0;
    expect(call(() => sf.f32_min(0, nz))).toMatchObject({ r: nz, flags: 0 });
    expect(call(() => sf.f32_min(nz, 0))).toMatchObject({ r: nz, flags: 0 });
    expect(call(() => sf.f32_max(0, nz))).toMatchObject({ r: 0, flags: 0 });
    expect(call(() => sf.f32_max(nz, 0))).toMatchObject({ r: 0, flags: 0 });
    expect(call(() => sf.f32_min(QNAN32, f32bits(1)))).toMatchObject({ r: f32bits(1), flags: 0 });
    expect(call(() => sf.f32_max(f32bits(1), SNAN32))).toMatchObject({ r: f32bits(1), flags: 16 });
    expect(call(() => sf.f32_max(PAYLOAD_NAN32, QNAN32))).toMatchObject({ r: QNAN32, flags: 0 });
    expect(call(() => sf.f64_min(0, 0, 0, 0x80000000 | 0))).toMatchObject({ r: 0, hi: 0x80000000 | 0 });
    expect(call(() => sf.f64_max(0, 0x80000000 | 0, 0, 0))).toMatchObject({ r: 0, hi: 0 });
    expect(call(() => sf.f64_min(SNAN_LO, SNAN_HI, SNAN_LO, SNAN_HI))).toMatchObject({ r: 0, hi: QNAN_HI, flags: 16 });
    const [oLo, oHi] = f64pair(-1);
    expect(call(() => sf.f64_max(QNAN_LO, QNAN_HI, oLo, oHi))).toMatchObject({ r: oLo, hi: oHi, flags: 0 });
  });

  it('comparisons: feq quiet, flt/fle signalling', () => {
    expect(call(() => sf.f32_eq(QNAN32, QNAN32))).toMatchObject({ r: 0, flags: 0 });
    expect(call(() => sf.f32_eq(SNAN32, f32bits(1)))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_lt(QNAN32, f32bits(1)))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_le(f32bits(1), QNAN32))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_eq(0, 0x80000000 | 0))).toMatchObject({ r: 1, flags: 0 });
    expect(call(() => sf.f32_lt(0x80000000 | 0, 0))).toMatchObject({ r: 0, flags: 0 });
    expect(call(() => sf.f32_le(0x80000000 | 0, 0))).toMatchObject({ r: 1, flags: 0 });
    expect(call(() => sf.f64_eq(QNAN_LO, QNAN_HI, 0, 0))).toMatchObject({ r: 0, flags: 0 });
    expect(call(() => sf.f64_lt(QNAN_LO, QNAN_HI, 0, 0))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f64_le(0, 0, 0, 0x80000000 | 0))).toMatchObject({ r: 1, flags: 0 });
  });

  it('fclass', () => {
    const cases: [number, number][] = [
      [0xff800000 | 0, 1 << 0],
      [f32bits(-1), 1 << 1],
      [0x80000001 | 0, 1 << 2],
      [0x80000000 | 0, 1 << 3],
      [0, 1 << 4],
      [1, 1 << 5],
      [f32bits(1), 1 << 6],
      [0x7f800000, 1 << 7],
      [SNAN32, 1 << 8],
      [QNAN32, 1 << 9],
    ];
    for (const [x, c] of cases) expect(sf.f32_classify(x)).toBe(c);
    expect(sf.f64_classify(SNAN_LO, SNAN_HI)).toBe(1 << 8);
    expect(sf.f64_classify(QNAN_LO, QNAN_HI)).toBe(1 << 9);
    expect(sf.f64_classify(1, 0x80000000 | 0)).toBe(1 << 2);
    expect(sf.f64_classify(0, 0xfff00000 | 0)).toBe(1 << 0);
  });

  it('fcvt saturation table', () => {
    const inf = 0x7f800000;
    const ninf = 0xff800000 | 0;
    // fcvt.w.s
    expect(call(() => sf.f32_to_i32(QNAN32, 0))).toMatchObject({ r: 0x7fffffff, flags: 16 });
    expect(call(() => sf.f32_to_i32(inf, 0))).toMatchObject({ r: 0x7fffffff, flags: 16 });
    expect(call(() => sf.f32_to_i32(ninf, 0))).toMatchObject({ r: 0x80000000 | 0, flags: 16 });
    expect(call(() => sf.f32_to_i32(f32bits(3e9), 0))).toMatchObject({ r: 0x7fffffff, flags: 16 });
    expect(call(() => sf.f32_to_i32(f32bits(-2147483648), 0))).toMatchObject({ r: 0x80000000 | 0, flags: 0 });
    // fcvt.wu.s
    expect(call(() => sf.f32_to_u32(QNAN32, 0))).toMatchObject({ r: -1, flags: 16 });
    expect(call(() => sf.f32_to_u32(inf, 0))).toMatchObject({ r: -1, flags: 16 });
    expect(call(() => sf.f32_to_u32(ninf, 0))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_to_u32(f32bits(-1), 0))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_to_u32(f32bits(-0.3), sf.RTZ))).toMatchObject({ r: 0, flags: 1 });
    expect(call(() => sf.f32_to_u32(f32bits(-0.3), sf.RNE))).toMatchObject({ r: 0, flags: 1 });
    expect(call(() => sf.f32_to_u32(f32bits(-0.7), sf.RNE))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_to_u32(f32bits(-0.3), sf.RDN))).toMatchObject({ r: 0, flags: 16 });
    expect(call(() => sf.f32_to_u32(f32bits(4294967040), 0))).toMatchObject({ r: 0xffffff00 | 0, flags: 0 });
    // fcvt.l.d / fcvt.lu.d
    expect(call(() => sf.f64_to_i64(QNAN_LO, QNAN_HI, 0))).toMatchObject({ r: -1, hi: 0x7fffffff, flags: 16 });
    expect(call(() => sf.f64_to_i64(0, 0xfff00000 | 0, 0))).toMatchObject({ r: 0, hi: 0x80000000 | 0, flags: 16 });
    expect(call(() => sf.f64_to_i64(...f64pair(2 ** 63), 0))).toMatchObject({ r: -1, hi: 0x7fffffff, flags: 16 });
    expect(call(() => sf.f64_to_i64(...f64pair(-(2 ** 63)), 0))).toMatchObject({ r: 0, hi: 0x80000000 | 0, flags: 0 });
    expect(call(() => sf.f64_to_i64(...f64pair(-1.5), sf.RTZ))).toMatchObject({ r: -1, hi: -1, flags: 1 });
    expect(call(() => sf.f64_to_u64(QNAN_LO, QNAN_HI, 0))).toMatchObject({ r: -1, hi: -1, flags: 16 });
    expect(call(() => sf.f64_to_u64(...f64pair(2 ** 64), 0))).toMatchObject({ r: -1, hi: -1, flags: 16 });
    expect(call(() => sf.f64_to_u64(...f64pair(-1), 0))).toMatchObject({ r: 0, hi: 0, flags: 16 });
    expect(call(() => sf.f64_to_u64(...f64pair(-0.5), sf.RNE))).toMatchObject({ r: 0, hi: 0, flags: 1 });
    expect(call(() => sf.f64_to_u64(...f64pair(2 ** 64 - 2048), 0))).toMatchObject({ r: -2048, hi: -1, flags: 0 });
    expect(call(() => sf.f64_to_u32(...f64pair(4294967295.5), sf.RTZ))).toMatchObject({ r: -1, flags: 1 });
    expect(call(() => sf.f64_to_u32(...f64pair(4294967295.5), sf.RNE))).toMatchObject({ r: -1, flags: 16 });
    expect(call(() => sf.f64_to_i32(...f64pair(-2147483648.9), sf.RTZ))).toMatchObject({ r: 0x80000000 | 0, flags: 1 });
    expect(call(() => sf.f64_to_i32(...f64pair(-2147483648.9), sf.RDN))).toMatchObject({ r: 0x80000000 | 0, flags: 16 });
  });

  it('tininess is detected after rounding', () => {
    // (2^-126 - 2^-150) * (1 + 2^-23) rounds to 2^-126 in RNE: inexact, not tiny -> no UF
    const a = 0x007fffff; // 2^-126 - 2^-149
    const b = f32bits(1 + 2 ** -23);
    expect(call(() => sf.f32_mul(a, b, sf.RNE))).toMatchObject({ r: 0x00800000, flags: 1 });
    expect(call(() => sf.f32_mul(a, b, sf.RTZ))).toMatchObject({ r: 0x007fffff, flags: 3 });
    // binary64: largest subnormal times (1 + 2^-52)
    const [pLo, pHi] = f64pair(1 + 2 ** -52);
    expect(call(() => sf.f64_mul(-1, 0x000fffff, pLo, pHi, sf.RNE))).toMatchObject({ r: 0, hi: 0x00100000, flags: 1 });
    expect(call(() => sf.f64_mul(-1, 0x000fffff, pLo, pHi, sf.RDN))).toMatchObject({ r: -1, hi: 0x000fffff, flags: 3 });
    // exact subnormal results raise nothing
    expect(call(() => sf.f32_mul(2, f32bits(0.5), sf.RNE))).toMatchObject({ r: 1, flags: 0 });
  });

  it('overflow result depends on the rounding mode', () => {
    const max = 0x7f7fffff;
    const two = f32bits(2);
    expect(call(() => sf.f32_mul(max, two, sf.RNE))).toMatchObject({ r: 0x7f800000, flags: 5 });
    expect(call(() => sf.f32_mul(max, two, sf.RTZ))).toMatchObject({ r: max, flags: 5 });
    expect(call(() => sf.f32_mul(max, two, sf.RDN))).toMatchObject({ r: max, flags: 5 });
    expect(call(() => sf.f32_mul(max | 0x80000000, two, sf.RDN))).toMatchObject({ r: 0xff800000 | 0, flags: 5 });
    expect(call(() => sf.f32_mul(max | 0x80000000, two, sf.RUP))).toMatchObject({ r: 0xff7fffff | 0, flags: 5 });
    expect(call(() => sf.f64_mul(-1, 0x7fefffff, 0, 0x40000000, sf.RTZ))).toMatchObject({ r: -1, hi: 0x7fefffff, flags: 5 });
  });

  it('64-bit integer conversions', () => {
    // -2^63 -> f32/f64 exactly
    expect(call(() => sf.i64_to_f32(0, 0x80000000 | 0, 0))).toMatchObject({ r: f32bits(-(2 ** 63)), flags: 0 });
    expect(call(() => sf.i64_to_f64(0, 0x80000000 | 0, 0))).toMatchObject({ r: 0, hi: 0xc3e00000 | 0, flags: 0 });
    // 2^64-1 -> 2^64 (RNE), 2^64 - 2048 (RTZ)
    expect(call(() => sf.u64_to_f64(-1, -1, sf.RNE))).toMatchObject({ r: 0, hi: 0x43f00000, flags: 1 });
    expect(call(() => sf.u64_to_f64(-1, -1, sf.RTZ))).toMatchObject({ r: -1, hi: 0x43efffff, flags: 1 });
    expect(call(() => sf.i32_to_f64(-5))).toMatchObject({ r: 0, hi: f64pair(-5)[1], flags: 0 });
    expect(call(() => sf.u32_to_f64(-1))).toMatchObject({ r: f64pair(4294967295)[0], hi: f64pair(4294967295)[1] });
  });
});

describe('fast paths against the general path (random, every rounding mode)', () => {
  it('f64 arithmetic', () => {
    seed = 4242;
    const names = ['f64_add', 'f64_sub', 'f64_mul', 'f64_div'] as const;
    let n = 0;
    const bad: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const rm = i % 5;
      // normal operands in and around the fast-path ranges
      const a = mk(FMT64, rndInt(2), 1023 + rndInt(1200) - 600, rndBits(52));
      const b = mk(FMT64, rndInt(2), 1023 + rndInt(1200) - 600, rndBits(52));
      const c = mk(FMT64, rndInt(2), 1023 + rndInt(1200) - 600, rndBits(52));
      const aa = [Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0];
      const bb = [Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0];
      const cc = [Number(c & 0xffffffffn) | 0, Number(c >> 32n) | 0];
      for (const name of names) {
        const f = sf[name] as AnyFn;
        const g = general[name] as AnyFn;
        fpu.flags = 0;
        const r1 = f(aa[0], aa[1], bb[0], bb[1], rm);
        const h1 = fpu.hi;
        const f1 = fpu.flags;
        fpu.flags = 0;
        const r2 = g(aa[0], aa[1], bb[0], bb[1], rm);
        n++;
        if (r1 !== r2 || h1 !== fpu.hi || f1 !== fpu.flags) bad.push(`${name} rm=${rm} ${a.toString(16)} ${b.toString(16)}`);
      }
      fpu.flags = 0;
      const r1 = sf.f64_muladd(aa[0], aa[1], bb[0], bb[1], cc[0], cc[1], rm, i & 1, (i >> 1) & 1);
      const h1 = fpu.hi;
      const f1 = fpu.flags;
      fpu.flags = 0;
      const r2 = general.f64_muladd(aa[0], aa[1], bb[0], bb[1], cc[0], cc[1], rm, i & 1, (i >> 1) & 1);
      n++;
      if (r1 !== r2 || h1 !== fpu.hi || f1 !== fpu.flags) bad.push(`fma rm=${rm} ${a.toString(16)} ${b.toString(16)} ${c.toString(16)}`);
      fpu.flags = 0;
      const s1 = sf.f64_sqrt(aa[0], aa[1] & 0x7fffffff, rm);
      const sh1 = fpu.hi;
      const sf1 = fpu.flags;
      fpu.flags = 0;
      const s2 = general.f64_sqrt(aa[0], aa[1] & 0x7fffffff, rm);
      if (s1 !== s2 || sh1 !== fpu.hi || sf1 !== fpu.flags) bad.push(`sqrt rm=${rm} ${a.toString(16)}`);
      if (bad.length > 10) break;
    }
    expect(bad).toEqual([]);
    expect(n).toBeGreaterThan(90000);
  });
});
