// The inspect commands and their read-only documents: Show Fingerprint (the fingerprint explained in words,
// then the raw decode of `cargo-build-dir show`), Show Build-Script Run (directives grouped, stderr, missing
// rerun-if-changed paths), Compare Units (only what differs), Compare with Current OUT_DIR (VS Code's diff),
// and Open Build-Script Output (`run/stdout` itself). Documents are virtual (scheme below), rendered from the
// current scan each time they are opened, and their unit hashes and file paths are links.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { allUnits, pickUnit, type CommandContext, type Handler } from './context';
import type { Node } from '../nodes';
import type { Inspector } from '../inspector';
import type { Unit } from '../../core/model';
import { readUnitDetails } from '../../core/inspect';
import { renderBuildRun, renderComparison, renderDetails, renderExplanation } from '../../core/render';
import { explainFingerprint } from '../../core/explain';
import { buildRunReport } from '../../core/buildrun';
import { compareUnits as compare } from '../../core/compare';
import { unitLabel } from '../../core/format';

export const FINGERPRINT_SCHEME = 'cargo-build-dir-unit';

type DocKind = 'fingerprint' | 'buildrun' | 'compare';

export function documentUri(kind: DocKind, units: readonly Unit[]): vscode.Uri {
  const name = units.length === 1 ? `${unitLabel(units[0]!)} ${units[0]!.hash}` : `${units[0]!.package} × ${units.length}`;
  const title = kind === 'fingerprint' ? 'fingerprint' : kind === 'buildrun' ? 'build-script run' : 'comparison';
  return vscode.Uri.from({
    scheme: FINGERPRINT_SCHEME,
    path: `/${`${name} (${title})`.replace(/[/\\]/g, '_')}.txt`,
    query: new URLSearchParams({ kind, ids: units.map((u) => u.id).join('\n') }).toString(),
  });
}

async function showDocument(uri: vscode.Uri, column?: vscode.ViewColumn): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: column });
}

export const openBuildScriptOutput: Handler = async (ctx, node) => {
  const unit = await pickUnit(ctx, node, (u) => u.mode === 'run-custom-build', vscode.l10n.t('Which build-script run?'));
  if (!unit) return;
  const base = unit.paths[0] ?? '';
  const candidates = unit.layout === 'v2' ? [path.join(base, 'run', 'stdout')] : unit.paths.map((p) => path.join(p, 'output'));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    void vscode.window.showWarningMessage(vscode.l10n.t('This build-script run has no output file: it may have been cleaned.'));
    return;
  }
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
};

export const showFingerprint: Handler = async (ctx, node) => {
  const unit = await pickUnit(ctx, node, () => true, vscode.l10n.t('Which unit?'));
  if (unit) await showDocument(documentUri('fingerprint', [unit]));
};

export const showBuildScriptRun: Handler = async (ctx, node) => {
  const unit = await pickUnit(ctx, node, (u) => u.mode === 'run-custom-build', vscode.l10n.t('Which build-script run?'));
  if (unit) await showDocument(documentUri('buildrun', [unit]));
};

/** Compare Units: the selected units of one package, or the clicked one and others picked from a list. */
export const compareUnits: Handler = async (ctx, node, ...rest) => {
  const selected = (Array.isArray(rest[0]) ? (rest[0] as Node[]) : node ? [node] : []).flatMap((n) => (n.kind === 'unit' ? [n.unit] : []));
  let units = selected;
  if (units.length < 2) {
    const first = units[0] ?? (await pickUnit(ctx, undefined, () => true, vscode.l10n.t('Compare which unit?')));
    if (!first) return;
    const others = allUnits(ctx).filter((u) => u.package === first.package && u.id !== first.id);
    if (others.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} has only one unit in the build directory: nothing to compare.', first.package));
      return;
    }
    const picked = await vscode.window.showQuickPick(
      others.map((u) => ({ label: unitLabel(u), description: `${u.hash.slice(0, 8)} · ${u.features?.join(', ') || vscode.l10n.t('no features')}`, detail: u.paths[0], unit: u })),
      { canPickMany: true, placeHolder: vscode.l10n.t('Compare {0} with which units of {1}?', unitLabel(first), first.package) },
    );
    if (!picked || picked.length === 0) return;
    units = [first, ...picked.map((p) => p.unit)];
  }
  if (new Set(units.map((u) => u.package)).size > 1) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Compare Units compares units of one package; the selection spans several.'));
    return;
  }
  await showDocument(documentUri('compare', units));
};

