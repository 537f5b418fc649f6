// Extension-host test entry (payload `extensionTestsPath`): VS Code's remote Node extension host require()s this
// module and awaits run(); a rejection makes the host exit with code 1, which test/e2e/run-exthost.mjs receives
// through window.codeAutomationExit. Mocha comes from the repository's own node_modules, found from this file's
// location at run time. Results also go, as JSON, to $E2E_RESULTS_FILE when that is set.
const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

function run() {
  const Mocha = require(path.join(REPO, 'node_modules', 'mocha'));
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 20000 });
  for (const f of fs.readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) {
    mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    const results = { passed: 0, failed: 0, pending: 0, failures: [] };
    const runner = mocha.run((failures) => {
      const out = process.env.E2E_RESULTS_FILE;
      if (out) fs.writeFileSync(out, JSON.stringify(results, null, 2));
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    runner.on('pass', () => results.passed++);
    runner.on('pending', () => results.pending++);
    runner.on('fail', (test, err) => {
      results.failed++;
      results.failures.push({ title: test.fullTitle(), message: String(err && err.message), stack: err && err.stack });
    });
  });
}

module.exports = { run };
