// Test harness for driving a real VS Code (code-server 4.100.3 = VS Code 1.100.3, installed by
// scripts/setup-vscode-host.mjs) from Node: start a server on a random port with private state, open the web
// workbench in Debian's Chromium through playwright-core, load an unpacked extension through the URL payload,
// and find the workbench parts the tests talk to. No TypeScript, so it needs no build. docs/testing-vscode.md
// explains how it fits together.
//
// Every wait has a timeout and fails with an error that names what it waited for.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOST_DIR = join(REPO, '.vscode-test', 'code-server');
export const ARTIFACTS_DIR = join(REPO, '.e2e-artifacts');
const CODE_SERVER_DIR = join(HOST_DIR, 'node_modules', 'code-server');
const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
const SERVER_MAIN = join(CODE_SERVER_DIR, 'lib', 'vscode', 'out', 'server-main.js');

/** Default time limits (ms); E2E_TIMEOUT_SCALE=2 doubles them all on a slow machine. */
const SCALE = Number(process.env.E2E_TIMEOUT_SCALE) > 0 ? Number(process.env.E2E_TIMEOUT_SCALE) : 1;
export const TIMEOUTS = {
  serverListen: 60_000 * SCALE,
  workbench: 90_000 * SCALE,
  ui: 20_000 * SCALE,
  stopGrace: 5_000,
};

/** User settings that keep the Welcome page, tips, telemetry, updates and git out of the tests' way. */
export const TEST_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'workbench.reduceMotion': 'on',
};

// ---------------------------------------------------------------------------------------------------------
// Processes: every server tree is tracked and killed on stop(), on process exit and on SIGINT/SIGTERM.

/** @returns {{ ppid: number, pgid: number, start: string, state: string } | null} */
function procStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  //  priority nice threads itrealvalue starttime": comm may hold spaces and parentheses, so split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), start: f[19] };
}

function allPids() {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Live processes (not zombies) as pid → start time, for the given predicate on their stat. */
export function listProcesses(pred) {
  const out = new Map();
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (st && st.state !== 'Z' && pred(pid, st)) out.set(pid, st.start);
  }
  return out;
}

/**
 * Adds to `known` (pid → start time) every live descendant of a known process. Processes are identified by pid
 * and start time, so a recycled pid is never mistaken for a tracked one. Shells started by node-pty call setsid,
 * so the tree is followed through ppid links, not through the process group.
 */
export function collectTree(known) {
  let grew = true;
  const stats = new Map(allPids().map((pid) => [pid, procStat(pid)]));
  while (grew) {
    grew = false;
    for (const [pid, st] of stats) {
      if (!st || known.has(pid)) continue;
      if (known.has(st.ppid) && stats.get(st.ppid)?.start === known.get(st.ppid)) {
        known.set(pid, st.start);
        grew = true;
      }
    }
  }
  return known;
}

function alive(pid, start) {
  const st = procStat(pid);
  return !!st && st.state !== 'Z' && st.start === start;
}

