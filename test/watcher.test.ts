// The watcher on a copy of a real cargo build dir, driving the whole loop a tree view runs: batches of paths →
// changeScope → applyRefresh → watch(new model). Cargo runs asynchronously so that events arrive while it
// builds. Every wait is on an event or a condition (with a timeout): a sentinel file created and removed in a
// watched folder marks the end of what cargo wrote, because inotify delivers events in order.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureOrSkip } from './helpers/fixtures';
import { locateBuildDirs } from '../src/node/cargo';
import { createWalker } from '../src/node/walker';
import { BuildDirWatcher, processInotifyWatches, MIN_INTERVAL_MS } from '../src/node/watcher';
import { applyRefresh, changeScope, scanForRefresh } from '../src/core/refresh';
import { scanBuildDirs, type BuildDirLocationLike } from '../src/core/scan';
import type { ScanResult } from '../src/core/model';
import type { Walker } from '../src/core/walk';

const TIMEOUT_MS = 60_000;

let walker: Walker;
const temps: string[] = [];
before(async () => {
  walker = await createWalker({ build: true });
});
after(() => {
  walker.close();
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

type Members = readonly { readonly name: string; readonly version: string; readonly procMacro?: boolean }[];

/** The loop a view runs, recording every batch. */
class Loop {
  readonly batches: { at: number; paths: string[] }[] = [];
  readonly errors: Error[] = [];
  readonly watcher: BuildDirWatcher;
  private readonly listeners = new Set<() => void>();
  private sentinels = 0;

  constructor(
    public model: ScanResult,
    private readonly members: Members,
  ) {
    this.watcher = new BuildDirWatcher({
      onChanges: async (paths) => {
        this.batches.push({ at: Date.now(), paths });
        const { result } = await applyRefresh(this.model, changeScope(this.model, paths), { walker, members: this.members });
        this.model = result;
        this.watcher.watch(result, { members: this.members.map((m) => m.name) });
        for (const l of this.listeners) l();
      },
      onError: (e) => this.errors.push(e),
    });
    this.watcher.watch(model, { members: members.map((m) => m.name) });
  }

  /** Resolves once `pred` holds after a batch has been applied (or already holds). */
  until(pred: () => boolean, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, TIMEOUT_MS);
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  /** Waits until every event before this call has been delivered and applied. */
  async sync(folder: string): Promise<void> {
    assert.ok(await this.watcher.ready(), 'the watches are in place');
    const p = path.join(folder, `.sync-${process.pid}-${++this.sentinels}`);
    const from = this.batches.length;
    fs.writeFileSync(p, '');
    fs.rmSync(p);
    await this.until(() => this.batches.slice(from).some((b) => b.paths.includes(p)), `the sentinel ${p}`);
  }

  since(mark: number): string[] {
    return this.batches.slice(mark).flatMap((b) => b.paths);
  }
}

interface Ws {
  readonly dir: string;
  readonly buildDir: string;
  readonly locations: readonly BuildDirLocationLike[];
  readonly members: Members;
  readonly workspaceRoot: string | null;
}

async function workspace(t: Parameters<typeof fixtureOrSkip>[0]): Promise<Ws | null> {
  const fx = fixtureOrSkip(t, 'v2');
  if (!fx) return null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'watcher-'));
  temps.push(tmp);
  const dir = path.join(tmp, 'ws');
  execFileSync('cp', ['-a', fx.workspace, dir]);
  const located = await locateBuildDirs(dir, {});
  if (located.kind !== 'workspace') throw new Error('the copy is not a workspace');
  return {
    dir,
    buildDir: located.dirs.buildDirs[0]!.path,
    locations: located.dirs.buildDirs,
    members: located.dirs.members,
    workspaceRoot: located.dirs.workspaceRoot,
  };
}

/** cargo, asynchronously (the event loop keeps delivering watcher events); resolves with its wall time. */
function cargo(ws: Ws, args: string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, CARGO_TERM_COLOR: 'never', RUSTC_BOOTSTRAP: '1' };
  for (const k of ['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR', 'RUSTFLAGS', 'CARGO_INCREMENTAL']) delete env[k];
  const extra = args[0] === 'clean' ? [] : ['--offline', '-j2', '-Zbuild-dir-new-layout'];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('cargo', [...args, ...extra], { cwd: ws.dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Date.now() - started) : reject(new Error(`cargo ${args.join(' ')}: exit ${code}\n${stderr}`))));
  });
}

function appendTo(ws: Ws, file: string, text: string): void {
  fs.appendFileSync(path.join(ws.dir, file), text);
}

