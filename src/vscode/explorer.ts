// The extension's state: for each workspace folder, where its build dirs are and their latest scan. It runs
// the engine (locate → scan), keeps the view current from file-system events, and tells the tree what
// changed. Stale results are guarded: a scan that finishes after a newer one started is dropped.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { locateBuildDirs } from '../node/cargo';
import { createWalker } from '../node/walker';
import { findNativeWalker } from '../node/native';
import { NodeWalker } from '../core/nodewalk';
import { applyRefresh, changeScope, scanForRefresh } from '../core/refresh';
import type { ScanResult } from '../core/model';
import type { Walker } from '../core/walk';
import type { BuildDirLocation, WorkspaceMember } from '../core/discover';
import { readConfig, type Config } from './config';

export interface FolderState {
  readonly key: string;
  readonly name: string;
  readonly uri: vscode.Uri;
  result: ScanResult | null;
  members: readonly WorkspaceMember[];
  error: string | null;
  scanning: boolean;
  building: boolean;
  /** The extension itself is deleting in this folder's build dirs: its own file events are not a build. */
  cleaning: boolean;
  /** Bumped by every scan start: a result from an older generation is dropped. */
  generation: number;
  /** Paths that changed while a full scan ran: re-read on top of its result, which may predate them. */
  changedDuringScan: string[];
}

/**
 * `all`: a new scan, settings or filter: redraw. `partial`: a live refresh replaced parts of a result (objects
 * that did not change keep their identity). `state`: only a folder's building flag changed.
 */
export type ChangeKind = 'all' | 'partial' | 'state';

export interface ChangeListener {
  (kind: ChangeKind): void;
}

type Located = { kind: 'found'; dirs: BuildDirLocation[]; located: Exclude<Awaited<ReturnType<typeof locateBuildDirs>>, { kind: 'error' }> };

/** Quiet time after a manifest or cargo config edit before the build dir is looked for again. */
const RELOCATE_DEBOUNCE_MS = 500;

