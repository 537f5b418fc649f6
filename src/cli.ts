// The command line front end: the same engine as the extension (src/core), with process-level adapters from
// src/node. Exit codes are part of the documented interface (README "Command line").

import { performance } from 'node:perf_hooks';
import { locateBuildDirs } from './node/cargo';
import { createWalker } from './node/walker';
import { findNativeWalker } from './node/native';
import { scanBuildDirs, type Outline } from './core/scan';
import { ScanJsonWriter, scanJsonChunks } from './core/json';
import { once } from 'node:events';

import { formatBytes, formatAge, unitLabel } from './core/format';
import type { ScanResult, Unit } from './core/model';
import { readUnitDetails } from './core/inspect';
import { renderDetails } from './core/render';
import { enclosingBuildDir, traceListings, type ListedFolder } from './core/layout';
import { unitToJson } from './core/json';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StaleItem } from './core/stale';
import { analyzeScan, startStaleInputs, type StaleInputs, type Staleness } from './node/staleness';
import { executeClean, itemsForPaths, planClean, type CleanPlan, type CleanResult } from './core/clean';
import { cargoMarkersMissing } from './core/layout';
import { createLocker } from './node/locks';
import { createTrasher } from './node/trash';
import type { Walker } from './core/walk';
import type { Located } from './node/cargo';
import type { CodeCacheState } from './node/code-cache';
import { COMMANDS } from './cli-commands';
import { defaultCacheDir } from './node/cache-dir';
import { openScanMemo, type ScanMemoStore } from './node/scan-memo';
import { openScanReplay, ReplayWalker, type ScanReplayStore } from './node/scan-replay';

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  missing: 3,
  notCargo: 4,
  permission: 5,
  /** clean: cargo holds a lock on a folder to clean (it is building there); nothing was deleted. */
  cargoBusy: 6,
  /** clean: a target is not something that may be deleted (outside a Cargo build dir, a symbolic link, `..`, no cargo marks, changed since the plan). */
  refused: 7,
  /** clean: some paths could not be deleted (in use, permission denied); the others were. */
  partial: 8,
  /** clean: no way to take cargo's locks here; nothing was deleted. */
  noLock: 9,
  /** clean: not confirmed (answered no, or no --yes in a non-interactive run), or interrupted; nothing more was deleted. */
  notConfirmed: 10,
} as const;

const USAGE = `cargo-build-dir ${VERSION}: see and measure Cargo's build directory

Usage:
  cargo-build-dir scan [PATH] [--json] [--no-stale] [--summary] [--stats] [--no-cargo] [--walker native|node]
  cargo-build-dir show UNIT_PATH [--json]
                                       decode one unit: fingerprints, dep-info, cached compiler messages,
                                       build-script output and its cargo:: directives
  cargo-build-dir walker [--build]     say which size walker scans use; --build builds the native one now
  cargo-build-dir stale [PATH] [--json] [--idle-days N]
                                       list what is stale and why (toolchain, legacy-leftover, superseded,
                                       failed, orphaned-incremental; idle only with --idle-days, a guess)
  cargo-build-dir clean (UNIT_PATH... | --stale [PATH]) [--dry-run] [--trash] [--yes] [--json]
                                       show the plan, then delete under cargo's own locks; --dry-run only
                                       shows it; --trash moves to the desktop trash (Linux); --yes skips the
                                       question (required when not on a terminal)

PATH is a Cargo workspace (or any folder inside one) or a build directory itself; default: the current folder.
  --json       print the scan as JSON (schema 1, see docs/json-schema.md), with each unit's stale reasons
  --no-stale   with --json: measure only; units' \`stale\` lists stay empty (no toolchain probes, no cargo resolve)
  --summary    human output: profiles and packages only, no units
  --stats      print timings as one JSON line on stderr
  --no-cargo   do not run \`cargo metadata\`; find the build dir from the environment and .cargo/config.toml
  --walker     measure sizes with the native walker (built once with your cargo) or pure Node

Exit codes: 0 done (also when nothing is built yet or nothing is stale), 1 internal error, 2 usage, 3 PATH does
not exist, 4 PATH is neither a Cargo workspace nor a build directory, 5 permission denied; clean only: 6 cargo is
building there (nothing deleted), 7 a target was refused as unsafe, 8 some paths could not be deleted, 9 no way to
take cargo's locks (nothing deleted), 10 not confirmed or interrupted.`;

