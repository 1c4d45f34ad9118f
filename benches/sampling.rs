//! The recording half of `cargo bench --bench record`: a program of two
//! busy threads (`fixtures/busy-threads`, release build with debug info,
//! recursing 200 levels deep so every sample's stack copy is large) recorded
//! start to end by `autofold record` (its own sampler), by `samply record
//! --save-only` and by `autofold record --perf` (the perf binary and a
//! perf.data), and run alone, in turn; medians of wall time, peak resident
//! memory, and peak temporary disk (what is in the tools' `$TMPDIR` and
//! output directory while they run, polled every 20 ms).
//!
//! Goals (issue #15): autofold's peak memory at most 250 MB, its temporary
//! disk at most 64 MB, its time at most 1.25 times the program's own and
//! at most 1.1 times samply's; memory flat over time (a recording of half
//! the length peaks as high).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::runner::{Sample, Tool, find_program, mb, median, run_once};

/// Each thread's CPU time to aim for (the program's run time on an idle
/// machine), benchmarking; and as a smoke test.
const FULL_SECONDS: f64 = 20.0;
const SMOKE_SECONDS: f64 = 1.0;
/// Recursion depth of both threads.
const DEPTH: &str = "200";
/// Goals.
const MEMORY_GOAL_MB: f64 = 250.0;
const DISK_GOAL_MB: f64 = 64.0;
const PROGRAM_TIME_GOAL: f64 = 1.25;
const SAMPLY_TIME_GOAL: f64 = 1.1;

/// A tool's run: time and memory, and its peak temporary disk.
#[derive(Clone, Copy)]
struct Measured {
    sample: Sample,
    disk_bytes: u64,
}

/// Runs the recording benchmark: `runs` alternating runs of each tool.
pub fn run(runs: usize, benching: bool) -> io::Result<()> {
    let program = build_busy_threads()?;
    let seconds = if benching {
        FULL_SECONDS
    } else {
        SMOKE_SECONDS
    };
    let repetitions = calibrate(&program, seconds)?;
    let work = tempfile::tempdir()?;
    println!(
        "\nrecording busy-threads {repetitions} {DEPTH} (two busy threads, about {seconds:.0} s alone)"
    );
    let tools = tools(&program, repetitions, work.path());
    // The tools' $TMPDIR: the work directory and perf's temporary one.
    let watched = std::env::temp_dir();
    let mut measured: Vec<Vec<Measured>> = vec![Vec::new(); tools.len()];
    for run in 1..=runs {
        for (tool, results) in tools.iter().zip(&mut measured) {
            let result = measure_once(tool, &watched)?;
            eprintln!(
                "  run {run}/{runs} {:<34} {:>7.2} s {:>7.2} s CPU {:>8.1} MB {:>9.1} MB disk",
                tool.name,
                result.sample.seconds,
                result.sample.cpu_seconds,
                mb(result.sample.max_rss_bytes),
                mb(result.disk_bytes)
            );
            results.push(result);
        }
    }
    report(&tools, &measured, runs);
    Ok(())
}

/// The table and the goals.
fn report(tools: &[Tool], measured: &[Vec<Measured>], runs: usize) {
    println!(
        "median of {runs} run(s)                   seconds   CPU seconds   peak RSS MB   temp disk MB"
    );
    let medians: Vec<(Sample, f64)> = measured
        .iter()
        .map(|results| {
            let samples: Vec<Sample> = results.iter().map(|m| m.sample).collect();
            let mut disks: Vec<u64> = results.iter().map(|m| m.disk_bytes).collect();
            disks.sort_unstable();
            (median(&samples), mb(disks[disks.len() / 2]))
        })
        .collect();
    for (tool, (sample, disk)) in tools.iter().zip(&medians) {
        println!(
            "{:<40} {:>8.2} {:>13.2} {:>13.1} {:>14.1}",
            tool.name,
            sample.seconds,
            sample.cpu_seconds,
            mb(sample.max_rss_bytes),
            disk
        );
    }
    let find = |name: &str| {
        tools
            .iter()
            .position(|t| t.name == name)
            .map(|i| medians[i])
    };
    let (Some(autofold), Some(alone), Some(half)) =
        (find(AUTOFOLD), find(ALONE), find(AUTOFOLD_HALF))
    else {
        return;
    };
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let memory = mb(autofold.0.max_rss_bytes);
    println!(
        "peak memory autofold {memory:>8.1} MB  (goal <= {MEMORY_GOAL_MB:.0})  {}",
        verdict(memory <= MEMORY_GOAL_MB)
    );
    println!(
        "temporary disk       {:>8.1} MB  (goal <= {DISK_GOAL_MB:.0})  {}",
        autofold.1,
        verdict(autofold.1 <= DISK_GOAL_MB)
    );
    let ratio = autofold.0.seconds / alone.0.seconds;
    println!(
        "time autofold / program alone {ratio:>6.3}  (goal <= {PROGRAM_TIME_GOAL:.2})  {}",
        verdict(ratio <= PROGRAM_TIME_GOAL)
    );
    // CPU time does not depend on what else the machine runs: the
    // recorder's own cost is its CPU time beyond the program's.
    let overhead = |tool: Sample| tool.cpu_seconds - alone.0.cpu_seconds;
    println!(
        "CPU time autofold / program alone {:>6.3}  (autofold's own {:.2} s)",
        autofold.0.cpu_seconds / alone.0.cpu_seconds,
        overhead(autofold.0)
    );
    match find(SAMPLY) {
        Some(samply) => {
            let ratio = autofold.0.seconds / samply.0.seconds;
            println!(
                "time autofold / samply record {ratio:>6.3}  (goal <= {SAMPLY_TIME_GOAL:.2})  {}",
                verdict(ratio <= SAMPLY_TIME_GOAL)
            );
            println!(
                "CPU time autofold / samply record {:>6.3}  (samply's own {:.2} s)",
                autofold.0.cpu_seconds / samply.0.cpu_seconds,
                overhead(samply.0)
            );
        }
        None => println!("samply not installed (`cargo install samply`): no goal checked"),
    }
    let growth = autofold.0.max_rss_bytes as f64 / half.0.max_rss_bytes as f64;
    println!("memory full length / half length {growth:>6.3}  (flat: about 1)");
}

