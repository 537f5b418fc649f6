// Tests of the two Walker implementations (src/node/native.ts with native/, and src/core/nodewalk.ts) on real
// trees made during the run: a small cargo build and a hand-made tree with the odd cases. The reference for sizes
// is `du -sb`, run as a subprocess; the reference for the two walkers is each other, byte for byte.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globMatch, type InlineRule, type ReadRequest, type WalkRequest, type WalkResult, type Walker } from '../src/core/walk';
import { NodeWalker } from '../src/core/nodewalk';
import { NativeWalker, NativeWalkerError, findNativeWalker } from '../src/node/native';
import { createWalker } from '../src/node/walker';
import { pastRacyWindow } from './helpers/racy';
import { NOBODY } from './helpers/nobody';

const repo = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(repo, '.cache', 'walker');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let tmp = '';
let binary = '';
let native: NativeWalker;
const node = new NodeWalker();
let target = ''; // a real cargo target dir
let odd = ''; // the hand-made tree
let outside = ''; // what the odd tree's symlink points to
let lockedMade = false;

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A walk result's fields as a plain object: the native walker decodes an answer only when it is first looked
 * at, so its results are not plain objects; the contract is their fields, which is what is compared.
 */
function plain(rs: readonly WalkResult[]): object[] {
  return rs.map((r) => (r.inline ? { entries: r.entries, links: r.links, errors: r.errors, inline: r.inline } : { entries: r.entries, links: r.links, errors: r.errors }));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A walk request as the helper reads it (native/src/main.rs, "Protocol"): 'W', or 'K' with a stamp of zeros. */
function walkBytes(p: string, depth: number, opts: { rules?: readonly InlineRule[]; keyed?: boolean } = {}): Buffer {
  const pb = Buffer.from(p);
  const d = Buffer.alloc(4);
  d.writeInt32LE(depth);
  const rules = (opts.rules ?? []).map((r) => {
    const g = Buffer.from(r.glob);
    return Buffer.concat([u32(r.maxBytes), Buffer.from([(r.firstLine ? 1 : 0) | (r.skip ? 2 : 0)]), u32(g.length), g]);
  });
  return Buffer.concat([Buffer.from(opts.keyed ? 'K' : 'W'), d, u32(pb.length), pb, Buffer.from([rules.length]), ...rules, opts.keyed ? Buffer.alloc(16) : Buffer.alloc(0)]);
}

/** The helper's answer records, as written: `u8 tag, u32 index, u32 bodyLen, body`. */
function rawRecords(out: Buffer): { tag: string; index: number; body: Buffer }[] {
  const rs = [];
  for (let o = 0; o + 9 <= out.length; ) {
    const len = out.readUInt32LE(o + 5);
    rs.push({ tag: String.fromCharCode(out[o]!), index: out.readUInt32LE(o + 1), body: out.subarray(o + 9, o + 9 + len) });
    o += 9 + len;
  }
  return rs;
}

/** du's total over several paths: each inode once, apparent sizes. */
function du(...paths: string[]): number {
  const r = spawnSync('du', ['-sb', ...paths], { encoding: 'utf8' });
  // du exits 1 after reporting an unreadable folder but still prints the sizes it could measure.
  assert.ok(r.stdout, `du printed nothing: ${r.stderr}`);
  return r.stdout.trim().split('\n').reduce((s, line) => s + Number(line.split('\t')[0]), 0);
}

/** What a scan adds up: the top entry of each result, plus every distinct multi-link file once. */
function total(results: readonly WalkResult[]): number {
  let bytes = 0;
  const links = new Map<string, number>();
  for (const r of results) {
    bytes += r.entries[0]?.bytes ?? 0;
    for (const l of r.links) links.set(l.key, l.size);
  }
  for (const s of links.values()) bytes += s;
  return bytes;
}

function write(p: string, data: string | Buffer = ''): string {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

function buildCargoProject(dir: string): string {
  const pkg = path.join(dir, 'demo');
  write(path.join(pkg, 'Cargo.toml'), '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n');
  write(path.join(pkg, 'build.rs'),
    'fn main() {\n    println!("cargo::rerun-if-changed=build.rs");\n' +
    '    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());\n' +
    '    std::fs::write(out.join("gen.rs"), "pub const ANSWER: u32 = 42;").unwrap();\n}\n');
  write(path.join(pkg, 'src', 'lib.rs'), 'include!(concat!(env!("OUT_DIR"), "/gen.rs"));\npub fn answer() -> u32 { ANSWER }\n');
  write(path.join(pkg, 'src', 'main.rs'), 'fn main() { println!("{}", demo::answer()); }\n');
  const targetDir = path.join(dir, 'target');
  const env = { ...process.env, CARGO_TARGET_DIR: targetDir, RUSTC_BOOTSTRAP: '1' };
  // Layout v2 when this cargo knows it (1.95 needs the -Z flag); the legacy layout otherwise.
  let r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout'], { cwd: pkg, env, encoding: 'utf8' });
  if (r.status !== 0) r = spawnSync('cargo', ['build', '--offline'], { cwd: pkg, env, encoding: 'utf8' });
  assert.equal(r.status, 0, `cargo build failed: ${r.error?.message ?? r.stderr}`);
  return targetDir;
}

function buildOddTree(dir: string): string {
  const root = path.join(dir, 'odd');
  outside = path.join(dir, 'outside');
  write(path.join(outside, 'big.bin'), Buffer.alloc(100_000, 7));
  write(path.join(root, 'a', 'b', 'c', 'deep.txt'), 'deep\n');
  write(path.join(root, 'a-b'), 'sorts after the a/ subtree'); // '-' < '/' in bytes, but pre-order puts a/ first
  write(path.join(root, 'a.txt'), 'x');
  const shared = write(path.join(root, 'shared.bin'), Buffer.alloc(5000, 1));
  fs.linkSync(shared, path.join(root, 'a', 'hard-1'));
  fs.mkdirSync(path.join(root, 'b'));
  fs.linkSync(shared, path.join(root, 'b', 'hard-2'));
  fs.symlinkSync(outside, path.join(root, 'to-outside'));
  fs.symlinkSync(path.join(outside, 'big.bin'), path.join(root, 'to-outside-file'));
  fs.symlinkSync('does/not/exist', path.join(root, 'dangling'));
  write(path.join(root, 'we ird\tname\nwith space é 日本 🎉.txt'), 'odd name');
  // UTF-8 byte order differs from UTF-16 order here: U+E000 (EE 80 80) < U+1F600 (F0 9F 98 80).
  write(path.join(root, 'sort', '\u{E000}'), '1');
  write(path.join(root, 'sort', '\u{1F600}'), '2');
  write(path.join(root, 'sort', 'Z'), '3');
  write(path.join(root, 'sort', 'a'), '4');
  write(path.join(root, 'bin.dat'), Buffer.from([0, 1, 2, 0, 10, 0, 255, 0]));
  write(path.join(root, 'lines.txt'), 'first line\nsecond line\nthird\n');
  write(path.join(root, 'long.txt'), 'y'.repeat(100_000));
  fs.mkdirSync(path.join(root, 'empty'));
  write(path.join(root, 'locked', 'secret.txt'), 'hidden');
  fs.chmodSync(path.join(root, 'locked'), 0o000);
  lockedMade = true;
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  write(path.join(root, 'sparse.bin'));
  fs.truncateSync(path.join(root, 'sparse.bin'), 50_000_000);
  return root;
}

/** Every folder below `root` (to `maxLevel`) as a depth-2 request and every file as a depth -1 request, like a scan. */
function scanLikeRequests(root: string, maxLevel: number): WalkRequest[] {
  const reqs: WalkRequest[] = [{ path: root, depth: 1 }];
  const visit = (dir: string, level: number): void => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        reqs.push({ path: p, depth: level % 3 === 0 ? 2 : level % 3 === 1 ? 1 : 0 });
        if (level < maxLevel) visit(p, level + 1);
      } else {
        reqs.push({ path: p, depth: -1 });
      }
    }
  };
  visit(root, 0);
  return reqs;
}

