#!/usr/bin/env node
// Test fixtures: real build directories made by real cargo from copies of sample/.
// Deletes and recreates `.fixtures/` (gitignored) on every run, then writes
// `.fixtures/<name>/fixture.json` per fixture with the cargo commands that were run and every JSON
// message they printed, so tests can compare what they find on disk with what cargo reported.
// Usage: node scripts/fixtures.mjs [name...]   (no names: all fixtures)
// Set FIXTURES_NO_APT=1 to never call scripts/setup-debian-crates.sh.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = path.join(ROOT, 'sample');
const OUT = path.join(ROOT, '.fixtures');
const DEBIAN_REGISTRY = '/usr/share/cargo/registry';
const FORMAT_VERSION = 1;

// Variables that would change where cargo builds or how units are hashed; fixtures must not depend
// on the shell they are built from.
const STRIPPED_ENV = [
  'CARGO_TARGET_DIR',
  'CARGO_BUILD_TARGET_DIR',
  'CARGO_BUILD_BUILD_DIR',
  'CARGO_BUILD_TARGET',
  'CARGO_BUILD_JOBS',
  'CARGO_INCREMENTAL',
  'CARGO_BUILD_INCREMENTAL',
  'RUSTFLAGS',
  'RUSTDOCFLAGS',
  'CARGO_ENCODED_RUSTFLAGS',
  'CARGO_ENCODED_RUSTDOCFLAGS',
  'CARGO_BUILD_RUSTFLAGS',
  'CARGO_BUILD_RUSTDOCFLAGS',
  'RUSTC_WRAPPER',
  'RUSTC_WORKSPACE_WRAPPER',
  'CARGO_BUILD_RUSTC_WRAPPER',
  'CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER',
  'RUSTC_BOOTSTRAP',
  'RUSTUP_TOOLCHAIN',
  '__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT',
  'BS_MODE',
];

function fail(message) {
  console.error(`fixtures: ${message}`);
  process.exit(1);
}

function baseEnv() {
  const env = { ...process.env };
  for (const key of STRIPPED_ENV) delete env[key];
  env.CARGO_TERM_COLOR = 'never';
  // A missing toolchain must be reported, not downloaded.
  env.RUSTUP_AUTO_INSTALL = '0';
  return env;
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: baseEnv(),
    ...opts,
  });
}

// ---------------------------------------------------------------------------------------------
// Toolchains

function probeToolchains() {
  const plain = run('cargo', ['--version']);
  if (plain.error && plain.error.code === 'ENOENT') {
    fail('`cargo` was not found on PATH. Install Rust (for example with rustup) and run this again.');
  }
  if (plain.error || plain.status !== 0) {
    fail(`\`cargo --version\` failed: ${(plain.stderr || String(plain.error)).trim()}`);
  }
  let stablePrefix = [];
  let stableVersion = plain.stdout.trim();
  // The legacy fixtures need a stable cargo; when the default toolchain is not stable, ask rustup.
  if (/-(nightly|beta|dev)\b/.test(stableVersion)) {
    const viaRustup = run('cargo', ['+stable', '--version']);
    if (viaRustup.status !== 0) {
      fail(`the default cargo is not a stable release (${stableVersion}) and \`cargo +stable\` is not available`);
    }
    stablePrefix = ['+stable'];
    stableVersion = viaRustup.stdout.trim();
  }
  const nightly = run('cargo', ['+nightly', '--version']);
  const nightlyVersion = nightly.status === 0 && /nightly/.test(nightly.stdout) ? nightly.stdout.trim() : null;

  const rustcArgs = stablePrefix.length > 0 ? ['+stable', '-vV'] : ['-vV'];
  const rustc = run('rustc', rustcArgs);
  if (rustc.status !== 0) fail(`\`rustc -vV\` failed: ${(rustc.stderr || String(rustc.error)).trim()}`);
  const host = /^host:\s*(\S+)\s*$/m.exec(rustc.stdout)?.[1];
  if (!host) fail('could not read the host triple from `rustc -vV`');

  const minor = Number(/^cargo 1\.(\d+)\./.exec(stableVersion)?.[1] ?? '0');
  return { stablePrefix, stableVersion, nightlyVersion, host, stableMinor: minor };
}

