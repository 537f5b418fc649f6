#!/usr/bin/env node
// The command line front end: the same engine as the extension (src/core), with process-level adapters from
// src/node. Exit codes are part of the documented interface (README "Command line").

import { performance } from 'node:perf_hooks';
import { locateBuildDirs } from './node/cargo';
import { createWalker } from './node/walker';
import { findNativeWalker } from './node/native';
import { scanBuildDirs, type Outline } from './core/scan';
import { scanToJson } from './core/json';

import { formatBytes, formatAge, unitLabel } from './core/format';
import type { ScanResult, Unit } from './core/model';
import { readUnitDetails } from './core/inspect';
import { renderDetails } from './core/render';
import { enclosingBuildDir } from './core/layout';
import { unitToJson } from './core/json';
import * as fs from 'node:fs';
import * as path from 'node:path';

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  missing: 3,
  notCargo: 4,
  permission: 5,
} as const;

const USAGE = `cargo-build-dir ${VERSION}: see and measure Cargo's build directory

Usage:
  cargo-build-dir scan [PATH] [--json] [--summary] [--stats] [--no-cargo] [--walker native|node]
  cargo-build-dir show UNIT_PATH [--json]
                                       decode one unit: fingerprints, dep-info, cached compiler messages,
                                       build-script output and its cargo:: directives
  cargo-build-dir walker [--build]     say which size walker scans use; --build builds the native one now

PATH is a Cargo workspace (or any folder inside one) or a build directory itself; default: the current folder.
  --json       print the scan as JSON (schema 1, see docs/json-schema.md)
  --summary    human output: profiles and packages only, no units
  --stats      print timings as one JSON line on stderr
  --no-cargo   do not run \`cargo metadata\`; find the build dir from the environment and .cargo/config.toml
  --walker     measure sizes with the native walker (built once with your cargo) or pure Node

Exit codes: 0 scanned (also when nothing is built yet), 1 internal error, 2 usage, 3 PATH does not exist,
4 PATH is neither a Cargo workspace nor a build directory, 5 permission denied.`;

interface Args {
  command: string;
  build: boolean;
  path: string;
  json: boolean;
  summary: boolean;
  stats: boolean;
  noCargo: boolean;
  walker: 'native' | 'node' | null;
}

function parseArgs(argv: readonly string[]): Args | string {
  const a: Args = { command: '', build: false, path: '.', json: false, summary: false, stats: false, noCargo: false, walker: null };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--json') a.json = true;
    else if (x === '--summary') a.summary = true;
    else if (x === '--stats') a.stats = true;
    else if (x === '--no-cargo') a.noCargo = true;
    else if (x === '--build') a.build = true;
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
  if (positional.length > 2) return `too many arguments: ${positional.slice(2).join(' ')}`;
  if (positional[1] !== undefined) a.path = positional[1];
  if (!['scan', 'walker', 'show'].includes(a.command)) return `unknown command ${a.command}`;
  if (a.command === 'show' && positional[1] === undefined) return 'show needs the path of a unit folder';
  return a;
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
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
  const walker = await createWalker({ build: true, log: (l) => err.write(l + '\n') });
  let outlineAt = 0;
  let result: ScanResult;
  try {
    const tScan = performance.now();
    result = await scanBuildDirs(located.dirs.buildDirs, {
      walker,
      members: located.dirs.members,
      workspaceRoot: located.kind === 'workspace' ? located.dirs.workspaceRoot : null,
      onOutline: (_o: Outline) => {
        outlineAt = performance.now() - tScan;
      },
    });
    const tDone = performance.now();
    if (parsed.stats) {
      err.write(
        JSON.stringify({ locateMs: round(tLocated - t0), outlineMs: round(outlineAt), scanMs: round(tDone - tScan), walker: walker.name }) + '\n',
      );
    }
  } finally {
    walker.close();
  }
  if (parsed.json) {
    out.write(JSON.stringify(scanToJson(result, { name: 'cargo-build-dir', version: VERSION })) + '\n');
  } else {
    out.write(renderHuman(result, located.dirs.notes ?? [], parsed.summary));
  }
  return EXIT.ok;
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

if (require.main === module) {
  main(process.argv.slice(2), process.stdout, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
