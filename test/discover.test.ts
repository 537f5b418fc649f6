// Tests for finding build directories (src/core/discover.ts, src/node/cargo.ts). Every rule of
// dirsWithoutCargo is checked against what real `cargo metadata` reports for a copy of sample/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  OTHER,
  dirsFromMetadata,
  dirsWithoutCargo,
  findWorkspaceRoot,
  looksLikeBuildDir,
  readToml,
  type WorkspaceDirs,
} from '../src/core/discover';
import { locateBuildDirs, runCargoMetadata } from '../src/node/cargo';
import { REPO_ROOT } from './helpers/fixtures';

const SAMPLE = path.join(REPO_ROOT, 'sample');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-discover-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh folder; the sample workspace is copied to `<folder>/ws`. */
function sampleCopy(): { base: string; ws: string } {
  const base = path.join(scratch, `case-${++counter}`);
  const ws = path.join(base, 'ws');
  fs.cpSync(SAMPLE, ws, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(SAMPLE, src);
      return rel !== 'target' && rel !== '.ready';
    },
  });
  return { base, ws };
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** The caller's environment without anything that moves cargo's folders. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR']) delete env[k];
  return { ...env, ...extra };
}

function dirsSummary(d: WorkspaceDirs) {
  return {
    workspaceRoot: d.workspaceRoot,
    buildDirs: d.buildDirs.map((b) => ({ path: b.path, role: b.role })),
  };
}

async function viaCargo(cwd: string, env: NodeJS.ProcessEnv): Promise<WorkspaceDirs> {
  const meta = await runCargoMetadata(cwd, { env });
  assert.ok(meta.ok, `cargo metadata failed: ${meta.ok ? '' : meta.message}`);
  return dirsFromMetadata(meta.json);
}

/** Runs both ways and checks that they agree; returns the fallback's answer. */
async function agree(ws: string, env: NodeJS.ProcessEnv, cwd = ws): Promise<{ cargo: WorkspaceDirs; fallback: WorkspaceDirs }> {
  const cargo = await viaCargo(cwd, env);
  const fallback = await dirsWithoutCargo(ws, env, cwd);
  assert.deepEqual(dirsSummary(fallback), dirsSummary(cargo));
  assert.deepEqual(fallback.members, cargo.members);
  assert.ok(cargo.buildDirs.every((b) => b.discovery === 'cargo-metadata'));
  return { cargo, fallback };
}

