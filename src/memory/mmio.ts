/**
 * The contract between the memory bus and device models.
 *
 * Offsets are relative to the start of the region. The bus only calls a device with
 * sizes 1, 2 or 4 and naturally aligned offsets; wider or misaligned guest accesses
 * are split by the bus (an 8-byte access becomes the low word at offset, then the
 * high word at offset + 4). Reads return the value zero-extended for sizes 1 and 2
 * and as an int32 bit pattern for size 4.
 */
export interface MmioOps {
  read(offset: number, size: number): number;
  write(offset: number, value: number, size: number): void;
}
