// A unit's fingerprint explained (issue 5, "Inspect"): the data behind a document in words — features enabled
// and declared, profile folder, platform, the toolchain named when it is one the user has (the caller passes the
// installed toolchains: core runs nothing), RUSTFLAGS, each dependency resolved to the unit it points at, the
// sources and env vars of the dep-info, and what makes cargo rebuild the unit. render.ts turns it into text.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanResult, Unit } from './model';
import type { TargetFingerprint, UnitDetails } from './inspect';
import type { LocalEntry } from './fingerprint';
import { parseRustcVerbose, rustcFieldFromVerbose, toolchainLabel } from './rustc-hash';
import type { ToolchainLike } from './stale';
import { findPackageRoot, type PackageRoot } from './buildrun';
import { describeUnit, featuresWords, indexUnits, type UnitIndex } from './unitindex';

export interface ToolchainName {
  /** The fingerprint `rustc` field (decimal), null when unknown. */
  readonly field: string | null;
  /** `stable 1.95.0`, `nightly 1.97.0-nightly (2026-05-19)`, or the recorded version line; null when unknown. */
  readonly name: string | null;
  /** True when one of the given installed toolchains writes this field; null when the list is unknown. */
  readonly installed: boolean | null;
  readonly words: string;
}

/**
 * Names the toolchain behind a fingerprint `rustc` field: an installed toolchain when its `-vV` hashes to the
 * field, else a version line the build dir recorded (`recorded`: field → `rustc x.y.z (…)`, e.g. the staleness
 * evidence's rustcNames), else it stays unnamed.
 */
export function nameToolchain(field: string | null, toolchains: readonly ToolchainLike[] | null, recorded?: ReadonlyMap<string, string> | null): ToolchainName {
  if (field === null) return { field, name: null, installed: null, words: 'unknown (no readable fingerprint JSON)' };
  const hit = toolchains?.find((t) => (t.hash ?? rustcFieldFromVerbose(t.verbose)) === field);
  if (hit) {
    const name = toolchainLabel(hit.name, parseRustcVerbose(hit.verbose));
    return { field, name, installed: true, words: `${name} (installed as ${hit.name})` };
  }
  const rec = recorded?.get(field) ?? null;
  const installed = toolchains === null ? null : false;
  const notInstalled = toolchains === null ? '' : ', which is not installed';
  if (rec) return { field, name: rec.split('\n', 1)[0] ?? rec, installed, words: `${rec.split('\n', 1)[0]}${notInstalled} (named by the build dir's records)` };
  return {
    field,
    name: null,
    installed,
    words: toolchains === null ? `rustc field ${field} (the installed toolchains are not known, so it is not named)` : `a rustc none of the installed toolchains matches (rustc field ${field})`,
  };
}

export interface ExplainedDep {
  /** Extern crate name (`build_script_build` for the package's own build-script run). */
  readonly name: string;
  readonly public: boolean;
  /** The dependency's fingerprint (16 hex digits, as in its hash file). */
  readonly fingerprint: string;
  /** The unit it points at, null when no unit in the scan has that fingerprint any more. */
  readonly unit: Unit | null;
  readonly words: string;
}

export interface ExplainedSource {
  /** As recorded: relative to the package root (`package`) or to the build-dir root (`build`), or absolute. */
  readonly path: string;
  readonly base: 'package' | 'build';
  /** Null when the package root is unknown. */
  readonly absolute: string | null;
  readonly exists: boolean | null;
  readonly checksum: string | null;
}

