// The engine against build dirs that real cargo wrote during this test run (scripts/fixtures.mjs): every unit
// cargo reported is found with the right identity, every unit folder on disk is in the model, nothing on disk
// is unaccounted for, and sizes agree with `du -sb` computed outside the engine.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  fixtureOrSkip,
  compilerArtifacts,
  buildScriptRuns,
  type BuiltFixture,
  type FixtureName,
  type FixtureCommand,
  type ArtifactWithUnit,
} from './helpers/fixtures';
import { locateBuildDirs } from '../src/node/cargo';
import { createWalker } from '../src/node/walker';
import { scanBuildDirs, __test as scanInternals, type BuildDirLocationLike, type ScanOptions, type ScanSink } from '../src/core/scan';
import { ScanJsonWriter, scanJsonChunks, scanToJson, unitJsonText, unitToJson } from '../src/core/json';
import { leHex } from '../src/core/fingerprint-scan';
import { u64DecToLeHex } from '../src/core/json-lossless';
import type { Profile, ScanResult, Unit, UnitKind } from '../src/core/model';
import type { ReadRequest, ReadResult, WalkRequest, WalkResult, Walker } from '../src/core/walk';

function du(paths: readonly string[]): number {
  const out = execFileSync('du', ['-sbc', ...paths], { encoding: 'utf8' });
  const last = out.trim().split('\n').pop() ?? '';
  return Number(last.split('\t')[0]);
}

/** What deleting `paths` frees, computed with find: files whose links all lie inside the set count. */
function freedByFind(paths: readonly string[]): number {
  const total = du(paths);
  const out = execFileSync('find', [...paths, '-type', 'f', '-links', '+1', '-printf', '%i %n %s\\n'], { encoding: 'utf8' });
  const seen = new Map<string, { n: number; size: number; inSet: number }>();
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [ino, n, size] = line.split(' ');
    const e = seen.get(ino!) ?? { n: Number(n), size: Number(size), inSet: 0 };
    e.inSet++;
    seen.set(ino!, e);
  }
  let notFreed = 0;
  for (const e of seen.values()) if (e.inSet < e.n) notFreed += e.size;
  return total - notFreed;
}

const KIND: Record<string, UnitKind> = {
  lib: 'lib',
  rlib: 'lib',
  dylib: 'lib',
  cdylib: 'lib',
  staticlib: 'lib',
  'proc-macro': 'proc-macro',
  bin: 'bin',
  'custom-build': 'build-script',
  test: 'test',
  bench: 'bench',
  example: 'example',
};
const FILE_KIND: Record<UnitKind, string> = {
  lib: 'lib',
  'proc-macro': 'lib',
  bin: 'bin',
  'build-script': 'build-script',
  test: 'integration-test',
  bench: 'bench',
  example: 'example',
  unknown: '?',
};

function subcommand(c: FixtureCommand): string {
  return c.argv.slice(1).find((a) => !a.startsWith('+') && !a.startsWith('-')) ?? 'build';
}

/** The `[<triple>/]<profile>` folders a command writes to (host folder too with --target). */
function profileFolders(c: FixtureCommand): string[] {
  const sub = subcommand(c);
  const i = c.argv.indexOf('--profile');
  let p = sub === 'bench' ? 'release' : 'debug';
  if (c.argv.includes('--release')) p = 'release';
  if (i >= 0) {
    const named = c.argv[i + 1] ?? 'dev';
    p = named === 'dev' || named === 'test' ? 'debug' : named === 'bench' ? 'release' : named;
  }
  const t = c.argv.indexOf('--target');
  return t >= 0 ? [`${c.argv[t + 1]}/${p}`, p] : [p];
}

function profilesOf(scan: ScanResult, folders: readonly string[]): Profile[] {
  return scan.buildDirs.flatMap((b) => b.profiles).filter((p) => folders.includes(p.platform ? `${p.platform}/${p.name}` : p.name));
}

function expectedFileName(a: ArtifactWithUnit, doc: boolean): string {
  const kind = KIND[a.message.target.kind[0] ?? ''] ?? 'unknown';
  const flavor = doc ? 'doc-' : a.message.profile.test ? 'test-' : '';
  return `${flavor}${FILE_KIND[kind]}-${a.message.target.name}`;
}

