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
 *   the engine to drop the page's blocks.
 * - Blocks run as generated JavaScript, or in the IR interpreter (`mode: 'interp'`),
 *   which is the reference the JS backend is tested against.
 */
import { generateJs, compileJs, TbFunction } from '../../backend/js/codegen.js';
import { interpretBlock, PreparedBlock } from '../../backend/interp/interp.js';
import { BytecodeInterpreter, encodeBlock } from '../../backend/interp/bytecode.js';
import { ExitCode, PAGE_SIZE } from '../../backend/runtime.js';
import { lowerI64 } from '../../ir/lower.js';
import { optimize } from '../../ir/optimize.js';
import { printOps } from '../../ir/printer.js';
import type { Op } from '../../ir/ir.js';
import { RiscvCpu } from '../../frontend/riscv/cpu.js';
import { FLAGS_LIMIT, PC, STATE_WORDS } from '../../frontend/riscv/state.js';
import { disassemble } from '../../frontend/riscv/disas.js';
import type { LogOptions } from '../../machine/options.js';

/**
 * 'jit' (default): blocks start in the tier-0 bytecode interpreter and are compiled to
 * JavaScript once hot. 'tier0': never compile. 'compile': compile every block at once.
 * 'interp': the IR reference interpreter (bigint i64; slow, for differential tests).
 */
export type ExecMode = 'jit' | 'tier0' | 'compile' | 'interp';

/** Executions of a block in tier 0 before it is compiled to JavaScript. */
export const COMPILE_THRESHOLD = 64;

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
    /** Runs the block; replaced by compiled code when the block gets hot. */
    public run: () => number,
  ) {}
}

/** Why `run` returned. */
export const enum StopReason {
  /** The instruction budget ran out (or an exit was requested). */
  Budget = 0,
  /** The CPU is waiting for an interrupt and no timer is due. */
  Halted = 1,
}

const JUMP_CACHE_BITS = 12;
const JUMP_CACHE_MASK = (1 << JUMP_CACHE_BITS) - 1;

export interface EngineOptions {
  mode?: ExecMode;
  log?: LogOptions;
  logSink?: (text: string) => void;
}

export class TcgEngine {
  readonly mode: ExecMode;
  private readonly cache = new Map<number, TranslatedBlock>();
  private readonly jumpCache = new Array<TranslatedBlock | null>(1 << JUMP_CACHE_BITS).fill(null);
  private readonly pageBlocks = new Map<number, TranslatedBlock[]>();
  /** Instructions retired before the current slice. */
  private instretBase = 0;
  /** The current slice's budget as given; retired = sliceBudget - budget[0]. */
  private sliceBudget = 0;
  halted = false;
  blocksTranslated = 0;
  blocksCompiled = 0;
  private readonly tier0: BytecodeInterpreter;
  private readonly log: LogOptions | undefined;
  private readonly logSink: (text: string) => void;

  constructor(
    private readonly cpu: RiscvCpu,
    options: EngineOptions = {},
  ) {
    this.mode = options.mode ?? 'jit';
    this.log = options.log;
    this.logSink = options.logSink ?? (() => {});
    cpu.bus.onCodeWrite = (page) => this.invalidatePage(page);
    this.tier0 = new BytecodeInterpreter(cpu, cpu.values);
  }

  /** Virtual-to-physical mappings changed: the jump cache is keyed by virtual pc. */
  tlbFlushed(): void {
    this.jumpCache.fill(null);
  }

