// Core, pure: the `rustc` field of a fingerprint JSON, recomputed from the text of `rustc -vV` (reference §4.2).
// Cargo hashes the verbose version with its stable hasher (SipHash-1-3, 128-bit output, keys 0/0) the way
// `Hash for str` feeds it — the UTF-8 bytes, then a 0xFF terminator — and folds the two halves into a u64 as
// `lo * 3 + hi`. The result exceeds 2^53, so everything is BigInt and the answer is a decimal string, the same
// form the scan keeps `Unit.rustc` in.

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK;
}

interface State {
  v0: bigint;
  v1: bigint;
  v2: bigint;
  v3: bigint;
}

function round(s: State): void {
  s.v0 = (s.v0 + s.v1) & MASK;
  s.v1 = rotl(s.v1, 13n);
  s.v1 ^= s.v0;
  s.v0 = rotl(s.v0, 32n);
  s.v2 = (s.v2 + s.v3) & MASK;
  s.v3 = rotl(s.v3, 16n);
  s.v3 ^= s.v2;
  s.v0 = (s.v0 + s.v3) & MASK;
  s.v3 = rotl(s.v3, 21n);
  s.v3 ^= s.v0;
  s.v2 = (s.v2 + s.v1) & MASK;
  s.v1 = rotl(s.v1, 17n);
  s.v1 ^= s.v2;
  s.v2 = rotl(s.v2, 32n);
}

/** SipHash-1-3 with a 128-bit result over `data`, keys 0/0: returns the two 64-bit halves. */
export function sipHash13x128(data: Uint8Array, k0 = 0n, k1 = 0n): { lo: bigint; hi: bigint } {
  const s: State = {
    v0: k0 ^ 0x736f6d6570736575n,
    // The 128-bit variant differs from the 64-bit one only by this xor and the 0xee/0xdd finalization steps.
    v1: (k1 ^ 0x646f72616e646f6dn) ^ 0xeen,
    v2: k0 ^ 0x6c7967656e657261n,
    v3: k1 ^ 0x7465646279746573n,
  };
  const len = data.length;
  const whole = len - (len % 8);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < whole; i += 8) {
    const m = view.getBigUint64(i, true);
    s.v3 ^= m;
    round(s);
    s.v0 ^= m;
  }
  let b = BigInt(len & 0xff) << 56n;
  for (let i = whole; i < len; i++) b |= BigInt(data[i]!) << BigInt(8 * (i - whole));
  s.v3 ^= b;
  round(s);
  s.v0 ^= b;
  s.v2 ^= 0xeen;
  round(s);
  round(s);
  round(s);
  const lo = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
  s.v1 ^= 0xddn;
  round(s);
  round(s);
  round(s);
  const hi = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
  return { lo, hi };
}

/** Cargo's `hash_u64` of a string: the value stored in a fingerprint's `rustc` field, as a decimal string. */
export function cargoHashStr(text: string): string {
  const utf8 = Buffer.from(text, 'utf8');
  const bytes = new Uint8Array(utf8.length + 1);
  bytes.set(utf8, 0);
  bytes[utf8.length] = 0xff;
  const { lo, hi } = sipHash13x128(bytes);
  return ((lo * 3n + hi) & MASK).toString();
}

/**
 * The fingerprint `rustc` field for a toolchain, from the exact stdout of its `rustc -vV` (trailing newline
 * included: cargo hashes the output as captured, and the field changes if a single byte does).
 */
export function rustcFieldFromVerbose(verboseVersion: string): string {
  return cargoHashStr(verboseVersion);
}

export interface RustcVersionInfo {
  /** First line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`. */
  readonly line: string;
  /** `release:` value, e.g. `1.97.0-nightly`, or null. */
  readonly release: string | null;
  readonly channel: 'stable' | 'beta' | 'nightly' | 'dev' | null;
  readonly host: string | null;
  readonly commitDate: string | null;
}

/** The parts of a `rustc -vV` text shown to people. */
export function parseRustcVerbose(text: string): RustcVersionInfo {
  const line = text.split(/\r?\n/, 1)[0]?.trim() ?? '';
  const field = (k: string): string | null => new RegExp(`^${k}:\\s*(\\S.*?)\\s*$`, 'm').exec(text)?.[1] ?? null;
  const release = field('release');
  let channel: RustcVersionInfo['channel'] = null;
  if (release) {
    if (/-nightly\b/.test(release)) channel = 'nightly';
    else if (/-beta\b/.test(release)) channel = 'beta';
    else if (/-dev\b/.test(release)) channel = 'dev';
    else if (/^\d+\.\d+\.\d+$/.test(release)) channel = 'stable';
  }
  return { line, release, channel, host: field('host'), commitDate: field('commit-date') };
}

/** `stable 1.95.0`, `nightly 1.97.0-nightly (2026-05-19)`: a toolchain named for people. */
export function toolchainLabel(name: string, version: RustcVersionInfo): string {
  const channel = /^(stable|beta|nightly)\b/.exec(name)?.[1] ?? version.channel ?? name;
  const rel = version.release ?? version.line;
  const date = version.channel === 'nightly' && version.commitDate ? ` (${version.commitDate})` : '';
  return `${channel} ${rel}${date}`;
}
