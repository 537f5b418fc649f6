// What every command handler gets: the engine state, the tree, and helpers to find the node a command
// is about when it is run from the palette rather than from a tree item.

import * as vscode from 'vscode';
import type { Explorer } from '../explorer';
import type { BuildDirTree } from '../tree';
import type { Node } from '../nodes';
import type { Inspector } from '../inspector';
import type { LastBuildTree } from '../lastBuild';
import type { Unit } from '../../core/model';
import { formatBytes, unitLabel } from '../../core/format';

export interface CommandContext {
  readonly explorer: Explorer;
  readonly tree: BuildDirTree;
  readonly view: vscode.TreeView<Node>;
  readonly log: vscode.LogOutputChannel;
  readonly inspector: Inspector;
  readonly lastBuild: LastBuildTree;
}

export type Handler = (ctx: CommandContext, node?: Node, ...rest: unknown[]) => unknown;

export function allUnits(ctx: CommandContext): Unit[] {
  return ctx.explorer.folders.flatMap((f) => f.result?.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units)) ?? []);
}

/** The unit a command is about: the tree node it was run on, or one picked from a list. */
export async function pickUnit(ctx: CommandContext, node: Node | undefined, filter: (u: Unit) => boolean, placeHolder: string): Promise<Unit | undefined> {
  if (node?.kind === 'unit' && filter(node.unit)) return node.unit;
  if ((node?.kind === 'part' || node?.kind === 'entry') && node.unit && filter(node.unit)) return node.unit;
  const units = allUnits(ctx).filter(filter);
  if (units.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No unit of that kind in the build directory.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    units.map((u) => ({ label: unitLabel(u), description: `${u.package} ${u.version ?? ''} · ${u.hash.slice(0, 8)} · ${formatBytes(u.bytes)}`, detail: u.paths[0], unit: u })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.unit;
}
