//! The `fold` and `report` commands as a user runs them.

use std::fs;

use tempfile::TempDir;

use crate::util::{assert_well_formed_xml, autofold, fixture, read_fixture};

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn fold_reads_files_and_writes_folded_stacks_to_stdout() {
    let out = autofold()
        .arg("fold")
        .arg(fixture("cases/mutual.folded"))
        .output();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        read_fixture("cases/mutual.expected")
    );
}

#[test]
fn fold_reads_stdin_when_no_file_or_dash_is_given() {
    let input = read_fixture("cases/mutual.folded");
    let expected = read_fixture("cases/mutual.expected");
    for args in [&["fold"][..], &["fold", "-"][..]] {
        let out = autofold().args(args).stdin(input.clone()).output();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected, "{args:?}");
    }
}

#[test]
fn several_inputs_are_merged_by_summing_counts() {
    let mutual = fixture("cases/mutual.folded");
    let out = autofold().arg("fold").arg(&mutual).arg(&mutual).output();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "prog;main;{even,odd};crunch 18\nprog;main;{even,odd};settle 2\n"
    );
}

#[test]
fn a_malformed_line_names_file_and_line_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("bad.folded");
    fs::write(&input, "p;main;a 1\n\np;main;b lots\n").unwrap();
    let output = dir.path().join("out.folded");
    fs::write(&output, "precious\n").unwrap();
    let out = autofold()
        .arg("fold")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert_eq!(
        stderr,
        format!(
            "autofold: error: {}:3: sample count \"lots\" is not a whole number\n",
            input.display()
        )
    );
    assert_eq!(fs::read_to_string(&output).unwrap(), "precious\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_is_a_one_line_error() {
    let out = autofold()
        .args(["report", "/no/such/stacks.folded"])
        .output();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("/no/such/stacks.folded: cannot open"),
        "{stderr}"
    );
}

#[test]
fn text_in_no_format_is_rejected_with_its_line_but_not_its_bytes() {
    let out = autofold().arg("fold").stdin("\nhello world\n").output();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("autofold: error: <stdin>: text in no known profile format (line 2 is neither folded stacks"),
        "{stderr}"
    );
    assert!(stderr.contains("pprof, "), "lists the formats: {stderr}");
    assert!(!stderr.contains("hello"), "{stderr}");
}

#[test]
fn refuses_to_write_over_an_input() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("stacks.folded");
    fs::copy(fixture("cases/mutual.folded"), &input).unwrap();
    for flag in ["-o", "--svg", "--report"] {
        let out = autofold()
            .arg("fold")
            .arg(&input)
            .arg(flag)
            .arg(&input)
            .output();
        assert!(!out.status.success(), "{flag}");
        assert!(
            stderr_of(&out).contains("refusing to overwrite an input file"),
            "{flag}"
        );
        assert_eq!(
            fs::read_to_string(&input).unwrap(),
            read_fixture("cases/mutual.folded")
        );
    }
}

#[test]
fn writes_folded_svg_and_json_report_files() {
    let dir = TempDir::new().unwrap();
    let (folded, svg, report) = (
        dir.path().join("f.folded"),
        dir.path().join("f.svg"),
        dir.path().join("r.json"),
    );
    let out = autofold()
        .arg("fold")
        .arg(fixture("cases/two-cycles.folded"))
        .arg("-o")
        .arg(&folded)
        .arg("--svg")
        .arg(&svg)
        .arg("--report")
        .arg(&report)
        .output();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        fs::read_to_string(&folded).unwrap(),
        read_fixture("cases/two-cycles.expected")
    );
    let svg = fs::read_to_string(&svg).unwrap();
    assert_well_formed_xml(&svg);
    assert!(svg.contains("Flame graph: 2 recursion cycles folded"));
    assert!(svg.contains(
        "<title>{even,odd} (3 samples, 100.00%; recursion cycle of 2: even, odd)</title>"
    ));
    assert!(
        svg.contains("rgb(90,150,235)"),
        "cycle frames have their own colour"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["total_samples"], 3);
    // Both cycles have 3 samples; ties sort by name, and `w` < `{`.
    assert_eq!(json["cycles"][0]["name"], "walk");
    assert_eq!(json["cycles"][0]["samples"], 3);
    assert_eq!(json["cycles"][1]["name"], "{even,odd}");
    assert_eq!(
        json["cycles"][1]["members"],
        serde_json::json!(["even", "odd"])
    );
    assert_eq!(json["cycles"][1]["samples"], 3);
}

