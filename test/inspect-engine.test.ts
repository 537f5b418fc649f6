// The Inspect engine (issue 5) on build dirs real cargo made (scripts/fixtures.mjs `outdirs`, `v2`): which OUT_DIR
// is current when an older run is the one in use again, the build-script run report against what cargo printed
// and what is on disk, the fingerprint explained with the installed toolchains, and unit comparisons. Small
// synthetic cases check that damaged files give problems in words, never exceptions.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, buildScriptRuns, type BuiltFixture } from './helpers/fixtures';
import { installed, scanOf, useScanning } from './helpers/scanning';
import { readUnitDetails } from '../src/core/inspect';
import { outDirsOf, readUpliftSignals } from '../src/core/outdir';
import { buildRunReport, findPackageRoot, parseRustcDepFile } from '../src/core/buildrun';
import { explainFingerprint, nameToolchain } from '../src/core/explain';
import { compareUnits, describeChange } from '../src/core/compare';
import { renderBuildRun, renderComparison, renderExplanation, renderOutDirs } from '../src/core/render';
import type { ScanResult, Unit } from '../src/core/model';

useScanning();

const unitsOf = (s: ScanResult): Unit[] => s.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));
const inDebug = (u: Unit): boolean => u.id.includes('#host/debug/');

/** cargo's OUT_DIR for `pkg` as printed by command `i` (build-script-executed is printed for fresh runs too). */
function cargoOutDir(fx: BuiltFixture, i: number, pkg: string): string {
  const r = buildScriptRuns(fx, i).find((x) => x.packageName === pkg);
  assert.ok(r, `command ${i} reported no build-script run for ${pkg}`);
  return r.outDir;
}

describe('outdirs fixture: current OUT_DIR', () => {
  test('an env change with rerun-if-env-changed reruns the script in the same OUT_DIR; a feature change makes a second one', (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    assert.equal(cargoOutDir(fx, 0, 'bs'), cargoOutDir(fx, 1, 'bs'), 'BS_MODE unset → one: same run unit');
    assert.notEqual(cargoOutDir(fx, 2, 'bs'), cargoOutDir(fx, 1, 'bs'), '--features bs/extra: another run unit');
    assert.equal(cargoOutDir(fx, 3, 'bs'), cargoOutDir(fx, 1, 'bs'), 'back without the feature: the first one again');
  });

  test('the current OUT_DIR is the one the last build used, although the other ran later', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const last = fx.commands.length - 1;
    for (const pkg of ['bs', 'app']) {
      const sets = outDirsOf(scan, pkg).filter((s) => s.platform === null && s.profile === 'debug');
      assert.equal(sets.length, 1, `${pkg}: one profile folder`);
      const s = sets[0]!;
      assert.equal(s.current?.outDir, cargoOutDir(fx, last, pkg), `${pkg}: current = what cargo's last build printed`);
      assert.deepEqual(
        s.older.map((o) => o.outDir),
        [cargoOutDir(fx, 2, pkg)],
        `${pkg}: the --features run is listed as older`,
      );
      assert.ok((s.older[0]!.ranAt ?? 0) > (s.current!.ranAt ?? Infinity), `${pkg}: the older entry ran later: picking the newest folder would be wrong`);
      assert.equal(s.currentSource, 'uplifted');
      assert.match(s.currentReason, /hard link/);
      assert.match(renderOutDirs(sets), /current {2}.*\n.*\n {2}why: .*\n {2}older/);
    }
  });

  test('without the uplift evidence the newest build wins (why the target dir is read)', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    assert.ok(readUpliftSignals(scan).some((s) => s.unit.package === 'app' && s.unit.kind === 'lib'));
    const s = outDirsOf(scan, 'bs', { readUplifted: false }).find((x) => x.profile === 'debug' && x.platform === null)!;
    assert.equal(s.currentSource, 'newest-build');
    assert.equal(s.current?.outDir, cargoOutDir(fx, 2, 'bs'));
  });

  test('the include!d OUT_DIR file of app is in the current OUT_DIR, and the explained lib says so', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const current = outDirsOf(scan, 'app').find((x) => x.profile === 'debug' && x.platform === null)!.current!;
    const lib = readUpliftSignals(scan).find((s) => s.unit.package === 'app' && s.unit.kind === 'lib')!.unit;
    const e = explainFingerprint(readUnitDetails(lib), { scan, toolchains: installed });
    const t0 = e.targets.find((x) => x.name === 'lib-app')!;
    const gen = t0.sources.find((s) => s.path.endsWith('/out/gen.rs'));
    assert.ok(gen, JSON.stringify(t0.sources));
    assert.equal(gen.absolute, path.join(current.outDir, 'gen.rs'));
    assert.equal(gen.exists, true);
    const src = t0.sources.find((s) => s.base === 'package' && s.path === 'src/lib.rs');
    assert.equal(src?.absolute, path.join(fx.workspace, 'app', 'src', 'lib.rs'));
    const run = t0.deps.find((d) => d.name === 'build_script_build');
    assert.equal(run?.unit?.id, current.unit.id, 'the build_script_build dependency is the current run');
    for (const d of t0.deps) assert.ok(d.unit, `dependency ${d.name} resolves to a unit`);
    if (installed.length) {
      assert.equal(e.toolchain.installed, true);
      assert.match(e.toolchain.words, /^stable 1\.\d+/);
    }
    const text = renderExplanation(e);
    assert.match(text, /toolchain: /);
    assert.match(text, /built against:/);
    assert.match(text, /gen\.rs/);
  });
});

