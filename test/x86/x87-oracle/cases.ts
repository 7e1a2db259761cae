/**
 * The x87 test cases: an initial x87 state, EFLAGS, the first bytes of a data buffer that rbx
 * points to, and a few x87 instructions (x86-64 encodings addressing [rbx+d]). The same list
 * runs on the host CPU (hosted.c), on QEMU 7.2 (baremetal.c, recorded in qemu-7.2.txt) and
 * through executeFpu (test/x86-x87.test.ts).
 *
 * `hw` says what the real CPU must agree on; null where QEMU 7.2 (our reference) departs from
 * hardware or the instruction is a transcendental one (QEMU computes those differently).
 */

export interface HwCompare {
  /** Status-word bits compared (default: everything but DE, C1, ES and B, which QEMU handles differently). */
  sw: number;
  regs: boolean;
  /** Byte ranges [from, to) of the printed buffer compared (default: all). */
  mem?: [number, number][];
}

export interface X87Case {
  name: string;
  cw: number;
  /** Initial status word including TOP. */
  sw: number;
  tag: number;
  eflags: number;
  /** Initial bytes of the buffer (the rest is zero). */
  mem: number[];
  /** Bytes of the buffer printed after the run. */
  memlen: number;
  code: number[];
  /** ST0..ST7 of the FRSTOR image as [sign/exponent, significand]. */
  regs: [number, bigint][];
  hw: HwCompare | null;
  /** Byte ranges of the printed buffer never compared (instruction and data pointers). */
  ignore?: [number, number][];
}

export const HW_SW = 0x7d7d;
const HW: HwCompare = { sw: HW_SW, regs: true };

// ---- values -------------------------------------------------------------------------------------

export type V = [number, bigint];
export const V = {
  one: [0x3fff, 0x8000000000000000n] as V,
  mone: [0xbfff, 0x8000000000000000n] as V,
  two: [0x4000, 0x8000000000000000n] as V,
  three: [0x4000, 0xc000000000000000n] as V,
  m7: [0xc001, 0xe000000000000000n] as V,
  ten: [0x4002, 0xa000000000000000n] as V,
  half: [0x3ffe, 0x8000000000000000n] as V,
  quarter: [0x3ffd, 0x8000000000000000n] as V,
  mquarter: [0xbffd, 0x8000000000000000n] as V,
  zero: [0x0000, 0n] as V,
  mzero: [0x8000, 0n] as V,
  inf: [0x7fff, 0x8000000000000000n] as V,
  minf: [0xffff, 0x8000000000000000n] as V,
  qnan: [0x7fff, 0xc000000000000001n] as V,
  mqnan: [0xffff, 0xc000000000000123n] as V,
  snan: [0x7fff, 0xa000000000000002n] as V,
  msnan: [0xffff, 0x8000000000000777n] as V,
  denorm: [0x0000, 0x0000000000000123n] as V,
  mdenorm: [0x8000, 0x4000000000000000n] as V,
  pseudoDenorm: [0x0000, 0x8000000000000001n] as V,
  max: [0x7ffe, 0xffffffffffffffffn] as V,
  mmax: [0xfffe, 0xffffffffffffffffn] as V,
  minNorm: [0x0001, 0x8000000000000000n] as V,
  onep: [0x3fff, 0x8000000000000001n] as V,
  third: [0x3ffd, 0xaaaaaaaaaaaaaaabn] as V,
  big: [0x4040, 0xd000000000000000n] as V,
  pseudoInf: [0x7fff, 0x0000000000000000n] as V,
  pseudoNaN: [0x7fff, 0x4000000000000001n] as V,
  unnormal: [0x4000, 0x4000000000000000n] as V,
  pi: [0x4000, 0xc90fdaa22168c235n] as V,
  e10: [0x4020, 0x9502f90000000000n] as V,
  huge: [0x7ffe, 0x8000000000000000n] as V,
};

// ---- encodings ----------------------------------------------------------------------------------

/** A memory form with ModRM.reg = reg addressing [rbx + disp]. */
export function m(op: number | number[], reg: number, disp = 0): number[] {
  const prefix = Array.isArray(op) ? op : [op];
  if (disp === 0) return [...prefix, (reg << 3) | 3];
  if (disp < 128) return [...prefix, 0x40 | (reg << 3) | 3, disp];
  return [...prefix, 0x80 | (reg << 3) | 3, disp & 0xff, (disp >> 8) & 0xff, 0, 0];
}
const rr = (op: number, modrm: number, i = 0): number[] => [op, modrm + i];

export const FLD1 = [0xd9, 0xe8];
export const FLDZ = [0xd9, 0xee];

const le = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, k) => Number((v >> BigInt(8 * k)) & 0xffn));
const f80bytes = (v: V): number[] => [...le(v[1], 8), ...le(BigInt(v[0]), 2)];

export const cwOf = (pc: number, rc: number, masks = 0x3f): number => masks | 0x40 | (pc << 8) | (rc << 10);
const FILL: V = [0x0000, 0n];

interface Opts {
  cw?: number;
  sw?: number;
  eflags?: number;
  mem?: number[];
  memlen?: number;
  hw?: HwCompare | null;
  /** Initial empty registers below the given values are left empty; `full` fills all eight. */
  fill?: V[];
  ignore?: [number, number][];
}

