// The native Walker: a long-lived `cbd-walker` process (native/src/main.rs) spoken to over stdin/stdout, and
// the code that finds or builds that binary with the user's own cargo. It lives in src/node/ because it spawns
// processes; the scan only sees the Walker contract of src/core/walk.ts. The wire protocol is documented at
// the top of native/src/main.rs; the encoder and decoder here must follow it exactly.

import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultCacheDir } from './cache-dir';
import type { EntryType, InlineFile, InlineRule, ReadRequest, ReadResult, WalkEntry, WalkError, WalkLink, WalkRequest, WalkResult, Walker } from '../core/walk';

const PROTOCOL = 3;
const HEADER = 9; // u8 tag, u32 index, u32 body length
const U32 = 4294967296;
const MAX_DEPTH = 0x7fffffff;
/**
 * Batches on the wire at once. The helper runs them one after the other; with a second one queued in its pipe
 * it starts that as soon as the first is done, instead of waiting for this thread (busy with the answers it
 * already has) to read the end of the first and only then send more.
 */
const MAX_INFLIGHT = 2;

/** The helper died, could not be started, or broke the protocol. Calls that were pending reject with this. */
export class NativeWalkerError extends Error {
  /** True when the call failed only because close() had been called, not because the helper broke. */
  readonly closed: boolean;

  constructor(message: string, closed = false) {
    super(message);
    this.closed = closed;
    this.name = 'NativeWalkerError';
  }
}

export interface NativeWalkerOptions {
  /** Worker threads in the helper (default: its own choice, the number of cores up to 8). */
  readonly threads?: number;
}

interface CallBase<Q, R> {
  readonly reqs: readonly Q[];
  readonly results: R[];
  /** Answers still missing: a call resolves as soon as its own answers are in, even if its batch goes on. */
  remaining: number;
  resolve(r: R[]): void;
  reject(e: Error): void;
}

type Call = (CallBase<WalkRequest, WalkResult> & { readonly kind: 'walk' }) | (CallBase<ReadRequest, ReadResult> & { readonly kind: 'read' });

interface Inflight {
  readonly calls: readonly Call[];
  /** For each request of the batch: the call it came from and its index there. */
  readonly slotCall: readonly Call[];
  readonly slotIndex: Uint32Array;
  readonly seen: Uint8Array;
  received: number;
}

interface Refable {
  ref?(): void;
  unref?(): void;
}

export class NativeWalker implements Walker {
  readonly name = 'native';
  private readonly child: ChildProcessWithoutNullStreams;
  private failure: Error | null = null;
  private closed = false;
  private hello = false;
  private queue: Call[] = [];
  /** Batches sent and not yet ended, oldest first: the helper answers them one after the other. */
  private inflight: Inflight[] = [];
  private stderrTail = '';
  // Incoming record being assembled: the header may arrive split, and a large body is copied once into a buffer
  // of its final size instead of piling up chunks.
  private readonly head = Buffer.alloc(HEADER);
  private headFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;

