//! The command line: what each subcommand takes, with the help text users see.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::EngineOptions;
use crate::graph::FrameFilter;
use crate::input::Source;

/// Flame graphs of recursive programs, with every recursion cycle folded
/// into one frame.
///
/// autofold finds direct recursion, mutual recursion (even -> odd -> even)
/// and longer loops in the call graph by itself, names each cycle from its
/// members, and folds every run of it into one frame, so what the recursion
/// spends its time on is visible again.
#[derive(Debug, Parser)]
#[command(name = "autofold", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fold recursion cycles in folded stacks or `perf script` output.
    ///
    /// Writes the folded stacks to standard output (or -o FILE), and with
    /// --svg / --report also the flame graph and the JSON cycle report.
    ///
    /// Example: autofold fold stacks.folded --svg flame.svg > folded.txt
    Fold(FoldArgs),
    /// Report the recursion cycles of a profile, most samples first.
    ///
    /// Example: autofold report stacks.folded --format json
    Report(ReportArgs),
}

/// Inputs and cycle options shared by every subcommand that reads profiles.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Folded stacks (`frame;frame;... COUNT`) or `perf script` output;
    /// standard input when none is given or for `-`. Several are merged.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Frames whose name matches REGEX never join a cycle (repeatable).
    ///
    /// Use it to cut a trampoline that links unrelated recursions.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
}

impl InputArgs {
    /// The sources to read, in order.
    pub fn sources(&self) -> Vec<Source> {
        Source::from_args(&self.files)
    }

    /// The engine options these arguments ask for.
    pub fn engine_options(&self) -> Result<EngineOptions> {
        Ok(EngineOptions {
            filter: FrameFilter::new(&self.exclude)?,
        })
    }
}

/// `autofold fold`.
#[derive(Debug, Args)]
pub struct FoldArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Write the folded stacks to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also render the folded flame graph to FILE (SVG).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Also write the cycle report to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Title of the flame graph [default: "Flame graph: N recursion cycles folded"].
    #[arg(long)]
    pub title: Option<String>,
}

/// `autofold report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// How `autofold report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table for people.
    Text,
    /// JSON, for scripts (schema in docs/REPORT.md).
    Json,
}
