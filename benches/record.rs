//! Two halves. Recording: a program of two busy threads recorded by
//! `autofold record`'s own sampler against `samply record` and `autofold
//! record --perf`, time, memory and temporary disk ([`sampling`]).
//! Reading: how long a recording takes to become a flame graph: `autofold record
//! --perf-data` reading perf.data in-process, against the same command
//! through `perf script` (`--perf-script`, what autofold did before),
//! cargo-flamegraph's `flamegraph --perfdata` and `samply import` (which
//! unwinds but does not symbolize), on the same perf.data files.
//!
//! Run with `cargo bench --bench record`. It builds the bundled programs,
//! records them with real perf (DWARF call graphs, as `record` does), then
//! runs the tools on each recording in turn and prints medians of wall time
//! and peak memory. The recordings:
//!
//! * `even-odd 5000`: a debug build, 5,000 levels of mutual recursion, every
//!   frame kept (the 64 KiB stack copies make perf script print hundreds of
//!   MB);
//! * `plumbing (release)`: a release build with debug info (inlined
//!   functions), the work spread over several functions;
//! * `rustc -O`, only with `AUTOFOLD_BENCH_RUSTC=1`: the compiler's time is
//!   in a 150 MB shared library without debug info, where perf script's
//!   inline resolution takes minutes.
//!
//! Goal: `autofold record` reads a recording in at most half the time
//! `flamegraph --perfdata` takes (and so, at most half of what autofold
//! took through perf script).
//!
//! Environment: `AUTOFOLD_BENCH_RUNS` (default 5; 1 as a smoke test under
//! `cargo test --benches`), `AUTOFOLD_BENCH_RUSTC=1`,
//! `AUTOFOLD_BENCH_PART=record|read` (one half only). Tools that are not
//! installed (`cargo install flamegraph samply`) are left out, said so.
//! The tools' `$TMPDIR` is a directory of the bench's own, so that what
//! they write there is measured.

mod runner;
mod sampling;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};

use runner::{Tool, env_number, find_program, mb, measure, median};

/// Runs of each tool by default.
const DEFAULT_RUNS: usize = 5;
/// Goal: autofold time / `flamegraph --perfdata` time at most this.
const TIME_GOAL: f64 = 0.5;

fn main() {
    if let Err(err) = run() {
        eprintln!("record bench: {err}");
        process::exit(1);
    }
}

/// One recording to measure the tools on.
struct Recording {
    name: String,
    data: PathBuf,
}

fn run() -> io::Result<()> {
    let benching = env::args().any(|arg| arg == "--bench");
    let runs = env_number(
        "AUTOFOLD_BENCH_RUNS",
        if benching { DEFAULT_RUNS } else { 1 },
    )?
    .max(1);
    let dir = tempfile::tempdir()?;
    let part = env::var("AUTOFOLD_BENCH_PART").unwrap_or_default();
    if part != "read" {
        // SAFETY: no other thread runs yet; the tools inherit it.
        unsafe { env::set_var("TMPDIR", dir.path()) };
        sampling::run(runs, benching)?;
    }
    if part == "record" {
        return Ok(());
    }
    let recordings = recordings(dir.path(), benching)?;
    for recording in &recordings {
        let size = fs::metadata(&recording.data)?.len();
        println!("\n{}: {:.1} MB of perf.data", recording.name, mb(size));
        let tools = tools(&recording.data, dir.path());
        let samples = measure(&tools, runs)?;
        let medians: Vec<_> = samples.iter().map(|s| median(s)).collect();
        println!("median of {runs} run(s)            seconds   peak RSS MB");
        for (tool, m) in tools.iter().zip(&medians) {
            println!(
                "{:<32} {:>8.2} {:>13.1}",
                tool.name,
                m.seconds,
                mb(m.max_rss_bytes)
            );
        }
        match tools.iter().position(|t| t.name == FLAMEGRAPH) {
            Some(i) => {
                let ratio = medians[0].seconds / medians[i].seconds;
                let verdict = if ratio <= TIME_GOAL { "PASS" } else { "MISS" };
                println!(
                    "time autofold / flamegraph --perfdata {ratio:>6.3}  (goal <= {TIME_GOAL:.2})  {verdict}"
                );
            }
            None => {
                println!("flamegraph not installed (`cargo install flamegraph`): no goal checked")
            }
        }
    }
    Ok(())
}

