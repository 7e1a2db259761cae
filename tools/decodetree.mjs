#!/usr/bin/env node
// decodetree.mjs — a small decodetree-style instruction decoder generator.
//
// The idea (not the code) follows QEMU's scripts/decodetree.py: an ISA's
// encodings are *declared* in a text file as fields, argument sets, formats
// and patterns, and this tool compiles them into a TypeScript decision tree.
// The output contains:
//   * one `Arg<Name>` interface per `&name` argument set (all fields `number`);
//   * one translator interface (default `RiscvTranslator`) that requires a
//     method `trans_<pattern>(a: Arg<Set>): boolean` per distinct pattern name,
//     so a missing handler is a compile error;
//   * one `export function <funcName>(t, insn): boolean` per input file, which
//     switches on the fixed opcode bits, extracts the fields into a
//     preallocated (module-level) argument object and calls the handler.
//     It returns false when nothing matched, when a `!reserved` pattern
//     matched, or when every matching handler returned false.
//
// ---------------------------------------------------------------------------
// Input syntax (a practical subset of QEMU's, plus two small extensions)
// ---------------------------------------------------------------------------
//   # comment to end of line;  a trailing backslash continues a line.
//
//   %name seg... [!shl=N] [!add=N]                              field
//       seg is `pos:len` (unsigned) or `pos:slen` / `pos:lens` (signed).
//       Segments are concatenated MSB-first: the first segment supplies the
//       most significant bits (only the first one may be signed).  The result
//       is then shifted left by N (`!shl`) and N is added (`!add`), e.g.
//       `%imm_b 31:s1 7:1 25:6 8:4 !shl=1` or `%rs1_3 7:3 !add=8`.
//
//   &name field...                                              argument set
//
//   @name token...                                              format
//   name token...                                               pattern
//   !reserved token...                                          reserved code
//       Tokens:
//         0 1 . -     fixed 0 / fixed 1 / don't care / ignored (same as .);
//                     consecutive bit tokens are concatenated MSB-first and
//                     must add up to the instruction width (32 or 16).
//         f:len f:slen  inline field of `len` bits at this position; also
//                     assigns argument `f` from it.
//         %f          assign argument `f` from field %f.
//         a=%f        assign argument `a` from field %f.
//         a=N         assign the constant N (decimal, 0x.., may be negative).
//         &set        the argument set.
//         @fmt        (patterns only) inherit the format's bits, argument set
//                     and assignments; the pattern's own ones are added and
//                     override.
//       A `!reserved` pattern takes no arguments; when it matches, the decoder
//       returns false immediately (the encoding is illegal) — used for
//       reserved code points that would otherwise fall into a broader pattern.
//
//   {  ...  }     overlap group: members are tried in order, the first one
//                 that matches and whose handler returns true wins.
//   [  ...  ]     non-overlapping group (optional; the file itself is one).
//
// Patterns and groups that are direct members of a non-overlapping container
// (the file, or a `[ ]` group) must not overlap; the generator checks this and
// reports `file:line`.
//
// API:  generateDecoder({ inputs: [{ path, insnBits, funcName, text? }],
//                         output?, translatorName? }) -> generated source
//       (written to `output` when given; `text` overrides reading `path`).
// CLI:  node tools/decodetree.mjs OUT.ts IN.decode:BITS:FUNC... [--translator=Name]

import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

class DecodeError extends Error {}

function fail(where, msg) {
  throw new DecodeError(`${where}: ${msg}`);
}

