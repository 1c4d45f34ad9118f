//! `autofold record --off-cpu`: recursions that wait (sleep, a pipe from a
//! child process, a contended mutex, a Rust channel), recorded with
//! autofold's own sampler, and what the profile, the report, pprof, the
//! folded file and the Firefox file say of their wall-clock time. The
//! programs are `fixtures/off-cpu/waits.c` and `fixtures/off-cpu/channel.rs`; each
//! prints its own wall-clock time and how long its leaves waited by its own
//! clock (on a busy machine more than they asked: a woken thread waits for
//! a CPU, which is waiting too), and the profile is checked against those.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use crate::util::perf::{self, interrupted_record, skip};
use crate::util::{autofold, fixture};

/// `fixtures/off-cpu/waits.c` compiled into `dir`.
fn waits(dir: &Path) -> PathBuf {
    let program = dir.join("waits");
    let status = Command::new("cc")
        .args(["-O1", "-g", "-fno-omit-frame-pointer", "-pthread", "-o"])
        .arg(&program)
        .arg(fixture("off-cpu/waits.c"))
        .status()
        .expect("cc runs");
    assert!(
        status.success(),
        "compiling fixtures/off-cpu/waits.c failed"
    );
    program
}

/// `fixtures/off-cpu/channel.rs` compiled into `dir` (no inlining, so
/// `walk` and `visit` stay two functions).
fn channel(dir: &Path) -> PathBuf {
    let program = dir.join("channel");
    let status = Command::new("rustc")
        .args([
            "-g",
            "-C",
            "opt-level=0",
            "-C",
            "force-frame-pointers=yes",
            "-o",
        ])
        .arg(&program)
        .arg(fixture("off-cpu/channel.rs"))
        .status()
        .expect("rustc runs");
    assert!(
        status.success(),
        "compiling fixtures/off-cpu/channel.rs failed"
    );
    program
}

/// What one `record --off-cpu` run gave.
struct Run {
    report: Value,
    folded: String,
    stderr: String,
    /// The program's own wall-clock time, in microseconds.
    wall_us: f64,
    /// How long its leaves were asked to wait, in microseconds.
    asked_us: f64,
    /// How long they waited, by the program's own clock.
    waited_us: f64,
}

