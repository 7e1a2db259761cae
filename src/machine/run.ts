/** Run a machine described by MachineOptions to completion: the CLI's entry into the core. */
import type { ExecMode } from '../accel/tcg/engine.js';
import type { MachineOptions } from './options.js';
import { RESET_REQUESTED, RiscvVirtMachine } from './riscv-virt.js';
import { X86PcMachine } from './x86-pc.js';

export interface RunStats {
  instructions: number;
  blocksTranslated: number;
  blocksCompiled: number;
}

/** Resolves to the exit status the guest asked for; a guest reset restarts the machine. */
export async function runMachine(
  options: MachineOptions,
  extra: { mode?: ExecMode; onStats?: (s: RunStats) => void } = {},
): Promise<number> {
  const stats: RunStats = { instructions: 0, blocksTranslated: 0, blocksCompiled: 0 };
  try {
    for (;;) {
      const machine = options.machine === 'pc' ? new X86PcMachine(options, extra.mode) : new RiscvVirtMachine(options, extra.mode);
      const status = await machine.run();
      stats.instructions += machine.engine.instret;
      stats.blocksTranslated += machine.engine.blocksTranslated;
      stats.blocksCompiled += machine.engine.blocksCompiled;
      if (status !== RESET_REQUESTED) return status;
    }
  } finally {
    extra.onStats?.(stats);
  }
}
