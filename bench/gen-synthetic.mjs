#!/usr/bin/env node
// Generates a synthetic Cargo build directory in layout v2 for benchmarks (bench/run.mjs) and for measuring the
// walkers on trees too large to build for real. Deterministic: the same size gives the same names, sizes and
// contents (only the mtimes of non-fingerprint files are left to the clock). Large apparent sizes come from
// sparse files, so a million entries cost inodes and directory blocks, not gigabytes of data.
//
//   node bench/gen-synthetic.mjs <dir> <approxEntries>
//
// Shape (see the layout reference, "Layout v2"): <dir>/{.rustc_info.json, CACHEDIR.TAG, debug/, release/}; each
// profile has .cargo-build-lock, .cargo-lock, uplifted artifacts (hard links into unit folders, as cargo makes
// them), build/<pkg>/<16 hex>/{fingerprint,out,run}/ units, and debug/ has incremental/<crate>-<13 base36>/
// sessions. Roughly 45% of the entries are units, 25% incremental caches and 30% build-script OUT_DIR trees, which
// gives about a third directories, as in real large build dirs.
//
// A stamp file next to the tree (<dir>.gen.json) records the generator version and size; a tree with a matching
// stamp is reused, one with another stamp is replaced, and a folder without a stamp is never touched.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const GENERATOR_VERSION = 4;

// ------------------------------------------------------------------------------------------------------------
// Deterministic randomness

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick(arr) {
    return arr[Math.floor(this.next() * arr.length)];
  }
  chance(p) {
    return this.next() < p;
  }
  hex(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
  base36(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(this.next() * 36)];
    return s;
  }
  /** A u64 as decimal text, usually above 2^53 (fingerprint JSON holds such values). */
  u64() {
    const hi = BigInt(Math.floor(this.next() * 4294967296));
    const lo = BigInt(Math.floor(this.next() * 4294967296));
    return ((hi << 32n) | lo).toString();
  }
  /** Log-uniform size between lo and hi bytes. */
  size(lo, hi) {
    return Math.floor(Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo))));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Writing, with counters

