// Core, pure: the scan's fastest reader of a fingerprint JSON. One such file per unit makes it the scan's
// largest decoding cost; this reader walks the text once, character by character, and takes only what the scan
// keeps (rustc, features, dependency records, a precalculated version). It accepts only the exact text cargo
// writes (serde_json's compact form: no spaces, integers without sign, fraction or leading zero, the fields and
// `local` variants of today) and returns null for anything else, which then goes to the slower readers of
// scan.ts and, in the end, to fingerprint.ts's parseFingerprintJson, the reference that gives error messages.
// Tests hold the results of all of them equal on every fingerprint the fixtures' cargo wrote.
//
// Thousands of units repeat a few feature lists, toolchains and dependency records: the memo turns each repeat
// into one map lookup, and keeps one copy of each value for the whole model.

/** A dependency as the model keeps it: crate name, and the fingerprint as cargo prints it (16 hex digits, LE). */
export interface FingerprintDep {
  readonly name: string;
  readonly fingerprint: string;
}

export interface ScannedFingerprint {
  readonly features: readonly string[];
  readonly featuresRaw: string;
  readonly rustc: string;
  readonly deps: readonly FingerprintDep[];
  readonly precalculated: string | null;
}

/** Where repeated values are looked up and kept. Each may throw to refuse a value (the scan then returns null). */
export interface FingerprintMemo {
  /** The list a `features`/`declared_features` text holds (`["a", "b"]`), parsed once per distinct text. */
  featureList(raw: string): readonly string[];
  /** The record for a dependency: `dec` is its fingerprint as the decimal u64 of the JSON. */
  dep(name: string, dec: string): FingerprintDep;
  /** The toolchain hash (decimal u64), one string per distinct value. */
  rustc(dec: string): string;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const U64_MAX = '18446744073709551615';
/** A run of string characters that need no check: not a quote, a backslash or a control character. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** Thrown inside the scanner for "not the usual shape": caught once at the top, never seen outside. */
class Unusual {}
const UNUSUAL = new Unusual();

// Field bits: each field may appear once.
const F_RUSTC = 1;
const F_FEATURES = 2;
const F_DECLARED = 4;
const F_TARGET = 8;
const F_PROFILE = 16;
const F_PATH = 32;
const F_DEPS = 64;
const F_LOCAL = 128;
const F_RUSTFLAGS = 256;
const F_CONFIG = 512;
const F_COMPILE_KIND = 1024;
const REQUIRED = F_RUSTC | F_FEATURES | F_TARGET | F_PROFILE | F_PATH | F_DEPS | F_LOCAL;

const FIELD_BITS: Readonly<Record<string, number>> = {
  rustc: F_RUSTC,
  features: F_FEATURES,
  declared_features: F_DECLARED,
  target: F_TARGET,
  profile: F_PROFILE,
  path: F_PATH,
  deps: F_DEPS,
  local: F_LOCAL,
  rustflags: F_RUSTFLAGS,
  config: F_CONFIG,
  compile_kind: F_COMPILE_KIND,
};

/** The top-level fields as they appear in the text (`"name":`), in the order cargo writes them. */
const TOP_FIELDS = Object.entries(FIELD_BITS).map(([name, bit], index) => ({ text: `"${name}":`, bit, index }));

/** Distinct escaped feature-list texts and their unescaped form (bounded: a cache, not a store). */
const UNESCAPED = new Map<string, string>();

class Scanner {
  i = 0;
  /** Set by string(): whether the last string held an escape. */
  escaped = false;
  /** topField(): where in TOP_FIELDS to look first. */
  next = 0;

  constructor(readonly s: string) {}

  expect(c: number): void {
    if (this.s.charCodeAt(this.i) !== c) throw UNUSUAL;
    this.i++;
  }

  /** A decimal u64 as cargo's serde writes it; returns its digits. */
  u64(): string {
    const start = this.i;
    this.skipU64();
    return this.s.slice(start, this.i);
  }

  /** The same check as u64(), for the integers the scan does not keep: no string is made. */
  skipU64(): void {
    const s = this.s;
    const start = this.i;
    let i = start;
    let c = s.charCodeAt(i);
    while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
    const n = i - start;
    if (n === 0 || n > 20 || (n > 1 && s.charCodeAt(start) === 48)) throw UNUSUAL;
    // A fraction or exponent would make it something else than an integer.
    if (c === 46 || c === 101 || c === 69) throw UNUSUAL;
    if (n === 20 && s.slice(start, i) > U64_MAX) throw UNUSUAL;
    this.i = i;
  }

