//! The report as text for an 80-column terminal: long names shortened in
//! the middle (the JSON keeps them whole), trivial cycles in one line.

use std::io::{self, Write};

use crate::console::wording::{duration, plural};
use crate::engine::report::{CycleReport, NamedCount, Report, percent};
use crate::profile::Unit;

/// The widest line the text report writes.
pub const WIDTH: usize = 80;

/// The widest a name in a list is written when more items follow.
const ITEM_WIDTH: usize = 28;

/// Names shortened below this are left out (`+N more`) instead.
const MIN_NAME: usize = 8;

/// Indent of the detail lines under a cycle's row.
const INDENT: &str = "      ";

impl Report {
    /// Writes the report as text for people, at most 80 columns wide.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        write(self, out)
    }
}

/// Writes `report` as text.
fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let total = report.total_samples;
    let (trivial, listed): (Vec<&CycleReport>, Vec<&CycleReport>) =
        report.cycles.iter().partition(|c| c.is_trivial(total));
    let n = report.cycles.len();
    let timed = report.unit == Unit::Microseconds;
    match timed {
        true => writeln!(
            out,
            "{n} recursion cycle{} in {} of wall-clock time ({total} {})",
            plural(n),
            duration(total.saturating_mul(1000)),
            report.unit.name()
        )?,
        false => writeln!(out, "{n} recursion cycle{} in {total} samples", plural(n))?,
    }
    if !listed.is_empty() {
        let unit = if timed { "     µs" } else { "samples" };
        writeln!(out, "\n  {unit}       %  max depth  mean depth  cycle")?;
    }
    for cycle in listed {
        write_cycle(cycle, out)?;
        if timed {
            writeln!(
                out,
                "{INDENT}on-CPU {}, off-CPU {}",
                duration(cycle.on_cpu.saturating_mul(1000)),
                duration(cycle.off_cpu.saturating_mul(1000))
            )?;
        }
    }
    if !trivial.is_empty() {
        write_trivial(&trivial, total, out)?;
    }
    write_truncation(report, out)?;
    write_kept_out(report, out)
}

/// The frames kept out of cycles because they never recursed.
fn write_kept_out(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.kept_out.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n{} function{} kept out of cycles: never twice on a stack, never recursed",
        report.kept_out.len(),
        plural(report.kept_out.len())
    )?;
    let names: Vec<(String, String)> = report
        .kept_out
        .iter()
        .map(|n| (n.clone(), String::new()))
        .collect();
    writeln!(out, "{}", labelled_list("", &names))
}

fn write_cycle(cycle: &CycleReport, out: &mut dyn Write) -> io::Result<()> {
    let head = format!(
        "{:>9} {:>6.2}%  {:>9}  {:>10.1}  ",
        cycle.samples, cycle.percent, cycle.max_depth, cycle.mean_depth
    );
    writeln!(out, "{head}{}", shorten(&cycle.name, WIDTH - head.len()))?;
    if !cycle.folded {
        writeln!(
            out,
            "{INDENT}not folded: {} members, over --max-cycle-members",
            cycle.members.len()
        )?;
    }
    // Members that print alike (instances of one generic) are listed once.
    let mut by_self: Vec<NamedCount> = Vec::new();
    for member in &cycle.member_self_samples {
        match by_self.iter_mut().find(|m| m.name == member.name) {
            Some(seen) => seen.samples += member.samples,
            None => by_self.push(member.clone()),
        }
    }
    by_self.sort_by_key(|m| std::cmp::Reverse(m.samples));
    let members: Vec<(String, String)> = by_self
        .iter()
        .map(|m| (m.name.clone(), format!(" (self {})", m.samples)))
        .collect();
    writeln!(
        out,
        "{}",
        labelled_list(&format!("{} members:", by_self.len()), &members)
    )?;
    writeln!(
        out,
        "{}",
        labelled_list("entered from:", &counted(&cycle.entries))
    )?;
    writeln!(
        out,
        "{}",
        labelled_list("top exits:", &counted(&cycle.exits))
    )?;
    if let Some(split) = &cycle.split {
        writeln!(
            out,
            "{INDENT}giant cycle: excluding {} leaves at most {} of {} together:",
            split.exclude.len(),
            split.largest_component_after,
            cycle.members.len()
        )?;
        // The flags are meant to be pasted: never shortened.
        writeln!(out, "{INDENT}  {}", split.flags)?;
        let bridges: Vec<(String, String)> = split
            .ranking
            .iter()
            .map(|b| (b.name.clone(), format!(" (leaves {})", b.largest_component)))
            .collect();
        writeln!(out, "{}", labelled_list("best bridges:", &bridges))?;
    }
    write_welds(cycle, out)
}

