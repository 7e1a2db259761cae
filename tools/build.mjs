#!/usr/bin/env node
// Build: generate the RISC-V decoder from its decodetree files, then bundle the two
// command-line programs for Node with esbuild (dist/cli/*.js, loaded by bin/*.js).
// `--gen-only` stops after code generation (tests and typechecking need only that).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { generateDecoder } from './decodetree.mjs';
import { generateX86Decoder } from './x86-decoder-gen.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const r = (p) => path.join(root, p);

generateDecoder({
  inputs: [
    { path: r('src/frontend/riscv/insn32.decode'), insnBits: 32, funcName: 'decode32' },
    { path: r('src/frontend/riscv/insn16.decode'), insnBits: 16, funcName: 'decode16' },
  ],
  output: r('src/frontend/riscv/decode-generated.ts'),
});
generateX86Decoder({ input: r('src/frontend/x86/opcodes.table'), output: r('src/frontend/x86/decode-generated.ts') });

if (!process.argv.includes('--gen-only')) {
  await build({
    entryPoints: {
      'cli/qemu-ts': r('src/cli/qemu-ts.ts'),
      'cli/qemu-ts-img': r('src/cli/qemu-ts-img.ts'),
      // The library (package.json "exports"): the core, and Node helpers.
      index: r('src/index.ts'),
      node: r('src/node.ts'),
    },
    outdir: r('dist'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    packages: 'external',
    logLevel: 'warning',
  });
}
