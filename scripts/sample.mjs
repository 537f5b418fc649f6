// The README's first command: sets everything up on a fresh clone and runs the product on the sample
// workspace shipped in sample/. Builds it with your cargo — in both layouts on cargo < 1.100, so the tree
// shows a mixed build dir — then prints the scan.
import { spawnSync } from 'node:child_process';
import { ensureNodeModules, run } from './deps.mjs';

ensureNodeModules();
run(process.execPath, ['scripts/build.mjs']);

const v = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (v.error) {
  console.error('cargo is not installed: install Rust (https://rustup.rs) to build the sample workspace.');
  process.exit(1);
}
const [, minor] = /cargo 1\.(\d+)/.exec(v.stdout) ?? [];
const manifest = ['--manifest-path', 'sample/Cargo.toml', '--offline'];
run('cargo', ['build', ...manifest]);
if (Number(minor) < 100) {
  // Layout v2 is the default from 1.100; older cargo has it behind -Z.
  run('cargo', ['build', '-Zbuild-dir-new-layout', ...manifest], { env: { ...process.env, RUSTC_BOOTSTRAP: '1' } });
}
run(process.execPath, ['dist/cli.js', 'scan', 'sample']);

// Then the product itself: the sample workspace in a real VS Code with this extension loaded. Desktop VS Code
// when `code` is on PATH; otherwise the project's code-server test host (installed on first use), whose URL is
// printed and which runs until Ctrl+C. `--no-open` stops after the scan.
if (!process.argv.includes('--no-open')) {
  const { openSample } = await import('./open-sample.mjs');
  await openSample();
}
