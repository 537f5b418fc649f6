// The only module that knows how Cargo shapes a build directory (reference §2): it reads folder *names* with
// a few readdir calls — never sizes, never file contents — and says which paths make up each unit, which are
// incremental data, and which fall into named buckets. Every entry under the build dir ends up in exactly one
// place, so that the sizes computed from this plan add up to `du -sb` of the whole folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BucketName, Layout, UnitPart } from './model';
import { parseIncrementalDirName } from './incremental';

const HASH16 = /^[0-9a-f]{16}$/;
/** Legacy `<pkg>-<META>`: split at the last dash, package names may contain dashes. */
const LEGACY_DIR = /^(.+)-([0-9a-f]{16})$/;
/** Legacy rustc outputs in `deps/` and `examples/`: `[lib]<crate>-<META>[.ext]`. */
const HASHED_FILE = /^(.+)-([0-9a-f]{16})(\.[^-]*)?$/;

const LOCK_FILES = new Set(['.cargo-lock', '.cargo-build-lock', '.cargo-artifact-lock']);
const ROOT_METADATA_FILES = new Set(['.rustc_info.json', '.rustdoc_fingerprint.json', 'CACHEDIR.TAG']);
const ROOT_BUCKET_DIRS: ReadonlyMap<string, BucketName> = new Map([
  ['tmp', 'tmp'],
  ['doc', 'doc'],
  ['package', 'package'],
  ['cargo-timings', 'doc'],
]);
const PROFILE_MARKERS = new Set([...LOCK_FILES, 'build', 'deps', '.fingerprint', 'incremental']);
/** Files a legacy `build/<pkg>-<META>/` folder holds (a build-script compile or run unit). */
const LEGACY_BUILD_CHILDREN = /^(output|root-output|stderr|invoked\.timestamp|out|build-script-build(\.exe)?|build_script_build-.*)$/;

/** How deep the walker lists a unit's path: enough to see fingerprint files, outputs and run files. */
export interface PlannedPath {
  readonly path: string;
  readonly part: UnitPart['name'];
  /** Walker depth for this path (-1: the path alone; 0: folded; n: listed n levels down). */
  readonly depth: number;
  /** When set, the path is an entry inside another planned request (a file in `deps/`): take it from there. */
  readonly within?: { readonly request: string; readonly rel: string };
}

export interface UnitPlan {
  readonly package: string;
  readonly hash: string;
  readonly layout: Layout;
  readonly paths: readonly PlannedPath[];
}

export interface IncrementalPlan {
  readonly crate: string;
  readonly path: string;
}

export interface BucketPlan {
  readonly name: BucketName;
  readonly paths: readonly PlannedPath[];
}

export interface ProfilePlan {
  readonly name: string;
  readonly platform: string | null;
  readonly path: string;
  readonly layouts: readonly Layout[];
  readonly units: readonly UnitPlan[];
  readonly incremental: readonly IncrementalPlan[];
  readonly buckets: readonly BucketPlan[];
  readonly locks: readonly string[];
  /** Folders walked once and shared out among units and buckets (legacy `deps/`, `examples/`). */
  readonly shared: readonly PlannedPath[];
}

