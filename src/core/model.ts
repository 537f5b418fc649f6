// The scan's result: plain readonly data shared by the command line and the extension. Nothing here reads
// the disk; src/core/scan.ts builds it and src/core/json.ts writes the versioned JSON contract from it.

export type Layout = 'v2' | 'legacy';

/** What kind of target a unit compiles (the fingerprint file name's target kind, refined by outputs). */
export type UnitKind = 'lib' | 'proc-macro' | 'bin' | 'test' | 'bench' | 'example' | 'build-script' | 'unknown';

/** How the target is compiled. `run-custom-build` is a build-script run (its `out/` is OUT_DIR). */
export type UnitMode = 'build' | 'check' | 'test' | 'doc' | 'run-custom-build' | 'unknown';

export type SourceKind = 'path' | 'registry' | 'git' | 'directory' | 'unknown';

export interface PackageSource {
  readonly kind: SourceKind;
  /** Registry index folder, git checkout, or directory; null for path packages. */
  readonly detail: string | null;
}

export interface StaleReason {
  readonly reason: string;
  readonly detail: string;
}

/** A named piece of a unit: v2 `fingerprint/`, `out/`, `run/`, `artifact/`; legacy fingerprint folder, deps files, build folders. */
export interface UnitPart {
  readonly name: 'fingerprint' | 'out' | 'run' | 'artifact' | 'lock' | 'deps' | 'build' | 'examples' | 'other';
  readonly path: string;
  readonly bytes: number;
}

export interface Unit {
  /** Stable, composed id: `<profile id>/<package>/<hash>`. */
  readonly id: string;
  readonly package: string;
  /** The 16 hex digits of the unit folder (cargo's `<META>`, or the package-id hash for doc units). */
  readonly hash: string;
  readonly layout: Layout;
  readonly kind: UnitKind;
  readonly mode: UnitMode;
  /** Target name as in the fingerprint file name (e.g. `build-script-build`, `app`), null when unknown. */
  readonly target: string | null;
  /** Enabled features; null when the fingerprint JSON is missing or unreadable. */
  readonly features: readonly string[] | null;
  readonly version: string | null;
  readonly source: PackageSource | null;
  /** Every path belonging to the unit (folders and files), absolute. */
  readonly paths: readonly string[];
  readonly parts: readonly UnitPart[];
  /** `du -sb` of `paths` taken together. */
  readonly bytes: number;
  /** The part of `bytes` that deleting `paths` would really free (multi-link inodes with a link elsewhere are not). */
  readonly freedBytes: number;
  /** Start of the last (re)build, ms since the epoch (mtime of `invoked.timestamp`), null when unknown. */
  readonly builtAt: number | null;
  /** The hash file is empty: the last build of this unit failed or was interrupted. */
  readonly lastBuildFailed: boolean;
  /** Content of the hash file (16 hex digits) when present. */
  readonly fingerprintHash: string | null;
  /** The fingerprint JSON's `rustc` field, as a decimal string (it exceeds 2^53). */
  readonly rustc: string | null;
  /**
   * The fingerprint's dependencies: extern crate name and the dependency's fingerprint as 16 hex digits,
   * which equals that dependency unit's `fingerprintHash` (so the unit graph can be rebuilt from disk).
   */
  readonly deps: readonly { readonly name: string; readonly fingerprint: string }[];
  /** Fingerprint file names found (e.g. `lib-util`), for diagnostics and the inspector. */
  readonly fingerprintFiles: readonly string[];
  readonly stale: readonly StaleReason[];
  /** Anything that could not be decoded, in words. The unit is still listed. */
  readonly problems: readonly string[];
}

export interface IncrementalSession {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  /** Start time decoded from the session name (`s-<µs base36>-…`), ms since the epoch, or null. */
  readonly startedAt: number | null;
  readonly working: boolean;
}

export interface IncrementalCrate {
  /** Crate name (folder name without the `-<13 base36>` suffix). */
  readonly crate: string;
  readonly path: string;
  readonly bytes: number;
  readonly sessions: readonly IncrementalSession[];
}

export type BucketName =
  | 'locks'
  | 'uplifted'
  | 'examples'
  | 'tmp'
  | 'doc'
  | 'package'
  | 'cargo-metadata'
  | 'legacy-other'
  | 'structure'
  | 'unknown';

/** Everything on disk that is not a unit or incremental data, so that nothing is unaccounted for. */
export interface Bucket {
  readonly name: BucketName;
  readonly paths: readonly string[];
  readonly bytes: number;
}

export interface PackageSummary {
  readonly name: string;
  readonly bytes: number;
  readonly freedBytes: number;
  readonly unitIds: readonly string[];
}

export interface Profile {
  /** `<build dir id>/<platform or "host">/<name>`. */
  readonly id: string;
  /** Folder name: `debug`, `release`, or a custom profile's name. */
  readonly name: string;
  /** Target triple (or custom target name) for `<triple>/<profile>`, null for the host folder. */
  readonly platform: string | null;
  readonly path: string;
  readonly layouts: readonly Layout[];
  readonly units: readonly Unit[];
  readonly packages: readonly PackageSummary[];
  readonly incremental: readonly IncrementalCrate[];
  readonly other: readonly Bucket[];
  /** `du -sb` of the profile folder. */
  readonly bytes: number;
  /** Lock files present (`.cargo-lock`, `.cargo-build-lock`, `.cargo-artifact-lock`). */
  readonly locks: readonly string[];
}

export type Discovery =
  | 'cargo-metadata'
  | 'CARGO_BUILD_BUILD_DIR'
  | 'CARGO_TARGET_DIR'
  | 'CARGO_BUILD_TARGET_DIR'
  | 'config build.build-dir'
  | 'config build.target-dir'
  | 'default <workspace>/target'
  | 'given path';

export interface BuildDir {
  /** Stable id: the absolute path. */
  readonly id: string;
  readonly path: string;
  /** What this folder is for cargo: the build-dir, the target-dir (uplifted artifacts), or both (the default). */
  readonly role: 'build-dir' | 'target-dir' | 'both';
  /** Which rule found it. */
  readonly discovery: Discovery;
  readonly exists: boolean;
  readonly profiles: readonly Profile[];
  /** Root-level entries that are not profiles (`.rustc_info.json`, `tmp/`, `doc/`, …). */
  readonly other: readonly Bucket[];
  /** `du -sb` of the folder. */
  readonly bytes: number;
}

export interface ScanProblem {
  readonly path: string;
  readonly message: string;
}

export interface ScanResult {
  readonly workspaceRoot: string | null;
  readonly buildDirs: readonly BuildDir[];
  /** Non-fatal problems met while scanning (vanished files, unreadable folders, corrupt files). */
  readonly problems: readonly ScanProblem[];
  /** Which walker measured the sizes ("native" or "node"). */
  readonly walker: string;
}
