// The `scan --json` contract (schema 1), documented in docs/json-schema.md. It is a projection of the model
// with explicit field order and ISO times, so that the model can grow without breaking scripts that read it.
// Additive changes keep `schema: 1`; renaming or removing a field bumps it. The same projection can be written
// as a stream of text chunks (scanJsonChunks), unit by unit, so that a huge scan is never one string in memory.

import type { Bucket, IncrementalCrate, Profile, ScanResult, Unit } from './model';

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
    source: u.source,
    paths: u.paths,
    parts: u.parts,
    bytes: u.bytes,
    freedBytes: u.freedBytes,
    builtAt: iso(u.builtAt),
    lastBuildFailed: u.lastBuildFailed,
    fingerprintHash: u.fingerprintHash,
    rustc: u.rustc,
    deps: u.deps,
    fingerprintFiles: u.fingerprintFiles,
    stale: u.stale,
    problems: u.problems,
  };
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
  ) {}
}

type ListOf = <T>(items: readonly T[], map: (t: T) => unknown, whole: boolean) => unknown;
const eager: ListOf = (items, map) => items.map(map);
const streamed: ListOf = (items, map, whole) => new Items(items, map, whole);

function profileToJson(p: Profile, list: ListOf = eager): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    platform: p.platform,
    path: p.path,
    layouts: p.layouts,
    bytes: p.bytes,
    locks: p.locks,
    units: list(p.units, unitToJson, true),
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
        if (v.whole) buf += JSON.stringify(v.map(v.items[i])) ?? 'null';
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
