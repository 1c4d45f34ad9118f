//! Building the selected target with cargo: cargo's own output and errors
//! on the terminal, the executable's path from its JSON messages.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::Message;

use crate::cargo::args::BuildArgs;
use crate::cargo::build_profile::BuildProfile;
use crate::cargo::select::Selected;

/// The cargo that ran us (cargo sets `$CARGO` for its subcommands), else
/// `cargo` on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds `selected` as `args` ask and returns its executable. Cargo's
/// progress, warnings and errors go to standard error as usual.
pub fn build(args: &BuildArgs, selected: &Selected) -> Result<PathBuf> {
    let profile = BuildProfile::of(args);
    if let Some(note) = profile.note() {
        eprintln!("{note}");
    }
    let mut command = cargo();
    command
        .args(selected.cargo_args())
        .args(args.workspace_args())
        .args(args.feature_args())
        .args(profile.cargo_args())
        .arg("--message-format=json-render-diagnostics")
        .envs(profile.env())
        .stdout(Stdio::piped());
    let mut child = command.spawn().context("cannot run cargo")?;
    let messages = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let executables = executables_of(messages, selected);
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "`cargo {}` failed ({status}); nothing was recorded",
            selected.cargo_args()[0]
        );
    }
    only_one(executables?)
}

/// The executables of `selected` among cargo's JSON messages.
fn executables_of(messages: impl std::io::BufRead, selected: &Selected) -> Result<Vec<PathBuf>> {
    let mut executables = Vec::new();
    for message in Message::parse_stream(messages) {
        if let Message::CompilerArtifact(artifact) = message.context("reading cargo's messages")?
            && let Some(executable) = &artifact.executable
            && selected.is_built_by(&artifact)
        {
            executables.push(executable.clone().into_std_path_buf());
        }
    }
    Ok(executables)
}

/// The one executable to profile.
fn only_one(mut executables: Vec<PathBuf>) -> Result<PathBuf> {
    match executables.len() {
        1 => Ok(executables.remove(0)),
        0 => bail!("cargo built no executable to profile"),
        _ => {
            let names: Vec<String> = executables
                .iter()
                .map(|e| e.display().to_string())
                .collect();
            bail!(
                "cargo built several executables ({}): narrow the choice with -p/--package or a target option",
                names.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `compiler-artifact` message as cargo 1.95 writes it, trimmed.
    fn artifact(kind: &str, name: &str, test: bool, executable: &str) -> String {
        format!(
            r#"{{"reason":"compiler-artifact","package_id":"path+file:///w/p#0.1.0","manifest_path":"/w/p/Cargo.toml","target":{{"kind":["{kind}"],"crate_types":["{kind}"],"name":"{name}","src_path":"/w/p/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true}},"profile":{{"opt_level":"0","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":{test}}},"features":[],"filenames":["{executable}"],"executable":{exe},"fresh":false}}"#,
            exe = if executable.is_empty() {
                "null".to_string()
            } else {
                format!("\"{executable}\"")
            }
        )
    }

    fn found(messages: &[String], selected: Selected) -> Vec<PathBuf> {
        let text = messages.join("\n") + "\n{\"reason\":\"build-finished\",\"success\":true}\n";
        executables_of(text.as_bytes(), &selected).unwrap()
    }

    #[test]
    fn the_selected_binary_is_found_among_the_artifacts() {
        let messages = [
            artifact("lib", "p", false, ""),
            artifact("bin", "p", false, "/w/p/target/debug/p"),
            artifact("bin", "p", true, "/w/p/target/debug/deps/p-1234"),
            artifact("example", "demo", false, "/w/p/target/debug/examples/demo"),
        ];
        assert_eq!(
            found(&messages, Selected::Bin("p".into())),
            [PathBuf::from("/w/p/target/debug/p")]
        );
        assert_eq!(
            found(&messages, Selected::BinTests("p".into())),
            [PathBuf::from("/w/p/target/debug/deps/p-1234")]
        );
        assert_eq!(
            found(&messages, Selected::Example("demo".into())),
            [PathBuf::from("/w/p/target/debug/examples/demo")]
        );
        assert!(found(&messages, Selected::Bin("q".into())).is_empty());
    }

    #[test]
    fn several_executables_are_named_in_the_error() {
        let error = only_one(vec!["/t/a".into(), "/t/b".into()]).unwrap_err();
        assert!(error.to_string().contains("/t/a, /t/b"), "{error}");
    }
}
