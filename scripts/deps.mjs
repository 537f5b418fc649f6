// Installs the npm dependencies when node_modules does not match package-lock.json, so that a fresh clone
// needs no separate install step. Idempotent and quick when nothing changed.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export function ensureNodeModules() {
  // npm rewrites node_modules/.package-lock.json on every install: older than the lock file means stale.
  const installed = 'node_modules/.package-lock.json';
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync('package-lock.json').mtimeMs) return;
  console.log('> npm ci');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm ci failed');
}

export function run(cmd, args, opts = {}) {
  const t = Date.now();
  console.log(`> ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  const s = ((Date.now() - t) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`✗ ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}) after ${s}s`);
    process.exit(r.status || 1);
  }
  console.log(`  (${s}s)`);
}
