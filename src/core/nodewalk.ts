// The pure-Node Walker (node:fs only): the fallback when the native helper cannot be built or is turned off
// with CARGO_BUILD_DIR_WALKER=node. Its results must equal native/src/main.rs's byte for byte, so the two share
// every rule: lstat only, children sorted by UTF-8 bytes, pre-order, the same errno names.
//
// Why synchronous calls: per entry the scan needs one lstat, and Node's promise-based fs spends more time in the
// event loop and the thread pool hand-off than in the system call (measured: sync was the fastest on trees of
// 100k entries). The walk runs in slices of a few milliseconds and yields between them, so an extension host
// stays responsive.

import * as fs from 'node:fs';
import { globMatch, type EntryType, type InlineFile, type InlineRule, type ReadRequest, type ReadResult, type WalkEntry, type WalkError, type WalkLink, type WalkRequest, type WalkResult, type Walker } from './walk';

/** Run for at most this long before giving the event loop a turn. */
const SLICE_MS = 12;
const MAX_DEPTH = 0x7fffffff;
const SEP = process.platform === 'win32' ? '\\' : '/';
const NO_THROW = { throwIfNoEntry: false } as const;
const BIGINT = { bigint: true, throwIfNoEntry: false } as const;
// The native helper has no link count or file id on Windows; both walkers then treat every file as one link.
const LINKS_KNOWN = process.platform !== 'win32';
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

// The errno names the native helper knows; anything else becomes EIO in both walkers.
const KNOWN_CODES = new Set([
  'EPERM', 'ENOENT', 'EINTR', 'EIO', 'ENXIO', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EBUSY', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'EFBIG', 'ENAMETOOLONG', 'ELOOP', 'EOVERFLOW', 'ENOTSUP', 'ENOTCONN',
  'ETIMEDOUT', 'ESTALE',
]);

function codeOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return 'EIO';
  if (KNOWN_CODES.has(code)) return code;
  // Node's own argument checks (a path with a NUL byte) are EINVAL for the helper.
  return code.startsWith('ERR_INVALID_ARG') ? 'EINVAL' : 'EIO';
}

function typeOf(st: fs.Stats): EntryType {
  if (st.isDirectory()) return 'd';
  if (st.isFile()) return 'f';
  if (st.isSymbolicLink()) return 'l';
  return 'o';
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Byte order of the UTF-8 names, which is what the helper sorts by. */
function sortNames(names: string[]): void {
  names.sort(); // UTF-16 order: the same as UTF-8 byte order unless a name holds a character outside the BMP
  for (const n of names) {
    if (SURROGATE.test(n)) {
      names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      return;
    }
  }
}

class Slicer {
  private deadline = performance.now() + SLICE_MS;
  private ops = 0;

  /** Cheap unless the slice is over; call once per unit of work. */
  tick(): Promise<void> | null {
    if ((++this.ops & 127) !== 0 || performance.now() < this.deadline) return null;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.deadline = performance.now() + SLICE_MS;
        resolve();
      }),
    );
  }
}

type MutableEntry = { -readonly [K in keyof WalkEntry]: WalkEntry[K] };

interface Frame {
  readonly prefix: string; // filesystem path of the directory plus a separator
  readonly relPrefix: string; // rel of the directory plus '/', or '' for the request path
  readonly level: number; // of the directory's children
  readonly names: string[];
  i: number;
  readonly entry: MutableEntry | null;
  bytes: number;
  count: number;
  newest: number;
}

function normDepth(d: number): number {
  if (Number.isNaN(d) || d < 0) return -1;
  return d >= MAX_DEPTH ? MAX_DEPTH : Math.floor(d);
}

function linkKey(p: string, st: fs.Stats): string {
  // Inode numbers can exceed 2^53; only the bigint stat gives the exact key.
  const big = fs.lstatSync(p, BIGINT);
  return big ? `${big.dev}:${big.ino}` : `${st.dev}:${st.ino}`;
}

export class NodeWalker implements Walker {
  readonly name = 'node';

