/**
 * 64-bit multiply-high and divide/remainder in a tiny WebAssembly module.
 *
 * JavaScript has no fast 64-bit integer: BigInt allocates and is ~100x slower than int32
 * code, and a 64x64 -> 128 multiply or a 64-bit divide in int32 pieces is long. WebAssembly
 * has native i64 arithmetic, so these operations run there. The module's bytes are emitted
 * by the small encoder below (no .wasm file, no external tools), and it is compiled and
 * instantiated synchronously, which works in Node and in browsers for a module this small.
 *
 * Calling convention (the same as the guest helpers): an i64 arrives as two int32 halves
 * (lo, hi), every function takes (al, ah, bl, bh) and returns the low int32 word of its
 * i64 result. The high word is stored into the module's one-page memory at byte 0, which
 * `hi` views: callers read `hi[0]` right after the call. Passing the halves as i32 keeps
 * JS <-> wasm calls free of BigInt conversions (an i64 parameter would be a BigInt in JS).
 * Measured on Node 20 (ns per call from a hot loop): wasm call + copy of `hi[0]` by a JS
 * wrapper ~7, wasm called directly with the caller reading `hi` ~6.3, an exported mutable
 * global read through `.value` ~33 (a slow API call), BigInt ~110-170, and the same
 * mulhu in int32 JS pieces ~20. Multi-value returns would allocate an array.
 *
 * Semantics are those of the RISC-V M extension, which never traps: x / 0 = -1 (all ones),
 * x % 0 = x, INT64_MIN / -1 = INT64_MIN, INT64_MIN % -1 = 0. wasm i64.div_s/div_u/rem_*
 * trap on a zero divisor and i64.div_s on INT64_MIN / -1, so the bodies test for those.
 */

/** (al, ah, bl, bh) -> low word of the 64-bit result; the high word is left in `hi[0]`. */
import { MODULE_HEADER, T_I32, T_I64, W, funcType as fnType, section, sleb, uleb, utf8, vec } from './wasm/encode.js';

export type I64Op = (al: number, ah: number, bl: number, bh: number) => number;

export interface I64Ops {
  /** Low 64 bits of a * b (signedness does not matter for the low half). */
  mul: I64Op;
  /** High 64 bits of the 128-bit product: signed x signed, signed x unsigned, unsigned x unsigned. */
  mulh: I64Op;
  mulhsu: I64Op;
  mulhu: I64Op;
  div: I64Op;
  divu: I64Op;
  rem: I64Op;
  remu: I64Op;
  /** hi[0] holds the high word of the last result. A view onto the wasm memory at byte 0. */
  hi: Int32Array;
}

// Value types and the opcodes below come from the shared encoder.
const op = W;

// Instruction builders: each returns its bytes, so a body reads as a flat list of steps.
const get = (i: number) => [op.localGet, ...uleb(i)];
const set = (i: number) => [op.localSet, ...uleb(i)];
const i32c = (v: number) => [op.i32Const, ...sleb(v)];
const i64c = (v: number) => [op.i64Const, ...sleb(v)];
/** Start of an `if` whose arms leave one i64. */
const ifI64 = [op.if, T_I64];

// ---- The functions ----

// Parameters (all i32): the halves of a and b. Locals (i64) follow them.
const AL = 0, AH = 1, BL = 2, BH = 3;
const A = 4, B = 5, R = 6, TMP = 7;
const NUM_I64_LOCALS = 4;

/** Zero-extend an i32 parameter to i64: one 32-bit half as an unsigned value. */
const u64 = (p: number) => [...get(p), op.i64ExtendI32U];
/** i64 value (hi << 32) | lo from two i32 parameters. */
const join = (lo: number, hi: number) => [...u64(hi), ...i64c(32), op.i64Shl, ...u64(lo), op.i64Or];
/** Load a = (al, ah) and b = (bl, bh) into their i64 locals. */
const loadAB = [...join(AL, AH), ...set(A), ...join(BL, BH), ...set(B)];

/**
 * Epilogue: the i64 result on the stack goes to local R; its high word is stored at memory
 * byte 0 and its low word is returned.
 */
const returnHalves = [
  ...set(R),
  ...i32c(0), // store address
  ...get(R), ...i64c(32), op.i64ShrU, op.i32WrapI64,
  op.i32Store, 2, 0, // align 2^2, offset 0
  ...get(R), op.i32WrapI64,
];

/**
 * High 64 bits of the unsigned product (ah:al) * (bh:bl), built from the four 32x32->64
 * partial products (Hacker's Delight 8-2). Every intermediate sum fits in 64 bits:
 *   t  = ah*bl + (al*bl >> 32)
 *   w1 = al*bh + (t & 0xffffffff)
 *   hi = ah*bh + (t >> 32) + (w1 >> 32)
 */
