/**
 * The x87 module (src/frontend/x86/x87.ts, float80.ts) against two oracles, over the cases of
 * test/x86/x87-oracle/cases.ts (arithmetic over special values and random operands in every
 * precision and rounding control, loads/stores/conversions, integer and BCD stores, FPREM,
 * FSCALE, FXTRACT, comparisons, FCMOV, stack and tags, environments, FNSAVE/FRSTOR,
 * FXSAVE/FXRSTOR, transcendentals):
 *
 *  - QEMU 7.2, our reference, bit for bit: the same cases ran on qemu-system-x86_64 7.2 as a
 *    Multiboot program (x87-oracle/baremetal.c) and the results are recorded in
 *    x87-oracle/qemu-7.2.txt.gz. That is where the transcendental instructions are checked: QEMU
 *    computes them its own way (floatx80 polynomials, libm through double precision), not as the
 *    CPU does. Re-record with `X87_RECORD_QEMU=1 npx vitest run test/x86-x87.test.ts` (needs gcc
 *    and qemu-system-x86_64 7.2).
 *  - The host CPU (x86-64), through a C program built with gcc (x87-oracle/hosted.c), for the
 *    fields where QEMU 7.2 and hardware agree (each case says which).
 *
 * Plus direct tests of what the case runner cannot reach: #MF, #GP, faults, FIP/FDP recording,
 * 16/32-bit code, the translator's FpuInsn.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { X87Case, caseLine, casesHeader, x87Cases } from './x86/x87-oracle/cases.js';
import { FpuHost, FpuInsn, executeFpu, fpuInsnOf } from '../src/frontend/x86/x87.js';
import { DecodeStatus, OpKind, RegClass, X86Decoder, X86Insn } from '../src/frontend/x86/decode.js';
import { X86Handler, X86_HANDLER_NAMES } from '../src/frontend/x86/decode-generated.js';
import { GuestFault } from '../src/frontend/x86/cpu.js';
import { computeFlags } from '../src/frontend/x86/flags.js';
import {
  CC_DST, CC_OP, CC_SRC, CC_SRC2, FPU_CW, FPU_LAST, FPU_REGS, FPU_SW, FPU_TAG, FPU_TOP, GPR_BASE, MXCSR, STATE_WORDS,
  XMM_BASE,
} from '../src/frontend/x86/state.js';
import * as fx from '../src/frontend/x86/float80.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ORACLE_DIR = join(HERE, 'x86', 'x87-oracle');
const FIXTURE = join(ORACLE_DIR, 'qemu-7.2.txt.gz');

// ---- a fake CPU around executeFpu --------------------------------------------------------------

const BUF = 0x10000;
const IMG = 0x20000;
const OUT = 0x30000;

class FakeHost implements FpuHost {
  readonly state = new Int32Array(STATE_WORDS);
  readonly mem = new Uint8Array(0x40000);
  cr0ne = true;
  /** Linear addresses whose access faults with #PF. */
  unmapped: [number, number] | null = null;
  reads = 0;
  writes = 0;

  constructor() {
    this.state[FPU_CW] = 0x37f;
    this.state[FPU_TAG] = 0xffff;
    this.state[MXCSR] = 0x1f80;
  }

  private check(lo: number, hi: number, size: number): number {
    const a = lo >>> 0;
    if (hi !== 0 || a + size > this.mem.length) throw new GuestFault(14, 0);
    if (this.unmapped && a + size > this.unmapped[0] && a < this.unmapped[1]) throw new GuestFault(14, 0);
    return a;
  }

  readMem(lo: number, hi: number, size: number, out: Uint8Array): void {
    const a = this.check(lo, hi, size);
    out.set(this.mem.subarray(a, a + size));
    this.reads++;
  }

  writeMem(lo: number, hi: number, size: number, bytes: Uint8Array): void {
    const a = this.check(lo, hi, size);
    this.mem.set(bytes.subarray(0, size), a);
    this.writes++;
  }
}

const decoder = new X86Decoder();