/** A case with `stack` as ST0, ST1, ... (pushed in reverse order), the other registers empty. */
function mk(name: string, stack: V[], code: number[], o: Opts = {}): X87Case {
  const n = stack.length;
  const top = (8 - n) & 7;
  let tag = 0;
  for (let p = 0; p < 8; p++) {
    const i = (p - top + 8) & 7; // ST index of physical register p
    if (i >= n) tag |= 3 << (2 * p);
  }
  const regs: V[] = [];
  for (let i = 0; i < 8; i++) regs.push(i < n ? stack[i] : (o.fill?.[i - n] ?? FILL));
  return {
    name,
    cw: o.cw ?? 0x037f,
    sw: (o.sw ?? 0) | (top << 11),
    tag,
    eflags: o.eflags ?? 0x202,
    mem: o.mem ?? [],
    memlen: o.memlen ?? 0,
    code,
    regs,
    hw: o.hw === undefined ? HW : o.hw,
    ignore: o.ignore,
  };
}

/** A short name for a value: its name in V, or the sign/exponent and the significand without trailing zeros. */
function hexv(v: V): string {
  for (const [k, x] of Object.entries(V)) if (x[0] === v[0] && x[1] === v[1]) return k;
  return `${v[0].toString(16)}_${v[1].toString(16).replace(/0+$/, '') || '0'}`;
}

// ---- deterministic random values ------------------------------------------------------------------

