// The TreeDataProvider. It owns no model: it asks the Explorer (explorer.ts) for the current scan of each
// workspace folder and derives nodes (nodes.ts). Nodes are kept by id, so that a refresh of one package fires
// a change event for exactly the node VS Code already shows, and `getParent` answers for `reveal`.

import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';
import type { Inspector } from './inspector';
import {
  bucketChildren,
  bucketNodes,
  crateNodes,
  packagesOf,
  partChildren,
  entriesOf,
  sessionNodes,
  unitChildren,
  type EntryWords,
  type Node,
} from './nodes';
import { toTreeItem, tooltipOf } from './treeItem';
import { formatBytes } from '../core/format';
import type { Profile } from '../core/model';

const ROOT = '\0root';

const entryWords = (): EntryWords => ({
  gone: vscode.l10n.t('gone (rebuilt or cleaned)'),
  unreadable: (code) => vscode.l10n.t('cannot be read ({0})', code),
});
/** Rows above the packages: re-rendering one redraws everything under it, so a size change waits for the end of a burst. */
const DEFERRED_KINDS: ReadonlySet<Node['kind']> = new Set(['folder', 'buildDir', 'profile']);

function sameIds(nodes: readonly Node[], ids: readonly string[] | undefined): boolean {
  return ids !== undefined && nodes.length === ids.length && nodes.every((n, i) => n.id === ids[i]);
}

/** Whether two versions of a node render the same row (ages aside: they move with the clock anyway). */
function sameLook(a: Node, b: Node): boolean {
  // A rebuilt unit may keep its size; its object changes, and its files must be listed again.
  if (a.kind === 'unit' && b.kind === 'unit' && a.unit !== b.unit) return false;
  const now = Date.now();
  const x = toTreeItem(a, now);
  const y = toTreeItem(b, now);
  const label = (i: vscode.TreeItem): string => (typeof i.label === 'string' ? i.label : (i.label?.label ?? ''));
  const icon = (i: vscode.TreeItem): string => (i.iconPath instanceof vscode.ThemeIcon ? i.iconPath.id : String(i.iconPath ?? ''));
  return (
    label(x) === label(y) &&
    x.description === y.description &&
    x.contextValue === y.contextValue &&
    x.collapsibleState === y.collapsibleState &&
    icon(x) === icon(y)
  );
}

/** The current OUT_DIR's run before the older runs, in the places the runs had; every other row stays where it is. */
function currentRunsFirst(nodes: Node[]): Node[] {
  const isRun = (n: Node): boolean => n.kind === 'unit' && n.outDir !== undefined;
  const runs = nodes.filter(isRun);
  const ordered = [...runs.filter((n) => n.kind === 'unit' && n.outDir === 'current'), ...runs.filter((n) => n.kind === 'unit' && n.outDir === 'older')];
  let i = 0;
  return nodes.map((n) => (isRun(n) ? ordered[i++]! : n));
}