function describeUnit(u: Unit): string {
  return `${u.package}/${u.hash} ${u.layout} ${u.kind}/${u.mode} [${u.fingerprintFiles.join(',')}]`;
}

let walker: Walker;
before(async () => {
  walker = await createWalker({ build: true });
});
after(() => walker.close());

async function scanFixture(fx: BuiltFixture): Promise<ScanResult> {
  const located = await locateBuildDirs(fx.workspace, {});
  assert.equal(located.kind, 'workspace', 'the fixture workspace is found as a workspace');
  if (located.kind !== 'workspace') throw new Error('unreachable');
  return scanBuildDirs(located.dirs.buildDirs, { walker, members: located.dirs.members, workspaceRoot: located.dirs.workspaceRoot });
}

const FIXTURES: readonly FixtureName[] = ['legacy', 'v2', 'v2-nightly', 'mixed', 'separate', 'registry', 'registry-v2', 'interrupted'];

for (const name of FIXTURES) {
  describe(`fixture ${name}`, () => {
    test('every unit cargo reported is found with its package, kind, mode and features', async (t) => {
      const fx = fixtureOrSkip(t, name);
      if (!fx) return;
      const scan = await scanFixture(fx);
      const all = scan.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units.map((u) => ({ p, u }))));
      let checked = 0;
      fx.commands.forEach((c, ci) => {
        const candidates = profilesOf(scan, profileFolders(c)).flatMap((p) => p.units.map((u) => ({ p, u })));
        for (const a of compilerArtifacts(fx, ci)) {
          // `cargo doc` also compiles build scripts and proc-macros: only artifacts under doc/ are rustdoc units.
          const doc = subcommand(c) === 'doc' && a.message.filenames.some((f) => f.split(path.sep).includes('doc'));
          const fileName = expectedFileName(a, doc);
          const pool = a.unit
            ? all.filter(({ p, u }) => p.path === a.unit!.profileDir && u.hash === a.unit!.hash && u.layout === a.unit!.layout)
            : candidates.filter(({ u }) => u.package === a.packageName && u.fingerprintFiles.includes(fileName) && u.layout === c.layout);
          const where = `${c.argv.join(' ')}: ${a.packageName} ${a.message.target.kind.join(',')} ${a.message.target.name}`;
          assert.ok(pool.length >= 1, `${where}: no unit found (expected ${fileName}${a.unit ? ` in ${a.unit.unitFolder}` : ''})`);
          const kind = KIND[a.message.target.kind[0] ?? ''];
          const check = a.message.filenames.length > 0 && a.message.filenames.every((f) => f.endsWith('.rmeta'));
          const mode = doc ? 'doc' : a.message.profile.test ? 'test' : check ? 'check' : 'build';
          const features = JSON.stringify([...a.message.features].sort());
          const same = (u: Unit): boolean =>
            u.fingerprintFiles.includes(fileName) && u.package === a.packageName && u.mode === mode && (doc || JSON.stringify([...(u.features ?? [])].sort()) === features);
          // An uplifted artifact names no unit folder: several units (check and build, other feature sets) can
          // share its target name, and one of them must be exactly this one. A located artifact has one candidate.
          const match = pool.find(({ u }) => same(u)) ?? pool[0]!;
          const u = match.u;
          if (!doc) {
            assert.equal(u.kind, kind, `${where}: kind`);
            assert.equal(u.mode, mode, `${where}: mode`);
            assert.deepEqual([...(u.features ?? [])].sort(), [...a.message.features].sort(), `${where}: features`);
            assert.ok(u.fingerprintFiles.includes(fileName), `${where}: ${describeUnit(u)} has no ${fileName}`);
          } else {
            assert.equal(u.mode, 'doc', `${where}: mode`);
          }
          if (a.packageVersion && !a.message.package_id.startsWith('path+')) assert.equal(u.version, a.packageVersion, `${where}: version`);
          if (a.message.package_id.startsWith('path+')) assert.equal(u.source?.kind, 'path', `${where}: source`);
          checked++;
        }
        for (const r of buildScriptRuns(fx, ci)) {
          assert.ok(r.unit, `OUT_DIR ${r.outDir} lies in a unit folder`);
          const hit = all.find(({ p, u }) => p.path === r.unit!.profileDir && u.hash === r.unit!.hash && u.layout === r.unit!.layout);
          assert.ok(hit, `${c.argv.join(' ')}: build-script run of ${r.packageName} (${r.unit!.unitFolder}) not found`);
          assert.equal(hit.u.kind, 'build-script');
          assert.equal(hit.u.mode, 'run-custom-build');
          assert.equal(hit.u.package, r.packageName);
          checked++;
        }
      });
      assert.ok(checked > 0, 'cargo reported units');
    });

    test('every unit folder on disk is in the model, and nothing on disk is unaccounted for', async (t) => {
      const fx = fixtureOrSkip(t, name);
      if (!fx) return;
      const scan = await scanFixture(fx);
      for (const b of scan.buildDirs) {
        if (!b.exists) continue;
        // Unit folders according to find, independent of the layout module.
        const v2 = execFileSync('find', [b.path, '-regextype', 'posix-extended', '-mindepth', '4', '-maxdepth', '5', '-type', 'd', '-regex', '.*/build/[^/]+/[0-9a-f]{16}'], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean);
        const legacy = execFileSync('find', [b.path, '-mindepth', '3', '-maxdepth', '4', '-type', 'd', '-path', '*/.fingerprint/*'], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean);
        const unitPaths = new Set(b.profiles.flatMap((p) => p.units.flatMap((u) => u.paths)));
        for (const d of [...v2, ...legacy]) assert.ok(unitPaths.has(d), `${d} is a unit folder on disk but not in the model`);
        // Every entry is a planned path, lies under one, or is a container folder counted as structure.
        const covered = [
          ...b.profiles.flatMap((p) => [...p.units.flatMap((u) => u.paths), ...p.incremental.map((i) => i.path), ...p.other.flatMap((o) => o.paths)]),
          ...b.other.flatMap((o) => o.paths),
        ];
        const set = new Set(covered);
        const everything = execFileSync('find', [b.path], { encoding: 'utf8' }).split('\n').filter(Boolean);
        for (const e of everything) {
          let ok = false;
          for (let p = e; p.length >= b.path.length; p = path.dirname(p)) {
            if (set.has(p)) {
              ok = true;
              break;
            }
            if (p === path.dirname(p)) break;
          }
          assert.ok(ok, `${e} is on disk but belongs to nothing in the model`);
        }
      }
    });

    test('sizes agree with du -sb: build dir, profiles, units, packages; freed bytes with hard links', async (t) => {
      const fx = fixtureOrSkip(t, name);
      if (!fx) return;
      const scan = await scanFixture(fx);
      let units = 0;
      let linked = 0;
      for (const b of scan.buildDirs) {
        if (!b.exists) continue;
        assert.equal(b.bytes, du([b.path]), `${b.path}: build dir total`);
        for (const p of b.profiles) {
          assert.equal(p.bytes, du([p.path]), `${p.path}: profile total`);
          for (const u of p.units) {
            assert.equal(u.bytes, du(u.paths), `${describeUnit(u)}: bytes`);
            const freed = freedByFind(u.paths);
            assert.equal(u.freedBytes, freed, `${describeUnit(u)}: freedBytes`);
            if (freed < u.bytes) linked++;
            units++;
          }
          for (const pkg of p.packages) {
            const paths = p.units.filter((u) => pkg.unitIds.includes(u.id)).flatMap((u) => u.paths);
            assert.equal(pkg.bytes, du(paths), `${p.path} package ${pkg.name}`);
          }
          for (const i of p.incremental) assert.equal(i.bytes, du([i.path]), `${i.path}: incremental`);
        }
      }
      assert.ok(units > 0);
      // Uplifted binaries are hard links into unit folders: some unit must free less than its size.
      if (fx.targetDir === fx.buildDir) assert.ok(linked > 0, 'some unit shares an inode with an uplifted artifact');
    });
  });
}

