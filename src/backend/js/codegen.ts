/**
 * JavaScript backend: lowered (i32-only) IR -> JS source -> `new Function`.
 *
 * A block becomes `function tb_<pc>()` closing over the runtime: the state array `s`,
 * the RAM DataView, the soft TLB arrays and the helpers, so every reference in the body
 * is a closure constant with monomorphic feedback. Guest registers (globals) live in JS
 * locals `g<slot>`: loaded on entry, stored back on exit and around helpers that read or
 * write CPU state. Forward branches become labelled blocks (`L3: { ... break L3; }`);
 * every exit sets `rc` and breaks out of the `X` block to the single write-back.
 * A jump back to the block's own start stays inside the function (`continue loop`) while
 * the run slice's budget lasts, so a hot loop runs without returning to the engine.
 * Memory accesses inline the soft-TLB hit path and call the runtime's slow path
 * otherwise; a guest fault exits with `ExitCode.ExceptionBase + insnIndex` so the precise
 * pc is known without a JS throw.
 */
import { Cond, HelperFlags, MemOp, Op, Opc, Temp, TempKind } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW, PAGE_SIZE, Runtime, TLB_MASK, sar64, shl64, shr64 } from '../runtime.js';

export type TbFunction = () => number;

function operand(t: Temp): string {
  if (t.kind === TempKind.Const) return `${t.value as number}`;
  if (t.kind === TempKind.Global) return `g${t.slot}`;
  return `t${t.id}`;
}

function cond32(c: Cond, a: string, b: string): string {
  switch (c) {
    case Cond.EQ: return `${a} === ${b}`;
    case Cond.NE: return `${a} !== ${b}`;
    case Cond.LT: return `${a} < ${b}`;
    case Cond.GE: return `${a} >= ${b}`;
    case Cond.LE: return `${a} <= ${b}`;
    case Cond.GT: return `${a} > ${b}`;
    case Cond.LTU: return `(${a} >>> 0) < (${b} >>> 0)`;
    case Cond.GEU: return `(${a} >>> 0) >= (${b} >>> 0)`;
    case Cond.LEU: return `(${a} >>> 0) <= (${b} >>> 0)`;
    case Cond.GTU: return `(${a} >>> 0) > (${b} >>> 0)`;
  }
}

/** 64-bit comparison of (al, ah) with (bl, bh) as a JS boolean expression. */
function cond64(c: Cond, al: string, ah: string, bl: string, bh: string): string {
  const ltu = `(${al} >>> 0) < (${bl} >>> 0)`;
  const gtu = `(${al} >>> 0) > (${bl} >>> 0)`;
  const hiLt = c >= Cond.LTU ? `(${ah} >>> 0) < (${bh} >>> 0)` : `${ah} < ${bh}`;
  const hiGt = c >= Cond.LTU ? `(${ah} >>> 0) > (${bh} >>> 0)` : `${ah} > ${bh}`;
  const lt = `(${hiLt} || (${ah} === ${bh} && ${ltu}))`;
  const gt = `(${hiGt} || (${ah} === ${bh} && ${gtu}))`;
  switch (c) {
    case Cond.EQ: return `(${al} === ${bl} && ${ah} === ${bh})`;
    case Cond.NE: return `(${al} !== ${bl} || ${ah} !== ${bh})`;
    case Cond.LT: case Cond.LTU: return lt;
    case Cond.GE: case Cond.GEU: return `!${lt}`;
    case Cond.GT: case Cond.GTU: return gt;
    case Cond.LE: case Cond.LEU: return `!${gt}`;
  }
}

const loadFn = ['getUint8', 'getUint16', 'getInt32', 'getInt32', 'getInt8', 'getInt16', 'getInt32'];
const storeFn = ['setInt8', 'setInt16', 'setInt32', 'setInt32'];

export interface GeneratedSource {
  /** The body of the factory: takes `rt`, returns the block function. */
  factory: string;
  name: string;
}

