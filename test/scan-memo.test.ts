// The unit memo (src/core/scan.ts UnitMemo, src/node/scan-memo.ts): a scan reuses what an earlier one decoded of
// each v2 unit whose folder the native walker finds unchanged. Proven on copies of real cargo build dirs, through
// the command line as users run it, against the same scan with the memo off: the output must not tell them apart.

import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT } from './helpers/fixtures';
import { findNativeWalker, NativeWalker } from '../src/node/native';
import { memoFileFor, openScanMemo } from '../src/node/scan-memo';
import { replayFileFor } from '../src/node/scan-replay';
import { scanBuildDirs } from '../src/core/scan';
import { newestChange, pastRacyWindow } from './helpers/racy';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
let tmp = '';
let binary = '';

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-memo-'));
  const found = await findNativeWalker({ build: true });
  assert.ok(found, 'the native walker builds');
  binary = found;
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly memo: { hits: number; misses: number } | string;
}

function scan(dir: string, cache: string, env: NodeJS.ProcessEnv = {}, args = ['--json', '--no-stale']): Run {
  // What the memo does, not what a whole-scan replay would (test/scan-replay.test.ts): none is left to replay.
  fs.rmSync(replayFileFor(path.join(cache, 'cargo-build-dir'), [dir]), { force: true });
  const r = spawnSync(process.execPath, [CLI, 'scan', dir, ...args, '--stats'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cache, CARGO_BUILD_DIR_WALKER: binary, ...env },
    maxBuffer: 256 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(r.stderr.trim().split('\n').pop()!) as { unitMemo: Run['memo'] };
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, memo: stats.unitMemo };
}

/** A scan of `buildDir` in this process with a memo stored in `dir`, saved as the command line saves it. */
async function scanInProcess(walker: NativeWalker, buildDir: string, dir: string, context: string, maxUnits?: number): Promise<ReturnType<typeof openScanMemo>> {
  const memo = openScanMemo({ dir, scope: [buildDir], context, maxUnits });
  await scanBuildDirs([{ path: buildDir, role: 'both', discovery: 'given path' }], { walker, memo });
  memo.save();
  return memo;
}

const off = (dir: string, args?: string[]): string => scan(dir, path.join(tmp, 'unused'), { CARGO_BUILD_DIR_SCAN_CACHE: 'off' }, args).stdout;

interface JsonUnit {
  readonly id: string;
  readonly package: string;
  readonly layout: string;
  readonly paths: readonly string[];
  readonly rustc: string | null;
}
const unitsOf = (json: string): JsonUnit[] =>
  (JSON.parse(json) as { buildDirs: { profiles: { units: JsonUnit[] }[] }[] }).buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));

/** A copy of a fixture's build dir, which a test may change. */
function copyOf(name: string, buildDir: string): string {
  const dir = path.join(tmp, name);
  execFileSync('cp', ['-a', buildDir, dir]);
  return dir;
}

/**
 * A copy of a fixture's build dir with a cache folder of its own, what a scan without the memo prints, and how
 * many v2 units it has; null when the fixture was skipped. Settles once the copy's files are past the walker's
 * racy window: until then no walk of them has a key, and nothing could be reused.
 */
async function copied(t: TestContext, fixture: 'v2' | 'mixed', name: string): Promise<{ dir: string; cache: string; expected: string; v2: number } | null> {
  const fx = fixtureOrSkip(t, fixture);
  if (!fx) return null;
  const dir = copyOf(name, fx.buildDir);
  const copiedAt = Date.now();
  const expected = off(dir);
  await pastRacyWindow(copiedAt);
  return { dir, cache: path.join(tmp, `cache-${name}`), expected, v2: unitsOf(expected).filter((u) => u.layout === 'v2').length };
}

/** A fixture as cargo left it, once its newest change is past the walker's racy window. */
async function settled(t: TestContext, fixture: 'v2'): Promise<ReturnType<typeof fixtureOrSkip>> {
  const fx = fixtureOrSkip(t, fixture);
  if (fx) await pastRacyWindow(newestChange(fx.buildDir));
  return fx;
}

