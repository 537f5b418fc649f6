// Turns build-dir locations into the model (model.ts). Two passes: (1) layout.ts plans the tree from folder
// names alone — this is the "outline", available before any size is known; (2) the walker measures every
// planned path and, in the same walk, reads the few small files each unit needs (hash file, fingerprint JSON,
// first line of rustc's `.d`) through inline rules. Units are walked and digested a chunk at a time, the walker
// measuring the next chunk while this one is decoded, and what outlives a chunk is one compact Unit and one
// Measure per unit: memory follows the number of units, never the number of files. Units are settled a package
// at a time; a streamed scan (a ScanSink) hands them out then and keeps none. Decoding is pure.

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type {
  Bucket,
  BuildDir,
  Discovery,
  IncrementalCrate,
  IncrementalSession,
  PackageSource,
  PackageSummary,
  Profile,
  ScanProblem,
  ScanResult,
  Unit,
  UnitKind,
  UnitMode,
  UnitPart,
} from './model';
import type { InlineFile, InlineRule, ReadRequest, ReadResult, WalkEntry, WalkLink, WalkRequest, WalkResult, Walker } from './walk';
import { planBuildDir, outlineBuildDir, describeFsError, isUnitFolder, V2_UNIT_DEPTH, type IncrementalPlan, type PlannedPath, type ProfilePlan, type UnitPlan } from './layout';
import { parseDebugStringList, parseFingerprintFileName, parseFingerprintJson, parseHashFile } from './fingerprint';
import { packageOrigin, parseRustcDepInfoLine } from './rustcdep';
import { parseSessionName } from './incremental';
import { leHex, scanFingerprint, type FingerprintMemo } from './fingerprint-scan';

export interface BuildDirLocationLike {
  readonly path: string;
  readonly role: 'build-dir' | 'target-dir' | 'both';
  readonly discovery: Discovery;
}

export interface ScanOptions {
  readonly walker: Walker;
  /** Workspace members (from `cargo metadata`): their version is known without reading `.d` files. */
  readonly members?: readonly { readonly name: string; readonly version: string; readonly procMacro?: boolean }[];
  readonly workspaceRoot?: string | null;
  /** Called once the outline (profiles and package names) is known, before sizes are measured. */
  readonly onOutline?: (outline: Outline) => void;
  /** Units decoded by earlier scans, reused when their folder's walk answers the same (see `UnitMemo`). */
  readonly memo?: UnitMemo;
}

/**
 * Where a scan keeps what it decoded of each v2 unit, and finds it again. A unit folder's decoding depends on
 * its walk answer alone (sizes, times, names and the small files read inline) and on what the caller fixes for
 * the whole scan (workspace members, this code). A record is kept with the key of the answer it was made of;
 * the next scan sends that key with the folder's walk, and when the walker answers "same" the record stands
 * for the unit, which is then neither read nor decoded again. The store is the caller's; it must hold records
 * for one context only (members, code version).
 */
export interface UnitMemo {
  /**
   * Optional: the first `n` unit folders the last scan walked, in its order, to walk while this scan plans
   * (called before `begin`; their walks are keyed with `key`, which must already answer).
   */
  first?(n: number): Promise<readonly string[]>;
  /** Called once with the number of v2 unit folders to walk; false: do not use the memo for this scan. */
  begin(units: number): boolean | Promise<boolean>;
  /** The key of the walk answer the record kept for a unit folder was made of. */
  key(path: string): string | undefined;
  /** The record kept for a unit folder (or another entry of the scan's own); undefined when there is none. */
  record(path: string): unknown;
  /** The bytes of the text put with the entry at `path`, if any. */
  blob(path: string): Uint8Array | undefined;
  /** The entry at `path` is still true: keep it as it is. */
  keep(path: string): void;
  /** A new or changed entry, with a text kept as bytes beside its record. Entries neither kept nor put are dropped. */
  put(path: string, key: string, record: unknown, blob?: string): void;
}

export interface Outline {
  readonly buildDirs: readonly {
    readonly path: string;
    readonly profiles: readonly { readonly name: string; readonly platform: string | null; readonly packages: readonly string[] }[];
  }[];
}

const MAX_JSON = 4 << 20;
/** Hash files hold 16 hex digits; a little more shows what is wrong with a corrupt one. */
const MAX_HASH = 64;
/** The first sources of a `.d` line are enough to see the package's folder (`<name>-<version>/`). */
const MAX_DEP_LINE = 16 << 10;

// What each kind of planned path reads in its walk: the hash file and its JSON twin (never the binary dep-info,
// the cached compiler output or the timestamp), and the first line of rustc's `.d` files.
const FINGERPRINT_SKIPS = ['dep-*', 'output-*', 'invoked.timestamp'];
const fingerprintRules = (dir: string): InlineRule[] => [
  ...FINGERPRINT_SKIPS.map((g) => ({ glob: dir + g, maxBytes: 0, skip: true })),
  { glob: `${dir}*.json`, maxBytes: MAX_JSON },
  { glob: `${dir}*`, maxBytes: MAX_HASH },
];
const DEP_LINE_RULE = (glob: string): InlineRule => ({ glob, maxBytes: MAX_DEP_LINE, firstLine: true });
/** v2 `build/<pkg>/<hash>/`. */
const V2_UNIT_RULES: readonly InlineRule[] = [...fingerprintRules('fingerprint/'), DEP_LINE_RULE('out/*.d')];
/** Legacy `.fingerprint/<pkg>-<META>/`. */
const LEGACY_FINGERPRINT_RULES: readonly InlineRule[] = fingerprintRules('');
/** Legacy `build/<pkg>-<META>/` (a build-script compile keeps its `.d` there) and the shared `deps/` folder. */
const DEP_LINE_RULES: readonly InlineRule[] = [DEP_LINE_RULE('*.d')];

function rulesFor(p: PlannedPath, layout: 'v2' | 'legacy' | null): readonly InlineRule[] | undefined {
  if (layout === 'v2') return V2_UNIT_RULES;
  if (layout === 'legacy') return p.part === 'fingerprint' ? LEGACY_FINGERPRINT_RULES : p.part === 'build' ? DEP_LINE_RULES : undefined;
  return path.basename(p.path) === 'deps' && p.depth > 0 ? DEP_LINE_RULES : undefined;
}

export function profileId(buildDir: string, platform: string | null, name: string): string {
  return `${buildDir}#${platform ?? 'host'}/${name}`;
}

export function unitId(profile: string, pkg: string, hash: string, layout: 'v2' | 'legacy'): string {
  return idOfKey(profile, pkg, unitKey(hash, layout));
}

/** A unit's id without its profile and package: a v2 unit's is its hash, the same string. */
function unitKey(hash: string, layout: 'v2' | 'legacy'): string {
  // In a mixed folder the same toolchain gives the same hash in both layouts (§2.5): keep the ids apart.
  return layout === 'legacy' ? `${hash}~legacy` : hash;
}

const idOfKey = (profile: string, pkg: string, key: string): string => `${profile}/${pkg}/${key}`;

/** A planned path's size with multi-link files set apart, so that any union can count each inode once. */
interface Measure {
  readonly bytes: number;
  readonly links: readonly LinkRef[];
}

interface LinkRef {
  readonly key: string;
  readonly nlink: number;
  readonly size: number;
  /** Absolute path of this link: two links of one inode inside a set count as two of its `nlink`. */
  readonly path: string;
}

const NO_LINKS: readonly LinkRef[] = [];
const NO_MEASURE: Measure = { bytes: 0, links: NO_LINKS };

/** `du -sb` of a union of measures, and what deleting all of it would free. */
function union(measures: Iterable<Measure>): { bytes: number; freed: number } {
  let bytes = 0;
  let links: Map<string, { size: number; nlink: number; paths: Set<string> }> | null = null;
  for (const m of measures) {
    bytes += m.bytes;
    if (m.links.length === 0) continue;
    links ??= new Map();
    for (const l of m.links) {
      let a = links.get(l.key);
      if (!a) links.set(l.key, (a = { size: l.size, nlink: l.nlink, paths: new Set() }));
      a.paths.add(l.path);
    }
  }
  let freed = bytes;
  if (links) {
    for (const l of links.values()) {
      bytes += l.size;
      if (l.paths.size >= l.nlink) freed += l.size;
    }
  }
  return { bytes, freed };
}

/**
 * Measures gathered for a union, folded as they come: the bytes of those without multi-link files are summed
 * (a union adds them up anyway), the others are kept for the union to count each inode once.
 */
class MeasureSum {
  private plain = 0;
  private readonly linked: Measure[] = [];
  add(m: Measure): void {
    if (m.links.length === 0) this.plain += m.bytes;
    else this.linked.push(m);
  }
  addAll(other: MeasureSum): void {
    this.plain += other.plain;
    for (const m of other.linked) this.linked.push(m);
  }
  union(): { bytes: number; freed: number } {
    return union([{ bytes: this.plain, links: NO_LINKS }, ...this.linked]);
  }
}

function joinRel(base: string, rel: string): string {
  if (rel === '') return base;
  // Planned paths are already normalized, so a plain concatenation is path.join without its cost.
  return path.sep === '/' && !base.endsWith('/') ? `${base}/${rel}` : path.join(base, rel);
}

/**
 * Resolves planned paths to walk results. Results are walked in chunks and released once digested; what
 * outlives them is one Measure per planned path that is not a unit's (buckets, shared folders, incremental).
 */
class Accountant {
  private readonly index = new Map<string, number>();
  private readonly relMaps = new Map<number, Map<string, number>>();
  private readonly inlineMaps = new Map<number, Map<string, InlineFile>>();
  private readonly results = new Map<number, WalkResult>();
  private readonly measures = new Map<PlannedPath, Measure>();
  private readonly present = new Map<PlannedPath, boolean>();
  /** Requests something other than a bucket path reads from (a unit, a shared folder, a path within it). */
  private readonly pinned = new Set<string>();
  readonly requests: WalkRequest[] = [];

  constructor(
    private readonly walker: Walker,
    private readonly problems: ScanProblem[],
  ) {}

  /**
   * Plans the walk `p` needs. `pin`: something besides a bucket's measure reads the walk (a unit, a shared folder
   * units are cut out of), so that it is held until its profile ends; a path within a walk pins that walk.
   */
  plan(p: PlannedPath, layout: 'v2' | 'legacy' | null, pin: boolean): void {
    if (p.within) {
      this.pinned.add(p.within.request);
      return;
    }
    if (pin) this.pinned.add(p.path);
    if (this.index.has(p.path)) return;
    this.index.set(p.path, this.requests.length);
    const inline = rulesFor(p, layout);
    this.requests.push(inline ? { path: p.path, depth: p.depth, inline } : { path: p.path, depth: p.depth });
  }

