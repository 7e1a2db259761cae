/**
 * Tier 0: a bytecode interpreter for lowered (i32-only) IR.
 *
 * Most guest code runs only a few times (a Linux boot translates ~60,000 blocks), and
 * compiling each to JavaScript costs ~30 us per guest instruction before V8 even gets
 * it out of its own interpreter. So blocks start here: the lowered ops are encoded
 * once into an Int32Array, and one shared `run` loop (which V8 optimizes early, since
 * every block goes through it) executes them. The engine compiles a block to
 * JavaScript only once it has run often enough to repay that cost.
 *
 * Operands are indices into one Int32Array `V`: the CPU state words first (globals
 * are their state slots), then the block's temporaries and constants. Constants are
 * copied into their slots when a block starts, so every operand reads the same way.
 * Semantics match the JS backend op for op (the differential tests run both).
 */
import { evalCond, evalCond64 } from '../../ir/fold.js';
import { Cond, HelperFlags, MemOp, Op, Opc, Temp, TempKind, Type } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW, PAGE_SIZE, Runtime, TLB_MASK, sar64, shl64, shr64 } from '../runtime.js';

/**
 * One encoded block: its constants and code, in a chunk shared with other blocks (a
 * typed array per block cost ~1 us to allocate: backing stores of more than 64 bytes
 * live outside V8's heap).
 */
export class BytecodeBlock {
  constructor(
    readonly chunk: Int32Array,
    /** Pairs (slot, value) at [constants, code) to store into V before running. */
    readonly constants: number,
    /** Where the code starts; branch targets are chunk positions. */
    readonly code: number,
    /** Guest instructions, charged again by self-loops. */
    readonly insnCount: number,
    readonly mmuIndex: number,
  ) {}
  /**
   * Times the block started (entries and self-loop iterations). The engine compiles a
   * block once it reaches `hotAt`; a self-loop returns to the engine at that point.
   */
  heat = 0;
  hotAt = 0x7fffffff;
}

const enum B {
  Mov, Add, Sub, Mul, And, Or, Xor, Shl, Shr, Sar, Neg, Not, ExtS, ExtU,
  SetCond, MovCond, SetCond2, BrCond, BrCond2, Br, Add2, Sub2, Shl2, Shr2, Sar2,
  Load, Store, Call, Exit, SelfLoop,
  /** Constants moved in: one, or two at once (a register's halves, the pc before an exit). */
  MovConst, MovConst2,
}

/**
 * Scratch state of encodeBlock, reused from block to block (every translated block is
 * encoded: ~70,000 in a Linux boot). Code goes into a growable Int32Array: a plain array
 * of numbers made V8 deoptimize encodeBlock again and again on its changing elements.
 * Label operands hold code positions relative to the block's code while it is encoded.
 */
let code = new Int32Array(1024);
let codeLength = 0;
/**
 * A temporary's slot, and how often the block reads and writes it, valid where
 * tempEpoch[id] === epoch (no clearing per block).
 */
let tempSlot = new Int32Array(1024);
let tempUses = new Int32Array(1024);
let tempDefs = new Int32Array(1024);
/** The index of the op that last read the temporary. */
let tempUseAt = new Int32Array(1024);
let tempEpoch = new Int32Array(1024);
let epoch = 0;
/** Ops (by index) folded into an earlier op: skipped where opSkipped[i] === epoch. */
let opSkipped = new Int32Array(1024);

/** Make the per-temp arrays cover id, and its entry valid for this block. */
function tempEntry(id: number): void {
  if (id >= tempEpoch.length) {
    const size = Math.max(2 * tempEpoch.length, id + 1);
    const grow = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    tempSlot = grow(tempSlot);
    tempUses = grow(tempUses);
    tempDefs = grow(tempDefs);
    tempUseAt = grow(tempUseAt);
    tempEpoch = grow(tempEpoch);
  }
  if (tempEpoch[id] !== epoch) {
    tempEpoch[id] = epoch;
    tempSlot[id] = -1;
    tempUses[id] = 0;
    tempDefs[id] = 0;
  }
}

