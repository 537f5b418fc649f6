// Throwaway extension for the e2e smoke tests: one tree view with three items, a command that adds one, and one
// that removes the item picked in a quick pick after a modal confirmation (an empty list shows the welcome view).
const vscode = require('vscode');

class ItemsProvider {
  constructor() {
    this.labels = ['alpha', 'beta', 'gamma'];
    this.added = 0;
    this.changed = new vscode.EventEmitter();
    this.onDidChangeTreeData = this.changed.event;
  }
  getChildren() {
    return this.labels;
  }
  getTreeItem(label) {
    return new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  }
}

function activate(context) {
  const provider = new ItemsProvider();
  context.subscriptions.push(
    vscode.window.createTreeView('e2eSmoke.items', { treeDataProvider: provider }),
    vscode.commands.registerCommand('e2eSmoke.addItem', () => {
      const label = `item-${++provider.added}`;
      provider.labels.push(label);
      provider.changed.fire();
      vscode.window.showInformationMessage(`E2E Smoke: added ${label}`);
      return label;
    }),
    vscode.commands.registerCommand('e2eSmoke.removeItem', async () => {
      const pick = await vscode.window.showQuickPick([...provider.labels, '(all)'], { placeHolder: 'Item to remove' });
      const ok = pick && (await vscode.window.showWarningMessage(`Remove ${pick}?`, { modal: true, detail: 'Only the list changes.' }, 'Remove'));
      if (ok !== 'Remove') return;
      provider.labels = pick === '(all)' ? [] : provider.labels.filter((l) => l !== pick);
      provider.changed.fire();
    }),
  );
  return { provider };
}

module.exports = { activate, deactivate() {} };
