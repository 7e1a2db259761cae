/**
 * The x86 I/O port space (IN/OUT): 64 Ki byte-wide ports. Devices register a port range
 * with the same MmioOps contract as memory regions (offsets relative to the range's first
 * port). Wider accesses to a device that declares only byte registers are split into
 * bytes, as the ISA bus does; a port nobody decodes reads as all ones.
 */
import type { MmioOps } from './mmio.js';

interface PortRange {
  base: number;
  size: number;
  ops: MmioOps;
  name: string;
  /** Widest access the device takes as one (1, 2 or 4); wider ones are split. */
  width: number;
}

export class IoSpace {
  private readonly ranges: PortRange[] = [];
  /** Range index + 1 for each port (0: nothing there). */
  private readonly map = new Uint16Array(0x10000);

  add(base: number, size: number, ops: MmioOps, name: string, width = 1): void {
    for (let p = base; p < base + size; p++) {
      if (this.map[p]) throw new Error(`I/O ports of ${name} overlap ${this.ranges[this.map[p] - 1].name} at 0x${p.toString(16)}`);
    }
    this.ranges.push({ base, size, ops, name, width });
    for (let p = base; p < base + size; p++) this.map[p] = this.ranges.length;
  }

  read(port: number, size: number): number {
    const r = this.rangeAt(port);
    if (r && size <= r.width && port + size <= r.base + r.size) return r.ops.read(port - r.base, size);
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const ri = this.rangeAt(p);
      v |= (ri ? ri.ops.read(p - ri.base, 1) & 0xff : 0xff) << (8 * i);
    }
    return size === 4 ? v | 0 : v;
  }

  write(port: number, value: number, size: number): void {
    const r = this.rangeAt(port);
    if (r && size <= r.width && port + size <= r.base + r.size) {
      r.ops.write(port - r.base, value, size);
      return;
    }
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const ri = this.rangeAt(p);
      if (ri) ri.ops.write(p - ri.base, (value >>> (8 * i)) & 0xff, 1);
    }
  }

  private rangeAt(port: number): PortRange | null {
    const i = this.map[port & 0xffff];
    return i ? this.ranges[i - 1] : null;
  }
}
