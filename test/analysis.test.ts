// The `-Zbuild-analysis` log read back (src/core/analysis.ts) on real logs: scripts/fixtures.mjs `analysis` builds
// the sample with stable (RUSTC_BOOTSTRAP) and then nightly cargo into a CARGO_HOME of its own, edits a source
// file, then changes a feature. Statuses, reasons, durations and the unit folders each log unit is joined to are
// checked against the folders cargo's own JSON messages named for the same command. Damaged logs are small
// synthetic cases.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, reportedUnitFolders, buildScriptRuns, compilerArtifacts, type BuiltFixture } from './helpers/fixtures';
import { installed, useScanning, walker } from './helpers/scanning';
import { scanBuildDirs } from '../src/core/scan';
import {
  analysisSignals,
  analyzeBuild,
  describeCause,
  findBuildLogs,
  HOW_TO_ENABLE,
  lastBuildOf,
  parseBuildLog,
  parseLogTime,
  parsePackageIdSpec,
  type AnalyzedUnit,
  type BuildAnalysis,
  type BuildLog,
  type LogUnit,
} from '../src/core/analysis';
import { outDirsOf } from '../src/core/outdir';
import { renderBuildAnalysis, renderLastBuild } from '../src/core/render';
import type { ScanResult, Unit } from '../src/core/model';

useScanning();

interface Loaded {
  fx: BuiltFixture;
  scan: ScanResult;
  /** Oldest first, one per cargo command of the fixture. */
  logs: BuildLog[];
}

/** The fixture with its logs, or the test is skipped with the exact reason. */
async function load(t: import('node:test').TestContext): Promise<Loaded | null> {
  const fx = fixtureOrSkip(t, 'analysis');
  if (!fx) return null;
  const home = fx.cargoHome;
  assert.ok(home, 'the analysis fixture records its CARGO_HOME');
  const logs = findBuildLogs(home, fx.workspace).reverse();
  if (logs.length === 0) {
    t.skip(`cargo wrote no build-analysis log into ${path.join(home, 'log')} although every command passed -Zbuild-analysis with CARGO_BUILD_ANALYSIS_ENABLED=true: this cargo lacks the feature`);
    return null;
  }
  const scan = await scanBuildDirs([{ path: fx.buildDir, role: 'both', discovery: 'given path' }], { walker });
  return { fx, scan, logs };
}

const folderOf = (u: Unit): string => (u.layout === 'v2' ? `${u.package}/${u.hash}` : u.hash);
const find = (a: BuildAnalysis, label: string): AnalyzedUnit => {
  const u = a.units.find((x) => x.label === label);
  assert.ok(u, `${label} in ${a.units.map((x) => x.label).join('; ')}`);
  return u;
};

function checkJoin(a: BuildAnalysis, fx: BuiltFixture, command: number): void {
  const reported = reportedUnitFolders(fx, command);
  const onlyUplifted = new Set(
    compilerArtifacts(fx, command)
      .filter((x) => x.unit === null)
      .map((x) => `${x.packageName}:${x.message.target.name}:${x.message.target.kind.includes('bin') ? 'bin' : 'lib'}`),
  );
  const joined = new Set<string>();
  for (const u of a.units) {
    assert.ok(u.unit, `${u.label} is joined to a folder (${u.joinedBy})`);
    joined.add(folderOf(u.unit));
    // Bins and proc-macros are reported by cargo only through their uplifted copy, so only the others can be compared.
    if (!onlyUplifted.has(`${u.log.package}:${u.log.target.name}:${u.log.target.kind}`)) assert.ok(reported.has(folderOf(u.unit)), `${u.label} → ${folderOf(u.unit)}: cargo reported ${[...reported].join(', ')}`);
  }
  for (const f of reported) assert.ok(joined.has(f), `cargo's ${f} is joined to a log unit`);
}

