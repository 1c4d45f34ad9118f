//! `autofold record`: run a command (or attach to a process) under `perf
//! record`, then turn the recording into a profile with `perf script` and
//! inferno's perf collapser, in-process.
//!
//! This is a thin front end: what it produces is an ordinary [`Profile`] for
//! the same engine that `fold` and `report` use.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, Result, bail};

use crate::input::{Source, read_perf_script};
use crate::profile::Profile;

/// The largest user-stack dump perf can take per sample (bytes).
pub const DWARF_STACK_DUMP: u32 = 65528;

/// How deep `perf script` unwinds: far past perf's default of 127 frames.
pub const MAX_STACK: u32 = 65535;

/// How perf collects call chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallGraph {
    /// DWARF unwinding of a copied user stack: works without frame pointers.
    Dwarf,
    /// Frame pointers: cheap, needs `-C force-frame-pointers` / `-fno-omit-frame-pointer`.
    Fp,
    /// Last Branch Record (Intel hardware only).
    Lbr,
}

impl CallGraph {
    fn perf_arg(self) -> String {
        match self {
            CallGraph::Dwarf => format!("dwarf,{DWARF_STACK_DUMP}"),
            CallGraph::Fp => "fp".into(),
            CallGraph::Lbr => "lbr".into(),
        }
    }
}

/// What to profile.
#[derive(Debug, Clone)]
pub enum Target {
    /// Run this command (program and arguments) under perf.
    Command(Vec<OsString>),
    /// Attach to a running process until Ctrl-C.
    Pid(u32),
    /// Skip recording: use this existing `perf.data`.
    PerfData(PathBuf),
}

/// How to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The perf binary.
    pub perf: OsString,
    /// Samples per second.
    pub freq: u32,
    /// How call chains are collected.
    pub call_graph: CallGraph,
    /// Skip inline frames in `perf script` (much faster on big binaries).
    pub no_inline: bool,
    /// Where to keep the recording; removed after use when `None`.
    pub keep_perf_data: Option<PathBuf>,
}

/// A finished recording, turned into a profile.
#[derive(Debug)]
pub struct Recording {
    /// The collapsed stacks.
    pub profile: Profile,
    /// The profiled command's exit status, when autofold ran it.
    pub status: Option<ExitStatus>,
}

/// The perf binary: `$PERF` if set, else `perf` on `PATH`.
pub fn perf_binary() -> OsString {
    std::env::var_os("PERF").unwrap_or_else(|| "perf".into())
}

/// Records `target` and collapses the recording into a profile.
pub fn record(target: &Target, options: &RecordOptions) -> Result<Recording> {
    check_perf(&options.perf)?;
    let temp = tempfile::tempdir().context("cannot create a temporary directory for perf.data")?;
    let (data, status) = match target {
        Target::PerfData(path) => {
            std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?;
            (path.clone(), None)
        }
        Target::Command(command) => {
            check_command(&command[0])?;
            let data = temp.path().join("perf.data");
            let status = perf_record(options, &data, command_args(command))?;
            (data, Some(status))
        }
        Target::Pid(pid) => {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                bail!("no process with pid {pid} is running");
            }
            let data = temp.path().join("perf.data");
            eprintln!("autofold: recording process {pid}; press Ctrl-C to stop");
            perf_record(options, &data, vec!["--pid".into(), pid.to_string().into()])?;
            (data, None)
        }
    };
    let data = match &options.keep_perf_data {
        Some(keep) if !matches!(target, Target::PerfData(_)) => {
            move_file(&data, keep)?;
            keep.clone()
        }
        _ => data,
    };
    let profile = perf_script(options, &data)?;
    Ok(Recording { profile, status })
}

fn command_args(command: &[OsString]) -> Vec<OsString> {
    let mut args = vec![OsString::from("--")];
    args.extend(command.iter().cloned());
    args
}

/// Fails with install advice when perf cannot be run at all.
fn check_perf(perf: &OsStr) -> Result<()> {
    match Command::new(perf).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => bail!(
            "{} --version failed: {}",
            perf.to_string_lossy(),
            first_line(&String::from_utf8_lossy(&out.stderr))
        ),
        Err(_) => bail!(
            "perf not found ({}): install it (Debian: `apt-get install linux-perf`; Ubuntu: `apt-get install linux-tools-common linux-tools-$(uname -r)`) or set $PERF to its path",
            perf.to_string_lossy()
        ),
    }
}

