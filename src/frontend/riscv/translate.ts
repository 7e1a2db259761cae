/**
 * RISC-V RV64GC + Zba/Zbb/Zbs translation: one trans_* handler per decode pattern,
 * emitting IR through the builder. Compressed instructions arrive here through the same
 * handlers (insn16.decode maps them onto 32-bit patterns). A handler returns false for
 * an encoding it rejects; the caller then emits an illegal-instruction trap.
 */
import { IrBuilder, Label } from '../../ir/builder.js';
import { Cond, HelperTable, MemOp, Temp, Type } from '../../ir/ir.js';
import { ExitCode, MEMOP_RMW } from '../../backend/runtime.js';
import {
  ArgAtomic, ArgB, ArgCsr, ArgEmpty, ArgFence, ArgI, ArgJ, ArgR, ArgR2, ArgR2Rm, ArgR4Rm, ArgRRm,
  ArgS, ArgSfenceVma, ArgShift, ArgU, RiscvTranslator, decode16, decode32,
} from './decode-generated.js';
import type { HelperIds } from './helpers.js';
import type { TranslationResult } from '../../accel/tcg/target.js';
import { Cause, FLAGS_FS_MASK, FLAGS_FS_SHIFT, FLAGS_PRIV_MASK, FsState, Priv } from './state.js';

/** Upper bound on guest instructions per block. */
export const MAX_INSNS_PER_TB = 64;

export interface RiscvGlobals {
  x: Temp[];
  f: Temp[];
  pc: Temp;
  frm: Temp;
  loadRes: Temp;
  loadVal: Temp;
  all: Temp[];
}

/** Reads instruction halfwords for the translator: -1 when the fetch faults. */
export interface InsnFetcher {
  fetch16(vaddr: bigint): number;
}

export interface RiscvTranslationResult extends TranslationResult {
  /** Encoded instruction bits, by index (for -d in_asm). */
  insnBits: number[];
}

type Alu = (a: Temp, b: Temp) => Temp;

export class RiscvTranslatorImpl implements RiscvTranslator {
  b!: IrBuilder;
  private pc = 0n;
  private insnLen = 4;
  private insn = 0;
  private flags = 0;
  /** Set when the current instruction ended the block. */
  ended = false;
  /** mstatus.FS as the translator currently believes it (becomes Dirty after an FP write). */
  private fs = 0;

  constructor(
    private readonly g: RiscvGlobals,
    private readonly helpers: HelperTable,
    private readonly H: HelperIds,
  ) {}

  // ---- block driver ---------------------------------------------------------------------

  /** Translate the block starting at `pc`. Returns null if the very first fetch faults. */
  translate(fetcher: InsnFetcher, pc: bigint, flags: number): RiscvTranslationResult | null {
    this.b = new IrBuilder(this.g.all, this.helpers);
    this.flags = flags;
    this.fs = (flags & FLAGS_FS_MASK) >> FLAGS_FS_SHIFT;
    this.ended = false;
    const insnPcs: bigint[] = [];
    const insnBits: number[] = [];
    const startPage = pc >> 12n;
    let cur = pc;
    for (let i = 0; i < MAX_INSNS_PER_TB && !this.ended; i++) {
      const lo = fetcher.fetch16(cur);
      if (lo < 0) {
        if (i === 0) return null;
        break;
      }
      const len = (lo & 3) === 3 ? 4 : 2;
      const crossesPage = ((cur + BigInt(len) - 1n) >> 12n) !== (cur >> 12n);
      if (i > 0 && (cur >> 12n !== startPage || crossesPage)) break;
      let bits = lo;
      if (len === 4) {
        const hi = fetcher.fetch16(cur + 2n);
        if (hi < 0) {
          if (i === 0) return null;
          break;
        }
        bits = (lo | (hi << 16)) | 0;
      }
      this.pc = cur;
      this.insn = bits;
      this.insnLen = len;
      this.b.insnStart(cur);
      insnPcs.push(cur);
      insnBits.push(bits);
      const ok = len === 4 ? decode32(this, bits) : decode16(this, bits);
      if (!ok) this.genIllegal();
      cur += BigInt(len);
    }
    if (!this.ended) this.gotoTb(0, cur);
    return { builder: this.b, insnPcs, insnBits, insnCount: insnPcs.length, byteLength: Number(cur - pc) };
  }

  // ---- small emitters ---------------------------------------------------------------------

  private get nextPc(): bigint {
    return this.pc + BigInt(this.insnLen);
  }
  private get priv(): number {
    return this.flags & FLAGS_PRIV_MASK;
  }
  private x(r: number): Temp {
    return r === 0 ? this.b.const64(0) : this.g.x[r];
  }
  private setX(r: number, v: Temp): void {
    if (r !== 0) this.b.assign(this.g.x[r], v);
  }
  private c64(v: number | bigint): Temp {
    return this.b.const64(v);
  }
  private c32(v: number): Temp {
    return this.b.const32(v);
  }
  private sext32(v: Temp): Temp {
    return this.b.extI32(v, true);
  }

  private gotoTb(slot: number, target: bigint): void {
    this.b.assign(this.g.pc, this.c64(target));
    this.b.gotoTb(slot, target);
    this.ended = true;
  }

