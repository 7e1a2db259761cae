// The simplification of lowered blocks (src/ir/simplify.ts): what it does to the shapes
// RV64 code is made of. Semantics are checked by the random blocks of ir.test.ts (and
// the RISC-V corpus in backend-diff.test.ts); these check that the facts are used.
import { describe, expect, it } from 'vitest';
import { IrBuilder } from '../src/ir/builder.js';
import { Cond, condNames, HelperFlags, HelperTable, MemOp, Opc, Temp, TempKind, Type } from '../src/ir/ir.js';
import { lowerI64 } from '../src/ir/lower.js';
import { optimize } from '../src/ir/optimize.js';
import { printOp } from '../src/ir/printer.js';

function setup() {
  const g = Array.from({ length: 4 }, (_, i) => new Temp(i, Type.I64, TempKind.Global, 0, 2 * i, `r${i}`));
  const table = new HelperTable();
  const mul64 = table.add({ name: 'mul64', args: [Type.I64, Type.I64], ret: Type.I64, flags: HelperFlags.Pure, fn: () => 0 });
  const sys = table.add({
    name: 'sys', args: [], ret: null, fn: () => 0,
    flags: HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals | HelperFlags.MayRaise,
  });
  const b = new IrBuilder(g, table);
  /** The lowered block as text, one op a line (no insn_start, no final exit). */
  const lower = (): string[] => {
    b.exitTb(0);
    optimize(b);
    lowerI64(b, { mul64 });
    return b.ops.filter((o) => o.opc !== Opc.InsnStart && o.opc !== Opc.ExitTb).map((o) => printOp(o, table));
  };
  return { g, b, lower, sys };
}

describe('simplification of lowered blocks', () => {
  it('keeps a sign-extended 32-bit result in one word (addiw)', () => {
    const { g, b, lower } = setup();
    b.assign(g[1], b.extI32(b.add(b.lo32(g[0]), b.const32(5)), true));
    expect(lower()).toEqual(['add_i32 r1,r0,$5', 'sar_i32 r1.hi,r1,$31']);
  });

  it('writes a 64-bit result straight into its register', () => {
    const { g, b, lower } = setup();
    b.assign(g[0], b.addi(g[0], 8));
    expect(lower()).toEqual(['add2_i32 r0,r0.hi,r0,r0.hi,$8,$0']);
  });

  it('compares two sign-extended values with one 32-bit compare, signed or unsigned', () => {
    for (const cond of [Cond.LT, Cond.GEU, Cond.EQ]) {
      const { g, b, lower } = setup();
      const l = b.newLabel();
      b.brcond(cond, b.extI32(b.lo32(g[0]), true), b.exts(g[1], 32), l);
      b.assign(g[2], b.const64(1));
      b.setLabel(l);
      const ops = lower();
      expect(ops.filter((o) => o.startsWith('brcond'))).toEqual([`brcond r0,r1,${condNames[cond]},$L0`]);
    }
  });

  it('compares values with equal high words on their low words, unsigned', () => {
    const { g, b, lower } = setup();
    const l = b.newLabel();
    // Bytes: the high words are both 0, so a signed 64-bit compare is an unsigned 32-bit one.
    b.brcond(Cond.LT, b.load(Type.I64, g[0], MemOp.UB), b.andi(g[1], 0xff0), l);
    b.setLabel(l);
    expect(lower().filter((o) => o.startsWith('brcond'))).toEqual([expect.stringMatching(/^brcond l\d+,l\d+,ltu,\$L0$/)]);
  });

  it('drops masks and shifts that zero-extended values make redundant', () => {
    const { g, b, lower } = setup();
    const byte = b.load(Type.I64, g[0], MemOp.UB);
    // andi 255 of a byte is the byte; its shift by 8 stays within the low word.
    b.assign(g[1], b.shli(b.andi(byte, 0xff), 8));
    expect(lower()).toEqual([
      expect.stringMatching(/^qemu_ld_i32 l\d+,r0,r0.hi,ub$/),
      expect.stringMatching(/^shl_i32 r1,l\d+,\$8$/),
      'mov_i32 r1.hi,$0',
    ]);
  });

  it('propagates constants through globals and removes overwritten writes', () => {
    const { g, b, lower } = setup();
    b.assign(g[0], b.const64(0x80001000n)); // lui
    b.assign(g[0], b.addi(g[0], 0x7f8)); // addi: folded, and the first write is dead
    b.assign(g[1], b.addi(g[0], -8));
    // 0x800017f8 and 0x800017f0; r0.hi is written once.
    expect(lower()).toEqual(['mov_i32 r0.hi,$0', 'mov_i32 r0,$-2147477512', 'mov_i32 r1,$-2147477520', 'mov_i32 r1.hi,$0']);
  });

  it('forgets what a label merges from paths that disagree', () => {
    const { g, b, lower } = setup();
    const l = b.newLabel();
    b.assign(g[0], b.const64(1));
    b.assign(g[1], b.const64(7));
    b.brcond(Cond.EQ, g[2], g[3], l);
    b.assign(g[0], b.const64(2));
    b.setLabel(l);
    b.assign(g[2], b.addi(g[0], 1)); // r0 is 1 or 2 here (its high word 0 on both paths)
    b.assign(g[3], b.addi(g[1], 1)); // r1 is 7 on both paths: folded
    const ops = lower();
    expect(ops).toContain('add2_i32 r2,r2.hi,r0,$0,$1,$0');
    expect(ops).toContain('mov_i32 r3,$8');
  });

  it('forgets globals across a helper that writes them', () => {
    const { g, b, lower, sys } = setup();
    b.assign(g[0], b.const64(1));
    b.call(sys, []);
    b.assign(g[1], b.addi(g[0], 1));
    expect(lower()).toContain('add2_i32 r1,r1.hi,r0,r0.hi,$1,$0');
  });

  it('does not move a register write before an op that may fault', () => {
    const { g, b, lower } = setup();
    const sum = b.addi(g[0], 1);
    const v = b.load(Type.I64, g[1], MemOp.Q); // a page fault here must see the old r0
    b.assign(g[0], sum);
    b.assign(g[2], v);
    const ops = lower();
    const add = ops.findIndex((o) => o.startsWith('add2'));
    expect(ops[add]).toMatch(/^add2_i32 l\d+,l\d+,r0,r0.hi,\$1,\$0$/);
    expect(ops.slice(add + 2)).toContain('mov_i32 r0,' + ops[add].split(' ')[1].split(',')[0]);
  });

  it('narrows pair ops whose high word is unused', () => {
    const { g, b, lower } = setup();
    // mulw and a 32-bit store of a 64-bit sum: only the low words matter.
    b.assign(g[2], b.extI32(b.lo32(b.mul(g[0], g[1])), true));
    b.store(b.add(g[0], g[1]), g[3], MemOp.UL);
    const ops = lower();
    expect(ops).toContain('mul_i32 r2,r0,r1');
    expect(ops).toContain('sar_i32 r2.hi,r2,$31');
    expect(ops.some((o) => o.startsWith('add_i32 l'))).toBe(true);
    expect(ops.some((o) => o.startsWith('add2') || o.startsWith('call'))).toBe(false);
  });
});
