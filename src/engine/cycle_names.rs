//! Names for recursion cycles, made from their members.
//!
//! The rule (documented in `docs/NAMING.md`):
//! - one self-recursive member keeps its plain name;
//! - up to [`MAX_LISTED`] members are listed in name order inside braces (a
//!   name printed by several members once), after
//!   the `::` path they all share: `even_odd::{even,odd}`, `{expr,factor,term}`;
//! - where some members are the author's and others are not (see
//!   `authors.rs`), the author's are listed (at most [`MAX_LISTED`]) and the
//!   others counted: `{Printer::operator(),+4}`;
//! - more members: the *main member*, then a count of the other names:
//!   `vm::{eval,+11}`. The main member is the one the recursion's samples
//!   leave from to do their work (the most samples of runs that end at it:
//!   see `recursion.rs`), looked for first among the author's members; ties
//!   go to the most callers from outside the cycle, then to the first name;
//! - a name that would equal another cycle's name or a frame outside the cycle
//!   gets the first free suffix `#2`, `#3`, ….

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::graph::{Cycle, Cycles};
use crate::profile::{FrameId, Frames};

/// Cycles with more members than this are named by their main member.
pub const MAX_LISTED: usize = 4;

/// What the naming rule weighs besides the members' names.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Per frame id, the samples of cycle runs that end at it (empty: none
    /// counted).
    pub work: Vec<u64>,
    /// Per frame id, whether it is a member the program's author wrote
    /// (`authors.rs`; empty: none known).
    pub authors: Vec<bool>,
}

impl Evidence {
    /// Whether `frame` is a member the program's author wrote.
    fn is_author(&self, frame: FrameId) -> bool {
        self.authors.get(frame as usize).copied().unwrap_or(false)
    }
}

/// Names every cycle, interns the names as frames, and returns the frame id
/// of each cycle's name (indexed like `cycles`).
pub fn name_cycles(cycles: &Cycles, frames: &mut Frames, evidence: &Evidence) -> Vec<FrameId> {
    let names = {
        let named = frames_by_name(frames);
        let mut taken: FxHashSet<String> = FxHashSet::default();
        cycles
            .iter()
            .map(|cycle| {
                let base = base_name(cycle, frames, evidence);
                let name = unique_name(base, cycle, &named, &taken);
                taken.insert(name.clone());
                name
            })
            .collect::<Vec<String>>()
    };
    names.iter().map(|n| frames.intern(n)).collect()
}

/// Every printed name with the frames that print it.
fn frames_by_name(frames: &Frames) -> FxHashMap<&str, Vec<FrameId>> {
    let mut named: FxHashMap<&str, Vec<FrameId>> = FxHashMap::default();
    for (id, name) in frames.iter() {
        named.entry(name).or_default().push(id);
    }
    named
}

/// The cycle's name before any clash is resolved.
fn base_name(cycle: &Cycle, frames: &Frames, evidence: &Evidence) -> String {
    // Members that print alike (two instances of one generic) are named once.
    let mut names: Vec<&str> = cycle.members.iter().map(|&m| frames.name(m)).collect();
    names.dedup();
    if let [only] = names.as_slice() {
        return (*only).to_string();
    }
    let (location, mut functions) = without_shared_location(&names);
    functions.sort_unstable();
    functions.dedup();
    let suffix = location.map_or(String::new(), |l| format!(" ({l})"));
    if let [only] = functions.as_slice() {
        return format!("{only}{suffix}");
    }
    let prefix_len = shared_prefix_segments(&functions);
    let short: Vec<&str> = functions
        .iter()
        .map(|n| strip_segments(n, prefix_len))
        .collect();
    let authored: Vec<bool> = functions
        .iter()
        .map(|&function| {
            cycle.members.iter().any(|&m| {
                evidence.is_author(m) && function_of(frames.name(m), location) == function
            })
        })
        .collect();
    let authors = outermost(&functions, &authored);
    let listed = if (1..=MAX_LISTED).contains(&authors.len())
        && authored.iter().filter(|&&a| a).count() < functions.len()
    {
        let listed: Vec<&str> = authors.iter().map(|&i| short[i]).collect();
        format!("{},+{}", listed.join(","), functions.len() - authors.len())
    } else if functions.len() <= MAX_LISTED {
        short.join(",")
    } else {
        let main = frames.name(cycle.members[main_member(cycle, evidence)]);
        let main = function_of(main, location);
        let main = functions
            .iter()
            .position(|&f| f == main)
            .expect("the main member is listed");
        format!("{},+{}", short[main], functions.len() - 1)
    };
    let prefix = &functions[0][..functions[0].len() - short[0].len()];
    format!("{prefix}{{{listed}}}{suffix}")
}

