/**
 * The embedding API: a machine for test suites and web pages.
 *
 *   const vm = createMachine({ kernel, initrd, append: 'console=ttyS0', memory: '256M' });
 *   vm.start();
 *   await vm.serial.waitFor('~ # ');
 *   vm.serial.write('uname -m\n');
 *   await vm.serial.waitFor('riscv64');
 *   vm.serial.write('poweroff -f\n');
 *   const status = await vm.exited;
 *
 * Everything here is browser-safe: images are bytes and disks are BlockBackends (on
 * Node, open files with `openRawFile` from src/block/node-file.ts).
 */
import type { ExecMode } from '../accel/tcg/engine.js';
import type { BlockBackend } from '../block/backend.js';
import { ImageFile, MachineOptions, UserError } from './options.js';
import { parseRamSize } from './ram-size.js';
import { RESET_REQUESTED, RiscvVirtMachine } from './riscv-virt.js';

export interface CreateMachineOptions {
  /** Board; only 'virt' (RISC-V) today. */
  machine?: 'virt';
  /** RAM in bytes, or QEMU's size syntax ('256M', '1G'). Default 256 MiB. */
  memory?: number | string;
  /** 'default' (built-in SBI, the default), 'none' (bare-metal), or a firmware image. */
  bios?: 'default' | 'none' | Uint8Array | ImageFile;
  kernel: Uint8Array | ImageFile;
  initrd?: Uint8Array | ImageFile;
  dtb?: Uint8Array | ImageFile;
  append?: string;
  /** Disks, attached as virtio-blk in order (the first becomes /dev/vda). */
  drives?: BlockBackend[];
  /** A guest reboot ends the run instead of restarting the machine. */
  noReboot?: boolean;
  /** Time from the instruction count: reproducible runs. */
  deterministic?: boolean;
  /** Also receive console output as it arrives. */
  onOutput?: (bytes: Uint8Array) => void;
  /** Execution engine: tiered compilation (default) or the IR interpreter. */
  engine?: ExecMode;
  /** What hot code is compiled to: WebAssembly (default where available) or JavaScript. */
  backend?: 'js' | 'wasm';
}

export interface WaitOptions {
  /** Milliseconds before waitFor rejects (default 60 s). */
  timeout?: number;
}

export interface SerialConsole {
  /** Type into the guest's console (strings are sent as UTF-8). */
  write(data: string | Uint8Array): void;
  /**
   * Resolve with the console text from the end of the previous match up to and including
   * the first match of `pattern`; reject on timeout (the message shows the recent output)
   * or if the machine stops first.
   */
  waitFor(pattern: string | RegExp, options?: WaitOptions): Promise<string>;
  /** Everything the guest has printed so far. */
  readonly output: string;
}

export interface Machine {
  /** Start running in the background (returns at once). */
  start(): void;
  /** Stop the guest (as if powered off) and resolve with the exit status. */
  stop(): Promise<number>;
  /** Resolves with the exit status when the guest powers off or the machine is stopped. */
  readonly exited: Promise<number>;
  readonly serial: SerialConsole;
}

const toImage = (v: Uint8Array | ImageFile, name: string): ImageFile =>
  v instanceof Uint8Array ? { path: name, data: v } : v;

/** RAM in bytes, or QEMU's size syntax ('256M', '1G'; plain numbers are MiB). */
export function parseMemorySize(v: number | string): number {
  return typeof v === 'number' ? v : parseRamSize(v, 'memory');
}

interface Waiter {
  pattern: string | RegExp;
  resolve: (text: string) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

class MachineHandle implements Machine, SerialConsole {
  private text = '';
  /** Where the next waitFor starts searching. */
  private cursor = 0;
  private readonly waiters: Waiter[] = [];
  private current: RiscvVirtMachine | null = null;
  private started = false;
  private stopped = false;
  private resolveExit!: (status: number) => void;
  private rejectExit!: (e: Error) => void;
  readonly exited: Promise<number>;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly options: MachineOptions,
    private readonly mode: ExecMode | undefined,
    private readonly onOutput?: (bytes: Uint8Array) => void,
  ) {
    this.exited = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    // A machine nobody awaits must not crash the process with an unhandled rejection.
    this.exited.catch(() => {});
    options.serialOut = (bytes) => this.receive(bytes);
  }

