#!/usr/bin/env node
// Runs the tests that need a real VS Code, serially:
//   1. scripts/setup-vscode-host.mjs (installs the test host; under a second when it is already installed),
//   2. the extension-host suites (run-exthost.mjs, mocha inside VS Code's Node extension host),
//   3. the UI tests (every test/e2e/**/*.ui.test.mjs, node:test + playwright-core).
// Each layer runs isolated: in its own session and process group, with a private TMPDIR, under a small guardian
// process that kills whatever the layer left behind when the layer ends, when this runner is interrupted, and
// even when this runner is SIGKILLed (the guardian sees its stdin pipe close). The last line is
// `N passed, M failed`, summed over both layers; the exit code is non-zero if anything failed.
//
//   node test/e2e/run.mjs [--only exthost|ui] [--skip-setup]
//   node test/e2e/run.mjs --isolate -- <command> [args…]     (the guardian; used internally, usable by hand)
//
// Environment: passed on to the tests (e.g. SMOKE_FAIL=1, E2E_SERVER=vscode-server, E2E_TIMEOUT_SCALE=2).
// E2E_KEEP_ARTIFACTS=1 keeps .e2e-artifacts/ from earlier runs (it is emptied otherwise).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, fstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS_DIR, collectTree, killTree, listProcesses, REPO } from './harness.mjs';
import { prepareSampleWorkspace } from './sample-workspace.mjs';

const SELF = fileURLToPath(import.meta.url);

/**
 * The extension-host suites. `workspace` (relative to the repository) is the folder VS Code opens; without it a
 * fresh empty temp folder is used.
 */
const EXTHOST_SUITES = [
  { name: 'smoke', extensionDir: 'test/e2e/smoke-ext', tests: 'test/e2e/smoke-ext/suite/index.js' },
  // The product: the repository itself is the extension (dist/ must be built), on a fresh copy of the sample
  // workspace that real cargo builds before VS Code opens it.
  { name: 'extension', extensionDir: '.', tests: 'out/test-exthost/index.js', prepare: prepareSampleWorkspace },
];

const UI_TEST_ROOT = 'test/e2e';

const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

// ---------------------------------------------------------------------------------------------------------
// Guardian: `run.mjs --isolate -- cmd args…`, started in a new session by isolated() below.

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}

function taggedProcesses(tag) {
  const needle = Buffer.from(`E2E_ISOLATION_ID=${tag}\0`);
  return listProcesses((pid, st) => {
    if (pid === process.pid) return false;
    if (st.pgid === process.pid) return true;
    try {
      return readFileSync(`/proc/${pid}/environ`).includes(needle);
    } catch {
      return false;
    }
  });
}

async function guardian(argv) {
  const [cmd, ...args] = argv;
  if (!cmd) {
    console.error('usage: node test/e2e/run.mjs --isolate -- <command> [args…]');
    process.exit(2);
  }
  const tag = randomBytes(8).toString('hex');
  const tmp = mkdtempSync(join(tmpdir(), 'e2e-isolated-'));
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TMPDIR: tmp, E2E_ISOLATION_ID: tag },
  });
  let cleaning = null;
  const cleanup = (why, code) => {
    cleaning ??= (async () => {
      const left = collectTree(new Map([...taggedProcesses(tag)]));
      if (left.size) {
        const list = [...left.keys()].map((p) => `${p} ${cmdline(p)}`).join('\n  ');
        console.error(`isolate: ${why}; killing ${left.size} process(es) still running in the group:\n  ${list}`);
        try {
          await killTree(left, { what: 'isolated process group' });
        } catch (e) {
          console.error(`isolate: ${e.message}`);
        }
      }
      rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
      process.exit(code);
    })();
  };
  child.on('error', (e) => {
    console.error(`isolate: cannot start ${cmd}: ${e.message}`);
    cleanup('start failed', 2);
  });
  child.on('exit', (code, signal) => cleanup(`${cmd} exited`, code ?? (signal ? 1 : 0)));
  // The runner holds our stdin (a pipe or socket) open; end-of-file means it is gone, however it died.
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('end', () => cleanup('the runner is gone', 1));
    process.stdin.on('error', () => cleanup('the runner is gone', 1));
    process.stdin.resume();
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => cleanup(`got ${sig}`, 1));
}

// ---------------------------------------------------------------------------------------------------------
// Runner side

const running = new Set();

