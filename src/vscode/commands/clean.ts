// Clean Unit, Clean Package, Clean Incremental Data and Clean All Stale…: each turns what the user chose into
// the core's clean items and hands them to the shared flow (../clean.ts: plan → modal → locks → summary).
// From the palette they ask what to clean with a quick pick.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { pickUnit, type CommandContext, type Handler } from './context';
import { cleanWithConfirmation, type CleanGroup } from '../clean';
import type { FolderState } from '../explorer';
import { packagesOf, type Node } from '../nodes';
import type { Profile, Unit } from '../../core/model';
import { itemsForPaths, unitItem } from '../../core/clean';
import type { StaleItem } from '../../core/stale';
import { formatBytes, unitLabel } from '../../core/format';
import { analyzeScan, startStaleInputs, type Staleness } from '../../node/staleness';

const profileName = (p: Profile): string => (p.platform ? `${p.platform}/${p.name}` : p.name);

/** Every profile of every folder's scan, with where it is. */
function profilesOf(ctx: CommandContext): { folder: FolderState; buildDir: string; profile: Profile }[] {
  return ctx.explorer.folders.flatMap((folder) => (folder.result?.buildDirs ?? []).flatMap((b) => b.profiles.map((profile) => ({ folder, buildDir: b.path, profile }))));
}

/** Clean items for units, grouped by workspace folder. */
function unitGroups(ctx: CommandContext, units: readonly Unit[]): CleanGroup[] {
  const wanted = new Set(units.map((u) => u.id));
  const groups = new Map<FolderState, StaleItem[]>();
  for (const { folder, buildDir, profile } of profilesOf(ctx)) {
    for (const u of profile.units) {
      if (!wanted.has(u.id)) continue;
      wanted.delete(u.id);
      groups.set(folder, [...(groups.get(folder) ?? []), unitItem(u, buildDir, profile.id, profile.path)]);
    }
  }
  return [...groups].map(([folder, items]) => ({ folder, items }));
}

/** The tree's own rows of a kind, for every profile: what the palette offers to pick from. */
function rowsOfKind<K extends Node['kind']>(ctx: CommandContext, kind: K): Extract<Node, { kind: K }>[] {
  return profilesOf(ctx).flatMap(({ profile }) =>
    packagesOf(profile, ctx.explorer.config.sortPackagesBy, '').filter((n): n is Extract<Node, { kind: K }> => n.kind === kind),
  );
}

/** The nodes a command runs on: the selection when the clicked node is part of it, else the clicked node. */
function selection(node: Node | undefined, rest: readonly unknown[]): Node[] {
  const selected = Array.isArray(rest[0]) ? (rest[0] as Node[]) : [];
  if (node && selected.some((n) => n.id === node.id)) return selected;
  return node ? [node] : [];
}

export const cleanUnit: Handler = async (ctx, node, ...rest) => {
  let units = selection(node, rest).flatMap((n) => (n.kind === 'unit' ? [n.unit] : []));
  if (units.length === 0) {
    const u = await pickUnit(ctx, undefined, () => true, vscode.l10n.t('Which unit to clean?'));
    if (!u) return;
    units = [u];
  }
  const target =
    units.length === 1
      ? vscode.l10n.t('unit "{0}" of {1} ({2})', unitLabel(units[0]!), units[0]!.package, units[0]!.hash.slice(0, 8))
      : vscode.l10n.t('{0} units', units.length);
  return cleanWithConfirmation(ctx.explorer, ctx.log, target, unitGroups(ctx, units));
};

export const cleanPackage: Handler = async (ctx, node, ...rest) => {
  let picked = selection(node, rest).filter((n): n is Extract<Node, { kind: 'package' | 'legacyGroup' }> => n.kind === 'package' || n.kind === 'legacyGroup');
  if (picked.length === 0) {
    const choices = rowsOfKind(ctx, 'package').map((node) => ({
      label: node.pkg.name,
      description: `${profileName(node.profile)} · ${formatBytes(node.pkg.bytes)}`,
      detail: node.profile.path,
      node,
    }));
    const choice = await vscode.window.showQuickPick(choices, { placeHolder: vscode.l10n.t('Which package to clean?'), matchOnDescription: true });
    if (!choice) return;
    picked = [choice.node];
  }
  const units = picked.flatMap((n) => n.units);
  const first = picked[0]!;
  const target =
    picked.length > 1
      ? vscode.l10n.t('{0} packages ({1} units)', picked.length, units.length)
      : first.kind === 'package'
        ? vscode.l10n.t('package {0} in {1} ({2} units)', first.pkg.name, profileName(first.profile), units.length)
        : vscode.l10n.t('the legacy-layout leftovers in {0} ({1} units)', profileName(first.profile), units.length);
  return cleanWithConfirmation(ctx.explorer, ctx.log, target, unitGroups(ctx, units));
};