/**
 * Tier-0 code is lowered without the simplifier (see the engine), which leaves most
 * results in a temporary that a Mov then copies into a guest register: 58 % of the ops a
 * boot ran in tier 0 were Movs. So an op writes its result straight to the destination
 * of the Mov that is the only reader of its temporary, when nothing between them could
 * tell: no branch, label, exit or op that may raise an exception, and no access to that
 * destination. Calls keep their temporaries: one that raises has already written it.
 * Returns the Mov's destination (and marks the Mov skipped), or t itself.
 */
function coalesce(ops: readonly Op[], at: number, t: Temp | null): Temp | null {
  if (t === null || t.kind !== TempKind.Temp || tempUses[t.id] !== 1 || tempDefs[t.id] !== 1) return t;
  const use = tempUseAt[t.id];
  const mov = ops[use];
  if (mov.opc !== Opc.Mov || use - at > 8 || opSkipped[use] === epoch) return t;
  const to = mov.dst!;
  for (let j = at + 1; j < use; j++) {
    const op = ops[j];
    switch (op.opc) {
      case Opc.Br: case Opc.BrCond: case Opc.BrCond2: case Opc.SetLabel: case Opc.GotoTb: case Opc.LookupAndGoto:
      case Opc.ExitTb: case Opc.Load: case Opc.Store: case Opc.Call:
        return t;
    }
    if (sameSlot(op.dst, to) || sameSlot(op.dst2, to)) return t;
    for (const a of op.args) if (sameSlot(a, to)) return t;
  }
  opSkipped[use] = epoch;
  return to;
}

/** Whether two temps are the same value: globals by state slot (halves are separate temps). */
function sameSlot(a: Temp | null, b: Temp): boolean {
  if (a === null) return false;
  return a === b || (a.kind === TempKind.Global && b.kind === TempKind.Global && a.slot === b.slot);
}

/** Pairs (slot, value) of the block's constants (a few: found by a linear search). */
const constants: number[] = [];
/** Code position of each label id set so far (ids are small, per block). */
const labelAt: number[] = [];
/** Code positions holding a label id, patched to the label's position at the end. */
const fixups: number[] = [];

/** Finished blocks are copied into the current chunk; a full chunk is left to the blocks in it. */
const CHUNK_WORDS = 1 << 18;
let chunk = new Int32Array(CHUNK_WORDS);
let chunkUsed = 0;

/** Make room for `n` more words of code. */
function room(n: number): void {
  if (codeLength + n <= code.length) return;
  const grown = new Int32Array(Math.max(code.length * 2, codeLength + n));
  grown.set(code.subarray(0, codeLength));
  code = grown;
}

