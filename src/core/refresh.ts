// Live refresh, the pure part: `changeScope` maps changed paths to what must be re-read, `applyRefresh` re-reads
// only that and returns a new ScanResult equal to a full scan of the same folders, sizes included. Untouched
// objects keep their identity, so a tree updates only the nodes listed in `changed`.
//
// Totals stay exact without re-measuring what did not change thanks to a ledger kept beside each result (never
// inside it): every multi-link file seen, by path and inode, and the link-free bytes of each profile, build dir
// and bucket path. A total is its link-free bytes plus each distinct inode once; docs/watching.md has the rules.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bucket, BucketName, BuildDir, IncrementalCrate, PackageSummary, Profile, ScanProblem, ScanResult, Unit } from './model';
import type { ReadRequest, ReadResult, WalkRequest, WalkResult, Walker } from './walk';
import {
  buildEntryMatches,
  buildEntryOf,
  crateMatches,
  planBuildDirShell,
  planPackageBuckets,
  planPackages,
  planProfileFolder,
  planProfileShell,
  profileRegion,
  upliftedCrates,
  watchedFolderKind,
  type BucketPlan,
  type ProfileShellPlan,
  type PlannedPath,
} from './layout';
import { profileId, scanBuildDirs, scanPartial, type BuildDirLocationLike, type ScanOptions } from './scan';
import { groupBy } from './group';

// ------------------------------------------------------------------------------------------------------------
// Scope

export interface ProfileScope {
  /** Profile id (`profileId`) and folder. */
  readonly id: string;
  readonly path: string;
  /** Packages whose units, `build/<pkg>` entries and incremental folders are re-read. */
  readonly packages: readonly string[];
  /** Incremental crate folders touched that no unit of the model names. */
  readonly crates: readonly string[];
  /** Something else changed: these paths among the profile folder's own entries (bucket totals are refreshed). */
  readonly other: readonly string[];
}

export interface BuildDirScope {
  readonly path: string;
  /** The build dir itself appeared, vanished or was replaced (`cargo clean`): it is read again whole. */
  readonly wholeBuildDir: boolean;
  /** A profile folder may have appeared or vanished: the root is listed again. */
  readonly profileFolders: boolean;
  /** Changed root-level paths (the root's buckets are refreshed). */
  readonly other: readonly string[];
  readonly profiles: readonly ProfileScope[];
}

export interface RefreshScope {
  readonly buildDirs: readonly BuildDirScope[];
}

export interface ChangedIds {
  readonly buildDirs: readonly string[];
  readonly profiles: readonly string[];
  /** `<profile id>/<package>`. */
  readonly packages: readonly string[];
}

export type RefreshOptions = Pick<ScanOptions, 'walker' | 'members'>;

interface MutableProfileScope {
  id: string;
  path: string;
  packages: Set<string>;
  crates: Set<string>;
  other: Set<string>;
}

interface MutableBuildDirScope {
  path: string;
  whole: boolean;
  profileFolders: boolean;
  other: Set<string>;
  profiles: Map<string, MutableProfileScope>;
}

class ScopeBuilder {
  private readonly dirs = new Map<string, MutableBuildDirScope>();

  dir(b: BuildDir): MutableBuildDirScope {
    let s = this.dirs.get(b.path);
    if (!s) this.dirs.set(b.path, (s = { path: b.path, whole: false, profileFolders: false, other: new Set(), profiles: new Map() }));
    return s;
  }

  profile(b: BuildDir, p: Profile): MutableProfileScope {
    const d = this.dir(b);
    let s = d.profiles.get(p.path);
    if (!s) d.profiles.set(p.path, (s = { id: p.id, path: p.path, packages: new Set(), crates: new Set(), other: new Set() }));
    return s;
  }

  /** Routes one changed path; paths outside every build dir are dropped. */
  add(result: ScanResult, raw: string): void {
    const p = path.resolve(raw);
    const b = containing(result.buildDirs, p);
    if (!b) return;
    if (p === b.path || !b.exists) {
      this.dir(b).whole = true;
      return;
    }
    const prof = containing(b.profiles, p);
    if (!prof) {
      const d = this.dir(b);
      d.profileFolders = true;
      d.other.add(p);
      return;
    }
    const ps = this.profile(b, prof);
    if (p === prof.path) {
      // The profile folder itself: gone, replaced, or its attributes changed.
      const d = this.dir(b);
      d.profileFolders = true;
      d.other.add(p);
      ps.other.add(p);
      return;
    }
    const region = profileRegion(prof.path, p);
    if (!region) return;
    // An entry that appears or vanishes right inside a folder changes that folder's own size (a shell path).
    if (path.dirname(path.dirname(p)) === prof.path || path.dirname(p) === prof.path) ps.other.add(p);
    switch (region.kind) {
      case 'package':
        for (const n of region.packages) ps.packages.add(n);
        break;
      case 'crate': {
        const owners = indexOf(prof).crates.get(region.crate);
        if (owners) for (const o of owners) ps.packages.add(o);
        else ps.crates.add(region.crate);
        break;
      }
      case 'flat': {
        ps.other.add(p);
        const owners = region.hash ? indexOf(prof).legacyHashes.get(region.hash) : undefined;
        if (owners) for (const o of owners) ps.packages.add(o);
        break;
      }
      case 'shell':
        ps.other.add(p);
        break;
    }
  }

  result(): RefreshScope {
    const sorted = (s: Set<string>) => [...s].sort();
    return {
      buildDirs: [...this.dirs.values()].map((d) => ({
        path: d.path,
        wholeBuildDir: d.whole,
        profileFolders: d.profileFolders,
        other: sorted(d.other),
        profiles: [...d.profiles.values()].map((p) => ({
          id: p.id,
          path: p.path,
          packages: sorted(p.packages),
          crates: sorted(p.crates),
          other: sorted(p.other),
        })),
      })),
    };
  }
}

function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/** The item whose folder holds `p` (the deepest, should folders nest). */
function containing<T extends { readonly path: string }>(items: readonly T[], p: string): T | null {
  let best: T | null = null;
  for (const it of items) if (isInside(p, it.path) && (!best || it.path.length > best.path.length)) best = it;
  return best;
}

/** Per-profile lookups for routing paths; built once per Profile object, on first need. */
interface ProfileIndex {
  /** Incremental crate name → packages whose units have that target (a target's crate name is its name with `_`). */
  readonly crates: ReadonlyMap<string, ReadonlySet<string>>;
  /** Legacy unit hash → packages (a file in `deps/` names only the hash). */
  readonly legacyHashes: ReadonlyMap<string, ReadonlySet<string>>;
}

const indexes = new WeakMap<Profile, ProfileIndex>();

