/**
 * WebAssembly backend: lowered (i32-only) IR -> one WebAssembly module per region.
 *
 * Why: V8 runs a fresh JavaScript function in its interpreter and baseline tier until it
 * has gathered type feedback, and TurboFan code built on that feedback deoptimizes when
 * a path it never saw runs (a slow path, a rare exit). Measured on a Linux boot, the ~3 %
 * of guest instructions that ran in such not-yet-optimized region functions took more
 * time than the 94 % in TurboFan code (~220 ns per instruction, ~500 deopts). WebAssembly needs no feedback: V8 compiles a
 * module with its baseline compiler (Liftoff) at once, tiers hot functions up in the
 * background, and never deoptimizes.
 *
 * The generated function mirrors the JavaScript backend (backend/js/codegen.ts) op for op
 * and has the same exit codes, so the engine cannot tell them apart:
 *  - guest registers (globals) live in wasm locals, loaded from the state array and
 *    stored back as the JS backend does (per member in a multi-block region);
 *  - RAM, the state array, budget, exception flag, retHi and the soft TLB are views of
 *    one WebAssembly.Memory (memory/arena.ts), reached by loads at constant offsets;
 *  - pair ops (add2, shifts, 64-bit compares) use native i64 arithmetic;
 *  - slow paths and helpers are imported JavaScript functions.
 * Forward labels become nested `block`s opened at the top of a member (latest
 * outermost), exactly like the JS backend's labelled blocks.
 */
import { Cond, HelperFlags, HelperInfo, MemOp, Opc, Temp, TempKind, Type } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW, PAGE_SIZE, Runtime, TLB_MASK } from '../runtime.js';
import type { RegionBlock } from '../js/codegen.js';
import {
  KIND_FUNC, KIND_MEMORY, KIND_TABLE, MODULE_HEADER, SEC_CODE, SEC_ELEMENT, SEC_EXPORT, SEC_FUNCTION, SEC_IMPORT,
  SEC_TABLE, SEC_TYPE, ByteWriter, T_EMPTY, T_FUNCREF, T_I32, T_I64, W, funcType, section, uleb, utf8, vec,
} from './encode.js';

/** A generated module, ready to instantiate against the runtime it was generated for. */
export interface GeneratedWasm {
  bytes: Uint8Array<ArrayBuffer>;
}

/** Where the runtime's arrays sit in the WebAssembly memory (byte offsets). */
interface Layout {
  state: number;
  budget: number;
  pending: number;
  retHi: number;
  readLo: number;
  readHi: number;
  writeLo: number;
  writeHi: number;
  ramOffset: number;
  ram: number;
  pages: number;
}

function layoutOf(rt: Runtime, mmuIndex: number): Layout {
  const tlb = rt.tlbs[mmuIndex];
  return {
    state: rt.state.byteOffset,
    budget: rt.budget.byteOffset,
    pending: rt.exceptionPending.byteOffset,
    retHi: rt.retHi.byteOffset,
    readLo: tlb.readLo.byteOffset,
    readHi: tlb.readHi.byteOffset,
    writeLo: tlb.writeLo.byteOffset,
    writeHi: tlb.writeHi.byteOffset,
    ramOffset: tlb.ramOffset.byteOffset,
    ram: rt.ram.byteOffset,
    pages: rt.wasmMemory!.buffer.byteLength / 65536,
  };
}

