//! autofold's command line: parse arguments, get a profile (read it, or
//! record it with perf), run the engine, export what was asked for.

use std::io;
use std::process::{ExitCode, ExitStatus};

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, DiffArgs, FoldArgs, RecordArgs, ReportArgs, ReportFormat};
use autofold::engine::{analyse, analyse_together};
use autofold::input::{Source, read_profile};
use autofold::output::diff::render_diff;
use autofold::output::diff_report::DiffReport;
use autofold::output::{export, write_atomically, write_stdout};
use autofold::record::record;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("autofold: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Fold(args) => fold(args),
        Command::Report(args) => report(args),
        Command::Record(args) => record_command(args),
        Command::Diff(args) => diff(args),
    }
}

fn fold(args: FoldArgs) -> Result<ExitCode> {
    let sources = args.input.sources();
    let analysis = analyse(read_profile(&sources)?, &args.input.engine_options()?);
    export(&analysis, &args.exports(), &sources)?;
    Ok(ExitCode::SUCCESS)
}

fn report(args: ReportArgs) -> Result<ExitCode> {
    let analysis = analyse(
        read_profile(&args.input.sources())?,
        &args.input.engine_options()?,
    );
    write_stdout(|out| match args.format {
        ReportFormat::Text => analysis.report.write_text(out),
        ReportFormat::Json => analysis.report.write_json(out),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn record_command(args: RecordArgs) -> Result<ExitCode> {
    let recording = record(&args.target(), &args.record_options())?;
    let analysis = analyse(recording.profile, &args.engine_options()?);
    export(&analysis, &args.exports(), &args.inputs())?;
    analysis.report.write_text(&mut io::stderr())?;
    Ok(exit_code(recording.status, args.ignore_status))
}

/// Reads both sides, analyses them together, writes the differential flame
/// graph and prints the report to standard output (like `autofold report`:
/// nothing else writes there, and `--format json` can be piped to a script).
fn diff(args: DiffArgs) -> Result<ExitCode> {
    let (before, after) = args.sides()?;
    let profiles = vec![read_side(&before, "BEFORE")?, read_side(&after, "AFTER")?];
    let [before_side, after_side]: [_; 2] = analyse_together(profiles, &args.engine.options()?)
        .try_into()
        .expect("one analysis per side");
    let inputs = [before.as_slice(), after.as_slice()].concat();
    let options = args.diff_options(&before, &after);
    write_atomically(&args.output, &inputs, |out| {
        render_diff(
            &before_side,
            &after_side,
            &options,
            &args.render.options(),
            out,
        )
    })?;
    let report = DiffReport::new(&before_side, &after_side);
    write_stdout(|out| match args.format {
        ReportFormat::Text => report.write_text(out),
        ReportFormat::Json => report.write_json(out),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Reads one side of a diff; a side without samples is an error.
fn read_side(sources: &[Source], side: &str) -> Result<autofold::profile::Profile> {
    let profile = read_profile(sources)?;
    if profile.total_samples() == 0 {
        let names: Vec<String> = sources.iter().map(Source::to_string).collect();
        anyhow::bail!("{side} ({}) has no samples to compare", names.join(", "));
    }
    Ok(profile)
}

/// The profiled command's exit code, passed on unless told to ignore it.
fn exit_code(status: Option<ExitStatus>, ignore_status: bool) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(status) if !ignore_status && !status.success() => {
            let code = status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            ExitCode::from(code.clamp(1, 255) as u8)
        }
        _ => ExitCode::SUCCESS,
    }
}
