// Why a unit (or incremental folder) is stale, with the evidence in words (reference §11). Reasons, strongest
// first: another toolchain, legacy leftovers next to layout v2, superseded variants nothing current depends on,
// failed or interrupted builds, orphaned incremental data; `idle` (age) only when asked for, and labelled as a
// guess. The analysis is pure over a scan; the few extra facts it weighs (RUSTFLAGS and workspace wrappers of
// look-alike units, toolchain names) are read beforehand by readStaleEvidence through the Walker contract.
//
// Conservative by construction: a unit reached through the fingerprint `deps` graph from a newest unit of a
// workspace member is never superseded; a toolchain is judged only against a list of installed toolchains the
// caller really obtained; an incremental folder is tied to units only by crate name and time.

import * as path from 'node:path';
import type { BuildDir, IncrementalCrate, Profile, ScanResult, StaleReason, Unit } from './model';
import type { Walker, ReadRequest } from './walk';
import { unitLabel } from './format';
import { groupByFingerprint } from './unitindex';
import { groupBy } from './group';
import { parseFingerprintFileName, parseFingerprintJson } from './fingerprint';
import { parseDepInfo } from './depinfo';
import { parseRustcVerbose, rustcFieldFromVerbose, toolchainLabel } from './rustc-hash';

export type StaleReasonName = 'toolchain' | 'legacy-leftover' | 'superseded' | 'failed' | 'orphaned-incremental' | 'idle';

export const STALE_REASONS: readonly StaleReasonName[] = ['toolchain', 'legacy-leftover', 'superseded', 'failed', 'orphaned-incremental', 'idle'];

/** An installed toolchain as the analysis needs it (src/node/toolchains.ts gives these). */
export interface ToolchainLike {
  readonly name: string;
  /** Exact `rustc -vV` stdout. */
  readonly verbose: string;
  /** Its fingerprint `rustc` field; computed from `verbose` when absent. */
  readonly hash?: string;
}

export interface StaleEvidence {
  /** Unit id → RUSTFLAGS of its fingerprint, joined (only for units that have look-alikes). */
  readonly rustflags: ReadonlyMap<string, string>;
  /** Unit id → workspace wrapper seen in its dep-info (`clippy`), for units that have look-alikes. */
  readonly wrapper: ReadonlyMap<string, string>;
  /** Fingerprint `rustc` field → the first line of that rustc's `-vV` (from `.rustc_info.json` and friends). */
  readonly rustcNames: ReadonlyMap<string, string>;
  /** Unit id → the `rustc x.y.z (…)` line stored in its `.rmeta` (for units of unknown toolchains). */
  readonly rmetaVersion: ReadonlyMap<string, string>;
}

export interface StaleContext {
  /** Installed toolchains; null = unknown, and then no unit is called stale for its toolchain. */
  readonly toolchains: readonly ToolchainLike[] | null;
  /** Why `toolchains` is null, to show with the result. */
  readonly toolchainNotes?: readonly string[];
  /** Workspace member names (cargo metadata). Unknown: packages whose units come from path sources. */
  readonly members?: readonly string[] | null;
  /** Off unless set: units not built for this many days (and not used by anything built since) are `idle`. */
  readonly idleDays?: number | null;
  readonly now?: number;
  /** `__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT` is set where cargo runs: 1.100+ still writes legacy. */
  readonly legacyOptOut?: boolean;
  readonly evidence?: StaleEvidence | null;
  /**
   * What the manifests and Cargo.lock can still ask for (full `cargo metadata`, see parseCargoResolve). Without
   * it, an older variant is called superseded only when it cannot be used as it is (a dependency it records is
   * gone); with it, also when it needs a package version or feature set nothing resolves to any more.
   */
  readonly resolve?: CargoResolve | null;
}

/** Package versions and the union of their enabled features, as `cargo metadata` resolves the workspace. */
export interface CargoResolve {
  /** Package name → every resolved version with its features (all targets, dev-dependencies included). */
  readonly packages: ReadonlyMap<string, readonly { readonly version: string; readonly features: readonly string[] }[]>;
  readonly members: readonly string[];
}

