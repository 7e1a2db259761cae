// End to end, through the embedding API: Debian's stock riscv64 kernel with a busybox
// initramfs boots to a shell on the virt board, once with the built-in SBI and once
// with Debian's OpenSBI; the guest reads and writes a raw disk, reads the clock, and
// powers off with status 0.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { openImage } from '../src/block/node-open.js';
import { createMachine, type Machine } from '../src/machine/api.js';
import { ensureGuestImages, type GuestImages } from '../tools/guest-images.mjs';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const PROMPT = '~ # ';
const BOOT_TIMEOUT = 300_000;

let images: GuestImages;
const work = mkdtempSync(join(tmpdir(), 'qemu-ts-linux-'));

beforeAll(async () => {
  images = await ensureGuestImages({ arch: 'riscv64', log: () => {} });
}, 1_200_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Send a command and wait for the next prompt; returns what the command printed. */
async function run(vm: Machine, command: string, timeout = 60_000): Promise<string> {
  vm.serial.write(command + '\n');
  const out = await vm.serial.waitFor(PROMPT, { timeout });
  return out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/** Read guest-visible bytes of a disk image of any format through qemu-img. */
function readImage(path: string, format: 'raw' | 'qcow2'): Buffer {
  if (format === 'raw') return readFileSync(path);
  const out = join(work, 'converted.raw');
  execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', path, out]);
  return readFileSync(out);
}

// Each firmware boots with a different kind of disk: a raw file, and a qcow2 overlay on
// top of the raw image (so the guest's writes go through qcow2 copy-on-write).
const firmwares: [string, 'raw' | 'qcow2', () => Uint8Array | 'default'][] = [
  ['built-in SBI', 'raw', () => 'default'],
  ['OpenSBI fw_dynamic.bin', 'qcow2', () => {
    if (!existsSync(OPENSBI)) throw new Error(`${OPENSBI} is missing: install Debian's opensbi package`);
    return new Uint8Array(readFileSync(OPENSBI));
  }],
];

describe.each(firmwares)('Debian riscv64 Linux with %s, %s disk', (name, format, firmware) => {
  it('boots to a shell, uses the disk and the clock, and powers off', async () => {
    const stem = join(work, `disk-${name.replace(/\W+/g, '-')}`);
    let disk: string;
    if (format === 'raw') {
      disk = `${stem}.raw`;
      copyFileSync(images.disk, disk);
    } else {
      copyFileSync(images.disk, `${stem}-base.raw`);
      disk = `${stem}.qcow2`;
      execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', `${stem}-base.raw`, '-F', 'raw', disk]);
    }
    const drive = await openImage(disk, { readOnly: false });
    const vm = createMachine({
      memory: '256M',
      bios: firmware(),
      kernel: new Uint8Array(readFileSync(images.kernel)),
      initrd: new Uint8Array(readFileSync(images.initrd)),
      append: 'console=ttyS0',
      drives: [drive.backend],
    });
    vm.start();
    await vm.serial.waitFor('qemu-ts: init ready', { timeout: BOOT_TIMEOUT });
    await vm.serial.waitFor(PROMPT, { timeout: 60_000 });

    expect(await run(vm, 'uname -m')).toContain('riscv64');
    const cpuinfo = await run(vm, 'cat /proc/cpuinfo');
    expect(cpuinfo).toMatch(/isa\s*:\s*rv64imafdc/);
    expect(await run(vm, 'head -c 15 /dev/vda')).toContain('QEMU-TS-DISK-OK');
    await run(vm, 'echo -n WRITTEN-BY-THE-GUEST | dd of=/dev/vda bs=512 seek=100 conv=notrunc && sync');
    const guestTime = Number(/(\d{9,})/.exec(await run(vm, 'date +%s'))?.[1]);
    expect(Math.abs(guestTime - Date.now() / 1000)).toBeLessThan(60);
    // busybox `time` reads the clock through the vDSO: `rdtime` in user mode.
    const timed = await run(vm, 'time true; echo status=$?');
    expect(timed).toMatch(/real\s/);
    expect(timed).toContain('status=0');

    vm.serial.write('poweroff -f\n');
    expect(await vm.exited).toBe(0);
    await drive.backend.close();
    if (format === 'qcow2') execFileSync('qemu-img', ['check', disk]); // throws unless clean
    const bytes = readImage(disk, format);
    expect(bytes.subarray(100 * 512, 100 * 512 + 20).toString('latin1')).toBe('WRITTEN-BY-THE-GUEST');
    expect(bytes.subarray(0, 15).toString('latin1')).toBe('QEMU-TS-DISK-OK');
  }, BOOT_TIMEOUT + 240_000);
});

describe('kernel panic', () => {
  it('with panic=-1 and -no-reboot, a panic ends the run instead of hanging', async () => {
    const vm = createMachine({
      memory: '256M',
      kernel: new Uint8Array(readFileSync(images.kernel)),
      // No initrd and no root device: the kernel panics when it cannot mount a root.
      append: 'console=ttyS0 panic=-1',
      noReboot: true,
    });
    vm.start();
    await vm.serial.waitFor('Kernel panic', { timeout: BOOT_TIMEOUT });
    expect(await vm.exited).toBe(0);
  }, BOOT_TIMEOUT + 60_000);
});
