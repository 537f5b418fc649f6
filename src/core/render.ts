// Unit details in words: the text of `cargo-build-dir show` and of the extension's fingerprint document, so
// the two front ends never explain a unit differently.

import type { Unit } from './model';
import type { Decoded, UnitDetails } from './inspect';
import { formatAge, formatBytes, unitLabel } from './format';

function decoded<T>(d: Decoded<T> | null, f: (v: T) => string): string {
  if (d === null) return 'none';
  return d.ok ? f(d.value) : `unreadable: ${d.error}`;
}

export function renderDetails(d: UnitDetails, byFingerprint: ReadonlyMap<string, Unit>): string {
  const u = d.unit;
  const lines: string[] = [];
  const origin = [u.version, u.source ? u.source.kind + (u.source.detail ? ` ${u.source.detail}` : '') : null].filter(Boolean).join(', ');
  lines.push(`${unitLabel(u)}${origin ? ` (${origin})` : ''}  [${u.layout}]`);
  for (const p of u.paths) lines.push(`  ${p}`);
  lines.push(`  size ${formatBytes(u.bytes)}, deleting it frees ${formatBytes(u.freedBytes)}`);
  if (u.builtAt) lines.push(`  last built ${new Date(u.builtAt).toISOString()} (${formatAge(u.builtAt)})${u.lastBuildFailed ? ', and that build FAILED or was interrupted' : ''}`);
  if (u.features) lines.push(`  features: ${u.features.length ? u.features.join(', ') : '(none)'}`);
  for (const p of u.problems) lines.push(`  problem: ${p}`);
  for (const t of d.targets) {
    lines.push('', `fingerprint ${t.name}: ${decoded(t.hash, (h) => (h.state === 'ok' ? h.hash : h.state === 'empty' ? 'empty (last build failed or was interrupted)' : `invalid (${h.reason})`))}`);
    if (t.json?.ok) {
      const f = t.json.value;
      lines.push(`  rustc ${f.rustc}  target ${f.target}  profile ${f.profile}  path ${f.path}`);
      if (f.declaredFeatures) lines.push(`  declared features: ${f.declaredFeatures.join(', ') || '(none)'}`);
      if (f.rustflags.length) lines.push(`  rustflags: ${f.rustflags.join(' ')}`);
      for (const dep of f.deps) {
        const to = byFingerprint.get(dep.hashHex);
        const where = to ? `${unitLabel(to)} ${to.hash}${to.version ? ` ${to.version}` : ''}` : `fingerprint ${dep.hashHex} (no unit in this folder has it: rebuilt since, or elsewhere)`;
        lines.push(`  dep ${dep.name}${dep.public ? ' (public)' : ''} → ${where}`);
      }
      for (const l of f.local) {
        if (l.kind === 'CheckDepInfo') lines.push(`  freshness: dep-info ${l.depInfo} (${l.fingerprint})`);
        else if (l.kind === 'RerunIfChanged') lines.push(`  freshness: rerun-if-changed ${l.paths.join(', ')} vs ${l.output}`);
        else if (l.kind === 'RerunIfEnvChanged') lines.push(`  freshness: rerun-if-env-changed ${l.var}=${l.val ?? '(unset)'}`);
        else if (l.kind === 'Precalculated') lines.push(`  freshness: precalculated ${l.value}`);
      }
    } else if (t.json) lines.push(`  JSON ${decoded(t.json, () => '')}`);
    if (t.depInfo) {
      lines.push(`  dep-info: ${decoded(t.depInfo, (i) => `${i.files.length} files, ${i.env.length} env vars`)}`);
      if (t.depInfo.ok) {
        for (const f of t.depInfo.value.files) lines.push(`    [${f.base === 'package' ? 'package' : 'build dir'}] ${f.path}${f.checksum ? ` ${f.checksum.value}` : ''}`);
        for (const e of t.depInfo.value.env) lines.push(`    env ${e.key}${e.value === null ? ' (unset)' : `=${e.value}`}`);
      }
    }
    if (t.messages) {
      lines.push(`  cached compiler messages: ${decoded(t.messages, (m) => String(m.length))}`);
      if (t.messages.ok) for (const m of t.messages.value) lines.push(`    ${m.level}: ${m.message}${m.location ? ` (${m.location})` : ''}`);
    }
  }
  const b = d.buildScript;
  if (b) {
    lines.push('', `build-script run${b.ranAt ? `, ran ${new Date(b.ranAt).toISOString()} (${formatAge(b.ranAt)})` : ''}`, `  OUT_DIR ${b.outDir}`);
    if (b.rootOutput?.ok && b.rootOutput.value !== b.outDir) lines.push(`  OUT_DIR when it ran: ${b.rootOutput.value}`);
    if (b.stdout?.ok) {
      const groups = new Map<string, string[]>();
      for (const dir of b.stdout.value.parsed.directives) {
        const g = groups.get(dir.category) ?? [];
        g.push(`${dir.value}${dir.category === 'invalid' ? ` (${dir.message})` : ''}  [line ${dir.line}, ${dir.syntax === 'new' ? 'cargo::' : 'cargo:'}${dir.key}]`);
        groups.set(dir.category, g);
      }
      if (groups.size === 0) lines.push('  no cargo: directives');
      for (const [cat, vals] of groups) {
        lines.push(`  ${cat}:`);
        for (const v of vals) lines.push(`    ${v}`);
      }
    } else lines.push(`  stdout: ${decoded(b.stdout, () => '')}`);
    lines.push(`  stderr: ${decoded(b.stderr, (s) => (s.trim() === '' ? '(empty)' : `\n${s.replace(/^/gm, '    ')}`))}`);
  }
  return lines.join('\n') + '\n';
}

