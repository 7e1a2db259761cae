/**
 * The RISC-V hart: architectural state, CSRs, trap and interrupt entry, and the memory
 * slow paths that generated code calls on a soft-TLB miss.
 *
 * Privileged spec 1.12: M, S and U modes, trap delegation, the M and S trap CSRs,
 * counters and their enables, mstatus (MPRV, SUM, MXR, TVM, TSR, FS/SD), Sv39/Sv48/Sv57
 * paging with hardware A/D updates, and PMP CSRs as storage (not enforced).
 */
import { HelperTable, Temp, TempKind, Type } from '../../ir/ir.js';
import {
  ExitCode, MEMOP_RMW, PAGE_SIZE, Runtime, SoftTlb, TLB_INVALID, TLB_MASK, TLB_SIZE, createSoftTlb, extendLoad, fillSoftTlb,
  flushSoftTlb, protectCodePageIn,
} from '../../backend/runtime.js';
import type { AddressSpace } from '../../memory/address-space.js';
import { fpu } from '../../fpu/softfloat.js';
import { createRiscvHelpers, HelperIds, SystemHelperHost } from './helpers.js';
import {
  Cause, F_BASE, FLAGS_FS_SHIFT, FLAGS_LIMIT, FLAGS_MMU_MASK, FLAGS_MMU_SHIFT, FRM, FsState, LOAD_RES, LOAD_VAL, PAIRED_WORDS, PC, Priv,
  STATE_WORDS, X_BASE,
} from './state.js';
import { RiscvGlobals, RiscvTranslatorImpl, RiscvTranslationResult, InsnFetcher } from './translate.js';
import type { StateLayout, TcgTarget } from '../../accel/tcg/target.js';
import { disassemble } from './disas.js';

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

// mstatus fields.
const MSTATUS_SIE = 1n << 1n;
const MSTATUS_MIE = 1n << 3n;
const MSTATUS_SPIE = 1n << 5n;
const MSTATUS_MPIE = 1n << 7n;
const MSTATUS_SPP = 1n << 8n;
const MSTATUS_MPP_SHIFT = 11n;
const MSTATUS_MPP = 3n << MSTATUS_MPP_SHIFT;
const MSTATUS_FS_SHIFT = 13n;
const MSTATUS_FS = 3n << MSTATUS_FS_SHIFT;
const MSTATUS_MPRV = 1n << 17n;
const MSTATUS_SUM = 1n << 18n;
const MSTATUS_MXR = 1n << 19n;
const MSTATUS_TVM = 1n << 20n;
const MSTATUS_TW = 1n << 21n;
const MSTATUS_TSR = 1n << 22n;
const MSTATUS_UXL_SXL = (2n << 32n) | (2n << 34n); // both 64-bit, read-only
const MSTATUS_SD = 1n << 63n;
const MSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
const SSTATUS_MASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR |
  MSTATUS_SD | (3n << 32n);

/** Words after the state for tier-0 temporaries and constants (a block needs < 2000). */
const INTERP_WORDS = 8192;

/** Pages one page-table entry covers, by level (a table: `2 ** n` called Math.pow in every walk). */
const PAGES_PER_ENTRY = [1, 2 ** 9, 2 ** 18, 2 ** 27, 2 ** 36];

/** Page-table entry bits. */
const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;

const enum Access {
  Load = 0,
  Store = 1,
  Fetch = 2,
}

/**
 * Soft-TLB (MMU) indices for data accesses: the privilege level, except that S-mode with
 * mstatus.SUM set has its own (2, a level that does not exist), as in QEMU. Linux sets
 * SUM around every copy to or from user memory; with one TLB for both, each toggle had
 * to flush every translation (~6,700 full flushes in a boot, 96 % of them).
 */
const MMU_S_SUM = 2;

/** Interrupt numbers (mip/mie bits). */
export const enum Irq {
  SSI = 1,
  MSI = 3,
  STI = 5,
  MTI = 7,
  SEI = 9,
  MEI = 11,
}
const S_INTERRUPTS = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
const ALL_INTERRUPTS = S_INTERRUPTS | (1 << Irq.MSI) | (1 << Irq.MTI) | (1 << Irq.MEI);
/** Priority order for simultaneous interrupts (privileged spec 3.1.9). */
const IRQ_PRIORITY = [Irq.MEI, Irq.MSI, Irq.MTI, Irq.SEI, Irq.SSI, Irq.STI];

/** misa: RV64 with I, M, A, F, D, C, S, U. */
const MISA = (2n << 62n) | [0, 2, 3, 5, 8, 12, 18, 20].reduce((m, b) => m | (1n << BigInt(b)), 0n);

const big = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo >>> 0);
const lo32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));

export interface CpuHooks {
  /** Guest instructions retired so far (the engine counts them). */
  instret(): number;
  /** Current mtime value for the `time` CSR. */
  mtime(): bigint;
  /** Ask the execution loop to stop at the next block boundary (interrupt raised). */
  requestExit(): void;
  /** Drop every translated block (fence.i is not needed: stores invalidate). */
  flushTranslations(): void;
  /** Virtual-to-physical mappings changed: forget pc-keyed shortcuts (jump cache). */
  tlbFlushed?(): void;
  /** The mapping of one virtual page changed. */
  tlbFlushedPage?(lo: number, hi: number): void;
  /**
   * A trap that would enter M-mode, offered to firmware emulated on the host (the
   * built-in SBI). Returning true means it was handled and the hart continues at
   * whatever pc the handler set.
   */
  machineTrap?(cause: number, interrupt: boolean, epc: bigint, tval: bigint): boolean;
  /** Log a trap when -d int is on. */
  logTrap?(text: string): void;
}