  /** Skips a JSON string, checking it is valid JSON; returns the index just after its opening quote. */
  string(): number {
    const s = this.s;
    if (s.charCodeAt(this.i) !== QUOTE) throw UNUSUAL;
    const start = ++this.i;
    // Most strings hold no escape and no control character: one native run over them, then the loop below
    // only for what stopped it.
    PLAIN_RUN.lastIndex = start;
    PLAIN_RUN.test(s);
    let i = PLAIN_RUN.lastIndex;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) break;
      if (c < 0x20 || Number.isNaN(c)) throw UNUSUAL;
      if (c === BACKSLASH) {
        escaped = true;
        const e = s.charCodeAt(i + 1);
        if (e === 117 /* u */) {
          for (let k = 2; k < 6; k++) if (!isHex(s.charCodeAt(i + k))) throw UNUSUAL;
          i += 6;
          continue;
        }
        // " \ / b f n r t
        if (e !== QUOTE && e !== BACKSLASH && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) throw UNUSUAL;
        i += 2;
        continue;
      }
      i++;
    }
    this.escaped = escaped;
    this.i = i + 1;
    return start;
  }

  /** A string's value, for the strings the scan keeps: none of them holds an escape in cargo's output. */
  plainString(): string {
    const start = this.string();
    if (this.escaped) throw UNUSUAL;
    return this.s.slice(start, this.i - 1);
  }

  /** A feature list's text: JSON-escaped only by its quotes. */
  featuresText(): string {
    const start = this.string();
    const raw = this.s.slice(start, this.i - 1);
    if (!this.escaped) return raw;
    // Every unit repeats one of a few lists: unescape each distinct text once.
    const known = UNESCAPED.get(raw);
    if (known !== undefined) return known;
    const text = raw.replaceAll('\\"', '"');
    if (text.includes('\\')) throw UNUSUAL;
    if (UNESCAPED.size >= 4096) UNESCAPED.clear();
    UNESCAPED.set(raw, text);
    return text;
  }

  /** The bit of the top-level field whose `"key":` starts here (0 for any other key), past its colon. */
  topField(): number {
    const s = this.s;
    const i = this.i;
    // Cargo writes the fields in one order: try the one after the last first, so that a match costs one compare.
    for (let k = 0; k < TOP_FIELDS.length; k++) {
      const f = TOP_FIELDS[(this.next + k) % TOP_FIELDS.length]!;
      if (s.startsWith(f.text, i)) {
        this.i = i + f.text.length;
        this.next = f.index + 1;
        return f.bit;
      }
    }
    return 0;
  }

  boolean(): boolean {
    const s = this.s;
    if (s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    throw UNUSUAL;
  }

  /** `[` items `]`, items separated by commas, each read by `item`. */
  list(item: () => void): void {
    this.expect(LBRACKET);
    if (this.s.charCodeAt(this.i) === RBRACKET) {
      this.i++;
      return;
    }
    for (;;) {
      item();
      const c = this.s.charCodeAt(this.i++);
      if (c === RBRACKET) return;
      if (c !== COMMA) throw UNUSUAL;
    }
  }

  /** `{` fields `}`: `field` reads each value and returns the field's bit (0 = unknown); a field appears once. */
  object(field: (key: string) => number): number {
    this.expect(LBRACE);
    let seen = 0;
    if (this.s.charCodeAt(this.i) === RBRACE) {
      this.i++;
      return seen;
    }
    for (;;) {
      const key = this.plainString();
      this.expect(COLON);
      const bit = field(key);
      if (bit === 0 || (seen & bit) !== 0) throw UNUSUAL;
      seen |= bit;
      const c = this.s.charCodeAt(this.i++);
      if (c === RBRACE) return seen;
      if (c !== COMMA) throw UNUSUAL;
    }
  }
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** One `local` entry: `{"<Variant>":<body>}`, for the variants cargo writes today. Returns a Precalculated value. */
function localEntry(sc: Scanner): string | null {
  let precalculated: string | null = null;
  sc.object((variant) => {
    switch (variant) {
      case 'CheckDepInfo': {
        const seen = sc.object((k) => {
          if (k === 'dep_info') {
            sc.string();
            return 1;
          }
          if (k === 'fingerprint') {
            const v = sc.plainString();
            if (v !== 'mtime' && v !== 'content') throw UNUSUAL;
            return 2;
          }
          if (k === 'checksum') {
            sc.boolean();
            return 4;
          }
          return 0;
        });
        // `dep_info`, and `fingerprint` or `checksum` (or both).
        if ((seen & 1) === 0 || (seen & 6) === 0) throw UNUSUAL;
        return 1;
      }
      case 'RerunIfChanged': {
        const seen = sc.object((k) => {
          if (k === 'output') {
            sc.string();
            return 1;
          }
          if (k === 'paths') {
            sc.list(() => void sc.string());
            return 2;
          }
          return 0;
        });
        if (seen !== 3) throw UNUSUAL;
        return 1;
      }
      case 'RerunIfEnvChanged': {
        const seen = sc.object((k) => {
          if (k === 'var') {
            sc.string();
            return 1;
          }
          if (k === 'val') {
            if (sc.s.startsWith('null', sc.i)) sc.i += 4;
            else sc.string();
            return 2;
          }
          return 0;
        });
        if ((seen & 1) === 0) throw UNUSUAL;
        return 1;
      }
      case 'Precalculated':
        precalculated = sc.plainString();
        return 1;
      default:
        return 0;
    }
  });
  return precalculated;
}

/**
 * What the scan keeps of a fingerprint JSON, or null when the text is not exactly of the shape cargo writes (the
 * caller then uses the slower readers, which also say what is wrong with it).
 */
export function scanFingerprint(text: string, memo: FingerprintMemo): ScannedFingerprint | null {
  const sc = new Scanner(text);
  let rustc = '';
  let features: readonly string[] = [];
  let featuresRaw = '';
  const deps: FingerprintDep[] = [];
  let precalculated: string | null = null;
  try {
    sc.expect(LBRACE);
    let seen = 0;
    for (;;) {
      const bit = sc.topField();
      if (bit === 0 || (seen & bit) !== 0) return null;
      seen |= bit;
      switch (bit) {
        case F_RUSTC:
          rustc = memo.rustc(sc.u64());
          break;
        case F_FEATURES:
          featuresRaw = sc.featuresText();
          features = memo.featureList(featuresRaw);
          break;
        case F_DECLARED:
          memo.featureList(sc.featuresText());
          break;
        case F_TARGET:
        case F_PROFILE:
        case F_PATH:
        case F_CONFIG:
        case F_COMPILE_KIND:
          sc.skipU64();
          break;
        case F_DEPS:
          sc.list(() => {
            sc.expect(LBRACKET);
            sc.skipU64();
            sc.expect(COMMA);
            const name = sc.plainString();
            sc.expect(COMMA);
            sc.boolean();
            sc.expect(COMMA);
            const dec = sc.u64();
            sc.expect(RBRACKET);
            deps.push(memo.dep(name, dec));
          });
          break;
        case F_LOCAL:
          sc.list(() => {
            const p = localEntry(sc);
            if (p !== null) precalculated = p;
          });
          break;
        case F_RUSTFLAGS:
          sc.list(() => void sc.string());
          break;
      }
      const c = text.charCodeAt(sc.i++);
      if (c === RBRACE) break;
      if (c !== COMMA) return null;
    }
    if ((seen & REQUIRED) !== REQUIRED || sc.i !== text.length) return null;
  } catch {
    // Unusual, or a value the memo refused (a feature list that is not one): the slower readers decide.
    return null;
  }
  // A pushed array keeps room for 17 items: the model keeps each unit's list for as long as it lives.
  return { features, featuresRaw, rustc, deps: deps.length === 0 ? NO_DEPS : deps.slice(), precalculated };
}

const NO_DEPS: readonly FingerprintDep[] = [];

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * `u64DecToLeHex` (json-lossless.ts) for the decimal u64 the scanner has checked, without BigInt: the value is
 * built in four 16-bit limbs, then written byte by byte, least significant first.
 */
export function leHex(dec: string): string {
  let l0 = 0;
  let l1 = 0;
  let l2 = 0;
  let l3 = 0;
  for (let i = 0; i < dec.length; i++) {
    l0 = l0 * 10 + (dec.charCodeAt(i) - 48);
    l1 = l1 * 10 + (l0 >>> 16);
    l0 &= 0xffff;
    l2 = l2 * 10 + (l1 >>> 16);
    l1 &= 0xffff;
    l3 = (l3 * 10 + (l2 >>> 16)) & 0xffff;
    l2 &= 0xffff;
  }
  // Each limb is two bytes, low byte first; each byte is written high nibble first.
  return String.fromCharCode(
    HEX_CODES[(l0 >>> 4) & 15]!, HEX_CODES[l0 & 15]!, HEX_CODES[(l0 >>> 12) & 15]!, HEX_CODES[(l0 >>> 8) & 15]!,
    HEX_CODES[(l1 >>> 4) & 15]!, HEX_CODES[l1 & 15]!, HEX_CODES[(l1 >>> 12) & 15]!, HEX_CODES[(l1 >>> 8) & 15]!,
    HEX_CODES[(l2 >>> 4) & 15]!, HEX_CODES[l2 & 15]!, HEX_CODES[(l2 >>> 12) & 15]!, HEX_CODES[(l2 >>> 8) & 15]!,
    HEX_CODES[(l3 >>> 4) & 15]!, HEX_CODES[l3 & 15]!, HEX_CODES[(l3 >>> 12) & 15]!, HEX_CODES[(l3 >>> 8) & 15]!,
  );
}
