/**
 * The `qemu-ts` command line: QEMU's spelling (`-M virt -m 128M -bios none -kernel f
 * -nographic`), validated completely before a machine is built, mapped onto
 * MachineOptions and handed to runMachine().
 *
 * QEMU options are single-dash words; commander only knows `--long` and `-x`. So argv is
 * first normalized against the OPTIONS table (`-machine virt`, `--machine virt`,
 * `--machine=virt` all become `--machine=virt`; a value is always taken from the next
 * word, even when it starts with a dash, as QEMU does), unknown words are rejected with
 * QEMU's `-foo: invalid option`, and commander parses the normalized list.
 *
 * Every failure is one line on stderr, `qemu-ts: <message>`, exit status 1; the stack of an
 * unexpected internal error is added only when QEMU_TS_DEBUG=1.
 */
import * as fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UserError, type DriveOptions, type LogOptions, type MachineOptions } from '../machine/options.js';
import { createOverlay, openImage, type ImageFormat, type OpenedImage } from '../block/node-open.js';
import { runMachine, type RunStats } from '../machine/run.js';
import { attachStdioTerminal } from './terminal.js';
import { CPU_MODELS, withCpuProps } from '../frontend/x86/cpuid.js';
import { MAX_RAM_SIZE, parseRamSize } from '../machine/ram-size.js';
import { describeFsError } from '../block/node-random-access-file.js';

export const QEMU_TS_VERSION = '0.1.0';

/** Boards the command line accepts (the board table itself lives in src/machine). */
export const SUPPORTED_MACHINES: readonly { name: string; description: string }[] = [
  { name: 'virt', description: 'RISC-V VirtIO board' },
  { name: 'pc', description: 'x86 PC (so far: RAM, COM1, isa-debug-exit, debugcon; Multiboot kernels)' },
];
export const DEFAULT_MACHINE = 'virt';
/** QEMU's default for riscv virt. */
export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;
export { MAX_RAM_SIZE, parseRamSize };

export const LOG_ITEMS: Readonly<Record<string, { key: keyof LogOptions; help: string }>> = {
  in_asm: { key: 'inAsm', help: 'show target assembly code for each compiled TB' },
  op: { key: 'op', help: 'show micro ops for each compiled TB' },
  out_asm: { key: 'outAsm', help: 'show generated host (JavaScript) code for each compiled TB' },
  int: { key: 'int', help: 'show interrupts/exceptions in short format' },
};

/** CPU models per board; the first is the board's default. */
export const SUPPORTED_CPUS: Readonly<Record<string, readonly { name: string; description: string }[]>> = {
  virt: [
    { name: 'rv64', description: 'RV64GC (the default)' },
    { name: 'max', description: 'alias of rv64 for now' },
  ],
  pc: [
    { name: 'qemu64', description: "QEMU's qemu64 feature set (the default)" },
    { name: 'qemu32', description: "QEMU's qemu32 feature set" },
    { name: 'max', description: 'everything qemu-ts implements' },
  ],
};

/** Where the guest's serial console goes. */
export type SerialBackend =
  /** stdio; `mux` = QEMU's mon:stdio (Ctrl-A escapes; Ctrl-C goes to the guest). */
  | { kind: 'stdio'; mux: boolean }
  | { kind: 'null' }
  | { kind: 'file'; path: string };

export interface CpuSpec {
  model: string;
  /** `-cpu rv64,a=on,b` -> { a: 'on', b: 'on' }; accepted and passed along, not yet acted on. */
  props: Record<string, string>;
}

export type CommandLine =
  /** -h, -version, -M help, -d help, -cpu help: print and exit 0. */
  | { action: 'print'; text: string }
  | { action: 'run'; options: MachineOptions; serial: SerialBackend; nographic: boolean; cpu: CpuSpec };

/** Host side of the CLI, replaceable in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  writeSerial(bytes: Uint8Array): void;
  env: Record<string, string | undefined>;
}

const processIo = (): CliIo => ({
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  writeSerial: (b) => void process.stdout.write(b),
  env: process.env,
});

interface OptionSpec {
  /** QEMU spellings without dashes; the first is the canonical (commander) name. */
  names: readonly string[];
  /** Placeholder for the help text; absent = a flag. */
  arg?: string;
  help: string;
}

