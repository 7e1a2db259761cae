/**
 * ELF32/ELF64 little-endian executable parser (System V ABI, "ELF-64 Object File
 * Format" v1.5 and the generic ABI chapters 4 and 5): file header, program headers
 * and the SHT_SYMTAB symbol table.
 *
 * The input is hostile: every offset and size is checked against the file length with
 * BigInt arithmetic before it is used, table sizes are bounded by the file size, and
 * every failure is a UserError with a one-line message (no RangeError escapes). The
 * messages do not name the file; the loader prefixes `-kernel <path>: `.
 */
import { UserError } from './options.js';

export const EM_386 = 3;
export const EM_X86_64 = 62;
export const EM_RISCV = 243;

export const ET_EXEC = 2;
export const ET_DYN = 3;

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EV_CURRENT = 1;
const PN_XNUM = 0xffff;
const SHN_UNDEF = 0;

export interface ElfProgramHeader {
  /** Position in the program header table. */
  index: number;
  type: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfLoadSegment extends ElfProgramHeader {
  /** The segment's file bytes (p_filesz of them; a view into the input). */
  data: Uint8Array;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STT_* (low nibble of st_info). */
  type: number;
  /** STB_* (high nibble of st_info). */
  bind: number;
  /** st_shndx; 0 = undefined. */
  sectionIndex: number;
}

export interface ElfImage {
  elfClass: 32 | 64;
  /** ET_EXEC or ET_DYN. */
  type: number;
  /** e_machine (EM_*). */
  machine: number;
  flags: number;
  entry: bigint;
  /** File offset just past the ELF header and the program header table (when they start the file). */
  headersEnd: number;
  programHeaders: ElfProgramHeader[];
  /** The PT_LOAD headers, in file order, with their data. */
  loadSegments: ElfLoadSegment[];
  /** Every entry of every SHT_SYMTAB (empty when the file is stripped). */
  symbols: ElfSymbol[];
}

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** A defined symbol by name; a global or weak definition wins over a local one. */
export function findSymbol(image: ElfImage, name: string): ElfSymbol | undefined {
  let local: ElfSymbol | undefined;
  for (const s of image.symbols) {
    if (s.name !== name || s.sectionIndex === SHN_UNDEF) continue;
    if (s.bind !== STB_LOCAL) return s;
    local ??= s;
  }
  return local;
}

/** A human name for an e_machine value, as in QEMU's and binutils' messages. */
export function elfMachineName(machine: number, elfClass?: 32 | 64): string {
  switch (machine) {
    case EM_RISCV:
      return elfClass === 32 ? 'riscv32' : 'riscv64';
    case EM_386:
      return 'i386';
    case EM_X86_64:
      return 'x86-64';
    case 8:
      return 'mips';
    case 20:
      return 'ppc';
    case 21:
      return 'ppc64';
    case 40:
      return 'arm';
    case 183:
      return 'aarch64';
    case 258:
      return 'loongarch';
    default:
      return `e_machine ${machine}`;
  }
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** Bounds-checked little-endian reads over the whole file. */
class Reader {
  private readonly view: DataView;
  readonly length: number;
  constructor(data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.length = data.byteLength;
  }
  private check(offset: number, size: number, what: string): void {
    if (offset < 0 || offset + size > this.length) {
      throw new UserError(`${what} at offset ${hex(offset)} lies outside the file (${this.length} bytes)`);
    }
  }
  u8(offset: number, what: string): number {
    this.check(offset, 1, what);
    return this.view.getUint8(offset);
  }
  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, true);
  }
  u64(offset: number, what: string): bigint {
    this.check(offset, 8, what);
    return this.view.getBigUint64(offset, true);
  }
}

interface Layout {
  ehsize: number;
  phentsize: number;
  shentsize: number;
  symentsize: number;
  addrMax: bigint;
}

const LAYOUT32: Layout = { ehsize: 52, phentsize: 32, shentsize: 40, symentsize: 16, addrMax: 1n << 32n };
const LAYOUT64: Layout = { ehsize: 64, phentsize: 56, shentsize: 64, symentsize: 24, addrMax: 1n << 64n };

interface SectionHeader {
  index: number;
  type: number;
  offset: bigint;
  size: bigint;
  link: number;
  info: number;
  entsize: bigint;
}

