//! autofold's own sampler against the perf binary and on what perf record
//! follows: child processes, threads, a machine without perf, and the
//! kernel refusing perf events (a seccomp filter, as containers set).
//!
//! Set `AUTOFOLD_SKIP_PERF_TESTS=1` to skip the tests that record.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::util::fold::total;
use crate::util::perf::{busy_threads, even_odd, expr_program, interrupted_record, record, skip};

/// Runs `autofold record ARGS` in `dir` (folded stacks to out.folded, the
/// report to report.json, the flame graph to flame.svg).
fn record_in(dir: &Path, args: &[&std::ffi::OsStr]) -> Output {
    record(dir).args(args).output()
}

fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap()
}

/// The names of the cycles with at least 1% of the samples: the program's
/// recursions, not a sample or two of start-up code whose inline frames
/// repeat a name (ld.so's `call_init`, now and then, by perf too).
fn cycle_names(report: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["percent"].as_f64().unwrap() >= 1.0)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// Each frame's share of the samples (inclusive, in percent).
fn shares(folded: &str) -> BTreeMap<String, f64> {
    let total = total(folded) as f64;
    let mut samples: BTreeMap<String, u64> = BTreeMap::new();
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let mut frames: Vec<&str> = stack.split(';').collect();
        frames.sort_unstable();
        frames.dedup();
        for frame in frames {
            *samples.entry(frame.to_owned()).or_default() += count.parse::<u64>().unwrap();
        }
    }
    samples
        .into_iter()
        .map(|(frame, count)| (frame, 100.0 * count as f64 / total))
        .collect()
}

#[test]
fn the_sampler_and_perf_find_the_same_cycles_in_the_same_shares() {
    if skip() {
        return;
    }
    // Shallow and often: settle, at the bottom of each run, is about a
    // fifth of the work, crunch the rest.
    let runs: Vec<(TempDir, &str)> = [None, Some("--perf")]
        .into_iter()
        .map(|flag| {
            let dir = TempDir::new().unwrap();
            let mut args: Vec<&std::ffi::OsStr> = flag.iter().map(|f| f.as_ref()).collect();
            args.extend([
                "--".as_ref(),
                even_odd().as_os_str(),
                "3".as_ref(),
                "1500".as_ref(),
            ]);
            succeeded(&record_in(dir.path(), &args));
            (dir, flag.unwrap_or("sampler"))
        })
        .collect();
    let [(sampler, _), (perf, _)] = &runs[..] else {
        unreachable!()
    };
    assert_eq!(
        cycle_names(&report(sampler.path())),
        cycle_names(&report(perf.path()))
    );
    assert_eq!(
        cycle_names(&report(sampler.path())),
        ["even_odd::{even,odd}"]
    );
    let by_sampler = shares(&fs::read_to_string(sampler.path().join("out.folded")).unwrap());
    let by_perf = shares(&fs::read_to_string(perf.path().join("out.folded")).unwrap());
    // About 1,200 samples each: a share's sampling noise is under 1.5
    // points; 5 is more than three times that.
    for frame in [
        "even_odd::{even,odd}",
        "even_odd::crunch",
        "even_odd::settle",
    ] {
        let (a, b) = (by_sampler[frame], by_perf[frame]);
        assert!(
            (a - b).abs() <= 5.0,
            "{frame}: {a:.1}% by the sampler, {b:.1}% by perf"
        );
    }
    assert!(
        (10.0..35.0).contains(&by_sampler["even_odd::settle"]),
        "settle is about a fifth: {by_sampler:?}"
    );
}

/// Seconds in `times` output (`0m1.250000s` or `0m1.250s`).
fn seconds(field: &str) -> f64 {
    let (minutes, rest) = field.split_once('m').unwrap();
    minutes.parse::<f64>().unwrap() * 60.0 + rest.trim_end_matches('s').parse::<f64>().unwrap()
}

