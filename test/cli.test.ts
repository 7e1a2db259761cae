import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MachineOptions } from '../src/machine/options.js';

// runMachine belongs to the board code; the CLI's contract with it is the MachineOptions it
// receives and the exit status it returns.
const runMachine = vi.hoisted(() => vi.fn<(o: MachineOptions) => Promise<number>>());
vi.mock('../src/machine/run.js', () => ({ runMachine }));

const { main, parseCommandLine, parseRamSize, QEMU_TS_VERSION } = await import('../src/cli/qemu-ts.js');
const img = await import('../src/cli/qemu-ts-img.js');
const { EscapeDecoder, attachStdioTerminal, CTRL_A, CTRL_C } = await import('../src/cli/terminal.js');
const { UserError } = await import('../src/machine/options.js');

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let dir = '';
let kernel = '';
let bios = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qemu-ts-cli-'));
  kernel = join(dir, 'k.elf');
  bios = join(dir, 'fw.bin');
  writeFileSync(kernel, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
  writeFileSync(bios, new Uint8Array([0x13, 0, 0, 0]));
  writeFileSync(join(dir, 'empty'), new Uint8Array(0));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  runMachine.mockReset();
  runMachine.mockResolvedValue(0);
});

function captureIo(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const serial: Uint8Array[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), writeSerial: (b: Uint8Array) => void serial.push(b), env },
    out,
    err,
    serial,
  };
}

async function parseRun(argv: string[]) {
  const cl = await parseCommandLine(argv, captureIo().io);
  if (cl.action !== 'run') throw new Error(`expected a run, got ${cl.action}`);
  return cl;
}

/** Run main() and return its single stderr line, checking it is exactly one line and no stack. */
async function errorOf(argv: string[]): Promise<string> {
  const c = captureIo();
  const status = await main(argv, c.io);
  expect(status).toBe(1);
  const text = c.err.join('');
  expect(text.endsWith('\n')).toBe(true);
  expect(text.split('\n')).toHaveLength(2);
  expect(text).not.toMatch(/\n\s+at /);
  expect(runMachine).not.toHaveBeenCalled();
  return text.slice(0, -1);
}

