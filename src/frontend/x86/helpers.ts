/**
 * helper_* runtime functions called from x86 generated code. i64 arguments arrive as
 * (lo, hi) int32 words; an i64 result returns its low word and leaves the high word in
 * the runtime's retHi. Helpers flagged ReadsGlobals/WritesGlobals see and change the
 * registers in the state words (the backends write them back before the call and reload
 * them after). Helpers that may fault return through X86Cpu.guard, which turns a
 * GuestFault into a pending exception at the calling instruction.
 */
import { HelperFlags, HelperInfo, Type } from '../../ir/ir.js';
import { createI64Ops } from '../../backend/wasm-i64.js';
import { mulhu32 } from '../riscv/helpers.js';
import { computeFlags } from './flags.js';
import type { X86Cpu } from './cpu.js';
import { X86System } from './system.js';
import { executeFpu } from './x87.js';
import { executeSimd } from './sse.js';
import { Seg } from './state.js';

const { I32, I64 } = { I32: Type.I32, I64: Type.I64 };

export interface X86HelperIds {
  mul64: number;
  ccCompute: number;
  raise: number;
  /** System operations: one helper taking an operation code and two operands (see SysOp). */
  sys: number;
  /** The same for those that read a 64-bit operand. */
  sys64: number;
  mulWide: number;
  div: number;
  in: number;
  out: number;
  eflagsRead: number;
  eflagsWrite: number;
  bcd: number;
  rotate: number;
  bitScan: number;
  fpu: number;
  simd: number;
}

/**
 * System operations run by the `sys` helper. Each may fault, reads and writes registers
 * in the state words, and may change the CPU mode (the translator ends the block after
 * the ones that do).
 */
export const enum SysOp {
  Cpuid = 0,
  Rdtsc = 1,
  Rdtscp = 2,
  Rdmsr = 3,
  Wrmsr = 4,
  Hlt = 5,
  Cli = 6,
  Sti = 7,
  /** arg: segment, value: selector. */
  LoadSeg = 8,
  /** arg: CR number; value: register number to read into. */
  MovFromCr = 9,
  /** arg: CR number; value64: the new value. */
  MovToCr = 10,
  MovFromDr = 11,
  MovToDr = 12,
  /** value64: linear address of the 6/10-byte operand; arg: 0 LGDT, 1 LIDT, 2 SGDT, 3 SIDT; a2: operand size. */
  DescTable = 13,
  Lldt = 14,
  Ltr = 15,
  Invlpg = 16,
  /** INT n: arg = vector (the pc holds the next instruction's, the return address). */
  Int = 17,
  Into = 18,
  Iret = 19,
  /** far JMP/CALL: arg = call (1) | operand size << 4, a2 = selector, value64 = offset. */
  FarJump = 20,
  /** far RET: arg = operand size, value = bytes to release (imm16). */
  FarRet = 21,
  Syscall = 22,
  Sysret = 23,
  Sysenter = 24,
  Sysexit = 25,
  Swapgs = 26,
  Clts = 27,
  Lmsw = 28,
  Smsw = 29,
  Sldt = 30,
  Str = 31,
  /** LAR/LSL/VERR/VERW: arg 0..3, value = selector; result in the return value (ZF via flags). */
  CheckSeg = 32,
  /** ENTER: value = frame size, arg = nesting level, a2 = operand size. */
  Enter = 33,
  Bound = 34,
  Rdpmc = 37,
  /** Privilege check for CLTS/INVD/WBINVD/...: #GP unless CPL 0. */
  NeedCpl0 = 38,
  /** MWAIT: a hint; continues at once. */
  Mwait = 39,
  /** arg: segment; returns its selector. */
  ReadSeg = 40,
  /** The instruction after STI / MOV SS has run: interrupts may be taken again. */
  ClearInhibit = 41,
  /** Raise the fault an instruction fetch left pending (translation time). */
  RaisePending = 42,
  /** FNSTSW: the status word with TOP; LDMXCSR (value), STMXCSR; EMMS. */
  FpuStoreSw = 47,
  LdMxcsr = 48,
  StMxcsr = 49,
  Emms = 50,
  /** FWAIT with CR0.TS: #NM when CR0.MP is set too. */
  FwaitCheck = 51,
  /** The single-step trap (#DB with DR6.BS) after an instruction that began with EFLAGS.TF. */
  SingleStep = 52,
}

