#!/usr/bin/env node
// Guest images for tests and demos: Debian's stock riscv64 kernel and busybox-static,
// fetched by package name from the registry the system's apt already uses, and assembled
// by this script into a cache directory:
//
//   <root>/riscv64-<kernel version>/
//     Image          the uncompressed RISC-V kernel Image (header magic "RISCV\0\0\0" at 0x30)
//     initrd.gz      gzip'd newc cpio: busybox, our own /init, the virtio modules (decompressed)
//     disk.raw       16 MiB raw disk: sector 0 starts with "QEMU-TS-DISK-OK", the last sector
//                    with "QEMU-TS-DISK-END", zeros elsewhere (copy it before writing to it)
//     manifest.json  kernel version, package versions, sha256 of every file
//     parts/         busybox, the decompressed modules and /init, kept so that a change of
//                    the initramfs recipe is rebuilt without downloading again
//   <root>/riscv64.json   points at the current riscv64-<version> directory
//   <root>/riscv64        symlink to it (for humans)
//
// <root> is --cache DIR, else $QEMU_TS_CACHE, else ~/.cache/qemu-ts/images.
//
//   node tools/guest-images.mjs riscv64 [--cache DIR] [--force] [--quiet]
//
// Apt runs with a private configuration (sources, lists, cache and status in <root>), so
// the system's own sources and package state are never touched. The mirror URI is read at
// run time from /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list);
// QEMU_TS_DEBIAN_MIRROR and QEMU_TS_DEBIAN_SUITE override it and the suite (trixie).
// Needs apt-get, apt-cache, dpkg-deb and xz (Debian packages apt, dpkg, xz-utils).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync,
  renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const FORMAT = 1;
const DEFAULT_SUITE = 'trixie';
const DISK_SIZE = 16 * 1024 * 1024;
export const DISK_SIGNATURE = 'QEMU-TS-DISK-OK';
export const DISK_END_SIGNATURE = 'QEMU-TS-DISK-END';
export const INIT_READY_MARKER = 'qemu-ts: init ready';
export const SHELL_PROMPT = '~ # ';

/** Per-architecture recipe: Debian package names and the modules /init loads. */
const ARCHES = {
  riscv64: {
    debArch: 'riscv64',
    kernelMeta: 'linux-image-riscv64',
    kernelPkgRe: /^linux-image-\S+-riscv64$/,
    busybox: 'busybox-static',
    // Loaded in this order after their own dependencies (from each module's modinfo).
    modules: ['virtio_mmio', 'virtio_blk'],
  },
};

// ---------------------------------------------------------------------------------------
// Small helpers

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function sha256File(path) {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

class GuestImageError extends Error {}

/** Run a program; resolve with stdout (Buffer). Lines of stderr/stdout go to onLine if given. */
function run(cmd, args, { cwd, env, onLine, maxBuffer = 512 << 20 } = {}) {
  return new Promise((resolvePromise, reject) => {
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: { ...process.env, LC_ALL: 'C', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      reject(e);
      return;
    }
    const out = [];
    let outLen = 0;
    let err = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      outLen += d.length;
      if (outLen > maxBuffer) child.kill();
      else out.push(d);
      if (onLine) {
        const lines = (partial + d.toString('utf8')).split('\n');
        partial = lines.pop();
        for (const l of lines) if (l.trim()) onLine(l);
      }
    });
    child.stderr.on('data', (d) => {
      err += d.toString('utf8');
    });
    child.on('error', (e) => {
      if (e.code === 'ENOENT') reject(new GuestImageError(`${cmd} not found (${toolHint(cmd)})`));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      if (onLine && partial.trim()) onLine(partial);
      if (code === 0) resolvePromise(Object.assign(Buffer.concat(out), { stderrText: err }));
      else {
        const lines = err.split('\n').map((l) => l.trim()).filter(Boolean);
        const msg = lines.find((l) => l.startsWith('E:')) ?? lines.at(-1) ?? `exit status ${code ?? signal}`;
        reject(new GuestImageError(`${cmd} ${args.find((a) => !a.startsWith('-') && !a.includes('::')) ?? ''} failed: ${msg}`));
      }
    });
  });
}

