//! cbd-walker: the native side of the Walker contract (src/core/walk.ts). The extension and the command line
//! spawn it once and send it batches of requests; it measures directory trees the way `du -sb` does, several
//! times faster than Node can, because it stats entries relative to an open directory and uses every core.
//! src/core/nodewalk.ts gives byte-identical results in pure Node; keep the two in step.
//!
//! # Protocol (version 3)
//!
//! Binary, both ways. Integers are little-endian. Paths and texts are length-prefixed byte strings (raw bytes
//! on Unix, UTF-8 on Windows), so a path may hold any byte; a NUL byte is refused per request with EINVAL.
//!
//! Client to helper, a batch is any number of requests followed by a flush marker:
//!   walk   'W'  i32 depth  u32 len  path bytes  u8 n, then n inline rules:
//!                 u32 maxBytes  u8 flags (bit 0 = stop at the first '\n', bit 1 = skip)  u32 len  glob bytes
//!   keyed  'K'  as 'W', then 16 bytes: the stamp of an earlier answer to the same request, or zeros
//!   read   'R'  u32 maxBytes  u8 flags (bit 0 = stop at the first '\n')  u32 len  path bytes
//!   flush  'F'
//! End of input means "no more batches": the helper exits with status 0.
//!
//! Helper to client, every record is `u8 tag, u32 index, u32 bodyLen, body`:
//!   'H'  hello, written once at start: index = protocol version, body = "cbd-walker <version>"
//!   'w'  walk result for request `index` of the current batch. Body:
//!          u32 n, then n entries:  u8 type ('d' 'f' 'l' 'o'), u64 bytes, u64 count, f64 mtimeMs, f64 newestMs,
//!                                  u64 nlink, u32 len, rel bytes
//!          u32 n, then n links:    u32 len, rel bytes, u32 len, key bytes ("dev:ino"), u64 nlink, u64 size, f64 mtimeMs
//!          u32 n, then n errors:   u32 len, rel bytes, u32 len, errno code (ASCII, e.g. "ENOENT")
//!          u32 n, then n inlined:  u32 len, rel bytes, u8 rule index, u8 1 then u32 len, content, or u8 0 then
//!                                  u32 len, errno code
//!   'v'  keyed walk result: the 16-byte stamp of the answer, then the body of a 'w'
//!   's'  keyed walk whose stamp equals the one sent: body = the stamp; no entries, and no file was read
//!   'r'  read result for request `index`: u8 1 then the content, or u8 0 then an errno code
//!   'E'  batch end: index = number of requests in the batch, empty body; written after every answer of the batch
//!   'X'  fatal protocol error: body = message; the helper then exits with status 2
//! Answers within a batch come in completion order (the index says which request); batches never overlap. A
//! client may send the next batch before the last one has ended: the helper reads it once that one is done,
//! and a separate thread writes the answers, so a client slow to read them does not keep the walk waiting.
//! Times are `sec * 1000 + nsec / 1e6` computed in f64, the same arithmetic Node uses for `Stats.mtimeMs`.
//!
//! Inline rules let one walk carry the few small files its caller would otherwise read in a second round trip.
//! They apply to the regular files a walk lists (levels up to `depth`, the request path included), in pre-order:
//! the first rule whose glob matches the file's rel path decides; a skip rule reads nothing. A glob matches
//! segment by segment ('/'-separated, same number of segments); `*` matches any run of bytes within a segment.
//! A file is read as a read request would read it (at most maxBytes, optionally up to the first newline), once
//! the walk is done.
//!
//! A keyed walk lets a caller that kept what it made of an earlier answer skip the reads and the transfer when
//! nothing changed. Its stamp is a 128-bit FNV-1a of the helper's own source (another helper never vouches for
//! this one's answers), of the request's depth and rules, of the entries, links and errors sections, and, for
//! each file an inline rule picks, of its rel, rule, device, inode, size and ctime (which stands for its
//! content: every write moves it and it cannot be set back). Where ctime and inode are unknown (not Unix) the
//! stamp is zeros and the answer is always a full one. So it is when such a file changed in the last two seconds
//! ("racy", as git says): file times come from a coarse clock, so a same-size write right after the read could
//! leave (size, ctime) as they were, and the stamp would vouch for the old content. And so it is when reading
//! such a file failed: what failed once (too many open files, an I/O error) may not fail again, with nothing in
//! the stamp changed.
//!
//! Options: `--version` prints the version and protocol and exits; `--threads N` sets the pool size
//! (default: available parallelism, at most 8).

mod lock;

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

const PROTOCOL: u32 = 3;
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Output is written in large slices: one syscall per megabyte, not per record.
const FLUSH_AT: usize = 1 << 20;
/// Deep trees recurse; a generous stack costs only address space.
const STACK: usize = 64 << 20;
/// Guards against allocating for a garbage length prefix.
const MAX_PATH: usize = 1 << 20;

// ----------------------------------------------------------------------------------------------------------
// File information

#[derive(Clone, Copy)]
struct Info {
    kind: u8,
    size: u64,
    mtime: f64,
    nlink: u64,
    dev: u64,
    ino: u64,
    /// Status change time (seconds, nanoseconds): the kernel moves it on every write and it cannot be set back,
    /// so with the inode number it tells whether a file's content may have changed. (0, 0) where unknown.
    ctime: (i64, i64),
}

