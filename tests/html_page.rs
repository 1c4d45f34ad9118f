//! `--html`, issue #24: the page's numbers agree with each other and with
//! the JSON report, the diff page says what it compares, long cycle names
//! read at a glance, and unfolding is kept in view and in the address.
//! Pages are read in headless Chromium, as in `html.rs`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::html::{
    assert_no_script_errors, browser_on, fold_page, js, largest_cycle, mark_frame, page,
};
use crate::util::{autofold, fixture, json_report};

/// Writes `text` to `name` in `dir`; returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The page of the folded `text`, written to `name` in `dir` and read
/// without root labels (its first frames are functions).
fn unlabelled_page(dir: &Path, name: &str, text: &str) -> PathBuf {
    let input = write(dir, name, text);
    let args = ["fold", input.to_str().unwrap(), "--root-label", "no"];
    page(dir, &[&args[..], &["-o", "folded.txt"]].concat())
}

/// The diff page of the even-odd fixture against its deeper recording.
fn even_odd_diff_page(dir: &Path) -> PathBuf {
    let (before, after) = (
        fixture("even-odd/even-odd.folded"),
        fixture("even-odd/even-odd-deep.folded"),
    );
    page(
        dir,
        &[
            "diff",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
            "-o",
            "diff.svg",
        ],
    )
}

/// The cycle `name` of a JSON report.
fn cycle<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cycle {name} in {report}"))
}

/// Defect 1: a caller's "calls in" in the drawing is the samples the
/// section lists for it, re-attached stacks included.
#[test]
fn a_callers_calls_in_equal_its_entries_in_the_section() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "interp/interp.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let pairs = browser.eval(
        "(() => { const s = document.querySelector('section.cycle');
           const listed = {};
           s.querySelectorAll('.boundary > div:first-child li').forEach(li => {
             const m = li.textContent.match(/^(.*) \\((\\d+)\\)$/);
             listed[m[1]] = Number(m[2]); });
           return Array.from(s.querySelectorAll('svg.call-graph .node.caller')).map(n => [
             n.querySelector('title').textContent,
             Number(n.querySelector('text.figure').textContent.replace(/\\D+/g, '')),
             listed[n.querySelector('title').textContent]]); })()",
    );
    let pairs = pairs.as_array().unwrap();
    assert!(!pairs.is_empty(), "the cycle has callers");
    for pair in pairs {
        assert_eq!(pair[1], pair[2], "drawing and list of {}", pair[0]);
    }
}

/// Defect 2: the diff page names the inputs of both sides.
#[test]
fn the_diff_page_lists_both_inputs() {
    let dir = TempDir::new().unwrap();
    let page = even_odd_diff_page(dir.path());
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let inputs = browser.eval("document.querySelector('.inputs').textContent");
    let inputs = inputs.as_str().unwrap();
    assert!(inputs.contains("even-odd.folded"), "{inputs}");
    assert!(inputs.contains("even-odd-deep.folded"), "{inputs}");
    assert!(
        inputs.find("even-odd.folded") < inputs.find("even-odd-deep.folded"),
        "before first: {inputs}"
    );
}

/// Defect 3: on the diff page blue means "shrank"; cycle frames are
/// outlined instead, and the hint says so.
#[test]
fn the_diff_page_outlines_cycle_frames_and_says_so() {
    let dir = TempDir::new().unwrap();
    let page = even_odd_diff_page(dir.path());
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let hint = browser.eval("document.querySelector('section.flame .hint').textContent");
    let hint = hint.as_str().unwrap();
    assert!(!hint.contains("Blue frames are recursion cycles"), "{hint}");
    assert!(hint.contains("outlined"), "{hint}");
    let stroke = browser.eval(
        "(() => { const r = document.querySelector('#frames g[data-autofold-cycle] rect');
           const s = getComputedStyle(r); return [s.stroke, parseFloat(s.strokeWidth)]; })()",
    );
    assert_ne!(stroke[0], "none", "{stroke}");
    assert!(stroke[1].as_f64().unwrap() >= 1.0, "{stroke}");
}