  /**
   * Measures bucket paths once walked and lets go of walks that nothing else reads: at 1M entries, thousands of
   * folder lstats would otherwise wait for their profile's end. Their measures stay for the totals.
   */
  settleBuckets(paths: readonly PlannedPath[]): void {
    const free = paths.filter((p) => !p.within && !this.pinned.has(p.path));
    if (free.length) this.release(free, true);
  }

  private indexOf(p: PlannedPath): number | undefined {
    return this.index.get(p.within ? p.within.request : p.path);
  }

  /**
   * Walks what these paths need and is not walked yet, and `direct` requests the caller keeps track of itself,
   * as one batch (the walker parallelises inside it); returns the results of `direct`.
   */
  async walk(paths: readonly PlannedPath[], direct: readonly WalkRequest[] = []): Promise<WalkResult[]> {
    const todo: number[] = [];
    const seen = new Set<number>();
    for (const p of paths) {
      const i = this.indexOf(p);
      if (i === undefined || this.results.has(i) || seen.has(i)) continue;
      seen.add(i);
      todo.push(i);
    }
    if (todo.length === 0 && direct.length === 0) return [];
    const reqs = todo.map((i) => this.requests[i]!);
    const results = await this.walker.walk(direct.length ? [...reqs, ...direct] : reqs);
    const out: WalkResult[] = [];
    for (let k = 0; k < reqs.length + direct.length; k++) {
      const r = results[k] ?? { entries: [], links: [], errors: [] };
      if (k < reqs.length) this.results.set(todo[k]!, r);
      else out.push(r);
      const base = (k < reqs.length ? reqs[k]! : direct[k - reqs.length]!).path;
      for (const err of r.errors) {
        if (err.code === 'ENOENT') continue; // vanished mid-scan: cargo is writing; the next scan sees it
        this.problems.push({ path: err.rel === '' ? base : path.join(base, err.rel), message: describeFsError(err.code) });
      }
    }
    return out;
  }

  /** Forgets the walk results behind these paths. Measures are kept only for paths that were measured. */
  release(paths: readonly PlannedPath[], keepMeasures: boolean): void {
    for (const p of paths) {
      if (keepMeasures) {
        this.measureOf(p);
        this.exists(p);
      }
      const ri = this.indexOf(p);
      if (ri !== undefined) {
        this.results.delete(ri);
        this.relMaps.delete(ri);
        this.inlineMaps.delete(ri);
      }
    }
  }

  private relIndex(ri: number): Map<string, number> {
    let m = this.relMaps.get(ri);
    if (!m) {
      m = new Map();
      const es = this.results.get(ri)?.entries ?? [];
      for (let i = 0; i < es.length; i++) m.set(es[i]!.rel, i);
      this.relMaps.set(ri, m);
    }
    return m;
  }

  /** The content an inline rule read for `rel` of a held result (shared folders: looked up by many units). */
  inlineAt(ri: number, rel: string): InlineFile | undefined {
    let m = this.inlineMaps.get(ri);
    if (!m) {
      m = new Map();
      for (const f of this.results.get(ri)?.inline ?? []) m.set(f.rel, f);
      this.inlineMaps.set(ri, m);
    }
    return m.get(rel);
  }

  /** The walk result and relative path a planned path lives at (while its chunk is held). */
  locate(p: PlannedPath): { result: WalkResult; ri: number; rel: string } | null {
    const ri = this.indexOf(p);
    if (ri === undefined) return null;
    const result = this.results.get(ri);
    if (!result) return null;
    return { result, ri, rel: p.within ? p.within.rel : '' };
  }

  requestOf(ri: number): WalkRequest {
    return this.requests[ri]!;
  }

  /** Was anything found at this planned path? (False when it vanished before the walker got there.) */
  exists(p: PlannedPath): boolean {
    const known = this.present.get(p);
    if (known !== undefined) return known;
    const at = this.locate(p);
    const found = at !== null && (at.rel === '' ? at.result.entries.length > 0 : this.entry(at.ri, at.rel) !== undefined);
    if (at) this.present.set(p, found);
    return found;
  }

  entry(ri: number, rel: string): WalkEntry | undefined {
    if (rel === '') return this.results.get(ri)?.entries[0];
    const i = this.relIndex(ri).get(rel);
    return i === undefined ? undefined : this.results.get(ri)?.entries[i];
  }

  /** The measure of a planned path, computed while its result is held (and kept for later when asked to). */
  measureOf(p: PlannedPath, keep = true): Measure {
    const known = this.measures.get(p);
    if (known) return known;
    const at = this.locate(p);
    if (!at) return NO_MEASURE;
    const { result, ri, rel } = at;
    const e = this.entry(ri, rel);
    let m: Measure = NO_MEASURE;
    if (e) {
      if (p.within !== undefined && p.depth === -1) {
        m = { bytes: ownBytes(result, rel, e), links: NO_LINKS };
      } else {
        const base = p.within ? p.within.request : p.path;
        m = { bytes: e.bytes, links: linksUnder(result.links, base, rel) };
      }
    }
    if (keep) this.measures.set(p, m);
    return m;
  }

  /** `du -sb` of a set of planned paths, and what deleting them would free. */
  measure(paths: readonly PlannedPath[]): { bytes: number; freed: number } {
    return union(paths.map((p) => this.measureOf(p)));
  }
}

function linksUnder(all: readonly WalkLink[], base: string, rel: string): readonly LinkRef[] {
  if (all.length === 0) return NO_LINKS;
  const links: LinkRef[] = [];
  for (const l of all) {
    if (rel !== '' && l.rel !== rel && !l.rel.startsWith(rel + '/')) continue;
    links.push({ key: l.key, nlink: l.nlink, size: l.size, path: joinRel(base, l.rel) });
  }
  return links.length ? links : NO_LINKS;
}

/** A directory's own size: its subtree minus the subtrees of its direct children (all listed at depth ≥ 1). */
function ownBytes(result: WalkResult, rel: string, e: WalkEntry): number {
  if (e.type !== 'd') return e.bytes;
  const prefix = rel === '' ? '' : rel + '/';
  let children = 0;
  for (const c of result.entries) {
    if (c === e || !c.rel.startsWith(prefix)) continue;
    const rest = c.rel.slice(prefix.length);
    if (rest === '' || rest.includes('/')) continue;
    children += c.bytes;
  }
  return e.bytes - children;
}

// ------------------------------------------------------------------------------------------------------------
// One unit's walk, digested

/** The files of one unit, whichever layout scattered them. */
interface UnitFiles {
  /** Fingerprint folder entries by name (hash files, JSON, dep-info, invoked.timestamp). */
  readonly fingerprint: Map<string, FileInfo>;
  readonly fingerprintDir: string | null;
  /** Compile outputs: v2 `out/` (non-run units), legacy `deps/` and `build/<pkg>-<META>/` files. */
  readonly outputs: FileInfo[];
  /** Build-script run files: stdout/output, stderr, root-output, invoked.timestamp. */
  readonly run: Map<string, FileInfo>;
}

interface FileInfo {
  readonly name: string;
  /** The walk request the file was listed in, and its rel there: the full path is made only when needed. */
  readonly base: string;
  readonly rel: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Content an inline rule read, with how it was read; null when the walk read nothing. */
  readonly content: ReadResult | null;
  readonly rule: InlineRule | null;
}

const filePath = (f: FileInfo): string => joinRel(f.base, f.rel);

/** The content an inline rule read, with the rule (which says how it was read). */
function contentOf(f: InlineFile | undefined, rules: readonly InlineRule[] | undefined): { content: ReadResult | null; rule: InlineRule | null } {
  const rule = f ? rules?.[f.rule] : undefined;
  return f && rule ? { content: f.content, rule } : NOT_READ;
}

const NOT_READ = { content: null, rule: null } as const;

function linkSize(links: readonly WalkLink[], e: WalkEntry): number {
  if (e.nlink > 1 && e.type === 'f') return links.find((l) => l.rel === e.rel)?.size ?? 0;
  return e.bytes;
}

const V2_PARTS = ['fingerprint', 'out', 'run', 'artifact'] as const;

/** A v2 unit folder's walk: everything the unit needs, from its one result, in one pass over the entries. */
function digestV2(u: UnitPlan, result: WalkResult, rules: readonly InlineRule[] | undefined): { files: UnitFiles; measure: Measure; parts: UnitPart[] } {
  const base = u.paths[0]!.path;
  const fingerprint = new Map<string, FileInfo>();
  const outputs: FileInfo[] = [];
  const run = new Map<string, FileInfo>();
  // Each read once: on an answer decoded on first look, every read is a call that V8 would otherwise inline here.
  const inline = result.inline;
  const walkLinks = result.links;
  const es = result.entries;
  let next = 0;
  let fingerprintDir: string | null = null;
  const present: (WalkEntry | undefined)[] = [undefined, undefined, undefined, undefined];
  for (let i = 1; i < es.length; i++) {
    const e = es[i]!;
    const rel = e.rel;
    const slash = rel.indexOf('/');
    if (slash < 0) {
      const k = (V2_PARTS as readonly string[]).indexOf(rel);
      if (k >= 0) present[k] = e;
      // The literal, not `rel`: a name cut from the walk answer would keep the whole answer alive with the unit.
      if (rel === 'fingerprint') fingerprintDir = joinRel(base, 'fingerprint');
      continue;
    }
    if (e.type === 'd' || rel.indexOf('/', slash + 1) >= 0) continue;
    const part = rel.slice(0, slash);
    const target = part === 'fingerprint' ? 1 : part === 'out' ? 2 : part === 'run' ? 3 : 0;
    if (target === 0) continue;
    // Inline files come in pre-order, like the entries: the next one is the one to look at.
    let got: InlineFile | undefined;
    if (inline && next < inline.length) {
      if (inline[next]!.rel === rel) got = inline[next++];
      else if (inline[next]!.rel < rel) got = inline.find((f) => f.rel === rel);
    }
    const name = rel.slice(slash + 1);
    const rule = got ? rules?.[got.rule] : undefined;
    const f: FileInfo = { name, base, rel, size: linkSize(walkLinks, e), mtimeMs: e.mtimeMs, content: got && rule ? got.content : null, rule: got && rule ? rule : null };
    if (target === 1) fingerprint.set(name, f);
    else if (target === 2) outputs.push(f);
    else run.set(name, f);
  }
  const links = linksUnder(walkLinks, base, '');
  // Sized once: a pushed array keeps room for 17 items, and the model keeps this one as long as the unit.
  let n = 0;
  for (const e of present) if (e) n++;
  const parts = new Array<UnitPart>(n);
  n = 0;
  for (let k = 0; k < V2_PARTS.length; k++) {
    const e = present[k];
    if (!e) continue;
    const name = V2_PARTS[k]!;
    let bytes = e.bytes;
    if (links.length) {
      const seen = new Set<string>();
      for (const l of walkLinks) {
        if ((l.rel === name || l.rel.startsWith(name + '/')) && !seen.has(l.key)) {
          seen.add(l.key);
          bytes += l.size;
        }
      }
    }
    parts[n++] = { name, path: joinRel(base, name), bytes };
  }
  return { files: { fingerprint, fingerprintDir, outputs, run }, measure: { bytes: es[0]!.bytes, links }, parts };
}

