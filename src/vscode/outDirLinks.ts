// Links on `include!(concat!(env!("OUT_DIR"), "/gen.rs"))` (and include_str!/include_bytes!) in Rust sources:
// the string opens the generated file in the package's current OUT_DIR (src/core/outdir.ts decides which run
// is current). The package is the one whose manifest is nearest to the source file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Inspector } from './inspector';

const INCLUDE = /include(?:_str|_bytes)?!\s*\(\s*concat!\s*\(\s*env!\s*\(\s*"OUT_DIR"\s*\)\s*,\s*"([^"\\]+)"\s*\)\s*\)/g;

/** The `[package] name` of the manifest nearest above `file`, or null (a virtual manifest, or none). */
export function packageOf(file: string): string | null {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'Cargo.toml');
    let text: string | null = null;
    try {
      text = fs.readFileSync(manifest, 'utf8');
    } catch {
      // No manifest here: go up.
    }
    if (text !== null) {
      const section = /^\s*\[package\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
      return /^\s*name\s*=\s*"([^"]+)"/m.exec(section)?.[1] ?? null;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

export class OutDirLinks implements vscode.DocumentLinkProvider {
  constructor(private readonly inspector: Inspector) {}

  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    const text = doc.getText();
    if (!text.includes('OUT_DIR')) return [];
    const pkg = packageOf(doc.uri.fsPath);
    if (!pkg) return [];
    const outDir = this.inspector.currentOutDirFor(pkg, doc.uri.fsPath);
    const links: vscode.DocumentLink[] = [];
    for (const m of text.matchAll(INCLUDE)) {
      const rel = m[1]!;
      const start = m.index! + m[0].indexOf(`"${rel}"`) + 1;
      const range = new vscode.Range(doc.positionAt(start), doc.positionAt(start + rel.length));
      if (!outDir) continue;
      const target = path.join(outDir, rel.replace(/^[\\/]+/, ''));
      const link = new vscode.DocumentLink(range, vscode.Uri.file(target));
      link.tooltip = fs.existsSync(target)
        ? vscode.l10n.t('Open {0} from the current OUT_DIR of {1}', rel, pkg)
        : vscode.l10n.t('{0} is not in the current OUT_DIR of {1} ({2})', rel, pkg, outDir);
      links.push(link);
    }
    return links;
  }
}
