// Keeps the view current while cargo builds: file-system events on the folders that identify units, coalesced
// into refreshes of the packages they touched. While events keep coming the view says "cargo is building…".

import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';

/** How long without events before a build is taken to be over. */
const QUIET_MS = 1500;

export class LiveRefresh implements vscode.Disposable {
  private readonly quietTimers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly explorer: Explorer,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Called after every model change: (re)computes what is watched. */
  update(): void {
    // Watching arrives with the watcher module; until then a manual Refresh updates the view.
  }

  /** A batch of changed paths under one folder's build dirs. */
  async onChanges(st: FolderState, paths: readonly string[]): Promise<void> {
    this.explorer.setBuilding(st, true);
    const prev = this.quietTimers.get(st.key);
    if (prev) clearTimeout(prev);
    this.quietTimers.set(
      st.key,
      setTimeout(() => {
        this.quietTimers.delete(st.key);
        this.explorer.setBuilding(st, false);
      }, QUIET_MS),
    );
    const before = this.running.get(st.key) ?? Promise.resolve();
    const next = before.then(() => this.explorer.refresh(st)).catch((e: Error) => this.log.error(e));
    this.running.set(st.key, next);
    this.log.trace(`${paths.length} changes`);
    await next;
  }

  dispose(): void {
    for (const t of this.quietTimers.values()) clearTimeout(t);
  }
}
