import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockError, type BlockBackend } from '../src/block/backend.js';
import { MemoryBackend } from '../src/block/memory.js';
import { openRawFile } from '../src/block/node-file.js';
import { UserError } from '../src/machine/options.js';

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Fast byte comparison (toEqual walks typed arrays element by element); names the first difference. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  let diff = actual.length === expected.length ? -1 : Math.min(actual.length, expected.length);
  if (diff < 0) for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) { diff = i; break; }
  expect(diff < 0 ? 'equal' : `differ at ${diff} (lengths ${actual.length}/${expected.length})`).toBe('equal');
}

async function rejection(p: Promise<unknown>): Promise<BlockError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BlockError);
    return e as BlockError;
  }
  throw new Error('expected the operation to fail');
}

/** Behaviour every backend shares, run against a 64 KiB writable backend. */
async function commonContract(b: BlockBackend): Promise<void> {
  expect(b.length).toBe(65536);
  const data = pattern(1024, 7);
  await b.write(4096, data);
  const back = new Uint8Array(1024);
  await b.read(4096, back);
  expectBytes(back, data);
  // Neighbours untouched.
  const before = new Uint8Array(16);
  await b.read(4080, before);
  expectBytes(before, new Uint8Array(16));
  // Last byte reachable, one past the end not.
  await b.write(65535, new Uint8Array([0xaa]));
  const last = new Uint8Array(1);
  await b.read(65535, last);
  expect(last[0]).toBe(0xaa);
  expect((await rejection(b.read(65535, new Uint8Array(2)))).kind).toBe('range');
  expect((await rejection(b.write(65536, new Uint8Array(1)))).kind).toBe('range');
  expect((await rejection(b.read(-1, new Uint8Array(1)))).kind).toBe('range');
  expect((await rejection(b.discard(60000, 6000))).kind).toBe('range');
  // Concurrent operations all land.
  await Promise.all([0, 1, 2, 3].map((i) => b.write(8192 + i * 512, pattern(512, i))));
  for (let i = 0; i < 4; i++) {
    const s = new Uint8Array(512);
    await b.read(8192 + i * 512, s);
    expectBytes(s, pattern(512, i));
  }
  await b.flush();
  await b.discard(0, 512);
  await b.close();
  expect((await rejection(b.read(0, new Uint8Array(1)))).kind).toBe('closed');
}

describe('MemoryBackend', () => {
  it('keeps the contract', async () => {
    await commonContract(new MemoryBackend(65536));
  });

  it('uses the caller’s array in place and zeroes discarded ranges', async () => {
    const image = pattern(4096, 1);
    const b = new MemoryBackend(image);
    await b.write(0, new Uint8Array([9, 9]));
    expect(image[0]).toBe(9);
    await b.discard(512, 512);
    expectBytes(image.subarray(512, 1024), new Uint8Array(512));
    expect(image[1024]).toBe(pattern(4096, 1)[1024]);
  });

  it('refuses writes and discards when read-only', async () => {
    const image = pattern(4096, 2);
    const b = new MemoryBackend(image, { readOnly: true });
    expect(b.readOnly).toBe(true);
    expect((await rejection(b.write(0, new Uint8Array(1)))).kind).toBe('readonly');
    expect((await rejection(b.discard(0, 512))).kind).toBe('readonly');
    await b.flush();
    const x = new Uint8Array(4);
    await b.read(0, x);
    expectBytes(x, pattern(4096, 2).subarray(0, 4));
    expectBytes(image, pattern(4096, 2));
  });
});

describe('NodeFileBackend', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-ts-block-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the contract on a raw file', async () => {
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(65536));
    await commonContract(await openRawFile(path));
    const onDisk = readFileSync(path);
    expect(onDisk.length).toBe(65536);
    expectBytes(new Uint8Array(onDisk.subarray(4096, 5120)), pattern(1024, 7));
    expect(onDisk[65535]).toBe(0xaa);
  });

  it('does positional I/O beyond 4 GiB in a sparse file without reading it all', async () => {
    const path = join(dir, 'big.img');
    writeFileSync(path, new Uint8Array(0));
    const size = 6 * 1024 * 1024 * 1024; // sparse: costs no disk space
    truncateSync(path, size);
    const b = await openRawFile(path);
    expect(b.length).toBe(size);
    const heapBefore = process.memoryUsage().rss;
    const off = size - 4096 - 512; // above 2^32
    await b.write(off, pattern(512, 3));
    const back = new Uint8Array(512);
    await b.read(off, back);
    expectBytes(back, pattern(512, 3));
    await b.flush();
    await b.close();
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(512 * 1024 * 1024);
    // Read it back with plain pread: the bytes are really at that offset.
    const fd = openSync(path, 'r');
    const check = Buffer.alloc(512);
    readSync(fd, check, 0, 512, off);
    closeSync(fd);
    expectBytes(new Uint8Array(check), pattern(512, 3));
    expect(statSync(path).size).toBe(size);
  });

  it('opens read-only: refuses writes and leaves the file alone', async () => {
    const path = join(dir, 'ro.img');
    writeFileSync(path, pattern(8192, 5));
    chmodSync(path, 0o444);
    const b = await openRawFile(path, { readOnly: true });
    expect(b.readOnly).toBe(true);
    expect((await rejection(b.write(0, new Uint8Array(512)))).kind).toBe('readonly');
    expect((await rejection(b.discard(0, 512))).kind).toBe('readonly');
    const x = new Uint8Array(512);
    await b.read(512, x);
    expectBytes(x, pattern(8192, 5).subarray(512, 1024));
    await b.flush();
    await b.close();
    expectBytes(new Uint8Array(readFileSync(path)), pattern(8192, 5));
  });

  it('reports a missing file the way QEMU does', async () => {
    const path = join(dir, 'nope.img');
    const err = await openRawFile(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`Could not open '${path}': No such file or directory`);
    expect((err as Error).message).not.toContain('\n');
  });

  it('reports a directory and an unwritable file as one-line errors', async () => {
    const e1 = await openRawFile(dir, { readOnly: true }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(UserError);
    expect((e1 as Error).message).toBe(`Could not open '${dir}': Is a directory`);
    const e2 = await openRawFile(dir).catch((e: unknown) => e);
    expect((e2 as Error).message).toBe(`Could not open '${dir}': Is a directory`);
    if (process.getuid?.() !== 0) {
      const path = join(dir, 'locked.img');
      writeFileSync(path, new Uint8Array(512));
      chmodSync(path, 0o444);
      const e3 = await openRawFile(path).catch((e: unknown) => e);
      expect(e3).toBeInstanceOf(UserError);
      expect((e3 as Error).message).toBe(`Could not open '${path}': Permission denied`);
    }
  });

  it('flush reaches the file and close waits for writes in flight', async () => {
    const path = join(dir, 'f.img');
    writeFileSync(path, new Uint8Array(1 << 20));
    const b = await openRawFile(path);
    const writes = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.write(i * 65536, pattern(65536, i)));
    await b.close(); // must not cut the writes off
    await Promise.all(writes);
    const onDisk = new Uint8Array(readFileSync(path));
    for (let i = 0; i < 8; i++) expectBytes(onDisk.subarray(i * 65536, (i + 1) * 65536), pattern(65536, i));
    const b2 = await openRawFile(path);
    await b2.write(100, new Uint8Array([1, 2, 3]));
    await b2.flush();
    expect(Array.from(readFileSync(path).subarray(100, 103))).toEqual([1, 2, 3]);
    await b2.close();
  });
});