/** A legacy unit is scattered over several requests (its fingerprint folder, files in `deps/`, a build folder). */
function digestLegacy(u: UnitPlan, acc: Accountant): { files: UnitFiles; measure: Measure; parts: UnitPart[] } {
  const fingerprint = new Map<string, FileInfo>();
  const outputs: FileInfo[] = [];
  const run = new Map<string, FileInfo>();
  let fingerprintDir: string | null = null;
  const file = (result: WalkResult, ri: number, base: string, e: WalkEntry): FileInfo => {
    const got = result.inline ? acc.inlineAt(ri, e.rel) : undefined;
    const rel = e.rel;
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    return { name, base, rel, size: linkSize(result.links, e), mtimeMs: e.mtimeMs, ...contentOf(got, acc.requestOf(ri).inline) };
  };
  for (const p of u.paths) {
    const at = acc.locate(p);
    if (!at) continue;
    const { result, ri } = at;
    const base = p.within ? p.within.request : p.path;
    if (p.part === 'fingerprint') {
      fingerprintDir = p.path;
      for (const e of result.entries) if (e.rel !== '' && !e.rel.includes('/') && e.type !== 'd') fingerprint.set(e.rel, file(result, ri, base, e));
    } else if (p.part === 'build') {
      // Legacy build/<pkg>-<META>/: a build-script compile (binary + .d) or a run (output, out/ = OUT_DIR).
      for (const e of result.entries) {
        if (e.rel === '' || e.rel.includes('/') || e.type === 'd') continue;
        const f = file(result, ri, base, e);
        if (f.name === 'output' || f.name === 'stderr' || f.name === 'root-output' || f.name === 'invoked.timestamp') run.set(f.name === 'output' ? 'stdout' : f.name, f);
        else outputs.push(f);
      }
    } else if (p.within) {
      const e = acc.entry(ri, at.rel);
      if (e && e.type !== 'd') outputs.push(file(result, ri, base, e));
    }
  }
  const measures = u.paths.map((p) => acc.measureOf(p, false));
  const links = measures.flatMap((x) => x.links);
  return {
    files: { fingerprint, fingerprintDir, outputs, run },
    measure: { bytes: measures.reduce((n, x) => n + x.bytes, 0), links: links.length ? links : NO_LINKS },
    parts: u.paths.map((x, i) => ({ name: x.part, path: x.path, bytes: union([measures[i]!]).bytes })),
  };
}

const KIND_OF: Record<string, UnitKind> = {
  lib: 'lib',
  bin: 'bin',
  'integration-test': 'test',
  bench: 'bench',
  example: 'example',
  'build-script': 'build-script',
};

interface Identity {
  kind: UnitKind;
  mode: UnitMode;
  /** Mode set to `check` only because the outputs hold `.rmeta` alone (which a failed build also leaves). */
  checkFromOutputs: boolean;
  target: string | null;
  hashFile: FileInfo | null;
  jsonFile: FileInfo | null;
  names: string[];
}

const LINKED = /\.(rlib|so|dylib|dll|a|lib|wasm|exe)$/;
const HASHED_NAME = /-[0-9a-f]{16}$/;
const PROC_MACRO_LIB = /-[0-9a-f]{16}\.(so|dylib|dll)$/;

function identify(files: UnitFiles): Identity {
  const candidates: { name: string; kind: UnitKind; mode: UnitMode; target: string }[] = [];
  for (const name of files.fingerprint.keys()) {
    const n = parseFingerprintFileName(name);
    if (!n || n.prefix !== '' || n.json) continue;
    candidates.push({ name, kind: KIND_OF[n.targetKind] ?? 'unknown', mode: n.mode, target: n.target });
  }
  // A doc unit holds one hash file per documented target: show the lib first.
  candidates.sort((a, b) => (a.kind === 'lib' ? -1 : b.kind === 'lib' ? 1 : a.name < b.name ? -1 : 1));
  const first = candidates[0];
  if (!first) return { kind: 'unknown', mode: 'unknown', checkFromOutputs: false, target: null, hashFile: null, jsonFile: null, names: [] };
  let { kind, mode } = first;
  let checkFromOutputs = false;
  const outs = files.outputs;
  const has = (re: RegExp): boolean => outs.some((o) => re.test(o.name));
  if (mode === 'build' && kind !== 'build-script') {
    const linked = has(LINKED) || outs.some((o) => !o.name.includes('.') || HASHED_NAME.test(o.name));
    if (outs.some((o) => o.name.endsWith('.rmeta')) && !linked) {
      mode = 'check';
      checkFromOutputs = true;
    }
  }
  if (kind === 'lib' && has(PROC_MACRO_LIB) && !outs.some((o) => o.name.endsWith('.rlib'))) kind = 'proc-macro';
  return {
    kind,
    mode,
    checkFromOutputs,
    target: first.target,
    hashFile: files.fingerprint.get(first.name) ?? null,
    jsonFile: files.fingerprint.get(first.name + '.json') ?? null,
    names: [...files.fingerprint.keys()].sort(),
  };
}

function depFileFor(files: UnitFiles, hash: string): FileInfo | null {
  let first: FileInfo | null = null;
  const want = `-${hash}.d`;
  for (const o of files.outputs) {
    if (!o.name.endsWith('.d')) continue;
    if (o.name.endsWith(want)) return o;
    first ??= o;
  }
  return first;
}

function builtAt(files: UnitFiles, id: Identity): number | null {
  const t = files.fingerprint.get('invoked.timestamp') ?? files.run.get('invoked.timestamp') ?? id.hashFile;
  return t ? t.mtimeMs : null;
}

interface FingerprintFields {
  readonly features: string[];
  readonly featuresRaw: string;
  readonly rustc: string;
  readonly deps: { name: string; hashHex: string }[];
  readonly precalculated: string | null;
}

function parseFeatures(text: string): { features: string[] | null; featuresRaw: string; rustc: string | null; deps: { name: string; hashHex: string }[]; precalculated: string | null; problem: string | null } {
  const fast = fastFingerprint(text);
  if (fast) return { ...fast, problem: null };
  try {
    const f = parseFingerprintJson(text);
    let precalculated: string | null = null;
    for (const l of f.local as readonly unknown[]) {
      if (l && typeof l === 'object' && 'kind' in l && (l as { kind: unknown }).kind === 'Precalculated') {
        const v = (l as { value?: unknown }).value;
        if (typeof v === 'string') precalculated = v;
      }
    }
    return { features: [...f.features], featuresRaw: f.featuresRaw, rustc: f.rustc, deps: f.deps.map((d) => ({ name: d.name, hashHex: d.hashHex })), precalculated, problem: null };
  } catch (e) {
    return { features: null, featuresRaw: '', rustc: null, deps: [], precalculated: null, problem: `fingerprint JSON: ${(e as Error).message}` };
  }
}

// ------------------------------------------------------------------------------------------------------------
// The fingerprint JSON, fast path. One file per unit makes the lossless parser (fingerprint.ts) the largest cost
// of a scan; JSON.parse is several times faster once the big integers are quoted, which is what the lossless
// parser's output holds for them too. This path takes only what the scan needs, and only from a file of the
// exact shape cargo writes, checked as parseFingerprintJson checks it: anything else (an unknown field or local
// variant, a value of another type) returns null and goes through parseFingerprintJson, which is the reference
// and gives the error messages. A test holds the two equal on every fingerprint of the fixtures.

const FINGERPRINT_FIELDS = new Set(['rustc', 'features', 'declared_features', 'target', 'profile', 'path', 'deps', 'local', 'rustflags', 'config', 'compile_kind']);
const REQUIRED_FIELDS = ['rustc', 'features', 'target', 'profile', 'path', 'deps', 'local'];
/** A JSON string (skipped whole, so digits inside it are never touched), or an integer literal of 16 digits or more. */
const STRING_OR_LONG_INT = /"(?:[^"\\]|\\[\s\S])*"|-?\d{16,}(?![.eE\d])/g;
const U64_MAX_DEC = '18446744073709551615';

const quoteUnsafe = (m: string): string => (m.charCodeAt(0) === 34 || Number.isSafeInteger(Number(m)) ? m : `"${m}"`);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** fingerprint.ts's u64 rule (a safe integer, or the decimal string of a u64) as a decimal string; null otherwise. */
function u64Of(v: unknown): string | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
  if (typeof v !== 'string' || !/^[0-9]{1,20}$/.test(v)) return null;
  if (v.length > 1 && v.charCodeAt(0) === 48) {
    const big = BigInt(v);
    return big < 1n << 64n ? big.toString() : null;
  }
  return v.length < 20 || v <= U64_MAX_DEC ? v : null;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const k in o) if (!keys.includes(k)) return false;
  return true;
}

const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A Rust `Debug` list of plain strings as cargo writes it (`["a", "b"]`): no escape, no other spacing. */
const PLAIN_LIST = /^\[(?:"[^"\\]*"(?:, "[^"\\]*")*)?\]$/;

/** parseDebugStringList, without its character loop for the lists cargo writes (the same result for those). */
function debugList(text: string, where: string): string[] {
  if (text === '' || text === '[]') return [];
  if (PLAIN_LIST.test(text)) return text.slice(2, -2).split('", "');
  return parseDebugStringList(text, where);
}

