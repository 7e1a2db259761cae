// IR: builder folding, optimizer passes, and a randomized differential test of i64
// lowering + JS and WebAssembly generation and tier 0 against the IR interpreter on
// random blocks.
import { describe, expect, it } from 'vitest';
import { compileJs, generateJs } from '../src/backend/js/codegen.js';
import { interpretBlock, PreparedBlock } from '../src/backend/interp/interp.js';
import { BytecodeInterpreter, encodeBlock } from '../src/backend/interp/bytecode.js';
import { createSoftTlb, Runtime } from '../src/backend/runtime.js';
import { generateWasmRegion, instantiateWasm } from '../src/backend/wasm/codegen.js';
import { Arena } from '../src/memory/arena.js';
import { IrBuilder } from '../src/ir/builder.js';
import { Cond, HelperFlags, HelperTable, MemOp, Opc, Temp, TempKind, Type } from '../src/ir/ir.js';
import { lowerI64 } from '../src/ir/lower.js';
import { optimize } from '../src/ir/optimize.js';
import { printOps } from '../src/ir/printer.js';
import { mulhu32 } from '../src/frontend/riscv/helpers.js';

const NG = 6;
function makeGlobals(): Temp[] {
  const g: Temp[] = [];
  for (let i = 0; i < NG; i++) g.push(new Temp(i, Type.I64, TempKind.Global, 0, 2 * i, `r${i}`));
  g.push(new Temp(NG, Type.I32, TempKind.Global, 0, 2 * NG, 'w'));
  return g;
}
/** The state array of the run in progress, for the helper that writes a global. */
let currentState: Int32Array<ArrayBufferLike> = new Int32Array(0);
function makeHelpers(ret: Int32Array): { table: HelperTable; mul64: number; clobber: number } {
  const table = new HelperTable();
  const mul64 = table.add({
    name: 'mul64', args: [Type.I64, Type.I64], ret: Type.I64, flags: HelperFlags.Pure,
    fn: (al, ah, bl, bh) => {
      ret[0] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
      return Math.imul(al, bl);
    },
  });
  // Writes r2 behind the block's back: facts about globals must not survive it.
  const clobber = table.add({
    name: 'clobber', args: [Type.I64], ret: Type.I32,
    flags: HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals,
    fn: (lo, hi) => {
      currentState[4] = (currentState[4] + lo) | 0;
      currentState[5] = hi ^ currentState[0];
      return lo >> 3;
    },
  });
  return { table, mul64, clobber };
}
const RAM_SIZE = 4096;
/**
 * Memory accesses take the slow path (the soft TLB is empty): this one behaves like a CPU's.
 * With an arena, everything generated code reads lives in it (for the WebAssembly backend).
 */
function makeRuntime(table: HelperTable, ret: Int32Array, ramInit?: Uint8Array, arena?: Arena): Runtime {
  const ram = arena ? new DataView(arena.buffer, arena.ramOffset, RAM_SIZE) : new DataView(new ArrayBuffer(RAM_SIZE));
  if (ramInit) new Uint8Array(ram.buffer, ram.byteOffset, RAM_SIZE).set(ramInit);
  const words = (n: number) => (arena ? arena.int32(n) : new Int32Array(n));
  const exceptionPending = words(1);
  // Addresses with bits 12-14 set fault (the block exits with the state as it is then).
  const offset = (lo: number, size: number) => {
    if ((lo & 0x7000) === 0x7000) {
      exceptionPending[0] = 1;
      return -1;
    }
    return lo & (RAM_SIZE - 8) & ~(size - 1);
  };
  return {
    state: words(2 * NG + 2), ram, tlbs: [createSoftTlb(words)], exceptionPending, retHi: ret,
    budget: words(1),
    helpers: table.list,
    wasmMemory: arena?.wasmMemory ?? null,
    loadSlow: (lo, _hi, mop) => {
      const size = 1 << (mop & MemOp.SizeMask);
      const o = offset(lo, size);
      if (o < 0) return 0;
      switch (mop & 7) {
        case MemOp.UB: return ram.getUint8(o);
        case MemOp.UW: return ram.getUint16(o, true);
        case MemOp.SB: return ram.getInt8(o);
        case MemOp.SW: return ram.getInt16(o, true);
        case MemOp.Q: ret[0] = ram.getInt32(o + 4, true); return ram.getInt32(o, true);
        default: return ram.getInt32(o, true);
      }
    },
    storeSlow: (vl, vh, lo, _hi, mop) => {
      const size = 1 << (mop & MemOp.SizeMask);
      const o = offset(lo, size);
      if (o < 0) return;
      if (size === 1) ram.setUint8(o, vl);
      else if (size === 2) ram.setUint16(o, vl, true);
      else ram.setInt32(o, vl, true);
      if (size === 8) ram.setInt32(o + 4, vh, true);
    },
  };
}

