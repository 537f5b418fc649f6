// The one place where a node becomes a TreeItem: label, description, icon, contextValue, command. Tooltips
// are left out here and resolved lazily (tree.ts `resolveTreeItem`), since they read more of the model.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Node } from './nodes';
import { pathOf } from './nodes';
import { contextValueOf } from './contextValues';
import { formatAge, formatBytes, unitLabel } from '../core/format';
import type { Unit } from '../core/model';
import type { ToolchainLike } from '../core/stale';
import { nameToolchain } from '../core/explain';

const { Collapsed, None } = vscode.TreeItemCollapsibleState;


function unitIcon(u: Unit): vscode.ThemeIcon {
  if (u.lastBuildFailed) return new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  if (u.mode === 'doc') return new vscode.ThemeIcon('book');
  if (u.mode === 'check') return new vscode.ThemeIcon('check');
  if (u.mode === 'test') return new vscode.ThemeIcon('beaker');
  switch (u.kind) {
    case 'build-script':
      return new vscode.ThemeIcon(u.mode === 'run-custom-build' ? 'run' : 'tools');
    case 'proc-macro':
      return new vscode.ThemeIcon('symbol-event');
    case 'lib':
      return new vscode.ThemeIcon('library');
    case 'bin':
    case 'example':
      return new vscode.ThemeIcon('terminal');
    case 'bench':
      return new vscode.ThemeIcon('dashboard');
    default:
      return new vscode.ThemeIcon('question');
  }
}

export function toTreeItem(node: Node, now: number = Date.now()): vscode.TreeItem {
  const item = new vscode.TreeItem('', Collapsed);
  item.id = node.id;
  switch (node.kind) {
    case 'folder':
      item.label = node.name;
      item.iconPath = new vscode.ThemeIcon('root-folder');
      break;
    case 'message':
      item.label = node.text;
      item.description = node.detail;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.collapsibleState = None;
      break;
    case 'buildDir': {
      const b = node.buildDir;
      item.label = b.path;
      item.description = `${formatBytes(b.bytes)} · ${b.role === 'both' ? vscode.l10n.t('build and target dir') : b.role === 'build-dir' ? vscode.l10n.t('build dir') : vscode.l10n.t('target dir')}`;
      item.iconPath = new vscode.ThemeIcon('file-submodule');
      break;
    }
    case 'profile': {
      const pr = node.profile;
      item.label = pr.platform ? `${pr.platform}/${pr.name}` : pr.name;
      item.description = `${formatBytes(pr.bytes)} · ${vscode.l10n.t('{0} units', pr.units.length)}${pr.layouts.length > 1 ? ' · ' + vscode.l10n.t('mixed layouts') : pr.layouts[0] === 'legacy' ? ' · ' + vscode.l10n.t('legacy layout') : ''}`;
      item.iconPath = new vscode.ThemeIcon('layers');
      break;
    }
    case 'package':
      item.label = node.pkg.name;
      item.description = `${formatBytes(node.pkg.bytes)} · ${node.units.length === 1 ? vscode.l10n.t('1 unit') : vscode.l10n.t('{0} units', node.units.length)}`;
      item.iconPath = new vscode.ThemeIcon('package');
      break;
    case 'legacyGroup':
      item.label = vscode.l10n.t('Legacy layout leftovers');
      item.description = `${formatBytes(node.bytes)} · ${vscode.l10n.t('{0} units', node.units.length)}`;
      item.iconPath = new vscode.ThemeIcon('archive');
      break;
    case 'unit': {
      const u = node.unit;
      item.label = unitLabel(u);
      const parts = [u.hash.slice(0, 8), formatBytes(u.bytes)];
      if (u.builtAt) parts.push(formatAge(u.builtAt, now));
      if (u.lastBuildFailed) parts.push(vscode.l10n.t('last build failed'));
      if (node.outDir === 'current') parts.unshift(vscode.l10n.t('current OUT_DIR'));
      else if (node.outDir === 'older') parts.unshift(vscode.l10n.t('older OUT_DIR'));
      item.description = parts.join(' · ');
      item.iconPath = unitIcon(u);
      item.collapsibleState = u.parts.length ? Collapsed : None;
      break;
    }
    case 'part': {
      const part = node.part;
      const out = part.name === 'out' && node.unit.mode === 'run-custom-build';
      item.label = part.name === 'deps' || part.name === 'examples' ? path.basename(part.path) : part.name;
      item.description = [out ? 'OUT_DIR' : part.name === 'run' ? vscode.l10n.t('build-script output') : '', formatBytes(part.bytes)].filter(Boolean).join(' · ');
      item.resourceUri = vscode.Uri.file(part.path);
      const isFile = part.name === 'deps' || part.name === 'examples';
      item.collapsibleState = isFile ? None : Collapsed;
      if (isFile) item.command = { command: 'cargoBuildDir.open', title: vscode.l10n.t('Open'), arguments: [node] };
      else item.iconPath = vscode.ThemeIcon.Folder;
      break;
    }
    case 'entry':
      item.label = path.basename(node.path);
      item.resourceUri = vscode.Uri.file(node.path);
      item.collapsibleState = node.dir ? Collapsed : None;
      item.iconPath = node.dir ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
      if (!node.dir) item.command = { command: 'cargoBuildDir.open', title: vscode.l10n.t('Open'), arguments: [node] };
      break;
    case 'incremental':
      item.label = vscode.l10n.t('Incremental');
      item.description = `${formatBytes(node.bytes)} · ${vscode.l10n.t('{0} crate folders', node.profile.incremental.length)}`;
      item.iconPath = new vscode.ThemeIcon('history');
      break;
    case 'crate':
      item.label = node.crate.crate;
      item.description = `${formatBytes(node.crate.bytes)} · ${vscode.l10n.t('{0} sessions', node.crate.sessions.length)}`;
      item.iconPath = new vscode.ThemeIcon('folder-library');
      item.collapsibleState = node.crate.sessions.length ? Collapsed : None;
      break;
    case 'session': {
      const s = node.session;
      item.label = s.name;
      item.description = [formatBytes(s.bytes), s.startedAt ? formatAge(s.startedAt, now) : '', s.working ? vscode.l10n.t('unfinished') : ''].filter(Boolean).join(' · ');
      item.iconPath = new vscode.ThemeIcon(s.working ? 'loading' : 'history');
      item.collapsibleState = None;
      break;
    }
    case 'other':
      item.label = vscode.l10n.t('Other');
      item.description = formatBytes(node.bytes);
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      break;
    case 'bucket':
      item.label = node.bucket.name;
      item.description = formatBytes(node.bucket.bytes);
      item.iconPath = new vscode.ThemeIcon('files');
      break;
  }
  item.contextValue = contextValueOf(node);
  // Screen readers read the label and size, not the tooltip or the resource path.
  const label = typeof item.label === 'string' ? item.label : ((item.label as vscode.TreeItemLabel | undefined)?.label ?? '');
  item.accessibilityInformation = { label: [label, typeof item.description === 'string' ? item.description : ''].filter(Boolean).join(', ') };
  return item;
}

