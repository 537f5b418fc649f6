// The product in a real VS Code (code-server 4.100.3 = VS Code 1.100) driven by Playwright, on a copy of the
// sample workspace that real cargo builds first (layout v2). One server and one page serve the whole file.
// Screenshots go to .e2e-artifacts/ (the README shows the best ones).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  captureOnFailure,
  clickModalButton,
  contextMenu,
  copySample,
  expandRow,
  getTree,
  openProductSession,
  openViewContainer,
  runCommand,
  screenshot,
  treeRow,
  waitForCondition,
  waitForLocator,
  waitForNotification,
  waitForTreeLabels,
} from './harness.mjs';

let session;
let server;
let page;
let workspace;

function cargo(args, { expectFailure = false } = {}) {
  const r = spawnSync('cargo', [...args, '--offline', '-Zbuild-dir-new-layout'], { cwd: workspace, env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, encoding: 'utf8' });
  if (expectFailure ? r.status === 0 : r.status !== 0) throw new Error(`cargo ${args.join(' ')} ${expectFailure ? 'succeeded, expected a failure' : `failed: ${r.stderr}`}`);
  return r;
}

/** The folder of the unit whose hash starts with `short` in the debug profile, or null. */
function unitFolderOf(short) {
  const build = join(workspace, 'target', 'debug', 'build');
  for (const pkg of existsSync(build) ? readdirSync(build) : []) {
    const hit = readdirSync(join(build, pkg)).find((h) => h.startsWith(short));
    if (hit) return join(build, pkg, hit);
  }
  return null;
}

/** Unit folders of a package in the debug profile (layout v2: target/debug/build/<pkg>/<hash>). */
function unitDirs(pkg) {
  const dir = join(workspace, 'target', 'debug', 'build', pkg);
  return existsSync(dir) ? readdirSync(dir) : [];
}

before(async () => {
  workspace = copySample('e2e-cbd-ws-');
  cargo(['build']);
  session = await openProductSession(workspace, { cleanup: [workspace] });
  ({ page, server } = session);
}, { timeout: 300_000 });

after(async () => {
  if (session) await session.close();
  else if (workspace) rmSync(workspace, { recursive: true, force: true });
});


test('the view lists the profiles and packages of the build dir', { timeout: 120_000 }, async () => {
  await captureOnFailure(page, 'explorer-packages', async () => {
    await openViewContainer(page, 'Cargo Build Dir');
    const tree = await getTree(page, 'Build Directory');
    await waitForTreeLabels(tree, (l) => l.includes('debug'), { timeout: 60_000 });
    await expandRow(tree, 'debug');
    const labels = await waitForTreeLabels(tree, (l) => ['app', 'util', 'pmacro', 'bs', 'Incremental'].every((x) => l.includes(x)));
    assert.ok(labels.indexOf('debug') < labels.indexOf('app'));
    await screenshot(page, 'explorer-packages');
  }, server);
});

test('a build-script run shows its OUT_DIR files, and clicking one opens it in an editor', { timeout: 120_000 }, async () => {
  await captureOnFailure(page, 'explorer-out-dir', async () => {
    const tree = await getTree(page, 'Build Directory');
    await expandRow(tree, 'app');
    await expandRow(tree, 'build script (run) app');
    const out = treeRow(tree, 'out');
    await waitForLocator(out.first(), 'the out part', { state: 'attached' });
    assert.match(await out.innerText(), /OUT_DIR/);
    await expandRow(tree, 'out');
    await waitForTreeLabels(tree, (l) => l.includes('gen.rs'));
    await treeRow(tree, 'gen.rs').click();
    const tab = page.locator('.tabs-container .tab', { hasText: 'gen.rs' });
    await waitForLocator(tab.first(), 'an editor tab for gen.rs', { state: 'attached' });
    await waitForLocator(page.locator('.monaco-editor .view-lines', { hasText: 'GENERATED' }).first(), 'gen.rs content in the editor', { state: 'attached' });
    await screenshot(page, 'explorer-out-dir');
  }, server);
});

/** The description text of a row (short hash · size · age). */
async function description(r) {
  return (await r.locator('.label-description').first().innerText()).trim();
}

test('editing a source file and running cargo build updates the tree without a manual refresh', { timeout: 180_000 }, async () => {
  await captureOnFailure(page, 'explorer-live', async () => {
    const tree = await getTree(page, 'Build Directory');
    await expandRow(tree, 'util');
    const lib = treeRow(tree, 'lib util');
    await waitForLocator(lib.first(), 'a lib util row', { state: 'attached' });
    const utilDescriptions = () => tree.getByRole('treeitem').filter({ has: page.locator('.label-name', { hasText: /^lib util$/ }) }).evaluateAll((els) => els.map((e) => e.querySelector('.label-description')?.textContent ?? ''));
    const rowsBefore = await utilDescriptions();
    // A large constant makes every util library grow by ~256 KiB: the sizes the rows show must change.
    appendFileSync(join(workspace, 'util', 'src', 'lib.rs'), '\n#[used]\npub static LIVE_TEST_BLOB: [u8; 262144] = [7; 262144];\n');
    cargo(['build']);
    await waitForCondition(async () => {
      const now = await utilDescriptions();
      return now.length === rowsBefore.length && now.some((d, i) => d.split(' · ')[1] !== rowsBefore[i].split(' · ')[1]);
    }, 'the util rows to show the new sizes', { timeout: 60_000 });
    await screenshot(page, 'explorer-live');
  }, server);
});