export interface BuildDirPlan {
  readonly path: string;
  readonly exists: boolean;
  readonly profiles: readonly ProfilePlan[];
  readonly buckets: readonly BucketPlan[];
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

interface Dirent {
  readonly name: string;
  readonly dir: boolean;
  /** A symlink is never a directory here: the plan never leads the walker through one. */
  readonly symlink: boolean;
}

type Problems = { path: string; message: string }[];

/**
 * A folder the layout pass listed or looked at, as it was just before: a later lstat that differs in time or
 * link count (a subfolder added or removed) says the listing may be out of date, whatever the clocks say.
 */
export interface ListedFolder {
  readonly dir: string;
  /** Null when the folder could not be looked at (missing, say). */
  readonly mtimeMs: number | null;
  readonly nlink: number;
}

/** Where `list` notes the folders it reads, while a scan that must later tell whether any changed is running. */
let listedInto: ListedFolder[] | null = null;

/**
 * Starts (given a list) or stops (null) noting every folder the layout pass lists or lstats, so that a scan can
 * later ask the walker whether any of them changed (src/node/scan-replay.ts). A process runs one such scan at a
 * time: the command line does.
 */
export function traceListings(into: ListedFolder[] | null): void {
  listedInto = into;
}

function noteListing(dir: string, st: fs.Stats | null): void {
  listedInto?.push(st ? { dir, mtimeMs: st.mtimeMs, nlink: st.nlink } : { dir, mtimeMs: null, nlink: 0 });
}

function list(dir: string, problems: Problems): Dirent[] | null {
  if (listedInto) {
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(dir);
    } catch {
      // Whatever listing it says next, the later lstat will not match a missing folder.
    }
    noteListing(dir, st);
  }
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .map((d) => ({ name: d.name, dir: d.isDirectory(), symlink: d.isSymbolicLink() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    // A folder that vanished between two readdirs is what a running `cargo clean` looks like: not worth a warning.
    if (code !== 'ENOENT') problems.push({ path: dir, message: describeFsError(code) });
    return null;
  }
}

export function describeFsError(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'vanished while it was being read (is cargo running?)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: its size is not counted';
    case 'ENOTDIR':
      return 'changed from a folder into a file while it was being read';
    case 'ELOOP':
      return 'is a symbolic link: not followed';
    default:
      return `could not be read (${code})`;
  }
}

function isProfileDir(dir: string, problems: Problems): boolean {
  const entries = list(dir, problems);
  return entries !== null && entries.some((e) => PROFILE_MARKERS.has(e.name));
}

/** Is this folder a Cargo build directory (or target directory)? Used to accept a path given directly. */
export function looksLikeBuildDirSync(dir: string): boolean {
  const problems: Problems = [];
  const entries = list(dir, problems);
  if (entries === null) return false;
  if (entries.some((e) => ROOT_METADATA_FILES.has(e.name) && !e.dir)) return true;
  return entries.some((e) => e.dir && !e.symlink && isProfileDir(path.join(dir, e.name), problems));
}

/**
 * The build dir holding `p` (a unit folder, a file inside one, a profile folder): the outermost ancestor
 * that looks like a build dir, below the nearest folder holding a Cargo.toml (a workspace is never one).
 */
export function enclosingBuildDir(p: string): string | null {
  let found: string | null = null;
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'Cargo.toml'))) break;
    if (looksLikeBuildDirSync(d)) found = d;
    if (path.dirname(d) === d) break;
  }
  return found;
}

const whole = (p: string, part: UnitPart['name'] = 'other'): PlannedPath => ({ path: p, part, depth: 0 });
/**
 * `path.join(dir, name)` for a folder below the build dir (already normalized by a path.join) and a name from
 * readdir (no separator): a plain concatenation, which a plan of tens of thousands of units feels.
 */
const child = (dir: string, name: string): string => dir + path.sep + name;
const own = (p: string): PlannedPath => ({ path: p, part: 'other', depth: -1 });

/**
 * A v2 unit folder's plan, its path made when first asked for. A scan plans every unit before it measures any
 * (at 1M entries, 44k of them), and a plan waits for its chunk: held as three references, it costs a fifth of
 * what its path string, path object and array cost, and those live only from its chunk on.
 */
class V2UnitPlan implements UnitPlan {
  readonly package: string;
  private made: readonly PlannedPath[] | undefined;
  constructor(
    pkg: string,
    readonly hash: string,
    private readonly dir: string,
  ) {
    this.package = pkg;
  }
  get layout(): Layout {
    return 'v2';
  }
  get paths(): readonly PlannedPath[] {
    return (this.made ??= [{ path: child(this.dir, this.hash), part: 'other', depth: V2_UNIT_DEPTH }]);
  }
}

/**
 * Is the unit one folder of its own, which nothing else is planned inside (a v2 unit)? A scan asks it of every
 * plan before it measures any: a lazy plan answers without making its path.
 */
/** How deep a v2 unit folder is walked: its parts (`fingerprint/`, `out/`, `run/`) and the files in them. */
export const V2_UNIT_DEPTH = 2;

export function isUnitFolder(u: UnitPlan): boolean {
  if (u instanceof V2UnitPlan) return true;
  return u.layout === 'v2' && u.paths.length === 1 && !u.paths[0]!.within;
}

type DraftPlan = { package: string; hash: string; layout: Layout; paths: PlannedPath[] };

