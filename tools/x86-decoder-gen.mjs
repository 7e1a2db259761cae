#!/usr/bin/env node
// x86-decoder-gen.mjs — compiles src/frontend/x86/opcodes.table (the x86 opcode
// maps with SDM operand codes) into src/frontend/x86/decode-generated.ts.
//
// The generated module holds:
//   * `X86Handler`, a const enum of handler ids, and `X86_HANDLER_NAMES`;
//   * per-entry arrays (handler, operand codes, flags, CPUID feature, mnemonic);
//   * the lookup structure: `X86_ROOT[map * 256 + opcode]` and `X86_NODES`, a
//     flat decision tree over mode / REX.B / mandatory prefix / ModRM.reg /
//     ModRM.mod / ModRM.rm / REX.W, built from the selectors each entry uses;
//   * `X86Translator`, with one `trans_<HANDLER>(insn)` per handler name, so a
//     translator that lacks a handler fails to compile, and `dispatch()`.
// The operand-code vocabulary (methods and sizes) is defined here and emitted as
// const enums; src/frontend/x86/decode.ts interprets it.
//
// API:  generateX86Decoder({ input, output }) -> generated source
// CLI:  node tools/x86-decoder-gen.mjs [IN.table OUT.ts]

import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Operand addressing methods: SDM A.2.1 letters plus the fixed operands.
export const METHODS = [
  'None', 'A', 'C', 'D', 'E', 'G', 'I', 'J', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'U', 'V', 'W',
  'X', 'Y', 'Z', 'FixGpr', 'FixSeg', 'St0', 'StI', 'One', 'BxAl',
];
// Operand types: SDM A.2.2 codes plus a few of our own (see opcodes.table).
export const SIZES = [
  'None', 'b', 'w', 'd', 'q', 'dq', 'o', 'v', 'z', 'y', 'p', 's', 'a', 't',
  'ps', 'pd', 'ss', 'sd', 'x', 'pi', 'bs', 'vw', 'dw', 'e', 'st', 'fx', 'xu',
];
const LETTER_METHODS = new Set(['A', 'C', 'D', 'E', 'G', 'I', 'J', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'U', 'V', 'W', 'X', 'Y', 'Z']);
const MODRM_METHODS = new Set(['C', 'D', 'E', 'G', 'M', 'N', 'P', 'Q', 'R', 'S', 'U', 'V', 'W', 'StI']);
const FIXED = {
  AL: ['FixGpr', 'b', 0], CL: ['FixGpr', 'b', 1], DL: ['FixGpr', 'b', 2], BL: ['FixGpr', 'b', 3],
  AX: ['FixGpr', 'w', 0], CX: ['FixGpr', 'w', 1], DX: ['FixGpr', 'w', 2], BX: ['FixGpr', 'w', 3],
  eAX: ['FixGpr', 'z', 0], rAX: ['FixGpr', 'v', 0],
  ES: ['FixSeg', 'w', 0], CS: ['FixSeg', 'w', 1], SS: ['FixSeg', 'w', 2],
  DS: ['FixSeg', 'w', 3], FS: ['FixSeg', 'w', 4], GS: ['FixSeg', 'w', 5],
  ST0: ['St0', 't', 0], STi: ['StI', 't', 0], 1: ['One', 'b', 1], BXAL: ['BxAl', 'b', 0],
};
export const FEATURES = [
  '', 'fpu', 'cmov', 'mmx', 'sse', 'sse2', 'sse3', 'ssse3', 'cx8', 'cx16', 'lm', 'rdtscp',
  'syscall', 'sep', 'popcnt', 'msr', 'tsc', 'monitor', 'fxsr', 'clflush',
];
const MAPS = { '00': 0, '0F': 1, '0F38': 2, '0F3A': 3 };

// Operand code layout (16 bits): method | size << 5 | fixed register << 10.
const opCode = (method, size, reg) =>
  METHODS.indexOf(method) | (SIZES.indexOf(size) << 5) | (reg << 10);

// Entry flag bits (mirrored by the X86Flag enum emitted below).
export const FLAGS = {
  Lock: 1 << 0, I64: 1 << 1, O64: 1 << 2, D64: 1 << 3, F64: 1 << 4, Cond: 1 << 5,
  ModReg: 1 << 6, Rep: 1 << 7, Repz: 1 << 8, ModRM: 1 << 9,
  // REX.W selects this entry (CMPXCHG16B): the disassembler counts REX.W as used.
  SelW: 1 << 10,
  // bits 12..14: mandatory prefix (0 none, 1 NP, 2 66, 3 F3, 4 F2); bits 16..19: condition
};
const PFX_SHIFT = 12;
const COND_SHIFT = 16;