impl Info {
    /// Regular files with several names are reported once per walk in `links` and never folded into totals,
    /// so that a caller can count each inode once across any set of walks.
    fn is_multi_link(&self) -> bool {
        self.kind == b'f' && self.nlink > 1
    }
}

fn ms(sec: i64, nsec: i64) -> f64 {
    sec as f64 * 1000.0 + nsec as f64 / 1e6
}

fn kind_of(md: &Metadata) -> u8 {
    let ft = md.file_type();
    if ft.is_dir() {
        b'd'
    } else if ft.is_file() {
        b'f'
    } else if ft.is_symlink() {
        b'l'
    } else {
        b'o'
    }
}

#[cfg(unix)]
fn info_of(md: &Metadata) -> Info {
    use std::os::unix::fs::MetadataExt;
    Info {
        kind: kind_of(md),
        size: md.len(),
        mtime: ms(md.mtime(), md.mtime_nsec()),
        nlink: md.nlink(),
        dev: md.dev(),
        ino: md.ino(),
        ctime: (md.ctime(), md.ctime_nsec()),
    }
}

// std gives no link count or file id on Windows without unstable features: every file counts as one link.
#[cfg(not(unix))]
fn info_of(md: &Metadata) -> Info {
    use std::time::UNIX_EPOCH;
    let mtime = match md.modified() {
        Ok(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => ms(d.as_secs() as i64, d.subsec_nanos() as i64),
            Err(e) => -ms(
                e.duration().as_secs() as i64,
                e.duration().subsec_nanos() as i64,
            ),
        },
        Err(_) => 0.0,
    };
    Info {
        kind: kind_of(md),
        size: md.len(),
        mtime,
        nlink: 1,
        dev: 0,
        ino: 0,
        ctime: (0, 0),
    }
}

/// Whether a file's (inode, ctime) pins its content: only where both are known.
const STAMPS: bool = cfg!(unix);

#[cfg(unix)]
fn name_bytes(name: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(name.as_bytes())
}

#[cfg(not(unix))]
fn name_bytes(name: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    match name.to_string_lossy() {
        std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
        std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
    }
}

#[cfg(unix)]
fn path_from_bytes(b: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&b).into_owned())
}

// ----------------------------------------------------------------------------------------------------------
// Errno names: the client expects the codes Node would give (libuv's names).

fn code_of(e: &io::Error) -> &'static str {
    if let Some(c) = e.raw_os_error().and_then(errno_name) {
        return c;
    }
    match e.kind() {
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::InvalidInput => "EINVAL",
        _ => "EIO",
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        27 => "EFBIG",
        36 => "ENAMETOOLONG",
        40 => "ELOOP",
        75 => "EOVERFLOW",
        95 => "ENOTSUP",
        107 => "ENOTCONN",
        110 => "ETIMEDOUT",
        116 => "ESTALE",
        _ => return None,
    })
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn errno_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        9 => "EBADF",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        27 => "EFBIG",
        35 => "EAGAIN",
        60 => "ETIMEDOUT",
        62 => "ELOOP",
        63 => "ENAMETOOLONG",
        70 => "ESTALE",
        84 => "EOVERFLOW",
        _ => return None,
    })
}

#[cfg(windows)]
fn errno_name(n: i32) -> Option<&'static str> {
    Some(match n {
        2 | 3 | 123 => "ENOENT",
        5 => "EPERM",
        32 | 33 => "EBUSY",
        206 => "ENAMETOOLONG",
        267 => "ENOTDIR",
        1921 => "ELOOP",
        _ => return None,
    })
}

#[cfg(not(any(unix, windows)))]
fn errno_name(_n: i32) -> Option<&'static str> {
    None
}

// ----------------------------------------------------------------------------------------------------------
// A walk's output, already in wire format so that assembling results is a plain copy.

#[derive(Default)]
struct Out {
    ent: Vec<u8>,
    n_ent: u32,
    lnk: Vec<u8>,
    n_lnk: u32,
    err: Vec<u8>,
    n_err: u32,
    inl: Vec<u8>,
    n_inl: u32,
    /// Files an inline rule picked, in pre-order, read once the walk is done (see `finish`).
    pend: Vec<Pending>,
}

struct Pending {
    rel: Vec<u8>,
    rule: usize,
    path: PathBuf,
    info: Info,
}

fn put_bytes(v: &mut Vec<u8>, b: &[u8]) {
    v.extend_from_slice(&(b.len() as u32).to_le_bytes());
    v.extend_from_slice(b);
}

