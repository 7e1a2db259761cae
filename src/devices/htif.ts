/**
 * Berkeley Host-Target Interface (HTIF) tohost/fromhost mailbox, as used by
 * riscv-tests and the Spike ISA simulator (riscv-isa-sim fesvr/htif.cc, device.cc)
 * and as QEMU models it (hw/char/riscv_htif.c). There is no formal spec; the
 * encoding of a 64-bit tohost value is
 *
 *   bits 63:56 device, bits 55:48 command, bits 47:0 payload
 *
 * Handled commands:
 *   device 0 command 0, payload bit 0 = 1   exit with status payload >> 1
 *                                           (riscv-tests: 1 = pass, (n << 1) | 1 = test n failed)
 *   device 0 command 0, payload bit 0 = 0   a pointer to a proxied-syscall block (riscv-pk /
 *                                           riscv-tests benchmarks: 8 little-endian u64 words,
 *                                           number then arguments). Only SYS_write (64) to fd
 *                                           1 or 2 is served, and only when the board passes
 *                                           `memory`; anything else is reported through `log`.
 *                                           Either way the block's word 0 gets the return value
 *                                           (-ENOSYS when unsupported) and fromhost = 1, so the
 *                                           guest's `while (fromhost == 0)` loop ends.
 *   device 1 command 1                      console putchar of the payload's low byte
 *   anything else                           reported through `log` and dropped
 * After a command, tohost is cleared (the "host has taken it" signal guests poll for) and,
 * like QEMU, fromhost = device << 56 | command << 48 | response (putchar answers 0x100 | byte).
 *
 * A command is acted on when the HIGH word of tohost is written: the bus splits an 8-byte
 * store low word first, and riscv-tests store the low then the high word with `sw`. A byte
 * or half-word store acts when it covers byte 7.
 *
 * Mapping: the device is one 16-byte MmioOps with tohost at 0 and fromhost at 8 (the usual
 * `.tohost` section layout). When an ELF places `fromhost` elsewhere, map the two 8-byte
 * views `tohostRegion` and `fromhostRegion` at the two symbols instead.
 *
 * After an exit command further commands are ignored until reset(): riscv-tests spin
 * rewriting tohost, and the board may take a few instructions to stop.
 */
import type { MmioOps } from '../memory/mmio.js';

export const HTIF_REGION_SIZE = 16;
export const HTIF_TOHOST_OFFSET = 0;
export const HTIF_FROMHOST_OFFSET = 8;

export const HTIF_DEV_SYSCALL = 0;
export const HTIF_DEV_CONSOLE = 1;
export const HTIF_CONSOLE_CMD_GETCHAR = 0;
export const HTIF_CONSOLE_CMD_PUTCHAR = 1;

const U32_MASK = 0xffffffffn;
const U64_MASK = (1n << 64n) - 1n;

export interface HtifCallbacks {
  onExit(status: number): void;
  putchar(byte: number): void;
  /** Unsupported commands are reported here (one line, no newline). Optional. */
  log?(message: string): void;
  /** Guest physical memory, for proxied syscalls. Optional: without it they get -ENOSYS. */
  memory?: {
    read(addr: bigint, length: number): Uint8Array;
    write(addr: bigint, bytes: Uint8Array): void;
  };
}

/** riscv-pk syscall numbers understood by the proxied-syscall path. */
export const HTIF_SYS_WRITE = 64;
const ENOSYS = 38;
/** Longest SYS_write served in one call; longer writes are truncated (the guest sees the count). */
const SYS_WRITE_MAX = 1 << 16;

export interface HtifState {
  tohost: string;
  fromhost: string;
  exited: boolean;
}

/** One 64-bit register seen as an 8-byte MMIO region. */
class HtifRegisterView implements MmioOps {
  constructor(
    private readonly get: () => bigint,
    private readonly set: (v: bigint, touchesTopByte: boolean) => void,
  ) {}
  read(offset: number, size: number): number {
    const v = this.get() >> BigInt(offset * 8);
    if (size === 4) return Number(v & U32_MASK) | 0;
    return Number(v & (size === 2 ? 0xffffn : 0xffn));
  }
  write(offset: number, value: number, size: number): void {
    const shift = BigInt(offset * 8);
    const mask = ((1n << BigInt(size * 8)) - 1n) << shift;
    const bits = (BigInt(value >>> 0) << shift) & mask;
    this.set((this.get() & ~mask & U64_MASK) | bits, offset + size > 7);
  }
}

export class Htif implements MmioOps {
  private tohost = 0n;
  private fromhost = 0n;
  private exited = false;

