//! CPython before 3.12 recorded through py-spy: such an interpreter cannot
//! name its Python functions to perf (no perf trampolines, no perf map), so
//! perf events see only its eval loop. py-spy reads the interpreter's own
//! frames from its memory instead; `autofold record` runs it where it is
//! installed and reads its raw output with the py-spy reader
//! (`input::py_spy`), so folding, the report and the outputs are the same.
//!
//! autofold starts the command itself (as its sampler does: exec errors,
//! exit code, Ctrl-C) and runs `py-spy record --pid` on it, rather than
//! `py-spy record -- CMD`: py-spy exits 0 whatever its command's exit code
//! and writes its messages to the standard output it shares with the
//! command. py-spy attaches as the interpreter starts (it retries for a
//! moment, as it does with a command of its own), so the first
//! milliseconds of the command are not recorded.
//!
//! py-spy reads another process's memory, which takes ptrace's permission:
//! root has it; another user needs `kernel.yama.ptrace_scope` at 0 (or
//! `CAP_SYS_PTRACE`), else py-spy's refusal is autofold's one-line error.
//! See docs/RECORD.md.

use std::ffi::OsString;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tempfile::TempDir;

use crate::console::note;
use crate::input::{ReadOptions, Source, read_from};
use crate::profile::ReadProfile;
use crate::record::exit_code::{check_command, no_samples};
use crate::record::python_version::{Python, python_of_command, python_of_pid};
use crate::record::sampler::{CommandStop, launch, say_if_interrupted};
use crate::record::{RecordOptions, Recording, Target, command_line, perf::interrupted};

/// How often the command is checked for having exited.
const POLL: Duration = Duration::from_millis(20);

/// What to install for py-spy, in notes.
const INSTALL: &str = "`pip install py-spy` (or set $PYSPY to its path)";

/// py-spy: `$PYSPY` if set, else `py-spy` on `PATH`; `None` when neither.
pub fn py_spy_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PYSPY") {
        return Some(PathBuf::from(path));
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("py-spy"))
        .find(|candidate| candidate.is_file())
}

/// The Python `target` runs, when it is a CPython that cannot name its
/// functions to perf (before 3.12) and runtimes are set up (no
/// `--no-jit-setup`); `None` otherwise.
pub fn python_without_perf_names(target: &Target, options: &RecordOptions) -> Option<Python> {
    if !options.jit_setup {
        return None;
    }
    let python = match target {
        Target::Command(command) => python_of_command(command),
        Target::Pid(pid) => python_of_pid(*pid),
        Target::PerfData(_) => None,
    }?;
    (!python.version.names_frames_to_perf()).then_some(python)
}

/// The py-spy to record `python` through: where it is installed and
/// autofold records by itself (no `--perf`, `--perf-script`,
/// `--keep-perf-data`, LBR). Which way the recording goes is said in one
/// note.
pub fn py_spy_for(python: &Python, options: &RecordOptions) -> Option<PathBuf> {
    let why = format!(
        "{} is CPython {}, which cannot name its Python functions to perf (3.12 and later can)",
        python.program, python.version
    );
    if options.records_with_perf() {
        note(format!(
            "{why}: recording with perf as asked, so they go unnamed (without perf's options autofold records through py-spy)"
        ));
        return None;
    }
    let Some(py_spy) = py_spy_binary() else {
        note(format!(
            "{why}: recording with perf events, so they go unnamed; install py-spy ({INSTALL}) and autofold records them through it"
        ));
        return None;
    };
    note(format!(
        "{why}: recording through py-spy ({}; --no-jit-setup to record with perf events)",
        py_spy.display()
    ));
    Some(py_spy)
}

/// Records `target` (a command, or a running process until Ctrl-C or its
/// exit) through `py_spy`.
pub fn record(target: &Target, py_spy: &Path, options: &RecordOptions) -> Result<Recording> {
    match target {
        Target::Command(command) => record_command(command, py_spy, options),
        Target::Pid(pid) => record_pid(*pid, py_spy, options),
        Target::PerfData(path) => bail!(
            "{}: py-spy records a Python program, not a perf.data",
            path.display()
        ),
    }
}

/// Runs `command` and records it through py-spy until it exits.
fn record_command(
    command: &[OsString],
    py_spy: &Path,
    options: &RecordOptions,
) -> Result<Recording> {
    check_command(&command[0])?;
    // Ctrl-C from here on is noted, not fatal: the command and py-spy stop,
    // autofold renders.
    interrupted();
    let mut child = launch::hold(command, &[])?.release()?;
    let spy = PySpyRun::start(py_spy, child.id(), options.freq)?;
    let mut stop = CommandStop::default();
    while !stop.is_over(&mut child)? {
        std::thread::sleep(POLL);
    }
    let status = child.wait().context("waiting for the command")?;
    say_if_interrupted(status.signal() == Some(libc::SIGINT));
    let name = command_line(command);
    let profile = spy
        .finish(&name)
        .map_err(|error| no_samples(Some(status), format!("{error:#}")))?;
    Ok(Recording {
        profile,
        status: Some(status),
    })
}