/// Defect 4: totals that differ by more than 10 % are normalised, and the
/// page says so; a frame whose share barely changed is then drawn pale.
#[test]
fn the_diff_page_normalises_different_totals_and_says_so() {
    let dir = TempDir::new().unwrap();
    let page = even_odd_diff_page(dir.path());
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let summary = browser.eval("document.querySelector('.summary').textContent");
    let summary = summary.as_str().unwrap();
    assert!(summary.contains("normalised"), "{summary}");
    let fill = browser.eval(
        "(() => { let best = null, width = -1;
           for (const g of document.querySelectorAll('#frames > g')) {
             const t = g.querySelector('title').textContent;
             const w = Number(g.querySelector('rect').getAttribute('fg:w'));
             if (t.startsWith('even_odd::crunch (') && w > width) { best = g; width = w; } }
           return best.querySelector('rect').getAttribute('fill'); })()",
    );
    let rgb: Vec<u32> = fill
        .as_str()
        .unwrap()
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    assert!(
        rgb[1] > 190 && rgb[2] > 190,
        "crunch's share hardly changed, yet it is drawn {fill}"
    );
}

/// Defect 5: the two calls of a two-member cycle are two curves, apart
/// by more than their widths (boxes of short names put them on one).
#[test]
fn calls_both_ways_are_two_curves() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "cases/two-cycles.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let gaps = browser.eval(
        "Array.from(document.querySelectorAll('section.cycle svg.call-graph')).map(svg => {
           const paths = Array.from(svg.querySelectorAll('.edge.inside'))
             .filter(e => e.dataset.from !== e.dataset.to).map(e => e.querySelector('path'));
           if (paths.length !== 2) return null;
           const mid = p => p.getPointAtLength(p.getTotalLength() / 2);
           const [a, b] = paths.map(mid);
           return Math.hypot(a.x - b.x, a.y - b.y); }).filter(g => g !== null)",
    );
    let gaps = gaps.as_array().unwrap();
    assert!(!gaps.is_empty());
    for gap in gaps {
        assert!(gap.as_f64().unwrap() > 20.0, "midpoints {gap} px apart");
    }
}

/// Defect 6: at 800 px the page does not overflow and the table's names
/// keep a readable width.
#[test]
fn a_narrow_window_has_no_horizontal_overflow() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "serde-nested/serde-nested.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    browser.set_viewport(800, 900);
    browser.load_file(&page, "");
    let sizes = browser.eval(
        "[document.documentElement.scrollWidth, innerWidth,
          Math.min(...Array.from(document.querySelectorAll('.cycle-table td.name'))
            .map(td => td.getBoundingClientRect().width))]",
    );
    assert!(
        sizes[0].as_f64().unwrap() <= sizes[1].as_f64().unwrap(),
        "the page is wider than the window: {sizes}"
    );
    assert!(
        sizes[2].as_f64().unwrap() >= 150.0,
        "the name column is squeezed: {sizes}"
    );
}

/// Defects 7 and 8: unfolding keeps the unfolded members in view, folding
/// back is at hand by the flame graph, and the address keeps it unfolded.
#[test]
fn unfolding_stays_in_view_and_in_the_address() {
    let dir = TempDir::new().unwrap();
    let input = "interp/interp.folded";
    let page = fold_page(dir.path(), input);
    let report = json_report(&fixture(input), &[]);
    let name = report["cycles"][0]["name"].as_str().unwrap().to_string();
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    browser.click(&format!("button.unfold[data-unfold={}]", js(&name)));
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length > 0");
    browser.wait_for("new URLSearchParams(location.search).has('unfold')");
    let in_view = browser.eval(
        "Array.from(document.querySelectorAll('#frames > g[data-unfolded-member] rect')).some(r => {
           const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; })",
    );
    assert_eq!(in_view, Value::Bool(true), "an unfolded member is in view");
    let address = browser.eval("location.search");
    assert_eq!(
        browser.eval("new URLSearchParams(location.search).get('unfold')"),
        Value::String(name.clone()),
        "{address}"
    );
    // Reloaded with that address, it opens unfolded.
    let search = address.as_str().unwrap().to_string();
    browser.load_file(&page, &search);
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length > 0");
    // Folding back is by the flame graph.
    browser.click("section.flame button.fold-back");
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length === 0");
    assert_eq!(
        browser.eval("new URLSearchParams(location.search).has('unfold')"),
        Value::Bool(false)
    );
    assert_no_script_errors(&mut browser);
}

