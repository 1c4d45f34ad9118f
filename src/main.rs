//! autofold's command line: parse arguments, get a profile (read it, or
//! record it), find and fold its recursion cycles, write what was asked for.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use autofold::cli::{Cli, Command, DiffArgs, FoldArgs, ReportArgs};
use autofold::engine::{analyse, analyse_together};
use autofold::input::{read_profile, read_sides};
use autofold::output::diff::write_diff;
use autofold::output::{export, print_report, write_stdout};
use autofold::pipeline::{exit_code_of, record_and_fold};
use autofold::{completions, man};

fn main() -> ExitCode {
    exit_code_of(run(Cli::parse()))
}

/// Runs a subcommand; `record` exits as the profiled command did.
fn run(cli: Cli) -> Result<ExitCode> {
    let done = match cli.command {
        Command::Record(args) => return record_and_fold(&args.target(), &args.profiling),
        Command::Fold(args) => fold(args),
        Command::Report(args) => report(args),
        Command::Diff(args) => diff(args),
        Command::Completions(args) => write_stdout(|out| completions::write(args.shell, out)),
        Command::Man(args) => man::write(args.out.as_deref()),
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// Folds the inputs: folded stacks to stdout or `-o`, and the other exports.
fn fold(args: FoldArgs) -> Result<()> {
    let sources = args.input.sources();
    let profile = read_profile(&sources, &args.read_options())?;
    let analysis = analyse(profile, &args.engine_options()?);
    export(&analysis, &args.exports(), &sources)
}

/// Prints the cycle report of the inputs (text or JSON) to standard output,
/// and writes the HTML page if asked.
fn report(args: ReportArgs) -> Result<()> {
    let sources = args.input.sources();
    let profile = read_profile(&sources, &args.read_options())?;
    let analysis = analyse(profile, &args.engine_options()?);
    export(&analysis, &args.exports(), &sources)?;
    print_report(&analysis.report, args.format)
}

/// Compares two sides analysed together: the differential flame graph to
/// `-o`, the diff report to standard output.
fn diff(args: DiffArgs) -> Result<()> {
    let (before, after) = args.sides()?;
    let profiles = read_sides(&before, &after, &args.read.options())?;
    let analyses = analyse_together(profiles, &args.engine_options()?);
    write_diff(
        &analyses,
        &args.diff_options(&before, &after),
        &args.render.options(),
    )
}
