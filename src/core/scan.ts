// Turns build-dir locations into the model (model.ts). Three passes, each one batch so that the walker can
// work in parallel: (1) layout.ts plans the tree from folder names alone — this is the "outline", available
// before any size is known; (2) the walker measures every planned path; (3) the walker reads the few small
// files each unit needs (hash file, fingerprint JSON, first line of rustc's `.d`). Decoding is pure.

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
import type { ReadRequest, ReadResult, WalkEntry, WalkResult, Walker } from './walk';
import { planBuildDir, outlineBuildDir, describeFsError, type IncrementalPlan, type PlannedPath, type ProfilePlan, type UnitPlan } from './layout';
import { parseFingerprintFileName, parseFingerprintJson, parseHashFile } from './fingerprint';
import { packageOrigin, parseRustcDepInfoLine } from './rustcdep';
import { parseSessionName } from './incremental';

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
}

export interface Outline {
  readonly buildDirs: readonly {
    readonly path: string;
    readonly profiles: readonly { readonly name: string; readonly platform: string | null; readonly packages: readonly string[] }[];
  }[];
}

const MAX_JSON = 4 << 20;
/** The first sources of a `.d` line are enough to see the package's folder (`<name>-<version>/`). */
const MAX_DEP_LINE = 16 << 10;

export function profileId(buildDir: string, platform: string | null, name: string): string {
  return `${buildDir}#${platform ?? 'host'}/${name}`;
}

export function unitId(profile: string, pkg: string, hash: string, layout: 'v2' | 'legacy'): string {
  // In a mixed folder the same toolchain gives the same hash in both layouts (§2.5): keep the ids apart.
  return `${profile}/${pkg}/${hash}${layout === 'legacy' ? '~legacy' : ''}`;
}

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

const NO_MEASURE: Measure = { bytes: 0, links: [] };

/** `du -sb` of a union of measures, and what deleting all of it would free. */
function union(measures: Iterable<Measure>): { bytes: number; freed: number } {
  let bytes = 0;
  const links = new Map<string, { size: number; nlink: number; paths: Set<string> }>();
  for (const m of measures) {
    bytes += m.bytes;
    for (const l of m.links) {
      let a = links.get(l.key);
      if (!a) links.set(l.key, (a = { size: l.size, nlink: l.nlink, paths: new Set() }));
      a.paths.add(l.path);
    }
  }
  let freed = bytes;
  for (const l of links.values()) {
    bytes += l.size;
    if (l.paths.size >= l.nlink) freed += l.size;
  }
  return { bytes, freed };
}

/**
 * Resolves planned paths to walk entries. Results are walked in chunks and released once digested, and what
 * outlives them is one compact Measure per planned path: memory follows the number of units, not of files.
 */
class Accountant {
  private readonly index = new Map<string, number>();
  private readonly relMaps = new Map<number, Map<string, number>>();
  private readonly results = new Map<number, WalkResult>();
  private readonly measures = new Map<PlannedPath, Measure>();
  private readonly present = new Map<PlannedPath, boolean>();
  readonly requests: { path: string; depth: number }[] = [];

  constructor(
    private readonly walker: Walker,
    private readonly problems: ScanProblem[],
  ) {}

  request(p: PlannedPath): void {
    const key = p.within ? p.within.request : p.path;
    if (this.index.has(key)) return;
    if (p.within) throw new Error(`internal: ${p.path} planned inside ${key}, which was not requested first`);
    this.index.set(key, this.requests.length);
    this.requests.push({ path: key, depth: p.depth });
  }

  private indexOf(p: PlannedPath): number | undefined {
    return this.index.get(p.within ? p.within.request : p.path);
  }

