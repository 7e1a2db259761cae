#!/usr/bin/env node
// Linux boot benchmark: wall time from process start to the busybox shell prompt for
// Debian's stock riscv64 kernel + our initramfs, on qemu-ts (built-in SBI) and, when
// installed, qemu-system-riscv64 (its bundled OpenSBI), alternately, N runs each;
// prints medians and the ratio. qemu-ts is started as users start it (bin/qemu-ts.js,
// which relaunches node with its flags); --npm-start adds a row started as `npm start`
// starts it (flags given, no relaunch).
// Usage: node bench/boot.mjs [--runs N] [--timeout S] [--npm-start]
import { bootToPrompt, guestImages, linuxEmulators, median, parseOptions, positiveInteger, positiveNumber } from './linux.mjs';

const USAGE = 'usage: node bench/boot.mjs [--runs N] [--timeout S] [--npm-start]';
const argv = process.argv.slice(2);
const npmStartToo = argv.includes('--npm-start');
const { runs, timeout } = parseOptions(argv.filter((a) => a !== '--npm-start'), {
  runs: { default: 3, parse: (v, a) => positiveInteger(v, a) },
  timeout: { default: 600, parse: (v, a) => positiveNumber(v, a) },
}, USAGE);

const images = await guestImages();
const emulators = linuxEmulators(images, { npmStartToo });

const results = new Map(emulators.map((e) => [e.name, []]));
for (let r = 0; r < runs; r++) {
  for (const e of emulators) {
    const res = await bootToPrompt(e, { timeoutS: timeout });
    res.guest.kill();
    results.get(e.name).push({ wall: res.bootS, initUptime: res.initUptimeS });
    console.log(`run ${r + 1}/${runs} ${e.name}: prompt after ${res.bootS.toFixed(2)} s (guest uptime at /init ${res.initUptimeS} s)`);
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