const mulhuValue = [
  ...u64(AH), ...u64(BL), op.i64Mul,
  ...u64(AL), ...u64(BL), op.i64Mul, ...i64c(32), op.i64ShrU,
  op.i64Add, ...set(TMP), // t
  ...u64(AH), ...u64(BH), op.i64Mul,
  ...get(TMP), ...i64c(32), op.i64ShrU, op.i64Add, // ah*bh + (t >> 32)
  ...u64(AL), ...u64(BH), op.i64Mul,
  ...get(TMP), op.i32WrapI64, op.i64ExtendI32U, op.i64Add, // w1
  ...i64c(32), op.i64ShrU, op.i64Add,
];

/**
 * Signed corrections to the unsigned high product: reading a negative a as unsigned adds
 * 2^64 * b to the product, so subtract b from the high half when a < 0 (and a when b < 0).
 * `(x >> 31)` of the high half is all ones for a negative x, widened to an i64 mask.
 */
const signMask = (hi: number) => [...get(hi), ...i32c(31), op.i32ShrS, op.i64ExtendI32S];
const minusIfNeg = (signOf: number, value: number[]) => [...signMask(signOf), ...value, op.i64And, op.i64Sub];

/** `if b == 0 then <zero> else <other>`, leaving an i64 (b must be in its local). */
const ifDivisorZero = (zero: number[], other: number[]) => [
  ...get(B), op.i64Eqz, ...ifI64, ...zero, op.else, ...other, op.end,
];

const bodies: Record<keyof Omit<I64Ops, 'hi'>, number[]> = {
  mul: [...loadAB, ...get(A), ...get(B), op.i64Mul, ...returnHalves],
  mulhu: [...mulhuValue, ...returnHalves],
  mulhsu: [...mulhuValue, ...minusIfNeg(AH, join(BL, BH)), ...returnHalves],
  mulh: [...mulhuValue, ...minusIfNeg(AH, join(BL, BH)), ...minusIfNeg(BH, join(AL, AH)), ...returnHalves],
  // b == -1 is the only divisor with an overflowing quotient (INT64_MIN / -1); -a wraps
  // to INT64_MIN there, as RISC-V wants, and is the right quotient for every other a.
  div: [
    ...loadAB,
    ...ifDivisorZero(i64c(-1), [
      ...get(B), ...i64c(-1), op.i64Eq, ...ifI64,
      ...i64c(0), ...get(A), op.i64Sub,
      op.else,
      ...get(A), ...get(B), op.i64DivS,
      op.end,
    ]),
    ...returnHalves,
  ],
  divu: [...loadAB, ...ifDivisorZero(i64c(-1), [...get(A), ...get(B), op.i64DivU]), ...returnHalves],
  // i64.rem_s does not trap on INT64_MIN % -1 (it gives 0), only on a zero divisor.
  rem: [...loadAB, ...ifDivisorZero(get(A), [...get(A), ...get(B), op.i64RemS]), ...returnHalves],
  remu: [...loadAB, ...ifDivisorZero(get(A), [...get(A), ...get(B), op.i64RemU]), ...returnHalves],
};

const NAMES = Object.keys(bodies) as (keyof typeof bodies)[];

/** The module's bytes: one function type, N functions, one 1-page memory, exports. */
function encodeModule(): Uint8Array<ArrayBuffer> {
  const funcType = fnType([T_I32, T_I32, T_I32, T_I32], [T_I32]);
  const code = NAMES.map((name) => {
    const fn = [...vec([[...uleb(NUM_I64_LOCALS), T_I64]]), ...bodies[name], op.end];
    return [...uleb(fn.length), ...fn];
  });
  const EXPORT_FUNC = 0x00, EXPORT_MEMORY = 0x02;
  return new Uint8Array([
    ...MODULE_HEADER,
    ...section(1, vec([funcType])), // types
    ...section(3, vec(NAMES.map(() => [0]))), // functions: all of type 0
    ...section(5, vec([[0x01, 1, 1]])), // memory: min 1 page, max 1 (never grows, so views stay valid)
    ...section(7, vec([
      ...NAMES.map((name, i) => [...utf8(name), EXPORT_FUNC, ...uleb(i)]),
      [...utf8('mem'), EXPORT_MEMORY, 0],
    ])),
    ...section(10, vec(code)),
  ]);
}

/**
 * Compile and instantiate a fresh module. Each instance has its own memory, so `hi` is
 * private to its owner. The returned functions are the wasm exports themselves: V8
 * inlines the JS-to-wasm call into optimized callers.
 */
export function createI64Ops(): I64Ops {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(encodeModule()), {});
  const ex = instance.exports as unknown as Omit<I64Ops, 'hi'> & { mem: WebAssembly.Memory };
  return {
    mul: ex.mul, mulh: ex.mulh, mulhsu: ex.mulhsu, mulhu: ex.mulhu,
    div: ex.div, divu: ex.divu, rem: ex.rem, remu: ex.remu,
    hi: new Int32Array(ex.mem.buffer, 0, 1),
  };
}
