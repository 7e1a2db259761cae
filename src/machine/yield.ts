/**
 * Let the host's event loop run (timers, terminal input, disk I/O completions) without
 * sleeping. `setTimeout(0)` waits at least ~1 ms in Node and 4 ms in browsers once
 * nested, which would cost the guest 5-20 % of its time at our yield rate; Node's
 * `setImmediate` and a browser's MessageChannel turn around in microseconds.
 */
const hostSetImmediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

export function yieldToHost(): Promise<void> {
  if (hostSetImmediate) return new Promise((resolve) => hostSetImmediate(resolve));
  if (channel === null) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
  }
  const port = channel.port2;
  return new Promise((resolve) => {
    waiting.push(resolve);
    port.postMessage(0);
  });
}
