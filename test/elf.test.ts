import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EM_386,
  EM_RISCV,
  EM_X86_64,
  findSymbol,
  isElf,
  parseElf,
  PF_R,
  PF_W,
  PF_X,
  PT_LOAD,
  STB_GLOBAL,
} from '../src/machine/elf.js';
import { loadImage } from '../src/machine/loader.js';
import { UserError } from '../src/machine/options.js';

// ---------------------------------------------------------------------------------
// A tiny ELF writer, independent of the parser, for hand-built headers.

interface SegSpec {
  paddr: bigint;
  vaddr?: bigint;
  data: Uint8Array;
  memsz?: bigint;
  flags?: number;
  type?: number;
}
interface ElfSpec {
  cls: 32 | 64;
  machine?: number;
  type?: number;
  entry?: bigint;
  segments: SegSpec[];
  symbols?: { name: string; value: bigint; bind?: number }[];
}

function buildElf(spec: ElfSpec): Uint8Array {
  const is64 = spec.cls === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const symentsize = is64 ? 24 : 16;
  const phoff = ehsize;
  let off = phoff + phentsize * spec.segments.length;
  const segOffsets = spec.segments.map((s) => {
    const o = off;
    off += s.data.length;
    return o;
  });
  // Symbols: null symbol + given ones; string table; 3 sections (null, symtab, strtab).
  const syms = spec.symbols ?? [];
  let strtab = [0];
  const nameOffsets = syms.map((s) => {
    const o = strtab.length;
    strtab = strtab.concat([...new TextEncoder().encode(s.name), 0]);
    return o;
  });
  const symOff = off;
  off += symentsize * (syms.length + 1);
  const strOff = off;
  off += strtab.length;
  off = (off + 7) & ~7;
  const shoff = syms.length > 0 ? off : 0;
  if (syms.length > 0) off += shentsize * 3;

  const buf = new Uint8Array(off);
  const dv = new DataView(buf.buffer);
  const addr = (o: number, v: bigint): void => (is64 ? dv.setBigUint64(o, v, true) : dv.setUint32(o, Number(v), true));
  buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  dv.setUint16(16, spec.type ?? 2, true);
  dv.setUint16(18, spec.machine ?? EM_RISCV, true);
  dv.setUint32(20, 1, true);
  addr(24, spec.entry ?? spec.segments[0]?.paddr ?? 0n);
  addr(is64 ? 32 : 28, BigInt(phoff));
  addr(is64 ? 40 : 32, BigInt(shoff));
  dv.setUint16(is64 ? 52 : 40, ehsize, true);
  dv.setUint16(is64 ? 54 : 42, phentsize, true);
  dv.setUint16(is64 ? 56 : 44, spec.segments.length, true);
  dv.setUint16(is64 ? 58 : 46, shentsize, true);
  dv.setUint16(is64 ? 60 : 48, syms.length > 0 ? 3 : 0, true);
  spec.segments.forEach((s, i) => {
    const b = phoff + i * phentsize;
    const memsz = s.memsz ?? BigInt(s.data.length);
    const vaddr = s.vaddr ?? s.paddr;
    dv.setUint32(b, s.type ?? PT_LOAD, true);
    if (is64) {
      dv.setUint32(b + 4, s.flags ?? PF_R | PF_X, true);
      dv.setBigUint64(b + 8, BigInt(segOffsets[i]!), true);
      dv.setBigUint64(b + 16, vaddr, true);
      dv.setBigUint64(b + 24, s.paddr, true);
      dv.setBigUint64(b + 32, BigInt(s.data.length), true);
      dv.setBigUint64(b + 40, memsz, true);
      dv.setBigUint64(b + 48, 0x1000n, true);
    } else {
      dv.setUint32(b + 4, segOffsets[i]!, true);
      dv.setUint32(b + 8, Number(vaddr), true);
      dv.setUint32(b + 12, Number(s.paddr), true);
      dv.setUint32(b + 16, s.data.length, true);
      dv.setUint32(b + 20, Number(memsz), true);
      dv.setUint32(b + 24, s.flags ?? PF_R | PF_X, true);
      dv.setUint32(b + 28, 0x1000, true);
    }
    buf.set(s.data, segOffsets[i]!);
  });
  syms.forEach((s, i) => {
    const b = symOff + (i + 1) * symentsize;
    const info = ((s.bind ?? STB_GLOBAL) << 4) | 1; // STT_OBJECT
    dv.setUint32(b, nameOffsets[i]!, true);
    if (is64) {
      buf[b + 4] = info;
      dv.setUint16(b + 6, 1, true);
      dv.setBigUint64(b + 8, s.value, true);
      dv.setBigUint64(b + 16, 8n, true);
    } else {
      dv.setUint32(b + 4, Number(s.value), true);
      dv.setUint32(b + 8, 8, true);
      buf[b + 12] = info;
      dv.setUint16(b + 14, 1, true);
    }
  });
  buf.set(strtab, strOff);
  if (syms.length > 0) {
    const sec = (i: number, type: number, offset: number, size: number, link: number, entsize: number): void => {
      const b = shoff + i * shentsize;
      dv.setUint32(b + 4, type, true);
      if (is64) {
        dv.setBigUint64(b + 24, BigInt(offset), true);
        dv.setBigUint64(b + 32, BigInt(size), true);
        dv.setUint32(b + 40, link, true);
        dv.setBigUint64(b + 56, BigInt(entsize), true);
      } else {
        dv.setUint32(b + 16, offset, true);
        dv.setUint32(b + 20, size, true);
        dv.setUint32(b + 24, link, true);
        dv.setUint32(b + 36, entsize, true);
      }
    };
    sec(1, 2, symOff, symentsize * (syms.length + 1), 2, symentsize);
    sec(2, 3, strOff, strtab.length, 0, 0);
  }
  return buf;
}

