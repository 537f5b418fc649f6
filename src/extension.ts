// Wiring only: the engine lives in src/core, process adapters in src/node, editor adapters in src/vscode.

import * as vscode from 'vscode';
import { Explorer } from './vscode/explorer';
import { BuildDirTree } from './vscode/tree';
import { COMMANDS } from './vscode/commands';
import { FINGERPRINT_SCHEME, FingerprintDocuments } from './vscode/commands/inspect';
import type { CommandContext } from './vscode/commands/context';
import { StatusItem } from './vscode/status';
import { LiveRefresh } from './vscode/live';
import type { Node } from './vscode/nodes';

export interface Api {
  readonly explorer: Explorer;
  readonly tree: BuildDirTree;
  readonly view: vscode.TreeView<Node>;
  readonly live: LiveRefresh;
}

export async function activate(context: vscode.ExtensionContext): Promise<Api> {
  const log = vscode.window.createOutputChannel('Cargo Build Dir', { log: true });
  const explorer = new Explorer(log);
  const tree = new BuildDirTree(explorer);
  const view = vscode.window.createTreeView('cargoBuildDir.tree', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const status = new StatusItem(tree);
  const ctx: CommandContext = { explorer, tree, view, log };
  const live = new LiveRefresh(explorer, log);
  context.subscriptions.push(log, explorer, tree, view, status, live);
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (node?: Node, ...rest: unknown[]) => handler(ctx, node, ...rest)));
  }
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(FINGERPRINT_SCHEME, new FingerprintDocuments(ctx)));

  explorer.onDidChange((kind) => {
    if (kind === 'all') tree.refreshAll();
    else if (kind === 'partial') tree.applyModelChange();
    const building = explorer.folders.filter((f) => f.building);
    view.message = building.length ? vscode.l10n.t('cargo is building in {0}…', building.map((f) => f.name).join(', ')) : undefined;
    if (kind === 'state' && building.length === 0) tree.flushDeferred();
    view.description = tree.describe();
    status.update();
    void vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasWorkspace', explorer.hasWorkspace());
    void vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasBuild', explorer.hasBuild());
    live.update();
  });
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasWorkspace', explorer.hasWorkspace());
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.filtered', false);
  void explorer.refresh();
  return { explorer, tree, view, live };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
