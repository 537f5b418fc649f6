// Cleaning that cannot hurt a build: plan → confirm → execute. A plan names the exact paths, their apparent
// size and what deleting them really frees (hard links counted once, the scan's `freedBytes` rule), per
// `[<triple>/]<profile>` folder. The executor trusts nothing in the plan: under cargo's own locks (taken through
// a Locker, src/node/locks.ts) it checks each path again — a real path inside a folder that carries cargo's
// marks, reached through no symbolic link, still where the layout puts a unit or incremental folder, and the
// same file as when it was planned — then renames it out of cargo's sight and only then deletes it (or moves it
// to the trash). A path that fails is reported alone; nothing else is lost.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanResult, StaleReason, Unit } from './model';
import type { Walker, WalkResult } from './walk';
import type { StaleItem, StaleItemKind } from './stale';
import { cargoLockFiles, cargoMarkersMissing, planBuildDir, type CargoLockFile } from './layout';
import { parseSessionName } from './incremental';
import { unitLabel } from './format';

/** What identifies a path between plan and execution (lstat, plus the direct children of a folder). */
export interface PathIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly type: 'd' | 'f' | 'l' | 'o';
  /** Folders: every direct child as `name:ino:mtimeMs`, sorted; catches a unit rebuilt since the plan. */
  readonly children: string | null;
}

export interface CleanEntry {
  readonly path: string;
  readonly identity: PathIdentity;
  readonly bytes: number;
  readonly freedBytes: number;
}

export interface CleanItem {
  readonly id: string;
  readonly kind: StaleItemKind;
  readonly label: string;
  readonly reasons: readonly StaleReason[];
  /** Deleted in this order (a legacy unit's fingerprint folder first, so that cargo never trusts half a unit). */
  readonly entries: readonly CleanEntry[];
  readonly bytes: number;
  readonly freedBytes: number;
  /** Units: what the layout must still find at these paths at execution time. */
  readonly unit?: { readonly layout: 'v2' | 'legacy'; readonly hash: string; readonly package: string };
}

export interface ProfileCleanPlan {
  readonly buildDir: string;
  readonly role: 'build-dir' | 'target-dir' | 'both';
  /** The target dir that goes with this build dir (its `.cargo-lock` is taken too), when it is another folder. */
  readonly targetDir: string | null;
  readonly profilePath: string;
  /** `debug` or `<triple>/debug`, relative to the build dir. */
  readonly profileRel: string;
  readonly platform: string | null;
  /** In cargo's order; all held while anything in this folder is deleted. */
  readonly locks: readonly CargoLockFile[];
  readonly items: readonly CleanItem[];
  readonly bytes: number;
  readonly freedBytes: number;
}

