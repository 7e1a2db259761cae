/**
 * RISC-V CPU state layout in the shared Int32Array (int32 word indices) and the bits of
 * the TB flags word. Generated code reads and writes these slots directly.
 */

/** x[i]: low word at 2*i, high word at 2*i+1 (x0 is never written). */
export const X_BASE = 0;
/** f[i] as raw 64-bit patterns (single-precision values are NaN-boxed). */
export const F_BASE = 64;
export const PC = 128;
/** Dynamic rounding mode (fcsr.frm), 0..7. */
export const FRM = 130;
/** LR/SC reservation: address (-1 when none) and the value loaded by LR. */
export const LOAD_RES = 132;
export const LOAD_VAL = 134;
export const STATE_WORDS = 136;
/** Words [0, PAIRED_WORDS) are 64-bit registers as (lo, hi) pairs: x, f and the pc. */
export const PAIRED_WORDS = 130;

export const xSlot = (r: number): number => X_BASE + 2 * r;
export const fSlot = (r: number): number => F_BASE + 2 * r;

/**
 * TB flags: every bit the translator reads. Bits 0-1 privilege level, bits 2-3
 * mstatus.FS, bits 4-5 the MMU index of data accesses (the privilege, or MPP under
 * MPRV; 2 for S-mode with mstatus.SUM). The TB cache key includes this word; it stays
 * below FLAGS_LIMIT.
 */
export const FLAGS_PRIV_MASK = 3;
export const FLAGS_FS_SHIFT = 2;
export const FLAGS_FS_MASK = 3 << FLAGS_FS_SHIFT;
export const FLAGS_MMU_SHIFT = 4;
export const FLAGS_MMU_MASK = 3 << FLAGS_MMU_SHIFT;
export const FLAGS_LIMIT = 64;

export const enum Priv {
  U = 0,
  S = 1,
  M = 3,
}

export const enum Cause {
  InsnMisaligned = 0,
  InsnAccessFault = 1,
  IllegalInsn = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  EcallU = 8,
  EcallS = 9,
  EcallM = 11,
  InsnPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
}

export const enum FsState {
  Off = 0,
  Initial = 1,
  Clean = 2,
  Dirty = 3,
}
