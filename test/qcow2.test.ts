/**
 * qcow2 driver tests. The oracle is QEMU's own qemu-img / qemu-io (Debian qemu-utils):
 * images they write must read byte for byte as `qemu-img convert -O raw` reads them, and
 * images we write must pass `qemu-img check` and `qemu-img compare`. Without the tools
 * those tests skip, except under CI=true where they fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { BlockBackend } from '../src/block/backend.js';
import { MemoryFile, type RandomAccessFile } from '../src/block/file.js';
import { MemoryBackend } from '../src/block/memory.js';
import { openRawFile } from '../src/block/node-file.js';
import { openFile } from '../src/block/node-random-access-file.js';
import { createQcow2, probeQcow2, Qcow2Image, readQcow2Info } from '../src/block/qcow2.js';
import { inflateRaw } from '../src/block/qcow2/inflate.js';
import { UserError } from '../src/machine/options.js';

const CI = process.env.CI === 'true';

function haveTool(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}
const HAVE_QEMU = haveTool('qemu-img') && haveTool('qemu-io');
if (CI && !HAVE_QEMU) throw new Error('qemu-img/qemu-io are missing under CI=true (install qemu-utils)');
const describeQemu = describe.skipIf(!HAVE_QEMU);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qcow2-test-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function tmp(name: string): string {
  return join(dir, `${counter++}-${name}`);
}

function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function qemuIo(file: string, ...cmds: string[]): void {
  const args: string[] = [];
  for (const c of cmds) args.push('-c', c);
  execFileSync('qemu-io', [...args, file], { stdio: ['ignore', 'pipe', 'pipe'] });
}
/** qemu-img check: exit status and output (0 = clean, 2 = corruptions, 3 = leaks). */
function qemuCheck(file: string): { status: number; out: string } {
  const r = spawnSync('qemu-img', ['check', file], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}
function expectQemuClean(file: string): void {
  const r = qemuCheck(file);
  expect(r.out).toContain('No errors were found on the image.');
  expect(r.status).toBe(0);
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
function fileSha(path: string): string {
  return sha256(readFileSync(path));
}
/** What QEMU reads from an image: convert it to raw. */
function qemuRaw(file: string): Uint8Array {
  const out = tmp('raw');
  qemuImg('convert', '-O', 'raw', file, out);
  const b = readFileSync(out);
  rmSync(out);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  let diff = actual.length === expected.length ? -1 : Math.min(actual.length, expected.length);
  if (diff < 0) {
    for (let i = 0; i < actual.length; i++) {
      if (actual[i] !== expected[i]) {
        diff = i;
        break;
      }
    }
  }
  expect(diff < 0 ? 'equal' : `differ at ${diff} (lengths ${actual.length}/${expected.length})`).toBe('equal');
}

/** Deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

/** Open an image chain from files: each qcow2 with its backing (raw or qcow2) opened read-only below it. */
async function openChain(path: string, readOnly: boolean): Promise<Qcow2Image> {
  const file = await openFile(path, { readOnly });
  const info = await readQcow2Info(file);
  let backing: BlockBackend | null = null;
  if (info.backingFile !== null) {
    const bpath = info.backingFile.startsWith('/') ? info.backingFile : join(dir, info.backingFile);
    if (info.backingFormat === 'raw') backing = await openRawFile(bpath, { readOnly: true });
    else backing = await openChain(bpath, true);
  }
  return Qcow2Image.open(file, { readOnly, backing });
}

async function readAll(img: BlockBackend): Promise<Uint8Array> {
  const out = new Uint8Array(img.length);
  // In uneven pieces, to cross cluster and table boundaries in different ways.
  const step = 3 * 65536 + 4608;
  for (let p = 0; p < img.length; p += step) await img.read(p, out.subarray(p, Math.min(img.length, p + step)));
  return out;
}

describe('inflate', () => {
  it('decodes zlib raw deflate of every kind, ignoring trailing bytes', () => {
    const r = rng(5);
    for (let t = 0; t < 60; t++) {
      const n = 1 + Math.floor(r() * 70000);
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) d[i] = t % 3 === 0 ? r() * 256 : t % 3 === 1 ? (i % 13) * 5 : r() < 0.1 ? r() * 256 : 65;
      const c = deflateRawSync(d, { level: t % 10 });
      const junk = new Uint8Array(c.length + 37).fill(0x5a);
      junk.set(c);
      const out = new Uint8Array(n);
      expect(inflateRaw(junk, out)).toBe(n);
      expectBytes(out, d);
    }
  });
  it('rejects garbage with an error, never more output than asked', () => {
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      const g = new Uint8Array(64 + Math.floor(r() * 512));
      for (let i = 0; i < g.length; i++) g[i] = r() * 256;
      const out = new Uint8Array(4096);
      try {
        expect(inflateRaw(g, out)).toBeLessThanOrEqual(4096);
      } catch (e) {
        expect((e as Error).name).toBe('InflateError');
      }
    }
  });
});

