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

mod synth;

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::time::Instant;

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

/// One tool and how to invoke it.
struct Tool {
    name: &'static str,
    program: PathBuf,
    /// Arguments, the input and output paths included where the tool takes them.
    args: Vec<OsString>,
    /// File standard output goes to (for tools that only write there).
    stdout: Option<PathBuf>,
    /// File standard error goes to, shown when the tool fails.
    stderr: PathBuf,
}

/// One measured run.
#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    max_rss_bytes: u64,
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

/// The number in environment variable `name`, or `default` when unset.
fn env_number<T: std::str::FromStr>(name: &str, default: T) -> io::Result<T> {
    match env::var(name) {
        Ok(value) => value.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}={value:?} is not a number"),
            )
        }),
        Err(_) => Ok(default),
    }
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
    const NAME: &str = "inferno-collapse-recursive";
    let path = env::var_os("PATH").unwrap_or_default();
    let cargo_bin = env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin"));
    env::split_paths(&path)
        .chain(cargo_bin)
        .map(|dir| dir.join(NAME))
        .find(|candidate| candidate.is_file())
}

/// Runs every tool `runs` times, taking turns; `samples[tool][run]`.
fn measure(tools: &[Tool], runs: usize) -> io::Result<Vec<Vec<Sample>>> {
    let mut samples = vec![Vec::with_capacity(runs); tools.len()];
    for run in 1..=runs {
        for (tool, samples) in tools.iter().zip(&mut samples) {
            let sample = run_once(tool)?;
            eprintln!(
                "  run {run}/{runs} {:<28} {:>7.2} s {:>8.1} MB",
                tool.name,
                sample.seconds,
                mb(sample.max_rss_bytes)
            );
            samples.push(sample);
        }
    }
    Ok(samples)
}

/// Runs `tool` once; its wall time and peak RSS.
fn run_once(tool: &Tool) -> io::Result<Sample> {
    let stdout = match &tool.stdout {
        Some(path) => Stdio::from(File::create(path)?),
        None => Stdio::null(),
    };
    let stderr = File::create(&tool.stderr)?;
    let mut command = Command::new(&tool.program);
    command
        .args(&tool.args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    force_fork(&mut command);
    let started = Instant::now();
    let child = command.spawn().map_err(|err| describe(tool, err))?;
    let (status, max_rss_bytes) = wait_with_rusage(child.id())?;
    let seconds = started.elapsed().as_secs_f64();
    if !exited_ok(status) {
        let errors = fs::read_to_string(&tool.stderr).unwrap_or_default();
        return Err(io::Error::other(format!(
            "{} failed (wait status {status}):\n{errors}",
            tool.name
        )));
    }
    Ok(Sample {
        seconds,
        max_rss_bytes,
    })
}

/// Makes `command` start its child with fork rather than `posix_spawn`.
///
/// `posix_spawn` shares this process's memory until the exec, and Linux then
/// counts this process's peak RSS into the child's `ru_maxrss`. After a
/// fork, the child's count starts from this process's current RSS instead,
/// which is small: the profile was streamed to disk.
fn force_fork(command: &mut Command) {
    // SAFETY: the hook does nothing, so it is async-signal-safe; having one
    // at all is what makes the standard library fork.
    unsafe {
        command.pre_exec(|| Ok(()));
    }
}

/// Adds the tool's name to a spawn error.
fn describe(tool: &Tool, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot run {}: {err}", tool.program.display()),
    )
}

/// Waits for child `pid`; its wait status and peak RSS in bytes.
///
/// Reaps the child with `wait4`, so the `Child` handle must not be waited on
/// afterwards.
fn wait_with_rusage(pid: u32) -> io::Result<(i32, u64)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the call.
        let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if reaped >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    // Linux reports ru_maxrss in KiB.
    Ok((status, usage.ru_maxrss.max(0) as u64 * 1024))
}

/// Whether a wait status is a normal exit with code 0.
fn exited_ok(status: i32) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
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

/// The per-field medians of `samples` (not empty).
fn median(samples: &[Sample]) -> Sample {
    Sample {
        seconds: median_of(samples.iter().map(|s| s.seconds).collect()),
        max_rss_bytes: median_of(samples.iter().map(|s| s.max_rss_bytes as f64).collect()) as u64,
    }
}

/// The median of `values` (not empty); the mean of the middle two when even.
fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Bytes in (decimal) megabytes.
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
