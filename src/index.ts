/** qemu-ts as a library: the embedding API and the pieces an embedder needs. */
export { createMachine, parseMemorySize } from './machine/api.js';
export type { CreateMachineOptions, Machine, SerialConsole, WaitOptions } from './machine/api.js';
export type { BlockBackend } from './block/backend.js';
export { BlockError } from './block/backend.js';
export { MemoryBackend } from './block/memory.js';
export { UserError } from './machine/options.js';