  async walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
    const slicer = new Slicer();
    const out: WalkResult[] = [];
    for (const r of requests) out.push(await this.walkOne(r.path, normDepth(r.depth), r.inline ?? [], slicer));
    return out;
  }

  async read(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    const slicer = new Slicer();
    const out: ReadResult[] = [];
    for (const r of requests) {
      const pause = slicer.tick();
      if (pause) await pause;
      out.push(readOne(r));
    }
    return out;
  }

  close(): void {
    // Nothing to release.
  }

  private async walkOne(root: string, depth: number, rules: readonly InlineRule[], slicer: Slicer): Promise<WalkResult> {
    const entries: MutableEntry[] = [];
    const links: WalkLink[] = [];
    const errors: WalkError[] = [];
    const inline: InlineFile[] = [];
    const result: { entries: MutableEntry[]; links: WalkLink[]; errors: WalkError[]; inline?: InlineFile[] } = { entries, links, errors };
    // Same order as the helper: every regular file the walk lists, in pre-order, first matching rule.
    const maybeRead = (p: string, rel: string): void => {
      for (let k = 0; k < rules.length; k++) {
        const r = rules[k]!;
        if (!globMatch(r.glob, rel)) continue;
        if (!r.skip) inline.push({ rel, rule: k, content: readOne({ path: p, maxBytes: r.maxBytes, firstLine: r.firstLine }) });
        break;
      }
      if (inline.length === 1) result.inline = inline;
    };
    if (root.includes('\0')) {
      errors.push({ rel: '', code: 'EINVAL' });
      return result;
    }
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(root, NO_THROW);
    } catch (e) {
      errors.push({ rel: '', code: codeOf(e) });
      return result;
    }
    if (!st) {
      errors.push({ rel: '', code: 'ENOENT' });
      return result;
    }
    const nlink = LINKS_KNOWN ? st.nlink : 1;
    if (!st.isDirectory() || depth < 0) {
      const type = typeOf(st);
      const multi = type === 'f' && nlink > 1;
      if (type === 'f' && rules.length) maybeRead(root, '');
      entries.push({ rel: '', type, bytes: multi ? 0 : st.size, count: multi ? 0 : 1, mtimeMs: st.mtimeMs, newestMs: st.mtimeMs, nlink });
      if (multi) links.push({ rel: '', key: linkKey(root, st), nlink, size: st.size, mtimeMs: st.mtimeMs });
      return result;
    }

    const open = (dir: string, rel: string, level: number, dst: fs.Stats): Frame => {
      let entry: MutableEntry | null = null;
      if (level <= depth) {
        entry = { rel, type: 'd', bytes: 0, count: 0, mtimeMs: dst.mtimeMs, newestMs: dst.mtimeMs, nlink: LINKS_KNOWN ? dst.nlink : 1 };
        entries.push(entry);
      }
      let names: string[];
      try {
        names = fs.readdirSync(dir);
        sortNames(names);
      } catch (e) {
        errors.push({ rel, code: codeOf(e) });
        names = [];
      }
      return {
        prefix: dir.endsWith('/') || dir.endsWith(SEP) ? dir : dir + SEP,
        relPrefix: rel === '' ? '' : `${rel}/`,
        level: level + 1,
        names,
        i: 0,
        entry,
        bytes: dst.size,
        count: 1,
        newest: dst.mtimeMs,
      };
    };

    const stack: Frame[] = [open(root, '', 0, st)];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.i === f.names.length) {
        stack.pop();
        if (f.entry) {
          f.entry.bytes = f.bytes;
          f.entry.count = f.count;
          f.entry.newestMs = f.newest;
        }
        const parent = stack[stack.length - 1];
        if (parent) {
          parent.bytes += f.bytes;
          parent.count += f.count;
          if (f.newest > parent.newest) parent.newest = f.newest;
        }
        continue;
      }
      const pause = slicer.tick();
      if (pause) await pause;
      const name = f.names[f.i++]!;
      const p = f.prefix + name;
      const rel = f.relPrefix + name;
      let c: fs.Stats | undefined;
      try {
        c = fs.lstatSync(p, NO_THROW);
      } catch (e) {
        errors.push({ rel, code: codeOf(e) });
        continue;
      }
      if (!c) {
        errors.push({ rel, code: 'ENOENT' });
        continue;
      }
      if (c.isDirectory()) {
        stack.push(open(p, rel, f.level, c));
        continue;
      }
      const type = typeOf(c);
      const cl = LINKS_KNOWN ? c.nlink : 1;
      const emit = f.level <= depth;
      const mtime = c.mtimeMs;
      if (emit && type === 'f' && rules.length) maybeRead(p, rel);
      if (type === 'f' && cl > 1) {
        links.push({ rel, key: linkKey(p, c), nlink: cl, size: c.size, mtimeMs: mtime });
        if (emit) entries.push({ rel, type, bytes: 0, count: 0, mtimeMs: mtime, newestMs: mtime, nlink: cl });
      } else {
        f.bytes += c.size;
        f.count += 1;
        if (emit) entries.push({ rel, type, bytes: c.size, count: 1, mtimeMs: mtime, newestMs: mtime, nlink: cl });
      }
      if (mtime > f.newest) f.newest = mtime;
    }
    return result;
  }
}

function kindError(st: fs.Stats): string | null {
  if (st.isFile()) return null;
  if (st.isSymbolicLink()) return 'ELOOP';
  if (st.isDirectory()) return 'EISDIR';
  return 'EINVAL';
}

/** Same checks and limits as the helper: only regular files, never through a symlink, never blocking on a FIFO. */
function readOne(r: ReadRequest): ReadResult {
  if (r.path.includes('\0')) return { ok: false, code: 'EINVAL' };
  const max = !(r.maxBytes > 0) ? 0 : r.maxBytes >= 0xffffffff ? 0xffffffff : Math.floor(r.maxBytes);
  let fd: number;
  try {
    const k = kindError(fs.lstatSync(r.path));
    if (k) return { ok: false, code: k };
    fd = fs.openSync(r.path, OPEN_FLAGS);
  } catch (e) {
    const st = fs.lstatSync(r.path, NO_THROW);
    return { ok: false, code: st?.isSymbolicLink() ? 'ELOOP' : codeOf(e) };
  }
  try {
    const st = fs.fstatSync(fd);
    const k = kindError(st);
    if (k) return { ok: false, code: k };
    let buf = Buffer.alloc(0);
    let len = 0;
    while (len < max) {
      const hint = Math.min(Math.max(st.size - len + 1, 4096), 1 << 20);
      const want = Math.min(max - len, hint);
      if (buf.length < len + want) {
        const grown = Buffer.allocUnsafe(len + want);
        buf.copy(grown, 0, 0, len);
        buf = grown;
      }
      const n = fs.readSync(fd, buf, len, want, null);
      if (n === 0) break;
      const start = len;
      len += n;
      if (r.firstLine) {
        const nl = buf.subarray(0, len).indexOf(10, start);
        if (nl !== -1) {
          len = nl;
          break;
        }
      }
      // Same shortcut as the helper: a short read that reaches the fstat size is the end of the file.
      if (n < want && len >= st.size) break;
    }
    return { ok: true, data: Buffer.from(buf.subarray(0, len)) };
  } catch (e) {
    return { ok: false, code: codeOf(e) };
  } finally {
    fs.closeSync(fd);
  }
}
