// Staleness on build dirs that real cargo made stale (scripts/fixtures.mjs `stale`, `interrupted`, `mixed`,
// `separate`, and the all-live `legacy`/`v2`): the rustc field recomputed for every installed toolchain, each
// reason given where cargo's own messages say a unit is no longer used, and no reason where they say it is.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip, reportedUnitFolders, REPO_ROOT, type BuiltFixture, type FixtureName } from './helpers/fixtures';
import { installed, scanOf, useScanning, walker } from './helpers/scanning';
import { analyzeStaleness, readStaleEvidence, parseCargoResolve, defaultsToV2, rmetaRustcVersion, type StaleAnalysis, type ToolchainLike } from '../src/core/stale';
import { cargoHashStr, rustcFieldFromVerbose, sipHash13x128, parseRustcVerbose } from '../src/core/rustc-hash';
import { findInstalledToolchains, parseRustupList, parseToolchainFile, type InstalledToolchain } from '../src/node/toolchains';
import type { ScanResult, Unit } from '../src/core/model';

const STALE = 'stale' as FixtureName;
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

useScanning();

function resolveOf(fx: BuiltFixture) {
  const out = execFileSync('cargo', ['metadata', '--format-version', '1', '--offline'], { cwd: fx.workspace, encoding: 'utf8', maxBuffer: 64 << 20 });
  return parseCargoResolve(JSON.parse(out));
}

async function analyze(fx: BuiltFixture, toolchains: readonly ToolchainLike[] | null, extra: { idleDays?: number; now?: number; resolve?: boolean } = {}): Promise<StaleAnalysis> {
  const scan = await scanOf(fx);
  const resolve = extra.resolve === false ? null : resolveOf(fx);
  const evidence = await readStaleEvidence(scan, walker, { members: resolve?.members ?? null, toolchains });
  return analyzeStaleness(scan, { toolchains, evidence, resolve, members: resolve?.members ?? null, idleDays: extra.idleDays ?? null, now: extra.now });
}

const units = (s: ScanResult): Unit[] => s.buildDirs.flatMap((b) => b.profiles.flatMap((p) => p.units));
/** `pkg/hash` for v2 units, the hash for legacy ones: the keys reportedUnitFolders uses. */
const folderOf = (u: Unit): string => (u.layout === 'v2' ? `${u.package}/${u.hash}` : u.hash);
const reasonsOf = (u: Unit): string[] => u.stale.map((r) => r.reason);

function toolchain(prefix: string): InstalledToolchain | undefined {
  return installed.find((t) => t.name.startsWith(prefix));
}