describe('dirsWithoutCargo agrees with cargo metadata', () => {
  test('default: <workspace>/target is both build-dir and target-dir', async () => {
    const { ws } = sampleCopy();
    const { fallback } = await agree(ws, cleanEnv());
    assert.deepEqual(fallback.buildDirs, [{ path: path.join(ws, 'target'), role: 'both', discovery: 'default <workspace>/target' }]);
    assert.deepEqual(
      fallback.members.map((m) => `${m.name}@${m.version}`),
      ['app@0.3.1', 'bs@0.1.0', 'pmacro@0.1.0', 'util@0.2.0'],
    );
  });

  test('CARGO_TARGET_DIR, relative to the current directory', async () => {
    const { ws } = sampleCopy();
    const { fallback } = await agree(ws, cleanEnv({ CARGO_TARGET_DIR: 'tdir' }), path.join(ws, 'app'));
    assert.deepEqual(fallback.buildDirs, [{ path: path.join(ws, 'app', 'tdir'), role: 'both', discovery: 'CARGO_TARGET_DIR' }]);
  });

  test('CARGO_TARGET_DIR, absolute, wins over CARGO_BUILD_TARGET_DIR and config', async () => {
    const { base, ws } = sampleCopy();
    write(path.join(ws, '.cargo', 'config.toml'), '[build]\ntarget-dir = "from-config"\n');
    const { fallback } = await agree(ws, cleanEnv({ CARGO_TARGET_DIR: path.join(base, 'abs'), CARGO_BUILD_TARGET_DIR: 'other' }));
    assert.deepEqual(fallback.buildDirs, [{ path: path.join(base, 'abs'), role: 'both', discovery: 'CARGO_TARGET_DIR' }]);
  });

  test('CARGO_BUILD_TARGET_DIR wins over config', async () => {
    const { ws } = sampleCopy();
    write(path.join(ws, '.cargo', 'config.toml'), '[build]\ntarget-dir = "from-config"\n');
    const { fallback } = await agree(ws, cleanEnv({ CARGO_BUILD_TARGET_DIR: 'from-env' }));
    assert.equal(fallback.buildDirs[0]?.path, path.join(ws, 'from-env'));
  });

  test('CARGO_BUILD_BUILD_DIR: build-dir and target-dir separate', async () => {
    const { ws } = sampleCopy();
    const { fallback } = await agree(ws, cleanEnv({ CARGO_BUILD_BUILD_DIR: 'bb' }));
    assert.deepEqual(fallback.buildDirs, [
      { path: path.join(ws, 'bb'), role: 'build-dir', discovery: 'CARGO_BUILD_BUILD_DIR' },
      { path: path.join(ws, 'target'), role: 'target-dir', discovery: 'default <workspace>/target' },
    ]);
  });

  test('CARGO_BUILD_BUILD_DIR with a template; the build-dir follows CARGO_TARGET_DIR only when unset', async () => {
    const { ws } = sampleCopy();
    const { fallback } = await agree(ws, cleanEnv({ CARGO_BUILD_BUILD_DIR: '{workspace-root}/tpl', CARGO_TARGET_DIR: 'tt' }));
    assert.deepEqual(
      fallback.buildDirs.map((b) => [b.path, b.role]),
      [
        [path.join(ws, 'tpl'), 'build-dir'],
        [path.join(ws, 'tt'), 'target-dir'],
      ],
    );
  });

  test('.cargo/config.toml with build-dir = "{workspace-root}/bdir" and target-dir = "out"', async () => {
    const { ws } = sampleCopy();
    write(
      path.join(ws, '.cargo', 'config.toml'),
      '# project settings\n[build]\nbuild-dir = "{workspace-root}/bdir"  # next to the sources\ntarget-dir = "out"\n\n[term]\nverbose = false\n',
    );
    const { fallback } = await agree(ws, cleanEnv());
    assert.deepEqual(fallback.buildDirs, [
      { path: path.join(ws, 'bdir'), role: 'build-dir', discovery: 'config build.build-dir' },
      { path: path.join(ws, 'out'), role: 'target-dir', discovery: 'config build.target-dir' },
    ]);
  });

  test('legacy .cargo/config in a parent folder, dotted key, literal string: relative to that parent', async () => {
    const { base, ws } = sampleCopy();
    write(path.join(base, '.cargo', 'config'), "build.target-dir = 'shared-target'\n");
    const { fallback } = await agree(ws, cleanEnv());
    assert.deepEqual(fallback.buildDirs, [{ path: path.join(base, 'shared-target'), role: 'both', discovery: 'config build.target-dir' }]);
  });

  test('a nearer config file wins, key by key', async () => {
    const { base, ws } = sampleCopy();
    write(path.join(base, '.cargo', 'config.toml'), '[build]\ntarget-dir = "outer-target"\nbuild-dir = "outer-build"\n');
    write(path.join(ws, '.cargo', 'config.toml'), '[build]\ntarget-dir = "inner-target"\n');
    const { fallback } = await agree(ws, cleanEnv());
    assert.deepEqual(
      fallback.buildDirs.map((b) => b.path),
      [path.join(base, 'outer-build'), path.join(ws, 'inner-target')],
    );
  });

  test('config is looked up from the current directory, as cargo does (a member folder)', async () => {
    const { ws } = sampleCopy();
    write(path.join(ws, 'app', '.cargo', 'config.toml'), '[build]\ntarget-dir = "member-target"\n');
    const { fallback } = await agree(ws, cleanEnv(), path.join(ws, 'app'));
    assert.equal(fallback.buildDirs[0]?.path, path.join(ws, 'app', 'member-target'));
  });

  test('$CARGO_HOME/config.toml with {cargo-cache-home}', async () => {
    const { base, ws } = sampleCopy();
    const home = path.join(base, 'cargo-home');
    write(path.join(home, 'config.toml'), '[build]\nbuild-dir = "{cargo-cache-home}/builds/sample"\ntarget-dir = "home-target"\n');
    const { fallback } = await agree(ws, cleanEnv({ CARGO_HOME: home }));
    assert.deepEqual(fallback.buildDirs, [
      { path: path.join(home, 'builds', 'sample'), role: 'build-dir', discovery: 'config build.build-dir' },
      // Relative to the parent of the folder holding config.toml, like any config file.
      { path: path.join(base, 'home-target'), role: 'target-dir', discovery: 'config build.target-dir' },
    ]);
  });

  test('{workspace-path-hash} is reported as unsupported, and the target dir is shown instead', async () => {
    const { base, ws } = sampleCopy();
    const home = path.join(base, 'cargo-home');
    write(path.join(ws, '.cargo', 'config.toml'), '[build]\nbuild-dir = "{cargo-cache-home}/build/{workspace-path-hash}"\n');
    const env = cleanEnv({ CARGO_HOME: home });
    const cargo = await viaCargo(ws, env);
    // cargo knows the hash: `<home>/build/xx/yyyyyyyyyyyyyy`.
    assert.match(cargo.buildDirs[0]?.path ?? '', /build[/\\][0-9a-f]{2}[/\\][0-9a-f]{14}$/);
    const fallback = await dirsWithoutCargo(ws, env, ws);
    assert.deepEqual(fallback.buildDirs, [{ path: path.join(ws, 'target'), role: 'both', discovery: 'default <workspace>/target' }]);
    assert.ok(fallback.notes.some((n) => n.includes('{workspace-path-hash}')), fallback.notes.join('\n'));
  });

  test('workspace with member globs and a version inherited from the workspace', async () => {
    const base = path.join(scratch, `case-${++counter}`);
    write(
      path.join(base, 'Cargo.toml'),
      '[workspace]\nmembers = [\n  "crates/*", # all of them\n]\nexclude = ["crates/skip"]\nresolver = "2"\n[workspace.package]\nversion = "1.2.3"\n',
    );
    for (const n of ['alpha', 'beta', 'skip']) {
      write(path.join(base, 'crates', n, 'Cargo.toml'), `[package]\nname = "${n}"\nversion.workspace = true\nedition = "2021"\n`);
      write(path.join(base, 'crates', n, 'src', 'lib.rs'), '');
    }
    write(path.join(base, 'crates', 'skip', 'Cargo.toml'), '[package]\nname = "skip"\nversion = "0.1.0"\n[workspace]\n');
    await agree(base, cleanEnv());
  });
});

