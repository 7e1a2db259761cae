// End to end, through the embedding API: Debian's stock riscv64 kernel with a busybox
// initramfs boots to a shell on the virt board, once with the built-in SBI and once
// with Debian's OpenSBI; the guest reads and writes a raw disk, reads the clock, and
// powers off with status 0.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawFile } from '../src/block/node-file.js';
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

const firmwares: [string, () => Uint8Array | 'default'][] = [
  ['built-in SBI', () => 'default'],
  ['OpenSBI fw_dynamic.bin', () => {
    if (!existsSync(OPENSBI)) throw new Error(`${OPENSBI} is missing: install Debian's opensbi package`);
    return new Uint8Array(readFileSync(OPENSBI));
  }],
];

describe.each(firmwares)('Debian riscv64 Linux with %s', (name, firmware) => {
  it('boots to a shell, uses the disk and the clock, and powers off', async () => {
    const disk = join(work, `disk-${name.replace(/\W+/g, '-')}.raw`);
    copyFileSync(images.disk, disk);
    const vm = createMachine({
      memory: '256M',
      bios: firmware(),
      kernel: new Uint8Array(readFileSync(images.kernel)),
      initrd: new Uint8Array(readFileSync(images.initrd)),
      append: 'console=ttyS0',
      drives: [await openRawFile(disk)],
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

    vm.serial.write('poweroff -f\n');
    expect(await vm.exited).toBe(0);
    const bytes = readFileSync(disk);
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