async function assertEqualsFullScan(ws: Ws, loop: Loop): Promise<void> {
  const full = await scanBuildDirs(ws.locations, { walker, members: ws.members, workspaceRoot: ws.workspaceRoot });
  assert.deepEqual(loop.model, full, 'the model kept by the watcher equals a full scan');
}

function count(dir: string, type: 'd' | 'f'): number {
  return Number(execFileSync('sh', ['-c', `find "$1" ${type === 'd' ? '-type d' : '! -type d'} | wc -l`, 'sh', dir], { encoding: 'utf8' }).trim());
}

describe('BuildDirWatcher on a real build dir', () => {
  let ws: Ws | null = null;
  let loop: Loop | null = null;
  after(async () => {
    await loop?.watcher.close();
  });

  test('holds one watch per folder that identifies units, none per file', async (t) => {
    ws = await workspace(t);
    if (!ws) return;
    const model = await scanForRefresh(ws.locations, { walker, members: ws.members, workspaceRoot: ws.workspaceRoot });
    loop = new Loop(model, ws.members);
    await loop.sync(ws.buildDir);
    const b = loop.model.buildDirs[0]!;
    const profiles = b.profiles.length;
    const triples = new Set(b.profiles.filter((p) => p.platform !== null).map((p) => p.platform)).size;
    const packageFolders = b.profiles.reduce((n, p) => n + new Set(p.units.filter((u) => u.layout === 'v2').map((u) => u.package)).size, 0);
    const memberUnits = b.profiles.reduce((n, p) => n + p.units.filter((u) => u.parts.some((x) => x.name === 'fingerprint')).length, 0);
    const dirs = count(ws.buildDir, 'd');
    const files = count(ws.buildDir, 'f');
    const held = loop.watcher.watchCount();
    t.diagnostic(`${held} inotify watches; ${packageFolders} package folders, ${memberUnits} member units, ${profiles} profiles; ${dirs} folders and ${files} files in the build dir`);
    // Per profile: the folder itself, build/, .fingerprint/, incremental/; plus the build dir and <triple>/ folders.
    assert.ok(held <= packageFolders + memberUnits + 4 * profiles + 1 + triples, `${held} watches`);
    assert.ok(held > 0);
    assert.equal(processInotifyWatches(), held, 'every inotify watch of the process is one of the watched folders');
    assert.ok(held < dirs / 2 && held * 10 < files, `${held} watches for ${dirs} folders and ${files} files`);
  });

  test('reports a cargo build burst as a few coalesced batches, and the model stays exact', async (t) => {
    if (!ws || !loop) return t.skip('no workspace');
    // util is at the bottom of the graph: every target of every package that uses it is rebuilt.
    appendTo(ws, 'util/src/lib.rs', '\npub fn burst() -> u8 { 7 }\n');
    const mark = loop.batches.length;
    const events = loop.watcher.stats().events;
    const stamp = path.join(path.dirname(ws.dir), 'stamp');
    fs.writeFileSync(stamp, '');
    const ms = await cargo(ws, ['build', '--all-targets']);
    await loop.sync(ws.buildDir);
    const written = Number(execFileSync('sh', ['-c', 'find "$1" -newer "$2" | wc -l', 'sh', ws.buildDir, stamp], { encoding: 'utf8' }).trim());
    const batches = loop.batches.slice(mark);
    const seen = loop.watcher.stats().events - events;
    const paths = batches.reduce((n, b) => n + b.paths.length, 0);
    t.diagnostic(`cargo build --all-targets: ${ms} ms, ${written} entries written; ${seen} events on watched folders, ${paths} distinct paths, ${batches.length} batches`);
    // Batches start at least MIN_INTERVAL_MS apart: at most one per that long of building, plus the sentinel's.
    assert.ok(batches.length <= Math.ceil(ms / MIN_INTERVAL_MS) + 1, `${batches.length} batches for a ${ms} ms build`);
    // And a batch carries several events: how many depends on how the build's writes fall in time (8 to 15 per
    // batch were seen on one machine), so the bound only rules out a batch per event or two.
    assert.ok(batches.length * 4 <= seen, `${seen} events coalesce into ${batches.length} batches`);
    await assertEqualsFullScan(ws, loop);
  });

  test('sees a member rebuilt in place (same unit folder, new fingerprint)', async (t) => {
    if (!ws || !loop) return t.skip('no workspace');
    const prof = loop.model.buildDirs[0]!.profiles.find((p) => p.name === 'debug' && p.platform === null)!;
    // The variant app's normal dependency builds (not the build-dependency's, nor the dev-dependency's).
    const lib = prof.units.find((u) => u.package === 'util' && u.kind === 'lib' && u.mode === 'build' && JSON.stringify(u.features) === '["default","fancy"]')!;
    const fp = lib.parts.find((x) => x.name === 'fingerprint')!.path;
    appendTo(ws, 'util/src/lib.rs', '\npub fn in_place() -> u8 { 8 }\n');
    const mark = loop.batches.length;
    await cargo(ws, ['build']);
    await loop.sync(ws.buildDir);
    assert.ok(loop.since(mark).some((p) => p.startsWith(fp + path.sep)), `a change inside ${fp} was reported`);
    const now = loop.model.buildDirs[0]!.profiles.find((p) => p.id === prof.id)!.units.find((u) => u.id === lib.id)!;
    assert.ok((now.builtAt ?? 0) > (lib.builtAt ?? 0), 'the unit was read again');
    await assertEqualsFullScan(ws, loop);
  });

  test('sees a new unit folder', async (t) => {
    if (!ws || !loop) return t.skip('no workspace');
    const prof = loop.model.buildDirs[0]!.profiles.find((p) => p.name === 'debug' && p.platform === null)!;
    const known = new Set(prof.units.map((u) => u.hash));
    const manifest = path.join(ws.dir, 'app', 'Cargo.toml');
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('features = ["fancy"]', 'features = ["fancy", "plain"]'));
    const mark = loop.batches.length;
    await cargo(ws, ['build']);
    await loop.sync(ws.buildDir);
    const utilDir = path.join(prof.path, 'build', 'util');
    const fresh = loop.since(mark).filter((p) => path.dirname(p) === utilDir && !known.has(path.basename(p)));
    assert.ok(fresh.length > 0, 'a new folder in build/util/ was reported');
    const units = loop.model.buildDirs[0]!.profiles.find((p) => p.id === prof.id)!.units;
    assert.ok(units.some((u) => u.package === 'util' && !known.has(u.hash)), 'and is in the model');
    await assertEqualsFullScan(ws, loop);
  });

  test('survives cargo clean and the build dir being created again', async (t) => {
    if (!ws || !loop) return t.skip('no workspace');
    const w = ws;
    const l = loop;
    await cargo(w, ['clean']);
    await l.until(() => l.model.buildDirs[0]?.exists === false, 'the build dir to be gone from the model');
    assert.deepEqual(l.watcher.watchedFolders(), [path.dirname(w.buildDir)], 'only the parent is watched, for the build dir to come back');
    assert.ok(await l.watcher.ready());
    assert.equal(l.watcher.watchCount(), 1);
    assert.equal(processInotifyWatches(), 1, 'the watches of the vanished folders are released');
    await cargo(w, ['build']);
    await l.until(() => l.model.buildDirs[0]?.exists === true && l.watcher.watchCount() > 1, 'the build dir to be back');
    await l.sync(w.buildDir);
    await assertEqualsFullScan(w, l);
    assert.equal(processInotifyWatches(), l.watcher.watchCount());
  });

  test('survives the build dir being replaced by another folder', async (t) => {
    if (!ws || !loop) return t.skip('no workspace');
    const w = ws;
    const l = loop;
    const old = `${w.buildDir}.old`;
    const mark = l.batches.length;
    fs.renameSync(w.buildDir, old);
    execFileSync('cp', ['-a', old, w.buildDir]);
    fs.rmSync(old, { recursive: true });
    await l.until(() => l.since(mark).includes(w.buildDir), 'the replacement to be reported');
    await l.sync(w.buildDir);
    await assertEqualsFullScan(w, l);
    // The new folder is watched: a rebuild in place is seen.
    appendTo(w, 'app/src/lib.rs', '\npub fn after_replace() -> u8 { 9 }\n');
    const again = l.batches.length;
    await cargo(w, ['build']);
    await l.sync(w.buildDir);
    assert.ok(l.since(again).some((p) => p.startsWith(path.join(w.buildDir, 'debug', 'build', 'app') + path.sep)), 'changes in the new folder are reported');
    await assertEqualsFullScan(w, l);
    assert.deepEqual(l.errors, []);
  });
});