interface Args {
  command: string;
  build: boolean;
  path: string;
  json: boolean;
  summary: boolean;
  stats: boolean;
  noCargo: boolean;
  /** scan --json: skip the stale analysis. */
  noStale: boolean;
  walker: 'native' | 'node' | null;
  /** clean: unit paths given on the command line. */
  paths: string[];
  stale: boolean;
  dryRun: boolean;
  trash: boolean;
  yes: boolean;
  idleDays: number | null;
}

function parseArgs(argv: readonly string[]): Args | string {
  const a: Args = {
    command: '',
    build: false,
    path: '.',
    json: false,
    summary: false,
    stats: false,
    noCargo: false,
    noStale: false,
    walker: null,
    paths: [],
    stale: false,
    dryRun: false,
    trash: false,
    yes: false,
    idleDays: null,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--json') a.json = true;
    else if (x === '--summary') a.summary = true;
    else if (x === '--stats') a.stats = true;
    else if (x === '--no-cargo') a.noCargo = true;
    else if (x === '--no-stale') a.noStale = true;
    else if (x === '--build') a.build = true;
    else if (x === '--stale') a.stale = true;
    else if (x === '--dry-run' || x === '-n') a.dryRun = true;
    else if (x === '--trash') a.trash = true;
    else if (x === '--yes' || x === '-y') a.yes = true;
    else if (x === '--idle-days') {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) return '--idle-days takes a positive number of days';
      a.idleDays = n;
    } else if (x === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    else if (x === '--walker') {
      const w = argv[++i];
      if (w !== 'native' && w !== 'node') return '--walker takes "native" or "node"';
      a.walker = w;
    } else if (x === '-h' || x === '--help') return '';
    else if (x === '-V' || x === '--version') return `version`;
    else if (x.startsWith('-') && x !== '-') return `unknown option ${x}`;
    else positional.push(x);
  }
  if (positional.length === 0) return '';
  a.command = positional[0]!;
  if (a.command === 'clean') {
    const rest = positional.slice(1);
    if (a.stale) {
      if (rest.length > 1) return 'clean --stale takes at most one PATH';
      if (rest[0] !== undefined) a.path = rest[0];
    } else {
      if (rest.length === 0) return 'clean needs unit paths, or --stale [PATH]';
      a.paths = rest;
    }
    return a;
  }
  if (a.stale || a.dryRun || a.trash || a.yes) return `${a.stale ? '--stale' : a.dryRun ? '--dry-run' : a.trash ? '--trash' : '--yes'} is an option of clean`;
  if (a.idleDays !== null && a.command !== 'stale') return '--idle-days is an option of stale and clean --stale';
  if (a.noStale && a.command !== 'scan') return '--no-stale is an option of scan';
  if (positional.length > 2) return `too many arguments: ${positional.slice(2).join(' ')}`;
  if (positional[1] !== undefined) a.path = positional[1];
  if (!COMMANDS.includes(a.command)) return `unknown command ${a.command}`;
  if (a.command === 'show' && positional[1] === undefined) return 'show needs the path of a unit folder';
  return a;
}