function indexOf(p: Profile): ProfileIndex {
  let ix = indexes.get(p);
  if (ix) return ix;
  const crates = new Map<string, Set<string>>();
  const legacyHashes = new Map<string, Set<string>>();
  const put = (m: Map<string, Set<string>>, k: string, v: string) => {
    let s = m.get(k);
    if (!s) m.set(k, (s = new Set()));
    s.add(v);
  };
  for (const u of p.units) {
    if (u.target) put(crates, crateName(u.target), u.package);
    put(crates, crateName(u.package), u.package);
    if (u.layout === 'legacy' && plannedPackage(u) !== null) put(legacyHashes, u.hash, u.package);
  }
  indexes.set(p, (ix = { crates, legacyHashes }));
  return ix;
}

function crateName(target: string): string {
  return target.replace(/-/g, '_');
}

/**
 * The package a partial plan re-plans this unit under, or null for legacy outputs with no `.fingerprint` or
 * `build/` folder (their package is a guess from the file name; only a full scan lists them).
 */
function plannedPackage(u: Unit): string | null {
  if (u.layout === 'v2') return u.package;
  return u.parts.some((p) => p.name === 'fingerprint' || p.name === 'build') ? u.package : null;
}

/** What must be re-read after these paths changed (absolute paths; anything outside the model's build dirs is ignored). */
export function changeScope(result: ScanResult, paths: readonly string[]): RefreshScope {
  const b = new ScopeBuilder();
  for (const p of paths) b.add(result, p);
  return b.result();
}

// ------------------------------------------------------------------------------------------------------------
// Ledger

interface LinkObs {
  readonly key: string;
  readonly nlink: number;
  readonly size: number;
}

/** Every multi-link file seen, by path; indexed by inode and by every ancestor folder. */
class LinkInventory {
  private readonly byPath = new Map<string, LinkObs>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly under = new Map<string, Set<string>>();
  /** While a refresh round runs: what each path held before its first change in the round (null: nothing). */
  journal: Map<string, LinkObs | null> | null = null;

  get(p: string): LinkObs | undefined {
    return this.byPath.get(p);
  }

  holders(key: string): readonly string[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  set(p: string, obs: LinkObs): void {
    this.note(p);
    this.drop(p);
    this.byPath.set(p, obs);
    let k = this.byKey.get(obs.key);
    if (!k) this.byKey.set(obs.key, (k = new Set()));
    k.add(p);
    for (let d = path.dirname(p); ; d = path.dirname(d)) {
      let s = this.under.get(d);
      if (!s) this.under.set(d, (s = new Set()));
      s.add(p);
      if (path.dirname(d) === d) break;
    }
  }

  delete(p: string): void {
    if (!this.byPath.has(p)) return;
    this.note(p);
    this.drop(p);
  }

  /** Forgets `p` and everything beneath it. */
  purgeUnder(p: string): void {
    for (const q of this.pathsUnder(p)) this.delete(q);
  }

  pathsUnder(p: string): string[] {
    const out = [...(this.under.get(p) ?? [])];
    if (this.byPath.has(p)) out.push(p);
    return out;
  }

  /** Sizes of the distinct inodes with a link at or beneath any of `roots`. */
  bytesUnder(roots: Iterable<string>): number {
    const seen = new Map<string, number>();
    for (const r of roots) {
      for (const q of this.pathsUnder(r)) {
        const o = this.byPath.get(q);
        if (o) seen.set(o.key, o.size);
      }
    }
    let n = 0;
    for (const s of seen.values()) n += s;
    return n;
  }

  /** As `union` in scan.ts: each inode once, freed only when all of its links lie beneath `roots`. */
  measure(roots: Iterable<string>): { bytes: number; freed: number } {
    const seen = new Map<string, { size: number; nlink: number; paths: Set<string> }>();
    for (const r of roots) {
      for (const q of this.pathsUnder(r)) {
        const o = this.byPath.get(q);
        if (!o) continue;
        let a = seen.get(o.key);
        if (!a) seen.set(o.key, (a = { size: o.size, nlink: o.nlink, paths: new Set() }));
        a.paths.add(q);
      }
    }
    let bytes = 0;
    let freed = 0;
    for (const a of seen.values()) {
      bytes += a.size;
      if (a.paths.size >= a.nlink) freed += a.size;
    }
    return { bytes, freed };
  }

  private note(p: string): void {
    if (this.journal && !this.journal.has(p)) this.journal.set(p, this.byPath.get(p) ?? null);
  }

  private drop(p: string): void {
    const o = this.byPath.get(p);
    if (!o) return;
    this.byPath.delete(p);
    const k = this.byKey.get(o.key);
    if (k) {
      k.delete(p);
      if (k.size === 0) this.byKey.delete(o.key);
    }
    for (let d = path.dirname(p); ; d = path.dirname(d)) {
      const s = this.under.get(d);
      if (s) {
        s.delete(p);
        if (s.size === 0) this.under.delete(d);
      }
      if (path.dirname(d) === d) break;
    }
  }
}

/** Link-free bytes: a profile's, and each bucket path's (paths inside flat legacy folders summed per bucket). */
interface ProfileBook {
  n: number;
  readonly direct: Map<string, number>;
  readonly shared: Map<BucketName, number>;
}

interface BuildDirBook {
  n: number;
  readonly direct: Map<string, number>;
  /** `dev:ino` of the folder: tells a folder that was replaced from one whose attributes changed. */
  ino: string | null;
}

class Ledger {
  readonly links = new LinkInventory();
  readonly dirs = new Map<string, BuildDirBook>();
  readonly profiles = new Map<string, ProfileBook>();
  /**
   * Link-free bytes of each unit (by id) and incremental folder (by path), as measured with its bytes: a later
   * walk of a shared folder may see one of its files gain or lose a link before the unit itself is read again.
   */
  readonly parts = new Map<string, number>();

  noteUnits(units: readonly Unit[], crates: readonly IncrementalCrate[]): number {
    let n = 0;
    for (const u of units) {
      const x = u.bytes - this.links.bytesUnder(u.paths);
      this.parts.set(u.id, x);
      n += x;
    }
    for (const c of crates) {
      const x = c.bytes - this.links.bytesUnder([c.path]);
      this.parts.set(c.path, x);
      n += x;
    }
    return n;
  }

  forgetUnits(units: readonly Unit[], crates: readonly IncrementalCrate[]): number {
    let n = 0;
    for (const u of units) {
      n += this.parts.get(u.id) ?? u.bytes - this.links.bytesUnder(u.paths);
      this.parts.delete(u.id);
    }
    for (const c of crates) {
      n += this.parts.get(c.path) ?? c.bytes - this.links.bytesUnder([c.path]);
      this.parts.delete(c.path);
    }
    return n;
  }
}

/**
 * One ledger per result. A refresh moves it to the result it returns, so a result refreshed twice (or never
 * made by scanForRefresh/applyRefresh) has none, and its next refresh reads everything once to make one.
 */
const ledgers = new WeakMap<ScanResult, Ledger>();

/** Passes walks through and records what the ledger needs from them. */
class Recorder implements Walker {
  /** Link-free bytes of every request of depth ≤ 0 (bucket paths: a folder's own entry, or a whole subtree). */
  readonly sizes = new Map<string, number>();
  /** Whole results of flat legacy folders, whose entries are bucket paths of their own. */
  readonly kept = new Map<string, WalkResult>();
  readonly keep = new Set<string>();

