// x86 instruction decoder: legacy prefixes, REX, the opcode maps, ModRM/SIB,
// displacements and immediates.  What each opcode means lives in opcodes.table
// (compiled into decode-generated.ts); this file only knows the encoding rules
// shared by every instruction (Intel SDM Vol. 2, chapter 2).
//
// Decoding runs at translation time, once per guest instruction: it fills a
// caller-owned X86Insn and allocates nothing.

import {
  OpMethod,
  OpSize,
  X86Flag,
  X86Node,
  X86_ENTRY_FEATURE,
  X86_ENTRY_FLAGS,
  X86_ENTRY_HANDLER,
  X86_ENTRY_OPERANDS,
  X86_NODES,
  X86_ROOT,
} from './decode-generated.js';

export const enum DecodeStatus {
  Ok = 0,
  /** #UD: undefined opcode, invalid in this mode, LOCK misuse, register where memory is required. */
  Invalid = 1,
  /** Fetching byte `faultOffset` faulted (the caller raises the page fault). */
  FetchFault = 2,
  /** #GP(0): the instruction would be longer than 15 bytes. */
  TooLong = 3,
}

/** Reads the byte at offset i from the instruction start: 0..255, or -1 if the fetch faults. */
export type ByteReader = (i: number) => number;

export const enum OpKind {
  None = 0,
  /** A register: `regClass` and `reg`. */
  Reg = 1,
  /** The instruction's memory operand (ModRM or moffs): X86Insn.base/index/scale/disp/seg. */
  Mem = 2,
  /** An immediate: `value` (see X86Insn.imm for the extension rules). */
  Imm = 3,
  /** A relative branch displacement in `value` (sign-extended); target = next pc + value. */
  Rel = 4,
  /** A far pointer (ptr16:16/32): offset in `value` and X86Insn.imm, selector in X86Insn.imm2. */
  FarPtr = 5,
  /** String source DS:[rSI] (the segment can be overridden). */
  StrSrc = 6,
  /** String destination ES:[rDI] (never overridden). */
  StrDst = 7,
  /** XLAT's DS:[rBX + AL]. */
  Xlat = 8,
}

export const enum RegClass {
  /** General register 0..15 (rAX..r15); byte operands 4..7 with a REX prefix are SPL..DIL. */
  GPR = 0,
  /** AH, CH, DH, BH (byte operands 4..7 without REX): `reg` is the full register, 0..3. */
  GPR8_HIGH = 1,
  /** ES CS SS DS FS GS = 0..5. */
  SEG = 2,
  CR = 3,
  DR = 4,
  MMX = 5,
  XMM = 6,
  /** x87 stack register ST(reg). */
  ST = 7,
}

/** Segment register numbers (X86Insn.segOverride, X86Insn.seg). */
export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }

export class X86Operand {
  kind: OpKind = OpKind.None;
  /** Size in bytes, resolved for the current operand/address size (0: not applicable, e.g. LEA's M). */
  size = 0;
  reg = 0;
  regClass: RegClass = RegClass.GPR;
  /** Imm, Rel and FarPtr: the value (low 32 bits, extended as described at X86Insn.imm). */
  value = 0;
  /** The operand code from the table (OpMethod | OpSize << 5 | fixed reg << 10). */
  code = 0;
}