/** How the process was started (dist/cli.js says), for `--stats`. */
export interface LaunchInfo {
  readonly codeCache?: CodeCacheState;
  /** The bundle's identity (a hash of its source and of Node's version): set when run from dist/cli.js. */
  readonly codeId?: string;
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream, launch: LaunchInfo = {}): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === 'version') {
    out.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  if (typeof parsed === 'string') {
    if (parsed) err.write(`error: ${parsed}\n\n`);
    (parsed ? err : out).write(USAGE + '\n');
    return parsed ? EXIT.usage : EXIT.ok;
  }
  if (parsed.command === 'walker') {
    const bin = await findNativeWalker({ build: parsed.build, log: (l) => err.write(l + '\n') });
    out.write(bin ? `native ${bin}\n` : 'node (the native walker is not built; run `cargo-build-dir walker --build`, which needs cargo)\n');
    return parsed.build && !bin ? EXIT.internal : EXIT.ok;
  }
  if (parsed.command === 'show') return show(parsed, out, err);
  if (parsed.command === 'clean' && !parsed.stale) return cleanPaths(parsed, out, err);
  if (parsed.command === 'stale' || parsed.command === 'clean') return staleOrClean(parsed, out, err);
  const t0 = performance.now();
  const located = await locateBuildDirs(parsed.path, { useCargo: !parsed.noCargo });
  const tLocated = performance.now();
  if (located.kind === 'error') {
    err.write(`error: ${located.message}\n`);
    return located.code === 'missing' ? EXIT.missing : located.code === 'permission' ? EXIT.permission : EXIT.notCargo;
  }
  if (located.kind === 'workspace' && located.via === 'fallback' && located.cargoError && !parsed.json) {
    err.write(`note: ${located.cargoError}; found the build dir without cargo instead\n`);
  }
  if (parsed.walker === 'node') process.env.CARGO_BUILD_DIR_WALKER = 'node';
  // Opened first: its file is checked while the walker starts.
  const memo = scanMemo(located.dirs.buildDirs, located.dirs.members, launch);
  const native = await createWalker({ build: true, log: (l) => err.write(l + '\n') });
  let outlineAt = 0;
  let result: ScanResult;
  let analysis: Staleness | null = null;
  const inputs = parsed.json && !parsed.noStale ? staleInputs(located, !parsed.noCargo) : null;
  const workspaceRoot = located.kind === 'workspace' ? located.dirs.workspaceRoot : null;
  // A streamed scan of build dirs small enough to have a unit memo may be replayed whole (src/node/scan-replay.ts).
  const replay = parsed.json && parsed.noStale && memo?.held() && native.name === 'native' ? scanReplay(located, launch) : null;
  const walker = replay ? new ReplayWalker(native) : native;
  const tScan = performance.now();
  const scanStartedAt = Date.now();
  if (replay?.probes && walker instanceof ReplayWalker) {
    const [same, output] = await Promise.all([walker.probe(replay.probes), replay.output()]);
    if (same && output) {
      await writeText(out, output);
      out.write('\n');
      replay.touch();
      memo?.touch();
      if (parsed.stats) {
        const stats = { locateMs: round(tLocated - t0), outlineMs: 0, scanMs: round(performance.now() - tScan), walker: walker.name, codeCache: launch.codeCache ?? 'off' };
        err.write(JSON.stringify({ ...stats, unitMemo: 'replayed', scanReplay: 'hit' }) + '\n');
      }
      walker.close();
      await walker.ended();
      return EXIT.ok;
    }
  }
  // What the scan writes, kept for the next one while the scan can still be replayed.
  let captured: Buffer[] | null = replay ? [] : null;
  let capturedBytes = 0;
  const listed: ListedFolder[] = [];
  // Measuring only, the JSON is written while the scan runs and the scan keeps no unit: memory stays flat at
  // any size. The stale analysis needs every unit at once, so with it the model is built first.
  const streamed =
    parsed.json && parsed.noStale
      ? new ScanJsonWriter((t) => {
          if (captured && walker instanceof ReplayWalker && walker.keepable && capturedBytes < MAX_CAPTURE) {
            const b = typeof t === 'string' ? Buffer.from(t) : Buffer.from(t.buffer, t.byteOffset, t.byteLength);
            captured.push(b);
            capturedBytes += b.length;
          } else captured = null;
          return writeText(out, t);
        })
      : null;
  if (replay) traceListings(listed);
  try {
    streamed?.start({ workspaceRoot, walker: walker.name }, TOOL);
    result = await scanBuildDirs(
      located.dirs.buildDirs,
      {
        walker,
        members: located.dirs.members,
        workspaceRoot,
        onOutline: (_o: Outline) => {
          outlineAt = performance.now() - tScan;
        },
        // Only the native walker gives the keys a memo needs.
        memo: walker.name === 'native' ? (memo ?? undefined) : undefined,
      },
      streamed ?? undefined,
    );
    await streamed?.end(result.problems);
    const tDone = performance.now();
    memo?.save();
    // Kept only when the scan met no problem: a folder unreadable this time may be readable next time with
    // nothing else changed (its mode is in no key).
    if (replay && captured && walker instanceof ReplayWalker && result.problems.length === 0 && memo?.stats().state === 'used') {
      const probes = await walker.probes(listed, scanStartedAt);
      if (probes) replay.save(probes, captured);
    }
    if (parsed.stats) {
      const m = memo?.stats();
      const stats = { locateMs: round(tLocated - t0), outlineMs: round(outlineAt), scanMs: round(tDone - tScan), walker: walker.name, codeCache: launch.codeCache ?? 'off' };
      err.write(JSON.stringify({ ...stats, unitMemo: m ? (m.state === 'used' ? { hits: m.hits, misses: m.misses } : m.state) : 'off', scanReplay: replay ? (replay.probes ? 'miss' : 'none') : 'off' }) + '\n');
    }
    // The JSON contract carries each unit's stale reasons; the human tree stays a measurement.
    if (inputs) analysis = await analyze(result, located, walker, inputs, null);
  } finally {
    traceListings(null);
    walker.close();
  }
  if (parsed.json) {
    // Written unit by unit: the text of a scan of a million files never has to be one string.
    if (!streamed) await writeChunks(out, scanJsonChunks(analysis?.scan ?? result, TOOL));
    out.write('\n');
  } else {
    out.write(renderHuman(result, located.dirs.notes ?? [], parsed.summary));
  }
  // The helper has long been told to stop: waiting for it costs nothing and lets `time` count its CPU.
  await walker.ended?.();
  return EXIT.ok;
}

