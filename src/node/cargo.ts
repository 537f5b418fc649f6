// Process-level adapter around cargo for locating build directories: runs `cargo metadata` (never
// through a shell) and decides, for a path the user gave, whether it is a workspace, a build
// directory, or neither. The path rules themselves live in src/core/discover.ts.

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  dirsFromMetadata,
  dirsWithoutCargo,
  findWorkspaceRoot,
  looksLikeBuildDir,
  looksLikeProfileDir,
  type WorkspaceDirs,
} from '../core/discover';

export type CargoMetadataResult =
  | { ok: true; json: unknown; /** cargo's warnings on stderr, if any. */ warnings: string[] }
  | { ok: false; error: 'not-installed' | 'not-a-workspace' | 'failed' | 'timeout'; message: string };

export interface CargoOptions {
  /** The cargo program; default `cargo` from PATH. */
  cargo?: string;
  /** The environment cargo sees (which decides CARGO_TARGET_DIR and friends); default process.env. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Enough of cargo's stderr to explain a failure; cargo prints its error last. */
const MAX_STDERR = 64 * 1024;

function lastLines(text: string, n: number): string {
  return text.trim().split(/\r?\n/).slice(-n).join('\n');
}

/** Cargo's error without its `Caused by:` chain, which tends to repeat the first line. */
function cargoError(stderr: string): string {
  const lines = stderr.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith('error'));
  const picked = start >= 0 ? lines.slice(start) : lines;
  return lastLines(picked.join('\n'), 12) || 'cargo printed no error message';
}

/**
 * `cargo metadata --format-version 1 --no-deps --offline` in `cwd`. Never throws: every failure is
 * reported with a kind and a message that can be shown to the user.
 */
export async function runCargoMetadata(cwd: string, opts: CargoOptions = {}): Promise<CargoMetadataResult> {
  const cargo = opts.cargo ?? 'cargo';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // spawn reports a missing cwd as ENOENT, which would read as "cargo is not installed".
  try {
    if (!(await fsp.stat(cwd)).isDirectory()) return { ok: false, error: 'failed', message: `${cwd} is not a folder` };
  } catch (e) {
    return { ok: false, error: 'failed', message: `cannot use ${cwd}: ${(e as Error).message}` };
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: CargoMetadataResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cargo, ['metadata', '--format-version', '1', '--no-deps', '--offline'], {
        cwd,
        env: opts.env ?? process.env,
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (e) {
      resolve({ ok: false, error: 'failed', message: `could not start ${cargo}: ${(e as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, error: 'timeout', message: `\`cargo metadata\` did not finish within ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < MAX_STDERR) err += d.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        finish({ ok: false, error: 'not-installed', message: `cargo was not found (${cargo}); is Rust installed and on PATH?` });
      } else if (e.code === 'EACCES') {
        finish({ ok: false, error: 'not-installed', message: `${cargo} cannot be run (permission denied)` });
      } else {
        finish({ ok: false, error: 'failed', message: `could not run ${cargo}: ${e.message}` });
      }
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        if (/could not find `Cargo\.toml`/.test(err)) {
          finish({ ok: false, error: 'not-a-workspace', message: `no Cargo.toml in ${cwd} or its parent folders` });
        } else {
          const how = signal ? `was stopped by ${signal}` : `failed (exit code ${String(code)})`;
          finish({ ok: false, error: 'failed', message: `\`cargo metadata\` ${how}: ${cargoError(err)}` });
        }
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch (e) {
        finish({ ok: false, error: 'failed', message: `\`cargo metadata\` printed something that is not JSON: ${(e as Error).message}` });
        return;
      }
      const warnings = err
        .split(/\r?\n/)
        .filter((l) => l.startsWith('warning:'))
        .map((l) => l.slice('warning:'.length).trim());
      finish({ ok: true, json, warnings });
    });
  });
}

export type Located =
  | { kind: 'workspace'; dirs: WorkspaceDirs; via: 'cargo-metadata' | 'fallback'; cargoError?: string }
  | { kind: 'build-dir'; dirs: WorkspaceDirs }
  | { kind: 'error'; code: 'missing' | 'not-cargo' | 'permission'; message: string };

