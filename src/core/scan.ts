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
import type { ReadRequest, WalkEntry, WalkLink, WalkResult, Walker } from './walk';
import { planBuildDir, describeFsError, type PlannedPath, type ProfilePlan, type UnitPlan } from './layout';
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

/** Resolves planned paths to walk entries and adds up sizes with each inode counted once. */
class Accountant {
  private readonly index = new Map<string, number>();
  private readonly relMaps = new Map<number, Map<string, number>>();
  results: WalkResult[] = [];
  readonly requests: { path: string; depth: number }[] = [];

  request(p: PlannedPath): void {
    const key = p.within ? p.within.request : p.path;
    if (this.index.has(key)) return;
    if (p.within) throw new Error(`internal: ${p.path} planned inside ${key}, which was not requested first`);
    this.index.set(key, this.requests.length);
    this.requests.push({ path: key, depth: p.depth });
  }

  private relIndex(ri: number): Map<string, number> {
    let m = this.relMaps.get(ri);
    if (!m) {
      m = new Map();
      const es = this.results[ri]?.entries ?? [];
      for (let i = 0; i < es.length; i++) m.set(es[i]!.rel, i);
      this.relMaps.set(ri, m);
    }
    return m;
  }

  /** The walk result and relative path a planned path lives at. */
  locate(p: PlannedPath): { result: WalkResult; ri: number; rel: string } | null {
    const key = p.within ? p.within.request : p.path;
    const ri = this.index.get(key);
    if (ri === undefined) return null;
    const result = this.results[ri];
    if (!result) return null;
    return { result, ri, rel: p.within ? p.within.rel : '' };
  }

  /** Was anything found at this planned path? (False when it vanished before the walker got there.) */
  exists(p: PlannedPath): boolean {
    const at = this.locate(p);
    if (!at) return false;
    return at.rel === '' ? at.result.entries.length > 0 : this.entry(at.ri, at.rel) !== undefined;
  }

  entry(ri: number, rel: string): WalkEntry | undefined {
    const i = this.relIndex(ri).get(rel);
    return i === undefined ? undefined : this.results[ri]?.entries[i];
  }

  /** `du -sb` of a set of planned paths, and what deleting them would free. */
  measure(paths: readonly PlannedPath[]): { bytes: number; freed: number } {
    let bytes = 0;
    const links = new Map<string, { size: number; nlink: number; paths: Set<string> }>();
    for (const p of paths) {
      const at = this.locate(p);
      if (!at) continue;
      const { result, ri, rel } = at;
      const e = rel === '' ? result.entries[0] : this.entry(ri, rel);
      if (!e) continue;
      const ownOnly = p.within !== undefined && p.depth === -1;
      if (ownOnly) {
        bytes += ownBytes(result, ri, rel, e, this);
        continue;
      }
      bytes += e.bytes;
      for (const l of result.links) {
        if (rel !== '' && l.rel !== rel && !l.rel.startsWith(rel + '/')) continue;
        addLink(links, l, p.within ? p.within.request : p.path);
      }
    }
    let freed = bytes;
    for (const l of links.values()) {
      bytes += l.size;
      if (l.paths.size >= l.nlink) freed += l.size;
    }
    return { bytes, freed };
  }
}

function addLink(links: Map<string, { size: number; nlink: number; paths: Set<string> }>, l: WalkLink, base: string): void {
  let a = links.get(l.key);
  if (!a) links.set(l.key, (a = { size: l.size, nlink: l.nlink, paths: new Set() }));
  a.paths.add(base + '/' + l.rel);
}

