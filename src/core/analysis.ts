// The `-Zbuild-analysis` log (reference §10) read back (issue 5, "Inspect"): which build of a workspace ran last,
// what each unit did in it (fresh, rebuilt, new), why in words, how long it took, and which unit folder of the
// build dir it was. Cargo writes one `$CARGO_HOME/log/<run_id>.jsonl` per command, only on nightly with both
// `-Zbuild-analysis` and `build.analysis.enabled = true` (or CARGO_BUILD_ANALYSIS_ENABLED=true). The log holds no
// unit hash and no build dir, so units are joined to folders by what both record (package, target, mode,
// features, profile and platform folder), narrowed by the folder named in a changed-file reason, by the build
// time of rebuilt units, and by the dependency graph (the log's `dependencies` against the fingerprints' deps).
// Reading is tolerant: a line cargo was still writing, or garbage, is reported and skipped.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanResult, Unit, UnitKind, UnitMode } from './model';
import { parseDebugStringList } from './fingerprint';
import { parseRustcVerbose, rustcFieldFromVerbose } from './rustc-hash';
import type { ToolchainLike } from './stale';
import { describeChange } from './compare';
import { unitLabel } from './format';
import type { LiveSignal } from './outdir';
import { fingerprintDirOf, indexUnits, isoTime, type UnitRef } from './unitindex';
import { readNoFollow } from './inspect';

export const HOW_TO_ENABLE =
  'Cargo writes build-analysis logs only on nightly, and only when asked twice: pass `-Zbuild-analysis` and set ' +
  '`build.analysis.enabled = true` in a cargo config file (or CARGO_BUILD_ANALYSIS_ENABLED=true in the environment), ' +
  'e.g. `CARGO_BUILD_ANALYSIS_ENABLED=true cargo +nightly build -Zbuild-analysis`. Each build then writes ' +
  '$CARGO_HOME/log/<run id>.jsonl (CARGO_HOME defaults to ~/.cargo).';

const MAX_LOG = 64 << 20;
const MAX_PROBLEMS = 20;

export type LogStatus = 'new' | 'dirty' | 'fresh';

export interface LogUnit {
  readonly index: number;
  /** As cargo wrote it: `path+file:///…/app#0.3.1`, `registry+…#cfg-if@0.1.10`. */
  readonly packageId: string;
  readonly package: string;
  readonly version: string | null;
  /** Folder of a path package (from its package id), else null. */
  readonly packageRoot: string | null;
  readonly target: { readonly name: string; readonly kind: string };
  /** build, check, test, doc, doctest, docscrape, run-custom-build. */
  readonly mode: string;
  readonly platform: string | null;
  readonly features: readonly string[];
  readonly requested: boolean;
  readonly dependencies: readonly number[];
  readonly status: LogStatus | null;
  /** The DirtyReason object as cargo wrote it (`dirty_reason`, …), null when fresh/new or absent. */
  readonly cause: Readonly<Record<string, unknown>> | null;
  /** Time of `unit-started`, ms since the epoch. */
  readonly startedAt: number | null;
  /** Seconds since the build started, from `unit-started` / `unit-finished`. */
  readonly startedElapsed: number | null;
  readonly finishedElapsed: number | null;
  readonly finishedAt: number | null;
}

export interface LogProblem {
  readonly line: number;
  readonly message: string;
}

export interface BuildLog {
  readonly file: string | null;
  readonly runId: string | null;
  readonly startedAt: number | null;
  readonly command: readonly string[];
  readonly cwd: string | null;
  readonly host: string | null;
  /** `dev`, `release`, `test`, `bench` or a custom profile. */
  readonly profile: string | null;
  readonly rustcVersion: string | null;
  readonly rustcVersionVerbose: string | null;
  readonly targetDir: string | null;
  readonly workspaceRoot: string | null;
  readonly units: readonly LogUnit[];
  /** Time of the last event, ms since the epoch. */
  readonly lastEventAt: number | null;
  /** Every unit that started also finished (false for a build that failed, was killed, or is still running). */
  readonly complete: boolean;
  readonly problems: readonly LogProblem[];
}

/** RFC 3339 with up to nanoseconds; Date.parse takes only milliseconds everywhere. */
export function parseLogTime(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '0').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  return Number.isFinite(ms) ? ms : null;
}

