//! The command line of `cargo autofold`: which target to build and how,
//! every `autofold record` option, and the program's arguments.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser};

use crate::cli::ProfilingArgs;

/// The command line as cargo passes it on: `cargo-autofold autofold ARGS`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
pub enum CargoCli {
    /// Build a crate's program with cargo and profile it: the folded flame
    /// graph and cycle report of `autofold record`.
    ///
    /// Builds the release profile with debug info switched on for this build
    /// only (through cargo's environment; Cargo.toml is left alone), or the
    /// dev profile with --dev, then runs and samples the program (as
    /// `autofold record` does) with the arguments after `--`, writes the flame graph (-o, default
    /// flamegraph.svg), prints the cycle report to standard error and exits
    /// with the program's exit code (also when it failed too briefly to be
    /// sampled; 128 + N if signal N killed it).
    ///
    /// Example: cargo autofold --dev --bin my-parser -- input.json
    #[command(version, long_about)]
    Autofold(CargoArgs),
}

/// `cargo autofold`.
#[derive(Debug, Args)]
pub struct CargoArgs {
    /// Which target to profile.
    #[command(flatten, next_help_heading = "Target Selection")]
    pub target: TargetArgs,

    /// How cargo builds it.
    #[command(flatten, next_help_heading = "Build Options")]
    pub build: BuildArgs,

    /// How to record, fold and write: every `autofold record` option.
    #[command(flatten, next_help_heading = "Recording Options")]
    pub profiling: ProfilingArgs,

    /// Arguments for the program (after `--`).
    #[arg(last = true, value_name = "ARGS", help_heading = "Arguments")]
    pub args: Vec<OsString>,
}

/// Which target to profile: at most one. Without any, the package's only
/// binary, or its `default-run` one.
#[derive(Debug, Default, Args)]
#[group(multiple = false)]
pub struct TargetArgs {
    /// BuildProfile the binary NAME.
    #[arg(long, value_name = "NAME")]
    pub bin: Option<String>,

    /// BuildProfile the example NAME.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,

    /// BuildProfile the integration test NAME (the whole test binary; pass test
    /// filters after `--`).
    #[arg(long, value_name = "NAME")]
    pub test: Option<String>,

    /// BuildProfile the benchmark NAME (run with `--bench`, as `cargo bench` does).
    #[arg(long, value_name = "NAME")]
    pub bench: Option<String>,

    /// BuildProfile the library's unit tests (in a package without a library, the
    /// only binary's), or those of the binary NAME (test filters after `--`).
    #[arg(long, value_name = "NAME", num_args = 0..=1)]
    pub unit_test: Option<Option<String>>,
}

/// How cargo builds: the package, its features, the profile and the target
/// triple, with cargo's names and meanings.
#[derive(Debug, Default, Args)]
pub struct BuildArgs {
    /// Package to build (a workspace member).
    #[arg(short, long, value_name = "SPEC")]
    pub package: Option<String>,

    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Features to activate (space- or comma-separated; repeatable). No
    /// short -F: it is --freq here.
    #[arg(long, value_name = "FEATURES")]
    pub features: Vec<String>,

    /// Activate all available features.
    #[arg(long)]
    pub all_features: bool,

    /// Do not activate the `default` feature.
    #[arg(long)]
    pub no_default_features: bool,

    /// Build for the target triple TRIPLE.
    #[arg(long = "target", value_name = "TRIPLE")]
    pub target_triple: Option<String>,

    /// Build the dev profile (unoptimised, with debug info) instead of
    /// release with debug info.
    #[arg(long, conflicts_with_all = ["profile", "release"])]
    pub dev: bool,

    /// Build the profile NAME as it is configured (release gets debug info
    /// switched on as by default; other profiles are left as they are).
    #[arg(long, value_name = "NAME", conflicts_with = "release")]
    pub profile: Option<String>,

    /// Build the release profile with debug info: the default, accepted for
    /// habit's sake.
    #[arg(short, long)]
    pub release: bool,
}

impl BuildArgs {
    /// The flags that choose the workspace and package: `--manifest-path`, `-p`.
    pub fn workspace_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        if let Some(path) = &self.manifest_path {
            args.extend(["--manifest-path".into(), path.into()]);
        }
        if let Some(package) = &self.package {
            args.extend(["--package".into(), package.into()]);
        }
        args
    }

    /// The flags that choose features and the target triple.
    pub fn feature_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        for features in &self.features {
            args.extend(["--features".into(), features.into()]);
        }
        if self.all_features {
            args.push("--all-features".into());
        }
        if self.no_default_features {
            args.push("--no-default-features".into());
        }
        if let Some(triple) = &self.target_triple {
            args.extend(["--target".into(), triple.into()]);
        }
        args
    }
}

/// The arguments of `cargo-autofold` as clap expects them: cargo runs it as
/// `cargo-autofold autofold ARGS`; run by hand as `cargo-autofold ARGS`, the
/// missing `autofold` is put in.
pub fn cargo_argv(argv: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut argv: Vec<OsString> = argv.into_iter().collect();
    if argv.get(1).is_none_or(|first| first != "autofold") {
        argv.insert(argv.len().min(1), "autofold".into());
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_subcommand_name_is_put_in_only_when_missing() {
        let as_cargo_runs_it = argv(&["cargo-autofold", "autofold", "--dev"]);
        assert_eq!(cargo_argv(as_cargo_runs_it.clone()), as_cargo_runs_it);
        assert_eq!(
            cargo_argv(argv(&["cargo-autofold", "--dev"])),
            as_cargo_runs_it
        );
        assert_eq!(
            cargo_argv(argv(&["cargo-autofold"])),
            argv(&["cargo-autofold", "autofold"])
        );
    }

    #[test]
    fn program_arguments_follow_the_double_dash() {
        let CargoCli::Autofold(args) = CargoCli::parse_from(argv(&[
            "cargo", "autofold", "--dev", "--bin", "x", "-F", "99", "--", "-v", "3",
        ]));
        assert_eq!(args.target.bin.as_deref(), Some("x"));
        assert!(args.build.dev);
        assert_eq!(args.profiling.freq, 99);
        assert_eq!(args.args, argv(&["-v", "3"]));
    }

    #[test]
    fn unit_test_takes_an_optional_name() {
        let parse = |args: &[&str]| {
            let CargoCli::Autofold(parsed) = CargoCli::parse_from(argv(args));
            parsed.target.unit_test
        };
        assert_eq!(parse(&["cargo", "autofold", "--unit-test"]), Some(None));
        assert_eq!(
            parse(&["cargo", "autofold", "--unit-test", "lib"]),
            Some(Some("lib".into()))
        );
    }

    #[test]
    fn one_target_at_a_time() {
        let parsed =
            CargoCli::try_parse_from(argv(&["cargo", "autofold", "--bin", "a", "--example", "b"]));
        assert!(parsed.is_err());
    }
}
