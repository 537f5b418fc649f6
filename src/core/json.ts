// The `scan --json` contract (schema 1), documented in docs/json-schema.md. It is a projection of the model
// with explicit field order and ISO times, so that the model can grow without breaking scripts that read it.
// Additive changes keep `schema: 1`; renaming or removing a field bumps it. One writer (ScanJsonWriter) makes
// the text unit by unit, either as a streamed scan goes (it is a ScanSink) or from a finished model
// (scanJsonChunks): a huge scan is never one string in memory, and a streamed one never one model.

import type { Bucket, BuildDir, IncrementalCrate, PackageSource, Profile, ScanResult, Unit, UnitPart } from './model';
import type { BuildDirHead, ProfileHead, ScanSink } from './scan';

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

// A profile's and a build dir's `bytes` come after their lists: a streamed scan only knows them at the end.
const scanHeadToJson = (head: Pick<ScanResult, 'workspaceRoot' | 'walker'>, tool: { name: string; version: string }): Record<string, unknown> => ({
  schema: JSON_SCHEMA_VERSION,
  tool,
  workspaceRoot: head.workspaceRoot,
  walker: head.walker,
});
const buildDirHeadToJson = (b: BuildDirHead): Record<string, unknown> => ({ path: b.path, role: b.role, discovery: b.discovery, exists: b.exists });
const buildDirTailToJson = (b: BuildDir): Record<string, unknown> => ({ other: b.other.map(bucketToJson), bytes: b.bytes });
const profileHeadToJson = (p: ProfileHead): Record<string, unknown> => ({
  id: p.id,
  name: p.name,
  platform: p.platform,
  path: p.path,
  layouts: p.layouts,
  locks: p.locks,
});
const profileRestToJson = (p: Profile): Record<string, unknown> => ({
  incremental: p.incremental.map(incrementalToJson),
  other: p.other.map(bucketToJson),
  bytes: p.bytes,
});
const profileTailToJson = (p: Profile): Record<string, unknown> => ({ packages: p.packages, ...profileRestToJson(p) });

export function scanToJson(r: ScanResult, tool: { name: string; version: string }): Record<string, unknown> {
  return {
    ...scanHeadToJson(r, tool),
    buildDirs: r.buildDirs.map((b) => ({
      ...buildDirHeadToJson(b),
      profiles: b.profiles.map((p) => ({ ...profileHeadToJson(p), units: p.units.map(unitToJson), ...profileTailToJson(p) })),
      ...buildDirTailToJson(b),
    })),
    problems: r.problems,
  };
}

// An object's JSON text without its closing brace, and without its opening one.
const open = (o: Record<string, unknown>): string => JSON.stringify(o).slice(0, -1);
const rest = (o: Record<string, unknown>): string => JSON.stringify(o).slice(1);

/**
 * `JSON.stringify(scanToJson(r, tool))` written as the scan goes (a ScanSink of scan.ts), one unit at a time:
 * the text of a scan of a million files never has to be one string, nor its units one model. `put` receives
 * pieces of about `chunkSize` characters; what it returns is awaited, so that a slow reader holds the scan back.
 */
export class ScanJsonWriter implements ScanSink {
  private buf = '';
  private dirs = 0;
  private profiles = 0;
  private written = 0;

  constructor(
    private readonly put: (text: string | Uint8Array) => void | Promise<void>,
    private readonly chunkSize = 1 << 16,
  ) {}

  /** Everything before the first build dir (which the caller knows before scanning). */
  start(head: Pick<ScanResult, 'workspaceRoot' | 'walker'>, tool: { name: string; version: string }): void {
    this.buf += `${open(scanHeadToJson(head, tool))},"buildDirs":[`;
  }

  buildDir(head: BuildDirHead): void | Promise<void> {
    this.buf += `${this.dirs++ > 0 ? ',' : ''}${open(buildDirHeadToJson(head))},"profiles":[`;
    this.profiles = 0;
    return this.flush(false);
  }

  profile(head: ProfileHead): void | Promise<void> {
    this.buf += `${this.profiles++ > 0 ? ',' : ''}${open(profileHeadToJson(head))},"units":[`;
    this.written = 0;
    return this.flush(false);
  }

