/**
 * The built-in SBI: RISC-V Supervisor Binary Interface firmware emulated on the host
 * (SBI specification 2.0), the default when no -bios is given. The kernel runs in
 * S-mode from the first instruction; its `ecall`s (cause 9) reach `handleEcall` instead
 * of an M-mode handler. Implemented extensions: Base, TIME, IPI, RFENCE, HSM, SRST, DBCN
 * and the legacy console/timer/shutdown calls (so `earlycon=sbi` works).
 *
 * The timer is the CLINT's: set_timer programs mtimecmp, and the board routes the
 * CLINT's timer line to the hart's supervisor timer interrupt (STIP) while this
 * firmware is in use, which is what an M-mode SBI would do by hand.
 */
import { Cause } from '../frontend/riscv/state.js';
import type { RiscvCpu } from '../frontend/riscv/cpu.js';
import { Irq } from '../frontend/riscv/cpu.js';

// Error codes (SBI spec 3.2).
const SBI_SUCCESS = 0n;
const SBI_ERR_FAILED = -1n;
const SBI_ERR_NOT_SUPPORTED = -2n;
const SBI_ERR_INVALID_PARAM = -3n;
const SBI_ERR_ALREADY_AVAILABLE = -6n;

// Extension IDs.
const EXT_BASE = 0x10;
const EXT_TIME = 0x54494d45;
const EXT_IPI = 0x735049;
const EXT_RFENCE = 0x52464e43;
const EXT_HSM = 0x48534d;
const EXT_SRST = 0x53525354;
const EXT_DBCN = 0x4442434e;
// Legacy extensions (SBI v0.1), one function each.
const LEGACY_SET_TIMER = 0x00;
const LEGACY_CONSOLE_PUTCHAR = 0x01;
const LEGACY_CONSOLE_GETCHAR = 0x02;
const LEGACY_CLEAR_IPI = 0x03;
const LEGACY_SEND_IPI = 0x04;
const LEGACY_REMOTE_FENCE_I = 0x05;
const LEGACY_REMOTE_SFENCE_VMA = 0x06;
const LEGACY_REMOTE_SFENCE_VMA_ASID = 0x07;
const LEGACY_SHUTDOWN = 0x08;

const SUPPORTED = new Set([EXT_BASE, EXT_TIME, EXT_IPI, EXT_RFENCE, EXT_HSM, EXT_SRST, EXT_DBCN,
  LEGACY_SET_TIMER, LEGACY_CONSOLE_PUTCHAR, LEGACY_CONSOLE_GETCHAR, LEGACY_CLEAR_IPI, LEGACY_SEND_IPI,
  LEGACY_REMOTE_FENCE_I, LEGACY_REMOTE_SFENCE_VMA, LEGACY_REMOTE_SFENCE_VMA_ASID, LEGACY_SHUTDOWN]);

/** Implementation ID: not one of the registered IDs (OpenSBI is 1). */
export const SBI_IMPL_ID = 0x7154; // "qT"
const SBI_SPEC_VERSION = (2n << 24n) | 0n; // 2.0

export interface SbiPlatform {
  /** Program the hart's timer compare value (mtime units). */
  setTimer(value: bigint): void;
  /** A console byte from the guest. */
  putchar(byte: number): void;
  /** The next console byte typed on the host, or -1. */
  getchar(): number;
  /** System reset: 'shutdown' (exit 0, or 1 for a failure reason), or 'reboot'. */
  reset(kind: 'shutdown' | 'reboot', failure: boolean): void;
}

const A0 = 10, A1 = 11, A6 = 16, A7 = 17;

export class BuiltinSbi {
  constructor(
    private readonly cpu: RiscvCpu,
    private readonly platform: SbiPlatform,
  ) {}

  /** CpuHooks.machineTrap: an ecall from S-mode is an SBI call; anything else is fatal. */
  handleTrap(cause: number, interrupt: boolean, epc: bigint): boolean {
    if (interrupt || cause !== Cause.EcallS) return false;
    const cpu = this.cpu;
    const [error, value] = this.call(Number(cpu.getX(A7) & 0xffffffffn), Number(cpu.getX(A6) & 0xffffffffn));
    cpu.setX(A0, error);
    if (value !== null) cpu.setX(A1, value);
    cpu.pc = epc + 4n;
    return true;
  }

