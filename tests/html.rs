//! `--html`: the page as a browser shows it. Headless Chromium loads the
//! page autofold wrote, driven over the DevTools protocol
//! (`util/browser.rs`): the tests read the DOM the page's scripts leave,
//! click rows, links and flame graph frames where a person would, answer
//! inferno's search prompt, and fail on any script error. Expected names
//! and members come from autofold's JSON report of the same profile, and
//! call weights from counting the fixture's stacks here.
//!
//! They need Chromium: where none is found they fail, saying what to
//! install, unless `AUTOFOLD_SKIP_BROWSER_TESTS=1` skips them.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::browser::Browser;
use crate::util::perf::{even_odd, skip};
use crate::util::{autofold, cycle_names, fixture, json_report, read_fixture};

/// inferno's search highlight.
const SEARCH_COLOR: &str = "rgb(230,0,230)";

/// Writes the page of `autofold SUBCOMMAND --html page.html ARGS…` in
/// `dir`; returns its path.
pub(crate) fn page(dir: &Path, args: &[&str]) -> PathBuf {
    let mut args = args.to_vec();
    args.splice(1..1, ["--html", "page.html"]);
    autofold().current_dir(dir).args(args).success();
    dir.join("page.html")
}

/// The page of `fold FIXTURE`.
pub(crate) fn fold_page(dir: &Path, fixture_path: &str) -> PathBuf {
    let input = fixture(fixture_path);
    page(dir, &["fold", input.to_str().unwrap(), "-o", "folded.txt"])
}

/// The browser with `page` loaded, or `None` where Chromium is missing and
/// `AUTOFOLD_SKIP_BROWSER_TESTS=1`.
pub(crate) fn browser_on(page: &Path, suffix: &str) -> Option<Browser> {
    let mut browser = Browser::launch()?;
    browser.load_file(page, suffix);
    Some(browser)
}

/// The cycle of a JSON report with the most members.
pub(crate) fn largest_cycle(report: &Value) -> &Value {
    report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|c| c["members"].as_array().unwrap().len())
        .expect("the report has a cycle")
}

/// `text` as a JavaScript string literal.
pub(crate) fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// Marks the widest flame graph frame named `name` with `data-test`, for a
/// selector to find it; returns its zoom coordinates (`fg:x`, `y`).
pub(crate) fn mark_frame(browser: &mut Browser, name: &str) -> (String, String) {
    let script = format!(
        "(() => {{ const name = {}; let best = null, width = -1;
           for (const g of document.querySelectorAll('#frames > g')) {{
             const title = g.querySelector('title').textContent;
             const w = Number(g.querySelector('rect').getAttribute('fg:w'));
             if (title.startsWith(name + ' (') && w > width) {{ best = g; width = w; }}
           }}
           if (!best) return null;
           best.setAttribute('data-test', 'frame');
           const r = best.querySelector('rect');
           return [r.getAttribute('fg:x'), r.getAttribute('y')]; }})()",
        js(name)
    );
    let found = browser.eval(&script);
    assert!(!found.is_null(), "no flame graph frame named {name}");
    (
        found[0].as_str().unwrap().to_string(),
        found[1].as_str().unwrap().to_string(),
    )
}

/// The `data-cycle-section` of the section the address's fragment targets,
/// and its top in the viewport.
fn targeted_section(browser: &mut Browser) -> (Value, f64) {
    let section = browser.eval(
        "(() => { const s = document.querySelector(':target');
           return s ? [s.getAttribute('data-cycle-section'), s.getBoundingClientRect().top] : null; })()",
    );
    assert!(!section.is_null(), "no element is targeted");
    (section[0].clone(), section[1].as_f64().unwrap())
}

/// Fails unless a section's top (in viewport pixels) is at the top of the
/// viewport: the browser scrolled to it.
fn assert_near_the_top(top: f64) {
    assert!(
        (-1.0..100.0).contains(&top),
        "the section's top is at {top}"
    );
}

pub(crate) fn assert_no_script_errors(browser: &mut Browser) {
    let errors = browser.script_errors();
    assert!(errors.is_empty(), "script errors: {errors:#?}");
    let shown = browser.eval("document.getElementById('script-errors').hidden");
    assert_eq!(shown, Value::Bool(true), "the error box stays hidden");
}

