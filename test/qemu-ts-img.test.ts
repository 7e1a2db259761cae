/**
 * qemu-ts-img against qemu-img (QEMU 7.2, Debian's qemu-utils) as the oracle, and the
 * qemu-ts -drive options that open images through the same code:
 * - info and map on the same files print exactly what qemu-img prints (human and JSON);
 * - images we create pass `qemu-img check` and look the same to `qemu-img info`;
 * - convert, commit, rebase and resize give images that `qemu-img compare` finds equal to
 *   the source, or to what qemu-img itself makes from identical copies;
 * - check finds leaks and corruptions planted on purpose, with qemu-img's words and exit codes;
 * - backing chains that loop fail at once; bad input gets one line on stderr, exit 1.
 * With CI=true nothing skips: CI installs qemu-utils.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MachineOptions } from '../src/machine/options.js';

// qemu-ts's parseCommandLine is exercised without running a machine.
vi.mock('../src/machine/run.js', () => ({ runMachine: vi.fn<(o: MachineOptions) => Promise<number>>() }));

const { imgMain, parseSize, sizeToStr, qemuJson } = await import('../src/cli/qemu-ts-img.js');
const { parseCommandLine } = await import('../src/cli/qemu-ts.js');
const { openImage, MAX_CHAIN_DEPTH } = await import('../src/block/node-open.js');

const HAVE_QEMU_IMG = spawnSync('qemu-img', ['--version']).status === 0 && spawnSync('qemu-io', ['--version']).status === 0;
if (process.env.CI === 'true' && !HAVE_QEMU_IMG) {
  throw new Error('qemu-img and qemu-io are required under CI=true (apt-get install qemu-utils)');
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function qemuImg(args: string[]): Run {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8', cwd: process.cwd() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function qemuImgOk(args: string[]): string {
  const r = qemuImg(args);
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function qemuIo(file: string, cmds: string[], fmt = 'qcow2'): void {
  const r = spawnSync('qemu-io', ['-f', fmt, ...cmds.flatMap((c) => ['-c', c]), file], { encoding: 'utf8' });
  if (r.status !== 0 || /error|failed/i.test(r.stdout + r.stderr)) throw new Error(`qemu-io ${cmds.join('; ')} on ${file}: ${r.stdout}${r.stderr}`);
}

async function ours(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await imgMain(args, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  return { status, stdout: out.join(''), stderr: err.join('') };
}

async function oursOk(args: string[]): Promise<string> {
  const r = await ours(args);
  if (r.status !== 0) throw new Error(`qemu-ts-img ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** `qemu-img compare` says the two images have the same contents. */
function expectSameContents(a: string, b: string, fa?: string, fb?: string): void {
  const args = ['compare', ...(fa ? ['-f', fa] : []), ...(fb ? ['-F', fb] : []), a, b];
  const r = qemuImg(args);
  expect(r.stderr + r.stdout).toMatch(/Images are identical/);
  expect(r.status).toBe(0);
}

function expectCleanCheck(file: string): void {
  const r = qemuImg(['check', file]);
  expect(r.stdout + r.stderr).toMatch(/No errors were found on the image/);
  expect(r.status).toBe(0);
}

/** Exactly one line on stderr, prefixed, nothing on stdout, exit 1. */
function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^qemu-ts-img: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
}

let dir = '';
/** A path relative to the current directory (both tools run there), so relative backing names are exercised. */
const rel = (...parts: string[]): string => relative(process.cwd(), join(dir, ...parts));
let counter = 0;
const fresh = (ext: string): string => rel(`f${++counter}.${ext}`);

function writeRandomRaw(path: string, size: number, dataRanges: [number, number][]): void {
  const fd = openSync(path, 'w');
  try {
    for (const [off, len] of dataRanges) writeSync(fd, randomBytes(len), 0, len, off);
  } finally {
    closeSync(fd);
  }
  truncateSync(path, size);
}

function readBytes(path: string, off: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, off);
    return b;
  } finally {
    closeSync(fd);
  }
}

function patchBytes(path: string, off: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, off);
  } finally {
    closeSync(fd);
  }
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Header fields of a qcow2 file needed to plant errors. */
function qcow2Layout(path: string): { clusterBits: number; l1: number; refTable: number } {
  const h = readBytes(path, 0, 112);
  return { clusterBits: h.readUInt32BE(20), l1: Number(h.readBigUInt64BE(40)), refTable: Number(h.readBigUInt64BE(48)) };
}