/** Name, version and (for path packages) folder from a package id spec. */
export function parsePackageIdSpec(id: string): { name: string; version: string | null; root: string | null } {
  const hashAt = id.lastIndexOf('#');
  if (hashAt < 0) {
    const parts = id.split(' ');
    return { name: parts[0] ?? id, version: parts[1] ?? null, root: null };
  }
  const url = id.slice(0, hashAt);
  const frag = id.slice(hashAt + 1);
  const at = frag.lastIndexOf('@');
  let root: string | null = null;
  if (url.startsWith('path+file://')) {
    try {
      root = fileURLToPath(url.slice('path+'.length));
    } catch {
      root = null;
    }
  }
  if (at >= 0) return { name: frag.slice(0, at), version: frag.slice(at + 1) || null, root };
  const name = decodeURIComponent(url.replace(/\/+$/, '').split('/').pop() ?? url);
  return { name, version: frag || null, root };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface UnitDraft {
  index: number;
  packageId: string;
  target: { name: string; kind: string };
  mode: string;
  platform: string | null;
  features: string[];
  requested: boolean;
  dependencies: number[];
  status: LogStatus | null;
  cause: Record<string, unknown> | null;
  startedAt: number | null;
  startedElapsed: number | null;
  finishedElapsed: number | null;
  finishedAt: number | null;
}

/** Parses one log file's text. Never throws: what cannot be read is listed in `problems`. */
export function parseBuildLog(text: string, file: string | null = null): BuildLog {
  const problems: LogProblem[] = [];
  let dropped = 0;
  const problem = (line: number, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ line, message });
    else dropped++;
  };
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n') || text === '';
  const units = new Map<number, UnitDraft>();
  let started: Record<string, unknown> | null = null;
  let runId: string | null = null;
  let lastEventAt: number | null = null;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const n = i + 1;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      const last = i === lines.length - 1 && !endsClean;
      problem(n, last ? 'the last line is cut off (cargo may still be writing this log, or was killed)' : 'not JSON: skipped');
      return;
    }
    if (!isRecord(ev) || typeof ev.reason !== 'string') {
      problem(n, 'a JSON value without a `reason`: skipped');
      return;
    }
    const id = str(ev.run_id);
    if (id !== null) {
      if (runId === null) runId = id;
      else if (id !== runId) {
        problem(n, `an event of another run (${id}): skipped`);
        return;
      }
    }
    const t = parseLogTime(ev.timestamp);
    if (t !== null && (lastEventAt === null || t > lastEventAt)) lastEventAt = t;
    const index = num(ev.index);
    const unit = index !== null ? units.get(index) : undefined;
    switch (ev.reason) {
      case 'build-started':
        if (started) problem(n, 'a second build-started: kept the first');
        else started = ev;
        break;
      case 'unit-registered': {
        const target = isRecord(ev.target) ? ev.target : null;
        const pkg = str(ev.package_id);
        if (index === null || !pkg || !target || typeof target.name !== 'string' || typeof target.kind !== 'string' || typeof ev.mode !== 'string') {
          problem(n, 'unit-registered without index, package_id, target or mode: skipped');
          break;
        }
        if (units.has(index)) problem(n, `unit ${index} registered twice: kept the last`);
        units.set(index, {
          index,
          packageId: pkg,
          target: { name: target.name, kind: target.kind },
          mode: ev.mode,
          platform: str(ev.platform),
          features: Array.isArray(ev.features) ? ev.features.filter((f): f is string => typeof f === 'string') : [],
          requested: ev.requested === true,
          dependencies: Array.isArray(ev.dependencies) ? ev.dependencies.filter((d): d is number => typeof d === 'number') : [],
          status: null,
          cause: null,
          startedAt: null,
          startedElapsed: null,
          finishedElapsed: null,
          finishedAt: null,
        });
        break;
      }
      case 'unit-fingerprint':
        if (!unit) {
          problem(n, `unit-fingerprint for an unregistered unit ${String(ev.index)}: skipped`);
          break;
        }
        if (ev.status !== 'new' && ev.status !== 'dirty' && ev.status !== 'fresh') {
          problem(n, `unknown fingerprint status ${JSON.stringify(ev.status)}: skipped`);
          break;
        }
        unit.status = ev.status;
        unit.cause = isRecord(ev.cause) ? ev.cause : null;
        break;
      case 'unit-started':
        if (!unit) {
          problem(n, `unit-started for an unregistered unit ${String(ev.index)}: skipped`);
          break;
        }
        unit.startedAt = t;
        unit.startedElapsed = num(ev.elapsed);
        break;
      case 'unit-finished':
        if (!unit) {
          problem(n, `unit-finished for an unregistered unit ${String(ev.index)}: skipped`);
          break;
        }
        unit.finishedAt = t;
        unit.finishedElapsed = num(ev.elapsed);
        break;
      default:
        // resolution/unit-graph timings, rmeta and section events, and reasons newer than this reader.
        break;
    }
  });
  if (dropped) problems.push({ line: 0, message: `${dropped} more problems not listed` });
  if (!started) problems.push({ line: 0, message: 'no build-started event: the command, profile and workspace of this build are unknown' });
  const s: Record<string, unknown> = started ?? {};
  const list = [...units.values()].sort((a, b) => a.index - b.index);
  const out: LogUnit[] = list.map((u) => {
    const p = parsePackageIdSpec(u.packageId);
    return { ...u, package: p.name, version: p.version, packageRoot: p.root };
  });
  return {
    file,
    runId: runId ?? (file ? path.basename(file).replace(/\.jsonl$/, '') : null),
    startedAt: parseLogTime(s.timestamp),
    command: Array.isArray(s.command) ? s.command.filter((c): c is string => typeof c === 'string') : [],
    cwd: str(s.cwd),
    host: str(s.host),
    profile: str(s.profile),
    rustcVersion: str(s.rustc_version),
    rustcVersionVerbose: str(s.rustc_version_verbose),
    targetDir: str(s.target_dir),
    workspaceRoot: str(s.workspace_root),
    units: out,
    lastEventAt,
    complete: out.every((u) => u.startedAt === null || u.finishedAt !== null),
    problems,
  };
}