test('a second scan reuses every v2 unit, and its JSON is the JSON of a scan without the memo', async (t) => {
  const c = await copied(t, 'v2', 'v2');
  if (!c) return;
  const { dir, cache, expected, v2 } = c;
  assert.ok(v2 > 5, `a real v2 build has units (${v2})`);

  const first = scan(dir, cache);
  assert.deepStrictEqual(first.memo, { hits: 0, misses: v2 });
  assert.equal(first.stdout, expected);
  assert.ok(fs.existsSync(memoFileFor(path.join(cache, 'cargo-build-dir'), [dir])), 'the memo is written');
  const second = scan(dir, cache);
  assert.deepStrictEqual(second.memo, { hits: v2, misses: 0 });
  assert.equal(second.stdout, expected);

  // A unit cargo rebuilt in place: its fingerprint JSON says another compiler, with the same size and times. Its
  // package has other units, which the memo then makes again from their records (the package's text is stale).
  const all = unitsOf(expected);
  const unit = all.find((u) => u.layout === 'v2' && u.rustc !== null && all.filter((x) => x.package === u.package && x.layout === 'v2').length > 2)!;
  assert.ok(unit, 'a package with several v2 units');
  const fpDir = path.join(unit.paths[0]!, 'fingerprint');
  const json = path.join(fpDir, fs.readdirSync(fpDir).find((n) => n.endsWith('.json'))!);
  const ref = path.join(tmp, 'times-ref');
  execFileSync('cp', ['-p', json, ref]);
  const text = fs.readFileSync(json, 'utf8');
  const digit = text.indexOf(unit.rustc!) + unit.rustc!.length - 1;
  const other = text[digit] === '1' ? '2' : '1';
  fs.writeFileSync(json, text.slice(0, digit) + other + text.slice(digit + 1));
  execFileSync('touch', ['-r', ref, json]);
  // Past the racy window (a unit changed a moment ago is decoded and not kept), so that only its ctime can tell.
  await pastRacyWindow(Date.now());
  const changed = off(dir);
  assert.notEqual(changed, expected);
  const third = scan(dir, cache);
  assert.deepStrictEqual(third.memo, { hits: v2 - 1, misses: 1 }, 'only the changed unit is decoded again');
  assert.equal(third.stdout, changed);
  assert.equal(unitsOf(third.stdout).find((u) => u.id === unit.id)!.rustc, unit.rustc!.slice(0, -1) + other);

  // A unit cargo removed: gone from the output and from the memo.
  fs.rmSync(unit.paths[0]!, { recursive: true });
  const removed = scan(dir, cache);
  assert.deepStrictEqual(removed.memo, { hits: v2 - 1, misses: 0 });
  assert.equal(removed.stdout, off(dir));
});

test('scans that keep their model (the human summary, JSON with the stale analysis) reuse units too', async (t) => {
  const c = await copied(t, 'v2', 'v2-kept');
  if (!c) return;
  const { dir, cache, v2 } = c;
  // A streamed scan first: the package texts it keeps stay in the memo through scans that do not render.
  scan(dir, cache);
  const file = memoFileFor(path.join(cache, 'cargo-build-dir'), [dir]);
  const streamed = fs.readFileSync(file);
  for (const args of [[], ['--json']]) {
    const expected = off(dir, args);
    const first = scan(dir, cache, {}, args);
    const second = scan(dir, cache, {}, args);
    assert.deepStrictEqual(second.memo, { hits: v2, misses: 0 }, args.join(' '));
    // The human summary prints ages ("2m ago", src/core/format.ts): the same scan a moment later may say "3m ago".
    const ageless = (text: string): string => text.replace(/\b\d+[smhd] ago\b/g, '<age>');
    if (args.length) assert.equal(second.stdout, expected);
    else {
      assert.match(first.stdout, /\b\d+[smhd] ago\b/, 'the summary prints ages');
      assert.equal(ageless(second.stdout), ageless(first.stdout));
    }
    assert.deepStrictEqual(first.memo, { hits: v2, misses: 0 });
  }
  assert.ok(fs.readFileSync(file).equals(streamed), 'the memo is the one the streamed scan wrote');
});

test('a mixed build dir: legacy units are always decoded, v2 units reused, the JSON unchanged', async (t) => {
  const c = await copied(t, 'mixed', 'mixed');
  if (!c) return;
  const { dir, cache, expected, v2 } = c;
  const units = unitsOf(expected);
  assert.ok(v2 > 0 && units.length > v2, 'both layouts');
  scan(dir, cache);
  const second = scan(dir, cache);
  assert.deepStrictEqual(second.memo, { hits: v2, misses: 0 });
  assert.equal(second.stdout, expected);
});

test('a damaged or truncated memo file costs time, never a wrong or failed scan', async (t) => {
  const c = await copied(t, 'v2', 'v2-damaged');
  if (!c) return;
  const { dir, cache, expected, v2 } = c;
  scan(dir, cache);
  const file = memoFileFor(path.join(cache, 'cargo-build-dir'), [dir]);
  const good = fs.readFileSync(file);

  // A byte changed in the records: the index still says "ask for same", the records fail their digest.
  const flipped = Buffer.from(good);
  const at = good.lastIndexOf('"lib"');
  assert.ok(at > 0);
  flipped[at + 1] = 'x'.charCodeAt(0);
  fs.writeFileSync(file, flipped);
  const damaged = scan(dir, cache);
  assert.equal(damaged.memo, 'damaged');
  assert.equal(damaged.stdout, expected);
  // Written again whole: the next scan reuses everything.
  assert.deepStrictEqual(scan(dir, cache).memo, { hits: v2, misses: 0 });

  for (const cut of [good.length - 10, good.indexOf(10) + 5, 3]) {
    fs.writeFileSync(file, good.subarray(0, cut));
    const r = scan(dir, cache);
    assert.equal(r.stdout, expected, `file cut at ${cut}`);
    assert.notDeepStrictEqual(r.memo, { hits: v2, misses: 0 });
  }
  fs.writeFileSync(file, 'garbage');
  assert.equal(scan(dir, cache).stdout, expected);
  assert.deepStrictEqual(scan(dir, cache).memo, { hits: v2, misses: 0 });
});