export class BuildDirTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Every node handed to VS Code, by id, and each one's parent. */
  private readonly byId = new Map<string, Node>();
  private readonly parents = new Map<string, Node | undefined>();
  /** The child ids last handed to VS Code per node (ROOT for the top level): a change in them needs an event. */
  private readonly fetchedChildren = new Map<string, readonly string[]>();
  /** Rows whose look changed during a burst but were not re-rendered yet (see applyModelChange). */
  private readonly deferred = new Set<string>();
  filter = '';

  constructor(
    private readonly explorer: Explorer,
    private readonly inspector: Inspector,
  ) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** Everything changed (new scan, filter, settings). */
  refreshAll(): void {
    this.byId.clear();
    this.parents.clear();
    this.fetchedChildren.clear();
    this.deferred.clear();
    this.changed.fire(undefined);
  }

  /**
   * The model changed under some nodes (a partial refresh while cargo builds). Every node VS Code holds is
   * brought up to date in place (VS Code names nodes by object identity), and change events go to the smallest
   * nodes that look different: a package whose size or units changed, a profile whose packages came or went.
   * Rows above packages (profiles, build dirs) whose only change is their size are not re-rendered during the
   * burst (that would redraw every package under them); `flushDeferred` does it once the build is over.
   */
  applyModelChange(): void {
    const fired: Node[] = [];
    const rootsNow = this.roots();
    if (!sameIds(rootsNow, this.fetchedChildren.get(ROOT))) {
      this.refreshAll();
      return;
    }
    const visit = (fresh: readonly Node[]): void => {
      for (const f of fresh) {
        const old = this.byId.get(f.id);
        if (!old) continue;
        const looksSame = sameLook(old, f);
        for (const k of Object.keys(old)) if (!(k in f)) delete (old as Record<string, unknown>)[k];
        Object.assign(old, f);
        const before = this.fetchedChildren.get(old.id);
        if (!looksSame && !DEFERRED_KINDS.has(old.kind)) {
          fired.push(old);
          continue;
        }
        if (!looksSame) this.deferred.add(old.id);
        // Below a unit that kept its object nothing in the model changed (files are read from disk on expand).
        if (before === undefined || old.kind === 'unit') continue;
        const kids = this.childrenOf(old);
        if (!sameIds(kids, before)) {
          fired.push(old);
          this.deferred.delete(old.id);
          continue;
        }
        visit(kids);
      }
    };
    visit(rootsNow);
    for (const n of fired) this.changed.fire(n);
  }

  /** Re-renders the rows whose sizes changed during a burst (called when the build is over). */
  flushDeferred(): void {
    const nodes = [...this.deferred].map((id) => this.byId.get(id)).filter((n): n is Node => n !== undefined);
    this.deferred.clear();
    for (const n of nodes) this.changed.fire(n);
  }

  /**
   * The tree node of a unit, with its ancestors handed out (so that `getParent` answers and `reveal` works even
   * for a unit under rows the user never expanded). Undefined when the unit is not shown (filtered out).
   */
  nodeOfUnit(unitId: string): Node | undefined {
    const walk = (nodes: readonly Node[]): Node | undefined => {
      for (const n of nodes) {
        if (n.kind === 'unit' && n.unit.id === unitId) return n;
        if (this.holdsUnit(n, unitId)) return walk(this.getChildren(n));
      }
      return undefined;
    };
    return walk(this.getChildren());
  }

  /** Whether the unit is somewhere below this row. */
  private holdsUnit(n: Node, unitId: string): boolean {
    const inProfiles = (profiles: readonly Profile[]): boolean => profiles.some((p) => p.units.some((u) => u.id === unitId));
    switch (n.kind) {
      case 'folder':
        return inProfiles(this.explorer.folders.find((f) => f.key === n.key)?.result?.buildDirs.flatMap((b) => b.profiles) ?? []);
      case 'buildDir':
        return inProfiles(n.buildDir.profiles);
      case 'profile':
        return inProfiles([n.profile]);
      case 'package':
      case 'legacyGroup':
        return n.units.some((u) => u.id === unitId);
      default:
        return false;
    }
  }

  nodeById(id: string): Node | undefined {
    return this.byId.get(id);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return toTreeItem(node);
  }

  async resolveTreeItem(item: vscode.TreeItem, node: Node): Promise<vscode.TreeItem> {
    // Toolchains are probed once per session: a unit's tooltip names its toolchain when it is installed.
    item.tooltip = tooltipOf(node, node.kind === 'unit' ? await this.inspector.installedToolchains() : null);
    return item;
  }

  getParent(node: Node): Node | undefined {
    return this.parents.get(node.id);
  }

  getChildren(node?: Node): Node[] {
    const children = this.childrenOf(node);
    this.fetchedChildren.set(node ? node.id : ROOT, children.map((c) => c.id));
    for (const c of children) {
      // Keep the node VS Code already has when the id is the same: its identity is what change events name.
      this.byId.set(c.id, c);
      this.parents.set(c.id, node);
    }
    return children;
  }

  private childrenOf(node?: Node): Node[] {
    if (!node) return this.roots();
    switch (node.kind) {
      case 'folder': {
        const st = this.explorer.folders.find((f) => f.key === node.key);
        return st ? this.folderContents(st) : [];
      }
      case 'buildDir':
        return node.buildDir.profiles.map((profile) => ({ kind: 'profile', id: `profile:${profile.id}`, profile }));
      case 'profile':
        return packagesOf(node.profile, this.explorer.config.sortPackagesBy, this.filter);
      case 'package':
      case 'legacyGroup':
        return currentRunsFirst(
          node.units.map((unit): Node => {
            const outDir = this.inspector.outDirRole(unit);
            return outDir ? { kind: 'unit', id: `unit:${unit.id}`, unit, outDir } : { kind: 'unit', id: `unit:${unit.id}`, unit };
          }),
        );
      case 'unit':
        return unitChildren(node.unit);
      case 'part':
        return partChildren(node, entryWords());
      case 'entry':
        return node.dir ? entriesOf(node.path, node.id, node.unit, entryWords()) : [];
      case 'incremental':
        return crateNodes(node.profile);
      case 'crate':
        return sessionNodes(node.crate);
      case 'other':
        return bucketNodes(node);
      case 'bucket':
        return bucketChildren(node.bucket, node.id);
      default:
        return [];
    }
  }

  private roots(): Node[] {
    const folders = this.explorer.folders;
    if (folders.length === 1) return this.folderContents(folders[0]!);
    return folders.map((f) => ({ kind: 'folder', id: `folder:${f.key}`, name: f.name, key: f.key }));
  }

  /** A folder's build dirs; with one build dir, its profiles directly. Empty means: show the welcome view. */
  private folderContents(st: FolderState): Node[] {
    if (st.error) return [{ kind: 'message', id: `msg:${st.key}:error`, text: st.error, icon: 'warning' }];
    const result = st.result;
    if (!result) return st.scanning ? [{ kind: 'message', id: `msg:${st.key}:scanning`, text: vscode.l10n.t('Scanning the build directory…'), icon: 'loading~spin' }] : [];
    // Two folders of a multi-root workspace can share a build dir (a nested member, a shared CARGO_TARGET_DIR):
    // it is shown once, under the first folder, so that every node id stays unique.
    const shared: Node[] = [];
    const existing = result.buildDirs.filter((b) => {
      if (!b.exists) return false;
      const owner = this.explorer.folders.slice(0, this.explorer.folders.indexOf(st)).find((f) => f.result?.buildDirs.some((x) => x.exists && x.path === b.path));
      if (owner) shared.push({ kind: 'message', id: `msg:${st.key}:shared:${b.path}`, text: vscode.l10n.t('{0} is shown under {1}', b.path, owner.name), icon: 'link' });
      return !owner;
    });
    if (existing.length === 0) return shared;
    if (existing.length === 1 && shared.length === 0) {
      const b = existing[0]!;
      return [...b.profiles.map((profile): Node => ({ kind: 'profile', id: `profile:${profile.id}`, profile }))];
    }
    return [...shared, ...existing.map((buildDir): Node => ({ kind: 'buildDir', id: `bd:${buildDir.id}`, buildDir }))];
  }

  /** For the status bar and the view's description. */
  totalBytes(): number {
    return this.explorer.folders.reduce((s, f) => s + (f.result?.buildDirs.reduce((t, b) => t + b.bytes, 0) ?? 0), 0);
  }

  describe(): string | undefined {
    const total = this.totalBytes();
    return total > 0 ? formatBytes(total) + (this.filter ? ` · ${vscode.l10n.t('filter: {0}', this.filter)}` : '') : undefined;
  }
}
