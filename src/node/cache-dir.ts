// The per-user cache folder: built helpers (./native.ts) and the command line's compiled code (./code-cache.ts)
// live there. A module of its own so that the command line's launcher can find it without loading the rest.

import * as os from 'node:os';
import * as path from 'node:path';

/** `%LOCALAPPDATA%` on Windows, `~/Library/Caches` on macOS, `$XDG_CACHE_HOME` or `~/.cache` elsewhere. */
export function defaultCacheDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') {
    return path.join(process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'cargo-build-dir');
  }
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'cargo-build-dir');
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), 'cargo-build-dir');
}