/// A profile where stacks cut in cycle `{x,y}` are re-attached under the
/// path through cycle `{a,b}`.
const REROOTED: &str = "prog;main;a;b;a;b;x;y;x;y;leaf 10\nprog;x;y;x;leaf 5\n";

/// Defect 9: a cycle's samples are the width of its frames in the flame
/// graph and folded output: stacks re-attached under it included.
#[test]
fn a_cycles_samples_count_the_stacks_re_attached_under_it() {
    let dir = TempDir::new().unwrap();
    let input = write(dir.path(), "cut.folded", REROOTED);
    let report = json_report(&input, &[]);
    let out = autofold().arg("fold").arg(&input).success();
    let folded = String::from_utf8(out.stdout).unwrap();
    for name in ["{a,b}", "{x,y}"] {
        let under: u64 = folded
            .lines()
            .filter(|l| l.split(';').any(|f| f.split(' ').next() == Some(name)))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum();
        assert_eq!(cycle(&report, name)["samples"], under, "{name}:\n{folded}");
    }
    assert_eq!(cycle(&report, "{a,b}")["rerooted_under_samples"], 5);
    let page = page(dir.path(), &["fold", input.to_str().unwrap(), "-o", "out"]);
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let shown = browser
        .eval("document.querySelector('tr[data-cycle-row=\"{a,b}\"] td.number').textContent");
    assert_eq!(shown, "15");
}

/// The long members of [`long_named_profile`].
const LONG_MEMBERS: [&str; 4] = [
    "rustc_mir_transform::liveness::check_liveness::{closure#0}",
    "rustc_query_impl::execution::try_execute_query::<rustc_data_structures::vec_cache::VecCache<rustc_span::def_id::LocalDefId, rustc_middle::query::erase::Erased<[u8, 8]>>, false, false, false>",
    "rustc_query_impl::plumbing::__rust_begin_short_backtrace::<rustc_query_impl::query_impl::mir_borrowck::dynamic_query::{closure#2}::{closure#0}, rustc_middle::query::erase::Erased<[u8, 8]>>",
    "rustc_middle::ty::context::TyCtxt::ensure_query_is_computed_for_the_body",
];

/// A recursion through four members with long names.
fn long_named_profile(dir: &Path) -> PathBuf {
    let run = LONG_MEMBERS.join(";");
    write(
        dir,
        "long.folded",
        &format!("rustc;main;{run};{run};leaf 10\nrustc;main;other 2\n"),
    )
}

/// Defect 10: a long cycle name is shortened where it is shown, the full
/// names kept in its tooltip, the member table and the JSON report.
#[test]
fn a_long_cycle_name_is_shown_short_with_the_full_names_at_hand() {
    let dir = TempDir::new().unwrap();
    let input = long_named_profile(dir.path());
    let report = json_report(&input, &[]);
    let name = report["cycles"][0]["name"].as_str().unwrap().to_string();
    assert!(name.chars().count() > 100, "{name}");
    let page = page(dir.path(), &["fold", input.to_str().unwrap(), "-o", "out"]);
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let row = browser.eval(&format!(
        "(() => {{ const a = document.querySelector('tr[data-cycle-row=' + JSON.stringify({}) + '] td.name a');
           return [a.textContent, a.title]; }})()",
        js(&name)
    ));
    let shown = row[0].as_str().unwrap();
    assert!(shown.chars().count() <= 64, "{shown}");
    assert!(shown.contains("+"), "the other members counted: {shown}");
    assert_eq!(
        row[1],
        Value::String(name.clone()),
        "full name in its tooltip"
    );
    let heading = browser.eval("document.querySelector('section.cycle h2').textContent");
    assert!(heading.as_str().unwrap().chars().count() <= 70, "{heading}");
    let members = browser.eval(
        "Array.from(document.querySelectorAll('section.cycle tr[data-member]')).map(r => r.dataset.member).sort()",
    );
    let mut expected = LONG_MEMBERS.to_vec();
    expected.sort();
    assert_eq!(members, serde_json::json!(expected));
    let label =
        browser.eval("document.querySelector('#frames g[data-autofold-cycle] text').textContent");
    let label = label.as_str().unwrap().trim_end();
    assert!(
        shown.starts_with(label.trim_end_matches("..")),
        "the flame graph's label {label:?} is the short name {shown:?}"
    );
    assert_no_script_errors(&mut browser);
}

