// Runs inside the extension host: `vscode` is the real API of the VS Code under test.
const assert = require('assert');
const vscode = require('vscode');

const ID = 'e2e-smoke.e2e-smoke';

describe('e2e smoke extension', () => {
  let api;

  it('activates', async () => {
    const ext = vscode.extensions.getExtension(ID);
    assert.ok(ext, `${ID} is not loaded`);
    api = await ext.activate();
    assert.strictEqual(ext.isActive, true);
    assert.ok((await vscode.commands.getCommands(true)).includes('e2eSmoke.addItem'));
  });

  it('runs its command', async () => {
    const label = await vscode.commands.executeCommand('e2eSmoke.addItem');
    assert.strictEqual(label, 'item-1');
  });

  it('gives the tree its items', async () => {
    const labels = api.provider.getChildren().map((l) => api.provider.getTreeItem(l).label);
    // SMOKE_FAIL=1 makes this test fail on purpose, to prove that failures reach the runner.
    const expected = ['alpha', 'beta', 'gamma', 'item-1', ...(process.env.SMOKE_FAIL === '1' ? ['forced-failure'] : [])];
    assert.deepStrictEqual(labels, expected);
  });
});
