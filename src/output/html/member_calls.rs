//! One member's callers and callees, inside its cycle and outside, for its
//! row in the member table: from the calls the fold gathered (who calls
//! whom inside the cycle, where its runs begin and end).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::report::CycleReport;
use crate::output::html::box_labels::label;
use crate::output::html::view::Listed;

/// How many of each list a row shows (most samples first).
pub const MAX_LISTED_CALLS: usize = 4;

/// A member's callers and callees; empty where calls were not gathered.
#[derive(Debug, Default, Serialize)]
pub struct MemberCalls {
    /// Members that call it.
    pub callers_inside: Vec<Listed>,
    /// Members it calls.
    pub callees_inside: Vec<Listed>,
    /// Frames outside the cycle that call into it.
    pub callers_outside: Vec<Listed>,
    /// Frames outside the cycle it calls on the way out.
    pub callees_outside: Vec<Listed>,
}

/// The calls of member `index` of `cycle`.
pub fn member_calls(cycle: &CycleReport, index: usize) -> MemberCalls {
    let Some(calls) = &cycle.calls else {
        return MemberCalls::default();
    };
    let member = |i: usize| cycle.members[i].as_str();
    let inside = |pick: &dyn Fn(usize, usize) -> Option<usize>| {
        ranked(
            calls
                .inside
                .iter()
                .filter_map(|c| pick(c.caller, c.callee).map(|m| (member(m), c.samples))),
        )
    };
    let outside = |list: &[crate::engine::report::BoundaryCall]| {
        ranked(
            list.iter()
                .filter(|c| c.member == index)
                .map(|c| (c.outside.as_str(), c.samples)),
        )
    };
    MemberCalls {
        callers_inside: inside(&|caller, callee| (callee == index).then_some(caller)),
        callees_inside: inside(&|caller, callee| (caller == index).then_some(callee)),
        callers_outside: outside(&calls.entering),
        callees_outside: outside(&calls.leaving),
    }
}

/// `calls` summed by name, most samples first, at most
/// [`MAX_LISTED_CALLS`].
fn ranked<'a>(calls: impl Iterator<Item = (&'a str, u64)>) -> Vec<Listed> {
    let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, samples) in calls {
        *by_name.entry(name).or_default() += samples;
    }
    let mut listed: Vec<(&str, u64)> = by_name.into_iter().collect();
    listed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    listed
        .into_iter()
        .take(MAX_LISTED_CALLS)
        .map(|(name, samples)| Listed {
            name: name.to_string(),
            short: label(name),
            samples,
        })
        .collect()
}
