/**
 * CPUID models: what each `-cpu` model offers. glibc and Linux pick code paths by CPUID,
 * so a model offers exactly what the CPU implements and nothing more; an instruction of
 * a feature the model lacks raises #UD (the translator checks `features`).
 *
 * qemu32 and qemu64 follow the feature sets QEMU gives those models (without the bits we
 * do not implement); max is everything implemented here.
 */

/** CPUID.1:EDX bits. */
export const enum Edx1 {
  FPU = 1 << 0, VME = 1 << 1, DE = 1 << 2, PSE = 1 << 3, TSC = 1 << 4, MSR = 1 << 5, PAE = 1 << 6, MCE = 1 << 7,
  CX8 = 1 << 8, APIC = 1 << 9, SEP = 1 << 11, MTRR = 1 << 12, PGE = 1 << 13, MCA = 1 << 14, CMOV = 1 << 15,
  PAT = 1 << 16, PSE36 = 1 << 17, CLFLUSH = 1 << 19, MMX = 1 << 23, FXSR = 1 << 24, SSE = 1 << 25, SSE2 = 1 << 26,
}
/** CPUID.1:ECX bits. */
export const enum Ecx1 {
  SSE3 = 1 << 0, SSSE3 = 1 << 9, CX16 = 1 << 13, POPCNT = 1 << 23, HYPERVISOR = 1 << 31,
}
/** CPUID.80000001h:EDX and ECX bits. */
export const enum Edx81 {
  SYSCALL = 1 << 11, NX = 1 << 20, RDTSCP = 1 << 27, LM = 1 << 29,
}
export const enum Ecx81 {
  LAHF_LM = 1 << 0,
  /** LZCNT. */
  ABM = 1 << 5,
}

export interface CpuModel {
  name: string;
  vendor: string;
  /** Family/model/stepping word (CPUID.1:EAX). */
  signature: number;
  edx1: number;
  ecx1: number;
  edx81: number;
  ecx81: number;
  brand: string;
}

const BASE_EDX = Edx1.FPU | Edx1.DE | Edx1.PSE | Edx1.TSC | Edx1.MSR | Edx1.PAE | Edx1.MCE | Edx1.CX8 | Edx1.APIC |
  Edx1.SEP | Edx1.MTRR | Edx1.PGE | Edx1.MCA | Edx1.CMOV | Edx1.PAT | Edx1.PSE36 | Edx1.FXSR | Edx1.MMX | Edx1.SSE |
  Edx1.SSE2 | Edx1.CLFLUSH;

export const CPU_MODELS: Record<string, CpuModel> = {
  qemu32: {
    name: 'qemu32', vendor: 'GenuineIntel', signature: 0x00000663,
    edx1: BASE_EDX & ~Edx1.CLFLUSH, ecx1: Ecx1.SSE3 | Ecx1.HYPERVISOR, edx81: 0, ecx81: 0,
    brand: 'QEMU Virtual CPU version 2.5+',
  },
  qemu64: {
    name: 'qemu64', vendor: 'AuthenticAMD', signature: 0x00000f61,
    edx1: BASE_EDX, ecx1: Ecx1.SSE3 | Ecx1.CX16 | Ecx1.HYPERVISOR, edx81: Edx81.SYSCALL | Edx81.NX | Edx81.LM, ecx81: Ecx81.LAHF_LM,
    brand: 'QEMU Virtual CPU version 2.5+',
  },
  max: {
    name: 'max', vendor: 'GenuineIntel', signature: 0x000106a5,
    edx1: BASE_EDX, ecx1: Ecx1.SSE3 | Ecx1.SSSE3 | Ecx1.CX16 | Ecx1.POPCNT | Ecx1.HYPERVISOR,
    edx81: Edx81.SYSCALL | Edx81.NX | Edx81.RDTSCP | Edx81.LM, ecx81: Ecx81.LAHF_LM | Ecx81.ABM,
    brand: 'qemu-ts x86 CPU (max)',
  },
};