  /** Raise a synchronous exception at the current instruction. */
  private genException(cause: Cause, tval: Temp): void {
    this.b.call(this.H.raise, [this.c32(cause), tval]);
    this.b.exitTb(ExitCode.NoChain); // not reached: the helper always raises
  }
  private genIllegal(): void {
    this.genException(Cause.IllegalInsn, this.c64(this.insnLen === 2 ? this.insn & 0xffff : this.insn >>> 0));
    this.ended = true;
  }

  /** End the block after this instruction and go back to the loop (state changed). */
  private endNoChain(): void {
    this.b.assign(this.g.pc, this.c64(this.nextPc));
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
  }

  // ---- RV64I ----------------------------------------------------------------------------

  trans_lui(a: ArgU): boolean {
    this.setX(a.rd, this.c64(a.imm));
    return true;
  }
  trans_auipc(a: ArgU): boolean {
    this.setX(a.rd, this.c64(this.pc + BigInt(a.imm)));
    return true;
  }
  trans_jal(a: ArgJ): boolean {
    this.setX(a.rd, this.c64(this.nextPc));
    this.gotoTb(0, this.pc + BigInt(a.imm));
    return true;
  }
  trans_jalr(a: ArgI): boolean {
    const target = this.b.andi(this.b.addi(this.x(a.rs1), a.imm), -2);
    const t = this.b.mutableTemp(Type.I64);
    this.b.assign(t, target); // rd may be rs1
    this.setX(a.rd, this.c64(this.nextPc));
    this.b.assign(this.g.pc, t);
    this.b.lookupAndGoto();
    this.ended = true;
    return true;
  }
  private branch(a: ArgB, cond: Cond): boolean {
    const taken = this.b.newLabel();
    this.b.brcond(cond, this.x(a.rs1), this.x(a.rs2), taken);
    this.b.assign(this.g.pc, this.c64(this.nextPc));
    this.b.gotoTb(1, this.nextPc);
    this.b.setLabel(taken);
    this.gotoTb(0, this.pc + BigInt(a.imm));
    return true;
  }
  trans_beq(a: ArgB): boolean { return this.branch(a, Cond.EQ); }
  trans_bne(a: ArgB): boolean { return this.branch(a, Cond.NE); }
  trans_blt(a: ArgB): boolean { return this.branch(a, Cond.LT); }
  trans_bge(a: ArgB): boolean { return this.branch(a, Cond.GE); }
  trans_bltu(a: ArgB): boolean { return this.branch(a, Cond.LTU); }
  trans_bgeu(a: ArgB): boolean { return this.branch(a, Cond.GEU); }

  private addr(rs1: number, imm: number): Temp {
    return this.b.addi(this.x(rs1), imm);
  }
  private load(a: ArgI, mop: MemOp): boolean {
    const v = this.b.load(Type.I64, this.addr(a.rs1, a.imm), mop);
    this.setX(a.rd, v);
    return true;
  }
  trans_lb(a: ArgI): boolean { return this.load(a, MemOp.SB); }
  trans_lh(a: ArgI): boolean { return this.load(a, MemOp.SW); }
  trans_lw(a: ArgI): boolean { return this.load(a, MemOp.SL); }
  trans_ld(a: ArgI): boolean { return this.load(a, MemOp.Q); }
  trans_lbu(a: ArgI): boolean { return this.load(a, MemOp.UB); }
  trans_lhu(a: ArgI): boolean { return this.load(a, MemOp.UW); }
  trans_lwu(a: ArgI): boolean { return this.load(a, MemOp.UL); }
  private store(a: ArgS, mop: MemOp): boolean {
    this.b.store(this.x(a.rs2), this.addr(a.rs1, a.imm), mop);
    return true;
  }
  trans_sb(a: ArgS): boolean { return this.store(a, MemOp.UB); }
  trans_sh(a: ArgS): boolean { return this.store(a, MemOp.UW); }
  trans_sw(a: ArgS): boolean { return this.store(a, MemOp.UL); }
  trans_sd(a: ArgS): boolean { return this.store(a, MemOp.Q); }

  private aluImm(a: ArgI, op: Alu): boolean {
    this.setX(a.rd, op(this.x(a.rs1), this.c64(a.imm)));
    return true;
  }
  private alu(a: ArgR, op: Alu): boolean {
    this.setX(a.rd, op(this.x(a.rs1), this.x(a.rs2)));
    return true;
  }
  /** *W forms: operate on the low words, sign-extend the 32-bit result. */
  private aluW(a: ArgR, op: Alu): boolean {
    this.setX(a.rd, this.sext32(op(this.b.lo32(this.x(a.rs1)), this.b.lo32(this.x(a.rs2)))));
    return true;
  }
  private shiftImm(a: ArgShift, op: Alu): boolean {
    this.setX(a.rd, op(this.x(a.rs1), this.c64(a.shamt)));
    return true;
  }
  private shiftImmW(a: ArgShift, op: Alu): boolean {
    this.setX(a.rd, this.sext32(op(this.b.lo32(this.x(a.rs1)), this.c32(a.shamt))));
    return true;
  }
  private readonly add: Alu = (x, y) => this.b.add(x, y);
  private readonly sub: Alu = (x, y) => this.b.sub(x, y);
  private readonly and: Alu = (x, y) => this.b.and(x, y);
  private readonly or: Alu = (x, y) => this.b.or(x, y);
  private readonly xor: Alu = (x, y) => this.b.xor(x, y);
  private readonly shl: Alu = (x, y) => this.b.shl(x, y);
  private readonly shr: Alu = (x, y) => this.b.shr(x, y);
  private readonly sar: Alu = (x, y) => this.b.sar(x, y);
  private readonly slt: Alu = (x, y) => this.b.setcond(Cond.LT, x, y);
  private readonly sltu: Alu = (x, y) => this.b.setcond(Cond.LTU, x, y);

