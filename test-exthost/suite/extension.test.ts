// The extension in a real VS Code extension host, on a sample workspace that real cargo built just before
// (layout v2): activation, the tree model behind the view, every command, the fingerprint document.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { spawn, spawnSync } from 'node:child_process';
import { api, cargoBuild, debugUnits, extensionPath, find, labelOf, until } from './helpers';
import type { Node } from '../../src/vscode/nodes';
import { toTreeItem } from '../../src/vscode/treeItem';
import { formatBytes } from '../../src/core/format';

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
    // The tooltip, resolved on hover: version and source, features, profile, platform, toolchain by name, freed bytes.
    const tip = (await tree.resolveTreeItem(toTreeItem(run), run)).tooltip as vscode.MarkdownString;
    for (const re of [/\*\*Package\*\*: app 0\.3\.1/, /\*\*Source\*\*: path/, /\*\*Profile\*\*: debug/, /\*\*Platform\*\*: host/, /\*\*Toolchain\*\*: stable \d/, /deleting it frees/]) {
      assert.match(tip.value.replace(/\\(.)/g, '$1'), re);
    }
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
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionPath(), 'package.json'), 'utf8'));
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

  it('a binary file opens in the binary placeholder, never as text; Open to the Side opens in another group', async () => {
    const { tree } = await api();
    const util = find(tree.getChildren(find(tree.getChildren(), 'debug')), 'util');
    const lib = tree.getChildren(util).find((n) => n.kind === 'unit' && n.unit.kind === 'lib')!;
    const out = tree.getChildren(lib).find((n) => n.kind === 'part' && n.part.name === 'out')!;
    const rlib = tree.getChildren(out).find((n) => n.kind === 'entry' && n.path.endsWith('.rlib'));
    assert.ok(rlib?.kind === 'entry', 'an .rlib in the lib unit');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('cargoBuildDir.open', rlib);
    await until('a tab for the rlib', () => (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined)?.uri?.fsPath === rlib.path, 10000);
    assert.notEqual(vscode.window.activeTextEditor?.document.uri.fsPath, rlib.path, 'not opened as a text document');
    const info = tree.getChildren(find(tree.getChildren(find(tree.getChildren(find(tree.getChildren(), 'debug')), 'app')), 'build script (run) app')).find((n) => n.kind === 'part' && n.part.name === 'out')!;
    const txt = find(tree.getChildren(info), 'info.txt');
    await vscode.commands.executeCommand('cargoBuildDir.openToSide', txt);
    await until('info.txt beside the rlib', () => vscode.window.tabGroups.all.length >= 2 && vscode.window.activeTextEditor?.document.uri.fsPath === (txt.kind === 'entry' ? txt.path : ''), 10000);
    assert.notEqual(vscode.window.activeTextEditor!.viewColumn, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
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

  it('Filter by Package Name (the command, through its input box) keeps matching packages; Clear Filter undoes it', async () => {
    const { tree, view } = await api();
    const win = vscode.window as { showInputBox: unknown };
    const original = win.showInputBox;
    win.showInputBox = () => Promise.resolve('UTI');
    try {
      await vscode.commands.executeCommand('cargoBuildDir.filter');
    } finally {
      win.showInputBox = original;
    }
    const pkgs = tree.getChildren(find(tree.getChildren(), 'debug')).filter((n) => n.kind === 'package').map(labelOf);
    assert.deepEqual(pkgs, ['util']);
    assert.match(view.description ?? '', /filter: uti/);
    await vscode.commands.executeCommand('cargoBuildDir.clearFilter');
    const all = tree.getChildren(find(tree.getChildren(), 'debug')).filter((n) => n.kind === 'package').map(labelOf);
    assert.ok(all.length >= 4, all.join(', '));
    assert.doesNotMatch(view.description ?? '', /filter/);
  });

  it('a cargo build after a source edit updates the tree without a manual refresh (watcher)', async () => {
    const a = await api();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const libOf = () => a.explorer.folders[0]!.result!.buildDirs[0]!.profiles.find((p) => p.name === 'debug')!.units.find((u) => u.package === 'app' && u.kind === 'lib' && u.mode === 'build');
    const before = libOf();
    assert.ok(before?.builtAt);
    const resultBefore = a.explorer.folders[0]!.result;
    const appNode = find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'app');
    // As if the app package were expanded in the view: its unit rows are handed out.
    a.tree.getChildren(appNode);
    const events: (Node | undefined)[] = [];
    const sub = a.tree.onDidChangeTreeData((n) => events.push(n));
    fs.appendFileSync(path.join(ws, 'app', 'src', 'lib.rs'), '\n// edited by the watcher test\n');
    const r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout'], { cwd: ws, env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const deadline = Date.now() + 30000;
    while ((libOf()?.builtAt ?? 0) <= before.builtAt!) {
      if (Date.now() > deadline) throw new Error('the tree did not pick up the rebuilt unit within 30 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    sub.dispose();
    assert.notEqual(a.explorer.folders[0]!.result, resultBefore, 'a new model was produced by the watcher');
    // Only the rows that changed were re-rendered: app's rebuilt units (or its package row, when its size text
    // changed), objects VS Code already holds, updated in place; no redraw of the tree or of the profile row.
    assert.ok(events.length > 0, 'the tree got change events');
    assert.ok(events.every((n) => n !== undefined), `no full redraw: ${events.map((n) => n?.id ?? 'ROOT').join(', ')}`);
    const appUnits = appNode.kind === 'package' ? new Set(appNode.units.map((u) => `unit:${u.id}`)) : new Set<string>();
    assert.ok(events.some((n) => n === appNode || appUnits.has(n!.id)), `app's rows were refreshed: ${events.map((n) => n?.id).join(', ')}`);
    assert.ok(events.every((n) => a.tree.nodeById(n!.id) === n), 'every event names the node object the tree handed out');
    assert.ok(events.every((n) => n!.kind !== 'profile' && n!.kind !== 'buildDir'), `only package rows and below: ${events.map((n) => n?.id).join(', ')}`);
    assert.ok(a.live.watchCount(a.explorer.folders[0]!) > 0);
    const lib = find(a.tree.getChildren(find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'app')), 'lib app');
    assert.equal(lib.kind === 'unit' ? lib.unit.builtAt : 0, libOf()!.builtAt);
  });

  // ----------------------------------------------------------------------------------------------------------
  // Cleaning. The modal confirmation is answered by replacing showWarningMessage for the duration of one
  // command (the UI tests click the real dialog); everything else — plan, locks, deletion — is the product's.

  interface Asked {
    readonly message: string;
    readonly detail: string;
    readonly modal: boolean;
  }

  async function answering<T>(answer: (q: Asked) => string | undefined, fn: () => Thenable<T>): Promise<{ result: T; asked: Asked[] }> {
    const win = vscode.window as { showWarningMessage: unknown };
    const original = win.showWarningMessage;
    const asked: Asked[] = [];
    win.showWarningMessage = (message: string, ...rest: unknown[]) => {
      const opts = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as vscode.MessageOptions) : {};
      const q = { message, detail: opts.detail ?? '', modal: !!opts.modal };
      asked.push(q);
      return Promise.resolve(answer(q));
    };
    try {
      return { result: await fn(), asked };
    } finally {
      win.showWarningMessage = original;
    }
  }

  it('Clean Unit asks with a modal naming the unit and the bytes, deletes exactly that unit, and cargo builds again', async () => {
    const a = await api();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const util = find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'util');
    const lib = a.tree.getChildren(util).find((n) => n.kind === 'unit' && n.unit.kind === 'lib')!;
    assert.ok(lib.kind === 'unit');
    const unit = lib.unit;
    const dir = unit.paths[0]!;
    const others = debugUnits(a).filter((u) => u.id !== unit.id).map((u) => u.paths[0]!);
    const { result, asked } = await answering((q) => (q.modal ? 'Delete' : undefined), () => vscode.commands.executeCommand<{ status: string }>('cargoBuildDir.cleanUnit', lib));
    assert.equal(asked.length, 1, asked.map((q) => q.message).join(' | '));
    assert.ok(asked[0]!.modal);
    assert.match(asked[0]!.message, new RegExp(`lib util.*${unit.hash.slice(0, 8)}`));
    assert.ok(asked[0]!.message.includes(formatBytes(unit.freedBytes)), `${asked[0]!.message} names ${formatBytes(unit.freedBytes)}`);
    assert.ok(asked[0]!.detail.includes(dir), asked[0]!.detail);
    assert.equal(result.status, 'done');
    assert.ok(!fs.existsSync(dir), `${dir} is gone`);
    for (const o of others) assert.ok(fs.existsSync(o), `${o} is untouched`);
    assert.ok(!debugUnits(a).some((u) => u.id === unit.id), 'the unit left the model');
    assert.ok(!a.tree.getChildren(find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'util')).some((n) => n.id === lib.id), 'and the tree');
    cargoBuild(ws);
    assert.ok(fs.existsSync(path.join(dir, 'fingerprint')), 'cargo rebuilt the unit in the same folder');
  });

  it('Clean refuses while cargo holds the build-dir lock, and "Wait for cargo" cleans once it is released', async () => {
    const a = await api();
    const debug = a.explorer.folders[0]!.result!.buildDirs[0]!.profiles.find((p) => p.name === 'debug')!;
    const pm = find(a.tree.getChildren(find(a.tree.getChildren(), 'debug')), 'pmacro');
    assert.ok(pm.kind === 'package');
    const dirs = pm.units.map((u) => u.paths[0]!);
    // cargo 1.95 builds under `<profile>/.cargo-lock`; flock(1) takes it the way cargo does.
    // `-o`: the lock is held by flock itself, not inherited by the command, so killing flock releases it.
    const holder = spawn('flock', ['-o', '-x', path.join(debug.path, '.cargo-lock'), '-c', 'echo locked; exec sleep 120'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const release = (): void => {
      try {
        process.kill(-holder.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    await new Promise<void>((res, rej) => {
      holder.stdout.once('data', () => res());
      holder.once('exit', (c) => rej(new Error(`flock exited ${c}`)));
    });
    try {
      const refused = await answering((q) => (q.modal ? 'Delete' : undefined), () => vscode.commands.executeCommand<{ status: string }>('cargoBuildDir.cleanPackage', pm));
      assert.equal(refused.result.status, 'busy');
      assert.match(refused.asked[1]?.message ?? '', /cargo/i);
      for (const d of dirs) assert.ok(fs.existsSync(d), `${d} survives while cargo holds the lock`);
      const waited = await answering(
        (q) => {
          if (q.modal) return 'Delete';
          release();
          return 'Wait for cargo';
        },
        () => vscode.commands.executeCommand<{ status: string }>('cargoBuildDir.cleanPackage', pm),
      );
      assert.equal(waited.result.status, 'done', waited.asked.map((q) => q.message).join(' | '));
      for (const d of dirs) assert.ok(!fs.existsSync(d), `${d} is gone after the wait`);
    } finally {
      release();
    }
    cargoBuild(vscode.workspace.workspaceFolders![0]!.uri.fsPath);
  });

  it('Clean Incremental Data removes a crate folder only; not confirming deletes nothing', async () => {
    const a = await api();
    const inc = a.tree.getChildren(find(a.tree.getChildren(), 'debug')).find((n) => n.kind === 'incremental')!;
    const crates = a.tree.getChildren(inc);
    const crate = crates[0]!;
    assert.ok(crate.kind === 'crate');
    const kept = await answering(() => undefined, () => vscode.commands.executeCommand<{ status: string }>('cargoBuildDir.cleanIncremental', crate));
    assert.equal(kept.result.status, 'not-confirmed');
    assert.ok(fs.existsSync(crate.crate.path));
    const { result } = await answering((q) => (q.modal ? 'Delete' : undefined), () => vscode.commands.executeCommand<{ status: string }>('cargoBuildDir.cleanIncremental', crate));
    assert.equal(result.status, 'done');
    assert.ok(!fs.existsSync(crate.crate.path));
    for (const c of crates.slice(1)) assert.ok(c.kind === 'crate' && fs.existsSync(c.crate.path), 'other crates stay');
  });

  it('cargo clean empties the view (welcome content) and the next build fills it, without a manual refresh', async () => {
    const a = await api();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const r = spawnSync('cargo', ['clean', '--offline'], { cwd: ws, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await until('the build dir to be gone from the model', () => !a.explorer.hasBuild());
    assert.deepEqual(a.tree.getChildren(), [], 'an empty tree shows the welcome view');
    cargoBuild(ws);
    await until('the new build in the model', () => a.explorer.hasBuild() && debugUnits(a).some((u) => u.package === 'app'));
    assert.ok(a.tree.getChildren().some((n) => labelOf(n) === 'debug'));
  });

  it('a cargo config that moves the target dir moves the view, and moving it back returns', async function () {
    this.timeout(240000);
    const a = await api();
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const config = path.join(ws, '.cargo', 'config.toml');
    const where = (): string | undefined => a.explorer.folders[0]!.result?.buildDirs[0]?.path;
    fs.mkdirSync(path.dirname(config), { recursive: true });
    fs.writeFileSync(config, '[build]\ntarget-dir = "moved-target"\n');
    try {
      await until('the view to follow the config', () => where() === path.join(ws, 'moved-target'), 30000);
      assert.equal(a.explorer.hasBuild(), false, 'nothing built there yet');
      cargoBuild(ws);
      await until('the build in the moved dir', () => a.explorer.hasBuild() && debugUnits(a).some((u) => u.package === 'util'), 120000);
    } finally {
      fs.rmSync(path.dirname(config), { recursive: true, force: true });
    }
    await until('the view to come back to target/', () => where() === path.join(ws, 'target'), 30000);
    fs.rmSync(path.join(ws, 'moved-target'), { recursive: true, force: true });
  });
});
