/**
 * One block of host memory for guest RAM and the CPU's hot state (registers, budget,
 * soft TLBs), laid out as
 *
 *   [0, STATE_AREA)        state, allocated by `alloc` (the CPU's typed arrays view it)
 *   [STATE_AREA, + ram)    guest RAM
 *
 * When the host has WebAssembly and the size fits a 32-bit memory, the block is a
 * `WebAssembly.Memory`: compiled WebAssembly code then reaches RAM, registers and TLB
 * with plain loads at fixed offsets, and JavaScript sees the same bytes through views.
 * Otherwise it is an ArrayBuffer and only the JavaScript backend can run.
 */
const WASM_PAGE = 65536;
/** Bytes reserved for state ahead of RAM (a multiple of the wasm page size). */
export const STATE_AREA = 4 << 20;
/** V8's limit for a 32-bit WebAssembly memory: 65,536 pages (4 GiB), less a page of slack. */
const WASM_MAX_BYTES = 65535 * WASM_PAGE;

export class Arena {
  readonly buffer: ArrayBuffer;
  /** The memory compiled WebAssembly imports, or null when RAM lives in a plain ArrayBuffer. */
  readonly wasmMemory: WebAssembly.Memory | null;
  /** Byte offset of guest RAM in `buffer`. */
  readonly ramOffset = STATE_AREA;
  private next = 0;

  constructor(readonly ramSize: number) {
    const bytes = STATE_AREA + ramSize;
    let memory: WebAssembly.Memory | null = null;
    if (typeof WebAssembly === 'object' && bytes <= WASM_MAX_BYTES) {
      const pages = Math.ceil(bytes / WASM_PAGE);
      try {
        memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      } catch {
        memory = null; // no room for it in this process: plain memory works too
      }
    }
    this.wasmMemory = memory;
    // The memory never grows, so this buffer (and every view on it) stays attached.
    this.buffer = memory ? memory.buffer : new ArrayBuffer(bytes);
  }

  /** Reserve `bytes` of the state area (8-byte aligned); returns their byte offset. */
  alloc(bytes: number): number {
    const at = this.next;
    const end = at + ((bytes + 7) & ~7);
    if (end > STATE_AREA) throw new Error('Arena: state area exhausted');
    this.next = end;
    return at;
  }

  /** A zeroed Int32Array of `length` words in the state area. */
  int32(length: number): Int32Array {
    return new Int32Array(this.buffer, this.alloc(4 * length), length);
  }
}
