// The tree's nodes: plain data over the engine's model, with stable ids composed from the model's own ids
// (build dir → profile → package → unit → part → file), so expansion survives refreshes and `reveal` works.
// Children are derived here; how a node looks is treeItem.ts's business.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildDir, Bucket, IncrementalCrate, IncrementalSession, PackageSummary, Profile, Unit, UnitPart } from '../core/model';

export type Node =
  | { readonly kind: 'folder'; readonly id: string; readonly name: string; readonly key: string }
  | { readonly kind: 'message'; readonly id: string; readonly text: string; readonly icon: string; readonly detail?: string }
  | { readonly kind: 'buildDir'; readonly id: string; readonly buildDir: BuildDir }
  | { readonly kind: 'profile'; readonly id: string; readonly profile: Profile }
  | { readonly kind: 'package'; readonly id: string; readonly profile: Profile; readonly pkg: PackageSummary; readonly units: readonly Unit[] }
  | { readonly kind: 'legacyGroup'; readonly id: string; readonly profile: Profile; readonly units: readonly Unit[]; readonly bytes: number }
  | { readonly kind: 'unit'; readonly id: string; readonly unit: Unit; readonly outDir?: 'current' | 'older' }
  | { readonly kind: 'part'; readonly id: string; readonly unit: Unit; readonly part: UnitPart }
  | { readonly kind: 'entry'; readonly id: string; readonly path: string; readonly dir: boolean; readonly unit: Unit | null }
  | { readonly kind: 'incremental'; readonly id: string; readonly profile: Profile; readonly bytes: number }
  | { readonly kind: 'crate'; readonly id: string; readonly crate: IncrementalCrate }
  | { readonly kind: 'session'; readonly id: string; readonly session: IncrementalSession }
  | { readonly kind: 'other'; readonly id: string; readonly owner: string; readonly buckets: readonly Bucket[]; readonly bytes: number }
  | { readonly kind: 'bucket'; readonly id: string; readonly bucket: Bucket };

export type SortOrder = 'size' | 'name';

export function packagesOf(profile: Profile, sort: SortOrder, filter: string): Node[] {
  const byId = new Map(profile.units.map((u) => [u.id, u]));
  const mixed = profile.layouts.length > 1;
  const nodes: Node[] = [];
  const legacy: Unit[] = [];
  const pkgs = [...profile.packages].sort((a, b) => (sort === 'name' ? cmp(a.name, b.name) : b.bytes - a.bytes || cmp(a.name, b.name)));
  for (const pkg of pkgs) {
    const units = pkg.unitIds.map((id) => byId.get(id)).filter((u): u is Unit => u !== undefined);
    // In a mixed folder the legacy pieces are leftovers of an older cargo: one node gathers them.
    const shown = mixed ? units.filter((u) => u.layout === 'v2') : units;
    if (mixed) legacy.push(...units.filter((u) => u.layout === 'legacy'));
    if (shown.length === 0) continue;
    if (filter && !pkg.name.toLowerCase().includes(filter)) continue;
    const bytes = mixed ? shown.reduce((s, u) => s + u.bytes, 0) : pkg.bytes;
    nodes.push({ kind: 'package', id: `pkg:${profile.id}/${pkg.name}`, profile, pkg: { ...pkg, bytes }, units: sortUnits(shown) });
  }
  const result: Node[] = [...nodes];
  const legacyShown = legacy.filter((u) => !filter || u.package.toLowerCase().includes(filter));
  if (legacyShown.length) {
    result.push({ kind: 'legacyGroup', id: `legacy:${profile.id}`, profile, units: sortUnits(legacyShown), bytes: legacyShown.reduce((s, u) => s + u.bytes, 0) });
  }
  if (profile.incremental.length) {
    result.push({ kind: 'incremental', id: `inc:${profile.id}`, profile, bytes: profile.incremental.reduce((s, c) => s + c.bytes, 0) });
  }
  const other = profile.other.filter((b) => b.bytes > 0 && b.name !== 'structure');
  if (other.length) result.push({ kind: 'other', id: `other:${profile.id}`, owner: profile.id, buckets: other, bytes: other.reduce((s, b) => s + b.bytes, 0) });
  return result;
}

function sortUnits(units: readonly Unit[]): Unit[] {
  // Build scripts first (they run first), then libs, then the rest; newest first within a kind.
  const rank = (u: Unit): number => (u.kind === 'build-script' ? 0 : u.kind === 'lib' || u.kind === 'proc-macro' ? 1 : 2);
  return [...units].sort((a, b) => rank(a) - rank(b) || cmp(a.target ?? '', b.target ?? '') || (b.builtAt ?? 0) - (a.builtAt ?? 0));
}

export function unitChildren(unit: Unit): Node[] {
  return unit.parts.map((part) => ({ kind: 'part', id: `part:${unit.id}/${part.name}:${part.path}`, unit, part }));
}

/** Files and folders inside a part, read when the node is expanded: the scan never lists them. */
/** Words for the rows that stand for a folder that cannot be listed (the tree passes translated ones). */
export interface EntryWords {
  readonly gone: string;
  unreadable(code: string): string;
}

const ENGLISH: EntryWords = { gone: 'gone (rebuilt or cleaned)', unreadable: (code) => `cannot be read (${code})` };

export function entriesOf(dir: string, parentId: string, unit: Unit | null, words: EntryWords = ENGLISH): Node[] {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return [{ kind: 'message', id: `msg:${parentId}`, text: code === 'ENOENT' ? words.gone : words.unreadable(code), icon: 'warning' }];
  }
  return dirents
    .sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || cmp(a.name, b.name))
    .map((d) => ({ kind: 'entry', id: `entry:${path.join(dir, d.name)}`, path: path.join(dir, d.name), dir: d.isDirectory() && !d.isSymbolicLink(), unit }));
}

/** A legacy part that is one file (a `deps/` output) has no children; folders list their entries. */
export function partChildren(node: Extract<Node, { kind: 'part' }>, words?: EntryWords): Node[] {
  return entriesOf(node.part.path, node.id, node.unit, words);
}

export function crateNodes(profile: Profile): Node[] {
  return [...profile.incremental].sort((a, b) => b.bytes - a.bytes || cmp(a.crate, b.crate)).map((crate) => ({ kind: 'crate', id: `crate:${crate.path}`, crate }));
}

export function sessionNodes(crate: IncrementalCrate): Node[] {
  return crate.sessions.map((session) => ({ kind: 'session', id: `session:${session.path}`, session }));
}

export function bucketNodes(node: Extract<Node, { kind: 'other' }>): Node[] {
  return node.buckets.map((bucket) => ({ kind: 'bucket', id: `bucket:${node.owner}/${bucket.name}`, bucket }));
}

export function bucketChildren(bucket: Bucket, parentId: string): Node[] {
  return bucket.paths.map((p) => {
    let dir = false;
    try {
      dir = fs.lstatSync(p).isDirectory();
    } catch {
      // Listed but gone: shown as a file, opening it says so.
    }
    return { kind: 'entry', id: `entry:${p}`, path: p, dir, unit: null } as Node;
  }).filter((n) => n.id !== parentId);
}

/** The filesystem path a node stands for, if any (for Copy Path, Reveal, Open). */
export function pathOf(node: Node): string | null {
  switch (node.kind) {
    case 'buildDir':
      return node.buildDir.path;
    case 'profile':
      return node.profile.path;
    case 'unit':
      return node.unit.paths[0] ?? null;
    case 'part':
      return node.part.path;
    case 'entry':
      return node.path;
    case 'crate':
      return node.crate.path;
    case 'session':
      return node.session.path;
    default:
      return null;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