export const cleanIncremental: Handler = async (ctx, node, ...rest) => {
  let nodes: Node[] = selection(node, rest).filter((n) => n.kind === 'incremental' || n.kind === 'crate' || n.kind === 'session');
  if (nodes.length === 0) {
    const choices = rowsOfKind(ctx, 'incremental').map((node) => ({
      label: profileName(node.profile),
      description: formatBytes(node.bytes),
      detail: path.join(node.profile.path, 'incremental'),
      node,
    }));
    if (choices.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('There is no incremental data in the build directory.'));
      return;
    }
    const choice = await vscode.window.showQuickPick(choices, { placeHolder: vscode.l10n.t('Clean the incremental data of which profile?') });
    if (!choice) return;
    nodes = [choice.node];
  }
  const paths = nodes.flatMap((n) => (n.kind === 'incremental' ? n.profile.incremental.map((c) => c.path) : n.kind === 'crate' ? [n.crate.path] : n.kind === 'session' ? [n.session.path] : []));
  const groups = new Map<FolderState, string[]>();
  for (const p of paths) {
    const f = ctx.explorer.folderOfPath(p);
    if (!f) continue;
    groups.set(f, [...(groups.get(f) ?? []), p]);
  }
  const cleanGroups: CleanGroup[] = [];
  for (const [folder, ps] of groups) {
    const { items, refused } = itemsForPaths(folder.result!, ps);
    for (const r of refused) ctx.log.warn(`clean incremental: ${r.path}: ${r.message}`);
    cleanGroups.push({ folder, items });
  }
  const first = nodes[0]!;
  const target =
    nodes.length === 1 && first.kind === 'incremental'
      ? vscode.l10n.t('the incremental data of {0} ({1} crate folders)', profileName(first.profile), paths.length)
      : nodes.length === 1 && first.kind === 'crate'
        ? vscode.l10n.t('the incremental data of crate {0}', first.crate.crate)
        : nodes.length === 1 && first.kind === 'session'
          ? vscode.l10n.t('the incremental session {0}', first.session.name)
          : vscode.l10n.t('{0} incremental folders', paths.length);
  return cleanWithConfirmation(ctx.explorer, ctx.log, target, cleanGroups);
};

interface StalePick extends vscode.QuickPickItem {
  readonly folder?: FolderState;
  readonly item?: StaleItem;
}

/** The staleness of every folder's build dirs, with a progress notification (toolchain probes take a moment). */
async function analyzeFolders(ctx: CommandContext): Promise<{ folder: FolderState; analysis: Staleness }[]> {
  const out: { folder: FolderState; analysis: Staleness }[] = [];
  const walker = await ctx.explorer.walkerForTask();
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Looking for stale build data…') }, async () => {
    for (const folder of ctx.explorer.folders) {
      if (!folder.result) continue;
      const inputs = startStaleInputs({ workspaceRoot: folder.result.workspaceRoot, useCargo: vscode.workspace.isTrusted, cargo: ctx.explorer.config.cargoPath });
      const analysis = await analyzeScan(folder.result, walker, inputs, { members: folder.members.map((m) => m.name), idleDays: ctx.explorer.config.staleIdleDays || null });
      for (const n of [...analysis.notes, ...analysis.extraNotes]) ctx.log.info(`stale: ${n}`);
      out.push({ folder, analysis });
    }
  });
  return out;
}

/** Clean All Stale…: every stale item with its reasons in a checklist with a running total, then the flow. */
export const cleanStale: Handler = async (ctx) => {
  // The analysis runs toolchains (rustup, rustc): not in an untrusted workspace.
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Cleaning is turned off in an untrusted workspace. Trust the workspace to clean its build directory.'));
    return { status: 'unavailable', results: [] };
  }
  const analyses = await analyzeFolders(ctx);
  const picks: StalePick[] = [];
  for (const { folder, analysis } of analyses) {
    let profile = '';
    for (const item of analysis.items) {
      if (item.profilePath !== profile) {
        profile = item.profilePath;
        picks.push({ kind: vscode.QuickPickItemKind.Separator, label: ctx.explorer.folders.length > 1 ? `${folder.name}: ${profile}` : profile });
      }
      picks.push({
        label: item.label,
        description: `${formatBytes(item.bytes)} · ${vscode.l10n.t('frees {0}', formatBytes(item.freedBytes))}`,
        detail: item.reasons.map((r) => `${r.reason}: ${r.detail}`).join(' · '),
        picked: true,
        folder,
        item,
      });
    }
  }
  const items = picks.filter((p) => p.item);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Nothing in the build directory is stale.'));
    return { status: 'nothing', results: [] };
  }
  const qp = vscode.window.createQuickPick<StalePick>();
  qp.canSelectMany = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = picks;
  qp.selectedItems = items;
  qp.placeholder = vscode.l10n.t('Uncheck what to keep; the plan and a confirmation follow');
  const retitle = (sel: readonly StalePick[]): void => {
    const freed = sel.reduce((n, p) => n + (p.item?.freedBytes ?? 0), 0);
    qp.title = vscode.l10n.t('Clean All Stale: {0} of {1} selected, frees {2}', sel.length, items.length, formatBytes(freed));
  };
  retitle(qp.selectedItems);
  const chosen = await new Promise<readonly StalePick[] | undefined>((resolve) => {
    qp.onDidChangeSelection(retitle);
    qp.onDidAccept(() => {
      resolve(qp.selectedItems);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!chosen || chosen.length === 0) return { status: 'not-confirmed', results: [] };
  const groups = new Map<FolderState, StaleItem[]>();
  for (const p of chosen) if (p.folder && p.item) groups.set(p.folder, [...(groups.get(p.folder) ?? []), p.item]);
  const target = chosen.length === 1 ? chosen[0]!.label : vscode.l10n.t('{0} stale items', chosen.length);
  return cleanWithConfirmation(ctx.explorer, ctx.log, target, [...groups].map(([folder, its]) => ({ folder, items: its })));
};
