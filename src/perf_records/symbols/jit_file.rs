//! Opening a JIT runtime's perf map or jitdump as untrusted input.
//!
//! Both live where anyone may write (`/tmp/perf-PID.map`, a jitdump a
//! process maps from any directory), and their names become the profile's
//! function names. So a file is read only if it is what a runtime writes: a
//! regular file (opened without following a link, so a link to
//! `/dev/zero` or a FIFO never costs more than a refusal), owned by root,
//! by the user autofold runs as, or by the recorded process's user, and
//! no larger than [`MAX_BYTES`]. perf reads a map only if it is a regular
//! file owned by the user or root; the process's user is added so that
//! root can profile another user's runtime (`--pid`). Each refusal is one
//! note line, once per file.

use std::fs::File;
use std::io::{self, Read, Take};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

use rustc_hash::FxHashSet;

use crate::console::note;

/// The largest perf map or jitdump read: far more than a runtime writes for
/// any program (a large Node service's map is tens of MB), little enough
/// that a planted file cannot exhaust memory.
pub const MAX_BYTES: u64 = 1 << 30;

/// Why a JIT file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It could not be opened (missing, a link, no permission).
    Unopenable(String),
    /// It is not a regular file (a FIFO, a device, a socket, a directory).
    NotRegular,
    /// Its owner is neither root, nor autofold's user, nor the process's.
    Owner(u32),
    /// It is larger than [`MAX_BYTES`].
    TooLarge(u64),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unopenable(why) => write!(f, "cannot be opened ({why})"),
            Refusal::NotRegular => f.write_str("not a regular file"),
            Refusal::Owner(uid) => write!(
                f,
                "owned by uid {uid}, not by root, this user or the profiled process's"
            ),
            Refusal::TooLarge(size) => write!(f, "{size} bytes, over the {MAX_BYTES}-byte bound"),
        }
    }
}

/// The JIT file at `path`, opened for reading if it may be trusted (see
/// the module's description; `process_uid` is the recorded process's user
/// where known), read no further than [`MAX_BYTES`]. A refusal is noted
/// once per path, except a missing file, which is no news.
pub fn open(path: &Path, process_uid: Option<u32>) -> Option<Take<File>> {
    match open_checked(path, process_uid) {
        Ok(file) => Some(file),
        Err(Refusal::Unopenable(why)) if why == "not found" => None,
        Err(refusal) => {
            note_once(path, &refusal);
            None
        }
    }
}

/// [`open`], saying why not.
pub fn open_checked(path: &Path, process_uid: Option<u32>) -> Result<Take<File>, Refusal> {
    let file = File::options()
        .read(true)
        // A FIFO would block the open itself; a link is never followed.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Refusal::Unopenable(open_error(&e)))?;
    let meta = file
        .metadata()
        .map_err(|e| Refusal::Unopenable(e.to_string()))?;
    if !meta.file_type().is_file() {
        return Err(Refusal::NotRegular);
    }
    if !owner_allowed(meta.uid(), process_uid) {
        return Err(Refusal::Owner(meta.uid()));
    }
    if meta.len() > MAX_BYTES {
        return Err(Refusal::TooLarge(meta.len()));
    }
    // The file may still grow while it is read: the bound holds anyway.
    Ok(file.take(MAX_BYTES))
}

/// Whether a JIT file owned by `uid` may be read: root's, autofold's
/// user's, or the recorded process's user's.
pub fn owner_allowed(uid: u32, process_uid: Option<u32>) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    uid == 0 || uid == me || Some(uid) == process_uid
}

/// The user that owns process `pid`, while it runs.
pub fn process_uid(pid: i32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}"))
        .ok()
        .map(|m| m.uid())
}

/// An open error in a few words: `ELOOP` is what a link gives under
/// `O_NOFOLLOW`.
fn open_error(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ELOOP) => "a symbolic link".into(),
        Some(libc::ENOENT) => "not found".into(),
        _ => error.to_string(),
    }
}

/// Notes `refusal` of `path`, once per path in this run.
fn note_once(path: &Path, refusal: &Refusal) {
    static NOTED: Mutex<Option<FxHashSet<std::path::PathBuf>>> = Mutex::new(None);
    let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
    if noted.get_or_insert_default().insert(path.to_owned()) {
        note(format!("{}: JIT names not read: {refusal}", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn uid_of_nobody() -> u32 {
        65534
    }

    #[test]
    fn a_regular_file_of_this_user_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        std::fs::write(&path, "10 4 f\n").unwrap();
        let mut text = String::new();
        open_checked(&path, None)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "10 4 f\n");
    }

    #[test]
    fn a_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        assert_eq!(
            open_checked(&path, None).unwrap_err(),
            Refusal::Unopenable("a symbolic link".into())
        );
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert_eq!(open_checked(&path, None).unwrap_err(), Refusal::NotRegular);
    }

    #[test]
    fn a_device_or_directory_is_refused() {
        assert_eq!(
            open_checked(Path::new("/dev/zero"), None).unwrap_err(),
            Refusal::NotRegular
        );
        assert_eq!(
            open_checked(Path::new("/tmp"), None).unwrap_err(),
            Refusal::NotRegular
        );
    }

    #[test]
    fn a_file_over_the_bound_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jit-1.dump");
        // Sparse: no disk is used.
        File::create(&path).unwrap().set_len(MAX_BYTES + 1).unwrap();
        assert_eq!(
            open_checked(&path, None).unwrap_err(),
            Refusal::TooLarge(MAX_BYTES + 1)
        );
    }

    #[test]
    fn owners_allowed_are_root_this_user_and_the_process_user() {
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        assert!(owner_allowed(0, None));
        assert!(owner_allowed(me, None));
        let other = if me == 4242 { 4243 } else { 4242 };
        assert!(!owner_allowed(other, None));
        assert!(owner_allowed(other, Some(other)));
        assert!(!owner_allowed(other, Some(other + 1)));
    }

    /// Needs root to give the file away (CI runs as root).
    #[test]
    fn another_users_file_is_refused() {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "this test gives a file to another user: run it as root"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"10 4 SPOOFED\n").unwrap();
        std::os::unix::fs::chown(&path, Some(uid_of_nobody()), None).unwrap();
        assert_eq!(
            open_checked(&path, None).unwrap_err(),
            Refusal::Owner(uid_of_nobody())
        );
        assert!(open_checked(&path, Some(uid_of_nobody())).is_ok());
    }
}