/// Item 2: each member's own numbers, equal to the JSON report's; a
/// click on its box selects its row.
#[test]
fn each_member_has_its_own_numbers_and_its_box_selects_them() {
    let dir = TempDir::new().unwrap();
    let input = "interp/interp.folded";
    let page = fold_page(dir.path(), input);
    let report = json_report(&fixture(input), &[]);
    let first = &report["cycles"][0];
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let rows = browser.eval(
        "Array.from(document.querySelector('section.cycle').querySelectorAll('tr[data-member]'))
           .map(r => [r.dataset.member, Number(r.dataset.self), Number(r.dataset.total)])",
    );
    let rows = rows.as_array().unwrap();
    let members = first["members"].as_array().unwrap();
    assert_eq!(rows.len(), members.len());
    for row in rows {
        let i = members.iter().position(|m| *m == row[0]).unwrap();
        assert_eq!(row[1], first["member_self_samples"][i]["samples"], "{row}");
        assert_eq!(row[2], first["member_total_samples"][i]["samples"], "{row}");
        assert!(row[2].as_u64() >= row[1].as_u64(), "{row}");
    }
    browser.click("section.cycle svg.call-graph .node.member[data-member=\"0\"] rect");
    let selected = browser.eval(
        "Array.from(document.querySelectorAll('section.cycle tr[data-member][aria-selected=\"true\"]')).map(r => r.dataset.member)",
    );
    assert_eq!(selected, serde_json::json!([members[0]]));
    assert_no_script_errors(&mut browser);
}

#[test]
fn the_story_comes_first_naming_the_main_recursion_and_where_its_time_goes() {
    let dir = TempDir::new().unwrap();
    let html = std::fs::read_to_string(fold_page(dir.path(), "even-odd/even-odd.folded")).unwrap();
    let story = html.find("<p class=\"story\"").expect("a story line");
    let flame = html.find("<section class=\"flame\"").unwrap();
    assert!(story < flame, "the story stands above the flame graph");
    let line = &html[story..story + html[story..].find("</p>").unwrap()];
    assert!(
        line.contains("The main recursion is even_odd::{even,odd}: 99.9 % of the samples"),
        "{line}"
    );
    assert!(
        line.contains("its time goes to even_odd::crunch ("),
        "{line}"
    );
}

/// Item 4: trivial self-recursions and cycles under 1 % wait behind one
/// "show all" button; the main cycles come first.
#[test]
fn minor_cycles_wait_behind_show_all() {
    let dir = TempDir::new().unwrap();
    // Two main cycles, one of 0.24 %, two trivial self-recursions.
    let page = fold_page(dir.path(), "cpp/visit.folded");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Show all 5 cycles"), "the button");
    assert!(
        html.contains("3 more: 2 trivial self-recursions and 1 under 1 % of the samples"),
        "what it hides"
    );
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let shown = "Array.from(document.querySelectorAll('tr[data-cycle-row]'))
        .filter(tr => tr.getBoundingClientRect().height > 0).length";
    assert_eq!(browser.eval(shown), 2, "the main cycles only");
    browser.eval("document.querySelector('button.show-all').click()");
    assert_eq!(browser.eval(shown), 5, "every cycle after show all");
    assert_no_script_errors(&mut browser);
}

