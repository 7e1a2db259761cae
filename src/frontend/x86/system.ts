/**
 * x86 system instructions run by helpers: CPUID, MSRs, control and debug registers,
 * descriptor tables, segment loads, far transfers, INT/IRET, SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, port I/O, division, BCD adjustment. Each reads and writes registers
 * in the state words and throws GuestFault for an exception at the instruction (SDM
 * Vol. 2 for each instruction's operation, Vol. 3 chapters 5-6 for the checks).
 */
import {
  ATTR_DB, ATTR_DPL_SHIFT, ATTR_L, ATTR_P, ATTR_S, CR0_PE, CR0_TS, CR4_TSD, EFER_LMA, EFER_SCE, GuestFault, X86Cpu, CR0_MP, CR0_EM,
} from './cpu.js';
import { SysOp } from './helpers.js';
import type { I64Ops } from '../../backend/wasm-i64.js';
import {
  AC, CC_OP, CC_SRC, EFLAGS, FPU_SW, FPU_TAG, FPU_TOP, GPR_BASE, ID, IF, IOPL, IOPL_SHIFT, MXCSR, NT, RF, Seg, TF, VM,
  Vector, AF, CF, ZF, SF, PF, OF,
} from './state.js';
import { CC_OP_EFLAGS } from './flags.js';

const lo32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
/** The unsigned 64-bit value of (lo, hi), without BigInt.asUintN (see u64 in cpu.ts). */
const big = (lo: number, hi: number): bigint => BigInt(hi >>> 0) * 0x100000000n + BigInt(lo >>> 0);
const MASK = [0n, 0xffn, 0xffffn, 0n, 0xffffffffn, 0n, 0n, 0n, 0xffffffffffffffffn];

export class X86System {
  constructor(private readonly cpu: X86Cpu) {}

  private reg(r: number): bigint {
    return this.cpu.getReg(r);
  }
  private setReg32(r: number, v: number): void {
    this.cpu.setReg(r, BigInt(v >>> 0));
  }
  private gp0(): never {
    throw new GuestFault(Vector.GP, 0);
  }
  private needCpl0(): void {
    if (this.cpu.cpl !== 0) this.gp0();
  }
  private is64(): boolean {
    return this.cpu.codeSize() === 64;
  }

