/**
 * A random-access file: the storage an image format (qcow2) lives in. Unlike a
 * BlockBackend, a file has no fixed length: it grows when written past its end and can
 * be truncated, and a read may be short at end of file. Node files come from
 * `openFile` in node-random-access-file.ts; MemoryFile serves tests and the browser.
 */

export interface RandomAccessFile {
  /** What the user called it (used in error messages). */
  readonly name: string;
  readonly readOnly: boolean;
  /** Current size in bytes. */
  size(): Promise<number>;
  /** Read up to `into.length` bytes at `pos`; returns the count read (short only at end of file). */
  read(pos: number, into: Uint8Array): Promise<number>;
  /** Write all of `data` at `pos`, extending the file (with zeros in any gap) as needed. */
  write(pos: number, data: Uint8Array): Promise<void>;
  /** Set the size: cut the tail, or extend with zeros. */
  truncate(size: number): Promise<void>;
  /** Make completed writes durable (fdatasync on a host file). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A growable in-memory file. `bytes()` returns the current contents (a view, not a copy). */
export class MemoryFile implements RandomAccessFile {
  private buf: Uint8Array;
  private len: number;
  private closed = false;
  /** Number of sync() calls (tests use it to check ordering points). */
  syncCount = 0;

  constructor(
    initial: Uint8Array | null = null,
    readonly name = 'memory',
    readonly readOnly = false,
  ) {
    this.buf = initial ? initial.slice() : new Uint8Array(0);
    this.len = this.buf.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A new, open MemoryFile with a copy of the contents (to open an image again after close). */
  reopen(readOnly = this.readOnly): MemoryFile {
    return new MemoryFile(this.bytes(), this.name, readOnly);
  }

  private check(write: boolean): void {
    if (this.closed) throw new Error(`${this.name}: file is closed`);
    if (write && this.readOnly) throw new Error(`${this.name}: file is read-only`);
  }

  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return;
    let cap = Math.max(4096, this.buf.length);
    while (cap < n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  async size(): Promise<number> {
    this.check(false);
    return this.len;
  }

  async read(pos: number, into: Uint8Array): Promise<number> {
    this.check(false);
    if (!Number.isSafeInteger(pos) || pos < 0) throw new RangeError(`bad file position ${pos}`);
    if (pos >= this.len) return 0;
    const n = Math.min(into.length, this.len - pos);
    into.set(this.buf.subarray(pos, pos + n));
    return n;
  }

  async write(pos: number, data: Uint8Array): Promise<void> {
    this.check(true);
    if (!Number.isSafeInteger(pos) || pos < 0) throw new RangeError(`bad file position ${pos}`);
    const end = pos + data.length;
    this.ensureCapacity(end);
    if (pos > this.len) this.buf.fill(0, this.len, pos);
    this.buf.set(data, pos);
    if (end > this.len) this.len = end;
  }

  async truncate(size: number): Promise<void> {
    this.check(true);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad file size ${size}`);
    this.ensureCapacity(size);
    if (size > this.len) this.buf.fill(0, this.len, size);
    this.len = size;
  }

  async sync(): Promise<void> {
    this.check(false);
    this.syncCount++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
