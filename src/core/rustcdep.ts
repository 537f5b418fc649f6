// Core, pure: reads rustc's Makefile-style `.d` files (legacy `deps/<crate>-<META>.d`, v2 `out/*.d`) and works
// out a unit's package version and source from the paths of its sources, because the fingerprint files hold
// neither. Paths are only looked at as text; nothing here touches the disk.

import type { PackageSource } from './model';

export class RustcDepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RustcDepError';
  }
}

export interface RustcDepRule {
  readonly output: string;
  readonly sources: readonly string[];
}

/** Finds the `: ` that ends the target. rustc escapes spaces in paths (`\ `), so a colon in a path never has one after it. */
function separatorIndex(line: string): number {
  const i = line.indexOf(': ');
  if (i >= 0) return i;
  if (line.endsWith(':') && line.length > 1) return line.length - 1;
  return -1;
}

function unescapeSpaces(s: string): string {
  return s.replace(/\\ /g, ' ');
}

/**
 * Parses one rule line, `out: src1 src2`, as cargo does: split at the first `: `, then split the sources at
 * whitespace, joining a piece that ends with `\` to the next one (rustc writes a space in a path as `\ `).
 * Drive letters (`C:\…`) and colons inside paths are fine because they are not followed by a space.
 * Throws RustcDepError when the line is not a rule.
 */
export function parseRustcDepInfoLine(line: string): RustcDepRule {
  const text = line.replace(/\r?\n$/, '').replace(/\r$/, '');
  const sep = separatorIndex(text);
  if (sep < 0) throw new RustcDepError(`not a dep-info rule (no \`: \` after the output path): ${JSON.stringify(truncate(text))}`);
  const output = unescapeSpaces(text.slice(0, sep).trimStart());
  if (output === '') throw new RustcDepError(`dep-info rule has an empty output path: ${JSON.stringify(truncate(text))}`);
  const pieces = text
    .slice(sep + 1)
    .split(/[ \t]+/)
    .filter((p) => p !== '');
  const sources: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    let file = pieces[i] as string;
    while (file.endsWith('\\')) {
      const next = pieces[i + 1];
      if (next === undefined) throw new RustcDepError(`dep-info rule ends with a lone \`\\\`: ${JSON.stringify(truncate(text))}`);
      file = `${file.slice(0, -1)} ${next}`;
      i++;
    }
    sources.push(file);
  }
  return { output, sources };
}

export interface RustcDepInfo extends RustcDepRule {
  /** `# env-dep:NAME[=VALUE]` lines; value null when the variable was unset. */
  readonly env: readonly { readonly key: string; readonly value: string | null }[];
}

/**
 * Parses a whole rustc `.d` file: the first rule (the one that names the sources; later rules repeat them
 * for each output, and the `src:` lines are empty phony rules) and the `# env-dep:` comments.
 */
export function parseRustcDepInfo(text: string): RustcDepInfo {
  let rule: RustcDepRule | null = null;
  const env: { key: string; value: string | null }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const envDep = /^# env-dep:(.*)$/.exec(line);
    if (envDep) {
      const body = envDep[1] ?? '';
      const eq = body.indexOf('=');
      env.push(eq < 0 ? { key: unescapeEnv(body), value: null } : { key: unescapeEnv(body.slice(0, eq)), value: unescapeEnv(body.slice(eq + 1)) });
      continue;
    }
    if (rule === null && line.trim() !== '' && !line.startsWith('#')) rule = parseRustcDepInfoLine(line);
  }
  if (rule === null) throw new RustcDepError('dep-info file has no rule line');
  return { ...rule, env };
}

/** rustc keeps env values on one line by writing `\n`, `\r` and `\\`. */
function unescapeEnv(s: string): string {
  return s.replace(/\\([\\nr])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

// Semantic version: MAJOR.MINOR.PATCH, optional pre-release and build metadata.
const SEMVER = /^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

export interface PackageOrigin {
  readonly version: string | null;
  readonly source: PackageSource;
}

/** The origin one source path shows, or null when the path says nothing about it. */
function originOf(source: string, packageName: string): PackageOrigin | null {
  const segs = source.split(/[\\/]/);
  // Checkouts are `git/checkouts/<repo>-<hash>/<rev>/…`; the package may sit in a subfolder of the repository.
  for (let i = 0; i + 4 < segs.length; i++) {
    if (segs[i] === 'git' && segs[i + 1] === 'checkouts' && segs[i + 2] && segs[i + 3]) {
      return { version: null, source: { kind: 'git', detail: `${segs[i + 2]}/${segs[i + 3]}` } };
    }
  }
  const head = `${packageName}-`;
  // The last segment is the file itself, so only folders are considered.
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i] as string;
    if (!seg.startsWith(head)) continue;
    const version = seg.slice(head.length);
    if (!SEMVER.test(version)) continue;
    if (i >= 3 && segs[i - 2] === 'src' && segs[i - 3] === 'registry' && segs[i - 1]) {
      return { version, source: { kind: 'registry', detail: segs[i - 1] as string } };
    }
    // Cargo passes only path packages to rustc by a relative path, so a relative match is a path package
    // that happens to live in a `<name>-<version>` folder.
    if (!isAbsolute(source)) return null;
    const sepAt = source.length - segs.slice(i).join('/').length - 1;
    const dir = sepAt > 0 ? source.slice(0, sepAt) : source.slice(0, 1);
    return { version, source: { kind: 'directory', detail: dir } };
  }
  return null;
}

/**
 * Works out the version and source of a package from the source paths of one of its units (a rustc `.d` rule):
 * - registry: `…/registry/src/<index-dir>/<name>-<version>/…` → detail `<index-dir>`
 * - git: `…/git/checkouts/<repo>-<hash>/<rev>/…` → detail `<repo>-<hash>/<rev>`, version null
 * - directory (vendored or distribution sources): an absolute `…/<dir>/<name>-<version>/…` outside a registry
 *   → detail the folder that holds `<name>-<version>`
 * - path: relative paths (cargo runs rustc from the workspace root), version null.
 * `packageName` is the package name as in the folder (dashes kept). The first source that shows an origin wins;
 * generated files in OUT_DIR show none and are skipped. Absolute paths with no origin are taken as path
 * packages outside the workspace; an empty list gives `unknown`.
 */
export function packageOrigin(sources: readonly string[], packageName: string): PackageOrigin {
  for (const s of sources) {
    const o = originOf(s, packageName);
    if (o) return o;
  }
  if (sources.length === 0) return { version: null, source: { kind: 'unknown', detail: null } };
  return { version: null, source: { kind: 'path', detail: null } };
}