const I32_CMP: Record<Cond, number> = {
  [Cond.EQ]: W.i32Eq, [Cond.NE]: W.i32Ne, [Cond.LT]: W.i32LtS, [Cond.GE]: W.i32GeS,
  [Cond.LE]: W.i32LeS, [Cond.GT]: W.i32GtS, [Cond.LTU]: W.i32LtU, [Cond.GEU]: W.i32GeU,
  [Cond.LEU]: W.i32LeU, [Cond.GTU]: W.i32GtU,
};
const I64_CMP: Record<Cond, number> = {
  [Cond.EQ]: W.i64Eq, [Cond.NE]: W.i64Ne, [Cond.LT]: W.i64LtS, [Cond.GE]: W.i64GeS,
  [Cond.LE]: W.i64LeS, [Cond.GT]: W.i64GtS, [Cond.LTU]: W.i64LtU, [Cond.GEU]: W.i64GeU,
  [Cond.LEU]: W.i64LeU, [Cond.GTU]: W.i64GtU,
};
const LOAD_OP = [W.i32Load8U, W.i32Load16U, W.i32Load, W.i32Load, W.i32Load8S, W.i32Load16S, W.i32Load];
const STORE_OP = [W.i32Store8, W.i32Store16, W.i32Store, W.i32Store];
const I32_BINARY: Partial<Record<Opc, number>> = {
  [Opc.Add]: W.i32Add, [Opc.Sub]: W.i32Sub, [Opc.Mul]: W.i32Mul, [Opc.And]: W.i32And,
  [Opc.Or]: W.i32Or, [Opc.Xor]: W.i32Xor, [Opc.Shl]: W.i32Shl, [Opc.Shr]: W.i32ShrU, [Opc.Sar]: W.i32ShrS,
};

/** Slots of the call table: the slow paths, then the helpers by index. */
const CALL_LOAD_SLOW = 0;
const CALL_STORE_SLOW = 1;
const CALL_TABLE_HELPERS = 2;

/** A helper's parameter count once every i64 argument is split into two i32 words. */
const helperParams = (h: HelperInfo): number => h.args.reduce((n, t) => n + (t === Type.I64 ? 2 : 1), 0);

/**
 * Generate a module for a region (see generateRegion in the JS backend for the contract;
 * this one is the same function in WebAssembly). Throws if an op has no translation.
 */