// Decision-tree selector kinds, in the order the tree tests them.
const KINDS = ['mode', 'rexb', 'prefix', 'reg', 'mod', 'rm', 'w'];
const KIND_ARITY = { mode: 2, rexb: 2, prefix: 4, reg: 8, mod: 2, rm: 8, w: 2 };
const PREFIX_INDEX = { NP: 0, 66: 1, F3: 2, F2: 3 };

class TableError extends Error {}

function parseOperand(tok, where) {
  if (Object.hasOwn(FIXED, tok)) {
    const [m, s, r] = FIXED[tok];
    return { text: tok, method: m, size: s, code: opCode(m, s, r) };
  }
  const m = tok[0];
  const s = tok.length > 1 ? tok.slice(1) : 'None';
  if (!LETTER_METHODS.has(m) || !SIZES.includes(s) || (s === 'None' && m !== 'M')) {
    throw new TableError(`${where}: unknown operand code '${tok}'`);
  }
  return { text: tok, method: m, size: s, code: opCode(m, s, 0) };
}

/** Parses the table text into entries with their selector constraints. */
export function parseTable(text, file = 'opcodes.table') {
  const entries = [];
  let map = -1;
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const where = `${file}:${ln + 1}`;
    const line = lines[ln].replace(/#.*/, '').trim();
    if (!line) continue;
    const toks = line.split(/\s+/);
    if (toks[0] === 'map') {
      if (!(toks[1] in MAPS)) throw new TableError(`${where}: unknown map '${toks[1]}'`);
      map = MAPS[toks[1]];
      continue;
    }
    if (map < 0) throw new TableError(`${where}: entry before any 'map' line`);
    const sel = {};
    const om = /^([0-9A-F]{2})(?:\/([0-7])|:([0-9A-F]{2}))?$/.exec(toks[0]);
    if (!om) throw new TableError(`${where}: bad opcode '${toks[0]}'`);
    const opcode = parseInt(om[1], 16);
    if (om[2] !== undefined) sel.reg = Number(om[2]);
    if (om[3] !== undefined) {
      const b = parseInt(om[3], 16);
      if (b < 0xc0) throw new TableError(`${where}: ':${om[3]}' must be a register-form ModRM byte`);
      sel.reg = (b >> 3) & 7;
      sel.mod = 1;
      sel.rm = b & 7;
    }
    let i = 1;
    const set = (k, v, tok) => {
      if (k in sel) throw new TableError(`${where}: selector '${tok}' repeats a ${k} constraint`);
      sel[k] = v;
    };
    for (; i < toks.length; i++) {
      const t = toks[i];
      if (t in PREFIX_INDEX) set('prefix', PREFIX_INDEX[t], t);
      else if (t === 'mem') set('mod', 0, t);
      else if (t === 'reg') set('mod', 1, t);
      else if (/^rm=[0-7]$/.test(t)) { set('rm', Number(t[3]), t); if (!('mod' in sel)) sel.mod = 1; }
      else if (t === 'm64') set('mode', 1, t);
      else if (t === 'm32') set('mode', 0, t);
      else if (t === 'W0' || t === 'W1') set('w', Number(t[1]), t);
      else if (t === 'B0' || t === 'B1') set('rexb', Number(t[1]), t);
      else break;
    }
    const [handler, mnemonic, ops, ...flagToks] = toks.slice(i);
    if (!handler || !/^[A-Z][A-Z0-9_]*$/.test(handler)) {
      throw new TableError(`${where}: expected a HANDLER name, got '${handler ?? ''}'`);
    }
    if (!mnemonic || !ops) throw new TableError(`${where}: missing mnemonic or operands`);
    const operands = ops === '-' ? [] : ops.split(',').map((o) => parseOperand(o, where));
    if (operands.length > 4) throw new TableError(`${where}: more than 4 operands`);
    let flags = 0;
    let feature = 0;
    let cond = -1;
    for (const f of flagToks) {
      const fl = { lock: FLAGS.Lock, i64: FLAGS.I64, o64: FLAGS.O64, d64: FLAGS.D64, f64: FLAGS.F64,
        modreg: FLAGS.ModReg, rep: FLAGS.Rep, repz: FLAGS.Repz }[f];
      if (fl) flags |= fl;
      else if (f === 'cc') cond = opcode & 15;
      else if (/^cc=\d+$/.test(f)) cond = Number(f.slice(3)) & 15;
      else if (FEATURES.includes(f) && f) {
        if (feature) throw new TableError(`${where}: two CPUID features`);
        feature = FEATURES.indexOf(f);
      } else throw new TableError(`${where}: unknown flag '${f}'`);
    }
    if (cond >= 0) flags |= FLAGS.Cond | (cond << COND_SHIFT);
    if ('prefix' in sel) flags |= (sel.prefix + 1) << PFX_SHIFT;
    if ('w' in sel) flags |= FLAGS.SelW;
    const modrm = operands.some((o) => MODRM_METHODS.has(o.method)) ||
      'reg' in sel || 'mod' in sel || 'rm' in sel;
    if (modrm) flags |= FLAGS.ModRM;
    if ((flags & FLAGS.Lock) && !operands.some((o) => o.method === 'E' || o.method === 'M')) {
      throw new TableError(`${where}: 'lock' needs a memory-capable operand`);
    }
    entries.push({ where, map, opcode, sel, handler, mnemonic, operands, flags, feature });
  }
  return entries;
}