export interface CleanPlan {
  readonly createdAt: number;
  readonly profiles: readonly ProfileCleanPlan[];
  readonly bytes: number;
  readonly freedBytes: number;
  /** Paths or selections that were left out, with why. */
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

/** The lock taker (src/node/locks.ts): non-blocking, all or nothing, in the order given. */
export interface Locker {
  readonly mechanism: string;
  acquire(files: readonly CargoLockFile[]): Promise<LockOutcome>;
}

export type LockOutcome =
  | { readonly kind: 'locked'; release(): Promise<void> }
  | { readonly kind: 'busy'; readonly path: string }
  | { readonly kind: 'unavailable'; readonly message: string };

export interface CleanProgress {
  readonly phase: 'locking' | 'checking' | 'deleting' | 'done';
  readonly itemsDone: number;
  readonly itemsTotal: number;
  readonly bytesFreed: number;
  readonly current: string | null;
}

export interface CleanOptions {
  readonly locker: Locker;
  /** Move a path to the OS trash instead of deleting it (src/node/trash.ts). Must be one atomic rename. */
  readonly trash?: ((p: string) => Promise<void>) | null;
  readonly onProgress?: (p: CleanProgress) => void;
  /** Polled before each item: true stops before the next one (what is already renamed is still finished). */
  readonly isCancelled?: () => boolean;
}

/**
 * `done`: everything planned is gone. `refused`: at least one path failed a check and was left alone (others may
 * be gone). `partial`: some deletions failed. `busy`: cargo holds a lock, nothing was touched. `no-lock`: no way
 * to take cargo's locks, nothing was touched. `cancelled`: stopped between items.
 */
export type CleanStatus = 'done' | 'partial' | 'busy' | 'refused' | 'no-lock' | 'cancelled';

export interface CleanResult {
  readonly status: CleanStatus;
  /** One sentence for people. */
  readonly message: string;
  readonly removed: readonly { readonly path: string; readonly bytes: number }[];
  /** Deletion failed (in use, permission denied): the path is where it was, or named in the message. */
  readonly failed: readonly { readonly path: string; readonly message: string }[];
  /** Checks failed: not touched. */
  readonly refused: readonly { readonly path: string; readonly message: string }[];
  /** Not reached because of cancellation or an earlier refusal of the whole clean. */
  readonly skipped: readonly string[];
  /** What the removed items' plans said they would free. */
  readonly freedBytes: number;
  readonly trashed: boolean;
}

// ------------------------------------------------------------------------------------------------------------
// Selecting what to clean

/**
 * Turns user-given paths into clean items: a unit folder (or any path inside a v2 unit), a legacy unit's piece
 * (which selects the whole unit), an incremental crate folder or one of its sessions. Anything else is refused
 * with a reason, and nothing is guessed.
 */
export function itemsForPaths(scan: ScanResult, paths: readonly string[]): { items: StaleItem[]; refused: { path: string; message: string }[] } {
  const items: StaleItem[] = [];
  const refused: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const raw of paths) {
    const p = path.resolve(raw);
    const hit = findOwner(scan, p);
    if (typeof hit === 'string') {
      refused.push({ path: raw, message: hit });
      continue;
    }
    if (seen.has(hit.id)) continue;
    seen.add(hit.id);
    items.push(hit);
  }
  return { items, refused };
}

function findOwner(scan: ScanResult, p: string): StaleItem | string {
  if (raw_has_dotdot(p)) return 'contains `..`';
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 'does not exist';
  }
  if (st.isSymbolicLink()) return 'is a symbolic link: cargo never makes one, and a link is never followed';
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
  for (const b of scan.buildDirs) {
    if (!inside(p, b.path)) continue;
    for (const pr of b.profiles) {
      if (!inside(p, pr.path)) continue;
      for (const u of pr.units) {
        const exact = u.paths.includes(p);
        const within = u.layout === 'v2' && u.paths[0] !== undefined && inside(p, u.paths[0]);
        if (exact || within) return unitItem(u, b.path, pr.id, pr.path);
      }
      for (const c of pr.incremental) {
        if (p === c.path) return { id: c.path, kind: 'incremental', label: `incremental ${path.basename(c.path)}`, buildDir: b.path, profileId: pr.id, profilePath: pr.path, paths: [c.path], bytes: c.bytes, freedBytes: c.bytes, reasons: [] };
        const s = c.sessions.find((x) => x.path === p);
        if (s) return { id: s.path, kind: 'incremental-session', label: `incremental ${path.basename(c.path)}/${s.name}`, buildDir: b.path, profileId: pr.id, profilePath: pr.path, paths: [s.path, s.path.replace(/-[^-]+$/, '') + '.lock'], bytes: s.bytes, freedBytes: s.bytes, reasons: [] };
      }
      return `is inside ${pr.path} but is not a unit, an incremental folder or a session (only those can be cleaned one by one)`;
    }
    return `is inside the build directory ${b.path} but not in one of its profile folders`;
  }
  return 'is not inside a Cargo build directory';
}

function raw_has_dotdot(p: string): boolean {
  return p.split(/[\\/]/).includes('..');
}

export function unitItem(u: Unit, buildDir: string, profileId: string, profilePath: string, reasons: readonly StaleReason[] = u.stale): StaleItem {
  return { id: u.id, kind: 'unit', label: `${unitLabel(u)} ${u.hash.slice(0, 8)}${u.layout === 'legacy' ? ' (legacy)' : ''}`, buildDir, profileId, profilePath, paths: u.paths, bytes: u.bytes, freedBytes: u.freedBytes, reasons, unitId: u.id };
}

