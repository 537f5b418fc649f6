// Partial refreshes against real cargo: on a copy of a fixture workspace, cargo changes the build dir for real
// (a member edited and rebuilt, a feature added, a build script rerun, `cargo clean -p`, `cargo clean`, a new
// profile), the changed paths are collected with `find -newer`, and the refreshed model must deep-equal a full
// scan of the same folders — sizes, freed bytes and bucket totals included — while `changed` names exactly the
// packages whose objects differ and the walks stay proportional to what changed.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, type FixtureName } from './helpers/fixtures';
import { locateBuildDirs } from '../src/node/cargo';
import { createWalker } from '../src/node/walker';
import { scanBuildDirs, type BuildDirLocationLike, type ScanOptions } from '../src/core/scan';
import { applyRefresh, changeScope, scanForRefresh } from '../src/core/refresh';
import { planBuildDir, planBuildDirShell, planPackageBuckets, planProfileShell } from '../src/core/layout';
import type { Profile, ScanResult, Unit } from '../src/core/model';
import type { ReadRequest, ReadResult, WalkRequest, WalkResult, Walker } from '../src/core/walk';

let walker: Walker;
before(async () => {
  walker = await createWalker({ build: true });
});
after(() => walker.close());

/** Counts what the refresh asks the walker for, to check that its cost follows what changed. */
class CountingWalker implements Walker {
  requests: WalkRequest[] = [];
  constructor(private readonly inner: Walker) {}
  get name(): string {
    return this.inner.name;
  }
  walk(r: readonly WalkRequest[]): Promise<WalkResult[]> {
    this.requests.push(...r);
    return this.inner.walk(r);
  }
  read(r: readonly ReadRequest[]): Promise<ReadResult[]> {
    return this.inner.read(r);
  }
  close(): void {}
}

interface Workspace {
  readonly dir: string;
  readonly layout: 'v2' | 'legacy';
  readonly locations: readonly BuildDirLocationLike[];
  readonly opts: Omit<ScanOptions, 'walker'>;
}

const temps: string[] = [];
after(() => {
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

/** A copy of the fixture's workspace with its build dir (`cp -a` keeps the hard links cargo made). */
async function copyFixture(name: FixtureName, fx: { workspace: string }, layout: 'v2' | 'legacy'): Promise<Workspace> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `refresh-${name}-`));
  temps.push(tmp);
  const dir = path.join(tmp, 'ws');
  execFileSync('cp', ['-a', fx.workspace, dir]);
  const located = await locateBuildDirs(dir, {});
  assert.equal(located.kind, 'workspace');
  if (located.kind !== 'workspace') throw new Error('unreachable');
  return {
    dir,
    layout,
    locations: located.dirs.buildDirs,
    opts: { members: located.dirs.members, workspaceRoot: located.dirs.workspaceRoot },
  };
}

function cargo(ws: Workspace, args: string[], env: Record<string, string> = {}): void {
  const e: NodeJS.ProcessEnv = { ...process.env, CARGO_TERM_COLOR: 'never', ...env };
  for (const k of ['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR', 'RUSTFLAGS', 'CARGO_INCREMENTAL']) delete e[k];
  const clean = args[0] === 'clean';
  const extra = clean ? [] : ['--offline', '-j2'];
  if (ws.layout === 'v2') {
    e.RUSTC_BOOTSTRAP = '1';
    if (!clean) extra.push('-Zbuild-dir-new-layout');
  } else {
    e.__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT = '1';
  }
  const r = spawnSync('cargo', [...args, ...extra], { cwd: ws.dir, env: e, encoding: 'utf8' });
  assert.equal(r.status, 0, `cargo ${args.join(' ')} failed:\n${r.stderr}`);
}

