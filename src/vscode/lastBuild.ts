// The "Last Build" view: the workspace's last build as cargo's `-Zbuild-analysis` log tells it (src/core/analysis.ts)
// — what was rebuilt and why, in words, and the slowest units — each joined to its unit folder, whose fingerprint
// a click opens. Without logs the view's welcome content says how to turn them on. It reads the log again after
// every scan and at the end of every build the watcher sees.

import * as vscode from 'vscode';
import type { Explorer } from './explorer';
import { cargoHome, type Inspector } from './inspector';
import { analyzeBuild, lastBuildOf, type AnalyzedUnit, type BuildAnalysis, type LastBuild } from '../core/analysis';
import { documentUri } from './commands/inspect';
import { lastBuildRowContextValue } from './contextValues';

type Row =
  | { readonly kind: 'summary'; readonly id: string; readonly text: string; readonly detail: string }
  | { readonly kind: 'group'; readonly id: string; readonly label: string; readonly units: readonly AnalyzedUnit[] }
  | { readonly kind: 'unit'; readonly id: string; readonly unit: AnalyzedUnit };

const secs = (ms: number | null): string => (ms === null ? '' : ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`);

export class LastBuildTree implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  last: LastBuild | null = null;
  analysis: BuildAnalysis | null = null;
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly explorer: Explorer,
    private readonly inspector: Inspector,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    clearTimeout(this.pending);
    this.changed.dispose();
  }

  /** Coalesces the explorer's bursts of changes into one read of the log. */
  refreshSoon(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.refresh(), 300);
  }

  async refresh(): Promise<void> {
    const folder = this.explorer.folders.find((f) => f.result?.workspaceRoot);
    const root = folder?.result?.workspaceRoot ?? folder?.uri.fsPath ?? null;
    if (!folder?.result || !root) {
      this.last = null;
      this.analysis = null;
    } else {
      try {
        this.last = lastBuildOf(cargoHome(), root);
        this.analysis = this.last.kind === 'found' ? analyzeBuild(this.last.log, folder.result, { toolchains: await this.inspector.installedToolchains() }) : null;
      } catch (e) {
        this.log.warn(`last build: ${(e as Error).message}`);
        this.last = null;
        this.analysis = null;
      }
    }
    await vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasBuildLog', this.analysis !== null);
    this.changed.fire(undefined);
  }

  getTreeItem(row: Row): vscode.TreeItem {
    switch (row.kind) {
      case 'summary': {
        const item = new vscode.TreeItem(row.text, vscode.TreeItemCollapsibleState.None);
        item.description = row.detail;
        item.iconPath = new vscode.ThemeIcon('history');
        item.id = row.id;
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = row.id;
        item.iconPath = new vscode.ThemeIcon(row.id === 'slowest' ? 'watch' : 'sync');
        return item;
      }
      case 'unit': {
        const u = row.unit;
        const item = new vscode.TreeItem(u.label, vscode.TreeItemCollapsibleState.None);
        item.id = row.id;
        item.description = [u.status === 'fresh' ? '' : u.reason ?? u.status, secs(u.durationMs)].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          [`**${u.label}** — ${u.status}`, u.reason ? `\n\n${u.reason}` : '', u.durationMs !== null ? `\n\n${vscode.l10n.t('took {0}', secs(u.durationMs))}` : '', `\n\n${u.unit ? u.unit.paths[0] : u.joinedBy}`].join(''),
        );
        item.iconPath = new vscode.ThemeIcon(u.status === 'new' ? 'add' : u.status === 'rebuilt' ? 'sync' : u.status === 'fresh' ? 'check' : 'question');
        item.contextValue = lastBuildRowContextValue(u.unit !== null);
        if (u.unit) item.command = { command: 'vscode.open', title: vscode.l10n.t('Show Fingerprint'), arguments: [documentUri('fingerprint', [u.unit])] };
        return item;
      }
    }
  }

  getChildren(row?: Row): Row[] {
    const a = this.analysis;
    if (!a) return [];
    if (!row) {
      const started = a.startedAt ? new Date(a.startedAt).toLocaleString() : vscode.l10n.t('at an unknown time');
      return [
        { kind: 'summary', id: 'summary', text: a.summary, detail: started },
        { kind: 'group', id: 'rebuilt', label: vscode.l10n.t('Rebuilt ({0})', a.rebuilt.length), units: a.rebuilt },
        { kind: 'group', id: 'slowest', label: vscode.l10n.t('Slowest'), units: a.slowest },
      ];
    }
    if (row.kind !== 'group') return [];
    return row.units.map((unit, i) => ({ kind: 'unit', id: `${row.id}/${i}/${unit.label}`, unit }));
  }
}
