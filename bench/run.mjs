#!/usr/bin/env node
// Guest-speed benchmark suite: runs the bare-metal workloads of bench/riscv/
// (see WORKLOADS in bench/riscv/build.mjs) and their x86 builds (bench/x86/build.mjs,
// on the pc board against qemu-system-i386/x86_64) alternately on QEMU and qemu-ts,
// subtracts each emulator's start-up cost (measured with a program that exits
// at once), takes medians and prints one table: seconds, guest MIPS and the
// qemu-ts/QEMU time ratio per workload, plus their geometric means.
//
//   node bench/run.mjs [--only name,name] [--runs N] [--rounds N|name=N,...]
//                      [--qemu-only] [--timeout S] [--instructions N]
//                      [--json FILE] [--list]
//
// Every workload prints "<name>: rounds=N checksum=<hex>"; the checksum must
// be the same on every run and on both emulators. A difference is an emulator
// bug: it is reported loudly and the exit status is 1.
//
// The guest instruction count of a workload comes from qemu-ts
// (QEMU_TS_STATS=1 makes it print "qemu-ts: instructions=<N>" to stderr at
// exit) and is remembered next to the ELF (<elf>.insns.json), so --qemu-only
// can still print MIPS once qemu-ts has run the same ELF; --instructions N
// supplies it for a single workload. QEMU runs the same binary doing the same
// work, so its MIPS uses the same count. Without qemu-system-riscv64 the suite
// measures qemu-ts alone.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { WORKLOADS as RISCV_WORKLOADS, buildBench } from './riscv/build.mjs';
import { X86_WORKLOADS, buildX86Bench } from './x86/build.mjs';
import {
  commandLine, qemuTsAvailable, qemuTsCommand, qemuVersion, qemuVirtCommand, runEmulator,
} from '../test/riscv/emulators.mjs';
import { qemuCommand as x86QemuCommand, qemuTsCommand as x86QemuTsCommand, qemuVersion as x86QemuVersion } from '../test/x86/emulators.mjs';

/** Every workload, RISC-V ones first. */
const WORKLOADS = [...RISCV_WORKLOADS, ...X86_WORKLOADS];
const WORKLOAD_NAMES = WORKLOADS.map((w) => w.name);
const isX86 = (name) => X86_WORKLOADS.some((w) => w.name === name);

/**
 * The command line of a target on an emulator ('QEMU' or 'qemu-ts'): RISC-V targets on
 * the virt board, x86 ones (platform x86-32 / x86-64) on the pc board.
 */
function commandFor(emulator, target) {
  if (target.platform?.startsWith('x86')) return emulator === 'QEMU' ? x86QemuCommand(target) : x86QemuTsCommand(target);
  return emulator === 'QEMU' ? qemuVirtCommand(target.out) : qemuTsCommand(target.out);
}

const USAGE = `usage: node bench/run.mjs [options]
  --only a,b         workloads to run (default: all; --list shows them)
  --runs N           runs per emulator and workload (default 3); medians are reported
  --rounds N         -DROUNDS=N for every chosen workload (each counts rounds in its own
                     unit), or name=N,name=N for some of them; default: each source's own
  --qemu-only        measure QEMU alone
  --timeout S        limit per run in seconds (default 600)
  --instructions N   guest instruction count, when only QEMU runs and one workload is chosen
  --json FILE        also write every sample and the summary to FILE
  --list             print the workloads and exit`;

