//! Which target `cargo autofold` profiles: the one the user named, or, as
//! `cargo run` chooses, the package's only binary or its `default-run` one,
//! found with `cargo metadata`.

use std::ffi::OsString;

use anyhow::{Context, Result, anyhow, bail};
use cargo_metadata::{Artifact, Metadata, MetadataCommand, Package, TargetKind};

use crate::cargo::args::{BuildArgs, TargetArgs};
use crate::cargo::build::cargo;

/// The target to build and profile, in cargo's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// The binary NAME.
    Bin(String),
    /// The example NAME.
    Example(String),
    /// The integration test NAME.
    Test(String),
    /// The benchmark NAME.
    Bench(String),
    /// The unit tests of the package's library.
    LibTests,
    /// The unit tests of the binary NAME.
    BinTests(String),
    /// The one binary that `cargo build` builds for a package that is no
    /// workspace member (`-p` naming a dependency, or an unknown spec that
    /// cargo itself reports).
    AnyBin,
}

impl Selected {
    /// The cargo subcommand and flags that build this target only.
    pub fn cargo_args(&self) -> Vec<&str> {
        match self {
            Selected::Bin(name) => vec!["build", "--bin", name],
            Selected::Example(name) => vec!["build", "--example", name],
            Selected::Test(name) => vec!["build", "--test", name],
            Selected::Bench(name) => vec!["build", "--bench", name],
            Selected::LibTests => vec!["test", "--no-run", "--lib"],
            Selected::BinTests(name) => vec!["test", "--no-run", "--bin", name],
            Selected::AnyBin => vec!["build"],
        }
    }

    /// Whether cargo's `artifact` is this target's executable.
    pub fn is_built_by(&self, artifact: &Artifact) -> bool {
        let target = &artifact.target;
        let test_harness = artifact.profile.test;
        match self {
            Selected::Bin(name) => target.is_bin() && !test_harness && &target.name == name,
            Selected::Example(name) => target.is_example() && &target.name == name,
            Selected::Test(name) => target.is_test() && &target.name == name,
            Selected::Bench(name) => target.is_bench() && &target.name == name,
            Selected::LibTests => is_library(&target.kind) && test_harness,
            Selected::BinTests(name) => target.is_bin() && test_harness && &target.name == name,
            Selected::AnyBin => target.is_bin() && !test_harness,
        }
    }

    /// The program's arguments: the user's, after `--bench` for a benchmark,
    /// as `cargo bench` runs it (unless the user passed it).
    pub fn program_args(&self, args: Vec<OsString>) -> Vec<OsString> {
        match self {
            Selected::Bench(_) if !args.iter().any(|a| a == "--bench") => {
                std::iter::once("--bench".into()).chain(args).collect()
            }
            _ => args,
        }
    }
}

/// The target `target` names; without one, the binary `cargo run` would run.
pub fn select(target: &TargetArgs, build: &BuildArgs) -> Result<Selected> {
    let named = [
        target.bin.clone().map(Selected::Bin),
        target.example.clone().map(Selected::Example),
        target.test.clone().map(Selected::Test),
        target.bench.clone().map(Selected::Bench),
    ];
    if let Some(selected) = named.into_iter().flatten().next() {
        return Ok(selected);
    }
    let Some(packages) = selected_packages(build)? else {
        return Ok(Selected::AnyBin);
    };
    match &target.unit_test {
        Some(name) => unit_tests(&packages, name.as_deref()),
        None => default_binary(&packages, build),
    }
}

/// The workspace packages a build covers: the `-p` one, or the default
/// members. `None` when `-p` names no workspace member (cargo decides then).
fn selected_packages(build: &BuildArgs) -> Result<Option<Vec<Package>>> {
    let mut command = MetadataCommand::new();
    command.no_deps();
    if let Some(manifest) = &build.manifest_path {
        command.manifest_path(manifest);
    }
    let metadata = command.exec().map_err(|error| match error {
        // Cargo's own words, as when cargo build fails.
        cargo_metadata::Error::CargoMetadata { stderr } => {
            anyhow!("{}", stderr.trim().trim_start_matches("error: "))
        }
        other => anyhow!("cannot run cargo metadata: {other}"),
    })?;
    let packages: Vec<Package> = match &build.package {
        Some(spec) => metadata
            .workspace_packages()
            .into_iter()
            .filter(|p| *p.name == *package_name(spec))
            .cloned()
            .collect(),
        None => default_members(&metadata),
    };
    Ok((!packages.is_empty()).then_some(packages))
}

/// The packages a build without `-p` covers.
fn default_members(metadata: &Metadata) -> Vec<Package> {
    let members = if metadata.workspace_default_members.is_available() {
        metadata.workspace_default_packages()
    } else {
        metadata.workspace_packages()
    };
    members.into_iter().cloned().collect()
}

/// The package name in a package id spec: `name`, `name@1.0`,
/// `https://…#name@1.0`.
fn package_name(spec: &str) -> &str {
    let name = spec.rsplit_once('#').map_or(spec, |(_, tail)| tail);
    name.split(['@', ':']).next().unwrap_or(name)
}

/// The binary `cargo run` would run: the `default-run` one, or the only one.
fn default_binary(packages: &[Package], build: &BuildArgs) -> Result<Selected> {
    if let [package] = packages
        && let Some(name) = &package.default_run
    {
        return Ok(Selected::Bin(name.clone()));
    }
    let bins = targets_of(packages, is_binary);
    match bins.as_slice() {
        [bin] => Ok(Selected::Bin((*bin).to_owned())),
        [] => bail!(
            "{} has no binary to profile: choose a target with --example, --test, --bench or --unit-test",
            names_of(packages)
        ),
        _ => Err(several_binaries(build)),
    }
}