// Byte offsets inside an entry record, used to fill in a directory's totals once its children are done.
const AT_BYTES: usize = 1;
const AT_COUNT: usize = 9;
const AT_NEWEST: usize = 25;

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        kind: u8,
        bytes: u64,
        count: u64,
        mtime: f64,
        newest: f64,
        nlink: u64,
        rel: &[u8],
    ) -> usize {
        let at = self.ent.len();
        let v = &mut self.ent;
        v.push(kind);
        v.extend_from_slice(&bytes.to_le_bytes());
        v.extend_from_slice(&count.to_le_bytes());
        v.extend_from_slice(&mtime.to_le_bytes());
        v.extend_from_slice(&newest.to_le_bytes());
        v.extend_from_slice(&nlink.to_le_bytes());
        put_bytes(v, rel);
        self.n_ent += 1;
        at
    }

    fn patch(&mut self, at: usize, t: &Totals) {
        self.ent[at + AT_BYTES..at + AT_BYTES + 8].copy_from_slice(&t.bytes.to_le_bytes());
        self.ent[at + AT_COUNT..at + AT_COUNT + 8].copy_from_slice(&t.count.to_le_bytes());
        self.ent[at + AT_NEWEST..at + AT_NEWEST + 8].copy_from_slice(&t.newest.to_le_bytes());
    }

    fn link(&mut self, rel: &[u8], i: &Info) {
        let v = &mut self.lnk;
        put_bytes(v, rel);
        put_bytes(v, format!("{}:{}", i.dev, i.ino).as_bytes());
        v.extend_from_slice(&i.nlink.to_le_bytes());
        v.extend_from_slice(&i.size.to_le_bytes());
        v.extend_from_slice(&i.mtime.to_le_bytes());
        self.n_lnk += 1;
    }

    fn error(&mut self, rel: &[u8], code: &str) {
        put_bytes(&mut self.err, rel);
        put_bytes(&mut self.err, code.as_bytes());
        self.n_err += 1;
    }

    fn inline(&mut self, rel: &[u8], rule: usize, r: Result<Vec<u8>, &'static str>) {
        put_bytes(&mut self.inl, rel);
        self.inl.push(rule as u8);
        match r {
            Ok(data) => {
                self.inl.push(1);
                put_bytes(&mut self.inl, &data);
            }
            Err(code) => {
                self.inl.push(0);
                put_bytes(&mut self.inl, code.as_bytes());
            }
        }
        self.n_inl += 1;
    }

    fn append(&mut self, o: Out) {
        self.ent.extend_from_slice(&o.ent);
        self.n_ent += o.n_ent;
        self.lnk.extend_from_slice(&o.lnk);
        self.n_lnk += o.n_lnk;
        self.err.extend_from_slice(&o.err);
        self.n_err += o.n_err;
        self.inl.extend_from_slice(&o.inl);
        self.n_inl += o.n_inl;
        self.pend.extend(o.pend);
    }

    fn body_len(&self) -> usize {
        16 + self.ent.len() + self.lnk.len() + self.err.len() + self.inl.len()
    }
}

#[derive(Clone, Copy)]
struct Totals {
    bytes: u64,
    count: u64,
    newest: f64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.bytes += o.bytes;
        self.count += o.count;
        if o.newest > self.newest {
            self.newest = o.newest;
        }
    }
}

// ----------------------------------------------------------------------------------------------------------
// Walking

struct Child {
    name: OsString,
    info: Result<Info, &'static str>,
}

/// Lists a directory with each child's lstat, sorted by name. `DirEntry::metadata` stats relative to the open
/// directory (fstatat/statx on Unix), which avoids resolving the full path once per entry. The directory
/// handle is closed before returning, so a deep walk holds one open directory per thread.
fn list_dir(path: &Path) -> Result<Vec<Child>, &'static str> {
    let rd = fs::read_dir(path).map_err(|e| code_of(&e))?;
    let mut v = Vec::new();
    for de in rd {
        // A failure in the middle of a listing drops the partial list, as Node's readdir would.
        let de = de.map_err(|e| code_of(&e))?;
        let info = match de.metadata() {
            Ok(m) => Ok(info_of(&m)),
            Err(e) => Err(code_of(&e)),
        };
        v.push(Child {
            name: de.file_name(),
            info,
        });
    }
    v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

fn push_name(rel: &mut Vec<u8>, base: usize, name: &OsStr) {
    rel.truncate(base);
    if base > 0 {
        rel.push(b'/');
    }
    rel.extend_from_slice(&name_bytes(name));
}

fn is_dir(c: &Child) -> bool {
    matches!(c.info, Ok(i) if i.kind == b'd')
}

/// One inline rule of a walk request (see the protocol notes at the top).
struct Rule {
    max: u64,
    first_line: bool,
    skip: bool,
    glob: Vec<u8>,
}

/// `*` matches any run of bytes inside one segment; segments are compared one to one.
fn glob_match(glob: &[u8], rel: &[u8]) -> bool {
    let mut g = glob.split(|&b| b == b'/');
    let mut r = rel.split(|&b| b == b'/');
    loop {
        match (g.next(), r.next()) {
            (None, None) => return true,
            (Some(gs), Some(rs)) if segment_match(gs, rs) => {}
            _ => return false,
        }
    }
}

fn segment_match(p: &[u8], s: &[u8]) -> bool {
    // Greedy with one backtrack point: enough for a pattern whose only wildcard is `*`.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

struct Walk<'p> {
    pool: &'p Pool,
    depth: i32,
    rules: &'p Arc<[Rule]>,
}

