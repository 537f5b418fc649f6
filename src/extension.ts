// Wiring only: the tree view, commands and watcher arrive with the extension issue; the engine lives in src/core.
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Nothing to wire yet: activation must stay cheap and side-effect free.
}

export function deactivate(): void {}
