// Everything one unit holds, decoded: its fingerprint files (hash, lossless JSON, binary dep-info, cached
// compiler messages) and, for a build-script run, what the script printed with every directive parsed. The
// scan reads only what the overview needs; this module reads the rest on demand (the `show` command, the
// inspector views). Files are read without following symlinks and with a size cap, so a damaged or hostile
// build dir cannot make it read outside itself or load gigabytes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Unit } from './model';
import { parseFingerprintFileName, parseFingerprintJson, parseHashFile, type Fingerprint, type HashFile } from './fingerprint';
import { parseDepInfo, type DepInfo } from './depinfo';
import { parseBuildScriptOutput, type BuildScriptOutput } from './buildscript';
import { describeFsError } from './layout';

const MAX_FILE = 16 << 20;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface CompilerMessage {
  readonly level: string;
  readonly message: string;
  /** What rustc printed (ANSI colour codes removed). */
  readonly rendered: string | null;
  /** `file:line:column` of the primary span, when there is one. */
  readonly location: string | null;
}

export interface TargetFingerprint {
  /** The hash file's name, e.g. `lib-util` or `run-build-script-build-script-build`. */
  readonly name: string;
  readonly hash: Decoded<HashFile>;
  readonly json: Decoded<Fingerprint> | null;
  readonly depInfo: Decoded<DepInfo> | null;
  /** Cached compiler messages (`output-<name>`), replayed by cargo when the unit is fresh. */
  readonly messages: Decoded<readonly CompilerMessage[]> | null;
}

export interface BuildScriptRun {
  readonly outDir: string;
  readonly stdout: Decoded<{ readonly text: string; readonly parsed: BuildScriptOutput }> | null;
  readonly stderr: Decoded<string> | null;
  /** OUT_DIR as it was when the script ran (cargo rewrites the prefix if the folder moved since). */
  readonly rootOutput: Decoded<string> | null;
  readonly ranAt: number | null;
}

export interface UnitDetails {
  readonly unit: Unit;
  readonly fingerprintDir: string | null;
  readonly targets: readonly TargetFingerprint[];
  readonly buildScript: BuildScriptRun | null;
}

/**
 * The first `max` bytes of a file, never through a symlink (O_NOFOLLOW where the platform has it), with the
 * file's size; or the errno code that prevented it. Shared by the inspect and build-analysis readers.
 */
export function readNoFollow(file: string, max: number): { ok: true; data: Buffer; size: number } | { ok: false; code: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    return { ok: false, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, max));
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return { ok: true, data: buf.subarray(0, off), size };
  } catch (e) {
    return { ok: false, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  } finally {
    fs.closeSync(fd);
  }
}

function readFileNoFollow(file: string): Decoded<Buffer> | null {
  const r = readNoFollow(file, MAX_FILE);
  if (!r.ok) return r.code === 'ENOENT' ? null : { ok: false, error: describeFsError(r.code) };
  if (r.size > MAX_FILE) return { ok: false, error: `is ${r.size} bytes, more than the ${MAX_FILE >> 20} MiB this reads` };
  return { ok: true, value: r.data };
}

function decode<T>(file: string, f: (b: Buffer) => T): Decoded<T> | null {
  const r = readFileNoFollow(file);
  if (r === null || !r.ok) return r;
  try {
    return { ok: true, value: f(r.value) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** `output-*` files: one JSON object per line in rustc's diagnostic format. */
export function parseCompilerMessages(text: string): CompilerMessage[] {
  const out: CompilerMessage[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let j: unknown;
    try {
      j = JSON.parse(line);
    } catch {
      throw new Error(`line ${out.length + 1} is not JSON: the file is damaged`);
    }
    if (typeof j !== 'object' || j === null) continue;
    const m = j as Record<string, unknown>;
    if (typeof m.message !== 'string') continue;
    const spans = Array.isArray(m.spans) ? (m.spans as Record<string, unknown>[]) : [];
    const primary = spans.find((s) => s && s.is_primary === true) ?? spans[0];
    out.push({
      level: typeof m.level === 'string' ? m.level : 'note',
      message: m.message,
      rendered: typeof m.rendered === 'string' ? m.rendered.replace(ANSI, '') : null,
      location: primary && typeof primary.file_name === 'string' ? `${primary.file_name}:${String(primary.line_start)}:${String(primary.column_start)}` : null,
    });
  }
  return out;
}

function mtimeOf(file: string): number | null {
  try {
    return fs.lstatSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** Reads and decodes everything the unit's folders hold. */
export function readUnitDetails(unit: Unit): UnitDetails {
  const v2 = unit.layout === 'v2';
  const base = unit.paths[0] ?? '';
  const fingerprintDir = v2 ? path.join(base, 'fingerprint') : (unit.parts.find((p) => p.name === 'fingerprint')?.path ?? null);
  const targets: TargetFingerprint[] = [];
  if (fingerprintDir) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(fingerprintDir).sort();
    } catch {
      // Vanished or unreadable: the unit is shown with what the scan already knew.
    }
    for (const name of names) {
      const n = parseFingerprintFileName(name);
      if (!n || n.prefix !== '' || n.json) continue;
      const at = (prefix: string, suffix = ''): string => path.join(fingerprintDir, prefix + name + suffix);
      targets.push({
        name,
        hash: decode(at(''), (b) => parseHashFile(b)) ?? { ok: false, error: 'missing' },
        json: decode(at('', '.json'), (b) => parseFingerprintJson(b.toString('utf8'))),
        depInfo: decode(at('dep-'), (b) => parseDepInfo(b)),
        messages: decode(at('output-'), (b) => parseCompilerMessages(b.toString('utf8'))),
      });
    }
  }
  let buildScript: BuildScriptRun | null = null;
  if (unit.mode === 'run-custom-build') {
    const runDir = v2 ? path.join(base, 'run') : (unit.parts.find((p) => p.name === 'build')?.path ?? base);
    const outDir = v2 ? path.join(base, 'out') : path.join(runDir, 'out');
    buildScript = {
      outDir,
      stdout: decode(path.join(runDir, v2 ? 'stdout' : 'output'), (b) => {
        const text = b.toString('utf8');
        return { text, parsed: parseBuildScriptOutput(text) };
      }),
      stderr: decode(path.join(runDir, 'stderr'), (b) => b.toString('utf8')),
      rootOutput: decode(path.join(runDir, 'root-output'), (b) => b.toString('utf8')),
      ranAt: mtimeOf(path.join(runDir, 'invoked.timestamp')),
    };
  }
  return { unit, fingerprintDir, targets, buildScript };
}