impl Walk<'_> {
    /// A non-directory (or a directory seen at depth -1): counted in `t` unless it is a multi-link file.
    /// `file` gives its path, needed only when an inline rule reads it.
    fn leaf(
        &self,
        out: &mut Out,
        rel: &[u8],
        emit: bool,
        i: &Info,
        t: &mut Totals,
        file: impl FnOnce() -> PathBuf,
    ) {
        if emit && i.kind == b'f' && !self.rules.is_empty() {
            if let Some((k, r)) = self.rules.iter().enumerate().find(|(_, r)| glob_match(&r.glob, rel)) {
                if !r.skip {
                    out.pend.push(Pending {
                        rel: rel.to_vec(),
                        rule: k,
                        path: file(),
                        info: *i,
                    });
                }
            }
        }
        if i.is_multi_link() {
            out.link(rel, i);
            if emit {
                out.entry(i.kind, 0, 0, i.mtime, i.mtime, i.nlink, rel);
            }
        } else {
            t.bytes += i.size;
            t.count += 1;
            if emit {
                out.entry(i.kind, i.size, 1, i.mtime, i.mtime, i.nlink, rel);
            }
        }
        if i.mtime > t.newest {
            t.newest = i.mtime;
        }
    }

    fn dir(
        &self,
        out: &mut Out,
        path: &mut PathBuf,
        rel: &mut Vec<u8>,
        level: i32,
        own: &Info,
    ) -> Totals {
        let at = if level <= self.depth {
            Some(out.entry(b'd', 0, 0, own.mtime, own.mtime, own.nlink, rel))
        } else {
            None
        };
        let mut t = Totals {
            bytes: own.size,
            count: 1,
            newest: own.mtime,
        };
        match list_dir(path) {
            Err(code) => out.error(rel, code),
            Ok(children) => {
                if children.iter().filter(|c| is_dir(c)).nth(1).is_some() && self.pool.wants_work()
                {
                    self.children_forked(out, path, rel, level + 1, &children, &mut t);
                } else {
                    self.children(out, path, rel, level + 1, &children, &mut t);
                }
            }
        }
        if let Some(at) = at {
            out.patch(at, &t);
        }
        t
    }

    fn children(
        &self,
        out: &mut Out,
        path: &mut PathBuf,
        rel: &mut Vec<u8>,
        level: i32,
        children: &[Child],
        t: &mut Totals,
    ) {
        let base = rel.len();
        let emit = level <= self.depth;
        for c in children {
            push_name(rel, base, &c.name);
            match &c.info {
                Err(code) => out.error(rel, code),
                Ok(i) if i.kind == b'd' => {
                    path.push(&c.name);
                    let ct = self.dir(out, path, rel, level, i);
                    path.pop();
                    t.add(&ct);
                }
                Ok(i) => {
                    let name = &c.name;
                    let dir: &Path = path;
                    self.leaf(out, rel, emit, i, t, || dir.join(name));
                }
            }
        }
        rel.truncate(base);
    }

    /// Same result as `children`, but the subdirectories become jobs that idle threads can take. The owner runs
    /// the jobs nobody took (last first, while thieves take from the front), then stitches the outputs together in
    /// name order, so the result does not depend on who ran what.
    fn children_forked(
        &self,
        out: &mut Out,
        path: &Path,
        rel: &mut Vec<u8>,
        level: i32,
        children: &[Child],
        t: &mut Totals,
    ) {
        let base = rel.len();
        let emit = level <= self.depth;
        let jobs: Vec<Option<Arc<SubJob>>> = children
            .iter()
            .map(|c| match c.info {
                Ok(i) if i.kind == b'd' => {
                    push_name(rel, base, &c.name);
                    Some(Arc::new(SubJob {
                        claimed: AtomicBool::new(false),
                        done: AtomicBool::new(false),
                        path: path.join(&c.name),
                        rel: rel.clone(),
                        level,
                        depth: self.depth,
                        rules: self.rules.clone(),
                        info: i,
                        result: Mutex::new(None),
                    }))
                }
                _ => None,
            })
            .collect();
        self.pool
            .push(jobs.iter().flatten().map(|j| Job::Sub(j.clone())));
        for j in jobs.iter().rev().flatten() {
            if j.claim() {
                j.run(self.pool);
            }
        }
        for (c, j) in children.iter().zip(jobs) {
            push_name(rel, base, &c.name);
            match (&c.info, j) {
                (_, Some(j)) => {
                    let (o, ct) = self.pool.wait_for(&j);
                    out.append(o);
                    t.add(&ct);
                }
                (Err(code), None) => out.error(rel, code),
                (Ok(i), None) => self.leaf(out, rel, emit, i, t, || path.join(&c.name)),
            }
        }
        rel.truncate(base);
    }
}

/// Reads the files the walk's inline rules picked, in the order they were listed; false when a read failed.
fn finish(out: &mut Out, rules: &[Rule]) -> bool {
    let mut all = true;
    for p in std::mem::take(&mut out.pend) {
        let r = &rules[p.rule];
        let got = read_request(&p.path, r.max, r.first_line, true);
        all &= got.is_ok();
        out.inline(&p.rel, p.rule, got);
    }
    all
}

/// FNV-1a with 128 bits: no secret, no adversary (whoever could forge a collision could write the files), and
/// wide enough that two different answers never meet by chance.
struct Fnv(u128);

impl Fnv {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;

