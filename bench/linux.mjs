// Shared by bench/boot.mjs and bench/guest.mjs: boots Debian's stock riscv64
// kernel with our busybox initramfs (tools/guest-images.mjs) on qemu-ts and on
// qemu-system-riscv64 as child processes, serial console on stdio, and drives
// the shell through it.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHELL_PROMPT, ensureGuestImages } from '../tools/guest-images.mjs';
import { cliNodeFlags } from '../bin/node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PROMPT = SHELL_PROMPT;

/** The cached guest images (fetched and assembled on first use). */
export function guestImages() {
  return ensureGuestImages({ arch: 'riscv64', log: (m) => process.stderr.write(m + '\n') });
}

/** Board and boot arguments both emulators get. */
export function linuxArgs(images, { memory = '256M', append = 'console=ttyS0' } = {}) {
  return ['-M', 'virt', '-m', memory, '-nographic', '-kernel', images.kernel, '-initrd', images.initrd, '-append', append];
}

/**
 * The emulators to compare: QEMU first when installed (its bundled OpenSBI),
 * then qemu-ts (built-in SBI). Each is { name, cmd, args }.
 */
export function linuxEmulators(images, { qemu = true, qemuTs = true, npmStartToo = false, ...opts } = {}) {
  const args = linuxArgs(images, opts);
  const list = [];
  if (qemu) {
    const v = spawnSync(process.env.QEMU_RISCV64 ?? 'qemu-system-riscv64', ['--version'], { encoding: 'utf8' });
    if (!v.error && v.status === 0) {
      list.push({ name: v.stdout.split('\n')[0].replace('QEMU emulator version ', 'QEMU '), short: 'QEMU', cmd: process.env.QEMU_RISCV64 ?? 'qemu-system-riscv64', args });
    } else {
      console.log('qemu-system-riscv64 not installed: qemu-ts only');
    }
  }
  // Started as a user starts it (`npx qemu-ts`, `node bin/qemu-ts.js`): the launcher
  // relaunches node with the flags of bin/node-flags.js, and that is part of the time.
  if (qemuTs) list.push({ name: 'qemu-ts', short: 'qemu-ts', cmd: process.execPath, args: [join(root, 'bin/qemu-ts.js'), ...args] });
  // As `npm start` starts it: node gets the flags at once, no relaunch.
  if (qemuTs && npmStartToo) {
    list.push({ name: 'qemu-ts (as npm start runs it)', short: 'qemu-ts-npm-start', cmd: process.execPath, args: [...cliNodeFlags(), join(root, 'bin/qemu-ts.js'), ...args] });
  }
  return list;
}

/**
 * A running guest. Output accumulates in .out (latin1, CR LF as the tty sends
 * it); t0 is the spawn time (performance.now() ms).
 */
export class Guest {
  constructor(emulator) {
    this.emulator = emulator;
    this.out = '';
    this.exited = null;
    this.waiters = [];
    this.t0 = performance.now();
    this.child = spawn(emulator.cmd, emulator.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.child.stdout.on('data', (d) => {
      this.out += d.toString('latin1');
      this.poll();
    });
    this.child.stderr.on('data', (d) => {
      this.stderr += d.toString('utf8');
    });
    this.child.on('error', (e) => {
      this.exited = `failed to start: ${e.message}`;
      this.poll();
    });
    this.child.on('close', (code, signal) => {
      this.exited ??= `exited (status ${code ?? signal})`;
      this.poll();
    });
    this.child.stdin.on('error', () => {}); // EPIPE after exit
  }

  poll() {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves when `pattern` (string or RegExp) occurs in the output at or after
   * index `from`; with { match, index, at } (at = performance.now() ms).
   * Rejects on timeout or when the emulator exits first.
   */
  waitFor(pattern, { from = 0, timeoutMs = 600_000 } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const hay = this.out.slice(from);
        let m = null;
        if (typeof pattern === 'string') {
          const i = hay.indexOf(pattern);
          if (i >= 0) m = Object.assign([pattern], { index: i });
        } else {
          m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(hay);
        }
        if (m) {
          done();
          resolve({ match: m, index: from + m.index, end: from + m.index + m[0].length, at: performance.now() });
        } else if (this.exited) {
          done();
          reject(new Error(`${this.emulator.name} ${this.exited} before ${pattern} appeared${this.tail()}`));
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`${this.emulator.name}: no ${pattern} after ${(timeoutMs / 1000).toFixed(0)} s${this.tail()}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  tail() {
    const t = (this.out.slice(-600) + (this.stderr ? `\n[stderr] ${this.stderr.slice(-400)}` : '')).trim();
    return t ? `; last output:\n${t}` : '';
  }

  send(text) {
    this.child.stdin.write(text);
  }

  /**
   * Types `command` at the prompt and resolves when it has finished, with
   * { output, startedAt, endedAt, status }: performance.now() ms when the
   * start marker and the end marker appeared, output what it printed (CR LF
   * as LF, escape sequences stripped). Markers echoed before and after it
   * delimit the output; they are spelled so that the echo of the typed line
   * (which the line editor may wrap anywhere) cannot match them.
   */
  async run(command, { timeoutMs = 600_000 } = {}) {
    const n = (this.seq = (this.seq ?? 0) + 1);
    const from = this.out.length;
    this.send(`echo @@be''gin-${n}; ${command}; echo @@do''ne-${n}-$?\n`);
    const begin = await this.waitFor(new RegExp(`@@begin-${n}\\r?\\n`), { from, timeoutMs });
    const end = await this.waitFor(new RegExp(`@@done-${n}-(\\d+)\\r?\\n`), { from: begin.end, timeoutMs });
    await this.waitFor(PROMPT, { from: end.end, timeoutMs: 60_000 });
    const output = this.out.slice(begin.end, end.index).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    return { output, startedAt: begin.at, endedAt: end.at, status: Number(end.match[1]) };
  }

  kill() {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/**
 * Boots to the shell prompt. Resolves with { guest, bootS, initUptimeS }:
 * wall seconds from spawn to the prompt, and the guest's own uptime stamp of
 * "Run /init" (NaN when the kernel did not print it).
 */
export async function bootToPrompt(emulator, { timeoutS = 600 } = {}) {
  const guest = new Guest(emulator);
  try {
    const p = await guest.waitFor(PROMPT, { timeoutMs: timeoutS * 1000 });
    const m = /\[\s*([\d.]+)\] Run \/init/.exec(guest.out);
    return { guest, bootS: (p.at - guest.t0) / 1000, initUptimeS: m ? Number(m[1]) : NaN };
  } catch (e) {
    guest.kill();
    throw e;
  }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Minimal option parsing shared by the Linux benchmarks: --name value and flags. */
export function parseOptions(argv, spec, usage) {
  const opts = {};
  for (const [k, v] of Object.entries(spec)) opts[k] = v.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const s = spec[key];
    if (!a.startsWith('--') || !s) throw new Error(`unknown option ${a}\n${usage}`);
    if (s.flag) {
      opts[key] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    opts[key] = s.parse ? s.parse(v, a) : v;
  }
  return opts;
}

export function positiveNumber(v, name) {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number`);
  return n;
}

export function positiveInteger(v, name) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}