export interface ExplainedTarget {
  /** Hash file name, e.g. `lib-util`. */
  readonly name: string;
  readonly state: 'ok' | 'empty' | 'invalid' | 'missing' | 'unreadable';
  readonly stateWords: string;
  readonly features: readonly string[] | null;
  readonly declaredFeatures: readonly string[] | null;
  readonly rustflags: readonly string[];
  readonly deps: readonly ExplainedDep[];
  readonly sources: readonly ExplainedSource[];
  readonly env: readonly { readonly key: string; readonly value: string | null }[];
  /** What makes cargo rebuild it, one sentence per fingerprint `local` entry. */
  readonly freshness: readonly string[];
  /** Hashes cargo keeps instead of the settings themselves (decimal), for comparisons. */
  readonly hashes: { readonly target: string; readonly profile: string; readonly path: string; readonly config: string | null } | null;
  readonly problems: readonly string[];
}

export interface FingerprintExplanation {
  readonly unit: Unit;
  /** e.g. `lib util 5c53e3c0`. */
  readonly title: string;
  readonly modeWords: string;
  /** Profile folder name (`debug`, `release`, custom). */
  readonly profile: string | null;
  /** `--target` triple of the folder, null for the host folder. */
  readonly platform: string | null;
  readonly toolchain: ToolchainName;
  readonly packageRoot: PackageRoot | null;
  readonly targets: readonly ExplainedTarget[];
}

export interface ExplainContext {
  readonly scan: ScanResult;
  /** Installed toolchains (src/node/toolchains.ts); null when unknown. */
  readonly toolchains: readonly ToolchainLike[] | null;
  /** Fingerprint rustc field → version line recorded in the build dir (StaleEvidence.rustcNames). */
  readonly recordedToolchains?: ReadonlyMap<string, string> | null;
  readonly workspaceRoot?: string | null;
  /** Skips the search when the caller already knows it. */
  readonly packageRoot?: PackageRoot | null;
}

const MODE_WORDS: Readonly<Record<string, string>> = {
  build: 'compiled (cargo build)',
  check: 'checked only: metadata, no code (cargo check, clippy)',
  test: 'compiled as a test harness (cargo test / bench)',
  doc: 'documented (cargo doc)',
  'run-custom-build': 'a build-script run: its out/ is OUT_DIR',
  unknown: 'of an unknown mode',
};

function freshnessWords(l: LocalEntry, unit: Unit): string {
  switch (l.kind) {
    case 'CheckDepInfo':
      return l.fingerprint === 'content'
        ? `rebuilt when the checksum of a file listed in its dep-info (${l.depInfo}) changes`
        : `rebuilt when a file listed in its dep-info is newer than that dep-info file (${l.depInfo}), or an env var it lists changes`;
    case 'RerunIfChanged':
      return `rerun when one of ${l.paths.join(', ') || '(no path)'} is newer than ${l.output}, as the script asked (rerun-if-changed)`;
    case 'RerunIfEnvChanged':
      return `rerun when ${l.var} changes (it was ${l.val === null ? 'unset' : `"${l.val}"`} at the last run)`;
    case 'Precalculated':
      if (unit.source?.kind === 'registry' || unit.source?.kind === 'directory' || /^\d+\.\d+\.\d+/.test(l.value)) {
        return `fixed by the package version (${l.value}): the sources of a published package never change`;
      }
      if (unit.source?.kind === 'git') return `fixed by the git revision (${l.value})`;
      return `rebuilt when the newest file of the package changes (recorded: ${l.value})`;
    default:
      return `a freshness check this version does not know (${l.variant ?? 'unnamed'})`;
  }
}