/** Reads full `cargo metadata --format-version 1` output (with `resolve`); throws when it is not that. */
export function parseCargoResolve(json: unknown): CargoResolve {
  const j = json as { packages?: unknown; resolve?: { nodes?: unknown } | null; workspace_members?: unknown };
  if (!j || !Array.isArray(j.packages) || !j.resolve || !Array.isArray(j.resolve.nodes)) throw new Error('not `cargo metadata` output with a resolve graph');
  const byId = new Map<string, { name: string; version: string }>();
  for (const p of j.packages as { id?: unknown; name?: unknown; version?: unknown }[]) {
    if (typeof p.id === 'string' && typeof p.name === 'string' && typeof p.version === 'string') byId.set(p.id, { name: p.name, version: p.version });
  }
  const packages = new Map<string, { version: string; features: string[] }[]>();
  for (const n of j.resolve.nodes as { id?: unknown; features?: unknown }[]) {
    const p = typeof n.id === 'string' ? byId.get(n.id) : undefined;
    if (!p) continue;
    const features = Array.isArray(n.features) ? n.features.filter((f): f is string => typeof f === 'string') : [];
    const a = packages.get(p.name);
    if (a) a.push({ version: p.version, features });
    else packages.set(p.name, [{ version: p.version, features }]);
  }
  const members = Array.isArray(j.workspace_members)
    ? (j.workspace_members as unknown[]).map((id) => (typeof id === 'string' ? byId.get(id)?.name : undefined)).filter((n): n is string => !!n)
    : [];
  return { packages, members };
}

export type StaleItemKind = 'unit' | 'incremental' | 'incremental-session' | 'legacy-other';

/** One thing that can be cleaned, with every reason it is stale. */
export interface StaleItem {
  /** Unit id, or the path for incremental folders, sessions and legacy buckets. */
  readonly id: string;
  readonly kind: StaleItemKind;
  readonly label: string;
  readonly buildDir: string;
  readonly profileId: string;
  readonly profilePath: string;
  /** Top paths to delete (a legacy unit has several). */
  readonly paths: readonly string[];
  readonly bytes: number;
  readonly freedBytes: number;
  readonly reasons: readonly StaleReason[];
  /** Set for `unit` items. */
  readonly unitId?: string;
}

export interface StaleAnalysis {
  /** The scan with each unit's `stale[]` filled. */
  readonly scan: ScanResult;
  /** Everything with at least one reason, grouped by profile folder, largest first within one. */
  readonly items: readonly StaleItem[];
  /** Incremental crate folder path → its reasons (empty when it is live). */
  readonly incremental: ReadonlyMap<string, readonly StaleReason[]>;
  /** What the analysis could not use, and the toolchains it compared with; in words. */
  readonly notes: readonly string[];
}

const DAY = 86_400_000;
/** Clock slack when comparing incremental session names (rustc's clock) with file mtimes (the file system's). */
const SESSION_SLACK_MS = 2000;

interface Ref {
  readonly unit: Unit;
  readonly profile: Profile;
  readonly buildDir: BuildDir;
}