function fastFingerprint(text: string): FingerprintFields | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(STRING_OR_LONG_INT, quoteUnsafe));
  } catch {
    return null;
  }
  if (!isRecord(doc)) return null;
  for (const k in doc) if (!FINGERPRINT_FIELDS.has(k)) return null;
  for (const k of REQUIRED_FIELDS) if (!Object.hasOwn(doc, k)) return null;
  const rustc = u64Of(doc['rustc']);
  if (rustc === null || u64Of(doc['target']) === null || u64Of(doc['profile']) === null || u64Of(doc['path']) === null) return null;
  if ((Object.hasOwn(doc, 'config') && u64Of(doc['config']) === null) || (Object.hasOwn(doc, 'compile_kind') && u64Of(doc['compile_kind']) === null)) return null;
  if (Object.hasOwn(doc, 'rustflags') && !isStringArray(doc['rustflags'])) return null;
  const featuresRaw = doc['features'];
  const declared = doc['declared_features'];
  if (typeof featuresRaw !== 'string' || (declared !== undefined && typeof declared !== 'string')) return null;
  let features: string[];
  try {
    features = debugList(featuresRaw, '`features`');
    if (declared !== undefined) debugList(declared, '`declared_features`');
  } catch {
    return null;
  }
  const deps = doc['deps'];
  const local = doc['local'];
  if (!Array.isArray(deps) || !Array.isArray(local)) return null;
  const out: { name: string; hashHex: string }[] = [];
  for (let i = 0; i < deps.length; i++) {
    const d: unknown = deps[i];
    if (!Array.isArray(d) || d.length !== 4) return null;
    const name: unknown = d[1];
    const f = u64Of(d[3]);
    if (typeof d[2] !== 'boolean' || typeof name !== 'string' || f === null || u64Of(d[0]) === null) return null;
    out.push({ name, hashHex: leHex(f) });
  }
  let precalculated: string | null = null;
  for (const l of local) {
    // Only the variants cargo writes today, with their exact fields: anything else is the reference parser's call.
    if (!isRecord(l)) return null;
    const keys = Object.keys(l);
    if (keys.length !== 1) return null;
    const body = l[keys[0]!];
    switch (keys[0]) {
      case 'CheckDepInfo': {
        if (!isRecord(body) || !onlyKeys(body, ['dep_info', 'fingerprint', 'checksum']) || typeof body['dep_info'] !== 'string') return null;
        const m = body['fingerprint'];
        const c = body['checksum'];
        if (m !== undefined ? m !== 'mtime' && m !== 'content' : typeof c !== 'boolean') return null;
        if (typeof c === 'object' && c !== null) return null;
        break;
      }
      case 'RerunIfChanged':
        if (!isRecord(body) || !onlyKeys(body, ['output', 'paths']) || typeof body['output'] !== 'string' || !isStringArray(body['paths'])) return null;
        break;
      case 'RerunIfEnvChanged': {
        if (!isRecord(body) || !onlyKeys(body, ['var', 'val']) || typeof body['var'] !== 'string') return null;
        const val = body['val'];
        if (val !== null && val !== undefined && typeof val !== 'string') return null;
        break;
      }
      case 'Precalculated':
        if (typeof body !== 'string') return null;
        precalculated = body;
        break;
      default:
        return null;
    }
  }
  return { features, featuresRaw, rustc, deps: out, precalculated };
}

/** What the scan takes from a fingerprint JSON through the reference parser (tests compare the fast path with it). */
function slowFingerprint(text: string): FingerprintFields | null {
  try {
    const f = parseFingerprintJson(text);
    let precalculated: string | null = null;
    for (const l of f.local) if (l.kind === 'Precalculated') precalculated = l.value;
    return { features: [...f.features], featuresRaw: f.featuresRaw, rustc: f.rustc, deps: f.deps.map((d) => ({ name: d.name, hashHex: d.hashHex })), precalculated };
  } catch {
    return null;
  }
}

/** The scanner's result in the shape of the other readers, through a fresh memo (tests compare the three). */
function scannedFingerprint(text: string): FingerprintFields | null {
  const s = scanFingerprint(text, new Interner().memo);
  return s && { features: [...s.features], featuresRaw: s.featuresRaw, rustc: s.rustc, deps: s.deps.map((d) => ({ name: d.name, hashHex: d.fingerprint })), precalculated: s.precalculated };
}

export const __test = { fastFingerprint, slowFingerprint, scannedFingerprint };

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Values an Interner map holds at most before it starts over. Sharing pays for what is kept: a model keeps every
 * unit, so its maps may grow large. A streamed scan keeps none: there a map only saves repeated work, and what it
 * holds lives on into V8's old generation, to be collected there, so its maps stay small.
 */
const INTERN_LIMIT = 1 << 16;
const STREAMED_INTERN_LIMIT = 1 << 12;

/**
 * Units walked and digested per batch. The walker measures the next batch while JavaScript digests this one,
 * and its answers wait for that: with 256 units they waited long enough to outlive V8's young generation, and
 * at 1M entries their buffers piled up in the old one (25 MB at times, freed only by a full collection). With
 * 64, the walker still runs ahead and they do not.
 */
const CHUNK = 64;

interface MemberInfo {
  readonly versions: ReadonlyMap<string, string>;
  readonly procMacros: ReadonlySet<string>;
}

/**
 * Strings and small values that thousands of units repeat (package names, versions, feature lists, sources,
 * dependency records): each is kept once, so that the model of a huge build dir costs little per unit.
 */
class Interner {
  // One map per kind of value: each stays small (a few versions, toolchains, crate names), so lookups stay cheap.
  // A map that grows to INTERN_LIMIT anyway (a build dir with tens of thousands of dependency records) starts
  // over (`remember`): values already handed out stay shared, and memory stays bounded when the scan keeps no unit.
  private readonly strings = Array.from({ length: 6 }, () => new Map<string, string>());
  private readonly lists = [new Map<string, readonly string[]>(), new Map<string, readonly string[]>()];
  private readonly sources = new Map<string, PackageSource>();
  private readonly deps = new Map<string, { readonly name: string; readonly fingerprint: string }>();

  private readonly limit: number;

  /** `keeps`: the values go into a model that keeps every unit (false for a streamed scan). */
  constructor(private readonly keeps = true) {
    this.limit = keeps ? INTERN_LIMIT : STREAMED_INTERN_LIMIT;
  }

  /** What the fingerprint scanner looks repeated values up in. */
  readonly memo: FingerprintMemo = {
    featureList: (raw) => this.lists[0]!.get(raw) ?? this.list(0, debugList(raw, '`features`'), raw),
    dep: (name, dec) => this.dep(name, leHex(dec)),
    rustc: (dec) => this.str(2, dec),
  };

  /** Kinds: 0 list items (file names, features), 1 versions, 2 rustc hashes, 3 source details, 4 targets, 5 crate names. */
  str(kind: StrKind, s: string): string;
  str(kind: StrKind, s: string | null): string | null;
  str(kind: StrKind, s: string | null): string | null {
    // A streamed scan writes each unit out and drops it: a shared string would save nothing, and looking up
    // values that are nearly all distinct (targets, crate names) would cost a map that keeps starting over.
    if (s === null || !this.keeps) return s;
    const m = this.strings[kind]!;
    const known = m.get(s);
    if (known !== undefined) return known;
    const own = ownCopy(s);
    return remember(m, own, own, this.limit);
  }

  /** A string an Interner map holds on to: shared when the scan keeps its units, else a copy of its own. */
  private held(kind: StrKind, s: string): string {
    return this.keeps ? this.str(kind, s) : ownCopy(s);
  }

  /**
   * A list of one family (0: features, 1: file names), under a key that stands for its items. Shared in a
   * streamed scan too: the JSON text of a shared list is made once.
   */
  list(family: 0 | 1, xs: readonly string[], key: string): readonly string[] {
    if (xs.length === 0) return EMPTY;
    const m = this.lists[family]!;
    const l = m.get(key);
    return l ?? remember(m, key, xs.map((x) => this.held(0, x)), this.limit);
  }

  source(s: PackageSource | null): PackageSource | null {
    if (s === null) return null;
    const key = `${s.kind}\u0000${s.detail ?? ''}\u0000${s.detail === null ? 0 : 1}`;
    return this.sources.get(key) ?? remember(this.sources, key, { kind: s.kind, detail: s.detail === null ? null : this.held(3, s.detail) }, this.limit);
  }

  /** Dependency records, keyed by fingerprint alone: two crate names for one fingerprint only share nothing. */
  dep(name: string, fingerprint: string): { readonly name: string; readonly fingerprint: string } {
    // Dependency records are nearly all distinct in a unit's neighbourhood: worth sharing only in a kept model.
    if (!this.keeps) return { name: this.str(5, name), fingerprint };
    const d = this.deps.get(fingerprint);
    if (d && d.name === name) return d;
    const made = { name: this.str(5, name), fingerprint: d ? d.fingerprint : fingerprint };
    return d ? made : remember(this.deps, fingerprint, made, this.limit);
  }
}

/** A substring can keep its whole parent text alive (a fingerprint JSON, a `.d` line): what is kept is a copy. */
const ownCopy = (s: string): string => (s.length > 12 ? (s + ' ').slice(0, -1) : s);

/** Keeps `v` under `k` in an Interner map, which starts over once it holds `limit` values. */
function remember<V>(m: Map<string, V>, k: string, v: V, limit: number): V {
  if (m.size >= limit) m.clear();
  m.set(k, v);
  return v;
}

const EMPTY: readonly string[] = [];

type StrKind = 0 | 1 | 2 | 3 | 4 | 5;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A unit as the scan builds it: the Unit the model exposes, plus what only the profile's other units settle. */
interface Draft {
  readonly unit: Mutable<Unit>;
  readonly plan: UnitPlan;
  /** The key of the walk answer the unit was made of, when the memo keeps it. */
  key?: string;
  readonly measure: Measure;
  /** Package named by cargo metadata as a proc-macro, or a lib unit that is one: its check units are too. */
  readonly procMacro: boolean;
  /** A version or source still missing: a build-script run inherits them from the script it runs. */
  readonly pending: boolean;
}

/** Units as texts for the sink (ScanSink.render): a profile that renders settles its packages into these. */
type Rendered = (string | Uint8Array)[];
/** What a profile settles: units, or their texts when it renders. */
type Settled = Unit[] | Rendered;

/**
 * A unit the walker found unchanged, in a scan that renders: made into a Draft (from the memo's record) only
 * if its package changed.
 */
interface Replay {
  readonly plan: UnitPlan;
  /** The walk answer's key. */
  readonly key: string;
}

const isReplay = (d: Draft | Replay): d is Replay => !('unit' in d);

/** A unit between its walk and its decoding: the identity from file names, and the reads it still needs. */
interface Staged {
  readonly plan: UnitPlan;
  readonly files: UnitFiles;
  readonly id: Identity;
  readonly measure: Measure;
  readonly parts: UnitPart[];
  readonly fullDep: boolean;
  readonly dep: FileInfo | null;
}

type Content = { data: Buffer; truncated: boolean } | { error: string } | null;

function readContent(maxBytes: number, r: ReadResult | null | undefined): Content {
  if (!r) return null;
  if (!r.ok) return { error: describeFsError(r.code) };
  return { data: r.data, truncated: r.data.length >= maxBytes };
}

/** The content of `f` read as `req` asks, when the walk already read it that way. */
function inlined(f: FileInfo, req: { maxBytes: number; firstLine?: boolean }): ReadResult | null {
  const r = f.rule;
  if (!f.content || !r || r.maxBytes !== req.maxBytes || !!r.firstLine !== !!req.firstLine) return null;
  return f.content;
}

function isAscii(d: Uint8Array): boolean {
  for (let i = 0; i < d.length; i++) if (d[i]! >= 0x80) return false;
  return true;
}

/** The scan's state shared by its units: walker access, members, interned values, problems. */
class UnitDigester {
  readonly intern: Interner;
  private readonly members: MemberInfo;