const code = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
const RAM = [{ base: 0x80000000n, size: 0x8000000n }];

function expectUserError(fn: () => unknown, pattern?: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UserError);
  const e = caught as UserError;
  expect(e.message).not.toMatch(/\n/);
  if (pattern) expect(e.message).toMatch(pattern);
  return e;
}

function fakeRam() {
  const mem = new Uint8Array(Number(RAM[0]!.size));
  const writes: [bigint, number][] = [];
  return {
    mem,
    writes,
    write(addr: bigint, bytes: Uint8Array) {
      const o = Number(addr - RAM[0]!.base);
      if (o < 0 || o + bytes.length > mem.length) throw new Error(`write outside fake RAM at ${addr.toString(16)}`);
      mem.set(bytes, o);
      writes.push([addr, bytes.length]);
    },
  };
}

const baseLoad = { path: 'k.elf', expectedMachine: EM_RISCV, machineName: 'virt', ram: RAM, rawLoadAddress: 0x80000000n };

// ---------------------------------------------------------------------------------

describe('parseElf on hand-built headers', () => {
  it('parses ELF64: header fields, PT_LOAD and symbols', () => {
    const data = buildElf({
      cls: 64,
      entry: 0x80000010n,
      segments: [
        { paddr: 0x80000000n, vaddr: 0xffffffff80000000n, data: code, flags: PF_R | PF_X },
        { paddr: 0x80001000n, data: code.subarray(0, 8), memsz: 0x100n, flags: PF_R | PF_W },
      ],
      symbols: [
        { name: 'tohost', value: 0x80001000n },
        { name: 'fromhost', value: 0x80001008n },
      ],
    });
    expect(isElf(data)).toBe(true);
    const elf = parseElf(data);
    expect(elf.elfClass).toBe(64);
    expect(elf.machine).toBe(EM_RISCV);
    expect(elf.entry).toBe(0x80000010n);
    expect(elf.loadSegments.map((s) => [s.paddr, s.vaddr, s.filesz, s.memsz, s.flags])).toEqual([
      [0x80000000n, 0xffffffff80000000n, 64n, 64n, PF_R | PF_X],
      [0x80001000n, 0x80001000n, 8n, 0x100n, PF_R | PF_W],
    ]);
    expect([...elf.loadSegments[0]!.data]).toEqual([...code]);
    expect(findSymbol(elf, 'tohost')?.value).toBe(0x80001000n);
    expect(findSymbol(elf, 'fromhost')?.value).toBe(0x80001008n);
    expect(findSymbol(elf, 'nothere')).toBeUndefined();
  });

  it('parses ELF32 (i386)', () => {
    const data = buildElf({
      cls: 32,
      machine: EM_386,
      entry: 0x100000n,
      segments: [{ paddr: 0x100000n, vaddr: 0xc0100000n, data: code }],
      symbols: [{ name: 'start', value: 0x100000n }],
    });
    const elf = parseElf(data);
    expect(elf.elfClass).toBe(32);
    expect(elf.machine).toBe(EM_386);
    expect(elf.loadSegments[0]!.vaddr).toBe(0xc0100000n);
    expect(elf.loadSegments[0]!.paddr).toBe(0x100000n);
    expect(findSymbol(elf, 'start')?.value).toBe(0x100000n);
  });

  it('rejects bad identification and header fields with one-line UserErrors', () => {
    const good = buildElf({ cls: 64, segments: [{ paddr: 0x80000000n, data: code }] });
    const patched = (o: number, v: number): Uint8Array => {
      const c = good.slice();
      c[o] = v;
      return c;
    };
    expectUserError(() => parseElf(new Uint8Array([1, 2, 3, 4])), /not an ELF file/);
    expectUserError(() => parseElf(patched(4, 3)), /unsupported ELF class 3/);
    expectUserError(() => parseElf(patched(5, 2)), /big-endian/);
    expectUserError(() => parseElf(patched(6, 0)), /unsupported ELF version/);
    expectUserError(() => parseElf(patched(16, 1)), /relocatable\) is not executable/);
    expectUserError(() => parseElf(patched(16, 4)), /core\) is not executable/);
    const noLoad = buildElf({ cls: 64, segments: [{ paddr: 0n, data: code, type: 4 }] });
    expectUserError(() => parseElf(noLoad), /no loadable/);
  });

  it('rejects segments whose data or size are inconsistent', () => {
    const data = buildElf({ cls: 64, segments: [{ paddr: 0x80000000n, data: code }] });
    const dv = new DataView(data.buffer);
    const big = data.slice();
    new DataView(big.buffer).setBigUint64(64 + 32, 0x10000n, true); // filesz beyond file
    new DataView(big.buffer).setBigUint64(64 + 40, 0x10000n, true);
    expectUserError(() => parseElf(big), /segment 0 data .* lies outside the file/);
    const huge = data.slice();
    new DataView(huge.buffer).setBigUint64(64 + 8, 0xffffffffffffff00n, true); // offset near 2^64
    expectUserError(() => parseElf(huge), /lies outside the file/);
    const fileBigger = data.slice();
    new DataView(fileBigger.buffer).setBigUint64(64 + 40, 8n, true); // memsz < filesz
    expectUserError(() => parseElf(fileBigger), /exceeds p_memsz/);
    const wrap = data.slice();
    new DataView(wrap.buffer).setBigUint64(64 + 24, 0xfffffffffffffff0n, true);
    expectUserError(() => parseElf(wrap), /wraps around/);
    const phoff = data.slice();
    new DataView(phoff.buffer).setBigUint64(32, BigInt(data.length), true);
    expectUserError(() => parseElf(phoff), /program header table/);
    expect(dv.getUint16(56, true)).toBe(1);
  });

  it('turns every truncation of a valid file into a one-line UserError', () => {
    for (const cls of [32, 64] as const) {
      const data = buildElf({
        cls,
        segments: [{ paddr: 0x80000000n, data: code }],
        symbols: [{ name: 'tohost', value: 0x80001000n }],
      });
      expect(() => parseElf(data)).not.toThrow();
      for (let n = 0; n < data.length; n++) {
        // Past the string table only section-table padding can be cut, which still fails.
        expectUserError(() => parseElf(data.subarray(0, n)));
      }
    }
  });

  it('never throws anything but UserError on randomly corrupted files', () => {
    const data = buildElf({
      cls: 64,
      segments: [
        { paddr: 0x80000000n, data: code },
        { paddr: 0x80001000n, data: code, memsz: 0x1000n },
      ],
      symbols: [
        { name: 'tohost', value: 0x80001000n },
        { name: 'fromhost', value: 0x80001008n },
      ],
    });
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let rejected = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const c = data.slice();
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips; k++) c[rnd(c.length)] = rnd(256);
      try {
        parseElf(c);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as Error).message).not.toMatch(/\n/);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100); // the corruption really exercised error paths
  });

  it('checks symbol and string table bounds', () => {
    const data = buildElf({
      cls: 64,
      segments: [{ paddr: 0x80000000n, data: code }],
      symbols: [{ name: 'tohost', value: 1n }],
    });
    const dv = new DataView(data.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    const badName = data.slice();
    const symOff = Number(new DataView(badName.buffer).getBigUint64(shoff + 64 + 24, true));
    new DataView(badName.buffer).setUint32(symOff + 24, 0x7fff, true);
    expectUserError(() => parseElf(badName), /name offset .* outside its string table/);
    const badLink = data.slice();
    new DataView(badLink.buffer).setUint32(shoff + 64 + 40, 9, true);
    expectUserError(() => parseElf(badLink), /bad string table index 9/);
    const badSize = data.slice();
    new DataView(badSize.buffer).setBigUint64(shoff + 64 + 32, 0x100000n, true);
    expectUserError(() => parseElf(badSize), /symbol table .* lies outside the file/);
  });
});