describe('dirsFromMetadata', () => {
  test('same folder → one entry with role both; different → two', () => {
    const one = dirsFromMetadata({ workspace_root: '/w', target_directory: '/w/target', build_directory: '/w/target', packages: [] });
    assert.deepEqual(one.buildDirs, [{ path: path.resolve('/w/target'), role: 'both', discovery: 'cargo-metadata' }]);
    const two = dirsFromMetadata({ workspace_root: '/w', target_directory: '/w/t', build_directory: '/w/b', packages: [] });
    assert.deepEqual(
      two.buildDirs.map((b) => b.role),
      ['build-dir', 'target-dir'],
    );
  });

  test('cargo before 1.91 has no build_directory: one folder and a note', () => {
    const d = dirsFromMetadata({
      workspace_root: '/w',
      target_directory: '/w/target',
      packages: [{ name: 'a', version: '1.0.0', manifest_path: '/w/Cargo.toml' }],
    });
    assert.equal(d.buildDirs.length, 1);
    assert.equal(d.buildDirs[0]?.role, 'both');
    assert.equal(d.notes.length, 1);
    assert.deepEqual(d.members, [{ name: 'a', version: '1.0.0', manifestPath: path.resolve('/w/Cargo.toml'), procMacro: false }]);
  });

  test('paths are normalized (cargo joins relative settings without normalizing)', () => {
    const d = dirsFromMetadata({ workspace_root: '/w', target_directory: '/w/../x/./y/', build_directory: '/w/../x/./y/' });
    assert.equal(d.buildDirs[0]?.path, path.resolve('/x/y'));
  });

  test('rejects what is not cargo metadata', () => {
    assert.throws(() => dirsFromMetadata(null));
    assert.throws(() => dirsFromMetadata({ packages: [] }));
  });
});

