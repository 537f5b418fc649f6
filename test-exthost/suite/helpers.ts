// Shared by the extension-host suites: the activated extension's API once its first scan is in, tree lookups
// by label, waiting on a condition with a deadline (never a bare sleep), and cargo on the test workspace.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { Api } from '../../src/extension';
import type { Node } from '../../src/vscode/nodes';
import type { Unit } from '../../src/core/model';
import { toTreeItem } from '../../src/vscode/treeItem';

const EXTENSION_ID = 'cargo-build-dir.cargo-build-dir-explorer';

export async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  assert.ok(ext, 'the extension is installed');
  const a = await ext.activate();
  await until('a scan result', () => !!a.explorer.folders[0]?.result && !a.explorer.folders[0].scanning);
  return a;
}

export function extensionPath(): string {
  return vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
}

export function labelOf(n: Node): string {
  const l = toTreeItem(n).label;
  return typeof l === 'string' ? l : (l?.label ?? '');
}

export function find(children: readonly Node[], label: string): Node {
  const n = children.find((c) => labelOf(c) === label);
  assert.ok(n, `no "${label}" among ${children.map(labelOf).join(', ')}`);
  return n;
}

export async function until(what: string, cond: () => boolean, ms = 60000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function workspaceDir(): string {
  return vscode.workspace.workspaceFolders![0]!.uri.fsPath;
}

/** `cargo build` of the test workspace in layout v2, as the suite's workspace was built. */
export function cargoBuild(ws: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout', ...extra], { cwd: ws, env: { ...process.env, RUSTC_BOOTSTRAP: '1', ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

export function debugUnits(a: Api): readonly Unit[] {
  return a.explorer.folders[0]!.result!.buildDirs[0]!.profiles.find((p) => p.name === 'debug')!.units;
}
