// Core, pure: decoders for the files in a unit's fingerprint folder (legacy `.fingerprint/<pkg>-<META>/`,
// v2 `build/<pkg>/<META>/fingerprint/`): the file names, the hash file and the `<name>.json` fingerprint.
// The scan reads the bytes and hands them here; nothing in this module touches the disk.

import { JsonSyntaxError, parseJsonLossless, u64DecToLeHex } from './json-lossless';

export type FingerprintPrefix = '' | 'dep-' | 'output-';
export type FingerprintMode = 'build' | 'test' | 'doc' | 'run-custom-build';
export type FingerprintTargetKind = 'lib' | 'bin' | 'integration-test' | 'bench' | 'example' | 'build-script';

export interface FingerprintFileName {
  /** `''` = hash file (or its `.json`), `dep-` = binary dep-info, `output-` = cached compiler messages. */
  readonly prefix: FingerprintPrefix;
  /** True for `<hash file>.json`. */
  readonly json: boolean;
  /** `build` also covers check units: cargo gives build and check the same file names. */
  readonly mode: FingerprintMode;
  readonly targetKind: FingerprintTargetKind;
  readonly target: string;
}

const FLAVORS: ReadonlyArray<readonly [string, FingerprintMode]> = [
  ['test-', 'test'],
  ['doc-', 'doc'],
  ['run-', 'run-custom-build'],
];

// With the trailing dash no kind is a prefix of another, so the order does not matter.
const TARGET_KINDS: ReadonlyArray<FingerprintTargetKind> = [
  'integration-test',
  'build-script',
  'example',
  'bench',
  'lib',
  'bin',
];

/**
 * Decodes a file name from a fingerprint folder: `<prefix><flavor><target-kind>-<target-name>[.json]`.
 * Returns null for `invoked.timestamp` and for anything cargo would not have written.
 */
export function parseFingerprintFileName(name: string): FingerprintFileName | null {
  let rest = name;
  let prefix: FingerprintPrefix = '';
  if (rest.startsWith('dep-')) {
    prefix = 'dep-';
    rest = rest.slice(4);
  } else if (rest.startsWith('output-')) {
    prefix = 'output-';
    rest = rest.slice(7);
  }
  let json = false;
  if (rest.endsWith('.json')) {
    // Only the hash file has a JSON twin; `dep-…json` is not something cargo writes.
    if (prefix !== '') return null;
    json = true;
    rest = rest.slice(0, -5);
  }
  let mode: FingerprintMode = 'build';
  for (const [flavor, m] of FLAVORS) {
    if (rest.startsWith(flavor)) {
      mode = m;
      rest = rest.slice(flavor.length);
      break;
    }
  }
  for (const kind of TARGET_KINDS) {
    const head = `${kind}-`;
    if (!rest.startsWith(head)) continue;
    const target = rest.slice(head.length);
    if (target === '' || target.includes('/') || target.includes('\\')) return null;
    // Only build scripts are run; a `run-` flavor on anything else is not a cargo name.
    if (mode === 'run-custom-build' && kind !== 'build-script') return null;
    return { prefix, json, mode, targetKind: kind, target };
  }
  return null;
}

export type HashFile =
  | { readonly state: 'ok'; readonly hash: string }
  | { readonly state: 'empty' }
  | { readonly state: 'invalid'; readonly reason: string };

/**
 * Decodes a hash file: 16 lowercase hex digits, no newline. Cargo truncates it when a rebuild starts and writes
 * it when the build succeeds, so `empty` means the last build of the unit failed or was interrupted.
 */
export function parseHashFile(data: Uint8Array): HashFile {
  if (data.length === 0) return { state: 'empty' };
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (/^[0-9a-f]{16}$/.test(text)) return { state: 'ok', hash: text };
  if (/[\r\n]$/.test(text) && /^[0-9a-f]{16}$/.test(text.replace(/\r?\n$/, ''))) {
    return { state: 'invalid', reason: 'the 16 hex digits are followed by a newline, which cargo never writes' };
  }
  if (/^[0-9a-fA-F]{16}$/.test(text)) {
    return { state: 'invalid', reason: 'the hex digits are uppercase, which cargo never writes' };
  }
  if (/^[0-9a-fA-F]*$/.test(text)) {
    return { state: 'invalid', reason: `expected 16 hex digits, found ${text.length}` };
  }
  return { state: 'invalid', reason: `expected 16 hex digits, found ${data.length} bytes that are not all hex digits` };
}

