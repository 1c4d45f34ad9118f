//! The name a cycle is shown by where space is short (its table row, its
//! section's heading, its frames' labels in the flame graph): its own name
//! when that reads at a glance, else its members with the most self
//! samples, each shortened as a drawing's boxes are (`box_labels.rs`), and
//! `+N` for the rest: `{check_liveness::{closure#0},try_execute_query<…>,+2}`.
//! The full name stays in the tooltip, the JSON report and the folded
//! output.

use crate::engine::report::CycleReport;
use crate::output::html::box_labels::label;
use crate::output::report_text::shorten;

/// Names up to this many characters are shown as they are (every bundled
/// fixture's are).
pub const MAX_SHOWN: usize = 64;

/// The name `cycle` is shown by.
pub fn display_name(cycle: &CycleReport) -> String {
    if cycle.name.chars().count() <= MAX_SHOWN {
        return cycle.name.clone();
    }
    let mut members: Vec<(&str, u64)> = cycle
        .members
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let own = cycle.member_self_samples.get(i).map_or(0, |m| m.samples);
            (name.as_str(), own)
        })
        .collect();
    members.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut labels: Vec<String> = members.iter().map(|(name, _)| label(name)).collect();
    labels.dedup();
    let listed = |n: usize| {
        let mut shown = labels[..n].to_vec();
        if n < labels.len() {
            shown.push(format!("+{}", labels.len() - n));
        }
        format!("{{{}}}", shown.join(","))
    };
    let fits = (1..=labels.len())
        .rev()
        .map(listed)
        .find(|name| name.chars().count() <= MAX_SHOWN);
    fits.unwrap_or_else(|| shorten(&listed(1), MAX_SHOWN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::NamedCount;

    fn cycle(name: &str, members: &[(&str, u64)]) -> CycleReport {
        let mut report = crate::output::html::view::tests::ring(members.len());
        report.name = name.to_string();
        report.members = members.iter().map(|(m, _)| m.to_string()).collect();
        report.member_self_samples = members
            .iter()
            .map(|&(m, samples)| NamedCount {
                name: m.to_string(),
                samples,
            })
            .collect();
        report
    }

    #[test]
    fn short_names_are_shown_as_they_are() {
        let even_odd = cycle(
            "even_odd::{even,odd}",
            &[("even_odd::even", 1), ("even_odd::odd", 2)],
        );
        assert_eq!(display_name(&even_odd), "even_odd::{even,odd}");
    }

    #[test]
    fn long_names_list_the_busiest_members_shortened_and_count_the_rest() {
        let long = format!("{{{}}}", "a::".repeat(40));
        let members = [
            (
                "x::y::<impl core::fmt::Debug for alloc::vec::Vec<u8>>::fmt",
                1,
            ),
            (
                "rustc_query_impl::execution::try_execute_query::<a::B<c::D>>",
                9,
            ),
            ("z::very_long_function_name_that_goes_on_and_on_and_on", 0),
        ];
        let shown = display_name(&cycle(&long, &members));
        assert!(shown.chars().count() <= MAX_SHOWN, "{shown}");
        assert!(
            shown.starts_with("{try_execute_query::"),
            "busiest first: {shown}"
        );
        assert!(
            shown.ends_with(",+2}") || shown.ends_with(",+1}"),
            "{shown}"
        );
    }
}
