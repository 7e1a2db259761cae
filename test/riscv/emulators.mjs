// The one place that knows how to run a bare-metal ELF on QEMU and on qemu-ts.
// Used by test/riscv-qemu-diff.test.ts, test/riscv/update-expected.mjs and
// bench/run.mjs.
//
// QEMU 7.2's default rv64 CPU already has Zba/Zbb/Zbc/Zbs (and H, Zicsr,
// Zifencei), so no -cpu option is needed; qemu-ts models the same CPU.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './build.mjs';

export const QEMU = process.env.QEMU_RISCV64 ?? 'qemu-system-riscv64';
export const QEMU_TS_CLI = join(REPO_ROOT, 'bin', 'qemu-ts.js');

/** Board flags shared by QEMU and qemu-ts for the corpus programs. */
export function virtArgs(elf) {
  return ['-M', 'virt', '-bios', 'none', '-nographic', '-m', '128M', '-kernel', elf];
}

/** QEMU's spike board implements HTIF (tohost/fromhost found by ELF symbol). */
export function spikeArgs(elf) {
  return ['-M', 'spike', '-bios', 'none', '-nographic', '-kernel', elf];
}

/** qemu-system-riscv64 command for a corpus program. */
export function qemuVirtCommand(elf) {
  return { cmd: QEMU, args: virtArgs(elf) };
}

/** qemu-system-riscv64 command for an HTIF ISA test. */
export function qemuSpikeCommand(elf) {
  return { cmd: QEMU, args: spikeArgs(elf) };
}

/**
 * qemu-ts command. Both corpus programs and HTIF ISA tests run on its virt
 * board: it honours HTIF when the ELF defines a tohost symbol.
 */
export function qemuTsCommand(elf) {
  return { cmd: process.execPath, args: [QEMU_TS_CLI, ...virtArgs(elf)] };
}

/** Version line of QEMU, or null when it is not installed. */
export function qemuVersion() {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0];
}

export function qemuTsAvailable() {
  return existsSync(QEMU_TS_CLI);
}

/**
 * Runs an emulator with stdin closed. Resolves with
 * { stdout, stderr, status, signal, timedOut, wallMs }; status is null when
 * the process was killed. Never rejects for a nonzero exit.
 */
export function runEmulator({ cmd, args }, { timeoutMs = 30_000, env } = {}) {
  return new Promise((resolvePromise) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    const out = [];
    const err = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({
        stdout: '', stderr: String(e), status: null, signal: null, timedOut: false,
        wallMs: Number(process.hrtime.bigint() - start) / 1e6, spawnError: e,
      });
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        status, signal, timedOut,
        wallMs: Number(process.hrtime.bigint() - start) / 1e6,
      });
    });
  });
}

/** Human-readable form of a command, for messages. */
export function commandLine({ cmd, args }) {
  return [cmd, ...args].join(' ');
}
