/**
 * The physical address space: one RAM buffer, ROM windows, and MMIO regions.
 *
 * Physical addresses are JS numbers (exact below 2^53). RAM is a single ArrayBuffer so
 * generated code can reach it through one DataView; the soft TLB maps guest pages to
 * offsets in it. MMIO regions may overlay RAM (HTIF's tohost lives inside RAM): a page
 * that holds any part of an MMIO region is never mapped in the TLB.
 *
 * The address space also tracks which RAM pages hold translated code (`codePages`), so
 * the memory slow path can tell the execution engine to invalidate blocks when the page
 * is written, by the CPU or by DMA.
 */
import type { MmioOps } from './mmio.js';
import { Arena } from './arena.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/**
 * Guest-physical memory as DMA-capable devices see it (virtio rings and buffers).
 * Only RAM is reachable; an access that leaves RAM fails instead of touching a device.
 */
export interface GuestMemory {
  /** A copy of `length` bytes at `paddr`, or null if the range is not all RAM. */
  read(paddr: number, length: number): Uint8Array | null;
  /** Write `bytes` at `paddr`; false (nothing written) if the range is not all RAM. */
  write(paddr: number, bytes: Uint8Array): boolean;
}

export interface MmioRegion {
  readonly base: number;
  readonly size: number;
  readonly ops: MmioOps;
  readonly name: string;
}

export class AddressSpace implements GuestMemory {
  /** RAM and the CPU's hot state, in one memory that compiled WebAssembly can reach. */
  readonly arena: Arena;
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  /** 1 for each RAM page that holds translated code. */
  readonly codePages: Uint8Array;
  private readonly regions: MmioRegion[] = [];
  /** Called when a code page is written; the engine drops the page's blocks. */
  /**
   * A write touched bytes [offset, offset + length) of a RAM page in `codePages`; the
   * listener drops the translations overlapping them and says whether the page still
   * holds any (data next to code keeps its page protected, but drops nothing).
   */
  onCodeWrite: (ramPage: number, offset: number, length: number) => boolean = () => false;

  constructor(
    readonly ramBase: number,
    readonly ramSize: number,
  ) {
    if (ramSize % PAGE_SIZE !== 0) throw new Error('RAM size must be a multiple of 4 KiB');
    this.arena = new Arena(ramSize);
    this.ram = new Uint8Array(this.arena.buffer, this.arena.ramOffset, ramSize);
    this.ramView = new DataView(this.arena.buffer, this.arena.ramOffset, ramSize);
    this.codePages = new Uint8Array(ramSize >>> PAGE_SHIFT);
  }

  addMmio(base: number, size: number, ops: MmioOps, name: string): void {
    for (const r of this.regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new Error(`MMIO region ${name} overlaps ${r.name}`);
      }
    }
    this.regions.push({ base, size, ops, name });
  }

  findMmio(paddr: number): MmioRegion | null {
    for (const r of this.regions) if (paddr >= r.base && paddr < r.base + r.size) return r;
    return null;
  }

  /** RAM offset of `paddr` if `len` bytes there are plain RAM (no MMIO overlay), else -1. */
  ramOffset(paddr: number, len: number): number {
    const off = paddr - this.ramBase;
    if (off < 0 || off + len > this.ramSize) return -1;
    for (const r of this.regions) if (paddr < r.base + r.size && r.base < paddr + len) return -1;
    return off;
  }

  /** True when the whole page containing `paddr` is RAM with no MMIO overlay. */
  isRamPage(paddr: number): boolean {
    const page = paddr - (paddr % PAGE_SIZE);
    return this.ramOffset(page, PAGE_SIZE) >= 0;
  }

  /**
   * Read `size` (1, 2, 4 or 8) bytes; returns the low word, high word in `hiOut[0]`.
   * Returns false if nothing is mapped there (the caller raises an access fault).
   */
  load(paddr: number, size: number, out: Int32Array): boolean {
    const off = this.ramOffset(paddr, size);
    const v = this.ramView;
    if (off >= 0) {
      switch (size) {
        case 1: out[0] = v.getUint8(off); break;
        case 2: out[0] = v.getUint16(off, true); break;
        case 4: out[0] = v.getInt32(off, true); break;
        default:
          out[0] = v.getInt32(off, true);
          out[1] = v.getInt32(off + 4, true);
      }
      return true;
    }
    const r = this.findMmio(paddr);
    if (!r || paddr + size > r.base + r.size) return false;
    const rel = paddr - r.base;
    if (size === 8) {
      out[0] = r.ops.read(rel, 4) | 0;
      out[1] = r.ops.read(rel + 4, 4) | 0;
    } else if ((rel & (size - 1)) !== 0) {
      // Misaligned MMIO: assemble from bytes.
      let x = 0;
      for (let i = 0; i < size; i++) x |= (r.ops.read(rel + i, 1) & 0xff) << (8 * i);
      out[0] = size === 4 ? x | 0 : x;
    } else {
      out[0] = size === 4 ? r.ops.read(rel, size) | 0 : r.ops.read(rel, size);
    }
    return true;
  }

  /** Write `size` bytes (value lo, hi). Returns false if nothing is mapped there. */
  store(paddr: number, size: number, lo: number, hi: number): boolean {
    const off = this.ramOffset(paddr, size);
    const v = this.ramView;
    if (off >= 0) {
      this.noteRamWrite(off, size);
      switch (size) {
        case 1: v.setUint8(off, lo); break;
        case 2: v.setUint16(off, lo, true); break;
        case 4: v.setInt32(off, lo, true); break;
        default:
          v.setInt32(off, lo, true);
          v.setInt32(off + 4, hi, true);
      }
      return true;
    }
    const r = this.findMmio(paddr);
    if (!r || paddr + size > r.base + r.size) return false;
    const rel = paddr - r.base;
    if (size === 8) {
      r.ops.write(rel, lo, 4);
      r.ops.write(rel + 4, hi, 4);
    } else if ((rel & (size - 1)) !== 0) {
      for (let i = 0; i < size; i++) r.ops.write(rel + i, (lo >>> (8 * i)) & 0xff, 1);
    } else {
      r.ops.write(rel, size === 4 ? lo : lo & ((1 << (8 * size)) - 1), size);
    }
    return true;
  }

  /** Invalidate translated code overlapping a RAM write (CPU slow path, DMA, loaders). */
  noteRamWrite(off: number, len: number): void {
    const first = off >>> PAGE_SHIFT;
    const last = (off + len - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      if (this.codePages[p]) {
        const base = p * PAGE_SIZE;
        const start = Math.max(off, base);
        const end = Math.min(off + len, base + PAGE_SIZE);
        if (!this.onCodeWrite(p, start - base, end - start)) this.codePages[p] = 0;
      }
    }
  }

  read(paddr: number, length: number): Uint8Array | null {
    const off = this.ramOffset(paddr, length);
    return off < 0 ? null : this.ram.slice(off, off + length);
  }

  write(paddr: number, bytes: Uint8Array): boolean {
    const off = this.ramOffset(paddr, bytes.length);
    if (off < 0) return false;
    this.noteRamWrite(off, bytes.length);
    this.ram.set(bytes, off);
    return true;
  }

  /** Copy bytes into RAM (loaders, DMA). */
  writeBytes(paddr: number, bytes: Uint8Array): void {
    const off = this.ramOffset(paddr, bytes.length);
    if (off < 0) throw new Error(`write outside RAM at 0x${paddr.toString(16)}`);
    this.noteRamWrite(off, bytes.length);
    this.ram.set(bytes, off);
  }
}