/** The L2 entry of guest cluster 0: its file offset and host cluster. */
function firstL2Entry(path: string): { at: number; host: number } {
  const { l1 } = qcow2Layout(path);
  const l2 = Number(readBytes(path, l1, 8).readBigUInt64BE(0) & 0x00fffffffffffe00n);
  const entry = Number(readBytes(path, l2, 8).readBigUInt64BE(0) & 0x00fffffffffffe00n);
  return { at: l2, host: entry };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qemu-ts-img-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('helpers', () => {
  it('parses sizes as qemu_strtosz does', () => {
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseSize('100k')).toBe(102400);
    expect(parseSize('512')).toBe(512);
    expect(parseSize('0x200')).toBe(512);
    expect(parseSize('1.5')).toBeNull();
    expect(parseSize('1Q')).toBeNull();
    expect(parseSize('-1')).toBeNull();
  });
  it('formats sizes as size_to_str does (%0.3g, binary units)', () => {
    expect(sizeToStr(0)).toBe('0 B');
    expect(sizeToStr(512)).toBe('512 B');
    expect(sizeToStr(1000)).toBe('0.977 KiB');
    expect(sizeToStr(1024)).toBe('1 KiB');
    expect(sizeToStr(1152)).toBe('1.12 KiB'); // 1.125: half to even, as C's printf
    expect(sizeToStr(200704)).toBe('196 KiB');
    expect(sizeToStr(1536)).toBe('1.5 KiB');
    expect(sizeToStr(2 ** 30)).toBe('1 GiB');
    expect(sizeToStr(3002368)).toBe('2.86 MiB');
    expect(sizeToStr(1023 * 1024)).toBe('0.999 MiB');
  });
  it('orders JSON keys as QEMU QDicts do', () => {
    expect(qemuJson({ filename: 'x', format: 'qcow2', 'check-errors': 0, 'image-end-offset': 1 })).toBe(
      '{\n    "image-end-offset": 1,\n    "check-errors": 0,\n    "filename": "x",\n    "format": "qcow2"\n}',
    );
  });
});