const short = (h: string): string => h.slice(0, 8);
const iso = (ms: number | null): string => (ms === null ? 'at an unknown time' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
const crateOf = (u: Unit): string => (u.target ?? u.package).replace(/-/g, '_');
const describeUnit = (u: Unit): string => `${unitLabel(u)} ${short(u.hash)}${u.layout === 'legacy' ? ' (legacy)' : ''}`;
const featuresText = (f: readonly string[] | null): string => (f === null ? 'unknown features' : f.length ? `features ${f.join(', ')}` : 'no features');

/** Does a cargo of this toolchain write layout v2 by default (1.100+ stable; nightly since 2026-07-24)? */
export function defaultsToV2(verbose: string): boolean {
  const v = parseRustcVerbose(verbose);
  const m = /^(\d+)\.(\d+)/.exec(v.release ?? '');
  if (!m) return false;
  const minor = Number(m[2]);
  if (Number(m[1]) > 1 || minor >= 100) return true;
  return v.channel === 'nightly' && (minor >= 99 || (v.commitDate !== null && v.commitDate >= '2026-07-24'));
}

function allRefs(scan: ScanResult): Ref[] {
  const refs: Ref[] = [];
  for (const b of scan.buildDirs) for (const p of b.profiles) for (const u of p.units) refs.push({ unit: u, profile: p, buildDir: b });
  return refs;
}

function memberSet(refs: readonly Ref[], members: readonly string[] | null | undefined): (pkg: string) => boolean {
  if (members && members.length) {
    const s = new Set(members);
    return (p) => s.has(p);
  }
  const path = new Set(refs.filter((r) => r.unit.source?.kind === 'path').map((r) => r.unit.package));
  // Nothing tells members apart: every package may hold roots (fewer units are then called superseded).
  if (path.size === 0) return () => true;
  return (p) => path.has(p);
}

/**
 * The look-alike group of a unit: variants of one target of which the newest is normally what cargo picks.
 * Members keep features in the key (every feature set of a member is something the user can ask for); a
 * dependency's versions and feature sets are wanted only when something current reaches them, so they share one
 * group (which is what lets an old version left by `cargo update` be called superseded). Toolchain, RUSTFLAGS
 * and workspace wrappers (clippy) keep parallel variants that are all live apart.
 */
function groupKey(r: Ref, member: boolean, ev: StaleEvidence | null | undefined, withExtras: boolean): string {
  const u = r.unit;
  const parts = [
    r.profile.id,
    u.layout,
    u.rustc ?? '?',
    u.package,
    member ? JSON.stringify(u.features) : u.source ? `${u.source.kind}:${u.source.detail ?? ''}` : '?',
    u.kind,
    u.mode,
    u.target ?? '?',
  ];
  if (withExtras) parts.push(ev?.rustflags.get(u.id) ?? '', ev?.wrapper.get(u.id) ?? '');
  return parts.join('\u0000');
}

// ------------------------------------------------------------------------------------------------------------
// Evidence

const MAX_JSON = 4 << 20;
const MAX_DEPINFO = 4 << 20;

function hashFileName(u: Unit): string | null {
  const names = u.fingerprintFiles.filter((n) => {
    const p = parseFingerprintFileName(n);
    return p !== null && p.prefix === '' && !p.json;
  });
  names.sort((a, b) => (a.startsWith('lib-') ? -1 : b.startsWith('lib-') ? 1 : a < b ? -1 : 1));
  return names[0] ?? null;
}

function fingerprintDir(u: Unit): string | null {
  return u.parts.find((p) => p.name === 'fingerprint')?.path ?? null;
}

function rmetaPath(u: Unit): string | null {
  if (u.layout === 'legacy') return u.paths.find((p) => p.endsWith('.rmeta')) ?? null;
  if (u.kind !== 'lib' || !u.target || !u.paths[0]) return null;
  return path.join(u.paths[0], 'out', `lib${u.target.replace(/-/g, '_')}-${u.hash}.rmeta`);
}

/** The `rustc 1.95.0 (59807616e 2026-04-14)` string near the start of a `.rmeta` file. */
export function rmetaRustcVersion(head: Uint8Array): string | null {
  const text = Buffer.from(head).toString('latin1');
  const m = /rustc \d+\.\d+\.\d+[^\x00-\x1f()]*\([^\x00-\x1f()]*\)/.exec(text);
  return m ? m[0] : null;
}

/** `-vV` texts recorded in the build dir: `.rustc_info.json` (last rustc used) and `.rustdoc_fingerprint.json`. */
export function recordedVerboseTexts(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of files) {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      continue;
    }
    if (!j || typeof j !== 'object') continue;
    const o = j as { outputs?: Record<string, { stdout?: unknown }>; rustc_vv?: unknown };
    if (typeof o.rustc_vv === 'string') out.push(o.rustc_vv);
    for (const v of Object.values(o.outputs ?? {})) {
      if (v && typeof v.stdout === 'string' && /^rustc .*\n[\s\S]*^release:/m.test(v.stdout)) out.push(v.stdout);
    }
  }
  return out;
}

/**
 * Reads what the analysis weighs beyond the scan, in one batch: RUSTFLAGS and wrapper of units that have
 * look-alikes, the `-vV` texts cargo recorded in each build dir, and the rustc version line of one `.rmeta`
 * per toolchain that is not installed (to name it).
 */
