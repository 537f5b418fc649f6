// Reveal in the Explorer view or the OS file manager, and Copy Path.

import * as vscode from 'vscode';
import type { Handler } from './context';
import { pathOf } from '../nodes';

export const revealInExplorer: Handler = async (_ctx, node) => {
  const p = node ? pathOf(node) : null;
  if (p) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(p));
};

export const revealInOS: Handler = async (_ctx, node) => {
  const p = node ? pathOf(node) : null;
  if (p) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(p));
};

export const copyPath: Handler = async (_ctx, node) => {
  const p = node ? pathOf(node) : null;
  if (p) await vscode.env.clipboard.writeText(p);
};