  get serial(): SerialConsole {
    return this;
  }

  get output(): string {
    return this.text;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.runAll().then(
      (status) => this.finish(status),
      (e: unknown) => this.finish(e instanceof Error ? e : new Error(String(e))),
    );
  }

  private async runAll(): Promise<number> {
    for (;;) {
      this.current = new RiscvVirtMachine(this.options, this.mode);
      if (this.stopped) this.current.stop(0);
      const status = await this.current.run();
      if (status !== RESET_REQUESTED || this.stopped) return status === RESET_REQUESTED ? 0 : status;
    }
  }

  private finish(result: number | Error): void {
    this.stopped = true;
    const err = result instanceof Error ? result : new Error(`the machine stopped (status ${result}) before the pattern appeared`);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    if (result instanceof Error) this.rejectExit(result);
    else this.resolveExit(result);
  }

  async stop(): Promise<number> {
    this.stopped = true;
    if (!this.started) {
      this.finish(0);
      return 0;
    }
    this.current?.stop(0);
    return this.exited;
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? this.encoder.encode(data) : data;
    this.current?.uart.receive(bytes);
  }

  waitFor(pattern: string | RegExp, options: WaitOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pattern,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          const tail = this.text.slice(-400);
          reject(new Error(`timed out after ${options.timeout ?? 60000} ms waiting for ${String(pattern)}; last output:\n${tail}`));
        }, options.timeout ?? 60_000),
      };
      this.waiters.push(w);
      this.check();
      if (this.stopped && this.waiters.includes(w)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        reject(new Error('the machine has stopped'));
      }
    });
  }

  private receive(bytes: Uint8Array): void {
    this.onOutput?.(bytes);
    this.text += this.decoder.decode(bytes, { stream: true });
    this.check();
  }

  /** Resolve waiters in order while their patterns match past the cursor. */
  private check(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      const rest = this.text.slice(this.cursor);
      let end = -1;
      if (typeof w.pattern === 'string') {
        const i = rest.indexOf(w.pattern);
        if (i >= 0) end = i + w.pattern.length;
      } else {
        const m = new RegExp(w.pattern.source, w.pattern.flags.replace('g', '')).exec(rest);
        if (m) end = m.index + m[0].length;
      }
      if (end < 0) return;
      this.waiters.shift();
      clearTimeout(w.timer);
      this.cursor += end;
      w.resolve(rest.slice(0, end));
    }
  }
}

/** Build a machine. It does not run until `start()`. */
export function createMachine(opts: CreateMachineOptions): Machine {
  if ((opts.machine ?? 'virt') !== 'virt') throw new UserError(`unsupported machine type '${opts.machine}'`);
  const bios = opts.bios ?? 'default';
  const options: MachineOptions = {
    machine: 'virt',
    ramSize: parseMemorySize(opts.memory ?? 256 * 2 ** 20),
    bios: bios === 'default' || bios === 'none' ? bios : toImage(bios, 'bios'),
    kernel: toImage(opts.kernel, 'kernel'),
    log: { inAsm: false, op: false, outAsm: false, int: false },
    logSink: () => {},
    serialOut: () => {},
    drives: (opts.drives ?? []).map((backend, i) => ({ name: `drive${i}`, backend })),
  };
  if (opts.initrd) options.initrd = toImage(opts.initrd, 'initrd');
  if (opts.dtb) options.dtb = toImage(opts.dtb, 'dtb');
  if (opts.append !== undefined) options.append = opts.append;
  if (opts.noReboot) options.noReboot = true;
  if (opts.deterministic) options.deterministic = true;
  if (opts.backend) options.backend = opts.backend;
  return new MachineHandle(options, opts.engine, opts.onOutput);
}