describe('builder', () => {
  it('folds constants and identities at emit time', () => {
    const g = makeGlobals();
    const b = new IrBuilder(g, new HelperTable());
    expect(b.add(g[0], b.const64(0))).toBe(g[0]);
    expect(b.and(g[1], b.const64(-1))).toBe(g[1]);
    const c = b.mul(b.const64(6), b.const64(7));
    expect(c.isConst && c.value).toBe(42n);
    expect(b.shl(b.const64(1), b.const64(63)).value).toBe(-(1n << 63n));
    expect(b.ops.length).toBe(0);
  });
  it('propagates copies and constants, and removes dead code', () => {
    const g = makeGlobals();
    const b = new IrBuilder(g, new HelperTable());
    const t = b.mutableTemp(Type.I64);
    b.assign(t, b.const64(5));
    const dead = b.add(g[0], g[1]); // never used
    void dead;
    const x = b.add(g[2], b.const64(3));
    b.assign(g[3], x);
    optimize(b);
    const text = printOps(b.ops, b.helpers);
    expect(text).not.toContain('r0,r1');
    expect(text).toContain('add_i64');
  });
  it('keeps helper calls with side effects even when their result is unused', () => {
    const g = makeGlobals();
    const table = new HelperTable();
    const h = table.add({ name: 'fx', args: [], ret: Type.I32, flags: HelperFlags.SideEffects, fn: () => 0 });
    const p = table.add({ name: 'pure', args: [], ret: Type.I32, flags: HelperFlags.Pure, fn: () => 0 });
    const b = new IrBuilder(g, table);
    b.call(h, []);
    b.call(p, []);
    optimize(b);
    expect(b.ops.filter((o) => o.opc === Opc.Call).map((o) => table.list[o.aux].name)).toEqual(['fx']);
  });
});

// A small deterministic PRNG so failures reproduce.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}
const interesting = [0n, 1n, -1n, 31n, 32n, 33n, 63n, 64n, 0x7fffffffn, 0x80000000n, -0x80000000n, 0xffffffffn,
  0x100000000n, -(1n << 63n), (1n << 63n) - 1n, 0x123456789abcdefn];

const conds = [Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LTU, Cond.GEU, Cond.LE, Cond.GT, Cond.LEU, Cond.GTU];
const memops = [MemOp.UB, MemOp.UW, MemOp.UL, MemOp.Q, MemOp.SB, MemOp.SW, MemOp.SL];

