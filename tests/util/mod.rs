//! The helpers every test shares: the one way to start autofold
//! ([`autofold`]), the fixtures, and (in the modules) what a test needs
//! from the machine ([`tools`]), recording with perf ([`perf`]), the engine
//! run on text ([`fold`]), a flame graph's frames ([`svg`]) and headless
//! Chromium ([`browser`]), files served on 127.0.0.1 ([`serve`]).

pub mod browser;
pub mod fold;
pub mod perf;
pub mod python;
pub mod serve;
pub mod svg;
pub mod tools;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The autofold binary cargo built for these tests.
pub const AUTOFOLD: &str = env!("CARGO_BIN_EXE_autofold");

/// `autofold`, not yet run: give it arguments (and a directory, variables,
/// standard input), then [`Autofold::output`] or [`Autofold::success`].
pub fn autofold() -> Autofold {
    Autofold {
        command: Command::new(AUTOFOLD),
        stdin: None,
    }
}

/// One run of autofold being set up (see [`autofold`]).
pub struct Autofold {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Autofold {
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.command.arg(arg);
        self
    }

    pub fn args(&mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> &mut Self {
        self.command.args(args);
        self
    }

    /// Runs it in `dir` (else in the tests' working directory, the package).
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.command.current_dir(dir);
        self
    }

    pub fn env(&mut self, name: &str, value: impl AsRef<OsStr>) -> &mut Self {
        self.command.env(name, value);
        self
    }

    pub fn env_remove(&mut self, name: &str) -> &mut Self {
        self.command.env_remove(name);
        self
    }

    /// Gives it `bytes` on standard input (else standard input is empty).
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The command itself, for what a test does beyond running it (its own
    /// process group, a seccomp filter, spawning it).
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Runs it to the end; its status, standard output and standard error.
    pub fn output(&mut self) -> Output {
        let Some(bytes) = self.stdin.clone() else {
            return self.command.output().expect("autofold runs");
        };
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("autofold runs");
        let mut stdin = child.stdin.take().unwrap();
        // Written from a thread: autofold may write output before it has
        // read all of its input.
        let writer = std::thread::spawn(move || {
            // autofold may stop reading early (an error); that is its answer.
            let _ = stdin.write_all(&bytes);
        });
        let output = child.wait_with_output().expect("autofold runs");
        writer.join().unwrap();
        output
    }

    /// Runs it to the end; fails the test, showing autofold's standard
    /// error, unless it succeeds.
    pub fn success(&mut self) -> Output {
        let output = self.output();
        assert!(
            output.status.success(),
            "{:?} failed ({}): {}",
            self.command,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

/// `autofold report --format json PROFILE EXTRA…`, which must succeed.
pub fn json_report(profile: &Path, extra: &[&str]) -> serde_json::Value {
    let out = autofold()
        .args(["report", "--format", "json"])
        .arg(profile)
        .args(extra)
        .success();
    serde_json::from_slice(&out.stdout).expect("the report is JSON")
}

/// A JSON array of strings (a cycle's `members`, say).
pub fn strings(value: &serde_json::Value) -> Vec<&str> {
    let array = value.as_array().expect("a JSON array");
    array
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

/// The names of the cycles of a JSON report, in its order.
pub fn cycle_names(report: &serde_json::Value) -> Vec<String> {
    report["cycles"]
        .as_array()
        .expect("cycles is an array")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// A file under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// The text of a file under `fixtures/`.
pub fn read_fixture(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Fails the test unless `text` parses as XML from start to end.
pub fn assert_well_formed_xml(text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "SVG is not well-formed XML at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
}