let seed = 0x1234567;
function rnd32(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const rndInt = (n: number): number => Math.floor((rnd32() / 4294967296) * n);
const rnd64 = (): bigint => (BigInt(rnd32()) << 32n) | BigInt(rnd32());
function rndValue(expCenter = 0x3fff, spread = 70): V {
  let mant = rnd64() | (1n << 63n);
  const kind = rndInt(8);
  if (kind === 0) mant &= ~((1n << BigInt(rndInt(60))) - 1n); // short significands: exact cases
  if (kind === 1) mant |= (1n << BigInt(rndInt(40))) - 1n; // runs of ones: carries
  const sign = rndInt(2) ? 0x8000 : 0;
  const exp = Math.max(1, Math.min(0x7ffe, expCenter + rndInt(2 * spread + 1) - spread));
  return [sign | exp, mant];
}

// ---- the cases ------------------------------------------------------------------------------------

export function x87Cases(): X87Case[] {
  seed = 0x1234567;
  const cases: X87Case[] = [];
  const add = (c: X87Case): void => {
    cases.push(c);
  };

  // Arithmetic, register forms, over special values: D8 (ST0 = ST0 op ST1), DC (ST1 = ST1 op ST0), DE (pop).
  const special: V[] = [
    V.one, V.three, V.m7, V.zero, V.mzero, V.denorm, V.pseudoDenorm, V.max, V.inf, V.minf, V.qnan, V.snan, V.msnan,
    V.unnormal, V.pseudoInf, V.pseudoNaN,
  ];
  const ops = ['add', 'mul', 'sub', 'subr', 'div', 'divr'];
  const d8reg = [0, 1, 4, 5, 6, 7];
  for (let k = 0; k < 6; k++) {
    for (const a of special) {
      for (const b of special) {
        add(mk(`${ops[k]}-${hexv(a)}-${hexv(b)}`, [a, b], rr(0xd8, 0xc0 + 8 * d8reg[k], 1)));
      }
    }
  }
  // DC and DE register forms (the reversed naming of SUB/SUBR and DIV/DIVR there).
  const pairs: [V, V][] = [[V.three, V.m7], [V.ten, V.three], [V.qnan, V.snan], [V.zero, V.three], [V.inf, V.inf]];
  for (const [a, b] of pairs) {
    for (let reg = 0; reg < 8; reg++) {
      if (reg === 2 || reg === 3) continue;
      add(mk(`dc${reg}-${hexv(a)}-${hexv(b)}`, [a, b], rr(0xdc, 0xc0 + 8 * reg, 1)));
      add(mk(`de${reg}-${hexv(a)}-${hexv(b)}`, [a, b], rr(0xde, 0xc0 + 8 * reg, 1)));
    }
  }
  // Memory forms: m32, m64, m16int, m32int.
  const m32s = [0x3f800000, 0x80000000, 0x00000001, 0x7f800000, 0x7fc00001, 0x7f800001, 0x3eaaaaab, 0xff7fffff];
  const m64s = [0x3ff0000000000000n, 0x0000000000000001n, 0xfff0000000000000n, 0x7ff0000000000001n, 0x3fd5555555555555n, 0x7fefffffffffffffn];
  for (let reg = 0; reg < 8; reg++) {
    for (const x of m32s) add(mk(`d8m${reg}-${x.toString(16)}`, [V.three], m(0xd8, reg), { mem: le(BigInt(x), 4) }));
    for (const x of m64s) add(mk(`dcm${reg}-${x.toString(16)}`, [V.m7], m(0xdc, reg), { mem: le(x, 8) }));
    for (const x of [0, 1, -7, 32767, -32768]) add(mk(`dem${reg}-${x}`, [V.three], m(0xde, reg), { mem: le(BigInt(x & 0xffff), 2) }));
    for (const x of [0, -3, 0x7fffffff, -0x80000000, 123456789]) {
      add(mk(`dam${reg}-${x}`, [V.ten], m(0xda, reg), { mem: le(BigInt(x >>> 0), 4) }));
    }
  }

  // Precision control x rounding control, and random operands.
  const pcrc: [string, V, V, number][] = [
    ['1/3', V.one, V.three, 6], ['-1/7', V.one, V.m7, 6], ['onep*3', V.onep, V.three, 1], ['10/3', V.ten, V.three, 6],
    ['1+onep', V.one, V.onep, 0], ['max*3', V.max, V.three, 1], ['minnorm/3', V.minNorm, V.three, 6],
    ['denorm*half', V.denorm, V.half, 1], ['third-1', V.third, V.one, 4], ['max+max', V.max, V.max, 0],
    ['minnorm*third', V.minNorm, V.third, 1], ['pi*pi', V.pi, V.pi, 1],
  ];
  for (const [name, a, b, reg] of pcrc) {
    for (const pc of [0, 2, 3]) {
      for (let rc = 0; rc < 4; rc++) {
        add(mk(`pcrc-${name}-pc${pc}-rc${rc}`, [a, b], rr(0xd8, 0xc0 + 8 * reg, 1), { cw: cwOf(pc, rc) }));
      }
    }
  }
  for (let k = 0; k < 400; k++) {
    const pc = [0, 2, 3, 3][rndInt(4)];
    const rc = rndInt(4);
    const reg = d8reg[rndInt(6)];
    const a = rndValue();
    const near = rndInt(3) === 0;
    const b = near ? ([a[0] ^ (rndInt(2) << 15), a[1] ^ BigInt(rndInt(1000))] as V) : rndValue();
    add(mk(`rnd${k}-pc${pc}-rc${rc}-${ops[d8reg.indexOf(reg)]}`, [a, b], rr(0xd8, 0xc0 + 8 * reg, 1), { cw: cwOf(pc, rc) }));
  }
  // Underflow, overflow and denormal results.
  for (let k = 0; k < 150; k++) {
    const pc = [0, 2, 3][rndInt(3)];
    const rc = rndInt(4);
    const tiny = rndInt(2) === 0;
    const a = rndValue(tiny ? 1 : 0x7ffe, tiny ? 40 : 3);
    const b = tiny ? rndValue(0x3fff, 45) : rndValue(0x3fff, 3);
    const reg = tiny ? [1, 6][rndInt(2)] : [0, 1, 7][rndInt(3)];
    add(mk(`edge${k}-pc${pc}-rc${rc}`, [a, b], rr(0xd8, 0xc0 + 8 * reg, 1), { cw: cwOf(pc, rc) }));
  }

  // Unary operations.
  const unaryVals: V[] = [
    V.one, V.three, V.m7, V.zero, V.mzero, V.denorm, V.mdenorm, V.pseudoDenorm, V.inf, V.minf, V.qnan, V.snan,
    V.big, V.unnormal, V.pseudoInf, V.pseudoNaN, V.half, V.mone, V.ten, V.e10, V.huge, V.third,
    [0x3fff, 0xc000000000000000n], [0x4000, 0xa000000000000000n], [0xc000, 0xe000000000000000n], [0x403d, 0xffffffffffffffffn],
  ];
  const unary: [string, number[], boolean][] = [
    ['fsqrt', [0xd9, 0xfa], true], ['frndint', [0xd9, 0xfc], true], ['fabs', [0xd9, 0xe1], true],
    ['fchs', [0xd9, 0xe0], true], ['fxtract', [0xd9, 0xf4], true], ['ftst', [0xd9, 0xe4], true],
    ['fxam', [0xd9, 0xe5], true],
  ];
  for (const [name, code, hw] of unary) {
    for (const v of unaryVals) {
      // FSQRT of a negative number: QEMU sets C2.
      const h = hw ? (name === 'fsqrt' && v[0] & 0x8000 ? { sw: HW_SW & ~0x400, regs: true } : HW) : null;
      add(mk(`${name}-${hexv(v)}`, [v, V.two], code, { hw: name === 'fxam' ? { sw: 0x4700 | 0x3800, regs: true } : h }));
    }
  }
  for (let rc = 0; rc < 4; rc++) {
    for (const pc of [0, 2, 3]) {
      for (const v of [[0x4000, 0xa000000000000000n], [0xc000, 0xa000000000000000n], V.half, [0xbffd, 0x8000000000000000n],
        [0x403d, 0xffffffffffffffffn], [0x4016, 0xc000004000000000n], [0x3ffe, 0xffffffffffffffffn]] as V[]) {
        add(mk(`frndint-pc${pc}-rc${rc}-${hexv(v)}`, [v], [0xd9, 0xfc], { cw: cwOf(pc, rc), hw: pc === 3 ? HW : null }));
        add(mk(`fsqrt-pc${pc}-rc${rc}-${hexv(v)}`, [v], [0xd9, 0xfa], { cw: cwOf(pc, rc), hw: v[0] & 0x8000 ? null : HW }));
      }
    }
  }
  for (let k = 0; k < 60; k++) {
    const pc = [0, 2, 3][rndInt(3)];
    const rc = rndInt(4);
    const v = rndValue(0x3fff, 200);
    v[0] &= 0x7fff;
    add(mk(`fsqrt-rnd${k}-pc${pc}-rc${rc}`, [v], [0xd9, 0xfa], { cw: cwOf(pc, rc) }));
  }
  // Two-operand D9 instructions: FSCALE, FPREM, FPREM1 with ST1 from a small set.
  const seconds: V[] = [V.three, [0x4000, 0xa000000000000000n], V.mone, V.zero, V.inf, V.qnan, V.snan, V.denorm, V.half,
    [0xc00d, 0xfa00000000000000n], [0x400d, 0xfa00000000000000n], V.unnormal];
  for (const b of seconds) {
    for (const a of unaryVals) {
      // Two NaNs: QEMU takes ST1's (quieted), hardware the QNaN.
      const bothNaN = a[0] === 0x7fff && b[0] === 0x7fff && (a[1] << 1n) & ((1n << 64n) - 1n) && (b[1] << 1n) & ((1n << 64n) - 1n);
      add(mk(`fscale-${hexv(a)}-${hexv(b)}`, [a, b], [0xd9, 0xfd], { hw: bothNaN ? null : HW }));
      add(mk(`fprem-${hexv(a)}-${hexv(b)}`, [a, b], [0xd9, 0xf8], { hw: { sw: 0x7f7d, regs: true } }));
      add(mk(`fprem1-${hexv(a)}-${hexv(b)}`, [a, b], [0xd9, 0xf5], { hw: { sw: 0x3c7d, regs: true } }));
    }
  }
  for (let k = 0; k < 80; k++) {
    const a = rndValue(0x3fff, 90);
    const b = rndValue(0x3fff, 20);
    const pc = k < 60 ? 3 : [0, 2][rndInt(2)];
    add(mk(`fprem-rnd${k}-pc${pc}`, [a, b], [0xd9, 0xf8], { cw: cwOf(pc, 0), hw: pc === 3 ? { sw: 0x7f7d, regs: true } : null }));
    add(mk(`fprem1-rnd${k}-pc${pc}`, [a, b], [0xd9, 0xf5], { cw: cwOf(pc, 0), hw: pc === 3 ? { sw: 0x3c7d, regs: true } : null }));
  }
  // Constants in every rounding mode.
  for (let rc = 0; rc < 4; rc++) {
    for (let k = 0; k < 7; k++) add(mk(`const${k}-rc${rc}`, [], [0xd9, 0xe8 + k], { cw: cwOf(3, rc) }));
  }

  // Loads and stores.
  for (const pc of [0, 2, 3]) {
    for (const x of [...m32s, 0x00800000, 0x807fffff, 0x3f800001]) {
      add(mk(`fld32-pc${pc}-${x.toString(16)}`, [], m(0xd9, 0), { cw: cwOf(pc, 0), mem: le(BigInt(x), 4), hw: pc === 3 ? HW : null }));
    }
    for (const x of [...m64s, 0x000fffffffffffffn, 0x3ff0000000000001n, 0xc00921fb54442d18n]) {
      add(mk(`fld64-pc${pc}-${x.toString(16)}`, [], m(0xdd, 0), { cw: cwOf(pc, 1), mem: le(x, 8), hw: pc === 3 ? HW : null }));
    }
  }
  const storeVals: V[] = [V.onep, V.max, V.denorm, V.snan, V.qnan, V.minNorm, V.big, V.third, V.mzero, V.minf, V.unnormal,
    V.pseudoDenorm, V.pseudoNaN, [0x3f80, 0xffffff8000000000n], [0x3c00, 0x8000000000000800n], [0x3bcd, 0x8000000000000001n],
    [0x407e, 0xffffff8000000000n], [0x43fe, 0xfffffffffffff800n], [0xbf6a, 0x8000000000000000n], [0x3c01, 0xfffffffffffff000n]];
  for (let rc = 0; rc < 4; rc++) {
    for (const v of storeVals) {
      add(mk(`fst32-rc${rc}-${hexv(v)}`, [v], m(0xd9, 2), { cw: cwOf(3, rc), memlen: 4 }));
      add(mk(`fstp64-rc${rc}-${hexv(v)}`, [v, V.one], m(0xdd, 3), { cw: cwOf(3, rc), memlen: 8 }));
    }
  }
  add(mk('fld80-fstp80', [], [...m(0xdb, 5), ...m(0xdb, 7, 16)], { mem: f80bytes(V.pseudoNaN), memlen: 26 }));
  add(mk('fld-sti', [V.one, V.three, V.m7], [0xd9, 0xc2]));
  add(mk('fst-sti', [V.one, V.three, V.m7], [0xdd, 0xd2]));
  add(mk('fstp-sti', [V.one, V.three, V.m7], [0xdd, 0xda]));
  // Integer loads and stores in every rounding mode.
  for (const x of [0, -1, 32767, -32768]) add(mk(`fild16-${x}`, [], m(0xdf, 0), { mem: le(BigInt(x & 0xffff), 2) }));
  for (const x of [0x7fffffff, -0x80000000, 0]) add(mk(`fild32-${x}`, [], m(0xdb, 0), { mem: le(BigInt(x >>> 0), 4) }));
  for (const x of [0x7fffffffffffffffn, -0x8000000000000000n, 0x123456789abcdefn, -3n]) {
    add(mk(`fild64-${x}`, [], m(0xdf, 5), { mem: le(BigInt.asUintN(64, x), 8), cw: cwOf(0, 0) }));
  }
  const fistVals: V[] = [
    [0x4000, 0xa000000000000000n], [0xc000, 0xa000000000000000n], [0x4000, 0xe000000000000000n], V.half,
    [0xbffe, 0xc000000000000000n], [0x400e, 0xffff000000000000n], [0x400d, 0xfffe000000000000n],
    [0x400d, 0xffff000000000000n], [0xc00e, 0x8000000000000000n], [0xc00e, 0x8001000000000000n],
    [0x401e, 0xffffffff00000000n], [0x401d, 0xffffffff00000000n], [0xc01e, 0x8000000000000000n],
    [0x403e, 0x8000000000000000n], [0xc03e, 0x8000000000000000n], [0x403d, 0xffffffffffffffffn], V.qnan, V.minf,
    V.denorm, V.unnormal, [0x4039, 0xde0b6b3a763ffff0n], [0x403a, 0xde0b6b3a7640000an], [0x403a, 0xde0b6b3a76400000n],
  ];
  for (const v of fistVals) {
    for (let rc = 0; rc < 4; rc++) {
      add(mk(`fist16-rc${rc}-${hexv(v)}`, [v], m(0xdf, 2), { cw: cwOf(3, rc), memlen: 2 }));
      add(mk(`fistp32-rc${rc}-${hexv(v)}`, [v, V.one], m(0xdb, 3), { cw: cwOf(3, rc), memlen: 4 }));
      add(mk(`fistp64-rc${rc}-${hexv(v)}`, [v], m(0xdf, 7), { cw: cwOf(3, rc), memlen: 8 }));
      add(mk(`fbstp-rc${rc}-${hexv(v)}`, [v], m(0xdf, 6), { cw: cwOf(3, rc), memlen: 10 }));
    }
    add(mk(`fisttp16-${hexv(v)}`, [v], m(0xdf, 1), { memlen: 2 }));
    add(mk(`fisttp32-${hexv(v)}`, [v], m(0xdb, 1), { memlen: 4 }));
    add(mk(`fisttp64-${hexv(v)}`, [v], m(0xdd, 1), { memlen: 8 }));
  }
  const bcds = [
    [0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0], [0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x80],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80], [0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f], [0xfa, 0xbc, 0, 0, 0, 0, 0, 0, 0, 0],
    [0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0],
  ];
  for (const b of bcds) {
    for (const pc of [0, 3]) {
      add(mk(`fbld-pc${pc}-${b.map((x) => x.toString(16)).join('.')}`, [], m(0xdf, 4), { mem: b, cw: cwOf(pc, 0), hw: pc === 3 ? HW : null }));
    }
  }

  // Comparisons.
  const cmpVals: V[] = [V.one, V.three, V.mzero, V.zero, V.inf, V.minf, V.qnan, V.snan, V.denorm, V.unnormal, V.mone];
  const noC1 = { sw: HW_SW, regs: true };
  // EFLAGS start with OF SF AF clear: QEMU keeps them where hardware (and we) clear them.
  const fewCmp: V[] = [V.one, V.three, V.mzero, V.qnan, V.snan, V.inf];
  for (const a of cmpVals) {
    for (const b of cmpVals) {
      const ab = `${hexv(a)}-${hexv(b)}`;
      add(mk(`fcom-${ab}`, [a, b], [0xd8, 0xd1], { hw: noC1 }));
      add(mk(`fucom-${ab}`, [a, b], [0xdd, 0xe1], { hw: noC1 }));
      add(mk(`fcomi-${ab}`, [a, b], [0xdb, 0xf1], { eflags: 0x247, hw: noC1 }));
      add(mk(`fucomip-${ab}`, [a, b], [0xdf, 0xe9], { eflags: 0x246, hw: noC1 }));
      if (!fewCmp.includes(a) || !fewCmp.includes(b)) continue;
      add(mk(`fcomp-${ab}`, [a, b], [0xd8, 0xd9], { hw: noC1 }));
      add(mk(`fucompp-${ab}`, [a, b], [0xda, 0xe9], { hw: noC1 }));
      add(mk(`fcompp-${ab}`, [a, b], [0xde, 0xd9], { hw: noC1 }));
      add(mk(`fucomi-${ab}`, [a, b], [0xdb, 0xe9], { eflags: 0x203, hw: noC1 }));
      add(mk(`fcomip-${ab}`, [a, b], [0xdf, 0xf1], { eflags: 0x202, hw: noC1 }));
    }
  }
  for (const x of [3, -3, 0, 32767]) {
    add(mk(`ficom16-${x}`, [V.three], m(0xde, 2), { mem: le(BigInt(x & 0xffff), 2), hw: noC1 }));
    add(mk(`ficomp32-${x}`, [V.three, V.one], m(0xda, 3), { mem: le(BigInt(x >>> 0), 4), hw: noC1 }));
  }
  add(mk('fcom-m32-snan', [V.one], m(0xd8, 2), { mem: le(0x7f800001n, 4), hw: noC1 }));
  add(mk('fcomp-m64-qnan', [V.one, V.two], m(0xdc, 3), { mem: le(0x7ff8000000000001n, 8), hw: noC1 }));

  // FCMOVcc over every flag combination that matters.
  for (const flags of [0x202, 0x203, 0x242, 0x206, 0x247, 0x246]) {
    for (let cc = 0; cc < 4; cc++) {
      add(mk(`fcmov-da${cc}-f${flags.toString(16)}`, [V.one, V.three], [0xda, 0xc1 + 8 * cc], { eflags: flags }));
      add(mk(`fcmov-db${cc}-f${flags.toString(16)}`, [V.one, V.three], [0xdb, 0xc1 + 8 * cc], { eflags: flags }));
    }
  }

  // Stack, tags, exceptions.
  // QEMU clears C0 C2 C3, which hardware leaves alone.
  add(mk('fincstp', [V.one, V.two], [0xd9, 0xf7], { sw: 0x4700, hw: { sw: 0x387d, regs: true } }));
  add(mk('fdecstp', [V.one, V.two], [0xd9, 0xf6], { sw: 0x4700, hw: { sw: 0x387d, regs: true } }));
  add(mk('fdecstp-fincstp', [V.one, V.two], [0xd9, 0xf6, 0xd9, 0xf7, 0xd9, 0xf7]));
  add(mk('ffree-st1', [V.one, V.two, V.three], [0xdd, 0xc1]));
  add(mk('fxch-st2', [V.one, V.two, V.three], [0xd9, 0xca]));
  add(mk('fxch-st1', [V.one, V.two], [0xd9, 0xc9]));
  add(mk('fnop', [V.one], [0xd9, 0xd0]));
  add(mk('fxam-empty', [], [0xd9, 0xe5], { fill: [V.mone], hw: { sw: 0x4700, regs: true } }));
  add(mk('fxam-empty-pos', [], [0xd9, 0xe5], { fill: [V.one], hw: { sw: 0x4700, regs: true } }));
  // QEMU has no stack faults: a push onto a full stack overwrites, empty registers read as they are.
  const full = [V.one, V.two, V.three, V.m7, V.ten, V.half, V.pi, V.third];
  add(mk('overflow-fld1', full, FLD1, { hw: null }));
  add(mk('underflow-fadd', [V.one], [0xd8, 0xc1], { fill: [V.three], hw: null }));
  add(mk('underflow-fst-empty', [V.one], [0xdd, 0xd2], { hw: null }));
  add(mk('ffreep', [V.one, V.two], [0xdf, 0xc1], { hw: null }));
  // Unmasked exceptions: QEMU stores the masked response and sets ES and B.
  add(mk('unmasked-ze', [V.zero, V.one], [0xd8, 0xf9], { cw: 0x0373, hw: { sw: 0xfffd, regs: false } }));
  add(mk('unmasked-pe', [V.three, V.one], [0xd8, 0xf9], { cw: 0x035f, hw: { sw: 0xfdfd, regs: false } }));
  add(mk('unmasked-none', [V.three, V.one], [0xd8, 0xc1], { cw: 0x0370, hw: HW }));
  add(mk('es-set-fldcw', [V.three, V.one], [0xd8, 0xf9, ...m(0xd9, 5)], { mem: [0x5f, 0x03], cw: 0x037f, hw: null }));

  // Environment images. 32-bit: FIP 12..15, FCS/FOP 16..19, FDP 20..23, FDS 24..27; 16-bit: 6..13.
  const ptr32: [number, number][] = [[12, 28]];
  const ptr16: [number, number][] = [[6, 14]];
  const envStack = [V.zero, V.one, V.denorm, V.qnan, V.inf, V.unnormal];
  // Hardware fills the upper halves of the 32-bit control, status and tag fields with ones, QEMU with zeros.
  const env32Hw: HwCompare = { sw: HW_SW, regs: true, mem: [[0, 2], [4, 6], [8, 10], [28, 108]] };
  add(mk('fnstenv32', envStack, [...FLD1, ...m(0xd9, 6)], { memlen: 28, ignore: ptr32, sw: 0x4121, hw: env32Hw }));
  add(mk('fnstenv16', envStack, [...FLD1, ...m([0x66, 0xd9], 6)], { memlen: 14, ignore: ptr16, sw: 0x0021 }));
  const env32 = [0x7f, 0x0c, 0, 0, 0x01, 0x31, 0, 0, 0x3f, 0xf1, 0, 0, ...new Array(16).fill(0)];
  add(mk('fldenv32', [V.one, V.two], m(0xd9, 4), { mem: env32 }));
  add(mk('fldenv16', [V.one, V.two], m([0x66, 0xd9], 4), { mem: [0x7f, 0x03, 0x81, 0x29, 0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0, 0] }));
  add(mk('fldenv-cw0', [V.one], [...m(0xd9, 4), ...m(0xd9, 7, 32)], { mem: [0x00, 0x00, 0, 0, 0, 0x38, 0, 0, 0xff, 0xff], memlen: 34, hw: null }));
  const saveStack = [V.one, V.pi, V.minf, V.snan];
  add(mk('fnsave32', saveStack, [...m(0xdd, 6), ...FLD1], { memlen: 108, ignore: ptr32, cw: 0x0e7f, hw: env32Hw }));
  add(mk('fnsave16', saveStack, [...m([0x66, 0xdd], 6), ...FLD1], { memlen: 94, ignore: ptr16, cw: 0x0e7f }));
  add(mk('fnsave64', saveStack, [...m([0x48, 0xdd], 6), ...FLD1], { memlen: 136, ignore: ptr32, hw: null }));
  const img: number[] = [...env32];
  img[4] = 0x00;
  img[5] = 0x28; // TOP 5
  img[8] = 0xff;
  img[9] = 0x0f; // physical 0-5 empty, 6 and 7 valid
  for (const v of [V.one, V.two, V.three, V.pi, V.m7, V.ten, V.half, V.qnan]) img.push(...f80bytes(v));
  add(mk('frstor32', [], m(0xdd, 4), { mem: img }));
  add(mk('frstor64', [], m([0x48, 0xdd], 4), { mem: [...img.slice(0, 28), ...new Array(28).fill(0), ...img.slice(28)], hw: null }));
  const img16 = [0x7f, 0x03, 0x00, 0x30, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const v of [V.one, V.two, V.three, V.pi, V.m7, V.ten, V.half, V.qnan]) img16.push(...f80bytes(v));
  add(mk('frstor16', [], m([0x66, 0xdd], 4), { mem: img16 }));
  // FXSAVE/FXRSTOR: restore a known image (XMM registers too), change the x87 state, save at +512.
  const fx: number[] = new Array(512).fill(0);
  fx[0] = 0x7f; fx[1] = 0x03; // FCW
  fx[2] = 0x00; fx[3] = 0x30; // FSW: TOP 6
  fx[4] = 0xc0; // physical 6 and 7 valid
  fx[24] = 0x80; fx[25] = 0x1f; // MXCSR
  [V.one, V.pi, V.three, V.m7, V.ten, V.half, V.qnan, V.denorm].forEach((v, k) => f80bytes(v).forEach((b, j) => (fx[32 + 16 * k + j] = b)));
  for (let k = 160; k < 416; k++) fx[k] = (k * 7 + 3) & 0xff;
  const fxMem = [...fx, ...new Array(512).fill(0x5a)];
  // Hardware stores FOP, FIP and FDP, may write the reserved bytes, and AMD's MXCSR_MASK has bit 17.
  const fxHw: HwCompare = { sw: HW_SW, regs: true, mem: [[0, 512], [512, 518], [536, 540], ...Array.from({ length: 8 }, (_, k) => [544 + 16 * k, 554 + 16 * k] as [number, number]), [672, 928]] };
  add(mk('fxsave', [], [...m([0x0f, 0xae], 1), ...FLD1, ...m([0x0f, 0xae], 0, 512)], { mem: fxMem, memlen: 1024, hw: fxHw }));
  add(mk('fxsave64', [], [...m([0x0f, 0xae], 1), ...FLDZ, ...m([0x48, 0x0f, 0xae], 0, 512)], { mem: fxMem, memlen: 1024, hw: fxHw }));
  add(mk('fxrstor64', [], [...m([0x48, 0x0f, 0xae], 1), ...m([0x0f, 0xae], 0, 512)], { mem: fxMem, memlen: 1024, hw: fxHw }));

  // Transcendental instructions: QEMU 7.2 is the reference (hw: null); the recorded values are QEMU's.
  const tx: V[] = [V.zero, V.mzero, V.one, V.mone, V.half, V.quarter, V.mquarter, V.three, V.ten, V.m7, V.inf, V.minf, V.qnan,
    V.snan, V.denorm, V.pseudoDenorm, V.unnormal, V.pi, V.third, [0x3fbf, 0x8000000000000000n], [0x3fde, 0x8000000000000000n],
    [0x3ffe, 0xf800000000002e7en], [0xbffa, 0xffffffffffff8ccbn], [0x3fff, 0x8000000000000001n], [0x4000, 0x8000000000000000n],
    [0x403e, 0x8000000000000000n], [0x403e, 0x8000000000000001n], [0xc03e, 0x8000000000000000n], V.e10, V.max,
    [0x3ffd, 0xd413cccfe7799211n], [0x3ffd, 0xd413cccfe7799212n], [0xbffd, 0x95f619980c4336f7n], [0xbffd, 0x95f619980c4336f8n],
    [0x3fff, 0xb504f333f9de6484n], [0x3fff, 0xb504f333f9de6485n], [0x3ffe, 0xb504f333f9de6484n]];
  for (let k = 0; k < 16; k++) tx.push(rndValue(0x3ffe, 4));
  const trans: [string, number[], V[]][] = [
    ['f2xm1', [0xd9, 0xf0], [V.zero]], ['fsin', [0xd9, 0xfe], [V.zero]], ['fcos', [0xd9, 0xff], [V.zero]],
    ['fsincos', [0xd9, 0xfb], [V.zero]], ['fptan', [0xd9, 0xf2], [V.zero]],
    ['fyl2x', [0xd9, 0xf1], [V.three, V.mone, V.zero, V.inf, V.denorm]],
    ['fyl2xp1', [0xd9, 0xf9], [V.three, V.mone, V.zero, V.inf]],
    ['fpatan', [0xd9, 0xf3], [V.three, V.mone, V.zero, V.mzero, V.inf, V.minf, V.denorm]],
  ];
  for (const [name, code, ys] of trans) {
    for (const y of ys) {
      for (const x of tx) {
        for (const rc of name === 'f2xm1' || name === 'fyl2x' ? [0, 1] : [0]) {
          add(mk(`${name}-rc${rc}-${hexv(x)}-${hexv(y)}`, [x, y], code, { cw: cwOf(3, rc), hw: null }));
        }
      }
    }
  }
  // Random arguments inside each instruction's domain, in random rounding modes.
  const signed = (v: V): V => [v[0] | (rndInt(2) << 15), v[1]];
  for (let k = 0; k < 100; k++) {
    const rc = rndInt(4);
    const o = { cw: cwOf(3, rc), hw: null };
    const y = rndValue(0x3fff, 12);
    add(mk(`f2xm1-rnd${k}-rc${rc}`, [signed(rndValue(0x3ff6, 9))], [0xd9, 0xf0], o));
    add(mk(`fyl2x-rnd${k}-rc${rc}`, [rndValue(0x3fff, 40).map((x, i) => (i ? x : (x as number) & 0x7fff)) as V, y], [0xd9, 0xf1], o));
    add(mk(`fyl2xp1-rnd${k}-rc${rc}`, [signed(rndValue(0x3fea, 19)), y], [0xd9, 0xf9], o));
    add(mk(`fpatan-rnd${k}-rc${rc}`, [rndValue(0x3fff, 8), rndValue(0x3fff, 8)], [0xd9, 0xf3], o));
    if (k < 40) {
      const x = rndValue(0x3ffe + rndInt(40), 8);
      const name = ['fsin', 'fcos', 'fsincos', 'fptan'][k & 3];
      add(mk(`${name}-rnd${k}-rc${rc}`, [x], [0xd9, [0xfe, 0xff, 0xfb, 0xf2][k & 3]], o));
    }
  }
  // Integer operands are rounded to the precision control first in QEMU.
  for (const pc of [0, 2]) {
    add(mk(`fiadd32-pc${pc}`, [V.one], m(0xda, 0), { cw: cwOf(pc, 0), mem: le(0x7fffffffn, 4), hw: null }));
    add(mk(`ficom32-pc${pc}`, [[0x401d, 0xfffffffe00000000n]], m(0xda, 2), { cw: cwOf(pc, 0), mem: le(0x7fffffffn, 4), hw: null }));
    add(mk(`fild64-pc${pc}`, [], m(0xdf, 5), { cw: cwOf(pc, 0), mem: le(0x123456789abcdefn, 8) }));
    add(mk(`fprem-pc${pc}`, [[0x4010, 0xffffffffffffffffn], V.three], [0xd9, 0xf8], { cw: cwOf(pc, 0), hw: null }));
    add(mk(`fscale-pc${pc}`, [V.third, V.three], [0xd9, 0xfd], { cw: cwOf(pc, 0), hw: null }));
    add(mk(`fxtract-pc${pc}`, [V.third], [0xd9, 0xf4], { cw: cwOf(pc, 0) }));
  }
  for (const pc of [0, 2]) {
    add(mk(`fsin-pc${pc}`, [V.one], [0xd9, 0xfe], { cw: cwOf(pc, 2), hw: null }));
    add(mk(`f2xm1-pc${pc}`, [V.third], [0xd9, 0xf0], { cw: cwOf(pc, 0), hw: null }));
    add(mk(`fpatan-pc${pc}`, [V.three, V.one], [0xd9, 0xf3], { cw: cwOf(pc, 0), hw: null }));
  }
  // Large FPREM: the partial remainder loop.
  let big: V = [0x4050, 0xc90fdaa22168c235n];
  add(mk('fprem-partial-1', [big, V.three], [0xd9, 0xf8]));
  add(mk('fprem-partial-4', [big, V.three], [0xd9, 0xf8, 0xd9, 0xf8, 0xd9, 0xf8, 0xd9, 0xf8]));
  big = [0x7ffe, 0x8000000000000001n];
  add(mk('fprem1-partial', [big, V.pi], [0xd9, 0xf5, 0xd9, 0xf5], { hw: { sw: 0x3c7d, regs: true } }));
  return cases;
}

