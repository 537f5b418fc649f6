// One walker and the installed toolchains for a test file that scans real fixtures: `useScanning()` sets them up
// before the file's tests and closes the walker after; `walker` and `installed` are live bindings.

import { before, after } from 'node:test';
import { createWalker } from '../../src/node/walker';
import { findInstalledToolchains, type InstalledToolchain } from '../../src/node/toolchains';
import { scanBuildDirs } from '../../src/core/scan';
import type { ScanResult } from '../../src/core/model';
import type { Walker } from '../../src/core/walk';
import type { BuiltFixture } from './fixtures';

export let walker: Walker;
export let installed: InstalledToolchain[] = [];

export function useScanning(): void {
  before(async () => {
    walker = await createWalker({ build: false });
    installed = [...((await findInstalledToolchains({})).toolchains ?? [])];
  });
  after(() => walker.close());
}

/** A fixture's build dir, scanned as a given path. */
export function scanOf(fx: BuiltFixture): Promise<ScanResult> {
  return scanBuildDirs([{ path: fx.buildDir, role: 'both', discovery: 'given path' }], { walker });
}
