/**
 * The contract between the TCG engine and a guest CPU (QEMU's TCGCPUOps, in spirit): the
 * engine finds, translates, compiles, chains and invalidates blocks for any guest through
 * this interface and never names an architecture. A frontend's CPU class implements it.
 */
import type { IrBuilder } from '../../ir/builder.js';
import type { Runtime } from '../../backend/runtime.js';
import type { AddressSpace } from '../../memory/address-space.js';

/** One translated block's IR and what the engine needs to know about its guest code. */
export interface TranslationResult {
  builder: IrBuilder;
  /** Guest pc of each instruction, by index. */
  insnPcs: bigint[];
  /** Number of instructions in the block. */
  insnCount: number;
  /** Bytes covered from the start pc (the end may lie on the next page). */
  byteLength: number;
}

/** Where the engine finds things in the CPU's state words. */
export interface StateLayout {
  /**
   * Slot of the pc's low word (the high word follows). The pc is the address blocks are
   * keyed and fetched by: RISC-V's pc, x86's linear address of the next instruction.
   */
  readonly pc: number;
  /** Words [0, pairedWords) hold 64-bit registers as (lo, hi) pairs (one i64 local each in WebAssembly). */
  readonly pairedWords: number;
  /** Words of architectural state; the tier-0 interpreter's values follow them. */
  readonly stateWords: number;
  /** Translation flags stay below this (the block cache key is physical pc * flagsLimit + flags). */
  readonly flagsLimit: number;
  /** log2 of the alignment of instruction addresses: 1 on RISC-V (C extension), 0 on x86. */
  readonly pcAlignShift: number;
}

export interface TcgTarget extends Runtime {
  readonly layout: StateLayout;
  readonly bus: AddressSpace;
  /** The state words followed by room for the tier-0 interpreter's temporaries and constants. */
  readonly values: Int32Array;
  /**
   * Words the WebAssembly dispatcher reads: [0] the translation flags (tbFlags()),
   * [1] 1 while an interrupt check is due (interruptCheckNeeded).
   */
  readonly dispatchWords: Int32Array;
  /** The helper computing 64 x 64 -> 128-bit products, used by i64 lowering. */
  readonly mul64Helper: number;
  readonly wasmMemory: WebAssembly.Memory | null;
  /** The current pc (for messages). */
  readonly pc: bigint;

  /**
   * Translation flags: every bit of CPU mode the translator reads, cached (the engine
   * reads them before every block). computeTbFlags() derives them afresh from the state;
   * the two must always agree (the engine checks with QEMU_TS_CHECK_FLAGS=1).
   */
  tbFlags(): number;
  computeTbFlags(): number;
  /** The soft TLB (MMU index) that blocks translated under `flags` inline. */
  mmuIndexFromFlags(flags: number): number;

  /** Translate the block at virtual pc under `flags`; null if its first fetch faults (left pending). */
  translate(pc: bigint, flags: number): TranslationResult | null;
  /** -d in_asm text of a block just translated: one line per instruction, QEMU's format. */
  disassembleBlock(result: TranslationResult): string;

  /** Physical address of an instruction fetch at pc = (lo, hi), or -1 with the fault pending. */
  fetchPhysicalAt(lo: number, hi: number): number;
  fetchPhysical(pc: bigint): number;
  /** A RAM page now holds translated code: stores to it must take the slow path. */
  protectCodePage(ramPage: number): void;

  /** Set whenever something that decides interrupt delivery changed. */
  interruptCheckNeeded: boolean;
  /** Deliver the highest-priority enabled pending interrupt; true if one was taken. */
  deliverInterrupt(): boolean;
  /** An interrupt is pending, enabled or not (wakes the CPU from HLT/WFI). */
  interruptPending(): boolean;
  /** Take the exception a helper, slow path or fetch left pending, at `pc`. */
  takePendingException(pc: bigint): void;

  /** Around each run slice (e.g. to swap FP flags in and out of the shared softfloat). */
  enterRun(): void;
  leaveRun(): void;
}