describe('outdirs fixture: build-script run report', () => {
  test('bs: directives grouped, stderr of the second run, env recorded, a deleted rerun-if-changed input', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const s = outDirsOf(scan, 'bs').find((x) => x.profile === 'debug' && x.platform === null)!;
    const r = buildRunReport(readUnitDetails(s.current!.unit), { scan });
    assert.equal(r.packageRoot.path, path.join(fx.workspace, 'bs'), r.packageRoot.how);
    assert.equal(r.outDir, cargoOutDir(fx, 3, 'bs'));
    assert.ok(r.stderr?.ok && r.stderr.value.includes('bs: BS_MODE=one'), 'stderr of the BS_MODE=one run');
    assert.deepEqual(r.rerunIfEnvChanged.map((e) => [e.name, e.valueAtRun]), [['BS_MODE', 'one']]);
    const byPath = new Map(r.rerunIfChanged.map((p) => [p.path, p.exists]));
    assert.equal(byPath.get('data.txt'), true);
    assert.equal(byPath.get('extra-input.txt'), false, 'deleted after the builds');
    assert.match(r.rerunRule, /extra-input\.txt no longer exists/);
    assert.deepEqual(r.linkSearch, [{ kind: 'native', path: r.outDir }]);
    assert.deepEqual(
      r.metadata.map((m) => [m.key, m.value, m.syntax]),
      [
        ['KEY', 'value-from-links', 'old'],
        ['other', 'meta2', 'new'],
      ],
    );
    assert.ok(r.ranAt !== null && r.ranAt <= s.older[0]!.ranAt!);
    const text = renderBuildRun(r);
    assert.match(text, /extra-input\.txt {2}MISSING/);
    assert.match(text, /BS_MODE \(was "one" when it ran\)/);
  });

  test('app: cfgs and check-cfgs match what cargo reported, relative rerun path found', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const s = outDirsOf(scan, 'app').find((x) => x.profile === 'debug' && x.platform === null)!;
    const r = buildRunReport(readUnitDetails(s.current!.unit), { scan });
    const msg = buildScriptRuns(fx, 3).find((x) => x.packageName === 'app')!.message;
    assert.deepEqual(r.cfgs, [...msg.cfgs]);
    assert.deepEqual(r.checkCfgs, ['cfg(app_generated)']);
    assert.deepEqual(r.rerunIfChanged.map((p) => [p.path, p.exists]), [['build.rs', true]]);
    assert.match(r.rerunRule, /only when build\.rs changes/);
  });

  test('registry package (Debian directory source): the package root is its name-version folder', async (t) => {
    const fx = fixtureOrSkip(t, 'registry');
    if (!fx) return;
    const scan = await scanOf(fx);
    const run = unitsOf(scan).find((u) => u.package === 'libc' && u.mode === 'run-custom-build');
    assert.ok(run);
    const root = findPackageRoot(run, scan);
    assert.ok(root.path && /libc-0\.2\.\d+$/.test(root.path), root.how);
    assert.ok(fs.existsSync(path.join(root.path, 'build.rs')));
  });
});

