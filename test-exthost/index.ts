// Extension-host test entry (payload `extensionTestsPath`): VS Code's Node extension host requires this module
// and awaits run(). Mocha comes from the repository's node_modules; results also go, as JSON, to
// $E2E_RESULTS_FILE for the runner (test/e2e/run-exthost.mjs). The same suite runs under @vscode/test-electron
// (`npm run test:desktop`) where VS Code desktop can be downloaded.
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

export function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require(path.join(REPO, 'node_modules', 'mocha')) as typeof import('mocha');
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60000 });
  const dir = path.join(__dirname, 'suite');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(path.join(dir, f));
  return new Promise((resolve, reject) => {
    const results = { passed: 0, failed: 0, pending: 0, failures: [] as { title: string; message: string }[] };
    const runner = mocha.run((failures) => {
      const out = process.env.E2E_RESULTS_FILE;
      if (out) fs.writeFileSync(out, JSON.stringify(results, null, 2));
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    runner.on('pass', () => results.passed++);
    runner.on('pending', () => results.pending++);
    runner.on('fail', (test, err: Error) => {
      results.failed++;
      results.failures.push({ title: test.fullTitle(), message: String(err?.message) });
    });
  });
}