/// Where the cycle looks joined by a shared name to code above it, and
/// what to do.
fn write_welds(cycle: &CycleReport, out: &mut dyn Write) -> io::Result<()> {
    let Some(weld) = cycle.looks_welded.first() else {
        return Ok(());
    };
    let line = format!(
        "{INDENT}looks welded by a name in {} samples: lone ",
        weld.samples
    );
    let pair = format!("{} above {}", weld.member, weld.above);
    writeln!(out, "{line}{}", shorten(&pair, WIDTH - line.len()))?;
    writeln!(
        out,
        "{INDENT}  (if two functions print so, `autofold record` tells them apart)"
    )
}

fn write_trivial(trivial: &[&CycleReport], total: u64, out: &mut dyn Write) -> io::Result<()> {
    let samples: u64 = trivial.iter().map(|c| c.samples).sum();
    let names: Vec<(String, String)> = trivial
        .iter()
        .map(|c| (c.name.clone(), String::new()))
        .collect();
    writeln!(
        out,
        "\n+ {} trivial self-recursive cycle{} (depth <= 2, < 0.5% self), in {:.1}% of samples:",
        trivial.len(),
        plural(trivial.len()),
        percent(samples, total)
    )?;
    writeln!(out, "{}", labelled_list("", &names))
}

fn write_truncation(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &report.truncation;
    if t.truncated_samples == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "\n{} samples ({:.1}%) began mid-recursion (the profiler cut their stacks):",
        t.truncated_samples,
        percent(t.truncated_samples, report.total_samples)
    )?;
    for r in &t.rerooted {
        let line = format!("{INDENT}{} re-attached under ", r.samples);
        let path = format!("{};{}", r.entry_path.join(";"), r.cycle);
        writeln!(out, "{line}{}", shorten(&path, WIDTH - line.len()))?;
    }
    for g in &t.grouped {
        let line = format!(
            "{INDENT}{} grouped under [truncated] (no complete stack enters ",
            g.samples
        );
        writeln!(out, "{line}{})", shorten(&g.cycle, WIDTH - line.len() - 1))?;
    }
    Ok(())
}

fn counted(counts: &[NamedCount]) -> Vec<(String, String)> {
    counts
        .iter()
        .map(|c| (c.name.clone(), format!(" ({})", c.samples)))
        .collect()
}

/// `label name (n), name (n), … +N more` within [`WIDTH`]: each item is a
/// name and a suffix; names are shortened to fit, suffixes never.
fn labelled_list(label: &str, items: &[(String, String)]) -> String {
    let mut line = format!("{INDENT}{label}");
    if items.is_empty() {
        line.push_str(" -");
        return line;
    }
    for (i, (name, suffix)) in items.iter().enumerate() {
        let rest = items.len() - i - 1;
        let reserve = if rest > 0 {
            format!(", +{rest} more").len()
        } else {
            0
        };
        let used = line.chars().count() + 2 + reserve + suffix.chars().count();
        // Leave room for the items after this one.
        let room = WIDTH.saturating_sub(used);
        let room = if rest > 0 { room.min(ITEM_WIDTH) } else { room };
        if room < MIN_NAME {
            line.push_str(&format!(" +{} more", items.len() - i));
            return line;
        }
        line.push_str(if i == 0 { " " } else { ", " });
        line.push_str(&shorten(name, room));
        line.push_str(suffix);
    }
    line
}

/// `name` cut to `width` characters by replacing its middle with `…`.
pub fn shorten(name: &str, width: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= width || width < 3 {
        return name.to_string();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_both_ends() {
        assert_eq!(shorten("abcdefghij", 7), "abc…hij");
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("abcdefghij", 6).chars().count(), 6);
    }

    #[test]
    fn lists_fit_in_80_columns() {
        let items: Vec<(String, String)> = (0..40)
            .map(|i| {
                (
                    format!("some::long::module::function_{i}"),
                    " (123)".to_string(),
                )
            })
            .collect();
        let line = labelled_list("entered from:", &items);
        assert!(line.chars().count() <= WIDTH, "{line}");
        assert!(line.ends_with("more"), "{line}");
        assert!(line.contains("(123), "), "counts are never cut: {line}");
    }
}