const LAYOUT: StateLayout = { pc: PC, pairedWords: PAIRED_WORDS, stateWords: STATE_WORDS, flagsLimit: FLAGS_LIMIT, pcAlignShift: 1 };

export class RiscvCpu implements TcgTarget, SystemHelperHost, InsnFetcher {
  readonly layout = LAYOUT;
  /**
   * The state words, followed by room for the tier-0 interpreter's temporaries: its
   * value array (`values`) and `state` share memory, so globals are state slots.
   */
  readonly values: Int32Array;
  readonly state: Int32Array;
  readonly ram: DataView;
  /** Soft TLBs by MMU index (= the data-access privilege: 0 U, 1 S, 3 M). */
  readonly tlbs: SoftTlb[];
  readonly exceptionPending: Int32Array;
  readonly budget: Int32Array;
  readonly retHi: Int32Array;
  readonly wasmMemory: WebAssembly.Memory | null;
  readonly helperTable: HelperTable;
  readonly helperIds: HelperIds;
  readonly mul64Helper: number;
  readonly helpers: Runtime['helpers'];
  readonly globals: RiscvGlobals;
  private readonly translator: RiscvTranslatorImpl;
  private readonly scratch = new Int32Array(2);

  private privLevel: Priv = Priv.M;
  /** Fetch TLB (see fetchPhysicalAt): one TLB_SIZE bank per privilege level. */
  private readonly fetchTlbLo = new Int32Array(4 * TLB_SIZE).fill(TLB_INVALID);
  private readonly fetchTlbHi = new Int32Array(4 * TLB_SIZE);
  private readonly fetchTlbPage = new Int32Array(4 * TLB_SIZE);
  private mstatusBits = MSTATUS_UXL_SXL;
  /** tbFlags() cached: read before every block, so it must not touch a bigint. */
  private flagsCache = 0;
  /**
   * Words that compiled code's dispatcher reads (see the engine's WasmDispatch):
   * [0] the translation flags (flagsCache), [1] interruptCheckNeeded as 0/1.
   */
  readonly dispatchWords: Int32Array;
  mip = 0;
  mie = 0;
  medeleg = 0n;
  mideleg = 0n;
  mtvec = 0n;
  mscratch = 0n;
  mepc = 0n;
  mcause = 0n;
  mtval = 0n;
  mcounteren = 0n;
  menvcfg = 0n;
  stvec = 0n;
  sscratch = 0n;
  sepc = 0n;
  scause = 0n;
  stval = 0n;
  scounteren = 0n;
  senvcfg = 0n;
  satp = 0n;
  /** satp.MODE and the root table's page number, as numbers for the page walk. */
  private satpMode = 0;
  private satpRootPage = 0;
  readonly pmpcfg = new Array<bigint>(16).fill(0n);
  readonly pmpaddr = new Array<bigint>(64).fill(0n);
  /** Accrued FP exception flags while not running (fpu.flags holds them while running). */
  fflags = 0;
  private instretOffset = 0n;
  private cycleOffset = 0n;
  /**
   * Set by a successful translateAddress: whether a store to the page would succeed
   * without another walk (no A/D update needed), so a load miss can fill the TLB's
   * write tag too.
   */
  private walkWritable = false;
  /** Calls of the load and store slow paths (soft-TLB misses, MMIO, page crossings). */
  slowLoads = 0;
  slowStores = 0;
  /** The exception raised by a helper or slow path, taken by the engine. */
  pendingCause = 0;
  pendingTval = 0n;

  constructor(
    readonly bus: AddressSpace,
    readonly hartId: number,
    private readonly hooks: CpuHooks,
  ) {
    this.ram = bus.ramView;
    // Everything generated code touches lives in the bus's arena, next to RAM.
    const arena = bus.arena;
    this.wasmMemory = arena.wasmMemory;
    this.values = arena.int32(STATE_WORDS + INTERP_WORDS);
    this.state = this.values.subarray(0, STATE_WORDS);
    const words = (n: number) => arena.int32(n);
    this.tlbs = [createSoftTlb(words), createSoftTlb(words), createSoftTlb(words), createSoftTlb(words)];
    this.exceptionPending = arena.int32(1);
    this.budget = arena.int32(1);
    this.retHi = arena.int32(1);
    this.dispatchWords = arena.int32(2);
    this.updateFlags();
    const { table, ids } = createRiscvHelpers(this, this.retHi);
    this.helperTable = table;
    this.helperIds = ids;
    this.mul64Helper = ids.mul64;
    this.helpers = table.list;
    let id = 0;
    const g = (type: Type, slot: number, name: string) => new Temp(id++, type, TempKind.Global, 0, slot, name);
    const x = ABI.map((n, i) => g(Type.I64, X_BASE + 2 * i, n));
    const f = Array.from({ length: 32 }, (_, i) => g(Type.I64, F_BASE + 2 * i, `f${i}`));
    const pc = g(Type.I64, PC, 'pc');
    const frm = g(Type.I32, FRM, 'frm');
    const loadRes = g(Type.I64, LOAD_RES, 'load_res');
    const loadVal = g(Type.I64, LOAD_VAL, 'load_val');
    this.globals = { x, f, pc, frm, loadRes, loadVal, all: [...x, ...f, pc, frm, loadRes, loadVal] };
    this.translator = new RiscvTranslatorImpl(this.globals, table, ids);
    this.state[LOAD_RES] = -1;
    this.state[LOAD_RES + 1] = -1;
  }

