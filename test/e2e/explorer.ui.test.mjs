// The product in a real VS Code (code-server 4.100.3 = VS Code 1.100) driven by Playwright, on a copy of the
// sample workspace that real cargo builds first (layout v2). One server and one page serve the whole file.
// Screenshots go to .e2e-artifacts/ (the README shows the best ones).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { captureOnFailure, getTree, launchBrowser, openViewContainer, openWorkbench, REPO, screenshot, startServer, waitForCondition, waitForTreeLabels } from './harness.mjs';

let server;
let browser;
let page;
let workspace;

function cargo(args) {
  const r = spawnSync('cargo', [...args, '--offline', '-Zbuild-dir-new-layout'], { cwd: workspace, env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cargo ${args.join(' ')} failed: ${r.stderr}`);
}

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'e2e-cbd-ws-'));
  cpSync(join(REPO, 'sample'), workspace, { recursive: true, filter: (s) => !s.slice(join(REPO, 'sample').length).includes('target') });
  cargo(['build']);
  server = await startServer();
  browser = await launchBrowser();
  page = browser.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  await openWorkbench(page, server, { folder: workspace, extensionDevelopmentPath: REPO });
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** The tree row whose label is exactly `label`. */
function row(tree, label) {
  return tree.getByRole('treeitem').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[()]/g, '\\$&')}$`) }) }).first();
}

async function expand(tree, label) {
  const r = row(tree, label);
  await waitForCondition(async () => (await r.count()) > 0, `tree row "${label}"`);
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
  await waitForCondition(async () => (await r.getAttribute('aria-expanded')) === 'true', `"${label}" expanded`);
}

test('the view lists the profiles and packages of the build dir', { timeout: 120_000 }, async () => {
  await captureOnFailure(page, 'explorer-packages', async () => {
    await openViewContainer(page, 'Cargo Build Dir');
    const tree = await getTree(page, 'Build Directory');
    await waitForTreeLabels(tree, (l) => l.includes('debug'), { timeout: 60_000 });
    await expand(tree, 'debug');
    const labels = await waitForTreeLabels(tree, (l) => ['app', 'util', 'pmacro', 'bs', 'Incremental'].every((x) => l.includes(x)));
    assert.ok(labels.indexOf('debug') < labels.indexOf('app'));
    await screenshot(page, 'explorer-packages');
  }, server);
});

test('a build-script run shows its OUT_DIR files, and clicking one opens it in an editor', { timeout: 120_000 }, async () => {
  await captureOnFailure(page, 'explorer-out-dir', async () => {
    const tree = await getTree(page, 'Build Directory');
    await expand(tree, 'app');
    await expand(tree, 'build script (run) app');
    const out = row(tree, 'out');
    await waitForCondition(async () => (await out.count()) > 0, 'the out part');
    assert.match(await out.innerText(), /OUT_DIR/);
    await expand(tree, 'out');
    await waitForTreeLabels(tree, (l) => l.includes('gen.rs'));
    await row(tree, 'gen.rs').click();
    const tab = page.locator('.tabs-container .tab', { hasText: 'gen.rs' });
    await waitForCondition(async () => (await tab.count()) > 0, 'an editor tab for gen.rs');
    await waitForCondition(async () => (await page.locator('.monaco-editor .view-lines', { hasText: 'GENERATED' }).count()) > 0, 'gen.rs content in the editor');
    await screenshot(page, 'explorer-out-dir');
  }, server);
});