export async function readStaleEvidence(
  scan: ScanResult,
  walker: Walker,
  opts: { members?: readonly string[] | null; toolchains?: readonly ToolchainLike[] | null } = {},
): Promise<StaleEvidence> {
  const refs = allRefs(scan);
  const isMember = memberSet(refs, opts.members);
  const groups = groupBy(refs, (r) => groupKey(r, isMember(r.unit.package), null, false));
  const reads: ReadRequest[] = [];
  const jobs: { unit: Unit; what: 'json' | 'dep' | 'rmeta' | 'info' }[] = [];
  const add = (r: ReadRequest, unit: Unit | null, what: 'json' | 'dep' | 'rmeta' | 'info'): void => {
    reads.push(r);
    jobs.push({ unit: unit as Unit, what });
  };
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    for (const r of g) {
      const dir = fingerprintDir(r.unit);
      const name = hashFileName(r.unit);
      if (!dir || !name) continue;
      add({ path: path.join(dir, name + '.json'), maxBytes: MAX_JSON }, r.unit, 'json');
      if (isMember(r.unit.package)) add({ path: path.join(dir, 'dep-' + name), maxBytes: MAX_DEPINFO }, r.unit, 'dep');
    }
  }
  for (const b of scan.buildDirs) {
    for (const f of ['.rustc_info.json', '.rustdoc_fingerprint.json']) add({ path: path.join(b.path, f), maxBytes: 1 << 20 }, null, 'info');
  }
  const installed = new Set((opts.toolchains ?? []).map((t) => t.hash ?? rustcFieldFromVerbose(t.verbose)));
  const perRustc = new Map<string, number>();
  for (const r of refs) {
    const h = r.unit.rustc;
    if (h === null || installed.has(h) || (perRustc.get(h) ?? 0) >= 2) continue;
    const p = rmetaPath(r.unit);
    if (!p) continue;
    perRustc.set(h, (perRustc.get(h) ?? 0) + 1);
    add({ path: p, maxBytes: 256 }, r.unit, 'rmeta');
  }
  const results = reads.length ? await walker.read(reads) : [];
  const rustflags = new Map<string, string>();
  const wrapper = new Map<string, string>();
  const rustcNames = new Map<string, string>();
  const rmetaVersion = new Map<string, string>();
  const infoTexts: string[] = [];
  results.forEach((res, i) => {
    const job = jobs[i];
    if (!job || !res.ok) return;
    try {
      if (job.what === 'json') {
        const f = parseFingerprintJson(res.data.toString('utf8'));
        if (f.rustflags.length) rustflags.set(job.unit.id, f.rustflags.join('\u0001'));
      } else if (job.what === 'dep') {
        const d = parseDepInfo(res.data);
        if (d.env.some((e) => e.key.startsWith('CLIPPY_'))) wrapper.set(job.unit.id, 'clippy');
      } else if (job.what === 'rmeta') {
        const v = rmetaRustcVersion(res.data);
        if (v && job.unit.rustc) rmetaVersion.set(job.unit.id, v);
      } else {
        infoTexts.push(res.data.toString('utf8'));
      }
    } catch {
      // Unreadable evidence is simply not evidence: the unit keeps the conservative grouping.
    }
  });
  for (const vv of recordedVerboseTexts(infoTexts)) rustcNames.set(rustcFieldFromVerbose(vv), vv.split('\n', 1)[0] ?? vv);
  for (const r of refs) {
    const v = rmetaVersion.get(r.unit.id);
    if (v && r.unit.rustc && !rustcNames.has(r.unit.rustc)) rustcNames.set(r.unit.rustc, v);
  }
  return { rustflags, wrapper, rustcNames, rmetaVersion };
}

// ------------------------------------------------------------------------------------------------------------
// Analysis

interface Acc {
  readonly reasons: Map<string, StaleReason[]>;
}

function push(acc: Acc, id: string, reason: StaleReasonName, detail: string): void {
  const a = acc.reasons.get(id);
  if (a) a.push({ reason, detail });
  else acc.reasons.set(id, [{ reason, detail }]);
}

