// RISC-V (RV64GC + Zba/Zbb/Zbs + privileged) disassembler.
//
// It runs the generated decoder (decode-generated.ts, compiled from
// insn32.decode / insn16.decode) with a translator whose handlers format
// text, so the encodings have a single source of truth.
//
// Output follows `riscv64-unknown-elf-objdump -d -M no-aliases`: ABI register
// names, decimal immediates (hex for shift amounts and lui/auipc), branch and
// jump targets as absolute `0x` hex addresses (as objdump prints them when it
// has no symbols; with symbols it prints `1c <sym+0x..>`), CSR names for the common CSRs and hex otherwise,
// and the rounding mode only when it is not `dyn`.
//
// Compressed instructions: the decoder hands the handlers the arguments of
// the 32-bit expansion; the text is then rebuilt in objdump's c.* form
// (`c.addi a0,1`, `c.lw a0,4(a1)`, `c.j 1c`, ...) from the quadrant/funct3
// of the raw bits and those expanded arguments.
//
// Encodings that do not decode print like objdump's: `.4byte 0x...` for
// 32-bit and `.2byte 0x...` for 16-bit words.

import {
  decode16,
  decode32,
  type ArgAtomic,
  type ArgB,
  type ArgCsr,
  type ArgEmpty,
  type ArgFence,
  type ArgI,
  type ArgJ,
  type ArgR,
  type ArgR2,
  type ArgR2Rm,
  type ArgR4Rm,
  type ArgRRm,
  type ArgS,
  type ArgSfenceVma,
  type ArgShift,
  type ArgU,
  type RiscvTranslator,
} from './decode-generated.js';

export const XREG_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2',
  's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7',
  's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

export const FREG_NAMES: readonly string[] = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7',
  'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7',
  'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];

const CSR_NAMES = new Map<number, string>([
  // Unprivileged
  [0x001, 'fflags'], [0x002, 'frm'], [0x003, 'fcsr'], [0x015, 'seed'],
  [0xc00, 'cycle'], [0xc01, 'time'], [0xc02, 'instret'],
  // Supervisor
  [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'], [0x106, 'scounteren'],
  [0x10a, 'senvcfg'],
  [0x140, 'sscratch'], [0x141, 'sepc'], [0x142, 'scause'], [0x143, 'stval'],
  [0x144, 'sip'], [0x14d, 'stimecmp'], [0x180, 'satp'],
  // Machine
  [0xf11, 'mvendorid'], [0xf12, 'marchid'], [0xf13, 'mimpid'], [0xf14, 'mhartid'],
  [0xf15, 'mconfigptr'],
  [0x300, 'mstatus'], [0x301, 'misa'], [0x302, 'medeleg'], [0x303, 'mideleg'],
  [0x304, 'mie'], [0x305, 'mtvec'], [0x306, 'mcounteren'], [0x30a, 'menvcfg'],
  [0x320, 'mcountinhibit'],
  [0x340, 'mscratch'], [0x341, 'mepc'], [0x342, 'mcause'], [0x343, 'mtval'],
  [0x344, 'mip'], [0x34a, 'mtinst'], [0x34b, 'mtval2'],
  [0xb00, 'mcycle'], [0xb02, 'minstret'],
  [0x7a0, 'tselect'], [0x7a1, 'tdata1'], [0x7a2, 'tdata2'], [0x7a3, 'tdata3'],
  [0x7b0, 'dcsr'], [0x7b1, 'dpc'], [0x7b2, 'dscratch0'], [0x7b3, 'dscratch1'],
]);
for (let i = 3; i < 32; i++) {
  CSR_NAMES.set(0xc00 + i, `hpmcounter${i}`);
  CSR_NAMES.set(0xb00 + i, `mhpmcounter${i}`);
  CSR_NAMES.set(0x320 + i, `mhpmevent${i}`);
}
for (let i = 0; i < 16; i++) CSR_NAMES.set(0x3a0 + i, `pmpcfg${i}`);
for (let i = 0; i < 64; i++) CSR_NAMES.set(0x3b0 + i, `pmpaddr${i}`);

/** Name of a CSR as objdump prints it (hex for unknown numbers). */
export function csrName(csr: number): string {
  return CSR_NAMES.get(csr) ?? `0x${csr.toString(16)}`;
}

// Reserved rounding modes 5 and 6 print as objdump prints them.
const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'unknown', 'unknown', 'dyn'];