describe('loadImage', () => {
  it('places PT_LOAD segments at p_paddr and zero-fills memsz beyond filesz', () => {
    const ram = fakeRam();
    ram.mem.fill(0xee);
    const data = buildElf({
      cls: 64,
      entry: 0x80000004n,
      segments: [
        { paddr: 0x80000000n, vaddr: 0xffffffff80000000n, data: code },
        { paddr: 0x80200000n, data: code.subarray(0, 4), memsz: 0x300000n },
      ],
    });
    const r = loadImage({ ...baseLoad, data, write: (a, b) => ram.write(a, b) });
    expect(r.entry).toBe(0x80000004n);
    expect(r.elf?.machine).toBe(EM_RISCV);
    expect([...ram.mem.subarray(0, 64)]).toEqual([...code]);
    expect(ram.mem[64]).toBe(0xee);
    expect([...ram.mem.subarray(0x200000, 0x200004)]).toEqual([1, 2, 3, 4]);
    expect(ram.mem.subarray(0x200004, 0x500000).every((b) => b === 0)).toBe(true);
    expect(ram.mem[0x500000]).toBe(0xee);
  });

  it('names both architectures when e_machine is wrong', () => {
    const data = buildElf({ cls: 64, machine: EM_X86_64, segments: [{ paddr: 0x80000000n, data: code }] });
    const e = expectUserError(() => loadImage({ ...baseLoad, path: 'foo.elf', data, write: () => {} }));
    expect(e.message).toBe("-kernel foo.elf: ELF file is for x86-64, but machine 'virt' is riscv64");
    const rv32 = buildElf({ cls: 32, segments: [{ paddr: 0x80000000n, data: code }] });
    expectUserError(
      () => loadImage({ ...baseLoad, expectedClass: 64, data: rv32, write: () => {} }),
      /ELF file is for riscv32, but machine 'virt' is riscv64/,
    );
  });

  it('refuses segments outside RAM before writing anything', () => {
    const writes: bigint[] = [];
    const data = buildElf({
      cls: 64,
      segments: [
        { paddr: 0x80000000n, data: code },
        { paddr: 0x87fff000n, data: code, memsz: 0x2000n },
      ],
    });
    const e = expectUserError(() => loadImage({ ...baseLoad, data, write: (a) => void writes.push(a) }));
    expect(e.message).toBe('-kernel k.elf: segment 0x87fff000 - 0x88000fff is outside RAM (0x80000000 - 0x87ffffff)');
    expect(writes).toEqual([]);
    const low = buildElf({ cls: 64, segments: [{ paddr: 0x1000n, data: code }] });
    expectUserError(() => loadImage({ ...baseLoad, option: '-bios', data: low, write: () => {} }), /^-bios k\.elf: segment 0x1000 - 0x103f/);
  });

  it('skips a header-and-padding prefix below RAM (ld -Ttext layout) but nothing else', () => {
    const padded = new Uint8Array(0x1000 + code.length);
    padded.set(code, 0x1000);
    const ram = fakeRam();
    const ok = buildElf({ cls: 64, entry: 0x80000000n, segments: [{ paddr: 0x7ffff000n, data: padded }] });
    loadImage({ ...baseLoad, data: ok, write: (a, b) => ram.write(a, b) });
    expect([...ram.mem.subarray(0, code.length)]).toEqual([...code]);
    const stray = padded.slice();
    stray[0x800] = 0x13; // a real byte below RAM
    const bad = buildElf({ cls: 64, segments: [{ paddr: 0x7ffff000n, data: stray }] });
    expectUserError(
      () => loadImage({ ...baseLoad, data: bad, write: () => {} }),
      /^-kernel k\.elf: segment 0x7ffff000 - 0x8000003f is outside RAM \(0x80000000 - 0x87ffffff\)$/,
    );
  });

  it('prefixes parse errors with the option and path', () => {
    const data = buildElf({ cls: 64, segments: [{ paddr: 0x80000000n, data: code }] }).subarray(0, 40);
    expectUserError(() => loadImage({ ...baseLoad, data, write: () => {} }), /^-kernel k\.elf: truncated ELF header/);
  });

  it('loads a non-ELF file raw at the load address, and only if it fits', () => {
    const ram = fakeRam();
    const raw = new Uint8Array([0x13, 0, 0, 0, 0x6f, 0, 0, 0]);
    const r = loadImage({ ...baseLoad, path: 'x.bin', data: raw, write: (a, b) => ram.write(a, b), rawLoadAddress: 0x80200000n });
    expect(r).toEqual({ entry: 0x80200000n });
    expect([...ram.mem.subarray(0x200000, 0x200008)]).toEqual([...raw]);
    expectUserError(
      () => loadImage({ ...baseLoad, data: raw, write: () => {}, rawLoadAddress: 0x87fffffcn }),
      /^-kernel k\.elf: image 0x87fffffc - 0x88000003 \(8 bytes\) does not fit in RAM \(0x80000000 - 0x87ffffff\)$/,
    );
    expectUserError(() => loadImage({ ...baseLoad, data: new Uint8Array(0), write: () => {} }), /^-kernel k\.elf: file is empty$/);
  });
});