  run(op: number, arg: number, value: number, lo: number, hi: number): number {
    const cpu = this.cpu;
    switch (op as SysOp) {
      case SysOp.Cpuid: {
        const [a, b, c, d] = cpu.cpuidLeaf(Number(this.reg(0) & 0xffffffffn), Number(this.reg(1) & 0xffffffffn));
        this.setReg32(0, a);
        this.setReg32(3, b);
        this.setReg32(1, c);
        this.setReg32(2, d);
        return 0;
      }
      case SysOp.Rdtsc:
      case SysOp.Rdtscp: {
        if (cpu.cr4 & CR4_TSD && cpu.cpl !== 0 && cpu.cr0 & CR0_PE) this.gp0();
        const t = cpu.tsc();
        this.setReg32(0, lo32(t));
        this.setReg32(2, hi32(t));
        if (op === SysOp.Rdtscp) this.setReg32(1, Number(cpu.tscAux));
        return 0;
      }
      case SysOp.Rdpmc:
        this.needCpl0();
        this.setReg32(0, 0);
        this.setReg32(2, 0);
        return 0;
      case SysOp.Rdmsr: {
        this.needCpl0();
        const v = cpu.rdmsr(Number(this.reg(1) & 0xffffffffn));
        this.setReg32(0, lo32(v));
        this.setReg32(2, hi32(v));
        return 0;
      }
      case SysOp.Wrmsr:
        this.needCpl0();
        cpu.wrmsr(Number(this.reg(1) & 0xffffffffn), ((this.reg(2) & 0xffffffffn) << 32n) | (this.reg(0) & 0xffffffffn));
        return 0;
      case SysOp.Hlt:
        this.needCpl0();
        cpu.halted = true;
        return 0;
      case SysOp.Mwait:
        this.needCpl0();
        return 0;
      case SysOp.Cli:
      case SysOp.Sti: {
        if (!this.ioplOk()) this.gp0();
        const f = cpu.state[EFLAGS];
        if (op === SysOp.Cli) cpu.state[EFLAGS] = f & ~IF;
        else {
          cpu.state[EFLAGS] = f | IF;
          if (!(f & IF)) cpu.inhibitForOneInstruction();
        }
        cpu.interruptCheckNeeded = true;
        return 0;
      }
      case SysOp.LoadSeg:
        cpu.loadDataSegment(arg, value);
        return 0;
      case SysOp.MovFromCr: {
        this.needCpl0();
        const v = this.readCr(arg);
        cpu.setReg(value, this.is64() ? v : v & 0xffffffffn);
        return 0;
      }
      case SysOp.MovToCr:
        this.needCpl0();
        this.writeCr(arg, big(lo, hi));
        return 0;
      case SysOp.MovFromDr:
        this.needCpl0();
        cpu.setReg(value, cpu.dr[arg] ?? 0n);
        return 0;
      case SysOp.MovToDr:
        this.needCpl0();
        cpu.dr[arg] = big(lo, hi);
        return 0;
      case SysOp.DescTable:
        return this.descTable(arg, value, big(lo, hi));
      case SysOp.Lldt:
      case SysOp.Ltr:
        return this.loadSystemSegment(op === SysOp.Ltr, value & 0xffff);
      case SysOp.Sldt:
        return cpu.ldtSel;
      case SysOp.Str:
        return cpu.trSel;
      case SysOp.Invlpg:
        this.needCpl0();
        cpu.flushTlbPage(lo, hi);
        return 0;
      case SysOp.Clts:
        this.needCpl0();
        cpu.writeCr0(cpu.cr0 & ~CR0_TS);
        return 0;
      case SysOp.Lmsw:
        this.needCpl0();
        // LMSW sets PE (never clears it), MP, EM, TS.
        cpu.writeCr0((cpu.cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) | (value & 0xf) | (cpu.cr0 & CR0_PE));
        return 0;
      case SysOp.Smsw:
        return cpu.cr0;
      case SysOp.NeedCpl0:
        this.needCpl0();
        return 0;
      // The translator has set the pc to the next instruction before these: cpu.rip is
      // the return address.
      case SysOp.Int:
        return this.softwareInterrupt(arg, cpu.rip);
      case SysOp.Into:
        return this.softwareInterrupt(Vector.OF, cpu.rip);
      case SysOp.Iret:
        return this.iret(value);
      case SysOp.FarJump:
        return this.farJump((arg & 1) !== 0, arg >> 4, value & 0xffff, big(lo, hi), cpu.rip);
      case SysOp.FarRet:
        return this.farRet(value, arg);
      case SysOp.Syscall:
        return this.syscall(cpu.rip);
      case SysOp.Sysret:
        return this.sysret(arg);
      case SysOp.Sysenter:
        return this.sysenter();
      case SysOp.Sysexit:
        return this.sysexit(arg);
      case SysOp.Swapgs: {
        if (!this.is64()) throw new GuestFault(Vector.UD, -1);
        this.needCpl0();
        const gs = cpu.segBase(Seg.GS);
        cpu.setSegmentRaw(Seg.GS, cpu.segSel(Seg.GS), cpu.kernelGsBase, cpu.segLimit(Seg.GS), cpu.segAttr(Seg.GS));
        cpu.kernelGsBase = gs;
        return 0;
      }
      case SysOp.CheckSeg: {
        // arg: which | dest register << 4 | operand size << 8. LAR/LSL write it on success.
        const r = this.checkSegment(arg & 15, value & 0xffff);
        if ((arg & 15) < 2 && cpu.eflags & ZF) {
          const size = arg >> 8, dest = (arg >> 4) & 15;
          cpu.setReg(dest, size === 2 ? (cpu.getReg(dest) & ~0xffffn) | BigInt(r & 0xffff) : BigInt(r >>> 0));
        }
        return 0;
      }
      case SysOp.ReadSeg:
        return cpu.segSel(arg);
      case SysOp.ClearInhibit:
        cpu.clearInhibit();
        return 0;
      case SysOp.RaisePending:
        throw new GuestFault(cpu.pendingVector, cpu.pendingError);
      case SysOp.FpuStoreSw:
        return (cpu.state[FPU_SW] & ~0x3800) | ((cpu.state[FPU_TOP] & 7) << 11);
      case SysOp.LdMxcsr:
        if (value & ~0xffff) this.gp0(); // reserved bits (MXCSR_MASK = 0xffff)
        cpu.state[MXCSR] = value;
        return 0;
      case SysOp.StMxcsr:
        return cpu.state[MXCSR];
      case SysOp.Emms:
        cpu.state[FPU_TAG] = 0xffff;
        return 0;
      case SysOp.Enter:
        return this.enter(lo, arg, value); // frame size, nesting level, operand size
      case SysOp.Bound: {
        // arg: operand size; value: the index; (lo, hi): the bounds' linear address.
        const size = arg;
        const at = big(lo, hi);
        const lower = BigInt.asIntN(size * 8, cpu.readLinear(at, size, cpu.cpl === 3));
        const upper = BigInt.asIntN(size * 8, cpu.readLinear(at + BigInt(size), size, cpu.cpl === 3));
        const index = BigInt(size === 2 ? (value << 16) >> 16 : value | 0);
        if (index < lower || index > upper) throw new GuestFault(Vector.BR, -1);
        return 0;
      }
      case SysOp.SingleStep:
        cpu.dr[6] |= 0x4000n; // BS
        cpu.deliver(Vector.DB, -1, false, cpu.rip);
        return 0;
      case SysOp.FwaitCheck:
        if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new GuestFault(Vector.NM, -1);
        return 0;
    }
    throw new Error(`x86 system helper: unknown operation ${op}`);
  }

  private ioplOk(): boolean {
    const cpu = this.cpu;
    if (!(cpu.cr0 & CR0_PE)) return true;
    const iopl = (cpu.state[EFLAGS] & IOPL) >> IOPL_SHIFT;
    return cpu.cpl <= iopl;
  }

  private readCr(n: number): bigint {
    const cpu = this.cpu;
    switch (n) {
      case 0: return BigInt(cpu.cr0 >>> 0);
      case 2: return big(cpu.cr2lo, cpu.cr2hi);
      case 3: return BigInt(cpu.cr3);
      case 4: return BigInt(cpu.cr4 >>> 0);
      case 8: return BigInt(cpu.cr8);
    }
    throw new GuestFault(Vector.UD, -1);
  }
  private writeCr(n: number, v: bigint): void {
    const cpu = this.cpu;
    switch (n) {
      case 0:
        if (v >> 32n) this.gp0();
        cpu.writeCr0(Number(v) | 0);
        return;
      case 2:
        cpu.cr2lo = lo32(v);
        cpu.cr2hi = hi32(v);
        return;
      case 3:
        cpu.writeCr3(Number(v & 0xffffffffff000n) + Number(v & 0xfe0n));
        return;
      case 4: {
        const allowed = 0x7ff; // VME..OSXMMEXCPT; nothing later is offered by CPUID
        if (Number(v) & ~allowed || v >> 32n) this.gp0();
        if (cpu.efer & EFER_LMA && !(Number(v) & 0x20)) this.gp0(); // PAE must stay on in long mode
        cpu.writeCr4(Number(v) | 0);
        return;
      }
      case 8:
        cpu.cr8 = Number(v & 15n);
        return;
    }
    throw new GuestFault(Vector.UD, -1);
  }

