#!/usr/bin/env node
// Launcher: the program itself is the esbuild bundle of src/cli/qemu-ts-img.ts.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli/qemu-ts-img.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("qemu-ts-img: dist/cli/qemu-ts-img.js is missing; run 'npm run build' first\n");
  process.exit(1);
}
const { main } = await import(bundle.href);
process.exit(await main(process.argv.slice(2)));
