/**
 * The engine's jump cache, continued inside WebAssembly.
 *
 * Half of a Linux boot's ~40 M block transitions are indirect jumps (returns, calls
 * through pointers): each returned to the engine's JavaScript loop, which looked the
 * target up in its jump cache and called it, paying V8's JS-to-wasm entry each time.
 * Here the compiled regions sit in one function table, and a small dispatcher function
 * calls them in a loop: when a region exits with `ExitCode.Lookup` and the engine's jump
 * cache holds a compiled region for the new pc, the dispatcher enters it directly, doing
 * what the engine's loop would do (charge the budget first, stop when it runs out or an
 * interrupt check is due, match pc and translation flags). Anything else returns to the
 * engine, with the index of the region that produced the exit code in `current[0]`.
 *
 * The engine mirrors its jump cache into `set`/`clear` (the same geometry, in memory the
 * dispatcher reads); an entry holds only regions compiled to WebAssembly. Chained exits
 * (goto_tb, per region member and slot) are followed the same way through links the
 * engine mirrors with `link` once it has chained them itself; a region whose code was
 * invalidated is marked so (`invalidate`) and never entered from here again.
 */
import { ExitCode } from '../runtime.js';
import {
  KIND_FUNC, KIND_MEMORY, KIND_TABLE, MODULE_HEADER, SEC_CODE, SEC_EXPORT, SEC_FUNCTION, SEC_IMPORT, SEC_TYPE,
  ByteWriter, T_EMPTY, T_FUNCREF, T_I32, W, funcType, section, uleb, utf8, vec,
} from './encode.js';

export interface DispatchConfig {
  memory: WebAssembly.Memory;
  /** Allocates zeroed int32 words in `memory`. */
  words: (n: number) => Int32Array;
  /** The state words of the pc's low and high halves, the budget, and [flags, interruptCheckNeeded]. */
  pc: Int32Array;
  budget: Int32Array;
  dispatchWords: Int32Array;
  /** Jump cache geometry: index = (vpage & (2^pageBits - 1)) << addrBits | ((pc >>> 1) & (2^addrBits - 1)). */
  pageBits: number;
  addrBits: number;
}

/** Flags no block has: an empty jump-cache entry. */
const NO_FLAGS = -1;
/** Regions the table can hold, and chain-link slots (two per region member) in all. */
const MAX_REGIONS = 1 << 16;
const MAX_LINKS = 1 << 17;
/** Link slots [0, NO_LINKS) stay empty: regions compiled after the slots ran out use them. */
const NO_LINKS = 1024;

