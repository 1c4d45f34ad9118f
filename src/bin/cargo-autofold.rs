//! `cargo autofold`: cargo runs this as `cargo-autofold autofold ARGS`.

use std::process::ExitCode;

use clap::Parser;

use autofold::cargo::args::{CargoCli, cargo_argv};
use autofold::pipeline::exit_code_of;

fn main() -> ExitCode {
    let CargoCli::Autofold(args) = CargoCli::parse_from(cargo_argv(std::env::args_os()));
    exit_code_of(autofold::cargo::run(args))
}