#[test]
fn every_cycle_has_a_section_and_the_page_raises_no_script_error() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "serde-nested/serde-nested.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    assert_no_script_errors(&mut browser);
    let names = cycle_names(&json_report(
        &fixture("serde-nested/serde-nested.folded"),
        &[],
    ));
    assert!(names.len() >= 2, "{names:?}");
    let sections = browser.eval(
        "Array.from(document.querySelectorAll('section[data-cycle-section]'))
           .map(s => s.getAttribute('data-cycle-section'))",
    );
    assert_eq!(
        sections,
        serde_json::json!(names),
        "one section per cycle, in the report's order"
    );
    let rows = browser.eval(
        "Array.from(document.querySelectorAll('tr[data-cycle-row]')).map(r => r.getAttribute('data-cycle-row'))",
    );
    assert_eq!(rows, serde_json::json!(names), "one table row per cycle");
    // The flame graph's script ran: it labels frames from their titles.
    let labelled = browser.eval(
        "Array.from(document.querySelectorAll('#frames text')).filter(t => t.textContent.length > 2).length",
    );
    assert!(labelled.as_u64().unwrap() > 10, "{labelled}");
}

#[test]
fn the_largest_cycle_is_drawn_with_a_box_per_member_and_its_calls_between_them() {
    let dir = TempDir::new().unwrap();
    let input = "serde-nested/serde-nested.folded";
    let page = fold_page(dir.path(), input);
    let report = json_report(&fixture(input), &[]);
    let largest = largest_cycle(&report);
    let members: Vec<&str> = largest["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        members.len() >= 12,
        "the fixture's giant cycle: {members:?}"
    );
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let section = format!(
        "section[data-cycle-section={}] svg.call-graph",
        js(largest["name"].as_str().unwrap())
    );
    let drawn = browser.eval(&format!(
        "(() => {{ const svg = document.querySelector({});
           const title = n => n.querySelector('title').textContent;
           const nodes = Array.from(svg.querySelectorAll('.node'));
           const members = nodes.filter(n => n.classList.contains('member'));
           const kind = i => nodes[Number(i)].classList.contains('member');
           const inside = Array.from(svg.querySelectorAll('.edge.inside'));
           return {{
             members: members.map(title).sort(),
             insideBetweenMembers: inside.every(e => kind(e.dataset.from) && kind(e.dataset.to)),
             callsOut: members.map(n => inside.some(e => e.dataset.from === n.dataset.node)),
             callsIn: members.map(n => inside.some(e => e.dataset.to === n.dataset.node)),
             visible: svg.getBoundingClientRect().width > 100,
           }}; }})()",
        js(&section)
    ));
    let mut expected: Vec<&str> = members.clone();
    expected.sort();
    assert_eq!(
        drawn["members"],
        serde_json::json!(expected),
        "a box per member, titled with its full name"
    );
    assert_eq!(drawn["insideBetweenMembers"], Value::Bool(true));
    // A recursion cycle is strongly connected: every member calls another
    // member and is called by one, and the drawing shows those calls.
    let all = serde_json::json!(vec![true; members.len()]);
    assert_eq!(drawn["callsOut"], all, "every member calls into the cycle");
    assert_eq!(
        drawn["callsIn"], all,
        "every member is called from the cycle"
    );
    assert_eq!(drawn["visible"], Value::Bool(true));
}

