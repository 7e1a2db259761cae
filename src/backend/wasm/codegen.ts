/**
 * WebAssembly backend: lowered (i32-only) IR -> one WebAssembly module per region.
 *
 * Why: V8 runs a fresh JavaScript function in its interpreter and baseline tier until it
 * has gathered type feedback, and TurboFan code built on that feedback deoptimizes when
 * a path it never saw runs (a slow path, a rare exit). Measured on a Linux boot, the ~3 %
 * of guest instructions that ran in such not-yet-optimized region functions took more
 * time than the 94 % in TurboFan code (~220 ns per instruction, ~500 deopts).
 * WebAssembly needs no feedback: V8 compiles a module with its baseline compiler (Liftoff)
 * on first call, tiers hot functions up in the background, and never deoptimizes.
 *
 * The generated function implements the lowered ops as the JavaScript backend
 * (backend/js/codegen.ts) does and has the same exit codes, so the engine cannot tell
 * them apart:
 *  - guest registers (globals) live in wasm locals for the whole call (a 64-bit register
 *    in one i64 local): loaded from the state array on entry, stored back on exit and
 *    around helpers that read or write them (see RegionWriter);
 *  - RAM, the state array, budget, exception flag, retHi and the soft TLB are views of
 *    one WebAssembly.Memory (memory/arena.ts), reached by loads at constant offsets;
 *  - pair ops (add2, shifts, 64-bit compares) use native i64 arithmetic;
 *  - slow paths and helpers are JavaScript functions, called through a table.
 * Forward labels become nested `block`s opened at the top of a member (latest
 * outermost), like the JS backend's labelled blocks.
 */
import { Cond, HelperFlags, HelperInfo, MemOp, Op, Opc, Temp, TempKind, Type } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW, PAGE_SIZE, Runtime, TLB_MASK } from '../runtime.js';
import type { RegionBlock } from '../js/codegen.js';
import {
  KIND_FUNC, KIND_MEMORY, KIND_TABLE, MODULE_HEADER, SEC_CODE, SEC_ELEMENT, SEC_EXPORT, SEC_FUNCTION, SEC_IMPORT,
  SEC_TABLE, SEC_TYPE, ByteWriter, T_EMPTY, T_FUNCREF, T_I32, T_I64, W, funcType, section, sleb, uleb, utf8, vec,
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
  /**
   * State words [0, pairedWords) hold 64-bit registers as (lo, hi) pairs at even slots:
   * each such register lives in one i64 local (see RegionWriter).
   */
  pairedWords = 0,
  /** log2 of the guest's instruction alignment (RISC-V 1, x86 0): the member dispatch's granule. */
  pcAlignShift = 1,
): GeneratedWasm {
  if (blocks.length > 1 && pcSlot < 0) throw new Error('generateWasmRegion: several blocks need the pc slot');
  const writer = new RegionWriter(blocks, rt.helpers, layoutOf(rt, mmuIndex), pcSlot, mul64Helper, pairedWords, pcAlignShift);
  if (blocks.length > 1) writer.memberDispatch();
  for (let i = 0; i < blocks.length; i++) writer.member(i);
  return { bytes: writer.module() };
}

/**
 * Labels of the control stack. Forward labels of the IR are their ids (>= 0); the
 * structure around them has these. The function body is `block X { loop { <members> } }`.
 */
const LABEL_X = -1;
const LABEL_LOOP = -2;
/** The arms of an `if`. */
const LABEL_IF = -3;
/** Where the member dispatch goes for a pc that is no member's. */
const LABEL_NO_MEMBER = -4;
/** Member i's code follows the end of the block labelled LABEL_MEMBER - i. */
const LABEL_MEMBER = -5;

/** Local indices: scratch i32s (TLB index, RAM offset, return code, count), then the one i64. */
const L_TI = 0, L_TO = 1, L_RC = 2, L_N = 3, L_X64 = 4;

