// Finding a workspace's build directories (reference §1). Pure path rules and file reads, shared by
// the command line and the extension: `dirsFromMetadata` turns `cargo metadata` output into
// locations, and `dirsWithoutCargo` applies cargo's own precedence rules when cargo cannot be run.
// Running cargo lives in src/node/cargo.ts.

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Discovery } from './model';

export interface BuildDirLocation {
  /** Absolute and normalized. */
  readonly path: string;
  readonly role: 'build-dir' | 'target-dir' | 'both';
  readonly discovery: Discovery;
}

export interface WorkspaceMember {
  readonly name: string;
  readonly version: string;
  readonly manifestPath: string;
  /** The lib target is a proc-macro: its check units have no `.so` to tell it by. */
  readonly procMacro: boolean;
}

export interface WorkspaceDirs {
  /** Folder of the root Cargo.toml; empty when a build dir was given directly (no workspace known). */
  readonly workspaceRoot: string;
  /** The build-dir first, then the target-dir when it is a different folder. */
  readonly buildDirs: BuildDirLocation[];
  readonly members: WorkspaceMember[];
  /** Things the user may want to know about how the folders were found, in words. */
  readonly notes: string[];
}

// -------------------------------------------------------------------------------------------------
// From `cargo metadata`

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function locations(build: { path: string; discovery: Discovery }, target: { path: string; discovery: Discovery }): BuildDirLocation[] {
  if (samePath(build.path, target.path)) return [{ path: build.path, role: 'both', discovery: build.discovery }];
  return [
    { path: build.path, role: 'build-dir', discovery: build.discovery },
    { path: target.path, role: 'target-dir', discovery: target.discovery },
  ];
}

function samePath(a: string, b: string): boolean {
  // Case-insensitive file systems are the norm where paths use backslashes.
  return process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/**
 * The workspace's folders from `cargo metadata --format-version 1 --no-deps` (already parsed).
 * Throws when the JSON is not cargo metadata output.
 */
export function dirsFromMetadata(json: unknown): WorkspaceDirs {
  if (typeof json !== 'object' || json === null) throw new Error('cargo metadata output is not a JSON object');
  const m = json as Record<string, unknown>;
  const workspaceRoot = str(m.workspace_root);
  const targetDir = str(m.target_directory);
  if (!workspaceRoot || !targetDir) throw new Error('cargo metadata output has no workspace_root or target_directory');
  const notes: string[] = [];
  let buildDir = str(m.build_directory);
  if (!buildDir) {
    notes.push('This cargo does not report build_directory (cargo before 1.91): the build dir is taken to be the target dir.');
    buildDir = targetDir;
  }
  const members: WorkspaceMember[] = [];
  if (Array.isArray(m.packages)) {
    for (const p of m.packages as unknown[]) {
      if (typeof p !== 'object' || p === null) continue;
      const pkg = p as Record<string, unknown>;
      const name = str(pkg.name);
      const version = str(pkg.version);
      const manifestPath = str(pkg.manifest_path);
      const targets = Array.isArray(pkg.targets) ? (pkg.targets as unknown[]) : [];
      const procMacro = targets.some((t) => {
        const kind = typeof t === 'object' && t !== null ? (t as Record<string, unknown>).kind : undefined;
        return Array.isArray(kind) && kind.includes('proc-macro');
      });
      if (name && version && manifestPath) members.push({ name, version, manifestPath: path.resolve(manifestPath), procMacro });
    }
  }
  // cargo joins relative settings onto a folder without normalizing (`/ws/../x`); ids must be canonical.
  return {
    workspaceRoot: path.resolve(workspaceRoot),
    buildDirs: locations(
      { path: path.resolve(buildDir), discovery: 'cargo-metadata' },
      { path: path.resolve(targetDir), discovery: 'cargo-metadata' },
    ),
    members,
    notes,
  };
}

// -------------------------------------------------------------------------------------------------
// A small TOML reader: enough of TOML 1.0 to pull string settings out of cargo config files and
// manifests without misreading them (tables, dotted and quoted keys, the four string forms, inline
// tables and arrays). Other value types are skipped, not interpreted.

export class TomlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
    this.name = 'TomlError';
  }
}

/** A value the reader keeps: strings and arrays of strings; anything else is `OTHER`. */
export type TomlValue = string | TomlValue[] | typeof OTHER | boolean;
export const OTHER: unique symbol = Symbol('other TOML value');

