/**
 * Guest console output, batched: bytes the guest writes one at a time (UART, SBI, HTIF,
 * debugcon) reach the host sink in chunks of up to 4 KiB, and whenever the board flushes
 * (when it idles, yields to the host or stops). One write per byte would dominate a
 * console-heavy boot.
 */
export class OutputBuffer {
  private readonly bytes: number[] = [];

  constructor(private readonly sink: (bytes: Uint8Array) => void) {}

  push(byte: number): void {
    this.bytes.push(byte);
    if (this.bytes.length >= 4096) this.flush();
  }

  flush(): void {
    if (this.bytes.length === 0) return;
    this.sink(Uint8Array.from(this.bytes));
    this.bytes.length = 0;
  }
}