#[test]
fn report_prints_a_table_by_default_and_json_on_request() {
    let text = autofold()
        .arg("report")
        .arg(fixture("cases/mutual.folded"))
        .output();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("1 recursion cycle in 10 samples"),
        "{text}"
    );
    assert!(text.contains("{even,odd}"));
    assert!(text.contains("crunch (9)"));
    let json = autofold()
        .args(["report", "--format", "json"])
        .arg(fixture("cases/mutual.folded"))
        .output();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["cycles"][0]["samples"], 10);
}

#[test]
fn an_invalid_exclude_pattern_is_a_one_line_error() {
    let out = autofold()
        .args(["fold", "--exclude", "("])
        .arg(fixture("cases/mutual.folded"))
        .output();
    assert!(!out.status.success());
    assert_eq!(
        stderr_of(&out),
        "autofold: error: invalid --exclude pattern \"(\": unclosed group\n"
    );
}

#[test]
fn cycles_left_unfolded_are_not_counted_or_coloured_in_the_flame_graph() {
    let dir = TempDir::new().unwrap();
    let svg = dir.path().join("f.svg");
    let out = autofold()
        .args(["fold", "--max-cycle-members", "2", "--svg"])
        .arg(&svg)
        .stdin("p;main;a;b;a;b 2\np;main;x;y;z;x;y;z;x 3\n")
        .output();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "p;main;x;y;z;x;y;z;x 3\np;main;{a,b} 2\n"
    );
    let svg = fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("Flame graph: 1 recursion cycle folded"));
    assert!(!svg.contains("{x,y,z}"));
}

#[test]
fn cycles_left_unfolded_are_still_reported_with_their_samples() {
    // {x,y,z} has three members, more than --max-cycle-members 2: its
    // runs stay unfolded, but the report still counts the 3 samples of
    // the one stack it is on, 7 frames deep.
    let out = autofold()
        .args(["report", "--max-cycle-members", "2", "--format", "json"])
        .stdin("p;main;a;b;a;b 2\np;main;x;y;z;x;y;z;x 3\n")
        .output();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cycles = json["cycles"].as_array().unwrap();
    let xyz = cycles.iter().find(|c| c["name"] == "{x,y,z}").unwrap();
    assert_eq!(xyz["folded"], false);
    assert_eq!(xyz["samples"], 3);
    assert_eq!(xyz["max_depth"], 7);
    let ab = cycles.iter().find(|c| c["name"] == "{a,b}").unwrap();
    assert_eq!((&ab["folded"], &ab["samples"]), (&true.into(), &2.into()));
}

#[test]
fn flame_graph_options_reach_inferno_and_reversed_cycles_keep_colour_and_members() {
    let dir = TempDir::new().unwrap();
    let svg = dir.path().join("f.svg");
    let out = autofold()
        .arg("fold")
        .arg(fixture("cases/two-cycles.folded"))
        .arg("--svg")
        .arg(&svg)
        .args(["--reverse", "--notes", "run -- 2", "--font-size", "15"])
        .args(["--frame-height", "20", "--count-name", "ticks"])
        .output();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let svg = fs::read_to_string(&svg).unwrap();
    assert_well_formed_xml(&svg);
    assert!(
        svg.contains("<!--NOTES: run - - 2-->"),
        "a comment cannot hold --"
    );
    assert!(svg.contains("font-size:15px"));
    assert!(
        svg.contains("height=\"19\""),
        "a 20-pixel frame less its 1-pixel gap"
    );
    // Reversed, the leaf stands on `all` and the root label is on top.
    let drawn = crate::util::svg::frames(&svg);
    let names: Vec<&str> = drawn.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        ["all", "leaf", "walk", "{even,odd}", "main", "prog"],
        "one frame a level, bottom up"
    );
    let cycle = &drawn[3];
    assert_eq!(
        cycle.title,
        "{even,odd} (3 ticks, 100.00%; recursion cycle of 2: even, odd)"
    );
    assert_eq!(cycle.fill, "rgb(90,150,235)");
    assert_eq!(drawn[2].title, "walk (3 ticks, 100.00%; direct recursion)");
}