describe('coalescing', () => {
  test('a long burst is delivered at least once per maximum wait, and quickly after it ends', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watcher-burst-'));
    temps.push(dir);
    const model: ScanResult = {
      workspaceRoot: null,
      walker: 'none',
      problems: [],
      buildDirs: [{ id: dir, path: dir, role: 'both', discovery: 'given path', exists: true, profiles: [], other: [], bytes: 0 }],
    };
    const batches: { at: number; paths: string[] }[] = [];
    let done: (() => void) | null = null;
    const end = path.join(dir, 'end');
    const w = new BuildDirWatcher({
      debounceMs: 100,
      maxWaitMs: 500,
      onChanges: (paths) => {
        batches.push({ at: Date.now(), paths });
        if (paths.includes(end)) done?.();
      },
    });
    w.watch(model);
    const started = Date.now();
    let i = 0;
    // A writer that never pauses longer than the debounce, for two seconds.
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        for (let k = 0; k < 20; k++) fs.writeFileSync(path.join(dir, `f${i++ % 50}`), String(i));
        if (Date.now() - started > 2000) {
          clearInterval(tick);
          resolve();
        }
      }, 20);
    });
    const finished = Date.now();
    const delivered = new Promise<void>((resolve) => (done = resolve));
    fs.writeFileSync(end, '');
    await delivered;
    await w.close();
    const during = batches.filter((b) => b.at <= finished);
    assert.ok(during.length >= 3, `${during.length} batches during a 2 s burst with a 500 ms maximum wait`);
    assert.ok(batches.length <= 7, `${batches.length} batches in all`);
    for (const b of batches) assert.equal(new Set(b.paths).size, b.paths.length, 'paths are deduplicated');
    assert.ok(batches.reduce((n, b) => n + b.paths.length, 0) < i, 'rewrites of one file coalesce');
  });
});