const OPTIONS: readonly OptionSpec[] = [
  { names: ['help', 'h'], help: 'display this help and exit' },
  { names: ['version'], help: 'display version information and exit' },
  {
    names: ['machine', 'M'],
    arg: '[type=]name',
    help: "selects emulated machine ('-machine help' for list)",
  },
  { names: ['cpu'], arg: 'model[,prop=value...]', help: "select CPU ('-cpu help' for list)" },
  {
    names: ['m'],
    arg: '[size=]megs[M|G]',
    help: `configure guest RAM (default ${DEFAULT_RAM_SIZE >> 20}M; plain numbers are MiB)`,
  },
  { names: ['bios'], arg: 'file', help: "set the firmware image ('none': start at the kernel directly)" },
  { names: ['kernel'], arg: 'file', help: 'use the ELF or raw binary file as kernel image' },
  { names: ['append'], arg: 'cmdline', help: 'use cmdline as kernel command line' },
  { names: ['initrd'], arg: 'file', help: 'use file as initial ram disk' },
  { names: ['dtb'], arg: 'file', help: 'use file as device tree image' },
  {
    names: ['drive'],
    arg: 'file=f[,format=raw|qcow2][,if=virtio|none][,id=name][,readonly=on][,snapshot=on]',
    help: 'use f as a disk image (virtio-blk)',
  },
  { names: ['snapshot'], help: 'write to temporary files instead of disk image files' },
  { names: ['device'], arg: 'virtio-blk-device,drive=id', help: "add a device ('-device help' for a list)" },
  { names: ['no-reboot'], help: 'exit instead of rebooting' },
  { names: ['nographic'], help: 'no display: serial console on stdio, multiplexed (Ctrl-A h for help)' },
  { names: ['display'], arg: 'none', help: 'display backend: none (qemu-ts has no graphical display)' },
  { names: ['net'], arg: 'none', help: 'network: none (qemu-ts has no network devices yet)' },
  { names: ['nic'], arg: 'none', help: 'network: none (qemu-ts has no network devices yet)' },
  { names: ['serial'], arg: 'dev', help: 'redirect the serial port to stdio, mon:stdio, null, none or file:path' },
  { names: ['debugcon'], arg: 'dev', help: 'redirect the debug console (I/O port 0xe9, pc) to stdio, file:path or null' },
  { names: ['d'], arg: 'item1,...', help: "enable logging of specified items ('-d help' for a list)" },
  { names: ['D'], arg: 'logfile', help: 'output log to logfile (default stderr)' },
  { names: ['icount'], arg: 'shift=N', help: 'instruction-counted virtual time (not supported yet)' },
];

const OPTION_BY_NAME = new Map<string, OptionSpec>();
for (const o of OPTIONS) for (const n of o.names) OPTION_BY_NAME.set(n, o);

export function helpText(): string {
  const lines = [
    `qemu-ts version ${QEMU_TS_VERSION}`,
    'usage: qemu-ts [options]',
    '',
    'Options (QEMU spelling; --name works too):',
  ];
  for (const o of OPTIONS) {
    const spelled = o.names.map((n) => '-' + n).join(', ');
    const left = o.arg ? `${spelled} ${o.arg}` : spelled;
    if (left.length < 22) lines.push(`${left.padEnd(22)}${o.help}`);
    else lines.push(left, `${''.padEnd(22)}${o.help}`);
  }
  lines.push(
    '',
    'During emulation with -nographic or -serial mon:stdio:',
    'C-a h    print help',
    'C-a x    exit emulator',
    'C-a C-a  sends C-a',
  );
  return lines.join('\n') + '\n';
}

export function versionText(): string {
  return `qemu-ts version ${QEMU_TS_VERSION}\n`;
}

