// When the host refuses a region's WebAssembly module (Chrome compiles modules over 4 KB
// synchronously only off a page's main thread), the engine must go on in JavaScript:
// same output, exit status and state as with either backend alone, one failure counted.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, corpusTargets } from './riscv/build.mjs';
import { runProgram } from './riscv/run-program.js';

async function run(elf: string, backend: 'js' | 'wasm') {
  const { regionMembers, blocksEntered, wasmFailures, blocksCompiled, slowAccesses, ...result } = await runProgram(elf, 'jit-eager', backend);
  return { result, wasmFailures };
}

describe('WebAssembly backend fallback', () => {
  const RealModule = WebAssembly.Module;
  beforeAll(async () => {
    await buildCorpus({ log: () => {} });
  }, 600_000);
  afterEach(() => {
    WebAssembly.Module = RealModule;
  });

  it('runs on in JavaScript when the host refuses large modules', async () => {
    const elf = corpusTargets().find((p) => p.name === 'int_alu')!.out;
    const js = await run(elf, 'js');
    const wasm = await run(elf, 'wasm');
    expect(wasm.wasmFailures).toBe(0);
    let refused = 0;
    WebAssembly.Module = function (bytes: BufferSource) {
      if (bytes.byteLength > 4096) {
        refused++;
        throw new RangeError('WebAssembly.Module(): Buffer size is over the limit of 4096 bytes');
      }
      return new RealModule(bytes);
    } as unknown as typeof WebAssembly.Module;
    const limited = await run(elf, 'wasm');
    expect(refused).toBe(1);
    expect(limited.wasmFailures).toBe(1);
    expect(limited.result).toEqual(js.result);
    expect(wasm.result).toEqual(js.result);
  }, 120_000);
});
