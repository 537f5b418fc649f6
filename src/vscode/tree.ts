// The TreeDataProvider. It owns no model: it asks the Explorer (explorer.ts) for the current scan of each
// workspace folder and derives nodes (nodes.ts). Nodes are kept by id, so that a refresh of one package fires
// a change event for exactly the node VS Code already shows, and `getParent` answers for `reveal`.

import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';
import {
  bucketChildren,
  bucketNodes,
  crateNodes,
  packagesOf,
  partChildren,
  entriesOf,
  sessionNodes,
  unitChildren,
  type Node,
} from './nodes';
import { toTreeItem, tooltipOf } from './treeItem';
import { formatBytes } from '../core/format';

export class BuildDirTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Every node handed to VS Code, by id, and each one's parent. */
  private readonly byId = new Map<string, Node>();
  private readonly parents = new Map<string, Node | undefined>();
  filter = '';

  constructor(private readonly explorer: Explorer) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** Everything changed (new scan, filter, settings). */
  refreshAll(): void {
    this.byId.clear();
    this.parents.clear();
    this.changed.fire(undefined);
  }

  /** Only these nodes changed (a partial refresh): VS Code re-asks for them and their children only. */
  refreshIds(ids: readonly string[]): void {
    const nodes = ids.map((id) => this.byId.get(id)).filter((n): n is Node => n !== undefined);
    if (nodes.length === 0 || nodes.length !== ids.length) {
      // A node that was never shown needs no event; one that is new appears through its parent.
      const parents = ids.map((id) => this.parentOfId(id)).filter((n): n is Node => n !== undefined);
      if (nodes.length + parents.length === 0) return this.refreshAll();
      for (const n of new Set([...nodes, ...parents])) this.changed.fire(n);
      return;
    }
    for (const n of nodes) this.changed.fire(n);
  }

  private parentOfId(id: string): Node | undefined {
    // `pkg:<profile id>/<name>` → the profile node `profile:<profile id>`.
    const m = /^pkg:(.*)\/[^/]+$/.exec(id);
    return m ? this.byId.get(`profile:${m[1]}`) : undefined;
  }

  nodeById(id: string): Node | undefined {
    return this.byId.get(id);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return toTreeItem(node);
  }

  resolveTreeItem(item: vscode.TreeItem, node: Node): vscode.TreeItem {
    item.tooltip = tooltipOf(node);
    return item;
  }

  getParent(node: Node): Node | undefined {
    return this.parents.get(node.id);
  }

  getChildren(node?: Node): Node[] {
    const children = this.childrenOf(node);
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
        return node.units.map((unit) => ({ kind: 'unit', id: `unit:${unit.id}`, unit }));
      case 'unit':
        return unitChildren(node.unit);
      case 'part':
        return partChildren(node);
      case 'entry':
        return node.dir ? entriesOf(node.path, node.id, node.unit) : [];
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
    const existing = result.buildDirs.filter((b) => b.exists);
    if (existing.length === 0) return [];
    const top: Node[] = [];
    if (st.building) top.push({ kind: 'message', id: `msg:${st.key}:building`, text: vscode.l10n.t('cargo is building…'), icon: 'sync~spin' });
    if (existing.length === 1) {
      const b = existing[0]!;
      return [...top, ...b.profiles.map((profile): Node => ({ kind: 'profile', id: `profile:${profile.id}`, profile }))];
    }
    return [...top, ...existing.map((buildDir): Node => ({ kind: 'buildDir', id: `bd:${buildDir.id}`, buildDir }))];
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
