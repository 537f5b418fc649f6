#!/usr/bin/env node
// `npm run test:desktop`: the extension-host suite (test-exthost/) in VS Code desktop through
// @vscode/test-electron's runTests, on the minimum VS Code the manifest allows (1.100.0) and on the current
// stable. It downloads VS Code, so it needs a machine that can; offline it says so and exits 3. The same suite
// runs in `npm test` through the code-server test host, which needs no download.
//
// Usage: node scripts/test-desktop.mjs [--version 1.100.0|stable|insiders]...   (default: 1.100.0 and stable)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules, run } from './deps.mjs';
import { prepareSampleWorkspace } from '../test/e2e/sample-workspace.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const versions = process.argv.flatMap((a, i, all) => (a === '--version' && all[i + 1] ? [all[i + 1]] : []));
const wanted = versions.length ? versions : ['1.100.0', 'stable'];

// Electron needs a display: in a headless Linux session, run the whole script again under xvfb-run if it exists.
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.CBD_UNDER_XVFB && spawnSync('xvfb-run', ['--help']).error === undefined) {
  const r = spawnSync('xvfb-run', ['-a', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, CBD_UNDER_XVFB: '1' } });
  process.exit(r.status ?? 1);
}

ensureNodeModules();
run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);

const { runTests, downloadAndUnzipVSCode } = await import('@vscode/test-electron');
let failed = 0;
for (const version of wanted) {
  let executable;
  try {
    executable = await downloadAndUnzipVSCode({ version, cachePath: path.join(ROOT, '.vscode-test', 'desktop') });
  } catch (e) {
    console.error(`test:desktop: could not download VS Code ${version}: ${e.message ?? e}`);
    console.error('test:desktop: this machine cannot reach the VS Code download service; `npm test` runs the same suite in the code-server test host.');
    process.exit(3);
  }
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-desktop-ws-'));
  try {
    prepareSampleWorkspace(ws);
    const args = ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'];
    const code = await runTests({ vscodeExecutablePath: executable, extensionDevelopmentPath: ROOT, extensionTestsPath: path.join(ROOT, 'out', 'test-exthost', 'index.js'), launchArgs: [ws, ...args] });
    console.log(`test:desktop: VS Code ${version}: exit ${code}`);
    if (code !== 0) failed++;
  } catch (e) {
    console.error(`test:desktop: VS Code ${version}: ${e.message ?? e}`);
    failed++;
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