  trans_addi(a: ArgI): boolean { return this.aluImm(a, this.add); }
  trans_slti(a: ArgI): boolean { return this.aluImm(a, this.slt); }
  trans_sltiu(a: ArgI): boolean { return this.aluImm(a, this.sltu); }
  trans_xori(a: ArgI): boolean { return this.aluImm(a, this.xor); }
  trans_ori(a: ArgI): boolean { return this.aluImm(a, this.or); }
  trans_andi(a: ArgI): boolean { return this.aluImm(a, this.and); }
  trans_slli(a: ArgShift): boolean { return this.shiftImm(a, this.shl); }
  trans_srli(a: ArgShift): boolean { return this.shiftImm(a, this.shr); }
  trans_srai(a: ArgShift): boolean { return this.shiftImm(a, this.sar); }
  trans_add(a: ArgR): boolean { return this.alu(a, this.add); }
  trans_sub(a: ArgR): boolean { return this.alu(a, this.sub); }
  trans_sll(a: ArgR): boolean { return this.alu(a, this.shl); }
  trans_slt(a: ArgR): boolean { return this.alu(a, this.slt); }
  trans_sltu(a: ArgR): boolean { return this.alu(a, this.sltu); }
  trans_xor(a: ArgR): boolean { return this.alu(a, this.xor); }
  trans_srl(a: ArgR): boolean { return this.alu(a, this.shr); }
  trans_sra(a: ArgR): boolean { return this.alu(a, this.sar); }
  trans_or(a: ArgR): boolean { return this.alu(a, this.or); }
  trans_and(a: ArgR): boolean { return this.alu(a, this.and); }
  trans_addiw(a: ArgI): boolean {
    this.setX(a.rd, this.sext32(this.b.addi(this.b.lo32(this.x(a.rs1)), a.imm)));
    return true;
  }
  trans_slliw(a: ArgShift): boolean { return this.shiftImmW(a, this.shl); }
  trans_srliw(a: ArgShift): boolean { return this.shiftImmW(a, this.shr); }
  trans_sraiw(a: ArgShift): boolean { return this.shiftImmW(a, this.sar); }
  trans_addw(a: ArgR): boolean { return this.aluW(a, this.add); }
  trans_subw(a: ArgR): boolean { return this.aluW(a, this.sub); }
  trans_sllw(a: ArgR): boolean { return this.aluW(a, this.shl); }
  trans_srlw(a: ArgR): boolean { return this.aluW(a, this.shr); }
  trans_sraw(a: ArgR): boolean { return this.aluW(a, this.sar); }

  trans_fence(_a: ArgFence): boolean {
    return true;
  }
  trans_fence_i(_a: ArgEmpty): boolean {
    // Stores already invalidated overlapping blocks; restart lookup at the next insn.
    this.endNoChain();
    return true;
  }
  trans_ecall(_a: ArgEmpty): boolean {
    const cause = this.priv === Priv.M ? Cause.EcallM : this.priv === Priv.S ? Cause.EcallS : Cause.EcallU;
    this.genException(cause, this.c64(0));
    this.ended = true;
    return true;
  }
  trans_ebreak(_a: ArgEmpty): boolean {
    this.genException(Cause.Breakpoint, this.c64(0)); // QEMU 7.2 leaves mtval 0
    this.ended = true;
    return true;
  }
  private xret(helper: number): boolean {
    // The helper checks privilege, updates mstatus and stores the new pc.
    this.b.assign(this.g.pc, this.c64(this.pc));
    this.b.call(helper, []);
    this.b.exitTb(ExitCode.NoChain);
    this.ended = true;
    return true;
  }
  trans_mret(_a: ArgEmpty): boolean { return this.xret(this.H.mret); }
  trans_sret(_a: ArgEmpty): boolean { return this.xret(this.H.sret); }
  trans_wfi(_a: ArgEmpty): boolean {
    if (this.priv === Priv.U) return false;
    this.b.assign(this.g.pc, this.c64(this.nextPc));
    this.b.exitTb(ExitCode.Halt);
    this.ended = true;
    return true;
  }
  trans_sfence_vma(a: ArgSfenceVma): boolean {
    if (this.priv === Priv.U) return false;
    this.b.call(this.H.sfenceVma, [this.c32(this.insn), this.x(a.rs1)]);
    this.endNoChain();
    return true;
  }

  // ---- Zicsr ----------------------------------------------------------------------------

