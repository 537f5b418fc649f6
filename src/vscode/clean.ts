// The extension's destructive flow, shared by Clean Unit / Package / Incremental Data and Clean All Stale:
// plan in core (exact paths and bytes, measured now) → modal confirmation naming the target and the bytes →
// cargo's locks, progress, cancellation → one summary line. If cargo holds a lock nothing is touched, and the
// user may wait for the build to finish: the same plan then runs, and the executor's checks refuse any unit
// cargo rebuilt meanwhile. Nothing here deletes in an untrusted workspace.

import * as vscode from 'vscode';
import type { Explorer, FolderState } from './explorer';
import type { StaleItem } from '../core/stale';
import { executeClean, planClean, type CleanPlan, type CleanResult, type Locker } from '../core/clean';
import { cargoMarkersMissing } from '../core/layout';
import { formatBytes } from '../core/format';
import { createLocker, heldLocks } from '../node/locks';
import { createTrasher } from '../node/trash';

export interface CleanGroup {
  readonly folder: FolderState;
  readonly items: readonly StaleItem[];
}

export interface CleanOutcome {
  readonly status: CleanResult['status'] | 'not-confirmed' | 'nothing' | 'unavailable';
  readonly results: readonly CleanResult[];
}

/** How long to wait between two looks at cargo's locks while waiting for a build to finish. */
const WAIT_POLL_MS = 1000;

/**
 * Cleans `groups` after asking. `target` names what goes in the confirmation and the summary ("unit lib util
 * 1a2b3c4d", "package serde in debug", "3 stale items").
 */
export async function cleanWithConfirmation(explorer: Explorer, log: vscode.LogOutputChannel, target: string, groups: readonly CleanGroup[]): Promise<CleanOutcome> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Cleaning is turned off in an untrusted workspace. Trust the workspace to clean its build directory.'));
    return { status: 'unavailable', results: [] };
  }
  const walker = await explorer.walkerForTask();
  const plans: { folder: FolderState; plan: CleanPlan }[] = [];
  for (const g of groups) {
    if (!g.folder.result || g.items.length === 0) continue;
    plans.push({ folder: g.folder, plan: await planClean(g.folder.result, g.items, walker) });
  }
  for (const { plan } of plans) {
    for (const p of plan.profiles) {
      const why = cargoMarkersMissing(p.buildDir, p.profilePath);
      if (why) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Refusing to clean in {0}: {1}. Nothing was deleted.', p.profilePath, why));
        return { status: 'refused', results: [] };
      }
    }
  }
  const paths = plans.flatMap(({ plan }) => plan.profiles.flatMap((p) => p.items.flatMap((i) => i.entries.map((e) => e.path))));
  if (paths.length === 0) {
    const problems = plans.flatMap(({ plan }) => plan.problems.map((p) => `${p.path}: ${p.message}`));
    void vscode.window.showInformationMessage(problems.length ? vscode.l10n.t('Nothing to clean: {0}', problems.join('; ')) : vscode.l10n.t('Nothing to clean.'));
    return { status: 'nothing', results: [] };
  }
  const bytes = plans.reduce((n, p) => n + p.plan.bytes, 0);
  const freed = plans.reduce((n, p) => n + p.plan.freedBytes, 0);
  const useTrash = explorer.config.useTrash;
  let trash: ((p: string) => Promise<void>) | null = null;
  if (useTrash) {
    const t = createTrasher();
    if ('unsupported' in t) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot move to the trash here: {0}. Turn off the setting cargoBuildDir.useTrash to delete instead.', t.unsupported));
      return { status: 'unavailable', results: [] };
    }
    trash = t;
  }

  const shown = paths.slice(0, 8).map((p) => `• ${p}`);
  if (paths.length > shown.length) shown.push(vscode.l10n.t('… and {0} more', paths.length - shown.length));
  const verb = useTrash ? vscode.l10n.t('Move to Trash') : vscode.l10n.t('Delete');
  const answer = await vscode.window.showWarningMessage(
    useTrash ? vscode.l10n.t('Move {0} to the trash? It frees {1}.', target, formatBytes(freed)) : vscode.l10n.t('Delete {0}? It frees {1}.', target, formatBytes(freed)),
    {
      modal: true,
      detail: [
        paths.length === 1
          ? vscode.l10n.t('{0} on disk in 1 path (hard-linked files that stay elsewhere are not counted as freed):', formatBytes(bytes))
          : vscode.l10n.t('{0} on disk in {1} paths (hard-linked files that stay elsewhere are not counted as freed):', formatBytes(bytes), paths.length),
        ...shown,
        '',
        vscode.l10n.t("Deleted under cargo's build-directory locks: nothing is touched while cargo builds. Cargo rebuilds what is needed at the next build."),
      ].join('\n'),
    },
    verb,
  );
  if (answer !== verb) return { status: 'not-confirmed', results: [] };

  // The first clean may build the small lock helper with cargo (seconds, once): say so while it happens.
  const locker = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t("Preparing to take cargo's locks…") }, () =>
    createLocker({ log: (l) => log.info(l), cargo: explorer.config.cargoPath }),
  );
  if ('unavailable' in locker) {
    void vscode.window.showErrorMessage(locker.unavailable);
    return { status: 'no-lock', results: [] };
  }
  let results = await runPlans(explorer, locker, trash, target, plans);
  const busyAt = results.findIndex((r) => r.status === 'busy');
  if (busyAt >= 0) {
    const wait = vscode.l10n.t('Wait for cargo');
    const choice = await vscode.window.showWarningMessage(results[busyAt]!.message, wait);
    // Plans before the busy one are done; the busy one and those after it run once cargo lets go.
    const rest = plans.slice(busyAt);
    if (choice === wait && (await waitForCargo(rest, locker))) results = [...results.slice(0, busyAt), ...(await runPlans(explorer, locker, trash, target, rest))];
  }
  report(log, target, results);
  return { status: overall(results), results };
}

