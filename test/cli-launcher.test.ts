// bin/qemu-ts.js relaunches node with the flags of bin/node-flags.js when they are
// missing (users start it as `npx qemu-ts` or `node bin/qemu-ts.js`). The relaunch must
// be invisible: the same output and exit status as a process started with the flags,
// Ctrl-A x on stdin, and a signal sent to the launcher ending the guest the same way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the launcher, without types
import { cliNodeFlags } from '../bin/node-flags.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/qemu-ts.js');
const flags = cliNodeFlags() as string[];
const haveDist = existsSync(join(ROOT, 'dist/cli/qemu-ts.js')) || process.env.CI === 'true';

const dir = mkdtempSync(join(tmpdir(), 'qemu-ts-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A raw RISC-V kernel that spins forever: `j .` (jal x0, 0).
const spin = join(dir, 'spin.bin');
writeFileSync(spin, Buffer.from([0x6f, 0x00, 0x00, 0x00]));
const GUEST = ['-M', 'virt', '-bios', 'none', '-nographic', '-kernel', spin];

function start(nodeArgs: string[]): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, BIN, ...GUEST], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Output and how the process ended. */
function ended(child: ChildProcess): Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((res) => child.on('close', (status, signal) => res({ status, signal, out })));
}

/** Command lines of the process's children (Linux ps). */
function childrenOf(pid: number): string[] {
  const r = spawnSync('ps', ['-o', 'args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveDist)('the qemu-ts launcher', () => {
  it('runs the CLI with its node flags, relaunching only when they are missing', async () => {
    const plain = start([]);
    const given = start(flags);
    const [a, b] = [ended(plain), ended(given)];
    await sleep(1500);
    const kids = childrenOf(plain.pid!);
    if (flags.length > 0) {
      expect(kids).toHaveLength(1);
      for (const f of flags) expect(kids[0]).toContain(f);
    } else {
      expect(kids).toEqual([]);
    }
    expect(childrenOf(given.pid!)).toEqual([]);
    // Ctrl-A x quits both alike.
    plain.stdin!.write('\x01x');
    given.stdin!.write('\x01x');
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual(rb);
    expect(ra.signal).toBe(null);
  }, 30_000);

  it('passes a signal sent to the launcher on to the guest process', async () => {
    const plain = start([]);
    const given = start(flags);
    const [a, b] = [ended(plain), ended(given)];
    await sleep(1500);
    const kids = childrenOf(plain.pid!);
    plain.kill('SIGTERM');
    given.kill('SIGTERM');
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual(rb);
    expect(ra.signal).toBe('SIGTERM');
    // The relaunched process is gone too.
    await sleep(200);
    for (const k of kids) expect(spawnSync('pgrep', ['-f', k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')]).status).toBe(1);
  }, 30_000);
});