#[test]
fn child_processes_are_followed_and_every_sample_counted() {
    if skip() {
        return;
    }
    let build = TempDir::new().unwrap();
    let expr = expr_program(build.path());
    let dir = TempDir::new().unwrap();
    // The shell's `times` prints its own CPU time, then its children's.
    let script = format!(
        "'{}' 100 30; '{}' 150 100; times",
        even_odd().display(),
        expr.display()
    );
    let output = record_in(
        dir.path(),
        &["--".as_ref(), "sh".as_ref(), "-c".as_ref(), script.as_ref()],
    );
    succeeded(&output);
    let report = report(dir.path());
    assert_eq!(
        cycle_names(&report),
        ["even_odd::{even,odd}", "{expr,factor,term}"],
        "both children's recursions"
    );
    let folded = fs::read_to_string(dir.path().join("out.folded")).unwrap();
    let roots: std::collections::BTreeSet<&str> =
        folded.lines().filter_map(|l| l.split(';').next()).collect();
    assert!(
        roots.contains("even-odd") && roots.contains("expr"),
        "{roots:?}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cpu: f64 = stdout
        .lines()
        .rev()
        .take(2)
        .flat_map(|line| line.split_whitespace().map(seconds))
        .sum();
    let samples = total(&folded);
    assert_eq!(report["total_samples"], samples);
    let expected = cpu * 997.0;
    assert!(
        (samples as f64 - expected).abs() <= expected * 0.05 + 10.0,
        "{samples} samples for {cpu} s of CPU at 997 Hz\n{stdout}"
    );
}

#[test]
fn threads_are_sampled_under_their_own_names() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = busy_threads();
    succeeded(&record_in(
        dir.path(),
        &[
            "--".as_ref(),
            program.as_os_str(),
            "400".as_ref(),
            "100".as_ref(),
        ],
    ));
    let report = report(dir.path());
    assert_eq!(
        cycle_names(&report),
        ["busy_threads::descend", "busy_threads::{ping,pong}"]
    );
    let folded = fs::read_to_string(dir.path().join("out.folded")).unwrap();
    let shares = shares(&folded);
    for thread in ["ping-pong", "descend"] {
        let share = shares.get(thread).copied().unwrap_or(0.0);
        assert!(
            (25.0..75.0).contains(&share),
            "{thread}: {share:.1}%: {shares:?}"
        );
    }
    for line in folded
        .lines()
        .filter(|l| l.contains("busy_threads::{ping,pong}"))
    {
        assert!(line.starts_with("ping-pong;"), "{line}");
    }
}

#[test]
fn a_machine_without_the_perf_binary_records_all_the_same() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let empty = TempDir::new().unwrap();
    let output = record(dir.path())
        .args([
            "--".as_ref(),
            even_odd().as_os_str(),
            "60".as_ref(),
            "20".as_ref(),
        ])
        .env("PATH", empty.path())
        .env_remove("PERF")
        .output();
    succeeded(&output);
    assert_eq!(cycle_names(&report(dir.path())), ["even_odd::{even,odd}"]);
}

/// Makes `command` run under a seccomp filter that fails `perf_event_open`
/// with `errno`, as a container's profile does.
fn without_perf_events(command: &mut Command, errno: u32) {
    // SAFETY: the hook only makes the two prctl calls, async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let filter = [
                bpf(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
                bpf(
                    libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
                    0,
                    1,
                    libc::SYS_perf_event_open as u32,
                ),
                bpf(
                    libc::BPF_RET | libc::BPF_K,
                    0,
                    0,
                    libc::SECCOMP_RET_ERRNO | errno,
                ),
                bpf(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
            ];
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn bpf(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

#[test]
fn perf_events_refused_are_one_line_saying_what_to_do() {
    for (errno, says, off_cpu) in [
        (libc::EPERM as u32, "seccomp", false),
        (
            libc::ENOSYS as u32,
            "perf events are not available here",
            false,
        ),
        (libc::EPERM as u32, "seccomp", true),
    ] {
        let dir = TempDir::new().unwrap();
        let marker = dir.path().join("ran");
        let mut command = record(dir.path());
        if off_cpu {
            command.arg("--off-cpu");
        }
        command.args(["--".as_ref(), "touch".as_ref(), marker.as_os_str()]);
        without_perf_events(command.command(), errno);
        let output = command.output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("autofold: error: "), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!marker.exists(), "the command never ran");
        assert!(!dir.path().join("flame.svg").exists());
    }
}

#[test]
fn attaching_follows_every_thread_of_a_running_process() {
    if skip() {
        return;
    }
    let mut target = Command::new(busy_threads())
        .args(["100000", "100"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Its two threads are running before autofold attaches.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let dir = TempDir::new().unwrap();
    let pid = target.id().to_string();
    let args = [
        "--folded",
        "out.folded",
        "--report",
        "report.json",
        "--pid",
        &pid,
    ];
    let output = interrupted_record(dir.path(), &args.map(std::ffi::OsStr::new));
    target.kill().unwrap();
    target.wait().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        cycle_names(&report(dir.path())),
        ["busy_threads::descend", "busy_threads::{ping,pong}"],
        "{stderr}"
    );
    let folded = fs::read_to_string(dir.path().join("out.folded")).unwrap();
    let roots: std::collections::BTreeSet<&str> =
        folded.lines().filter_map(|l| l.split(';').next()).collect();
    assert!(
        roots.contains("ping-pong") && roots.contains("descend"),
        "{roots:?}"
    );
    let code = folded
        .lines()
        .filter(|l| l.contains("busy_threads::churn"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum::<u64>();
    assert!(
        code * 10 >= total(&folded) * 9,
        "the threads' code is named from the mappings read in /proc: {code} of {}",
        total(&folded)
    );
}
