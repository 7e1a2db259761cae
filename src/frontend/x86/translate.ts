/**
 * x86 translation: decode (decode.ts, from the opcode table), then one trans_* handler
 * per table handler emits IR through a shared operand stage (load/store of E, G, I, ...
 * operands in every size, effective addresses with segment bases folded away in flat
 * modes) and lazy flags (flags.ts): a flag-setting instruction records its operands,
 * and conditions are derived from them where read; cmp + jcc in one block becomes one
 * compare and branch.
 *
 * Conventions. Values of 1-4 bytes are i32 temps holding the value zero-extended; 8-byte
 * values are i64. Within an instruction, every memory access that can fault comes before
 * any register or flag write, so a fault leaves the registers as they were before it.
 * The pc global holds the linear address of the next instruction at block exits.
 */
import { IrBuilder } from '../../ir/builder.js';
import { Cond, HelperTable, MemOp, Temp, Type } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW } from '../../backend/runtime.js';
import type { TranslationResult } from '../../accel/tcg/target.js';
import { X86Decoder, X86Insn, DecodeStatus, OpKind, RegClass } from './decode.js';
import { X86Handler, X86Translator, X86_ENTRY_FEATURE, X86_FEATURES, dispatch } from './decode-generated.js';
import { CcKind, ccOp, CC_OP_EFLAGS } from './flags.js';
import type { X86HelperIds } from './helpers.js';
import { SysOp } from './helpers.js';
import {
  AF, CF, FLAG_ADDSEG, FLAG_CS32, FLAG_CS64, FLAG_EM, FLAG_INHIBIT_IRQ, FLAG_ONE_INSN, FLAG_OSFXSR, FLAG_SS32, FLAG_TF, FLAG_TS, OF, PF, Seg,
  SF, Vector, ZF,
} from './state.js';

/** Upper bound on guest instructions per block. */
export const MAX_INSNS_PER_TB = 64;

export interface X86Globals {
  gpr: Temp[];
  pc: Temp;
  ccDst: Temp;
  ccSrc: Temp;
  ccSrc2: Temp;
  segBase: Temp[];
  ccOp: Temp;
  df: Temp;
  /** XMM register halves: [2r] bits 63:0, [2r + 1] bits 127:64. */
  xmm: Temp[];
  all: Temp[];
}

export interface X86TranslationResult extends TranslationResult {
  /** Each instruction's bytes (for -d in_asm). */
  insnBytes: Uint8Array[];
  /** 16, 32 or 64: the mode the block was decoded in. */
  codeSize: 16 | 32 | 64;
}

/** What the translator needs from the CPU: code bytes by linear address. */
export interface X86CodeFetcher {
  fetchByte(lo: number, hi: number): number;
}

/** Flags as the block knows them: the last flag-setting operation's values, when in this block. */
interface CcState {
  kind: CcKind;
  size: number;
  dst: Temp;
  src: Temp;
  src2: Temp | null;
}

const SIZE_LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];
const MASK32 = [0, 0xff, 0xffff, 0, -1];
const MOP = [0, MemOp.UB, MemOp.UW, 0, MemOp.UL, 0, 0, 0, MemOp.Q];

export class X86TranslatorImpl implements X86Translator {
  b!: IrBuilder;
  private readonly decoder = new X86Decoder();
  private readonly insn = new X86Insn();
  private flags = 0;
  private pc = 0n;
  private nextPc = 0n;
  private ended = false;
  private cc: CcState | null = null;
  /** The current instruction's memory operand address, once computed. */
  private eaCache: Temp | null = null;
  /** Which of the table's features the CPU model offers, by feature index. */
  private readonly offered: boolean[];

  constructor(
    private readonly g: X86Globals,
    private readonly helpers: HelperTable,
    private readonly H: X86HelperIds,
    features: Set<string>,
    /** Registers a decoded x87 instruction with the CPU; returns its index for the fpu helper. */
    private readonly registerFpu: (insn: X86Insn) => number,
    /** The same for MMX/SSE instructions and the simd helper. */
    private readonly registerSimd: (insn: X86Insn) => number,
  ) {
    this.offered = X86_FEATURES.map((f) => features.has(f));
    this.lzcnt = features.has('lzcnt');
  }
  /** F3 0F BD is LZCNT on CPUs with ABM, BSR otherwise. */
  private readonly lzcnt: boolean;

  // ---- block driver -------------------------------------------------------------------------

  translate(fetcher: X86CodeFetcher, pc: bigint, flags: number): X86TranslationResult | null {
    this.b = new IrBuilder(this.g.all, this.helpers);
    this.flags = flags;
    this.ended = false;
    this.cc = null;
    const codeSize: 16 | 32 | 64 = flags & FLAG_CS64 ? 64 : flags & FLAG_CS32 ? 32 : 16;
    const insnPcs: bigint[] = [];
    const insnBytes: Uint8Array[] = [];
    const insn = this.insn;
    const pageOf = (a: bigint) => a >> 12n;
    const mask = codeSize === 64 ? (1n << 64n) - 1n : 0xffffffffn;
    const oneInsn = (flags & (FLAG_TF | FLAG_INHIBIT_IRQ | FLAG_ONE_INSN)) !== 0;
    let cur = pc;
    for (let i = 0; i < MAX_INSNS_PER_TB && !this.ended; i++) {
      if (i > 0 && (pageOf(cur) !== pageOf(pc) || oneInsn)) break;
      const base = cur;
      const lo = Number(BigInt.asIntN(32, base)), hi = Number(BigInt.asIntN(32, base >> 32n));
      const st = this.decoder.decode(
        (k) => {
          const alo = (lo + k) | 0;
          return fetcher.fetchByte(alo, (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0);
        },
        codeSize,
        insn,
      );
      if (st === DecodeStatus.FetchFault) {
        // The first byte: the engine takes the fetch fault. Later bytes of a first
        // instruction that crosses into an unmapped page: raise it at this instruction.
        if (i === 0 && insn.faultOffset === 0) return null;
        if (i > 0) break;
      }
      const len = st === DecodeStatus.Ok ? insn.length : 1;
      // Only a block's first instruction may cross into the next page.
      if (i > 0 && pageOf((cur + BigInt(len) - 1n) & mask) !== pageOf(pc)) break;
      // REP string instructions loop on themselves: each starts a block of its own.
      if (i > 0 && st === DecodeStatus.Ok && this.isRepString(insn)) break;
      this.pc = cur;
      this.nextPc = (cur + BigInt(len)) & mask;
      this.eaCache = null;
      this.b.insnStart(cur);
      insnPcs.push(cur);
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = Math.max(0, fetcher.fetchByte((lo + k) | 0, hi + (((lo + k) >>> 0) < (lo >>> 0) ? 1 : 0)));
      insnBytes.push(bytes);
      if (st === DecodeStatus.FetchFault) {
        this.genRaisePending();
      } else if (st === DecodeStatus.TooLong) {
        this.genException(Vector.GP, 0);
      } else if (st === DecodeStatus.Invalid || !this.offered[X86_ENTRY_FEATURE[insn.entry]]) {
        this.genException(Vector.UD, -1);
      } else if (!dispatch(this, insn)) {
        this.genException(Vector.UD, -1);
      }
      cur = this.nextPc;
      if (!this.ended && flags & (FLAG_INHIBIT_IRQ | FLAG_ONE_INSN)) {
        // The instruction after STI / MOV SS, or the one run again alone, has run:
        // interrupts may be taken again, and blocks may be as long as usual.
        this.setPc(this.nextPc);
        this.sys(SysOp.ClearInhibit, 0, 0);
        this.b.exitTb(ExitCode.NoChain);
        this.ended = true;
      }
    }
    if (!this.ended) this.gotoTb(0, cur);
    return { builder: this.b, insnPcs, insnBytes, codeSize, insnCount: insnPcs.length, byteLength: Number(((cur - pc) & mask)) };
  }

  private isRepString(insn: X86Insn): boolean {
    if (insn.rep === 0 || insn.mandatoryPrefix !== 0) return false;
    const op = insn.opcode;
    return insn.map === 0 && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || (op >= 0x6c && op <= 0x6f));
  }

  // ---- small emitters -----------------------------------------------------------------------

  private get codeSize(): number {
    return this.flags & FLAG_CS64 ? 64 : this.flags & FLAG_CS32 ? 32 : 16;
  }
  private get mode64(): boolean {
    return (this.flags & FLAG_CS64) !== 0;
  }
  private get addSeg(): boolean {
    return (this.flags & FLAG_ADDSEG) !== 0;
  }
  private c32(v: number): Temp {
    return this.b.const32(v | 0);
  }
  private c64(v: bigint | number): Temp {
    return this.b.const64(typeof v === 'number' ? BigInt(v) : BigInt.asIntN(64, v));
  }
  private typeOf(size: number): Type {
    return size === 8 ? Type.I64 : Type.I32;
  }
  /** A constant of an operand's type, truncated to its size. */
  private cOf(size: number, v: number | bigint): Temp {
    if (size === 8) return this.c64(BigInt(v));
    const n = typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v;
    return this.c32(size === 4 ? n : n & MASK32[size]);
  }
  private mask(v: Temp, size: number): Temp {
    return size < 4 ? this.b.andi(v, MASK32[size]) : v;
  }
  /** Sign-extend a value of `size` bytes within its type. */
  private sext(v: Temp, size: number): Temp {
    return size < 4 ? this.b.exts(v, size * 8) : v;
  }
  private to64(v: Temp): Temp {
    return v.type === Type.I64 ? v : this.b.extI32(v, false);
  }
  private to64s(v: Temp, size: number): Temp {
    return v.type === Type.I64 ? v : this.b.extI32(this.sext(v, size), true);
  }
  /** Narrow or widen a value to an operand size's type (truncating). */
  private toSize(v: Temp, size: number): Temp {
    if (size === 8) return this.to64(v);
    const w = v.type === Type.I64 ? this.b.lo32(v) : v;
    return this.mask(w, size);
  }
  private mutable(type: Type): Temp {
    return this.b.mutableTemp(type);
  }

