// Core, pure: reads what a build script printed (legacy `build/<pkg>-<META>/output`, v2 `run/stdout`) the way
// cargo does, so the inspector can show the cfgs, env vars, link settings and rerun rules of a build-script run.

export type DirectiveSyntax = 'new' | 'old';

export type LinkArgVariant = 'all' | 'bins' | 'bin' | 'tests' | 'benches' | 'examples' | 'cdylib';

interface DirectiveBase {
  /** 1-based line number in the output. */
  readonly line: number;
  /** The line as printed (without the line break). */
  readonly raw: string;
  /** `new` = `cargo::KEY=VALUE`, `old` = `cargo:KEY=VALUE`. */
  readonly syntax: DirectiveSyntax;
  /** The key as written (`rustc-link-arg-bins`, or the metadata key for old-syntax `links` metadata). */
  readonly key: string;
  /** Everything after the first `=` ('' when there is none). */
  readonly value: string;
}

export type Directive = DirectiveBase &
  (
    | { readonly category: 'cfg' }
    | { readonly category: 'check-cfg' }
    | { readonly category: 'env'; readonly name: string; readonly envValue: string }
    | { readonly category: 'link-lib' }
    | {
        readonly category: 'link-search';
        /** `native`, `crate`, `dependency`, `framework` or `all`; null when the value is a bare path. */
        readonly kind: string | null;
        readonly path: string;
      }
    | {
        readonly category: 'link-arg';
        /** Which targets get the argument; `rustc-cdylib-link-arg` is the older spelling of `-cdylib`. */
        readonly variant: LinkArgVariant;
        /** The bin named by `rustc-link-arg-bin=BIN=ARG`, else null. */
        readonly bin: string | null;
        readonly arg: string;
      }
    | { readonly category: 'flags'; readonly libs: readonly string[]; readonly searchPaths: readonly string[] }
    | { readonly category: 'rerun-if-changed' }
    | { readonly category: 'rerun-if-env-changed' }
    | { readonly category: 'warning' }
    | { readonly category: 'error' }
    | { readonly category: 'metadata'; readonly metaKey: string; readonly metaValue: string }
    | { readonly category: 'links-metadata'; readonly metaKey: string; readonly metaValue: string }
    /** Cargo rejects these lines and fails the build. */
    | { readonly category: 'invalid'; readonly message: string }
  );

export type DirectiveCategory = Directive['category'];

export interface BuildScriptOutput {
  readonly directives: readonly Directive[];
  /** Lines in the text (a final line break does not start another line). */
  readonly lines: number;
  /** Lines that are not directives (blank lines included). */
  readonly ignoredLines: number;
}

// Keys that mean the same in both syntaxes. Cargo matches them as `KEY=` prefixes of an old-syntax line, so
// `cargo:KEY` without `=` and every other old-syntax key (`error` and `metadata` included) is `links` metadata.
const OLD_SYNTAX_RESERVED = [
  'rustc-flags',
  'rustc-link-lib',
  'rustc-link-search',
  'rustc-link-arg-cdylib',
  'rustc-cdylib-link-arg',
  'rustc-link-arg-bins',
  'rustc-link-arg-bin',
  'rustc-link-arg-tests',
  'rustc-link-arg-benches',
  'rustc-link-arg-examples',
  'rustc-link-arg',
  'rustc-cfg',
  'rustc-check-cfg',
  'rustc-env',
  'warning',
  'rerun-if-changed',
  'rerun-if-env-changed',
];

const LINK_ARG_VARIANTS: Readonly<Record<string, LinkArgVariant>> = {
  'rustc-link-arg': 'all',
  'rustc-link-arg-bins': 'bins',
  'rustc-link-arg-bin': 'bin',
  'rustc-link-arg-tests': 'tests',
  'rustc-link-arg-benches': 'benches',
  'rustc-link-arg-examples': 'examples',
  'rustc-link-arg-cdylib': 'cdylib',
  'rustc-cdylib-link-arg': 'cdylib',
};

const SEARCH_KINDS = new Set(['native', 'crate', 'dependency', 'framework', 'all']);

function splitOnce(s: string, sep: string): [string, string] | null {
  const i = s.indexOf(sep);
  return i < 0 ? null : [s.slice(0, i), s.slice(i + sep.length)];
}

/** `rustc-flags` accepts only `-l` and `-L`, with or without a space before the value. */
function parseRustcFlags(value: string): { libs: string[]; searchPaths: string[] } | string {
  const words = value.trim().split(/\s+/).filter((w) => w !== '');
  const libs: string[] = [];
  const searchPaths: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (!w.startsWith('-l') && !w.startsWith('-L')) return `only \`-l\` and \`-L\` flags are allowed in rustc-flags, found \`${w}\``;
    let v = w.slice(2);
    if (v === '') {
      const next = words[i + 1];
      if (next === undefined) return `flag \`${w}\` in rustc-flags has no value`;
      v = next;
      i++;
    }
    (w.startsWith('-l') ? libs : searchPaths).push(v);
  }
  return { libs, searchPaths };
}

