// Process adapter: replays a whole streamed scan (`scan --json --no-stale`) when nothing it looked at changed.
// A scan is a function of what it looked at: the folders the layout pass listed, and the walker's answers. With
// the native walker every answer has a key (src/core/walk.ts), and a folder's listing changes only with its
// mtime. So a scan whose every walk had a key, and whose listed folders are all older than the racy window, is
// kept here with its output; the next scan of the same build dirs, by the same code, sends all those walks
// again with their keys as `expect`, plus an lstat of each listed folder, before planning anything. If every
// answer is "same", the output is the kept one, byte for byte. If any differs, the answers feed the scan as it
// runs, so that a changed build dir is walked once, not twice (the unit memo then does what it can).
//
// The file, `scan-replay-<sha256 of the build dir paths>.json` beside the unit memo: a header line (format,
// context, inputs, probe and output lengths, SHA-256 of the rest), the probes as one JSON line, the output.

import { createHash, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InlineRule, ReadRequest, ReadResult, WalkRequest, WalkResult, Walker } from '../core/walk';
import type { ListedFolder } from '../core/layout';
import { saveDigested } from './scan-memo';

const FORMAT = 1;
/** Outputs above this are not kept: they belong to build dirs larger than the unit memo's limit anyway. */
const MAX_OUTPUT = 64 << 20;
/** More walks than this (a build dir beyond the unit memo's limit): the scan is not kept, and its walks not noted. */
const MAX_LOOKED = 20_000;
/** Probes sent at once: small enough that a rebuild is seen after a slice or two, large enough to keep the walker's threads busy. */
const PROBE_SLICE = 1024;
/** As the walker's racy window (native/src/main.rs): a folder changed this recently may change again unseen. */
const RACY_MS = 2000;

interface Header {
  readonly format: number;
  readonly context: string;
  readonly inputs: string;
  readonly probes: number;
  readonly output: number;
  readonly sum: string;
}

export interface ReplayStats {
  /** 'hit': the output was the kept one; 'miss': something changed, or nothing was kept; 'off': not tried. */
  readonly state: 'hit' | 'miss' | 'off';
}

const idOf = (path: string, depth: number, rules: string): string => `${path}\0${depth}\0${rules}`;
const rulesText = (inline: readonly InlineRule[] | undefined): string => (inline && inline.length ? JSON.stringify(inline) : '');

/**
 * A walker that answers from an earlier batch of probes where it can, and notes every walk it makes with its
 * key. It is the scan's walker for a scan that may be kept: each request asks for a key.
 */
export class ReplayWalker implements Walker {
  readonly name: string;
  private readonly early = new Map<string, Promise<WalkResult | undefined>>();
  private readonly looked = new Map<string, { req: WalkRequest; key: string | undefined }>();
  private canKeep = true;

  constructor(private readonly inner: Walker) {
    this.name = inner.name;
  }

  /**
   * Sends `probes`, a slice at a time with the next one queued; settles true when every answer is "same"
   * (nothing they cover changed), and false as soon as one is not. Answers that came back wait for the scan, which
   * then walks nothing twice; after a change to many units (a rebuild), at most two slices of full answers do.
   */
  probe(probes: readonly WalkRequest[]): Promise<boolean> {
    if (probes.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let next = 0;
      let pending = 0;
      let changed = false;
      const settle = (): void => {
        if (changed) return resolve(false);
        if (next >= probes.length && pending === 0) return resolve(true);
        send();
      };
      const send = (): void => {
        while (!changed && pending < 2 && next < probes.length) {
          const slice = probes.slice(next, next + PROBE_SLICE);
          next += slice.length;
          pending++;
          const all = this.inner.walk(slice.map((p) => ({ ...p, key: true })));
          slice.forEach((p, i) => {
            this.early.set(
              idOf(p.path, p.depth, rulesText(p.inline)),
              all.then(
                (rs) => rs[i],
                () => undefined,
              ),
            );
          });
          all.then(
            (rs) => {
              pending--;
              if (rs.length !== slice.length || !rs.every((r) => r.same === true)) changed = true;
              settle();
            },
            () => {
              pending--;
              changed = true;
              settle();
            },
          );
        }
      };
      send();
    });
  }

  async walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
    const out: (WalkResult | undefined)[] = new Array<WalkResult | undefined>(requests.length);
    const ids = requests.map((r) => idOf(r.path, r.depth, rulesText(r.inline)));
    const early = ids.map((id) => {
      const e = this.early.get(id);
      if (e) this.early.delete(id);
      return e;
    });
    if (early.some((e) => e)) {
      const got = await Promise.all(early);
      got.forEach((r, i) => {
        // "Same" stands for the answer the request expects only when it expects that very key.
        if (r && (!r.same || r.key === requests[i]!.expect)) out[i] = r;
      });
    }
    const rest: number[] = [];
    for (let i = 0; i < requests.length; i++) if (!out[i]) rest.push(i);
    if (rest.length) {
      const rs = await this.inner.walk(this.canKeep ? rest.map((i) => ({ ...requests[i]!, key: true })) : rest.map((i) => requests[i]!));
      rest.forEach((i, k) => {
        out[i] = rs[k];
      });
    }
    if (this.canKeep) {
      requests.forEach((r, i) => {
        const { expect: _expect, key: _key, ...req } = r;
        this.looked.set(ids[i]!, { req, key: out[i]?.key });
      });
      if (this.looked.size > MAX_LOOKED) this.drop();
    }
    return out as WalkResult[];
  }

  read(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    // A read is not covered by any key: a scan that needed one cannot be replayed.
    if (requests.length) this.drop();
    return this.inner.read(requests);
  }

  /** Whether the scan may still be kept (no read, not too many walks so far). */
  get keepable(): boolean {
    return this.canKeep;
  }

  private drop(): void {
    this.canKeep = false;
    this.looked.clear();
  }

  close(): void {
    this.inner.close();
  }

  ended(): Promise<void> {
    return this.inner.ended?.() ?? Promise.resolve();
  }

  /**
   * Every walk of the scan with its key, and an lstat of each folder the layout pass listed; null when the scan
   * cannot be replayed (a walk without a key, a read, a folder that changed since it was listed or within the
   * racy window of `since`).
   */
  async probes(listed: readonly ListedFolder[], since: number): Promise<WalkRequest[] | null> {
    if (!this.canKeep) return null;
    // The first look at a folder is the one any later change is measured from.
    const seen = new Map<string, ListedFolder>();
    for (const l of listed) if (!seen.has(l.dir)) seen.set(l.dir, l);
    const folders = [...seen.values()];
    const rs = folders.length ? await this.inner.walk(folders.map((l) => ({ path: l.dir, depth: -1, key: true }))) : [];
    const out: WalkRequest[] = [];
    for (let i = 0; i < folders.length; i++) {
      const r = rs[i];
      const e = r?.entries[0];
      const was = folders[i]!;
      if (!r?.key) return null;
      // Changed since it was listed: compared with its own earlier lstat, so that no clock has to agree with
      // another (a file server's, or this one set back). A unit folder added or removed also moves the link count.
      if (was.mtimeMs === null ? e !== undefined : !e || e.mtimeMs !== was.mtimeMs || e.nlink !== was.nlink) return null;
      // Changed in the same clock tick as the listing, which the times cannot tell apart.
      if (e && e.mtimeMs > since - RACY_MS) return null;
      out.push({ path: was.dir, depth: -1, key: true, expect: r.key });
    }
    for (const { req, key } of this.looked.values()) {
      if (key === undefined) return null;
      out.push({ ...req, key: true, expect: key });
    }
    return out;
  }
}

