//! autofold's command line: parse arguments, get a profile (read it, or
//! record it with perf), run the engine, export what was asked for.

use std::io;
use std::process::{ExitCode, ExitStatus};

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, FoldArgs, RecordArgs, ReportArgs, ReportFormat};
use autofold::engine::analyse;
use autofold::input::read_profile;
use autofold::output::{export, write_stdout};
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
    }
}

fn fold(args: FoldArgs) -> Result<ExitCode> {
    let sources = args.input.sources();
    let profile = read_profile(&sources, &args.input.read_options())?;
    let analysis = analyse(profile, &args.input.engine_options()?);
    export(&analysis, &args.exports(), &sources)?;
    Ok(ExitCode::SUCCESS)
}

fn report(args: ReportArgs) -> Result<ExitCode> {
    let analysis = analyse(
        read_profile(&args.input.sources(), &args.input.read_options())?,
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