/** Writes chunks in order, waiting whenever the stream asks to (a slow reader on a pipe). */
async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const c of chunks) {
    const drained = writeText(out, c);
    if (drained) await drained;
  }
}

/** Writes `text`; when the stream asks to wait, the returned promise settles once it has drained. */
function writeText(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> | undefined {
  return out.write(text) ? undefined : once(out, 'drain').then(() => undefined);
}

async function show(a: Args, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const target = path.resolve(a.path);
  if (!fs.existsSync(target)) {
    err.write(`error: ${target} does not exist\n`);
    return EXIT.missing;
  }
  const root = enclosingBuildDir(target);
  if (!root) {
    err.write(`error: ${target} is not inside a Cargo build directory\n`);
    return EXIT.notCargo;
  }
  if (a.walker === 'node') process.env.CARGO_BUILD_DIR_WALKER = 'node';
  const walker = await createWalker({ build: true, log: (l) => err.write(l + '\n') });
  let result: ScanResult;
  try {
    result = await scanBuildDirs([{ path: root, role: 'both', discovery: 'given path' }], { walker });
  } finally {
    walker.close();
  }
  const inside = (p: string): boolean => target === p || target.startsWith(p + path.sep);
  const unit = result.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units)).find((u) => u.paths.some(inside));
  if (!unit) {
    err.write(`error: ${target} is in the build directory ${root} but belongs to no unit\n`);
    return EXIT.notCargo;
  }
  const details = readUnitDetails(unit);
  if (a.json) out.write(JSON.stringify({ schema: 1, ...details, unit: unitToJson(unit) }) + '\n');
  else {
    // A dependency is recorded by its fingerprint, which equals that unit's hash file: resolve it to the unit.
    const byFingerprint = new Map<string, Unit>();
    for (const b of result.buildDirs) for (const p of b.profiles) for (const u of p.units) if (u.fingerprintHash && p.units.includes(unit)) byFingerprint.set(u.fingerprintHash, u);
    out.write(renderDetails(details, byFingerprint));
  }
  return EXIT.ok;
}

const round = (n: number): number => Math.round(n * 10) / 10;