/** Decodes one instruction of `code` at `at` as the translator would; undocumented aliases QEMU accepts are mapped here. */
function decodeAt(code: number[], at: number, codeSize: 16 | 32 | 64): { insn: FpuInsn; x: X86Insn } {
  const x = new X86Insn();
  const st = decoder.decode((k) => (at + k < code.length ? code[at + k] : -1), codeSize, x);
  if (st !== DecodeStatus.Ok && code[at] === 0xdf && (code[at + 1] & 0xf8) === 0xc0) {
    // FFREEP ST(i): not in the opcode table; QEMU runs it as FFREE and a pop.
    x.length = 2;
    const insn: FpuInsn = {
      handler: X86Handler.FFREE, opcode: 0xdf, modrm: code[at + 1], opSize: 4, codeSize,
      operands: [{ kind: OpKind.Reg, size: 10, reg: code[at + 1] & 7, regClass: RegClass.ST }],
    };
    return { insn, x };
  }
  if (st !== DecodeStatus.Ok) throw new Error(`cannot decode ${code.slice(at, at + 4).map((b) => b.toString(16))}`);
  return { insn: fpuInsnOf(x), x };
}

function exec(host: FakeHost, code: number[], ea: number, codeSize: 16 | 32 | 64 = 64): void {
  for (let at = 0; at < code.length;) {
    const { insn, x } = decodeAt(code, at, codeSize);
    executeFpu(host, insn, x.hasMem ? (ea + x.disp) | 0 : 0, 0, 0x1000 + at, 0x33, x.disp, 0x2b);
    at += x.length;
  }
}

const hex = (v: number | bigint, digits: number): string => v.toString(16).padStart(digits, '0');
const bytesHex = (b: Uint8Array): string => Array.from(b, (x) => hex(x, 2)).join('');

/** Runs a case through executeFpu and formats the result as runner.h does. */
function runCase(c: X87Case): string {
  const h = new FakeHost();
  const img = new Uint8Array(108);
  img[0] = c.cw & 0xff;
  img[1] = c.cw >> 8;
  img[4] = c.sw & 0xff;
  img[5] = c.sw >> 8;
  img[8] = c.tag & 0xff;
  img[9] = c.tag >> 8;
  c.regs.forEach(([se, m], i) => {
    for (let k = 0; k < 8; k++) img[28 + 10 * i + k] = Number((m >> BigInt(8 * k)) & 0xffn);
    img[28 + 10 * i + 8] = se & 0xff;
    img[28 + 10 * i + 9] = se >> 8;
  });
  h.mem.set(img, IMG);
  h.mem.set(c.mem, BUF);
  exec(h, [0xdd, 0x26], IMG); // frstor [rsi]
  const st = h.state;
  st[CC_OP] = 0;
  st[CC_SRC] = c.eflags & 0x8d5;
  st[CC_SRC + 1] = 0;
  exec(h, c.code, BUF);
  const flags = computeFlags(st[CC_OP], st[CC_DST], st[CC_DST + 1], st[CC_SRC], st[CC_SRC + 1], st[CC_SRC2], st[CC_SRC2 + 1]) & 0x8d5;
  exec(h, [0xdd, 0x32], OUT); // fnsave [rdx]
  const out = h.mem.subarray(OUT, OUT + 108);
  const u16 = (o: number): number => out[o] | (out[o + 1] << 8);
  const sw = u16(4);
  const tag = u16(8);
  const top = (sw >> 11) & 7;
  const fields = [c.name, hex(u16(0), 4), hex(sw, 4), hex(tag, 4), hex(flags, 3), c.memlen ? bytesHex(h.mem.subarray(BUF, BUF + c.memlen)) : '-'];
  for (let i = 0; i < 8; i++) {
    if (((tag >> (2 * ((top + i) & 7))) & 3) === 3) {
      fields.push('-');
      continue;
    }
    let m = 0n;
    for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(out[28 + 10 * i + k]);
    fields.push(`${hex(u16(28 + 10 * i + 8), 4)}:${hex(m, 16)}`);
  }
  return fields.join(' ');
}

