#!/usr/bin/env node
// Installs the VS Code test host (code-server 4.100.3 = VS Code 1.100.3, the same server the e2e tests
// drive) into <repo>/.vscode-test/code-server, without network access beyond the npm registry and apt.
// Idempotent: when the stamp file records this recipe and `code-server --version` still answers 4.100.3,
// it returns in well under a second. See docs/testing-vscode.md.
//
//   node scripts/setup-vscode-host.mjs [--force]      --force reinstalls even when the stamp is current
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync, lstatSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const VSCODE_VERSION = '1.100.3';
// Bump when a step changes: a stamp with another recipe makes the script redo every step.
const RECIPE = `code-server@${CODE_SERVER_VERSION}/recipe-1`;
export const HOST_DIR = join(REPO, '.vscode-test', 'code-server');
const STAMP = join(HOST_DIR, '.setup-stamp.json');
const LOG = join(REPO, '.vscode-test', 'setup.log');
const APT_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium'];
// The browser the tests drive (test/e2e/harness.mjs looks in the same places; E2E_CHROMIUM overrides both).
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/lib/chromium/chromium', '/usr/bin/chromium-browser'];
const NATIVE_MODULES = ['@parcel/watcher', '@vscode/spdlog', 'kerberos', 'native-watchdog', 'node-pty', '@vscode/deviceid'];

const CODE_SERVER_BIN = join(HOST_DIR, 'node_modules', '.bin', 'code-server');
const VSCODE_DIR = join(HOST_DIR, 'node_modules', 'code-server', 'lib', 'vscode');

class SetupError extends Error {}

const t0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

function step(name, fn) {
  process.stdout.write(`• ${name} … `);
  const t = Date.now();
  try {
    const note = fn();
    console.log(`ok (${secs(Date.now() - t)})${note ? ` ${note}` : ''}`);
  } catch (e) {
    console.log(`FAILED (${secs(Date.now() - t)})`);
    throw e;
  }
}

// Runs a command; its output goes to the setup log only, and its tail is shown if it fails.
function sh(cmd, args, { cwd = HOST_DIR, env = {} } = {}) {
  appendFileSync(LOG, `\n$ (cd ${cwd} && ${cmd} ${args.join(' ')})\n`);
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...npmEnv(), ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  appendFileSync(LOG, out);
  if (r.error || r.status !== 0) {
    const tail = out.trim().split('\n').slice(-30).join('\n');
    throw new SetupError(
      `\`${cmd} ${args.join(' ')}\` in ${cwd} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}).\n` +
        `--- last lines (full output in ${LOG}) ---\n${tail}`,
    );
  }
  return out;
}

// node-gyp must find Node's headers locally (it cannot download them): point it at the running node's prefix
// when that prefix ships them, unless the caller configured nodedir already.
function npmEnv() {
  const env = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const prefix = resolve(dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) {
    env.npm_config_nodedir = prefix;
  }
  return env;
}

function which(bin) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, bin);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

// The version line of `code-server --version`, or null. Run with private XDG folders: without them code-server
// writes ~/.config/code-server/config.yaml (and may write under ~/.local/share).
function codeServerVersion() {
  if (!existsSync(CODE_SERVER_BIN)) return null;
  const xdg = mkdtempSync(join(tmpdir(), 'code-server-version-'));
  try {
    const r = spawnSync(process.execPath, [CODE_SERVER_BIN, '--version'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data') },
    });
    if (r.status !== 0) return null;
    return r.stdout.split('\n').find((l) => /^\d+\.\d+\.\d+ /.test(l)) ?? null;
  } finally {
    rmSync(xdg, { recursive: true, force: true });
  }
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return null;
  }
}

function symlink(target, path) {
  try {
    if (lstatSync(path)) unlinkSync(path);
  } catch {
    /* absent */
  }
  symlinkSync(target, path);
}