function renderHuman(r: ScanResult, notes: readonly string[], summary: boolean): string {
  const lines: string[] = [];
  for (const note of notes) lines.push(`note: ${note}`);
  for (const b of r.buildDirs) {
    const role = b.role === 'both' ? 'build dir and target dir' : b.role === 'build-dir' ? 'build dir' : 'target dir';
    if (!b.exists) {
      lines.push(`${b.path} (${role}, found by ${b.discovery}): nothing built yet. Run \`cargo build\` to create it.`);
      continue;
    }
    lines.push(`${b.path}  ${formatBytes(b.bytes)}  (${role}, found by ${b.discovery})`);
    for (const o of b.other.filter((x) => x.bytes > 0 && x.name !== 'structure')) lines.push(`  ${('(' + o.name + ')').padEnd(34)} ${formatBytes(o.bytes).padStart(10)}`);
    if (b.profiles.length === 0) lines.push('  no profile folders yet');
    for (const p of b.profiles) {
      const name = p.platform ? `${p.platform}/${p.name}` : p.name;
      const layouts = p.layouts.length ? p.layouts.join(' + ') : 'no units';
      lines.push(`  ${name}  ${formatBytes(p.bytes)}  (${layouts}; ${p.units.length} units, ${p.packages.length} packages)`);
      const byId = new Map(p.units.map((u) => [u.id, u]));
      for (const pkg of p.packages) {
        lines.push(`    ${pkg.name.padEnd(32)} ${formatBytes(pkg.bytes).padStart(10)}  ${pkg.unitIds.length} unit${pkg.unitIds.length === 1 ? '' : 's'}`);
        if (summary) continue;
        for (const id of pkg.unitIds) {
          const u = byId.get(id);
          if (!u) continue;
          const features = u.features && u.features.length ? `features: ${u.features.join(' ')}` : '';
          const flags = [u.version ?? '', u.layout === 'legacy' ? 'legacy' : '', u.lastBuildFailed ? 'last build failed' : '', features].filter(Boolean).join(', ');
          lines.push(
            `      ${unitLabel(u).padEnd(30)} ${u.hash.slice(0, 8)} ${formatBytes(u.bytes).padStart(10)}  ${u.builtAt ? formatAge(u.builtAt) : ''}${flags ? `  (${flags})` : ''}`,
          );
        }
      }
      const inc = p.incremental.reduce((s, c) => s + c.bytes, 0);
      if (p.incremental.length) lines.push(`    ${'incremental'.padEnd(32)} ${formatBytes(inc).padStart(10)}  ${p.incremental.length} crate folders`);
      for (const o of p.other.filter((x) => x.bytes > 0 && x.name !== 'structure')) lines.push(`    ${('(' + o.name + ')').padEnd(32)} ${formatBytes(o.bytes).padStart(10)}`);
    }
  }
  if (r.problems.length) {
    lines.push('', `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`);
    for (const p of r.problems.slice(0, 50)) lines.push(`  ${p.path}: ${p.message}`);
    if (r.problems.length > 50) lines.push(`  … and ${r.problems.length - 50} more (see --json)`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------------------------
// stale and clean

const TOOL = { name: 'cargo-build-dir', version: VERSION };

/** Toolchains and cargo's resolve, started alongside the scan (src/node/staleness.ts). */
function staleInputs(located: Exclude<Located, { kind: 'error' }>, useCargo: boolean): Promise<StaleInputs> {
  return startStaleInputs({ workspaceRoot: located.kind === 'workspace' ? located.dirs.workspaceRoot : null, useCargo });
}

function analyze(result: ScanResult, located: Exclude<Located, { kind: 'error' }>, walker: Walker, inputs: Promise<StaleInputs>, idleDays: number | null): Promise<Staleness> {
  return analyzeScan(result, walker, inputs, { members: located.dirs.members.map((m) => m.name), idleDays });
}

function itemToJson(i: StaleItem): Record<string, unknown> {
  return { id: i.id, kind: i.kind, label: i.label, buildDir: i.buildDir, profile: i.profilePath, paths: i.paths, bytes: i.bytes, freedBytes: i.freedBytes, reasons: i.reasons };
}

function renderStale(a: Staleness): string {
  const lines: string[] = [];
  const byProfile = new Map<string, StaleItem[]>();
  for (const i of a.items) {
    const g = byProfile.get(i.profilePath);
    if (g) g.push(i);
    else byProfile.set(i.profilePath, [i]);
  }
  let bytes = 0;
  let freed = 0;
  for (const [profile, items] of byProfile) {
    const b = items.reduce((n, i) => n + i.bytes, 0);
    const f = items.reduce((n, i) => n + i.freedBytes, 0);
    bytes += b;
    freed += f;
    lines.push(`${profile}  ${items.length} stale item${items.length === 1 ? '' : 's'}, ${formatBytes(b)} (frees about ${formatBytes(f)})`);
    for (const i of items) {
      lines.push(`  ${i.label.padEnd(46)} ${formatBytes(i.bytes).padStart(10)}  ${i.reasons.map((r) => r.reason).join(', ')}`);
      for (const r of i.reasons) lines.push(`      ${r.reason}: ${r.detail}`);
    }
  }
  if (a.items.length === 0) lines.push('nothing is stale');
  else lines.push('', `${a.items.length} stale items, ${formatBytes(bytes)} (frees about ${formatBytes(freed)}); \`cargo-build-dir clean --stale\` shows the exact plan`);
  for (const n of [...a.notes, ...a.extraNotes]) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

async function staleOrClean(a: Args, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const located = await locateBuildDirs(a.path, { useCargo: !a.noCargo });
  if (located.kind === 'error') {
    err.write(`error: ${located.message}\n`);
    return located.code === 'missing' ? EXIT.missing : located.code === 'permission' ? EXIT.permission : EXIT.notCargo;
  }
  if (a.walker === 'node') process.env.CARGO_BUILD_DIR_WALKER = 'node';
  const walker = await createWalker({ build: true, log: (l) => err.write(l + '\n') });
  let analysis: Staleness;
  let plan: CleanPlan | null = null;
  const inputs = staleInputs(located, !a.noCargo);
  try {
    const result = await scanBuildDirs(located.dirs.buildDirs, {
      walker,
      members: located.dirs.members,
      workspaceRoot: located.kind === 'workspace' ? located.dirs.workspaceRoot : null,
    });
    analysis = await analyze(result, located, walker, inputs, a.idleDays);
    if (a.command === 'clean') plan = await planClean(analysis.scan, analysis.items, walker);
  } finally {
    walker.close();
  }
  if (a.command === 'stale') {
    if (a.json) {
      out.write(
        JSON.stringify({
          schema: 1,
          tool: TOOL,
          items: analysis.items.map(itemToJson),
          bytes: analysis.items.reduce((n, i) => n + i.bytes, 0),
          freedBytes: analysis.items.reduce((n, i) => n + i.freedBytes, 0),
          incremental: [...analysis.incremental].map(([p, reasons]) => ({ path: p, reasons })),
          notes: [...analysis.notes, ...analysis.extraNotes],
        }) + '\n',
      );
    } else out.write(renderStale(analysis));
    return EXIT.ok;
  }
  if (!a.json) for (const n of [...analysis.notes, ...analysis.extraNotes]) err.write(`note: ${n}\n`);
  return runPlan(plan!, a, out, err);
}

async function cleanPaths(a: Args, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const roots = new Map<string, string[]>();
  for (const raw of a.paths) {
    // `path.resolve` would quietly fold `..` away; a cleaner takes the path it is given or none.
    if (raw.split(/[\\/]/).includes('..')) {
      err.write(`error: refusing ${JSON.stringify(raw)}: it contains \`..\`; give the unit's real path\n`);
      return EXIT.refused;
    }
    const abs = path.resolve(raw);
    try {
      fs.lstatSync(abs);
    } catch {
      err.write(`error: ${abs} does not exist\n`);
      return EXIT.missing;
    }
    const root = enclosingBuildDir(abs);
    if (!root) {
      err.write(`error: refusing ${abs}: it is not inside a Cargo build directory\n`);
      return EXIT.refused;
    }
    const g = roots.get(root);
    if (g) g.push(abs);
    else roots.set(root, [abs]);
  }
  if (a.walker === 'node') process.env.CARGO_BUILD_DIR_WALKER = 'node';
  const walker = await createWalker({ build: true, log: (l) => err.write(l + '\n') });
  let plan: CleanPlan;
  try {
    const result = await scanBuildDirs(
      [...roots.keys()].map((p) => ({ path: p, role: 'both' as const, discovery: 'given path' as const })),
      { walker },
    );
    const { items, refused } = itemsForPaths(result, a.paths.map((p) => path.resolve(p)));
    if (refused.length) {
      for (const r of refused) err.write(`error: refusing ${r.path}: ${r.message}\n`);
      err.write('nothing was deleted\n');
      return EXIT.refused;
    }
    plan = await planClean(result, items, walker);
  } finally {
    walker.close();
  }
  return runPlan(plan, a, out, err);
}

function renderPlan(plan: CleanPlan, trash: boolean): string {
  const n = plan.profiles.reduce((k, p) => k + p.items.reduce((m, i) => m + i.entries.length, 0), 0);
  const lines: string[] = [];
  lines.push(`Plan: ${trash ? 'move to the trash' : 'delete'} ${n} path${n === 1 ? '' : 's'} in ${plan.profiles.length} profile folder${plan.profiles.length === 1 ? '' : 's'}: ${formatBytes(plan.bytes)}, frees ${formatBytes(plan.freedBytes)} (hard links counted once)`);
  for (const p of plan.profiles) {
    lines.push(`${p.profilePath}  ${formatBytes(p.bytes)}, frees ${formatBytes(p.freedBytes)}  (under cargo's locks: ${p.locks.map((l) => path.relative(path.dirname(p.buildDir), l.path)).join(', ')})`);
    for (const i of p.items) {
      lines.push(`  ${i.label.padEnd(46)} ${formatBytes(i.bytes).padStart(10)}  frees ${formatBytes(i.freedBytes).padStart(10)}  ${i.reasons.map((r) => r.reason).join(', ') || 'selected'}`);
      for (const e of i.entries) lines.push(`      ${e.path}`);
    }
  }
  for (const pr of plan.problems) lines.push(`note: ${pr.path}: ${pr.message}`);
  return lines.join('\n') + '\n';
}

function ask(question: string, err: NodeJS.WritableStream): Promise<boolean> {
  return new Promise((resolve) => {
    err.write(question);
    const stdin = process.stdin;
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('utf8');
      if (!text.includes('\n')) return;
      stdin.off('data', onData);
      stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(text.split('\n', 1)[0] ?? ''));
    };
    stdin.on('data', onData);
    stdin.once('end', () => resolve(false));
    stdin.resume();
  });
}

const STATUS_EXIT: Record<CleanResult['status'], number> = {
  done: EXIT.ok,
  busy: EXIT.cargoBusy,
  refused: EXIT.refused,
  partial: EXIT.partial,
  'no-lock': EXIT.noLock,
  cancelled: EXIT.notConfirmed,
};

async function runPlan(plan: CleanPlan, a: Args, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const emit = (result: CleanResult | null, extra: Record<string, unknown> = {}): void => {
    if (a.json) out.write(JSON.stringify({ schema: 1, tool: TOOL, plan, result, ...extra }) + '\n');
  };
  // Folders without cargo's marks are refused before anything is shown as deletable.
  for (const p of plan.profiles) {
    const why = cargoMarkersMissing(p.buildDir, p.profilePath);
    if (why) {
      err.write(`error: refusing to clean in ${p.profilePath}: ${why}\nnothing was deleted\n`);
      emit(null, { refused: why });
      return EXIT.refused;
    }
  }
  if (!a.json) out.write(renderPlan(plan, a.trash));
  const total = plan.profiles.reduce((k, p) => k + p.items.length, 0);
  if (total === 0) {
    if (!a.json) out.write('nothing to clean\n');
    emit(null);
    return EXIT.ok;
  }
  if (a.dryRun) {
    if (!a.json) out.write('dry run: nothing was deleted\n');
    emit(null, { dryRun: true });
    return EXIT.ok;
  }
  let trash: ((p: string) => Promise<void>) | null = null;
  if (a.trash) {
    const t = createTrasher();
    if ('unsupported' in t) {
      err.write(`error: ${t.unsupported}\n`);
      return EXIT.usage;
    }
    trash = t;
  }
  if (!a.yes) {
    const interactive = !!process.stdin.isTTY && !!(err as NodeJS.WriteStream).isTTY;
    if (!interactive) {
      err.write('error: not on a terminal: give --yes to delete what the plan shows (or --dry-run to only see it); nothing was deleted\n');
      return EXIT.notConfirmed;
    }
    if (!(await ask(`${trash ? 'Move these to the trash' : 'Delete these'} (${formatBytes(plan.bytes)})? [y/N] `, err))) {
      err.write('not confirmed: nothing was deleted\n');
      return EXIT.notConfirmed;
    }
  }
  const locker = await createLocker({ log: (l) => err.write(`${l}\n`) });
  if ('unavailable' in locker) {
    err.write(`error: ${locker.unavailable}\n`);
    emit(null, { refused: locker.unavailable });
    return EXIT.noLock;
  }
  let cancelled = false;
  const onSigint = (): void => {
    cancelled = true;
    err.write('\nstopping after the current item…\n');
  };
  process.once('SIGINT', onSigint);
  const tty = !!(err as NodeJS.WriteStream).isTTY && !a.json;
  let result: CleanResult;
  try {
    result = await executeClean(plan, {
      locker,
      trash,
      isCancelled: () => cancelled,
      onProgress: (p) => {
        if (tty && p.phase === 'deleting') err.write(`\r${p.itemsDone}/${p.itemsTotal} ${formatBytes(p.bytesFreed)} freed  `);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (tty) err.write('\r\x1b[K');
  if (a.json) emit(result);
  else {
    for (const f of result.failed) err.write(`failed: ${f.path}: ${f.message}\n`);
    for (const r of result.refused) err.write(`refused: ${r.path}: ${r.message}\n`);
    const line = `${result.message}${result.removed.length ? `; freed about ${formatBytes(result.freedBytes)}` : ''} (locks by ${locker.mechanism})`;
    (result.status === 'done' ? out : err).write(`${result.status === 'done' ? '' : 'error: '}${line}\n`);
  }
  return STATUS_EXIT[result.status];
}

/** Above this much output a scan is not kept for replay (it belongs to a build dir beyond the memo's limit). */
const MAX_CAPTURE = 32 << 20;

function scanReplay(located: Exclude<Located, { kind: 'error' }>, launch: LaunchInfo): ScanReplayStore | null {
  try {
    const d = located.dirs;
    return openScanReplay({
      dir: defaultCacheDir(),
      scope: d.buildDirs.map((b) => path.resolve(b.path)),
      context: JSON.stringify({ code: launch.codeId, members: d.members ?? [] }),
      inputs: JSON.stringify({ buildDirs: d.buildDirs, workspaceRoot: located.kind === 'workspace' ? d.workspaceRoot : null }),
    });
  } catch {
    return null;
  }
}

/**
 * The store of decoded units kept between runs (src/node/scan-memo.ts), for a run of the bundle (whose identity
 * says which code made the records); none with CARGO_BUILD_DIR_SCAN_CACHE=off.
 */
function scanMemo(buildDirs: readonly { readonly path: string }[], members: unknown, launch: LaunchInfo): ScanMemoStore | null {
  if (launch.codeId === undefined || process.env.CARGO_BUILD_DIR_SCAN_CACHE === 'off') return null;
  let dir: string | null;
  try {
    dir = defaultCacheDir();
  } catch {
    return null;
  }
  return openScanMemo({ dir, scope: buildDirs.map((d) => path.resolve(d.path)), context: JSON.stringify({ code: launch.codeId, members: members ?? [] }) });
}

/** Runs the command line on this process's arguments and sets its exit code. */
export function run(launch: LaunchInfo = {}): void {
  main(process.argv.slice(2), process.stdout, process.stderr, launch).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}

if (require.main === module) run();