  /** tohost alone, for boards mapping the two registers separately. */
  readonly tohostRegion: MmioOps = new HtifRegisterView(
    () => this.tohost,
    (v, top) => this.writeTohost(v, top),
  );
  /** fromhost alone, for boards mapping the two registers separately. */
  readonly fromhostRegion: MmioOps = new HtifRegisterView(
    () => this.fromhost,
    (v) => {
      this.fromhost = v;
    },
  );

  constructor(private readonly callbacks: HtifCallbacks) {}

  read(offset: number, size: number): number {
    if (offset < HTIF_FROMHOST_OFFSET) return this.tohostRegion.read(offset, size);
    if (offset < HTIF_REGION_SIZE) return this.fromhostRegion.read(offset - HTIF_FROMHOST_OFFSET, size);
    return 0;
  }

  write(offset: number, value: number, size: number): void {
    if (offset < HTIF_FROMHOST_OFFSET) this.tohostRegion.write(offset, value, size);
    else if (offset < HTIF_REGION_SIZE) this.fromhostRegion.write(offset - HTIF_FROMHOST_OFFSET, value, size);
  }

  reset(): void {
    this.tohost = 0n;
    this.fromhost = 0n;
    this.exited = false;
  }

  saveState(): HtifState {
    return { tohost: '0x' + this.tohost.toString(16), fromhost: '0x' + this.fromhost.toString(16), exited: this.exited };
  }

  restoreState(state: HtifState): void {
    const big = (s: unknown): bigint =>
      typeof s === 'string' && /^0x[0-9a-f]{1,16}$/i.test(s) ? BigInt(s) : 0n;
    this.tohost = big(state.tohost);
    this.fromhost = big(state.fromhost);
    this.exited = state.exited === true;
  }

  private writeTohost(value: bigint, touchesTopByte: boolean): void {
    this.tohost = value;
    if (!touchesTopByte || value === 0n || this.exited) return;
    const device = Number(value >> 56n);
    const command = Number((value >> 48n) & 0xffn);
    const payload = value & ((1n << 48n) - 1n);
    if (device === HTIF_DEV_SYSCALL && command === 0) {
      if (payload & 1n) {
        this.exited = true;
        this.tohost = 0n;
        this.callbacks.onExit(Number(payload >> 1n));
        return;
      }
      try {
        this.proxySyscall(payload);
      } catch (e) {
        // A guest pointer outside RAM must not take the emulator down.
        this.callbacks.log?.(`htif: proxied syscall block at 0x${payload.toString(16)}: ${(e as Error).message}`);
      }
      this.respond(device, command, 1n);
      return;
    }
    if (device === HTIF_DEV_CONSOLE && command === HTIF_CONSOLE_CMD_PUTCHAR) {
      const byte = Number(payload & 0xffn);
      this.callbacks.putchar(byte);
      this.respond(device, command, 0x100n | BigInt(byte));
      return;
    }
    if (device === HTIF_DEV_CONSOLE && command === HTIF_CONSOLE_CMD_GETCHAR) {
      // Console input is not wired to HTIF; the request stays unanswered (as with no input).
      this.tohost = 0n;
      return;
    }
    this.callbacks.log?.(`htif: unsupported command: device ${device} command ${command} payload 0x${payload.toString(16)}`);
    this.tohost = 0n;
  }

  /** Serve a riscv-pk style syscall block at guest address `block` (see the header). */
  private proxySyscall(block: bigint): void {
    const memory = this.callbacks.memory;
    if (!memory) {
      this.callbacks.log?.(`htif: proxied syscall block at 0x${block.toString(16)} ignored (no memory access)`);
      return;
    }
    let result = BigInt(-ENOSYS);
    const words = new DataView(memory.read(block, 64).slice().buffer);
    const number = words.getBigUint64(0, true);
    const fd = words.getBigUint64(8, true);
    const buf = words.getBigUint64(16, true);
    const length = words.getBigUint64(24, true);
    if (number === BigInt(HTIF_SYS_WRITE) && (fd === 1n || fd === 2n)) {
      const n = length > BigInt(SYS_WRITE_MAX) ? SYS_WRITE_MAX : Number(length);
      const bytes = memory.read(buf, n);
      for (let i = 0; i < bytes.length; i++) this.callbacks.putchar(bytes[i]!);
      result = BigInt(bytes.length);
    } else {
      this.callbacks.log?.(`htif: proxied syscall ${number} is not supported`);
    }
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, result), true);
    memory.write(block, out);
  }

  private respond(device: number, command: number, response: bigint): void {
    this.tohost = 0n;
    this.fromhost = ((BigInt(device) << 56n) | (BigInt(command) << 48n) | (response & ((1n << 48n) - 1n))) & U64_MASK;
  }
}
