// Keeps the view current while cargo builds: one watcher per workspace folder on the folders that identify
// units (src/node/watcher.ts, never one watch per file), bursts coalesced by the watcher, and each batch
// turned into a refresh of only the packages it touched (src/core/refresh.ts). The view says "cargo is
// building…" while events keep coming and, where the system shows file locks (Linux), for as long as cargo
// holds a lock of the build dir, looked at without taking it.

import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';
import { BuildDirWatcher } from '../node/watcher';
import { heldLocks } from '../node/locks';
import * as path from 'node:path';

/** How long without events before a build is taken to be over. */
const QUIET_MS = 1500;

export class LiveRefresh implements vscode.Disposable {
  private readonly watchers = new Map<string, BuildDirWatcher>();
  private readonly quietTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly explorer: Explorer,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Called after every model change: (re)computes what is watched; the watcher adds and removes the difference. */
  update(): void {
    const wanted = new Set<string>();
    for (const st of this.explorer.folders) {
      if (!this.explorer.config.watch || !st.result) continue;
      wanted.add(st.key);
      let w = this.watchers.get(st.key);
      if (!w) {
        w = new BuildDirWatcher({
          onChanges: (paths) => this.onChanges(st, paths),
          onError: (e) => this.log.warn(`watcher: ${e.message}`),
        });
        this.watchers.set(st.key, w);
      }
      w.watch(st.result, { members: st.members.map((m) => m.name) });
    }
    for (const [key, w] of this.watchers) {
      if (wanted.has(key)) continue;
      void w.close();
      this.watchers.delete(key);
    }
  }

  /** Inotify watches held for one folder (for tests and the log). */
  watchCount(st: FolderState): number {
    return this.watchers.get(st.key)?.watchCount() ?? 0;
  }

  /** A batch of changed paths under one folder's build dirs. The watcher never overlaps two batches. */
  private async onChanges(st: FolderState, paths: readonly string[]): Promise<void> {
    // The extension's own clean holds cargo's locks and deletes: that is not a build.
    if (!st.cleaning) {
      this.explorer.setBuilding(st, true);
      this.armQuietTimer(st);
    }
    await this.explorer.refreshPaths(st, paths);
  }

  /** After QUIET_MS without events the build is over, unless cargo still holds a lock (a long link step). */
  private armQuietTimer(st: FolderState): void {
    const prev = this.quietTimers.get(st.key);
    if (prev) clearTimeout(prev);
    this.quietTimers.set(
      st.key,
      setTimeout(() => {
        this.quietTimers.delete(st.key);
        const files = (st.result?.buildDirs ?? []).flatMap((b) => b.profiles.flatMap((p) => p.locks.map((l) => path.join(p.path, l))));
        const held = heldLocks(files);
        if (held && held.length > 0) this.armQuietTimer(st);
        else this.explorer.setBuilding(st, false);
      }, QUIET_MS),
    );
  }

  dispose(): void {
    for (const t of this.quietTimers.values()) clearTimeout(t);
    for (const w of this.watchers.values()) void w.close();
  }
}
