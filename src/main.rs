//! autofold's command line: parse arguments, read the profile, run the
//! engine, write what was asked for.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, FoldArgs, ReportArgs, ReportFormat};
use autofold::engine::analyse;
use autofold::input::read_profile;
use autofold::output::{write_atomically, write_folded, write_stdout};
use autofold::render::{RenderOptions, render_svg};

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
        Command::Fold(args) => fold(args)?,
        Command::Report(args) => report(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn fold(args: FoldArgs) -> Result<()> {
    let sources = args.input.sources();
    let analysis = analyse(read_profile(&sources)?, &args.input.engine_options()?);
    if let Some(path) = &args.svg {
        let options = RenderOptions {
            title: args.title.clone(),
            ..RenderOptions::default()
        };
        write_atomically(path, &sources, |out| {
            render_svg(&analysis.folded, &analysis.report, &options, out)
        })?;
    }
    if let Some(path) = &args.report {
        write_atomically(path, &sources, |out| analysis.report.write_json(out))?;
    }
    match &args.output {
        Some(path) => write_atomically(path, &sources, |out| write_folded(&analysis.folded, out)),
        None => write_stdout(|out| write_folded(&analysis.folded, out)),
    }
}

fn report(args: ReportArgs) -> Result<()> {
    let analysis = analyse(
        read_profile(&args.input.sources())?,
        &args.input.engine_options()?,
    );
    write_stdout(|out| match args.format {
        ReportFormat::Text => analysis.report.write_text(out),
        ReportFormat::Json => analysis.report.write_json(out),
    })
}
