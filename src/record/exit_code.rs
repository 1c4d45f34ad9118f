//! autofold's exit code when it records a command, as a shell's (and as
//! `env`, `nice`, `timeout` give it): 127 for a command not found, 126 for
//! one that cannot be run (a directory, a file without execute
//! permission), and the command's own code, passed on when it failed, even
//! too briefly to be sampled. Any other error exits 1.
//!
//! The command is checked before anything starts ([`check_command`]), the
//! way `execvp` searches `PATH`; what `exec` itself refuses later (a
//! missing interpreter) is mapped the same way ([`exec_error`] for the
//! sampler, [`exec_failed`] for what `perf record` says).

use std::ffi::{CString, OsStr};
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// The exit code for a command that is not found.
pub const NOT_FOUND: u8 = 127;

/// The exit code for a command that is found but cannot be run.
pub const CANNOT_RUN: u8 = 126;

/// An error after which autofold exits with `code` rather than 1.
#[derive(Debug)]
pub struct Exit {
    code: u8,
    message: String,
    /// Whether `code` is the profiled command's own (which
    /// `--ignore-status` ignores).
    commands_own: bool,
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

impl Exit {
    fn new(code: u8, message: String) -> Self {
        Self {
            code,
            message,
            commands_own: false,
        }
    }
}

/// autofold's exit code after `error`: the code of an [`Exit`] in its
/// chain, else 1.
pub fn code_of_error(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Exit>())
        .map_or(1, |exit| exit.code)
}

/// The exit code of a command that ended with `status`: its own, or 128
/// plus the signal that killed it, as a shell says it.
pub fn code_of(status: ExitStatus) -> u8 {
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    code.clamp(0, 255) as u8
}

/// The error `message` for a recording that holds no samples: it exits
/// with the command's code when the command failed (`status`), else 1.
pub fn no_samples(status: Option<ExitStatus>, message: String) -> anyhow::Error {
    match status {
        Some(status) if !status.success() => {
            let code = code_of(status);
            anyhow::Error::new(Exit {
                code,
                message: format!("{message}; the command exited with code {code}"),
                commands_own: true,
            })
        }
        _ => anyhow::Error::msg(message),
    }
}

/// `error` with the profiled command's exit code left out (for
/// `--ignore-status`): it exits 1 instead; 127 and 126 stay.
pub fn ignoring_status(error: anyhow::Error) -> anyhow::Error {
    match error.downcast::<Exit>() {
        Ok(exit) if exit.commands_own => anyhow::Error::msg(exit.message),
        Ok(exit) => exit.into(),
        Err(error) => error,
    }
}

/// Fails, with 127 or 126 as a shell would, unless `program` names a file
/// that can be executed: a path when it holds a slash, else the first
/// executable of that name in a `PATH` directory.
pub fn check_command(program: &OsStr) -> Result<(), Exit> {
    let shown = Path::new(program).display();
    if program.is_empty() {
        return Err(Exit::new(NOT_FOUND, "command not found: \"\"".into()));
    }
    if program.as_bytes().contains(&b'/') {
        return match why_not_runnable(Path::new(program)) {
            None => Ok(()),
            Some(Unrunnable::Missing) => {
                Err(Exit::new(NOT_FOUND, format!("command not found: {shown}")))
            }
            Some(why) => Err(why.exit(Path::new(program))),
        };
    }
    let mut refused = None;
    for dir in search_path() {
        let candidate = dir.join(program);
        match why_not_runnable(&candidate) {
            None => return Ok(()),
            Some(Unrunnable::Missing) => {}
            // As execvp: remembered, and the search goes on.
            Some(why) => refused = refused.or(Some((candidate, why))),
        }
    }
    match refused {
        Some((candidate, why)) => Err(why.exit(&candidate)),
        None => Err(Exit::new(NOT_FOUND, format!("command not found: {shown}"))),
    }
}

/// The error of an `exec` of `program` that failed with `error` after the
/// checks passed: 127 when something it needs is missing (an interpreter,
/// the dynamic loader), 126 otherwise.
pub fn exec_error(program: &OsStr, error: &io::Error) -> anyhow::Error {
    let missing = error.kind() == io::ErrorKind::NotFound;
    exec_failed(program, &error.to_string(), missing)
}