export function analyzeStaleness(scan: ScanResult, ctx: StaleContext): StaleAnalysis {
  const now = ctx.now ?? Date.now();
  const ev = ctx.evidence ?? null;
  const refs = allRefs(scan);
  const isMember = memberSet(refs, ctx.members);
  const acc: Acc = { reasons: new Map() };
  const notes: string[] = [];

  // --- the unit graph: fingerprint → units (across profiles: `--target` builds use host build scripts)
  const byFingerprint = groupByFingerprint(refs);

  // --- toolchain
  const toolchains = ctx.toolchains?.map((t) => ({ ...t, hash: t.hash ?? rustcFieldFromVerbose(t.verbose), version: parseRustcVerbose(t.verbose) })) ?? null;
  if (toolchains === null) {
    notes.push(...(ctx.toolchainNotes?.length ? ctx.toolchainNotes : ['the installed toolchains are unknown: no unit is called stale for its toolchain']));
  } else {
    const installedText = toolchains.map((t) => toolchainLabel(t.name, t.version)).join(', ') || 'none';
    notes.push(`compared with the installed toolchains: ${installedText}`);
    const installed = new Set(toolchains.map((t) => t.hash));
    for (const r of refs) {
      const u = r.unit;
      if (u.rustc === null || installed.has(u.rustc)) continue;
      const known = ev?.rustcNames.get(u.rustc) ?? ev?.rmetaVersion.get(u.id) ?? null;
      let detail: string;
      if (known) {
        const v = parseRustcVerbose(known);
        const sameChannel = toolchains.find((t) => t.version.channel !== null && known.includes(`-${t.version.channel}`));
        detail = `${known} built it and is not installed; installed: ${installedText}`;
        if (sameChannel && sameChannel.version.channel === 'nightly') {
          detail += `. The closest installed toolchain is ${toolchainLabel(sameChannel.name, sameChannel.version)}: a nightly update keeps the unit folders, so its next build would rebuild this one in place anyway`;
        } else if (v.channel === null && /rustc \d/.test(known)) {
          const rel = /rustc (\d+\.\d+\.\d+)/.exec(known)?.[1];
          const close = toolchains.find((t) => rel && t.version.release === rel);
          if (close) detail += `. ${toolchainLabel(close.name, close.version)} has the same version number but another build of rustc`;
        }
      } else {
        detail = `the rustc that built it (fingerprint rustc field ${u.rustc}) matches none of the installed toolchains (${installedText}), and no record in the build dir names it`;
      }
      push(acc, u.id, 'toolchain', detail);
    }
  }

  // --- failed or interrupted builds
  for (const r of refs) {
    const u = r.unit;
    if (u.lastBuildFailed) {
      push(acc, u.id, 'failed', `the hash file is empty: the last build of this unit (started ${iso(u.builtAt)}) failed or was interrupted; cargo rebuilds it at the next build in any case`);
    } else if (u.problems.includes('fingerprint folder has no hash file') && u.builtAt !== null) {
      push(acc, u.id, 'failed', `the fingerprint folder has no hash file: the build started ${iso(u.builtAt)} never finished; cargo rebuilds it at the next build in any case`);
    }
  }

  // --- legacy leftovers, per profile folder
  const allV2 = toolchains !== null && toolchains.length > 0 && toolchains.every((t) => defaultsToV2(t.verbose));
  const leftoverProfiles = new Map<string, string>();
  for (const b of scan.buildDirs) {
    for (const p of b.profiles) {
      const legacy = p.units.filter((u) => u.layout === 'legacy');
      if (legacy.length === 0 && !p.other.some((o) => o.name === 'legacy-other' && o.bytes > 0)) continue;
      const v2 = p.units.filter((u) => u.layout === 'v2');
      const newest = (us: readonly Unit[]): number | null => us.reduce<number | null>((m, u) => (u.builtAt !== null && (m === null || u.builtAt > m) ? u.builtAt : m), null);
      const newestLegacy = newest(legacy);
      const newestV2 = newest(v2);
      let detail: string | null = null;
      if (allV2 && !ctx.legacyOptOut) {
        detail = `every installed cargo (${toolchains!.map((t) => toolchainLabel(t.name, t.version)).join(', ')}) writes layout v2 and never reads legacy files again`;
      } else if (newestV2 !== null && (newestLegacy === null || newestV2 > newestLegacy)) {
        const olderCargo = toolchains?.filter((t) => !defaultsToV2(t.verbose)) ?? [];
        detail =
          `this folder was last built in layout v2 (${iso(newestV2)}, after the newest legacy build ${iso(newestLegacy)}); ` +
          'cargo in layout v2 neither reads nor deletes legacy files';
        if (olderCargo.length) {
          detail += `. ${olderCargo.map((t) => toolchainLabel(t.name, t.version)).join(', ')} still default${olderCargo.length === 1 ? 's' : ''} to the legacy layout and would rebuild these pieces if run without -Zbuild-dir-new-layout`;
        }
        if (p.locks.includes('.cargo-build-lock')) detail += '; .cargo-build-lock shows that cargo 1.96 or later has run here';
      }
      if (detail === null) continue;
      leftoverProfiles.set(p.id, detail);
      for (const u of legacy) push(acc, u.id, 'legacy-leftover', detail);
    }
  }

  // --- superseded: look-alike groups, roots, reachability
  //
  // Roots are the newest units of each member group. That alone is not enough: `cargo build` and `cargo test`
  // (dev-dependency feature unification), or `-p` selections, keep parallel variants of one member target that
  // are all live, and only one of them is the newest. So an older member variant is current too when it can be
  // used as it is: every dependency it records still exists, and (when cargo's resolve is known) needs no
  // package version or feature set that the manifests and Cargo.lock no longer produce.
  const { groups, blocked, roots, reachedAt } = liveGraph(refs, byFingerprint, isMember, ev, ctx.resolve ?? null);
  const rootCount = new Set(roots.map((r) => r.unit.id)).size;
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const newest = g.reduce((m, r) => ((r.unit.builtAt ?? -Infinity) > (m.unit.builtAt ?? -Infinity) ? r : m), g[0]!);
    for (const r of g) {
      const u = r.unit;
      if (reachedAt.has(u.id) || u.builtAt === null || newest.unit.builtAt === null || u.builtAt >= newest.unit.builtAt) continue;
      const n = newest.unit;
      const what = [
        u.version && n.version && u.version !== n.version ? `version ${u.version} then, ${n.version} now` : null,
        JSON.stringify(u.features) === JSON.stringify(n.features) ? null : `${featuresText(u.features)} then, ${featuresText(n.features)} now`,
      ].filter(Boolean);
      const why = blocked.get(u.id);
      push(
        acc,
        u.id,
        'superseded',
        `${describeUnit(n)}, built ${iso(n.builtAt)}, replaced it (same package, target, mode and profile folder${what.length ? `; ${what.join('; ')}` : ''}). ` +
          `Built ${iso(u.builtAt)}, it is reached by none of the ${rootCount} current units of the workspace members through their fingerprint dependencies` +
          (why ? `, and it cannot be used as it is: ${why}` : ''),
      );
    }
  }

  // --- idle (a guess, off by default)
  const cutoff = ctx.idleDays != null && ctx.idleDays > 0 ? now - ctx.idleDays * DAY : null;
  if (cutoff !== null) {
    notes.push(`idle: units not built for ${ctx.idleDays} days and used by nothing built since are listed; this is a guess (cargo records no last-use time)`);
    for (const r of refs) {
      const u = r.unit;
      if (acc.reasons.has(u.id) || u.builtAt === null) continue;
      const live = Math.max(u.builtAt, reachedAt.get(u.id) ?? -Infinity);
      if (live >= cutoff) continue;
      const days = Math.floor((now - live) / DAY);
      push(
        acc,
        u.id,
        'idle',
        `a guess: last built ${Math.floor((now - u.builtAt) / DAY)} days ago and nothing that uses it was built in the last ${days} days; ` +
          'cargo records no last-use time (a fresh build changes nothing on disk), so it may still be in use',
      );
    }
  }

  // --- incremental folders and sessions
  const STRONG = new Set<string>(['toolchain', 'legacy-leftover', 'superseded']);
  const incremental = new Map<string, StaleReason[]>();
  const items: StaleItem[] = [];
  for (const b of scan.buildDirs) {
    for (const p of b.profiles) {
      const itemsHere: StaleItem[] = [];
      const unitReasons = (u: Unit): StaleReason[] => acc.reasons.get(u.id) ?? [];
      // A failed unit is compiled again at the next build and reuses its incremental data: it counts as current.
      const current = p.units.filter((u) => !unitReasons(u).some((x) => STRONG.has(x.reason)));
      const byCrate = groupBy(current, crateOf);
      // Every unit by crate too (an orphaned folder names why its units are stale): one pass, not one per folder.
      const allByCrate = groupBy(p.units, crateOf);
      for (const c of p.incremental) {
        const reasons = incrementalReasons(c, allByCrate.get(c.crate) ?? [], byCrate.get(c.crate) ?? [], unitReasons, cutoff, now);
        incremental.set(c.path, reasons.folder);
        if (reasons.folder.length) {
          itemsHere.push({ id: c.path, kind: 'incremental', label: `incremental ${path.basename(c.path)}`, buildDir: b.path, profileId: p.id, profilePath: p.path, paths: [c.path], bytes: c.bytes, freedBytes: c.bytes, reasons: reasons.folder });
        }
        for (const s of reasons.sessions) itemsHere.push({ ...s, buildDir: b.path, profileId: p.id, profilePath: p.path });
      }
      for (const u of p.units) {
        const reasons = acc.reasons.get(u.id);
        if (!reasons) continue;
        itemsHere.push({ id: u.id, kind: 'unit', label: describeUnit(u), buildDir: b.path, profileId: p.id, profilePath: p.path, paths: u.paths, bytes: u.bytes, freedBytes: u.freedBytes, reasons, unitId: u.id });
      }
      const leftover = leftoverProfiles.get(p.id);
      if (leftover) {
        for (const o of p.other) {
          if (o.name !== 'legacy-other' || o.paths.length === 0) continue;
          itemsHere.push({ id: `${p.id}#legacy-other`, kind: 'legacy-other', label: `other legacy files (${o.paths.length})`, buildDir: b.path, profileId: p.id, profilePath: p.path, paths: o.paths, bytes: o.bytes, freedBytes: o.bytes, reasons: [{ reason: 'legacy-leftover', detail: leftover }] });
        }
      }
      itemsHere.sort((x, y) => y.bytes - x.bytes || (x.id < y.id ? -1 : 1));
      items.push(...itemsHere);
    }
  }

  const withReasons: ScanResult = {
    ...scan,
    buildDirs: scan.buildDirs.map((b) => ({
      ...b,
      profiles: b.profiles.map((p) => ({ ...p, units: p.units.map((u) => ({ ...u, stale: acc.reasons.get(u.id) ?? [] })) })),
    })),
  };
  return { scan: withReasons, items, incremental, notes };
}

