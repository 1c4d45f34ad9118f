//! `autofold record` error paths, with a stand-in perf set through `$PERF`
//! for `--perf`. (The success paths run the real sampler and real perf: see
//! tests/record.rs and tests/sampler.rs, which also has the kernel refusing
//! perf events.) The exit codes are a shell's: 127 for a command not
//! found, 126 for one that cannot be run, the command's own when it failed
//! too briefly to be sampled (with the real sampler and real perf).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::autofold;
use crate::util::perf::skip as skip_perf_tests;

/// Writes an executable shell script standing in for perf.
fn fake_perf(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("perf");
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs `autofold record` with `$PERF` set; returns (success, stderr).
fn record_with(perf: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let (code, stderr) = exit_of(perf, dir, args);
    (code == 0, stderr)
}

/// Runs `autofold record` with `$PERF` set; returns (exit code, stderr).
fn exit_of(perf: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = autofold()
        .current_dir(dir)
        .env("PERF", perf)
        .arg("record")
        .args(args)
        .output();
    let code = out.status.code().expect("autofold exits, not killed");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The ways to record a command: autofold's sampler, and `perf record`.
const RECORDERS: [&[&str]; 2] = [&[], &["--perf"]];

#[test]
fn missing_perf_names_the_packages_to_install() {
    let dir = TempDir::new().unwrap();
    let (ok, stderr) = record_with(
        &dir.path().join("no-perf"),
        dir.path(),
        &["--perf", "--", "true"],
    );
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("perf not found"), "{stderr}");
    assert!(stderr.contains("apt-get install linux-perf"), "{stderr}");
}

#[test]
fn perf_not_permitted_shows_the_sysctl_to_run() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(
        dir.path(),
        r#"[ "$1" = --version ] && { echo "perf version 6.1"; exit 0; }
echo "Error: Access to performance monitoring and observability operations is limited." >&2
echo "Consider adjusting /proc/sys/kernel/perf_event_paranoid setting" >&2
exit 255"#,
    );
    let (ok, stderr) = record_with(&perf, dir.path(), &["--perf", "--", "true"]);
    assert!(!ok);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("autofold: error: perf is not permitted"),
        "{stderr}"
    );
    assert!(
        last.contains("sysctl kernel.perf_event_paranoid=1"),
        "{stderr}"
    );
}

#[test]
fn a_command_that_does_not_exist_is_named_and_exits_127() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    for recorder in RECORDERS {
        for program in ["./no-such-program", "no-such-command-on-path"] {
            let args = [recorder, &["--", program, "--flag"]].concat();
            let (code, stderr) = exit_of(&perf, dir.path(), &args);
            assert_eq!(code, 127, "{args:?}: {stderr}");
            assert_eq!(
                stderr,
                format!("autofold: error: command not found: {program}\n")
            );
        }
    }
}

#[test]
fn a_file_that_cannot_be_executed_exits_126() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    let data = dir.path().join("data.txt");
    fs::write(&data, "not a program\n").unwrap();
    for recorder in RECORDERS {
        for program in ["./data.txt", "/etc/passwd"] {
            let args = [recorder, &["--", program]].concat();
            let (code, stderr) = exit_of(&perf, dir.path(), &args);
            assert_eq!(code, 126, "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.starts_with(&format!(
                    "autofold: error: cannot run {program}: it is not executable"
                )),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_directory_exits_126_and_is_said_to_be_one() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    fs::create_dir(dir.path().join("subdir")).unwrap();
    for recorder in RECORDERS {
        for program in ["./subdir", "/etc"] {
            let args = [recorder, &["--", program]].concat();
            let (code, stderr) = exit_of(&perf, dir.path(), &args);
            assert_eq!(code, 126, "{args:?}: {stderr}");
            assert_eq!(
                stderr,
                format!("autofold: error: cannot run {program}: {program} is a directory\n")
            );
        }
    }
}

