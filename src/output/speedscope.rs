//! The folded profile in speedscope's file format (`--speedscope FILE`):
//! <https://www.speedscope.app/file-format-schema.json>, for its time
//! order, left-heavy and sandwich views.
//!
//! One sampled profile per root label (a recording's process names; one in
//! all for inputs without labels), its samples the folded stacks in the
//! profile's order, each weighed by its count; for a recording read with a
//! timeline, one per recorded thread (`process (pid) / thread (tid)`), its
//! samples in time order, each with its own stack folded and its weight.
//! Weights are in the profile's unit
//! (`none` for samples, `microseconds` for an off-CPU recording). Frames are
//! shared by all profiles, one per printed name, as in the folded text;
//! each cycle frame is one frame named by its cycle, its members in the
//! frame's `file` (`recursion cycle: a, b`), which speedscope shows beside
//! the name; any other frame the input located (`member_sources`' source
//! locations) has its `file` and `line`. The samples are written straight from the profile, never
//! copied into a tree of JSON values. A diff (`diff --speedscope`) writes
//! both sides into one file, `before: ` and `after: ` profiles.

use std::io::{self, Write};

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crate::engine::Analysis;
use crate::engine::report::CycleReport;
use crate::profile::{FrameId, NO_LABEL, Profile, Unit};

use super::viewer_model::{
    Thread, cycle_frames, members_note, profile_name, threads, timed_threads,
};

/// The schema speedscope checks a file against.
pub const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// Writes the folded profile of `analysis` as a speedscope file.
pub fn write_speedscope(analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    write_sides(&[("", analysis)], &profile_name(&analysis.folded), out)
}

/// Writes both sides of a diff (analysed together, so a cycle has one
/// name on both) as one speedscope file: the before side's profiles, then
/// the after side's, each name prefixed by its side, the frames shared.
pub fn write_speedscope_diff(
    before: &Analysis,
    after: &Analysis,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = format!(
        "{} → {}",
        profile_name(&before.folded),
        profile_name(&after.folded)
    );
    write_sides(&[("before: ", before), ("after: ", after)], &name, out)
}

/// Writes the profiles of every `(prefix, analysis)` side into one file
/// named `name`, their profiles' names prefixed by the side's prefix.
fn write_sides(sides: &[(&str, &Analysis)], name: &str, out: &mut dyn Write) -> io::Result<()> {
    let sides: Vec<Side<'_>> = sides.iter().map(|&(p, a)| Side::of(p, a)).collect();
    let mut frames = SharedFrames::default();
    let index_of: Vec<Vec<u32>> = sides.iter().map(|side| frames.add(side)).collect();
    let profiles = sides
        .iter()
        .zip(&index_of)
        .flat_map(|(side, index_of)| sampled(side, index_of))
        .collect();
    let file = File {
        schema: SCHEMA,
        shared: Shared {
            frames: &frames.frames,
        },
        profiles,
        name,
        active_profile_index: 0,
        exporter: concat!("autofold ", env!("CARGO_PKG_VERSION")),
    };
    serde_json::to_writer(&mut *out, &file).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// One analysis as speedscope profiles: the profile whose frames its
/// stacks use, and its threads, each with its profile's name.
struct Side<'a> {
    analysis: &'a Analysis,
    /// The frame table the threads' stacks index.
    profile: &'a Profile,
    threads: Vec<(String, Thread<'a>)>,
}

impl<'a> Side<'a> {
    /// The threads of `analysis`, their names prefixed by `prefix`: the
    /// recorded threads where it has a timeline, else its root labels.
    fn of(prefix: &str, analysis: &'a Analysis) -> Self {
        let folded = &analysis.folded;
        let Some(timed) = &analysis.timeline else {
            let fallback = profile_name(folded);
            let threads = (threads(folded).into_iter())
                .map(|thread| {
                    (
                        format!("{prefix}{}", thread.name(folded, &fallback)),
                        thread,
                    )
                })
                .collect();
            return Self {
                analysis,
                profile: folded,
                threads,
            };
        };
        let threads = (timed_threads(timed).into_iter())
            .map(|thread| {
                let samples = thread.samples.iter().map(|s| (s.frames, s.weight));
                let stacks = Thread {
                    label: NO_LABEL,
                    stacks: samples.collect(),
                };
                (format!("{prefix}{}", thread.title()), stacks)
            })
            .collect();
        Self {
            analysis,
            profile: &timed.stacks,
            threads,
        }
    }
}

/// The sampled profiles of one side, its frames indexed by `index_of`.
fn sampled<'a>(side: &'a Side<'a>, index_of: &'a [u32]) -> Vec<Sampled<'a>> {
    let unit = match side.analysis.folded.unit {
        Unit::Samples => "none",
        Unit::Microseconds => "microseconds",
    };
    (side.threads.iter())
        .map(|(name, thread)| Sampled {
            kind: "sampled",
            name: name.clone(),
            unit,
            start_value: 0,
            end_value: thread.total(),
            samples: Samples { thread, index_of },
            weights: Weights(thread),
        })
        .collect()
}

/// The whole file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    shared: Shared<'a>,
    profiles: Vec<Sampled<'a>>,
    name: &'a str,
    active_profile_index: usize,
    exporter: &'static str,
}

/// The frames every profile's samples index.
#[derive(Serialize)]
struct Shared<'a> {
    frames: &'a [Frame<'a>],
}

/// One frame: a function, with its source file and line where the input
/// located it (speedscope shows them beside the name), or a cycle with its
/// members in `file`.
#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

