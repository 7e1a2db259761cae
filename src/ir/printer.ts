/** Text form of IR blocks, for `-d op` and golden tests. */
import { condNames, HelperTable, Op, Opc, opcNames, Temp, TempKind, Type } from './ir.js';

const memNames = ['ub', 'uw', 'ul', 'q', 'sb', 'sw', 'sl', 'sq'];
/** MemOp bits beyond size and sign are frontend flags (e.g. read-modify-write). */
const memName = (aux: number) => memNames[aux & 7] + (aux & ~7 ? `+0x${(aux & ~7).toString(16)}` : '');

export function tempName(t: Temp): string {
  if (t.kind === TempKind.Const) {
    const v = t.value;
    return typeof v === 'bigint' ? (v < 0n ? `$-0x${(-v).toString(16)}` : `$0x${v.toString(16)}`) : `$${v}`;
  }
  if (t.kind === TempKind.Global) return t.name;
  return `${t.type === Type.I64 ? 'q' : 'l'}${t.id}`;
}

export function printOp(op: Op, helpers: HelperTable): string {
  const name = opcNames[op.opc];
  const args = op.args.map(tempName);
  const dsts = [op.dst, op.dst2].filter((t): t is Temp => t !== null).map(tempName);
  const ty = op.dst ? (op.dst.type === Type.I64 ? '_i64' : '_i32') : '';
  switch (op.opc) {
    case Opc.InsnStart:
      return ` ---- 0x${op.pc.toString(16).padStart(16, '0')} (#${op.aux})`;
    case Opc.SetLabel:
      return `set_label $L${op.aux}`;
    case Opc.Br:
      return `br $L${op.aux}`;
    case Opc.BrCond:
    case Opc.BrCond2:
      return `${name} ${args.join(',')},${condNames[op.aux2]},$L${op.aux}`;
    case Opc.SetCond:
    case Opc.SetCond2:
    case Opc.MovCond:
      return `${name}${ty} ${[...dsts, ...args].join(',')},${condNames[op.aux]}`;
    case Opc.Load:
      return `qemu_ld${ty} ${[...dsts, ...args].join(',')},${memName(op.aux)}`;
    case Opc.Store:
      return `qemu_st ${args.join(',')},${memName(op.aux)}`;
    case Opc.Call:
      return `call ${helpers.list[op.aux].name},${[...dsts, ...args].join(',')}`;
    case Opc.ExtS:
    case Opc.ExtU:
      return `${name}${op.aux2}${ty} ${[...dsts, ...args].join(',')}`;
    case Opc.GotoTb:
      return `goto_tb ${op.aux},$0x${op.pc.toString(16)}`;
    case Opc.ExitTb:
      return `exit_tb ${op.aux}`;
    default:
      return `${name}${ty} ${[...dsts, ...args].join(',')}`;
  }
}

export function printOps(ops: Op[], helpers: HelperTable): string {
  return ops.map((op) => (op.opc === Opc.InsnStart ? '' : ' ') + printOp(op, helpers)).join('\n') + '\n';
}
