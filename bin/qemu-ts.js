#!/usr/bin/env node
// Launcher: the program itself is the esbuild bundle of src/cli/qemu-ts.ts. It runs with
// the Node flags of ./node-flags.js, relaunching node with them when they are missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relaunchWithNodeFlags } from './node-flags.js';

const bundle = new URL('../dist/cli/qemu-ts.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("qemu-ts: dist/cli/qemu-ts.js is missing; run 'npm run build' first\n");
  process.exit(1);
}
const relaunched = relaunchWithNodeFlags(fileURLToPath(import.meta.url), process.argv.slice(2));
if (relaunched) await relaunched;
const { main } = await import(bundle.href);
const status = await main(process.argv.slice(2));
// Exit explicitly: a guest console may still hold stdin or timers open.
process.exit(status);