function signalAll(known, sig) {
  for (const [pid, start] of known) {
    if (!alive(pid, start)) continue;
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM to the whole tree (re-walked while it dies), SIGKILL after `graceMs`; resolves when all are gone. */
export async function killTree(known, { graceMs = TIMEOUTS.stopGrace, what = 'process tree' } = {}) {
  collectTree(known);
  signalAll(known, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let killed = false;
  for (;;) {
    collectTree(known);
    const live = [...known].filter(([pid, start]) => alive(pid, start));
    if (!live.length) return;
    if (!killed && Date.now() >= deadline) {
      signalAll(known, 'SIGKILL');
      killed = true;
    } else if (killed && Date.now() >= deadline + 10_000) {
      throw new Error(`${what}: processes ${live.map(([p]) => p).join(', ')} still alive 10 s after SIGKILL`);
    }
    // Polling /proc is the only way to learn that a non-child exited.
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killTreeSync(known) {
  collectTree(known);
  signalAll(known, 'SIGKILL');
}

/** Servers not stopped yet: { tree, tmp }. */
const liveServers = new Set();
let hooksInstalled = false;
function killAllSync() {
  for (const s of liveServers) {
    killTreeSync(s.tree);
    if (process.env.E2E_KEEP_TMP !== '1') rmSync(s.tmp, { recursive: true, force: true });
  }
  liveServers.clear();
}
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Server

/**
 * Starts code-server (default) or the plain VS Code server of the same install, bound to 127.0.0.1 on a random
 * port, with private user-data, extensions, config and XDG directories in a fresh temp folder.
 *
 * @param {object} [opts]
 * @param {'code-server'|'vscode-server'} [opts.kind]  E2E_SERVER chooses when not given.
 * @param {Record<string,string>} [opts.env]  extra environment for the server; the remote extension host inherits it.
 * @param {Record<string,unknown>} [opts.settings]  merged over TEST_SETTINGS into the user settings.json.
 * @param {number} [opts.timeoutMs]  how long to wait for the "listening" log line.
 * @param {boolean} [opts.detached]  own process group (default: the caller's, so a group kill reaches it; E2E_DETACH=1).
 */
export async function startServer(opts = {}) {
  const kind = opts.kind ?? process.env.E2E_SERVER ?? 'code-server';
  if (kind !== 'code-server' && kind !== 'vscode-server') throw new Error(`startServer: unknown kind ${JSON.stringify(kind)}`);
  const entry = kind === 'code-server' ? CODE_SERVER_ENTRY : SERVER_MAIN;
  if (!existsSync(entry)) {
    throw new Error(`VS Code test host not installed (${entry} missing): run \`node scripts/setup-vscode-host.mjs\``);
  }
  const timeoutMs = opts.timeoutMs ?? TIMEOUTS.serverListen;
  const tmp = mkdtempSync(join(tmpdir(), `e2e-${kind}-`));
  const dirs = {
    userData: join(tmp, 'user-data'),
    extensions: join(tmp, 'extensions'),
    serverData: join(tmp, 'server-data'),
    xdgData: join(tmp, 'xdg-data'),
    xdgConfig: join(tmp, 'xdg-config'),
    xdgCache: join(tmp, 'xdg-cache'),
    xdgState: join(tmp, 'xdg-state'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...TEST_SETTINGS, ...opts.settings }, null, 2));
  const config = join(tmp, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');

  // Workspace trust is off unless a test asks for it (opts.workspaceTrust), so folders open trusted.
  const noTrust = opts.workspaceTrust ? [] : ['--disable-workspace-trust'];
  const args =
    kind === 'code-server'
      ? [entry, '--config', config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
         '--bind-addr', '127.0.0.1:0', '--auth', 'none', ...noTrust, '--disable-telemetry',
         '--disable-update-check', '--disable-getting-started-override', '--ignore-last-opened']
      : [entry, '--host', '127.0.0.1', '--port', '0', '--without-connection-token', '--accept-server-license-terms',
         '--disable-telemetry', ...noTrust, '--server-data-dir', dirs.serverData,
         '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  const listenRe = kind === 'code-server' ? /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\// : /Extension host agent listening on (\d+)/;

  const env = {
    ...process.env,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_STATE_HOME: dirs.xdgState,
    ...opts.env,
  };
  // Variables that would make the server think it runs inside another VS Code.
  for (const k of ['VSCODE_IPC_HOOK_CLI', 'VSCODE_PID', 'VSCODE_CWD', 'VSCODE_NLS_CONFIG', 'ELECTRON_RUN_AS_NODE', 'VSCODE_PROXY_URI']) delete env[k];

  const t0 = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: tmp,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? process.env.E2E_DETACH === '1',
  });
  const tree = new Map();
  // The child is ours: its start time is read right away, before it can exit and its pid be reused.
  const st = procStat(child.pid);
  if (st) tree.set(child.pid, st.start);
  installExitHooks();
  const live = { tree, tmp };
  liveServers.add(live);

  const logFile = join(tmp, 'server.log');
  let log = '';
  let exited = null;
  let onLog = () => {};
  const append = (chunk) => {
    const s = chunk.toString();
    log += s;
    try {
      writeFileSync(logFile, s, { flag: 'a' });
    } catch {
      /* temp dir removed by stop() */
    }
    onLog();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exitedPromise = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; onLog(); res(); }));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await killTree(tree, { what: `${kind} (pid ${child.pid})` });
      if (!exited) await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 2000))]);
    } finally {
      liveServers.delete(live);
      if (process.env.E2E_KEEP_TMP !== '1') rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
    }
  };

  const logTail = (n = 40) => log.trimEnd().split('\n').slice(-n).join('\n');
  let port;
  try {
    port = await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms waiting for ${kind} to log that it listens (${listenRe})`)), timeoutMs);
      onLog = () => {
        const m = listenRe.exec(log);
        if (m) {
          clearTimeout(timer);
          res(Number(m[1]));
        } else if (exited) {
          clearTimeout(timer);
          rej(new Error(`${kind} exited (${exited.signal ?? `code ${exited.code}`}) before listening`));
        }
      };
      onLog();
    });
  } catch (e) {
    e.message += `\n--- ${kind} log ---\n${logTail()}`;
    await stop();
    throw e;
  }
  onLog = () => {};
  collectTree(tree);

  const authority = `127.0.0.1:${port}`;
  const server = {
    kind,
    port,
    pid: child.pid,
    tmpDir: tmp,
    dirs,
    baseUrl: `http://${authority}/`,
    startMs: Date.now() - t0,
    /** A path on this machine as the URI the workbench needs in a payload (vscode-remote://host:port/abs/path). */
    remoteUri(path) {
      const abs = resolve(path);
      return `vscode-remote://${authority}${abs.split('/').map(encodeURIComponent).join('/')}`;
    },
    /**
     * The workbench URL for a folder, with an optional payload: [[key, value], …] as the Electron CLI's options,
     * e.g. [['extensionDevelopmentPath', server.remoteUri(dir)]].
     */
    url(folder, payload) {
      const q = [];
      if (folder) q.push(`folder=${encodeURIComponent(resolve(folder))}`);
      if (payload && payload.length) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return `${this.baseUrl}${q.length ? `?${q.join('&')}` : ''}`;
    },
    /** Everything the server printed so far. */
    log: () => log,
    logTail,
    logFile,
    /** Copies the server log and the VS Code log folders into .e2e-artifacts/<name>/; returns that folder. */
    saveLogs(name) {
      const dest = join(ARTIFACTS_DIR, name);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      writeFileSync(join(dest, 'server.log'), log);
      for (const [from, to] of [[join(dirs.userData, 'logs'), 'user-data-logs'], [join(dirs.serverData, 'data', 'logs'), 'server-data-logs']]) {
        if (existsSync(from)) cpSync(from, join(dest, to), { recursive: true });
      }
      return dest;
    },
    stop,
  };
  return server;
}

