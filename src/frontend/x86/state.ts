/**
 * x86 CPU state layout in the shared Int32Array (int32 word indices) and the bits of the
 * translation flags. Generated code reads and writes these slots directly; everything
 * else (control registers, descriptor tables, MSRs) lives in X86Cpu's fields.
 *
 * The pc slot holds the *linear* address of the next instruction (CS.base + rIP), as v86
 * keeps it: blocks are keyed, fetched and chained by it. rIP = pc - CS.base wherever the
 * architecture exposes it (call, interrupts, 16-bit wrap-around).
 */

/** General registers RAX..R15 as (lo, hi) pairs, in the SDM's numbering. */
export const GPR_BASE = 0;
export const PC = 32;
/**
 * Lazy flags (QEMU's cc_op idea): the last flag-setting operation's kind and size in
 * CC_OP, its result in CC_DST, an operand in CC_SRC and, for some ops, another in CC_SRC2
 * (the carry-in of ADC/SBB, the first operand of SUB/CMP). Flags are computed from them
 * only where read (see flags.ts).
 */
export const CC_DST = 34;
export const CC_SRC = 36;
export const CC_SRC2 = 38;
/** Segment bases ES CS SS DS FS GS as pairs (64-bit in long mode for FS and GS). */
export const SEG_BASE = 40;
/**
 * XMM0..XMM15 as two 64-bit halves each (four words, little-endian), then XMM_SCRATCH, a
 * sixteenth register SSE helpers may use for staging. Inside the paired words, so each
 * half is one i64 local in compiled WebAssembly.
 */
export const XMM_BASE = 52;
export const XMM_SCRATCH = 16;
/** Words [0, PAIRED_WORDS) are 64-bit values as (lo, hi) pairs. */
export const PAIRED_WORDS = 120;
export const CC_OP = 120;
/** The direction flag as a step: 1 (DF clear) or -1 (DF set). */
export const DF = 121;
/**
 * EFLAGS bits other than the six arithmetic flags and DF (IF, TF, IOPL, NT, RF, VM, AC,
 * ID and the fixed bit 1); the arithmetic ones live in the CC_* words.
 */
export const EFLAGS = 122;
export const SEG_SEL = 123;
export const SEG_LIMIT = 129;
/** Descriptor attributes: bits 8-23 of the descriptor's high dword (type, S, DPL, P, AVL, L, D/B, G). */
export const SEG_ATTR = 135;
export const MXCSR = 141;
/** x87: top of stack, status word (without TOP), control word, tag word (2 bits per register, 11 = empty). */
export const FPU_TOP = 142;
export const FPU_SW = 143;
export const FPU_CW = 144;
export const FPU_TAG = 145;
/**
 * x87 registers by physical number, four words each: mantissa bits 31:0, 63:32, then
 * sign and exponent (bit 15 sign, bits 14:0 exponent), then a spare word. MMX register
 * i is register i's mantissa.
 */
export const FPU_REGS = 146;
/** x87 last instruction and operand pointers (FNSTENV/FXSAVE): FIP, FCS, FDP, FDS, FOP. */
export const FPU_LAST = 178;
export const STATE_WORDS = 184;

export const gprSlot = (r: number): number => GPR_BASE + 2 * r;
export const segBaseSlot = (s: number): number => SEG_BASE + 2 * s;
/** Word index of XMM register r's bits 31:0 (r = XMM_SCRATCH for the scratch register). */
export const xmmSlot = (r: number): number => XMM_BASE + 4 * r;

export const enum Seg {
  ES = 0,
  CS = 1,
  SS = 2,
  DS = 3,
  FS = 4,
  GS = 5,
}
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

export const enum Reg {
  AX = 0,
  CX = 1,
  DX = 2,
  BX = 3,
  SP = 4,
  BP = 5,
  SI = 6,
  DI = 7,
}

/**
 * Translation flags: every bit of CPU mode the translator reads. The block cache key is
 * physical pc * FLAGS_LIMIT + flags, so they stay below FLAGS_LIMIT.
 */
export const FLAG_CPL_MASK = 3;
/** Protected mode (CR0.PE). */
export const FLAG_PE = 1 << 2;
/** Virtual-8086 mode. */
export const FLAG_VM = 1 << 3;
/** CS.D: 32-bit default operand and address size (outside 64-bit code). */
export const FLAG_CS32 = 1 << 4;
/** SS.B: 32-bit stack pointer. */
export const FLAG_SS32 = 1 << 5;
/** Long mode active (EFER.LMA). */
export const FLAG_LMA = 1 << 6;
/** 64-bit code (LMA and CS.L). */
export const FLAG_CS64 = 1 << 7;
/**
 * Some of CS, DS, ES, SS has a non-zero base (outside 64-bit code): addresses and rIP must add
 * segment bases. Clear, the translator folds them away (QEMU's HF_ADDSEG).
 */
export const FLAG_ADDSEG = 1 << 8;
/** CR0.EM or CR0.TS: x87/MMX/SSE instructions raise #NM (or #UD for EM with SSE). */
export const FLAG_EM = 1 << 9;
export const FLAG_TS = 1 << 10;
/** CR4.OSFXSR: SSE instructions are enabled. */
export const FLAG_OSFXSR = 1 << 11;
/** The MMU index of data accesses (see MmuIndex). */
export const FLAG_MMU_SHIFT = 12;
export const FLAG_MMU_MASK = 3 << FLAG_MMU_SHIFT;
/** EFLAGS.TF: single-step; blocks hold one instruction and end with #DB. */
export const FLAG_TF = 1 << 14;
/** Interrupts inhibited for one instruction (after MOV SS, POP SS or STI). */
export const FLAG_INHIBIT_IRQ = 1 << 15;
/**
 * Translate one instruction only: the instruction is being run again after its store hit
 * translated code (see X86Cpu.storeSlow), so its block must not contain the bytes it writes.
 */
export const FLAG_ONE_INSN = 1 << 16;
export const FLAGS_LIMIT = 1 << 17;

/** Soft-TLB indices: CPL 0-2 and CPL 3 with paging on, and paging off (linear = physical). */
export const enum MmuIndex {
  Kernel = 0,
  User = 1,
  Physical = 2,
}

/** Exception vectors. */
export const enum Vector {
  DE = 0,
  DB = 1,
  NMI = 2,
  BP = 3,
  OF = 4,
  BR = 5,
  UD = 6,
  NM = 7,
  DF = 8,
  TS = 10,
  NP = 11,
  SS = 12,
  GP = 13,
  PF = 14,
  MF = 16,
  AC = 17,
  MC = 18,
  XM = 19,
}

/** EFLAGS bits. */
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF_BIT = 1 << 10;
export const OF = 1 << 11;
export const IOPL_SHIFT = 12;
export const IOPL = 3 << IOPL_SHIFT;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** The six flags computed lazily. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
