/**
 * The `qemu-ts-img` command line. The block layer (raw, qcow2, overlays) does not exist
 * yet, so every command is refused honestly with a one-line error and exit status 1;
 * only --help and --version work.
 */

/** Same as qemu-ts's version (a test keeps both equal to package.json); not imported from
 * qemu-ts.ts so this small tool does not bundle the whole machine. */
export const QEMU_TS_VERSION = '0.1.0';

/** The commands qemu-img has and this tool will grow; listed so help is truthful about them. */
export const PLANNED_COMMANDS = ['create', 'info', 'convert', 'check', 'resize', 'snapshot'] as const;

export interface ImgIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo = (): ImgIo => ({
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
});

export function imgHelpText(): string {
  return [
    `qemu-ts-img version ${QEMU_TS_VERSION}`,
    'usage: qemu-ts-img [--help | --version] <command> [command options]',
    '',
    `Commands (not implemented yet: ${PLANNED_COMMANDS.join(', ')})`,
    '',
  ].join('\n');
}

export async function imgMain(argv: readonly string[], io: ImgIo = processIo()): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr("qemu-ts-img: Not enough arguments (try 'qemu-ts-img --help')\n");
    return 1;
  }
  if (first === '--help' || first === '-h' || first === '-help') {
    io.stdout(imgHelpText());
    return 0;
  }
  if (first === '--version' || first === '-V' || first === '-version') {
    io.stdout(`qemu-ts-img version ${QEMU_TS_VERSION}\n`);
    return 0;
  }
  if (first.startsWith('-')) {
    io.stderr(`qemu-ts-img: ${first.replace(/[\r\n]+/g, ' ')}: invalid option\n`);
    return 1;
  }
  io.stderr(`qemu-ts-img: not implemented yet: ${first.replace(/[\r\n]+/g, ' ')}\n`);
  return 1;
}

export { imgMain as main };