export class X86Insn {
  /** Bytes, valid when Ok. */
  length = 0;
  /** Byte offset whose fetch faulted (FetchFault). */
  faultOffset = 0;
  /** Handler id (X86Handler). */
  handler = 0;
  /** Table entry index (X86_ENTRY_*: mnemonic, flags, feature). */
  entry = 0;
  /** X86_ENTRY_FLAGS[entry]. */
  flags = 0;
  /** CPUID feature the instruction needs: index into X86_FEATURES (0: none, the 386 baseline). */
  feature = 0;
  /** The last opcode byte (0x84 for 0F 84). */
  opcode = 0;
  /** 0 one-byte, 1 0F, 2 0F38, 3 0F3A. */
  map = 0;
  /** Condition code for Jcc/SETcc/CMOVcc (opcode & 15) and FCMOVcc (the matching integer one), else 0. */
  cond = 0;
  /** 16, 32 or 64: the code segment's mode the instruction was decoded in. */
  codeSize = 32;
  /** Effective operand size in bytes: 2, 4 or 8. */
  opSize = 4;
  /** Effective address size in bytes: 2, 4 or 8. */
  addrSize = 4;
  /** -1 or the last segment-override prefix (Seg). In 64-bit mode ES/CS/SS/DS overrides are kept as written; their base is 0 anyway. */
  segOverride = -1;
  /** Segment of the memory operand: the override, else SS for rBP/rSP-based addresses, else DS. */
  seg: number = Seg.DS;
  /** The last F3/F2 prefix as written (0 if none), even when consumed as a mandatory prefix. */
  rep = 0;
  /** 0, 0x66, 0xf3 or 0xf2: the prefix this SSE entry consumed as part of its opcode (it then has no legacy meaning). */
  mandatoryPrefix = 0;
  /** A 66 prefix is present (consumed or not). */
  opsizePrefix = false;
  /** A 67 prefix is present. */
  addrsizePrefix = false;
  lock = false;
  /** The REX byte in effect (0 if none, or if a legacy prefix followed it). */
  rex = 0;
  /** All prefix bytes in order, REX included (for the disassembler). */
  readonly prefixes = new Uint8Array(15);
  prefixCount = 0;
  /** The ModRM byte, or -1. */
  modrm = -1;
  mod = 0;
  /** ModRM.reg with REX.R applied. */
  reg = 0;
  /** ModRM.rm with REX.B applied. */
  rm = 0;
  /** SIB byte or -1. */
  sib = -1;
  hasMem = false;
  /** Base register number or -1 (none or RIP). */
  base = -1;
  /** Index register number or -1. */
  index = -1;
  /** log2 of the index scale, 0..3. */
  scale = 0;
  /** Displacement, sign-extended to 32 bits (moffs: low 32 bits). */
  disp = 0;
  /** Bytes of displacement / moffs as encoded (0, 1, 2, 4, 8). */
  dispSize = 0;
  /** 64-bit mode mod=00 rm=101: the address is the next instruction's address + disp (truncated to addrSize). */
  ripRelative = false;
  /** High 32 bits of a 64-bit moffs; otherwise the sign of disp (0 or -1). */
  dispHi = 0;
  /**
   * First immediate, low 32 bits.  Ib/Iw (and Iz at 16 bits) are zero-extended; Ib sign-extended
   * to the operand size (SDM "Ib" of 6A/6B/83, table code Ibs), Iz at 32/64 bits and rel8/16/32 are
   * sign-extended.  immHi: high word of an imm64 (B8+r with REX.W) or the extension's sign.
   */
  imm = 0;
  immHi = 0;
  /** Second immediate: ENTER's nesting level, or a far pointer's selector. */
  imm2 = 0;
  /** Bytes of the first immediate as encoded. */
  immSize = 0;
  readonly operands: readonly [X86Operand, X86Operand, X86Operand, X86Operand] = [
    new X86Operand(), new X86Operand(), new X86Operand(), new X86Operand(),
  ];
  nOperands = 0;
}

// 16-bit addressing: ModRM.rm -> base/index (bx+si, bx+di, bp+si, bp+di, si, di, bp, bx).
const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

const MAX_LENGTH = 15;

function memSize(size: OpSize, os: number, mode64: boolean): number {
  switch (size) {
    case OpSize.b: return 1;
    case OpSize.w: return 2;
    case OpSize.d: return 4;
    case OpSize.q: return 8;
    case OpSize.dq: case OpSize.o: case OpSize.ps: case OpSize.pd: case OpSize.x: case OpSize.xu: return 16;
    case OpSize.v: case OpSize.bs: return os;
    case OpSize.z: return os === 2 ? 2 : 4;
    case OpSize.y: return os === 8 ? 8 : 4;
    case OpSize.p: return os + 2;
    case OpSize.s: return mode64 ? 10 : 6;
    case OpSize.a: return os * 2;
    case OpSize.t: return 10;
    case OpSize.ss: return 4;
    case OpSize.sd: case OpSize.pi: return 8;
    case OpSize.vw: case OpSize.dw: return 2;
    case OpSize.e: return os === 2 ? 14 : 28;
    case OpSize.st: return os === 2 ? 94 : 108;
    case OpSize.fx: return 512;
    default: return 0;
  }
}

