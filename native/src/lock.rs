//! `cbd-walker lock [-x|-s] PATH...`: holds cargo's build-directory locks for the cleaner (src/node/locks.ts)
//! while it deletes, with exactly the primitive cargo uses — `flock(2)` on Unix, `LockFileEx` on Windows —
//! because a lock of another kind (fcntl/OFD record locks) does not conflict with cargo's at all. Node cannot
//! call either, so this mode of the helper takes the locks and keeps them for as long as its stdin stays open:
//! when the cleaner finishes, or crashes, its end of the pipe closes and the OS drops the locks with this
//! process. No lock can outlive the cleaner.
//!
//! The primitives are declared here with `extern` rather than through `std::fs::File::try_lock` (Rust 1.89)
//! so that the crate keeps building with the old toolchains `rust-version` promises.
//!
//! # Protocol (version 1), text lines on stdout
//!
//!   `cbd-walker-lock 1 <fnv>`   hello: protocol version and the FNV-1a-64 hash of this source file, in hex, so the
//!                               caller can tell a helper built from other sources
//!   then exactly one of:
//!   `locked`                    every lock is held, in argument order; the helper now waits for end-of-file on stdin
//!                               and exits 0
//!   `busy <i>`                  lock `i` (0-based) is held by another process; every lock taken so far is released;
//!                               exit 3
//!   `error <i> <message>`       lock file `i` could not be opened or locked; exit 4
//!   `unsupported <i> <message>` the file system refuses locks there (cargo then takes none either); exit 5
//! Arguments: `-x` (the default) and `-s` set exclusive or shared mode for the paths that follow. Each lock is tried
//! once, without waiting: a cleaner never queues behind a build. Lock files are opened read-write and created when
//! missing, as cargo opens them. Usage errors exit 2.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process;

const LOCK_PROTOCOL: u32 = 1;
const SOURCE: &[u8] = include_bytes!("lock.rs");

fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

enum Failure {
    Busy,
    Unsupported(io::Error),
    Other(io::Error),
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
mod sys {
    use super::Failure;
    use std::fs::File;
    use std::io;
    use std::os::unix::io::AsRawFd;

    extern "C" {
        fn flock(fd: i32, operation: i32) -> i32;
    }
    // The same values on Linux, the BSDs and macOS.
    const LOCK_SH: i32 = 1;
    const LOCK_EX: i32 = 2;
    const LOCK_NB: i32 = 4;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ENOLCK: i32 = 37;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const ENOLCK: i32 = 77;

    pub fn try_lock(f: &File, exclusive: bool) -> Result<(), Failure> {
        let op = if exclusive { LOCK_EX } else { LOCK_SH } | LOCK_NB;
        loop {
            // SAFETY: flock only reads the descriptor number, which `f` keeps open for the whole call.
            if unsafe { flock(f.as_raw_fd(), op) } == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Err(Failure::Busy),
                io::ErrorKind::Unsupported => return Err(Failure::Unsupported(e)),
                _ if e.raw_os_error() == Some(ENOLCK) => return Err(Failure::Unsupported(e)),
                _ => return Err(Failure::Other(e)),
            }
        }
    }
}

#[cfg(windows)]
mod sys {
    use super::Failure;
    use std::ffi::c_void;
    use std::fs::File;
    use std::io;
    use std::os::windows::io::AsRawHandle;

    #[repr(C)]
    struct Overlapped {
        internal: usize,
        internal_high: usize,
        offset: u32,
        offset_high: u32,
        h_event: *mut c_void,
    }

    #[link(name = "kernel32")]
    extern "system" {
        fn LockFileEx(file: *mut c_void, flags: u32, reserved: u32, low: u32, high: u32, overlapped: *mut Overlapped) -> i32;
    }
    const LOCKFILE_FAIL_IMMEDIATELY: u32 = 0x1;
    const LOCKFILE_EXCLUSIVE_LOCK: u32 = 0x2;
    const ERROR_LOCK_VIOLATION: i32 = 33;
    const ERROR_NOT_SUPPORTED: i32 = 50;
    const ERROR_INVALID_FUNCTION: i32 = 1;