  constructor(
    private readonly inner: Walker,
    private readonly links: LinkInventory,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
    const results = await this.inner.walk(requests);
    requests.forEach((r, i) => {
      const w = results[i];
      if (!w) return;
      // A walk of depth ≥ 0 saw the whole subtree: what it did not report is gone.
      if (r.depth < 0) this.links.delete(r.path);
      else this.links.purgeUnder(r.path);
      for (const l of w.links) this.links.set(l.rel === '' ? r.path : path.join(r.path, l.rel), { key: l.key, nlink: l.nlink, size: l.size });
      if (r.depth <= 0) this.sizes.set(r.path, w.entries[0]?.bytes ?? 0);
      if (this.keep.has(r.path)) this.kept.set(r.path, w);
    });
    return results;
  }

  read(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    return this.inner.read(requests);
  }

  close(): void {
    // The inner walker belongs to the caller.
  }
}

/** Link-free bytes of a path inside a walked flat folder, measured as scan.ts measures it. */
function withinBytes(r: WalkResult, rel: string, depth: number): number {
  const e = r.entries.find((x) => x.rel === rel);
  if (!e) return 0;
  if (depth !== -1 || e.type !== 'd') return e.bytes;
  const prefix = rel === '' ? '' : rel + '/';
  let children = 0;
  for (const c of r.entries) {
    if (c === e || !c.rel.startsWith(prefix)) continue;
    const rest = c.rel.slice(prefix.length);
    if (rest !== '' && !rest.includes('/')) children += c.bytes;
  }
  return e.bytes - children;
}

/** `dev:ino` of a folder (never through a symlink), or null: what tells a folder from its replacement. */
export function inodeOf(p: string): string | null {
  try {
    const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    return st?.isDirectory() ? `${st.dev}:${st.ino}` : null;
  } catch {
    return null;
  }
}

/** Books of a freshly scanned build dir, from what the recorder saw during the scan. */
function bookBuildDir(ledger: Ledger, b: BuildDir, rec: Recorder): void {
  const direct = new Map<string, number>();
  for (const bucket of b.other) for (const p of bucket.paths) direct.set(p, rec.sizes.get(p) ?? 0);
  ledger.dirs.set(b.path, { n: b.bytes - ledger.links.bytesUnder([b.path]), direct, ino: b.exists ? inodeOf(b.path) : null });
  for (const prof of b.profiles) {
    ledger.noteUnits(prof.units, prof.incremental);
    const pd = new Map<string, number>();
    const shared = new Map<BucketName, number>();
    for (const bucket of prof.other) {
      let rest = bucket.bytes - (bucket.name === 'structure' ? 0 : ledger.links.bytesUnder(bucket.paths));
      let within = false;
      for (const p of bucket.paths) {
        const s = rec.sizes.get(p);
        if (s === undefined) within = true;
        else {
          pd.set(p, s);
          rest -= s;
        }
      }
      if (within) shared.set(bucket.name, rest);
    }
    ledger.profiles.set(prof.id, { n: prof.bytes - ledger.links.bytesUnder([prof.path]), direct: pd, shared });
  }
}

/**
 * `scanBuildDirs`, keeping beside the result the ledger that later refreshes need. Use it for the scans a
 * watcher refreshes: a refresh of a result made otherwise first reads everything once.
 */
export async function scanForRefresh(locations: readonly BuildDirLocationLike[], opts: ScanOptions): Promise<ScanResult> {
  const ledger = new Ledger();
  const rec = new Recorder(opts.walker, ledger.links);
  const result = await scanBuildDirs(locations, { ...opts, walker: rec });
  for (const b of result.buildDirs) bookBuildDir(ledger, b, rec);
  ledgers.set(result, ledger);
  return result;
}

// ------------------------------------------------------------------------------------------------------------
// Applying a scope

/**
 * Re-reads what `scope` names and returns the refreshed model with the ids of the build dirs, profiles and
 * packages whose objects changed. Costs what changed: the units of the named packages, the bucket paths that
 * changed, the root's entries; a whole profile or build dir only when it appeared or vanished.
 */
export async function applyRefresh(prev: ScanResult, scope: RefreshScope, opts: RefreshOptions): Promise<{ result: ScanResult; changed: ChangedIds }> {
  const ledger = ledgers.get(prev);
  ledgers.delete(prev);
  if (!ledger) {
    const locations = prev.buildDirs.map((b) => ({ path: b.path, role: b.role, discovery: b.discovery }));
    const scanned = await scanForRefresh(locations, { ...opts, workspaceRoot: prev.workspaceRoot });
    const fresh = adoptIdentities(prev, scanned);
    const made = ledgers.get(scanned);
    ledgers.delete(scanned);
    if (made) ledgers.set(fresh, made);
    return { result: fresh, changed: changedBetween(prev, fresh) };
  }
  const run = new RefreshRun(prev, ledger, opts);
  let todo: RefreshScope | null = scope;
  // Each round re-reads what the previous one found sharing an inode with what changed (a re-pointed
  // uplifted file changes the freed bytes of the unit it left); the chain is short.
  for (let round = 0; todo && todo.buildDirs.length > 0 && round < 4; round++) todo = await run.round(todo);
  const result = run.current;
  ledgers.set(result, ledger);
  return { result, changed: changedBetween(prev, result, run.touched) };
}

class RefreshRun {
  current: ScanResult;
  /** Profile ids and build dir paths looked at, to keep the final comparison to what was touched. */
  readonly touched = new Set<string>();
  /** Roots of what this round re-read (units, crates, bucket paths, whole profiles and build dirs). */
  private reread = new Set<string>();
  /** What this round learnt must be read next (incremental crates named by units read for the first time). */
  private followUp = new ScopeBuilder();
  private followUps = false;
  private problems: readonly ScanProblem[];

  constructor(
    prev: ScanResult,
    private readonly ledger: Ledger,
    private readonly opts: RefreshOptions,
  ) {
    this.current = prev;
    this.problems = prev.problems;
  }