  private csr(a: ArgCsr, immediate: boolean): boolean {
    // One helper decodes the operation from the instruction bits; it may trap.
    const src = immediate ? this.c64(a.rs1) : this.x(a.rs1);
    const old = this.b.call(this.H.csr, [this.c32(this.insn), src])!;
    this.setX(a.rd, old);
    this.endNoChain(); // CSR writes may change translation flags, interrupts, rounding
    return true;
  }
  trans_csrrw(a: ArgCsr): boolean { return this.csr(a, false); }
  trans_csrrs(a: ArgCsr): boolean { return this.csr(a, false); }
  trans_csrrc(a: ArgCsr): boolean { return this.csr(a, false); }
  trans_csrrwi(a: ArgCsr): boolean { return this.csr(a, true); }
  trans_csrrsi(a: ArgCsr): boolean { return this.csr(a, true); }
  trans_csrrci(a: ArgCsr): boolean { return this.csr(a, true); }

  // ---- M --------------------------------------------------------------------------------

  private helper2(a: ArgR, helper: number): boolean {
    this.setX(a.rd, this.b.call(helper, [this.x(a.rs1), this.x(a.rs2)])!);
    return true;
  }
  private helperW(a: ArgR, helper: number): boolean {
    const r = this.b.call(helper, [this.b.lo32(this.x(a.rs1)), this.b.lo32(this.x(a.rs2))])!;
    this.setX(a.rd, this.sext32(r));
    return true;
  }
  trans_mul(a: ArgR): boolean { return this.alu(a, (x, y) => this.b.mul(x, y)); }
  trans_mulh(a: ArgR): boolean { return this.helper2(a, this.H.mulh); }
  trans_mulhsu(a: ArgR): boolean { return this.helper2(a, this.H.mulhsu); }
  trans_mulhu(a: ArgR): boolean { return this.helper2(a, this.H.mulhu); }
  trans_div(a: ArgR): boolean { return this.helper2(a, this.H.div); }
  trans_divu(a: ArgR): boolean { return this.helper2(a, this.H.divu); }
  trans_rem(a: ArgR): boolean { return this.helper2(a, this.H.rem); }
  trans_remu(a: ArgR): boolean { return this.helper2(a, this.H.remu); }
  trans_mulw(a: ArgR): boolean { return this.aluW(a, (x, y) => this.b.mul(x, y)); }
  trans_divw(a: ArgR): boolean { return this.helperW(a, this.H.divw); }
  trans_divuw(a: ArgR): boolean { return this.helperW(a, this.H.divuw); }
  trans_remw(a: ArgR): boolean { return this.helperW(a, this.H.remw); }
  trans_remuw(a: ArgR): boolean { return this.helperW(a, this.H.remuw); }

  // ---- A --------------------------------------------------------------------------------

  /** Trap unless `addr` is aligned to `size` bytes (AMOs never access misaligned data). */
  private checkAligned(addr: Temp, size: number, cause: Cause): void {
    const ok = this.b.newLabel();
    this.b.brcond(Cond.EQ, this.b.andi(addr, size - 1), this.c64(0), ok);
    this.b.call(this.H.raise, [this.c32(cause), addr]);
    this.b.setLabel(ok);
  }

  private lr(a: ArgAtomic, wide: boolean): boolean {
    const addr = this.x(a.rs1);
    this.checkAligned(addr, wide ? 8 : 4, Cause.LoadMisaligned);
    const v = this.b.load(Type.I64, addr, wide ? MemOp.Q : MemOp.SL);
    this.b.assign(this.g.loadRes, addr);
    this.b.assign(this.g.loadVal, v);
    this.setX(a.rd, v);
    return true;
  }
  private sc(a: ArgAtomic, wide: boolean): boolean {
    const b = this.b;
    const addr = b.mutableTemp(Type.I64);
    b.assign(addr, this.x(a.rs1));
    const value = b.mutableTemp(Type.I64);
    b.assign(value, this.x(a.rs2));
    // As in QEMU, a reservation mismatch fails before any access, so a misaligned SC
    // fails instead of trapping (LR never reserves a misaligned address).
    const result = b.mutableTemp(Type.I64);
    b.assign(result, this.c64(1));
    const fail = b.newLabel();
    b.brcond(Cond.NE, addr, this.g.loadRes, fail);
    // Like QEMU, succeed only if memory still holds the value LR saw (compare-and-swap).
    const cur = b.load(Type.I64, addr, (wide ? MemOp.Q : MemOp.SL) | MEMOP_RMW);
    b.brcond(Cond.NE, cur, this.g.loadVal, fail);
    b.store(value, addr, wide ? MemOp.Q : MemOp.UL);
    b.assign(result, this.c64(0));
    b.setLabel(fail);
    b.assign(this.g.loadRes, this.c64(-1));
    this.setX(a.rd, result);
    return true;
  }
  /** amo<op>: rd = old value; memory = op(old, rs2). */
  private amo(a: ArgAtomic, wide: boolean, op: (old: Temp, src: Temp) => Temp): boolean {
    const b = this.b;
    const addr = b.mutableTemp(Type.I64);
    b.assign(addr, this.x(a.rs1));
    // QEMU 7.2 reports misaligned AMOs as load-address-misaligned (cause 4), not
    // store/AMO (cause 6); we match the reference implementation.
    this.checkAligned(addr, wide ? 8 : 4, Cause.LoadMisaligned);
    if (wide) {
      const old = b.load(Type.I64, addr, MemOp.Q | MEMOP_RMW);
      b.store(op(old, this.x(a.rs2)), addr, MemOp.Q);
      this.setX(a.rd, old);
    } else {
      const old = b.load(Type.I32, addr, MemOp.SL | MEMOP_RMW);
      b.store(op(old, b.lo32(this.x(a.rs2))), addr, MemOp.UL);
      this.setX(a.rd, this.sext32(old));
    }
    return true;
  }
  private readonly swap: Alu = (_o, s) => s;
  private readonly minOp: Alu = (o, s) => this.b.movcond(Cond.LT, o, s, o, s);
  private readonly maxOp: Alu = (o, s) => this.b.movcond(Cond.GT, o, s, o, s);
  private readonly minuOp: Alu = (o, s) => this.b.movcond(Cond.LTU, o, s, o, s);
  private readonly maxuOp: Alu = (o, s) => this.b.movcond(Cond.GTU, o, s, o, s);

