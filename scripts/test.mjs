// The one test command (README "Tests"; CI runs it through .ci/run): installs what is missing, builds,
// checks types and layering, builds the cargo fixtures with real cargo, then runs every test.
import { ensureNodeModules, run } from './deps.mjs';

const node = process.execPath;
ensureNodeModules();
run(node, ['scripts/build.mjs']);
run(node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
run(node, ['scripts/lint.mjs']);
run(node, ['scripts/fixtures.mjs']);
run(node, ['--test', '--test-reporter=spec', 'out/test/']);
