// Which OUT_DIR of a package is the current one (issue 5, "Inspect"). A package with a build script gets one
// build-script run unit per variant (features, profile, platform, toolchain, RUSTFLAGS), each with its own
// `out/`; the newest folder is not necessarily the one in use (switch features back and the older run is
// current again without running). The current run is the one reached, through the fingerprint `deps` graph
// (src/core/stale.ts), from the unit the latest build is known to have used. Evidence of use, strongest first
// at equal times: the `-Zbuild-analysis` log of the last build, the uplifted artifacts in the target dir
// (hard links that cargo re-points at every build that asks for them), and the newest build of each workspace
// member (what the staleness analysis starts from).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanResult, Unit } from './model';
import { liveness, reachableFrom, type Liveness, type StaleContext } from './stale';
import { describeUnit, indexUnits, isoTime, outDirOf, profileWords } from './unitindex';

export type LiveSource = 'build-log' | 'uplifted' | 'newest-build';

/** A piece of evidence that a build used a unit. */
export interface LiveSignal {
  readonly unit: Unit;
  /** When the evidence was made (ms since the epoch), null when unknown; later evidence wins. */
  readonly at: number | null;
  readonly source: LiveSource;
  /** In words, e.g. `target/debug/libapp.rlib is a hard link to its output …`. */
  readonly evidence: string;
}

const RANK: Readonly<Record<LiveSource, number>> = { 'build-log': 0, uplifted: 1, 'newest-build': 2 };

function fileKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

function listFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * Units whose outputs the target dir's uplifted files are hard links to. Cargo links `<target-dir>/<profile>/`
 * copies (`libapp.rlib`, `app`, `examples/demo`) to the unit of the latest build that asked for them, and
 * re-points the link (which changes its ctime) when a build picks another unit, even if nothing was compiled.
 * `targetDirs` defaults to the scanned folders that are a target dir (role `both` or `target-dir`). Copies made
 * where hard links fail (other file systems) match nothing and are simply no evidence.
 */
export function readUpliftSignals(scan: ScanResult, opts: { readonly targetDirs?: readonly string[] } = {}): LiveSignal[] {
  const targetDirs = opts.targetDirs ?? scan.buildDirs.filter((b) => b.role !== 'build-dir').map((b) => b.path);
  const out: LiveSignal[] = [];
  for (const b of scan.buildDirs) {
    if (b.role === 'target-dir') continue;
    for (const p of b.profiles) {
      const rel = path.relative(b.path, p.path);
      const links = new Map<string, { file: string; ctime: number; targetDir: string }>();
      for (const td of targetDirs) {
        const dir = path.join(td, rel);
        for (const f of [...listFiles(dir), ...listFiles(path.join(dir, 'examples'))]) {
          if (f.endsWith('.d')) continue;
          try {
            const st = fs.lstatSync(f);
            if (st.isFile() && st.nlink >= 2) links.set(fileKey(st), { file: f, ctime: st.ctimeMs, targetDir: td });
          } catch {
            // Vanished between listing and stat: not evidence.
          }
        }
      }
      if (links.size === 0) continue;
      for (const u of p.units) {
        if (u.mode !== 'build' || !['lib', 'proc-macro', 'bin', 'example'].includes(u.kind)) continue;
        const files = u.layout === 'v2' ? listFiles(path.join(u.paths[0] ?? '', 'out')) : u.paths;
        for (const f of files) {
          let st: fs.Stats;
          try {
            st = fs.lstatSync(f);
          } catch {
            continue;
          }
          if (!st.isFile()) continue;
          const hit = links.get(fileKey(st));
          if (!hit) continue;
          const shown = path.relative(path.dirname(hit.targetDir), hit.file);
          out.push({
            unit: u,
            at: hit.ctime,
            source: 'uplifted',
            evidence: `${shown} is a hard link to its output; cargo re-points that link at every build that asks for it, and last did so at ${isoTime(hit.ctime)}`,
          });
          break;
        }
      }
    }
  }
  return out;
}

/** The newest-build roots of the staleness analysis, as signals. */
export function livenessSignals(live: Liveness): LiveSignal[] {
  return live.roots.map((u) => ({
    unit: u,
    at: u.builtAt,
    source: 'newest-build' as const,
    evidence: `it is the newest build of its kind for a workspace member (built ${isoTime(u.builtAt)})`,
  }));
}