  trans_lr_w(a: ArgAtomic): boolean { return this.lr(a, false); }
  trans_sc_w(a: ArgAtomic): boolean { return this.sc(a, false); }
  trans_amoswap_w(a: ArgAtomic): boolean { return this.amo(a, false, this.swap); }
  trans_amoadd_w(a: ArgAtomic): boolean { return this.amo(a, false, this.add); }
  trans_amoxor_w(a: ArgAtomic): boolean { return this.amo(a, false, this.xor); }
  trans_amoand_w(a: ArgAtomic): boolean { return this.amo(a, false, this.and); }
  trans_amoor_w(a: ArgAtomic): boolean { return this.amo(a, false, this.or); }
  trans_amomin_w(a: ArgAtomic): boolean { return this.amo(a, false, this.minOp); }
  trans_amomax_w(a: ArgAtomic): boolean { return this.amo(a, false, this.maxOp); }
  trans_amominu_w(a: ArgAtomic): boolean { return this.amo(a, false, this.minuOp); }
  trans_amomaxu_w(a: ArgAtomic): boolean { return this.amo(a, false, this.maxuOp); }
  trans_lr_d(a: ArgAtomic): boolean { return this.lr(a, true); }
  trans_sc_d(a: ArgAtomic): boolean { return this.sc(a, true); }
  trans_amoswap_d(a: ArgAtomic): boolean { return this.amo(a, true, this.swap); }
  trans_amoadd_d(a: ArgAtomic): boolean { return this.amo(a, true, this.add); }
  trans_amoxor_d(a: ArgAtomic): boolean { return this.amo(a, true, this.xor); }
  trans_amoand_d(a: ArgAtomic): boolean { return this.amo(a, true, this.and); }
  trans_amoor_d(a: ArgAtomic): boolean { return this.amo(a, true, this.or); }
  trans_amomin_d(a: ArgAtomic): boolean { return this.amo(a, true, this.minOp); }
  trans_amomax_d(a: ArgAtomic): boolean { return this.amo(a, true, this.maxOp); }
  trans_amominu_d(a: ArgAtomic): boolean { return this.amo(a, true, this.minuOp); }
  trans_amomaxu_d(a: ArgAtomic): boolean { return this.amo(a, true, this.maxuOp); }

  // ---- F and D ----------------------------------------------------------------------------

  /** FP instructions are illegal while mstatus.FS is Off. */
  private fpEnabled(): boolean {
    return this.fs !== FsState.Off;
  }
  /** Before the first FP register write of a block, set mstatus.FS (and SD) to Dirty. */
  private markFsDirty(): void {
    if (this.fs !== FsState.Dirty) {
      this.b.call(this.H.markFsDirty, []);
      this.fs = FsState.Dirty;
    }
  }
  private setF(r: number, v: Temp): void {
    this.markFsDirty();
    this.b.assign(this.g.f[r], v);
  }
  /** The rounding mode operand: static, or frm checked at run time. Null if reserved. */
  private rm(rm: number): Temp | null {
    if (rm === 5 || rm === 6) return null;
    if (rm !== 7) return this.c32(rm);
    const ok = this.b.newLabel();
    this.b.brcond(Cond.LEU, this.g.frm, this.c32(4), ok);
    this.b.call(this.H.raise, [this.c32(Cause.IllegalInsn), this.c64(this.insn >>> 0)]);
    this.b.setLabel(ok);
    return this.g.frm;
  }

  trans_flw(a: ArgI): boolean {
    if (!this.fpEnabled()) return false;
    const v = this.b.load(Type.I32, this.addr(a.rs1, a.imm), MemOp.UL);
    this.setF(a.rd, this.b.concat(v, this.c32(-1)));
    return true;
  }
  trans_fld(a: ArgI): boolean {
    if (!this.fpEnabled()) return false;
    this.setF(a.rd, this.b.load(Type.I64, this.addr(a.rs1, a.imm), MemOp.Q));
    return true;
  }
  trans_fsw(a: ArgS): boolean {
    if (!this.fpEnabled()) return false;
    this.b.store(this.b.lo32(this.g.f[a.rs2]), this.addr(a.rs1, a.imm), MemOp.UL);
    return true;
  }
  trans_fsd(a: ArgS): boolean {
    if (!this.fpEnabled()) return false;
    this.b.store(this.g.f[a.rs2], this.addr(a.rs1, a.imm), MemOp.Q);
    return true;
  }

