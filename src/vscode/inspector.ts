// What the inspect features need beyond one scan, computed once and kept while it is valid: the installed
// toolchains (one probe per session, in a trusted workspace), and per scan result the OUT_DIR sets of every
// package with a build script (src/core/outdir.ts). Results are keyed by the ScanResult object, which the
// explorer replaces on every change, so nothing here can go stale.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';
import type { ScanResult, Unit } from '../core/model';
import type { ToolchainLike } from '../core/stale';
import { outDirsOf, type PackageOutDirs } from '../core/outdir';
import { findInstalledToolchains } from '../node/toolchains';

export type OutDirRole = 'current' | 'older';

export class Inspector {
  private toolchains: Promise<readonly ToolchainLike[] | null> | null = null;
  private readonly outDirCache = new WeakMap<ScanResult, Map<string, readonly PackageOutDirs[]>>();

  constructor(private readonly explorer: Explorer) {}

  /** Installed toolchains, to name a fingerprint's `rustc` field; null when unknown (untrusted: not probed). */
  installedToolchains(): Promise<readonly ToolchainLike[] | null> {
    if (!vscode.workspace.isTrusted) return Promise.resolve(null);
    this.toolchains ??= findInstalledToolchains({ workspaceRoot: this.explorer.folders[0]?.uri.fsPath ?? null }).then(
      (r) => r.toolchains,
      () => null,
    );
    return this.toolchains;
  }

  folderOfUnit(unit: Unit): FolderState | undefined {
    return this.explorer.folders.find((f) => f.result?.buildDirs.some((b) => b.profiles.some((p) => p.units.includes(unit))));
  }

  /** The OUT_DIRs of a package in one scan, current first per profile folder. */
  outDirs(result: ScanResult, pkg: string): readonly PackageOutDirs[] {
    let byPkg = this.outDirCache.get(result);
    if (!byPkg) this.outDirCache.set(result, (byPkg = new Map()));
    let sets = byPkg.get(pkg);
    if (!sets) {
      try {
        sets = outDirsOf(result, pkg);
      } catch {
        sets = [];
      }
      byPkg.set(pkg, sets);
    }
    return sets;
  }

  /** Whether a build-script run unit holds its package's current OUT_DIR or an older one. */
  outDirRole(unit: Unit): OutDirRole | undefined {
    if (unit.mode !== 'run-custom-build') return undefined;
    const set = this.outDirSetOf(unit);
    if (!set) return undefined;
    return set.current?.unit === unit ? 'current' : 'older';
  }

  /** The current OUT_DIR set that an (older or current) run unit belongs to. */
  outDirSetOf(unit: Unit): PackageOutDirs | undefined {
    const result = this.folderOfUnit(unit)?.result;
    if (!result) return undefined;
    return this.outDirs(result, unit.package).find((s) => s.current?.unit === unit || s.older.some((o) => o.unit === unit));
  }

  /**
   * The package's current OUT_DIR as a Rust source in `file` sees it: the package is the nearest manifest's,
   * and among profile folders the host one whose current run is the most recent wins (what rust-analyzer and
   * `cargo build` would use).
   */
  currentOutDirFor(pkg: string, file: string): string | null {
    const folder = this.explorer.folders.find((f) => file.startsWith(f.uri.fsPath + path.sep)) ?? this.explorer.folders[0];
    const result = folder?.result;
    if (!result) return null;
    const sets = this.outDirs(result, pkg).filter((s) => s.current);
    const host = sets.filter((s) => s.platform === null);
    const pick = (host.length ? host : sets).sort((a, b) => (b.current!.ranAt ?? 0) - (a.current!.ranAt ?? 0))[0];
    return pick?.current?.outDir ?? null;
  }
}

/** Cargo's home, where `-Zbuild-analysis` writes its logs. */
export function cargoHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CARGO_HOME || path.join(os.homedir(), '.cargo');
}