class UnitSet {
  private readonly units = new Map<string, DraftPlan>();
  /** v2 unit folders by hash, the common case kept apart: no key string made per unit. */
  private readonly folders = new Map<string, V2UnitPlan>();
  add(layout: Layout, pkg: string | null, hash: string, p: PlannedPath): void {
    // Legacy pieces of one unit are keyed by hash alone; only the `.fingerprint` folder names the package.
    const key = `${layout}:${hash}`;
    let u = this.units.get(key);
    const folder = layout === 'v2' ? this.folders.get(hash) : undefined;
    if (folder) {
      this.folders.delete(hash);
      this.units.set(key, (u = { package: folder.package, hash, layout, paths: [...folder.paths] }));
    }
    if (!u) {
      u = { package: pkg ?? '', hash, layout, paths: [] };
      this.units.set(key, u);
    }
    if (pkg !== null && u.package === '') u.package = pkg;
    u.paths.push(p);
  }
  /** A v2 unit folder `<dir>/<hash>`, planned lazily (see V2UnitPlan). */
  addV2(pkg: string, hash: string, dir: string): void {
    if (this.folders.has(hash) || this.units.has(`v2:${hash}`)) this.add('v2', pkg, hash, { path: child(dir, hash), part: 'other', depth: V2_UNIT_DEPTH });
    else this.folders.set(hash, new V2UnitPlan(pkg, hash, dir));
  }
  has(layout: Layout, hash: string): boolean {
    return this.units.has(`${layout}:${hash}`) || (layout === 'v2' && this.folders.has(hash));
  }
  result(): UnitPlan[] {
    // By package, then hash; in a mixed folder one hash may be a unit of each layout: legacy first.
    const order = (x: string, y: string): number => (x === y ? 0 : x < y ? -1 : 1);
    return [...this.units.values(), ...this.folders.values()].sort(
      (a, b) => order(a.package, b.package) || order(a.hash, b.hash) || order(a.layout, b.layout),
    );
  }
}

class Buckets {
  private readonly m = new Map<BucketName, PlannedPath[]>();
  add(name: BucketName, p: PlannedPath): void {
    const a = this.m.get(name);
    if (a) a.push(p);
    else this.m.set(name, [p]);
  }
  result(): BucketPlan[] {
    return [...this.m.entries()].map(([name, paths]) => ({ name, paths }));
  }
}

/**
 * `deps/` and `examples/` hold files of many units: the folder is walked once (a shared request) and each
 * unit or bucket takes its entries from it. The folder's own size (depth -1 within it) is structure.
 */
function planFlatOutputs(dir: string, part: UnitPart['name'], ctx: ProfileContext, otherBucket: BucketName): void {
  const entries = list(dir, ctx.problems);
  if (entries === null) return;
  ctx.shared.push({ path: dir, part: 'other', depth: 2 });
  const inside = (rel: string, depth: number, p: UnitPart['name'] = part): PlannedPath => ({
    path: path.join(dir, rel),
    part: p,
    depth,
    within: { request: dir, rel },
  });
  ctx.buckets.add('structure', inside('', -1, 'other'));
  for (const e of entries) {
    if (e.name === 'artifact' && e.dir && !e.symlink && part === 'deps') {
      // -Zbindeps: deps/artifact/<pkg>-<META>/<kind>/…
      ctx.buckets.add('structure', inside('artifact', -1, 'other'));
      for (const a of list(path.join(dir, e.name), ctx.problems) ?? []) {
        const m = LEGACY_DIR.exec(a.name);
        const rel = `artifact/${a.name}`;
        if (m && a.dir && (!ctx.only || ctx.only.has(m[1] ?? ''))) ctx.units.add('legacy', m[1] ?? null, m[2] ?? '', inside(rel, 0, 'artifact'));
        else if (!ctx.only) ctx.buckets.add(otherBucket, inside(rel, 0, 'other'));
      }
      continue;
    }
    const m = HASHED_FILE.exec(e.name);
    // A partial plan takes only files of units it already knows from their `.fingerprint` folders.
    if (ctx.only && !(m && ctx.units.has('legacy', m[2] ?? ''))) continue;
    if (m && !e.dir) ctx.units.add('legacy', null, m[2] ?? '', inside(e.name, 0));
    else ctx.buckets.add(otherBucket, inside(e.name, 0, 'other'));
  }
}

interface ProfileContext {
  /** Plan only these packages (a partial refresh); null plans everything. */
  readonly only: ReadonlySet<string> | null;
  readonly units: UnitSet;
  readonly buckets: Buckets;
  readonly shared: PlannedPath[];
  readonly problems: Problems;
}

/** What one pass over a profile folder's entries finds; planProfile and planProfileShell both read it. */
interface ProfileEntries {
  readonly units: UnitSet;
  readonly buckets: Buckets;
  readonly shared: PlannedPath[];
  readonly incremental: IncrementalPlan[];
  readonly layouts: Set<Layout>;
  readonly locks: string[];
  readonly listings: { build: string[] | null; fingerprint: string[] | null; incremental: string[] | null };
}

/**
 * The one pass over a profile folder. `shell` plans the folder's own entries only: no unit, nothing inside
 * `build/` (whose names are listed when `listBuild`), the incremental and `.fingerprint` leftovers as buckets.
 * Otherwise everything is planned, restricted to the packages in `only` when it is given.
 */