  /** FP op through a helper: f-register operands in, f-register result out. */
  private fpOp(name: string, rd: number, srcs: number[], rmField: number | null): boolean {
    if (!this.fpEnabled()) return false;
    const args = srcs.map((r) => this.g.f[r]);
    if (rmField !== null) {
      const rm = this.rm(rmField);
      if (!rm) return false;
      args.push(rm);
    }
    this.setF(rd, this.b.call(this.H.fp[name], args)!);
    return true;
  }
  /** FP op producing an integer register result (compare, classify, convert to int). */
  private fpToX(name: string, rd: number, src: number[], rmField: number | null): boolean {
    if (!this.fpEnabled()) return false;
    const args = src.map((r) => this.g.f[r]);
    if (rmField !== null) {
      const rm = this.rm(rmField);
      if (!rm) return false;
      args.push(rm);
    }
    this.setX(rd, this.b.call(this.H.fp[name], args)!);
    return true;
  }
  /** Integer register to FP register conversion. */
  private xToFp(name: string, rd: number, rs1: number, rmField: number): boolean {
    if (!this.fpEnabled()) return false;
    const rm = this.rm(rmField);
    if (!rm) return false;
    this.setF(rd, this.b.call(this.H.fp[name], [this.x(rs1), rm])!);
    return true;
  }

