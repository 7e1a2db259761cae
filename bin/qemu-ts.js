#!/usr/bin/env node
// Launcher: the program itself is the esbuild bundle of src/cli/qemu-ts.ts.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli/qemu-ts.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("qemu-ts: dist/cli/qemu-ts.js is missing; run 'npm run build' first\n");
  process.exit(1);
}
const { main } = await import(bundle.href);
const status = await main(process.argv.slice(2));
// Exit explicitly: a guest console may still hold stdin or timers open.
process.exit(status);
