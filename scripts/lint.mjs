// Keeps the layers pointing one way (README "Architecture"): src/core imports neither `vscode` nor the
// process-level adapters, src/node never imports `vscode`. One rule does not justify a linter's dependency tree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const rules = [
  { dir: 'src/core', forbidden: [/^vscode$/, /^\.\.\/(node|vscode)\//, /^\.\.\/(extension|cli)$/, /^node:child_process$/, /^child_process$/], why: 'src/core knows Cargo and the filesystem only' },
  { dir: 'src/node', forbidden: [/^vscode$/, /^\.\.\/vscode\//, /^\.\.\/(extension|cli)$/], why: 'src/node holds process adapters, not editor code' },
];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

let failures = 0;
for (const rule of rules) {
  for (const file of files(rule.dir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (rule.forbidden.some((re) => re.test(spec))) {
        const line = text.slice(0, m.index).split('\n').length + (text[m.index] === '\n' ? 1 : 0);
        console.error(`${relative('.', file)}:${line}: imports '${spec}' (${rule.why})`);
        failures++;
      }
    }
  }
}
if (failures) {
  console.error(`lint: ${failures} layering violation${failures === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log('lint: layers ok');
