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
 * Several blocks of one page can share a function (a region, see generateRegion): a
 * dispatcher on the pc then runs jumps between them inside the function too.
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

/** One translated block of a region. */
export interface RegionBlock {
  /** Lowered ops. */
  ops: readonly Op[];
  pc: bigint;
  insnCount: number;
  /**
   * Added to an instruction's index within the block to form its exception exit code
   * (`ExitCode.ExceptionBase + exceptionBase + index`); the engine maps it back.
   */
  exceptionBase: number;
}

/** Generate the JS source for a single lowered block (a region of one, chained exits kept). */
export function generateJs(
  ops: readonly Op[],
  helpers: Runtime['helpers'],
  name: string,
  /** The block's own start pc and instruction count, to keep self-loops inside. */
  self?: { pc: bigint; insnCount: number },
  /** Which of the runtime's soft TLBs this block's memory accesses use. */
  mmuIndex = 0,
): GeneratedSource {
  const block = { ops, pc: self?.pc ?? -1n, insnCount: self?.insnCount ?? 0, exceptionBase: 0 };
  return generateRegion([block], helpers, name, mmuIndex);
}

/**
 * Generate one function for a region: blocks of one virtual page, translated with the
 * same flags, under an internal dispatcher `loop: for (;;) switch (pc)`. A direct jump
 * to a member block (and an indirect one that lands on a member) continues the loop while
 * the slice's budget lasts, charging the target block first, exactly as the engine would.
 * Any other exit returns to the engine. A region of one block keeps its goto_tb exit
 * codes; a larger region's direct exits say which member and slot they leave from
 * (`ExitCode.RegionChainBase`), so the engine can chain each of them.
 */
