//! Cycle frames as a browser shows them: headless Chromium loads the flame
//! graph, inferno's page script runs (it relabels every frame from its
//! tooltip on load, zoom and reset), and the tests read the DOM it leaves.
//!
//! They need Chromium (`$CHROMIUM`, else `chromium` or `chromium-browser` on
//! `PATH`; Debian: `apt-get install chromium`, which `scripts/test` does).
//! Where none is found they fail, saying so, unless
//! `AUTOFOLD_SKIP_BROWSER_TESTS=1` skips them.

use std::path::Path;

use tempfile::TempDir;

use crate::util::browser::Browser;
use crate::util::svg::{DrawnFrame, frames, frames_named};
use crate::util::{autofold, fixture};

/// inferno's default search highlight, as the page script sets it.
const SEARCH_COLOR: &str = "rgb(230,0,230)";

/// Renders with `autofold ARGS` (which must write `out.svg` in `dir`).
fn render(dir: &Path, args: &[&str]) {
    autofold().current_dir(dir).args(args).success();
}

/// The frames of `svg` after the page script ran in Chromium, with `query`
/// (`?x=…&y=…` to zoom, `?s=…` to search) in the address.
fn frames_in_browser(browser: &mut Browser, svg: &Path, query: &str) -> Vec<DrawnFrame> {
    let dom = browser.flame_graph_dom(svg, query);
    let drawn = frames(&dom);
    assert!(
        !drawn.is_empty(),
        "no frames in the DOM of {}{query}:\n{dom}",
        svg.display()
    );
    drawn
}

/// The widest frame named `name`.
fn widest<'a>(frames: &'a [DrawnFrame], name: &str) -> &'a DrawnFrame {
    frames_named(frames, name)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no frame {name} in {frames:#?}"))
}

/// `text` percent-encoded for a query parameter.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn even_odd_cycle_frame_is_labelled_with_its_name() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let input = fixture("even-odd/even-odd.folded");
    render(
        dir.path(),
        &["fold", input.to_str().unwrap(), "--svg", "out.svg"],
    );
    let drawn = frames_in_browser(&mut browser, &dir.path().join("out.svg"), "");
    let cycle = widest(&drawn, "even_odd::{even,odd}");
    assert_eq!(cycle.label.trim_end(), "even_odd::{even,odd}");
    assert_eq!(
        cycle.title,
        "even_odd::{even,odd} (953 samples, 99.90%; \
         recursion cycle of 2: even_odd::even, even_odd::odd)",
        "name, samples and percentage as on any frame, then the members"
    );
    let crunch = widest(&drawn, "even_odd::crunch");
    assert_eq!(
        crunch.label.trim_end(),
        "even_odd::crunch",
        "other frames too"
    );
}

#[test]
fn a_cycle_named_after_many_members_is_labelled_with_its_name() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let input = fixture("interp/interp.folded");
    render(
        dir.path(),
        &["fold", input.to_str().unwrap(), "--svg", "out.svg"],
    );
    let drawn = frames_in_browser(&mut browser, &dir.path().join("out.svg"), "");
    // 12 members recursed (fixtures/README.md; the iterator adapters of
    // eval_call's argument list never were on a stack twice).
    let name = "{interp::eval,+11}";
    let cycle = widest(&drawn, name);
    assert_eq!(cycle.label.trim_end(), name);
    let head = format!("{name} (950 samples, 99.89%; recursion cycle of 12: ");
    assert!(cycle.title.starts_with(&head), "{}", cycle.title);
    assert!(cycle.title.contains("interp::eval, "), "{}", cycle.title);
    assert!(cycle.title.contains("interp::eval_if"), "{}", cycle.title);
}

#[test]
fn zoom_and_search_treat_a_cycle_frame_as_any_frame() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let input = fixture("even-odd/even-odd.folded");
    let svg = dir.path().join("out.svg");
    render(
        dir.path(),
        &["fold", input.to_str().unwrap(), "--svg", "out.svg"],
    );
    let name = "even_odd::{even,odd}";
    let drawn = frames(&std::fs::read_to_string(&svg).unwrap());

    // Zoomed into the frame above it, the cycle frame is a parent, stretched
    // to the full width and relabelled.
    let crunch = widest(&drawn, "even_odd::crunch");
    let zoom = format!("?x={}&y={}", crunch.fg_x, crunch.y);
    let zoomed = frames_in_browser(&mut browser, &svg, &zoom);
    let cycle = widest(&zoomed, name);
    assert!(cycle.class.contains("parent"), "{cycle:?}");
    assert_eq!(cycle.label.trim_end(), name);

    // Zoomed into the cycle frame itself.
    let own = widest(&drawn, name);
    let zoomed = frames_in_browser(&mut browser, &svg, &format!("?x={}&y={}", own.fg_x, own.y));
    assert_eq!(widest(&zoomed, name).label.trim_end(), name);

    // Searching by the cycle's name, or by one of its members, finds it.
    for term in [r"even_odd::\{even,odd\}", "even_odd::odd"] {
        let searched = frames_in_browser(&mut browser, &svg, &format!("?s={}", encoded(term)));
        let cycle = widest(&searched, name);
        assert_eq!(cycle.fill, SEARCH_COLOR, "search {term:?}: {cycle:?}");
        assert_eq!(cycle.label.trim_end(), name);
    }
}

#[test]
fn reversed_and_differential_graphs_label_cycle_frames_too() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let (shallow, deep) = (
        fixture("even-odd/even-odd.folded"),
        fixture("even-odd/even-odd-deep.folded"),
    );
    let name = "even_odd::{even,odd}";
    let members = "recursion cycle of 2: even_odd::";

    let args = [
        "fold",
        shallow.to_str().unwrap(),
        "--svg",
        "out.svg",
        "--reverse",
    ];
    render(dir.path(), &args);
    let drawn = frames_in_browser(&mut browser, &dir.path().join("out.svg"), "");
    let cycle = widest(&drawn, name);
    assert_eq!(cycle.label.trim_end(), name);
    assert!(cycle.title.contains(members), "{}", cycle.title);
    assert_eq!(cycle.fill, "rgb(90,150,235)", "cycle frames stay blue");
    // Reversed, the frames standing on `all` are leaves, not the root label.
    let y = |f: &DrawnFrame| f.y.parse::<f64>().unwrap();
    let root = y(widest(&drawn, "all"));
    let first_level = drawn
        .iter()
        .map(y)
        .filter(|&v| v < root)
        .fold(0.0, f64::max);
    let standing: Vec<&str> = drawn
        .iter()
        .filter(|f| y(f) == first_level)
        .map(DrawnFrame::name)
        .collect();
    assert!(standing.contains(&"even_odd::crunch"), "{standing:?}");
    assert!(!standing.contains(&"even-odd"), "{standing:?}");

    let args = [
        "diff",
        shallow.to_str().unwrap(),
        deep.to_str().unwrap(),
        "-o",
        "out.svg",
    ];
    render(dir.path(), &args);
    let drawn = frames_in_browser(&mut browser, &dir.path().join("out.svg"), "");
    let cycle = widest(&drawn, name);
    assert_eq!(cycle.label.trim_end(), name);
    assert!(cycle.title.contains(members), "{}", cycle.title);
    assert!(
        cycle.title.matches("%; ").count() == 2,
        "share, then the change as inferno writes it, then the members: {}",
        cycle.title
    );
}
