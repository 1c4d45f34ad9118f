//! Tooltips of cycle frames that keep their labels right.
//!
//! inferno's page script derives a frame's label from its `<title>`: the
//! title without its final parenthesised group, so `NAME (N samples, P%)`
//! is labelled `NAME`, and is relabelled so whenever the page is loaded,
//! resized, zoomed or reset. inferno's own `title` attribute replaces the
//! whole title with one fixed text for every frame of a name, losing each
//! frame's samples and percentage. So cycle frames keep inferno's title,
//! their `<g>` is only marked with [`CYCLE_ATTRIBUTE`] (the cycle's index),
//! and once inferno has written the SVG the members are added *inside* the
//! final group of each marked title:
//! `NAME (N samples, P%; recursion cycle of 2: a, b)`.

use std::io::{self, Write};

use inferno::flamegraph::FuncFrameAttrsMap;

use crate::engine::report::CycleReport;

/// The attribute on a cycle frame's `<g>` that holds the cycle's index.
pub const CYCLE_ATTRIBUTE: &str = "data-autofold-cycle";

/// A tooltip lists at most this many members, then `+N more`: a cycle frame
/// may be drawn thousands of times, each with its own title.
pub const MAX_LISTED_MEMBERS: usize = 16;

/// inferno frame attributes marking the frames of `cycles` with their index.
///
/// A name that inferno's attribute file format cannot carry (a tab, a line
/// break, or blanks at either end) gets no mark: its frames keep inferno's
/// plain title, and so still their right label.
pub fn cycle_marks(cycles: &[&CycleReport]) -> io::Result<FuncFrameAttrsMap> {
    let mut spec = String::new();
    for (index, cycle) in cycles.iter().enumerate() {
        let name = &cycle.name;
        if name.contains(['\t', '\n', '\r']) || name.trim() != name {
            continue;
        }
        spec.push_str(&format!("{name}\tg_extra={CYCLE_ATTRIBUTE}=\"{index}\"\n"));
    }
    FuncFrameAttrsMap::from_reader(spec.as_bytes())
}

/// Copies the SVG `svg` that inferno wrote into `out`, adding to the title of
/// every frame marked by [`cycle_marks`] its cycle's members.
pub fn add_members(svg: &[u8], cycles: &[&CycleReport], out: &mut dyn Write) -> io::Result<()> {
    let notes: Vec<String> = cycles.iter().map(|c| members_note(c)).collect();
    let marker = format!("{CYCLE_ATTRIBUTE}=\"");
    let mut rest = svg;
    while let Some(at) = find(rest, marker.as_bytes()) {
        let after = &rest[at + marker.len()..];
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        let index: Option<usize> = std::str::from_utf8(&after[..digits])
            .ok()
            .and_then(|d| d.parse().ok());
        let title_end = find(after, b"</title>");
        match (index.and_then(|i| notes.get(i)), title_end) {
            // inferno's title always ends with its `)`; the note goes before it.
            (Some(note), Some(end)) if end > 0 && after[end - 1] == b')' => {
                let split = at + marker.len() + end - 1;
                out.write_all(&rest[..split])?;
                out.write_all(note.as_bytes())?;
                rest = &rest[split..];
            }
            _ => {
                out.write_all(&rest[..at + marker.len()])?;
                rest = after;
            }
        }
    }
    out.write_all(rest)
}

/// `; recursion cycle of N: a, b, …` (`; direct recursion` for one
/// member, whose name is the cycle's), members by self samples (most first,
/// ties by name), escaped for XML text, with no `(` in it (the label is the
/// title without its final group, and that group must hold no `(`):
/// parentheses in member names become fullwidth ones.
fn members_note(cycle: &CycleReport) -> String {
    // Members that print alike (instances of one generic) are listed once.
    let mut members: Vec<&String> = cycle.members.iter().collect();
    members.dedup();
    if members.len() == 1 {
        return "; direct recursion".to_string();
    }
    let mut by_self: Vec<(&String, u64)> = members
        .iter()
        .map(|&m| {
            let own = cycle.member_self_samples.iter().filter(|s| s.name == *m);
            (m, own.map(|s| s.samples).sum())
        })
        .collect();
    by_self.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut listed: Vec<String> = by_self
        .iter()
        .take(MAX_LISTED_MEMBERS)
        .map(|(m, _)| xml_text(&m.replace('(', "\u{FF08}").replace(')', "\u{FF09}")))
        .collect();
    if members.len() > MAX_LISTED_MEMBERS {
        listed.push(format!("+{} more", members.len() - MAX_LISTED_MEMBERS));
    }
    format!(
        "; recursion cycle of {}: {}",
        members.len(),
        listed.join(", ")
    )
}

/// `text` escaped for an XML text node.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(name: &str, members: &[&str]) -> CycleReport {
        CycleReport {
            name: name.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            samples: 0,
            percent: 0.0,
            on_cpu: 0,
            off_cpu: 0,
            folded: true,
            member_symbols: None,
            member_sources: None,
            author_members: Vec::new(),
            member_total_samples: Vec::new(),
            rerooted_under_samples: 0,
            member_self_samples: Vec::new(),
            max_depth: 0,
            mean_depth: 0.0,
            entries: Vec::new(),
            exits: Vec::new(),
            split: None,
            looks_welded: Vec::new(),
            calls: None,
        }
    }

    fn with_members(svg: &str, cycles: &[&CycleReport]) -> String {
        let mut out = Vec::new();
        add_members(svg.as_bytes(), cycles, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn members_go_inside_the_final_group_of_marked_titles_only() {
        let c = cycle("{a,b}", &["a", "b"]);
        let svg = "<g data-autofold-cycle=\"0\"><title>{a,b} (5 samples, 50.00%)</title></g>\
                   <g><title>x (5 samples, 50.00%)</title></g>";
        assert_eq!(
            with_members(svg, &[&c]),
            "<g data-autofold-cycle=\"0\"><title>{a,b} (5 samples, 50.00%; \
             recursion cycle of 2: a, b)</title></g><g><title>x (5 samples, 50.00%)</title></g>"
        );
    }

    #[test]
    fn member_names_cannot_open_a_group_of_their_own() {
        let c = cycle("{f(int),g<T>}", &["f(int)", "g<T>"]);
        let note = members_note(&c);
        assert!(!note.contains('('), "{note}");
        assert!(note.ends_with("f\u{FF08}int\u{FF09}, g&lt;T&gt;"), "{note}");
    }

    #[test]
    fn long_member_lists_are_cut() {
        let names: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let note = members_note(&cycle("{m00,+19}", &refs));
        assert!(note.ends_with("m15, +4 more"), "{note}");
    }
}