/** Encoder: lowered ops -> bytecode. `stateWords` is where temporaries start in V. */
export function encodeBlock(
  ops: readonly Op[],
  helpers: Runtime['helpers'],
  stateWords: number,
  self: { pc: bigint; insnCount: number },
  mmuIndex: number,
  /** Size of the interpreter's value array: a block needing more slots is not encoded. */
  capacity: number,
): BytecodeBlock | null {
  // (Map.clear and TypedArray slice/from took most of this function's time.)
  codeLength = 0;
  epoch++;
  constants.length = 0;
  labelAt.length = 0;
  fixups.length = 0;
  let next = stateWords;
  const slot = (t: Temp): number => {
    if (t.kind === TempKind.Global) return t.slot;
    if (t.kind === TempKind.Const) {
      const v = t.value as number;
      for (let i = 1; i < constants.length; i += 2) if (constants[i] === v) return constants[i - 1];
      constants.push(next, v);
      return next++;
    }
    const id = t.id;
    tempEntry(id);
    if (tempSlot[id] < 0) tempSlot[id] = next++;
    return tempSlot[id];
  };
  const put = (v: number) => {
    code[codeLength++] = v;
  };
  const label = (id: number) => {
    fixups.push(codeLength);
    put(id);
  };
  if (ops.length > opSkipped.length) opSkipped = new Int32Array(2 * ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    for (const t of op.args) if (t.kind === TempKind.Temp) tempEntry(t.id), tempUses[t.id]++, (tempUseAt[t.id] = i);
    if (op.dst && op.dst.kind === TempKind.Temp) tempEntry(op.dst.id), tempDefs[op.dst.id]++;
    if (op.dst2 && op.dst2.kind === TempKind.Temp) tempEntry(op.dst2.id), tempDefs[op.dst2.id]++;
  }
  for (let i = 0; i < ops.length; i++) {
    if (opSkipped[i] === epoch) continue;
    const op = ops[i];
    const a = op.args;
    room(8 + a.length);
    // Where the op's results go (see coalesce).
    const dst = op.opc === Opc.Call ? op.dst : coalesce(ops, i, op.dst);
    const dst2 = op.opc === Opc.Call ? op.dst2 : coalesce(ops, i, op.dst2);
    switch (op.opc) {
      case Opc.Mov:
        if (a[0].kind === TempKind.Const) {
          const next = ops[i + 1];
          if (next && next.opc === Opc.Mov && next.args[0].kind === TempKind.Const && opSkipped[i + 1] !== epoch) {
            const dst2 = coalesce(ops, i + 1, next.dst);
            opSkipped[i + 1] = epoch;
            put(B.MovConst2);
            put(slot(dst!));
            put(a[0].value as number);
            put(slot(dst2!));
            put(next.args[0].value as number);
          } else {
            put(B.MovConst);
            put(slot(dst!));
            put(a[0].value as number);
          }
          break;
        }
        put(B.Mov);
        put(slot(dst!));
        put(slot(a[0]));
        break;
      case Opc.Neg: case Opc.Not:
        put(op.opc === Opc.Neg ? B.Neg : B.Not);
        put(slot(dst!));
        put(slot(a[0]));
        break;
      case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
      case Opc.Shl: case Opc.Shr: case Opc.Sar:
        put(B.Add + (op.opc - Opc.Add));
        put(slot(dst!));
        put(slot(a[0]));
        put(slot(a[1]));
        break;
      case Opc.ExtS: case Opc.ExtU:
        put(op.opc === Opc.ExtS ? B.ExtS : B.ExtU);
        put(slot(dst!));
        put(slot(a[0]));
        put(op.aux2);
        break;
      case Opc.SetCond:
        put(B.SetCond);
        put(slot(dst!));
        put(slot(a[0]));
        put(slot(a[1]));
        put(op.aux);
        break;
      case Opc.MovCond:
        put(B.MovCond);
        put(slot(dst!));
        for (let i = 0; i < 2; i++) put(slot(a[i]));
        put(op.aux);
        for (let i = 2; i < 4; i++) put(slot(a[i]));
        break;
      case Opc.SetCond2:
        put(B.SetCond2);
        put(slot(dst!));
        for (let i = 0; i < 4; i++) put(slot(a[i]));
        put(op.aux);
        break;
      case Opc.BrCond:
        put(B.BrCond);
        put(slot(a[0]));
        put(slot(a[1]));
        put(op.aux2);
        label(op.aux);
        break;
      case Opc.BrCond2:
        put(B.BrCond2);
        for (let i = 0; i < 4; i++) put(slot(a[i]));
        put(op.aux2);
        label(op.aux);
        break;
      case Opc.Br:
        put(B.Br);
        label(op.aux);
        break;
      case Opc.SetLabel:
        labelAt[op.aux] = codeLength;
        break;
      case Opc.Add2: case Opc.Sub2:
        put(op.opc === Opc.Add2 ? B.Add2 : B.Sub2);
        put(slot(dst!));
        put(slot(dst2!));
        for (let i = 0; i < 4; i++) put(slot(a[i]));
        break;
      case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
        put(B.Shl2 + (op.opc - Opc.Shl2));
        put(slot(dst!));
        put(slot(dst2!));
        for (let i = 0; i < 3; i++) put(slot(a[i]));
        break;
      case Opc.Load:
        put(B.Load);
        put(slot(dst!));
        put(dst2 ? slot(dst2) : -1);
        put(slot(a[0]));
        put(slot(a[1]));
        put(op.aux);
        put(op.aux2);
        break;
      case Opc.Store:
        put(B.Store);
        for (let i = 0; i < 4; i++) put(slot(a[i]));
        put(op.aux);
        put(op.aux2);
        break;
      case Opc.Call:
        put(B.Call);
        put(op.dst ? slot(op.dst) : -1);
        put(op.dst2 ? slot(op.dst2) : -1);
        put(op.aux);
        put(helpers[op.aux].flags & HelperFlags.MayRaise ? 1 : 0);
        put(op.aux2);
        put(a.length);
        for (let i = 0; i < a.length; i++) put(slot(a[i]));
        break;
      case Opc.InsnStart:
        break;
      case Opc.GotoTb:
        put(op.pc === self.pc ? B.SelfLoop : B.Exit);
        put(op.aux);
        break;
      case Opc.LookupAndGoto:
        put(B.Exit);
        put(ExitCode.Lookup);
        break;
      case Opc.ExitTb:
        put(B.Exit);
        put(op.aux);
        break;
      default:
        throw new Error(`bytecode: unexpected op ${op.opc}`);
    }
  }
  room(2);
  const end = codeLength;
  put(B.Exit);
  put(ExitCode.Lookup);
  if (next > capacity) return null;
  // Into the chunk: constants, then code, with label operands made chunk positions. A
  // label never set is the end of the block (as in the compiled backends).
  const words = constants.length + codeLength;
  if (chunkUsed + words > chunk.length) {
    chunk = new Int32Array(Math.max(CHUNK_WORDS, words));
    chunkUsed = 0;
  }
  const out = chunk;
  const k = chunkUsed;
  for (let i = 0; i < constants.length; i++) out[k + i] = constants[i];
  const start = k + constants.length;
  for (let i = 0; i < codeLength; i++) out[start + i] = code[i];
  for (const at of fixups) out[start + at] = start + (labelAt[code[at]] ?? end);
  chunkUsed = start + codeLength;
  return new BytecodeBlock(out, k, start, self.insnCount, mmuIndex);
}