// ---------------------------------------------------------------------------------------------------------
// Browser

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/lib/chromium/chromium', '/usr/bin/chromium-browser'];

/**
 * Launches Debian's Chromium with playwright-core in a persistent context kept in a fresh temp folder.
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, close(): Promise<void> }>}
 */
export async function launchBrowser({ headless = process.env.E2E_HEADED !== '1', executablePath, timeoutMs = 60_000 * SCALE } = {}) {
  const exe = executablePath ?? process.env.E2E_CHROMIUM ?? CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!exe) throw new Error(`no Chromium found (tried ${CHROMIUM_CANDIDATES.join(', ')}; set E2E_CHROMIUM): run \`node scripts/setup-vscode-host.mjs\``);
  const { chromium } = await import('playwright-core');
  const tmp = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  const profile = join(tmp, 'profile');
  mkdirSync(profile);
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless,
      timeout: timeoutMs,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
      env: { ...process.env, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_CACHE_HOME: join(tmp, 'cache') },
    });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`launching Chromium (${exe}) failed: ${e.message}`);
  }
  context.setDefaultTimeout(TIMEOUTS.ui);
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      await withTimeout(context.close(), 30_000, 'Chromium to close').catch(() => {});
      rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Waiting

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** locator.waitFor with an error that names what was awaited. */
export async function waitForLocator(locator, what, { state = 'visible', timeout = TIMEOUTS.ui } = {}) {
  try {
    await locator.waitFor({ state, timeout });
  } catch (e) {
    throw new Error(`timed out after ${timeout} ms waiting for ${what} to be ${state}${e?.message?.includes('Timeout') ? '' : ` (${e.message})`}`);
  }
  return locator;
}

/**
 * Polls `fn` until it returns a truthy value (which is returned). On timeout the error names `what` and shows the
 * last value seen, which is what makes a failed comparison readable.
 */
