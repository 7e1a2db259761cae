// The one place that knows how to run an x86 corpus program on QEMU and on
// qemu-ts. Used by test/x86-qemu-diff.test.ts and test/x86/update-expected.mjs.
//
// Both get the same arguments: the pc board, 128 MiB, the program's -cpu
// model, no network (no option ROM that could print), serial on stdio
// (-nographic), no reboot on triple fault (QEMU then exits with status 0),
// and the isa-debug-exit device at port 0xf4: writing n there ends the run
// with status (n << 1) | 1. QEMU boots the Multiboot ELF through SeaBIOS and
// its multiboot option ROM; qemu-ts may load it directly. With -nographic,
// SeaBIOS 1.16 mirrors its console ("SeaBIOS (version ...)", "Booting from
// ROM..", terminal escapes) to COM1; QEMU alone also gets
//   -fw_cfg name=etc/sercon-port,string=0
// which points SeaBIOS's serial console at an unused port (0x30) so the
// program's output is all that reaches stdout. QEMU warns on stderr that the
// name lacks an "opt/" prefix; stderr is not compared.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './build.mjs';

export const QEMU_BINARIES = {
  i386: process.env.QEMU_I386 ?? 'qemu-system-i386',
  x86_64: process.env.QEMU_X86_64 ?? 'qemu-system-x86_64',
};
export const QEMU_TS_CLI = join(REPO_ROOT, 'bin', 'qemu-ts.js');

/** Board flags shared by QEMU and qemu-ts. */
export function pcArgs(elf, cpu) {
  return [
    '-M', 'pc', '-nographic', '-no-reboot', '-m', '128M', '-cpu', cpu, '-net', 'none',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', elf,
  ];
}

/** Arguments only QEMU gets: they concern its firmware, not the machine. */
export const QEMU_ONLY_ARGS = ['-fw_cfg', 'name=etc/sercon-port,string=0'];

/** QEMU command for a program target ({ out, cpu, qemu }). */
export function qemuCommand(target) {
  return { cmd: QEMU_BINARIES[target.qemu], args: [...pcArgs(target.out, target.cpu), ...QEMU_ONLY_ARGS] };
}

/** qemu-ts command for a program target (same flags as QEMU). */
export function qemuTsCommand(target) {
  return { cmd: process.execPath, args: [QEMU_TS_CLI, ...pcArgs(target.out, target.cpu)] };
}

/** Version line of a QEMU binary ('i386' | 'x86_64'), or null when it cannot run. */
export function qemuVersion(which = 'x86_64') {
  const r = spawnSync(QEMU_BINARIES[which], ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0];
}

/** QEMU binaries that are missing, e.g. ['qemu-system-i386']. */
export function missingQemu() {
  return Object.keys(QEMU_BINARIES).filter((k) => !qemuVersion(k)).map((k) => QEMU_BINARIES[k]);
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
