// Unit details in words: the text of `cargo-build-dir show` and of the extension's fingerprint document, so
// the two front ends never explain a unit differently; and the Inspect documents (OUT_DIRs, build-script run,
// fingerprint explained, unit comparison, build-analysis log).

import type { Unit } from './model';
import type { Decoded, UnitDetails } from './inspect';
import { formatAge, formatBytes, unitLabel } from './format';
import * as path from 'node:path';
import type { PackageOutDirs } from './outdir';
import type { BuildRunReport } from './buildrun';
import type { FingerprintExplanation } from './explain';
import type { UnitComparison } from './compare';
import type { BuildAnalysis, LastBuild } from './analysis';
import { groupBy } from './group';

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
      const groups = groupBy(b.stdout.value.parsed.directives, (d) => d.category);
      if (groups.size === 0) lines.push('  no cargo: directives');
      for (const [cat, dirs] of groups) {
        lines.push(`  ${cat}:`);
        for (const d of dirs) lines.push(`    ${d.value}${d.category === 'invalid' ? ` (${d.message})` : ''}  [line ${d.line}, ${d.syntax === 'new' ? 'cargo::' : 'cargo:'}${d.key}]`);
      }
    } else lines.push(`  stdout: ${decoded(b.stdout, () => '')}`);
    lines.push(`  stderr: ${decoded(b.stderr, (s) => (s.trim() === '' ? '(empty)' : `\n${s.replace(/^/gm, '    ')}`))}`);
  }
  return lines.join('\n') + '\n';
}


// ------------------------------------------------------------------------------------------------------------
// Inspect documents (issue 5): plain text the extension shows in a read-only editor and the command line can
// print. Each takes the readonly data of its engine module, so the UI may also lay the same data out itself.

const when = (ms: number | null): string => (ms === null ? 'at an unknown time' : `${new Date(ms).toISOString()} (${formatAge(ms)})`);