/** Register-form size: as memSize, except that vw / dw registers have the v / 32-bit size. */
function regSize(size: OpSize, os: number, mode64: boolean): number {
  if (size === OpSize.vw) return os;
  if (size === OpSize.dw) return 4;
  return memSize(size, os, mode64);
}

const NO_READER: ByteReader = () => -1;

export class X86Decoder {
  private read: ByteReader = NO_READER;
  /** Status of the last failed fetch (FetchFault or TooLong) and where. */
  private failStatus: DecodeStatus = DecodeStatus.Ok;

  /** Byte at offset k, or -1 after recording why it cannot be had. */
  private byte(k: number, insn: X86Insn): number {
    if (k >= MAX_LENGTH) {
      this.failStatus = DecodeStatus.TooLong;
      return -1;
    }
    const b = this.read(k);
    if (b < 0) {
      this.failStatus = DecodeStatus.FetchFault;
      insn.faultOffset = k;
      return -1;
    }
    return b & 0xff;
  }

  /** Little-endian n-byte value at k (n <= 4) as an unsigned 32-bit number, or -1. */
  private le(k: number, n: number, insn: X86Insn): number {
    let v = 0;
    for (let j = 0; j < n; j++) {
      const b = this.byte(k + j, insn);
      if (b < 0) return -1;
      v += b * 2 ** (8 * j);
    }
    return v;
  }

  decode(read: ByteReader, codeSize: 16 | 32 | 64, insn: X86Insn): DecodeStatus {
    this.read = read;
    const st = this.decodeInner(codeSize, insn);
    this.read = NO_READER;
    return st;
  }

