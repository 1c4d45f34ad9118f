//! The recording pipeline that `autofold record` and `cargo autofold` share:
//! record the target, fold its cycles, write the outputs, print the report,
//! and pass the profiled command's exit code on.

use std::io;
use std::process::{ExitCode, ExitStatus};

use anyhow::Result;

use crate::cli::ProfilingArgs;
use crate::engine::analyse;
use crate::output::export;
use crate::record::exit_code::{code_of, code_of_error, ignoring_status};
use crate::record::{Target, record};
use crate::source::Source;

/// Records `target` as `args` ask, writes the flame graph and the other
/// outputs, prints the text report to standard error, and returns the exit
/// code of the profiled command (success with `--ignore-status`).
pub fn record_and_fold(target: &Target, args: &ProfilingArgs) -> Result<ExitCode> {
    let recording = record(target, &args.record_options()).map_err(|error| {
        if args.ignore_status {
            ignoring_status(error)
        } else {
            error
        }
    })?;
    let analysis = analyse(recording.profile, &args.engine_options()?);
    export(&analysis, &args.exports(), &inputs_of(target))?;
    analysis.report.write_text(&mut io::stderr())?;
    Ok(exit_code(recording.status, args.ignore_status))
}

/// The exit code of a command-line run: `result`'s, or after the error is
/// printed on one line, 1 or the code the error carries (a shell's 127 or
/// 126 for a command that could not be run, the command's own when it
/// failed unsampled: `record::exit_code`). Both binaries end through here,
/// so every error looks the same.
pub fn exit_code_of(result: Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|error| {
        eprintln!("autofold: error: {error:#}");
        ExitCode::from(code_of_error(&error))
    })
}

/// The files that outputs must never overwrite.
fn inputs_of(target: &Target) -> Vec<Source> {
    match target {
        Target::PerfData(data) => vec![Source::File(data.clone())],
        Target::Command(_) | Target::Pid(_) => Vec::new(),
    }
}

/// The profiled command's exit code, passed on unless told to ignore it.
fn exit_code(status: Option<ExitStatus>, ignore_status: bool) -> ExitCode {
    match status {
        Some(status) if !ignore_status && !status.success() => {
            ExitCode::from(code_of(status).max(1))
        }
        _ => ExitCode::SUCCESS,
    }
}
