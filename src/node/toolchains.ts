// The Rust toolchains the user still has, with the fingerprint `rustc` field each one would write (reference
// §4.2, src/core/rustc-hash.ts). Sources, as cargo and rustup would pick them: every rustup toolchain, the
// workspace's `rust-toolchain.toml` / `rust-toolchain`, `$RUSTC`, and plain `rustc` on PATH. Each rustc is
// run directly (never through a shell or the rustup proxy's auto-install), so that the text hashed is exactly
// the `rustc -vV` cargo captured. When nothing can be asked, the answer says so and is null: the toolchain
// stale reason is then not used, rather than guessed.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRustcVerbose, rustcFieldFromVerbose, toolchainLabel as coreLabel, type RustcVersionInfo } from '../core/rustc-hash';
import { readToml } from '../core/discover';
import { parseCargoResolve, type CargoResolve } from '../core/stale';

export interface InstalledToolchain {
  /** rustup name (`stable-x86_64-unknown-linux-gnu`), or a description such as `rustc on PATH`. */
  readonly name: string;
  readonly source: 'rustup' | 'rust-toolchain' | 'RUSTC' | 'PATH';
  /** The rustc binary that was run. */
  readonly rustc: string;
  /** Exact stdout of `rustc -vV`. */
  readonly verbose: string;
  /** The fingerprint `rustc` field this toolchain writes (decimal u64). */
  readonly hash: string;
  readonly version: RustcVersionInfo;
}

export interface PinnedToolchain {
  /** `rust-toolchain.toml` or `rust-toolchain` that names it. */
  readonly file: string;
  readonly channel: string;
  /** True when one of `toolchains` is it. */
  readonly installed: boolean;
}

export interface ToolchainReport {
  /**
   * Every toolchain found, deduplicated by hash (the first source wins the name). Null when the list cannot
   * be trusted: no rustup and no rustc, or a pinned toolchain that is not installed (rustup would install it
   * at the next cargo command, and what it builds cannot be hashed here).
   */
  readonly toolchains: readonly InstalledToolchain[] | null;
  readonly rustup: boolean;
  readonly pinned: PinnedToolchain | null;
  /** Why `toolchains` is null, or what could not be asked; in words. */
  readonly notes: readonly string[];
}

export interface ToolchainOptions {
  /** Where `rust-toolchain.toml` is looked for (and its parents), and where plain `rustc` is run. */
  readonly workspaceRoot?: string | null;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /**
   * The workspace is not trusted: run no toolchain that `rust-toolchain.toml` points at by path (that would run
   * a program from the workspace), and run plain `rustc` outside the workspace.
   */
  readonly untrusted?: boolean;
}

const EXE = process.platform === 'win32' ? '.exe' : '';

function run(cmd: string, args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: true; stdout: string } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, windowsHide: true, shell: false, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return resolve({ ok: false, why: 'not found' });
      const msg = String(stderr || err.message).trim().split(/\r?\n/).slice(-2).join(' ');
      resolve({ ok: false, why: msg || `exit ${String(code)}` });
    });
  });
}

/** `rustup toolchain list -v`: `name[ (active, default)] path` per line. */
export function parseRustupList(text: string): { name: string; path: string | null }[] {
  const out: { name: string; path: string | null }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || /^no installed toolchains/i.test(line)) continue;
    const m = /^(\S+)(?:\s+\([^)]*\))?(?:\s+(.+))?$/.exec(line);
    if (!m) continue;
    const p = m[2]?.trim() ?? null;
    out.push({ name: m[1]!, path: p && path.isAbsolute(p) ? p : null });
  }
  return out;
}

