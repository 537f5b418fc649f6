// Process adapter: keeps a scan's unit memo (src/core/scan.ts `UnitMemo`) in the per-user cache folder between
// runs, one file per set of build dirs. The core decides what a record is and when it may be reused (same
// folder, same walk answer); this module stores records for one context (code and workspace members) and
// never lets a damaged, foreign or outgrown file be more than a miss. Nothing here is needed for a correct scan:
// a failure only costs the time the memo would have saved.
//
// The file is a header line (format, context, entry count, SHA-256 of the rest), an index line (each entry's
// path, key and blob length), then for each entry in index order its record on a line of its own, followed by
// its blob (raw bytes) and a newline when it has one. The file is read, and its digest checked, off the main
// thread while the scan plans; a record is parsed only when asked for; a blob is handed out as the bytes it is;
// an entry kept as it was is written back as the same bytes.

import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UnitMemo } from '../core/scan';

/** Above this many unit folders a scan keeps no memo: its records would cost more memory than they save time. */
export const MEMO_MAX_UNITS = 16_384;
/** A file larger than this is not read (a memo within MEMO_MAX_UNITS is some tens of megabytes). */
const MAX_FILE = 256 << 20;
const FORMAT = 3;
/** Memos of build dirs nobody scanned for this long are removed (the next scan there only decodes again). */
const UNUSED_MS = 30 * 24 * 3600 * 1000;
const NAME = /^scan-(?:memo|replay)-[0-9a-f]{16}\.json(\.[0-9a-f]{12}\.tmp)?$/;

export interface ScanMemoStats {
  /** Unit folders kept as they were, and unit folders decoded (and kept for the next run). */
  readonly hits: number;
  readonly misses: number;
  /** 'off': not used for this scan (too many units, or no cache folder); 'damaged': the file was unreadable. */
  readonly state: 'used' | 'off' | 'damaged';
}

export interface ScanMemoStore extends UnitMemo {
  /** Writes what this scan kept and made, replacing the file; entries this scan did not touch are dropped. */
  save(): void;
  /** Whether the file held entries: the last scan of these build dirs was small enough to keep a memo. */
  held(): boolean;
  /** Says the file is still in use, without a scan (one replayed whole, src/node/scan-replay.ts). */
  touch(): void;
  stats(): ScanMemoStats;
}

export interface ScanMemoOptions {
  /** The cache folder; null: keep nothing. */
  readonly dir: string | null;
  /** The build dirs the scan covers: one file per set. */
  readonly scope: readonly string[];
  /** Everything besides a unit's own walk answer that its decoding depends on (code version, members). */
  readonly context: string;
  readonly maxUnits?: number;
}

interface Header {
  readonly format: number;
  readonly context: string;
  readonly entries: number;
  readonly sum: string;
}

/** An entry read from the file: its key, where its record's line is, and its blob. */
interface Old {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly blob: Buffer | null;
  parsed?: unknown;
}

/** An entry this scan made, already in the file's bytes: kept as objects, a streamed scan's units would stay alive. */
interface Made {
  readonly key: string;
  readonly line: Buffer;
  readonly blob: Buffer | null;
}

export function memoFileFor(dir: string, scope: readonly string[]): string {
  const h = createHash('sha256').update(scope.join('\0')).digest('hex');
  return path.join(dir, `scan-memo-${h.slice(0, 16)}.json`);
}

/** Entries whose path starts with NUL are the core's own (a package's texts), not unit folders. */
const isUnit = (p: string): boolean => !p.startsWith('\0');

/**
 * The file, read at once (a copy from the page cache; read in pieces it would wait for an event loop that the
 * scan's planning holds), when it is ours; null when there is none or it is another version's.
 */