export function generateRegion(
  blocks: readonly RegionBlock[],
  helpers: Runtime['helpers'],
  name: string,
  mmuIndex: number,
  /** The state slot of the pc's low word (the dispatcher's key); needed for several blocks. */
  pcSlot = -1,
): GeneratedSource {
  const blockCode: string[] = [];
  const temps = new Set<number>();
  const usedHelpers = new Set<number>();
  const globalsUsed = new Set<number>();
  const globalsWritten = new Set<number>();
  const members = new Map<bigint, RegionBlock>();
  for (const b of blocks) members.set(b.pc, b);
  const single = blocks.length === 1;
  if (!single && pcSlot < 0) throw new Error('generateRegion: several blocks need the pc slot');
  // A single block keeps guest registers in locals for its whole run, self-loops
  // included. In a region each member loads the registers it uses when it starts and
  // stores those it wrote when it ends: a region may be entered and left after one
  // member, and loading every register of every member on each entry would cost more
  // than it saves. Exits leave the member's labelled block `M` with `rc` set (-1:
  // continue with the member whose pc was just stored).
  const leave = single ? 'X' : 'M';
  const exit = (code: number | string) => `{ rc = ${code}; break ${leave}; }`;
  // Entering another member: charge it first, like the engine does (so instruction
  // counts stay exact), and only if it can run to its end within the budget.
  const enter = (n: number | string) =>
    single ? `if (B[0] > ${n}) { B[0] -= ${n}; continue loop; }` : `if (B[0] > ${n}) { B[0] -= ${n}; rc = -1; break M; }`;
  let loops = false;
  let pcHi = 0;
  // An indirect jump that lands on a member stays in the region: find its length.
  const memberLength = single
    ? ''
    : blocks.map((m) => `case ${Number(BigInt.asIntN(32, m.pc))}: n = ${m.insnCount}; break;`).join(' ');

  for (const [bi, block] of blocks.entries()) {
    const pcLo = Number(BigInt.asIntN(32, block.pc));
    pcHi = Number(BigInt.asIntN(32, block.pc >> 32n));
    const body: string[] = [];
    const used = new Set<number>(), written = new Set<number>();
    for (const op of block.ops) {
      for (const t of [op.dst, op.dst2]) if (t && t.kind === TempKind.Global) written.add(t.slot);
    }
    const note = (t: Temp | null) => {
      if (t && t.kind === TempKind.Temp) temps.add(t.id);
      if (t && t.kind === TempKind.Global) used.add(t.slot);
    };
    const writeBack = () => [...written].map((g) => `s[${g}] = g${g};`).join(' ');
    const reload = () => [...used].map((g) => `g${g} = s[${g}];`).join(' ');
    // Labels close in the order they are set; open them all at the top, latest outermost.
    const labelOrder: number[] = [];
    for (const op of block.ops) if (op.opc === Opc.SetLabel) labelOrder.push(op.aux);
    if (labelOrder.length) body.push(labelOrder.slice().reverse().map((l) => `L${bi}_${l}: {`).join(' '));
    const exc = (idx: number) => `if (X[0] !== 0) ${exit(ExitCode.ExceptionBase + block.exceptionBase + idx)}`;

    for (const op of block.ops) {
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
        case Opc.BrCond: body.push(`if (${cond32(op.aux2, a[0], a[1])}) break L${bi}_${op.aux};`); break;
        case Opc.BrCond2: body.push(`if (${cond64(op.aux2, a[0], a[1], a[2], a[3])}) break L${bi}_${op.aux};`); break;
        case Opc.Br: body.push(`break L${bi}_${op.aux};`); break;
        case Opc.SetLabel: body.push(`} // L${bi}_${op.aux}`); break;
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
          // Placeholders: the global sets are complete only after the whole region is seen.
          if (flags & (HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals)) body.push('@WRITEBACK@');
          body.push(d ? `${d} = ${call};` : `${call};`);
          if (d2) body.push(`${d2} = R[0];`);
          if (flags & HelperFlags.WritesGlobals) body.push('@RELOAD@');
          if (flags & HelperFlags.MayRaise) body.push(exc(op.aux2));
          break;
        }
        case Opc.InsnStart: body.push(`// ${op.aux}: 0x${op.pc.toString(16)}`); break;
        case Opc.GotoTb: {
          // The block code has already set the pc to the target.
          const target = members.get(op.pc);
          if (target) {
            loops = true;
            body.push(enter(target.insnCount));
          }
          body.push(exit(single ? op.aux : ExitCode.RegionChainBase + 2 * bi + op.aux));
          break;
        }
        case Opc.LookupAndGoto:
          if (!single) {
            loops = true;
            body.push(`switch (g${pcSlot}) { ${memberLength} default: n = 0; }`);
            body.push(`if (n !== 0 && g${pcSlot + 1} === ${pcHi}) ${enter('n')}`);
          }
          body.push(exit(ExitCode.Lookup));
          break;
        case Opc.ExitTb: body.push(exit(op.aux)); break;
        default:
          throw new Error(`generateJs: unexpected op ${op.opc}`);
      }
    }
    body.push(exit(ExitCode.Lookup));
    const code = body
      .map((line) => (line === '@WRITEBACK@' ? writeBack() : line === '@RELOAD@' ? reload() : line))
      .join('\n');
    for (const g of used) globalsUsed.add(g);
    for (const g of written) globalsWritten.add(g);
    if (single) {
      blockCode.push(code);
    } else {
      const load = [...used].map((g) => `g${g} = s[${g}];`).join(' ');
      blockCode.push(`case ${pcLo}: {\n${load}\nM: {\n${code}\n}\n${writeBack()}\nif (rc < 0) continue loop;\nbreak X;\n}`);
    }
  }
  const code = blockCode.join('\n');
  let decl = ['L = 0', 'ti = 0', 'to = 0', 'rc = 0', 'n = 0'];
  let dispatch: string;
  let writeBack = '';
  if (single) {
    decl.push(...[...globalsUsed].sort((x, y) => x - y).map((g) => `g${g} = s[${g}]`));
    dispatch = loops ? `loop: for (;;) {\n${code}\n}` : code;
    writeBack = [...globalsWritten].map((g) => `s[${g}] = g${g};`).join(' ');
  } else {
    // The dispatcher switches on the pc's low word (the high word is the region's).
    decl.push(...[...globalsUsed].sort((x, y) => x - y).map((g) => `g${g} = 0`));
    dispatch = `loop: for (;;) { switch (s[${pcSlot}]) {\n${code}\n} rc = ${ExitCode.Lookup}; break X; }`;
  }
  decl = decl.concat([...temps].sort((x, y) => x - y).map((id) => `t${id} = 0`));
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
    `X: { ${dispatch}\nrc = ${ExitCode.Lookup}; }\n${writeBack}\nreturn rc;\n};`;
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
