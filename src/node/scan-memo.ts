// Process adapter: keeps a scan's unit memo (src/core/scan.ts `UnitMemo`) in the per-user cache folder between
// runs, one file per set of build dirs. The core decides what a record is and when it may be reused (same
// folder, same walk answer); this module stores records for one context (code and workspace members) and
// never lets a damaged, foreign or outgrown file be more than a miss. Nothing here is needed for a correct scan:
// a failure only costs the time the memo would have saved.
//
// The file is a header line (format, context, entry count, SHA-256 of the rest), an index line (each entry's
// path and key), then one line per entry with its record, in index order. A scan reads the header and the
// index before its first walk; a record is parsed only when asked for, and an entry kept as it was is written
// back as the same bytes.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UnitMemo } from '../core/scan';

/** Above this many unit folders a scan keeps no memo: its records would cost more memory than they save time. */
export const MEMO_MAX_UNITS = 16_384;
/** A file larger than this is not read (a memo within MEMO_MAX_UNITS is some tens of megabytes). */
const MAX_FILE = 256 << 20;
const FORMAT = 2;
/** Memos of build dirs nobody scanned for this long are removed (the next scan there only decodes again). */
const UNUSED_MS = 30 * 24 * 3600 * 1000;
const NAME = /^scan-memo-[0-9a-f]{16}\.json(\.[0-9a-f]{12}\.tmp)?$/;

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

/** An entry read from the file: its key, and where its record's line is. */
interface Old {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  parsed?: unknown;
}

export function memoFileFor(dir: string, scope: readonly string[]): string {
  const h = createHash('sha256').update(scope.join('\0')).digest('hex');
  return path.join(dir, `scan-memo-${h.slice(0, 16)}.json`);
}

/** Entries whose path starts with NUL are the core's own (a package's texts), not unit folders. */
const isUnit = (p: string): boolean => !p.startsWith('\0');

export function openScanMemo(opts: ScanMemoOptions): ScanMemoStore {
  const file = opts.dir === null ? null : memoFileFor(opts.dir, opts.scope);
  const context = createHash('sha256').update(opts.context).digest('base64');
  const maxUnits = opts.maxUnits ?? MEMO_MAX_UNITS;
  let state: ScanMemoStats['state'] = file === null ? 'off' : 'used';
  let buf: Buffer | null = null;
  const old = new Map<string, Old>();
  /** What the next file holds: an old entry kept as it was, or a record to write. */
  const next = new Map<string, Old | { readonly key: string; readonly record: unknown }>();
  let hits = 0;
  let misses = 0;
  let begun = false;

  const load = (): void => {
    if (file === null) return;
    let b: Buffer;
    try {
      if (fs.statSync(file).size > MAX_FILE) return;
      b = fs.readFileSync(file);
    } catch {
      return; // None yet.
    }
    try {
      const nl1 = b.indexOf(10);
      if (nl1 < 0) throw new Error('no header');
      const h = JSON.parse(b.toString('utf8', 0, nl1)) as Partial<Header>;
      if (h.format !== FORMAT || h.context !== context) return; // Another version's, or other members': unused.
      if (typeof h.sum !== 'string' || typeof h.entries !== 'number') throw new Error('bad header');
      if (createHash('sha256').update(b.subarray(nl1 + 1)).digest('base64') !== h.sum) throw new Error('digest');
      const nl2 = b.indexOf(10, nl1 + 1);
      const index = JSON.parse(b.toString('utf8', nl1 + 1, nl2)) as [string, string][];
      if (!Array.isArray(index) || index.length !== h.entries) throw new Error('bad index');
      let at = nl2 + 1;
      for (const [p, key] of index) {
        const end = b.indexOf(10, at);
        if (end < 0) throw new Error('truncated');
        old.set(p, { key, start: at, end });
        at = end + 1;
      }
      if (at !== b.length) throw new Error('stray bytes');
      buf = b;
    } catch {
      old.clear();
      state = 'damaged';
    }
  };

  return {
    begin(folders: number): boolean {
      begun = true;
      if (file === null) return false;
      if (folders > maxUnits) {
        state = 'off';
        return false;
      }
      load();
      return true;
    },
    key: (p: string): string | undefined => old.get(p)?.key,
    record(p: string): unknown {
      const o = old.get(p);
      if (o === undefined || buf === null) return undefined;
      // The digest says these are the bytes this code wrote: a line that does not parse is not ours to read.
      o.parsed ??= JSON.parse(buf.toString('utf8', o.start, o.end)) as unknown;
      return o.parsed;
    },
    keep(p: string): void {
      const o = old.get(p);
      if (o === undefined) return;
      if (isUnit(p)) hits++;
      next.set(p, o);
    },
    put(p: string, key: string, record: unknown): void {
      if (isUnit(p)) misses++;
      next.set(p, { key, record });
    },
    save(): void {
      if (file === null || !begun) return;
      if (state === 'off') {
        // Grown past the limit: the records of a smaller past are of no use any more.
        fs.rmSync(file, { force: true });
        return;
      }
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
      const entries = [...next];
      const lines = entries.map(([, e]) => ('start' in e ? buf!.toString('utf8', e.start, e.end) : JSON.stringify(e.record)));
      const body = `${JSON.stringify(entries.map(([p, e]) => [p, e.key]))}\n${lines.map((l) => l + '\n').join('')}`;
      const header: Header = { format: FORMAT, context, entries: entries.length, sum: createHash('sha256').update(body).digest('base64') };
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(tmp, `${JSON.stringify(header)}\n${body}`, { flag: 'wx' });
        fs.renameSync(tmp, file);
      } catch {
        // A folder we cannot write to: the next run decodes again.
        fs.rmSync(tmp, { force: true });
        return;
      }
      removeUnused(path.dirname(file));
    },
    stats: () => ({ hits, misses, state }),
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
