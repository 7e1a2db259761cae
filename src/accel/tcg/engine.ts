/**
 * The TCG execution engine (cpu-exec + tb-maint): finds or translates the block for the
 * current pc, runs it, follows its exit code, and keeps the block cache consistent with
 * guest memory.
 *
 * - Blocks are keyed by (physical pc, translation flags). A direct-mapped jump cache on
 *   the virtual pc avoids the map lookup; chained exits (goto_tb) remember their
 *   successor block so the common path is one property read.
 * - Each block is registered on the RAM pages it covers. Those pages lose write access
 *   in the soft TLB, so any store to them (or DMA) reaches the slow path, which tells
 *   the engine; a write that overlaps a block's code drops the page's blocks.
 * - Blocks start in tier 0 (bytecode interpreter). A block that gets hot is compiled
 *   together with its warm neighbours on the same page: a region, one function with an
 *   internal dispatcher, so loops spanning several blocks run without returning here.
 *   Region exits chain per member and slot.
 * - Regions are WebAssembly modules where the CPU's memory is a WebAssembly.Memory
 *   (backend/wasm), JavaScript functions otherwise. WebAssembly regions run under a
 *   small dispatcher (backend/wasm/dispatch.ts) that follows chained exits and
 *   jump-cache hits from one region to the next without coming back here; the engine
 *   mirrors its links and jump cache into memory for it.
 * - The IR interpreter (`mode: 'interp'`) is the reference the others are tested against.
 * - The guest CPU is reached only through TcgTarget (target.ts): the engine runs any
 *   architecture's blocks.
 */
import { generateRegion, compileJs, RegionBlock } from '../../backend/js/codegen.js';
import { generateWasmRegion, instantiateWasm } from '../../backend/wasm/codegen.js';
import { WasmDispatch } from '../../backend/wasm/dispatch.js';
import { interpretBlock, PreparedBlock } from '../../backend/interp/interp.js';
import { BytecodeBlock, BytecodeInterpreter, encodeBlock } from '../../backend/interp/bytecode.js';
import { ExitCode, PAGE_SIZE } from '../../backend/runtime.js';
import { lowerI64 } from '../../ir/lower.js';
import { optimize } from '../../ir/optimize.js';
import { printOps } from '../../ir/printer.js';
import type { Op } from '../../ir/ir.js';
import type { LogOptions } from '../../machine/options.js';
import type { TcgTarget } from './target.js';

/**
 * 'jit' (default): blocks start in the tier-0 bytecode interpreter and are compiled (to
 * WebAssembly or JavaScript, see Backend), in regions, once hot. 'jit-eager': the same
 * with hair-trigger thresholds (compile after 2 runs, with every neighbour that ran
 * once): for tests, so that regions form everywhere. 'tier0': never compile. 'compile':
 * compile every block at once, alone. 'interp': the IR reference interpreter (bigint
 * i64; slow, for differential tests).
 */
export type ExecMode = 'jit' | 'jit-eager' | 'tier0' | 'compile' | 'interp';

/**
 * Runs of a block in tier 0 before it is compiled. High on purpose, for both backends.
 * JavaScript: V8 runs fresh generated code in its own interpreter, slower than our tier
 * 0, until it has seen enough of it to optimize it; a Linux boot (2 G instructions) was
 * fastest with this threshold (36 s to the prompt, against 54 s with 256 and 99 s with
 * 64). WebAssembly: compiling a region (translating its blocks again, generating and
 * instantiating the module) costs about as much as a block's first thousand tier-0 runs;
 * 256, 512, 2048 and 4096 were no faster on the boot (medians of 3).
 */
export const COMPILE_THRESHOLD = 1024;
/**
 * Region formation per backend: a block that ran `warm` times joins a region compiled
 * for a hot neighbour, up to `maxInsns` guest instructions per region. JavaScript wants
 * small regions: TurboFan's compile time and V8's tier-up delay grow with function size
 * (the boot was fastest at 64/64). WebAssembly compiles at once without feedback, and
 * larger regions mean fewer returns to the engine: 8/256 took 22.2 s against 23.9 s
 * for 64/64 (medians of 3, same run). Once members stopped costing a store and reload
 * of their registers each, 32/256 beat 8/256 (15.6 s against 16.9 s, less compiling);
 * 128/256 measured the same as 32/256, 8/512 and 32/128 slower.
 */
