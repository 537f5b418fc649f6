// The workspace the extension-host suites open: a fresh copy of sample/ that real cargo builds (layout v2;
// through -Z on cargo < 1.100) before VS Code starts. Shared by the code-server runner and `npm run test:desktop`.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Copies sample/ into `dir` (without any build output) and builds it with cargo. */
export function prepareSampleWorkspace(dir) {
  cpSync(join(REPO, 'sample'), dir, { recursive: true, filter: (src) => !/[\\/]target([\\/]|$)/.test(src.slice(join(REPO, 'sample').length)) });
  const env = { ...process.env, RUSTC_BOOTSTRAP: '1' };
  const r = spawnSync('cargo', ['build', '--offline', '-Zbuild-dir-new-layout'], { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cargo build of the sample workspace failed (exit ${r.status})`);
}
