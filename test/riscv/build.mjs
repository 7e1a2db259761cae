#!/usr/bin/env node
// Builds the bare-metal RISC-V test corpus with riscv64-unknown-elf-gcc.
//
//   node test/riscv/build.mjs            build everything (corpus + ISA tests)
//   node test/riscv/build.mjs traps csr  build only the named programs
//   node test/riscv/build.mjs --list     print targets
//
// Programs: every test/riscv/<name>.c and/or <name>.S (files sharing a base
// name form one program), linked with common/crt.S + common/lib.c into
// build/riscv-tests/<name>.elf. A source may select its -march with a line
//   // build: -march=rv64gc_zba_zbb_zbs
// ISA tests: test/riscv/isa/<name>.S -> build/riscv-tests/isa/<name>.elf, each
// stand-alone (HTIF tohost). The expected exit status is declared in the file
// (default 0), plus optionally a status QEMU reports because of a known bug:
//   expect-status: 5
//   qemu-known-bug-status: 2
//
// A target is rebuilt only when its command line changed or one of its inputs
// (gcc's dependency file lists headers too) is newer than the ELF.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
export const CORPUS_DIR = here;
export const COMMON_DIR = join(here, 'common');
export const ISA_DIR = join(here, 'isa');
export const OUT_DIR = join(REPO_ROOT, 'build', 'riscv-tests');

export const CROSS_GCC = process.env.RISCV_GCC ?? 'riscv64-unknown-elf-gcc';
export const DEFAULT_MARCH = 'rv64gc';
const MABI = 'lp64d';

// Flags shared by every bare-metal program. medany: code lives at 0x80000000,
// outside medlow's +-2 GiB around 0. -fno-tree-loop-distribute-patterns keeps
// gcc from turning lib.c's memset/memcpy loops into calls to themselves.
const BASE_CFLAGS = [
  '-O2', `-mabi=${MABI}`, '-mcmodel=medany', '-ffreestanding',
  '-fno-tree-loop-distribute-patterns', '-nostdlib', '-nostartfiles', '-static',
  '-Wall', '-Wno-unused-function', '-g',
];

export class CrossCompilerMissingError extends Error {
  constructor(detail) {
    super(`RISC-V cross compiler '${CROSS_GCC}' not found (${detail}). ` +
      `Install it (Debian: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf) ` +
      `or set RISCV_GCC.`);
    this.name = 'CrossCompilerMissingError';
  }
}

/** Returns the compiler's version line, or null when it cannot be run. */
export function crossCompilerVersion() {
  const r = spawnSync(CROSS_GCC, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0];
}

function marchOf(src) {
  const m = /build:\s*-march=(\S+)/.exec(readFileSync(src, 'utf8'));
  return m ? m[1] : DEFAULT_MARCH;
}

