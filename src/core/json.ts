// The `scan --json` contract (schema 1), documented in docs/json-schema.md. It is a projection of the model
// with explicit field order and ISO times, so that the model can grow without breaking scripts that read it.
// Additive changes keep `schema: 1`; renaming or removing a field bumps it. The same projection can be written
// as a stream of text chunks (scanJsonChunks), unit by unit, so that a huge scan is never one string in memory.

import type { Bucket, IncrementalCrate, PackageSource, Profile, ScanResult, Unit, UnitPart } from './model';

export const JSON_SCHEMA_VERSION = 1;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function unitToJson(u: Unit): Record<string, unknown> {
  return {
    id: u.id,
    package: u.package,
    hash: u.hash,
    layout: u.layout,
    kind: u.kind,
    mode: u.mode,
    target: u.target,
    features: u.features,
    version: u.version,
    source: u.source && { kind: u.source.kind, detail: u.source.detail },
    paths: u.paths,
    parts: u.parts.map((p) => ({ name: p.name, path: p.path, bytes: p.bytes })),
    bytes: u.bytes,
    freedBytes: u.freedBytes,
    builtAt: iso(u.builtAt),
    lastBuildFailed: u.lastBuildFailed,
    fingerprintHash: u.fingerprintHash,
    rustc: u.rustc,
    deps: u.deps.map((d) => ({ name: d.name, fingerprint: d.fingerprint })),
    fingerprintFiles: u.fingerprintFiles,
    stale: u.stale,
    problems: u.problems,
  };
}

// `JSON.stringify(unitToJson(u))`, written by hand: a huge scan writes tens of thousands of units. Lists that
// units share (feature lists, file-name lists) have their text made once. Tests hold it equal to
// JSON.stringify on every fixture and on odd values.
const SAFE = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const str = (s: string | null): string => (s === null ? 'null' : SAFE.test(s) ? `"${s}"` : JSON.stringify(s));
const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));
const listTexts = new WeakMap<readonly string[], string>();

function strList(xs: readonly string[] | null): string {
  if (xs === null) return 'null';
  if (xs.length === 0) return '[]';
  let t = listTexts.get(xs);
  if (t === undefined) listTexts.set(xs, (t = `[${xs.map(str).join(',')}]`));
  return t;
}

function partsText(parts: readonly UnitPart[]): string {
  let t = '[';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    t += `${i > 0 ? ',' : ''}{"name":${str(p.name)},"path":${str(p.path)},"bytes":${num(p.bytes)}}`;
  }
  return t + ']';
}

function depsText(deps: Unit['deps']): string {
  let t = '[';
  for (let i = 0; i < deps.length; i++) {
    const d = deps[i]!;
    t += `${i > 0 ? ',' : ''}{"name":${str(d.name)},"fingerprint":${str(d.fingerprint)}}`;
  }
  return t + ']';
}

const sourceText = (s: PackageSource | null): string => (s === null ? 'null' : `{"kind":${str(s.kind)},"detail":${str(s.detail)}}`);

export function unitJsonText(u: Unit): string {
  const paths = u.paths.length === 1 ? `[${str(u.paths[0]!)}]` : `[${u.paths.map(str).join(',')}]`;
  return (
    `{"id":${str(u.id)},"package":${str(u.package)},"hash":${str(u.hash)},"layout":${str(u.layout)},"kind":${str(u.kind)},"mode":${str(u.mode)}` +
    `,"target":${str(u.target)},"features":${strList(u.features)},"version":${str(u.version)},"source":${sourceText(u.source)}` +
    `,"paths":${paths},"parts":${partsText(u.parts)},"bytes":${num(u.bytes)},"freedBytes":${num(u.freedBytes)},"builtAt":${str(iso(u.builtAt))}` +
    `,"lastBuildFailed":${u.lastBuildFailed},"fingerprintHash":${str(u.fingerprintHash)},"rustc":${str(u.rustc)},"deps":${depsText(u.deps)}` +
    `,"fingerprintFiles":${strList(u.fingerprintFiles)},"stale":${u.stale.length === 0 ? '[]' : JSON.stringify(u.stale)},"problems":${u.problems.length === 0 ? '[]' : JSON.stringify(u.problems)}}`
  );
}