describe.skipIf(!HAVE_QEMU_IMG)('qemu-ts-img against qemu-img', () => {
  describe('create', () => {
    const cases: { name: string; args: string[]; ext: string }[] = [
      { name: 'qcow2 default', args: ['-f', 'qcow2'], ext: 'qcow2' },
      { name: 'qcow2 v2, 4k clusters', args: ['-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4k'], ext: 'qcow2' },
      { name: 'qcow2 lazy refcounts', args: ['-f', 'qcow2', '-o', 'lazy_refcounts=on,compat=v3'], ext: 'qcow2' },
      { name: 'qcow2 512-byte clusters', args: ['-f', 'qcow2', '-o', 'cluster_size=512'], ext: 'qcow2' },
      { name: 'qcow2 2M clusters', args: ['-f', 'qcow2', '-o', 'cluster_size=2M'], ext: 'qcow2' },
      { name: 'raw', args: ['-f', 'raw'], ext: 'raw' },
      { name: 'raw by default', args: [], ext: 'raw' },
    ];
    for (const size of ['1000', '64M', '1.5G']) {
      it.each(cases)(`$name, size ${size}`, async ({ args, ext }) => {
        const a = fresh(ext);
        const b = fresh(ext);
        const theirs = qemuImgOk(['create', ...args, a, size]);
        const mine = await oursOk(['create', ...args, b, size]);
        expect(mine).toBe(theirs.replace(a, b));
        if (ext === 'qcow2') expectCleanCheck(b);
        const ja = JSON.parse(qemuImgOk(['info', '--output=json', a])) as Record<string, unknown>;
        const jb = JSON.parse(qemuImgOk(['info', '--output=json', b])) as Record<string, unknown>;
        for (const j of [ja, jb]) {
          delete j.filename;
          delete j['actual-size'];
        }
        expect(jb).toEqual(ja);
        expectSameContents(a, b);
      });
    }
    it('with a backing file: size from the backing image, name kept as given', async () => {
      mkdirSync(join(dir, 'cb'), { recursive: true });
      const base = rel('cb', 'base.qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', base, '8M']);
      qemuIo(base, ['write -P 0x5a 0 1M']);
      const a = rel('cb', 'a.qcow2');
      const b = rel('cb', 'b.qcow2');
      const theirs = qemuImgOk(['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', a]);
      const mine = await oursOk(['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', b]);
      expect(mine).toBe(theirs.replace(a, b));
      const norm = (f: string) => {
        const j = JSON.parse(qemuImgOk(['info', '--output=json', f])) as Record<string, unknown>;
        delete j.filename;
        delete j['actual-size'];
        return j;
      };
      expect(norm(b)).toEqual(norm(a));
      expectCleanCheck(b);
      expectSameContents(a, b);
      // A larger overlay over the same backing file.
      const c = rel('cb', 'c.qcow2');
      await oursOk(['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', c, '16M']);
      expect(JSON.parse(qemuImgOk(['info', '--output=json', c]))['virtual-size']).toBe(16 << 20);
    });
    it('refuses what qemu-img refuses, in one line', async () => {
      const f = fresh('qcow2');
      expectOneLineError(await ours(['create', '-f', 'qcow2', f]), /Image creation needs a size parameter/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', f, '1Q']), /Invalid image size specified/);
      expectOneLineError(await ours(['create', '-f', 'vmdk', f, '1M']), /Unknown file format 'vmdk'/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-o', 'cluster_size=1000', f, '1M']), /Cluster size must be a power of two between 512 and 2048k/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-o', 'bogus=1', f, '1M']), /Invalid parameter 'bogus'/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-o', 'compat=2', f, '1M']), /Parameter 'version' does not accept value '2'/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-o', 'compat=0.10,lazy_refcounts=on', f, '1M']), /Lazy refcounts only supported/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-o', 'size=1M', f, '2M']), /The image size must be specified only once/);
      expectOneLineError(await ours(['create', '-f', 'raw', '-b', 'x', f, '1M']), /Backing file not supported for file format 'raw'/);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-b', rel('nope.qcow2'), '-F', 'qcow2', f]), /Could not open .*nope\.qcow2.*No such file/);
      const base = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', base, '1M']);
      expectOneLineError(await ours(['create', '-f', 'qcow2', '-b', join(process.cwd(), base), f]), /Backing file specified without backing format/);
    });
  });

  describe('info prints what qemu-img prints', () => {
    it('for images made by qemu-img, by us, with backing chains', async () => {
      mkdirSync(join(dir, 'info', 'sub'), { recursive: true });
      const base = rel('info', 'base.qcow2');
      const mid = rel('info', 'sub', 'mid.qcow2');
      const top = rel('info', 'top.qcow2');
      const raw = rel('info', 'odd.raw');
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', base, '100M']);
      qemuIo(base, ['write -P 1 0 300k']);
      await oursOk(['create', '-q', '-f', 'qcow2', '-b', '../base.qcow2', '-F', 'qcow2', mid]);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', '-b', 'sub/mid.qcow2', '-F', 'qcow2', top, '1G']);
      qemuIo(top, ['write -P 2 1M 64k']);
      writeRandomRaw(raw, 1000, [[0, 10]]);
      const ourMade = fresh('qcow2');
      await oursOk(['create', '-q', '-f', 'qcow2', ourMade, '3G']);
      for (const f of [base, mid, top, raw, ourMade]) {
        for (const extra of [[], ['--output=json'], ['--backing-chain'], ['--backing-chain', '--output=json'], ['--output', 'human']]) {
          const theirs = qemuImg(['info', ...extra, f]);
          expect(theirs.status).toBe(0);
          expect(await ours(['info', ...extra, f])).toEqual(theirs);
        }
      }
      // The format given explicitly, and a mismatch.
      expect(await ours(['info', '-f', 'raw', top])).toEqual(qemuImg(['info', '-f', 'raw', top]));
      expectOneLineError(await ours(['info', '-f', 'qcow2', raw]), /Could not open '.*odd\.raw': Image is not in qcow2 format/);
    });
    it('shows a dirty lazy-refcounts image as qemu-img does', async () => {
      const f = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', f, '1M']);
      // Set the dirty bit (incompatible feature bit 0) as a crash with lazy refcounts leaves it.
      const h = readBytes(f, 72, 8);
      h[7] = h[7]! | 1;
      patchBytes(f, 72, h);
      expect(await ours(['info', f])).toEqual(qemuImg(['info', f]));
      expect(await ours(['info', '--output=json', f])).toEqual(qemuImg(['info', '--output=json', f]));
    });
  });

  describe('map prints what qemu-img prints', () => {
    it('data, zero, unallocated, discarded, compressed clusters and a three-image chain with a raw base', async () => {
      mkdirSync(join(dir, 'map'), { recursive: true });
      const raw = rel('map', 'base.raw');
      writeRandomRaw(raw, 6 << 20, [
        [0, 64 << 10],
        [(2 << 20) + 4096, 8192],
      ]);
      const mid = rel('map', 'mid.qcow2');
      const top = rel('map', 'top.qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', mid, '6M']);
      qemuIo(mid, ['write -P 7 1M 192k', 'write -z 1536k 64k', 'write -P 8 3M 64k', 'discard 3M 64k']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', 'mid.qcow2', '-F', 'qcow2', top, '8M']);
      qemuIo(top, ['write -P 9 0 4k', 'write -P 9 64k 12k', 'write -z 1M 8k', 'write -P 3 5M 4k', 'write -z -u 7M 4k']);
      const alloc0 = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', alloc0, '4M']);
      qemuIo(alloc0, ['write -P 1 0 256k', 'write -z 64k 64k']); // zero cluster that keeps its allocation
      const comp = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', comp, '4M']);
      qemuIo(comp, ['write -c -P 4 0 64k', 'write -P 5 64k 64k']);
      for (const f of [raw, mid, top, alloc0]) {
        for (const extra of [[], ['--output=json'], ['--start-offset=1M', '--max-length=3M', '--output=json'], ['-s', '64k', '-l', '100k']]) {
          const theirs = qemuImg(['map', ...extra, f]);
          expect(theirs.status).toBe(0);
          expect(await ours(['map', ...extra, f])).toEqual(theirs);
        }
      }
      expect(await ours(['map', '--output=json', comp])).toEqual(qemuImg(['map', '--output=json', comp]));
      const human = await ours(['map', comp]);
      expect(human.status).toBe(1);
      expect(human.stderr).toBe('qemu-ts-img: File contains external, encrypted or compressed clusters.\n');
    });
  });

  describe('convert', () => {
    let src = '';
    beforeAll(() => {
      src = fresh('raw');
      // Data with holes and a zero block inside the data, not cluster aligned.
      writeRandomRaw(src, 24 << 20, [
        [0, 1 << 20],
        [(3 << 20) + 512, 70000],
        [10 << 20, 3 << 20],
        [(24 << 20) - 4096, 4096],
      ]);
      patchBytes(src, 10 << 20, new Uint8Array(8192));
    });
    /** qemu-img map without host offsets: the data/zero layout. */
    const layout = (f: string) =>
      (JSON.parse(qemuImgOk(['map', '--output=json', f])) as Record<string, unknown>[]).map(({ offset: _o, ...rest }) => rest);

    it('raw -> qcow2: same contents, clean image, same data layout as qemu-img convert', async () => {
      const a = fresh('qcow2');
      const b = fresh('qcow2');
      qemuImgOk(['convert', '-O', 'qcow2', src, a]);
      const r = await ours(['convert', '-O', 'qcow2', src, b]);
      expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
      expectSameContents(src, b);
      expectCleanCheck(b);
      expect(layout(b)).toEqual(layout(a));
    });
    it('qcow2 chain -> raw: flattened, sparse', async () => {
      const base = fresh('qcow2');
      const top = fresh('qcow2');
      qemuImgOk(['convert', '-O', 'qcow2', src, base]);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', join(process.cwd(), base), '-F', 'qcow2', top]);
      qemuIo(top, ['write -P 0x11 5M 1M', 'write -z 0 64k']);
      const a = fresh('raw');
      const b = fresh('raw');
      qemuImgOk(['convert', '-O', 'raw', top, a]);
      const r = await ours(['convert', '-p', '-O', 'raw', top, b]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^ {4}\(0\.00\/100%\)\r.*\(100\.00\/100%\)\r\n$/s);
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
      expect(statSync(b).blocks).toBeLessThanOrEqual(statSync(a).blocks + 16);
      expect(layout(b)).toEqual(layout(a));
    });
    it('-c compresses; -o sets the output geometry', async () => {
      const a = fresh('qcow2');
      const b = fresh('qcow2');
      qemuImgOk(['convert', '-c', '-O', 'qcow2', src, a]);
      await oursOk(['convert', '-c', '-O', 'qcow2', src, b]);
      expectSameContents(src, b);
      expectCleanCheck(b);
      expect(layout(b)).toEqual(layout(a));
      expect(statSync(b).size).toBeLessThan(statSync(a).size * 1.1);
      const c = fresh('qcow2');
      await oursOk(['convert', '-O', 'qcow2', '-o', 'cluster_size=4k,compat=0.10', src, c]);
      const info = JSON.parse(qemuImgOk(['info', '--output=json', c])) as { 'cluster-size': number; 'format-specific': { data: { compat: string } } };
      expect(info['cluster-size']).toBe(4096);
      expect(info['format-specific'].data.compat).toBe('0.10');
      expectSameContents(src, c);
      expectCleanCheck(c);
    });
    it('several sources are concatenated; -n writes into an existing image', async () => {
      const q = fresh('qcow2');
      qemuImgOk(['convert', '-O', 'qcow2', src, q]);
      const a = fresh('raw');
      const b = fresh('raw');
      qemuImgOk(['convert', '-O', 'raw', src, q, src, a]);
      await oursOk(['convert', '-O', 'raw', src, q, src, b]);
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
      // -n: an existing qcow2 full of other data ends up equal to the source.
      const t = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', t, '24M']);
      qemuIo(t, ['write -P 0xee 0 24M']);
      await oursOk(['convert', '-n', '-O', 'qcow2', src, t]);
      expectSameContents(src, t);
      expectCleanCheck(t);
    });
    it('refuses bad requests in one line', async () => {
      expectOneLineError(await ours(['convert', '-O', 'qcow2', rel('missing.raw'), fresh('qcow2')]), /Could not open '.*missing\.raw': Could not open '.*missing\.raw': No such file or directory/);
      expectOneLineError(await ours(['convert', '-c', '-O', 'raw', src, fresh('raw')]), /Compression not supported for this file format/);
      expectOneLineError(await ours(['convert', '-O', 'vmdk', src, fresh('raw')]), /Unknown file format 'vmdk'/);
      expectOneLineError(await ours(['convert', src]), /Expecting image file name and output file name/);
    });
  });

  describe('check', () => {
    /** An image with two data clusters written by qemu-io. */
    const withData = (): string => {
      const f = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', f, '10M']);
      qemuIo(f, ['write -P 0xaa 0 64k', 'write -P 0xbb 1M 64k']);
      return f;
    };
    const same = async (args: string[], expectStatus: number): Promise<void> => {
      const theirs = qemuImg(args);
      const mine = await ours(args);
      expect(theirs.status).toBe(expectStatus);
      expect(mine.status).toBe(expectStatus);
      expect(mine.stdout).toBe(theirs.stdout);
    };
    it('a clean image', async () => {
      const f = withData();
      await same(['check', f], 0);
      await same(['check', '--output=json', f], 0);
      const empty = fresh('qcow2');
      await oursOk(['create', '-q', '-f', 'qcow2', empty, '1G']);
      await same(['check', empty], 0);
      await same(['check', '--output=json', empty], 0);
      const r = await ours(['check', src()]);
      expect(r).toEqual({ status: 63, stdout: '', stderr: 'qemu-ts-img: This image format does not support checks\n' });
    });
    const src = (): string => {
      const f = fresh('raw');
      writeRandomRaw(f, 1 << 20, [[0, 4096]]);
      return f;
    };
    it('leaked clusters: found (exit 3), repaired with -r leaks', async () => {
      const f = withData();
      const { at } = firstL2Entry(f);
      patchBytes(f, at, new Uint8Array(8)); // drop the reference, keep the refcount
      await same(['check', f], 3);
      await same(['check', '--output=json', f], 3);
      const a = fresh('qcow2');
      const b = fresh('qcow2');
      copyFileSync(f, a);
      copyFileSync(f, b);
      const theirs = qemuImg(['check', '-r', 'leaks', a]);
      const mine = await ours(['check', '-r', 'leaks', b]);
      expect(mine.status).toBe(theirs.status);
      expect(mine.stdout).toBe(theirs.stdout);
      expectCleanCheck(b);
      expectSameContents(a, b);
    });
    it('corruptions: found (exit 2), repaired with -r all', async () => {
      const f = withData();
      const { host } = firstL2Entry(f);
      const { refTable, clusterBits } = qcow2Layout(f);
      const block = Number(readBytes(f, refTable, 8).readBigUInt64BE(0));
      patchBytes(f, block + (host >> clusterBits) * 2, new Uint8Array(2)); // refcount 0 for a used cluster
      await same(['check', f], 2);
      await same(['check', '--output=json', f], 2);
      const a = fresh('qcow2');
      const b = fresh('qcow2');
      copyFileSync(f, a);
      copyFileSync(f, b);
      const theirs = qemuImg(['check', '-r', 'all', a]);
      const mine = await ours(['check', '-r', 'all', b]);
      expect(mine.status).toBe(theirs.status);
      expect(mine.status).toBe(0);
      expectCleanCheck(b);
      expectSameContents(a, b);
    });
    it('bad options', async () => {
      expectOneLineError(await ours(['check', '-r', 'bogus', withData()]), /Unknown option value for -r \(expecting 'leaks' or 'all'\): bogus/);
      expectOneLineError(await ours(['check', '--output=xml', withData()]), /--output must be used with human or json as argument\./);
    });
  });

  describe('resize', () => {
    it('qcow2 and raw, relative and absolute, as qemu-img', async () => {
      for (const [fmt, steps] of [
        ['qcow2', ['+1M', '3G', '--shrink:-1G', '+512']],
        ['raw', ['+1000', '+24', '5M', '--shrink:-1M']],
      ] as const) {
        const a = fresh(fmt);
        const b = fresh(fmt);
        qemuImgOk(['create', '-q', '-f', fmt, a, '1000']);
        copyFileSync(a, b);
        if (fmt === 'qcow2') {
          qemuIo(a, ['write -P 1 0 512']);
          qemuIo(b, ['write -P 1 0 512']);
        }
        for (const step of steps) {
          const [flag, size] = step.includes(':') ? step.split(':') : [undefined, step];
          const args = ['resize', '-f', fmt, ...(flag ? [flag] : []), a, size!];
          const theirs = qemuImg(args);
          expect(await ours(args.map((x) => (x === a ? b : x)))).toEqual(theirs);
          expect(statSync(b).size === statSync(a).size || fmt === 'qcow2').toBe(true);
          const va = JSON.parse(qemuImgOk(['info', '--output=json', '-f', fmt, a]))['virtual-size'];
          const vb = JSON.parse(qemuImgOk(['info', '--output=json', '-f', fmt, b]))['virtual-size'];
          expect(vb).toBe(va);
        }
        if (fmt === 'qcow2') expectCleanCheck(b);
        expectSameContents(a, b, fmt, fmt);
      }
    });
    it('refuses a shrink without --shrink, a non-positive size and a misaligned qcow2 size', async () => {
      const f = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', f, '4M']);
      expectOneLineError(await ours(['resize', f, '-1M']), /Use the --shrink option to perform a shrink operation/);
      expectOneLineError(await ours(['resize', '--shrink', f, '-4M']), /New image size must be positive/);
      expectOneLineError(await ours(['resize', f, '+1000']), /The new size must be a multiple of 512/);
      expectOneLineError(await ours(['resize', f]), /Not enough arguments/);
      expectOneLineError(await ours(['resize', f, '5x']), /Parameter 'size' expects a non-negative number/);
    });
  });

  /** Two identical copies of a chain in dirs A and B (relative backing names), built by `make`. */
  function twoCopies(name: string, make: (d: string) => void): [string, string] {
    const a = rel(`${name}-A`);
    const b = rel(`${name}-B`);
    mkdirSync(join(process.cwd(), a), { recursive: true });
    make(a);
    mkdirSync(join(process.cwd(), b), { recursive: true });
    for (const f of ['base.qcow2', 'base.raw', 'mid.qcow2', 'top.qcow2', 'new.qcow2']) {
      try {
        copyFileSync(join(a, f), join(b, f));
      } catch {
        // not part of this chain
      }
    }
    return [a, b];
  }

  describe('commit', () => {
    const chain = (baseFmt: 'qcow2' | 'raw', topSize?: string) => (d: string) => {
      const base = join(d, `base.${baseFmt}`);
      qemuImgOk(['create', '-q', '-f', baseFmt, base, '8M']);
      qemuIo(base, ['write -P 0xa1 0 1M', 'write -P 0xa2 3M 1M'], baseFmt);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', `base.${baseFmt}`, '-F', baseFmt, join(d, 'mid.qcow2')]);
      qemuIo(join(d, 'mid.qcow2'), ['write -P 0xb1 512k 1M', 'write -z 3M 64k']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', '-b', 'mid.qcow2', '-F', 'qcow2', join(d, 'top.qcow2'), ...(topSize ? [topSize] : [])]);
      qemuIo(join(d, 'top.qcow2'), ['write -P 0xc1 700k 5k', 'write -z 600k 4k', `write -P 0xc2 ${topSize ? '9M' : '7M'} 64k`]);
    };
    it('into the backing file, emptying the image (default) or keeping it (-d)', async () => {
      for (const keep of [false, true]) {
        const [a, b] = twoCopies(`commit${keep ? 'd' : ''}`, chain('qcow2'));
        const flags = keep ? ['-d'] : [];
        const theirs = qemuImg(['commit', ...flags, join(a, 'top.qcow2')]);
        expect(theirs).toEqual({ status: 0, stdout: 'Image committed.\n', stderr: '' });
        expect(await ours(['commit', ...flags, join(b, 'top.qcow2')])).toEqual(theirs);
        for (const f of ['mid.qcow2', 'top.qcow2']) {
          expectCleanCheck(join(b, f));
          expectSameContents(join(a, f), join(b, f));
        }
        expectSameContents(join(a, 'base.qcow2'), join(b, 'base.qcow2'));
        const l = (f: string) => (JSON.parse(qemuImgOk(['map', '--output=json', f])) as { present: boolean; depth: number }[]).filter((e) => e.present && e.depth === 0).length;
        expect(l(join(b, 'top.qcow2'))).toBe(l(join(a, 'top.qcow2')));
      }
    });
    it('-b base through an intermediate image, into raw and into a smaller base', async () => {
      for (const [name, make] of [
        ['commitb', chain('qcow2')],
        ['commitraw', chain('raw')],
        ['commitgrow', chain('qcow2', '12M')],
      ] as const) {
        const baseName = name === 'commitraw' ? 'base.raw' : 'base.qcow2';
        const [a, b] = twoCopies(name, make);
        // -b is relative to the image's directory, as in qemu-img.
        const theirs = qemuImg(['commit', '-b', baseName, join(a, 'top.qcow2')]);
        expect(theirs.status).toBe(0);
        expect(await ours(['commit', '-b', baseName, join(b, 'top.qcow2')])).toEqual(theirs);
        const fmt = baseName.endsWith('raw') ? 'raw' : 'qcow2';
        expectSameContents(join(a, baseName), join(b, baseName), fmt, fmt);
        if (fmt === 'qcow2') expectCleanCheck(join(b, baseName));
      }
    });
    it('refuses an image without backing file and a base outside the chain', async () => {
      const f = fresh('qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', f, '1M']);
      expectOneLineError(await ours(['commit', f]), /Image does not have a backing file/);
      const [, b] = twoCopies('commitbad', chain('qcow2'));
      expectOneLineError(await ours(['commit', '-b', 'nope', join(b, 'top.qcow2')]), /Did not find 'nope' in the backing chain of '.*top\.qcow2'/);
    });
  });

  describe('rebase', () => {
    const chain = (d: string): void => {
      qemuImgOk(['create', '-q', '-f', 'qcow2', join(d, 'base.qcow2'), '8M']);
      qemuIo(join(d, 'base.qcow2'), ['write -P 0x11 0 2M', 'write -P 0x12 5M 1M']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', join(d, 'new.qcow2'), '6M']);
      qemuIo(join(d, 'new.qcow2'), ['write -P 0x11 0 1M', 'write -P 0x99 1536k 1M', 'write -P 0x12 5M 4k']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', join(d, 'top.qcow2')]);
      qemuIo(join(d, 'top.qcow2'), ['write -P 0x22 64k 100k', 'write -z 5M 4k']);
    };
    it('safe mode keeps the contents; unsafe only changes the header; -b "" flattens', async () => {
      for (const [name, args] of [
        ['rebase', ['-b', 'new.qcow2', '-F', 'qcow2']],
        ['rebaseu', ['-u', '-b', 'new.qcow2', '-F', 'qcow2']],
        ['rebasenone', ['-b', '']],
      ] as const) {
        const [a, b] = twoCopies(name, chain);
        const before = fresh('raw');
        qemuImgOk(['convert', '-O', 'raw', join(a, 'top.qcow2'), before]);
        const theirs = qemuImg(['rebase', ...args, join(a, 'top.qcow2')]);
        expect(theirs.status).toBe(0);
        expect(await ours(['rebase', ...args, join(b, 'top.qcow2')])).toEqual(theirs);
        expectCleanCheck(join(b, 'top.qcow2'));
        expectSameContents(join(a, 'top.qcow2'), join(b, 'top.qcow2'));
        const info = (f: string) => qemuImgOk(['info', '--backing-chain', '--output=json', f]).replaceAll(a, '').replaceAll(b, '').replace(/"actual-size": \d+/g, '');
        expect(info(join(b, 'top.qcow2'))).toBe(info(join(a, 'top.qcow2')));
        if (name !== 'rebaseu') expectSameContents(before, join(b, 'top.qcow2'));
      }
    });
    it('needs -b or -u, and -F with a backing file', async () => {
      const [, b] = twoCopies('rebasebad', chain);
      expectOneLineError(await ours(['rebase', join(b, 'top.qcow2')]), /Must specify backing file \(-b\) or use unsafe mode \(-u\)/);
      expectOneLineError(await ours(['rebase', '-b', 'new.qcow2', join(b, 'top.qcow2')]), /backing format must be specified/);
    });
  });

  describe('backing chain loops', () => {
    it('fail at once with one line (qemu-img 7.2 never returns)', async () => {
      mkdirSync(join(dir, 'loop'), { recursive: true });
      const a = rel('loop', 'a.qcow2');
      const b = rel('loop', 'b.qcow2');
      const self = rel('loop', 'self.qcow2');
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', 'b.qcow2', '-F', 'qcow2', a, '1M']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', 'a.qcow2', '-F', 'qcow2', b, '1M']);
      qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', 'self.qcow2', '-F', 'qcow2', self, '1M']);
      for (const args of [
        ['info', '--backing-chain', a],
        ['map', a],
        ['convert', '-O', 'raw', b, fresh('raw')],
        ['map', self],
        ['commit', self],
      ]) {
        const t0 = performance.now();
        const r = await ours(args);
        expect(performance.now() - t0).toBeLessThan(1000);
        expectOneLineError(r, /Backing file chain loop detected/);
      }
      // Without --backing-chain, info reads only the header, as qemu-img does.
      expect((await ours(['info', a])).status).toBe(0);
    });
    it(`a chain deeper than ${MAX_CHAIN_DEPTH} images is refused, one that deep opens`, async () => {
      mkdirSync(join(dir, 'deep'), { recursive: true });
      await oursOk(['create', '-q', '-f', 'raw', rel('deep', 'l0.img'), '1M']);
      for (let i = 1; i <= MAX_CHAIN_DEPTH; i++) {
        await oursOk(['create', '-q', '-u', '-f', 'qcow2', '-b', i === 1 ? 'l0.img' : `l${i - 1}.qcow2`, '-F', i === 1 ? 'raw' : 'qcow2', rel('deep', `l${i}.qcow2`), '1M']);
      }
      const ok = await openImage(rel('deep', `l${MAX_CHAIN_DEPTH - 1}.qcow2`), { readOnly: true });
      expect(ok.layers).toHaveLength(MAX_CHAIN_DEPTH);
      await ok.close();
      expectOneLineError(await ours(['map', rel('deep', `l${MAX_CHAIN_DEPTH}.qcow2`)]), new RegExp(`Backing file chain is too deep \\(more than ${MAX_CHAIN_DEPTH} images\\)`));
    });
  });

  describe('usage errors are one line, exit 1', () => {
    it.each([
      [[], /Not enough arguments/],
      [['frob'], /Command not found: frob/],
      [['snapshot', '-l', 'x'], /not supported by qemu-ts-img yet: snapshot/],
      [['info'], /Expecting one image file name/],
      [['info', '-z', 'x'], /unrecognized option '-z'/],
      [['info', '--foo', 'x'], /unrecognized option '--foo'/],
      [['info', '--output=xml', 'x'], /--output must be used with human or json as argument/],
      [['info', 'x', 'y'], /Expecting one image file name/],
      [['info', '--object', 'secret,id=s', 'x'], /--object is not supported/],
      [['convert', '-f'], /missing argument for option '-f'/],
      [['info', '/nonexistent/x.qcow2'], /Could not open '\/nonexistent\/x\.qcow2': Could not open '\/nonexistent\/x\.qcow2': No such file or directory/],
      [['map', '-f', 'vmdk', 'x'], /Unknown file format 'vmdk'/],
    ])('%j', async (args, pattern) => {
      expectOneLineError(await ours(args), pattern);
    });
    it('help and version', async () => {
      const h = await ours(['--help']);
      expect(h.status).toBe(0);
      for (const c of ['create', 'info', 'convert', 'check', 'resize', 'commit', 'rebase', 'map']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
      expect((await ours(['--version'])).stdout).toMatch(/^qemu-ts-img version \d+\.\d+\.\d+\n$/);
      expect((await ours(['info', '--help'])).status).toBe(0);
    });
  });
});

