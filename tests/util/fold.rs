//! The engine run on text in this process, through the library: for the
//! tests of what folding does, many cases a second.

use std::collections::BTreeMap;
use std::io::Cursor;

use autofold::engine::fold::FoldOptions;
use autofold::engine::graph::FrameFilter;
use autofold::engine::report::Report;
use autofold::engine::{EngineOptions, analyse};
use autofold::input::{ReadOptions, Source, read_from};
use autofold::output::write_folded;
use autofold::profile::Profile;

/// Folds folded-stack text; returns the folded text and the report.
pub fn fold_text(text: &str, exclude: &[&str]) -> (String, Report) {
    let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
    let options = EngineOptions {
        filter: FrameFilter::new(&exclude).unwrap(),
        ..EngineOptions::default()
    };
    fold_with(text, &options)
}

/// Folds folded-stack text with `options`.
pub fn fold_with(text: &str, options: &EngineOptions) -> (String, Report) {
    let source = Source::File("test.folded".into());
    let reader = Box::new(Cursor::new(text.as_bytes().to_vec()));
    let profile = read_from(reader, &source, &ReadOptions::default(), 0).expect("valid input");
    let analysis = analyse(profile.finish(), options);
    let mut out = Vec::new();
    write_folded(&analysis.folded, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), analysis.report)
}

/// Engine options without re-rooting.
pub fn no_reroot() -> EngineOptions {
    EngineOptions {
        fold: FoldOptions {
            reroot: false,
            ..FoldOptions::default()
        },
        ..EngineOptions::default()
    }
}

/// Folds folded-stack text with default options; returns the folded text.
pub fn fold(text: &str) -> String {
    fold_text(text, &[]).0
}

/// The sum of the counts of folded lines.
pub fn total(text: &str) -> u64 {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

/// Every stack of `profile` as text (printed frames joined by `;`, an empty
/// root-label slot left out) with its samples, stacks that print alike summed.
pub fn printed_stacks(profile: &Profile) -> BTreeMap<String, u64> {
    let mut map = BTreeMap::new();
    for (ids, count) in profile.stacks() {
        let names: Vec<&str> = autofold::profile::printed(ids)
            .iter()
            .map(|&i| profile.frames.name(i))
            .collect();
        *map.entry(names.join(";")).or_default() += count;
    }
    map
}
