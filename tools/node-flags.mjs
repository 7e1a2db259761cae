// Node flags for running the qemu-ts CLI from the project's own launchers (`npm start`,
// the Linux benchmarks). Direct users of bin/qemu-ts.js can pass the same by hand:
// `node --v8-pool-size=1 bin/qemu-ts.js ...` on a 2-core machine.
import { availableParallelism } from 'node:os';

/**
 * V8 compiles optimized code (TurboFan for hot JavaScript, and the tier-up of WebAssembly
 * regions) on a pool of worker threads, four by default; the guest runs on the main
 * thread. On a machine with few cores the workers take the main thread's core: on the
 * 2-core benchmark VM a Linux boot to the prompt took ~16.5 s with four workers and
 * ~13.5 s with one (bench/RESULTS.md). So: one worker fewer than there are cores.
 */
export function cliNodeFlags() {
  return [`--v8-pool-size=${Math.max(1, availableParallelism() - 1)}`];
}