/** Everything under the build dirs modified since `stamp` (folders whose entries changed included), or a vanished build dir itself. */
function changedSince(ws: Workspace, stamp: string): string[] {
  const out: string[] = [];
  for (const l of ws.locations) {
    if (!fs.existsSync(l.path)) {
      out.push(l.path);
      continue;
    }
    out.push(...execFileSync('find', [l.path, '-newer', stamp], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean));
  }
  return out;
}

/** `<profile id>/<package>` of every package whose summary or units differ between two results. */
function differingPackages(a: ScanResult, b: ScanResult): string[] {
  const out = new Set<string>();
  const profiles = (r: ScanResult) => new Map(r.buildDirs.flatMap((d) => d.profiles).map((p) => [p.id, p]));
  const pa = profiles(a);
  const pb = profiles(b);
  const byPackage = (p: Profile | undefined) => {
    const m = new Map<string, { summary: unknown; units: Unit[] }>();
    for (const s of p?.packages ?? []) m.set(s.name, { summary: s, units: [] });
    for (const u of p?.units ?? []) {
      const e = m.get(u.package) ?? { summary: null, units: [] };
      e.units.push(u);
      m.set(u.package, e);
    }
    return m;
  };
  for (const id of new Set([...pa.keys(), ...pb.keys()])) {
    const x = byPackage(pa.get(id));
    const y = byPackage(pb.get(id));
    for (const name of new Set([...x.keys(), ...y.keys()])) {
      if (JSON.stringify(x.get(name)) !== JSON.stringify(y.get(name))) out.add(`${id}/${name}`);
    }
  }
  return [...out].sort();
}

interface Step {
  readonly name: string;
  readonly act: (ws: Workspace) => void;
  /** Packages cargo is expected to touch (a lower bound on `changed`, by name). */
  readonly touches?: readonly string[];
}

function edit(ws: Workspace, file: string, f: (s: string) => string): void {
  const p = path.join(ws.dir, file);
  fs.writeFileSync(p, f(fs.readFileSync(p, 'utf8')));
}

const STEPS: readonly Step[] = [
  {
    name: 'a member edited and rebuilt in place',
    act: (ws) => {
      edit(ws, 'app/src/lib.rs', (s) => `${s}\npub fn refreshed() -> u32 { 1 }\n`);
      cargo(ws, ['build']);
    },
    touches: ['app'],
  },
  {
    name: 'a feature added: new unit folders, uplifted files re-pointed',
    act: (ws) => {
      edit(ws, 'app/Cargo.toml', (s) => s.replace('features = ["fancy"]', 'features = ["fancy", "extra"]'));
      cargo(ws, ['build']);
    },
    touches: ['app', 'util'],
  },
  {
    name: 'a build script rerun in place (rerun-if-env-changed)',
    act: (ws) => cargo(ws, ['build'], { BS_MODE: 'refresh' }),
    touches: ['bs'],
  },
  { name: 'cargo clean -p util', act: (ws) => cargo(ws, ['clean', '-p', 'util']), touches: ['util'] },
  { name: 'cargo build after clean -p', act: (ws) => cargo(ws, ['build']), touches: ['util'] },
  { name: 'cargo clean --release (a profile vanishes)', act: (ws) => cargo(ws, ['clean', '--release']) },
  { name: 'cargo build --release (a profile appears)', act: (ws) => cargo(ws, ['build', '--release']) },
  { name: 'cargo clean (the build dir vanishes)', act: (ws) => cargo(ws, ['clean']) },
  { name: 'cargo build (the build dir appears)', act: (ws) => cargo(ws, ['build']) },
];

