// Open Build-Script Output and Show Fingerprint. The fingerprint is a read-only virtual document rendered by
// the same code as `cargo-build-dir show`, with dependencies resolved to the units they point at.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { allUnits, pickUnit, type CommandContext, type Handler } from './context';
import { readUnitDetails } from '../../core/inspect';
import { renderDetails } from '../../core/render';
import { unitLabel } from '../../core/format';
import type { Unit } from '../../core/model';

export const FINGERPRINT_SCHEME = 'cargo-build-dir-unit';

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
  if (!unit) return;
  const uri = vscode.Uri.from({ scheme: FINGERPRINT_SCHEME, path: `/${unitLabel(unit).replace(/[/\\]/g, '_')} ${unit.hash}.txt`, query: encodeURIComponent(unit.id) });
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true });
};

export class FingerprintDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly ctx: CommandContext) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = decodeURIComponent(uri.query);
    const units = allUnits(this.ctx);
    const unit = units.find((u) => u.id === id);
    if (!unit) return vscode.l10n.t('This unit is no longer in the build directory (rebuilt or cleaned).');
    const profilePrefix = id.slice(0, id.lastIndexOf('/', id.lastIndexOf('/') - 1));
    const byFingerprint = new Map<string, Unit>();
    for (const u of units) if (u.fingerprintHash && u.id.startsWith(profilePrefix + '/')) byFingerprint.set(u.fingerprintHash, u);
    return renderDetails(readUnitDetails(unit), byFingerprint);
  }
}
