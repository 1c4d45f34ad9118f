//! autofold's command line: parse arguments, get a profile (read it, or
//! record it with perf), run the engine, export what was asked for.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, DiffArgs, FoldArgs, ManArgs, ReportArgs, ReportFormat};
use autofold::completions::completion_script;
use autofold::engine::{analyse, analyse_together};
use autofold::input::{ReadOptions, Source, read_profile};
use autofold::man::{write_man_page, write_man_pages};
use autofold::output::diff::render_diff;
use autofold::output::diff_report::DiffReport;
use autofold::output::{export, write_atomically, write_stdout};
use autofold::pipeline::{exit_code_of, record_and_fold};
use autofold::profile::Profile;

fn main() -> ExitCode {
    exit_code_of(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Fold(args) => fold(args),
        Command::Report(args) => report(args),
        Command::Record(args) => record_and_fold(&args.target(), &args.profiling),
        Command::Diff(args) => diff(args),
        Command::Completions(args) => {
            write_stdout(|out| out.write_all(&completion_script(args.shell)))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => man(args),
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

/// Reads both sides, analyses them together, writes the differential flame
/// graph and prints the report to standard output (like `autofold report`:
/// nothing else writes there, and `--format json` can be piped to a script).
fn diff(args: DiffArgs) -> Result<ExitCode> {
    let (before, after) = args.sides()?;
    let read = args.read.options();
    let profiles = vec![
        read_side(&before, &read, "BEFORE")?,
        read_side(&after, &read, "AFTER")?,
    ];
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
fn read_side(sources: &[Source], options: &ReadOptions, side: &str) -> Result<Profile> {
    let profile = read_profile(sources, options)?;
    if profile.total_samples() == 0 {
        let names: Vec<String> = sources.iter().map(Source::to_string).collect();
        anyhow::bail!("{side} ({}) has no samples to compare", names.join(", "));
    }
    Ok(profile)
}

fn man(args: ManArgs) -> Result<ExitCode> {
    match &args.out {
        Some(dir) => {
            for page in write_man_pages(dir)? {
                eprintln!("autofold: wrote {}", page.display());
            }
        }
        None => write_stdout(write_man_page)?,
    }
    Ok(ExitCode::SUCCESS)
}