/** Feature names of the opcode table's feature column, as offered by a model. */
export function modelFeatures(m: CpuModel): Set<string> {
  const f = new Set<string>(['', 'fpu']);
  const add = (bit: boolean, ...names: string[]) => bit && names.forEach((n) => f.add(n));
  add((m.edx1 & Edx1.CMOV) !== 0, 'cmov');
  add((m.edx1 & Edx1.CX8) !== 0, 'cx8');
  add((m.edx1 & Edx1.MMX) !== 0, 'mmx');
  add((m.edx1 & Edx1.SSE) !== 0, 'sse');
  add((m.edx1 & Edx1.SSE2) !== 0, 'sse2');
  add((m.edx1 & Edx1.FXSR) !== 0, 'fxsr');
  add((m.edx1 & Edx1.SEP) !== 0, 'sep', 'sysenter');
  add((m.edx1 & Edx1.TSC) !== 0, 'tsc');
  add((m.edx1 & Edx1.MSR) !== 0, 'msr');
  add((m.edx1 & Edx1.CLFLUSH) !== 0, 'clflush', 'clfsh');
  add((m.ecx1 & Ecx1.SSE3) !== 0, 'sse3', 'monitor');
  add((m.ecx1 & Ecx1.SSSE3) !== 0, 'ssse3');
  add((m.ecx1 & Ecx1.CX16) !== 0, 'cx16');
  add((m.ecx1 & Ecx1.POPCNT) !== 0, 'popcnt');
  add((m.edx81 & Edx81.SYSCALL) !== 0, 'syscall');
  add((m.edx81 & Edx81.RDTSCP) !== 0, 'rdtscp');
  add((m.edx81 & Edx81.LM) !== 0, 'lm');
  add((m.ecx81 & Ecx81.LAHF_LM) !== 0, 'lahf', 'lahf_lm');
  add((m.ecx81 & Ecx81.ABM) !== 0, 'abm', 'lzcnt');
  return f;
}

/** CPUID features `-cpu model,+name` / `-name` / `name=on|off` can switch (QEMU's names). */
const SWITCHABLE: Record<string, ['edx1' | 'ecx1' | 'edx81' | 'ecx81', number]> = {
  sse3: ['ecx1', Ecx1.SSE3], pni: ['ecx1', Ecx1.SSE3], ssse3: ['ecx1', Ecx1.SSSE3], cx16: ['ecx1', Ecx1.CX16],
  popcnt: ['ecx1', Ecx1.POPCNT], abm: ['ecx81', Ecx81.ABM], 'lahf-lm': ['ecx81', Ecx81.LAHF_LM],
  lahf_lm: ['ecx81', Ecx81.LAHF_LM], syscall: ['edx81', Edx81.SYSCALL], nx: ['edx81', Edx81.NX],
  lm: ['edx81', Edx81.LM], rdtscp: ['edx81', Edx81.RDTSCP], clflush: ['edx1', Edx1.CLFLUSH],
  pse36: ['edx1', Edx1.PSE36], sep: ['edx1', Edx1.SEP],
};

/**
 * The model with features switched by `-cpu` properties ({ popcnt: 'on', nx: 'off' });
 * throws an Error naming the first property it cannot apply. Only features qemu-ts
 * implements can be switched on.
 */
export function withCpuProps(m: CpuModel, props: Record<string, string>): CpuModel {
  const out = { ...m };
  for (const [name, value] of Object.entries(props)) {
    const bit = SWITCHABLE[name];
    if (!bit) throw new Error(`property '${name}' not found (switchable: ${Object.keys(SWITCHABLE).join(', ')})`);
    if (value !== 'on' && value !== 'off') throw new Error(`property '${name}' takes on or off, not '${value}'`);
    const [word, mask] = bit;
    out[word] = value === 'on' ? out[word] | mask : out[word] & ~mask;
  }
  return out;
}

const str4 = (s: string, i: number): number =>
  (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) | 0;

/** CPUID leaf `leaf`, subleaf `sub`: [eax, ebx, ecx, edx]. */
export function cpuid(m: CpuModel, leaf: number, _sub: number, apicId: number): [number, number, number, number] {
  leaf >>>= 0;
  const v = m.vendor;
  const maxBasic = 0xd;
  const maxExt = 0x80000008;
  if (leaf >= 0x80000000) {
    if (leaf > maxExt) leaf = maxBasic; // as Intel CPUs answer out-of-range leaves
  } else if (leaf > maxBasic) {
    leaf = maxBasic;
  }
  switch (leaf) {
    case 0: return [maxBasic, str4(v, 0), str4(v, 8), str4(v, 4)];
    case 1:
      // EBX: CLFLUSH line size 8 (x 8 bytes), one logical processor, the APIC id.
      return [m.signature, (apicId << 24) | (1 << 16) | (8 << 8), m.ecx1, m.edx1];
    case 0x80000000: return [maxExt, 0, 0, 0];
    case 0x80000001: return [0, 0, m.ecx81, m.edx81];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const brand = m.brand.padEnd(48, '\0');
      const o = (leaf - 0x80000002) * 16;
      return [str4(brand, o), str4(brand, o + 4), str4(brand, o + 8), str4(brand, o + 12)];
    }
    case 0x80000008:
      // Physical and linear address widths.
      return [(m.edx81 & Edx81.LM ? 48 : 32) << 8 | 40, 0, 0, 0];
    default:
      return [0, 0, 0, 0];
  }
}