before(async () => {
  delete process.env.CARGO_BUILD_DIR_WALKER;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-walker-test-'));
  const log: string[] = [];
  const found = await findNativeWalker({ build: true, cacheDir, log: (l) => log.push(l) });
  assert.ok(found, `the native walker must build:\n${log.join('\n')}`);
  binary = found;
  native = new NativeWalker(binary);
  target = buildCargoProject(tmp);
  odd = buildOddTree(tmp);
});

after(() => {
  native?.close();
  if (lockedMade) fs.chmodSync(path.join(odd, 'locked'), 0o755);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('native and Node walkers agree', () => {
  test('on a real cargo build, with scan-like requests in one batch', async () => {
    const reqs = scanLikeRequests(target, 5);
    assert.ok(reqs.length > 50, `expected a real tree, got ${reqs.length} requests`);
    const a = await native.walk(reqs);
    const b = await node.walk(reqs);
    assert.equal(a.length, reqs.length);
    assert.deepStrictEqual(plain(a), plain(b));
    assert.ok(a.some((r) => r.links.length > 0), 'a cargo build has hard links (uplifted artifacts)');
  });

  test('on the odd tree at every depth', async () => {
    const reqs: WalkRequest[] = [-1, 0, 1, 2, 3, 100].map((depth) => ({ path: odd, depth }));
    const a = await native.walk(reqs);
    assert.deepStrictEqual(plain(a), plain(await node.walk(reqs)));
    const full = a[5]!;
    const rels = full.entries.map((e) => e.rel);
    // Pre-order, children by UTF-8 bytes.
    assert.ok(rels.indexOf('a/b/c/deep.txt') < rels.indexOf('a-b'));
    const sorted = rels.filter((r) => r.startsWith('sort/'));
    assert.deepStrictEqual(sorted, ['sort/Z', 'sort/a', 'sort/\u{E000}', 'sort/\u{1F600}']);
    assert.ok(rels.includes('we ird\tname\nwith space é 日本 🎉.txt'));
  });

  test('on a wide tree split across many threads', async () => {
    const wide = path.join(tmp, 'wide');
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 12; j++) write(path.join(wide, `d${i}`, `e${j}`, `f${(i * j) % 7}`), 'z'.repeat(i + j));
    }
    fs.linkSync(path.join(wide, 'd3', 'e3', 'f2'), path.join(wide, 'd39', 'link'));
    const many = new NativeWalker(binary, { threads: 8 });
    const one = new NativeWalker(binary, { threads: 1 });
    try {
      for (const depth of [0, 1, 2, 3]) {
        const reqs = [{ path: wide, depth }];
        const expected = await node.walk(reqs);
        assert.deepStrictEqual(plain(await many.walk(reqs)), plain(expected));
        assert.deepStrictEqual(plain(await one.walk(reqs)), plain(expected));
      }
    } finally {
      many.close();
      one.close();
    }
  });

  test('concurrent calls are queued and each gets its own results', async () => {
    const reqs = scanLikeRequests(odd, 3);
    const files: ReadRequest[] = ['lines.txt', 'bin.dat', 'to-outside-file', 'a.txt'].map((n) => ({ path: path.join(odd, n), maxBytes: 64 }));
    const calls = await Promise.all([
      ...reqs.map((r) => native.walk([r])),
      native.read(files),
      native.walk(reqs),
      native.read(files),
    ]);
    const expectedWalks = await node.walk(reqs);
    const expectedReads = await node.read(files);
    reqs.forEach((_, i) => assert.deepStrictEqual(plain(calls[i] as WalkResult[]), plain([expectedWalks[i]!])));
    assert.deepStrictEqual(calls[reqs.length], expectedReads);
    assert.deepStrictEqual(plain(calls[reqs.length + 1] as WalkResult[]), plain(expectedWalks));
    assert.deepStrictEqual(calls[reqs.length + 2], expectedReads);
  });
});