function machineHelpText(): string {
  return (
    'Supported machines are:\n' +
    SUPPORTED_MACHINES.map((m) => `${m.name.padEnd(20)} ${m.description}`).join('\n') +
    '\n'
  );
}

function logHelpText(): string {
  return (
    'Log items (comma separated):\n' +
    Object.entries(LOG_ITEMS)
      .map(([name, item]) => `${name.padEnd(10)} ${item.help}`)
      .join('\n') +
    '\n'
  );
}

function cpuHelpText(machine: string): string {
  return 'Available CPUs:\n' + SUPPORTED_CPUS[machine]!.map((c) => `  ${c.name.padEnd(10)} ${c.description}`).join('\n') + '\n';
}

/** A single word for messages: the original spelling of the option (`-M`, `--machine`). */
interface RawOption {
  spec: OptionSpec;
  spelled: string;
  value?: string;
}

/**
 * Turn QEMU-style argv into commander's `--canonical=value` words, remembering how the user
 * spelled each option for messages. Rejects unknown options and positional words here.
 */
function normalize(argv: readonly string[]): RawOption[] {
  const out: RawOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const m = /^--?([A-Za-z][A-Za-z0-9_-]*)(=(.*))?$/s.exec(word);
    if (!m) {
      if (word.startsWith('-')) throw new UserError(`${oneLine(word)}: invalid option`);
      throw new UserError(`${oneLine(word)}: drive images as plain arguments are not supported yet (see -h)`);
    }
    const name = m[1]!;
    const inlineValue = m[3];
    // QEMU itself takes no `-opt=value`; allow `=` only with the GNU-style double dash.
    const doubleDash = word.startsWith('--');
    const spec = inlineValue !== undefined && !doubleDash ? undefined : OPTION_BY_NAME.get(name);
    const spelled = inlineValue !== undefined && doubleDash ? word.slice(0, word.indexOf('=')) : word;
    if (!spec) throw new UserError(`${oneLine(spelled)}: invalid option`);
    if (spec.arg === undefined) {
      if (inlineValue !== undefined) throw new UserError(`${spelled}: takes no argument`);
      out.push({ spec, spelled });
      continue;
    }
    let value = inlineValue;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UserError(`${spelled}: requires an argument`);
      value = argv[++i]!;
    }
    out.push({ spec, spelled, value });
  }
  return out;
}

interface ParsedFlags {
  help?: boolean;
  version?: boolean;
  machine?: string;
  cpu?: string;
  m?: string;
  bios?: string;
  kernel?: string;
  append?: string;
  initrd?: string;
  dtb?: string;
  drive: string[];
  device: string[];
  snapshot?: boolean;
  /** commander turns --no-reboot into reboot: false. */
  reboot?: boolean;
  nographic?: boolean;
  serial: string[];
  debugcon?: string;
  display?: string;
  net?: string;
  nic?: string;
  d?: string;
  D?: string;
  icount?: string;
}

