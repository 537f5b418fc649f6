// Run cargo build: the welcome view's button when nothing is built yet. It runs as a task in a terminal the
// user sees; VS Code quotes the command for whichever shell that is (PowerShell, cmd, sh).

import * as vscode from 'vscode';
import type { Handler } from './context';

export const runCargoBuild: Handler = async (ctx) => {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Trust this workspace to run cargo from here.'));
    return;
  }
  // The folders that hold a Cargo workspace; with several, the user picks one.
  const cargoFolders = ctx.explorer.folders.filter((f) => f.result !== null);
  const candidates = cargoFolders.length ? cargoFolders : ctx.explorer.folders;
  const folder =
    candidates.length <= 1
      ? candidates[0]
      : (await vscode.window.showQuickPick(candidates.map((f) => ({ label: f.name, detail: f.uri.fsPath, folder: f })), { placeHolder: vscode.l10n.t('Build which folder?') }))?.folder;
  if (!folder) return;
  const wsFolder = vscode.workspace.getWorkspaceFolder(folder.uri);
  const task = new vscode.Task(
    { type: 'cargoBuildDir' },
    wsFolder ?? vscode.TaskScope.Workspace,
    'cargo build',
    'Cargo Build Dir',
    new vscode.ShellExecution(ctx.explorer.config.cargoPath, ['build'], { cwd: folder.uri.fsPath }),
  );
  await vscode.tasks.executeTask(task);
};
