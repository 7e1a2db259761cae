#!/usr/bin/env node
// Workload inside the booted guest: boots Debian's stock riscv64 kernel with
// our busybox initramfs (as bench/boot.mjs does) on QEMU and qemu-ts,
// alternately, and at the shell prompt runs a fixed series of busybox steps:
//
//   shell    an arithmetic `while` loop in ash (interpreter, no syscalls)
//   seq-md5  seq 1 100000 into a file on the initramfs, md5sum of it
//   gzip     gzip -6 and gunzip of that file (0.6 MiB), md5sum of the round trip
//   sort     sort -r of the 100,000 lines, md5sum of the result
//   fork     100 fork+exec of /bin/true (page faults, TLB and cache flushes)
//
// Each step runs as `sh -c '...'`; the guest's own clock times it: uptime
// from /proc/uptime before and after (10 ms resolution; the guest clock follows
// host time on both emulators) and the children's user/sys time from ash's
// `times` builtin. Both are read by the kernel, not through the vDSO (busybox
// `time` reads the clock with a user-mode rdtime, which qemu-ts's built-in SBI
// does not let user mode do yet; the `vdso-clock` check below reports that).
// The host's wall time between the step's start and end markers on the console
// is recorded too; medians of --runs boots.
//
// The steps' outputs (md5 sums, sizes, counts) and the checks' must be
// identical on every run and on both emulators: a difference is an emulation
// bug, reported loudly (exit status 1).
//
//   node bench/guest.mjs [--runs N] [--timeout S] [--qemu-only | --qemu-ts-only] [--json FILE]
import { writeFileSync } from 'node:fs';
import {
  bootToPrompt, guestImages, linuxEmulators, median, parseOptions, positiveInteger, positiveNumber,
} from './linux.mjs';

const USAGE = `usage: node bench/guest.mjs [options]
  --runs N          boots per emulator (default 3); medians are reported
  --timeout S       limit for the boot and for each step, in seconds (default 600)
  --qemu-only       measure QEMU alone
  --qemu-ts-only    measure qemu-ts alone
  --json FILE       also write every sample and the summary to FILE`;

const opts = parseOptions(process.argv.slice(2), {
  runs: { default: 3, parse: (v, a) => positiveInteger(v, a) },
  timeout: { default: 600, parse: (v, a) => positiveNumber(v, a) },
  qemuOnly: { flag: true, default: false },
  qemuTsOnly: { flag: true, default: false },
  json: { default: null },
}, USAGE);