/** Reads `text` and returns every leaf value by its full dotted key path (`build.target-dir`). */
export function readToml(text: string): Map<string, TomlValue> {
  return new TomlReader(text).read();
}

const BARE_KEY = /[A-Za-z0-9_-]/;

class TomlReader {
  private pos = 0;
  private readonly out = new Map<string, TomlValue>();
  private readonly tables = new Set<string>();
  private arrayTables = 0;

  constructor(private readonly s: string) {}

  private get line(): number {
    let n = 1;
    for (let i = 0; i < this.pos && i < this.s.length; i++) if (this.s[i] === '\n') n++;
    return n;
  }

  private fail(message: string): never {
    throw new TomlError(message, this.line);
  }

  private peek(offset = 0): string {
    return this.s[this.pos + offset] ?? '';
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private skipComment(): void {
    if (this.peek() === '#') while (this.pos < this.s.length && this.peek() !== '\n') this.pos++;
  }

  /** Whitespace, newlines and comments (inside arrays). */
  private skipBlank(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.pos++;
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  private endOfLine(): void {
    this.skipSpaces();
    this.skipComment();
    if (this.peek() === '\r') this.pos++;
    if (this.pos < this.s.length && this.peek() !== '\n') this.fail(`unexpected "${this.peek()}" after a value`);
    this.pos++;
  }

  read(): Map<string, TomlValue> {
    let table: string[] = [];
    while (this.pos < this.s.length) {
      this.skipBlank();
      if (this.pos >= this.s.length) break;
      if (this.peek() === '[') {
        const isArray = this.peek(1) === '[';
        this.pos += isArray ? 2 : 1;
        this.skipSpaces();
        const key = this.key();
        this.skipSpaces();
        if (this.peek() !== ']' || (isArray && this.peek(1) !== ']')) this.fail('unclosed table header');
        this.pos += isArray ? 2 : 1;
        // Array-of-tables entries are never cargo settings we read: give them a key nothing asks for.
        table = isArray ? [...key, `[${this.arrayTables++}]`] : key;
        const id = table.join('\u0000');
        if (!isArray) {
          if (this.tables.has(id)) this.fail(`table [${key.join('.')}] defined twice`);
          this.tables.add(id);
        }
        this.endOfLine();
        continue;
      }
      const key = this.key();
      this.skipSpaces();
      if (this.peek() !== '=') this.fail('expected "=" after a key');
      this.pos++;
      this.skipSpaces();
      this.value([...table, ...key]);
      this.endOfLine();
    }
    return this.out;
  }

  private key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const start = this.pos;
        while (BARE_KEY.test(this.peek())) this.pos++;
        if (this.pos === start) this.fail('expected a key');
        parts.push(this.s.slice(start, this.pos));
      }
      this.skipSpaces();
      if (this.peek() !== '.') return parts;
      this.pos++;
    }
  }

  private set(keyPath: string[], v: TomlValue): void {
    const k = keyPath.join('.');
    if (this.out.has(k)) this.fail(`key ${k} defined twice`);
    this.out.set(k, v);
  }

  private value(keyPath: string[]): void {
    const c = this.peek();
    if (c === '{') {
      this.pos++;
      this.skipSpaces();
      if (this.peek() === '}') {
        this.pos++;
        return;
      }
      for (;;) {
        const key = this.key();
        this.skipSpaces();
        if (this.peek() !== '=') this.fail('expected "=" in an inline table');
        this.pos++;
        this.skipSpaces();
        this.value([...keyPath, ...key]);
        this.skipSpaces();
        if (this.peek() === ',') {
          this.pos++;
          continue;
        }
        if (this.peek() === '}') {
          this.pos++;
          return;
        }
        this.fail('expected "," or "}" in an inline table');
      }
    }
    this.set(keyPath, this.plainValue());
  }

  /** A value inside an array, or a non-table value. */
  private plainValue(): TomlValue {
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === '[') {
      this.pos++;
      const items: TomlValue[] = [];
      for (;;) {
        this.skipBlank();
        if (this.peek() === ']') {
          this.pos++;
          return items;
        }
        if (this.peek() === '{') {
          // Inline tables inside arrays are never settings we read; parse them to stay in sync.
          this.value(['\u0000array', String(this.pos)]);
          items.push(OTHER);
        } else {
          items.push(this.plainValue());
        }
        this.skipBlank();
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== ']') this.fail('expected "," or "]" in an array');
      }
    }
    const start = this.pos;
    // Numbers, booleans, dates: read up to the next delimiter.
    while (this.pos < this.s.length && !/[,\]}#\r\n]/.test(this.peek())) this.pos++;
    const raw = this.s.slice(start, this.pos).trim();
    if (raw === '') this.fail('expected a value');
    // Only a date-time (`1979-05-27 07:32:00`) may hold a space.
    if (/\s/.test(raw) && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i.test(raw)) {
      this.fail(`unexpected value "${raw}"`);
    }
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    return OTHER;
  }

  private literalString(): string {
    if (this.s.startsWith("'''", this.pos)) {
      this.pos += 3;
      if (this.peek() === '\n') this.pos++;
      else if (this.peek() === '\r' && this.peek(1) === '\n') this.pos += 2;
      const end = this.s.indexOf("'''", this.pos);
      if (end < 0) this.fail('unterminated multi-line literal string');
      // Up to two quotes may close the content right before the delimiter.
      let close = end;
      while (this.s[close + 3] === "'" && close - end < 2) close++;
      const v = this.s.slice(this.pos, close);
      this.pos = close + 3;
      return v;
    }
    this.pos++;
    const end = this.s.indexOf("'", this.pos);
    const nl = this.s.indexOf('\n', this.pos);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('unterminated literal string');
    const v = this.s.slice(this.pos, end);
    this.pos = end + 1;
    return v;
  }

  private basicString(): string {
    const multi = this.s.startsWith('"""', this.pos);
    this.pos += multi ? 3 : 1;
    if (multi) {
      if (this.peek() === '\n') this.pos++;
      else if (this.peek() === '\r' && this.peek(1) === '\n') this.pos += 2;
    }
    let v = '';
    for (;;) {
      if (this.pos >= this.s.length) this.fail('unterminated string');
      const c = this.peek();
      if (multi && this.s.startsWith('"""', this.pos)) {
        let extra = 0;
        while (this.peek(3 + extra) === '"' && extra < 2) extra++;
        v += '"'.repeat(extra);
        this.pos += 3 + extra;
        return v;
      }
      if (!multi && c === '"') {
        this.pos++;
        return v;
      }
      if (!multi && c === '\n') this.fail('newline in a basic string');
      if (c === '\\') {
        const e = this.peek(1);
        this.pos += 2;
        switch (e) {
          case 'b': v += '\b'; break;
          case 't': v += '\t'; break;
          case 'n': v += '\n'; break;
          case 'f': v += '\f'; break;
          case 'r': v += '\r'; break;
          case 'e': v += '\u001b'; break;
          case '"': v += '"'; break;
          case '\\': v += '\\'; break;
          case 'u':
          case 'U': {
            const len = e === 'u' ? 4 : 8;
            const hex = this.s.slice(this.pos, this.pos + len);
            if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) this.fail('bad unicode escape');
            v += String.fromCodePoint(parseInt(hex, 16));
            this.pos += len;
            break;
          }
          default:
            if (multi && /[ \t\r\n]/.test(e)) {
              // Line-ending backslash: drop the newline and the whitespace that follows.
              this.pos--;
              const save = this.pos;
              while (/[ \t]/.test(this.peek())) this.pos++;
              if (this.peek() !== '\n' && this.peek() !== '\r') {
                this.pos = save;
                this.fail('bad escape');
              }
              while (/[ \t\r\n]/.test(this.peek())) this.pos++;
              break;
            }
            this.fail(`bad escape "\\${e}"`);
        }
        continue;
      }
      v += c;
      this.pos++;
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Without cargo

async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return null;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

interface ConfigFile {
  readonly file: string;
  /** Relative paths in a config file are relative to the parent of its `.cargo/` folder. */
  readonly base: string;
  readonly values: Map<string, TomlValue>;
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    out.push(d);
    const parent = path.dirname(d);
    if (parent === d) return out;
    d = parent;
  }
}