/// Item 5: a reader whose system prefers dark gets a dark page, its text
/// light (the drawings' warmth legend too); the drawings' boxes keep dark
/// text on their light fills.
#[test]
fn a_dark_system_gets_a_dark_page() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    // A transparent background shows the browser's white canvas.
    let colours = "(() => { const rgb = c => { const v = c.match(/[\\d.]+/g).map(Number);
        return v.length > 3 && v[3] === 0 ? 765 : v[0] + v[1] + v[2]; };
      const body = getComputedStyle(document.body);
      const box = document.querySelector('svg.call-graph .node text');
      const legend = document.querySelector('.warmth-legend');
      return [rgb(body.backgroundColor), rgb(body.color),
              box ? rgb(getComputedStyle(box).fill) : 0,
              legend ? rgb(getComputedStyle(legend).color) : -1]; })()";
    let light = browser.eval(colours);
    assert!(
        light[0].as_u64().unwrap() > 600,
        "light by default: {light}"
    );
    let legend = light[3].as_i64().unwrap();
    assert!((0..400).contains(&legend), "a dark legend: {light}");
    browser.prefer_dark();
    browser.load_file(&page, "");
    let dark = browser.eval(colours);
    assert!(dark[0].as_u64().unwrap() < 150, "a dark background: {dark}");
    assert!(dark[1].as_u64().unwrap() > 500, "light text: {dark}");
    assert!(
        dark[2].as_u64().unwrap() < 150,
        "dark text in boxes: {dark}"
    );
    assert!(dark[3].as_i64().unwrap() > 400, "a light legend: {dark}");
    assert_no_script_errors(&mut browser);
}

/// Item 5: the keyboard reaches rows, boxes and frames; Enter does what a
/// click does, Esc resets the zoom (in the view and the address).
#[test]
fn the_keyboard_opens_rows_zooms_frames_and_esc_resets() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let enter = |what: &str| {
        format!(
            "(() => {{ const el = document.querySelector({}); el.focus();
               document.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true }}));
               return el.tabIndex; }})()",
            js(what)
        )
    };
    assert_eq!(
        browser.eval(&enter("tr[data-href]")),
        0,
        "rows are tabbable"
    );
    let hash = browser.eval("location.hash");
    let href = browser.eval("document.querySelector('tr[data-href]').getAttribute('data-href')");
    assert_eq!(hash, href, "Enter on a row opens its section");
    // The widest frame under the root: zoom into it.
    assert_eq!(
        browser.eval(&enter("#frames > g:nth-of-type(2)")),
        0,
        "frames too"
    );
    let zoomed = "!document.getElementById('unzoom').classList.contains('hide') && location.search.includes('x=')";
    assert_eq!(browser.eval(zoomed), true, "Enter zooms");
    browser.eval(
        "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))",
    );
    assert_eq!(browser.eval(zoomed), false, "Esc resets");
    assert_eq!(browser.eval("location.search.includes('x=')"), false);
    assert_no_script_errors(&mut browser);
}

/// A cycle of three parsers: `parse_expr` is on every stack (100 samples),
/// `parse_term` on 50 of them, `parse_factor` on 30, no stack on both.
/// Each member is twice on some stack, so none is kept out of the cycle.
const PARSERS: &str = "main;parse_expr;parse_term;parse_expr;parse_term;parse_expr;eval 50\n\
                       main;parse_expr;parse_factor;parse_expr;parse_factor;parse_expr;eval 30\n\
                       main;parse_expr;eval 20\n";

/// The page of [`PARSERS`], read without root labels (`main` is a
/// function), opened at `suffix`.
fn parsers_page(dir: &Path, suffix: &str) -> Option<crate::util::browser::Browser> {
    browser_on(&unlabelled_page(dir, "parsers.folded", PARSERS), suffix)
}

