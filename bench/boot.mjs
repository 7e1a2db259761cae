#!/usr/bin/env node
// Linux boot benchmark: wall time from process start to the busybox shell prompt for
// Debian's stock riscv64 kernel + our initramfs, on qemu-ts (built-in SBI) and, when
// installed, qemu-system-riscv64 (its bundled OpenSBI), alternately, N runs each;
// prints medians and the ratio.  Usage: node bench/boot.mjs [--runs N] [--timeout S]
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureGuestImages } from '../tools/guest-images.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const runs = opt('--runs', 3);
const timeoutS = opt('--timeout', 600);
const PROMPT = '~ # ';

const images = await ensureGuestImages({ arch: 'riscv64', log: (m) => process.stderr.write(m + '\n') });
const common = ['-M', 'virt', '-m', '256M', '-nographic', '-kernel', images.kernel, '-initrd', images.initrd, '-append', 'console=ttyS0'];
const emulators = [{ name: 'qemu-ts', cmd: process.execPath, args: [join(root, 'bin/qemu-ts.js'), ...common] }];
const qemu = spawnSync('qemu-system-riscv64', ['--version'], { encoding: 'utf8' });
if (qemu.status === 0) emulators.unshift({ name: qemu.stdout.split('\n')[0], cmd: 'qemu-system-riscv64', args: common });
else console.log('qemu-system-riscv64 not installed: qemu-ts only');

/** Seconds until the prompt, and the guest's own uptime stamp of "Run /init". */
function bootOnce(e) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(e.cmd, e.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${e.name}: no prompt after ${timeoutS} s`));
    }, timeoutS * 1000);
    child.stdout.on('data', (d) => {
      out += d.toString('latin1');
      if (out.includes(PROMPT)) {
        const wall = (performance.now() - t0) / 1000;
        clearTimeout(timer);
        child.kill('SIGKILL');
        const m = /\[\s*([\d.]+)\] Run \/init/.exec(out);
        resolve({ wall, initUptime: m ? Number(m[1]) : NaN });
      }
    });
    child.on('error', reject);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = new Map(emulators.map((e) => [e.name, []]));
for (let r = 0; r < runs; r++) {
  for (const e of emulators) {
    const res = await bootOnce(e);
    results.get(e.name).push(res);
    console.log(`run ${r + 1}/${runs} ${e.name}: prompt after ${res.wall.toFixed(2)} s (guest uptime at /init ${res.initUptime} s)`);
  }
}
console.log(`\nDebian ${images.manifest.kernelVersion}, boot to the shell prompt, ${runs} run(s), medians`);
console.log('emulator'.padEnd(48) + 'wall s'.padStart(9) + '  /init uptime s'.padStart(17) + '  vs QEMU'.padStart(10));
const base = median(results.get(emulators[0].name).map((x) => x.wall));
for (const e of emulators) {
  const xs = results.get(e.name);
  const wall = median(xs.map((x) => x.wall));
  console.log(e.name.padEnd(48) + wall.toFixed(2).padStart(9) + median(xs.map((x) => x.initUptime)).toFixed(2).padStart(17) + `${(wall / base).toFixed(1)}x`.padStart(10));
}
