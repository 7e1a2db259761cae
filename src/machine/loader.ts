/**
 * Places a guest image (-kernel / -bios) in RAM: an ELF executable segment by segment
 * at the physical addresses (p_paddr) its PT_LOAD headers name, anything else as a raw
 * binary at the board's load address. Every byte must land inside RAM; all checks run
 * before the first byte is written, and every failure is a one-line UserError that
 * names the option and the file, in the spirit of QEMU's messages.
 *
 * One exception, because QEMU accepts it and toolchains produce it: `ld -Ttext=<RAM base>`
 * without a linker script puts the ELF and program headers at the start of the first
 * segment, one page below RAM. A part of a segment that sticks out *below* RAM is skipped
 * when it holds nothing but those headers and zero padding; anything else is an error.
 */
import { UserError } from './options.js';
import { elfMachineName, isElf, parseElf, type ElfImage } from './elf.js';

export interface RamRange {
  base: bigint;
  size: bigint;
}

export interface LoadImageOptions {
  data: Uint8Array;
  /** File name as the user gave it (for messages). */
  path: string;
  /** Accepted e_machine value(s) (EM_*). */
  expectedMachine: number | readonly number[];
  /** If given, the ELF class the board needs (an RV32 ELF cannot boot riscv64 virt). */
  expectedClass?: 32 | 64;
  /** Board name for messages ("virt"). */
  machineName: string;
  ram: readonly RamRange[];
  write(addr: bigint, bytes: Uint8Array): void;
  /** Where a non-ELF image goes; also its entry point. */
  rawLoadAddress: bigint;
  /** The option the image came from, for messages (default "-kernel"). */
  option?: string;
}

export interface LoadedImage {
  entry: bigint;
  elf?: ElfImage;
}

const hex = (v: bigint): string => '0x' + v.toString(16);
const ZERO_CHUNK = 1 << 20;

function describeRam(ram: readonly RamRange[]): string {
  if (ram.length === 0) return 'no RAM';
  return ram.map((r) => `${hex(r.base)} - ${hex(r.base + r.size - 1n)}`).join(', ');
}

/** True when [start, start + size) lies within one RAM range (size > 0). */
function insideRam(ram: readonly RamRange[], start: bigint, size: bigint): boolean {
  return ram.some((r) => start >= r.base && start + size <= r.base + r.size);
}

export function loadImage(opts: LoadImageOptions): LoadedImage {
  const prefix = `${opts.option ?? '-kernel'} ${opts.path}: `;
  const fail = (message: string): never => {
    throw new UserError(prefix + message);
  };
  const data = opts.data;
  if (data.length === 0) fail('file is empty');
  const expected = typeof opts.expectedMachine === 'number' ? [opts.expectedMachine] : opts.expectedMachine;
  const boardArch = elfMachineName(expected[0] ?? 0, opts.expectedClass);

  if (!isElf(data)) {
    const size = BigInt(data.length);
    if (!insideRam(opts.ram, opts.rawLoadAddress, size)) {
      fail(
        `image 0x${opts.rawLoadAddress.toString(16)} - ${hex(opts.rawLoadAddress + size - 1n)} (${data.length} bytes) ` +
          `does not fit in RAM (${describeRam(opts.ram)})`,
      );
    }
    opts.write(opts.rawLoadAddress, data);
    return { entry: opts.rawLoadAddress };
  }

  let elf: ElfImage;
  try {
    elf = parseElf(data);
  } catch (e) {
    if (e instanceof UserError) fail(e.message);
    throw e;
  }
  if (!expected.includes(elf.machine) || (opts.expectedClass !== undefined && opts.expectedClass !== elf.elfClass)) {
    fail(
      `ELF file is for ${elfMachineName(elf.machine, elf.elfClass)}, but machine '${opts.machineName}' is ${boardArch}`,
    );
  }
  // Bytes to skip at the start of each segment (headers below RAM, see the file comment).
  const skip = elf.loadSegments.map((seg) => {
    if (seg.memsz === 0n || insideRam(opts.ram, seg.paddr, seg.memsz)) return 0n;
    const prefix = headerOnlyPrefix(elf, seg, opts.ram);
    if (prefix === undefined) {
      fail(`segment ${hex(seg.paddr)} - ${hex(seg.paddr + seg.memsz - 1n)} is outside RAM (${describeRam(opts.ram)})`);
    }
    return prefix ?? 0n;
  });
  let zeros: Uint8Array | undefined;
  elf.loadSegments.forEach((seg, i) => {
    if (seg.memsz === 0n) return;
    const from = skip[i]!;
    if (seg.filesz > from) opts.write(seg.paddr + from, seg.data.subarray(Number(from)));
    // .bss and friends: memsz beyond filesz reads as zero.
    let addr = seg.paddr + seg.filesz;
    let left = seg.memsz - seg.filesz;
    while (left > 0n) {
      const n = left > BigInt(ZERO_CHUNK) ? ZERO_CHUNK : Number(left);
      zeros ??= new Uint8Array(ZERO_CHUNK);
      opts.write(addr, zeros.subarray(0, n));
      addr += BigInt(n);
      left -= BigInt(n);
    }
  });
  return { entry: elf.entry, elf };
}

/**
 * If `seg` starts below a RAM range, ends inside it, and the part below RAM is file data
 * made only of ELF/program header bytes and zeros, the length of that part; else undefined.
 */
function headerOnlyPrefix(elf: ElfImage, seg: ElfImage['loadSegments'][number], ram: readonly RamRange[]): bigint | undefined {
  const range = ram.find((r) => seg.paddr < r.base && seg.paddr + seg.memsz > r.base);
  if (!range) return undefined;
  const prefix = range.base - seg.paddr;
  if (prefix > seg.filesz || !insideRam(ram, range.base, seg.memsz - prefix)) return undefined;
  const n = Number(prefix);
  const fileOffset = Number(seg.offset);
  for (let i = 0; i < n; i++) {
    if (fileOffset + i >= elf.headersEnd && seg.data[i] !== 0) return undefined;
  }
  return prefix;
}
