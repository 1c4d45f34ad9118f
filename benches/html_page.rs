//! The fold bench's `--html` page (issue #24): `autofold fold --html`
//! timed with the other tools, then the page's size and how long headless
//! Chromium takes to open it (`scripts/html-page-tool load-time`: from the
//! start of navigation until the page's script is done), against the
//! goals: at most 8 MB, ready in at most 2 s.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::runner::{Sample, Tool, mb};

/// The tool's name in the bench's tables.
pub const AUTOFOLD_HTML: &str = "autofold fold --html";

/// Goal: the page's size at most this (bytes).
const PAGE_BYTES_GOAL: u64 = 8_000_000;

/// Goal: the page ready in at most this (milliseconds).
const READY_GOAL_MS: f64 = 2000.0;

/// `autofold fold INPUT --html PAGE -o OUTPUT`.
pub fn tool(input: &Path, dir: &Path) -> Tool {
    let (page, folded) = (page(dir), dir.join("autofold-html.out"));
    let args = vec![
        "fold".into(),
        input.into(),
        "--html".into(),
        page.clone().into(),
        "-o".into(),
        folded.clone().into(),
    ];
    crate::autofold(AUTOFOLD_HTML, args, vec![page, folded], dir)
}

/// Where [`tool`] writes its page in `dir`.
fn page(dir: &Path) -> PathBuf {
    dir.join("autofold.html")
}

/// What was measured of one shape's page.
#[derive(Clone, Copy)]
pub struct PageFigures {
    /// Writing it: `fold --html`'s median run.
    pub write: Sample,
    /// Its size.
    pub bytes: u64,
    /// Median milliseconds until ready in Chromium (`None`: not opened,
    /// as in the smoke test).
    pub ready_ms: Option<f64>,
}

/// The figures of the page [`tool`] left in `dir`, opened `runs` times in
/// Chromium when `open`.
pub fn figures(dir: &Path, write: Sample, runs: usize, open: bool) -> io::Result<PageFigures> {
    let page = page(dir);
    let bytes = std::fs::metadata(&page)?.len();
    let ready_ms = if open {
        Some(ready_ms(&page, runs)?)
    } else {
        None
    };
    Ok(PageFigures {
        write,
        bytes,
        ready_ms,
    })
}

/// The median time to ready of `page` over `runs` loads, from
/// `scripts/html-page-tool load-time` (which needs Chromium and python3).
fn ready_ms(page: &Path, runs: usize) -> io::Result<f64> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/html-page-tool");
    let output = Command::new(&tool)
        .arg("load-time")
        .arg(page)
        .arg(runs.to_string())
        .output()
        .map_err(|e| io::Error::other(format!("{}: {e}", tool.display())))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let median = text
        .lines()
        .find_map(|line| line.strip_prefix("median "))
        .and_then(|rest| rest.trim_end_matches(" ms").parse().ok());
    match (output.status.success(), median) {
        (true, Some(ms)) => Ok(ms),
        _ => Err(io::Error::other(format!(
            "opening the page in Chromium failed (apt-get install chromium, or \
             AUTOFOLD_BENCH_HTML=0 to leave the page out): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}

/// Prints each shape's page figures against the goals; whether all met them.
pub fn print_table(rows: &[(usize, &str, PageFigures)]) -> bool {
    println!(
        "\nthe --html page: goals <= {} MB, ready in Chromium <= {READY_GOAL_MS:.0} ms\n",
        mb(PAGE_BYTES_GOAL)
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>9}",
        "shape", "write s", "RSS MB", "page MB", "ready ms"
    );
    let mut all_pass = true;
    for (number, name, page) in rows {
        let pass =
            page.bytes <= PAGE_BYTES_GOAL && page.ready_ms.is_none_or(|ms| ms <= READY_GOAL_MS);
        all_pass &= pass;
        println!(
            "{:<34} {:>8.2} {:>8.1} {:>8.2} {:>9} {}",
            format!("{number}. {name}"),
            page.write.seconds,
            mb(page.write.max_rss_bytes),
            mb(page.bytes),
            page.ready_ms.map_or("n/a".into(), |ms| format!("{ms:.0}")),
            if pass { "PASS" } else { "MISS" }
        );
    }
    all_pass
}