export class FingerprintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FingerprintError';
  }
}

export interface FingerprintDep {
  /** `hash_u64(name)` for path packages, a hash of the full package id otherwise; decimal u64. */
  readonly pkgIdHash: string;
  /** The extern crate name (`build_script_build` for the link to the package's own build-script run). */
  readonly name: string;
  readonly public: boolean;
  /** The dependency's fingerprint, decimal u64. */
  readonly fingerprint: string;
  /** `fingerprint` as little-endian hex: equal to the dependency unit's hash file. */
  readonly hashHex: string;
}

export type FingerprintMethod = 'mtime' | 'content';

export type LocalEntry =
  | {
      readonly kind: 'CheckDepInfo';
      /** Path of the unit's binary dep-info, relative to the build-dir root. */
      readonly depInfo: string;
      /** `content` = checksums (`-Zchecksum-freshness`). */
      readonly fingerprint: FingerprintMethod;
      /** Which JSON shape carried it: the older `checksum: bool` or the newer `fingerprint` field. */
      readonly field: 'checksum' | 'fingerprint';
    }
  | {
      readonly kind: 'RerunIfChanged';
      /** The build-script output file (relative to the build-dir root) whose mtime the paths are compared with. */
      readonly output: string;
      /** Relative to the package root. */
      readonly paths: readonly string[];
    }
  | { readonly kind: 'RerunIfEnvChanged'; readonly var: string; readonly val: string | null }
  | { readonly kind: 'Precalculated'; readonly value: string }
  | { readonly kind: 'unknown'; readonly variant: string | null; readonly raw: unknown };

export interface Fingerprint {
  /** Hash of `rustc -vV`, decimal u64 (it exceeds 2^53, so never a JS number). */
  readonly rustc: string;
  readonly features: readonly string[];
  /** The `features` field as written (Rust Debug text of a list, or `""` for run units). */
  readonly featuresRaw: string;
  /** Null when the field is missing (older cargo). */
  readonly declaredFeatures: readonly string[] | null;
  readonly target: string;
  readonly profile: string;
  readonly path: string;
  readonly deps: readonly FingerprintDep[];
  readonly local: readonly LocalEntry[];
  readonly rustflags: readonly string[];
  /** Null when the field is missing (older cargo). */
  readonly config: string | null;
  /** Null when the field is missing (older cargo). */
  readonly compileKind: string | null;
  /** Fields this parser does not know, kept as parsed (big integers as decimal strings). */
  readonly unknownFields: Readonly<Record<string, unknown>>;
}

// Every cargo that writes the binary dep-info v1 has these; the others are read when present.
const REQUIRED_FIELDS = ['rustc', 'features', 'target', 'profile', 'path', 'deps', 'local'];

