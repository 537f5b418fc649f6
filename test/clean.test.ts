// Cleaning on real cargo build dirs (copies of the `stale` fixture, and small workspaces built here): what is
// cleaned never costs the next build anything, what is live is rebuilt exactly, and the cleaner cannot be
// turned against a running cargo, a symbolic link, a path outside the build dir, or a plan that went stale.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, REPO_ROOT, type BuiltFixture, type FixtureCommand, type FixtureName } from './helpers/fixtures';
import { createWalker } from '../src/node/walker';
import { scanBuildDirs } from '../src/core/scan';
import { executeClean, itemsForPaths, planClean, unitItem, type CleanPlan, type Locker } from '../src/core/clean';
import { createLocker, fnv1a64Hex } from '../src/node/locks';
import { createTrasher } from '../src/node/trash';
import { cargoLockFiles } from '../src/core/layout';
import type { ScanResult, Unit } from '../src/core/model';
import type { Walker } from '../src/core/walk';

const STALE = 'stale' as FixtureName;
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const EXIT_BUSY = 6;
const EXIT_REFUSED = 7;
const EXIT_PARTIAL = 8;
const EXIT_NOT_CONFIRMED = 10;

// As scripts/fixtures.mjs: nothing from the shell may change where cargo builds or how units hash.
const STRIPPED_ENV = [
  'CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR', 'CARGO_BUILD_TARGET', 'CARGO_BUILD_JOBS', 'CARGO_INCREMENTAL',
  'CARGO_BUILD_INCREMENTAL', 'RUSTFLAGS', 'RUSTDOCFLAGS', 'CARGO_ENCODED_RUSTFLAGS', 'CARGO_ENCODED_RUSTDOCFLAGS', 'CARGO_BUILD_RUSTFLAGS',
  'CARGO_BUILD_RUSTDOCFLAGS', 'RUSTC_WRAPPER', 'RUSTC_WORKSPACE_WRAPPER', 'CARGO_BUILD_RUSTC_WRAPPER', 'CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER',
  'RUSTC_BOOTSTRAP', 'RUSTUP_TOOLCHAIN', '__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT', 'BS_MODE',
];
function cargoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CARGO_TERM_COLOR: 'never', RUSTUP_AUTO_INSTALL: '0' };
  for (const k of STRIPPED_ENV) delete env[k];
  return { ...env, ...extra };
}

let tmp: string;
let walker: Walker;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-clean-'));
  walker = await createWalker({ build: false });
});
after(() => {
  walker.close();
  spawnSync('chattr', ['-R', '-i', tmp], { stdio: 'ignore' });
  fs.rmSync(tmp, { recursive: true, force: true });
});

let copies = 0;
/** A private copy of the fixture's workspace (build dir inside): unit hashes and freshness do not depend on where it is. */
function copyFixture(fx: BuiltFixture): { ws: string; buildDir: string } {
  const dest = path.join(tmp, `copy-${copies++}`);
  fs.mkdirSync(dest);
  const r = spawnSync('cp', ['-a', fx.workspace, dest]);
  assert.equal(r.status, 0, String(r.stderr));
  const ws = path.join(dest, path.basename(fx.workspace));
  return { ws, buildDir: path.join(ws, path.relative(fx.workspace, fx.buildDir)) };
}

/** Runs one of the fixture's cargo commands again in `ws`; returns its compiler artifacts. */
function rerun(ws: string, c: FixtureCommand): { name: string; kind: string; fresh: boolean }[] {
  const [cmd, ...args] = c.argv;
  const r = spawnSync(cmd!, args, { cwd: ws, env: cargoEnv(c.env as Record<string, string>), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { reason: string; target: { name: string; kind: string[] }; fresh: boolean })
    .filter((m) => m.reason === 'compiler-artifact')
    .map((m) => ({ name: m.target.name, kind: m.target.kind.join(','), fresh: m.fresh }));
}

function cli(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd, input: opts.input ?? '', encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function scan(buildDir: string): Promise<ScanResult> {
  return scanBuildDirs([{ path: buildDir, role: 'both', discovery: 'given path' }], { walker });
}
const allUnits = (s: ScanResult): Unit[] => s.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));

