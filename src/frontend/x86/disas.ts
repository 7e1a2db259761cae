// x86 disassembler: Intel syntax exactly as GNU objdump (binutils 2.40) prints it
// with `-M intel` (and `-M intel64` in 64-bit code, i.e. Intel's treatment of the
// 66 prefix on near branches).  It formats a decoded X86Insn, so the opcode
// table is the only source of truth for what an encoding means.
//
// objdump conventions reproduced here:
//  * `mnemonic` padded to 6 columns then one space, operands comma-separated;
//  * prefixes the instruction did not use are printed as words before the
//    mnemonic (data16, addr32, rex.W, cs, repz, lock ...), in byte order;
//  * memory: `DWORD PTR fs:[eax+ebx*4+0x10]`, a displacement without base or index
//    as `ds:0x1234`, a SIB byte without index as `eiz`/`riz`, RIP-relative
//    operands followed by `        # 0x<target>`;
//  * immediates in hex, extended to the operand size; branch targets absolute.

import {
  OpMethod,
  OpSize,
  X86Flag,
  X86Handler,
  X86_ENTRY_MNEMONIC,
  X86_ENTRY_OPERANDS,
} from './decode-generated.js';
import {
  DecodeStatus,
  OpKind,
  RegClass,
  Seg,
  X86Decoder,
  X86Insn,
  type ByteReader,
  type X86Operand,
} from './decode.js';

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
  'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di',
  'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const GPR8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil',
  'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const GPR8_HIGH = ['ah', 'ch', 'dh', 'bh'];
const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const COND_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const CMP_PREDICATES = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'];
const REX_W = 8, REX_R = 4, REX_X = 2, REX_B = 1, REX_USED = 0x40;

export function gprName(reg: number, size: number): string {
  switch (size) {
    case 1: return GPR8[reg];
    case 2: return GPR16[reg];
    case 8: return GPR64[reg];
    default: return GPR32[reg];
  }
}

