#!/usr/bin/env node
// `npm run bench`: measures the command line's scan against `du -sb` on the same trees, which is the product's
// speed target (whole process within 1.3x du on trees of 100k entries and more). Not part of the test suite.
//
// What is timed is the scan: `scan TREE --json --no-stale` (sizes, units and their identity, written as JSON).
// `scan --json` without --no-stale also runs the stale analysis (toolchain probes, cargo's resolve, evidence
// reads); it is timed once per tree beside it, for information, and is not what the targets are checked on.
//
// Trees: (a) a real build dir: $BENCH_REAL_DIR, else the repository's sample/ workspace built into .bench/real;
// (b) a synthetic layout-v2 tree of ~100k entries and (c) one of ~1M, made by bench/gen-synthetic.mjs under .bench/.
// Each tree is warmed once, then du and the scan run alternately (5 times by default) and the medians are compared.
// CPU time (user + system, the helper included) is reported too: on a machine that other jobs load, it says more
// than wall time about the work each side does.
//
// Options: --only=real,100k,1m   --runs=N   --walkers (also time the walkers alone: native with 1 thread, native
// with the default pool, Node; needs `npx tsc -p tsconfig.json` output in out/)   --no-cli (skip the scan runs).
// Environment: BENCH_REAL_DIR (a build dir to use as tree a), BENCH_CLI (another CLI script than dist/cli.js).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { generate } from './gen-synthetic.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(repo, '.bench');
const cli = path.resolve(process.env.BENCH_CLI || path.join(repo, 'dist', 'cli.js'));
const args = new Map(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=');
  return [k, v ?? 'true'];
}));
const runs = Math.max(1, Number(args.get('runs') ?? 5));
const only = new Set((args.get('only') ?? 'real,100k,1m').split(','));
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtMs = (ms) => (ms === null || ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const fmtX = (x) => (x === null || x === undefined ? 'n/a' : `${x.toFixed(2)}x`);
const fmtMB = (kb) => (kb === null || kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

// With GNU time, each run also gives its CPU time (children waited for included) and its peak RSS.
function timed(cmd, argv, env) {
  const [c, a] = TIME ? [TIME, ['-f', 'BENCH_TIME %U %S %M', cmd, ...argv]] : [cmd, argv];
  const t = performance.now();
  const r = spawnSync(c, a, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  const stderr = r.stderr.toString('utf8');
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  return { ms, status: r.status, stderr, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null, rssKb: m ? Number(m[3]) : null };
}

const du = (tree) => timed('du', ['-sb', tree]);
const SCAN = ['--json', '--no-stale'];
const scan = (tree, extra = [], env = {}) => timed(process.execPath, [cli, 'scan', tree, ...SCAN, ...extra], env);
const scanWithStale = (tree) => timed(process.execPath, [cli, 'scan', tree, '--json']);

// A scan with an empty cache folder of its own (the walker named, since none is built there): the memo is written.
function firstScan(tree) {
  const w = spawnSync(process.execPath, [cli, 'walker'], { encoding: 'utf8' });
  const bin = /^native (.+)$/m.exec(w.stdout ?? '')?.[1];
  if (!bin) return null;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-bench-first-'));
  try {
    return scan(tree, [], { XDG_CACHE_HOME: home, CARGO_BUILD_DIR_WALKER: bin });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

// Peak RSS of the whole scan. GNU time reports the largest process of the tree (Node or the native helper);
// without it only Node's own peak is known, read by a preload at exit.
function peakRss(tree) {
  if (TIME) {
    const r = scan(tree);
    return { kb: r.rssKb, how: '/usr/bin/time -f %M (largest process: Node or the helper)' };
  }
  const preload = path.join(benchDir, 'rss-preload.cjs');
  fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write(`\\nPEAK_RSS_KB ${process.resourceUsage().maxRSS}\\n`));\n");
  const r = timed(process.execPath, ['--require', preload, cli, 'scan', tree, ...SCAN]);
  const m = /PEAK_RSS_KB (\d+)/.exec(r.stderr);
  return { kb: m ? Number(m[1]) : null, how: 'process.resourceUsage().maxRSS at exit (the Node process only)' };
}

// The stats line of `n` runs: the one with the median scanMs, with every run's scanMs beside it.
function stats(tree, n = 1) {
  const all = [];
  for (let i = 0; i < n; i++) {
    const j = statsOnce(tree);
    if (j) all.push(j);
  }
  if (all.length === 0) return null;
  all.sort((a, b) => (a.scanMs ?? 0) - (b.scanMs ?? 0));
  const mid = all[(all.length - 1) >> 1];
  return n > 1 ? { ...mid, scanMsRuns: all.map((j) => j.scanMs) } : mid;
}

function statsOnce(tree) {
  const r = scan(tree, ['--stats']);
  for (const line of r.stderr.split('\n').reverse()) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      const j = JSON.parse(s);
      if ('scanMs' in j || 'outlineMs' in j) return j;
    } catch {
      // not the stats line
    }
  }
  return null;
}

function countEntries(dir) {
  let n = 1;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      n++;
      if (e.isDirectory()) stack.push(path.join(d, e.name));
    }
  }
  return n;
}

