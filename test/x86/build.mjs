#!/usr/bin/env node
// Builds the bare-metal x86 test corpus with the host's gcc (-m32 / -m64)
// and nasm into build/x86-tests/.
//
//   node test/x86/build.mjs              build every program
//   node test/x86/build.mjs alu32 x87    build only the named programs
//   node test/x86/build.mjs --list       print programs, width, QEMU binary, -cpu
//
// Programs: every test/x86/<name>.c, <name>.S and/or <name>.asm (files
// sharing a base name form one program), linked with the runtime in common/
// (crt32.S or crt64.S, lib.c). Each program declares its width and CPU in a
// comment line in any of its sources (defaults: bits=32; cpu = qemu32 for
// 32-bit, qemu64 for 64-bit; qemu = i386 for 32-bit, x86_64 for 64-bit):
//   // x86: bits=64 cpu=max
//   ; x86: bits=32 qemu=x86_64 cpu=qemu64     (nasm comment)
// and optionally extra compiler flags:
//   // build-flags: -DFOO=1
//
// 64-bit programs: QEMU's Multiboot loader refuses ELF64 files, so they are
// linked as ELF64 (build/x86-tests/<name>.elf64) and converted with
// `objcopy -O elf32-i386` into <name>.elf: the same segments at the same
// (below 4 GiB) addresses in an ELF32 container; the entry point is 32-bit
// code in crt64.S that switches to long mode.
//
// The runtime (lib.c) is compiled once per width with -mgeneral-regs-only
// (it must never touch x87/SSE state); programs are compiled without it.
// A target is rebuilt when its command lines changed or one of its inputs
// (its sources, everything in common/, this script) is newer than the ELF.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
export const CORPUS_DIR = here;
export const COMMON_DIR = join(here, 'common');
export const OUT_DIR = join(REPO_ROOT, 'build', 'x86-tests');

export const GCC = process.env.X86_GCC ?? 'gcc';
export const NASM = process.env.NASM ?? 'nasm';
export const OBJCOPY = process.env.X86_OBJCOPY ?? 'objcopy';

// -fcf-protection=none: no ENDBR32/64 in the code under test.
// -fno-tree-loop-distribute-patterns: lib.c's memset/memcpy loops must not
// become calls to themselves. -fno-delete-null-pointer-checks: address 0 is
// ordinary memory here (gcc would otherwise turn accesses to it into UD2).
const BASE_CFLAGS = [
  '-O2', '-ffreestanding', '-fno-pic', '-fno-pie', '-fno-stack-protector', '-fcf-protection=none',
  '-fno-tree-loop-distribute-patterns', '-fno-delete-null-pointer-checks', '-fno-asynchronous-unwind-tables', '-nostdlib',
  '-nostartfiles', '-static', '-Wall', '-Wno-unused-function', '-g',
];
const WIDTH_CFLAGS = {
  32: ['-m32', '-march=i686', '-mtune=generic'],
  64: ['-m64', '-mno-red-zone', '-mcmodel=small'],
};
const LDFLAGS = [
  '-no-pie', '-Wl,--build-id=none', '-Wl,-z,max-page-size=0x1000', '-Wl,--no-warn-rwx-segments',
];

export class ToolchainMissingError extends Error {
  constructor(missing) {
    super(`x86 corpus toolchain incomplete: ${missing.join(', ')}. ` +
      `Install it (Debian: apt-get install gcc gcc-multilib nasm binutils).`);
    this.name = 'ToolchainMissingError';
    this.missing = missing;
  }
}

function runsOk(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return !r.error && r.status === 0;
}

/**
 * The tools the corpus needs that are missing: [] when gcc (with -m32
 * multilib support), nasm and objcopy all work.
 */
export function missingTools() {
  const missing = [];
  if (!runsOk(GCC, ['--version'])) {
    missing.push(`gcc ('${GCC}')`);
  } else {
    // -m32 needs the multilib libgcc (gcc-multilib); compile and link a stub.
    const r = spawnSync(GCC, ['-print-libgcc-file-name', '-m32'], { encoding: 'utf8' });
    const libgcc = r.status === 0 ? r.stdout.trim() : '';
    if (!libgcc || !existsSync(libgcc)) missing.push('gcc -m32 support (gcc-multilib)');
  }
  if (!runsOk(NASM, ['-v'])) missing.push(`nasm ('${NASM}')`);
  if (!runsOk(OBJCOPY, ['--version'])) missing.push(`objcopy ('${OBJCOPY}')`);
  return missing;
}