/** Runs `cmd args` under the guardian in a new session; resolves to its exit code. */
function isolated(cmd, args, env = {}) {
  return new Promise((res) => {
    const g = spawn(process.execPath, [SELF, '--isolate', '--', cmd, ...args], {
      cwd: REPO,
      detached: true, // setsid(): its own session and process group
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    running.add(g);
    g.on('exit', (code, signal) => {
      running.delete(g);
      res(code ?? (signal ? 1 : 0));
    });
    g.on('error', () => res(2));
  });
}

let interrupted = null;

// Installed by main() only: the guardian has its own handlers. The guardians get SIGTERM, clean up and exit;
// main() then sees its layer end, runs no further layer, prints the summary and exits non-zero.
function forwardSignals() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = sig;
      console.error(`run: got ${sig}, stopping the running layer`);
      for (const g of running) g.kill('SIGTERM');
    });
  }
}

function findUiTests(dir) {
  const out = [];
  for (const name of readdirSync(join(REPO, dir))) {
    const rel = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(join(REPO, rel)).isDirectory()) out.push(...findUiTests(rel));
    else if (name.endsWith('.ui.test.mjs')) out.push(rel);
  }
  return out.sort();
}

/** Counts from node:test's TAP summary (`# pass N`, `# fail N`, `# cancelled N`). */
function tapCounts(file) {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const n = (k) => Number((new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text) ?? [])[1] ?? NaN);
  const pass = n('pass');
  const fail = n('fail');
  if (Number.isNaN(pass) || Number.isNaN(fail)) return null;
  return { passed: pass, failed: fail + (Number.isNaN(n('cancelled')) ? 0 : n('cancelled')) };
}

async function main(argv) {
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
  if (only && only !== 'exthost' && only !== 'ui') {
    console.error('usage: node test/e2e/run.mjs [--only exthost|ui] [--skip-setup]');
    process.exit(2);
  }
  forwardSignals();
  const tAll = Date.now();
  if (process.env.E2E_KEEP_ARTIFACTS !== '1') rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });

  const results = [];
  if (!argv.includes('--skip-setup')) {
    console.log('> node scripts/setup-vscode-host.mjs');
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'setup-vscode-host.mjs')], { cwd: REPO, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('run: installing the VS Code test host failed; no e2e test ran');
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }

  const scratch = mkdtempSync(join(tmpdir(), 'e2e-run-'));
  try {
    if (only !== 'ui') {
      for (const s of EXTHOST_SUITES) {
        if (interrupted) break;
        const t = Date.now();
        const summary = join(scratch, `exthost-${s.name}.json`);
        const ws = s.workspace ? join(REPO, s.workspace) : join(scratch, `ws-${s.name}`);
        mkdirSync(ws, { recursive: true });
        if (s.prepare) s.prepare(ws);
        console.log(`\n> [exthost:${s.name}] node test/e2e/run-exthost.mjs ${s.extensionDir} ${s.tests} ${s.workspace ?? '<temp folder>'}`);
        const code = await isolated(process.execPath, [join(REPO, 'test/e2e/run-exthost.mjs'), join(REPO, s.extensionDir), join(REPO, s.tests), ws], { E2E_SUMMARY_FILE: summary });
        let c = existsSync(summary) ? JSON.parse(readFileSync(summary, 'utf8')) : null;
        c = c?.countsKnown ? { passed: c.passed, failed: c.failed } : { passed: 0, failed: 1 };
        if (code !== 0 && c.failed === 0) c.failed = 1;
        results.push({ layer: `exthost:${s.name}`, code, ...c, ms: Date.now() - t });
      }
    }
    if (only !== 'exthost') {
      const files = findUiTests(UI_TEST_ROOT);
      if (files.length && !interrupted) {
        const t = Date.now();
        const tap = join(scratch, 'ui.tap');
        const args = ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout',
          '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
        console.log(`\n> [ui] node ${args.filter((a) => !a.includes(tap)).join(' ')}`);
        const code = await isolated(process.execPath, args);
        const c = tapCounts(tap) ?? { passed: 0, failed: 1 };
        if (code !== 0 && c.failed === 0) c.failed = 1;
        results.push({ layer: 'ui', code, ...c, ms: Date.now() - t });
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log('\ne2e summary:');
  for (const r of results) {
    console.log(`  ${r.code === 0 ? '✔' : '✖'} ${r.layer}: ${r.passed} passed, ${r.failed} failed, exit ${r.code} (${secs(r.ms)})`);
  }
  if (existsSync(ARTIFACTS_DIR) && readdirSync(ARTIFACTS_DIR).length) console.log(`  artifacts: ${relative(process.cwd(), ARTIFACTS_DIR) || '.'}`);
  console.log(`  total ${secs(Date.now() - tAll)}`);
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  if (interrupted) console.error(`run: interrupted by ${interrupted}; later layers did not run`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(interrupted ? (interrupted === 'SIGINT' ? 130 : 143) : failed || results.some((r) => r.code !== 0) ? 1 : 0);
}

const argv = process.argv.slice(2);
if (argv[0] === '--isolate') guardian(argv.slice(argv[1] === '--' ? 2 : 1));
else main(argv);
