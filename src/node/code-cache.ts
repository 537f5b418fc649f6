// Loads a CommonJS bundle through a V8 code cache kept in the per-user cache folder. The command line is a
// short-lived process: without it, a scan of a small build dir spends about half of its time compiling the
// bundle's functions on first call, the same functions every run. Node 22 has this built in
// (`module.enableCompileCache`); Node 20, the oldest we run on, has only the V8 primitives used here.
//
// V8 checks a cache against its own version and flags, and against the source's length only: the file name
// carries a hash of the source, so that a rebuilt bundle never runs another build's bytecode.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/**
 * `hit`: the cache was used. `miss`: there was none yet (one is written at exit). `rejected`: V8 refused it
 * (another Node, other V8 flags, a damaged file; it is rewritten at exit). `off`: no cache folder was given.
 */
export type CodeCacheState = 'hit' | 'miss' | 'rejected' | 'off';

export interface Loaded {
  readonly exports: unknown;
  readonly codeCache: CodeCacheState;
  /** The cache file used or to be written, or null when off. */
  readonly cacheFile: string | null;
}

/**
 * Runs `file` as CommonJS (its own `require`, `module`, `__dirname`), with the code cache in `cacheDir`.
 * A cache holds the functions its first run compiled, so each kind of run has its own (`flavor`, e.g. the
 * command): a first `--version` must not leave a cache without the scan in it. A cache is written at exit
 * when it was missing or refused, and never rewritten otherwise (making one costs a few milliseconds). Failing
 * to write is ignored: the next run compiles as if there were no cache.
 */
export function requireWithCodeCache(file: string, cacheDir: string | null, flavor: string): Loaded {
  const source = fs.readFileSync(file, 'utf8');
  // The wrapper stays on the first line, so that line numbers in stack traces match the file.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source.replace(/^#!.*/, '')}\n})`;
  const build = buildPrefix(file, source);
  const cacheFile = cacheDir === null ? null : path.join(cacheDir, `${build}${flavor.replace(/[^a-z0-9]+/gi, '_')}.v8cache`);
  let cached: Buffer | undefined;
  if (cacheFile !== null) {
    try {
      cached = fs.readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
  }
  const script = new vm.Script(wrapped, { filename: file, cachedData: cached });
  const codeCache: CodeCacheState = cacheFile === null ? 'off' : !cached ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  if (cacheFile !== null && codeCache !== 'hit') process.once('exit', () => saveCache(script, cacheFile, build));
  const mod = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, codeCache, cacheFile };
}

/**
 * Cache files are named `<bundle>-<hash>-<flavor>.v8cache`; this is the part before the flavor. The hash covers
 * Node's version, the platform and the source.
 */
function buildPrefix(file: string, source: string): string {
  const h = createHash('sha256').update(`${process.version}\0${process.arch}\0${process.platform}\0`).update(source).digest('hex');
  return `${path.basename(file, '.js')}-${h.slice(0, 16)}-`;
}

/** Writes the cache atomically: another run may be reading it. */
function saveCache(script: vm.Script, cacheFile: string, build: string): void {
  try {
    const data = script.createCachedData();
    const dir = path.dirname(cacheFile);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, cacheFile);
    // Caches of earlier builds of the same bundle are dead weight: only this build's are kept.
    const bundle = build.slice(0, -18);
    for (const f of fs.readdirSync(dir)) {
      const other = f.startsWith(bundle) && /^-[0-9a-f]{16}-[^-]+\.v8cache$/.test(f.slice(bundle.length)) && !f.startsWith(build);
      if (other) fs.rmSync(path.join(dir, f), { force: true });
    }
  } catch {
    // A read-only or full cache folder only costs the next run its head start.
  }
}
