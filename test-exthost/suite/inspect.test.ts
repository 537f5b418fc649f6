// Inspecting in the real extension host, on the sample workspace real cargo built: the current OUT_DIR marked in
// the tree and linked from `include!(concat!(env!("OUT_DIR"), …))`, the build-script run and fingerprint
// documents with their links, Compare Units, Compare with Current OUT_DIR, and the Last Build view on a real
// `-Zbuild-analysis` log written into a private CARGO_HOME.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, cargoBuild, debugUnits, find, labelOf, until, workspaceDir } from './helpers';
import { toTreeItem } from '../../src/vscode/treeItem';
import type { Node } from '../../src/vscode/nodes';

function debugNode(a: Awaited<ReturnType<typeof api>>): Node {
  return find(a.tree.getChildren(), 'debug');
}

async function links(uri: vscode.Uri): Promise<vscode.DocumentLink[]> {
  return (await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', uri)) ?? [];
}

describe('Inspect', () => {
  it('the build-script run of app holds the current OUT_DIR, and include! of gen.rs links into it', async () => {
    const a = await api();
    const app = find(a.tree.getChildren(debugNode(a)), 'app');
    const run = find(a.tree.getChildren(app), 'build script (run) app');
    assert.ok(run.kind === 'unit');
    assert.equal(run.outDir, 'current');
    assert.match(String(toTreeItem(run).description), /^current OUT_DIR · /);
    const lib = vscode.Uri.file(path.join(workspaceDir(), 'app', 'src', 'lib.rs'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(lib));
    const found = await links(lib);
    const target = path.join(run.unit.paths[0]!, 'out', 'gen.rs');
    assert.ok(found.some((l) => l.target?.fsPath === target), `a link to ${target} among ${found.map((l) => l.target?.fsPath).join(', ')}`);
  });

  it('Show Build-Script Run groups the directives of bs and checks its rerun-if-changed paths', async () => {
    const a = await api();
    const bs = find(a.tree.getChildren(debugNode(a)), 'bs');
    const run = find(a.tree.getChildren(bs), 'build script (run) bs');
    await vscode.commands.executeCommand('cargoBuildDir.showBuildScriptRun', run);
    const text = vscode.window.activeTextEditor!.document.getText();
    assert.match(text, /^build-script run of bs \([0-9a-f]{16}\)/);
    assert.match(text, /rerun-if-changed:\n {2}data\.txt\n/);
    assert.match(text, /rerun-if-env-changed:\n {2}BS_MODE/);
    assert.match(text, /link search paths:\n {2}native=.*\/out\n/);
    assert.match(text, /metadata for dependent build scripts:\n {2}KEY=value-from-links/);
  });

  it('Show Fingerprint explains the unit in words, names the toolchain, and links its dependencies and sources', async () => {
    const a = await api();
    const app = find(a.tree.getChildren(debugNode(a)), 'app');
    const lib = find(a.tree.getChildren(app), 'lib app');
    await vscode.commands.executeCommand('cargoBuildDir.showFingerprint', lib);
    const doc = vscode.window.activeTextEditor!.document;
    const text = doc.getText();
    assert.match(text, /toolchain: stable \d+\.\d+\.\d+/);
    assert.match(text, /built against:\n(?: {4}.*\n)*? {4}util → /);
    assert.match(text, /features enabled: none/);
    const found = await links(doc.uri);
    const util = debugUnits(a).find((u) => u.package === 'util' && u.kind === 'lib' && u.features?.includes('fancy'))!;
    assert.ok(found.some((l) => l.target?.scheme === 'cargo-build-dir-unit' && decodeURIComponent(l.target.query).includes(util.id)), 'the util dependency links to its fingerprint');
    assert.ok(found.some((l) => l.target?.fsPath === path.join(workspaceDir(), 'app', 'src', 'lib.rs')), 'the source list links to the file');
  });

  it('Compare Units says how the util units differ (features; profile settings for the build-dependency one)', async () => {
    const a = await api();
    const util = find(a.tree.getChildren(debugNode(a)), 'util');
    const libs = a.tree.getChildren(util).filter((n) => n.kind === 'unit' && n.unit.kind === 'lib');
    assert.ok(libs.length >= 2, libs.map(labelOf).join(', '));
    await vscode.commands.executeCommand('cargoBuildDir.compareUnits', libs[0], libs);
    const text = vscode.window.activeTextEditor!.document.getText();
    assert.match(text.split('\n')[0]!, /units of util differ in features/);
    assert.match(text, /^features\s/m);
    for (const same of ['mode', 'platform', 'RUSTFLAGS']) assert.doesNotMatch(text, new RegExp(`^${same}\\s`, 'm'), `no ${same} row: the units agree on it`);
  });

  it('Compare with Current OUT_DIR opens a diff against the current run after a feature switch', async function () {
    this.timeout(240000);
    const a = await api();
    const ws = workspaceDir();
    // Give app a feature its build script reports in info.txt: with it, cargo makes a second run unit.
    fs.appendFileSync(path.join(ws, 'app', 'Cargo.toml'), '\n[features]\nextra = []\n');
    const buildRs = path.join(ws, 'app', 'build.rs');
    fs.writeFileSync(buildRs, fs.readFileSync(buildRs, 'utf8').replace('"generated by app/build.rs\\n"', 'format!("generated by app/build.rs, extra={}\\n", env::var("CARGO_FEATURE_EXTRA").is_ok())'));
    cargoBuild(ws);
    cargoBuild(ws, ['-p', 'app', '--features', 'extra']);
    cargoBuild(ws);
    await vscode.commands.executeCommand('cargoBuildDir.refresh');
    await until('two build-script runs of app', () => debugUnits(a).filter((u) => u.package === 'app' && u.mode === 'run-custom-build').length === 2);
    const runs = a.tree.getChildren(find(a.tree.getChildren(debugNode(a)), 'app')).filter((n) => n.kind === 'unit' && n.unit.mode === 'run-custom-build');
    const older = runs.find((n) => n.kind === 'unit' && n.outDir === 'older');
    const current = runs.find((n) => n.kind === 'unit' && n.outDir === 'current');
    assert.ok(older?.kind === 'unit' && current?.kind === 'unit', runs.map((n) => String(toTreeItem(n).description)).join(' | '));
    // The older run is the one that ran last (with the feature); the current one is what the last build uses.
    assert.ok((older.unit.builtAt ?? 0) > (current.unit.builtAt ?? 0), 'the older OUT_DIR was written after the current one');
    assert.match(fs.readFileSync(path.join(current.unit.paths[0]!, 'out', 'info.txt'), 'utf8'), /extra=false/);
    const out = a.tree.getChildren(older).find((n) => n.kind === 'part' && n.part.name === 'out')!;
    const info = find(a.tree.getChildren(out), 'info.txt');
    assert.match(toTreeItem(info).contextValue ?? '', /outDirFile=1/);
    await vscode.commands.executeCommand('cargoBuildDir.compareWithCurrentOutDir', info);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputTextDiff, `a diff editor, got ${tab?.label}`);
    assert.equal(tab.input.original.fsPath, path.join(older.unit.paths[0]!, 'out', 'info.txt'));
    assert.equal(tab.input.modified.fsPath, path.join(current.unit.paths[0]!, 'out', 'info.txt'));
    // include! in app's source links into the current OUT_DIR, not the newest one.
    const lib = vscode.Uri.file(path.join(ws, 'app', 'src', 'lib.rs'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(lib));
    const targets = (await links(lib)).map((l) => l.target?.fsPath);
    assert.ok(targets.includes(path.join(current.unit.paths[0]!, 'out', 'gen.rs')), targets.join(', '));
    assert.ok(!targets.includes(path.join(older.unit.paths[0]!, 'out', 'gen.rs')), 'not the older (newer-written) OUT_DIR');
  });

  it('Last Build: how to enable without logs; after builds with -Zbuild-analysis, what was rebuilt and why', async function () {
    this.timeout(240000);
    const a = await api();
    const ws = workspaceDir();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-cargo-home-'));
    const before = process.env.CARGO_HOME;
    // The extension reads CARGO_HOME when it looks; this extension host is its process.
    process.env.CARGO_HOME = home;
    try {
      await vscode.commands.executeCommand('cargoBuildDir.refreshLastBuild');
      const analysis = () => a.lastBuild.analysis;
      assert.equal(analysis(), null);
      assert.equal(a.lastBuild.last?.kind, 'no-logs');
      assert.deepEqual(a.lastBuild.getChildren(), [], 'an empty view shows the how-to-enable welcome content');
      const env = { CARGO_HOME: home, CARGO_BUILD_ANALYSIS_ENABLED: 'true' };
      cargoBuild(ws, ['-Zbuild-analysis'], env);
      fs.appendFileSync(path.join(ws, 'util', 'src', 'lib.rs'), '\n// touched by the Last Build test\n');
      cargoBuild(ws, ['-Zbuild-analysis'], env);
      await vscode.commands.executeCommand('cargoBuildDir.refresh');
      await vscode.commands.executeCommand('cargoBuildDir.refreshLastBuild');
      const an = analysis();
      assert.ok(an, `a logged build was found: ${JSON.stringify(a.lastBuild.last?.kind)}`);
      const utilLib = an.rebuilt.find((u) => u.log.target.name === 'util' && u.log.target.kind === 'lib' && u.log.mode === 'build');
      assert.ok(utilLib, an.rebuilt.map((u) => u.label).join('; '));
      assert.match(utilLib.reason ?? '', /src\/lib\.rs changed/);
      assert.ok(utilLib.unit && debugUnits(a).includes(utilLib.unit), 'joined to a unit folder of the build dir');
      const groups = a.lastBuild.getChildren();
      assert.deepEqual(groups.map((g) => g.kind), ['summary', 'group', 'group']);
      const rebuiltRows = a.lastBuild.getChildren(groups[1]);
      assert.ok(rebuiltRows.length >= 1);
      const item = a.lastBuild.getTreeItem(rebuiltRows.find((r) => r.kind === 'unit' && r.unit === utilLib)!);
      assert.match(String(item.description), /src\/lib\.rs changed/);
      assert.equal(item.command?.command, 'vscode.open');
      // Reveal in Build Directory from the row: the unit is selected in the tree, its ancestors handed out even
      // though the tree's cache was just dropped.
      a.tree.refreshAll();
      await vscode.commands.executeCommand('cargoBuildDir.revealInTree', rebuiltRows.find((r) => r.kind === 'unit' && r.unit === utilLib));
      await until('the unit selected in the tree', () => a.view.selection[0]?.id === `unit:${utilLib.unit!.id}`, 20000);
      const pkg = a.tree.getParent(a.view.selection[0]!);
      assert.equal(pkg?.kind === 'package' ? pkg.pkg.name : pkg?.kind, 'util');
    } finally {
      if (before === undefined) delete process.env.CARGO_HOME;
      else process.env.CARGO_HOME = before;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
