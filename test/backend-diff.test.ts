// The execution engines against the IR reference interpreter: every corpus program runs
// compiled to WebAssembly and to JS, in the tier-0 bytecode interpreter, tiered (the
// default), tiered with hair-trigger thresholds (so multi-block regions form everywhere),
// and in the reference interpreter, in deterministic time, and all must produce the same
// output, exit status and final architectural state. The reference shares no code with
// i64 lowering, bytecode or code generation, and it always takes the memory slow path,
// so this also checks the soft-TLB fast paths.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, corpusTargets } from './riscv/build.mjs';
import { runProgram } from './riscv/run-program.js';

const PROGRAMS: { name: string; out: string }[] = corpusTargets();
let eagerRegionMembers = 0;
/** Blocks entered from the engine loop with hair-trigger regions, per backend. */
const eagerEntered = { js: 0, wasm: 0 };

describe('compiled JS and WebAssembly, tier-0 bytecode and tiered execution vs the IR interpreter', () => {
  beforeAll(async () => {
    await buildCorpus({ log: () => {} });
  }, 600_000);

  it('has a corpus to run', () => expect(PROGRAMS.length).toBeGreaterThan(5));
  for (const { name, out: elf } of PROGRAMS) {
    it(name, async () => {
      if (!existsSync(elf)) throw new Error(`${elf} was not built`);
      const reference = await runProgram(elf, 'interp');
      expect(reference.output.length).toBeGreaterThan(0);
      const runs = [
        ['compile', 'js'], ['compile', 'wasm'], ['tier0', 'js'], ['jit', 'js'], ['jit', 'wasm'],
        ['jit-eager', 'js'], ['jit-eager', 'wasm'],
      ] as const;
      for (const [mode, backend] of runs) {
        const { regionMembers, blocksEntered, blocksCompiled, slowAccesses, ...result } = await runProgram(elf, mode, backend);
        expect({ mode, backend, ...result }).toEqual({
          mode, backend, ...reference,
          regionMembers: undefined, blocksEntered: undefined, blocksCompiled: undefined, slowAccesses: undefined,
        });
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