  constructor(
    private readonly acc: Accountant,
    private readonly walker: Walker,
    members: ScanOptions['members'],
    keeps = true,
    /** Set when the scan reuses earlier decodings: v2 walks then ask for their answer's key. */
    readonly memo: UnitMemo | null = null,
  ) {
    this.intern = new Interner(keeps);
    this.members = {
      versions: new Map((members ?? []).map((m) => [m.name, m.version])),
      procMacros: new Set((members ?? []).filter((m) => m.procMacro).map((m) => m.name)),
    };
  }

  private stage(u: UnitPlan, direct: WalkResult | undefined): Staged | null {
    let d: { files: UnitFiles; measure: Measure; parts: UnitPart[] };
    if (isDirect(u)) {
      // A unit whose every path vanished between the layout pass and the walk was deleted (cargo clean, or a
      // rebuild replacing it): it is simply not there any more.
      if (!direct || direct.entries.length === 0) return null;
      d = digestV2(u, direct, V2_UNIT_RULES);
    } else {
      if (!u.paths.some((p) => this.acc.exists(p))) return null;
      d = digestLegacy(u, this.acc);
    }
    const id = identify(d.files);
    // A failed rebuild deletes the `.rlib` and leaves the `.rmeta`: only rustc's `.d` rules still tell a
    // build from a check, so for those units the whole file is read, not just the first line.
    const failed = id.hashFile !== null && id.hashFile.size === 0;
    const fullDep = failed && id.checkFromOutputs;
    const dep = this.members.versions.has(u.package) && !fullDep ? null : depFileFor(d.files, u.hash);
    return { plan: u, files: d.files, id, measure: d.measure, parts: d.parts, fullDep, dep };
  }

  private stageInto(u: UnitPlan, r: WalkResult | undefined, staged: Staged[], order: (Draft | Replay | number)[], memoKeys: (string | null)[]): void {
    const s = this.stage(u, r);
    if (!s) return;
    order.push(staged.push(s) - 1);
    memoKeys.push(this.memo && r?.key !== undefined ? r.key : null);
  }

  /** The hash file, the fingerprint JSON and the `.d` file a unit needs, and how each is read. */
  private needs(s: Staged): ({ file: FileInfo; maxBytes: number; firstLine?: boolean } | null)[] {
    const { id, dep, fullDep } = s;
    return [
      id.hashFile && id.hashFile.size > 0 ? { file: id.hashFile, maxBytes: MAX_HASH } : null,
      id.jsonFile ? { file: id.jsonFile, maxBytes: MAX_JSON } : null,
      dep ? (fullDep ? { file: dep, maxBytes: MAX_JSON } : { file: dep, maxBytes: MAX_DEP_LINE, firstLine: true }) : null,
    ];
  }

  /** Digests the units of one chunk whose walks are held; returns them in plan order, vanished units left out. */
  /**
   * `replays`: unchanged units may come back as Replays (the profile renders, and makes them into drafts only
   * when their package changed).
   */
  async chunk(units: readonly UnitPlan[], direct: (WalkResult | undefined)[], pid: string, afterStage: () => void, replays = false): Promise<(Draft | Replay)[]> {
    const staged: Staged[] = [];
    // In plan order: a draft the memo gave back, the index of a staged unit (≥ 0), or -1 - the index of a unit
    // to walk again.
    let order: (Draft | Replay | number)[] = [];
    const again: UnitPlan[] = [];
    const memoKeys: (string | null)[] = [];
    let k = 0;
    for (const u of units) {
      let r: WalkResult | undefined;
      if (isDirect(u)) {
        r = direct[k];
        // Staged, a walk's entries are garbage: let them die young instead of living through the whole chunk.
        direct[k++] = undefined;
        if (this.memo && r?.same) {
          const path = u.paths[0]!.path;
          if (r.key === this.memo.key(path)) {
            if (replays) {
              this.memo.keep(path);
              order.push({ plan: u, key: r.key! });
              continue;
            }
            const d = draftOf(this.memo.record(path), u, pid, this.intern);
            if (d) {
              d.key = r.key;
              this.memo.keep(path);
              order.push(d);
              continue;
            }
          }
          // A record that cannot stand for the unit after all (a damaged store): walked again in full, below.
          order.push(-again.push(u));
          continue;
        }
      }
      this.stageInto(u, r, staged, order, memoKeys);
    }
    if (again.length) {
      const rs = await this.walker.walk(again.map((u) => ({ ...directRequest(u, null), key: true })));
      const at = again.map((u, i) => {
        const n = staged.length;
        this.stageInto(u, rs[i], staged, [], memoKeys);
        return staged.length > n ? n : -1;
      });
      // Back in plan order; a unit that vanished meanwhile is left out, as in the first pass.
      order = order.flatMap((o) => (typeof o !== 'number' || o >= 0 ? [o] : at[-o - 1]! >= 0 ? [at[-o - 1]!] : []));
    }
    afterStage();
    // Whatever the walk did not read (a file the inline rules did not cover, or read another way) is read now.
    const reqs: ReadRequest[] = [];
    const wanted = staged.map((s) =>
      this.needs(s).map((n) => {
        if (!n) return null;
        const have = inlined(n.file, n);
        if (have) return { maxBytes: n.maxBytes, result: have as ReadResult | null, slot: -1 };
        const req: ReadRequest = n.firstLine ? { path: filePath(n.file), maxBytes: n.maxBytes, firstLine: true } : { path: filePath(n.file), maxBytes: n.maxBytes };
        return { maxBytes: n.maxBytes, result: null, slot: reqs.push(req) - 1 };
      }),
    );
    const contents = reqs.length ? await this.walker.read(reqs) : [];
    const drafts = staged.map((s, i) => {
      const w3 = wanted[i]!;
      const [h, j, d] = w3.map((w) => (w ? readContent(w.maxBytes, w.slot >= 0 ? contents[w.slot] : w.result) : null));
      const draft = this.decode(s, h ?? null, j ?? null, d ?? null, pid);
      // A unit that needed a read beyond its walk depends on more than the answer: it is not kept.
      const key = memoKeys[i];
      if (key && w3.every((w) => !w || w.slot < 0)) {
        this.memo!.put(s.plan.paths[0]!.path, key, recordOf(draft));
        draft.key = key;
      }
      return draft;
    });
    return order.map((o) => (typeof o === 'number' ? drafts[o]! : o));
  }

  /** A Replay made into the draft its record describes (its package changed). */
  draftOfReplay(r: Replay, pid: string): Draft {
    const d = draftOf(this.memo?.record(r.plan.paths[0]!.path), r.plan, pid, this.intern);
    // The store vouched for its file, and the record was there when the unit became a Replay.
    if (!d) throw new Error(`the scan memo has no usable record for ${r.plan.paths[0]!.path}`);
    d.key = r.key;
    return d;
  }

  private decode(p: Staged, hashText: Content, jsonText: Content, depText: Content, pid: string): Draft {
    const I = this.intern;
    const problems: string[] = [];
    let fingerprintHash: string | null = null;
    let lastBuildFailed = false;
    if (p.id.hashFile) {
      if (p.id.hashFile.size === 0) lastBuildFailed = true;
      if (hashText && 'data' in hashText) {
        // Bytes that are not ASCII go through UTF-8 text first, as they always have (it shows in the reason).
        const d = hashText.data;
        const h = parseHashFile(isAscii(d) ? d : Buffer.from(d.toString('utf8')));
        if (h.state === 'ok') fingerprintHash = h.hash;
        else if (h.state === 'invalid') problems.push(`hash file: ${h.reason}`);
      } else if (hashText) problems.push(`hash file ${hashText.error}`);
    } else {
      problems.push(p.files.fingerprintDir ? 'fingerprint folder has no hash file' : 'no fingerprint folder (pieces of a unit cargo no longer tracks)');
    }
    let features: readonly string[] | null = null;
    let rustc: string | null = null;
    let deps: readonly { readonly name: string; readonly fingerprint: string }[] = [];
    let precalculated: string | null = null;
    if (jsonText && 'data' in jsonText) {
      const text = jsonText.data.toString('utf8');
      const s = scanFingerprint(text, I.memo);
      if (s) {
        ({ features, rustc, deps, precalculated } = s);
      } else {
        const f = parseFeatures(text);
        features = f.features ? I.list(0, f.features, f.featuresRaw) : null;
        rustc = I.str(2, f.rustc);
        deps = f.deps.map((x) => I.dep(x.name, x.hashHex));
        precalculated = f.precalculated;
        if (f.problem) problems.push(f.problem);
      }
    } else if (jsonText) problems.push(`fingerprint JSON ${jsonText.error}`);
    const member = this.members.versions.get(p.plan.package) ?? null;
    let version: string | null = member;
    let source: PackageSource | null = member !== null ? { kind: 'path', detail: null } : null;
    let mode = p.id.mode;
    if (depText && 'data' in depText) {
      const text = depText.data.toString('utf8');
      if (p.id.checkFromOutputs && linkedRuleIn(text)) mode = 'build';
      let line = text.split('\n', 1)[0] ?? '';
      // A cut-off line ends in a partial path: drop it.
      if (depText.truncated && !text.includes('\n')) line = line.slice(0, Math.max(line.lastIndexOf(' '), 0));
      try {
        const parsed = parseRustcDepInfoLine(line);
        const origin = packageOrigin(parsed.sources, p.plan.package);
        version = origin.version;
        source = origin.source;
      } catch (e) {
        problems.push(`rustc dep-info: ${(e as Error).message}`);
      }
    }
    if (version === null && precalculated !== null && SEMVER.test(precalculated)) version = precalculated;
    const plan = p.plan;
    // The plan's package name is one string for all the units of a package already.
    const pkg = plan.package || I.str(0, guessPackage(p.files));
    const unit: Mutable<Unit> = {
      id: unitId(pid, pkg, plan.hash, plan.layout),
      package: pkg,
      hash: plan.hash,
      layout: plan.layout,
      kind: p.id.kind,
      mode,
      target: I.str(4, p.id.target),
      features,
      version: I.str(1, version),
      source: I.source(source),
      paths: plan.paths.length === 1 ? [plan.paths[0]!.path] : plan.paths.map((x) => x.path),
      parts: p.parts,
      bytes: 0,
      freedBytes: 0,
      builtAt: builtAt(p.files, p.id),
      lastBuildFailed,
      fingerprintHash,
      rustc,
      deps,
      fingerprintFiles: I.list(1, p.id.names, p.id.names.join('/')),
      stale: [],
      problems,
    };
    const m = union([p.measure]);
    unit.bytes = m.bytes;
    unit.freedBytes = m.freed;
    return {
      unit,
      plan,
      measure: p.measure,
      procMacro: p.id.kind === 'proc-macro' || this.members.procMacros.has(plan.package),
      pending: version === null || source === null,
    };
  }
}

/**
 * A decoded v2 unit as a memo keeps it: what its walk answer said, before the profile's other units settle
 * anything (`finalizeUnits` changes version, source and kind afterwards, on the unit only). JSON data, an array
 * to keep the store small; id, hash, layout and paths come from the plan, which the folder's path fixes.
 */