/** Per-instruction formatting state: which prefixes and REX bits the text consumed. */
interface Used {
  opsize: boolean;
  addr: boolean;
  seg: boolean;
  rex: number;
  /** RIP-relative target for the trailing comment, or -1n. */
  ripTarget: bigint;
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

function mask(v: bigint, bytes: number): bigint {
  return BigInt.asUintN(bytes * 8, v);
}

function ptrName(o: X86Operand): string {
  switch (((o.code >> 5) & 31) as OpSize) {
    case OpSize.None: case OpSize.s: case OpSize.e: case OpSize.st: case OpSize.fx: case OpSize.xu: return '';
    case OpSize.o: return 'OWORD PTR ';
    case OpSize.dq: case OpSize.ps: case OpSize.pd: case OpSize.x: return 'XMMWORD PTR ';
    default:
      switch (o.size) {
        case 1: return 'BYTE PTR ';
        case 2: return 'WORD PTR ';
        case 4: return 'DWORD PTR ';
        case 6: return 'FWORD PTR ';
        case 8: return 'QWORD PTR ';
        case 10: return 'TBYTE PTR ';
        case 16: return 'XMMWORD PTR ';
        default: return '';
      }
  }
}

function addrReg(reg: number, addrSize: number): string {
  return addrSize === 2 ? GPR16[reg] : addrSize === 4 ? GPR32[reg] : GPR64[reg];
}

/** `seg:` shown in a memory operand: 64-bit mode ignores ES/CS/SS/DS overrides, so objdump prints those as prefixes. */
function segPrefix(insn: X86Insn, used: Used, dflt: string): string {
  const s = insn.segOverride;
  if (s >= 0 && (insn.codeSize !== 64 || s >= 4)) {
    used.seg = true;
    return SEG_NAMES[s] + ':';
  }
  return dflt ? dflt + ':' : '';
}

function formatDisp(d: number): string {
  return d < 0 ? '-' + hex(-d) : '+' + hex(d);
}

function formatMem(insn: X86Insn, o: X86Operand, pc: bigint, used: Used): string {
  const as = insn.addrSize;
  // objdump gives moffs operands no size.
  const ptr = insn.modrm < 0 ? '' : ptrName(o);
  const mode64 = insn.codeSize === 64;
  if (insn.modrm < 0 || insn.dispSize === 8 || (insn.base < 0 && insn.index < 0 && !insn.ripRelative && insn.sib < 0) ||
      (insn.base < 0 && insn.index < 0 && insn.sib >= 0 && mode64 && as === 8)) {
    // Absolute: moffs, [disp32], [disp16], and 64-bit SIB without base or index.
    let addr: bigint;
    if (insn.dispSize === 8) addr = mask((BigInt(insn.dispHi) << 32n) | BigInt(insn.disp >>> 0), 8);
    else if (as === 2) addr = BigInt(insn.disp & 0xffff);
    else if (mode64 && as === 8) addr = mask(BigInt(insn.disp), 8);
    else addr = BigInt(insn.disp >>> 0);
    // objdump counts the address size as used by [disp16] but not by [disp32].
    if (insn.modrm >= 0 && as === 2) used.addr = true;
    if (mode64 && insn.modrm >= 0) used.rex |= REX_B;
    return ptr + segPrefix(insn, used, 'ds') + hex(addr);
  }
  used.addr = true;
  // objdump marks REX.B used by any ModRM memory operand, even without a base register.
  if (mode64) used.rex |= REX_B;
  let s = '[';
  if (insn.ripRelative) {
    s += as === 8 ? 'rip' : 'eip';
    const next = pc + BigInt(insn.length);
    used.ripTarget = mask(next + BigInt(insn.disp), as);
  } else if (insn.base >= 0) {
    s += addrReg(insn.base, as);
  }
  if (insn.sib >= 0) {
    if (mode64) used.rex |= REX_X;
    const noBaseNoIndex = insn.base < 0 && insn.index < 0;
    // objdump shows the SIB index slot unless the SIB byte is the plain [esp]/[r12] form.
    if (insn.index >= 0 || insn.scale !== 0 || noBaseNoIndex || (insn.base >= 0 && (insn.sib & 7) !== 4)) {
      if (insn.base >= 0) s += '+';
      s += insn.index >= 0 ? addrReg(insn.index, as) : as === 8 ? 'riz' : 'eiz';
      s += '*' + (1 << insn.scale);
    }
    if (noBaseNoIndex) {
      // [eiz*n+disp32]: 64-bit code with a 67 prefix shows the displacement zero-extended.
      s += mode64 ? '+' + hex(insn.disp >>> 0) : formatDisp(insn.disp);
      return ptr + segPrefix(insn, used, '') + s + ']';
    }
  } else if (insn.index >= 0) {
    s += '+' + addrReg(insn.index, as);
  }
  // objdump writes a negative RIP/EIP displacement as a 64-bit two's complement.
  if (insn.ripRelative) s += '+' + hex(mask(BigInt(insn.disp), 8));
  else if (insn.dispSize > 0) s += formatDisp(insn.disp);
  return ptr + segPrefix(insn, used, '') + s + ']';
}

function regName(o: X86Operand, used: Used, method: OpMethod): string {
  switch (o.regClass) {
    case RegClass.GPR8_HIGH: return GPR8_HIGH[o.reg];
    case RegClass.GPR:
      if (o.size === 1 && (o.reg & 4)) used.rex |= REX_USED;
      return gprName(o.reg, o.size);
    case RegClass.SEG: return SEG_NAMES[o.reg];
    case RegClass.CR: return 'cr' + o.reg;
    case RegClass.DR: return 'dr' + o.reg;
    case RegClass.MMX: return 'mm' + o.reg;
    case RegClass.XMM: return 'xmm' + o.reg;
    case RegClass.ST: return method === OpMethod.St0 ? 'st' : `st(${o.reg})`;
  }
}

function formatImm(o: X86Operand, insn: X86Insn, first: boolean): string {
  const size = ((o.code >> 5) & 31) as OpSize;
  if (size === OpSize.b) return hex(o.value & 0xff);
  if (size === OpSize.w) return hex(o.value & 0xffff);
  const hi = first ? insn.immHi : o.value >> 31;
  const v = (BigInt(hi) << 32n) | BigInt(o.value >>> 0);
  return hex(mask(v, o.size));
}

/** Which prefixes an entry's text depends on: the 66 prefix and REX.W. */
function sizeUse(insn: X86Insn, mnem: string): { uses66: boolean; usesW: boolean } {
  let uses66 = /[%|^$]/.test(mnem) && !mnem.startsWith('@');
  let usesW = (/[%|~]/.test(mnem) && !mnem.startsWith('@')) || (insn.flags & X86Flag.SelW) !== 0;
  for (let k = 0; k < 4; k++) {
    const code = X86_ENTRY_OPERANDS[insn.entry * 4 + k];
    if (code === 0) break;
    const method = (code & 31) as OpMethod;
    switch (((code >> 5) & 31) as OpSize) {
      case OpSize.vw:
        // Only the register form has the operand size; memory is always 16-bit.
        if (insn.mod === 3) { uses66 = true; usesW = true; }
        break;
      case OpSize.v: case OpSize.bs: case OpSize.a:
        uses66 = true; usesW = true; break;
      case OpSize.z:
        uses66 = true;
        if (method === OpMethod.I) usesW = true;
        break;
      case OpSize.p: case OpSize.e: case OpSize.st:
        uses66 = true; break;
      case OpSize.y:
        usesW = true; break;
    }
  }
  if (insn.codeSize === 64) {
    if (insn.flags & X86Flag.F64) uses66 = usesW = false;
    if (insn.flags & X86Flag.D64) usesW = false;
    // REX.W overrides 66.
    if (insn.rex & REX_W) uses66 = false;
  }
  return { uses66, usesW };
}

function mnemonicText(insn: X86Insn, used: Used): string {
  let m = X86_ENTRY_MNEMONIC[insn.entry];
  const os = insn.opSize;
  const mode64 = insn.codeSize === 64;
  const letter = os === 2 ? 'w' : os === 4 ? 'd' : 'q';
  if (m.startsWith('@')) {
    used.addr = true;
    const alts = m.slice(1).split('|');
    m = alts[insn.addrSize === 2 ? 0 : insn.addrSize === 4 ? 1 : 2];
  } else if (m.includes('|')) {
    const alts = m.split('|');
    m = alts[os === 2 ? 0 : os === 4 ? 1 : 2];
  }
  if (m.endsWith('%')) {
    const dflt = insn.codeSize === 16 ? 2 : mode64 && insn.flags & (X86Flag.D64 | X86Flag.F64) ? 8 : 4;
    m = m.slice(0, -1) + (os !== dflt ? letter : '');
  } else if (m.endsWith('$')) {
    const dflt = insn.codeSize === 16 ? 2 : 4;
    const size = os === 8 ? 4 : os;
    m = m.slice(0, -1) + (size !== dflt ? (size === 2 ? 'w' : 'd') : '');
  } else if (m.endsWith('^')) {
    m = m.slice(0, -1) + (mode64 ? '' : letter);
  } else if (m.endsWith('~')) {
    m = m.slice(0, -1) + (mode64 ? (insn.rex & REX_W ? 'q' : 'd') : '');
  }
  if (m.includes('*')) m = m.replace('*', COND_NAMES[insn.cond]);
  // MOV with a 64-bit immediate or a 64-bit moffs.
  if (insn.handler === X86Handler.MOV && (insn.immSize === 8 || insn.dispSize === 8) && insn.modrm < 0) m = 'movabs';
  return m;
}

/** Near CALL/JMP/RET/Jcc, where objdump calls F2 `bnd` (MPX) and 3E on an indirect one `notrack` (CET). */
function isNearBranch(insn: X86Insn): boolean {
  const h = insn.handler;
  return h === X86Handler.CALL || h === X86Handler.JMP || h === X86Handler.RET || h === X86Handler.JCC;
}

function repName(insn: X86Insn, b: number): string {
  if (b === 0xf2) return isNearBranch(insn) ? 'bnd' : 'repnz';
  return insn.flags & X86Flag.Rep ? 'rep' : 'repz';
}

/**
 * Formats a decoded instruction as objdump's Intel syntax (without address and bytes).
 * `pc` is the address of the instruction (branch targets and RIP-relative comments).
 */
export function disassemble(insn: X86Insn, pc: bigint): string {
  const used: Used = { opsize: false, addr: false, seg: false, rex: 0, ripTarget: -1n };
  const mode64 = insn.codeSize === 64;
  const mnemRaw = X86_ENTRY_MNEMONIC[insn.entry];
  let mnem = mnemonicText(insn, used);
  const su = sizeUse(insn, mnemRaw);
  used.opsize = su.uses66;
  if (su.usesW) used.rex |= REX_W;

  let nOps = insn.nOperands;
  const h = insn.handler;
  if ((h === X86Handler.CMPPS || h === X86Handler.CMPPD || h === X86Handler.CMPSS || h === X86Handler.CMPSD) &&
      (insn.imm & 0xff) < 8) {
    // objdump prints the SSE compare predicates as pseudo-op mnemonics.
    mnem = 'cmp' + CMP_PREDICATES[insn.imm & 0xff] + mnem.slice(3);
    nOps--;
  }

  const parts: string[] = [];
  if (h === X86Handler.NOP && insn.map === 0 && insn.opsizePrefix && !(insn.rex & REX_W)) {
    // 66 90: objdump shows the xchg that 90 is.
    const r = gprName(0, insn.opSize);
    mnem = 'xchg';
    parts.push(r, r);
    used.opsize = true;
  }
  let firstImm = true;
  for (let k = 0; k < nOps; k++) {
    const o = insn.operands[k];
    const method = (o.code & 31) as OpMethod;
    switch (o.kind) {
      case OpKind.Reg:
        parts.push(regName(o, used, method));
        if (mode64) {
          if (method === OpMethod.G || method === OpMethod.V || method === OpMethod.C || method === OpMethod.D) {
            if (insn.rex & REX_R) used.rex |= REX_R;
          } else if (method === OpMethod.E || method === OpMethod.R || method === OpMethod.W ||
                     method === OpMethod.U || method === OpMethod.Z) {
            if (insn.rex & REX_B) used.rex |= REX_B;
          }
        }
        break;
      case OpKind.Mem:
        parts.push(formatMem(insn, o, pc, used));
        break;
      case OpKind.Imm:
        parts.push(method === OpMethod.One ? '1' : formatImm(o, insn, firstImm));
        firstImm = false;
        break;
      case OpKind.Rel: {
        const next = pc + BigInt(insn.length);
        // objdump wraps targets at 64K only for a 16-bit operand size in 32/64-bit code.
        parts.push(hex(mask(next + BigInt(o.value), insn.codeSize === 16 ? 4 : insn.opSize)));
        break;
      }
      case OpKind.FarPtr:
        parts.push(hex(insn.imm2) + ':' + hex(insn.imm >>> 0));
        break;
      case OpKind.StrSrc:
      case OpKind.StrDst:
      case OpKind.Xlat: {
        used.addr = true;
        const reg = o.kind === OpKind.StrSrc ? 6 : o.kind === OpKind.StrDst ? 7 : 3;
        let seg = 'es:';
        if (o.kind !== OpKind.StrDst) seg = segPrefix(insn, used, 'ds');
        parts.push(ptrName(o) + seg + '[' + addrReg(reg, insn.addrSize) + ']');
        break;
      }
    }
  }

  // Prefixes the text did not account for, in byte order.
  const words: string[] = [];
  const lastRex = mode64 && insn.rex ? insn.prefixCount - 1 : -1;
  for (let k = 0; k < insn.prefixCount; k++) {
    const b = insn.prefixes[k];
    switch (b) {
      case 0x66:
        if (insn.mandatoryPrefix !== 0x66 && !used.opsize) words.push(insn.codeSize === 16 ? 'data32' : 'data16');
        break;
      case 0x67:
        if (!used.addr) words.push(insn.codeSize === 32 ? 'addr16' : 'addr32');
        break;
      case 0xf0: words.push('lock'); break;
      case 0xf2: case 0xf3:
        if (!(insn.mandatoryPrefix === b && b === insn.rep)) words.push(repName(insn, b));
        break;
      case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: {
        const s = b === 0x26 ? 0 : b === 0x2e ? 1 : b === 0x36 ? 2 : b === 0x3e ? 3 : b === 0x64 ? 4 : 5;
        if (used.seg && s === insn.segOverride) break;
        const indirect = isNearBranch(insn) && insn.modrm >= 0;
        words.push(s === Seg.DS && indirect && s === insn.segOverride ? 'notrack' : SEG_NAMES[s]);
        break;
      }
      default: {
        // REX: dropped when every bit it sets was used.
        let usedBits = used.rex & b;
        if (usedBits) usedBits |= REX_USED;
        if (k === lastRex && (used.rex & REX_USED)) usedBits |= REX_USED;
        if (k !== lastRex || usedBits !== b) {
          const bits = (b & REX_W ? 'W' : '') + (b & REX_R ? 'R' : '') + (b & REX_X ? 'X' : '') + (b & REX_B ? 'B' : '');
          words.push(bits ? 'rex.' + bits : 'rex');
        }
      }
    }
  }
  words.push(mnem);
  let text = words.join(' ');
  if (parts.length) text = text.padEnd(6) + ' ' + parts.join(',');
  if (used.ripTarget >= 0n) text += '        # ' + hex(used.ripTarget);
  return text;
}

const scratchDecoder = new X86Decoder();
const scratchInsn = new X86Insn();

/**
 * Decodes and formats one instruction at `pc` (for logs and debuggers). Bytes that do
 * not decode print as objdump's `(bad)` with length 1; a fetch fault as `(fetch fault)`.
 */
export function disassembleAt(read: ByteReader, codeSize: 16 | 32 | 64, pc: bigint): { length: number; text: string } {
  const st = scratchDecoder.decode(read, codeSize, scratchInsn);
  if (st === DecodeStatus.Ok) return { length: scratchInsn.length, text: disassemble(scratchInsn, pc) };
  if (st === DecodeStatus.FetchFault) return { length: 0, text: '(fetch fault)' };
  return { length: 1, text: '(bad)' };
}