/** Extra -D/-f flags a source asks for: "// build-flags: -DFOO=1". */
function extraFlagsOf(src) {
  const m = /build-flags:\s*(.+)$/m.exec(readFileSync(src, 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
}

/** Corpus programs: [{ name, sources, march, out, kind: 'program' }]. */
export function corpusTargets(outDir = OUT_DIR) {
  const groups = new Map();
  for (const f of readdirSync(CORPUS_DIR).sort()) {
    const m = /^([a-z0-9_]+)\.(c|S)$/.exec(f);
    if (!m) continue;
    const list = groups.get(m[1]) ?? [];
    list.push(join(CORPUS_DIR, f));
    groups.set(m[1], list);
  }
  const targets = [];
  for (const [name, sources] of groups) {
    // The first source with a build: line decides; all sources of a program
    // must agree, so take the widest (longest) march among them.
    const marches = sources.map(marchOf);
    const march = marches.reduce((a, b) => (b.length > a.length ? b : a));
    const extra = sources.flatMap(extraFlagsOf);
    targets.push(programTarget(name, sources, { march, extra, outDir }));
  }
  return targets;
}

/** A program linked against the common runtime. */
export function programTarget(name, sources, { march = DEFAULT_MARCH, extra = [], outDir = OUT_DIR } = {}) {
  const out = join(outDir, `${name}.elf`);
  const args = [
    ...BASE_CFLAGS, `-march=${march}`, ...extra, `-I${COMMON_DIR}`,
    '-T', join(COMMON_DIR, 'link.ld'),
    join(COMMON_DIR, 'crt.S'), join(COMMON_DIR, 'lib.c'), ...sources,
    '-lgcc', '-Wl,--no-warn-rwx-segments', '-o', out,
  ];
  return { kind: 'program', name, sources, march, out, args };
}

/** HTIF ISA tests: [{ name, out, expectedStatus, qemuKnownBugStatus?, kind: 'isa' }]. */
export function isaTargets(outDir = join(OUT_DIR, 'isa')) {
  const targets = [];
  for (const f of readdirSync(ISA_DIR).sort()) {
    if (!f.endsWith('.S')) continue;
    const src = join(ISA_DIR, f);
    const name = basename(f, '.S');
    const text = readFileSync(src, 'utf8');
    const m = /expect-status:\s*(\d+)/.exec(text);
    const expectedStatus = m ? Number(m[1]) : 0;
    // A status QEMU 7.2 is known to report instead, because of a QEMU bug the
    // file documents. Accepted from QEMU only, never from qemu-ts.
    const bug = /qemu-known-bug-status:\s*(\d+)/.exec(text);
    const qemuKnownBugStatus = bug ? Number(bug[1]) : undefined;
    const march = marchOf(src);
    const out = join(outDir, `${name}.elf`);
    const args = [
      `-march=${march}`, `-mabi=${MABI}`, '-mcmodel=medany', '-nostdlib', '-nostartfiles',
      '-static', '-g', `-I${ISA_DIR}`, '-T', join(ISA_DIR, 'link.ld'), src,
      '-Wl,--no-warn-rwx-segments', '-o', out,
    ];
    targets.push({ kind: 'isa', name, sources: [src], march, out, args, expectedStatus, qemuKnownBugStatus });
  }
  return targets;
}

// Inputs of a target: its sources, the shared runtime and headers, its linker
// script and this script (flags live here). Coarse but cheap: a header change
// rebuilds the whole corpus, which takes seconds.
function inputsOf(target) {
  const dirs = target.kind === 'isa' ? [ISA_DIR] : [COMMON_DIR];
  const files = [...target.sources, fileURLToPath(import.meta.url)];
  for (const d of dirs) {
    for (const f of readdirSync(d)) {
      if (/\.(h|S|c|ld)$/.test(f)) files.push(join(d, f));
    }
  }
  return files;
}

function needsRebuild(target) {
  const stampFile = `${target.out}.cmd`;
  if (!existsSync(target.out) || !existsSync(stampFile)) return true;
  if (readFileSync(stampFile, 'utf8') !== JSON.stringify(target.args)) return true;
  const outTime = statSync(target.out).mtimeMs;
  for (const dep of inputsOf(target)) {
    if (!existsSync(dep) || statSync(dep).mtimeMs > outTime) return true;
  }
  return false;
}

function run(cmd, args) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolvePromise({ status: -1, output: String(err) }));
    child.on('close', (status) => resolvePromise({ status, output }));
  });
}

async function buildOne(target, log) {
  if (!needsRebuild(target)) return { target, rebuilt: false };
  mkdirSync(dirname(target.out), { recursive: true });
  const r = await run(CROSS_GCC, target.args);
  if (r.status !== 0) {
    throw new Error(`build of ${target.name} failed:\n${CROSS_GCC} ${target.args.join(' ')}\n${r.output}`);
  }
  if (r.output.trim()) log?.(r.output.trim());
  writeFileSync(`${target.out}.cmd`, JSON.stringify(target.args));
  return { target, rebuilt: true };
}

/**
 * Builds the given targets (default: corpus + ISA tests), two at a time.
 * Throws CrossCompilerMissingError when gcc is unavailable.
 */
export async function buildTargets(targets, { log = console.log, jobs = 2 } = {}) {
  if (!crossCompilerVersion()) throw new CrossCompilerMissingError('cannot run it');
  const queue = [...targets];
  const results = [];
  const workers = Array.from({ length: Math.max(1, jobs) }, async () => {
    for (;;) {
      const t = queue.shift();
      if (!t) return;
      const res = await buildOne(t, log);
      if (res.rebuilt) log?.(`built ${relative(REPO_ROOT, t.out)}`);
      results.push(res);
    }
  });
  await Promise.all(workers);
  return targets;
}

/** Builds the whole corpus; returns { programs, isa } target lists. */
export async function buildCorpus(options = {}) {
  const programs = corpusTargets();
  const isa = isaTargets();
  await buildTargets([...programs, ...isa], options);
  return { programs, isa };
}

async function main(argv) {
  const names = argv.filter((a) => !a.startsWith('--'));
  const all = [...corpusTargets(), ...isaTargets()];
  if (argv.includes('--list')) {
    for (const t of all) {
      console.log(`${t.kind}\t${t.name}\t${t.march}\t${relative(REPO_ROOT, t.out)}` +
        (t.kind === 'isa' ? `\texpect-status=${t.expectedStatus}` : ''));
    }
    return 0;
  }
  const chosen = names.length ? all.filter((t) => names.includes(t.name)) : all;
  if (names.length && chosen.length === 0) {
    console.error(`no such target: ${names.join(' ')}`);
    return 2;
  }
  try {
    await buildTargets(chosen, { log: (m) => console.log(m) });
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  console.log(`${chosen.length} RISC-V targets up to date in ${relative(REPO_ROOT, OUT_DIR)}/`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