describe('unit comparison', () => {
  test('util built with two feature sets: the features row, and only rows that differ', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const util = unitsOf(scan).filter((u) => u.package === 'util' && u.kind === 'lib' && u.mode === 'build' && inDebug(u));
    assert.equal(util.length, 2, util.map((u) => u.features?.join('+')).join(' '));
    const c = compareUnits(util, { scan, toolchains: installed });
    const features = c.rows.find((r) => r.key === 'features');
    assert.ok(features);
    assert.deepEqual([...features.values].sort(), ['default, fancy', 'default, plain']);
    for (const r of c.rows) assert.ok(new Set(r.values).size > 1, `row ${r.key} differs`);
    assert.ok(!c.rows.some((r) => ['mode', 'profile', 'platform', 'toolchain', 'rustflags'].includes(r.key)));
    assert.match(c.summary, /^the 2 units of util differ in features/);
    assert.match(renderComparison(c), /features +default, (plain|fancy) {2}\| {2}default, (plain|fancy)/);
  });

  test('app lib built against bs with and without a feature: the dependency row', async (t) => {
    const fx = fixtureOrSkip(t, 'outdirs');
    if (!fx) return;
    const scan = await scanOf(fx);
    const app = unitsOf(scan).filter((u) => u.package === 'app' && u.kind === 'lib' && u.mode === 'build' && inDebug(u));
    assert.equal(app.length, 2);
    const c = compareUnits(app, { scan, toolchains: installed });
    const bs = c.rows.find((r) => r.key === 'dep:bs');
    assert.ok(bs, JSON.stringify(c.rows));
    assert.ok(bs.values.some((v) => v.startsWith('features extra')) && bs.values.some((v) => v.startsWith('features none')));
    assert.ok(!c.rows.some((r) => r.key === 'features'), 'app itself has the same (no) features');
    const [older, newer] = [...app].sort((a, b) => (a.builtAt ?? 0) - (b.builtAt ?? 0)) as [Unit, Unit];
    const words = describeChange(older, newer, { scan });
    assert.ok(words.some((w) => /^dependency bs changed: features none → features extra$/.test(w)), words.join(' / '));
  });

  test('a debug and a release unit: profile row; refuses fewer than two units or two packages', async (t) => {
    const fx = fixtureOrSkip(t, 'v2');
    if (!fx) return;
    const scan = await scanOf(fx);
    const units = unitsOf(scan);
    const pm = units.filter((u) => u.package === 'pmacro' && u.kind === 'proc-macro' && u.mode === 'build');
    const dbg = pm.find((u) => u.id.includes('#host/debug/'));
    const rel = pm.find((u) => u.id.includes('#host/release/'));
    assert.ok(dbg && rel);
    const c = compareUnits([dbg, rel], { scan });
    assert.deepEqual(c.rows.find((r) => r.key === 'profile')?.values, ['debug', 'release']);
    assert.throws(() => compareUnits([dbg], { scan }), /at least two/);
    const other = units.find((u) => u.package === 'util')!;
    assert.throws(() => compareUnits([dbg, other], { scan }), /different packages/);
  });
});

// ------------------------------------------------------------------------------------------------------------
// Damaged input

function fakeUnit(dir: string, mode: Unit['mode'], extra: Partial<Unit> = {}): Unit {
  return {
    id: `fake/host/debug/pkg/${path.basename(dir)}`,
    package: 'pkg',
    hash: path.basename(dir),
    layout: 'v2',
    kind: mode === 'run-custom-build' ? 'build-script' : 'lib',
    mode,
    target: mode === 'run-custom-build' ? 'build-script-build' : 'pkg',
    features: null,
    version: null,
    source: null,
    paths: [dir],
    parts: [],
    bytes: 0,
    freedBytes: 0,
    builtAt: null,
    lastBuildFailed: false,
    fingerprintHash: null,
    rustc: null,
    deps: [],
    fingerprintFiles: [],
    stale: [],
    problems: [],
    ...extra,
  };
}