impl<'a> Frame<'a> {
    /// Frame `id` of `profile`, named `name`: `cycle`'s frame where it is
    /// one.
    fn of(profile: &Profile, id: FrameId, name: &'a str, cycle: Option<&CycleReport>) -> Self {
        if let Some(cycle) = cycle {
            return Self {
                name,
                file: Some(members_note(cycle)),
                line: None,
            };
        }
        let source = profile.frames.source(id);
        Self {
            name,
            file: source.map(|s| s.file.to_string()),
            line: source.and_then(|s| s.line).map(|line| line.get()),
        }
    }
}

/// One sampled profile: the stacks of one root label.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sampled<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    unit: &'static str,
    start_value: u64,
    end_value: u64,
    samples: Samples<'a>,
    weights: Weights<'a>,
}

/// The frame table all profiles share: one frame per printed name.
#[derive(Default)]
struct SharedFrames<'a> {
    frames: Vec<Frame<'a>>,
    by_name: FxHashMap<&'a str, u32>,
}

impl<'a> SharedFrames<'a> {
    /// Adds the frames the stacks of `side` use, in order of first use;
    /// returns, by frame id of its profile, the index of each one's frame
    /// ([`u32::MAX`] where unused).
    fn add(&mut self, side: &Side<'a>) -> Vec<u32> {
        let profile: &'a Profile = side.profile;
        let cycles = cycle_frames(profile, &side.analysis.report);
        let mut index_of = vec![u32::MAX; profile.frames.len()];
        let all = side.threads.iter().flat_map(|(_, t)| &t.stacks);
        for &id in all.flat_map(|&(stack, _)| stack) {
            if index_of[id as usize] != u32::MAX {
                continue;
            }
            let name = profile.frames.name(id);
            let frames = &mut self.frames;
            index_of[id as usize] = *self.by_name.entry(name).or_insert_with(|| {
                frames.push(Frame::of(profile, id, name, cycles.get(&id).copied()));
                frames.len() as u32 - 1
            });
        }
        index_of
    }
}

/// A profile's stacks as arrays of frame indices, root first, written as
/// they are read from the profile.
struct Samples<'a> {
    thread: &'a Thread<'a>,
    index_of: &'a [u32],
}

impl Serialize for Samples<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.thread.stacks.len()))?;
        for &(stack, _) in &self.thread.stacks {
            seq.serialize_element(&Indices {
                stack,
                index_of: self.index_of,
            })?;
        }
        seq.end()
    }
}

/// One stack as frame indices.
struct Indices<'a> {
    stack: &'a [FrameId],
    index_of: &'a [u32],
}

impl Serialize for Indices<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.stack.iter().map(|&id| self.index_of[id as usize]))
    }
}

/// A profile's weights: each stack's count.
struct Weights<'a>(&'a Thread<'a>);

impl Serialize for Weights<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.stacks.iter().map(|&(_, count)| count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineOptions, analyse};
    use crate::profile::ReadProfile;

    /// The speedscope file of the stacks `lines`, parsed.
    fn exported(lines: &[&str]) -> serde_json::Value {
        let analysis = analyse(ReadProfile::of_lines(lines), &EngineOptions::default());
        let mut out = Vec::new();
        write_speedscope(&analysis, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn each_root_label_is_a_profile_of_weighted_samples() {
        let file = exported(&["p;main;work", "p;main;work", "q;main"]);
        assert_eq!(file["$schema"], SCHEMA);
        let profiles = file["profiles"].as_array().unwrap();
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0]["name"], "p");
        assert_eq!(profiles[0]["unit"], "none");
        assert_eq!(profiles[0]["endValue"], 2);
        assert_eq!(profiles[0]["weights"], serde_json::json!([2]));
        let frames = &file["shared"]["frames"];
        let names: Vec<&str> = profiles[0]["samples"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                frames[i.as_u64().unwrap() as usize]["name"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(names, ["main", "work"]);
    }

    #[test]
    fn a_timeline_is_a_profile_per_thread_with_samples_in_time_order() {
        let lines = ["app;main;f;f;g", "app;main;h", "worker;run"];
        let samples = [(0, 7, 7, 0), (30, 7, 8, 2), (10, 7, 7, 1), (20, 7, 7, 0)];
        let threads = [(7, 7, "app"), (7, 8, "worker")];
        let read = ReadProfile::recorded(&lines, &samples, &threads);
        let analysis = analyse(read, &EngineOptions::default());
        let mut out = Vec::new();
        write_speedscope(&analysis, &mut out).unwrap();
        let file: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let profiles = file["profiles"].as_array().unwrap();
        let names: Vec<&str> = profiles
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["app (7) / app (7)", "app (7) / worker (8)"]);
        let frames = &file["shared"]["frames"];
        let leaves: Vec<&str> = (profiles[0]["samples"].as_array().unwrap().iter())
            .map(|s| {
                let leaf = s.as_array().unwrap().last().unwrap().as_u64().unwrap();
                frames[leaf as usize]["name"].as_str().unwrap()
            })
            .collect();
        // At 0, 10 and 20 ms: g under the folded f, h, g again.
        assert_eq!(leaves, ["g", "h", "g"]);
        assert_eq!(profiles[0]["weights"], serde_json::json!([1, 1, 1]));
        assert_eq!(profiles[0]["endValue"], 3);
    }

    #[test]
    fn a_cycle_is_one_frame_with_its_members_in_file() {
        let file = exported(&["p;main;even;odd;even;odd;leaf", "p;main;even;odd;leaf"]);
        let frames = file["shared"]["frames"].as_array().unwrap();
        let cycle = frames
            .iter()
            .find(|f| f.get("file").is_some())
            .expect("a cycle frame");
        assert_eq!(cycle["file"], "recursion cycle: even, odd");
        assert!(
            !frames
                .iter()
                .any(|f| f["name"] == "even" || f["name"] == "odd")
        );
    }
}