test('interrupted build: the unit whose hash file cargo emptied is marked as failed, others are not', async (t) => {
  const fx = fixtureOrSkip(t, 'interrupted');
  if (!fx) return;
  const scan = await scanFixture(fx);
  const failed = scan.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units)).filter((u) => u.lastBuildFailed);
  const expected = (fx.emptyHashFiles ?? []).map((f) => f.split(path.sep).slice(-4, -2).join('/'));
  assert.ok(expected.length > 0, 'the fixture has an empty hash file');
  assert.deepEqual(failed.map((u) => `${u.package}/${u.hash}`).sort(), [...new Set(expected)].sort());
});

test('registry packages: two versions of cfg-if share build/cfg-if/ and are told apart', async (t) => {
  const fx = fixtureOrSkip(t, 'registry-v2');
  if (!fx) return;
  const scan = await scanFixture(fx);
  const cfg = scan.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units)).filter((u) => u.package === 'cfg-if');
  const versions = new Set(cfg.map((u) => u.version));
  assert.ok(versions.size >= 2, `versions found: ${[...versions].join(', ')}`);
  for (const u of cfg) assert.equal(u.source?.kind, 'directory', `${describeUnit(u)} source`);
  const libc = scan.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units)).filter((u) => u.package === 'libc');
  assert.ok(libc.some((u) => u.mode === 'run-custom-build' && u.version !== null), 'the libc build-script run inherits its version');
});