/** Cargo's config files, most specific first: `.cargo/` folders from `cwd` upwards, then CARGO_HOME. */
async function loadConfigFiles(cwd: string, cargoHome: string, notes: string[]): Promise<ConfigFile[]> {
  const dirs = ancestors(cwd).map((d) => path.join(d, '.cargo'));
  const home = path.resolve(cargoHome);
  if (!dirs.some((d) => samePath(d, home))) dirs.push(home);
  const files: ConfigFile[] = [];
  for (const dir of dirs) {
    const legacyName = path.join(dir, 'config');
    const tomlName = path.join(dir, 'config.toml');
    const [hasLegacy, hasToml] = await Promise.all([isFile(legacyName), isFile(tomlName)]);
    if (!hasLegacy && !hasToml) continue;
    // Cargo reads the file without extension when both exist.
    const file = hasLegacy ? legacyName : tomlName;
    if (hasLegacy && hasToml) notes.push(`Both ${legacyName} and ${tomlName} exist; cargo uses ${legacyName}.`);
    const text = await readText(file);
    if (text === null) {
      notes.push(`Could not read ${file}; ignored.`);
      continue;
    }
    try {
      files.push({ file, base: path.dirname(dir), values: readToml(text) });
    } catch (e) {
      notes.push(`Could not parse ${file} (${(e as Error).message}); ignored. Cargo itself would stop with an error.`);
    }
  }
  return files;
}