export const fmtV = (v: V): string => `${v[0].toString(16).padStart(4, '0')}:${v[1].toString(16).padStart(16, '0')}`;
const hex = (b: number[]): string => (b.length ? b.map((x) => x.toString(16).padStart(2, '0')).join('') : '-');

/** The case as a line for hosted.c's standard input. */
export function caseLine(c: X87Case): string {
  return [c.name, c.cw.toString(16), c.sw.toString(16), c.tag.toString(16), c.eflags.toString(16), c.memlen, hex(c.mem),
    hex(c.code), ...c.regs.map(fmtV)].join(' ');
}

/** The cases as the C initializer baremetal.c includes (x87-cases.h). */
export function casesHeader(cases: X87Case[]): string {
  const out: string[] = ['/* Generated by test/x86-x87.test.ts from test/x86/x87-oracle/cases.ts. */'];
  cases.forEach((c, k) => {
    out.push(`static const uint8_t x87_mem${k}[] = { ${c.mem.length ? c.mem.join(', ') : '0'} };`);
    out.push(`static const uint8_t x87_code${k}[] = { ${c.code.join(', ')} };`);
  });
  out.push('static const x87_case x87_cases[] = {');
  cases.forEach((c, k) => {
    const regs = c.regs.flatMap((v) => f80bytes(v)).join(', ');
    out.push(`  { "${c.name}", 0x${c.cw.toString(16)}, 0x${c.sw.toString(16)}, 0x${c.tag.toString(16)}, 0x${c.eflags.toString(16)}, ` +
      `${c.memlen}, ${c.mem.length}, x87_mem${k}, ${c.code.length}, x87_code${k}, { ${regs} } },`);
  });
  out.push('};');
  return out.join('\n') + '\n';
}