    fn new() -> Fnv {
        Fnv(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }

    fn feed(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u128::from(x);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn feed_len(&mut self, b: &[u8]) {
        self.feed(&(b.len() as u64).to_le_bytes());
        self.feed(b);
    }
}

/// The source this helper was built from. Stamps start from it, so that a helper that answers differently (a
/// fix in what it reads, say) never vouches for what an earlier one answered: a memo made with that one misses.
fn build_identity() -> &'static [u8; 16] {
    static ID: std::sync::OnceLock<[u8; 16]> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let mut h = Fnv::new();
        h.feed_len(VERSION.as_bytes());
        h.feed_len(include_bytes!("main.rs"));
        h.feed_len(include_bytes!("lock.rs"));
        h.0.to_le_bytes()
    })
}

/// A keyed walk's stamp: everything its answer says, with each file an inline rule would read standing in for
/// its content by (device, inode, size, ctime). Taken before the reads, so that an unchanged unit costs no read.
fn stamp_of(depth: i32, rules: &[Rule], o: &Out) -> [u8; 16] {
    let mut h = Fnv::new();
    h.feed(build_identity());
    h.feed(&depth.to_le_bytes());
    for r in rules {
        h.feed(&r.max.to_le_bytes());
        h.feed(&[u8::from(r.first_line), u8::from(r.skip)]);
        h.feed_len(&r.glob);
    }
    for (n, part) in [(o.n_ent, &o.ent), (o.n_lnk, &o.lnk), (o.n_err, &o.err)] {
        h.feed(&n.to_le_bytes());
        h.feed_len(part);
    }
    h.feed(&(o.pend.len() as u64).to_le_bytes());
    for p in &o.pend {
        h.feed_len(&p.rel);
        h.feed(&(p.rule as u64).to_le_bytes());
        for v in [p.info.dev, p.info.ino, p.info.size] {
            h.feed(&v.to_le_bytes());
        }
        h.feed(&p.info.ctime.0.to_le_bytes());
        h.feed(&p.info.ctime.1.to_le_bytes());
    }
    h.0.to_le_bytes()
}

/// How recent a change to an inline file must be for its stamp to be withheld (see the header), in nanoseconds:
/// far above the granularity of file times (a clock tick), and above small clock differences with a file server.
const RACY_NS: i128 = 2_000_000_000;

/// Whether a file an inline rule picks changed so recently that (size, ctime) may not pin what is read.
fn racy(o: &Out) -> bool {
    // A clock set before 1970 says nothing about how recent a change is: then every change counts as recent.
    let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
        return !o.pend.is_empty();
    };
    let now = now.as_nanos() as i128;
    o.pend
        .iter()
        .any(|p| i128::from(p.info.ctime.0) * 1_000_000_000 + i128::from(p.info.ctime.1) > now - RACY_NS)
}

fn walk_request(pool: &Pool, path: &Path, depth: i32, rules: &Arc<[Rule]>) -> Out {
    let mut out = Out::default();
    let md = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            out.error(b"", code_of(&e));
            return out;
        }
    };
    let info = info_of(&md);
    let w = Walk {
        pool,
        depth,
        rules,
    };
    if info.kind == b'd' && depth >= 0 {
        w.dir(&mut out, &mut path.to_path_buf(), &mut Vec::new(), 0, &info);
    } else {
        let mut t = Totals {
            bytes: 0,
            count: 0,
            newest: info.mtime,
        };
        w.leaf(&mut out, b"", true, &info, &mut t, || path.to_path_buf());
    }
    out
}

// ----------------------------------------------------------------------------------------------------------
// Reading small files

#[cfg(any(target_os = "linux", target_os = "android"))]
const OPEN_FLAGS: i32 = if cfg!(any(
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "powerpc",
    target_arch = "powerpc64"
)) {
    0o100000 | 0o4000 // O_NOFOLLOW | O_NONBLOCK
} else if cfg!(any(
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc64"
)) {
    0x20000 // O_NOFOLLOW only; the lstat check below already refuses FIFOs
} else {
    0o400000 | 0o4000
};

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const OPEN_FLAGS: i32 = 0x100 | 0x4; // BSD and macOS: O_NOFOLLOW | O_NONBLOCK

fn open_nofollow(path: &Path) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(OPEN_FLAGS);
    }
    o.open(path)
}

/// Refuses anything but a regular file, before opening (so a FIFO never blocks us) and again on the open
/// handle (so a file swapped for a symlink in between is not followed). `listed`: the walk has just lstat'ed
/// it as a regular file; on Unix the open itself (no-follow, non-blocking) and the handle's check then give the
/// same answers for anything that changed since, so the first lstat, a full path lookup, is skipped.
fn read_request(path: &Path, max: u64, first_line: bool, listed: bool) -> Result<Vec<u8>, &'static str> {
    let check = |md: &Metadata| -> Result<(), &'static str> {
        match kind_of(md) {
            b'f' => Ok(()),
            b'l' => Err("ELOOP"),
            b'd' => Err("EISDIR"),
            _ => Err("EINVAL"),
        }
    };
    if !(cfg!(unix) && listed) {
        check(&fs::symlink_metadata(path).map_err(|e| code_of(&e))?)?;
    }
    let mut f = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) => {
            return Err(match fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => "ELOOP",
                _ => code_of(&e),
            })
        }
    };
    let md = f.metadata().map_err(|e| code_of(&e))?;
    check(&md)?;
    let mut buf: Vec<u8> = Vec::new();
    let mut scanned = 0;
    while (buf.len() as u64) < max {
        let left = max - buf.len() as u64;
        // Size the read from the file's length so small files cost one read and no large zeroing.
        let hint = md
            .len()
            .saturating_sub(buf.len() as u64)
            .saturating_add(1)
            .clamp(4096, 1 << 20);
        let want = left.min(hint) as usize;
        let len = buf.len();
        buf.resize(len + want, 0);
        let n = loop {
            match f.read(&mut buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(code_of(&e)),
            }
        };
        buf.truncate(len + n);
        if n == 0 {
            break;
        }
        if first_line {
            if let Some(p) = buf[scanned..].iter().position(|&b| b == b'\n') {
                buf.truncate(scanned + p);
                break;
            }
            scanned = buf.len();
        }
        // A short read that reaches the size fstat gave is the end of the file: skip the read that returns 0.
        if n < want && buf.len() as u64 >= md.len() {
            break;
        }
    }
    Ok(buf)
}