/**
 * Writes one region's module. A class rather than one function with closures: V8 compiled
 * that function (every closure inlined) in ~430 ms of TurboFan, again after each deopt,
 * on a background thread that the guest's own thread shares two cores with.
 *
 * Guest registers live in locals for the whole call: those any member uses are loaded on
 * entry, those any member writes are stored on exit (and around helpers that read or
 * write them). A region's members pass control to each other through `br_table` on the
 * pc's offset in the page, without touching memory. (The first version loaded and stored
 * each member's registers around it and found the member by comparing the pc with each
 * one's in turn: a boot makes ~190 M such transitions, one per ~9 guest instructions.)
 *
 * A 64-bit register (both halves of a paired state slot) is one i64 local: the lowered
 * IR works on its halves, but the pair ops, 64-bit loads and stores, and entry and exit
 * then take it whole instead of packing and unpacking two i32 locals each time.
 */
class RegionWriter {
  private readonly w = new ByteWriter();
  private readonly single: boolean;
  private readonly members = new Map<bigint, RegionBlock>();
  /** Control stack, innermost last (see the LABEL_ constants). */
  private readonly labels: number[] = [LABEL_X, LABEL_LOOP];
  private nextLocal = L_X64 + 1;
  private readonly globalLocal = new Map<number, number>();
  /** The i64 local of each paired register, by the slot of its low word. */
  private readonly pairLocal = new Map<number, number>();
  /** The current member's temps' locals, by temp id (temps never live across members). */
  private readonly tempLocal = new Map<number, number>();
  /**
   * Locals of temps whose last use has passed, free for the next temps. Temps live a few
   * ops, so a member needs a handful of locals, not one per temp: Liftoff reconciles every
   * local at each merge (and spills them), and TurboFan makes a loop phi for each.
   */
  private readonly freeLocals: number[] = [];
  /** Every local ever given to a temp (all free again when a member starts). */
  private readonly tempLocals: number[] = [];
  /** The member's last op that reads or writes each temp, by id. */
  private lastUse: number[] = [];
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  /** The pc's high word (that of every member: they share a page). */
  private readonly pcHi: number;
  /** Registers any member reads or writes (loaded on entry), and writes (stored on exit). */
  private readonly used = new Set<number>();
  private readonly written = new Set<number>();
  // The member being written.
  private block!: RegionBlock;
  private blockIndex = 0;

  constructor(
    private readonly blocks: readonly RegionBlock[],
    private readonly helpers: Runtime['helpers'],
    private readonly at: Layout,
    private readonly pcSlot: number,
    private readonly mul64Helper: number,
    private readonly pairedWords: number,
    private readonly pcAlignShift: number,
  ) {
    this.single = blocks.length === 1;
    this.pcHi = Number(BigInt.asIntN(32, blocks[0].pc >> 32n));
    const { used, written } = this;
    // The pc's low word selects the member (see memberDispatch).
    if (!this.single) used.add(pcSlot);
    for (const b of blocks) {
      this.members.set(b.pc, b);
      for (const op of b.ops) {
        if (op.dst && op.dst.kind === TempKind.Global) written.add(op.dst.slot), used.add(op.dst.slot);
        if (op.dst2 && op.dst2.kind === TempKind.Global) written.add(op.dst2.slot), used.add(op.dst2.slot);
        for (const t of op.args) if (t.kind === TempKind.Global) used.add(t.slot);
      }
    }
    // The i64 locals come right after L_X64 (see module()), then the i32 ones.
    for (const g of used) if (g < pairedWords && !this.pairLocal.has(g & ~1)) this.pairLocal.set(g & ~1, this.nextLocal++);
    for (const g of used) if (g >= pairedWords) this.globalLocalOf(g);
  }

  // ---- Encoding ----

