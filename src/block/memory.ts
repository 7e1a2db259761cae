/**
 * A block backend over a Uint8Array: the browser's disk (an image the user picked or
 * fetched) and the tests' disk. The array is used in place, not copied, so the owner
 * can save the modified image by reading `bytes` after the guest wrote to it.
 *
 * Operations complete asynchronously (on a later microtask), like every backend, so
 * device models see the same ordering behaviour as with a file.
 */
import { type BlockBackend, checkAccess } from './backend.js';

export interface MemoryBackendOptions {
  readOnly?: boolean;
}

export class MemoryBackend implements BlockBackend {
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;
  private closed = false;

  /** `image`: the disk contents (used in place), or a size in bytes for a zeroed disk. */
  constructor(image: Uint8Array | number, opts: MemoryBackendOptions = {}) {
    this.bytes = typeof image === 'number' ? new Uint8Array(image) : image;
    this.readOnly = opts.readOnly === true;
  }

  get length(): number {
    return this.bytes.length;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    checkAccess(this, offset, into.length, false, this.closed);
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkAccess(this, offset, data.length, true, this.closed);
    this.bytes.set(data, offset);
  }

  async flush(): Promise<void> {
    checkAccess(this, 0, 0, false, this.closed);
  }

  /** Zeroes the range, so discarded blocks read back deterministically. */
  async discard(offset: number, length: number): Promise<void> {
    checkAccess(this, offset, length, true, this.closed);
    this.bytes.fill(0, offset, offset + length);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