/** Generate the JS source for a lowered block. */
export function generateJs(
  ops: readonly Op[],
  helpers: Runtime['helpers'],
  name: string,
  /** The block's own start pc and instruction count, to keep self-loops inside. */
  self?: { pc: bigint; insnCount: number },
  /** Which of the runtime's soft TLBs this block's memory accesses use. */
  mmuIndex = 0,
): GeneratedSource {
  const body: string[] = [];
  const temps = new Set<number>();
  const usedHelpers = new Set<number>();
  const globalsUsed = new Set<number>();
  const globalsWritten = new Set<number>();
  for (const op of ops) {
    for (const t of [op.dst, op.dst2]) {
      if (t && t.kind === TempKind.Global) globalsWritten.add(t.slot);
    }
  }
  const note = (t: Temp | null) => {
    if (t && t.kind === TempKind.Temp) temps.add(t.id);
    if (t && t.kind === TempKind.Global) globalsUsed.add(t.slot);
  };
  const writeBack = () => [...globalsWritten].map((g) => `s[${g}] = g${g};`).join(' ');
  const reload = () => [...globalsUsed].map((g) => `g${g} = s[${g}];`).join(' ');
  const exit = (code: number | string) => `{ rc = ${code}; break X; }`;
  let selfLoop = false;
  // Labels close in the order they are set; open them all at the top, latest outermost.
  const labelOrder: number[] = [];
  for (const op of ops) if (op.opc === Opc.SetLabel) labelOrder.push(op.aux);
  if (labelOrder.length) body.push(labelOrder.slice().reverse().map((l) => `L${l}: {`).join(' '));

  const exc = (idx: number) => `if (X[0] !== 0) ${exit(ExitCode.ExceptionBase + idx)}`;

  for (const op of ops) {
    note(op.dst);
    note(op.dst2);
    op.args.forEach(note);
    const a = op.args.map(operand);
    const d = op.dst ? operand(op.dst) : '';
    const d2 = op.dst2 ? operand(op.dst2) : '';
    switch (op.opc) {
      case Opc.Mov: body.push(`${d} = ${a[0]};`); break;
      case Opc.Add: body.push(`${d} = (${a[0]} + ${a[1]}) | 0;`); break;
      case Opc.Sub: body.push(`${d} = (${a[0]} - ${a[1]}) | 0;`); break;
      case Opc.Mul: body.push(`${d} = Math.imul(${a[0]}, ${a[1]});`); break;
      case Opc.And: body.push(`${d} = ${a[0]} & ${a[1]};`); break;
      case Opc.Or: body.push(`${d} = ${a[0]} | ${a[1]};`); break;
      case Opc.Xor: body.push(`${d} = ${a[0]} ^ ${a[1]};`); break;
      case Opc.Shl: body.push(`${d} = ${a[0]} << ${a[1]};`); break;
      case Opc.Shr: body.push(`${d} = (${a[0]} >>> ${a[1]}) | 0;`); break;
      case Opc.Sar: body.push(`${d} = ${a[0]} >> ${a[1]};`); break;
      case Opc.Neg: body.push(`${d} = (-${a[0]}) | 0;`); break;
      case Opc.Not: body.push(`${d} = ~${a[0]};`); break;
      case Opc.ExtS: {
        const sh = 32 - op.aux2;
        body.push(sh ? `${d} = (${a[0]} << ${sh}) >> ${sh};` : `${d} = ${a[0]};`);
        break;
      }
      case Opc.ExtU:
        body.push(op.aux2 >= 32 ? `${d} = ${a[0]};` : `${d} = ${a[0]} & ${(1 << op.aux2) - 1};`);
        break;
      case Opc.SetCond: body.push(`${d} = ${cond32(op.aux, a[0], a[1])} ? 1 : 0;`); break;
      case Opc.MovCond: body.push(`${d} = ${cond32(op.aux, a[0], a[1])} ? ${a[2]} : ${a[3]};`); break;
      case Opc.SetCond2: body.push(`${d} = ${cond64(op.aux, a[0], a[1], a[2], a[3])} ? 1 : 0;`); break;
      case Opc.BrCond: body.push(`if (${cond32(op.aux2, a[0], a[1])}) break L${op.aux};`); break;
      case Opc.BrCond2: body.push(`if (${cond64(op.aux2, a[0], a[1], a[2], a[3])}) break L${op.aux};`); break;
      case Opc.Br: body.push(`break L${op.aux};`); break;
      case Opc.SetLabel: body.push(`} // L${op.aux}`); break;
      case Opc.Add2:
        body.push(`L = (${a[0]} + ${a[2]}) | 0; ${d2} = (${a[1]} + ${a[3]} + ((L >>> 0) < (${a[0]} >>> 0) ? 1 : 0)) | 0; ${d} = L;`);
        break;
      case Opc.Sub2:
        body.push(`L = (${a[0]} - ${a[2]}) | 0; ${d2} = (${a[1]} - ${a[3]} - ((${a[0]} >>> 0) < (${a[2]} >>> 0) ? 1 : 0)) | 0; ${d} = L;`);
        break;
      case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
        body.push(shift2(op, d, d2, a));
        break;
      case Opc.Load: body.push(genLoad(op, d, d2, a, exc)); break;
      case Opc.Store: body.push(genStore(op, a, exc)); break;
      case Opc.Call: {
        usedHelpers.add(op.aux);
        const flags = helpers[op.aux].flags;
        const call = `H${op.aux}(${a.join(', ')})`;
        // Placeholders: the global sets are complete only after the whole block is seen.
        if (flags & (HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals)) body.push('@WRITEBACK@');
        body.push(d ? `${d} = ${call};` : `${call};`);
        if (d2) body.push(`${d2} = R[0];`);
        if (flags & HelperFlags.WritesGlobals) body.push('@RELOAD@');
        if (flags & HelperFlags.MayRaise) body.push(exc(op.aux2));
        break;
      }
      case Opc.InsnStart: body.push(`// ${op.aux}: 0x${op.pc.toString(16)}`); break;
      case Opc.GotoTb:
        if (self && op.pc === self.pc) {
          selfLoop = true;
          // Charge the next iteration only if it will run, so the count stays exact.
          body.push(`if (B[0] > ${self.insnCount}) { B[0] -= ${self.insnCount}; continue loop; } ${exit(op.aux)}`);
        } else {
          body.push(exit(op.aux));
        }
        break;
      case Opc.LookupAndGoto: body.push(exit(ExitCode.Lookup)); break;
      case Opc.ExitTb: body.push(exit(op.aux)); break;
      default:
        throw new Error(`generateJs: unexpected op ${op.opc}`);
    }
  }
  body.push(exit(ExitCode.Lookup));
  const code = body
    .map((line) => (line === '@WRITEBACK@' ? writeBack() : line === '@RELOAD@' ? reload() : line))
    .join('\n');
  const decl = [
    'L = 0', 'ti = 0', 'to = 0', 'rc = 0',
    ...[...globalsUsed].sort((x, y) => x - y).map((g) => `g${g} = s[${g}]`),
    ...[...temps].sort((x, y) => x - y).map((id) => `t${id} = 0`),
  ];
  const loopOpen = selfLoop ? 'loop: for (;;) {' : '';
  const loopClose = selfLoop ? '}' : '';
  const prologue = [
    `"use strict";`,
    `const s = rt.state, dv = rt.ram, X = rt.exceptionPending, R = rt.retHi, B = rt.budget;`,
    `const T = rt.tlbs[${mmuIndex}];`,
    `const TRL = T.readLo, TRH = T.readHi, TWL = T.writeLo, TWH = T.writeHi, TO = T.ramOffset;`,
    `const ldSlow = rt.loadSlow.bind(rt), stSlow = rt.storeSlow.bind(rt), shl64 = lib.shl64, shr64 = lib.shr64, sar64 = lib.sar64;`,
    ...[...usedHelpers].map((i) => `const H${i} = rt.helpers[${i}].fn; // ${helpers[i].name}`),
  ];
  const factory =
    `${prologue.join('\n')}\nreturn function ${name}() {\nlet ${decl.join(', ')};\n` +
    `X: { ${loopOpen}\n${code}\n${loopClose} }\n${writeBack()}\nreturn rc;\n};`;
  return { factory, name };
}