function toolHint(cmd) {
  if (cmd.startsWith('apt')) return "Debian's apt is needed to fetch guest images";
  if (cmd.startsWith('dpkg')) return "Debian's dpkg is needed to unpack guest packages";
  if (cmd === 'xz') return 'install xz-utils';
  if (cmd === 'zstd') return 'install zstd';
  return 'install it';
}

// ---------------------------------------------------------------------------------------
// Apt with a private configuration

/** The Debian mirror URI the system's apt uses (never hard-coded here). */
export function debianMirror() {
  if (process.env.QEMU_TS_DEBIAN_MIRROR) return process.env.QEMU_TS_DEBIAN_MIRROR;
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) {
    for (const stanza of readFileSync(deb822, 'utf8').split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(.+)$/im.exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      if (/^Enabled:\s*no/im.test(stanza)) continue;
      if (uris.length && suites.some((s) => !s.endsWith('-security'))) return uris[0];
    }
  }
  const legacy = '/etc/apt/sources.list';
  if (existsSync(legacy)) {
    for (const line of readFileSync(legacy, 'utf8').split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && !m[2].endsWith('-security')) return m[1];
    }
  }
  throw new GuestImageError('no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list (set QEMU_TS_DEBIAN_MIRROR)');
}

class PrivateApt {
  constructor(dir, { mirror, suite, debArch, log }) {
    this.dir = dir;
    this.log = log;
    for (const d of ['lists/partial', 'archives/partial', 'cache', 'state', 'etc']) mkdirSync(join(dir, d), { recursive: true });
    const status = join(dir, 'status');
    if (!existsSync(status)) writeFileSync(status, '');
    const keyring = ['/usr/share/keyrings/debian-archive-keyring.gpg'].find(existsSync);
    const opts = [`arch=${debArch}`, ...(keyring ? [`signed-by=${keyring}`] : [])];
    writeFileSync(join(dir, 'etc/sources.list'), `deb [${opts.join(' ')}] ${mirror} ${suite} main\n`);
    this.opts = [
      `Dir::Etc::SourceList=${join(dir, 'etc/sources.list')}`,
      'Dir::Etc::SourceParts=/nonexistent',
      'Dir::Etc::Preferences=/nonexistent',
      'Dir::Etc::PreferencesParts=/nonexistent',
      `Dir::State=${join(dir, 'state')}`,
      `Dir::State::Lists=${join(dir, 'lists')}`,
      `Dir::State::status=${status}`,
      `Dir::Cache=${join(dir, 'cache')}`,
      `Dir::Cache::archives=${join(dir, 'archives')}`,
      `APT::Architectures=${debArch},amd64`,
      'APT::Architecture=amd64',
      'APT::Sandbox::User=root',
      'Acquire::Languages=none',
    ].flatMap((o) => ['-o', o]);
    this.debArch = debArch;
  }

  aptLine = (l) => {
    if (/^(Get|Hit|Ign|Err|Fetched|W:|E:)/.test(l)) this.log(`  apt: ${l.trim()}`);
  };

  async update() {
    const out = await run('apt-get', [...this.opts, '-q', 'update'], { onLine: this.aptLine });
    // apt-get update exits 0 when a source cannot be fetched; it only warns.
    if (/^Err:/m.test(out.toString('utf8'))) {
      const why = out.stderrText.split('\n').find((l) => /^[WE]:/.test(l)) ?? 'see the messages above';
      throw new GuestImageError(`apt-get update could not fetch the package lists: ${why.replace(/^[WE]:\s*/, '')}`);
    }
  }

