//! `autofold record` error paths, with a stand-in perf set through `$PERF`
//! for `--perf`. (The success paths run the real sampler and real perf: see
//! tests/record.rs and tests/sampler.rs, which also has the kernel refusing
//! perf events.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::autofold;

/// Writes an executable shell script standing in for perf.
fn fake_perf(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("perf");
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs `autofold record` with `$PERF` set; returns (success, stderr).
fn record_with(perf: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = autofold()
        .current_dir(dir)
        .env("PERF", perf)
        .arg("record")
        .args(args)
        .output();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
fn a_command_that_does_not_exist_is_named() {
    let dir = TempDir::new().unwrap();
    let perf = fake_perf(dir.path(), "exit 0");
    let (ok, stderr) = record_with(&perf, dir.path(), &["--", "./no-such-program", "--flag"]);
    assert!(!ok);
    assert_eq!(
        stderr,
        "autofold: error: command not found: ./no-such-program\n"
    );
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
    let (ok, stderr) = record_with(&perf, dir.path(), &["--pid", "999999999"]);
    assert!(!ok);
    assert_eq!(
        stderr,
        "autofold: error: no process with pid 999999999 is running\n"
    );
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