function fakeScan(units: Unit[], buildDir: string): ScanResult {
  return {
    workspaceRoot: null,
    walker: 'node',
    problems: [],
    buildDirs: [
      {
        id: buildDir,
        path: buildDir,
        role: 'both',
        discovery: 'given path',
        exists: true,
        bytes: 0,
        other: [],
        profiles: [{ id: `${buildDir}/host/debug`, name: 'debug', platform: null, path: path.join(buildDir, 'debug'), layouts: ['v2'], units, packages: [], incremental: [], other: [], bytes: 0, locks: [] }],
      },
    ],
  };
}

describe('damaged input', () => {
  test('a run unit with binary garbage as stdout and no stderr: a report with problems, no exception', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-inspect-'));
    try {
      const dir = path.join(tmp, 'debug', 'build', 'pkg', '0123456789abcdef');
      fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'fingerprint'));
      fs.writeFileSync(path.join(dir, 'run', 'stdout'), Buffer.from([0, 255, 10, 99, 97, 114, 103, 111, 58, 58, 10, 0x63, 0x61, 0x72, 0x67, 0x6f, 0x3a, 0x3a, 0x77, 0x61, 0x74, 0x3d, 0x31]));
      fs.writeFileSync(path.join(dir, 'fingerprint', 'run-build-script-build-script-build.json'), '{"rustc":1,');
      fs.writeFileSync(path.join(dir, 'fingerprint', 'run-build-script-build-script-build'), '');
      const u = fakeUnit(dir, 'run-custom-build');
      const r = buildRunReport(readUnitDetails(u), { scan: fakeScan([u], tmp) });
      assert.equal(r.packageRoot.path, null);
      assert.equal(r.stderr, null);
      assert.ok(r.invalid.length >= 1, 'cargo:: without = and an unknown key are lines cargo rejects');
      assert.match(r.rerunRule, /no rerun-if line/);
      assert.match(renderBuildRun(r), /lines cargo rejects/);
      const e = explainFingerprint(readUnitDetails(u), { scan: fakeScan([u], tmp), toolchains: null });
      assert.equal(e.targets[0]?.state, 'empty');
      assert.ok(e.targets[0]?.problems.some((p) => /JSON unreadable/.test(p)));
      assert.match(renderExplanation(e), /failed or was interrupted/);
      assert.throws(() => buildRunReport(readUnitDetails(fakeUnit(dir, 'build'))), /not a build-script run/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('a missing run folder: every file is reported absent', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-inspect-'));
    try {
      const u = fakeUnit(path.join(tmp, 'debug', 'build', 'pkg', 'fedcba9876543210'), 'run-custom-build');
      const r = buildRunReport(readUnitDetails(u), { packageRoot: { path: tmp, how: 'given' } });
      assert.deepEqual(r.problems, ['the script output file is missing']);
      assert.equal(r.ranAt, null);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('rustc .d files: escaped spaces, Windows drive letters, garbage', () => {
    assert.deepEqual(parseRustcDepFile('/t/out/x.d: a/src/lib.rs /b\\ c/gen.rs\n\na/src/lib.rs:\n'), { target: '/t/out/x.d', deps: ['a/src/lib.rs', '/b c/gen.rs'] });
    assert.deepEqual(parseRustcDepFile('C:\\t\\x.d: C:\\w\\a\\src\\lib.rs\n')?.deps, ['C:\\w\\a\\src\\lib.rs']);
    assert.equal(parseRustcDepFile(''), null);
    assert.equal(parseRustcDepFile('no rule here'), null);
  });

  test('toolchain naming: installed, recorded, unknown', () => {
    const verbose = 'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860\ncommit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n';
    assert.equal(nameToolchain('7458672600737419911', [{ name: 'stable-x86_64-unknown-linux-gnu', verbose }]).name, 'stable 1.95.0');
    const rec = nameToolchain('1', [{ name: 'stable', verbose }], new Map([['1', 'rustc 1.80.0 (abc 2024-07-21)']]));
    assert.equal(rec.installed, false);
    assert.match(rec.words, /rustc 1\.80\.0 .*not installed/);
    assert.equal(nameToolchain('2', null).installed, null);
    assert.equal(nameToolchain(null, null).name, null);
  });
});