/** commander over the normalized words; also keeps the user's spelling of each option. */
function parseWithCommander(raw: readonly RawOption[]): { flags: ParsedFlags; spelled: Map<string, string> } {
  const program = new Command('qemu-ts')
    .helpOption(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .allowExcessArguments(false)
    .allowUnknownOption(false);
  for (const o of OPTIONS) {
    const flag = `--${o.names[0]}`;
    if (o.arg === undefined) program.option(flag, o.help);
    else if (o.names[0] === 'serial' || o.names[0] === 'drive' || o.names[0] === 'device') {
      program.option(`${flag} <value>`, o.help, (v: string, prev: string[]) => [...prev, v], [] as string[]);
    } else program.option(`${flag} <value>`, o.help);
  }
  const words = raw.map((r) => (r.value === undefined ? `--${r.spec.names[0]}` : `--${r.spec.names[0]}=${r.value}`));
  try {
    program.parse(words, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new UserError(e.message.replace(/^error: /, ''));
    throw e;
  }
  const spelled = new Map<string, string>();
  for (const r of raw) spelled.set(r.spec.names[0]!, r.spelled);
  return { flags: program.opts<ParsedFlags>(), spelled };
}

function parseMachine(text: string, spelled: string): string {
  let name: string | undefined;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (name === undefined && eq < 0) name = part;
    else if (eq >= 0 && part.slice(0, eq) === 'type' && name === undefined) name = part.slice(eq + 1);
    else throw new UserError(`${spelled} ${oneLine(text)}: machine property '${oneLine(part.split('=')[0]!)}' is not supported`);
  }
  if (name === undefined || name === '') throw new UserError(`${spelled} ${oneLine(text)}: no machine type given`);
  if (!SUPPORTED_MACHINES.some((m) => m.name === name)) {
    const list = SUPPORTED_MACHINES.map((m) => m.name).join(', ');
    throw new UserError(
      `${spelled} ${oneLine(text)}: unsupported machine type '${oneLine(name)}' (supported: ${list}; '-machine help' lists them)`,
    );
  }
  return name;
}

function parseCpu(text: string, spelled: string, machine: string): CpuSpec {
  const [model = '', ...rest] = text.split(',');
  const models = SUPPORTED_CPUS[machine]!;
  if (!models.some((c) => c.name === model)) {
    const list = models.map((c) => c.name).join(', ');
    throw new UserError(`${spelled} ${oneLine(text)}: unsupported CPU model '${oneLine(model)}' (supported: ${list})`);
  }
  const props: Record<string, string> = {};
  for (const part of rest) {
    // name=value, name (on), or QEMU's +name / -name.
    const m = /^([+-])?([A-Za-z_][A-Za-z0-9_.-]*)(?:=([^=]+))?$/.exec(part);
    if (!m || (m[1] && m[3] !== undefined)) throw new UserError(`${spelled} ${oneLine(text)}: malformed CPU property '${oneLine(part)}'`);
    props[m[2]!] = m[1] === '-' ? 'off' : (m[3] ?? 'on');
  }
  if (machine === 'pc') {
    try {
      withCpuProps(CPU_MODELS[model]!, props);
    } catch (e) {
      throw new UserError(`${spelled} ${oneLine(text)}: ${(e as Error).message}`);
    }
  }
  return { model, props };
}

function parseLogItems(text: string, spelled: string): LogOptions {
  const log: LogOptions = { inAsm: false, op: false, outAsm: false, int: false };
  for (const item of text.split(',')) {
    if (item === '') continue;
    const known = LOG_ITEMS[item];
    if (!known) {
      const list = Object.keys(LOG_ITEMS).join(', ');
      throw new UserError(`${spelled} ${oneLine(text)}: unknown logging item '${oneLine(item)}' (valid items: ${list})`);
    }
    log[known.key] = true;
  }
  return log;
}

function parseSerial(values: readonly string[], nographic: boolean, spelled: string): SerialBackend {
  if (values.length > 1) throw new UserError(`${spelled}: only one serial port is supported`);
  const v = values[0];
  if (v === undefined) return { kind: 'stdio', mux: nographic };
  if (v === 'stdio') return { kind: 'stdio', mux: false };
  if (v === 'mon:stdio') return { kind: 'stdio', mux: true };
  if (v === 'null' || v === 'none') return { kind: 'null' };
  if (v.startsWith('file:') && v.length > 5) return { kind: 'file', path: v.slice(5) };
  throw new UserError(`${spelled} ${oneLine(v)}: unsupported serial backend (supported: stdio, mon:stdio, null, none, file:path)`);
}

async function readInputFile(spelled: string, path: string): Promise<{ path: string; data: Uint8Array }> {
  if (path === '') throw new UserError(`${spelled}: empty file name`);
  let data: Uint8Array;
  try {
    data = new Uint8Array(await fs.promises.readFile(path));
  } catch (e) {
    throw new UserError(`${spelled} ${oneLine(path)}: Could not open '${oneLine(path)}': ${describeFsError(e)}`);
  }
  if (data.length === 0) throw new UserError(`${spelled} ${oneLine(path)}: file is empty`);
  return { path, data };
}

function openOutputFile(spelled: string, path: string): number {
  try {
    return fs.openSync(path, 'w');
  } catch (e) {
    throw new UserError(`${spelled} ${oneLine(path)}: Could not open '${oneLine(path)}': ${describeFsError(e)}`);
  }
}

/**
 * Parse and validate a qemu-ts command line (argv without node and the script).
 * Reads -kernel/-bios; opens -D and -serial file: outputs last, after every check passed.
 */
export async function parseCommandLine(argv: readonly string[], io: CliIo = processIo()): Promise<CommandLine> {
  const raw = normalize(argv);
  // Like QEMU, -h and -version act as soon as they are seen (after earlier options parsed).
  for (const r of raw) {
    if (r.spec.names[0] === 'help') return { action: 'print', text: helpText() };
    if (r.spec.names[0] === 'version') return { action: 'print', text: versionText() };
  }
  const { flags, spelled } = parseWithCommander(raw);
  const sp = (name: string): string => spelled.get(name) ?? `-${name}`;

  if (flags.machine === 'help' || flags.machine === '?') return { action: 'print', text: machineHelpText() };
  if (flags.d === 'help' || flags.d === '?') return { action: 'print', text: logHelpText() };

  // Without -M, the kernel picks the board: an x86 ELF or bzImage the pc, anything else virt.
  const kernel = flags.kernel === undefined ? undefined : await readInputFile(sp('kernel'), flags.kernel);
  const machine = flags.machine === undefined ? defaultMachineFor(kernel?.data) : parseMachine(flags.machine, sp('machine'));
  if (flags.cpu === 'help' || flags.cpu === '?') return { action: 'print', text: cpuHelpText(machine) };
  const cpu = flags.cpu === undefined ? { model: SUPPORTED_CPUS[machine]![0]!.name, props: {} } : parseCpu(flags.cpu, sp('cpu'), machine);
  const ramSize = flags.m === undefined ? DEFAULT_RAM_SIZE : parseRamSize(flags.m, sp('m'));
  const log = parseLogItems(flags.d ?? '', sp('d'));
  if (flags.icount !== undefined) {
    throw new UserError(`${sp('icount')} ${oneLine(flags.icount)}: not supported yet`);
  }
  if (flags.display !== undefined && flags.display !== 'none') {
    throw new UserError(`${sp('display')} ${oneLine(flags.display)}: display '${oneLine(flags.display.split(',')[0]!)}' is not available (qemu-ts has no graphical display; use -display none)`);
  }
  for (const opt of ['net', 'nic'] as const) {
    const v = flags[opt];
    if (v !== undefined && v !== 'none') {
      throw new UserError(`${sp(opt)} ${oneLine(v)}: network devices are not supported yet (only '${opt} none')`);
    }
  }
  const nographic = flags.nographic === true;
  const serial = parseSerial(flags.serial, nographic, sp('serial'));
  if (flags.D !== undefined && flags.D === '') throw new UserError(`${sp('D')}: empty file name`);

  if (flags.device.includes('help') || flags.device.includes('?')) return { action: 'print', text: deviceHelpText() };
  const { debugExit, others: storageDevices } = takeDebugExit(flags.device, sp('device'), machine);
  const debugcon = flags.debugcon === undefined ? undefined : parseCharBackend(flags.debugcon, sp('debugcon'));
  // No -bios means the built-in SBI firmware (QEMU would load OpenSBI here).
  let bios: MachineOptions['bios'] = 'default';
  if (flags.bios === 'none') bios = 'none';
  else if (flags.bios !== undefined && flags.bios !== 'default') bios = await readInputFile(sp('bios'), flags.bios);
  if (flags.append !== undefined && kernel === undefined) {
    throw new UserError(`${sp('append')} only allowed with -kernel option`);
  }
  if (flags.initrd !== undefined && kernel === undefined) {
    throw new UserError(`${sp('initrd')} only allowed with -kernel option`);
  }
  const initrd = flags.initrd === undefined ? undefined : await readInputFile(sp('initrd'), flags.initrd);
  const dtb = flags.dtb === undefined ? undefined : await readInputFile(sp('dtb'), flags.dtb);
  const driveSpecs = resolveDrives(flags.drive, storageDevices, sp('drive'), sp('device'), flags.snapshot === true);

  // Everything is valid: now create output files.
  let logSink: (text: string) => void = io.stderr;
  if (flags.D !== undefined) {
    const fd = openOutputFile(sp('D'), flags.D);
    logSink = (text) => void fs.writeSync(fd, text);
  }
  let debugconOut: ((byte: number) => void) | undefined;
  if (debugcon?.kind === 'stdio') debugconOut = (b) => io.writeSerial(Uint8Array.of(b));
  else if (debugcon?.kind === 'file') {
    const fd = openOutputFile(sp('debugcon'), debugcon.path);
    debugconOut = (b) => void fs.writeSync(fd, Uint8Array.of(b));
  }
  let serialOut: (bytes: Uint8Array) => void;
  if (serial.kind === 'stdio') serialOut = io.writeSerial;
  else if (serial.kind === 'null') serialOut = () => {};
  else {
    const fd = openOutputFile(sp('serial'), serial.path);
    serialOut = (bytes) => void fs.writeSync(fd, bytes);
  }

  const drives: DriveOptions[] = [];
  const opened: OpenedImage[] = [];
  try {
    for (const d of driveSpecs) {
      const fail = (e: unknown): never => {
        throw new UserError(`${d.spelled} ${oneLine(d.text)}: ${oneLine(e instanceof Error ? e.message : String(e))}`);
      };
      // Under snapshot=on the image itself is only read: writes go to the overlay.
      let img = await openImage(d.file, { format: d.format, readOnly: d.readOnly || d.snapshot }).catch(fail);
      opened.push(img);
      // QEMU warns about a probed raw image only when it is writable (then block 0 is guarded).
      if (img.probed && img.format === 'raw' && !d.readOnly && !d.snapshot) io.stderr(probedRawWarning(d.file));
      if (d.snapshot && !d.readOnly) {
        img = await createOverlay(img).catch(fail);
        opened[opened.length - 1] = img;
      }
      drives.push({ name: d.file, backend: img.backend });
    }
  } catch (e) {
    for (const img of opened) await img.close().catch(() => {});
    throw e;
  }

  const options: MachineOptions = { machine, ramSize, bios, log, logSink, serialOut, drives, cpu: cpu.model, cpuProps: cpu.props };
  if (debugExit) options.debugExit = debugExit;
  if (debugconOut) options.debugconOut = debugconOut;
  if (kernel) options.kernel = kernel;
  if (initrd) options.initrd = initrd;
  if (dtb) options.dtb = dtb;
  if (flags.append !== undefined) options.append = flags.append;
  if (flags.reboot === false) options.noReboot = true;
  return { action: 'run', options, serial, nographic, cpu };
}

interface DriveSpec {
  file: string;
  /** format=; absent: probed (QEMU warns about probed raw images). */
  format: ImageFormat | undefined;
  readOnly: boolean;
  /** snapshot=on or -snapshot: writes go to a temporary overlay, never to the image. */
  snapshot: boolean;
  /** The option as written, for messages: `-drive file=x,format=qcow2`. */
  spelled: string;
  text: string;
}

function probedRawWarning(file: string): string {
  return (
    `qemu-ts: warning: Image format was not specified for '${oneLine(file)}' and probing guessed raw.\n` +
    `         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.\n` +
    `         Specify the 'raw' format explicitly to remove the restrictions.\n`
  );
}

function deviceHelpText(): string {
  return 'Storage devices:\nname "virtio-blk-device", bus virtio-bus\n\nMisc devices:\nname "isa-debug-exit", bus ISA (pc)\n';
}

/** The board a kernel implies when -M is not given: x86 ELF files and bzImages run on pc. */
function defaultMachineFor(kernel: Uint8Array | undefined): string {
  if (!kernel || kernel.length < 0x210) return DEFAULT_MACHINE;
  const v = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const elfX86 = v.getUint32(0, false) === 0x7f454c46 && [3, 62].includes(v.getUint16(18, true));
  const bzImage = v.getUint32(0x202, true) === 0x53726448; // "HdrS"
  return elfX86 || bzImage ? 'pc' : DEFAULT_MACHINE;
}

/** `-device isa-debug-exit[,iobase=N][,iosize=N]` (pc only); the other -device options stay. */
function takeDebugExit(devices: readonly string[], spelled: string, machine: string) {
  let debugExit: { iobase: number; iosize: number } | undefined;
  const others: string[] = [];
  for (const text of devices) {
    const [name, ...props] = text.split(',');
    if (name !== 'isa-debug-exit') {
      others.push(text);
      continue;
    }
    if (machine !== 'pc') throw new UserError(`${spelled} ${oneLine(text)}: No 'ISA' bus found for device 'isa-debug-exit'`);
    const cfg = { iobase: 0x501, iosize: 2 };
    for (const p of props) {
      const [k, v] = p.split('=');
      const n = v === undefined ? NaN : Number(v);
      if ((k !== 'iobase' && k !== 'iosize') || !Number.isInteger(n) || n < 0 || n > 0xffff) {
        throw new UserError(`${spelled} ${oneLine(text)}: property '${oneLine(p)}' is not valid for isa-debug-exit (iobase=N, iosize=N)`);
      }
      cfg[k] = n;
    }
    if (cfg.iosize < 1 || cfg.iobase + cfg.iosize > 0x10000) throw new UserError(`${spelled} ${oneLine(text)}: I/O range out of bounds`);
    debugExit = cfg;
  }
  return { debugExit, others };
}

/** A character backend for -debugcon: stdio, file:path, null or none. */
function parseCharBackend(v: string, spelled: string): { kind: 'stdio' } | { kind: 'file'; path: string } | { kind: 'null' } {
  if (v === 'stdio') return { kind: 'stdio' };
  if (v === 'null' || v === 'none') return { kind: 'null' };
  if (v.startsWith('file:') && v.length > 5) return { kind: 'file', path: v.slice(5) };
  throw new UserError(`${spelled} ${oneLine(v)}: unsupported character backend (supported: stdio, file:path, null, none)`);
}

/**
 * -drive and -device, in QEMU's two spellings: `-drive file=f,if=virtio` attaches a disk
 * directly; `-drive file=f,if=none,id=d0 -device virtio-blk-device,drive=d0` names a
 * backend and attaches it with -device. Returns the disks in attachment order.
 */
function resolveDrives(
  drives: readonly string[],
  devices: readonly string[],
  spDrive: string,
  spDevice: string,
  snapshotAll: boolean,
): DriveSpec[] {
  const direct: DriveSpec[] = [];
  const byId = new Map<string, DriveSpec & { used: boolean }>();
  for (const text of drives) {
    const bad = (why: string): never => {
      throw new UserError(`${spDrive} ${oneLine(text)}: ${why}`);
    };
    const kv = new Map<string, string>();
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) bad(`parameter '${oneLine(part)}' needs a value (key=value)`);
      const key = part.slice(0, eq);
      if (kv.has(key)) bad(`parameter '${oneLine(key)}' given twice`);
      kv.set(key, part.slice(eq + 1));
    }
    for (const key of kv.keys()) {
      if (!['file', 'format', 'if', 'id', 'readonly', 'media', 'cache', 'snapshot'].includes(key)) {
        bad(`invalid parameter '${oneLine(key)}'`);
      }
    }
    const file = kv.get('file');
    if (!file) return bad("'file' is required");
    const format = kv.get('format');
    if (format !== undefined && format !== 'raw' && format !== 'qcow2') {
      bad(`unknown driver '${oneLine(format)}' (supported formats: raw, qcow2)`);
    }
    const iface = kv.get('if') ?? 'virtio';
    if (iface !== 'virtio' && iface !== 'none') bad(`interface '${oneLine(iface)}' is not supported (use if=virtio or if=none)`);
    const ro = kv.get('readonly') ?? 'off';
    if (!['on', 'off'].includes(ro)) bad(`readonly expects 'on' or 'off'`);
    const snap = kv.get('snapshot') ?? (snapshotAll ? 'on' : 'off');
    if (!['on', 'off'].includes(snap)) bad(`snapshot expects 'on' or 'off'`);
    const media = kv.get('media') ?? 'disk';
    if (media !== 'disk') bad(`media '${oneLine(media)}' is not supported`);
    const spec: DriveSpec = {
      file,
      format: format as ImageFormat | undefined,
      readOnly: ro === 'on',
      snapshot: snap === 'on',
      spelled: spDrive,
      text,
    };
    const id = kv.get('id');
    if (iface === 'none') {
      if (!id) bad("if=none needs an id= for -device to refer to");
      if (byId.has(id!)) bad(`duplicate drive id '${oneLine(id!)}'`);
      byId.set(id!, { ...spec, used: false });
    } else {
      direct.push(spec);
    }
  }
  const attached: DriveSpec[] = [...direct];
  for (const text of devices) {
    const [name, ...props] = text.split(',');
    if (name !== 'virtio-blk-device') {
      if (name === 'virtio-blk-pci' || name === 'virtio-blk') {
        throw new UserError(`${spDevice} ${oneLine(text)}: '${name}' needs PCI, which the virt board does not have yet; use virtio-blk-device`);
      }
      throw new UserError(`${spDevice} ${oneLine(text)}: '${oneLine(name ?? '')}' is not a valid device model name ('-device help' lists them)`);
    }
    let driveId: string | undefined;
    for (const p of props) {
      const [k, v] = p.split('=');
      if (k === 'drive' && v) driveId = v;
      else throw new UserError(`${spDevice} ${oneLine(text)}: property '${oneLine(k ?? '')}' not found`);
    }
    if (!driveId) throw new UserError(`${spDevice} ${oneLine(text)}: drive property not set`);
    const d = byId.get(driveId);
    if (!d) throw new UserError(`${spDevice} ${oneLine(text)}: Property 'virtio-blk-device.drive' can't find value '${oneLine(driveId)}'`);
    if (d.used) throw new UserError(`${spDevice} ${oneLine(text)}: drive '${oneLine(driveId)}' is already in use`);
    d.used = true;
    attached.push(d);
  }
  return attached;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** Print an error as QEMU does: one line, prefixed; a stack only for internal errors under QEMU_TS_DEBUG=1. */
