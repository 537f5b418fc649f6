// Words and numbers shown to people, shared by the command line and the tree view so they never disagree.

import type { Unit } from './model';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

export function formatAge(ms: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

/** `lib serde`, `build script (run) openssl-sys`, `check bin tool`, `test lib app`. */
export function unitLabel(u: Pick<Unit, 'kind' | 'mode' | 'target' | 'package'>): string {
  const target = u.target ?? u.package;
  if (u.kind === 'build-script') return `build script (${u.mode === 'run-custom-build' ? 'run' : 'compile'}) ${u.package}`;
  const kind = u.kind === 'unknown' ? 'unit' : u.kind === 'test' ? 'integration test' : u.kind;
  const prefix = u.mode === 'check' ? 'check ' : u.mode === 'test' && u.kind !== 'test' && u.kind !== 'bench' ? 'test ' : u.mode === 'doc' ? 'doc ' : '';
  return `${prefix}${kind} ${target}`;
}
