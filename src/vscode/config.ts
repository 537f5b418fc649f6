// Settings under `cargoBuildDir.*`, read in one place so that every setting the manifest declares is read
// somewhere (the manifest-contract test checks this file against package.json).

import * as vscode from 'vscode';
import type { SortOrder } from './nodes';

export interface Config {
  readonly cargoPath: string;
  readonly extraBuildDirs: readonly string[];
  readonly sortPackagesBy: SortOrder;
  readonly useTrash: boolean;
  readonly watch: boolean;
  /** Units not built for this many days are called idle (a guess, labelled so); 0 = off. */
  readonly staleIdleDays: number;
}

export function readConfig(scope?: vscode.ConfigurationScope): Config {
  const c = vscode.workspace.getConfiguration('cargoBuildDir', scope);
  const sort = c.get<string>('sortPackagesBy', 'size');
  return {
    cargoPath: c.get<string>('cargoPath', 'cargo') || 'cargo',
    extraBuildDirs: c.get<string[]>('extraBuildDirs', []).filter((s) => typeof s === 'string' && s.trim() !== ''),
    sortPackagesBy: sort === 'name' ? 'name' : 'size',
    useTrash: c.get<boolean>('useTrash', false),
    watch: c.get<boolean>('watch', true),
    staleIdleDays: Math.max(0, Math.floor(Number(c.get<number>('staleIdleDays', 0)) || 0)),
  };
}