  private descTable(which: number, opSize: number, addr: bigint): number {
    const cpu = this.cpu;
    const wide = this.is64() ? 8 : 4;
    if (which < 2) {
      this.needCpl0();
      const limit = Number(cpu.readLinear(addr, 2));
      let base = cpu.readLinear(addr + 2n, wide);
      if (!this.is64() && opSize === 2) base &= 0xffffffn;
      if (which === 0) {
        cpu.gdtBase = base;
        cpu.gdtLimit = limit;
      } else {
        cpu.idtBase = base;
        cpu.idtLimit = limit;
      }
      return 0;
    }
    const base = which === 2 ? cpu.gdtBase : cpu.idtBase;
    const limit = which === 2 ? cpu.gdtLimit : cpu.idtLimit;
    cpu.writeLinear(addr, 2, BigInt(limit), cpu.cpl === 3);
    cpu.writeLinear(addr + 2n, wide, base & (wide === 8 ? MASK[8] : 0xffffffffn), cpu.cpl === 3);
    return 0;
  }

  private loadSystemSegment(tr: boolean, sel: number): number {
    const cpu = this.cpu;
    if (!(cpu.cr0 & CR0_PE) || cpu.state[EFLAGS] & VM) throw new GuestFault(Vector.UD, -1);
    this.needCpl0();
    if ((sel & ~3) === 0) {
      if (tr) this.gp0();
      cpu.ldtSel = 0;
      cpu.ldtBase = 0n;
      cpu.ldtLimit = 0;
      return 0;
    }
    if (sel & 4) throw new GuestFault(Vector.GP, sel & 0xfffc);
    const index = sel & ~7;
    const wide = cpu.efer & EFER_LMA ? 16 : 8;
    if (index + wide - 1 > cpu.gdtLimit) throw new GuestFault(Vector.GP, sel & 0xfffc);
    const addr = cpu.gdtBase + BigInt(index);
    const raw = cpu.readLinear(addr, 8);
    const dlo = lo32(raw), dhi = hi32(raw);
    const attr = X86Cpu.descAttr(dhi);
    const type = attr & 0xf;
    if (attr & ATTR_S || (tr ? type !== 1 && type !== 9 : type !== 2)) throw new GuestFault(Vector.GP, sel & 0xfffc);
    if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
    let base = X86Cpu.descBase(dlo, dhi);
    if (wide === 16) base |= (cpu.readLinear(addr + 8n, 4) << 32n);
    const limit = X86Cpu.descLimit(dlo, dhi);
    if (tr) {
      // Mark the TSS busy in its descriptor.
      cpu.writeLinear(addr + 5n, 1, BigInt(((dhi >>> 8) | 2) & 0xff));
      cpu.trSel = sel;
      cpu.trBase = base;
      cpu.trLimit = limit;
      cpu.trAttr = attr | 2;
    } else {
      cpu.ldtSel = sel;
      cpu.ldtBase = base;
      cpu.ldtLimit = limit;
    }
    return 0;
  }

  private softwareInterrupt(vector: number, returnRip: bigint): number {
    const cpu = this.cpu;
    if (cpu.state[EFLAGS] & VM && ((cpu.state[EFLAGS] & IOPL) >> IOPL_SHIFT) < 3) this.gp0();
    cpu.deliver(vector, -1, true, returnRip);
    return 0;
  }

  // ---- far transfers -------------------------------------------------------------------------

  private farJump(call: boolean, opSize: number, sel: number, offset: bigint, returnRip: bigint): number {
    const cpu = this.cpu;
    if (!(cpu.cr0 & CR0_PE) || cpu.state[EFLAGS] & VM) {
      if (call) {
        cpu.push(BigInt(cpu.segSel(Seg.CS)), opSize);
        cpu.push(returnRip, opSize);
      }
      cpu.setSegmentRaw(Seg.CS, sel, BigInt(sel << 4), cpu.segLimit(Seg.CS), cpu.segAttr(Seg.CS));
      cpu.setRip(offset & (opSize === 2 ? 0xffffn : 0xffffffffn));
      return 0;
    }
    if ((sel & ~3) === 0) this.gp0();
    const [dlo, dhi] = this.descriptor(sel);
    const attr = X86Cpu.descAttr(dhi);
    const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
    const rpl = sel & 3;
    if (attr & ATTR_S) {
      if (!(attr & 8)) throw new GuestFault(Vector.GP, sel & 0xfffc);
      const conforming = (attr & 4) !== 0;
      if (conforming ? dpl > cpu.cpl : rpl > cpu.cpl || dpl !== cpu.cpl) throw new GuestFault(Vector.GP, sel & 0xfffc);
      if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
      const target = opSize === 8 ? offset : offset & (opSize === 4 ? 0xffffffffn : 0xffffn);
      if (!(attr & ATTR_L && cpu.efer & EFER_LMA) && target > BigInt(X86Cpu.descLimit(dlo, dhi))) this.gp0();
      if (call) {
        cpu.push(BigInt(cpu.segSel(Seg.CS)), opSize);
        cpu.push(returnRip, opSize);
      }
      this.enterCode(sel, dlo, dhi, cpu.cpl);
      cpu.setRip(target);
      return 0;
    }
    // A call gate (type 4 16-bit, 12 32/64-bit).
    const type = attr & 0xf;
    if (type !== 4 && type !== 12) throw new GuestFault(Vector.GP, sel & 0xfffc);
    if (dpl < cpu.cpl || rpl > dpl) throw new GuestFault(Vector.GP, sel & 0xfffc);
    if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
    const target = dlo >>> 16;
    let gateOffset = BigInt(type === 12 ? ((dlo & 0xffff) | (dhi & 0xffff0000)) >>> 0 : dlo & 0xffff);
    if (cpu.efer & EFER_LMA) gateOffset |= cpu.readLinear(cpu.gdtBase + BigInt((sel & ~7) + 8), 4) << 32n;
    const [clo, chi] = this.descriptor(target);
    const cattr = X86Cpu.descAttr(chi);
    const cdpl = (cattr >> ATTR_DPL_SHIFT) & 3;
    if (!(cattr & ATTR_S) || !(cattr & 8) || cdpl > cpu.cpl) throw new GuestFault(Vector.GP, target & 0xfffc);
    if (!(cattr & ATTR_P)) throw new GuestFault(Vector.NP, target & 0xfffc);
    const gateSize = cpu.efer & EFER_LMA ? 8 : type === 12 ? 4 : 2;
    const oldCs = cpu.segSel(Seg.CS);
    if (call && !(cattr & 4) && cdpl < cpu.cpl) {
      // To an inner ring: switch stacks from the TSS, and copy the gate's parameter count
      // of words from the caller's stack (read first: a fault there changes nothing).
      const oldSs = cpu.segSel(Seg.SS), oldSp = cpu.getReg(4);
      const count = cpu.efer & EFER_LMA ? 0 : dhi & 31;
      const oldSsBase = cpu.segBase(Seg.SS);
      const spMask = cpu.segAttr(Seg.SS) & ATTR_DB ? 0xffffffffn : 0xffffn;
      const params: bigint[] = [];
      for (let i = count - 1; i >= 0; i--) {
        params.push(cpu.readLinear(oldSsBase + ((oldSp + BigInt(i * gateSize)) & spMask), gateSize, cpu.cpl === 3));
      }
      if (cpu.efer & EFER_LMA) {
        const sp = cpu.readLinear(cpu.trBase + BigInt(4 + 8 * cdpl), 8);
        cpu.setSegmentRaw(Seg.SS, cdpl, 0n, 0, 0);
        this.enterCode(target, clo, chi, cdpl);
        cpu.setReg(4, sp);
      } else {
        const at = 4 + cdpl * 8;
        const sp = cpu.readLinear(cpu.trBase + BigInt(at), 4);
        const ss = Number(cpu.readLinear(cpu.trBase + BigInt(at + 4), 2));
        const [slo, shi] = this.descriptor(ss);
        cpu.cpl = cdpl;
        cpu.setSegmentRaw(Seg.SS, ss, X86Cpu.descBase(slo, shi), X86Cpu.descLimit(slo, shi), X86Cpu.descAttr(shi) | 1);
        this.enterCode(target, clo, chi, cdpl);
        cpu.setReg(4, sp);
      }
      cpu.push(BigInt(oldSs), gateSize);
      cpu.push(oldSp, gateSize);
      for (const p of params) cpu.push(p, gateSize);
      cpu.push(BigInt(oldCs), gateSize);
      cpu.push(returnRip, gateSize);
    } else {
      if (call) {
        cpu.push(BigInt(oldCs), gateSize);
        cpu.push(returnRip, gateSize);
      }
      this.enterCode(target, clo, chi, cpu.cpl);
    }
    cpu.setRip(gateOffset);
    return 0;
  }
  private enterCode(sel: number, lo: number, hi: number, cpl: number): void {
    const cpu = this.cpu;
    cpu.cpl = cpl;
    cpu.setSegmentRaw(Seg.CS, (sel & ~3) | cpl, X86Cpu.descBase(lo, hi), X86Cpu.descLimit(lo, hi), X86Cpu.descAttr(hi) | 1);
  }

