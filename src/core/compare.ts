// Two or more units of one package side by side (issue 5, "Inspect"): only the rows where they differ —
// features, mode, profile folder, platform, RUSTFLAGS, toolchain, the dependency units they were built against —
// and a summary line. Cargo keeps a unit per variant, and this answers "why are there three of util?". The
// same comparison says why the build-analysis log calls a unit new (src/core/analysis.ts).

import type { ScanResult, Unit } from './model';
import { readUnitDetails, type UnitDetails } from './inspect';
import type { Fingerprint } from './fingerprint';
import type { ToolchainLike } from './stale';
import { nameToolchain } from './explain';
import { describeUnit, featuresWords, indexUnits, shortHash, type UnitIndex } from './unitindex';
import { unitLabel } from './format';

export interface ComparisonRow {
  /** Stable key: `features`, `toolchain`, `dep:util`, … */
  readonly key: string;
  /** What the row is, in words (`features`, `dependency util`). */
  readonly label: string;
  /** One value per compared unit, in the order of `units`. */
  readonly values: readonly string[];
}

export interface UnitComparison {
  readonly package: string;
  readonly units: readonly Unit[];
  /** Column headers, one per unit (`lib util 5c53e3c0`). */
  readonly headers: readonly string[];
  /** Only the rows whose values are not all equal. */
  readonly rows: readonly ComparisonRow[];
  readonly summary: string;
  /** What could not be read (a unit's fingerprint JSON, …); its cells then say `unknown`. */
  readonly problems: readonly string[];
}

export interface CompareContext {
  readonly scan: ScanResult;
  readonly toolchains?: readonly ToolchainLike[] | null;
  readonly recordedToolchains?: ReadonlyMap<string, string> | null;
  /** readUnitDetails is called for units not found here. */
  readonly details?: readonly UnitDetails[];
}

function fingerprintOf(d: UnitDetails): Fingerprint | null {
  const names = d.targets.filter((t) => t.json?.ok);
  const pick = names.find((t) => t.name.startsWith('lib-')) ?? names[0];
  return pick?.json?.ok ? pick.json.value : null;
}

function depValue(u: Unit | null, fingerprint: string): string {
  if (!u) return `a unit no longer on disk (fingerprint ${fingerprint})`;
  const parts = [u.version, u.mode === 'run-custom-build' ? 'build-script run' : u.features ? `features ${featuresWords(u.features)}` : null].filter(Boolean);
  return `${parts.join(', ')} (${shortHash(u.hash)})`;
}

interface Column {
  readonly unit: Unit;
  readonly fp: Fingerprint | null;
  readonly profile: string;
  readonly platform: string;
}

function rowsFor(cols: readonly Column[], index: UnitIndex, ctx: CompareContext): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (key: string, label: string, f: (c: Column) => string): void => {
    rows.push({ key, label, values: cols.map(f) });
  };
  add('target', 'target', (c) => unitLabel({ ...c.unit, mode: 'build' }));
  add('mode', 'mode', (c) => c.unit.mode);
  add('profile', 'profile folder', (c) => c.profile);
  add('platform', 'platform', (c) => c.platform);
  add('layout', 'layout', (c) => c.unit.layout);
  add('version', 'version', (c) => c.unit.version ?? 'unknown');
  add('source', 'source', (c) => (c.unit.source ? c.unit.source.kind + (c.unit.source.detail ? ` ${c.unit.source.detail}` : '') : 'unknown'));
  add('features', 'features', (c) => featuresWords(c.fp?.features ?? c.unit.features));
  add('declared', 'declared features', (c) => (c.fp?.declaredFeatures ? featuresWords(c.fp.declaredFeatures) : 'unknown'));
  add('toolchain', 'toolchain', (c) => {
    const t = nameToolchain(c.fp?.rustc ?? c.unit.rustc, ctx.toolchains ?? null, ctx.recordedToolchains);
    return t.name ?? t.words;
  });
  add('rustflags', 'RUSTFLAGS', (c) => (c.fp ? (c.fp.rustflags.length ? c.fp.rustflags.join(' ') : 'none') : 'unknown'));
  // Cargo keeps only hashes of these settings: a difference is certain, what changed is not recorded.
  add('profile-hash', 'profile settings (opt-level, debug, …; hashed by cargo)', (c) => (c.fp ? c.fp.profile : 'unknown'));
  add('target-hash', 'target settings (source path, edition, crate type; hashed by cargo)', (c) => (c.fp ? c.fp.target : 'unknown'));
  add('config-hash', 'cargo config (linker and similar; hashed by cargo)', (c) => (c.fp?.config ?? 'unknown'));
  const depNames = new Set<string>();
  for (const c of cols) for (const d of c.unit.deps) depNames.add(d.name);
  for (const name of [...depNames].sort()) {
    const first = cols.flatMap((c) => c.unit.deps.filter((d) => d.name === name)).map((d) => index.byFingerprint.get(d.fingerprint)?.[0]?.unit)[0];
    const label = name !== 'build_script_build' ? `dependency ${name}` : first?.mode === 'run-custom-build' ? 'its build-script run' : 'its compiled build script';
    add(`dep:${name}`, label, (c) => {
      const ds = c.unit.deps.filter((d) => d.name === name);
      if (ds.length === 0) return 'none';
      return ds.map((d) => depValue(index.byFingerprint.get(d.fingerprint)?.[0]?.unit ?? null, d.fingerprint)).join('; ');
    });
  }
  return rows.filter((r) => r.values.some((v) => v !== r.values[0]));
}

