// Core ⇄ walker contract. The scan asks a Walker for sizes and small file contents; two implementations
// satisfy it with identical results: a native helper (src/node/native.ts, fast) and pure Node
// (src/core/nodewalk.ts, always available). Nothing here knows Cargo.
//
// Size semantics are those of `du -sb`: apparent sizes (st_size), directories included, symlinks counted as
// themselves and never followed, each inode once. To make "each inode once" composable across arbitrary sets
// of paths, a regular file with more than one link is never folded into its ancestors' totals: it is reported
// in `links` and its owner adds it once per distinct `key`.

export type EntryType = 'd' | 'f' | 'l' | 'o'; // directory, regular file, symlink, other (fifo, socket, device)

export interface WalkRequest {
  /** Absolute path. */
  readonly path: string;
  /**
   * How deep to list: -1 = lstat the path only (no recursion, `bytes` is its own size); 0 = the path with its
   * whole subtree folded into one entry; n = entries down to n levels below the path, each with its subtree.
   */
  readonly depth: number;
  /**
   * Small files to read during the walk, so that a caller needing a few of them per request gets them in the same
   * round trip. They apply to the regular files the walk lists (levels up to `depth`, the request path included):
   * the first rule whose glob matches a file's rel decides. Results go in `WalkResult.inline`.
   */
  readonly inline?: readonly InlineRule[];
  /**
   * Ask for `WalkResult.key`. A walker that cannot give one leaves it out: the caller then has no key, never a
   * wrong one.
   */
  readonly key?: boolean;
  /**
   * The key of an earlier answer to this same request (path, depth, rules), which the caller kept with what it
   * made of that answer. When the answer would be the same, the walker may say only that (`same`), without
   * reading the inline files or listing anything.
   */
  readonly expect?: string;
}

export interface InlineRule {
  /**
   * Matched against `rel` segment by segment (same number of '/'-separated segments); `*` matches any run of
   * characters inside one segment. No other wildcard.
   */
  readonly glob: string;
  /** As ReadRequest: read at most this many bytes, optionally stopping at the first '\n'. */
  readonly maxBytes: number;
  readonly firstLine?: boolean;
  /** Matching files are not read (a rule placed first to keep them from the rules after it). */
  readonly skip?: boolean;
}

export interface InlineFile {
  readonly rel: string;
  /** Index in the request's `inline` of the rule that read it. */
  readonly rule: number;
  readonly content: ReadResult;
}

export interface WalkEntry {
  /** Path relative to the request path, '/'-separated; '' for the request path itself. */
  readonly rel: string;
  readonly type: EntryType;
  /** Apparent bytes of this entry and everything below it, multi-link files excluded (see `links`). */
  readonly bytes: number;
  /** Number of inodes counted in `bytes` (this entry included; multi-link files excluded). */
  readonly count: number;
  /** This entry's own mtime, ms since the epoch. */
  readonly mtimeMs: number;
  /** Newest mtime of this entry and everything below it (multi-link files included), ms. */
  readonly newestMs: number;
  /** st_nlink of this entry. A file entry with nlink > 1 has bytes = 0 and count = 0, and also appears in `links`. */
  readonly nlink: number;
}

export interface WalkLink {
  /** Path relative to the request path (may be deeper than the requested depth). */
  readonly rel: string;
  /** `${dev}:${ino}`: the same file reached through two paths has the same key. */
  readonly key: string;
  readonly nlink: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface WalkError {
  /** Path relative to the request path where the error happened ('' = the request path itself). */
  readonly rel: string;
  /** errno code such as ENOENT, EACCES, ENOTDIR, or EIO. */
  readonly code: string;
}

/** A walker may decode its results on first access (the native one does): read the fields, do not copy the object. */
export interface WalkResult {
  /** Pre-order: entries[0] is the request path itself, when it could be lstat'ed. Children sorted by name. */
  readonly entries: readonly WalkEntry[];
  readonly links: readonly WalkLink[];
  /** Subtrees that vanished or could not be read; their bytes are simply not counted. */
  readonly errors: readonly WalkError[];
  /** Files read by the request's inline rules, in pre-order; absent when none was. */
  readonly inline?: readonly InlineFile[];
  /**
   * When the request asked for it: a stamp of the whole answer. Two answers to the same request with the same
   * key say the same thing (entries, links, errors, and inline contents, which the native walker pins by each
   * file's inode and ctime), so whatever is made of an answer alone can be kept under its key and reused.
   */
  readonly key?: string;
  /** The answer equals the one whose key the request gave as `expect`; entries, links and inline are then empty. */
  readonly same?: boolean;
}

export interface ReadRequest {
  readonly path: string;
  /** Read at most this many bytes. */
  readonly maxBytes: number;
  /** Stop after the first '\n' (the newline is not included). */
  readonly firstLine?: boolean;
}

/** A file's content, or the errno code that prevented reading it. */
export type ReadResult = { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly code: string };

export interface Walker {
  /** Human-readable name for diagnostics ("native" or "node"). */
  readonly name: string;
  /** Results come back in request order. Never rejects for filesystem errors: they go in `errors`. */
  walk(requests: readonly WalkRequest[]): Promise<WalkResult[]>;
  /** Results come back in request order. Symlinks are not followed (a symlink gives code 'ELOOP'). */
  read(requests: readonly ReadRequest[]): Promise<ReadResult[]>;
  close(): void;
  /** After close(): resolves once a helper process, if any, has ended, so that its CPU time is its parent's to count. */
  ended?(): Promise<void>;
}

/** The glob semantics of InlineRule, shared by both walkers. */
export function globMatch(glob: string, rel: string): boolean {
  const g = glob.split('/');
  const r = rel.split('/');
  if (g.length !== r.length) return false;
  for (let i = 0; i < g.length; i++) if (!segmentMatch(g[i]!, r[i]!)) return false;
  return true;
}

function segmentMatch(p: string, s: string): boolean {
  // Greedy with one backtrack point: enough for a pattern whose only wildcard is `*`.
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && p.charCodeAt(pi) === 42 /* * */) {
      starP = pi++;
      starS = si;
    } else if (pi < p.length && p.charCodeAt(pi) === s.charCodeAt(si)) {
      pi++;
      si++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}
