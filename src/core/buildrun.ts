// A build-script run in words (issue 5, "Inspect"): what the script printed, grouped by what cargo does with it
// (cfgs, env vars, link settings, rerun rules, warnings, errors, metadata), its stderr, when it ran, and which
// `rerun-if-changed` paths are gone (cargo then reruns it at every build). Relative paths are relative to the
// package root, which no file of the run unit records: it is recovered from the package's other units, where
// rustc's `.d` file (paths as rustc saw them: absolute, or relative to the workspace root it ran in) and cargo's
// binary dep-info (the same files relative to the package root) name the same files two ways.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanResult, Unit } from './model';
import type { Decoded, UnitDetails } from './inspect';
import type { Directive } from './buildscript';
import { parseDepInfo } from './depinfo';
import { fingerprintDirOf, hashFileNameOf, indexUnits, outDirOf } from './unitindex';

const MAX_D = 4 << 20;

export interface PackageRoot {
  /** Absolute package root, or null when it could not be found. */
  readonly path: string | null;
  /** How it was found (or why not), in words. */
  readonly how: string;
}

function readSmall(file: string, max = MAX_D): Buffer | null {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > max) return null;
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

/** The prerequisites of the first rule of a Makefile-style `.d` file written by rustc (`\ ` escapes a space). */
export function parseRustcDepFile(text: string): { target: string; deps: string[] } | null {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (!line) return null;
  const sep = line.search(/:(\s|$)/);
  if (sep < 0) return null;
  const words: string[] = [];
  let cur = '';
  const rest = line.slice(sep + 1);
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charAt(i);
    if (c === '\\' && rest.charAt(i + 1) === ' ') {
      cur += ' ';
      i++;
    } else if (c === ' ' || c === '\t') {
      if (cur) words.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) words.push(cur);
  return { target: line.slice(0, sep), deps: words };
}

function rustcDepFiles(u: Unit): string[] {
  const dirs = u.layout === 'v2' ? [path.join(u.paths[0] ?? '', 'out')] : u.paths.filter((p) => !path.extname(p) && !p.includes(`${path.sep}.fingerprint${path.sep}`));
  const files = u.paths.filter((p) => p.endsWith('.d'));
  for (const d of dirs) {
    try {
      for (const n of fs.readdirSync(d)) if (n.endsWith('.d')) files.push(path.join(d, n));
    } catch {
      // Not a folder, or gone.
    }
  }
  return [...new Set(files)];
}

function packageRelativeFiles(u: Unit): string[] {
  const dir = fingerprintDirOf(u);
  const name = hashFileNameOf(u);
  if (!dir || !name) return [];
  const b = readSmall(path.join(dir, `dep-${name}`));
  if (!b) return [];
  try {
    return parseDepInfo(b)
      .files.filter((f) => f.base === 'package')
      .map((f) => f.path);
  } catch {
    return [];
  }
}

const slash = (p: string): string => p.replace(/\\/g, '/');

/**
 * The package root of `unit`'s package, from that package's compile units in the same build dir: a source rustc
 * saw as `P` that cargo's dep-info lists as `Q` (relative to the package) gives the root `P` minus `Q`. When `P` is
 * relative it is relative to the workspace root (cargo runs rustc there); `workspaceRoot` defaults to the scan's,
 * then to the folder holding the build dir when that is the default `<workspace>/target` and the file exists.
 * Registry and git packages (whose dep-info lists no files) are recognised by their `<name>-<version>` folder.
 */
