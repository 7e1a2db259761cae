// The execution engines against the IR reference interpreter: every corpus program runs
// compiled to JS, in the tier-0 bytecode interpreter, tiered (the default), tiered with
// hair-trigger thresholds (so multi-block regions form everywhere), and in the
// reference interpreter, in deterministic time, and all must produce the same output,
// exit status and final architectural state. The reference shares no code with i64
// lowering, bytecode or JS generation, and it always takes the memory slow path, so this
// also checks the soft-TLB fast paths.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ExecMode } from '../src/accel/tcg/engine.js';
import { RiscvVirtMachine } from '../src/machine/riscv-virt.js';
import { buildCorpus, corpusTargets } from './riscv/build.mjs';

const PROGRAMS: { name: string; out: string }[] = corpusTargets();
let eagerRegionMembers = 0;
/** Blocks entered from the engine loop with hair-trigger regions, per backend. */
const eagerEntered = { js: 0, wasm: 0 };

async function runMode(elf: string, mode: ExecMode, backend?: Backend) {
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
  };
}

describe('compiled JS and WebAssembly, tier-0 bytecode and tiered execution vs the IR interpreter', () => {
  beforeAll(async () => {
    await buildCorpus({ log: () => {} });
  }, 600_000);

  it('has a corpus to run', () => expect(PROGRAMS.length).toBeGreaterThan(5));
  for (const { name, out: elf } of PROGRAMS) {
    it(name, async () => {
      if (!existsSync(elf)) throw new Error(`${elf} was not built`);
      const reference = await runMode(elf, 'interp');
      expect(reference.output.length).toBeGreaterThan(0);
      const runs = [
        ['compile', 'js'], ['compile', 'wasm'], ['tier0', 'js'], ['jit', 'js'], ['jit', 'wasm'],
        ['jit-eager', 'js'], ['jit-eager', 'wasm'],
      ] as const;
      for (const [mode, backend] of runs) {
        const { regionMembers, blocksEntered, ...result } = await runMode(elf, mode, backend);
        expect({ mode, backend, ...result }).toEqual({ mode, backend, ...reference, regionMembers: undefined, blocksEntered: undefined });
        if (mode === 'jit-eager') {
          eagerRegionMembers += regionMembers;
          eagerEntered[backend] += blocksEntered;
        }
      }
    }, 120_000);
  }
  it('formed multi-block regions in jit-eager mode', () => expect(eagerRegionMembers).toBeGreaterThan(50));
  // The WebAssembly dispatcher follows chained exits and jump-cache hits between regions
  // itself: far fewer blocks are entered from the engine loop than with JavaScript.
  it('follows exits between WebAssembly regions without the engine loop', () =>
    expect(eagerEntered.wasm).toBeLessThan(eagerEntered.js * 0.5));
});
