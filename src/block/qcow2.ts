/**
 * qcow2 image format (QEMU docs/interop/qcow2.txt, versions 2 and 3): create, inspect,
 * open as a BlockBackend, check and repair. The implementation lives in ./qcow2/:
 *   format.ts  header, extensions, entry layouts, validation of hostile images
 *   image.ts   Qcow2Image (mapping, allocation, COW, zero/compressed clusters, crash-safe flush)
 *   check.ts   qemu-img check equivalent, with repair
 *   create.ts  createQcow2
 *   inflate.ts raw DEFLATE decoder for compressed clusters
 */
import type { RandomAccessFile } from './file.js';
import * as F from './qcow2/format.js';
import type { Qcow2Info } from './qcow2/types.js';

export type { Qcow2CreateOptions, Qcow2Info, MapExtent, CheckResult, RepairMode } from './qcow2/types.js';
export { createQcow2 } from './qcow2/create.js';
export { Qcow2Image, type Qcow2OpenOptions } from './qcow2/image.js';

/** True when `firstBytes` starts with the qcow2 magic "QFI\xfb". */
export function probeQcow2(firstBytes: Uint8Array): boolean {
  return (
    firstBytes.length >= 4 &&
    firstBytes[0] === 0x51 &&
    firstBytes[1] === 0x46 &&
    firstBytes[2] === 0x49 &&
    firstBytes[3] === 0xfb
  );
}

/** Read just the header (for `info` and for opening backing chains before opening the image). Throws UserError on a bad header. */
export async function readQcow2Info(file: RandomAccessFile): Promise<Qcow2Info> {
  const { header } = await F.readHeader(file);
  return F.headerInfo(header);
}