  private setPc(pc: bigint): void {
    this.b.assign(this.g.pc, this.c64(pc));
  }
  private gotoTb(slot: number, target: bigint): void {
    this.setPc(target);
    if (this.flags & FLAG_TF) return this.singleStepTrap();
    this.b.gotoTb(slot, target);
    this.ended = true;
  }
  /** End the block after this instruction and return to the engine loop. */
  private endNoChain(): void {
    this.setPc(this.nextPc);
    if (this.flags & FLAG_TF) return this.singleStepTrap();
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
  }
  /**
   * EFLAGS.TF was set when the instruction began: #DB after it, at the pc just stored
   * (blocks hold one instruction then). Transfers run by system helpers (far jumps,
   * INT, IRET, SYSCALL) end their blocks themselves and take no single-step trap yet.
   */
  private singleStepTrap(): void {
    this.sys(SysOp.SingleStep, 0, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
  }

  /** Raise exception `vector` (error code -1: none) at the current instruction. */
  private genException(vector: number, error: number): void {
    this.b.call(this.H.raise, [this.c32(vector), this.c32(error)]);
    this.b.exitTb(ExitCode.NoChain); // not reached: the helper always raises
    this.ended = true;
  }
  /** Raise the fault the decoder's fetch left pending in the CPU. */
  private genRaisePending(): void {
    this.sys(SysOp.RaisePending, 0, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
  }
  private ud(): boolean {
    this.genException(Vector.UD, -1);
    return true;
  }

  private sys(op: SysOp, arg: number | Temp, value: number | Temp): Temp {
    const a = typeof arg === 'number' ? this.c32(arg) : arg;
    const v = typeof value === 'number' ? this.c32(value) : value;
    return this.b.call(this.H.sys, [this.c32(op), a, v])!;
  }
  private sys64(op: SysOp, arg: number | Temp, a2: number | Temp, value64: Temp): Temp {
    const a = typeof arg === 'number' ? this.c32(arg) : arg;
    const v = typeof a2 === 'number' ? this.c32(a2) : a2;
    return this.b.call(this.H.sys64, [this.c32(op), a, v, this.to64(value64)])!;
  }

  // ---- registers ----------------------------------------------------------------------------

  /** General register r read at `size` bytes (high8: AH..BH). */
  private getReg(r: number, size: number, high8 = false): Temp {
    const g = this.g.gpr[r];
    // A copy: the value must not change when the instruction writes the register later.
    if (size === 8) return this.b.snapshot(g);
    const lo = this.b.lo32(g);
    if (size === 4) return lo;
    if (high8) return this.b.andi(this.b.shri(lo, 8), 0xff);
    return this.b.andi(lo, MASK32[size]);
  }
  /** Write general register r at `size` bytes: 32-bit writes zero the upper half, 8/16-bit ones merge. */
  private setReg(r: number, size: number, v: Temp, high8 = false): void {
    const g = this.g.gpr[r];
    const b = this.b;
    if (size === 8) b.assign(g, this.to64(v));
    else if (size === 4) b.assign(g, b.extI32(v.type === Type.I64 ? b.lo32(v) : v, false));
    else {
      const v32 = this.mask(v.type === Type.I64 ? b.lo32(v) : v, size);
      const shift = high8 ? 8 : 0;
      const keep = ~(MASK32[size] << shift);
      b.assign(g, b.or(b.and(g, this.c64(BigInt(keep))), b.extI32(shift ? b.shli(v32, 8) : v32, false)));
    }
  }

  // ---- addresses ----------------------------------------------------------------------------

  /** Linear address of segment `seg` + offset `off` (an address-size value, already truncated). */
  private linear(seg: number, off: Temp, _addrSize: number): Temp {
    const b = this.b;
    if (this.mode64) {
      const a = this.to64(off);
      return seg === Seg.FS || seg === Seg.GS ? b.add(a, this.g.segBase[seg]) : a;
    }
    const needBase = this.addSeg || seg === Seg.FS || seg === Seg.GS;
    const a32 = off.type === Type.I64 ? b.lo32(off) : off;
    if (!needBase) return b.extI32(a32, false);
    // Legacy linear addresses wrap at 4 GiB.
    return b.extI32(b.add(a32, b.lo32(this.g.segBase[seg])), false);
  }

  /** The offset (effective address) of the memory operand, at the address size. */
  private effectiveOffset(insn: X86Insn): Temp {
    const b = this.b;
    const as = insn.addrSize;
    if (as === 8) {
      if (insn.ripRelative) return this.c64(this.nextPc + BigInt(insn.disp));
      let a: Temp = this.c64((BigInt(insn.dispHi) << 32n) | BigInt(insn.disp >>> 0));
      if (insn.base >= 0) a = b.add(this.g.gpr[insn.base], a);
      if (insn.index >= 0) a = b.add(a, b.shli(this.g.gpr[insn.index], insn.scale));
      return a;
    }
    let a: Temp = this.c32(insn.disp);
    if (insn.ripRelative) a = this.c32(Number(BigInt.asIntN(32, this.nextPc + BigInt(insn.disp))));
    if (insn.base >= 0) a = b.add(b.lo32(this.g.gpr[insn.base]), a);
    if (insn.index >= 0) a = b.add(a, b.shli(b.lo32(this.g.gpr[insn.index]), insn.scale));
    return as === 2 ? b.andi(a, 0xffff) : a;
  }

  /** Linear address of the instruction's memory operand (computed once per instruction). */
  private ea(): Temp {
    if (this.eaCache) return this.eaCache;
    const insn = this.insn;
    return (this.eaCache = this.linear(insn.seg, this.effectiveOffset(insn), insn.addrSize));
  }

  private loadMem(addr: Temp, size: number, rmw = false): Temp {
    return this.b.load(this.typeOf(size), addr, (MOP[size] | (rmw ? MEMOP_RMW : 0)) as MemOp);
  }
  private storeMem(addr: Temp, size: number, v: Temp): void {
    this.b.store(this.toSize(v, size), addr, MOP[size] as MemOp);
  }

  // ---- operands -----------------------------------------------------------------------------

  private opSize(i: number): number {
    return this.insn.operands[i].size;
  }
  /** Operand i's value at its size. `rmw`: the operand will be written too (loads check write access). */
  private load(i: number, rmw = false): Temp {
    const insn = this.insn;
    const op = insn.operands[i];
    const size = op.size;
    switch (op.kind) {
      case OpKind.Reg:
        if (op.regClass === RegClass.GPR) return this.getReg(op.reg, size);
        if (op.regClass === RegClass.GPR8_HIGH) return this.getReg(op.reg, 1, true);
        if (op.regClass === RegClass.SEG) return this.sys(SysOp.ReadSeg, op.reg, 0);
        throw new Error(`x86 translate: register class ${op.regClass} as a value`);
      case OpKind.Mem:
        return this.loadMem(this.ea(), size, rmw);
      case OpKind.Imm:
      case OpKind.Rel: {
        if (size === 8) {
          const hi = op.value === insn.imm ? insn.immHi : op.value >> 31;
          return this.c64((BigInt(hi) << 32n) | BigInt(op.value >>> 0));
        }
        return this.cOf(size, op.value);
      }
      default:
        throw new Error(`x86 translate: operand kind ${op.kind} as a value`);
    }
  }
  private store(i: number, v: Temp): void {
    const op = this.insn.operands[i];
    const size = op.size;
    if (op.kind === OpKind.Reg) {
      if (op.regClass === RegClass.GPR) this.setReg(op.reg, size, v);
      else if (op.regClass === RegClass.GPR8_HIGH) this.setReg(op.reg, 1, v, true);
      else throw new Error(`x86 translate: register class ${op.regClass} as a destination`);
    } else if (op.kind === OpKind.Mem) {
      this.storeMem(this.ea(), size, v);
    } else {
      throw new Error(`x86 translate: operand kind ${op.kind} as a destination`);
    }
  }
  private isMem(i: number): boolean {
    return this.insn.operands[i].kind === OpKind.Mem;
  }

  // ---- flags -------------------------------------------------------------------------------

  /** Record a flag-setting operation (values at their operand size). */
  private setCc(kind: CcKind, size: number, dst: Temp, src: Temp, src2: Temp | null = null): void {
    const b = this.b;
    b.assign(this.g.ccOp, this.c32(ccOp(kind, SIZE_LOG2[size])));
    b.assign(this.g.ccDst, this.to64(dst));
    b.assign(this.g.ccSrc, this.to64(src));
    if (src2) b.assign(this.g.ccSrc2, this.to64(src2));
    this.cc = { kind, size, dst, src, src2 };
  }
  /** Flags computed eagerly (an i32 with the six flags). */
  private setCcEflags(flags: Temp): void {
    const b = this.b;
    b.assign(this.g.ccOp, this.c32(CC_OP_EFLAGS));
    b.assign(this.g.ccSrc, this.to64(flags));
    this.cc = { kind: CcKind.Eflags, size: 4, dst: this.c32(0), src: flags, src2: null };
  }
  /** The six arithmetic flags as an i32. */
  private flagsAll(): Temp {
    if (this.cc?.kind === CcKind.Eflags) return this.cc.src;
    const g = this.g;
    return this.b.call(this.H.ccCompute, [g.ccOp, g.ccDst, g.ccSrc, g.ccSrc2])!;
  }
  /** CF as 0/1 (i32). */
  private carry(): Temp {
    const b = this.b;
    const cc = this.cc;
    if (cc) {
      const z = (v: Temp) => v;
      switch (cc.kind) {
        case CcKind.Add: return b.setcond(Cond.LTU, z(cc.dst), z(cc.src), Type.I32);
        case CcKind.Sub: return b.setcond(Cond.LTU, z(cc.src2!), z(cc.src), Type.I32);
        case CcKind.Logic: return this.c32(0);
        case CcKind.Inc: case CcKind.Dec: return cc.src.type === Type.I64 ? b.lo32(cc.src) : cc.src;
        default: break;
      }
    }
    return b.andi(this.flagsAll(), CF);
  }

  /** Condition code `c` (the SDM's tttn encoding) as i32 0/1. */
  private condition(c: number): Temp {
    const b = this.b;
    const neg = (c & 1) !== 0;
    const t = this.conditionPositive(c >> 1);
    return neg ? b.xor(t, this.c32(1)) : t;
  }
  private conditionPositive(base: number): Temp {
    const b = this.b;
    const cc = this.cc;
    if (cc && cc.kind !== CcKind.Eflags) {
      const size = cc.size;
      const zero = this.cOf(size, 0);
      const signed = (v: Temp) => this.sext(v, size);
      const direct = (() => {
        switch (base) {
          case 2: return b.setcond(Cond.EQ, cc.dst, zero, Type.I32); // Z
          case 4: return b.setcond(Cond.LT, signed(cc.dst), zero, Type.I32); // S
        }
        if (cc.kind === CcKind.Sub) {
          const a = cc.src2!, s = cc.src;
          switch (base) {
            case 1: return b.setcond(Cond.LTU, a, s, Type.I32); // B
            case 3: return b.setcond(Cond.LEU, a, s, Type.I32); // BE
            case 6: return b.setcond(Cond.LT, signed(a), signed(s), Type.I32); // L
            case 7: return b.setcond(Cond.LE, signed(a), signed(s), Type.I32); // LE
          }
        }
        if (cc.kind === CcKind.Logic) {
          switch (base) {
            case 0: case 1: return this.c32(0); // O, B
            case 3: return b.setcond(Cond.EQ, cc.dst, zero, Type.I32); // BE = Z
            case 6: return b.setcond(Cond.LT, signed(cc.dst), zero, Type.I32); // L = S
            case 7: return b.setcond(Cond.LE, signed(cc.dst), zero, Type.I32); // LE
          }
        }
        if (cc.kind === CcKind.Add && base === 1) return b.setcond(Cond.LTU, cc.dst, cc.src, Type.I32);
        return null;
      })();
      if (direct) return direct;
    }
    const f = this.flagsAll();
    const bit = (m: number) => b.setcond(Cond.NE, b.andi(f, m), this.c32(0), Type.I32);
    switch (base) {
      case 0: return bit(OF);
      case 1: return bit(CF);
      case 2: return bit(ZF);
      case 3: return bit(CF | ZF);
      case 4: return bit(SF);
      case 5: return bit(PF);
      case 6: return b.setcond(Cond.NE, b.andi(b.xor(b.shri(f, 11), b.shri(f, 7)), 1), this.c32(0), Type.I32); // SF != OF
      default: {
        const lt = b.andi(b.xor(b.shri(f, 11), b.shri(f, 7)), 1);
        return b.or(lt, b.andi(b.shri(f, 6), 1)); // ZF or SF != OF
      }
    }
  }

  // ---- control transfer helpers --------------------------------------------------------------

  /** rIP of a linear pc (for pushing return addresses). */
  private ripOf(linear: bigint): Temp {
    if (this.mode64 || !this.addSeg) return this.cOf(this.codeSize === 16 ? 2 : 4, Number(BigInt.asIntN(32, linear))) ;
    return this.b.sub(this.c32(Number(BigInt.asIntN(32, linear))), this.b.lo32(this.g.segBase[Seg.CS]));
  }
  /** Jump to rIP value `eip` (a temp of the operand size): pc = CS.base + eip. */
  private jumpToRip(eip: Temp, opSize: number): void {
    const b = this.b;
    let target: Temp;
    if (this.mode64) target = this.to64(opSize === 8 ? eip : this.mask(eip, opSize));
    else {
      const e = this.mask(eip.type === Type.I64 ? b.lo32(eip) : eip, opSize);
      target = b.extI32(this.addSeg ? b.add(e, b.lo32(this.g.segBase[Seg.CS])) : e, false);
    }
    b.assign(this.g.pc, target);
    if (this.flags & FLAG_TF) return this.singleStepTrap();
    b.lookupAndGoto();
    this.ended = true;
  }
  /** A relative branch target: a constant linear pc where it can be, else computed. */
  private relTarget(rel: number): bigint | null {
    const opSize = this.insn.opSize;
    if (this.mode64) return BigInt.asUintN(64, this.nextPc + BigInt(rel));
    if (opSize === 2 || this.codeSize === 16) return null; // 16-bit IP wraps within CS: computed at run time
    return BigInt.asUintN(32, this.nextPc + BigInt(rel));
  }
  private jumpRel(rel: number, slot: number): void {
    const t = this.relTarget(rel);
    if (t !== null) {
      this.gotoTb(slot, t);
      return;
    }
    const eip = this.b.add(this.ripOf(this.nextPc), this.c32(rel));
    this.jumpToRip(eip, 2);
  }

  // ---- stack ---------------------------------------------------------------------------------

  private get stackSize(): number {
    return this.mode64 ? 8 : this.flags & FLAG_SS32 ? 4 : 2;
  }
  /** The stack pointer at the stack width, as a value of that width. */
  private sp(): Temp {
    return this.getReg(4, this.stackSize);
  }
  private stackAddr(sp: Temp): Temp {
    return this.linear(Seg.SS, sp, this.stackSize);
  }
  private setSp(v: Temp): void {
    this.setReg(4, this.stackSize, v);
  }
  private push(v: Temp, size: number): void {
    const sp = this.b.sub(this.sp(), this.cOf(this.stackSize, size));
    const spm = this.mask(sp, this.stackSize);
    this.storeMem(this.stackAddr(spm), size, v);
    this.setSp(spm);
  }
  /** Load the top of stack without popping (so that faults leave rSP alone). */
  private peek(size: number, offset = 0): Temp {
    const sp = offset ? this.mask(this.b.add(this.sp(), this.cOf(this.stackSize, offset)), this.stackSize) : this.sp();
    return this.loadMem(this.stackAddr(sp), size);
  }
  private dropStack(bytes: number): void {
    this.setSp(this.mask(this.b.add(this.sp(), this.cOf(this.stackSize, bytes)), this.stackSize));
  }

  // ---- arithmetic ---------------------------------------------------------------------------

  private alu(kind: CcKind, write = true): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const a = this.load(0, write);
    const v = this.load(1);
    let r: Temp;
    let src2: Temp | null = null;
    switch (kind) {
      case CcKind.Add: r = b.add(a, v); break;
      case CcKind.Sub: r = b.sub(a, v); src2 = a; break;
      case CcKind.Adc: {
        const c = this.carry();
        const c2 = size === 8 ? b.extI32(c, false) : c;
        r = b.add(b.add(a, v), c2);
        src2 = c2;
        break;
      }
      case CcKind.Sbb: {
        const c = this.carry();
        const c2 = size === 8 ? b.extI32(c, false) : c;
        r = b.sub(b.sub(a, v), c2);
        src2 = c2;
        break;
      }
      default: throw new Error('alu kind');
    }
    r = this.mask(r, size);
    if (write) this.store(0, r);
    this.setCc(kind, size, r, v, src2);
    return true;
  }
  private logic(op: 'and' | 'or' | 'xor', write = true): boolean {
    const size = this.opSize(0);
    const insn = this.insn;
    // xor r, r: the common way to zero a register (no dependence on its value).
    const same = op === 'xor' && insn.operands[0].kind === OpKind.Reg && insn.operands[1].kind === OpKind.Reg &&
      insn.operands[0].reg === insn.operands[1].reg && insn.operands[0].regClass === insn.operands[1].regClass;
    const a = same ? this.cOf(size, 0) : this.load(0, write);
    const v = same ? a : this.load(1);
    const r = same ? a : this.b[op](a, v);
    if (write) this.store(0, r);
    this.setCc(CcKind.Logic, size, r, this.cOf(size, 0));
    return true;
  }

  trans_ADD(): boolean { return this.alu(CcKind.Add); }
  trans_ADC(): boolean { return this.alu(CcKind.Adc); }
  trans_SUB(): boolean { return this.alu(CcKind.Sub); }
  trans_SBB(): boolean { return this.alu(CcKind.Sbb); }
  trans_CMP(): boolean { return this.alu(CcKind.Sub, false); }
  trans_AND(): boolean { return this.logic('and'); }
  trans_OR(): boolean { return this.logic('or'); }
  trans_XOR(): boolean { return this.logic('xor'); }
  trans_TEST(): boolean { return this.logic('and', false); }

  private incDec(kind: CcKind.Inc | CcKind.Dec): boolean {
    const size = this.opSize(0);
    const a = this.load(0, true);
    const cf = this.carry();
    const r = this.mask(kind === CcKind.Inc ? this.b.add(a, this.cOf(size, 1)) : this.b.sub(a, this.cOf(size, 1)), size);
    this.store(0, r);
    this.setCc(kind, size, r, size === 8 ? this.b.extI32(cf, false) : cf);
    return true;
  }
  trans_INC(): boolean { return this.incDec(CcKind.Inc); }
  trans_DEC(): boolean { return this.incDec(CcKind.Dec); }

  trans_NEG(): boolean {
    const size = this.opSize(0);
    const a = this.load(0, true);
    const zero = this.cOf(size, 0);
    const r = this.mask(this.b.sub(zero, a), size);
    this.store(0, r);
    this.setCc(CcKind.Sub, size, r, a, zero);
    return true;
  }
  trans_NOT(): boolean {
    const size = this.opSize(0);
    const a = this.load(0, true);
    this.store(0, this.mask(this.b.not(a), size));
    return true;
  }

  // ---- moves ----------------------------------------------------------------------------------

  trans_MOV(): boolean {
    const v = this.load(1);
    this.store(0, v);
    return true;
  }
  trans_MOVNTI(): boolean { return this.trans_MOV(); }
  private extendMove(signed: boolean): boolean {
    const src = this.opSize(1), dst = this.opSize(0);
    let v = this.load(1);
    if (signed) v = dst === 8 ? this.to64s(v, src) : this.mask(this.sext(v, src), dst);
    this.store(0, dst === 8 ? this.to64(v) : this.mask(v, dst));
    return true;
  }
  trans_MOVZX(): boolean { return this.extendMove(false); }
  trans_MOVSX(): boolean { return this.extendMove(true); }
  trans_MOVSXD(): boolean { return this.extendMove(true); }

  trans_LEA(): boolean {
    const insn = this.insn;
    const off = this.effectiveOffset(insn);
    this.store(0, this.toSize(off, this.opSize(0)));
    return true;
  }

  trans_XCHG(): boolean {
    const a = this.load(0, true);
    const v = this.load(1, true);
    // Memory first (it may fault), then the register.
    if (this.isMem(1)) {
      this.store(1, a);
      this.store(0, v);
    } else {
      this.store(0, v);
      this.store(1, a);
    }
    return true;
  }

  trans_CBW(): boolean {
    const size = this.insn.opSize;
    const half = size / 2;
    this.setReg(0, size, size === 8 ? this.to64s(this.getReg(0, 4), 4) : this.mask(this.sext(this.getReg(0, half), half), size));
    return true;
  }
  trans_CWD(): boolean {
    const size = this.insn.opSize;
    const a = this.sext(this.getReg(0, size), size);
    this.setReg(2, size, this.mask(this.b.sari(a, size === 8 ? 63 : 31), size));
    return true;
  }

  trans_CMOVCC(): boolean {
    const size = this.opSize(0);
    const v = this.load(1);
    const cur = this.getReg(this.insn.operands[0].reg, size);
    const c = this.condition(this.insn.cond);
    this.store(0, this.b.movcond(Cond.NE, c, this.c32(0), v, cur));
    return true;
  }
  trans_SETCC(): boolean {
    this.store(0, this.condition(this.insn.cond));
    return true;
  }

  // ---- flags instructions ----------------------------------------------------------------------

  private modifyFlags(fn: (f: Temp) => Temp): boolean {
    this.setCcEflags(fn(this.flagsAll()));
    return true;
  }
  trans_CLC(): boolean { return this.modifyFlags((f) => this.b.andi(f, ~CF)); }
  trans_STC(): boolean { return this.modifyFlags((f) => this.b.or(f, this.c32(CF))); }
  trans_CMC(): boolean { return this.modifyFlags((f) => this.b.xor(f, this.c32(CF))); }
  trans_CLD(): boolean {
    this.b.assign(this.g.df, this.c32(1));
    return true;
  }
  trans_STD(): boolean {
    this.b.assign(this.g.df, this.c32(-1));
    return true;
  }
  trans_LAHF(): boolean {
    const f = this.flagsAll();
    this.setReg(0, 1, this.b.or(this.b.andi(f, SF | ZF | AF | PF | CF), this.c32(2)), true);
    return true;
  }
  trans_SAHF(): boolean {
    const ah = this.getReg(0, 1, true);
    const mask = SF | ZF | AF | PF | CF;
    return this.modifyFlags((f) => this.b.or(this.b.andi(f, ~mask), this.b.andi(ah, mask)));
  }
  trans_SALC(): boolean {
    this.setReg(0, 1, this.b.neg(this.carry()));
    return true;
  }
  trans_CLI(): boolean { return this.sysInsn(SysOp.Cli); }
  trans_STI(): boolean { return this.sysInsn(SysOp.Sti, true); }
  trans_PUSHF(): boolean {
    const size = this.insn.opSize;
    const f = this.b.call(this.H.eflagsRead, [])!;
    this.push(this.toSize(this.b.andi(f, ~0x30000), size), size); // VM and RF read as 0
    return true;
  }
  trans_POPF(): boolean {
    const size = this.insn.opSize;
    const v = this.peek(size);
    this.b.call(this.H.eflagsWrite, [size === 8 ? this.b.lo32(v) : v, this.c32(size)]);
    this.dropStack(size);
    this.cc = null;
    this.endNoChain();
    return true;
  }

  // ---- stack instructions --------------------------------------------------------------------

  trans_PUSH(): boolean {
    const size = this.insn.operands[0].kind === OpKind.Imm ? this.insn.opSize : this.opSize(0);
    // PUSH rSP pushes the value before the push.
    const v = this.load(0);
    this.push(this.toSize(size === 8 ? this.to64s(v, this.opSize(0)) : this.sext(v, this.opSize(0)), size), size);
    return true;
  }
  trans_POP(): boolean {
    const size = this.opSize(0);
    const v = this.peek(size);
    if (this.isMem(0)) {
      // POP to memory: the address uses rSP after the pop.
      const newSp = this.mask(this.b.add(this.sp(), this.cOf(this.stackSize, size)), this.stackSize);
      this.setSp(newSp);
      this.eaCache = null;
      this.store(0, v);
      return true;
    }
    this.dropStack(size);
    this.store(0, v);
    return true;
  }
  trans_PUSH_SEG(): boolean {
    const size = this.insn.opSize;
    const sel = this.sys(SysOp.ReadSeg, this.insn.operands[0].reg, 0);
    // A segment push of 32/64 bits writes only the low 16 bits on many CPUs; QEMU writes all of them.
    this.push(this.toSize(sel, size), size);
    return true;
  }
  trans_POP_SEG(): boolean {
    const size = this.insn.opSize;
    const v = this.peek(size);
    this.sys(SysOp.LoadSeg, this.insn.operands[0].reg, size === 8 ? this.b.lo32(v) : v);
    this.dropStack(size);
    this.endNoChain();
    return true;
  }
  trans_PUSHA(): boolean {
    const size = this.insn.opSize;
    const b = this.b;
    const sp0 = this.sp();
    // Stores first, from the lowest address the last register goes to; then rSP.
    for (let r = 0; r < 8; r++) {
      const v = r === 4 ? this.mask(sp0, size) : this.getReg(r, size);
      const at = this.mask(b.sub(sp0, this.cOf(this.stackSize, (r + 1) * size)), this.stackSize);
      this.storeMem(this.stackAddr(at), size, this.toSize(v, size));
    }
    this.setSp(this.mask(b.sub(sp0, this.cOf(this.stackSize, 8 * size)), this.stackSize));
    return true;
  }
  trans_POPA(): boolean {
    const size = this.insn.opSize;
    const vals: Temp[] = [];
    for (let r = 7; r >= 0; r--) vals[r] = this.peek(size, (7 - r) * size);
    for (let r = 0; r < 8; r++) if (r !== 4) this.setReg(r, size, vals[r]);
    this.dropStack(8 * size);
    return true;
  }
  trans_LEAVE(): boolean {
    const size = this.insn.opSize;
    const b = this.b;
    // rSP = rBP (at the stack width), then pop rBP.
    const bp = this.getReg(5, this.stackSize);
    const v = this.loadMem(this.stackAddr(bp), size);
    this.setSp(this.mask(b.add(bp, this.cOf(this.stackSize, size)), this.stackSize));
    this.setReg(5, size, v);
    return true;
  }
  trans_ENTER(): boolean {
    const insn = this.insn;
    this.sys64(SysOp.Enter, insn.imm2 & 31, insn.opSize, this.c64(insn.imm & 0xffff));
    return true;
  }

  // ---- branches ---------------------------------------------------------------------------------

  trans_JMP(): boolean {
    const op = this.insn.operands[0];
    if (op.kind === OpKind.Rel) {
      this.jumpRel(op.value, 0);
      return true;
    }
    this.jumpToRip(this.load(0), op.size);
    return true;
  }
  trans_JCC(): boolean {
    const b = this.b;
    const taken = b.newLabel();
    b.brcond(Cond.NE, this.condition(this.insn.cond), this.c32(0), taken);
    this.gotoTb(1, this.nextPc);
    this.ended = false;
    b.setLabel(taken);
    this.jumpRel(this.insn.operands[0].value, 0);
    return true;
  }
  private countReg(): Temp {
    return this.getReg(1, this.insn.addrSize);
  }
  trans_JRCXZ(): boolean {
    const b = this.b;
    const taken = b.newLabel();
    b.brcond(Cond.EQ, this.countReg(), this.cOf(this.insn.addrSize, 0), taken);
    this.gotoTb(1, this.nextPc);
    this.ended = false;
    b.setLabel(taken);
    this.jumpRel(this.insn.operands[0].value, 0);
    return true;
  }
  private loop(cond: number): boolean {
    const b = this.b;
    const as = this.insn.addrSize;
    const zf = cond >= 0 ? this.condition(cond) : null; // read before rCX changes nothing in flags, but keep order clear
    const n = this.mask(b.sub(this.countReg(), this.cOf(as, 1)), as);
    this.setReg(1, as, n);
    const exit = b.newLabel();
    b.brcond(Cond.EQ, n, this.cOf(as, 0), exit);
    if (zf) b.brcond(Cond.EQ, zf, this.c32(0), exit);
    this.jumpRel(this.insn.operands[0].value, 0);
    this.ended = false;
    b.setLabel(exit);
    this.gotoTb(1, this.nextPc);
    return true;
  }
  trans_LOOP(): boolean { return this.loop(-1); }
  trans_LOOPE(): boolean { return this.loop(4); } // ZF = 1
  trans_LOOPNE(): boolean { return this.loop(5); } // ZF = 0

  trans_CALL(): boolean {
    const op = this.insn.operands[0];
    const size = this.insn.opSize;
    const ret = this.ripOf(this.nextPc);
    if (op.kind === OpKind.Rel) {
      this.push(this.toSize(ret, size), size);
      this.jumpRel(op.value, 0);
      return true;
    }
    const target = this.load(0);
    this.push(this.toSize(ret, size), size);
    this.jumpToRip(target, size);
    return true;
  }
  trans_RET(): boolean {
    const size = this.insn.opSize;
    const v = this.peek(size);
    const release = this.insn.nOperands > 0 ? this.insn.operands[0].value & 0xffff : 0;
    this.dropStack(size + release);
    this.jumpToRip(v, size);
    return true;
  }

  // Far transfers, interrupts and returns: helpers (they may switch modes and stacks).
  trans_JMPF(): boolean { return this.farTransfer(false); }
  trans_CALLF(): boolean { return this.farTransfer(true); }
  private farTransfer(call: boolean): boolean {
    const insn = this.insn;
    const op = insn.operands[0];
    const size = insn.opSize;
    let sel: Temp, off: Temp;
    if (op.kind === OpKind.FarPtr) {
      sel = this.c32(insn.imm2 & 0xffff);
      off = this.c64(BigInt(op.value >>> 0));
    } else {
      const addr = this.ea();
      off = this.to64(this.loadMem(addr, size));
      sel = this.loadMem(this.b.add(addr, this.c64(size)), 2);
    }
    this.setPc(this.nextPc);
    this.sys64(SysOp.FarJump, (call ? 1 : 0) | (size << 4), sel, off);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    this.cc = null;
    return true;
  }
  trans_RETF(): boolean {
    const insn = this.insn;
    const release = insn.nOperands > 0 ? insn.operands[0].value & 0xffff : 0;
    this.sys(SysOp.FarRet, insn.opSize, release);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }
  private softInt(vector: number): boolean {
    this.setPc(this.nextPc);
    this.sys(SysOp.Int, vector, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }
  trans_INT(): boolean { return this.softInt(this.insn.operands[0].value & 0xff); }
  trans_INT3(): boolean { return this.softInt(Vector.BP); }
  trans_INT1(): boolean { return this.softInt(Vector.DB); }
  trans_INTO(): boolean {
    const b = this.b;
    const skip = b.newLabel();
    b.brcond(Cond.EQ, this.condition(0), this.c32(0), skip);
    this.softInt(Vector.OF);
    this.ended = false;
    b.setLabel(skip);
    this.gotoTb(0, this.nextPc);
    return true;
  }
  trans_IRET(): boolean {
    this.sys(SysOp.Iret, 0, this.insn.opSize);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    this.cc = null;
    return true;
  }
  trans_SYSCALL(): boolean {
    this.setPc(this.nextPc);
    this.sys(SysOp.Syscall, 0, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }
  trans_SYSRET(): boolean { return this.modeChange(SysOp.Sysret, this.insn.opSize); }
  trans_SYSENTER(): boolean {
    this.sys(SysOp.Sysenter, 0, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }
  trans_SYSEXIT(): boolean { return this.modeChange(SysOp.Sysexit, this.insn.opSize); }

  // ---- shifts and rotates -----------------------------------------------------------------------

  private shiftCount(i: number, size: number): Temp {
    const v = this.load(i);
    const c = v.type === Type.I64 ? this.b.lo32(v) : v;
    return this.b.andi(c, size === 8 ? 63 : 31);
  }
  /**
   * The common tail of shifts and rotates: run `finish` (result, store and flags) unless
   * the masked count is 0, which changes nothing, flags included; but a 32-bit register
   * is still written, zero-extending it in 64-bit mode as every 32-bit write does (the
   * CPU does; QEMU too).
   */
  private byCount(size: number, a: Temp, count: Temp, finish: (count: Temp) => void): boolean {
    const b = this.b;
    if (size === 4 && !this.isMem(0)) this.store(0, a);
    if (count.isConst) {
      if (count.value !== 0) finish(count);
      return true;
    }
    const skip = b.newLabel();
    b.brcond(Cond.EQ, count, this.c32(0), skip);
    finish(count);
    b.setLabel(skip);
    this.cc = null;
    return true;
  }
  private shift(kind: 'shl' | 'shr' | 'sar'): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const a = this.load(0, true);
    const count = this.shiftCount(1, size);
    const wide = size === 8;
    const amount = (c: Temp) => (wide ? b.extI32(c, false) : c);
    const apply = (v: Temp, c: Temp) => {
      switch (kind) {
        case 'shl': return b.shl(v, amount(c));
        case 'shr': return b.shr(v, amount(c));
        default: return b.sar(this.sext(v, size), amount(c));
      }
    };
    const finish = (c: Temp) => {
      const r = this.mask(apply(a, c), size);
      const prev = this.mask(apply(a, b.sub(c, this.c32(1))), size);
      this.store(0, r);
      this.setCc(kind === 'shl' ? CcKind.Shl : CcKind.Sar, size, r, prev);
    };
    return this.byCount(size, a, count, finish);
  }
  trans_SHL(): boolean { return this.shift('shl'); }
  trans_SHR(): boolean { return this.shift('shr'); }
  trans_SAR(): boolean { return this.shift('sar'); }

  /** RCL RCR and 16-bit SHLD SHRD through the rotate helper (it computes the flags too). */
  private rotate(op: number, hasSecond = false): boolean {
    const size = this.opSize(0);
    const a = this.load(0, true);
    const other = hasSecond ? this.to64(this.load(1)) : this.c64(0);
    const count = this.shiftCount(hasSecond ? 2 : 1, size);
    const r = this.b.call(this.H.rotate, [this.c32(op | (size << 4)), this.to64(a), other, count])!;
    this.store(0, this.toSize(r, size));
    this.cc = null;
    return true;
  }
  /** ROL/ROR in IR: they are common in hashing code (the helper handles RCL/RCR/SHLD/SHRD). */
  private rotateIr(left: boolean): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const bits = size * 8;
    const a = this.load(0, true);
    const count = this.shiftCount(1, size);
    const finish = (c: Temp) => {
      const n = b.andi(c, bits - 1);
      const wide = size === 8;
      const amt = (x: Temp) => (wide ? b.extI32(x, false) : x);
      const back = b.sub(this.c32(bits), n);
      const r = this.mask(left ? b.or(b.shl(a, amt(n)), b.shr(a, amt(back))) : b.or(b.shr(a, amt(n)), b.shl(a, amt(back))), size);
      this.store(0, r);
      // CF: the bit rotated into the end; OF: defined for count 1 (computed always, as QEMU does).
      const r32 = wide ? b.hi32(r) : r;
      const lowWord = wide ? b.lo32(r) : r;
      const topBit = wide ? 31 : bits - 1;
      const msb = b.andi(b.shri(r32, topBit), 1);
      const cf = left ? b.andi(lowWord, 1) : msb;
      const of = left ? b.xor(msb, cf) : b.xor(msb, b.andi(b.shri(r32, topBit - 1), 1));
      const f = this.flagsAll();
      this.setCcEflags(b.or(b.andi(f, ~(CF | OF)), b.or(cf, b.shli(of, 11))));
    };
    return this.byCount(size, a, count, finish);
  }
  trans_ROL(): boolean { return this.rotateIr(true); }
  trans_ROR(): boolean { return this.rotateIr(false); }
  trans_RCL(): boolean { return this.rotate(2); }
  trans_RCR(): boolean { return this.rotate(3); }
  /**
   * SHLD/SHRD in IR at 32 and 64 bits (i386 code does every 64-bit shift with them); the
   * 16-bit forms, whose counts above 16 QEMU treats specially, go to the helper. Flags
   * as a shift of the destination: the value shifted by count - 1 gives CF and OF.
   */
  private doubleShift(left: boolean): boolean {
    const size = this.opSize(0);
    if (size === 2) return this.rotate(left ? 4 : 5, true);
    const b = this.b;
    const a = this.load(0, true);
    const v = this.load(1);
    const count = this.shiftCount(2, size);
    const finish = (n: Temp) => {
      let r: Temp, prev: Temp;
      if (size === 4) {
        // The two operands as one 64-bit value, shifted as a whole.
        const wide = left ? b.concat(v, a) : b.concat(a, v);
        const n64 = b.extI32(n, false);
        const n1 = b.extI32(b.sub(n, this.c32(1)), false);
        if (left) {
          r = b.hi32(b.shl(wide, n64));
          prev = b.hi32(b.shl(wide, n1));
        } else {
          r = b.lo32(b.shr(wide, n64));
          prev = b.lo32(b.shr(wide, n1));
        }
      } else {
        const n64 = b.extI32(n, false);
        const n1 = b.extI32(b.sub(n, this.c32(1)), false);
        const back = b.extI32(b.sub(this.c32(64), n), false);
        const back1 = b.extI32(b.sub(this.c32(65), n), false);
        if (left) {
          r = b.or(b.shl(a, n64), b.shr(v, back));
          prev = b.movcond(Cond.EQ, n, this.c32(1), a, b.or(b.shl(a, n1), b.shr(v, back1)));
        } else {
          r = b.or(b.shr(a, n64), b.shl(v, back));
          prev = b.movcond(Cond.EQ, n, this.c32(1), a, b.or(b.shr(a, n1), b.shl(v, back1)));
        }
      }
      this.store(0, r);
      this.setCc(left ? CcKind.Shl : CcKind.Sar, size, r, prev);
    };
    return this.byCount(size, a, count, finish);
  }
  trans_SHLD(): boolean { return this.doubleShift(true); }
  trans_SHRD(): boolean { return this.doubleShift(false); }

  // ---- multiply and divide ------------------------------------------------------------------------

  /** Full product of two values of `size` as (low, high) of that size. */
  private product(a: Temp, v: Temp, size: number, signed: boolean): [Temp, Temp] {
    const b = this.b;
    if (size === 8) {
      const lo = b.call(this.H.mul64, [a, v])!;
      const hi = b.call(this.H.mulWide, [this.c32(signed ? 1 : 0), a, v])!;
      return [lo, hi];
    }
    const ext = (x: Temp) => (signed ? b.extI32(this.sext(x, size), true) : b.extI32(x, false));
    const p = b.mul(ext(a), ext(v));
    const bits = size * 8;
    const lo = this.mask(b.lo32(p), size);
    const hi = size === 4 ? b.hi32(p) : this.mask(b.lo32(b.shri(p, bits)), size);
    return [lo, hi];
  }
  private mulOne(signed: boolean): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const v = this.load(0);
    const a = this.getReg(0, size);
    const [lo, hi] = this.product(a, v, size, signed);
    if (size === 1) this.setReg(0, 2, b.or(lo, b.shli(hi, 8)));
    else {
      this.setReg(0, size, lo);
      this.setReg(2, size, hi);
    }
    const overflow = signed
      ? b.setcond(Cond.NE, hi, this.mask(b.sari(this.sext(lo, size), size === 8 ? 63 : 31), size), this.typeOf(size))
      : b.setcond(Cond.NE, hi, this.cOf(size, 0), this.typeOf(size));
    this.setCc(CcKind.Mul, size, lo, overflow);
    return true;
  }
  trans_MUL(): boolean { return this.mulOne(false); }
  trans_IMUL1(): boolean { return this.mulOne(true); }
  private imulInto(aIndex: number, vIndex: number): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const a = this.load(aIndex);
    const v = this.load(vIndex);
    const [lo, hi] = this.product(a, this.toSize(size === 8 ? this.to64s(v, this.opSize(vIndex)) : this.sext(v, this.opSize(vIndex)), size), size, true);
    this.store(0, lo);
    const overflow = b.setcond(Cond.NE, hi, this.mask(b.sari(this.sext(lo, size), size === 8 ? 63 : 31), size), this.typeOf(size));
    this.setCc(CcKind.Mul, size, lo, overflow);
    return true;
  }
  trans_IMUL(): boolean { return this.imulInto(0, 1); }
  trans_IMUL3(): boolean { return this.imulInto(1, 2); }
  private divide(signed: boolean): boolean {
    const size = this.opSize(0);
    const v = this.load(0);
    this.b.call(this.H.div, [this.c32(size), this.c32(signed ? 1 : 0), size === 8 ? v : this.to64(v)]);
    return true;
  }
  trans_DIV(): boolean { return this.divide(false); }
  trans_IDIV(): boolean { return this.divide(true); }