type Setting = { value: string; from: 'env'; name: string } | { value: string; from: 'config'; file: string; base: string };

function fromConfig(files: ConfigFile[], key: string, notes: string[]): Setting | null {
  for (const f of files) {
    const v = f.values.get(key);
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      notes.push(`${key} in ${f.file} is not a string; ignored.`);
      continue;
    }
    return { value: v, from: 'config', file: f.file, base: f.base };
  }
  return null;
}

function fromEnv(env: Record<string, string | undefined>, name: string, notes: string[]): Setting | null {
  const v = env[name];
  if (v === undefined) return null;
  if (v === '') {
    notes.push(`${name} is set to an empty string, which cargo rejects; ignored.`);
    return null;
  }
  return { value: v, from: 'env', name };
}

function describe(s: Setting): string {
  return s.from === 'env' ? `environment variable ${s.name}` : s.file;
}

const TEMPLATE = /\{([^{}]*)\}/g;

/**
 * Expands build-dir templates. Returns null (with a note) for what cannot be expanded here:
 * `{workspace-path-hash}` (cargo hashes the path with its own hasher) and malformed templates.
 */
function expandTemplates(value: string, vars: { workspaceRoot: string; cargoHome: string }, where: string, notes: string[]): string | null {
  let unsupported: string | null = null;
  const expanded = value.replace(TEMPLATE, (whole, name: string) => {
    if (name === 'workspace-root') return vars.workspaceRoot;
    if (name === 'cargo-cache-home') return vars.cargoHome;
    unsupported ??= name;
    return whole;
  });
  if (unsupported === 'workspace-path-hash') {
    notes.push(
      `build.build-dir "${value}" (${where}) uses {workspace-path-hash}, which only cargo can compute; the build dir could not be located without cargo.`,
    );
    return null;
  }
  if (unsupported !== null) {
    notes.push(`build.build-dir "${value}" (${where}) uses the unknown template {${unsupported}}, which cargo rejects; ignored.`);
    return null;
  }
  if (/[{}]/.test(value.replace(TEMPLATE, ''))) {
    notes.push(`build.build-dir "${value}" (${where}) has a stray brace, which cargo rejects; ignored.`);
    return null;
  }
  return expanded;
}

function resolveSetting(s: Setting, value: string, cwd: string): string {
  return path.resolve(s.from === 'env' ? cwd : s.base, value);
}

function homeDir(env: Record<string, string | undefined>): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

/** CARGO_HOME as cargo sees it: the variable (relative to `cwd`), else `~/.cargo`. */
export function cargoHomeOf(env: Record<string, string | undefined>, cwd: string): string {
  const v = env.CARGO_HOME;
  return v ? path.resolve(cwd, v) : path.join(homeDir(env), '.cargo');
}

/**
 * The workspace's folders found the way cargo finds them, without running cargo (reference §1):
 * target-dir = CARGO_TARGET_DIR > CARGO_BUILD_TARGET_DIR > config `build.target-dir` > `<root>/target`;
 * build-dir = CARGO_BUILD_BUILD_DIR > config `build.build-dir` > the target-dir.
 * Config files are looked up the way cargo does it: from `cwd` (the folder cargo would run in)
 * up to the file-system root, then `$CARGO_HOME/config.toml`. Paths from the environment are
 * relative to `cwd`; paths from a config file are relative to the folder holding its `.cargo/`.
 */