  /** One virtual page's mapping changed: forget jump-cache entries on that page. */
  tlbFlushedPage(lo: number, hi: number): void {
    const page = lo >>> 12;
    const jc = this.jumpCache;
    for (let i = 0; i < jc.length; i++) {
      const tb = jc[i];
      if (tb !== null && tb.pcLo >>> 12 === page && tb.pcHi === hi) jc[i] = null;
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
    const state = cpu.state;
    const budget = cpu.budget;
    this.instretBase = this.instret;
    this.sliceBudget = maxInsns;
    budget[0] = maxInsns;
    cpu.enterRun();
    try {
      if (this.halted) {
        if (!cpu.interruptPending()) return StopReason.Halted;
        this.halted = false;
      }
      let tb: TranslatedBlock | null = null;
      while (budget[0] > 0) {
        if (cpu.interruptCheckNeeded && cpu.deliverInterrupt()) tb = null;
        const flags = cpu.tbFlags();
        const lo = state[PC];
        const hi = state[PC + 1];
        if (tb === null || tb.pcLo !== lo || tb.pcHi !== hi || tb.flags !== flags || !tb.valid) {
          tb = this.findBlock(lo, hi, flags);
          if (tb === null) continue; // fetch fault taken: continue at the handler
        }
        budget[0] -= tb.insnCount;
        const exit = tb.run();
        let next: TranslatedBlock | null = null;
        switch (exit) {
          case ExitCode.Chain0:
            next = tb.next0;
            if (next === null || !next.valid) next = this.lookupForChain(tb, 0);
            break;
          case ExitCode.Chain1:
            next = tb.next1;
            if (next === null || !next.valid) next = this.lookupForChain(tb, 1);
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
            // A guest exception at instruction `index` of the block.
            const index = exit - ExitCode.ExceptionBase;
            budget[0] += tb.insnCount - index;
            cpu.takePendingException(tb.insnPcs[index]);
          }
        }
        tb = next;
      }
      return StopReason.Budget;
    } finally {
      cpu.leaveRun();
    }
  }

  /**
   * The successor of a chained exit. It is remembered in the source block only when both
   * share flags and a virtual page (as QEMU chains): then the link stays right across
   * changes of the page tables, which move whole pages.
   */
  private lookupForChain(tb: TranslatedBlock, slot: 0 | 1): TranslatedBlock | null {
    const s = this.cpu.state;
    const flags = this.cpu.tbFlags();
    const next = this.findBlock(s[PC], s[PC + 1], flags);
    if (next !== null && flags === tb.flags && next.pc >> 12n === tb.pc >> 12n) {
      if (slot === 0) tb.next0 = next;
      else tb.next1 = next;
    }
    return next;
  }

  /** Find or translate the block at pc; null if the fetch faulted (the trap is taken). */
  private findBlock(lo: number, hi: number, flags: number): TranslatedBlock | null {
    const j = ((lo >>> 1) ^ flags) & JUMP_CACHE_MASK;
    const cached = this.jumpCache[j];
    if (cached !== null && cached.pcLo === lo && cached.pcHi === hi && cached.flags === flags && cached.valid) {
      return cached;
    }
    const pc = BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
    const phys = this.cpu.fetchPhysical(pc); // -1 leaves the fetch fault pending
    let tb: TranslatedBlock | null = null;
    if (phys >= 0) {
      const key = phys * FLAGS_LIMIT + flags;
      const hit = this.cache.get(key);
      if (hit && hit.pc === pc) tb = hit;
      else tb = this.translate(pc, lo, hi, flags, key);
    }
    if (tb === null) {
      this.cpu.exceptionPending[0] = 1;
      this.cpu.takePendingException(pc);
      return null;
    }
    this.jumpCache[j] = tb;
    return tb;
  }

