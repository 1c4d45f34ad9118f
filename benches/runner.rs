//! Timing whole commands for the benches: each tool run in turn, wall time
//! and the child's peak resident memory (from `wait4`), medians.

#![allow(dead_code)]

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One tool and how to invoke it.
pub struct Tool {
    pub name: &'static str,
    pub program: PathBuf,
    /// Arguments, the input and output paths included where the tool takes them.
    pub args: Vec<OsString>,
    /// File standard output goes to (for tools that only write there).
    pub stdout: Option<PathBuf>,
    /// File standard error goes to, shown when the tool fails.
    pub stderr: PathBuf,
    /// Files the tool writes: removed before each run, outside the timing,
    /// as a file standard output goes to is emptied before it (replacing or
    /// truncating an earlier run's output frees its pages).
    pub outputs: Vec<PathBuf>,
}

impl Tool {
    /// A tool whose outputs are named in its arguments, its standard error
    /// kept in `dir` under its name (shown if it fails).
    #[allow(dead_code)] // the fold bench builds its tools itself
    pub fn in_dir(name: &'static str, program: PathBuf, args: Vec<OsString>, dir: &Path) -> Tool {
        Tool {
            name,
            program,
            args,
            stdout: None,
            stderr: dir.join(format!("{}.err", name.replace([' ', ','], "_"))),
            outputs: Vec::new(),
        }
    }
}

/// One measured run.
#[derive(Clone, Copy)]
pub struct Sample {
    pub seconds: f64,
    pub max_rss_bytes: u64,
    /// User and system CPU time of the tool and the children it waited for.
    pub cpu_seconds: f64,
}

/// The number in environment variable `name`, or `default` when unset.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> io::Result<T> {
    match env::var(name) {
        Ok(value) => value.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}={value:?} is not a number"),
            )
        }),
        Err(_) => Ok(default),
    }
}

/// Runs every tool `runs` times, taking turns; `samples[tool][run]`.
pub fn measure(tools: &[Tool], runs: usize) -> io::Result<Vec<Vec<Sample>>> {
    let mut samples = vec![Vec::with_capacity(runs); tools.len()];
    for run in 1..=runs {
        for (tool, samples) in tools.iter().zip(&mut samples) {
            let sample = run_once(tool)?;
            eprintln!(
                "  run {run}/{runs} {:<28} {:>7.2} s {:>8.1} MB",
                tool.name,
                sample.seconds,
                mb(sample.max_rss_bytes)
            );
            samples.push(sample);
        }
    }
    Ok(samples)
}

/// Runs `tool` once; its wall time and peak RSS.
pub fn run_once(tool: &Tool) -> io::Result<Sample> {
    // Every run starts with nothing left to write back: the kernel flushing
    // an earlier run's output (or the generated input) would take the CPU
    // from whichever tool runs next.
    // SAFETY: sync takes no arguments and cannot fail.
    for output in &tool.outputs {
        let _ = fs::remove_file(output);
    }
    unsafe { libc::sync() };
    let stdout = match &tool.stdout {
        Some(path) => Stdio::from(File::create(path)?),
        None => Stdio::null(),
    };
    let stderr = File::create(&tool.stderr)?;
    let mut command = Command::new(&tool.program);
    command
        .args(&tool.args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    force_fork(&mut command);
    let started = Instant::now();
    let child = command.spawn().map_err(|err| describe(tool, err))?;
    let (status, max_rss_bytes, cpu_seconds) = wait_with_rusage(child.id())?;
    let seconds = started.elapsed().as_secs_f64();
    if !exited_ok(status) {
        let errors = fs::read_to_string(&tool.stderr).unwrap_or_default();
        return Err(io::Error::other(format!(
            "{} failed (wait status {status}):\n{errors}",
            tool.name
        )));
    }
    Ok(Sample {
        seconds,
        max_rss_bytes,
        cpu_seconds,
    })
}

/// Makes `command` start its child with fork rather than `posix_spawn`.
///
/// `posix_spawn` shares this process's memory until the exec, and Linux then
/// counts this process's peak RSS into the child's `ru_maxrss`. After a
/// fork, the child's count starts from this process's current RSS instead,
/// which is small: the profile was streamed to disk.
fn force_fork(command: &mut Command) {
    // SAFETY: the hook does nothing, so it is async-signal-safe; having one
    // at all is what makes the standard library fork.
    unsafe {
        command.pre_exec(|| Ok(()));
    }
}

/// Adds the tool's name to a spawn error.
fn describe(tool: &Tool, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot run {}: {err}", tool.program.display()),
    )
}

/// Waits for child `pid`; its wait status, peak RSS in bytes and CPU
/// seconds (its own and its waited-for children's).
///
/// Reaps the child with `wait4`, so the `Child` handle must not be waited on
/// afterwards.
fn wait_with_rusage(pid: u32) -> io::Result<(i32, u64, f64)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the call.
        let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if reaped >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    // Linux reports ru_maxrss in KiB.
    Ok((status, usage.ru_maxrss.max(0) as u64 * 1024, cpu))
}

/// Whether a wait status is a normal exit with code 0.
fn exited_ok(status: i32) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

/// `name` on PATH, else in ~/.cargo/bin (where `cargo install` puts it).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    let cargo_bin = env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo/bin"));
    env::split_paths(&path)
        .chain(cargo_bin)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The per-field medians of `samples` (not empty).
pub fn median(samples: &[Sample]) -> Sample {
    Sample {
        seconds: median_of(samples.iter().map(|s| s.seconds).collect()),
        max_rss_bytes: median_of(samples.iter().map(|s| s.max_rss_bytes as f64).collect()) as u64,
        cpu_seconds: median_of(samples.iter().map(|s| s.cpu_seconds).collect()),
    }
}

/// The median of `values` (not empty); the mean of the middle two when even.
fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Bytes in (decimal) megabytes.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