function orderSignals(signals: readonly LiveSignal[]): LiveSignal[] {
  const best = new Map<string, LiveSignal>();
  const better = (a: LiveSignal, b: LiveSignal): boolean => {
    const ta = a.at ?? -Infinity;
    const tb = b.at ?? -Infinity;
    return ta !== tb ? ta > tb : RANK[a.source] < RANK[b.source];
  };
  for (const s of signals) {
    const seen = best.get(s.unit.id);
    if (!seen || better(s, seen)) best.set(s.unit.id, s);
  }
  return [...best.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
}

export interface OutDirEntry {
  readonly unit: Unit;
  /** Absolute OUT_DIR (the unit's `out/`). */
  readonly outDir: string;
  /** When the build script last ran (mtime of the run's `invoked.timestamp`). */
  readonly ranAt: number | null;
  readonly bytes: number;
}

export type CurrentSource = LiveSource | 'newest-run';

/** The OUT_DIRs of one package in one profile folder (`[<triple>/]<profile>`). */
export interface PackageOutDirs {
  readonly package: string;
  readonly buildDir: string;
  readonly profileId: string;
  /** Folder name: `debug`, `release`, a custom profile. */
  readonly profile: string;
  /** `--target` triple of the folder, null for the host folder. */
  readonly platform: string | null;
  /** Null only when the package has no run unit here (never returned that way by outDirsOf). */
  readonly current: OutDirEntry | null;
  readonly currentSource: CurrentSource | null;
  /** Why `current` is the current one, in words. */
  readonly currentReason: string;
  /** The root unit whose dependencies reach `current` (null for `newest-run`). */
  readonly currentVia: Unit | null;
  /** The other run units, most recent run first. */
  readonly older: readonly OutDirEntry[];
}

export interface OutDirOptions {
  /** Extra evidence: readUpliftSignals, analysisSignals (src/core/analysis.ts). Uplift signals are read when absent. */
  readonly signals?: readonly LiveSignal[];
  /** Read the target dir's uplifted files when `signals` is not given (default true). */
  readonly readUplifted?: boolean;
  readonly targetDirs?: readonly string[];
  /** The staleness analysis' liveness; computed from the scan (with the context below) when absent. */
  readonly liveness?: Liveness;
  readonly members?: StaleContext['members'];
  readonly evidence?: StaleContext['evidence'];
  readonly resolve?: StaleContext['resolve'];
}

function entryOf(u: Unit): OutDirEntry {
  return { unit: u, outDir: outDirOf(u) ?? '', ranAt: u.builtAt, bytes: u.bytes };
}

/**
 * Every OUT_DIR of `pkg`, per profile folder: the current one first with the reason, then the older ones.
 * Empty when the package has no build-script run unit.
 */
export function outDirsOf(scan: ScanResult, pkg: string, opts: OutDirOptions = {}): PackageOutDirs[] {
  const index = indexUnits(scan);
  const runs = index.refs.filter((r) => r.unit.package === pkg && r.unit.mode === 'run-custom-build');
  if (runs.length === 0) return [];
  const live = opts.liveness ?? liveness(scan, { members: opts.members ?? null, evidence: opts.evidence ?? null, resolve: opts.resolve ?? null });
  const extra = opts.signals ?? (opts.readUplifted === false ? [] : readUpliftSignals(scan, opts.targetDirs ? { targetDirs: opts.targetDirs } : {}));
  const ordered = orderSignals([...extra, ...livenessSignals(live)]);
  const signalOf = new Map(ordered.map((s, i) => [s.unit.id, { s, i }]));
  // One walk from every root in order of strength: each unit keeps the strongest root that reaches it.
  const reached = reachableFrom(
    scan,
    ordered.map((s) => s.unit),
  );

  const groups = new Map<string, typeof runs>();
  for (const r of runs) {
    const g = groups.get(r.profile.id);
    if (g) g.push(r);
    else groups.set(r.profile.id, [r]);
  }
  const result: PackageOutDirs[] = [];
  for (const g of groups.values()) {
    const { profile, buildDir } = g[0]!;
    let best: { ref: (typeof runs)[number]; s: LiveSignal; i: number } | null = null;
    for (const r of g) {
      const root = reached.get(r.unit.id);
      const sig = root ? signalOf.get(root.id) : undefined;
      if (!sig) continue;
      if (best === null || sig.i < best.i || (sig.i === best.i && (r.unit.builtAt ?? -Infinity) > (best.ref.unit.builtAt ?? -Infinity))) best = { ref: r, s: sig.s, i: sig.i };
    }
    const byRun = [...g].sort((a, b) => (b.unit.builtAt ?? -Infinity) - (a.unit.builtAt ?? -Infinity));
    let current: Unit;
    let reason: string;
    let source: CurrentSource;
    let via: Unit | null = null;
    if (best) {
      current = best.ref.unit;
      source = best.s.source;
      via = best.s.unit;
      const lead =
        via.id === current.id ? `${describeUnit(via)} itself is evidence of use: ` : `${describeUnit(via)} depends on it through the fingerprint dependency graph, and `;
      reason = lead + best.s.evidence;
      if (g.length > 1) {
        const others = g.filter((r) => r.unit.id !== current.id);
        const newer = others.filter((r) => (r.unit.builtAt ?? -Infinity) > (current.builtAt ?? -Infinity));
        if (newer.length) reason += `. ${newer.length === 1 ? 'One other run is' : `${newer.length} other runs are`} newer, but no later build used ${newer.length === 1 ? 'it' : 'them'}`;
      }
    } else {
      current = byRun[0]!.unit;
      source = 'newest-run';
      reason = `no build of a workspace member that is still on disk reaches any of its ${g.length} run${g.length === 1 ? '' : 's'}; the most recent run (${isoTime(current.builtAt)}) is shown as current`;
    }
    result.push({
      package: pkg,
      buildDir: buildDir.path,
      profileId: profile.id,
      profile: profile.name,
      platform: profile.platform,
      current: entryOf(current),
      currentSource: source,
      currentReason: `current in ${profileWords(profile)}: ${reason}`,
      currentVia: via,
      older: byRun.filter((r) => r.unit.id !== current.id).map((r) => entryOf(r.unit)),
    });
  }
  return result;
}