// ------------------------------------------------------------------------------------------------------------
// Planning

const kindOf = (st: fs.Stats): PathIdentity['type'] => (st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : 'o');

export function identityOf(p: string): PathIdentity {
  const st = fs.lstatSync(p);
  let children: string | null = null;
  if (st.isDirectory()) {
    const names = fs.readdirSync(p).sort();
    children = names
      .map((n) => {
        try {
          const c = fs.lstatSync(path.join(p, n));
          return `${n}:${c.ino}:${c.mtimeMs}`;
        } catch {
          return `${n}:gone`;
        }
      })
      .join('/');
  }
  return { dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, type: kindOf(st), children };
}

function sameIdentity(a: PathIdentity, b: PathIdentity): string | null {
  if (a.type !== b.type) return 'it changed type';
  if (a.dev !== b.dev || a.ino !== b.ino) return 'it was replaced by another file or folder';
  if (a.mtimeMs !== b.mtimeMs) return 'it was modified';
  if (a.children !== b.children) return 'its contents changed (cargo may have rebuilt it)';
  return null;
}

/** Apparent bytes of a set of walk results, and what deleting all of them frees (each inode once). */
function measure(results: readonly WalkResult[]): { bytes: number; freed: number } {
  let bytes = 0;
  const links = new Map<string, { size: number; nlink: number; seen: number }>();
  for (const r of results) {
    bytes += r.entries[0]?.bytes ?? 0;
    for (const l of r.links) {
      const a = links.get(l.key);
      if (a) a.seen++;
      else links.set(l.key, { size: l.size, nlink: l.nlink, seen: 1 });
    }
  }
  let freed = bytes;
  for (const l of links.values()) {
    bytes += l.size;
    if (l.seen >= l.nlink) freed += l.size;
  }
  return { bytes, freed };
}

/** Legacy pieces: the fingerprint folder goes first, so that cargo never sees outputs it would trust. */
function deletionOrder(paths: readonly string[]): string[] {
  const rank = (p: string): number => (p.includes(`${path.sep}.fingerprint${path.sep}`) ? 0 : 1);
  return [...paths].sort((a, b) => rank(a) - rank(b));
}

/**
 * Plans the cleaning of `items` (from analyzeStaleness or itemsForPaths): stats and measures every path now,
 * groups by profile folder and names the locks each folder needs. Paths that vanished are left out.
 */