/** Differences between an oracle's line and ours, under the case's comparison rules. */
function differences(c: X87Case, expected: string, actual: string, hw: boolean): string[] {
  const e = expected.split(' ');
  const a = actual.split(' ');
  if (e[1] === 'fault') return [`oracle faulted (signal ${e[2]})`];
  const diffs: string[] = [];
  const swMask = hw ? c.hw!.sw : 0xffff;
  const cmpRegs = hw ? c.hw!.regs : true;
  if (e[1] !== a[1]) diffs.push(`cw ${e[1]} != ${a[1]}`);
  if ((parseInt(e[2], 16) & swMask) !== (parseInt(a[2], 16) & swMask)) diffs.push(`sw ${e[2]} != ${a[2]} (mask ${swMask.toString(16)})`);
  if (cmpRegs && e[3] !== a[3]) diffs.push(`tag ${e[3]} != ${a[3]}`);
  if (e[4] !== a[4]) diffs.push(`eflags ${e[4]} != ${a[4]}`);
  if (e[5] !== a[5]) {
    const ranges = hw && c.hw!.mem ? c.hw!.mem : [[0, c.memlen] as [number, number]];
    for (const [from, to] of ranges) {
      for (let k = from; k < to; k++) {
        if (c.ignore?.some(([f, t]) => k >= f && k < t)) continue;
        if (e[5].slice(2 * k, 2 * k + 2) !== a[5].slice(2 * k, 2 * k + 2)) {
          diffs.push(`mem[${k}] ${e[5].slice(2 * k, 2 * k + 2)} != ${a[5].slice(2 * k, 2 * k + 2)}`);
        }
      }
    }
  }
  if (cmpRegs) for (let i = 0; i < 8; i++) if (e[6 + i] !== a[6 + i]) diffs.push(`st${i} ${e[6 + i]} != ${a[6 + i]}`);
  return diffs;
}

function report(label: string, bad: string[], total: number): string {
  return `${bad.length} of ${total} cases differ from ${label}:\n${bad.slice(0, 40).join('\n')}`;
}

// ---- the oracles -------------------------------------------------------------------------------

const cases = x87Cases();
const ours = new Map<string, string>();

let workDir = '';
let hostedBin: string | null = null;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'x87-oracle-'));
  for (const c of cases) ours.set(c.name, runCase(c));
  const bin = join(workDir, 'hosted');
  const r = spawnSync('gcc', ['-O2', '-o', bin, join(ORACLE_DIR, 'hosted.c')], { encoding: 'utf8' });
  if (r.status === 0 && existsSync(bin) && process.arch === 'x64') hostedBin = bin;
  else if (process.env.CI) throw new Error(`cannot build the x87 host oracle: ${r.error ?? r.stderr}`);
  if (process.env.X87_RECORD_QEMU) await recordQemu();
}, 600_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Builds baremetal.c with the cases compiled in, runs it on QEMU and writes the fixture. */
async function recordQemu(): Promise<void> {
  const { buildTargets, programTarget } = await import('./x86/build.mjs');
  const { QEMU_BINARIES, QEMU_ONLY_ARGS, pcArgs, qemuVersion, runEmulator } = await import('./x86/emulators.mjs');
  const version = qemuVersion('x86_64');
  if (!version?.includes(' 7.2')) throw new Error(`recording needs QEMU 7.2, found ${version}`);
  writeFileSync(join(workDir, 'x87-cases.h'), casesHeader(cases));
  const target = programTarget('x87-oracle', [join(ORACLE_DIR, 'baremetal.c')], {
    bits: 64, cpu: 'max', extra: [`-I${workDir}`], outDir: join(workDir, 'build'),
  });
  await buildTargets([target], { log: null });
  const run = await runEmulator({ cmd: QEMU_BINARIES.x86_64, args: [...pcArgs(target.out, 'max'), ...QEMU_ONLY_ARGS] }, { timeoutMs: 300_000 });
  const lines = run.stdout.split(/\r?\n/).filter((l: string) => cases.length && l && !l.startsWith('x87-oracle'));
  if (lines.length !== cases.length) throw new Error(`QEMU printed ${lines.length} lines for ${cases.length} cases:\n${run.stdout.slice(-2000)}`);
  const text = `# ${version}, test/x86/x87-oracle/baremetal.c on -cpu max; regenerate with X87_RECORD_QEMU=1\n${lines.join('\n')}\n`;
  writeFileSync(FIXTURE, gzipSync(text, { level: 9 }));
}