// ---------------------------------------------------------------------------------------------
// Commands

/**
 * One cargo invocation of a fixture.
 * layout 'v2' adds `-Zbuild-dir-new-layout` (and RUSTC_BOOTSTRAP=1 on stable); layout 'legacy' on a
 * stable cargo whose default is v2 (1.100+) sets the temporary opt-out variable instead.
 * `env` adds variables for this command only (recorded in fixture.json). `analysis` turns on the
 * `-Zbuild-analysis` log (reference §10): the flag alone writes nothing, cargo also needs
 * CARGO_BUILD_ANALYSIS_ENABLED=true; the log goes to a CARGO_HOME private to the fixture
 * (`.fixtures/<name>/cargo-home`), which rustup's proxies do not use to find toolchains.
 */
function step(args, { layout = 'legacy', toolchain = 'stable', expectFailure = false, env = {}, analysis = false } = {}) {
  return { kind: 'cargo', args, layout, toolchain, expectFailure, env, analysis };
}

function cargoHomeOf(fixtureName) {
  return path.join(OUT, fixtureName, 'cargo-home');
}

function waitMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function edit(description, apply) {
  return { kind: 'edit', description, apply };
}

function runCargo(tc, fixtureName, ws, s) {
  const env = { ...(s.env ?? {}) };
  const prefix = s.toolchain === 'nightly' ? ['+nightly'] : tc.stablePrefix;
  const zflags = [];
  if (s.analysis) {
    zflags.push('-Zbuild-analysis');
    env.CARGO_BUILD_ANALYSIS_ENABLED = 'true';
    env.CARGO_HOME = cargoHomeOf(fixtureName);
    if (s.toolchain === 'stable') env.RUSTC_BOOTSTRAP = '1';
  }
  if (s.layout === 'v2') {
    zflags.push('-Zbuild-dir-new-layout');
    if (s.toolchain === 'stable') env.RUSTC_BOOTSTRAP = '1';
  } else if (s.toolchain === 'stable' && tc.stableMinor >= 100) {
    env.__CARGO_TEMPORARY_BUILD_DIR_NEW_LAYOUT_OPT_OUT = '1';
  }
  const args = [...prefix, ...s.args, ...zflags, '--message-format=json', '--offline', '-j2'];
  const argv = ['cargo', ...args];
  const started = Date.now();
  const res = run('cargo', args, { cwd: ws, env: { ...baseEnv(), ...env } });
  const wallMs = Date.now() - started;
  if (res.error) fail(`[${fixtureName}] could not run ${argv.join(' ')}: ${res.error.message}`);

  const messages = [];
  const otherStdout = [];
  for (const line of res.stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      messages.push(JSON.parse(line));
    } catch {
      otherStdout.push(line);
    }
  }
  const exitCode = res.status;
  const ok = exitCode === 0;
  const label = `${s.toolchain}${s.layout === 'v2' ? ' v2' : ''}: ${['cargo', ...prefix, ...s.args, ...zflags].join(' ')}`;
  // sample/ is meant to build warning-free; say so when it stops being true.
  const warnings = messages.filter((m) => m.reason === 'compiler-message' && m.message?.level === 'warning').length;
  const warned = warnings > 0 ? `  (${warnings} compiler warnings)` : '';
  console.log(`  [${fixtureName}] ${label}  ${(wallMs / 1000).toFixed(1)}s  exit ${exitCode}${warned}`);
  if (ok === s.expectFailure) {
    const tail = res.stderr.trim().split('\n').slice(-25).join('\n');
    fail(
      `[${fixtureName}] ${argv.join(' ')} ${s.expectFailure ? 'succeeded but was expected to fail' : `failed (exit ${exitCode})`}\n${tail}`,
    );
  }
  return {
    argv,
    env,
    toolchain: s.toolchain,
    cargoVersion: s.toolchain === 'nightly' ? tc.nightlyVersion : tc.stableVersion,
    layout: s.layout,
    cwd: ws,
    expectFailure: s.expectFailure,
    exitCode,
    wallMs,
    messages,
    otherStdout,
    stderr: res.stderr,
  };
}