test('the Node walker and the native walker give the same model', async (t) => {
  const fx = fixtureOrSkip(t, 'mixed');
  if (!fx) return;
  const located = await locateBuildDirs(fx.workspace, {});
  if (located.kind !== 'workspace') throw new Error('not a workspace');
  const { NodeWalker } = await import('../src/core/nodewalk');
  const node = new NodeWalker();
  try {
    const a = await scanBuildDirs(located.dirs.buildDirs, { walker, members: located.dirs.members });
    const b = await scanBuildDirs(located.dirs.buildDirs, { walker: node, members: located.dirs.members });
    assert.notEqual(walker.name, node.name);
    assert.deepEqual({ ...b, walker: '' }, { ...a, walker: '' });
  } finally {
    node.close();
  }
});


// ------------------------------------------------------------------------------------------------------------
// What the scan's speed rests on: the walk reads the small files through inline rules, the fingerprint JSON
// takes a fast path, the JSON output is streamed. Each must give exactly what the plain way gives.

/** Passes walks through with the inline rules dropped: every small file is then read in a second batch. */
class NoInlineWalker implements Walker {
  readonly name: string;
  reads = 0;
  constructor(private readonly inner: Walker) {
    this.name = inner.name;
  }
  walk(rs: readonly WalkRequest[]): Promise<WalkResult[]> {
    return this.inner.walk(rs.map((r) => ({ path: r.path, depth: r.depth })));
  }
  read(rs: readonly ReadRequest[]): Promise<ReadResult[]> {
    this.reads += rs.length;
    return this.inner.read(rs);
  }
  close(): void {}
}

const ALL_FIXTURES: readonly FixtureName[] = [...FIXTURES, 'stale'];

for (const name of ALL_FIXTURES) {
  test(`fixture ${name}: files read during the walk give the model that separate reads give, with both walkers`, async (t) => {
    const fx = fixtureOrSkip(t, name);
    if (!fx) return;
    const located = await locateBuildDirs(fx.workspace, {});
    if (located.kind !== 'workspace') throw new Error('not a workspace');
    const { NodeWalker } = await import('../src/core/nodewalk');
    const node = new NodeWalker();
    const opts = { members: located.dirs.members, workspaceRoot: located.dirs.workspaceRoot };
    const counting = new NoInlineWalker(walker);
    const inlined = await scanBuildDirs(located.dirs.buildDirs, { walker, ...opts });
    const separate = await scanBuildDirs(located.dirs.buildDirs, { walker: counting, ...opts });
    const viaNode = await scanBuildDirs(located.dirs.buildDirs, { walker: node, ...opts });
    assert.ok(counting.reads > 0, 'without inline rules the small files are read separately');
    assert.deepEqual(inlined, separate);
    assert.deepEqual({ ...viaNode, walker: '' }, { ...inlined, walker: '' });
  });
}