describe('sizes equal du -sb', () => {
  test('depth-0 walk of one folder', async () => {
    for (const dir of [target, odd, path.join(odd, 'a'), path.join(target, 'debug')]) {
      for (const w of [native, node] as Walker[]) {
        const r = await w.walk([{ path: dir, depth: 0 }]);
        assert.equal(total(r), du(dir), `${w.name} on ${dir}`);
      }
    }
  });

  test('a set of paths, hard links shared between them counted once', async () => {
    const sets = [
      [path.join(odd, 'a'), path.join(odd, 'b'), path.join(odd, 'shared.bin')],
      [path.join(odd, 'a'), path.join(odd, 'b')],
      [path.join(target, 'debug'), path.join(odd, 'sort'), path.join(odd, 'to-outside')],
    ];
    const debug = path.join(target, 'debug');
    const subdirs = fs.readdirSync(debug).map((n) => path.join(debug, n));
    sets.push(subdirs);
    for (const paths of sets) {
      for (const w of [native, node] as Walker[]) {
        const r = await w.walk(paths.map((p) => ({ path: p, depth: 0 })));
        assert.equal(total(r), du(...paths), `${w.name} on ${paths.join(' ')}`);
      }
    }
  });

  test('deeper walks add up: a folder is its own size plus its children', async () => {
    const [r] = await native.walk([{ path: target, depth: 3 }]);
    const [flat] = await native.walk([{ path: target, depth: 0 }]);
    assert.equal(r!.entries[0]!.bytes, flat!.entries[0]!.bytes);
    assert.equal(r!.entries[0]!.count, flat!.entries[0]!.count);
    assert.equal(r!.entries[0]!.newestMs, flat!.entries[0]!.newestMs);
    for (const e of r!.entries) {
      if (e.type !== 'd' || e.rel.split('/').length >= 3) continue;
      const kids = r!.entries.filter((k) => k.rel !== e.rel && path.posix.dirname(k.rel === '' ? '.' : k.rel) === (e.rel === '' ? '.' : e.rel));
      const own = fs.lstatSync(path.join(target, e.rel)).size;
      assert.equal(e.bytes, own + kids.reduce((s, k) => s + k.bytes, 0), `bytes of ${e.rel || '.'}`);
      assert.ok(kids.every((k) => k.newestMs <= e.newestMs));
    }
  });
});