  constructor(readonly binary: string, opts: NativeWalkerOptions = {}) {
    const args = opts.threads !== undefined ? ['--threads', String(Math.max(1, Math.floor(opts.threads)))] : [];
    this.child = spawn(binary, args, { windowsHide: true });
    this.child.stdout.on('data', (b: Buffer) => this.onData(b));
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-2000);
    });
    // A write to a dead helper fails with EPIPE; the 'close' event below reports the real cause.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (e) => this.fail(new NativeWalkerError(`cbd-walker could not be started (${binary}): ${e.message}`)));
    // 'close' comes after stdout has been drained, so answers already written are never lost.
    this.child.on('close', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = this.stderrTail.trim();
      this.fail(new NativeWalkerError(`cbd-walker ${how}${tail ? `: ${tail}` : ''}`));
    });
    this.setBusy(false);
  }

  walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
    if (requests.length === 0) return Promise.resolve([]);
    // The rule count is one byte on the wire.
    if (requests.some((r) => (r.inline?.length ?? 0) > 255)) return Promise.reject(new RangeError('at most 255 inline rules per walk request'));
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'walk', reqs: requests, results: new Array<WalkResult>(requests.length), remaining: requests.length, resolve, reject });
    });
  }

  read(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'read', reqs: requests, results: new Array<ReadResult>(requests.length), remaining: requests.length, resolve, reject });
    });
  }

  /** Ends the helper once the batch in progress is answered; calls not yet sent are rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const c of queued) c.reject(new NativeWalkerError('the native walker was closed', true));
    this.child.stdin.end();
    if (this.inflight.length === 0) this.setBusy(false);
  }

  /** Resolves once the helper has exited (after close() it exits as soon as it has read its input). */
  ended(): Promise<void> {
    // No pid: it never started (the 'error' event said so), and no 'exit' may ever come.
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    // Waiting for it must keep the process alive, which an idle helper otherwise does not.
    this.child.ref();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Kills the helper (tests use it to check that pending calls reject). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Batches sent and not yet answered to their end (tests and diagnostics). */
  get batchesInFlight(): number {
    return this.inflight.length;
  }

  private enqueue(c: Call): void {
    if (this.failure) return c.reject(this.failure);
    if (this.closed) return c.reject(new NativeWalkerError('the native walker was closed', true));
    this.queue.push(c);
    this.pump();
  }

  // A call goes out at once while fewer than MAX_INFLIGHT batches are on the wire; after that, calls are merged
  // into the next batch, so that the helper's threads see as many requests at once as possible.
  private pump(): void {
    if (this.inflight.length >= MAX_INFLIGHT || this.failure || this.queue.length === 0) return;
    const calls = this.queue;
    this.queue = [];
    let n = 0;
    let size = 1;
    for (const c of calls) {
      n += c.reqs.length;
      if (c.kind === 'walk') {
        for (const r of c.reqs) {
          size += 9 + Buffer.byteLength(r.path, 'utf8') + rulesBytes(r.inline).length + (r.key ? STAMP : 0);
        }
      } else for (const r of c.reqs) size += 10 + Buffer.byteLength(r.path, 'utf8');
    }
    const buf = Buffer.allocUnsafe(size);
    const slotCall = new Array<Call>(n);
    const slotIndex = new Uint32Array(n);
    let o = 0;
    let k = 0;
    for (const c of calls) {
      for (let i = 0; i < c.reqs.length; i++, k++) {
        slotCall[k] = c;
        slotIndex[k] = i;
        if (c.kind === 'walk') {
          const r = c.reqs[i]!;
          o = buf.writeUInt8(r.key ? 0x4b /* K */ : 0x57 /* W */, o);
          o = buf.writeInt32LE(clampDepth(r.depth), o);
          o = writePath(buf, o, r.path);
          o += rulesBytes(r.inline).copy(buf, o);
          if (r.key) {
            // A key that is not one of ours (not 16 bytes of base64) is no key: the answer is then a full one.
            if (r.expect === undefined || r.expect.length !== STAMP_BASE64 || buf.write(r.expect, o, STAMP, 'base64') !== STAMP) buf.fill(0, o, o + STAMP);
            o += STAMP;
          }
        } else {
          const r = c.reqs[i]!;
          o = buf.writeUInt8(0x52, o); // 'R'
          o = buf.writeUInt32LE(clampU32(r.maxBytes), o);
          o = buf.writeUInt8(r.firstLine ? 1 : 0, o);
          o = writePath(buf, o, r.path);
        }
      }
    }
    buf.writeUInt8(0x46, o); // 'F'
    this.inflight.push({ calls, slotCall, slotIndex, seen: new Uint8Array(n), received: 0 });
    this.setBusy(true);
    this.child.stdin.write(buf);
  }

  // An idle helper must not keep the Node process alive: the command line would never exit otherwise.
  private setBusy(busy: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Refable[];
    for (const h of handles) {
      if (busy) h.ref?.();
      else h.unref?.();
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const pending = [...this.inflight.flatMap((b) => b.calls), ...this.queue];
    this.inflight = [];
    this.queue = [];
    this.body = null;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.setBusy(false);
    for (const c of pending) c.reject(e);
  }

  private onData(chunk: Buffer): void {
    let off = 0;
    try {
      while (off < chunk.length && !this.failure) {
        if (this.body) {
          const n = Math.min(this.body.length - this.bodyFill, chunk.length - off);
          chunk.copy(this.body, this.bodyFill, off, off + n);
          this.bodyFill += n;
          off += n;
          if (this.bodyFill === this.body.length) {
            const body = this.body;
            this.body = null;
            this.onRecord(this.head[0]!, this.head.readUInt32LE(1), body);
          }
          continue;
        }
        if (this.headFill === 0 && chunk.length - off >= HEADER) {
          // Fast path: the whole record is inside this chunk; decode it in place.
          const len = chunk.readUInt32LE(off + 5);
          if (chunk.length - off - HEADER >= len) {
            this.onRecord(chunk[off]!, chunk.readUInt32LE(off + 1), chunk.subarray(off + HEADER, off + HEADER + len));
            off += HEADER + len;
            continue;
          }
        }
        const n = Math.min(HEADER - this.headFill, chunk.length - off);
        chunk.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill === HEADER) {
          this.headFill = 0;
          const len = this.head.readUInt32LE(5);
          if (len === 0) this.onRecord(this.head[0]!, this.head.readUInt32LE(1), Buffer.alloc(0));
          else {
            this.body = Buffer.allocUnsafe(len);
            this.bodyFill = 0;
          }
        }
      }
    } catch (e) {
      this.fail(new NativeWalkerError(`cbd-walker sent a malformed answer: ${(e as Error).message}`));
    }
  }

  private onRecord(tag: number, index: number, body: Buffer): void {
    if (!this.hello) {
      if (tag !== 0x48 /* H */ || index !== PROTOCOL) {
        throw new Error(`expected a protocol ${PROTOCOL} hello from ${this.binary}, got tag ${tag} version ${index}`);
      }
      this.hello = true;
      return;
    }
    if (tag === 0x58 /* X */) {
      this.fail(new NativeWalkerError(`cbd-walker refused a request: ${body.toString('utf8')}`));
      return;
    }
    const b = this.inflight[0];
    if (!b) throw new Error(`answer with tag ${tag} while no batch is pending`);
    if (tag === 0x45 /* E */) {
      if (index !== b.slotCall.length || b.received !== index) {
        throw new Error(`batch ended after ${b.received} of ${b.slotCall.length} answers`);
      }
      this.inflight.shift();
      if (this.inflight.length === 0 && this.queue.length === 0) this.setBusy(false);
      this.pump();
      return;
    }
    const call = b.slotCall[index];
    if (!call || b.seen[index]) throw new Error(`unexpected answer for request ${index}`);
    b.seen[index] = 1;
    b.received++;
    const i = b.slotIndex[index]!;
    if (tag === 0x77 /* w */ && call.kind === 'walk') call.results[i] = decodeWalk(body);
    else if (tag === 0x76 /* v */ && call.kind === 'walk') call.results[i] = decodeWalk(body.subarray(STAMP), stampKey(body));
    else if (tag === 0x73 /* s */ && call.kind === 'walk' && body.length === STAMP) call.results[i] = sameAs(stampKey(body));
    else if (tag === 0x72 /* r */ && call.kind === 'read') call.results[i] = decodeRead(body);
    else throw new Error(`answer tag ${tag} does not match a ${call.kind} request`);
    if (--call.remaining === 0) (call.resolve as (r: unknown[]) => void)(call.results);
  }
}

