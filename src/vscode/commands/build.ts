// Run cargo build: the welcome view's button when nothing is built yet. It runs in a terminal the user sees.

import * as vscode from 'vscode';
import type { Handler } from './context';

export const runCargoBuild: Handler = async (ctx) => {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Trust this workspace to run cargo from here.'));
    return;
  }
  const folder = ctx.explorer.folders[0];
  if (!folder) return;
  const term = vscode.window.createTerminal({ name: 'cargo build', cwd: folder.uri });
  term.show();
  term.sendText(`${JSON.stringify(ctx.explorer.config.cargoPath)} build`);
};
