// Whole-scan replay (src/node/scan-replay.ts): a streamed scan whose every walk answers "same", and whose listed
// folders kept their times, prints the output it kept. Proven on a copy of a real mixed build dir (legacy and v2
// units), through the command line, against the same scan with every cache off: after each kind of change cargo
// or a user could make, the output must be the fresh one.

import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT } from './helpers/fixtures';
import { NativeWalker, findNativeWalker } from '../src/node/native';
import { ReplayWalker, replayFileFor } from '../src/node/scan-replay';
import { planBuildDir, traceListings, type ListedFolder } from '../src/core/layout';
import type { Walker } from '../src/core/walk';
import { pastRacyWindow } from './helpers/racy';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
let tmp = '';
let binary = '';

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-replay-'));
  const found = await findNativeWalker({ build: true });
  assert.ok(found, 'the native walker builds');
  binary = found;
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  readonly stdout: string;
  readonly replay: string;
}

function scan(dir: string, cache: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [CLI, 'scan', dir, '--json', '--no-stale', '--stats'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cache, CARGO_BUILD_DIR_WALKER: binary, ...env },
    maxBuffer: 256 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(r.stderr.trim().split('\n').pop()!) as { scanReplay: string };
  return { stdout: r.stdout, replay: stats.scanReplay };
}

const off = (dir: string): string => scan(dir, path.join(tmp, 'unused'), { CARGO_BUILD_DIR_SCAN_CACHE: 'off' }).stdout;

interface JsonUnit {
  readonly layout: string;
  readonly package: string;
  readonly paths: readonly string[];
}
const unitsOf = (json: string): JsonUnit[] =>
  (JSON.parse(json) as { buildDirs: { profiles: { units: JsonUnit[] }[] }[] }).buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));

/** A copy of a fixture's build dir, past the racy window of its copying; null (skipped) without the fixture. */
async function settledCopy(t: TestContext, name: string, fixture: 'mixed' | 'v2'): Promise<string | null> {
  const fx = fixtureOrSkip(t, fixture);
  if (!fx) return null;
  const dir = path.join(tmp, name);
  execFileSync('cp', ['-a', fx.buildDir, dir]);
  await pastRacyWindow(Date.now());
  return dir;
}

/** A copy of a fixture with a cache folder of its own, scanned until its output is kept for replay. */
async function kept(t: TestContext, name: string, fixture: 'mixed' | 'v2' = 'mixed'): Promise<{ dir: string; cache: string; expected: string } | null> {
  const dir = await settledCopy(t, name, fixture);
  if (!dir) return null;
  const cache = path.join(tmp, `cache-${name}`);
  const expected = off(dir);
  // The first scan keeps the unit memo; the second, which had one, keeps its output too.
  assert.equal(scan(dir, cache).replay, 'off');
  assert.equal(scan(dir, cache).stdout, expected);
  assert.ok(fs.existsSync(replayFileFor(path.join(cache, 'cargo-build-dir'), [dir])), 'the output is kept');
  return { dir, cache, expected };
}

/** Makes each change in turn; the scan after it must not be a replay, and must print what a fresh scan does. */
function eachChangeSeen(dir: string, cache: string, changes: readonly [string, () => void][]): void {
  for (const [what, change] of changes) {
    change();
    const fresh = off(dir);
    const r = scan(dir, cache);
    assert.notEqual(r.replay, 'hit', what);
    assert.equal(r.stdout, fresh, what);
  }
}