describe.skipIf(!HAVE_QEMU_IMG)('qemu-ts -drive with qcow2, probing, readonly and snapshots', () => {
  const io = () => {
    const err: string[] = [];
    return { io: { stdout: () => {}, stderr: (t: string) => void err.push(t), writeSerial: () => {}, env: {} }, err };
  };
  const drivesOf = async (argv: string[]) => {
    const c = io();
    const cl = await parseCommandLine(['-M', 'virt', '-bios', 'none', ...argv], c.io);
    if (cl.action !== 'run') throw new Error('expected a run');
    return { drives: cl.options.drives ?? [], stderr: c.err.join('') };
  };
  const errorOf = async (argv: string[]): Promise<string> => {
    try {
      await drivesOf(argv);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };

  it('opens qcow2 with its backing chain, given or probed; warns only for a probed writable raw image', async () => {
    const base = fresh('raw');
    writeRandomRaw(base, 4 << 20, [[0, 4096]]);
    const top = fresh('qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', join(process.cwd(), base), '-F', 'raw', top]);
    qemuIo(top, ['write -P 0x42 4096 512']);
    for (const spec of [`file=${top},format=qcow2`, `file=${top}`, `file=${top},if=none,id=d0`]) {
      const argv = ['-drive', spec, ...(spec.includes('id=d0') ? ['-device', 'virtio-blk-device,drive=d0'] : [])];
      const { drives, stderr } = await drivesOf(argv);
      expect(stderr).toBe('');
      expect(drives).toHaveLength(1);
      const be = drives[0]!.backend;
      expect(be.length).toBe(4 << 20);
      const buf = new Uint8Array(8192);
      await be.read(0, buf);
      expect(Buffer.from(buf.subarray(0, 4096)).equals(readBytes(base, 0, 4096))).toBe(true);
      expect(buf[4096]).toBe(0x42);
      await be.close();
    }
    const raw = await drivesOf(['-drive', `file=${base}`]);
    expect(raw.stderr).toMatch(/^qemu-ts: warning: Image format was not specified for '.*' and probing guessed raw\./);
    await raw.drives[0]!.backend.close();
    const ro = await drivesOf(['-drive', `file=${base},readonly=on`]);
    expect(ro.stderr).toBe('');
    expect(ro.drives[0]!.backend.readOnly).toBe(true);
    await ro.drives[0]!.backend.close();
    // format=raw over a qcow2 file shows the file itself.
    const asRaw = await drivesOf(['-drive', `file=${top},format=raw`]);
    expect(asRaw.drives[0]!.backend.length).toBe(statSync(top).size);
    await asRaw.drives[0]!.backend.close();
  });

  it('snapshot=on and -snapshot: writes go to a temporary overlay, the image is untouched', async () => {
    const img = fresh('qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', img, '4M']);
    qemuIo(img, ['write -P 0x33 0 64k']);
    const raw = fresh('raw');
    writeRandomRaw(raw, 1 << 20, [[0, 8192]]);
    for (const argv of [
      ['-drive', `file=${img},snapshot=on`],
      ['-snapshot', '-drive', `file=${img},format=qcow2`],
      ['-snapshot', '-drive', `file=${raw},format=raw`],
      ['-drive', `file=${raw},snapshot=on`],
    ]) {
      const file = argv.join(' ').includes(raw) ? raw : img;
      const before = sha(file);
      const { drives, stderr } = await drivesOf(argv);
      expect(stderr).toBe('');
      const be = drives[0]!.backend;
      expect(be.readOnly).toBe(false);
      const data = new Uint8Array(70000).fill(0x77);
      await be.write(1000, data);
      await be.flush();
      const back = new Uint8Array(70000);
      await be.read(1000, back);
      expect(back.every((x) => x === 0x77)).toBe(true);
      await be.close();
      expect(sha(file)).toBe(before);
    }
    // snapshot=off wins over -snapshot for its drive.
    const { drives } = await drivesOf(['-snapshot', '-drive', `file=${raw},format=raw,snapshot=off`]);
    await drives[0]!.backend.write(0, new Uint8Array([1, 2, 3]));
    await drives[0]!.backend.close();
    expect([...readBytes(raw, 0, 3)]).toEqual([1, 2, 3]);
  });

  it('a probed raw image refuses a write that would make it probe as qcow2', async () => {
    const raw = fresh('raw');
    writeRandomRaw(raw, 1 << 20, []);
    const { drives } = await drivesOf(['-drive', `file=${raw}`]);
    const be = drives[0]!.backend;
    const hdr = fresh('qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', hdr, '1M']);
    const header = readBytes(hdr, 0, 512);
    await expect(be.write(0, header)).rejects.toThrow(/probed raw image/);
    await be.write(0, new Uint8Array(512).fill(9)); // ordinary data is fine
    await be.close();
    const explicit = await drivesOf(['-drive', `file=${raw},format=raw`]);
    await explicit.drives[0]!.backend.write(0, header); // format=raw: no restriction, as in QEMU
    await explicit.drives[0]!.backend.close();
  });

  it('reports bad drives in one line', async () => {
    mkdirSync(join(dir, 'dloop'), { recursive: true });
    const a = rel('dloop', 'a.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', 'a.qcow2', '-F', 'qcow2', a, '1M']);
    expect(await errorOf(['-drive', `file=${a}`])).toMatch(/^-drive file=.*a\.qcow2: Backing file chain loop detected/);
    const orphan = fresh('qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', 'gone.qcow2', '-F', 'qcow2', orphan, '1M']);
    expect(await errorOf(['-drive', `file=${orphan},format=qcow2`])).toMatch(
      /^-drive file=.*,format=qcow2: Could not open backing file: Could not open '.*gone\.qcow2': No such file or directory$/,
    );
    expect(await errorOf(['-drive', `file=${orphan},format=vmdk`])).toMatch(/unknown driver 'vmdk'/);
    expect(await errorOf(['-drive', `file=${orphan},snapshot=maybe`])).toMatch(/snapshot expects 'on' or 'off'/);
    const raw = fresh('raw');
    writeRandomRaw(raw, 4096, []);
    expect(await errorOf(['-drive', `file=${raw},format=qcow2`])).toMatch(/Image is not in qcow2 format/);
  });

  it('openImage detects loops through different spellings of one file', async () => {
    mkdirSync(join(dir, 'spell'), { recursive: true });
    const a = rel('spell', 'a.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', '../spell/./b.qcow2', '-F', 'qcow2', a, '1M']);
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-u', '-b', join(process.cwd(), a), '-F', 'qcow2', rel('spell', 'b.qcow2'), '1M']);
    const t0 = performance.now();
    await expect(openImage(a, { readOnly: true })).rejects.toThrow(/Backing file chain loop detected/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