describe('i64 lowering + JS and WebAssembly backends and tier-0 bytecode vs the reference interpreter on random blocks', () => {
  it('agrees on 4000 random blocks', () => {
    const next = rng(12345);
    const pick = <T,>(a: readonly T[]) => a[next() % a.length];
    const small = () => BigInt((next() % 64) - 32);
    let opsBefore = 0, opsAfter = 0;
    for (let iter = 0; iter < 4000; iter++) {
      const g = makeGlobals();
      // One arena for the WebAssembly runs (its memory cannot be freed, so one per test);
      // the helpers' high-word slot lives there too, where generated code reads it.
      const arena = new Arena(RAM_SIZE);
      const ret = arena.int32(1);
      const { table, mul64, clobber } = makeHelpers(ret);
      let rtWasm: Runtime | null = null;
      const b = new IrBuilder(g, table);
      const vals: Temp[] = g.slice(0, NG);
      const operand = (): Temp => {
        const r = next() % 8;
        if (r === 0) return b.const64(pick(interesting));
        if (r === 1) return b.const64(small());
        return pick(vals);
      };
      // The shapes the lowering simplifies: sign-extended 32-bit values (the *w ops),
      // zero-extended ones (bytes, masks), small constants.
      const sext = (x: Temp) => (next() % 2 ? b.extI32(b.lo32(x), true) : b.exts(x, 32));
      const zext = (x: Temp) => (next() % 2 ? b.extu(x, pick([8, 16, 32])) : b.andi(x, pick([0xff, 0xffff, 0x7f, 1, 0xff0])));
      const narrow = (x: Temp) => (next() % 2 ? sext(x) : zext(x));
      // Any value is an address (RAM wraps around); some fault. A global as the address
      // is what `ld a0, 0(a0)` does.
      const address = (x: Temp) => pick([() => x, () => pick(g.slice(0, NG)), () => b.andi(x, 0xff8), () => b.add(x, b.const64(small()))])();
      // Open labels, with how many values were defined before each branch: values made
      // between a branch and its label may be skipped, so they are unusable after it.
      const labels: { label: ReturnType<IrBuilder['newLabel']>; defined: number }[] = [];
      const close = () => {
        const { label, defined } = labels.pop()!;
        b.setLabel(label);
        vals.length = defined;
      };
      const n = 4 + (next() % 14);
      for (let i = 0; i < n; i++) {
        const k = next() % 30;
        const x = operand(), y = operand();
        let r: Temp;
        switch (k) {
          case 0: r = b.add(x, y); break;
          case 1: r = b.sub(x, y); break;
          case 2: r = b.mul(x, y); break;
          case 3: r = b.xor(b.and(x, y), b.or(x, b.not(y))); break;
          case 4: r = b.shl(x, y); break;
          case 5: r = b.shr(x, y); break;
          case 6: r = b.sar(x, y); break;
          case 7: r = b.setcond(pick(conds), x, y); break;
          case 8: r = b.movcond(pick([Cond.LT, Cond.GEU, Cond.EQ]), x, y, operand(), operand()); break;
          case 9: r = b.exts(x, pick([8, 16, 32])); break;
          case 10: r = b.extu(x, pick([8, 16, 32])); break;
          case 11: r = b.extI32(b.add(b.lo32(x), b.hi32(y)), next() % 2 === 0); break;
          case 12: r = b.neg(x); break;
          case 13: r = b.shli(x, next() % 64); break;
          case 14: r = b.sari(x, next() % 64); break;
          case 15: {
            const l = b.newLabel();
            labels.push({ label: l, defined: vals.length });
            b.brcond(pick([Cond.LT, Cond.LTU, Cond.NE]), x, y, l);
            r = b.shri(x, next() % 64);
            break;
          }
          case 16: r = narrow(x); break;
          // addw and friends: 32-bit arithmetic, sign-extended.
          case 17: r = b.extI32(pick([() => b.add(b.lo32(x), b.lo32(y)), () => b.sub(b.lo32(x), b.lo32(y)),
            () => b.shl(b.lo32(x), b.const32(next() % 32)), () => b.sar(b.lo32(x), b.const32(next() % 32))])(), true); break;
          case 18: r = b.setcond(pick(conds), narrow(x), next() % 2 ? narrow(y) : b.const64(small())); break;
          case 19: {
            // A branch on narrow values, with a forward label closed later.
            const l = b.newLabel();
            labels.push({ label: l, defined: vals.length });
            b.brcond(pick(conds), narrow(x), next() % 3 ? narrow(y) : b.const64(small()), l);
            r = b.add(narrow(y), b.const64(small()));
            break;
          }
          case 20: r = pick([() => b.shli(zext(x), next() % 64), () => b.shri(narrow(x), next() % 64),
            () => b.sari(narrow(x), next() % 64), () => b.shl(narrow(x), b.andi(y, 63))])(); break;
          case 21: r = b.load(Type.I64, address(x), pick(memops)); break;
          case 22: b.store(y, address(x), pick(memops)); r = b.add(y, b.const64(small())); break;
          case 23: r = b.const64(small()); break;
          case 24: r = pick([() => b.add(narrow(x), narrow(y)), () => b.sub(narrow(x), b.const64(small())),
            () => b.add(x, b.const64(small())), () => b.and(narrow(x), b.const64(pick(interesting)))])(); break;
          case 25: {
            // A mutable temp assigned on both arms of a diamond.
            const m = b.mutableTemp(Type.I64);
            const l1 = b.newLabel(), l2 = b.newLabel();
            b.brcond(pick(conds), narrow(x), y, l1);
            b.assign(m, b.add(narrow(x), b.const64(small())));
            b.br(l2);
            b.setLabel(l1);
            b.assign(m, next() % 2 ? b.const64(small()) : narrow(y));
            b.setLabel(l2);
            r = m;
            break;
          }
          case 26: b.call(clobber, [x]); r = b.add(x, y); break;
          case 27: r = b.extI32(b.lo32(b.mul(narrow(x), y)), next() % 2 === 0); break;
          case 28: r = b.movcond(pick(conds), narrow(x), narrow(y), narrow(operand()), operand()); break;
          default: r = b.concat(b.lo32(x), b.hi32(narrow(y))); break;
        }
        b.assign(pick(g.slice(0, NG)), r);
        vals.push(r);
        if (labels.length && next() % 3 === 0) close();
      }
      while (labels.length) close();
      b.exitTb(7);
      optimize(b);
      const prepared = new PreparedBlock(b.ops.slice(), 1000);
      const init = Array.from({ length: 2 * NG }, () => next() | 0);
      const ramInit = Uint8Array.from({ length: RAM_SIZE }, () => next() & 0xff);
      const rtA = makeRuntime(table, ret, ramInit);
      rtA.state.set(init);
      currentState = rtA.state;
      const codeA = interpretBlock(prepared, rtA);
      const irText = printOps(b.ops, table);
      const words = (r: Runtime) => `${r.state.join()} ram ${new Int32Array(r.ram.buffer, r.ram.byteOffset, RAM_SIZE / 4).join()}`;
      // The plain lowering, kept to count what the simplification saves.
      const plain = new IrBuilder(g, table);
      plain.ops.push(...b.ops.map((o) => Object.assign(Object.create(Object.getPrototypeOf(o)), o, { args: o.args.slice() })));
      lowerI64(b, { mul64 });
      const src = generateJs(b.ops, table.list, `tb_rand_${iter}`);
      const rtB = makeRuntime(table, ret, ramInit);
      rtB.state.set(init);
      currentState = rtB.state;
      const codeB = compileJs(src, rtB)();
      if (codeA !== codeB || words(rtA) !== words(rtB)) {
        throw new Error(`mismatch in block ${iter}\n${irText}\n${printOps(b.ops, table)}\n${src.factory}\ninterp ${rtA.state.join()}\njs     ${rtB.state.join()}\ncodes ${codeA} ${codeB}`);
      }
      // WebAssembly: the same lowered ops as a module (mul64 inlined as i64.mul).
      rtWasm ??= makeRuntime(table, ret, undefined, arena);
      new Uint8Array(arena.buffer, arena.ramOffset, RAM_SIZE).set(ramInit);
      rtWasm.state.set(init);
      rtWasm.exceptionPending[0] = 0;
      currentState = rtWasm.state;
      const wasm = generateWasmRegion([{ ops: b.ops, pc: -1n, insnCount: 1, exceptionBase: 0 }], rtWasm, 0, -1, mul64);
      const codeW = instantiateWasm(wasm, rtWasm)();
      if (codeA !== codeW || words(rtA) !== words(rtWasm)) {
        throw new Error(`wasm mismatch in block ${iter}\n${irText}\n${printOps(b.ops, table)}\ninterp ${rtA.state.join()}\nwasm   ${rtWasm.state.join()}\ncodes ${codeA} ${codeW}`);
      }
      // Tier 0: the same lowered ops as bytecode, in a value array that starts with the state.
      const values = new Int32Array(4096);
      const rtC: Runtime = { ...makeRuntime(table, ret, ramInit), state: values.subarray(0, 2 * NG + 2) };
      rtC.state.set(init);
      currentState = rtC.state;
      const bytecode = encodeBlock(b.ops, table.list, 2 * NG + 2, { pc: -1n, insnCount: 1 }, 0, values.length)!;
      const codeC = new BytecodeInterpreter(rtC, values).run(bytecode);
      if (codeA !== codeC || words(rtA) !== words(rtC)) {
        throw new Error(`tier-0 mismatch in block ${iter}\n${irText}\n${printOps(b.ops, table)}\ninterp ${rtA.state.join()}\ntier0  ${rtC.state.join()}`);
      }
      lowerI64(plain, { mul64, simplify: false });
      opsBefore += plain.ops.length;
      opsAfter += b.ops.length;
    }
    // The facts must have been exercised: the simplified blocks are much smaller.
    expect(opsAfter).toBeLessThan(opsBefore * 0.6);
  });
});