const REGIONS = { js: { warm: 64, maxInsns: 64 }, wasm: { warm: 32, maxInsns: 256 } } as const;
/** A RAM page whose code was overwritten this often is never compiled again. */
const PAGE_REWRITE_LIMIT = 32;
const NEVER = 0x7fffffff;

/**
 * Debug check (QEMU_TS_CHECK_FLAGS=1; the test suite sets it): at every block lookup,
 * the CPU's cached translation flags, and the copy the WebAssembly dispatcher reads,
 * must equal flags computed afresh from the CPU state. Stale flags select blocks
 * translated for another mode, or an MMU index whose soft TLB is never filled.
 */
const CHECK_FLAGS = typeof process !== 'undefined' && process.env?.QEMU_TS_CHECK_FLAGS === '1';

export class TranslatedBlock {
  /** Successor for chained exits 0 and 1 (validated on use). */
  next0: TranslatedBlock | null = null;
  next1: TranslatedBlock | null = null;
  valid = true;
  constructor(
    readonly pcLo: number,
    readonly pcHi: number,
    readonly pc: bigint,
    readonly flags: number,
    readonly key: number,
    readonly insnCount: number,
    readonly insnPcs: bigint[],
    readonly pages: number[],
    /** The RAM offsets its code occupies: [start, end) pairs, one per page. */
    readonly ramRanges: number[],
    /**
     * Runs the block once it is compiled, or in the IR interpreter (mode 'interp'). A
     * block with bytecode is run by the engine loop, which compiles it when it is hot.
     */
    public run: () => number,
    /** Tier-0 form while the block is interpreted (null once compiled, or never encoded). */
    public bytecode: BytecodeBlock | null,
  ) {
    this.exceptionPcs = insnPcs;
  }
  /**
   * Exception exit `ExitCode.ExceptionBase + i` faulted at `exceptionPcs[i]`, and the
   * slice is owed `exceptionRefunds[i]` instructions that did not run (null: the block's
   * own numbering, insnCount - i). A block compiled into a region takes the region's
   * tables, since the faulting instruction may be in another member.
   */
  exceptionPcs: bigint[];
  exceptionRefunds: number[] | null = null;
  /** For a member of a region: successors of the region's chainable exits (shared). */
  regionLinks: (TranslatedBlock | null)[] | null = null;
  /** The index of its compiled region in the WebAssembly dispatcher's table, or -1. */
  wasmIndex = -1;
}

/** Why `run` returned. */
export const enum StopReason {
  /** The instruction budget ran out (or an exit was requested). */
  Budget = 0,
  /** The CPU is waiting for an interrupt and no timer is due. */
  Halted = 1,
}

/**
 * Jump cache geometry (like QEMU's tb_jmp_cache): the index is 6 bits of the virtual
 * page number above 8 bits of the halfword offset in the page, so one page's blocks sit
 * in one run of 256 entries and forgetting a page (sfence.vma with an address) touches
 * only those. With 6 offset bits (QEMU's choice), blocks 128 bytes apart collided: 27 %
 * of a boot's lookups missed, against 11 % now.
 */
const JUMP_CACHE_PAGE_BITS = 6;
const JUMP_CACHE_ADDR_BITS = 8;
const JUMP_CACHE_SIZE = 1 << (JUMP_CACHE_PAGE_BITS + JUMP_CACHE_ADDR_BITS);
function jumpCacheIndex(lo: number): number {
  return (((lo >>> 12) & ((1 << JUMP_CACHE_PAGE_BITS) - 1)) << JUMP_CACHE_ADDR_BITS) | ((lo >>> 1) & ((1 << JUMP_CACHE_ADDR_BITS) - 1));
}

/**
 * 'wasm' (default where the CPU's memory is a WebAssembly.Memory): compiled regions are
 * WebAssembly modules. 'js': JavaScript functions.
 */
export type Backend = 'js' | 'wasm';

export interface EngineOptions {
  mode?: ExecMode;
  backend?: Backend;
  log?: LogOptions;
  logSink?: (text: string) => void;
}

