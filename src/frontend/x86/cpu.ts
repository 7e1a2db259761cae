/**
 * The x86 CPU: architectural state beyond the registers generated code keeps in the
 * state words (control registers, descriptor tables, MSRs), the MMU (32-bit, PAE and
 * 4-level paging with A/D updates, NX, WP), the memory slow paths, segment loading with
 * the protection checks of the SDM (Vol. 3, chapter 5), and exception and interrupt
 * delivery in real, protected and long mode (Vol. 3, chapter 6).
 *
 * System instructions run as helpers here. Those that can fault deep inside (a far call
 * through a gate reads descriptors and pushes on a new stack) throw a GuestFault, which
 * the helper boundary turns into a pending exception: the engine then delivers it at the
 * faulting instruction's pc, with every register as it was before that instruction.
 */
import { HelperFlags, HelperInfo, HelperTable, Temp, TempKind, Type } from '../../ir/ir.js';
import {
  MEMOP_RMW, PAGE_SIZE, SoftTlb, TLB_INVALID, TLB_MASK, TLB_SIZE, createSoftTlb, extendLoad, fillSoftTlb, flushSoftTlb,
  protectCodePageIn,
} from '../../backend/runtime.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { StateLayout, TcgTarget } from '../../accel/tcg/target.js';
import { CC_OP_EFLAGS, computeFlags } from './flags.js';
import { CpuModel, cpuid, modelFeatures } from './cpuid.js';
import {
  AC, ARITH_FLAGS, CC_DST, CC_OP, CC_SRC, CC_SRC2, DF, DF_BIT, EFLAGS, FLAGS_LIMIT, FLAG_ADDSEG, FLAG_CS32, FLAG_CS64,
  FLAG_EM, FLAG_INHIBIT_IRQ, FLAG_ONE_INSN, FLAG_LMA, FLAG_MMU_MASK, FLAG_MMU_SHIFT, FLAG_OSFXSR, FLAG_PE, FLAG_SS32, FLAG_TF,
  FLAG_TS, FLAG_VM, GPR_BASE, ID, IF, IOPL, IOPL_SHIFT, MmuIndex, NT, PAIRED_WORDS, PC, RF, SEG_ATTR, SEG_BASE,
  SEG_LIMIT, SEG_SEL, STATE_WORDS, Seg, TF, VM, Vector, FPU_CW, MXCSR, FPU_TAG, XMM_BASE, XMM_SCRATCH,
} from './state.js';
import { X86TranslatorImpl, X86TranslationResult, X86Globals } from './translate.js';
import { X86Decoder, X86Insn } from './decode.js';
import { disassemble } from './disas.js';
import { X86HelperIds, registerX86Helpers } from './helpers.js';
import { FpuHost, FpuInsn, fpuInsnOf } from './x87.js';
import type { SimdHost, SimdInsn } from './sse.js';

/** Words after the state for tier-0 temporaries and constants. */
const INTERP_WORDS = 8192;

const enum Access {
  Load = 0,
  Store = 1,
  Fetch = 2,
}

/** CR0 bits. */
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_PG = 1 << 31;
/** CR4 bits. */
export const CR4_VME = 1 << 0;
export const CR4_TSD = 1 << 2;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;
/** EFER bits. */
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/** Descriptor attribute bits as kept in SEG_ATTR (the descriptor's high dword >> 8). */
export const ATTR_TYPE = 0xf;
export const ATTR_S = 1 << 4;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;

/** MSRs. */
const MSR_TSC = 0x10;
const MSR_APIC_BASE = 0x1b;
const MSR_SYSENTER_CS = 0x174;
const MSR_SYSENTER_ESP = 0x175;
const MSR_SYSENTER_EIP = 0x176;
const MSR_PAT = 0x277;
const MSR_MISC_ENABLE = 0x1a0;
const MSR_EFER = 0xc0000080;
const MSR_STAR = 0xc0000081;
const MSR_LSTAR = 0xc0000082;
const MSR_CSTAR = 0xc0000083;
const MSR_FMASK = 0xc0000084;
const MSR_FS_BASE = 0xc0000100;
const MSR_GS_BASE = 0xc0000101;
const MSR_KERNEL_GS_BASE = 0xc0000102;
const MSR_TSC_AUX = 0xc0000103;

/** Page-table entry bits. */
const PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80;

/** pendingVector of an instruction to be run again from its start, with no exception. */
const RESTART = -1;

/** A fault raised inside a system helper; the helper boundary makes it pending. */
export class GuestFault {
  constructor(
    readonly vector: number,
    /** Error code, or -1 for exceptions without one. */
    readonly error: number,
  ) {}
}

/** Exceptions that push an error code. */
const HAS_ERROR_CODE = (1 << Vector.DF) | (1 << Vector.TS) | (1 << Vector.NP) | (1 << Vector.SS) | (1 << Vector.GP) |
  (1 << Vector.PF) | (1 << Vector.AC);
/** Double-fault classes (SDM Vol. 3, table 6-4/6-5). */
const CONTRIBUTORY = (1 << Vector.DE) | (1 << Vector.TS) | (1 << Vector.NP) | (1 << Vector.SS) | (1 << Vector.GP);

/**
 * The unsigned 64-bit value of (lo, hi), built without BigInt.asUintN: Node 20's TurboFan
 * lowers asUintN(64, ...) results to machine words and has aborted the process compiling
 * a phi of them (see `rip`), so the values system code passes around avoid that typing.
 */
const u64 = (lo: number, hi: number): bigint => BigInt(hi >>> 0) * 0x100000000n + BigInt(lo >>> 0);
const lo32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));

export interface X86CpuHooks {
  /** Guest instructions retired so far. */
  instret(): number;
  /** Stop the execution loop at the next block boundary (an interrupt line changed). */
  requestExit(): void;
  /** Drop every translated block. */
  flushTranslations(): void;
  /** Linear-to-physical mappings changed: forget pc-keyed shortcuts (jump cache). */
  tlbFlushed?(): void;
  tlbFlushedPage?(lo: number, hi: number): void;
  /** I/O port space (IN/OUT). A read of nothing returns all ones. */
  ioRead(port: number, size: number): number;
  ioWrite(port: number, value: number, size: number): void;
  /** The vector of the interrupt the controller has pending (INTA cycle). */
  acknowledgeInterrupt(): number;
  /** A triple fault (or a reset request): the board resets or ends the run. */
  shutdown(reason: string): void;
  /** The time-stamp counter. */
  tsc(): bigint;
  /** Whether bytes [offset, offset + length) of a RAM page hold translated code (the engine's). */
  overlapsCode(ramPage: number, offset: number, length: number): boolean;
  logTrap?(text: string): void;
}

const LAYOUT: StateLayout = { pc: PC, pairedWords: PAIRED_WORDS, stateWords: STATE_WORDS, flagsLimit: FLAGS_LIMIT, pcAlignShift: 0 };

export class X86Cpu implements TcgTarget {
  readonly layout = LAYOUT;
  readonly values: Int32Array;
  readonly state: Int32Array;
  readonly ram: DataView;
  readonly tlbs: SoftTlb[];
  readonly exceptionPending: Int32Array;
  readonly budget: Int32Array;
  readonly retHi: Int32Array;
  readonly wasmMemory: WebAssembly.Memory | null;
  readonly dispatchWords: Int32Array;
  readonly helperTable = new HelperTable();
  readonly helpers: HelperInfo[];
  readonly mul64Helper: number;
  readonly globals: X86Globals;
  readonly features: Set<string>;
  private readonly translator: X86TranslatorImpl;
  private readonly scratch = new Int32Array(2);
  private flagsCache = 0;