  /** The candidate stanza of a package, as a field map. */
  async show(pkg) {
    const out = (await run('apt-cache', [...this.opts, 'show', '--no-all-versions', `${pkg}:${this.debArch}`])).toString('utf8');
    const fields = {};
    let key = null;
    for (const line of out.split('\n')) {
      if (line === '') {
        if (Object.keys(fields).length) break;
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
      if (m && !line.startsWith(' ')) {
        key = m[1];
        fields[key] = m[2];
      } else if (key) fields[key] += `\n${line}`;
    }
    if (!fields.Package) throw new GuestImageError(`apt-cache show ${pkg}:${this.debArch} returned nothing`);
    return fields;
  }

  /** Download exact versions into <dir>/archives; returns the .deb paths, in order. */
  async download(pkgs) {
    const cwd = join(this.dir, 'archives');
    await run('apt-get', [...this.opts, '-q', 'download', ...pkgs.map((p) => `${p.Package}:${this.debArch}=${p.Version}`)], { cwd, onLine: this.aptLine });
    return pkgs.map((p) => {
      const path = join(cwd, basename(p.Filename));
      const alt = join(cwd, `${p.Package}_${p.Version.replace(/:/g, '%3a')}_${p.Architecture}.deb`);
      const found = [path, alt].find(existsSync);
      if (!found) throw new GuestImageError(`apt-get download did not produce ${basename(p.Filename)}`);
      if (p.SHA256 && sha256File(found) !== p.SHA256.trim()) throw new GuestImageError(`${basename(found)}: sha256 mismatch`);
      return found;
    });
  }
}

// ---------------------------------------------------------------------------------------
// Kernel Image, modules, busybox

function hasImageMagic(b) {
  return b.length >= 0x40 && b.toString('latin1', 0x30, 0x38) === 'RISCV\0\0\0' && b.toString('latin1', 0x38, 0x3c) === 'RSC\x05';
}

/** Turn whatever Debian ships in boot/ into an uncompressed RISC-V Image. */
export function toRiscvImage(buf, what = 'kernel') {
  if (hasImageMagic(buf)) return { image: buf, form: 'Image' };
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    const image = gunzipSync(buf);
    if (hasImageMagic(image)) return { image, form: 'gzip-compressed Image' };
  }
  // EFI zboot: "MZ", "zimg" at 4, payload offset/size at 8/12, compression name at 0x18.
  if (buf.toString('latin1', 0, 2) === 'MZ' && buf.toString('latin1', 4, 8) === 'zimg') {
    const off = buf.readUInt32LE(8);
    const size = buf.readUInt32LE(12);
    const comp = buf.toString('latin1', 0x18, 0x20).replace(/\0.*$/s, '');
    if (comp !== 'gzip') throw new GuestImageError(`${what}: EFI zboot image compressed with ${comp}, only gzip is handled`);
    const image = gunzipSync(buf.subarray(off, off + size));
    if (hasImageMagic(image)) return { image, form: 'EFI zboot (gzip) Image' };
  }
  throw new GuestImageError(`${what}: not a RISC-V Image (no "RISCV" magic at 0x30), not gzip, not EFI zboot`);
}

/** ELF header facts (64-bit little-endian only; enough for our checks). */
export function elfInfo(buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return null;
  return { class: buf[4], data: buf[5], type: buf.readUInt16LE(16), machine: buf.readUInt16LE(18) };
}
const EM_RISCV = 243;

/** The key=value strings of a kernel module's .modinfo section. */
export function modinfo(buf) {
  const e = elfInfo(buf);
  if (!e || e.class !== 2 || e.data !== 1) throw new GuestImageError('module is not a 64-bit little-endian ELF');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const sh = (i) => {
    const o = shoff + i * shentsize;
    return { name: buf.readUInt32LE(o), offset: Number(buf.readBigUInt64LE(o + 0x18)), size: Number(buf.readBigUInt64LE(o + 0x20)) };
  };
  const strtab = sh(shstrndx);
  const info = {};
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    const nameEnd = buf.indexOf(0, strtab.offset + s.name);
    if (buf.toString('latin1', strtab.offset + s.name, nameEnd) !== '.modinfo') continue;
    for (const kv of buf.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) (info[kv.slice(0, eq)] ??= []).push(kv.slice(eq + 1));
    }
  }
  return info;
}

async function decompressModule(path) {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.ko.xz')) return run('xz', ['-dc', path]);
  if (path.endsWith('.ko.gz')) return gunzipSync(readFileSync(path));
  if (path.endsWith('.ko.zst')) return run('zstd', ['-dcq', path]);
  throw new GuestImageError(`${path}: unknown module compression`);
}

function walk(dir, out = []) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const modName = (file) => basename(file).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');

/**
 * Resolve the wanted modules and their dependencies (from each module's modinfo "depends=",
 * since the package ships no modules.dep: depmod runs at install time) into load order.
 * Modules built into the kernel (modules.builtin) are skipped.
 */
