//! autofold's command line: parse arguments, get a profile (read it, or
//! record it with perf), run the engine, export what was asked for.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, FoldArgs, ManArgs, ReportArgs, ReportFormat};
use autofold::completions::completion_script;
use autofold::engine::analyse;
use autofold::input::read_profile;
use autofold::man::{write_man_page, write_man_pages};
use autofold::output::{export, write_stdout};
use autofold::pipeline::{exit_code_of, record_and_fold};

fn main() -> ExitCode {
    exit_code_of(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Fold(args) => fold(args),
        Command::Report(args) => report(args),
        Command::Record(args) => record_and_fold(&args.target(), &args.profiling),
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
