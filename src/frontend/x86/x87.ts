/**
 * The x87 FPU (and FXSAVE/FXRSTOR): one helper, executeFpu, runs a whole decoded x87 instruction
 * against the CPU state words. The translator calls it for every x87 handler; x87 code is cold
 * in the guests we run, so nothing here is translated to IR.
 *
 * The reference is QEMU 7.2 TCG, bit for bit, including where it departs from hardware (the
 * differential tests run the same programs on QEMU):
 * - no stack fault detection: pushes onto a full stack and reads of empty registers just use the
 *   register contents; IE/SF/C1 are never set for them, and tags change only on push/pop,
 *   FFREE and the environment loads;
 * - results are always the masked responses; unmasked exceptions only set ES and B, and #MF is
 *   raised only by FNOP and FWAIT, when ES is set and CR0.NE is set;
 * - C1 is not set for rounded-up results; DE is raised only by FXTRACT of a denormal;
 * - the precision control rounds more than on hardware: loads (FLD m32/m64, the integer operands
 *   of FIADD & co., FBLD), FRNDINT, FPREM's remainder and FSIN & co.; FSCALE ignores it;
 * - FPREM1 reports no quotient bits (C0 C3 C1 cleared); FSQRT of a negative number sets C2;
 * - FSIN/FCOS/FSINCOS/FPTAN go through double precision (float80.ts libmSin & co.);
 * - FNSTENV does not mask the exceptions; FLDENV/FRSTOR/FXRSTOR do not restore FIP/FDP; FOP is
 *   never recorded; FXSAVE stores zeros for FIP/FCS/FDP/FDS and leaves FOP's bytes alone;
 * - FNSAVE/FRSTOR with REX.W put the register image at offset 56 (QEMU shifts 14 by dflag - 1).
 * Deliberate departures from QEMU, at the interface's request: FCOMI & co. clear OF SF AF (QEMU
 * keeps them), FXRSTOR raises #GP(0) for reserved MXCSR bits, and every instruction reads all of
 * its memory before changing any state (QEMU's FLDENV/FRSTOR/FXRSTOR update state as they read).
 * Stores happen at QEMU's granularity and in its order (field by field), so a fault in the
 * middle leaves the same partial image QEMU would.
 */
import { OpKind } from './decode.js';
import type { RegClass } from './decode.js';
import { X86Handler } from './decode-generated.js';
import { GuestFault } from './cpu.js';
import { CC_OP_EFLAGS, computeFlags } from './flags.js';
import {
  CC_DST, CC_OP, CC_SRC, CC_SRC2, CF, FPU_CW, FPU_LAST, FPU_REGS, FPU_SW, FPU_TAG, FPU_TOP, GPR_BASE, MXCSR, PF,
  Vector, XMM_BASE, ZF,
} from './state.js';
import {
  F80, F80_DEFAULT_NAN, F80_INF, F80_ONE, F80_ZERO, FLAG_DE, FLAG_IE, FloatStatus, M64, Relation, Round, abs, add,
  chs, clz64, compare, div, expOf, f2xm1, f80, fpatan, fromF32, fromF64, fromInt, fyl2x, fyl2xp1, isAnyNaN,
  isInf, isInvalidEncoding, isSignalingNaN, isZero, libmCos, libmSin, libmTan, modrem, mul, roundToInt, scalbn,
  signOf, silenceNaN, sqrt, sub, toF32, toF64, toInt,
} from './float80.js';

/** One decoded instruction, as the translator registers it (plain data, built once per distinct instruction). */
export interface FpuInsn {
  handler: X86Handler; // which table handler (e.g. X86Handler.FADD)
  opcode: number; // the escape byte D8..DF (or 0xAE for FXSAVE/FXRSTOR in 0F AE)
  modrm: number; // the ModRM byte (reg field and, for register forms, rm = i of ST(i))
  opSize: number; // 2 or 4 (or 8 with REX.W): selects 14/28-byte FNSTENV/FLDENV and 94/108-byte FNSAVE/FRSTOR formats, FXSAVE64 with REX.W
  codeSize: number; // 16, 32 or 64
  operands: { kind: OpKind; size: number; reg: number; regClass: RegClass }[]; // as X86Insn.operands
}

export interface FpuHost {
  readonly state: Int32Array; // the CPU state words (layout in src/frontend/x86/state.ts)
  /** Read `size` bytes at linear address (lo, hi) into out[0..size); throws GuestFault (cpu.ts) on a fault. */
  readMem(lo: number, hi: number, size: number, out: Uint8Array): void;
  /** Write bytes[0..size) at (lo, hi); throws GuestFault on a fault; a fault writes nothing. */
  writeMem(lo: number, hi: number, size: number, bytes: Uint8Array): void;
  /** CR0.NE: unmasked x87 exceptions raise #MF (vector 16) at the next waiting x87 instruction when set. */
  readonly cr0ne: boolean;
}

/** Status word bits. */
const SW_ES = 0x80;
const SW_B = 0x8000;
const SW_C0 = 0x100;
const SW_C1 = 0x200;
const SW_C2 = 0x400;
const SW_C3 = 0x4000;
const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

