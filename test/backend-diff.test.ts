// The JS backend against the IR interpreter: every corpus program runs through both, in
// deterministic time, and must produce the same output, exit status and final
// architectural state. The interpreter shares no code with i64 lowering or JS
// generation, and it always takes the memory slow path, so this also checks the
// generated soft-TLB fast path.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExecMode } from '../src/accel/tcg/engine.js';
import { RiscvVirtMachine } from '../src/machine/riscv-virt.js';
import { buildCorpus, corpusTargets } from './riscv/build.mjs';

const PROGRAMS: { name: string; out: string }[] = corpusTargets();

async function runMode(elf: string, mode: ExecMode) {
  const out: number[] = [];
  const machine = new RiscvVirtMachine(
    {
      machine: 'virt',
      ramSize: 128 << 20,
      bios: 'none',
      kernel: { path: elf, data: readFileSync(elf) },
      log: { inAsm: false, op: false, outAsm: false, int: false },
      logSink: () => {},
      serialOut: (b) => out.push(...b),
      deterministic: true,
    },
    mode,
  );
  const status = await machine.run();
  const cpu = machine.cpu;
  const regs = Array.from({ length: 32 }, (_, i) => cpu.getX(i).toString(16));
  const fregs = Array.from({ length: 32 }, (_, i) => cpu.getF(i).toString(16));
  return {
    status,
    output: Buffer.from(out).toString('latin1'),
    regs,
    fregs,
    pc: cpu.pc.toString(16),
    csrs: [cpu.mstatus, cpu.mepc, cpu.mcause, cpu.mtval, cpu.mtvec].map((v) => v.toString(16)),
    fflags: cpu.fflags,
    instret: machine.engine.instret,
  };
}

describe('JS backend vs IR interpreter', () => {
  beforeAll(async () => {
    await buildCorpus({ log: () => {} });
  }, 600_000);

  it('has a corpus to run', () => expect(PROGRAMS.length).toBeGreaterThan(5));
  for (const { name, out: elf } of PROGRAMS) {
    it(name, async () => {
      if (!existsSync(elf)) throw new Error(`${elf} was not built`);
      const jit = await runMode(elf, 'jit');
      const interp = await runMode(elf, 'interp');
      expect(jit.output.length).toBeGreaterThan(0);
      expect(jit).toEqual(interp);
    }, 120_000);
  }
});
