// Bad input to a Linux-style boot gets one line on stderr and a non-zero exit, never a
// stack trace: missing or corrupt kernel/initrd/DTB, images that do not fit in RAM, too
// little RAM, unknown devices.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'qemu-ts-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A minimal RISC-V Linux Image header claiming `imageSize` bytes of memory. */
function fakeImage(imageSize: number): string {
  const b = Buffer.alloc(4096);
  b.writeUInt32LE(0x0000006f, 0); // j . (never run in these tests)
  b.writeBigUInt64LE(BigInt(imageSize), 0x10);
  b.write('RISCV\0\0\0', 0x30, 'latin1');
  b.write('RSC\x05', 0x38, 'latin1');
  const p = join(dir, `Image-${imageSize}`);
  writeFileSync(p, b);
  return p;
}
const file = (name: string, data: Buffer | string) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

function qemuTs(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/qemu-ts.js'), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectOneLineError(args: string[], pattern: RegExp) {
  const r = qemuTs(args);
  expect(r.status).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^qemu-ts: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('Linux boot: bad input', () => {
  const kernel = fakeImage(8 << 20);
  const gz = file('initrd.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const base = ['-M', 'virt', '-nographic', '-serial', 'null'];

  it('missing kernel file', () => expectOneLineError([...base, '-kernel', join(dir, 'nope')], /Could not open .*No such file/));
  it('missing initrd file', () =>
    expectOneLineError([...base, '-kernel', kernel, '-initrd', join(dir, 'nope.gz')], /-initrd .*Could not open/));
  it('missing dtb file', () => expectOneLineError([...base, '-kernel', kernel, '-dtb', join(dir, 'x.dtb')], /-dtb .*Could not open/));
  it('corrupt kernel', () =>
    expectOneLineError([...base, '-kernel', file('junk', 'this is not a kernel'.repeat(10))], /not a RISC-V kernel/));
  it('corrupt ELF kernel', () =>
    expectOneLineError([...base, '-kernel', file('bad.elf', Buffer.from('\x7fELF\x02\x01\x01' + '\0'.repeat(20), 'latin1'))], /-kernel/));
  it('corrupt initrd', () =>
    expectOneLineError([...base, '-kernel', kernel, '-initrd', file('junk.img', 'garbage'.repeat(100))], /not an initramfs/));
  it('corrupt dtb', () =>
    expectOneLineError([...base, '-kernel', kernel, '-dtb', file('junk.dtb', 'garbage'.repeat(100))], /-dtb .*not a valid device tree/));
  it('kernel that does not fit in RAM', () =>
    expectOneLineError([...base, '-m', '64M', '-kernel', fakeImage(200 << 20)], /the kernel needs 200 MiB/));
  it('initrd that does not fit in RAM', () =>
    expectOneLineError(
      [...base, '-m', '32M', '-kernel', kernel, '-initrd', file('big.gz', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(40 << 20)]))],
      /does not fit in RAM/,
    ));
  it('too little RAM', () => expectOneLineError([...base, '-m', '8M', '-kernel', kernel], /too little RAM/));
  it('unknown device name', () =>
    expectOneLineError([...base, '-kernel', kernel, '-device', 'e1000'], /'e1000' is not a valid device model name/));
  it('a -device naming a drive that does not exist', () =>
    expectOneLineError([...base, '-kernel', kernel, '-device', 'virtio-blk-device,drive=d9'], /can't find value 'd9'/));
  it('missing disk image', () =>
    expectOneLineError([...base, '-kernel', kernel, '-drive', `file=${join(dir, 'none.raw')},format=raw,if=virtio`], /Could not open/));
  it('accepts a valid gzip initrd before failing on something else', () =>
    expectOneLineError([...base, '-m', '8M', '-kernel', kernel, '-initrd', gz], /too little RAM/));
});