  trans_fmadd_s(a: ArgR4Rm): boolean { return this.fpOp('fmadd_s', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fmsub_s(a: ArgR4Rm): boolean { return this.fpOp('fmsub_s', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fnmsub_s(a: ArgR4Rm): boolean { return this.fpOp('fnmsub_s', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fnmadd_s(a: ArgR4Rm): boolean { return this.fpOp('fnmadd_s', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fadd_s(a: ArgRRm): boolean { return this.fpOp('fadd_s', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fsub_s(a: ArgRRm): boolean { return this.fpOp('fsub_s', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fmul_s(a: ArgRRm): boolean { return this.fpOp('fmul_s', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fdiv_s(a: ArgRRm): boolean { return this.fpOp('fdiv_s', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fsqrt_s(a: ArgR2Rm): boolean { return this.fpOp('fsqrt_s', a.rd, [a.rs1], a.rm); }
  trans_fsgnj_s(a: ArgR): boolean { return this.fpOp('fsgnj_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fsgnjn_s(a: ArgR): boolean { return this.fpOp('fsgnjn_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fsgnjx_s(a: ArgR): boolean { return this.fpOp('fsgnjx_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fmin_s(a: ArgR): boolean { return this.fpOp('fmin_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fmax_s(a: ArgR): boolean { return this.fpOp('fmax_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fcvt_w_s(a: ArgR2Rm): boolean { return this.fpToX('fcvt_w_s', a.rd, [a.rs1], a.rm); }
  trans_fcvt_wu_s(a: ArgR2Rm): boolean { return this.fpToX('fcvt_wu_s', a.rd, [a.rs1], a.rm); }
  trans_fcvt_l_s(a: ArgR2Rm): boolean { return this.fpToX('fcvt_l_s', a.rd, [a.rs1], a.rm); }
  trans_fcvt_lu_s(a: ArgR2Rm): boolean { return this.fpToX('fcvt_lu_s', a.rd, [a.rs1], a.rm); }
  trans_fmv_x_w(a: ArgR2): boolean {
    if (!this.fpEnabled()) return false;
    this.setX(a.rd, this.sext32(this.b.lo32(this.g.f[a.rs1])));
    return true;
  }
  trans_feq_s(a: ArgR): boolean { return this.fpToX('feq_s', a.rd, [a.rs1, a.rs2], null); }
  trans_flt_s(a: ArgR): boolean { return this.fpToX('flt_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fle_s(a: ArgR): boolean { return this.fpToX('fle_s', a.rd, [a.rs1, a.rs2], null); }
  trans_fclass_s(a: ArgR2): boolean { return this.fpToX('fclass_s', a.rd, [a.rs1], null); }
  trans_fcvt_s_w(a: ArgR2Rm): boolean { return this.xToFp('fcvt_s_w', a.rd, a.rs1, a.rm); }
  trans_fcvt_s_wu(a: ArgR2Rm): boolean { return this.xToFp('fcvt_s_wu', a.rd, a.rs1, a.rm); }
  trans_fcvt_s_l(a: ArgR2Rm): boolean { return this.xToFp('fcvt_s_l', a.rd, a.rs1, a.rm); }
  trans_fcvt_s_lu(a: ArgR2Rm): boolean { return this.xToFp('fcvt_s_lu', a.rd, a.rs1, a.rm); }
  trans_fmv_w_x(a: ArgR2): boolean {
    if (!this.fpEnabled()) return false;
    this.setF(a.rd, this.b.concat(this.b.lo32(this.x(a.rs1)), this.c32(-1)));
    return true;
  }

  trans_fmadd_d(a: ArgR4Rm): boolean { return this.fpOp('fmadd_d', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fmsub_d(a: ArgR4Rm): boolean { return this.fpOp('fmsub_d', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fnmsub_d(a: ArgR4Rm): boolean { return this.fpOp('fnmsub_d', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fnmadd_d(a: ArgR4Rm): boolean { return this.fpOp('fnmadd_d', a.rd, [a.rs1, a.rs2, a.rs3], a.rm); }
  trans_fadd_d(a: ArgRRm): boolean { return this.fpOp('fadd_d', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fsub_d(a: ArgRRm): boolean { return this.fpOp('fsub_d', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fmul_d(a: ArgRRm): boolean { return this.fpOp('fmul_d', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fdiv_d(a: ArgRRm): boolean { return this.fpOp('fdiv_d', a.rd, [a.rs1, a.rs2], a.rm); }
  trans_fsqrt_d(a: ArgR2Rm): boolean { return this.fpOp('fsqrt_d', a.rd, [a.rs1], a.rm); }
  trans_fsgnj_d(a: ArgR): boolean { return this.fpOp('fsgnj_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fsgnjn_d(a: ArgR): boolean { return this.fpOp('fsgnjn_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fsgnjx_d(a: ArgR): boolean { return this.fpOp('fsgnjx_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fmin_d(a: ArgR): boolean { return this.fpOp('fmin_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fmax_d(a: ArgR): boolean { return this.fpOp('fmax_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fcvt_s_d(a: ArgR2Rm): boolean { return this.fpOp('fcvt_s_d', a.rd, [a.rs1], a.rm); }
  trans_fcvt_d_s(a: ArgR2Rm): boolean { return this.fpOp('fcvt_d_s', a.rd, [a.rs1], a.rm); }
  trans_feq_d(a: ArgR): boolean { return this.fpToX('feq_d', a.rd, [a.rs1, a.rs2], null); }
  trans_flt_d(a: ArgR): boolean { return this.fpToX('flt_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fle_d(a: ArgR): boolean { return this.fpToX('fle_d', a.rd, [a.rs1, a.rs2], null); }
  trans_fclass_d(a: ArgR2): boolean { return this.fpToX('fclass_d', a.rd, [a.rs1], null); }
  trans_fcvt_w_d(a: ArgR2Rm): boolean { return this.fpToX('fcvt_w_d', a.rd, [a.rs1], a.rm); }
  trans_fcvt_wu_d(a: ArgR2Rm): boolean { return this.fpToX('fcvt_wu_d', a.rd, [a.rs1], a.rm); }
  trans_fcvt_l_d(a: ArgR2Rm): boolean { return this.fpToX('fcvt_l_d', a.rd, [a.rs1], a.rm); }
  trans_fcvt_lu_d(a: ArgR2Rm): boolean { return this.fpToX('fcvt_lu_d', a.rd, [a.rs1], a.rm); }
  trans_fcvt_d_w(a: ArgR2Rm): boolean { return this.xToFp('fcvt_d_w', a.rd, a.rs1, a.rm); }
  trans_fcvt_d_wu(a: ArgR2Rm): boolean { return this.xToFp('fcvt_d_wu', a.rd, a.rs1, a.rm); }
  trans_fcvt_d_l(a: ArgR2Rm): boolean { return this.xToFp('fcvt_d_l', a.rd, a.rs1, a.rm); }
  trans_fcvt_d_lu(a: ArgR2Rm): boolean { return this.xToFp('fcvt_d_lu', a.rd, a.rs1, a.rm); }
  trans_fmv_x_d(a: ArgR2): boolean {
    if (!this.fpEnabled()) return false;
    this.setX(a.rd, this.g.f[a.rs1]);
    return true;
  }
  trans_fmv_d_x(a: ArgR2): boolean {
    if (!this.fpEnabled()) return false;
    this.setF(a.rd, this.x(a.rs1));
    return true;
  }

  // ---- Zba --------------------------------------------------------------------------------

  private zext32(v: Temp): Temp {
    return this.b.extu(v, 32);
  }
  private shadd(a: ArgR, n: number, uw: boolean): boolean {
    const x = uw ? this.zext32(this.x(a.rs1)) : this.x(a.rs1);
    this.setX(a.rd, this.b.add(this.b.shli(x, n), this.x(a.rs2)));
    return true;
  }
  trans_sh1add(a: ArgR): boolean { return this.shadd(a, 1, false); }
  trans_sh2add(a: ArgR): boolean { return this.shadd(a, 2, false); }
  trans_sh3add(a: ArgR): boolean { return this.shadd(a, 3, false); }
  trans_add_uw(a: ArgR): boolean { return this.shadd(a, 0, true); }
  trans_sh1add_uw(a: ArgR): boolean { return this.shadd(a, 1, true); }
  trans_sh2add_uw(a: ArgR): boolean { return this.shadd(a, 2, true); }
  trans_sh3add_uw(a: ArgR): boolean { return this.shadd(a, 3, true); }
  trans_slli_uw(a: ArgShift): boolean {
    this.setX(a.rd, this.b.shli(this.zext32(this.x(a.rs1)), a.shamt));
    return true;
  }

  // ---- Zbb --------------------------------------------------------------------------------

  private unaryHelper(a: ArgR2, helper: number): boolean {
    this.setX(a.rd, this.b.call(helper, [this.x(a.rs1)])!);
    return true;
  }
  private unaryHelperW(a: ArgR2, helper: number): boolean {
    this.setX(a.rd, this.b.extI32(this.b.call(helper, [this.b.lo32(this.x(a.rs1))])!, false));
    return true;
  }
  trans_andn(a: ArgR): boolean { return this.alu(a, (x, y) => this.b.and(x, this.b.not(y))); }
  trans_orn(a: ArgR): boolean { return this.alu(a, (x, y) => this.b.or(x, this.b.not(y))); }
  trans_xnor(a: ArgR): boolean { return this.alu(a, (x, y) => this.b.not(this.b.xor(x, y))); }
  trans_clz(a: ArgR2): boolean { return this.unaryHelper(a, this.H.clz); }
  trans_ctz(a: ArgR2): boolean { return this.unaryHelper(a, this.H.ctz); }
  trans_cpop(a: ArgR2): boolean { return this.unaryHelper(a, this.H.cpop); }
  trans_clzw(a: ArgR2): boolean { return this.unaryHelperW(a, this.H.clzw); }
  trans_ctzw(a: ArgR2): boolean { return this.unaryHelperW(a, this.H.ctzw); }
  trans_cpopw(a: ArgR2): boolean { return this.unaryHelperW(a, this.H.cpopw); }
  trans_orc_b(a: ArgR2): boolean { return this.unaryHelper(a, this.H.orcB); }
  trans_rev8(a: ArgR2): boolean { return this.unaryHelper(a, this.H.rev8); }
  trans_max(a: ArgR): boolean { return this.alu(a, this.maxOp); }
  trans_maxu(a: ArgR): boolean { return this.alu(a, this.maxuOp); }
  trans_min(a: ArgR): boolean { return this.alu(a, this.minOp); }
  trans_minu(a: ArgR): boolean { return this.alu(a, this.minuOp); }
  trans_sext_b(a: ArgR2): boolean {
    this.setX(a.rd, this.b.exts(this.x(a.rs1), 8));
    return true;
  }
  trans_sext_h(a: ArgR2): boolean {
    this.setX(a.rd, this.b.exts(this.x(a.rs1), 16));
    return true;
  }
  trans_zext_h(a: ArgR2): boolean {
    this.setX(a.rd, this.b.extu(this.x(a.rs1), 16));
    return true;
  }
  /** Rotate left by n (mod width): (x << n) | (x >>> (-n mod width)). */
  private rotl(x: Temp, n: Temp): Temp {
    const width = x.type === Type.I64 ? 64 : 32;
    const mask = width - 1;
    const nm = this.b.andi(n, mask);
    const back = this.b.andi(this.b.neg(nm), mask);
    return this.b.or(this.b.shl(x, nm), this.b.shr(x, back));
  }
  trans_rol(a: ArgR): boolean { return this.alu(a, (x, y) => this.rotl(x, y)); }
  trans_ror(a: ArgR): boolean { return this.alu(a, (x, y) => this.rotl(x, this.b.neg(y))); }
  trans_rori(a: ArgShift): boolean {
    this.setX(a.rd, this.rotl(this.x(a.rs1), this.c64(-a.shamt)));
    return true;
  }
  trans_rolw(a: ArgR): boolean { return this.aluW(a, (x, y) => this.rotl(x, y)); }
  trans_rorw(a: ArgR): boolean { return this.aluW(a, (x, y) => this.rotl(x, this.b.neg(y))); }
  trans_roriw(a: ArgShift): boolean {
    this.setX(a.rd, this.sext32(this.rotl(this.b.lo32(this.x(a.rs1)), this.c32(-a.shamt))));
    return true;
  }

  // ---- Zbs --------------------------------------------------------------------------------

  private bit(n: Temp): Temp {
    return this.b.shl(this.c64(1), this.b.andi(n, 63));
  }
  trans_bclr(a: ArgR): boolean { return this.alu(a, (x, n) => this.b.and(x, this.b.not(this.bit(n)))); }
  trans_bset(a: ArgR): boolean { return this.alu(a, (x, n) => this.b.or(x, this.bit(n))); }
  trans_binv(a: ArgR): boolean { return this.alu(a, (x, n) => this.b.xor(x, this.bit(n))); }
  trans_bext(a: ArgR): boolean { return this.alu(a, (x, n) => this.b.andi(this.b.shr(x, this.b.andi(n, 63)), 1)); }
  trans_bclri(a: ArgShift): boolean { return this.shiftImm(a, (x, n) => this.b.and(x, this.b.not(this.bit(n)))); }
  trans_bseti(a: ArgShift): boolean { return this.shiftImm(a, (x, n) => this.b.or(x, this.bit(n))); }
  trans_binvi(a: ArgShift): boolean { return this.shiftImm(a, (x, n) => this.b.xor(x, this.bit(n))); }
  trans_bexti(a: ArgShift): boolean { return this.shiftImm(a, (x, n) => this.b.andi(this.b.shr(x, n), 1)); }
}

