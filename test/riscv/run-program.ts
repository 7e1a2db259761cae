// Runs a bare-metal corpus program on the virt board in deterministic time and returns its
// output, exit status and final architectural state, with the engine's counters.
import { readFileSync } from 'node:fs';
import type { Backend, ExecMode } from '../../src/accel/tcg/engine.js';
import { RiscvVirtMachine } from '../../src/machine/riscv-virt.js';

export async function runProgram(elf: string, mode: ExecMode, backend?: Backend) {
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
      backend,
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
    regionMembers: machine.engine.regionMembers,
    blocksEntered: machine.engine.blocksEntered,
    wasmFailures: machine.engine.wasmFailures,
    blocksCompiled: machine.engine.blocksCompiled,
    slowAccesses: cpu.slowLoads + cpu.slowStores,
  };
}
