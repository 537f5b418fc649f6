// Wiring only: the engine lives in src/core, process adapters in src/node, editor adapters in src/vscode.

import * as vscode from 'vscode';
import { Explorer } from './vscode/explorer';
import { BuildDirTree } from './vscode/tree';
import { COMMANDS } from './vscode/commands';
import { FINGERPRINT_SCHEME, InspectDocuments } from './vscode/commands/inspect';
import { Inspector } from './vscode/inspector';
import { OutDirLinks } from './vscode/outDirLinks';
import { LastBuildTree } from './vscode/lastBuild';
import type { CommandContext } from './vscode/commands/context';
import { StatusItem } from './vscode/status';
import { LiveRefresh } from './vscode/live';
import type { Node } from './vscode/nodes';

export interface Api {
  readonly explorer: Explorer;
  readonly tree: BuildDirTree;
  readonly view: vscode.TreeView<Node>;
  readonly live: LiveRefresh;
  readonly inspector: Inspector;
  readonly lastBuild: LastBuildTree;
}

export async function activate(context: vscode.ExtensionContext): Promise<Api> {
  const log = vscode.window.createOutputChannel('Cargo Build Dir', { log: true });
  const explorer = new Explorer(log);
  const inspector = new Inspector(explorer);
  const tree = new BuildDirTree(explorer, inspector);
  const view = vscode.window.createTreeView('cargoBuildDir.tree', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const status = new StatusItem(tree);
  const lastBuild = new LastBuildTree(explorer, inspector, log);
  const ctx: CommandContext = { explorer, tree, view, log, inspector, lastBuild };
  const live = new LiveRefresh(explorer, log);
  const lastBuildView = vscode.window.createTreeView('cargoBuildDir.lastBuild', { treeDataProvider: lastBuild });
  const docs = new InspectDocuments(ctx);
  context.subscriptions.push(log, explorer, tree, view, status, live, lastBuild, lastBuildView, docs);
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(FINGERPRINT_SCHEME, docs),
    vscode.languages.registerDocumentLinkProvider({ scheme: FINGERPRINT_SCHEME }, docs),
    vscode.languages.registerDocumentLinkProvider({ language: 'rust', scheme: 'file' }, new OutDirLinks(inspector)),
  );
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (node?: Node, ...rest: unknown[]) => handler(ctx, node, ...rest)));
  }

  explorer.onDidChange((kind) => {
    if (kind === 'all') tree.refreshAll();
    else if (kind === 'partial') tree.applyModelChange();
    if (kind !== 'state') docs.refreshOpen();
    const building = explorer.folders.filter((f) => f.building);
    view.message = building.length ? vscode.l10n.t('cargo is building in {0}…', building.map((f) => f.name).join(', ')) : undefined;
    if (kind === 'state' && building.length === 0) tree.flushDeferred();
    if (kind === 'all' || (kind === 'state' && building.length === 0)) lastBuild.refreshSoon();
    view.description = tree.describe();
    status.update();
    void vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasWorkspace', explorer.hasWorkspace());
    void vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasBuild', explorer.hasBuild());
    live.update();
  });
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.hasWorkspace', explorer.hasWorkspace());
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.filtered', false);
  void explorer.refresh();
  return { explorer, tree, view, live, inspector, lastBuild };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