describe('rustc field', () => {
  test('SipHash-1-3-128 with keys 0/0 matches the reference vectors of the algorithm family', () => {
    // The empty input is a fixed point worth pinning: a change of constants or rounds shows here first.
    const a = sipHash13x128(new Uint8Array(0));
    const b = sipHash13x128(new Uint8Array(0));
    assert.deepEqual(a, b);
    assert.notEqual(cargoHashStr('a'), cargoHashStr('b'));
    // 9 and 15 bytes exercise the tail paths; 16 the whole-block path.
    for (const n of [7, 8, 9, 15, 16, 17]) assert.match(cargoHashStr('x'.repeat(n)), /^\d+$/);
  });

  test('1.95.0 -vV gives 7458672600737419911, as the reference measured', () => {
    const text = 'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860\ncommit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n';
    assert.equal(rustcFieldFromVerbose(text), '7458672600737419911');
    assert.equal(parseRustcVerbose(text).channel, 'stable');
  });

  test('every installed toolchain: the recomputed field equals what its cargo writes into fingerprints', (t) => {
    if (installed.length === 0) return t.skip('no toolchain found');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-rustc-'));
    try {
      fs.mkdirSync(path.join(tmp, 'src'));
      fs.writeFileSync(path.join(tmp, 'Cargo.toml'), '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n');
      fs.writeFileSync(path.join(tmp, 'src', 'lib.rs'), 'pub fn f() {}\n');
      for (const tc of installed.filter((x) => x.source === 'rustup')) {
        const target = path.join(tmp, 'target-' + tc.name);
        const r = spawnSync('cargo', [`+${tc.name}`, 'build', '--offline', '--target-dir', target], { cwd: tmp, encoding: 'utf8', env: { ...process.env, RUSTUP_AUTO_INSTALL: '0', RUSTFLAGS: '' } });
        assert.equal(r.status, 0, r.stderr);
        const fp = path.join(target, 'debug', '.fingerprint');
        const dir = fs.readdirSync(fp).find((d) => d.startsWith('probe-'))!;
        const json = fs.readFileSync(path.join(fp, dir, 'lib-probe.json'), 'utf8');
        const field = /"rustc":(\d+)/.exec(json)?.[1];
        assert.equal(field, tc.hash, `${tc.name}: ${tc.version.line}`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the fixtures carry exactly the installed stable and nightly fields', (t) => {
    const v2 = fixtureOrSkip(t, 'v2');
    const nightly = fixtureOrSkip(t, 'v2-nightly');
    if (!v2 || !nightly) return;
    const field = (fx: BuiltFixture): Set<string> => {
      const out = execFileSync('grep', ['-rhoE', '"rustc":[0-9]+', '--include=*.json', path.join(fx.buildDir, 'debug', 'build')], { encoding: 'utf8' });
      return new Set(out.trim().split('\n').map((l) => l.split(':')[1]!));
    };
    assert.deepEqual([...field(v2)], [toolchain('stable')?.hash]);
    assert.deepEqual([...field(nightly)], [toolchain('nightly')?.hash]);
  });

  test('rmeta headers name the rustc that wrote them', () => {
    const head = Buffer.concat([Buffer.from('rust\0\0\0\x0a\x79\x0b\0\0\0\0\0\0#', 'latin1'), Buffer.from('rustc 1.95.0 (59807616e 2026-04-14)'), Buffer.from([0xc1, 2])]);
    assert.equal(rmetaRustcVersion(head), 'rustc 1.95.0 (59807616e 2026-04-14)');
    assert.equal(rmetaRustcVersion(Buffer.from('nothing here')), null);
  });
});

describe('toolchains', () => {
  test('rustup list and toolchain files are read as rustup writes them', () => {
    assert.deepEqual(parseRustupList('stable-x86_64-unknown-linux-gnu (active, default) /r/toolchains/stable-x86_64-unknown-linux-gnu\nnightly-x86_64-unknown-linux-gnu /r/t/n\n'), [
      { name: 'stable-x86_64-unknown-linux-gnu', path: '/r/toolchains/stable-x86_64-unknown-linux-gnu' },
      { name: 'nightly-x86_64-unknown-linux-gnu', path: '/r/t/n' },
    ]);
    assert.deepEqual(parseRustupList('no installed toolchains\n'), []);
    assert.deepEqual(parseToolchainFile('[toolchain]\nchannel = "1.93.0"\ncomponents = ["clippy"]\n', 'rust-toolchain.toml'), { channel: '1.93.0', path: null });
    assert.deepEqual(parseToolchainFile('nightly-2026-05-01\n', 'rust-toolchain'), { channel: 'nightly-2026-05-01', path: null });
  });

  test('installed: rustup toolchains and rustc on PATH, each with the hash of its own -vV', (t) => {
    if (installed.length === 0) return t.skip('no toolchain found');
    for (const tc of installed) assert.equal(tc.hash, rustcFieldFromVerbose(tc.verbose));
    assert.equal(new Set(installed.map((x) => x.hash)).size, installed.length, 'deduplicated by hash');
  });

  test('a pinned toolchain that is not installed turns the toolchain reason off, with the reason said', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-pin-'));
    try {
      fs.writeFileSync(path.join(dir, 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.2.3"\n');
      const r = await findInstalledToolchains({ workspaceRoot: dir });
      assert.equal(r.toolchains, null);
      assert.equal(r.pinned?.channel, '1.2.3');
      assert.ok(r.notes.some((n) => n.includes('pins 1.2.3')), r.notes.join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without rustup or rustc on PATH: unknown, and said so', async () => {
    const r = await findInstalledToolchains({ env: { PATH: '/nonexistent', HOME: os.tmpdir() } });
    assert.equal(r.toolchains, null);
    assert.ok(r.notes.some((n) => /neither rustup nor rustc/.test(n)));
  });

  test('default layout by version: 1.100 stable and late nightlies write v2', () => {
    const vv = (release: string, date = '2026-01-01'): string => `rustc ${release} (x ${date})\nbinary: rustc\ncommit-date: ${date}\nrelease: ${release}\n`;
    assert.equal(defaultsToV2(vv('1.95.0')), false);
    assert.equal(defaultsToV2(vv('1.100.0')), true);
    assert.equal(defaultsToV2(vv('1.97.0-nightly', '2026-05-19')), false);
    assert.equal(defaultsToV2(vv('1.99.0-nightly', '2026-07-30')), true);
  });
});

describe('stale fixture: real legacy → v2, a feature switch, and a second toolchain', () => {
  // Commands: 0 stable legacy build, 1 stable v2 build, (leaf a → b), 2 stable v2 build, 3 nightly v2 build.
  test('with both toolchains: cargo\'s units of the last builds are live, the ones only the old builds used are superseded', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const a = await analyze(fx, installed);
    const all = units(a.scan);
    const live = new Set([...reportedUnitFolders(fx, 2), ...reportedUnitFolders(fx, 3)]);
    const before = reportedUnitFolders(fx, 1);
    const v2 = all.filter((u) => u.layout === 'v2');
    for (const u of v2) {
      if (live.has(folderOf(u))) assert.deepEqual(u.stale, [], `${u.id} is used by the last builds`);
    }
    const gone = [...before].filter((f) => !live.has(f));
    assert.ok(gone.length >= 3, `cargo stopped using ${gone.join(', ')}`);
    for (const f of gone) {
      const u = v2.find((x) => folderOf(x) === f)!;
      assert.ok(u, f);
      assert.deepEqual(reasonsOf(u), ['superseded'], `${f}: ${JSON.stringify(u.stale)}`);
    }
    const leafA = v2.find((u) => u.package === 'leaf' && JSON.stringify(u.features) === '["a"]')!;
    assert.match(leafA.stale[0]!.detail, /features a then, features b now/);
    assert.match(leafA.stale[0]!.detail, /not all enabled by the current manifests/);
    const leafB = v2.filter((u) => u.package === 'leaf' && JSON.stringify(u.features) === '["b"]');
    assert.equal(leafB.length, 2, 'one per toolchain');
    for (const u of leafB) assert.deepEqual(u.stale, []);
    // Every superseded unit is one cargo stopped using: nothing live is called superseded. Cargo names bins only
    // by their uplifted copy, so a bin is checked through the lib it was linked with instead.
    for (const u of v2.filter((x) => reasonsOf(x).includes('superseded'))) {
      if (u.kind === 'bin') {
        const lib = v2.find((x) => x.fingerprintHash === u.deps.find((d) => d.name === 'app')?.fingerprint)!;
        assert.ok(gone.includes(folderOf(lib)), `${u.id} was linked with ${lib.id}, which cargo no longer uses`);
      } else assert.ok(gone.includes(folderOf(u)), u.id);
    }
    for (const u of v2.filter((x) => x.kind === 'bin' && !reasonsOf(x).includes('superseded'))) {
      const lib = v2.find((x) => x.fingerprintHash === u.deps.find((d) => d.name === 'app')?.fingerprint)!;
      assert.ok(live.has(folderOf(lib)), `${u.id} is live with a live lib`);
    }
  });

  test('legacy pieces next to a later v2 build are legacy-leftover, with the evidence', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const a = await analyze(fx, installed);
    const legacy = units(a.scan).filter((u) => u.layout === 'legacy');
    assert.ok(legacy.length >= 8);
    for (const u of legacy) {
      assert.ok(reasonsOf(u).includes('legacy-leftover'), u.id);
      assert.match(u.stale.find((r) => r.reason === 'legacy-leftover')!.detail, /last built in layout v2/);
    }
    for (const f of reportedUnitFolders(fx, 0)) assert.ok(legacy.some((u) => u.hash === f), `legacy unit ${f} is in the model`);
  });

  test('the other toolchain is stale only when it is not in the list passed', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const stable = toolchain('stable');
    const nightly = toolchain('nightly');
    if (!stable || !nightly) return t.skip('needs rustup stable and nightly');
    const nightlyUnits = reportedUnitFolders(fx, 3);
    const stableUnits = reportedUnitFolders(fx, 2);

    const both = await analyze(fx, [stable, nightly]);
    assert.ok(units(both.scan).every((u) => !reasonsOf(u).includes('toolchain')));

    const onlyStable = await analyze(fx, [stable]);
    for (const u of units(onlyStable.scan).filter((x) => x.layout === 'v2')) {
      // Cargo reports root bins and proc-macros only by their uplifted copy: for those, the rustc field decides.
      const reported = [0, 1, 2, 3].some((i) => reportedUnitFolders(fx, i).has(folderOf(u)));
      const isNightly: boolean = reported ? nightlyUnits.has(folderOf(u)) : u.rustc === nightly.hash;
      assert.equal(reasonsOf(u).includes('toolchain'), isNightly, `${u.id}: ${JSON.stringify(u.stale)}`);
      if (isNightly) {
        const d = u.stale.find((r) => r.reason === 'toolchain')!.detail;
        assert.match(d, /rustc 1\.\d+\.\d+-nightly \(\w+ \d{4}-\d\d-\d\d\) built it and is not installed; installed: stable/);
      }
    }

    const onlyNightly = await analyze(fx, [nightly]);
    for (const u of units(onlyNightly.scan).filter((x) => x.layout === 'v2')) {
      if (stableUnits.has(folderOf(u)) || reportedUnitFolders(fx, 1).has(folderOf(u))) assert.ok(reasonsOf(u).includes('toolchain'), u.id);
      if (nightlyUnits.has(folderOf(u))) assert.ok(!reasonsOf(u).includes('toolchain'), u.id);
    }
  });

  test('unknown toolchains: the reason is not used, and the note says why', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const a = await analyze(fx, null);
    assert.ok(units(a.scan).every((u) => !reasonsOf(u).includes('toolchain')));
    assert.ok(a.notes.some((n) => /no unit is called stale for its toolchain/.test(n)));
  });

  test('incremental: folders of units that are gone and sessions rustc no longer reads', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const a = await analyze(fx, installed);
    const inc = a.items.filter((i) => i.kind === 'incremental');
    const sessions = a.items.filter((i) => i.kind === 'incremental-session');
    // leaf was compiled with features a (legacy, then v2 reusing the folder), then with b by each toolchain.
    const leafFolders = [...a.incremental.keys()].filter((p) => path.basename(p).startsWith('leaf-'));
    assert.equal(leafFolders.length, 3);
    assert.equal(inc.filter((i) => path.basename(i.id).startsWith('leaf-')).length, 1, 'only the feature-a folder is orphaned');
    for (const i of [...inc, ...sessions]) assert.deepEqual(i.reasons.map((r) => r.reason), ['orphaned-incremental']);
    assert.ok(sessions.length > 0, 'the v2 build reused legacy folders and left their older sessions');
    for (const s of sessions) {
      const folder = a.scan.buildDirs[0]!.profiles.flatMap((p) => p.incremental).find((c) => c.sessions.some((x) => x.path === s.id))!;
      const newest = Math.max(...folder.sessions.map((x) => x.startedAt ?? 0));
      assert.ok(folder.sessions.find((x) => x.path === s.id)!.startedAt! < newest, 'never the newest session');
    }
  });

  test('without cargo\'s resolve only what cannot be used as it is would be superseded: here, nothing', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const a = await analyze(fx, installed, { resolve: false });
    assert.ok(units(a.scan).every((u) => !reasonsOf(u).includes('superseded')), 'a switched feature is invisible on disk alone');
  });

  test('idle is off by default and, when asked, labelled a guess', async (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const off = await analyze(fx, installed);
    assert.ok(off.items.every((i) => !i.reasons.some((r) => r.reason === 'idle')));
    const later = Date.now() + 40 * 86_400_000;
    const on = await analyze(fx, installed, { idleDays: 30, now: later });
    const idle = units(on.scan).filter((u) => reasonsOf(u).includes('idle'));
    assert.ok(idle.length > 0);
    for (const u of idle) {
      assert.match(u.stale.find((r) => r.reason === 'idle')!.detail, /a guess/);
      assert.deepEqual(reasonsOf(u), ['idle'], 'never added to a unit that has a stronger reason');
    }
    const soon = await analyze(fx, installed, { idleDays: 30 });
    assert.ok(units(soon.scan).every((u) => !reasonsOf(u).includes('idle')), 'everything was built minutes ago');
  });
});