/**
 * The roots and what they reach (the part of the analysis other modules reuse, e.g. to tell which build-script
 * run is current). Roots are the newest unit of each look-alike group of a workspace member, plus older member
 * variants that can still be used as they are; every unit records the newest root that reaches it.
 */
function liveGraph(
  refs: readonly Ref[],
  byFingerprint: ReadonlyMap<string, Ref[]>,
  isMember: (p: string) => boolean,
  ev: StaleEvidence | null,
  resolve: CargoResolve | null,
): { groups: Map<string, Ref[]>; blocked: Map<string, string | null>; roots: Ref[]; reachedAt: Map<string, number>; reachedBy: Map<string, Ref> } {
  const groups = groupBy(refs, (r) => groupKey(r, isMember(r.unit.package), ev, true));
  const blocked = usability(refs, byFingerprint, isMember, resolve);
  const roots: Ref[] = [];
  for (const g of groups.values()) {
    if (!isMember(g[0]!.unit.package)) continue;
    const top = g.reduce((m, r) => Math.max(m, r.unit.builtAt ?? -Infinity), -Infinity);
    for (const r of g) if ((r.unit.builtAt ?? -Infinity) === top || !blocked.get(r.unit.id)) roots.push(r);
  }
  // Newest roots first, so that every unit records the newest root that reaches it (used by `idle`).
  roots.sort((a, b) => (b.unit.builtAt ?? -Infinity) - (a.unit.builtAt ?? -Infinity));
  const reachedBy = reach(roots, byFingerprint);
  const reachedAt = new Map<string, number>();
  for (const [id, root] of reachedBy) reachedAt.set(id, root.unit.builtAt ?? -Infinity);
  return { groups, blocked, roots, reachedAt, reachedBy };
}

