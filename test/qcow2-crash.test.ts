/**
 * Crash safety of qcow2 writes: a child process writes to an image through Qcow2Image
 * (random writes, zero writes, discards, flushes) and is killed with SIGKILL at a random
 * moment, many times over on the same image. After every kill:
 * - `qemu-img check` finds no corruption (leaked clusters are allowed: exit 0 or 3), and
 *   neither does our own check;
 * - every sector whose last write completed before the last completed flush reads back
 *   (through `qemu-img convert`) with exactly that write's data: flush means durable.
 * Then the next writer opens the image where the previous one died, as a restarted VM would.
 * With CI=true nothing skips: CI installs qemu-utils.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFile } from '../src/block/node-random-access-file.js';
import { Qcow2Image } from '../src/block/qcow2.js';

const ROOT = resolve(import.meta.dirname, '..');
const HAVE_QEMU_IMG = spawnSync('qemu-img', ['--version']).status === 0;
if (process.env.CI === 'true' && !HAVE_QEMU_IMG) throw new Error('qemu-img is required under CI=true (apt-get install qemu-utils)');

const SECTOR = 512;

/** Byte k of sector s as written by operation `op` (both processes compute it). */
function patternByte(op: number, s: number, k: number): number {
  return (op * 31 + s * 7 + k + 1) & 255;
}

/**
 * The writer: `node writer.mjs <image> <seed> <first-op>`. Logs each operation on stdout
 * *before* starting it (W/Z/D op sector count), and F op after a flush completed.
 */
const WRITER_SOURCE = `
import { writeSync } from 'node:fs';
import { Qcow2Image } from ${JSON.stringify(join(ROOT, 'src/block/qcow2.ts'))};
import { openFile } from ${JSON.stringify(join(ROOT, 'src/block/node-random-access-file.ts'))};
const [path, seedText, firstOp] = process.argv.slice(2);
let x = Number(seedText) >>> 0 || 1;
const rnd = (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
const log = (line) => writeSync(1, line + '\\n');
const file = await openFile(path, { readOnly: false });
const img = await Qcow2Image.open(file, { readOnly: false, backing: null });
const sectors = Math.floor(img.length / ${SECTOR});
log('R');
for (let op = Number(firstOp); ; op++) {
  const kind = rnd(100);
  const big = rnd(8) === 0;
  const count = 1 + rnd(big ? 1024 : 64);
  const s = rnd(sectors - count);
  if (kind < 70) {
    const data = new Uint8Array(count * ${SECTOR});
    for (let i = 0; i < count; i++) for (let k = 0; k < ${SECTOR}; k++) data[i * ${SECTOR} + k] = (op * 31 + (s + i) * 7 + k + 1) & 255;
    log('W ' + op + ' ' + s + ' ' + count);
    await img.write(s * ${SECTOR}, data);
  } else if (kind < 80) {
    log('Z ' + op + ' ' + s + ' ' + count);
    await img.writeZeroes(s * ${SECTOR}, count * ${SECTOR});
  } else if (kind < 86) {
    log('D ' + op + ' ' + s + ' ' + count);
    await img.discard(s * ${SECTOR}, count * ${SECTOR});
  } else {
    await img.flush();
    log('F ' + op);
  }
}
`;

/** What each sector must contain, as far as the log tells. */
class Model {
  /** Last operation that touched the sector; -1 never written. */
  readonly lastOp: Int32Array;
  /** 0 zeros, 1 pattern of lastOp, 2 unknown (discarded, or in flight at a kill). */
  readonly kind: Uint8Array;
  lastFlush = -1;
  nextOp = 0;
  /** Every logged operation, and where the kills fell, for failure messages. */
  readonly log: string[] = [];
  constructor(sectors: number) {
    this.lastOp = new Int32Array(sectors).fill(-1);
    this.kind = new Uint8Array(sectors);
  }
  apply(line: string): void {
    const [tag, a, b, c] = line.split(' ');
    if (tag === 'R' || tag === undefined || tag === '') return;
    this.log.push(line);
    const op = Number(a);
    this.nextOp = Math.max(this.nextOp, op + 1);
    if (tag === 'F') {
      this.lastFlush = op;
      return;
    }
    const s = Number(b);
    const n = Number(c);
    const kind = tag === 'W' ? 1 : tag === 'Z' ? 0 : 2;
    for (let i = s; i < s + n; i++) {
      this.lastOp[i] = op;
      this.kind[i] = kind;
    }
  }
  /** The writer died: what it did after its last completed flush may or may not have landed. */
  killed(): void {
    this.log.push('KILL');
    for (let i = 0; i < this.lastOp.length; i++) if (this.lastOp[i]! > this.lastFlush) this.kind[i] = 2;
  }
  /** The operations that touched sector `s`, with kills and the flushes after them. */
  history(s: number): string {
    const out: string[] = [];
    for (const l of this.log) {
      const [tag, , b, c] = l.split(' ');
      if (tag === 'KILL' || tag === 'F') out.push(l);
      else if (Number(b) <= s && s < Number(b) + Number(c)) out.push(l);
    }
    // Keep it short: the last touches and what followed.
    const firstTouch = out.findIndex((l) => !l.startsWith('F') && l !== 'KILL');
    return out.slice(Math.max(0, firstTouch - 1)).filter((l, i, a) => !(l.startsWith('F') && a[i + 1]?.startsWith('F'))).slice(-40).join(', ');
  }