describe('units read before cargo finished them', () => {
  test('a non-member unit caught half-written is read again when cargo writes its hash file', async (t) => {
    const fx = fixtureOrSkip(t, 'registry-v2');
    if (!fx) return;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'watcher-unfinished-'));
    temps.push(tmp);
    const dir = path.join(tmp, 'ws');
    execFileSync('cp', ['-a', fx.workspace, dir]);
    const located = await locateBuildDirs(dir, {});
    if (located.kind !== 'workspace') throw new Error('the copy is not a workspace');
    const w: Ws = { dir, buildDir: located.dirs.buildDirs[0]!.path, locations: located.dirs.buildDirs, members: located.dirs.members, workspaceRoot: located.dirs.workspaceRoot };
    // The libc lib unit is set aside, then put back the way cargo writes one: folders, outputs, hash file last.
    const pkgDir = path.join(w.buildDir, 'debug', 'build', 'libc');
    const hash = fs.readdirSync(pkgDir).find((h) => fs.existsSync(path.join(pkgDir, h, 'fingerprint', 'lib-libc')))!;
    const unitDir = path.join(pkgDir, hash);
    const aside = path.join(tmp, 'unit');
    fs.renameSync(unitDir, aside);
    const model = await scanForRefresh(w.locations, { walker, members: w.members, workspaceRoot: w.workspaceRoot });
    const loop = new Loop(model, w.members);
    try {
      await loop.sync(w.buildDir);
      fs.mkdirSync(path.join(unitDir, 'fingerprint'), { recursive: true });
      fs.mkdirSync(path.join(unitDir, 'out'));
      await loop.sync(w.buildDir);
      const half = loop.model.buildDirs[0]!.profiles.flatMap((p) => p.units).find((u) => u.paths[0] === unitDir);
      assert.ok(half && half.fingerprintHash === null, 'the unit is in the model, unfinished');
      assert.ok(loop.watcher.watchedFolders().includes(path.join(unitDir, 'fingerprint')), 'its fingerprint folder is watched until it is finished');
      for (const f of fs.readdirSync(path.join(aside, 'out'))) fs.copyFileSync(path.join(aside, 'out', f), path.join(unitDir, 'out', f));
      for (const f of fs.readdirSync(path.join(aside, 'fingerprint')).filter((f) => f !== 'lib-libc')) {
        fs.copyFileSync(path.join(aside, 'fingerprint', f), path.join(unitDir, 'fingerprint', f));
      }
      fs.copyFileSync(path.join(aside, 'fingerprint', 'lib-libc'), path.join(unitDir, 'fingerprint', 'lib-libc'));
      await loop.sync(w.buildDir);
      const done = loop.model.buildDirs[0]!.profiles.flatMap((p) => p.units).find((u) => u.paths[0] === unitDir);
      assert.ok(done?.fingerprintHash, 'the finished unit was read again');
      assert.ok(!loop.watcher.watchedFolders().includes(path.join(unitDir, 'fingerprint')), 'and is no longer watched');
      await assertEqualsFullScan(w, loop);
    } finally {
      await loop.watcher.close();
    }
  });
});