describe('analysis fixture (real -Zbuild-analysis logs)', () => {
  test('one log per command, found by workspace, newest last build', async (t) => {
    const l = await load(t);
    if (!l) return;
    assert.equal(l.logs.length, l.fx.commands.length);
    l.logs.forEach((log, i) => {
      assert.equal(log.workspaceRoot, l.fx.workspace);
      assert.ok(log.command.includes('-Zbuild-analysis'), log.command.join(' '));
      assert.deepEqual(log.problems, []);
      assert.ok(log.complete);
      assert.equal(log.rustcVersion?.includes('nightly') ?? false, l.fx.commands[i]!.toolchain === 'nightly');
    });
    const last = lastBuildOf(l.fx.cargoHome!, l.fx.workspace);
    assert.equal(last.kind, 'found');
    if (last.kind === 'found') assert.equal(last.log.runId, l.logs[l.logs.length - 1]!.runId);
    const other = lastBuildOf(l.fx.cargoHome!, path.join(l.fx.workspace, 'app'));
    assert.equal(other.kind, 'no-build-here');
  });

  test('first build: everything new, first build of each unit, joined to the folders cargo reported', async (t) => {
    const l = await load(t);
    if (!l) return;
    const a = analyzeBuild(l.logs[0]!, l.scan, { toolchains: installed });
    assert.ok(a.units.every((u) => u.status === 'new' && /^first build/.test(u.reason ?? '')));
    checkJoin(a, l.fx, 0);
  });

  test('stable then nightly: every unit new, because the toolchain changed', async (t) => {
    const l = await load(t);
    if (!l) return;
    const a = analyzeBuild(l.logs[1]!, l.scan, { toolchains: installed });
    checkJoin(a, l.fx, 1);
    for (const u of a.units) {
      assert.equal(u.status, 'new');
      assert.match(u.reason ?? '', /toolchain changed from .*1\.\d+\.\d+.* to .*nightly/, u.label);
    }
    if (installed.some((x) => x.name.startsWith('stable'))) assert.match(find(a, 'lib util (default, fancy)').reason!, /from stable 1\.\d+\.\d+ to nightly/);
  });

  test('util/src/lib.rs edited: util rebuilt with the file named, dependents rebuilt because of it, bs fresh', async (t) => {
    const l = await load(t);
    if (!l) return;
    const a = analyzeBuild(l.logs[2]!, l.scan, { toolchains: installed });
    checkJoin(a, l.fx, 2);
    for (const label of ['lib util (default, fancy)', 'lib util (default, plain)']) {
      const u = find(a, label);
      assert.equal(u.status, 'rebuilt');
      assert.equal(u.reason, 'src/lib.rs changed');
      assert.ok(u.durationMs !== null && u.durationMs > 0);
      assert.match(u.joinedBy, /fingerprint folder cargo named/);
    }
    assert.equal(find(a, 'lib app').reason, 'dependency build script (run) app was rebuilt');
    assert.equal(find(a, 'build script (compile) app').reason, 'dependency lib util (default, plain) was rebuilt');
    for (const label of ['lib bs', 'lib pmacro', 'build script (run) bs']) assert.equal(find(a, label).status, 'fresh');
    assert.deepEqual(
      a.rebuilt.map((u) => u.label).sort(),
      a.units
        .filter((u) => u.status === 'rebuilt')
        .map((u) => u.label)
        .sort(),
    );
    for (let i = 1; i < a.slowest.length; i++) assert.ok(a.slowest[i - 1]!.durationMs! >= a.slowest[i]!.durationMs!);
    assert.match(a.summary, /^11 units: 7 rebuilt, 0 new, 4 fresh; the build took/);
    const text = renderBuildAnalysis(a);
    assert.match(text, /lib util \(default, fancy\) {2}rebuilt .*\n {4}src\/lib\.rs changed/);
    assert.match(text, /slowest:/);
  });

  test('app asks util for feature extra too: the new util unit says which features changed, dependents name util', async (t) => {
    const l = await load(t);
    if (!l) return;
    const a = analyzeBuild(l.logs[3]!, l.scan, { toolchains: installed });
    checkJoin(a, l.fx, 3);
    const util = find(a, 'lib util (default, extra, fancy)');
    assert.equal(util.status, 'new');
    assert.match(util.reason!, /^a new unit folder: features changed from default, fancy to default, extra, fancy/);
    assert.match(find(a, 'lib app').reason!, /dependency util changed: features default, fancy → features default, extra, fancy/);
    assert.equal(find(a, 'lib util (default, plain)').status, 'fresh');
    assert.equal(a.rebuilt.length, 4);
  });

  test('the last logged build is evidence for the current OUT_DIR', async (t) => {
    const l = await load(t);
    if (!l) return;
    const a = analyzeBuild(l.logs[l.logs.length - 1]!, l.scan);
    const sets = outDirsOf(l.scan, 'app', { signals: analysisSignals(a) });
    const s = sets.find((x) => x.profile === 'debug' && x.platform === null)!;
    assert.equal(s.currentSource, 'build-log');
    assert.equal(s.current?.outDir, buildScriptRuns(l.fx, l.fx.commands.length - 1).find((r) => r.packageName === 'app')?.outDir);
  });
});