const ALONE: &str = "busy-threads alone";
const AUTOFOLD: &str = "autofold record";
const AUTOFOLD_HALF: &str = "autofold record, half the work";
const SAMPLY: &str = "samply record --save-only";
const PERF: &str = "autofold record --perf";

/// The tools: the program alone, then the recorders; samply if installed.
fn tools(program: &Path, repetitions: u64, dir: &Path) -> Vec<Tool> {
    let command = |reps: u64| -> Vec<OsString> {
        vec![
            "--".into(),
            program.into(),
            reps.to_string().into(),
            DEPTH.into(),
        ]
    };
    let autofold = PathBuf::from(env!("CARGO_BIN_EXE_autofold"));
    let record = |extra: &[&str], svg: &str, reps: u64| -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["record".into()];
        args.extend(extra.iter().map(OsString::from));
        args.extend(["-o".into(), dir.join(svg).into()]);
        args.extend(command(reps));
        args
    };
    let mut tools = vec![
        Tool::in_dir(
            ALONE,
            program.to_path_buf(),
            command(repetitions)[2..].to_vec(),
            dir,
        ),
        Tool::in_dir(
            AUTOFOLD,
            autofold.clone(),
            record(&[], "autofold.svg", repetitions),
            dir,
        ),
        Tool::in_dir(
            AUTOFOLD_HALF,
            autofold.clone(),
            record(&[], "half.svg", repetitions / 2),
            dir,
        ),
    ];
    match find_program("samply") {
        Some(samply) => {
            let mut args: Vec<OsString> = vec!["record".into(), "--save-only".into(), "-o".into()];
            args.push(dir.join("samply.json.gz").into());
            args.extend(command(repetitions));
            tools.push(Tool::in_dir(SAMPLY, samply, args, dir));
        }
        None => println!("samply not found (`cargo install samply`): left out"),
    }
    if find_program("perf").is_some() {
        tools.push(Tool::in_dir(
            PERF,
            autofold,
            record(&["--perf"], "perf.svg", repetitions),
            dir,
        ));
    }
    tools
}

/// Runs `tool` once while watching how much `dir` (the tools' `$TMPDIR`
/// and output directory) holds.
fn measure_once(tool: &Tool, dir: &Path) -> io::Result<Measured> {
    let before = bytes_under(dir);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, dir) = (Arc::clone(&stop), dir.to_path_buf());
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(bytes_under(&dir));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let sample = run_once(tool);
    stop.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap_or(0);
    Ok(Measured {
        sample: sample?,
        disk_bytes: peak.saturating_sub(before),
    })
}

/// The bytes of the files under `dir` (files that vanish meanwhile count 0).
fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => bytes_under(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// The release build of `fixtures/busy-threads` (debug info on).
fn build_busy_threads() -> io::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/busy-threads");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .status()?;
    if !status.success() {
        return Err(io::Error::other("building fixtures/busy-threads failed"));
    }
    Ok(dir.join("target/release/busy-threads"))
}

/// The repetitions that give each of `program`'s two threads `seconds` of
/// CPU time (its run time on an idle machine of two cores or more): timed
/// by CPU, not by the clock, which other work on the machine stretches.
fn calibrate(program: &Path, seconds: f64) -> io::Result<u64> {
    let trial = 200u64;
    let tool = Tool {
        name: "calibration",
        program: program.to_path_buf(),
        args: vec![trial.to_string().into(), DEPTH.into()],
        stdout: None,
        stderr: std::env::temp_dir().join("calibration.err"),
        outputs: Vec::new(),
    };
    let cpu_per_thread = run_once(&tool)?.cpu_seconds / 2.0;
    let per_repetition = cpu_per_thread / trial as f64;
    Ok(((seconds / per_repetition) as u64).max(2))
}