/// The flame graph's "Matched" line after searching `term` from the address.
fn matched_after_search(term: &str) -> String {
    let dir = TempDir::new().unwrap();
    let Some(mut browser) = parsers_page(dir.path(), &format!("?s={term}")) else {
        return String::new();
    };
    let matched = browser.eval("document.getElementById('matched').textContent");
    assert_no_script_errors(&mut browser);
    matched.as_str().unwrap().to_string()
}

/// Item 2: a search for a member matches the samples of the stacks it is
/// on (30 of 100 for `parse_factor`), not its whole cycle's frame (the
/// cycle's name and tooltip name every member, so inferno's own search
/// said 100 %).
#[test]
fn a_search_for_a_member_matches_its_own_samples() {
    let matched = matched_after_search("parse_factor");
    if matched.is_empty() {
        return;
    }
    assert_eq!(matched, "Matched: 30.0%");
    // Two members on no stack together: their totals add up, which is an
    // upper bound in general, and the line says so.
    assert_eq!(
        matched_after_search("parse_t.rm%7Cparse_factor"),
        "Matched: at most 80.0%"
    );
    // Every member: every stack through the cycle.
    assert_eq!(matched_after_search("parse_"), "Matched: 100%");
}

/// Item 2: the members matched are listed under the graph with their own
/// figures, and each links to its row.
#[test]
fn a_search_lists_the_members_matched_with_their_own_figures() {
    let dir = TempDir::new().unwrap();
    let Some(mut browser) = parsers_page(dir.path(), "?s=parse_term") else {
        return;
    };
    let line = browser.eval("document.getElementById('search-members').textContent");
    let line = line.as_str().unwrap();
    assert!(line.contains("parse_term (in "), "{line}");
    assert!(line.contains("total 50.0 %"), "{line}");
    let links = browser
        .eval("Array.from(document.querySelectorAll('#search-members a')).map(a => a.textContent)");
    assert_eq!(links, serde_json::json!(["parse_term"]), "{line}");
    browser.click("#search-members a");
    let selected = browser.eval(
        "Array.from(document.querySelectorAll('tr[data-member][aria-selected=\"true\"]')).map(r => r.dataset.member)",
    );
    assert_eq!(selected, serde_json::json!(["parse_term"]));
    assert_no_script_errors(&mut browser);
}

/// Items 2 and 5: a member's frame in the unfolded flame graph selects its
/// row, the address keeps the member, and that address selects it again.
#[test]
fn a_members_frame_selects_its_row_and_the_address_keeps_it() {
    let dir = TempDir::new().unwrap();
    let Some(mut browser) = parsers_page(dir.path(), "") else {
        return;
    };
    browser.click("button.unfold");
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length > 0");
    mark_frame(&mut browser, "parse_factor");
    let scrolled = browser.eval("scrollY");
    browser.click("g[data-test] rect");
    let selected = "Array.from(document.querySelectorAll('tr[data-member][aria-selected=\"true\"]')).map(r => r.dataset.member)";
    assert_eq!(browser.eval(selected), serde_json::json!(["parse_factor"]));
    // The page stays on the flame graph the click zoomed.
    assert_eq!(browser.eval("scrollY"), scrolled);
    let address = browser.eval("location.search");
    let address = address.as_str().unwrap().to_string();
    assert!(address.contains("member=parse_factor"), "{address}");
    // Opened from that address, the row is selected and in view.
    browser.load_file(&dir.path().join("page.html"), &address);
    assert_eq!(browser.eval(selected), serde_json::json!(["parse_factor"]));
    let in_view = browser.eval(
        "(() => { const b = document.querySelector('tr[aria-selected=\"true\"]').getBoundingClientRect();
           return b.top >= 0 && b.bottom <= innerHeight; })()",
    );
    assert_eq!(in_view, serde_json::Value::Bool(true));
    assert_no_script_errors(&mut browser);
}