// ----------------------------------------------------------------------------------------------------------
// Output

struct Output {
    buf: Vec<u8>,
    /// Full buffers go to the writer thread, so that a client busy with the last answers (the pipe full) never
    /// holds up the walks of the next batch, which it may already have sent.
    to_writer: Sender<Written>,
    /// Buffers the writer has emptied, to be filled again rather than allocated afresh.
    spare: Receiver<Vec<u8>>,
}

enum Written {
    Bytes(Vec<u8>),
    /// Everything sent before is written: end the process with this status.
    Exit(i32),
}

/// The only writer of standard output. It ends the process itself, once all that came before an exit is out.
fn writer(rx: Receiver<Written>, spare: Sender<Vec<u8>>) {
    let mut sink = stdout_file();
    for w in rx {
        match w {
            Written::Bytes(mut b) => {
                if sink.write_all(&b).is_err() {
                    // The client is gone; nobody is left to answer.
                    process::exit(1);
                }
                // One walk's answer can be far larger than a usual slice: such a buffer is not kept for life.
                if b.capacity() <= 2 * FLUSH_AT {
                    b.clear();
                    let _ = spare.send(b);
                }
            }
            Written::Exit(code) => process::exit(code),
        }
    }
    process::exit(1);
}

#[cfg(unix)]
fn stdout_file() -> File {
    use std::os::unix::io::{AsRawFd, FromRawFd};
    // SAFETY: fd 1 stays open for the life of the process and this is its only writer.
    unsafe { File::from_raw_fd(io::stdout().as_raw_fd()) }
}

#[cfg(windows)]
fn stdout_file() -> File {
    use std::os::windows::io::{AsRawHandle, FromRawHandle};
    // SAFETY: the standard output handle stays open for the life of the process and this is its only writer.
    unsafe { File::from_raw_handle(io::stdout().as_raw_handle()) }
}

impl Output {
    fn header(&mut self, tag: u8, index: u32, body: usize) {
        self.buf.push(tag);
        self.buf.extend_from_slice(&index.to_le_bytes());
        self.buf.extend_from_slice(&(body as u32).to_le_bytes());
    }

    fn walk(&mut self, index: u32, o: Out) {
        self.walk_as(b'w', &[], index, o);
    }

    fn keyed_walk(&mut self, index: u32, stamp: &[u8; 16], o: Out) {
        self.walk_as(b'v', stamp, index, o);
    }

    fn same(&mut self, index: u32, stamp: &[u8; 16]) {
        self.header(b's', index, stamp.len());
        self.buf.extend_from_slice(stamp);
        self.maybe_flush();
    }

    fn walk_as(&mut self, tag: u8, prefix: &[u8], index: u32, mut o: Out) {
        if prefix.len() + o.body_len() > u32::MAX as usize {
            o = Out::default();
            o.error(b"", "E2BIG");
        }
        self.header(tag, index, prefix.len() + o.body_len());
        self.buf.extend_from_slice(prefix);
        for (n, part) in [
            (o.n_ent, &o.ent),
            (o.n_lnk, &o.lnk),
            (o.n_err, &o.err),
            (o.n_inl, &o.inl),
        ] {
            self.buf.extend_from_slice(&n.to_le_bytes());
            self.buf.extend_from_slice(part);
        }
        self.maybe_flush();
    }

    fn read(&mut self, index: u32, r: Result<Vec<u8>, &'static str>) {
        let (ok, data) = match &r {
            Ok(d) => (1u8, d.as_slice()),
            Err(code) => (0u8, code.as_bytes()),
        };
        self.header(b'r', index, 1 + data.len());
        self.buf.push(ok);
        self.buf.extend_from_slice(data);
        self.maybe_flush();
    }

    fn maybe_flush(&mut self) {
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(FLUSH_AT + (64 << 10)));
        let full = std::mem::replace(&mut self.buf, next);
        if self.to_writer.send(Written::Bytes(full)).is_err() {
            process::exit(1);
        }
    }

    /// Ends the process once everything written so far is out; the caller has nothing more to do.
    fn exit(mut guard: MutexGuard<'_, Output>, code: i32) -> ! {
        guard.flush();
        let _ = guard.to_writer.send(Written::Exit(code));
        drop(guard);
        loop {
            thread::park();
        }
    }
}

// ----------------------------------------------------------------------------------------------------------
// Thread pool: one queue for the requests of a batch and for the subtrees split off large requests

