// Core, pure: the one "items by key" grouping the engine's modules share (units by package, by crate, by
// fingerprint, stale look-alikes by their key, directives by category).

/** Items by `key`, each group in the items' order, groups in the order their keys first appear; a null key leaves the item out. */
export function groupBy<T>(items: Iterable<T>, key: (t: T) => string | null): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (k === null) continue;
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return groups;
}