describe('MemoryFile', () => {
  it('grows, reads short at end of file, truncates', async () => {
    const f = new MemoryFile();
    await f.write(10, new Uint8Array([1, 2, 3]));
    expect(await f.size()).toBe(13);
    const b = new Uint8Array(8).fill(9);
    expect(await f.read(8, b)).toBe(5);
    expect([...b.subarray(0, 5)]).toEqual([0, 0, 1, 2, 3]);
    await f.truncate(11);
    expect(await f.read(0, new Uint8Array(20))).toBe(11);
    await f.truncate(20);
    const c = new Uint8Array(9);
    await f.read(11, c);
    expect([...c]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('openFile', () => {
  it('reports a missing file in one line', async () => {
    await expect(openFile(join(tmpdir(), 'does-not-exist.qcow2'), { readOnly: true })).rejects.toThrow(
      /^Could not open '.*does-not-exist.qcow2': No such file or directory$/,
    );
  });
});

describe('create and open (in memory)', () => {
  it('round-trips data through a fresh image, v2 and v3, several cluster sizes', async () => {
    for (const compat of ['0.10', '1.1'] as const) {
      for (const clusterSize of [512, 4096, 65536, 2 * 1024 * 1024]) {
        const f = new MemoryFile();
        await createQcow2(f, { size: 8 * 1024 * 1024 + 1536, clusterSize, compat });
        expect(probeQcow2(f.bytes())).toBe(true);
        const info = await readQcow2Info(f);
        expect(info.version).toBe(compat === '0.10' ? 2 : 3);
        expect(info.clusterSize).toBe(clusterSize);
        const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
        const data = pattern(300000, clusterSize);
        await img.write(123457, data);
        await img.write(img.length - 1000, data.subarray(0, 1000));
        const back = new Uint8Array(data.length);
        await img.read(123457, back);
        expectBytes(back, data);
        await img.close();
        const r = await Qcow2Image.check(f.reopen(), 'none');
        expect(r.messages).toEqual([]);
        expect(r.corruptions + r.leaks).toBe(0);
        const again = await Qcow2Image.open(f.reopen(), { readOnly: true, backing: null });
        const back2 = new Uint8Array(1000);
        await again.read(again.length - 1000, back2);
        expectBytes(back2, data.subarray(0, 1000));
        await again.close();
      }
    }
  });
});

describeQemu('interop: images written by QEMU', () => {
  for (const compat of ['0.10', '1.1']) {
    for (const cs of ['4k', '64k', '2M']) {
      it(`reads compat=${compat} cluster_size=${cs} like qemu-img convert`, async () => {
        const p = tmp(`q-${compat}-${cs}.qcow2`);
        qemuImg('create', '-q', '-f', 'qcow2', '-o', `compat=${compat},cluster_size=${cs}`, p, '24M');
        const cmds = [
          'write -P 0xab 0 64k',
          'write -P 0x11 100k 3k',
          'write -P 0x22 1M 2M',
          'write -P 0x33 20M 4097',
          'write -P 0x44 24575k 1k',
        ];
        if (compat === '1.1') cmds.push('write -z 1536k 1M', 'write -z 8M 512k');
        else cmds.push('write -z 1536k 4k');
        cmds.push('discard 2M 64k');
        qemuIo(p, ...cmds);
        const expected = qemuRaw(p);
        const img = await openChain(p, true);
        expectBytes(await readAll(img), expected);
        await img.close();
      });
    }
  }

  it('reads compressed clusters (qemu-img convert -c), several cluster sizes', async () => {
    for (const cs of ['512', '4k', '64k', '1M']) {
      // Compressible patterns and incompressible noise (which stays uncompressed).
      const src = tmp('src.raw');
      const raw = new Uint8Array(5 * 1024 * 1024);
      raw.fill(0xab, 0, 65536);
      raw.fill(0x5a, 1024 * 1024, 2 * 1024 * 1024);
      raw.set(pattern(17 * 1024, 4), 4000 * 1024);
      const r = rng(77);
      for (let i = 40 * 65536; i < 44 * 65536; i++) raw[i] = r() * 256;
      writeFileSync(src, raw);
      const dst = tmp(`c-${cs}.qcow2`);
      qemuImg('convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', `cluster_size=${cs}`, src, dst);
      const img = await openChain(dst, true);
      const map = await img.map();
      expect(map.some((e) => e.compressed && e.data && e.offset === null)).toBe(true);
      if (cs !== '1M') expect(map.some((e) => !e.compressed && e.data && e.offset !== null)).toBe(true);
      const got = await readAll(img);
      expectBytes(got, qemuRaw(dst));
      expectBytes(got, raw);
      await img.close();
    }
  });

  it('refuses QEMU images with features we do not implement, naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['-o', 'extended_l2=on'], /unsupported feature\(s\): extended L2 entries$/],
      [['-o', 'compression_type=zstd'], /unsupported feature\(s\): compression type zstd$/],
      [['--object', 'secret,id=s0,data=abc', '-o', 'encrypt.format=luks,encrypt.key-secret=s0'], /encrypted images are not supported \(crypt_method 2: LUKS\)/],
      [['--object', 'secret,id=s0,data=abc', '-o', 'encrypt.format=aes,encrypt.key-secret=s0'], /encrypted images are not supported \(crypt_method 1: AES\)/],
      [['-o', `data_file=${join(dir, 'external.raw')}`], /unsupported feature\(s\): external data file$/],
    ];
    for (const [opts, message] of cases) {
      const p = tmp('unsupported.qcow2');
      qemuImg('create', '-q', '-f', 'qcow2', ...opts, p, '1M');
      const before = fileSha(p);
      const f = await openFile(p, { readOnly: false });
      await expect(readQcow2Info(f)).rejects.toThrow(message);
      await expect(Qcow2Image.open(f, { readOnly: true, backing: null })).rejects.toThrow(message);
      await expect(Qcow2Image.open(f, { readOnly: false, backing: null })).rejects.toThrow(message);
      await f.close();
      expect(fileSha(p)).toBe(before);
    }
  });

  it('reads a backing chain of depth 3 (raw base, qcow2 overlays)', async () => {
    const base = tmp('base.raw');
    const b = pattern(6 * 1024 * 1024, 3);
    writeFileSync(base, b);
    const mid = tmp('mid.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, mid, '8M');
    qemuIo(mid, 'write -P 0x61 64k 100k', 'write -z 2M 64k', 'write -P 0x62 6M 1M');
    const top = tmp('top.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', '-F', 'qcow2', '-b', mid, top, '10M');
    qemuIo(top, 'write -P 0x71 96k 8k', 'write -P 0x72 9M 4k');
    const top2 = tmp('top2.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', top, top2, '10M');
    qemuIo(top2, 'write -P 0x81 0 1k', 'write -z 100k 64k', 'write -P 0x82 7M 3k');
    const img = await openChain(top2, true);
    expectBytes(await readAll(img), qemuRaw(top2));
    const map = await img.map();
    expect(map.some((e) => e.depth === 3 && e.data)).toBe(true);
    expect(map.some((e) => e.depth === 0 && e.data)).toBe(true);
    await img.close();
  });
});

describeQemu('interop: images written by us', () => {
  it('pass qemu-img check and compare, v2 and v3, with writes, zeroes, discards and compression', async () => {
    for (const compat of ['0.10', '1.1'] as const) {
      for (const clusterSize of [512, 65536]) {
        const p = tmp(`ours-${compat}-${clusterSize}.qcow2`);
        const size = 12 * 1024 * 1024 + 512;
        const f = await openFile(p, { readOnly: false, create: true });
        await createQcow2(f, { size, clusterSize, compat });
        const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
        const mirror = new Uint8Array(size);
        const put = async (off: number, d: Uint8Array): Promise<void> => {
          await img.write(off, d);
          mirror.set(d, off);
        };
        await put(0, pattern(70000, 1));
        await put(5 * 1024 * 1024 + 77, pattern(1024 * 1024, 2));
        await put(size - 3000, pattern(3000, 3));
        await img.writeZeroes(5 * 1024 * 1024, 200000);
        mirror.fill(0, 5 * 1024 * 1024, 5 * 1024 * 1024 + 200000);
        await img.discard(0, 65536);
        mirror.fill(0, 0, 65536);
        const cl = pattern(clusterSize, 9);
        await img.writeCompressed(8 * 1024 * 1024, cl);
        mirror.set(cl, 8 * 1024 * 1024);
        const zc = new Uint8Array(clusterSize).fill(0x42);
        await img.writeCompressed(8 * 1024 * 1024 + clusterSize, zc);
        mirror.set(zc, 8 * 1024 * 1024 + clusterSize);
        await img.close();
        expectQemuClean(p);
        const raw = tmp('mirror.raw');
        writeFileSync(raw, mirror);
        expect(spawnSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', p, raw]).status).toBe(0);
        expectBytes(qemuRaw(p), mirror);
      }
    }
  });

  it('creates images qemu-img reads: backing fields, lazy refcounts, sizes', async () => {
    const base = tmp('b.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', base, '4M');
    const p = tmp('ov.qcow2');
    const f = await openFile(p, { readOnly: false, create: true });
    await createQcow2(f, { size: 4 * 1024 * 1024, backingFile: base, backingFormat: 'qcow2', lazyRefcounts: true });
    await f.close();
    const info = JSON.parse(qemuImg('info', '--output=json', p)) as Record<string, unknown>;
    expect(info['backing-filename']).toBe(base);
    expect(info['backing-filename-format']).toBe('qcow2');
    expect(info['virtual-size']).toBe(4 * 1024 * 1024);
    expect((info['format-specific'] as { data: { 'lazy-refcounts': boolean } }).data['lazy-refcounts']).toBe(true);
    expectQemuClean(p);
    // Large virtual sizes lay out several refcount blocks with small clusters.
    const big = tmp('big.qcow2');
    const g = await openFile(big, { readOnly: false, create: true });
    await createQcow2(g, { size: 2 ** 40, clusterSize: 512 * 8 });
    await g.close();
    expectQemuClean(big);
    expect(JSON.parse(qemuImg('info', '--output=json', big))['virtual-size']).toBe(2 ** 40);
  });
});


interface DiffConfig {
  seed: number;
  compat: '0.10' | '1.1';
  clusterSize: number;
  size: number;
  /** Backing file contents (raw), or null. */
  backing: Uint8Array | null;
  steps: number;
}

/**
 * Random reads, writes, zero writes, discards, compressed writes, flushes and reopenings
 * against a qcow2 image and a raw mirror; the image must read like the mirror after
 * every step. Returns the final image bytes and mirror.
 */
async function differential(cfg: DiffConfig): Promise<{ image: Uint8Array; mirror: Uint8Array }> {
  const r = rng(cfg.seed);
  const cs = cfg.clusterSize;
  const size = cfg.size;
  let file = new MemoryFile();
  await createQcow2(file, {
    size,
    clusterSize: cs,
    compat: cfg.compat,
    ...(cfg.backing ? { backingFile: 'backing.raw', backingFormat: 'raw' } : {}),
  });
  const mirror = new Uint8Array(size);
  if (cfg.backing) mirror.set(cfg.backing.subarray(0, Math.min(size, cfg.backing.length)));
  const open = (f: MemoryFile): Promise<Qcow2Image> =>
    Qcow2Image.open(f, { readOnly: false, backing: cfg.backing ? new MemoryBackend(cfg.backing, { readOnly: true }) : null });
  let img = await open(file);
  const randRange = (): [number, number] => {
    const kind = r();
    let len: number;
    if (kind < 0.3) len = 1 + Math.floor(r() * 700);
    else if (kind < 0.7) len = 1 + Math.floor(r() * cs * 3);
    else if (kind < 0.9) len = cs * (1 + Math.floor(r() * 4));
    else len = 1 + Math.floor(r() * Math.min(size, cs * 40));
    let off = Math.floor(r() * size);
    if (r() < 0.4) off -= off % cs;
    if (r() < 0.2) off -= off % 512;
    len = Math.min(len, size - off);
    return [off, Math.max(0, len)];
  };
  const compare = async (off: number, len: number, what: string): Promise<void> => {
    const got = new Uint8Array(len);
    await img.read(off, got);
    const exp = mirror.subarray(off, off + len);
    if (Buffer.from(got.buffer, got.byteOffset, len).equals(Buffer.from(exp.buffer, exp.byteOffset, len))) return;
    for (let i = 0; i < len; i++) {
      if (got[i] !== exp[i]) throw new Error(`${what}: byte ${off + i} is ${got[i]}, expected ${exp[i]}`);
    }
  };
  const trace: string[] = [];
  for (let step = 0; step < cfg.steps; step++) {
    const op = r();
    const [off, len] = randRange();
    const what = `step ${step} (seed ${cfg.seed})`;
    if (process.env.QCOW2_TRACE) trace.push(`${step}: op=${op.toFixed(3)} off=${off} len=${len}`);
    if (process.env.QCOW2_TRACE && trace.length > 40) trace.shift();
    try {
    if (op < 0.45) {
      const d = new Uint8Array(len);
      const fill = Math.floor(r() * 256);
      for (let i = 0; i < len; i++) d[i] = (fill + i * (step | 1)) & 0xff;
      if (r() < 0.1) d.fill(0);
      await img.write(off, d);
      mirror.set(d, off);
    } else if (op < 0.6) {
      await img.writeZeroes(off, len);
      mirror.fill(0, off, off + len);
    } else if (op < 0.72) {
      await img.discard(off, len);
      // Contents of discarded ranges are unspecified; whole clusters must read as zeros
      // where nothing shows through (v3, or no backing data).
      const got = new Uint8Array(len);
      await img.read(off, got);
      const a = Math.ceil(off / cs) * cs;
      const b = off + len >= size ? off + len : Math.floor((off + len) / cs) * cs;
      for (let p = a; p < b; p++) {
        const shows = cfg.backing !== null && p < cfg.backing.length && cfg.compat === '0.10';
        if (!shows && got[p - off] !== 0) throw new Error(`${what}: discarded byte ${p} reads ${got[p - off]}`);
      }
      mirror.set(got, off);
    } else if (op < 0.77) {
      const vc = Math.floor(r() * Math.ceil(size / cs));
      const st = await img.blockStatus(vc * cs, Math.min(cs, size - vc * cs));
      const d = new Uint8Array(Math.min(cs, size - vc * cs));
      const mode = r();
      for (let i = 0; i < d.length; i++) d[i] = mode < 0.5 ? (i >> 6) & 0xff : Math.floor(r() * 256);
      if (!st.allocated) {
        await img.writeCompressed(vc * cs, d);
        mirror.set(d, vc * cs);
      } else {
        await expect(img.writeCompressed(vc * cs, d)).rejects.toThrow(/allocated/);
      }
    } else if (op < 0.8) {
      await img.flush();
    } else if (op < 0.82) {
      await img.close();
      file = file.reopen();
      img = await open(file);
    } else {
      await compare(off, len, what);
      continue;
    }
    await compare(Math.max(0, off - 700), Math.min(size, off + len + 700) - Math.max(0, off - 700), what);
    if (step % 200 === 199) await compare(0, size, `${what} full`);
    } catch (e) {
      if (process.env.QCOW2_TRACE) console.log(trace.join('\n'));
      throw e;
    }
  }
  await compare(0, size, 'final');
  await img.close();
  const check = await Qcow2Image.check(file.reopen(), 'none');
  expect(check.messages).toEqual([]);
  if (process.env.QCOW2_TRACE) console.log("final image bytes", file.bytes().length);
  return { image: file.bytes().slice(), mirror };
}

describe('randomized differential test against a raw mirror', () => {
  const configs: Omit<DiffConfig, 'backing' | 'seed'>[] = [
    // Sizes are multiples of 512 (as qemu-img creates them) but not of the cluster size.
    { compat: '1.1', clusterSize: 65536, size: 5 * 1024 * 1024 + 4096 + 512, steps: 1500 },
    { compat: '1.1', clusterSize: 512, size: 3 * 1024 * 1024 + 512, steps: 1500 },
    { compat: '0.10', clusterSize: 4096, size: 4 * 1024 * 1024 - 512, steps: 1500 },
  ];
  for (const withBacking of [false, true]) {
    configs.forEach((c, k) => {
      it(`compat=${c.compat} cluster_size=${c.clusterSize} ${withBacking ? 'with' : 'without'} a backing file`, async () => {
        const seed = 1000 + k * 17 + (withBacking ? 5 : 0);
        let backing: Uint8Array | null = null;
        if (withBacking) {
          // Shorter than the image, so reads past its end must be zeros.
          backing = pattern(c.size - 3 * c.clusterSize - 100, seed);
        }
        const { image, mirror } = await differential({ ...c, seed, backing });
        if (HAVE_QEMU) {
          const p = tmp('diff.qcow2');
          if (backing) writeFileSync(join(dir, 'backing.raw'), backing);
          writeFileSync(p, image);
          expectQemuClean(p);
          expectBytes(qemuRaw(p), mirror);
        }
      }, 120000);
    });
  }
});

describe('hostile images are refused with one line and left unchanged', () => {
  const CS = 65536;
  let base = new Uint8Array(0);
  beforeAll(async () => {
    const f = new MemoryFile();
    await createQcow2(f, { size: 4 * 1024 * 1024, clusterSize: CS });
    const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
    await img.write(0, pattern(100000, 1));
    await img.write(1024 * 1024, pattern(5000, 2));
    await img.close();
    base = f.bytes().slice();
    // Layout (as qemu-img): header 0, refcount table 64k, refcount block 128k, L1 192k, L2 256k.
    const dv = new DataView(base.buffer);
    expect(dv.getUint32(48 + 4)).toBe(CS);
    expect(dv.getUint32(40 + 4)).toBe(3 * CS);
  });

  type Mutation = [name: string, mutate: (dv: DataView, b: Uint8Array) => Uint8Array | void, message: RegExp];
  const u64 = (dv: DataView, pos: number, v: bigint): void => dv.setBigUint64(pos, v);
  const header: Mutation[] = [
    ['bad magic', (dv) => dv.setUint32(0, 0x514649fc), /^Image is not in qcow2 format$/],
    ['empty file', () => new Uint8Array(0), /not in qcow2 format/],
    ['version 1', (dv) => dv.setUint32(4, 1), /unsupported qcow2 version 1/],
    ['version 4', (dv) => dv.setUint32(4, 4), /unsupported qcow2 version 4/],
    ['cluster_bits 8', (dv) => dv.setUint32(20, 8), /cluster_bits 8 is out of range/],
    ['cluster_bits 22', (dv) => dv.setUint32(20, 22), /cluster_bits 22 is out of range/],
    ['cluster_bits 2^32-1', (dv) => dv.setUint32(20, 0xffffffff), /cluster_bits 4294967295 is out of range/],
    ['header_length 100', (dv) => dv.setUint32(100, 100), /header_length 100 is less than 104/],
    ['header_length 108', (dv) => dv.setUint32(100, 108), /header_length 108 is not a multiple of 8/],
    ['header_length > cluster', (dv) => dv.setUint32(100, 0x20000), /header_length 131072 is larger than a cluster/],
    ['virtual size 2^63', (dv) => u64(dv, 24, 1n << 63n), /virtual size 0x8000000000000000 is too large/],
    ['L1 too small for the size', (dv) => u64(dv, 24, 1n << 40n), /L1 table has 1 entries, too few for the virtual size/],
    ['L1 absurdly large', (dv) => dv.setUint32(36, 0x10000000), /L1 table of 268435456 entries is too large/],
    ['L1 offset unaligned', (dv) => u64(dv, 40, 0x30008n), /L1 table offset 0x30008 is not aligned to a cluster/],
    ['L1 offset past EOF', (dv) => u64(dv, 40, 1n << 40n), /L1 table at 0x10000000000 \(8 bytes\) extends past the end of the file/],
    ['L1 offset 0', (dv) => u64(dv, 40, 0n), /L1 table offset 0x0 points into the header/],
    ['L1 on the refcount table', (dv) => u64(dv, 40, 0x10000n), /L1 table overlaps the refcount table/],
    ['refcount table unaligned', (dv) => u64(dv, 48, 0x10200n), /refcount table offset 0x10200 is not aligned/],
    ['refcount table past EOF', (dv) => u64(dv, 48, 0x7fff0000n), /refcount table at 0x7fff0000 .* extends past the end of the file/],
    ['refcount table in the header', (dv) => u64(dv, 48, 0n), /refcount table offset 0x0 points into the header/],
    ['refcount table of 0 clusters', (dv) => dv.setUint32(56, 0), /refcount table has no clusters/],
    ['refcount table too large', (dv) => dv.setUint32(56, 0x100000), /refcount table of 1048576 clusters is too large/],
    ['refcount_order 7', (dv) => dv.setUint32(96, 7), /refcount_order 7 is larger than 6/],
    ['AES encryption', (dv) => dv.setUint32(32, 1), /encrypted images are not supported \(crypt_method 1: AES\)/],
    ['LUKS encryption', (dv) => dv.setUint32(32, 2), /encrypted images are not supported \(crypt_method 2: LUKS\)/],
    ['external data file', (dv) => u64(dv, 72, 4n), /unsupported feature\(s\): external data file/],
    ['extended L2 entries', (dv) => u64(dv, 72, 16n), /unsupported feature\(s\): extended L2 entries/],
    [
      'zstd compression',
      (dv, b) => {
        u64(dv, 72, 8n);
        b[104] = 1;
      },
      /unsupported feature\(s\): compression type zstd/,
    ],
    ['compression type without its bit', (_dv, b) => void (b[104] = 1), /compression_type 1 is set without the compression type feature bit/],
    ['unknown incompatible bit', (dv) => u64(dv, 72, 1n << 20n), /unsupported feature\(s\): unknown incompatible feature bit 20/],
    [
      'unknown incompatible bit named by the feature table',
      (dv, b) => {
        // Rename the table's entry for incompatible bit 4 to bit 9 "frobnication".
        const t = b.indexOf(0x04, 0x70 + 8 + 4 * 48 + 1) === 0x70 + 8 + 4 * 48 + 1 ? 0x70 + 8 + 4 * 48 : -1;
        expect(t).toBeGreaterThan(0);
        b[t + 1] = 9;
        b.fill(0, t + 2, t + 48);
        b.set(new TextEncoder().encode('frobnication'), t + 2);
        u64(dv, 72, 1n << 9n);
      },
      /unsupported feature\(s\): frobnication$/,
    ],
    ['backing file name too long', (dv) => (u64(dv, 8, 0x1000n), dv.setUint32(16, 2000)), /backing file name is too long \(2000 bytes\)/],
    ['backing file name outside cluster 0', (dv) => (u64(dv, 8, 0xfff0n), dv.setUint32(16, 100)), /lies outside the header cluster/],
    ['header extension overrun', (dv) => dv.setUint32(0x70 + 4, 0xffffff), /header extension 0x6803f857 .* overruns the header area/],
    ['too many snapshots', (dv) => dv.setUint32(60, 100000), /too many snapshots \(100000\)/],
    ['snapshot table past EOF', (dv) => (dv.setUint32(60, 1), u64(dv, 64, 1n << 40n)), /snapshot table at .* extends past the end of the file/],
    ['truncated to 60 bytes', (_dv, b) => b.slice(0, 60), /file is truncated \(60 bytes/],
    ['truncated to one cluster', (_dv, b) => b.slice(0, CS), /extends past the end of the file/],
    ['truncated inside the L1 table', (_dv, b) => b.slice(0, 3 * CS + 4), /extends past the end of the file/],
  ];
  const tables: Mutation[] = [
    ['L1 entry past EOF', (dv) => u64(dv, 3 * CS, (1n << 63n) | (1n << 40n)), /L1 entry 0 \(0x10000000000\) points past the end of the file/],
    ['L1 entry into the header', (dv) => u64(dv, 3 * CS, 1n << 63n), /L1 entry 0 \(0x0\) points into the header/],
    ['L1 entry on the refcount table', (dv) => u64(dv, 3 * CS, (1n << 63n) | 0x10000n), /L1 entry 0 \(0x10000\) points into the refcount table/],
    ['L1 entry unaligned', (dv) => u64(dv, 3 * CS, (1n << 63n) | 0x40200n), /L1 entry 0 \(0x40200\) is not aligned to a cluster/],
    ['L1 entry on a refcount block', (dv) => u64(dv, 3 * CS, (1n << 63n) | 0x20000n), /L1 entry 0 \(0x20000\) points into a refcount block/],
    ['L1 entry reserved bits', (dv) => u64(dv, 3 * CS, (1n << 63n) | (1n << 60n) | 0x40000n), /L1 entry 0 .* has reserved bits set/],
    ['refcount table entry past EOF', (dv) => u64(dv, CS, 1n << 45n), /refcount table entry 0 \(0x200000000000\) points past the end of the file/],
    ['refcount table entry into L1', (dv) => u64(dv, CS, 3n * BigInt(CS)), /refcount table entry 0 \(0x30000\) points into the L1 table/],
    ['refcount table entry unaligned', (dv) => u64(dv, CS, 0x20200n), /refcount table entry 0 \(0x20200\) is not aligned/],
  ];

  for (const [name, mutate, message] of [...header, ...tables]) {
    it(name, async () => {
      const copy = base.slice();
      const bytes = mutate(new DataView(copy.buffer), copy) ?? copy;
      const p = tmp('hostile.qcow2');
      writeFileSync(p, bytes);
      const before = fileSha(p);
      const t0 = performance.now();
      for (const readOnly of [true, false]) {
        const f = await openFile(p, { readOnly });
        let err: unknown = null;
        try {
          const img = await Qcow2Image.open(f, { readOnly, backing: null });
          await img.close();
        } catch (e) {
          err = e;
        }
        await f.close();
        expect(err).toBeInstanceOf(UserError);
        const msg = (err as Error).message;
        expect(msg).toMatch(message);
        expect(msg).not.toContain('\n');
      }
      if (header.some((m) => m[0] === name)) {
        const f = await openFile(p, { readOnly: true });
        await expect(readQcow2Info(f)).rejects.toThrow(message);
        await expect(Qcow2Image.check(f, 'none')).rejects.toThrow(message);
        await f.close();
      } else {
        // The header is fine: check reports the damage instead.
        const f = await openFile(p, { readOnly: true });
        const r = await Qcow2Image.check(f, 'none');
        expect(r.corruptions).toBeGreaterThan(0);
        await f.close();
      }
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(fileSha(p)).toBe(before);
    });
  }

  it('bad L2 entries fail the access with a clear error, and refuse writes over metadata', async () => {
    const mutateL2 = (index: number, entry: bigint): Uint8Array => {
      const copy = base.slice();
      new DataView(copy.buffer).setBigUint64(4 * CS + index * 8, entry);
      return copy;
    };
    const cases: [Uint8Array, (img: Qcow2Image) => Promise<unknown>, RegExp][] = [
      [mutateL2(0, (1n << 63n) | 0x50200n), (img) => img.read(0, new Uint8Array(512)), /data cluster offset 0x50200 is invalid/],
      // A compressed cluster whose "data" is the L2 table itself.
      [mutateL2(1, (1n << 62n) | (3n << 54n) | 0x40000n), (img) => img.read(CS, new Uint8Array(512)), /compressed cluster at 0x40000/],
      // A standard cluster claiming to be the L1 table: writes there would destroy metadata.
      [mutateL2(16, (1n << 63n) | 0x30000n), (img) => img.write(16 * CS + 100, new Uint8Array(10).fill(1)), /overlaps metadata/],
    ];
    for (const [bytes, op, message] of cases) {
      const p = tmp('bad-l2.qcow2');
      writeFileSync(p, bytes);
      const before = fileSha(p);
      const img = await Qcow2Image.open(await openFile(p, { readOnly: false }), { readOnly: false, backing: null });
      const err = await op(img).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('BlockError');
      expect((err as Error).message).toMatch(message);
      await img.close();
      expect(fileSha(p)).toBe(before);
    }
  });

  it('refuses to open a corrupt-marked image read-write, but reads it', async () => {
    const copy = base.slice();
    new DataView(copy.buffer).setBigUint64(72, 2n);
    const p = tmp('corrupt-bit.qcow2');
    writeFileSync(p, copy);
    const f = await openFile(p, { readOnly: false });
    await expect(Qcow2Image.open(f, { readOnly: false, backing: null })).rejects.toThrow(/image is corrupt; cannot be opened read\/write/);
    const img = await Qcow2Image.open(f, { readOnly: true, backing: null });
    expect(img.info.corrupt).toBe(true);
    const b = new Uint8Array(5000);
    await img.read(1024 * 1024, b);
    expectBytes(b, pattern(5000, 2));
    await img.close();
    expect(fileSha(p)).toBe(sha256(copy));
  });
});

describeQemu('check and repair', () => {
  /** A qemu-made image: header 0, refcount table 1, block 2, L1 3, L2 4, data from cluster 5. */
  function damaged(name: string, damage: (dv: DataView) => void, qemuIoCmds = ['write -P 1 0 100000']): string {
    const p = tmp(name);
    qemuImg('create', '-q', '-f', 'qcow2', p, '4M');
    qemuIo(p, ...qemuIoCmds);
    const b = new Uint8Array(readFileSync(p));
    damage(new DataView(b.buffer));
    writeFileSync(p, b);
    return p;
  }
  const RB = 2 * 65536;

  it('finds a leak as qemu-img does, and repairs it with -r leaks', async () => {
    const p = damaged('leak.qcow2', (dv) => dv.setUint16(RB + 3 * 2, 2));
    const q = qemuCheck(p);
    expect(q.status).toBe(3);
    const f = await openFile(p, { readOnly: false });
    const r = await Qcow2Image.check(f, 'none');
    expect(r.leaks).toBe(1);
    expect(r.corruptions).toBe(0);
    expect(r.messages).toEqual(['Leaked cluster 3 refcount=2 reference=1']);
    for (const m of r.messages) expect(q.out).toContain(m);
    expect(r.allocatedClusters).toBe(2);
    expect(r.totalClusters).toBe(64);
    expect(r.imageEndOffset).toBe(458752);
    const fixed = await Qcow2Image.check(f, 'leaks');
    expect(fixed.leaksFixed).toBe(1);
    expect(fixed.leaks).toBe(0);
    expect(fixed.messages).toContain('Repairing cluster 3 refcount=2 reference=1');
    await f.close();
    expectQemuClean(p);
  });

  it('finds a corruption (refcount too low) and repairs it with -r all', async () => {
    const p = damaged('corrupt.qcow2', (dv) => dv.setUint16(RB + 5 * 2, 0));
    const q = qemuCheck(p);
    expect(q.status).toBe(2);
    const f = await openFile(p, { readOnly: false });
    const r = await Qcow2Image.check(f, 'none');
    expect(r.corruptions).toBe(2);
    expect(r.messages).toEqual([
      'ERROR cluster 5 refcount=0 reference=1',
      'ERROR OFLAG_COPIED data cluster: l2_entry=8000000000050000 refcount=0',
    ]);
    for (const m of r.messages) expect(q.out).toContain(m);
    // Opening read-write is allowed (QEMU allows it too), but -r leaks does not fix it.
    const leaksOnly = await Qcow2Image.check(f, 'leaks');
    expect(leaksOnly.corruptions).toBe(2);
    const fixed = await Qcow2Image.check(f, 'all');
    expect(fixed.corruptions).toBe(0);
    expect(fixed.corruptionsFixed).toBeGreaterThanOrEqual(1);
    await f.close();
    expectQemuClean(p);
    expectBytes(qemuRaw(p).subarray(0, 100000), new Uint8Array(100000).fill(1));
  });

  it('finds a cluster referenced twice and repairs refcount and COPIED flags', async () => {
    // L2 entry 1 points at the data cluster of entry 0.
    const p = damaged('twice.qcow2', (dv) => dv.setBigUint64(4 * 65536 + 8, 0x8000000000050000n));
    const f = await openFile(p, { readOnly: false });
    const r = await Qcow2Image.check(f, 'none');
    expect(r.messages).toContain('ERROR cluster 5 refcount=1 reference=2');
    expect(qemuCheck(p).out).toContain('ERROR cluster 5 refcount=1 reference=2');
    const fixed = await Qcow2Image.check(f, 'all');
    expect(fixed.corruptions).toBe(0);
    await f.close();
    expectQemuClean(p);
    // Both guest clusters now share the data; writing one must not change the other.
    const img = await openChain(p, false);
    await img.write(0, new Uint8Array(512).fill(9));
    const other = new Uint8Array(512);
    await img.read(65536, other);
    expectBytes(other, new Uint8Array(512).fill(1));
    await img.close();
    // (The remaining reference now has refcount 1 without the COPIED flag, which
    // qemu-img check reports as QEMU itself would leave it; the data is what matters.)
    const again = await openChain(p, true);
    await again.read(65536, other);
    expectBytes(other, new Uint8Array(512).fill(1));
    await again.read(0, other);
    expectBytes(other, new Uint8Array(512).fill(9));
    await again.close();
  });

  it('rebuilds the refcount structure when a refcount block is missing', async () => {
    const p = tmp('noblock.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', p, '4M');
    qemuIo(p, 'write -P 0x3c 0 1M', 'write -P 0x3d 2M 100k');
    const before = qemuRaw(p);
    const b = new Uint8Array(readFileSync(p));
    const dv = new DataView(b.buffer);
    const rt = Number(dv.getBigUint64(48));
    expect(dv.getBigUint64(rt + 8)).not.toBe(0n);
    dv.setBigUint64(rt + 8, 0n); // drop refcount block 1
    writeFileSync(p, b);
    expect(qemuCheck(p).status).toBe(2);
    const f = await openFile(p, { readOnly: false });
    const r = await Qcow2Image.check(f, 'none');
    expect(r.corruptions).toBeGreaterThan(100);
    const fixed = await Qcow2Image.check(f, 'all');
    expect(fixed.messages).toContain('Rebuilding refcount structure');
    expect(fixed.corruptions).toBe(0);
    expect(fixed.leaks).toBe(0);
    await f.close();
    expectQemuClean(p);
    expectBytes(qemuRaw(p), before);
  });

  it('agrees with qemu-img on the statistics of a fragmented, compressed image', async () => {
    const src = tmp('stats-src.raw');
    const raw = new Uint8Array(3 * 1024 * 1024);
    raw.fill(7, 0, 1024 * 1024);
    writeFileSync(src, raw);
    const p = tmp('stats.qcow2');
    qemuImg('convert', '-c', '-f', 'raw', '-O', 'qcow2', src, p);
    qemuIo(p, 'write -P 1 2M 64k', 'write -P 2 1536k 64k', 'write -P 3 2112k 64k');
    const f = await openFile(p, { readOnly: true });
    const r = await Qcow2Image.check(f, 'none');
    await f.close();
    const q = JSON.parse(qemuImg('check', '--output=json', p)) as Record<string, number>;
    expect(r.allocatedClusters).toBe(q['allocated-clusters']);
    expect(r.totalClusters).toBe(q['total-clusters']);
    expect(r.compressedClusters).toBe(q['compressed-clusters']);
    expect(r.fragmentedClusters).toBe(q['fragmented-clusters']);
    expect(r.imageEndOffset).toBe(q['image-end-offset']);
  });
});

describeQemu('internal snapshots, refcount widths, lazy refcounts', () => {
  it('writes to an image with internal snapshots copy shared clusters and keep the snapshot intact', async () => {
    const p = tmp('snap.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4k', p, '2M');
    qemuIo(p, 'write -P 0x11 0 1M', 'write -P 0x22 1536k 8k');
    const original = qemuRaw(p);
    qemuImg('snapshot', '-c', 's1', p);
    const img = await openChain(p, false);
    expect(img.info.nbSnapshots).toBe(1);
    const mirror = original.slice();
    const put = async (off: number, d: Uint8Array): Promise<void> => {
      await img.write(off, d);
      mirror.set(d, off);
    };
    await put(100, pattern(5000, 1)); // partial clusters, COW of shared data
    await put(512 * 1024, pattern(64 * 1024, 2)); // whole clusters
    await img.writeZeroes(1536 * 1024, 4096);
    mirror.fill(0, 1536 * 1024, 1536 * 1024 + 4096);
    await img.discard(600 * 1024, 64 * 1024);
    mirror.fill(0, 600 * 1024, 664 * 1024);
    await img.close();
    expectQemuClean(p);
    expectBytes(qemuRaw(p), mirror);
    const snap = tmp('snap.raw');
    qemuImg('convert', '-l', 'snapshot.name=s1', '-O', 'raw', p, snap);
    expectBytes(new Uint8Array(readFileSync(snap)), original);
    // Our checker counts the snapshot's references too.
    const f = await openFile(p, { readOnly: true });
    const r = await Qcow2Image.check(f, 'none');
    await f.close();
    expect(r.messages).toEqual([]);
    // Deleting the snapshot in QEMU afterwards leaves a clean image.
    qemuImg('snapshot', '-d', 's1', p);
    expectQemuClean(p);
  });

  for (const bits of [1, 2, 4, 8, 32, 64]) {
    it(`reads and writes refcount_bits=${bits} images`, async () => {
      const p = tmp(`rc${bits}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', '-o', `refcount_bits=${bits},cluster_size=512`, p, '3M');
      qemuIo(p, 'write -P 0x5 0 300k');
      const img = await openChain(p, false);
      expect(img.info.refcountBits).toBe(bits);
      const mirror = qemuRaw(p);
      // Enough new clusters to need new refcount blocks and a larger refcount table.
      const d = pattern(2 * 1024 * 1024, bits);
      await img.write(700 * 1024, d);
      mirror.set(d, 700 * 1024);
      for (let k = 0; k < 20; k++) {
        const c = new Uint8Array(512).fill(k + 1);
        await img.writeCompressed((2800 + k) * 1024, c);
        mirror.set(c, (2800 + k) * 1024);
      }
      await img.close();
      expectQemuClean(p);
      expectBytes(qemuRaw(p), mirror);
    });
  }

  it('persistent bitmaps are counted by check, and dropped cleanly on our first write', async () => {
    const p = tmp('bitmaps.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', p, '4M');
    qemuIo(p, 'write -P 1 0 1M');
    qemuImg('bitmap', '--add', p, 'b0');
    qemuIo(p, 'write -P 2 0 64k');
    const f = await openFile(p, { readOnly: true });
    expect((await Qcow2Image.check(f, 'none')).messages).toEqual([]);
    await f.close();
    const img = await openChain(p, false);
    await img.write(2 * 1024 * 1024, new Uint8Array(4096).fill(3));
    await img.close();
    const r = qemuCheck(p);
    expect(r.out).not.toContain('bitmap');
    expectQemuClean(p);
    const info = JSON.parse(qemuImg('info', '--output=json', p)) as { 'format-specific': { data: Record<string, unknown> } };
    expect(info['format-specific'].data['bitmaps']).toBeUndefined();
    expect(qemuRaw(p)[2 * 1024 * 1024]).toBe(3);
  });

  it('lazy refcounts: dirty while in use, clean after close, repaired when left dirty', async () => {
    const p = tmp('lazy.qcow2');
    const f = await openFile(p, { readOnly: false, create: true });
    await createQcow2(f, { size: 1024 * 1024, lazyRefcounts: true, clusterSize: 4096 });
    const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
    expect(img.info.dirty).toBe(false);
    await img.write(0, pattern(10000, 1));
    expect(img.info.dirty).toBe(true);
    await img.flush();
    // A crash now leaves the dirty bit set: keep a copy of the file as it is.
    const crashed = tmp('lazy-crashed.qcow2');
    writeFileSync(crashed, readFileSync(p));
    await img.close();
    expect((await readQcow2Info(await openFile(p, { readOnly: true }))).dirty).toBe(false);
    expectQemuClean(p);
    // Damage the crashed copy's refcounts the way lazy refcounts allow (not yet written).
    const b = new Uint8Array(readFileSync(crashed));
    const dv = new DataView(b.buffer);
    const rb = Number(dv.getBigUint64(Number(dv.getBigUint64(48))));
    for (let c = 5; c < 10; c++) dv.setUint16(rb + c * 2, 0);
    writeFileSync(crashed, b);
    const info = await readQcow2Info(await openFile(crashed, { readOnly: true }));
    expect(info.dirty).toBe(true);
    // Read-only opening works as is; read-write opening repairs first.
    const ro = await openChain(crashed, true);
    await ro.close();
    const rw = await openChain(crashed, false);
    expect(rw.info.dirty).toBe(false);
    const back = new Uint8Array(10000);
    await rw.read(0, back);
    expectBytes(back, pattern(10000, 1));
    await rw.close();
    expectQemuClean(crashed);
  });
});

describeQemu('resize, backing file changes, block status', () => {
  it('grows (moving the L1 table) and shrinks when nothing is allocated beyond', async () => {
    const p = tmp('resize.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', p, '1M');
    qemuIo(p, 'write -P 0x77 1000k 24k');
    const img = await openChain(p, false);
    const l1Before = img.info.l1TableOffset;
    await img.resize(40 * 1024 * 1024);
    expect(img.length).toBe(40 * 1024 * 1024);
    expect(img.info.l1TableOffset).not.toBe(l1Before);
    await img.write(39 * 1024 * 1024, pattern(4096, 1));
    await expect(img.resize(2 * 1024 * 1024)).rejects.toThrow(/cannot shrink to 2097152 bytes: data is allocated at offset 40894464/);
    await img.discard(39 * 1024 * 1024, 4096);
    await img.resize(2 * 1024 * 1024);
    await img.close();
    expectQemuClean(p);
    const info = JSON.parse(qemuImg('info', '--output=json', p)) as Record<string, number>;
    expect(info['virtual-size']).toBe(2 * 1024 * 1024);
    const raw = qemuRaw(p);
    const exp = new Uint8Array(2 * 1024 * 1024);
    exp.fill(0x77, 1000 * 1024, 1024 * 1024);
    expectBytes(raw, exp);
  });

  it('growing shows zeros, not stale cluster tails or a longer backing file', async () => {
    const base = tmp('long-base.raw');
    writeFileSync(base, new Uint8Array(4 * 1024 * 1024).fill(0xee));
    const p = tmp('grow.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, p, '4M');
    qemuIo(p, 'write -P 0x55 1M 64k');
    // Shrink to the middle of an allocated cluster: its tail keeps stale 0x55 bytes.
    qemuImg('resize', '-q', '--shrink', p, String(1024 * 1024 + 1024));
    const img = await openChain(p, false);
    await img.resize(3 * 1024 * 1024);
    const b = new Uint8Array(3 * 1024 * 1024 - (1024 * 1024 + 1024));
    await img.read(1024 * 1024 + 1024, b);
    expectBytes(b, new Uint8Array(b.length));
    const head = new Uint8Array(1024);
    await img.read(1024 * 1024, head);
    expectBytes(head, new Uint8Array(1024).fill(0x55));
    await img.close();
    expectQemuClean(p);
    const raw = qemuRaw(p);
    expectBytes(raw.subarray(1024 * 1024 + 1024), new Uint8Array(b.length));
    expectBytes(raw.subarray(0, 1024 * 1024), new Uint8Array(1024 * 1024).fill(0xee));
  });

  it('setBackingFile rewrites the header fields qemu-img reads', async () => {
    const a = tmp('a.qcow2');
    const b = tmp('b.raw');
    qemuImg('create', '-q', '-f', 'qcow2', a, '1M');
    writeFileSync(b, new Uint8Array(1024 * 1024).fill(3));
    const p = tmp('rebase.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', a, p, '1M');
    qemuIo(p, 'write -P 9 0 4k');
    const img = await openChain(p, false);
    await img.setBackingFile(b, 'raw');
    expect(img.info.backingFile).toBe(b);
    await img.close();
    let info = JSON.parse(qemuImg('info', '--output=json', p)) as Record<string, unknown>;
    expect(info['backing-filename']).toBe(b);
    expect(info['backing-filename-format']).toBe('raw');
    expectQemuClean(p);
    const raw = qemuRaw(p);
    expect(raw[0]).toBe(9);
    expect(raw[65536]).toBe(3);
    const img2 = await openChain(p, false);
    await img2.setBackingFile(null, null);
    await img2.close();
    info = JSON.parse(qemuImg('info', '--output=json', p)) as Record<string, unknown>;
    expect(info['backing-filename']).toBeUndefined();
    expectQemuClean(p);
    // A name that cannot fit in the header cluster is refused and changes nothing.
    const small = tmp('small.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', small, '1M');
    const before = fileSha(small);
    const img3 = await openChain(small, false);
    await expect(img3.setBackingFile('x'.repeat(1000), 'raw')).rejects.toThrow(/do not fit in one cluster/);
    await img3.close();
    expect(fileSha(small)).toBe(before);
  });

  it('blockStatus and map describe allocation like qemu-img map', async () => {
    const base = tmp('map-base.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', base, '1M');
    qemuIo(base, 'write -P 1 0 128k');
    const p = tmp('map.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, p, '2M');
    qemuIo(p, 'write -P 2 64k 64k', 'write -z 256k 64k');
    const img = await openChain(p, true);
    expect(await img.blockStatus(0, 2 * 1024 * 1024)).toEqual({ allocated: false, zero: false, length: 65536 });
    expect(await img.blockStatus(65536, 1024 * 1024)).toEqual({ allocated: true, zero: false, length: 65536 });
    expect(await img.blockStatus(256 * 1024, 1024 * 1024)).toEqual({ allocated: true, zero: true, length: 65536 });
    expect(await img.blockStatus(1024 * 1024, 1024 * 1024)).toEqual({ allocated: false, zero: true, length: 1024 * 1024 });
    const ours = (await img.map()).map((e) => ({ start: e.start, length: e.length, depth: e.depth, zero: e.zero, data: e.data }));
    await img.close();
    const theirs = (JSON.parse(qemuImg('map', '--output=json', p)) as { start: number; length: number; depth: number; zero: boolean; data: boolean }[]).map(
      (e) => ({ start: e.start, length: e.length, depth: e.depth, zero: e.zero, data: e.data }),
    );
    expect(ours).toEqual(theirs);
  });
});

/** A MemoryFile that records every mutation and sync, to replay any prefix as a crash. */
class RecordingFile implements RandomAccessFile {
  readonly ops: ({ kind: 'write'; pos: number; data: Uint8Array } | { kind: 'truncate'; size: number } | { kind: 'sync' })[] = [];
  readonly readOnly = false;
  constructor(
    readonly inner: MemoryFile,
    readonly name = 'recording',
  ) {}
  size(): Promise<number> {
    return this.inner.size();
  }
  read(pos: number, into: Uint8Array): Promise<number> {
    return this.inner.read(pos, into);
  }
  async write(pos: number, data: Uint8Array): Promise<void> {
    this.ops.push({ kind: 'write', pos, data: data.slice() });
    await this.inner.write(pos, data);
  }
  async truncate(size: number): Promise<void> {
    this.ops.push({ kind: 'truncate', size });
    await this.inner.truncate(size);
  }
  async sync(): Promise<void> {
    this.ops.push({ kind: 'sync' });
    await this.inner.sync();
  }
  async close(): Promise<void> {}
}

async function replay(initial: Uint8Array, ops: RecordingFile['ops'], upTo: number, keep: (i: number) => boolean): Promise<MemoryFile> {
  const f = new MemoryFile(initial);
  // Reserve the final size once, instead of growing step by step.
  let end = initial.length;
  for (let i = 0; i < upTo; i++) {
    const op = ops[i]!;
    if (op.kind === 'write') end = Math.max(end, op.pos + op.data.length);
  }
  await f.truncate(end);
  await f.truncate(initial.length);
  for (let i = 0; i < upTo; i++) {
    const op = ops[i]!;
    if (!keep(i)) continue;
    if (op.kind === 'write') await f.write(op.pos, op.data);
    else if (op.kind === 'truncate') await f.truncate(op.size);
  }
  return f;
}

describe('crash consistency', () => {
  for (const clusterSize of [512, 65536]) {
    it(`a crash at any write (or losing unsynced writes) leaves no corruption, cluster_size=${clusterSize}`, async () => {
      const r = rng(clusterSize);
      const size = 6 * 1024 * 1024;
      const setup = new MemoryFile();
      await createQcow2(setup, { size, clusterSize, backingFile: 'b', backingFormat: 'raw' });
      const backing = pattern(size - 100 * 1024, 3);
      const open = (f: RandomAccessFile): Promise<Qcow2Image> =>
        Qcow2Image.open(f, { readOnly: false, backing: new MemoryBackend(backing.slice(), { readOnly: true }) });
      const pre = await open(setup);
      await pre.write(0, pattern(300 * 1024, 1));
      await pre.writeCompressed(2 * 1024 * 1024, new Uint8Array(clusterSize).fill(5));
      await pre.close();
      const initial = setup.bytes().slice();

      const rec = new RecordingFile(new MemoryFile(initial));
      const img = await open(rec);
      const mirror = new Uint8Array(size + 2 * 1024 * 1024);
      mirror.set(backing);
      {
        const b = new Uint8Array(size);
        await img.read(0, b);
        mirror.set(b);
      }
      /** Op index after each completed flush, with the guest contents at that point. */
      const flushed: { at: number; contents: Uint8Array }[] = [];
      let cur = size;
      for (let step = 0; step < 120; step++) {
        const x = r();
        const off = Math.floor(r() * (cur - 1));
        const len = Math.min(cur - off, 1 + Math.floor(r() * clusterSize * (r() < 0.2 ? 40 : 3)));
        if (x < 0.55) {
          const d = new Uint8Array(len).fill(step + 1);
          await img.write(off, d);
          mirror.set(d, off);
        } else if (x < 0.7) {
          await img.writeZeroes(off, len);
          mirror.fill(0, off, off + len);
        } else if (x < 0.8) {
          await img.discard(off, len);
          const b = new Uint8Array(len);
          await img.read(off, b);
          mirror.set(b, off);
        } else if (x < 0.85) {
          const c = Math.floor(off / clusterSize) * clusterSize;
          if (!(await img.blockStatus(c, clusterSize)).allocated && c + clusterSize <= cur) {
            const d = new Uint8Array(clusterSize).fill(step);
            await img.writeCompressed(c, d);
            mirror.set(d, c);
          }
        } else if (x < 0.87 && cur === size) {
          await img.resize(size + 2 * 1024 * 1024);
          cur = img.length;
        } else {
          await img.flush();
          flushed.push({ at: rec.ops.length, contents: mirror.slice(0, cur) });
        }
      }
      await img.close();
      flushed.push({ at: rec.ops.length, contents: mirror.slice(0, cur) });
      const ops = rec.ops;
      expect(ops.length).toBeGreaterThan(100);

      const verify = async (f: MemoryFile, what: string): Promise<void> => {
        const res = await Qcow2Image.check(f, 'none');
        if (res.corruptions !== 0 || res.checkErrors !== 0) {
          throw new Error(`${what}: ${res.messages.filter((m) => !m.startsWith('Leaked')).slice(0, 5).join('; ')}`);
        }
        const ro = await Qcow2Image.open(f.reopen(true), { readOnly: true, backing: new MemoryBackend(backing.slice(), { readOnly: true }) });
        await ro.read(0, new Uint8Array(ro.length));
        await ro.close();
      };
      // Process crash: every prefix of the writes reached the file, in order.
      const points = new Set<number>();
      for (let i = 0; i <= ops.length; i += Math.max(1, Math.floor(ops.length / 150))) points.add(i);
      ops.forEach((op, i) => op.kind === 'sync' && (points.add(i), points.add(i + 1)));
      for (const k of points) await verify(await replay(initial, ops, k, () => true), `crash after ${k} of ${ops.length} ops`);
      // Completed flushes are durable: the guest sees exactly what it had written.
      for (const fl of flushed) {
        const f = await replay(initial, ops, fl.at, () => true);
        const ro = await Qcow2Image.open(f, { readOnly: true, backing: new MemoryBackend(backing.slice(), { readOnly: true }) });
        const b = new Uint8Array(ro.length);
        await ro.read(0, b);
        await ro.close();
        expectBytes(b, fl.contents);
      }
      // Power loss: writes after the last sync may or may not have reached the disk.
      const pr = rng(99);
      for (let t = 0; t < 80; t++) {
        const k = 1 + Math.floor(pr() * ops.length);
        let lastSync = 0;
        for (let i = 0; i < k; i++) if (ops[i]!.kind === 'sync') lastSync = i;
        const dropped = new Set<number>();
        for (let i = lastSync; i < k; i++) if (pr() < 0.5) dropped.add(i);
        await verify(await replay(initial, ops, k, (i) => !dropped.has(i)), `power loss at ${k} (last sync ${lastSync})`);
      }
    }, 120000);
  }
});

describe('header details, concurrency and speed', () => {
  it('preserves unknown header extensions and additional header fields when rewriting the header', async () => {
    const f = new MemoryFile();
    await createQcow2(f, { size: 1024 * 1024, clusterSize: 4096 });
    // Insert an unknown extension (type 0x12345678, 5 bytes) before the feature table,
    // and grow header_length to 120 with a nonzero unknown field at 112.
    const b = f.bytes().slice();
    const dv = new DataView(b.buffer);
    const extArea = b.slice(112, 2048);
    dv.setUint32(100, 120);
    b.fill(0, 104, 2048);
    dv.setUint32(112, 0xdeadbeef);
    dv.setUint32(120, 0x12345678);
    dv.setUint32(124, 5);
    b.set([1, 2, 3, 4, 5], 128);
    b.set(extArea.subarray(0, 2048 - 136), 136);
    const g = new MemoryFile(b);
    const img = await Qcow2Image.open(g, { readOnly: false, backing: null });
    expect(img.info.featureNames.length).toBe(8);
    await img.setBackingFile('some/base.img', 'raw');
    await img.close();
    const out = g.bytes();
    const ov = new DataView(out.buffer, out.byteOffset);
    expect(ov.getUint32(100)).toBe(120);
    expect(ov.getUint32(112)).toBe(0xdeadbeef);
    const at = out.findIndex((_v, i) => i % 8 === 0 && i >= 120 && ov.getUint32(i) === 0x12345678);
    expect(at).toBeGreaterThan(0);
    expect([...out.subarray(at + 8, at + 13)]).toEqual([1, 2, 3, 4, 5]);
    const info = await readQcow2Info(g.reopen());
    expect(info.backingFile).toBe('some/base.img');
    expect(info.backingFormat).toBe('raw');
    expect(info.featureNames.map((x) => x.name)).toContain('lazy refcounts');
  });

  it('serializes concurrent requests', async () => {
    const f = new MemoryFile();
    await createQcow2(f, { size: 8 * 1024 * 1024, clusterSize: 4096 });
    const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
    const mirror = new Uint8Array(img.length);
    const r = rng(3);
    const ops: Promise<void>[] = [];
    for (let k = 0; k < 400; k++) {
      const off = k * 20000 + Math.floor(r() * 1000);
      const d = new Uint8Array(1 + Math.floor(r() * 18000)).fill(k & 0xff);
      mirror.set(d, off);
      ops.push(k % 7 === 0 ? img.writeZeroes(off, d.length) : img.write(off, d));
      if (k % 7 === 0) mirror.fill(0, off, off + d.length);
    }
    ops.push(img.flush());
    await Promise.all(ops);
    const back = new Uint8Array(img.length);
    await Promise.all([0, 1, 2, 3].map((q) => img.read(q * 2 * 1024 * 1024, back.subarray(q * 2 * 1024 * 1024, (q + 1) * 2 * 1024 * 1024))));
    expectBytes(back, mirror);
    await img.close();
    await expect(img.read(0, new Uint8Array(1))).rejects.toThrow(/closed/);
    expect((await Qcow2Image.check(f.reopen(), 'none')).messages).toEqual([]);
  });

  it('writes and reads 256 MiB sequentially through a file in seconds', async () => {
    const p = tmp('speed.qcow2');
    const f = await openFile(p, { readOnly: false, create: true });
    await createQcow2(f, { size: 256 * 1024 * 1024 });
    const img = await Qcow2Image.open(f, { readOnly: false, backing: null });
    const chunk = pattern(2 * 1024 * 1024, 1);
    const t0 = performance.now();
    for (let p2 = 0; p2 < img.length; p2 += chunk.length) await img.write(p2, chunk);
    await img.close();
    const t1 = performance.now();
    const ro = await Qcow2Image.open(await openFile(p, { readOnly: true }), { readOnly: true, backing: null });
    const back = new Uint8Array(chunk.length);
    for (let p2 = 0; p2 < ro.length; p2 += chunk.length) await ro.read(p2, back);
    expectBytes(back, chunk);
    await ro.close();
    const t2 = performance.now();
    expect(t1 - t0).toBeLessThan(20000);
    expect(t2 - t1).toBeLessThan(10000);
    rmSync(p);
  }, 60000);
});