function parseArgs(argv) {
  const opts = {
    runs: 3, rounds: {}, only: null, qemuOnly: false, timeoutS: 600, instructions: undefined, json: null, list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') opts.runs = Number(next());
    else if (a === '--rounds') opts.roundsArg = next();
    else if (a === '--only') opts.only = next().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--qemu-only') opts.qemuOnly = true;
    else if (a === '--timeout') opts.timeoutS = Number(next());
    else if (a === '--instructions') opts.instructions = Number(next());
    else if (a === '--json') opts.json = next();
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (!(opts.timeoutS > 0)) throw new Error('--timeout must be a positive number');
  opts.names = opts.only ?? WORKLOAD_NAMES;
  for (const n of opts.names) {
    if (!WORKLOAD_NAMES.includes(n)) throw new Error(`unknown workload ${n} (have: ${WORKLOAD_NAMES.join(', ')})`);
  }
  if (opts.roundsArg !== undefined) {
    const positive = (v, what) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds: ${what} must be a positive integer`);
      return n;
    };
    if (/^\d+$/.test(opts.roundsArg)) {
      for (const n of opts.names) opts.rounds[n] = positive(opts.roundsArg, 'N');
    } else {
      for (const part of opts.roundsArg.split(',')) {
        const [name, v] = part.split('=');
        if (!WORKLOAD_NAMES.includes(name)) throw new Error(`--rounds: unknown workload ${name}`);
        opts.rounds[name] = positive(v, name);
      }
    }
  }
  if (opts.instructions !== undefined) {
    if (!(opts.instructions > 0)) throw new Error('--instructions must be a positive number');
    if (opts.names.length !== 1) throw new Error('--instructions needs exactly one workload (--only name)');
  }
  return opts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function geomean(xs) {
  return Math.exp(xs.reduce((acc, x) => acc + Math.log(x), 0) / xs.length);
}

const STATS_RE = /qemu-ts: instructions=(\d+)/;

function checksumLine(name, stdout) {
  const m = new RegExp(`^${name}: rounds=(\\d+) checksum=([0-9a-f]+)\\r?$`, 'm').exec(stdout);
  return m ? { rounds: Number(m[1]), checksum: m[2] } : null;
}

/** Why a run failed, or null. `target`: x86 programs end through isa-debug-exit, whose status for 0 is 1. */
function failure(r, target) {
  const ok = target?.platform?.startsWith('x86') ? 1 : 0;
  if (r.spawnError) return `failed to start: ${r.spawnError.message}`;
  if (r.timedOut) return `timed out after ${(r.wallMs / 1000).toFixed(1)} s`;
  if (r.status !== ok) {
    const tail = `${r.stdout}${r.stderr}`.trim().slice(-1000);
    return `exit status ${r.status ?? r.signal}${tail ? `\n${tail}` : ''}`;
  }
  return null;
}

// Instruction counts remembered per ELF (valid while the ELF is unchanged).
function insnsFile(elf) {
  return `${elf}.insns.json`;
}
function elfStamp(elf) {
  const st = statSync(elf);
  return { size: st.size, mtimeMs: st.mtimeMs };
}
function loadInstructions(elf) {
  try {
    const j = JSON.parse(readFileSync(insnsFile(elf), 'utf8'));
    const s = elfStamp(elf);
    return j.size === s.size && j.mtimeMs === s.mtimeMs ? j.instructions : undefined;
  } catch {
    return undefined;
  }
}
function saveInstructions(elf, instructions) {
  try {
    writeFileSync(insnsFile(elf), JSON.stringify({ ...elfStamp(elf), instructions }) + '\n');
  } catch {
    // only a cache
  }
}

const fmt = (x, digits) => (x === undefined || x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

function printTable(header, rows, { leftColumns = 1 } = {}) {
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const w of WORKLOADS) console.log(`${w.name.padEnd(14)} ${w.what}`);
    return 0;
  }
  const version = qemuVersion() ?? (opts.names.every(isX86) ? x86QemuVersion() : null);
  const useQemuTs = !opts.qemuOnly;
  if (opts.qemuOnly && !version) {
    console.error('--qemu-only: qemu-system-riscv64 not found');
    return 1;
  }
  if (useQemuTs && !qemuTsAvailable()) {
    console.error('bin/qemu-ts.js not found (build first: node tools/build.mjs)');
    return 1;
  }
  if (!version) console.log('qemu-system-riscv64 not found: measuring qemu-ts alone (no ratios)');

  const riscvNames = opts.names.filter((n) => !isX86(n));
  const x86Names = opts.names.filter(isX86);
  const log = (m) => console.log(m);
  const riscvTargets = riscvNames.length ? await buildBench({ names: riscvNames, rounds: opts.rounds, log }) : {};
  const x86Targets = x86Names.length ? await buildX86Bench({ names: x86Names, rounds: opts.rounds, log }) : {};
  const targets = { ...riscvTargets, ...x86Targets };
  if (riscvTargets.nop) riscvTargets.nop.platform = 'riscv64';
  for (const n of riscvNames) targets[n].platform = 'riscv64';
  // Start-up probes, one per platform in use.
  const nops = new Map();
  if (riscvTargets.nop) nops.set('riscv64', riscvTargets.nop);
  for (const n of x86Names) nops.set(targets[n].platform, x86Targets[`nop-${targets[n].platform}`]);
  const timeoutMs = opts.timeoutS * 1000;

  const emus = [];
  if (version) emus.push({ name: 'QEMU', label: version.replace('QEMU emulator version ', 'QEMU '), command: (tg) => commandFor('QEMU', tg), env: undefined });
  if (useQemuTs) emus.push({ name: 'qemu-ts', label: 'qemu-ts', command: (tg) => commandFor('qemu-ts', tg), env: { QEMU_TS_STATS: '1' } });
  const q = emus.find((e) => e.name === 'QEMU');
  const t = emus.find((e) => e.name === 'qemu-ts');

  // results[workload][emu] = { wall: [], checksum, rounds, error }
  const results = {};
  for (const n of opts.names) {
    results[n] = { instructions: n === opts.names[0] ? opts.instructions : undefined };
    for (const e of emus) results[n][e.name] = { wall: [], checksum: null, rounds: null, error: null };
  }
  const mismatches = [];

  console.log(`workloads: ${opts.names.join(', ')}; ${opts.runs} run(s) each, emulators alternating`);
  for (const e of emus) for (const nop of nops.values()) console.log(`  ${e.name} (${nop.platform}): ${commandLine(e.command({ ...nop, out: `<workload>.elf` }))}`);

  // Start-up cost: the nop program of each platform, same number of runs.
  // startup.get(emulator).get(platform) = seconds per run
  const startup = new Map(emus.map((e) => [e.name, new Map([...nops.keys()].map((p) => [p, []]))]));
  const startupError = new Map();
  for (let i = 0; i < opts.runs; i++) {
    for (const e of emus) {
      for (const [platform, nop] of nops) {
        if (startupError.has(e.name)) continue;
        const r = await runEmulator(e.command(nop), { timeoutMs: 60_000, env: e.env });
        const err = failure(r, nop);
        if (err) startupError.set(e.name, `start-up run (${platform}): ${err}`);
        else startup.get(e.name).get(platform).push(r.wallMs / 1000);
      }
    }
  }
  for (const [name, err] of startupError) console.error(`${name}: ${err}`);
  const live = emus.filter((e) => !startupError.has(e.name));
  if (live.length === 0) return 1;
  const startupText = (e) => [...nops.keys()].map((p) => `${e.name} ${p} ${median(startup.get(e.name).get(p)).toFixed(3)} s`).join(', ');
  console.log(`start-up (median): ${live.map(startupText).join(', ')}`);

  // The workloads, alternating emulators so drift in machine load hits both.
  for (let i = 0; i < opts.runs; i++) {
    for (const n of opts.names) {
      const elf = targets[n].out;
      const res = results[n];
      const parts = [];
      for (const e of live) {
        const er = res[e.name];
        if (er.error) continue;
        const r = await runEmulator(e.command(targets[n]), { timeoutMs, env: e.env });
        const err = failure(r, targets[n]);
        if (err) {
          er.error = err;
          parts.push(`${e.name} FAILED`);
          continue;
        }
        const sec = r.wallMs / 1000;
        const line = checksumLine(n, r.stdout);
        if (!line) {
          er.error = `no "${n}: rounds=N checksum=X" line in the output:\n${r.stdout.trim().slice(-500)}`;
          parts.push(`${e.name} NO CHECKSUM`);
          continue;
        }
        if (er.checksum !== null && line.checksum !== er.checksum) {
          er.error = `checksum changed between runs (${er.checksum}, then ${line.checksum})`;
          parts.push(`${e.name} CHECKSUM CHANGED`);
          continue;
        }
        er.checksum = line.checksum;
        er.rounds = line.rounds;
        er.wall.push(sec);
        if (e === t) {
          const m = STATS_RE.exec(r.stderr);
          if (m) {
            res.instructions = Number(m[1]);
            saveInstructions(elf, res.instructions);
          }
        }
        parts.push(`${e.name} ${sec.toFixed(2)} s`);
      }
      if (q && t && res.QEMU.checksum && res['qemu-ts'].checksum && res.QEMU.checksum !== res['qemu-ts'].checksum &&
          !mismatches.some((x) => x.name === n)) {
        mismatches.push({ name: n, qemu: res.QEMU.checksum, qemuTs: res['qemu-ts'].checksum, rounds: res.QEMU.rounds });
        parts.push('CHECKSUM MISMATCH');
      }
      console.log(`  run ${i + 1}/${opts.runs} ${n.padEnd(9)} ${parts.join('   ')}`);
    }
  }

  // Summary. checksum column: "same" when both emulators agree, "MISMATCH"
  // when they do not, "failed" when a run failed, else the one emulator's.
  const checkState = (res) => {
    const sums = live.map((e) => res[e.name]);
    if (sums.some((x) => x.error)) return 'FAILED';
    if (q && t && !startupError.has('QEMU') && !startupError.has('qemu-ts')) {
      return res.QEMU.checksum === res['qemu-ts'].checksum ? 'same' : 'MISMATCH';
    }
    return `${live[0].name} only`;
  };
  const rows = [];
  const summary = [];
  const tooShort = new Set();
  const gm = { q: [], t: [], qm: [], tm: [], ratio: [] };
  for (const n of opts.names) {
    const res = results[n];
    const instructions = res.instructions ?? loadInstructions(targets[n].out);
    const net = (e) => {
      if (!e || startupError.has(e.name)) return undefined;
      const er = res[e.name];
      if (er.error || er.wall.length === 0) return undefined;
      const x = median(er.wall) - median(startup.get(e.name).get(targets[n].platform));
      // Within the start-up noise: no meaningful time (raise --rounds).
      if (x < 0.005) {
        tooShort.add(n);
        return undefined;
      }
      return x;
    };
    const qNet = net(q);
    const tNet = net(t);
    const mips = (s) => (s !== undefined && instructions ? instructions / s / 1e6 : undefined);
    const ratio = qNet !== undefined && tNet !== undefined ? tNet / qNet : undefined;
    const rounds = res.QEMU?.rounds ?? res['qemu-ts']?.rounds;
    rows.push([
      n, rounds === null || rounds === undefined ? 'n/a' : String(rounds),
      instructions ? (instructions / 1e9).toFixed(3) : 'n/a',
      ...(q ? [fmt(qNet, 3)] : []), ...(t ? [fmt(tNet, 3)] : []),
      ...(q ? [fmt(mips(qNet), 0)] : []), ...(t ? [fmt(mips(tNet), 1)] : []),
      ...(q && t ? [ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}x`] : []),
      checkState(res),
    ]);
    summary.push({ workload: n, rounds, instructions, qemuNetS: qNet, qemuTsNetS: tNet, qemuMips: mips(qNet), qemuTsMips: mips(tNet), ratio, checksum: res.QEMU?.checksum ?? res['qemu-ts']?.checksum });
    if (qNet !== undefined && (!t || tNet !== undefined)) gm.q.push(qNet);
    if (tNet !== undefined && (!q || qNet !== undefined)) gm.t.push(tNet);
    if (mips(qNet) !== undefined && (!t || mips(tNet) !== undefined)) gm.qm.push(mips(qNet));
    if (mips(tNet) !== undefined && (!q || mips(qNet) !== undefined)) gm.tm.push(mips(tNet));
    if (ratio !== undefined) gm.ratio.push(ratio);
  }
  const g = (xs, d) => (xs.length ? geomean(xs).toFixed(d) : 'n/a');
  if (opts.names.length > 1) {
    rows.push([
      'geomean', '', '',
      ...(q ? [g(gm.q, 3)] : []), ...(t ? [g(gm.t, 3)] : []),
      ...(q ? [g(gm.qm, 0)] : []), ...(t ? [g(gm.tm, 1)] : []),
      ...(q && t ? [gm.ratio.length ? `${geomean(gm.ratio).toFixed(2)}x` : 'n/a'] : []),
      '',
    ]);
  }

  console.log(`\n${opts.runs} run(s) each, medians, start-up subtracted` +
    `; start-up ${live.map(startupText).join(', ')}` +
    (q ? `\nQEMU: ${q.label}` : ''));
  const header = [
    'workload', 'rounds', 'G insns',
    ...(q ? ['QEMU s'] : []), ...(t ? ['qemu-ts s'] : []),
    ...(q ? ['QEMU MIPS'] : []), ...(t ? ['qemu-ts MIPS'] : []),
    ...(q && t ? ['qemu-ts/QEMU'] : []),
    'checksum',
  ];
  printTable(header, rows);
  if (tooShort.size) console.log(`n/a: ${[...tooShort].join(', ')} ran too briefly to measure beside the start-up cost (raise --rounds)`);

  // Failures and mismatches, loudly.
  let ok = true;
  for (const n of opts.names) {
    for (const e of live) {
      const er = results[n][e.name];
      if (er.error) {
        ok = false;
        console.error(`\n${n} on ${e.name} FAILED: ${er.error}`);
      }
    }
  }
  for (const [name, err] of startupError) {
    ok = false;
    console.error(`\n${name} FAILED: ${err}`);
  }
  if (t && !startupError.has('qemu-ts') && opts.names.some((n) => !results[n].instructions && !results[n]['qemu-ts'].error)) {
    console.error('\nqemu-ts printed no "qemu-ts: instructions=<N>" line (QEMU_TS_STATS=1): MIPS unknown');
  }
  for (const m of mismatches) {
    ok = false;
    console.error(`\n*** CHECKSUM MISMATCH in ${m.name} (rounds=${m.rounds}): QEMU ${m.qemu}, qemu-ts ${m.qemuTs}`);
    console.error(`*** qemu-ts computes a different result from QEMU: an emulation bug. Reproduce with`);
    console.error(`***   ${commandLine(commandFor('QEMU', targets[m.name]))}`);
    console.error(`***   ${commandLine(commandFor('qemu-ts', targets[m.name]))}`);
  }

  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({
      date: new Date().toISOString(),
      qemu: version, runs: opts.runs,
      startupS: Object.fromEntries(live.map((e) => [e.name, Object.fromEntries(startup.get(e.name))])),
      samples: Object.fromEntries(opts.names.map((n) => [n, {
        elf: basename(targets[n].out),
        ...Object.fromEntries(emus.map((e) => [e.name, { wallS: results[n][e.name].wall, checksum: results[n][e.name].checksum, error: results[n][e.name].error }])),
      }])),
      summary, mismatches,
    }, null, 2) + '\n');
    console.log(`\nwrote ${opts.json}`);
  }
  return ok ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