function planProfileEntries(
  dir: string,
  role: 'build-dir' | 'target-dir' | 'both',
  problems: Problems,
  only: ReadonlySet<string> | null,
  shell: boolean,
  listBuild: boolean,
): ProfileEntries {
  const units = new UnitSet();
  const buckets = new Buckets();
  const shared: PlannedPath[] = [];
  const ctx: ProfileContext = { only, units, buckets, shared, problems };
  const incremental: IncrementalPlan[] = [];
  const layouts = new Set<Layout>();
  const locks: string[] = [];
  const listings: ProfileEntries['listings'] = { build: null, fingerprint: null, incremental: null };
  buckets.add('structure', own(dir));
  for (const e of list(dir, problems) ?? []) {
    const p = path.join(dir, e.name);
    if (e.symlink) {
      noteSymlink(p, problems);
      buckets.add('unknown', whole(p));
      continue;
    }
    if (LOCK_FILES.has(e.name) && !e.dir) {
      locks.push(e.name);
      buckets.add('locks', whole(p));
    } else if (e.name === '.fingerprint' && e.dir) {
      layouts.add('legacy');
      buckets.add('structure', own(p));
      const children = list(p, problems) ?? [];
      listings.fingerprint = children.map((f) => f.name);
      for (const f of children) {
        const m = LEGACY_DIR.exec(f.name);
        if (only && !(m && only.has(m[1] ?? ''))) continue;
        if (m && f.dir && !f.symlink) {
          if (!shell) units.add('legacy', m[1] ?? null, m[2] ?? '', { path: child(p, f.name), part: 'fingerprint', depth: 1 });
        } else buckets.add('legacy-other', whole(child(p, f.name)));
      }
    } else if (e.name === 'deps' && e.dir) {
      layouts.add('legacy');
      planFlatOutputs(p, 'deps', ctx, 'legacy-other');
    } else if (e.name === 'examples' && e.dir) {
      // Hashed examples are legacy unit outputs; unhashed ones are uplifted copies (same-folder case).
      planFlatOutputs(p, 'examples', ctx, 'uplifted');
    } else if (e.name === 'build' && e.dir) {
      buckets.add('structure', own(p));
      if (!shell) planBuildFolder(p, units, buckets, layouts, problems, only);
      else if (listBuild) listings.build = (list(p, problems) ?? []).map((c) => c.name);
    } else if (e.name === 'incremental' && e.dir) {
      buckets.add('structure', own(p));
      const children = list(p, problems) ?? [];
      listings.incremental = children.map((c) => c.name);
      for (const c of children) {
        const m = parseIncrementalDirName(c.name);
        if (only && !(m && (only.has(m.crate) || only.has(m.crate.replace(/_/g, '-'))))) continue;
        if (m && c.dir && !c.symlink) {
          if (!shell) incremental.push({ crate: m.crate, path: child(p, c.name) });
        } else buckets.add('unknown', whole(child(p, c.name)));
      }
    } else if (e.name === 'tmp' && e.dir) {
      buckets.add('tmp', whole(p));
    } else if (!e.dir) {
      // Uplifted artifacts (`app`, `libutil.rlib`, `*.d`) when the build dir is also the target dir.
      buckets.add(role === 'build-dir' ? 'unknown' : 'uplifted', whole(p));
    } else {
      buckets.add('unknown', whole(p));
    }
  }
  return { units, buckets, shared, incremental, layouts, locks, listings };
}

function planProfile(
  dir: string,
  name: string,
  platform: string | null,
  role: 'build-dir' | 'target-dir' | 'both',
  problems: Problems,
  only: ReadonlySet<string> | null = null,
): ProfilePlan {
  const e = planProfileEntries(dir, role, problems, only, false, false);
  return {
    name,
    platform,
    path: dir,
    layouts: [...e.layouts].sort(),
    units: e.units.result(),
    incremental: e.incremental,
    // A partial plan measures units only: what else is in the folder did not change with them.
    buckets: only ? [] : e.buckets.result(),
    locks: e.locks.sort(),
    shared: e.shared,
  };
}