describe('odd cases', () => {
  test('symlinks are reported as themselves and never followed', async () => {
    for (const w of [native, node] as Walker[]) {
      const [r] = await w.walk([{ path: odd, depth: 1 }]);
      const link = r!.entries.find((e) => e.rel === 'to-outside')!;
      assert.equal(link.type, 'l');
      assert.equal(link.bytes, Buffer.byteLength(outside));
      assert.ok(!r!.entries.some((e) => e.rel.startsWith('to-outside/')));
      const [s] = await w.walk([{ path: path.join(odd, 'to-outside'), depth: 5 }]);
      assert.equal(s!.entries.length, 1);
      assert.equal(s!.entries[0]!.type, 'l');
    }
  });

  test('hard links: reported in links with a shared key, left out of totals, even below the depth', async () => {
    for (const w of [native, node] as Walker[]) {
      const [r] = await w.walk([{ path: odd, depth: 0 }]);
      const keys = new Set(r!.links.map((l) => l.key));
      assert.equal(r!.links.length, 3);
      assert.equal(keys.size, 1);
      assert.deepStrictEqual(r!.links.map((l) => l.rel), ['a/hard-1', 'b/hard-2', 'shared.bin']);
      assert.ok(r!.links.every((l) => l.size === 5000 && l.nlink === 3));
      const [one] = await w.walk([{ path: path.join(odd, 'b', 'hard-2'), depth: -1 }]);
      assert.deepStrictEqual(one!.entries.map((e) => [e.bytes, e.count, e.nlink]), [[0, 0, 3]]);
      assert.equal(one!.links[0]!.rel, '');
      assert.ok(keys.has(one!.links[0]!.key));
    }
  });

  test('FIFOs are counted as other entries and never opened', async () => {
    const [r] = await within(5000, native.walk([{ path: path.join(odd, 'fifo'), depth: 0 }]), 'walk of a FIFO');
    assert.equal(r!.entries[0]!.type, 'o');
    const reads = await within(5000, native.read([{ path: path.join(odd, 'fifo'), maxBytes: 10 }]), 'read of a FIFO');
    assert.deepStrictEqual(reads, [{ ok: false, code: 'EINVAL' }]);
    assert.deepStrictEqual(await node.read([{ path: path.join(odd, 'fifo'), maxBytes: 10 }]), reads);
  });

  test('an unreadable folder is an error there, and the walk goes on', async (t) => {
    if (isRoot) {
      // Root reads every folder whatever its mode: both walkers then run as nobody, for whom it means what it says.
      fs.chmodSync(tmp, 0o755);
      const out = path.join(__dirname, '..', 'src');
      const walkers = {
        node: `new (require(${JSON.stringify(path.join(out, 'core', 'nodewalk.js'))}).NodeWalker)()`,
        native: `new (require(${JSON.stringify(path.join(out, 'node', 'native.js'))}).NativeWalker)(${JSON.stringify(binary)})`,
      };
      for (const [who, make] of Object.entries(walkers)) {
        const script = `const w = ${make}; w.walk([{ path: ${JSON.stringify(odd)}, depth: 1 }]).then(([r]) => {` +
          ' process.stdout.write(JSON.stringify({ entries: r.entries, errors: r.errors })); w.close(); });';
        const run = spawnSync(process.execPath, ['-e', script], { ...NOBODY, encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        const r = JSON.parse(run.stdout) as Pick<WalkResult, 'entries' | 'errors'>;
        assert.deepStrictEqual(r.errors, [{ rel: 'locked', code: 'EACCES' }], who);
        assert.ok(r.entries.some((e) => e.rel === 'locked' && e.count === 1), who);
      }
      return;
    }
    let enforced = true;
    try {
      fs.readdirSync(path.join(odd, 'locked'));
      enforced = false;
    } catch {
      // EACCES, as intended
    }
    if (!enforced) {
      t.skip('a mode-000 folder is readable here (permissions not enforced), so EACCES cannot be produced');
      return;
    }
    for (const w of [native, node] as Walker[]) {
      const [r] = await w.walk([{ path: odd, depth: 1 }]);
      assert.deepStrictEqual(r!.errors, [{ rel: 'locked', code: 'EACCES' }]);
      assert.ok(r!.entries.some((e) => e.rel === 'locked' && e.count === 1));
    }
  });

  test('missing paths and paths that vanish between calls', async () => {
    const gone = path.join(tmp, 'vanishing');
    write(path.join(gone, 'x', 'y.txt'), 'soon gone');
    for (const w of [native, node] as Walker[]) {
      const before = await w.walk([{ path: gone, depth: 2 }, { path: path.join(gone, 'x', 'y.txt'), depth: -1 }]);
      assert.equal(before[0]!.entries.length, 3);
      assert.equal(before[1]!.entries.length, 1);
    }
    fs.rmSync(gone, { recursive: true });
    const reqs = [{ path: gone, depth: 2 }, { path: path.join(gone, 'x', 'y.txt'), depth: -1 }, { path: path.join(odd, 'a.txt', 'below-a-file'), depth: 0 }];
    const a = await native.walk(reqs);
    assert.deepStrictEqual(plain(a), plain(await node.walk(reqs)));
    assert.deepStrictEqual(a.map((r) => [r.entries.length, r.errors]), [
      [0, [{ rel: '', code: 'ENOENT' }]],
      [0, [{ rel: '', code: 'ENOENT' }]],
      [0, [{ rel: '', code: 'ENOTDIR' }]],
    ]);
  });

  test('a path with a NUL byte is refused per request', async () => {
    const reqs = [{ path: `${odd}\0x`, depth: 0 }, { path: odd, depth: -1 }];
    const a = await native.walk(reqs);
    assert.deepStrictEqual(plain(a), plain(await node.walk(reqs)));
    assert.deepStrictEqual(a[0]!.errors, [{ rel: '', code: 'EINVAL' }]);
    assert.equal(a[1]!.entries.length, 1);
  });
});

describe('inline rules', () => {
  test('glob: `*` stays inside one segment, segments compare one to one', () => {
    const yes: [string, string][] = [
      ['*', 'a'], ['*', ''], ['fingerprint/*', 'fingerprint/lib-x'], ['out/*.d', 'out/x-0123.d'], ['*.d', '.d'],
      ['a*b*c', 'abc'], ['a*b*c', 'aXbYbZc'], ['dep-*', 'dep-lib-x'], ['x', 'x'], ['', ''],
    ];
    const no: [string, string][] = [
      ['*', 'a/b'], ['fingerprint/*', 'fingerprint'], ['fingerprint/*', 'out/lib-x'], ['out/*.d', 'out/x.d/y'], ['*.d', 'x.dd'],
      ['a*b*c', 'abcd'], ['x', 'xx'], ['*/*', 'a'], ['', 'a'],
    ];
    for (const [g, r] of yes) assert.ok(globMatch(g, r), `${g} matches ${r}`);
    for (const [g, r] of no) assert.ok(!globMatch(g, r), `${g} does not match ${r}`);
  });

  const unitRules: InlineRule[] = [
    { glob: 'fingerprint/dep-*', maxBytes: 0, skip: true },
    { glob: 'fingerprint/*.json', maxBytes: 1 << 20 },
    { glob: 'fingerprint/*', maxBytes: 64 },
    { glob: 'out/*.d', maxBytes: 16 << 10, firstLine: true },
  ];

  test('on a real cargo build: both walkers read the same files, the way read() reads them', async () => {
    const reqs: WalkRequest[] = [];
    const visit = (dir: string, level: number): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        if (fs.existsSync(path.join(p, 'fingerprint'))) reqs.push({ path: p, depth: 2, inline: unitRules });
        else if (level < 6) visit(p, level + 1);
      }
    };
    visit(target, 0);
    reqs.push({ path: target, depth: 100, inline: [{ glob: '*', maxBytes: 10 }, { glob: '*/*/*', maxBytes: 100, firstLine: true }] });
    const a = await native.walk(reqs);
    assert.deepStrictEqual(plain(a), plain(await node.walk(reqs)));
    let n = 0;
    for (const [i, r] of a.entries()) {
      const req = reqs[i]!;
      for (const f of r.inline ?? []) {
        const rule = req.inline![f.rule]!;
        assert.ok(globMatch(rule.glob, f.rel) && !rule.skip, `${f.rel} read by ${rule.glob}`);
        const [again] = await native.read([{ path: path.join(req.path, f.rel), maxBytes: rule.maxBytes, firstLine: rule.firstLine }]);
        assert.deepStrictEqual(f.content, again, f.rel);
        n++;
      }
    }
    assert.ok(n > 10, `inline files read: ${n}`);
    const units = a.slice(0, -1);
    if (units.length > 0) {
      assert.ok(units.every((r) => !(r.inline ?? []).some((f) => f.rel.startsWith('fingerprint/dep-'))), 'skip rules read nothing');
      assert.ok(units.some((r) => (r.inline ?? []).some((f) => f.rel.endsWith('.json'))), 'fingerprint JSON read');
    }
  });

  test('on the odd tree: only regular files, never through a symlink or a FIFO, limits as read()', async () => {
    const rules: InlineRule[] = [{ glob: 'lines.txt', maxBytes: 100, firstLine: true }, { glob: 'long.txt', maxBytes: 10 }, { glob: '*', maxBytes: 1000 }, { glob: '*/*', maxBytes: 3 }];
    const reqs: WalkRequest[] = [
      { path: odd, depth: 2, inline: rules },
      { path: odd, depth: 0, inline: rules },
      { path: path.join(odd, 'a.txt'), depth: -1, inline: [{ glob: '', maxBytes: 5 }] },
      { path: path.join(odd, 'to-outside-file'), depth: 0, inline: [{ glob: '', maxBytes: 5 }] },
    ];
    const a = await within(5000, native.walk(reqs), 'walk with inline rules');
    assert.deepStrictEqual(plain(a), plain(await node.walk(reqs)));
    const got = new Map((a[0]!.inline ?? []).map((f) => [f.rel, f]));
    assert.deepStrictEqual(got.get('lines.txt')?.content, { ok: true, data: Buffer.from('first line') });
    assert.equal(got.get('long.txt')?.rule, 1);
    assert.equal((got.get('long.txt')?.content as { data: Buffer }).data.length, 10);
    assert.equal(got.get('b/hard-2')?.rule, 3);
    assert.equal((got.get('sort/a')?.content as { data: Buffer }).data.toString(), '4');
    for (const rel of ['fifo', 'to-outside', 'to-outside-file', 'dangling', 'sort', 'a/b/c/deep.txt']) assert.ok(!got.has(rel), `${rel} is not read`);
    assert.equal(a[1]!.inline, undefined, 'depth 0 lists no file, so reads none');
    assert.deepStrictEqual(a[2]!.inline, [{ rel: '', rule: 0, content: { ok: true, data: Buffer.from('x') } }]);
    assert.equal(a[3]!.inline, undefined, 'a symlink is never read');
    const pre = (a[0]!.inline ?? []).map((f) => f.rel);
    assert.deepStrictEqual(pre, a[0]!.entries.filter((e) => got.has(e.rel)).map((e) => e.rel), 'in pre-order');
  });
});

