// Staleness of a scanned build dir, with what it needs from outside the build dir: the installed toolchains
// and cargo's resolve of the workspace (both processes, so this lives in src/node). Shared by the command line
// (`stale`, `clean --stale`) and the extension ("Clean All Stale…").

import type { ScanResult } from '../core/model';
import type { Walker } from '../core/walk';
import { analyzeStaleness, readStaleEvidence, type StaleAnalysis } from '../core/stale';
import { findInstalledToolchains, readCargoResolve } from './toolchains';

export interface StaleInputs {
  readonly toolchains: Awaited<ReturnType<typeof findInstalledToolchains>>;
  readonly resolve: Awaited<ReturnType<typeof readCargoResolve>> | null;
}

export interface StaleInputOptions {
  /** The workspace root (null: a build dir given directly, no workspace to ask). */
  readonly workspaceRoot: string | null;
  /** False in untrusted workspaces and with --no-cargo: cargo is not run, toolchains in the workspace neither. */
  readonly useCargo: boolean;
  readonly cargo?: string;
}

/** Starts the probes; call it alongside the scan so that they cost no wall time. */
export function startStaleInputs(opts: StaleInputOptions): Promise<StaleInputs> {
  const root = opts.workspaceRoot;
  return Promise.all([
    findInstalledToolchains({ workspaceRoot: root, untrusted: !opts.useCargo }),
    root && opts.useCargo ? readCargoResolve(root, { cargo: opts.cargo }) : Promise.resolve(null),
  ]).then(([toolchains, resolve]) => ({ toolchains, resolve }));
}

export type Staleness = StaleAnalysis & { readonly extraNotes: readonly string[] };

/** The staleness analysis of a scan: evidence read through the walker, then the reasons per unit. */
export async function analyzeScan(
  result: ScanResult,
  walker: Walker,
  inputs: Promise<StaleInputs>,
  opts: { readonly members: readonly string[]; readonly idleDays: number | null; readonly env?: NodeJS.ProcessEnv },
): Promise<Staleness> {
  const { toolchains: tc, resolve: r } = await inputs;
  const extraNotes: string[] = [];
  if (r && !r.resolve) extraNotes.push(`${r.why}: old dependency versions and feature sets are judged from the disk alone`);
  if (!r) extraNotes.push("cargo's resolve was not read (cargo not run, or no workspace): a dependency whose version or features changed is not called superseded");
  const evidence = await readStaleEvidence(result, walker, { members: opts.members, toolchains: tc.toolchains });
  const a = analyzeStaleness(result, {
    toolchains: tc.toolchains,
    toolchainNotes: tc.notes,
    members: opts.members.length ? opts.members : null,
    idleDays: opts.idleDays,
    evidence,
    resolve: r?.resolve ?? null,
    legacyOptOut: !!(opts.env ?? process.env).__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT,
  });
  if (tc.toolchains) extraNotes.push(...tc.notes.map((n) => `toolchains: ${n}`));
  return { ...a, extraNotes };
}
