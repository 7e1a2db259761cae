// Micro-benchmark: translation cost per guest instruction, stage by stage (decode +
// IR emission, optimization, i64 lowering, JS generation, `new Function` + first call).
// Run with `npm run bench:translate`. The guest code is firmware/hello/hello.elf's text.
import Benchmark from 'benchmark';
import { readFileSync } from 'node:fs';
import { compileJs, generateJs } from '../src/backend/js/codegen.js';
import { lowerI64 } from '../src/ir/lower.js';
import { optimize } from '../src/ir/optimize.js';
import { RiscvCpu } from '../src/frontend/riscv/cpu.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { parseElf } from '../src/machine/elf.js';

const elf = parseElf(readFileSync(new URL('../../firmware/hello/hello.elf', import.meta.url) /* from dist/bench */));
const bus = new AddressSpace(0x80000000, 1 << 20);
for (const seg of elf.loadSegments) bus.writeBytes(Number(seg.paddr), seg.data);
const cpu = new RiscvCpu(bus, 0, { instret: () => 0, mtime: () => 0n, requestExit: () => {}, flushTranslations: () => {} });
const flags = cpu.tbFlags() | (3 << 2);

// Block start addresses: walk the text translating block after block.
const starts: bigint[] = [];
let insns = 0;
for (let pc = elf.entry; starts.length < 40; ) {
  const r = cpu.translate(pc, flags);
  if (!r) break;
  starts.push(pc);
  insns += r.insnCount;
  pc += BigInt(r.byteLength);
}
const perInsn = (hz: number) => (1e6 / hz / insns).toFixed(2);

let n = 0;
const suite = new Benchmark.Suite();
suite
  .add('decode + IR', () => {
    for (const pc of starts) cpu.translate(pc, flags);
  })
  .add('decode + IR + optimize + lower + JS text', () => {
    for (const pc of starts) {
      const b = cpu.translate(pc, flags)!.builder;
      optimize(b);
      lowerI64(b, { mul64: cpu.helperIds.mul64 });
      generateJs(b.ops, cpu.helpers, 'tb');
    }
  })
  .add('... + new Function + first call', () => {
    for (const pc of starts) {
      const b = cpu.translate(pc, flags)!.builder;
      optimize(b);
      lowerI64(b, { mul64: cpu.helperIds.mul64 });
      const fn = compileJs(generateJs(b.ops, cpu.helpers, `tb${n++}`), cpu);
      void fn;
    }
  })
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as Benchmark.Target & { hz: number };
    console.log(`${String(t.name).padEnd(44)} ${perInsn(t.hz)} us per guest instruction (${starts.length} blocks, ${insns} insns)`);
  })
  .run();