/** Builds X86_ROOT / X86_NODES: child value >= 0 entry, -1 invalid, <= -2 node -(v+2). */
function buildTree(entries) {
  const nodes = [];
  const root = new Array(4 * 256).fill(-1);
  const slots = new Map();
  entries.forEach((e, idx) => {
    const key = e.map * 256 + e.opcode;
    if (!slots.has(key)) slots.set(key, []);
    slots.get(key).push(idx);
  });

  const subsumes = (a, b) => KINDS.every((k) => !(k in b.sel) || (k in a.sel && a.sel[k] === b.sel[k]));

  function build(ids, depth) {
    let kindIdx = depth;
    while (kindIdx < KINDS.length && !ids.some((id) => KINDS[kindIdx] in entries[id].sel)) kindIdx++;
    if (kindIdx === KINDS.length) {
      if (ids.length === 0) return -1;
      // The most specific entry wins (90 B0 F3 over 90 B0); it must refine all others.
      const best = ids.find((a) => ids.every((b) => subsumes(entries[a], entries[b])));
      if (best === undefined) {
        throw new TableError(`ambiguous encodings:\n  ${ids.map((id) => entries[id].where).join('\n  ')}`);
      }
      for (const id of ids) {
        if (id !== best && KINDS.every((k) => entries[id].sel[k] === entries[best].sel[k])) {
          throw new TableError(`duplicate encodings: ${entries[best].where} and ${entries[id].where}`);
        }
      }
      return best;
    }
    const kind = KINDS[kindIdx];
    const arity = KIND_ARITY[kind];
    const children = [];
    for (let c = 0; c < arity; c++) {
      const sub = ids.filter((id) => !(kind in entries[id].sel) || entries[id].sel[kind] === c);
      children.push(sub.length ? build(sub, kindIdx + 1) : -1);
    }
    const at = nodes.length;
    nodes.push(kindIdx + 1, ...children);
    return -(at + 2);
  }

  for (const [key, ids] of slots) {
    const modrm = entries[ids[0]].flags & FLAGS.ModRM;
    for (const id of ids) {
      if ((entries[id].flags & FLAGS.ModRM) !== modrm) {
        throw new TableError(`${entries[id].where}: entries of one opcode disagree on having a ModRM byte`);
      }
    }
    root[key] = build(ids, 0);
  }
  return { root, nodes };
}

