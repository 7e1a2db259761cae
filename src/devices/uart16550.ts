/**
 * National Semiconductor / TI PC16550D UART ("16550A"), as described in the
 * PC16550D Universal Asynchronous Receiver/Transmitter with FIFOs datasheet
 * (TI SNLS378C), register map of Table 2 (three address bits, one byte each):
 *
 *   offset DLAB=0 read  DLAB=0 write  DLAB=1
 *   0      RBR          THR           DLL
 *   1      IER          IER           DLM
 *   2      IIR          FCR           (IIR / FCR)
 *   3      LCR
 *   4      MCR
 *   5      LSR
 *   6      MSR
 *   7      SCR
 *
 * Model choices (the guest cannot tell them apart from a fast line):
 * - Transmission is instantaneous: a THR write goes straight to the output sink, so
 *   LSR.THRE and LSR.TEMT always read 1 and the THRE interrupt is re-armed at once.
 * - Reception: `receive()` appends to an unbounded-in-practice host queue (capped at
 *   HOST_QUEUE_LIMIT bytes); the RX FIFO (16 bytes, or a 1-byte holding register when
 *   FIFOs are disabled) is refilled from that queue whenever the guest drains it.
 *   Pasted input therefore waits instead of overrunning; LSR.OE only occurs in
 *   loopback mode, where THR bytes land in the RX FIFO directly.
 * - The character-timeout interrupt (IIR 0xC) is reported as soon as the FIFO holds
 *   fewer bytes than the trigger level (the model has no notion of character
 *   times), so a lone keystroke interrupts the guest immediately.
 * - MCR.LOOP is implemented (THR -> RX FIFO, MSR mirrors MCR outputs); MCR.OUT2 does
 *   not gate the interrupt output (QEMU's serial.c does not gate it either).
 * - The divisor latch and LCR framing are stored and read back but have no effect.
 * - Accesses wider than one byte act on the register at `offset` using the low byte.
 */
import type { IrqLine } from './irq.js';
import type { MmioOps } from '../memory/mmio.js';

// Register offsets (datasheet names).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER bits.
const IER_ERBFI = 0x01; // received data available
const IER_ETBEI = 0x02; // transmitter holding register empty
const IER_ELSI = 0x04; // receiver line status
const IER_EDSSI = 0x08; // modem status

// IIR identification values (bit 0 = 1 means "no interrupt pending").
const IIR_NO_INT = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_CTI = 0x0c;
const IIR_THRE = 0x02;
const IIR_MS = 0x00;
const IIR_FIFOS_ENABLED = 0xc0;

// FCR bits.
const FCR_FIFO_ENABLE = 0x01;
const FCR_RX_RESET = 0x02;
const FCR_TX_RESET = 0x04;
const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;

// LCR bits.
const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

// LSR bits.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_PE = 0x04;
const LSR_FE = 0x08;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

// MSR bits.
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const MSR_DELTAS = MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD;

/** Depth of the 16550A receive FIFO. */
export const UART_FIFO_DEPTH = 16;
/** Bytes of host input kept waiting for the guest; beyond this, input is dropped. */
export const HOST_QUEUE_LIMIT = 1 << 20;

/** The MMIO window QEMU's virt board gives the UART (registers repeat no further). */
export const UART16550_REGION_SIZE = 0x100;

/** Serializable UART state (plain JSON). */
export interface Uart16550State {
  ier: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  dll: number;
  dlm: number;
  fcr: number;
  thrIpending: boolean;
  rxFifo: number[];
  hostQueue: number[];
}

/** A growable byte FIFO with amortised O(1) push/shift. */
class ByteQueue {
  private buf = new Uint8Array(64);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }
  push(byte: number): void {
    if (this.count === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      for (let i = 0; i < this.count; i++) bigger[i] = this.buf[(this.head + i) % this.buf.length]!;
      this.buf = bigger;
      this.head = 0;
    }
    this.buf[(this.head + this.count) % this.buf.length] = byte;
    this.count++;
  }
  shift(): number {
    if (this.count === 0) return 0;
    const b = this.buf[this.head]!;
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return b;
  }
  clear(): void {
    this.head = 0;
    this.count = 0;
  }
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.buf[(this.head + i) % this.buf.length]!);
    return out;
  }
}