export function renderOutDirs(sets: readonly PackageOutDirs[]): string {
  if (sets.length === 0) return 'no build-script run: this package has no OUT_DIR here\n';
  const lines: string[] = [];
  for (const s of sets) {
    lines.push(`${s.package}: OUT_DIR in ${s.platform ? `${s.profile} for ${s.platform}` : s.profile}`);
    if (s.current) lines.push(`  current  ${s.current.outDir}`, `           ran ${when(s.current.ranAt)}, ${formatBytes(s.current.bytes)}`);
    lines.push(`  why: ${s.currentReason}`);
    for (const o of s.older) lines.push(`  older    ${o.outDir}`, `           ran ${when(o.ranAt)}, ${formatBytes(o.bytes)}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function renderBuildRun(r: BuildRunReport): string {
  const lines: string[] = [`build-script run of ${r.unit.package} (${r.unit.hash})`, `  ran ${when(r.ranAt)}`, `  OUT_DIR ${r.outDir}`];
  if (r.outDirAtRun && r.outDirAtRun !== r.outDir) lines.push(`  OUT_DIR when it ran: ${r.outDirAtRun} (the folder has moved since)`);
  lines.push(`  package root: ${r.packageRoot.path ?? 'unknown'} (${r.packageRoot.how})`, `  reruns: ${r.rerunRule}`);
  const group = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    lines.push('', `${title}:`);
    for (const i of items) lines.push(`  ${i}`);
  };
  group('cfgs', r.cfgs);
  group('check-cfgs', r.checkCfgs);
  group('environment variables for the compile', r.env.map((e) => `${e.name}=${e.value}`));
  group('link libraries', r.linkLibs);
  group('link search paths', r.linkSearch.map((s) => (s.kind ? `${s.kind}=${s.path}` : s.path)));
  group('link arguments', r.linkArgs.map((a) => `${a.arg}  (${a.variant}${a.bin ? ` ${a.bin}` : ''})`));
  group(
    'rerun-if-changed',
    r.rerunIfChanged.map((p) => `${p.path}${p.exists === false ? '  MISSING: cargo reruns the script at every build' : p.exists === null ? '  (not checked: package root unknown)' : ''}`),
  );
  group('rerun-if-env-changed', r.rerunIfEnvChanged.map((e) => `${e.name}${e.valueAtRun === undefined ? '' : e.valueAtRun === null ? ' (unset when it ran)' : ` (was "${e.valueAtRun}" when it ran)`}`));
  group('warnings', r.warnings);
  group('errors', r.errors);
  group('metadata for dependent build scripts', r.metadata.map((m) => `${m.key}=${m.value}  (${m.syntax === 'new' ? 'cargo::metadata' : 'cargo: links metadata'})`));
  group('lines cargo rejects', r.invalid.map((i) => `line ${i.line}: ${i.raw}  (${i.message})`));
  group('problems', r.problems);
  lines.push('', `stderr: ${decoded(r.stderr, (s) => (s.trim() === '' ? '(empty)' : `\n${s.replace(/^/gm, '  ')}`))}`);
  return lines.join('\n') + '\n';
}

export function renderExplanation(e: FingerprintExplanation): string {
  const lines: string[] = [e.title, `  ${e.modeWords}`];
  lines.push(`  profile folder: ${e.profile ?? 'unknown'}${e.platform ? `, for ${e.platform} (a --target folder)` : ', host'}`);
  lines.push(`  toolchain: ${e.toolchain.words}`);
  if (e.packageRoot) lines.push(`  package root: ${e.packageRoot.path ?? 'unknown'} (${e.packageRoot.how})`);
  if (e.unit.builtAt !== null) lines.push(`  last built ${when(e.unit.builtAt)}`);
  for (const t of e.targets) {
    lines.push('', `${t.name}: ${t.stateWords}`);
    if (t.features) lines.push(`  features enabled: ${t.features.length ? t.features.join(', ') : 'none'}`);
    if (t.declaredFeatures) {
      const off = t.declaredFeatures.filter((f) => !t.features?.includes(f));
      lines.push(`  features declared: ${t.declaredFeatures.length ? t.declaredFeatures.join(', ') : 'none'}${off.length && t.features ? ` (not enabled: ${off.join(', ')})` : ''}`);
    }
    lines.push(`  RUSTFLAGS: ${t.rustflags.length ? t.rustflags.join(' ') : 'none'}`);
    if (t.deps.length) {
      lines.push('  built against:');
      for (const d of t.deps) lines.push(`    ${d.name}${d.public ? ' (public)' : ''} → ${d.words}`);
    } else if (t.hashes) lines.push('  built against: no dependency');
    if (t.freshness.length) {
      lines.push('  rebuilt when:');
      for (const f of t.freshness) lines.push(`    ${f}`);
    }
    if (t.sources.length) {
      lines.push(`  sources (${t.sources.length}, from the dep-info):`);
      for (const s of t.sources) lines.push(`    ${s.absolute ?? s.path}${s.exists === false ? '  (no longer exists)' : ''}${s.checksum ? `  ${s.checksum}` : ''}`);
    }
    if (t.env.length) {
      lines.push('  environment variables read:');
      for (const v of t.env) lines.push(`    ${v.key}${v.value === null ? ' (unset)' : `=${v.value}`}`);
    }
    for (const p of t.problems) lines.push(`  problem: ${p}`);
  }
  return lines.join('\n') + '\n';
}

export function renderComparison(c: UnitComparison): string {
  const lines: string[] = [c.summary, ''];
  const width = Math.max(...c.rows.map((r) => r.label.length), 5);
  lines.push(`${''.padEnd(width)}  ${c.headers.join('  |  ')}`);
  for (const r of c.rows) lines.push(`${r.label.padEnd(width)}  ${r.values.join('  |  ')}`);
  for (const p of c.problems) lines.push(`problem: ${p}`);
  return lines.join('\n') + '\n';
}

export function renderLastBuild(last: LastBuild, analysis: BuildAnalysis | null): string {
  if (last.kind !== 'found' || analysis === null) {
    const msg = last.kind === 'found' ? 'the build could not be analysed' : last.message;
    return `${msg}\n\n${last.kind === 'found' ? '' : last.howToEnable}\n`;
  }
  return renderBuildAnalysis(analysis);
}

export function renderBuildAnalysis(a: BuildAnalysis): string {
  const secs = (ms: number | null): string => (ms === null ? '' : `${(ms / 1000).toFixed(2)} s`);
  const lines: string[] = [`build ${a.runId ?? '(unknown run)'} started ${when(a.startedAt)}`];
  if (a.command.length) lines.push(`  ${a.command.map((c, i) => (i === 0 ? path.basename(c) : c)).join(' ')}`);
  lines.push(`  ${a.summary}`, '');
  if (a.rebuilt.length) {
    lines.push('rebuilt:');
    for (const u of a.rebuilt) lines.push(`  ${u.label}  ${u.status}  ${secs(u.durationMs)}  ${u.unit ? u.unit.hash : '(folder unknown)'}`, `    ${u.reason ?? ''}`);
    lines.push('');
  }
  if (a.slowest.length) {
    lines.push('slowest:');
    for (const u of a.slowest) lines.push(`  ${secs(u.durationMs).padStart(8)}  ${u.label}`);
    lines.push('');
  }
  const fresh = a.units.filter((u) => u.status === 'fresh');
  if (fresh.length) lines.push(`fresh: ${fresh.map((u) => u.label).join('; ')}`);
  for (const p of a.problems) lines.push(`log problem${p.line ? ` (line ${p.line})` : ''}: ${p.message}`);
  return lines.join('\n') + '\n';
}