export async function planClean(scan: ScanResult, items: readonly StaleItem[], walker: Walker): Promise<CleanPlan> {
  const problems: { path: string; message: string }[] = [];
  const unitsById = new Map<string, Unit>();
  for (const b of scan.buildDirs) for (const p of b.profiles) for (const u of p.units) unitsById.set(u.id, u);
  const targetDirOf = (bd: string): string | null => {
    const b = scan.buildDirs.find((x) => x.path === bd);
    if (!b || b.role === 'both') return null;
    return scan.buildDirs.find((x) => x.role === 'target-dir')?.path ?? null;
  };

  // Stat and measure every entry in one walker batch.
  const prepared: { item: StaleItem; entries: { path: string; identity: PathIdentity }[] }[] = [];
  for (const item of items) {
    const entries: { path: string; identity: PathIdentity }[] = [];
    for (const p of deletionOrder(item.paths)) {
      try {
        entries.push({ path: p, identity: identityOf(p) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // An incremental session without its lock file, or a piece already gone: nothing to delete there.
        if (code !== 'ENOENT') problems.push({ path: p, message: `cannot be read (${code ?? 'error'}): left out` });
      }
    }
    if (entries.length) prepared.push({ item, entries });
  }
  const requests = prepared.flatMap((x) => x.entries.map((e) => ({ path: e.path, depth: 0 })));
  const results = requests.length ? await walker.walk(requests) : [];

  const profiles = new Map<string, { meta: Omit<ProfileCleanPlan, 'items' | 'bytes' | 'freedBytes'>; items: CleanItem[]; results: WalkResult[] }>();
  let k = 0;
  for (const { item, entries } of prepared) {
    const rs = entries.map(() => results[k++]!);
    const cleanEntries: CleanEntry[] = entries.map((e, i) => {
      const m = measure([rs[i]!]);
      return { path: e.path, identity: e.identity, bytes: m.bytes, freedBytes: m.freed };
    });
    const whole = measure(rs);
    const u = item.unitId ? unitsById.get(item.unitId) : undefined;
    const clean: CleanItem = {
      id: item.id,
      kind: item.kind,
      label: item.label,
      reasons: item.reasons,
      entries: cleanEntries,
      bytes: whole.bytes,
      freedBytes: whole.freed,
      ...(u ? { unit: { layout: u.layout, hash: u.hash, package: u.package } } : {}),
    };
    let pr = profiles.get(item.profilePath);
    if (!pr) {
      const b = scan.buildDirs.find((x) => x.path === item.buildDir);
      const profileRel = path.relative(item.buildDir, item.profilePath);
      const targetDir = targetDirOf(item.buildDir);
      const platform = profileRel.includes(path.sep) ? profileRel.split(path.sep)[0]! : null;
      pr = {
        meta: { buildDir: item.buildDir, role: b?.role ?? 'both', targetDir, profilePath: item.profilePath, profileRel, platform, locks: cargoLockFiles(item.buildDir, targetDir, profileRel) },
        items: [],
        results: [],
      };
      profiles.set(item.profilePath, pr);
    }
    pr.items.push(clean);
    pr.results.push(...rs);
  }
  const out: ProfileCleanPlan[] = [...profiles.values()].map((p) => {
    const m = measure(p.results);
    return { ...p.meta, items: p.items, bytes: m.bytes, freedBytes: m.freed };
  });
  // Cargo's order: per build dir, the host profile folders before the `<triple>/` ones.
  out.sort((a, b) => (a.buildDir !== b.buildDir ? (a.buildDir < b.buildDir ? -1 : 1) : (a.platform === null ? '' : a.platform) + '/' + path.basename(a.profilePath) < (b.platform === null ? '' : b.platform) + '/' + path.basename(b.profilePath) ? -1 : 1));
  const all = measure(out.flatMap((p) => profiles.get(p.profilePath)!.results));
  return { createdAt: Date.now(), profiles: out, bytes: all.bytes, freedBytes: all.freed, problems };
}

// ------------------------------------------------------------------------------------------------------------
// Executing

function normalizedAbsolute(p: string): boolean {
  return path.isAbsolute(p) && path.resolve(p) === p && !p.includes('\0') && !raw_has_dotdot(p);
}

/** What the layout sees now in one build dir: the paths a clean may touch, and what each is. */
interface LayoutNow {
  readonly units: Map<string, string>;
  readonly incremental: Set<string>;
  readonly legacyOther: Set<string>;
}

function layoutNow(buildDir: string, role: ProfileCleanPlan['role']): LayoutNow {
  const plan = planBuildDir(buildDir, role);
  const units = new Map<string, string>();
  const incremental = new Set<string>();
  const legacyOther = new Set<string>();
  for (const pr of plan.profiles) {
    for (const u of pr.units) for (const p of u.paths) units.set(p.path, `${u.layout}:${u.hash}`);
    for (const i of pr.incremental) incremental.add(i.path);
    for (const b of pr.buckets) if (b.name === 'legacy-other') for (const p of b.paths) legacyOther.add(p.path);
  }
  return { units, incremental, legacyOther };
}

/** Null when `entry` of `item` may be deleted now; else why not. Runs under the locks. */
function checkEntry(pr: ProfileCleanPlan, item: CleanItem, entry: CleanEntry, realBuildDir: string, now: LayoutNow): string | null {
  const p = entry.path;
  if (!normalizedAbsolute(p)) return 'is not a plain absolute path (`..`, `.` or a NUL byte in it)';
  if (!p.startsWith(pr.profilePath + path.sep)) return `is not inside the profile folder ${pr.profilePath}`;
  // No symbolic link between the build dir and the entry: the real parent must be where the name says.
  const parentReal = (() => {
    try {
      return fs.realpathSync.native(path.dirname(p));
    } catch {
      return null;
    }
  })();
  if (parentReal === null) return 'its folder is gone';
  const expected = path.join(realBuildDir, path.relative(pr.buildDir, path.dirname(p)));
  if (parentReal !== expected) return `is reached through a symbolic link (its folder is really ${parentReal})`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 'is gone';
  }
  if (st.isSymbolicLink()) return 'is a symbolic link: never followed, never deleted';
  if (item.kind === 'unit') {
    const want = item.unit ? `${item.unit.layout}:${item.unit.hash}` : null;
    const is = now.units.get(p);
    if (!is) return 'is no longer where the layout puts a unit';
    if (want && is !== want) return `now belongs to another unit (${is})`;
  } else if (item.kind === 'incremental') {
    if (!now.incremental.has(p)) return 'is no longer an incremental crate folder';
  } else if (item.kind === 'incremental-session') {
    const name = path.basename(p);
    if (!now.incremental.has(path.dirname(p)) || parseSessionName(name) === null) return 'is no longer an incremental session';
  } else if (item.kind === 'legacy-other') {
    if (!now.legacyOther.has(p)) return 'is no longer a legacy leftover';
  }
  let id: PathIdentity;
  try {
    id = identityOf(p);
  } catch {
    return 'is gone';
  }
  const changed = sameIdentity(entry.identity, id);
  return changed ? `changed since the plan: ${changed}` : null;
}

let tmpCounter = 0;

export async function executeClean(plan: CleanPlan, opts: CleanOptions): Promise<CleanResult> {
  const removed: { path: string; bytes: number }[] = [];
  const failed: { path: string; message: string }[] = [];
  const refused: { path: string; message: string }[] = [];
  const skipped: string[] = [];
  const trashed = !!opts.trash;
  let freedBytes = 0;
  const itemsTotal = plan.profiles.reduce((n, p) => n + p.items.length, 0);
  let itemsDone = 0;
  const progress = (phase: CleanProgress['phase'], current: string | null): void =>
    opts.onProgress?.({ phase, itemsDone, itemsTotal, bytesFreed: freedBytes, current });
  const result = (status: CleanStatus, message: string): CleanResult => ({ status, message, removed, failed, refused, skipped, freedBytes, trashed });
  const allPaths = (): string[] => plan.profiles.flatMap((p) => p.items.flatMap((i) => i.entries.map((e) => e.path)));

  if (itemsTotal === 0) return result('done', 'nothing to clean');

  // 1. Cargo's marks, before anything is created (taking a lock creates a missing lock file, as cargo does).
  const realBuildDirs = new Map<string, string>();
  for (const pr of plan.profiles) {
    const why = cargoMarkersMissing(pr.buildDir, pr.profilePath);
    if (why) {
      for (const i of pr.items) for (const e of i.entries) refused.push({ path: e.path, message: `refused: ${why}` });
      continue;
    }
    try {
      realBuildDirs.set(pr.buildDir, fs.realpathSync.native(pr.buildDir));
    } catch {
      for (const i of pr.items) for (const e of i.entries) refused.push({ path: e.path, message: 'refused: the build directory is gone' });
    }
  }
  const usable = plan.profiles.filter((pr) => realBuildDirs.has(pr.buildDir) && !cargoMarkersMissing(pr.buildDir, pr.profilePath));
  if (usable.length === 0) return result('refused', refused[0]?.message ?? 'refused');

  // 2. Every lock of every folder, in cargo's order, or none.
  progress('locking', null);
  const locks = usable.flatMap((pr) => pr.locks).filter((l, i, a) => a.findIndex((x) => x.path === l.path) === i);
  let outcome: LockOutcome;
  try {
    outcome = await opts.locker.acquire(locks);
  } catch (e) {
    outcome = { kind: 'unavailable', message: `taking cargo's locks failed: ${(e as Error).message}` };
  }
  if (outcome.kind === 'busy') {
    const pr = usable.find((x) => x.locks.some((l) => l.path === outcome.path));
    skipped.push(...allPaths().filter((p) => !refused.some((r) => r.path === p)));
    return result('busy', `cargo is building in ${pr?.profilePath ?? path.dirname(outcome.path)}; try again when it finishes (${outcome.path} is locked)`);
  }
  if (outcome.kind === 'unavailable') {
    skipped.push(...allPaths().filter((p) => !refused.some((r) => r.path === p)));
    return result('no-lock', `nothing was deleted: ${outcome.message}`);
  }

  let cancelled = false;
  try {
    const layouts = new Map<string, LayoutNow>();
    for (const pr of usable) {
      let now = layouts.get(pr.buildDir);
      if (!now) layouts.set(pr.buildDir, (now = layoutNow(pr.buildDir, pr.role)));
      let tmpDir: string | null = null;
      for (const item of pr.items) {
        if (cancelled || opts.isCancelled?.()) {
          cancelled = true;
          skipped.push(...item.entries.map((e) => e.path));
          continue;
        }
        progress('checking', item.label);
        const problems = item.entries.map((e) => checkEntry(pr, item, e, realBuildDirs.get(pr.buildDir)!, now!));
        // A unit is taken whole or not at all: a half-checked unit could leave pieces cargo would trust.
        if (problems.some((x) => x !== null)) {
          item.entries.forEach((e, i) => refused.push({ path: e.path, message: problems[i] ? `refused: ${problems[i]}` : 'refused: another piece of this unit was refused' }));
          itemsDone++;
          continue;
        }
        progress('deleting', item.label);
        let itemOk = true;
        for (const e of item.entries) {
          if (opts.trash) {
            try {
              await opts.trash(e.path);
              removed.push({ path: e.path, bytes: e.bytes });
            } catch (err) {
              itemOk = false;
              failed.push({ path: e.path, message: `could not be moved to the trash: ${(err as Error).message}` });
            }
            continue;
          }
          if (tmpDir === null) {
            tmpDir = path.join(pr.profilePath, `.cargo-build-dir-clean-${process.pid}-${Date.now().toString(36)}-${tmpCounter++}`);
            try {
              fs.mkdirSync(tmpDir, { mode: 0o700 });
            } catch (err) {
              failed.push({ path: e.path, message: `cannot create ${tmpDir}: ${(err as Error).message}` });
              tmpDir = null;
              itemOk = false;
              continue;
            }
          }
          const moved = path.join(tmpDir, `${removed.length + failed.length}-${path.basename(e.path)}`);
          try {
            fs.renameSync(e.path, moved);
          } catch (err) {
            itemOk = false;
            failed.push({ path: e.path, message: describeDeleteError(err, 'could not be moved aside') });
            continue;
          }
          try {
            await fs.promises.rm(moved, { recursive: true, force: true, maxRetries: 2 });
            removed.push({ path: e.path, bytes: e.bytes });
          } catch (err) {
            itemOk = false;
            failed.push({ path: e.path, message: `${describeDeleteError(err, 'was moved aside but not fully deleted')}; what is left is in ${moved}` });
          }
        }
        if (itemOk) freedBytes += item.freedBytes;
        itemsDone++;
      }
      if (tmpDir !== null) {
        try {
          fs.rmdirSync(tmpDir);
        } catch {
          // Not empty: a failed deletion left something there, and its message names it.
        }
      }
    }
  } finally {
    await outcome.release();
  }
  progress('done', null);
  if (cancelled) return result('cancelled', `cancelled after ${itemsDone} of ${itemsTotal} items`);
  const done = `${removed.length} path${removed.length === 1 ? '' : 's'} ${trashed ? 'moved to the trash' : 'deleted'}`;
  // A refusal is a safety event and is reported before failures: the plan no longer matched the disk.
  if (refused.length) return result('refused', `${refused.length} path${refused.length === 1 ? ' was' : 's were'} refused and left alone; ${done}`);
  if (failed.length) return result('partial', `${failed.length} path${failed.length === 1 ? '' : 's'} could not be ${trashed ? 'moved to the trash' : 'deleted'}; ${done}`);
  return result('done', done);
}

function describeDeleteError(err: unknown, what: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `${what}: permission denied`;
    case 'EBUSY':
      return `${what}: in use by another program (on Windows, a running test or binary)`;
    case 'ENOENT':
      return `${what}: it vanished`;
    default:
      return `${what}: ${(err as Error).message}`;
  }
}