  private translate(pc: bigint, lo: number, hi: number, flags: number, key: number): TranslatedBlock | null {
    const cpu = this.cpu;
    const result = cpu.translate(pc, flags);
    if (result === null) return null;
    const b = result.builder;
    const log = this.log;
    if (log?.inAsm) {
      const lines = result.insnPcs.map(
        (p, i) => `0x${p.toString(16).padStart(16, '0')}:  ${hexBits(result.insnBits[i])}  ${disassemble(result.insnBits[i], p)}`,
      );
      this.logSink(`----------------\nIN: \n${lines.join('\n')}\n\n`);
    }
    optimize(b);
    if (log?.op) this.logSink(`OP after optimization:\n${printOps(b.ops, b.helpers)}\n`);
    let run: () => number;
    const name = `tb_${pc.toString(16)}_${flags}`;
    if (this.mode === 'interp') {
      const prepared = new PreparedBlock(b.ops.slice(), b.block.temps.length + b.block.globals.length + 1);
      run = () => interpretBlock(prepared, cpu);
    } else {
      lowerI64(b, { mul64: cpu.helperIds.mul64 });
      const mmuIndex = RiscvCpu.mmuIndexFromFlags(flags);
      // Closures below must not capture `result` or `b`: that would keep every cold
      // block's IR alive.
      const insnCount = result.insnCount;
      const self = { pc, insnCount };
      const compile = (ops: typeof b.ops): (() => number) => {
        const src = generateJs(ops, cpu.helpers, name, self, mmuIndex);
        if (log?.outAsm) this.logSink(`OUT: [${name}]\n${src.factory}\n\n`);
        this.blocksCompiled++;
        return compileJs(src, cpu);
      };
      const bytecode =
        this.mode === 'compile' ? null : encodeBlock(b.ops, cpu.helpers, STATE_WORDS, self, mmuIndex, cpu.values.length);
      if (bytecode === null) {
        run = compile(b.ops);
      } else if (this.mode === 'tier0') {
        run = () => this.tier0.run(bytecode);
      } else {
        // Interpret until hot, then compile. The IR is not kept (most blocks never get
        // hot): it is translated again from guest memory, which has not changed since
        // (a write to the page would have dropped this block), at the same pc and flags
        // the block is running under right now.
        let count = 0;
        run = () => {
          if (++count === COMPILE_THRESHOLD) {
            const again = this.lowered(pc, flags);
            if (again !== null && again.insnCount === insnCount) tb.run = compile(again.ops);
          }
          return this.tier0.run(bytecode);
        };
      }
    }
    // Register the block on every RAM page it covers, and write-protect those pages.
    const pages: number[] = [];
    const first = cpu.fetchPhysical(pc);
    const last = cpu.fetchPhysical(pc + BigInt(result.byteLength - 1));
    for (const p of new Set([first, last])) {
      const ramPage = Math.floor((p - cpu.bus.ramBase) / PAGE_SIZE);
      pages.push(ramPage);
      let list = this.pageBlocks.get(ramPage);
      if (!list) this.pageBlocks.set(ramPage, (list = []));
      if (!cpu.bus.codePages[ramPage]) {
        cpu.bus.codePages[ramPage] = 1;
        cpu.protectCodePage(ramPage);
      }
    }
    const tb = new TranslatedBlock(lo, hi, pc, flags, key, result.insnCount, result.insnPcs, pages, run);
    for (const p of pages) this.pageBlocks.get(p)!.push(tb);
    this.cache.set(key, tb);
    this.blocksTranslated++;
    return tb;
  }

  /** Translate, optimize and lower the block at pc (for compiling a hot tier-0 block). */
  private lowered(pc: bigint, flags: number): { ops: Op[]; insnCount: number } | null {
    const r = this.cpu.translate(pc, flags);
    if (r === null) return null;
    optimize(r.builder);
    lowerI64(r.builder, { mul64: this.cpu.helperIds.mul64 });
    return { ops: r.builder.ops, insnCount: r.insnCount };
  }

  /** A RAM page that held code was written: drop its blocks. */
  invalidatePage(ramPage: number): void {
    const list = this.pageBlocks.get(ramPage);
    if (!list) return;
    this.pageBlocks.delete(ramPage);
    for (const tb of list) {
      tb.valid = false;
      if (this.cache.get(tb.key) === tb) this.cache.delete(tb.key);
    }
  }

  /** Drop every block (e.g. after a reset). */
  flush(): void {
    for (const page of [...this.pageBlocks.keys()]) this.invalidatePage(page);
    this.cpu.bus.codePages.fill(0);
    this.jumpCache.fill(null);
  }
}

/** Instruction bits as QEMU's in_asm prints them: 8 hex digits, or 4 for compressed. */
function hexBits(bits: number): string {
  return (bits & 3) === 3 ? (bits >>> 0).toString(16).padStart(8, '0') : (bits & 0xffff).toString(16).padStart(4, '0') + '    ';
}