/** The channel a `rust-toolchain.toml` (`[toolchain] channel`/`path`) or legacy `rust-toolchain` file names. */
export function parseToolchainFile(text: string, fileName: string): { channel: string | null; path: string | null } {
  const trimmed = text.trim();
  if (fileName === 'rust-toolchain' && trimmed !== '' && !trimmed.includes('=') && !trimmed.includes('[')) {
    return { channel: trimmed.split(/\s+/)[0] ?? null, path: null };
  }
  try {
    const t = readToml(text);
    const channel = t.get('toolchain.channel');
    const p = t.get('toolchain.path');
    return { channel: typeof channel === 'string' ? channel : null, path: typeof p === 'string' ? p : null };
  } catch {
    return { channel: null, path: null };
  }
}

function findToolchainFile(start: string): string | null {
  for (let d = path.resolve(start); ; d = path.dirname(d)) {
    for (const n of ['rust-toolchain.toml', 'rust-toolchain']) {
      const f = path.join(d, n);
      try {
        if (fs.statSync(f).isFile()) return f;
      } catch {
        // not here
      }
    }
    if (path.dirname(d) === d) return null;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    const f = path.join(d, name + EXE);
    try {
      if (fs.statSync(f).isFile()) return f;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** Does the rustup toolchain `name` satisfy the channel `want` (`stable`, `1.93`, `nightly-2026-05-01`)? */
function satisfies(name: string, want: string): boolean {
  return name === want || name.startsWith(want + '-');
}

export async function findInstalledToolchains(opts: ToolchainOptions = {}): Promise<ToolchainReport> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // Never let a probe download a toolchain (rustup would, for a pinned channel that is missing).
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), RUSTUP_AUTO_INSTALL: '0' };
  const notes: string[] = [];
  const found: InstalledToolchain[] = [];
  const byHash = new Map<string, InstalledToolchain>();
  // Every rustc runs at once; results are registered in a fixed order so that names do not depend on timing.
  const launch = (rustc: string, cwd?: string) => run(rustc, ['-vV'], cwd, env, timeoutMs);
  const register = async (name: string, source: InstalledToolchain['source'], rustc: string, pending: ReturnType<typeof launch>): Promise<InstalledToolchain | null> => {
    const r = await pending;
    if (!r.ok) {
      notes.push(`${name}: \`${rustc} -vV\` failed (${r.why})`);
      return null;
    }
    const hash = rustcFieldFromVerbose(r.stdout);
    const t: InstalledToolchain = { name, source, rustc, verbose: r.stdout, hash, version: parseRustcVerbose(r.stdout) };
    const seen = byHash.get(hash);
    if (seen) return seen;
    byHash.set(hash, t);
    found.push(t);
    return t;
  };

  const listing = run('rustup', ['toolchain', 'list', '-v'], opts.workspaceRoot ?? undefined, env, timeoutMs);
  const rustcEnv = env.RUSTC ? (path.isAbsolute(env.RUSTC) ? env.RUSTC : onPath(env.RUSTC, env) ?? env.RUSTC) : null;
  const rustcEnvRun = rustcEnv ? launch(rustcEnv, opts.workspaceRoot ?? undefined) : null;
  const plain = onPath('rustc', env);
  // Through the rustup proxy this is the toolchain cargo picks in this workspace (override, pin or default).
  const plainRun = plain ? launch(plain, opts.untrusted ? undefined : opts.workspaceRoot ?? undefined) : null;
  let pinned: PinnedToolchain | null = null;
  const tf = opts.workspaceRoot ? findToolchainFile(opts.workspaceRoot) : null;
  const spec = tf ? parseToolchainFile(fs.readFileSync(tf, 'utf8'), path.basename(tf)) : null;
  const pinnedRustc = tf && spec?.path && !opts.untrusted ? path.join(path.resolve(path.dirname(tf), spec.path), 'bin', 'rustc' + EXE) : null;
  const pinnedRun = pinnedRustc ? launch(pinnedRustc) : null;

  const list = await listing;
  const rustup = list.ok;
  const rustupNames: string[] = [];
  if (list.ok) {
    const home = env.RUSTUP_HOME || path.join(env.HOME || env.USERPROFILE || '', '.rustup');
    const runs = parseRustupList(list.stdout).map((t) => {
      const rustc = path.join(t.path ?? path.join(home, 'toolchains', t.name), 'bin', 'rustc' + EXE);
      return { name: t.name, rustc, pending: launch(rustc) };
    });
    for (const r of runs) {
      rustupNames.push(r.name);
      await register(r.name, 'rustup', r.rustc, r.pending);
    }
  } else if (list.why !== 'not found') {
    notes.push(`\`rustup toolchain list\` failed (${list.why})`);
  }

  if (tf && spec) {
    if (spec.path && opts.untrusted) {
      notes.push(`${path.basename(tf)} names a toolchain by path, which is not run in an untrusted workspace`);
    } else if (spec.path && pinnedRustc && pinnedRun) {
      const t = await register(`${spec.path} (from ${path.basename(tf)})`, 'rust-toolchain', pinnedRustc, pinnedRun);
      pinned = { file: tf, channel: spec.path, installed: t !== null };
    } else if (spec.channel) {
      const installed = rustupNames.some((n) => satisfies(n, spec.channel!));
      pinned = { file: tf, channel: spec.channel, installed };
    }
  }
  if (rustcEnv && rustcEnvRun) await register(`RUSTC=${env.RUSTC}`, 'RUSTC', rustcEnv, rustcEnvRun);
  if (plain && plainRun) {
    const t = await register(`rustc on PATH (${plain})`, 'PATH', plain, plainRun);
    if (pinned && !pinned.installed && t && t.version.release && satisfies(t.version.release, pinned.channel)) pinned = { ...pinned, installed: true };
  }

  if (!rustup && !plain && !env.RUSTC) {
    notes.push('neither rustup nor rustc was found: which toolchains are installed is unknown, so no unit is called stale for its toolchain');
    return { toolchains: null, rustup, pinned, notes };
  }
  if (pinned && !pinned.installed) {
    notes.push(
      `${path.basename(pinned.file)} pins ${pinned.channel}, which is not installed: rustup installs it at the next cargo command here, ` +
        'and what it builds cannot be recognised, so no unit is called stale for its toolchain',
    );
    return { toolchains: null, rustup, pinned, notes };
  }
  if (found.length === 0) {
    notes.push('no rustc answered `rustc -vV`: no unit is called stale for its toolchain');
    return { toolchains: null, rustup, pinned, notes };
  }
  return { toolchains: found, rustup, pinned, notes };
}

