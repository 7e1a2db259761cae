/**
 * Host terminal adapter for the serial console (Node only).
 *
 * Puts a TTY stdin into raw mode so every keystroke reaches the guest, and implements
 * QEMU's character-device multiplexer escapes (`-nographic`, `-serial mon:stdio`):
 *
 *   C-a h    print help
 *   C-a x    exit emulator
 *   C-a C-a  send C-a to the guest
 *   C-a <other>  swallowed, as QEMU does (s, b, t and c - monitor - are not implemented)
 *
 * With plain `-serial stdio` there is no escape character and, as with QEMU's default
 * `signal=on`, Ctrl-C quits instead of reaching the guest. The terminal mode is restored
 * by detach() and, as a last resort, on process exit.
 */
export const CTRL_A = 0x01;
export const CTRL_C = 0x03;

export const MUX_HELP_TEXT =
  'C-a h    print this help\r\n' + 'C-a x    exit emulator\r\n' + 'C-a C-a  sends C-a\r\n';

export interface EscapeHandlers {
  /** Bytes for the guest. */
  onData(bytes: Uint8Array): void;
  /** C-a x (or Ctrl-C when `signals`). */
  onQuit(): void;
  /** C-a h */
  onHelp(): void;
}

/**
 * The escape-sequence state machine, separate from Node so it can be tested byte by byte.
 * `mux` enables the C-a escapes; `signals` makes Ctrl-C quit.
 */
export class EscapeDecoder {
  private gotEscape = false;
  private quit = false;

  constructor(
    private readonly handlers: EscapeHandlers,
    private readonly mux: boolean,
    private readonly signals: boolean,
  ) {}

  feed(chunk: Uint8Array): void {
    if (this.quit) return;
    const out: number[] = [];
    const flush = (): void => {
      if (out.length > 0) {
        this.handlers.onData(Uint8Array.from(out));
        out.length = 0;
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.gotEscape) {
        this.gotEscape = false;
        if (b === CTRL_A) out.push(CTRL_A);
        else if (b === 0x78 /* x */) {
          flush();
          this.quit = true;
          this.handlers.onQuit();
          return;
        } else if (b === 0x68 /* h */ || b === 0x3f /* ? */) {
          flush();
          this.handlers.onHelp();
        }
        continue;
      }
      if (this.mux && b === CTRL_A) {
        this.gotEscape = true;
        continue;
      }
      if (this.signals && b === CTRL_C) {
        flush();
        this.quit = true;
        this.handlers.onQuit();
        return;
      }
      out.push(b);
    }
    flush();
  }
}

export interface StdioTerminalOptions {
  /** Keystrokes for the guest (the UART's receive()). */
  onInput(bytes: Uint8Array): void;
  /** The user asked to quit (C-a x, or Ctrl-C without mux). */
  onQuit(): void;
  /** QEMU's mon:stdio escapes (true for -nographic). */
  mux: boolean;
  /** Ctrl-C quits (default: !mux, like QEMU's stdio signal=on). */
  signals?: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export interface HostTerminal {
  /** Stop reading and restore the terminal mode. Idempotent. */
  detach(): void;
}

export function attachStdioTerminal(opts: StdioTerminalOptions): HostTerminal {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let attached = true;

  const restore = (): void => {
    if (stdin.isTTY && stdin.isRaw !== wasRaw) stdin.setRawMode(wasRaw);
  };
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    stdin.off('data', onData);
    process.off('exit', restore);
    restore();
    stdin.pause();
  };
  const decoder = new EscapeDecoder(
    {
      onData: (bytes) => opts.onInput(bytes),
      onHelp: () => void stdout.write(MUX_HELP_TEXT),
      onQuit: () => {
        if (opts.mux) stdout.write('qemu-ts: Terminated\r\n');
        detach();
        opts.onQuit();
      },
    },
    opts.mux,
    opts.signals ?? !opts.mux,
  );
  const onData = (chunk: Buffer | string): void => {
    decoder.feed(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
  };

  if (stdin.isTTY) stdin.setRawMode(true);
  process.on('exit', restore);
  stdin.on('data', onData);
  stdin.resume();
  return { detach };
}