  // ---- bit instructions -----------------------------------------------------------------------

  private bitTest(op: 'bt' | 'bts' | 'btr' | 'btc'): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const offOp = this.insn.operands[1];
    let off = this.load(1);
    let value: Temp;
    let addr: Temp | null = null;
    let bit: Temp;
    if (this.isMem(0) && offOp.kind === OpKind.Reg) {
      // A register bit offset reaches any byte: address + (offset >> 3), signed.
      const off64 = this.to64s(off, offOp.size);
      addr = b.add(this.ea(), b.sari(off64, 3));
      value = this.loadMem(addr, 1, op !== 'bt');
      bit = b.andi(off.type === Type.I64 ? b.lo32(off) : off, 7);
    } else {
      if (off.type === Type.I64) off = b.lo32(off);
      bit = b.andi(off, size * 8 - 1);
      value = this.load(0, op !== 'bt');
    }
    const vsize = addr ? 1 : size;
    const one = this.cOf(vsize, 1);
    const sh = vsize === 8 ? b.extI32(bit, false) : bit;
    const mask = b.shl(one, sh);
    const cf = b.shr(value, sh);
    let r: Temp | null = null;
    if (op === 'bts') r = b.or(value, mask);
    else if (op === 'btr') r = b.and(value, b.not(mask));
    else if (op === 'btc') r = b.xor(value, mask);
    if (r) {
      if (addr) this.storeMem(addr, 1, r);
      else this.store(0, this.mask(r, size));
    }
    // CF = the bit; ZF unaffected; OF, SF, AF, PF undefined (left as they were, as QEMU does).
    const bitValue = b.andi(vsize === 8 ? b.lo32(cf) : cf, 1);
    return this.modifyFlags((f) => b.or(b.andi(f, ~CF), bitValue));
  }
  trans_BT(): boolean { return this.bitTest('bt'); }
  trans_BTS(): boolean { return this.bitTest('bts'); }
  trans_BTR(): boolean { return this.bitTest('btr'); }
  trans_BTC(): boolean { return this.bitTest('btc'); }

  private bitScan(kind: number): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const v = this.load(1);
    const idx = b.call(this.H.bitScan, [this.c32(kind | (size << 4)), this.to64(v)])!;
    if (kind === 2) {
      // POPCNT: ZF if the source was 0, the other flags cleared.
      this.store(0, this.toSize(idx, size));
      this.setCcEflags(b.shli(b.setcond(Cond.EQ, v, this.cOf(size, 0), Type.I32), 6));
      return true;
    }
    // BSF/BSR: destination unchanged when the source is 0 (ZF set).
    const dstReg = this.insn.operands[0].reg;
    const cur = this.getReg(dstReg, size);
    this.store(0, b.movcond(Cond.EQ, v, this.cOf(size, 0), cur, this.toSize(idx, size)));
    this.setCc(CcKind.Logic, size, v, this.cOf(size, 0));
    return true;
  }
  trans_BSF(): boolean { return this.bitScan(0); }
  trans_BSR(): boolean {
    if (this.insn.rep === 0xf3 && this.lzcnt) return this.leadingZeros();
    return this.bitScan(1);
  }
  /** LZCNT: the operand size when the source is 0 (CF set); ZF when the count is 0. */
  private leadingZeros(): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const v = this.load(1);
    const bsr = this.toSize(b.call(this.H.bitScan, [this.c32(1 | (size << 4)), this.to64(v)])!, 4);
    const isZero = b.setcond(Cond.EQ, v, this.cOf(size, 0), Type.I32);
    const count = b.movcond(Cond.NE, isZero, this.c32(0), this.c32(size * 8), b.sub(this.c32(size * 8 - 1), bsr));
    this.store(0, this.toSize(count, size));
    const zf = b.shli(b.setcond(Cond.EQ, count, this.c32(0), Type.I32), 6);
    this.setCcEflags(b.or(isZero, zf)); // CF is bit 0
    return true;
  }
  trans_POPCNT(): boolean { return this.bitScan(2); }

  trans_BSWAP(): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const r = this.insn.operands[0].reg;
    const swap32 = (v: Temp) =>
      b.or(b.or(b.shli(v, 24), b.andi(b.shli(v, 8), 0xff0000)), b.or(b.andi(b.shri(v, 8), 0xff00), b.shri(v, 24)));
    if (size === 8) {
      const v = this.getReg(r, 8);
      this.setReg(r, 8, b.concat(swap32(b.hi32(v)), swap32(b.lo32(v))));
    } else if (size === 4) this.setReg(r, 4, swap32(this.getReg(r, 4)));
    else this.setReg(r, 2, this.c32(0)); // 16-bit BSWAP is undefined; QEMU and hardware give 0
    return true;
  }

  trans_XADD(): boolean {
    const size = this.opSize(0);
    const a = this.load(0, true);
    const v = this.load(1);
    const r = this.mask(this.b.add(a, v), size);
    // The destination is written last (XADD r, r keeps the sum), but memory before registers.
    if (this.isMem(0)) {
      this.store(0, r);
      this.store(1, a);
    } else {
      this.store(1, a);
      this.store(0, r);
    }
    this.setCc(CcKind.Add, size, r, v);
    return true;
  }

  trans_CMPXCHG(): boolean {
    const b = this.b;
    const size = this.opSize(0);
    const d = this.load(0, true);
    const v = this.load(1);
    const acc = this.getReg(0, size);
    const eq = b.setcond(Cond.EQ, acc, d, Type.I32);
    // The destination is always written (with its old value on a mismatch).
    this.store(0, b.movcond(Cond.NE, eq, this.c32(0), v, d));
    const r = this.mask(b.sub(acc, d), size);
    // On a mismatch the accumulator takes the destination's value.
    const skip = b.newLabel();
    b.brcond(Cond.NE, eq, this.c32(0), skip);
    this.setReg(0, size, d);
    b.setLabel(skip);
    this.setCc(CcKind.Sub, size, r, d, acc);
    return true;
  }
  trans_CMPXCHG8B(): boolean {
    const b = this.b;
    const addr = this.ea();
    const m = this.loadMem(addr, 8, true);
    const expected = b.concat(this.getReg(0, 4), this.getReg(2, 4));
    const eq = b.setcond(Cond.EQ, m, expected, Type.I32);
    this.storeMem(addr, 8, b.movcond(Cond.NE, eq, this.c32(0), b.concat(this.getReg(3, 4), this.getReg(1, 4)), m));
    const skip = b.newLabel();
    b.brcond(Cond.NE, eq, this.c32(0), skip);
    this.setReg(0, 4, b.lo32(m));
    this.setReg(2, 4, b.hi32(m));
    b.setLabel(skip);
    const f = this.flagsAll();
    this.setCcEflags(b.or(b.andi(f, ~ZF), b.shli(eq, 6)));
    return true;
  }
  trans_CMPXCHG16B(): boolean {
    const b = this.b;
    const addr = this.ea();
    // #GP unless 16-byte aligned.
    const ok = b.newLabel();
    b.brcond(Cond.EQ, b.andi(b.lo32(addr), 15), this.c32(0), ok);
    this.genException(Vector.GP, 0);
    this.ended = false;
    b.setLabel(ok);
    const lo = this.loadMem(addr, 8, true);
    const addrHi = b.add(addr, this.c64(8));
    const hi = this.loadMem(addrHi, 8, true);
    const eq = b.and(b.setcond(Cond.EQ, lo, this.g.gpr[0], Type.I32), b.setcond(Cond.EQ, hi, this.g.gpr[2], Type.I32));
    this.storeMem(addr, 8, b.movcond(Cond.NE, eq, this.c32(0), this.g.gpr[3], lo));
    this.storeMem(addrHi, 8, b.movcond(Cond.NE, eq, this.c32(0), this.g.gpr[1], hi));
    const skip = b.newLabel();
    b.brcond(Cond.NE, eq, this.c32(0), skip);
    this.setReg(0, 8, lo);
    this.setReg(2, 8, hi);
    b.setLabel(skip);
    const f = this.flagsAll();
    this.setCcEflags(b.or(b.andi(f, ~ZF), b.shli(eq, 6)));
    return true;
  }

  // ---- string instructions ----------------------------------------------------------------------

  /**
   * One iteration of a string instruction; with REP, the instruction is its own block and
   * loops on itself (each iteration one pass of the block, as QEMU runs them), so that
   * interrupts and the instruction budget are checked between iterations.
   */
  private string(body: (size: number) => Temp | null, repCond: 'rep' | 'repz' | null): boolean {
    const b = this.b;
    const insn = this.insn;
    // The element size is that of the string operand (X or Y).
    let size = 0;
    for (let i = 0; i < insn.nOperands; i++) {
      const k = insn.operands[i].kind;
      if (k === OpKind.StrSrc || k === OpKind.StrDst) size = insn.operands[i].size;
    }
    const rep = insn.rep !== 0;
    if (!rep) {
      body(size);
      return true;
    }
    const as = insn.addrSize;
    const done = b.newLabel();
    b.brcond(Cond.EQ, this.countReg(), this.cOf(as, 0), done);
    const zf = body(size);
    const n = this.mask(b.sub(this.countReg(), this.cOf(as, 1)), as);
    this.setReg(1, as, n);
    b.brcond(Cond.EQ, n, this.cOf(as, 0), done);
    if (repCond === 'repz' && zf) {
      // REPE (F3) stops when ZF = 0, REPNE (F2) when ZF = 1.
      b.brcond(insn.rep === 0xf3 ? Cond.EQ : Cond.NE, zf, this.c32(0), done);
    }
    this.gotoTb(0, this.pc);
    this.ended = false;
    b.setLabel(done);
    this.gotoTb(1, this.nextPc);
    return true;
  }
  private strIndex(reg: number): Temp {
    return this.getReg(reg, this.insn.addrSize);
  }
  private advance(reg: number, size: number): void {
    const b = this.b;
    const as = this.insn.addrSize;
    const step = b.mul(this.g.df, this.c32(size));
    const cur = this.strIndex(reg);
    const next = as === 8 ? b.add(cur, b.extI32(step, true)) : this.mask(b.add(cur, step), as);
    this.setReg(reg, as, next);
  }
  private srcAddr(): Temp {
    const seg = this.insn.segOverride >= 0 ? this.insn.segOverride : Seg.DS;
    return this.linear(seg, this.strIndex(6), this.insn.addrSize);
  }
  private dstAddr(): Temp {
    return this.linear(Seg.ES, this.strIndex(7), this.insn.addrSize);
  }
  trans_MOVS(): boolean {
    return this.string((size) => {
      const v = this.loadMem(this.srcAddr(), size);
      this.storeMem(this.dstAddr(), size, v);
      this.advance(6, size);
      this.advance(7, size);
      return null;
    }, 'rep');
  }
  trans_STOS(): boolean {
    return this.string((size) => {
      this.storeMem(this.dstAddr(), size, this.getReg(0, size));
      this.advance(7, size);
      return null;
    }, 'rep');
  }
  trans_LODS(): boolean {
    return this.string((size) => {
      const v = this.loadMem(this.srcAddr(), size);
      this.setReg(0, size, v);
      this.advance(6, size);
      return null;
    }, 'rep');
  }
  trans_CMPS(): boolean {
    return this.string((size) => {
      const a = this.loadMem(this.srcAddr(), size);
      const v = this.loadMem(this.dstAddr(), size);
      const r = this.mask(this.b.sub(a, v), size);
      this.advance(6, size);
      this.advance(7, size);
      this.setCc(CcKind.Sub, size, r, v, a);
      return this.b.setcond(Cond.EQ, r, this.cOf(size, 0), Type.I32);
    }, 'repz');
  }
  trans_SCAS(): boolean {
    return this.string((size) => {
      const a = this.getReg(0, size);
      const v = this.loadMem(this.dstAddr(), size);
      const r = this.mask(this.b.sub(a, v), size);
      this.advance(7, size);
      this.setCc(CcKind.Sub, size, r, v, a);
      return this.b.setcond(Cond.EQ, r, this.cOf(size, 0), Type.I32);
    }, 'repz');
  }
  trans_INS(): boolean {
    return this.string((size) => {
      const port = this.getReg(2, 2);
      const v = this.b.call(this.H.in, [port, this.c32(size)])!;
      this.storeMem(this.dstAddr(), size, v);
      this.advance(7, size);
      return null;
    }, 'rep');
  }
  trans_OUTS(): boolean {
    return this.string((size) => {
      const v = this.loadMem(this.srcAddr(), size);
      this.b.call(this.H.out, [this.getReg(2, 2), size === 8 ? this.b.lo32(v) : v, this.c32(size)]);
      this.advance(6, size);
      return null;
    }, 'rep');
  }

  trans_XLAT(): boolean {
    const b = this.b;
    const insn = this.insn;
    const seg = insn.segOverride >= 0 ? insn.segOverride : Seg.DS;
    const off = this.mask(b.add(this.getReg(3, insn.addrSize), this.cOf(insn.addrSize, 0)), insn.addrSize);
    const sum = insn.addrSize === 8 ? b.add(off, b.extI32(this.getReg(0, 1), false)) : this.mask(b.add(off, this.getReg(0, 1)), insn.addrSize);
    this.setReg(0, 1, this.loadMem(this.linear(seg, sum, insn.addrSize), 1));
    return true;
  }

  // ---- I/O ------------------------------------------------------------------------------------

  trans_IN(): boolean {
    const size = this.opSize(0);
    const port = this.insn.operands[1].kind === OpKind.Imm ? this.c32(this.insn.operands[1].value & 0xff) : this.getReg(2, 2);
    const v = this.b.call(this.H.in, [port, this.c32(size)])!;
    this.store(0, v);
    return true;
  }
  trans_OUT(): boolean {
    const size = this.opSize(1);
    const port = this.insn.operands[0].kind === OpKind.Imm ? this.c32(this.insn.operands[0].value & 0xff) : this.getReg(2, 2);
    this.b.call(this.H.out, [port, this.getReg(0, size), this.c32(size)]);
    return true;
  }

  // ---- BCD ------------------------------------------------------------------------------------

  private bcd(op: number, imm = 0): boolean {
    this.b.call(this.H.bcd, [this.c32(op), this.c32(imm)]);
    this.cc = null;
    return true;
  }
  trans_DAA(): boolean { return this.bcd(0); }
  trans_DAS(): boolean { return this.bcd(1); }
  trans_AAA(): boolean { return this.bcd(2); }
  trans_AAS(): boolean { return this.bcd(3); }
  trans_AAM(): boolean { return this.bcd(4, this.insn.operands[0].value & 0xff); }
  trans_AAD(): boolean { return this.bcd(5, this.insn.operands[0].value & 0xff); }

  // ---- x87 and SSE control state ------------------------------------------------------------

  /** x87 and MMX instructions: #NM with CR0.EM or CR0.TS. */
  private fpuUsable(): boolean {
    if (this.flags & (FLAG_EM | FLAG_TS)) {
      this.genException(Vector.NM, -1);
      return false;
    }
    return true;
  }
  /** SSE instructions: #UD with CR0.EM or without CR4.OSFXSR, #NM with CR0.TS. */
  private sseUsable(): boolean {
    if (this.flags & FLAG_EM || !(this.flags & FLAG_OSFXSR)) {
      this.genException(Vector.UD, -1);
      return false;
    }
    if (this.flags & FLAG_TS) {
      this.genException(Vector.NM, -1);
      return false;
    }
    return true;
  }
  /**
   * An x87 instruction (or FXSAVE/FXRSTOR, FNSAVE/FRSTOR, FNSTENV/FLDENV) in the x87
   * module (x87.ts): the translator registers the decoded instruction once and passes
   * its index, the memory operand's address and the FIP/FDP pointers.
   */
  private fpu(checkUsable = true): boolean {
    if (checkUsable && !this.fpuUsable()) return true;
    const insn = this.insn;
    const b = this.b;
    const index = this.registerFpu(insn);
    const ea = insn.hasMem ? this.ea() : this.c64(0);
    const fdp = insn.hasMem ? this.toSize(this.effectiveOffset(insn), 4) : this.c32(0);
    const fip = this.toSize(this.ripOf(this.pc), 4);
    b.call(this.H.fpu, [this.c32(index), ea, fip, fdp, this.c32(insn.hasMem ? insn.seg : 0)]);
    this.cc = null; // FCOMI and friends set the flags
    return true;
  }
  trans_F2XM1(): boolean { return this.fpu(); }
  trans_FABS(): boolean { return this.fpu(); }
  trans_FADD(): boolean { return this.fpu(); }
  trans_FADDP(): boolean { return this.fpu(); }
  trans_FBLD(): boolean { return this.fpu(); }
  trans_FBSTP(): boolean { return this.fpu(); }
  trans_FCHS(): boolean { return this.fpu(); }
  trans_FCMOVCC(): boolean { return this.fpu(); }
  trans_FCOM(): boolean { return this.fpu(); }
  trans_FCOMI(): boolean { return this.fpu(); }
  trans_FCOMIP(): boolean { return this.fpu(); }
  trans_FCOMP(): boolean { return this.fpu(); }
  trans_FCOMPP(): boolean { return this.fpu(); }
  trans_FCOS(): boolean { return this.fpu(); }
  trans_FDECSTP(): boolean { return this.fpu(); }
  trans_FDIV(): boolean { return this.fpu(); }
  trans_FDIVP(): boolean { return this.fpu(); }
  trans_FDIVR(): boolean { return this.fpu(); }
  trans_FDIVRP(): boolean { return this.fpu(); }
  trans_FFREE(): boolean { return this.fpu(); }
  trans_FIADD(): boolean { return this.fpu(); }
  trans_FICOM(): boolean { return this.fpu(); }
  trans_FICOMP(): boolean { return this.fpu(); }
  trans_FIDIV(): boolean { return this.fpu(); }
  trans_FIDIVR(): boolean { return this.fpu(); }
  trans_FILD(): boolean { return this.fpu(); }
  trans_FIMUL(): boolean { return this.fpu(); }
  trans_FINCSTP(): boolean { return this.fpu(); }
  trans_FIST(): boolean { return this.fpu(); }
  trans_FISTP(): boolean { return this.fpu(); }
  trans_FISTTP(): boolean { return this.fpu(); }
  trans_FISUB(): boolean { return this.fpu(); }
  trans_FISUBR(): boolean { return this.fpu(); }
  trans_FLD(): boolean { return this.fpu(); }
  trans_FLD1(): boolean { return this.fpu(); }
  trans_FLDENV(): boolean { return this.fpu(); }
  trans_FLDL2E(): boolean { return this.fpu(); }
  trans_FLDL2T(): boolean { return this.fpu(); }
  trans_FLDLG2(): boolean { return this.fpu(); }
  trans_FLDLN2(): boolean { return this.fpu(); }
  trans_FLDPI(): boolean { return this.fpu(); }
  trans_FLDZ(): boolean { return this.fpu(); }
  trans_FMUL(): boolean { return this.fpu(); }
  trans_FMULP(): boolean { return this.fpu(); }
  trans_FNOP(): boolean { return this.fpu(); }
  trans_FNSAVE(): boolean { return this.fpu(); }
  trans_FNSTENV(): boolean { return this.fpu(); }
  trans_FPATAN(): boolean { return this.fpu(); }
  trans_FPREM(): boolean { return this.fpu(); }
  trans_FPREM1(): boolean { return this.fpu(); }
  trans_FPTAN(): boolean { return this.fpu(); }
  trans_FRNDINT(): boolean { return this.fpu(); }
  trans_FRSTOR(): boolean { return this.fpu(); }
  trans_FSCALE(): boolean { return this.fpu(); }
  trans_FSIN(): boolean { return this.fpu(); }
  trans_FSINCOS(): boolean { return this.fpu(); }
  trans_FSQRT(): boolean { return this.fpu(); }
  trans_FST(): boolean { return this.fpu(); }
  trans_FSTP(): boolean { return this.fpu(); }
  trans_FSUB(): boolean { return this.fpu(); }
  trans_FSUBP(): boolean { return this.fpu(); }
  trans_FSUBR(): boolean { return this.fpu(); }
  trans_FSUBRP(): boolean { return this.fpu(); }
  trans_FTST(): boolean { return this.fpu(); }
  trans_FUCOM(): boolean { return this.fpu(); }
  trans_FUCOMI(): boolean { return this.fpu(); }
  trans_FUCOMIP(): boolean { return this.fpu(); }
  trans_FUCOMP(): boolean { return this.fpu(); }
  trans_FUCOMPP(): boolean { return this.fpu(); }
  trans_FXAM(): boolean { return this.fpu(); }
  trans_FXCH(): boolean { return this.fpu(); }
  trans_FXRSTOR(): boolean { return this.fpu(); }
  trans_FXSAVE(): boolean { return this.fpu(); }
  trans_FXTRACT(): boolean { return this.fpu(); }
  trans_FYL2X(): boolean { return this.fpu(); }
  trans_FYL2XP1(): boolean { return this.fpu(); }
  trans_FNINIT(): boolean { return this.fpu(); }
  trans_FNCLEX(): boolean { return this.fpu(); }
  trans_FLDCW(): boolean { return this.fpu(); }
  trans_FNSTCW(): boolean { return this.fpu(); }
  trans_FNSTSW(): boolean {
    if (this.fpuUsable()) this.store(0, this.sys(SysOp.FpuStoreSw, 0, 0));
    return true;
  }
  trans_EMMS(): boolean {
    if (this.fpuUsable()) this.sys(SysOp.Emms, 0, 0);
    return true;
  }
  trans_LDMXCSR(): boolean {
    if (this.sseUsable()) this.sys(SysOp.LdMxcsr, 0, this.load(0));
    return true;
  }
  trans_STMXCSR(): boolean {
    if (this.sseUsable()) this.store(0, this.sys(SysOp.StMxcsr, 0, 0));
    return true;
  }

  // ---- SSE: moves and bitwise logic in IR (the common ones in compiled C) ---------------------

  /** Operand i of an SSE instruction as (bits 63:0, bits 127:64), zero-extended from its size. */
  private xmmLoad(i: number): [Temp, Temp] {
    const b = this.b;
    const op = this.insn.operands[i];
    const zero = this.c64(0);
    if (op.kind === OpKind.Reg && op.regClass === RegClass.XMM) {
      const lo = b.snapshot(this.g.xmm[2 * op.reg]);
      if (op.size === 16) return [lo, b.snapshot(this.g.xmm[2 * op.reg + 1])];
      return [op.size === 8 ? lo : b.extI32(b.lo32(lo), false), zero];
    }
    if (op.kind === OpKind.Reg) return [this.to64(this.load(i)), zero]; // a general register
    const addr = this.ea();
    if (op.size === 16) return [this.loadMem(addr, 8), this.loadMem(b.add(addr, this.c64(8)), 8)];
    return [this.to64(this.loadMem(addr, op.size)), zero];
  }
  /** Write operand i of an SSE instruction; an XMM register written from less than 16 bytes is zero-extended. */
  private xmmStore(i: number, lo: Temp, hi: Temp): void {
    const b = this.b;
    const op = this.insn.operands[i];
    if (op.kind === OpKind.Reg && op.regClass === RegClass.XMM) {
      b.assign(this.g.xmm[2 * op.reg], lo);
      b.assign(this.g.xmm[2 * op.reg + 1], hi);
    } else if (op.kind === OpKind.Reg) {
      this.store(i, this.toSize(lo, op.size));
    } else {
      const addr = this.ea();
      this.storeMem(addr, op.size === 16 ? 8 : op.size, op.size === 4 ? b.lo32(lo) : lo);
      if (op.size === 16) this.storeMem(b.add(addr, this.c64(8)), 8, hi);
    }
  }
  /** Legacy SSE: a 16-byte memory operand must be 16-byte aligned (#GP(0)). */
  private checkAligned(i: number): void {
    const op = this.insn.operands[i];
    if (op.kind !== OpKind.Mem || op.size !== 16) return;
    const b = this.b;
    const ok = b.newLabel();
    b.brcond(Cond.EQ, b.andi(b.lo32(this.ea()), 15), this.c32(0), ok);
    this.genException(Vector.GP, 0);
    this.ended = false;
    b.setLabel(ok);
  }
  /** Only XMM (not MMX) forms have IR paths; MMX ones go to the SIMD helper. */
  private isXmmForm(): boolean {
    const ops = this.insn.operands;
    for (let i = 0; i < this.insn.nOperands; i++) if (ops[i].kind === OpKind.Reg && ops[i].regClass === RegClass.MMX) return false;
    return true;
  }
  private sseMove(aligned: boolean): boolean {
    if (!this.isXmmForm()) return this.simd();
    if (!this.sseUsable()) return true;
    if (aligned) {
      this.checkAligned(0);
      this.checkAligned(1);
    }
    const [lo, hi] = this.xmmLoad(1);
    this.xmmStore(0, lo, hi);
    return true;
  }
  trans_MOVAPS(): boolean { return this.sseMove(true); }
  trans_MOVAPD(): boolean { return this.sseMove(true); }
  trans_MOVDQA(): boolean { return this.sseMove(true); }
  trans_MOVNTDQ(): boolean { return this.sseMove(true); }
  trans_MOVNTPS(): boolean { return this.sseMove(true); }
  trans_MOVNTPD(): boolean { return this.sseMove(true); }
  trans_MOVUPS(): boolean { return this.sseMove(false); }
  trans_MOVUPD(): boolean { return this.sseMove(false); }
  trans_MOVDQU(): boolean { return this.sseMove(false); }
  trans_LDDQU(): boolean { return this.sseMove(false); }
  trans_MOVD(): boolean { return this.sseMove(false); }
  trans_MOVQ(): boolean { return this.sseMove(false); }

  private sseLogic(fn: (a: Temp, v: Temp) => Temp): boolean {
    if (!this.isXmmForm()) return this.simd();
    if (!this.sseUsable()) return true;
    this.checkAligned(1);
    const [alo, ahi] = this.xmmLoad(0);
    const [vlo, vhi] = this.xmmLoad(1);
    this.xmmStore(0, fn(alo, vlo), fn(ahi, vhi));
    return true;
  }
  trans_PXOR(): boolean { return this.sseLogic((a, v) => this.b.xor(a, v)); }
  trans_XORPS(): boolean { return this.trans_PXOR(); }
  trans_XORPD(): boolean { return this.trans_PXOR(); }
  trans_POR(): boolean { return this.sseLogic((a, v) => this.b.or(a, v)); }
  trans_ORPS(): boolean { return this.trans_POR(); }
  trans_ORPD(): boolean { return this.trans_POR(); }
  trans_PAND(): boolean { return this.sseLogic((a, v) => this.b.and(a, v)); }
  trans_ANDPS(): boolean { return this.trans_PAND(); }
  trans_ANDPD(): boolean { return this.trans_PAND(); }
  trans_PANDN(): boolean { return this.sseLogic((a, v) => this.b.and(this.b.not(a), v)); }
  trans_ANDNPS(): boolean { return this.trans_PANDN(); }
  trans_ANDNPD(): boolean { return this.trans_PANDN(); }
  trans_PADDQ(): boolean { return this.sseLogic((a, v) => this.b.add(a, v)); }
  trans_PSUBQ(): boolean { return this.sseLogic((a, v) => this.b.sub(a, v)); }
  trans_PUNPCKLQDQ(): boolean {
    if (!this.sseUsable()) return true;
    this.checkAligned(1);
    const [alo] = this.xmmLoad(0);
    const [vlo] = this.xmmLoad(1);
    this.xmmStore(0, alo, vlo);
    return true;
  }
  trans_PUNPCKHQDQ(): boolean {
    if (!this.sseUsable()) return true;
    this.checkAligned(1);
    const [, ahi] = this.xmmLoad(0);
    const [, vhi] = this.xmmLoad(1);
    this.xmmStore(0, ahi, vhi);
    return true;
  }

  /**
   * An MMX/SSE instruction in the SIMD module (sse.ts): the translator registers the
   * decoded instruction once and passes its index, the memory operand's address
   * (DS:rDI for MASKMOVQ/MASKMOVDQU) and a general-register source's value; a
   * general-register destination takes the returned value.
   */
  private simd(): boolean {
    const insn = this.insn;
    const ops = insn.operands;
    let mmx = false;
    for (let i = 0; i < insn.nOperands; i++) if (ops[i].kind === OpKind.Reg && ops[i].regClass === RegClass.MMX) mmx = true;
    if (mmx ? !this.fpuUsable() : !this.sseUsable()) return true;
    const b = this.b;
    let ea: Temp = this.c64(0);
    if (insn.handler === X86Handler.MASKMOVQ || insn.handler === X86Handler.MASKMOVDQU) {
      const seg = insn.segOverride >= 0 ? insn.segOverride : Seg.DS;
      ea = this.linear(seg, this.getReg(7, insn.addrSize), insn.addrSize);
    } else if (insn.hasMem) {
      ea = this.ea();
    }
    let gpr: Temp = this.c64(0);
    for (let i = 1; i < insn.nOperands; i++) {
      if (ops[i].kind === OpKind.Reg && (ops[i].regClass === RegClass.GPR || ops[i].regClass === RegClass.GPR8_HIGH)) gpr = this.to64(this.load(i));
    }
    const r = b.call(this.H.simd, [this.c32(this.registerSimd(insn)), ea, gpr])!;
    if (ops[0].kind === OpKind.Reg && ops[0].regClass === RegClass.GPR) this.store(0, this.toSize(r, ops[0].size));
    this.cc = null; // COMISS and friends set the flags
    return true;
  }
  trans_ADDPD(): boolean { return this.simd(); }
  trans_ADDPS(): boolean { return this.simd(); }
  trans_ADDSD(): boolean { return this.simd(); }
  trans_ADDSS(): boolean { return this.simd(); }
  trans_ADDSUBPD(): boolean { return this.simd(); }
  trans_ADDSUBPS(): boolean { return this.simd(); }
  trans_CMPPD(): boolean { return this.simd(); }
  trans_CMPPS(): boolean { return this.simd(); }
  trans_CMPSD(): boolean { return this.simd(); }
  trans_CMPSS(): boolean { return this.simd(); }
  trans_COMISD(): boolean { return this.simd(); }
  trans_COMISS(): boolean { return this.simd(); }
  trans_CVTDQ2PD(): boolean { return this.simd(); }
  trans_CVTDQ2PS(): boolean { return this.simd(); }
  trans_CVTPD2DQ(): boolean { return this.simd(); }
  trans_CVTPD2PI(): boolean { return this.simd(); }
  trans_CVTPD2PS(): boolean { return this.simd(); }
  trans_CVTPI2PD(): boolean { return this.simd(); }
  trans_CVTPI2PS(): boolean { return this.simd(); }
  trans_CVTPS2DQ(): boolean { return this.simd(); }
  trans_CVTPS2PD(): boolean { return this.simd(); }
  trans_CVTPS2PI(): boolean { return this.simd(); }
  trans_CVTSD2SI(): boolean { return this.simd(); }
  trans_CVTSD2SS(): boolean { return this.simd(); }
  trans_CVTSI2SD(): boolean { return this.simd(); }
  trans_CVTSI2SS(): boolean { return this.simd(); }
  trans_CVTSS2SD(): boolean { return this.simd(); }
  trans_CVTSS2SI(): boolean { return this.simd(); }
  trans_CVTTPD2DQ(): boolean { return this.simd(); }
  trans_CVTTPD2PI(): boolean { return this.simd(); }
  trans_CVTTPS2DQ(): boolean { return this.simd(); }
  trans_CVTTPS2PI(): boolean { return this.simd(); }
  trans_CVTTSD2SI(): boolean { return this.simd(); }
  trans_CVTTSS2SI(): boolean { return this.simd(); }
  trans_DIVPD(): boolean { return this.simd(); }
  trans_DIVPS(): boolean { return this.simd(); }
  trans_DIVSD(): boolean { return this.simd(); }
  trans_DIVSS(): boolean { return this.simd(); }
  trans_HADDPD(): boolean { return this.simd(); }
  trans_HADDPS(): boolean { return this.simd(); }
  trans_HSUBPD(): boolean { return this.simd(); }
  trans_HSUBPS(): boolean { return this.simd(); }
  trans_MASKMOVDQU(): boolean { return this.simd(); }
  trans_MASKMOVQ(): boolean { return this.simd(); }
  trans_MAXPD(): boolean { return this.simd(); }
  trans_MAXPS(): boolean { return this.simd(); }
  trans_MAXSD(): boolean { return this.simd(); }
  trans_MAXSS(): boolean { return this.simd(); }
  trans_MINPD(): boolean { return this.simd(); }
  trans_MINPS(): boolean { return this.simd(); }
  trans_MINSD(): boolean { return this.simd(); }
  trans_MINSS(): boolean { return this.simd(); }
  trans_MOVDDUP(): boolean { return this.simd(); }
  trans_MOVDQ2Q(): boolean { return this.simd(); }
  trans_MOVHLPS(): boolean { return this.simd(); }
  trans_MOVHPD(): boolean { return this.simd(); }
  trans_MOVHPS(): boolean { return this.simd(); }
  trans_MOVLHPS(): boolean { return this.simd(); }
  trans_MOVLPD(): boolean { return this.simd(); }
  trans_MOVLPS(): boolean { return this.simd(); }
  trans_MOVMSKPD(): boolean { return this.simd(); }
  trans_MOVMSKPS(): boolean { return this.simd(); }
  trans_MOVNTQ(): boolean { return this.simd(); }
  trans_MOVQ2DQ(): boolean { return this.simd(); }
  trans_MOVSD(): boolean { return this.simd(); }
  trans_MOVSHDUP(): boolean { return this.simd(); }
  trans_MOVSLDUP(): boolean { return this.simd(); }
  trans_MOVSS(): boolean { return this.simd(); }
  trans_MULPD(): boolean { return this.simd(); }
  trans_MULPS(): boolean { return this.simd(); }
  trans_MULSD(): boolean { return this.simd(); }
  trans_MULSS(): boolean { return this.simd(); }
  trans_PABSB(): boolean { return this.simd(); }
  trans_PABSD(): boolean { return this.simd(); }
  trans_PABSW(): boolean { return this.simd(); }
  trans_PACKSSDW(): boolean { return this.simd(); }
  trans_PACKSSWB(): boolean { return this.simd(); }
  trans_PACKUSWB(): boolean { return this.simd(); }
  trans_PADDB(): boolean { return this.simd(); }
  trans_PADDD(): boolean { return this.simd(); }
  trans_PADDSB(): boolean { return this.simd(); }
  trans_PADDSW(): boolean { return this.simd(); }
  trans_PADDUSB(): boolean { return this.simd(); }
  trans_PADDUSW(): boolean { return this.simd(); }
  trans_PADDW(): boolean { return this.simd(); }
  trans_PALIGNR(): boolean { return this.simd(); }
  trans_PAVGB(): boolean { return this.simd(); }
  trans_PAVGW(): boolean { return this.simd(); }
  trans_PCMPEQB(): boolean { return this.simd(); }
  trans_PCMPEQD(): boolean { return this.simd(); }
  trans_PCMPEQW(): boolean { return this.simd(); }
  trans_PCMPGTB(): boolean { return this.simd(); }
  trans_PCMPGTD(): boolean { return this.simd(); }
  trans_PCMPGTW(): boolean { return this.simd(); }
  trans_PEXTRW(): boolean { return this.simd(); }
  trans_PHADDD(): boolean { return this.simd(); }
  trans_PHADDSW(): boolean { return this.simd(); }
  trans_PHADDW(): boolean { return this.simd(); }
  trans_PHSUBD(): boolean { return this.simd(); }
  trans_PHSUBSW(): boolean { return this.simd(); }
  trans_PHSUBW(): boolean { return this.simd(); }
  trans_PINSRW(): boolean { return this.simd(); }
  trans_PMADDUBSW(): boolean { return this.simd(); }
  trans_PMADDWD(): boolean { return this.simd(); }
  trans_PMAXSW(): boolean { return this.simd(); }
  trans_PMAXUB(): boolean { return this.simd(); }
  trans_PMINSW(): boolean { return this.simd(); }
  trans_PMINUB(): boolean { return this.simd(); }
  trans_PMOVMSKB(): boolean { return this.simd(); }
  trans_PMULHRSW(): boolean { return this.simd(); }
  trans_PMULHUW(): boolean { return this.simd(); }
  trans_PMULHW(): boolean { return this.simd(); }
  trans_PMULLW(): boolean { return this.simd(); }
  trans_PMULUDQ(): boolean { return this.simd(); }
  trans_PSADBW(): boolean { return this.simd(); }
  trans_PSHUFB(): boolean { return this.simd(); }
  trans_PSHUFD(): boolean { return this.simd(); }
  trans_PSHUFHW(): boolean { return this.simd(); }
  trans_PSHUFLW(): boolean { return this.simd(); }
  trans_PSHUFW(): boolean { return this.simd(); }
  trans_PSIGNB(): boolean { return this.simd(); }
  trans_PSIGND(): boolean { return this.simd(); }
  trans_PSIGNW(): boolean { return this.simd(); }
  trans_PSLLD(): boolean { return this.simd(); }
  trans_PSLLDQ(): boolean { return this.simd(); }
  trans_PSLLQ(): boolean { return this.simd(); }
  trans_PSLLW(): boolean { return this.simd(); }
  trans_PSRAD(): boolean { return this.simd(); }
  trans_PSRAW(): boolean { return this.simd(); }
  trans_PSRLD(): boolean { return this.simd(); }
  trans_PSRLDQ(): boolean { return this.simd(); }
  trans_PSRLQ(): boolean { return this.simd(); }
  trans_PSRLW(): boolean { return this.simd(); }
  trans_PSUBB(): boolean { return this.simd(); }
  trans_PSUBD(): boolean { return this.simd(); }
  trans_PSUBSB(): boolean { return this.simd(); }
  trans_PSUBSW(): boolean { return this.simd(); }
  trans_PSUBUSB(): boolean { return this.simd(); }
  trans_PSUBUSW(): boolean { return this.simd(); }
  trans_PSUBW(): boolean { return this.simd(); }
  trans_PUNPCKHBW(): boolean { return this.simd(); }
  trans_PUNPCKHDQ(): boolean { return this.simd(); }
  trans_PUNPCKHWD(): boolean { return this.simd(); }
  trans_PUNPCKLBW(): boolean { return this.simd(); }
  trans_PUNPCKLDQ(): boolean { return this.simd(); }
  trans_PUNPCKLWD(): boolean { return this.simd(); }
  trans_RCPPS(): boolean { return this.simd(); }
  trans_RCPSS(): boolean { return this.simd(); }
  trans_RSQRTPS(): boolean { return this.simd(); }
  trans_RSQRTSS(): boolean { return this.simd(); }
  trans_SHUFPD(): boolean { return this.simd(); }
  trans_SHUFPS(): boolean { return this.simd(); }
  trans_SQRTPD(): boolean { return this.simd(); }
  trans_SQRTPS(): boolean { return this.simd(); }
  trans_SQRTSD(): boolean { return this.simd(); }
  trans_SQRTSS(): boolean { return this.simd(); }
  trans_SUBPD(): boolean { return this.simd(); }
  trans_SUBPS(): boolean { return this.simd(); }
  trans_SUBSD(): boolean { return this.simd(); }
  trans_SUBSS(): boolean { return this.simd(); }
  trans_UCOMISD(): boolean { return this.simd(); }
  trans_UCOMISS(): boolean { return this.simd(); }
  trans_UNPCKHPD(): boolean { return this.simd(); }
  trans_UNPCKHPS(): boolean { return this.simd(); }
  trans_UNPCKLPD(): boolean { return this.simd(); }
  trans_UNPCKLPS(): boolean { return this.simd(); }

  // ---- system instructions --------------------------------------------------------------------

  /** A system instruction run by the sys helper; `end`: it may change the CPU mode, so end the block after it. */
  private sysInsn(op: SysOp, end = false): boolean {
    this.sys(op, 0, 0);
    if (end) this.endNoChain();
    return true;
  }
  /** A transfer of control run by the sys helper (it sets the pc and perhaps the mode): back to the engine. */
  private modeChange(op: SysOp, arg: number): boolean {
    this.sys(op, arg, 0);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }

  trans_NOP(): boolean { return true; }
  trans_PAUSE(): boolean { return true; }
  trans_PREFETCH(): boolean { return true; }
  trans_LFENCE(): boolean { return true; }
  trans_MFENCE(): boolean { return true; }
  trans_SFENCE(): boolean { return true; }
  trans_CLFLUSH(): boolean { return true; }
  /** FWAIT: #NM only with both CR0.TS and CR0.MP; then #MF for a pending unmasked x87 exception. */
  trans_FWAIT(): boolean {
    if (this.flags & FLAG_TS) this.sys(SysOp.FwaitCheck, 0, 0);
    return this.fpu(false);
  }
  trans_MONITOR(): boolean { return true; }
  trans_MWAIT(): boolean { return this.sysInsn(SysOp.Mwait); }
  trans_UD0(): boolean { return this.ud(); }
  trans_UD1(): boolean { return this.ud(); }
  trans_UD2(): boolean { return this.ud(); }
  trans_BOUND(): boolean {
    const size = this.opSize(0);
    this.sys64(SysOp.Bound, size, this.load(0), this.ea());
    return true;
  }
  trans_ARPL(): boolean { return this.ud(); }

  trans_HLT(): boolean {
    this.sys(SysOp.Hlt, 0, 0);
    this.setPc(this.nextPc);
    this.b.exitTb(ExitCode.Halt);
    this.ended = true;
    return true;
  }
  trans_CPUID(): boolean { return this.sysInsn(SysOp.Cpuid); }
  trans_RDTSC(): boolean { return this.sysInsn(SysOp.Rdtsc); }
  trans_RDTSCP(): boolean { return this.sysInsn(SysOp.Rdtscp); }
  trans_RDPMC(): boolean { return this.sysInsn(SysOp.Rdpmc); }
  trans_RDMSR(): boolean { return this.sysInsn(SysOp.Rdmsr); }
  trans_WRMSR(): boolean { return this.sysInsn(SysOp.Wrmsr, true); }
  trans_WBINVD(): boolean { return this.sysInsn(SysOp.NeedCpl0); }
  trans_INVD(): boolean { return this.trans_WBINVD(); }
  trans_MOV_SEG(): boolean {
    const insn = this.insn;
    if (insn.operands[0].kind === OpKind.Reg && insn.operands[0].regClass === RegClass.SEG) {
      const s = insn.operands[0].reg;
      if (s === Seg.CS || s > Seg.GS) return this.ud();
      this.sys(SysOp.LoadSeg, s, this.toSize(this.load(1), 2));
      this.endNoChain();
      return true;
    }
    const sel = this.sys(SysOp.ReadSeg, insn.operands[1].reg, 0);
    // To a register: zero-extended to the operand size; to memory: 16 bits.
    this.store(0, this.isMem(0) ? sel : this.toSize(sel, this.opSize(0)));
    return true;
  }
  private loadFarPointer(seg: number): boolean {
    const size = this.opSize(0);
    const addr = this.ea();
    const off = this.loadMem(addr, size);
    const sel = this.loadMem(this.b.add(addr, this.c64(size)), 2);
    this.sys(SysOp.LoadSeg, seg, sel);
    this.store(0, off);
    this.endNoChain();
    return true;
  }
  trans_LDS(): boolean { return this.loadFarPointer(Seg.DS); }
  trans_LES(): boolean { return this.loadFarPointer(Seg.ES); }
  trans_LFS(): boolean { return this.loadFarPointer(Seg.FS); }
  trans_LGS(): boolean { return this.loadFarPointer(Seg.GS); }
  trans_LSS(): boolean { return this.loadFarPointer(Seg.SS); }

  trans_MOV_CR(): boolean {
    const insn = this.insn;
    if (insn.operands[0].kind === OpKind.Reg && insn.operands[0].regClass === RegClass.CR) {
      const n = insn.operands[0].reg;
      this.sys64(SysOp.MovToCr, n, 0, this.to64(this.getReg(insn.operands[1].reg, this.mode64 ? 8 : 4)));
      this.endNoChain();
      return true;
    }
    this.sys(SysOp.MovFromCr, insn.operands[1].reg, insn.operands[0].reg);
    return true;
  }
  trans_MOV_DR(): boolean {
    const insn = this.insn;
    if (insn.operands[0].kind === OpKind.Reg && insn.operands[0].regClass === RegClass.DR) {
      this.sys64(SysOp.MovToDr, insn.operands[0].reg, 0, this.to64(this.getReg(insn.operands[1].reg, this.mode64 ? 8 : 4)));
      return true;
    }
    this.sys(SysOp.MovFromDr, insn.operands[1].reg, insn.operands[0].reg);
    return true;
  }
  private descTable(which: number): boolean {
    this.sys64(SysOp.DescTable, which, this.insn.opSize, this.ea());
    return true;
  }
  trans_LGDT(): boolean { return this.descTable(0); }
  trans_LIDT(): boolean { return this.descTable(1); }
  trans_SGDT(): boolean { return this.descTable(2); }
  trans_SIDT(): boolean { return this.descTable(3); }
  trans_LLDT(): boolean {
    this.sys(SysOp.Lldt, 0, this.toSize(this.load(0), 2));
    return true;
  }
  trans_LTR(): boolean {
    this.sys(SysOp.Ltr, 0, this.toSize(this.load(0), 2));
    return true;
  }
  private storeSystem(op: SysOp): boolean {
    const v = this.sys(op, 0, 0);
    this.store(0, this.isMem(0) ? this.mask(v, 2) : this.toSize(v, this.opSize(0)));
    return true;
  }
  trans_SLDT(): boolean { return this.storeSystem(SysOp.Sldt); }
  trans_STR(): boolean { return this.storeSystem(SysOp.Str); }
  trans_SMSW(): boolean { return this.storeSystem(SysOp.Smsw); }
  trans_LMSW(): boolean {
    this.sys(SysOp.Lmsw, 0, this.toSize(this.load(0), 2));
    this.endNoChain();
    return true;
  }
  trans_CLTS(): boolean { return this.sysInsn(SysOp.Clts, true); }
  trans_INVLPG(): boolean {
    this.sys64(SysOp.Invlpg, 0, 0, this.ea());
    this.endNoChain();
    return true;
  }
  trans_SWAPGS(): boolean { return this.sysInsn(SysOp.Swapgs); }
  private checkSeg(which: number): boolean {
    const reg = which < 2 ? this.insn.operands[0].reg : 0;
    this.sys(SysOp.CheckSeg, which | (reg << 4) | (this.insn.opSize << 8), this.toSize(this.load(which < 2 ? 1 : 0), 2));
    this.cc = null;
    return true;
  }
  trans_LAR(): boolean { return this.checkSeg(0); }
  trans_LSL(): boolean { return this.checkSeg(1); }
  trans_VERR(): boolean { return this.checkSeg(2); }
  trans_VERW(): boolean { return this.checkSeg(3); }
}


