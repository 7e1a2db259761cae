#!/usr/bin/env node
// `npm start`: fetch (once, cached) Debian's stock riscv64 kernel and busybox, build the
// initramfs, and boot it to an interactive shell on the virt board. Ctrl-A x quits;
// `poweroff -f` in the guest ends the run. Extra arguments go to qemu-ts.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureGuestImages } from './guest-images.mjs';
import { cliNodeFlags } from '../bin/node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const images = await ensureGuestImages({ arch: 'riscv64', log: (m) => process.stderr.write(m + '\n') });
// The guest may write to its disk: give it a copy next to the cache, not the pristine image.
const disk = join(images.dir, 'disk-session.raw');
if (!existsSync(disk)) copyFileSync(images.disk, disk);
const args = [
  ...cliNodeFlags(),
  join(root, 'bin/qemu-ts.js'),
  '-M', 'virt', '-m', '256M', '-nographic',
  '-kernel', images.kernel, '-initrd', images.initrd,
  '-append', 'console=ttyS0',
  '-drive', `file=${disk},format=raw,if=virtio`,
  ...process.argv.slice(2),
];
process.stderr.write(`qemu-ts: booting Debian ${images.manifest.kernelVersion} (Ctrl-A x quits)\n`);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