/** Parse an integer constant: decimal, 0x hex, 0b binary, optional sign. */
function parseConst(s) {
  const m = /^(-?)(0x[0-9a-fA-F]+|0b[01]+|[0-9]+)$/.exec(s);
  if (!m) return null;
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

const u32 = (v) => v >>> 0;

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/**
 * Parse one decode file.
 * Returns { fields, argsets, formats, root } where root is a non-overlapping
 * group of items. Items are patterns ({kind:'pattern'}) or groups
 * ({kind:'overlap'|'nonoverlap', items}).
 * `shared` holds argsets across files so that the same `&name` is one type.
 */
function parseFile(text, path, insnBits, shared) {
  const fields = new Map(); // name -> { name, segs:[{pos,len,signed}], shl, add }
  const formats = new Map(); // name -> { mask, bits, argset, assigns:Map, line }
  const root = { kind: 'nonoverlap', items: [], line: 0, path };
  const stack = [root];

  // Join continuation lines, strip comments, keep line numbers.
  const rawLines = text.split(/\r?\n/);
  const lines = [];
  for (let i = 0; i < rawLines.length; i++) {
    const lineNo = i + 1;
    let s = rawLines[i];
    while (/\\\s*$/.test(s) && i + 1 < rawLines.length) {
      s = s.replace(/\\\s*$/, ' ') + rawLines[++i];
    }
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    const toks = s.trim().split(/\s+/).filter((t) => t.length > 0);
    if (toks.length) lines.push({ lineNo, toks });
  }

  for (const { lineNo, toks: allToks } of lines) {
    const where = `${path}:${lineNo}`;
    let toks = allToks;
    // Group delimiters may precede other tokens on a line.
    while (toks.length && /^[{}[\]]$/.test(toks[0])) {
      const d = toks[0];
      toks = toks.slice(1);
      if (d === '{' || d === '[') {
        const g = { kind: d === '{' ? 'overlap' : 'nonoverlap', items: [], line: lineNo, path };
        stack[stack.length - 1].items.push(g);
        stack.push(g);
      } else {
        const g = stack.pop();
        if (!g || g === root || (d === '}') !== (g.kind === 'overlap')) fail(where, `unbalanced '${d}'`);
        if (g.items.length === 0) fail(where, 'empty group');
      }
    }
    if (!toks.length) continue;
    const head = toks[0];
    const rest = toks.slice(1);

    if (head[0] === '%') {
      const name = head.slice(1);
      if (!IDENT.test(name)) fail(where, `bad field name '${head}'`);
      if (fields.has(name)) fail(where, `field %${name} redefined`);
      const f = { name, segs: [], shl: 0, add: 0 };
      for (const t of rest) {
        let m;
        if ((m = /^!(shl|add)=(.+)$/.exec(t))) {
          const v = parseConst(m[2]);
          if (v === null) fail(where, `bad value in '${t}'`);
          if (m[1] === 'shl') f.shl = v;
          else f.add = v;
        } else if ((m = /^(\d+):(s?)(\d+)(s?)$/.exec(t))) {
          const pos = Number(m[1]);
          const len = Number(m[3]);
          const signed = m[2] === 's' || m[4] === 's';
          if (len < 1 || pos + len > insnBits) fail(where, `segment '${t}' out of range`);
          if (signed && f.segs.length) fail(where, `only the first (most significant) segment may be signed`);
          f.segs.push({ pos, len, signed });
        } else {
          fail(where, `bad field segment '${t}'`);
        }
      }
      if (!f.segs.length) fail(where, `field %${name} has no segments`);
      const width = f.segs.reduce((n, s) => n + s.len, 0) + f.shl;
      if (width > 32) fail(where, `field %${name} is wider than 32 bits`);
      fields.set(name, f);
      continue;
    }

    if (head[0] === '&') {
      const name = head.slice(1);
      if (!IDENT.test(name)) fail(where, `bad argument set name '${head}'`);
      for (const t of rest) if (!IDENT.test(t)) fail(where, `bad argument name '${t}'`);
      if (new Set(rest).size !== rest.length) fail(where, `duplicate argument in &${name}`);
      const prev = shared.argsets.get(name);
      if (prev) {
        if (prev.fields.join(' ') !== rest.join(' '))
          fail(where, `&${name} redefined differently (first at ${prev.where})`);
      } else {
        shared.argsets.set(name, { name, fields: rest, where });
      }
      continue;
    }

    // Format or pattern.
    const isFormat = head[0] === '@';
    const isReserved = head === '!reserved';
    const name = isFormat ? head.slice(1) : head;
    if (!isReserved && !IDENT.test(name)) fail(where, `bad name '${head}'`);
    if (isFormat && formats.has(name)) fail(where, `format @${name} redefined`);

    let bitStr = '';
    let argset = null;
    let format = null;
    const assigns = new Map(); // arg -> { kind:'field', field } | { kind:'const', value }
    const inline = []; // { name, offset (from MSB), len, signed }
    for (const t of rest) {
      let m;
      if (/^[01.\-]+$/.test(t)) {
        bitStr += t;
      } else if ((m = /^([A-Za-z_][A-Za-z0-9_]*):(s?)(\d+)$/.exec(t))) {
        const len = Number(m[3]);
        inline.push({ name: m[1], offset: bitStr.length, len, signed: m[2] === 's' });
        bitStr += '.'.repeat(len);
      } else if (t[0] === '&') {
        const a = t.slice(1);
        if (!shared.argsets.has(a)) fail(where, `unknown argument set '${t}'`);
        argset = a;
      } else if (t[0] === '@') {
        if (isFormat) fail(where, 'a format cannot reference a format');
        const f = formats.get(t.slice(1));
        if (!f) fail(where, `unknown format '${t}'`);
        format = f;
      } else if (t[0] === '%') {
        const fname = t.slice(1);
        if (!fields.has(fname)) fail(where, `unknown field '${t}'`);
        assigns.set(fname, { kind: 'field', field: fields.get(fname) });
      } else if ((m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(t))) {
        const arg = m[1];
        const val = m[2];
        if (val[0] === '%') {
          const f = fields.get(val.slice(1));
          if (!f) fail(where, `unknown field '${val}'`);
          assigns.set(arg, { kind: 'field', field: f });
        } else {
          const c = parseConst(val);
          if (c === null) fail(where, `bad constant in '${t}'`);
          assigns.set(arg, { kind: 'const', value: c });
        }
      } else {
        fail(where, `unexpected token '${t}'`);
      }
    }
    if (bitStr.length !== insnBits)
      fail(where, `bit pattern has ${bitStr.length} bits, expected ${insnBits}`);
    let mask = 0;
    let bits = 0;
    for (let i = 0; i < insnBits; i++) {
      const c = bitStr[i];
      const bit = insnBits - 1 - i;
      if (c === '0' || c === '1') {
        mask = u32(mask | (1 << bit));
        if (c === '1') bits = u32(bits | (1 << bit));
      }
    }
    for (const f of inline) {
      const fld = {
        name: `${f.name}@${lineNo}`,
        segs: [{ pos: insnBits - f.offset - f.len, len: f.len, signed: f.signed }],
        shl: 0,
        add: 0,
      };
      assigns.set(f.name, { kind: 'field', field: fld });
    }

    if (isFormat) {
      formats.set(name, { name, mask, bits, argset, assigns, line: lineNo });
      continue;
    }

    // Pattern: merge with its format.
    let allAssigns = assigns;
    if (format) {
      const clash = format.mask & mask & (format.bits ^ bits);
      if (clash) fail(where, `fixed bits conflict with format @${format.name}`);
      mask = u32(mask | format.mask);
      bits = u32(bits | format.bits);
      argset = argset ?? format.argset;
      allAssigns = new Map([...format.assigns, ...assigns]);
    }
    const pat = { kind: 'pattern', name, reserved: isReserved, mask, bits, argset, assigns: allAssigns, line: lineNo, path };
    if (isReserved) {
      pat.argset = null;
      pat.assigns = new Map();
    } else {
      if (!argset) {
        if (allAssigns.size) fail(where, `pattern '${name}' assigns arguments but names no argument set`);
        if (!shared.argsets.has('empty')) shared.argsets.set('empty', { name: 'empty', fields: [], where });
        argset = 'empty';
        pat.argset = argset;
      }
      const set = shared.argsets.get(argset);
      for (const a of allAssigns.keys())
        if (!set.fields.includes(a)) fail(where, `argument '${a}' is not in &${argset}`);
      for (const a of set.fields)
        if (!allAssigns.has(a)) fail(where, `argument '${a}' of &${argset} is not assigned`);
      const prev = shared.patterns.get(name);
      if (prev && prev.argset !== argset)
        fail(where, `pattern '${name}' uses &${argset} but &${prev.argset} at ${prev.where}`);
      if (!prev) shared.patterns.set(name, { argset, where });
    }
    stack[stack.length - 1].items.push(pat);
  }
  if (stack.length !== 1) fail(`${path}:${stack[stack.length - 1].line}`, 'unclosed group');
  return { fields, formats, root };
}

// ---------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------

/** Fill mask/bits of groups: the bits fixed (to the same value) in all members. */
function computeGroupMasks(item) {
  if (item.kind === 'pattern') return;
  let mask = 0xffffffff;
  let bits = null;
  for (const m of item.items) {
    computeGroupMasks(m);
    mask &= m.mask;
    if (bits === null) bits = m.bits;
    else mask &= ~(bits ^ m.bits);
  }
  item.mask = u32(mask);
  item.bits = u32((bits ?? 0) & mask);
}

function describe(item) {
  const what = item.kind === 'pattern' ? `pattern '${item.name}'` : `${item.kind} group`;
  return `${what} at ${item.path}:${item.line}`;
}

/** Members of non-overlapping containers must be pairwise disjoint. */
function checkOverlaps(group) {
  if (group.kind === 'pattern') return;
  if (group.kind === 'nonoverlap') {
    const it = group.items;
    for (let i = 0; i < it.length; i++) {
      for (let j = i + 1; j < it.length; j++) {
        const a = it[i];
        const b = it[j];
        if (((a.bits ^ b.bits) & a.mask & b.mask) === 0) {
          fail(`${b.path}:${b.line}`, `${describe(b)} overlaps ${describe(a)}; put them in a { } group`);
        }
      }
    }
  }
  for (const m of group.items) checkOverlaps(m);
}

// ---------------------------------------------------------------------------
// Code generation
// ---------------------------------------------------------------------------

const pascal = (s) =>
  s
    .split('_')
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
const typeName = (set) => `Arg${pascal(set)}`;
const varName = (set) => `arg_${set}`;

/** Hex literal of the int32 value of v (so it compares equal to `insn & m`). */
function hex32(v) {
  const s = v | 0;
  return s < 0 ? `-0x${(-s).toString(16)}` : `0x${s.toString(16)}`;
}

/** TypeScript expression extracting a field from `insn`. */
function fieldExpr(f) {
  let expr = null;
  for (const { pos, len, signed } of f.segs) {
    let e;
    if (signed) {
      const l = 32 - pos - len;
      e = l ? `((insn << ${l}) >> ${32 - len})` : `(insn >> ${pos})`;
    } else if (pos + len === 32) {
      e = `(insn >>> ${pos})`;
    } else {
      const m = `0x${(2 ** len - 1).toString(16)}`;
      e = pos ? `((insn >>> ${pos}) & ${m})` : `(insn & ${m})`;
    }
    expr = expr === null ? e : `((${expr} << ${len}) | ${e})`;
  }
  if (f.shl) expr = `(${expr} << ${f.shl})`;
  if (f.add) expr = `(${expr} + ${f.add})`;
  return expr;
}

/** Contiguous runs of set bits in mask, lowest first: [{pos, len}]. */
function runsOf(mask) {
  const runs = [];
  for (let b = 0; b < 32; ) {
    if ((mask >>> b) & 1) {
      let e = b;
      while (e < 32 && (mask >>> e) & 1) e++;
      runs.push({ pos: b, len: e - b });
      b = e;
    } else b++;
  }
  return runs;
}

/** Pack the bits selected by `runs` of value v into a dense key (same int32 ops as the emitted code). */
function packKey(v, runs) {
  let key = 0;
  let off = 0;
  for (const { pos, len } of runs) {
    const m = len === 32 ? 0xffffffff : 2 ** len - 1;
    key |= ((v >>> pos) & m) << off;
    off += len;
  }
  return key;
}

function packExpr(runs) {
  let off = 0;
  const parts = [];
  for (const { pos, len } of runs) {
    const m = len === 32 ? '0xffffffff' : `0x${(2 ** len - 1).toString(16)}`;
    let e = pos ? `((insn >>> ${pos}) & ${m})` : `(insn & ${m})`;
    if (off) e = `(${e} << ${off})`;
    parts.push(e);
    off += len;
  }
  return parts.join(' | ');
}

class Emitter {
  constructor() {
    this.lines = [];
    this.depth = 1;
    this.labels = 0;
  }
  line(s) {
    this.lines.push('  '.repeat(this.depth) + s);
  }
  indent() {
    this.depth++;
  }
  dedent() {
    this.depth--;
  }
  label() {
    return `L${++this.labels}`;
  }
}

/** Condition that checks the item's fixed bits not already known, or null. */
function matchCond(item, known) {
  const m = u32(item.mask & ~known);
  if (!m) return null;
  return `(insn & ${hex32(m)}) === ${hex32(item.bits & m)}`;
}

/**
 * Emit the code for an item whose fixed bits are known to match.
 * `failStmt` is executed when the item does not (finally) succeed:
 * 'return false;' at the top level, 'break Ln;' inside an overlap group,
 * or null to fall through to the next member of an overlap group.
 */
function emitBody(em, item, known, failStmt) {
  if (item.kind === 'pattern') {
    if (item.reserved) {
      em.line(`return false; // reserved (${item.path}:${item.line})`);
      return;
    }
    const v = varName(item.argset);
    for (const [arg, a] of item.assigns) {
      const rhs = a.kind === 'const' ? String(a.value) : fieldExpr(a.field);
      em.line(`${v}.${arg} = ${rhs};`);
    }
    const call = `t.trans_${item.name}(${v})`;
    if (failStmt === 'return false;') {
      em.line(`return ${call}; // ${item.path}:${item.line}`);
    } else {
      em.line(`if (${call}) return true; // ${item.path}:${item.line}`);
      if (failStmt) em.line(failStmt);
    }
    return;
  }
  if (item.kind === 'nonoverlap') {
    if (failStmt) {
      emitTree(em, item.items, known, failStmt);
    } else {
      const l = em.label();
      em.line(`${l}: {`);
      em.indent();
      emitTree(em, item.items, known, `break ${l};`);
      em.dedent();
      em.line('}');
    }
    return;
  }
  // Overlap group: try each member in order.
  for (let idx = 0; idx < item.items.length; idx++) {
    const m = item.items[idx];
    const cond = matchCond(m, known);
    const inner = u32(known | m.mask);
    if (idx === item.items.length - 1 && m.kind === 'pattern' && failStmt) {
      // Last member: its failure is the group's failure.
      if (cond) em.line(`if (!(${cond})) ${failStmt}`);
      emitBody(em, m, inner, failStmt);
      return;
    }
    if (m.kind === 'nonoverlap') {
      const l = em.label();
      em.line(`${l}: {`);
      em.indent();
      if (cond) em.line(`if (!(${cond})) break ${l};`);
      emitTree(em, m.items, inner, `break ${l};`);
      em.dedent();
      em.line('}');
    } else if (cond) {
      em.line(`if (${cond}) {`);
      em.indent();
      emitBody(em, m, inner, null);
      em.dedent();
      em.line('}');
    } else {
      emitBody(em, m, inner, null);
    }
  }
  if (failStmt) em.line(failStmt);
}

/** Emit a decision tree over non-overlapping items. Every path ends in return/failStmt. */
function emitTree(em, items, known, failStmt) {
  if (items.length === 1) {
    const item = items[0];
    const cond = matchCond(item, known);
    if (cond) em.line(`if (!(${cond})) ${failStmt}`);
    emitBody(em, item, u32(known | item.mask), failStmt);
    return;
  }
  let common = 0xffffffff;
  for (const it of items) common &= it.mask;
  common = u32(common & ~known);
  if (!common) {
    // No bit is fixed in every item: test them one after the other (they do
    // not overlap, so at most one can match).
    for (const it of items) {
      const cond = matchCond(it, known);
      em.line(`if (${cond ?? 'true'}) {`);
      em.indent();
      emitBody(em, it, u32(known | it.mask), failStmt);
      em.dedent();
      em.line('}');
    }
    em.line(failStmt);
    return;
  }
  const runs = runsOf(common);
  const cases = new Map();
  for (const it of items) {
    const k = packKey(it.bits, runs);
    if (!cases.has(k)) cases.set(k, []);
    cases.get(k).push(it);
  }
  const keys = [...cases.keys()].sort((a, b) => a - b);
  em.line(`switch (${packExpr(runs)}) {`);
  em.indent();
  const inner = u32(known | common);
  for (const k of keys) {
    const sub = cases.get(k);
    const names = sub.map((s) => (s.kind === 'pattern' ? s.name : `{${s.kind}}`));
    const shown = names.length > 6 ? names.slice(0, 6).join(' ') + ' ...' : names.join(' ');
    em.line(`case ${hex32(k)}: { // ${shown}`);
    em.indent();
    emitTree(em, sub, inner, failStmt);
    em.dedent();
    em.line('}');
  }
  em.line(`default: ${failStmt}`);
  em.dedent();
  em.line('}');
}

/**
 * Generate the decoder source for the given inputs.
 * @param {{inputs: {path: string, insnBits: 16|32, funcName: string, text?: string}[],
 *          output?: string, translatorName?: string}} opts
 * @returns {string} the generated TypeScript source
 */
export function generateDecoder(opts) {
  const { inputs, output, translatorName = 'RiscvTranslator' } = opts;
  if (!inputs || !inputs.length) throw new DecodeError('generateDecoder: no inputs');
  const shared = { argsets: new Map(), patterns: new Map() };
  const parsed = [];
  for (const inp of inputs) {
    if (inp.insnBits !== 16 && inp.insnBits !== 32) throw new DecodeError(`${inp.path}: insnBits must be 16 or 32`);
    if (!IDENT.test(inp.funcName)) throw new DecodeError(`${inp.path}: bad function name '${inp.funcName}'`);
    const text = inp.text ?? readFileSync(inp.path, 'utf8');
    const p = parseFile(text, inp.path, inp.insnBits, shared);
    computeGroupMasks(p.root);
    checkOverlaps(p.root);
    parsed.push({ ...inp, ...p });
  }

  const out = [];
  out.push('// GENERATED by tools/decodetree.mjs — do not edit.');
  out.push(`// Sources: ${inputs.map((i) => i.path).join(', ')}`);
  out.push('/* eslint-disable */');
  out.push('');
  for (const set of shared.argsets.values()) {
    out.push(`export interface ${typeName(set.name)} {`);
    for (const f of set.fields) out.push(`  ${f}: number;`);
    out.push('}');
  }
  out.push('');
  out.push('/** One handler per pattern; return false to signal an illegal instruction. */');
  out.push(`export interface ${translatorName} {`);
  for (const [name, p] of shared.patterns) out.push(`  trans_${name}(a: ${typeName(p.argset)}): boolean;`);
  out.push('}');
  out.push('');
  out.push('/** Names of all handlers, in declaration order. */');
  out.push(`export const TRANS_NAMES: readonly string[] = [`);
  for (const name of shared.patterns.keys()) out.push(`  'trans_${name}',`);
  out.push('];');
  out.push('');
  out.push('// Argument objects are preallocated and reused by every decode call:');
  out.push('// a handler must copy what it needs before decoding again.');
  for (const set of shared.argsets.values()) {
    const init = set.fields.map((f) => `${f}: 0`).join(', ');
    out.push(`const ${varName(set.name)}: ${typeName(set.name)} = { ${init} };`);
  }
  for (const p of parsed) {
    out.push('');
    out.push(`/** Decode a ${p.insnBits}-bit instruction (${p.path}); false if illegal. */`);
    out.push(`export function ${p.funcName}(t: ${translatorName}, insn: number): boolean {`);
    const em = new Emitter();
    emitTree(em, p.root.items, 0, 'return false;');
    out.push(...em.lines);
    out.push('}');
  }
  out.push('');
  const src = out.join('\n');

  if (output) {
    const abs = resolve(output);
    mkdirSync(dirname(abs), { recursive: true });
    // Atomic replace, and leave the file alone when unchanged.
    if (!existsSync(abs) || readFileSync(abs, 'utf8') !== src) {
      const tmp = `${abs}.${process.pid}.tmp`;
      writeFileSync(tmp, src);
      renameSync(tmp, abs);
    }
  }
  return src;
}

export { DecodeError };

function main(argv) {
  let translatorName;
  const pos = [];
  for (const a of argv) {
    if (a.startsWith('--translator=')) translatorName = a.slice('--translator='.length);
    else pos.push(a);
  }
  if (pos.length < 2) {
    console.error('usage: node tools/decodetree.mjs OUT.ts IN.decode:BITS:FUNC... [--translator=Name]');
    return 2;
  }
  const [output, ...specs] = pos;
  const inputs = specs.map((s) => {
    const m = /^(.*):(16|32):([A-Za-z_][A-Za-z0-9_]*)$/.exec(s);
    if (!m) throw new DecodeError(`bad input spec '${s}' (expected path:16|32:funcName)`);
    return { path: m[1], insnBits: Number(m[2]), funcName: m[3] };
  });
  try {
    generateDecoder({ inputs, output, translatorName });
  } catch (e) {
    if (e instanceof DecodeError) {
      console.error(`decodetree: ${e.message}`);
      return 1;
    }
    throw e;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
