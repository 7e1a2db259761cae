// The WebAssembly i64 operations (src/backend/wasm-i64.ts) and the RISC-V helpers built on
// them, against a BigInt reference with the RISC-V M semantics, on edge cases and on
// fixed-seed random operands.
import { describe, expect, it } from 'vitest';
import { createI64Ops, I64Op } from '../src/backend/wasm-i64.js';
import { createRiscvHelpers, SystemHelperHost } from '../src/frontend/riscv/helpers.js';

const MIN = -(1n << 63n);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const s64 = (v: bigint) => BigInt.asIntN(64, v);

/** RISC-V reference results (as unsigned 64-bit values). */
type OpName = 'mul' | 'mulh' | 'mulhsu' | 'mulhu' | 'div' | 'divu' | 'rem' | 'remu';
const reference: Record<OpName, (a: bigint, b: bigint) => bigint> = {
  mul: (a, b) => u64(a * b),
  mulh: (a, b) => u64((s64(a) * s64(b)) >> 64n),
  mulhsu: (a, b) => u64((s64(a) * u64(b)) >> 64n),
  mulhu: (a, b) => u64((u64(a) * u64(b)) >> 64n),
  div: (a, b) => (b === 0n ? u64(-1n) : s64(a) === MIN && s64(b) === -1n ? u64(MIN) : u64(s64(a) / s64(b))),
  divu: (a, b) => (b === 0n ? u64(-1n) : u64(a) / u64(b)),
  rem: (a, b) => (b === 0n ? u64(a) : s64(b) === -1n ? 0n : u64(s64(a) % s64(b))),
  remu: (a, b) => (b === 0n ? u64(a) : u64(a) % u64(b)),
};

const EDGES: bigint[] = [
  0n, 1n, -1n, 2n, -2n, 3n, 7n, -7n, MIN, MIN + 1n, -(MIN + 1n), 0xffffffffn, 0x7fffffffn, 0x80000000n,
  -0x80000000n, -0x80000001n, 1n << 32n, -(1n << 32n), (1n << 32n) + 1n, 0x123456789abcdefn, -0x123456789abcdefn,
  0xdeadbeefcafebaben,
];

/** xorshift32: a fixed-seed PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

const lo32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint) => Number(BigInt.asIntN(32, v >> 32n));
const join = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Operand pairs: every pair of edge values, then random pairs of several shapes. */
function operandPairs(): [bigint, bigint][] {
  const pairs: [bigint, bigint][] = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([u64(a), u64(b)]);
  const rnd = prng(0x2545f491);
  const word = () => BigInt(rnd() >>> 0);
  const shapes: (() => bigint)[] = [
    () => (word() << 32n) | word(), // any 64-bit value
    () => u64(BigInt(rnd())), // sign-extended 32-bit
    () => word(), // zero-extended 32-bit
    () => BigInt(rnd() & 0xff), // small
    () => u64(-BigInt(rnd() & 0xffff)), // small negative
    () => (word() << 8n) | 1n, // 40-bit
  ];
  for (let i = 0; i < 6000; i++) {
    const a = shapes[(rnd() >>> 0) % shapes.length]();
    const b = shapes[(rnd() >>> 0) % shapes.length]();
    pairs.push([a, b]);
  }
  return pairs;
}

function check(name: OpName, fn: I64Op, hi: Int32Array, pairs: [bigint, bigint][]): void {
  const ref = reference[name];
  for (const [a, b] of pairs) {
    const lo = fn(lo32(a), hi32(a), lo32(b), hi32(b));
    const got = join(lo, hi[0]);
    const want = ref(a, b);
    if (got !== want) {
      expect.fail(`${name}(0x${a.toString(16)}, 0x${b.toString(16)}) = 0x${got.toString(16)}, want 0x${want.toString(16)}`);
    }
  }
}

const pairs = operandPairs();

describe('wasm i64 ops', () => {
  const ops = createI64Ops();
  for (const name of Object.keys(reference) as OpName[]) {
    it(`${name} matches the BigInt reference`, () => check(name, ops[name], ops.hi, pairs));
  }

  it('returns int32 words', () => {
    const lo = ops.mulhu(-1, -1, -1, -1);
    expect(lo).toBe(-2);
    expect(ops.hi[0]).toBe(-1);
  });

  it('handles the trapping cases of wasm without trapping', () => {
    expect(() => ops.div(5, 0, 0, 0)).not.toThrow();
    expect(join(ops.div(0, -0x80000000, -1, -1), ops.hi[0])).toBe(u64(MIN));
    expect(join(ops.rem(0, -0x80000000, -1, -1), ops.hi[0])).toBe(0n);
    expect(join(ops.divu(5, 6, 0, 0), ops.hi[0])).toBe(u64(-1n));
    expect(join(ops.remu(5, 6, 0, 0), ops.hi[0])).toBe(join(5, 6));
  });
});

describe('RISC-V mul/div helpers', () => {
  const ret = new Int32Array(1);
  const { table, ids } = createRiscvHelpers({} as SystemHelperHost, ret);
  const helper = (id: number) => table.list[id].fn as I64Op;
  const cases: [OpName, number][] = [
    ['mul', ids.mul64], ['mulh', ids.mulh], ['mulhsu', ids.mulhsu], ['mulhu', ids.mulhu],
    ['div', ids.div], ['divu', ids.divu], ['rem', ids.rem], ['remu', ids.remu],
  ];
  for (const [name, id] of cases) {
    it(`${name} helper leaves the high word in ret[0]`, () => check(name, helper(id), ret, pairs));
  }
});