/** A directory's own size: its subtree minus the subtrees of its direct children (all listed at depth ≥ 1). */
function ownBytes(result: WalkResult, ri: number, rel: string, e: WalkEntry, acc: Accountant): number {
  if (e.type !== 'd') return e.bytes;
  const prefix = rel === '' ? '' : rel + '/';
  let children = 0;
  for (const c of result.entries) {
    if (c === e || !c.rel.startsWith(prefix)) continue;
    const rest = c.rel.slice(prefix.length);
    if (rest === '' || rest.includes('/')) continue;
    children += c.bytes;
  }
  void ri;
  void acc;
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

interface PendingUnit {
  plan: UnitPlan;
  files: UnitFiles;
  id: Identity;
  bytes: number;
  freed: number;
  hashRead: number;
  jsonRead: number;
  depRead: number;
  member: string | null;
  procMacro: boolean;
}

export async function scanBuildDirs(locations: readonly BuildDirLocationLike[], opts: ScanOptions): Promise<ScanResult> {
  const problems: ScanProblem[] = [];
  const plans = locations.map((l) => ({ loc: l, plan: planBuildDir(l.path, l.role) }));
  for (const { plan } of plans) problems.push(...plan.problems);
  opts.onOutline?.({
    buildDirs: plans.map(({ plan }) => ({
      path: plan.path,
      profiles: plan.profiles.map((p) => ({ name: p.name, platform: p.platform, packages: [...new Set(p.units.map((u) => u.package))].sort() })),
    })),
  });

  // Pass 2: one batch of walk requests for everything planned.
  const acc = new Accountant();
  // Shared requests (legacy `deps/`) are only walked: their entries are counted through units and buckets.
  const allPaths = (pp: ProfilePlan): PlannedPath[] => [
    ...pp.units.flatMap((u) => u.paths),
    ...pp.incremental.map((i) => ({ path: i.path, part: 'other' as const, depth: 1 })),
    ...pp.buckets.flatMap((b) => b.paths),
  ];
  for (const { plan } of plans) {
    for (const pp of plan.profiles) for (const p of [...pp.shared, ...allPaths(pp)]) if (!p.within) acc.request(p);
    for (const b of plan.buckets) for (const p of b.paths) if (!p.within) acc.request(p);
  }
  acc.results = await opts.walker.walk(acc.requests);
  acc.requests.forEach((r, i) => {
    for (const err of acc.results[i]?.errors ?? []) {
      if (err.code === 'ENOENT') continue; // vanished mid-scan: cargo is writing; the next scan sees it
      problems.push({ path: err.rel === '' ? r.path : path.join(r.path, err.rel), message: describeFsError(err.code) });
    }
  });

  // Pass 3: one batch of reads for what each unit needs.
  const members = new Map((opts.members ?? []).map((m) => [m.name, m.version]));
  const procMacroMembers = new Set((opts.members ?? []).filter((m) => m.procMacro).map((m) => m.name));
  const reads: ReadRequest[] = [];
  const addRead = (r: ReadRequest): number => reads.push(r) - 1;
  // A unit whose every path vanished between the layout pass and the walk was deleted (cargo clean, or a
  // rebuild replacing it): it is simply not there any more.
  const livePlans = plans.map(({ loc, plan }) => ({
    loc,
    plan: { ...plan, profiles: plan.profiles.map((pp) => ({ ...pp, units: pp.units.filter((u) => u.paths.some((p) => acc.exists(p))) })) },
  }));
  const pending: PendingUnit[][][] = livePlans.map(({ plan }) =>
    plan.profiles.map((pp) =>
      pp.units.map((u) => {
        const files = collectUnitFiles(u, acc);
        const id = identify(files);
        const m = acc.measure(u.paths);
        // A failed rebuild deletes the `.rlib` and leaves the `.rmeta`: only rustc's `.d` rules still tell a
        // build from a check, so for those units the whole file is read, not just the first line.
        const failed = id.hashFile !== null && id.hashFile.size === 0;
        const dep = members.has(u.package) && !(failed && id.checkFromOutputs) ? null : depFileFor(files, u.hash);
        const fullDep = failed && id.checkFromOutputs;
        return {
          plan: u,
          files,
          id,
          bytes: m.bytes,
          freed: m.freed,
          hashRead: id.hashFile && id.hashFile.size > 0 ? addRead({ path: id.hashFile.path, maxBytes: 64 }) : -1,
          jsonRead: id.jsonFile ? addRead({ path: id.jsonFile.path, maxBytes: MAX_JSON }) : -1,
          depRead: dep ? addRead(fullDep ? { path: dep.path, maxBytes: MAX_JSON } : { path: dep.path, maxBytes: MAX_DEP_LINE, firstLine: true }) : -1,
          member: members.get(u.package) ?? null,
          procMacro: procMacroMembers.has(u.package),
        };
      }),
    ),
  );
  const contents = reads.length ? await opts.walker.read(reads) : [];
  const text = (i: number): { text: string; truncated: boolean } | { error: string } | null => {
    if (i < 0) return null;
    const r = contents[i];
    if (!r) return null;
    if (!r.ok) return { error: describeFsError(r.code) };
    return { text: r.data.toString('utf8'), truncated: r.data.length >= (reads[i]?.maxBytes ?? Infinity) };
  };

  const buildDirs: BuildDir[] = livePlans.map(({ loc, plan }, bi) => {
    const profiles: Profile[] = plan.profiles.map((pp, pi) => {
      const pid = profileId(plan.path, pp.platform, pp.name);
      const units = decodeUnits(pending[bi]![pi]!, pid, text, acc);
      const incremental = pp.incremental.map((ip) => decodeIncremental(ip, acc));
      const other: Bucket[] = pp.buckets.map((b) => ({ name: b.name, paths: b.paths.map((p) => p.path), bytes: acc.measure(b.paths).bytes }));
      const total = acc.measure(allPaths(pp));
      return {
        id: pid,
        name: pp.name,
        platform: pp.platform,
        path: pp.path,
        layouts: pp.layouts,
        units,
        packages: summarizePackages(units, pp, acc),
        incremental,
        other,
        bytes: total.bytes,
        locks: pp.locks,
      };
    });
    const everything = [...plan.profiles.flatMap(allPaths), ...plan.buckets.flatMap((b) => b.paths)];
    return {
      id: plan.path,
      path: plan.path,
      role: loc.role,
      discovery: loc.discovery,
      exists: plan.exists,
      profiles,
      other: plan.buckets.map((b) => ({ name: b.name, paths: b.paths.map((p) => p.path), bytes: acc.measure(b.paths).bytes })),
      bytes: acc.measure(everything).bytes,
    };
  });
  return { workspaceRoot: opts.workspaceRoot ?? null, buildDirs, problems, walker: opts.walker.name };
}

type TextOf = (i: number) => { text: string; truncated: boolean } | { error: string } | null;

function decodeUnits(pending: readonly PendingUnit[], pid: string, text: TextOf, acc: Accountant): Unit[] {
  const byHash = new Map<string, { version: string | null; source: PackageSource | null }>();
  const decoded = pending.map((p) => {
    const problems: string[] = [];
    let fingerprintHash: string | null = null;
    let lastBuildFailed = false;
    if (p.id.hashFile) {
      if (p.id.hashFile.size === 0) lastBuildFailed = true;
      const t = text(p.hashRead);
      if (t && 'text' in t) {
        const h = parseHashFile(Buffer.from(t.text));
        if (h.state === 'ok') fingerprintHash = h.hash;
        else if (h.state === 'invalid') problems.push(`hash file: ${h.reason}`);
      } else if (t) problems.push(`hash file ${t.error}`);
    } else {
      problems.push(p.files.fingerprintDir ? 'fingerprint folder has no hash file' : 'no fingerprint folder (pieces of a unit cargo no longer tracks)');
    }
    let features: string[] | null = null;
    let rustc: string | null = null;
    let deps: { name: string; hashHex: string }[] = [];
    let precalculated: string | null = null;
    const jt = text(p.jsonRead);
    if (jt && 'text' in jt) {
      const f = parseFeatures(jt.text);
      features = f.features;
      rustc = f.rustc;
      deps = f.deps;
      precalculated = f.precalculated;
      if (f.problem) problems.push(f.problem);
    } else if (jt) problems.push(`fingerprint JSON ${jt.error}`);
    let version: string | null = p.member;
    let source: PackageSource | null = p.member !== null ? { kind: 'path', detail: null } : null;
    const dt = text(p.depRead);
    let mode = p.id.mode;
    if (dt && 'text' in dt && p.id.checkFromOutputs && linkedRuleIn(dt.text)) mode = 'build';
    if (dt && 'text' in dt) {
      let line = dt.text.split('\n', 1)[0] ?? '';
      // A cut-off line ends in a partial path: drop it.
      if (dt.truncated && !dt.text.includes('\n')) line = line.slice(0, Math.max(line.lastIndexOf(' '), 0));
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
    if (fingerprintHash) byHash.set(fingerprintHash, { version, source });
    return { p, problems, fingerprintHash, lastBuildFailed, features, rustc, deps, version, source, mode };
  });
  // A package has one lib target: when any of its lib units is a proc-macro (a hashed `.so`), or cargo
  // metadata says so, its check units (`.rmeta` only) are proc-macros too.
  const procMacros = new Set(pending.filter((p) => p.id.kind === 'proc-macro' || p.procMacro).map((p) => p.plan.package));
  return decoded.map((d) => {
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
    const { p } = d;
    const pkg = p.plan.package || guessPackage(p.files);
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
      parts: partsOf(p, acc),
      bytes: p.bytes,
      freedBytes: p.freed,
      builtAt: builtAt(p.files, p.id),
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

function partsOf(p: PendingUnit, acc: Accountant): UnitPart[] {
  if (p.plan.layout === 'v2') {
    const unitDir = p.plan.paths[0];
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
  return p.plan.paths.map((x) => ({ name: x.part, path: x.path, bytes: acc.measure([x]).bytes }));
}

function decodeIncremental(ip: { crate: string; path: string }, acc: Accountant): IncrementalCrate {
  const planned: PlannedPath = { path: ip.path, part: 'other', depth: 1 };
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

function summarizePackages(units: readonly Unit[], pp: ProfilePlan, acc: Accountant): PackageSummary[] {
  const byPkg = new Map<string, { ids: string[]; paths: PlannedPath[] }>();
  units.forEach((u, i) => {
    let g = byPkg.get(u.package);
    if (!g) byPkg.set(u.package, (g = { ids: [], paths: [] }));
    g.ids.push(u.id);
    g.paths.push(...(pp.units[i]?.paths ?? []));
  });
  return [...byPkg.entries()]
    .map(([name, g]) => {
      const m = acc.measure(g.paths);
      return { name, bytes: m.bytes, freedBytes: m.freed, unitIds: g.ids };
    })
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}