export function findPackageRoot(unit: Unit, scan: ScanResult, opts: { readonly workspaceRoot?: string | null } = {}): PackageRoot {
  const index = indexUnits(scan);
  const self = index.byId.get(unit.id);
  const same = index.refs.filter((r) => r.unit.package === unit.package && (!self || r.buildDir.path === self.buildDir.path) && r.unit.mode !== 'run-custom-build');
  const order = (u: Unit): number => (u.kind === 'build-script' ? 0 : u.kind === 'lib' || u.kind === 'proc-macro' ? 1 : 2);
  same.sort((a, b) => order(a.unit) - order(b.unit));
  const wsRoot = opts.workspaceRoot ?? scan.workspaceRoot;
  const buildDir = self?.buildDir.path ?? null;
  for (const r of same.slice(0, 6)) {
    const rel = packageRelativeFiles(r.unit).map(slash);
    for (const file of rustcDepFiles(r.unit)) {
      const b = readSmall(file);
      const parsed = b ? parseRustcDepFile(b.toString('utf8')) : null;
      if (!parsed) continue;
      for (const dep of parsed.deps) {
        const seen = slash(dep);
        if (unit.version && path.isAbsolute(dep)) {
          const m = new RegExp(`^(.*/${unit.package.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${unit.version.replace(/\./g, '\\.')})/`).exec(seen);
          if (m?.[1] && !rel.length) return { path: path.normalize(m[1]), how: `rustc compiled ${dep} (${path.basename(file)}), inside the package's ${path.basename(m[1])} folder` };
        }
        for (const q of rel) {
          let prefix: string | null = null;
          if (seen === q) prefix = '';
          else if (seen.endsWith('/' + q)) prefix = seen.slice(0, seen.length - q.length - 1);
          if (prefix === null) continue;
          const what = `rustc saw ${dep} (${path.basename(file)}) where cargo's dep-info lists ${q} relative to the package`;
          if (path.isAbsolute(prefix || '.') && prefix !== '') return { path: path.normalize(prefix), how: what };
          if (wsRoot) return { path: path.resolve(wsRoot, prefix || '.'), how: `${what}; rustc ran in the workspace root ${wsRoot}` };
          if (buildDir && path.basename(buildDir) === 'target') {
            const guess = path.resolve(path.dirname(buildDir), prefix || '.');
            if (fs.existsSync(path.join(guess, q))) {
              return { path: guess, how: `${what}; the workspace root is taken to be the folder holding the build dir (${path.dirname(buildDir)}), where ${q} exists` };
            }
          }
          return { path: null, how: `${what}, but that is relative to the workspace root, which is not known here` };
        }
      }
    }
  }
  return { path: null, how: `no compile unit of ${unit.package} in this build dir records its sources in a way that names the package folder` };
}

export interface RerunPath {
  /** As the script printed it. */
  readonly path: string;
  /** Absolute (relative paths resolved against the package root), null when the root is unknown. */
  readonly resolved: string | null;
  /** Null when `resolved` is null. A missing path makes cargo rerun the script at every build. */
  readonly exists: boolean | null;
  readonly line: number;
}

export interface RerunEnv {
  readonly name: string;
  /** The value cargo recorded when the script ran (fingerprint), null = unset, undefined = not recorded. */
  readonly valueAtRun: string | null | undefined;
  readonly line: number;
}

export interface BuildRunReport {
  readonly unit: Unit;
  readonly outDir: string;
  /** OUT_DIR as written at run time (`root-output`); cargo swaps the prefix when the folder has moved. */
  readonly outDirAtRun: string | null;
  readonly ranAt: number | null;
  readonly packageRoot: PackageRoot;
  readonly cfgs: readonly string[];
  readonly checkCfgs: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly linkLibs: readonly string[];
  readonly linkSearch: readonly { readonly kind: string | null; readonly path: string }[];
  readonly linkArgs: readonly { readonly variant: string; readonly bin: string | null; readonly arg: string }[];
  readonly rerunIfChanged: readonly RerunPath[];
  readonly rerunIfEnvChanged: readonly RerunEnv[];
  /** What makes cargo rerun the script, in words (rerun-if lines, or the whole package when there are none). */
  readonly rerunRule: string;
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
  /** `cargo::metadata=K=V` and old-syntax `cargo:K=V` (`links` metadata, seen as DEP_<LINKS>_<K> by dependents). */
  readonly metadata: readonly { readonly key: string; readonly value: string; readonly syntax: 'new' | 'old' }[];
  /** Lines cargo rejects (the build fails on them). */
  readonly invalid: readonly { readonly line: number; readonly raw: string; readonly message: string }[];
  readonly stdout: Decoded<string> | null;
  readonly stderr: Decoded<string> | null;
  /** Anything that could not be read, in words. */
  readonly problems: readonly string[];
}

/**
 * The report for a build-script run unit (throws for other units). `details` is readUnitDetails(unit); the scan
 * is used to find the package root unless `packageRoot` is given.
 */