test('the fingerprint JSON fast path equals the reference parser on every fingerprint of the fixtures', (t) => {
  const files: string[] = [];
  for (const name of ALL_FIXTURES) {
    const fx = fixtureOrSkip(t, name);
    if (!fx) continue;
    const visit = (dir: string, depth: number): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth < 7) visit(p, depth + 1);
        else if (e.isFile() && e.name.endsWith('.json') && /fingerprint/.test(dir)) files.push(p);
      }
    };
    for (const d of new Set([fx.buildDir, fx.targetDir])) visit(d, 0);
  }
  if (files.length === 0) return t.skip('no fixture built');
  let fast = 0;
  let scanned = 0;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const slow = scanInternals.slowFingerprint(text);
    const a = scanInternals.fastFingerprint(text);
    const b = scanInternals.scannedFingerprint(text);
    if (b !== null) {
      scanned++;
      assert.deepEqual(b, slow, f);
    }
    if (a === null) continue;
    fast++;
    assert.deepEqual(a, slow, f);
  }
  assert.ok(fast > files.length * 0.9, `the fast path took ${fast} of ${files.length} files`);
  assert.ok(scanned > files.length * 0.9, `the scanner took ${scanned} of ${files.length} files`);
});

test('the fingerprint JSON fast path never accepts what the reference parser refuses, and gives way on the unusual', () => {
  const base = {
    rustc: 3155389634610417527n,
    features: '["default", "std"]',
    declared_features: '["default", "std", "alloc"]',
    target: 17773389745598238253n,
    profile: 1,
    path: 10847484284016118572n,
    deps: [[10744109365261901373n, 'scopeguard', false, 14010907269166191755n], [5, 'small', true, 7]],
    local: [{ CheckDepInfo: { dep_info: 'debug/x/dep-lib-x', checksum: false } }, { Precalculated: '1.2.3' }],
    rustflags: ['-C', 'x'],
    config: 0,
    compile_kind: 18446744073709551615n,
  } as Record<string, unknown>;
  const text = (o: Record<string, unknown>): string => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `#${v}#` : v)).replace(/"#(\d+)#"/g, '$1');
  const cases: string[] = [
    text(base),
    text({ ...base, compile_kind: 18446744073709551616n }), // one past u64
    text({ ...base, rustc: -1 }),
    text({ ...base, rustc: '0042' }), // a string of digits: the reference takes it
    text({ ...base, rustc: 1.5 }),
    text({ ...base, features: '["a", "b\\"c"]' }),
    text({ ...base, features: '[""]', declared_features: '["", ""]' }),
    text({ ...base, features: '[ "a" ]', declared_features: '["a","b"]' }),
    text({ ...base, features: '["a b", "c,d"]', declared_features: '' }),
    text({ ...base, features: 'not a list' }),
    text({ ...base, declared_features: null }),
    text({ ...base, deps: [[1, 'a', 'no', 2]] }),
    text({ ...base, deps: [[1, 'a', false]] }),
    text({ ...base, local: [{ CheckDepInfo: { dep_info: 'x', fingerprint: 'mtime' } }] }),
    text({ ...base, local: [{ CheckDepInfo: { dep_info: 'x' } }] }),
    text({ ...base, local: [{ RerunIfChanged: { output: 'o', paths: ['a', 'b'] } }, { RerunIfEnvChanged: { var: 'V', val: null } }] }),
    text({ ...base, local: [{ SomethingNew: {} }] }),
    text({ ...base, extra: { deep: [1, 2, 3] } }),
    text({ ...base, rustflags: ['12345678901234567890 inside a string', '"quoted" 99999999999999999999'] }),
    '{"rustc": 18446744073709551615.0, "features": ""}',
    '  ' + text(base).replace(/,/g, ' ,\n ') + '\n',
    text(base).slice(0, -5),
    '',
    // The fields in another order than cargo's, a key that only starts like a field, an escaped key, a raw
    // control character inside a string (not JSON), and one feature list twice (its unescaped text is kept).
    text(Object.fromEntries(Object.entries(base).reverse())),
    text(base).replace('"rustc":', '"rustcx":'),
    text(base).replace('"rustc":', '"rust\\u0063":'),
    text(base).replace('dep-lib-x', 'dep-lib-\u0001x'),
    text(base),
  ];
  for (const c of cases) {
    const fast = scanInternals.fastFingerprint(c);
    if (fast !== null) assert.deepEqual(fast, scanInternals.slowFingerprint(c), c);
    const scanned = scanInternals.scannedFingerprint(c);
    if (scanned !== null) assert.deepEqual(scanned, scanInternals.slowFingerprint(c), c);
  }
  assert.notEqual(scanInternals.fastFingerprint(text(base)), null, 'the usual shape takes the fast path');
  assert.notEqual(scanInternals.scannedFingerprint(text(base)), null, 'the usual shape takes the scanner');
  assert.equal(scanInternals.scannedFingerprint(text({ ...base, features: '["a", "b\\"c"]' })), null, 'an escaped feature name goes to the slower readers');
  assert.equal(scanInternals.scannedFingerprint(text({ ...base, local: [{ SomethingNew: {} }] })), null, 'an unknown local variant: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text({ ...base, extra: 1 })), null, 'an unknown field: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text({ ...base, compile_kind: 18446744073709551616n })), null, 'past u64: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text({ ...base, rustc: '0042' })), null, 'a quoted number: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text(base) + ' '), null, 'text after the object: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text(base).replace('"rustc"', '"rustc":1,"rustc"')), null, 'a repeated field: not the scanner');
  assert.notEqual(scanInternals.scannedFingerprint(text(Object.fromEntries(Object.entries(base).reverse()))), null, 'fields in another order: the scanner');
  assert.equal(scanInternals.scannedFingerprint(text(base).replace('"rustc":', '"rustcx":')), null, 'a longer key: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text(base).replace('"rustc":', '"rust\\u0063":')), null, 'an escaped key: not the scanner');
  assert.equal(scanInternals.scannedFingerprint(text(base).replace('dep-lib-x', 'dep-lib-\u0001x')), null, 'a raw control character: not the scanner');
  assert.equal(scanInternals.fastFingerprint(text({ ...base, local: [{ SomethingNew: {} }] })), null, 'an unknown local variant goes to the reference parser');
  assert.equal(scanInternals.fastFingerprint(text({ ...base, extra: 1 })), null, 'an unknown field goes to the reference parser');
  assert.equal(scanInternals.fastFingerprint(text({ ...base, compile_kind: 18446744073709551616n })), null, 'past u64: refused');
});