impl Run {
    /// The cycle named `name`.
    fn cycle(&self, name: &str) -> &Value {
        let cycles = self.report["cycles"].as_array().unwrap();
        cycles
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no cycle {name}: {:#}", self.report))
    }

    /// The microseconds of every stack that ends off the CPU.
    fn off_cpu_total(&self) -> f64 {
        self.folded
            .lines()
            .filter_map(|line| line.rsplit_once(' '))
            .filter(|(stack, _)| stack.ends_with(";[off-cpu]"))
            .map(|(_, count)| count.parse::<f64>().unwrap())
            .sum()
    }

    /// The profile's total, in microseconds.
    fn total(&self) -> f64 {
        self.report["total_samples"].as_f64().unwrap()
    }
}

/// `autofold record --off-cpu ARGS -- PROGRAM…` in `dir`.
fn record(dir: &Path, args: &[&str], program: &Path, program_args: &[&str]) -> Run {
    let output = perf::record(dir)
        .arg("--off-cpu")
        .args(args)
        .arg("--")
        .arg(program)
        .args(program_args)
        .output();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let figure = |key: &str| -> f64 {
        let words: Vec<&str> = stdout.split_whitespace().collect();
        let at = words.iter().position(|w| *w == key).expect(key);
        words[at + 1].parse().unwrap()
    };
    let report = std::fs::read(dir.join("report.json")).unwrap();
    Run {
        report: serde_json::from_slice(&report).unwrap(),
        folded: std::fs::read_to_string(dir.join("out.folded")).unwrap(),
        wall_us: figure("wall_us"),
        asked_us: figure("asked_us"),
        waited_us: figure("waited_us"),
        stderr,
    }
}

/// Whether `value` is within `fraction` of `expected`.
fn near(value: f64, expected: f64, fraction: f64) -> bool {
    (value - expected).abs() <= expected * fraction
}

#[test]
fn a_recursion_that_sleeps_is_one_frame_of_wall_clock_time() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(dir.path(), &[], &waits(dir.path()), &["sleep", "60"]);
    assert_eq!(run.report["unit"], "microseconds");
    let cycle = run.cycle("{visit,walk}");
    let off = cycle["off_cpu"].as_f64().unwrap();
    let on = cycle["on_cpu"].as_f64().unwrap();
    assert_eq!(on + off, cycle["samples"].as_f64().unwrap());
    // The sleeps, as the program timed them, and never less than asked.
    assert!(
        near(off, run.waited_us, 0.10) && off >= 0.95 * run.asked_us,
        "off-CPU {off} µs, waited {} (asked {})",
        run.waited_us,
        run.asked_us
    );
    assert!(
        off >= 0.9 * run.off_cpu_total(),
        "{off} of {}",
        run.off_cpu_total()
    );
    // One thread: on + off is its wall-clock time.
    assert!(
        near(run.total(), run.wall_us, 0.05),
        "{} µs, wall {}",
        run.total(),
        run.wall_us
    );
    // Every level of the recursion, to main, above the sleep.
    let sleeping = run
        .folded
        .lines()
        .find(|line| line.contains(";[off-cpu] "))
        .unwrap();
    assert!(
        sleeping.contains(";main;walker;{visit,walk};wait_at_leaf;usleep;"),
        "{sleeping}"
    );
    assert!(run.stderr.contains("of wall-clock time"), "{}", run.stderr);
    assert!(run.stderr.contains("waits ("), "{}", run.stderr);
    let svg = std::fs::read_to_string(dir.path().join("flame.svg")).unwrap();
    assert!(svg.contains(" microseconds, "), "the SVG says the unit");
    // The waiting frame is drawn blue-grey: blue well above red and green.
    let off_cpu_box = svg
        .split("<g>")
        .find(|g| g.contains("<title>[off-cpu] "))
        .expect("an [off-cpu] box");
    let fill = off_cpu_box.split("fill=\"rgb(").nth(1).unwrap();
    let rgb: Vec<u32> = fill
        .split(')')
        .next()
        .unwrap()
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(rgb[2] > rgb[0] + 30 && rgb[2] > rgb[1] + 20, "{rgb:?}");
}

#[test]
fn a_recursion_blocked_on_a_childs_pipe_waits_for_it() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(dir.path(), &[], &waits(dir.path()), &["pipe", "60"]);
    let off = run.cycle("{visit,walk}")["off_cpu"].as_f64().unwrap();
    // The child writes every 5 ms; the walker reads as soon as it can.
    assert!(
        near(off, run.waited_us, 0.10),
        "off-CPU {off} µs, waited {} (asked {})",
        run.waited_us,
        run.asked_us
    );
    let reading = run
        .folded
        .lines()
        .any(|line| line.contains("{visit,walk};wait_at_leaf;") && line.contains("read;"));
    assert!(reading, "{}", run.folded);
}

#[test]
fn two_threads_contending_for_a_mutex_each_count_their_lifetime() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(dir.path(), &[], &waits(dir.path()), &["mutex", "40"]);
    let cycle = run.cycle("{visit,walk}");
    let off = cycle["off_cpu"].as_f64().unwrap();
    assert!(
        off >= 0.9 * run.off_cpu_total(),
        "{off} of {}",
        run.off_cpu_total()
    );
    // Each thread holds the lock 2 ms a leaf while the other waits for it.
    assert!(
        near(off, run.waited_us, 0.10) && off >= run.asked_us,
        "off-CPU {off} µs, waited {} (sleeps {})",
        run.waited_us,
        run.asked_us
    );
    // Both threads live about as long as the program.
    let lifetimes = run.total() / run.wall_us;
    assert!((1.85..=2.05).contains(&lifetimes), "{lifetimes}");
    let waiting_for_the_lock = run
        .folded
        .lines()
        .any(|line| line.contains("wait_at_leaf;") && line.contains("lock_wait"));
    assert!(waiting_for_the_lock, "{}", run.folded);
}