  async round(scope: RefreshScope): Promise<RefreshScope | null> {
    const links = this.ledger.links;
    links.journal = new Map();
    this.reread = new Set();
    this.followUp = new ScopeBuilder();
    this.followUps = false;
    try {
      const buildDirs = [...this.current.buildDirs];
      for (const bs of scope.buildDirs) {
        const i = buildDirs.findIndex((b) => b.path === bs.path);
        const b = buildDirs[i];
        if (!b) continue;
        this.touched.add(b.path);
        buildDirs[i] = await this.refreshBuildDir(b, bs);
      }
      const same = buildDirs.every((b, i) => b === this.current.buildDirs[i]);
      if (!same || this.problems !== this.current.problems) {
        this.current = { ...this.current, buildDirs: same ? this.current.buildDirs : buildDirs, problems: this.problems, walker: this.opts.walker.name };
      }
      return this.linked(links.journal);
    } finally {
      links.journal = null;
    }
  }

  /**
   * What this round did not re-read although a hard link of it changed: the components of paths whose link
   * state changed, the other holders of the inodes involved, and — for an uplifted file whose inode has links
   * the ledger never saw (its other end was a single link until now) — the units of the crate it names.
   */
  private linked(journal: Map<string, LinkObs | null>): RefreshScope | null {
    const links = this.ledger.links;
    const covered = (q: string): boolean => {
      for (let d = q; ; d = path.dirname(d)) {
        if (this.reread.has(d)) return true;
        if (path.dirname(d) === d) return false;
      }
    };
    const b = this.followUp;
    let any = this.followUps;
    const route = (q: string): void => {
      if (covered(q)) return;
      b.add(this.current, q);
      any = true;
    };
    const keys = new Set<string>();
    for (const [p, before] of journal) {
      const after = links.get(p);
      if (before && after && before.key === after.key && before.nlink === after.nlink) continue;
      if (before) keys.add(before.key);
      if (after) keys.add(after.key);
      route(p);
    }
    for (const k of keys) {
      const holders = links.holders(k);
      for (const q of holders) route(q);
      const nlink = holders.length > 0 ? (links.get(holders[0]!)?.nlink ?? 0) : 0;
      if (holders.length >= nlink) continue;
      for (const q of holders) if (this.routeUplifted(b, q)) any = true;
    }
    return any ? b.result() : null;
  }

  /** Routes the units of the crate an uplifted file names, in every build dir's folder for the same profile. */
  private routeUplifted(scope: ScopeBuilder, q: string): boolean {
    const home = containing(this.current.buildDirs, q);
    const prof = home ? containing(home.profiles, q) : null;
    if (!home || !prof || profileRegion(prof.path, q)?.kind !== 'shell') return false;
    const crates = upliftedCrates(path.basename(q));
    let any = false;
    for (const b of this.current.buildDirs) {
      for (const p of b.profiles) {
        if (p.name !== prof.name || p.platform !== prof.platform) continue;
        const owners = crates.flatMap((c) => [...(indexOf(p).crates.get(c) ?? [])]);
        if (owners.length === 0) continue;
        const ps = scope.profile(b, p);
        for (const o of owners) ps.packages.add(o);
        any = true;
      }
    }
    return any;
  }

  private dropProblems(under: readonly string[]): void {
    if (under.length === 0 || this.problems.length === 0) return;
    const kept = this.problems.filter((pr) => !under.some((u) => isInside(pr.path, u)));
    if (kept.length !== this.problems.length) this.problems = kept;
  }

  private addProblems(found: readonly ScanProblem[]): void {
    const fresh = found.filter((pr, i) => !this.problems.some((x) => x.path === pr.path && x.message === pr.message) && found.findIndex((y) => y.path === pr.path && y.message === pr.message) === i);
    if (fresh.length > 0) this.problems = [...this.problems, ...fresh];
  }

  private async refreshBuildDir(b: BuildDir, bs: BuildDirScope): Promise<BuildDir> {
    const book = this.ledger.dirs.get(b.path);
    if (!book) return this.rescan(b);
    let rootDirty = [...bs.other];
    let relist = bs.profileFolders || bs.other.length > 0;
    if (bs.wholeBuildDir) {
      // Reported itself: rescan only if it appeared, vanished or is another folder now.
      const ino = b.exists ? inodeOf(b.path) : null;
      if (ino === null || ino !== book.ino) return this.rescan(b);
      rootDirty = [...rootDirty, b.path];
      relist = true;
    }
    let profiles: Profile[] = [...b.profiles];
    let other = b.other;
    let dn = 0;
    if (relist) {
      const shell = planBuildDirShell(b.path);
      if (!shell.exists) return this.rescan(b);
      const present = new Set(shell.profiles.map((p) => p.path));
      for (const gone of profiles.filter((p) => !present.has(p.path))) {
        dn -= this.ledger.profiles.get(gone.id)?.n ?? 0;
        this.ledger.forgetUnits(gone.units, gone.incremental);
        this.ledger.profiles.delete(gone.id);
        this.ledger.links.purgeUnder(gone.path);
        this.dropProblems([gone.path]);
        this.touched.add(gone.id);
        this.reread.add(gone.path);
      }
      profiles = profiles.filter((p) => present.has(p.path));
      for (const loc of shell.profiles) {
        if (profiles.some((p) => p.path === loc.path)) continue;
        const { profile, n } = await this.scanProfile(b, loc);
        profiles.push(profile);
        dn += n;
      }
      profiles.sort((x, y) => ((x.platform ?? '') + '/' + x.name < (y.platform ?? '') + '/' + y.name ? -1 : 1));
      const planned = shell.buckets.flatMap((x) => x.paths.map((p) => ({ name: x.name, path: p.path })));
      const now = new Set(planned.map((x) => x.path));
      for (const bucket of b.other) {
        for (const p of bucket.paths) {
          if (now.has(p)) continue;
          dn -= book.direct.get(p) ?? 0;
          book.direct.delete(p);
          if (bucket.name === 'structure') continue;
          this.ledger.links.purgeUnder(p);
          this.reread.add(p);
        }
      }
      const rec = new Recorder(this.opts.walker, this.ledger.links);
      const fresh = await this.measureBuckets(rec, shell.buckets, [], dirtyTest(rootDirty, b.path), book.direct);
      dn += fresh.dn;
      // Root paths are never inside a flat folder: no shared totals.
      other = this.assembleBuckets(b.other, planned, (p) => now.has(p), book.direct, new Map());
      this.dropProblems(rootDirty);
      this.addProblems(shell.problems);
    }
    for (const ps of bs.profiles) {
      const k = profiles.findIndex((p) => p.path === ps.path);
      const prof = profiles[k];
      if (!prof) continue;
      this.touched.add(prof.id);
      const r = await this.refreshProfile(b, prof, ps);
      if (r === null) return this.rescan(b);
      profiles[k] = r.profile;
      dn += r.dn;
    }
    book.n += dn;
    const bytes = book.n + this.ledger.links.bytesUnder([b.path]);
    const sameProfiles = profiles.length === b.profiles.length && profiles.every((p, i) => p === b.profiles[i]);
    if (sameProfiles && other === b.other && bytes === b.bytes) return b;
    return { ...b, profiles: sameProfiles ? b.profiles : profiles, other, bytes };
  }

