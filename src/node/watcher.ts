// Watches a build directory for the changes that matter to the model, on chokidar with one inotify watch per
// folder and none per file: chokidar is told to admit only the folders the model names (src/core/refresh.ts
// `watchTargets`), each at depth 0, and changes to files inside them arrive through its `raw` events. A cargo
// build's burst of events is deduplicated and coalesced (debounce, with a maximum wait so that a long build
// still refreshes now and then) into batches of paths for `changeScope` / `applyRefresh`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { FSWatcher } from 'chokidar';
import type { ScanResult } from '../core/model';
import { inodeOf, watchTargets } from '../core/refresh';

/**
 * Quiet time before a batch goes out: short, so that a change shows at once (a refresh costs only what changed).
 * Batches are also at least MIN_INTERVAL_MS apart, so that a long build, whose events pause often, is not
 * refreshed more often than the view can be read.
 */
export const DEFAULT_DEBOUNCE_MS = 25;
export const MIN_INTERVAL_MS = 200;

export interface BuildDirWatcherOptions {
  /** Quiet time before a batch is delivered after a calm spell (default DEFAULT_DEBOUNCE_MS). */
  readonly debounceMs?: number;
  /** Least time between the starts of two batches (default MIN_INTERVAL_MS). */
  readonly minIntervalMs?: number;
  /** A batch is delivered at the latest this long after its first change, however busy cargo is (default 1 s). */
  readonly maxWaitMs?: number;
  /** A batch of changed absolute paths, deduplicated. While a returned promise is pending, changes accumulate. */
  onChanges(paths: string[]): void | Promise<void>;
  onError?(e: Error): void;
}

/** chokidar adds every unwatched path to a list it scans on each check: start afresh before that list grows long. */
const MAX_UNWATCHED = 512;

export class BuildDirWatcher {
  private readonly debounceMs: number;
  private readonly minIntervalMs: number;
  private lastFlushAt = 0;
  private readonly maxWaitMs: number;
  private fsw: FSWatcher | null = null;
  /** Folders the model asks for (plus the nearest existing ancestor of each missing build dir). */
  private wanted = new Set<string>();
  /** Folders handed to chokidar, with the `dev:ino` they had then (a replaced folder has another). */
  private readonly held = new Map<string, string>();
  /** The model's own folders (without the ancestors watched for missing build dirs). */
  private modelFolders = new Set<string>();
  /** Ancestor folder watched → missing build dirs it waits for. */
  private waiting = new Map<string, string[]>();
  private unwatched = 0;
  /** Paths unwatched in this chokidar instance: it then ignores everything beneath them, even what is added later. */
  private readonly ignoredRoots = new Set<string>();
  private watchedOnce = false;
  private closed = false;

  private readonly pending = new Set<string>();
  private firstAt = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private events = 0;
  private batches = 0;

  constructor(private readonly opts: BuildDirWatcherOptions) {
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.minIntervalMs = opts.minIntervalMs ?? MIN_INTERVAL_MS;
    this.maxWaitMs = Math.max(opts.maxWaitMs ?? 1000, this.debounceMs, this.minIntervalMs);
  }

  /**
   * (Re)computes the watched folders from the model and adds or removes only the difference. Call it after
   * every refresh. After the first call, folders newly watched are reported as changed once, so that what
   * happened between the read that found them and the moment their watch began is not lost.
   */
  watch(result: ScanResult, extra?: { readonly members: readonly string[] }): void {
    if (this.closed) return;
    const targets = watchTargets(result, extra?.members ?? []);
    // A build dir the model thinks present but that is gone already: wait for it, and have it read again.
    const vanished = result.buildDirs.filter((b) => b.exists && inodeOf(b.path) === null).map((b) => b.path);
    const wanted = new Set(targets.folders);
    this.modelFolders = new Set(targets.folders);
    const waiting = new Map<string, string[]>();
    for (const m of [...targets.missing, ...vanished]) {
      const a = nearestExisting(m);
      if (a === null) continue;
      wanted.add(a);
      waiting.set(a, [...(waiting.get(a) ?? []), m]);
    }
    this.wanted = wanted;
    this.waiting = waiting;
    this.reconcile(this.watchedOnce);
    this.watchedOnce = true;
    for (const b of vanished) this.report(b);
  }