function incrementalToJson(c: IncrementalCrate): Record<string, unknown> {
  return {
    crate: c.crate,
    path: c.path,
    bytes: c.bytes,
    sessions: c.sessions.map((s) => ({ name: s.name, path: s.path, bytes: s.bytes, startedAt: iso(s.startedAt), working: s.working })),
  };
}

const bucketToJson = (b: Bucket): Record<string, unknown> => ({ name: b.name, paths: b.paths, bytes: b.bytes });

/**
 * A list written element by element by scanJsonChunks (JSON.stringify never sees one). `whole`: each element's
 * projection is stringified at once; otherwise it is written field by field, so that lists inside it stream too.
 */
class Items<T> {
  constructor(
    readonly items: readonly T[],
    readonly map: (t: T) => unknown,
    readonly whole: boolean,
    /** `JSON.stringify(map(t))` made faster, when there is such a thing. */
    readonly text?: (t: T) => string,
  ) {}
}

type ListOf = <T>(items: readonly T[], map: (t: T) => unknown, whole: boolean, text?: (t: T) => string) => unknown;
const eager: ListOf = (items, map) => items.map(map);
const streamed: ListOf = (items, map, whole, text) => new Items(items, map, whole, text);

function profileToJson(p: Profile, list: ListOf = eager): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    platform: p.platform,
    path: p.path,
    layouts: p.layouts,
    bytes: p.bytes,
    locks: p.locks,
    units: list(p.units, unitToJson, true, unitJsonText),
    packages: p.packages,
    incremental: p.incremental.map(incrementalToJson),
    other: p.other.map(bucketToJson),
  };
}

export function scanToJson(r: ScanResult, tool: { name: string; version: string }): Record<string, unknown> {
  return projectScan(r, tool, eager);
}

function projectScan(r: ScanResult, tool: { name: string; version: string }, list: ListOf): Record<string, unknown> {
  return {
    schema: JSON_SCHEMA_VERSION,
    tool,
    workspaceRoot: r.workspaceRoot,
    walker: r.walker,
    buildDirs: list(
      r.buildDirs,
      (b) => ({
        path: b.path,
        role: b.role,
        discovery: b.discovery,
        exists: b.exists,
        bytes: b.bytes,
        profiles: list(b.profiles, (p) => profileToJson(p, list), false),
        other: b.other.map(bucketToJson),
      }),
      false,
    ),
    problems: r.problems,
  };
}

/**
 * `JSON.stringify(scanToJson(r, tool))`, the same text, as chunks of about `chunkSize` characters: one unit's
 * projection exists at a time.
 */
export function* scanJsonChunks(r: ScanResult, tool: { name: string; version: string }, chunkSize = 1 << 16): Generator<string> {
  let buf = '';
  // Plain objects are written key by key as JSON.stringify writes them (undefined and functions left out);
  // everything else that is not an Items is handed to JSON.stringify whole.
  function* emit(v: unknown): Generator<string> {
    if (v instanceof Items) {
      buf += '[';
      for (let i = 0; i < v.items.length; i++) {
        if (i > 0) buf += ',';
        if (v.text) buf += v.text(v.items[i]);
        else if (v.whole) buf += JSON.stringify(v.map(v.items[i])) ?? 'null';
        else yield* emit(v.map(v.items[i]));
        if (buf.length >= chunkSize) {
          yield buf;
          buf = '';
        }
      }
      buf += ']';
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      buf += JSON.stringify(v) ?? 'null';
      return;
    }
    buf += '{';
    let first = true;
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
      buf += `${first ? '' : ','}${JSON.stringify(k)}:`;
      first = false;
      yield* emit(x);
    }
    buf += '}';
  }
  yield* emit(projectScan(r, tool, streamed));
  if (buf) yield buf;
}