const x = (r: number): string => XREG_NAMES[r]!;
const f = (r: number): string => FREG_NAMES[r]!;
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const rmSuffix = (rm: number): string => (rm === 7 ? '' : `,${RM_NAMES[rm]}`);

// ------------------------------------------------------------ decode state
// The handlers write into this state (single-threaded, not re-entrant).
const st = {
  pc: 0n,
  insn: 0,
  mnem: '',
  ops: '',
  /** The argument object the decoder passed (valid until the next decode). */
  args: null as unknown as Record<string, number>,
};

function out(mnem: string, ops: string, a: object): true {
  st.mnem = mnem;
  st.ops = ops;
  st.args = a as Record<string, number>;
  return true;
}

function target(off: number): string {
  return '0x' + ((st.pc + BigInt(off)) & 0xffffffffffffffffn).toString(16);
}

// Handler factories, one per operand shape.
type H<A> = (a: A) => boolean;
const R = (m: string): H<ArgR> => (a) => out(m, `${x(a.rd)},${x(a.rs1)},${x(a.rs2)}`, a);
const R2 = (m: string): H<ArgR2> => (a) => out(m, `${x(a.rd)},${x(a.rs1)}`, a);
const I = (m: string): H<ArgI> => (a) => out(m, `${x(a.rd)},${x(a.rs1)},${a.imm}`, a);
const LOAD = (m: string): H<ArgI> => (a) => out(m, `${x(a.rd)},${a.imm}(${x(a.rs1)})`, a);
const STORE = (m: string): H<ArgS> => (a) => out(m, `${x(a.rs2)},${a.imm}(${x(a.rs1)})`, a);
const FLOAD = (m: string): H<ArgI> => (a) => out(m, `${f(a.rd)},${a.imm}(${x(a.rs1)})`, a);
const FSTORE = (m: string): H<ArgS> => (a) => out(m, `${f(a.rs2)},${a.imm}(${x(a.rs1)})`, a);
const BR = (m: string): H<ArgB> => (a) => out(m, `${x(a.rs1)},${x(a.rs2)},${target(a.imm)}`, a);
const U = (m: string): H<ArgU> => (a) => out(m, `${x(a.rd)},${hex((a.imm >>> 12) & 0xfffff)}`, a);
const SH = (m: string): H<ArgShift> => (a) => out(m, `${x(a.rd)},${x(a.rs1)},${hex(a.shamt)}`, a);
const NONE = (m: string): H<ArgEmpty> => (a) => out(m, '', a);
const CSR = (m: string): H<ArgCsr> => (a) => out(m, `${x(a.rd)},${csrName(a.csr)},${x(a.rs1)}`, a);
const CSRI = (m: string): H<ArgCsr> => (a) => out(m, `${x(a.rd)},${csrName(a.csr)},${a.rs1}`, a);

function aqrl(m: string, a: ArgAtomic): string {
  return m + (a.aq ? (a.rl ? '.aqrl' : '.aq') : a.rl ? '.rl' : '');
}
const LR = (m: string): H<ArgAtomic> => (a) => out(aqrl(m, a), `${x(a.rd)},(${x(a.rs1)})`, a);
const AMO = (m: string): H<ArgAtomic> => (a) =>
  out(aqrl(m, a), `${x(a.rd)},${x(a.rs2)},(${x(a.rs1)})`, a);

type RegFmt = (r: number) => string;
/** Three-register FP op with rounding mode: fadd.s fd,fs1,fs2[,rm]. */
const FRRM = (m: string): H<ArgRRm> => (a) =>
  out(m, `${f(a.rd)},${f(a.rs1)},${f(a.rs2)}${rmSuffix(a.rm)}`, a);
