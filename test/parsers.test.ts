// Tests for the pure parsers in src/core (fingerprint files, binary dep-info, rustc `.d` files, build-script
// output, incremental names, lossless JSON). Part (a) builds a tiny workspace with real cargo, in both layouts,
// and checks every parser against the files cargo wrote and against cargo's own `--message-format=json`;
// part (b) feeds the parsers corrupt and unusual input.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { JsonSyntaxError, leHexToU64Dec, parseJsonLossless, u64DecToLeHex } from '../src/core/json-lossless';
import {
  FingerprintError,
  parseDebugStringList,
  parseFingerprintFileName,
  parseFingerprintJson,
  parseHashFile,
  type Fingerprint,
} from '../src/core/fingerprint';
import { DepInfoError, parseDepInfo } from '../src/core/depinfo';
import { packageOrigin, parseRustcDepInfo, parseRustcDepInfoLine, RustcDepError } from '../src/core/rustcdep';
import { parseBuildScriptOutput, type Directive } from '../src/core/buildscript';
import { parseIncrementalDirName, parseSessionName } from '../src/core/incremental';

// ---------------------------------------------------------------------------------------------------------
// (a) Real files written by cargo
// ---------------------------------------------------------------------------------------------------------

const WORKSPACE: Readonly<Record<string, string>> = {
  'Cargo.toml': '[workspace]\nmembers = ["util", "app"]\nresolver = "2"\n',
  // `[env]` variables are the ones cargo keeps in the binary dep-info's env list.
  '.cargo/config.toml': '[env]\nCBDX_CONFIG_ENV = "from-config"\n',
  'util/Cargo.toml': [
    '[package]',
    'name = "util"',
    'version = "0.1.0"',
    'edition = "2021"',
    'links = "foo"',
    'build = "build.rs"',
    '',
    '[features]',
    'default = ["plain"]',
    'plain = []',
    'fancy = []',
    '',
  ].join('\n'),
  'util/build.rs': [
    'use std::{env, fs, path::Path};',
    'fn main() {',
    '    let out = env::var("OUT_DIR").unwrap();',
    '    fs::write(Path::new(&out).join("gen.rs"), "pub const GEN: u32 = 7;\\n").unwrap();',
    '    println!("cargo::rustc-cfg=util_cfg");',
    '    println!("cargo::rustc-check-cfg=cfg(util_cfg)");',
    '    println!("cargo::rustc-env=UTIL_ENV=hello world");',
    '    println!("cargo::rerun-if-changed=build.rs");',
    '    println!("cargo:KEY=value");',
    '    println!("cargo::warning=util build script says hi");',
    '    println!("not a directive");',
    '}',
    '',
  ].join('\n'),
  'util/src/lib.rs': [
    'include!(concat!(env!("OUT_DIR"), "/gen.rs"));',
    '#[path = "extra dir/more.rs"]',
    'mod more;',
    'pub fn hello() -> &\'static str { env!("UTIL_ENV") }',
    'pub fn config_env() -> &\'static str { env!("CBDX_CONFIG_ENV") }',
    'pub fn unset_env() -> Option<&\'static str> { option_env!("CBDX_SURELY_UNSET_VAR") }',
    '#[cfg(util_cfg)]',
    'pub fn with_cfg() -> u32 { more::MORE }',
    '#[cfg(feature = "fancy")]',
    'pub fn fancy() -> u32 { GEN }',
    '',
  ].join('\n'),
  'util/src/extra dir/more.rs': 'pub const MORE: u32 = 1;\n',
  'app/Cargo.toml': [
    '[package]',
    'name = "app"',
    'version = "0.1.0"',
    'edition = "2021"',
    '',
    '[dependencies]',
    'util = { path = "../util", features = ["fancy"] }',
    '',
  ].join('\n'),
  'app/src/main.rs': 'fn main() { println!("{} {} {}", util::hello(), util::fancy(), util::with_cfg()); }\n',
};

function hasCargo(): boolean {
  try {
    return spawnSync('cargo', ['--version'], { encoding: 'utf8' }).status === 0;
  } catch {
    return false;
  }
}

interface CargoMessage {
  readonly reason: string;
  readonly package_id?: string;
  readonly target?: { readonly name: string; readonly kind: readonly string[] };
  readonly profile?: { readonly test: boolean };
  readonly features?: readonly string[];
  readonly filenames?: readonly string[];
  readonly out_dir?: string;
  readonly cfgs?: readonly string[];
  readonly env?: readonly (readonly [string, string])[];
}

interface UnitDir {
  readonly pkg: string;
  readonly hash: string;
  readonly fingerprintDir: string;
  /** Build-script run files: legacy `build/<pkg>-<hash>/`, v2 `build/<pkg>/<hash>/run/`. */
  readonly runDir: string;
  readonly runOutputName: string;
}

interface Built {
  readonly targetDir: string;
  readonly messages: readonly CargoMessage[];
  readonly units: readonly UnitDir[];
}

function packageNameOf(packageId: string): string {
  const hash = packageId.lastIndexOf('#');
  const frag = hash >= 0 ? packageId.slice(hash + 1) : '';
  if (frag.includes('@')) return frag.slice(0, frag.indexOf('@'));
  const base = hash >= 0 ? packageId.slice(0, hash) : packageId;
  return base.slice(base.lastIndexOf('/') + 1);
}

function listUnits(targetDir: string, layout: 'legacy' | 'v2'): UnitDir[] {
  const profile = path.join(targetDir, 'debug');
  const units: UnitDir[] = [];
  if (layout === 'legacy') {
    for (const d of fs.readdirSync(path.join(profile, '.fingerprint'))) {
      const dash = d.lastIndexOf('-');
      const pkg = d.slice(0, dash);
      const hash = d.slice(dash + 1);
      units.push({
        pkg,
        hash,
        fingerprintDir: path.join(profile, '.fingerprint', d),
        runDir: path.join(profile, 'build', d),
        runOutputName: 'output',
      });
    }
  } else {
    for (const pkg of fs.readdirSync(path.join(profile, 'build'))) {
      for (const hash of fs.readdirSync(path.join(profile, 'build', pkg))) {
        const unitDir = path.join(profile, 'build', pkg, hash);
        if (!fs.existsSync(path.join(unitDir, 'fingerprint'))) continue;
        units.push({
          pkg,
          hash,
          fingerprintDir: path.join(unitDir, 'fingerprint'),
          runDir: path.join(unitDir, 'run'),
          runOutputName: 'stdout',
        });
      }
    }
  }
  return units;
}

function walkFiles(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) out.push(...walkFiles(p, skip));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function readFingerprint(unit: UnitDir, fileName: string): Fingerprint {
  return parseFingerprintJson(fs.readFileSync(path.join(unit.fingerprintDir, `${fileName}.json`), 'utf8'));
}

function hashFilesOf(unit: UnitDir): string[] {
  return fs.readdirSync(unit.fingerprintDir).filter((n) => {
    const p = parseFingerprintFileName(n);
    return p !== null && p.prefix === '' && !p.json;
  });
}

const cargoAvailable = hasCargo();

