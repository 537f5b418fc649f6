// Loads a CommonJS bundle through a V8 code cache kept in the per-user cache folder. The command line is a
// short-lived process: without it, a scan of a small build dir spends about half of its time compiling the
// bundle's functions on first call, the same functions every run. Node 22 has this built in
// (`module.enableCompileCache`); Node 20, the oldest we run on, has only the V8 primitives used here.
//
// V8 checks a cache against its own version and flags, and against the source's length only: the file name
// carries a hash of the source, so that a rebuilt bundle never runs another build's bytecode. Release builds of
// Node do not verify the cache's own checksum, and some damaged caches crash V8 instead of being refused: each
// file starts with a SHA-256 of the rest, checked before V8 sees it.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/**
 * `hit`: the cache was used. `miss`: there was none yet (one is written at exit). `rejected`: it was damaged or
 * V8 refused it (other V8 flags); it is rewritten at exit. `off`: no cache folder was given.
 */
export type CodeCacheState = 'hit' | 'miss' | 'rejected' | 'off';

export interface Loaded {
  readonly exports: unknown;
  readonly codeCache: CodeCacheState;
  /** The bundle's identity: a hash of its source, Node's version and the platform. */
  readonly id: string;
}

const DIGEST = 32;
/** Caches of other builds (another version, another Node) unused for this long are removed. */
const STALE_MS = 7 * 24 * 3600 * 1000;

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
  const stored = cacheFile === null ? undefined : readCache(cacheFile);
  const script = new vm.Script(wrapped, { filename: file, cachedData: stored || undefined, ...dynamicImport() });
  const codeCache: CodeCacheState = cacheFile === null ? 'off' : stored === undefined ? 'miss' : !stored || script.cachedDataRejected ? 'rejected' : 'hit';
  if (cacheFile !== null && codeCache !== 'hit') process.once('exit', () => saveCache(script, cacheFile, build));
  const mod = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, codeCache, id: build.slice(0, -1) };
}

/** The first of `args` that is one of `known` (a command), else `other`: one cache per command, a bounded set. */
export function cacheFlavor(args: readonly string[], known: readonly string[]): string {
  return args.find((a) => known.includes(a)) ?? 'other';
}

/** V8's data from a cache file; undefined when there is none, null when it is damaged. */
function readCache(cacheFile: string): Buffer | null | undefined {
  let b: Buffer;
  try {
    b = fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const data = b.subarray(DIGEST);
  const ok = b.length > DIGEST && createHash('sha256').update(data).digest().equals(b.subarray(0, DIGEST));
  return ok ? data : null;
}

/** Lets the bundle use `import()` as a module loaded by `require` could (an option of Node ≥ 20.16 only). */
function dynamicImport(): Pick<vm.ScriptOptions, 'importModuleDynamically'> {
  type Loader = vm.ScriptOptions['importModuleDynamically'];
  const loader = (vm as unknown as { constants?: { USE_MAIN_CONTEXT_DEFAULT_LOADER?: Loader } }).constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  return loader === undefined ? {} : { importModuleDynamically: loader };
}

/**
 * Cache files are named `<bundle>-<hash>-<flavor>.v8cache`; this is the part before the flavor. The hash covers
 * Node's version, the platform and the source.
 */
function buildPrefix(file: string, source: string): string {
  const h = createHash('sha256').update(`${process.version}\0${process.arch}\0${process.platform}\0`).update(source).digest('hex');
  return `${path.basename(file, '.js')}-${h.slice(0, 16)}-`;
}

/** Writes the cache through a file of its own, renamed into place: another run may be reading it. */
function saveCache(script: vm.Script, cacheFile: string, build: string): void {
  const dir = path.dirname(cacheFile);
  const tmp = `${cacheFile}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const data = script.createCachedData();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { flag: 'wx' });
    fs.renameSync(tmp, cacheFile);
  } catch {
    // A read-only or full cache folder only costs the next run its head start.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // Never made: the folder could not be.
    }
    return;
  }
  // Caches of other builds of the same bundle, and files of writers that died, once they are old enough that
  // no other installed copy still uses them (two copies removing each other's caches would both always miss).
  const bundle = build.slice(0, -18);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const f of names) {
    const ours = f.startsWith(bundle) && /^-[0-9a-f]{16}-\w+\.v8cache(\.[0-9a-f]{12}\.tmp)?$/.test(f.slice(bundle.length));
    if (!ours || (f.startsWith(build) && !f.endsWith('.tmp'))) continue;
    try {
      const p = path.join(dir, f);
      if (Date.now() - fs.statSync(p).mtimeMs > STALE_MS) fs.rmSync(p, { force: true });
    } catch {
      // Gone already, or not ours to remove: the next cleanup tries again.
    }
  }
}