/**
 * A request's inline rules as the helper reads them. Callers send the same few rule lists with thousands of
 * requests: each list is encoded once.
 */
function rulesBytes(rules: readonly InlineRule[] | undefined): Buffer {
  if (!rules || rules.length === 0) return NO_RULES;
  let b = encodedRules.get(rules);
  if (!b) {
    if (rules.length > 255) throw new RangeError('more than 255 inline rules in one request');
    b = Buffer.alloc(1 + rules.reduce((n, r) => n + 9 + Buffer.byteLength(r.glob, 'utf8'), 0));
    let o = b.writeUInt8(rules.length, 0);
    for (const rule of rules) {
      o = b.writeUInt32LE(clampU32(rule.maxBytes), o);
      o = b.writeUInt8((rule.firstLine ? 1 : 0) | (rule.skip ? 2 : 0), o);
      o = writePath(b, o, rule.glob);
    }
    encodedRules.set(rules, b);
  }
  return b;
}

const NO_RULES = Buffer.alloc(1);
const encodedRules = new WeakMap<readonly InlineRule[], Buffer>();

function clampDepth(d: number): number {
  if (Number.isNaN(d) || d < 0) return -1;
  return d >= MAX_DEPTH ? MAX_DEPTH : Math.floor(d);
}

function clampU32(n: number): number {
  if (!(n > 0)) return 0;
  return n >= 0xffffffff ? 0xffffffff : Math.floor(n);
}