function overall(results: readonly CleanResult[]): CleanOutcome['status'] {
  const order: CleanResult['status'][] = ['busy', 'no-lock', 'refused', 'partial', 'cancelled', 'done'];
  for (const s of order) if (results.some((r) => r.status === s)) return s;
  return 'done';
}

async function runPlans(
  explorer: Explorer,
  locker: Locker,
  trash: ((p: string) => Promise<void>) | null,
  target: string,
  plans: readonly { folder: FolderState; plan: CleanPlan }[],
): Promise<CleanResult[]> {
  const total = plans.reduce((n, p) => n + p.plan.profiles.reduce((k, q) => k + q.items.length, 0), 0);
  const results: CleanResult[] = [];
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Cleaning {0}', target), cancellable: true },
    async (progress, token) => {
      let before = 0;
      let reported = 0;
      for (const { folder, plan } of plans) {
        explorer.setCleaning(folder, true);
        let r: CleanResult;
        try {
          r = await executeClean(plan, {
          locker,
          trash,
          isCancelled: () => token.isCancellationRequested,
          onProgress: (p) => {
            const done = before + p.itemsDone;
            const increment = total ? ((done - reported) / total) * 100 : 0;
            reported = done;
            progress.report({ increment, message: vscode.l10n.t('{0} of {1} · {2} freed', done, total, formatBytes(p.bytesFreed)) });
          },
          });
        } finally {
          explorer.setCleaning(folder, false);
        }
        before += plan.profiles.reduce((k, q) => k + q.items.length, 0);
        results.push(r);
        const gone = [...r.removed.map((x) => x.path), ...r.failed.map((x) => x.path)];
        if (gone.length) await explorer.refreshPaths(folder, gone);
        if (r.status === 'busy' || r.status === 'no-lock' || r.status === 'cancelled') break;
      }
    },
  );
  return results;
}

/** Waits (cancellable) until cargo holds none of the plans' locks. True when the locks are free. */
async function waitForCargo(plans: readonly { plan: CleanPlan }[], locker: Locker): Promise<boolean> {
  const locks = plans.flatMap(({ plan }) => plan.profiles.flatMap((p) => p.locks));
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Waiting for cargo to finish…'), cancellable: true },
    async (_progress, token) => {
      while (!token.isCancellationRequested) {
        // Where the system shows file locks, look without touching; elsewhere try the locks and let go at once.
        const held = heldLocks(locks.map((l) => l.path));
        if (held !== null) {
          if (held.length === 0) return true;
        } else {
          const o = await locker.acquire(locks);
          if (o.kind === 'locked') {
            await o.release();
            return true;
          }
          if (o.kind === 'unavailable') return false;
        }
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            sub.dispose();
            resolve();
          };
          const t = setTimeout(done, WAIT_POLL_MS);
          const sub = token.onCancellationRequested(done);
        });
      }
      return false;
    },
  );
}

/** One summary line; details (per path) go to the log. */
function report(log: vscode.LogOutputChannel, target: string, results: readonly CleanResult[]): void {
  const removed = results.reduce((n, r) => n + r.removed.length, 0);
  const freed = results.reduce((n, r) => n + r.freedBytes, 0);
  const failed = results.flatMap((r) => r.failed);
  const refused = results.flatMap((r) => r.refused);
  for (const f of failed) log.warn(`clean: failed: ${f.path}: ${f.message}`);
  for (const r of refused) log.warn(`clean: refused: ${r.path}: ${r.message}`);
  for (const r of results) log.info(`clean ${target}: ${r.status}: ${r.message}`);
  const status = overall(results);
  if (status === 'done') {
    void vscode.window.showInformationMessage(
      results.some((r) => r.trashed)
        ? vscode.l10n.t('Moved {0} to the trash: {1} freed.', target, formatBytes(freed))
        : vscode.l10n.t('Cleaned {0}: {1} freed.', target, formatBytes(freed)),
    );
    return;
  }
  const first = results.find((r) => r.status !== 'done');
  const line = removed
    ? vscode.l10n.t('{0} ({1} paths removed, {2} freed; {3} failed, {4} left alone; see the log).', first?.message ?? '', removed, formatBytes(freed), failed.length, refused.length)
    : first?.message ?? vscode.l10n.t('Nothing was deleted.');
  void vscode.window.showWarningMessage(line);
}