/** The timed steps, in order; later ones use the file seq-md5 writes. Each is a `sh -c` script. */
const STEPS = [
  { name: 'shell', script: 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i' },
  { name: 'seq-md5', script: 'seq 1 100000 > /tmp/f; md5sum /tmp/f' },
  { name: 'gzip', script: 'gzip -6 -c /tmp/f > /tmp/f.gz; gunzip -c /tmp/f.gz | md5sum; wc -c < /tmp/f.gz' },
  { name: 'sort', script: 'sort -r /tmp/f | md5sum' },
  { name: 'fork', script: 'i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done; echo $i' },
];

/** Untimed checks whose output must agree between the emulators. */
const CHECKS = [
  // busybox time reads CLOCK_MONOTONIC through the vDSO (rdtime in user mode).
  { name: 'vdso-clock', cmd: 'time true >/dev/null 2>&1; echo "time-status=$?"' },
];

/** The command typed for a step: uptime and `times` around the script. */
function timedCommand(script) {
  return `read u _ < /proc/uptime; echo "@@u0 $u"; times; sh -c '${script}'; read u _ < /proc/uptime; times; echo "@@u1 $u"`;
}

// ash's `times`: two lines "<user>m<s>s <sys>m<s>s", the shell's and its children's.
const TIMES_LINE = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/;

/** { real, user, sys, result } of a timed step's output; NaN where missing. */
function parseTimed(output) {
  const lines = output.split('\n');
  const u0 = lines.findIndex((l) => l.startsWith('@@u0 '));
  const u1 = lines.findIndex((l) => l.startsWith('@@u1 '));
  const up = (i) => (i >= 0 ? Number(lines[i].slice(5)) : NaN);
  const children = (i) => {
    const m = TIMES_LINE.exec(lines[i] ?? '');
    return m ? [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] : [NaN, NaN];
  };
  // After @@u0: the shell's line, then the children's. Before @@u1: the same two.
  const before = children(u0 + 2);
  const after = children(u1 - 1);
  const result = u0 >= 0 && u1 >= 0 ? resultOf(lines.slice(u0 + 3, u1 - 2).join('\n')) : resultOf(output);
  return { real: up(u1) - up(u0), user: after[0] - before[0], sys: after[1] - before[1], result };
}

/** A step's printed result, without kernel log lines that may interleave. */
function resultOf(text) {
  return text.split('\n').filter((l) => !/^\[\s*\d+\.\d+\]/.test(l)).join('\n').trim();
}

async function main() {
  if (opts.qemuOnly && opts.qemuTsOnly) throw new Error('--qemu-only and --qemu-ts-only exclude each other');
  const images = await guestImages();
  const emulators = linuxEmulators(images, { qemu: !opts.qemuTsOnly, qemuTs: !opts.qemuOnly });
  if (emulators.length === 0) throw new Error('no emulator to run');
  const timeoutMs = opts.timeout * 1000;

  // samples[emu.short] = { boot: [], steps: { name: [{ real, user, sys, wall }] }, results: { name: text }, error }
  const samples = {};
  for (const e of emulators) {
    samples[e.short] = { boot: [], steps: Object.fromEntries(STEPS.map((s) => [s.name, []])), results: {}, error: null };
  }
  const problems = [];

  console.log(`Debian ${images.manifest.kernelVersion} + busybox initramfs, ${opts.runs} boot(s) per emulator, alternating`);
  for (const e of emulators) console.log(`  ${e.short}: ${[e.cmd, ...e.args].join(' ')}`);

  for (let r = 0; r < opts.runs; r++) {
    for (const e of emulators) {
      const s = samples[e.short];
      if (s.error) continue;
      let guest;
      try {
        const boot = await bootToPrompt(e, { timeoutS: opts.timeout });
        guest = boot.guest;
        s.boot.push(boot.bootS);
        const parts = [`boot ${boot.bootS.toFixed(1)} s`];
        const record = (name, result) => {
          if (s.results[name] === undefined) s.results[name] = result;
          else if (s.results[name] !== result) {
            problems.push(`${e.short}: ${name} printed something else on run ${r + 1}:\n  before: ${JSON.stringify(s.results[name])}\n  now:    ${JSON.stringify(result)}`);
          }
        };
        const setup = await guest.run('mkdir -p /tmp', { timeoutMs });
        if (setup.status !== 0) throw new Error(`mkdir -p /tmp exited with status ${setup.status}:\n${setup.output}`);
        for (const check of CHECKS) {
          const res = await guest.run(check.cmd, { timeoutMs });
          record(check.name, resultOf(res.output));
        }
        for (const step of STEPS) {
          const res = await guest.run(timedCommand(step.script), { timeoutMs });
          if (res.status !== 0) throw new Error(`step ${step.name} exited with status ${res.status}:\n${res.output}`);
          const { result, ...times } = parseTimed(res.output);
          if (!Number.isFinite(times.real)) throw new Error(`step ${step.name}: no uptime stamps in its output:\n${res.output}`);
          const sample = { ...times, wall: (res.endedAt - res.startedAt) / 1000 };
          record(step.name, result);
          s.steps[step.name].push(sample);
          parts.push(`${step.name} ${sample.real.toFixed(2)}`);
        }
        console.log(`run ${r + 1}/${opts.runs} ${e.short.padEnd(7)} ${parts.join('  ')}`);
      } catch (err) {
        s.error = err instanceof Error ? err.message : String(err);
        console.log(`run ${r + 1}/${opts.runs} ${e.short.padEnd(7)} FAILED`);
      } finally {
        guest?.kill();
      }
    }
  }

  // Outputs must agree between emulators.
  const [a, b] = emulators;
  if (b) {
    for (const name of [...CHECKS.map((c) => c.name), ...STEPS.map((st) => st.name)]) {
      const x = samples[a.short].results[name];
      const y = samples[b.short].results[name];
      if (x !== undefined && y !== undefined && x !== y) {
        problems.push(`${name}: ${a.short} printed ${JSON.stringify(x)}, ${b.short} printed ${JSON.stringify(y)}`);
      }
    }
  }

  // Table: guest-reported real time per step (and the host's wall time), medians.
  const q = emulators.find((e) => e.short === 'QEMU');
  const t = emulators.find((e) => e.short === 'qemu-ts');
  const med = (e, step, key) => {
    const xs = samples[e.short].steps[step].map((x) => x[key]).filter(Number.isFinite);
    return xs.length ? median(xs) : undefined;
  };
  const f = (x, d = 2) => (x === undefined ? 'n/a' : x.toFixed(d));
  const ratio = (x, y) => (x !== undefined && y !== undefined && x > 0 ? `${(y / x).toFixed(1)}x` : 'n/a');
  const header = ['step'];
  for (const e of emulators) header.push(`${e.short} real s`, `${e.short} wall s`);
  if (q && t) header.push('qemu-ts/QEMU');
  const rows = [];
  const summary = [];
  const total = Object.fromEntries(emulators.map((e) => [e.short, { real: 0, wall: 0, ok: true }]));
  for (const step of STEPS) {
    const row = [step.name];
    const entry = { step: step.name, script: step.script };
    for (const e of emulators) {
      const real = med(e, step.name, 'real');
      const wall = med(e, step.name, 'wall');
      row.push(f(real), f(wall));
      entry[e.short] = { realS: real, wallS: wall, userS: med(e, step.name, 'user'), sysS: med(e, step.name, 'sys') };
      if (real === undefined) total[e.short].ok = false;
      else {
        total[e.short].real += real;
        total[e.short].wall += wall;
      }
    }
    if (q && t) row.push(ratio(entry.QEMU.realS, entry['qemu-ts'].realS));
    rows.push(row);
    summary.push(entry);
  }
  const totalRow = ['all steps'];
  for (const e of emulators) {
    const tt = total[e.short];
    totalRow.push(tt.ok ? f(tt.real) : 'n/a', tt.ok ? f(tt.wall) : 'n/a');
  }
  if (q && t) totalRow.push(total.QEMU.ok && total['qemu-ts'].ok ? ratio(total.QEMU.real, total['qemu-ts'].real) : 'n/a');
  rows.push(totalRow);
  const bootRow = ['boot (wall)'];
  const bootMed = (e) => (samples[e.short].boot.length ? median(samples[e.short].boot) : undefined);
  for (const e of emulators) bootRow.push('', f(bootMed(e), 1));
  if (q && t) bootRow.push(ratio(bootMed(q), bootMed(t)));
  rows.push(bootRow);

  console.log(`\n${opts.runs} boot(s) each, medians; "real" is the guest's uptime difference, "wall" the host's time between the step's console markers`);
  if (q) console.log(`QEMU: ${q.name}`);
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('outputs:');
  for (const name of [...CHECKS.map((c) => c.name), ...STEPS.map((st) => st.name)]) {
    const outs = emulators.map((e) => samples[e.short].results[name]).filter((x) => x !== undefined);
    const shown = [...new Set(outs)].map((x) => x.replace(/\s*\n\s*/g, ' | '));
    if (shown.length === 1) console.log(`  ${name}: ${shown[0]}`);
    else {
      for (const e of emulators) {
        const x = samples[e.short].results[name];
        if (x !== undefined) console.log(`  ${name} (${e.short}): ${x.replace(/\s*\n\s*/g, ' | ')}`);
      }
    }
  }

  let ok = true;
  for (const e of emulators) {
    if (samples[e.short].error) {
      ok = false;
      console.error(`\n${e.short} FAILED: ${samples[e.short].error}`);
    }
  }
  for (const p of problems) {
    ok = false;
    console.error(`\n*** OUTPUT MISMATCH: ${p}`);
  }
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({
      date: new Date().toISOString(), kernel: images.manifest.kernelVersion, runs: opts.runs,
      emulators: emulators.map((e) => ({ name: e.name, command: [e.cmd, ...e.args] })),
      samples, summary, problems,
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