describe('readToml', () => {
  test('tables, dotted and quoted keys, the four string forms, comments', () => {
    const t = readToml(
      [
        'top = "a # not a comment"  # a comment',
        "build.target-dir = 'C:\\dir'",
        '[ build ]',
        '"build-dir" = "x\\ty\\u0041\\"q\\""',
        'jobs = 4',
        '[env]',
        'ML = """',
        'one \\',
        '   two"""',
        "LIT = '''",
        "first",
        "second'''",
        'inline = { a = "1", b.c = [1, "two", [3]] }',
        '[[bin]]',
        'name = "x"',
        '[[bin]]',
        'name = "y"',
      ].join('\n'),
    );
    assert.equal(t.get('top'), 'a # not a comment');
    assert.equal(t.get('build.target-dir'), 'C:\\dir');
    assert.equal(t.get('build.build-dir'), 'x\tyA"q"');
    assert.equal(t.get('build.jobs'), OTHER);
    assert.equal(t.get('env.ML'), 'one two');
    assert.equal(t.get('env.LIT'), 'first\nsecond');
    assert.equal(t.get('env.inline.a'), '1');
    assert.deepEqual(t.get('env.inline.b.c'), [OTHER, 'two', [OTHER]]);
  });

  test('errors that cargo would also reject', () => {
    assert.throws(() => readToml('[build]\n[build]\n'), /defined twice/);
    assert.throws(() => readToml('a = "unterminated\n'), /unterminated|newline/);
    assert.throws(() => readToml('a = 1 2\n'));
    assert.throws(() => readToml('= 1\n'));
  });

  test('a broken config file is ignored with a note', async () => {
    const { ws } = sampleCopy();
    write(path.join(ws, '.cargo', 'config.toml'), '[build\ntarget-dir = "x"\n');
    const d = await dirsWithoutCargo(ws, cleanEnv(), ws);
    assert.equal(d.buildDirs[0]?.path, path.join(ws, 'target'));
    assert.ok(d.notes.some((n) => n.includes('Could not parse')));
  });
});

describe('findWorkspaceRoot and looksLikeBuildDir', () => {
  test('finds the workspace from a member subfolder, a file, or a lone package', async () => {
    const { base, ws } = sampleCopy();
    assert.equal(await findWorkspaceRoot(path.join(ws, 'app', 'src')), ws);
    assert.equal(await findWorkspaceRoot(path.join(ws, 'app', 'src', 'lib.rs')), ws);
    write(path.join(base, 'lone', 'Cargo.toml'), '[package]\nname = "lone"\nversion = "0.1.0"\n');
    assert.equal(await findWorkspaceRoot(path.join(base, 'lone')), path.join(base, 'lone'));
    fs.mkdirSync(path.join(base, 'empty'));
    assert.equal(await findWorkspaceRoot(path.join(base, 'empty')), null);
  });

  test('ordinary folders named build/ or deps/ are not build dirs', async () => {
    const base = path.join(scratch, `case-${++counter}`);
    write(path.join(base, 'docs', 'build', 'index.html'), '');
    write(path.join(base, 'web', 'deps', 'x.js'), '');
    assert.equal(await looksLikeBuildDir(base), false);
    write(path.join(base, 'debug', 'deps', 'libfoo-0123456789abcdef.rlib'), '');
    assert.equal(await looksLikeBuildDir(base), true);
  });
});

