/**
 * RandomAccessFile over a Node file (fs.promises FileHandle, positional I/O). Open
 * failures are one-line UserErrors in QEMU's words:
 *   Could not open 'disk.qcow2': No such file or directory
 */
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../machine/options.js';
import type { RandomAccessFile } from './file.js';

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ETXTBSY: 'Text file busy',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
};

/** An fs error in the C library's words ("No such file or directory"), as QEMU prints them. */
export function describeFsError(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  if (typeof err.code === 'string') return STRERROR[err.code] ?? err.code;
  return typeof err.message === 'string' ? err.message : String(e);
}

export interface OpenFileOptions {
  readOnly: boolean;
  /** Create the file if missing and truncate it to 0 bytes (implies read-write). */
  create?: boolean;
}

/** Open `path`; throws UserError (one line) when it cannot be opened as a regular file. */
export async function openFile(path: string, opts: OpenFileOptions): Promise<RandomAccessFile> {
  const create = opts.create === true;
  const readOnly = opts.readOnly && !create;
  let fh: FileHandle;
  try {
    fh = await open(path, create ? 'w+' : readOnly ? 'r' : 'r+');
  } catch (e) {
    throw new UserError(`Could not open '${path}': ${describeFsError(e)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UserError(`Could not open '${path}': Is a directory`);
    if (!st.isFile()) throw new UserError(`Could not open '${path}': Not a regular file`);
  } catch (e) {
    await fh.close().catch(() => {});
    if (e instanceof UserError) throw e;
    throw new UserError(`Could not open '${path}': ${describeFsError(e)}`);
  }
  return new NodeRandomAccessFile(fh, path, readOnly);
}

class NodeRandomAccessFile implements RandomAccessFile {
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly readOnly: boolean,
  ) {}

  private check(write: boolean): void {
    if (this.closed) throw new Error(`${this.name}: file is closed`);
    if (write && this.readOnly) throw new Error(`${this.name}: file is read-only`);
  }

  async size(): Promise<number> {
    this.check(false);
    return (await this.fh.stat()).size;
  }

  async read(pos: number, into: Uint8Array): Promise<number> {
    this.check(false);
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.fh.read(into, done, into.length - done, pos + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async write(pos: number, data: Uint8Array): Promise<void> {
    this.check(true);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, pos + done);
      if (bytesWritten === 0) throw new Error(`${this.name}: short write at offset ${pos + done}`);
      done += bytesWritten;
    }
  }

  async truncate(size: number): Promise<void> {
    this.check(true);
    await this.fh.truncate(size);
  }

  async sync(): Promise<void> {
    this.check(false);
    if (!this.readOnly) await this.fh.datasync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