function writePath(buf: Buffer, o: number, p: string): number {
  const len = buf.write(p, o + 4, 'utf8');
  buf.writeUInt32LE(len, o);
  return o + 4 + len;
}

function u64(b: Buffer, o: number): number {
  return b.readUInt32LE(o) + b.readUInt32LE(o + 4) * U32;
}

const TYPES: Record<number, EntryType> = { 0x64: 'd', 0x66: 'f', 0x6c: 'l', 0x6f: 'o' };

/**
 * The record's bytes as one Latin-1 string: an ASCII name (nearly all of them) is then a substring of it, which
 * costs far less than decoding each name on its own; other names are decoded as UTF-8.
 */
function namesOf(b: Buffer): (start: number, end: number) => string {
  let all: string | null = null;
  return (start, end) => {
    for (let i = start; i < end; i++) if (b[i]! >= 0x80) return b.toString('utf8', start, end);
    all ??= b.toString('latin1');
    return all.slice(start, end);
  };
}

/**
 * A walk answer. Its bytes are checked when it arrives (a malformed answer fails the call, as it always has), but
 * made into objects only when the scan first looks at it: answers wait for the rest of their chunk and then for
 * the chunk before it to be digested, and objects made on arrival outlived V8's young generation on the way (at
 * 1M entries, most of what the old generation had to collect). Small answers (a folder measured whole, an lstat)
 * are decoded at once: a buffer of their own would cost more than their few objects.
 */
function decodeWalk(b: Buffer, key?: string): WalkResult {
  const errors = decodeErrors(b, skimWalk(b));
  if (b.length <= EAGER_BELOW) {
    const r = decodeWalkBody(b);
    const made: WalkResult = r.inline ? { entries: r.entries, links: r.links, errors, inline: r.inline } : { entries: r.entries, links: r.links, errors };
    return key === undefined ? made : { ...made, key };
  }
  // A copy of its own: the record may be a slice of a large chunk that must not stay alive through this answer.
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return new LazyWalkResult(own, errors, key);
}

/** Not a plain object (its fields are getters): compare walk results by their fields. */
class LazyWalkResult implements WalkResult {
  private body: Buffer | null;
  private made: ReturnType<typeof decodeWalkBody> | null = null;
  constructor(
    body: Buffer,
    readonly errors: readonly WalkError[],
    readonly key?: string,
  ) {
    this.body = body;
  }
  private all(): ReturnType<typeof decodeWalkBody> {
    if (!this.made) {
      this.made = decodeWalkBody(this.body!);
      this.body = null;
    }
    return this.made;
  }
  get entries(): readonly WalkEntry[] {
    return this.all().entries;
  }
  get links(): readonly WalkLink[] {
    return this.all().links;
  }
  get inline(): readonly InlineFile[] | undefined {
    return this.all().inline ?? undefined;
  }
}