export class TcgEngine {
  readonly mode: ExecMode;
  private readonly regionWarm: number;
  private readonly regionMaxInsns: number;
  private readonly cache = new Map<number, TranslatedBlock>();
  private readonly jumpCache = new Array<TranslatedBlock | null>(JUMP_CACHE_SIZE).fill(null);
  private readonly pageBlocks = new Map<number, TranslatedBlock[]>();
  /** Times each RAM page's code was overwritten (see PAGE_REWRITE_LIMIT). */
  private readonly pageRewrites = new Map<number, number>();
  /** Instructions retired before the current slice. */
  private instretBase = 0;
  /** The current slice's budget as given; retired = sliceBudget - budget[0]. */
  private sliceBudget = 0;
  halted = false;
  blocksTranslated = 0;
  /** Functions compiled (a region counts once), and their size (wasm bytes or JS source). */
  blocksCompiled = 0;
  compiledBytes = 0;
  /** 1 once the WebAssembly backend failed on a region (later regions are JavaScript). */
  wasmFailures = 0;
  /** What compiled regions become (see Backend). */
  readonly backend: Backend;
  /** With the WebAssembly backend: runs regions, following chained exits and indirect jumps between them. */
  private readonly wasm: WasmDispatch | null = null;
  /** A member of each region in the dispatcher's table, by index (exits are handled for it). */
  private readonly wasmBlocks: TranslatedBlock[] = [];
  /** Blocks compiled as members of regions of more than one block. */
  regionMembers = 0;
  /** Blocks run from the engine loop (not counting those the WebAssembly dispatcher followed). */
  blocksEntered = 0;
  private readonly tier0: BytecodeInterpreter;
  private readonly log: LogOptions | undefined;
  private readonly logSink: (text: string) => void;
  /** The state slot of the pc's low word (the target's layout). */
  private readonly pcSlot: number;

  constructor(
    private readonly cpu: TcgTarget,
    options: EngineOptions = {},
  ) {
    this.pcSlot = cpu.layout.pc;
    this.mode = options.mode ?? 'jit';
    this.backend = options.backend ?? (cpu.wasmMemory ? 'wasm' : 'js');
    if (this.backend === 'wasm' && !cpu.wasmMemory) throw new Error('the WebAssembly backend needs RAM in a WebAssembly memory');
    this.regionWarm = this.mode === 'jit' ? REGIONS[this.backend].warm : 1;
    this.regionMaxInsns = this.mode === 'jit' ? REGIONS[this.backend].maxInsns : 256;
    this.log = options.log;
    this.logSink = options.logSink ?? (() => {});
    cpu.bus.onCodeWrite = (page, offset, length) => this.invalidateRange(page, offset, length);
    this.tier0 = new BytecodeInterpreter(cpu, cpu.values);
    if (this.backend === 'wasm') {
      const arena = cpu.bus.arena;
      this.wasm = new WasmDispatch({
        memory: cpu.wasmMemory!,
        words: (n) => arena.int32(n),
        pc: cpu.state.subarray(this.pcSlot, this.pcSlot + 2),
        budget: cpu.budget,
        dispatchWords: cpu.dispatchWords,
        pageBits: JUMP_CACHE_PAGE_BITS,
        addrBits: JUMP_CACHE_ADDR_BITS,
      });
    }
  }

  /** Virtual-to-physical mappings changed: the jump cache is keyed by virtual pc. */
  tlbFlushed(): void {
    this.jumpCache.fill(null);
    this.wasm?.clearAll();
  }

  /** One virtual page's mapping changed: forget jump-cache entries on that page. */
  tlbFlushedPage(lo: number, hi: number): void {
    const page = lo >>> 12;
    const jc = this.jumpCache;
    const first = jumpCacheIndex(lo & -PAGE_SIZE);
    for (let i = first; i < first + (1 << JUMP_CACHE_ADDR_BITS); i++) {
      const tb = jc[i];
      if (tb !== null && tb.pcLo >>> 12 === page && tb.pcHi === hi) {
        jc[i] = null;
        this.wasm?.clear(i);
      }
    }
  }