function cargoMetadata(tc, fixtureName, ws) {
  const res = run('cargo', [...tc.stablePrefix, 'metadata', '--format-version', '1', '--no-deps', '--offline'], {
    cwd: ws,
  });
  if (res.status !== 0) fail(`[${fixtureName}] cargo metadata failed: ${res.stderr.trim()}`);
  const json = JSON.parse(res.stdout);
  return {
    targetDir: json.target_directory,
    // cargo before 1.91 leaves `build_directory` out; then both are the same folder.
    buildDir: json.build_directory ?? json.target_directory,
  };
}

// ---------------------------------------------------------------------------------------------
// Workspace preparation

function copySample(ws) {
  fs.mkdirSync(path.dirname(ws), { recursive: true });
  fs.cpSync(SAMPLE, ws, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(SAMPLE, src);
      return rel !== 'target' && rel !== '.ready';
    },
  });
}

function writeFile(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function addMembers(ws, names) {
  const manifest = path.join(ws, 'Cargo.toml');
  const text = fs.readFileSync(manifest, 'utf8');
  const re = /members = \[([^\]]*)\]/;
  if (!re.test(text)) fail('sample/Cargo.toml has no single-line `members = [...]`');
  const updated = text.replace(re, (_m, list) => `members = [${list}, ${names.map((n) => `"${n}"`).join(', ')}]`);
  fs.writeFileSync(manifest, updated);
}