function planBuildFolder(dir: string, units: UnitSet, buckets: Buckets, layouts: Set<Layout>, problems: Problems, only: ReadonlySet<string> | null): void {
  for (const e of list(dir, problems) ?? []) {
    const p = child(dir, e.name);
    if (only && !only.has(e.name) && !only.has(LEGACY_DIR.exec(e.name)?.[1] ?? '')) continue;
    if (!e.dir || e.symlink) {
      if (e.symlink) noteSymlink(p, problems);
      buckets.add('unknown', whole(p));
      continue;
    }
    const children = list(p, problems);
    if (children === null) continue;
    // Decide by the children, not the name: a v2 package could be called `foo-0123456789abcdef` (§2.5).
    const hashDirs = children.filter((c) => c.dir && !c.symlink && HASH16.test(c.name));
    const legacy = LEGACY_DIR.exec(e.name);
    if (legacy && (hashDirs.length === 0 || children.some((c) => LEGACY_BUILD_CHILDREN.test(c.name)))) {
      layouts.add('legacy');
      units.add('legacy', legacy[1] ?? null, legacy[2] ?? '', { path: p, part: 'build', depth: 2 });
      continue;
    }
    buckets.add('structure', own(p));
    for (const c of children) {
      if (c.dir && !c.symlink && HASH16.test(c.name)) {
        layouts.add('v2');
        units.addV2(e.name, c.name, p);
      } else {
        const cp = child(p, c.name);
        if (c.symlink) noteSymlink(cp, problems);
        buckets.add('unknown', whole(cp));
      }
    }
  }
}

/** A build dir written by cargo holds no symlinks: one is worth telling, and is never followed. */
function noteSymlink(p: string, problems: Problems): void {
  let target = '';
  try {
    target = fs.readlinkSync(p);
  } catch {
    // Gone already: the note without its target is still true.
  }
  problems.push({ path: p, message: `is a symbolic link${target ? ` to ${target}` : ''}: counted as the link itself, never followed` });
}

/**
 * A plan of one profile folder restricted to some packages: their units (both layouts) and the incremental
 * folders of their crates, no buckets. What a partial refresh re-measures after cargo touched those packages.
 */
export function planPackages(profileDir: string, name: string, platform: string | null, role: 'build-dir' | 'target-dir' | 'both', packages: ReadonlySet<string>): ProfilePlan & { problems: readonly { path: string; message: string }[] } {
  const problems: Problems = [];
  const plan = planProfile(profileDir, name, platform, role, problems, packages);
  return { ...plan, problems };
}

/** Plan a build dir: profiles (host and `<triple>/`), their units, incremental data and buckets. */
export function planBuildDir(dir: string, role: 'build-dir' | 'target-dir' | 'both'): BuildDirPlan {
  const problems: Problems = [];
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
    noteListing(dir, st);
  } catch (e) {
    noteListing(dir, null);
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'ENOENT') problems.push({ path: dir, message: describeFsError(code) });
    return { path: dir, exists: false, profiles: [], buckets: [], problems };
  }
  if (!st.isDirectory()) {
    problems.push({ path: dir, message: st.isSymbolicLink() ? 'is a symbolic link: give the real folder' : 'is not a folder' });
    return { path: dir, exists: false, profiles: [], buckets: [], problems };
  }
  // Each profile is planned when it is met, so that problems come in the order of the folders.
  const root = planRoot(dir, problems, (p, name, platform) => planProfile(p, name, platform, role, problems));
  return { path: dir, exists: true, profiles: root.profiles, buckets: root.buckets, problems };
}

/**
 * The one pass over a build dir's root: its buckets, and each profile folder (host `<profile>/` and
 * `<triple>/<profile>/`) handed to `profile` as it is met. Profiles come back sorted by platform and name.
 */
function planRoot<T extends { readonly name: string; readonly platform: string | null }>(
  dir: string,
  problems: Problems,
  profile: (path: string, name: string, platform: string | null) => T,
): { buckets: BucketPlan[]; profiles: T[] } {
  const profiles: T[] = [];
  const buckets = new Buckets();
  buckets.add('structure', own(dir));
  for (const e of list(dir, problems) ?? []) {
    const p = path.join(dir, e.name);
    if (!e.dir || e.symlink) {
      if (e.symlink) noteSymlink(p, problems);
      buckets.add(ROOT_METADATA_FILES.has(e.name) ? 'cargo-metadata' : 'unknown', whole(p));
      continue;
    }
    const fixed = ROOT_BUCKET_DIRS.get(e.name);
    if (fixed) {
      buckets.add(fixed, whole(p));
      continue;
    }
    if (isProfileDir(p, problems)) {
      profiles.push(profile(p, e.name, null));
      continue;
    }
    // `<triple>/` (or a custom target name): holds profile folders, and `tmp/` / `doc/` of that target.
    const children = list(p, problems) ?? [];
    const profileChildren = children.filter((c) => c.dir && !c.symlink && isProfileDir(path.join(p, c.name), problems));
    if (profileChildren.length === 0) {
      buckets.add('unknown', whole(p));
      continue;
    }
    buckets.add('structure', own(p));
    for (const c of children) {
      const cp = path.join(p, c.name);
      if (profileChildren.includes(c)) profiles.push(profile(cp, c.name, e.name));
      else if (!c.dir && ROOT_METADATA_FILES.has(c.name)) buckets.add('cargo-metadata', whole(cp));
      else buckets.add((c.dir && ROOT_BUCKET_DIRS.get(c.name)) || 'unknown', whole(cp));
    }
  }
  profiles.sort((a, b) => ((a.platform ?? '') + '/' + a.name < (b.platform ?? '') + '/' + b.name ? -1 : 1));
  return { buckets: buckets.result(), profiles };
}


