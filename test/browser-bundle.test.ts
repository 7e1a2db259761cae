/**
 * Everything outside the Node adapters must bundle for the browser (DESIGN.md section 1):
 * every .ts file under src/ except src/cli/** and files whose name starts with `node`
 * (src/block/node-file.ts and the like) is bundled with esbuild for platform 'browser'.
 * The test fails when the bundle fails or when any Node built-in is imported.
 */
import { builtinModules } from 'node:module';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** `fs`, `node:fs`, `fs/promises`, `node:test` (only exists with the prefix)... */
function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]!);
}

interface BundleReport {
  /** esbuild errors, one line each. */
  errors: string[];
  /** Node built-ins reached from the bundle, with the file that imported each. */
  leaks: { specifier: string; importer: string }[];
}

/**
 * Bundle `contents` (an ES module; relative imports resolve from `resolveDir`) for the
 * browser and report failures and Node built-in imports. Built-ins are marked external
 * and recorded by a plugin, so one run lists every leak instead of stopping at the first.
 */
async function checkBrowserBundle(contents: string, resolveDir: string): Promise<BundleReport> {
  const leaks: BundleReport['leaks'] = [];
  const catchBuiltins: Plugin = {
    name: 'catch-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isNodeBuiltin(args.path)) return undefined;
        leaks.push({ specifier: args.path, importer: relative(ROOT, args.importer) || args.importer });
        return { path: args.path, external: true };
      });
    },
  };
  try {
    const result = await build({
      stdin: { contents, resolveDir, loader: 'ts', sourcefile: 'browser-entry.ts' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
      plugins: [catchBuiltins],
    });
    return { errors: result.errors.map((e) => e.text), leaks };
  } catch (e) {
    const failure = e as { errors?: { text: string; location?: { file: string; line: number } | null }[] };
    const errors = (failure.errors ?? [{ text: String(e) }]).map((m) =>
      m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text,
    );
    return { errors, leaks };
  }
}

/** The browser-portable source files, as paths relative to the repository. */
function browserSourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(ROOT, full).split(sep).join('/');
      if (statSync(full).isDirectory()) {
        if (rel === 'src/cli') continue;
        walk(full);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.startsWith('node')) {
        out.push(rel);
      }
    }
  };
  walk(SRC);
  return out;
}

function entryFor(files: readonly string[]): string {
  const lines = files.map((f, i) => `import * as m${i} from ${JSON.stringify('./' + f)};`);
  lines.push(`export const modules = [${files.map((_, i) => `m${i}`).join(', ')}];`);
  return lines.join('\n');
}

describe('browser bundle', () => {
  it('bundles every portable src/ module without Node built-ins', async () => {
    const files = browserSourceFiles();
    // The core contracts are always there; if this list is empty the test proves nothing.
    expect(files).toContain('src/memory/mmio.ts');
    expect(files).toContain('src/devices/uart16550.ts');
    expect(files.some((f) => f.startsWith('src/cli/'))).toBe(false);
    const report = await checkBrowserBundle(entryFor(files), ROOT);
    expect(report.errors).toEqual([]);
    expect(report.leaks).toEqual([]);
  }, 120_000);

  it('reports a Node built-in reached through an import (the checker can fail)', async () => {
    const report = await checkBrowserBundle(
      `import { readFileSync } from 'node:fs';
       import * as path from 'path';
       export const f = () => readFileSync(path.join('a', 'b'));`,
      ROOT,
    );
    expect(report.leaks.map((l) => l.specifier).sort()).toEqual(['node:fs', 'path']);
  });

  it('names the nested module that imports a built-in, and passes clean code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-ts-bundle-'));
    try {
      writeFileSync(join(dir, 'outer.ts'), `export { hostname } from './inner.ts';`);
      writeFileSync(join(dir, 'inner.ts'), `import * as os from 'os'; export const hostname = (): string => os.hostname();`);
      const leaky = await checkBrowserBundle(`export * from './outer.ts';`, dir);
      expect(leaky.errors).toEqual([]);
      expect(leaky.leaks).toHaveLength(1);
      expect(leaky.leaks[0]!.specifier).toBe('os');
      expect(leaky.leaks[0]!.importer.endsWith('inner.ts')).toBe(true);
      const broken = await checkBrowserBundle(`export * from './missing.ts';`, dir);
      expect(broken.errors.join('\n')).toMatch(/missing\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const clean = await checkBrowserBundle(`export { Uart16550 } from './src/devices/uart16550.ts';`, ROOT);
    expect(clean).toEqual({ errors: [], leaks: [] });
  });
});
