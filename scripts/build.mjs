// Bundles the extension and the command line with esbuild, and builds the native walker once (cached) so
// that the first scan is fast. `--no-native` skips the walker (the Node walker is then used until it exists).
import { build } from 'esbuild';
import { readFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  define: { __VERSION__: JSON.stringify(pkg.version) },
};
await build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] });
// dist/cli.js is a small launcher that runs dist/cli-main.js through a code cache (src/cli-launch.ts).
await build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli-main.js' });
await build({ ...common, entryPoints: ['src/cli-launch.ts'], outfile: 'dist/cli.js' });
chmodSync('dist/cli.js', 0o755);

if (!process.argv.includes('--no-native')) {
  // The walker is optional: without cargo the product falls back to pure Node.
  const b = spawnSync(process.execPath, ['dist/cli.js', 'walker', '--build'], { stdio: 'inherit' });
  if (b.status !== 0) console.warn('native walker not built: scans will use the (slower) Node walker');
}
