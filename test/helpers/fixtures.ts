// Test-side access to the fixtures that scripts/fixtures.mjs builds with real cargo under `.fixtures/`.
// Loads `fixture.json` with types, lets node:test skip a fixture that could not be built here, and
// pulls out of cargo's JSON messages what tests compare with the scanner: which unit folder each
// artifact lives in, and the OUT_DIR of each build-script run.

import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

export type FixtureName =
  | 'legacy'
  | 'v2'
  | 'v2-nightly'
  | 'mixed'
  | 'separate'
  | 'registry'
  | 'registry-v2'
  | 'interrupted'
  | 'stale'
  | 'outdirs'
  | 'analysis';

export const FIXTURE_NAMES: readonly FixtureName[] = [
  'legacy',
  'v2',
  'v2-nightly',
  'mixed',
  'separate',
  'registry',
  'registry-v2',
  'interrupted',
];

export interface CargoTarget {
  readonly name: string;
  /** e.g. ['lib'], ['bin'], ['proc-macro'], ['custom-build'], ['test'], ['bench'], ['example']. */
  readonly kind: readonly string[];
  readonly crate_types: readonly string[];
  readonly src_path: string;
  readonly edition?: string;
  readonly test?: boolean;
  readonly doctest?: boolean;
}

export interface CargoProfile {
  readonly opt_level: string;
  readonly debuginfo: number | null;
  readonly debug_assertions: boolean;
  readonly overflow_checks: boolean;
  /** True for test and bench units (mode test). */
  readonly test: boolean;
}

export interface CompilerArtifactMessage {
  readonly reason: 'compiler-artifact';
  readonly package_id: string;
  readonly manifest_path: string;
  readonly target: CargoTarget;
  readonly profile: CargoProfile;
  readonly features: readonly string[];
  /** Absolute paths; for root units cargo lists the uplifted copy, not the file in the unit folder. */
  readonly filenames: readonly string[];
  readonly executable: string | null;
  readonly fresh: boolean;
}

export interface BuildScriptExecutedMessage {
  readonly reason: 'build-script-executed';
  readonly package_id: string;
  readonly linked_libs: readonly string[];
  readonly linked_paths: readonly string[];
  readonly cfgs: readonly string[];
  readonly env: readonly (readonly [string, string])[];
  readonly out_dir: string;
}

export interface BuildFinishedMessage {
  readonly reason: 'build-finished';
  readonly success: boolean;
}

/** Any other message (`compiler-message`, future reasons): kept as cargo printed it. */
export interface OtherMessage {
  readonly reason: string;
  readonly [key: string]: unknown;
}

export type CargoMessage = CompilerArtifactMessage | BuildScriptExecutedMessage | BuildFinishedMessage | OtherMessage;

export interface FixtureCommand {
  /** The full command line, starting with `cargo`. */
  readonly argv: readonly string[];
  /** Only the variables the fixture set on top of the (cleaned) environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly toolchain: 'stable' | 'nightly';
  /** `cargo --version` of that toolchain. */
  readonly cargoVersion: string;
  readonly layout: 'legacy' | 'v2';
  readonly cwd: string;
  readonly expectFailure: boolean;
  readonly exitCode: number | null;
  readonly wallMs: number;
  readonly messages: readonly CargoMessage[];
  /** stdout lines that were not JSON. */
  readonly otherStdout: readonly string[];
  readonly stderr: string;
}

export interface FixtureEdit {
  /** Index of the command after which the workspace was edited (-1: before the first). */
  readonly afterCommand: number;
  readonly description: string;
}

interface FixtureBase {
  readonly formatVersion: number;
  readonly name: FixtureName;
  readonly description: string;
  readonly host: string;
  readonly createdAt: string;
}

export interface BuiltFixture extends FixtureBase {
  /** The copied workspace, absolute. */
  readonly workspace: string;
  /** From `cargo metadata` after the builds, absolute. */
  readonly buildDir: string;
  readonly targetDir: string;
  readonly commands: readonly FixtureCommand[];
  readonly edits: readonly FixtureEdit[];
  readonly skipped: null;
  /** `interrupted` only: hash files left empty, relative to the build dir. */
  readonly emptyHashFiles?: readonly string[];
  /** `analysis` only: the private CARGO_HOME its builds wrote their `-Zbuild-analysis` logs into. */
  readonly cargoHome?: string;
}

export interface SkippedFixture extends FixtureBase {
  readonly workspace: null;
  readonly buildDir: null;
  readonly targetDir: null;
  readonly commands: readonly [];
  readonly skipped: string;
}