  // ---- registers ----------------------------------------------------------------------------

  get pc(): bigint {
    return BigInt.asUintN(64, big(this.state[PC], this.state[PC + 1]));
  }
  set pc(v: bigint) {
    this.state[PC] = lo32(v);
    this.state[PC + 1] = hi32(v);
  }
  getX(r: number): bigint {
    return BigInt.asUintN(64, big(this.state[X_BASE + 2 * r], this.state[X_BASE + 2 * r + 1]));
  }
  setX(r: number, v: bigint): void {
    if (r === 0) return;
    this.state[X_BASE + 2 * r] = lo32(v);
    this.state[X_BASE + 2 * r + 1] = hi32(v);
  }
  getF(r: number): bigint {
    return BigInt.asUintN(64, big(this.state[F_BASE + 2 * r], this.state[F_BASE + 2 * r + 1]));
  }

  get priv(): Priv {
    return this.privLevel;
  }
  set priv(p: Priv) {
    this.privLevel = p;
    this.updateFlags();
    this.interruptCheckNeeded = true;
  }
  get mstatus(): bigint {
    return this.mstatusBits;
  }
  set mstatus(v: bigint) {
    const changed = this.mstatusBits ^ v;
    this.mstatusBits = v;
    this.updateFlags();
    this.interruptCheckNeeded = true;
    // Cached translations depend on MXR. SUM and MPRV/MPP select the MMU index instead.
    if (changed & MSTATUS_MXR) this.flushTlb();
  }
  /**
   * The translation flags of the current state, computed afresh: the one definition of
   * what they encode. tbFlags() returns a cached copy, refreshed by updateFlags() at
   * construction and whenever the privilege level or mstatus changes.
   */
  computeTbFlags(): number {
    return (
      this.privLevel |
      (Number((this.mstatusBits & MSTATUS_FS) >> MSTATUS_FS_SHIFT) << FLAGS_FS_SHIFT) |
      (this.dataMmuIndex() << FLAGS_MMU_SHIFT)
    );
  }
  private updateFlags(): void {
    this.flagsCache = this.computeTbFlags();
    this.dispatchWords[0] = this.flagsCache;
  }

  /** MMU index of the current translation flags (the TLB generated code inlines). */
  mmuIndexFromFlags(flags: number): number {
    return (flags & FLAGS_MMU_MASK) >> FLAGS_MMU_SHIFT;
  }

  /** Translation flags: everything the translator reads from the CPU mode. */
  tbFlags(): number {
    return this.flagsCache;
  }

  translate(pc: bigint, flags: number): RiscvTranslationResult | null {
    return this.translator.translate(this, pc, flags);
  }

  disassembleBlock(result: RiscvTranslationResult): string {
    return result.insnPcs
      .map((p, i) => `0x${p.toString(16).padStart(16, '0')}:  ${hexBits(result.insnBits[i])}  ${disassemble(result.insnBits[i], p)}`)
      .join('\n');
  }

  // ---- memory -------------------------------------------------------------------------------

  /** The soft TLB data accesses use now (see MMU_S_SUM). */
  private dataMmuIndex(): number {
    const priv = this.dataPriv();
    return priv === Priv.S && this.mstatusBits & MSTATUS_SUM ? MMU_S_SUM : priv;
  }