/** Fused multiply-add. */
const FR4 = (m: string): H<ArgR4Rm> => (a) =>
  out(m, `${f(a.rd)},${f(a.rs1)},${f(a.rs2)},${f(a.rs3)}${rmSuffix(a.rm)}`, a);
/** Unary op with rounding mode (fsqrt, fcvt); `withRm` false for exact conversions. */
const F2RM = (m: string, d: RegFmt, s: RegFmt, withRm = true): H<ArgR2Rm> => (a) =>
  out(m, `${d(a.rd)},${s(a.rs1)}${withRm ? rmSuffix(a.rm) : ''}`, a);
/** Three-register op without rounding mode: fsgnj/fmin/fmax (f,f,f), feq/flt/fle (x,f,f). */
const F3 = (m: string, d: RegFmt): H<ArgR> => (a) => out(m, `${d(a.rd)},${f(a.rs1)},${f(a.rs2)}`, a);
/** Unary op without rounding mode: fmv, fclass. */
const F2 = (m: string, d: RegFmt, s: RegFmt): H<ArgR2> => (a) => out(m, `${d(a.rd)},${s(a.rs1)}`, a);

const FENCE_BITS = 'iorw';
function fenceSet(v: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) if (v & (8 >> i)) s += FENCE_BITS[i];
  return s || 'unknown';
}