export type Fixture = BuiltFixture | SkippedFixture;

const SUPPORTED_FORMAT = 1;

function findRepoRoot(): string {
  // Compiled tests run from out/test/helpers, sources live in test/helpers: look for the repo instead.
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'sample', 'Cargo.toml')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root above ${__dirname}`);
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const FIXTURES_DIR = path.join(REPO_ROOT, '.fixtures');

const cache = new Map<string, Fixture>();

/**
 * The fixture as scripts/fixtures.mjs recorded it (skipped fixtures included). Throws when the
 * fixtures were not built, or were built by an incompatible script version.
 */
export function loadFixture(name: FixtureName): Fixture {
  const cached = cache.get(name);
  if (cached) return cached;
  const file = path.join(FIXTURES_DIR, name, 'fixture.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`fixture "${name}" is missing (${file}). Build the fixtures first: node scripts/fixtures.mjs`);
  }
  const fixture = JSON.parse(text) as Fixture;
  if (fixture.formatVersion !== SUPPORTED_FORMAT) {
    throw new Error(
      `fixture "${name}" has format ${String(fixture.formatVersion)}, expected ${SUPPORTED_FORMAT}. Rebuild: node scripts/fixtures.mjs`,
    );
  }
  if (fixture.skipped === null && !fs.existsSync(fixture.buildDir)) {
    throw new Error(`fixture "${name}" points to ${fixture.buildDir}, which is gone. Rebuild: node scripts/fixtures.mjs`);
  }
  cache.set(name, fixture);
  return fixture;
}

/**
 * For use at the top of a node:test test: returns the built fixture, or marks the test skipped
 * (with the recorded reason) and returns null. A missing fixture still throws, so it fails.
 *
 *   const fx = fixtureOrSkip(t, 'registry'); if (!fx) return;
 */
export function fixtureOrSkip(t: TestContext, name: FixtureName): BuiltFixture | null {
  const fixture = loadFixture(name);
  if (fixture.skipped !== null) {
    t.skip(`fixture "${name}" skipped: ${fixture.skipped}`);
    return null;
  }
  return fixture;
}

/** Like loadFixture but throws for a skipped fixture: for code that cannot skip (benchmarks). */
export function requireBuiltFixture(name: FixtureName): BuiltFixture {
  const fixture = loadFixture(name);
  if (fixture.skipped !== null) throw new Error(`fixture "${name}" was skipped: ${fixture.skipped}`);
  return fixture;
}

// -------------------------------------------------------------------------------------------------
// Messages

export function isCompilerArtifact(m: CargoMessage): m is CompilerArtifactMessage {
  return m.reason === 'compiler-artifact';
}

export function isBuildScriptExecuted(m: CargoMessage): m is BuildScriptExecutedMessage {
  return m.reason === 'build-script-executed';
}

function commandsOf(fixture: BuiltFixture, commandIndex?: number): readonly FixtureCommand[] {
  if (commandIndex === undefined) return fixture.commands;
  const command = fixture.commands[commandIndex];
  if (!command) throw new Error(`fixture "${fixture.name}" has no command #${commandIndex}`);
  return [command];
}

/** Where a unit lives in the build dir, as read from one of its file paths. */
export interface UnitLocation {
  readonly layout: 'v2' | 'legacy';
  /** v2: `<pkg>/<hash>`; legacy: the 16-hex-digit hash. */
  readonly unitFolder: string;
  readonly hash: string;
  /** Package name for v2 and legacy `build/` folders; null for legacy `deps/` and `examples/` files (only the crate name is known there). */
  readonly pkg: string | null;
  /** The `[<triple>/]<profile>` folder, absolute. */
  readonly profileDir: string;
}

const HEX16 = '[0-9a-f]{16}';
const V2_RE = new RegExp(`^(.+)/build/([^/]+)/(${HEX16})/(?:out|artifact|run|fingerprint)(?:/|$)`);
const LEGACY_BUILD_RE = new RegExp(`^(.+)/build/(.+)-(${HEX16})(?:/|$)`);
const LEGACY_FILE_RE = new RegExp(`^(.+)/(deps|examples)/(?:[^/]*/)*?[^/]*-(${HEX16})(?:\\.[^/]*)?$`);

/**
 * The unit folder that `file` belongs to, or null when the path is not inside a unit folder of
 * `buildDir` (an uplifted copy in the target dir, `doc/` output, …).
 */
