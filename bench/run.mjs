#!/usr/bin/env node
// Guest-speed benchmark: runs the bare-metal integer workload
// (bench/riscv/intmix.c) alternately on QEMU and qemu-ts, subtracts each
// emulator's start-up cost (measured with a program that exits at once),
// takes medians and prints seconds, guest MIPS and the qemu-ts/QEMU ratio.
//
//   node bench/run.mjs [--runs N] [--rounds N] [--qemu-only] [--timeout S]
//
// The guest instruction count comes from qemu-ts (QEMU_TS_STATS=1 makes it
// print "qemu-ts: instructions=<N>" to stderr at exit). QEMU runs the same
// binary doing the same work, so its MIPS uses the same count. With
// --qemu-only (or when qemu-ts fails) QEMU's time is still reported; MIPS is
// shown only if a count is known (--instructions N supplies one).

import { buildBench } from './riscv/build.mjs';
import {
  commandLine, qemuTsAvailable, qemuTsCommand, qemuVersion, qemuVirtCommand, runEmulator,
} from '../test/riscv/emulators.mjs';

function parseArgs(argv) {
  const opts = { runs: 3, rounds: undefined, qemuOnly: false, timeoutS: 600, instructions: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') opts.runs = Number(next());
    else if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--qemu-only') opts.qemuOnly = true;
    else if (a === '--timeout') opts.timeoutS = Number(next());
    else if (a === '--instructions') opts.instructions = Number(next());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.mjs [--runs N] [--rounds N] [--qemu-only] [--timeout S] [--instructions N]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (opts.rounds !== undefined && (!Number.isInteger(opts.rounds) || opts.rounds < 1)) {
    throw new Error('--rounds must be a positive integer');
  }
  return opts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const STATS_RE = /qemu-ts: instructions=(\d+)/;
const CHECKSUM_RE = /checksum=([0-9a-f]+)/;

function fail(r) {
  if (r.spawnError) return `failed to start: ${r.spawnError.message}`;
  if (r.timedOut) return `timed out after ${(r.wallMs / 1000).toFixed(1)} s`;
  if (r.status !== 0) return `exit status ${r.status ?? r.signal}${r.stderr ? `\n${r.stderr.trim().slice(-1000)}` : ''}`;
  return null;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const version = qemuVersion();
  if (!version) {
    console.error('qemu-system-riscv64 not found');
    return 1;
  }
  const useQemuTs = !opts.qemuOnly;
  if (useQemuTs && !qemuTsAvailable()) {
    console.error('bin/qemu-ts.js not found (use --qemu-only to measure QEMU alone)');
    return 1;
  }
  const { intmix, nop } = await buildBench({ rounds: opts.rounds });
  const timeoutMs = opts.timeoutS * 1000;
  const stats = { QEMU_TS_STATS: '1' };

  const emus = [{ name: 'QEMU', label: version.replace('QEMU emulator version ', 'QEMU '), command: qemuVirtCommand, env: undefined }];
  if (useQemuTs) emus.push({ name: 'qemu-ts', label: 'qemu-ts', command: qemuTsCommand, env: stats });
  for (const e of emus) {
    e.startup = [];
    e.wall = [];
    e.error = null;
    e.checksum = null;
  }

  console.log(`workload: ${intmix.out}`);
  for (const e of emus) console.log(`  ${e.name}: ${commandLine(e.command(intmix.out))}`);

  // Start-up cost: the nop program, same number of runs.
  for (let i = 0; i < opts.runs; i++) {
    for (const e of emus) {
      if (e.error) continue;
      const r = await runEmulator(e.command(nop.out), { timeoutMs: 60_000, env: e.env });
      const err = fail(r);
      if (err) e.error = `start-up run: ${err}`;
      else e.startup.push(r.wallMs / 1000);
    }
  }

  // The workload, alternating emulators so drift in machine load hits both.
  let instructions = opts.instructions;
  for (let i = 0; i < opts.runs; i++) {
    for (const e of emus) {
      if (e.error) continue;
      process.stdout.write(`  run ${i + 1}/${opts.runs} ${e.name}... `);
      const r = await runEmulator(e.command(intmix.out), { timeoutMs, env: e.env });
      const err = fail(r);
      if (err) {
        e.error = err;
        console.log('failed');
        continue;
      }
      const sec = r.wallMs / 1000;
      e.wall.push(sec);
      const sum = CHECKSUM_RE.exec(r.stdout)?.[1] ?? null;
      if (e.checksum !== null && sum !== e.checksum) e.error = `checksum changed between runs (${e.checksum} vs ${sum})`;
      e.checksum = sum;
      const m = STATS_RE.exec(r.stderr);
      if (e.name === 'qemu-ts') {
        if (m) instructions = Number(m[1]);
        else if (instructions === undefined) e.statsMissing = true;
      }
      console.log(`${sec.toFixed(2)} s`);
    }
  }

  const [q, t] = emus;
  if (t && !t.error && q.checksum !== t.checksum) {
    t.error = `output differs from QEMU (checksum ${t.checksum} vs ${q.checksum})`;
  }

  const rows = [];
  for (const e of emus) {
    if (e.error) {
      console.error(`\n${e.name} failed: ${e.error}`);
      continue;
    }
    const startup = median(e.startup);
    const wall = median(e.wall);
    const net = Math.max(wall - startup, 1e-9);
    rows.push({ e, startup, wall, net, mips: instructions ? instructions / net / 1e6 : undefined });
  }
  if (t?.statsMissing) console.error('\nqemu-ts printed no "qemu-ts: instructions=<N>" line (QEMU_TS_STATS=1); MIPS unknown');

  const qRow = rows.find((r) => r.e === q);
  console.log(`\nintmix, ${opts.runs} run(s) each, medians; guest instructions: ${instructions ?? 'unknown'}`);
  const header = ['emulator', 'wall s', 'start-up s', 'net s', 'guest MIPS', 'time vs QEMU'];
  const table = [header];
  for (const r of rows) {
    table.push([
      r.e.label,
      r.wall.toFixed(3),
      r.startup.toFixed(3),
      r.net.toFixed(3),
      r.mips === undefined ? 'n/a' : r.mips.toFixed(0),
      qRow ? `${(r.net / qRow.net).toFixed(2)}x` : 'n/a',
    ]);
  }
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (q.checksum) console.log(`checksum (QEMU): ${q.checksum}`);
  // A qemu-ts failure is reported but QEMU's figure still stands; the exit
  // status says whether every requested emulator produced a result.
  return emus.every((e) => !e.error) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
