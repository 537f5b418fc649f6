// The `scan --json` contract (schema 1), documented in docs/json-schema.md. It is a projection of the model
// with explicit field order and ISO times, so that the model can grow without breaking scripts that read it.
// Additive changes keep `schema: 1`; renaming or removing a field bumps it.

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

function profileToJson(p: Profile): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    platform: p.platform,
    path: p.path,
    layouts: p.layouts,
    bytes: p.bytes,
    locks: p.locks,
    units: p.units.map(unitToJson),
    packages: p.packages,
    incremental: p.incremental.map(incrementalToJson),
    other: p.other.map(bucketToJson),
  };
}

export function scanToJson(r: ScanResult, tool: { name: string; version: string }): Record<string, unknown> {
  return {
    schema: JSON_SCHEMA_VERSION,
    tool,
    workspaceRoot: r.workspaceRoot,
    walker: r.walker,
    buildDirs: r.buildDirs.map((b) => ({
      path: b.path,
      role: b.role,
      discovery: b.discovery,
      exists: b.exists,
      bytes: b.bytes,
      profiles: b.profiles.map(profileToJson),
      other: b.other.map(bucketToJson),
    })),
    problems: r.problems,
  };
}
