// The extension in a real VS Code extension host, on a sample workspace that real cargo built just before
// (layout v2): activation, the tree model behind the view, every command, the fingerprint document.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { spawnSync } from 'node:child_process';
import type { Api } from '../../src/extension';
import type { Node } from '../../src/vscode/nodes';
import { toTreeItem } from '../../src/vscode/treeItem';

const EXTENSION_ID = 'cargo-build-dir.cargo-build-dir-explorer';

async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  assert.ok(ext, 'the extension is installed');
  const a = await ext.activate();
  // Activation starts a scan; wait for it to produce a result (not a sleep: a condition with a deadline).
  const deadline = Date.now() + 60000;
  while (!a.explorer.folders[0]?.result || a.explorer.folders[0].scanning) {
    if (Date.now() > deadline) throw new Error('no scan result within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return a;
}

function labelOf(n: Node): string {
  const l = toTreeItem(n).label;
  return typeof l === 'string' ? l : (l?.label ?? '');
}

function find(children: readonly Node[], label: string): Node {
  const n = children.find((c) => labelOf(c) === label);
  assert.ok(n, `no "${label}" among ${children.map(labelOf).join(', ')}`);
  return n;
}

describe('Cargo Build Dir Explorer', () => {
  it('activates on a Cargo workspace and finds its build dir with cargo metadata', async () => {
    const a = await api();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const bd = a.explorer.folders[0]!.result!.buildDirs;
    assert.equal(bd.length, 1);
    assert.equal(bd[0]!.path, path.join(folder.uri.fsPath, 'target'));
    assert.equal(bd[0]!.discovery, 'cargo-metadata');
    assert.ok(bd[0]!.exists);
  });

  it('the tree: profiles → packages → units → parts → OUT_DIR files, with stable ids and parents', async () => {
    const { tree } = await api();
    const roots = tree.getChildren();
    const debug = find(roots, 'debug');
    const pkgs = tree.getChildren(debug).map(labelOf);
    for (const p of ['app', 'util', 'pmacro', 'bs']) assert.ok(pkgs.includes(p), `package ${p} in ${pkgs.join(', ')}`);
    const app = find(tree.getChildren(debug), 'app');
    const units = tree.getChildren(app);
    const run = find(units, 'build script (run) app');
    assert.ok(toTreeItem(run).contextValue?.includes('mode=run-custom-build'));
    const out = tree.getChildren(run).find((n) => n.kind === 'part' && n.part.name === 'out');
    assert.ok(out);
    assert.match(String(toTreeItem(out).description), /OUT_DIR/);
    const files = tree.getChildren(out).map(labelOf);
    assert.ok(files.includes('gen.rs'), files.join(', '));
    // Parents answer for reveal, and ids are the same after a refresh.
    assert.equal(tree.getParent(out)?.id, run.id);
    assert.equal(tree.getParent(run)?.id, app.id);
    await vscode.commands.executeCommand('cargoBuildDir.refresh');
    const again = find(tree.getChildren(find(tree.getChildren(), 'debug')), 'app');
    assert.equal(again.id, app.id);
  });

  it('every contributed command is registered', async () => {
    await api();
    const pkg = JSON.parse(fs.readFileSync(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'package.json'), 'utf8'));
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of pkg.contributes.commands as { command: string }[]) assert.ok(registered.has(c.command), c.command);
  });

  it('Open opens an OUT_DIR file in an editor; Copy Path copies it', async () => {
    const { tree } = await api();
    const run = tree.getChildren(find(tree.getChildren(find(tree.getChildren(), 'debug')), 'app')).find((n) => labelOf(n) === 'build script (run) app')!;
    const out = tree.getChildren(run).find((n) => n.kind === 'part' && n.part.name === 'out')!;
    const gen = find(tree.getChildren(out), 'gen.rs');
    const item = toTreeItem(gen);
    assert.equal(item.command?.command, 'cargoBuildDir.open');
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, gen.kind === 'entry' ? gen.path : '');
    assert.match(vscode.window.activeTextEditor!.document.getText(), /pub /);
    await vscode.commands.executeCommand('cargoBuildDir.copyPath', gen);
    assert.equal(await vscode.env.clipboard.readText(), gen.kind === 'entry' ? gen.path : '');
  });

  it('Open Build-Script Output opens run/stdout with its cargo:: directives', async () => {
    const { tree } = await api();
    const bs = find(tree.getChildren(find(tree.getChildren(), 'debug')), 'bs');
    const run = find(tree.getChildren(bs), 'build script (run) bs');
    await vscode.commands.executeCommand('cargoBuildDir.openBuildScriptOutput', run);
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc && doc.uri.fsPath.endsWith(path.join('run', 'stdout')), doc?.uri.fsPath);
    assert.match(doc.getText(), /cargo:rerun-if-changed=data\.txt/);
  });

  it('Show Fingerprint opens a read-only decoded document with dependencies resolved to units', async () => {
    const { tree } = await api();
    const app = find(tree.getChildren(find(tree.getChildren(), 'debug')), 'app');
    const lib = find(tree.getChildren(app), 'lib app');
    await vscode.commands.executeCommand('cargoBuildDir.showFingerprint', lib);
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc);
    assert.equal(doc.uri.scheme, 'cargo-build-dir-unit');
    const text = doc.getText();
    assert.match(text, /fingerprint lib-app: [0-9a-f]{16}/);
    assert.match(text, /dep util → lib util [0-9a-f]{16}/);
    assert.match(text, /\[package\] src\/lib\.rs/);
  });

  it('Filter by package name keeps matching packages only', async () => {
    const { tree } = await api();
    tree.filter = 'uti';
    try {
      const pkgs = tree.getChildren(find(tree.getChildren(), 'debug')).filter((n) => n.kind === 'package').map(labelOf);
      assert.deepEqual(pkgs, ['util']);
    } finally {
      tree.filter = '';
    }
  });

  it('a cargo build after a source edit updates the tree without a manual refresh (watcher)', async () => {
    const a = await api();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const libOf = () => a.explorer.folders[0]!.result!.buildDirs[0]!.profiles.find((p) => p.name === 'debug')!.units.find((u) => u.package === 'app' && u.kind === 'lib' && u.mode === 'build');
    const before = libOf();
    assert.ok(before?.builtAt);
    const resultBefore = a.explorer.folders[0]!.result;
    fs.appendFileSync(path.join(ws, 'app', 'src', 'lib.rs'), '\n// edited by the watcher test\n');
    const r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout'], { cwd: ws, env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const deadline = Date.now() + 30000;
    while ((libOf()?.builtAt ?? 0) <= before.builtAt!) {
      if (Date.now() > deadline) throw new Error('the tree did not pick up the rebuilt unit within 30 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.notEqual(a.explorer.folders[0]!.result, resultBefore, 'a new model was produced by the watcher');
    assert.ok(a.live.watchCount(a.explorer.folders[0]!) > 0);
    const lib = find(a.tree.getChildren(find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'app')), 'lib app');
    assert.equal(lib.kind === 'unit' ? lib.unit.builtAt : 0, libOf()!.builtAt);
  });
});

