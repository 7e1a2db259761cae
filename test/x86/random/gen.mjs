// Random instruction sequences for the x86 randomized differential test
// (test/x86-random.test.ts). generateProgram(seed, bits, count) returns NASM source for
// `random_cases`, which runs `count` cases. Each case loads random values into every
// general register but the stack pointer and random arithmetic flags into EFLAGS, runs
// one to three random instructions, and stores the registers and EFLAGS for the C
// driver to print; flags the SDM leaves undefined after an instruction of the case are
// masked out (a case whose undefined flags a later instruction would read ends there).
//
// The instructions are drawn from templates of the integer groups in every operand size
// with random registers and immediates: arithmetic and logic, INC/DEC/NEG/NOT, shifts
// and rotates by immediates and by CL, SHLD/SHRD, MUL/IMUL in their three forms, bit
// tests and scans, BSWAP, SETcc/CMOVcc, XCHG/XADD/CMPXCHG, MOVZX/MOVSX, LEA with random
// addressing forms, CBW..CQO, LAHF/SAHF, CMC/CLC/STC, and (32-bit) the BCD adjustments.
// Registers only: no memory operands besides the dump.

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

/** xorshift32, so a seed reproduces a program. */
export function rng(seed) {
  let x = seed | 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return {
    next,
    below: (n) => next() % n,
    pick: (xs) => xs[next() % xs.length],
  };
}

const NAMES64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const NAMES32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const NAMES16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const NAMES8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const HIGH8 = ['ah', 'ch', 'dh', 'bh'];

const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** A register of `size` bytes (never the stack pointer). */
function reg(r, bits, size) {
  const n = bits === 64 ? 16 : 8;
  let i;
  do i = r.below(n); while (i === 4);
  if (size === 8) return NAMES64[i];
  if (size === 4) return NAMES32[i];
  if (size === 2) return NAMES16[i];
  // Bytes: AL..BL, the high bytes without REX in 32-bit code, SIL.. and R8B.. in 64-bit code.
  if (bits === 32) return i < 4 ? NAMES8[i] : HIGH8[i - 4];
  return NAMES8[i];
}

function imm(r, size) {
  const v = r.next();
  const special = [0, 1, -1, 0x7f, 0x80, 0x7fff, 0x8000, 0x7fffffff, -0x80000000];
  const x = r.below(4) === 0 ? r.pick(special) : v | 0;
  if (size === 1) return String(x & 0xff);
  if (size === 2) return String(x & 0xffff);
  return String(x | 0); // imm32, sign-extended for 64-bit operands
}

/**
 * One instruction: { text, undefinedFlags, readsFlags }. `undefinedFlags` are those the
 * SDM leaves undefined afterwards; `readsFlags`: the instruction's result depends on flags.
 */
