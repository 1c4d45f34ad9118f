//! The report as text for an 80-column terminal: long names shortened in
//! the middle (the JSON keeps them whole), trivial cycles in one line.

use std::io::{self, Write};

use crate::report::{CycleReport, NamedCount, Report, percent};

/// The widest line the text report writes.
pub const WIDTH: usize = 80;

/// Indent of the detail lines under a cycle's row.
const INDENT: &str = "      ";

/// Writes `report` as text.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let total = report.total_samples;
    let (trivial, listed): (Vec<&CycleReport>, Vec<&CycleReport>) =
        report.cycles.iter().partition(|c| c.is_trivial(total));
    let n = report.cycles.len();
    writeln!(out, "{n} recursion cycle{} in {total} samples", plural(n))?;
    if !listed.is_empty() {
        writeln!(out, "\n  samples       %  max depth  mean depth  cycle")?;
    }
    for cycle in listed {
        write_cycle(cycle, out)?;
    }
    if !trivial.is_empty() {
        write_trivial(&trivial, total, out)?;
    }
    write_truncation(report, out)
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
    let members: Vec<String> = cycle
        .member_self_samples
        .iter()
        .map(|m| format!("{} (self {})", m.name, m.samples))
        .collect();
    writeln!(
        out,
        "{}",
        labelled_list(&format!("{} members:", cycle.members.len()), &members)
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
    }
    Ok(())
}

fn write_trivial(trivial: &[&CycleReport], total: u64, out: &mut dyn Write) -> io::Result<()> {
    let samples: u64 = trivial.iter().map(|c| c.samples).sum();
    let names: Vec<String> = trivial.iter().map(|c| c.name.clone()).collect();
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
        "\n{} samples ({:.1}%) began mid-recursion (perf cut their stacks):",
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

fn counted(counts: &[NamedCount]) -> Vec<String> {
    counts
        .iter()
        .map(|c| format!("{} ({})", c.name, c.samples))
        .collect()
}

/// `label item, item, … +N more` within [`WIDTH`], items shortened to fit.
fn labelled_list(label: &str, items: &[String]) -> String {
    let mut line = format!("{INDENT}{label}");
    if items.is_empty() {
        line.push_str(" -");
        return line;
    }
    for (i, item) in items.iter().enumerate() {
        let rest = items.len() - i - 1;
        let reserve = if rest > 0 {
            format!(", +{rest} more").len()
        } else {
            0
        };
        let room = WIDTH.saturating_sub(line.len() + 2 + reserve);
        if room < 12 {
            line.push_str(&format!(" +{} more", items.len() - i));
            return line;
        }
        line.push_str(if i == 0 { " " } else { ", " });
        line.push_str(&shorten(item, room));
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
        let items: Vec<String> = (0..40)
            .map(|i| format!("some::long::module::function_{i} (123)"))
            .collect();
        let line = labelled_list("entered from:", &items);
        assert!(line.chars().count() <= WIDTH, "{line}");
        assert!(line.ends_with("more"), "{line}");
    }
}