describe('locateBuildDirs', () => {
  test('a workspace through cargo metadata', async () => {
    const { ws } = sampleCopy();
    const r = await locateBuildDirs(path.join(ws, 'util'), { env: cleanEnv() });
    assert.equal(r.kind, 'workspace');
    if (r.kind !== 'workspace') return;
    assert.equal(r.via, 'cargo-metadata');
    assert.equal(r.cargoError, undefined);
    assert.equal(r.dirs.workspaceRoot, ws);
    assert.deepEqual(r.dirs.buildDirs, [{ path: path.join(ws, 'target'), role: 'both', discovery: 'cargo-metadata' }]);
  });

  test('no cargo: the fallback is used and says why', async () => {
    const { ws } = sampleCopy();
    write(path.join(ws, '.cargo', 'config.toml'), '[build]\nbuild-dir = "{workspace-root}/bdir"\n');
    const r = await locateBuildDirs(ws, { cargo: '/nonexistent/cargo', env: cleanEnv() });
    assert.equal(r.kind, 'workspace');
    if (r.kind !== 'workspace') return;
    assert.equal(r.via, 'fallback');
    assert.match(r.cargoError ?? '', /cargo was not found/);
    assert.match(r.dirs.notes[0] ?? '', /Cargo could not be used/);
    assert.deepEqual(r.dirs.buildDirs, [
      { path: path.join(ws, 'bdir'), role: 'build-dir', discovery: 'config build.build-dir' },
      { path: path.join(ws, 'target'), role: 'target-dir', discovery: 'default <workspace>/target' },
    ]);
  });

  test('useCargo: false never runs cargo', async () => {
    const { ws } = sampleCopy();
    const r = await locateBuildDirs(ws, { cargo: '/nonexistent/cargo', useCargo: false, env: cleanEnv() });
    assert.equal(r.kind, 'workspace');
    if (r.kind !== 'workspace') return;
    assert.equal(r.via, 'fallback');
    assert.equal(r.cargoError, undefined);
  });

  test('a broken manifest: cargo fails, its message is kept, the fallback answers', async () => {
    const { ws } = sampleCopy();
    fs.appendFileSync(path.join(ws, 'Cargo.toml'), '\nthis is not toml\n');
    const r = await locateBuildDirs(ws, { env: cleanEnv() });
    assert.equal(r.kind, 'workspace');
    if (r.kind !== 'workspace') return;
    assert.equal(r.via, 'fallback');
    assert.match(r.cargoError ?? '', /cargo metadata/);
    assert.equal(r.dirs.buildDirs[0]?.path, path.join(ws, 'target'));
  });

  test('a folder that is not a workspace', async () => {
    const dir = path.join(scratch, `case-${++counter}`);
    write(path.join(dir, 'notes.txt'), 'hello');
    const r = await locateBuildDirs(dir, { env: cleanEnv() });
    assert.equal(r.kind, 'error');
    if (r.kind !== 'error') return;
    assert.equal(r.code, 'not-cargo');
    assert.match(r.message, /not in a Cargo workspace/);
    const meta = await runCargoMetadata(dir, { env: cleanEnv() });
    assert.equal(meta.ok ? 'ok' : meta.error, 'not-a-workspace');
  });

  test('a build dir given directly', async () => {
    const { base, ws } = sampleCopy();
    const outside = path.join(base, 'elsewhere-build');
    execFileSync('cargo', ['check', '-p', 'util', '--offline', '-q'], { cwd: ws, env: cleanEnv({ CARGO_TARGET_DIR: outside }) });
    assert.equal(await looksLikeBuildDir(outside), true);
    const r = await locateBuildDirs(outside, { env: cleanEnv() });
    assert.equal(r.kind, 'build-dir');
    assert.deepEqual(r.kind === 'build-dir' && r.dirs.buildDirs, [{ path: outside, role: 'both', discovery: 'given path' }]);
    // A profile folder given by mistake leads to the build dir that holds it.
    const inner = await locateBuildDirs(path.join(outside, 'debug'), { env: cleanEnv() });
    assert.deepEqual(inner.kind === 'build-dir' && inner.dirs.buildDirs.map((b) => b.path), [outside]);
  });

  test('a build dir inside a workspace that its settings do not use is listed too', async () => {
    const { ws } = sampleCopy();
    const stray = path.join(ws, 'old-target');
    write(path.join(stray, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n');
    const r = await locateBuildDirs(stray, { env: cleanEnv() });
    assert.equal(r.kind, 'workspace');
    assert.deepEqual(
      r.kind === 'workspace' && r.dirs.buildDirs.map((b) => b.discovery),
      ['cargo-metadata', 'given path'],
    );
  });

  test('a missing path', async () => {
    const r = await locateBuildDirs(path.join(scratch, 'does-not-exist'));
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' && r.code, 'missing');
  });

  test('cargo metadata that hangs is stopped', { skip: process.platform === 'win32' ? 'uses a shell script' : false }, async () => {
    const dir = path.join(scratch, `case-${++counter}`);
    const fake = path.join(dir, 'slow-cargo');
    write(fake, '#!/bin/sh\nexec sleep 30\n');
    fs.chmodSync(fake, 0o755);
    const started = Date.now();
    const r = await runCargoMetadata(dir, { cargo: fake, timeoutMs: 300 });
    assert.equal(r.ok ? 'ok' : r.error, 'timeout');
    assert.ok(Date.now() - started < 5000);
  });
});