  private descriptor(sel: number): [number, number] {
    const cpu = this.cpu;
    const ldt = (sel & 4) !== 0;
    const limit = ldt ? cpu.ldtLimit : cpu.gdtLimit;
    if ((sel & ~7) + 7 > limit) throw new GuestFault(Vector.GP, sel & 0xfffc);
    const raw = cpu.readLinear((ldt ? cpu.ldtBase : cpu.gdtBase) + BigInt(sel & ~7), 8);
    return [lo32(raw), hi32(raw)];
  }

  private farRet(release: number, opSize: number): number {
    const cpu = this.cpu;
    const rip = cpu.pop(opSize);
    const sel = Number(cpu.pop(opSize) & 0xffffn);
    if (!(cpu.cr0 & CR0_PE) || cpu.state[EFLAGS] & VM) {
      cpu.setSegmentRaw(Seg.CS, sel, BigInt(sel << 4), cpu.segLimit(Seg.CS), cpu.segAttr(Seg.CS));
      cpu.setRip(rip);
      this.releaseStack(release);
      return 0;
    }
    const rpl = sel & 3;
    if ((sel & ~3) === 0 || rpl < cpu.cpl) throw new GuestFault(Vector.GP, sel & 0xfffc);
    const [dlo, dhi] = this.descriptor(sel);
    const attr = X86Cpu.descAttr(dhi);
    if (!(attr & ATTR_S) || !(attr & 8)) throw new GuestFault(Vector.GP, sel & 0xfffc);
    if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
    if (rpl > cpu.cpl) {
      // To an outer ring: pop the caller's stack too.
      this.releaseStack(release);
      const sp = cpu.pop(opSize);
      const ss = Number(cpu.pop(opSize) & 0xffffn);
      this.enterCode(sel, dlo, dhi, rpl);
      this.loadStackSegment(ss, rpl);
      cpu.setReg(4, sp);
      cpu.setRip(rip);
      this.releaseStack(release);
      this.nullifyDataSegments(rpl);
      return 0;
    }
    this.enterCode(sel, dlo, dhi, cpu.cpl);
    cpu.setRip(rip);
    this.releaseStack(release);
    return 0;
  }

  private releaseStack(bytes: number): void {
    if (bytes) {
      const cpu = this.cpu;
      cpu.setReg(4, cpu.getReg(4) + BigInt(bytes));
    }
  }

  private loadStackSegment(ss: number, cpl: number): void {
    const cpu = this.cpu;
    if ((ss & ~3) === 0 && cpu.efer & EFER_LMA) {
      cpu.setSegmentRaw(Seg.SS, ss, 0n, 0, 0);
      return;
    }
    const saved = cpu.cpl;
    cpu.cpl = cpl;
    try {
      cpu.loadDataSegment(Seg.SS, ss);
    } catch (e) {
      cpu.cpl = saved;
      throw e;
    }
  }