// ---------------------------------------------------------------------------------
// A real ELF from the cross compiler, checked against binutils' own view of it.

const GCC = 'riscv64-unknown-elf-gcc';
const haveGcc = spawnSync(GCC, ['--version']).status === 0;
if (process.env.CI === 'true' && !haveGcc) throw new Error(`${GCC} is required when CI=true (.ci/run installs it)`);

describe.skipIf(!haveGcc)('parseElf on riscv64-unknown-elf-gcc output', () => {
  let dir = '';
  let elfPath = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-ts-elf-'));
    writeFileSync(
      join(dir, 'prog.c'),
      `volatile unsigned long tohost __attribute__((section(".tohost"))) = 0;
       volatile unsigned long fromhost __attribute__((section(".tohost"))) = 0;
       static char message[] = "hello";
       static int counters[4096]; /* .bss: memsz > filesz */
       void _start(void) {
         counters[message[0]]++;
         tohost = (counters[message[0]] << 1) | 1;
         for (;;) {}
       }`,
    );
    writeFileSync(
      join(dir, 'link.ld'),
      `ENTRY(_start)
       SECTIONS {
         . = 0x80000000;
         .text : { *(.text .text.*) }
         . = ALIGN(0x1000);
         .tohost : { *(.tohost) }
         . = ALIGN(0x1000);
         .data : { *(.data .data.* .sdata .sdata.* .rodata .rodata.*) }
         .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
       }`,
    );
    elfPath = join(dir, 'prog.elf');
    execFileSync(GCC, ['-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-O1', '-nostdlib', '-ffreestanding',
      '-T', join(dir, 'link.ld'), '-o', elfPath, join(dir, 'prog.c')]);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('agrees with nm and readelf', () => {
    const elf = parseElf(new Uint8Array(readFileSync(elfPath)));
    expect(elf.elfClass).toBe(64);
    expect(elf.machine).toBe(EM_RISCV);
    const nm = execFileSync('riscv64-unknown-elf-nm', [elfPath], { encoding: 'utf8' });
    const sym = (name: string): bigint => {
      const line = nm.split('\n').find((l) => l.endsWith(` ${name}`));
      if (!line) throw new Error(`nm has no ${name}`);
      return BigInt('0x' + line.split(' ')[0]);
    };
    expect(findSymbol(elf, 'tohost')?.value).toBe(sym('tohost'));
    expect(findSymbol(elf, 'fromhost')?.value).toBe(sym('fromhost'));
    expect(elf.entry).toBe(sym('_start'));
    const readelf = execFileSync('riscv64-unknown-elf-readelf', ['-lW', elfPath], { encoding: 'utf8' });
    const loads = readelf
      .split('\n')
      .filter((l) => /^\s+LOAD\s/.test(l))
      .map((l) => l.trim().split(/\s+/));
    expect(loads.length).toBe(elf.loadSegments.length);
    loads.forEach((f, i) => {
      const s = elf.loadSegments[i]!;
      // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align
      expect([s.offset, s.vaddr, s.paddr, s.filesz, s.memsz]).toEqual(f.slice(1, 6).map((x) => BigInt(x)));
    });
    expect(elf.loadSegments.some((s) => s.memsz > s.filesz)).toBe(true);
  });

  it('loads the gcc -Ttext layout (headers one page below RAM) as QEMU does', () => {
    writeFileSync(join(dir, 'start.S'), '.globl _start\n_start: li a0, 1\n1: j 1b\n');
    const out = join(dir, 'ttext.elf');
    execFileSync(GCC, ['-nostdlib', '-march=rv64gc', '-mabi=lp64d', '-Wl,-Ttext=0x80000000', '-o', out, join(dir, 'start.S')]);
    const data = new Uint8Array(readFileSync(out));
    const elf = parseElf(data);
    expect(elf.loadSegments[0]!.paddr).toBeLessThan(0x80000000n); // the layout this test is about
    const ram = fakeRam();
    const r = loadImage({ ...baseLoad, data, write: (a, b) => ram.write(a, b) });
    expect(r.entry).toBe(0x80000000n);
    expect(new DataView(ram.mem.buffer).getUint16(0, true)).toBe(0x4505); // c.li a0, 1
  });

  it('loads to the same bytes objcopy -O binary produces', () => {
    const binPath = join(dir, 'prog.bin');
    execFileSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', elfPath, binPath]);
    const expected = new Uint8Array(readFileSync(binPath));
    const ram = fakeRam();
    ram.mem.fill(0xaa);
    const r = loadImage({ ...baseLoad, data: new Uint8Array(readFileSync(elfPath)), write: (a, b) => ram.write(a, b) });
    expect(r.entry).toBe(0x80000000n);
    // objcopy's image starts at the lowest LMA (0x80000000) and ends at the last file byte,
    // with gaps between segments filled with zeros (the loader leaves gaps untouched).
    const elf = r.elf!;
    const touched = new Uint8Array(expected.length);
    for (const s of elf.loadSegments) {
      const from = Number(s.paddr - 0x80000000n);
      touched.fill(1, from, Math.min(expected.length, from + Number(s.memsz)));
    }
    let mismatches = 0;
    for (let i = 0; i < expected.length; i++) {
      const want = touched[i] ? expected[i] : 0xaa;
      if (ram.mem[i] !== want) mismatches++;
    }
    expect(mismatches).toBe(0);
    const fileBytes = elf.loadSegments.reduce((n, s) => n + Number(s.filesz), 0);
    expect(touched.filter((t) => t === 1).length).toBeGreaterThanOrEqual(fileBytes);
    // .bss after the file bytes was zero-filled.
    const bss = elf.loadSegments.find((s) => s.memsz > s.filesz)!;
    const start = Number(bss.paddr + bss.filesz - 0x80000000n);
    const end = Number(bss.paddr + bss.memsz - 0x80000000n);
    expect(ram.mem.subarray(start, end).every((b) => b === 0)).toBe(true);
  });
});