export interface OutlineProfile {
  readonly name: string;
  readonly platform: string | null;
  readonly path: string;
  /** Package names, from folder names alone (a legacy `build/<pkg>-<META>` gives `<pkg>`). */
  readonly packages: readonly string[];
}

/**
 * The first level of the tree — profiles and package names — from a handful of readdirs, whatever the size of
 * the build dir: the root, each profile folder, and the names in `build/` and `.fingerprint/` (never inside).
 */
export function outlineBuildDir(dir: string): OutlineProfile[] {
  const problems: Problems = [];
  const out: OutlineProfile[] = [];
  const profile = (p: string, name: string, platform: string | null, entries: Dirent[]): void => {
    const names = new Set<string>();
    for (const e of entries) {
      if (!e.dir || e.symlink) continue;
      if (e.name === 'build' || e.name === '.fingerprint') {
        for (const c of list(path.join(p, e.name), problems) ?? []) {
          if (!c.dir || c.symlink) continue;
          const m = LEGACY_DIR.exec(c.name);
          names.add(m ? (m[1] ?? c.name) : c.name);
        }
      }
    }
    out.push({ name, platform, path: p, packages: [...names].sort() });
  };
  const isProfile = (entries: Dirent[]): boolean => entries.some((e) => PROFILE_MARKERS.has(e.name));
  for (const e of list(dir, problems) ?? []) {
    if (!e.dir || e.symlink || ROOT_BUCKET_DIRS.has(e.name)) continue;
    const p = path.join(dir, e.name);
    const entries = list(p, problems) ?? [];
    if (isProfile(entries)) {
      profile(p, e.name, null, entries);
      continue;
    }
    for (const c of entries) {
      if (!c.dir || c.symlink) continue;
      const cp = path.join(p, c.name);
      const ce = list(cp, problems) ?? [];
      if (isProfile(ce)) profile(cp, c.name, e.name, ce);
    }
  }
  return out.sort((a, b) => ((a.platform ?? '') + '/' + a.name < (b.platform ?? '') + '/' + b.name ? -1 : 1));
}

// ------------------------------------------------------------------------------------------------------------
// Lock files (reference §8): which files guard a `[<triple>/]<profile>` folder, and what proves that a folder
// really is one of cargo's before anything in it may be deleted.

export type CargoLockName = '.cargo-build-lock' | '.cargo-lock' | '.cargo-artifact-lock';

export interface CargoLockFile {
  readonly path: string;
  readonly name: CargoLockName;
  /** Which cargo versions this lock stops, in words (shown when it is busy). */
  readonly guards: string;
}

/**
 * The locks a cleaner holds exclusively for one profile folder, in cargo's order: the build-dir's
 * `.cargo-build-lock` (every cargo ≥ 1.96, fine-grain locking included), the target-dir's `.cargo-lock`
 * (cargo ≤ 1.95 exclusively, ≥ 1.96 through its shared lock) and, when the build dir is separate, its own
 * `.cargo-lock` (cargo ≤ 1.95). `.cargo-artifact-lock` is not needed: a cleaner of units never touches uplifted
 * files. Cargo creates missing lock files when it opens them, and so does the cleaner: a lock file that a later
 * cargo would create is a lock that cargo would take without seeing ours.
 */
export function cargoLockFiles(buildDir: string, targetDir: string | null, profileRel: string): CargoLockFile[] {
  const inBuild = path.join(buildDir, profileRel);
  const files: CargoLockFile[] = [
    { path: path.join(inBuild, '.cargo-build-lock'), name: '.cargo-build-lock', guards: 'cargo 1.96 and later' },
  ];
  const separate = targetDir !== null && path.resolve(targetDir) !== path.resolve(buildDir);
  if (separate) {
    files.push({ path: path.join(targetDir, profileRel, '.cargo-lock'), name: '.cargo-lock', guards: 'every cargo (target dir)' });
    files.push({ path: path.join(inBuild, '.cargo-lock'), name: '.cargo-lock', guards: 'cargo 1.95 and earlier (separate build dir)' });
  } else {
    files.push({ path: path.join(inBuild, '.cargo-lock'), name: '.cargo-lock', guards: 'every cargo' });
  }
  return files;
}