async function resolveModules(modDir, kver, wanted, log) {
  const index = new Map();
  for (const f of walk(join(modDir, 'kernel'))) if (/\.ko(\.(xz|gz|zst))?$/.test(f)) index.set(modName(f), f);
  const builtin = new Set();
  const builtinFile = join(modDir, 'modules.builtin');
  if (existsSync(builtinFile)) for (const l of readFileSync(builtinFile, 'utf8').split('\n')) if (l.trim()) builtin.add(modName(l.trim()));
  const order = [];
  const state = new Map(); // name -> 'visiting' | 'done'
  const visit = async (name, chain) => {
    name = name.replace(/-/g, '_');
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new GuestImageError(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    if (!index.has(name)) {
      if (builtin.has(name)) {
        log(`  module ${name} is built into the kernel`);
        state.set(name, 'done');
        return;
      }
      throw new GuestImageError(`module ${name} not found under ${modDir}${chain.length ? ` (needed by ${chain.at(-1)})` : ''}`);
    }
    state.set(name, 'visiting');
    const src = index.get(name);
    const data = await decompressModule(src);
    const e = elfInfo(data);
    if (!e || e.type !== 1 || e.machine !== EM_RISCV) throw new GuestImageError(`${basename(src)} is not a RISC-V relocatable ELF`);
    const info = modinfo(data);
    const vermagic = info.vermagic?.[0] ?? '';
    if (!vermagic.startsWith(`${kver} `)) throw new GuestImageError(`${basename(src)}: vermagic "${vermagic}" does not match kernel ${kver}`);
    const deps = (info.depends?.[0] ?? '').split(',').filter(Boolean);
    for (const d of deps) await visit(d, [...chain, name]);
    state.set(name, 'done');
    order.push({ name, source: src.slice(modDir.length + 1), data, depends: deps });
  };
  for (const w of wanted) await visit(w, []);
  return order;
}

// ---------------------------------------------------------------------------------------
// The initramfs

/** Our /init: a busybox shell script. */
export function makeInit({ kver, modules }) {
  const insmods = modules
    .map((m) => `load ${m.name}`)
    .join('\n');
  return `#!/bin/sh
# /init of the qemu-ts test initramfs (generated by tools/guest-images.mjs).
# Kernel ${kver}; modules are loaded in dependency order.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TERM=vt100
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
echo "qemu-ts: init started"

load() {
  if insmod /lib/modules/${kver}/$1.ko; then
    echo "qemu-ts: loaded $1"
  else
    echo "qemu-ts: insmod $1 failed"
  fi
}
${insmods}

hostname qemu-ts
echo "qemu-ts: block devices: $(ls /sys/block | tr '\\n' ' ')"
echo "${INIT_READY_MARKER}"

# An interactive shell with job control on the console's real tty (ttyS0): cttyhack
# finds it from /sys/class/tty/console/active. When the shell exits, power off.
export PS1='${SHELL_PROMPT}'
setsid cttyhack sh
echo "qemu-ts: shell exited, powering off"
poweroff -f
`;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** The initramfs entries: [{ name, mode, data?, rdev? }] in archive order. */
function initramfsEntries({ kver, busybox, modules, init }) {
  const dir = (name, perm = 0o755) => ({ name, mode: S_IFDIR | perm });
  const file = (name, data, perm = 0o644) => ({ name, mode: S_IFREG | perm, data: Buffer.from(data) });
  const link = (name, target) => ({ name, mode: S_IFLNK | 0o777, data: Buffer.from(target) });
  const entries = [
    ...['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'mnt', 'root', 'run', 'var', 'lib', 'lib/modules', `lib/modules/${kver}`].map((d) => dir(d)),
    dir('tmp', 0o1777),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'dev/null', mode: S_IFCHR | 0o666, rdev: [1, 3] },
    { name: 'dev/ttyS0', mode: S_IFCHR | 0o600, rdev: [4, 64] },
    file('bin/busybox', busybox, 0o755),
    link('bin/sh', 'busybox'),
    file('init', init, 0o755),
    file('etc/passwd', 'root::0:0:root:/root:/bin/sh\n'),
    file('etc/group', 'root:x:0:\n'),
    file('etc/hostname', 'qemu-ts\n'),
    ...modules.map((m) => file(`lib/modules/${kver}/${m.name}.ko`, m.data)),
    file(`lib/modules/${kver}/qemu-ts.order`, modules.map((m) => `${m.name}\n`).join('')),
  ];
  return entries;
}

/** A newc ("070701") cpio archive, as the kernel's initramfs unpacker reads it. */
export function cpioNewc(entries, { mtime = 0 } = {}) {
  const chunks = [];
  let off = 0;
  const push = (b) => {
    chunks.push(b);
    off += b.length;
  };
  const pad4 = () => {
    const p = (4 - (off % 4)) % 4;
    if (p) push(Buffer.alloc(p));
  };
  const hex = (n) => (n >>> 0).toString(16).padStart(8, '0');
  let ino = 1;
  const all = [...entries, { name: 'TRAILER!!!', mode: 0, trailer: true }];
  for (const e of all) {
    const name = Buffer.from(`${e.name}\0`, 'utf8');
    const data = e.data ?? Buffer.alloc(0);
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const [rmaj, rmin] = e.rdev ?? [0, 0];
    const fields = [
      e.trailer ? 0 : ino++, e.mode, 0, 0, e.trailer ? 1 : isDir ? 2 : 1, e.trailer ? 0 : mtime,
      data.length, 0, 0, rmaj, rmin, name.length, 0,
    ];
    push(Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1'));
    push(name);
    pad4();
    push(data);
    pad4();
  }
  const p = (512 - (off % 512)) % 512;
  if (p) push(Buffer.alloc(p));
  return Buffer.concat(chunks);
}

function writeDisk(path) {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, DISK_SIZE);
    const first = Buffer.alloc(512);
    first.write(`${DISK_SIGNATURE}\n`, 0, 'latin1');
    writeSync(fd, first, 0, 512, 0);
    const last = Buffer.alloc(512);
    last.write(`${DISK_END_SIGNATURE}\n`, 0, 'latin1');
    writeSync(fd, last, 0, 512, DISK_SIZE - 512);
  } finally {
    closeSync(fd);
  }
}

// Anything that changes what we assemble must change RECIPE, so caches get rebuilt. It hashes
// the assembler's output for a dummy input (not function source text: test runners rewrite
// that) plus the constants; bump FORMAT for changes these do not capture.
const RECIPE = (() => {
  const dummy = { kver: 'KVER', busybox: Buffer.from('BB'), modules: [{ name: 'm1', data: Buffer.from('M1') }, { name: 'm2', data: Buffer.from('M2') }] };
  const init = makeInit(dummy);
  const cpio = cpioNewc(initramfsEntries({ ...dummy, init }));
  const arches = Object.fromEntries(Object.entries(ARCHES).map(([k, v]) => [k, { ...v, kernelPkgRe: String(v.kernelPkgRe) }]));
  return sha256(JSON.stringify({ FORMAT, DISK_SIZE, DISK_SIGNATURE, DISK_END_SIGNATURE, arches }) + cpio.toString('latin1')).slice(0, 16);
})();

/**
 * Write Image, initrd.gz, disk.raw, parts/ and manifest.json into outDir.
 * parts: { kver, image (Buffer), busybox (Buffer), modules: [{name, source, data, depends}], packages, imageForm }
 */
function assemble(outDir, arch, parts, log) {
  mkdirSync(join(outDir, 'parts/modules'), { recursive: true });
  const { kver, modules } = parts;
  const init = makeInit({ kver, modules });
  writeFileSync(join(outDir, 'Image'), parts.image);
  writeFileSync(join(outDir, 'parts/busybox'), parts.busybox, { mode: 0o755 });
  writeFileSync(join(outDir, 'parts/init'), init, { mode: 0o755 });
  for (const m of modules) writeFileSync(join(outDir, `parts/modules/${m.name}.ko`), m.data);
  const cpio = cpioNewc(initramfsEntries({ kver, busybox: parts.busybox, modules, init }));
  const initrd = gzipSync(cpio, { level: 9 });
  writeFileSync(join(outDir, 'initrd.gz'), initrd);
  log(`  initrd.gz: ${mib(initrd.length)} (cpio ${mib(cpio.length)}), modules: ${modules.map((m) => m.name).join(', ') || 'none'}`);
  writeDisk(join(outDir, 'disk.raw'));
  const files = {};
  for (const f of ['Image', 'initrd.gz', 'disk.raw']) {
    const p = join(outDir, f);
    files[f] = { size: statSync(p).size, sha256: sha256File(p) };
  }
  const partFiles = { busybox: { sha256: sha256(parts.busybox) } };
  const manifest = {
    format: FORMAT,
    recipe: RECIPE,
    arch,
    suite: parts.suite,
    kernelVersion: kver,
    kernelImageForm: parts.imageForm,
    packages: parts.packages,
    modules: modules.map((m) => ({ name: m.name, path: `/lib/modules/${kver}/${m.name}.ko`, source: m.source, depends: m.depends, sha256: sha256(m.data) })),
    init: { marker: INIT_READY_MARKER, prompt: SHELL_PROMPT },
    disk: { size: DISK_SIZE, signature: DISK_SIGNATURE, endSignature: DISK_END_SIGNATURE },
    files,
    parts: partFiles,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

// ---------------------------------------------------------------------------------------
// Cache handling

export function defaultCacheRoot() {
  return process.env.QEMU_TS_CACHE || join(homedir(), '.cache', 'qemu-ts', 'images');
}

function result(dir, manifest) {
  return {
    dir,
    kernel: join(dir, 'Image'),
    initrd: join(dir, 'initrd.gz'),
    disk: join(dir, 'disk.raw'),
    manifestPath: join(dir, 'manifest.json'),
    manifest,
  };
}

/** The current cache entry if it is complete: { state: 'ok'|'stale-recipe'|'missing', ... }. */
function inspectCache(root, arch) {
  let pointer;
  try {
    pointer = JSON.parse(readFileSync(join(root, `${arch}.json`), 'utf8'));
  } catch {
    return { state: 'missing', why: 'no cache yet' };
  }
  const dir = join(root, pointer.dir ?? '');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return { state: 'missing', why: `${dir}/manifest.json is missing or unreadable` };
  }
  if (manifest.format !== FORMAT || manifest.arch !== arch || !manifest.files) return { state: 'missing', why: 'manifest format changed' };
  const checkFile = (p, want) => {
    try {
      return (want.size === undefined || statSync(p).size === want.size) && sha256File(p) === want.sha256;
    } catch {
      return false;
    }
  };
  if (manifest.recipe !== RECIPE) {
    // The initramfs recipe changed; rebuild from parts/ if they are intact (no download).
    const okParts =
      checkFile(join(dir, 'Image'), manifest.files.Image) &&
      checkFile(join(dir, 'parts/busybox'), manifest.parts?.busybox ?? {}) &&
      (manifest.modules ?? []).every((m) => checkFile(join(dir, `parts/modules/${m.name}.ko`), m));
    return { state: okParts ? 'stale-recipe' : 'missing', why: 'the initramfs recipe changed', dir, manifest };
  }
  for (const [f, want] of Object.entries(manifest.files)) {
    if (!checkFile(join(dir, f), want)) return { state: 'missing', why: `${f} does not match the manifest` };
  }
  return { state: 'ok', dir, manifest };
}

async function withLock(root, arch, log, fn) {
  const lock = join(root, `.${arch}.lock`);
  const start = Date.now();
  let warned = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {}
      let alive = true;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0);
        } catch (err) {
          alive = err.code === 'EPERM';
        }
      } else {
        try {
          alive = Date.now() - statSync(lock).mtimeMs < 60_000;
        } catch {
          continue;
        }
      }
      if (!alive) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!warned) log(`waiting for another guest-images build (pid ${pid}) to finish (${lock})`);
      warned = true;
      if (Date.now() - start > 30 * 60_000) throw new GuestImageError(`timed out waiting for ${lock}`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Move a finished build into place and point <root>/<arch>.json and <root>/<arch> at it. */
function publish(root, arch, tmpDir, name) {
  const final = join(root, name);
  if (existsSync(final)) {
    const old = `${final}.old-${process.pid}`;
    renameSync(final, old);
    renameSync(tmpDir, final);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmpDir, final);
  const ptrTmp = join(root, `.${arch}.json.tmp-${process.pid}`);
  writeFileSync(ptrTmp, `${JSON.stringify({ dir: name }, null, 2)}\n`);
  renameSync(ptrTmp, join(root, `${arch}.json`));
  try {
    const linkTmp = join(root, `.${arch}.link-${process.pid}`);
    rmSync(linkTmp, { force: true });
    symlinkSync(name, linkTmp);
    renameSync(linkTmp, join(root, arch));
  } catch {
    // The symlink is a convenience; the JSON pointer is what the script reads.
  }
  return final;
}

async function fetchAndBuild(root, arch, log) {
  const a = ARCHES[arch];
  const suite = process.env.QEMU_TS_DEBIAN_SUITE || DEFAULT_SUITE;
  const mirror = debianMirror();
  const t0 = Date.now();
  // Leftovers of interrupted runs (we hold the lock).
  for (const ent of readdirSync(root)) if (ent.startsWith(`.${arch}-work`) || /\.(tmp|old)-\d+$/.test(ent)) rmSync(join(root, ent), { recursive: true, force: true });
  const apt = new PrivateApt(join(root, `.apt-${arch}`), { mirror, suite, debArch: a.debArch, log });
  log(`updating package lists: ${suite}/main ${a.debArch} from ${mirror}`);
  await apt.update();
  const meta = await apt.show(a.kernelMeta);
  const kernelPkgName = (meta.Depends ?? '')
    .split(',')
    .flatMap((d) => d.split('|'))
    .map((d) => d.trim().split(/\s/)[0].replace(/:.*$/, ''))
    .find((d) => a.kernelPkgRe.test(d));
  if (!kernelPkgName) throw new GuestImageError(`${a.kernelMeta} ${meta.Version}: no linux-image dependency in "${meta.Depends}"`);
  const kpkg = await apt.show(kernelPkgName);
  const bpkg = await apt.show(a.busybox);
  for (const p of [kpkg, bpkg]) log(`downloading ${p.Package} ${p.Version} (${mib(Number(p.Size))})`);
  const [kdeb, bdeb] = await apt.download([kpkg, bpkg]);
  log(`downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const work = join(root, `.${arch}-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    log(`extracting ${basename(kdeb)}`);
    await run('dpkg-deb', ['-x', kdeb, join(work, 'k')]);
    log(`extracting ${basename(bdeb)}`);
    await run('dpkg-deb', ['-x', bdeb, join(work, 'b')]);

    const bootDir = join(work, 'k/boot');
    const kfile = readdirSync(bootDir).find((f) => /^vmlinu[xz]-/.test(f));
    if (!kfile) throw new GuestImageError(`${kpkg.Package}: no boot/vmlinux-* or boot/vmlinuz-*`);
    const kver = kfile.replace(/^vmlinu[xz]-/, '');
    const kraw = readFileSync(join(bootDir, kfile));
    const { image, form } = toRiscvImage(kraw, `boot/${kfile}`);
    log(`kernel ${kver}: boot/${kfile} is ${form === 'Image' ? 'an uncompressed Image (EFI stub header)' : `a ${form}`}, ${mib(image.length)}`);

    const modDir = [join(work, 'k/usr/lib/modules', kver), join(work, 'k/lib/modules', kver)].find(existsSync);
    if (!modDir) throw new GuestImageError(`${kpkg.Package}: no lib/modules/${kver}`);
    const modules = await resolveModules(modDir, kver, a.modules, log);
    log(`modules in load order: ${modules.map((m) => `${m.name}${m.depends.length ? ` (needs ${m.depends.join(', ')})` : ''}`).join(', ')}`);

    const bbPath = [join(work, 'b/usr/bin/busybox'), join(work, 'b/bin/busybox')].find(existsSync);
    if (!bbPath) throw new GuestImageError(`${bpkg.Package}: no busybox binary`);
    const busybox = readFileSync(bbPath);
    const be = elfInfo(busybox);
    if (!be || be.machine !== EM_RISCV) throw new GuestImageError(`${bpkg.Package}: busybox is not a RISC-V ELF`);

    const pkgInfo = (p) => ({ version: p.Version, size: Number(p.Size), sha256: p.SHA256 });
    const packages = { [a.kernelMeta]: { version: meta.Version }, [kpkg.Package]: pkgInfo(kpkg), [bpkg.Package]: pkgInfo(bpkg) };
    const name = `${arch}-${kver}`;
    const tmpDir = join(root, `${name}.tmp-${process.pid}`);
    const manifest = assemble(tmpDir, arch, { kver, image, busybox, modules, packages, suite, imageForm: form }, log);
    const dir = publish(root, arch, tmpDir, name);
    return result(dir, manifest);
  } finally {
    rmSync(work, { recursive: true, force: true });
    // The .debs are big (the kernel is >100 MiB) and everything needed is in the cache.
    for (const f of [kdeb, bdeb]) rmSync(f, { force: true });
  }
}

function rebuildFromParts(root, arch, dir, old, log) {
  const kver = old.kernelVersion;
  const modules = old.modules.map((m) => ({ ...m, data: readFileSync(join(dir, `parts/modules/${m.name}.ko`)) }));
  const name = basename(dir);
  const tmpDir = join(root, `${name}.tmp-${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  const manifest = assemble(tmpDir, arch, {
    kver,
    image: readFileSync(join(dir, 'Image')),
    busybox: readFileSync(join(dir, 'parts/busybox')),
    modules,
    packages: old.packages,
    suite: old.suite,
    imageForm: old.kernelImageForm,
  }, log);
  return result(publish(root, arch, tmpDir, name), manifest);
}

/**
 * Make sure the guest images for `arch` are in the cache; fetch and build them if not.
 * Resolves with absolute paths { dir, kernel, initrd, disk, manifestPath } and the parsed manifest.
 */
export async function ensureGuestImages({ arch = 'riscv64', cacheDir, log, force = false } = {}) {
  if (!ARCHES[arch]) throw new GuestImageError(`unsupported architecture "${arch}" (supported: ${Object.keys(ARCHES).join(', ')})`);
  const say = log ?? ((m) => process.stderr.write(`guest-images: ${m}\n`));
  const root = resolve(cacheDir ?? defaultCacheRoot());
  mkdirSync(root, { recursive: true });
  if (!force) {
    const c = inspectCache(root, arch);
    if (c.state === 'ok') {
      say(`up to date: ${c.dir} (kernel ${c.manifest.kernelVersion})`);
      return result(c.dir, c.manifest);
    }
  }
  return withLock(root, arch, say, async () => {
    const t0 = Date.now();
    const c = inspectCache(root, arch); // another process may have built it meanwhile
    if (!force && c.state === 'ok') {
      say(`up to date: ${c.dir} (kernel ${c.manifest.kernelVersion})`);
      return result(c.dir, c.manifest);
    }
    let r;
    if (!force && c.state === 'stale-recipe') {
      say(`${c.why}: reassembling ${c.dir} from its parts`);
      r = rebuildFromParts(root, arch, c.dir, c.manifest, say);
    } else {
      if (!force) say(`building (${c.why})`);
      r = await fetchAndBuild(root, arch, say);
    }
    say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.dir} (kernel ${r.manifest.kernelVersion})`);
    return r;
  });
}

// ---------------------------------------------------------------------------------------
// Command line

const USAGE = 'usage: node tools/guest-images.mjs riscv64 [--cache DIR] [--force] [--quiet]';

async function main(argv) {
  let arch;
  let cacheDir;
  let force = false;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') force = true;
    else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a === '--cache') {
      cacheDir = argv[++i];
      if (!cacheDir) throw new GuestImageError(`--cache needs a directory; ${USAGE}`);
    } else if (a.startsWith('--cache=')) cacheDir = a.slice(8);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-') || arch) throw new GuestImageError(`unexpected argument "${a}"; ${USAGE}`);
    else arch = a;
  }
  if (!arch) throw new GuestImageError(`missing architecture; ${USAGE}`);
  const r = await ensureGuestImages({ arch, cacheDir, force, log: quiet ? () => {} : undefined });
  process.stdout.write(`${r.dir}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      const msg = e instanceof GuestImageError ? e.message : `${e?.message ?? e}`;
      process.stderr.write(`guest-images: error: ${msg}\n`);
      process.exit(1);
    },
  );
}
