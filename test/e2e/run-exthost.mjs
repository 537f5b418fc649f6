#!/usr/bin/env node
// Runs extension-host integration tests in a real VS Code (the equivalent of @vscode/test-electron's runTests,
// which cannot work offline): starts the test server, opens the web workbench with the payload
// `extensionDevelopmentPath` + `extensionTestsPath`, and waits for the workbench to call
// window.codeAutomationExit(code) once the remote Node extension host has run the test module's run().
//
//   node test/e2e/run-exthost.mjs <extensionDir> <testsModule> <workspaceFolder>
//
// Exit code: the extension host's (0 = all passed, 1 = a failure or run() threw), 2 on a timeout or when the
// host could not be started. Lines the workbench logs through codeAutomationLog (it forwards the extension host's
// console output) are printed as they come. The last line is `exthost: N passed, M failed`.
//
// Environment: E2E_SERVER=code-server|vscode-server (default code-server), E2E_EXTHOST_TIMEOUT_MS (default
// 180000), E2E_SUMMARY_FILE (if set, {passed, failed, exitCode} is written there as JSON), E2E_VERBOSE=1 also
// prints the browser console. Every other variable reaches the extension host, whose process inherits the server's.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { format } from 'node:util';
import { ARTIFACTS_DIR, launchBrowser, startServer, TIMEOUTS } from './harness.mjs';

const [extDir, testsModule, workspace] = process.argv.slice(2).map((a) => a && resolve(a));
if (!extDir || !testsModule || !workspace) {
  console.error('usage: node test/e2e/run-exthost.mjs <extensionDir> <testsModule> <workspaceFolder>');
  process.exit(2);
}
for (const [what, p] of [['extension folder', join(extDir, 'package.json')], ['tests module', testsModule], ['workspace folder', workspace]]) {
  if (!existsSync(p)) {
    console.error(`run-exthost: ${what} not found: ${p}`);
    process.exit(2);
  }
}
const timeoutMs = Number(process.env.E2E_EXTHOST_TIMEOUT_MS) || 180_000;
const verbose = process.env.E2E_VERBOSE === '1';
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
const t0 = Date.now();
const name = `exthost-${basename(extDir)}`;

const scratch = mkdtempSync(join(tmpdir(), 'e2e-exthost-'));
const resultsFile = join(scratch, 'results.json');
let server;
let browser;
let exitCode = 2;
let counts = null;
const consoleLines = [];

function writeSummary() {
  const out = process.env.E2E_SUMMARY_FILE;
  if (out) writeFileSync(out, JSON.stringify({ ...(counts ?? { passed: 0, failed: 0 }), exitCode, countsKnown: !!counts }));
}

try {
  server = await startServer({ env: { E2E_RESULTS_FILE: resultsFile } });
  console.log(`run-exthost: ${server.kind} listening on port ${server.port} (${secs(server.startMs)})`);
  browser = await launchBrowser();
  const { page } = browser;

  let settle;
  const exited = new Promise((res) => (settle = res));
  await page.exposeFunction('codeAutomationLog', (level, message) => {
    // The workbench's logger passes [format, ...args] (console.log's arguments of the extension host).
    const text = Array.isArray(message) ? format(...message) : String(message);
    consoleLines.push(`[${level}] ${text}`);
    console.log(level === 'info' ? text : `[${level}] ${text}`);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    settle({ code: Number(code), logs: Array.isArray(logs) ? logs : [] });
  });
  page.on('console', (m) => {
    consoleLines.push(`[browser ${m.type()}] ${m.text()}`);
    if (verbose) console.log(`[browser ${m.type()}] ${m.text()}`);
  });
  page.on('crash', () => settle({ code: 2, logs: [], crashed: true }));

  const url = server.url(workspace, [
    ['extensionDevelopmentPath', server.remoteUri(extDir)],
    ['extensionTestsPath', server.remoteUri(testsModule)],
  ]);
  const tLoad = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: TIMEOUTS.workbench });

  let timer;
  const result = await Promise.race([
    exited,
    new Promise((res) => (timer = setTimeout(() => res(null), timeoutMs))),
  ]);
  clearTimeout(timer);

  if (!result) {
    console.error(`run-exthost: timed out after ${secs(timeoutMs)} waiting for the extension host to report (window.codeAutomationExit).`);
    console.error(`--- ${server.kind} log (last lines) ---\n${server.logTail(60)}`);
    exitCode = 2;
  } else if (result.crashed) {
    console.error('run-exthost: the workbench page crashed');
    exitCode = 2;
  } else {
    exitCode = result.code === 0 ? 0 : result.code === 1 ? 1 : 2;
    console.log(`run-exthost: extension host exited with code ${result.code} ${secs(Date.now() - tLoad)} after the workbench was requested`);
  }
  if (existsSync(resultsFile)) {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
    counts = { passed: r.passed ?? 0, failed: r.failed ?? 0 };
    for (const f of r.failures ?? []) console.error(`✗ ${f.title}\n  ${String(f.message).split('\n').join('\n  ')}`);
  } else if (exitCode !== 0) {
    console.error('run-exthost: the test module wrote no results (it did not load, or run() failed before mocha ran); see the log above');
  }
  if (exitCode !== 0) {
    const dest = server.saveLogs(name);
    writeFileSync(join(dest, 'browser-console.log'), consoleLines.join('\n') + '\n');
    for (const l of result?.logs ?? []) {
      const p = join(dest, 'workbench-logs', l.relativePath);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, l.contents);
    }
    console.error(`run-exthost: logs saved in ${dest}`);
  }
} catch (e) {
  console.error(`run-exthost: ${e?.stack ?? e}`);
  if (server) console.error(`--- ${server.kind} log (last lines) ---\n${server.logTail(60)}`);
  exitCode = 2;
} finally {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
writeSummary();
const c = counts ?? { passed: 0, failed: exitCode === 0 ? 0 : 1 };
console.log(`run-exthost: done in ${secs(Date.now() - t0)} (artifacts, if any: ${ARTIFACTS_DIR})`);
console.log(`exthost: ${c.passed} passed, ${c.failed} failed`);
process.exit(exitCode);