/// Records process `pid` through py-spy until Ctrl-C or until it exits.
fn record_pid(pid: u32, py_spy: &Path, options: &RecordOptions) -> Result<Recording> {
    interrupted();
    let spy = PySpyRun::start(py_spy, pid, options.freq)?;
    eprintln!("autofold: recording process {pid}; press Ctrl-C to stop");
    let profile = spy.finish(&format!("pid {pid}"))?;
    say_if_interrupted(false);
    Ok(Recording {
        profile,
        status: None,
    })
}

/// A running `py-spy record --pid`, writing its raw output and its
/// messages into a directory of its own.
struct PySpyRun {
    child: Child,
    dir: TempDir,
    pid: u32,
}

impl PySpyRun {
    /// Starts py-spy on process `pid` at `freq` samples a second: raw
    /// folded stacks, native frames kept (`--native`), full file names (to
    /// tell the program's files from the standard library's), each Python
    /// frame on its function's first line (`--function`: where the function
    /// is written, its source location).
    fn start(py_spy: &Path, pid: u32, freq: u32) -> Result<PySpyRun> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory for py-spy")?;
        let messages = File::create(dir.path().join("messages"))
            .context("cannot create a file for py-spy's messages")?;
        let child = Command::new(py_spy)
            .args(["record", "--format", "raw", "--native", "--full-filenames"])
            .arg("--function")
            .args(["--rate", &freq.to_string(), "--pid", &pid.to_string()])
            .arg("--output")
            .arg(dir.path().join("stacks.folded"))
            .stdin(Stdio::null())
            .stdout(messages.try_clone()?)
            .stderr(messages)
            .spawn()
            .map_err(|error| anyhow!("cannot run py-spy at {}: {error}", py_spy.display()))?;
        Ok(PySpyRun { child, dir, pid })
    }

    /// Waits for py-spy to end, and reads what it recorded (named `name`
    /// in messages and the report's inputs); py-spy's own error when it
    /// recorded nothing.
    fn finish(mut self, name: &str) -> Result<ReadProfile> {
        let status = self.child.wait().context("waiting for py-spy")?;
        let stacks = self.dir.path().join("stacks.folded");
        if !status.success() || !stacks.exists() {
            let messages = std::fs::read_to_string(self.dir.path().join("messages"));
            bail!("{}", failure(self.pid, &messages.unwrap_or_default(), name));
        }
        profile_of(&stacks, name)
    }
}

/// The stacks py-spy wrote to `stacks`, read as any py-spy file is, named
/// `name` in the report's inputs.
fn profile_of(stacks: &Path, name: &str) -> Result<ReadProfile> {
    let source = Source::File(stacks.to_path_buf());
    let file = File::open(stacks).context("cannot open py-spy's output")?;
    let read = read_from(
        Box::new(BufReader::new(file)),
        &source,
        &ReadOptions::default(),
        0,
    )
    .with_context(|| format!("reading py-spy's recording of {name}"))?;
    let mut profile = read.finish();
    for input in &mut profile.profile.inputs {
        input.source = name.to_owned();
    }
    Ok(profile)
}

/// One line for a py-spy that recorded nothing: its own error (its last
/// `Error:` line, else its last line), and for a refusal, what would let
/// it read the process.
fn failure(pid: u32, messages: &str, name: &str) -> String {
    let lines: Vec<&str> = messages
        .lines()
        .map(|line| line.trim_start_matches("py-spy> ").trim())
        .filter(|line| !line.is_empty())
        .collect();
    let said = lines
        .iter()
        .rev()
        .find(|line| line.starts_with("Error:"))
        .or(lines.last())
        .map_or("it said nothing", |line| {
            line.trim_start_matches("Error:").trim()
        });
    let refused = ["permission", "ptrace", "not permitted"]
        .iter()
        .any(|word| said.to_lowercase().contains(word));
    let advice = match refused {
        true => {
            "; py-spy reads the process's memory through ptrace: run autofold as root, or allow it with `sysctl kernel.yama.ptrace_scope=0`, or record with perf events (--no-jit-setup)"
        }
        false => "",
    };
    format!("py-spy recorded nothing of {name} (process {pid}): {said}{advice}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_spys_error_is_one_line_with_advice_for_a_refusal() {
        let messages = "py-spy> Sampling process 100 times a second\nError: Permission Denied: Try running again with elevated permissions\n";
        let line = failure(12, messages, "pid 12");
        assert!(
            line.starts_with("py-spy recorded nothing of pid 12 (process 12): Permission Denied"),
            "{line}"
        );
        assert!(line.contains("ptrace_scope=0"), "{line}");
        assert!(!line.contains('\n'), "{line}");
        let line = failure(
            12,
            "Error: Failed to find python version from target process\n",
            "x.py",
        );
        assert!(
            line.ends_with("Failed to find python version from target process"),
            "{line}"
        );
        assert!(failure(3, "", "x").ends_with("it said nothing"));
    }
}
