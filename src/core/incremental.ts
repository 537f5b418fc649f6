// Core, pure: decodes the names rustc gives to incremental-compilation folders (`<profile>/incremental/`):
// `<crate>-<stable crate id, base 36>` per crate instance, and `s-<start µs>-<random>-<svh|working>` sessions
// with their `s-<start µs>-<random>.lock` files. The session start time is the only clue for linking a folder
// to a unit, so it is decoded exactly (BigInt; the value is in microseconds).

export interface IncrementalDirName {
  /** Crate name (underscores, never dashes). */
  readonly crate: string;
  /** The stable crate id in base 36. */
  readonly suffix: string;
}

export interface SessionName {
  /** Start of the rustc session, ms since the epoch (sub-millisecond part kept), null when it does not decode. */
  readonly startedAt: number | null;
  /** `-working`: in progress, or left behind by a rustc that crashed or failed. */
  readonly working: boolean;
  /** The session's `.lock` file rather than its folder. */
  readonly lock: boolean;
}

const U64_MAX = (1n << 64n) - 1n;
const BASE36 = /^[0-9a-zA-Z]+$/;

function base36ToBigInt(s: string): bigint | null {
  if (!BASE36.test(s)) return null;
  let v = 0n;
  for (const ch of s.toLowerCase()) v = v * 36n + BigInt(parseInt(ch, 36));
  return v;
}

/**
 * Splits `<crate>-<suffix>` at the last dash. Current rustc pads the suffix (a u64 in base 36) to 13 characters;
 * older rustc wrote it without padding, so 1 to 13 characters are accepted as long as the value fits in a u64.
 */
export function parseIncrementalDirName(name: string): IncrementalDirName | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const crate = name.slice(0, dash);
  const suffix = name.slice(dash + 1);
  if (suffix.length < 1 || suffix.length > 13) return null;
  const v = base36ToBigInt(suffix);
  if (v === null || v > U64_MAX) return null;
  return { crate, suffix };
}

/**
 * Decodes a session folder or lock file name: `s-<ts>-<random>-<svh>`, `s-<ts>-<random>-working` or
 * `s-<ts>-<random>.lock`, where `<ts>` is the session start in microseconds since the epoch, in base 36.
 */
export function parseSessionName(name: string): SessionName | null {
  if (!name.startsWith('s-')) return null;
  let rest = name.slice(2);
  const lock = rest.endsWith('.lock');
  if (lock) rest = rest.slice(0, -5);
  const parts = rest.split('-');
  if (lock ? parts.length !== 2 : parts.length !== 3) return null;
  const [ts, random, last] = parts as [string, string, string | undefined];
  if (!BASE36.test(ts) || !BASE36.test(random)) return null;
  const working = last === 'working';
  if (!lock && !working && !BASE36.test(last ?? '')) return null;
  return { startedAt: decodeMicros(ts), working, lock };
}

function decodeMicros(ts: string): number | null {
  if (ts.length > 13) return null;
  const micros = base36ToBigInt(ts);
  if (micros === null || micros > U64_MAX) return null;
  const ms = Number(micros) / 1000;
  // Beyond what a Date can hold the value is garbage, not a time.
  if (!Number.isFinite(ms) || ms > 8.64e15) return null;
  return ms;
}