function shift2(op: Op, d: string, d2: string, a: string[]): string {
  const [al, ah, cnt] = a;
  const c = op.args[2];
  const fn = op.opc === Opc.Shl2 ? 'shl64' : op.opc === Opc.Shr2 ? 'shr64' : 'sar64';
  if (c.kind !== TempKind.Const) return `${d} = ${fn}(${al}, ${ah}, ${cnt}, R); ${d2} = R[0];`;
  const n = (c.value as number) & 63;
  if (n === 0) return `L = ${al}; ${d2} = ${ah}; ${d} = L;`;
  switch (op.opc) {
    case Opc.Shl2:
      return n < 32
        ? `L = ${al} << ${n}; ${d2} = (${ah} << ${n}) | (${al} >>> ${32 - n}); ${d} = L;`
        : `${d2} = ${al} << ${n - 32}; ${d} = 0;`;
    case Opc.Shr2:
      return n < 32
        ? `L = (${al} >>> ${n}) | (${ah} << ${32 - n}); ${d2} = (${ah} >>> ${n}) | 0; ${d} = L;`
        : `${d} = (${ah} >>> ${n - 32}) | 0; ${d2} = 0;`;
    default:
      return n < 32
        ? `L = (${al} >>> ${n}) | (${ah} << ${32 - n}); ${d2} = ${ah} >> ${n}; ${d} = L;`
        : `L = ${ah} >> ${n - 32}; ${d2} = ${ah} >> 31; ${d} = L;`;
  }
}