  /** The privilege level data accesses use: MPP when mstatus.MPRV is set in M-mode. */
  private dataPriv(): Priv {
    if (this.privLevel === Priv.M && this.mstatusBits & MSTATUS_MPRV) {
      return Number((this.mstatusBits & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) as Priv;
    }
    return this.privLevel;
  }

  /**
   * Translate virtual address (lo, hi) for an access at privilege `priv`: returns the
   * physical address, or -1 with the fault left in pendingCause/pendingTval.
   * Sv39/Sv48/Sv57 walks per the privileged spec 4.3-4.6, with hardware A/D updates.
   */
  private translateAddress(lo: number, hi: number, access: Access, priv: Priv): number {
    const mode = this.satpMode;
    if (priv === Priv.M || mode === 0) {
      this.walkWritable = true;
      // Bare: physical addresses are below 2^56; keep to what a JS number holds exactly.
      if (hi < 0 || hi >= 0x200000) return this.accessFault(access, BigInt.asUintN(64, big(lo, hi)));
      return hi * 0x100000000 + (lo >>> 0);
    }
    const faultCause = access === Access.Fetch ? Cause.InsnPageFault : access === Access.Load ? Cause.LoadPageFault : Cause.StorePageFault;
    const levels = mode - 5; // Sv39: 3, Sv48: 4, Sv57: 5
    // The bits above the virtual address width must all equal its top bit (canonical).
    const top = hi >> (9 * levels - 21);
    if (top !== 0 && top !== -1) return this.pageFault(faultCause, lo, hi);
    const sum = (this.mstatusBits & MSTATUS_SUM) !== 0n;
    const mxr = (this.mstatusBits & MSTATUS_MXR) !== 0n;
    // The virtual page number, vaddr >> 12, exact in a double (at most 45 bits here).
    const vpnAll = (hi & 0x1ffffff) * 0x100000 + (lo >>> 12);
    let table = this.satpRootPage * PAGE_SIZE;
    const out = this.scratch;
    for (let level = levels - 1; level >= 0; level--) {
      const span = PAGES_PER_ENTRY[level]; // pages covered by one entry at this level
      const pteAddr = table + (Math.floor(vpnAll / span) % 512) * 8;
      if (this.bus.ramOffset(pteAddr, 8) < 0 || !this.bus.load(pteAddr, 8, out)) {
        return this.accessFault(access, BigInt.asUintN(64, big(lo, hi)));
      }
      const pteLo = out[0];
      const pteHi = out[1];
      if (!(pteLo & PTE_V) || (!(pteLo & PTE_R) && pteLo & PTE_W) || pteHi >>> 22 !== 0) {
        return this.pageFault(faultCause, lo, hi); // invalid, W without R, or reserved bits set
      }
      // PPN (bits 53:10) as a number of pages: low 22 bits from pteLo, the rest from pteHi.
      const ppn = (pteLo >>> 10) + (pteHi & 0x3fffff) * 0x400000;
      if (!(pteLo & (PTE_R | PTE_X))) {
        table = ppn * PAGE_SIZE; // pointer to the next level
        continue;
      }
      // A leaf: check permissions.
      if (priv === Priv.U ? !(pteLo & PTE_U) : pteLo & PTE_U && (access === Access.Fetch || !sum)) {
        return this.pageFault(faultCause, lo, hi);
      }
      const ok =
        access === Access.Fetch ? pteLo & PTE_X : access === Access.Load ? pteLo & PTE_R || (mxr && pteLo & PTE_X) : pteLo & PTE_W;
      if (!ok) return this.pageFault(faultCause, lo, hi);
      // A superpage's PPN must be aligned to its size.
      if (ppn % span !== 0) return this.pageFault(faultCause, lo, hi);
      // Hardware A/D update (QEMU does the same): set A, and D on a store.
      const want = PTE_A | (access === Access.Store ? PTE_D : 0);
      if ((pteLo & want) !== want) this.bus.store(pteAddr, 4, pteLo | want, 0);
      // A store would pass this same walk if the page is writable, and it would change
      // nothing if D is set already (A is now): then stores need no walk of their own.
      this.walkWritable = (pteLo & PTE_W) !== 0 && (pteLo & PTE_D) !== 0;
      return (ppn + (vpnAll % span)) * PAGE_SIZE + (lo & (PAGE_SIZE - 1));
    }
    return this.pageFault(faultCause, lo, hi);
  }

  private pageFault(cause: Cause, lo: number, hi: number): number {
    this.pendingCause = cause;
    this.pendingTval = BigInt.asUintN(64, big(lo, hi));
    return -1;
  }

  private accessFault(access: Access, vaddr: bigint): number {
    this.pendingCause =
      access === Access.Fetch ? Cause.InsnAccessFault : access === Access.Load ? Cause.LoadAccessFault : Cause.StoreAccessFault;
    this.pendingTval = vaddr;
    return -1;
  }

  /**
   * Record a RAM page in the soft TLB of MMU index `mmu`. Reads need R (or X with MXR);
   * writes need W and an already-set D bit (so the first store walks and sets it) and a
   * page without translated code. The walk just done decided the permissions, so the
   * caller passes what it proved.
   */
  private fillTlb(mmu: number, lo: number, hi: number, paddr: number, writable: boolean): void {
    fillSoftTlb(this.tlbs[mmu], this.bus, lo, hi, paddr, writable);
  }

  /** Forget write permission for a RAM page that now holds translated code. */
  protectCodePage(ramPage: number): void {
    protectCodePageIn(this.tlbs, ramPage);
  }

  /** Drop the cached translations of one virtual page (sfence.vma with an address). */
  flushTlbPage(lo: number, hi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const tag = lo & -PAGE_SIZE;
    for (const tlb of this.tlbs) {
      if (tlb.readLo[i] === tag && tlb.readHi[i] === hi) {
        tlb.readLo[i] = TLB_INVALID;
        tlb.writeLo[i] = TLB_INVALID;
      }
    }
    for (let priv = 0; priv < 4; priv++) {
      const j = i + priv * TLB_SIZE;
      if (this.fetchTlbLo[j] === tag && this.fetchTlbHi[j] === hi) this.fetchTlbLo[j] = TLB_INVALID;
    }
    this.hooks.tlbFlushedPage?.(lo, hi);
  }

  /** Drop every cached translation (satp, sfence.vma, changes of MXR). */
  flushTlb(): void {
    for (const tlb of this.tlbs) flushSoftTlb(tlb);
    this.fetchTlbLo.fill(TLB_INVALID);
    this.hooks.tlbFlushed?.();
  }

  private fault(): number {
    this.exceptionPending[0] = 1;
    return 0;
  }

  loadSlow(lo: number, hi: number, memop: number, _insnIndex: number): number {
    this.slowLoads++;
    const size = 1 << (memop & 3);
    const access = memop & MEMOP_RMW ? Access.Store : Access.Load;
    const priv = this.dataPriv();
    const out = this.scratch;
    if ((lo & (PAGE_SIZE - 1)) > PAGE_SIZE - size) {
      // Crosses a page: assemble from bytes so each page is translated on its own.
      let vlo = 0, vhi = 0;
      for (let i = 0; i < size; i++) {
        const alo = (lo + i) | 0;
        const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
        const p = this.translateAddress(alo, ahi, access, priv);
        if (p < 0) return this.fault();
        if (!this.bus.load(p, 1, out)) return this.accessFault(access, BigInt.asUintN(64, big(alo, ahi))), this.fault();
        if (i < 4) vlo |= out[0] << (8 * i);
        else vhi |= out[0] << (8 * (i - 4));
      }
      return this.extend(vlo, vhi, memop);
    }
    const p = this.translateAddress(lo, hi, access, priv);
    if (p < 0) {
      // QEMU 7.2 reports an AMO to unmapped memory as a load access fault (cause 5).
      if (this.pendingCause === Cause.StoreAccessFault) this.pendingCause = Cause.LoadAccessFault;
      return this.fault();
    }
    if (!this.bus.load(p, size, out)) {
      // QEMU 7.2 reports an AMO to unmapped memory as a load access fault (cause 5).
      this.accessFault(Access.Load, BigInt.asUintN(64, big(lo, hi)));
      return this.fault();
    }
    const vlo = out[0], vhi = out[1]; // the store probe below walks tables through `out`
    this.fillTlb(this.dataMmuIndex(), lo, hi, p, access === Access.Store || this.walkWritable);
    return this.extend(vlo, vhi, memop);
  }

  private extend(vlo: number, vhi: number, memop: number): number {
    return extendLoad(vlo, vhi, memop, this.retHi);
  }

  storeSlow(vlo: number, vhi: number, lo: number, hi: number, memop: number, _insnIndex: number): void {
    this.slowStores++;
    const size = 1 << (memop & 3);
    const priv = this.dataPriv();
    if ((lo & (PAGE_SIZE - 1)) > PAGE_SIZE - size) {
      // Translate every byte before writing any, so a fault leaves memory untouched.
      const addrs: number[] = [];
      for (let i = 0; i < size; i++) {
        const alo = (lo + i) | 0;
        const ahi = (hi + ((alo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
        const p = this.translateAddress(alo, ahi, Access.Store, priv);
        if (p < 0) {
          this.fault();
          return;
        }
        if (this.bus.ramOffset(p, 1) < 0 && !this.bus.findMmio(p)) {
          this.accessFault(Access.Store, BigInt.asUintN(64, big(alo, ahi)));
          this.fault();
          return;
        }
        addrs.push(p);
      }
      addrs.forEach((p, i) => this.bus.store(p, 1, (i < 4 ? vlo >>> (8 * i) : vhi >>> (8 * (i - 4))) & 0xff, 0));
      return;
    }
    const p = this.translateAddress(lo, hi, Access.Store, priv);
    if (p < 0) {
      this.fault();
      return;
    }
    if (!this.bus.store(p, size, vlo, vhi)) {
      this.accessFault(Access.Store, BigInt.asUintN(64, big(lo, hi)));
      this.fault();
      return;
    }
    this.fillTlb(this.dataMmuIndex(), lo, hi, p, true);
  }

  /** Instruction fetch for the translator: a halfword, or -1 (the fault is left pending). */
  fetch16(vaddr: bigint): number {
    const p = this.fetchPhysical(vaddr);
    const off = p < 0 ? -1 : this.bus.ramOffset(p, 2);
    if (off < 0) {
      if (p >= 0) this.accessFault(Access.Fetch, BigInt.asUintN(64, vaddr));
      return -1;
    }
    return this.ram.getUint16(off, true);
  }

  /** Physical address of an instruction fetch at pc, or -1 with the fault pending. */
  fetchPhysical(vaddr: bigint): number {
    return this.fetchPhysicalAt(lo32(vaddr), hi32(vaddr));
  }

  /**
   * fetchPhysical for pc = (lo, hi). The engine asks on every jump-cache miss (and Linux
   * flushes the jump cache with every sfence.vma), so successful translations are kept
   * in a small direct-mapped fetch TLB per privilege level, flushed with the soft TLBs.
   */
  fetchPhysicalAt(lo: number, hi: number): number {
    const priv = this.privLevel;
    const i = ((lo >>> 12) & TLB_MASK) + priv * TLB_SIZE;
    const tag = lo & -PAGE_SIZE;
    if (this.fetchTlbLo[i] === tag && this.fetchTlbHi[i] === hi) return this.fetchTlbPage[i] * PAGE_SIZE + (lo & (PAGE_SIZE - 1));
    const p = this.translateAddress(lo, hi, Access.Fetch, priv);
    if (p >= 0 && p < 2 ** 43) {
      this.fetchTlbLo[i] = tag;
      this.fetchTlbHi[i] = hi;
      this.fetchTlbPage[i] = Math.floor(p / PAGE_SIZE);
    }
    return p;
  }

  // ---- helpers called from generated code ---------------------------------------------------------

  raise(cause: number, tvalLo: number, tvalHi: number): number {
    this.pendingCause = cause;
    this.pendingTval = BigInt.asUintN(64, big(tvalLo, tvalHi));
    this.exceptionPending[0] = 1;
    return 0;
  }

  private illegal(insn: number): number {
    return this.raise(Cause.IllegalInsn, insn, 0);
  }

  mret(): number {
    if (this.priv < Priv.M) return this.illegal(0x30200073);
    const s = this.mstatus;
    const mpp = Number((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) as Priv;
    let n = s & ~(MSTATUS_MIE | MSTATUS_MPP);
    if (s & MSTATUS_MPIE) n |= MSTATUS_MIE;
    n |= MSTATUS_MPIE; // MPP becomes U (the least privileged mode)
    if (mpp !== Priv.M) n &= ~MSTATUS_MPRV;
    this.mstatus = n;
    this.priv = mpp;
    this.pc = this.mepc & ~1n; // with C, pcs are 2-byte aligned
    return 0;
  }

  sret(): number {
    if (this.priv < Priv.S || (this.priv === Priv.S && this.mstatus & MSTATUS_TSR)) return this.illegal(0x10200073);
    const s = this.mstatus;
    const spp = s & MSTATUS_SPP ? Priv.S : Priv.U;
    let n = s & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
    if (s & MSTATUS_SPIE) n |= MSTATUS_SIE;
    n |= MSTATUS_SPIE;
    this.mstatus = n;
    this.priv = spp;
    this.pc = this.sepc & ~1n;
    return 0;
  }

  sfenceVma(insn: number, addrLo: number, addrHi: number): number {
    if (this.priv === Priv.S && this.mstatus & MSTATUS_TVM) return this.illegal(insn);
    // rs1 = x0 fences every address; otherwise only the page of rs1 (any ASID: we keep none).
    if (((insn >>> 15) & 31) === 0) this.flushTlb();
    else this.flushTlbPage(addrLo, addrHi);
    return 0;
  }

  markFsDirty(): number {
    this.mstatus |= MSTATUS_FS | MSTATUS_SD;
    return 0;
  }

  private fsOff(): boolean {
    return (this.mstatus & MSTATUS_FS) === 0n;
  }

  /** csrrw/csrrs/csrrc and their immediate forms, decoded from the instruction bits. */
  csr(insn: number, srcLo: number, srcHi: number): number {
    const funct3 = (insn >>> 12) & 7;
    const rs1 = (insn >>> 15) & 31;
    const csrno = insn >>> 20;
    const op = funct3 & 3;
    const writes = op === 1 || rs1 !== 0;
    if (((csrno >>> 8) & 3) > this.priv) return this.illegal(insn);
    if (writes && csrno >>> 10 === 3) return this.illegal(insn);
    if (!this.csrAccessible(csrno)) return this.illegal(insn);
    const old = this.readCsr(csrno);
    if (old === null) return this.illegal(insn);
    if (writes) {
      const src = BigInt.asUintN(64, big(srcLo, srcHi));
      const value = op === 1 ? src : op === 2 ? old | src : old & ~src;
      if (!this.writeCsr(csrno, BigInt.asUintN(64, value))) return this.illegal(insn);
    }
    this.retHi[0] = hi32(old);
    return lo32(old);
  }

  /** Privilege-dependent gates: counter enables and mstatus.TVM for satp. */
  private csrAccessible(csr: number): boolean {
    if (csr >= 0xc00 && csr <= 0xc1f && this.priv < Priv.M) {
      const bit = 1n << BigInt(csr - 0xc00);
      if (!(this.mcounteren & bit)) return false;
      if (this.priv === Priv.U && !(this.scounteren & bit)) return false;
    }
    if (csr === 0x180 && this.priv === Priv.S && this.mstatus & MSTATUS_TVM) return false;
    return true;
  }

  private fcsrFlags(): number {
    return fpu.flags & 31;
  }

  readCsr(csr: number): bigint | null {
    switch (csr) {
      case 0x001: return this.fsOff() ? null : BigInt(this.fcsrFlags());
      case 0x002: return this.fsOff() ? null : BigInt(this.state[FRM] & 7);
      case 0x003: return this.fsOff() ? null : BigInt(((this.state[FRM] & 7) << 5) | this.fcsrFlags());
      case 0xc00: case 0xb00: return this.counter(this.cycleOffset);
      case 0xc02: case 0xb02: return this.counter(this.instretOffset);
      case 0xc01: return this.hooks.mtime();
      case 0x100: return this.mstatusWithSd() & SSTATUS_MASK;
      case 0x104: return BigInt(this.mie & Number(this.mideleg));
      case 0x105: return this.stvec;
      case 0x106: return this.scounteren;
      case 0x10a: return this.senvcfg;
      case 0x140: return this.sscratch;
      case 0x141: return this.sepc;
      case 0x142: return this.scause;
      case 0x143: return this.stval;
      case 0x144: return BigInt(this.mip & Number(this.mideleg));
      case 0x180: return this.satp;
      case 0x300: return this.mstatusWithSd();
      case 0x301: return MISA;
      case 0x302: return this.medeleg;
      case 0x303: return this.mideleg;
      case 0x304: return BigInt(this.mie);
      case 0x305: return this.mtvec;
      case 0x306: return this.mcounteren;
      case 0x30a: return this.menvcfg;
      case 0x320: return 0n; // mcountinhibit
      case 0x340: return this.mscratch;
      case 0x341: return this.mepc;
      case 0x342: return this.mcause;
      case 0x343: return this.mtval;
      case 0x344: return BigInt(this.mip);
      case 0xf11: case 0xf12: case 0xf13: case 0xf14: case 0xf15:
        return csr === 0xf14 ? BigInt(this.hartId) : 0n;
    }
    if (csr >= 0x3a0 && csr <= 0x3af) return csr & 1 ? null : this.pmpcfg[csr - 0x3a0];
    if (csr >= 0x3b0 && csr <= 0x3ef) return this.pmpaddr[csr - 0x3b0];
    // Unimplemented hardware performance monitors read as zero.
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0x323 && csr <= 0x33f)) return 0n;
    return null;
  }

  private counter(offset: bigint): bigint {
    // The csr instruction is the last of its block and already counted: exclude it.
    return BigInt.asUintN(64, BigInt(this.hooks.instret() - 1) + offset);
  }

  private mstatusWithSd(): bigint {
    const dirty = (this.mstatus & MSTATUS_FS) === MSTATUS_FS;
    return dirty ? this.mstatus | MSTATUS_SD : this.mstatus & ~MSTATUS_SD;
  }

  /** Returns false when the write is illegal. */
  writeCsr(csr: number, v: bigint): boolean {
    switch (csr) {
      case 0x001: if (this.fsOff()) return false; fpu.flags = Number(v & 31n); this.markFsDirty(); return true;
      case 0x002: if (this.fsOff()) return false; this.state[FRM] = Number(v & 7n); this.markFsDirty(); return true;
      case 0x003:
        if (this.fsOff()) return false;
        fpu.flags = Number(v & 31n);
        this.state[FRM] = Number((v >> 5n) & 7n);
        this.markFsDirty();
        return true;
      case 0xb00: this.cycleOffset = v - BigInt(this.hooks.instret()); return true;
      case 0xb02: this.instretOffset = v - BigInt(this.hooks.instret()); return true;
      case 0x100:
        this.mstatus = (this.mstatus & ~(SSTATUS_MASK & MSTATUS_WRITABLE)) | (v & SSTATUS_MASK & MSTATUS_WRITABLE);
        this.interruptsChanged();
        return true;
      case 0x104: {
        const mask = Number(this.mideleg) & S_INTERRUPTS;
        this.mie = (this.mie & ~mask) | (Number(v & 0xfffn) & mask);
        this.interruptsChanged();
        return true;
      }
      case 0x105: if ((v & 3n) < 2n) this.stvec = v; return true;
      case 0x106: this.scounteren = v & 0xffffffffn; return true;
      case 0x10a: this.senvcfg = v; return true;
      case 0x140: this.sscratch = v; return true;
      case 0x141: this.sepc = v; return true; // QEMU 7.2 keeps bit 0 too
      case 0x142: this.scause = v; return true;
      case 0x143: this.stval = v; return true;
      case 0x144: {
        const mask = Number(this.mideleg) & (1 << Irq.SSI);
        this.mip = (this.mip & ~mask) | (Number(v & 0xfffn) & mask);
        this.interruptsChanged();
        return true;
      }
      case 0x180: {
        // WARL: only Bare, Sv39, Sv48 and Sv57 are accepted; other modes leave satp alone.
        // Translation through satp arrives with the system-emulation work.
        const mode = v >> 60n;
        if (mode === 0n || mode === 8n || mode === 9n || mode === 10n) {
          this.satp = v;
          this.satpMode = Number(mode);
          this.satpRootPage = Number(v & 0xfffffffffffn);
          this.flushTlb();
        }
        return true;
      }
      case 0x300: {
        let n = (this.mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
        // MPP is WARL: the reserved value 2 keeps the old setting.
        if (((n & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) === 2n) n = (n & ~MSTATUS_MPP) | (this.mstatus & MSTATUS_MPP);
        this.mstatus = n;
        this.interruptsChanged();
        return true;
      }
      case 0x301: return true; // misa is not writable here
      case 0x302: this.medeleg = v & 0xb3ffn; return true;
      case 0x303: this.mideleg = v & BigInt(S_INTERRUPTS); this.interruptsChanged(); return true;
      case 0x304: this.mie = Number(v & BigInt(ALL_INTERRUPTS)); this.interruptsChanged(); return true;
      case 0x305: if ((v & 3n) < 2n) this.mtvec = v; return true;
      case 0x306: this.mcounteren = v & 0xffffffffn; return true;
      case 0x30a: this.menvcfg = v; return true;
      case 0x320: return true;
      case 0x340: this.mscratch = v; return true;
      case 0x341: this.mepc = v; return true; // QEMU 7.2 keeps bit 0 too
      case 0x342: this.mcause = v; return true;
      case 0x343: this.mtval = v; return true;
      case 0x344: {
        const mask = S_INTERRUPTS;
        this.mip = (this.mip & ~mask) | (Number(v & 0xfffn) & mask);
        this.interruptsChanged();
        return true;
      }
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
      if (csr & 1) return false;
      this.pmpcfg[csr - 0x3a0] = v;
      return true;
    }
    if (csr >= 0x3b0 && csr <= 0x3ef) {
      this.pmpaddr[csr - 0x3b0] = v & ((1n << 54n) - 1n);
      return true;
    }
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) return true;
    return false;
  }

  // ---- traps and interrupts ---------------------------------------------------------------------

  /** Enter the trap handler for an exception or interrupt; `epc` is the interrupted pc. */
  takeTrap(cause: number, tval: bigint, interrupt: boolean, epc: bigint): void {
    // A trap drops any LR reservation (QEMU does the same; the spec allows it).
    this.state[LOAD_RES] = -1;
    this.state[LOAD_RES + 1] = -1;
    const deleg = interrupt ? this.mideleg : this.medeleg;
    const causeBits = (interrupt ? 1n << 63n : 0n) | BigInt(cause);
    this.hooks.logTrap?.(
      `riscv_cpu_do_interrupt: hart:${this.hartId}, async:${interrupt ? 1 : 0}, cause:${cause}, epc:0x${epc.toString(16)}, tval:0x${tval.toString(16)}`,
    );
    if (this.priv <= Priv.S && (deleg >> BigInt(cause)) & 1n) {
      let s = this.mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
      if (this.mstatus & MSTATUS_SIE) s |= MSTATUS_SPIE;
      if (this.priv === Priv.S) s |= MSTATUS_SPP;
      this.mstatus = s;
      this.scause = causeBits;
      this.sepc = epc;
      this.stval = tval;
      this.priv = Priv.S;
      this.pc = this.trapVector(this.stvec, cause, interrupt);
    } else {
      // Firmware emulated by the host (the built-in SBI) may take M-mode traps itself.
      if (this.hooks.machineTrap?.(cause, interrupt, epc, tval)) return;
      let s = this.mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
      if (this.mstatus & MSTATUS_MIE) s |= MSTATUS_MPIE;
      s |= BigInt(this.priv) << MSTATUS_MPP_SHIFT;
      this.mstatus = s;
      this.mcause = causeBits;
      this.mepc = epc;
      this.mtval = tval;
      this.priv = Priv.M;
      this.pc = this.trapVector(this.mtvec, cause, interrupt);
    }
  }

  private trapVector(tvec: bigint, cause: number, interrupt: boolean): bigint {
    const base = tvec & ~3n;
    return interrupt && (tvec & 3n) === 1n ? base + 4n * BigInt(cause) : base;
  }

  /** Take the exception left pending by a helper, slow path or fetch, at `epc`. */
  takePendingException(epc: bigint): void {
    this.exceptionPending[0] = 0;
    this.takeTrap(this.pendingCause, this.pendingTval, false, epc);
  }

  /** Level of an interrupt line into mip (CLINT, PLIC wiring). */
  setIrq(irq: Irq, level: boolean): void {
    const bit = 1 << irq;
    const old = this.mip;
    this.mip = level ? this.mip | bit : this.mip & ~bit;
    if (this.mip !== old) this.interruptsChanged();
  }

  /**
   * Set whenever something that decides interrupt delivery changes (mip, mie, mideleg,
   * mstatus, the privilege level); the engine calls deliverInterrupt() only then.
   */
  get interruptCheckNeeded(): boolean {
    return this.dispatchWords[1] !== 0;
  }
  set interruptCheckNeeded(v: boolean) {
    this.dispatchWords[1] = v ? 1 : 0;
  }

  private interruptsChanged(): void {
    this.interruptCheckNeeded = true;
    if (this.mip & this.mie) this.hooks.requestExit();
  }

  /** True when an interrupt is pending in mip & mie, enabled or not (wakes WFI). */
  interruptPending(): boolean {
    return (this.mip & this.mie) !== 0;
  }

  /** Deliver the highest-priority enabled pending interrupt. Returns true if one was taken. */
  deliverInterrupt(): boolean {
    this.interruptCheckNeeded = false;
    const pending = this.mip & this.mie;
    if (pending === 0) return false;
    const mideleg = Number(this.mideleg);
    const mEnabled = this.priv < Priv.M || (this.mstatus & MSTATUS_MIE) !== 0n;
    const sEnabled = this.priv < Priv.S || (this.priv === Priv.S && (this.mstatus & MSTATUS_SIE) !== 0n);
    for (const irq of IRQ_PRIORITY) {
      const bit = 1 << irq;
      if (!(pending & bit)) continue;
      const enabled = mideleg & bit ? sEnabled : mEnabled;
      if (!enabled) continue;
      this.takeTrap(irq, 0n, true, this.pc);
      return true;
    }
    return false;
  }

  /** Swap FP flags in and out of the shared softfloat accumulator around a run slice. */
  enterRun(): void {
    fpu.flags = this.fflags;
  }
  leaveRun(): void {
    this.fflags = fpu.flags & 31;
  }

  /** FS state for tests and debugging. */
  get fsState(): FsState {
    return Number((this.mstatus & MSTATUS_FS) >> MSTATUS_FS_SHIFT) as FsState;
  }
}

/** Instruction bits as QEMU's in_asm prints them: 8 hex digits, or 4 for compressed. */
function hexBits(bits: number): string {
  return (bits & 3) === 3 ? (bits >>> 0).toString(16).padStart(8, '0') : (bits & 0xffff).toString(16).padStart(4, '0') + '    ';
}
