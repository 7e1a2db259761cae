// tools/guest-images.mjs: Debian's stock riscv64 kernel and busybox-static, fetched with apt
// into a cache and assembled into Image + initrd.gz + disk.raw. The first run downloads
// ~110 MiB (the kernel package); later runs reuse the cache.
//
// Without CI=true the tests that need the images skip when apt-get/dpkg-deb/xz are missing;
// with CI=true they must run. The boot test uses qemu-system-riscv64 (which CI installs) as
// the oracle that the initramfs really boots to a shell.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';

interface Manifest {
  kernelVersion: string;
  packages: Record<string, { version: string }>;
  modules: { name: string; path: string; depends: string[]; sha256: string }[];
  init: { marker: string; prompt: string };
  disk: { size: number; signature: string; endSignature: string };
  files: Record<string, { size: number; sha256: string }>;
}
interface GuestImages {
  dir: string;
  kernel: string;
  initrd: string;
  disk: string;
  manifestPath: string;
  manifest: Manifest;
}
interface GuestImagesModule {
  ensureGuestImages(o: { arch: string; cacheDir?: string; log?: (m: string) => void; force?: boolean }): Promise<GuestImages>;
  toRiscvImage(b: Buffer, what?: string): { image: Buffer; form: string };
  cpioNewc(entries: { name: string; mode: number; data?: Buffer; rdev?: [number, number] }[]): Buffer;
  modinfo(b: Buffer): Record<string, string[]>;
  DISK_SIGNATURE: string;
  INIT_READY_MARKER: string;
  SHELL_PROMPT: string;
}

const ROOT = resolve(import.meta.dirname, '..');
// A computed specifier: the script is plain JS without type declarations.
const gi = (await import(pathToFileURL(join(ROOT, 'tools/guest-images.mjs')).href)) as GuestImagesModule;