/// The error of an `exec` of `program` refused for `reason`: 127 when
/// something was `missing`, else 126.
pub fn exec_failed(program: &OsStr, reason: &str, missing: bool) -> anyhow::Error {
    let code = if missing { NOT_FOUND } else { CANNOT_RUN };
    let shown = Path::new(program).display();
    Exit::new(code, format!("cannot run {shown}: {reason}")).into()
}

/// Why a path cannot be executed.
enum Unrunnable {
    Missing,
    Directory,
    NotExecutable,
}

impl Unrunnable {
    /// The error for `path`, which cannot be run for this reason.
    fn exit(self, path: &Path) -> Exit {
        let shown = path.display();
        let message = match self {
            Unrunnable::Missing => format!("command not found: {shown}"),
            Unrunnable::Directory => format!("cannot run {shown}: {shown} is a directory"),
            Unrunnable::NotExecutable => format!(
                "cannot run {shown}: it is not executable (`chmod +x {shown}`, or name its interpreter first)"
            ),
        };
        let code = match self {
            Unrunnable::Missing => NOT_FOUND,
            _ => CANNOT_RUN,
        };
        Exit::new(code, message)
    }
}

/// Why `path` cannot be executed by this process, or `None` if it can.
fn why_not_runnable(path: &Path) -> Option<Unrunnable> {
    let Ok(metadata) = path.metadata() else {
        return Some(Unrunnable::Missing);
    };
    if metadata.is_dir() {
        return Some(Unrunnable::Directory);
    }
    if !metadata.is_file() || !executable(path) {
        return Some(Unrunnable::NotExecutable);
    }
    None
}

/// Whether this process may execute `path` (its permission bits, root's
/// rights and `noexec` mounts included).
fn executable(path: &Path) -> bool {
    let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access reads a NUL-terminated path that outlives the call.
    unsafe { libc::access(path.as_ptr(), libc::X_OK) == 0 }
}

/// The directories `execvp` searches: `PATH`'s (an empty entry is the
/// current directory), or its default when `PATH` is unset.
fn search_path() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    std::env::split_paths(&path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(program: &str) -> Option<u8> {
        check_command(OsStr::new(program)).err().map(|e| e.code)
    }

    #[test]
    fn a_program_on_path_or_by_path_passes() {
        assert_eq!(code("sh"), None);
        assert_eq!(code("/bin/sh"), None);
    }

    #[test]
    fn a_missing_command_is_127() {
        assert_eq!(code("no-such-command-anywhere"), Some(NOT_FOUND));
        assert_eq!(code("./no-such-program"), Some(NOT_FOUND));
        assert_eq!(code(""), Some(NOT_FOUND));
    }

    #[test]
    fn a_directory_is_126_and_said_so() {
        let error = check_command(OsStr::new("/")).unwrap_err();
        assert_eq!(error.code, CANNOT_RUN);
        assert_eq!(error.to_string(), "cannot run /: / is a directory");
    }

    #[test]
    fn a_file_without_execute_permission_is_126() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let error = check_command(file.as_os_str()).unwrap_err();
        // Root too: executing needs at least one execute bit.
        assert_eq!(error.code, CANNOT_RUN);
        assert!(error.to_string().contains("not executable"), "{error}");
    }

    #[test]
    fn the_commands_own_code_goes_unless_ignored() {
        use std::os::unix::process::ExitStatusExt;
        let failed = ExitStatus::from_raw(3 << 8);
        let error = no_samples(Some(failed), "recorded no samples".into());
        assert_eq!(code_of_error(&error), 3);
        assert_eq!(code_of_error(&ignoring_status(error)), 1);
        let ok = no_samples(Some(ExitStatus::from_raw(0)), "none".into());
        assert_eq!(code_of_error(&ok), 1);
        let killed = ExitStatus::from_raw(libc::SIGKILL);
        assert_eq!(code_of(killed), 128 + 9);
    }
}