  /** inotify watches held for the watched folders (read from /proc/self/fdinfo on Linux), else the number of folders watched. */
  watchCount(): number {
    const held = inotifyInodes();
    if (held === null) return this.held.size;
    const present = new Set(held);
    let n = 0;
    for (const key of this.held.values()) if (present.has(kernelKey(key))) n++;
    return n;
  }

  /**
   * Resolves true once every watched folder holds its inotify watch (chokidar sets them up asynchronously), false
   * after `timeoutMs`. Where /proc does not tell, resolves true at once.
   */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.closed) return false;
      if (this.watchCount() >= this.held.size) return true;
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** File-system events received and batches delivered so far. */
  stats(): { events: number; batches: number } {
    return { events: this.events, batches: this.batches };
  }

  /** The folders currently watched (for diagnostics and tests). */
  watchedFolders(): string[] {
    return [...this.held.keys()].sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    const fsw = this.fsw;
    this.fsw = null;
    this.held.clear();
    if (fsw) await fsw.close();
  }

  // ----------------------------------------------------------------------------------------------------------

  private watcher(): FSWatcher {
    if (this.fsw) return this.fsw;
    const fsw = new FSWatcher({
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      atomic: false,
      persistent: true,
      // Everything but the folders asked for: no file ever gets a watch of its own.
      ignored: (p: string) => !this.wanted.has(p),
    });
    fsw.on('raw', (_event, evPath: string | null, details: unknown) => {
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      this.onRaw(evPath, typeof watched === 'string' ? watched : undefined);
    });
    fsw.on('unlinkDir', (p: string) => this.onGone(p));
    fsw.on('addDir', (p: string) => {
      // chokidar noticed a folder asked for (again) in a watched parent, but never watches it at depth 1.
      if (this.wanted.has(p) && !this.held.has(p)) this.reconcile(true);
    });
    fsw.on('error', (e: unknown) => this.opts.onError?.(e instanceof Error ? e : new Error(String(e))));
    this.fsw = fsw;
    return fsw;
  }

  private reconcile(catchUp: boolean): void {
    if (this.closed) return;
    const fsw = this.watcher();
    for (const p of [...this.held.keys()]) {
      if (this.wanted.has(p)) continue;
      this.unwatch(p);
      this.held.delete(p);
    }
    const added: string[] = [];
    for (const p of this.wanted) {
      if (this.held.has(p)) continue;
      const key = inodeOf(p);
      if (key === null) continue; // not there (yet): its parent's watch or the next refresh brings it
      this.held.set(p, key);
      added.push(p);
    }
    for (const p of added) this.ignoredRoots.delete(p);
    const blocked = added.some((p) => {
      for (let d = path.dirname(p); path.dirname(d) !== d; d = path.dirname(d)) if (this.ignoredRoots.has(d)) return true;
      return false;
    });
    if (blocked || this.unwatched > MAX_UNWATCHED) this.renew();
    else if (added.length > 0) fsw.add(added);
    if (added.length === 0) return;
    if (!catchUp) return;
    for (const p of added) {
      const waits = this.waiting.get(p);
      if (waits) for (const m of waits) this.report(m);
      else this.report(p);
    }
  }

  private unwatch(p: string): void {
    this.fsw?.unwatch(p);
    this.ignoredRoots.add(p);
    this.unwatched++;
  }

  /** A fresh chokidar instance holding the same folders, without the ignores its predecessor piled up. */
  private renew(): void {
    const old = this.fsw;
    this.fsw = null;
    this.unwatched = 0;
    this.ignoredRoots.clear();
    const fsw = this.watcher();
    if (this.held.size > 0) fsw.add([...this.held.keys()]);
    old?.close().catch((e: Error) => this.opts.onError?.(e));
  }

  private onRaw(evPath: string | null, watchedPath: string | undefined): void {
    if (this.closed) return;
    this.events++;
    if (watchedPath === undefined) {
      // Polling (CHOKIDAR_USEPOLLING): the event names the polled folder itself.
      if (evPath && path.isAbsolute(evPath)) this.report(evPath);
      return;
    }
    const waits = this.waiting.get(watchedPath);
    if (waits) {
      // An ancestor watched for a missing build dir: only the step towards it matters.
      for (const m of waits) if (evPath && path.relative(watchedPath, m).split(path.sep)[0] === evPath) this.report(m);
      if (!this.modelFolders.has(watchedPath)) return;
    }
    if (!evPath) {
      this.report(watchedPath);
      return;
    }
    if (evPath === path.basename(watchedPath)) this.checkSelf(watchedPath);
    this.report(path.join(watchedPath, evPath));
  }

  /** The event named the watched folder itself: is it still the same folder? */
  private checkSelf(p: string): void {
    const was = this.held.get(p);
    if (was === undefined || inodeOf(p) === was) return;
    this.onGone(p);
  }

  /** A watched folder vanished or was replaced: its watch is dead; watch it again if it is there. */
  private onGone(p: string): void {
    if (!this.held.has(p)) return;
    this.held.delete(p);
    // Closes the inotify watch of the old folder (chokidar keeps it for a folder whose parent is not watched).
    this.unwatch(p);
    const waits = this.waiting.get(p);
    if (waits) for (const m of waits) this.report(m);
    else this.report(p);
    if (inodeOf(p) !== null) this.reconcile(true);
  }

  private report(p: string): void {
    if (this.closed) return;
    this.pending.add(p);
    const now = Date.now();
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
    this.arm(this.debounceMs);
  }

  private arm(ms: number): void {
    if (this.timer || this.busy || this.closed) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, ms));
  }

  private tick(): void {
    this.timer = null;
    if (this.pending.size === 0 || this.busy || this.closed) return;
    const now = Date.now();
    const quiet = now - this.lastAt;
    const waited = now - this.firstAt;
    if (quiet < this.debounceMs && waited < this.maxWaitMs) {
      this.arm(Math.min(this.debounceMs - quiet, this.maxWaitMs - waited));
      return;
    }
    const sinceLast = now - this.lastFlushAt;
    if (sinceLast < this.minIntervalMs) {
      this.arm(this.minIntervalMs - sinceLast);
      return;
    }
    this.flush();
  }

  private flush(): void {
    const paths = [...this.pending];
    this.pending.clear();
    this.firstAt = 0;
    this.lastFlushAt = Date.now();
    this.batches++;
    let r: void | Promise<void>;
    try {
      r = this.opts.onChanges(paths);
    } catch (e) {
      this.opts.onError?.(e as Error);
      return;
    }
    if (!(r instanceof Promise)) return;
    this.busy = true;
    r.catch((e: Error) => this.opts.onError?.(e)).finally(() => {
      this.busy = false;
      // Changes that came in meanwhile: as old as their first one, so the maximum wait still holds.
      if (this.pending.size > 0) this.arm(0);
    });
  }
}

function nearestExisting(p: string): string | null {
  for (let d = path.dirname(p); ; d = path.dirname(d)) {
    if (inodeOf(d) !== null) return d;
    if (path.dirname(d) === d) return null;
  }
}



/** The key /proc shows for a `dev:ino` from stat: the kernel's device number (major << 20 | minor) and the inode, in hex. */
function kernelKey(key: string): string {
  const [devText, inoText] = key.split(':');
  const dev = BigInt(devText ?? '0');
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${((major << 20n) | minor).toString(16)}:${BigInt(inoText ?? '0').toString(16)}`;
}

/** `sdev:ino` of every inotify watch this process holds, or null where /proc does not tell. */
function inotifyInodes(): string[] | null {
  if (process.platform !== 'linux') return null;
  const out: string[] = [];
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      for (const line of fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
        const m = /^inotify wd:\S+ ino:([0-9a-f]+) sdev:([0-9a-f]+)/.exec(line);
        if (m) out.push(`${m[2]}:${m[1]}`);
      }
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  return out;
}

/** All inotify watches of this process (every library's), or null where /proc does not tell. */
export function processInotifyWatches(): number | null {
  return inotifyInodes()?.length ?? null;
}