/// Item 6: a cycle entered from more places than a section lists shows
/// the first [`MAX_LISTED`](autofold's view.rs) and counts the rest; the
/// cycle table's row still counts every caller.
#[test]
fn a_section_lists_its_first_callers_and_counts_the_rest() {
    let dir = TempDir::new().unwrap();
    // 45 callers, caller_N with N + 1 samples, into one recursion.
    let text: String = (0..45)
        .map(|n| format!("main;caller_{n:02};rec;rec;leaf {}\n", n + 1))
        .collect();
    let page = unlabelled_page(dir.path(), "callers.folded", &text);
    let html = std::fs::read_to_string(page).unwrap();
    let listed = html.matches("<li><code>caller_").count();
    assert_eq!(listed, 30, "callers listed in the section");
    // Left out: caller_00 to caller_14, with 1 to 15 samples: 120.
    assert!(
        html.contains("and 15 more (120 samples): the JSON report lists them all"),
        "no count of the rest"
    );
}

/// The page of a recording of `fixtures/twins` (two cycles, each with a
/// member printed `twins::step`) and its report; `None` where recording
/// is skipped.
fn twins_page(dir: &Path) -> Option<(PathBuf, Value)> {
    if crate::util::perf::skip() {
        return None;
    }
    let program = crate::util::perf::twins();
    crate::util::perf::record(dir)
        .args(["--html", "page.html", "--"])
        .arg(program)
        .success();
    let report = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    Some((dir.join("page.html"), report))
}

/// The names of the cycles of `report` that have a member `member`.
fn cycles_with(report: &Value, member: &str) -> Vec<String> {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["members"].as_array().unwrap().iter().any(|m| m == member))
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// Item 5 on a real recording: where two cycles each have a member that
/// prints `twins::step` (two instances of one generic), the address names
/// the selected member's cycle too, and reopens that cycle's row.
#[test]
fn a_member_named_alike_in_two_cycles_is_kept_with_its_cycle() {
    let dir = TempDir::new().unwrap();
    let Some((page, report)) = twins_page(dir.path()) else {
        return;
    };
    let cycles = cycles_with(&report, "twins::step");
    assert_eq!(cycles.len(), 2, "two cycles with twins::step: {report}");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let selected_cycle =
        "(() => { const r = document.querySelector('tr[data-member][aria-selected=\"true\"]');
           return r ? r.closest('section.cycle').dataset.cycleSection : null; })()";
    for cycle in &cycles {
        // The box of twins::step in this cycle's drawing selects its row.
        let marked = browser.eval(&format!(
            "(() => {{ document.querySelectorAll('[data-test]').forEach(e => e.removeAttribute('data-test'));
               const s = Array.from(document.querySelectorAll('section.cycle'))
                 .find(s => s.dataset.cycleSection === {});
               const box = Array.from(s.querySelectorAll('svg.call-graph .node.member'))
                 .find(n => n.querySelector('title').textContent === 'twins::step');
               if (!box) return false;
               box.setAttribute('data-test', 'box'); return true; }})()",
            js(cycle)
        ));
        assert_eq!(marked, Value::Bool(true), "no twins::step box in {cycle}");
        browser.click("[data-test=box] rect");
        assert_eq!(browser.eval(selected_cycle), Value::String(cycle.clone()));
        let address = browser.eval("location.search");
        let address = address.as_str().unwrap().to_string();
        let params = browser.eval("Object.fromEntries(new URLSearchParams(location.search))");
        assert_eq!(params["member"], "twins::step", "{address}");
        assert_eq!(
            params["member-of"],
            Value::String(cycle.clone()),
            "{address}"
        );
        // Reopened from the address: the same cycle's row.
        browser.load_file(&page, &address);
        assert_eq!(browser.eval(selected_cycle), Value::String(cycle.clone()));
    }
    assert_no_script_errors(&mut browser);
}

