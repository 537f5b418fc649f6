// Decoding one unit in full, on real fixtures: build-script output against what cargo reported it parsed,
// dep-info against the sources, cached compiler messages of a failed build, and the dependency graph
// rebuilt from fingerprints and hash files.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fixtureOrSkip, buildScriptRuns, REPO_ROOT, type BuiltFixture } from './helpers/fixtures';
import { createWalker } from '../src/node/walker';
import { scanBuildDirs } from '../src/core/scan';
import { readUnitDetails } from '../src/core/inspect';
import type { Unit } from '../src/core/model';
import type { Walker } from '../src/core/walk';

let walker: Walker;
before(async () => {
  walker = await createWalker({ build: true });
});
after(() => walker.close());

async function unitsOf(fx: BuiltFixture): Promise<Unit[]> {
  const r = await scanBuildDirs([{ path: fx.buildDir, role: 'both', discovery: 'given path' }], { walker });
  return r.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));
}

for (const name of ['legacy', 'v2'] as const) {
  test(`${name}: build-script runs decode to what cargo reported (cfgs, env, OUT_DIR)`, async (t) => {
    const fx = fixtureOrSkip(t, name);
    if (!fx) return;
    const units = await unitsOf(fx);
    const runs = buildScriptRuns(fx, 0);
    assert.ok(runs.length >= 2);
    for (const r of runs) {
      const u = units.find((x) => x.mode === 'run-custom-build' && x.hash === r.unit?.hash);
      assert.ok(u, `run unit for ${r.outDir}`);
      const d = readUnitDetails(u);
      assert.ok(d.buildScript, 'a run unit has build-script output');
      assert.equal(d.buildScript.outDir, r.outDir);
      assert.ok(d.buildScript.stdout?.ok, 'stdout readable');
      const directives = d.buildScript.stdout.value.parsed.directives;
      const cfgs = directives.filter((x) => x.category === 'cfg').map((x) => x.value);
      assert.deepEqual(cfgs.sort(), [...r.message.cfgs].sort(), `${r.packageName} cfgs`);
      const env = directives.flatMap((x) => (x.category === 'env' ? [[x.name, x.envValue]] : []));
      assert.deepEqual(env.sort(), r.message.env.map((e) => [...e]).sort(), `${r.packageName} env`);
      assert.ok(d.buildScript.rootOutput?.ok && d.buildScript.rootOutput.value === r.outDir, 'root-output is OUT_DIR');
      assert.ok(d.buildScript.ranAt !== null);
    }
  });

  test(`${name}: every fingerprint dependency resolves to a unit of the same folder`, async (t) => {
    const fx = fixtureOrSkip(t, name);
    if (!fx) return;
    const r = await scanBuildDirs([{ path: fx.buildDir, role: 'both', discovery: 'given path' }], { walker });
    let edges = 0;
    for (const p of r.buildDirs.flatMap((b) => b.profiles)) {
      // Host units of a --target build live in the host folder: resolve across the build dir's folders.
      const all = r.buildDirs.flatMap((b) => b.profiles.filter((q) => q.name === p.name).flatMap((q) => q.units));
      const byHash = new Map(all.filter((u) => u.fingerprintHash).map((u) => [u.fingerprintHash!, u]));
      for (const u of p.units) {
        for (const tgt of readUnitDetails(u).targets) {
          if (!tgt.json?.ok) continue;
          for (const dep of tgt.json.value.deps) {
            assert.ok(byHash.has(dep.hashHex), `${p.path}: ${u.package}/${u.hash} ${tgt.name} → ${dep.name} ${dep.hashHex} has no unit`);
            edges++;
          }
        }
      }
    }
    assert.ok(edges > 20, `${edges} edges`);
  });

  test(`${name}: dep-info of app's lib lists its sources and the generated OUT_DIR file`, async (t) => {
    const fx = fixtureOrSkip(t, name);
    if (!fx) return;
    const lib = (await unitsOf(fx)).find((u) => u.package === 'app' && u.kind === 'lib' && u.mode === 'build' && !u.paths[0]!.includes('release'));
    assert.ok(lib);
    const target = readUnitDetails(lib).targets.find((x) => x.name === 'lib-app');
    assert.ok(target?.depInfo?.ok, 'dep-info decodes');
    const files = target.depInfo.value.files;
    assert.ok(files.some((f) => f.base === 'package' && f.path === 'src/lib.rs'), JSON.stringify(files));
    assert.ok(files.some((f) => f.base === 'build' && f.path.endsWith('/out/gen.rs')), 'the include!d OUT_DIR file is a build-dir dependency');
  });
}

test('a failed build keeps its compiler messages, and show prints them', async (t) => {
  const fx = fixtureOrSkip(t, 'interrupted');
  if (!fx) return;
  const failed = (await unitsOf(fx)).find((u) => u.package === 'app' && u.kind === 'lib' && u.lastBuildFailed);
  assert.ok(failed);
  const msgs = readUnitDetails(failed).targets.find((x) => x.name === 'lib-app')?.messages;
  assert.ok(msgs?.ok);
  assert.ok(msgs.value.some((m) => m.level === 'error' && /broken on purpose/.test(m.message) && m.location?.startsWith('app/src/lib.rs')));
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'show', failed.paths[0]!], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /FAILED or was interrupted/);
  assert.match(r.stdout, /error: broken on purpose/);
});

test('show: JSON output, and clear errors outside a build dir', (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args], { encoding: 'utf8' });
  const unitDir = path.join(fx.buildDir, 'debug', 'build', 'bs');
  const ls = spawnSync('ls', [unitDir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  // A file deep inside a unit is enough to find the unit.
  const r = cli('show', path.join(unitDir, ls[0]!, 'fingerprint'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.schema, 1);
  assert.equal(j.unit.package, 'bs');
  assert.ok(Array.isArray(j.targets) && j.targets.length >= 1);
  assert.equal(cli('show', path.join(fx.workspace, 'app', 'src')).status, 4);
  assert.equal(cli('show', path.join(fx.buildDir, 'nope')).status, 3);
  assert.equal(cli('show').status, 2);
});