const KNOWN_FIELDS = new Set([
  'rustc',
  'features',
  'declared_features',
  'target',
  'profile',
  'path',
  'deps',
  'local',
  'rustflags',
  'config',
  'compile_kind',
]);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a fractional number';
  return `a ${typeof v}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A u64 from the lossless parser: a safe integer arrives as a number, a bigger one as its decimal string. */
function u64Field(v: unknown, where: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) {
    const big = BigInt(v);
    if (big < 1n << 64n) return big.toString();
  }
  throw new FingerprintError(`${where} should be an unsigned 64-bit integer, found ${typeName(v)}${typeof v === 'string' ? ` ${JSON.stringify(v)}` : ''}`);
}

function stringField(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new FingerprintError(`${where} should be a string, found ${typeName(v)}`);
  return v;
}

function stringArray(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new FingerprintError(`${where} should be an array of strings, found ${typeName(v)}`);
  return v.map((item, i) => stringField(item, `${where}[${i}]`));
}

/**
 * Parses the Rust `Debug` text of a list of strings, e.g. `["default", "fancy"]`, as cargo writes it into
 * `features` and `declared_features`. The empty string (run units) is an empty list.
 * Throws FingerprintError when the text is not such a list.
 */
export function parseDebugStringList(text: string, where = 'feature list'): string[] {
  if (text === '') return [];
  const out: string[] = [];
  let i = 0;
  const bad = (what: string): never => {
    throw new FingerprintError(`${where} is not a Rust list of strings (${what} at character ${i}): ${JSON.stringify(text)}`);
  };
  const skipSpaces = (): void => {
    while (i < text.length && /\s/.test(text.charAt(i))) i++;
  };
  skipSpaces();
  if (text[i] !== '[') bad('expected `[`');
  i++;
  skipSpaces();
  if (text[i] === ']') {
    i++;
    skipSpaces();
    if (i !== text.length) bad('unexpected text after `]`');
    return out;
  }
  for (;;) {
    if (text[i] !== '"') bad(i >= text.length ? 'truncated' : 'expected `"`');
    i++;
    let s = '';
    for (;;) {
      if (i >= text.length) bad('unterminated string');
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        break;
      }
      if (c !== '\\') {
        s += c;
        i++;
        continue;
      }
      const e = text.charAt(i + 1);
      i += 2;
      switch (e) {
        case '"':
        case '\\':
        case "'":
          s += e;
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case '0':
          s += '\0';
          break;
        case 'u': {
          const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(i));
          if (!m || m[1] === undefined) return bad('invalid \\u{…} escape');
          const cp = parseInt(m[1], 16);
          if (cp > 0x10ffff) bad('\\u{…} escape out of range');
          s += String.fromCodePoint(cp);
          i += m[0].length;
          break;
        }
        default:
          i -= 1;
          bad(e === '' ? 'truncated escape' : `unknown escape \\${e}`);
      }
    }
    out.push(s);
    skipSpaces();
    if (text[i] === ',') {
      i++;
      skipSpaces();
      continue;
    }
    if (text[i] === ']') {
      i++;
      skipSpaces();
      if (i !== text.length) bad('unexpected text after `]`');
      return out;
    }
    bad(i >= text.length ? 'truncated' : 'expected `,` or `]`');
  }
}

function parseDep(v: unknown, i: number): FingerprintDep {
  const where = `deps[${i}]`;
  if (!Array.isArray(v) || v.length !== 4) {
    throw new FingerprintError(
      `${where} should be [package id hash, crate name, public, fingerprint], found ${Array.isArray(v) ? `an array of ${v.length}` : typeName(v)}`,
    );
  }
  const [pkg, name, pub, fp] = v as [unknown, unknown, unknown, unknown];
  if (typeof pub !== 'boolean') throw new FingerprintError(`${where}[2] (public) should be a boolean, found ${typeName(pub)}`);
  const fingerprint = u64Field(fp, `${where}[3] (fingerprint)`);
  return {
    pkgIdHash: u64Field(pkg, `${where}[0] (package id hash)`),
    name: stringField(name, `${where}[1] (crate name)`),
    public: pub,
    fingerprint,
    hashHex: u64DecToLeHex(fingerprint),
  };
}