test('an unchanged build dir is replayed byte for byte; a change anywhere is scanned afresh', async (t) => {
  const k = await kept(t, 'mixed');
  if (!k) return;
  const { dir, cache, expected } = k;
  const again = scan(dir, cache);
  assert.equal(again.replay, 'hit');
  assert.equal(again.stdout, expected);

  const units = unitsOf(expected);
  const v2 = units.find((u) => u.layout === 'v2')!;
  const legacy = units.find((u) => u.layout === 'legacy' && u.paths.some((p) => p.includes(`${path.sep}deps${path.sep}`)))!;
  assert.ok(v2 && legacy, 'both layouts');
  const profileDir = path.dirname(path.dirname(path.dirname(v2.paths[0]!)));
  const changes: [string, () => void][] = [
    // Inside a unit's walk: a new file in a v2 unit's out/.
    ['a file added to a v2 unit', () => fs.writeFileSync(path.join(v2.paths[0]!, 'out', 'added.bin'), 'x'.repeat(123))],
    // Seen only through a listing: a new unit folder beside the others of its package.
    ['a new v2 unit folder', () => execFileSync('cp', ['-a', v2.paths[0]!, path.join(path.dirname(v2.paths[0]!), '0123456789abcdef')])],
    // A shared folder legacy units are cut out of.
    ['a legacy artifact grown', () => fs.appendFileSync(legacy.paths.find((p) => p.includes(`${path.sep}deps${path.sep}`))!, 'more')],
    // Outside every unit: a bucket at the build dir's root, then one at the profile's.
    ['a file at the build dir root', () => fs.writeFileSync(path.join(dir, 'stray.txt'), 'stray')],
    ['a file in the profile folder', () => fs.writeFileSync(path.join(profileDir, 'stray.txt'), 'stray')],
    // A unit gone.
    ['a legacy unit removed', () => fs.rmSync(legacy.paths[0]!, { recursive: true })],
  ];
  eachChangeSeen(dir, cache, changes);
  assert.notEqual(off(dir), expected);
  // Once the changes are past the racy window, the new state is kept, and then replayed.
  await pastRacyWindow(Date.now());
  const fresh = off(dir);
  scan(dir, cache);
  const settled = scan(dir, cache);
  assert.equal(settled.replay, 'hit');
  assert.equal(settled.stdout, fresh);
});

test('layout v2: unit folders that appear or go are seen through the listing of their package folder', async (t) => {
  const k = await kept(t, 'v2', 'v2');
  if (!k) return;
  const { dir, cache, expected } = k;
  const v2 = unitsOf(expected).filter((u) => u.layout === 'v2');
  assert.ok(v2.length > 2 && v2.every((u) => u.paths.length === 1), 'unit folders only');
  const unit = v2[0]!.paths[0]!;
  const changes: [string, () => void][] = [
    ['a new unit folder', () => execFileSync('cp', ['-a', unit, path.join(path.dirname(unit), '0123456789abcdef')])],
    ['a unit folder removed', () => fs.rmSync(unit, { recursive: true })],
    ['a new package folder', () => execFileSync('cp', ['-a', path.dirname(unit), path.join(path.dirname(path.dirname(unit)), 'zz-new-package')])],
  ];
  eachChangeSeen(dir, cache, changes);
});

test('a changed folder is not kept for replay until it is past the racy window', async (t) => {
  const k = await kept(t, 'racy');
  if (!k) return;
  const { dir, cache } = k;
  // A listed folder changed a moment ago may change again within the same tick of the file clock, unseen.
  fs.writeFileSync(path.join(dir, 'stray.txt'), 'stray');
  const fresh = off(dir);
  assert.notEqual(scan(dir, cache).replay, 'hit');
  const next = scan(dir, cache);
  assert.notEqual(next.replay, 'hit', 'not kept while racy');
  assert.equal(next.stdout, fresh);
});