export function buildRunReport(
  details: UnitDetails,
  ctx: { readonly scan?: ScanResult | null; readonly workspaceRoot?: string | null; readonly packageRoot?: PackageRoot | null } = {},
): BuildRunReport {
  const unit = details.unit;
  const b = details.buildScript;
  if (unit.mode !== 'run-custom-build' || !b) throw new Error(`${unit.id} is not a build-script run`);
  const problems: string[] = [];
  const root: PackageRoot =
    ctx.packageRoot ??
    (ctx.scan ? findPackageRoot(unit, ctx.scan, { workspaceRoot: ctx.workspaceRoot ?? null }) : { path: null, how: 'no scan was given to find the package root' });
  const directives: readonly Directive[] = b.stdout?.ok ? b.stdout.value.parsed.directives : [];
  if (b.stdout === null) problems.push('the script output file is missing');
  else if (!b.stdout.ok) problems.push(`the script output is unreadable: ${b.stdout.error}`);
  if (b.stderr !== null && !b.stderr.ok) problems.push(`stderr is unreadable: ${b.stderr.error}`);

  const recordedEnv = new Map<string, string | null>();
  for (const t of details.targets) {
    if (!t.json?.ok) continue;
    for (const l of t.json.value.local) if (l.kind === 'RerunIfEnvChanged') recordedEnv.set(l.var, l.val);
  }

  const cfgs: string[] = [];
  const checkCfgs: string[] = [];
  const env: { name: string; value: string }[] = [];
  const linkLibs: string[] = [];
  const linkSearch: { kind: string | null; path: string }[] = [];
  const linkArgs: { variant: string; bin: string | null; arg: string }[] = [];
  const rerunIfChanged: RerunPath[] = [];
  const rerunIfEnvChanged: RerunEnv[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const metadata: { key: string; value: string; syntax: 'new' | 'old' }[] = [];
  const invalid: { line: number; raw: string; message: string }[] = [];
  for (const d of directives) {
    switch (d.category) {
      case 'cfg':
        cfgs.push(d.value);
        break;
      case 'check-cfg':
        checkCfgs.push(d.value);
        break;
      case 'env':
        env.push({ name: d.name, value: d.envValue });
        break;
      case 'link-lib':
        linkLibs.push(d.value);
        break;
      case 'link-search':
        linkSearch.push({ kind: d.kind, path: d.path });
        break;
      case 'link-arg':
        linkArgs.push({ variant: d.variant, bin: d.bin, arg: d.arg });
        break;
      case 'flags':
        linkLibs.push(...d.libs);
        for (const p of d.searchPaths) linkSearch.push({ kind: null, path: p });
        break;
      case 'rerun-if-changed': {
        const resolved = path.isAbsolute(d.value) ? d.value : root.path ? path.join(root.path, d.value) : null;
        let exists: boolean | null = null;
        if (resolved) {
          try {
            fs.lstatSync(resolved);
            exists = true;
          } catch {
            exists = false;
          }
        }
        rerunIfChanged.push({ path: d.value, resolved, exists, line: d.line });
        break;
      }
      case 'rerun-if-env-changed':
        rerunIfEnvChanged.push({ name: d.value, valueAtRun: recordedEnv.has(d.value) ? recordedEnv.get(d.value) : undefined, line: d.line });
        break;
      case 'warning':
        warnings.push(d.value);
        break;
      case 'error':
        errors.push(d.value);
        break;
      case 'metadata':
        metadata.push({ key: d.metaKey, value: d.metaValue, syntax: 'new' });
        break;
      case 'links-metadata':
        metadata.push({ key: d.metaKey, value: d.metaValue, syntax: 'old' });
        break;
      case 'invalid':
        invalid.push({ line: d.line, raw: d.raw, message: d.message });
        break;
    }
  }
  let rerunRule: string;
  if (rerunIfChanged.length === 0 && rerunIfEnvChanged.length === 0) {
    rerunRule = 'the script prints no rerun-if line, so cargo reruns it whenever any file of the package changes';
  } else {
    const parts: string[] = [];
    if (rerunIfChanged.length) parts.push(rerunIfChanged.length === 1 ? `${rerunIfChanged[0]!.path} changes` : `one of ${rerunIfChanged.map((r) => r.path).join(', ')} changes`);
    if (rerunIfEnvChanged.length) parts.push(rerunIfEnvChanged.length === 1 ? `${rerunIfEnvChanged[0]!.name} changes` : `one of ${rerunIfEnvChanged.map((e) => e.name).join(', ')} changes`);
    rerunRule = `cargo reruns it only when ${parts.join(' or ')}, or the script itself is rebuilt`;
    if (rerunIfChanged.length === 0) rerunRule += ' (no rerun-if-changed line: no file of the package is watched)';
    const gone = rerunIfChanged.filter((r) => r.exists === false);
    if (gone.length) rerunRule += `; ${gone.map((g) => g.path).join(', ')} ${gone.length === 1 ? 'no longer exists' : 'no longer exist'}, so cargo reruns it at every build`;
  }
  return {
    unit,
    outDir: outDirOf(unit) ?? b.outDir,
    outDirAtRun: b.rootOutput?.ok ? b.rootOutput.value : null,
    ranAt: b.ranAt,
    packageRoot: root,
    cfgs,
    checkCfgs,
    env,
    linkLibs,
    linkSearch,
    linkArgs,
    rerunIfChanged,
    rerunIfEnvChanged,
    rerunRule,
    warnings,
    errors,
    metadata,
    invalid,
    stdout: b.stdout ? (b.stdout.ok ? { ok: true, value: b.stdout.value.text } : b.stdout) : null,
    stderr: b.stderr,
    problems,
  };
}
