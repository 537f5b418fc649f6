// The command line as users run it: the bundled dist/cli.js in a child process, on real fixtures.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT } from './helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-cli-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const du = (p: string): number => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);

test('scan --json follows schema 1 and its totals equal du -sb', (t) => {
  const fx = fixtureOrSkip(t, 'separate');
  if (!fx) return;
  const r = cli(['scan', fx.workspace, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.schema, 1);
  assert.equal(j.buildDirs.length, 2, 'separate build-dir and target-dir');
  const roles = j.buildDirs.map((b: { role: string }) => b.role).sort();
  assert.deepEqual(roles, ['build-dir', 'target-dir']);
  for (const b of j.buildDirs) {
    assert.equal(b.bytes, du(b.path));
    assert.equal(b.discovery, 'cargo-metadata');
    for (const p of b.profiles) {
      assert.ok('platform' in p && 'incremental' in p && Array.isArray(p.units));
      for (const u of p.units) {
        for (const k of ['package', 'hash', 'layout', 'kind', 'mode', 'target', 'features', 'version', 'source', 'paths', 'bytes', 'freedBytes', 'builtAt', 'stale']) {
          assert.ok(k in u, `unit field ${k}`);
        }
        assert.match(u.hash, /^[0-9a-f]{16}$/);
        assert.ok(u.builtAt === null || !Number.isNaN(Date.parse(u.builtAt)));
      }
      for (const i of p.incremental) for (const k of ['crate', 'path', 'bytes', 'sessions']) assert.ok(k in i, `incremental field ${k}`);
    }
  }
  const triple = j.buildDirs.flatMap((b: { profiles: { platform: string | null }[] }) => b.profiles).filter((p: { platform: string | null }) => p.platform);
  assert.ok(triple.length > 0, 'the --target profile is reported with its platform');
});

test('human output: a readable tree with packages, units and sizes', (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const r = cli(['scan', fx.workspace]);
  assert.equal(r.code, 0, r.stderr);
  for (const s of ['debug', 'release', 'fast', 'util', 'pmacro', 'build script (run) app', 'proc-macro pmacro', 'MiB']) assert.ok(r.stdout.includes(s), `output mentions ${s}`);
  const summary = cli(['scan', fx.workspace, '--summary']);
  assert.ok(summary.stdout.split('\n').length < r.stdout.split('\n').length);
});

test('a build dir given directly is scanned as such, inside or outside its workspace', (t) => {
  const fx = fixtureOrSkip(t, 'legacy');
  if (!fx) return;
  const inside = JSON.parse(cli(['scan', fx.buildDir, '--json']).stdout);
  assert.deepEqual(inside.buildDirs.map((b: { path: string }) => b.path), [fx.buildDir]);
  // A copy away from any workspace (a CI cache, a backup) is recognised by its own markers.
  const copy = path.join(tmp, 'copied-target');
  execFileSync('cp', ['-a', fx.buildDir, copy]);
  const r = cli(['scan', copy, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.buildDirs[0].discovery, 'given path');
  assert.equal(j.buildDirs[0].bytes, du(copy));
  assert.ok(j.buildDirs[0].profiles.length >= 4);
});

test('without cargo the build dir is found from the configuration, and the note says so', (t) => {
  const fx = fixtureOrSkip(t, 'separate');
  if (!fx) return;
  // No cargo on PATH and an empty cache: neither cargo metadata nor a native walker can be had.
  const env = { ...process.env, PATH: '/nonexistent', XDG_CACHE_HOME: path.join(tmp, 'empty-cache') };
  const r = cli(['scan', fx.workspace, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const bd = j.buildDirs.find((b: { role: string }) => b.role === 'build-dir');
  assert.ok(bd, JSON.stringify(j.buildDirs.map((b: { path: string; role: string }) => [b.path, b.role])));
  assert.equal(bd.path, fx.buildDir);
  assert.equal(bd.discovery, 'config build.build-dir');
  assert.equal(j.walker, 'node', 'no cargo: the Node walker measures');
});

test('exit codes: missing path 3, not Cargo 4, usage 2, no build yet 0 with a clear message', () => {
  const missing = cli(['scan', path.join(tmp, 'does-not-exist')]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /does not exist/);

  const plain = path.join(tmp, 'plain');
  fs.mkdirSync(plain);
  const notCargo = cli(['scan', plain, '--no-cargo']);
  assert.equal(notCargo.code, 4);
  assert.match(notCargo.stderr, /Cargo/);

  assert.equal(cli(['scan', '--bogus']).code, 2);
  assert.equal(cli(['frobnicate']).code, 2);
  assert.equal(cli(['--help']).code, 0);

  const ws = path.join(tmp, 'fresh');
  fs.cpSync(path.join(REPO_ROOT, 'sample'), ws, { recursive: true, filter: (s) => !s.includes(`${path.sep}target`) });
  const fresh = cli(['scan', ws]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stdout, /nothing built yet/);
  const json = JSON.parse(cli(['scan', ws, '--json']).stdout);
  assert.equal(json.buildDirs[0].exists, false);
});

test('--stats reports the outline time and the walker', (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const r = cli(['scan', fx.buildDir, '--json', '--stats']);
  assert.equal(r.code, 0);
  const stats = JSON.parse(r.stderr.trim().split('\n').pop()!);
  assert.ok(stats.outlineMs >= 0 && stats.scanMs >= stats.outlineMs);
  assert.equal(stats.walker, 'native');
});

test('the command line loads itself through a code cache: written by the first scan, used by the next, same output', (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const home = path.join(tmp, 'xdg-cache');
  // The Node walker: a cache folder of its own would otherwise need the native helper built into it.
  const env = { ...process.env, XDG_CACHE_HOME: home, CARGO_BUILD_DIR_WALKER: 'node' };
  const stats = (r: { stderr: string }): { codeCache: string } => JSON.parse(r.stderr.trim().split('\n').pop()!);
  const first = cli(['scan', fx.buildDir, '--json', '--no-stale', '--stats'], env);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(stats(first).codeCache, 'miss');
  const files = fs.readdirSync(path.join(home, 'cargo-build-dir')).filter((f) => f.endsWith('.v8cache'));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^cli-main-[0-9a-f]{16}-scan_json\.v8cache$/);
  const second = cli(['scan', fx.buildDir, '--json', '--no-stale', '--stats'], env);
  assert.equal(stats(second).codeCache, 'hit');
  assert.equal(second.stdout, first.stdout);
  const off = cli(['scan', fx.buildDir, '--json', '--no-stale', '--stats'], { ...env, XDG_CACHE_HOME: path.join(tmp, 'xdg-off'), CARGO_BUILD_DIR_CODE_CACHE: 'off' });
  assert.equal(stats(off).codeCache, 'off');
  assert.equal(off.stdout, first.stdout);
  assert.ok(!fs.existsSync(path.join(tmp, 'xdg-off')), 'nothing written when off');
});