export interface LocateOptions {
  cargo?: string;
  env?: NodeJS.ProcessEnv;
  /** false: never run cargo, use the rules of dirsWithoutCargo (e.g. in an untrusted workspace). */
  useCargo?: boolean;
  timeoutMs?: number;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * What `target` (a folder or file, relative to the current directory) is for cargo: a workspace
 * (or a folder inside one) with its build directories, a build directory given directly, or an
 * error with a message for the user.
 */
export async function locateBuildDirs(target: string, opts: LocateOptions = {}): Promise<Located> {
  const abs = path.resolve(target);
  let stat: import('node:fs').Stats;
  try {
    stat = await fsp.stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return { kind: 'error', code: 'permission', message: `Cannot read ${abs}: permission denied.` };
    }
    return { kind: 'error', code: 'missing', message: `${abs} does not exist.` };
  }
  const dir = stat.isDirectory() ? abs : path.dirname(abs);
  try {
    await fsp.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return { kind: 'error', code: 'permission', message: `Cannot list ${dir}: permission denied.` };
    }
  }

  const env = opts.env ?? process.env;
  const root = await findWorkspaceRoot(dir);
  if (root !== null) {
    let located: Located & { kind: 'workspace' };
    if (opts.useCargo === false) {
      const dirs = await dirsWithoutCargo(root, env, dir);
      dirs.notes.unshift('Cargo was not run (disabled); the folders were found from the environment and cargo config files.');
      located = { kind: 'workspace', dirs, via: 'fallback' };
    } else {
      const meta = await runCargoMetadata(dir, { cargo: opts.cargo, env, timeoutMs: opts.timeoutMs });
      if (meta.ok) {
        try {
          const dirs = dirsFromMetadata(meta.json);
          for (const w of meta.warnings) dirs.notes.push(`cargo: ${w}`);
          located = { kind: 'workspace', dirs, via: 'cargo-metadata' };
        } catch (e) {
          located = await fallback(root, env, dir, `\`cargo metadata\` gave unexpected output: ${(e as Error).message}`);
        }
      } else {
        located = await fallback(root, env, dir, meta.message);
      }
    }
    // A build dir inside the workspace that the settings do not point at (left by another
    // CARGO_TARGET_DIR, say): the user asked for it, so include it.
    const covered = (p: string) => located.dirs.buildDirs.some((b) => isInside(p, b.path));
    if (stat.isDirectory() && !covered(abs)) {
      const stray = await enclosingBuildDir(abs);
      if (stray !== null && !covered(stray)) {
        located.dirs.buildDirs.push({ path: stray, role: 'both', discovery: 'given path' });
        located.dirs.notes.push(`${stray} is not where this workspace builds now, but it is a build directory; it is listed too.`);
      }
    }
    return located;
  }

  const buildDir = stat.isDirectory() ? await enclosingBuildDir(abs) : null;
  if (buildDir !== null) {
    const notes = ['A build directory was given directly; its workspace is not known.'];
    if (buildDir !== abs) notes.push(`${abs} is inside the build directory ${buildDir}, which is shown instead.`);
    return {
      kind: 'build-dir',
      dirs: { workspaceRoot: '', buildDirs: [{ path: buildDir, role: 'both', discovery: 'given path' }], members: [], notes },
    };
  }
  return {
    kind: 'error',
    code: 'not-cargo',
    message:
      `${abs} is not in a Cargo workspace (no Cargo.toml in it or in a parent folder) and does not look like a ` +
      'Cargo build directory (no CACHEDIR.TAG, .rustc_info.json or profile folder such as debug/).',
  };
}

/**
 * `dir` if it is a build dir; the build dir holding it if `dir` is one of its profile folders
 * (`debug/`) or `<triple>/` folders (which have a CACHEDIR.TAG of their own); else null.
 */
async function enclosingBuildDir(dir: string): Promise<string | null> {
  let candidate = dir;
  if (!(await looksLikeBuildDir(candidate))) {
    if (!(await looksLikeProfileDir(candidate))) return null;
    candidate = path.dirname(candidate);
    if (!(await looksLikeBuildDir(candidate))) return null;
  }
  const parent = path.dirname(candidate);
  if (parent !== candidate && !(await exists(path.join(candidate, '.rustc_info.json'))) && (await looksLikeBuildDir(parent))) {
    return parent;
  }
  return candidate;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

async function fallback(
  root: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  problem: string,
): Promise<Located & { kind: 'workspace' }> {
  const dirs = await dirsWithoutCargo(root, env, cwd);
  dirs.notes.unshift(`Cargo could not be used (${problem}); the folders were found from the environment and cargo config files.`);
  return { kind: 'workspace', dirs, via: 'fallback', cargoError: problem };
}
