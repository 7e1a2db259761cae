/**
 * Raw disk image file on Node: positional I/O (pread/pwrite through fs.promises
 * FileHandle) at the guest's offsets, so an image of any size costs no memory; flush is
 * fdatasync. The image length is fixed when the file is opened (raw images do not
 * grow); a trailing partial sector is kept but the device rounds its capacity down.
 *
 * Opening reports problems the way QEMU's file driver does, as one line:
 *   Could not open 'disk.img': No such file or directory
 * (the CLI adds its own `-drive file=...:` prefix).
 *
 * Not done: host file locking (QEMU takes OFD locks so two VMs cannot share an image
 * read-write), O_DIRECT, block devices (their stat size is 0), hole punching on
 * discard (a discard is accepted and leaves the bytes as they are).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../machine/options.js';
import { describeFsError } from './node-random-access-file.js';
import { type BlockBackend, BlockError, checkAccess } from './backend.js';

export interface RawFileOptions {
  readOnly?: boolean;
}

/** strerror(3) texts for the errors opening an image usually meets. */
/** Open `path` as a raw image. Throws UserError (one line) when it cannot be used. */
export async function openRawFile(path: string, opts: RawFileOptions = {}): Promise<NodeFileBackend> {
  const readOnly = opts.readOnly === true;
  let fh: FileHandle;
  try {
    fh = await open(path, readOnly ? 'r' : 'r+');
  } catch (e) {
    throw new UserError(`Could not open '${path}': ${describeFsError(e)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UserError(`Could not open '${path}': Is a directory`);
    if (!st.isFile()) throw new UserError(`Could not open '${path}': Not a regular file`);
    return new NodeFileBackend(fh, st.size, readOnly);
  } catch (e) {
    await fh.close().catch(() => {});
    if (e instanceof UserError) throw e;
    throw new UserError(`Could not open '${path}': ${describeFsError(e)}`);
  }
}

export class NodeFileBackend implements BlockBackend {
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();

  /** Use openRawFile(); the handle must be open with the access `readOnly` implies. */
  constructor(
    private readonly fh: FileHandle,
    readonly length: number,
    readonly readOnly: boolean,
  ) {}

  read(offset: number, into: Uint8Array): Promise<void> {
    return this.run(offset, into.length, false, async () => {
      let done = 0;
      while (done < into.length) {
        const { bytesRead } = await this.fh.read(into, done, into.length - done, offset + done);
        if (bytesRead === 0) {
          // The file shrank behind our back: read past its end as zeros, as raw files do.
          into.fill(0, done);
          return;
        }
        done += bytesRead;
      }
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.run(offset, data.length, true, async () => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
        if (bytesWritten === 0) throw new BlockError('io', `short write at offset ${offset + done}`);
        done += bytesWritten;
      }
    });
  }

  flush(): Promise<void> {
    if (this.readOnly) return this.run(0, 0, false, async () => {});
    return this.run(0, 0, false, () => this.fh.datasync());
  }

  discard(offset: number, length: number): Promise<void> {
    return this.run(offset, length, true, async () => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await this.fh.close();
  }

  /** Validate, then run `op` tracked for close(); host errors become BlockError('io'). */
  private run(offset: number, length: number, isWrite: boolean, op: () => Promise<void>): Promise<void> {
    try {
      checkAccess(this, offset, length, isWrite, this.closed);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = op().catch((e: unknown) => {
      if (e instanceof BlockError) throw e;
      throw new BlockError('io', describeFsError(e));
    });
    this.inflight.add(p);
    const untrack = (): void => {
      this.inflight.delete(p);
    };
    p.then(untrack, untrack);
    return p;
  }
}