  /** Instructions retired so far (a block counts in full unless it faults part-way). */
  get instret(): number {
    return this.instretBase + (this.sliceBudget - this.cpu.budget[0]);
  }

  /** Stop at the next block boundary (or loop back-edge), keeping the count exact. */
  requestExit(): void {
    const budget = this.cpu.budget;
    this.sliceBudget -= budget[0];
    budget[0] = 0;
  }

  /** Run up to about `maxInsns` guest instructions (a block is never split). */
  run(maxInsns: number): StopReason {
    const cpu = this.cpu;
    this.instretBase = this.instret;
    this.sliceBudget = maxInsns;
    cpu.budget[0] = maxInsns;
    cpu.enterRun();
    try {
      return this.runBlocks();
    } finally {
      cpu.leaveRun();
    }
  }

  /**
   * The dispatch loop, apart from run()'s try/finally: V8 optimizes this loop on stack
   * (OSR) during its first call, before the finally clause ever ran, and such code would
   * deoptimize at every return for lack of type feedback there.
   */
  private runBlocks(): StopReason {
    const cpu = this.cpu;
    const state = cpu.state;
    const budget = cpu.budget;
    const pcSlot = this.pcSlot;
    if (this.halted) {
      if (!cpu.interruptPending()) return StopReason.Halted;
      this.halted = false;
    }
    let tb: TranslatedBlock | null = null;
    /** Exceptions taken in this slice (a faulting instruction retires nothing: see below). */
    let faults = 0;
    while (budget[0] > 0) {
      if (cpu.interruptCheckNeeded && cpu.deliverInterrupt()) tb = null;
      const flags = cpu.tbFlags();
      const lo = state[pcSlot];
      const hi = state[pcSlot + 1];
      if (tb === null || tb.pcLo !== lo || tb.pcHi !== hi || tb.flags !== flags || !tb.valid) {
        tb = this.findBlock(lo, hi, flags);
        if (tb === null) {
          // A fetch fault, taken: continue at the handler. A guest whose handlers fault
          // again at once retires nothing; stop the slice anyway so the host stays in charge.
          if (++faults > this.sliceBudget) return StopReason.Budget;
          continue;
        }
      }
      budget[0] -= tb.insnCount;
      this.blocksEntered++;
      let exit: number;
      const code = tb.bytecode;
      if (code !== null && (code.heat < code.hotAt || !this.compileHot(tb))) {
        // A tier-0 block (not hot, or not compilable), called here rather than through a
        // runner closure per block: the closure and its context were two more cache
        // misses per block (most of this loop's time). A block compiled just now falls
        // through to its compiled code.
        exit = this.tier0.run(code);
      } else if (tb.wasmIndex < 0) exit = tb.run();
      else {
        // The dispatcher may have followed indirect jumps into other regions: the exit
        // code is the last one's.
        const wasm = this.wasm!;
        exit = wasm.dispatch(tb.wasmIndex);
        const last = wasm.current[0];
        if (last !== tb.wasmIndex) tb = this.wasmBlocks[last];
      }
      let next: TranslatedBlock | null = null;
      switch (exit) {
        case ExitCode.Chain0:
          next = tb.next0;
          if (next === null || !next.valid) next = this.lookupForChain(tb, 0);
          if (next !== null && next === tb.next0 && tb.wasmIndex >= 0 && next.wasmIndex >= 0) this.linkWasm(tb, 0, next);
          break;
        case ExitCode.Chain1:
          next = tb.next1;
          if (next === null || !next.valid) next = this.lookupForChain(tb, 1);
          if (next !== null && next === tb.next1 && tb.wasmIndex >= 0 && next.wasmIndex >= 0) this.linkWasm(tb, 1, next);
          break;
        case ExitCode.Lookup:
        case ExitCode.NoChain:
          break;
        case ExitCode.Halt:
          if (!cpu.interruptPending()) {
            this.halted = true;
            return StopReason.Halted;
          }
          break;
        default: {
          if (exit < ExitCode.ExceptionBase) {
            // A region member's direct exit: same chaining rule as for a single block.
            const links: (TranslatedBlock | null)[] = tb.regionLinks!;
            const slot: number = exit - ExitCode.RegionChainBase;
            next = links[slot];
            if (next === null || !next.valid) {
              next = this.findBlock(state[pcSlot], state[pcSlot + 1], cpu.tbFlags());
              if (next !== null && next.flags === tb.flags && next.pcHi === tb.pcHi && next.pcLo >>> 12 === tb.pcLo >>> 12) {
                links[slot] = next;
              }
            }
            if (next !== null && next === links[slot] && tb.wasmIndex >= 0 && next.wasmIndex >= 0) this.linkWasm(tb, slot, next);
            break;
          }
          // A guest exception at instruction `index` of the block.
          const index = exit - ExitCode.ExceptionBase;
          const refunds = tb.exceptionRefunds;
          budget[0] += refunds === null ? tb.insnCount - index : refunds[index];
          cpu.takePendingException(tb.exceptionPcs[index]);
          if (++faults > this.sliceBudget) return StopReason.Budget; // see the fetch-fault case
        }
      }
      tb = next;
    }
    return StopReason.Budget;
  }