type UnitRecord = readonly [
  pkg: string,
  kind: UnitKind,
  mode: UnitMode,
  target: string | null,
  features: readonly string[] | null,
  version: string | null,
  source: PackageSource | null,
  parts: readonly UnitPart[],
  bytes: number,
  freedBytes: number,
  builtAt: number | null,
  lastBuildFailed: boolean,
  fingerprintHash: string | null,
  rustc: string | null,
  /** Dependency records, flat: name, fingerprint, name, fingerprint… */
  deps: readonly string[],
  fingerprintFiles: readonly string[],
  problems: readonly string[],
  measureBytes: number,
  links: readonly LinkRef[],
  procMacro: boolean,
  pending: boolean,
];

function recordOf(d: Draft): UnitRecord {
  const u = d.unit;
  const deps: string[] = [];
  for (const x of u.deps) deps.push(x.name, x.fingerprint);
  return [
    u.package,
    u.kind,
    u.mode,
    u.target,
    u.features,
    u.version,
    u.source,
    u.parts,
    u.bytes,
    u.freedBytes,
    u.builtAt,
    u.lastBuildFailed,
    u.fingerprintHash,
    u.rustc,
    deps,
    u.fingerprintFiles,
    u.problems,
    d.measure.bytes,
    d.measure.links,
    d.procMacro,
    d.pending,
  ];
}

/**
 * A memo's record as a draft of the unit planned at its folder. The store vouches that the record is one this
 * code wrote (src/node/scan-memo.ts checks a digest of its file); what is checked here is only that it is a
 * record of this unit, so that a record under the wrong path is a miss, not a wrong unit.
 */
function isRecordOf(x: unknown, plan: UnitPlan): x is UnitRecord {
  return Array.isArray(x) && x.length === 21 && (!plan.package || x[0] === plan.package);
}

function draftOf(x: unknown, plan: UnitPlan, pid: string, I: Interner): Draft | null {
  if (!isRecordOf(x, plan)) return null;
  const r = x;
  const pkg = r[0];
  const deps: { readonly name: string; readonly fingerprint: string }[] = [];
  for (let i = 0; i + 1 < r[14].length; i += 2) deps.push(I.dep(r[14][i]!, r[14][i + 1]!));
  const features = r[4];
  const unit: Mutable<Unit> = {
    id: unitId(pid, pkg, plan.hash, plan.layout),
    package: plan.package || I.str(0, pkg),
    hash: plan.hash,
    layout: plan.layout,
    kind: r[1],
    mode: r[2],
    target: I.str(4, r[3]),
    features: features === null ? null : I.list(0, features, JSON.stringify(features)),
    version: I.str(1, r[5]),
    source: I.source(r[6]),
    paths: plan.paths.length === 1 ? [plan.paths[0]!.path] : plan.paths.map((p) => p.path),
    parts: r[7],
    bytes: r[8],
    freedBytes: r[9],
    builtAt: r[10],
    lastBuildFailed: r[11],
    fingerprintHash: r[12],
    rustc: I.str(2, r[13]),
    deps,
    fingerprintFiles: I.list(1, r[15], r[15].join('/')),
    stale: [],
    problems: r[16],
  };
  return { unit, plan, measure: { bytes: r[17], links: r[18] }, procMacro: r[19], pending: r[20] };
}

/** A package's own entry in the memo: its units' texts. NUL keeps it apart from every folder path. */
const packageEntry = (pid: string, pkg: string): string => `\0package\0${pid}\0${pkg}`;

/**
 * What a package's texts depend on: its units, each one's folder and walk answer key, in plan order (finalizing
 * looks across a package's units, never beyond). Null when a unit has no key: the texts are then not kept.
 */
function packageKey(g: readonly (Draft | Replay)[]): string | null {
  const h = createHash('sha256');
  for (const d of g) {
    if (d.key === undefined || !d.plan.package) return null;
    h.update(`${d.plan.paths[0]!.path}\n${d.key}\n`);
  }
  return h.digest('base64');
}

/** What only a profile's units together tell: versions inherited by build-script runs, proc-macro check units. */
function finalizeUnits(drafts: readonly Draft[]): Unit[] {
  const byHash = new Map<string, Unit>();
  for (const d of drafts) if (d.unit.fingerprintHash) byHash.set(d.unit.fingerprintHash, d.unit);
  // A package has one lib target: when any of its lib units is a proc-macro (a hashed `.so`), or cargo
  // metadata says so, its check units (`.rmeta` only) are proc-macros too.
  const procMacros = new Set<string>();
  for (const d of drafts) if (d.procMacro) procMacros.add(d.plan.package);
  const inherited = new Map<Draft, { version: string | null; source: PackageSource | null }>();
  for (const d of drafts) {
    if (!d.pending) continue;
    let { version, source } = d.unit;
    // A build-script run has no `.d`: it inherits from the script it runs (its `build_script_build` dep).
    for (const dep of d.unit.deps) {
      const o = byHash.get(dep.fingerprint);
      if (dep.name === 'build_script_build' && o) {
        version ??= o.version;
        source ??= o.source;
      }
    }
    inherited.set(d, { version, source });
  }
  // Applied after the loop, so that every unit inherits from what its script decoded, never from another inheritor.
  for (const [d, v] of inherited) {
    d.unit.version = v.version;
    d.unit.source = v.source;
  }
  return drafts.map((d) => {
    if (d.unit.kind === 'lib' && procMacros.has(d.plan.package)) d.unit.kind = 'proc-macro';
    return d.unit;
  });
}

// ------------------------------------------------------------------------------------------------------------
// Scans

/**
 * A v2 unit is one folder, one walk: its request bypasses the Accountant (no path index, no held result), and
 * its result goes straight to the unit's digest. Legacy units, scattered over shared folders, go through it.
 */
const isDirect = isUnitFolder;

/** Unit folders walked while a scan plans, when a memo says which (Prefetch). */
const PREFETCH = 1024;

/**
 * What a streamed scan hands out as it goes, in the order of the result: a build dir's head, then for each of
 * its profiles the head, the final units a few packages at a time, and the profile without its units; then the
 * build dir without its profiles. Each call is awaited, so that a slow consumer holds the scan back instead of
 * letting text pile up. The scan keeps no unit it has handed out: `units` of the returned profiles are empty.
 */
export interface ScanSink {
  buildDir(head: BuildDirHead): void | Promise<void>;
  profile(head: ProfileHead): void | Promise<void>;
  units(units: readonly Unit[]): void | Promise<void>;
  /**
   * Optional, both or neither: the sink's text for a unit, and a way to take units as that text. A scan with a
   * memo then keeps each package's texts, and when a later scan finds every unit of the package unchanged it
   * hands the texts over as they are, without making the units again.
   */
  readonly render?: (u: Unit) => string;
  /** Texts as `render` made them: one unit's, or several units' joined with commas; bytes are UTF-8. */
  rendered?(texts: readonly (string | Uint8Array)[]): void | Promise<void>;
  profileEnd(profile: Profile): void | Promise<void>;
  buildDirEnd(buildDir: BuildDir): void | Promise<void>;
}

export type BuildDirHead = Pick<BuildDir, 'id' | 'path' | 'role' | 'discovery' | 'exists'>;
export type ProfileHead = Pick<Profile, 'id' | 'name' | 'platform' | 'path' | 'layouts' | 'locks'>;

/** One step of a scan: a chunk of a profile's units, or a chunk of its incremental folders. */
type Job = (
  | {
      readonly kind: 'units';
      readonly units: readonly UnitPlan[];
      /** Their results once walked, in order (the walk requests are made when the job is sent). */
      results: (WalkResult | undefined)[];
    }
  | { readonly kind: 'incremental'; readonly crates: readonly { readonly ip: IncrementalPlan; readonly planned: PlannedPath }[] }
) & {
  /** The profile's index in the scan, or -1 for the one empty job of a build dir that has no profile. */
  readonly profile: number;
  readonly dir: number;
  /** Bucket paths, needed only for totals: they ride along with the jobs of their profile or build dir in slices. */
  extra: readonly PlannedPath[];
};

/** What a job walks through the Accountant. */
const jobPaths = (j: Job): PlannedPath[] =>
  j.kind === 'units' ? j.units.flatMap((u) => (isDirect(u) ? [] : u.paths.filter((p) => !p.within))) : j.crates.map((c) => c.planned);

function walkJob(acc: Accountant, j: Job, first: readonly PlannedPath[], memo: UnitMemo | null, early: Prefetch | null): Promise<void> {
  const own = jobPaths(j);
  const paths = first.length || j.extra.length ? [...first, ...j.extra, ...own] : own;
  if (j.kind !== 'units') return acc.walk(paths).then(() => undefined);
  // Units walked while the scan planned take their answers from there; the others are walked now.
  const got: (Promise<WalkResult> | undefined)[] = [];
  const rest: UnitPlan[] = [];
  for (const u of j.units) {
    if (!isDirect(u)) continue;
    const e = memo && early ? early.take(u) : undefined;
    got.push(e);
    if (!e) rest.push(u);
  }
  return Promise.all([acc.walk(paths, directRequests(rest, memo)), ...got]).then(([rs, ...pre]) => {
    let k = 0;
    j.results = pre.map((r) => r ?? rs[k++]);
  });
}

/**
 * The walks of the first unit folders the last scan walked (UnitMemo.first), sent before the layout pass: the
 * walker, idle while the scan plans, measures them meanwhile. A folder the plan no longer has is simply unused.
 */
class Prefetch {
  private readonly walks = new Map<string, Promise<WalkResult>>();
  readonly sent: number;

  constructor(walker: Walker, memo: UnitMemo, paths: readonly string[]) {
    this.sent = paths.length;
    if (paths.length === 0) return;
    const reqs = paths.map((p): WalkRequest => {
      const expect = memo.key(p);
      return expect === undefined ? { path: p, depth: V2_UNIT_DEPTH, inline: V2_UNIT_RULES, key: true } : { path: p, depth: V2_UNIT_DEPTH, inline: V2_UNIT_RULES, key: true, expect };
    });
    const all = walker.walk(reqs);
    // Unused when the memo is turned down for this scan, or not all taken when the walker fails: no rejection is
    // left unhandled (a unit that takes its walk still sees the failure).
    all.catch(() => undefined);
    paths.forEach((p, i) => {
      const one = all.then((rs) => rs[i]!);
      one.catch(() => undefined);
      this.walks.set(p, one);
    });
  }

  /** The walk of `u`'s folder, if it was sent as the plan now asks for it; each is taken once. */
  take(u: UnitPlan): Promise<WalkResult> | undefined {
    const p = u.paths[0]!;
    const w = p.depth === V2_UNIT_DEPTH ? this.walks.get(p.path) : undefined;
    if (w) this.walks.delete(p.path);
    return w;
  }
}