export interface LogFileInfo {
  readonly file: string;
  readonly runId: string;
  /** From the run id (`YYYYMMDDTHHMMSSmmmZ-…`), ms since the epoch; null when the name is not one cargo writes. */
  readonly startedAt: number | null;
}

function runIdTime(id: string): number | null {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\d{3})Z-/.exec(id);
  if (!m) return null;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
  return Number.isFinite(t) ? t : null;
}

/** The log files under `<cargoHome>/log`, newest first (by the time in their name). */
export function listBuildLogs(cargoHome: string): { readonly dir: string; readonly files: readonly LogFileInfo[]; readonly error: string | null } {
  const dir = path.join(cargoHome, 'log');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { dir, files: [], error: code === 'ENOENT' ? null : `cannot read ${dir} (${code ?? 'error'})` };
  }
  const files = names
    .filter((n) => n.endsWith('.jsonl'))
    .map((n) => {
      const runId = n.slice(0, -'.jsonl'.length);
      return { file: path.join(dir, n), runId, startedAt: runIdTime(runId) };
    })
    .sort((a, b) => (b.startedAt ?? -Infinity) - (a.startedAt ?? -Infinity) || (a.runId < b.runId ? 1 : -1));
  return { dir, files, error: null };
}

function readCapped(file: string, max: number): string | null {
  const r = readNoFollow(file, max);
  return r.ok ? r.data.toString('utf8') : null;
}

function samePath(a: string, b: string): boolean {
  const norm = (p: string): string => {
    const r = path.resolve(p);
    try {
      return fs.realpathSync.native(r);
    } catch {
      return r;
    }
  };
  return path.resolve(a) === path.resolve(b) || norm(a) === norm(b);
}

/** The first line's workspace root, read from the head of the file only. */
function workspaceOf(file: string): string | null {
  const head = readCapped(file, 256 << 10);
  if (head === null) return null;
  const first = head.split('\n', 1)[0] ?? '';
  try {
    const j = JSON.parse(first) as unknown;
    return isRecord(j) && j.reason === 'build-started' ? str(j.workspace_root) : null;
  } catch {
    return null;
  }
}