const EAGER_BELOW = 512;
/** Bytes of a keyed walk's stamp, and the length of its key (base64). */
const STAMP = 16;
const STAMP_BASE64 = 24;

/** A stamp of zeros is the helper saying it has none (no inode or ctime on this system, a file changed in the last two seconds, a failed read). */
function stampKey(b: Buffer): string | undefined {
  for (let i = 0; i < STAMP; i++) if (b[i] !== 0) return b.toString('base64', 0, STAMP);
  return undefined;
}

function sameAs(key: string | undefined): WalkResult {
  if (key === undefined) throw new Error('a "same" answer without a stamp');
  return { entries: NO_ENTRIES, links: NO_LINKS, errors: NO_ERRORS, key, same: true };
}
const NO_ERRORS: readonly WalkError[] = [];
const NO_ENTRIES: readonly WalkEntry[] = [];
const NO_LINKS: readonly WalkLink[] = [];

/** Checks a walk answer's structure without making anything of it; returns where its errors start. */
function skimWalk(b: Buffer): number {
  let o = 0;
  const nEnt = b.readUInt32LE(o);
  o += 4;
  for (let k = 0; k < nEnt; k++) {
    if (!TYPES[b[o]!]) throw new Error(`unknown entry type ${b[o]}`);
    o += 45 + b.readUInt32LE(o + 41);
    if (o > b.length) throw new RangeError('entry past the end of its record');
  }
  const nLnk = b.readUInt32LE(o);
  o += 4;
  for (let k = 0; k < nLnk; k++) {
    o += 4 + b.readUInt32LE(o);
    o += 4 + b.readUInt32LE(o) + 24;
  }
  const errorsAt = o;
  o = pastErrors(b, o);
  const nInl = b.readUInt32LE(o);
  o += 4;
  for (let k = 0; k < nInl; k++) {
    o += 4 + b.readUInt32LE(o);
    o += 6 + b.readUInt32LE(o + 2);
    if (o > b.length) throw new RangeError('inline content past the end of its record');
  }
  if (o !== b.length) throw new RangeError(`walk answer has ${b.length - o} stray bytes`);
  return errorsAt;
}

/** Where the errors section starting at `o` ends. */
function pastErrors(b: Buffer, o: number): number {
  const nErr = b.readUInt32LE(o);
  o += 4;
  for (let k = 0; k < nErr; k++) {
    o += 4 + b.readUInt32LE(o);
    o += 4 + b.readUInt32LE(o);
  }
  return o;
}

function decodeErrors(b: Buffer, o: number): readonly WalkError[] {
  const nErr = b.readUInt32LE(o);
  if (nErr === 0) return NO_ERRORS;
  o += 4;
  const errors = new Array<WalkError>(nErr);
  for (let k = 0; k < nErr; k++) {
    const relLen = b.readUInt32LE(o);
    const rel = b.toString('utf8', o + 4, o + 4 + relLen);
    o += 4 + relLen;
    const codeLen = b.readUInt32LE(o);
    errors[k] = { rel, code: b.toString('latin1', o + 4, o + 4 + codeLen) };
    o += 4 + codeLen;
  }
  return errors;
}