/**
 * Null when `profileDir` (inside `buildDir`) carries the marks only cargo leaves — a cargo lock file in the
 * profile folder and `.rustc_info.json` or `CACHEDIR.TAG` at the root — else why not, in words. Folder names
 * alone (`debug/build/…`) are not enough to delete anything.
 */
export function cargoMarkersMissing(buildDir: string, profileDir: string): string | null {
  const problems: Problems = [];
  const root = list(buildDir, problems);
  if (root === null) return `${buildDir} cannot be listed`;
  if (!root.some((e) => !e.dir && !e.symlink && (e.name === '.rustc_info.json' || e.name === 'CACHEDIR.TAG'))) {
    return `${buildDir} has neither .rustc_info.json nor CACHEDIR.TAG: it does not look like a folder cargo wrote`;
  }
  const prof = list(profileDir, problems);
  if (prof === null) return `${profileDir} cannot be listed`;
  if (!prof.some((e) => !e.dir && !e.symlink && LOCK_FILES.has(e.name))) {
    return `${profileDir} holds none of cargo's lock files (${[...LOCK_FILES].join(', ')}): cargo never built there`;
  }
  return null;
}

export const __test = { HASHED_FILE, LEGACY_DIR };

// ------------------------------------------------------------------------------------------------------------
// Refreshes (src/core/refresh.ts): which part of a profile folder a changed path belongs to, and plans of the
// parts a refresh re-reads — the profile folder's own entries, the `build/<x>` entries of a few packages, the
// build dir's root — without planning the rest. Each mirrors what planProfile / planBuildDir would plan for
// the same entries, so that a refreshed model equals a full scan.

/** What a path inside a profile folder belongs to, from its shape alone. */
export type ProfileRegion =
  /** Inside `build/<x>` or `.fingerprint/<pkg>-<hash>`: every package the name can stand for. */
  | { readonly kind: 'package'; readonly packages: readonly string[] }
  /** Inside `incremental/<crate>-<id>`. */
  | { readonly kind: 'crate'; readonly crate: string }
  /** Inside a flat legacy folder (`deps/`, `examples/`), shared by many units; `hash` when a unit's file. */
  | { readonly kind: 'flat'; readonly hash: string | null }
  /** The profile folder's own entries: uplifted files, locks, the special folders themselves, leftovers. */
  | { readonly kind: 'shell' };

function relSegments(base: string, p: string): string[] | null {
  // Called for every path of an event burst and every folder of a model: a prefix test, not path.relative.
  if (p === base) return [];
  const prefix = base.endsWith(path.sep) ? base : base + path.sep;
  return p.startsWith(prefix) ? p.slice(prefix.length).split(path.sep).filter((s) => s !== '') : null;
}

/** The region of `p` in the profile folder `profileDir`, or null when `p` is outside it. */
export function profileRegion(profileDir: string, p: string): ProfileRegion | null {
  const s = relSegments(profileDir, p);
  if (s === null) return null;
  const [top, child] = s;
  if (top === undefined || child === undefined) return { kind: 'shell' };
  if (top === 'build') {
    const legacy = LEGACY_DIR.exec(child)?.[1];
    return { kind: 'package', packages: legacy ? [child, legacy] : [child] };
  }
  if (top === '.fingerprint') {
    const legacy = LEGACY_DIR.exec(child)?.[1];
    return legacy ? { kind: 'package', packages: [legacy] } : { kind: 'shell' };
  }
  if (top === 'incremental') {
    const m = parseIncrementalDirName(child);
    return m ? { kind: 'crate', crate: m.crate } : { kind: 'shell' };
  }
  if (top === 'deps' || top === 'examples') return { kind: 'flat', hash: HASHED_FILE.exec(child)?.[2] ?? null };
  return { kind: 'shell' };
}

/** For a bucket path inside `build/<x>` (a package folder's own entry, a leftover in it): `x`; else null. */
export function buildEntryOf(profileDir: string, p: string): string | null {
  const s = relSegments(profileDir, p);
  return s !== null && s[0] === 'build' && s[1] !== undefined ? s[1] : null;
}

/** Does the `build/` entry `entry` belong to one of `packages`, as a partial plan decides it? */
export function buildEntryMatches(entry: string, packages: ReadonlySet<string>): boolean {
  return packages.has(entry) || packages.has(LEGACY_DIR.exec(entry)?.[1] ?? '');
}

/** Does an incremental crate folder belong to one of `names`, as a partial plan decides it? */
export function crateMatches(crate: string, names: ReadonlySet<string>): boolean {
  return names.has(crate) || names.has(crate.replace(/_/g, '-'));
}

/**
 * What a folder of a profile is for a watcher: `build/`, `.fingerprint/`, `incremental/` (their entries are
 * units, packages and crates), or a v2 package folder `build/<pkg>` (its entries are units); null otherwise.
 */
