/**
 * Bounded cache of one-cluster metadata tables (L2 tables, refcount blocks), keyed by
 * host offset, least recently used first. Only clean tables are evicted: a dirty table
 * stays until the image's flush writes it, in the order crash safety needs, so the
 * cache may exceed its bound between flushes; the image flushes when `overfull`.
 */
export interface Table {
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  dirty: boolean;
}

export function newTable(offset: number, bytes: Uint8Array): Table {
  return { offset, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), dirty: false };
}

export class TableCache {
  private readonly map = new Map<number, Table>();

  constructor(readonly capacity: number) {}

  get(offset: number): Table | undefined {
    const t = this.map.get(offset);
    if (t) {
      this.map.delete(offset);
      this.map.set(offset, t);
    }
    return t;
  }

  /** Peek without changing recency. */
  has(offset: number): boolean {
    return this.map.has(offset);
  }

  put(t: Table): void {
    this.map.delete(t.offset);
    this.map.set(t.offset, t);
    if (this.map.size > this.capacity) {
      for (const [k, v] of this.map) {
        if (this.map.size <= this.capacity) break;
        if (!v.dirty) this.map.delete(k);
      }
    }
  }

  delete(offset: number): void {
    this.map.delete(offset);
  }

  get overfull(): boolean {
    return this.map.size > this.capacity;
  }

  dirtyTables(): Table[] {
    const out: Table[] = [];
    for (const t of this.map.values()) if (t.dirty) out.push(t);
    out.sort((a, b) => a.offset - b.offset);
    return out;
  }

  clear(): void {
    this.map.clear();
  }
}