  private call(eid: number, fid: number): [bigint, bigint | null] {
    const cpu = this.cpu;
    const a = (i: number) => cpu.getX(A0 + i);
    switch (eid) {
      case EXT_BASE:
        switch (fid) {
          case 0: return [SBI_SUCCESS, SBI_SPEC_VERSION];
          case 1: return [SBI_SUCCESS, BigInt(SBI_IMPL_ID)];
          case 2: return [SBI_SUCCESS, 1n];
          case 3: return [SBI_SUCCESS, SUPPORTED.has(Number(a(0) & 0xffffffffn)) ? 1n : 0n];
          case 4: case 5: case 6: return [SBI_SUCCESS, 0n]; // mvendorid, marchid, mimpid
        }
        return [SBI_ERR_NOT_SUPPORTED, null];
      case EXT_TIME:
        if (fid !== 0) return [SBI_ERR_NOT_SUPPORTED, null];
        this.platform.setTimer(a(0));
        return [SBI_SUCCESS, null];
      case LEGACY_SET_TIMER:
        this.platform.setTimer(a(0));
        return [SBI_SUCCESS, null];
      case EXT_IPI:
        if (fid !== 0) return [SBI_ERR_NOT_SUPPORTED, null];
        return [this.sendIpi(a(0), a(1)), null];
      case LEGACY_SEND_IPI:
        cpu.setIrq(Irq.SSI, true);
        return [SBI_SUCCESS, null];
      case LEGACY_CLEAR_IPI:
        cpu.setIrq(Irq.SSI, false);
        return [SBI_SUCCESS, null];
      case EXT_RFENCE:
        // One hart, and stores already keep translated code coherent: a fence of the
        // local TLB is all a remote fence needs here.
        if (fid > 6) return [SBI_ERR_NOT_SUPPORTED, null];
        if (fid !== 0) cpu.flushTlb();
        return [SBI_SUCCESS, null];
      case LEGACY_REMOTE_FENCE_I:
        return [SBI_SUCCESS, null];
      case LEGACY_REMOTE_SFENCE_VMA:
      case LEGACY_REMOTE_SFENCE_VMA_ASID:
        cpu.flushTlb();
        return [SBI_SUCCESS, null];
      case EXT_HSM:
        switch (fid) {
          case 0: return [a(0) === BigInt(cpu.hartId) ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM, null];
          case 1: return [SBI_ERR_FAILED, null]; // hart_stop: the only hart must keep running
          case 2: return a(0) === BigInt(cpu.hartId) ? [SBI_SUCCESS, 0n] : [SBI_ERR_INVALID_PARAM, null];
          case 3: return [SBI_ERR_NOT_SUPPORTED, null]; // hart_suspend
        }
        return [SBI_ERR_NOT_SUPPORTED, null];
      case EXT_SRST: {
        if (fid !== 0) return [SBI_ERR_NOT_SUPPORTED, null];
        const type = Number(a(0) & 0xffffffffn);
        const reason = Number(a(1) & 0xffffffffn);
        if (type > 2 || reason > 1) return [SBI_ERR_INVALID_PARAM, null];
        this.platform.reset(type === 0 ? 'shutdown' : 'reboot', reason === 1);
        return [SBI_SUCCESS, null];
      }
      case LEGACY_SHUTDOWN:
        this.platform.reset('shutdown', false);
        return [SBI_SUCCESS, null];
      case LEGACY_CONSOLE_PUTCHAR:
        this.platform.putchar(Number(a(0) & 0xffn));
        return [SBI_SUCCESS, null];
      case LEGACY_CONSOLE_GETCHAR:
        return [BigInt(this.platform.getchar()), null];
      case EXT_DBCN:
        return this.debugConsole(fid, a(0), a(1), a(2));
    }
    return [SBI_ERR_NOT_SUPPORTED, null];
  }

  private sendIpi(mask: bigint, base: bigint): bigint {
    // hart_mask_base of -1 means "all harts".
    const all = BigInt.asUintN(64, base) === (1n << 64n) - 1n;
    const self = BigInt(this.cpu.hartId);
    if (all || (self >= base && (mask >> (self - base)) & 1n)) this.cpu.setIrq(Irq.SSI, true);
    return SBI_SUCCESS;
  }

  /** Debug console: write/read a buffer given by physical address, or write one byte. */
  private debugConsole(fid: number, n: bigint, addrLo: bigint, addrHi: bigint): [bigint, bigint | null] {
    const bus = this.cpu.bus;
    const addr = Number(addrLo) + Number(addrHi) * 2 ** 32;
    switch (fid) {
      case 0: {
        const len = Number(n > 4096n ? 4096n : n);
        const bytes = bus.read(addr, len);
        if (!bytes) return [SBI_ERR_INVALID_PARAM, null];
        for (const b of bytes) this.platform.putchar(b);
        return [SBI_SUCCESS, BigInt(len)];
      }
      case 1: {
        const len = Number(n > 4096n ? 4096n : n);
        const got: number[] = [];
        for (let c; got.length < len && (c = this.platform.getchar()) >= 0; ) got.push(c);
        if (!bus.write(addr, Uint8Array.from(got))) return [SBI_ERR_INVALID_PARAM, null];
        return [SBI_SUCCESS, BigInt(got.length)];
      }
      case 2:
        this.platform.putchar(Number(n & 0xffn));
        return [SBI_SUCCESS, 0n];
    }
    return [SBI_ERR_NOT_SUPPORTED, null];
  }
}