  units(units: readonly Unit[]): void | Promise<void> {
    return this.items(units, 0, unitJsonText);
  }

  readonly render = unitJsonText;

  rendered(texts: readonly (string | Uint8Array)[]): void | Promise<void> {
    return this.texts(texts, 0);
  }

  /** As `items`, for texts already made; bytes go out as they are, after the text in hand. */
  private texts(xs: readonly (string | Uint8Array)[], i: number): void | Promise<void> {
    for (; i < xs.length; i++) {
      const x = xs[i]!;
      if (typeof x === 'string') {
        this.buf += this.written++ > 0 ? ',' + x : x;
        if (this.buf.length < this.chunkSize) continue;
      } else {
        if (this.written++ > 0) this.buf += ',';
        const before = this.flush(true);
        const next = i + 1;
        const write = (): void | Promise<void> => {
          const w = this.put(x);
          return w ? w.then(() => this.texts(xs, next)) : this.texts(xs, next);
        };
        return before ? before.then(write) : write();
      }
      const wait = this.flush(false);
      const next = i + 1;
      if (wait) return wait.then(() => this.texts(xs, next));
    }
  }

  profileEnd(p: Profile): void | Promise<void> {
    // Packages one at a time too: at 1M entries their ids make a text of megabytes.
    this.buf += '],"packages":[';
    this.written = 0;
    const tail = (): void | Promise<void> => {
      this.buf += `],${rest(profileRestToJson(p))}`;
      return this.flush(false);
    };
    const wait = this.items(p.packages, 0, (x) => JSON.stringify(x));
    return wait ? wait.then(tail) : tail();
  }

  /** Appends `xs` from `i` on to the list in hand, comma-separated, flushing (and awaiting) as the text grows. */
  private items<T>(xs: readonly T[], i: number, text: (x: T) => string): void | Promise<void> {
    for (; i < xs.length; i++) {
      this.buf += this.written++ > 0 ? ',' + text(xs[i]!) : text(xs[i]!);
      if (this.buf.length >= this.chunkSize) {
        const wait = this.flush(false);
        const next = i + 1;
        if (wait) return wait.then(() => this.items(xs, next, text));
      }
    }
  }

  buildDirEnd(b: BuildDir): void | Promise<void> {
    this.buf += `],${rest(buildDirTailToJson(b))}`;
    return this.flush(false);
  }

  /** The problems, which the scan gathers until its end, close the text. */
  end(problems: ScanResult['problems']): void | Promise<void> {
    this.buf += `],"problems":${JSON.stringify(problems)}}`;
    return this.flush(true);
  }

  private flush(all: boolean): void | Promise<void> {
    if (this.buf.length === 0 || (!all && this.buf.length < this.chunkSize)) return;
    const t = this.buf;
    this.buf = '';
    return this.put(t);
  }
}

/**
 * `JSON.stringify(scanToJson(r, tool))`, the same text, as chunks of about `chunkSize` characters, made as they
 * are asked for: the writer plays the finished scan as scanBuildDirs would have played it while scanning.
 */
export function* scanJsonChunks(r: ScanResult, tool: { name: string; version: string }, chunkSize = 1 << 16): Generator<string> {
  const ready: string[] = [];
  // This writer is given units, never rendered bytes; a text stays a text.
  const w = new ScanJsonWriter((t) => void ready.push(typeof t === 'string' ? t : new TextDecoder().decode(t)), chunkSize);
  w.start(r, tool);
  for (const b of r.buildDirs) {
    void w.buildDir(b);
    for (const p of b.profiles) {
      void w.profile(p);
      yield* ready.splice(0);
      for (let i = 0; i < p.units.length; i += 256) {
        void w.units(p.units.slice(i, i + 256));
        yield* ready.splice(0);
      }
      void w.profileEnd(p);
      yield* ready.splice(0);
    }
    void w.buildDirEnd(b);
    yield* ready.splice(0);
  }
  void w.end(r.problems);
  yield* ready.splice(0);
}