  /** After a return to an outer ring, data segments the new CPL may not use become null. */
  private nullifyDataSegments(cpl: number): void {
    const cpu = this.cpu;
    for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
      const attr = cpu.segAttr(s);
      const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
      const conformingCode = (attr & 0x1c) === 0x1c;
      if (!conformingCode && dpl < cpl && (cpu.segSel(s) & ~3) !== 0) cpu.setSegmentRaw(s, 0, 0n, 0, 0);
    }
  }

  private iret(opSize: number): number {
    const cpu = this.cpu;
    const eflagsNow = cpu.state[EFLAGS];
    if (!(cpu.cr0 & CR0_PE)) {
      const rip = cpu.pop(opSize);
      const sel = Number(cpu.pop(opSize) & 0xffffn);
      const flags = Number(cpu.pop(opSize) & 0xffffffffn);
      cpu.setSegmentRaw(Seg.CS, sel, BigInt(sel << 4), cpu.segLimit(Seg.CS), cpu.segAttr(Seg.CS));
      cpu.setRip(rip & 0xffffn);
      const keep = opSize === 2 ? ~0xffff : VM | 0x1a0000; // VM, VIF, VIP stay
      cpu.eflags = (cpu.eflags & keep) | (flags & ~keep);
      return 0;
    }
    if (eflagsNow & VM) {
      if (((eflagsNow & IOPL) >> IOPL_SHIFT) !== 3) this.gp0();
      const rip = cpu.pop(opSize);
      const sel = Number(cpu.pop(opSize) & 0xffffn);
      const flags = Number(cpu.pop(opSize) & 0xffffffffn);
      cpu.setSegmentRaw(Seg.CS, sel, BigInt(sel << 4), cpu.segLimit(Seg.CS), cpu.segAttr(Seg.CS));
      cpu.setRip(rip & 0xffffn);
      const keep = IOPL | VM | (opSize === 2 ? ~0xffff : 0);
      cpu.eflags = (cpu.eflags & keep) | (flags & ~keep);
      return 0;
    }
    if (eflagsNow & NT && !(cpu.efer & EFER_LMA)) this.gp0(); // task return: not supported
    const rip = cpu.pop(opSize);
    const sel = Number(cpu.pop(opSize) & 0xffffn);
    const flags = Number(cpu.pop(opSize) & 0xffffffffn);
    const rpl = sel & 3;
    if (flags & VM && cpu.cpl === 0 && opSize === 4) return this.iretToVm86(rip, sel, flags);
    if ((sel & ~3) === 0 || rpl < cpu.cpl) throw new GuestFault(Vector.GP, sel & 0xfffc);
    const [dlo, dhi] = this.descriptor(sel);
    const attr = X86Cpu.descAttr(dhi);
    if (!(attr & ATTR_S) || !(attr & 8)) throw new GuestFault(Vector.GP, sel & 0xfffc);
    if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
    const oldCpl = cpu.cpl;
    const outer = rpl > oldCpl || opSize === 8; // 64-bit IRET always pops SS:RSP
    let sp = 0n, ss = 0;
    if (outer) {
      sp = cpu.pop(opSize);
      ss = Number(cpu.pop(opSize) & 0xffffn);
    }
    this.enterCode(sel, dlo, dhi, rpl);
    if (outer) {
      this.loadStackSegment(ss, rpl);
      cpu.setReg(4, sp);
    }
    cpu.setRip(attr & ATTR_L && cpu.efer & EFER_LMA ? rip : rip & 0xffffffffn);
    this.writeFlags(flags, opSize, oldCpl);
    if (rpl > oldCpl) this.nullifyDataSegments(rpl);
    return 0;
  }

  private iretToVm86(rip: bigint, sel: number, flags: number): number {
    const cpu = this.cpu;
    const sp = cpu.pop(4);
    const ss = Number(cpu.pop(4) & 0xffffn);
    const es = Number(cpu.pop(4) & 0xffffn), ds = Number(cpu.pop(4) & 0xffffn);
    const fs = Number(cpu.pop(4) & 0xffffn), gs = Number(cpu.pop(4) & 0xffffn);
    cpu.eflags = flags | VM;
    cpu.cpl = 3;
    const real = (s: number, v: number) => cpu.setSegmentRaw(s, v, BigInt(v << 4), 0xffff, ATTR_P | ATTR_S | 3 | (3 << ATTR_DPL_SHIFT));
    real(Seg.CS, sel);
    real(Seg.SS, ss);
    real(Seg.ES, es);
    real(Seg.DS, ds);
    real(Seg.FS, fs);
    real(Seg.GS, gs);
    cpu.setReg(4, sp & 0xffffn);
    cpu.setRip(rip & 0xffffn);
    return 0;
  }

  /** Write EFLAGS from IRET/POPF with the privilege rules for IF and IOPL. */
  private writeFlags(value: number, opSize: number, cpl: number): void {
    const cpu = this.cpu;
    const old = cpu.eflags;
    let mask = 0x3f7fd5 & ~(VM | 0x180000); // everything but VM, VIF, VIP and reserved bits
    if (opSize === 2) mask &= 0xffff;
    if (cpl > 0) mask &= ~IOPL;
    if (cpl > ((old & IOPL) >> IOPL_SHIFT)) mask &= ~IF;
    cpu.eflags = (old & ~mask) | (value & mask);
  }

  popf(value: number, opSize: number): number {
    const cpu = this.cpu;
    const old = cpu.eflags;
    if (old & VM && ((old & IOPL) >> IOPL_SHIFT) < 3) this.gp0();
    let mask = (TF | AC | ID | NT | 0xfd5 | IOPL | IF) & ~0; // arithmetic flags, DF, TF, IF, IOPL, NT, AC, ID
    if (opSize === 2) mask &= 0xffff;
    if (cpu.cr0 & CR0_PE && !(old & VM)) {
      if (cpu.cpl > 0) mask &= ~IOPL;
      if (cpu.cpl > ((old & IOPL) >> IOPL_SHIFT)) mask &= ~IF;
    } else if (old & VM) {
      mask &= ~IOPL;
    }
    cpu.eflags = (old & ~mask) | (value & mask);
    return 0;
  }

  // ---- fast system calls ---------------------------------------------------------------------

  private syscall(nextRip: bigint): number {
    const cpu = this.cpu;
    if (!(cpu.efer & EFER_SCE)) throw new GuestFault(Vector.UD, -1);
    const sel = Number((cpu.star >> 32n) & 0xfffcn);
    if (cpu.efer & EFER_LMA) {
      cpu.setReg(1, nextRip);
      cpu.setReg(11, BigInt(cpu.eflags >>> 0) & ~BigInt(RF));
      const long = this.is64();
      cpu.cpl = 0;
      cpu.setSegmentRaw(Seg.CS, sel, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | ATTR_L | (1 << 15));
      cpu.setSegmentRaw(Seg.SS, sel + 8, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | ATTR_DB | (1 << 15));
      cpu.eflags = cpu.eflags & ~Number(cpu.fmask) & ~RF;
      cpu.setRip(long ? cpu.lstar : cpu.cstar);
    } else {
      cpu.setReg(1, nextRip & 0xffffffffn);
      cpu.cpl = 0;
      cpu.setSegmentRaw(Seg.CS, sel, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | ATTR_DB | (1 << 15));
      cpu.setSegmentRaw(Seg.SS, sel + 8, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | ATTR_DB | (1 << 15));
      cpu.eflags = cpu.eflags & ~(IF | RF | VM);
      cpu.setRip(cpu.star & 0xffffffffn);
    }
    return 0;
  }

  private sysret(opSize: number): number {
    const cpu = this.cpu;
    if (!(cpu.efer & EFER_SCE)) throw new GuestFault(Vector.UD, -1);
    if (cpu.cpl !== 0 || !(cpu.cr0 & CR0_PE)) this.gp0();
    const base = Number((cpu.star >> 48n) & 0xffffn);
    const dpl3 = 3 << ATTR_DPL_SHIFT;
    if (cpu.efer & EFER_LMA) {
      const to64 = opSize === 8;
      const sel = to64 ? base + 16 : base;
      cpu.eflags = Number(cpu.getReg(11) & 0x3c7fd7n) | 2;
      cpu.cpl = 3;
      cpu.setSegmentRaw(Seg.CS, sel | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | dpl3 | (to64 ? ATTR_L : ATTR_DB) | (1 << 15));
      cpu.setSegmentRaw(Seg.SS, (base + 8) | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | dpl3 | ATTR_DB | (1 << 15));
      cpu.setRip(to64 ? cpu.getReg(1) : cpu.getReg(1) & 0xffffffffn);
    } else {
      cpu.eflags = cpu.eflags | IF;
      cpu.cpl = 3;
      cpu.setSegmentRaw(Seg.CS, base | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | dpl3 | ATTR_DB | (1 << 15));
      cpu.setSegmentRaw(Seg.SS, (base + 8) | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | dpl3 | ATTR_DB | (1 << 15));
      cpu.setRip(cpu.getReg(1) & 0xffffffffn);
    }
    return 0;
  }

  private sysenter(): number {
    const cpu = this.cpu;
    const cs = cpu.sysenterCs & 0xfffc;
    if (!(cpu.cr0 & CR0_PE) || cs === 0) this.gp0();
    const long = (cpu.efer & EFER_LMA) !== 0;
    cpu.eflags = cpu.eflags & ~(VM | IF | RF);
    cpu.cpl = 0;
    cpu.setSegmentRaw(Seg.CS, cs, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | (long ? ATTR_L : ATTR_DB) | (1 << 15));
    cpu.setSegmentRaw(Seg.SS, cs + 8, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | ATTR_DB | (1 << 15));
    cpu.setReg(4, long ? cpu.sysenterEsp : cpu.sysenterEsp & 0xffffffffn);
    cpu.setRip(long ? cpu.sysenterEip : cpu.sysenterEip & 0xffffffffn);
    return 0;
  }

  private sysexit(opSize: number): number {
    const cpu = this.cpu;
    const cs = cpu.sysenterCs & 0xfffc;
    if (!(cpu.cr0 & CR0_PE) || cs === 0 || cpu.cpl !== 0) this.gp0();
    const dpl3 = 3 << ATTR_DPL_SHIFT;
    const to64 = opSize === 8;
    const sel = to64 ? cs + 32 : cs + 16;
    cpu.cpl = 3;
    cpu.setSegmentRaw(Seg.CS, sel | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 0xb | dpl3 | (to64 ? ATTR_L : ATTR_DB) | (1 << 15));
    cpu.setSegmentRaw(Seg.SS, (sel + 8) | 3, 0n, 0xffffffff, ATTR_P | ATTR_S | 3 | dpl3 | ATTR_DB | (1 << 15));
    cpu.setReg(4, to64 ? cpu.getReg(1) : cpu.getReg(1) & 0xffffffffn);
    cpu.setRip(to64 ? cpu.getReg(2) : cpu.getReg(2) & 0xffffffffn);
    return 0;
  }

  // ---- LAR, LSL, VERR, VERW --------------------------------------------------------------------

  /** Returns the result value; ZF is set through the lazy flags (CC_OP = EFLAGS). */
  private checkSegment(which: number, sel: number): number {
    const cpu = this.cpu;
    if (!(cpu.cr0 & CR0_PE) || cpu.state[EFLAGS] & VM) throw new GuestFault(Vector.UD, -1);
    const flags = cpu.eflags;
    const fail = () => {
      cpu.eflags = flags & ~ZF;
      return -1;
    };
    if ((sel & ~3) === 0) return fail();
    const ldt = (sel & 4) !== 0;
    if ((sel & ~7) + 7 > (ldt ? cpu.ldtLimit : cpu.gdtLimit)) return fail();
    const raw = cpu.readLinear((ldt ? cpu.ldtBase : cpu.gdtBase) + BigInt(sel & ~7), 8);
    const dlo = lo32(raw), dhi = hi32(raw);
    const attr = X86Cpu.descAttr(dhi);
    const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
    const code = (attr & ATTR_S) !== 0 && (attr & 8) !== 0;
    const conforming = code && (attr & 4) !== 0;
    if (!conforming && (dpl < cpu.cpl || dpl < (sel & 3))) return fail();
    if (!(attr & ATTR_S)) {
      const type = attr & 0xf;
      const okLar = [1, 2, 3, 4, 5, 9, 11, 12].includes(type);
      const okLsl = [1, 2, 3, 9, 11].includes(type);
      if (which >= 2 || (which === 0 ? !okLar : !okLsl)) return fail();
    } else if (which === 2 && code && !(attr & 2)) return fail();
    else if (which === 3 && (code || !(attr & 2))) return fail();
    cpu.eflags = flags | ZF;
    if (which === 0) return dhi & 0x00f0ff00;
    if (which === 1) return X86Cpu.descLimit(dlo, dhi) | 0;
    return 0;
  }

  private enter(frame: number, level: number, opSize: number): number {
    const cpu = this.cpu;
    level &= 31;
    const bp = cpu.getReg(5);
    cpu.push(bp, opSize);
    const frameTemp = cpu.getReg(4);
    const ssMask = this.is64() ? MASK[8] : cpu.tbFlags() & (1 << 5) ? 0xffffffffn : 0xffffn;
    if (level > 0) {
      let p = bp;
      for (let i = 1; i < level; i++) {
        p = (p - BigInt(opSize)) & ssMask;
        cpu.push(cpu.readLinear(cpu.segBase(Seg.SS) + p, opSize, cpu.cpl === 3), opSize);
      }
      cpu.push(frameTemp & MASK[opSize], opSize);
    }
    // rBP = frame temp, rSP -= size (with the stack's width).
    const spMask = ssMask;
    cpu.setReg(5, opSize === 2 ? (bp & ~0xffffn) | (frameTemp & 0xffffn) : opSize === 4 ? frameTemp & 0xffffffffn : frameTemp);
    const sp = cpu.getReg(4);
    cpu.setReg(4, (sp & ~spMask) | ((sp - BigInt(frame)) & spMask));
    return 0;
  }

  /**
   * RCL RCR (op 2, 3) and 16-bit SHLD SHRD (4, 5; ROL and ROR, and 32/64-bit SHLD/SHRD,
   * are in IR) at `size` bytes; returns the result and leaves the flags in the lazy
   * state as computed flags. A masked count of 0 changes nothing.
   */
  rotate(op: number, size: number, value: bigint, other: bigint, count: number): bigint {
    const cpu = this.cpu;
    const bits = size * 8;
    const mask = MASK[size];
    const width = BigInt(bits);
    count &= size === 8 ? 63 : 31;
    value &= mask;
    if (count === 0) return value;
    const flags = cpu.eflags;
    let cf = (flags & CF) !== 0;
    let r: bigint;
    const msb = (v: bigint) => ((v >> (width - 1n)) & 1n) === 1n;
    let of: boolean;
    switch (op) {
      case 2: case 3: { // RCL, RCR: rotate through CF, a (bits + 1)-bit rotation
        const n = count % (bits + 1);
        r = value;
        for (let i = 0; i < n; i++) {
          if (op === 2) {
            const out = msb(r);
            r = ((r << 1n) | (cf ? 1n : 0n)) & mask;
            cf = out;
          } else {
            const out = (r & 1n) === 1n;
            r = (r >> 1n) | (cf ? 1n << (width - 1n) : 0n);
            cf = out;
          }
        }
        of = op === 2 ? msb(r) !== cf : msb(r) !== (((r >> (width - 2n)) & 1n) === 1n);
        break;
      }
      default: { // SHLD, SHRD
        other &= mask;
        if (size === 2 && count > 16) {
          // Undefined; as QEMU: the 16-bit operands form a 48-bit (SHLD) value.
        }
        const n = BigInt(count);
        if (op === 4) {
          const wide = (value << width) | other;
          r = ((wide << n) >> width) & mask;
          cf = ((value >> (width - n)) & 1n) === 1n;
        } else {
          const wide = (other << width) | value;
          r = (wide >> n) & mask;
          cf = ((value >> (n - 1n)) & 1n) === 1n;
        }
        of = msb(r) !== msb(value);
        let f = flags & ~(CF | OF | SF | ZF | PF | AF);
        if (cf) f |= CF;
        if (of) f |= OF;
        if (msb(r)) f |= SF;
        if (r === 0n) f |= ZF;
        if (parityEven(Number(r & 0xffn))) f |= PF;
        this.setArithFlags(f);
        return r;
      }
    }
    let f = flags & ~(CF | OF);
    if (cf) f |= CF;
    if (of) f |= OF;
    this.setArithFlags(f);
    return r;
  }

  private setArithFlags(f: number): void {
    const s = this.cpu.state;
    s[CC_OP] = CC_OP_EFLAGS;
    s[CC_SRC] = f & (CF | PF | AF | ZF | SF | OF);
    s[CC_SRC + 1] = 0;
  }

  // ---- I/O, division, BCD -------------------------------------------------------------------

  portIn(port: number, size: number): number {
    const cpu = this.cpu;
    if (!cpu.ioPermitted(port & 0xffff, size)) this.gp0();
    return cpu.ioIn(port, size);
  }
  portOut(port: number, value: number, size: number): number {
    const cpu = this.cpu;
    if (!cpu.ioPermitted(port & 0xffff, size)) this.gp0();
    cpu.ioOut(port, size === 4 ? value : value & ((1 << (8 * size)) - 1), size);
    return 0;
  }

  divide(size: number, signed: boolean, lo: number, hi: number, ops: I64Ops): number {
    const cpu = this.cpu;
    const st = cpu.state;
    if (size === 4) {
      // EDX:EAX / r/m32 in WebAssembly's 64-bit division (no BigInt on this common path).
      const divisor = lo;
      if (divisor === 0) throw new GuestFault(Vector.DE, -1);
      const nLo = st[GPR_BASE], nHi = st[GPR_BASE + 4];
      let q: number, qHi: number, r: number;
      if (signed) {
        q = ops.div(nLo, nHi, divisor, divisor >> 31);
        qHi = ops.hi[0];
        r = ops.rem(nLo, nHi, divisor, divisor >> 31);
        if (qHi !== q >> 31) throw new GuestFault(Vector.DE, -1);
      } else {
        q = ops.divu(nLo, nHi, divisor, 0);
        qHi = ops.hi[0];
        r = ops.remu(nLo, nHi, divisor, 0);
        if (qHi !== 0) throw new GuestFault(Vector.DE, -1);
      }
      // 32-bit results zero the upper halves.
      st[GPR_BASE] = q;
      st[GPR_BASE + 1] = 0;
      st[GPR_BASE + 4] = r;
      st[GPR_BASE + 5] = 0;
      return 0;
    }
    if (size === 8 && (lo | hi) !== 0) {
      // RDX:RAX / r/m64 where RDX only extends RAX (the usual case): 64-bit division in WebAssembly.
      const aLo = st[GPR_BASE], aHi = st[GPR_BASE + 1], dLo = st[GPR_BASE + 4], dHi = st[GPR_BASE + 5];
      const extendsRax = signed ? dLo === aHi >> 31 && dHi === aHi >> 31 : (dLo | dHi) === 0;
      const overflow = signed && aLo === 0 && aHi === (0x80000000 | 0) && lo === -1 && hi === -1;
      if (extendsRax && !overflow) {
        const q = signed ? ops.div(aLo, aHi, lo, hi) : ops.divu(aLo, aHi, lo, hi);
        const qHi = ops.hi[0];
        const r = signed ? ops.rem(aLo, aHi, lo, hi) : ops.remu(aLo, aHi, lo, hi);
        const rHi = ops.hi[0];
        st[GPR_BASE] = q;
        st[GPR_BASE + 1] = qHi;
        st[GPR_BASE + 4] = r;
        st[GPR_BASE + 5] = rHi;
        return 0;
      }
    }
    const divisor = big(lo, hi) & MASK[size];
    if (divisor === 0n) throw new GuestFault(Vector.DE, -1);
    const bits = BigInt(size * 8);
    let dividend: bigint;
    if (size === 1) dividend = cpu.getReg(0) & 0xffffn;
    else dividend = ((cpu.getReg(2) & MASK[size]) << bits) | (cpu.getReg(0) & MASK[size]);
    // BigInt: division is rare next to the rest, and 128-bit dividends need it anyway.
    let q: bigint, r: bigint;
    if (signed) {
      const n = BigInt.asIntN(Number(bits) * 2, dividend);
      const d = BigInt.asIntN(Number(bits), divisor);
      q = n / d;
      r = n % d;
      const lim = 1n << (bits - 1n);
      if (q >= lim || q < -lim) throw new GuestFault(Vector.DE, -1);
    } else {
      q = dividend / divisor;
      r = dividend % divisor;
      if (q > MASK[size]) throw new GuestFault(Vector.DE, -1);
    }
    q &= MASK[size];
    r &= MASK[size];
    if (size === 1) {
      cpu.setReg(0, (cpu.getReg(0) & ~0xffffn) | (r << 8n) | q);
    } else if (size === 2) {
      cpu.setReg(0, (cpu.getReg(0) & ~0xffffn) | q);
      cpu.setReg(2, (cpu.getReg(2) & ~0xffffn) | r);
    } else {
      cpu.setReg(0, q);
      cpu.setReg(2, r);
    }
    return 0;
  }

  /** DAA DAS AAA AAS AAM AAD (op 0..5) on AL/AH; flags eagerly into the lazy state. */
  bcd(op: number, imm: number): number {
    const cpu = this.cpu;
    const s = cpu.state;
    const ax = s[GPR_BASE] & 0xffff;
    let al = ax & 0xff, ah = ax >> 8;
    const f = cpu.eflags;
    let cf = (f & CF) !== 0, af = (f & AF) !== 0;
    let of = 0;
    switch (op) {
      case 0: case 1: { // DAA, DAS
        const oldAl = al, oldCf = cf;
        cf = false;
        if ((al & 0xf) > 9 || af) {
          const sum = op === 0 ? al + 6 : al - 6;
          cf = oldCf || (op === 0 ? sum > 0xff : sum < 0);
          al = sum & 0xff;
          af = true;
        } else af = false;
        if (oldAl > 0x99 || oldCf) {
          al = (op === 0 ? al + 0x60 : al - 0x60) & 0xff;
          cf = true;
        }
        break;
      }
      case 2: case 3: { // AAA, AAS: AX +/- 0x106, as current CPUs (and QEMU) do it
        if ((al & 0xf) > 9 || af) {
          if (op === 2) {
            ah = (ah + 1 + (al > 0xf9 ? 1 : 0)) & 0xff;
            al = (al + 6) & 0xff;
          } else {
            ah = (ah - 1 - (al < 6 ? 1 : 0)) & 0xff;
            al = (al - 6) & 0xff;
          }
          af = cf = true;
        } else af = cf = false;
        al &= 0xf;
        break;
      }
      case 4: { // AAM
        if (imm === 0) throw new GuestFault(Vector.DE, -1);
        ah = Math.floor(al / imm);
        al = al % imm;
        cf = af = false;
        break;
      }
      case 5: { // AAD
        al = (al + ah * imm) & 0xff;
        ah = 0;
        cf = af = false;
        break;
      }
    }
    s[GPR_BASE] = (s[GPR_BASE] & ~0xffff) | (ah << 8) | al;
    let nf = f & ~(CF | AF | ZF | SF | PF | OF);
    if (cf) nf |= CF;
    if (af) nf |= AF;
    if (al === 0) nf |= ZF;
    if (al & 0x80) nf |= SF;
    if (parityEven(al)) nf |= PF;
    if (of) nf |= OF;
    this.setArithFlags(nf);
    return 0;
  }
}

function parityEven(byte: number): boolean {
  let p = byte & 0xff;
  p ^= p >> 4;
  p ^= p >> 2;
  p ^= p >> 1;
  return (p & 1) === 0;
}