enum Req {
    Walk {
        path: PathBuf,
        depth: i32,
        rules: Arc<[Rule]>,
        /// A keyed walk ('K'): answered with its stamp, or only "same" when the stamp is `expect`.
        keyed: bool,
        expect: Option<[u8; 16]>,
    },
    Read {
        path: PathBuf,
        max: u64,
        first_line: bool,
    },
}

struct Batch {
    reqs: Vec<Req>,
    remaining: AtomicUsize,
}

struct SubJob {
    claimed: AtomicBool,
    done: AtomicBool,
    path: PathBuf,
    rel: Vec<u8>,
    level: i32,
    depth: i32,
    rules: Arc<[Rule]>,
    info: Info,
    result: Mutex<Option<(Out, Totals)>>,
}

impl SubJob {
    fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    fn run(&self, pool: &Pool) {
        let w = Walk {
            pool,
            depth: self.depth,
            rules: &self.rules,
        };
        let mut out = Out::default();
        let t = w.dir(
            &mut out,
            &mut self.path.clone(),
            &mut self.rel.clone(),
            self.level,
            &self.info,
        );
        *lock(&self.result) = Some((out, t));
        self.done.store(true, Ordering::Release);
        pool.wake_all();
    }
}

enum Job {
    Req(Arc<Batch>, usize),
    Sub(Arc<SubJob>),
}

struct Pool {
    queue: Mutex<VecDeque<Job>>,
    cv: Condvar,
    /// Threads waiting for work; a walker splits its subtrees only when someone would take them.
    idle: AtomicUsize,
    queued: AtomicUsize,
    out: Mutex<Output>,
}

/// A poisoned lock can only follow a panic, and panics abort this binary; recover rather than unwrap.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    fn wants_work(&self) -> bool {
        let idle = self.idle.load(Ordering::Relaxed);
        idle > 0 && self.queued.load(Ordering::Relaxed) < idle
    }

    fn push(&self, jobs: impl Iterator<Item = Job>) {
        let mut q = lock(&self.queue);
        q.extend(jobs);
        self.queued.store(q.len(), Ordering::Relaxed);
        drop(q);
        self.cv.notify_all();
    }

    fn wake_all(&self) {
        let _q = lock(&self.queue);
        self.cv.notify_all();
    }

    fn run(&self, job: Job) {
        match job {
            Job::Req(b, i) => self.run_request(&b, i),
            Job::Sub(s) => {
                if s.claim() {
                    s.run(self)
                }
            }
        }
    }

    /// Runs queued jobs until `done` holds, sleeping when there is nothing to do. Waiting threads help
    /// instead of blocking, so a thread that split its subtree keeps working while thieves run the rest.
    fn help_until(&self, done: impl Fn() -> bool) {
        loop {
            if done() {
                return;
            }
            let mut q = lock(&self.queue);
            loop {
                if done() {
                    return;
                }
                if let Some(job) = q.pop_front() {
                    self.queued.store(q.len(), Ordering::Relaxed);
                    drop(q);
                    self.run(job);
                    break;
                }
                self.idle.fetch_add(1, Ordering::Relaxed);
                q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
                self.idle.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn wait_for(&self, j: &SubJob) -> (Out, Totals) {
        self.help_until(|| j.done.load(Ordering::Acquire));
        lock(&j.result).take().expect("finished job has a result")
    }

    fn worker(&self) {
        self.help_until(|| false);
    }

    fn run_request(&self, b: &Batch, i: usize) {
        match &b.reqs[i] {
            Req::Walk {
                path,
                depth,
                rules,
                keyed,
                expect,
            } => {
                let mut o = walk_request(self, path, *depth, rules);
                if *keyed {
                    let stamp = if STAMPS && !racy(&o) {
                        stamp_of(*depth, rules, &o)
                    } else {
                        [0; 16]
                    };
                    if STAMPS && *expect == Some(stamp) {
                        lock(&self.out).same(i as u32, &stamp);
                    } else {
                        // A failed read (too many open files, an I/O error, a file gone since the listing) may
                        // not fail next time, with nothing in the stamp changed: such an answer gets no stamp,
                        // so that nobody keeps what was made of it.
                        let stamp = if finish(&mut o, rules) { stamp } else { [0; 16] };
                        lock(&self.out).keyed_walk(i as u32, &stamp, o);
                    }
                } else {
                    finish(&mut o, rules);
                    lock(&self.out).walk(i as u32, o);
                }
            }
            Req::Read {
                path,
                max,
                first_line,
            } => {
                let r = read_request(path, *max, *first_line, false);
                lock(&self.out).read(i as u32, r);
            }
        }
        if b.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake_all();
        }
    }

    fn run_batch(&self, reqs: Vec<Req>) {
        let n = reqs.len();
        let b = Arc::new(Batch {
            reqs,
            remaining: AtomicUsize::new(n),
        });
        self.push((0..n).map(|i| Job::Req(b.clone(), i)));
        self.help_until(|| b.remaining.load(Ordering::Acquire) == 0);
        let mut out = lock(&self.out);
        out.header(b'E', n as u32, 0);
        out.flush();
    }
}

// ----------------------------------------------------------------------------------------------------------
// Input

fn fatal(pool: &Pool, msg: &str) -> ! {
    let mut out = lock(&pool.out);
    out.header(b'X', 0, msg.len());
    out.buf.extend_from_slice(msg.as_bytes());
    eprintln!("cbd-walker: {msg}");
    Output::exit(out, 2)
}

enum Input {
    Batch(Vec<Req>),
    Eof,
    Bad(String),
}

fn exact<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn read_path_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let n = u32::from_le_bytes(exact::<4>(r)?) as usize;
    if n > MAX_PATH {
        let msg = format!("path length {n} too large");
        return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
    }
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn read_path(r: &mut impl Read) -> io::Result<PathBuf> {
    read_path_bytes(r).map(path_from_bytes)
}

/// One request, or None for the flush marker that ends a batch.
fn parse_request(r: &mut impl Read) -> io::Result<Option<Req>> {
    Ok(Some(match exact::<1>(r)?[0] {
        tag @ (b'W' | b'K') => {
            let depth = i32::from_le_bytes(exact::<4>(r)?).max(-1);
            let path = read_path(r)?;
            let n = exact::<1>(r)?[0];
            let mut rules = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let max = u64::from(u32::from_le_bytes(exact::<4>(r)?));
                let flags = exact::<1>(r)?[0];
                let glob = read_path_bytes(r)?;
                rules.push(Rule {
                    max,
                    first_line: flags & 1 != 0,
                    skip: flags & 2 != 0,
                    glob,
                });
            }
            let (keyed, expect) = if tag == b'K' {
                let e = exact::<16>(r)?;
                (true, if e == [0; 16] { None } else { Some(e) })
            } else {
                (false, None)
            };
            Req::Walk {
                depth,
                path,
                rules: rules.into(),
                keyed,
                expect,
            }
        }
        b'R' => {
            let max = u64::from(u32::from_le_bytes(exact::<4>(r)?));
            let first_line = exact::<1>(r)?[0] & 1 != 0;
            Req::Read {
                max,
                first_line,
                path: read_path(r)?,
            }
        }
        b'F' => return Ok(None),
        t => {
            let msg = format!("unknown request tag {t:#04x}");
            return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
        }
    }))
}

