//! Turning a perf.data into a profile with `perf script`, collapsed by
//! inferno's perf collapser while it streams.

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};

use crate::input::{Source, read_perf_script};
use crate::profile::ProfileBuilder;
use crate::record::perf::{first_line, interrupted};
use crate::record::{MAX_STACK, RecordOptions};

/// Runs `perf script` on `data` and collapses its output while it streams.
pub fn perf_script(options: &RecordOptions, data: &Path) -> Result<ProfileBuilder> {
    let mut command = Command::new(&options.perf);
    command
        .arg("script")
        .arg("-i")
        .arg(data)
        .arg("-F")
        .arg("-period")
        // Symbols as they are: autofold demangles them, and keeps them to
        // tell apart functions that print alike.
        .arg("--no-demangle")
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
    let progress = crate::console::progress::post_processing();
    let reader = BufReader::with_capacity(1 << 20, progress.wrap_read(stdout));
    let source = Source::File(data.to_path_buf());
    let collapsed = read_perf_script(reader, &source, 0);
    progress.finish_and_clear();
    let status = child.wait().context("waiting for perf script")?;
    let messages = errors.join().unwrap_or_default();
    if interrupted().load(Ordering::SeqCst) && !status.success() {
        bail!("interrupted while perf script ran; nothing was written");
    }
    if !status.success() {
        bail!("perf script failed ({status}): {}", first_line(&messages));
    }
    collapsed
}
