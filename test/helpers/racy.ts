// The native walker gives no key to a walk whose inline files changed in the last two seconds (file times come
// from a coarse clock, so a same-size write right after its read could go unseen: native/src/main.rs, `racy`).
// Tests that change files and then expect "same" answers wait that window out: a condition on the clock, not a
// pause standing in for an event.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The window of native/src/main.rs `RACY_NS`, in milliseconds. */
export const RACY_MS = 2000;

/** Settles once files last changed at or before `changedAt` (a `Date.now()` taken after the change) are no longer racy. */
export async function pastRacyWindow(changedAt: number): Promise<void> {
  // A few milliseconds over: the kernel's file times and Date.now() read the same clock, rounded differently.
  const wait = changedAt + RACY_MS + 5 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** The newest ctime (ms) of anything under `dir`, itself included: when the tree last changed. */
export function newestChange(dir: string): number {
  let newest = 0;
  const stack = [dir];
  while (stack.length) {
    const p = stack.pop()!;
    const st = fs.lstatSync(p);
    newest = Math.max(newest, st.ctimeMs);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) stack.push(path.join(p, n));
  }
  return newest;
}
