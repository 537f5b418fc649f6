// The manifest contract: package.json and the code agree. Every contributed command has a handler (and every
// handler is contributed), every `viewItem` pattern in a `when` clause matches a contextValue that real tree
// nodes produce (nodes of a real cargo build), every setting is read, and the packaging allowlist holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT } from './helpers/fixtures';
import { NodeWalker } from '../src/core/nodewalk';
import { scanBuildDirs } from '../src/core/scan';
import { bucketNodes, crateNodes, packagesOf, partChildren, sessionNodes, unitChildren, type Node } from '../src/vscode/nodes';
import { contextValueOf, lastBuildRowContextValue } from '../src/vscode/contextValues';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

test('every contributed command has a handler, and every handler is contributed', () => {
  const table = fs.readFileSync(path.join(REPO_ROOT, 'src', 'vscode', 'commands', 'index.ts'), 'utf8');
  const handled = new Set([...table.matchAll(/^\s*'(cargoBuildDir\.[A-Za-z]+)':/gm)].map((m) => m[1]));
  const contributed = new Set((contributes.commands as { command: string }[]).map((c) => c.command));
  assert.deepEqual([...contributed].sort(), [...handled].sort());
  for (const c of contributes.commands) assert.equal(c.category, 'Cargo Build Dir', `${c.command} category`);
  const menus = Object.values(contributes.menus).flat() as { command: string }[];
  for (const m of menus) assert.ok(contributed.has(m.command) || m.command.endsWith('.focus'), `menu names ${m.command}`);
});

test('every viewItem pattern matches a contextValue real nodes produce, and inline actions stay ≤ 3', async (t) => {
  const fx = fixtureOrSkip(t, 'mixed');
  if (!fx) return;
  const walker = new NodeWalker();
  const r = await scanBuildDirs([{ path: fx.buildDir, role: 'both', discovery: 'given path' }], { walker });
  walker.close();
  const values = new Set<string>();
  const visit = (nodes: readonly Node[], depth: number): void => {
    for (const n of nodes) {
      values.add(contextValueOf(n));
      if (depth > 6) continue;
      const kids: Node[] =
        n.kind === 'package' || n.kind === 'legacyGroup'
          ? n.units.map((unit) => ({ kind: 'unit', id: unit.id, unit }))
          : n.kind === 'unit'
            ? unitChildren(n.unit)
            : n.kind === 'part'
              ? partChildren(n)
              : n.kind === 'incremental'
                ? crateNodes(n.profile)
                : n.kind === 'crate'
                  ? sessionNodes(n.crate)
                  : n.kind === 'other'
                    ? bucketNodes(n)
                    : [];
      visit(kids, depth + 1);
    }
  };
  for (const p of r.buildDirs[0]!.profiles) visit([{ kind: 'profile', id: p.id, profile: p }, ...packagesOf(p, 'size', '')], 0);
  // Each view's rows: the Build Directory tree's from a real scan; the Last Build view's two kinds of rows.
  const byView = new Map<string, Set<string>>([
    ['cargoBuildDir.tree', values],
    ['cargoBuildDir.lastBuild', new Set([lastBuildRowContextValue(true), lastBuildRowContextValue(false)])],
  ]);
  const clauses = (Object.values(contributes.menus).flat() as { when?: string; group?: string; command: string }[]).filter((m) => m.when?.includes('viewItem'));
  assert.ok(clauses.length > 0);
  for (const m of clauses) {
    const view = /view == (\S+)/.exec(m.when!)?.[1];
    const rows = view ? byView.get(view) : undefined;
    assert.ok(rows, `${m.command}: a viewItem clause names a view with rows: ${m.when}`);
    for (const [, re] of m.when!.matchAll(/viewItem =~ \/(.+?)\/(?:\s|$)/g)) {
      const rx = new RegExp(re!);
      assert.ok([...rows].some((v) => rx.test(v)), `${m.command}: /${re}/ matches none of ${[...rows].join(' | ')}`);
    }
  }
  // At most three inline actions can show on any one node.
  const inline = clauses.filter((m) => m.group?.startsWith('inline'));
  for (const v of values) {
    const shown = inline.filter((m) => [...m.when!.matchAll(/viewItem =~ \/(.+?)\/(?:\s|$)/g)].every(([, re]) => new RegExp(re!).test(v)));
    assert.ok(shown.length <= 3, `${v}: ${shown.length} inline actions`);
  }
});

test('every setting is read in config.ts, under cargoBuildDir.*', () => {
  const config = fs.readFileSync(path.join(REPO_ROOT, 'src', 'vscode', 'config.ts'), 'utf8');
  for (const key of Object.keys(contributes.configuration.properties)) {
    assert.match(key, /^cargoBuildDir\./);
    assert.ok(config.includes(`'${key.slice('cargoBuildDir.'.length)}'`), `${key} is read`);
  }
});

test('the manifest states what the product needs', () => {
  assert.equal(pkg.engines.vscode, '^1.100.0');
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.equal(pkg.capabilities.virtualWorkspaces.supported, false);
  assert.equal(pkg.bin['cargo-build-dir'], 'dist/cli.js');
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/Cargo.toml'));
  const ignore = fs.readFileSync(path.join(REPO_ROOT, '.vscodeignore'), 'utf8').split('\n');
  assert.equal(ignore.find((l) => l.trim() && !l.startsWith('#')), '**', '.vscodeignore is an allowlist');
});
