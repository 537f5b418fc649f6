// Workspace trust in a real VS Code: a sample workspace opened in Restricted Mode still shows its build
// directory (found without running cargo, measured with the Node walker), but nothing can be deleted from it:
// the clean entries are not in the context menu or the command palette.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { captureOnFailure, copySample, expandRow, getTree, openProductSession, openViewContainer, screenshot, treeRow, waitForCondition, waitForLocator, waitForTreeLabels } from './harness.mjs';

let session;
let server;
let page;
let workspace;

before(async () => {
  workspace = copySample('e2e-cbd-untrusted-');
  const r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout'], { cwd: workspace, env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cargo build failed: ${r.stderr}`);
  // Trust on, and no prompt: a folder never trusted opens in Restricted Mode.
  const serverOptions = { workspaceTrust: true, settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' } };
  session = await openProductSession(workspace, { serverOptions, cleanup: [workspace] });
  ({ page, server } = session);
}, { timeout: 300_000 });

after(async () => {
  if (session) await session.close();
  else if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test('in Restricted Mode the build directory is shown, and no clean command is offered', { timeout: 120_000 }, async () => {
  await captureOnFailure(page, 'trust-restricted', async () => {
    // With trust on and no prompt, a folder never trusted opens in Restricted Mode.
    await waitForLocator(page.locator('.statusbar', { hasText: 'Restricted Mode' }).first(), 'Restricted Mode in the status bar', { state: 'attached' });
    await openViewContainer(page, 'Cargo Build Dir');
    const tree = await getTree(page, 'Build Directory');
    await waitForTreeLabels(tree, (l) => l.includes('debug'), { timeout: 60_000 });
    await expandRow(tree, 'debug');
    await expandRow(tree, 'util');
    const lib = treeRow(tree, 'lib util');
    await waitForLocator(lib.first(), 'a unit row', { state: 'attached' });
    await lib.click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu').first();
    await waitForLocator(menu, 'the context menu');
    const entries = await page.locator('.context-view .action-item').allInnerTexts();
    assert.ok(entries.some((e) => e.includes('Show Fingerprint')), entries.join(' | '));
    assert.ok(!entries.some((e) => /Clean/.test(e)), `no clean entry in Restricted Mode: ${entries.join(' | ')}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input.input');
    await waitForLocator(input, 'the command palette');
    await input.fill('>Cargo Build Dir: Clean');
    const rows = page.locator('.quick-input-widget .monaco-list-row');
    await waitForCondition(async () => (await rows.count()) > 0 || (await page.locator('.quick-input-widget', { hasText: 'No matching commands' }).count()) > 0, 'the palette to answer');
    const commands = await rows.allInnerTexts();
    assert.ok(!commands.some((c) => /Cargo Build Dir: Clean/.test(c)), `no clean command in the palette: ${commands.join(' | ')}`);
    await screenshot(page, 'trust-restricted');
    await page.keyboard.press('Escape');
  }, server);
});