const big = (lo: number, hi: number): bigint => BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function registerX86Helpers(cpu: X86Cpu): X86HelperIds {
  const table = cpu.helperTable;
  const ret = cpu.retHi;
  const add = (name: string, args: Type[], r: Type | null, flags: number, fn: (...a: number[]) => number) =>
    table.add({ name, args, ret: r, flags, fn } as HelperInfo);
  const i64 = createI64Ops();
  const { mulhu, mulh, hi: wHi } = i64;
  const pure = HelperFlags.Pure;
  const sys = HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals | HelperFlags.MayRaise | HelperFlags.SideEffects;
  const system = new X86System(cpu);
  return {
    mul64: add('mul64', [I64, I64], I64, pure, (al, ah, bl, bh) => {
      ret[0] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
      return Math.imul(al, bl);
    }),
    ccCompute: add('cc_compute', [I32, I64, I64, I64], I32, pure, computeFlags),
    raise: add('raise', [I32, I32], null, sys, (v, e) => cpu.raise(v, e)),
    sys: add('sys', [I32, I32, I32], I32, sys, (op, arg, value) => cpu.guard(() => system.run(op, arg, value, 0, 0))),
    sys64: add('sys64', [I32, I32, I32, I64], I32, sys, (op, arg, a2, lo, hi) => cpu.guard(() => system.run(op, arg, a2, lo, hi))),
    // High half of a 64 x 64 multiply (signed when `signed` is 1); the low half is mul64.
    mulWide: add('mul_wide', [I32, I64, I64], I64, pure, (signed, al, ah, bl, bh) => {
      const lo = signed ? mulh(al, ah, bl, bh) : mulhu(al, ah, bl, bh);
      ret[0] = wHi[0];
      return lo;
    }),
    // DIV/IDIV of rDX:rAX (or AX) by the operand: writes the quotient and remainder, #DE on overflow.
    div: add('div', [I32, I32, I64], null, sys, (size, signed, lo, hi) =>
      cpu.guard(() => system.divide(size, signed !== 0, lo, hi, i64))),
    in: add('in', [I32, I32], I32, sys, (port, size) => cpu.guard(() => system.portIn(port, size))),
    out: add('out', [I32, I32, I32], null, sys, (port, value, size) => cpu.guard(() => system.portOut(port, value, size))),
    eflagsRead: add('eflags_read', [], I32, HelperFlags.ReadsGlobals, () => cpu.eflags),
    // POPF/IRET-style write: arg = value, mask = the bits the operand size covers.
    eflagsWrite: add('eflags_write', [I32, I32], null, sys, (value, size) => cpu.guard(() => system.popf(value, size))),
    bcd: add('bcd', [I32, I32], null, sys, (op, imm) => cpu.guard(() => system.bcd(op, imm))),
    // RCL RCR, 16-bit SHLD SHRD (op | size << 4) of value by count (other: SHLD/SHRD's source); sets the flags.
    rotate: add('rotate', [I32, I64, I64, I32], I64, HelperFlags.ReadsGlobals | HelperFlags.WritesGlobals,
      (op, lo, hi, olo, ohi, count) => {
        const r = system.rotate(op & 15, op >> 4, big(lo, hi), big(olo, ohi), count);
        ret[0] = Number(BigInt.asIntN(32, r >> 32n));
        return Number(BigInt.asIntN(32, r));
      }),
    // An x87 instruction registered by the translator: (index, address, FIP, FDP, data segment).
    fpu: add('fpu', [I32, I64, I32, I32, I32], null, sys, (index, lo, hi, fip, fdp, seg) =>
      cpu.guard(() => executeFpu(cpu.fpuHost, cpu.fpuInsns[index], lo, hi, fip, cpu.segSel(Seg.CS), fdp, cpu.segSel(seg)))),
    // An MMX/SSE instruction registered by the translator: (index, address, general-register source).
    simd: add('simd', [I32, I64, I64], I64, sys, (index, lo, hi, glo, ghi) =>
      cpu.guard(() => executeSimd(cpu.simdHost, cpu.simdInsns[index], lo, hi, glo, ghi))),
    // BSF (0), BSR (1), POPCNT (2) of a value of size (op >> 4).
    bitScan: add('bit_scan', [I32, I64], I64, pure, (op, lo, hi) => {
      ret[0] = 0;
      const size = op >> 4;
      if (size < 8) hi = 0;
      if (size < 4) lo &= size === 1 ? 0xff : 0xffff;
      switch (op & 15) {
        case 0: return lo !== 0 ? 31 - Math.clz32(lo & -lo) : hi !== 0 ? 63 - Math.clz32(hi & -hi) : 0;
        case 1: return hi !== 0 ? 63 - Math.clz32(hi) : lo !== 0 ? 31 - Math.clz32(lo) : 0;
        default: return popcount(lo) + popcount(hi);
      }
    }),
  };
}