/// The recordings: built and recorded now, small ones for a smoke test.
fn recordings(dir: &Path, benching: bool) -> io::Result<Vec<Recording>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let even_odd = build(&fixtures.join("even-odd"), "even-odd", false)?;
    let plumbing = build(&fixtures.join("plumbing"), "plumbing", true)?;
    let (depth, len) = if benching {
        ("5000", "400000")
    } else {
        ("50", "20000")
    };
    let mut recordings = vec![
        record(dir, "even-odd 5000 (debug)", &even_odd, &[depth, "3"])?,
        record(
            dir,
            "plumbing (release, debug info)",
            &plumbing,
            &[len, "6"],
        )?,
    ];
    if env::var_os("AUTOFOLD_BENCH_RUSTC").is_some_and(|v| v == "1") {
        let source = dir.join("small.rs");
        fs::write(&source, RUSTC_INPUT)?;
        let out = dir.join("small");
        let args = ["-O", source.to_str().unwrap(), "-o", out.to_str().unwrap()];
        recordings.push(record(dir, "rustc -O", Path::new("rustc"), &args)?);
    }
    Ok(recordings)
}

/// A small program for `rustc -O` to compile.
const RUSTC_INPUT: &str = "use std::collections::HashMap;\n\
fn main() { let mut m = HashMap::new(); for i in 0..100u64 { m.insert(i, format!(\"{i}\")); } \
let v: Vec<String> = m.values().cloned().collect(); println!(\"{}\", v.len()); }\n";

/// Builds the crate at `dir` (release with debug info, or debug); returns
/// the binary `name`.
fn build(dir: &Path, name: &str, release: bool) -> io::Result<PathBuf> {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"));
    if release {
        command
            .arg("--release")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "true");
    }
    if !command.status()?.success() {
        return Err(io::Error::other(format!(
            "building {} failed",
            dir.display()
        )));
    }
    let profile = if release { "release" } else { "debug" };
    Ok(dir.join("target").join(profile).join(name))
}

/// Records `program ARGS` with perf as `autofold record` does.
fn record(dir: &Path, name: &str, program: &Path, args: &[&str]) -> io::Result<Recording> {
    let data = dir.join(format!(
        "{}.data",
        name.split_whitespace().next().unwrap_or("rec")
    ));
    let status = Command::new("perf")
        .args([
            "record",
            "-q",
            "-F",
            "997",
            "--call-graph",
            "dwarf,65528",
            "-o",
        ])
        .arg(&data)
        .arg("--")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!("perf record of {name} failed")));
    }
    Ok(Recording {
        name: name.to_string(),
        data,
    })
}

/// Name of cargo-flamegraph's tool in the tables.
const FLAMEGRAPH: &str = "flamegraph --perfdata";

/// The tools, autofold first; those not installed are left out.
fn tools(data: &Path, dir: &Path) -> Vec<Tool> {
    let autofold = PathBuf::from(env!("CARGO_BIN_EXE_autofold"));
    let svg = |name: &str| dir.join(format!("{name}.svg"));
    let record = |extra: &[&str]| -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["record".into()];
        args.extend(extra.iter().map(OsString::from));
        args.extend(["--perf-data".into(), data.into(), "-o".into()]);
        args
    };
    let mut in_process = record(&[]);
    in_process.push(svg("autofold").into());
    let mut through_script = record(&["--perf-script"]);
    through_script.push(svg("perf-script").into());
    let mut tools = vec![
        Tool::in_dir("autofold record", autofold.clone(), in_process, dir),
        Tool::in_dir(
            "autofold record --perf-script",
            autofold,
            through_script,
            dir,
        ),
    ];
    if let Some(flamegraph) = find_program("flamegraph") {
        let args = vec![
            "--perfdata".into(),
            data.into(),
            "-o".into(),
            svg("flamegraph").into(),
        ];
        tools.push(Tool::in_dir(FLAMEGRAPH, flamegraph, args, dir));
    } else {
        println!("flamegraph not found (`cargo install flamegraph`): left out");
    }
    if let Some(samply) = find_program("samply") {
        let out = dir.join("samply.json.gz");
        let args = vec![
            "import".into(),
            "--save-only".into(),
            "-o".into(),
            out.into(),
            data.into(),
        ];
        tools.push(Tool::in_dir("samply import", samply, args, dir));
    } else {
        println!("samply not found (`cargo install samply`): left out");
    }
    tools
}