#[test]
fn a_rust_recursion_waiting_on_a_channel() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(dir.path(), &[], &channel(dir.path()), &["60"]);
    let cycle = run.cycle("channel::{visit,walk}");
    let off = cycle["off_cpu"].as_f64().unwrap();
    assert!(
        near(off, run.waited_us, 0.10),
        "off-CPU {off} µs, waited {} (asked {})",
        run.waited_us,
        run.asked_us
    );
}

#[test]
fn the_firefox_files_samples_cover_the_programs_wall_clock_time() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let args = ["--firefox", "f.json"];
    let run = record(dir.path(), &args, &waits(dir.path()), &["sleep", "60"]);
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("f.json")).unwrap()).unwrap();
    let threads = file["threads"].as_array().unwrap();
    let thread = (threads.iter().find(|t| t["name"] == "waits"))
        .unwrap_or_else(|| panic!("no thread waits: {threads:?}"));
    let samples = &thread["samples"];
    let numbers = |column: &str| -> Vec<f64> {
        let values = samples[column].as_array().unwrap();
        values.iter().map(|v| v.as_f64().unwrap()).collect()
    };
    let times: Vec<f64> = (numbers("timeDeltas").iter())
        .scan(0.0, |time, delta| {
            *time += delta;
            Some(*time * 1000.0)
        })
        .collect();
    let (weights, cpu) = (numbers("weight"), numbers("threadCPUDelta"));
    // A sample on the CPU is taken at the end of the CPU time it weighs
    // (its period); a wait is placed where it began, and weighs its length.
    // Together they cover the thread's life: the program's run.
    let spans =
        (times.iter().zip(&weights).zip(&cpu)).map(|((&time, &weight), &cpu)| match cpu > 0.0 {
            true => (time - weight, time),
            false => (time, time + weight),
        });
    let (first, last) = spans.fold((f64::MAX, f64::MIN), |(first, last), (start, end)| {
        (first.min(start), last.max(end))
    });
    assert!(
        near(last - first, run.wall_us, 0.10),
        "samples cover {} µs of a {} µs run",
        last - first,
        run.wall_us
    );
    // Each of the 60 walks sleeps 10 ms at its leaf: 60 waits, each a
    // sample of its own (off the CPU), each at least 10 ms after the last.
    let sleeps: Vec<f64> = (times.iter().zip(&weights).zip(&cpu))
        .filter(|&((_, &weight), &cpu)| cpu == 0.0 && weight >= 9_500.0)
        .map(|((&time, _), _)| time)
        .collect();
    assert_eq!(sleeps.len(), 60, "sleeps at {sleeps:?}");
    assert!(
        sleeps.windows(2).all(|w| w[1] - w[0] >= 9_500.0),
        "sleeps at {sleeps:?}"
    );
    let total: f64 = weights.iter().sum();
    // Each sample rounded to a microsecond, the profile's stacks summed
    // first: they differ by at most half a microsecond a sample.
    let rounding = 0.5 * weights.len() as f64 + 1.0;
    let folded_total: f64 = (run.folded.lines())
        .filter(|line| line.starts_with("waits;"))
        .map(|line| line.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert!(
        (total - folded_total).abs() <= rounding,
        "weights {total} µs, folded {folded_total} µs"
    );
}

#[test]
fn short_waits_are_left_out_and_said() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = waits(dir.path());
    // Every sleep is 10 ms: a minimum of 50 ms leaves them all out.
    let run = record(
        dir.path(),
        &["--off-cpu-min", "50ms"],
        &program,
        &["sleep", "20"],
    );
    assert_eq!(run.off_cpu_total(), 0.0, "{}", run.folded);
    assert!(
        run.stderr.contains("shorter than --off-cpu-min left out"),
        "{}",
        run.stderr
    );
}