  private decodeInner(codeSize: 16 | 32 | 64, insn: X86Insn): DecodeStatus {
    const mode64 = codeSize === 64;
    insn.codeSize = codeSize;
    insn.faultOffset = 0;
    insn.length = 0;
    insn.modrm = -1;
    insn.sib = -1;
    insn.mod = insn.reg = insn.rm = 0;
    insn.hasMem = false;
    insn.base = insn.index = -1;
    insn.scale = insn.disp = insn.dispHi = insn.dispSize = 0;
    insn.ripRelative = false;
    insn.imm = insn.immHi = insn.imm2 = insn.immSize = 0;
    insn.nOperands = 0;
    insn.cond = 0;
    insn.mandatoryPrefix = 0;
    this.failStatus = DecodeStatus.Ok;

    // Legacy prefixes and REX.  Within a group the last one wins; a REX prefix
    // counts only when it immediately precedes the opcode.
    let i = 0;
    let rex = 0;
    let opPfx = false;
    let adPfx = false;
    let rep = 0;
    let lock = false;
    let seg = -1;
    prefixes: for (;;) {
      const b = this.byte(i, insn);
      if (b < 0) return this.failStatus;
      const isRex = mode64 && (b & 0xf0) === 0x40;
      switch (b) {
        case 0x66: opPfx = true; break;
        case 0x67: adPfx = true; break;
        case 0xf0: lock = true; break;
        case 0xf2: case 0xf3: rep = b; break;
        case 0x26: seg = Seg.ES; break;
        case 0x2e: seg = Seg.CS; break;
        case 0x36: seg = Seg.SS; break;
        case 0x3e: seg = Seg.DS; break;
        case 0x64: seg = Seg.FS; break;
        case 0x65: seg = Seg.GS; break;
        default:
          if (!isRex) break prefixes;
      }
      // A legacy prefix after REX cancels it; a later REX replaces it.
      rex = isRex ? b : 0;
      insn.prefixes[i++] = b;
    }
    insn.prefixCount = i;
    insn.rex = rex;
    insn.opsizePrefix = opPfx;
    insn.addrsizePrefix = adPfx;
    insn.rep = rep;
    insn.lock = lock;
    insn.segOverride = seg;
    insn.seg = seg >= 0 ? seg : Seg.DS;

    let op = this.byte(i++, insn);
    if (op < 0) return this.failStatus;
    let map = 0;
    if (op === 0x0f) {
      op = this.byte(i++, insn);
      if (op < 0) return this.failStatus;
      map = 1;
      if (op === 0x38 || op === 0x3a) {
        map = op === 0x38 ? 2 : 3;
        op = this.byte(i++, insn);
        if (op < 0) return this.failStatus;
      }
    }
    insn.map = map;
    insn.opcode = op;

    // Walk the decision tree; the ModRM byte is fetched when a node first needs it.
    let modrm = -1;
    let v = X86_ROOT[map * 256 + op];
    while (v < -1) {
      const n = -v - 2;
      let c = 0;
      switch (X86_NODES[n] as X86Node) {
        case X86Node.Mode: c = mode64 ? 1 : 0; break;
        case X86Node.Rexb: c = rex & 1; break;
        case X86Node.Prefix: c = rep === 0xf3 ? 2 : rep === 0xf2 ? 3 : opPfx ? 1 : 0; break;
        case X86Node.W: c = (rex >> 3) & 1; break;
        default:
          if (modrm < 0) {
            modrm = this.byte(i, insn);
            if (modrm < 0) return this.failStatus;
          }
          c = X86_NODES[n] === X86Node.Reg ? (modrm >> 3) & 7
            : X86_NODES[n] === X86Node.Mod ? (modrm >= 0xc0 ? 1 : 0)
            : modrm & 7;
      }
      v = X86_NODES[n + 1 + c];
    }
    if (v < 0) return DecodeStatus.Invalid;
    const e = v;
    const flags = X86_ENTRY_FLAGS[e];
    if (mode64 ? flags & X86Flag.I64 : flags & X86Flag.O64) return DecodeStatus.Invalid;
    insn.entry = e;
    insn.flags = flags;
    insn.handler = X86_ENTRY_HANDLER[e];
    insn.feature = X86_ENTRY_FEATURE[e];
    if (flags & X86Flag.Cond) insn.cond = (flags >>> X86Flag.CondShift) & 15;

    // A mandatory prefix belongs to the opcode and loses its legacy meaning.
    let opPfxEff = opPfx;
    switch ((flags >> X86Flag.PfxShift) & 7) {
      case 2: opPfxEff = false; insn.mandatoryPrefix = 0x66; break;
      case 3: insn.mandatoryPrefix = 0xf3; break;
      case 4: insn.mandatoryPrefix = 0xf2; break;
    }

    let os: number;
    if (mode64 && (flags & X86Flag.F64 || rex & 8)) os = 8;
    else if (mode64 && flags & X86Flag.D64) os = opPfxEff ? 2 : 8;
    else os = (codeSize === 16) !== opPfxEff ? 2 : 4;
    const as = mode64 ? (adPfx ? 4 : 8) : (codeSize === 16) !== adPfx ? 2 : 4;
    insn.opSize = os;
    insn.addrSize = as;

    // ModRM, SIB and displacement.
    let mod = 3;
    if (flags & X86Flag.ModRM) {
      if (modrm < 0) {
        modrm = this.byte(i, insn);
        if (modrm < 0) return this.failStatus;
      }
      i++;
      insn.modrm = modrm;
      mod = flags & X86Flag.ModReg ? 3 : modrm >> 6;
      insn.mod = mod;
      insn.reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
      insn.rm = (modrm & 7) | ((rex & 1) << 3);
      if (mod !== 3) {
        i = this.decodeMem(i, modrm, rex, as, mode64, insn);
        if (i < 0) return this.failStatus;
      }
    }
    if (lock && (!(flags & X86Flag.Lock) || mod === 3)) return DecodeStatus.Invalid;

    // Operands, then immediates in operand order.
    const rexByteRegs = rex !== 0;
    let nImm = 0;
    let k = 0;
    for (; k < 4; k++) {
      const code = X86_ENTRY_OPERANDS[e * 4 + k];
      if (code === 0) break;
      const method = (code & 31) as OpMethod;
      const size = ((code >> 5) & 31) as OpSize;
      const o = insn.operands[k];
      o.code = code;
      o.value = 0;
      o.regClass = RegClass.GPR;
      o.reg = 0;
      switch (method) {
        case OpMethod.E:
        case OpMethod.Q:
        case OpMethod.W:
          if (mod !== 3) { this.setMem(o, memSize(size, os, mode64), insn); break; }
          o.kind = OpKind.Reg;
          if (method === OpMethod.E) this.setGpr(o, insn.rm, regSize(size, os, mode64), rexByteRegs);
          else if (method === OpMethod.Q) { o.regClass = RegClass.MMX; o.reg = modrm & 7; o.size = 8; }
          else { o.regClass = RegClass.XMM; o.reg = insn.rm; o.size = memSize(size, os, mode64); }
          break;
        case OpMethod.M:
          if (mod === 3) return DecodeStatus.Invalid;
          this.setMem(o, memSize(size, os, mode64), insn);
          break;
        case OpMethod.R:
        case OpMethod.N:
        case OpMethod.U:
          if (mod !== 3) return DecodeStatus.Invalid;
          o.kind = OpKind.Reg;
          if (method === OpMethod.R) this.setGpr(o, insn.rm, regSize(size, os, mode64), rexByteRegs);
          else if (method === OpMethod.N) { o.regClass = RegClass.MMX; o.reg = modrm & 7; o.size = 8; }
          else { o.regClass = RegClass.XMM; o.reg = insn.rm; o.size = memSize(size, os, mode64); }
          break;
        case OpMethod.G:
          o.kind = OpKind.Reg;
          this.setGpr(o, insn.reg, regSize(size, os, mode64), rexByteRegs);
          break;
        case OpMethod.P:
          o.kind = OpKind.Reg; o.regClass = RegClass.MMX; o.reg = (modrm >> 3) & 7;
          o.size = size === OpSize.y ? memSize(size, os, mode64) : 8;
          break;
        case OpMethod.V:
          o.kind = OpKind.Reg; o.regClass = RegClass.XMM; o.reg = insn.reg;
          o.size = memSize(size, os, mode64);
          break;
        case OpMethod.C:
          // CR0, CR2-CR4 and (64-bit mode) CR8 exist; the others are #UD.
          if (insn.reg === 1 || (insn.reg > 4 && !(insn.reg === 8 && mode64))) return DecodeStatus.Invalid;
          o.kind = OpKind.Reg; o.regClass = RegClass.CR; o.reg = insn.reg; o.size = memSize(size, os, mode64);
          break;
        case OpMethod.D:
          if (insn.reg > 7) return DecodeStatus.Invalid;
          o.kind = OpKind.Reg; o.regClass = RegClass.DR; o.reg = insn.reg; o.size = memSize(size, os, mode64);
          break;
        case OpMethod.S: {
          const sr = (modrm >> 3) & 7;
          // Only six segment registers; loading CS with MOV is #UD.
          if (sr > 5 || (sr === Seg.CS && k === 0)) return DecodeStatus.Invalid;
          o.kind = OpKind.Reg; o.regClass = RegClass.SEG; o.reg = sr; o.size = 2;
          break;
        }
        case OpMethod.Z:
          o.kind = OpKind.Reg;
          this.setGpr(o, (op & 7) | ((rex & 1) << 3), regSize(size, os, mode64), rexByteRegs);
          break;
        case OpMethod.FixGpr:
          o.kind = OpKind.Reg; o.reg = code >> 10; o.size = memSize(size, os, mode64);
          break;
        case OpMethod.FixSeg:
          o.kind = OpKind.Reg; o.regClass = RegClass.SEG; o.reg = code >> 10; o.size = 2;
          break;
        case OpMethod.St0:
        case OpMethod.StI:
          o.kind = OpKind.Reg; o.regClass = RegClass.ST; o.reg = method === OpMethod.StI ? modrm & 7 : 0;
          o.size = 10;
          break;
        case OpMethod.One:
          o.kind = OpKind.Imm; o.value = 1; o.size = 1;
          break;
        case OpMethod.X:
        case OpMethod.Y:
          o.kind = method === OpMethod.X ? OpKind.StrSrc : OpKind.StrDst;
          o.size = memSize(size, os, mode64);
          break;
        case OpMethod.BxAl:
          o.kind = OpKind.Xlat; o.size = 1;
          break;
        case OpMethod.O: {
          // moffs: an address-size offset with no ModRM.
          const lo = this.le(i, as === 2 ? 2 : 4, insn);
          if (lo < 0) return this.failStatus;
          insn.disp = lo | 0;
          insn.dispHi = as === 2 ? 0 : insn.disp >> 31;
          if (as === 8) {
            const hi = this.le(i + 4, 4, insn);
            if (hi < 0) return this.failStatus;
            insn.dispHi = hi | 0;
          }
          i += as;
          insn.dispSize = as;
          this.setMem(o, memSize(size, os, mode64), insn);
          break;
        }
        case OpMethod.I:
        case OpMethod.J: {
          const n = size === OpSize.b || size === OpSize.bs ? 1 : size === OpSize.w || os === 2 ? 2 : 4;
          let val = this.le(i, n, insn);
          if (val < 0) return this.failStatus;
          i += n;
          let hi = 0;
          const signed = method === OpMethod.J || size === OpSize.bs || (n === 4 && size !== OpSize.w);
          if (signed) {
            val = n === 1 ? (val << 24) >> 24 : n === 2 ? (val << 16) >> 16 : val | 0;
            hi = val >> 31;
          }
          if (size === OpSize.v && os === 8) {
            // MOV r64, imm64 is the only 8-byte immediate.
            hi = this.le(i, 4, insn);
            if (hi < 0) return this.failStatus;
            hi |= 0;
            i += 4;
            val |= 0;
          }
          o.kind = method === OpMethod.J ? OpKind.Rel : OpKind.Imm;
          o.value = val;
          // An immediate that is extended to the operand size has that size.
          o.size = method === OpMethod.J || size === OpSize.z ? os : regSize(size, os, mode64);
          if (nImm++ === 0) {
            insn.imm = val; insn.immHi = hi; insn.immSize = size === OpSize.v && os === 8 ? 8 : n;
          } else {
            insn.imm2 = val;
          }
          break;
        }
        case OpMethod.A: {
          const n = os === 2 ? 2 : 4;
          const off = this.le(i, n, insn);
          if (off < 0) return this.failStatus;
          const sel = this.le(i + n, 2, insn);
          if (sel < 0) return this.failStatus;
          i += n + 2;
          insn.imm = off | 0;
          insn.immHi = 0;
          insn.immSize = n;
          insn.imm2 = sel;
          o.kind = OpKind.FarPtr; o.value = off | 0; o.size = n + 2;
          break;
        }
        default:
          return DecodeStatus.Invalid;
      }
    }
    insn.nOperands = k;
    insn.length = i;
    return DecodeStatus.Ok;
  }