test('the decimal-to-hex conversion of the fingerprint scanner equals the reference on the edges of u64 and on random values', () => {
  const values = ['0', '1', '9', '255', '256', '65535', '65536', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '18446744073709551615', '18446744073709551614', '10000000000000000000'];
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 2000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    values.push((x >> BigInt(i % 64)).toString());
  }
  for (const v of values) assert.equal(leHex(v), u64DecToLeHex(v), v);
});

test('a unit written by hand is JSON.stringify of its projection, odd strings, numbers and parts included', async (t) => {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return;
  const scan = await scanFixture(fx);
  const real = scan.buildDirs[0]!.profiles[0]!.units[0]!;
  const odd: Unit = {
    ...real,
    id: 'quote " backslash \\ tab \t nul \u0000 del \u007f lone \ud800 pair \ud83d\ude00 é',
    package: 'ünïcode-crate',
    target: null,
    features: ['a"b', 'c\\d', ''],
    version: null,
    source: { kind: 'registry', detail: 'index \n line' },
    paths: ['/a/b', '/c "d"'],
    parts: [{ name: 'out', path: '/x\u2028y', bytes: 0 }, { name: 'run', path: '/r', bytes: 12, extra: true } as unknown as Unit['parts'][number]],
    bytes: Number.NaN,
    freedBytes: -0,
    builtAt: null,
    fingerprintHash: null,
    rustc: null,
    deps: [{ name: 'x', fingerprint: '00ff' }, { name: 'y"', fingerprint: '\u0001' }],
    fingerprintFiles: [],
    stale: [{ reason: 'r', detail: 'd "q"' }],
    problems: ['p\u0002'],
  };
  for (const u of [real, odd, { ...odd, features: null, builtAt: 1700000000123.5, bytes: Infinity }]) {
    assert.equal(unitJsonText(u), JSON.stringify(unitToJson(u)));
  }
});