/** Entries, links and inline files of an answer skimWalk accepted (errors are decoded on their own). */
function decodeWalkBody(b: Buffer): { entries: WalkEntry[]; links: WalkLink[]; inline: InlineFile[] | null } {
  let o = 0;
  const name = namesOf(b);
  const nEnt = b.readUInt32LE(o);
  o += 4;
  const entries = new Array<WalkEntry>(nEnt);
  for (let k = 0; k < nEnt; k++) {
    const relLen = b.readUInt32LE(o + 41);
    const end = o + 45 + relLen;
    entries[k] = {
      rel: relLen === 0 ? '' : name(o + 45, end),
      type: TYPES[b[o]!]!,
      bytes: u64(b, o + 1),
      count: u64(b, o + 9),
      mtimeMs: b.readDoubleLE(o + 17),
      newestMs: b.readDoubleLE(o + 25),
      nlink: u64(b, o + 33),
    };
    o = end;
  }
  const nLnk = b.readUInt32LE(o);
  o += 4;
  const links = new Array<WalkLink>(nLnk);
  for (let k = 0; k < nLnk; k++) {
    const relLen = b.readUInt32LE(o);
    // Decoded on its own, not cut from the record's string: a link's path outlives the answer (in the measure
    // its unit keeps for the totals), and a substring would keep the whole record alive with it.
    const rel = b.toString('utf8', o + 4, o + 4 + relLen);
    o += 4 + relLen;
    const keyLen = b.readUInt32LE(o);
    const key = b.toString('latin1', o + 4, o + 4 + keyLen);
    o += 4 + keyLen;
    links[k] = { rel, key, nlink: u64(b, o), size: u64(b, o + 8), mtimeMs: b.readDoubleLE(o + 16) };
    o += 24;
  }
  o = pastErrors(b, o);
  const nInl = b.readUInt32LE(o);
  o += 4;
  let inline: InlineFile[] | null = null;
  if (nInl > 0) {
    inline = new Array<InlineFile>(nInl);
    for (let k = 0; k < nInl; k++) {
      const relLen = b.readUInt32LE(o);
      const rel = name(o + 4, o + 4 + relLen);
      o += 4 + relLen;
      const rule = b[o]!;
      const ok = b[o + 1] === 1;
      const end = o + 6 + b.readUInt32LE(o + 2);
      // Copied: the answer's bytes are let go once decoded, and a small content must not keep them.
      const content: ReadResult = ok ? { ok: true, data: Buffer.from(b.subarray(o + 6, end)) } : { ok: false, code: b.toString('latin1', o + 6, end) };
      inline[k] = { rel, rule, content };
      o = end;
    }
  }
  return { entries, links, inline };
}

function decodeRead(b: Buffer): ReadResult {
  if (b.length < 1) throw new RangeError('empty read answer');
  // Copy: the record may be a slice of a large chunk that must not stay alive through a small result.
  if (b[0] === 1) return { ok: true, data: Buffer.from(b.subarray(1)) };
  return { ok: false, code: b.toString('latin1', 1) };
}

// ------------------------------------------------------------------------------------------------------------
// Finding or building the binary

export interface FindNativeWalkerOptions {
  /** The cargo to build with (default: `$CARGO`, else `cargo` from PATH). */
  readonly cargo?: string;
  /** Where built binaries and cargo's target dir go (default: the per-user cache folder, see ./cache-dir). */
  readonly cacheDir?: string;
  /** Build the binary when no up-to-date one is cached. */
  readonly build: boolean;
  readonly log?: (line: string) => void;
}

/**
 * The helper's sources: `native/` next to dist/ in a bundle (dist/cli-main.js, dist/extension.js), or at the
 * repository root when running the tsc output from out/src/node/.
 */
export function nativeSourceDir(): string | null {
  for (const up of [['..'], ['..', '..'], ['..', '..', '..']]) {
    const dir = path.resolve(__dirname, ...up, 'native');
    if (fs.existsSync(path.join(dir, 'Cargo.toml')) && fs.existsSync(path.join(dir, 'src', 'main.rs'))) return dir;
  }
  return null;
}

/**
 * The cache file name for the current sources: a build is reused only for exactly the same sources. Every file
 * under src/ counts (main.rs and any module next to it), each with its name, so that no edit goes unnoticed.
 */
export async function nativeBinaryName(sourceDir: string): Promise<string> {
  const h = createHash('sha256');
  h.update(await fs.promises.readFile(path.join(sourceDir, 'Cargo.toml')));
  h.update(await fs.promises.readFile(path.join(sourceDir, 'src', 'main.rs')));
  const others: string[] = [];
  const list = async (dir: string, rel: string): Promise<void> => {
    for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await list(path.join(dir, e.name), r);
      else if (r !== 'main.rs') others.push(r);
    }
  };
  await list(path.join(sourceDir, 'src'), '');
  for (const r of others.sort()) {
    h.update(`\0${r}\0`);
    h.update(await fs.promises.readFile(path.join(sourceDir, 'src', ...r.split('/'))));
  }
  return `cbd-walker-${h.digest('hex').slice(0, 12)}${process.platform === 'win32' ? '.exe' : ''}`;
}

