// Types for tools/guest-images.mjs (plain JS, run directly by Node).
export interface GuestImagesManifest {
  kernelVersion: string;
  packages: Record<string, { version: string }>;
  modules: { name: string; path: string; depends: string[]; sha256: string }[];
  init: { marker: string; prompt: string };
  disk: { size: number; signature: string; endSignature: string };
  files: Record<string, { size: number; sha256: string }>;
}
export interface GuestImages {
  dir: string;
  kernel: string;
  initrd: string;
  disk: string;
  manifestPath: string;
  manifest: GuestImagesManifest;
}
export function ensureGuestImages(o: {
  arch: 'riscv64';
  cacheDir?: string;
  log?: (m: string) => void;
  force?: boolean;
}): Promise<GuestImages>;
export const DISK_SIGNATURE: string;
export const INIT_READY_MARKER: string;
export const SHELL_PROMPT: string;
