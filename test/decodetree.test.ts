// Tests for tools/decodetree.mjs (the decoder generator), the RISC-V decode
// files compiled with it, and the RISC-V disassembler.
//
// The RISC-V part assembles every instruction of the supported extensions
// with riscv64-unknown-elf-as and checks (1) that the generated decoder calls
// the right trans_<name> handler with the right arguments and (2) that
// disassemble() prints what `riscv64-unknown-elf-objdump -d -M no-aliases`
// prints. Without the binutils the objdump-based tests skip, except under
// CI=true where they must run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The generator is plain JavaScript without type declarations.
type GenerateDecoder = (opts: {
  inputs: { path: string; insnBits: 16 | 32; funcName: string; text?: string }[];
  output?: string;
  translatorName?: string;
}) => string;
const { generateDecoder } = (await import('../tools/decodetree.mjs' as string)) as {
  generateDecoder: GenerateDecoder;
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RV = join(ROOT, 'src/frontend/riscv');
const AS = 'riscv64-unknown-elf-as';
const OBJDUMP = 'riscv64-unknown-elf-objdump';

function hasTool(t: string): boolean {
  try {
    execFileSync(t, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_BINUTILS = hasTool(AS) && hasTool(OBJDUMP);
// Under CI the tools are installed: never skip there (a missing tool fails).
const RUN_BINUTILS = HAVE_BINUTILS || process.env.CI === 'true';

type Args = Record<string, number>;
type Call = [name: string, args: Args];
type DecodeFn = (t: unknown, insn: number) => boolean;

const tmp = mkdtempSync(join(tmpdir(), 'decodetree-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Generate a decoder from decode-file texts and load it: the TypeScript output
 * is transpiled to CommonJS in memory and evaluated (no files needed).
 */
async function compile(
  files: { text: string; bits?: 16 | 32; func?: string; path?: string }[],
): Promise<Record<string, unknown>> {
  const ts = (await import('typescript')).default;
  const inputs = files.map((f, i) => ({
    path: f.path ?? `t${i}.decode`,
    insnBits: f.bits ?? 32,
    funcName: f.func ?? `dec${i}`,
    text: f.text,
  }));
  const src = generateDecoder({ inputs, translatorName: 'T' });
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exports: Record<string, unknown> = {};
  new Function('exports', js)(exports);
  return exports;
}

/** A translator that records every call; handlers return `result(name)` (default true). */
function recorder(result: (name: string) => boolean = () => true) {
  const calls: Call[] = [];
  const t = new Proxy(
    {},
    {
      get: (_o, prop) => (a: Args) => {
        const name = String(prop).replace(/^trans_/, '');
        calls.push([name, { ...a }]);
        return result(name);
      },
    },
  );
  return { t, calls };
}

function genError(text: string, bits: 16 | 32 = 32): string {
  try {
    generateDecoder({ inputs: [{ path: 'bad.decode', insnBits: bits, funcName: 'd', text }] });
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

// ===========================================================================
describe('decodetree generator', () => {
  it('extracts signed, unsigned and multi-segment fields with !shl and !add', async () => {
    const m = await compile([
      {
        text: `
%simm    20:s12
%uimm    20:12
%multi   31:s1 7:1 25:6 8:4  !shl=1   # RISC-V B-type offset
%reg3    7:3 !add=8
%hi      12:s20 !shl=12
&f a b c
&g v
pf   ........................ .0000001   &f a=%simm b=%uimm c=%reg3
pm   ........................ .0000010   &f a=%multi b=%hi c=-7
pi   v:s8 ................ . 0000011   &g
`,
      },
    ]);
    const dec = m.dec0 as DecodeFn;
    const { t, calls } = recorder();
    expect(dec(t, 0x80000001 | (5 << 7))).toBe(true); // imm field = 0x800 -> -2048
    expect(calls.pop()).toEqual(['pf', { a: -2048, b: 2048, c: 13 }]);
    expect(dec(t, 0x7ff00001)).toBe(true);
    expect(calls.pop()).toEqual(['pf', { a: 2047, b: 2047, c: 8 }]);
    // beq x0,x0,-4096: imm[12]=1, everything else 0.
    expect(dec(t, 0x80000002)).toBe(true);
    expect(calls.pop()).toEqual(['pm', { a: -4096, b: -0x80000000, c: -7 }]);
    // offset +4094: all bits of the offset set except the sign.
    const b4094 = (0x3f << 25) | (0xf << 8) | (1 << 7) | 2;
    expect(dec(t, b4094)).toBe(true);
    expect(calls.pop()![1].a).toBe(4094);
    expect(dec(t, 0xfe000003)).toBe(true);
    expect(calls.pop()).toEqual(['pi', { v: -2 }]);
    expect(dec(t, 0x7f000003)).toBe(true);
    expect(calls.pop()).toEqual(['pi', { v: 127 }]);
    expect(dec(t, 0x00000004)).toBe(false);
    expect(dec(t, 0x00000005)).toBe(false); // no such opcode
    expect(dec(t, 0x00000081)).toBe(true); // bit 7 is don't-care in pf
    expect(calls.pop()).toEqual(['pf', { a: 0, b: 0, c: 9 }]); // reg3 = bits 9:7 + 8
  });

  it('merges formats with pattern bits and lets patterns override assignments', async () => {
    const m = await compile([
      {
        text: `
%rd  7:5
%rs  15:5
&r  rd rs
@fmt  ....... ..... ..... ... ..... 0110011  &r %rd %rs
add   0000000 ..... ..... 000 ..... .......  @fmt
mv    0000000 ..... ..... 001 ..... .......  @fmt rs=0
`,
      },
    ]);
    const dec = m.dec0 as DecodeFn;
    const { t, calls } = recorder();
    expect(dec(t, 0x00b50533)).toBe(true); // add a0,a0,a1 shape
    expect(calls.pop()).toEqual(['add', { rd: 10, rs: 10 }]);
    expect(dec(t, 0x00b51533)).toBe(true);
    expect(calls.pop()).toEqual(['mv', { rd: 10, rs: 0 }]);
    expect(dec(t, 0x00b51513)).toBe(false); // opcode fixed by the format
    expect(typeof m.TRANS_NAMES).toBe('object');
    expect(m.TRANS_NAMES).toEqual(['trans_add', 'trans_mv']);
  });

  it('tries overlap-group members in order and honours !reserved', async () => {
    const m = await compile([
      {
        bits: 16,
        text: `
%r   7:5
%i   2:5
&x   r i
&empty
{
  !reserved  000 0 00000 00000 00
  special    000 0 00001 ..... 00 &x %r %i
  general    000 . ..... ..... 00 &x %r %i
}
[
  other      001 . ..... ..... 00 &x %r i=3
]
{
  [
    n1       010 0 ..... ..... 00 &empty
    n2       010 1 ..... ..... 00 &empty
  ]
  fallback   010 . ..... ..... 00 &x %r i=9
}
`,
      },
    ]);
    const dec = m.dec0 as DecodeFn;
    let { t, calls } = recorder();
    expect(dec(t, 0x0000)).toBe(false); // reserved
    expect(calls).toEqual([]);
    expect(dec(t, 0x0080 | (4 << 2))).toBe(true);
    expect(calls).toEqual([['special', { r: 1, i: 4 }]]);
    // special declines -> general is tried next.
    ({ t, calls } = recorder((n) => n !== 'special'));
    expect(dec(t, 0x0080 | (4 << 2))).toBe(true);
    expect(calls.map((c) => c[0])).toEqual(['special', 'general']);
    // nothing accepts -> false
    ({ t, calls } = recorder(() => false));
    expect(dec(t, 0x1080)).toBe(false);
    expect(calls.map((c) => c[0])).toEqual(['general']);
    ({ t, calls } = recorder());
    expect(dec(t, 0x2000 | (7 << 7))).toBe(true);
    expect(calls).toEqual([['other', { r: 7, i: 3 }]]);
    // nested non-overlapping group inside an overlap group
    expect(dec(t, 0x4000)).toBe(true);
    expect(dec(t, 0x5000)).toBe(true);
    expect(calls.slice(1).map((c) => c[0])).toEqual(['n1', 'n2']);
    ({ t, calls } = recorder((n) => n === 'fallback'));
    expect(dec(t, 0x5000 | (3 << 7))).toBe(true);
    expect(calls).toEqual([['n2', {}], ['fallback', { r: 3, i: 9 }]]);
    expect(dec(t, 0x6000)).toBe(false);
  });

  it('decodes item sets without a common fixed bit (linear fallback)', async () => {
    const m = await compile([
      {
        text: `
&e
pa  ........ ........ ........ .....000 &e
pb  ........ ........ ........ .....01. &e
pc  ........ ........ ........ .....1.1 &e
`,
      },
    ]);
    const dec = m.dec0 as DecodeFn;
    const { t, calls } = recorder();
    const names: string[] = [];
    for (let v = 0; v < 8; v++) {
      calls.length = 0;
      names.push(dec(t, v) ? calls[0]![0] : '-');
    }
    expect(names).toEqual(['pa', '-', 'pb', 'pb', '-', 'pc', '-', 'pc']);
  });

  it('reports overlapping patterns and other errors with file:line', () => {
    expect(genError('&e\na 0000000000000000 ...............11 &e\n', 32)).toMatch(/^bad\.decode:2: .*33 bits/);
    const ov = genError('&e\npa  ................ ...............1 &e\n\npb  1............... ................ &e\n');
    expect(ov).toMatch(/^bad\.decode:4: .*'pb'.*overlaps.*'pa'.*bad\.decode:2/);
    // The same pair inside an overlap group is fine.
    expect(genError('&e\n{\npa  ................ ...............1 &e\npb  1............... ................ &e\n}\n')).toBe('');
    // Two groups whose common bits overlap are an error too.
    expect(
      genError('&e\n{\npa  ................ ..............11 &e\n}\n{\npb  ................ ...............1 &e\n}\n'),
    ).toMatch(/bad\.decode:5:.*overlaps/);
    expect(genError('&r a b\np ................................ &r a=1\n')).toMatch(/^bad\.decode:2: .*'b'.*not assigned/);
    expect(genError('&r a\np ................................ &r a=%nope\n')).toMatch(/^bad\.decode:2: unknown field/);
    expect(genError('&r a\np ............................... &r a=1\n')).toMatch(/^bad\.decode:2: .*31 bits/);
    expect(genError('&r a\np ................................ &r a=1 z=2\n')).toMatch(/'z' is not in &r/);
    expect(genError('&r a\n{\np ................................ &r a=1\n')).toMatch(/unclosed group/);
    expect(genError('%f 30:5\n')).toMatch(/^bad\.decode:1: .*out of range/);
    expect(genError('&a x\n&b y\np 0............................... &a x=1\np 1............................... &b y=1\n')).toMatch(
      /bad\.decode:4: pattern 'p' uses &b but &a/,
    );
  });

  it('emits typed interfaces that fail to compile when a handler is missing', async () => {
    const ts = (await import('typescript')).default;
    const text = [
      '&r4_rm a b',
      '&sfence_vma c',
      'foo 0............................... &r4_rm a=1 b=2',
      'bar 1............................... &sfence_vma c=3',
    ].join('\n');
    const src = generateDecoder({ inputs: [{ path: 'x.decode', insnBits: 32, funcName: 'decx', text }] });
    expect(src).toContain('export interface ArgR4Rm {');
    expect(src).toContain('export interface ArgSfenceVma {');
    expect(src).toContain('trans_foo(a: ArgR4Rm): boolean;');
    expect(src).toContain('export function decx(t: RiscvTranslator, insn: number): boolean');
    const gen = join(tmp, 'typed-gen.ts');
    writeFileSync(gen, src);
    const good = join(tmp, 'typed-good.ts');
    const bad = join(tmp, 'typed-bad.ts');
    writeFileSync(
      good,
      "import { decx, type RiscvTranslator } from './typed-gen.js';\n" +
        'const t: RiscvTranslator = { trans_foo: (a) => a.a + a.b > 0, trans_bar: (a) => a.c > 0 };\n' +
        'export const r: boolean = decx(t, 0);\n',
    );
    writeFileSync(
      bad,
      "import { decx, type RiscvTranslator } from './typed-gen.js';\n" +
        'const t: RiscvTranslator = { trans_foo: (a) => a.a > 0 };\n' +
        'export const r: boolean = decx(t, 0);\n',
    );
    const diag = (file: string) => {
      const p = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        types: [],
        lib: ['lib.es2022.d.ts'],
      });
      return ts.getPreEmitDiagnostics(p).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };
    expect(diag(good)).toEqual([]);
    const errs = diag(bad);
    expect(errs.join('\n')).toMatch(/trans_bar/);
  });
});

// ===========================================================================
// RISC-V
// ===========================================================================

const X = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
const F = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];
const RM = ['rne', 'rtz', 'rdn', 'rup', 'rmm'];

/** Deterministic PRNG (mulberry32). */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

interface Case {
  asm: string;
  name: string;
  args: Args;
  compressed?: boolean;
}

/** Build the list of 32-bit and 16-bit test instructions with their expected decode. */
function buildCases(): { c32: Case[]; c16: Case[] } {
  const r = prng(12345);
  const c32: Case[] = [];
  const c16: Case[] = [];
  const N = 4; // variants per instruction
  const reg = () => r.int(0, 31);
  const add = (asm: string, name: string, args: Args) => c32.push({ asm, name, args });
  const mn = (name: string) => name.replace(/_/g, '.');
  const imm12 = (k: number) => [-2048, 2047, 0, -1][k] ?? r.int(-2048, 2047);

  for (let k = 0; k < N + 2; k++) {
    const rd = reg(), rs1 = reg(), rs2 = reg();
    // U / J / I / B / S types
    const u = [0, 0xfffff, 0x80000, 0x7ffff][k] ?? r.int(0, 0xfffff);
    add(`lui ${X[rd]},0x${u.toString(16)}`, 'lui', { imm: (u << 12) | 0, rd });
    add(`auipc ${X[rd]},0x${u.toString(16)}`, 'auipc', { imm: (u << 12) | 0, rd });
    const joff = [-1048576, 1048574, 0, 2][k] ?? r.int(-524288, 524287) * 2;
    add(`jal ${X[rd]},.${joff >= 0 ? '+' : ''}${joff}`, 'jal', { imm: joff, rd });
    const im = imm12(k);
    add(`jalr ${X[rd]},${im}(${X[rs1]})`, 'jalr', { imm: im, rs1, rd });
    const boff = [-4096, 4094, 0, -2][k] ?? r.int(-2048, 2047) * 2;
    for (const b of ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'])
      add(`${b} ${X[rs1]},${X[rs2]},.${boff >= 0 ? '+' : ''}${boff}`, b, { imm: boff, rs2, rs1 });
    for (const l of ['lb', 'lh', 'lw', 'ld', 'lbu', 'lhu', 'lwu'])
      add(`${l} ${X[rd]},${im}(${X[rs1]})`, l, { imm: im, rs1, rd });
    for (const s of ['sb', 'sh', 'sw', 'sd']) add(`${s} ${X[rs2]},${im}(${X[rs1]})`, s, { imm: im, rs1, rs2 });
    for (const i of ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'])
      add(`${i} ${X[rd]},${X[rs1]},${im}`, i, { imm: im, rs1, rd });
    const sh6 = [0, 63, 32, 31][k] ?? r.int(0, 63);
    const sh5 = sh6 & 31;
    for (const s of ['slli', 'srli', 'srai', 'rori', 'slli_uw', 'bclri', 'bexti', 'binvi', 'bseti'])
      add(`${mn(s)} ${X[rd]},${X[rs1]},${sh6}`, s, { shamt: sh6, rs1, rd });
    for (const s of ['slliw', 'srliw', 'sraiw', 'roriw'])
      add(`${mn(s)} ${X[rd]},${X[rs1]},${sh5}`, s, { shamt: sh5, rs1, rd });
    for (const o of [
      'add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and',
      'addw', 'subw', 'sllw', 'srlw', 'sraw',
      'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw',
      'sh1add', 'sh2add', 'sh3add', 'add_uw', 'sh1add_uw', 'sh2add_uw', 'sh3add_uw',
      'andn', 'orn', 'xnor', 'max', 'maxu', 'min', 'minu', 'rol', 'ror', 'rolw', 'rorw',
      'bclr', 'bext', 'binv', 'bset',
    ])
      add(`${mn(o)} ${X[rd]},${X[rs1]},${X[rs2]}`, o, { rd, rs1, rs2 });
    for (const o of ['clz', 'ctz', 'cpop', 'sext_b', 'sext_h', 'zext_h', 'orc_b', 'rev8', 'clzw', 'ctzw', 'cpopw'])
      add(`${mn(o)} ${X[rd]},${X[rs1]}`, o, { rd, rs1 });

    // Zicsr
    const csr = [0x300, 0xfff, 0x001, 0xc00][k] ?? r.int(0, 4095);
    for (const c of ['csrrw', 'csrrs', 'csrrc']) add(`${c} ${X[rd]},0x${csr.toString(16)},${X[rs1]}`, c, { csr, rs1, rd });
    const zimm = [0, 31, 1, 16][k] ?? r.int(0, 31);
    for (const c of ['csrrwi', 'csrrsi', 'csrrci']) add(`${c} ${X[rd]},0x${csr.toString(16)},${zimm}`, c, { csr, rs1: zimm, rd });

    // A
    const aq = k & 1, rl = (k >> 1) & 1;
    const sfx = aq ? (rl ? '.aqrl' : '.aq') : rl ? '.rl' : '';
    for (const w of ['w', 'd']) {
      add(`lr.${w}${sfx} ${X[rd]},(${X[rs1]})`, `lr_${w}`, { aq, rl, rs2: 0, rs1, rd });
      for (const o of ['sc', 'amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu'])
        add(`${o}.${w}${sfx} ${X[rd]},${X[rs2]},(${X[rs1]})`, `${o}_${w}`, { aq, rl, rs2, rs1, rd });
    }

    // F / D
    const fd = reg(), fs1 = reg(), fs2 = reg(), fs3 = reg();
    const rmi = k < RM.length ? k : 7;
    const rms = rmi === 7 ? '' : `,${RM[rmi]}`;
    add(`flw ${F[fd]},${im}(${X[rs1]})`, 'flw', { imm: im, rs1, rd: fd });
    add(`fld ${F[fd]},${im}(${X[rs1]})`, 'fld', { imm: im, rs1, rd: fd });
    add(`fsw ${F[fs2]},${im}(${X[rs1]})`, 'fsw', { imm: im, rs1, rs2: fs2 });
    add(`fsd ${F[fs2]},${im}(${X[rs1]})`, 'fsd', { imm: im, rs1, rs2: fs2 });
    for (const p of ['s', 'd']) {
      for (const o of ['fmadd', 'fmsub', 'fnmsub', 'fnmadd'])
        add(`${o}.${p} ${F[fd]},${F[fs1]},${F[fs2]},${F[fs3]}${rms}`, `${o}_${p}`, { rd: fd, rs1: fs1, rs2: fs2, rs3: fs3, rm: rmi });
      for (const o of ['fadd', 'fsub', 'fmul', 'fdiv'])
        add(`${o}.${p} ${F[fd]},${F[fs1]},${F[fs2]}${rms}`, `${o}_${p}`, { rd: fd, rs1: fs1, rs2: fs2, rm: rmi });
      add(`fsqrt.${p} ${F[fd]},${F[fs1]}${rms}`, `fsqrt_${p}`, { rd: fd, rs1: fs1, rm: rmi });
      for (const o of ['fsgnj', 'fsgnjn', 'fsgnjx', 'fmin', 'fmax'])
        add(`${o}.${p} ${F[fd]},${F[fs1]},${F[fs2]}`, `${o}_${p}`, { rd: fd, rs1: fs1, rs2: fs2 });
      for (const o of ['feq', 'flt', 'fle'])
        add(`${o}.${p} ${X[rd]},${F[fs1]},${F[fs2]}`, `${o}_${p}`, { rd, rs1: fs1, rs2: fs2 });
      for (const i of ['w', 'wu', 'l', 'lu']) {
        add(`fcvt.${i}.${p} ${X[rd]},${F[fs1]}${rms}`, `fcvt_${i}_${p}`, { rd, rs1: fs1, rm: rmi });
        // fcvt.d.w[u] is exact: the assembler takes no rounding mode and encodes rm=0.
        if (p === 'd' && (i === 'w' || i === 'wu'))
          add(`fcvt.${p}.${i} ${F[fd]},${X[rs1]}`, `fcvt_${p}_${i}`, { rd: fd, rs1, rm: 0 });
        else add(`fcvt.${p}.${i} ${F[fd]},${X[rs1]}${rms}`, `fcvt_${p}_${i}`, { rd: fd, rs1, rm: rmi });
      }
      const wx = p === 's' ? 'w' : 'd';
      add(`fmv.x.${wx} ${X[rd]},${F[fs1]}`, `fmv_x_${wx}`, { rd, rs1: fs1 });
      add(`fmv.${wx}.x ${F[fd]},${X[rs1]}`, `fmv_${wx}_x`, { rd: fd, rs1 });
      add(`fclass.${p} ${X[rd]},${F[fs1]}`, `fclass_${p}`, { rd, rs1: fs1 });
    }
    add(`fcvt.s.d ${F[fd]},${F[fs1]}${rms}`, 'fcvt_s_d', { rd: fd, rs1: fs1, rm: rmi });
    add(`fcvt.d.s ${F[fd]},${F[fs1]}`, 'fcvt_d_s', { rd: fd, rs1: fs1, rm: 0 });

    add(`sfence.vma ${X[rs1]},${X[rs2]}`, 'sfence_vma', { rs1, rs2 });
  }
  const fenceSets = ['i', 'o', 'r', 'w', 'iorw', 'rw', 'ir', 'ow'];
  const bits = (s: string) => [...s].reduce((v, ch) => v | (8 >> 'iorw'.indexOf(ch)), 0);
  for (const p of fenceSets) for (const s of ['iorw', 'r', 'w'])
    add(`fence ${p},${s}`, 'fence', { pred: bits(p), succ: bits(s) });
  add('fence.tso', 'fence', { pred: 3, succ: 3 });
  for (const n of ['fence_i', 'ecall', 'ebreak', 'mret', 'sret', 'wfi']) add(mn(n), n, {});
  // Named CSRs (checked against objdump's names).
  for (const csr of [
    0x001, 0x002, 0x003, 0xc00, 0xc01, 0xc02, 0xc03, 0xc1f, 0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143,
    0x144, 0x180, 0xf11, 0xf12, 0xf13, 0xf14, 0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x320, 0x323,
    0x33f, 0x340, 0x341, 0x342, 0x343, 0x344, 0x3a0, 0x3af, 0x3b0, 0x3ef, 0xb00, 0xb02, 0xb03, 0xb1f, 0x7a0,
    0x7a1, 0x7a2, 0x7a3, 0x7b0, 0x7b1, 0x7b2, 0x7b3, 0x10a, 0x30a, 0x34a, 0x34b, 0xf15, 0x14d, 0x015,
    0x7c0, 0x5c0, 0x123,
  ])
    add(`csrrs a0,0x${csr.toString(16)},a1`, 'csrrs', { csr, rs1: 11, rd: 10 });

  // ------------------------------------------------------------ compressed
  const cadd = (asm: string, name: string, args: Args) => c16.push({ asm, name, args, compressed: true });
  const creg = () => r.int(8, 15);
  const nz = (lo: number, hi: number) => {
    let v = 0;
    while (v === 0) v = r.int(lo, hi);
    return v;
  };
  for (let k = 0; k < N + 2; k++) {
    const rd = creg(), rs1 = creg(), rs2 = creg();
    const full = nz(1, 31);
    const full2 = nz(1, 31);
    const u4spn = ([4, 1020][k] ?? r.int(1, 255)) * 1;
    const spn = k < 2 ? u4spn : r.int(1, 255) * 4;
    cadd(`c.addi4spn ${X[rd]},sp,${spn}`, 'addi', { imm: spn, rs1: 2, rd });
    const off8 = [0, 248][k] ?? r.int(0, 31) * 8;
    const off4 = [0, 124][k] ?? r.int(0, 31) * 4;
    cadd(`c.fld ${F[rd]},${off8}(${X[rs1]})`, 'fld', { imm: off8, rs1, rd });
    cadd(`c.lw ${X[rd]},${off4}(${X[rs1]})`, 'lw', { imm: off4, rs1, rd });
    cadd(`c.ld ${X[rd]},${off8}(${X[rs1]})`, 'ld', { imm: off8, rs1, rd });
    cadd(`c.fsd ${F[rs2]},${off8}(${X[rs1]})`, 'fsd', { imm: off8, rs1, rs2 });
    cadd(`c.sw ${X[rs2]},${off4}(${X[rs1]})`, 'sw', { imm: off4, rs1, rs2 });
    cadd(`c.sd ${X[rs2]},${off8}(${X[rs1]})`, 'sd', { imm: off8, rs1, rs2 });
    const i6 = [-32, 31, 1, -1][k] ?? nz(-32, 31);
    cadd(`c.addi ${X[full]},${i6}`, 'addi', { imm: i6, rs1: full, rd: full });
    cadd(`c.addiw ${X[full]},${i6}`, 'addiw', { imm: i6, rs1: full, rd: full });
    cadd(`c.li ${X[full]},${i6}`, 'addi', { imm: i6, rs1: 0, rd: full });
    const sp16 = ([-512, 496, 16, -16][k] ?? nz(-32, 31) * 16);
    cadd(`c.addi16sp sp,${sp16}`, 'addi', { imm: sp16, rs1: 2, rd: 2 });
    const lrd = full === 2 ? 3 : full;
    const lui = [1, 0x1f, 0xfffe0, 0xfffff][k] ?? r.pick([r.int(1, 31), r.int(0xfffe0, 0xfffff)]);
    cadd(`c.lui ${X[lrd]},0x${lui.toString(16)}`, 'lui', { imm: (lui << 12) | 0, rd: lrd });
    const sh = [1, 63, 32, 31][k] ?? r.int(1, 63);
    cadd(`c.srli ${X[rd]},${sh}`, 'srli', { shamt: sh, rs1: rd, rd });
    cadd(`c.srai ${X[rd]},${sh}`, 'srai', { shamt: sh, rs1: rd, rd });
    cadd(`c.andi ${X[rd]},${i6}`, 'andi', { imm: i6, rs1: rd, rd });
    for (const o of ['sub', 'xor', 'or', 'and', 'subw', 'addw'])
      cadd(`c.${o} ${X[rd]},${X[rs2]}`, o, { rd, rs1: rd, rs2 });
    const joff = [-2048, 2046, 0, 2][k] ?? r.int(-1024, 1023) * 2;
    cadd(`c.j .${joff >= 0 ? '+' : ''}${joff}`, 'jal', { imm: joff, rd: 0 });
    const boff = [-256, 254, 0, -2][k] ?? r.int(-128, 127) * 2;
    cadd(`c.beqz ${X[rs1]},.${boff >= 0 ? '+' : ''}${boff}`, 'beq', { imm: boff, rs2: 0, rs1 });
    cadd(`c.bnez ${X[rs1]},.${boff >= 0 ? '+' : ''}${boff}`, 'bne', { imm: boff, rs2: 0, rs1 });
    cadd(`c.slli ${X[full]},${sh}`, 'slli', { shamt: sh, rs1: full, rd: full });
    const sp8 = [0, 504][k] ?? r.int(0, 63) * 8;
    const sp4 = [0, 252][k] ?? r.int(0, 63) * 4;
    cadd(`c.fldsp ${F[full - 1]},${sp8}(sp)`, 'fld', { imm: sp8, rs1: 2, rd: full - 1 });
    cadd(`c.lwsp ${X[full]},${sp4}(sp)`, 'lw', { imm: sp4, rs1: 2, rd: full });
    cadd(`c.ldsp ${X[full]},${sp8}(sp)`, 'ld', { imm: sp8, rs1: 2, rd: full });
    cadd(`c.jr ${X[full]}`, 'jalr', { imm: 0, rs1: full, rd: 0 });
    cadd(`c.jalr ${X[full]}`, 'jalr', { imm: 0, rs1: full, rd: 1 });
    cadd(`c.mv ${X[full]},${X[full2]}`, 'add', { rd: full, rs1: 0, rs2: full2 });
    cadd(`c.add ${X[full]},${X[full2]}`, 'add', { rd: full, rs1: full, rs2: full2 });
    cadd(`c.fsdsp ${F[full2 - 1]},${sp8}(sp)`, 'fsd', { imm: sp8, rs1: 2, rs2: full2 - 1 });
    cadd(`c.swsp ${X[full2 - 1]},${sp4}(sp)`, 'sw', { imm: sp4, rs1: 2, rs2: full2 - 1 });
    cadd(`c.sdsp ${X[full2 - 1]},${sp8}(sp)`, 'sd', { imm: sp8, rs1: 2, rs2: full2 - 1 });
  }
  cadd('c.nop', 'addi', { imm: 0, rs1: 0, rd: 0 });
  cadd('c.ebreak', 'ebreak', {});
  return { c32, c16 };
}

interface Dumped {
  addr: bigint;
  insn: number;
  len: 2 | 4;
  text: string;
}

/** Normalise objdump (or our) text: drop `<sym>` and `# comment`, collapse whitespace. */
function norm(s: string): string {
  return s
    .replace(/\b([0-9a-f]+) <[^>]*>/g, '0x$1') // objdump with symbols: `1c <.text+0x1c>`
    .replace(/#.*$/, '')
    .trim()
    .replace(/\s+/g, ' ');
}

/** Parse `objdump -d` output lines `  addr:\thex \ttext`. */
function parseObjdump(out: string): Dumped[] {
  const res: Dumped[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f]{4}|[0-9a-f]{8})\s+\t?(.*)$/.exec(line);
    if (!m) continue;
    res.push({
      addr: BigInt('0x' + m[1]),
      insn: parseInt(m[2]!, 16) >>> 0,
      len: m[2]!.length === 4 ? 2 : 4,
      text: norm(m[3]!),
    });
  }
  return res;
}

function assemble(src: string, name: string): Dumped[] {
  const s = join(tmp, `${name}.S`);
  const o = join(tmp, `${name}.o`);
  writeFileSync(s, src);
  // priv-spec 1.12 so that objdump knows the newer CSR names (menvcfg, ...).
  execFileSync(AS, ['-march=rv64gc_zba_zbb_zbs_zicsr_zifencei', '-mpriv-spec=1.12', '-mno-relax', '-o', o, s]);
  return parseObjdump(execFileSync(OBJDUMP, ['-d', '-M', 'no-aliases', o], { maxBuffer: 1 << 26 }).toString());
}

/** objdump raw instruction words (emitted with `.insn` so the ELF carries our -march). */
function objdumpWords(words: number[], name: string): Dumped[] {
  return assemble(words.map((w) => `.insn 0x${(w >>> 0).toString(16)}`).join('\n') + '\n', name);
}

describe('RISC-V decoder', () => {
  let decode32: DecodeFn;
  let decode16: DecodeFn;
  let disassemble: (insn: number, pc: bigint) => string;
  let TRANS_NAMES: readonly string[];

  beforeAll(async () => {
    // Regenerate from the current decode files (what the build does); the
    // write is skipped when the content is unchanged.
    generateDecoder({
      inputs: [
        { path: join(RV, 'insn32.decode'), insnBits: 32, funcName: 'decode32' },
        { path: join(RV, 'insn16.decode'), insnBits: 16, funcName: 'decode16' },
      ],
      output: join(RV, 'decode-generated.ts'),
    });
    const gen = await import('../src/frontend/riscv/decode-generated.js');
    decode32 = gen.decode32 as unknown as DecodeFn;
    decode16 = gen.decode16 as unknown as DecodeFn;
    TRANS_NAMES = gen.TRANS_NAMES;
    disassemble = (await import('../src/frontend/riscv/disas.js')).disassemble;
  });

  const decodeOne = (insn: number, compressed: boolean): Call[] => {
    const { t, calls } = recorder();
    const ok = compressed ? decode16(t, insn) : decode32(t, insn);
    if (!ok) return [];
    return calls;
  };

  it('declares exactly the contract handler names', () => {
    const expected = `lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw ld lbu lhu lwu sb sh sw sd addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu xor srl sra or and addiw slliw srliw sraiw addw subw sllw srlw sraw fence fence_i ecall ebreak mret sret wfi sfence_vma csrrw csrrs csrrc csrrwi csrrsi csrrci mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw lr_w sc_w amoswap_w amoadd_w amoxor_w amoand_w amoor_w amomin_w amomax_w amominu_w amomaxu_w lr_d sc_d amoswap_d amoadd_d amoxor_d amoand_d amoor_d amomin_d amomax_d amominu_d amomaxu_d flw fsw fld fsd fmadd_s fmsub_s fnmsub_s fnmadd_s fadd_s fsub_s fmul_s fdiv_s fsqrt_s fsgnj_s fsgnjn_s fsgnjx_s fmin_s fmax_s fcvt_w_s fcvt_wu_s fcvt_l_s fcvt_lu_s fmv_x_w feq_s flt_s fle_s fclass_s fcvt_s_w fcvt_s_wu fcvt_s_l fcvt_s_lu fmv_w_x fmadd_d fmsub_d fnmsub_d fnmadd_d fadd_d fsub_d fmul_d fdiv_d fsqrt_d fsgnj_d fsgnjn_d fsgnjx_d fmin_d fmax_d fcvt_w_d fcvt_wu_d fcvt_l_d fcvt_lu_d fmv_x_d feq_d flt_d fle_d fclass_d fcvt_d_w fcvt_d_wu fcvt_d_l fcvt_d_lu fmv_d_x fcvt_s_d fcvt_d_s sh1add sh2add sh3add add_uw sh1add_uw sh2add_uw sh3add_uw slli_uw andn orn xnor clz ctz cpop max maxu min minu sext_b sext_h zext_h rol ror rori orc_b rev8 clzw ctzw cpopw rolw rorw roriw bclr bclri bext bexti binv binvi bset bseti`
      .split(' ')
      .map((n) => `trans_${n}`);
    expect([...TRANS_NAMES].sort()).toEqual([...expected].sort());
  });

  it('rejects reserved and illegal encodings', () => {
    const illegal32 = [
      0x00000000, // all zero (also an illegal 16-bit encoding)
      0xffffffff, // all ones
      0x0200101b, // slliw with shamt[5] set
      0x0200501b, // srliw with shamt[5] set
      0x4200501b, // sraiw with shamt[5] set
      0x6200501b, // roriw with shamt[5] set
      0xfe000033, // OP with funct7=0x7f
      0x0200103b, // OP-32 funct7=1 funct3=1 (mulh has no W form)
      0x0000202b, // custom-1 major opcode
      0x0000100b, // custom-0 major opcode
      0x00007003, // LOAD funct3=7
      0x00004023, // STORE funct3=4
      0x0000002f, // AMO with width funct3=0
      0x0000202f | (0x1f << 27), // AMO funct5=11111
      0x1015252f, // lr.w with rs2 != 0
      0xe0052553, // fmv.x.w with funct3=2
      0x58150553, // fsqrt.s with rs2 != 0
      0xc0450553, // fcvt.w.s with rs2=4
      0x0000200f, // MISC-MEM funct3=2
      0x00100573, // ebreak with rd != 0
      0x302000f3, // mret with rd != 0
      0x00200073, // SYSTEM funct12=2
      0x00004073, // SYSTEM funct3=4
      0x6031151b, // clzw family with rs2=3
      0x60351513, // clz family with rs2=3
      0x60651513, // clz family with rs2=6
      0x08051513, // OP-IMM funct3=1 with imm[11:6]=000010 (slli.uw lives in OP-IMM-32)
      0x0a05153b, // OP-32 funct7=0000101 (min/max have no W forms)
      0x2005353b, // OP-32 funct7=0010000 funct3=3
    ];
    for (const v of illegal32) expect(decodeOne(v >>> 0, false), `0x${(v >>> 0).toString(16)}`).toEqual([]);
    const illegal16 = [
      0x0000, // all zero
      0x0004, 0x001c, // c.addi4spn nzuimm=0, any rd'
      0x6101, // c.addi16sp nzimm=0
      0x6501, // c.lui a0 nzimm=0
      0x6001, // c.lui zero nzimm=0
      0x4002, // c.lwsp rd=0
      0x5002,
      0x6002, // c.ldsp rd=0
      0x8002, // c.jr rs1=0
      0x2001, // c.addiw rd=0
      0x8000, // quadrant 0 funct3=100
      0x9c41, 0x9c61, // 100 1 11 ... 1x ... 01
    ];
    for (const v of illegal16) expect(decodeOne(v, true), `0x${v.toString(16)}`).toEqual([]);
    for (const v of illegal16) expect(disassemble(v, 0n)).toBe(`.2byte  0x${v.toString(16)}`);
    expect(disassemble(0xffffffff, 0n)).toBe('.4byte  0xffffffff');
  });

  it('decodes compressed HINT encodings to their normal expansion', () => {
    const cases: [number, Call][] = [
      [0x0001, ['addi', { imm: 0, rs1: 0, rd: 0 }]], // c.nop
      [0x0015, ['addi', { imm: 5, rs1: 0, rd: 0 }]], // c.nop 5
      [0x0501, ['addi', { imm: 0, rs1: 10, rd: 10 }]], // c.addi a0,0
      [0x4015, ['addi', { imm: 5, rs1: 0, rd: 0 }]], // c.li zero,5
      [0x6005, ['lui', { imm: 0x1000, rd: 0 }]], // c.lui zero,1
      [0x000e, ['slli', { shamt: 3, rs1: 0, rd: 0 }]], // c.slli zero,3
      [0x0002, ['slli', { shamt: 0, rs1: 0, rd: 0 }]], // c.slli64 zero
      [0x8001, ['srli', { shamt: 0, rs1: 8, rd: 8 }]], // c.srli64 s0
      [0x802e, ['add', { rd: 0, rs1: 0, rs2: 11 }]], // c.mv zero,a1
      [0x902e, ['add', { rd: 0, rs1: 0, rs2: 11 }]], // c.add zero,a1
      [0x2505, ['addiw', { imm: 1, rs1: 10, rd: 10 }]], // c.addiw a0,1
      [0x2501, ['addiw', { imm: 0, rs1: 10, rd: 10 }]], // c.addiw a0,0 (sext.w)
      [0x9002, ['ebreak', {}]],
    ];
    for (const [v, exp] of cases) expect(decodeOne(v, true), `0x${v.toString(16)}`).toEqual([exp]);
  });

  it('disassembles without the binutils (spot checks)', () => {
    expect(disassemble(0x00150513, 0n)).toBe('addi    a0,a0,1');
    expect(disassemble(0x0505, 0x1000n)).toBe('c.addi  a0,1');
    expect(disassemble(0x010000ef, 0xcn)).toBe('jal     ra,0x1c');
    expect(disassemble(0x30059573, 0n)).toBe('csrrw   a0,mstatus,a1');
    expect(disassemble(0x7c02d573, 0n)).toBe('csrrwi  a0,0x7c0,5');
    expect(disassemble(0x06b6252f, 0n)).toBe('amoadd.w.aqrl a0,a1,(a2)');
    expect(disassemble(0x00c59553, 0n)).toBe('fadd.s  fa0,fa1,fa2,rtz');
    expect(disassemble(0x8330000f, 0n)).toBe('fence.tso');
    expect(disassemble(0x00000073, 0n)).toBe('ecall');
    expect(disassemble(0xfeb50ce3, 0x10n)).toBe('beq     a0,a1,0x8');
    // pc wraps modulo 2^64
    expect(disassemble(0xfe000ee3, 0n)).toBe('beq     zero,zero,0xfffffffffffffffc');
    // only the low 16 bits of a compressed instruction are used
    expect(disassemble(0xdead0505, 0n)).toBe('c.addi  a0,1');
  });

  describe.skipIf(!RUN_BINUTILS)('against riscv64-unknown-elf binutils', () => {
    const { c32, c16 } = buildCases();
    let d32: Dumped[] = [];
    let d16: Dumped[] = [];

    beforeAll(() => {
      if (!HAVE_BINUTILS) throw new Error(`${AS}/${OBJDUMP} not found (required when CI=true)`);
      d32 = assemble('.option norvc\n' + c32.map((c) => c.asm).join('\n') + '\n', 'all32');
      d16 = assemble('.option rvc\n' + c16.map((c) => c.asm).join('\n') + '\n', 'all16');
    });

    it('assembled one instruction per case', () => {
      expect(d32.length).toBe(c32.length);
      expect(d32.every((d) => d.len === 4)).toBe(true);
      expect(d16.length).toBe(c16.length);
      expect(d16.every((d) => d.len === 2)).toBe(true);
    });

    it('covers every handler with the 32-bit cases', () => {
      const seen = new Set(c32.map((c) => `trans_${c.name}`));
      expect(TRANS_NAMES.filter((n) => !seen.has(n))).toEqual([]);
    });

    it('decodes every 32-bit instruction to the right pattern and arguments', () => {
      const bad: string[] = [];
      c32.forEach((c, i) => {
        const got = decodeOne(d32[i]!.insn, false);
        const want: Call[] = [[c.name, c.args]];
        if (JSON.stringify(got) !== JSON.stringify(want))
          bad.push(`${c.asm} (0x${d32[i]!.insn.toString(16)}): got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      });
      expect(bad).toEqual([]);
    });

    it('decodes every compressed instruction to its 32-bit expansion', () => {
      const bad: string[] = [];
      c16.forEach((c, i) => {
        const got = decodeOne(d16[i]!.insn, true);
        const want: Call[] = [[c.name, c.args]];
        if (JSON.stringify(got) !== JSON.stringify(want))
          bad.push(`${c.asm} (0x${d16[i]!.insn.toString(16)}): got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      });
      expect(bad).toEqual([]);
    });

    it('disassembles like objdump -M no-aliases', () => {
      const bad: string[] = [];
      for (const d of [...d32, ...d16]) {
        const mine = norm(disassemble(d.insn, d.addr));
        if (mine !== d.text) bad.push(`0x${d.insn.toString(16)}: objdump '${d.text}' mine '${mine}'`);
      }
      expect(bad).toEqual([]);
    });

    it('agrees with objdump on every 16-bit encoding', () => {
      const vals: number[] = [];
      for (let v = 0; v < 0x10000; v++) if ((v & 3) !== 3) vals.push(v);
      const dumped = objdumpWords(vals, 'every16');
      expect(dumped.map((d) => d.insn)).toEqual(vals);
      const bad: string[] = [];
      for (const d of dumped) {
        let want = d.text;
        // 0x0000 is the defined-illegal instruction; binutils calls it c.unimp.
        if (want === 'c.unimp') want = '.2byte 0x0';
        // binutils accepts c.addi16sp with nzimm=0, which the ISA reserves.
        if (d.insn === 0x6101) want = '.2byte 0x6101';
        const mine = norm(disassemble(d.insn, d.addr));
        if (mine !== want) bad.push(`0x${d.insn.toString(16)}: objdump '${want}' mine '${mine}'`);
      }
      expect(bad.slice(0, 40)).toEqual([]);
    });

    it('agrees with objdump on random 32-bit words in the supported opcodes', () => {
      const r = prng(777);
      const opcodes = [
        0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b, 0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63,
        0x67, 0x6f, 0x73,
      ];
      // Bias towards defined encodings: clear some of the operand/funct fields.
      const clear = [0x1f << 20, 0x3f << 20, 0x1f << 15, 0x3e000000, 0x0c000000, 0x1f << 7, 0x7f << 25, 0x7 << 12];
      const words: number[] = [];
      for (let i = 0; i < 30000; i++) {
        let w = (r.int(0, 0xffff) << 16) | r.int(0, 0xffff);
        w = (w & ~0x7f) | r.pick(opcodes);
        for (let k = r.int(0, 3); k > 0; k--) w &= ~r.pick(clear) | 0x7f;
        words.push(w >>> 0);
      }
      const dumped = objdumpWords(words, 'rand32');
      expect(dumped.map((d) => d.insn)).toEqual(words);
      const ours = new Set(TRANS_NAMES.map((n) => n.slice(6).replace(/_/g, '.')));
      ours.add('fence.tso');
      const bad: string[] = [];
      let compared = 0;
      for (const d of dumped) {
        const mine = norm(disassemble(d.insn, d.addr));
        let theirs = d.text;
        const theirMnem = theirs.split(' ')[0]!.replace(/\.(aqrl|aq|rl)$/, '');
        if (!ours.has(theirMnem)) {
          // objdump does not know it, or it belongs to an extension we do not
          // implement: we must not decode it either, except where binutils
          // 2.40 is stricter than the ISA, which says to ignore the fields:
          // FENCE with other fm values, FENCE.I with nonzero imm/rs1/rd, and
          // fcvt.d.s / fcvt.d.w[u] with a nonzero (unused) rounding mode.
          const lenient = /^(fence|fence\.i|fcvt\.d\.(s|w|wu))( |$)/.test(mine);
          if (!mine.startsWith('.4byte') && !lenient)
            bad.push(`0x${d.insn.toString(16)}: objdump '${theirs}' mine '${mine}'`);
          continue;
        }
        compared++;
        // CSR numbers we have no name for print as hex; objdump knows more names.
        const mc = /^csrr[wsc]i? \w+,(0x[0-9a-f]+),/.exec(mine);
        if (mc) theirs = theirs.replace(/^(csrr[wsc]i? \w+,)[\w.]+,/, `$1${mc[1]},`);
        if (mine !== theirs) bad.push(`0x${d.insn.toString(16)}: objdump '${theirs}' mine '${mine}'`);
      }
      expect(bad.slice(0, 40)).toEqual([]);
      expect(compared).toBeGreaterThan(10000);
    });
  });
});

// Fail loudly if the decode files are missing (the paths above are relied on).
it('decode files exist', () => {
  expect(existsSync(join(RV, 'insn32.decode'))).toBe(true);
  expect(existsSync(join(RV, 'insn16.decode'))).toBe(true);
  expect(readFileSync(join(RV, 'insn16.decode'), 'utf8')).toContain('!reserved');
});