function listTree(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(p);
      if (e.isDirectory() && !e.isSymbolicLink()) visit(p);
    }
  };
  visit(dir);
  return out.sort();
}

describe('cleaning the stale set costs the next build nothing', () => {
  test('clean --stale, then the same stable and nightly builds: every artifact is fresh', (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { ws, buildDir } = copyFixture(fx);
    const dry = cli(['clean', '--stale', ws, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^Plan: delete \d+ paths in 1 profile folder: .* frees /m);
    assert.match(dry.stdout, /dry run: nothing was deleted/);
    const planned = dry.stdout.split('\n').filter((l) => l.startsWith('      /')).map((l) => l.trim());
    assert.ok(planned.length > 20);
    for (const p of planned) assert.ok(fs.existsSync(p), `dry run kept ${p}`);

    const noYes = cli(['clean', '--stale', ws]);
    assert.equal(noYes.code, EXIT_NOT_CONFIRMED, 'not on a terminal and no --yes');
    for (const p of planned) assert.ok(fs.existsSync(p));

    const r = cli(['clean', '--stale', ws, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\d+ paths deleted; freed about/);
    for (const p of planned) assert.ok(!fs.existsSync(p), `${p} is gone`);
    assert.ok(!fs.readdirSync(path.join(buildDir, 'debug')).some((n) => n.startsWith('.cargo-build-dir-clean-')), 'no temporary folder left');

    for (const i of [2, 3]) {
      const arts = rerun(ws, fx.commands[i]!);
      assert.ok(arts.length >= 8);
      assert.deepEqual(arts.filter((a) => !a.fresh), [], `${fx.commands[i]!.argv.join(' ')} compiled nothing`);
    }
    const after = cli(['stale', ws, '--json']);
    const left = JSON.parse(after.stdout).items as { kind: string; reasons: { reason: string }[] }[];
    assert.deepEqual(left.filter((i) => i.kind === 'unit'), [], 'no stale unit is left');
  });

  test('removing one live unit makes cargo rebuild exactly it (a bin), or it and its dependents (a lib)', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { ws, buildDir } = copyFixture(fx);
    const units = allUnits(await scan(buildDir));
    const stableRustc = units.find((u) => u.package === 'leaf' && u.layout === 'legacy')!.rustc;
    const live = units.filter((u) => u.layout === 'v2' && u.rustc === stableRustc);
    // The newest stable `bin tool`: nothing depends on a bin.
    const tool = live.filter((u) => u.kind === 'bin' && u.target === 'tool').sort((a, b) => (b.builtAt ?? 0) - (a.builtAt ?? 0))[0]!;
    const r1 = cli(['clean', tool.paths[0]!, '--yes']);
    assert.equal(r1.code, 0, r1.stderr);
    const rebuilt1 = rerun(ws, fx.commands[2]!).filter((a) => !a.fresh);
    assert.deepEqual(rebuilt1.map((a) => a.name), ['tool'], 'exactly the removed unit');

    // leaf with feature b: bs links it, app links bs, and the bins link app.
    const leaf = live.find((u) => u.package === 'leaf' && JSON.stringify(u.features) === '["b"]')!;
    const r2 = cli(['clean', leaf.paths[0]!, '--yes']);
    assert.equal(r2.code, 0, r2.stderr);
    const rebuilt2 = rerun(ws, fx.commands[2]!).filter((a) => !a.fresh);
    assert.deepEqual(rebuilt2.map((a) => `${a.kind} ${a.name}`).sort(), ['bin app', 'bin tool', 'lib app', 'lib bs', 'lib leaf'], 'the unit and every unit above it');
    assert.deepEqual(rerun(ws, fx.commands[2]!).filter((a) => !a.fresh), []);
  });
});

// ------------------------------------------------------------------------------------------------------------
// A workspace whose build script waits until a file appears: the test decides when cargo finishes.

interface SlowWs {
  readonly ws: string;
  readonly target: string;
}

function slowWorkspace(name: string): SlowWs {
  const ws = path.join(tmp, name);
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'Cargo.toml'), '[package]\nname = "slow"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n[workspace]\n');
  fs.writeFileSync(path.join(ws, 'src', 'lib.rs'), 'pub fn one() -> u32 {\n    1\n}\n');
  fs.writeFileSync(
    path.join(ws, 'build.rs'),
    [
      '// Says it started (SLOW_STARTED), then waits until the file SLOW_GO exists: the test controls the build time.',
      'use std::{env, fs, path::Path, thread, time::Duration};',
      '',
      'fn main() {',
      '    println!("cargo::rerun-if-env-changed=SLOW_TOKEN");',
      '    let go = env::var("SLOW_GO").unwrap_or_default();',
      '    if let Ok(started) = env::var("SLOW_STARTED") {',
      '        fs::write(started, b"started").unwrap();',
      '    }',
      '    for _ in 0..6000 {',
      '        if go.is_empty() || Path::new(&go).exists() {',
      '            return;',
      '        }',
      '        thread::sleep(Duration::from_millis(20));',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  return { ws, target: path.join(ws, 'target') };
}

function cargoArgs(toolchain: 'stable' | 'nightly'): { args: string[]; env: Record<string, string> } {
  return toolchain === 'nightly' ? { args: ['+nightly', 'build', '-Zbuild-dir-new-layout', '--offline'], env: {} } : { args: ['build', '--offline'], env: {} };
}

function build(s: SlowWs, toolchain: 'stable' | 'nightly', token: string): void {
  const { args, env } = cargoArgs(toolchain);
  const r = spawnSync('cargo', args, { cwd: s.ws, env: cargoEnv({ ...env, SLOW_TOKEN: token }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Starts a build whose build script runs until `go()`; resolves once the script has started. */
async function startSlowBuild(s: SlowWs, toolchain: 'stable' | 'nightly', token: string): Promise<{ go(): Promise<number | null>; child: ChildProcessWithoutNullStreams; goFile: string }> {
  const started = path.join(s.ws, `started-${token}`);
  const goFile = path.join(s.ws, `go-${token}`);
  const { args, env } = cargoArgs(toolchain);
  const child = spawn('cargo', args, { cwd: s.ws, env: cargoEnv({ ...env, SLOW_TOKEN: token, SLOW_GO: goFile, SLOW_STARTED: started }) });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The build script writes `started` itself, so this wait ends exactly when cargo is mid-build.
  await new Promise<void>((resolve, reject) => {
    const w = fs.watch(s.ws, () => {
      if (fs.existsSync(started)) {
        w.close();
        resolve();
      }
    });
    child.on('close', () => {
      w.close();
      reject(new Error(`cargo ended before its build script started: ${stderr}`));
    });
    if (fs.existsSync(started)) {
      w.close();
      resolve();
    }
  });
  return {
    child,
    goFile,
    go: async () => {
      fs.writeFileSync(goFile, 'go');
      return exited;
    },
  };
}

describe('never next to a running cargo', () => {
  for (const toolchain of ['stable', 'nightly'] as const) {
    test(`a real ${toolchain} cargo build is running: refused with exit ${EXIT_BUSY}, nothing deleted`, async (t) => {
      if (toolchain === 'nightly' && spawnSync('cargo', ['+nightly', '--version'], { env: cargoEnv() }).status !== 0) return t.skip('no nightly toolchain');
      const s = slowWorkspace(`busy-${toolchain}`);
      build(s, toolchain, '1');
      const unitDirs = allUnits(await scan(s.target)).map((u) => u.paths[0]!);
      const b = await startSlowBuild(s, toolchain, '2');
      try {
        const r = cli(['clean', ...unitDirs, '--yes']);
        assert.equal(r.code, EXIT_BUSY, r.stdout + r.stderr);
        assert.match(r.stderr, /cargo is building in .*target\/debug; try again when it finishes/);
        for (const d of unitDirs) assert.ok(fs.existsSync(d), `${d} was not deleted`);
        // Mid-build, the units cargo is rebuilding have empty hash files: `--stale` finds them, and is refused too.
        const stale = cli(['clean', '--stale', s.ws, '--yes']);
        assert.equal(stale.code, EXIT_BUSY, stale.stdout + stale.stderr);
        assert.match(stale.stdout, /failed/);
        for (const d of unitDirs) assert.ok(fs.existsSync(d), `${d} was not deleted`);
      } finally {
        assert.equal(await b.go(), 0, 'the build finishes normally');
      }
      // Once cargo is done, the same clean goes through.
      const again = cli(['clean', unitDirs[0]!, '--yes']);
      assert.equal(again.code, 0, again.stderr);
    });
  }

  test('a lock held by flock(1) — exclusive or shared, on either lock file — refuses the clean', async (t) => {
    if (!fs.existsSync('/usr/bin/flock') && spawnSync('flock', ['--version']).status !== 0) return t.skip('flock(1) is not installed');
    const s = slowWorkspace('flocked');
    build(s, 'stable', '1');
    const unit = allUnits(await scan(s.target))[0]!.paths[0]!;
    for (const [file, mode] of [['.cargo-lock', '-s'], ['.cargo-lock', '-x'], ['.cargo-build-lock', '-s']] as const) {
      const holder = spawn('flock', [mode, path.join(s.target, 'debug', file), 'cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
      // `cat` echoes only once flock(1) holds the lock.
      await new Promise<void>((resolve) => {
        holder.stdout.once('data', () => resolve());
        holder.stdin.write('held\n');
      });
      try {
        const r = cli(['clean', unit, '--yes']);
        assert.equal(r.code, EXIT_BUSY, `${mode} ${file}: ${r.stderr}`);
        assert.ok(fs.existsSync(unit));
      } finally {
        holder.stdin.end();
        await new Promise((resolve) => holder.on('close', resolve));
      }
    }
  });

  test('no way to take cargo\'s locks: refused with exit 9, and why', async () => {
    const s = slowWorkspace('nolock');
    build(s, 'stable', '1');
    const unit = allUnits(await scan(s.target))[0]!.paths[0]!;
    // No native helper (the Node walker is forced) and no flock(1) on PATH.
    const r = spawnSync(process.execPath, [CLI, 'clean', unit, '--yes'], {
      encoding: 'utf8',
      env: { ...process.env, CARGO_BUILD_DIR_WALKER: 'node', PATH: path.join(tmp, 'empty-path') },
    });
    assert.equal(r.status, 9, r.stdout + r.stderr);
    assert.match(r.stderr, /no way to take cargo's locks here .*flock\(1\) is not installed/);
    assert.ok(fs.existsSync(unit));
  });

  test('both lock mechanisms see each other, and cargo\'s order is kept', async (t) => {
    const native = await createLocker({ only: 'native', build: true });
    const flock = await createLocker({ only: 'flock(1)' });
    if ('unavailable' in native || 'unavailable' in flock) return t.skip('needs the native helper and flock(1)');
    const dir = path.join(tmp, 'locks');
    fs.mkdirSync(path.join(dir, 'debug'), { recursive: true });
    const files = cargoLockFiles(dir, null, 'debug');
    assert.deepEqual(files.map((f) => f.name), ['.cargo-build-lock', '.cargo-lock']);
    for (const [first, second] of [[native, flock], [flock, native], [native, native]] as const) {
      const held = await first.acquire(files);
      assert.equal(held.kind, 'locked');
      const other = await second.acquire(files);
      assert.equal(other.kind, 'busy');
      assert.equal(other.kind === 'busy' && other.path, files[0]!.path, 'the first lock in cargo\'s order is the one found busy');
      if (held.kind === 'locked') await held.release();
      const now = await second.acquire(files);
      assert.equal(now.kind, 'locked', 'released');
      if (now.kind === 'locked') await now.release();
    }
    // The helper's lock code is this checkout's (a cached helper from other sources is rebuilt, not trusted).
    assert.match(fnv1a64Hex(fs.readFileSync(path.join(REPO_ROOT, 'native', 'src', 'lock.rs'))), /^[0-9a-f]{16}$/);
  });

  test('a cargo build killed mid-way leaves units with empty hash files: they are `failed`', async () => {
    const s = slowWorkspace('killed');
    build(s, 'stable', '1');
    const b = await startSlowBuild(s, 'stable', '2');
    b.child.kill('SIGKILL');
    await new Promise((resolve) => b.child.on('close', resolve));
    // The orphaned build script ends as soon as it may.
    fs.writeFileSync(b.goFile, 'go');
    const r = cli(['stale', s.ws, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const items = JSON.parse(r.stdout).items as { label: string; reasons: { reason: string; detail: string }[] }[];
    const failed = items.filter((i) => i.reasons.some((x) => x.reason === 'failed'));
    assert.ok(failed.length >= 1, JSON.stringify(items));
    assert.ok(failed.some((i) => /build script \(run\) slow/.test(i.label)), 'the build-script run that was killed');
  });
});

describe('never outside the build dir', () => {
  test('a unit folder that is a symbolic link to a folder outside: refused, the canary survives', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { ws, buildDir } = copyFixture(fx);
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(outside, 'fingerprint'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'canary'), 'alive');
    fs.writeFileSync(path.join(outside, 'fingerprint', 'lib-util'), '0123456789abcdef');
    const link = path.join(buildDir, 'debug', 'build', 'util', 'fedcba9876543210');
    fs.symlinkSync(outside, link);
    // A whole package folder as a link, with unit-shaped folders inside.
    const pkgOutside = path.join(tmp, 'outside-pkg');
    fs.mkdirSync(path.join(pkgOutside, '0011223344556677', 'fingerprint'), { recursive: true });
    fs.writeFileSync(path.join(pkgOutside, 'canary'), 'alive');
    fs.symlinkSync(pkgOutside, path.join(buildDir, 'debug', 'build', 'evil'));

    const r1 = cli(['clean', link, '--yes']);
    assert.equal(r1.code, EXIT_REFUSED, r1.stderr);
    assert.match(r1.stderr, /symbolic link/);
    const r2 = cli(['clean', path.join(buildDir, 'debug', 'build', 'evil', '0011223344556677'), '--yes']);
    assert.equal(r2.code, EXIT_REFUSED, r2.stderr);
    const r3 = cli(['clean', '--stale', ws, '--yes']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.ok(!r3.stdout.includes('fedcba9876543210') && !r3.stdout.includes('evil'), 'links are never in a plan');
    assert.equal(fs.readFileSync(path.join(outside, 'canary'), 'utf8'), 'alive');
    assert.equal(fs.readFileSync(path.join(pkgOutside, 'canary'), 'utf8'), 'alive');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link itself is left alone');
  });

  test('a unit replaced by a link between plan and execution: refused, the canary survives', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { buildDir } = copyFixture(fx);
    const s = await scan(buildDir);
    const unit = allUnits(s).find((u) => u.layout === 'v2' && u.package === 'util')!;
    const plan = await planClean(s, [unitItem(unit, buildDir, s.buildDirs[0]!.profiles[0]!.id, path.join(buildDir, 'debug'))], walker);
    const outside = path.join(tmp, 'outside-swap');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'canary'), 'alive');
    fs.renameSync(unit.paths[0]!, path.join(tmp, 'moved-away'));
    fs.symlinkSync(outside, unit.paths[0]!);
    const locker = await createLocker({ build: true });
    assert.ok(!('unavailable' in locker));
    const res = await executeClean(plan, { locker: locker as Locker });
    assert.equal(res.status, 'refused');
    assert.match(res.refused[0]!.message, /symbolic link|no longer where/);
    assert.equal(fs.readFileSync(path.join(outside, 'canary'), 'utf8'), 'alive');
  });

  test('`..`, odd names, and paths that are not units', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { ws, buildDir } = copyFixture(fx);
    // Built as a string: path.join would fold the `..` away before the cleaner ever saw it.
    const r1 = cli(['clean', `${buildDir}/debug/build/util/../../../..`, '--yes']);
    assert.equal(r1.code, EXIT_REFUSED);
    assert.match(r1.stderr, /contains `\.\.`/);
    const r2 = cli(['clean', ws + '/src', '--yes']);
    assert.ok(r2.code === EXIT_REFUSED || r2.code === 3, r2.stderr);
    const r3 = cli(['clean', path.join(buildDir, 'debug', 'build'), '--yes']);
    assert.equal(r3.code, EXIT_REFUSED, 'a folder of the layout that is not a unit');
    assert.match(r3.stderr, /not a unit/);
    const r4 = cli(['clean', os.homedir(), '--yes']);
    assert.equal(r4.code, EXIT_REFUSED);
    assert.ok(fs.existsSync(os.homedir()));

    // Unit-shaped folders under package names a shell would choke on: exactly they go, nothing else.
    const odd = ['-rf', 'a b', 'new\nline', '*', 'é ü'];
    const made: string[] = [];
    for (const [i, name] of odd.entries()) {
      const dir = path.join(buildDir, 'debug', 'build', name, `${i}`.repeat(16));
      fs.mkdirSync(path.join(dir, 'fingerprint'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'fingerprint', 'lib-x'), '0123456789abcdef');
      made.push(dir);
    }
    const before = listTree(buildDir);
    const r = cli(['clean', ...made, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const after = listTree(buildDir);
    const gone = before.filter((p) => !after.includes(p));
    for (const p of gone) assert.ok(made.some((m) => p === m || p.startsWith(m + path.sep)), `only the odd units went (${JSON.stringify(p)})`);
    for (const m of made) assert.ok(!fs.existsSync(m));
    for (const name of odd) assert.ok(fs.existsSync(path.join(buildDir, 'debug', 'build', name)), 'their package folders stay, as cargo leaves them');
  });

  test('a folder shaped like a build dir but without cargo\'s marks: refused, nothing deleted', () => {
    const fake = path.join(tmp, 'fake-target');
    const unit = path.join(fake, 'debug', 'build', 'x', '0123456789abcdef');
    fs.mkdirSync(path.join(unit, 'fingerprint'), { recursive: true });
    fs.writeFileSync(path.join(unit, 'fingerprint', 'lib-x'), '0123456789abcdef');
    fs.writeFileSync(path.join(unit, 'precious'), 'keep');
    const r = cli(['clean', unit, '--yes']);
    assert.equal(r.code, EXIT_REFUSED, r.stdout + r.stderr);
    assert.match(r.stderr, /neither \.rustc_info\.json nor CACHEDIR\.TAG|none of cargo's lock files/);
    assert.ok(fs.existsSync(path.join(unit, 'precious')));
    // With the root marks but no lock file in the profile folder: still not cargo's.
    fs.writeFileSync(path.join(fake, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n');
    const r2 = cli(['clean', unit, '--yes']);
    assert.equal(r2.code, EXIT_REFUSED, r2.stderr);
    assert.match(r2.stderr, /none of cargo's lock files/);
    assert.ok(fs.existsSync(path.join(unit, 'precious')));
    assert.ok(!fs.existsSync(path.join(fake, 'debug', '.cargo-lock')), 'no lock file was created where cargo never built');
  });
});

describe('the executor trusts nothing in the plan', () => {
  async function planOf(buildDir: string, pick: (u: Unit) => boolean): Promise<{ plan: CleanPlan; units: Unit[] }> {
    const s = await scan(buildDir);
    const units = allUnits(s).filter(pick);
    const { items, refused } = itemsForPaths(s, units.map((u) => u.paths[0]!));
    assert.deepEqual(refused, []);
    return { plan: await planClean(s, items, walker), units };
  }
  let locker: Locker;
  before(async () => {
    const l = await createLocker({ build: true });
    assert.ok(!('unavailable' in l), JSON.stringify(l));
    locker = l as Locker;
  });

  test('a path that changed after the plan is refused; the rest is cleaned; progress is reported', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { buildDir } = copyFixture(fx);
    const { plan, units } = await planOf(buildDir, (u) => u.layout === 'v2' && (u.package === 'util' || u.package === 'pmacro'));
    assert.ok(units.length >= 3);
    assert.ok(plan.bytes > 0 && plan.freedBytes > 0 && plan.freedBytes <= plan.bytes);
    const changed = units[0]!.paths[0]!;
    fs.writeFileSync(path.join(changed, 'new-file'), 'cargo wrote here after the plan');
    const phases: string[] = [];
    const res = await executeClean(plan, { locker, onProgress: (p) => phases.push(p.phase) });
    assert.equal(res.status, 'refused');
    assert.deepEqual(res.refused.map((r) => r.path), [changed]);
    assert.match(res.refused[0]!.message, /changed since the plan/);
    assert.ok(fs.existsSync(path.join(changed, 'new-file')));
    for (const u of units.slice(1)) assert.ok(!fs.existsSync(u.paths[0]!), `${u.id} removed`);
    assert.ok(phases.includes('locking') && phases.includes('deleting') && phases.at(-1) === 'done');
  });

  test('cancellation stops between items; a path that cannot be deleted is reported alone', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { buildDir } = copyFixture(fx);
    const { plan, units } = await planOf(buildDir, (u) => u.layout === 'legacy');
    let n = 0;
    const res = await executeClean(plan, { locker, isCancelled: () => n++ >= 2 });
    assert.equal(res.status, 'cancelled');
    assert.ok(res.skipped.length > 0);
    assert.equal(units.filter((u) => !fs.existsSync(u.paths[0]!)).length, 2, 'exactly the items before the cancellation');

    const immutable = units.find((u) => fs.existsSync(u.paths[0]!))!;
    const fp = immutable.paths[0]!;
    if (spawnSync('chattr', ['+i', fp]).status !== 0) return t.skip('chattr +i is not supported here');
    try {
      const again = await planOf(buildDir, (u) => u.layout === 'legacy');
      const r = await executeClean(again.plan, { locker });
      assert.equal(r.status, 'partial');
      assert.deepEqual(r.failed.map((f) => f.path), [fp]);
      assert.match(r.failed[0]!.message, /could not be moved aside: permission denied/);
      assert.ok(fs.existsSync(fp), 'left where it was');
      assert.ok(r.removed.length > 0, 'the others went');
      assert.ok(!fs.readdirSync(path.join(buildDir, 'debug')).some((x) => x.startsWith('.cargo-build-dir-clean-')));
      const cliRun = cli(['clean', fp, '--yes']);
      assert.equal(cliRun.code, EXIT_PARTIAL, cliRun.stderr);
    } finally {
      spawnSync('chattr', ['-i', fp]);
    }
  });

  test('--trash (Linux): the unit moves to the freedesktop trash with its .trashinfo', async (t) => {
    if (process.platform !== 'linux') return t.skip('the trash is supported on Linux only');
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const { buildDir } = copyFixture(fx);
    const { plan, units } = await planOf(buildDir, (u) => u.layout === 'v2' && u.package === 'leaf');
    const dataHome = path.join(tmp, 'xdg-data');
    const trash = createTrasher({ env: { ...process.env, XDG_DATA_HOME: dataHome } });
    assert.ok(!('unsupported' in trash));
    const res = await executeClean(plan, { locker, trash: trash as (p: string) => Promise<void> });
    assert.equal(res.status, 'done', res.message);
    assert.ok(res.trashed);
    const files = fs.readdirSync(path.join(dataHome, 'Trash', 'files')).sort();
    assert.deepEqual(files, units.map((u) => path.basename(u.paths[0]!)).sort());
    for (const u of units) {
      const info = fs.readFileSync(path.join(dataHome, 'Trash', 'info', `${path.basename(u.paths[0]!)}.trashinfo`), 'utf8');
      assert.match(info, /^\[Trash Info\]\nPath=\/.*\nDeletionDate=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\n$/);
      assert.equal(decodeURIComponent(/Path=(.*)/.exec(info)![1]!), u.paths[0]);
      assert.ok(!fs.existsSync(u.paths[0]!));
    }
    for (const platform of ['darwin', 'win32'] as const) assert.ok('unsupported' in createTrasher({ platform }), `${platform}: said, not attempted`);
  });
});
