// Takes cargo's build-directory locks for the cleaner (reference §8, docs/cleaning.md): whole-file `flock(2)`
// on Unix and `LockFileEx` on Windows — the primitive cargo's std `File::lock` uses; fcntl/OFD locks would not
// conflict with it. Node can call neither, so a helper process takes them (non-blocking, in cargo's order,
// all or none) and holds them until its stdin closes: when the cleaner is done, or dies, the locks go with the
// helper. The helper is the `lock` mode of the native walker (native/src/lock.rs), built once with the user's
// cargo; where it cannot be built, `flock(1)` (util-linux) does the same on Linux. Without either, cleaning is
// refused: deleting next to a build that cannot be seen is the one thing a cleaner must never do.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CargoLockFile } from '../core/layout';
import type { Locker, LockOutcome } from '../core/clean';
import { defaultCacheDir } from './cache-dir';
import { findNativeWalker, nativeBinaryName, nativeSourceDir } from './native';

const LOCK_PROTOCOL = 1;
const HANDSHAKE_TIMEOUT_MS = 30_000;

export type LockMechanism = 'native' | 'flock(1)';

export interface LockerOptions {
  /** Build the native helper when it is missing (needs cargo; takes a few seconds once). Default true. */
  readonly build?: boolean;
  readonly log?: (line: string) => void;
  /** Only this mechanism (tests); default: native, then flock(1). */
  readonly only?: LockMechanism;
  /** The cargo that builds the native helper (default: `$CARGO`, else `cargo` from PATH). */
  readonly cargo?: string;
}

/** FNV-1a 64 of a file, as lock.rs reports for itself: tells whether a cached helper has this lock code. */
export function fnv1a64Hex(data: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of data) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * A Locker, or why none is possible (in words). The native helper is preferred everywhere; flock(1) is the
 * fallback on Linux. The lock files' file system is checked when locks are taken (see acquire).
 */
export async function createLocker(opts: LockerOptions = {}): Promise<Locker | { unavailable: string }> {
  const log = opts.log ?? (() => undefined);
  const reasons: string[] = [];
  if (opts.only !== 'flock(1)') {
    const bin = await nativeLockHelper(opts.build ?? true, log, opts.cargo);
    if (typeof bin === 'string') return new HelperLocker('native', (files) => [bin, ['lock', ...files.flatMap((f) => ['-x', f.path])]]);
    reasons.push(bin.why);
    if (opts.only === 'native') return { unavailable: reasons.join('; ') };
  }
  if (process.platform !== 'win32') {
    const flock = findOnPath('flock');
    if (flock) return new HelperLocker('flock(1)', (files) => flockChain(flock, files));
    reasons.push('flock(1) is not installed');
  } else {
    reasons.push('flock(1) does not exist on Windows');
  }
  return { unavailable: `no way to take cargo's locks here (${reasons.join('; ')}), so a running build could not be seen: nothing is deleted` };
}

async function nativeLockHelper(build: boolean, log: (l: string) => void, cargo?: string): Promise<string | { why: string }> {
  const src = nativeSourceDir();
  const lockSrc = src ? path.join(src, 'src', 'lock.rs') : null;
  if (!lockSrc || !fs.existsSync(lockSrc)) return { why: 'the native helper sources are not here' };
  const want = fnv1a64Hex(fs.readFileSync(lockSrc));
  let bin = await findNativeWalker({ build, log, cargo });
  if (!bin) return { why: 'the native helper is not built (it needs cargo)' };
  let got = await probeHelper(bin);
  if (got !== want && !process.env.CARGO_BUILD_DIR_WALKER) {
    // The cache is named after main.rs and Cargo.toml only: a helper built from an older lock.rs keeps its
    // name. Replace exactly that cached file (it is ours) and build it again.
    const cached = path.join(defaultCacheDir(), await nativeBinaryName(src!));
    if (path.resolve(bin) === path.resolve(cached)) {
      log(`the cached native helper has other lock code (${got ?? 'none'} ≠ ${want}); rebuilding it`);
      try {
        fs.rmSync(cached, { force: true });
        bin = await findNativeWalker({ build, log, cargo });
        got = bin ? await probeHelper(bin) : null;
      } catch (e) {
        log(`could not replace ${cached}: ${(e as Error).message}`);
      }
    }
  }
  if (!bin || got !== want) return { why: `the native helper ${bin ?? ''} does not carry this version's lock code` };
  return bin;
}