  private checkFlags(flags: number): void {
    const cpu = this.cpu;
    const fresh = cpu.computeTbFlags();
    if (flags !== fresh || cpu.dispatchWords[0] !== fresh) {
      throw new Error(
        `stale translation flags at pc 0x${cpu.pc.toString(16)}: looked up with ${flags}, dispatcher has ${cpu.dispatchWords[0]}, state says ${fresh}`,
      );
    }
  }

  /** Let the WebAssembly dispatcher follow a chained exit the engine has just followed. */
  private linkWasm(tb: TranslatedBlock, slot: number, next: TranslatedBlock): void {
    this.wasm!.link(tb.wasmIndex, slot, next.wasmIndex, next.flags, next.insnCount);
  }

  /**
   * The successor of a chained exit. It is remembered in the source block only when both
   * share flags and a virtual page (as QEMU chains): then the link stays right across
   * changes of the page tables, which move whole pages.
   */
  private lookupForChain(tb: TranslatedBlock, slot: 0 | 1): TranslatedBlock | null {
    const s = this.cpu.state;
    const flags = this.cpu.tbFlags();
    const next = this.findBlock(s[this.pcSlot], s[this.pcSlot + 1], flags);
    if (next !== null && flags === tb.flags && next.pcHi === tb.pcHi && next.pcLo >>> 12 === tb.pcLo >>> 12) {
      if (slot === 0) tb.next0 = next;
      else tb.next1 = next;
    }
    return next;
  }

