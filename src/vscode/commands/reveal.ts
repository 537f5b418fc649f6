// Reveal in the Explorer view or the OS file manager, and Copy Path.

import * as vscode from 'vscode';
import { pickUnit, type Handler } from './context';
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

/** The unit id a row stands for: a tree unit, or a Last Build row joined to a unit folder. */
function unitIdOf(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || !('unit' in row)) return undefined;
  const u = (row as { unit: unknown }).unit as { id?: unknown; unit?: { id?: unknown } | null } | null;
  if (typeof u?.id === 'string') return u.id;
  return typeof u?.unit?.id === 'string' ? u.unit.id : undefined;
}

/** Reveal in Build Directory: a unit (from the Last Build view, or picked) selected in the tree, ancestors expanded. */
export const revealInTree: Handler = async (ctx, node) => {
  const unitId = unitIdOf(node) ?? (await pickUnit(ctx, undefined, () => true, vscode.l10n.t('Reveal which unit?')))?.id;
  if (!unitId) return;
  const target = ctx.tree.nodeOfUnit(unitId);
  if (!target) {
    void vscode.window.showInformationMessage(vscode.l10n.t('That unit is not in the tree (filtered out, rebuilt or cleaned).'));
    return;
  }
  await ctx.view.reveal(target, { select: true, focus: true, expand: false });
};