/** Check that [offset, offset + size) lies in the file; return offset as a number. */
function fileRange(r: Reader, offset: bigint, size: bigint, what: string): number {
  if (offset + size > BigInt(r.length)) {
    throw new UserError(`${what} (offset ${hex(offset)}, ${hex(size)} bytes) lies outside the file (${r.length} bytes)`);
  }
  return Number(offset);
}

export function parseElf(data: Uint8Array): ElfImage {
  if (!isElf(data)) throw new UserError('not an ELF file (bad magic)');
  if (data.length < 16) throw new UserError(`truncated ELF header (${data.length} bytes)`);
  const elfClassByte = data[4]!;
  if (elfClassByte !== ELFCLASS32 && elfClassByte !== ELFCLASS64) {
    throw new UserError(`unsupported ELF class ${elfClassByte} (expected 1 for ELF32 or 2 for ELF64)`);
  }
  const is64 = elfClassByte === ELFCLASS64;
  const L = is64 ? LAYOUT64 : LAYOUT32;
  if (data[5] === ELFDATA2MSB) throw new UserError('big-endian ELF files are not supported');
  if (data[5] !== ELFDATA2LSB) throw new UserError(`unsupported ELF data encoding ${data[5]}`);
  if (data[6] !== EV_CURRENT) throw new UserError(`unsupported ELF version ${data[6]}`);
  if (data.length < L.ehsize) {
    throw new UserError(`truncated ELF header (${data.length} bytes, ELF${is64 ? 64 : 32} needs ${L.ehsize})`);
  }
  const r = new Reader(data);
  const H = 'ELF header';
  const type = r.u16(16, H);
  const machine = r.u16(18, H);
  const version = r.u32(20, H);
  if (version !== EV_CURRENT) throw new UserError(`unsupported ELF version ${version}`);
  if (type !== ET_EXEC && type !== ET_DYN) {
    const names: Record<number, string> = { 0: 'none', 1: 'relocatable', 4: 'core' };
    throw new UserError(`ELF file type ${type}${names[type] ? ` (${names[type]})` : ''} is not executable`);
  }
  const addr = (offset: number, what: string): bigint => (is64 ? r.u64(offset, what) : BigInt(r.u32(offset, what)));
  const entry = addr(24, H);
  const phoff = addr(is64 ? 32 : 28, H);
  const shoff = addr(is64 ? 40 : 32, H);
  const flags = r.u32(is64 ? 48 : 36, H);
  const phentsize = r.u16(is64 ? 54 : 42, H);
  let phnum = r.u16(is64 ? 56 : 44, H);
  const shentsize = r.u16(is64 ? 58 : 46, H);
  let shnum = r.u16(is64 ? 60 : 48, H);

  // Section header 0 carries the real counts when they overflow 16 bits.
  const readSection = (index: number): SectionHeader => {
    const base = Number(shoff) + index * shentsize;
    const what = `section header ${index}`;
    return {
      index,
      type: r.u32(base + 4, what),
      offset: addr(base + (is64 ? 24 : 16), what),
      size: addr(base + (is64 ? 32 : 20), what),
      link: r.u32(base + (is64 ? 40 : 24), what),
      info: r.u32(base + (is64 ? 44 : 28), what),
      entsize: addr(base + (is64 ? 56 : 36), what),
    };
  };
  const hasSections = shoff !== 0n;
  if (hasSections) {
    if (shentsize < L.shentsize) throw new UserError(`bad section header entry size ${shentsize}`);
    fileRange(r, shoff, BigInt(shentsize), 'section header table');
    if (shnum === 0 || phnum === PN_XNUM) {
      const s0 = readSection(0);
      if (shnum === 0) {
        if (s0.size > BigInt(r.length)) throw new UserError(`bad section count ${s0.size}`);
        shnum = Number(s0.size);
      }
      if (phnum === PN_XNUM) phnum = s0.info;
    }
    fileRange(r, shoff, BigInt(shnum) * BigInt(shentsize), 'section header table');
  } else if (phnum === PN_XNUM) {
    throw new UserError('program header count overflows but there is no section header table');
  }

  // Program headers.
  if (phnum === 0) throw new UserError('no program headers (not an executable?)');
  if (phentsize < L.phentsize) throw new UserError(`bad program header entry size ${phentsize}`);
  const phbase = fileRange(r, phoff, BigInt(phnum) * BigInt(phentsize), 'program header table');
  const programHeaders: ElfProgramHeader[] = [];
  const loadSegments: ElfLoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const b = phbase + i * phentsize;
    const what = `program header ${i}`;
    const ph: ElfProgramHeader = is64
      ? {
          index: i,
          type: r.u32(b, what),
          flags: r.u32(b + 4, what),
          offset: r.u64(b + 8, what),
          vaddr: r.u64(b + 16, what),
          paddr: r.u64(b + 24, what),
          filesz: r.u64(b + 32, what),
          memsz: r.u64(b + 40, what),
          align: r.u64(b + 48, what),
        }
      : {
          index: i,
          type: r.u32(b, what),
          offset: BigInt(r.u32(b + 4, what)),
          vaddr: BigInt(r.u32(b + 8, what)),
          paddr: BigInt(r.u32(b + 12, what)),
          filesz: BigInt(r.u32(b + 16, what)),
          memsz: BigInt(r.u32(b + 20, what)),
          flags: r.u32(b + 24, what),
          align: BigInt(r.u32(b + 28, what)),
        };
    programHeaders.push(ph);
    if (ph.type !== PT_LOAD) continue;
    const seg = `segment ${i}`;
    if (ph.filesz > ph.memsz) {
      throw new UserError(`${seg}: p_filesz ${hex(ph.filesz)} exceeds p_memsz ${hex(ph.memsz)}`);
    }
    if (ph.paddr + ph.memsz > L.addrMax || ph.vaddr + ph.memsz > L.addrMax) {
      throw new UserError(`${seg}: address range ${hex(ph.paddr)} + ${hex(ph.memsz)} wraps around`);
    }
    const start = fileRange(r, ph.offset, ph.filesz, `${seg} data`);
    loadSegments.push({ ...ph, data: data.subarray(start, start + Number(ph.filesz)) });
  }
  if (loadSegments.length === 0) throw new UserError('no loadable (PT_LOAD) segments');

  // Symbol tables.
  const symbols: ElfSymbol[] = [];
  if (hasSections) {
    const decoder = new TextDecoder();
    for (let i = 0; i < shnum; i++) {
      const sh = readSection(i);
      if (sh.type !== SHT_SYMTAB) continue;
      const what = `symbol table (section ${i})`;
      if (sh.entsize < BigInt(L.symentsize)) throw new UserError(`${what}: bad entry size ${sh.entsize}`);
      const symbase = fileRange(r, sh.offset, sh.size, what);
      if (sh.link === 0 || sh.link >= shnum) throw new UserError(`${what}: bad string table index ${sh.link}`);
      const strsh = readSection(sh.link);
      if (strsh.type !== SHT_STRTAB) throw new UserError(`${what}: section ${sh.link} is not a string table`);
      const strbase = fileRange(r, strsh.offset, strsh.size, `string table (section ${sh.link})`);
      const strsize = Number(strsh.size);
      const entsize = Number(sh.entsize);
      const count = Math.floor(Number(sh.size) / entsize);
      for (let j = 0; j < count; j++) {
        const b = symbase + j * entsize;
        const swhat = `symbol ${j}`;
        const nameOffset = r.u32(b, swhat);
        let info: number, shndx: number, value: bigint, size: bigint;
        if (is64) {
          info = r.u8(b + 4, swhat);
          shndx = r.u16(b + 6, swhat);
          value = r.u64(b + 8, swhat);
          size = r.u64(b + 16, swhat);
        } else {
          value = BigInt(r.u32(b + 4, swhat));
          size = BigInt(r.u32(b + 8, swhat));
          info = r.u8(b + 12, swhat);
          shndx = r.u16(b + 14, swhat);
        }
        let name = '';
        if (nameOffset !== 0) {
          if (nameOffset >= strsize) {
            throw new UserError(`${what}: symbol ${j} name offset ${hex(nameOffset)} is outside its string table`);
          }
          const from = strbase + nameOffset;
          const end = data.subarray(from, strbase + strsize).indexOf(0);
          if (end < 0) throw new UserError(`${what}: symbol ${j} name is not NUL-terminated`);
          name = decoder.decode(data.subarray(from, from + end));
        }
        symbols.push({ name, value, size, type: info & 0xf, bind: info >> 4, sectionIndex: shndx });
      }
    }
  }

  return {
    elfClass: is64 ? 64 : 32,
    type,
    machine,
    flags,
    entry,
    headersEnd: Math.max(L.ehsize, phbase + phnum * phentsize),
    programHeaders,
    loadSegments,
    symbols,
  };
}
