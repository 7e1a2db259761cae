// IR: builder folding, optimizer passes, and a randomized differential test of i64
// lowering + JS generation against the IR interpreter on random blocks.
import { describe, expect, it } from 'vitest';
import { compileJs, generateJs } from '../src/backend/js/codegen.js';
import { interpretBlock, PreparedBlock } from '../src/backend/interp/interp.js';
import { BytecodeInterpreter, encodeBlock } from '../src/backend/interp/bytecode.js';
import { createSoftTlb, Runtime } from '../src/backend/runtime.js';
import { IrBuilder } from '../src/ir/builder.js';
import { Cond, HelperFlags, HelperTable, Opc, Temp, TempKind, Type } from '../src/ir/ir.js';
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
function makeHelpers(ret: Int32Array): { table: HelperTable; mul64: number } {
  const table = new HelperTable();
  const mul64 = table.add({
    name: 'mul64', args: [Type.I64, Type.I64], ret: Type.I64, flags: HelperFlags.Pure,
    fn: (al, ah, bl, bh) => {
      ret[0] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
      return Math.imul(al, bl);
    },
  });
  return { table, mul64 };
}
function makeRuntime(table: HelperTable, ret: Int32Array): Runtime {
  const ram = new DataView(new ArrayBuffer(4096));
  return {
    state: new Int32Array(2 * NG + 2), ram, tlbs: [createSoftTlb()], exceptionPending: new Int32Array(1), retHi: ret,
    budget: new Int32Array(1),
    helpers: table.list,
    loadSlow: (lo) => ram.getInt32(lo & 0xff8, true),
    storeSlow: (vl, _vh, lo) => ram.setInt32(lo & 0xff8, vl, true),
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

describe('i64 lowering + JS backend and tier-0 bytecode vs the reference interpreter on random blocks', () => {
  it('agrees on 3000 random blocks', () => {
    const next = rng(12345);
    const pick = <T,>(a: readonly T[]) => a[next() % a.length];
    for (let iter = 0; iter < 3000; iter++) {
      const g = makeGlobals();
      const ret = new Int32Array(1);
      const { table, mul64 } = makeHelpers(ret);
      const b = new IrBuilder(g, table);
      const vals: Temp[] = g.slice(0, NG);
      const operand = (): Temp => (next() % 4 === 0 ? b.const64(pick(interesting)) : pick(vals));
      // Open labels, with how many values were defined before each branch: values made
      // between a branch and its label may be skipped, so they are unusable after it.
      const labels: { label: ReturnType<IrBuilder['newLabel']>; defined: number }[] = [];
      const close = () => {
        const { label, defined } = labels.pop()!;
        b.setLabel(label);
        vals.length = defined;
      };
      const n = 4 + (next() % 12);
      for (let i = 0; i < n; i++) {
        const k = next() % 16;
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
          case 7: r = b.setcond(pick([Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LTU, Cond.GEU, Cond.LE, Cond.GT, Cond.LEU, Cond.GTU]), x, y); break;
          case 8: r = b.movcond(pick([Cond.LT, Cond.GEU, Cond.EQ]), x, y, operand(), operand()); break;
          case 9: r = b.exts(x, pick([8, 16, 32])); break;
          case 10: r = b.extu(x, pick([8, 16, 32])); break;
          case 11: r = b.extI32(b.add(b.lo32(x), b.hi32(y)), next() % 2 === 0); break;
          case 12: r = b.neg(x); break;
          case 13: r = b.shli(x, next() % 64); break;
          case 14: r = b.sari(x, next() % 64); break;
          default: {
            const l = b.newLabel();
            labels.push({ label: l, defined: vals.length });
            b.brcond(pick([Cond.LT, Cond.LTU, Cond.NE]), x, y, l);
            r = b.shri(x, next() % 64);
          }
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
      const rtA = makeRuntime(table, ret);
      rtA.state.set(init);
      const codeA = interpretBlock(prepared, rtA);
      const irText = printOps(b.ops, table);
      lowerI64(b, { mul64 });
      const src = generateJs(b.ops, table.list, `tb_rand_${iter}`);
      const rtB = makeRuntime(table, ret);
      rtB.state.set(init);
      const codeB = compileJs(src, rtB)();
      if (codeA !== codeB || rtA.state.join() !== rtB.state.join()) {
        throw new Error(`mismatch in block ${iter}\n${irText}\n${src.factory}\ninterp ${rtA.state.join()}\njs     ${rtB.state.join()}`);
      }
      // Tier 0: the same lowered ops as bytecode, in a value array that starts with the state.
      const values = new Int32Array(4096);
      const rtC: Runtime = { ...makeRuntime(table, ret), state: values.subarray(0, 2 * NG + 2) };
      rtC.state.set(init);
      const bytecode = encodeBlock(b.ops, table.list, 2 * NG + 2, { pc: -1n, insnCount: 1 }, 0, values.length)!;
      const codeC = new BytecodeInterpreter(rtC, values).run(bytecode);
      if (codeA !== codeC || rtA.state.join() !== rtC.state.join()) {
        throw new Error(`tier-0 mismatch in block ${iter}\n${irText}\ninterp ${rtA.state.join()}\ntier0  ${rtC.state.join()}`);
      }
    }
    expect(true).toBe(true);
  });
});