/**
 * The helper's lock-code hash, from its hello line. It takes a shared lock on a scratch file of its own to say
 * it (an empty list is a usage error before any hello), then exits because its stdin is already closed.
 */
function probeHelper(bin: string): Promise<string | null> {
  return probeWithFile(bin);
}

async function probeWithFile(bin: string): Promise<string | null> {
  const dir = await fs.promises.mkdtemp(path.join(defaultTmp(), 'cbd-lock-probe-'));
  try {
    const out = await new Promise<string>((resolve) => {
      let text = '';
      const c = spawn(bin, ['lock', '-s', path.join(dir, 'probe.lock')], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
      c.stdin.end();
      c.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
      c.on('error', () => resolve(''));
      c.on('close', () => resolve(text));
    });
    const m = /^cbd-walker-lock (\d+) ([0-9a-f]{16})$/m.exec(out);
    return m && Number(m[1]) === LOCK_PROTOCOL ? m[2]! : null;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

function defaultTmp(): string {
  return os.tmpdir();
}

function findOnPath(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * `flock -n -E <64+i> -x <file i> flock … cat`: each flock(1) takes one lock and runs the next, so the chain
 * holds them all while `cat` runs; `cat` echoing a line back proves it started, i.e. every lock is held. The
 * distinct conflict exit codes say which lock was busy.
 */
function flockChain(flock: string, files: readonly CargoLockFile[]): [string, string[]] {
  const args: string[] = [];
  files.forEach((f, i) => {
    if (i > 0) args.push(flock);
    args.push('-n', '-E', String(64 + i), '-x', f.path);
  });
  args.push('cat');
  return [flock, args];
}

/** On Linux, cargo takes no lock on NFS (it checks statfs): a lock there would see no build. */
function nfsMount(p: string): string | null {
  if (process.platform !== 'linux') return null;
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  let real: string;
  try {
    real = fs.realpathSync.native(p);
  } catch {
    return null;
  }
  let best: { mount: string; type: string } | null = null;
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    const sep = parts.indexOf('-');
    if (sep < 0 || parts.length < 5) continue;
    const mount = parts[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    const type = parts[sep + 1] ?? '';
    const inside = real === mount || real.startsWith(mount.endsWith('/') ? mount : mount + '/');
    if (inside && (!best || mount.length >= best.mount.length)) best = { mount, type };
  }
  return best && /^nfs4?$/.test(best.type) ? best.mount : null;
}

class HelperLocker implements Locker {
  constructor(
    readonly mechanism: LockMechanism,
    private readonly command: (files: readonly CargoLockFile[]) => [string, string[]],
  ) {}

  async acquire(files: readonly CargoLockFile[]): Promise<LockOutcome> {
    if (files.length === 0) return { kind: 'locked', release: async () => undefined };
    for (const f of files) {
      const nfs = nfsMount(path.dirname(f.path));
      if (nfs) return { kind: 'unavailable', message: `${f.path} is on NFS (${nfs}), where cargo takes no locks, so a running build could not be seen` };
    }
    const [cmd, args] = this.command(files);
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    } catch (e) {
      return { kind: 'unavailable', message: `could not start ${cmd}: ${(e as Error).message}` };
    }
    return this.mechanism === 'native' ? waitNative(child, files) : waitFlock(child, files);
  }
}

function releaser(child: ChildProcessWithoutNullStreams): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('close', () => resolve());
      child.stdin.end();
      // A helper that does not exit on end-of-file is killed: the locks go with it either way.
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
    return done;
  };
}

/**
 * What both lock helpers share: one answer within HANDSHAKE_TIMEOUT_MS; anything but `locked` closes the helper's
 * stdin (it lets go and exits); stderr goes into the message of an unexpected exit. `onStdout` and `onClose` turn
 * the helper's own words and exit code into an outcome, or undefined for "not yet" / "nothing specific".
 */
function handshake(
  child: ChildProcessWithoutNullStreams,
  who: string,
  onStdout: (text: string, settle: (o: LockOutcome) => void) => void,
  onClose: (code: number | null) => LockOutcome | undefined,
): Promise<LockOutcome> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const settle = (o: LockOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (o.kind !== 'locked') child.stdin.end();
      resolve(o);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ kind: 'unavailable', message: `${who} did not answer` });
    }, HANDSHAKE_TIMEOUT_MS);
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdout.on('data', (d: Buffer) => onStdout(d.toString('utf8'), settle));
    child.on('error', (e) => settle({ kind: 'unavailable', message: `${who} could not run: ${e.message}` }));
    child.on('close', (code) => settle(onClose(code) ?? { kind: 'unavailable', message: `${who} exited (${String(code)}) without taking the locks${stderr.trim() ? `: ${stderr.trim()}` : ''}` }));
  });
}