describe('x87 cases', () => {
  it('have unique names', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('match QEMU 7.2 (recorded) bit for bit', () => {
    const recorded = new Map<string, string>();
    for (const line of gunzipSync(readFileSync(FIXTURE)).toString('utf8').split('\n')) {
      if (line && !line.startsWith('#')) recorded.set(line.split(' ')[0], line);
    }
    const missing = cases.filter((c) => !recorded.has(c.name)).map((c) => c.name);
    expect(missing.slice(0, 10), 'cases without a recorded QEMU result: re-record (see the header comment)').toEqual([]);
    const bad: string[] = [];
    for (const c of cases) {
      const d = differences(c, recorded.get(c.name)!, ours.get(c.name)!, false);
      if (d.length) bad.push(`${c.name}: ${d.join(', ')}`);
    }
    expect(bad.length, report('QEMU 7.2', bad, cases.length)).toBe(0);
  });

  it('match the host CPU where QEMU 7.2 does', () => {
    if (!hostedBin) {
      console.warn('x87: no gcc or not x86-64: host CPU comparison skipped');
      return;
    }
    const hwCases = cases.filter((c) => c.hw);
    const r = spawnSync(hostedBin, [], { input: hwCases.map(caseLine).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(hwCases.length);
    const bad: string[] = [];
    hwCases.forEach((c, k) => {
      const d = differences(c, lines[k], ours.get(c.name)!, true);
      if (d.length) bad.push(`${c.name}: ${d.join(', ')}`);
    });
    expect(bad.length, report('the host CPU', bad, hwCases.length)).toBe(0);
  });
});

// ---- direct tests ------------------------------------------------------------------------------

/** Runs one instruction with explicit pointers; returns the decoded FpuInsn. */
function run1(h: FakeHost, code: number[], ea: number, codeSize: 16 | 32 | 64 = 64, ptrs = [0x1234, 0x1b, 0x5678, 0x23]): FpuInsn {
  const { insn } = decodeAt(code, 0, codeSize);
  executeFpu(h, insn, ea, 0, ptrs[0], ptrs[1], ptrs[2], ptrs[3]);
  return insn;
}

function withStack(values: [number, bigint][]): FakeHost {
  const h = new FakeHost();
  for (const [se, m] of [...values].reverse()) {
    h.mem.set([...Array.from({ length: 8 }, (_, k) => Number((m >> BigInt(8 * k)) & 0xffn)), se & 0xff, se >> 8], BUF + 960);
    run1(h, [0xdb, 0x2b], BUF + 960); // fld m80
  }
  return h;
}

const ONE: [number, bigint] = [0x3fff, 0x8000000000000000n];
const THREE: [number, bigint] = [0x4000, 0xc000000000000000n];

function expectFault(fn: () => void, vector: number, error = -1): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(GuestFault);
  expect((caught as GuestFault).vector).toBe(vector);
  expect((caught as GuestFault).error).toBe(error);
}

describe('executeFpu', () => {
  it('implements every x87 handler of the opcode table', () => {
    const seen = new Set<number>();
    for (let op = 0xd8; op <= 0xdf; op++) {
      for (let modrm = 0; modrm < 256; modrm++) {
        if (modrm < 0xc0 && (modrm & 0xc7) !== 0x03) continue; // memory forms once each: [rbx]
        const x = new X86Insn();
        if (decoder.decode((k) => [op, modrm][k] ?? -1, 64, x) !== DecodeStatus.Ok) continue;
        seen.add(x.handler);
        const h = withStack([ONE, THREE, ONE, THREE]);
        h.mem.fill(0, BUF, BUF + 512);
        h.cr0ne = false;
        executeFpu(h, fpuInsnOf(x), x.hasMem ? BUF : 0, 0, 0, 0, 0, 0);
      }
    }
    for (const x of [[0x0f, 0xae, 0x03], [0x0f, 0xae, 0x0b], [0x9b], [0x0f, 0x77]]) {
      const h = withStack([ONE]);
      h.mem.fill(0, BUF, BUF + 512);
      const i = new X86Insn();
      expect(decoder.decode((k) => x[k] ?? -1, 64, i)).toBe(DecodeStatus.Ok);
      seen.add(i.handler);
      executeFpu(h, fpuInsnOf(i), BUF, 0, 0, 0, 0, 0);
    }
    expect(X86_HANDLER_NAMES[X86Handler.FADD]).toBe('FADD');
    const missing = X86_HANDLER_NAMES.filter((n, id) => n.startsWith('F') && !seen.has(id));
    expect(missing).toEqual([]);
  });

  it('records FIP/FCS always and FDP/FDS for memory operands, except for control instructions', () => {
    const h = new FakeHost();
    h.mem.set([0, 0, 0x80, 0x3f], BUF);
    run1(h, [0xd9, 0x03], BUF, 64, [0x1111, 0x10001b, 0x2222, 0x10023]); // fld m32
    expect(Array.from(h.state.subarray(FPU_LAST, FPU_LAST + 4))).toEqual([0x1111, 0x1b, 0x2222, 0x23]);
    run1(h, [0xd9, 0xe8], 0, 64, [0x3333, 0x1b, 0x4444, 0x2b]); // fld1: no memory operand
    expect(Array.from(h.state.subarray(FPU_LAST, FPU_LAST + 4))).toEqual([0x3333, 0x1b, 0x2222, 0x23]);
    run1(h, [0xd9, 0x33], BUF + 64, 64, [0x5555, 0x1b, 0x6666, 0x2b]); // fnstenv: control
    expect(Array.from(h.state.subarray(FPU_LAST, FPU_LAST + 4))).toEqual([0x3333, 0x1b, 0x2222, 0x23]);
    const env = new DataView(h.mem.buffer, BUF + 64, 28);
    expect([env.getUint32(12, true), env.getUint32(16, true), env.getUint32(20, true), env.getUint32(24, true)]).toEqual([0x3333, 0x1b, 0x2222, 0x23]);
    // FXSAVE stores zeros for the pointers and leaves FOP's bytes alone, as QEMU 7.2 does.
    h.mem.fill(0xee, BUF + 512, BUF + 1024);
    run1(h, [0x0f, 0xae, 0x03], BUF + 512);
    expect(Array.from(h.mem.subarray(BUF + 512 + 6, BUF + 512 + 24))).toEqual([0xee, 0xee, ...new Array(16).fill(0)]);
    // FNSAVE reinitializes them.
    run1(h, [0xdd, 0x33], BUF + 128);
    expect(Array.from(h.state.subarray(FPU_LAST, FPU_LAST + 4))).toEqual([0, 0, 0, 0]);
  });

  it('raises #MF at FNOP and FWAIT only when ES is set and CR0.NE is set', () => {
    const h = new FakeHost();
    run1(h, [0xd9, 0xd0], 0);
    h.state[FPU_CW] = 0x37e; // IE unmasked
    h.state[FPU_SW] = 0;
    run1(h, [0xd9, 0xee], 0); // fldz
    run1(h, [0xd9, 0xee], 0);
    run1(h, [0xde, 0xf9], 0); // fdivp: 0/0, IE
    expect(h.state[FPU_SW] & 0x80ff).toBe(0x8081);
    expectFault(() => run1(h, [0xd9, 0xd0], 0), 16);
    expectFault(() => run1(h, [0x9b], 0), 16);
    // QEMU checks nowhere else: arithmetic goes on.
    run1(h, [0xd9, 0xe8], 0);
    h.cr0ne = false;
    run1(h, [0xd9, 0xd0], 0);
    run1(h, [0x9b], 0);
  });

  it('raises #GP(0) for a misaligned FXSAVE/FXRSTOR area and reserved MXCSR bits, changing nothing', () => {
    const h = withStack([ONE, THREE]);
    expectFault(() => run1(h, [0x0f, 0xae, 0x03], BUF + 8), 13, 0);
    expectFault(() => run1(h, [0x0f, 0xae, 0x0b], BUF + 4), 13, 0);
    expect(h.writes).toBe(0);
    run1(h, [0x0f, 0xae, 0x03], BUF);
    h.mem[BUF + 26] = 1; // MXCSR bit 16
    h.mem[BUF + 0] = 0x7e; // a different control word, which must not be loaded
    const before = Int32Array.from(h.state);
    expectFault(() => run1(h, [0x0f, 0xae, 0x0b], BUF), 13, 0);
    expect(Array.from(h.state)).toEqual(Array.from(before));
  });

  it('changes nothing when a memory operand faults', () => {
    const cases: [string, number[], number][] = [
      ['fld m64', [0xdd, 0x03], 0x2000],
      ['fadd m32', [0xd8, 0x03], 0x2000],
      ['fstp m64', [0xdd, 0x1b], 0x2000],
      ['fistp m64', [0xdf, 0x3b], 0x2000],
      ['fbstp', [0xdf, 0x33], 0x1ffc],
      ['frstor (registers on the next page)', [0xdd, 0x23], 0x1fd0],
      ['fldenv', [0xd9, 0x23], 0x1ffa],
      ['fxrstor (XMM area on the next page)', [0x0f, 0xae, 0x0b], 0x1f00],
      ['fnsave', [0xdd, 0x33], 0x1fd0],
    ];
    for (const [name, code, off] of cases) {
      const h = withStack([ONE, THREE]);
      h.state[FPU_CW] = 0x37f;
      h.unmapped = [BUF + 0x2000, BUF + 0x3000];
      const before = Int32Array.from(h.state);
      let fault: unknown = null;
      try {
        run1(h, code, BUF + off);
      } catch (e) {
        fault = e;
      }
      expect(fault instanceof GuestFault && fault.vector === 14, name).toBe(true);
      expect(Array.from(h.state), name).toEqual(Array.from(before));
    }
  });

  it('stores partial images field by field, in QEMU order, when a store faults midway', () => {
    const h = withStack([ONE, THREE]);
    h.unmapped = [BUF + 0x2000, BUF + 0x3000];
    h.mem.fill(0xee, BUF + 0x1fb0, BUF + 0x2000);
    expectFault(() => run1(h, [0xdd, 0x33], BUF + 0x1fd0), 14, 0); // fnsave: env and ST0..ST1 fit
    expect(h.mem[BUF + 0x1fd0]).toBe(0x7f); // the control word was stored
    expect(Array.from(h.mem.subarray(BUF + 0x1fd0 + 28, BUF + 0x1fd0 + 38))).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
    expect(h.state[FPU_CW]).toBe(0x37f); // not reinitialized
    expect(h.state[FPU_TAG]).not.toBe(0xffff);
  });

  it('FCOMI sets ZF PF CF and clears OF SF AF through the lazy flags', () => {
    const h = withStack([ONE, ONE]);
    h.state[CC_OP] = 0;
    h.state[CC_SRC] = 0x8d5;
    h.state[CC_SRC + 1] = -1;
    run1(h, [0xdb, 0xf1], 0);
    expect([h.state[CC_OP], h.state[CC_SRC], h.state[CC_SRC + 1]]).toEqual([0, 0x40, 0]);
  });

  it('FNSTSW, FNSTCW, FLDCW, FNCLEX, FNINIT and EMMS', () => {
    const h = withStack([ONE]);
    h.state[GPR_BASE] = 0x12345678;
    h.state[FPU_SW] = 0x80a1;
    run1(h, [0xdf, 0xe0], 0);
    expect(h.state[GPR_BASE]).toBe(0x1234b8a1);
    run1(h, [0xdd, 0x3b], BUF);
    expect(h.mem[BUF] | (h.mem[BUF + 1] << 8)).toBe(0xb8a1);
    run1(h, [0xdb, 0xe2], 0);
    expect(h.state[FPU_SW]).toBe(0);
    h.mem.set([0x00, 0x00], BUF);
    run1(h, [0xd9, 0x2b], BUF); // QEMU keeps all 16 bits of the control word
    run1(h, [0xd9, 0x3b], BUF + 2);
    expect([h.state[FPU_CW], h.mem[BUF + 2], h.mem[BUF + 3]]).toEqual([0, 0, 0]);
    run1(h, [0xdb, 0xe3], 0);
    expect([h.state[FPU_CW], h.state[FPU_SW], h.state[FPU_TOP], h.state[FPU_TAG]]).toEqual([0x37f, 0, 0, 0xffff]);
    run1(h, [0xd9, 0xe8], 0);
    run1(h, [0x0f, 0x77], 0);
    expect(h.state[FPU_TAG]).toBe(0xffff);
  });

  it('uses the 16- and 32-bit formats and 8 XMM registers outside 64-bit mode', () => {
    for (const codeSize of [16, 32] as const) {
      const h = withStack([ONE, THREE]);
      // 32-bit code: no prefix is the 28-byte format, 66 the 14-byte one; 16-bit code the reverse.
      const long = codeSize === 32 ? [0xd9, 0x37] : [0x66, 0xd9, 0x37];
      const short = codeSize === 32 ? [0x66, 0xd9, 0x37] : [0xd9, 0x37];
      h.mem.fill(0xee, BUF, BUF + 64);
      expect(run1(h, long, BUF, codeSize).opSize).toBe(4);
      expect(run1(h, short, BUF + 32, codeSize).opSize).toBe(2);
      expect(h.mem[BUF + 27]).toBe(0);
      expect(h.mem[BUF + 28]).toBe(0xee);
      expect(h.mem[BUF + 32 + 13]).toBe(0);
      expect(h.mem[BUF + 32 + 14]).toBe(0xee);
      expect(h.mem[BUF] | (h.mem[BUF + 4] << 16)).toBe(h.mem[BUF + 32] | (h.mem[BUF + 34] << 16));
      // FXSAVE: XMM0-7 only.
      for (let k = 0; k < 64; k++) h.state[XMM_BASE + k] = 0x01010101 * (k + 1);
      h.mem.fill(0xee, BUF + 512, BUF + 1024);
      run1(h, codeSize === 16 ? [0x0f, 0xae, 0x07] : [0x0f, 0xae, 0x03], BUF + 512, codeSize);
      expect(h.mem[BUF + 512 + 160]).toBe(1);
      expect(h.mem[BUF + 512 + 160 + 16 * 7 + 15]).toBe(32);
      expect(h.mem[BUF + 512 + 288]).toBe(0xee);
    }
  });

  it('wraps linear addresses at 4 GiB outside 64-bit mode', () => {
    const top = new Uint8Array(16);
    const low = new Uint8Array(16);
    const h = new FakeHost();
    h.readMem = (lo, hi, size, out) => {
      expect(hi).toBe(0);
      const a = lo >>> 0;
      for (let k = 0; k < size; k++) {
        const b = (a + k) >>> 0;
        out[k] = b >= 0xfffffff0 ? top[b - 0xfffffff0] : low[b];
      }
    };
    low.set([0x00, 0x80, 0xff, 0x3f]); // bytes 6..9 of the m80 at 0xfffffffa: significand top, exponent
    run1(h, [0xdb, 0x2f], 0xfffffffa | 0, 32); // fld m80 [edi]
    const t = h.state[FPU_TOP];
    expect([h.state[FPU_REGS + 4 * t + 1], h.state[FPU_REGS + 4 * t + 2]]).toEqual([0x80000000 | 0, 0x3fff]);
  });
});

describe('float80', () => {
  it('rounds to the precision control, keeping the 15-bit exponent range', () => {
    const s = new fx.FloatStatus();
    s.precision = 24;
    const third = fx.div(fx.F80_ONE, fx.f80(0x4000, 0xc000000000000000n), s);
    expect(third).toEqual(fx.f80(0x3ffd, 0xaaaaab0000000000n));
    expect(s.flags).toBe(fx.FLAG_PE);
    s.flags = 0;
    // 2^-16400 is far below binary32's range but normal-ish here: only 24 significand bits.
    const tiny = fx.mul(fx.f80(0x0010, 0xffffffffffffffffn), fx.F80_ONE, s);
    expect(tiny).toEqual(fx.f80(0x0011, 0x8000000000000000n));
  });

  it('computes sin, cos and tan of doubles correctly rounded', () => {
    // sin(1), cos(1), tan(1) and sin(1e18) (a long reduction), from mpmath at 300 bits.
    expect(fx.libmSin(0x3ff0000000000000n).toString(16)).toBe('3feaed548f090cee');
    expect(fx.libmCos(0x3ff0000000000000n).toString(16)).toBe('3fe14a280fb5068c');
    expect(fx.libmTan(0x3ff0000000000000n).toString(16)).toBe('3ff8eb245cbee3a6');
    expect(fx.libmSin(0x43abc16d674ec800n).toString(16)).toBe('bfefc66798d05d2e');
  });
});