class Tree {
  constructor(root) {
    this.root = root;
    this.entries = 0;
    this.dirs = 0;
    this.links = 0;
  }
  mkdir(p) {
    fs.mkdirSync(p);
    this.entries++;
    this.dirs++;
    return p;
  }
  write(p, data) {
    fs.writeFileSync(p, data);
    this.entries++;
  }
  /** A file of `size` apparent bytes that uses no data blocks. */
  sparse(p, size) {
    const fd = fs.openSync(p, 'w');
    if (size > 0) fs.ftruncateSync(fd, size);
    fs.closeSync(fd);
    this.entries++;
  }
  link(existing, p) {
    fs.linkSync(existing, p);
    this.entries++;
    this.links++;
  }
  touch(p, ms) {
    const t = ms / 1000;
    fs.utimesSync(p, t, t);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Names

const KNOWN = [
  'serde', 'serde_derive', 'serde_json', 'syn', 'quote', 'proc-macro2', 'unicode-ident', 'libc', 'cfg-if', 'log',
  'memchr', 'regex', 'regex-syntax', 'regex-automata', 'aho-corasick', 'itoa', 'ryu', 'bitflags', 'once_cell',
  'tokio', 'tokio-macros', 'mio', 'bytes', 'pin-project-lite', 'futures-core', 'futures-util', 'futures-channel',
  'futures-task', 'futures-io', 'futures-sink', 'slab', 'smallvec', 'hashbrown', 'indexmap', 'equivalent',
  'parking_lot', 'parking_lot_core', 'lock_api', 'scopeguard', 'rand', 'rand_core', 'rand_chacha', 'getrandom',
  'ppv-lite86', 'zerocopy', 'thiserror', 'thiserror-impl', 'anyhow', 'clap', 'clap_builder', 'clap_derive',
  'clap_lex', 'anstream', 'anstyle', 'anstyle-parse', 'colorchoice', 'strsim', 'heck', 'tracing', 'tracing-core',
  'tracing-attributes', 'tracing-subscriber', 'sharded-slab', 'thread_local', 'nu-ansi-term', 'hyper', 'http',
  'http-body', 'httparse', 'h2', 'tower', 'tower-service', 'tower-layer', 'socket2', 'url', 'idna', 'percent-encoding',
  'form_urlencoded', 'openssl-sys', 'openssl', 'cc', 'pkg-config', 'vcpkg', 'autocfg', 'version_check', 'zstd-sys',
  'zstd', 'zstd-safe', 'libz-sys', 'ring', 'rustls', 'webpki', 'untrusted', 'base64', 'chrono', 'num-traits',
  'num-integer', 'time', 'time-core', 'time-macros', 'deranged', 'powerfmt', 'crossbeam-utils', 'crossbeam-epoch',
  'crossbeam-deque', 'rayon', 'rayon-core', 'either', 'itertools', 'semver', 'toml', 'toml_edit', 'winnow', 'walkdir',
  'same-file', 'tempfile', 'fastrand', 'rustix', 'linux-raw-sys', 'errno', 'prost', 'prost-derive', 'tonic', 'axum',
  'sqlx', 'sqlx-core', 'libsqlite3-sys', 'rocksdb', 'librocksdb-sys', 'bindgen', 'clang-sys', 'glob', 'shlex',
];
const SYS = new Set(['openssl-sys', 'zstd-sys', 'libz-sys', 'ring', 'libsqlite3-sys', 'librocksdb-sys', 'clang-sys']);
const WORDS = ['core', 'util', 'net', 'store', 'proto', 'api', 'model', 'cli', 'engine', 'io', 'sync', 'codec', 'index',
  'query', 'cache', 'graph', 'auth', 'config', 'macros', 'runtime', 'server', 'client', 'types', 'parser', 'render'];

function crateName(pkg) {
  return pkg.replace(/-/g, '_');
}

// ------------------------------------------------------------------------------------------------------------
// Units

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const SENTENCE = 'This file has an mtime of when this was started.';

function depInfo(rng, sources) {
  const parts = [Buffer.from([1, 0, 0, 0, 0xff, 1])];
  const u32 = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u32(sources.length));
  for (const s of sources) parts.push(Buffer.from([0]), u32(Buffer.byteLength(s)), Buffer.from(s));
  const env = rng.chance(0.2) ? [['CARGO_PKG_VERSION', '0.1.0']] : [];
  parts.push(u32(env.length));
  for (const [k, v] of env) parts.push(u32(k.length), Buffer.from(k), Buffer.from([1]), u32(v.length), Buffer.from(v));
  return Buffer.concat(parts);
}

function fingerprintJson(rng, profile, pkg, hash, fpName, run) {
  const deps = [];
  for (let i = rng.int(0, run ? 1 : 6); i > 0; i--) deps.push(`[${rng.u64()},"${rng.pick(KNOWN).replace(/-/g, '_')}",false,${rng.u64()}]`);
  const local = run
    ? `[{"RerunIfChanged":{"output":"${profile}/build/${pkg}/${hash}/run/stdout","paths":["build.rs"]}}]`
    : `[{"CheckDepInfo":{"dep_info":"${profile}/build/${pkg}/${hash}/fingerprint/dep-${fpName}","checksum":false}}]`;
  return `{"rustc":${rng.u64()},"features":"${run ? '' : '[\\"default\\", \\"std\\"]'}","declared_features":"[\\"default\\", \\"std\\", \\"alloc\\"]",` +
    `"target":${run ? 0 : rng.u64()},"profile":${run ? 0 : rng.u64()},"path":${run ? 0 : rng.u64()},"deps":[${deps.join(',')}],` +
    `"local":${local},"rustflags":[],"config":${run ? 0 : rng.u64()},"compile_kind":0}`;
}

class Generator {
  constructor(root, approx) {
    this.root = root;
    this.approx = approx;
    this.t = new Tree(root);
    this.rng = new Rng(0x5eed ^ GENERATOR_VERSION);
    this.outDirs = []; // OUT_DIRs of build-script runs of -sys packages, filled in the last phase
    this.members = []; // workspace members: they get incremental caches
    this.pkgCount = 0;
    this.time = T0;
  }

  nextTime() {
    this.time += this.rng.int(20, 4000);
    return this.time;
  }

  nextPackage() {
    const i = this.pkgCount++;
    if (i < KNOWN.length) return { name: KNOWN[i], member: false };
    const member = this.rng.chance(0.25);
    const name = `${this.rng.pick(WORDS)}-${this.rng.pick(WORDS)}${i}`;
    return { name, member };
  }