  // Control registers and system state not touched by generated code.
  cr0 = CR0_ET | 0x60000000; // CD and NW set at reset
  cr2lo = 0;
  cr2hi = 0;
  cr3 = 0; // physical address (below 2^52, a number)
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  cpl = 0;
  gdtBase = 0n;
  gdtLimit = 0xffff;
  idtBase = 0n;
  idtLimit = 0x3ff;
  ldtSel = 0;
  ldtBase = 0n;
  ldtLimit = 0;
  trSel = 0;
  trBase = 0n;
  trLimit = 0xffff;
  trAttr = 0x8b;
  readonly dr = new Array<bigint>(8).fill(0n);
  sysenterCs = 0;
  sysenterEsp = 0n;
  sysenterEip = 0n;
  star = 0n;
  lstar = 0n;
  cstar = 0n;
  fmask = 0n;
  kernelGsBase = 0n;
  tscAux = 0n;
  pat = 0x0007040600070406n;
  apicBase = 0xfee00900n;
  private tscOffset = 0n;
  /** A20 gate: bit 20 of physical addresses is forced to 0 while it is off. */
  a20Mask = -1;
  /** The interrupt line from the interrupt controller (INTR). */
  private intr = false;
  /** Interrupts stay inhibited until the instruction after STI / MOV SS has run. */
  private inhibitIrq = false;
  /** The next block holds one instruction (it is run again after its store hit translated code). */
  private oneInsn = false;
  /** Exception pending from a helper or slow path (taken by the engine). */
  pendingVector = 0;
  pendingError = -1;
  /** Exceptions delivered in a row without completing (double and triple fault). */
  private deliveryDepth = 0;
  private deliveringVector = -1;
  halted = false;
  slowLoads = 0;
  slowStores = 0;