function realTree() {
  if (process.env.BENCH_REAL_DIR) {
    const dir = path.resolve(process.env.BENCH_REAL_DIR);
    if (!fs.existsSync(dir)) return { skip: `BENCH_REAL_DIR=${dir} does not exist` };
    return { dir };
  }
  const sample = path.join(repo, 'sample');
  if (!fs.existsSync(path.join(sample, 'Cargo.toml'))) return { skip: 'sample/ has no Cargo.toml yet (set BENCH_REAL_DIR to use another build dir)' };
  const dir = path.join(benchDir, 'real');
  console.log(`building sample/ into ${path.relative(repo, dir)} ...`);
  // As scripts/sample.mjs does: the default layout, plus layout v2 through -Z on cargo < 1.100 (a mixed tree).
  const env = { ...process.env, CARGO_TARGET_DIR: dir };
  const build = (extra, more = {}) => spawnSync('cargo', ['build', '--offline', ...extra], { cwd: sample, env: { ...env, ...more }, encoding: 'utf8' });
  const r = build([]);
  if (r.status !== 0) return { skip: `cargo build of sample/ failed: ${(r.error?.message ?? r.stderr).trim().split('\n').slice(-5).join(' | ')}` };
  const minor = Number(/cargo 1\.(\d+)/.exec(spawnSync('cargo', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 0);
  if (minor < 100) build(['-Zbuild-dir-new-layout'], { RUSTC_BOOTSTRAP: '1' });
  return { dir };
}

// ------------------------------------------------------------------------------------------------------------
// Walkers alone (--walkers): the native helper's own speed, without the scan around it.

async function walkerTimes(tree) {
  const require = createRequire(import.meta.url);
  let mod;
  let nodeMod;
  try {
    mod = require(path.join(repo, 'out', 'src', 'node', 'native.js'));
    nodeMod = require(path.join(repo, 'out', 'src', 'core', 'nodewalk.js'));
  } catch {
    return { skip: 'out/ not built (run npx tsc -p tsconfig.json)' };
  }
  const bin = await mod.findNativeWalker({ build: true, cacheDir: path.join(repo, '.cache', 'walker') });
  if (!bin) return { skip: 'the native walker could not be built' };
  const reqs = [{ path: tree, depth: 0 }];
  const time = async (w) => {
    const xs = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await w.walk(reqs);
      xs.push(performance.now() - t);
    }
    w.close();
    return median(xs);
  };
  return {
    native1: await time(new mod.NativeWalker(bin, { threads: 1 })),
    nativeN: await time(new mod.NativeWalker(bin)),
    node: await time(new nodeMod.NodeWalker()),
  };
}

// ------------------------------------------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(benchDir, { recursive: true });
  const haveCli = !args.has('no-cli') && fs.existsSync(cli);
  console.log(`bench: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (!haveCli && !args.has('no-cli')) console.log(`${path.relative(repo, cli)} not found: build it first (npm run build); only --walkers can run without it.`);

  const trees = [];
  if (only.has('real')) {
    const r = realTree();
    if (r.skip) console.log(`(a) real build dir: skipped: ${r.skip}`);
    else trees.push({ name: 'real', label: `real (${path.relative(repo, r.dir) || r.dir})`, dir: r.dir, entries: countEntries(r.dir), real: true });
  }
  for (const [key, n] of [['100k', 100_000], ['1m', 1_000_000]]) {
    if (!only.has(key)) continue;
    const dir = path.join(benchDir, `synth-${key}`);
    const t = performance.now();
    const g = generate(dir, n);
    console.log(`(${key}) ${g.reused ? 'reusing' : `generated in ${((performance.now() - t) / 1000).toFixed(1)} s:`} ${path.relative(repo, dir)}: ${g.entries} entries, ${g.dirs} directories`);
    trees.push({ name: key, label: `synthetic ${key}`, dir, entries: g.entries });
  }

  const rows = [];
  let rssHow = null;
  for (const tree of trees) {
    console.log(`\n== ${tree.label}: ${tree.entries} entries`);
    const row = { tree, du: null, scan: null, duCpu: null, scanCpu: null, cold: null, coldCpu: null, nodeScan: null, staleScan: null, rss: null, stats: null, walkers: null };
    // Warm the page cache (and build the helper, and fill the unit memo, on the first scan), then alternate:
    // du, a scan as a user's next scan runs (the memo of the last one in hand), and a scan that decodes every
    // unit (CARGO_BUILD_DIR_SCAN_CACHE=off: a first scan, or one after everything was rebuilt).
    du(tree.dir);
    if (haveCli) {
      const w = scan(tree.dir);
      if (w.status !== 0) console.log(`scan exited with ${w.status}: ${w.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const dus = [];
    const scans = [];
    const colds = [];
    for (let i = 0; i < runs; i++) {
      dus.push(du(tree.dir));
      if (haveCli) scans.push(scan(tree.dir));
      if (haveCli) colds.push(scan(tree.dir, [], { CARGO_BUILD_DIR_SCAN_CACHE: 'off' }));
    }
    const cpuOf = (rs) => (rs.every((r) => r.cpuMs !== null) ? median(rs.map((r) => r.cpuMs)) : null);
    row.du = median(dus.map((r) => r.ms));
    row.duCpu = cpuOf(dus);
    console.log(`du -sb: median ${fmtMs(row.du)} (${dus.map((r) => fmtMs(r.ms)).join(', ')}), CPU ${fmtMs(row.duCpu)}`);
    if (haveCli) {
      row.scan = median(scans.map((r) => r.ms));
      row.scanCpu = cpuOf(scans);
      console.log(`scan ${SCAN.join(' ')}: median ${fmtMs(row.scan)} (${scans.map((r) => fmtMs(r.ms)).join(', ')}), ${fmtX(row.scan / row.du)} du; CPU ${fmtMs(row.scanCpu)}`);
      row.cold = median(colds.map((r) => r.ms));
      row.coldCpu = cpuOf(colds);
      console.log(`the same with CARGO_BUILD_DIR_SCAN_CACHE=off (every unit decoded): median ${fmtMs(row.cold)} (${colds.map((r) => fmtMs(r.ms)).join(', ')}), ${fmtX(row.cold / row.du)} du; CPU ${fmtMs(row.coldCpu)}`);
      const first = firstScan(tree.dir);
      if (first) console.log(`a first scan, which decodes every unit and writes the memo (once, for information): ${fmtMs(first.ms)} (${fmtX(first.ms / row.du)} du), CPU ${fmtMs(first.cpuMs)}, peak RSS ${fmtMB(first.rssKb)}`);
      // On the small real tree the in-process time is itself a target, and a single run is noisy.
      row.stats = stats(tree.dir, tree.real ? runs : 1);
      console.log(`scan --stats: ${row.stats ? JSON.stringify(row.stats) : 'no stats line on stderr'}`);
      row.nodeScan = scan(tree.dir, [], { CARGO_BUILD_DIR_WALKER: 'node' }).ms;
      console.log(`scan with CARGO_BUILD_DIR_WALKER=node: ${fmtMs(row.nodeScan)} (${fmtX(row.nodeScan / row.du)} du)`);
      const st = scanWithStale(tree.dir);
      row.staleScan = st;
      console.log(`scan --json with the stale analysis (once, for information): ${fmtMs(st.ms)} (${fmtX(st.ms / row.du)} du), CPU ${fmtMs(st.cpuMs)}, peak RSS ${fmtMB(st.rssKb)}`);
      const rss = peakRss(tree.dir);
      row.rss = rss.kb;
      rssHow = rss.how;
      console.log(`peak RSS: ${fmtMB(rss.kb)} (${rss.how})`);
    }
    if (args.has('walkers')) {
      row.walkers = await walkerTimes(tree.dir);
      if (row.walkers.skip) console.log(`walkers: skipped: ${row.walkers.skip}`);
      else {
        const w = row.walkers;
        console.log(`walkers, depth-0 walk, median of ${runs}: native 1 thread ${fmtMs(w.native1)} (${fmtX(w.native1 / row.du)} du), ` +
          `native pool ${fmtMs(w.nativeN)} (${fmtX(w.nativeN / row.du)}), Node ${fmtMs(w.node)} (${fmtX(w.node / row.du)})`);
      }
    }
    rows.push(row);
  }

  console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`\n\`scan\` below is \`scan TREE ${SCAN.join(' ')}\`; "with stale" is \`scan TREE --json\` (one run).`);
  console.log('| Tree | Entries | `du -sb` | `scan` | vs du | CPU: du / scan | memo off | vs du | scan, Node walker | with stale | peak RSS | outlineMs | scanMs | unit memo |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const s = r.stats ?? {};
    const memo = typeof s.unitMemo === 'object' && s.unitMemo ? `${s.unitMemo.hits} reused, ${s.unitMemo.misses} decoded` : (s.unitMemo ?? 'n/a');
    console.log(`| ${r.tree.label} | ${r.tree.entries.toLocaleString('en-US')} | ${fmtMs(r.du)} | ${fmtMs(r.scan)} | ${r.scan ? fmtX(r.scan / r.du) : 'n/a'} | ` +
      `${fmtMs(r.duCpu)} / ${fmtMs(r.scanCpu)} | ${fmtMs(r.cold)} | ${r.cold ? fmtX(r.cold / r.du) : 'n/a'} | ${fmtMs(r.nodeScan)} | ${fmtMs(r.staleScan?.ms)} | ${fmtMB(r.rss)} | ${fmtMs(s.outlineMs)} | ${fmtMs(s.scanMs)} | ${memo} |`);
  }
  if (rows.some((r) => r.walkers && !r.walkers.skip)) {
    console.log('\n| Tree | native, 1 thread | native, pool | Node walker | `du -sb` |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) {
      const w = r.walkers;
      if (!w || w.skip) continue;
      console.log(`| ${r.tree.label} | ${fmtMs(w.native1)} (${fmtX(w.native1 / r.du)}) | ${fmtMs(w.nativeN)} (${fmtX(w.nativeN / r.du)}) | ${fmtMs(w.node)} (${fmtX(w.node / r.du)}) | ${fmtMs(r.du)} |`);
    }
  }
  if (rssHow) console.log(`\nPeak RSS measured with ${rssHow}. Times are medians of ${runs} runs, du and scan alternating, warm cache.`);

  // Targets.
  const verdict = (ok) => (ok === null ? 'n/a ' : ok ? 'PASS' : 'FAIL');
  const checks = [];
  for (const r of rows) {
    if (r.tree.entries >= 100_000 && r.scan) checks.push([`whole-process scan (${SCAN.join(' ')}) <= 1.3x du on ${r.tree.label}`, r.scan / r.du <= 1.3, fmtX(r.scan / r.du)]);
    // Not a target of its own: the same scan when no unit can be reused (a first scan), said beside it.
    if (r.tree.entries >= 100_000 && r.cold) checks.push([`  the same, every unit decoded (memo off), <= 1.3x du on ${r.tree.label}`, r.cold / r.du <= 1.3, fmtX(r.cold / r.du)]);
    if (r.tree.real && r.stats?.scanMs !== undefined) checks.push([`in-process scanMs <= 1.3x du on ${r.tree.label}`, r.stats.scanMs / r.du <= 1.3, fmtX(r.stats.scanMs / r.du)]);
    if (r.tree.name === '1m' && r.rss) checks.push([`peak RSS < 150 MB on ${r.tree.label}`, r.rss / 1024 < 150, fmtMB(r.rss)]);
    if (r.stats?.outlineMs !== undefined) checks.push([`outlineMs < 300 ms on ${r.tree.label}`, r.stats.outlineMs < 300, fmtMs(r.stats.outlineMs)]);
  }
  if (checks.length) {
    console.log('\nTargets:');
    for (const [what, ok, value] of checks) console.log(`  ${verdict(ok)}  ${what} (${value})`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// The live-refresh benchmark (bench/refresh.mjs) runs once everything above has finished.
process.once('beforeExit', () => {
  if (!only.has('100k') && !only.has('refresh')) return;
  import('./refresh.mjs')
    .then((m) => m.refreshBench({ runs: Math.max(runs, 5) }))
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
});