/**
 * Compares two or more units of one package. Throws when fewer than two units are given or they belong to
 * different packages (the UI offers the comparison only within a package).
 */
export function compareUnits(units: readonly Unit[], ctx: CompareContext): UnitComparison {
  if (units.length < 2) throw new Error('a comparison needs at least two units');
  const pkg = units[0]!.package;
  if (units.some((u) => u.package !== pkg)) throw new Error(`the units belong to different packages (${[...new Set(units.map((u) => u.package))].join(', ')})`);
  const index = indexUnits(ctx.scan);
  const problems: string[] = [];
  const cols: Column[] = units.map((u) => {
    const d = ctx.details?.find((x) => x.unit.id === u.id) ?? readUnitDetails(u);
    const fp = fingerprintOf(d);
    if (!fp) problems.push(`${describeUnit(u)}: no readable fingerprint JSON, so RUSTFLAGS, toolchain and settings are unknown`);
    const ref = index.byId.get(u.id);
    return { unit: u, fp, profile: ref?.profile.name ?? 'unknown', platform: ref ? (ref.profile.platform ?? 'host') : 'unknown' };
  });
  const rows = rowsFor(cols, index, ctx);
  const n = units.length;
  const what = rows.map((r) => r.label.replace(/ \(.*\)$/, ''));
  let summary: string;
  if (rows.length === 0) {
    summary = `the ${n} units of ${pkg} differ in nothing cargo records in their fingerprints; they may differ in something only their hash covers (\`cargo rustc\` arguments, a workspace wrapper such as clippy, or -C metadata inputs)`;
  } else {
    summary = `the ${n} units of ${pkg} differ in ${what.length === 1 ? what[0] : `${what.slice(0, -1).join(', ')} and ${what[what.length - 1]}`}`;
  }
  return { package: pkg, units, headers: units.map(describeUnit), rows, summary, problems };
}

/**
 * What changed from `before` to `after` (two units of one target), as short phrases: `features changed from
 * default, fancy to default, extra, fancy`, `toolchain changed from stable 1.95.0 to nightly …`, `dependency
 * util changed: … → …`. Consequences are folded: after a toolchain change every dependency is new too, and a
 * dependency that is only another unit of the same version and features is named once at the end. Empty when
 * nothing recorded differs.
 */
export function describeChange(before: Unit, after: Unit, ctx: CompareContext): string[] {
  const c = compareUnits([before, after], ctx);
  const out: string[] = [];
  const toolchain = c.rows.some((r) => r.key === 'toolchain');
  const renewed: string[] = [];
  const bare = (v: string): string => v.replace(/ \([0-9a-f]{8}\)$/, '');
  for (const r of c.rows) {
    const [a, b] = r.values as [string, string];
    if (r.key.startsWith('dep:')) {
      if (toolchain) continue;
      if (bare(a) === bare(b)) renewed.push(r.label.replace(/^dependency /, ''));
      else out.push(`${r.label} changed: ${bare(a)} → ${bare(b)}`);
    } else if (r.key.endsWith('-hash')) {
      if (!toolchain) out.push(`${r.label.replace(/ \(.*\)$/, '')} changed`);
    } else out.push(`${r.label} changed from ${a} to ${b}`);
  }
  if (toolchain && c.rows.some((r) => r.key.startsWith('dep:'))) out.push('its dependencies were rebuilt with it');
  if (renewed.length) out.push(`built against new units of ${renewed.join(', ')}`);
  return out;
}
