/**
 * The block backend contract: a fixed-length array of bytes with asynchronous,
 * positional I/O. Device models (virtio-blk, later others) and image formats (raw
 * files, qcow2, overlays) meet here; nothing above this interface knows where the
 * bytes live (a Node file, browser memory, a remote object).
 *
 * Invariants every implementation keeps:
 * - `length` never changes while the backend is open (raw images do not grow; a
 *   resize would be an explicit, separate operation).
 * - An access must lie entirely inside [0, length): otherwise the returned promise
 *   rejects with a BlockError of kind 'range' and nothing is transferred.
 * - `write` and `discard` on a read-only backend reject with kind 'readonly'.
 * - `read` fills all of `into` or rejects; callers never see a short transfer.
 * - Concurrent operations are allowed; their relative order is unspecified, so a
 *   caller that needs ordering (overlapping writes, write-then-flush) awaits first.
 * - `flush` makes every write that completed before the call durable.
 * - `discard` tells the backend a range is no longer needed; its contents afterwards
 *   are unspecified (a backend may zero it, deallocate it, or keep it).
 * - After `close`, every operation rejects with kind 'closed'.
 */

export interface BlockBackend {
  /** Size in bytes. */
  readonly length: number;
  readonly readOnly: boolean;
  /** Fill `into` with the bytes at [offset, offset + into.length). */
  read(offset: number, into: Uint8Array): Promise<void>;
  /** Store `data` at [offset, offset + data.length). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Make completed writes durable. */
  flush(): Promise<void>;
  /** The range [offset, offset + length) is unused; its contents become unspecified. */
  discard(offset: number, length: number): Promise<void>;
  /** Wait for outstanding operations and release the backend. */
  close(): Promise<void>;
}

export type BlockErrorKind = 'range' | 'readonly' | 'closed' | 'io';

/** An I/O failure reported by a backend (the device turns it into a guest-visible error). */
export class BlockError extends Error {
  override name = 'BlockError';
  constructor(
    readonly kind: BlockErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Throws the BlockError an access of `length` bytes at `offset` deserves, if any.
 * Shared by the backends so they report identical errors.
 */
export function checkAccess(
  backend: { readonly length: number; readonly readOnly: boolean },
  offset: number,
  length: number,
  isWrite: boolean,
  closed: boolean,
): void {
  if (closed) throw new BlockError('closed', 'block backend is closed');
  if (isWrite && backend.readOnly) throw new BlockError('readonly', 'block backend is read-only');
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > backend.length
  ) {
    throw new BlockError(
      'range',
      `access of ${length} bytes at offset ${offset} is outside the ${backend.length}-byte image`,
    );
  }
}