#[test]
fn calls_between_members_weigh_the_samples_of_the_stacks_that_make_them() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    // Counted here from the fixture: each line is one stack (captured
    // whole, no stack begins mid-recursion), counted once per call it makes.
    let folded = read_fixture("even-odd/even-odd.folded");
    let weight = |call: &str| -> u64 {
        folded
            .lines()
            .filter(|l| l.contains(call))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum()
    };
    let even_odd = weight("even_odd::even;even_odd::odd;");
    let odd_even = weight("even_odd::odd;even_odd::even;");
    assert!(even_odd > 900 && odd_even > 900, "{even_odd} {odd_even}");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let drawing = "section[data-cycle-section=\"even_odd::{even,odd}\"] svg.call-graph";
    let titles = browser.eval(&format!(
        "Array.from(document.querySelectorAll('{drawing} .edge.inside title')).map(t => t.textContent)"
    ));
    let titles: Vec<&str> = titles
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let has = |caller: &str, callee: &str, samples: u64| {
        let head = format!("{caller} → {callee}: {samples} samples (");
        titles.iter().any(|t| t.starts_with(&head))
    };
    assert!(
        has("even_odd::even", "even_odd::odd", even_odd),
        "{titles:?}"
    );
    assert!(
        has("even_odd::odd", "even_odd::even", odd_even),
        "{titles:?}"
    );
    assert_eq!(
        titles.len(),
        2,
        "no other call inside the cycle: {titles:?}"
    );
    let callers = browser.eval(&format!(
        "Array.from(document.querySelectorAll('{drawing} .node.caller title')).map(t => t.textContent)"
    ));
    assert_eq!(
        callers,
        serde_json::json!(["even_odd::main::{{closure}}"]),
        "the frame that enters it"
    );
    let exits = browser.eval(&format!(
        "Array.from(document.querySelectorAll('{drawing} .node.exit title')).map(t => t.textContent)"
    ));
    let exits: Vec<&str> = exits
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(exits.contains(&"even_odd::crunch"), "{exits:?}");
}

#[test]
fn clicking_a_row_of_the_table_reaches_its_section() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "serde-nested/serde-nested.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let names = browser.eval(
        "Array.from(document.querySelectorAll('tr[data-cycle-row]')).map(r => r.getAttribute('data-cycle-row'))",
    );
    let second = names[1].as_str().unwrap().to_string();
    browser.click(&format!("tr[data-cycle-row={}] td.name a", js(&second)));
    browser.wait_for("location.hash !== ''");
    let (section, top) = targeted_section(&mut browser);
    assert_eq!(section, Value::String(second.clone()));
    assert_near_the_top(top);
    // A click elsewhere on a row goes there too.
    let first = names[0].as_str().unwrap().to_string();
    browser.click(&format!("tr[data-cycle-row={}] td.number", js(&first)));
    browser.wait_for(&format!(
        "document.querySelector(':target') && document.querySelector(':target').getAttribute('data-cycle-section') === {}",
        js(&first)
    ));
    assert_no_script_errors(&mut browser);
}

#[test]
fn a_fragment_in_the_address_reaches_a_section() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "interp/interp.folded");
    let names = cycle_names(&json_report(&fixture("interp/interp.folded"), &[]));
    let Some(mut browser) = browser_on(&page, "#cycle-1") else {
        return;
    };
    let (section, top) = targeted_section(&mut browser);
    assert_eq!(section, Value::String(names[0].clone()));
    assert_near_the_top(top);
}

#[test]
fn clicking_frames_zooms_and_reset_zoom_restores_the_flame_graph() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let cycle = "even_odd::{even,odd}";
    mark_frame(&mut browser, "even_odd::crunch");
    browser.click("[data-test=frame] rect");
    browser.wait_for("document.querySelectorAll('#frames > g.parent').length > 0");
    let zoomed = browser.eval(&format!(
        "(() => {{ const g = Array.from(document.querySelectorAll('#frames > g'))
             .find(g => g.querySelector('title').textContent.startsWith({} + ' ('));
           return [g.classList.contains('parent'), g.querySelector('rect').getAttribute('width'),
                   document.querySelector('[data-test=frame] rect').getAttribute('width'),
                   g.querySelector('text').textContent]; }})()",
        js(cycle)
    ));
    assert_eq!(
        zoomed[0],
        Value::Bool(true),
        "the cycle frame below is a parent: {zoomed}"
    );
    assert_eq!(zoomed[1], "100.0%");
    assert_eq!(zoomed[2], "100.0000%", "the clicked frame fills the width");
    assert_eq!(
        zoomed[3].as_str().unwrap().trim_end(),
        cycle,
        "and is relabelled"
    );
    browser.click("#unzoom");
    browser
        .wait_for("document.querySelectorAll('#frames > g.parent, #frames > g.hide').length === 0");
    assert_no_script_errors(&mut browser);
}