  /** The whole build dir, read again (it appeared, vanished, or was replaced). */
  private async rescan(b: BuildDir): Promise<BuildDir> {
    this.reread.add(b.path);
    this.ledger.links.purgeUnder(b.path);
    for (const p of b.profiles) {
      this.ledger.forgetUnits(p.units, p.incremental);
      this.ledger.profiles.delete(p.id);
      this.touched.add(p.id);
    }
    const rec = new Recorder(this.opts.walker, this.ledger.links);
    const r = await scanBuildDirs([{ path: b.path, role: b.role, discovery: b.discovery }], {
      walker: rec,
      members: this.opts.members,
      workspaceRoot: this.current.workspaceRoot,
    });
    const nb = r.buildDirs[0];
    if (!nb) return b;
    bookBuildDir(this.ledger, nb, rec);
    for (const p of nb.profiles) this.touched.add(p.id);
    this.dropProblems([b.path]);
    this.addProblems(r.problems);
    return adoptBuildDir(b, nb);
  }

  /** A profile folder that appeared: planned and measured whole. */
  private async scanProfile(b: BuildDir, loc: { name: string; platform: string | null; path: string }): Promise<{ profile: Profile; n: number }> {
    const plan = planProfileFolder(loc.path, loc.name, loc.platform, b.role);
    const id = profileId(b.path, loc.platform, loc.name);
    this.touched.add(id);
    this.reread.add(loc.path);
    this.ledger.links.purgeUnder(loc.path);
    const rec = new Recorder(this.opts.walker, this.ledger.links);
    for (const s of plan.shared) rec.keep.add(s.path);
    const part = await scanPartial(b.path, plan, { walker: rec, members: this.opts.members });
    const book: ProfileBook = { n: 0, direct: new Map(), shared: new Map() };
    await this.measureBuckets(rec, plan.buckets, plan.shared, () => true, book.direct, book.shared);
    const links = this.ledger.links;
    book.n += this.ledger.noteUnits(part.units, part.incremental);
    for (const s of book.direct.values()) book.n += s;
    for (const s of book.shared.values()) book.n += s;
    this.ledger.profiles.set(id, book);
    this.addProblems(plan.problems);
    this.addProblems(part.problems);
    const other = this.assembleBuckets([], plan.buckets.flatMap((x) => x.paths.map((p) => ({ name: x.name, path: p.path }))), () => true, book.direct, book.shared);
    const profile: Profile = {
      id,
      name: loc.name,
      platform: loc.platform,
      path: loc.path,
      layouts: plan.layouts,
      units: part.units,
      packages: this.summaries(part.units, new Set(part.units.map((u) => u.package)), []),
      incremental: part.incremental,
      other,
      bytes: book.n + links.bytesUnder([loc.path]),
      locks: plan.locks,
    };
    return { profile, n: book.n };
  }

