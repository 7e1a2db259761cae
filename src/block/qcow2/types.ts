/** Public types of the qcow2 driver (re-exported by src/block/qcow2.ts). */

export interface Qcow2CreateOptions {
  /** Virtual size in bytes (rounded up to a multiple of 512, as qemu-img does). */
  size: number;
  /** 512..2 MiB, power of two; default 65536. */
  clusterSize?: number;
  /** '0.10' = version 2, '1.1' = version 3 (default). */
  compat?: '0.10' | '1.1';
  /** Stored as given (relative to the image's directory, as qemu-img does). */
  backingFile?: string;
  /** 'raw' | 'qcow2' (backing file format header extension). */
  backingFormat?: string;
  /** compat 1.1 only. */
  lazyRefcounts?: boolean;
}

export interface Qcow2Info {
  version: 2 | 3;
  clusterSize: number;
  clusterBits: number;
  size: number;
  backingFile: string | null;
  backingFormat: string | null;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountBits: number;
  dirty: boolean;
  corrupt: boolean;
  lazyRefcounts: boolean;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  compressionType: 'zlib';
  /** Names from the feature name table extension, if present. */
  featureNames: { type: 'incompatible' | 'compatible' | 'autoclear'; bit: number; name: string }[];
}

export interface MapExtent {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
  compressed: boolean;
  /** Host offset of the data (standard clusters, preallocated zero clusters, raw backing files), else null. */
  offset: number | null;
  /** 0 = this image, 1 = its backing file, ... as qemu-img map's depth */
  depth: number;
}

/**
 * Result of Qcow2Image.check. After a repair, `corruptions`/`leaks` are what a second
 * check of the repaired image found (as qemu-img's "Double checking the fixed image"),
 * and the `*Fixed` counts say what the repair fixed; `messages` holds the first pass's
 * findings and "Repairing ..." lines, then any the second pass still found.
 */
export interface CheckResult {
  corruptions: number;
  leaks: number;
  checkErrors: number;
  corruptionsFixed: number;
  leaksFixed: number;
  imageEndOffset: number;
  allocatedClusters: number;
  totalClusters: number;
  fragmentedClusters: number;
  compressedClusters: number;
  /** qemu-img-style lines, e.g. "Leaked cluster 5 refcount=1 reference=0", "ERROR cluster 7 refcount=1 reference=2" */
  messages: string[];
}

export type RepairMode = 'none' | 'leaks' | 'all';
