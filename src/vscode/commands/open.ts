// Opening what is inside the build dir. VS Code itself decides text or binary (a binary file opens in its
// binary placeholder, never as garbage text); a folder is revealed instead of opened.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Handler } from './context';
import { pathOf } from '../nodes';

async function openPath(p: string | null, side: boolean): Promise<void> {
  if (!p) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    void vscode.window.showWarningMessage(vscode.l10n.t('{0} is gone: cargo rebuilt or cleaned it. Refresh the view.', p));
    return;
  }
  if (st.isDirectory()) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(p));
    return;
  }
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(p), { preview: !side, viewColumn: side ? vscode.ViewColumn.Beside : undefined });
}

export const open: Handler = (_ctx, node) => openPath(node ? pathOf(node) : null, false);
export const openToSide: Handler = (_ctx, node) => openPath(node ? pathOf(node) : null, true);