export async function dirsWithoutCargo(
  workspaceRoot: string,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<WorkspaceDirs> {
  const root = path.resolve(workspaceRoot);
  const here = path.resolve(cwd);
  const notes: string[] = [];
  const cargoHome = cargoHomeOf(env, here);
  const files = await loadConfigFiles(here, cargoHome, notes);

  let target: { path: string; discovery: Discovery };
  const targetSetting =
    fromEnv(env, 'CARGO_TARGET_DIR', notes) ?? fromEnv(env, 'CARGO_BUILD_TARGET_DIR', notes) ?? fromConfig(files, 'build.target-dir', notes);
  if (targetSetting) {
    // Templates are a build-dir feature: cargo takes `{…}` in a target-dir literally.
    target = {
      path: resolveSetting(targetSetting, targetSetting.value, here),
      discovery: targetSetting.from === 'env' ? 'CARGO_TARGET_DIR' : 'config build.target-dir',
    };
    if (targetSetting.from === 'env' && targetSetting.name !== 'CARGO_TARGET_DIR') {
      notes.push(`The target dir is set by ${targetSetting.name}.`);
    }
    notes.push(`Target dir from ${describe(targetSetting)}.`);
  } else {
    target = { path: path.join(root, 'target'), discovery: 'default <workspace>/target' };
  }

  let build = target;
  const buildSetting = fromEnv(env, 'CARGO_BUILD_BUILD_DIR', notes) ?? fromConfig(files, 'build.build-dir', notes);
  if (buildSetting) {
    const expanded = expandTemplates(buildSetting.value, { workspaceRoot: root, cargoHome }, describe(buildSetting), notes);
    if (expanded !== null) {
      build = {
        path: resolveSetting(buildSetting, expanded, here),
        discovery: buildSetting.from === 'env' ? 'CARGO_BUILD_BUILD_DIR' : 'config build.build-dir',
      };
      notes.push(`Build dir from ${describe(buildSetting)}.`);
    } else {
      notes.push('Showing the target dir in place of the build dir.');
    }
  }

  notes.push('Found without cargo: command-line `--config` and `--target-dir` options, if any were used, are not known here.');
  return { workspaceRoot: root, buildDirs: locations(build, target), members: await membersWithoutCargo(root, notes), notes };
}

/** Workspace members read from the manifests; globs are supported in the last path segment only. */
async function membersWithoutCargo(root: string, notes: string[]): Promise<WorkspaceMember[]> {
  const rootManifest = path.join(root, 'Cargo.toml');
  const rootToml = await readManifest(rootManifest);
  if (!rootToml) return [];
  const members: WorkspaceMember[] = [];
  const seen = new Set<string>();
  const workspaceVersion = rootToml.get('workspace.package.version');
  const add = async (dir: string, toml?: Map<string, TomlValue>) => {
    const manifestPath = path.join(dir, 'Cargo.toml');
    if (seen.has(manifestPath)) return;
    seen.add(manifestPath);
    const t = toml ?? (await readManifest(manifestPath));
    if (!t) return;
    const name = t.get('package.name');
    if (typeof name !== 'string') return;
    let version = t.get('package.version');
    if (t.get('package.version.workspace') === true) version = workspaceVersion;
    // Manifests may leave the version out since 1.75; cargo then uses 0.0.0.
    const procMacro = t.get('lib.proc-macro') === true || t.get('lib.proc_macro') === true;
    members.push({ name, version: typeof version === 'string' ? version : '0.0.0', manifestPath, procMacro });
  };
  await add(root, rootToml);
  const excluded = new Set(stringList(rootToml.get('workspace.exclude')).map((e) => path.resolve(root, e)));
  for (const pattern of stringList(rootToml.get('workspace.members'))) {
    for (const dir of await expandMemberGlob(root, pattern, notes)) {
      if (!excluded.has(dir)) await add(dir);
    }
  }
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function stringList(v: TomlValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

async function readManifest(file: string): Promise<Map<string, TomlValue> | null> {
  const text = await readText(file);
  if (text === null) return null;
  try {
    return readToml(text);
  } catch {
    return null;
  }
}

async function expandMemberGlob(root: string, pattern: string, notes: string[]): Promise<string[]> {
  const norm = pattern.replace(/\\/g, '/').replace(/\/+$/, '');
  const slash = norm.lastIndexOf('/');
  const head = slash >= 0 ? norm.slice(0, slash) : '';
  const last = slash >= 0 ? norm.slice(slash + 1) : norm;
  if (/[*?[]/.test(head)) {
    notes.push(`Workspace member pattern "${pattern}" is not expanded without cargo.`);
    return [];
  }
  if (!/[*?[]/.test(last)) return [path.resolve(root, norm)];
  const re = new RegExp(
    `^${last.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`,
  );
  const parent = path.resolve(root, head);
  let names: string[];
  try {
    names = await fsp.readdir(parent);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    if (!n.startsWith('.') && re.test(n) && (await isFile(path.join(parent, n, 'Cargo.toml')))) out.push(path.join(parent, n));
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// Where am I?

function declaresWorkspace(text: string): boolean {
  try {
    for (const key of readToml(text).keys()) if (key === 'workspace' || key.startsWith('workspace.')) return true;
    // `[workspace]` with no keys leaves no value behind.
    return /^\s*\[\s*workspace\s*\]/m.test(text);
  } catch {
    // A broken manifest still tells us what the user meant.
    return /^\s*\[\s*workspace\s*[\].]/m.test(text);
  }
}

/**
 * The root of the workspace that `startDir` (a folder or a file) is in: the nearest ancestor
 * Cargo.toml that declares `[workspace]`, else the nearest Cargo.toml (a package on its own).
 * Null when there is no Cargo.toml in `startDir` or above it.
 */
export async function findWorkspaceRoot(startDir: string): Promise<string | null> {
  let start = path.resolve(startDir);
  if (!(await isDir(start))) start = path.dirname(start);
  let nearest: string | null = null;
  for (const dir of ancestors(start)) {
    const text = await readText(path.join(dir, 'Cargo.toml'));
    if (text === null) continue;
    nearest ??= dir;
    if (declaresWorkspace(text)) return dir;
  }
  return nearest;
}

const UNIT_NAME = /(^|-)[0-9a-f]{16}$/;
const PROFILE_ONLY_MARKERS = ['.cargo-lock', '.cargo-build-lock', '.fingerprint', 'incremental'];

/** `build/` and `deps/` are common folder names; count them only when they hold cargo-named entries. */
async function holdsUnitNames(dir: string): Promise<boolean> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return false;
  }
  for (const n of names.slice(0, 200)) {
    const stem = n.replace(/\.[^.-]*$/, '');
    if (UNIT_NAME.test(stem)) return true;
    // v2: build/<pkg>/<16 hex>/
    try {
      const inner = await fsp.readdir(path.join(dir, n));
      if (inner.some((i) => /^[0-9a-f]{16}$/.test(i))) return true;
    } catch {
      // not a folder
    }
  }
  return false;
}

/**
 * Whether `dir` looks like a Cargo build or target directory: it has CACHEDIR.TAG or
 * .rustc_info.json, or a child profile folder (`debug/`, `release/`, …) with cargo's lock files,
 * `.fingerprint/`, `incremental/`, or `build/`/`deps/` holding cargo-named entries.
 */
export async function looksLikeBuildDir(dir: string): Promise<boolean> {
  if ((await isFile(path.join(dir, 'CACHEDIR.TAG'))) || (await isFile(path.join(dir, '.rustc_info.json')))) return true;
  let children: import('node:fs').Dirent[];
  try {
    children = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  // Profile folders are few; a folder with thousands of children is not a build dir worth a readdir each.
  for (const c of children.slice(0, 1000)) {
    if (c.isDirectory() && (await looksLikeProfileDir(path.join(dir, c.name)))) return true;
  }
  return false;
}

/** Whether `dir` looks like a `<profile>` folder of a build dir (`debug/`, `release/`, a custom profile). */
export async function looksLikeProfileDir(dir: string): Promise<boolean> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return false;
  }
  if (PROFILE_ONLY_MARKERS.some((m) => names.includes(m))) return true;
  for (const m of ['build', 'deps']) {
    if (names.includes(m) && (await holdsUnitNames(path.join(dir, m)))) return true;
  }
  return false;
}