#[test]
fn a_cycle_frame_leads_to_its_section() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "interp/interp.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let name = "{interp::eval,+11}";
    mark_frame(&mut browser, name);
    browser.click("[data-test=frame] rect");
    browser.wait_for("!document.getElementById('flame-cycle').hidden");
    let link = browser.eval("document.getElementById('flame-cycle-link').textContent");
    assert_eq!(link, Value::String(name.into()));
    browser.click("#flame-cycle-link");
    browser.wait_for("location.hash !== ''");
    let (section, top) = targeted_section(&mut browser);
    assert_eq!(section, Value::String(name.into()));
    assert_near_the_top(top);
    assert_no_script_errors(&mut browser);
}

#[test]
fn search_finds_a_cycle_frame_by_one_of_its_members() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    mark_frame(&mut browser, "even_odd::{even,odd}");
    browser.click_and_answer("#search", "even_odd::odd");
    let found = browser.eval(
        "[document.querySelector('[data-test=frame] rect').getAttribute('fill'),
          document.getElementById('matched').textContent]",
    );
    assert_eq!(found[0], SEARCH_COLOR, "{found}");
    assert!(
        found[1].as_str().unwrap().starts_with("Matched: "),
        "{found}"
    );
    assert!(
        browser
            .eval("location.search")
            .as_str()
            .unwrap()
            .contains("s=even_odd"),
        "the search is kept in the address, as inferno keeps it"
    );
    assert_no_script_errors(&mut browser);
}

#[test]
fn zoom_and_search_in_the_address_are_applied_on_load() {
    let dir = TempDir::new().unwrap();
    let page = fold_page(dir.path(), "even-odd/even-odd.folded");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    // Zoomed into the cycle frame, crunch (called from every level) is
    // above it and found.
    let (x, y) = mark_frame(&mut browser, "even_odd::{even,odd}");
    browser.load_file(&page, &format!("?x={x}&y={y}&s=crunch"));
    mark_frame(&mut browser, "even_odd::{even,odd}");
    let state = browser.eval(
        "[document.querySelector('[data-test=frame] rect').getAttribute('width'),
          document.querySelectorAll('#frames > g.parent').length,
          document.getElementById('matched').textContent, location.search]",
    );
    assert_eq!(
        state[0], "100.0000%",
        "zoomed into the cycle frame: {state}"
    );
    assert!(state[1].as_u64().unwrap() > 0, "{state}");
    assert!(
        state[2].as_str().unwrap().starts_with("Matched: "),
        "{state}"
    );
    let search = state[3].as_str().unwrap();
    assert!(
        search.contains(&format!("x={x}")) && search.contains("s=crunch"),
        "{search}"
    );
    assert_no_script_errors(&mut browser);
}

#[test]
fn the_diff_page_shows_both_shares_and_draws_each_cycle() {
    let dir = TempDir::new().unwrap();
    let (before, after) = (
        fixture("even-odd/even-odd.folded"),
        fixture("even-odd/even-odd-deep.folded"),
    );
    let page = page(
        dir.path(),
        &[
            "diff",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
            "-o",
            "diff.svg",
        ],
    );
    assert!(
        dir.path().join("diff.svg").is_file(),
        "the SVG is written as before"
    );
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    assert_no_script_errors(&mut browser);
    let row = browser.eval(
        "Array.from(document.querySelectorAll('tr[data-cycle-row=\"even_odd::{even,odd}\"] td')).map(td => td.textContent.trim())",
    );
    assert_eq!(row[0], "even_odd::{even,odd}", "{row}");
    assert!(
        row[1].as_str().unwrap().ends_with('%') && row[2].as_str().unwrap().ends_with('%'),
        "{row}"
    );
    let members = browser.eval(
        "Array.from(document.querySelectorAll('section[data-cycle-section=\"even_odd::{even,odd}\"] svg .node.member title')).map(t => t.textContent)",
    );
    assert_eq!(
        members,
        serde_json::json!(["even_odd::even", "even_odd::odd"])
    );
    let title = browser.eval("document.querySelector('#title').textContent");
    assert!(
        title
            .as_str()
            .unwrap()
            .starts_with("Differential flame graph"),
        "{title}"
    );
}