describe('read', () => {
  test('limits, first line, binary content, refusals', async () => {
    const f = (n: string): string => path.join(odd, n);
    const reqs: ReadRequest[] = [
      { path: f('lines.txt'), maxBytes: 1000 },
      { path: f('lines.txt'), maxBytes: 1000, firstLine: true },
      { path: f('lines.txt'), maxBytes: 5, firstLine: true },
      { path: f('lines.txt'), maxBytes: 0 },
      { path: f('long.txt'), maxBytes: 70_000 },
      { path: f('long.txt'), maxBytes: 1_000_000, firstLine: true },
      { path: f('bin.dat'), maxBytes: 100 },
      { path: f('to-outside-file'), maxBytes: 100 },
      { path: f('dangling'), maxBytes: 100 },
      { path: f('a'), maxBytes: 100 },
      { path: f('missing'), maxBytes: 100 },
      { path: f('we ird\tname\nwith space é 日本 🎉.txt'), maxBytes: 100 },
    ];
    const a = await native.read(reqs);
    assert.deepStrictEqual(a, await node.read(reqs));
    const text = (i: number): string => {
      const r = a[i]!;
      assert.ok(r.ok, `request ${i} failed: ${r.ok ? '' : r.code}`);
      return r.data.toString('latin1');
    };
    assert.equal(text(0), 'first line\nsecond line\nthird\n');
    assert.equal(text(1), 'first line');
    assert.equal(text(2), 'first');
    assert.equal(text(3), '');
    assert.equal(text(4), 'y'.repeat(70_000));
    assert.equal(text(5).length, 100_000);
    assert.deepStrictEqual(a[6], { ok: true, data: Buffer.from([0, 1, 2, 0, 10, 0, 255, 0]) });
    assert.deepStrictEqual(a.slice(7, 11), [
      { ok: false, code: 'ELOOP' },
      { ok: false, code: 'ELOOP' },
      { ok: false, code: 'EISDIR' },
      { ok: false, code: 'ENOENT' },
    ]);
    assert.equal(text(11), 'odd name');
  });
});

