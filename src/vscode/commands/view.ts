// View-level commands: Refresh, Filter by Package Name, Clear Filter.

import * as vscode from 'vscode';
import type { Handler } from './context';

export const refresh: Handler = async (ctx) => {
  await vscode.window.withProgress({ location: { viewId: 'cargoBuildDir.tree' } }, () => ctx.explorer.refresh());
};

export const filter: Handler = async (ctx) => {
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Filter by Package Name'),
    prompt: vscode.l10n.t('Show only packages whose name contains this text'),
    value: ctx.tree.filter,
  });
  if (value === undefined) return;
  ctx.tree.filter = value.trim().toLowerCase();
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.filtered', ctx.tree.filter !== '');
  ctx.tree.refreshAll();
  ctx.view.description = ctx.tree.describe();
};

export const clearFilter: Handler = async (ctx) => {
  ctx.tree.filter = '';
  await vscode.commands.executeCommand('setContext', 'cargoBuildDir.filtered', false);
  ctx.tree.refreshAll();
  ctx.view.description = ctx.tree.describe();
};

export const refreshLastBuild: Handler = (ctx) => ctx.lastBuild.refresh();