export function generateWasmRegion(
  blocks: readonly RegionBlock[],
  rt: Runtime,
  mmuIndex: number,
  /** The state slot of the pc's low word (the dispatcher's key); needed for several blocks. */
  pcSlot = -1,
  /** The helper that lowering uses for 64-bit multiplication: inlined as i64.mul. */
  mul64Helper = -1,
): GeneratedWasm {
  const helpers = rt.helpers;
  const at = layoutOf(rt, mmuIndex);
  const single = blocks.length === 1;
  if (!single && pcSlot < 0) throw new Error('generateWasmRegion: several blocks need the pc slot');
  const members = new Map<bigint, RegionBlock>();
  for (const b of blocks) members.set(b.pc, b);

  // ---- Locals: scratch first, then one per guest global and per temp ----
  const L_TI = 0, L_TO = 1, L_RC = 2, L_N = 3, L_X64 = 4; // L_X64 is the one i64 local
  let nextLocal = 5;
  const globalLocal = new Map<number, number>();
  const tempLocal = new Map<number, number>();
  const globalLocalOf = (slot: number): number => {
    let i = globalLocal.get(slot);
    if (i === undefined) globalLocal.set(slot, (i = nextLocal++));
    return i;
  };
  // Temps never live across members (or a self-loop), so members may share their locals.
  const localOf = (t: Temp): number => {
    if (t.kind === TempKind.Global) return globalLocalOf(t.slot);
    let i = tempLocal.get(t.id);
    if (i === undefined) tempLocal.set(t.id, (i = nextLocal++));
    return i;
  };

  // ---- Imports: the memory and the runtime's call table (see callTableOf) ----
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const typeIndex = (params: number, result: boolean): number => {
    const key = `${params}:${result}`;
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.push(key) - 1;
      typeBytes.push(funcType(new Array(params).fill(T_I32), result ? [T_I32] : []));
    }
    return i;
  };
  const tableSize = CALL_TABLE_HELPERS + helpers.length;
  const imports: number[][] = [
    [...utf8('m'), ...utf8('mem'), KIND_MEMORY, 0x00, ...uleb(at.pages)],
    [...utf8('m'), ...utf8('calls'), KIND_TABLE, T_FUNCREF, 0x00, ...uleb(tableSize)],
  ];
  /** Call table entry `slot`, whose function takes `params` i32s and returns one if `result`. */
  const callSlot = (slot: number, params: number, result: boolean) => {
    i32(slot);
    emit(W.callIndirect);
    w.uleb(typeIndex(params, result));
    emit(0); // table 0
  };

  // ---- Code ----
  const w = new ByteWriter();
  const emit = (b: number) => w.byte(b);
  const emit2 = (a: number, b: number) => w.byte2(a, b);
  // Control stack of label names, innermost last; `if` arms push an anonymous entry. The
  // function body is `block X { loop { <members> } }` (see the end), so those two are open.
  const labels: string[] = ['X', 'loop'];
  const open = (kind: number, label: string) => {
    emit2(kind, T_EMPTY);
    labels.push(label);
  };
  const close = () => {
    emit(W.end);
    labels.pop();
  };
  const depth = (label: string): number => {
    const i = labels.lastIndexOf(label);
    if (i < 0) throw new Error(`generateWasmRegion: no enclosing ${label}`);
    return labels.length - 1 - i;
  };
  const br = (label: string) => {
    emit(W.br);
    w.uleb(depth(label));
  };
  const i32 = (v: number) => {
    emit(W.i32Const);
    w.sleb(v);
  };
  const get = (l: number) => {
    emit(W.localGet);
    w.uleb(l);
  };
  const set = (l: number) => {
    emit(W.localSet);
    w.uleb(l);
  };
  /** A load or store (alignment hint 1 byte) at the address on the stack plus `offset`. */
  const memArg = (opcode: number, offset: number) => {
    emit2(opcode, 0);
    w.uleb(offset);
  };
  const loadWord = (offset: number) => {
    i32(0);
    memArg(W.i32Load, offset);
  };
  const operand = (t: Temp) => (t.kind === TempKind.Const ? i32(t.value as number) : get(localOf(t)));
  /** Push the i64 (hi << 32) | lo of two i32 operands. */
  const pair = (lo: Temp, hi: Temp) => {
    operand(hi);
    emit2(W.i64ExtendI32U, W.i64Const);
    emit2(32, W.i64Shl);
    operand(lo);
    emit2(W.i64ExtendI32U, W.i64Or);
  };
  /** Pop an i64 into (d, d2); either may be absent (a dead half). */
  const splitInto = (d: Temp | null, d2: Temp | null) => {
    set(L_X64);
    if (d) {
      get(L_X64);
      emit(W.i32WrapI64);
      set(localOf(d));
    }
    if (d2) {
      get(L_X64);
      emit2(W.i64Const, 32);
      emit2(W.i64ShrU, W.i32WrapI64);
      set(localOf(d2));
    }
  };

  let pcHi = 0;
  /** The globals a single block writes: stored back once, at the function's end. */
  let singleWritten = new Set<number>();
  for (const [bi, block] of blocks.entries()) {
    pcHi = Number(BigInt.asIntN(32, block.pc >> 32n));
    const pcLo = Number(BigInt.asIntN(32, block.pc));
    const leave = single ? 'X' : 'M';
    const used = new Set<number>(), written = new Set<number>();
    for (const op of block.ops) {
      for (const t of [op.dst, op.dst2]) if (t && t.kind === TempKind.Global) written.add(t.slot), used.add(t.slot);
      for (const t of op.args) if (t.kind === TempKind.Global) used.add(t.slot);
    }
    if (single) singleWritten = written;
    const writeBack = () => {
      for (const g of written) {
        i32(0);
        get(globalLocalOf(g));
        memArg(W.i32Store, at.state + 4 * g);
      }
    };
    const reload = () => {
      for (const g of used) {
        loadWord(at.state + 4 * g);
        set(globalLocalOf(g));
      }
    };
    const exit = (code: number) => {
      i32(code);
      set(L_RC);
      br(leave);
    };
    // Entering another member: charge it first, like the engine, if it fits the budget.
    const enter = (n: () => void) => {
      loadWord(at.budget);
      n();
      emit(W.i32GtS);
      open(W.if, '');
      i32(0);
      loadWord(at.budget);
      n();
      emit(W.i32Sub);
      memArg(W.i32Store, at.budget);
      if (single) br('loop');
      else {
        i32(-1);
        set(L_RC);
        br('M');
      }
      close();
    };
    const exc = (idx: number) => {
      loadWord(at.pending);
      open(W.if, '');
      exit(ExitCode.ExceptionBase + block.exceptionBase + idx);
      close();
    };

    if (!single) {
      // case pcLo: load the member's registers, run it, store them back.
      open(W.block, 'case');
      loadWord(at.state + 4 * pcSlot);
      i32(pcLo);
      emit2(W.i32Ne, W.brIf);
      emit(0);
      reload();
      open(W.block, 'M');
    }
    const labelOrder: number[] = [];
    for (const op of block.ops) if (op.opc === Opc.SetLabel) labelOrder.push(op.aux);
    for (const l of labelOrder.slice().reverse()) open(W.block, `L${l}`);

    for (const op of block.ops) {
      const a = op.args;
      const d = op.dst;
      switch (op.opc) {
        case Opc.Mov:
          operand(a[0]);
          set(localOf(d!));
          break;
        case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
        case Opc.Shl: case Opc.Shr: case Opc.Sar:
          operand(a[0]);
          operand(a[1]);
          emit(I32_BINARY[op.opc]!);
          set(localOf(d!));
          break;
        case Opc.Neg:
          i32(0);
          operand(a[0]);
          emit(W.i32Sub);
          set(localOf(d!));
          break;
        case Opc.Not:
          operand(a[0]);
          i32(-1);
          emit(W.i32Xor);
          set(localOf(d!));
          break;
        case Opc.ExtS:
          operand(a[0]);
          if (op.aux2 === 8) emit(W.i32Extend8S);
          else if (op.aux2 === 16) emit(W.i32Extend16S);
          else if (op.aux2 < 32) {
            i32(32 - op.aux2);
            emit(W.i32Shl);
            i32(32 - op.aux2);
            emit(W.i32ShrS);
          }
          set(localOf(d!));
          break;
        case Opc.ExtU:
          operand(a[0]);
          if (op.aux2 < 32) {
            i32((1 << op.aux2) - 1);
            emit(W.i32And);
          }
          set(localOf(d!));
          break;
        case Opc.SetCond:
          operand(a[0]);
          operand(a[1]);
          emit(I32_CMP[op.aux as Cond]);
          set(localOf(d!));
          break;
        case Opc.MovCond:
          operand(a[2]);
          operand(a[3]);
          operand(a[0]);
          operand(a[1]);
          emit2(I32_CMP[op.aux as Cond], W.select);
          set(localOf(d!));
          break;
        case Opc.SetCond2:
          pair(a[0], a[1]);
          pair(a[2], a[3]);
          emit(I64_CMP[op.aux as Cond]);
          set(localOf(d!));
          break;
        case Opc.BrCond:
          operand(a[0]);
          operand(a[1]);
          emit2(I32_CMP[op.aux2 as Cond], W.brIf);
          w.uleb(depth(`L${op.aux}`));
          break;
        case Opc.BrCond2:
          pair(a[0], a[1]);
          pair(a[2], a[3]);
          emit2(I64_CMP[op.aux2 as Cond], W.brIf);
          w.uleb(depth(`L${op.aux}`));
          break;
        case Opc.Br:
          br(`L${op.aux}`);
          break;
        case Opc.SetLabel:
          if (labels[labels.length - 1] !== `L${op.aux}`) throw new Error('generateWasmRegion: labels out of order');
          close();
          break;
        case Opc.Add2: case Opc.Sub2:
          pair(a[0], a[1]);
          pair(a[2], a[3]);
          emit(op.opc === Opc.Add2 ? W.i64Add : W.i64Sub);
          splitInto(d, op.dst2);
          break;
        case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
          pair(a[0], a[1]);
          operand(a[2]);
          emit2(W.i64ExtendI32U, op.opc === Opc.Shl2 ? W.i64Shl : op.opc === Opc.Shr2 ? W.i64ShrU : W.i64ShrS);
          splitInto(d, op.dst2);
          break;
        case Opc.Load: {
          const mop = op.aux;
          const size = 1 << (mop & MemOp.SizeMask);
          // The read half of a read-modify-write needs write permission: test the write tag.
          const rmw = (mop & MEMOP_RMW) !== 0;
          tlbHit(a[0], a[1], size, rmw ? at.writeLo : at.readLo, rmw ? at.writeHi : at.readHi);
          open(W.if, '');
          get(L_TO);
          memArg(LOAD_OP[mop & 7], at.ram);
          set(localOf(d!));
          if (size === 8) {
            get(L_TO);
            memArg(W.i32Load, at.ram + 4);
            set(localOf(op.dst2!));
          }
          emit(W.else);
          operand(a[0]);
          operand(a[1]);
          i32(mop);
          i32(op.aux2);
          callSlot(CALL_LOAD_SLOW, 4, true);
          set(localOf(d!));
          exc(op.aux2);
          if (size === 8) {
            loadWord(at.retHi);
            set(localOf(op.dst2!));
          }
          close();
          break;
        }
        case Opc.Store: {
          const mop = op.aux;
          const sizeLog = mop & MemOp.SizeMask;
          tlbHit(a[2], a[3], 1 << sizeLog, at.writeLo, at.writeHi);
          open(W.if, '');
          get(L_TO);
          operand(a[0]);
          memArg(STORE_OP[sizeLog], at.ram);
          if (sizeLog === 3) {
            get(L_TO);
            operand(a[1]);
            memArg(W.i32Store, at.ram + 4);
          }
          emit(W.else);
          for (const t of a) operand(t);
          i32(mop);
          i32(op.aux2);
          callSlot(CALL_STORE_SLOW, 6, false);
          exc(op.aux2);
          close();
          break;
        }
        case Opc.Call: {
          if (op.aux === mul64Helper) {
            // Low 64 bits of a 64x64 product: one native multiply instead of a JS call.
            pair(a[0], a[1]);
            pair(a[2], a[3]);
            emit(W.i64Mul);
            splitInto(d, op.dst2);
            break;
          }
          const h = helpers[op.aux];
          if (h.flags & (HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals)) writeBack();
          for (const t of a) operand(t);
          callSlot(CALL_TABLE_HELPERS + op.aux, helperParams(h), h.ret !== null);
          if (h.ret !== null) {
            if (d) set(localOf(d));
            else emit(W.drop);
          }
          if (op.dst2) {
            loadWord(at.retHi);
            set(localOf(op.dst2));
          }
          if (h.flags & HelperFlags.WritesGlobals) reload();
          if (h.flags & HelperFlags.MayRaise) exc(op.aux2);
          break;
        }
        case Opc.InsnStart:
          break;
        case Opc.GotoTb: {
          // The block code has already set the pc to the target.
          const target = members.get(op.pc);
          if (target) enter(() => i32(target.insnCount));
          exit(single ? op.aux : ExitCode.RegionChainBase + 2 * bi + op.aux);
          break;
        }
        case Opc.LookupAndGoto:
          if (!single) {
            // An indirect jump that lands on a member stays in the region: n = its length.
            const pcLoLocal = globalLocal.get(pcSlot);
            i32(0);
            set(L_N);
            for (const m of blocks) {
              if (pcLoLocal !== undefined) get(pcLoLocal);
              else loadWord(at.state + 4 * pcSlot);
              i32(Number(BigInt.asIntN(32, m.pc)));
              emit(W.i32Eq);
              open(W.if, '');
              i32(m.insnCount);
              set(L_N);
              close();
            }
            get(L_N);
            const pcHiLocal = globalLocal.get(pcSlot + 1);
            if (pcHiLocal !== undefined) get(pcHiLocal);
            else loadWord(at.state + 4 * (pcSlot + 1));
            i32(pcHi);
            emit2(W.i32Eq, W.i32And); // n !== 0 (a non-zero count) && the high word matches
            open(W.if, '');
            enter(() => get(L_N));
            close();
          }
          exit(ExitCode.Lookup);
          break;
        case Opc.ExitTb:
          exit(op.aux);
          break;
        default:
          throw new Error(`generateWasmRegion: unexpected op ${op.opc}`);
      }
    }
    exit(ExitCode.Lookup);
    while (labels[labels.length - 1]?.startsWith('L')) close(); // labels never set
    if (!single) {
      close(); // M
      writeBack();
      get(L_RC);
      i32(0);
      emit2(W.i32LtS, W.brIf);
      w.uleb(depth('loop'));
      br('X');
      close(); // case
    }
  }

  /** Pushes the soft-TLB hit test for an access of `size` bytes at (al, ah); sets ti and to. */
  function tlbHit(al: Temp, ah: Temp, size: number, tagLo: number, tagHi: number): void {
    operand(al);
    i32(12);
    emit(W.i32ShrU);
    i32(TLB_MASK);
    emit(W.i32And);
    i32(2);
    emit(W.i32Shl);
    set(L_TI);
    get(L_TI);
    memArg(W.i32Load, tagLo);
    operand(al);
    i32(-PAGE_SIZE);
    emit2(W.i32And, W.i32Eq);
    get(L_TI);
    memArg(W.i32Load, tagHi);
    operand(ah);
    emit2(W.i32Eq, W.i32And);
    if (size > 1) {
      operand(al);
      i32(PAGE_SIZE - 1);
      emit(W.i32And);
      i32(PAGE_SIZE - size);
      emit2(W.i32LeU, W.i32And);
    }
    // to = TO[ti] + page offset (computed even on a miss: harmless, and branch-free).
    get(L_TI);
    memArg(W.i32Load, at.ramOffset);
    operand(al);
    i32(PAGE_SIZE - 1);
    emit2(W.i32And, W.i32Add);
    set(L_TO);
  }

  // ---- Assemble the function around the member code ----
  const code = w.view();
  const f = new ByteWriter();
  // Locals: the scratch i32s, the i64, then the registers' and temps' i32s.
  f.byte(3);
  f.byte2(L_X64, T_I32);
  f.byte2(1, T_I64);
  f.uleb(nextLocal - L_X64 - 1);
  f.byte(T_I32);
  const stateWord = (op: number, slot: number) => {
    f.byte2(op, 0);
    f.uleb(at.state + 4 * slot);
  };
  // Registers of a single block are loaded once on entry (a region's per member).
  if (single) {
    for (const [slot, local] of globalLocal) {
      f.byte2(W.i32Const, 0);
      stateWord(W.i32Load, slot);
      f.byte(W.localSet);
      f.uleb(local);
    }
  }
  // block X { loop { <members> } rc = Lookup } <write back> rc
  f.byte2(W.block, T_EMPTY);
  f.byte2(W.loop, T_EMPTY);
  f.array(code);
  if (!single) f.array([W.i32Const, ExitCode.Lookup, W.localSet, L_RC, W.br, 1]);
  f.array([W.end, W.i32Const, ExitCode.Lookup, W.localSet, L_RC, W.end]);
  if (single) {
    for (const slot of singleWritten) {
      f.byte2(W.i32Const, 0);
      f.byte(W.localGet);
      f.uleb(globalLocal.get(slot)!);
      stateWord(W.i32Store, slot);
    }
  }
  f.array([W.localGet, L_RC, W.end]);

  const mainType = typeIndex(0, true);
  const funcIndex = 0; // the only function: the imports are a memory and a table
  const m = new ByteWriter();
  m.array(MODULE_HEADER);
  m.array(section(SEC_TYPE, vec(typeBytes)));
  m.array(section(SEC_IMPORT, vec(imports)));
  m.array(section(SEC_FUNCTION, vec([uleb(mainType)])));
  m.array(section(SEC_EXPORT, vec([[...utf8('run'), KIND_FUNC, ...uleb(funcIndex)]])));
  const fnSize = uleb(f.length);
  m.byte(SEC_CODE);
  m.uleb(1 + fnSize.length + f.length);
  m.byte(1); // one function body
  m.array(fnSize);
  m.array(f.view());
  return { bytes: m.view().slice() };
}

