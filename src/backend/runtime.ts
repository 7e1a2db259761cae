/**
 * What translated code runs against: the CPU state array, RAM, the soft TLB and the
 * slow paths. Shared by the JS backend (generated code closes over these fields) and the
 * IR interpreter, so both see exactly the same machine.
 */
import type { HelperInfo } from '../ir/ir.js';

/** Exit codes returned by a translated block. */
export const enum ExitCode {
  /** Chainable jumps to a constant pc (already in the state), slot 0 or 1. */
  Chain0 = 0,
  Chain1 = 1,
  /** Next pc is in the state; look it up. */
  Lookup = 2,
  /** Back to the execution loop before continuing at the stored pc (state changed). */
  NoChain = 3,
  /** The CPU waits for an interrupt (WFI/HLT); the pc is already past the instruction. */
  Halt = 4,
  /**
   * A region's chainable exit: RegionChainBase + 2 * member index + goto_tb slot (the
   * engine keeps one successor link per member and slot).
   */
  RegionChainBase = 0x100,
  /** A guest exception is pending; the low bits hold the faulting instruction's index. */
  ExceptionBase = 0x10000,
}

/** Memory-op flag (beyond MemOp's size/sign bits) for a load that is the read half of a
 * read-modify-write (AMO): it needs write permission, so it checks the write tag. */
export const MEMOP_RMW = 8;

/** Soft-TLB geometry: direct-mapped, indexed by virtual page number. */
export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
export const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;
/** A tag that no page-aligned address can match (used for empty entries and code pages). */
export const TLB_INVALID = -1;

export interface SoftTlb {
  /** Page-aligned low word of the virtual address that reads may use, or TLB_INVALID. */
  readLo: Int32Array;
  readHi: Int32Array;
  /** Same for writes: pages holding translated code or MMIO never match. */
  writeLo: Int32Array;
  writeHi: Int32Array;
  /** RAM byte offset of the page. */
  ramOffset: Int32Array;
}

/** A soft TLB; its arrays come from `alloc` (an arena, so WebAssembly can read them). */
export function createSoftTlb(alloc: (words: number) => Int32Array = (n) => new Int32Array(n)): SoftTlb {
  const tlb = {
    readLo: alloc(TLB_SIZE),
    readHi: alloc(TLB_SIZE),
    writeLo: alloc(TLB_SIZE),
    writeHi: alloc(TLB_SIZE),
    ramOffset: alloc(TLB_SIZE),
  };
  flushSoftTlb(tlb);
  return tlb;
}

export function flushSoftTlb(tlb: SoftTlb): void {
  tlb.readLo.fill(TLB_INVALID);
  tlb.writeLo.fill(TLB_INVALID);
}

/** What filling a soft TLB needs to know about physical memory (an AddressSpace). */
export interface TlbMemory {
  readonly ramBase: number;
  /** 1 for each RAM page that holds translated code. */
  readonly codePages: Uint8Array;
  isRamPage(paddr: number): boolean;
}

/**
 * Record the page of virtual address (lo, hi) at physical `paddr` in a soft TLB, after a
 * slow-path access proved the permissions: reads always; writes when `writable` and the
 * page holds no translated code (those stores must reach the slow path). MMIO and
 * partly-MMIO pages are never recorded.
 */
export function fillSoftTlb(tlb: SoftTlb, mem: TlbMemory, lo: number, hi: number, paddr: number, writable: boolean): void {
  if (!mem.isRamPage(paddr)) return;
  const i = (lo >>> 12) & TLB_MASK;
  const pageOff = paddr - mem.ramBase - (paddr % PAGE_SIZE);
  const tag = lo & -PAGE_SIZE;
  tlb.readLo[i] = tag;
  tlb.readHi[i] = hi;
  tlb.ramOffset[i] = pageOff;
  const code = mem.codePages[pageOff / PAGE_SIZE] !== 0;
  tlb.writeLo[i] = code || !writable ? TLB_INVALID : tag;
  tlb.writeHi[i] = hi;
}

/** A RAM page now holds translated code: forget write permission for it in every TLB. */
export function protectCodePageIn(tlbs: readonly SoftTlb[], ramPage: number): void {
  const off = ramPage * PAGE_SIZE;
  for (const tlb of tlbs) {
    for (let i = 0; i < TLB_SIZE; i++) if (tlb.ramOffset[i] === off) tlb.writeLo[i] = TLB_INVALID;
  }
}

/** A slow-path load's result as generated code expects it: extended per MemOp; a 64-bit value's high word in retHi. */
export function extendLoad(vlo: number, vhi: number, memop: number, retHi: Int32Array): number {
  switch (memop & 7) {
    case 0: return vlo & 0xff;
    case 1: return vlo & 0xffff;
    case 4: return (vlo << 24) >> 24;
    case 5: return (vlo << 16) >> 16;
    case 3: retHi[0] = vhi; return vlo;
    default: return vlo | 0;
  }
}

export interface Runtime {
  /** CPU state: guest registers as int32 words (see the frontend's state layout). */
  readonly state: Int32Array;
  readonly ram: DataView;
  /**
   * One soft TLB per MMU index (the frontend's numbering; RISC-V uses its privilege
   * level). A block is translated for one MMU index and inlines that TLB's arrays.
   */
  readonly tlbs: readonly SoftTlb[];
  /** Set non-zero by a slow path or helper that raised a guest exception. */
  readonly exceptionPending: Int32Array;
  /**
   * budget[0]: instructions the current run slice may still execute. The engine charges
   * each block before running it; a block that jumps back to its own start charges the
   * next iteration itself and loops while the budget stays positive.
   */
  readonly budget: Int32Array;
  /** High word of the last 64-bit slow-path load or helper result. */
  readonly retHi: Int32Array;
  readonly helpers: readonly HelperInfo[];
  /**
   * Set when RAM and the arrays above (state, TLBs, exceptionPending, budget, retHi) are
   * views of one WebAssembly memory, so that the WebAssembly backend can be used.
   */
  readonly wasmMemory?: WebAssembly.Memory | null;
  /** Load `memop` at virtual address (lo, hi); the instruction index is for fault reporting. */
  loadSlow(lo: number, hi: number, memop: number, insnIndex: number): number;
  storeSlow(valueLo: number, valueHi: number, lo: number, hi: number, memop: number, insnIndex: number): void;
}

// 64-bit shifts by a variable amount, for generated code (count taken modulo 64).
export function shl64(lo: number, hi: number, n: number, ret: Int32Array): number {
  n &= 63;
  if (n === 0) {
    ret[0] = hi;
    return lo;
  }
  if (n < 32) {
    ret[0] = (hi << n) | (lo >>> (32 - n));
    return lo << n;
  }
  ret[0] = lo << (n - 32);
  return 0;
}
export function shr64(lo: number, hi: number, n: number, ret: Int32Array): number {
  n &= 63;
  if (n === 0) {
    ret[0] = hi;
    return lo;
  }
  if (n < 32) {
    ret[0] = hi >>> n;
    return (lo >>> n) | (hi << (32 - n));
  }
  ret[0] = 0;
  return (hi >>> (n - 32)) | 0;
}
export function sar64(lo: number, hi: number, n: number, ret: Int32Array): number {
  n &= 63;
  if (n === 0) {
    ret[0] = hi;
    return lo;
  }
  if (n < 32) {
    ret[0] = hi >> n;
    return (lo >>> n) | (hi << (32 - n));
  }
  ret[0] = hi >> 31;
  return hi >> (n - 32);
}