function parseLocal(v: unknown, i: number): LocalEntry {
  const where = `local[${i}]`;
  if (!isRecord(v)) {
    // serde writes fieldless variants as bare strings; none exist today, so keep it for display.
    return { kind: 'unknown', variant: typeof v === 'string' ? v : null, raw: v };
  }
  const keys = Object.keys(v);
  const variant = keys.length === 1 ? keys[0] : undefined;
  if (variant === undefined) return { kind: 'unknown', variant: null, raw: v };
  const body = v[variant];
  switch (variant) {
    case 'CheckDepInfo': {
      if (!isRecord(body)) throw new FingerprintError(`${where}.CheckDepInfo should be an object, found ${typeName(body)}`);
      const depInfo = stringField(body['dep_info'], `${where}.CheckDepInfo.dep_info`);
      if (Object.hasOwn(body, 'fingerprint')) {
        const m = body['fingerprint'];
        if (m !== 'mtime' && m !== 'content') {
          throw new FingerprintError(`${where}.CheckDepInfo.fingerprint should be "mtime" or "content", found ${typeName(m)} ${JSON.stringify(m)}`);
        }
        return { kind: 'CheckDepInfo', depInfo, fingerprint: m, field: 'fingerprint' };
      }
      if (Object.hasOwn(body, 'checksum')) {
        const c = body['checksum'];
        if (typeof c !== 'boolean') throw new FingerprintError(`${where}.CheckDepInfo.checksum should be a boolean, found ${typeName(c)}`);
        return { kind: 'CheckDepInfo', depInfo, fingerprint: c ? 'content' : 'mtime', field: 'checksum' };
      }
      throw new FingerprintError(`${where}.CheckDepInfo has neither a \`fingerprint\` nor a \`checksum\` field`);
    }
    case 'RerunIfChanged': {
      if (!isRecord(body)) throw new FingerprintError(`${where}.RerunIfChanged should be an object, found ${typeName(body)}`);
      return {
        kind: 'RerunIfChanged',
        output: stringField(body['output'], `${where}.RerunIfChanged.output`),
        paths: stringArray(body['paths'], `${where}.RerunIfChanged.paths`),
      };
    }
    case 'RerunIfEnvChanged': {
      if (!isRecord(body)) throw new FingerprintError(`${where}.RerunIfEnvChanged should be an object, found ${typeName(body)}`);
      const val = body['val'];
      if (val !== null && val !== undefined && typeof val !== 'string') {
        throw new FingerprintError(`${where}.RerunIfEnvChanged.val should be a string or null, found ${typeName(val)}`);
      }
      return { kind: 'RerunIfEnvChanged', var: stringField(body['var'], `${where}.RerunIfEnvChanged.var`), val: val ?? null };
    }
    case 'Precalculated':
      return { kind: 'Precalculated', value: stringField(body, `${where}.Precalculated`) };
    default:
      return { kind: 'unknown', variant, raw: body };
  }
}

/**
 * Parses a fingerprint `<name>.json`. Hash fields come back as decimal strings.
 * Throws FingerprintError, with a message meant for users, when the text is not such a file.
 */
export function parseFingerprintJson(text: string): Fingerprint {
  let doc: unknown;
  try {
    doc = parseJsonLossless(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      const truncated = e.message.includes('end of JSON input');
      throw new FingerprintError(
        text.trim() === ''
          ? 'the fingerprint JSON is empty'
          : `the fingerprint JSON is ${truncated ? 'truncated' : 'not valid JSON'}: ${e.message}`,
      );
    }
    throw e;
  }
  if (!isRecord(doc)) throw new FingerprintError(`the fingerprint JSON should be an object, found ${typeName(doc)}`);
  const missing = REQUIRED_FIELDS.filter((k) => !Object.hasOwn(doc, k));
  if (missing.length > 0) {
    const list = missing.map((k) => `\`${k}\``).join(', ');
    throw new FingerprintError(`the fingerprint JSON has no ${list} field${missing.length > 1 ? 's' : ''}`);
  }
  const need = (key: string): unknown => doc[key];

  const featuresRaw = stringField(need('features'), '`features`');
  const declared = doc['declared_features'];
  const deps = need('deps');
  if (!Array.isArray(deps)) throw new FingerprintError(`\`deps\` should be an array, found ${typeName(deps)}`);
  const local = need('local');
  if (!Array.isArray(local)) throw new FingerprintError(`\`local\` should be an array, found ${typeName(local)}`);

  const unknownFields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!KNOWN_FIELDS.has(k)) unknownFields[k] = v;
  }

  return {
    rustc: u64Field(need('rustc'), '`rustc`'),
    features: parseDebugStringList(featuresRaw, '`features`'),
    featuresRaw,
    declaredFeatures:
      declared === undefined ? null : parseDebugStringList(stringField(declared, '`declared_features`'), '`declared_features`'),
    target: u64Field(need('target'), '`target`'),
    profile: u64Field(need('profile'), '`profile`'),
    path: u64Field(need('path'), '`path`'),
    deps: deps.map(parseDep),
    local: local.map(parseLocal),
    rustflags: Object.hasOwn(doc, 'rustflags') ? stringArray(doc['rustflags'], '`rustflags`') : [],
    config: Object.hasOwn(doc, 'config') ? u64Field(doc['config'], '`config`') : null,
    compileKind: Object.hasOwn(doc, 'compile_kind') ? u64Field(doc['compile_kind'], '`compile_kind`') : null,
    unknownFields,
  };
}