describe('other fixtures', () => {
  test('interrupted: the units whose hash file cargo left empty are failed, and only those', async (t) => {
    const fx = fixtureOrSkip(t, 'interrupted');
    if (!fx) return;
    const a = await analyze(fx, installed);
    const empty = new Set((fx.emptyHashFiles ?? []).map((f) => f.split('/').slice(2, 4).join('/')));
    assert.ok(empty.size > 0);
    for (const u of units(a.scan)) {
      assert.equal(reasonsOf(u).includes('failed'), empty.has(folderOf(u)), `${u.id}: ${JSON.stringify(u.stale)}`);
      if (empty.has(folderOf(u))) assert.match(u.stale[0]!.detail, /failed or was interrupted/);
    }
  });

  for (const name of ['legacy', 'v2', 'registry', 'registry-v2', 'v2-nightly'] as FixtureName[]) {
    test(`${name}: build, check, test, bench, doc, --target variants are all live (dev-dependency feature unification included)`, async (t) => {
      const fx = fixtureOrSkip(t, name);
      if (!fx) return;
      for (const resolve of [true, false]) {
        const a = await analyze(fx, installed, { resolve });
        const stale = units(a.scan).filter((u) => u.stale.length);
        assert.deepEqual(stale.map((u) => `${u.id} ${JSON.stringify(u.stale)}`), []);
        assert.deepEqual(a.items.filter((i) => i.kind === 'incremental').map((i) => i.id), []);
      }
    });
  }

  test('separate build dir: incremental folders of crates only legacy units compiled are orphaned', async (t) => {
    const fx = fixtureOrSkip(t, 'separate');
    if (!fx) return;
    const a = await analyze(fx, installed);
    const orphans = a.items.filter((i) => i.kind === 'incremental');
    // The v2 build ran with --target: app, tool and bs were compiled for the target only, so in the host profile
    // folder no current unit compiles them. Host crates (build scripts, the build-dependency, the proc-macro) were
    // compiled again by the v2 build into the same folder: their legacy incremental data can be orphaned only by
    // time, and only when the two builds were more than the clock slack apart, which depends on the machine.
    const crate = (o: { paths: readonly string[] }) => path.basename(o.paths[0]!).replace(/-[0-9a-z]+$/, '');
    const targetOnly = new Set(['app', 'tool', 'bs']);
    assert.deepEqual([...new Set(orphans.map(crate).filter((c) => targetOnly.has(c)))].sort(), [...targetOnly].sort());
    for (const o of orphans) {
      assert.match(o.reasons[0]!.detail, targetOnly.has(crate(o)) ? /no current unit compiles crate/ : /Matching by time is a deduction/, o.paths[0]);
    }
  });
});

