//! `cargo autofold`: build a crate's program with cargo, then profile it
//! exactly as `autofold record -- EXE ARGS` does.
//!
//! [`select`] decides which target (as `cargo run` would, through `cargo
//! metadata`), [`build`] builds it and finds its executable in cargo's JSON
//! messages, [`profile`] switches debug info on for a release build, and
//! [`crate::pipeline`] records and folds.

pub mod args;
pub mod build;
pub mod build_profile;
pub mod select;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::cargo::args::CargoArgs;
use crate::cargo::build::build;
use crate::cargo::select::select;
use crate::pipeline::record_and_fold;
use crate::record::Target;

/// Runs `cargo autofold`: select, build, record, fold; the program's exit code.
pub fn run(args: CargoArgs) -> Result<ExitCode> {
    let selected = select(&args.target, &args.build)?;
    let executable = build(&args.build, &selected)?;
    let program_args = selected.program_args(args.args);
    eprintln!(
        "autofold: recording `{}`",
        shown(&executable, &program_args)
    );
    let command = std::iter::once(executable.into_os_string())
        .chain(program_args)
        .collect();
    record_and_fold(&Target::Command(command), &args.profiling)
}

/// The command line as the user reads it: the executable relative to the
/// current directory when it lies below it.
fn shown(executable: &Path, args: &[OsString]) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let program: PathBuf = executable
        .strip_prefix(&cwd)
        .map_or_else(|_| executable.to_path_buf(), Path::to_path_buf);
    std::iter::once(program.into_os_string())
        .chain(args.iter().cloned())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