/** The builds of `workspaceRoot` found in `<cargoHome>/log`, newest first, at most `limit` (default 20), parsed. */
export function findBuildLogs(cargoHome: string, workspaceRoot: string, opts: { readonly limit?: number } = {}): BuildLog[] {
  const limit = opts.limit ?? 20;
  const out: BuildLog[] = [];
  for (const f of listBuildLogs(cargoHome).files) {
    if (out.length >= limit) break;
    const ws = workspaceOf(f.file);
    if (ws === null || !samePath(ws, workspaceRoot)) continue;
    const text = readCapped(f.file, MAX_LOG);
    if (text !== null) out.push(parseBuildLog(text, f.file));
  }
  return out;
}

export type LastBuild =
  | { readonly kind: 'found'; readonly log: BuildLog; readonly logDir: string }
  | { readonly kind: 'no-logs'; readonly logDir: string; readonly message: string; readonly howToEnable: string }
  | { readonly kind: 'no-build-here'; readonly logDir: string; readonly logs: number; readonly message: string; readonly howToEnable: string };

/** The last logged build of `workspaceRoot`, or why there is none and how to get one. */
export function lastBuildOf(cargoHome: string, workspaceRoot: string): LastBuild {
  const listing = listBuildLogs(cargoHome);
  if (listing.files.length === 0) {
    return {
      kind: 'no-logs',
      logDir: listing.dir,
      message: listing.error ?? `no build-analysis log in ${listing.dir}`,
      howToEnable: HOW_TO_ENABLE,
    };
  }
  const found = findBuildLogs(cargoHome, workspaceRoot, { limit: 1 })[0];
  if (found) return { kind: 'found', log: found, logDir: listing.dir };
  return {
    kind: 'no-build-here',
    logDir: listing.dir,
    logs: listing.files.length,
    message: `${listing.files.length} build-analysis log${listing.files.length === 1 ? '' : 's'} in ${listing.dir}, none of a build of ${workspaceRoot}`,
    howToEnable: HOW_TO_ENABLE,
  };
}

// ------------------------------------------------------------------------------------------------------------
// Analysis

export type UnitStatus = 'fresh' | 'rebuilt' | 'new' | 'unknown';

export interface AnalyzedUnit {
  readonly log: LogUnit;
  /** `lib util (default, fancy)`. */
  readonly label: string;
  readonly status: UnitStatus;
  /** Why it was rebuilt or is new, in words; null for fresh units. */
  readonly reason: string | null;
  readonly durationMs: number | null;
  /** The unit folder it was, null when it could not be told (see `joinedBy`). */
  readonly unit: Unit | null;
  /** How the folder was found, or why not, in words. */
  readonly joinedBy: string;
}

export interface BuildAnalysis {
  readonly runId: string | null;
  readonly file: string | null;
  readonly startedAt: number | null;
  readonly command: readonly string[];
  readonly profile: string | null;
  readonly workspaceRoot: string | null;
  readonly rustcVersion: string | null;
  /** From the build start to the last event. */
  readonly durationMs: number | null;
  readonly complete: boolean;
  readonly units: readonly AnalyzedUnit[];
  /** Rebuilt and new units, in the order they started. */
  readonly rebuilt: readonly AnalyzedUnit[];
  /** Compiled units by duration, longest first (at most `slowest` of them). */
  readonly slowest: readonly AnalyzedUnit[];
  readonly summary: string;
  readonly problems: readonly LogProblem[];
}

export interface AnalyzeContext {
  readonly toolchains?: readonly ToolchainLike[] | null;
  readonly recordedToolchains?: ReadonlyMap<string, string> | null;
  /** How many entries `slowest` keeps (default 10). */
  readonly slowest?: number;
}

const KIND: Readonly<Record<string, UnitKind>> = { lib: 'lib', bin: 'bin', test: 'test', bench: 'bench', example: 'example', 'build-script': 'build-script' };
const FILE_KIND: Readonly<Record<string, string>> = { lib: 'lib', bin: 'bin', test: 'integration-test', bench: 'bench', example: 'example', 'build-script': 'build-script' };
const FLAVOR: Readonly<Record<string, string>> = { build: '', check: '', test: 'test-', doc: 'doc-', 'run-custom-build': 'run-' };

/** Profile name as logged → folder name (reference §1). */
export function profileFolder(profile: string): string {
  if (profile === 'dev' || profile === 'test') return 'debug';
  if (profile === 'bench') return 'release';
  return profile;
}

