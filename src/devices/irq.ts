/** A level-triggered interrupt wire from a device to an interrupt controller or CPU. */
export interface IrqLine {
  set(level: boolean): void;
}

/** An IrqLine that remembers its level; handy for tests and unconnected outputs. */
export class LatchedIrqLine implements IrqLine {
  level = false;
  set(level: boolean): void {
    this.level = level;
  }
}