/** Compare with Current OUT_DIR: a file of an older build-script run against the same file in the current run. */
export const compareWithCurrentOutDir: Handler = async (ctx, node) => {
  if (node?.kind !== 'entry' || !node.unit) return;
  const set = ctx.inspector.outDirSetOf(node.unit);
  const own = path.join(node.unit.paths[0] ?? '', 'out');
  const current = set?.current;
  if (!set || !current) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No current OUT_DIR is known for {0}.', node.unit.package));
    return;
  }
  if (current.unit === node.unit) {
    void vscode.window.showInformationMessage(vscode.l10n.t('This file is in the current OUT_DIR of {0}.', node.unit.package));
    return;
  }
  const rel = path.relative(own, node.path);
  const other = path.join(current.outDir, rel);
  if (!fs.existsSync(other)) {
    void vscode.window.showInformationMessage(vscode.l10n.t('The current OUT_DIR of {0} has no {1}.', node.unit.package, rel));
    return;
  }
  await vscode.commands.executeCommand(
    'vscode.diff',
    vscode.Uri.file(node.path),
    vscode.Uri.file(other),
    vscode.l10n.t('{0}: {1} ({2}) ↔ current ({3})', node.unit.package, rel, node.unit.hash.slice(0, 8), current.unit.hash.slice(0, 8)),
  );
};

/** The virtual documents, rendered from the current scan (so a rebuilt or cleaned unit says so). */
export class InspectDocuments implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider, vscode.Disposable {
  private readonly inspector: Inspector;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  dispose(): void {
    this.changed.dispose();
  }

  /** The model changed: open documents render again (a rebuilt unit keeps its id, so its URI is the same). */
  refreshOpen(): void {
    for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === FINGERPRINT_SCHEME) this.changed.fire(d.uri);
  }

  constructor(private readonly ctx: CommandContext) {
    this.inspector = ctx.inspector;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const kind = (q.get('kind') ?? 'fingerprint') as DocKind;
    const ids = (q.get('ids') ?? '').split('\n').filter(Boolean);
    const units = allUnits(this.ctx);
    const picked = ids.map((id) => units.find((u) => u.id === id));
    if (picked.length === 0 || picked.some((u) => !u)) return vscode.l10n.t('This unit is no longer in the build directory (rebuilt or cleaned).');
    const chosen = picked as Unit[];
    const folder = this.inspector.folderOfUnit(chosen[0]!);
    const scan = folder?.result;
    if (!scan) return vscode.l10n.t('This unit is no longer in the build directory (rebuilt or cleaned).');
    const toolchains = await this.inspector.installedToolchains();
    try {
      switch (kind) {
        case 'fingerprint': {
          const unit = chosen[0]!;
          const details = readUnitDetails(unit);
          const explained = renderExplanation(explainFingerprint(details, { scan, toolchains, workspaceRoot: scan.workspaceRoot }));
          const profilePrefix = unit.id.slice(0, unit.id.lastIndexOf('/', unit.id.lastIndexOf('/') - 1));
          const byFingerprint = new Map<string, Unit>();
          for (const u of units) if (u.fingerprintHash && u.id.startsWith(profilePrefix + '/')) byFingerprint.set(u.fingerprintHash, u);
          return `${explained}\n${'─'.repeat(100)}\n${vscode.l10n.t('Everything cargo keeps for this unit, decoded:')}\n\n${renderDetails(details, byFingerprint)}`;
        }
        case 'buildrun':
          return renderBuildRun(buildRunReport(readUnitDetails(chosen[0]!), { scan, workspaceRoot: scan.workspaceRoot }));
        case 'compare':
          return renderComparison(compare(chosen, { scan, toolchains }));
      }
    } catch (e) {
      return vscode.l10n.t('Could not read this unit: {0}', (e as Error).message);
    }
    return '';
  }

  /** Unit hashes and fingerprints open that unit's fingerprint document; absolute paths that exist open the file. */
  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    const units = allUnits(this.ctx);
    const byHash = new Map<string, Unit>();
    for (const u of units) {
      byHash.set(u.hash, u);
      if (u.fingerprintHash) byHash.set(u.fingerprintHash, u);
    }
    const links: vscode.DocumentLink[] = [];
    const text = doc.getText();
    for (const m of text.matchAll(/\b[0-9a-f]{16}\b/g)) {
      const u = byHash.get(m[0]);
      if (!u) continue;
      const range = new vscode.Range(doc.positionAt(m.index!), doc.positionAt(m.index! + m[0].length));
      const link = new vscode.DocumentLink(range, documentUri('fingerprint', [u]));
      link.tooltip = vscode.l10n.t('Show the fingerprint of {0}', unitLabel(u));
      links.push(link);
    }
    for (const m of text.matchAll(/(?<=^|\s)((?:\/|[A-Za-z]:[\\/])[^\s]*[^\s.,;:)])/gm)) {
      const p = m[1]!;
      if (!fs.existsSync(p)) continue;
      links.push(new vscode.DocumentLink(new vscode.Range(doc.positionAt(m.index!), doc.positionAt(m.index! + p.length)), vscode.Uri.file(p)));
    }
    return links;
  }
}
