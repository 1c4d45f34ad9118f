//! Inputs autofold cannot read, as a user meets them on the command line:
//! one line on stderr that names the file and says what is wrong (and
//! where, when it can), a non-zero exit status, nothing on stdout, and the
//! input file left as it was. perf.data inputs run a stand-in perf
//! (`$PERF`), so these tests need no recording.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;
use tempfile::TempDir;

use crate::util::perf::{even_odd, perf_record, samples_in, skip};
use crate::util::{autofold, fixture};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An input file written for one test, with an mtime in the past, so that
/// any write to it would show.
struct InputFile {
    _dir: TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
    modified: SystemTime,
}

impl InputFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        Self {
            _dir: dir,
            path,
            bytes: bytes.to_vec(),
            modified,
        }
    }

    /// Fails the test unless the file still has its bytes and its mtime.
    fn assert_unchanged(&self) {
        assert_eq!(fs::read(&self.path).unwrap(), self.bytes, "input rewritten");
        let modified = fs::metadata(&self.path).unwrap().modified().unwrap();
        assert_eq!(modified, self.modified, "input touched");
    }
}

/// Runs `autofold ARGS FILE` (with `$PERF` set to `perf` when given) and
/// checks what every failure must be; returns the message after
/// `autofold: error: FILE: `.
fn failure(input: &InputFile, args: &[&str], perf: Option<&Path>) -> String {
    let mut command = autofold();
    if let Some(perf) = perf {
        command.env("PERF", perf);
    }
    let out = command.args(args).arg(&input.path).output();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    let prefix = format!("autofold: error: {}: ", input.path.display());
    let message = stderr
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("does not start with {prefix:?}: {stderr}"))
        .trim_end()
        .to_string();
    input.assert_unchanged();
    message
}

/// `fold FILE`'s failure message.
fn fold_failure(input: &InputFile) -> String {
    failure(input, &["fold"], None)
}

/// The number after `word ` in `message`.
fn number_after(message: &str, word: &str) -> u64 {
    let at = message
        .find(word)
        .unwrap_or_else(|| panic!("no {word:?} in {message}"));
    let digits: String = message[at + word.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {word:?} in {message}"))
}

#[test]
fn a_truncated_gzip_file_says_it_ends_early_and_where() {
    let whole = fs::read(fixture("even-odd/even-odd.folded.gz")).unwrap();
    let input = InputFile::new("cut.folded.gz", &whole[..whole.len() / 2]);
    let message = fold_failure(&input);
    assert!(
        message.starts_with("cannot read: gzip data ends early (truncated file?)"),
        "{message}"
    );
    let offset = number_after(&message, "near compressed byte ");
    assert!(offset <= whole.len() as u64 / 2, "{message}");
}

#[test]
fn gzip_of_plain_text_is_named_and_not_quoted() {
    let text = "It was the best of times, it was the worst of times, it was the age of wisdom.\n";
    let input = InputFile::new("novel.txt.gz", &gzip(text.repeat(20).as_bytes()));
    let message = fold_failure(&input);
    assert!(
        message.starts_with("gzip-compressed text in no known profile format"),
        "{message}"
    );
    assert!(message.contains("each also gzip-compressed"), "{message}");
    assert!(!message.contains("best of times"), "{message}");
}

#[test]
fn a_pprof_profile_cut_in_the_middle_names_the_byte_where_it_breaks() {
    let whole = fs::read(fixture("pprof-rs/even-odd.pb")).unwrap();
    let cut = whole.len() / 2;
    let input = InputFile::new("cut.pb", &whole[..cut]);
    let message = fold_failure(&input);
    let offset = number_after(&message, "byte ");
    assert!(offset < cut as u64, "{message}");
    assert!(
        message.ends_with(
            "not a valid pprof profile: the data ends inside this field (truncated file?)"
        ),
        "{message}"
    );
}

#[test]
fn json_of_another_shape_is_named() {
    let input = InputFile::new(
        "trace.json",
        br#"{"traceEvents":[{"name":"main","ph":"X","ts":0,"dur":10,"pid":1,"tid":1}]}"#,
    );
    let message = fold_failure(&input);
    assert!(
        message.starts_with("JSON of an unknown shape (not a Chrome/Node .cpuprofile"),
        "{message}"
    );
    assert!(!message.contains("traceEvents"), "{message}");
}

#[test]
fn random_binary_is_named_binary_and_not_quoted() {
    // A fixed xorshift sequence: the same bytes every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let input = InputFile::new("random.bin", &bytes);
    let message = fold_failure(&input);
    assert!(
        message.starts_with("binary data of an unknown format; autofold reads "),
        "{message}"
    );
}

#[test]
fn an_unknown_sample_type_lists_the_profile_s_types() {
    let bytes = fs::read(fixture("go/even-odd.pprof")).unwrap();
    let input = InputFile::new("even-odd.pprof", &bytes);
    let message = failure(&input, &["fold", "--sample-type", "nosuch"], None);
    assert_eq!(
        message,
        "no sample type \"nosuch\" in this profile; it has samples/count, cpu/nanoseconds"
    );
}

/// A real recording of the bundled even-odd program (DWARF call graphs),
/// or `None` where perf tests are skipped.
fn recording(dir: &Path) -> Option<(Vec<u8>, u64)> {
    if skip() {
        return None;
    }
    let data = dir.join("recorded.data");
    let options = ["-F", "499", "--call-graph", "dwarf,16384"];
    perf_record(&data, &options, even_odd(), &["40", "10"]);
    let samples = samples_in(&data);
    Some((fs::read(&data).unwrap(), samples))
}

/// `report --format json` of `input`.
fn json_report(input: &InputFile) -> serde_json::Value {
    let out = autofold()
        .args(["report", "--format", "json"])
        .arg(&input.path)
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    input.assert_unchanged();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_perf_data_input_is_read_in_process_and_listed_once() {
    let dir = TempDir::new().unwrap();
    let Some((bytes, samples)) = recording(dir.path()) else {
        return;
    };
    let input = InputFile::new("perf.data", &bytes);
    let report = json_report(&input);
    assert_eq!(report["total_samples"], samples, "every sample perf lists");
    assert_eq!(
        report["inputs"],
        serde_json::json!([{
            "source": input.path.display().to_string(),
            "format": "perf.data",
            "root_labels": true,
        }])
    );
    assert_eq!(report["cycles"][0]["name"], "even_odd::{even,odd}");
}

#[test]
fn a_gzip_compressed_perf_data_file_is_read_decompressed() {
    let dir = TempDir::new().unwrap();
    let Some((bytes, samples)) = recording(dir.path()) else {
        return;
    };
    let input = InputFile::new("perf.data.gz", &gzip(&bytes));
    let report = json_report(&input);
    assert_eq!(report["total_samples"], samples);
    assert_eq!(report["inputs"][0]["format"], "gzip-compressed perf.data");
    assert_eq!(
        report["inputs"][0]["source"],
        input.path.display().to_string()
    );
}

#[test]
fn a_broken_perf_data_input_is_a_one_line_error_naming_it() {
    let input = InputFile::new("broken.data", b"PERFILE2 and then the rest of a recording");
    let message = failure(&input, &["fold"], None);
    assert_eq!(
        message,
        "not a readable perf.data file: its header names sections past the end of the file"
    );
}