const loadSize = [1, 2, 4, 8, 1, 2, 4];

/**
 * The interpreter for one runtime. `V` must start with the CPU state words (the same
 * memory as rt.state) and be large enough for any block's temporaries and constants.
 */
export class BytecodeInterpreter {
  private readonly args: number[] = [];
  constructor(
    private readonly rt: Runtime,
    readonly V: Int32Array,
  ) {}

  run(block: BytecodeBlock): number {
    const V = this.V;
    const rt = this.rt;
    const code = block.chunk;
    const start = block.code;
    for (let i = block.constants; i < start; i += 2) V[code[i]] = code[i + 1];
    const tlb = rt.tlbs[block.mmuIndex];
    const ram = rt.ram;
    const X = rt.exceptionPending;
    const R = rt.retHi;
    const budget = rt.budget;
    block.heat++;
    let pc = start;
    for (;;) {
      switch (code[pc]) {
        case B.Mov: V[code[pc + 1]] = V[code[pc + 2]]; pc += 3; break;
        case B.MovConst: V[code[pc + 1]] = code[pc + 2]; pc += 3; break;
        case B.MovConst2: V[code[pc + 1]] = code[pc + 2]; V[code[pc + 3]] = code[pc + 4]; pc += 5; break;
        case B.Neg: V[code[pc + 1]] = -V[code[pc + 2]] | 0; pc += 3; break;
        case B.Not: V[code[pc + 1]] = ~V[code[pc + 2]]; pc += 3; break;
        case B.Add: V[code[pc + 1]] = (V[code[pc + 2]] + V[code[pc + 3]]) | 0; pc += 4; break;
        case B.Sub: V[code[pc + 1]] = (V[code[pc + 2]] - V[code[pc + 3]]) | 0; pc += 4; break;
        case B.Mul: V[code[pc + 1]] = Math.imul(V[code[pc + 2]], V[code[pc + 3]]); pc += 4; break;
        case B.And: V[code[pc + 1]] = V[code[pc + 2]] & V[code[pc + 3]]; pc += 4; break;
        case B.Or: V[code[pc + 1]] = V[code[pc + 2]] | V[code[pc + 3]]; pc += 4; break;
        case B.Xor: V[code[pc + 1]] = V[code[pc + 2]] ^ V[code[pc + 3]]; pc += 4; break;
        case B.Shl: V[code[pc + 1]] = V[code[pc + 2]] << V[code[pc + 3]]; pc += 4; break;
        case B.Shr: V[code[pc + 1]] = V[code[pc + 2]] >>> V[code[pc + 3]]; pc += 4; break;
        case B.Sar: V[code[pc + 1]] = V[code[pc + 2]] >> V[code[pc + 3]]; pc += 4; break;
        case B.ExtS: {
          const sh = 32 - code[pc + 3];
          V[code[pc + 1]] = (V[code[pc + 2]] << sh) >> sh;
          pc += 4;
          break;
        }
        case B.ExtU: {
          const bits = code[pc + 3];
          V[code[pc + 1]] = bits >= 32 ? V[code[pc + 2]] : V[code[pc + 2]] & ((1 << bits) - 1);
          pc += 4;
          break;
        }
        case B.SetCond: V[code[pc + 1]] = evalCond(code[pc + 4], Type.I32, V[code[pc + 2]], V[code[pc + 3]]) ? 1 : 0; pc += 5; break;
        case B.MovCond:
          V[code[pc + 1]] = evalCond(code[pc + 4], Type.I32, V[code[pc + 2]], V[code[pc + 3]]) ? V[code[pc + 5]] : V[code[pc + 6]];
          pc += 7;
          break;
        case B.SetCond2:
          V[code[pc + 1]] = evalCond64(code[pc + 6], V[code[pc + 2]], V[code[pc + 3]], V[code[pc + 4]], V[code[pc + 5]]) ? 1 : 0;
          pc += 7;
          break;
        case B.BrCond: pc = evalCond(code[pc + 3], Type.I32, V[code[pc + 1]], V[code[pc + 2]]) ? code[pc + 4] : pc + 5; break;
        case B.BrCond2:
          pc = evalCond64(code[pc + 5], V[code[pc + 1]], V[code[pc + 2]], V[code[pc + 3]], V[code[pc + 4]]) ? code[pc + 6] : pc + 7;
          break;
        case B.Br: pc = code[pc + 1]; break;
        case B.Add2: {
          const al = V[code[pc + 3]], bl = V[code[pc + 5]];
          const lo = (al + bl) | 0;
          V[code[pc + 2]] = (V[code[pc + 4]] + V[code[pc + 6]] + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          V[code[pc + 1]] = lo;
          pc += 7;
          break;
        }
        case B.Sub2: {
          const al = V[code[pc + 3]], bl = V[code[pc + 5]];
          V[code[pc + 2]] = (V[code[pc + 4]] - V[code[pc + 6]] - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
          V[code[pc + 1]] = (al - bl) | 0;
          pc += 7;
          break;
        }
        case B.Shl2: case B.Shr2: case B.Sar2: {
          const f = code[pc] === B.Shl2 ? shl64 : code[pc] === B.Shr2 ? shr64 : sar64;
          const lo = f(V[code[pc + 3]], V[code[pc + 4]], V[code[pc + 5]], R);
          V[code[pc + 2]] = R[0];
          V[code[pc + 1]] = lo;
          pc += 6;
          break;
        }
        case B.Load: {
          const al = V[code[pc + 3]], ah = V[code[pc + 4]];
          const mop = code[pc + 5];
          const size = loadSize[mop & 7];
          const i = (al >>> 12) & TLB_MASK;
          const tagLo = mop & MEMOP_RMW ? tlb.writeLo : tlb.readLo;
          const tagHi = mop & MEMOP_RMW ? tlb.writeHi : tlb.readHi;
          if (tagLo[i] === (al & -PAGE_SIZE) && tagHi[i] === ah && (al & (PAGE_SIZE - 1)) <= PAGE_SIZE - size) {
            const o = tlb.ramOffset[i] + (al & (PAGE_SIZE - 1));
            switch (mop & 7) {
              case MemOp.UB: V[code[pc + 1]] = ram.getUint8(o); break;
              case MemOp.UW: V[code[pc + 1]] = ram.getUint16(o, true); break;
              case MemOp.SB: V[code[pc + 1]] = ram.getInt8(o); break;
              case MemOp.SW: V[code[pc + 1]] = ram.getInt16(o, true); break;
              case MemOp.Q:
                V[code[pc + 1]] = ram.getInt32(o, true);
                V[code[pc + 2]] = ram.getInt32(o + 4, true);
                break;
              default: V[code[pc + 1]] = ram.getInt32(o, true);
            }
          } else {
            const lo = rt.loadSlow(al, ah, mop, code[pc + 6]);
            if (X[0] !== 0) return ExitCode.ExceptionBase + code[pc + 6];
            V[code[pc + 1]] = lo;
            if ((mop & 7) === MemOp.Q) V[code[pc + 2]] = R[0];
          }
          pc += 7;
          break;
        }
        case B.Store: {
          const vl = V[code[pc + 1]], vh = V[code[pc + 2]];
          const al = V[code[pc + 3]], ah = V[code[pc + 4]];
          const mop = code[pc + 5];
          const size = loadSize[mop & 7];
          const i = (al >>> 12) & TLB_MASK;
          if (tlb.writeLo[i] === (al & -PAGE_SIZE) && tlb.writeHi[i] === ah && (al & (PAGE_SIZE - 1)) <= PAGE_SIZE - size) {
            const o = tlb.ramOffset[i] + (al & (PAGE_SIZE - 1));
            switch (mop & 3) {
              case 0: ram.setInt8(o, vl); break;
              case 1: ram.setInt16(o, vl, true); break;
              case 2: ram.setInt32(o, vl, true); break;
              default:
                ram.setInt32(o, vl, true);
                ram.setInt32(o + 4, vh, true);
            }
          } else {
            rt.storeSlow(vl, vh, al, ah, mop, code[pc + 6]);
            if (X[0] !== 0) return ExitCode.ExceptionBase + code[pc + 6];
          }
          pc += 7;
          break;
        }
        case B.Call: {
          const n = code[pc + 6];
          const fn = rt.helpers[code[pc + 3]].fn;
          const a = pc + 7;
          // Fixed-arity calls: spreading an argument array (and resizing it) cost more
          // than the helpers themselves.
          let r: number;
          switch (n) {
            case 0: r = fn(); break;
            case 1: r = fn(V[code[a]]); break;
            case 2: r = fn(V[code[a]], V[code[a + 1]]); break;
            case 3: r = fn(V[code[a]], V[code[a + 1]], V[code[a + 2]]); break;
            case 4: r = fn(V[code[a]], V[code[a + 1]], V[code[a + 2]], V[code[a + 3]]); break;
            default: {
              const args = this.args;
              args.length = n;
              for (let j = 0; j < n; j++) args[j] = V[code[a + j]];
              r = fn(...args);
            }
          }
          if (code[pc + 1] >= 0) V[code[pc + 1]] = r;
          if (code[pc + 2] >= 0) V[code[pc + 2]] = R[0];
          if (code[pc + 4] !== 0 && X[0] !== 0) return ExitCode.ExceptionBase + code[pc + 5];
          pc += 7 + n;
          break;
        }
        case B.SelfLoop:
          // Like the JS backend: loop back while the slice's budget lasts.
          if (budget[0] > block.insnCount && ++block.heat < block.hotAt) {
            budget[0] -= block.insnCount;
            pc = start;
            break;
          }
          return code[pc + 1];
        default:
          return code[pc + 1]; // B.Exit
      }
    }
  }
}