function main() {
  const force = process.argv.includes('--force');
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor !== 20) {
    throw new SetupError(`code-server ${CODE_SERVER_VERSION} needs Node 20; this is Node ${process.versions.node}.`);
  }

  // 1. System packages (dpkg checks are fast; apt only runs when one is missing).
  const missing = existsSync('/usr/bin/dpkg-query') ? APT_PACKAGES.filter((p) => !dpkgInstalled(p)) : [];
  if (missing.length) {
    if (process.getuid?.() !== 0) {
      console.log(`! apt packages missing: ${missing.join(' ')}; not root, so not installing them.`);
      console.log(`  Install them yourself: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    } else {
      mkdirSync(dirname(LOG), { recursive: true });
      appendFileSync(LOG, `apt ${new Date().toISOString()}\n`);
      step('apt-get update', () => sh('apt-get', ['update'], { cwd: REPO }) && '');
      step(`apt-get install ${missing.join(' ')}`, () =>
        sh('apt-get', ['install', '-y', ...missing], { cwd: REPO, env: { DEBIAN_FRONTEND: 'noninteractive' } }) && '',
      );
    }
  }

  const chromium = process.env.E2E_CHROMIUM ?? CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!chromium || !existsSync(chromium)) {
    throw new SetupError(`Chromium not found (${process.env.E2E_CHROMIUM ?? CHROMIUM_CANDIDATES.join(', ')}): install the Debian package \`chromium\` or set E2E_CHROMIUM.`);
  }

  // 2. Fast path.
  const stamp = readStamp();
  const stampOk = stamp && stamp.recipe === RECIPE && stamp.nodeModules === process.versions.modules;
  if (!force && stampOk) {
    const v = codeServerVersion();
    if (v?.startsWith(`${CODE_SERVER_VERSION} `)) {
      console.log(`VS Code test host ready: code-server ${CODE_SERVER_VERSION} (Code ${VSCODE_VERSION}) in ${HOST_DIR} (${secs(Date.now() - t0)})`);
      return;
    }
    console.log('! stamp present but `code-server --version` failed: reinstalling');
  }

  // 3. The install recipe (docs/testing-vscode.md, "Install").
  mkdirSync(HOST_DIR, { recursive: true });
  rmSync(STAMP, { force: true });
  appendFileSync(LOG, `\nsetup ${RECIPE} ${new Date().toISOString()}\n`);
  console.log(`Installing the VS Code test host into ${HOST_DIR} (log: ${LOG})`);
  const rg = which('rg');
  if (!rg) throw new SetupError('ripgrep (`rg`) is not on PATH: install the Debian package `ripgrep`.');

  step(`npm install code-server@${CODE_SERVER_VERSION} --ignore-scripts`, () => {
    writeFileSync(join(HOST_DIR, 'package.json'), JSON.stringify({ name: 'code-server-host', private: true }, null, 2) + '\n');
    sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`]);
  });
  step('lib/vscode: npm install --omit=dev --ignore-scripts', () => {
    sh('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: VSCODE_DIR });
  });
  step(`lib/vscode: npm rebuild ${NATIVE_MODULES.join(' ')}`, () => {
    sh('npm', ['rebuild', ...NATIVE_MODULES], { cwd: VSCODE_DIR, env: { npm_config_yes: 'true' } });
  });
  step('ripgrep copy and symlinks', () => {
    const rgDir = join(VSCODE_DIR, 'node_modules', '@vscode', 'ripgrep', 'bin');
    mkdirSync(rgDir, { recursive: true });
    copyFileSync(rg, join(rgDir, 'rg'));
    symlink('node_modules', join(VSCODE_DIR, 'node_modules.asar'));
    symlink('code-linux.sh', join(VSCODE_DIR, 'bin', 'remote-cli', 'code-server'));
    symlink('browser-linux.sh', join(VSCODE_DIR, 'bin', 'helpers', 'browser.sh'));
  });
  step('built-in extensions: npm install + postinstall', () => {
    const ext = join(VSCODE_DIR, 'extensions');
    sh('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ext });
    sh(process.execPath, ['postinstall.mjs'], { cwd: ext });
  });
  step('npm rebuild argon2', () => {
    sh('npm', ['rebuild', 'argon2'], { env: { npm_config_yes: 'true' } });
  });
  let version = '';
  step('check: code-server --version', () => {
    version = codeServerVersion() ?? '';
    if (!version.startsWith(`${CODE_SERVER_VERSION} `)) {
      throw new SetupError(`\`${CODE_SERVER_BIN} --version\` printed ${JSON.stringify(version)}, expected ${CODE_SERVER_VERSION}.`);
    }
    return version;
  });
  writeFileSync(STAMP, JSON.stringify({ recipe: RECIPE, nodeModules: process.versions.modules, node: process.version, version, completedAt: new Date().toISOString() }, null, 2) + '\n');
  console.log(`VS Code test host installed in ${secs(Date.now() - t0)}.`);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    main();
  } catch (e) {
    console.error(`\nsetup-vscode-host: ${e instanceof SetupError ? e.message : e?.stack ?? e}`);
    process.exit(1);
  }
}
