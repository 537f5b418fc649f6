// Core, pure: decoder for cargo's binary dep-info (`dep-<name>` in a fingerprint folder), format version 1.
// Layout (all integers little-endian): u32 + u8 0xFF marker, u8 version, u32 file count, files, u32 env count,
// env entries. Every length is checked against the bytes that remain before anything is sliced, so corrupt or
// hostile input fails fast with a DepInfoError instead of hanging or allocating.

export class DepInfoError extends Error {
  /** Byte offset where decoding failed, when it applies. */
  readonly offset: number | null;

  constructor(message: string, offset: number | null = null) {
    super(message);
    this.name = 'DepInfoError';
    this.offset = offset;
  }
}

export interface DepInfoChecksum {
  /** File length in bytes, decimal u64. */
  readonly fileLen: string;
  /** `sha256=<hex>` or `blake3=<hex>`. */
  readonly value: string;
}

export interface DepInfoFile {
  /** `package` = relative to the package root; `build` = relative to the build-dir root, or absolute. */
  readonly base: 'package' | 'build';
  /** Raw OS bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  readonly path: string;
  /** Only present with checksum freshness (`-Zchecksum-freshness`). */
  readonly checksum: DepInfoChecksum | null;
}

export interface DepInfoEnv {
  readonly key: string;
  /** Null: the compilation depends on the variable being unset. */
  readonly value: string | null;
}

export interface DepInfo {
  readonly version: number;
  readonly files: readonly DepInfoFile[];
  readonly env: readonly DepInfoEnv[];
}

const SUPPORTED_VERSION = 1;

class Reader {
  pos = 0;

  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) {
      throw new DepInfoError(
        `dep-info is truncated at byte ${this.data.length}: ${what} at byte ${this.pos} needs ${n} byte${n === 1 ? '' : 's'}, ` +
          `${this.remaining} left`,
        this.pos,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.data[this.pos++] as number;
  }

  u32(what: string): number {
    this.need(4, what);
    const d = this.data;
    const p = this.pos;
    this.pos += 4;
    return ((d[p] as number) | ((d[p + 1] as number) << 8) | ((d[p + 2] as number) << 16)) + (d[p + 3] as number) * 0x1000000;
  }

  u64(what: string): bigint {
    this.need(8, what);
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.data[this.pos + i] as number);
    this.pos += 8;
    return v;
  }

  /** u32 length followed by that many bytes. */
  bytes(what: string): Uint8Array {
    const at = this.pos;
    const len = this.u32(`the length of ${what}`);
    if (len > this.remaining) {
      throw new DepInfoError(
        `dep-info is corrupt or truncated: ${what} at byte ${at} claims ${len} bytes but only ${this.remaining} are left`,
        at,
      );
    }
    const out = this.data.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a binary dep-info file. Throws DepInfoError with a message meant for users when the file is empty,
 * in the old format, of an unknown version, truncated, or otherwise not what cargo writes.
 * Bytes after the last env entry are ignored, as cargo does.
 */
export function parseDepInfo(data: Uint8Array): DepInfo {
  if (data.length === 0) throw new DepInfoError('dep-info file is empty', 0);
  const r = new Reader(data);

  // The marker reads as "1 file of path type 255" to cargo versions that predate it, which makes them stop.
  r.u32('the format marker');
  const marker = r.u8('the format marker');
  if (marker !== 0xff) {
    if (marker === 0 || marker === 1) {
      throw new DepInfoError(
        'dep-info has no 0xFF format marker: it was written by an older cargo (format v0) and cannot be read; ' +
          'cargo will rebuild this unit',
        4,
      );
    }
    throw new DepInfoError(`not a cargo dep-info file: byte 4 is 0x${hex2(marker)}, expected the 0xFF format marker`, 4);
  }
  const version = r.u8('the format version');
  if (version !== SUPPORTED_VERSION) {
    throw new DepInfoError(
      `dep-info format version ${version} is not supported (only version ${SUPPORTED_VERSION}); it was probably written by a newer cargo`,
      5,
    );
  }

  const nfiles = r.u32('the file count');
  const files: DepInfoFile[] = [];
  for (let i = 0; i < nfiles; i++) {
    const label = `file ${i + 1} of ${nfiles}`;
    const typeAt = r.pos;
    const type = r.u8(`the path type of ${label}`);
    if (type !== 0 && type !== 1) {
      throw new DepInfoError(`dep-info is corrupt: invalid path type 0x${hex2(type)} at byte ${typeAt} (${label})`, typeAt);
    }
    const path = utf8(r.bytes(`the path of ${label}`));
    const flagAt = r.pos;
    const hasChecksum = r.u8(`the checksum flag of ${label}`);
    let checksum: DepInfoChecksum | null = null;
    if (hasChecksum === 1) {
      const fileLen = r.u64(`the file length of ${label}`).toString();
      checksum = { fileLen, value: utf8(r.bytes(`the checksum of ${label}`)) };
    } else if (hasChecksum !== 0) {
      throw new DepInfoError(`dep-info is corrupt: invalid checksum flag 0x${hex2(hasChecksum)} at byte ${flagAt} (${label})`, flagAt);
    }
    files.push({ base: type === 0 ? 'package' : 'build', path, checksum });
  }

  const nenv = r.u32('the env count');
  const env: DepInfoEnv[] = [];
  for (let i = 0; i < nenv; i++) {
    const label = `env entry ${i + 1} of ${nenv}`;
    const keyAt = r.pos;
    const key = decodeStrict(r.bytes(`the name of ${label}`), `the name of ${label}`, keyAt);
    const flagAt = r.pos;
    const set = r.u8(`the set/unset flag of ${label}`);
    let value: string | null = null;
    if (set === 1) {
      const valueAt = r.pos;
      value = decodeStrict(r.bytes(`the value of ${label}`), `the value of ${label}`, valueAt);
    } else if (set !== 0) {
      throw new DepInfoError(`dep-info is corrupt: invalid set/unset flag 0x${hex2(set)} at byte ${flagAt} (${label})`, flagAt);
    }
    env.push({ key, value });
  }
  return { version, files, env };
}

/** Cargo rejects env names and values that are not UTF-8, so they mean corruption here. */
function decodeStrict(bytes: Uint8Array, what: string, at: number): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new DepInfoError(`dep-info is corrupt: ${what} at byte ${at} is not valid UTF-8`, at);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