  /**
   * Re-reads the packages and bucket paths `ps` names. Returns the new profile (the same object when nothing
   * changed) and the change of its link-free bytes; null when the profile has no books (read the build dir again).
   */
  private async refreshProfile(b: BuildDir, prof: Profile, ps: ProfileScope): Promise<{ profile: Profile; dn: number } | null> {
    const book = this.ledger.profiles.get(prof.id);
    if (!book) return null;
    const links = this.ledger.links;
    const named = new Set(ps.packages);
    const crates = new Set(ps.crates);
    const relist = (name: string): boolean => ps.other.includes(prof.path) || ps.other.includes(path.join(prof.path, name));
    let shell = ps.other.length > 0 ? planProfileShell(prof.path, b.role, relist('build')) : null;
    if (shell) {
      // A folder reported as a whole (created, emptied, newly watched): compare its entries with the model.
      const found = relisted(prof, shell, relist);
      for (const n of found.packages) named.add(n);
      for (const c of found.crates) crates.add(c);
    }
    const names = new Set(named);
    const ix = indexOf(prof);
    // A package's incremental folders are named after its targets; rustc renews them as it compiles the units.
    for (const [crate, owners] of ix.crates) if ([...owners].some((o) => named.has(o))) names.add(crate);
    for (const c of crates) names.add(c);

    const plan = names.size > 0 ? planPackages(prof.path, prof.name, prof.platform, b.role, names) : null;
    const pkgBuckets = names.size > 0 ? planPackageBuckets(prof.path, names) : null;
    const shared = plan?.shared ?? [];
    if (!shell && shared.length > 0) shell = planProfileShell(prof.path, b.role);
    const isPkgPath = (p: string): boolean => {
      const e = buildEntryOf(prof.path, p);
      return e !== null && buildEntryMatches(e, names);
    };
    const isShellPath = (p: string): boolean => buildEntryOf(prof.path, p) === null;
    const replacedUnit = (u: Unit): boolean => {
      const k = plannedPackage(u);
      return k !== null && names.has(k);
    };
    const oldUnits = names.size > 0 ? prof.units.filter(replacedUnit) : [];
    const oldCrates = names.size > 0 ? prof.incremental.filter((c) => crateMatches(c.crate, names)) : [];

    // Bucket paths re-measured: the named packages' `build/<x>` entries, and the shell paths that changed.
    const dirty = dirtyTest(ps.other, prof.path);
    const newShell = shell ? shell.buckets.flatMap((x) => x.paths) : [];
    const newShellSet = new Set(newShell.map((p) => p.path));
    const remeasure = new Set<string>();
    if (shell) for (const p of newShell) if (!p.within && (!book.direct.has(p.path) || dirty(p.path, p.depth === -1))) remeasure.add(p.path);
    const oldBucketPaths = prof.other.flatMap((x) => x.paths.map((p) => ({ name: x.name, path: p })));
    const outgoing = oldBucketPaths.filter(
      (x) => isPkgPath(x.path) || (shell !== null && isShellPath(x.path) && (book.direct.has(x.path) ? remeasure.has(x.path) || !newShellSet.has(x.path) : true)),
    );

    // Link-free bytes of everything about to be replaced, while the ledger still describes it.
    let dn = -this.ledger.forgetUnits(oldUnits, oldCrates);
    for (const x of outgoing) {
      const s = book.direct.get(x.path);
      if (s !== undefined) {
        dn -= s;
        book.direct.delete(x.path);
      }
    }
    const regroup = shell !== null && (shell.shared.length > 0 || book.shared.size > 0);
    if (regroup) {
      for (const s of book.shared.values()) dn -= s;
      book.shared.clear();
    }
    for (const u of oldUnits) for (const p of u.paths) links.purgeUnder(p);
    for (const c of oldCrates) links.purgeUnder(c.path);
    for (const x of outgoing) if (x.name !== 'structure') links.purgeUnder(x.path);

    for (const p of [...oldUnits.flatMap((u) => u.paths), ...oldCrates.map((c) => c.path), ...outgoing.filter((x) => x.name !== 'structure').map((x) => x.path)]) this.reread.add(p);
    const rec = new Recorder(this.opts.walker, links);
    for (const s of [...shared, ...(shell?.shared ?? [])]) rec.keep.add(s.path);
    const part = plan ? await scanPartial(b.path, plan, { walker: rec, members: this.opts.members }) : { units: [], incremental: [], problems: [] };
    // A unit read while cargo compiled it had no target yet: the incremental folder of its target is read next.
    for (const u of part.units) {
      const crate = u.target === null ? null : crateName(u.target);
      if (crate === null || names.has(crate)) continue;
      this.followUp.profile(b, prof).crates.add(crate);
      this.followUps = true;
    }
    const toMeasure: BucketPlan[] = [];
    if (pkgBuckets) toMeasure.push(...pkgBuckets.buckets);
    if (shell) {
      for (const x of shell.buckets) {
        const paths = x.paths.filter((p) => (p.within ? regroup : remeasure.has(p.path)));
        if (paths.length > 0) toMeasure.push({ name: x.name, paths });
      }
    }
    const measured = await this.measureBuckets(rec, toMeasure, shell?.shared ?? [], () => true, book.direct, regroup ? book.shared : undefined);
    dn += measured.dn;
    dn += this.ledger.noteUnits(part.units, part.incremental);
    for (const p of [...part.units.flatMap((u) => u.paths), ...part.incremental.map((c) => c.path)]) this.reread.add(p);
    book.n += dn;

    // Problems: what was re-read reports again.
    const reread = [...oldUnits.flatMap((u) => u.paths), ...oldCrates.map((c) => c.path), ...outgoing.map((x) => x.path), ...[...names].map((n) => path.join(prof.path, 'build', n))];
    this.dropProblems(reread);
    if (plan) this.addProblems(plan.problems);
    if (pkgBuckets) this.addProblems(pkgBuckets.problems);
    if (shell) this.addProblems(shell.problems);
    this.addProblems(part.problems);

    // Units, incremental folders and buckets, in the order a full scan gives them.
    const keptUnits = oldUnits.length > 0 ? prof.units.filter((u) => !replacedUnit(u)) : prof.units;
    const prevUnits = new Map(oldUnits.map((u) => [u.id, u]));
    const incoming = part.units.map((u) => keepIfEqual(prevUnits.get(u.id), u));
    const units = incoming.length === 0 && oldUnits.length === 0 ? prof.units : mergeSorted(keptUnits, incoming, compareUnits);
    const prevCrates = new Map(oldCrates.map((c) => [c.path, c]));
    const keptCrates = oldCrates.length > 0 ? prof.incremental.filter((c) => !crateMatches(c.crate, names)) : prof.incremental;
    const newCrates = part.incremental.map((c) => keepIfEqual(prevCrates.get(c.path), c));
    const incremental = newCrates.length === 0 && oldCrates.length === 0 ? prof.incremental : mergeSorted(keptCrates, newCrates, compareCrates);

    const outgoingSet = new Set(outgoing.map((x) => x.path));
    const incomingPaths: { name: BucketName; path: string }[] = [];
    if (pkgBuckets) for (const x of pkgBuckets.buckets) for (const p of x.paths) incomingPaths.push({ name: x.name, path: p.path });
    if (shell) {
      for (const x of shell.buckets) {
        for (const p of x.paths) {
          // Unchanged shell paths stay where they are; new, re-measured and regrouped ones come back in.
          if (!p.within && !remeasure.has(p.path) && !outgoingSet.has(p.path)) continue;
          incomingPaths.push({ name: x.name, path: p.path });
        }
      }
    }
    const other = this.assembleBuckets(prof.other, incomingPaths, (p) => !outgoingSet.has(p), book.direct, book.shared);

    const sameUnits = sameItems(units, prof.units);
    const touchedPackages = new Set([...oldUnits, ...incoming].map((u) => u.package));
    const packages = sameUnits ? prof.packages : this.summaries(units, touchedPackages, prof.packages);
    const structure = new Set(other.find((x) => x.name === 'structure')?.paths ?? []);
    const legacyMarker = structure.has(path.join(prof.path, '.fingerprint')) || structure.has(path.join(prof.path, 'deps'));
    const layouts = [...new Set([...(legacyMarker ? (['legacy'] as const) : []), ...units.map((u) => u.layout)])].sort();
    const locks = shell ? shell.locks : prof.locks;
    const bytes = book.n + links.bytesUnder([prof.path]);
    const profile: Profile = {
      ...prof,
      layouts: equalJson(layouts, prof.layouts) ? prof.layouts : layouts,
      units: sameUnits ? prof.units : units,
      packages,
      incremental: sameItems(incremental, prof.incremental) ? prof.incremental : incremental,
      other,
      bytes,
      locks: equalJson(locks, prof.locks) ? prof.locks : locks,
    };
    const same = (Object.keys(profile) as (keyof Profile)[]).every((k) => profile[k] === prof[k]);
    return { profile: same ? prof : profile, dn };
  }

  /**
   * Measures bucket paths (walking each path alone, flat folders once), updating `direct` (and `shared`, the
   * flat-folder totals, when given). Returns the change of link-free bytes for the paths whose size it replaced.
   */
  private async measureBuckets(
    rec: Recorder,
    buckets: readonly BucketPlan[],
    shared: readonly PlannedPath[],
    want: (p: string, own: boolean) => boolean,
    direct: Map<string, number>,
    sharedTotals?: Map<BucketName, number>,
  ): Promise<{ dn: number }> {
    const requests: WalkRequest[] = [];
    const todo: { name: BucketName; p: PlannedPath }[] = [];
    for (const b of buckets) {
      for (const p of b.paths) {
        if (p.within) {
          if (!sharedTotals) continue;
          todo.push({ name: b.name, p });
          const s = shared.find((x) => x.path === p.within?.request);
          if (!rec.kept.has(p.within.request) && !requests.some((r) => r.path === p.within?.request)) {
            rec.keep.add(p.within.request);
            requests.push({ path: p.within.request, depth: s?.depth ?? 2 });
          }
        } else if (!direct.has(p.path) || want(p.path, p.depth === -1)) {
          todo.push({ name: b.name, p });
          requests.push({ path: p.path, depth: p.depth });
        }
      }
    }
    if (requests.length > 0) await rec.walk(requests);
    let dn = 0;
    for (const { name, p } of todo) {
      // A folder's own entry covers nothing beneath it.
      if (name !== 'structure') this.reread.add(p.path);
      if (p.within) {
        const r = rec.kept.get(p.within.request);
        const s = r ? withinBytes(r, p.within.rel, p.depth) : 0;
        sharedTotals?.set(name, (sharedTotals.get(name) ?? 0) + s);
        dn += s;
      } else {
        const s = rec.sizes.get(p.path) ?? 0;
        dn += s - (direct.get(p.path) ?? 0);
        direct.set(p.path, s);
      }
    }
    return { dn };
  }

