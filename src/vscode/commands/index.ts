// The command table: every command the manifest contributes, and its handler. The manifest-contract test
// reads this table, so a contributed command without a handler (or the reverse) fails the tests.

import type { Handler } from './context';
import { refresh, filter, clearFilter, refreshLastBuild } from './view';
import { open, openToSide } from './open';
import { revealInExplorer, revealInOS, copyPath, revealInTree } from './reveal';
import { compareUnits, compareWithCurrentOutDir, openBuildScriptOutput, showBuildScriptRun, showFingerprint } from './inspect';
import { runCargoBuild } from './build';
import { cleanUnit, cleanPackage, cleanIncremental, cleanStale } from './clean';

export const COMMANDS: Readonly<Record<string, Handler>> = {
  'cargoBuildDir.refresh': refresh,
  'cargoBuildDir.refreshLastBuild': refreshLastBuild,
  'cargoBuildDir.filter': filter,
  'cargoBuildDir.clearFilter': clearFilter,
  'cargoBuildDir.open': open,
  'cargoBuildDir.openToSide': openToSide,
  'cargoBuildDir.revealInExplorer': revealInExplorer,
  'cargoBuildDir.revealInOS': revealInOS,
  'cargoBuildDir.copyPath': copyPath,
  'cargoBuildDir.revealInTree': revealInTree,
  'cargoBuildDir.openBuildScriptOutput': openBuildScriptOutput,
  'cargoBuildDir.showFingerprint': showFingerprint,
  'cargoBuildDir.showBuildScriptRun': showBuildScriptRun,
  'cargoBuildDir.compareUnits': compareUnits,
  'cargoBuildDir.compareWithCurrentOutDir': compareWithCurrentOutDir,
  'cargoBuildDir.runCargoBuild': runCargoBuild,
  'cargoBuildDir.cleanUnit': cleanUnit,
  'cargoBuildDir.cleanPackage': cleanPackage,
  'cargoBuildDir.cleanIncremental': cleanIncremental,
  'cargoBuildDir.cleanStale': cleanStale,
};