/**
 * Runs jobs in order with the walks of the next ones already sent: the walker measures ahead while the
 * JavaScript side decodes, and only a few chunks of walk results are ever held at once. `first` (shared
 * folders, which legacy units are cut out of) goes with the first job. Each job leaves `jobs` when it runs,
 * so that the plans it carries are let go as soon as they are digested.
 */
async function runJobs(
  jobs: (Job | undefined)[],
  acc: Accountant,
  run: (j: Job, next: Job | undefined) => Promise<void>,
  first: readonly PlannedPath[],
  memo: UnitMemo | null,
  early: Prefetch | null,
): Promise<void> {
  // Results wait in memory until their job runs, so one chunk ahead is all a scan can afford at 1M entries. With
  // a memo that knew units nearly every answer is a few bytes ("same"): more chunks go ahead, and the walker,
  // which answers a batch only once all of it is done, always has the next one queued instead of waiting on its
  // slowest unit. After a rebuild the answers are full ones again: then one chunk ahead, as without a memo.
  const hoping = memo !== null && early !== null && early.sent > 0;
  let mostlySame = true;
  if (jobs.length === 0) {
    if (first.length) await acc.walk(first);
    return;
  }
  const walks: Promise<void>[] = [];
  const send = (k: number): void => {
    const j = jobs[k];
    if (j && !walks[k]) walks[k] = walkJob(acc, j, k === 0 ? first : [], memo, early);
  };
  for (let k = 0; k < jobs.length; k++) {
    const ahead = hoping && mostlySame ? 4 : 1;
    for (let a = 0; a <= ahead; a++) send(k + a);
    await walks[k];
    const j = jobs[k]!;
    if (hoping && j.kind === 'units' && j.results.length) {
      let same = 0;
      for (const r of j.results) if (r?.same) same++;
      mostlySame = same * 4 >= j.results.length * 3;
    }
    jobs[k] = undefined;
    delete walks[k];
    await run(j, jobs[k + 1]);
  }
}

/** One walk per v2 unit folder, made only when its chunk is sent: at 1M entries, tens of thousands of requests. */
function directRequests(units: readonly UnitPlan[], memo: UnitMemo | null): WalkRequest[] {
  const reqs: WalkRequest[] = [];
  for (const u of units) if (isDirect(u)) reqs.push(directRequest(u, memo));
  return reqs;
}

function directRequest(u: UnitPlan, memo: UnitMemo | null): WalkRequest {
  const p = u.paths[0]!;
  if (!memo) return { path: p.path, depth: p.depth, inline: V2_UNIT_RULES };
  const expect = memo.key(p.path);
  return expect === undefined ? { path: p.path, depth: p.depth, inline: V2_UNIT_RULES, key: true } : { path: p.path, depth: p.depth, inline: V2_UNIT_RULES, key: true, expect };
}

function unitJobs(units: readonly UnitPlan[], profile: number, dir: number): Job[] {
  const jobs: Job[] = [];
  // The first chunk is small, so that decoding starts soon after the walk does.
  for (let i = 0, n = CHUNK / 4; i < units.length; i += n, n = CHUNK) {
    jobs.push({ kind: 'units', profile, dir, units: units.slice(i, i + n), results: [], extra: [] });
  }
  return jobs;
}

function incrementalJobs(crates: readonly { ip: IncrementalPlan; planned: PlannedPath }[], profile: number, dir: number): Job[] {
  const jobs: Job[] = [];
  for (let i = 0; i < crates.length; i += CHUNK) jobs.push({ kind: 'incremental', profile, dir, crates: crates.slice(i, i + CHUNK), extra: [] });
  return jobs;
}

/** Deals `paths` out to `jobs` in equal slices, so that no one job's decoding waits for all of them. */
function spread(paths: readonly PlannedPath[], jobs: readonly Job[]): void {
  if (paths.length === 0 || jobs.length === 0) return;
  const slice = Math.ceil(paths.length / jobs.length);
  jobs.forEach((j, k) => {
    const mine = paths.slice(k * slice, (k + 1) * slice);
    if (mine.length) j.extra = [...j.extra, ...mine];
  });
}

/**
 * One profile's units as their chunks are digested. A unit is final once its whole package is: a build-script
 * run takes its version from the script it runs, and a proc-macro's check units take their kind from its lib,
 * both within one package. Plans come sorted by package, so units are settled a package at a time, and what
 * outlives a package is its units (when the scan keeps them) and the profile's totals.
 */
class ProfileState {
  /** Settled units, when the scan keeps them. */
  readonly units: Unit[] = [];
  readonly incremental: IncrementalCrate[] = [];
  /** The units and incremental folders, for the profile's total. */
  readonly total = new MeasureSum();
  private group: (Draft | Replay)[] = [];
  private readonly byPackage = new Map<string, { keys: string | string[]; sum: MeasureSum }>();

  /**
   * `keepsUnits` false (a streamed scan): a package then remembers its units' hashes, which the units' ids are
   * made of, not the ids (at 1M entries, 44k strings of a hundred characters held to the end of the profile).
   * `renders`: settled units come out as the sink's texts, kept in the memo a package at a time (see ScanSink).
   * `memo` without `renders`: the package texts a rendering scan kept are kept on while they hold.
   */
  constructor(
    readonly id: string,
    private readonly keepsUnits: boolean,
    readonly renders: { readonly memo: UnitMemo; readonly render: (u: Unit) => string; readonly draft: (r: Replay) => Draft } | null = null,
    private readonly memo: UnitMemo | null = null,
  ) {}

  /** Takes one chunk's drafts, in plan order; returns what `settle` gives for the packages they complete. */
  add(drafts: readonly (Draft | Replay)[]): Settled {
    let done: Settled = [];
    for (const d of drafts) {
      if (this.group.length > 0 && this.group[0]!.plan.package !== d.plan.package) done = [...done, ...this.settle()] as Settled;
      this.group.push(d);
    }
    return done;
  }

  /**
   * Settles the package in hand: called by `add` at each change of package, and once at the end of the profile.
   * Gives its units, or their texts when the profile renders.
   */
  settle(): Settled {
    const g = this.group;
    if (g.length === 0) return [];
    this.group = [];
    const r = this.renders;
    if (r) {
      const texts = this.replay(g, r.memo);
      if (texts) return texts;
    }
    const drafts = r ? g.map((d) => (isReplay(d) ? r.draft(d) : d)) : (g as Draft[]);
    const units = finalizeUnits(drafts);
    for (let i = 0; i < drafts.length; i++) this.count(units[i]!.package, drafts[i]!.plan, drafts[i]!.measure, units[i]!.id);
    if (!r) {
      // A scan that keeps its model does not render; the text of an unchanged package stays true for the next one.
      const key = this.memo ? packageKey(drafts) : null;
      const entry = packageEntry(this.id, drafts[0]!.plan.package);
      if (key !== null && this.memo!.key(entry) === key) this.memo!.keep(entry);
      return units;
    }
    // One text for the package, kept with its units' measures: what a replay needs, and nothing more.
    const text = units.map(r.render).join(',');
    const key = packageKey(drafts);
    if (key !== null) r.memo.put(packageEntry(this.id, drafts[0]!.plan.package), key, drafts.map((d) => [d.measure.bytes, d.measure.links]), text);
    return [text];
  }

  /** The text a memo kept for this package, when every unit of it is unchanged: the package is then settled. */
  private replay(g: readonly (Draft | Replay)[], memo: UnitMemo): Uint8Array[] | null {
    if (!g.every(isReplay)) return null;
    const entry = packageEntry(this.id, g[0]!.plan.package);
    const key = packageKey(g);
    const measures = key !== null && memo.key(entry) === key ? memo.record(entry) : undefined;
    const text = memo.blob(entry);
    if (!Array.isArray(measures) || measures.length !== g.length || text === undefined) return null;
    memo.keep(entry);
    g.forEach((d, i) => {
      const [bytes, links] = measures[i] as [number, LinkRef[]];
      this.count(d.plan.package, d.plan, { bytes, links }, null);
    });
    return [text];
  }

  private count(pkg: string, plan: UnitPlan, m: Measure, id: string | null): void {
    this.total.add(m);
    const key = this.keepsUnits ? id ?? unitId(this.id, pkg, plan.hash, plan.layout) : unitKey(plan.hash, plan.layout);
    const p = this.byPackage.get(pkg);
    if (!p) {
      const sum = new MeasureSum();
      sum.add(m);
      this.byPackage.set(pkg, { keys: key, sum });
      return;
    }
    if (typeof p.keys === 'string') p.keys = [p.keys, key];
    else p.keys.push(key);
    p.sum.add(m);
  }

  packages(): PackageSummary[] {
    return [...this.byPackage.entries()]
      .map(([name, g]) => {
        const m = g.sum.union();
        const keys = typeof g.keys === 'string' ? [g.keys] : g.keys;
        const unitIds = this.keepsUnits ? keys : keys.map((k) => idOfKey(this.id, name, k));
        return { name, bytes: m.bytes, freedBytes: m.freed, unitIds };
      })
      .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
  }
}

/**
 * Runs a scan's jobs: digests unit chunks into their profile's state and hands each batch of settled units to
 * `deliver`. `hooks` see each job before it is digested and after, with the next one (to tell where a profile
 * or a build dir starts and ends).
 */
async function runProfileJobs(
  jobs: (Job | undefined)[],
  states: readonly (ProfileState | undefined)[],
  acc: Accountant,
  digester: UnitDigester,
  first: readonly PlannedPath[],
  deliver: (st: ProfileState, settled: Settled) => void | Promise<void>,
  hooks: { before?(j: Job): void | Promise<void>; after?(j: Job, next: Job | undefined): void | Promise<void> } = {},
  early: Prefetch | null = null,
): Promise<void> {
  await runJobs(
    jobs,
    acc,
    async (j, next) => {
      await hooks.before?.(j);
      const st = states[j.profile];
      const paths = jobPaths(j);
      if (st && j.kind === 'units') {
        const direct = j.results;
        j.results = [];
        const drafts = await digester.chunk(j.units, direct, st.id, () => acc.release(paths, false), st.renders !== null);
        const settled = st.add(drafts);
        if (settled.length) await deliver(st, settled);
      } else if (st && j.kind === 'incremental') {
        for (const c of j.crates) {
          st.incremental.push(decodeIncremental(c.ip, c.planned, acc));
          st.total.add(acc.measureOf(c.planned, false));
        }
        acc.release(paths, false);
      }
      acc.settleBuckets(j.extra);
      await hooks.after?.(j, next);
    },
    first,
    digester.memo,
    early,
  );
}

const incrementalPlanned = (ip: IncrementalPlan): PlannedPath => ({ path: ip.path, part: 'other', depth: 1 });

/** A profile that keeps its units never renders them (only a streamed scan does). */
const keep = (st: ProfileState, units: Settled): void => {
  for (const u of units as Unit[]) st.units.push(u);
};

