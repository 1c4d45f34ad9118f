//! The cost of `autofold record --off-cpu` on a program that switches about
//! 50,000 times a second (`fixtures/off-cpu/pingpong.c`: two threads on one
//! CPU passing a byte through pipes), against `perf record` with the same
//! kernel events (the CPU clock at 997 Hz, `context-switches` with period 1,
//! DWARF stack copies, switch records), in alternating runs; medians of
//! wall time, CPU time and peak memory.
//!
//! Rows: the program alone; `autofold record --off-cpu --call-graph fp`
//! (the kernel walks frame pointers: no stack copies, so the difference to
//! the next row is what copying 64 KB of stack at every switch costs);
//! `autofold record --off-cpu` (the default, DWARF); `perf record` with
//! the same events, its perf.data in a temporary directory, no
//! post-processing.
//!
//! Goals (issue #23): autofold at most 1.5 times the program's own time,
//! faster than perf, within 100 MB.
//!
//! Run with `cargo bench --bench off_cpu`; `AUTOFOLD_BENCH_RUNS` (default
//! 5); as a smoke test (`cargo test --benches`) one short run each.

mod runner;

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

use runner::{Sample, Tool, env_number, find_program, mb, measure, median};

/// Round trips, and the work between passes that sets the switch rate.
const TRIPS: &str = "125000";
const SMOKE_TRIPS: &str = "5000";
const WORK: &str = "5000";
/// Goals.
const PROGRAM_TIME_GOAL: f64 = 1.5;
const MEMORY_GOAL_MB: f64 = 100.0;

const ALONE: &str = "pingpong alone";
const AUTOFOLD_FP: &str = "autofold --off-cpu, fp";
const AUTOFOLD: &str = "autofold --off-cpu";
const PERF: &str = "perf record (same events)";

fn main() {
    if let Err(err) = run() {
        eprintln!("off_cpu bench: {err}");
        process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let benching = std::env::args().any(|arg| arg == "--bench");
    let runs = env_number("AUTOFOLD_BENCH_RUNS", if benching { 5 } else { 1 })?.max(1);
    let dir = tempfile::tempdir()?;
    let program = build_pingpong(dir.path())?;
    let trips = if benching { TRIPS } else { SMOKE_TRIPS };
    let tools = tools(&program, trips, dir.path());
    println!("\npingpong {trips} {WORK}: two threads on CPU 0, about 50,000 switches a second");
    let samples = measure(&tools, runs)?;
    let medians: Vec<Sample> = samples.iter().map(|s| median(s)).collect();
    println!("median of {runs} run(s)            seconds  CPU seconds  peak RSS MB");
    for (tool, m) in tools.iter().zip(&medians) {
        println!(
            "{:<32} {:>7.2} {:>12.2} {:>12.1}",
            tool.name,
            m.seconds,
            m.cpu_seconds,
            mb(m.max_rss_bytes)
        );
    }
    goals(&tools, &medians);
    Ok(())
}

/// The ratios against the goals, and what each part of the cost is.
fn goals(tools: &[Tool], medians: &[Sample]) {
    let of = |name: &str| {
        tools
            .iter()
            .position(|t| t.name == name)
            .map(|i| medians[i])
    };
    let (Some(alone), Some(autofold), Some(fp)) = (of(ALONE), of(AUTOFOLD), of(AUTOFOLD_FP)) else {
        return;
    };
    let ratio = autofold.seconds / alone.seconds;
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!(
        "time autofold / program alone   {ratio:>6.3}  (goal <= {PROGRAM_TIME_GOAL:.2})  {}",
        verdict(ratio <= PROGRAM_TIME_GOAL)
    );
    let memory = mb(autofold.max_rss_bytes);
    println!(
        "autofold peak memory            {memory:>6.1} MB  (goal <= {MEMORY_GOAL_MB:.0})  {}",
        verdict(memory <= MEMORY_GOAL_MB)
    );
    match of(PERF) {
        Some(perf) => {
            let ratio = autofold.seconds / perf.seconds;
            println!(
                "time autofold / perf record     {ratio:>6.3}  (goal < 1)  {}",
                verdict(ratio < 1.0)
            );
        }
        None => println!("perf not installed: no comparison with perf record"),
    }
    println!(
        "cost over the program alone: {:.2} s in all, of which {:.2} s the kernel's stack copies (dwarf - fp); autofold's own CPU (reading, unwinding, symbolizing) {:.2} s",
        autofold.seconds - alone.seconds,
        autofold.seconds - fp.seconds,
        autofold.cpu_seconds - alone.cpu_seconds
    );
}

/// The tools, in the order they take turns.
fn tools(program: &Path, trips: &str, dir: &Path) -> Vec<Tool> {
    let command: Vec<OsString> = vec![program.into(), trips.into(), WORK.into()];
    let autofold = PathBuf::from(env!("CARGO_BIN_EXE_autofold"));
    let record = |extra: &[&str], svg: &str| -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["record".into(), "--off-cpu".into()];
        args.extend(extra.iter().map(OsString::from));
        args.extend(["-o".into(), dir.join(svg).into(), "--".into()]);
        args.extend(command.iter().cloned());
        args
    };
    let mut tools = vec![
        Tool::in_dir(ALONE, program.to_path_buf(), command[1..].to_vec(), dir),
        Tool::in_dir(
            AUTOFOLD_FP,
            autofold.clone(),
            record(&["--call-graph", "fp"], "fp.svg"),
            dir,
        ),
        Tool::in_dir(AUTOFOLD, autofold, record(&[], "dwarf.svg"), dir),
    ];
    if let Some(perf) = find_program("perf") {
        let data = dir.join("perf.data");
        let mut args: Vec<OsString> = [
            "record",
            "-q",
            "-e",
            "cpu-clock/freq=997/",
            "-e",
            "context-switches/period=1/",
            "--call-graph",
            "dwarf",
            "--switch-events",
            "-o",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push(data.clone().into());
        args.push("--".into());
        args.extend(command.iter().cloned());
        let mut tool = Tool::in_dir(PERF, perf, args, dir);
        tool.outputs.push(data);
        tools.push(tool);
    }
    tools
}

/// `fixtures/off-cpu/pingpong.c`, compiled into `dir`.
fn build_pingpong(dir: &Path) -> io::Result<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/off-cpu/pingpong.c");
    let program = dir.join("pingpong");
    let status = Command::new("cc")
        .args(["-O2", "-g", "-fno-omit-frame-pointer", "-pthread", "-o"])
        .arg(&program)
        .arg(&source)
        .status()?;
    if !status.success() {
        return Err(io::Error::other(
            "compiling fixtures/off-cpu/pingpong.c failed",
        ));
    }
    Ok(program)
}