export class Uart16550 implements MmioOps {
  private ier = 0;
  private lcr = 0;
  private mcr = MCR_OUT2;
  private lsr = LSR_THRE | LSR_TEMT;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS;
  private scr = 0;
  private dll = 0x0c; // 9600 baud at 1.8432 MHz, as after a PC BIOS
  private dlm = 0;
  /** Last value written to FCR (write-only on hardware; kept for state and IIR bits 7:6). */
  private fcr = 0;
  /** THRE interrupt condition: set when THR empties, cleared by reading IIR or writing THR. */
  private thrIpending = false;
  private readonly rxFifo = new ByteQueue();
  private readonly hostQueue = new ByteQueue();
  private irqLevel = false;

  constructor(
    private readonly irq: IrqLine,
    private readonly output: (byte: number) => void,
  ) {}

  /** Queue bytes typed or pasted on the host for the guest to read. */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (let i = 0; i < bytes.length; i++) {
      if (this.hostQueue.length >= HOST_QUEUE_LIMIT) break;
      this.hostQueue.push(bytes[i]! & 0xff);
    }
    this.refillRx();
    this.updateIrq();
  }

  /** Bytes received from the host that the guest has not read yet (FIFO + queue). */
  /**
   * Take one byte of host input past the register interface (firmware consoles such
   * as the SBI's legacy getchar share the UART's input); -1 when there is none.
   */
  takeHostByte(): number {
    if (this.rxFifo.length > 0) {
      const b = this.rxFifo.shift();
      this.refillRx();
      this.updateIrq();
      return b;
    }
    return this.hostQueue.length > 0 ? this.hostQueue.shift() : -1;
  }

  pendingInput(): number {
    return this.rxFifo.length + this.hostQueue.length;
  }

  read(offset: number, _size: number): number {
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.dll;
        return this.readRbr();
      case IER_DLM:
        if (this.lcr & LCR_DLAB) return this.dlm;
        return this.ier;
      case IIR_FCR: {
        const iir = this.iir();
        // Reading IIR while it reports THRE acknowledges that interrupt.
        if ((iir & 0x0f) === IIR_THRE) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return iir;
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const v = this.lsrValue();
        // Error bits are cleared by the read that reports them.
        if (this.lsr & LSR_ERRORS) {
          this.lsr &= ~LSR_ERRORS;
          this.updateIrq();
        }
        return v;
      }
      case MSR: {
        const v = this.msr;
        if (this.msr & MSR_DELTAS) {
          this.msr &= ~MSR_DELTAS;
          this.updateIrq();
        }
        return v;
      }
      case SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, value: number, _size: number): void {
    const v = value & 0xff;
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) this.dll = v;
        else this.writeThr(v);
        break;
      case IER_DLM:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
        } else {
          const changed = (this.ier ^ v) & 0x0f;
          this.ier = v & 0x0f;
          // Enabling ETBEI while THR is empty raises the THRE interrupt (as 8250 drivers expect).
          if (changed & IER_ETBEI && this.ier & IER_ETBEI) this.thrIpending = true;
          this.updateIrq();
        }
        break;
      case IIR_FCR:
        this.writeFcr(v);
        break;
      case LCR:
        this.lcr = v;
        break;
      case MCR:
        this.writeMcr(v & 0x1f);
        break;
      case LSR:
      case MSR:
        // Read-only on the 16550 (factory test writes are not modelled).
        break;
      case SCR:
        this.scr = v;
        break;
      default:
        break;
    }
  }

  saveState(): Uart16550State {
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: this.lsr,
      msr: this.msr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fcr: this.fcr,
      thrIpending: this.thrIpending,
      rxFifo: this.rxFifo.toArray(),
      hostQueue: this.hostQueue.toArray(),
    };
  }

  restoreState(state: Uart16550State): void {
    const byte = (x: unknown): number => (typeof x === 'number' ? x & 0xff : 0);
    this.ier = byte(state.ier) & 0x0f;
    this.lcr = byte(state.lcr);
    this.mcr = byte(state.mcr) & 0x1f;
    this.lsr = (byte(state.lsr) & LSR_ERRORS) | LSR_THRE | LSR_TEMT;
    this.msr = byte(state.msr);
    this.scr = byte(state.scr);
    this.dll = byte(state.dll);
    this.dlm = byte(state.dlm);
    this.fcr = byte(state.fcr);
    this.thrIpending = state.thrIpending === true;
    this.rxFifo.clear();
    for (const b of (state.rxFifo ?? []).slice(0, UART_FIFO_DEPTH)) this.rxFifo.push(byte(b));
    this.hostQueue.clear();
    for (const b of (state.hostQueue ?? []).slice(0, HOST_QUEUE_LIMIT)) this.hostQueue.push(byte(b));
    this.irqLevel = false;
    this.irq.set(false);
    this.refillRx();
    this.updateIrq();
  }

  // --- internals -------------------------------------------------------------------

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_FIFO_ENABLE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? UART_FIFO_DEPTH : 1;
  }

  private rxTriggerLevel(): number {
    return RX_TRIGGER_LEVELS[(this.fcr >> 6) & 3]!;
  }

  /** Move waiting host input into the RX FIFO (not in loopback: the line is disconnected). */
  private refillRx(): void {
    if (this.mcr & MCR_LOOP) return;
    const cap = this.rxCapacity();
    while (this.rxFifo.length < cap && this.hostQueue.length > 0) this.rxFifo.push(this.hostQueue.shift());
  }

  private readRbr(): number {
    if (this.rxFifo.length === 0) return 0;
    const b = this.rxFifo.shift();
    this.refillRx();
    this.updateIrq();
    return b;
  }

  private writeThr(v: number): void {
    this.thrIpending = false;
    if (this.mcr & MCR_LOOP) {
      if (this.rxFifo.length < this.rxCapacity()) this.rxFifo.push(v);
      else this.lsr |= LSR_OE;
    } else {
      this.output(v);
    }
    // The byte left at once: THR (and the shift register) are empty again.
    this.thrIpending = true;
    this.updateIrq();
  }

  private writeFcr(v: number): void {
    const wasEnabled = this.fifoEnabled();
    const enable = (v & FCR_FIFO_ENABLE) !== 0;
    // Changing the FIFO enable bit clears both FIFOs (datasheet, FCR bit 0).
    if (enable !== wasEnabled || v & FCR_RX_RESET) this.rxFifo.clear();
    // FCR_TX_RESET needs no action: the transmit FIFO is always empty in this model.
    this.fcr = enable ? v & 0xc9 : 0;
    this.refillRx();
    this.updateIrq();
  }

  private writeMcr(v: number): void {
    const old = this.mcr;
    this.mcr = v;
    if (v & MCR_LOOP) {
      // Loopback: modem inputs are wired to the modem control outputs.
      const newMsr =
        (v & MCR_RTS ? MSR_CTS : 0) |
        (v & MCR_DTR ? MSR_DSR : 0) |
        (v & MCR_OUT1 ? MSR_RI : 0) |
        (v & MCR_OUT2 ? MSR_DCD : 0);
      this.setModemInputs(newMsr);
    } else if (old & MCR_LOOP) {
      // Back to the (always ready) host line.
      this.setModemInputs(MSR_DCD | MSR_DSR | MSR_CTS);
      this.refillRx();
    }
    this.updateIrq();
  }

  private setModemInputs(inputs: number): void {
    const old = this.msr;
    let deltas = old & MSR_DELTAS;
    if ((old ^ inputs) & MSR_CTS) deltas |= MSR_DCTS;
    if ((old ^ inputs) & MSR_DSR) deltas |= MSR_DDSR;
    if ((old ^ inputs) & MSR_DCD) deltas |= MSR_DDCD;
    if (old & MSR_RI && !(inputs & MSR_RI)) deltas |= MSR_TERI; // trailing edge of RI
    this.msr = inputs | deltas;
  }

  private lsrValue(): number {
    let v = this.lsr | LSR_THRE | LSR_TEMT;
    if (this.rxFifo.length > 0) v |= LSR_DR;
    return v;
  }

  /** IIR, highest-priority pending interrupt first (datasheet Table 4). */
  private iir(): number {
    const fifoBits = this.fifoEnabled() ? IIR_FIFOS_ENABLED : 0;
    if (this.ier & IER_ELSI && this.lsr & LSR_ERRORS) return fifoBits | IIR_RLS;
    if (this.ier & IER_ERBFI && this.rxFifo.length > 0) {
      if (!this.fifoEnabled() || this.rxFifo.length >= this.rxTriggerLevel()) return fifoBits | IIR_RDA;
      return fifoBits | IIR_CTI;
    }
    if (this.ier & IER_ETBEI && this.thrIpending) return fifoBits | IIR_THRE;
    if (this.ier & IER_EDSSI && this.msr & MSR_DELTAS) return fifoBits | IIR_MS;
    return fifoBits | IIR_NO_INT;
  }

  private updateIrq(): void {
    const level = (this.iir() & IIR_NO_INT) === 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
