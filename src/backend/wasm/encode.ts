/**
 * A minimal WebAssembly binary encoder (core spec 1.0, chapter 5): LEB128 numbers, vectors,
 * sections and the opcodes our generated modules use. No .wasm files and no tools: the
 * modules are built as bytes at run time and compiled synchronously.
 */

/** Value and block types. */
export const T_I32 = 0x7f;
export const T_I64 = 0x7e;
/** Block type of a block that leaves nothing on the stack. */
export const T_EMPTY = 0x40;

/** The opcodes used by our generated modules. */
export const W = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load8S: 0x2c,
  i32Load8U: 0x2d,
  i32Load16S: 0x2e,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i64Store: 0x37,
  i32Store8: 0x3a,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64LtS: 0x53,
  i64LtU: 0x54,
  i64GtS: 0x55,
  i64GtU: 0x56,
  i64LeS: 0x57,
  i64LeU: 0x58,
  i64GeS: 0x59,
  i64GeU: 0x5a,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64DivS: 0x7f,
  i64DivU: 0x80,
  i64RemS: 0x81,
  i64RemU: 0x82,
  i64And: 0x83,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
  i64ExtendI32S: 0xac,
  i64ExtendI32U: 0xad,
  i32Extend8S: 0xc0,
  i32Extend16S: 0xc1,
} as const;

/** Section ids. */
export const SEC_TYPE = 1;
export const SEC_IMPORT = 2;
export const SEC_FUNCTION = 3;
export const SEC_TABLE = 4;
export const SEC_MEMORY = 5;
export const SEC_EXPORT = 7;
export const SEC_ELEMENT = 9;
export const SEC_CODE = 10;
/** Import/export kinds. */
export const KIND_FUNC = 0x00;
export const KIND_TABLE = 0x01;
export const KIND_MEMORY = 0x02;
/** Reference type of tables of functions. */
export const T_FUNCREF = 0x70;

/** The module header: "\0asm", version 1. */
export const MODULE_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Unsigned LEB128 of a non-negative int32 (section sizes, counts, indices, offsets). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  n >>>= 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of an integer in the safe range (constants of i32.const / i64.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = ((n % 128) + 128) % 128; // low 7 bits, two's complement
    n = (n - b) / 128; // exact: arithmetic shift right by 7
    const signBit = b & 0x40;
    if ((n === 0 && !signBit) || (n === -1 && signBit)) return out.push(b), out;
    out.push(b | 0x80);
  }
}

export const utf8 = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
/** A function type: params -> results. */
export const funcType = (params: number[], results: number[]): number[] => [
  0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results,
];

/**
 * A growable byte buffer for code generated at run time (a region's function body can be
 * tens of kilobytes: building it from small arrays and spreads cost milliseconds).
 */
export class ByteWriter {
  bytes = new Uint8Array(4096);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.length++] = b;
  }

  byte2(a: number, b: number): void {
    this.room(2);
    this.bytes[this.length++] = a;
    this.bytes[this.length++] = b;
  }

  array(a: ArrayLike<number>): void {
    this.room(a.length);
    this.bytes.set(a, this.length);
    this.length += a.length;
  }

  /** Unsigned LEB128 of a non-negative int32. */
  uleb(n: number): void {
    this.room(5);
    n >>>= 0;
    for (;;) {
      const b = n & 0x7f;
      n >>>= 7;
      if (n === 0) {
        this.bytes[this.length++] = b;
        return;
      }
      this.bytes[this.length++] = b | 0x80;
    }
  }

  /** Signed LEB128 of an int32. */
  sleb(v: number): void {
    this.room(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.bytes[this.length++] = b;
        return;
      }
      this.bytes[this.length++] = b | 0x80;
    }
  }

  /** The bytes written so far (a view, not a copy). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