/** The tooltip, built only when the user hovers a node. */
export function tooltipOf(node: Node, toolchains: readonly ToolchainLike[] | null = null): vscode.MarkdownString | undefined {
  const md = new vscode.MarkdownString(undefined, true);
  md.supportThemeIcons = true;
  const row = (k: string, v: string | null | undefined): void => {
    if (v) md.appendMarkdown(`**${k}**: ${escape(v)}  \n`);
  };
  switch (node.kind) {
    case 'unit': {
      const u = node.unit;
      md.appendMarkdown(`**${escape(unitLabel(u))}**  \n`);
      row(vscode.l10n.t('Package'), `${u.package}${u.version ? ` ${u.version}` : ''}`);
      row(vscode.l10n.t('Source'), u.source ? `${u.source.kind}${u.source.detail ? ` (${u.source.detail})` : ''}` : null);
      row(vscode.l10n.t('Features'), u.features ? u.features.join(', ') || vscode.l10n.t('none') : vscode.l10n.t('unknown'));
      row(vscode.l10n.t('Mode'), u.mode);
      // The unit id is `<build dir>#<platform|host>/<profile>/<package>/<hash>`: profile and platform from it.
      const [platform, profile] = (u.id.slice(u.id.lastIndexOf('#') + 1).split('/') as [string?, string?]);
      row(vscode.l10n.t('Profile'), profile);
      row(vscode.l10n.t('Platform'), platform === 'host' ? vscode.l10n.t('host') : platform);
      row(vscode.l10n.t('Layout'), u.layout === 'v2' ? 'v2 (build/<package>/<hash>)' : vscode.l10n.t('legacy'));
      row(vscode.l10n.t('Toolchain'), u.rustc ? nameToolchain(u.rustc, toolchains).words : null);
      row(vscode.l10n.t('Built'), u.builtAt ? `${new Date(u.builtAt).toLocaleString()} (${formatAge(u.builtAt)})` : null);
      row(vscode.l10n.t('Size'), `${formatBytes(u.bytes)}; ${vscode.l10n.t('deleting it frees {0}', formatBytes(u.freedBytes))}`);
      row(vscode.l10n.t('Dependencies'), u.deps.length ? u.deps.map((d) => d.name).join(', ') : null);
      if (u.lastBuildFailed) md.appendMarkdown(`$(error) ${escape(vscode.l10n.t('The last build of this unit failed or was interrupted.'))}  \n`);
      for (const s of u.stale) md.appendMarkdown(`$(trash) ${escape(`${s.reason}: ${s.detail}`)}  \n`);
      for (const pr of u.problems) md.appendMarkdown(`$(warning) ${escape(pr)}  \n`);
      for (const p of u.paths) md.appendMarkdown(`\n\`${p}\``);
      return md;
    }
    case 'profile':
      row(vscode.l10n.t('Folder'), node.profile.path);
      row(vscode.l10n.t('Platform'), node.profile.platform ?? vscode.l10n.t('host'));
      row(vscode.l10n.t('Locks'), node.profile.locks.join(', '));
      return md;
    case 'session':
      row(vscode.l10n.t('Started'), node.session.startedAt ? new Date(node.session.startedAt).toLocaleString() : null);
      row(vscode.l10n.t('Folder'), node.session.path);
      return md;
    default: {
      const p = pathOf(node);
      return p ? new vscode.MarkdownString(`\`${p}\``) : undefined;
    }
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