function labelOf(u: LogUnit): string {
  const kind = KIND[u.target.kind] ?? 'unknown';
  const mode = (['build', 'check', 'test', 'doc', 'run-custom-build'].includes(u.mode) ? u.mode : 'unknown') as UnitMode;
  const base = unitLabel({ kind, mode, target: u.target.name, package: u.package });
  return u.mode === 'run-custom-build' || u.features.length === 0 ? base : `${base} (${u.features.join(', ')})`;
}

function listWords(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.map(String).join(' ') : 'none';
  if (typeof v === 'string') {
    try {
      const l = parseDebugStringList(v);
      return l.length ? l.join(', ') : 'none';
    } catch {
      return v === '' ? 'none' : v;
    }
  }
  return String(v);
}

const envWords = (v: unknown): string => (v === null || v === undefined ? 'unset' : JSON.stringify(v));

/** A DirtyReason in words. `nameOf` names another unit of the same log by index. */
export function describeCause(cause: Readonly<Record<string, unknown>> | null, unit: LogUnit, nameOf: (index: unknown) => string, workspaceRoot: string | null): string {
  if (!cause) return 'cargo gave no reason';
  const rel = (p: unknown): string => {
    if (typeof p !== 'string') return 'a file';
    for (const base of [unit.packageRoot, workspaceRoot]) {
      if (!base) continue;
      const r = path.relative(base, p);
      if (r && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
    }
    return p;
  };
  switch (cause.dirty_reason) {
    case 'rustc-changed':
      return 'the toolchain changed';
    case 'features-changed':
      return `features changed from ${listWords(cause.old)} to ${listWords(cause.new)}`;
    case 'declared-features-changed':
      return `the declared features changed from ${listWords(cause.old)} to ${listWords(cause.new)}`;
    case 'target-configuration-changed':
      return "the target's settings changed (name, kind, source path, edition or crate types)";
    case 'path-to-source-changed':
      return 'the path to its source changed';
    case 'profile-configuration-changed':
      return 'the profile settings changed';
    case 'rustflags-changed':
      return `RUSTFLAGS changed from ${listWords(cause.old)} to ${listWords(cause.new)}`;
    case 'config-settings-changed':
      return 'cargo configuration (linker or similar) changed';
    case 'compile-kind-changed':
      return 'the compile target changed';
    case 'local-lengths-changed':
      return 'its freshness checks changed (for example a build script added or removed rerun-if lines)';
    case 'precalculated-components-changed':
      return `the package changed (recorded ${String(cause.old)}, now ${String(cause.new)})`;
    case 'fingerprint-method-changed':
      return `the freshness method changed from ${String(cause.old)} to ${String(cause.new)}`;
    case 'dep-info-output-changed':
      return 'the place of its dep-info file changed';
    case 'rerun-if-changed-output-file-changed':
      return "the build script's output file changed";
    case 'rerun-if-changed-output-paths-changed':
      return `the build script's rerun-if-changed list changed from ${listWords(cause.old)} to ${listWords(cause.new)}`;
    case 'env-vars-changed':
      return 'the environment variables it reads changed';
    case 'env-var-changed':
      return `environment variable ${String(cause.name)} changed from ${envWords(cause.old_value)} to ${envWords(cause.new_value)}`;
    case 'local-fingerprint-type-changed':
      return 'the kind of freshness check changed';
    case 'number-of-dependencies-changed':
      return `the number of dependencies changed from ${String(cause.old)} to ${String(cause.new)}`;
    case 'unit-dependency-name-changed':
      return `a dependency was renamed from ${String(cause.old)} to ${String(cause.new)}`;
    case 'unit-dependency-info-changed':
      return `dependency ${nameOf(cause.unit)} changed`;
    case 'nothing-obvious':
      return 'cargo found no obvious reason';
    case 'forced':
      return 'the rebuild was forced';
    case 'fresh-build':
      return 'first build';
    case 'fs-status-outdated':
      switch (cause.fs_status) {
        case 'stale':
          return 'its outputs are out of date (cargo gives no detail)';
        case 'stale-dependency':
          return `dependency ${nameOf(cause.unit)} is newer than its outputs`;
        case 'stale-dep-fingerprint':
          return `dependency ${nameOf(cause.unit)} was rebuilt`;
        case 'stale-item':
          switch (cause.stale_item) {
            case 'changed-file':
              return `${rel(cause.stale)} changed`;
            case 'missing-file':
              return `${rel(cause.path)} is missing`;
            case 'unable-to-read-file':
              return `${rel(cause.path)} could not be read`;
            case 'failed-to-read-metadata':
              return `the metadata of ${rel(cause.path)} could not be read`;
            case 'file-size-changed':
              return `${rel(cause.path)} changed (size ${String(cause.old_size)} → ${String(cause.new_size)} bytes)`;
            case 'changed-checksum':
              return `${rel(cause.source)} changed (checksum)`;
            case 'missing-checksum':
              return `${rel(cause.path)} has no recorded checksum`;
            case 'changed-env':
              return `environment variable ${String(cause.var)} changed from ${envWords(cause.previous)} to ${envWords(cause.current)}`;
            default:
              return `an input is stale (${String(cause.stale_item)})`;
          }
        default:
          return `its files are out of date (${String(cause.fs_status)})`;
      }
    default:
      return `cargo's reason: ${String(cause.dirty_reason)}`;
  }
}

interface Joined {
  unit: Unit | null;
  how: string;
}

function matches(u: LogUnit, r: UnitRef, folder: string | null): boolean {
  const x = r.unit;
  if (x.package !== u.package) return false;
  if (u.version && x.version && u.version !== x.version) return false;
  const kind = FILE_KIND[u.target.kind];
  const flavor = FLAVOR[u.mode];
  if (kind === undefined || flavor === undefined) return false;
  if (!x.fingerprintFiles.includes(`${flavor}${kind}-${u.target.name}`)) return false;
  if (x.mode !== 'unknown') {
    if (u.mode === 'build' && x.mode !== 'build') return false;
    if (u.mode !== 'build' && x.mode !== u.mode) return false;
  }
  if (u.mode !== 'run-custom-build' && x.features !== null) {
    const a = [...u.features].sort();
    const b = [...x.features].sort();
    if (a.length !== b.length || a.some((f, i) => f !== b[i])) return false;
  }
  if (folder !== null && r.profile.name !== folder) return false;
  if (r.profile.platform !== null && u.platform !== null && r.profile.platform !== u.platform) return false;
  return true;
}

const SLACK_MS = 2000;

function joinUnits(log: BuildLog, scan: ScanResult): Map<number, Joined> {
  const index = indexUnits(scan);
  const folder = log.profile ? profileFolder(log.profile) : null;
  const byIndex = new Map(log.units.map((u) => [u.index, u]));
  const cands = new Map<number, UnitRef[]>();
  const how = new Map<number, string>();
  const rustc = log.rustcVersionVerbose ? rustcFieldFromVerbose(log.rustcVersionVerbose) : null;
  const add = (i: number, what: string): void => {
    const h = how.get(i) ?? '';
    if (!h.includes(what)) how.set(i, `${h}, ${what}`);
  };
  for (const u of log.units) {
    let c = index.refs.filter((r) => matches(u, r, folder));
    let base = `package, target, mode${u.mode === 'run-custom-build' ? '' : ', features'} and profile folder`;
    if (rustc !== null && c.length > 1) {
      // A nightly update reuses folders with another rustc field, so this only narrows, never empties.
      const same = c.filter((r) => r.unit.rustc === rustc);
      if (same.length >= 1 && same.length < c.length) {
        c = same;
        base += ', toolchain';
      }
    }
    how.set(u.index, base);
    const ref = u.cause?.reference;
    if (typeof ref === 'string') {
      const hit = c.filter((r) => {
        const dir = fingerprintDirOf(r.unit);
        return dir !== null && ref.startsWith(dir + path.sep);
      });
      if (hit.length === 1) {
        c = hit;
        add(u.index, 'the fingerprint folder cargo named in its reason');
      }
    }
    if (c.length > 1 && u.startedAt !== null) {
      // invoked.timestamp is written just before the compiler or script starts.
      const start = u.startedAt;
      const end = u.finishedAt ?? u.startedAt;
      const hit = c.filter((r) => r.unit.builtAt !== null && r.unit.builtAt >= start - SLACK_MS && r.unit.builtAt <= end + SLACK_MS);
      if (hit.length >= 1) {
        c = hit;
        add(u.index, "a build time within this build's run of it");
      }
    } else if (c.length > 1 && u.status === 'fresh' && log.startedAt !== null) {
      const hit = c.filter((r) => r.unit.builtAt === null || r.unit.builtAt <= log.startedAt! + SLACK_MS);
      if (hit.length >= 1 && hit.length < c.length) c = hit;
    }
    cands.set(u.index, c);
  }
  // The dependency graph: a candidate that records a dependency on another variant of a unit already told apart
  // is not this build's unit; and a told-apart unit names which variants of its dependencies it was built against.
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (const u of log.units) {
      const mine = cands.get(u.index)!;
      for (const di of u.dependencies) {
        const dep = byIndex.get(di);
        const theirs = cands.get(di);
        if (!dep || !theirs) continue;
        if (theirs.length === 1 && mine.length > 1) {
          const d = theirs[0]!.unit;
          const variant = (x: Unit): boolean => x.package === d.package && x.mode === d.mode && x.kind === d.kind && x.target === d.target;
          const keep = mine.filter((c) => {
            const related = c.unit.deps.filter((e) => (index.byFingerprint.get(e.fingerprint) ?? []).some((r) => variant(r.unit)));
            return related.length === 0 || related.some((e) => e.fingerprint === d.fingerprintHash);
          });
          if (keep.length >= 1 && keep.length < mine.length) {
            cands.set(u.index, keep);
            add(u.index, 'the dependency graph');
            changed = true;
          }
        } else if (mine.length === 1 && theirs.length > 1) {
          const fps = new Set(mine[0]!.unit.deps.map((e) => e.fingerprint));
          const keep = theirs.filter((c) => c.unit.fingerprintHash !== null && fps.has(c.unit.fingerprintHash));
          if (keep.length >= 1 && keep.length < theirs.length) {
            cands.set(di, keep);
            add(di, 'the dependency graph');
            changed = true;
          }
        }
      }
    }
    if (!changed) break;
  }
  const out = new Map<number, Joined>();
  for (const u of log.units) {
    const c = cands.get(u.index)!;
    if (c.length === 1) out.set(u.index, { unit: c[0]!.unit, how: `matched on ${how.get(u.index)}` });
    else if (c.length === 0) out.set(u.index, { unit: null, how: 'no unit folder in the build dir matches (deleted since, another build dir, or a unit without a fingerprint such as a doctest)' });
    else out.set(u.index, { unit: null, how: `${c.length} unit folders match and nothing in the log tells them apart` });
  }
  return out;
}