  /**
   * Buckets from the previous ones minus what `keep` rejects plus `incoming`, in a full scan's order (a
   * pre-order walk with sorted names): paths by segments, buckets by their first path. Byte totals come from
   * the books; an unchanged bucket keeps its object.
   */
  private assembleBuckets(
    prev: readonly Bucket[],
    incoming: readonly { name: BucketName; path: string }[],
    keep: (p: string) => boolean,
    direct: ReadonlyMap<string, number>,
    shared: ReadonlyMap<BucketName, number>,
  ): Bucket[] {
    const byName = new Map<BucketName, { paths: string[]; set: Set<string>; changed: boolean }>();
    for (const b of prev) {
      const paths = b.paths.filter(keep);
      byName.set(b.name, { paths, set: new Set(paths), changed: paths.length !== b.paths.length });
    }
    for (const x of incoming) {
      let e = byName.get(x.name);
      if (!e) byName.set(x.name, (e = { paths: [], set: new Set(), changed: true }));
      if (!e.set.has(x.path)) {
        e.paths.push(x.path);
        e.set.add(x.path);
        e.changed = true;
      }
    }
    const prevByName = new Map(prev.map((b) => [b.name, b]));
    const out: Bucket[] = [];
    for (const [name, e] of byName) {
      if (e.paths.length === 0) continue;
      const old = prevByName.get(name);
      let paths: readonly string[] = e.paths;
      if (old && (!e.changed || (e.paths.length === old.paths.length && sameSet(e.set, old.paths)))) paths = old.paths;
      else paths = sortPaths(e.paths);
      let n = shared.get(name) ?? 0;
      for (const p of paths) n += direct.get(p) ?? 0;
      const bytes = n + (name === 'structure' ? 0 : this.ledger.links.bytesUnder(paths));
      out.push(old && old.paths === paths && old.bytes === bytes ? old : { name, paths, bytes });
    }
    out.sort((a, b) => comparePaths(a.paths[0] ?? '', b.paths[0] ?? ''));
    return sameItems(out, prev) ? (prev as Bucket[]) : out;
  }

  /** Package summaries: those of `names` recomputed from `units`, the others kept; sorted as a full scan sorts them. */
  private summaries(units: readonly Unit[], names: ReadonlySet<string>, prev: readonly PackageSummary[]): PackageSummary[] {
    const links = this.ledger.links;
    const parts = this.ledger.parts;
    const groups = groupBy(units, (u) => (names.has(u.package) ? u.package : null));
    const prevByName = new Map(prev.map((s) => [s.name, s]));
    const out = prev.filter((s) => !names.has(s.name));
    for (const [name, g] of groups) {
      let n = 0;
      for (const u of g) n += parts.get(u.id) ?? u.bytes - links.bytesUnder(u.paths);
      const m = links.measure(g.flatMap((u) => u.paths));
      const s: PackageSummary = { name, bytes: n + m.bytes, freedBytes: n + m.freed, unitIds: g.map((u) => u.id) };
      out.push(keepIfEqual(prevByName.get(name), s));
    }
    return out.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
  }
}

/** Packages and crates whose entries in `build/`, `.fingerprint/` or `incremental/` differ from the model. */
function relisted(prof: Profile, shell: ProfileShellPlan, relist: (name: string) => boolean): { packages: string[]; crates: string[] } {
  const packages: string[] = [];
  const crates: string[] = [];
  const compare = (folder: string, now: readonly string[] | null, known: Set<string>): void => {
    const dir = path.join(prof.path, folder);
    const present = new Set(now ?? []);
    const differ = [...[...present].filter((x) => !known.has(x)), ...[...known].filter((x) => !present.has(x))];
    for (const x of differ) {
      const r = profileRegion(prof.path, path.join(dir, x));
      if (r?.kind === 'package') packages.push(...r.packages);
      else if (r?.kind === 'crate') crates.push(r.crate);
    }
  };
  const childOf = (dir: string) => (p: string) => (path.dirname(p) === dir ? path.basename(p) : null);
  const bucketNames = (dir: string): string[] => prof.other.flatMap((b) => b.paths.map(childOf(dir))).filter((x): x is string => x !== null);
  if (relist('build')) {
    const dir = path.join(prof.path, 'build');
    const known = new Set(bucketNames(dir));
    for (const u of prof.units) for (const p of u.paths) for (let d = p; isInside(d, dir) && d !== dir; d = path.dirname(d)) if (path.dirname(d) === dir) known.add(path.basename(d));
    compare('build', shell.listings.build, known);
  }
  if (relist('.fingerprint')) {
    const dir = path.join(prof.path, '.fingerprint');
    const known = new Set(bucketNames(dir));
    for (const u of prof.units) for (const p of u.paths) if (path.dirname(p) === dir) known.add(path.basename(p));
    compare('.fingerprint', shell.listings.fingerprint, known);
  }
  if (relist('incremental')) {
    const dir = path.join(prof.path, 'incremental');
    const known = new Set([...bucketNames(dir), ...prof.incremental.map((c) => path.basename(c.path))]);
    compare('incremental', shell.listings.incremental, known);
  }
  return { packages, crates };
}

/** A predicate for "this bucket path is affected by one of the changed paths": at or under it, or (for a folder's own entry) right inside it. */
function dirtyTest(changed: readonly string[], base: string): (p: string, own: boolean) => boolean {
  const exact = new Set(changed);
  const ancestors = new Set<string>();
  const parents = new Set<string>();
  for (const c of changed) {
    parents.add(path.dirname(c));
    for (let d = c; isInside(d, base); d = path.dirname(d)) {
      ancestors.add(d);
      if (d === base) break;
    }
  }
  // The folder itself reported: every entry right inside it is looked at again.
  const all = exact.has(base);
  return (p, own) => exact.has(p) || (own ? parents.has(p) : ancestors.has(p)) || (all && path.dirname(p) === base);
}

// ------------------------------------------------------------------------------------------------------------
// Order and identity

function segments(p: string): string[] {
  return p.split(path.sep);
}

/** Pre-order of a walk that lists names sorted (as layout.ts lists them): compare segment by segment. */
function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const x = segments(a);
  const y = segments(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const s = x[i]!;
    const t = y[i]!;
    if (s !== t) return s < t ? -1 : 1;
  }
  return x.length - y.length;
}