for (const [fixture, layout] of [
  ['v2', 'v2'],
  ['legacy', 'legacy'],
  ['mixed', 'v2'],
] as const) {
  describe(`refresh on a copy of fixture ${fixture} (cargo builds ${layout})`, () => {
    let ws: Workspace | null = null;
    let model: ScanResult | null = null;

    for (const step of STEPS) {
      test(step.name, async (t) => {
        const fx = fixtureOrSkip(t, fixture);
        if (!fx) return;
        if (!ws) {
          ws = await copyFixture(fixture, fx, layout);
          model = await scanForRefresh(ws.locations, { ...ws.opts, walker });
        }
        const before = model!;
        // Backdated: a file written in the same clock tick as the stamp still counts as newer.
        const stamp = path.join(path.dirname(ws.dir), 'stamp');
        fs.writeFileSync(stamp, '');
        const past = (Date.now() - 2000) / 1000;
        fs.utimesSync(stamp, past, past);
        step.act(ws);
        const paths = changedSince(ws, stamp);

        const counting = new CountingWalker(walker);
        const scope = changeScope(before, paths);
        const { result, changed } = await applyRefresh(before, scope, { walker: counting, members: ws.opts.members });
        const full = await scanBuildDirs(ws.locations, { ...ws.opts, walker });
        assert.deepEqual(result, full, 'the refreshed model equals a full scan');

        const expected = differingPackages(before, full);
        assert.deepEqual([...changed.packages], expected, 'changed names exactly the packages that differ');
        for (const name of step.touches ?? []) assert.ok(changed.packages.some((id) => id.endsWith(`/${name}`)), `${name} is among the changed packages`);

        // Untouched objects keep their identity.
        const changedIds = new Set(changed.packages);
        for (const b of result.buildDirs) {
          const pb = before.buildDirs.find((x) => x.path === b.path);
          for (const p of b.profiles) {
            const pp = pb?.profiles.find((x) => x.id === p.id);
            if (!pp) continue;
            if (!changed.profiles.includes(p.id)) assert.equal(p, pp, `${p.id} is the same object`);
            for (const u of p.units) {
              if (changedIds.has(`${p.id}/${u.package}`)) continue;
              assert.equal(u, pp.units.find((x) => x.id === u.id), `${u.id} is the same object`);
            }
          }
        }

        // Cost: a build dir that still exists is never walked whole, nor any of its profiles.
        const wholeDirs = new Set(before.buildDirs.filter((b) => b.exists && fs.existsSync(b.path)).flatMap((b) => [b.path, ...b.profiles.map((p) => p.path)]));
        if (!scope.buildDirs.some((b) => b.wholeBuildDir)) {
          for (const r of counting.requests) assert.ok(!(wholeDirs.has(r.path) && r.depth >= 0), `no whole walk of ${r.path}`);
        }
        // ... and no unit folder of a package that neither the scope names nor changed is read.
        const allowed = new Set([
          ...scope.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.packages.map((n) => `${p.id}/${n}`))),
          ...changed.packages,
        ]);
        const unitOf = new Map(before.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units.flatMap((u) => u.paths.map((x) => [x, `${p.id}/${u.package}`] as const)))));
        const profileIds = (r: ScanResult) => JSON.stringify(r.buildDirs.map((b) => b.profiles.map((p) => p.id)));
        if (!scope.buildDirs.some((b) => b.wholeBuildDir) && profileIds(before) === profileIds(full)) {
          for (const r of counting.requests) {
            const owner = unitOf.get(r.path);
            if (owner !== undefined) assert.ok(allowed.has(owner), `${r.path} (${owner}) was not to be read`);
          }
        }
        model = result;
      });
    }
  });
}