export function generateX86Decoder({ input, output, text }) {
  const src = text ?? readFileSync(input, 'utf8');
  const entries = parseTable(src, input ? input.replace(/.*\//, '') : 'opcodes.table');
  const { root, nodes } = buildTree(entries);
  const handlers = [...new Set(entries.map((e) => e.handler))].sort();
  const hid = new Map(handlers.map((h, i) => [h, i]));

  const out = [];
  const arr = (xs, perLine = 16) => {
    const lines = [];
    for (let i = 0; i < xs.length; i += perLine) lines.push('  ' + xs.slice(i, i + perLine).join(', ') + ',');
    return lines.join('\n');
  };
  out.push('// Generated by tools/x86-decoder-gen.mjs from src/frontend/x86/opcodes.table.');
  out.push('// Do not edit: change the table or the generator and run `node tools/build.mjs --gen-only`.');
  out.push('');
  out.push("import type { X86Insn } from './decode.js';");
  out.push('');
  out.push('/** Operand addressing methods (Intel SDM Vol. 2 A.2.1) and fixed operands. */');
  out.push('export const enum OpMethod {');
  METHODS.forEach((m, i) => out.push(`  ${m} = ${i},`));
  out.push('}');
  out.push('');
  out.push('/** Operand types (SDM A.2.2) plus the table\'s own: see opcodes.table. */');
  out.push('export const enum OpSize {');
  SIZES.forEach((s, i) => out.push(`  ${s} = ${i},`));
  out.push('}');
  out.push('');
  out.push('/** Entry flags; the mandatory prefix and condition are fields inside. */');
  out.push('export const enum X86Flag {');
  for (const [k, v] of Object.entries(FLAGS)) out.push(`  ${k} = ${v},`);
  out.push(`  PfxShift = ${PFX_SHIFT},`);
  out.push(`  CondShift = ${COND_SHIFT},`);
  out.push('}');
  out.push('');
  out.push('/** Decision-tree node kinds in X86_NODES (the first word of a node). */');
  out.push('export const enum X86Node {');
  KINDS.forEach((k, i) => out.push(`  ${k[0].toUpperCase() + k.slice(1)} = ${i + 1},`));
  out.push('}');
  out.push('');
  out.push('export const X86_FEATURES: readonly string[] = ' + JSON.stringify(FEATURES) + ';');
  out.push('');
  out.push('export const enum X86Handler {');
  handlers.forEach((h, i) => out.push(`  ${h} = ${i},`));
  out.push('}');
  out.push('');
  out.push('export const X86_HANDLER_NAMES: readonly string[] = [');
  out.push(arr(handlers.map((h) => `'${h}'`), 8));
  out.push('];');
  out.push('');
  out.push(`export const X86_ENTRY_COUNT = ${entries.length};`);
  out.push('/** Handler id per table entry. */');
  out.push('export const X86_ENTRY_HANDLER = new Uint16Array([');
  out.push(arr(entries.map((e) => hid.get(e.handler))));
  out.push(']);');
  out.push('/** Four operand codes per entry: method | size << 5 | fixed register << 10; 0 = none. */');
  out.push('export const X86_ENTRY_OPERANDS = new Uint16Array([');
  out.push(arr(entries.flatMap((e) => [0, 1, 2, 3].map((i) => e.operands[i]?.code ?? 0))));
  out.push(']);');
  out.push('/** X86Flag bits per entry. */');
  out.push('export const X86_ENTRY_FLAGS = new Uint32Array([');
  out.push(arr(entries.map((e) => '0x' + e.flags.toString(16))));
  out.push(']);');
  out.push('/** Index into X86_FEATURES: the CPUID feature an entry needs (0: none). */');
  out.push('export const X86_ENTRY_FEATURE = new Uint8Array([');
  out.push(arr(entries.map((e) => e.feature), 32));
  out.push(']);');
  out.push('/** Display mnemonic per entry (`a|b|c` by operand size, `@a|b|c` by address size, `*` = condition). */');
  out.push('export const X86_ENTRY_MNEMONIC: readonly string[] = [');
  out.push(arr(entries.map((e) => `'${e.mnemonic}'`), 8));
  out.push('];');
  out.push('');
  out.push('/** Opcode slot (map * 256 + opcode) -> entry (>= 0), invalid (-1) or node -(index + 2). */');
  out.push('export const X86_ROOT = new Int32Array([');
  out.push(arr(root));
  out.push(']);');
  out.push('/** Nodes: [kind, child...]; arity 2 (mode, rexb, mod, w), 4 (prefix: NP 66 F3 F2) or 8 (reg, rm). */');
  out.push('export const X86_NODES = new Int32Array([');
  out.push(arr(nodes));
  out.push(']);');
  out.push('');
  out.push('/** One callback per handler of the table: a missing one is a compile error. */');
  out.push('export interface X86Translator {');
  for (const h of handlers) out.push(`  trans_${h}(insn: X86Insn): boolean;`);
  out.push('}');
  out.push('');
  out.push('/** Calls the handler of a decoded instruction; returns what it returns. */');
  out.push('export function dispatch(t: X86Translator, insn: X86Insn): boolean {');
  out.push('  switch (insn.handler as X86Handler) {');
  for (const h of handlers) out.push(`    case X86Handler.${h}: return t.trans_${h}(insn);`);
  out.push('    default: return false;');
  out.push('  }');
  out.push('}');
  out.push('');
  const gen = out.join('\n');
  if (output) {
    mkdirSync(dirname(output), { recursive: true });
    const tmp = `${output}.tmp-${process.pid}`;
    writeFileSync(tmp, gen);
    renameSync(tmp, output);
  }
  return gen;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const [inp, outp] = process.argv.slice(2);
  try {
    generateX86Decoder({
      input: inp ?? resolve(root, 'src/frontend/x86/opcodes.table'),
      output: outp ?? resolve(root, 'src/frontend/x86/decode-generated.ts'),
    });
  } catch (e) {
    if (e instanceof TableError) {
      console.error(`x86-decoder-gen: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
