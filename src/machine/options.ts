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
  /** `-bios none`, or the bytes of a firmware image. */
  bios: 'none' | { path: string; data: Uint8Array };
  /** `-kernel`: file name (for messages) and contents. */
  kernel?: { path: string; data: Uint8Array };
  /** `-append` */
  append?: string;
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
}

/** A user error: printed as one line, no stack trace, non-zero exit. */
export class UserError extends Error {
  override name = 'UserError';
}