test('a folder that changes after the layout pass listed it is never kept, even with its time set back', async (t) => {
  const dir = await settledCopy(t, 'listed-then-changed', 'v2');
  if (!dir) return;
  const native = new NativeWalker(binary);
  try {
    /** Lists the build dir as a scan's layout pass does, makes `change` (cargo, mid-scan), then asks for probes. */
    const probesAfter = async (change: () => void): Promise<unknown> => {
      const listed: ListedFolder[] = [];
      traceListings(listed);
      try {
        planBuildDir(dir, 'both');
      } finally {
        traceListings(null);
      }
      assert.ok(listed.length > 3, 'the layout pass listed folders');
      change();
      return new ReplayWalker(native).probes(listed, Date.now());
    };
    assert.notEqual(await probesAfter(() => undefined), null, 'nothing changed: kept');
    const unit = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((p) => /(^|\/)build\/[^/]+\/[0-9a-f]{16}$/.test(p))!;
    assert.ok(unit, 'a v2 unit folder');
    const pkg = path.dirname(path.join(dir, unit));
    // As a file server with a clock behind this one would leave it: the new entry's time is old, or unchanged.
    const back = (p: string, st: fs.Stats): void => fs.utimesSync(p, st.atime, st.mtime);
    const changes: [string, () => void][] = [
      ['a unit folder added, its package folder\'s time set back to what it was', () => {
        const st = fs.statSync(pkg);
        execFileSync('cp', ['-a', path.join(dir, unit), path.join(pkg, '0123456789abcdef')]);
        back(pkg, st);
      }],
      ['a unit folder removed, the same', () => {
        const st = fs.statSync(pkg);
        fs.rmSync(path.join(pkg, '0123456789abcdef'), { recursive: true });
        back(pkg, st);
      }],
      ['a file added to a listed folder, its time an hour old', () => {
        fs.writeFileSync(path.join(pkg, 'stray'), '');
        const old = new Date(Date.now() - 3_600_000);
        fs.utimesSync(pkg, old, old);
      }],
    ];
    for (const [what, change] of changes) assert.equal(await probesAfter(change), null, what);
  } finally {
    native.close();
  }
});

test('probes go a slice at a time: a change near the start stops them, so that full answers never pile up', async (t) => {
  const dir = await settledCopy(t, 'probe-slices', 'mixed');
  if (!dir) return;
  const native = new NativeWalker(binary);
  // The real walker, counting what it is asked.
  let asked = 0;
  const counting: Walker = {
    name: native.name,
    walk: (rs) => {
      asked += rs.length;
      return native.walk(rs);
    },
    read: (rs) => native.read(rs),
    close: () => native.close(),
  };
  try {
    // Thousands of distinct probes, as a kept scan of a few thousand units has: every entry, at several depths.
    const entries = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((p) => path.join(dir, p));
    const requests = entries.flatMap((p) => [-1, 0, 1, 2, 3].map((depth) => ({ path: p, depth, key: true })));
    assert.ok(requests.length > 3000, `${requests.length} probes`);
    const answers = await native.walk(requests);
    assert.ok(answers.every((a) => a.key), 'every answer has a key');
    const probes = requests.map((r, i) => ({ ...r, expect: answers[i]!.key }));
    assert.equal(await new ReplayWalker(counting).probe(probes), true, 'nothing changed');
    assert.equal(asked, probes.length, 'all of them sent');
    // The first entry changes: the first slice says so, and at most the one queued behind it went out too.
    fs.utimesSync(entries[0]!, new Date(), new Date(1_600_000_000_000));
    asked = 0;
    assert.equal(await new ReplayWalker(counting).probe(probes), false, 'a change');
    assert.ok(asked <= 2048, `${asked} of ${probes.length} probes sent`);
  } finally {
    native.close();
  }
});

test('a damaged, truncated or foreign replay file costs time, never a wrong scan', async (t) => {
  const k = await kept(t, 'damaged');
  if (!k) return;
  const { dir, cache, expected } = k;
  const file = replayFileFor(path.join(cache, 'cargo-build-dir'), [dir]);
  const good = fs.readFileSync(file);
  // A byte of the kept output changed: its digest fails.
  const flipped = Buffer.from(good);
  const at = good.lastIndexOf('"legacy"');
  assert.ok(at > 0);
  flipped[at + 2] = 'X'.charCodeAt(0);
  for (const bad of [flipped, good.subarray(0, good.length - 7), good.subarray(0, 40), Buffer.from('garbage')]) {
    fs.writeFileSync(file, bad);
    const r = scan(dir, cache);
    assert.notEqual(r.replay, 'hit');
    assert.equal(r.stdout, expected);
  }
  // Written again whole by the last scan: replayed from then on.
  assert.equal(scan(dir, cache).replay, 'hit');
  // With the memo off, or the Node walker, nothing is replayed.
  for (const env of [{ CARGO_BUILD_DIR_SCAN_CACHE: 'off' }, { CARGO_BUILD_DIR_WALKER: 'node' }]) {
    const r = scan(dir, cache, env);
    assert.equal(r.replay, 'off');
  }
});