function sortPaths(paths: readonly string[]): string[] {
  return paths
    .map((p) => ({ p, s: segments(p) }))
    .sort((a, b) => {
      for (let i = 0; i < Math.min(a.s.length, b.s.length); i++) {
        const s = a.s[i]!;
        const t = b.s[i]!;
        if (s !== t) return s < t ? -1 : 1;
      }
      return a.s.length - b.s.length;
    })
    .map((x) => x.p);
}

/** The order of layout.ts's unit plans: package (none for guessed legacy outputs), then hash; legacy first on ties. */
function compareUnits(a: Unit, b: Unit): number {
  const pa = plannedPackage(a) ?? '';
  const pb = plannedPackage(b) ?? '';
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (a.hash !== b.hash) return a.hash < b.hash ? -1 : 1;
  return a.layout === b.layout ? 0 : a.layout === 'legacy' ? -1 : 1;
}

function compareCrates(a: IncrementalCrate, b: IncrementalCrate): number {
  const x = path.basename(a.path);
  const y = path.basename(b.path);
  return x === y ? 0 : x < y ? -1 : 1;
}

function mergeSorted<T>(a: readonly T[], b: readonly T[], cmp: (x: T, y: T) => number): T[] {
  if (b.length === 0) return [...a];
  const sb = [...b].sort(cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < sb.length) {
    if (j >= sb.length || (i < a.length && cmp(a[i]!, sb[j]!) <= 0)) out.push(a[i++]!);
    else out.push(sb[j++]!);
  }
  return out;
}

function sameSet(a: ReadonlySet<string>, b: readonly string[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

function equalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equalJson(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equalJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function keepIfEqual<T>(old: T | undefined, fresh: T): T {
  return old !== undefined && equalJson(old, fresh) ? old : fresh;
}

/** A freshly read build dir, reusing the previous objects that are equal to the new ones. */
function adoptBuildDir(prev: BuildDir, next: BuildDir): BuildDir {
  if (equalJson(prev, next)) return prev;
  const prevProfiles = new Map(prev.profiles.map((p) => [p.id, p]));
  const profiles = next.profiles.map((p) => {
    const old = prevProfiles.get(p.id);
    if (!old) return p;
    if (equalJson(old, p)) return old;
    const units = new Map(old.units.map((u) => [u.id, u]));
    const sums = new Map(old.packages.map((s) => [s.name, s]));
    return { ...p, units: p.units.map((u) => keepIfEqual(units.get(u.id), u)), packages: p.packages.map((s) => keepIfEqual(sums.get(s.name), s)) };
  });
  return { ...next, profiles };
}

function adoptIdentities(prev: ScanResult, next: ScanResult): ScanResult {
  const prevDirs = new Map(prev.buildDirs.map((b) => [b.path, b]));
  return { ...next, buildDirs: next.buildDirs.map((b) => (prevDirs.has(b.path) ? adoptBuildDir(prevDirs.get(b.path)!, b) : b)) };
}

/** Ids whose objects differ between two results (restricted to `touched` build dirs and profiles when given). */
function changedBetween(prev: ScanResult, next: ScanResult, touched?: ReadonlySet<string>): ChangedIds {
  const buildDirs: string[] = [];
  const profiles: string[] = [];
  const packages: string[] = [];
  const prevDirs = new Map(prev.buildDirs.map((b) => [b.path, b]));
  const nextDirs = new Map(next.buildDirs.map((b) => [b.path, b]));
  for (const p of new Set([...prevDirs.keys(), ...nextDirs.keys()])) {
    const a = prevDirs.get(p);
    const b = nextDirs.get(p);
    if (a === b) continue;
    if (touched && !touched.has(p)) continue;
    buildDirs.push(p);
    const pa = new Map((a?.profiles ?? []).map((x) => [x.id, x]));
    const pb = new Map((b?.profiles ?? []).map((x) => [x.id, x]));
    for (const id of new Set([...pa.keys(), ...pb.keys()])) {
      const x = pa.get(id);
      const y = pb.get(id);
      if (x === y) continue;
      profiles.push(id);
      const ux = groupUnits(x);
      const uy = groupUnits(y);
      const sx = new Map((x?.packages ?? []).map((s) => [s.name, s]));
      const sy = new Map((y?.packages ?? []).map((s) => [s.name, s]));
      for (const name of new Set([...sx.keys(), ...sy.keys(), ...ux.keys(), ...uy.keys()])) {
        if (sx.get(name) !== sy.get(name) || !sameItems(ux.get(name) ?? [], uy.get(name) ?? [])) packages.push(`${id}/${name}`);
      }
    }
  }
  return { buildDirs: buildDirs.sort(), profiles: profiles.sort(), packages: packages.sort() };
}

const groupUnits = (p: Profile | undefined): Map<string, Unit[]> => groupBy(p?.units ?? [], (u) => u.package);

// ------------------------------------------------------------------------------------------------------------
// What to watch

export interface WatchTargets {
  /** Folders to watch, each alone (depth 0): their entries appear, vanish or change. */
  readonly folders: readonly string[];
  /** Build dirs that do not exist (yet): watch their nearest existing ancestor for them to appear. */
  readonly missing: readonly string[];
}

/**
 * The folders that identify units, from the model: each build dir and profile folder (and `<triple>/`),
 * `build/`, every v2 package folder, `.fingerprint/`, `incremental/`, and the fingerprint folders of units that
 * cargo rebuilds in place without a new hash — those of path packages: `members`, and any unit whose source is
 * a path — and of units not finished yet (read while cargo compiled them; failed ones too). Never another unit
 * folder, never a file: O(packages + rebuilt-in-place units + unfinished units).
 */
export function watchTargets(result: ScanResult, members: readonly string[] = []): WatchTargets {
  const folders = new Set<string>();
  const missing: string[] = [];
  const rebuiltInPlace = new Set(members);
  for (const b of result.buildDirs) {
    if (!b.exists) {
      missing.push(b.path);
      continue;
    }
    folders.add(b.path);
    for (const prof of b.profiles) {
      if (prof.platform !== null) folders.add(path.dirname(prof.path));
      folders.add(prof.path);
      for (const bucket of prof.other) {
        if (bucket.name !== 'structure') continue;
        for (const p of bucket.paths) if (watchedFolderKind(prof.path, p) !== null) folders.add(p);
      }
      for (const u of prof.units) {
        // A unit without a valid hash file is being built (or its build failed): cargo writes the hash last.
        const unfinished = u.fingerprintHash === null;
        if (!unfinished && !rebuiltInPlace.has(u.package) && u.source?.kind !== 'path') continue;
        const fp = u.parts.find((x) => x.name === 'fingerprint');
        if (fp) folders.add(fp.path);
        else if (unfinished && u.layout === 'v2' && u.paths[0] !== undefined) folders.add(u.paths[0]);
      }
    }
  }
  return { folders: [...folders].sort(), missing: missing.sort() };
}