/** FLDL2T & co., with the value some rounding modes give in the last bit (as QEMU picks them). */
const L2T = f80(0x4000, 0xd49a784bcd1b8afen);
const L2T_UP = f80(0x4000, 0xd49a784bcd1b8affn);
const L2E = f80(0x3fff, 0xb8aa3b295c17f0bcn);
const L2E_DOWN = f80(0x3fff, 0xb8aa3b295c17f0bbn);
const PI = f80(0x4000, 0xc90fdaa22168c235n);
const PI_DOWN = f80(0x4000, 0xc90fdaa22168c234n);
const LG2 = f80(0x3ffd, 0x9a209a84fbcff799n);
const LG2_DOWN = f80(0x3ffd, 0x9a209a84fbcff798n);
const LN2 = f80(0x3ffe, 0xb17217f7d1cf79acn);
const LN2_DOWN = f80(0x3ffe, 0xb17217f7d1cf79abn);

/** Arguments of FSIN & co. beyond 2^63 in magnitude leave ST0 alone and set C2. */
const F64_TWO_63 = 0x43e0000000000000n;

/** The memory operand: its linear address, and QEMU's access granularity. */
/** Scratch space for operand reads (executeFpu does not nest). */
const READ_BUF = new Uint8Array(16);

class Operand {
  private readonly buf = READ_BUF;

  constructor(
    private readonly host: FpuHost,
    private readonly lo: number,
    private readonly hi: number,
    /** Outside 64-bit mode, linear addresses wrap at 4 GiB. */
    private readonly wide: boolean,
  ) {}

  private at(offset: number): [number, number] {
    const lo = (this.lo + offset) | 0;
    if (!this.wide) return [lo, 0];
    return [lo, (this.hi + (lo >>> 0 < this.lo >>> 0 ? 1 : 0)) | 0];
  }

  read(offset: number, size: number): Uint8Array {
    const out = size <= 16 ? this.buf : new Uint8Array(size);
    const [lo, hi] = this.at(offset);
    this.host.readMem(lo, hi, size, out);
    return out;
  }

  u8(offset: number): number {
    return this.read(offset, 1)[0];
  }

  u16(offset: number): number {
    const b = this.read(offset, 2);
    return b[0] | (b[1] << 8);
  }