test('a streamed scan writes the same JSON as the model it no longer keeps, and waits for a slow reader', async (t) => {
  const tool = { name: 'cargo-build-dir', version: 'test' };
  const empty = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'cbd-stream-'));
  t.after(() => fs.rmSync(empty, { recursive: true, force: true }));
  const cases: { name: string; locations: BuildDirLocationLike[]; members?: ScanOptions['members']; workspaceRoot?: string | null }[] = [
    // No profile at all, and a build dir that is not there: each still opens and closes its object.
    { name: 'empty and missing', locations: [{ path: empty, role: 'build-dir', discovery: 'given path' }, { path: path.join(empty, 'nope'), role: 'target-dir', discovery: 'given path' }] },
  ];
  for (const name of ALL_FIXTURES) {
    const fx = fixtureOrSkip(t, name);
    if (!fx) continue;
    const located = await locateBuildDirs(fx.workspace, {});
    if (located.kind !== 'workspace') throw new Error(`${name}: not a workspace`);
    cases.push({ name, locations: [...located.dirs.buildDirs], members: located.dirs.members, workspaceRoot: located.dirs.workspaceRoot });
  }
  for (const c of cases) {
    const opts = { walker, members: c.members, workspaceRoot: c.workspaceRoot ?? null };
    const whole = JSON.stringify(scanToJson(await scanBuildDirs(c.locations, opts), tool));
    let text = '';
    let pending = 0;
    let unitsSeen = 0;
    // Every piece is taken a turn of the event loop later; the scan must not go on meanwhile.
    const w = new ScanJsonWriter((piece) => {
      assert.equal(pending, 0, `${c.name}: the scan went on while its last piece was not taken yet`);
      pending++;
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          text += piece;
          pending--;
          resolve();
        }),
      );
    }, 700);
    const sink: ScanSink = {
      buildDir: (h) => w.buildDir(h),
      profile: (h) => w.profile(h),
      units: (us) => {
        unitsSeen += us.length;
        return w.units(us);
      },
      profileEnd: (p) => w.profileEnd(p),
      buildDirEnd: (b) => w.buildDirEnd(b),
    };
    w.start({ workspaceRoot: opts.workspaceRoot, walker: walker.name }, tool);
    const streamed = await scanBuildDirs(c.locations, opts, sink);
    await w.end(streamed.problems);
    assert.equal(text, whole, `${c.name}: streamed text`);
    const kept = streamed.buildDirs.flatMap((b) => b.profiles).reduce((n, p) => n + p.units.length, 0);
    assert.equal(kept, 0, `${c.name}: a streamed scan keeps no unit`);
    const expected = (JSON.parse(whole) as { buildDirs: { profiles: { units: unknown[] }[] }[] }).buildDirs
      .flatMap((b) => b.profiles)
      .reduce((n, p) => n + p.units.length, 0);
    assert.equal(unitsSeen, expected, `${c.name}: every unit went to the sink once`);
  }
  assert.ok(cases.length > 1, 'at least one fixture was built');
});

test('scan --json written in chunks is exactly JSON.stringify of the whole projection', async (t) => {
  let n = 0;
  for (const name of ALL_FIXTURES) {
    const fx = fixtureOrSkip(t, name);
    if (!fx) continue;
    const scan = await scanFixture(fx);
    const tool = { name: 'cargo-build-dir', version: 'test' };
    const whole = JSON.stringify(scanToJson(scan, tool));
    for (const size of [1, 700, 1 << 16]) {
      const chunks = [...scanJsonChunks(scan, tool, size)];
      assert.equal(chunks.join(''), whole, `${name}, chunks of ${size}`);
      if (size === 700) assert.ok(chunks.length > 1);
    }
    n++;
  }
  if (n === 0) t.skip('no fixture built');
});