export async function waitForCondition(fn, what, { timeout = TIMEOUTS.ui, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Workbench

/**
 * Opens the workbench of `server` on `folder`, loading the unpacked extension at `extensionDevelopmentPath` and
 * the test module at `extensionTestsPath` (both optional, plain paths on this machine), and waits for the
 * activity bar. Any further payload entries go in `payload`.
 */
export async function openWorkbench(page, server, { folder, extensionDevelopmentPath, extensionTestsPath, payload = [], timeout = TIMEOUTS.workbench } = {}) {
  const p = [...payload];
  if (extensionDevelopmentPath) p.push(['extensionDevelopmentPath', server.remoteUri(extensionDevelopmentPath)]);
  if (extensionTestsPath) p.push(['extensionTestsPath', server.remoteUri(extensionTestsPath)]);
  const url = server.url(folder, p);
  const t0 = Date.now();
  try {
    await page.goto(url, { timeout, waitUntil: 'domcontentloaded' });
  } catch (e) {
    throw new Error(`loading the workbench at ${url} failed: ${e.message}`);
  }
  const left = () => Math.max(1000, timeout - (Date.now() - t0));
  await waitForLocator(page.locator('.monaco-workbench'), 'the workbench (.monaco-workbench)', { timeout: left() });
  await waitForLocator(page.locator('.part.activitybar'), 'the activity bar (.part.activitybar)', { timeout: left() });
  return { url, ms: Date.now() - t0 };
}

/**
 * Shows the view container whose viewsContainers `title` is `title` (its activity bar tab). Clicking an already
 * selected tab would hide the side bar, so the tab is only clicked when it is not selected.
 */
export async function openViewContainer(page, title, { timeout = TIMEOUTS.ui } = {}) {
  const tab = page.locator('.part.activitybar').getByRole('tab', { name: title, exact: true });
  await waitForLocator(tab, `the activity bar tab "${title}"`, { timeout });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click({ timeout });
  await waitForCondition(async () => (await tab.getAttribute('aria-selected')) === 'true', `the activity bar tab "${title}" to be selected`, { timeout });
  return tab;
}

/** The tree of the view whose contributed `name` is `name`, once visible. */
export async function getTree(page, name, { timeout = TIMEOUTS.ui } = {}) {
  const tree = page.getByRole('tree', { name, exact: true });
  await waitForLocator(tree, `the tree view "${name}"`, { timeout });
  return tree;
}

/** The labels of the rendered rows of a tree (rows scrolled out of view are not rendered). */
export async function treeLabels(tree) {
  return tree.getByRole('treeitem').locator('.label-name').allInnerTexts();
}

/**
 * Waits until the tree's labels satisfy `expected`: an array (equal, in order) or a predicate on the labels.
 * @returns {Promise<string[]>} the labels
 */
export async function waitForTreeLabels(tree, expected, { timeout = TIMEOUTS.ui } = {}) {
  const ok = typeof expected === 'function' ? expected : (l) => JSON.stringify(l) === JSON.stringify(expected);
  let labels = [];
  try {
    await waitForCondition(async () => ok((labels = await treeLabels(tree))), 'tree labels', { timeout });
  } catch {
    const want = typeof expected === 'function' ? `labels matching ${expected.toString().slice(0, 120)}` : JSON.stringify(expected);
    throw new Error(`timed out after ${timeout} ms waiting for tree labels ${want}; last seen ${JSON.stringify(labels)}`);
  }
  return labels;
}

/**
 * A copy of the repository's sample/ workspace (no build output) in a fresh temp folder, for a UI test to build
 * with cargo and open. Returns its path.
 */
export function copySample(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(REPO, 'sample'), dir, { recursive: true, filter: (s) => !s.slice(join(REPO, 'sample').length).includes('target') });
  return dir;
}

/**
 * The extension under development in a real workbench on `folder`: a test server (startServer options), a browser
 * page of `viewport` size. `close()` stops both and removes `cleanup` folders.
 */
export async function openProductSession(folder, { serverOptions = {}, viewport = { width: 1280, height: 800 }, cleanup = [] } = {}) {
  const server = await startServer(serverOptions);
  const browser = await launchBrowser();
  const page = browser.page;
  await page.setViewportSize(viewport);
  await openWorkbench(page, server, { folder, extensionDevelopmentPath: REPO });
  return {
    server,
    page,
    async close() {
      await browser.close();
      await server.stop();
      for (const d of cleanup) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** The row of `tree` whose label is exactly `label` (the first one when several are). */
export function treeRow(tree, label) {
  return tree.getByRole('treeitem').filter({ has: tree.page().locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }) }).first();
}

/** Expands the row labelled `label` (clicking it only when it is collapsed) and waits until it is expanded. */
export async function expandRow(tree, label, { timeout = TIMEOUTS.ui } = {}) {
  const r = treeRow(tree, label);
  await waitForCondition(async () => (await r.count()) > 0, `tree row "${label}"`, { timeout });
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
  await waitForCondition(async () => (await r.getAttribute('aria-expanded')) === 'true', `"${label}" expanded`, { timeout });
}

/**
 * Runs the context-menu entry `entry` of a tree row. The workbench's menu ignores a mouse release that comes too
 * soon after it opened (so the right click's own release does not pick an item), which makes a synthetic click
 * race it; focusing the item by hovering and pressing Enter does not.
 */
export async function contextMenu(row, entry, { timeout = TIMEOUTS.ui } = {}) {
  const page = row.page();
  await row.click({ button: 'right', timeout });
  const item = page.locator('.context-view .action-item', { hasText: entry }).first();
  await waitForLocator(item, `the context menu entry "${entry}"`, { timeout });
  await item.hover({ timeout });
  await waitForCondition(async () => /\bfocused\b/.test((await item.getAttribute('class')) ?? ''), `the menu entry "${entry}" focused`, { timeout });
  await page.keyboard.press('Enter');
  await waitForLocator(page.locator('.context-view .monaco-menu').first(), 'the context menu to close', { state: 'hidden', timeout });
}

/** The quick input box (command palette, quick picks), once visible. */
async function quickInput(page, timeout) {
  return waitForLocator(page.locator('.quick-input-widget input.input'), 'the quick input box', { timeout });
}

/**
 * Runs a command through the command palette (F1): `title` is what the palette shows, e.g. "Smoke: Add Item"
 * (category + title). Returns once the palette has gone: the widget is hidden, or it already serves something
 * else, such as a quick pick the command opened (VS Code reuses the one widget, so "hidden" may never be seen).
 */
export async function runCommand(page, title, { timeout = TIMEOUTS.ui } = {}) {
  const query = `>${title}`;
  await page.keyboard.press('F1');
  const input = await quickInput(page, timeout);
  await input.fill(query);
  await pickVisibleRow(page, title, `the command palette entry "${title}"`, timeout);
  await waitForCondition(
    () => page.evaluate((q) => {
      const w = document.querySelector('.quick-input-widget');
      const i = w && w.querySelector('input.input');
      return !w || getComputedStyle(w).display === 'none' || !i || i.value !== q;
    }, query),
    `the command palette to close after choosing "${title}"`,
    { timeout },
  );
}

/** Chooses `label` in an open quick pick (e.g. one shown by the extension): types it, then picks its row. */
export async function pickQuickItem(page, label, { timeout = TIMEOUTS.ui } = {}) {
  const input = await quickInput(page, timeout);
  await waitForLocator(page.locator('.quick-input-widget .monaco-list-row').first(), 'the quick pick rows', { timeout });
  await input.fill(label);
  await pickVisibleRow(page, label, `the quick pick item "${label}"`, timeout);
}

async function pickVisibleRow(page, label, what, timeout) {
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  const exact = rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }) });
  await waitForCondition(async () => (await exact.count()) > 0 || (await rows.filter({ hasText: label }).count()) > 0, what, { timeout });
  const row = (await exact.count()) > 0 ? exact.first() : rows.filter({ hasText: label }).first();
  await row.click({ timeout });
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Clicks `button` in the modal dialog (showWarningMessage(…, { modal: true }, …)) whose text contains `text`
 * (any dialog when omitted), then waits for the dialog to go.
 */