export function unitLocationOf(file: string, buildDir: string): UnitLocation | null {
  const rel = path.relative(buildDir, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const p = rel.split(path.sep).join('/');
  const abs = (profileRel: string) => path.join(buildDir, ...profileRel.split('/'));
  let m = V2_RE.exec(p);
  if (m) {
    const [, profile, pkg, hash] = m as unknown as [string, string, string, string];
    return { layout: 'v2', unitFolder: `${pkg}/${hash}`, hash, pkg, profileDir: abs(profile) };
  }
  m = LEGACY_BUILD_RE.exec(p);
  if (m) {
    const [, profile, pkg, hash] = m as unknown as [string, string, string, string];
    return { layout: 'legacy', unitFolder: hash, hash, pkg, profileDir: abs(profile) };
  }
  m = LEGACY_FILE_RE.exec(p);
  if (m) {
    const [, profile, , hash] = m as unknown as [string, string, string, string];
    return { layout: 'legacy', unitFolder: hash, hash, pkg: null, profileDir: abs(profile) };
  }
  return null;
}

export interface ArtifactWithUnit {
  readonly commandIndex: number;
  readonly message: CompilerArtifactMessage;
  /** Package name from `package_id` (`path+file:///…/app#0.3.1` → app, `registry+…#cfg-if@0.1.10` → cfg-if). */
  readonly packageName: string;
  readonly packageVersion: string | null;
  /**
   * Null when no listed file is inside a unit folder: cargo lists only the uplifted copy for bins
   * and proc-macros of root units, and only `doc/` paths for rustdoc.
   */
  readonly unit: UnitLocation | null;
}

/** Splits a package id spec (`path+file:///x/app#0.3.1`, `registry+https://…#cfg-if@0.1.10`). */
export function parsePackageId(id: string): { name: string; version: string | null } {
  const hashAt = id.lastIndexOf('#');
  if (hashAt < 0) {
    // Old form: "name version (source)".
    const parts = id.split(' ');
    return { name: parts[0] ?? id, version: parts[1] ?? null };
  }
  const fragment = id.slice(hashAt + 1);
  const at = fragment.lastIndexOf('@');
  if (at >= 0) return { name: fragment.slice(0, at), version: fragment.slice(at + 1) };
  // `path+file:///…/app#0.3.1`: the name is the last path segment of the URL.
  const url = id.slice(0, hashAt);
  const name = url.replace(/\/+$/, '').split('/').pop() ?? url;
  return { name, version: fragment || null };
}

/** Every compiler-artifact message of the fixture (or of one command), with its unit folder. */
export function compilerArtifacts(fixture: BuiltFixture, commandIndex?: number): ArtifactWithUnit[] {
  const result: ArtifactWithUnit[] = [];
  const commands = commandsOf(fixture, commandIndex);
  commands.forEach((command, i) => {
    const index = commandIndex ?? i;
    for (const message of command.messages) {
      if (!isCompilerArtifact(message)) continue;
      let unit: UnitLocation | null = null;
      for (const f of message.filenames) {
        unit = unitLocationOf(f, fixture.buildDir);
        if (unit) break;
      }
      const { name, version } = parsePackageId(message.package_id);
      result.push({ commandIndex: index, message, packageName: name, packageVersion: version, unit });
    }
  });
  return result;
}

export interface BuildScriptRun {
  readonly commandIndex: number;
  readonly message: BuildScriptExecutedMessage;
  readonly packageName: string;
  /** OUT_DIR, absolute. */
  readonly outDir: string;
  readonly unit: UnitLocation | null;
}

/** Every build-script-executed message: OUT_DIR is the `out/` of the build-script run unit. */
export function buildScriptRuns(fixture: BuiltFixture, commandIndex?: number): BuildScriptRun[] {
  const result: BuildScriptRun[] = [];
  const commands = commandsOf(fixture, commandIndex);
  commands.forEach((command, i) => {
    const index = commandIndex ?? i;
    for (const message of command.messages) {
      if (!isBuildScriptExecuted(message)) continue;
      result.push({
        commandIndex: index,
        message,
        packageName: parsePackageId(message.package_id).name,
        outDir: message.out_dir,
        unit: unitLocationOf(message.out_dir, fixture.buildDir),
      });
    }
  });
  return result;
}

/** The distinct unit folders cargo reported (artifacts and build-script runs), e.g. to compare with a scan. */
export function reportedUnitFolders(fixture: BuiltFixture, commandIndex?: number): Set<string> {
  const folders = new Set<string>();
  for (const a of compilerArtifacts(fixture, commandIndex)) if (a.unit) folders.add(a.unit.unitFolder);
  for (const r of buildScriptRuns(fixture, commandIndex)) if (r.unit) folders.add(r.unit.unitFolder);
  return folders;
}