  constructor(
    readonly bus: AddressSpace,
    readonly model: CpuModel,
    private readonly hooks: X86CpuHooks,
  ) {
    this.ram = bus.ramView;
    const arena = bus.arena;
    this.wasmMemory = arena.wasmMemory;
    this.values = arena.int32(STATE_WORDS + INTERP_WORDS);
    this.state = this.values.subarray(0, STATE_WORDS);
    const words = (n: number) => arena.int32(n);
    this.tlbs = [createSoftTlb(words), createSoftTlb(words), createSoftTlb(words)];
    this.exceptionPending = arena.int32(1);
    this.budget = arena.int32(1);
    this.retHi = arena.int32(1);
    this.dispatchWords = arena.int32(2);
    this.features = modelFeatures(model);
    let id = 0;
    const g = (type: Type, slot: number, name: string) => new Temp(id++, type, TempKind.Global, 0, slot, name);
    const names = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
    const gpr = names.map((n, i) => g(Type.I64, GPR_BASE + 2 * i, n));
    const pc = g(Type.I64, PC, 'pc');
    const ccDst = g(Type.I64, CC_DST, 'cc_dst');
    const ccSrc = g(Type.I64, CC_SRC, 'cc_src');
    const ccSrc2 = g(Type.I64, CC_SRC2, 'cc_src2');
    const segBase = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].map((n, i) => g(Type.I64, SEG_BASE + 2 * i, `${n}_base`));
    const ccOp = g(Type.I32, CC_OP, 'cc_op');
    const df = g(Type.I32, DF, 'df');
    // XMM halves: xmm[2r] bits 63:0 of register r, xmm[2r + 1] bits 127:64 (r = 16: scratch).
    const xmm = Array.from({ length: 2 * (XMM_SCRATCH + 1) }, (_, i) =>
      g(Type.I64, XMM_BASE + 2 * i, `xmm${i >> 1}${i & 1 ? 'h' : 'l'}`));
    this.globals = {
      gpr, pc, ccDst, ccSrc, ccSrc2, segBase, ccOp, df, xmm,
      all: [...gpr, pc, ccDst, ccSrc, ccSrc2, ...segBase, ...xmm, ccOp, df],
    };
    const helperIds = this.registerHelpers();
    this.helpers = this.helperTable.list;
    this.mul64Helper = helperIds.mul64;
    const cpu = this;
    this.fpuHost = {
      state: this.state,
      readMem: (lo, hi, size, out) => this.readBytes(lo, hi, size, out),
      writeMem: (lo, hi, size, bytes) => this.writeBytes(lo, hi, size, bytes),
      get cr0ne() {
        return (cpu.cr0 & CR0_NE) !== 0;
      },
    };
    this.simdHost = {
      state: this.state,
      retHi: this.retHi,
      readMem: (lo, hi, size, out) => this.readBytes(lo, hi, size, out),
      writeMem: (lo, hi, size, bytes) => this.writeBytes(lo, hi, size, bytes),
      get osxmmexcpt() {
        return (cpu.cr4 & CR4_OSXMMEXCPT) !== 0;
      },
    };
    this.translator = new X86TranslatorImpl(this.globals, this.helperTable, helperIds, this.features, (insn) => this.registerFpuInsn(insn),
      (insn) => this.registerSimdInsn(insn),
    );
    this.reset();
  }

  // ---- reset and the registers -------------------------------------------------------------

  /** The state after RESET (SDM Vol. 3, table 9-1): real mode at F000:FFF0. */
  reset(): void {
    this.state.fill(0);
    this.state[GPR_BASE + 2 * 2] = this.model.signature; // EDX
    this.state[EFLAGS] = 2;
    this.state[DF] = 1;
    this.state[CC_OP] = CC_OP_EFLAGS;
    this.state[FPU_CW] = 0x37f;
    this.state[FPU_TAG] = 0xffff;
    this.state[MXCSR] = 0x1f80;
    for (let s = 0; s < 6; s++) this.setSegmentRaw(s, 0, 0n, 0xffff, ATTR_P | ATTR_S | 3 /* read/write data, accessed */);
    this.setSegmentRaw(Seg.CS, 0xf000, 0xffff0000n, 0xffff, ATTR_P | ATTR_S | 0xb /* code, read, accessed */);
    this.state[PC] = 0xfffffff0 | 0;
    this.state[PC + 1] = 0;
    this.cr0 = CR0_ET | 0x60000000;
    this.cr2lo = this.cr2hi = 0;
    this.cr3 = this.cr4 = this.cr8 = this.efer = 0;
    this.cpl = 0;
    this.gdtBase = this.idtBase = 0n;
    this.gdtLimit = this.idtLimit = 0xffff;
    this.ldtSel = this.trSel = 0;
    this.halted = false;
    this.intr = false;
    this.inhibitIrq = false;
    this.flushTlb();
    this.updateFlags();
    this.interruptCheckNeeded = true;
  }

  get pc(): bigint {
    return u64(this.state[PC], this.state[PC + 1]);
  }
  /**
   * rIP: the linear pc less the CS base. (Written without a conditional expression that
   * merges BigInt.asUintN results of different widths: Node 20's TurboFan aborts the
   * process compiling such a phi, "Phi of kRepTagged (UnsignedBigInt64) cannot be
   * changed to kRepWord64", as the x86 fuzz test found in setRip.)
   */
  get rip(): bigint {
    const lo = (this.state[PC] - this.state[SEG_BASE + 2 * Seg.CS]) | 0;
    if (this.codeSize() !== 64) return BigInt(lo >>> 0);
    const borrow = this.state[PC] >>> 0 < this.state[SEG_BASE + 2 * Seg.CS] >>> 0 ? 1 : 0;
    const hi = (this.state[PC + 1] - this.state[SEG_BASE + 2 * Seg.CS + 1] - borrow) | 0;
    return BigInt(hi >>> 0) * 0x100000000n + BigInt(lo >>> 0);
  }
  setRip(v: bigint): void {
    const sum = this.segBase(Seg.CS) + v;
    this.state[PC] = lo32(sum);
    this.state[PC + 1] = this.codeSize() === 64 ? hi32(sum) : 0;
  }
  getReg(r: number): bigint {
    return u64(this.state[GPR_BASE + 2 * r], this.state[GPR_BASE + 2 * r + 1]);
  }
  setReg(r: number, v: bigint): void {
    this.state[GPR_BASE + 2 * r] = lo32(v);
    this.state[GPR_BASE + 2 * r + 1] = hi32(v);
  }
  segSel(s: number): number {
    return this.state[SEG_SEL + s] & 0xffff;
  }
  segBase(s: number): bigint {
    return u64(this.state[SEG_BASE + 2 * s], this.state[SEG_BASE + 2 * s + 1]);
  }
  segLimit(s: number): number {
    return this.state[SEG_LIMIT + s] >>> 0;
  }
  segAttr(s: number): number {
    return this.state[SEG_ATTR + s];
  }
  /** Load a segment register's visible and hidden parts as they are (no checks). */
  setSegmentRaw(s: number, sel: number, base: bigint, limit: number, attr: number): void {
    this.state[SEG_SEL + s] = sel & 0xffff;
    this.state[SEG_BASE + 2 * s] = lo32(base);
    this.state[SEG_BASE + 2 * s + 1] = hi32(base);
    this.state[SEG_LIMIT + s] = limit | 0;
    this.state[SEG_ATTR + s] = attr;
    this.updateFlags();
  }

  /** The full EFLAGS value (arithmetic flags computed from the lazy state). */
  get eflags(): number {
    const s = this.state;
    const arith = computeFlags(s[CC_OP], s[CC_DST], s[CC_DST + 1], s[CC_SRC], s[CC_SRC + 1], s[CC_SRC2], s[CC_SRC2 + 1]);
    return (s[EFLAGS] & ~(ARITH_FLAGS | DF_BIT)) | arith | (s[DF] < 0 ? DF_BIT : 0) | 2;
  }
  set eflags(v: number) {
    const s = this.state;
    const old = s[EFLAGS];
    s[CC_OP] = CC_OP_EFLAGS;
    s[CC_SRC] = v & ARITH_FLAGS;
    s[CC_SRC + 1] = 0;
    s[DF] = v & DF_BIT ? -1 : 1;
    s[EFLAGS] = (v & ~(ARITH_FLAGS | DF_BIT)) | 2;
    if ((old ^ v) & (IF | TF | VM | AC)) {
      this.updateFlags();
      this.interruptCheckNeeded = true;
      if (v & IF && this.intr) this.hooks.requestExit();
    }
  }

  /** 16, 32 or 64: the default operand size of the current code segment. */
  codeSize(): 16 | 32 | 64 {
    const f = this.flagsCache;
    return f & FLAG_CS64 ? 64 : f & FLAG_CS32 ? 32 : 16;
  }

  // ---- translation flags ------------------------------------------------------------------

  computeTbFlags(): number {
    const s = this.state;
    const pe = (this.cr0 & CR0_PE) !== 0;
    const eflags = s[EFLAGS];
    const vm = pe && (eflags & VM) !== 0;
    const lma = (this.efer & EFER_LMA) !== 0;
    const csAttr = s[SEG_ATTR + Seg.CS];
    const cs64 = lma && (csAttr & ATTR_L) !== 0;
    const cs32 = !vm && pe && (csAttr & ATTR_DB) !== 0 && !cs64;
    const ss32 = !vm && pe && (s[SEG_ATTR + Seg.SS] & ATTR_DB) !== 0;
    let f = this.cpl;
    if (pe) f |= FLAG_PE;
    if (vm) f |= FLAG_VM;
    if (cs32) f |= FLAG_CS32;
    if (ss32) f |= FLAG_SS32;
    if (lma) f |= FLAG_LMA;
    if (cs64) f |= FLAG_CS64;
    else {
      const nonZero = (seg: number) => (s[SEG_BASE + 2 * seg] | s[SEG_BASE + 2 * seg + 1]) !== 0;
      if (!pe || vm || nonZero(Seg.CS) || nonZero(Seg.DS) || nonZero(Seg.ES) || nonZero(Seg.SS)) f |= FLAG_ADDSEG;
    }
    if (this.cr0 & CR0_EM) f |= FLAG_EM;
    if (this.cr0 & CR0_TS) f |= FLAG_TS;
    if (this.cr4 & CR4_OSFXSR) f |= FLAG_OSFXSR;
    f |= this.dataMmuIndex() << FLAG_MMU_SHIFT;
    if (eflags & TF) f |= FLAG_TF;
    if (this.inhibitIrq) f |= FLAG_INHIBIT_IRQ;
    if (this.oneInsn) f |= FLAG_ONE_INSN;
    return f;
  }
  private updateFlags(): void {
    this.flagsCache = this.computeTbFlags();
    this.dispatchWords[0] = this.flagsCache;
  }
  tbFlags(): number {
    return this.flagsCache;
  }
  mmuIndexFromFlags(flags: number): number {
    return (flags & FLAG_MMU_MASK) >> FLAG_MMU_SHIFT;
  }
  private dataMmuIndex(): MmuIndex {
    if (!(this.cr0 & CR0_PG)) return MmuIndex.Physical;
    return this.cpl === 3 ? MmuIndex.User : MmuIndex.Kernel;
  }

  translate(pc: bigint, flags: number): X86TranslationResult | null {
    return this.translator.translate(this, pc, flags);
  }

  /** -d in_asm: each instruction decoded again from its bytes, in objdump's Intel syntax. */
  disassembleBlock(result: X86TranslationResult): string {
    const decoder = new X86Decoder();
    const insn = new X86Insn();
    return result.insnPcs
      .map((p, i) => {
        const bytes = result.insnBytes[i];
        const ok = decoder.decode((k) => (k < bytes.length ? bytes[k] : -1), result.codeSize, insn) === 0;
        const hex = Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join(' ');
        return `0x${p.toString(16).padStart(16, '0')}:  ${hex.padEnd(21)} ${ok ? disassemble(insn, p) : '(bad)'}`;
      })
      .join('\n');
  }

  // ---- paging --------------------------------------------------------------------------------

  private walkWritable = false;

  /**
   * Linear address (lo, hi) to physical for an access; -1 with #PF pending on a fault.
   * `user` is the privilege the access is checked with (CPL 3 for explicit accesses in
   * ring 3; implicit descriptor-table accesses are supervisor accesses).
   */
  translateLinear(lo: number, hi: number, access: Access, user: boolean): number {
    if (!(this.cr0 & CR0_PG)) {
      this.walkWritable = true;
      return this.applyA20(lo >>> 0);
    }
    const write = access === Access.Store;
    const fetch = access === Access.Fetch;
    const nxe = (this.efer & EFER_NXE) !== 0;
    const out = this.scratch;
    let writable = true;
    let userOk = true;
    let nx = false;
    let pteAddr: number;
    let pte: number;
    let pteHi = 0;
    let pageBase: number;
    let pageMask: number;
    const entries: number[] = this.walkEntries;
    entries.length = 0;
    const readEntry = (addr: number, wide: boolean): boolean => {
      const off = this.bus.ramOffset(addr, wide ? 8 : 4);
      if (off < 0) {
        if (!this.bus.load(addr, wide ? 8 : 4, out)) return false;
        pte = out[0];
        pteHi = wide ? out[1] : 0;
        return true;
      }
      pte = this.ram.getInt32(off, true);
      pteHi = wide ? this.ram.getInt32(off + 4, true) : 0;
      return true;
    };
    const fault = (present: boolean, rsvd = false): number => {
      let code = (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0) | (rsvd ? 8 : 0);
      if (fetch && nxe) code |= 16;
      this.cr2lo = lo;
      this.cr2hi = this.efer & EFER_LMA ? hi : 0;
      this.pendingVector = Vector.PF;
      this.pendingError = code;
      return -1;
    };
    pte = 0;
    if (this.efer & EFER_LMA) {
      // 4-level paging: the address must be canonical (bits 63:47 equal).
      const top = hi >> 15;
      if (top !== 0 && top !== -1) {
        this.pendingVector = Vector.GP; // a non-canonical access is #GP (#SS for stack ones: close enough)
        this.pendingError = 0;
        return -1;
      }
      let table = this.cr3 - (this.cr3 % PAGE_SIZE);
      // Indices: bits 47:39, 38:30, 29:21, 20:12.
      const idx = [((hi & 0xffff) >>> 7) & 0x1ff, ((hi & 0x7f) << 2) | (lo >>> 30), (lo >>> 21) & 0x1ff, (lo >>> 12) & 0x1ff];
      for (let level = 0; level < 4; level++) {
        pteAddr = table + idx[level] * 8;
        if (!readEntry(pteAddr, true)) return fault(false);
        if (!(pte & PTE_P)) return fault(false);
        if (!(pte & PTE_W)) writable = false;
        if (!(pte & PTE_U)) userOk = false;
        if (pteHi < 0) {
          if (!nxe) return fault(true, true);
          nx = true;
        }
        entries.push(pteAddr, pte);
        const frame = (pteHi & 0xfffff) * 0x100000000 + ((pte & ~0xfff) >>> 0);
        if (level >= 1 && level <= 2 && pte & PTE_PS) {
          // 1 GiB (level 1) or 2 MiB (level 2) page.
          pageMask = level === 1 ? 0x3fffffff : 0x1fffff;
          pageBase = frame - (frame % (pageMask + 1));
          return this.finishWalk(lo, pageBase, pageMask, entries, write, fetch, user, writable, userOk, nx, fault);
        }
        if (level === 3) return this.finishWalk(lo, frame, 0xfff, entries, write, fetch, user, writable, userOk, nx, fault);
        table = frame;
      }
      return fault(false);
    }
    if (this.cr4 & CR4_PAE) {
      // PAE: a 4-entry PDPT (bits 31:30), then 9 + 9 bits.
      const pdptAddr = (this.cr3 & ~0x1f) + (lo >>> 30) * 8;
      if (!readEntry(pdptAddr, true) || !(pte & PTE_P)) return fault(false);
      let table = (pteHi & 0xfffff) * 0x100000000 + ((pte & ~0xfff) >>> 0);
      const idx = [(lo >>> 21) & 0x1ff, (lo >>> 12) & 0x1ff];
      for (let level = 0; level < 2; level++) {
        pteAddr = table + idx[level] * 8;
        if (!readEntry(pteAddr, true)) return fault(false);
        if (!(pte & PTE_P)) return fault(false);
        if (!(pte & PTE_W)) writable = false;
        if (!(pte & PTE_U)) userOk = false;
        if (pteHi < 0) {
          if (!nxe) return fault(true, true);
          nx = true;
        }
        entries.push(pteAddr, pte);
        const frame = (pteHi & 0xfffff) * 0x100000000 + ((pte & ~0xfff) >>> 0);
        if (level === 0 && pte & PTE_PS) {
          return this.finishWalk(lo, frame - (frame % 0x200000), 0x1fffff, entries, write, fetch, user, writable, userOk, nx, fault);
        }
        if (level === 1) return this.finishWalk(lo, frame, 0xfff, entries, write, fetch, user, writable, userOk, nx, fault);
        table = frame;
      }
      return fault(false);
    }
    // 32-bit paging: 10 + 10 bits, 4 MiB pages with CR4.PSE.
    pteAddr = (this.cr3 & ~0xfff) + (lo >>> 22) * 4;
    if (!readEntry(pteAddr, false) || !(pte & PTE_P)) return fault(false);
    if (!(pte & PTE_W)) writable = false;
    if (!(pte & PTE_U)) userOk = false;
    entries.push(pteAddr, pte);
    if (pte & PTE_PS && this.cr4 & CR4_PSE) {
      // PSE-36: bits 20:13 of the entry are physical address bits 39:32.
      const base = ((pte & 0xffc00000) >>> 0) + ((pte >>> 13) & 0xff) * 0x100000000;
      return this.finishWalk(lo, base, 0x3fffff, entries, write, fetch, user, writable, userOk, false, fault);
    }
    pteAddr = ((pte & ~0xfff) >>> 0) + ((lo >>> 12) & 0x3ff) * 4;
    if (!readEntry(pteAddr, false) || !(pte & PTE_P)) return fault(false);
    if (!(pte & PTE_W)) writable = false;
    if (!(pte & PTE_U)) userOk = false;
    entries.push(pteAddr, pte);
    return this.finishWalk(lo, (pte & ~0xfff) >>> 0, 0xfff, entries, write, fetch, user, writable, userOk, false, fault);
  }
  private readonly walkEntries: number[] = [];

  /** Permission checks and A/D updates at the end of a walk; entries = [addr, low word]... */
  private finishWalk(
    lo: number, pageBase: number, pageMask: number, entries: number[], write: boolean, fetch: boolean, user: boolean,
    writable: boolean, userOk: boolean, nx: boolean, fault: (present: boolean) => number,
  ): number {
    if (user && !userOk) return fault(true);
    if (write && !writable && (user || this.cr0 & CR0_WP)) return fault(true);
    if (fetch && nx) return fault(true);
    // Set A in every entry used, D in the leaf on a write (as the hardware does).
    const n = entries.length;
    for (let i = 0; i < n; i += 2) {
      const leaf = i === n - 2;
      const want = PTE_A | (leaf && write ? PTE_D : 0);
      if ((entries[i + 1] & want) !== want) this.bus.store(entries[i], 4, entries[i + 1] | want, 0);
    }
    // Stores may skip the walk when the page is writable in this mode and D is already set.
    this.walkWritable = (writable || (!user && !(this.cr0 & CR0_WP))) && (write || (entries[n - 1] & PTE_D) !== 0);
    return this.applyA20(pageBase + ((lo >>> 0) & pageMask));
  }

  /** With the A20 gate off, physical address bit 20 is forced to 0 (below 4 GiB). */
  private applyA20(p: number): number {
    return this.a20Mask === -1 || p >= 0x100000000 ? p : (p & this.a20Mask) >>> 0;
  }

  private fillTlb(mmu: number, lo: number, hi: number, paddr: number, writable: boolean): void {
    fillSoftTlb(this.tlbs[mmu], this.bus, lo, hi, paddr, writable);
  }

  protectCodePage(ramPage: number): void {
    protectCodePageIn(this.tlbs, ramPage);
  }

  flushTlb(): void {
    for (const tlb of this.tlbs) flushSoftTlb(tlb);
    this.fetchTlbLo.fill(TLB_INVALID);
    this.hooks.tlbFlushed?.();
  }

  /**
   * INVLPG. The soft TLBs cache 2 MiB and 4 MiB pages as 4 KiB entries, one per page
   * touched, so dropping one address's entry would leave the rest of a large page
   * mapped: everything is dropped instead (correct for any page size; INVLPG is rare
   * next to memory accesses).
   */
  flushTlbPage(_lo: number, _hi: number): void {
    this.flushTlb();
  }

  // ---- the memory slow paths ---------------------------------------------------------------

  private fault(): number {
    this.exceptionPending[0] = 1;
    return 0;
  }

  private isUserAccess(): boolean {
    return this.cpl === 3;
  }

  loadSlow(lo: number, hi: number, memop: number, _insnIndex: number): number {
    this.slowLoads++;
    const size = 1 << (memop & 3);
    const access = memop & MEMOP_RMW ? Access.Store : Access.Load;
    const user = this.isUserAccess();
    const out = this.scratch;
    if ((lo & (PAGE_SIZE - 1)) > PAGE_SIZE - size) {
      // Crosses a page: translate both pages before reading.
      let vlo = 0, vhi = 0;
      const p0 = this.translateLinear(lo, hi, access, user);
      if (p0 < 0) return this.fault();
      const nlo = (lo | (PAGE_SIZE - 1)) + 1 | 0;
      const nhi = (hi + ((nlo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p1 = this.translateLinear(nlo, nhi, access, user);
      if (p1 < 0) return this.fault();
      const first = PAGE_SIZE - (lo & (PAGE_SIZE - 1));
      for (let i = 0; i < size; i++) {
        const p = i < first ? p0 + i : p1 + (i - first);
        const byte = this.bus.load(p, 1, out) ? out[0] & 0xff : 0xff;
        if (i < 4) vlo |= byte << (8 * i);
        else vhi |= byte << (8 * (i - 4));
      }
      return this.extend(vlo, vhi, memop);
    }
    const p = this.translateLinear(lo, hi, access, user);
    if (p < 0) return this.fault();
    if (!this.bus.load(p, size, out)) {
      // Unassigned physical memory reads as all ones on a PC.
      out[0] = -1;
      out[1] = -1;
      return this.extend(-1, -1, memop);
    }
    const vlo = out[0], vhi = out[1];
    this.fillTlb(this.dataMmuIndex(), lo, hi, p, access === Access.Store || this.walkWritable);
    return this.extend(vlo, vhi, memop);
  }

  private extend(vlo: number, vhi: number, memop: number): number {
    return extendLoad(vlo, vhi, memop, this.retHi);
  }

  storeSlow(vlo: number, vhi: number, lo: number, hi: number, memop: number, _insnIndex: number): void {
    this.slowStores++;
    const size = 1 << (memop & 3);
    const user = this.isUserAccess();
    if ((lo & (PAGE_SIZE - 1)) > PAGE_SIZE - size) {
      const p0 = this.translateLinear(lo, hi, Access.Store, user);
      if (p0 < 0) {
        this.fault();
        return;
      }
      const nlo = (lo | (PAGE_SIZE - 1)) + 1 | 0;
      const nhi = (hi + ((nlo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p1 = this.translateLinear(nlo, nhi, Access.Store, user);
      if (p1 < 0) {
        this.fault();
        return;
      }
      const first = PAGE_SIZE - (lo & (PAGE_SIZE - 1));
      if (this.storeHitsCode(p0, first) || this.storeHitsCode(p1, size - first)) return;
      for (let i = 0; i < size; i++) {
        const p = i < first ? p0 + i : p1 + (i - first);
        this.bus.store(p, 1, (i < 4 ? vlo >>> (8 * i) : vhi >>> (8 * (i - 4))) & 0xff, 0);
      }
      return;
    }
    const p = this.translateLinear(lo, hi, Access.Store, user);
    if (p < 0) {
      this.fault();
      return;
    }
    if (this.storeHitsCode(p, size)) return;
    if (!this.bus.store(p, size, vlo, vhi)) return; // writes to nothing are dropped
    this.fillTlb(this.dataMmuIndex(), lo, hi, p, true);
  }

  /**
   * Self-modifying code, as x86 requires it (the next instruction sees the store): a store
   * about to overwrite translated code is abandoned, the blocks there dropped, and the
   * instruction run again in a block of its own (FLAG_ONE_INSN), which then stores and
   * ends; the next block is translated from the new bytes. QEMU does the same. Returns
   * true when the store was abandoned (a restart is pending).
   */
  private storeHitsCode(p: number, size: number): boolean {
    if (this.oneInsn) return false; // the instruction runs alone: nothing after it in its block
    const off = this.bus.ramOffset(p, size);
    if (off < 0) return false;
    const page = Math.floor(off / PAGE_SIZE);
    if (!this.bus.codePages[page] || !this.hooks.overlapsCode(page, off % PAGE_SIZE, size)) return false;
    this.bus.noteRamWrite(off, size); // drops the blocks that hold these bytes
    this.oneInsn = true;
    this.updateFlags();
    this.pendingVector = RESTART;
    this.exceptionPending[0] = 1;
    return true;
  }

  // ---- instruction fetch -------------------------------------------------------------------

  private readonly fetchTlbLo = new Int32Array(2 * TLB_SIZE).fill(TLB_INVALID);
  private readonly fetchTlbHi = new Int32Array(2 * TLB_SIZE);
  private readonly fetchTlbPage = new Int32Array(2 * TLB_SIZE);

  fetchPhysical(vaddr: bigint): number {
    return this.fetchPhysicalAt(lo32(vaddr), hi32(vaddr));
  }

  /** Physical address of a fetch at linear pc (lo, hi), or -1 with the fault pending. */
  fetchPhysicalAt(lo: number, hi: number): number {
    const user = this.cpl === 3;
    const i = ((lo >>> 12) & TLB_MASK) + (user ? TLB_SIZE : 0);
    const tag = lo & -PAGE_SIZE;
    if (this.fetchTlbLo[i] === tag && this.fetchTlbHi[i] === hi) return this.fetchTlbPage[i] * PAGE_SIZE + (lo & (PAGE_SIZE - 1));
    const p = this.translateLinear(lo, hi, Access.Fetch, user);
    if (p >= 0) {
      this.fetchTlbLo[i] = tag;
      this.fetchTlbHi[i] = hi;
      this.fetchTlbPage[i] = Math.floor(p / PAGE_SIZE);
    }
    return p;
  }

  /** A code byte at linear address (lo, hi) for the translator: 0-255, or -1 (fault pending). */
  fetchByte(lo: number, hi: number): number {
    const p = this.fetchPhysicalAt(lo, hi);
    if (p < 0) return -1;
    const off = this.bus.ramOffset(p, 1);
    if (off >= 0) return this.ram.getUint8(off);
    const out = this.scratch;
    return this.bus.load(p, 1, out) ? out[0] & 0xff : 0xff;
  }

  // ---- supervisor-level linear memory access for system helpers ----------------------------

  /** Read `size` bytes at linear address `addr` (checked as `user` or supervisor); throws GuestFault. */
  readLinear(addr: bigint, size: number, user = false): bigint {
    const lo = lo32(addr), hi = hi32(addr);
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const alo = (lo + i) | 0;
      const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p = this.translateLinear(alo, ahi, Access.Load, user);
      if (p < 0) throw new GuestFault(this.pendingVector, this.pendingError);
      const out = this.scratch;
      const byte = this.bus.load(p, 1, out) ? out[0] & 0xff : 0xff;
      v |= BigInt(byte) << BigInt(8 * i);
    }
    return v;
  }
  writeLinear(addr: bigint, size: number, value: bigint, user = false): void {
    const lo = lo32(addr), hi = hi32(addr);
    const phys: number[] = [];
    for (let i = 0; i < size; i++) {
      const alo = (lo + i) | 0;
      const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p = this.translateLinear(alo, ahi, Access.Store, user);
      if (p < 0) throw new GuestFault(this.pendingVector, this.pendingError);
      phys.push(p);
    }
    for (let i = 0; i < size; i++) this.bus.store(phys[i], 1, Number((value >> BigInt(8 * i)) & 0xffn), 0);
  }

  // ---- segments ----------------------------------------------------------------------------

  /** The 8-byte descriptor for `sel` from the GDT or LDT; throws #GP(sel) when beyond the limit. */
  private readDescriptor(sel: number, vector = Vector.GP): [number, number] {
    const ldt = (sel & 4) !== 0;
    const index = sel & ~7;
    const limit = ldt ? this.ldtLimit : this.gdtLimit;
    if (index + 7 > limit) throw new GuestFault(vector, sel & 0xfffc);
    const base = (ldt ? this.ldtBase : this.gdtBase) + BigInt(index);
    const v = this.readLinear(base, 8);
    return [lo32(v), hi32(v)];
  }
  private descriptorAddr(sel: number): bigint {
    return ((sel & 4) !== 0 ? this.ldtBase : this.gdtBase) + BigInt(sel & ~7);
  }
  static descBase(lo: number, hi: number): bigint {
    return BigInt(((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0);
  }
  static descLimit(lo: number, hi: number): number {
    const raw = (lo & 0xffff) | (hi & 0xf0000);
    return hi & (1 << 23) ? ((raw << 12) | 0xfff) >>> 0 : raw;
  }
  static descAttr(hi: number): number {
    return (hi >>> 8) & 0xf0ff;
  }
  /** Set the accessed bit of a descriptor in memory, if clear. */
  private markAccessed(sel: number, hi: number): void {
    if (hi & (1 << 8)) return;
    this.writeLinear(this.descriptorAddr(sel) + 5n, 1, BigInt(((hi >>> 8) | 1) & 0xff));
  }

  /**
   * MOV/POP to a data segment register or SS, with the protection checks of SDM Vol. 3,
   * 5.10 (throws #GP, #SS or #NP with the selector as error code).
   */
  loadDataSegment(s: number, sel: number): void {
    sel &= 0xffff;
    if (!(this.cr0 & CR0_PE) || this.state[EFLAGS] & VM) {
      this.setSegmentRaw(s, sel, BigInt(sel << 4), this.segLimit(s), this.realModeAttr(s));
      if (s === Seg.SS) this.inhibitInterrupts();
      return;
    }
    const rpl = sel & 3;
    if ((sel & ~3) === 0) {
      // Null selector: allowed for data segments (and for SS in 64-bit mode at CPL < 3).
      if (s === Seg.SS && !(this.efer & EFER_LMA && this.codeSize() === 64 && this.cpl !== 3 && rpl === this.cpl)) {
        throw new GuestFault(Vector.GP, 0);
      }
      this.setSegmentRaw(s, sel, 0n, 0, 0);
      if (s === Seg.SS) this.inhibitInterrupts();
      return;
    }
    const [lo, hi] = this.readDescriptor(sel);
    const attr = X86Cpu.descAttr(hi);
    const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
    const type = attr & ATTR_TYPE;
    const isCode = (type & 8) !== 0;
    if (s === Seg.SS) {
      // A writable data segment with RPL = DPL = CPL.
      if (!(attr & ATTR_S) || isCode || !(type & 2) || rpl !== this.cpl || dpl !== this.cpl) throw new GuestFault(Vector.GP, sel & 0xfffc);
      if (!(attr & ATTR_P)) throw new GuestFault(Vector.SS, sel & 0xfffc);
    } else {
      // Data, or readable code; non-conforming ones need max(CPL, RPL) <= DPL.
      if (!(attr & ATTR_S) || (isCode && !(type & 2))) throw new GuestFault(Vector.GP, sel & 0xfffc);
      const conforming = isCode && (type & 4) !== 0;
      if (!conforming && (rpl > dpl || this.cpl > dpl)) throw new GuestFault(Vector.GP, sel & 0xfffc);
      if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, sel & 0xfffc);
    }
    this.markAccessed(sel, hi);
    this.setSegmentRaw(s, sel, X86Cpu.descBase(lo, hi), X86Cpu.descLimit(lo, hi), attr | 1);
    if (s === Seg.SS) this.inhibitInterrupts();
  }

  private realModeAttr(s: number): number {
    return ATTR_P | ATTR_S | (s === Seg.CS ? 0xb : 3) | (this.state[EFLAGS] & VM ? 3 << ATTR_DPL_SHIFT : 0);
  }

  /** Load CS for a transfer to `sel` at privilege `cpl` from a code descriptor (checked by the caller). */
  private loadCs(sel: number, lo: number, hi: number, cpl: number): void {
    this.cpl = cpl;
    this.setSegmentRaw(Seg.CS, (sel & ~3) | cpl, X86Cpu.descBase(lo, hi), X86Cpu.descLimit(lo, hi), X86Cpu.descAttr(hi) | 1);
  }

  /** STI: interrupts stay off until the next instruction has run. */
  inhibitForOneInstruction(): void {
    this.inhibitInterrupts();
  }
  private inhibitInterrupts(): void {
    this.inhibitIrq = true;
    this.updateFlags();
  }
  /** Called after the instruction following STI / MOV SS, or one run again alone, has run. */
  clearInhibit(): void {
    if (this.inhibitIrq || this.oneInsn) {
      this.inhibitIrq = false;
      this.oneInsn = false;
      this.updateFlags();
      this.interruptCheckNeeded = true;
    }
  }

  // ---- stack helpers for system code ---------------------------------------------------------

  private stackMask(): bigint {
    if (this.codeSize() === 64) return (1n << 64n) - 1n;
    return this.segAttr(Seg.SS) & ATTR_DB && this.cr0 & CR0_PE && !(this.state[EFLAGS] & VM) ? 0xffffffffn : 0xffffn;
  }
  /** Push on SS:rSP (size 2, 4 or 8) with the current stack size. */
  push(value: bigint, size: number): void {
    const mask = this.stackMask();
    const sp = (this.getReg(4) - BigInt(size)) & mask;
    this.writeLinear(this.segBase(Seg.SS) + sp, size, value, this.cpl === 3);
    this.setReg(4, (this.getReg(4) & ~mask) | sp);
  }
  pop(size: number): bigint {
    const mask = this.stackMask();
    const sp = this.getReg(4) & mask;
    const v = this.readLinear(this.segBase(Seg.SS) + sp, size, this.cpl === 3);
    this.setReg(4, (this.getReg(4) & ~mask) | ((sp + BigInt(size)) & mask));
    return v;
  }

  // ---- exceptions and interrupts -------------------------------------------------------------

  /** Raise an exception from a helper or slow path (taken by the engine at the instruction). */
  raise(vector: number, error: number): number {
    this.pendingVector = vector;
    this.pendingError = error;
    this.exceptionPending[0] = 1;
    return 0;
  }

  takePendingException(pc: bigint): void {
    this.exceptionPending[0] = 0;
    this.halted = false;
    // Restore the linear pc of the faulting instruction (the return address of a fault).
    this.state[PC] = lo32(pc);
    this.state[PC + 1] = hi32(pc);
    if (this.pendingVector === RESTART) return; // run the instruction again (storeHitsCode)
    this.deliver(this.pendingVector, this.pendingError, false, this.rip);
  }

  /**
   * Deliver interrupt or exception `vector` with `error` (-1: none); `software` for INT n,
   * INT3, INTO (privilege-checked against the gate's DPL); `returnRip` is pushed.
   */
  deliver(vector: number, error: number, software: boolean, returnRip: bigint): void {
    if (this.deliveryDepth > 0) {
      // A fault while delivering another exception (SDM Vol. 3, 6.15, table 6-5).
      const first = this.deliveringVector;
      if (first === Vector.DF) {
        this.deliveryDepth = 0;
        this.hooks.shutdown('triple fault');
        return;
      }
      const contributory = (v: number) => ((CONTRIBUTORY >> v) & 1) !== 0;
      if ((contributory(first) && contributory(vector)) || (first === Vector.PF && (contributory(vector) || vector === Vector.PF))) {
        vector = Vector.DF;
        error = 0;
        software = false;
      }
    }
    this.hooks.logTrap?.(`x86: exception/interrupt ${vector}${error >= 0 ? ` error 0x${error.toString(16)}` : ''} at rip 0x${returnRip.toString(16)} rsp 0x${this.getReg(4).toString(16)} cpl ${this.cpl}`);
    this.deliveryDepth++;
    this.deliveringVector = vector;
    try {
      if (!(this.cr0 & CR0_PE)) this.deliverReal(vector, returnRip);
      else if (this.efer & EFER_LMA) this.deliverLong(vector, error, software, returnRip);
      else this.deliverProtected(vector, error, software, returnRip);
      this.deliveryDepth = 0;
      this.deliveringVector = -1;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // INT n whose delivery faults: the fault is the INT instruction's (the helper's
      // caller takes it at that instruction's pc). Otherwise a fault while delivering.
      if (software) {
        this.deliveryDepth = 0;
        this.deliveringVector = -1;
        throw e;
      }
      this.deliver(e.vector, e.error, false, returnRip);
    } finally {
      if (this.deliveryDepth > 0) this.deliveryDepth--;
    }
    this.inhibitIrq = false;
    this.updateFlags();
    this.interruptCheckNeeded = true;
  }

  private deliverReal(vector: number, returnRip: bigint): void {
    if (vector * 4 + 3 > this.idtLimit) throw new GuestFault(Vector.GP, vector * 8 + 2);
    const entry = Number(this.readLinear(this.idtBase + BigInt(vector * 4), 4));
    const flags = this.eflags;
    this.push(BigInt(flags & 0xffff), 2);
    this.push(BigInt(this.segSel(Seg.CS)), 2);
    this.push(returnRip & 0xffffn, 2);
    const sel = entry >>> 16;
    this.setSegmentRaw(Seg.CS, sel, BigInt(sel << 4), this.segLimit(Seg.CS), this.segAttr(Seg.CS));
    this.setRip(BigInt(entry & 0xffff));
    this.eflags = flags & ~(IF | TF | AC | RF);
  }

  private gateFor(vector: number, software: boolean, entrySize: number): [number, number, number] {
    const ext = software ? 0 : 1;
    if (vector * entrySize + entrySize - 1 > this.idtLimit) throw new GuestFault(Vector.GP, vector * 8 + 2 + ext);
    const raw = this.readLinear(this.idtBase + BigInt(vector * entrySize), 8);
    const lo = lo32(raw), hi = hi32(raw);
    const type = (hi >> 8) & 0x1f;
    const dpl = (hi >> 13) & 3;
    if (software && dpl < this.cpl) throw new GuestFault(Vector.GP, vector * 8 + 2);
    if (!(hi & (1 << 15))) throw new GuestFault(Vector.NP, vector * 8 + 2 + ext);
    return [lo, hi, type];
  }

  /** The code descriptor a gate points at: [lo, hi, dpl]; throws on a bad one. */
  private gateTarget(sel: number, ext: number): [number, number, number] {
    if ((sel & ~3) === 0) throw new GuestFault(Vector.GP, ext);
    const [lo, hi] = this.readDescriptor(sel);
    const attr = X86Cpu.descAttr(hi);
    const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
    if (!(attr & ATTR_S) || !(attr & 8) || dpl > this.cpl) throw new GuestFault(Vector.GP, (sel & 0xfffc) + ext);
    if (!(attr & ATTR_P)) throw new GuestFault(Vector.NP, (sel & 0xfffc) + ext);
    return [lo, hi, dpl];
  }

  private deliverProtected(vector: number, error: number, software: boolean, returnRip: bigint): void {
    const ext = software ? 0 : 1;
    const [glo, ghi, type] = this.gateFor(vector, software, 8);
    if (type === 5) throw new GuestFault(Vector.GP, vector * 8 + 2 + ext); // task gates: not supported
    if (type !== 6 && type !== 7 && type !== 0xe && type !== 0xf) throw new GuestFault(Vector.GP, vector * 8 + 2 + ext);
    const gate32 = (type & 8) !== 0;
    const trap = (type & 1) !== 0;
    const sel = glo >>> 16;
    const offset = BigInt(gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff);
    const [clo, chi, cdpl] = this.gateTarget(sel, ext);
    const conforming = (X86Cpu.descAttr(chi) & 4) !== 0;
    const oldFlags = this.eflags;
    const vm86 = (oldFlags & VM) !== 0;
    const newCpl = conforming ? this.cpl : cdpl;
    const size = gate32 ? 4 : 2;
    const oldSs = this.segSel(Seg.SS), oldSp = this.getReg(4);
    const oldCs = this.segSel(Seg.CS);
    if (newCpl < this.cpl || vm86) {
      if (vm86 && newCpl !== 0) throw new GuestFault(Vector.GP, (sel & 0xfffc) + ext);
      // Inner privilege: the stack for the new ring from the TSS.
      const { ss, sp } = this.tssStack32(newCpl, ext);
      const [slo, shi] = this.readDescriptor(ss, Vector.TS);
      const sattr = X86Cpu.descAttr(shi);
      if ((ss & 3) !== newCpl || ((sattr >> ATTR_DPL_SHIFT) & 3) !== newCpl || !(sattr & ATTR_S) || sattr & 8 || !(sattr & 2)) {
        throw new GuestFault(Vector.TS, (ss & 0xfffc) + ext);
      }
      if (!(sattr & ATTR_P)) throw new GuestFault(Vector.SS, (ss & 0xfffc) + ext);
      this.cpl = newCpl;
      this.setSegmentRaw(Seg.SS, ss, X86Cpu.descBase(slo, shi), X86Cpu.descLimit(slo, shi), sattr | 1);
      this.setReg(4, sp);
      if (vm86) {
        for (const s of [Seg.GS, Seg.FS, Seg.DS, Seg.ES]) this.push(BigInt(this.segSel(s)), size);
      }
      this.push(BigInt(oldSs), size);
      this.push(oldSp & (size === 4 ? 0xffffffffn : 0xffffn), size);
      if (vm86) for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) this.setSegmentRaw(s, 0, 0n, 0, 0);
    } else if (cdpl !== this.cpl && !conforming) {
      throw new GuestFault(Vector.GP, (sel & 0xfffc) + ext);
    }
    this.push(BigInt(oldFlags >>> 0) & (size === 4 ? 0xffffffffn : 0xffffn), size);
    this.push(BigInt(oldCs), size);
    this.push(returnRip & (size === 4 ? 0xffffffffn : 0xffffn), size);
    if (error >= 0 && (HAS_ERROR_CODE >> vector) & 1 && !software) this.push(BigInt(error), size);
    this.loadCs(sel, clo, chi, newCpl);
    this.setRip(offset);
    let f = oldFlags & ~(TF | VM | RF | NT);
    if (!trap) f &= ~IF;
    this.eflags = f;
  }

  private tssStack32(cpl: number, ext: number): { ss: number; sp: bigint } {
    const is32 = (this.trAttr & 8) !== 0;
    const at = is32 ? 4 + cpl * 8 : 2 + cpl * 4;
    if (at + (is32 ? 5 : 3) > this.trLimit) throw new GuestFault(Vector.TS, (this.trSel & 0xfffc) + ext);
    if (is32) {
      const sp = this.readLinear(this.trBase + BigInt(at), 4);
      const ss = Number(this.readLinear(this.trBase + BigInt(at + 4), 2));
      return { ss, sp };
    }
    const sp = this.readLinear(this.trBase + BigInt(at), 2);
    const ss = Number(this.readLinear(this.trBase + BigInt(at + 2), 2));
    return { ss, sp };
  }

  private deliverLong(vector: number, error: number, software: boolean, returnRip: bigint): void {
    const ext = software ? 0 : 1;
    const [glo, ghi, type] = this.gateFor(vector, software, 16);
    if (type !== 0xe && type !== 0xf) throw new GuestFault(Vector.GP, vector * 8 + 2 + ext);
    const upper = this.readLinear(this.idtBase + BigInt(vector * 16 + 8), 4);
    const sel = glo >>> 16;
    const offset = (upper << 32n) | BigInt(((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0);
    const ist = ghi & 7;
    const [clo, chi, cdpl] = this.gateTarget(sel, ext);
    const cattr = X86Cpu.descAttr(chi);
    if (!(cattr & ATTR_L) || cattr & ATTR_DB) throw new GuestFault(Vector.GP, (sel & 0xfffc) + ext);
    const conforming = (cattr & 4) !== 0;
    const newCpl = conforming ? this.cpl : cdpl;
    const oldFlags = this.eflags;
    const oldSs = this.segSel(Seg.SS), oldSp = this.getReg(4), oldCs = this.segSel(Seg.CS);
    let sp: bigint;
    if (ist !== 0) sp = this.readLinear(this.trBase + BigInt(0x24 + 8 * (ist - 1)), 8);
    else if (newCpl < this.cpl) sp = this.readLinear(this.trBase + BigInt(4 + 8 * newCpl), 8);
    else sp = oldSp;
    sp &= ~15n; // the frame is 16-byte aligned
    if (newCpl < this.cpl) this.setSegmentRaw(Seg.SS, newCpl, 0n, 0, 0);
    this.cpl = newCpl;
    this.loadCs(sel, clo, chi, newCpl);
    // Now in 64-bit code: pushes are 8 bytes on the new stack.
    this.setReg(4, sp);
    const frame: bigint[] = [BigInt(oldSs), oldSp, BigInt(oldFlags >>> 0), BigInt(oldCs), returnRip];
    if (error >= 0 && (HAS_ERROR_CODE >> vector) & 1 && !software) frame.push(BigInt(error));
    for (const v of frame) this.push(v, 8);
    this.setRip(offset);
    let f = oldFlags & ~(TF | VM | RF | NT);
    if (!(type & 1)) f &= ~IF;
    this.eflags = f;
  }

  // ---- external interrupts ----------------------------------------------------------------

  get interruptCheckNeeded(): boolean {
    return this.dispatchWords[1] !== 0;
  }
  set interruptCheckNeeded(v: boolean) {
    this.dispatchWords[1] = v ? 1 : 0;
  }

  /** The interrupt controller's INTR line. */
  setIntr(level: boolean): void {
    if (level === this.intr) return;
    this.intr = level;
    this.interruptCheckNeeded = true;
    if (level) this.hooks.requestExit();
  }

  interruptPending(): boolean {
    return this.intr;
  }

  deliverInterrupt(): boolean {
    this.interruptCheckNeeded = false;
    // Until the instruction after STI / MOV SS has run (its block clears this).
    if (this.inhibitIrq) return false;
    if (!this.intr || !(this.state[EFLAGS] & IF)) return false;
    const vector = this.hooks.acknowledgeInterrupt();
    if (vector < 0) return false;
    this.halted = false;
    this.deliver(vector, -1, false, this.rip);
    return true;
  }

  enterRun(): void {}
  leaveRun(): void {}

  // ---- control registers, MSRs -------------------------------------------------------------

  writeCr0(v: number): void {
    v |= CR0_ET;
    if (v & CR0_PG && !(v & CR0_PE)) throw new GuestFault(Vector.GP, 0);
    const old = this.cr0;
    if (!(old & CR0_PG) && v & CR0_PG && this.efer & EFER_LME) {
      if (!(this.cr4 & CR4_PAE)) throw new GuestFault(Vector.GP, 0);
      this.efer |= EFER_LMA;
    }
    if (old & CR0_PG && !(v & CR0_PG) && this.efer & EFER_LMA) this.efer &= ~EFER_LMA;
    this.cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) this.flushTlb();
    this.updateFlags();
  }
  writeCr3(v: number): void {
    this.cr3 = v;
    this.flushTlb();
  }
  writeCr4(v: number): void {
    const old = this.cr4;
    this.cr4 = v;
    if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) this.flushTlb();
    this.updateFlags();
  }
  writeEfer(v: number): void {
    const allowed = EFER_SCE | EFER_LME | EFER_NXE | EFER_LMA;
    const lma = this.efer & EFER_LMA;
    const old = this.efer;
    this.efer = (v & allowed & ~EFER_LMA) | lma;
    if ((old ^ this.efer) & EFER_NXE) this.flushTlb();
    this.updateFlags();
  }

  rdmsr(msr: number): bigint {
    switch (msr >>> 0) {
      case MSR_TSC: return BigInt.asUintN(64, this.hooks.tsc() + this.tscOffset);
      case MSR_APIC_BASE: return this.apicBase;
      case MSR_SYSENTER_CS: return BigInt(this.sysenterCs);
      case MSR_SYSENTER_ESP: return this.sysenterEsp;
      case MSR_SYSENTER_EIP: return this.sysenterEip;
      case MSR_PAT: return this.pat;
      case MSR_MISC_ENABLE: return 1n;
      case MSR_EFER: return BigInt(this.efer >>> 0);
      case MSR_STAR: return this.star;
      case MSR_LSTAR: return this.lstar;
      case MSR_CSTAR: return this.cstar;
      case MSR_FMASK: return this.fmask;
      case MSR_FS_BASE: return this.segBase(Seg.FS);
      case MSR_GS_BASE: return this.segBase(Seg.GS);
      case MSR_KERNEL_GS_BASE: return this.kernelGsBase;
      case MSR_TSC_AUX: return this.tscAux;
    }
    throw new GuestFault(Vector.GP, 0);
  }
  wrmsr(msr: number, v: bigint): void {
    const lm = this.features.has('lm');
    switch (msr >>> 0) {
      case MSR_TSC: this.tscOffset = v - this.hooks.tsc(); return;
      case MSR_APIC_BASE: this.apicBase = v; return;
      case MSR_SYSENTER_CS: this.sysenterCs = Number(v & 0xffffn); return;
      case MSR_SYSENTER_ESP: this.sysenterEsp = v; return;
      case MSR_SYSENTER_EIP: this.sysenterEip = v; return;
      case MSR_PAT: this.pat = v; return;
      case MSR_MISC_ENABLE: return;
      case MSR_EFER:
        if (v >> 32n || (!lm && v & BigInt(EFER_LME))) throw new GuestFault(Vector.GP, 0);
        this.writeEfer(Number(v));
        return;
      case MSR_STAR: this.star = v; return;
    }
    if (lm) {
      switch (msr >>> 0) {
        case MSR_LSTAR: this.lstar = v; return;
        case MSR_CSTAR: this.cstar = v; return;
        case MSR_FMASK: this.fmask = v & 0xffffffffn; return;
        case MSR_FS_BASE: this.setSegBase(Seg.FS, v); return;
        case MSR_GS_BASE: this.setSegBase(Seg.GS, v); return;
        case MSR_KERNEL_GS_BASE: this.kernelGsBase = v; return;
        case MSR_TSC_AUX: this.tscAux = v & 0xffffffffn; return;
      }
    }
    throw new GuestFault(Vector.GP, 0);
  }
  private setSegBase(s: number, v: bigint): void {
    this.state[SEG_BASE + 2 * s] = lo32(v);
    this.state[SEG_BASE + 2 * s + 1] = hi32(v);
    this.updateFlags();
  }

  cpuidLeaf(leaf: number, sub: number): [number, number, number, number] {
    return cpuid(this.model, leaf, sub, 0);
  }

  tsc(): bigint {
    return BigInt.asUintN(64, this.hooks.tsc() + this.tscOffset);
  }

  // ---- x87 -------------------------------------------------------------------------------

  /** Decoded x87 instructions the translator registered (the fpu helper's first argument). */
  readonly fpuInsns: FpuInsn[] = [];
  private readonly fpuInsnIndex = new Map<string, number>();
  registerFpuInsn(insn: X86Insn): number {
    const f = fpuInsnOf(insn);
    const key = `${f.handler},${f.opcode},${f.modrm},${f.opSize},${f.codeSize},${f.operands.map((o) => `${o.kind}/${o.size}/${o.reg}/${o.regClass}`).join(';')}`;
    let i = this.fpuInsnIndex.get(key);
    if (i === undefined) {
      i = this.fpuInsns.length;
      this.fpuInsns.push(f);
      this.fpuInsnIndex.set(key, i);
    }
    return i;
  }
  /** Guest memory for the x87 module: linear addresses at the current privilege, faults thrown. */
  readonly fpuHost: FpuHost;

  /** Decoded MMX/SSE instructions the translator registered (the simd helper's first argument). */
  readonly simdInsns: SimdInsn[] = [];
  private readonly simdInsnIndex = new Map<string, number>();
  registerSimdInsn(insn: X86Insn): number {
    const operands = insn.operands.slice(0, insn.nOperands).map((o) => ({ kind: o.kind, size: o.size, reg: o.reg, regClass: o.regClass }));
    const f: SimdInsn = {
      handler: insn.handler, opcode: insn.opcode, map: insn.map, mandatoryPrefix: insn.mandatoryPrefix, opSize: insn.opSize,
      operands, imm: insn.imm & 0xff,
    };
    const key = `${f.handler},${f.opcode},${f.map},${f.mandatoryPrefix},${f.opSize},${f.imm},${operands.map((o) => `${o.kind}/${o.size}/${o.reg}/${o.regClass}`).join(';')}`;
    let i = this.simdInsnIndex.get(key);
    if (i === undefined) {
      i = this.simdInsns.length;
      this.simdInsns.push(f);
      this.simdInsnIndex.set(key, i);
    }
    return i;
  }
  readonly simdHost: SimdHost;

  /** Read bytes at a linear address (checked at the current privilege); throws GuestFault. */
  readBytes(lo: number, hi: number, size: number, out: Uint8Array): void {
    const user = this.cpl === 3;
    const scratch = this.scratch;
    for (let i = 0; i < size; i++) {
      const alo = (lo + i) | 0;
      const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p = this.translateLinear(alo, this.codeSize() === 64 ? ahi : 0, Access.Load, user);
      if (p < 0) throw new GuestFault(this.pendingVector, this.pendingError);
      out[i] = this.bus.load(p, 1, scratch) ? scratch[0] & 0xff : 0xff;
    }
  }
  /** Write bytes at a linear address (all translated before any is written); throws GuestFault. */
  writeBytes(lo: number, hi: number, size: number, bytes: Uint8Array): void {
    const user = this.cpl === 3;
    const phys = this.physScratch;
    for (let i = 0; i < size; i++) {
      const alo = (lo + i) | 0;
      const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const p = this.translateLinear(alo, this.codeSize() === 64 ? ahi : 0, Access.Store, user);
      if (p < 0) throw new GuestFault(this.pendingVector, this.pendingError);
      phys[i] = p;
    }
    for (let i = 0; i < size; i++) this.bus.store(phys[i], 1, bytes[i], 0);
  }
  private readonly physScratch = new Float64Array(512);

  // ---- helpers for generated code ----------------------------------------------------------

  /** Run a system operation; a GuestFault becomes a pending exception (returns 0 then). */
  guard(fn: () => number): number {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      return this.raise(e.vector, e.error);
    }
  }

  private registerHelpers(): X86HelperIds {
    return registerX86Helpers(this);
  }

  ioPermitted(port: number, size: number): boolean {
    const pe = (this.cr0 & CR0_PE) !== 0;
    const iopl = (this.state[EFLAGS] & IOPL) >> IOPL_SHIFT;
    if (!pe || (this.cpl <= iopl && !(this.state[EFLAGS] & VM))) return true;
    // The I/O permission bitmap of a 32-bit TSS.
    if ((this.trAttr & 0xf) !== 0xb && (this.trAttr & 0xf) !== 0x9) return false;
    if (this.trLimit < 0x67) return false;
    const mapBase = Number(this.readLinear(this.trBase + 0x66n, 2));
    const at = mapBase + (port >> 3);
    if (at + 1 > this.trLimit) return false;
    const bits = Number(this.readLinear(this.trBase + BigInt(at), 2));
    const mask = ((1 << size) - 1) << (port & 7);
    return (bits & mask) === 0;
  }
  ioIn(port: number, size: number): number {
    return this.hooks.ioRead(port & 0xffff, size);
  }
  ioOut(port: number, value: number, size: number): void {
    this.hooks.ioWrite(port & 0xffff, value, size);
  }
}
