// The package: `npm run package` (scripts/package.mjs) makes a .vsix under 1 MB that holds only what runs —
// the two bundles, the manifest, the native walker's sources, the icon and the docs it links — and a README
// the Marketplace can show without a repository URL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers/fixtures';

// TypeScript compiles `import()` to `require()` under CommonJS; the scripts are ES modules.
const importModule = new Function('u', 'return import(u)') as (u: string) => Promise<Record<string, unknown>>;

test('npm run package makes a .vsix under 1 MB holding only what runs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-vsix-'));
  try {
    const out = path.join(dir, 'x.vsix');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--out', out], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const size = fs.statSync(out).size;
    assert.ok(size < 1024 * 1024, `${size} bytes`);
    const { zipEntries } = (await importModule(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'zip.mjs')).href)) as { zipEntries: (b: Buffer) => { name: string; size: number }[] };
    const names = zipEntries(fs.readFileSync(out)).map((e) => e.name);
    const allowed = [/^extension\/dist\/(extension|cli|cli-main)\.js$/, /^extension\/package\.json$/, /^extension\/readme\.md$/, /^extension\/changelog\.md$/, /^extension\/LICENSE\.txt$/, /^extension\/resources\/[\w.-]+\.svg$/, /^extension\/native\/(Cargo\.(toml|lock)|src\/[\w/.-]+\.rs)$/, /^extension\/docs\/json-schema\.md$/, /^extension\.vsixmanifest$/, /^\[Content_Types\]\.xml$/];
    for (const n of names) assert.ok(allowed.some((re) => re.test(n)), `${n} should not be in the package`);
    for (const must of ['extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/cli-main.js', 'extension/package.json', 'extension/native/src/main.rs', 'extension/readme.md']) assert.ok(names.includes(must), `${must} is in the package`);
    // The manifest in the package points at a file that is in it.
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.ok(names.includes(`extension/${String(manifest.main).replace(/^\.\//, '')}`), manifest.main);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Marketplace README keeps the text and drops only what needs a repository URL', async () => {
  const { marketplaceReadme } = (await importModule(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'readme.mjs')).href)) as { marketplaceReadme: (s: string) => string };
  const text = 'See ![the tree](docs/images/a.png)\nand [cleaning](docs/cleaning.md), [the site](https://example.org) or [below](#tests).\n';
  assert.equal(marketplaceReadme(text), 'See and cleaning, [the site](https://example.org) or [below](#tests).\n');
});
