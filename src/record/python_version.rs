//! Which CPython a command or a process runs: CPython 3.12 and later name
//! their Python functions to perf (a perf map, `PYTHONPERFSUPPORT`);
//! earlier ones do not, so `autofold record` takes those through py-spy
//! ([`super::py_spy`]).
//!
//! The version is read from the program's file name where it says it
//! (`python3.11`, and for `--pid` the executable `/proc/PID/exe` links to,
//! links resolved: `/usr/bin/python3.11`), else asked of the interpreter
//! itself (`python -E -S -c …`: no site packages, no `PYTHON*` variables,
//! tens of milliseconds), which holds for `python`, `python3`, a venv's
//! `python` and pyenv's shims alike. See docs/RECORD.md.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::record::jit_setup;

/// A CPython version, major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PythonVersion {
    /// `3` in 3.11.
    pub major: u32,
    /// `11` in 3.11.
    pub minor: u32,
}

impl PythonVersion {
    /// Whether this CPython can name its Python functions to perf: 3.12
    /// brought its perf trampolines (`PYTHONPERFSUPPORT`).
    pub fn names_frames_to_perf(self) -> bool {
        (self.major, self.minor) >= (3, 12)
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A Python interpreter a recording would run or attach to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    /// The program's file name, as notes say it (`python3.11`).
    pub program: String,
    /// Its version.
    pub version: PythonVersion,
}

/// How long the interpreter may take to say its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The Python `command` runs (past `env`), when its program is a Python
/// interpreter by name and its version can be told; `None` otherwise.
pub fn python_of_command(command: &[OsString]) -> Option<Python> {
    let program = command.get(jit_setup::program_index(command)?)?;
    python_at(Path::new(program))
}

/// The Python process `pid` runs, when its executable is a Python
/// interpreter by name and its version can be told.
pub fn python_of_pid(pid: u32) -> Option<Python> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    python_at(&exe)
}

/// The Python interpreter at `program` (a path or a name on `PATH`).
fn python_at(program: &Path) -> Option<Python> {
    let name = file_name(program);
    if !is_python_name(&name) {
        return None;
    }
    let version = version_in_name(&name)
        .or_else(|| version_in_name(&file_name(&std::fs::canonicalize(program).ok()?)))
        .or_else(|| version_by_running(program.as_os_str()))?;
    Some(Python {
        program: name,
        version,
    })
}

/// Whether a file name is a Python interpreter's: `python`, `python3`,
/// `python2`, `python3.11`.
pub fn is_python_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("python") else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('.') {
        None => rest.is_empty() || digits(rest),
        Some((major, minor)) => digits(major) && digits(minor),
    }
}

/// The version a file name says: `python3.11` is 3.11; `python3` says
/// none.
fn version_in_name(name: &str) -> Option<PythonVersion> {
    let (major, minor) = name.strip_prefix("python")?.split_once('.')?;
    Some(PythonVersion {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}

/// The version the interpreter `program` prints when asked; `None` when it
/// cannot be run, fails, or says nothing in time.
fn version_by_running(program: &OsStr) -> Option<PythonVersion> {
    // Python 2 and 3 alike; `-E -S`: no PYTHON* variables, no site.
    let script = "import sys; sys.stdout.write('%d.%d' % sys.version_info[:2])";
    let mut child = Command::new(program)
        .args(["-E", "-S", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    while child.try_wait().ok()?.is_none() {
        if started.elapsed() > VERSION_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().ok()?;
    let printed = String::from_utf8(output.stdout).ok()?;
    version_in_name(&format!("python{}", printed.trim()))
}

/// The last component of a path, as text.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// For `--pid` of a CPython 3.12 or later that was started without perf
/// support (it writes no `/tmp/perf-PID.map`), the note that says its
/// Python functions will go unnamed and how to start it so they are not:
/// perf support cannot be turned on from outside a running interpreter.
pub fn attach_note(pid: u32) -> Option<String> {
    let python = python_of_pid(pid)?;
    let has_map = std::path::Path::new(&format!("/tmp/perf-{pid}.map")).exists();
    (python.version.names_frames_to_perf() && !has_map).then(|| {
        format!(
            "pid {pid} runs CPython {} without perf support: its Python functions go unnamed; start it with PYTHONPERFSUPPORT=1 (or `{} -X perf`), or record it with `autofold record -- {} …`",
            python.version, python.program, python.program
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &str) -> Vec<OsString> {
        words.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn interpreters_by_name() {
        for name in ["python", "python3", "python2", "python3.11", "python3.13"] {
            assert!(is_python_name(name), "{name}");
        }
        for name in [
            "pythonw.exe",
            "python3-config",
            "python3.11-dbg",
            "py-spy",
            "python.",
            "ipython",
        ] {
            assert!(!is_python_name(name), "{name}");
        }
    }

    #[test]
    fn a_versioned_name_says_its_version_without_running_it() {
        let python = python_of_command(&command("env FOO=1 /nowhere/python3.11 app.py")).unwrap();
        assert_eq!(python.program, "python3.11");
        assert_eq!(
            python.version,
            PythonVersion {
                major: 3,
                minor: 11
            }
        );
        assert!(!python.version.names_frames_to_perf());
        assert!(
            PythonVersion {
                major: 3,
                minor: 12
            }
            .names_frames_to_perf()
        );
        assert!(PythonVersion { major: 4, minor: 0 }.names_frames_to_perf());
        assert_eq!(python.version.to_string(), "3.11");
    }

    #[test]
    fn other_programs_and_missing_interpreters_are_no_python() {
        assert_eq!(python_of_command(&command("node app.js")), None);
        assert_eq!(python_of_command(&command("/nowhere/python3 app.py")), None);
    }

    #[test]
    fn an_unversioned_interpreter_is_asked() {
        // The shell says what a Python would: the version comes from what
        // the program prints.
        let dir = tempfile::tempdir().unwrap();
        let python = dir.path().join("python3");
        std::fs::write(&python, "#!/bin/sh\nprintf 3.9\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = python_of_command(&[python.into_os_string(), "app.py".into()]).unwrap();
        assert_eq!(found.version, PythonVersion { major: 3, minor: 9 });
    }
}
