// Small lookups over a scan shared by the inspect modules (outdir, buildrun, explain, compare, analysis): where a
// unit sits (build dir, profile folder), units by fingerprint, and the few words every one of them prints the
// same way. Pure over the scan; nothing here reads the disk.

import * as path from 'node:path';
import type { BuildDir, Profile, ScanResult, Unit } from './model';
import { unitLabel } from './format';
import { groupBy } from './group';

export interface UnitRef {
  readonly unit: Unit;
  readonly profile: Profile;
  readonly buildDir: BuildDir;
}

export interface UnitIndex {
  readonly refs: readonly UnitRef[];
  readonly byId: ReadonlyMap<string, UnitRef>;
  /** Hash-file content (16 hex digits) → the units that have it. */
  readonly byFingerprint: ReadonlyMap<string, readonly UnitRef[]>;
}

export function indexUnits(scan: ScanResult): UnitIndex {
  const refs: UnitRef[] = [];
  for (const b of scan.buildDirs) for (const p of b.profiles) for (const u of p.units) refs.push({ unit: u, profile: p, buildDir: b });
  const byId = new Map(refs.map((r) => [r.unit.id, r]));
  return { refs, byId, byFingerprint: groupByFingerprint(refs) };
}

/** Units by the fingerprint in their hash file (several when cargo left equal ones in different folders). */
export function groupByFingerprint<R extends { readonly unit: Unit }>(refs: readonly R[]): Map<string, R[]> {
  return groupBy(refs, (r) => r.unit.fingerprintHash || null);
}

export const shortHash = (h: string): string => h.slice(0, 8);

/** `2026-05-19 08:45:47 UTC`, or `an unknown time`. */
export function isoTime(ms: number | null): string {
  return ms === null ? 'an unknown time' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** `lib util 5c53e3c0`, with `(legacy)` for legacy units. */
export function describeUnit(u: Unit): string {
  return `${unitLabel(u)} ${shortHash(u.hash)}${u.layout === 'legacy' ? ' (legacy)' : ''}`;
}

export function featuresWords(f: readonly string[] | null): string {
  if (f === null) return 'unknown';
  return f.length ? f.join(', ') : 'none';
}

/** `debug`, or `release for x86_64-unknown-linux-gnu` (a `--target` folder). */
export function profileWords(p: Profile): string {
  return p.platform ? `${p.name} for ${p.platform}` : p.name;
}

/** OUT_DIR of a build-script run unit (v2 `<unit>/out`, legacy `build/<pkg>-<META>/out`); null for other units. */
export function outDirOf(u: Unit): string | null {
  if (u.mode !== 'run-custom-build') return null;
  const base = u.paths[0] ?? '';
  if (u.layout === 'v2') return path.join(base, 'out');
  const runDir = u.parts.find((p) => p.name === 'build')?.path ?? base;
  return path.join(runDir, 'out');
}

/** The fingerprint folder of a unit, or null. */
export function fingerprintDirOf(u: Unit): string | null {
  if (u.layout === 'v2') return u.paths[0] ? path.join(u.paths[0], 'fingerprint') : null;
  return u.parts.find((p) => p.name === 'fingerprint')?.path ?? null;
}

/** The unit's hash file name (`lib-util`, `run-build-script-build-script-build`), libs first when there are several. */
export function hashFileNameOf(u: Unit): string | null {
  const names = u.fingerprintFiles.filter((n) => !n.startsWith('dep-') && !n.startsWith('output-') && !n.endsWith('.json') && n !== 'invoked.timestamp');
  names.sort((a, b) => (a.startsWith('lib-') ? -1 : b.startsWith('lib-') ? 1 : a < b ? -1 : 1));
  return names[0] ?? null;
}