/**
 * Measures and decodes one partial plan (layout.ts `planPackages`): the units of a few packages and their
 * incremental folders, for a refresh that costs what changed. Sizes follow the same rules as a full scan.
 */
export async function scanPartial(
  buildDir: string,
  pp: ProfilePlan,
  opts: Pick<ScanOptions, 'walker' | 'members'>,
): Promise<{ units: Unit[]; incremental: IncrementalCrate[]; problems: ScanProblem[] }> {
  const problems: ScanProblem[] = [];
  const acc = new Accountant(opts.walker, problems);
  const crates = pp.incremental.map((ip) => ({ ip, planned: incrementalPlanned(ip) }));
  for (const p of pp.shared) acc.plan(p, null, true);
  for (const u of pp.units) if (!isDirect(u)) for (const p of u.paths) acc.plan(p, u.layout, true);
  for (const c of crates) acc.plan(c.planned, null, true);
  const digester = new UnitDigester(acc, opts.walker, opts.members);
  const state = new ProfileState(profileId(buildDir, pp.platform, pp.name), true);
  await runProfileJobs([...unitJobs(pp.units, 0, 0), ...incrementalJobs(crates, 0, 0)], [state], acc, digester, pp.shared, keep);
  keep(state, state.settle());
  return { units: state.units, incremental: state.incremental, problems };
}

interface ScanPlan {
  readonly acc: Accountant;
  readonly jobs: Job[];
  readonly first: readonly PlannedPath[];
  readonly dirs: readonly { readonly loc: BuildDirLocationLike; readonly path: string; readonly exists: boolean; readonly buckets: ProfilePlan['buckets'] }[];
  /** Every profile of every build dir, in order, without its unit plans (those travel with the jobs). */
  readonly profiles: readonly { readonly dir: number; readonly id: string; readonly pp: Omit<ProfilePlan, 'units'> }[];
}

/** The layout pass and the jobs it gives. Unit plans are referenced from the jobs alone, so they go as they run. */
function planScan(locations: readonly BuildDirLocationLike[], walker: Walker, problems: ScanProblem[]): ScanPlan {
  const plans = locations.map((l) => ({ loc: l, plan: planBuildDir(l.path, l.role) }));
  for (const { plan } of plans) problems.push(...plan.problems);

  const acc = new Accountant(walker, problems);
  const jobs: Job[] = [];
  const profiles: { dir: number; id: string; pp: Omit<ProfilePlan, 'units'> }[] = [];
  plans.forEach(({ plan }, dir) => {
    for (const b of plan.buckets) for (const p of b.paths) acc.plan(p, null, false);
    const dirJobs: Job[] = [];
    for (const pp of plan.profiles) {
      const i = profiles.length;
      const crates = pp.incremental.map((ip) => ({ ip, planned: incrementalPlanned(ip) }));
      for (const p of pp.shared) acc.plan(p, null, true);
      for (const b of pp.buckets) for (const p of b.paths) acc.plan(p, null, false);
      for (const u of pp.units) if (!isDirect(u)) for (const p of u.paths) acc.plan(p, u.layout, true);
      for (const c of crates) acc.plan(c.planned, null, true);
      const own = [...unitJobs(pp.units, i, dir), ...incrementalJobs(crates, i, dir)];
      // A profile with nothing to digest still has its moment in the stream, and its buckets a job to go with.
      if (own.length === 0) own.push({ kind: 'units', profile: i, dir, units: [], results: [], extra: [] });
      spread(pp.buckets.flatMap((b) => b.paths), own);
      dirJobs.push(...own);
      const { units: _units, ...rest } = pp;
      profiles.push({ dir, id: profileId(plan.path, pp.platform, pp.name), pp: rest });
    }
    if (dirJobs.length === 0) dirJobs.push({ kind: 'units', profile: -1, dir, units: [], results: [], extra: [] });
    spread(plan.buckets.flatMap((b) => b.paths), dirJobs);
    jobs.push(...dirJobs);
  });
  return {
    acc,
    jobs,
    // Shared folders go with the first job; they and the buckets stay walked until their profile or build dir ends.
    first: plans.flatMap(({ plan }) => plan.profiles.flatMap((pp) => pp.shared)),
    dirs: plans.map(({ loc, plan }) => ({ loc, path: plan.path, exists: plan.exists, buckets: plan.buckets })),
    profiles,
  };
}

/**
 * Scans build dirs into the model. With `sink`, the scan is streamed: it hands out each unit once settled and
 * keeps none of them; what it keeps per unit is its id and its measure, for the package and profile totals.
 */
export async function scanBuildDirs(locations: readonly BuildDirLocationLike[], opts: ScanOptions, sink?: ScanSink): Promise<ScanResult> {
  const problems: ScanProblem[] = [];
  if (opts.onOutline) {
    opts.onOutline({
      buildDirs: locations.map((l) => ({
        path: l.path,
        profiles: outlineBuildDir(l.path).map((p) => ({ name: p.name, platform: p.platform, packages: p.packages })),
      })),
    });
  }
  // About what the walker measures while this thread plans (more would only wait in memory for their chunk).
  const early = opts.memo?.first ? new Prefetch(opts.walker, opts.memo, await opts.memo.first(PREFETCH)) : null;
  const { acc, jobs, first, dirs, profiles } = planScan(locations, opts.walker, problems);
  let folders = 0;
  for (const j of jobs) if (j.kind === 'units') for (const u of j.units) if (isDirect(u)) folders++;
  const memo = opts.memo && (await opts.memo.begin(folders)) ? opts.memo : null;
  const digester = new UnitDigester(acc, opts.walker, opts.members, !sink, memo);
  const renders = memo && sink?.render && sink.rendered ? { memo, render: sink.render } : null;
  const states: (ProfileState | undefined)[] = profiles.map(
    (p) => new ProfileState(p.id, !sink, renders && { ...renders, draft: (r: Replay) => digester.draftOfReplay(r, p.id) }, memo),
  );
  const done: Profile[][] = dirs.map(() => []);
  const dirMeasures: MeasureSum[] = dirs.map(() => new MeasureSum());
  const buildDirs: BuildDir[] = [];
  let dirAt = -1;
  let profileAt = -1;

  const bucketsOf = (buckets: ProfilePlan['buckets']): Bucket[] =>
    buckets.map((b): Bucket => ({ name: b.name, paths: b.paths.map((p) => p.path), bytes: acc.measure(b.paths).bytes }));
  const addBuckets = (sum: MeasureSum, buckets: ProfilePlan['buckets']): void => {
    for (const b of buckets) for (const p of b.paths) sum.add(acc.measureOf(p));
  };
  const dirHead = (d: number): BuildDirHead => {
    const x = dirs[d]!;
    return { id: x.path, path: x.path, role: x.loc.role, discovery: x.loc.discovery, exists: x.exists };
  };

  const deliver = sink
    ? (st: ProfileState, settled: Settled) => (st.renders ? sink.rendered!(settled as Rendered) : sink.units(settled as Unit[]))
    : keep;

  const endProfile = async (i: number): Promise<void> => {
    const st = states[i]!;
    states[i] = undefined;
    const { dir, id, pp } = profiles[i]!;
    const last = st.settle();
    if (last.length) await deliver(st, last);
    const all = st.total;
    addBuckets(all, pp.buckets);
    dirMeasures[dir]!.addAll(all);
    const p: Profile = {
      id,
      name: pp.name,
      platform: pp.platform,
      path: pp.path,
      layouts: pp.layouts,
      units: st.units,
      packages: st.packages(),
      incremental: st.incremental,
      other: bucketsOf(pp.buckets),
      bytes: all.union().bytes,
      locks: pp.locks,
    };
    done[dir]!.push(p);
    // Nothing after this profile looks into its buckets or shared folders: at 1M entries, thousands of walks.
    acc.release(pp.buckets.flatMap((b) => b.paths), true);
    acc.release(pp.shared, false);
    await sink?.profileEnd(p);
  };

  const endDir = async (d: number): Promise<void> => {
    const x = dirs[d]!;
    const sum = dirMeasures[d]!;
    addBuckets(sum, x.buckets);
    const b: BuildDir = { ...dirHead(d), profiles: done[d]!, other: bucketsOf(x.buckets), bytes: sum.union().bytes };
    dirMeasures[d] = new MeasureSum();
    acc.release(x.buckets.flatMap((bk) => bk.paths), true);
    buildDirs.push(b);
    await sink?.buildDirEnd(b);
  };

  // One stream of jobs over every profile, so that the walker never waits between two profiles.
  await runProfileJobs(
    jobs,
    states,
    acc,
    digester,
    first,
    deliver,
    {
      before: async (j) => {
        if (j.dir !== dirAt) {
          dirAt = j.dir;
          profileAt = -1;
          await sink?.buildDir(dirHead(j.dir));
        }
        if (j.profile >= 0 && j.profile !== profileAt) {
          profileAt = j.profile;
          const { id, pp } = profiles[j.profile]!;
          await sink?.profile({ id, name: pp.name, platform: pp.platform, path: pp.path, layouts: pp.layouts, locks: pp.locks });
        }
      },
      after: async (j, next) => {
        if (j.profile >= 0 && (next?.dir !== j.dir || next.profile !== j.profile)) await endProfile(j.profile);
        if (next?.dir !== j.dir) await endDir(j.dir);
      },
    },
    memo ? early : null,
  );
  return { workspaceRoot: opts.workspaceRoot ?? null, buildDirs, problems, walker: opts.walker.name };
}

/** Does a rustc `.d` file name a linked output (`.rlib`, a shared library, an executable) among its rules? */
function linkedRuleIn(text: string): boolean {
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(' ')) continue;
    const colon = line.search(/:(\s|$)/);
    if (colon <= 0) continue;
    const base = line.slice(0, colon).split(/[\\/]/).pop() ?? '';
    if (!/\.(d|rmeta)$/.test(base)) return true;
  }
  return false;
}

function guessPackage(files: UnitFiles): string {
  // Only legacy outputs with no `.fingerprint` folder get here: the crate name is the best we have.
  const o = files.outputs[0]?.name ?? '';
  return o.replace(/^lib/, '').replace(/-[0-9a-f]{16}.*$/, '') || '(unknown)';
}

function decodeIncremental(ip: IncrementalPlan, planned: PlannedPath, acc: Accountant): IncrementalCrate {
  const at = acc.locate(planned);
  const sessions: IncrementalSession[] = [];
  for (const e of at?.result.entries ?? []) {
    if (e.rel === '' || e.rel.includes('/')) continue;
    const s = parseSessionName(e.rel);
    if (!s || s.lock || e.type !== 'd') continue;
    sessions.push({ name: e.rel, path: path.join(ip.path, e.rel), bytes: e.bytes, startedAt: s.startedAt, working: s.working });
  }
  return { crate: ip.crate, path: ip.path, bytes: union([acc.measureOf(planned, false)]).bytes, sessions };
}
