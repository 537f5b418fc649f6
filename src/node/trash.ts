// Moving a cleaned path to the desktop trash instead of deleting it (`--trash`, `cargoBuildDir.useTrash`), by
// the freedesktop.org Trash specification 1.0: the home trash (`$XDG_DATA_HOME/Trash`) when it is on the same
// file system, else the mount's `$topdir/.Trash/$uid` (sticky, not a link) or `$topdir/.Trash-$uid`. The
// `.trashinfo` file is created first with O_EXCL, then the path is renamed into `files/` — one rename, so the
// move is atomic and never copies gigabytes. Only what can be done reliably is offered: on macOS and Windows the
// trash is owned by Finder and the shell, with no file-level contract, so `--trash` is refused there.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Trasher = (p: string) => Promise<void>;

/** A function that moves one path to the trash, or why the trash cannot be used on this system. */
export function createTrasher(opts: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform } = {}): Trasher | { unsupported: string } {
  const platform = opts.platform ?? process.platform;
  if (platform === 'darwin') return { unsupported: 'moving to the trash is not supported on macOS (the Finder owns it and offers no file-level contract); clean without --trash' };
  if (platform === 'win32') return { unsupported: 'moving to the Recycle Bin is not supported on Windows (it needs the shell, not files); clean without --trash' };
  const env = opts.env ?? process.env;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid < 0) return { unsupported: 'the user id is unknown, which the trash layout needs' };
  const home = env.HOME || os.homedir();
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return (p) => moveToTrash(p, path.join(dataHome, 'Trash'), uid);
}

function ensureTrash(dir: string): void {
  for (const d of [dir, path.join(dir, 'files'), path.join(dir, 'info')]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(d);
    if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${d} is not a folder`);
  }
}

/** The top folder of the mount that holds `p`: the highest ancestor on the same device. */
function topdirOf(p: string, dev: number): string {
  let d = path.dirname(p);
  for (;;) {
    const parent = path.dirname(d);
    if (parent === d) return d;
    try {
      if (fs.statSync(parent).dev !== dev) return d;
    } catch {
      return d;
    }
    d = parent;
  }
}

function pickTrash(p: string, dev: number, homeTrash: string, uid: number): { dir: string; base: string | null } {
  try {
    ensureTrash(homeTrash);
    if (fs.statSync(path.join(homeTrash, 'files')).dev === dev) return { dir: homeTrash, base: null };
  } catch {
    // The home trash is unusable; a trash on the mount may still work.
  }
  const top = topdirOf(p, dev);
  const shared = path.join(top, '.Trash');
  try {
    const st = fs.lstatSync(shared);
    // The spec requires the sticky bit and forbids a link here: otherwise another user could redirect it.
    if (st.isDirectory() && !st.isSymbolicLink() && (st.mode & 0o1000) !== 0) {
      const mine = path.join(shared, String(uid));
      ensureTrash(mine);
      return { dir: mine, base: top };
    }
  } catch {
    // No shared trash on this mount.
  }
  const own = path.join(top, `.Trash-${uid}`);
  ensureTrash(own);
  const st = fs.lstatSync(own);
  if (st.uid !== uid) throw new Error(`${own} belongs to another user`);
  return { dir: own, base: top };
}

function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function localTime(d: Date): string {
  const z = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}T${z(d.getHours())}:${z(d.getMinutes())}:${z(d.getSeconds())}`;
}

async function moveToTrash(p: string, homeTrash: string, uid: number): Promise<void> {
  const st = fs.lstatSync(p);
  const trash = pickTrash(p, st.dev, homeTrash, uid);
  if (fs.statSync(path.join(trash.dir, 'files')).dev !== st.dev) {
    throw new Error('no trash folder on the same file system (moving would copy the data)');
  }
  const stored = trash.base ? path.relative(trash.base, p) : p;
  const base = path.basename(p);
  for (let n = 1; n < 10_000; n++) {
    const name = n === 1 ? base : `${base}.${n}`;
    const info = path.join(trash.dir, 'info', `${name}.trashinfo`);
    let fd: number;
    try {
      fd = fs.openSync(info, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    try {
      fs.writeSync(fd, `[Trash Info]\nPath=${encodePath(stored)}\nDeletionDate=${localTime(new Date())}\n`);
    } finally {
      fs.closeSync(fd);
    }
    const target = path.join(trash.dir, 'files', name);
    if (fs.existsSync(target)) {
      // A file without its info entry: leave it, and take the next name.
      fs.rmSync(info, { force: true });
      continue;
    }
    try {
      fs.renameSync(p, target);
    } catch (e) {
      fs.rmSync(info, { force: true });
      throw e;
    }
    return;
  }
  throw new Error('no free name in the trash');
}
