// Process adapter: keeps a scan's unit memo (src/core/scan.ts `UnitMemo`) in the per-user cache folder between
// runs, one file per set of build dirs. The core decides what a record is and when it may be reused (same
// folder, same walk answer); this module stores records for one context (code and workspace members) and
// never lets a damaged, foreign or outgrown file be more than a miss. Nothing here is needed for a correct scan:
// a failure only costs the time the memo would have saved.
//
// The file is three lines: a header (format, context, unit count, SHA-256 of the two lines after it), the
// index (each unit folder's path and the key of the walk answer its record was made of), and the records in
// the same order. The index is all a scan needs before its first walk; the records are parsed, and the digest
// checked, when the first "same" answer asks for one, while the walker is busy.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UnitMemo } from '../core/scan';

/** Above this many unit folders a scan keeps no memo: its records would cost more memory than they save time. */
export const MEMO_MAX_UNITS = 16_384;
/** A file larger than this is not read (a memo within MEMO_MAX_UNITS is a few megabytes). */
const MAX_FILE = 64 << 20;
const FORMAT = 1;

export interface ScanMemoStats {
  /** Units reused from the file, and units decoded (and kept for the next run). */
  readonly hits: number;
  readonly misses: number;
  /** 'off': not used for this scan (too many units, or no cache folder); 'damaged': the file was unreadable. */
  readonly state: 'used' | 'off' | 'damaged';
}

export interface ScanMemoStore extends UnitMemo {
  /** Writes what this scan used and decoded, replacing the file; units that were not seen are dropped. */
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
  readonly units: number;
  readonly sum: string;
}

export function memoFileFor(dir: string, scope: readonly string[]): string {
  const h = createHash('sha256').update(scope.join('\0')).digest('hex');
  return path.join(dir, `scan-memo-${h.slice(0, 16)}.json`);
}

export function openScanMemo(opts: ScanMemoOptions): ScanMemoStore {
  const file = opts.dir === null ? null : memoFileFor(opts.dir, opts.scope);
  const context = createHash('sha256').update(opts.context).digest('base64');
  const maxUnits = opts.maxUnits ?? MEMO_MAX_UNITS;
  let state: ScanMemoStats['state'] = file === null ? 'off' : 'used';
  /** Unit folder → its place in the file, and the key of its record. */
  const index = new Map<string, { readonly at: number; readonly key: string }>();
  let pending: { readonly text: Buffer; readonly sum: string; readonly units: number } | null = null;
  let records: unknown[] | null = null;
  const next = new Map<string, { readonly key: string; readonly record: unknown }>();
  let hits = 0;
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
      const nl2 = nl1 < 0 ? -1 : b.indexOf(10, nl1 + 1);
      if (nl2 < 0) throw new Error('truncated');
      const h = JSON.parse(b.toString('utf8', 0, nl1)) as Partial<Header>;
      if (h.format !== FORMAT || h.context !== context) return; // Another version's, or other members': unused.
      const keys = JSON.parse(b.toString('utf8', nl1 + 1, nl2)) as unknown;
      if (!Array.isArray(keys) || keys.length !== h.units || typeof h.sum !== 'string') throw new Error('bad index');
      keys.forEach((k: unknown, at) => {
        if (Array.isArray(k) && typeof k[0] === 'string' && typeof k[1] === 'string') index.set(k[0], { at, key: k[1] });
      });
      pending = { text: b.subarray(nl1 + 1), sum: h.sum, units: h.units };
    } catch {
      index.clear();
      state = 'damaged';
    }
  };

  /** The records, parsed on first use once the file's digest says they are what was written. */
  const all = (): unknown[] | null => {
    if (records === null && pending !== null) {
      const p = pending;
      pending = null;
      try {
        if (createHash('sha256').update(p.text).digest('base64') !== p.sum) throw new Error('digest');
        const nl = p.text.indexOf(10);
        const rs = JSON.parse(p.text.toString('utf8', nl + 1)) as unknown;
        if (!Array.isArray(rs) || rs.length !== p.units) throw new Error('records');
        records = rs;
      } catch {
        state = 'damaged';
      }
    }
    return records;
  };

  return {
    begin(units: number): boolean {
      begun = true;
      if (file === null) return false;
      if (units > maxUnits) {
        state = 'off';
        return false;
      }
      load();
      return true;
    },
    key: (p: string): string | undefined => index.get(p)?.key,
    record(p: string): unknown {
      const i = index.get(p);
      return i === undefined ? undefined : all()?.[i.at];
    },
    put(p: string, key: string, record: unknown): void {
      const i = index.get(p);
      if (i && i.key === key && records?.[i.at] === record) hits++;
      next.set(p, { key, record });
    },
    save(): void {
      if (file === null || !begun) return;
      if (state === 'off') {
        // Grown past the limit: the records of a smaller past are of no use any more.
        fs.rmSync(file, { force: true });
        return;
      }
      // Nothing new and nothing gone: the file already says all of it.
      if (state !== 'damaged' && hits === next.size && next.size === index.size) return;
      const entries = [...next];
      const body = `${JSON.stringify(entries.map(([p, k]) => [p, k.key]))}\n${JSON.stringify(entries.map(([, k]) => k.record))}\n`;
      const header: Header = { format: FORMAT, context, units: entries.length, sum: createHash('sha256').update(body).digest('base64') };
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(tmp, `${JSON.stringify(header)}\n${body}`, { flag: 'wx' });
        fs.renameSync(tmp, file);
      } catch {
        // A folder we cannot write to: the next run decodes again.
        fs.rmSync(tmp, { force: true });
      }
    },
    stats: () => ({ hits, misses: next.size - hits, state }),
  };
}