describe('changeScope', () => {
  test('routes paths to packages, incremental crates, shell paths and the root', async (t) => {
    const fx = fixtureOrSkip(t, 'v2');
    if (!fx) return;
    const ws = await copyFixture('v2', fx, 'v2');
    const model = await scanBuildDirs(ws.locations, { ...ws.opts, walker });
    const b = model.buildDirs[0]!;
    const prof = b.profiles.find((p) => p.name === 'debug' && p.platform === null)!;
    const tool = prof.units.find((u) => u.package === 'app' && u.target === 'tool')!;
    const crate = prof.incremental.find((c) => c.crate === 'tool');
    const paths = [
      path.join(tool.paths[0]!, 'fingerprint', 'bin-tool'),
      path.join(prof.path, 'build', 'newpkg', '0123456789abcdef'),
      path.join(prof.path, 'app'),
      path.join(b.path, '.rustc_info.json'),
      path.join(os.tmpdir(), 'elsewhere'),
      ...(crate ? [path.join(crate.path, 's-x')] : []),
    ];
    const scope = changeScope(model, paths);
    assert.equal(scope.buildDirs.length, 1);
    const bs = scope.buildDirs[0]!;
    assert.equal(bs.wholeBuildDir, false);
    assert.equal(bs.profileFolders, true, 'a root-level entry relists the root');
    assert.deepEqual(bs.other, [path.join(b.path, '.rustc_info.json')]);
    const ps = bs.profiles.find((p) => p.id === prof.id)!;
    assert.deepEqual(ps.packages, ['app', 'newpkg'], 'a unit file and an incremental crate of a bin both name their package');
    assert.deepEqual(ps.other, [path.join(prof.path, 'app')], 'an uplifted file is a shell path');
    assert.equal(changeScope(model, [b.path]).buildDirs[0]!.wholeBuildDir, true);
    assert.deepEqual(changeScope(model, [path.join(os.tmpdir(), 'x')]).buildDirs, []);
  });
});

describe('partial plans agree with full plans', () => {
  for (const name of ['v2', 'legacy', 'mixed', 'separate', 'registry-v2'] as const) {
    test(`fixture ${name}: shell + per-package buckets = planBuildDir's buckets; the root shell = its root`, (t) => {
      const fx = fixtureOrSkip(t, name);
      if (!fx) return;
      for (const dir of new Set([fx.buildDir, fx.targetDir])) {
        const role = fx.buildDir === fx.targetDir ? 'both' : dir === fx.buildDir ? 'build-dir' : 'target-dir';
        const full = planBuildDir(dir, role);
        const root = planBuildDirShell(dir);
        assert.deepEqual(root.buckets, full.buckets);
        assert.deepEqual(
          root.profiles.map((p) => p.path),
          full.profiles.map((p) => p.path),
        );
        for (const p of full.profiles) {
          const shell = planProfileShell(p.path, role, true);
          const names = new Set(shell.listings.build ?? []);
          const pkg = planPackageBuckets(p.path, names);
          const flat = (bs: readonly { name: string; paths: readonly { path: string }[] }[]) => bs.flatMap((b) => b.paths.map((x) => `${b.name} ${x.path}`)).sort();
          assert.deepEqual(flat([...shell.buckets, ...pkg.buckets]), flat(p.buckets), `${p.path}: the same bucket paths`);
          assert.deepEqual(shell.locks, p.locks);
          assert.deepEqual(shell.shared, p.shared);
        }
      }
    });
  }
});

test('a result scanned without scanForRefresh is refreshed by one full read', async (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const ws = await copyFixture('v2', fx, 'v2');
  const plain = await scanBuildDirs(ws.locations, { ...ws.opts, walker });
  edit(ws, 'util/src/lib.rs', (s) => `${s}\n// touched\n`);
  cargo(ws, ['build']);
  const prof = plain.buildDirs[0]!.profiles.find((p) => p.name === 'debug' && p.platform === null)!;
  const { result, changed } = await applyRefresh(plain, changeScope(plain, [path.join(prof.path, 'build', 'util')]), { walker, members: ws.opts.members });
  const full = await scanBuildDirs(ws.locations, { ...ws.opts, walker });
  assert.deepEqual(result, full);
  assert.deepEqual([...changed.packages], differingPackages(plain, full));
  // And the next refresh of that result is partial again.
  const counting = new CountingWalker(walker);
  await applyRefresh(result, changeScope(result, [path.join(prof.path, 'build', 'bs')]), { walker: counting, members: ws.opts.members });
  assert.ok(!counting.requests.some((r) => r.path === ws.locations[0]!.path), 'no whole walk the second time');
});