function existsNoFollow(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function explainTarget(t: TargetFingerprint, unit: Unit, index: UnitIndex, buildDir: string | null, root: PackageRoot | null): ExplainedTarget {
  const problems: string[] = [];
  let state: ExplainedTarget['state'];
  let stateWords: string;
  if (!t.hash.ok) {
    state = t.hash.error === 'missing' ? 'missing' : 'unreadable';
    stateWords = t.hash.error === 'missing' ? 'no hash file: the build never finished' : `hash file unreadable: ${t.hash.error}`;
  } else if (t.hash.value.state === 'ok') {
    state = 'ok';
    stateWords = `fingerprint ${t.hash.value.hash}: the last build succeeded`;
  } else if (t.hash.value.state === 'empty') {
    state = 'empty';
    stateWords = 'empty hash file: the last build of this unit failed or was interrupted';
  } else {
    state = 'invalid';
    stateWords = `invalid hash file: ${t.hash.value.reason}`;
  }
  const f = t.json?.ok ? t.json.value : null;
  if (t.json && !t.json.ok) problems.push(`fingerprint JSON unreadable: ${t.json.error}`);
  if (t.json === null) problems.push('no fingerprint JSON');
  const deps: ExplainedDep[] = (f?.deps ?? []).map((d) => {
    const to = index.byFingerprint.get(d.hashHex)?.[0]?.unit ?? null;
    let words: string;
    if (!to) words = `fingerprint ${d.hashHex}: no unit here has it any more (rebuilt since, deleted, or in another build dir)`;
    else if (d.name === 'build_script_build' && to.mode === 'run-custom-build') words = `its build-script run ${describeUnit(to)} (OUT_DIR and cfgs come from there)`;
    else words = `${describeUnit(to)}${to.version ? `, version ${to.version}` : ''}${to.features ? `, features ${featuresWords(to.features)}` : ''}`;
    return { name: d.name, public: d.public, fingerprint: d.hashHex, unit: to, words };
  });
  const sources: ExplainedSource[] = [];
  const env: { key: string; value: string | null }[] = [];
  if (t.depInfo?.ok) {
    for (const s of t.depInfo.value.files) {
      let absolute: string | null = null;
      if (path.isAbsolute(s.path)) absolute = s.path;
      else if (s.base === 'package') absolute = root?.path ? path.join(root.path, s.path) : null;
      else absolute = buildDir ? path.join(buildDir, s.path) : null;
      sources.push({ path: s.path, base: s.base, absolute, exists: absolute ? existsNoFollow(absolute) : null, checksum: s.checksum?.value ?? null });
    }
    env.push(...t.depInfo.value.env.map((e) => ({ key: e.key, value: e.value })));
  } else if (t.depInfo && !t.depInfo.ok) problems.push(`dep-info unreadable: ${t.depInfo.error}`);
  return {
    name: t.name,
    state,
    stateWords,
    features: f ? f.features : null,
    declaredFeatures: f ? f.declaredFeatures : null,
    rustflags: f ? f.rustflags : [],
    deps,
    sources,
    env,
    freshness: f ? f.local.map((l) => freshnessWords(l, unit)) : [],
    hashes: f ? { target: f.target, profile: f.profile, path: f.path, config: f.config } : null,
    problems,
  };
}

/** Explains `details` (readUnitDetails of a unit in `ctx.scan`). */
export function explainFingerprint(details: UnitDetails, ctx: ExplainContext): FingerprintExplanation {
  const unit = details.unit;
  const index = indexUnits(ctx.scan);
  const ref = index.byId.get(unit.id) ?? null;
  const needsRoot = details.targets.some((t) => t.depInfo?.ok && t.depInfo.value.files.some((f) => f.base === 'package' && !path.isAbsolute(f.path)));
  const root = ctx.packageRoot ?? (needsRoot ? findPackageRoot(unit, ctx.scan, { workspaceRoot: ctx.workspaceRoot ?? null }) : null);
  const rustc = details.targets.find((t) => t.json?.ok)?.json;
  const field = rustc?.ok ? rustc.value.rustc : unit.rustc;
  return {
    unit,
    title: `${describeUnit(unit)}${unit.version ? ` (${unit.package} ${unit.version})` : ''}`,
    modeWords: MODE_WORDS[unit.mode] ?? unit.mode,
    profile: ref?.profile.name ?? null,
    platform: ref?.profile.platform ?? null,
    toolchain: nameToolchain(field, ctx.toolchains, ctx.recordedToolchains),
    packageRoot: root,
    targets: details.targets.map((t) => explainTarget(t, unit, index, ref?.buildDir.path ?? null, root)),
  };
}