function readMemo(file: string, context: string): { b: Buffer; nl1: number } | null | 'damaged' {
  let b: Buffer;
  try {
    if (fs.statSync(file).size > MAX_FILE) return null;
    b = fs.readFileSync(file);
  } catch {
    return null; // None yet.
  }
  try {
    const nl1 = b.indexOf(10);
    if (nl1 < 0) return 'damaged';
    const h = JSON.parse(b.toString('utf8', 0, nl1)) as Partial<Header>;
    if (h.format !== FORMAT || h.context !== context) return null; // Another version's, or other members': unused.
    return typeof h.sum === 'string' && typeof h.entries === 'number' ? { b, nl1 } : 'damaged';
  } catch {
    return 'damaged';
  }
}

/** Whether the bytes after the header are the ones its digest names, checked in the thread pool. */
async function digestHolds(b: Buffer, nl1: number): Promise<boolean> {
  try {
    const h = JSON.parse(b.toString('utf8', 0, nl1)) as Header;
    return Buffer.from(await webcrypto.subtle.digest('SHA-256', b.subarray(nl1 + 1))).toString('base64') === h.sum;
  } catch {
    return false;
  }
}

export function openScanMemo(opts: ScanMemoOptions): ScanMemoStore {
  const file = opts.dir === null ? null : memoFileFor(opts.dir, opts.scope);
  const context = createHash('sha256').update(opts.context).digest('base64');
  const maxUnits = opts.maxUnits ?? MEMO_MAX_UNITS;
  let state: ScanMemoStats['state'] = file === null ? 'off' : 'used';
  let buf: Buffer | null = null;
  const old = new Map<string, Old>();
  /** What the next file holds: an old entry kept as it was, or one made by this scan. */
  const next = new Map<string, Old | Made>();
  let hits = 0;
  let misses = 0;
  let begun = false;

  const index = (b: Buffer, nl1: number): void => {
    state = 'used';
    try {
      const nl2 = b.indexOf(10, nl1 + 1);
      const entries = JSON.parse(b.toString('utf8', nl1 + 1, nl2)) as [string, string, number | null][];
      let at = nl2 + 1;
      for (const [p, key, blobLength] of entries) {
        const end = b.indexOf(10, at);
        if (end < 0) throw new Error('truncated');
        let blob: Buffer | null = null;
        let after = end + 1;
        if (blobLength !== null) {
          blob = b.subarray(after, after + blobLength);
          after += blobLength + 1;
          if (after > b.length || b[after - 1] !== 10) throw new Error('truncated blob');
        }
        old.set(p, { key, start: at, end, blob });
        at = after;
      }
      if (at !== b.length) throw new Error('stray bytes');
      buf = b;
    } catch {
      old.clear();
      state = 'damaged';
    }
  };

  // Read and indexed now, so that the first walks can go out before the scan plans; the digest, checked
  // meanwhile off the main thread, decides before any record is used (`begin`).
  const got = file === null ? null : readMemo(file, context);
  let verified: Promise<boolean> = Promise.resolve(true);
  if (got === 'damaged') state = 'damaged';
  else if (got) {
    index(got.b, got.nl1);
    if (buf) verified = digestHolds(got.b, got.nl1);
  }

  return {
    async first(n: number): Promise<readonly string[]> {
      const paths: string[] = [];
      for (const p of old.keys()) {
        if (paths.length >= n) break;
        if (isUnit(p)) paths.push(p);
      }
      return paths;
    },
    async begin(folders: number): Promise<boolean> {
      begun = true;
      if (file === null) return false;
      if (!(await verified)) {
        // Keys handed out before this are only expectations: an answer to one of them finds no record.
        old.clear();
        buf = null;
        state = 'damaged';
      }
      if (folders > maxUnits) {
        state = 'off';
        return false;
      }
      return true;
    },
    key: (p: string): string | undefined => old.get(p)?.key,
    record(p: string): unknown {
      const o = old.get(p);
      if (o === undefined || buf === null) return undefined;
      o.parsed ??= JSON.parse(buf.toString('utf8', o.start, o.end)) as unknown;
      return o.parsed;
    },
    blob: (p: string): Uint8Array | undefined => old.get(p)?.blob ?? undefined,
    keep(p: string): void {
      const o = old.get(p);
      if (o === undefined) return;
      if (isUnit(p)) hits++;
      next.set(p, o);
    },
    put(p: string, key: string, record: unknown, blob?: string): void {
      if (isUnit(p)) misses++;
      next.set(p, { key, line: Buffer.from(JSON.stringify(record) + '\n'), blob: blob === undefined ? null : Buffer.from(blob) });
    },
    save(): void {
      if (file === null || !begun) return;
      if (state === 'off') {
        // Grown past the limit: the records of a smaller past are of no use any more.
        fs.rmSync(file, { force: true });
        return;
      }
      // A scan that kept and made nothing could not tell (a walker without keys): what the file says still holds.
      if (next.size === 0) return;
      // Nothing new and nothing gone: the file already says all of it; its time says it is still in use.
      if (state !== 'damaged' && next.size === old.size && [...next.values()].every((e) => 'start' in e)) {
        try {
          const now = new Date();
          fs.utimesSync(file, now, now);
        } catch {
          // Read-only: it stays as it is.
        }
        return;
      }
      const NL = Buffer.from('\n');
      const parts: Buffer[] = [];
      const entries: [string, string, number | null][] = [];
      for (const [p, e] of next) {
        entries.push([p, e.key, e.blob === null ? null : e.blob.length]);
        parts.push('start' in e ? buf!.subarray(e.start, e.end + 1) : e.line);
        if (e.blob !== null) parts.push(e.blob, NL);
      }
      // Hashed and written piece by piece: a copy of the whole would be the largest thing the scan ever held.
      parts.unshift(Buffer.from(JSON.stringify(entries) + '\n'));
      // A folder we cannot write to: the next run decodes again.
      if (!saveDigested(file, parts, (sum): Header => ({ format: FORMAT, context, entries: entries.length, sum }))) return;
      removeUnused(path.dirname(file));
    },
    stats: () => ({ hits, misses, state: begun ? state : 'off' }),
    held: () => old.size > 0,
    touch(): void {
      if (file === null || old.size === 0) return;
      try {
        const now = new Date();
        fs.utimesSync(file, now, now);
      } catch {
        // Read-only: it stays as it is.
      }
    },
  };
}

