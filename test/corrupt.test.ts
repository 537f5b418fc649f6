// Bad input: copies of a real build dir, damaged on purpose. The scan must finish, keep every unit it can,
// say clearly what is wrong, and never follow a symlink out of the build dir.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT } from './helpers/fixtures';
import { NativeWalker } from '../src/node/native';
import { NOBODY } from './helpers/nobody';
import { createWalker } from '../src/node/walker';
import { scanBuildDirs } from '../src/core/scan';
import type { ScanResult, Unit } from '../src/core/model';
import type { Walker, WalkRequest, WalkResult } from '../src/core/walk';

let walker: Walker;
let tmp: string;
before(async () => {
  walker = await createWalker({ build: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-corrupt-'));
});
after(() => {
  walker.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A private copy of the v2 fixture's build dir (hard links kept, as cargo made them). */
function copyOfV2(t: import('node:test').TestContext, name: string): string | null {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return null;
  const dest = path.join(tmp, name);
  execFileSync('cp', ['-a', fx.buildDir, dest]);
  return dest;
}

const scan = (dir: string, w: Walker = walker): Promise<ScanResult> =>
  scanBuildDirs([{ path: dir, role: 'both', discovery: 'given path' }], { walker: w });
const units = (r: ScanResult): Unit[] => r.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));
const du = (p: string): number => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);

function someLibUnit(dir: string): string {
  const base = path.join(dir, 'debug', 'build', 'util');
  const hash = fs.readdirSync(base).find((h) => fs.readdirSync(path.join(base, h, 'fingerprint')).includes('lib-util.json'));
  assert.ok(hash, 'a util lib unit exists');
  return path.join(base, hash);
}

test('truncated fingerprint JSON: the unit stays, with no features and a clear problem', async (t) => {
  const dir = copyOfV2(t, 'truncated-json');
  if (!dir) return;
  const unit = someLibUnit(dir);
  const json = path.join(unit, 'fingerprint', 'lib-util.json');
  const text = fs.readFileSync(json, 'utf8');
  fs.writeFileSync(json, text.slice(0, Math.floor(text.length / 2)));
  const r = await scan(dir);
  const u = units(r).find((x) => x.paths[0] === unit);
  assert.ok(u, 'the unit is still listed');
  assert.equal(u.features, null);
  assert.match(u.problems.join('\n'), /fingerprint JSON/);
  assert.equal(u.kind, 'lib');
});

test('garbage hash file and garbage JSON: reported per unit, the scan goes on', async (t) => {
  const dir = copyOfV2(t, 'garbage');
  if (!dir) return;
  const unit = someLibUnit(dir);
  fs.writeFileSync(path.join(unit, 'fingerprint', 'lib-util'), 'not hex at all\n');
  fs.writeFileSync(path.join(unit, 'fingerprint', 'lib-util.json'), Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
  const r = await scan(dir);
  const u = units(r).find((x) => x.paths[0] === unit);
  assert.ok(u);
  assert.match(u.problems.join('\n'), /hash file/);
  assert.match(u.problems.join('\n'), /fingerprint JSON/);
  assert.ok(units(r).length > 10, 'the other units are decoded');
});

test('a unit folder that is a symlink to a folder outside is never followed', async (t) => {
  const dir = copyOfV2(t, 'symlink');
  if (!dir) return;
  const outside = path.join(tmp, 'outside-canary');
  fs.mkdirSync(path.join(outside, 'fingerprint'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'canary'), Buffer.alloc(1 << 20, 1));
  const link = path.join(dir, 'debug', 'build', 'util', 'abcdefabcdefabcd');
  fs.symlinkSync(outside, link);
  const r = await scan(dir);
  assert.equal(r.buildDirs[0]!.bytes, du(dir), 'the total is du -sb, which does not follow links either');
  assert.ok(!units(r).some((u) => u.paths.includes(link)), 'the link is not taken for a unit');
  assert.ok(r.problems.some((p) => p.path === link && /symbolic link/.test(p.message)), 'the link is reported');
  assert.ok(fs.existsSync(path.join(outside, 'canary')));
});

test('odd names (spaces, newline, tab, unicode) are scanned and measured', async (t) => {
  const dir = copyOfV2(t, 'odd-names');
  if (!dir) return;
  const unit = someLibUnit(dir);
  const odd = path.join(dir, 'debug', 'build', 'wéird pkg\n\tname');
  fs.mkdirSync(odd);
  fs.renameSync(unit, path.join(odd, path.basename(unit)));
  const r = await scan(dir);
  const u = units(r).find((x) => x.package === 'wéird pkg\n\tname');
  assert.ok(u, 'the unit under an odd package name is found');
  assert.equal(u.bytes, du(u.paths[0]!));
  assert.equal(r.buildDirs[0]!.bytes, du(dir));
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
});

test('one unit hash under two package folders (a copied folder): one unit with both paths, each byte once', async (t) => {
  const dir = copyOfV2(t, 'same-hash');
  if (!dir) return;
  const unit = someLibUnit(dir);
  const hash = path.basename(unit);
  const copy = path.join(dir, 'debug', 'build', 'zz-copied', hash);
  fs.mkdirSync(path.dirname(copy));
  execFileSync('cp', ['-a', unit, copy]);
  const r = await scan(dir);
  const same = units(r).filter((x) => x.hash === hash && x.layout === 'v2');
  assert.equal(same.length, 1, 'one unit for the hash');
  assert.deepEqual([...same[0]!.paths].sort(), [unit, copy].sort());
  assert.equal(same[0]!.bytes, Number(execFileSync('du', ['-sbc', unit, copy], { encoding: 'utf8' }).trim().split('\n').pop()!.split('\t')[0]));
  assert.equal(r.buildDirs[0]!.bytes, du(dir));
});

test('a unit folder that vanishes between planning and measuring (cargo running) is no crash', async (t) => {
  const dir = copyOfV2(t, 'vanish');
  if (!dir) return;
  const unit = someLibUnit(dir);
  // Delete the unit after the layout pass has planned it, exactly when the walker starts.
  const vanishing: Walker = {
    name: 'vanishing',
    walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
      fs.rmSync(unit, { recursive: true, force: true });
      return walker.walk(requests);
    },
    read: (r) => walker.read(r),
    close: () => undefined,
  };
  const r = await scan(dir, vanishing);
  assert.ok(!units(r).some((x) => x.paths[0] === unit), 'a unit that is gone is not listed');
  assert.ok(units(r).length > 10, 'the other units are');
  assert.equal(r.buildDirs[0]!.bytes, du(dir));
});

test('an unreadable folder: its size is not counted and the problem says so', async (t) => {
  const dir = copyOfV2(t, 'unreadable');
  if (!dir) return;
  const unit = someLibUnit(dir);
  fs.chmodSync(unit, 0);
  try {
    const problems = process.getuid?.() === 0 ? scanAsNobody(dir) : (await scan(dir)).problems;
    assert.ok(
      problems.some((p) => p.path.startsWith(unit) && /permission denied/.test(p.message)),
      JSON.stringify(problems),
    );
  } finally {
    fs.chmodSync(unit, 0o755);
  }
});

/**
 * Root reads every folder whatever its mode: then the command line scans as nobody, for whom a mode means what
 * it says, with the walker this run uses (copied where nobody can run it) and a cache folder of its own.
 */
function scanAsNobody(dir: string): { path: string; message: string }[] {
  fs.chmodSync(tmp, 0o755);
  const cache = path.join(tmp, 'nobody-cache');
  fs.mkdirSync(cache, { mode: 0o777 });
  fs.chmodSync(cache, 0o777);
  let chosen = 'node';
  if (walker instanceof NativeWalker) {
    chosen = path.join(tmp, path.basename(walker.binary));
    fs.copyFileSync(walker.binary, chosen);
    fs.chmodSync(chosen, 0o755);
  }
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'scan', dir, '--json', '--no-stale'], {
    encoding: 'utf8',
    ...NOBODY,
    env: { ...process.env, HOME: cache, XDG_CACHE_HOME: cache, CARGO_BUILD_DIR_WALKER: chosen, CARGO_BUILD_DIR_SCAN_CACHE: 'off' },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { problems: { path: string; message: string }[] }).problems;
}

test('a build dir with no profile folder yet, and one that does not exist', async () => {
  const empty = path.join(tmp, 'empty-build-dir');
  fs.mkdirSync(empty);
  fs.writeFileSync(path.join(empty, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n');
  const r = await scan(empty);
  assert.equal(r.buildDirs[0]!.exists, true);
  assert.equal(r.buildDirs[0]!.profiles.length, 0);
  assert.equal(r.buildDirs[0]!.bytes, du(empty));
  const missing = await scan(path.join(tmp, 'never-built'));
  assert.equal(missing.buildDirs[0]!.exists, false);
  assert.equal(missing.problems.length, 0, 'nothing built yet is not a problem');
});