/** The soft-TLB hit test for an access of `size` bytes at (al, ah); sets `ti`. */
function tlbHit(lo: string, hi: string, al: string, ah: string, size: number): string {
  const inPage = size > 1 ? ` && (${al} & ${PAGE_SIZE - 1}) <= ${PAGE_SIZE - size}` : '';
  return `((ti = (${al} >>> 12) & ${TLB_MASK}), ${lo}[ti] === (${al} & ${-PAGE_SIZE}) && ${hi}[ti] === ${ah}${inPage})`;
}

function genLoad(op: Op, d: string, d2: string, a: string[], exc: (i: number) => string): string {
  const [al, ah] = a;
  const mop = op.aux;
  const size = 1 << (mop & MemOp.SizeMask);
  // The read half of a read-modify-write needs write permission: test the write tag.
  const hit = mop & MEMOP_RMW ? tlbHit('TWL', 'TWH', al, ah, size) : tlbHit('TRL', 'TRH', al, ah, size);
  const slow = `${d} = ldSlow(${al}, ${ah}, ${mop}, ${op.aux2}); ${exc(op.aux2)}`;
  if (size === 8) {
    return `if ${hit} { to = TO[ti] + (${al} & ${PAGE_SIZE - 1}); ${d} = dv.getInt32(to, true); ${d2} = dv.getInt32(to + 4, true); } else { ${slow} ${d2} = R[0]; }`;
  }
  return `if ${hit} ${d} = dv.${loadFn[mop & 7]}(TO[ti] + (${al} & ${PAGE_SIZE - 1}), true); else { ${slow} }`;
}

function genStore(op: Op, a: string[], exc: (i: number) => string): string {
  const [vl, vh, al, ah] = a;
  const mop = op.aux;
  const sizeLog = mop & MemOp.SizeMask;
  const size = 1 << sizeLog;
  const hit = tlbHit('TWL', 'TWH', al, ah, size);
  const slow = `stSlow(${vl}, ${vh}, ${al}, ${ah}, ${mop}, ${op.aux2}); ${exc(op.aux2)}`;
  if (size === 8) {
    return `if ${hit} { to = TO[ti] + (${al} & ${PAGE_SIZE - 1}); dv.setInt32(to, ${vl}, true); dv.setInt32(to + 4, ${vh}, true); } else { ${slow} }`;
  }
  return `if ${hit} dv.${storeFn[sizeLog]}(TO[ti] + (${al} & ${PAGE_SIZE - 1}), ${vl}, true); else { ${slow} }`;
}

const shiftLib = { shl64, shr64, sar64 };

/** Compile generated source against a runtime. */
export function compileJs(src: GeneratedSource, rt: Runtime): TbFunction {
  const factory = new Function('rt', 'lib', src.factory) as (rt: Runtime, lib: unknown) => TbFunction;
  return factory(rt, shiftLib);
}
