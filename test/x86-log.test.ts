// -d in_asm,op,out_asm,int on the pc board: each translated block's x86 instructions as
// address, bytes and objdump-style Intel text; the IR; the compiled module; and every
// exception and interrupt taken (runtime32 raises #UD and #BP on purpose).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTargets, corpusTargets, missingTools, REPO_ROOT } from './x86/build.mjs';
import { parseElf } from '../src/machine/elf.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const missing = missingTools();

describe('x86 -d logging', () => {
  if (missing.length) {
    if (CI) it('has the tools it needs (CI)', () => expect.fail(`missing in CI: ${missing.join(', ')}`));
    else it.skip(`skipped: ${missing.join(', ')} not installed`, () => {});
    return;
  }
  const target = corpusTargets().find((t) => t.name === 'runtime32')!;
  beforeAll(async () => {
    await buildTargets([target], { log: null });
  }, 300_000);

  it('prints blocks, IR, compiled regions and exceptions', () => {
    const r = spawnSync(process.execPath, [
      join(REPO_ROOT, 'bin/qemu-ts.js'), '-M', 'pc', '-display', 'none', '-serial', 'null',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', target.out, '-d', 'in_asm,op,out_asm,int',
    ], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status).toBe(7); // runtime32 exits with 3: (3 << 1) | 1
    const log = r.stderr;
    const entry = Number(parseElf(new Uint8Array(readFileSync(target.out))).entry);
    // The first block is the Multiboot entry point's code.
    const first = /IN: \n(0x[0-9a-f]{16}):  ([0-9a-f]{2}(?: [0-9a-f]{2})*) +(\S.*)\n/.exec(log);
    expect(first).not.toBeNull();
    expect(Number(first![1])).toBe(entry);
    expect(first![3]).toBe('cli');
    expect(log).toMatch(/^OP after optimization:\n ---- 0x[0-9a-f]{16} \(#0\)\n/m);
    expect(log).toMatch(/^OUT: \[(tb|region)_[0-9a-f]+_\d+(_\d+)?\] WebAssembly module, \d+ bytes$/m);
    expect(log).toMatch(/^x86: exception\/interrupt 6 at rip 0x[0-9a-f]+ rsp 0x[0-9a-f]+ cpl 0$/m);
    expect(log).toMatch(/^x86: exception\/interrupt 3 at rip 0x[0-9a-f]+/m);
  }, 120_000);
});