export function reportError(e: unknown, io: CliIo = processIo()): void {
  if (e instanceof UserError) {
    io.stderr(`qemu-ts: ${oneLine(e.message)}\n`);
    return;
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  io.stderr(`qemu-ts: internal error: ${oneLine(message)}\n`);
  if (io.env.QEMU_TS_DEBUG === '1' && e instanceof Error && e.stack) io.stderr(e.stack + '\n');
}

/** The whole program: resolves to the process exit status. */
export async function main(argv: readonly string[], customIo?: CliIo): Promise<number> {
  const io = customIo ?? processIo();
  try {
    const cl = await parseCommandLine(argv, io);
    if (cl.action === 'print') {
      io.stdout(cl.text);
      return 0;
    }
    // Keystrokes reach the guest only when this is the real process's terminal.
    if (cl.serial.kind === 'stdio' && customIo === undefined) {
      const mux = cl.serial.mux;
      cl.options.attachConsole = (input, quit) => attachStdioTerminal({ onInput: input, onQuit: quit, mux }).detach;
    }
    const onStats =
      io.env.QEMU_TS_STATS === '1'
        ? (s: RunStats) => io.stderr(`qemu-ts: instructions=${s.instructions} blocks=${s.blocksTranslated} compiled=${s.blocksCompiled}\n`)
        : undefined;
    try {
      return await runMachine(cl.options, { onStats });
    } finally {
      // Close the images cleanly (qcow2 clears its dirty bit, overlays go away).
      for (const d of cl.options.drives ?? []) await d.backend.close().catch(() => {});
    }
  } catch (e) {
    reportError(e, io);
    return 1;
  }
}