#[test]
fn attaching_with_off_cpu_records_the_waits_of_a_running_process() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let mut target = Command::new(waits(dir.path()))
        .args(["sleep", "400"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id().to_string();
    let args = ["--off-cpu", "--report", "report.json", "--pid", &pid];
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    let output = interrupted_record(dir.path(), &args);
    target.kill().unwrap();
    target.wait().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["unit"], "microseconds");
    let cycle = &report["cycles"][0];
    assert_eq!(cycle["name"], "{visit,walk}", "{report:#}");
    // About two seconds attached, nearly all of it asleep.
    let off = cycle["off_cpu"].as_f64().unwrap();
    assert!((1.0e6..3.0e6).contains(&off), "{off} µs");
}

#[test]
fn an_off_cpu_folded_file_reads_back_in_microseconds() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(
        dir.path(),
        &["--pprof", "run.pb.gz"],
        &waits(dir.path()),
        &["sleep", "20"],
    );
    // The folded file holds the cycle folded already: its totals read back.
    for input in ["out.folded", "run.pb.gz"] {
        let output = autofold()
            .current_dir(dir.path())
            .args(["report", "--format", "json", input])
            .output();
        assert!(output.status.success(), "{output:?}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["unit"], "microseconds", "{input}");
        assert_eq!(
            report["total_samples"], run.report["total_samples"],
            "{input}"
        );
    }
    // Two off-CPU profiles compare.
    let diff = autofold()
        .current_dir(dir.path())
        .args(["diff", "out.folded", "out.folded", "-o", "diff.svg"])
        .output();
    assert!(diff.status.success(), "{diff:?}");
}

#[test]
fn off_cpu_pprof_has_cpu_and_wall_sample_types() {
    use autofold::pprof_proto::Profile;
    use prost::Message;
    use std::io::Read;
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let run = record(
        dir.path(),
        &["--pprof", "run.pb.gz"],
        &waits(dir.path()),
        &["sleep", "20"],
    );
    let gz = std::fs::read(dir.path().join("run.pb.gz")).unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut bytes)
        .unwrap();
    let profile = Profile::decode(&bytes[..]).unwrap();
    let text = |i: i64| String::from_utf8_lossy(&profile.string_table[i as usize]).into_owned();
    let types: Vec<(String, String)> = profile
        .sample_type
        .iter()
        .map(|t| (text(t.r#type), text(t.unit)))
        .collect();
    assert_eq!(
        types,
        [
            ("cpu".to_owned(), "microseconds".to_owned()),
            ("wall".to_owned(), "microseconds".to_owned())
        ]
    );
    assert_eq!(text(profile.default_sample_type), "wall");
    let sum = |i: usize| profile.sample.iter().map(|s| s.value[i]).sum::<i64>() as f64;
    assert_eq!(sum(1), run.total());
    assert_eq!(
        sum(1) - sum(0),
        run.off_cpu_total(),
        "cpu leaves the waits out"
    );
}

#[test]
fn off_cpu_needs_autofolds_own_sampler() {
    let dir = TempDir::new().unwrap();
    for args in [
        &["record", "--off-cpu", "--perf", "--", "true"][..],
        &["record", "--off-cpu", "--perf-data", "perf.data"],
        &["record", "--off-cpu", "--call-graph", "lbr", "--", "true"],
        &["record", "--off-cpu-min", "1ms", "--", "true"],
        &["record", "--off-cpu", "--off-cpu-min", "100", "--", "true"],
    ] {
        let output = autofold().current_dir(dir.path()).args(args).output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}: {stderr}");
        assert!(!dir.path().join("flamegraph.svg").exists(), "{args:?}");
    }
}
