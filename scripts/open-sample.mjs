// Opens sample/ in a real VS Code with the extension under development loaded (the README's first command ends
// here): desktop VS Code through `code --extensionDevelopmentPath` when `code` is on PATH, else the code-server
// test host (scripts/setup-vscode-host.mjs installs it), serving until Ctrl+C with its URL printed.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = path.join(ROOT, 'sample');

export async function openSample() {
  const code = spawnSync(process.platform === 'win32' ? 'code.cmd' : 'code', ['--version'], { encoding: 'utf8' });
  if (!code.error && code.status === 0) {
    spawn(process.platform === 'win32' ? 'code.cmd' : 'code', ['--new-window', `--extensionDevelopmentPath=${ROOT}`, SAMPLE], { detached: true, stdio: 'ignore' }).unref();
    console.log(`\nOpened ${SAMPLE} in VS Code ${code.stdout.split('\n')[0]} with the extension loaded: see the "Cargo Build Dir" view in the Activity Bar.`);
    return;
  }
  const setup = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'setup-vscode-host.mjs')], { stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error('Could not install the VS Code test host; the scan above is what the extension shows.');
    process.exit(1);
  }
  const { startServer } = await import('../test/e2e/harness.mjs');
  const server = await startServer();
  const url = server.url(SAMPLE, [['extensionDevelopmentPath', server.remoteUri(ROOT)]]);
  console.log(`\n\`code\` is not on PATH, so VS Code ${server.kind} serves the sample workspace with the extension loaded.\nOpen this URL in a browser (Ctrl+C stops the server):\n\n  ${url}\n`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
}