export interface ScanReplayStore {
  /** The kept probes, when the file is of this code and these inputs. */
  readonly probes: readonly WalkRequest[] | null;
  /** The kept output, once its digest is checked; null when there is none or it is damaged. */
  output(): Promise<Buffer | null>;
  /** Keeps `output` as the answer to `probes`, replacing the file. */
  save(probes: readonly WalkRequest[], output: readonly Buffer[]): void;
  /** Says the file is still in use (a replayed scan writes nothing). */
  touch(): void;
}

export function replayFileFor(dir: string, scope: readonly string[]): string {
  const h = createHash('sha256').update(scope.join('\0')).digest('hex');
  return path.join(dir, `scan-replay-${h.slice(0, 16)}.json`);
}

/**
 * The replay file for `scope` in `dir`, read at once. `context` is what the output depends on besides the probes
 * (code and members), `inputs` what the scan was asked (build dirs and how they were found, workspace root).
 */
export function openScanReplay(opts: { dir: string; scope: readonly string[]; context: string; inputs: string }): ScanReplayStore {
  const file = replayFileFor(opts.dir, opts.scope);
  let buf: Buffer | null = null;
  let header: Header | null = null;
  let probes: WalkRequest[] | null = null;
  try {
    buf = fs.readFileSync(file);
    const nl = buf.indexOf(10);
    const h = JSON.parse(buf.toString('utf8', 0, nl)) as Header;
    const nl2 = buf.indexOf(10, nl + 1);
    if (h.format === FORMAT && h.context === opts.context && h.inputs === opts.inputs && nl2 > nl && buf.length === nl2 + 1 + h.output) {
      const [rules, list] = JSON.parse(buf.toString('utf8', nl + 1, nl2)) as [InlineRule[][], [string, number, number, string][]];
      if (list.length === h.probes) {
        header = h;
        probes = list.map(([p, depth, r, key]) => (r >= 0 ? { path: p, depth, inline: rules[r]!, key: true, expect: key } : { path: p, depth, key: true, expect: key }));
      }
    }
  } catch {
    // None yet, or not one we can read: a scan as if there were none.
    probes = null;
  }
  const at = header && buf ? buf.indexOf(10) + 1 : 0;
  return {
    probes,
    async output(): Promise<Buffer | null> {
      if (!header || !buf) return null;
      const rest = buf.subarray(at);
      // Off the main thread: at the memo's limit the output is some megabytes.
      const sum = Buffer.from(await webcrypto.subtle.digest('SHA-256', rest)).toString('base64');
      return sum === header.sum ? buf.subarray(buf.length - header.output) : null;
    },
    save(list: readonly WalkRequest[], output: readonly Buffer[]): void {
      const size = output.reduce((n, b) => n + b.length, 0);
      if (size > MAX_OUTPUT) {
        fs.rmSync(file, { force: true });
        return;
      }
      const ruleSets: string[] = [];
      const ruleIndex = new Map<string, number>();
      const rows = list.map((p): [string, number, number, string] => {
        const t = rulesText(p.inline);
        let r = -1;
        if (t) {
          r = ruleIndex.get(t) ?? -1;
          if (r < 0) ruleIndex.set(t, (r = ruleSets.push(t) - 1));
        }
        return [p.path, p.depth, r, p.expect!];
      });
      const parts = [Buffer.from(`[[${ruleSets.join(',')}],${JSON.stringify(rows)}]\n`), ...output];
      // Not written (a folder we cannot write to): the next scan runs in full.
      saveDigested(file, parts, (sum): Header => ({ format: FORMAT, context: opts.context, inputs: opts.inputs, probes: rows.length, output: size, sum }));
    },
    touch(): void {
      try {
        const now = new Date();
        fs.utimesSync(file, now, now);
      } catch {
        // Gone or read-only: nothing to keep alive.
      }
    },
  };
}