/**
 * The unit the same target had before this build: same package, target, mode and folder, built earlier; the
 * same feature set first (a member keeps one unit per feature set), else the one sharing most features.
 */
function previousVariant(unit: Unit, scan: ScanResult, before: number | null): Unit | null {
  const index = indexUnits(scan);
  const self = index.byId.get(unit.id);
  if (!self) return null;
  const mine = new Set(unit.features ?? []);
  const score = (x: Unit): number => {
    const f = x.features ?? [];
    const shared = f.filter((n) => mine.has(n)).length;
    return shared === f.length && shared === mine.size ? 1000 : shared;
  };
  let best: Unit | null = null;
  for (const r of index.refs) {
    const x = r.unit;
    if (x.id === unit.id || x.package !== unit.package || x.kind !== unit.kind || x.mode !== unit.mode || x.target !== unit.target) continue;
    if (r.profile.id !== self.profile.id) continue;
    if (x.builtAt === null || (before !== null && x.builtAt >= before)) continue;
    if (!best || score(x) > score(best) || (score(x) === score(best) && x.builtAt > (best.builtAt ?? -Infinity))) best = x;
  }
  return best;
}

/**
 * Everything the log says about one build, joined to the scan of its build dir. Pass the scan made after the
 * build (units rebuilt later still join, through the dependency graph, when their folders remain).
 */