/** The fingerprint `deps` graph walked from `roots`, in their order: unit id → the first root that reaches it. */
function reach(roots: readonly Ref[], byFingerprint: ReadonlyMap<string, Ref[]>): Map<string, Ref> {
  const reachedBy = new Map<string, Ref>();
  for (const root of roots) {
    if (reachedBy.has(root.unit.id)) continue;
    const queue: Ref[] = [root];
    reachedBy.set(root.unit.id, root);
    while (queue.length) {
      const r = queue.pop()!;
      for (const d of r.unit.deps) {
        for (const to of byFingerprint.get(d.fingerprint) ?? []) {
          if (reachedBy.has(to.unit.id)) continue;
          reachedBy.set(to.unit.id, root);
          queue.push(to);
        }
      }
    }
  }
  return reachedBy;
}


/** What the staleness analysis treats as live: its roots, and for every unit reached, the newest root reaching it. */
export interface Liveness {
  /** Units of workspace members the reachability starts from, newest build first. */
  readonly roots: readonly Unit[];
  /** Unit id → the newest root whose fingerprint dependencies reach it (a root reaches itself). */
  readonly reachedBy: ReadonlyMap<string, Unit>;
}

/**
 * The liveness the staleness analysis uses (same roots, same graph), for callers that need to know which of
 * several variants the current builds use. Pass the same members, evidence and resolve as to analyzeStaleness
 * to get the same answer.
 */
export function liveness(scan: ScanResult, ctx: Pick<StaleContext, 'members' | 'evidence' | 'resolve'> = {}): Liveness {
  const refs = allRefs(scan);
  const { roots, reachedBy } = liveGraph(refs, groupByFingerprint(refs), memberSet(refs, ctx.members), ctx.evidence ?? null, ctx.resolve ?? null);
  const by = new Map<string, Unit>();
  for (const [id, r] of reachedBy) by.set(id, r.unit);
  return { roots: roots.map((r) => r.unit), reachedBy: by };
}

/** Units reachable through fingerprint dependencies from `roots` (units of `scan`): unit id → the first root in `roots` reaching it. */
export function reachableFrom(scan: ScanResult, roots: readonly Unit[]): ReadonlyMap<string, Unit> {
  const refs = allRefs(scan);
  const byId = new Map(refs.map((r) => [r.unit.id, r]));
  const start = roots.map((u) => byId.get(u.id)).filter((r): r is Ref => r !== undefined);
  const out = new Map<string, Unit>();
  for (const [id, r] of reach(start, groupByFingerprint(refs))) out.set(id, r.unit);
  return out;
}

/**
 * Why each unit cannot be used by cargo as it is (null: it can, as far as the disk and the resolve tell): a
 * dependency fingerprint it records matches no unit any more (cargo would rebuild it first), a dependency it
 * records cannot be used either, or — for a non-member, when cargo's resolve is known — its version is not in
 * Cargo.lock or its features are not among those the manifests enable.
 */