/// The indices of the `authored` functions that are not defined inside
/// another authored one: `ray::qsort`, not its closure
/// `ray::qsort::{{closure}}` (a name under another's path).
fn outermost(functions: &[&str], authored: &[bool]) -> Vec<usize> {
    let inside = |name: &str| {
        functions.iter().zip(authored).any(|(outer, &author)| {
            author
                && name
                    .strip_prefix(*outer)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
    };
    (0..functions.len())
        .filter(|&i| authored[i] && !inside(functions[i]))
        .collect()
}

/// Where every name is `function (file:line)` (py-spy's frames, and
/// autofold's for a `.cpuprofile`) with one file: that file, and the names
/// without their location; else no file and the names as they are.
fn without_shared_location<'a>(names: &[&'a str]) -> (Option<&'a str>, Vec<&'a str>) {
    let split: Option<Vec<(&str, &str)>> = names.iter().map(|n| location_of(n)).collect();
    match split {
        Some(split) if split.iter().all(|(_, file)| *file == split[0].1) => {
            (Some(split[0].1), split.iter().map(|(f, _)| *f).collect())
        }
        _ => (None, names.to_vec()),
    }
}

/// `function (file:line)` split into the function and the file (a line
/// number after the last `:` is dropped); `None` for other names.
fn location_of(name: &str) -> Option<(&str, &str)> {
    let inner = name.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    let (function, location) = (&inner[..open], &inner[open + 2..]);
    if function.is_empty() || location.is_empty() || location.contains(['(', ')']) {
        return None;
    }
    let file = match location.rsplit_once(':') {
        Some((file, line)) if line.bytes().all(|b| b.is_ascii_digit()) => file,
        _ => location,
    };
    Some((function, file))
}

/// A member's name as listed: without the location all members share.
fn function_of<'a>(name: &'a str, location: Option<&str>) -> &'a str {
    match (location, location_of(name)) {
        (Some(_), Some((function, _))) => function,
        _ => name,
    }
}