  private emit(b: number): void {
    this.w.byte(b);
  }
  private emit2(a: number, b: number): void {
    this.w.byte2(a, b);
  }
  private open(kind: number, label: number): void {
    this.w.byte2(kind, T_EMPTY);
    this.labels.push(label);
  }
  private close(): void {
    this.w.byte(W.end);
    this.labels.pop();
  }
  private depth(label: number): number {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`generateWasmRegion: no enclosing label ${label}`);
    return this.labels.length - 1 - i;
  }
  private br(label: number): void {
    this.w.byte(W.br);
    this.w.uleb(this.depth(label));
  }
  private i32(v: number): void {
    this.w.byte(W.i32Const);
    this.w.sleb(v);
  }
  private get(l: number): void {
    this.w.byte(W.localGet);
    this.w.uleb(l);
  }
  private set(l: number): void {
    this.w.byte(W.localSet);
    this.w.uleb(l);
  }
  /** A load or store (alignment hint 1 byte) at the address on the stack plus `offset`. */
  private memArg(opcode: number, offset: number): void {
    this.w.byte2(opcode, 0);
    this.w.uleb(offset);
  }
  private loadWord(offset: number): void {
    this.i32(0);
    this.memArg(W.i32Load, offset);
  }

  // ---- Locals and operands ----

  private globalLocalOf(slot: number): number {
    if (slot < this.pairedWords) throw new Error('generateWasmRegion: a paired register has no i32 local');
    let i = this.globalLocal.get(slot);
    if (i === undefined) this.globalLocal.set(slot, (i = this.nextLocal++));
    return i;
  }
  private localOf(t: Temp): number {
    if (t.kind === TempKind.Global) return this.globalLocalOf(t.slot);
    if (t.kind !== TempKind.Temp) throw new Error('generateWasmRegion: a constant has no local');
    let i = this.tempLocal.get(t.id);
    if (i === undefined) {
      i = this.freeLocals.pop();
      if (i === undefined) this.tempLocals.push((i = this.nextLocal++));
      this.tempLocal.set(t.id, i);
    }
    return i;
  }
  /** Free a temp's local after op `at` if that was its last use. */
  private release(t: Temp, at: number): void {
    if (t.kind !== TempKind.Temp || this.lastUse[t.id] !== at) return;
    const i = this.tempLocal.get(t.id);
    if (i === undefined) return;
    this.tempLocal.delete(t.id);
    this.freeLocals.push(i);
  }
  private operand(t: Temp): void {
    if (t.kind === TempKind.Const) this.i32(t.value as number);
    else if (t.kind === TempKind.Global) this.getWord(t.slot);
    else this.get(this.localOf(t));
  }
  /** Pop an i32 into temp or register word t. */
  private setTemp(t: Temp): void {
    if (t.kind === TempKind.Global) this.setWord(t.slot);
    else this.set(this.localOf(t));
  }
  /** Push register word `slot`. */
  private getWord(slot: number): void {
    if (slot >= this.pairedWords) return this.get(this.globalLocalOf(slot));
    this.get(this.pairLocal.get(slot & ~1)!);
    if (slot & 1) this.emit2(W.i64Const, 32), this.emit(W.i64ShrU);
    this.emit(W.i32WrapI64);
  }
  /** Pop an i32 into register word `slot` (one half of a paired register's local). */
  private setWord(slot: number): void {
    if (slot >= this.pairedWords) return this.set(this.globalLocalOf(slot));
    const local = this.pairLocal.get(slot & ~1)!;
    this.emit(W.i64ExtendI32U);
    if (slot & 1) this.emit2(W.i64Const, 32), this.emit(W.i64Shl);
    this.get(local);
    this.emit(W.i64Const);
    this.w.array(slot & 1 ? LOW_WORD_MASK : HIGH_WORD_MASK);
    this.emit2(W.i64And, W.i64Or);
    this.set(local);
  }
  /** The i64 local of the register whose halves are (lo, hi), if they are one's. */
  private registerOf(lo: Temp | null, hi: Temp | null): number | undefined {
    if (lo === null || hi === null || lo.kind !== TempKind.Global || hi.kind !== TempKind.Global) return undefined;
    if (lo.slot >= this.pairedWords || lo.slot & 1 || hi.slot !== lo.slot + 1) return undefined;
    return this.pairLocal.get(lo.slot);
  }
  /** Push the i64 (hi << 32) | lo of two i32 operands. */
  private pair(lo: Temp, hi: Temp): void {
    const register = this.registerOf(lo, hi);
    if (register !== undefined) return this.get(register);
    this.operand(hi);
    this.emit2(W.i64ExtendI32U, W.i64Const);
    this.emit2(32, W.i64Shl);
    this.operand(lo);
    this.emit2(W.i64ExtendI32U, W.i64Or);
  }
  /** Pop an i64 into (d, d2); either may be absent (a dead half). */
  private splitInto(d: Temp | null, d2: Temp | null): void {
    const register = this.registerOf(d, d2);
    if (register !== undefined) return this.set(register);
    this.set(L_X64);
    if (d) {
      this.get(L_X64);
      this.emit(W.i32WrapI64);
      this.setTemp(d);
    }
    if (d2) {
      this.get(L_X64);
      this.emit2(W.i64Const, 32);
      this.emit2(W.i64ShrU, W.i32WrapI64);
      this.setTemp(d2);
    }
  }

  // ---- Calls: the runtime's call table (see callTableOf) ----

  private typeIndex(params: number, result: boolean): number {
    const key = `${params}:${result}`;
    let i = this.types.indexOf(key);
    if (i < 0) {
      i = this.types.push(key) - 1;
      this.typeBytes.push(funcType(new Array(params).fill(T_I32), result ? [T_I32] : []));
    }
    return i;
  }
  /** Call table entry `slot`, whose function takes `params` i32s and returns one if `result`. */
  private callSlot(slot: number, params: number, result: boolean): void {
    this.i32(slot);
    this.emit(W.callIndirect);
    this.w.uleb(this.typeIndex(params, result));
    this.emit(0); // table 0
  }

  // ---- Members ----

  /** Store the registers the region writes back to the state. */
  private writeBack(): void {
    this.moveRegisters(this.w, this.written, true);
  }
  /** Load the registers the region uses from the state. */
  private reload(): void {
    this.moveRegisters(this.w, this.used, false);
  }
  /**
   * Write code into `w` that stores registers `slots` (state words) from their locals to
   * the state, or loads them: a paired register whole, with one i64 access, if either of
   * its words is among them.
   */
  private moveRegisters(w: ByteWriter, slots: ReadonlySet<number>, store: boolean): void {
    for (const slot of slots) {
      const paired = slot < this.pairedWords;
      if (paired && slot & 1 && slots.has(slot - 1)) continue; // moved with its low word
      const local = paired ? this.pairLocal.get(slot & ~1)! : this.globalLocal.get(slot)!;
      const offset = this.at.state + 4 * (paired ? slot & ~1 : slot);
      w.byte2(W.i32Const, 0);
      if (store) {
        w.byte(W.localGet);
        w.uleb(local);
        w.byte2(paired ? W.i64Store : W.i32Store, 0);
        w.uleb(offset);
      } else {
        w.byte2(paired ? W.i64Load : W.i32Load, 0);
        w.uleb(offset);
        w.byte(W.localSet);
        w.uleb(local);
      }
    }
  }
  private exit(code: number): void {
    this.i32(code);
    this.set(L_RC);
    this.br(LABEL_X);
  }
  /** Exit with the exception code of instruction `index` if the last call raised one. */
  private exceptionCheck(index: number): void {
    this.loadWord(this.at.pending);
    this.open(W.if, LABEL_IF);
    this.exit(ExitCode.ExceptionBase + this.block.exceptionBase + index);
    this.close();
  }
  /**
   * Entering another member: charge it first, like the engine, if it fits the budget. Its
   * instruction count is the constant `count`, or local L_N when `count` is -1.
   */
  private enter(count: number): void {
    this.loadWord(this.at.budget);
    this.pushCount(count);
    this.emit(W.i32GtS);
    this.open(W.if, LABEL_IF);
    this.i32(0);
    this.loadWord(this.at.budget);
    this.pushCount(count);
    this.emit(W.i32Sub);
    this.memArg(W.i32Store, this.at.budget);
    this.br(LABEL_LOOP); // a region's loop dispatches on the pc just set
    this.close();
  }
  private pushCount(count: number): void {
    if (count < 0) this.get(L_N);
    else this.i32(count);
  }

  /**
   * The head of a region's loop: a `br_table` on the pc's offset from the first member in
   * instruction granules (halfwords on RISC-V, bytes on x86), to the code of the member
   * there (or out, for a pc that is no member's).
   * Member i's code follows the end of block LABEL_MEMBER - i, so the blocks are opened
   * here, the last member's outermost.
   */
  memberDispatch(): void {
    const n = this.blocks.length;
    const pcLo = (b: RegionBlock) => Number(BigInt.asIntN(32, b.pc));
    let first = pcLo(this.blocks[0]), last = first;
    for (const b of this.blocks) {
      first = Math.min(first, pcLo(b));
      last = Math.max(last, pcLo(b));
    }
    for (let i = n - 1; i >= 0; i--) this.open(W.block, LABEL_MEMBER - i);
    this.open(W.block, LABEL_NO_MEMBER);
    const shift = this.pcAlignShift;
    const entries = ((last - first) >> shift) + 1; // members share a page: at most 4096
    const target = new Array<number>(entries).fill(0); // depth 0: LABEL_NO_MEMBER
    for (let i = 0; i < n; i++) target[(pcLo(this.blocks[i]) - first) >> shift] = this.depth(LABEL_MEMBER - i);
    this.getWord(this.pcSlot);
    this.i32(first);
    this.emit(W.i32Sub);
    if (shift) {
      this.i32(shift);
      this.emit(W.i32ShrU);
    }
    this.emit(W.brTable);
    this.w.uleb(entries);
    for (const t of target) this.w.uleb(t);
    this.w.uleb(0); // default: no member
    this.close();
    this.exit(ExitCode.Lookup);
  }

  /** Write member `index` (in a region, after the end of its dispatch block). */
  member(index: number): void {
    const block = this.blocks[index];
    this.block = block;
    this.blockIndex = index;
    if (!this.single) this.close(); // LABEL_MEMBER - index
    // Forward labels become nested blocks, the latest set outermost.
    const labelOrder: number[] = [];
    for (const op of block.ops) if (op.opc === Opc.SetLabel) labelOrder.push(op.aux);
    for (let i = labelOrder.length - 1; i >= 0; i--) this.open(W.block, labelOrder[i]);
    // Temps never live across members: all their locals are free again. Forward-only
    // control flow makes a temp's first write to its last use (in op order) cover every
    // path where it is live, so its local is free after that op.
    this.tempLocal.clear();
    this.freeLocals.length = 0;
    for (let i = this.tempLocals.length - 1; i >= 0; i--) this.freeLocals.push(this.tempLocals[i]);
    const lastUse: number[] = (this.lastUse = []);
    const ops = block.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      for (const t of op.args) if (t.kind === TempKind.Temp) lastUse[t.id] = i;
      if (op.dst && op.dst.kind === TempKind.Temp) lastUse[op.dst.id] = i;
      if (op.dst2 && op.dst2.kind === TempKind.Temp) lastUse[op.dst2.id] = i;
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      this.op(op);
      // Free the op's temps that die here (after it: its results were given their own).
      for (const t of op.args) this.release(t, i);
      if (op.dst) this.release(op.dst, i);
      if (op.dst2) this.release(op.dst2, i);
    }
    this.exit(ExitCode.Lookup);
    while (this.labels[this.labels.length - 1] >= 0) this.close(); // labels never set
  }

  private op(op: Op): void {
    const a = op.args;
    const d = op.dst;
    switch (op.opc) {
      case Opc.Mov:
        this.operand(a[0]);
        this.setTemp(d!);
        break;
      case Opc.Add: case Opc.Sub: case Opc.Mul: case Opc.And: case Opc.Or: case Opc.Xor:
      case Opc.Shl: case Opc.Shr: case Opc.Sar:
        this.operand(a[0]);
        this.operand(a[1]);
        this.emit(I32_BINARY[op.opc]!);
        this.setTemp(d!);
        break;
      case Opc.Neg:
        this.i32(0);
        this.operand(a[0]);
        this.emit(W.i32Sub);
        this.setTemp(d!);
        break;
      case Opc.Not:
        this.operand(a[0]);
        this.i32(-1);
        this.emit(W.i32Xor);
        this.setTemp(d!);
        break;
      case Opc.ExtS:
        this.operand(a[0]);
        if (op.aux2 === 8) this.emit(W.i32Extend8S);
        else if (op.aux2 === 16) this.emit(W.i32Extend16S);
        else if (op.aux2 < 32) {
          this.i32(32 - op.aux2);
          this.emit(W.i32Shl);
          this.i32(32 - op.aux2);
          this.emit(W.i32ShrS);
        }
        this.setTemp(d!);
        break;
      case Opc.ExtU:
        this.operand(a[0]);
        if (op.aux2 < 32) {
          this.i32((1 << op.aux2) - 1);
          this.emit(W.i32And);
        }
        this.setTemp(d!);
        break;
      case Opc.SetCond:
        this.operand(a[0]);
        this.operand(a[1]);
        this.emit(I32_CMP[op.aux as Cond]);
        this.setTemp(d!);
        break;
      case Opc.MovCond:
        this.operand(a[2]);
        this.operand(a[3]);
        this.operand(a[0]);
        this.operand(a[1]);
        this.emit2(I32_CMP[op.aux as Cond], W.select);
        this.setTemp(d!);
        break;
      case Opc.SetCond2:
        this.pair(a[0], a[1]);
        this.pair(a[2], a[3]);
        this.emit(I64_CMP[op.aux as Cond]);
        this.setTemp(d!);
        break;
      case Opc.BrCond:
        this.operand(a[0]);
        this.operand(a[1]);
        this.emit2(I32_CMP[op.aux2 as Cond], W.brIf);
        this.w.uleb(this.depth(op.aux));
        break;
      case Opc.BrCond2:
        this.pair(a[0], a[1]);
        this.pair(a[2], a[3]);
        this.emit2(I64_CMP[op.aux2 as Cond], W.brIf);
        this.w.uleb(this.depth(op.aux));
        break;
      case Opc.Br:
        this.br(op.aux);
        break;
      case Opc.SetLabel:
        if (this.labels[this.labels.length - 1] !== op.aux) throw new Error('generateWasmRegion: labels out of order');
        this.close();
        break;
      case Opc.Add2: case Opc.Sub2:
        this.pair(a[0], a[1]);
        this.pair(a[2], a[3]);
        this.emit(op.opc === Opc.Add2 ? W.i64Add : W.i64Sub);
        this.splitInto(d, op.dst2);
        break;
      case Opc.Shl2: case Opc.Shr2: case Opc.Sar2:
        this.pair(a[0], a[1]);
        this.operand(a[2]);
        this.emit2(W.i64ExtendI32U, op.opc === Opc.Shl2 ? W.i64Shl : op.opc === Opc.Shr2 ? W.i64ShrU : W.i64ShrS);
        this.splitInto(d, op.dst2);
        break;
      case Opc.Load:
        this.load(op);
        break;
      case Opc.Store:
        this.store(op);
        break;
      case Opc.Call:
        this.call(op);
        break;
      case Opc.InsnStart:
        break;
      case Opc.GotoTb: {
        // The block code has already set the pc to the target.
        const target = this.members.get(op.pc);
        if (target) this.enter(target.insnCount);
        this.exit(this.single ? op.aux : ExitCode.RegionChainBase + 2 * this.blockIndex + op.aux);
        break;
      }
      case Opc.LookupAndGoto:
        if (!this.single) this.lookupMember();
        this.exit(ExitCode.Lookup);
        break;
      case Opc.ExitTb:
        this.exit(op.aux);
        break;
      default:
        throw new Error(`generateWasmRegion: unexpected op ${op.opc}`);
    }
  }

  private load(op: Op): void {
    const a = op.args;
    const mop = op.aux;
    const size = 1 << (mop & MemOp.SizeMask);
    // The read half of a read-modify-write needs write permission: test the write tag.
    const rmw = (mop & MEMOP_RMW) !== 0;
    this.tlbHit(a[0], a[1], size, rmw ? this.at.writeLo : this.at.readLo, rmw ? this.at.writeHi : this.at.readHi);
    this.open(W.if, LABEL_IF);
    this.get(L_TO);
    const register = size === 8 ? this.registerOf(op.dst, op.dst2) : undefined;
    if (register !== undefined) {
      this.memArg(W.i64Load, this.at.ram);
      this.set(register);
    } else {
      this.memArg(LOAD_OP[mop & 7], this.at.ram);
      this.setTemp(op.dst!);
      if (size === 8) {
        this.get(L_TO);
        this.memArg(W.i32Load, this.at.ram + 4);
        this.setTemp(op.dst2!);
      }
    }
    this.emit(W.else);
    this.operand(a[0]);
    this.operand(a[1]);
    this.i32(mop);
    this.i32(op.aux2);
    this.callSlot(CALL_LOAD_SLOW, 4, true);
    this.setTemp(op.dst!);
    this.exceptionCheck(op.aux2);
    if (size === 8) {
      this.loadWord(this.at.retHi);
      this.setTemp(op.dst2!);
    }
    this.close();
  }

  private store(op: Op): void {
    const a = op.args;
    const mop = op.aux;
    const sizeLog = mop & MemOp.SizeMask;
    this.tlbHit(a[2], a[3], 1 << sizeLog, this.at.writeLo, this.at.writeHi);
    this.open(W.if, LABEL_IF);
    this.get(L_TO);
    const register = sizeLog === 3 ? this.registerOf(a[0], a[1]) : undefined;
    if (register !== undefined) {
      this.get(register);
      this.memArg(W.i64Store, this.at.ram);
    } else {
      this.operand(a[0]);
      this.memArg(STORE_OP[sizeLog], this.at.ram);
      if (sizeLog === 3) {
        this.get(L_TO);
        this.operand(a[1]);
        this.memArg(W.i32Store, this.at.ram + 4);
      }
    }
    this.emit(W.else);
    for (const t of a) this.operand(t);
    this.i32(mop);
    this.i32(op.aux2);
    this.callSlot(CALL_STORE_SLOW, 6, false);
    this.exceptionCheck(op.aux2);
    this.close();
  }

  private call(op: Op): void {
    const a = op.args;
    if (op.aux === this.mul64Helper) {
      // Low 64 bits of a 64x64 product: one native multiply instead of a JS call.
      this.pair(a[0], a[1]);
      this.pair(a[2], a[3]);
      this.emit(W.i64Mul);
      this.splitInto(op.dst, op.dst2);
      return;
    }
    const h = this.helpers[op.aux];
    if (h.flags & (HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals)) this.writeBack();
    for (const t of a) this.operand(t);
    this.callSlot(CALL_TABLE_HELPERS + op.aux, helperParams(h), h.ret !== null);
    if (h.ret !== null) {
      if (op.dst) this.setTemp(op.dst);
      else this.emit(W.drop);
    }
    if (op.dst2) {
      this.loadWord(this.at.retHi);
      this.setTemp(op.dst2);
    }
    if (h.flags & HelperFlags.WritesGlobals) this.reload();
    if (h.flags & HelperFlags.MayRaise) this.exceptionCheck(op.aux2);
  }

  /** An indirect jump that lands on a member stays in the region: n = its length. */
  private lookupMember(): void {
    const pcSlot = this.pcSlot;
    this.i32(0);
    this.set(L_N);
    for (const m of this.blocks) {
      this.getWord(pcSlot); // the pc is one of the region's registers (see the constructor)
      this.i32(Number(BigInt.asIntN(32, m.pc)));
      this.emit(W.i32Eq);
      this.open(W.if, LABEL_IF);
      this.i32(m.insnCount);
      this.set(L_N);
      this.close();
    }
    this.get(L_N);
    if (pcSlot < this.pairedWords || this.globalLocal.has(pcSlot + 1)) this.getWord(pcSlot + 1);
    else this.loadWord(this.at.state + 4 * (pcSlot + 1));
    this.i32(this.pcHi);
    this.emit2(W.i32Eq, W.i32And); // n !== 0 (a non-zero count) && the high word matches
    this.open(W.if, LABEL_IF);
    this.enter(-1);
    this.close();
  }

  /** Pushes the soft-TLB hit test for an access of `size` bytes at (al, ah); sets ti and to. */
  private tlbHit(al: Temp, ah: Temp, size: number, tagLo: number, tagHi: number): void {
    this.operand(al);
    this.i32(12);
    this.emit(W.i32ShrU);
    this.i32(TLB_MASK);
    this.emit(W.i32And);
    this.i32(2);
    this.emit(W.i32Shl);
    this.set(L_TI);
    this.get(L_TI);
    this.memArg(W.i32Load, tagLo);
    this.operand(al);
    this.i32(-PAGE_SIZE);
    this.emit2(W.i32And, W.i32Eq);
    this.get(L_TI);
    this.memArg(W.i32Load, tagHi);
    this.operand(ah);
    this.emit2(W.i32Eq, W.i32And);
    if (size > 1) {
      this.operand(al);
      this.i32(PAGE_SIZE - 1);
      this.emit(W.i32And);
      this.i32(PAGE_SIZE - size);
      this.emit2(W.i32LeU, W.i32And);
    }
    // to = TO[ti] + page offset (computed even on a miss: harmless, and branch-free).
    this.get(L_TI);
    this.memArg(W.i32Load, this.at.ramOffset);
    this.operand(al);
    this.i32(PAGE_SIZE - 1);
    this.emit2(W.i32And, W.i32Add);
    this.set(L_TO);
  }

  // ---- The module ----

  /** The function around the members' code, in a module that imports memory and calls. */
  module(): Uint8Array<ArrayBuffer> {
    const at = this.at;
    const code = this.w.view();
    const f = new ByteWriter();
    // Locals: the scratch i32s; the scratch i64 and the paired registers' i64s; then the
    // other registers' and the temps' i32s.
    const i64s = 1 + this.pairLocal.size;
    f.byte(3);
    f.byte2(L_X64, T_I32);
    f.uleb(i64s);
    f.byte(T_I64);
    f.uleb(this.nextLocal - L_X64 - i64s);
    f.byte(T_I32);
    // <load registers> block X { loop { <members> } rc = Lookup } <store registers> rc
    this.moveRegisters(f, this.used, false);
    f.byte2(W.block, T_EMPTY);
    f.byte2(W.loop, T_EMPTY);
    f.array(code);
    f.array([W.end, W.i32Const, ExitCode.Lookup, W.localSet, L_RC, W.end]);
    this.moveRegisters(f, this.written, true);
    f.array([W.localGet, L_RC, W.end]);

    const mainType = this.typeIndex(0, true);
    const tableSize = CALL_TABLE_HELPERS + this.helpers.length;
    const imports: number[][] = [
      [...utf8('m'), ...utf8('mem'), KIND_MEMORY, 0x00, ...uleb(at.pages)],
      [...utf8('m'), ...utf8('calls'), KIND_TABLE, T_FUNCREF, 0x00, ...uleb(tableSize)],
    ];
    const funcIndex = 0; // the only function: the imports are a memory and a table
    const m = new ByteWriter();
    m.array(MODULE_HEADER);
    m.array(section(SEC_TYPE, vec(this.typeBytes)));
    m.array(section(SEC_IMPORT, vec(imports)));
    m.array(section(SEC_FUNCTION, vec([uleb(mainType)])));
    m.array(section(SEC_EXPORT, vec([[...utf8('run'), KIND_FUNC, ...uleb(funcIndex)]])));
    const fnSize = uleb(f.length);
    m.byte(SEC_CODE);
    m.uleb(1 + fnSize.length + f.length);
    m.byte(1); // one function body
    m.array(fnSize);
    m.array(f.view());
    return m.view().slice();
  }
}

/** i64.const immediates (signed LEB128) that keep one word of a register's i64. */
const HIGH_WORD_MASK = sleb(-0x100000000);
const LOW_WORD_MASK = sleb(0xffffffff);

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