describe('failures', () => {
  test('a killed helper rejects the pending call instead of hanging', async () => {
    const w = new NativeWalker(binary);
    // Stopped first, so that it cannot answer the call before the kill: the call is surely pending.
    w.kill('SIGSTOP');
    const pending = w.walk([{ path: target, depth: 100 }, { path: odd, depth: 100 }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    w.kill('SIGKILL');
    await assert.rejects(within(5000, pending, 'walk after kill'), (e: Error) => e instanceof NativeWalkerError && /killed|exited/.test(e.message));
    await assert.rejects(within(5000, w.read([{ path: path.join(odd, 'a.txt'), maxBytes: 1 }]), 'read after kill'), NativeWalkerError);
    w.close();
  });

  test('a second batch goes out while the first is in flight; later calls wait and share the third', async () => {
    const w = new NativeWalker(binary);
    try {
      const reqs = scanLikeRequests(odd, 3);
      // Stopped, the helper reads nothing: what was sent stays in its pipe, and no batch can end.
      w.kill('SIGSTOP');
      const first = w.walk([{ path: target, depth: 100 }]);
      const second = w.walk(reqs);
      assert.equal(w.batchesInFlight, 2, 'the second batch is sent without waiting for the end of the first');
      const third = w.read([{ path: path.join(odd, 'a.txt'), maxBytes: 64 }]);
      const fourth = w.walk([reqs[0]!]);
      assert.equal(w.batchesInFlight, 2, 'at most two batches on the wire');
      w.kill('SIGCONT');
      const [a, b, c, d] = await within(20_000, Promise.all([first, second, third, fourth]), 'pipelined calls');
      assert.deepStrictEqual(plain(a), plain(await node.walk([{ path: target, depth: 100 }])));
      assert.deepStrictEqual(plain(b), plain(await node.walk(reqs)));
      assert.deepStrictEqual(c, await node.read([{ path: path.join(odd, 'a.txt'), maxBytes: 64 }]));
      assert.deepStrictEqual(plain(d), plain(await node.walk([reqs[0]!])));
      assert.equal(w.batchesInFlight, 0);
    } finally {
      w.kill('SIGCONT');
      w.close();
    }
  });

  test('a killed helper rejects every call of every batch in flight, and the queued ones', async () => {
    const w = new NativeWalker(binary);
    w.kill('SIGSTOP');
    const calls: Promise<unknown>[] = [w.walk([{ path: target, depth: 100 }]), w.walk([{ path: odd, depth: 1 }]), w.read([{ path: path.join(odd, 'a.txt'), maxBytes: 1 }])];
    const inFlight = w.batchesInFlight;
    w.kill('SIGKILL');
    for (const c of calls) await assert.rejects(within<unknown>(5000, c, 'call after kill'), (e: Error) => e instanceof NativeWalkerError && /killed/.test(e.message));
    w.close();
    assert.equal(inFlight, 2);
  });

  test('the helper writes every answer before it exits: at the end of input (0), and after a bad request (2, with why)', () => {
    // Two batches, the second sent before the first is answered (as the client now does), then the end of input.
    const batch = Buffer.concat([walkBytes(target, 100), walkBytes(odd, 100), Buffer.from('F')]);
    const ok = spawnSync(binary, [], { input: Buffer.concat([batch, batch]), maxBuffer: 64 << 20 });
    assert.equal(ok.status, 0, ok.stderr.toString());
    const tags = rawRecords(ok.stdout).map((r) => r.tag).join('');
    assert.equal(tags, 'HwwEwwE');
    // A bad tag after a whole batch: that batch is answered, then the refusal, then exit status 2.
    const bad = spawnSync(binary, [], { input: Buffer.concat([batch, Buffer.from('Z')]), maxBuffer: 64 << 20 });
    assert.equal(bad.status, 2);
    const rs = rawRecords(bad.stdout);
    assert.deepEqual(rs.map((r) => r.tag).join(''), 'HwwEX');
    assert.match(rs.at(-1)!.body.toString(), /unknown request tag 0x5a/);
  });

  test('something that is not a walker, or no binary at all, rejects with a clear error', async () => {
    const cat = new NativeWalker('cat');
    await assert.rejects(within(5000, cat.walk([{ path: odd, depth: 0 }]), 'walk through cat'), /hello|malformed/);
    cat.close();
    const none = new NativeWalker(path.join(tmp, 'no-such-walker'));
    await assert.rejects(within(5000, none.walk([{ path: odd, depth: 0 }]), 'walk without binary'), /could not be started/);
    none.close();
  });

  test('a walk answer that does not add up is refused when it arrives, not when the scan reads it', async () => {
    // A helper that says hello, then answers any batch with one walk record whose parts overrun their lengths.
    // Answers are decoded lazily, so only the check made on arrival can turn this into a clear error.
    const fake = path.join(tmp, 'fake-walker.js');
    const record = (tag: string, index: number, body: Buffer): string => {
      const head = Buffer.alloc(9);
      head.write(tag, 0, 'latin1');
      head.writeUInt32LE(index, 1);
      head.writeUInt32LE(body.length, 5);
      return Buffer.concat([head, body]).toString('hex');
    };
    const answers: [string, Buffer][] = [
      // Three entries announced, one entry's worth of bytes given (and big enough to be decoded lazily).
      ['entry', Buffer.concat([u32(3), Buffer.from([0x66]), Buffer.alloc(40), u32(600), Buffer.alloc(600, 0x61)])],
      // No entries, no links, no errors, one inline file whose content overruns the answer.
      ['inline', Buffer.concat([u32(0), u32(0), u32(0), u32(1), u32(1), Buffer.from('f'), Buffer.from([0, 1]), u32(5000), Buffer.alloc(700)])],
    ];
    for (const [what, body] of answers) {
      fs.writeFileSync(
        fake,
        `#!${process.execPath}\n` +
          `const out = (h) => process.stdout.write(Buffer.from(h, 'hex'));\n` +
          `out('${record('H', 2, Buffer.from('cbd-walker fake'))}');\n` +
          `process.stdin.on('data', (d) => { if (d.includes(0x46)) { out('${record('w', 0, body)}'); out('${record('E', 1, Buffer.alloc(0))}'); } });\n`,
        { mode: 0o755 },
      );
      const w = new NativeWalker(fake);
      try {
        await assert.rejects(within(5000, w.walk([{ path: odd, depth: 2 }]), `walk answer with a bad ${what}`), (e: Error) => e instanceof NativeWalkerError && /malformed/.test(e.message), what);
      } finally {
        w.close();
      }
    }
  });

  test('close() lets the batch in flight finish, refuses later calls, and ends the helper', async () => {
    const w = new NativeWalker(binary);
    const pending = w.walk([{ path: odd, depth: 1 }]);
    w.close();
    assert.equal((await pending).length, 1);
    await assert.rejects(w.walk([{ path: odd, depth: 0 }]), /closed/);
  });

  test('createWalker: override to node, bad override, missing cargo, broken helper', async () => {
    const saved = process.env.CARGO_BUILD_DIR_WALKER;
    try {
      process.env.CARGO_BUILD_DIR_WALKER = 'node';
      assert.equal((await createWalker()).name, 'node');

      process.env.CARGO_BUILD_DIR_WALKER = binary;
      const w = await createWalker();
      assert.equal(w.name, 'native');
      w.close();

      delete process.env.CARGO_BUILD_DIR_WALKER;
      const logs: string[] = [];
      const noCargo = await createWalker({ cargo: path.join(tmp, 'no-cargo'), cacheDir: path.join(tmp, 'empty-cache'), log: (l) => logs.push(l) });
      assert.equal(noCargo.name, 'node');
      assert.ok(logs.some((l) => /build failed/.test(l)), logs.join('\n'));
      const noBuild = await createWalker({ build: false, cacheDir: path.join(tmp, 'empty-cache') });
      assert.equal(noBuild.name, 'node');

      // A helper that breaks the protocol: the first call is retried with Node and later calls stay there.
      process.env.CARGO_BUILD_DIR_WALKER = '/bin/cat';
      const broken = await createWalker({ log: (l) => logs.push(l) });
      const reqs = [{ path: odd, depth: 1 }];
      assert.deepStrictEqual(await within(5000, broken.walk(reqs), 'fallback walk'), await node.walk(reqs));
      assert.equal(broken.name, 'node');
      broken.close();
    } finally {
      if (saved === undefined) delete process.env.CARGO_BUILD_DIR_WALKER;
      else process.env.CARGO_BUILD_DIR_WALKER = saved;
    }
  });

  test('concurrent builders install one complete binary', async () => {
    // cargo is already up to date in the suite's cache, so removing the installed copy makes three concurrent
    // lookups each run cargo (serialized by its lock) and race to install: all must end with the same whole file.
    fs.rmSync(binary);
    const found = await Promise.all([1, 2, 3].map(() => findNativeWalker({ build: true, cacheDir })));
    assert.deepStrictEqual(found, [binary, binary, binary]);
    assert.match(execFileSync(binary, ['--version'], { encoding: 'utf8' }), /^cbd-walker \S+ protocol 3/);
    assert.deepStrictEqual(fs.readdirSync(cacheDir).filter((n) => n.endsWith('.tmp')), []);
    const w = new NativeWalker(binary);
    assert.deepStrictEqual(plain(await w.walk([{ path: odd, depth: 2 }])), plain(await node.walk([{ path: odd, depth: 2 }])));
    w.close();
  });
});

describe('keyed walks (native)', () => {
  const RULES: readonly InlineRule[] = [{ glob: '*.txt', maxBytes: 64 }];

  test('an unchanged folder answers "same" and reads nothing; any change gives a full answer with a new key', async () => {
    const dir = path.join(tmp, 'keyed');
    const note = write(path.join(dir, 'note.txt'), 'alpha');
    // A whole second, which utimes can set again exactly.
    fs.utimesSync(note, 1_700_000_000, 1_700_000_000);
    write(path.join(dir, 'sub', 'deep.bin'), Buffer.alloc(300, 1));
    const req: WalkRequest = { path: dir, depth: 1, inline: RULES, key: true };
    // Just written, the file it would read is racy: no key, so nothing a later walk could wrongly call "same".
    const [racy] = await native.walk([req]);
    assert.equal(racy!.key, undefined, 'no key for a folder whose inline file changed a moment ago');
    assert.equal(racy!.inline?.[0]?.content.ok && racy!.inline[0].content.data.toString(), 'alpha');
    await pastRacyWindow(Date.now());
    const [first] = await native.walk([req]);
    assert.ok(first!.key, 'a keyed walk has a key');
    assert.ok(!first!.same);
    // Apart from its key, a keyed answer is the plain one.
    assert.deepStrictEqual(plain([first!]), plain(await native.walk([{ path: dir, depth: 1, inline: RULES }])));
    assert.equal(first!.inline?.[0]?.content.ok && first!.inline[0].content.data.toString(), 'alpha');

    const [again] = await native.walk([{ ...req, expect: first!.key }]);
    assert.equal(again!.same, true);
    assert.equal(again!.key, first!.key);
    assert.deepStrictEqual([again!.entries.length, again!.inline?.length ?? 0], [0, 0], 'nothing listed, nothing read');
    // Another expected key, or none: a full answer.
    const other = Buffer.alloc(16, 9).toString('base64');
    const [full] = await native.walk([{ ...req, expect: other }]);
    assert.ok(!full!.same);
    assert.equal(full!.key, first!.key);

    // Same size, same mtime, other content: only the ctime (and the content) moved.
    const st = fs.statSync(note);
    fs.writeFileSync(note, 'omega');
    fs.utimesSync(note, 1_700_000_000, 1_700_000_000);
    assert.deepStrictEqual([fs.statSync(note).mtimeMs, fs.statSync(note).size, fs.statSync(note).ino], [st.mtimeMs, st.size, st.ino]);
    // Past the racy window, so that only the ctime in the stamp can tell.
    await pastRacyWindow(Date.now());
    const [edited] = await native.walk([{ ...req, expect: first!.key }]);
    assert.ok(!edited!.same, 'a rewritten inline file is a change');
    assert.notEqual(edited!.key, first!.key);
    assert.equal(edited!.inline?.[0]?.content.ok && edited!.inline[0].content.data.toString(), 'omega');

    // A change below the listed depth shows in its folder's totals.
    fs.appendFileSync(path.join(dir, 'sub', 'deep.bin'), 'x');
    const [deeper] = await native.walk([{ ...req, expect: edited!.key }]);
    assert.ok(!deeper!.same);
    // Other rules are another request: never "same" as this one.
    const [otherRules] = await native.walk([{ ...req, inline: [{ glob: '*.txt', maxBytes: 65 }], expect: deeper!.key }]);
    assert.ok(!otherRules!.same);
    // A vanished folder: a full answer, with its error.
    const gone = path.join(tmp, 'keyed-gone');
    fs.mkdirSync(gone);
    const [was] = await native.walk([{ path: gone, depth: 1, key: true }]);
    fs.rmdirSync(gone);
    const [now] = await native.walk([{ path: gone, depth: 1, key: true, expect: was!.key }]);
    assert.ok(!now!.same);
    assert.deepStrictEqual(now!.errors.map((e) => e.code), ['ENOENT']);
  });

  test('a keyed walk with an inline file it could not read gets no key: the failure may not last', async () => {
    const base = path.join(tmp, 'unreadable-inline');
    const readable = path.join(base, 'readable');
    const locked = path.join(base, 'locked');
    write(path.join(readable, 'a.txt'), 'alpha');
    write(path.join(locked, 'a.txt'), 'alpha');
    fs.chmodSync(write(path.join(locked, 'b.txt'), 'beta'), 0o000);
    // Root reads any file: then the helper runs as nobody, who can list the folder but not read b.txt.
    const as = isRoot ? NOBODY : {};
    if (isRoot) for (const d of [tmp, base]) fs.chmodSync(d, 0o755);
    // Past the racy window, where only the failed read can withhold the key.
    await pastRacyWindow(Date.now());
    const keyOf = (dir: string): { stamp: Buffer; body: Buffer } => {
      const r = spawnSync(binary, [], { input: Buffer.concat([walkBytes(dir, 1, { rules: [{ glob: '*', maxBytes: 64 }], keyed: true }), Buffer.from('F')]), ...as });
      assert.equal(r.status, 0, r.stderr?.toString());
      const answer = rawRecords(r.stdout).find((x) => x.tag === 'v');
      assert.ok(answer, 'a keyed answer');
      return { stamp: answer.body.subarray(0, 16), body: answer.body.subarray(16) };
    };
    const ok = keyOf(readable);
    assert.notDeepEqual(ok.stamp, Buffer.alloc(16), 'every read succeeded: a key');
    const failed = keyOf(locked);
    assert.ok(failed.body.includes('EACCES'), 'the read of b.txt failed');
    assert.deepEqual(failed.stamp, Buffer.alloc(16), 'a read failed: no key');
  });

  test('a helper built from other source gives other keys: a memo of an earlier helper is never vouched for', async () => {
    const src = path.join(tmp, 'native-copy');
    fs.cpSync(path.join(repo, 'native'), src, { recursive: true, filter: (p) => !p.includes(`${path.sep}target`) });
    fs.appendFileSync(path.join(src, 'src', 'lock.rs'), '\n// Another build of the same helper.\n');
    const built = spawnSync('cargo', ['build', '--offline', '--quiet', '--target-dir', path.join(tmp, 'native-copy-target')], { cwd: src, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const other = path.join(tmp, 'native-copy-target', 'debug', process.platform === 'win32' ? 'cbd-walker.exe' : 'cbd-walker');
    const dir = path.join(tmp, 'identity');
    write(path.join(dir, 'a.txt'), 'alpha');
    await pastRacyWindow(Date.now());
    const stampBy = (bin: string): Buffer => {
      const r = spawnSync(bin, [], { input: Buffer.concat([walkBytes(dir, 1, { rules: [{ glob: '*', maxBytes: 64 }], keyed: true }), Buffer.from('F')]) });
      assert.equal(r.status, 0, r.stderr?.toString());
      return rawRecords(r.stdout).find((x) => x.tag === 'v')!.body.subarray(0, 16);
    };
    const mine = stampBy(binary);
    assert.notDeepEqual(mine, Buffer.alloc(16));
    assert.deepEqual(stampBy(binary), mine, 'the same helper, the same key');
    assert.notDeepEqual(stampBy(other), mine, 'another helper, another key');
  });

  test('the Node walker gives no key, and so never "same"', async () => {
    const [r] = await node.walk([{ path: odd, depth: 0, key: true, expect: Buffer.alloc(16, 1).toString('base64') }]);
    assert.equal(r!.key, undefined);
    assert.ok(!r!.same);
  });
});