  u32(offset: number): number {
    const b = this.read(offset, 4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  u64(offset: number): bigint {
    const b = this.read(offset, 8);
    const lo = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    const hi = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  /** An 80-bit value, read as QEMU does: the significand, then the sign and exponent. */
  f80(offset: number): F80 {
    const m = this.u64(offset);
    return f80(this.u16(offset + 8), m);
  }

  write(offset: number, bytes: Uint8Array): void {
    const [lo, hi] = this.at(offset);
    this.host.writeMem(lo, hi, bytes.length, bytes);
  }

  w8(offset: number, v: number): void {
    this.write(offset, Uint8Array.of(v));
  }

  w16(offset: number, v: number): void {
    this.write(offset, Uint8Array.of(v, v >> 8));
  }

  w32(offset: number, v: number): void {
    this.write(offset, Uint8Array.of(v, v >> 8, v >> 16, v >>> 24));
  }

  w64(offset: number, v: bigint): void {
    const lo = Number(v & 0xffffffffn);
    const hi = Number((v >> 32n) & 0xffffffffn);
    this.write(offset, Uint8Array.of(lo, lo >> 8, lo >> 16, lo >>> 24, hi, hi >> 8, hi >> 16, hi >>> 24));
  }

  /** An 80-bit value, stored as QEMU does: the significand, then the sign and exponent. */
  wf80(offset: number, v: F80): void {
    this.w64(offset, v.m);
    this.w16(offset + 8, v.se);
  }
}

/** The x87 register file and status in the state words. */
class Regs {
  constructor(readonly st: Int32Array) {}

  get top(): number {
    return this.st[FPU_TOP] & 7;
  }
  set top(v: number) {
    this.st[FPU_TOP] = v & 7;
  }
  get cw(): number {
    return this.st[FPU_CW] & 0xffff;
  }
  set cw(v: number) {
    this.st[FPU_CW] = v & 0xffff;
  }
  /** The status word without TOP. */
  get sw(): number {
    return this.st[FPU_SW] & 0xffff & ~0x3800;
  }
  set sw(v: number) {
    this.st[FPU_SW] = v & 0xffff & ~0x3800;
  }

  phys(i: number): number {
    return (this.top + i) & 7;
  }

  read(phys: number): F80 {
    const b = FPU_REGS + 4 * phys;
    return f80(this.st[b + 2], (BigInt(this.st[b + 1] >>> 0) << 32n) | BigInt(this.st[b] >>> 0));
  }

  write(phys: number, v: F80): void {
    const b = FPU_REGS + 4 * phys;
    this.st[b] = Number(v.m & 0xffffffffn) | 0;
    this.st[b + 1] = Number(v.m >> 32n) | 0;
    this.st[b + 2] = v.se;
  }

  get(i: number): F80 {
    return this.read(this.phys(i));
  }

  set(i: number, v: F80): void {
    this.write(this.phys(i), v);
  }

  isEmpty(phys: number): boolean {
    return ((this.st[FPU_TAG] >> (2 * phys)) & 3) === 3;
  }

  setEmpty(phys: number, empty: boolean): void {
    const t = this.st[FPU_TAG] & ~(3 << (2 * phys));
    this.st[FPU_TAG] = (empty ? t | (3 << (2 * phys)) : t) & 0xffff;
  }

  push(v: F80): void {
    this.top = this.top - 1;
    this.setEmpty(this.top, false);
    this.write(this.top, v);
  }

  pop(): void {
    this.setEmpty(this.top, true);
    this.top = this.top + 1;
  }

  /** The status word as FNSTSW stores it. */
  fullSw(): number {
    return this.sw | (this.top << 11);
  }

  /** The full tag word as FNSTENV stores it: the class of each non-empty register. */
  tagWord(): number {
    let tag = 0;
    for (let i = 7; i >= 0; i--) {
      tag <<= 2;
      if (this.isEmpty(i)) tag |= 3;
      else {
        const v = this.read(i);
        const e = expOf(v);
        if (e === 0 && v.m === 0n) tag |= 1;
        else if (e === 0 || e === 0x7fff || (v.m >> 63n) === 0n) tag |= 2;
      }
    }
    return tag;
  }

  /** Loads a status word as FLDENV does: TOP from bits 13:11, B mirrors ES. */
  loadSw(v: number): void {
    this.top = (v >> 11) & 7;
    const sw = v & ~0x3800 & ~SW_B;
    this.sw = sw & SW_ES ? sw | SW_B : sw;
  }

  /** Only empty versus valid matters when a tag word is loaded: the rest follows the contents. */
  loadTags(tag: number): void {
    let t = 0;
    for (let i = 0; i < 8; i++) if (((tag >> (2 * i)) & 3) === 3) t |= 3 << (2 * i);
    this.st[FPU_TAG] = t;
  }

  /** The exception flags of an operation; ES and B follow any unmasked exception. */
  raise(flags: number): void {
    let sw = this.sw | flags;
    if (sw & ~this.cw & 0x3f) sw |= SW_ES | SW_B;
    this.sw = sw;
  }

  init(): void {
    this.cw = 0x37f;
    this.sw = 0;
    this.top = 0;
    this.st[FPU_TAG] = 0xffff;
    for (let i = 0; i < 4; i++) this.st[FPU_LAST + i] = 0;
  }
}

/** The floating-point environment of the control word: rounding and precision control. */
function statusFor(cw: number): FloatStatus {
  const s = new FloatStatus();
  s.round = ((cw >> 10) & 3) as Round;
  const pc = (cw >> 8) & 3;
  s.precision = pc === 0 ? 24 : pc === 2 ? 53 : 64;
  return s;
}

const int16 = (v: number): number => (v << 16) >> 16;
const int32 = (v: number): bigint => BigInt(v | 0);

type Arith = 'add' | 'mul' | 'sub' | 'subr' | 'div' | 'divr';

function arith(op: Arith, a: F80, b: F80, s: FloatStatus): F80 {
  switch (op) {
    case 'add': return add(a, b, s);
    case 'mul': return mul(a, b, s);
    case 'sub': return sub(a, b, s);
    case 'subr': return sub(b, a, s);
    case 'div': return div(a, b, s);
    default: return div(b, a, s);
  }
}

/** C3 C2 C0 of FCOM & co. (C1 is left alone), and ZF PF CF of FCOMI. */
function fcomBits(r: Relation): number {
  return r === Relation.Less ? SW_C0 : r === Relation.Equal ? SW_C3 : r === Relation.Greater ? 0 : SW_C3 | SW_C2 | SW_C0;
}
function fcomiFlags(r: Relation): number {
  return r === Relation.Less ? CF : r === Relation.Equal ? ZF : r === Relation.Greater ? 0 : ZF | PF | CF;
}

/**
 * Execute one x87 instruction (or FXSAVE/FXRSTOR). (eaLo, eaHi): the linear address of the memory operand when
 * there is one. (fip, fcs, fdp, fds): the instruction and data pointers to record as FIP/FCS/FDP/FDS for
 * non-control instructions (the translator passes the instruction's rIP and CS selector, the operand's offset and
 * segment selector). Returns 0. Throws GuestFault for exceptions (#MF 16, #GP(0) for a misaligned FXSAVE/FXRSTOR
 * area or reserved MXCSR bits in FXRSTOR). FNSTSW AX is done elsewhere; FCOMI/FUCOMI(P)/FCOMIP set ZF PF CF and
 * clear OF SF AF through the lazy flags: state[CC_OP] = 0 (CC_OP_EFLAGS from flags.ts), state[CC_SRC] = the six
 * flags, state[CC_SRC + 1] = 0. FCMOVcc reads the flags with computeFlags(state[CC_OP], state[CC_DST], state[CC_DST+1],
 * state[CC_SRC], state[CC_SRC+1], state[CC_SRC2], state[CC_SRC2+1]) from flags.ts. All memory reads complete
 * before any state change, so a fault changes nothing.
 */
export function executeFpu(
  host: FpuHost, insn: FpuInsn, eaLo: number, eaHi: number, fip: number, fcs: number, fdp: number, fds: number,
): number {
  const st = host.state;
  const r = new Regs(st);
  const memOp = insn.operands.find((o) => o.kind === OpKind.Mem);
  const mem = new Operand(host, eaLo, eaHi, insn.codeSize === 64);
  const size = memOp?.size ?? 0;
  /** ST(i) of a register form. */
  const i = insn.modrm & 7;
  const s = statusFor(r.cw);
  // QEMU records FIP/FCS for every x87 instruction but the control ones, FDP/FDS for memory operands.
  let control = false;

  /** The second operand of the arithmetic and compare forms: memory (float or integer) or ST(i). */
  const source = (integer: boolean): F80 => {
    if (!memOp) return r.get(i);
    if (integer) {
      // QEMU converts integer operands at the current precision and drops the conversion's flags.
      const v = size === 2 ? int16(mem.u16(0)) : mem.u32(0);
      return fromInt(int32(v), new FloatStatus(), s.precision);
    }
    return size === 4 ? fromF32(mem.u32(0), s) : fromF64(mem.u64(0), s);
  };

  const arithmetic = (op: Arith, integer: boolean, popAfter: boolean): void => {
    const src = source(integer);
    // Register forms with ST(i) first (DC, DE) write ST(i): ST(i) = ST(i) op ST(0).
    if (!memOp && insn.opcode !== 0xd8) {
      r.set(i, arith(op, r.get(i), r.get(0), s));
    } else {
      r.set(0, arith(op, r.get(0), src, s));
    }
    r.raise(s.flags);
    if (popAfter) r.pop();
  };

  const fcom = (integer: boolean, quiet: boolean, pops: number, other?: F80): void => {
    const src = other ?? source(integer);
    const rel = compare(r.get(0), src, s, quiet);
    r.sw = (r.sw & ~(SW_C3 | SW_C2 | SW_C0)) | fcomBits(rel);
    r.raise(s.flags);
    for (let k = 0; k < pops; k++) r.pop();
  };

  const fcomi = (quiet: boolean, popAfter: boolean): void => {
    const rel = compare(r.get(0), r.get(i), s, quiet);
    st[CC_OP] = CC_OP_EFLAGS;
    st[CC_SRC] = fcomiFlags(rel);
    st[CC_SRC + 1] = 0;
    r.raise(s.flags);
    if (popAfter) r.pop();
  };

  /** FIST/FISTP/FISTTP: the integer of ST0, or the integer indefinite with IE alone. */
  const fist = (round: Round, popAfter: boolean): void => {
    const bits = size * 8;
    let v = toInt(r.get(0), bits === 64 ? 64 : 32, round, s);
    if (bits === 16) {
      if (v !== BigInt(int16(Number(v)))) {
        s.flags = FLAG_IE;
        v = -32768n;
      }
      mem.w16(0, Number(v));
    } else if (bits === 32) {
      if (s.flags & FLAG_IE) v = -(1n << 31n);
      mem.w32(0, Number(v & 0xffffffffn));
    } else {
      if (s.flags & FLAG_IE) v = -(1n << 63n);
      mem.w64(0, v & M64);
    }
    r.raise(s.flags);
    if (popAfter) r.pop();
  };

  const pushConst = (v: F80): void => r.push(v);
  const roundDown = s.round === Round.Down || s.round === Round.Zero;

  switch (insn.handler) {
    // ---- loads and stores ----
    case X86Handler.FLD: {
      if (!memOp) {
        r.push(r.get(i));
        break;
      }
      const v = size === 4 ? fromF32(mem.u32(0), s) : size === 8 ? fromF64(mem.u64(0), s) : mem.f80(0);
      r.push(v);
      if (size !== 10) r.raise(s.flags);
      break;
    }
    case X86Handler.FILD: {
      const v = size === 2 ? int32(int16(mem.u16(0))) : size === 4 ? int32(mem.u32(0)) : BigInt.asIntN(64, mem.u64(0));
      r.push(fromInt(v, s, 64));
      break;
    }
    case X86Handler.FST:
    case X86Handler.FSTP: {
      const popAfter = insn.handler === X86Handler.FSTP;
      if (!memOp) {
        r.set(i, r.get(0));
      } else if (size === 10) {
        mem.wf80(0, r.get(0));
      } else {
        if (size === 4) mem.w32(0, toF32(r.get(0), s));
        else mem.w64(0, toF64(r.get(0), s));
        r.raise(s.flags);
      }
      if (popAfter) r.pop();
      break;
    }
    case X86Handler.FIST:
      fist(s.round, false);
      break;
    case X86Handler.FISTP:
      fist(s.round, true);
      break;
    case X86Handler.FISTTP:
      fist(Round.Zero, true);
      break;
    case X86Handler.FBLD: {
      // Byte by byte from the most significant pair, as QEMU reads; digits are not checked.
      let v = 0n;
      for (let k = 8; k >= 0; k--) {
        const b = mem.u8(k);
        v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
      }
      const negative = (mem.u8(9) & 0x80) !== 0;
      const x = fromInt(v, new FloatStatus(), s.precision);
      r.push(negative ? chs(x) : x);
      break;
    }
    case X86Handler.FBSTP: {
      const v0 = r.get(0);
      let v = toInt(v0, 64, s.round, s);
      if (v >= 10n ** 18n || v <= -(10n ** 18n)) {
        s.flags = FLAG_IE;
        for (let k = 0; k < 7; k++) mem.w8(k, 0);
        mem.w8(7, 0xc0);
        mem.w8(8, 0xff);
        mem.w8(9, 0xff);
      } else {
        mem.w8(9, signOf(v0) ? 0x80 : 0);
        if (v < 0n) v = -v;
        let k = 0;
        for (; k < 9 && v !== 0n; k++) {
          const d = Number(v % 100n);
          v /= 100n;
          mem.w8(k, ((d / 10) << 4) | d % 10);
        }
        for (; k < 9; k++) mem.w8(k, 0);
      }
      r.raise(s.flags);
      r.pop();
      break;
    }

    // ---- arithmetic ----
    case X86Handler.FADD: arithmetic('add', false, false); break;
    case X86Handler.FMUL: arithmetic('mul', false, false); break;
    case X86Handler.FSUB: arithmetic('sub', false, false); break;
    case X86Handler.FSUBR: arithmetic('subr', false, false); break;
    case X86Handler.FDIV: arithmetic('div', false, false); break;
    case X86Handler.FDIVR: arithmetic('divr', false, false); break;
    case X86Handler.FADDP: arithmetic('add', false, true); break;
    case X86Handler.FMULP: arithmetic('mul', false, true); break;
    case X86Handler.FSUBP: arithmetic('sub', false, true); break;
    case X86Handler.FSUBRP: arithmetic('subr', false, true); break;
    case X86Handler.FDIVP: arithmetic('div', false, true); break;
    case X86Handler.FDIVRP: arithmetic('divr', false, true); break;
    case X86Handler.FIADD: arithmetic('add', true, false); break;
    case X86Handler.FIMUL: arithmetic('mul', true, false); break;
    case X86Handler.FISUB: arithmetic('sub', true, false); break;
    case X86Handler.FISUBR: arithmetic('subr', true, false); break;
    case X86Handler.FIDIV: arithmetic('div', true, false); break;
    case X86Handler.FIDIVR: arithmetic('divr', true, false); break;

    // ---- comparisons ----
    case X86Handler.FCOM: fcom(false, false, 0); break;
    case X86Handler.FCOMP: fcom(false, false, 1); break;
    case X86Handler.FCOMPP: fcom(false, false, 2, r.get(1)); break;
    case X86Handler.FUCOM: fcom(false, true, 0); break;
    case X86Handler.FUCOMP: fcom(false, true, 1); break;
    case X86Handler.FUCOMPP: fcom(false, true, 2, r.get(1)); break;
    case X86Handler.FICOM: fcom(true, false, 0); break;
    case X86Handler.FICOMP: fcom(true, false, 1); break;
    case X86Handler.FTST: fcom(false, false, 0, F80_ZERO); break;
    case X86Handler.FCOMI: fcomi(false, false); break;
    case X86Handler.FCOMIP: fcomi(false, true); break;
    case X86Handler.FUCOMI: fcomi(true, false); break;
    case X86Handler.FUCOMIP: fcomi(true, true); break;
    case X86Handler.FXAM: {
      const v = r.get(0);
      let sw = r.sw & ~SW_CC;
      if (signOf(v)) sw |= SW_C1;
      if (r.isEmpty(r.top)) sw |= SW_C3 | SW_C0;
      else {
        const e = expOf(v);
        if (e === 0x7fff) {
          if (v.m === 1n << 63n) sw |= SW_C2 | SW_C0;
          else if (v.m >> 63n) sw |= SW_C0;
        } else if (e === 0) {
          sw |= v.m === 0n ? SW_C3 : SW_C3 | SW_C2;
        } else if (v.m >> 63n) {
          sw |= SW_C2;
        }
      }
      r.sw = sw;
      break;
    }

    // ---- register moves and stack ----
    case X86Handler.FXCH: {
      const a = r.get(0);
      r.set(0, r.get(i));
      r.set(i, a);
      break;
    }
    case X86Handler.FCMOVCC: {
      const f = computeFlags(st[CC_OP], st[CC_DST], st[CC_DST + 1], st[CC_SRC], st[CC_SRC + 1], st[CC_SRC2], st[CC_SRC2 + 1]);
      const cc = (insn.modrm >> 3) & 3;
      const mask = [CF, ZF, CF | ZF, PF][cc];
      const set = (f & mask) !== 0;
      if (set === (insn.opcode === 0xda)) r.set(0, r.get(i));
      break;
    }
    case X86Handler.FFREE:
      r.setEmpty(r.phys(i), true);
      // DF C0+i, FFREEP, is FFREE and a pop.
      if (insn.opcode === 0xdf) r.pop();
      break;
    case X86Handler.FINCSTP:
      r.top = r.top + 1;
      r.sw = r.sw & ~SW_CC;
      break;
    case X86Handler.FDECSTP:
      r.top = r.top - 1;
      r.sw = r.sw & ~SW_CC;
      break;
    case X86Handler.FNOP:
      control = true;
      if (r.sw & SW_ES && host.cr0ne) throw new GuestFault(Vector.MF, -1);
      break;
    case X86Handler.FCHS: r.set(0, chs(r.get(0))); break;
    case X86Handler.FABS: r.set(0, abs(r.get(0))); break;
    case X86Handler.FLD1: pushConst(F80_ONE); break;
    case X86Handler.FLDZ: pushConst(F80_ZERO); break;
    case X86Handler.FLDL2T: pushConst(s.round === Round.Up ? L2T_UP : L2T); break;
    case X86Handler.FLDL2E: pushConst(roundDown ? L2E_DOWN : L2E); break;
    case X86Handler.FLDPI: pushConst(roundDown ? PI_DOWN : PI); break;
    case X86Handler.FLDLG2: pushConst(roundDown ? LG2_DOWN : LG2); break;
    case X86Handler.FLDLN2: pushConst(roundDown ? LN2_DOWN : LN2); break;

    // ---- the rest of D9 ----
    case X86Handler.FSQRT: {
      if (signOf(r.get(0))) r.sw = (r.sw & ~SW_CC) | SW_C2;
      r.set(0, sqrt(r.get(0), s));
      r.raise(s.flags);
      break;
    }
    case X86Handler.FRNDINT:
      r.set(0, roundToInt(r.get(0), s));
      r.raise(s.flags);
      break;
    case X86Handler.FSCALE:
      r.set(0, fscale(r.get(0), r.get(1), s));
      r.raise(s.flags);
      break;
    case X86Handler.FXTRACT:
      fxtract(r, s);
      r.raise(s.flags);
      break;
    case X86Handler.FPREM:
    case X86Handler.FPREM1:
      fprem(r, s, insn.handler === X86Handler.FPREM);
      r.raise(s.flags);
      break;
    case X86Handler.F2XM1:
      r.set(0, f2xm1(r.get(0), s));
      r.raise(s.flags);
      break;
    case X86Handler.FYL2X:
      r.set(1, fyl2x(r.get(0), r.get(1), s));
      r.pop();
      r.raise(s.flags);
      break;
    case X86Handler.FYL2XP1:
      r.set(1, fyl2xp1(r.get(0), r.get(1), s));
      r.pop();
      r.raise(s.flags);
      break;
    case X86Handler.FPATAN:
      r.set(1, fpatan(r.get(0), r.get(1), s));
      r.pop();
      r.raise(s.flags);
      break;
    case X86Handler.FSIN:
    case X86Handler.FCOS:
    case X86Handler.FSINCOS:
    case X86Handler.FPTAN:
      trig(r, s, insn.handler);
      break;

    // ---- environment and state ----
    case X86Handler.FNSTENV:
      control = true;
      storeEnv(r, mem, insn.opSize !== 2);
      break;
    case X86Handler.FLDENV: {
      control = true;
      const env = loadEnv(mem, insn.opSize !== 2);
      commitEnv(r, env);
      break;
    }
    case X86Handler.FNSAVE: {
      control = true;
      storeEnv(r, mem, insn.opSize !== 2);
      const base = regImageOffset(insn.opSize);
      for (let k = 0; k < 8; k++) mem.wf80(base + 10 * k, r.get(k));
      r.init();
      break;
    }
    case X86Handler.FRSTOR: {
      control = true;
      const env = loadEnv(mem, insn.opSize !== 2);
      const base = regImageOffset(insn.opSize);
      const regs: F80[] = [];
      for (let k = 0; k < 8; k++) regs.push(mem.f80(base + 10 * k));
      commitEnv(r, env);
      regs.forEach((v, k) => r.set(k, v));
      break;
    }
    case X86Handler.FXSAVE:
      control = true;
      fxsave(r, st, mem, eaLo, insn.codeSize === 64);
      break;
    case X86Handler.FXRSTOR:
      control = true;
      fxrstor(r, st, mem, eaLo, insn.codeSize === 64);
      break;

    // ---- control instructions the translator does elsewhere; here for completeness ----
    case X86Handler.FLDCW:
      control = true;
      r.cw = mem.u16(0);
      break;
    case X86Handler.FNSTCW:
      control = true;
      mem.w16(0, r.cw);
      break;
    case X86Handler.FNSTSW:
      if (memOp) {
        control = true;
        mem.w16(0, r.fullSw());
      } else {
        st[GPR_BASE] = (st[GPR_BASE] & ~0xffff) | r.fullSw();
      }
      break;
    case X86Handler.FNINIT:
      control = true;
      r.init();
      break;
    case X86Handler.FNCLEX:
      control = true;
      r.sw = r.sw & 0x7f00;
      break;
    case X86Handler.FWAIT:
      control = true;
      if (r.sw & SW_ES && host.cr0ne) throw new GuestFault(Vector.MF, -1);
      break;
    case X86Handler.EMMS:
      control = true;
      st[FPU_TAG] = 0xffff;
      break;
    default:
      throw new GuestFault(Vector.UD, -1);
  }

  if (!control) {
    st[FPU_LAST] = fip;
    st[FPU_LAST + 1] = fcs & 0xffff;
    if (memOp) {
      st[FPU_LAST + 2] = fdp;
      st[FPU_LAST + 3] = fds & 0xffff;
    }
  }
  return 0;
}

// ---- instruction bodies --------------------------------------------------------------------------

function fscale(st0: F80, st1: F80, s: FloatStatus): F80 {
  if (isInvalidEncoding(st1) || isInvalidEncoding(st0)) {
    s.flags |= FLAG_IE;
    return F80_DEFAULT_NAN;
  }
  if (isAnyNaN(st1)) {
    if (isSignalingNaN(st0)) s.flags |= FLAG_IE;
    if (!isSignalingNaN(st1)) return st1;
    s.flags |= FLAG_IE;
    return silenceNaN(st1);
  }
  if (isInf(st1) && !isAnyNaN(st0)) {
    if (signOf(st1)) {
      if (isInf(st0)) {
        s.flags |= FLAG_IE;
        return F80_DEFAULT_NAN;
      }
      return signOf(st0) ? chs(F80_ZERO) : F80_ZERO;
    }
    if (isZero(st0)) {
      s.flags |= FLAG_IE;
      return F80_DEFAULT_NAN;
    }
    return signOf(st0) ? chs(F80_INF) : F80_INF;
  }
  // The scale is ST1 truncated (its conversion's flags are dropped), the result at full precision.
  const n = Number(toInt(st1, 32, Round.Zero, new FloatStatus()));
  const precision = s.precision;
  s.precision = 64;
  const v = scalbn(st0, n, s);
  s.precision = precision;
  return v;
}

function fxtract(r: Regs, s: FloatStatus): void {
  const v = r.get(0);
  if (isZero(v)) {
    // -1 / 0: minus infinity and ZE.
    r.set(0, div(chs(F80_ONE), F80_ZERO, s));
    r.push(v);
  } else if (isInvalidEncoding(v)) {
    s.flags |= FLAG_IE;
    r.set(0, F80_DEFAULT_NAN);
    r.push(r.get(0));
  } else if (isAnyNaN(v)) {
    if (isSignalingNaN(v)) {
      s.flags |= FLAG_IE;
      r.set(0, silenceNaN(v));
    }
    r.push(r.get(0));
  } else if (isInf(v)) {
    r.push(v);
    r.set(1, F80_INF);
  } else {
    let e = expOf(v);
    let m = v.m;
    if (e === 0) {
      const shift = clz64(m);
      m = (m << BigInt(shift)) & M64;
      e = 1 - shift;
      s.flags |= FLAG_DE;
    }
    r.set(0, fromInt(BigInt(e - 16383), s));
    r.push(f80((v.se & 0x8000) | 0x3fff, m));
  }
}

function fprem(r: Regs, s: FloatStatus, truncate: boolean): void {
  const a = r.get(0);
  const b = r.get(1);
  let e0 = expOf(a);
  let e1 = expOf(b);
  let sw = r.sw & ~SW_CC;
  if (isZero(a) || isZero(b) || e0 === 0x7fff || e1 === 0x7fff || isInvalidEncoding(a) || isInvalidEncoding(b)) {
    r.set(0, modrem(a, b, truncate, s).r);
  } else {
    if (e0 === 0) e0 = 1 - clz64(a.m);
    if (e1 === 0) e1 = 1 - clz64(b.m);
    const d = e0 - e1;
    if (d < 64) {
      const { r: rem, q } = modrem(a, b, truncate, s);
      r.set(0, rem);
      if (q & 4n) sw |= SW_C0;
      if (q & 2n) sw |= SW_C3;
      if (q & 1n) sw |= SW_C1;
    } else {
      // A partial remainder: reduce by ST1 * 2^(d - n), 32 <= n < 64, with a truncated quotient,
      // so that the final step still yields the low three quotient bits (AMD's documented choice).
      const n = 32 + (d % 32);
      r.set(0, modrem(a, scalbn(b, d - n, s), true, s).r);
      sw |= SW_C2;
    }
  }
  r.sw = sw;
}

function trig(r: Regs, s: FloatStatus, handler: X86Handler): void {
  // The conversions' flags are dropped, as QEMU does not collect them.
  const scratch = new FloatStatus();
  scratch.round = s.round;
  scratch.precision = s.precision;
  const x = toF64(r.get(0), scratch);
  const isNaN = (x & 0x7ff0000000000000n) === 0x7ff0000000000000n && (x & 0xfffffffffffffn) !== 0n;
  if (!isNaN && (x & ~(1n << 63n)) > F64_TWO_63) {
    r.sw = r.sw | SW_C2;
    return;
  }
  switch (handler) {
    case X86Handler.FSIN:
      r.set(0, fromF64(libmSin(x), scratch));
      break;
    case X86Handler.FCOS:
      r.set(0, fromF64(libmCos(x), scratch));
      break;
    case X86Handler.FSINCOS:
      r.set(0, fromF64(libmSin(x), scratch));
      r.push(fromF64(libmCos(x), scratch));
      break;
    default:
      r.set(0, fromF64(libmTan(x), scratch));
      r.push(F80_ONE);
      break;
  }
  r.sw = r.sw & ~SW_C2;
}

// ---- environment -------------------------------------------------------------------------------

interface Env {
  cw: number;
  sw: number;
  tag: number;
}

/** Where FNSAVE/FRSTOR put the registers: 14 << (dflag - 1) in QEMU, so 56 with REX.W. */
const regImageOffset = (opSize: number): number => 14 << (opSize === 2 ? 0 : opSize === 4 ? 1 : 2);

/** FNSTENV's image: 16-bit fields, or 32-bit fields with FOP and the upper bits zero. */
function storeEnv(r: Regs, mem: Operand, data32: boolean): void {
  const st = r.st;
  const fields = [r.cw, r.fullSw(), r.tagWord(), st[FPU_LAST], st[FPU_LAST + 1], st[FPU_LAST + 2], st[FPU_LAST + 3]];
  fields.forEach((v, k) => (data32 ? mem.w32(4 * k, v) : mem.w16(2 * k, v)));
}

function loadEnv(mem: Operand, data32: boolean): Env {
  const step = data32 ? 4 : 2;
  return { cw: mem.u16(0), sw: mem.u16(step), tag: mem.u16(2 * step) };
}

function commitEnv(r: Regs, env: Env): void {
  r.cw = env.cw;
  r.loadSw(env.sw);
  r.loadTags(env.tag);
}

function checkFxAlignment(eaLo: number): void {
  if (eaLo & 15) throw new GuestFault(Vector.GP, 0);
}

/**
 * FXSAVE: QEMU's layout and store order. The translator is expected to raise #UD or #NM where
 * needed; with CR4.OSFXSR clear QEMU would leave MXCSR and the XMM registers out, which this
 * interface cannot see, so they are always stored.
 */
function fxsave(r: Regs, st: Int32Array, mem: Operand, eaLo: number, mode64: boolean): void {
  checkFxAlignment(eaLo);
  let abridged = 0;
  for (let k = 0; k < 8; k++) if (!r.isEmpty(k)) abridged |= 1 << k;
  mem.w16(0, r.cw);
  mem.w16(2, r.fullSw());
  mem.w16(4, abridged);
  mem.w64(8, 0n);
  mem.w64(16, 0n);
  for (let k = 0; k < 8; k++) mem.wf80(32 + 16 * k, r.get(k));
  mem.w32(24, st[MXCSR]);
  mem.w32(28, 0xffff);
  const n = mode64 ? 16 : 8;
  for (let k = 0; k < n; k++) {
    const b = XMM_BASE + 4 * k;
    mem.w64(160 + 16 * k, (BigInt(st[b + 1] >>> 0) << 32n) | BigInt(st[b] >>> 0));
    mem.w64(168 + 16 * k, (BigInt(st[b + 3] >>> 0) << 32n) | BigInt(st[b + 2] >>> 0));
  }
}

function fxrstor(r: Regs, st: Int32Array, mem: Operand, eaLo: number, mode64: boolean): void {
  checkFxAlignment(eaLo);
  const cw = mem.u16(0);
  const sw = mem.u16(2);
  const abridged = mem.u16(4) & 0xff;
  const regs: F80[] = [];
  for (let k = 0; k < 8; k++) regs.push(mem.f80(32 + 16 * k));
  const mxcsr = mem.u32(24);
  const n = mode64 ? 16 : 8;
  const xmm: bigint[] = [];
  for (let k = 0; k < 2 * n; k++) xmm.push(mem.u64(160 + 8 * k));
  if (mxcsr & ~0xffff) throw new GuestFault(Vector.GP, 0);
  r.cw = cw;
  r.loadSw(sw);
  let tag = 0;
  for (let k = 0; k < 8; k++) if (!(abridged & (1 << k))) tag |= 3 << (2 * k);
  st[FPU_TAG] = tag;
  regs.forEach((v, k) => r.set(k, v));
  st[MXCSR] = mxcsr;
  xmm.forEach((v, k) => {
    const b = XMM_BASE + 2 * k;
    st[b] = Number(v & 0xffffffffn) | 0;
    st[b + 1] = Number(v >> 32n) | 0;
  });
}

/** Builds the FpuInsn of a decoded instruction (what the translator registers). */
export function fpuInsnOf(insn: {
  handler: number;
  opcode: number;
  modrm: number;
  opSize: number;
  codeSize: number;
  nOperands: number;
  operands: readonly { kind: OpKind; size: number; reg: number; regClass: RegClass }[];
}): FpuInsn {
  return {
    handler: insn.handler as X86Handler,
    opcode: insn.opcode,
    modrm: insn.modrm,
    opSize: insn.opSize,
    codeSize: insn.codeSize,
    operands: insn.operands.slice(0, insn.nOperands).map((o) => ({ kind: o.kind, size: o.size, reg: o.reg, regClass: o.regClass })),
  };
}
