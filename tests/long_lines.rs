//! Lines of any length: detection and parsing need whole lines, and deep
//! stacks (async-profiler keeps 2,048 frames, py-spy and perf with frame
//! pointers keep more) make lines of megabytes.

use std::fs;

use serde_json::Value;

use crate::util::autofold;

/// A folded line `p;main;is_even;is_odd;…;work COUNT` of `depth`
/// recursion frames.
fn deep_line(depth: usize, count: u64) -> String {
    let tower: Vec<&str> = (0..depth)
        .map(|i| if i % 2 == 0 { "is_even" } else { "is_odd" })
        .collect();
    format!("p;main;{};work {count}\n", tower.join(";"))
}

#[test]
fn a_four_hundred_thousand_frame_line_folds() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("deep.folded");
    let text = format!("{}{}", deep_line(400_000, 3), deep_line(6, 2));
    assert!(text.len() > 2_400_000, "a line of megabytes");
    fs::write(&input, &text).unwrap();
    let out = autofold()
        .current_dir(dir.path())
        .args(["fold", input.to_str().unwrap()])
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "p;main;{is_even,is_odd};work 5\n"
    );
}

#[test]
fn a_five_thousand_frame_py_spy_stack_reads() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("py.txt");
    let frames: Vec<&str> = (0..5_000)
        .map(|i| match i % 2 {
            0 => "even (deep.py:3)",
            _ => "odd (deep.py:6)",
        })
        .collect();
    let text = format!("<module> (deep.py:10);{} 7\n", frames.join(";"));
    fs::write(&input, &text).unwrap();
    let out = autofold()
        .current_dir(dir.path())
        .args(["report", input.to_str().unwrap(), "--format", "json"])
        .success();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["format"], "py-spy folded stacks");
    assert_eq!(report["total_samples"], 7);
    assert_eq!(report["cycles"][0]["name"], "{even,odd} (deep.py)");
    assert_eq!(report["cycles"][0]["max_depth"], 5_000);
}

#[test]
fn an_error_after_a_long_line_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.folded");
    let text = format!("{}p;main;x many\n", deep_line(300_000, 1));
    fs::write(&input, &text).unwrap();
    let out = autofold().args(["fold", input.to_str().unwrap()]).output();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "autofold: error: {}:2: sample count \"many\" is not a whole number",
            input.display()
        )
    );
}

#[test]
fn repeated_lines_are_one_stack_with_their_counts_summed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.folded");
    // Repeated at once and far apart, with another stack between.
    let mut text = "p;main;even;odd;even;odd;work 1\n".repeat(200_000);
    text.push_str("p;main;other 2\n");
    text.push_str(&"p;main;even;odd;even;odd;work 3\n".repeat(1_000));
    fs::write(&input, &text).unwrap();
    let out = autofold()
        .current_dir(dir.path())
        .args(["fold", input.to_str().unwrap()])
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "p;main;other 2\np;main;{even,odd};work 203000\n"
    );
}
