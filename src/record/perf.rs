//! Running `perf record`: checks before it starts, Ctrl-C while it runs, and
//! one-line explanations when it records nothing.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, Result, bail};

use crate::record::RecordOptions;
use crate::record::exit_code::exec_failed;

/// Fails with install advice when perf cannot be run at all.
pub fn check_perf(perf: &OsStr) -> Result<()> {
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

/// Runs `perf record` to completion, with `env` added to the environment
/// perf and the command it runs inherit; Ctrl-C reaches perf and the
/// command, not autofold, so perf finishes writing and autofold goes on to
/// render.
pub fn perf_record(
    options: &RecordOptions,
    data: &Path,
    target_args: Vec<OsString>,
    env: &[(OsString, OsString)],
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
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", options.perf.to_string_lossy()))?;
    let stderr = forward_stderr(&mut child);
    let status = child.wait().context("waiting for perf record")?;
    let perf_messages = stderr.join().unwrap_or_default();
    if let Some(error) = workload_failure(&perf_messages) {
        return Err(error);
    }
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
pub fn interrupted() -> Arc<AtomicBool> {
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

/// The error for perf's word that the command could not be run (`Failed
/// to collect 'cpu-clock' for the 'X' workload: REASON`, as when a script's
/// interpreter is missing), exiting as a shell would.
fn workload_failure(messages: &str) -> Option<anyhow::Error> {
    let (head, reason) = messages
        .lines()
        .find_map(|line| line.split_once("' workload: "))?;
    let (_, program) = head.rsplit_once(" the '")?;
    let missing = reason.trim() == "No such file or directory";
    Some(exec_failed(OsStr::new(program), reason.trim(), missing))
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

/// The first non-blank line of `text`.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
}