function waitNative(child: ChildProcessWithoutNullStreams, files: readonly CargoLockFile[]): Promise<LockOutcome> {
  let buf = '';
  return handshake(
    child,
    'the lock helper',
    (text, settle) => {
      buf += text;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith('cbd-walker-lock ')) continue;
        const m = /^(locked|busy|error|unsupported)(?: (\d+))?(?: (.*))?$/.exec(line);
        if (!m) continue;
        const f = m[2] !== undefined ? files[Number(m[2])] : undefined;
        if (m[1] === 'locked') settle({ kind: 'locked', release: releaser(child) });
        else if (m[1] === 'busy') settle({ kind: 'busy', path: f?.path ?? '?' });
        else if (m[1] === 'unsupported') settle({ kind: 'unavailable', message: `the file system refuses locks on ${f?.path ?? '?'} (${m[3] ?? ''}); cargo takes none there either, so a running build could not be seen` });
        else settle({ kind: 'unavailable', message: m[3] ?? `lock ${f?.path ?? '?'} failed` });
      }
    },
    () => undefined,
  );
}

function waitFlock(child: ChildProcessWithoutNullStreams, files: readonly CargoLockFile[]): Promise<LockOutcome> {
  const outcome = handshake(
    child,
    'flock(1)',
    (text, settle) => {
      if (text.includes('held')) settle({ kind: 'locked', release: releaser(child) });
    },
    (code) => {
      // The chain exits with 64 + i when the i-th lock is busy.
      const i = code !== null ? code - 64 : -1;
      return i >= 0 && i < files.length ? { kind: 'busy', path: files[i]!.path } : undefined;
    },
  );
  // `cat` echoes this only once every flock(1) before it holds its lock.
  child.stdin.write('held\n');
  return outcome;
}

// ------------------------------------------------------------------------------------------------------------
// Looking without touching: is a lock file held right now?

/**
 * Which of these lock files some process holds a `flock` on, read from Linux's `/proc/locks` — without taking
 * any lock, so a build is never made to wait by someone merely looking. Null where that table does not exist
 * (macOS, Windows): the caller falls back to what it can see (file events). A lock file that does not exist is
 * not held.
 */
export function heldLocks(files: readonly string[], procLocks = '/proc/locks'): string[] | null {
  let table: string;
  try {
    table = fs.readFileSync(procLocks, 'utf8');
  } catch {
    return null;
  }
  // `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`; blocked waiters are listed as `1: -> FLOCK …`.
  const held = new Set<string>();
  for (const line of table.split('\n')) {
    const m = /^\d+:\s+(?:->\s+)?FLOCK\s+\S+\s+\S+\s+\d+\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m && !line.includes('->')) held.add(`${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}:${m[3]}`);
  }
  if (held.size === 0) return [];
  const out: string[] = [];
  for (const f of files) {
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(f, { bigint: true });
    } catch {
      continue;
    }
    // Linux dev_t: major in bits 8–19 and 32–43, minor in bits 0–7 and 20–31.
    const dev = st.dev;
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    if (held.has(`${major}:${minor}:${st.ino}`)) out.push(f);
  }
  return out;
}