fn read_batch(r: &mut impl Read) -> Input {
    let mut reqs = Vec::new();
    loop {
        match parse_request(r) {
            Ok(Some(req)) => reqs.push(req),
            Ok(None) => return Input::Batch(reqs),
            // The client closed its end: between batches that is the normal way to stop, and a half-sent
            // batch has nobody left to read its answers either.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Input::Eof,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Input::Bad(e.to_string()),
            Err(e) => return Input::Bad(format!("reading requests: {e}")),
        }
    }
}

fn main() {
    // `cbd-walker lock …` holds cargo's locks for the cleaner instead of walking (see lock.rs).
    if std::env::args_os().nth(1).map_or(false, |a| a == "lock") {
        lock::main(std::env::args_os().skip(2).collect());
    }
    let mut threads = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--version" => {
                println!("cbd-walker {VERSION} protocol {PROTOCOL}");
                return;
            }
            "--threads" => match args.next().and_then(|v| v.parse::<usize>().ok()) {
                Some(n) if n >= 1 => threads = n.min(64),
                _ => {
                    eprintln!("cbd-walker: --threads needs a positive number");
                    process::exit(2);
                }
            },
            _ => {
                eprintln!("cbd-walker: unknown argument {a}; it speaks a binary protocol on stdin/stdout (see its source)");
                process::exit(2);
            }
        }
    }

    let (to_writer, from_pool) = mpsc::channel();
    let (give_back, spare) = mpsc::channel();
    if let Err(e) = thread::Builder::new()
        .name("writer".into())
        .spawn(move || writer(from_pool, give_back))
    {
        eprintln!("cbd-walker: cannot start: {e}");
        process::exit(2);
    }
    let pool = Arc::new(Pool {
        queue: Mutex::new(VecDeque::new()),
        cv: Condvar::new(),
        idle: AtomicUsize::new(0),
        queued: AtomicUsize::new(0),
        out: Mutex::new(Output {
            buf: Vec::with_capacity(FLUSH_AT + (64 << 10)),
            to_writer,
            spare,
        }),
    });
    // The thread reading requests also runs jobs while its batch is in progress, so `threads` counts it.
    for _ in 1..threads {
        let p = pool.clone();
        if thread::Builder::new()
            .name("walker".into())
            .stack_size(STACK)
            .spawn(move || p.worker())
            .is_err()
        {
            break;
        }
    }
    let p = pool.clone();
    let driver = thread::Builder::new()
        .name("driver".into())
        .stack_size(STACK)
        .spawn(move || {
            {
                let hello = format!("cbd-walker {VERSION}");
                let mut out = lock(&p.out);
                out.header(b'H', PROTOCOL, hello.len());
                out.buf.extend_from_slice(hello.as_bytes());
                out.flush();
            }
            let stdin = io::stdin();
            let mut r = stdin.lock();
            loop {
                match read_batch(&mut r) {
                    Input::Batch(reqs) => p.run_batch(reqs),
                    Input::Eof => Output::exit(lock(&p.out), 0),
                    Input::Bad(msg) => fatal(&p, &msg),
                }
            }
        });
    match driver {
        Ok(h) => {
            let _ = h.join();
        }
        Err(e) => {
            eprintln!("cbd-walker: cannot start: {e}");
            process::exit(2);
        }
    }
}
