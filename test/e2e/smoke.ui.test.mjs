// UI smoke test of the e2e infrastructure: a real VS Code (code-server) in Chromium, driven by playwright-core,
// with the throwaway extension in smoke-ext/ loaded unpacked. One server and one page serve the whole file.
//
//   node --test --test-concurrency=1 --test-reporter=spec test/e2e/smoke.ui.test.mjs
//
// SMOKE_FAIL=1 makes the first test expect a label that is not there, to prove that a UI failure is reported
// (with a screenshot and the server's logs in .e2e-artifacts/).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  captureOnFailure, clickModalButton, getTree, launchBrowser, openViewContainer, openWorkbench, REPO, pickQuickItem, runCommand, screenshot,
  startServer, waitForNotification, waitForTreeLabels, waitForWelcomeView,
} from './harness.mjs';

const SMOKE_EXT = join(REPO, 'test', 'e2e', 'smoke-ext');
const forceFail = process.env.SMOKE_FAIL === '1';

let server;
let browser;
let page;
let workspace;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'e2e-smoke-ws-'));
  writeFileSync(join(workspace, 'README.txt'), 'e2e smoke workspace\n');
  const t0 = Date.now();
  server = await startServer();
  browser = await launchBrowser();
  page = browser.page;
  await openWorkbench(page, server, { folder: workspace, extensionDevelopmentPath: SMOKE_EXT });
  console.log(`# ${server.kind} on port ${server.port}: workbench ready ${((Date.now() - t0) / 1000).toFixed(1)}s after start`);
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test('the view container shows the tree and its items', { timeout: 60_000 }, async () => {
  await captureOnFailure(page, 'smoke-tree', async () => {
    await openViewContainer(page, 'E2E Smoke');
    const tree = await getTree(page, 'Smoke Items');
    const expected = ['alpha', 'beta', 'gamma', ...(forceFail ? ['forced-failure'] : [])];
    const labels = await waitForTreeLabels(tree, expected, forceFail ? { timeout: 3000 } : {});
    assert.deepEqual(labels, expected);
  }, server);
});

test('a command run through F1 changes the tree', { timeout: 60_000 }, async () => {
  await captureOnFailure(page, 'smoke-command', async () => {
    await openViewContainer(page, 'E2E Smoke');
    const tree = await getTree(page, 'Smoke Items');
    await runCommand(page, 'E2E Smoke: Add Item');
    await waitForNotification(page, 'E2E Smoke: added item-1');
    assert.deepEqual(await waitForTreeLabels(tree, ['alpha', 'beta', 'gamma', 'item-1']), ['alpha', 'beta', 'gamma', 'item-1']);
    const png = await screenshot(page, 'smoke-after-command');
    console.log(`# screenshot: ${png}`);
  }, server);
});

test('a quick pick and a modal confirmation remove an item', { timeout: 60_000 }, async () => {
  await captureOnFailure(page, 'smoke-remove', async () => {
    const tree = await getTree(page, 'Smoke Items');
    await runCommand(page, 'E2E Smoke: Remove Item');
    await pickQuickItem(page, 'beta');
    await clickModalButton(page, 'Remove', { text: 'Remove beta?' });
    assert.deepEqual(await waitForTreeLabels(tree, ['alpha', 'gamma', 'item-1']), ['alpha', 'gamma', 'item-1']);
  }, server);
});

test('an empty tree shows its welcome view, whose button runs a command', { timeout: 60_000 }, async () => {
  await captureOnFailure(page, 'smoke-welcome', async () => {
    await runCommand(page, 'E2E Smoke: Remove Item');
    await pickQuickItem(page, '(all)');
    await clickModalButton(page, 'Remove', { text: 'Remove (all)?' });
    const welcome = await waitForWelcomeView(page, 'No items.');
    await screenshot(page, 'smoke-welcome');
    await welcome.getByRole('button', { name: 'Add Item' }).click();
    assert.deepEqual(await waitForTreeLabels(await getTree(page, 'Smoke Items'), ['item-2']), ['item-2']);
  }, server);
});