function instruction(r, bits) {
  const sizes = bits === 64 ? [1, 2, 4, 8] : [1, 2, 4];
  const size = r.pick(sizes);
  const a = reg(r, bits, size);
  const b = reg(r, bits, size);
  const kind = r.below(24);
  switch (kind) {
    case 0: case 1: {
      const op = r.pick(['add', 'sub', 'cmp', 'adc', 'sbb']);
      const src = r.below(2) ? b : imm(r, Math.min(size, 4));
      return { text: `${op} ${a}, ${src}`, undefinedFlags: 0, readsFlags: op === 'adc' || op === 'sbb' };
    }
    case 2: case 3: {
      const op = r.pick(['and', 'or', 'xor', 'test']);
      const src = r.below(2) ? b : imm(r, Math.min(size, 4));
      return { text: `${op} ${a}, ${src}`, undefinedFlags: AF, readsFlags: false };
    }
    case 4:
      return { text: `${r.pick(['inc', 'dec', 'neg', 'not'])} ${a}`, undefinedFlags: 0, readsFlags: false };
    case 5: case 6: {
      const op = r.pick(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']);
      const byCl = r.below(3) === 0;
      const count = byCl ? 'cl' : String(1 + r.below(size * 8 - 1));
      const rotate = op.startsWith('r');
      // OF is defined for a count of 1 only; AF after shifts is undefined.
      let undef = rotate ? 0 : AF;
      if (byCl || count !== '1') undef |= OF;
      return { text: `${op} ${a}, ${count}`, undefinedFlags: undef, readsFlags: op === 'rcl' || op === 'rcr' };
    }
    case 7: {
      if (size === 1 || size === 2) return { text: `${r.pick(['stc', 'clc', 'cmc'])}`, undefinedFlags: 0, readsFlags: true };
      const op = r.pick(['shld', 'shrd']);
      const byCl = r.below(3) === 0;
      const count = byCl ? 'cl' : String(1 + r.below(size * 8 - 1));
      return { text: `${op} ${a}, ${b}, ${count}`, undefinedFlags: AF | OF, readsFlags: false };
    }
    case 8: {
      // One-operand MUL/IMUL: into rDX:rAX (AX for bytes).
      return { text: `${r.pick(['mul', 'imul'])} ${a}`, undefinedFlags: SF | ZF | AF | PF, readsFlags: false };
    }
    case 9: {
      if (size === 1) return { text: `imul ${reg(r, bits, 4)}, ${reg(r, bits, 4)}`, undefinedFlags: SF | ZF | AF | PF, readsFlags: false };
      if (r.below(2)) return { text: `imul ${a}, ${b}`, undefinedFlags: SF | ZF | AF | PF, readsFlags: false };
      return { text: `imul ${a}, ${b}, ${imm(r, Math.min(size, 4))}`, undefinedFlags: SF | ZF | AF | PF, readsFlags: false };
    }
    case 10: {
      if (size === 1) return { text: `bswap ${reg(r, bits, 4)}`, undefinedFlags: 0, readsFlags: false };
      const op = r.pick(['bt', 'bts', 'btr', 'btc']);
      const src = r.below(2) ? b : String(r.below(256));
      return { text: `${op} ${a}, ${src}`, undefinedFlags: OF | SF | AF | PF, readsFlags: false };
    }
    case 11: {
      if (size === 1) return { text: `set${r.pick(CONDS)} ${a}`, undefinedFlags: 0, readsFlags: true };
      return { text: `${r.pick(['bsf', 'bsr'])} ${a}, ${b}`, undefinedFlags: CF | OF | SF | AF | PF, readsFlags: false };
    }
    case 12: {
      if (size === 1) return { text: `set${r.pick(CONDS)} ${a}`, undefinedFlags: 0, readsFlags: true };
      return { text: `cmov${r.pick(CONDS)} ${a}, ${b}`, undefinedFlags: 0, readsFlags: true };
    }
    case 13: {
      if (size === 1 && bits === 32 && (HIGH8.includes(a) || HIGH8.includes(b))) return { text: `xchg ${a}, ${b}`, undefinedFlags: 0, readsFlags: false };
      // QEMU 7.2 leaves bits 63:32 of a 32-bit CMPXCHG destination register alone when the
      // compare succeeds; the CPU (and qemu-ts) zero them as for every 32-bit write. Not drawn.
      const ops = bits === 64 && size === 4 ? ['xchg', 'xadd'] : ['xchg', 'xadd', 'cmpxchg'];
      return { text: `${r.pick(ops)} ${a}, ${b}`, undefinedFlags: 0, readsFlags: false };
    }
    case 14: {
      if (size === 1) return { text: `mov ${a}, ${b}`, undefinedFlags: 0, readsFlags: false };
      const src = reg(r, bits, r.pick(size === 2 ? [1] : [1, 2]));
      return { text: `${r.pick(['movzx', 'movsx'])} ${a}, ${src}`, undefinedFlags: 0, readsFlags: false };
    }
    case 15: {
      if (bits === 64 && size === 8 && r.below(2)) return { text: `movsxd ${a}, ${reg(r, bits, 4)}`, undefinedFlags: 0, readsFlags: false };
      const dst = reg(r, bits, size === 1 ? 4 : size);
      const w = bits === 64 ? 8 : 4;
      const base = reg(r, bits, w), index = reg(r, bits, w);
      const forms = [`[${base}]`, `[${base} + ${r.below(4096) - 2048}]`, `[${base} + ${index}*${r.pick([1, 2, 4, 8])}]`,
        `[${base} + ${index}*${r.pick([1, 2, 4, 8])} + ${r.next() | 0}]`, `[${index}*${r.pick([2, 4, 8])} + ${r.below(100000)}]`];
      return { text: `lea ${dst}, ${r.pick(forms)}`, undefinedFlags: 0, readsFlags: false };
    }
    case 16: {
      const ops = bits === 64 ? ['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo'] : ['cbw', 'cwde', 'cwd', 'cdq'];
      return { text: r.pick(ops), undefinedFlags: 0, readsFlags: false };
    }
    case 17:
      return { text: r.pick(['lahf', 'sahf', 'cmc', 'clc', 'stc']), undefinedFlags: 0, readsFlags: true };
    case 18: {
      if (bits === 64) return { text: `${r.pick(['add', 'sub', 'xor'])} ${a}, ${b}`, undefinedFlags: 0, readsFlags: false };
      // BCD adjustments (not in 64-bit code). AAM 0 would be #DE.
      const op = r.pick(['daa', 'das', 'aaa', 'aas', 'aam', 'aad']);
      const undef = { daa: OF, das: OF, aaa: OF | SF | ZF | PF, aas: OF | SF | ZF | PF, aam: OF | AF | CF, aad: OF | AF | CF }[op];
      const arg = op === 'aam' || op === 'aad' ? ` ${1 + r.below(255)}` : '';
      return { text: `${op}${arg}`, undefinedFlags: undef, readsFlags: op !== 'aam' && op !== 'aad' };
    }
    default: {
      const op = r.pick(['add', 'sub', 'and', 'or', 'xor', 'adc', 'sbb', 'cmp']);
      const undef = ['and', 'or', 'xor'].includes(op) ? AF : 0;
      return { text: `${op} ${a}, ${imm(r, Math.min(size, 4))}`, undefinedFlags: undef, readsFlags: op === 'adc' || op === 'sbb' };
    }
  }
}

/** The cases: [{ insns: string[], flagMask }]. */
export function generateCases(seed, bits, count) {
  const r = rng(seed);
  const cases = [];
  for (let c = 0; c < count; c++) {
    const n = 1 + r.below(3);
    const insns = [];
    let undefinedFlags = 0;
    for (let k = 0; k < n; k++) {
      const i = instruction(r, bits);
      // Stop before an instruction that would read flags left undefined.
      if (i.readsFlags && undefinedFlags) break;
      insns.push(i.text);
      // A later instruction that defines flags again does not make them defined: keep the union.
      undefinedFlags |= i.undefinedFlags;
    }
    cases.push({ insns, flagMask: ALL & ~undefinedFlags, regs: Array.from({ length: 16 }, () => [r.next(), r.next()]), flags: r.next() & ALL });
  }
  return cases;
}

/** NASM source of `random_cases` for the cases (see the driver, random.c). */
export function programSource(cases, bits) {
  const lines = [`bits ${bits}`, 'section .text', 'global random_cases', 'extern random_dump', 'extern random_saved', 'random_cases:'];
  const w = bits === 64 ? 8 : 4;
  const names = bits === 64 ? NAMES64 : NAMES32.slice(0, 8);
  if (bits === 64) lines.push('  push rbx', '  push rbp', '  push r12', '  push r13', '  push r14', '  push r15');
  else lines.push('  push ebx', '  push ebp', '  push esi', '  push edi');
  cases.forEach((c, k) => {
    lines.push(`; case ${k}: ${c.insns.join('; ')}`);
    names.forEach((n, i) => {
      if (i === 4) return;
      const [lo, hi] = c.regs[i];
      lines.push(bits === 64 ? `  mov ${n}, 0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}` : `  mov ${n}, 0x${lo.toString(16)}`);
    });
    lines.push(`  push ${c.flags}`, bits === 64 ? '  popfq' : '  popfd');
    for (const i of c.insns) lines.push(`  ${i}`);
    // Store the registers, then the flags (masked), then let C print them.
    names.forEach((n, i) => lines.push(bits === 64 ? `  mov [rel random_saved + ${i * w}], ${n}` : `  mov [random_saved + ${i * w}], ${n}`));
    if (bits === 64) {
      lines.push('  pushfq', '  pop rax', `  and rax, ${c.flagMask}`, `  mov [rel random_saved + ${16 * w}], rax`, `  mov edi, ${k}`, '  call random_dump');
    } else {
      lines.push('  pushfd', '  pop eax', `  and eax, ${c.flagMask}`, `  mov [random_saved + ${8 * w}], eax`, `  push ${k}`, '  call random_dump', '  add esp, 4');
    }
  });
  if (bits === 64) lines.push('  pop r15', '  pop r14', '  pop r13', '  pop r12', '  pop rbp', '  pop rbx', '  ret');
  else lines.push('  pop edi', '  pop esi', '  pop ebp', '  pop ebx', '  ret');
  return lines.join('\n') + '\n';
}
