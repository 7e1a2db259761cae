#!/usr/bin/env node
// Image conversion throughput: qemu-ts-img convert against qemu-img convert on the same
// files, alternately in the same run, medians of N runs. Two directions:
//   raw -> qcow2   sequential read of a raw image full of random data, qcow2 write
//   qcow2 -> raw   sequential read of that qcow2 image, raw write
// Prints seconds, MiB/s and the qemu-ts-img/qemu-img throughput ratio; the outputs of the
// two tools are checked equal with `qemu-img compare` once.
//
//   node bench/convert.mjs [--size MiB] [--runs N] [--dir D]
//
// Needs the built CLI (npm run build) and qemu-img (Debian: qemu-utils). Both tools use
// their default target cache mode (qemu-img convert: cache=unsafe, no sync; qemu-ts-img
// does the same); `sync` runs before every timed command so earlier runs' dirty pages are
// not written back during it. The source is in the page cache after the first run.

import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'qemu-ts-img.js');

function parseArgs(argv) {
  const opts = { sizeMiB: 512, runs: 3, dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--size') opts.sizeMiB = Number(next());
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--dir') opts.dir = next();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/convert.mjs [--size MiB] [--runs N] [--dir D]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(opts.sizeMiB) || opts.sizeMiB < 1) throw new Error('--size must be a positive integer (MiB)');
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  return opts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function run(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return s;
}

function makeRandomRaw(path, bytes) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4 << 20);
  try {
    for (let off = 0; off < bytes; off += chunk.length) {
      const n = Math.min(chunk.length, bytes - off);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n, off);
    }
  } finally {
    closeSync(fd);
  }
}

const opts = parseArgs(process.argv.slice(2));
if (!existsSync(join(ROOT, 'dist', 'cli', 'qemu-ts-img.js'))) {
  console.error("bench/convert.mjs: dist/cli/qemu-ts-img.js is missing; run 'npm run build' first");
  process.exit(1);
}
const qemuVersion = spawnSync('qemu-img', ['--version'], { encoding: 'utf8' });
if (qemuVersion.status !== 0) {
  console.error('bench/convert.mjs: qemu-img not found (Debian: apt-get install qemu-utils)');
  process.exit(1);
}

const dir = mkdtempSync(join(opts.dir ?? tmpdir(), 'qemu-ts-convert-bench-'));
const bytes = opts.sizeMiB << 20;
try {
  console.log(`qemu-img: ${qemuVersion.stdout.split('\n')[0]}`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
  console.log(`image: ${opts.sizeMiB} MiB of random data, ${opts.runs} runs each, medians; files in ${dir}\n`);
  const src = join(dir, 'src.raw');
  makeRandomRaw(src, bytes);
  const srcQcow2 = join(dir, 'src.qcow2');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, srcQcow2]);

  const cases = [
    { name: 'raw -> qcow2', from: src, fromFmt: 'raw', toFmt: 'qcow2' },
    { name: 'qcow2 -> raw', from: srcQcow2, fromFmt: 'qcow2', toFmt: 'raw' },
  ];
  const rows = [];
  for (const c of cases) {
    const outQ = join(dir, `out-qemu.${c.toFmt}`);
    const outT = join(dir, `out-ts.${c.toFmt}`);
    const tq = [];
    const tt = [];
    for (let i = 0; i < opts.runs; i++) {
      for (const f of [outQ, outT]) rmSync(f, { force: true });
      // Alternate which tool goes first so neither always meets a colder cache.
      const order = i % 2 === 0 ? ['q', 't'] : ['t', 'q'];
      for (const who of order) {
        // Every run starts from the same state: only the sources exist, nothing dirty is
        // waiting to be written back (measured: leftovers made the next run 3x slower).
        for (const f of [outQ, outT]) rmSync(f, { force: true });
        spawnSync('sync');
        if (who === 'q') tq.push(run('qemu-img', ['convert', '-f', c.fromFmt, '-O', c.toFmt, c.from, outQ]));
        else tt.push(run(process.execPath, [BIN, 'convert', '-f', c.fromFmt, '-O', c.toFmt, c.from, outT]));
      }
    }
    // The last outputs of both tools must have the same contents.
    run('qemu-img', ['convert', '-f', c.fromFmt, '-O', c.toFmt, c.from, outQ]);
    run(process.execPath, [BIN, 'convert', '-f', c.fromFmt, '-O', c.toFmt, c.from, outT]);
    const cmp = spawnSync('qemu-img', ['compare', '-f', c.toFmt, '-F', c.toFmt, outQ, outT], { encoding: 'utf8' });
    if (cmp.status !== 0) throw new Error(`${c.name}: outputs differ: ${cmp.stdout}${cmp.stderr}`);
    const mq = median(tq);
    const mt = median(tt);
    rows.push({
      name: c.name,
      qemu: mq,
      ts: mt,
      qemuMiBs: opts.sizeMiB / mq,
      tsMiBs: opts.sizeMiB / mt,
      samples: `qemu-img ${tq.map((t) => t.toFixed(2)).join(' ')}; qemu-ts-img ${tt.map((t) => t.toFixed(2)).join(' ')}`,
    });
    for (const f of [outQ, outT]) rmSync(f, { force: true });
  }
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`${pad('direction', 14)}${pad('qemu-img', 22)}${pad('qemu-ts-img', 22)}ratio (qemu-ts-img/qemu-img throughput)`);
  for (const r of rows) {
    console.log(
      `${pad(r.name, 14)}${pad(`${r.qemu.toFixed(2)} s ${r.qemuMiBs.toFixed(0)} MiB/s`, 22)}` +
        `${pad(`${r.ts.toFixed(2)} s ${r.tsMiBs.toFixed(0)} MiB/s`, 22)}${(r.tsMiBs / r.qemuMiBs).toFixed(2)}`,
    );
  }
  console.log('\nsamples (s):');
  for (const r of rows) console.log(`  ${pad(r.name, 14)}${r.samples}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