  unit(profileDir, profile, pkg, pkgDir, kind, opts = {}) {
    const { t, rng } = this;
    const hash = rng.hex(16);
    const unitDir = t.mkdir(path.join(pkgDir, hash));
    const fp = t.mkdir(path.join(unitDir, 'fingerprint'));
    const out = t.mkdir(path.join(unitDir, 'out'));
    const crate = crateName(pkg.name);
    const when = this.nextTime();
    const mode = opts.mode ?? 'build';
    const fpName = { lib: `lib-${crate}`, bin: `bin-${crate}`, test: `test-lib-${crate}`, bsc: 'build-script-build-script-build',
      run: 'run-build-script-build-script-build', doc: `doc-lib-${crate}`, pm: `lib-${crate}` }[kind];
    const hashFile = path.join(fp, fpName);
    t.write(hashFile, rng.hex(16));
    t.write(`${hashFile}.json`, fingerprintJson(rng, profile, pkg.name, hash, fpName, kind === 'run'));
    t.touch(hashFile, when + 900);
    if (kind !== 'run' && kind !== 'doc') {
      const dep = path.join(fp, `dep-${fpName}`);
      t.write(dep, depInfo(rng, pkg.member ? ['src/lib.rs', `src/${rng.pick(WORDS)}.rs`] : []));
      t.touch(dep, when);
    }
    if (kind !== 'run') {
      const inv = path.join(fp, 'invoked.timestamp');
      t.write(inv, SENTENCE);
      t.touch(inv, when);
    }
    if (pkg.member && kind !== 'run' && rng.chance(0.3)) {
      t.write(path.join(fp, `output-${fpName}`), '{"$message_type":"diagnostic","message":"unused variable: `x`","level":"warning"}\n');
    }
    const src = pkg.member
      ? `${pkg.name}/src/lib.rs`
      : `/home/dev/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/${pkg.name}-0.${rng.int(1, 30)}.${rng.int(0, 20)}/src/lib.rs`;
    const dfile = (target) => `${target}: ${src}\n\n${src}:\n`;
    let artifact = null;
    switch (kind) {
      case 'lib':
      case 'pm': {
        const base = path.join(out, `lib${crate}-${hash}`);
        if (kind === 'pm') {
          t.sparse(`${base}.so`, rng.size(200e3, 8e6));
        } else if (mode === 'check') {
          t.sparse(`${base}.rmeta`, rng.size(5e3, 3e6));
        } else {
          t.sparse(`${base}.rlib`, rng.size(20e3, 30e6));
          t.sparse(`${base}.rmeta`, rng.size(5e3, 3e6));
          artifact = `${base}.rlib`;
        }
        t.write(path.join(out, `${crate}-${hash}.d`), dfile(`${base}.${kind === 'pm' ? 'so' : mode === 'check' ? 'rmeta' : 'rlib'}`));
        break;
      }
      case 'bin': {
        artifact = path.join(out, crate);
        t.sparse(artifact, rng.size(1e6, 60e6));
        t.write(path.join(out, `${crate}.d`), dfile(artifact));
        break;
      }
      case 'test': {
        const exe = path.join(out, `${crate}-${hash}`);
        t.sparse(exe, rng.size(1e6, 80e6));
        t.write(path.join(out, `${crate}-${hash}.d`), dfile(exe));
        break;
      }
      case 'bsc': {
        // Cargo 1.95's variant hashes the script name and adds a hard link; later versions write one plain file.
        if (opts.hashedScript) {
          const exe = path.join(out, `build_script_build-${hash}`);
          t.sparse(exe, rng.size(300e3, 6e6));
          t.link(exe, path.join(out, 'build-script-build'));
          t.write(path.join(out, `build_script_build-${hash}.d`), dfile(exe));
        } else {
          const exe = path.join(out, 'build_script_build');
          t.sparse(exe, rng.size(300e3, 6e6));
          t.write(path.join(out, 'build_script_build.d'), dfile(exe));
        }
        break;
      }
      case 'run': {
        const run = t.mkdir(path.join(unitDir, 'run'));
        const inv = path.join(run, 'invoked.timestamp');
        t.write(inv, SENTENCE);
        t.touch(inv, when);
        const stdout = path.join(run, 'stdout');
        t.write(stdout, `cargo::rerun-if-changed=build.rs\ncargo::rustc-cfg=has_${crate}\ncargo:rustc-link-search=native=${out}\ncargo::rustc-link-lib=static=${crate}\n`);
        t.touch(stdout, when);
        t.write(path.join(run, 'stderr'), '');
        t.write(path.join(run, 'root-output'), out);
        t.write(path.join(out, 'config.rs'), `pub const ENABLED: bool = ${rng.chance(0.5)};\n`);
        if (opts.sys) this.outDirs.push(out);
        break;
      }
      case 'doc':
        break;
    }
    return artifact;
  }

