#!/usr/bin/env node
// `npm run package`: the .vsix. The files the package may hold are the allowlist in .vscodeignore; they are
// copied into a staging folder and vsce packages that folder, so that vsce never walks the working tree (build
// dirs, fixtures and benchmark trees of gigabytes). The staged README is the repository's without its relative
// links and pictures, which the Marketplace could not resolve without a repository URL. Prints the package's
// size and entries; fails when it is 1 MB or more.
//
// Usage: node scripts/package.mjs [--out FILE]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipEntries } from './zip.mjs';
import { marketplaceReadme } from './readme.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAGE = path.join(ROOT, '.cache', 'vsix');
const LIMIT = 1024 * 1024;
const outArg = process.argv.indexOf('--out');
const OUT = path.resolve(outArg > 0 ? process.argv[outArg + 1] : path.join(ROOT, 'cargo-build-dir-explorer.vsix'));

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

/** The allowlist: `!pattern` lines of .vscodeignore; `**` and `dir/**` are the only globs it uses. */
function allowed() {
  const lines = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
  const files = [];
  for (const l of lines) {
    if (!l.startsWith('!')) continue;
    const pattern = l.slice(1);
    if (pattern.endsWith('/**')) {
      const dir = path.join(ROOT, pattern.slice(0, -3));
      if (!fs.existsSync(dir)) fail(`${pattern}: no such folder`);
      for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (f.isFile()) files.push(path.relative(ROOT, path.join(f.parentPath ?? f.path, f.name)));
      }
    } else if (pattern.includes('*')) fail(`unsupported pattern ${pattern} in .vscodeignore`);
    else {
      if (!fs.existsSync(path.join(ROOT, pattern))) fail(`${pattern} is missing (run npm run build first?)`);
      files.push(pattern);
    }
  }
  return files;
}

if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--no-native'], { stdio: 'inherit' });
  if (r.status !== 0) fail('the build failed');
}
fs.rmSync(STAGE, { recursive: true, force: true });
for (const rel of allowed()) {
  const to = path.join(STAGE, rel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  if (rel === 'README.md') fs.writeFileSync(to, marketplaceReadme(fs.readFileSync(path.join(ROOT, rel), 'utf8')));
  else fs.copyFileSync(path.join(ROOT, rel), to);
}
// vsce reads the allowlist from the folder it packages; inside the stage everything is meant to go.
fs.writeFileSync(path.join(STAGE, '.vscodeignore'), '.vscodeignore\n');
const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
if (!fs.existsSync(vsce)) fail('@vscode/vsce is not installed (npm ci)');
fs.rmSync(OUT, { force: true });
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', OUT], { cwd: STAGE, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) fail(`vsce failed (exit ${r.status})`);
const size = fs.statSync(OUT).size;
const entries = zipEntries(fs.readFileSync(OUT));
console.log(`${path.relative(process.cwd(), OUT)}: ${(size / 1024).toFixed(0)} KiB, ${entries.length} entries`);
for (const e of entries) console.log(`  ${e.name}  ${e.size}`);
if (size >= LIMIT) fail(`the package is ${size} bytes, over the 1 MB limit`);