function addRegistryMembers(ws) {
  writeFile(
    path.join(ws, '.cargo', 'config.toml'),
    `[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "${DEBIAN_REGISTRY}"\n`,
  );
  writeFile(
    path.join(ws, 'sys', 'Cargo.toml'),
    '[package]\nname = "sys"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nlibc = "0.2"\ncfg-if = "1"\n',
  );
  writeFile(
    path.join(ws, 'sys', 'src', 'lib.rs'),
    [
      '//! Uses two registry crates: libc (which has a build script) and cfg-if 1.x.',
      '',
      'cfg_if::cfg_if! {',
      '    if #[cfg(unix)] {',
      '        pub fn pid() -> i64 { i64::from(unsafe { libc::getpid() }) }',
      '    } else {',
      '        pub fn pid() -> i64 { 0 }',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  writeFile(
    path.join(ws, 'old', 'Cargo.toml'),
    '[package]\nname = "old"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\ncfg-if = "0.1"\n',
  );
  writeFile(
    path.join(ws, 'old', 'src', 'lib.rs'),
    [
      '//! Uses cfg-if 0.1, so two versions of one registry package share `build/cfg-if/`.',
      '',
      'cfg_if::cfg_if! {',
      '    if #[cfg(unix)] {',
      '        pub const FAMILY: &str = "unix";',
      '    } else {',
      '        pub const FAMILY: &str = "other";',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  addMembers(ws, ['sys', 'old']);
}

function debianCratesPresent() {
  let names;
  try {
    names = fs.readdirSync(DEBIAN_REGISTRY);
  } catch {
    return false;
  }
  return (
    names.some((n) => /^cfg-if-1\./.test(n)) &&
    names.some((n) => /^cfg-if-0\.1\./.test(n)) &&
    names.some((n) => /^libc-0\.2\./.test(n))
  );
}

let debianState = null;
/** null when the Debian crate sources are usable, else why not. Runs the setup script at most once. */
function debianCratesSkipReason() {
  if (debianState !== null) return debianState.reason;
  if (debianCratesPresent()) {
    debianState = { reason: null };
    return null;
  }
  if (process.env.FIXTURES_NO_APT === '1') {
    debianState = { reason: `Debian crate sources are not in ${DEBIAN_REGISTRY} and FIXTURES_NO_APT=1` };
    return debianState.reason;
  }
  console.log('  installing Debian crate sources (scripts/setup-debian-crates.sh)...');
  const started = Date.now();
  const res = spawnSync('sh', [path.join(ROOT, 'scripts', 'setup-debian-crates.sh')], { encoding: 'utf8' });
  console.log(`  setup-debian-crates.sh  ${((Date.now() - started) / 1000).toFixed(1)}s  exit ${res.status}`);
  const said = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
  if (debianCratesPresent()) {
    debianState = { reason: null };
  } else {
    debianState = {
      reason: `Debian packages librust-cfg-if-dev, librust-cfg-if-0.1-dev and librust-libc-dev are not installable here (${said || 'no output'})`,
    };
  }
  return debianState.reason;
}

/**
 * The `stale` fixture's extra package: `leaf`, a path dependency of `bs` that is not a workspace member
 * (excluded), so that its feature variants are judged only by what reaches them.
 */
function addLeaf(ws) {
  const manifest = path.join(ws, 'Cargo.toml');
  const text = fs.readFileSync(manifest, 'utf8');
  if (!/^members = \[[^\]]*\]$/m.test(text)) fail('sample/Cargo.toml has no single-line `members = [...]`');
  fs.writeFileSync(manifest, text.replace(/^(members = \[[^\]]*\])$/m, '$1\nexclude = ["leaf"]'));
  writeFile(
    path.join(ws, 'leaf', 'Cargo.toml'),
    '[package]\nname = "leaf"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[features]\na = []\nb = []\n',
  );
  writeFile(
    path.join(ws, 'leaf', 'src', 'lib.rs'),
    [
      '//! A dependency outside the workspace members; the `stale` fixture switches the feature `bs` asks for.',
      '',
      '#[cfg(feature = "a")]',
      'pub const MODE: &str = "a";',
      '#[cfg(not(feature = "a"))]',
      'pub const MODE: &str = "not a";',
      '',
    ].join('\n'),
  );
  fs.appendFileSync(path.join(ws, 'bs', 'Cargo.toml'), '\n[dependencies]\nleaf = { path = "../leaf", features = ["a"] }\n');
}

/**
 * The `outdirs` fixture's changes to its copy: `bs` gets a feature (so a second build-script run unit, with its
 * own OUT_DIR, can be made) and one more rerun-if-changed input that the fixture deletes at the end.
 */
function prepareOutDirs(ws) {
  fs.appendFileSync(path.join(ws, 'bs', 'Cargo.toml'), '\n[features]\nextra = []\n');
  writeFile(path.join(ws, 'bs', 'extra-input.txt'), 'read by nothing; named in rerun-if-changed\n');
  const script = path.join(ws, 'bs', 'build.rs');
  const text = fs.readFileSync(script, 'utf8');
  const line = 'println!("cargo:rerun-if-changed=data.txt");';
  if (!text.includes(line)) fail(`sample/bs/build.rs no longer prints ${line}`);
  fs.writeFileSync(script, text.replace(line, `${line}\n    println!("cargo:rerun-if-changed=extra-input.txt");`));
}

function findEmptyHashFiles(buildDir) {
  // v2 unit folders: <profile>/build/<pkg>/<hash>/fingerprint/<hash file>
  const found = [];
  const visit = (dir, depth) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < 8) visit(p, depth + 1);
      } else if (
        path.basename(dir) === 'fingerprint' &&
        !e.name.startsWith('dep-') &&
        !e.name.startsWith('output-') &&
        !e.name.endsWith('.json') &&
        e.name !== 'invoked.timestamp' &&
        fs.statSync(p).size === 0
      ) {
        found.push(path.relative(buildDir, p));
      }
    }
  };
  visit(buildDir, 0);
  return found.sort();
}

// ---------------------------------------------------------------------------------------------
// Fixture definitions

