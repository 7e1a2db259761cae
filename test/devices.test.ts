import { describe, expect, it } from 'vitest';
import { LatchedIrqLine } from '../src/devices/irq.js';
import { Uart16550 } from '../src/devices/uart16550.js';
import { SifiveTest } from '../src/devices/sifive-test.js';
import { Clint } from '../src/devices/clint.js';
import { Htif } from '../src/devices/htif.js';
import { VirtualClock } from '../src/machine/clock.js';

// 16550 register offsets and bits, spelled out here independently of the model.
const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;

function makeUart() {
  const irq = new LatchedIrqLine();
  const out: number[] = [];
  const uart = new Uart16550(irq, (b) => out.push(b));
  return { uart, irq, out };
}

describe('Uart16550', () => {
  it('sends THR writes to the sink and reports THRE/TEMT', () => {
    const { uart, out } = makeUart();
    for (const c of 'hi\n') uart.write(THR, c.charCodeAt(0), 1);
    expect(String.fromCharCode(...out)).toBe('hi\n');
    expect(uart.read(LSR, 1) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
    expect(uart.read(LSR, 1) & LSR_DR).toBe(0);
  });

  it('latches the divisor under DLAB without transmitting', () => {
    const { uart, out } = makeUart();
    uart.write(LCR, 0x83, 1); // DLAB | 8N1
    uart.write(DLL, 0x01, 1);
    uart.write(DLM, 0x02, 1);
    expect(uart.read(DLL, 1)).toBe(0x01);
    expect(uart.read(DLM, 1)).toBe(0x02);
    expect(out).toEqual([]);
    uart.write(LCR, 0x03, 1);
    expect(uart.read(IER, 1)).toBe(0); // IER untouched by the DLM write
    expect(uart.read(LCR, 1)).toBe(0x03);
    uart.write(THR, 0x41, 1);
    expect(out).toEqual([0x41]);
    uart.write(LCR, 0x80, 1);
    expect(uart.read(DLL, 1)).toBe(0x01); // divisor kept
  });

  it('keeps SCR and identifies FIFOs in IIR bits 7:6', () => {
    const { uart } = makeUart();
    uart.write(SCR, 0xa5, 1);
    expect(uart.read(SCR, 1)).toBe(0xa5);
    expect(uart.read(IIR, 1)).toBe(0x01);
    uart.write(FCR, 0x01, 1);
    expect(uart.read(IIR, 1)).toBe(0xc1);
  });

  it('receives through the RX FIFO, raising and clearing the data interrupt', () => {
    const { uart, irq } = makeUart();
    uart.write(FCR, 0x07, 1); // enable + reset both, trigger level 1
    uart.write(IER, 0x01, 1); // ERBFI
    expect(irq.level).toBe(false);
    uart.receive(new TextEncoder().encode('ab'));
    expect(irq.level).toBe(true);
    expect(uart.read(IIR, 1)).toBe(0xc4); // RDA, FIFOs enabled
    expect(uart.read(LSR, 1) & LSR_DR).toBe(LSR_DR);
    expect(uart.read(RBR, 1)).toBe(0x61);
    expect(irq.level).toBe(true);
    expect(uart.read(RBR, 1)).toBe(0x62);
    expect(irq.level).toBe(false);
    expect(uart.read(LSR, 1) & LSR_DR).toBe(0);
    expect(uart.read(IIR, 1)).toBe(0xc1);
  });

  it('reports a character timeout below the trigger level and data-available at it', () => {
    const { uart } = makeUart();
    uart.write(FCR, 0x81, 1); // enable, trigger level 8
    uart.write(IER, 0x01, 1);
    uart.receive([1, 2, 3]);
    expect(uart.read(IIR, 1)).toBe(0xcc);
    uart.receive([4, 5, 6, 7, 8]);
    expect(uart.read(IIR, 1)).toBe(0xc4);
  });

  it('holds pasted input in the host queue: nothing is lost beyond 16 bytes', () => {
    const { uart } = makeUart();
    uart.write(FCR, 0x01, 1);
    const text = 'The quick brown fox jumps over the lazy dog, twice over. '.repeat(40);
    uart.receive(new TextEncoder().encode(text));
    let got = '';
    for (let i = 0; i < 10_000 && uart.read(LSR, 1) & LSR_DR; i++) got += String.fromCharCode(uart.read(RBR, 1));
    expect(got).toBe(text);
    expect(uart.read(LSR, 1) & LSR_OE).toBe(0);
  });

  it('uses a one-byte holding register when FIFOs are off, still without losing input', () => {
    const { uart } = makeUart();
    uart.receive([10, 20, 30]);
    expect(uart.pendingInput()).toBe(3);
    expect([uart.read(RBR, 1), uart.read(RBR, 1), uart.read(RBR, 1)]).toEqual([10, 20, 30]);
    expect(uart.read(LSR, 1) & LSR_DR).toBe(0);
  });

  it('FCR RX reset discards the FIFO contents', () => {
    const { uart } = makeUart();
    uart.write(FCR, 0x01, 1);
    uart.receive([1, 2, 3]);
    uart.write(FCR, 0x03, 1);
    expect(uart.read(LSR, 1) & LSR_DR).toBe(0);
  });

  it('raises THRE when ETBEI is enabled; reading IIR or writing THR acknowledges it', () => {
    const { uart, irq } = makeUart();
    uart.write(IER, 0x02, 1);
    expect(irq.level).toBe(true);
    expect(uart.read(IIR, 1)).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(uart.read(IIR, 1)).toBe(0x01);
    uart.write(THR, 0x41, 1); // transmits at once: THR empty again -> THRE pending
    expect(irq.level).toBe(true);
    uart.write(IER, 0x00, 1);
    expect(irq.level).toBe(false);
  });

  it('gives received data priority over THRE in IIR', () => {
    const { uart, irq } = makeUart();
    uart.write(IER, 0x03, 1);
    uart.receive([0x55]);
    expect(uart.read(IIR, 1)).toBe(0x04);
    expect(irq.level).toBe(true);
    uart.read(RBR, 1);
    expect(uart.read(IIR, 1)).toBe(0x02); // THRE still pending underneath
    expect(irq.level).toBe(false);
  });

  it('loopback: THR comes back on RBR and MSR mirrors MCR; overrun is reported', () => {
    const { uart, out } = makeUart();
    uart.write(MCR, 0x10 | 0x02, 1); // LOOP | RTS
    expect(uart.read(MSR, 1) & 0x10).toBe(0x10); // CTS follows RTS
    uart.write(THR, 0x5a, 1);
    expect(out).toEqual([]);
    expect(uart.read(RBR, 1)).toBe(0x5a);
    uart.write(IER, 0x04, 1); // ELSI
    uart.write(THR, 1, 1);
    uart.write(THR, 2, 1); // holding register full: overrun
    expect(uart.read(IIR, 1)).toBe(0x06);
    expect(uart.read(LSR, 1) & LSR_OE).toBe(LSR_OE);
    expect(uart.read(LSR, 1) & LSR_OE).toBe(0); // cleared by the read
  });

  it('saves and restores state as plain JSON', () => {
    const a = makeUart();
    a.uart.write(FCR, 0xc1, 1);
    a.uart.write(LCR, 0x03, 1);
    a.uart.write(IER, 0x01, 1);
    a.uart.write(SCR, 0x42, 1);
    a.uart.receive(new Uint8Array(40).map((_, i) => i));
    const json = JSON.parse(JSON.stringify(a.uart.saveState()));
    const b = makeUart();
    b.uart.restoreState(json);
    expect(b.uart.read(SCR, 1)).toBe(0x42);
    expect(b.irq.level).toBe(true);
    const got: number[] = [];
    while (b.uart.read(LSR, 1) & LSR_DR) got.push(b.uart.read(RBR, 1));
    expect(got).toEqual([...Array(40).keys()]);
  });
});

describe('SifiveTest finisher', () => {
  function make() {
    const events: string[] = [];
    const dev = new SifiveTest({ onExit: (s) => events.push(`exit ${s}`), onReset: () => events.push('reset') });
    return { dev, events };
  }
  it('maps PASS, FAIL with a code and RESET; ignores everything else', () => {
    const { dev, events } = make();
    dev.write(0, 0x5555, 4);
    dev.write(0, (7 << 16) | 0x3333, 4);
    dev.write(0, 0x7777, 4);
    dev.write(0, 0x1234, 4);
    dev.write(4, 0x5555, 4);
    dev.write(0, 0x55, 1);
    expect(events).toEqual(['exit 0', 'exit 7', 'reset']);
    expect(dev.read(0, 4)).toBe(0);
  });
  it('takes the full 16-bit code', () => {
    const { dev, events } = make();
    dev.write(0, (0xffff << 16) | 0x3333, 4);
    expect(events).toEqual(['exit 65535']);
  });
});

describe('Clint', () => {
  function make(harts = 1) {
    let ns = 0;
    const clock = new VirtualClock(() => ns);
    const lines = Array.from({ length: harts }, () => ({ msip: new LatchedIrqLine(), mtip: new LatchedIrqLine() }));
    const clint = new Clint(clock, lines);
    return { clock, clint, lines, setNs: (v: number) => void (ns = v) };
  }
  const readMtime = (clint: Clint): bigint =>
    BigInt(clint.read(0xbff8, 4) >>> 0) | (BigInt(clint.read(0xbffc, 4) >>> 0) << 32n);
  const writeCmp = (clint: Clint, hart: number, v: bigint): void => {
    clint.write(0x4000 + 8 * hart, Number(v & 0xffffffffn) | 0, 4);
    clint.write(0x4000 + 8 * hart + 4, Number(v >> 32n) | 0, 4);
  };

  it('counts mtime at 10 MHz from the virtual clock', () => {
    const { clint, setNs } = make();
    expect(readMtime(clint)).toBe(0n);
    setNs(1_000_000_000);
    expect(readMtime(clint)).toBe(10_000_000n);
    setNs(1_000_000_099);
    expect(clint.mtimeNow()).toBe(10_000_000n);
    setNs(2 ** 40 * 100);
    expect(readMtime(clint)).toBe(2n ** 40n); // high word in use
  });

  it('raises MTIP when the timer fires at mtimecmp and lowers it when mtimecmp moves', () => {
    const { clock, clint, lines, setNs } = make();
    const mtip = lines[0]!.mtip;
    expect(mtip.level).toBe(false); // mtimecmp resets to all ones
    writeCmp(clint, 0, 1000n); // 100 us
    expect(mtip.level).toBe(false);
    expect(clock.nextDeadlineNs).toBe(100_000);
    setNs(99_999);
    clock.runDue();
    expect(mtip.level).toBe(false);
    setNs(100_000);
    clock.runDue();
    expect(mtip.level).toBe(true);
    expect(clint.read(0x4000, 4)).toBe(1000);
    writeCmp(clint, 0, 5000n);
    expect(mtip.level).toBe(false);
    expect(clock.nextDeadlineNs).toBe(500_000);
    writeCmp(clint, 0, 10n); // already in the past: level at once
    expect(mtip.level).toBe(true);
  });

  it('re-evaluates on an mtime write and keeps harts apart', () => {
    const { clock, clint, lines, setNs } = make(2);
    writeCmp(clint, 1, 2000n);
    clint.write(0xbff8, 1999, 4);
    clint.write(0xbffc, 0, 4);
    expect(readMtime(clint)).toBe(1999n);
    expect(lines[1]!.mtip.level).toBe(false);
    setNs(100);
    clock.runDue();
    expect(lines[1]!.mtip.level).toBe(true);
    expect(lines[0]!.mtip.level).toBe(false);
  });

  it('drives MSIP per hart from bit 0', () => {
    const { clint, lines } = make(2);
    clint.write(4, 0xffffffff, 4);
    expect(lines[1]!.msip.level).toBe(true);
    expect(lines[0]!.msip.level).toBe(false);
    expect(clint.read(4, 4)).toBe(1);
    clint.write(4, 0, 4);
    expect(lines[1]!.msip.level).toBe(false);
  });

  it('saves and restores mtime, mtimecmp and msip', () => {
    const a = make();
    a.setNs(12_345_600);
    writeCmp(a.clint, 0, 999_999n);
    a.clint.write(0, 1, 4);
    const state = JSON.parse(JSON.stringify(a.clint.saveState()));
    const b = make();
    b.clint.restoreState(state);
    expect(b.clint.mtimeNow()).toBe(123_456n);
    expect(b.clint.read(0x4000, 4)).toBe(999_999);
    expect(b.lines[0]!.msip.level).toBe(true);
    expect(b.clock.nextDeadlineNs).toBe((999_999 - 123_456) * 100);
  });
});

describe('Htif', () => {
  function make() {
    const exits: number[] = [];
    const chars: number[] = [];
    const logs: string[] = [];
    const htif = new Htif({ onExit: (s) => exits.push(s), putchar: (c) => chars.push(c), log: (m) => logs.push(m) });
    return { htif, exits, chars, logs };
  }
  const store64 = (dev: { write(o: number, v: number, s: number): void }, offset: number, v: bigint): void => {
    dev.write(offset, Number(v & 0xffffffffn) | 0, 4);
    dev.write(offset + 4, Number(v >> 32n) | 0, 4);
  };

  it('exits on the high-word write of (status << 1) | 1, as riscv-tests do with two sw', () => {
    const { htif, exits } = make();
    htif.write(0, (3 << 1) | 1, 4);
    expect(exits).toEqual([]); // low word alone does nothing
    htif.write(4, 0, 4);
    expect(exits).toEqual([3]);
    htif.write(0, 1, 4);
    htif.write(4, 0, 4);
    expect(exits).toEqual([3]); // latched until reset
    htif.reset();
    store64(htif, 0, 1n);
    expect(exits).toEqual([3, 0]);
  });

  it('prints through device 1 command 1 and acknowledges in fromhost', () => {
    const { htif, chars } = make();
    store64(htif, 0, (1n << 56n) | (1n << 48n) | 0x41n);
    expect(chars).toEqual([0x41]);
    expect(htif.read(0, 4)).toBe(0);
    expect(htif.read(4, 4)).toBe(0);
    expect(htif.read(8, 4)).toBe(0x141);
    expect(htif.read(12, 4)).toBe(0x01010000);
  });

  it('works as two separate regions when fromhost is not at tohost + 8', () => {
    const { htif, chars } = make();
    store64(htif.tohostRegion, 0, (1n << 56n) | (1n << 48n) | 0x42n);
    expect(chars).toEqual([0x42]);
    expect(htif.fromhostRegion.read(0, 4)).toBe(0x142);
    htif.fromhostRegion.write(0, 0, 4);
    expect(htif.read(8, 4)).toBe(0);
  });

  it('serves SYS_write from a syscall block and answers other syscalls with -ENOSYS', () => {
    const mem = new Uint8Array(0x1000);
    const chars: number[] = [];
    const htif = new Htif({
      onExit: () => {},
      putchar: (c) => chars.push(c),
      memory: {
        read: (a, n) => mem.slice(Number(a), Number(a) + n),
        write: (a, b) => mem.set(b, Number(a)),
      },
    });
    const dv = new DataView(mem.buffer);
    mem.set(new TextEncoder().encode('ok\n'), 0x200);
    dv.setBigUint64(0x100, 64n, true);
    dv.setBigUint64(0x108, 1n, true);
    dv.setBigUint64(0x110, 0x200n, true);
    dv.setBigUint64(0x118, 3n, true);
    store64(htif, 0, 0x100n);
    expect(String.fromCharCode(...chars)).toBe('ok\n');
    expect(dv.getBigUint64(0x100, true)).toBe(3n);
    expect(htif.read(8, 4)).toBe(1);
    dv.setBigUint64(0x100, 57n, true); // close
    store64(htif, 0, 0x100n);
    expect(dv.getBigInt64(0x100, true)).toBe(-38n);
  });

  it('logs and drops unknown commands', () => {
    const { htif, exits, chars, logs } = make();
    store64(htif, 0, (5n << 56n) | 7n);
    store64(htif, 0, 0x80001000n); // syscall block without memory access
    expect(exits).toEqual([]);
    expect(chars).toEqual([]);
    expect(logs.length).toBe(2);
    expect(htif.read(0, 4)).toBe(0);
  });
});
