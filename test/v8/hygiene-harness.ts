/**
 * Runs in a child `node --allow-natives-syntax --trace-deopt` (see test/v8-hygiene.test.ts):
 * boots a bare-metal workload in the default tiered engine with the JavaScript backend, prints a `STEADY` marker once
 * the hot loops have had time to be compiled and optimized, and at exit prints one JSON
 * line with V8's optimization status of the compiled functions that run the named guest
 * functions. V8's own deopt trace goes to stdout between the markers.
 *
 *   node --allow-natives-syntax --trace-deopt hygiene.mjs <elf> <warmup-ms> <symbol>...
 */
import { readFileSync } from 'node:fs';
import { RiscvVirtMachine } from '../../src/machine/riscv-virt.js';
import { parseElf } from '../../src/machine/elf.js';

const [elfPath, warmupMs, ...symbolNames] = process.argv.slice(2);
const data = readFileSync(elfPath);
const elf = parseElf(data);
const machine = new RiscvVirtMachine({
  machine: 'virt',
  ramSize: 64 << 20,
  bios: 'none',
  kernel: { path: elfPath, data },
  log: { inAsm: false, op: false, outAsm: false, int: false },
  logSink: () => {},
  serialOut: () => {},
  // The JavaScript backend: its region functions depend on V8's feedback and tiering,
  // which is what this checks (the WebAssembly backend has no feedback to go wrong).
  backend: 'js',
});

// The run loop yields to the event loop every ~20 ms, so this timer fires mid-run.
setTimeout(() => console.log('STEADY'), Number(warmupMs));
const status = await machine.run();
console.log('DONE');

// `%GetOptimizationStatus` is V8 syntax, not JavaScript: compile it at run time.
const optimizationStatus = new Function('f', 'return %GetOptimizationStatus(f);') as (f: unknown) => number;
const functions: Record<string, { name: string; status: number }[]> = {};
for (const name of symbolNames) {
  const sym = elf.symbols.find((s) => s.name === name);
  if (!sym) throw new Error(`no symbol ${name} in ${elfPath}`);
  const seen = new Set<unknown>();
  const list: { name: string; status: number }[] = [];
  for (const tb of machine.engine.compiledBlocks()) {
    if (tb.pc < sym.value || tb.pc >= sym.value + sym.size || seen.has(tb.run)) continue;
    seen.add(tb.run);
    list.push({ name: tb.run.name, status: optimizationStatus(tb.run) });
  }
  functions[name] = list;
}
console.log(JSON.stringify({ status, functions }));