  /** Walks what these paths need and is not walked yet, as one batch (the walker parallelises inside it). */
  async walk(paths: readonly PlannedPath[]): Promise<void> {
    const todo = [...new Set(paths.map((p) => this.indexOf(p)).filter((i): i is number => i !== undefined && !this.results.has(i)))];
    if (todo.length === 0) return;
    const results = await this.walker.walk(todo.map((i) => this.requests[i]!));
    todo.forEach((ri, k) => {
      const r = results[k] ?? { entries: [], links: [], errors: [] };
      this.results.set(ri, r);
      const base = this.requests[ri]!.path;
      for (const err of r.errors) {
        if (err.code === 'ENOENT') continue; // vanished mid-scan: cargo is writing; the next scan sees it
        this.problems.push({ path: err.rel === '' ? base : path.join(base, err.rel), message: describeFsError(err.code) });
      }
    });
  }

  /** Forgets the entries behind these paths; their measures stay. */
  release(paths: readonly PlannedPath[]): void {
    for (const p of paths) {
      this.measureOf(p);
      this.exists(p);
      const ri = this.indexOf(p);
      if (ri !== undefined) {
        this.results.delete(ri);
        this.relMaps.delete(ri);
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

  /** The walk result and relative path a planned path lives at (while its chunk is held). */
  locate(p: PlannedPath): { result: WalkResult; ri: number; rel: string } | null {
    const ri = this.indexOf(p);
    if (ri === undefined) return null;
    const result = this.results.get(ri);
    if (!result) return null;
    return { result, ri, rel: p.within ? p.within.rel : '' };
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
    const i = this.relIndex(ri).get(rel);
    return i === undefined ? undefined : this.results.get(ri)?.entries[i];
  }

  measureOf(p: PlannedPath): Measure {
    const known = this.measures.get(p);
    if (known) return known;
    const at = this.locate(p);
    if (!at) return NO_MEASURE;
    const { result, ri, rel } = at;
    const e = rel === '' ? result.entries[0] : this.entry(ri, rel);
    let m: Measure = NO_MEASURE;
    if (e) {
      if (p.within !== undefined && p.depth === -1) {
        m = { bytes: ownBytes(result, rel, e), links: [] };
      } else {
        const base = p.within ? p.within.request : p.path;
        const links: LinkRef[] = [];
        for (const l of result.links) {
          if (rel !== '' && l.rel !== rel && !l.rel.startsWith(rel + '/')) continue;
          links.push({ key: l.key, nlink: l.nlink, size: l.size, path: base + '/' + l.rel });
        }
        m = { bytes: e.bytes, links };
      }
    }
    this.measures.set(p, m);
    return m;
  }

  /** `du -sb` of a set of planned paths, and what deleting them would free. */
  measure(paths: readonly PlannedPath[]): { bytes: number; freed: number } {
    return union(paths.map((p) => this.measureOf(p)));
  }
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

/** The files of one unit, whichever layout scattered them. */
interface UnitFiles {
  /** Fingerprint folder entries by name (hash files, JSON, dep-info, invoked.timestamp). */
  readonly fingerprint: Map<string, FileInfo>;
  readonly fingerprintDir: string | null;
  /** Compile outputs: v2 `out/` (non-run units), legacy `deps/` and `build/<pkg>-<META>/` files. */
  readonly outputs: FileInfo[];
  /** Build-script run files: stdout/output, stderr, root-output, invoked.timestamp. */
  readonly run: Map<string, FileInfo>;
  readonly outDir: string | null;
}

interface FileInfo {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

function fileInfo(result: WalkResult, base: string, e: WalkEntry): FileInfo {
  let size = e.bytes;
  if (e.nlink > 1 && e.type === 'f') size = result.links.find((l) => l.rel === e.rel)?.size ?? 0;
  return { name: path.posix.basename(e.rel), path: e.rel === '' ? base : path.join(base, e.rel), size, mtimeMs: e.mtimeMs };
}

function collectUnitFiles(plan: UnitPlan, acc: Accountant): UnitFiles {
  const fingerprint = new Map<string, FileInfo>();
  const outputs: FileInfo[] = [];
  const run = new Map<string, FileInfo>();
  let fingerprintDir: string | null = null;
  let outDir: string | null = null;
  for (const p of plan.paths) {
    const at = acc.locate(p);
    if (!at) continue;
    const { result, rel } = at;
    const base = p.within ? p.within.request : p.path;
    if (plan.layout === 'v2') {
      for (const e of result.entries) {
        const slash = e.rel.indexOf('/');
        if (slash < 0 || e.rel.indexOf('/', slash + 1) >= 0 || e.type === 'd') continue;
        const part = e.rel.slice(0, slash);
        const f = fileInfo(result, base, e);
        if (part === 'fingerprint') fingerprint.set(f.name, f);
        else if (part === 'out') outputs.push(f);
        else if (part === 'run') run.set(f.name, f);
      }
      if (result.entries.some((e) => e.rel === 'fingerprint')) fingerprintDir = path.join(base, 'fingerprint');
      if (result.entries.some((e) => e.rel === 'run')) outDir = path.join(base, 'out');
    } else if (p.part === 'fingerprint') {
      fingerprintDir = p.path;
      for (const e of result.entries) if (e.rel !== '' && !e.rel.includes('/') && e.type !== 'd') fingerprint.set(e.rel, fileInfo(result, base, e));
    } else if (p.part === 'build') {
      // Legacy build/<pkg>-<META>/: a build-script compile (binary + .d) or a run (output, out/ = OUT_DIR).
      for (const e of result.entries) {
        if (e.rel === '' || e.rel.includes('/') || e.type === 'd') continue;
        const f = fileInfo(result, base, e);
        if (['output', 'stderr', 'root-output', 'invoked.timestamp'].includes(f.name)) run.set(f.name === 'output' ? 'stdout' : f.name, f);
        else outputs.push(f);
      }
      if (result.entries.some((e) => e.rel === 'out' && e.type === 'd')) outDir = path.join(base, 'out');
    } else if (p.within) {
      const e = acc.entry(at.ri, rel);
      if (e && e.type !== 'd') outputs.push(fileInfo(result, base, e));
    }
  }
  return { fingerprint, fingerprintDir, outputs, run, outDir };
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
  const outs = files.outputs.map((o) => o.name);
  const has = (re: RegExp): boolean => outs.some((o) => re.test(o));
  if (mode === 'build' && kind !== 'build-script') {
    const linked = has(/\.(rlib|so|dylib|dll|a|lib|wasm|exe)$/) || outs.some((o) => !o.includes('.') || /-[0-9a-f]{16}$/.test(o));
    if (has(/\.rmeta$/) && !linked) {
      mode = 'check';
      checkFromOutputs = true;
    }
  }
  if (kind === 'lib' && has(/-[0-9a-f]{16}\.(so|dylib|dll)$/) && !has(/\.rlib$/)) kind = 'proc-macro';
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
  const ds = files.outputs.filter((o) => o.name.endsWith('.d'));
  return ds.find((d) => d.name.endsWith(`-${hash}.d`)) ?? ds[0] ?? null;
}

function builtAt(files: UnitFiles, id: Identity): number | null {
  const t = files.fingerprint.get('invoked.timestamp') ?? files.run.get('invoked.timestamp') ?? id.hashFile;
  return t ? t.mtimeMs : null;
}

function parseFeatures(text: string): { features: string[] | null; rustc: string | null; deps: { name: string; hashHex: string }[]; precalculated: string | null; problem: string | null } {
  try {
    const f = parseFingerprintJson(text);
    let precalculated: string | null = null;
    for (const l of f.local as readonly unknown[]) {
      if (l && typeof l === 'object' && 'kind' in l && (l as { kind: unknown }).kind === 'Precalculated') {
        const v = (l as { value?: unknown }).value;
        if (typeof v === 'string') precalculated = v;
      }
    }
    return { features: [...f.features], rustc: f.rustc, deps: f.deps.map((d) => ({ name: d.name, hashHex: d.hashHex })), precalculated, problem: null };
  } catch (e) {
    return { features: null, rustc: null, deps: [], precalculated: null, problem: `fingerprint JSON: ${(e as Error).message}` };
  }
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** How many units are walked, read and digested at a time: bounds memory on huge build dirs. */
const CHUNK = 2048;

/** What one unit needs from the walk, kept after its walk results are released. */
interface StagedUnit {
  readonly plan: UnitPlan;
  readonly id: Identity;
  readonly fingerprintDir: string | null;
  readonly bytes: number;
  readonly freed: number;
  readonly parts: UnitPart[];
  readonly builtAt: number | null;
  readonly guessedPackage: string;
  readonly member: string | null;
  readonly procMacro: boolean;
  readonly hashRead: ReadRequest | null;
  readonly jsonRead: ReadRequest | null;
  readonly depRead: ReadRequest | null;
}

/** A unit decoded on its own; `finalizeUnits` adds what only its siblings can tell. */
interface DraftUnit {
  readonly staged: StagedUnit;
  readonly problems: string[];
  readonly fingerprintHash: string | null;
  readonly lastBuildFailed: boolean;
  readonly features: string[] | null;
  readonly rustc: string | null;
  readonly deps: { name: string; hashHex: string }[];
  readonly version: string | null;
  readonly source: PackageSource | null;
  readonly mode: UnitMode;
}

interface MemberInfo {
  readonly versions: ReadonlyMap<string, string>;
  readonly procMacros: ReadonlySet<string>;
}

function stageUnit(u: UnitPlan, acc: Accountant, members: MemberInfo): StagedUnit {
  const files = collectUnitFiles(u, acc);
  const id = identify(files);
  const m = acc.measure(u.paths);
  // A failed rebuild deletes the `.rlib` and leaves the `.rmeta`: only rustc's `.d` rules still tell a
  // build from a check, so for those units the whole file is read, not just the first line.
  const failed = id.hashFile !== null && id.hashFile.size === 0;
  const fullDep = failed && id.checkFromOutputs;
  const dep = members.versions.has(u.package) && !fullDep ? null : depFileFor(files, u.hash);
  return {
    plan: u,
    id,
    fingerprintDir: files.fingerprintDir,
    bytes: m.bytes,
    freed: m.freed,
    parts: partsOf(u, acc),
    builtAt: builtAt(files, id),
    guessedPackage: u.package || guessPackage(files),
    member: members.versions.get(u.package) ?? null,
    procMacro: members.procMacros.has(u.package),
    hashRead: id.hashFile && id.hashFile.size > 0 ? { path: id.hashFile.path, maxBytes: 64 } : null,
    jsonRead: id.jsonFile ? { path: id.jsonFile.path, maxBytes: MAX_JSON } : null,
    depRead: dep ? (fullDep ? { path: dep.path, maxBytes: MAX_JSON } : { path: dep.path, maxBytes: MAX_DEP_LINE, firstLine: true }) : null,
  };
}

type Text = { text: string; truncated: boolean } | { error: string } | null;

function textOf(req: ReadRequest | null, r: ReadResult | undefined): Text {
  if (!req || !r) return null;
  if (!r.ok) return { error: describeFsError(r.code) };
  return { text: r.data.toString('utf8'), truncated: r.data.length >= req.maxBytes };
}

/** Walks, reads and decodes units a chunk at a time; returns drafts in plan order, vanished units left out. */
async function digestUnits(units: readonly UnitPlan[], acc: Accountant, walker: Walker, members: MemberInfo): Promise<DraftUnit[]> {
  const drafts: DraftUnit[] = [];
  const chunks: UnitPlan[][] = [];
  for (let i = 0; i < units.length; i += CHUNK) chunks.push(units.slice(i, i + CHUNK));
  const ownPaths = (chunk: readonly UnitPlan[]): PlannedPath[] => chunk.flatMap((u) => u.paths.filter((p) => !p.within));
  // The walker works on the next chunk while this one is digested: the two processes overlap.
  let walking: Promise<void> | null = chunks[0] ? acc.walk(ownPaths(chunks[0])) : null;
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    await walking;
    // A unit whose every path vanished between the layout pass and the walk was deleted (cargo clean, or a
    // rebuild replacing it): it is simply not there any more.
    const staged = chunk.filter((u) => u.paths.some((p) => acc.exists(p))).map((u) => stageUnit(u, acc, members));
    acc.release(ownPaths(chunk));
    const next = chunks[c + 1];
    walking = next ? acc.walk(ownPaths(next)) : null;
    const reads: ReadRequest[] = [];
    const slots = staged.map((s) => [s.hashRead, s.jsonRead, s.depRead].map((r) => (r ? reads.push(r) - 1 : -1)));
    const contents = reads.length ? await walker.read(reads) : [];
    staged.forEach((s, k) => {
      const [h, j, d] = slots[k]!.map((slot) => (slot < 0 ? null : textOf(reads[slot]!, contents[slot])));
      drafts.push(decodeUnit(s, h ?? null, j ?? null, d ?? null));
    });
  }
  return drafts;
}

function decodeUnit(p: StagedUnit, hashText: Text, jsonText: Text, depText: Text): DraftUnit {
  const problems: string[] = [];
  let fingerprintHash: string | null = null;
  let lastBuildFailed = false;
  if (p.id.hashFile) {
    if (p.id.hashFile.size === 0) lastBuildFailed = true;
    if (hashText && 'text' in hashText) {
      const h = parseHashFile(Buffer.from(hashText.text));
      if (h.state === 'ok') fingerprintHash = h.hash;
      else if (h.state === 'invalid') problems.push(`hash file: ${h.reason}`);
    } else if (hashText) problems.push(`hash file ${hashText.error}`);
  } else {
    problems.push(p.fingerprintDir ? 'fingerprint folder has no hash file' : 'no fingerprint folder (pieces of a unit cargo no longer tracks)');
  }
  let features: string[] | null = null;
  let rustc: string | null = null;
  let deps: { name: string; hashHex: string }[] = [];
  let precalculated: string | null = null;
  if (jsonText && 'text' in jsonText) {
    const f = parseFeatures(jsonText.text);
    features = f.features;
    rustc = f.rustc;
    deps = f.deps;
    precalculated = f.precalculated;
    if (f.problem) problems.push(f.problem);
  } else if (jsonText) problems.push(`fingerprint JSON ${jsonText.error}`);
  let version: string | null = p.member;
  let source: PackageSource | null = p.member !== null ? { kind: 'path', detail: null } : null;
  let mode = p.id.mode;
  if (depText && 'text' in depText) {
    if (p.id.checkFromOutputs && linkedRuleIn(depText.text)) mode = 'build';
    let line = depText.text.split('\n', 1)[0] ?? '';
    // A cut-off line ends in a partial path: drop it.
    if (depText.truncated && !depText.text.includes('\n')) line = line.slice(0, Math.max(line.lastIndexOf(' '), 0));
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
  return { staged: p, problems, fingerprintHash, lastBuildFailed, features, rustc, deps, version, source, mode };
}

function finalizeUnits(drafts: readonly DraftUnit[], pid: string): Unit[] {
  const byHash = new Map<string, { version: string | null; source: PackageSource | null }>();
  for (const d of drafts) if (d.fingerprintHash) byHash.set(d.fingerprintHash, { version: d.version, source: d.source });
  // A package has one lib target: when any of its lib units is a proc-macro (a hashed `.so`), or cargo
  // metadata says so, its check units (`.rmeta` only) are proc-macros too.
  const procMacros = new Set(drafts.filter((d) => d.staged.id.kind === 'proc-macro' || d.staged.procMacro).map((d) => d.staged.plan.package));
  return drafts.map((d) => {
    let { version, source } = d;
    if (version === null || source === null) {
      // A build-script run has no `.d`: it inherits from the script it runs (its `build_script_build` dep).
      for (const dep of d.deps) {
        const o = byHash.get(dep.hashHex);
        if (dep.name === 'build_script_build' && o) {
          version ??= o.version;
          source ??= o.source;
        }
      }
    }
    const p = d.staged;
    const pkg = p.guessedPackage;
    return {
      id: unitId(pid, pkg, p.plan.hash, p.plan.layout),
      package: pkg,
      hash: p.plan.hash,
      layout: p.plan.layout,
      kind: p.id.kind === 'lib' && procMacros.has(p.plan.package) ? 'proc-macro' : p.id.kind,
      mode: d.mode,
      target: p.id.target,
      features: d.features,
      version,
      source,
      paths: p.plan.paths.map((x) => x.path),
      parts: p.parts,
      bytes: p.bytes,
      freedBytes: p.freed,
      builtAt: p.builtAt,
      lastBuildFailed: d.lastBuildFailed,
      fingerprintHash: d.fingerprintHash,
      rustc: d.rustc,
      deps: d.deps.map((x) => ({ name: x.name, fingerprint: x.hashHex })),
      fingerprintFiles: p.id.names,
      stale: [],
      problems: d.problems,
    };
  });
}

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
  const incremental = pp.incremental.map((ip) => ({ ip, planned: { path: ip.path, part: 'other', depth: 1 } as PlannedPath }));
  for (const p of [...pp.shared, ...pp.units.flatMap((u) => u.paths), ...incremental.map((i) => i.planned)]) if (!p.within) acc.request(p);
  await acc.walk(pp.shared);
  const members: MemberInfo = {
    versions: new Map((opts.members ?? []).map((m) => [m.name, m.version])),
    procMacros: new Set((opts.members ?? []).filter((m) => m.procMacro).map((m) => m.name)),
  };
  const drafts = await digestUnits(pp.units, acc, opts.walker, members);
  await acc.walk(incremental.map((i) => i.planned));
  return {
    units: finalizeUnits(drafts, profileId(buildDir, pp.platform, pp.name)),
    incremental: incremental.map((i) => decodeIncremental(i.ip, i.planned, acc)),
    problems,
  };
}

export async function scanBuildDirs(locations: readonly BuildDirLocationLike[], opts: ScanOptions): Promise<ScanResult> {
  const problems: ScanProblem[] = [];
  if (opts.onOutline) {
    opts.onOutline({
      buildDirs: locations.map((l) => ({
        path: l.path,
        profiles: outlineBuildDir(l.path).map((p) => ({ name: p.name, platform: p.platform, packages: p.packages })),
      })),
    });
  }
  const plans = locations.map((l) => ({ loc: l, plan: planBuildDir(l.path, l.role) }));
  for (const { plan } of plans) problems.push(...plan.problems);

  const acc = new Accountant(opts.walker, problems);
  // Measures are cached per planned path object: one object per incremental folder, made once.
  const incrementalPaths = new Map<IncrementalPlan, PlannedPath>();
  const incrementalPath = (i: IncrementalPlan): PlannedPath => {
    let p = incrementalPaths.get(i);
    if (!p) incrementalPaths.set(i, (p = { path: i.path, part: 'other', depth: 1 }));
    return p;
  };
  // Shared requests (legacy `deps/`) are only walked: their entries are counted through units and buckets.
  const allPaths = (pp: ProfilePlan): PlannedPath[] => [
    ...pp.units.flatMap((u) => u.paths),
    ...pp.incremental.map(incrementalPath),
    ...pp.buckets.flatMap((b) => b.paths),
  ];
  for (const { plan } of plans) {
    for (const pp of plan.profiles) for (const p of [...pp.shared, ...allPaths(pp)]) if (!p.within) acc.request(p);
    for (const b of plan.buckets) for (const p of b.paths) if (!p.within) acc.request(p);
  }
  // Buckets and shared folders first (few requests); they stay walked until the end.
  await acc.walk(plans.flatMap(({ plan }) => [...plan.buckets.flatMap((b) => b.paths), ...plan.profiles.flatMap((pp) => [...pp.shared, ...pp.buckets.flatMap((b) => b.paths)])]));

  const members: MemberInfo = {
    versions: new Map((opts.members ?? []).map((m) => [m.name, m.version])),
    procMacros: new Set((opts.members ?? []).filter((m) => m.procMacro).map((m) => m.name)),
  };
  const buildDirs: BuildDir[] = [];
  for (const { loc, plan } of plans) {
    const profiles: Profile[] = [];
    for (const pp of plan.profiles) {
      const pid = profileId(plan.path, pp.platform, pp.name);
      const drafts = await digestUnits(pp.units, acc, opts.walker, members);
      const units = finalizeUnits(drafts, pid);
      const incremental: IncrementalCrate[] = [];
      for (let i = 0; i < pp.incremental.length; i += CHUNK) {
        const chunk = pp.incremental.slice(i, i + CHUNK).map((ip) => ({ ip, planned: incrementalPath(ip) }));
        await acc.walk(chunk.map((c) => c.planned));
        for (const c of chunk) incremental.push(decodeIncremental(c.ip, c.planned, acc));
        acc.release(chunk.map((c) => c.planned));
      }
      const other: Bucket[] = pp.buckets.map((b) => ({ name: b.name, paths: b.paths.map((p) => p.path), bytes: acc.measure(b.paths).bytes }));
      profiles.push({
        id: pid,
        name: pp.name,
        platform: pp.platform,
        path: pp.path,
        layouts: pp.layouts,
        units,
        packages: summarizePackages(units, drafts, acc),
        incremental,
        other,
        bytes: acc.measure(allPaths(pp)).bytes,
        locks: pp.locks,
      });
    }
    const everything = [...plan.profiles.flatMap(allPaths), ...plan.buckets.flatMap((b) => b.paths)];
    buildDirs.push({
      id: plan.path,
      path: plan.path,
      role: loc.role,
      discovery: loc.discovery,
      exists: plan.exists,
      profiles,
      other: plan.buckets.map((b) => ({ name: b.name, paths: b.paths.map((p) => p.path), bytes: acc.measure(b.paths).bytes })),
      bytes: acc.measure(everything).bytes,
    });
  }
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

function partsOf(plan: UnitPlan, acc: Accountant): UnitPart[] {
  if (plan.layout === 'v2') {
    const unitDir = plan.paths[0];
    if (!unitDir) return [];
    const at = acc.locate(unitDir);
    const present = new Set((at?.result.entries ?? []).filter((e) => e.rel !== '' && !e.rel.includes('/')).map((e) => e.rel));
    return (['fingerprint', 'out', 'run', 'artifact'] as const)
      .filter((name) => present.has(name))
      .map((name) => {
        const inside: PlannedPath = { path: path.join(unitDir.path, name), part: name, depth: 0, within: { request: unitDir.path, rel: name } };
        return { name, path: inside.path, bytes: acc.measure([inside]).bytes };
      });
  }
  return plan.paths.map((x) => ({ name: x.part, path: x.path, bytes: acc.measure([x]).bytes }));
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
  return { crate: ip.crate, path: ip.path, bytes: acc.measure([planned]).bytes, sessions };
}

function summarizePackages(units: readonly Unit[], drafts: readonly DraftUnit[], acc: Accountant): PackageSummary[] {
  const byPkg = new Map<string, { ids: string[]; paths: PlannedPath[] }>();
  units.forEach((u, i) => {
    let g = byPkg.get(u.package);
    if (!g) byPkg.set(u.package, (g = { ids: [], paths: [] }));
    g.ids.push(u.id);
    g.paths.push(...(drafts[i]?.staged.plan.paths ?? []));
  });
  return [...byPkg.entries()]
    .map(([name, g]) => {
      const m = acc.measure(g.paths);
      return { name, bytes: m.bytes, freedBytes: m.freed, unitIds: g.ids };
    })
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}