test('no memo is kept with CARGO_BUILD_DIR_SCAN_CACHE=off, with the Node walker, or above the unit limit', async (t) => {
  const fx = await settled(t, 'v2');
  if (!fx) return;
  const cache = path.join(tmp, 'cache-none');
  const r = scan(fx.buildDir, cache, { CARGO_BUILD_DIR_SCAN_CACHE: 'off' });
  assert.equal(r.memo, 'off');
  const n = scan(fx.buildDir, cache, { CARGO_BUILD_DIR_WALKER: 'node' });
  assert.equal(n.memo, 'off', 'the Node walker gives no keys');
  const files = fs.existsSync(path.join(cache, 'cargo-build-dir')) ? fs.readdirSync(path.join(cache, 'cargo-build-dir')) : [];
  assert.deepStrictEqual(files.filter((f) => f.startsWith('scan-memo-')), []);

  // A scan with the Node walker between two native ones leaves the memo as it was.
  const { dir: dir2, cache: cache2, v2 } = (await copied(t, 'v2', 'v2-node-between'))!;
  scan(dir2, cache2);
  const file2 = memoFileFor(path.join(cache2, 'cargo-build-dir'), [dir2]);
  const before = fs.readFileSync(file2);
  scan(dir2, cache2, { CARGO_BUILD_DIR_WALKER: 'node' });
  assert.ok(fs.readFileSync(file2).equals(before));
  assert.deepStrictEqual(scan(dir2, cache2).memo, { hits: v2, misses: 0 });

  // Above the limit the store says no, and drops the file a smaller past left.
  const dir = path.join(tmp, 'limit-store');
  const walker = new NativeWalker(binary);
  try {
    await scanInProcess(walker, fx.buildDir, dir, 'test');
    assert.ok(fs.existsSync(memoFileFor(dir, [fx.buildDir])));
    const small = await scanInProcess(walker, fx.buildDir, dir, 'test', 1);
    assert.equal(small.stats().state, 'off');
    assert.ok(!fs.existsSync(memoFileFor(dir, [fx.buildDir])));
    // Another context (another code version, other members): nothing reused.
    await scanInProcess(walker, fx.buildDir, dir, 'one');
    const other = await scanInProcess(walker, fx.buildDir, dir, 'two');
    assert.equal(other.stats().hits, 0);
    assert.ok(other.stats().misses > 0);
  } finally {
    walker.close();
  }
});

test('memos of build dirs nobody scans any more are removed after a month; a memo in use is not', async (t) => {
  const fx = await settled(t, 'v2');
  if (!fx) return;
  const dir = path.join(tmp, 'cleanup-store');
  fs.mkdirSync(dir, { recursive: true });
  const month = 31 * 24 * 3600;
  const past = Date.now() / 1000 - month;
  const stale = path.join(dir, 'scan-memo-0123456789abcdef.json');
  const deadTmp = path.join(dir, 'scan-memo-0123456789abcdef.json.0123456789ab.tmp');
  const recentTmp = path.join(dir, 'scan-memo-fedcba9876543210.json.0123456789ab.tmp');
  const foreign = path.join(dir, 'notes.json');
  for (const f of [stale, deadTmp, recentTmp, foreign]) fs.writeFileSync(f, 'x');
  for (const f of [stale, deadTmp, foreign]) fs.utimesSync(f, past, past);
  fs.utimesSync(recentTmp, Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);

  const walker = new NativeWalker(binary);
  try {
    await scanInProcess(walker, fx.buildDir, dir, 'cleanup');
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), [path.basename(memoFileFor(dir, [fx.buildDir])), 'notes.json', path.basename(recentTmp)].sort());

    // Unchanged, the memo is not written again, but its time says it is in use.
    const mine = memoFileFor(dir, [fx.buildDir]);
    fs.utimesSync(mine, past, past);
    const second = await scanInProcess(walker, fx.buildDir, dir, 'cleanup');
    assert.ok(second.stats().hits > 0 && second.stats().misses === 0);
    assert.ok(Date.now() - fs.statSync(mine).mtimeMs < 3600_000, 'touched');
  } finally {
    walker.close();
  }
});