/**
 * The JavaScript functions generated code calls (the slow paths, then every helper), in
 * one table that each region module imports. Importing the functions themselves would
 * make V8 compile a wasm-to-JS wrapper for each import of each module: measured at
 * ~0.5 ms per region. The table is built once per runtime by a small module that imports
 * them all; regions reach them with call_indirect.
 */
const callTables = new WeakMap<Runtime, WebAssembly.Table>();

function callTableOf(rt: Runtime): WebAssembly.Table {
  let table = callTables.get(rt);
  if (table && table.length === CALL_TABLE_HELPERS + rt.helpers.length) return table;
  const sigs: number[][] = [];
  const typeOf = (params: number, result: boolean): number => {
    const bytes = funcType(new Array(params).fill(T_I32), result ? [T_I32] : []);
    const key = bytes.join();
    let i = sigs.findIndex((t) => t.join() === key);
    if (i < 0) i = sigs.push(bytes) - 1;
    return i;
  };
  const fns: { fn: (...args: number[]) => number | void; type: number }[] = [
    { fn: rt.loadSlow.bind(rt), type: typeOf(4, true) },
    { fn: rt.storeSlow.bind(rt), type: typeOf(6, false) },
    ...rt.helpers.map((h) => ({ fn: h.fn, type: typeOf(helperParams(h), h.ret !== null) })),
  ];
  const n = fns.length;
  const bytes = new Uint8Array([
    ...MODULE_HEADER,
    ...section(SEC_TYPE, vec(sigs)),
    ...section(SEC_IMPORT, vec(fns.map((f, i) => [...utf8('f'), ...utf8(String(i)), KIND_FUNC, ...uleb(f.type)]))),
    ...section(SEC_TABLE, vec([[T_FUNCREF, 0x01, ...uleb(n), ...uleb(n)]])),
    ...section(SEC_EXPORT, vec([[...utf8('calls'), KIND_TABLE, 0]])),
    // Active segment for table 0 at offset 0: every imported function, in order.
    ...section(SEC_ELEMENT, vec([[0x00, W.i32Const, 0, W.end, ...vec(fns.map((_, i) => uleb(i)))]])),
  ]);
  const imports: Record<string, (...args: number[]) => number | void> = {};
  fns.forEach((f, i) => (imports[String(i)] = f.fn));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { f: imports });
  table = instance.exports.calls as WebAssembly.Table;
  callTables.set(rt, table);
  return table;
}

/** Instantiate a generated module against its runtime; returns the block function. */
export function instantiateWasm(gen: GeneratedWasm, rt: Runtime): () => number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(gen.bytes), {
    m: { mem: rt.wasmMemory!, calls: callTableOf(rt) },
  });
  return instance.exports.run as () => number;
}