/** Version line of gcc, or null. */
export function gccVersion() {
  const r = spawnSync(GCC, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0];
}

const COMMENT_CONFIG = /(?:\/\/|;|\/\*|#)\s*x86:\s*(.+?)\s*(?:\*\/)?$/m;

/** Parses "x86: bits=64 cpu=max qemu=x86_64" from a source file. */
function configOf(src) {
  const m = COMMENT_CONFIG.exec(readFileSync(src, 'utf8'));
  const cfg = {};
  if (!m) return cfg;
  for (const kv of m[1].split(/\s+/)) {
    const [k, v] = kv.split('=');
    if (k && v) cfg[k] = v;
  }
  return cfg;
}

function extraFlagsOf(src) {
  const m = /build-flags:\s*(.+)$/m.exec(readFileSync(src, 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
}

/** Runtime objects of one width: [{ out, cmd, args, inputs }]. */
function commonSteps(bits, outDir) {
  const dir = join(outDir, 'common');
  const cflags = [...BASE_CFLAGS, ...WIDTH_CFLAGS[bits], `-I${COMMON_DIR}`];
  const lib = join(dir, `lib${bits}.o`);
  const crt = join(dir, `crt${bits}.o`);
  return [
    { out: lib, cmd: GCC, args: [...cflags, '-mgeneral-regs-only', '-c', join(COMMON_DIR, 'lib.c'), '-o', lib] },
    { out: crt, cmd: GCC, args: [...cflags, '-c', join(COMMON_DIR, `crt${bits}.S`), '-o', crt] },
  ];
}

/**
 * Corpus programs: [{ kind: 'program', name, sources, bits, cpu, qemu, out,
 * steps }]. `qemu` is 'i386' or 'x86_64' (the qemu-system-* binary).
 */
export function corpusTargets(outDir = OUT_DIR) {
  const groups = new Map();
  for (const f of readdirSync(CORPUS_DIR).sort()) {
    const m = /^([a-z0-9_]+)\.(c|S|asm)$/.exec(f);
    if (!m) continue;
    const list = groups.get(m[1]) ?? [];
    list.push(join(CORPUS_DIR, f));
    groups.set(m[1], list);
  }
  const targets = [];
  for (const [name, sources] of groups) {
    const cfg = Object.assign({}, ...sources.map(configOf));
    const bits = Number(cfg.bits ?? 32);
    if (bits !== 32 && bits !== 64) throw new Error(`${name}: bits must be 32 or 64`);
    const cpu = cfg.cpu ?? (bits === 64 ? 'qemu64' : 'qemu32');
    const qemu = cfg.qemu ?? (bits === 64 ? 'x86_64' : 'i386');
    const extra = sources.flatMap(extraFlagsOf);
    targets.push(programTarget(name, sources, { bits, cpu, qemu, extra, outDir }));
  }
  return targets;
}

/** One program linked against the runtime of its width. */
export function programTarget(name, sources, { bits = 32, cpu, qemu, extra = [], outDir = OUT_DIR } = {}) {
  const out = join(outDir, `${name}.elf`);
  const objDir = join(outDir, 'obj');
  const steps = [];
  const objects = [];
  const cSources = [];
  for (const src of sources) {
    if (src.endsWith('.asm')) {
      const obj = join(objDir, `${name}.asm.o`);
      steps.push({
        out: obj, cmd: NASM,
        args: ['-f', bits === 64 ? 'elf64' : 'elf32', '-g', `-I${COMMON_DIR}/`, `-I${CORPUS_DIR}/`, src, '-o', obj],
      });
      objects.push(obj);
    } else {
      cSources.push(src);
    }
  }
  const common = commonSteps(bits, outDir);
  const linked = bits === 64 ? join(outDir, `${name}.elf64`) : out;
  steps.push({
    out: linked, cmd: GCC,
    args: [
      ...BASE_CFLAGS, ...WIDTH_CFLAGS[bits], ...extra, `-I${COMMON_DIR}`,
      '-T', join(COMMON_DIR, `link${bits}.ld`), ...LDFLAGS,
      ...common.map((s) => s.out), ...cSources, ...objects, '-lgcc', '-o', linked,
    ],
  });
  if (bits === 64) steps.push({ out, cmd: OBJCOPY, args: ['-O', 'elf32-i386', linked, out] });
  return {
    kind: 'program', name, sources, bits, cpu: cpu ?? (bits === 64 ? 'qemu64' : 'qemu32'),
    qemu: qemu ?? (bits === 64 ? 'x86_64' : 'i386'), out, common, steps,
  };
}

function commonInputs() {
  return [
    ...readdirSync(COMMON_DIR).filter((f) => /\.(h|S|c|ld|inc|mac)$/.test(f)).map((f) => join(COMMON_DIR, f)),
    fileURLToPath(import.meta.url),
  ];
}

function upToDate(out, stamp, inputs) {
  const stampFile = `${out}.cmd`;
  if (!existsSync(out) || !existsSync(stampFile)) return false;
  if (readFileSync(stampFile, 'utf8') !== stamp) return false;
  const outTime = statSync(out).mtimeMs;
  return inputs.every((dep) => existsSync(dep) && statSync(dep).mtimeMs <= outTime);
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

async function runSteps(label, steps, inputs, log) {
  const stamp = JSON.stringify(steps.map((s) => [s.cmd, ...s.args]));
  const final = steps[steps.length - 1].out;
  if (upToDate(final, stamp, inputs)) return false;
  for (const s of steps) {
    mkdirSync(dirname(s.out), { recursive: true });
    const r = await run(s.cmd, s.args);
    if (r.status !== 0) {
      throw new Error(`build of ${label} failed:\n${s.cmd} ${s.args.join(' ')}\n${r.output}`);
    }
    if (r.output.trim()) log?.(r.output.trim());
  }
  writeFileSync(`${final}.cmd`, stamp);
  return true;
}

/**
 * Builds the given targets, two at a time. Throws ToolchainMissingError
 * when gcc -m32/-m64, nasm or objcopy is unavailable.
 */
export async function buildTargets(targets, { log = console.log, jobs = 2 } = {}) {
  const missing = missingTools();
  if (missing.length) throw new ToolchainMissingError(missing);
  const ci = commonInputs();
  // Runtime objects first (shared by every program of a width).
  const widths = [...new Set(targets.map((t) => t.bits))];
  for (const bits of widths) {
    const t = targets.find((x) => x.bits === bits);
    for (const s of t.common) {
      if (await runSteps(`runtime (${bits}-bit)`, [s], ci, log)) log?.(`built ${relative(REPO_ROOT, s.out)}`);
    }
  }
  const queue = [...targets];
  const workers = Array.from({ length: Math.max(1, jobs) }, async () => {
    for (;;) {
      const t = queue.shift();
      if (!t) return;
      const inputs = [...t.sources, ...ci, ...t.common.map((s) => s.out)];
      if (await runSteps(t.name, t.steps, inputs, log)) log?.(`built ${relative(REPO_ROOT, t.out)}`);
    }
  });
  await Promise.all(workers);
  return targets;
}

/** Builds the whole corpus; returns the program list. */
export async function buildCorpus(options = {}) {
  const programs = corpusTargets();
  await buildTargets(programs, options);
  return { programs };
}

async function main(argv) {
  const names = argv.filter((a) => !a.startsWith('--'));
  const all = corpusTargets();
  if (argv.includes('--list')) {
    for (const t of all) {
      console.log(`${t.name}\t${t.bits}-bit\tqemu-system-${t.qemu}\t-cpu ${t.cpu}\t${relative(REPO_ROOT, t.out)}`);
    }
    return 0;
  }
  const chosen = names.length ? all.filter((t) => names.includes(t.name)) : all;
  if (names.length && chosen.length !== names.length) {
    const known = new Set(all.map((t) => t.name));
    console.error(`no such program: ${names.filter((n) => !known.has(n)).join(' ')}`);
    return 2;
  }
  try {
    await buildTargets(chosen, { log: (m) => console.log(m) });
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  console.log(`${chosen.length} x86 programs up to date in ${relative(REPO_ROOT, OUT_DIR)}/`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