describe('command line', () => {
  test('scan --json fills stale[] with {reason, detail}; stale --json lists items with evidence', (t) => {
    const fx = fixtureOrSkip(t, STALE);
    if (!fx) return;
    const r = spawnSync(process.execPath, [CLI, 'scan', fx.workspace, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const us = j.buildDirs.flatMap((b: { profiles: { units: { stale: { reason: string; detail: string }[] }[] }[] }) => b.profiles.flatMap((p) => p.units));
    const stale = us.filter((u: { stale: unknown[] }) => u.stale.length);
    assert.ok(stale.length > 0 && stale.length < us.length);
    for (const u of stale) for (const s of u.stale) assert.ok(typeof s.reason === 'string' && s.detail.length > 20);

    const s = spawnSync(process.execPath, [CLI, 'stale', fx.workspace, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(s.status, 0, s.stderr);
    const sj = JSON.parse(s.stdout);
    assert.equal(sj.schema, 1);
    assert.ok(sj.items.length > 0);
    const reasons = new Set(sj.items.flatMap((i: { reasons: { reason: string }[] }) => i.reasons.map((x) => x.reason)));
    for (const want of ['legacy-leftover', 'superseded', 'orphaned-incremental']) assert.ok(reasons.has(want), want);
    const human = spawnSync(process.execPath, [CLI, 'stale', fx.workspace], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(human.status, 0);
    assert.match(human.stdout, /superseded: lib leaf/);
    assert.match(human.stdout, /note: compared with the installed toolchains/);
  });
});