  /** Find or translate the block at pc; null if the fetch faulted (the trap is taken). */
  private findBlock(lo: number, hi: number, flags: number): TranslatedBlock | null {
    if (CHECK_FLAGS) this.checkFlags(flags);
    const j = jumpCacheIndex(lo);
    const cached = this.jumpCache[j];
    if (cached !== null && cached.pcLo === lo && cached.pcHi === hi && cached.flags === flags && cached.valid) {
      return cached;
    }
    const phys = this.cpu.fetchPhysicalAt(lo, hi); // -1 leaves the fetch fault pending
    let tb: TranslatedBlock | null = null;
    if (phys >= 0) {
      const key = phys * this.cpu.layout.flagsLimit + flags;
      const hit = this.cache.get(key);
      if (hit && hit.pcLo === lo && hit.pcHi === hi) tb = hit;
      else tb = this.translate(BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)), lo, hi, flags, key);
    }
    if (tb === null) {
      this.cpu.exceptionPending[0] = 1;
      this.cpu.takePendingException(BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)));
      return null;
    }
    this.jumpCache[j] = tb;
    this.wasm?.set(j, lo, hi, flags, tb.wasmIndex, tb.insnCount);
    return tb;
  }

  private translate(pc: bigint, lo: number, hi: number, flags: number, key: number): TranslatedBlock | null {
    const cpu = this.cpu;
    const result = cpu.translate(pc, flags);
    if (result === null) return null;
    const b = result.builder;
    const log = this.log;
    if (log?.inAsm) this.logSink(`----------------\nIN: \n${cpu.disassembleBlock(result)}\n\n`);
    optimize(b);
    if (log?.op) this.logSink(`OP after optimization:\n${printOps(b.ops, b.helpers)}\n`);
    // The block's bytes as RAM-offset ranges, one per page (it may run into the next page).
    const first = cpu.fetchPhysical(pc) - cpu.bus.ramBase;
    const last = cpu.fetchPhysical(pc + BigInt(result.byteLength - 1)) - cpu.bus.ramBase;
    const firstPage = Math.floor(first / PAGE_SIZE), lastPage = Math.floor(last / PAGE_SIZE);
    // Closures made here would share this function's context, which holds `result` (and
    // so the block's IR) whenever any closure here captures it: they are made by the small
    // functions below instead, or every block would keep its IR alive (it did: ~5 KB per
    // block, 400 MB of heap in a boot, and young-generation GC copying it).
    let run: (() => number) | null = null;
    let wasmIndex = -1;
    let bytecode: BytecodeBlock | null = null;
    if (this.mode === 'interp') {
      run = interpreterRunner(new PreparedBlock(b.ops.slice(), b.block.temps.length + b.block.globals.length + 1), cpu);
    } else {
      // In the tiered modes most blocks run a few hundred times at most and never leave
      // tier 0: simplifying their lowered IR costs more than it saves there (a Linux boot
      // is ~10 % faster without). Blocks compiled later are lowered again, with it (see
      // lowered()).
      lowerI64(b, { mul64: cpu.mul64Helper, simplify: this.mode === 'compile' || this.mode === 'tier0' });
      const mmuIndex = cpu.mmuIndexFromFlags(flags);
      const self = { pc, insnCount: result.insnCount };
      if (this.mode !== 'compile') {
        bytecode = encodeBlock(b.ops, cpu.helpers, cpu.layout.stateWords, self, mmuIndex, cpu.values.length);
      }
      if (bytecode === null) {
        const compiled = this.compileRegion([{ ops: b.ops, pc, insnCount: result.insnCount, exceptionBase: 0 }], `tb_${pc.toString(16)}_${flags}`, mmuIndex);
        run = compiled.run;
        wasmIndex = compiled.wasmIndex;
      } else if (this.mode === 'jit' || this.mode === 'jit-eager') {
        // Interpret until hot, then compile (the engine loop calls compileHot). Pages
        // rewritten again and again (a JIT in the guest, a loader reusing them) stay
        // interpreted: compiling their blocks would be thrown away each time.
        const threshold = this.mode === 'jit' ? COMPILE_THRESHOLD : 2;
        bytecode.hotAt = (this.pageRewrites.get(firstPage) ?? 0) < PAGE_REWRITE_LIMIT ? threshold : NEVER;
      }
    }
    // Register the block on every RAM page it covers, and write-protect those pages.
    const pages = firstPage === lastPage ? [firstPage] : [firstPage, lastPage];
    const ramRanges = firstPage === lastPage ? [first, last + 1] : [first, (firstPage + 1) * PAGE_SIZE, lastPage * PAGE_SIZE, last + 1];
    for (const ramPage of pages) {
      let list = this.pageBlocks.get(ramPage);
      if (!list) this.pageBlocks.set(ramPage, (list = []));
      if (!cpu.bus.codePages[ramPage]) {
        cpu.bus.codePages[ramPage] = 1;
        cpu.protectCodePage(ramPage);
      }
    }
    const tb = new TranslatedBlock(lo, hi, pc, flags, key, result.insnCount, result.insnPcs, pages, ramRanges, run ?? notYet, bytecode);
    if (wasmIndex >= 0) {
      tb.wasmIndex = wasmIndex;
      this.wasmBlocks[wasmIndex] = tb;
    }
    for (const p of pages) this.pageBlocks.get(p)!.push(tb);
    this.cache.set(key, tb);
    this.blocksTranslated++;
    return tb;
  }

  /** The valid blocks that run as compiled code (for tests and tools). */
  *compiledBlocks(): IterableIterator<TranslatedBlock> {
    if (this.mode === 'interp') return;
    for (const tb of this.cache.values()) if (tb.valid && tb.bytecode === null) yield tb;
  }

  /** Translate, optimize and lower the block at pc (for compiling a hot tier-0 block). */
  private lowered(pc: bigint, flags: number): { ops: Op[]; insnCount: number } | null {
    const r = this.cpu.translate(pc, flags);
    if (r === null) return null;
    optimize(r.builder);
    lowerI64(r.builder, { mul64: this.cpu.mul64Helper });
    return { ops: r.builder.ops, insnCount: r.insnCount };
  }

  /**
   * Compile blocks into one function with the engine's backend. A WebAssembly region is
   * also put in the dispatcher's table (wasmIndex; -1 for JavaScript).
   */
  private compileRegion(blocks: RegionBlock[], name: string, mmuIndex: number): { run: () => number; wasmIndex: number } {
    this.blocksCompiled++;
    if (this.backend === 'wasm' && this.wasmFailures === 0) {
      try {
        const { pc, pairedWords, pcAlignShift } = this.cpu.layout;
        const gen = generateWasmRegion(blocks, this.cpu, mmuIndex, pc, this.cpu.mul64Helper, pairedWords, pcAlignShift);
        if (this.log?.outAsm) this.logSink(`OUT: [${name}] WebAssembly module, ${gen.bytes.length} bytes\n\n`);
        this.compiledBytes += gen.bytes.length;
        const run = instantiateWasm(gen, this.cpu);
        return { run, wasmIndex: this.wasm!.add(run, blocks.length) };
      } catch (e) {
        // Neither a backend bug nor a host that refuses the module (Chrome compiles at
        // most 4 KB synchronously on a page's main thread: run machines in a Worker
        // there) may stop the guest: this region and all later ones become JavaScript.
        // backend-diff asserts that no corpus program gets here.
        this.wasmFailures++;
        this.logSink(`qemu-ts: WebAssembly backend failed on ${name}, compiling to JavaScript from now on: ${(e as Error).message}\n`);
      }
    }
    const src = generateRegion(blocks, this.cpu.helpers, name, mmuIndex, this.pcSlot);
    if (this.log?.outAsm) this.logSink(`OUT: [${src.name}]\n${src.factory}\n\n`);
    this.compiledBytes += src.factory.length;
    return { run: compileJs(src, this.cpu), wasmIndex: -1 };
  }

  /**
   * A tier-0 block got hot: compile it, together with the still-interpreted blocks of its
   * virtual page that ran under the same flags and are warm, into one region function.
   * Blocks compiled earlier keep their own regions (so nothing is compiled twice, and
   * regions stay small: TurboFan's compile time grows faster than their size). The IR
   * was not kept (most blocks never get hot): members are translated again from guest
   * memory, which has not changed since (a write to the page would have dropped them),
   * under the mapping the hot block runs with right now, which is the members' too (same
   * virtual and physical page). Returns false if nothing could be compiled.
   */
  private compileHot(hot: TranslatedBlock): boolean {
    const ramPage = hot.pages[0];
    const candidates: TranslatedBlock[] = [hot];
    if (hot.pages.length === 1) {
      const others = (this.pageBlocks.get(ramPage) ?? []).filter(
        (t) =>
          t !== hot && t.valid && t.bytecode !== null && t.bytecode.heat >= this.regionWarm && t.pages.length === 1 &&
          t.flags === hot.flags && t.pcHi === hot.pcHi && t.pcLo >>> 12 === hot.pcLo >>> 12,
      );
      // Hottest first, up to the size limit.
      others.sort((x, y) => y.bytecode!.heat - x.bytecode!.heat);
      let insns = hot.insnCount;
      for (const t of others) {
        if (insns + t.insnCount > this.regionMaxInsns) continue;
        insns += t.insnCount;
        candidates.push(t);
      }
    }
    const members: TranslatedBlock[] = [];
    const blocks: RegionBlock[] = [];
    const pcs: bigint[] = [];
    const refunds: number[] = [];
    for (const t of candidates) {
      const again = this.lowered(t.pc, t.flags);
      if (again === null || again.insnCount !== t.insnCount) continue;
      members.push(t);
      blocks.push({ ops: again.ops, pc: t.pc, insnCount: t.insnCount, exceptionBase: pcs.length });
      for (let i = 0; i < t.insnCount; i++) {
        pcs.push(t.insnPcs[i]);
        refunds.push(t.insnCount - i);
      }
    }
    if (members[0] !== hot) {
      // Not translatable again as it was: leave it interpreted for good.
      if (hot.bytecode) hot.bytecode.hotAt = NEVER;
      return false;
    }
    const links = new Array<TranslatedBlock | null>(2 * members.length).fill(null);
    const mmuIndex = this.cpu.mmuIndexFromFlags(hot.flags);
    const name = members.length === 1 ? `tb_${hot.pc.toString(16)}_${hot.flags}` : `region_${hot.pc.toString(16)}_${hot.flags}_${members.length}`;
    const { run: fn, wasmIndex } = this.compileRegion(blocks, name, mmuIndex);
    if (wasmIndex >= 0) this.wasmBlocks[wasmIndex] = members[0];
    if (members.length > 1) this.regionMembers += members.length;
    for (const t of members) {
      t.run = fn;
      t.wasmIndex = wasmIndex;
      t.bytecode = null;
      // A jump-cache entry for the member now leads to compiled code.
      const j = jumpCacheIndex(t.pcLo);
      if (this.jumpCache[j] === t) this.wasm?.set(j, t.pcLo, t.pcHi, t.flags, wasmIndex, t.insnCount);
      if (members.length > 1) {
        t.exceptionPcs = pcs;
        t.exceptionRefunds = refunds;
        t.regionLinks = links;
        // Chained successors were found for exits of this block alone; region exits
        // go through the jump cache instead.
        t.next0 = t.next1 = null;
      }
    }
    return true;
  }

  /**
   * Bytes [offset, offset + length) of a RAM page that holds code were written: drop the
   * blocks whose code overlaps them (as QEMU does; data sharing a page with code must not
   * throw the code away). Returns whether blocks remain on the page.
   */
  invalidateRange(ramPage: number, offset: number, length: number): boolean {
    const list = this.pageBlocks.get(ramPage);
    if (!list) return false;
    if (!this.overlapsCode(ramPage, offset, length)) return true;
    // Regions span the page's blocks, and the page's code is being rewritten: drop them all.
    this.invalidatePage(ramPage);
    return false;
  }

  /** Whether bytes [offset, offset + length) of a RAM page hold translated code. */
  overlapsCode(ramPage: number, offset: number, length: number): boolean {
    const list = this.pageBlocks.get(ramPage);
    if (!list) return false;
    const start = ramPage * PAGE_SIZE + offset, end = start + length;
    for (const tb of list) {
      const r = tb.ramRanges;
      for (let i = 0; i < r.length; i += 2) if (r[i] < end && start < r[i + 1]) return true;
    }
    return false;
  }

  /** A RAM page that held code was rewritten: drop its blocks. */
  invalidatePage(ramPage: number): void {
    const list = this.pageBlocks.get(ramPage);
    if (!list) return;
    this.pageBlocks.delete(ramPage);
    this.pageRewrites.set(ramPage, (this.pageRewrites.get(ramPage) ?? 0) + 1);
    for (const tb of list) {
      tb.valid = false;
      if (this.cache.get(tb.key) === tb) this.cache.delete(tb.key);
      // The dispatcher has no validity check of its own: drop the block's entry, and
      // its region (all members of a region share the page).
      if (tb.wasmIndex >= 0) this.wasm!.invalidate(tb.wasmIndex);
      const j = jumpCacheIndex(tb.pcLo);
      if (this.jumpCache[j] === tb) {
        this.jumpCache[j] = null;
        this.wasm?.clear(j);
      }
    }
  }

  /** Drop every block (e.g. after a reset). */
  flush(): void {
    for (const page of [...this.pageBlocks.keys()]) this.invalidatePage(page);
    this.cpu.bus.codePages.fill(0);
    this.jumpCache.fill(null);
    this.wasm?.clearAll();
    this.pageRewrites.clear();
  }
}

/** `run` of a block that runs as bytecode (the engine loop interprets it). */
const notYet = (): number => {
  throw new Error('TranslatedBlock.run called on a block that is not compiled');
};

function interpreterRunner(prepared: PreparedBlock, cpu: TcgTarget): () => number {
  return () => interpretBlock(prepared, cpu);
}