export class Explorer implements vscode.Disposable {
  folders: FolderState[] = [];
  config: Config = readConfig();
  private walker: Walker = new NodeWalker();
  private readonly listeners: ChangeListener[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private upgrading: Promise<void> | null = null;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.syncFolders();
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.syncFolders();
        void this.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('cargoBuildDir')) return;
        this.config = readConfig();
        if (e.affectsConfiguration('cargoBuildDir.sortPackagesBy')) this.emit('all');
        else void this.refresh();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        // The native walker may be built now (it was not, untrusted): let the next scan try again.
        if (this.walker.name !== 'native') this.upgrading = null;
        void this.refresh();
      }),
    );
    // Where the build dir is can move with a manifest or cargo config edit: look again (debounced), and scan
    // again only when the answer changed. Edits of Cargo.toml are frequent; cargo metadata is cheap next to a scan.
    const configs = vscode.workspace.createFileSystemWatcher('**/{Cargo.toml,.cargo,.cargo/config.toml,.cargo/config}');
    const relocateSoon = (uri: vscode.Uri): void => {
      const st = this.folders.find((f) => uri.fsPath.startsWith(f.uri.fsPath + path.sep) || uri.fsPath === f.uri.fsPath);
      if (!st) return;
      clearTimeout(this.relocateTimers.get(st.key));
      this.relocateTimers.set(st.key, setTimeout(() => void this.relocate(st), RELOCATE_DEBOUNCE_MS));
    };
    this.disposables.push(configs, configs.onDidChange(relocateSoon), configs.onDidCreate(relocateSoon), configs.onDidDelete(relocateSoon));
  }

  private readonly relocateTimers = new Map<string, NodeJS.Timeout>();

  /** Scans a folder again if its build dirs are not where its current result says. */
  async relocate(st: FolderState): Promise<void> {
    const found = await this.locate(st);
    const now = found.kind === 'found' ? found.dirs.map((d) => d.path).sort().join('\n') : '';
    const before = (st.result?.buildDirs ?? []).map((b) => b.path).sort().join('\n');
    if (now !== before) {
      this.log.info(`the build directory moved: ${before || '(none)'} → ${now || '(none)'}`);
      await this.refresh(st);
    }
  }

  /** Where a folder's build dirs are (cargo metadata, else the fallback rules), plus the configured extra ones. */
  private async locate(st: FolderState): Promise<Located | Extract<Awaited<ReturnType<typeof locateBuildDirs>>, { kind: 'error' }>> {
    const located = await locateBuildDirs(st.uri.fsPath, { cargo: this.config.cargoPath, useCargo: vscode.workspace.isTrusted });
    if (located.kind === 'error') return located;
    const dirs: BuildDirLocation[] = [...located.dirs.buildDirs];
    // A resource setting: each folder may name its own.
    for (const extra of readConfig(st.uri).extraBuildDirs) {
      const p = path.resolve(st.uri.fsPath, extra);
      if (!dirs.some((d) => d.path === p)) dirs.push({ path: p, role: 'both', discovery: 'given path' });
    }
    return { kind: 'found', dirs, located };
  }

  onDidChange(l: ChangeListener): void {
    this.listeners.push(l);
  }

  private emit(kind: ChangeKind): void {
    for (const l of this.listeners) l(kind);
  }

  dispose(): void {
    for (const t of this.relocateTimers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    this.walker.close();
  }

  private syncFolders(): void {
    const old = new Map(this.folders.map((f) => [f.key, f]));
    this.folders = (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((f) => old.get(f.uri.toString()) ?? { key: f.uri.toString(), name: f.name, uri: f.uri, result: null, members: [], error: null, scanning: false, building: false, cleaning: false, generation: 0, changedDuringScan: [] });
  }

  /**
   * The native walker once it is built (in the background, with the user's cargo, only in a trusted
   * workspace); the Node walker until then, so the first scan never waits for a compiler.
   */
  private async currentWalker(): Promise<Walker> {
    if (this.walker.name === 'native') return this.walker;
    if (!this.upgrading) {
      const build = vscode.workspace.isTrusted;
      this.upgrading = (async () => {
        try {
          const cached = await findNativeWalker({ cargo: this.config.cargoPath, build: false });
          if (cached || build) {
            const w = await createWalker({ cargo: this.config.cargoPath, build, log: (l) => this.log.info(l) });
            if (w.name === 'native') {
              this.walker.close();
              this.walker = w;
              this.log.info('sizes are measured by the native walker');
            } else w.close();
          }
        } catch (e) {
          this.log.warn(`native walker unavailable: ${(e as Error).message}`);
        }
      })();
      // Use the native walker right away when it was already built; else go on with Node and switch later.
      await Promise.race([this.upgrading, new Promise((r) => setTimeout(r, 150))]);
    }
    return this.walker;
  }

  /** Locates and scans every folder (or one). Safe to call often: older scans are discarded. */
  async refresh(only?: FolderState): Promise<void> {
    const targets = only ? [only] : this.folders;
    await Promise.all(targets.map((f) => this.scanFolder(f)));
  }

  private async scanFolder(st: FolderState): Promise<void> {
    const generation = ++st.generation;
    st.scanning = true;
    st.changedDuringScan = [];
    if (!st.result) this.emit('all');
    try {
      const found = await this.locate(st);
      if (generation !== st.generation) return;
      if (found.kind === 'error') {
        st.result = null;
        st.error = found.code === 'not-cargo' ? null : found.message;
        return;
      }
      const { dirs, located } = found;
      if (located.kind === 'workspace' && located.cargoError) this.log.warn(`cargo metadata: ${located.cargoError}; used the fallback rules`);
      const walker = await this.currentWalker();
      const started = Date.now();
      const result = await scanForRefresh(dirs, { walker, members: located.dirs.members, workspaceRoot: located.kind === 'workspace' ? located.dirs.workspaceRoot : null });
      if (generation !== st.generation) return;
      this.log.info(`scanned ${dirs.map((d) => d.path).join(', ')} in ${Date.now() - started} ms (${result.walker} walker)`);
      for (const p of result.problems.slice(0, 20)) this.log.warn(`${p.path}: ${p.message}`);
      st.result = result;
      st.members = located.dirs.members;
      st.error = null;
      // What changed while the scan walked (a clean, a build) may or may not be in its result: read it again.
      const changed = st.changedDuringScan;
      st.changedDuringScan = [];
      if (changed.length) void this.refreshPaths(st, changed);
    } catch (e) {
      if (generation !== st.generation) return;
      st.error = vscode.l10n.t('Could not read the build directory: {0}', (e as Error).message);
      this.log.error(e as Error);
    } finally {
      if (generation === st.generation) {
        st.scanning = false;
        this.emit('all');
      }
    }
  }

  /** A folder holds a Cargo workspace (or its build dir could not be read): not merely a folder is open. */
  hasWorkspace(): boolean {
    return this.folders.some((f) => f.result !== null || f.error !== null || f.scanning);
  }

  hasBuild(): boolean {
    return this.folders.some((f) => f.result?.buildDirs.some((b) => b.exists) ?? false);
  }

  folderOfPath(p: string): FolderState | undefined {
    return this.folders.find((f) => f.result?.buildDirs.some((b) => p === b.path || p.startsWith(b.path + path.sep)));
  }

  /** The walker for one-off work (a clean's preview, a partial refresh). */
  async walkerForTask(): Promise<Walker> {
    return this.currentWalker();
  }

  /**
   * Re-reads only what these changed paths touch (the packages, crates and buckets they belong to) and tells
   * the tree. Falls back to a full scan of the folder when that fails.
   */
  async refreshPaths(st: FolderState, paths: readonly string[]): Promise<void> {
    if (st.scanning) st.changedDuringScan.push(...paths);
    const before = st.result;
    if (!before) return;
    try {
      const started = Date.now();
      const walker = await this.currentWalker();
      const { result, changed } = await applyRefresh(before, changeScope(before, paths), { walker, members: st.members });
      // Another refresh or a scan landed meanwhile: these paths may not be in it, so read them again on top of it.
      if (st.result !== before) return this.refreshPaths(st, paths);
      this.log.trace(`${paths.length} changed paths → ${changed.packages.length} packages re-read in ${Date.now() - started} ms`);
      st.result = result;
      this.emit('partial');
    } catch (e) {
      this.log.warn(`refresh after changes failed (${(e as Error).message}); scanning again`);
      await this.refresh(st);
    }
  }

  setCleaning(st: FolderState, cleaning: boolean): void {
    st.cleaning = cleaning;
  }

  setBuilding(st: FolderState, building: boolean): void {
    if (st.building === building) return;
    st.building = building;
    this.emit('state');
  }
}