function definitions(tc) {
  const host = tc.host;
  const allCommands = [
    ['build'],
    ['build', '--release'],
    ['build', '--profile', 'fast'],
    ['check'],
    ['test', '--no-run'],
    ['bench', '--no-run'],
    ['doc', '--no-deps'],
    ['build', '--examples'],
    ['build', '--target', host],
  ];
  const nightlySkip = () =>
    tc.nightlyVersion ? null : 'no nightly toolchain (`cargo +nightly --version` failed); install one with `rustup toolchain install nightly`';

  return [
    {
      name: 'legacy',
      description: 'stable cargo, legacy layout, every kind of command',
      steps: allCommands.map((a) => step(a)),
    },
    {
      name: 'v2',
      description: 'stable cargo with -Zbuild-dir-new-layout (build scripts compiled to build_script_build-<hash>)',
      steps: allCommands.map((a) => step(a, { layout: 'v2' })),
    },
    {
      name: 'v2-nightly',
      description: 'nightly cargo with -Zbuild-dir-new-layout (build scripts compiled to build_script_build, no hash)',
      skip: nightlySkip,
      steps: [step(['build'], { layout: 'v2', toolchain: 'nightly' }), step(['check'], { layout: 'v2', toolchain: 'nightly' })],
    },
    {
      name: 'mixed',
      description: 'stable legacy build, then stable v2 build into the same target dir',
      steps: [step(['build']), step(['build'], { layout: 'v2' })],
    },
    {
      name: 'separate',
      description: 'build-dir = "{workspace-root}/bdir" in .cargo/config.toml: legacy build, then v2 build with --target',
      prepare: (ws) => writeFile(path.join(ws, '.cargo', 'config.toml'), '[build]\nbuild-dir = "{workspace-root}/bdir"\n'),
      steps: [step(['build']), step(['build', '--target', host], { layout: 'v2' })],
    },
    {
      name: 'registry',
      description: 'registry packages from a directory source (Debian): libc with a build script, cfg-if 1.x and 0.1; legacy',
      skip: debianCratesSkipReason,
      prepare: addRegistryMembers,
      steps: [step(['build'])],
    },
    {
      name: 'registry-v2',
      description: 'the registry workspace built with stable v2',
      skip: debianCratesSkipReason,
      prepare: addRegistryMembers,
      steps: [step(['build'], { layout: 'v2' })],
    },
    {
      name: 'stale',
      description:
        'units made stale for real: stable legacy build, then stable v2 build (legacy leftovers); the non-member `leaf` ' +
        'switched from feature a to b and rebuilt (superseded units); then a nightly v2 build into the same dir (second toolchain)',
      skip: nightlySkip,
      prepare: addLeaf,
      steps: [
        step(['build']),
        step(['build'], { layout: 'v2' }),
        // Incremental folders can only be tied to units by time (reference §7): keep the rebuild clearly later.
        edit('wait 3 s so that the rebuild is clearly later than the first builds', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000)),
        edit('bs asks leaf for feature b instead of a', (ws) => {
          const f = path.join(ws, 'bs', 'Cargo.toml');
          fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('features = ["a"]', 'features = ["b"]'));
        }),
        step(['build'], { layout: 'v2' }),
        step(['build'], { layout: 'v2', toolchain: 'nightly' }),
      ],
    },
    {
      name: 'interrupted',
      description: "stable v2 build, then app's lib is broken and rebuilt: the build fails and that unit's hash file is left empty; the workspace stays broken",
      steps: [
        step(['build'], { layout: 'v2' }),
        edit('append a compile_error! to app/src/lib.rs', (ws) =>
          fs.appendFileSync(path.join(ws, 'app', 'src', 'lib.rs'), '\ncompile_error!("broken on purpose by the interrupted fixture");\n'),
        ),
        step(['build'], { layout: 'v2', expectFailure: true }),
      ],
      after: (fixture) => {
        const empty = findEmptyHashFiles(fixture.buildDir);
        fixture.emptyHashFiles = empty;
        if (empty.length === 0) console.warn('  [interrupted] warning: no empty hash file was found after the failed build');
      },
    },
    {
      name: 'outdirs',
      description:
        'stable v2: bs (feature `extra` added, one more rerun-if-changed input) built with BS_MODE unset, then BS_MODE=one ' +
        '(same OUT_DIR, rerun), then --features bs/extra (a second OUT_DIR), then again without the feature (all fresh: ' +
        'the first OUT_DIR is current again although the second ran later); finally that extra input is deleted',
      prepare: prepareOutDirs,
      steps: [
        step(['build'], { layout: 'v2' }),
        edit('wait 1.1 s so that each build has its own mtimes', () => waitMs(1100)),
        step(['build'], { layout: 'v2', env: { BS_MODE: 'one' } }),
        edit('wait 1.1 s', () => waitMs(1100)),
        step(['build', '--features', 'bs/extra'], { layout: 'v2', env: { BS_MODE: 'one' } }),
        edit('wait 1.1 s', () => waitMs(1100)),
        step(['build'], { layout: 'v2', env: { BS_MODE: 'one' } }),
        edit('delete bs/extra-input.txt (bs/build.rs still names it in rerun-if-changed)', (ws) => fs.rmSync(path.join(ws, 'bs', 'extra-input.txt'))),
      ],
    },
    {
      name: 'analysis',
      description:
        'build-analysis logs in a private CARGO_HOME (cargo-home/log/*.jsonl), layout v2: stable build, nightly build ' +
        '(toolchain changed), util/src/lib.rs edited and rebuilt, then app asks util for feature `extra` too and rebuilds',
      skip: nightlySkip,
      steps: [
        step(['build'], { layout: 'v2', analysis: true }),
        step(['build'], { layout: 'v2', toolchain: 'nightly', analysis: true }),
        // The stale source must be clearly newer than the dep-info it is compared with.
        edit('wait 1.1 s, then append a comment to util/src/lib.rs', (ws) => {
          waitMs(1100);
          fs.appendFileSync(path.join(ws, 'util', 'src', 'lib.rs'), '// touched by the analysis fixture\n');
        }),
        step(['build'], { layout: 'v2', toolchain: 'nightly', analysis: true }),
        edit('app asks util for features fancy and extra', (ws) => {
          const f = path.join(ws, 'app', 'Cargo.toml');
          const text = fs.readFileSync(f, 'utf8');
          const next = text.replace('util = { path = "../util", features = ["fancy"] }', 'util = { path = "../util", features = ["fancy", "extra"] }');
          if (next === text) fail('[analysis] sample/app/Cargo.toml no longer has `util = { path = "../util", features = ["fancy"] }`');
          fs.writeFileSync(f, next);
        }),
        step(['build'], { layout: 'v2', toolchain: 'nightly', analysis: true }),
      ],
      after: (fixture) => {
        fixture.cargoHome = cargoHomeOf('analysis');
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------

function writeFixture(name, fixture) {
  const dir = path.join(OUT, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'fixture.json'), `${JSON.stringify(fixture, null, 1)}\n`);
}

function main() {
  if (!fs.existsSync(path.join(SAMPLE, 'Cargo.toml'))) fail(`sample workspace not found at ${SAMPLE}`);
  const tc = probeToolchains();
  const wanted = process.argv.slice(2);
  const defs = definitions(tc);
  for (const w of wanted) {
    if (!defs.some((d) => d.name === w)) fail(`unknown fixture "${w}" (known: ${defs.map((d) => d.name).join(', ')})`);
  }

  console.log(`fixtures: ${tc.stableVersion}; nightly: ${tc.nightlyVersion ?? 'absent'}; host ${tc.host}`);
  if (wanted.length === 0) {
    fs.rmSync(OUT, { recursive: true, force: true });
  } else {
    for (const w of wanted) fs.rmSync(path.join(OUT, w), { recursive: true, force: true });
  }
  fs.mkdirSync(OUT, { recursive: true });

  const totalStart = Date.now();
  for (const def of defs) {
    if (wanted.length > 0 && !wanted.includes(def.name)) continue;
    const base = {
      formatVersion: FORMAT_VERSION,
      name: def.name,
      description: def.description,
      host: tc.host,
      createdAt: new Date().toISOString(),
    };
    const reason = def.skip ? def.skip() : null;
    if (reason) {
      console.log(`  [${def.name}] skipped: ${reason}`);
      writeFixture(def.name, { ...base, workspace: null, buildDir: null, targetDir: null, commands: [], skipped: reason });
      continue;
    }
    const ws = path.join(OUT, def.name, 'ws');
    copySample(ws);
    if (def.prepare) def.prepare(ws);
    const commands = [];
    const edits = [];
    const fixtureStart = Date.now();
    for (const s of def.steps) {
      if (s.kind === 'edit') {
        s.apply(ws);
        edits.push({ afterCommand: commands.length - 1, description: s.description });
      } else {
        commands.push(runCargo(tc, def.name, ws, s));
      }
    }
    const { buildDir, targetDir } = cargoMetadata(tc, def.name, ws);
    const fixture = { ...base, workspace: ws, buildDir, targetDir, commands, edits, skipped: null };
    if (def.after) def.after(fixture);
    writeFixture(def.name, fixture);
    console.log(`  [${def.name}] done in ${((Date.now() - fixtureStart) / 1000).toFixed(1)}s`);
  }
  console.log(`fixtures: written to ${path.relative(process.cwd(), OUT) || '.'} in ${((Date.now() - totalStart) / 1000).toFixed(1)}s`);
}

main();
