// The one test command (README "Tests"; CI runs it through .ci/run): installs what is missing, builds,
// checks types and layering, builds the cargo fixtures with real cargo, runs the engine and CLI tests, then the
// tests in a real VS Code (extension host and UI). The last line sums every layer: `N passed, M failed, K skipped`.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureNodeModules, run } from './deps.mjs';

const node = process.execPath;
ensureNodeModules();
run(node, ['scripts/build.mjs']);
run(node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
run(node, ['scripts/lint.mjs']);
run(node, ['scripts/fixtures.mjs']);

const scratch = mkdtempSync(join(tmpdir(), 'cbd-test-'));
const tap = join(scratch, 'unit.tap');
console.log('> node --test out/test/');
const unit = spawnSync(node, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, 'out/test/'], { stdio: 'inherit' });
const count = (text, key) => Number((new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text) ?? [])[1] ?? 0);
let tapText = '';
try {
  tapText = readFileSync(tap, 'utf8');
} catch {
  // No report: counted as one failure below.
}
const totals = { passed: count(tapText, 'pass'), failed: count(tapText, 'fail') + count(tapText, 'cancelled'), skipped: count(tapText, 'skipped') };
if (unit.status !== 0 && totals.failed === 0) totals.failed = 1;
console.log(`engine and CLI: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);

console.log('> node test/e2e/run.mjs');
const e2e = spawnSync(node, ['test/e2e/run.mjs'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 512 << 20 });
process.stdout.write(e2e.stdout ?? '');
const m = /^(\d+) passed, (\d+) failed/m.exec([...(e2e.stdout ?? '').split('\n')].reverse().join('\n'));
const e2eTotals = m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 1 };
if (e2e.status !== 0 && e2eTotals.failed === 0) e2eTotals.failed = 1;
rmSync(scratch, { recursive: true, force: true });

const passed = totals.passed + e2eTotals.passed;
const failed = totals.failed + e2eTotals.failed;
console.log(`\n${passed} passed, ${failed} failed, ${totals.skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
