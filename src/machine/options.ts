import type { BlockBackend } from '../block/backend.js';

/** What a board needs to start, independent of where it came from (CLI, embedding API, web page). */
export interface LogOptions {
  /** -d in_asm: guest disassembly of each translated block. */
  inAsm: boolean;
  /** -d op: the IR of each translated block. */
  op: boolean;
  /** -d out_asm: the generated JavaScript of each translated block. */
  outAsm: boolean;
  /** -d int: every trap and interrupt taken. */
  int: boolean;
}

export interface MachineOptions {
  /** Board name as spelled on the command line (`-M virt`). */
  machine: string;
  /** RAM size in bytes (`-m`). */
  ramSize: number;
  /**
   * Firmware: 'default' is the built-in SBI (the kernel starts in S-mode), 'none' runs
   * -kernel bare-metal in M-mode, or the bytes of a firmware image such as OpenSBI.
   */
  bios: 'none' | 'default' | ImageFile;
  /** `-kernel`: file name (for messages) and contents. */
  kernel?: ImageFile;
  /** `-initrd` */
  initrd?: ImageFile;
  /** `-dtb`: a device tree to use instead of the generated one. */
  dtb?: ImageFile;
  /** `-append` */
  append?: string;
  /** Disks, in the order they are attached to virtio-mmio slots. */
  drives?: DriveOptions[];
  /** `-no-reboot`: a guest reboot ends the run (status 0) instead of restarting. */
  noReboot?: boolean;
  log: LogOptions;
  /** Where -d output goes (stderr, or the -D file). */
  logSink: (text: string) => void;
  /** Bytes the guest writes to its console (UART or HTIF). */
  serialOut: (bytes: Uint8Array) => void;
  /**
   * Host console input: called when the machine starts, with a sink for bytes typed by
   * the user (they reach the UART) and a quit request (Ctrl-A x); returns a detach
   * function called when the machine stops.
   */
  attachConsole?: (input: (bytes: Uint8Array) => void, quit: () => void) => () => void;
  /** Derive time from the instruction count instead of the host clock. */
  deterministic?: boolean;
  /** What compiled code becomes: WebAssembly (the default where available) or JavaScript. */
  backend?: 'js' | 'wasm';
  /** `-cpu` model name (the board's default when absent). */
  cpu?: string;
  /** `-cpu` properties: features switched on or off ({ popcnt: 'on' }). */
  cpuProps?: Record<string, string>;
  /** pc: `-device isa-debug-exit,iobase=..,iosize=..`. */
  debugExit?: { iobase: number; iosize: number };
  /** pc: `-debugcon`: bytes written to I/O port 0xe9. */
  debugconOut?: (byte: number) => void;
}

export interface ImageFile {
  path: string;
  data: Uint8Array;
}

export interface DriveOptions {
  /** Name for messages (the file name, or the drive id). */
  name: string;
  /** The opened image: raw file, qcow2, memory... */
  backend: BlockBackend;
  /** Serial number the guest sees (virtio-blk GET_ID). */
  serial?: string;
}

/** A user error: printed as one line, no stack trace, non-zero exit. */
export class UserError extends Error {
  override name = 'UserError';
}