#[test]
fn record_writes_the_page_of_a_real_program() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let program = even_odd();
    let page = page(
        dir.path(),
        &[
            "record",
            "-o",
            "flame.svg",
            "--",
            program.to_str().unwrap(),
            "100",
            "30",
        ],
    );
    assert!(dir.path().join("flame.svg").is_file());
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(
        !text.contains("src=\"http"),
        "nothing loaded from the network"
    );
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    assert_no_script_errors(&mut browser);
    let members = browser.eval(
        "Array.from(document.querySelectorAll('section[data-cycle-section=\"even_odd::{even,odd}\"] svg .node.member title')).map(t => t.textContent)",
    );
    assert_eq!(
        members,
        serde_json::json!(["even_odd::even", "even_odd::odd"])
    );
}

#[test]
fn the_page_never_overwrites_an_input() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("stacks.folded");
    std::fs::copy(fixture("even-odd/even-odd.folded"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = autofold()
        .args(["report", "stacks.folded", "--html", "stacks.folded"])
        .current_dir(dir.path())
        .output();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stacks.folded"), "{stderr}");
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
}

#[test]
fn a_cycle_unfolds_into_its_members_tower_and_folds_back() {
    let dir = TempDir::new().unwrap();
    let input = "interp/interp.folded";
    let page = fold_page(dir.path(), input);
    let report = json_report(&fixture(input), &[]);
    let cycle = &report["cycles"][0];
    let (name, max_depth) = (
        cycle["name"].as_str().unwrap(),
        cycle["max_depth"].as_u64().unwrap(),
    );
    assert!(max_depth > 20, "interp recurses deeply: {max_depth}");
    let Some(mut browser) = browser_on(&page, "") else {
        return;
    };
    let frames_named = |browser: &mut Browser, name: &str| {
        browser.eval(&format!(
            "Array.from(document.querySelectorAll('#frames > g title'))
               .filter(t => t.textContent.startsWith({} + ' (')).length",
            js(name)
        ))
    };
    let title = browser.eval("document.getElementById('title').textContent");
    assert!(frames_named(&mut browser, name).as_u64().unwrap() > 0);

    browser.click(&format!("button.unfold[data-unfold={}]", js(name)));
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length > 0");
    assert_eq!(
        frames_named(&mut browser, name),
        0,
        "no frame of the cycle is left"
    );
    // The members' tower: interp::eval frames stacked as deep as the
    // recursion went (a run of max_depth frames holds at least a third of
    // that many evals: eval → eval_* → eval at most two frames apart).
    let levels = browser.eval(
        "new Set(Array.from(document.querySelectorAll('#frames > g'))
           .filter(g => g.querySelector('title').textContent.startsWith('interp::eval ('))
           .map(g => g.querySelector('rect').getAttribute('y'))).size",
    );
    assert!(
        levels.as_u64().unwrap() * 3 >= max_depth,
        "{levels} levels of eval for depth {max_depth}"
    );
    let unfolded_title = browser.eval("document.getElementById('title').textContent");
    assert!(
        unfolded_title
            .as_str()
            .unwrap()
            .ends_with(&format!("{name} unfolded")),
        "{unfolded_title}"
    );
    // inferno's script runs on the unfolded graph: a click zooms.
    mark_frame(&mut browser, "interp::eval_call");
    browser.click("[data-test=frame] rect");
    browser.wait_for("document.querySelectorAll('#frames > g.parent').length > 0");

    // Zoomed: the address holds the zoom, which is the unfolded graph's.
    browser.click(&format!("button.unfold[data-unfold={}]", js(name)));
    browser.wait_for("document.querySelectorAll('#frames > g[data-unfolded-member]').length === 0");
    assert!(
        frames_named(&mut browser, name).as_u64().unwrap() > 0,
        "folded again"
    );
    assert_eq!(
        browser.eval("document.getElementById('title').textContent"),
        title
    );
    assert_no_script_errors(&mut browser);
}