export function analyzeBuild(log: BuildLog, scan: ScanResult, ctx: AnalyzeContext = {}): BuildAnalysis {
  const joined = joinUnits(log, scan);
  const byIndex = new Map(log.units.map((u) => [u.index, u]));
  const nameOf = (i: unknown): string => {
    const u = typeof i === 'number' ? byIndex.get(i) : undefined;
    return u ? labelOf(u) : `#${String(i)}`;
  };
  const recorded = new Map(ctx.recordedToolchains ?? []);
  if (log.rustcVersionVerbose) recorded.set(rustcFieldFromVerbose(log.rustcVersionVerbose), parseRustcVerbose(log.rustcVersionVerbose).line);
  const units: AnalyzedUnit[] = log.units.map((u) => {
    const j = joined.get(u.index) ?? { unit: null, how: 'not joined' };
    const status: UnitStatus = u.status === 'dirty' ? 'rebuilt' : u.status === 'new' ? 'new' : u.status === 'fresh' ? 'fresh' : 'unknown';
    let reason: string | null = null;
    if (status === 'rebuilt') reason = describeCause(u.cause, u, nameOf, log.workspaceRoot);
    else if (status === 'new') {
      const prev = j.unit ? previousVariant(j.unit, scan, log.startedAt) : null;
      if (prev && j.unit) {
        const changes = describeChange(prev, j.unit, { scan, toolchains: ctx.toolchains ?? null, recordedToolchains: recorded });
        reason = changes.length
          ? `a new unit folder: ${changes.join('; ')} (the earlier ${prev.hash.slice(0, 8)}, built ${isoTime(prev.builtAt)}, is kept)`
          : `a new unit folder next to the earlier ${prev.hash.slice(0, 8)}; they differ only in what cargo hashes without recording`;
      } else if (j.unit) reason = 'first build of this unit: no earlier variant of it is in this profile folder';
      else reason = 'a new unit (its folder is not in the build dir, so what changed cannot be told)';
    }
    const durationMs = u.startedElapsed !== null && u.finishedElapsed !== null ? Math.max(0, Math.round((u.finishedElapsed - u.startedElapsed) * 1000)) : null;
    return { log: u, label: labelOf(u), status, reason, durationMs, unit: j.unit, joinedBy: j.how };
  });
  const rebuilt = units.filter((u) => u.status === 'rebuilt' || u.status === 'new').sort((a, b) => (a.log.startedElapsed ?? Infinity) - (b.log.startedElapsed ?? Infinity));
  const slowest = units
    .filter((u) => u.durationMs !== null)
    .sort((a, b) => b.durationMs! - a.durationMs!)
    .slice(0, ctx.slowest ?? 10);
  const durationMs = log.startedAt !== null && log.lastEventAt !== null ? Math.max(0, log.lastEventAt - log.startedAt) : null;
  const count = (s: UnitStatus): number => units.filter((u) => u.status === s).length;
  const parts = [`${units.length} unit${units.length === 1 ? '' : 's'}`, `${count('rebuilt')} rebuilt`, `${count('new')} new`, `${count('fresh')} fresh`];
  let summary = `${parts[0]}: ${parts.slice(1).join(', ')}`;
  if (durationMs !== null) summary += `; the build took ${(durationMs / 1000).toFixed(1)} s`;
  if (slowest[0]) summary += `; slowest: ${slowest[0].label} (${(slowest[0].durationMs! / 1000).toFixed(2)} s)`;
  if (!log.complete) summary += '; some units never finished (the build failed, was stopped, or is still running)';
  return {
    runId: log.runId,
    file: log.file,
    startedAt: log.startedAt,
    command: log.command,
    profile: log.profile,
    workspaceRoot: log.workspaceRoot,
    rustcVersion: log.rustcVersion,
    durationMs,
    complete: log.complete,
    units,
    rebuilt,
    slowest,
    summary,
    problems: log.problems,
  };
}

/** The units a logged build used, as evidence for outDirsOf (src/core/outdir.ts). */
export function analysisSignals(a: BuildAnalysis): LiveSignal[] {
  // Dated at the end of the build: every unit it compiled is older than that, and it still used them then.
  const at = a.startedAt !== null && a.durationMs !== null ? a.startedAt + a.durationMs : a.startedAt;
  return a.units
    .filter((u) => u.unit !== null && u.log.requested)
    .map((u) => ({
      unit: u.unit!,
      at,
      source: 'build-log' as const,
      evidence: `the build-analysis log of the build started ${isoTime(at)} (${a.runId ?? 'unknown run'}) used it (${u.status})`,
    }));
}