export async function clickModalButton(page, button, { text, timeout = TIMEOUTS.ui } = {}) {
  let dialog = page.getByRole('dialog');
  if (text) dialog = dialog.filter({ hasText: text });
  await waitForLocator(dialog.first(), `a modal dialog${text ? ` containing "${text}"` : ''}`, { timeout });
  await dialog.first().getByRole('button', { name: button, exact: true }).click({ timeout });
  await waitForLocator(dialog.first(), `the modal dialog to close after "${button}"`, { state: 'detached', timeout });
}

/** Waits for a view's welcome content (viewsWelcome) containing `text`; returns its locator. */
export async function waitForWelcomeView(page, text, { timeout = TIMEOUTS.ui } = {}) {
  return waitForLocator(page.locator('.welcome-view-content', { hasText: text }).first(), `the welcome view "${text}"`, { timeout });
}

/** Waits for a notification toast whose message contains `text`; returns its locator. */
export async function waitForNotification(page, text, { timeout = TIMEOUTS.ui } = {}) {
  return waitForLocator(page.locator('.notification-toast', { hasText: text }).first(), `the notification "${text}"`, { timeout });
}

// ---------------------------------------------------------------------------------------------------------
// Artifacts

/** Saves a full-page PNG as .e2e-artifacts/<name>.png and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path, timeout: 30_000 });
  return path;
}

/** Runs `fn`; if it throws, saves a screenshot `<name>-failure.png` (and the server's logs) before rethrowing. */
export async function captureOnFailure(page, name, fn, server) {
  try {
    return await fn();
  } catch (e) {
    const notes = [];
    try {
      notes.push(`screenshot: ${await screenshot(page, `${name}-failure`)}`);
    } catch (se) {
      notes.push(`(screenshot failed: ${se.message})`);
    }
    if (server) notes.push(`logs: ${server.saveLogs(`${name}-failure`)}`);
    if (e && typeof e === 'object' && 'message' in e) e.message += `\n${notes.join('\n')}`;
    throw e;
  }
}
