#!/usr/bin/env node
// The command line's entry point (dist/cli.js). It loads the command line itself (src/cli.ts, bundled as
// dist/cli-main.js) through a code cache, so that a run does not compile the same functions again; see
// src/node/code-cache.ts. It imports nothing else: every module loaded here is loaded before the cache helps.
// CARGO_BUILD_DIR_CODE_CACHE=off turns the cache off.

import * as path from 'node:path';
import { defaultCacheDir } from './node/cache-dir';
import { cacheFlavor, requireWithCodeCache } from './node/code-cache';
import { COMMANDS } from './cli-commands';

const args = process.argv.slice(2);
// One cache per command and output format: each holds what its kind of run compiles.
const flavor = `${cacheFlavor(args, COMMANDS)}${args.includes('--json') ? '_json' : ''}`;
const loaded = requireWithCodeCache(path.join(__dirname, 'cli-main.js'), cacheDir(), flavor);
(loaded.exports as typeof import('./cli')).run({ codeCache: loaded.codeCache, codeId: loaded.id });

function cacheDir(): string | null {
  // Stack traces mapped to the TypeScript sources need the bundle loaded by Node itself, with its source map.
  if (process.env.CARGO_BUILD_DIR_CODE_CACHE === 'off' || process.sourceMapsEnabled) return null;
  try {
    return defaultCacheDir();
  } catch {
    // No home folder to be found: run without a cache.
    return null;
  }
}
