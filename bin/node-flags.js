// The Node flags the qemu-ts CLI runs with, and the relaunch that applies them however
// the CLI is started (`npx qemu-ts`, an installed bin, `node bin/qemu-ts.js`): users
// should not need to know a V8 flag.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Node's default size of V8's worker pool. */
const NODE_DEFAULT_POOL_SIZE = 4;
/** Set in the relaunched process, so that it never relaunches again. */
const RELAUNCHED = 'QEMU_TS_RELAUNCHED';

/**
 * V8 compiles optimized code (TurboFan for hot JavaScript, and the tier-up of WebAssembly
 * regions) on a pool of worker threads, four by default; the guest runs on the main
 * thread. On a machine with few cores the workers take the main thread's core: on the
 * 2-core benchmark VM a Linux boot to the prompt took ~16.5 s with four workers and
 * ~13.5 s with one (bench/RESULTS.md). So: one worker fewer than there are cores, where
 * that is fewer than the default.
 */
export function cliNodeFlags() {
  const size = Math.max(1, availableParallelism() - 1);
  return size < NODE_DEFAULT_POOL_SIZE ? [`--v8-pool-size=${size}`] : [];
}

/**
 * If this process lacks flags of cliNodeFlags() (and the user gave no value of their own
 * for them), run `script` again in a child node with them and return a promise that never
 * resolves: this process then ends as the child ends, with its exit status, or killed by
 * the same signal. Returns null when this process can go on itself.
 *
 * The child inherits stdin, stdout, stderr and the terminal (it sets raw mode itself;
 * Ctrl-A x and Ctrl-C reach it as before). Signals sent to this process alone (kill, a
 * closing terminal's SIGHUP) are passed on to the child; a signal from the terminal
 * reaches both, and the child decides.
 */
export function relaunchWithNodeFlags(script, args) {
  if (process.env[RELAUNCHED]) return null;
  const given = new Set(process.execArgv.map((a) => a.split('=')[0]));
  const missing = cliNodeFlags().filter((f) => !given.has(f.split('=')[0]));
  if (missing.length === 0) return null;
  const child = spawn(process.execPath, [...process.execArgv, ...missing, script, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [RELAUNCHED]: '1' },
  });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (signal) => child.kill(signal);
  for (const s of forwarded) process.on(s, forward);
  return new Promise(() => {
    child.on('error', (err) => {
      process.stderr.write(`qemu-ts: cannot start ${process.execPath}: ${err.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      if (signal) {
        // End the same way: default action for the signal, as if it had hit us.
        for (const s of forwarded) process.removeListener(s, forward);
        process.kill(process.pid, signal);
        return;
      }
      process.exit(code ?? 1);
    });
  });
}
