// The status bar item: the total size of the build dirs; a click focuses the view.

import * as vscode from 'vscode';
import type { BuildDirTree } from './tree';
import { formatBytes } from '../core/format';

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cargoBuildDir.size', vscode.StatusBarAlignment.Left, 10);

  constructor(private readonly tree: BuildDirTree) {
    this.item.name = vscode.l10n.t('Cargo Build Dir Size');
    this.item.command = 'cargoBuildDir.tree.focus';
    this.update();
  }

  update(): void {
    const total = this.tree.totalBytes();
    if (total <= 0) {
      this.item.hide();
      return;
    }
    this.item.text = `$(package) ${formatBytes(total)}`;
    this.item.tooltip = vscode.l10n.t('Cargo build directory: {0}. Click to show it.', formatBytes(total));
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