describe('parseCommandLine: QEMU spellings', () => {
  it('maps a typical bare-metal command line onto MachineOptions', async () => {
    const log = join(dir, 'qemu.log');
    const cl = await parseRun(['-M', 'virt', '-m', '256M', '-bios', 'none', '-kernel', kernel, '-nographic',
      '-append', 'console=ttyS0 -x', '-d', 'in_asm,int', '-D', log]);
    const o = cl.options;
    expect(o.machine).toBe('virt');
    expect(o.ramSize).toBe(256 * 2 ** 20);
    expect(o.bios).toBe('none');
    expect(o.kernel?.path).toBe(kernel);
    expect([...o.kernel!.data.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(o.append).toBe('console=ttyS0 -x');
    expect(o.log).toEqual({ inAsm: true, op: false, outAsm: false, int: true });
    expect(cl.nographic).toBe(true);
    expect(cl.serial).toEqual({ kind: 'stdio', mux: true });
    o.logSink('IN: hello\n');
    expect(readFileSync(log, 'utf8')).toBe('IN: hello\n');
  });

  it('accepts the long and double-dash forms', async () => {
    for (const argv of [['-machine', 'virt'], ['--machine', 'virt'], ['--machine=virt'], ['-M', 'type=virt'], ['--M', 'virt']]) {
      expect((await parseRun(argv)).options.machine).toBe('virt');
    }
  });

  it('takes a value that starts with a dash, as QEMU does', async () => {
    expect((await parseRun(['-kernel', kernel, '-append', '-v'])).options.append).toBe('-v');
  });

  it('defaults: virt, 128 MiB, built-in firmware, no logging, plain stdio', async () => {
    const cl = await parseRun([]);
    expect(cl.options.machine).toBe('virt');
    expect(cl.options.ramSize).toBe(128 * 2 ** 20);
    expect(cl.options.bios).toBe('default');
    expect(cl.options.kernel).toBeUndefined();
    expect(cl.options.drives).toEqual([]);
    expect(cl.options.log).toEqual({ inAsm: false, op: false, outAsm: false, int: false });
    expect(cl.serial).toEqual({ kind: 'stdio', mux: false });
    expect(cl.cpu).toEqual({ model: 'rv64', props: {} });
  });

  it('parses -m like qemu_strtosz: MiB by default, suffixes, size=, rounding to 8 KiB', () => {
    expect(parseRamSize('128')).toBe(128 * 2 ** 20);
    expect(parseRamSize('128M')).toBe(128 * 2 ** 20);
    expect(parseRamSize('size=128M')).toBe(128 * 2 ** 20);
    expect(parseRamSize('1G')).toBe(2 ** 30);
    expect(parseRamSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseRamSize('100k')).toBe(106496);
    expect(parseRamSize('65536B')).toBe(65536);
  });

  it('reads -bios files and passes them through', async () => {
    const cl = await parseRun(['-bios', bios]);
    expect(cl.options.bios).toEqual({ path: bios, data: new Uint8Array([0x13, 0, 0, 0]) });
  });

  it('wires -serial to stdio, null or a file', async () => {
    const c = captureIo();
    const cl = await parseCommandLine(['-serial', 'stdio'], c.io);
    if (cl.action !== 'run') throw new Error('run expected');
    cl.options.serialOut(new Uint8Array([0x68, 0x69]));
    expect(c.serial).toEqual([new Uint8Array([0x68, 0x69])]);
    expect((await parseRun(['-serial', 'mon:stdio'])).serial).toEqual({ kind: 'stdio', mux: true });
    expect((await parseRun(['-nographic', '-serial', 'stdio'])).serial).toEqual({ kind: 'stdio', mux: false });
    expect((await parseRun(['-serial', 'null'])).serial).toEqual({ kind: 'null' });
    const file = join(dir, 'serial.txt');
    const f = await parseRun(['-serial', `file:${file}`]);
    f.options.serialOut(new TextEncoder().encode('ok\n'));
    expect(readFileSync(file, 'utf8')).toBe('ok\n');
  });

  it('accepts -cpu rv64 with properties, loosely', async () => {
    expect((await parseRun(['-cpu', 'rv64,v=on,zba'])).cpu).toEqual({ model: 'rv64', props: { v: 'on', zba: 'on' } });
  });

  it('prints help, version and the machine, cpu and log lists', async () => {
    for (const [argv, pattern] of [
      [['-h'], /usage: qemu-ts \[options\]/],
      [['--help'], /-kernel file/],
      [['-help'], /-nographic/],
      [['-version'], new RegExp(`qemu-ts version ${QEMU_TS_VERSION.replace(/\./g, '\\.')}`)],
      [['--version'], /qemu-ts version/],
      [['-M', 'help'], /Supported machines are:\nvirt\s+RISC-V VirtIO board/],
      [['-machine', '?'], /virt/],
      [['-cpu', 'help'], /rv64/],
      [['-d', 'help'], /in_asm.*\n.*op.*\n.*out_asm.*\n.*int/],
    ] as const) {
      const c = captureIo();
      expect(await main([...argv], c.io)).toBe(0);
      expect(c.out.join('')).toMatch(pattern);
      expect(c.err).toEqual([]);
    }
    expect(runMachine).not.toHaveBeenCalled();
  });

  it('keeps the version in step with package.json', () => {
    expect(QEMU_TS_VERSION).toBe(pkg.version);
    expect(img.QEMU_TS_VERSION).toBe(pkg.version);
  });
});

describe('main: one-line errors before the machine starts', () => {
  it.each([
    [['-foo'], 'qemu-ts: -foo: invalid option'],
    [['--foo=1'], 'qemu-ts: --foo: invalid option'],
    [['-kernel=x'], 'qemu-ts: -kernel=x: invalid option'],
    [['disk.img'], 'qemu-ts: disk.img: drive images as plain arguments are not supported yet (see -h)'],
    [['-kernel'], 'qemu-ts: -kernel: requires an argument'],
    [['-nographic=1'], 'qemu-ts: -nographic=1: invalid option'],
    [['--nographic=1'], 'qemu-ts: --nographic: takes no argument'],
    [['-M', 'q35'], "qemu-ts: -M q35: unsupported machine type 'q35' (supported: virt, pc; '-machine help' lists them)"],
    [['-M', 'pc', '-cpu', 'rv64'], "qemu-ts: -cpu rv64: unsupported CPU model 'rv64' (supported: qemu64, qemu32, max)"],
    [['-M', 'pc', '-cpu', 'qemu64,+avx2'], "qemu-ts: -cpu qemu64,+avx2: property 'avx2' not found (switchable: sse3, pni, ssse3, cx16, popcnt, abm, lahf-lm, lahf_lm, syscall, nx, lm, rdtscp, clflush, pse36, sep)"],
    [['-M', 'pc', '-device', 'isa-debug-exit,iobase=zz'], "qemu-ts: -device isa-debug-exit,iobase=zz: property 'iobase=zz' is not valid for isa-debug-exit (iobase=N, iosize=N)"],
    [['-device', 'isa-debug-exit'], "qemu-ts: -device isa-debug-exit: No 'ISA' bus found for device 'isa-debug-exit'"],
    [['-display', 'gtk'], "qemu-ts: -display gtk: display 'gtk' is not available (qemu-ts has no graphical display; use -display none)"],
    [['-debugcon', 'tcp:1234'], 'qemu-ts: -debugcon tcp:1234: unsupported character backend (supported: stdio, file:path, null, none)'],
    [['-machine', 'virt,aia=aplic'], "qemu-ts: -machine virt,aia=aplic: machine property 'aia' is not supported"],
    [['-kernel', 'missing.elf'], "qemu-ts: -kernel missing.elf: Could not open 'missing.elf': No such file or directory"],
    [['-bios', 'missing.bin'], "qemu-ts: -bios missing.bin: Could not open 'missing.bin': No such file or directory"],
    [['-m', '0'], 'qemu-ts: -m 0: RAM size must be greater than zero'],
    [['-m', 'lots'], 'qemu-ts: -m lots: invalid RAM size (examples: 128M, 1G, 512)'],
    [['-m', '12Q'], 'qemu-ts: -m 12Q: invalid RAM size (examples: 128M, 1G, 512)'],
    [['-m', '64G'], 'qemu-ts: -m 64G: RAM size too large (at most 16G)'],
    [['-m', '1G,slots=2,maxmem=4G'], "qemu-ts: -m 1G,slots=2,maxmem=4G: 'slots' (memory hotplug) is not supported"],
    [['-d', 'in_asm,foo'], "qemu-ts: -d in_asm,foo: unknown logging item 'foo' (valid items: in_asm, op, out_asm, int)"],
    [['-cpu', 'cortex-a53'], "qemu-ts: -cpu cortex-a53: unsupported CPU model 'cortex-a53' (supported: rv64, max)"],
    [['-cpu', 'rv64,=on'], "qemu-ts: -cpu rv64,=on: malformed CPU property '=on'"],
    [['-icount', 'shift=0'], 'qemu-ts: -icount shift=0: not supported yet'],
    [['-serial', 'tcp::4444,server'], 'qemu-ts: -serial tcp::4444,server: unsupported serial backend (supported: stdio, mon:stdio, null, none, file:path)'],
    [['-serial', 'stdio', '-serial', 'null'], 'qemu-ts: -serial: only one serial port is supported'],
    [['-append', 'console=ttyS0'], 'qemu-ts: -append only allowed with -kernel option'],
    [['-D', '/nonexistent-dir/x.log'], "qemu-ts: -D /nonexistent-dir/x.log: Could not open '/nonexistent-dir/x.log': No such file or directory"],
  ])('%j', async (argv, message) => {
    expect(await errorOf(argv)).toBe(message);
  });

  it('reports a directory and an empty file given as -kernel', async () => {
    expect(await errorOf(['-kernel', dir])).toBe(`qemu-ts: -kernel ${dir}: Could not open '${dir}': Is a directory`);
    const empty = join(dir, 'empty');
    expect(await errorOf(['-kernel', empty])).toBe(`qemu-ts: -kernel ${empty}: file is empty`);
  });

  it('validates everything before creating the -D log file', async () => {
    const log = join(dir, 'never.log');
    await errorOf(['-D', log, '-kernel', 'missing.elf']);
    expect(existsSync(log)).toBe(false);
  });
});

describe('main: running the machine', () => {
  it('hands the options to runMachine and returns its exit status', async () => {
    runMachine.mockResolvedValue(3);
    const c = captureIo();
    expect(await main(['-M', 'virt', '-bios', 'none', '-kernel', kernel, '-m', '64'], c.io)).toBe(3);
    expect(runMachine).toHaveBeenCalledTimes(1);
    const options = runMachine.mock.calls[0]![0];
    expect(options.ramSize).toBe(64 * 2 ** 20);
    expect(options.kernel?.path).toBe(kernel);
    expect(c.err).toEqual([]);
  });

  it('prints a UserError from the machine as one line', async () => {
    runMachine.mockRejectedValue(new UserError("-kernel k.elf: ELF file is for x86-64, but machine 'virt' is riscv64"));
    const c = captureIo();
    expect(await main(['-kernel', kernel], c.io)).toBe(1);
    expect(c.err.join('')).toBe("qemu-ts: -kernel k.elf: ELF file is for x86-64, but machine 'virt' is riscv64\n");
  });

  it('prints an internal error as one line, with the stack only under QEMU_TS_DEBUG=1', async () => {
    runMachine.mockRejectedValue(new TypeError('boom\nsecond line'));
    const quiet = captureIo();
    expect(await main([], quiet.io)).toBe(1);
    expect(quiet.err.join('')).toBe('qemu-ts: internal error: TypeError: boom second line\n');
    const debug = captureIo({ QEMU_TS_DEBUG: '1' });
    expect(await main([], debug.io)).toBe(1);
    const text = debug.err.join('');
    expect(text.startsWith('qemu-ts: internal error: TypeError: boom second line\n')).toBe(true);
    expect(text).toMatch(/\n\s+at /);
  });
});

describe('qemu-ts-img', () => {
  it('has help and version, and one-line errors for unknown commands and options', async () => {
    const c = captureIo();
    expect(await img.main(['--help'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/usage: qemu-ts-img/);
    expect(await img.main(['--version'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(new RegExp(`qemu-ts-img version ${pkg.version.replace(/\./g, '\\.')}`));
    expect(await img.main(['frob'], c.io)).toBe(1);
    expect(await img.main(['--bogus'], c.io)).toBe(1);
    expect(await img.main([], c.io)).toBe(1);
    expect(c.err).toEqual([
      "qemu-ts-img: Command not found: frob (try 'qemu-ts-img --help')\n",
      "qemu-ts-img: unrecognized option '--bogus' (try 'qemu-ts-img --help')\n",
      "qemu-ts-img: Not enough arguments (try 'qemu-ts-img --help')\n",
    ]);
  });
});

describe('terminal escapes (QEMU mux)', () => {
  function decoder(mux: boolean, signals: boolean) {
    const events: (string | number[])[] = [];
    const d = new EscapeDecoder(
      { onData: (b) => events.push([...b]), onQuit: () => events.push('quit'), onHelp: () => events.push('help') },
      mux,
      signals,
    );
    return { d, events };
  }
  it('C-a x quits, C-a C-a sends C-a, C-a h helps, other escapes are swallowed', () => {
    const { d, events } = decoder(true, false);
    d.feed(new Uint8Array([0x61, CTRL_A, CTRL_A, 0x62, CTRL_A, 0x68, CTRL_A, 0x7a, CTRL_C]));
    d.feed(new Uint8Array([CTRL_A])); // escape split across chunks
    d.feed(new Uint8Array([0x78, 0x63]));
    d.feed(new Uint8Array([0x64]));
    expect(events).toEqual([[0x61, CTRL_A, 0x62], 'help', [CTRL_C], 'quit']);
  });
  it('without mux, C-a is data and Ctrl-C quits when signals are on', () => {
    const { d, events } = decoder(false, true);
    d.feed(new Uint8Array([CTRL_A, 0x78, CTRL_C, 0x41]));
    expect(events).toEqual([[CTRL_A, 0x78], 'quit']);
  });
  it('puts a TTY in raw mode and restores it on detach', () => {
    const stdin = Object.assign(new PassThrough(), {
      isTTY: true,
      isRaw: false,
      setRawMode(this: { isRaw: boolean }, raw: boolean) {
        this.isRaw = raw;
        return this;
      },
    });
    const stdout = new PassThrough();
    const input: number[] = [];
    let quit = 0;
    const term = attachStdioTerminal({
      onInput: (b) => input.push(...b),
      onQuit: () => quit++,
      mux: true,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
    });
    expect(stdin.isRaw).toBe(true);
    stdin.emit('data', Buffer.from([0x6c, 0x73, 0x0d]));
    expect(input).toEqual([0x6c, 0x73, 0x0d]);
    stdin.emit('data', Buffer.from([CTRL_A, 0x78]));
    expect(quit).toBe(1);
    expect(stdin.isRaw).toBe(false);
    term.detach(); // idempotent
    expect(stdin.isRaw).toBe(false);
  });
});

// The built program, for cases that fail before a machine exists. `npm test` builds first,
// so under CI=true the bundle must be there.
const DIST = join(ROOT, 'dist/cli/qemu-ts.js');
const DIST_IMG = join(ROOT, 'dist/cli/qemu-ts-img.js');
// `npm test` builds dist first, so under CI it must be there.
const haveDist = existsSync(DIST) || process.env.CI === 'true';
if (process.env.CI === 'true' && !haveDist) throw new Error('dist/cli/qemu-ts.js is missing under CI=true (npm test builds it)');

function runBin(bin: string, argv: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', bin), ...argv], { encoding: 'utf8', cwd: dir, env: { ...process.env, QEMU_TS_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!haveDist)('bin/qemu-ts.js (built)', () => {
  it.each([
    [['-foo'], 'qemu-ts: -foo: invalid option\n'],
    [['-kernel', 'missing.elf'], "qemu-ts: -kernel missing.elf: Could not open 'missing.elf': No such file or directory\n"],
    [['-M', 'q35'], "qemu-ts: -M q35: unsupported machine type 'q35' (supported: virt, pc; '-machine help' lists them)\n"],
    [['-d', 'nope'], "qemu-ts: -d nope: unknown logging item 'nope' (valid items: in_asm, op, out_asm, int)\n"],
    [['-m', '0'], 'qemu-ts: -m 0: RAM size must be greater than zero\n'],
  ])('%j', (argv, stderr) => {
    const r = runBin('qemu-ts.js', argv);
    expect(r).toEqual({ status: 1, stdout: '', stderr });
  });
  it('prints version and the machine list', () => {
    expect(runBin('qemu-ts.js', ['-version'])).toEqual({ status: 0, stdout: `qemu-ts version ${pkg.version}\n`, stderr: '' });
    expect(runBin('qemu-ts.js', ['-M', 'help']).stdout).toMatch(/^Supported machines are:\nvirt /);
  });
});

describe.skipIf(!existsSync(DIST_IMG) && process.env.CI !== 'true')('bin/qemu-ts-img.js (built)', () => {
  it('refuses commands with one line', () => {
    expect(runBin('qemu-ts-img.js', ['info', 'x.qcow2'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "qemu-ts-img: Could not open 'x.qcow2': Could not open 'x.qcow2': No such file or directory\n",
    });
  });
});

describe('launchers without a build', () => {
  it('print a one-line hint to run npm run build', () => {
    const fake = mkdtempSync(join(tmpdir(), 'qemu-ts-nobuild-'));
    try {
      mkdirSync(join(fake, 'bin'));
      writeFileSync(join(fake, 'package.json'), JSON.stringify({ type: 'module' }));
      copyFileSync(join(ROOT, 'bin', 'node-flags.js'), join(fake, 'bin', 'node-flags.js'));
      for (const b of ['qemu-ts.js', 'qemu-ts-img.js']) {
        copyFileSync(join(ROOT, 'bin', b), join(fake, 'bin', b));
        const r = spawnSync(process.execPath, [join(fake, 'bin', b), '-version'], { encoding: 'utf8' });
        expect(r.status).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^qemu-ts(-img)?: dist\/cli\/qemu-ts(-img)?\.js is missing; run 'npm run build' first\n$/);
      }
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