/**
 * The path of a walker binary built from the current sources, building it with cargo when `build` is set.
 * Returns null (and says why through `log`) when there is none; never throws because cargo is missing or fails.
 * `CARGO_BUILD_DIR_WALKER` overrides: a path to a binary, or `node` to use no native walker at all.
 */
export async function findNativeWalker(opts: FindNativeWalkerOptions): Promise<string | null> {
  const log = opts.log ?? (() => undefined);
  const override = process.env.CARGO_BUILD_DIR_WALKER;
  if (override) {
    if (override === 'node') {
      log('CARGO_BUILD_DIR_WALKER=node: using the Node walker');
      return null;
    }
    const p = path.resolve(override);
    if (await isFile(p)) return p;
    log(`CARGO_BUILD_DIR_WALKER=${override}: no such file; using the Node walker`);
    return null;
  }
  const src = nativeSourceDir();
  if (!src) {
    log('native walker sources not found; using the Node walker');
    return null;
  }
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  const finalPath = path.join(cacheDir, await nativeBinaryName(src));
  if (await isFile(finalPath)) return finalPath;
  if (!opts.build) {
    log(`native walker not built yet (${finalPath}); using the Node walker`);
    return null;
  }
  try {
    return await buildNativeWalker(src, cacheDir, finalPath, opts.cargo ?? process.env.CARGO ?? 'cargo', log);
  } catch (e) {
    log(`native walker build failed: ${(e as Error).message}; using the Node walker`);
    return null;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function buildNativeWalker(src: string, cacheDir: string, finalPath: string, cargo: string, log: (line: string) => void): Promise<string> {
  await fs.promises.mkdir(cacheDir, { recursive: true });
  log(`building the native walker with ${cargo} (once per version)`);
  const started = Date.now();
  // Cargo's lock on the target dir serializes concurrent builders; JSON messages give the binary's path even
  // when the user's config sets a build target or another layout.
  const args = ['build', '--release', '--offline', '--message-format=json-render-diagnostics',
    '--manifest-path', path.join(src, 'Cargo.toml'), '--target-dir', path.join(cacheDir, 'target')];
  const { code, stdout, stderr } = await run(cargo, args, src, 10 * 60_000);
  let exe: string | null = null;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const m = JSON.parse(line) as { reason?: string; target?: { name?: string }; executable?: string | null };
      if (m.reason === 'compiler-artifact' && m.target?.name === 'cbd-walker' && m.executable) exe = m.executable;
    } catch {
      // not a message line
    }
  }
  if (code !== 0 || !exe) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cargo} exited with ${code}${tail ? `:\n${tail}` : ''}`);
  }
  // Copy under a unique name, check that it runs, then rename: other processes see either no file or a whole one.
  const tmp = `${finalPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.promises.copyFile(exe, tmp);
    await fs.promises.chmod(tmp, 0o755);
    const version = await run(tmp, ['--version'], cacheDir, 30_000);
    if (version.code !== 0 || !version.stdout.includes(`protocol ${PROTOCOL}`)) {
      throw new Error(`the built helper does not run here (${version.stdout.trim() || version.stderr.trim() || `exit ${version.code}`})`);
    }
    try {
      await fs.promises.rename(tmp, finalPath);
    } catch (e) {
      // Windows refuses to replace a binary another process is running; that binary is just as good.
      if (!(await isFile(finalPath))) throw e;
    }
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
  log(`native walker built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${finalPath}`);
  return finalPath;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, windowsHide: true }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        // Spawning failed (ENOENT: no cargo on PATH, EACCES, ...), not a non-zero exit.
        reject(new Error(`cannot run ${cmd}: ${err.code}`));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}