export function watchedFolderKind(profileDir: string, p: string): 'build' | 'fingerprint' | 'incremental' | 'package' | null {
  const s = relSegments(profileDir, p);
  if (s === null) return null;
  if (s.length === 1) return s[0] === 'build' ? 'build' : s[0] === '.fingerprint' ? 'fingerprint' : s[0] === 'incremental' ? 'incremental' : null;
  return s.length === 2 && s[0] === 'build' ? 'package' : null;
}

/** The bucket paths of the `build/<x>` entries of these packages (v2 folders' own entries, leftovers in them). */
export function planPackageBuckets(profileDir: string, packages: ReadonlySet<string>): { buckets: BucketPlan[]; problems: { path: string; message: string }[] } {
  const problems: Problems = [];
  const buckets = new Buckets();
  const build = path.join(profileDir, 'build');
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(build, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) planBuildFolder(build, new UnitSet(), buckets, new Set(), problems, packages);
  return { buckets: buckets.result(), problems };
}

export interface ProfileShellPlan {
  /** Buckets of the profile folder's own entries (never a `build/<x>` entry). */
  readonly buckets: readonly BucketPlan[];
  /** Flat legacy folders walked once for the bucket paths inside them. */
  readonly shared: readonly PlannedPath[];
  readonly locks: readonly string[];
  /** `.fingerprint/` or `deps/` is present: the folder holds legacy units. */
  readonly legacy: boolean;
  /** Entry names of `build/` (when asked for), `.fingerprint/`, `incremental/` (null when absent), to compare with a model. */
  readonly listings: { readonly build: readonly string[] | null; readonly fingerprint: readonly string[] | null; readonly incremental: readonly string[] | null };
  readonly problems: readonly { path: string; message: string }[];
}

/** The profile folder's own entries, planned as planProfile plans them, with no unit and no `build/<x>`. */
export function planProfileShell(dir: string, role: 'build-dir' | 'target-dir' | 'both', listBuild = false): ProfileShellPlan {
  const problems: Problems = [];
  const e = planProfileEntries(dir, role, problems, null, true, listBuild);
  // Without `build/` planned, only `.fingerprint/` and `deps/` mark the folder as legacy.
  const legacy = e.layouts.has('legacy');
  return { buckets: e.buckets.result(), shared: e.shared, locks: e.locks.sort(), legacy, listings: e.listings, problems };
}


/** A full plan of one profile folder (one that appeared since the last scan). */
export function planProfileFolder(dir: string, name: string, platform: string | null, role: 'build-dir' | 'target-dir' | 'both'): ProfilePlan & { problems: readonly { path: string; message: string }[] } {
  const problems: Problems = [];
  const plan = planProfile(dir, name, platform, role, problems);
  return { ...plan, problems };
}

export interface BuildDirShellPlan {
  readonly exists: boolean;
  /** Root buckets, as planBuildDir plans them. */
  readonly buckets: readonly BucketPlan[];
  /** Profile folders found (not planned), sorted as planBuildDir sorts them. */
  readonly profiles: readonly { readonly name: string; readonly platform: string | null; readonly path: string }[];
  readonly problems: readonly { path: string; message: string }[];
}

/** The build dir's root: its buckets and where its profile folders are, without planning them. */
export function planBuildDirShell(dir: string): BuildDirShellPlan {
  const problems: Problems = [];
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  // Missing, unreadable, or not a folder: only a full plan says which, and a refresh falls back to one.
  if (!st?.isDirectory()) return { exists: false, buckets: [], profiles: [], problems };
  const root = planRoot(dir, problems, (p, name, platform) => ({ name, platform, path: p }));
  return { exists: true, buckets: root.buckets, profiles: root.profiles, problems };
}


/**
 * The crate names an uplifted file can stand for (`libutil.rlib` → util, `app`/`app.d` → app, `libfoo.d` →
 * foo or libfoo): a hard link whose other end is not known yet is looked for among the units of those crates.
 */
export function upliftedCrates(fileName: string): string[] {
  const m = /^(.*?)(\.(rlib|rmeta|so|dylib|dll|a|lib|d|pdb|exe|wasm|js))?$/.exec(fileName);
  const stem = m?.[1] ?? fileName;
  if (stem === '') return [];
  const ext = m?.[3];
  const crate = (s: string) => s.replace(/-/g, '_');
  if (ext && /^(rlib|rmeta|so|dylib|a)$/.test(ext) && stem.startsWith('lib')) return [crate(stem.slice(3))];
  return stem.startsWith('lib') && stem.length > 3 ? [crate(stem), crate(stem.slice(3))] : [crate(stem)];
}
