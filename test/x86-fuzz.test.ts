// Random bytes as x86 code, in real mode, 32-bit protected mode and 64-bit long mode: the
// guest gets its exceptions, the emulator never throws, hangs or leaves the CPU in a
// state its own consistency checks reject. Each trial writes random code at CODE and
// points every interrupt vector at a HLT; a trial ends when the CPU halts or its
// instruction budget is spent. Fixed seed in CI (X86_FUZZ_SEED picks another locally);
// X86_FUZZ_TRIALS scales it.
import { describe, expect, it } from 'vitest';
import { ExecMode, StopReason, TcgEngine } from '../src/accel/tcg/engine.js';
import { ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0_PE, CR0_PG, CR4_PAE, EFER_LME, X86Cpu } from '../src/frontend/x86/cpu.js';
import { CPU_MODELS } from '../src/frontend/x86/cpuid.js';
import { Seg } from '../src/frontend/x86/state.js';
import { AddressSpace } from '../src/memory/address-space.js';

const SEED = Number(process.env.X86_FUZZ_SEED ?? 0x5eed);
const TRIALS = Number(process.env.X86_FUZZ_TRIALS ?? 700);
const BUDGET = 2000;
const RAM = 16 << 20;
const CODE = 0x10000;
const CODE_BYTES = 256;
const IDT = 0x1000;
const HLT_AT = 0x2000; // HLT; JMP back to the HLT
const GDT = 0x3000;
const STACK = 0x80000;
const PML4 = 0x4000;

/** xorshift32: reproducible, and fast enough to fill every trial. */
function rng(seed: number) {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

type Mode = 'real' | 'protected' | 'long';

function makeMachine(mode: Mode, engineMode: ExecMode) {
  const bus = new AddressSpace(0, RAM);
  let engine: TcgEngine | null = null;
  const io = new Map<number, number>();
  const cpu = new X86Cpu(bus, CPU_MODELS.max, {
    instret: () => engine!.instret,
    requestExit: () => engine?.requestExit(),
    flushTranslations: () => engine?.flush(),
    tlbFlushed: () => engine?.tlbFlushed(),
    tlbFlushedPage: (lo, hi) => engine?.tlbFlushedPage(lo, hi),
    ioRead: (port) => io.get(port) ?? -1,
    ioWrite: (port, value) => void io.set(port, value),
    acknowledgeInterrupt: () => -1,
    shutdown: () => engine?.requestExit(),
    tsc: () => 0n,
    overlapsCode: (page, off, len) => engine!.overlapsCode(page, off, len),
  });
  engine = new TcgEngine(cpu, { mode: engineMode });
  const v = bus.ramView;
  v.setUint8(HLT_AT, 0xf4);
  v.setUint16(HLT_AT + 1, 0xfdeb, true); // jmp $-1 (back to the HLT)
  const flat = ATTR_P | ATTR_S | ATTR_G;
  if (mode === 'real') {
    // The IVT at 0: every vector -> 0000:HLT_AT.
    for (let i = 0; i < 256; i++) v.setUint32(i * 4, HLT_AT, true);
  } else {
    // GDT: null, 32-bit code 0x08, data 0x10, 64-bit code 0x18.
    v.setBigUint64(GDT + 8, 0x00cf9a000000ffffn, true);
    v.setBigUint64(GDT + 16, 0x00cf92000000ffffn, true);
    v.setBigUint64(GDT + 24, 0x00af9a000000ffffn, true);
    cpu.gdtBase = BigInt(GDT);
    cpu.gdtLimit = 31;
    const long = mode === 'long';
    const gateSize = long ? 16 : 8;
    for (let i = 0; i < 256; i++) {
      const at = IDT + i * gateSize;
      v.setUint32(at, ((long ? 0x18 : 0x08) << 16) | (HLT_AT & 0xffff), true);
      v.setUint32(at + 4, (HLT_AT & 0xffff0000) | 0x8e00, true); // present, DPL 0, interrupt gate
      if (long) v.setBigUint64(at + 8, 0n, true);
    }
    cpu.idtBase = BigInt(IDT);
    cpu.idtLimit = 256 * gateSize - 1;
    if (long) {
      // Identity map the first 1 GiB with 2 MiB pages.
      v.setBigUint64(PML4, BigInt(PML4 + 0x1000) | 3n, true);
      v.setBigUint64(PML4 + 0x1000, BigInt(PML4 + 0x2000) | 3n, true);
      for (let i = 0; i < 512; i++) v.setBigUint64(PML4 + 0x2000 + 8 * i, BigInt(i) * 0x200000n | 0x83n, true);
      cpu.writeCr4(CR4_PAE);
      cpu.writeCr3(PML4);
      cpu.writeEfer(EFER_LME);
      cpu.writeCr0(cpu.cr0 | CR0_PE | CR0_PG);
      cpu.setSegmentRaw(Seg.CS, 0x18, 0n, 0xffffffff, flat | ATTR_L | 0xb);
    } else {
      cpu.writeCr0(cpu.cr0 | CR0_PE);
      cpu.setSegmentRaw(Seg.CS, 0x08, 0n, 0xffffffff, flat | ATTR_DB | 0xb);
    }
    for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) cpu.setSegmentRaw(s, 0x10, 0n, 0xffffffff, flat | ATTR_DB | 3);
  }
  return { bus, cpu, engine };
}

function runTrials(mode: Mode, seed: number, trials: number, engineMode: ExecMode) {
  const next = rng(seed);
  const { bus, cpu, engine } = makeMachine(mode, engineMode);
  let instructions = 0;
  let halted = 0;
  for (let t = 0; t < trials; t++) {
    const code = new Uint8Array(CODE_BYTES);
    for (let i = 0; i < CODE_BYTES; i++) code[i] = next() & 0xff;
    bus.writeBytes(CODE, code);
    // Registers point into RAM so that many memory operands land somewhere mapped.
    for (let r = 0; r < 16; r++) cpu.setReg(r, BigInt(0x20000 + (next() & 0xffff)));
    cpu.setReg(4, BigInt(STACK));
    cpu.halted = false;
    engine.halted = false;
    if (mode === 'real') {
      cpu.setSegmentRaw(Seg.CS, CODE >> 4, BigInt(CODE), 0xffff, ATTR_P | ATTR_S | 0xb);
      cpu.setRip(0n);
    } else {
      cpu.setRip(BigInt(CODE));
    }
    cpu.eflags = 2;
    const before = engine.instret;
    const stop = engine.run(BUDGET);
    if (stop === StopReason.Halted) halted++;
    instructions += engine.instret - before;
    // Leave the CPU where the next trial can set it up again.
    if (mode !== 'real' && (cpu.cpl !== 0 || !(cpu.cr0 & CR0_PE))) {
      cpu.cpl = 0;
      cpu.writeCr0(cpu.cr0 | CR0_PE);
    }
  }
  return { instructions, halted };
}

describe('x86 fuzz: random code never breaks the emulator', () => {
  for (const mode of ['real', 'protected', 'long'] as const) {
    it(`${mode} mode`, () => {
      const { instructions, halted } = runTrials(mode, SEED + mode.length, TRIALS, 'jit-eager');
      // Most random code faults quickly into the HLT handler; some loops until the budget.
      expect(halted).toBeGreaterThan(0);
      expect(instructions).toBeGreaterThan(TRIALS * 20);
    }, 300_000);
  }
});