const T: RiscvTranslator = {
  trans_lui: U('lui'),
  trans_auipc: U('auipc'),
  trans_jal: (a: ArgJ) => out('jal', `${x(a.rd)},${target(a.imm)}`, a),
  trans_jalr: LOAD('jalr'),
  trans_beq: BR('beq'),
  trans_bne: BR('bne'),
  trans_blt: BR('blt'),
  trans_bge: BR('bge'),
  trans_bltu: BR('bltu'),
  trans_bgeu: BR('bgeu'),
  trans_lb: LOAD('lb'),
  trans_lh: LOAD('lh'),
  trans_lw: LOAD('lw'),
  trans_ld: LOAD('ld'),
  trans_lbu: LOAD('lbu'),
  trans_lhu: LOAD('lhu'),
  trans_lwu: LOAD('lwu'),
  trans_sb: STORE('sb'),
  trans_sh: STORE('sh'),
  trans_sw: STORE('sw'),
  trans_sd: STORE('sd'),
  trans_addi: I('addi'),
  trans_slti: I('slti'),
  trans_sltiu: I('sltiu'),
  trans_xori: I('xori'),
  trans_ori: I('ori'),
  trans_andi: I('andi'),
  trans_slli: SH('slli'),
  trans_srli: SH('srli'),
  trans_srai: SH('srai'),
  trans_add: R('add'),
  trans_sub: R('sub'),
  trans_sll: R('sll'),
  trans_slt: R('slt'),
  trans_sltu: R('sltu'),
  trans_xor: R('xor'),
  trans_srl: R('srl'),
  trans_sra: R('sra'),
  trans_or: R('or'),
  trans_and: R('and'),
  trans_addiw: I('addiw'),
  trans_slliw: SH('slliw'),
  trans_srliw: SH('srliw'),
  trans_sraiw: SH('sraiw'),
  trans_addw: R('addw'),
  trans_subw: R('subw'),
  trans_sllw: R('sllw'),
  trans_srlw: R('srlw'),
  trans_sraw: R('sraw'),
  trans_fence: (a: ArgFence) => {
    // FENCE.TSO: fm=1000 with pred=succ=rw.
    if (st.insn >>> 28 === 8 && a.pred === 3 && a.succ === 3) return out('fence.tso', '', a);
    return out('fence', `${fenceSet(a.pred)},${fenceSet(a.succ)}`, a);
  },
  trans_fence_i: NONE('fence.i'),
  trans_ecall: NONE('ecall'),
  trans_ebreak: NONE('ebreak'),
  trans_mret: NONE('mret'),
  trans_sret: NONE('sret'),
  trans_wfi: NONE('wfi'),
  trans_sfence_vma: (a: ArgSfenceVma) => out('sfence.vma', `${x(a.rs1)},${x(a.rs2)}`, a),
  trans_csrrw: CSR('csrrw'),
  trans_csrrs: CSR('csrrs'),
  trans_csrrc: CSR('csrrc'),
  trans_csrrwi: CSRI('csrrwi'),
  trans_csrrsi: CSRI('csrrsi'),
  trans_csrrci: CSRI('csrrci'),
  trans_mul: R('mul'),
  trans_mulh: R('mulh'),
  trans_mulhsu: R('mulhsu'),
  trans_mulhu: R('mulhu'),
  trans_div: R('div'),
  trans_divu: R('divu'),
  trans_rem: R('rem'),
  trans_remu: R('remu'),
  trans_mulw: R('mulw'),
  trans_divw: R('divw'),
  trans_divuw: R('divuw'),
  trans_remw: R('remw'),
  trans_remuw: R('remuw'),
  trans_lr_w: LR('lr.w'),
  trans_sc_w: AMO('sc.w'),
  trans_amoswap_w: AMO('amoswap.w'),
  trans_amoadd_w: AMO('amoadd.w'),
  trans_amoxor_w: AMO('amoxor.w'),
  trans_amoand_w: AMO('amoand.w'),
  trans_amoor_w: AMO('amoor.w'),
  trans_amomin_w: AMO('amomin.w'),
  trans_amomax_w: AMO('amomax.w'),
  trans_amominu_w: AMO('amominu.w'),
  trans_amomaxu_w: AMO('amomaxu.w'),
  trans_lr_d: LR('lr.d'),
  trans_sc_d: AMO('sc.d'),
  trans_amoswap_d: AMO('amoswap.d'),
  trans_amoadd_d: AMO('amoadd.d'),
  trans_amoxor_d: AMO('amoxor.d'),
  trans_amoand_d: AMO('amoand.d'),
  trans_amoor_d: AMO('amoor.d'),
  trans_amomin_d: AMO('amomin.d'),
  trans_amomax_d: AMO('amomax.d'),
  trans_amominu_d: AMO('amominu.d'),
  trans_amomaxu_d: AMO('amomaxu.d'),
  trans_flw: FLOAD('flw'),
  trans_fsw: FSTORE('fsw'),
  trans_fld: FLOAD('fld'),
  trans_fsd: FSTORE('fsd'),
  trans_fmadd_s: FR4('fmadd.s'),
  trans_fmsub_s: FR4('fmsub.s'),
  trans_fnmsub_s: FR4('fnmsub.s'),
  trans_fnmadd_s: FR4('fnmadd.s'),
  trans_fmadd_d: FR4('fmadd.d'),
  trans_fmsub_d: FR4('fmsub.d'),
  trans_fnmsub_d: FR4('fnmsub.d'),
  trans_fnmadd_d: FR4('fnmadd.d'),
  trans_fadd_s: FRRM('fadd.s'),
  trans_fsub_s: FRRM('fsub.s'),
  trans_fmul_s: FRRM('fmul.s'),
  trans_fdiv_s: FRRM('fdiv.s'),
  trans_fsqrt_s: F2RM('fsqrt.s', f, f),
  trans_fsgnj_s: F3('fsgnj.s', f),
  trans_fsgnjn_s: F3('fsgnjn.s', f),
  trans_fsgnjx_s: F3('fsgnjx.s', f),
  trans_fmin_s: F3('fmin.s', f),
  trans_fmax_s: F3('fmax.s', f),
  trans_fcvt_w_s: F2RM('fcvt.w.s', x, f),
  trans_fcvt_wu_s: F2RM('fcvt.wu.s', x, f),
  trans_fcvt_l_s: F2RM('fcvt.l.s', x, f),
  trans_fcvt_lu_s: F2RM('fcvt.lu.s', x, f),
  trans_fmv_x_w: F2('fmv.x.w', x, f),
  trans_feq_s: F3('feq.s', x),
  trans_flt_s: F3('flt.s', x),
  trans_fle_s: F3('fle.s', x),
  trans_fclass_s: F2('fclass.s', x, f),
  trans_fcvt_s_w: F2RM('fcvt.s.w', f, x),
  trans_fcvt_s_wu: F2RM('fcvt.s.wu', f, x),
  trans_fcvt_s_l: F2RM('fcvt.s.l', f, x),
  trans_fcvt_s_lu: F2RM('fcvt.s.lu', f, x),
  trans_fmv_w_x: F2('fmv.w.x', f, x),
  trans_fadd_d: FRRM('fadd.d'),
  trans_fsub_d: FRRM('fsub.d'),
  trans_fmul_d: FRRM('fmul.d'),
  trans_fdiv_d: FRRM('fdiv.d'),
  trans_fsqrt_d: F2RM('fsqrt.d', f, f),
  trans_fsgnj_d: F3('fsgnj.d', f),
  trans_fsgnjn_d: F3('fsgnjn.d', f),
  trans_fsgnjx_d: F3('fsgnjx.d', f),
  trans_fmin_d: F3('fmin.d', f),
  trans_fmax_d: F3('fmax.d', f),
  trans_fcvt_s_d: F2RM('fcvt.s.d', f, f),
  trans_fcvt_d_s: F2RM('fcvt.d.s', f, f, false),
  trans_feq_d: F3('feq.d', x),
  trans_flt_d: F3('flt.d', x),
  trans_fle_d: F3('fle.d', x),
  trans_fclass_d: F2('fclass.d', x, f),
  trans_fcvt_w_d: F2RM('fcvt.w.d', x, f),
  trans_fcvt_wu_d: F2RM('fcvt.wu.d', x, f),
  trans_fcvt_l_d: F2RM('fcvt.l.d', x, f),
  trans_fcvt_lu_d: F2RM('fcvt.lu.d', x, f),
  trans_fmv_x_d: F2('fmv.x.d', x, f),
  trans_fcvt_d_w: F2RM('fcvt.d.w', f, x, false),
  trans_fcvt_d_wu: F2RM('fcvt.d.wu', f, x, false),
  trans_fcvt_d_l: F2RM('fcvt.d.l', f, x),
  trans_fcvt_d_lu: F2RM('fcvt.d.lu', f, x),
  trans_fmv_d_x: F2('fmv.d.x', f, x),
  trans_sh1add: R('sh1add'),
  trans_sh2add: R('sh2add'),
  trans_sh3add: R('sh3add'),
  trans_add_uw: R('add.uw'),
  trans_sh1add_uw: R('sh1add.uw'),
  trans_sh2add_uw: R('sh2add.uw'),
  trans_sh3add_uw: R('sh3add.uw'),
  trans_slli_uw: SH('slli.uw'),
  trans_andn: R('andn'),
  trans_orn: R('orn'),
  trans_xnor: R('xnor'),
  trans_clz: R2('clz'),
  trans_ctz: R2('ctz'),
  trans_cpop: R2('cpop'),
  trans_clzw: R2('clzw'),
  trans_ctzw: R2('ctzw'),
  trans_cpopw: R2('cpopw'),
  trans_max: R('max'),
  trans_maxu: R('maxu'),
  trans_min: R('min'),
  trans_minu: R('minu'),
  trans_sext_b: R2('sext.b'),
  trans_sext_h: R2('sext.h'),
  trans_zext_h: R2('zext.h'),
  trans_rol: R('rol'),
  trans_ror: R('ror'),
  trans_rori: SH('rori'),
  trans_rolw: R('rolw'),
  trans_rorw: R('rorw'),
  trans_roriw: SH('roriw'),
  trans_orc_b: R2('orc.b'),
  trans_rev8: R2('rev8'),
  trans_bclr: R('bclr'),
  trans_bclri: SH('bclri'),
  trans_bext: R('bext'),
  trans_bexti: SH('bexti'),
  trans_binv: R('binv'),
  trans_binvi: SH('binvi'),
  trans_bset: R('bset'),
  trans_bseti: SH('bseti'),
};