function usability(refs: readonly Ref[], byFingerprint: ReadonlyMap<string, Ref[]>, isMember: (p: string) => boolean, resolve: CargoResolve | null): Map<string, string | null> {
  const memo = new Map<string, string | null>();
  const visiting = new Set<string>();
  const own = (u: Unit): string | null => {
    if (u.lastBuildFailed) return 'its last build failed';
    if (!resolve || isMember(u.package)) return null;
    const versions = resolve.packages.get(u.package);
    if (!versions) return `${u.package} is no longer a dependency of the workspace (it is not in the current resolve)`;
    const same = u.version === null ? versions : versions.filter((x) => x.version === u.version);
    if (same.length === 0) return `${u.package} ${u.version} is not in the current resolve (Cargo.lock has ${versions.map((x) => x.version).join(', ')})`;
    const feats = u.features ?? [];
    if (!same.some((v) => feats.every((f) => v.features.includes(f)))) {
      const enabled = [...new Set(same.flatMap((v) => v.features))];
      return `its ${featuresText(feats)} of ${u.package} are not all enabled by the current manifests (they enable ${enabled.length ? enabled.join(', ') : 'none'})`;
    }
    return null;
  };
  const visit = (r: Ref): string | null => {
    const id = r.unit.id;
    if (memo.has(id)) return memo.get(id)!;
    if (visiting.has(id)) return null;
    visiting.add(id);
    let why = own(r.unit);
    for (const d of r.unit.deps) {
      if (why) break;
      const to = byFingerprint.get(d.fingerprint);
      if (!to || to.length === 0) {
        why = `the dependency \`${d.name}\` it was built against (fingerprint ${d.fingerprint}) is no longer on disk, so cargo would rebuild it first`;
        break;
      }
      const sub = to.map(visit);
      if (sub.every((x) => x !== null)) why = `it depends on ${describeUnit(to[0]!.unit)}, which cannot be used either`;
    }
    visiting.delete(id);
    memo.set(id, why);
    return why;
  };
  for (const r of refs) visit(r);
  return memo;
}

function incrementalReasons(
  c: IncrementalCrate,
  all: readonly Unit[],
  current: readonly Unit[],
  unitReasons: (u: Unit) => StaleReason[],
  cutoff: number | null,
  now: number,
): { folder: StaleReason[]; sessions: Omit<StaleItem, 'buildDir' | 'profileId' | 'profilePath'>[] } {
  const folder: StaleReason[] = [];
  const sessions: Omit<StaleItem, 'buildDir' | 'profileId' | 'profilePath'>[] = [];
  const newestSession = c.sessions.reduce<number | null>((m, s) => (s.startedAt !== null && (m === null || s.startedAt > m) ? s.startedAt : m), null);
  if (current.length === 0) {
    const why = all.length
      ? `its ${all.length} unit${all.length === 1 ? ' is' : 's are'} stale (${[...new Set(all.flatMap((u) => unitReasons(u).map((r) => r.reason)))].join(', ')})`
      : 'no unit of that crate is left in this profile folder';
    folder.push({ reason: 'orphaned-incremental', detail: `no current unit compiles crate \`${c.crate}\` here: ${why}` });
    return { folder, sessions };
  }
  const built = current.map((u) => u.builtAt).filter((t): t is number => t !== null);
  const oldestBuild = built.length ? Math.min(...built) : null;
  if (newestSession !== null && oldestBuild !== null && newestSession < oldestBuild - SESSION_SLACK_MS) {
    folder.push({
      reason: 'orphaned-incremental',
      detail:
        `its newest session started ${iso(newestSession)}, before the last build of every current unit of crate \`${c.crate}\` (the oldest ${iso(oldestBuild)}): ` +
        'rustc has not written here since, so it belonged to a unit that is gone (another toolchain, feature set or dependency set). Matching by time is a deduction, not a record',
    });
    return { folder, sessions };
  }
  if (cutoff !== null && newestSession !== null && newestSession < cutoff && current.every((u) => unitReasons(u).some((r) => r.reason === 'idle'))) {
    folder.push({ reason: 'idle', detail: `a guess: its newest session is ${Math.floor((now - newestSession) / 86_400_000)} days old and every unit of crate \`${c.crate}\` is idle` });
    return { folder, sessions };
  }
  // rustc keeps only the newest finished session; older ones (and dead `-working` ones) wait for its next run.
  const finished = c.sessions.filter((s) => !s.working && s.startedAt !== null);
  const keep = finished.reduce<(typeof finished)[number] | null>((m, s) => (m === null || s.startedAt! > m.startedAt! ? s : m), null);
  if (keep === null) return { folder, sessions };
  for (const s of c.sessions) {
    if (s === keep || s.startedAt === null || s.startedAt > keep.startedAt!) continue;
    const lock = s.path.replace(/-[^-]+$/, '') + '.lock';
    sessions.push({
      id: s.path,
      kind: 'incremental-session',
      label: `incremental ${path.basename(c.path)}/${s.name}`,
      paths: [s.path, lock],
      bytes: s.bytes,
      freedBytes: s.bytes,
      reasons: [
        {
          reason: 'orphaned-incremental',
          detail: `an older ${s.working ? 'unfinished ' : ''}session (${iso(s.startedAt)}) of a folder rustc still uses; rustc reads only the newest one (${iso(keep.startedAt)}) and deletes this at the crate's next compile`,
        },
      ],
    });
  }
  return { folder, sessions };
}