/** Other build dirs' memos, and files of writers that died, once nobody has used them for a long time. */
function removeUnused(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const f of names) {
    if (!NAME.test(f)) continue;
    try {
      const p = path.join(dir, f);
      if (now - fs.statSync(p).mtimeMs > (f.endsWith('.tmp') ? UNUSED_MS / 30 : UNUSED_MS)) fs.rmSync(p, { force: true });
    } catch {
      // Gone already: another scan cleaned up first.
    }
  }
}

/**
 * Writes a header line (made from the SHA-256 of `parts`), then `parts`, to `file` through a temp file renamed into
 * place: a reader sees the old file or the new one, whole. False when it could not be written.
 */
export function saveDigested(file: string, parts: readonly Buffer[], header: (sum: string) => unknown): boolean {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  const all = [Buffer.from(JSON.stringify(header(h.digest('base64'))) + '\n'), ...parts];
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'wx');
    try {
      writeAll(fd, all);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

/** Writes every piece, in order, a thousand at a time (writev takes at most IOV_MAX of them). */
function writeAll(fd: number, parts: readonly Buffer[]): void {
  for (let i = 0; i < parts.length; i += 1024) {
    let batch = parts.slice(i, i + 1024);
    let left = batch.reduce((n, b) => n + b.length, 0);
    while (left > 0) {
      const n = fs.writevSync(fd, batch);
      left -= n;
      if (left === 0) break;
      // A short write: go on from where it stopped.
      let skip = n;
      while (skip >= batch[0]!.length) skip -= batch.shift()!.length;
      batch = [batch[0]!.subarray(skip), ...batch.slice(1)];
    }
  }
}