describe('real cargo build directories', { skip: cargoAvailable ? false : 'cargo is not installed' }, () => {
  let root = '';
  let workspace = '';

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-parsers-'));
    workspace = path.join(root, 'ws');
    for (const [rel, text] of Object.entries(WORKSPACE)) {
      const p = path.join(workspace, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
    }
  });

  after(() => {
    if (root !== '') fs.rmSync(root, { recursive: true, force: true });
  });

  function build(layout: 'legacy' | 'v2'): Built {
    const targetDir = path.join(root, `target-${layout}`);
    const env: NodeJS.ProcessEnv = { ...process.env, CARGO_TERM_COLOR: 'never', CARGO_NET_OFFLINE: 'true' };
    // Anything that would move the build-dir or change the units is taken out of the environment.
    for (const k of ['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR', 'CARGO_BUILD_TARGET', 'CARGO_INCREMENTAL', 'RUSTFLAGS', 'CARGO_ENCODED_RUSTFLAGS', 'CBDX_SURELY_UNSET_VAR']) {
      delete env[k];
    }
    const args = ['build', '--offline', '--message-format=json', '--target-dir', targetDir];
    if (layout === 'v2') {
      env['RUSTC_BOOTSTRAP'] = '1';
      args.splice(1, 0, '-Zbuild-dir-new-layout');
    }
    const r = spawnSync('cargo', args, { cwd: workspace, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, `cargo ${args.join(' ')} failed:\n${r.stderr}`);
    const messages = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as CargoMessage);
    return { targetDir, messages, units: listUnits(targetDir, layout) };
  }

  for (const layout of ['legacy', 'v2'] as const) {
    describe(`${layout} layout`, () => {
      let b: Built = { targetDir: '', messages: [], units: [] };
      before(() => {
        b = build(layout);
      });

      test('the expected units were found', () => {
        const names = b.units.flatMap((u) => hashFilesOf(u).map((n) => `${u.pkg}/${n}`)).sort();
        assert.deepEqual(names, [
          'app/bin-app',
          'util/build-script-build-script-build',
          'util/lib-util',
          'util/run-build-script-build-script-build',
        ]);
      });

      test('every fingerprint file name decodes', () => {
        let count = 0;
        for (const u of b.units) {
          for (const n of fs.readdirSync(u.fingerprintDir)) {
            const p = parseFingerprintFileName(n);
            if (n === 'invoked.timestamp') {
              assert.equal(p, null);
              continue;
            }
            assert.ok(p, `${n} should decode`);
            count++;
            if (p.targetKind === 'build-script') assert.equal(p.target, 'build-script-build');
            else assert.equal(p.target, u.pkg);
            assert.equal(p.mode, n.includes('run-build-script') ? 'run-custom-build' : 'build');
          }
        }
        assert.ok(count >= 10);
      });

      test('every hash file holds 16 hex digits', () => {
        for (const u of b.units) {
          for (const n of hashFilesOf(u)) {
            const h = parseHashFile(fs.readFileSync(path.join(u.fingerprintDir, n)));
            assert.equal(h.state, 'ok', `${u.pkg}/${u.hash}/${n}`);
          }
        }
      });

      test('fingerprint JSON: rustc is exact, features match cargo, deps join to hash files', () => {
        const byHashFile = new Map<string, UnitDir>();
        for (const u of b.units) {
          for (const n of hashFilesOf(u)) byHashFile.set(fs.readFileSync(path.join(u.fingerprintDir, n), 'latin1'), u);
        }
        let rustc: string | null = null;
        let depCount = 0;
        for (const u of b.units) {
          for (const n of hashFilesOf(u)) {
            const text = fs.readFileSync(path.join(u.fingerprintDir, `${n}.json`), 'utf8');
            const fp = parseFingerprintJson(text);
            // The decimal digits as written in the file, not a rounded double.
            assert.equal(fp.rustc, /"rustc":(\d+)/.exec(text)?.[1]);
            assert.match(fp.rustc, /^\d{17,}$/);
            rustc ??= fp.rustc;
            assert.equal(fp.rustc, rustc, 'one toolchain built everything');
            assert.deepEqual(fp.unknownFields, {});
            assert.deepEqual(fp.rustflags, []);
            for (const d of fp.deps) {
              depCount++;
              assert.equal(leHexToU64Dec(d.hashHex), d.fingerprint);
              assert.ok(byHashFile.has(d.hashHex), `${u.pkg}/${n}: dependency ${d.name} (${d.hashHex}) has a hash file`);
            }
            for (const l of fp.local) {
              if (l.kind === 'CheckDepInfo') {
                assert.equal(l.fingerprint, 'mtime');
                assert.equal(l.field, 'checksum');
                assert.ok(fs.existsSync(path.join(b.targetDir, l.depInfo)), `${l.depInfo} exists`);
                assert.equal(path.basename(l.depInfo), `dep-${n}`);
              }
            }
          }
        }
        assert.equal(depCount, 3, 'app→util, util→run, run→compile');

        const artifacts = b.messages.filter((m) => m.reason === 'compiler-artifact');
        assert.equal(artifacts.length, 3);
        for (const m of artifacts) {
          assert.ok(m.package_id && m.target && m.features && m.filenames);
          const pkg = packageNameOf(m.package_id);
          const kind = m.target.kind[0];
          const fileName = kind === 'custom-build' ? 'build-script-build-script-build' : `${kind}-${m.target.name}`;
          const candidates = b.units.filter((u) => u.pkg === pkg && fs.existsSync(path.join(u.fingerprintDir, fileName)));
          assert.equal(candidates.length, 1, `one unit of ${pkg} has ${fileName}`);
          const unit = candidates[0] as UnitDir;
          const fp = readFingerprint(unit, fileName);
          assert.deepEqual(fp.features, m.features, `${pkg} ${fileName}`);
          assert.deepEqual(fp.declaredFeatures, pkg === 'util' ? ['default', 'fancy', 'plain'] : []);
          if (kind !== 'bin') {
            // Bins are only reported by their uplifted copy, which has no hash in its path.
            assert.ok(m.filenames.some((f) => f.includes(unit.hash)), `${m.filenames.join(', ')} contains ${unit.hash}`);
          }
        }
        const util = artifacts.find((m) => m.target?.kind[0] === 'lib');
        assert.deepEqual(util?.features, ['default', 'fancy', 'plain']);
      });

      test('build-script run: JSON, output directives and cargo agree', () => {
        const executed = b.messages.filter((m) => m.reason === 'build-script-executed');
        assert.equal(executed.length, 1);
        const msg = executed[0] as CargoMessage;
        assert.ok(msg.out_dir && msg.cfgs && msg.env);
        const hash = /([0-9a-f]{16})[\\/]out$/.exec(msg.out_dir)?.[1];
        const run = b.units.find((u) => u.hash === hash);
        assert.ok(run, `run unit ${hash} found`);

        const fp = readFingerprint(run, 'run-build-script-build-script-build');
        assert.deepEqual(fp.features, []);
        assert.equal(fp.featuresRaw, '');
        assert.deepEqual([fp.target, fp.profile, fp.path, fp.config], ['0', '0', '0', '0']);
        const rerun = fp.local.find((l) => l.kind === 'RerunIfChanged');
        assert.ok(rerun && rerun.kind === 'RerunIfChanged');
        assert.deepEqual(rerun.paths, ['build.rs']);
        const outputFile = path.join(b.targetDir, rerun.output);
        assert.equal(outputFile, path.join(run.runDir, run.runOutputName));

        const parsed = parseBuildScriptOutput(fs.readFileSync(outputFile, 'utf8'));
        const by = (c: Directive['category']): Directive[] => parsed.directives.filter((d) => d.category === c);
        assert.deepEqual(by('cfg').map((d) => d.value), msg.cfgs);
        assert.deepEqual(
          by('env').map((d) => (d.category === 'env' ? [d.name, d.envValue] : [])),
          msg.env.map((e) => [...e]),
        );
        assert.deepEqual(by('check-cfg').map((d) => d.value), ['cfg(util_cfg)']);
        assert.deepEqual(by('rerun-if-changed').map((d) => d.value), rerun.paths);
        assert.deepEqual(by('warning').map((d) => d.value), ['util build script says hi']);
        const links = by('links-metadata');
        assert.equal(links.length, 1);
        assert.ok(links[0]?.category === 'links-metadata' && links[0].metaKey === 'KEY' && links[0].metaValue === 'value');
        assert.equal(links[0].syntax, 'old');
        assert.equal(links[0].line, 5);
        assert.equal(by('invalid').length, 0);
        assert.equal(parsed.lines, 7);
        assert.equal(parsed.ignoredLines, 1);
      });

      test('binary dep-info of every unit decodes; the lib lists its sources and env', () => {
        let count = 0;
        for (const u of b.units) {
          for (const n of fs.readdirSync(u.fingerprintDir)) {
            if (!n.startsWith('dep-')) continue;
            const info = parseDepInfo(fs.readFileSync(path.join(u.fingerprintDir, n)));
            assert.equal(info.version, 1);
            assert.ok(info.files.length > 0);
            for (const f of info.files) assert.equal(f.checksum, null);
            count++;
          }
        }
        assert.equal(count, 3, 'lib, bin and build-script compile have dep-info; the run unit has none');

        const lib = b.units.find((u) => fs.existsSync(path.join(u.fingerprintDir, 'dep-lib-util')));
        assert.ok(lib);
        const data = fs.readFileSync(path.join(lib.fingerprintDir, 'dep-lib-util'));
        const info = parseDepInfo(data);
        const pkgFiles = info.files.filter((f) => f.base === 'package').map((f) => f.path).sort();
        assert.deepEqual(pkgFiles, ['src/extra dir/more.rs', 'src/lib.rs']);
        const gen = info.files.find((f) => f.base === 'build');
        assert.ok(gen && gen.path.startsWith('debug/build/util') && gen.path.endsWith('/out/gen.rs'), gen?.path);
        const run = b.units.find((u) => fs.existsSync(path.join(u.fingerprintDir, 'run-build-script-build-script-build')));
        assert.ok(run && gen.path.includes(run.hash), 'the generated file links the lib to the build-script run');
        assert.deepEqual(
          [...info.env].sort((x, y) => x.key.localeCompare(y.key)),
          [
            { key: 'CBDX_CONFIG_ENV', value: 'from-config' },
            { key: 'CBDX_SURELY_UNSET_VAR', value: null },
          ],
        );

        // Every proper prefix of a real file is truncated somewhere: all must fail with DepInfoError.
        for (let len = 0; len < data.length; len++) {
          assert.throws(() => parseDepInfo(data.subarray(0, len)), DepInfoError, `prefix of ${len} bytes`);
        }
      });

      test('rustc .d files decode; sources give the package origin', () => {
        const dFiles = walkFiles(b.targetDir, (p) => p.endsWith(`${path.sep}incremental`)).filter((p) => p.endsWith('.d'));
        assert.ok(dFiles.length >= 5, dFiles.join(', '));
        let libSeen = false;
        for (const f of dFiles) {
          const d = parseRustcDepInfo(fs.readFileSync(f, 'utf8'));
          const uplifted = path.dirname(f) === path.join(b.targetDir, 'debug');
          if (uplifted) {
            // Written by cargo for the uplifted artifact: absolute paths.
            assert.ok(d.sources.every((s) => path.isAbsolute(s)), f);
            continue;
          }
          assert.equal(d.output, f, 'rustc names the .d file itself first');
          const origin = packageOrigin(d.sources, path.basename(f).startsWith('app') ? 'app' : 'util');
          assert.deepEqual(origin, { version: null, source: { kind: 'path', detail: null } });
          if (/[\\/]util-[0-9a-f]{16}\.d$/.test(f)) {
            libSeen = true;
            assert.equal(d.sources[0], 'util/src/lib.rs');
            assert.ok(d.sources.includes('util/src/extra dir/more.rs'), d.sources.join(' | '));
            assert.ok(d.sources.some((s) => s.endsWith('/out/gen.rs') && path.isAbsolute(s)));
            const env = new Map(d.env.map((e) => [e.key, e.value]));
            assert.equal(env.get('UTIL_ENV'), 'hello world');
            assert.equal(env.get('CBDX_SURELY_UNSET_VAR'), null);
            assert.ok(env.get('OUT_DIR')?.endsWith('out'));
          }
        }
        assert.ok(libSeen);
      });

      test('incremental folder and session names decode; start times match the folders', () => {
        const inc = path.join(b.targetDir, 'debug', 'incremental');
        const crates = fs.readdirSync(inc);
        assert.deepEqual(crates.map((c) => parseIncrementalDirName(c)?.crate).sort(), ['app', 'build_script_build', 'util']);
        let sessions = 0;
        for (const c of crates) {
          assert.equal(parseIncrementalDirName(c)?.suffix.length, 13);
          for (const s of fs.readdirSync(path.join(inc, c))) {
            const p = parseSessionName(s);
            assert.ok(p, s);
            assert.ok(p.startedAt !== null);
            if (p.lock) continue;
            sessions++;
            assert.equal(p.working, false);
            const mtime = fs.statSync(path.join(inc, c, s)).mtimeMs;
            assert.ok(Math.abs(mtime - p.startedAt) < 5000, `${s}: decoded ${new Date(p.startedAt).toISOString()}, mtime ${new Date(mtime).toISOString()}`);
          }
        }
        assert.equal(sessions, 3);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// (b) Corrupt and unusual input
// ---------------------------------------------------------------------------------------------------------

describe('parseJsonLossless', () => {
  test('big integers stay exact; strings with digits are untouched', () => {
    const v = parseJsonLossless('{"a":18446744073709551615,"s":"18446744073709551615","n":-9007199254740993,"x":[1,2.5,1e3,-0]}') as Record<string, unknown>;
    assert.equal(v['a'], '18446744073709551615');
    assert.equal(v['s'], '18446744073709551615');
    assert.equal(v['n'], '-9007199254740993');
    assert.deepEqual(v['x'], [1, 2.5, 1000, -0]);
  });

  test('safe integers stay numbers; escapes decode like JSON.parse', () => {
    const text = '{"k":9007199254740991,"e":"a\\"b\\\\c\\u00e9\\n\\/","u":"\\ud83d\\ude00"}';
    assert.deepEqual(parseJsonLossless(text), JSON.parse(text));
  });

  test('__proto__ is an ordinary key', () => {
    const v = parseJsonLossless('{"__proto__":{"x":1}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });

  test('truncated and garbage input throw JsonSyntaxError with a position', () => {
    const full = '{"rustc":7458672600737419911,"features":"[\\"a\\"]","deps":[[1,"x",false,2]]}';
    for (let i = 0; i < full.length; i++) {
      assert.throws(() => parseJsonLossless(full.slice(0, i)), JsonSyntaxError, `prefix ${i}`);
    }
    for (const bad of ['', ' ', '{"a":1,}', '[1 2]', '{"a" 1}', '01', '1.', '-', '+1', 'tru', '"\u0001"', '"\\x"', '{"a":1}x', '\ufeff{}', 'NaN', '[1,]']) {
      assert.throws(() => parseJsonLossless(bad), JsonSyntaxError, JSON.stringify(bad));
    }
    try {
      parseJsonLossless('{"a":[1,2');
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof JsonSyntaxError);
      assert.equal(e.position, 9);
      assert.match(e.message, /end of JSON input/);
    }
  });

  test('deep nesting is refused instead of overflowing the stack', () => {
    assert.throws(() => parseJsonLossless('['.repeat(100000)), JsonSyntaxError);
  });
});

describe('u64 hex conversions', () => {
  test('little-endian hex both ways', () => {
    // Real pair: app's dependency on util and util's hash file.
    assert.equal(u64DecToLeHex('12842174693131820793'), 'f91ea2b7d79138b2');
    assert.equal(leHexToU64Dec('f91ea2b7d79138b2'), '12842174693131820793');
    assert.equal(u64DecToLeHex('0'), '0000000000000000');
    assert.equal(u64DecToLeHex('1'), '0100000000000000');
    assert.equal(u64DecToLeHex('18446744073709551615'), 'ffffffffffffffff');
    assert.equal(leHexToU64Dec('0100000000000000'), '1');
  });

  test('out of range and malformed input is refused', () => {
    assert.throws(() => u64DecToLeHex('18446744073709551616'), RangeError);
    assert.throws(() => u64DecToLeHex('-1'), RangeError);
    assert.throws(() => u64DecToLeHex('12a'), RangeError);
    assert.throws(() => leHexToU64Dec('f91ea2b7d79138b'), RangeError);
    assert.throws(() => leHexToU64Dec('f91ea2b7d79138b2\n'), RangeError);
  });
});

describe('parseFingerprintFileName', () => {
  const cases: ReadonlyArray<readonly [string, unknown]> = [
    ['lib-util', { prefix: '', json: false, mode: 'build', targetKind: 'lib', target: 'util' }],
    ['lib-util.json', { prefix: '', json: true, mode: 'build', targetKind: 'lib', target: 'util' }],
    ['dep-test-lib-app', { prefix: 'dep-', json: false, mode: 'test', targetKind: 'lib', target: 'app' }],
    ['output-lib-util', { prefix: 'output-', json: false, mode: 'build', targetKind: 'lib', target: 'util' }],
    ['test-integration-test-integ', { prefix: '', json: false, mode: 'test', targetKind: 'integration-test', target: 'integ' }],
    ['run-build-script-build-script-build', { prefix: '', json: false, mode: 'run-custom-build', targetKind: 'build-script', target: 'build-script-build' }],
    ['run-build-script-build-script-build.json', { prefix: '', json: true, mode: 'run-custom-build', targetKind: 'build-script', target: 'build-script-build' }],
    ['build-script-build-script-build', { prefix: '', json: false, mode: 'build', targetKind: 'build-script', target: 'build-script-build' }],
    ['dep-build-script-build-script-build', { prefix: 'dep-', json: false, mode: 'build', targetKind: 'build-script', target: 'build-script-build' }],
    ['doc-lib-app', { prefix: '', json: false, mode: 'doc', targetKind: 'lib', target: 'app' }],
    ['doc-bin-my-tool', { prefix: '', json: false, mode: 'doc', targetKind: 'bin', target: 'my-tool' }],
    ['test-bench-bench1', { prefix: '', json: false, mode: 'test', targetKind: 'bench', target: 'bench1' }],
    ['example-demo', { prefix: '', json: false, mode: 'build', targetKind: 'example', target: 'demo' }],
    ['test-example-demo', { prefix: '', json: false, mode: 'test', targetKind: 'example', target: 'demo' }],
    ['bin-lib-weird', { prefix: '', json: false, mode: 'build', targetKind: 'bin', target: 'lib-weird' }],
    ['invoked.timestamp', null],
    ['', null],
    ['lib-', null],
    ['dep-lib-util.json', null],
    ['run-lib-util', null],
    ['proc-macro-foo', null],
    ['output', null],
    ['stderr', null],
    ['root-output', null],
  ];
  for (const [name, expected] of cases) {
    test(JSON.stringify(name), () => assert.deepEqual(parseFingerprintFileName(name), expected));
  }
});

describe('parseHashFile', () => {
  test('16 lowercase hex digits', () => {
    assert.deepEqual(parseHashFile(Buffer.from('f91ea2b7d79138b2')), { state: 'ok', hash: 'f91ea2b7d79138b2' });
  });
  test('empty file: last build failed or was interrupted', () => {
    assert.deepEqual(parseHashFile(Buffer.alloc(0)), { state: 'empty' });
  });
  test('trailing newline, 15 digits, uppercase and garbage are invalid', () => {
    for (const s of ['f91ea2b7d79138b2\n', 'f91ea2b7d79138b2\r\n', 'f91ea2b7d79138b', 'F91EA2B7D79138B2', 'f91ea2b7d79138b22', 'hello world!!!!!', ' f91ea2b7d79138b2']) {
      const h = parseHashFile(Buffer.from(s));
      assert.equal(h.state, 'invalid', JSON.stringify(s));
      assert.ok(h.state === 'invalid' && h.reason.length > 0);
    }
    const nl = parseHashFile(Buffer.from('f91ea2b7d79138b2\n'));
    assert.ok(nl.state === 'invalid' && /newline/.test(nl.reason));
    const short = parseHashFile(Buffer.from('f91ea2b7d79138b'));
    assert.ok(short.state === 'invalid' && /15/.test(short.reason));
  });
});

describe('parseDebugStringList', () => {
  test('plain lists, escapes and the empty string', () => {
    assert.deepEqual(parseDebugStringList('["default", "fancy"]'), ['default', 'fancy']);
    assert.deepEqual(parseDebugStringList('[]'), []);
    assert.deepEqual(parseDebugStringList(''), []);
    assert.deepEqual(parseDebugStringList('["a\\"b", "c\\\\d", "e,f", "g]h"]'), ['a"b', 'c\\d', 'e,f', 'g]h']);
    assert.deepEqual(parseDebugStringList('["n\\nt\\t", "\\u{1f600}", "\\\'q"]'), ['n\nt\t', '\u{1f600}', "'q"]);
    assert.deepEqual(parseDebugStringList('["dep:serde"]'), ['dep:serde']);
  });
  test('malformed lists throw FingerprintError', () => {
    for (const s of ['["a"', '["a", ', '[a]', '["a" "b"]', '["a\\', '["a\\q"]', '["a"] x', 'default', '[', '["\\u{110000}"]']) {
      assert.throws(() => parseDebugStringList(s), FingerprintError, JSON.stringify(s));
    }
  });
});

describe('parseFingerprintJson', () => {
  const REAL =
    '{"rustc":7458672600737419911,"features":"[\\"default\\", \\"fancy\\", \\"plain\\"]","declared_features":"[\\"default\\", \\"fancy\\", \\"plain\\"]",' +
    '"target":5267381802768101941,"profile":8731458305071235362,"path":16297424488459404125,' +
    '"deps":[[4914603676735422059,"build_script_build",false,14103174805682877794]],' +
    '"local":[{"CheckDepInfo":{"dep_info":"debug/.fingerprint/util-55d1374d3ff8daec/dep-lib-util","checksum":false}}],' +
    '"rustflags":[],"config":8247474407144887393,"compile_kind":0}';

  test('a real legacy file', () => {
    const fp = parseFingerprintJson(REAL);
    assert.equal(fp.rustc, '7458672600737419911');
    assert.deepEqual(fp.features, ['default', 'fancy', 'plain']);
    assert.equal(fp.path, '16297424488459404125');
    assert.equal(fp.compileKind, '0');
    assert.deepEqual(fp.deps, [
      { pkgIdHash: '4914603676735422059', name: 'build_script_build', public: false, fingerprint: '14103174805682877794', hashHex: u64DecToLeHex('14103174805682877794') },
    ]);
    assert.deepEqual(fp.local, [{ kind: 'CheckDepInfo', depInfo: 'debug/.fingerprint/util-55d1374d3ff8daec/dep-lib-util', fingerprint: 'mtime', field: 'checksum' }]);
  });

  test('new `fingerprint` field, other local kinds, unknown variants and fields', () => {
    const fp = parseFingerprintJson(
      JSON.stringify({
        rustc: 1,
        features: '',
        declared_features: '',
        target: 0,
        profile: 0,
        path: 0,
        deps: [],
        local: [
          { CheckDepInfo: { dep_info: 'debug/build/a/0123456789abcdef/fingerprint/dep-lib-a', fingerprint: 'content' } },
          { RerunIfChanged: { output: 'debug/build/bs/3d05/run/stdout', paths: ['build.rs', 'data.txt'] } },
          { RerunIfEnvChanged: { var: 'BS_MODE', val: null } },
          { RerunIfEnvChanged: { var: 'OTHER', val: 'x' } },
          { Precalculated: '1.0.0' },
          { SomethingNew: { a: 1 } },
        ],
        rustflags: ['-Cdebuginfo=0'],
        config: 0,
        compile_kind: 0,
        future_field: 12,
      }),
    );
    assert.deepEqual(fp.local, [
      { kind: 'CheckDepInfo', depInfo: 'debug/build/a/0123456789abcdef/fingerprint/dep-lib-a', fingerprint: 'content', field: 'fingerprint' },
      { kind: 'RerunIfChanged', output: 'debug/build/bs/3d05/run/stdout', paths: ['build.rs', 'data.txt'] },
      { kind: 'RerunIfEnvChanged', var: 'BS_MODE', val: null },
      { kind: 'RerunIfEnvChanged', var: 'OTHER', val: 'x' },
      { kind: 'Precalculated', value: '1.0.0' },
      { kind: 'unknown', variant: 'SomethingNew', raw: { a: 1 } },
    ]);
    assert.equal(fp.rustc, '1');
    assert.deepEqual(fp.rustflags, ['-Cdebuginfo=0']);
    assert.deepEqual(fp.unknownFields, { future_field: 12 });
    assert.deepEqual(fp.declaredFeatures, []);
  });

  test('older files without declared_features/config/compile_kind', () => {
    const fp = parseFingerprintJson('{"rustc":1,"features":"[]","target":2,"profile":3,"path":4,"deps":[],"local":[],"rustflags":[]}');
    assert.equal(fp.declaredFeatures, null);
    assert.equal(fp.config, null);
    assert.equal(fp.compileKind, null);
  });

  test('a big u64 next to a string full of digits', () => {
    const fp = parseFingerprintJson(
      '{"rustc":18446744073709551615,"features":"[\\"v18446744073709551615\\"]","target":9007199254740993,"profile":1,"path":2,' +
        '"deps":[[18446744073709551614,"n18446744073709551614",true,9007199254740993]],"local":[{"Precalculated":"9007199254740993"}],"rustflags":[],"config":0,"compile_kind":0}',
    );
    assert.equal(fp.rustc, '18446744073709551615');
    assert.equal(fp.target, '9007199254740993');
    assert.deepEqual(fp.features, ['v18446744073709551615']);
    assert.equal(fp.deps[0]?.pkgIdHash, '18446744073709551614');
    assert.equal(fp.deps[0]?.name, 'n18446744073709551614');
    assert.equal(fp.deps[0]?.fingerprint, '9007199254740993');
    assert.equal(fp.deps[0]?.hashHex, '0100000000002000');
    assert.deepEqual(fp.local, [{ kind: 'Precalculated', value: '9007199254740993' }]);
  });

  test('truncated JSON, missing fields and wrong types throw FingerprintError with a clear message', () => {
    const expectError = (text: string, pattern: RegExp): void => {
      assert.throws(() => parseFingerprintJson(text), (e: unknown) => {
        assert.ok(e instanceof FingerprintError, `FingerprintError for ${text.slice(0, 60)}: ${String(e)}`);
        assert.match(e.message, pattern);
        return true;
      });
    };
    for (let i = 0; i < REAL.length; i++) assert.throws(() => parseFingerprintJson(REAL.slice(0, i)), FingerprintError, `prefix ${i}`);
    expectError(REAL.slice(0, 100), /truncated/);
    expectError('', /empty/);
    expectError('[1,2]', /should be an object, found an array/);
    expectError(REAL.replace('"rustc":7458672600737419911,', ''), /no `rustc` field/);
    expectError(REAL.replace('"rustc":7458672600737419911', '"rustc":"abc"'), /`rustc` should be an unsigned 64-bit integer, found a string "abc"/);
    expectError(REAL.replace('"rustc":7458672600737419911', '"rustc":-1'), /`rustc` should be an unsigned 64-bit integer/);
    expectError(REAL.replace('"rustc":7458672600737419911', '"rustc":18446744073709551616'), /`rustc` should be an unsigned 64-bit integer/);
    expectError(REAL.replace('"deps":[[4914603676735422059,"build_script_build",false,14103174805682877794]]', '"deps":{}'), /`deps` should be an array/);
    expectError(REAL.replace(',false,', ',"no",'), /deps\[0\]\[2\] \(public\) should be a boolean/);
    expectError(REAL.replace('[[4914603676735422059,', '[['), /deps\[0\] should be \[package id hash/);
    expectError(REAL.replace('"checksum":false', '"checksum":"no"'), /CheckDepInfo.checksum should be a boolean/);
    expectError(REAL.replace('"checksum":false', '"fingerprint":"hash"'), /should be "mtime" or "content"/);
    expectError(REAL.replace('"features":"[\\"default\\", \\"fancy\\", \\"plain\\"]"', '"features":["default"]'), /`features` should be a string, found an array/);
    expectError(REAL.replace('"features":"[\\"default\\", \\"fancy\\", \\"plain\\"]"', '"features":"[\\"default\\""'), /`features` is not a Rust list of strings/);
    expectError(REAL.replace('"rustflags":[]', '"rustflags":[1]'), /`rustflags`\[0\] should be a string/);
    expectError('{"rustc":1,"features":"[]","target":2}', /no `profile`, `path`, `deps`, `local` fields/);
    expectError(REAL + 'x', /not valid JSON/);
  });
});

/** Writes cargo's binary dep-info (format 1), to build corrupt variants from a known-good file. */
function encodeDepInfo(
  files: ReadonlyArray<{ base: 0 | 1; path: string; checksum?: [bigint, string] }>,
  env: ReadonlyArray<[string, string | null]>,
): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    parts.push(b);
  };
  const bytes = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    u32(b.length);
    parts.push(b);
  };
  u32(1);
  parts.push(Buffer.from([0xff, 1]));
  u32(files.length);
  for (const f of files) {
    parts.push(Buffer.from([f.base]));
    bytes(f.path);
    if (f.checksum) {
      parts.push(Buffer.from([1]));
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.checksum[0]);
      parts.push(b);
      bytes(f.checksum[1]);
    } else {
      parts.push(Buffer.from([0]));
    }
  }
  u32(env.length);
  for (const [k, v] of env) {
    bytes(k);
    if (v === null) {
      parts.push(Buffer.from([0]));
    } else {
      parts.push(Buffer.from([1]));
      bytes(v);
    }
  }
  return Buffer.concat(parts);
}

describe('parseDepInfo', () => {
  const GOOD = encodeDepInfo(
    [
      { base: 1, path: 'debug/build/util/d8eb39e2f1654506/out/gen.rs', checksum: [24n, 'blake3=f0cfdbc046ea06976f6f4f8322df9b0bffed90ea39d77d17029dd3f8c1fbc7b0'] },
      { base: 0, path: 'src/lib.rs', checksum: [155n, 'sha256=53cd571329839567cfebd6a748bd640d0e07a01d9453b3968916'] },
      { base: 0, path: 'src/my file.rs' },
    ],
    [
      ['CBDX_CONFIG_ENV', 'from-config'],
      ['UNSET', null],
      ['EMPTY', ''],
    ],
  );

  test('decodes files, checksums and env', () => {
    const d = parseDepInfo(GOOD);
    assert.equal(d.version, 1);
    assert.deepEqual(d.files, [
      { base: 'build', path: 'debug/build/util/d8eb39e2f1654506/out/gen.rs', checksum: { fileLen: '24', value: 'blake3=f0cfdbc046ea06976f6f4f8322df9b0bffed90ea39d77d17029dd3f8c1fbc7b0' } },
      { base: 'package', path: 'src/lib.rs', checksum: { fileLen: '155', value: 'sha256=53cd571329839567cfebd6a748bd640d0e07a01d9453b3968916' } },
      { base: 'package', path: 'src/my file.rs', checksum: null },
    ]);
    assert.deepEqual(d.env, [
      { key: 'CBDX_CONFIG_ENV', value: 'from-config' },
      { key: 'UNSET', value: null },
      { key: 'EMPTY', value: '' },
    ]);
  });

  test('a real stable-1.95 file (bytes as cargo wrote them)', () => {
    const real = Buffer.from('01000000ff010100000000080000006275696c642e72730000000000', 'hex');
    assert.deepEqual(parseDepInfo(real), { version: 1, files: [{ base: 'package', path: 'build.rs', checksum: null }], env: [] });
  });

  test('a u64 file length above 2^53 stays exact', () => {
    const d = parseDepInfo(encodeDepInfo([{ base: 0, path: 'a', checksum: [18446744073709551615n, 'sha256=00'] }], []));
    assert.equal(d.files[0]?.checksum?.fileLen, '18446744073709551615');
  });

  test('truncated at every byte offset: always DepInfoError naming the byte', () => {
    for (let len = 0; len < GOOD.length; len++) {
      assert.throws(
        () => parseDepInfo(GOOD.subarray(0, len)),
        (e: unknown) => e instanceof DepInfoError && (len === 0 ? /empty/.test(e.message) : /byte \d+/.test(e.message)),
        `prefix of ${len} bytes`,
      );
    }
  });

  const expectError = (data: Buffer, pattern: RegExp): void => {
    assert.throws(() => parseDepInfo(data), (e: unknown) => {
      assert.ok(e instanceof DepInfoError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  };

  test('empty, old format, unknown version, bad marker', () => {
    expectError(Buffer.alloc(0), /empty/);
    // Format v0: u32 file count, then path type 0 or 1.
    expectError(Buffer.from('0100000000080000006275696c642e72730000000000', 'hex'), /older cargo/);
    expectError(Buffer.from('01000000ff02', 'hex'), /version 2 is not supported/);
    expectError(Buffer.from('01000000fe01', 'hex'), /not a cargo dep-info file/);
  });

  test('lengths beyond the buffer are rejected without allocating', () => {
    expectError(Buffer.from('01000000ff0101000000' + '00' + 'ffffffff' + '6162', 'hex'), /claims 4294967295 bytes but only 2 are left/);
    // 0xFFFFFFFF files: fails at the first missing byte instead of looping.
    expectError(Buffer.from('01000000ff01ffffffff', 'hex'), /truncated/);
    expectError(Buffer.from('01000000ff0100000000ffffffff', 'hex'), /truncated/);
    expectError(Buffer.from('01000000ff0100000000' + '01000000' + 'ffffffff', 'hex'), /claims 4294967295 bytes/);
  });

  test('invalid type and flag bytes', () => {
    expectError(Buffer.from('01000000ff0101000000' + '07' + '0100000061' + '00' + '00000000', 'hex'), /invalid path type 0x07 at byte 10/);
    expectError(Buffer.from('01000000ff0101000000' + '00' + '0100000061' + '05' + '00000000', 'hex'), /invalid checksum flag 0x05/);
    expectError(Buffer.from('01000000ff0100000000' + '01000000' + '0100000041' + '02', 'hex'), /invalid set\/unset flag 0x02/);
    expectError(Buffer.from('01000000ff0100000000' + '01000000' + '01000000ff' + '00', 'hex'), /not valid UTF-8/);
  });

  test('random garbage never hangs and only throws DepInfoError', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const len = rand() % 64;
      const buf = Buffer.alloc(len);
      for (let i = 0; i < len; i++) buf[i] = rand() & 0xff;
      // Half of them get a valid header so that the body decoder is exercised too.
      if (n % 2 === 0 && len >= 6) buf.set([1, 0, 0, 0, 0xff, 1], 0);
      try {
        parseDepInfo(buf);
      } catch (e) {
        assert.ok(e instanceof DepInfoError, String(e));
      }
    }
  });
});

describe('rustc .d files', () => {
  test('plain, escaped spaces, drive letters, colons in paths, CRLF', () => {
    assert.deepEqual(parseRustcDepInfoLine('/t/deps/util-1.d: util/src/lib.rs /t/build/util-2/out/gen.rs'), {
      output: '/t/deps/util-1.d',
      sources: ['util/src/lib.rs', '/t/build/util-2/out/gen.rs'],
    });
    assert.deepEqual(parseRustcDepInfoLine('/my\\ dir/x.d: src/a\\ b.rs src/c.rs\r'), { output: '/my dir/x.d', sources: ['src/a b.rs', 'src/c.rs'] });
    assert.deepEqual(parseRustcDepInfoLine('/x.d: src/two\\ \\ spaces.rs'), { output: '/x.d', sources: ['src/two  spaces.rs'] });
    assert.deepEqual(parseRustcDepInfoLine('C:\\t\\deps\\foo-1.d: C:\\Users\\me\\.cargo\\registry\\src\\idx\\foo-1.0.0\\src\\lib.rs src\\main.rs'), {
      output: 'C:\\t\\deps\\foo-1.d',
      sources: ['C:\\Users\\me\\.cargo\\registry\\src\\idx\\foo-1.0.0\\src\\lib.rs', 'src\\main.rs'],
    });
    assert.deepEqual(parseRustcDepInfoLine('/a:b/x.d: /c:d/lib.rs'), { output: '/a:b/x.d', sources: ['/c:d/lib.rs'] });
    assert.deepEqual(parseRustcDepInfoLine('/x.d:'), { output: '/x.d', sources: [] });
    assert.deepEqual(parseRustcDepInfoLine('/x.d:   a.rs\t b.rs  '), { output: '/x.d', sources: ['a.rs', 'b.rs'] });
  });

  test('lines that are not rules throw RustcDepError', () => {
    for (const l of ['', 'no separator here', ': src.rs', 'C:\\x', '/x.d: src/trailing\\']) {
      assert.throws(() => parseRustcDepInfoLine(l), RustcDepError, JSON.stringify(l));
    }
  });

  test('whole file: first rule plus env-dep comments', () => {
    const text = '/t/a.d: src/lib.rs\n\n/t/liba.rlib: src/lib.rs\n\nsrc/lib.rs:\n\n# env-dep:A=x\\ny\\\\z\n# env-dep:UNSET\n# env-dep:E=\n';
    assert.deepEqual(parseRustcDepInfo(text), {
      output: '/t/a.d',
      sources: ['src/lib.rs'],
      env: [
        { key: 'A', value: 'x\ny\\z' },
        { key: 'UNSET', value: null },
        { key: 'E', value: '' },
      ],
    });
    assert.throws(() => parseRustcDepInfo('# env-dep:A=1\n'), RustcDepError);
  });
});

describe('packageOrigin', () => {
  test('registry, with dashes in the name and pre-release/build metadata in the version', () => {
    assert.deepEqual(
      packageOrigin(['/home/u/.cargo/registry/src/index.example-1949cf8c6b5b557f/cfg-if-0.1.10/src/lib.rs'], 'cfg-if'),
      { version: '0.1.10', source: { kind: 'registry', detail: 'index.example-1949cf8c6b5b557f' } },
    );
    assert.deepEqual(
      packageOrigin(['/r/registry/src/idx-0123/my-cool-crate-1.0.0-rc.1+build.5/src/lib.rs'], 'my-cool-crate'),
      { version: '1.0.0-rc.1+build.5', source: { kind: 'registry', detail: 'idx-0123' } },
    );
    assert.deepEqual(
      packageOrigin(['C:\\Users\\me\\.cargo\\registry\\src\\index.example-1949cf8c6b5b557f\\foo-2.3.4\\src\\lib.rs'], 'foo'),
      { version: '2.3.4', source: { kind: 'registry', detail: 'index.example-1949cf8c6b5b557f' } },
    );
  });

  test('the folder uses the package name, not the crate name; other packages do not match', () => {
    const src = ['/r/registry/src/idx/serde-json-1.0.0/src/lib.rs'];
    assert.equal(packageOrigin(src, 'serde-json').version, '1.0.0');
    assert.equal(packageOrigin(src, 'serde_json').version, null);
    assert.equal(packageOrigin(src, 'serde').version, null);
  });

  test('the first source inside <name>-<version>/ wins; OUT_DIR files are skipped', () => {
    assert.deepEqual(
      packageOrigin(['/t/debug/build/libc-0123456789abcdef/out/gen.rs', '/r/registry/src/idx/libc-0.2.139/src/lib.rs', '/r/registry/src/idx2/libc-0.2.140/src/x.rs'], 'libc'),
      { version: '0.2.139', source: { kind: 'registry', detail: 'idx' } },
    );
  });

  test('git checkouts', () => {
    assert.deepEqual(packageOrigin(['/home/u/.cargo/git/checkouts/mylib-1a2b3c4d5e6f7a8b/4f2e1d0/crates/mylib/src/lib.rs'], 'mylib'), {
      version: null,
      source: { kind: 'git', detail: 'mylib-1a2b3c4d5e6f7a8b/4f2e1d0' },
    });
  });

  test('directory sources (distribution packages, vendoring)', () => {
    assert.deepEqual(packageOrigin(['/usr/share/cargo/registry/cfg-if-0.1.10/src/lib.rs'], 'cfg-if'), {
      version: '0.1.10',
      source: { kind: 'directory', detail: '/usr/share/cargo/registry' },
    });
  });

  test('path packages', () => {
    assert.deepEqual(packageOrigin(['util/src/lib.rs', '/t/debug/build/util-0123456789abcdef/out/gen.rs'], 'util'), {
      version: null,
      source: { kind: 'path', detail: null },
    });
    // Relative paths are path packages even inside a <name>-<version> folder.
    assert.deepEqual(packageOrigin(['vendor/util-1.0.0/src/lib.rs'], 'util'), { version: null, source: { kind: 'path', detail: null } });
    assert.deepEqual(packageOrigin([], 'util'), { version: null, source: { kind: 'unknown', detail: null } });
  });
});

describe('parseBuildScriptOutput', () => {
  const cat = (text: string): Array<[string, string]> => parseBuildScriptOutput(text).directives.map((d) => [d.category, d.key]);

  test('every category, in both syntaxes', () => {
    const text = [
      'cargo::rustc-cfg=foo',
      'cargo:rustc-cfg=bar',
      'cargo::rustc-check-cfg=cfg(foo)',
      'cargo::rustc-env=A=b=c',
      'cargo::rustc-link-lib=static=z',
      'cargo::rustc-link-search=native=/opt/lib',
      'cargo::rustc-link-search=/plain/path',
      'cargo::rustc-link-search=weird=/x',
      'cargo::rustc-link-arg=-Wl,-z',
      'cargo::rustc-link-arg-bins=-a',
      'cargo::rustc-link-arg-bin=tool=-b',
      'cargo::rustc-link-arg-tests=-c',
      'cargo::rustc-link-arg-benches=-d',
      'cargo::rustc-link-arg-examples=-e',
      'cargo::rustc-link-arg-cdylib=-f',
      'cargo:rustc-cdylib-link-arg=-g',
      'cargo::rustc-flags=-l foo -L/some/dir -lbar',
      'cargo::rerun-if-changed=build.rs',
      'cargo::rerun-if-env-changed=BS_MODE',
      'cargo::warning=careful',
      'cargo::error=broken',
      'cargo::metadata=other=meta2',
      'cargo:KEY=value-from-links',
      'cargo:error=is-links-metadata-in-the-old-syntax',
      'cargo::nonsense=1',
      'just text',
      '',
    ].join('\n');
    const out = parseBuildScriptOutput(text);
    assert.equal(out.lines, 26);
    assert.equal(out.ignoredLines, 1);
    assert.deepEqual(cat(text), [
      ['cfg', 'rustc-cfg'],
      ['cfg', 'rustc-cfg'],
      ['check-cfg', 'rustc-check-cfg'],
      ['env', 'rustc-env'],
      ['link-lib', 'rustc-link-lib'],
      ['link-search', 'rustc-link-search'],
      ['link-search', 'rustc-link-search'],
      ['link-search', 'rustc-link-search'],
      ['link-arg', 'rustc-link-arg'],
      ['link-arg', 'rustc-link-arg-bins'],
      ['link-arg', 'rustc-link-arg-bin'],
      ['link-arg', 'rustc-link-arg-tests'],
      ['link-arg', 'rustc-link-arg-benches'],
      ['link-arg', 'rustc-link-arg-examples'],
      ['link-arg', 'rustc-link-arg-cdylib'],
      ['link-arg', 'rustc-cdylib-link-arg'],
      ['flags', 'rustc-flags'],
      ['rerun-if-changed', 'rerun-if-changed'],
      ['rerun-if-env-changed', 'rerun-if-env-changed'],
      ['warning', 'warning'],
      ['error', 'error'],
      ['metadata', 'metadata'],
      ['links-metadata', 'KEY'],
      ['links-metadata', 'error'],
      ['invalid', 'nonsense'],
    ]);
    const d = out.directives;
    assert.deepEqual(d[1], { line: 2, raw: 'cargo:rustc-cfg=bar', syntax: 'old', key: 'rustc-cfg', value: 'bar', category: 'cfg' });
    assert.ok(d[3]?.category === 'env' && d[3].name === 'A' && d[3].envValue === 'b=c');
    assert.ok(d[5]?.category === 'link-search' && d[5].kind === 'native' && d[5].path === '/opt/lib');
    assert.ok(d[6]?.category === 'link-search' && d[6].kind === null && d[6].path === '/plain/path');
    assert.ok(d[7]?.category === 'link-search' && d[7].kind === null && d[7].path === 'weird=/x');
    assert.ok(d[10]?.category === 'link-arg' && d[10].variant === 'bin' && d[10].bin === 'tool' && d[10].arg === '-b');
    assert.deepEqual(
      d.filter((x) => x.category === 'link-arg').map((x) => (x.category === 'link-arg' ? x.variant : '')),
      ['all', 'bins', 'bin', 'tests', 'benches', 'examples', 'cdylib', 'cdylib'],
    );
    assert.ok(d[16]?.category === 'flags');
    assert.deepEqual(d[16].category === 'flags' ? [d[16].libs, d[16].searchPaths] : null, [['foo', 'bar'], ['/some/dir']]);
    assert.ok(d[21]?.category === 'metadata' && d[21].metaKey === 'other' && d[21].metaValue === 'meta2');
    assert.ok(d[22]?.category === 'links-metadata' && d[22].metaKey === 'KEY' && d[22].metaValue === 'value-from-links');
    assert.ok(d[24]?.category === 'invalid' && /unknown key `nonsense`/.test(d[24].message) && d[24].line === 25);
  });

  test('extra spaces, CRLF and malformed lines', () => {
    const text = '  cargo::rustc-cfg=spaced  \r\ncargo::rustc-cfg = x\r\ncargo:rustc-cfg =y\r\ncargo::warning\r\ncargo:no-equals\r\ncargo::rustc-env=NOVALUE\r\ncargo::rustc-link-arg-bin=noarg\r\ncargo::metadata=novalue\r\ncargo::rustc-flags=-x\r\nCARGO::rustc-cfg=upper\r\n';
    const d = parseBuildScriptOutput(text).directives;
    assert.deepEqual(d.map((x) => [x.line, x.category]), [
      [1, 'cfg'],
      [2, 'invalid'],
      [3, 'links-metadata'],
      [4, 'invalid'],
      [5, 'invalid'],
      [6, 'invalid'],
      [7, 'invalid'],
      [8, 'invalid'],
      [9, 'invalid'],
    ]);
    assert.equal(d[0]?.value, 'spaced');
    assert.equal(d[0]?.raw, '  cargo::rustc-cfg=spaced  ');
    assert.ok(d[2]?.category === 'links-metadata' && d[2].metaKey === 'rustc-cfg ' && d[2].metaValue === 'y');
    for (const x of d.slice(1)) if (x.category === 'invalid') assert.ok(x.message.length > 10);
    assert.equal(parseBuildScriptOutput(text).ignoredLines, 1);
  });

  test('empty output', () => {
    assert.deepEqual(parseBuildScriptOutput(''), { directives: [], lines: 0, ignoredLines: 0 });
  });
});

describe('incremental names', () => {
  test('crate folders', () => {
    assert.deepEqual(parseIncrementalDirName('build_script_build-3ewlv9sithaxa'), { crate: 'build_script_build', suffix: '3ewlv9sithaxa' });
    assert.deepEqual(parseIncrementalDirName('my-odd-name-0bmkwb8npf691'), { crate: 'my-odd-name', suffix: '0bmkwb8npf691' });
    // Older rustc did not pad the suffix.
    assert.deepEqual(parseIncrementalDirName('util-1bmkwb8npf6'), { crate: 'util', suffix: '1bmkwb8npf6' });
    for (const n of ['util', '-3ewlv9sithaxa', 'util-', 'util-3ewlv9sithaxa1', 'util-3ewlv9sith_xa', 'util-zzzzzzzzzzzzz']) {
      assert.equal(parseIncrementalDirName(n), null, n);
    }
  });

  test('sessions and lock files', () => {
    const done = parseSessionName('s-hofdmvypiy-1ykrsnn-5dlzl32h48xo4gwwz3r8x6hi8');
    assert.ok(done && !done.working && !done.lock);
    assert.equal(new Date(done.startedAt ?? 0).toISOString(), '2026-11-23T10:50:45.717Z');
    assert.equal(done.startedAt, parseInt('hofdmvypiy', 36) / 1000);
    assert.deepEqual(parseSessionName('s-hofdmvypiy-1ykrsnn-working'), { startedAt: done.startedAt, working: true, lock: false });
    assert.deepEqual(parseSessionName('s-hofdmvypiy-1ykrsnn.lock'), { startedAt: done.startedAt, working: false, lock: true });
    for (const n of ['s-hofdmvypiy', 's-hofdmvypiy-1ykrsnn', 's-a-b-c-d', 'x-hofdmvypiy-1ykrsnn-abc', 's-hofd_vypiy-1ykrsnn-abc', 's-hofdmvypiy-1ykrsnn-abc.lock', 'dep-graph.bin', 's--1ykrsnn-abc']) {
      assert.equal(parseSessionName(n), null, n);
    }
    assert.deepEqual(parseSessionName('s-zzzzzzzzzzzzzz-1-2'), { startedAt: null, working: false, lock: false });
  });
});
