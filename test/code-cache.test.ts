// The code cache the command line loads itself through (src/node/code-cache.ts), run in child processes as the
// launcher runs it: a cache is written at exit and used by the next run, and never serves another source's code.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MODULE = path.join(__dirname, '..', 'src', 'node', 'code-cache.js');
let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbd-codecache-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Loads `file` through the cache in a fresh Node, as dist/cli.js does; returns the state and what it exported. */
function load(file: string, cacheDir: string | null, flavor = 'scan'): { state: string; value: unknown } {
  const driver = `const l = require(${JSON.stringify(MODULE)}).requireWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cacheDir)}, ${JSON.stringify(flavor)});
    process.stdout.write(JSON.stringify({ state: l.codeCache, value: l.exports.value() }));`;
  const r = spawnSync(process.execPath, ['-e', driver], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const caches = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.v8cache')).sort() : []);

test('a cache is written by the first run and used by the next; an edit of the same length is not served old code', () => {
  const dir = path.join(tmp, 'a');
  const file = path.join(tmp, 'bundle.js');
  // Functions called at run time are compiled lazily: they are what the cache saves.
  fs.writeFileSync(file, `function inner() { return 'first'; }\nexports.value = () => inner();\n`);
  assert.deepEqual(load(file, dir), { state: 'miss', value: 'first' });
  assert.equal(caches(dir).length, 1);
  const firstName = caches(dir)[0]!;
  assert.match(firstName, /^bundle-[0-9a-f]{16}-scan\.v8cache$/);
  assert.deepEqual(load(file, dir), { state: 'hit', value: 'first' });
  // V8 itself checks only the source's length: the cache of the old text would be accepted and run.
  fs.writeFileSync(file, `function inner() { return 'other'; }\nexports.value = () => inner();\n`);
  assert.deepEqual(load(file, dir), { state: 'miss', value: 'other' });
  assert.deepEqual(load(file, dir), { state: 'hit', value: 'other' });
  // The earlier build's cache stays while another installed copy might still use it, and goes once old.
  assert.equal(caches(dir).length, 2);
  const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  fs.utimesSync(path.join(dir, firstName), old, old);
  // Another kind of run has a cache of its own; writing it also clears out the old build's.
  assert.deepEqual(load(file, dir, 'show'), { state: 'miss', value: 'other' });
  assert.equal(caches(dir).length, 2);
  assert.ok(!caches(dir).includes(firstName), 'the cache of the earlier build is removed once old');
});

test('a cache is really run: the bytecode of a same-length source, put under the name, is what runs', () => {
  // This is the danger the hash in the name prevents, used here to show that a hit does not compile again.
  const dir = path.join(tmp, 'c');
  const file = path.join(tmp, 'swap.js');
  fs.writeFileSync(file, `function inner() { return 'first'; }\nexports.value = () => inner();\n`);
  assert.equal(load(file, dir).state, 'miss');
  const firstName = caches(dir)[0]!;
  const firstCache = fs.readFileSync(path.join(dir, firstName));
  fs.writeFileSync(file, `function inner() { return 'other'; }\nexports.value = () => inner();\n`);
  assert.equal(load(file, dir).state, 'miss');
  const otherName = caches(dir).find((f) => f !== firstName)!;
  fs.writeFileSync(path.join(dir, otherName), firstCache);
  assert.deepEqual(load(file, dir), { state: 'hit', value: 'first' });
});

test('a damaged cache is refused before V8 reads it, the run is unaffected, and the cache is rewritten', () => {
  const dir = path.join(tmp, 'b');
  const file = path.join(tmp, 'damaged.js');
  fs.writeFileSync(file, `function inner() { return 42; }\nexports.value = () => inner();\n`);
  assert.equal(load(file, dir).state, 'miss');
  const cache = path.join(dir, caches(dir)[0]!);
  const good = fs.readFileSync(cache);
  // Bytes changed inside V8's data, its header intact: release builds of Node run such a cache, or crash on it.
  for (const at of [good.length >> 1, 32 + 24, good.length - 1]) {
    const bad = Buffer.from(good);
    bad[at] = bad[at]! ^ 0xff;
    fs.writeFileSync(cache, bad);
    assert.deepEqual(load(file, dir), { state: 'rejected', value: 42 }, `byte ${at} changed`);
    assert.equal(load(file, dir).state, 'hit', 'rewritten');
  }
  fs.writeFileSync(cache, good.subarray(0, 100));
  assert.deepEqual(load(file, dir), { state: 'rejected', value: 42 }, 'truncated');
});

test('one cache per command, whatever else the arguments hold', () => {
  const { cacheFlavor } = require(MODULE) as { cacheFlavor: (args: string[], known: string[]) => string };
  const known = ['scan', 'walker', 'show', 'stale', 'clean'];
  assert.equal(cacheFlavor(['scan', 'target', '--json'], known), 'scan');
  assert.equal(cacheFlavor(['--walker', 'node', 'scan'], known), 'scan');
  assert.equal(cacheFlavor(['--idle-days', '30', 'stale'], known), 'stale');
  assert.equal(cacheFlavor(['/home/me/project'], known), 'other');
  assert.equal(cacheFlavor(['frobnicate'], known), 'other');
  assert.equal(cacheFlavor([], known), 'other');
});

test('without a cache folder nothing is written; an unwritable one only costs the head start', () => {
  const file = path.join(tmp, 'plain.js');
  fs.writeFileSync(file, `exports.value = () => 'ok';\n`);
  assert.deepEqual(load(file, null), { state: 'off', value: 'ok' });
  // A regular file where the folder should be: every write fails.
  const blocked = path.join(tmp, 'blocked');
  fs.writeFileSync(blocked, '');
  assert.deepEqual(load(file, path.join(blocked, 'cache')), { state: 'miss', value: 'ok' });
  assert.deepEqual(load(file, path.join(blocked, 'cache')), { state: 'miss', value: 'ok' });
  // A folder where the cache file should go: the write succeeds, the rename fails, and nothing is left over.
  const dir = path.join(tmp, 'd');
  assert.equal(load(file, dir).state, 'miss');
  const name = caches(dir)[0]!;
  fs.rmSync(path.join(dir, name));
  fs.mkdirSync(path.join(dir, name, 'x'), { recursive: true });
  assert.deepEqual(load(file, dir), { state: 'miss', value: 'ok' });
  assert.deepEqual(fs.readdirSync(dir), [name]);
});