  private setGpr(o: X86Operand, r: number, size: number, rexPresent: boolean): void {
    o.size = size;
    if (size === 1 && !rexPresent && r >= 4 && r < 8) {
      o.regClass = RegClass.GPR8_HIGH;
      o.reg = r - 4;
    } else {
      o.regClass = RegClass.GPR;
      o.reg = r;
    }
  }

  private setMem(o: X86Operand, size: number, insn: X86Insn): void {
    o.kind = OpKind.Mem;
    o.size = size;
    insn.hasMem = true;
  }

  /** Parses SIB and displacement after the ModRM byte at i-1; returns the next offset or -1. */
  private decodeMem(i: number, modrm: number, rex: number, as: number, mode64: boolean, insn: X86Insn): number {
    const mod = modrm >> 6;
    const rm = modrm & 7;
    let dispSize = mod === 1 ? 1 : mod === 2 ? (as === 2 ? 2 : 4) : 0;
    if (as === 2) {
      insn.base = BASE16[rm];
      insn.index = INDEX16[rm];
      if (mod === 0 && rm === 6) {
        insn.base = -1;
        dispSize = 2;
      }
    } else {
      let base = rm;
      if (rm === 4) {
        const sib = this.byte(i++, insn);
        if (sib < 0) return -1;
        insn.sib = sib;
        insn.scale = sib >> 6;
        const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
        insn.index = idx === 4 ? -1 : idx;
        base = sib & 7;
        if (base === 5 && mod === 0) {
          base = -1;
          dispSize = 4;
        }
      } else if (rm === 5 && mod === 0) {
        base = -1;
        dispSize = 4;
        insn.ripRelative = mode64;
      }
      insn.base = base < 0 ? -1 : base | ((rex & 1) << 3);
    }
    if (dispSize) {
      const d = this.le(i, dispSize, insn);
      if (d < 0) return -1;
      insn.disp = dispSize === 1 ? (d << 24) >> 24 : dispSize === 2 ? (d << 16) >> 16 : d | 0;
      i += dispSize;
    }
    insn.dispSize = dispSize;
    insn.dispHi = insn.disp >> 31;
    const ssBased = insn.base === 4 || insn.base === 5;
    insn.seg = insn.segOverride >= 0 ? insn.segOverride : ssBased ? Seg.SS : Seg.DS;
    return i;
  }
}