/**
 * Parses build-script output as cargo does: each line is trimmed; `cargo::KEY=VALUE` (new syntax) and
 * `cargo:KEY=VALUE` (old syntax) are directives, every other line is ignored. Lines cargo would reject come back
 * as `invalid` with the reason. Checks that need the package (does it have a bin named X?) are not made here.
 */
export function parseBuildScriptOutput(text: string): BuildScriptOutput {
  const pieces = text.split('\n');
  if (pieces.length > 0 && pieces[pieces.length - 1] === '') pieces.pop();
  const directives: Directive[] = [];
  pieces.forEach((piece, index) => {
    const d = parseLine(piece.replace(/\r$/, ''), index + 1);
    if (d) directives.push(d);
  });
  return { directives, lines: pieces.length, ignoredLines: pieces.length - directives.length };
}

function parseLine(raw: string, line: number): Directive | null {
  const trimmed = raw.trim();
  let syntax: DirectiveSyntax;
  let data: string;
  if (trimmed.startsWith('cargo::')) {
    syntax = 'new';
    data = trimmed.slice(7);
  } else if (trimmed.startsWith('cargo:')) {
    syntax = 'old';
    data = trimmed.slice(6);
  } else {
    return null;
  }
  const kv = splitOnce(data, '=');
  const base = { line, raw, syntax };
  const prefix = syntax === 'new' ? 'cargo::' : 'cargo:';

  if (syntax === 'old' && !OLD_SYNTAX_RESERVED.some((k) => data.startsWith(`${k}=`))) {
    if (!kv) {
      return { ...base, key: data, value: '', category: 'invalid', message: `expected \`cargo:KEY=VALUE\` with an \`=\`, found \`${trimmed}\`` };
    }
    const metaValue = kv[1].trimEnd();
    return { ...base, key: kv[0], value: metaValue, category: 'links-metadata', metaKey: kv[0], metaValue };
  }
  if (!kv) {
    return { ...base, key: data, value: '', category: 'invalid', message: `expected \`${prefix}KEY=VALUE\` with an \`=\`, found \`${trimmed}\`` };
  }
  const key = kv[0];
  const value = kv[1].trimEnd();
  const b = { ...base, key, value };
  switch (key) {
    case 'rustc-cfg':
      return { ...b, category: 'cfg' };
    case 'rustc-check-cfg':
      return { ...b, category: 'check-cfg' };
    case 'rustc-env': {
      const nv = splitOnce(value, '=');
      if (!nv) return { ...b, category: 'invalid', message: `rustc-env has no value (expected \`${prefix}rustc-env=VAR=VALUE\`)` };
      return { ...b, category: 'env', name: nv[0], envValue: nv[1] };
    }
    case 'rustc-link-lib':
      return { ...b, category: 'link-lib' };
    case 'rustc-link-search': {
      const kp = splitOnce(value, '=');
      if (kp && SEARCH_KINDS.has(kp[0])) return { ...b, category: 'link-search', kind: kp[0], path: kp[1] };
      return { ...b, category: 'link-search', kind: null, path: value };
    }
    case 'rustc-flags': {
      const f = parseRustcFlags(value);
      if (typeof f === 'string') return { ...b, category: 'invalid', message: f };
      return { ...b, category: 'flags', libs: f.libs, searchPaths: f.searchPaths };
    }
    case 'rerun-if-changed':
      return { ...b, category: 'rerun-if-changed' };
    case 'rerun-if-env-changed':
      return { ...b, category: 'rerun-if-env-changed' };
    case 'warning':
      return { ...b, category: 'warning' };
    case 'error':
      // Only reachable in the new syntax: old-syntax `cargo:error=` is links metadata.
      return { ...b, category: 'error' };
    case 'metadata': {
      const m = splitOnce(value, '=');
      if (!m) return { ...b, category: 'invalid', message: `expected \`cargo::metadata=KEY=VALUE\` with an \`=\`, found \`${trimmed}\`` };
      return { ...b, category: 'metadata', metaKey: m[0], metaValue: m[1].trimEnd() };
    }
    default: {
      const variant = LINK_ARG_VARIANTS[key];
      if (variant === undefined) {
        return { ...b, category: 'invalid', message: `unknown key \`${key}\` in \`${trimmed}\`: cargo rejects this line and fails the build` };
      }
      if (variant === 'bin') {
        const ba = splitOnce(value, '=');
        if (!ba) return { ...b, category: 'invalid', message: `expected \`${prefix}rustc-link-arg-bin=BIN=ARG\`, found \`${trimmed}\`` };
        return { ...b, category: 'link-arg', variant, bin: ba[0], arg: ba[1] };
      }
      return { ...b, category: 'link-arg', variant, bin: null, arg: value };
    }
  }
}