export class WasmDispatch {
  /** Compiled regions, by index. */
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 64 });
  /** Runs region `index` and what the jump cache lets follow it; returns the last exit code. */
  readonly dispatch: (index: number) => number;
  /** [0]: the index of the region whose exit code dispatch returned. */
  readonly current: Int32Array;
  private readonly pcLo: Int32Array;
  private readonly pcHi: Int32Array;
  private readonly flags: Int32Array;
  private readonly fn: Int32Array;
  private readonly count: Int32Array;
  /** Per region: valid (1/0) and the first of its link slots. */
  private readonly valid: Int32Array;
  private readonly linkBase: Int32Array;
  /** Per link slot: the target region (-1: none), its instruction count and flags. */
  private readonly linkFn: Int32Array;
  private readonly linkCount: Int32Array;
  private readonly linkFlags: Int32Array;
  private used = 0;
  private linksUsed = NO_LINKS;

  constructor(cfg: DispatchConfig) {
    const size = 1 << (cfg.pageBits + cfg.addrBits);
    this.current = cfg.words(1);
    this.pcLo = cfg.words(size);
    this.pcHi = cfg.words(size);
    this.flags = cfg.words(size).fill(NO_FLAGS);
    this.fn = cfg.words(size);
    this.count = cfg.words(size);
    this.valid = cfg.words(MAX_REGIONS);
    this.linkBase = cfg.words(MAX_REGIONS);
    this.linkFn = cfg.words(MAX_LINKS).fill(-1);
    this.linkCount = cfg.words(MAX_LINKS);
    this.linkFlags = cfg.words(MAX_LINKS);
    const bytes = this.encode(cfg);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      m: { mem: cfg.memory, regions: this.table },
    });
    this.dispatch = instance.exports.dispatch as (index: number) => number;
  }

  /**
   * Put a region's function in the table, with `members` blocks (two link slots each);
   * returns its index, or -1 when the table is full (the engine then calls it itself).
   */
  add(run: () => number, members: number): number {
    if (this.used === MAX_REGIONS) return -1;
    if (this.used === this.table.length) this.table.grow(this.table.length);
    const index = this.used++;
    this.table.set(index, run);
    this.valid[index] = 1;
    if (this.linksUsed + 2 * members <= MAX_LINKS && 2 * members <= NO_LINKS) {
      this.linkBase[index] = this.linksUsed;
      this.linksUsed += 2 * members;
    } else {
      this.linkBase[index] = 0; // never linked
    }
    return index;
  }

  /** Region `index`'s code is gone: never enter it from here again. */
  invalidate(index: number): void {
    this.valid[index] = 0;
  }

  /**
   * The engine chained link `slot` of region `from` (for Chain0/1 the exit code, for a
   * region member's exit code - RegionChainBase) to region `to`, entered with `insnCount`
   * under `flags`.
   */
  link(from: number, slot: number, to: number, flags: number, insnCount: number): void {
    const base = this.linkBase[from];
    if (base === 0) return;
    const e = base + slot;
    this.linkFn[e] = to;
    this.linkCount[e] = insnCount;
    this.linkFlags[e] = flags;
  }

  /** Jump-cache entry `j` now holds the block at (lo, hi) with `flags`, compiled as region `index` (or -1). */
  set(j: number, lo: number, hi: number, flags: number, index: number, insnCount: number): void {
    if (index < 0) {
      this.flags[j] = NO_FLAGS;
      return;
    }
    this.pcLo[j] = lo;
    this.pcHi[j] = hi;
    this.flags[j] = flags;
    this.fn[j] = index;
    this.count[j] = insnCount;
  }

  clear(j: number): void {
    this.flags[j] = NO_FLAGS;
  }

  clearAll(): void {
    this.flags.fill(NO_FLAGS);
  }

  private encode(cfg: DispatchConfig): Uint8Array<ArrayBuffer> {
    const at = (a: Int32Array, i = 0) => a.byteOffset + 4 * i;
    const pageMask = (1 << cfg.pageBits) - 1, addrMask = (1 << cfg.addrBits) - 1;
    const F = 0, RC = 1, J = 2, LO = 3, T = 4; // param fn, then locals
    const w = new ByteWriter();
    const i32 = (v: number) => {
      w.byte(W.i32Const);
      w.sleb(v);
    };
    const load = (offset: number) => {
      w.byte2(W.i32Load, 2);
      w.uleb(offset);
    };
    const word = (offset: number) => {
      i32(0);
      load(offset);
    };
    const get = (l: number) => w.byte2(W.localGet, l);
    const set = (l: number) => w.byte2(W.localSet, l);
    /** Leave the `stop` block (depth 0) when the value on the stack is non-zero. */
    const stopIf = () => w.byte2(W.brIf, 0);
    /** budget -= <count>, as the engine charges a block before it runs. */
    const charge = (count: () => void) => {
      i32(0);
      word(at(cfg.budget));
      count();
      w.byte(W.i32Sub);
      w.byte2(W.i32Store, 2);
      w.uleb(at(cfg.budget));
    };
    /** Word at byte offset J of array `a` (a jump-cache entry or a link slot). */
    const entry = (a: Int32Array) => {
      get(J);
      load(a.byteOffset);
    };

    w.byte2(W.loop, T_EMPTY); // next
    get(F);
    w.byte(W.callIndirect);
    w.uleb(0); // type 0: () -> i32
    w.byte(0); // table 0
    set(RC);
    w.byte2(W.block, T_EMPTY); // stop
    // The engine's loop condition: budget left and no interrupt check due.
    word(at(cfg.budget));
    i32(0);
    w.byte(W.i32LeS);
    stopIf();
    word(at(cfg.dispatchWords, 1));
    stopIf();
    w.byte2(W.block, T_EMPTY); // chain: the exit is not an indirect jump
    get(RC);
    i32(ExitCode.Lookup);
    w.byte(W.i32Ne);
    w.byte2(W.brIf, 0);
    // j = the jump-cache index of the new pc, as a byte offset.
    word(at(cfg.pc));
    set(LO);
    get(LO);
    i32(12);
    w.byte(W.i32ShrU);
    i32(pageMask);
    w.byte(W.i32And);
    i32(cfg.addrBits);
    w.byte(W.i32Shl);
    get(LO);
    i32(1);
    w.byte(W.i32ShrU);
    i32(addrMask);
    w.byte2(W.i32And, W.i32Or);
    i32(2);
    w.byte(W.i32Shl);
    set(J);
    // The entry must hold this pc (both halves) under the current flags.
    entry(this.pcLo);
    get(LO);
    w.byte(W.i32Ne);
    w.byte2(W.brIf, 1); // stop
    entry(this.pcHi);
    word(at(cfg.pc, 1));
    w.byte(W.i32Ne);
    w.byte2(W.brIf, 1);
    entry(this.flags);
    word(at(cfg.dispatchWords, 0));
    w.byte(W.i32Ne);
    w.byte2(W.brIf, 1);
    // Enter it: charge its instructions first, as the engine does.
    entry(this.fn);
    set(F);
    charge(() => entry(this.count));
    w.byte2(W.br, 2); // next
    w.byte(W.end); // chain
    // A chained exit: its link slot is the exit code (Chain0/1) or code - RegionChainBase.
    get(RC);
    get(RC);
    i32(ExitCode.RegionChainBase);
    w.byte(W.i32Sub);
    get(RC);
    i32(2);
    w.byte2(W.i32LtU, W.select);
    set(J);
    get(J);
    i32(NO_LINKS);
    w.byte(W.i32GeU); // not a chainable exit (or an exception)
    stopIf();
    get(F);
    i32(2);
    w.byte(W.i32Shl);
    load(this.linkBase.byteOffset);
    get(J);
    w.byte(W.i32Add);
    i32(2);
    w.byte(W.i32Shl);
    set(J); // byte offset of the link slot
    entry(this.linkFn);
    set(T);
    get(T);
    i32(0);
    w.byte(W.i32LtS);
    stopIf();
    get(T);
    i32(2);
    w.byte(W.i32Shl);
    load(this.valid.byteOffset);
    w.byte(W.i32Eqz);
    stopIf();
    entry(this.linkFlags);
    word(at(cfg.dispatchWords, 0));
    w.byte(W.i32Ne);
    stopIf();
    get(T);
    set(F);
    charge(() => entry(this.linkCount));
    w.byte2(W.br, 1); // next
    w.byte(W.end); // stop
    i32(0);
    get(F);
    w.byte2(W.i32Store, 2);
    w.uleb(at(this.current));
    get(RC);
    w.byte(W.return);
    w.byte(W.end); // next
    w.byte(W.unreachable);
    w.byte(W.end); // function

    const locals = vec([[4, T_I32]]);
    const body = [...locals, ...w.view()];
    const memPages = cfg.memory.buffer.byteLength / 65536;
    return new Uint8Array([
      ...MODULE_HEADER,
      ...section(SEC_TYPE, vec([funcType([], [T_I32]), funcType([T_I32], [T_I32])])),
      ...section(SEC_IMPORT, vec([
        [...utf8('m'), ...utf8('mem'), KIND_MEMORY, 0x00, ...uleb(memPages)],
        [...utf8('m'), ...utf8('regions'), KIND_TABLE, T_FUNCREF, 0x00, 0],
      ])),
      ...section(SEC_FUNCTION, vec([[1]])),
      ...section(SEC_EXPORT, vec([[...utf8('dispatch'), KIND_FUNC, 0]])),
      ...section(SEC_CODE, vec([[...uleb(body.length), ...body]])),
    ]);
  }
}