/// Whose unit tests to profile: without a name, the library's (or, in a
/// package without one, the only binary's); with one, the binary of that
/// name, else the library of that name. Every target is reachable, even a
/// binary named like its library.
fn unit_tests(packages: &[Package], name: Option<&str>) -> Result<Selected> {
    let libs = targets_of(packages, is_library);
    let bins = targets_of(packages, is_binary);
    let same = |a: &str, b: &str| a.replace('-', "_") == b.replace('-', "_");
    let chosen = match name {
        None if !libs.is_empty() => Some(Selected::LibTests),
        None => match bins.as_slice() {
            [bin] => Some(Selected::BinTests((*bin).to_owned())),
            [] => None,
            several => bail!(
                "{} has no library and several binaries ({}): name one, as in --unit-test {}",
                names_of(packages),
                several.join(", "),
                several[0]
            ),
        },
        Some(name) => bins
            .iter()
            .find(|bin| **bin == name)
            .map(|bin| Selected::BinTests((*bin).to_owned()))
            .or_else(|| {
                libs.iter()
                    .any(|lib| same(lib, name))
                    .then_some(Selected::LibTests)
            }),
    };
    chosen.with_context(|| {
        format!(
            "{} has no library or binary {}to unit test",
            names_of(packages),
            name.map_or(String::new(), |n| format!("named `{n}` "))
        )
    })
}

/// The names of `packages`' targets whose kinds satisfy `kind`.
fn targets_of(packages: &[Package], kind: impl Fn(&[TargetKind]) -> bool) -> Vec<&str> {
    packages
        .iter()
        .flat_map(|p| &p.targets)
        .filter(|t| kind(&t.kind))
        .map(|t| t.name.as_str())
        .collect()
}

/// Whether a target of these kinds is a binary.
fn is_binary(kinds: &[TargetKind]) -> bool {
    kinds.contains(&TargetKind::Bin)
}

/// Whether a target of these kinds is a library (of any crate type).
fn is_library(kinds: &[TargetKind]) -> bool {
    kinds.iter().any(|k| {
        matches!(
            k,
            TargetKind::Lib
                | TargetKind::RLib
                | TargetKind::DyLib
                | TargetKind::CDyLib
                | TargetKind::StaticLib
                | TargetKind::ProcMacro
        )
    })
}

fn names_of(packages: &[Package]) -> String {
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    format!("package {}", names.join(", "))
}

/// The error for a build with several binaries and no --bin, with cargo's
/// own list of them: `cargo build --bin` without a name prints it.
fn several_binaries(build: &BuildArgs) -> anyhow::Error {
    let listing = cargo()
        .args(["build", "--bin"])
        .args(build.workspace_args())
        .output()
        .context("cannot run cargo to list the binaries");
    let cargo_says = match &listing {
        Ok(output) => String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|line| !line.contains("\"--bin\" takes one argument"))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(error) => format!("{error:#}"),
    };
    anyhow!(
        "could not determine which binary to profile: choose one with --bin NAME, or set `default-run` in Cargo.toml\n{}",
        cargo_says.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_specs_are_reduced_to_the_name() {
        assert_eq!(package_name("even-odd"), "even-odd");
        assert_eq!(package_name("even-odd@0.1.0"), "even-odd");
        assert_eq!(
            package_name("path+file:///work/even-odd#even-odd@0.1.0"),
            "even-odd"
        );
    }

    /// What `select` chooses in a fixture crate for `target`.
    fn selected_in(krate: &str, target: TargetArgs) -> Result<Selected> {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(krate)
            .join("Cargo.toml");
        let build = BuildArgs {
            manifest_path: Some(manifest),
            ..BuildArgs::default()
        };
        select(&target, &build)
    }

    fn unit_test(name: Option<&str>) -> TargetArgs {
        TargetArgs {
            unit_test: Some(name.map(str::to_owned)),
            ..TargetArgs::default()
        }
    }

    #[test]
    fn without_a_target_the_only_binary_is_chosen() {
        assert_eq!(
            selected_in("even-odd", TargetArgs::default()).unwrap(),
            Selected::Bin("even-odd".into())
        );
    }

    #[test]
    fn unit_tests_are_the_librarys_unless_a_binary_is_named() {
        assert_eq!(
            selected_in("two-bins", unit_test(None)).unwrap(),
            Selected::LibTests
        );
        assert_eq!(
            selected_in("two-bins", unit_test(Some("two-bins"))).unwrap(),
            Selected::LibTests
        );
        assert_eq!(
            selected_in("two-bins", unit_test(Some("climb"))).unwrap(),
            Selected::BinTests("climb".into())
        );
        assert_eq!(
            selected_in("even-odd", unit_test(None)).unwrap(),
            Selected::BinTests("even-odd".into()),
            "no library: the only binary"
        );
        let error = selected_in("two-bins", unit_test(Some("nope"))).unwrap_err();
        assert!(error.to_string().contains("named `nope`"), "{error}");
    }

    #[test]
    fn benchmarks_run_with_bench_once() {
        let bench = Selected::Bench("b".into());
        assert_eq!(bench.program_args(vec!["x".into()]), ["--bench", "x"]);
        assert_eq!(bench.program_args(vec!["--bench".into()]), ["--bench"]);
        assert_eq!(
            Selected::Bin("b".into()).program_args(vec!["x".into()]),
            ["x"]
        );
    }
}
