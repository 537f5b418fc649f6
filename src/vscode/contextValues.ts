// Each node's contextValue, as `key=value` pairs joined by `;` (matched in package.json with
// `viewItem =~ /(^|;)k=v(;|$)/`). Free of the vscode module, so the manifest-contract test can compute the
// values of real nodes and check every `when` clause against them.

import * as path from 'node:path';
import type { Node } from './nodes';

export function contextValue(pairs: Record<string, string | number | boolean | null | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined && v !== null && v !== false)
    .map(([k, v]) => `${k}=${v === true ? 1 : v}`)
    .join(';');
}

export function contextValueOf(node: Node): string {
  switch (node.kind) {
    case 'unit':
      return contextValue({ kind: 'unit', mode: node.unit.mode, layout: node.unit.layout, failed: node.unit.lastBuildFailed, outDir: node.outDir, path: true });
    case 'part': {
      const isFile = node.part.name === 'deps' || node.part.name === 'examples';
      const outDir = node.part.name === 'out' && node.unit.mode === 'run-custom-build';
      return contextValue({ kind: 'part', part: node.part.name, outDir, file: isFile, path: true });
    }
    case 'entry':
      // A file in a build-script run's OUT_DIR can be compared with the same file in the current OUT_DIR.
      return contextValue({ kind: 'entry', file: !node.dir, outDirFile: !node.dir && node.unit?.mode === 'run-custom-build' && isInOut(node.path, node.unit.paths[0]), path: true });
    case 'buildDir':
    case 'profile':
    case 'crate':
    case 'session':
      return contextValue({ kind: node.kind, path: true });
    default:
      return contextValue({ kind: node.kind });
  }
}

function isInOut(file: string, unitDir: string | undefined): boolean {
  return unitDir !== undefined && file.startsWith(path.join(unitDir, 'out') + path.sep);
}

/** A row of the Last Build view: a unit of the logged build, joined to a unit folder or not. */
export function lastBuildRowContextValue(joined: boolean): string {
  return contextValue({ kind: 'buildUnit', joined });
}