const CI = process.env.CI === 'true' || process.env.CI === '1';
const has = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
};
const TOOLS = { 'apt-get': ['--version'], 'apt-cache': ['--version'], 'dpkg-deb': ['--version'], xz: ['--version'] } as const;
const missingTools = Object.entries(TOOLS).filter(([c, a]) => !has(c, [...a])).map(([c]) => c);
const QEMU = 'qemu-system-riscv64';
const haveQemu = has(QEMU, ['--version']);
const RUN = missingTools.length === 0 || CI;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---- an independent reader for the archive (not the writer's code) ----------------------
interface CpioEntry {
  name: string;
  ino: number;
  mode: number;
  nlink: number;
  data: Buffer;
  rdevmajor: number;
  rdevminor: number;
}
function parseNewc(buf: Buffer): CpioEntry[] {
  const out: CpioEntry[] = [];
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic "${magic}" at ${off}`);
    const f = (i: number) => parseInt(buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const namesize = f(11);
    const filesize = f(6);
    const name = buf.toString('utf8', off + 110, off + 110 + namesize - 1);
    expect(buf[off + 110 + namesize - 1]).toBe(0);
    const dataOff = align(off + 110 + namesize);
    const e = { name, ino: f(0), mode: f(1), nlink: f(4), data: buf.subarray(dataOff, dataOff + filesize), rdevmajor: f(9), rdevminor: f(10) };
    off = align(dataOff + filesize);
    if (name === 'TRAILER!!!') break;
    out.push(e);
  }
  // Whatever follows the trailer is padding.
  expect(buf.subarray(off).every((b) => b === 0)).toBe(true);
  return out;
}

const S_IFMT = 0o170000;
const EM_RISCV = 243;
function elf(b: Buffer) {
  expect(b.readUInt32BE(0), 'ELF magic').toBe(0x7f454c46);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phnum = b.readUInt16LE(0x38);
  const phentsize = b.readUInt16LE(0x36);
  const ptypes = Array.from({ length: phnum }, (_, i) => b.readUInt32LE(phoff + i * phentsize));
  return { class: b[4], type: b.readUInt16LE(16), machine: b.readUInt16LE(18), ptypes };
}

// ---- helpers that need no download ----------------------------------------------------------
describe('guest-images helpers', () => {
  const fakeImage = () => {
    const b = Buffer.alloc(4096, 0x5a);
    b.write('RISCV\0\0\0', 0x30, 'latin1');
    b.write('RSC\x05', 0x38, 'latin1');
    return b;
  };

  it('accepts an uncompressed RISC-V Image and unpacks a gzip one', () => {
    const img = fakeImage();
    expect(gi.toRiscvImage(img).image.equals(img)).toBe(true);
    const z = gi.toRiscvImage(gzipSync(img));
    expect(z.image.equals(img)).toBe(true);
    expect(z.form).toMatch(/gzip/);
  });

  it('unpacks an EFI zboot image with a gzip payload', () => {
    const img = fakeImage();
    const payload = gzipSync(img);
    const hdr = Buffer.alloc(0x40);
    hdr.write('MZ', 0, 'latin1');
    hdr.write('zimg', 4, 'latin1');
    hdr.writeUInt32LE(0x40, 8);
    hdr.writeUInt32LE(payload.length, 12);
    hdr.write('gzip', 0x18, 'latin1');
    expect(gi.toRiscvImage(Buffer.concat([hdr, payload])).image.equals(img)).toBe(true);
  });

  it('rejects something that is not a RISC-V Image', () => {
    expect(() => gi.toRiscvImage(Buffer.alloc(4096))).toThrow(/not a RISC-V Image/);
  });

  it('writes newc cpio archives the kernel can read (aligned, with a trailer)', () => {
    const cpio = gi.cpioNewc([
      { name: 'dev', mode: 0o040755 },
      { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
      { name: 'a', mode: 0o100644, data: Buffer.from('x') },
      { name: 'bb', mode: 0o100755, data: Buffer.from('hello') },
      { name: 'ccc', mode: 0o120777, data: Buffer.from('bb') },
    ]);
    expect(cpio.length % 512).toBe(0);
    const e = parseNewc(cpio);
    expect(e.map((x) => x.name)).toEqual(['dev', 'dev/console', 'a', 'bb', 'ccc']);
    expect(e[1]).toMatchObject({ mode: 0o020600, rdevmajor: 5, rdevminor: 1 });
    expect(e[3].data.toString()).toBe('hello');
    expect(e[4].data.toString()).toBe('bb');
    expect(new Set(e.map((x) => x.ino)).size).toBe(e.length);
  });
});

// ---- the real thing ---------------------------------------------------------------------------
describe.skipIf(!RUN)('guest images for riscv64 (Debian trixie)', () => {
  let img: GuestImages;
  let entries: Map<string, CpioEntry>;
  const log: string[] = [];

  beforeAll(async () => {
    if (missingTools.length) throw new Error(`missing ${missingTools.join(', ')} (required when CI=true; .ci/run installs them)`);
    img = await gi.ensureGuestImages({
      arch: 'riscv64',
      log: (m) => {
        log.push(m);
        process.stderr.write(`guest-images: ${m}\n`);
      },
    });
    entries = new Map(parseNewc(gunzipSync(readFileSync(img.initrd))).map((e) => [e.name, e]));
  }, 20 * 60_000);

  it('has a manifest that matches the files', () => {
    const m = img.manifest;
    expect(m.kernelVersion).toMatch(/^\d+\.\d+.*riscv64$/);
    expect(Object.keys(m.packages)).toEqual(expect.arrayContaining(['linux-image-riscv64', 'busybox-static', `linux-image-${m.kernelVersion}`]));
    expect(JSON.parse(readFileSync(img.manifestPath, 'utf8'))).toEqual(m);
    for (const [f, want] of Object.entries(m.files)) {
      const b = readFileSync(join(img.dir, f));
      expect(b.length, f).toBe(want.size);
      expect(sha256(b), f).toBe(want.sha256);
    }
    expect(Object.keys(m.files).sort()).toEqual(['Image', 'disk.raw', 'initrd.gz']);
  });

  it('Image is an uncompressed RISC-V kernel Image', () => {
    const k = readFileSync(img.kernel);
    expect(k.toString('latin1', 0x30, 0x38)).toBe('RISCV\0\0\0');
    expect(k.toString('latin1', 0x38, 0x3c)).toBe('RSC\x05');
    const imageSize = Number(k.readBigUInt64LE(0x10)); // memory footprint, >= file size
    expect(imageSize).toBeGreaterThanOrEqual(k.length);
    expect(k.length).toBeGreaterThan(4 << 20);
  });

  it('initrd.gz holds our executable /init', () => {
    const init = entries.get('init')!;
    expect(init, '/init').toBeDefined();
    expect(init.mode & S_IFMT).toBe(0o100000);
    expect(init.mode & 0o111).toBe(0o111);
    const text = init.data.toString('utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toContain(`echo "${gi.INIT_READY_MARKER}"`);
    expect(text).toContain('mount -t devtmpfs devtmpfs /dev');
    expect(text).toContain('setsid cttyhack sh');
    expect(text).toContain(`PS1='${gi.SHELL_PROMPT}'`);
    // Modules are loaded in manifest order, dependencies first.
    const at = img.manifest.modules.map((m) => text.indexOf(`load ${m.name}\n`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('initrd.gz holds a static RISC-V busybox with /bin/sh', () => {
    const bb = entries.get('bin/busybox')!;
    expect(bb, '/bin/busybox').toBeDefined();
    expect(bb.mode & 0o111).toBe(0o111);
    const e = elf(bb.data);
    expect(e.class).toBe(2);
    expect(e.machine).toBe(EM_RISCV);
    expect(e.ptypes).not.toContain(3); // PT_INTERP: must be static
    const sh = entries.get('bin/sh')!;
    expect(sh.mode & S_IFMT).toBe(0o120000);
    expect(sh.data.toString()).toBe('busybox');
  });

  it('initrd.gz holds the virtio modules, decompressed, for this kernel', () => {
    const names = img.manifest.modules.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['virtio_mmio', 'virtio_blk']));
    const seen = new Set<string>();
    for (const m of img.manifest.modules) {
      for (const d of m.depends) expect(seen.has(d), `${m.name} needs ${d} first`).toBe(true);
      seen.add(m.name);
      const ent = entries.get(m.path.slice(1))!;
      expect(ent, m.path).toBeDefined();
      const e = elf(ent.data);
      expect(e.type, `${m.name} ET_REL`).toBe(1);
      expect(e.machine).toBe(EM_RISCV);
      expect(sha256(ent.data)).toBe(m.sha256);
      const info = gi.modinfo(ent.data);
      expect(info.name?.[0]).toBe(m.name);
      expect(info.vermagic?.[0]).toMatch(new RegExp(`^${img.manifest.kernelVersion.replace(/[.+]/g, '\\$&')} `));
    }
  });

  it('initrd.gz has /dev/console and the mount points', () => {
    const c = entries.get('dev/console')!;
    expect(c, '/dev/console').toBeDefined();
    expect(c.mode & S_IFMT).toBe(0o020000);
    expect([c.rdevmajor, c.rdevminor]).toEqual([5, 1]);
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'mnt', 'bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc']) {
      expect(entries.get(d)?.mode, d).toBeDefined();
      expect(entries.get(d)!.mode & S_IFMT, d).toBe(0o040000);
    }
    // Every name is relative, and parents come before children.
    const names = [...entries.keys()];
    names.forEach((n, i) => {
      expect(n.startsWith('/')).toBe(false);
      const parent = n.split('/').slice(0, -1).join('/');
      if (parent) expect(names.indexOf(parent), `${parent} before ${n}`).toBeLessThan(i);
    });
  });

  it('disk.raw carries its signatures', () => {
    const d = readFileSync(img.disk);
    expect(d.length).toBe(img.manifest.disk.size);
    expect(d.toString('latin1', 0, gi.DISK_SIGNATURE.length)).toBe(gi.DISK_SIGNATURE);
    expect(d.toString('latin1', d.length - 512, d.length - 512 + img.manifest.disk.endSignature.length)).toBe(img.manifest.disk.endSignature);
    expect(d.subarray(512, d.length - 512).every((b) => b === 0)).toBe(true);
  });

  it('a second call reuses the cache', async () => {
    const l: string[] = [];
    const t0 = Date.now();
    const again = await gi.ensureGuestImages({ arch: 'riscv64', log: (m) => void l.push(m) });
    expect(again.dir).toBe(img.dir);
    expect(l.join('\n')).toMatch(/up to date/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(statSync(again.kernel).size).toBe(img.manifest.files.Image.size);
  });

  // The oracle: QEMU boots the kernel and initramfs to an interactive shell with job
  // control on ttyS0, the virtio-blk disk shows up, and `poweroff -f` ends the machine.
  it.skipIf(!haveQemu && !CI)('boots to a shell on QEMU, sees the disk, powers off', async () => {
    if (!haveQemu) throw new Error(`${QEMU} is required when CI=true`);
    const child = spawn(QEMU, [
      '-M', 'virt', '-m', '256M', '-smp', '1', '-nographic', '-no-reboot',
      '-kernel', img.kernel, '-initrd', img.initrd, '-append', 'console=ttyS0',
      '-drive', `file=${img.disk},if=none,id=d0,format=raw,snapshot=on`, '-device', 'virtio-blk-device,drive=d0',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const waiters: { re: RegExp; from: number; resolve: () => void }[] = [];
    const check = () => {
      for (const w of [...waiters]) if (w.re.test(out.slice(w.from))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      check();
    });
    child.stderr.on('data', (d: Buffer) => void (out += d.toString('latin1')));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const waitFor = (re: RegExp, from = 0) =>
      Promise.race([
        new Promise<void>((r) => {
          waiters.push({ re, from, resolve: r });
          check();
        }),
        exited.then(() => {
          throw new Error(`QEMU exited before ${re}; output:\n${out.slice(-3000)}`);
        }),
      ]);
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    try {
      await waitFor(new RegExp(gi.INIT_READY_MARKER));
      await waitFor(/~ # /, out.indexOf(gi.INIT_READY_MARKER));
      expect(out).toMatch(/qemu-ts: loaded virtio_mmio/);
      expect(out).toMatch(/qemu-ts: loaded virtio_blk/);
      expect(out).toMatch(/qemu-ts: block devices: .*\bvda\b/);
      let mark = out.length;
      child.stdin.write('head -c 15 /dev/vda; echo; cat /sys/block/vda/size; echo sum=$((40+2))\n');
      await waitFor(/sum=42/, mark);
      expect(out.slice(mark)).toContain(`${gi.DISK_SIGNATURE}\r\n32768\r\n`);
      mark = out.length;
      child.stdin.write('sleep 30 &\n');
      await waitFor(/~ # /, mark + 1);
      mark = out.length;
      child.stdin.write('jobs; tty; kill %1; echo done=$((1+1))\n');
      await waitFor(/done=2/, mark);
      expect(out.slice(mark)).toMatch(/\[1\]\+\s+Running\s+sleep 30/);
      expect(out.slice(mark)).toContain('/dev/ttyS0');
      child.stdin.write('poweroff -f\n');
      expect(await exited).toBe(0);
      expect(out).toMatch(/reboot: Power down/);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  }, 300_000);
});