#[test]
fn a_script_whose_interpreter_is_missing_exits_127() {
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("script");
    fs::write(&script, "#!/no/such/interpreter\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    // What perf 6.1 says when the workload's exec fails.
    let perf = fake_perf(
        dir.path(),
        r#"[ "$1" = --version ] && { echo "perf version 6.1"; exit 0; }
echo "Failed to collect 'cpu-clock:ppp' for the './script' workload: No such file or directory" >&2
while [ "$1" != -o ]; do shift; done; echo data > "$2"
exit 255"#,
    );
    for recorder in RECORDERS {
        let args = [recorder, &["--", "./script"]].concat();
        let (code, stderr) = exit_of(&perf, dir.path(), &args);
        assert_eq!(code, 127, "{args:?}: {stderr}");
        let last = stderr.lines().last().unwrap();
        assert!(
            last.starts_with("autofold: error: cannot run ./script: No such file or directory"),
            "{stderr}"
        );
    }
}

/// `autofold record ARGS -- sh -c SCRIPT` sampled once a second, so that a
/// shell that exits at once is never sampled; (exit code, stderr).
fn brief(recorder: &[&str], extra: &[&str], script: &str) -> (i32, String) {
    let dir = TempDir::new().unwrap();
    let args = [recorder, extra, &["-F", "1", "--", "sh", "-c", script]].concat();
    let result = exit_of(Path::new("perf"), dir.path(), &args);
    let written: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(written.is_empty(), "nothing is written: {written:?}");
    result
}

#[test]
fn a_failing_command_too_brief_to_sample_passes_its_code_on() {
    if skip_perf_tests() {
        return;
    }
    for recorder in RECORDERS {
        let (code, stderr) = brief(recorder, &[], "exit 3");
        assert_eq!(code, 3, "{recorder:?}: {stderr}");
        let last = stderr.lines().last().unwrap();
        assert!(last.starts_with("autofold: error: "), "{stderr}");
        assert!(last.contains("recorded no samples"), "{stderr}");
        assert!(last.ends_with("the command exited with code 3"), "{stderr}");
    }
}

#[test]
fn a_brief_command_killed_by_a_signal_exits_as_a_shell_says_it() {
    if skip_perf_tests() {
        return;
    }
    let (code, stderr) = brief(&[], &[], "kill -KILL $$");
    assert_eq!(code, 128 + 9, "{stderr}");
    assert!(stderr.contains("recorded no samples"), "{stderr}");
}

#[test]
fn ignore_status_leaves_the_brief_commands_code_out_but_not_127() {
    if skip_perf_tests() {
        return;
    }
    let (code, stderr) = brief(&[], &["--ignore-status"], "exit 3");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("recorded no samples"), "{stderr}");
    let dir = TempDir::new().unwrap();
    let (code, _) = exit_of(
        Path::new("perf"),
        dir.path(),
        &["--ignore-status", "--", "no-such-command-on-path"],
    );
    assert_eq!(code, 127);
}

#[test]
fn a_brief_command_that_succeeds_still_fails_unsampled() {
    if skip_perf_tests() {
        return;
    }
    for recorder in RECORDERS {
        let (code, stderr) = brief(recorder, &[], "exit 0");
        assert_eq!(code, 1, "{recorder:?}: {stderr}");
        assert!(stderr.contains("recorded no samples"), "{stderr}");
    }
}

#[test]
fn keeping_a_perf_data_records_with_perf() {
    let dir = TempDir::new().unwrap();
    let (ok, stderr) = record_with(
        &dir.path().join("no-perf"),
        dir.path(),
        &["--keep-perf-data", "kept.data", "--", "true"],
    );
    assert!(!ok);
    assert!(stderr.contains("perf not found"), "{stderr}");
    assert!(!dir.path().join("kept.data").exists());
}

#[test]
fn a_recording_without_samples_says_why_on_the_perf_script_path() {
    let dir = TempDir::new().unwrap();
    // `record` writes a non-empty data file; `script` prints nothing.
    let perf = fake_perf(
        dir.path(),
        r#"case "$1" in
  record) while [ "$1" != -o ]; do shift; done; echo data > "$2" ;;
esac
exit 0"#,
    );
    let (ok, stderr) = record_with(&perf, dir.path(), &["--perf-script", "--", "true"]);
    assert!(!ok);
    assert!(stderr.contains("perf recorded no samples"), "{stderr}");
    assert!(stderr.contains("too briefly"), "{stderr}");
    assert!(!dir.path().join("flamegraph.svg").exists());
}

#[test]
fn a_target_is_required() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    let (ok, stderr) = record_with(&perf, dir.path(), &[]);
    assert!(!ok);
    assert!(stderr.contains("required"), "{stderr}");
}

#[test]
fn a_pid_that_does_not_exist_is_named() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    let (code, stderr) = exit_of(&perf, dir.path(), &["--pid", "999999999"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "autofold: error: no process with pid 999999999 is running\n"
    );
}

#[test]
fn an_idle_pid_recorded_without_samples_exits_1() {
    if skip_perf_tests() {
        return;
    }
    // A process autofold did not start has no exit code to pass on, even
    // one that fails: `sh -c 'sleep 1; exit 5'` sleeps, unsampled.
    let mut idle = std::process::Command::new("sh")
        .args(["-c", "sleep 1; exit 5"])
        .spawn()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let pid = idle.id().to_string();
    let (code, stderr) = exit_of(Path::new("perf"), dir.path(), &["--pid", &pid]);
    idle.wait().unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("recorded no samples"), "{stderr}");
}

#[test]
fn a_missing_perf_data_file_is_named() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    let (ok, stderr) = record_with(&perf, dir.path(), &["--perf-data", "missing.data"]);
    assert!(!ok);
    assert!(
        stderr.starts_with("autofold: error: missing.data: cannot open"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}