  /** Sectors that must hold known contents, with a count of mismatches. */
  verify(image: Uint8Array): { checked: number; bad: number[] } {
    let checked = 0;
    const bad: number[] = [];
    for (let s = 0; s < this.lastOp.length; s++) {
      const op = this.lastOp[s]!;
      if (this.kind[s] === 2 || op > this.lastFlush) continue;
      checked++;
      const base = s * SECTOR;
      let ok = true;
      if (op < 0 || this.kind[s] === 0) {
        for (let k = 0; k < SECTOR; k++) if (image[base + k] !== 0) ok = false;
      } else {
        for (let k = 0; k < SECTOR; k++) if (image[base + k] !== patternByte(op, s, k)) ok = false;
      }
      if (!ok && bad.length < 10) bad.push(s);
    }
    return { checked, bad };
  }
}

let dir = '';
let writer = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qemu-ts-crash-'));
  writer = join(dir, 'writer.mjs');
  await build({
    stdin: { contents: WRITER_SOURCE, resolveDir: ROOT, loader: 'js', sourcefile: 'writer-entry.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: writer,
    logLevel: 'silent',
  });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the writer until it has done some work, then SIGKILL it after `delayMs`; returns its log lines. */
function runAndKill(image: string, seed: number, firstOp: number, delayMs: number): Promise<{ lines: string[]; stderr: string; killed: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [writer, image, String(seed), String(firstOp)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (timer === undefined && out.startsWith('R\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ lines: out.split('\n').filter((l) => l !== ''), stderr: err, killed: signal === 'SIGKILL' });
    });
  });
}

const IMAGES: { name: string; opts: string }[] = [
  { name: '512-byte clusters (metadata heavy, refcount table grows)', opts: 'cluster_size=512' },
  { name: '4 KiB clusters, version 2', opts: 'cluster_size=4096,compat=0.10' },
  { name: '64 KiB clusters', opts: 'cluster_size=65536' },
];
const KILLS_PER_IMAGE = 14;

describe.skipIf(!HAVE_QEMU_IMG)('qcow2 survives SIGKILL at random points', () => {
  it.each(IMAGES)(
    '$name',
    async ({ opts }) => {
      const image = join(dir, `crash-${opts.replace(/[^a-z0-9]/gi, '')}.qcow2`);
      const raw = `${image}.raw`;
      const size = 24 << 20;
      expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', opts, image, String(size)]).status).toBe(0);
      const model = new Model(size / SECTOR);
      let seed = 0x9e3779b9 ^ opts.length;
      let totalChecked = 0;
      for (let round = 0; round < KILLS_PER_IMAGE; round++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const delay = 20 + (seed % 400);
        const run = await runAndKill(image, seed, model.nextOp, delay);
        expect(run.stderr).toBe('');
        expect(run.killed).toBe(true);
        expect(run.lines[0]).toBe('R');
        for (const l of run.lines) model.apply(l);
        model.killed();

        const check = spawnSync('qemu-img', ['check', '-f', 'qcow2', image], { encoding: 'utf8' });
        expect(check.stdout, check.stdout + check.stderr).not.toMatch(/^\d+ errors were found|internal errors/m);
        expect([0, 3], `qemu-img check exit ${check.status}: ${check.stdout}${check.stderr}`).toContain(check.status);
        const file = await openFile(image, { readOnly: true });
        try {
          const ourCheck = await Qcow2Image.check(file, 'none');
          expect(ourCheck.corruptions, ourCheck.messages.join('\n')).toBe(0);
        } finally {
          await file.close();
        }

        const conv = spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, raw], { encoding: 'utf8' });
        expect(conv.status, conv.stderr).toBe(0);
        const contents = new Uint8Array(readFileSync(raw));
        const { checked, bad } = model.verify(contents);
        const detail =
          bad.length === 0
            ? ''
            : `sector ${bad[0]} holds ${[...contents.subarray(bad[0]! * SECTOR, bad[0]! * SECTOR + 8)].join(',')}...; ` +
              `last op ${model.lastOp[bad[0]!]}, last flush ${model.lastFlush}; history: ${model.history(bad[0]!)}`;
        expect(bad, `sectors with wrong data after kill ${round}: ${detail}`).toEqual([]);
        totalChecked += checked;
      }
      // The test did real work: writes were flushed and verified across the kills.
      expect(model.lastFlush).toBeGreaterThan(0);
      expect(totalChecked).toBeGreaterThan(0);
      // Leaks a crash left are repairable, after which the image is clean.
      const repair = spawnSync('qemu-img', ['check', '-r', 'leaks', image], { encoding: 'utf8' });
      expect([0], repair.stdout + repair.stderr).toContain(repair.status);
      writeFileSync(raw, '');
    },
    120_000,
  );
});