  package(profileDir, profile, buildDir, pkg) {
    const { t, rng } = this;
    const pkgDir = t.mkdir(path.join(buildDir, pkg.name));
    const pm = /derive|macros|-impl$|_derive$/.test(pkg.name);
    const hasBuildScript = SYS.has(pkg.name) || rng.chance(0.15);
    // Several units per package: feature variants, check vs build, tests for members.
    const variants = pkg.member ? rng.int(1, 3) : rng.chance(0.3) ? 2 : 1;
    for (let v = 0; v < variants; v++) {
      const art = this.unit(profileDir, profile, pkg, pkgDir, pm ? 'pm' : 'lib');
      if (pkg.member && v === 0 && art && !this.upliftedLib) {
        this.upliftedLib = true;
        t.link(art, path.join(profileDir, path.basename(art).replace(/-[0-9a-f]{16}/, '')));
      }
    }
    if (!pm && (pkg.member || rng.chance(0.25))) this.unit(profileDir, profile, pkg, pkgDir, 'lib', { mode: 'check' });
    if (pkg.member) {
      this.unit(profileDir, profile, pkg, pkgDir, 'test');
      if (rng.chance(0.4)) {
        const exe = this.unit(profileDir, profile, pkg, pkgDir, 'bin');
        t.link(exe, path.join(profileDir, path.basename(exe)));
      }
      if (rng.chance(0.2)) this.unit(profileDir, profile, pkg, pkgDir, 'doc');
    }
    if (hasBuildScript) {
      this.unit(profileDir, profile, pkg, pkgDir, 'bsc', { hashedScript: rng.chance(0.1) });
      this.unit(profileDir, profile, pkg, pkgDir, 'run', { sys: SYS.has(pkg.name) || rng.chance(0.12) });
    }
  }

  /** An OUT_DIR tree of a native build (cmake/cc): nested folders with few files each. */
  outTree(dir, budget) {
    const { t, rng } = this;
    const stack = [[dir, 0]];
    let made = 0;
    while (stack.length && made < budget) {
      const [d, level] = stack.pop();
      const files = rng.int(0, 2);
      for (let i = 0; i < files && made < budget; i++, made++) {
        const ext = rng.pick(['.o', '.o', '.c', '.h', '.d', '.cmake', '.txt']);
        t.sparse(path.join(d, `${rng.pick(WORDS)}_${rng.base36(4)}${ext}`), rng.size(200, 400e3));
      }
      const subs = level < 9 ? rng.int(level < 2 ? 2 : 0, 3) : 0;
      for (let i = 0; i < subs && made < budget; i++, made++) {
        stack.push([t.mkdir(path.join(d, `${rng.pick(WORDS)}${i}.dir`)), level + 1]);
      }
    }
    return made;
  }

  /** One incremental crate folder with one or two sessions and their locks. */
  incremental(incDir, crate) {
    const { t, rng } = this;
    const dir = t.mkdir(path.join(incDir, `${crate}-${rng.base36(13)}`));
    const sessions = rng.chance(0.25) ? 2 : 1;
    for (let s = 0; s < sessions; s++) {
      // rustc names a session after its start time in microseconds, base 36, so the names decode to real times.
      const us = (T0 + rng.int(0, this.time - T0)) * 1000 + rng.int(0, 999);
      const stem = `s-${us.toString(36)}-${rng.base36(7)}`;
      const sdir = t.mkdir(path.join(dir, `${stem}-${rng.base36(25)}`));
      t.write(path.join(dir, `${stem}.lock`), '');
      t.sparse(path.join(sdir, 'dep-graph.bin'), rng.size(50e3, 20e6));
      t.sparse(path.join(sdir, 'query-cache.bin'), rng.size(50e3, 20e6));
      t.sparse(path.join(sdir, 'work-products.bin'), rng.size(100, 20e3));
      const objs = rng.size(8, 400);
      for (let i = 0; i < objs; i++) t.sparse(path.join(sdir, `${rng.base36(25)}.o`), rng.size(500, 2e6));
    }
  }