// ------------------------------------------------------------------------------------------------------------
// Damaged and missing logs

const RUN = '20260101T000000000Z-0123456789abcdef';
const line = (o: Record<string, unknown>): string => JSON.stringify({ run_id: RUN, timestamp: '2026-01-01T00:00:00.123456789Z', ...o });
const started = line({ reason: 'build-started', command: ['cargo', 'build'], profile: 'dev', workspace_root: '/ws', rustc_version: '1.97.0-nightly' });
const registered = line({ reason: 'unit-registered', package_id: 'path+file:///ws/util#0.2.0', target: { name: 'util', kind: 'lib' }, mode: 'build', platform: 'x', index: 0, features: ['a'] });

describe('damaged logs', () => {
  test('a cut-off last line, garbage, values without a reason, events of unknown units: problems, no exception', () => {
    const text = [
      started,
      'garbage {',
      '42',
      '[]',
      registered,
      line({ reason: 'unit-fingerprint', index: 0, status: 'dirty', cause: { dirty_reason: 'rustc-changed' } }),
      line({ reason: 'unit-started', index: 0, elapsed: 0.5 }),
      line({ reason: 'unit-finished', index: 7, elapsed: 1 }),
      line({ reason: 'unit-fingerprint', index: 0, status: 'weird' }),
      JSON.stringify({ run_id: 'other', reason: 'unit-started', index: 0 }),
      line({ reason: 'a-reason-from-the-future', index: 0 }),
      '{"run_id":"' + RUN + '","reason":"unit-fini',
    ].join('\n');
    const log = parseBuildLog(text, `/x/${RUN}.jsonl`);
    assert.equal(log.runId, RUN);
    assert.equal(log.units.length, 1);
    assert.equal(log.units[0]!.status, 'dirty');
    assert.equal(log.complete, false, 'started, never finished');
    const messages = log.problems.map((p) => `${p.line}: ${p.message}`).join('\n');
    assert.match(messages, /^2: not JSON/m);
    assert.match(messages, /^3: a JSON value without a `reason`/m);
    assert.match(messages, /^8: unit-finished for an unregistered unit 7/m);
    assert.match(messages, /^9: unknown fingerprint status "weird"/m);
    assert.match(messages, /^10: an event of another run/m);
    assert.match(messages, /^12: the last line is cut off/m);
    const a = analyzeBuild(log, { workspaceRoot: null, buildDirs: [], problems: [], walker: 'node' });
    assert.equal(a.units[0]!.reason, 'the toolchain changed');
    assert.equal(a.units[0]!.unit, null);
    assert.match(a.units[0]!.joinedBy, /no unit folder/);
    assert.match(renderBuildAnalysis(a), /log problem \(line 12\)/);
  });

  test('empty text, only garbage, random bytes: never throws', () => {
    assert.equal(parseBuildLog('').units.length, 0);
    assert.match(parseBuildLog('').problems[0]!.message, /no build-started/);
    let seed = 7;
    for (let n = 0; n < 50; n++) {
      const bytes = Buffer.alloc(400);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      const text = `${started}\n${registered}\n${bytes.toString('latin1')}\n${registered.slice(0, n * 3)}`;
      assert.doesNotThrow(() => analyzeBuild(parseBuildLog(text), { workspaceRoot: null, buildDirs: [], problems: [], walker: 'node' }));
    }
    assert.ok(parseBuildLog('x\n'.repeat(1000)).problems.length <= 22, 'problems are capped (20 listed, a count of the rest, a missing build-started)');
  });

  test('no log folder, an empty one, logs of another workspace: how to enable', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-home-'));
    try {
      const none = lastBuildOf(home, '/ws');
      assert.equal(none.kind, 'no-logs');
      if (none.kind === 'no-logs') {
        assert.match(none.howToEnable, /-Zbuild-analysis/);
        assert.match(none.howToEnable, /CARGO_BUILD_ANALYSIS_ENABLED=true/);
        assert.match(none.howToEnable, /build\.analysis\.enabled = true/);
        assert.match(renderLastBuild(none, null), /no build-analysis log in .*\n\nCargo writes build-analysis logs only on nightly/);
      }
      fs.mkdirSync(path.join(home, 'log'));
      assert.equal(lastBuildOf(home, '/ws').kind, 'no-logs');
      fs.writeFileSync(path.join(home, 'log', `${RUN}.jsonl`), `${started}\n`);
      fs.writeFileSync(path.join(home, 'log', 'not-a-log.txt'), 'x');
      assert.equal(lastBuildOf(home, '/ws').kind, 'found');
      const other = lastBuildOf(home, '/elsewhere');
      assert.equal(other.kind, 'no-build-here');
      assert.equal(HOW_TO_ENABLE.length > 0, true);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('every DirtyReason cargo can write has words; unknown ones are named', () => {
    const unit: LogUnit = parseBuildLog(`${started}\n${registered}\n`).units[0]!;
    const name = (i: unknown): string => `#${String(i)}`;
    const causes: Record<string, unknown>[] = [
      { dirty_reason: 'rustc-changed' },
      { dirty_reason: 'features-changed', old: '["a"]', new: '["a", "b"]' },
      { dirty_reason: 'declared-features-changed', old: '[]', new: '["x"]' },
      { dirty_reason: 'target-configuration-changed' },
      { dirty_reason: 'path-to-source-changed' },
      { dirty_reason: 'profile-configuration-changed' },
      { dirty_reason: 'rustflags-changed', old: [], new: ['--cfg', 'x'] },
      { dirty_reason: 'config-settings-changed' },
      { dirty_reason: 'compile-kind-changed' },
      { dirty_reason: 'local-lengths-changed' },
      { dirty_reason: 'precalculated-components-changed', old: '1', new: '2' },
      { dirty_reason: 'fingerprint-method-changed', old: 'mtime', new: 'content' },
      { dirty_reason: 'dep-info-output-changed', old: 'a', new: 'b' },
      { dirty_reason: 'rerun-if-changed-output-file-changed', old: 'a', new: 'b' },
      { dirty_reason: 'rerun-if-changed-output-paths-changed', old: ['a'], new: ['b'] },
      { dirty_reason: 'env-vars-changed', old: '', new: '' },
      { dirty_reason: 'env-var-changed', name: 'V', old_value: null, new_value: '1' },
      { dirty_reason: 'local-fingerprint-type-changed', old: 'a', new: 'b' },
      { dirty_reason: 'number-of-dependencies-changed', old: 1, new: 2 },
      { dirty_reason: 'unit-dependency-name-changed', old: 'a', new: 'b' },
      { dirty_reason: 'unit-dependency-info-changed', unit: 3 },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale' },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale-dependency', unit: 2, dep_mtime: 1, max_mtime: 0 },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale-dep-fingerprint', unit: 2 },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale-item', stale_item: 'missing-file', path: '/ws/util/build.rs' },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale-item', stale_item: 'changed-env', var: 'V', previous: 'a', current: null },
      { dirty_reason: 'fs-status-outdated', fs_status: 'stale-item', stale_item: 'file-size-changed', path: '/ws/x', old_size: 1, new_size: 2 },
      { dirty_reason: 'nothing-obvious' },
      { dirty_reason: 'forced' },
    ];
    const words = causes.map((c) => describeCause(c, unit, name, '/ws'));
    for (const [i, w] of words.entries()) assert.ok(w.length > 8 && !/undefined/.test(w), `${JSON.stringify(causes[i])} → ${w}`);
    assert.equal(words[1], 'features changed from a to a, b');
    assert.equal(words[6], 'RUSTFLAGS changed from none to --cfg x');
    assert.equal(words[16], 'environment variable V changed from unset to "1"');
    assert.equal(words[23], 'dependency #2 was rebuilt');
    assert.equal(words[24], 'build.rs is missing', 'relative to the package root from the package id');
    assert.equal(describeCause({ dirty_reason: 'from-the-future' }, unit, name, null), "cargo's reason: from-the-future");
    assert.equal(describeCause(null, unit, name, null), 'cargo gave no reason');
  });

  test('package ids and timestamps', () => {
    assert.deepEqual(parsePackageIdSpec('path+file:///ws/app#0.3.1'), { name: 'app', version: '0.3.1', root: '/ws/app' });
    assert.deepEqual(parsePackageIdSpec('path+file:///ws/dir#app@0.3.1'), { name: 'app', version: '0.3.1', root: '/ws/dir' });
    assert.deepEqual(parsePackageIdSpec('registry+https://github.com/rust-lang/crates.io-index#cfg-if@0.1.10'), { name: 'cfg-if', version: '0.1.10', root: null });
    assert.equal(parseLogTime('2026-11-23T13:40:21.217926215Z'), Date.UTC(2026, 10, 23, 13, 40, 21, 217));
    assert.equal(parseLogTime('2026-11-23T13:40:21Z'), Date.UTC(2026, 10, 23, 13, 40, 21));
    assert.equal(parseLogTime('yesterday'), null);
    assert.equal(parseLogTime(5), null);
  });
});