/// The index (in `cycle.members`) of the main member (see the module
/// documentation).
fn main_member(cycle: &Cycle, evidence: &Evidence) -> usize {
    let own: Vec<bool> = cycle
        .members
        .iter()
        .map(|&m| evidence.is_author(m))
        .collect();
    let candidates = |i: &usize| !own.contains(&true) || own[*i];
    let work = |i: usize| {
        let member = cycle.members[i] as usize;
        evidence.work.get(member).copied().unwrap_or(0)
    };
    (0..cycle.members.len())
        .filter(candidates)
        .max_by(|&a, &b| {
            (work(a), cycle.outside_callers[a])
                .cmp(&(work(b), cycle.outside_callers[b]))
                .then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// Appends `#2`, `#3`, … until the name clashes with nothing it must differ
/// from: another cycle's name, or a frame that is not a member.
fn unique_name(
    base: String,
    cycle: &Cycle,
    named: &FxHashMap<&str, Vec<FrameId>>,
    taken: &FxHashSet<String>,
) -> String {
    let clashes = |candidate: &str| {
        taken.contains(candidate)
            || named
                .get(candidate)
                .is_some_and(|ids| ids.iter().any(|id| !cycle.members.contains(id)))
    };
    if !clashes(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}#{n}"))
        .find(|candidate| !clashes(candidate))
        .expect("some suffix is free")
}

/// Byte offsets just past each top-level `::` of a path (ignoring `::`
/// inside `<…>` generics).
fn segment_ends(name: &str) -> Vec<usize> {
    let bytes = name.as_bytes();
    let mut depth = 0usize;
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                ends.push(i + 2);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    ends
}

/// How many leading `::` path segments all names share, leaving every name
/// at least one segment of its own.
fn shared_prefix_segments(names: &[&str]) -> usize {
    let ends: Vec<Vec<usize>> = names.iter().map(|n| segment_ends(n)).collect();
    let first = &ends[0];
    let mut shared = 0;
    'segments: for (k, &end) in first.iter().enumerate() {
        let prefix = &names[0][..end];
        for (name, e) in names.iter().zip(&ends) {
            if e.get(k) != Some(&end) || !name.starts_with(prefix) || name.len() == end {
                break 'segments;
            }
        }
        shared = k + 1;
    }
    shared
}

/// `name` without its first `segments` path segments.
fn strip_segments(name: &str, segments: usize) -> &str {
    match segments {
        0 => name,
        n => &name[segment_ends(name)[n - 1]..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{CallGraph, FrameFilter, cycles_of};
    use crate::profile::ReadProfile;

    fn names_for(lines: &[&str]) -> Vec<String> {
        names_with_authors(lines, &[])
    }

    /// The cycles' names when the frames called `authors` are the author's.
    fn names_with_authors(lines: &[&str], authors: &[&str]) -> Vec<String> {
        let ReadProfile {
            profile: mut p,
            calls,
            ..
        } = ReadProfile::of_lines(lines);
        let cycles = cycles_of(
            &CallGraph::of_edges(&p.frames, calls.pairs(), &FrameFilter::default()),
            &p.frames,
        );
        let evidence = Evidence {
            authors: p.frames.iter().map(|(_, n)| authors.contains(&n)).collect(),
            ..Evidence::default()
        };
        let ids = name_cycles(&cycles, &mut p.frames, &evidence);
        ids.iter()
            .map(|&id| p.frames.name(id).to_string())
            .collect()
    }

    #[test]
    fn the_authors_members_are_listed_and_the_others_counted() {
        let line =
            "p;m;asyncrec::walk::{{closure}};<Pin<P> as Future>::poll;asyncrec::walk::{{closure}}";
        assert_eq!(
            names_with_authors(&[line], &["asyncrec::walk::{{closure}}"]),
            ["{asyncrec::walk::{{closure}},+1}"]
        );
        let visit = "p;m;Printer::operator();std::visit;std::__do_visit;std::__invoke;std::__invoke_impl;Printer::operator()";
        assert_eq!(
            names_with_authors(&[visit], &["Printer::operator()"]),
            ["{Printer::operator(),+4}"]
        );
        // All members the author's, or none: as before.
        let even_odd = "p;m;even_odd::even;even_odd::odd;even_odd::even";
        assert_eq!(
            names_with_authors(&[even_odd], &["even_odd::even", "even_odd::odd"]),
            ["even_odd::{even,odd}"]
        );
        assert_eq!(
            names_with_authors(&[even_odd], &[]),
            ["even_odd::{even,odd}"]
        );
    }

    #[test]
    fn closures_of_a_listed_function_are_counted_not_listed() {
        let round = "ray::qsort;ray::qsort::{{closure}};rayon_core::join::join_context;rayon_core::join::join";
        let line = format!("p;m;{round};{round};ray::qsort");
        let authors = ["ray::qsort", "ray::qsort::{{closure}}"];
        assert_eq!(
            names_with_authors(&[line.as_str()], &authors),
            ["{ray::qsort,+3}"]
        );
    }

    #[test]
    fn the_shared_path_is_written_once_before_the_authors_members() {
        let line = "p;m;vm::eval;vm::call;vm::apply;vm::eval";
        assert_eq!(
            names_with_authors(&[line], &["vm::eval", "vm::apply"]),
            ["vm::{apply,eval,+1}"]
        );
    }

    #[test]
    fn more_than_four_authors_members_name_the_cycle_by_its_main_one() {
        let line = "p;m;a::f1;a::f2;a::f3;a::f4;a::f5;lib::g;a::f1";
        let authors = ["a::f1", "a::f2", "a::f3", "a::f4", "a::f5"];
        let names = names_with_authors(&[line, "p;x;a::f3", "p;y;a::f3"], &authors);
        assert_eq!(names, ["{a::f3,+5}"]);
    }

    #[test]
    fn self_recursion_keeps_the_plain_name() {
        assert_eq!(names_for(&["p;main;tree::walk;tree::walk"]), ["tree::walk"]);
    }

    #[test]
    fn shared_path_is_factored_out() {
        assert_eq!(
            names_for(&["p;main;even_odd::even;even_odd::odd;even_odd::even"]),
            ["even_odd::{even,odd}"]
        );
    }

    #[test]
    fn members_without_a_shared_path_are_listed_in_braces() {
        assert_eq!(
            names_for(&["p;main;expr;term;factor;expr"]),
            ["{expr,factor,term}"]
        );
    }

    #[test]
    fn generics_do_not_split_a_path_segment() {
        assert_eq!(
            names_for(&["p;m;<a::B as c::D>::x;<a::B as c::D>::y;<a::B as c::D>::x"]),
            ["<a::B as c::D>::{x,y}"]
        );
    }

    #[test]
    fn a_member_that_is_the_whole_prefix_keeps_a_segment() {
        assert_eq!(names_for(&["p;m;a::b;a::b::c;a::b"]), ["a::{b,b::c}"]);
    }

    #[test]
    fn many_members_are_named_by_the_main_entry() {
        let names = names_for(&[
            "p;main;vm::eval;vm::call;vm::dispatch;vm::apply;vm::bind;vm::eval",
            "p;other;vm::eval",
            "p;third;vm::eval",
            "p;other;vm::bind",
        ]);
        assert_eq!(names, ["vm::{eval,+4}"]);
    }

    #[test]
    fn a_shared_file_is_named_once_after_the_functions() {
        assert_eq!(
            names_for(&["p;m;even (x.py:33);odd (x.py:40);even (x.py:33)"]),
            ["{even,odd} (x.py)"]
        );
        // py-spy names a function by the line it is at: one function.
        assert_eq!(
            names_for(&["p;m;walk (t.py:5);walk (t.py:9);walk (t.py:5)"]),
            ["walk (t.py)"]
        );
        // Two files: the locations stay.
        assert_eq!(
            names_for(&["p;m;f (a.py:1);g (b.py:2);f (a.py:1)"]),
            ["{f (a.py:1),g (b.py:2)}"]
        );
    }

    #[test]
    fn a_name_that_clashes_with_a_frame_gets_a_suffix() {
        let names = names_for(&["p;main;a;b;a;{a,b}"]);
        assert_eq!(names, ["{a,b}#2"]);
    }
}