/// Issue #24 item 3: a real cycle of 33 members (syn parsing its own
/// expression parser, `fixtures/syn-parse`) reads top to bottom at a
/// legible size in an 800 px window: callers above the members, the main
/// entry member first, exits below them all; no text under 11 px, the page
/// no wider than the window, the drawing scrolled in its own frame with
/// the main entry member in view; each member's warmth its share of all
/// samples, so a member of 1 sample is the coolest.
#[test]
fn a_large_real_cycle_reads_top_to_bottom_at_a_legible_size() {
    let dir = TempDir::new().unwrap();
    let input = "syn-parse/syn-parse.folded.gz";
    let report = json_report(&fixture(input), &[]);
    let total = report["total_samples"].as_f64().unwrap();
    let largest = largest_cycle(&report);
    let members = largest["members"].as_array().unwrap().len();
    assert!((20..=35).contains(&members), "{members} members");
    let page = fold_page(dir.path(), input);
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    browser.set_viewport(800, 900);
    browser.load_file(&page, "");
    let facts = browser.eval(&format!(
        "(() => {{ const name = {};
          const svg = Array.from(document.querySelectorAll('svg.call-graph'))
            .find(s => s.dataset.cycleDrawing === name);
          const frame = svg.closest('.drawing-frame');
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          const font = Math.min(...Array.from(svg.querySelectorAll('text'))
            .map(t => parseFloat(getComputedStyle(t).fontSize) * scale));
          const boxes = kind => Array.from(svg.querySelectorAll('.node.' + kind + ' rect'))
            .map(r => r.getBoundingClientRect());
          const [callers, members, exits] = ['caller', 'member', 'exit'].map(boxes);
          const main = svg.querySelector('.node.main[data-main] rect').getBoundingClientRect();
          const seen = frame.getBoundingClientRect();
          const section = svg.closest('section');
          const warmth = Array.from(svg.querySelectorAll('.node.member')).map(n => {{
            const row = section.querySelector('tr[data-member-index=\"' + n.dataset.member + '\"]');
            const cls = Array.from(n.classList).find(c => c.startsWith('warmth-'));
            return [Number(row.dataset.self), cls]; }});
          return {{
            font,
            pageWidth: document.documentElement.scrollWidth, window: innerWidth,
            scrolls: frame.scrollWidth > frame.clientWidth && frame.scrollLeft > 0,
            mainInView: main.left >= seen.left && main.right <= seen.right,
            callersBottom: Math.max(...callers.map(r => r.bottom)),
            membersTop: Math.min(...members.map(r => r.top)),
            membersBottom: Math.max(...members.map(r => r.bottom)),
            exitsTop: Math.min(...exits.map(r => r.top)),
            mainTop: main.top,
            othersAtMainTop: members.filter(r => r.top === main.top).length,
            warmth }}; }})()",
        js(largest["name"].as_str().unwrap())
    ));
    let number = |key: &str| facts[key].as_f64().unwrap_or(f64::NAN);
    assert!(number("font") >= 11.0, "text at {} px", number("font"));
    assert!(
        number("pageWidth") <= number("window"),
        "the page is wider than the window: {facts}"
    );
    assert_eq!(facts["scrolls"], true, "scrolled in its frame: {facts}");
    assert_eq!(facts["mainInView"], true, "main member in view: {facts}");
    assert!(number("callersBottom") < number("membersTop"), "{facts}");
    assert!(number("membersBottom") < number("exitsTop"), "{facts}");
    assert_eq!(number("mainTop"), number("membersTop"), "{facts}");
    assert_eq!(number("othersAtMainTop"), 1.0, "alone on its row: {facts}");
    // Warmth by share of all samples: under 1 %, 1–5 %, 5–20 %, 20 % on.
    let warmth = facts["warmth"].as_array().unwrap();
    assert_eq!(warmth.len(), members);
    let mut one_sample = 0;
    for member in warmth {
        let samples = member[0].as_f64().unwrap();
        let share = 100.0 * samples / total;
        let class = [1.0, 5.0, 20.0].iter().filter(|&&b| share >= b).count();
        assert_eq!(member[1], format!("warmth-{class}"), "{member}");
        one_sample += usize::from(samples == 1.0);
    }
    assert!(one_sample > 0, "a member of 1 sample: {facts}");
    assert_no_script_errors(&mut browser);
}