/** `stable 1.95.0`, `nightly 1.97.0-nightly (2026-05-19)`: a short name for people. */
export function toolchainLabel(t: Pick<InstalledToolchain, 'name' | 'version'>): string {
  return coreLabel(t.name, t.version);
}

/**
 * What the workspace's manifests and Cargo.lock can still ask for: full `cargo metadata --offline` (with the
 * resolve graph), reduced to package versions and their features. It lets the staleness analysis call an old
 * dependency version or feature set superseded with evidence; null (with why) when cargo cannot answer
 * offline, and the analysis then stays with what the disk alone shows.
 */
export async function readCargoResolve(
  workspaceRoot: string,
  opts: { cargo?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ resolve: CargoResolve } | { resolve: null; why: string }> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), RUSTUP_AUTO_INSTALL: '0' };
  const r = await run(opts.cargo ?? env.CARGO ?? 'cargo', ['metadata', '--format-version', '1', '--offline'], workspaceRoot, env, opts.timeoutMs ?? 60_000);
  if (!r.ok) return { resolve: null, why: `\`cargo metadata\` failed (${r.why})` };
  try {
    return { resolve: parseCargoResolve(JSON.parse(r.stdout)) };
  } catch (e) {
    return { resolve: null, why: `\`cargo metadata\` gave unexpected output: ${(e as Error).message}` };
  }
}