    pub fn try_lock(f: &File, exclusive: bool) -> Result<(), Failure> {
        let mut flags = LOCKFILE_FAIL_IMMEDIATELY;
        if exclusive {
            flags |= LOCKFILE_EXCLUSIVE_LOCK;
        }
        let mut ov = Overlapped {
            internal: 0,
            internal_high: 0,
            offset: 0,
            offset_high: 0,
            h_event: std::ptr::null_mut(),
        };
        // The whole file, as std's `File::lock` (and so cargo) locks it: ranges that differ would not conflict.
        // SAFETY: the handle stays open for the call and `ov` outlives it; the handle is synchronous.
        let ok = unsafe { LockFileEx(f.as_raw_handle() as *mut c_void, flags, 0, u32::MAX, u32::MAX, &mut ov) };
        if ok != 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(ERROR_LOCK_VIOLATION) => Err(Failure::Busy),
            Some(ERROR_NOT_SUPPORTED) | Some(ERROR_INVALID_FUNCTION) => Err(Failure::Unsupported(e)),
            _ => Err(Failure::Other(e)),
        }
    }
}

// Platforms whose std locks with fcntl (Solaris, illumos) or not at all: no lock here would conflict with cargo's.
#[cfg(not(any(windows, all(unix, not(any(target_os = "solaris", target_os = "illumos"))))))]
mod sys {
    use super::Failure;
    use std::fs::File;
    use std::io;

    pub fn try_lock(_f: &File, _exclusive: bool) -> Result<(), Failure> {
        Err(Failure::Unsupported(io::Error::new(io::ErrorKind::Other, "cargo's lock primitive on this platform is not implemented here")))
    }
}

fn say(line: &str) {
    let mut out = io::stdout();
    // A caller that went away cannot be told anything; exiting releases the locks either way.
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        process::exit(4);
    }
}

fn one_line(e: &io::Error) -> String {
    e.to_string().replace(['\n', '\r'], " ")
}

pub fn main(args: Vec<OsString>) -> ! {
    let mut wanted: Vec<(PathBuf, bool)> = Vec::new();
    let mut exclusive = true;
    for a in args {
        if a == "-x" {
            exclusive = true;
        } else if a == "-s" {
            exclusive = false;
        } else {
            wanted.push((PathBuf::from(a), exclusive));
        }
    }
    if wanted.is_empty() {
        eprintln!("cbd-walker lock: give the lock files to take, in order (-x exclusive, -s shared)");
        process::exit(2);
    }
    say(&format!("cbd-walker-lock {LOCK_PROTOCOL} {:016x}", fnv1a64(SOURCE)));
    let mut held: Vec<File> = Vec::with_capacity(wanted.len());
    for (i, (path, exclusive)) in wanted.iter().enumerate() {
        let file = match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path) {
            Ok(f) => f,
            Err(e) => {
                drop(held);
                say(&format!("error {i} cannot open {}: {}", path.display(), one_line(&e)));
                process::exit(4);
            }
        };
        match sys::try_lock(&file, *exclusive) {
            Ok(()) => held.push(file),
            Err(Failure::Busy) => {
                drop(held);
                say(&format!("busy {i}"));
                process::exit(3);
            }
            Err(Failure::Unsupported(e)) => {
                drop(held);
                say(&format!("unsupported {i} {}", one_line(&e)));
                process::exit(5);
            }
            Err(Failure::Other(e)) => {
                drop(held);
                say(&format!("error {i} cannot lock {}: {}", path.display(), one_line(&e)));
                process::exit(4);
            }
        }
    }
    say("locked");
    let mut stdin = io::stdin();
    let mut buf = [0u8; 256];
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    drop(held);
    process::exit(0);
}