test('Clean Unit asks in a modal naming the unit and the bytes, removes exactly that unit, and cargo builds again', { timeout: 180_000 }, async () => {
  await captureOnFailure(page, 'explorer-clean-unit', async () => {
    const tree = await getTree(page, 'Build Directory');
    await expandRow(tree, 'util');
    const lib = treeRow(tree, 'lib util');
    const hash = (await description(lib)).split(' · ')[0];
    assert.match(hash, /^[0-9a-f]{8}$/);
    const before = unitDirs('util');
    const dir = before.find((d) => d.startsWith(hash));
    assert.ok(dir, `a unit folder ${hash}… among ${before.join(', ')}`);
    await contextMenu(lib, 'Clean Unit…');
    const dialog = page.getByRole('dialog').filter({ hasText: hash });
    await waitForLocator(dialog.first(), 'the confirmation naming the unit', { state: 'attached' });
    const text = await dialog.first().innerText();
    assert.match(text, /Delete unit "lib util" of util/);
    assert.match(text, /frees \d+(\.\d+)? (B|KiB|MiB|GiB)/);
    assert.ok(text.includes(join(workspace, 'target', 'debug', 'build', 'util', dir)), text);
    await screenshot(page, 'clean-unit-confirm');
    await clickModalButton(page, 'Delete', { text: hash });
    await waitForNotification(page, 'Cleaned unit');
    assert.deepEqual(unitDirs('util').sort(), before.filter((d) => d !== dir).sort(), 'exactly that unit folder is gone');
    await waitForCondition(async () => (await tree.getByRole('treeitem').filter({ hasText: hash }).count()) === 0, 'the unit row to leave the tree');
    cargo(['build']);
    assert.ok(unitDirs('util').includes(dir), 'cargo built the unit again');
  }, server);
});

test('Clean All Stale lists the units a failed build left, with reasons and a total, and cleans the checked ones', { timeout: 240_000 }, async () => {
  await captureOnFailure(page, 'explorer-clean-stale', async () => {
    const lib = join(workspace, 'util', 'src', 'lib.rs');
    const good = readFileSync(lib, 'utf8');
    writeFileSync(lib, good + '\npub fn broken() -> u32 { "not a number" }\n');
    cargo(['build'], { expectFailure: true });
    await runCommand(page, 'Cargo Build Dir: Refresh');
    await runCommand(page, 'Cargo Build Dir: Clean All Stale…');
    const rows = page.locator('.quick-input-widget .monaco-list-row');
    await waitForLocator(rows.filter({ hasText: 'failed:' }).first(), 'stale items with the "failed" reason', { state: 'attached' });
    const title = page.locator('.quick-input-widget .quick-input-title');
    const all = Number(/Clean All Stale: (\d+) of \1 selected, frees/.exec(await title.innerText())?.[1]);
    assert.ok(all > 1, await title.innerText());
    // Units of the list carry their short hash; the first one is kept (unchecked), the others go.
    const unitRows = rows.filter({ hasText: /[0-9a-f]{8}/ }).filter({ hasText: 'failed:' });
    const hashes = [];
    for (let i = 0; i < (await unitRows.count()); i++) hashes.push(/\b([0-9a-f]{8})\b/.exec(await unitRows.nth(i).locator('.label-name').first().innerText())?.[1]);
    const kept = hashes[0];
    assert.ok(kept && unitFolderOf(kept), `the kept unit ${kept} has a folder`);
    // The row's label toggles its checkbox (the workbench's own handler).
    await unitRows.first().locator('label.quick-input-list-label').first().click();
    await waitForCondition(async () => new RegExp(`: ${all - 1} of ${all} selected`).test(await title.innerText()), 'the total to follow the checkboxes');
    await screenshot(page, 'clean-stale-list');
    await page.keyboard.press('Enter');
    await clickModalButton(page, 'Delete', { text: 'frees' });
    // The summary names what was cleaned (an earlier test's "Cleaned unit …" may still be on screen).
    await waitForNotification(page, all - 1 === 1 ? 'Cleaned ' : `Cleaned ${all - 1} stale items`);
    assert.ok(unitFolderOf(kept), `the unchecked unit ${kept} is still on disk`);
    for (const h of hashes.slice(1)) assert.equal(unitFolderOf(h), null, `the checked unit ${h} is gone`);
    writeFileSync(lib, good);
    const r = cargo(['build']);
    assert.match(r.stderr, /Compiling util/);
  }, server);
});
