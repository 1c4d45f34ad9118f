//! Speed and memory of `autofold fold` against `inferno-collapse-recursive`.
//!
//! Run with `cargo bench --bench fold`. Generates the synthetic profile of
//! [`synth`] (100,000 stacks, about 200 MB) in a temporary directory, runs
//! both tools on it alternately, and prints the medians of wall time and
//! peak resident memory with the goals:
//!
//! * `autofold fold` takes at most half the time of
//!   `inferno-collapse-recursive`;
//! * its peak memory is at most half the input size.
//!
//! Environment:
//!
//! * `AUTOFOLD_BENCH_STACKS` — stacks to generate (default 100000);
//! * `AUTOFOLD_BENCH_RUNS` — runs of each tool (default 5);
//! * `AUTOFOLD_BENCH_SEED` — generator seed (default 42);
//! * `AUTOFOLD_BENCH_KEEP` — a path to copy the generated profile to, for
//!   profiling the tools by hand.
//!
//! Run as a test (`cargo test --benches`, without `--bench`), it defaults to
//! 1,000 stacks and one run, as a smoke test.

mod runner;
mod synth;

use std::env;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process;
use std::time::Instant;

use runner::{Sample, Tool, env_number, mb, measure, median};

/// Stacks in the full profile.
const FULL_STACKS: usize = 100_000;
/// Stacks when run as a smoke test.
const SMOKE_STACKS: usize = 1_000;
/// Runs of each tool by default.
const DEFAULT_RUNS: usize = 5;
/// Seed by default.
const DEFAULT_SEED: u64 = 42;
/// Goal: autofold time / inferno time at most this.
const TIME_GOAL: f64 = 0.5;
/// Goal: autofold peak RSS / input size at most this.
const MEMORY_GOAL: f64 = 0.5;

/// What to measure.
struct Config {
    stacks: usize,
    runs: usize,
    seed: u64,
}

fn main() {
    if let Err(err) = run() {
        eprintln!("fold bench: {err}");
        process::exit(1);
    }
}

/// Generates the profile, measures the tools and prints the table.
fn run() -> io::Result<()> {
    let config = config()?;
    check_deterministic(config.seed)?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("profile.folded");

    let started = Instant::now();
    let stats = generate(&input, &config)?;
    println!(
        "profile: {} stacks, {:.1} MB, {:.1} frames/stack, mean recursion depth {:.1} \
         (seed {}, generated in {:.1} s)",
        stats.stacks,
        mb(stats.bytes),
        stats.mean_frames(),
        stats.mean_depth(),
        config.seed,
        started.elapsed().as_secs_f64(),
    );

    let mut tools = vec![autofold(&input, dir.path())];
    match find_inferno() {
        Some(program) => tools.push(inferno(program, &input, dir.path())),
        None => println!(
            "inferno-collapse-recursive not found on PATH or in ~/.cargo/bin; \
             measuring autofold only (`cargo install inferno` to compare)"
        ),
    }

    if let Some(keep) = env::var_os("AUTOFOLD_BENCH_KEEP") {
        fs::copy(&input, &keep)?;
    }
    let samples = measure(&tools, config.runs)?;
    report(&tools, &samples, stats.bytes, config.runs);
    Ok(())
}

/// Reads the configuration from the environment; smaller when not run by
/// `cargo bench` (which passes `--bench`).
fn config() -> io::Result<Config> {
    let benching = env::args().any(|arg| arg == "--bench");
    let (stacks, runs) = if benching {
        (FULL_STACKS, DEFAULT_RUNS)
    } else {
        (SMOKE_STACKS, 1)
    };
    Ok(Config {
        stacks: env_number("AUTOFOLD_BENCH_STACKS", stacks)?,
        runs: env_number("AUTOFOLD_BENCH_RUNS", runs)?.max(1),
        seed: env_number("AUTOFOLD_BENCH_SEED", DEFAULT_SEED)?,
    })
}

/// Checks that the generator gives the same bytes twice for one seed.
fn check_deterministic(seed: u64) -> io::Result<()> {
    let (mut first, mut second) = (Vec::new(), Vec::new());
    synth::write_profile(SMOKE_STACKS, seed, &mut first)?;
    synth::write_profile(SMOKE_STACKS, seed, &mut second)?;
    if first != second {
        return Err(io::Error::other(
            "the profile generator is not deterministic",
        ));
    }
    Ok(())
}

/// Writes the synthetic profile to `path`.
fn generate(path: &Path, config: &Config) -> io::Result<synth::Stats> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    synth::write_profile_with_stats(config.stacks, config.seed, &mut out)
}

/// `autofold fold INPUT -o OUTPUT`.
fn autofold(input: &Path, dir: &Path) -> Tool {
    Tool {
        name: "autofold fold",
        program: PathBuf::from(env!("CARGO_BIN_EXE_autofold")),
        args: vec![
            "fold".into(),
            input.into(),
            "-o".into(),
            dir.join("autofold.out").into(),
        ],
        stdout: None,
        stderr: dir.join("autofold.err"),
    }
}

/// `inferno-collapse-recursive INPUT > OUTPUT`.
fn inferno(program: PathBuf, input: &Path, dir: &Path) -> Tool {
    Tool {
        name: "inferno-collapse-recursive",
        program,
        args: vec![input.into()],
        stdout: Some(dir.join("inferno.out")),
        stderr: dir.join("inferno.err"),
    }
}

/// `inferno-collapse-recursive` on PATH, else in ~/.cargo/bin.
fn find_inferno() -> Option<PathBuf> {
    runner::find_program("inferno-collapse-recursive")
}

/// Prints the table of medians and the goals.
fn report(tools: &[Tool], samples: &[Vec<Sample>], input_bytes: u64, runs: usize) {
    let medians: Vec<Sample> = samples.iter().map(|s| median(s)).collect();
    println!();
    println!("median of {runs} run(s)            seconds   peak RSS MB");
    for (tool, m) in tools.iter().zip(&medians) {
        println!(
            "{:<28} {:>10.2} {:>13.1}",
            tool.name,
            m.seconds,
            mb(m.max_rss_bytes)
        );
    }
    println!();
    let autofold = medians[0];
    match medians.get(1) {
        Some(inferno) => goal(TIME_LABEL, autofold.seconds / inferno.seconds, TIME_GOAL),
        None => println!("{TIME_LABEL:<28}   n/a  (no inferno-collapse-recursive)"),
    }
    goal(
        "memory autofold RSS / input",
        autofold.max_rss_bytes as f64 / input_bytes.max(1) as f64,
        MEMORY_GOAL,
    );
}

/// Prints one ratio against its goal, PASS or MISS.
fn goal(label: &str, ratio: f64, limit: f64) {
    let verdict = if ratio <= limit { "PASS" } else { "MISS" };
    println!("{label:<28} {ratio:>5.2}  (goal <= {limit:.2})  {verdict}");
}

/// Label of the time ratio.
const TIME_LABEL: &str = "time   autofold / inferno";