  run() {
    const { t, rng, root, approx } = this;
    fs.mkdirSync(root, { recursive: true });
    t.entries = 1;
    t.dirs = 1;
    t.write(path.join(root, '.rustc_info.json'),
      `{"rustc_fingerprint":${rng.u64()},"outputs":{"${rng.u64()}":{"success":true,"status":"","code":0,"stdout":"rustc 1.97.0-nightly\\nbinary: rustc\\nhost: x86_64-unknown-linux-gnu\\n","stderr":""}},"successes":{}}`);
    t.write(path.join(root, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n# For information about cache directory tags see https://bford.info/cachedir/\n');
    const profiles = [];
    for (const profile of ['debug', 'release']) {
      const dir = t.mkdir(path.join(root, profile));
      t.write(path.join(dir, '.cargo-build-lock'), '');
      t.write(path.join(dir, '.cargo-lock'), '');
      profiles.push({ profile, dir, build: t.mkdir(path.join(dir, 'build')) });
    }
    const incDir = t.mkdir(path.join(profiles[0].dir, 'incremental'));

    // Phase 1: units. release gets about one package in five, as after an occasional release build.
    while (t.entries < approx * 0.45) {
      const pkg = this.nextPackage();
      if (pkg.member) this.members.push(pkg);
      this.package(profiles[0].dir, 'debug', profiles[0].build, pkg);
      if (rng.chance(0.2)) this.package(profiles[1].dir, 'release', profiles[1].build, pkg);
    }
    // Phase 2: incremental caches of workspace members (lib, test and bin instances).
    let m = 0;
    while (t.entries < approx * 0.65 && this.members.length > 0) {
      this.incremental(incDir, crateName(this.members[m++ % this.members.length].name));
    }
    // Phase 3: native build trees inside the OUT_DIRs of -sys build scripts.
    let o = 0;
    while (t.entries < approx && this.outDirs.length > 0) {
      const dir = this.outDirs[o++ % this.outDirs.length];
      const sub = path.join(dir, `build${o}`);
      this.t.mkdir(sub);
      this.outTree(sub, Math.min(approx - t.entries, rng.int(200, 3000)));
    }
    return { entries: t.entries, dirs: t.dirs, links: t.links, units: this.pkgCount };
  }
}

// ------------------------------------------------------------------------------------------------------------

function readStamp(stampPath) {
  try {
    return JSON.parse(fs.readFileSync(stampPath, 'utf8'));
  } catch {
    return null;
  }
}

/** Makes (or reuses) the tree and returns { dir, entries, dirs, links, reused }. */
export function generate(dirArg, approx) {
  const dir = path.resolve(dirArg);
  const stampPath = `${dir}.gen.json`;
  const stamp = readStamp(stampPath);
  if (stamp && stamp.generator === 'gen-synthetic' && stamp.version === GENERATOR_VERSION && stamp.approxEntries === approx && stamp.complete && fs.existsSync(dir)) {
    return { dir, entries: stamp.entries, dirs: stamp.dirs, links: stamp.links, reused: true };
  }
  if (fs.existsSync(dir)) {
    const ours = stamp && stamp.generator === 'gen-synthetic';
    if (!ours && fs.readdirSync(dir).length > 0) {
      throw new Error(`${dir} exists and was not made by this generator (no ${path.basename(stampPath)}); refusing to replace it`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const base = { generator: 'gen-synthetic', version: GENERATOR_VERSION, approxEntries: approx };
  fs.writeFileSync(stampPath, JSON.stringify({ ...base, complete: false }));
  const r = new Generator(dir, approx).run();
  fs.writeFileSync(stampPath, JSON.stringify({ ...base, complete: true, entries: r.entries, dirs: r.dirs, links: r.links }));
  return { dir, entries: r.entries, dirs: r.dirs, links: r.links, reused: false };
}

function main() {
  const [dirArg, nArg] = process.argv.slice(2);
  const approx = Number(nArg);
  if (!dirArg || !Number.isInteger(approx) || approx < 100) {
    console.error('usage: node bench/gen-synthetic.mjs <dir> <approxEntries (>= 100)>');
    process.exit(2);
  }
  const started = performance.now();
  let r;
  try {
    r = generate(dirArg, approx);
  } catch (e) {
    console.error(`gen-synthetic: ${e.message}`);
    process.exit(1);
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const pct = ((100 * r.dirs) / r.entries).toFixed(1);
  console.log(`${r.reused ? 'reused' : `generated in ${secs} s`}: ${r.dir}: ${r.entries} entries, ${r.dirs} directories (${pct}%), ${r.links} extra hard links`);
  console.log(JSON.stringify(r));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