/// Fails when the program to profile does not exist, before perf starts.
fn check_command(program: &OsStr) -> Result<()> {
    let path = Path::new(program);
    let found = if path.components().count() > 1 {
        path.is_file()
    } else {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(path).is_file()))
            .unwrap_or(false)
    };
    if !found {
        bail!("command not found: {}", path.display());
    }
    Ok(())
}

/// Runs `perf record` to completion; Ctrl-C reaches perf and the command,
/// not autofold, so perf finishes writing and autofold goes on to render.
fn perf_record(
    options: &RecordOptions,
    data: &Path,
    target_args: Vec<OsString>,
) -> Result<ExitStatus> {
    let interrupted = interrupted();
    let mut child = Command::new(&options.perf)
        .arg("record")
        .arg("-F")
        .arg(options.freq.to_string())
        .arg("--call-graph")
        .arg(options.call_graph.perf_arg())
        .arg("-o")
        .arg(data)
        .args(target_args)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", options.perf.to_string_lossy()))?;
    let stderr = forward_stderr(&mut child);
    let status = child.wait().context("waiting for perf record")?;
    let perf_messages = stderr.join().unwrap_or_default();
    let recorded = std::fs::metadata(data)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !recorded {
        bail!("{}", diagnose_record_failure(&perf_messages, status));
    }
    if interrupted.load(Ordering::SeqCst) {
        eprintln!("autofold: interrupted; rendering what perf recorded");
    }
    Ok(status)
}

/// Whether Ctrl-C was pressed; the first call installs a handler that only
/// notes it, so that perf and the command stop while autofold goes on.
fn interrupted() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&flag);
        // A handler (unlike SIG_IGN) is reset in children, so perf and the
        // command still stop on Ctrl-C.
        let _ = ctrlc::set_handler(move || seen.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

/// Copies perf's (and the command's) standard error through to ours while
/// keeping it, so a failure can be explained.
fn forward_stderr(child: &mut Child) -> JoinHandle<String> {
    let pipe = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        let mut kept = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            eprintln!("{line}");
            kept.push_str(&line);
            kept.push('\n');
        }
        kept
    })
}

/// One line that says why perf recorded nothing, and what to do.
fn diagnose_record_failure(messages: &str, status: ExitStatus) -> String {
    if messages.contains("perf_event_paranoid")
        || messages.contains("Permission denied")
        || messages.contains("not permitted")
    {
        return "perf is not permitted to record here (kernel.perf_event_paranoid); allow it with `sudo sysctl kernel.perf_event_paranoid=1`, or run as root".into();
    }
    let why = messages
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('['))
        .unwrap_or("no message");
    format!("perf record failed ({status}) and wrote no data: {why}")
}

/// Runs `perf script` on `data` and collapses its output while it streams.
fn perf_script(options: &RecordOptions, data: &Path) -> Result<Profile> {
    let mut command = Command::new(&options.perf);
    command
        .arg("script")
        .arg("-i")
        .arg(data)
        .arg("-F")
        .arg("-period")
        .arg("--max-stack")
        .arg(MAX_STACK.to_string());
    if options.no_inline {
        command.arg("--no-inline");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {} script", options.perf.to_string_lossy()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let progress = crate::progress::post_processing();
    let reader = BufReader::with_capacity(1 << 20, progress.wrap_read(stdout));
    let mut profile = Profile::new();
    let source = Source::File(data.to_path_buf());
    let collapsed = read_perf_script(reader, &source, &mut profile);
    progress.finish_and_clear();
    let status = child.wait().context("waiting for perf script")?;
    let messages = errors.join().unwrap_or_default();
    if interrupted().load(Ordering::SeqCst) && !status.success() {
        bail!("interrupted while perf script ran; nothing was written");
    }
    if !status.success() {
        bail!("perf script failed ({status}): {}", first_line(&messages));
    }
    collapsed?;
    if profile.total_samples() == 0 {
        bail!(
            "perf recorded no samples in {}: the command probably ran too briefly for -F (try a longer run or a higher --freq), or the process was idle or the pid wrong",
            data.display()
        );
    }
    Ok(profile)
}

/// Moves `from` to `to`, copying when they are on different file systems.
fn move_file(from: &Path, to: &Path) -> Result<()> {
    if std::fs::rename(from, to).is_err() {
        std::fs::copy(from, to)
            .with_context(|| format!("{}: cannot keep perf data", to.display()))?;
    }
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
}