/**
 * objdump's c.* text for a compressed instruction, rebuilt from the raw bits
 * (quadrant, funct3) and the arguments of its 32-bit expansion `mnem`.
 */
function compressedText(insn: number, mnem: string, a: Record<string, number>): [string, string] {
  const q = insn & 3;
  const f3 = (insn >>> 13) & 7;
  const rd = a.rd!;
  const rs1 = a.rs1!;
  const rs2 = a.rs2!;
  const imm = a.imm!;
  const mem = (r: string): string => `${r},${imm}(${x(rs1)})`;
  if (q === 0) {
    switch (f3) {
      case 0: return ['c.addi4spn', `${x(rd)},sp,${imm}`];
      case 1: return ['c.fld', mem(f(rd))];
      case 2: return ['c.lw', mem(x(rd))];
      case 3: return ['c.ld', mem(x(rd))];
      case 5: return ['c.fsd', mem(f(rs2))];
      case 6: return ['c.sw', mem(x(rs2))];
      default: return ['c.sd', mem(x(rs2))];
    }
  }
  if (q === 1) {
    switch (f3) {
      case 0: return ['c.addi', `${x(rd)},${imm}`];
      case 1: return ['c.addiw', `${x(rd)},${imm}`];
      case 2: return ['c.li', `${x(rd)},${imm}`];
      case 3:
        return mnem === 'addi'
          ? ['c.addi16sp', `sp,${imm}`]
          : ['c.lui', `${x(rd)},${hex((imm >>> 12) & 0xfffff)}`];
      case 4:
        if (mnem === 'srli' || mnem === 'srai')
          return a.shamt ? [`c.${mnem}`, `${x(rd)},${hex(a.shamt!)}`] : [`c.${mnem}64`, x(rd)];
        if (mnem === 'andi') return ['c.andi', `${x(rd)},${imm}`];
        return [`c.${mnem}`, `${x(rd)},${x(rs2)}`]; // c.sub c.xor c.or c.and c.subw c.addw
      case 5: return ['c.j', target(imm)];
      case 6: return ['c.beqz', `${x(rs1)},${target(imm)}`];
      default: return ['c.bnez', `${x(rs1)},${target(imm)}`];
    }
  }
  switch (f3) {
    case 0: return a.shamt ? ['c.slli', `${x(rd)},${hex(a.shamt!)}`] : ['c.slli64', x(rd)];
    case 1: return ['c.fldsp', mem(f(rd))];
    case 2: return ['c.lwsp', mem(x(rd))];
    case 3: return ['c.ldsp', mem(x(rd))];
    case 4:
      if (mnem === 'ebreak') return ['c.ebreak', ''];
      if (mnem === 'jalr') return [rd === 0 ? 'c.jr' : 'c.jalr', x(rs1)];
      return [(insn >>> 12) & 1 ? 'c.add' : 'c.mv', `${x(rd)},${x(rs2)}`];
    case 5: return ['c.fsdsp', mem(f(rs2))];
    case 6: return ['c.swsp', mem(x(rs2))];
    default: return ['c.sdsp', mem(x(rs2))];
  }
}

function format(mnem: string, ops: string): string {
  return ops ? `${mnem.padEnd(7)} ${ops}` : mnem;
}

/**
 * Disassemble one instruction. `insn` holds the raw bits: a compressed
 * instruction when `(insn & 3) !== 3` (only the low 16 bits are used), else
 * a 32-bit one. `pc` is its address (for branch and jump targets).
 */
export function disassemble(insn: number, pc: bigint): string {
  st.pc = pc;
  if ((insn & 3) !== 3) {
    const h = insn & 0xffff;
    st.insn = h;
    if (!decode16(T, h)) return `.2byte  0x${h.toString(16)}`;
    const [m, ops] = compressedText(h, st.mnem, st.args);
    return format(m, ops);
  }
  const w = insn >>> 0;
  st.insn = w;
  if (!decode32(T, w)) return `.4byte  0x${w.toString(16)}`;
  return format(st.mnem, st.ops);
}

/** Length in bytes of the instruction whose first 16 bits are `lo16`. */
export function insnLength(lo16: number): 2 | 4 {
  return (lo16 & 3) === 3 ? 4 : 2;
}
