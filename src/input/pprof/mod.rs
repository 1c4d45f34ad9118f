//! pprof profiles: the protobuf that Go's `runtime/pprof`, pprof-rs,
//! Pyroscope and Parca write (`.pb`, or gzipped as `.pb.gz`, which
//! [`crate::input::gzip`] undoes first). Schema in [`crate::pprof_proto`].
//!
//! A sample's stack is its locations, leaf first, each location's lines
//! innermost (inlined) first; autofold stores it outermost first, without a
//! root label. Its count is its value for one sample type: `--sample-type
//! NAME`, else the profile's default (`default_sample_type`, which Go's CPU
//! profiles leave unset; autofold's off-CPU profiles set it to `wall`), else
//! the first of `samples` and `cpu` (Go's CPU profiles have both), else the
//! last (as `go tool pprof`). A function's `filename` and `start_line` are
//! its frame's source location.

pub mod wire;

use std::borrow::Cow;
use std::io::Read;

use anyhow::{Context, Result, bail};
use prost::Message;
use rustc_hash::FxHashMap;

use crate::console::note;
use crate::input::folded::{count_overflow_error, snippet};
use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, Source, clean};
use crate::pprof_proto as proto;
use crate::profile::{FrameId, Frames, ProfileBuilder, SourceLocation};

/// The pprof protobuf format.
pub struct Pprof;

impl Format for Pprof {
    fn name(&self) -> &'static str {
        "pprof"
    }

    /// Its first bytes are well-formed top-level fields of a pprof
    /// `Profile` (the right field numbers, each with its wire type), up to
    /// the end of the head (or a cut in the file), with a sample type or a
    /// string table among them.
    fn detect(&self, head: &Head) -> bool {
        wire::looks_like_profile(head.bytes())
    }

    fn root_labels(&self) -> Labels {
        Labels::Never
    }

    fn read(&self, mut input: Input<'_>) -> Result<ProfileBuilder> {
        let source = input.source;
        let mut bytes = Vec::new();
        input
            .reader
            .read_to_end(&mut bytes)
            .map_err(|e| source.read_error(e))?;
        if let Err((offset, what)) = wire::check_fields(&bytes) {
            bail!("{source}: byte {offset}: not a valid pprof profile: {what}");
        }
        let decoded = proto::Profile::decode(bytes.as_slice())
            .with_context(|| format!("{source}: not a valid pprof profile"))?;
        drop(bytes);
        Reader::new(&decoded, source)?
            .read(input.options.sample_type.as_deref(), input.samples_before)
    }
}

/// A decoded profile with its tables indexed.
struct Reader<'a> {
    profile: &'a proto::Profile,
    source: &'a Source,
    strings: Vec<Cow<'a, str>>,
    locations: FxHashMap<u64, &'a proto::Location>,
    functions: FxHashMap<u64, &'a proto::Function>,
    mappings: FxHashMap<u64, &'a proto::Mapping>,
}

impl<'a> Reader<'a> {
    fn new(profile: &'a proto::Profile, source: &'a Source) -> Result<Self> {
        Ok(Self {
            profile,
            source,
            strings: profile
                .string_table
                .iter()
                .map(|s| String::from_utf8_lossy(s))
                .collect(),
            locations: profile.location.iter().map(|l| (l.id, l)).collect(),
            functions: profile.function.iter().map(|f| (f.id, f)).collect(),
            mappings: profile.mapping.iter().map(|m| (m.id, m)).collect(),
        })
    }

    /// The string at `index` ("" when out of range, as pprof's tools do).
    fn string(&self, index: i64) -> &str {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.strings.get(i))
            .map_or("", |s| s)
    }

    /// Reads every sample's stack with its value for the chosen sample type.
    fn read(&self, sample_type: Option<&str>, samples_before: u128) -> Result<ProfileBuilder> {
        let value = self.value_index(sample_type)?;
        let mut profile = ProfileBuilder::new();
        let frames = self.location_frames(profile.frames_mut());
        let mut stack = Vec::new();
        let mut total = samples_before;
        for (n, sample) in self.profile.sample.iter().enumerate() {
            let count = self.count(sample, value, n)?;
            if count == 0 {
                continue;
            }
            total += u128::from(count);
            if total > u128::from(u64::MAX) {
                bail!(
                    "{}: sample {}: {:#}",
                    self.source,
                    n + 1,
                    count_overflow_error()
                );
            }
            stack.clear();
            for id in sample.location_id.iter().rev() {
                let Some(location) = frames.get(id) else {
                    bail!(
                        "{}: sample {} refers to location {id}, which the profile does not have",
                        self.source,
                        n + 1
                    );
                };
                stack.extend_from_slice(location);
            }
            profile.push_unlabelled(&stack, count);
        }
        Ok(profile)
    }

    /// The value of sample `n` for sample type `value`: a count of samples
    /// or of units, which cannot be negative.
    fn count(&self, sample: &proto::Sample, value: usize, n: usize) -> Result<u64> {
        let raw = sample.value.get(value).copied().unwrap_or(0);
        u64::try_from(raw).map_err(|_| {
            anyhow::anyhow!(
                "{}: sample {} has the negative value {raw} (a difference profile?); autofold reads counts",
                self.source,
                n + 1
            )
        })
    }

    /// Which value of each sample to read (see the module documentation).
    fn value_index(&self, wanted: Option<&str>) -> Result<usize> {
        let types: Vec<(&str, &str)> = self
            .profile
            .sample_type
            .iter()
            .map(|t| (self.string(t.r#type), self.string(t.unit)))
            .collect();
        let listed = || {
            let names: Vec<String> = types
                .iter()
                .map(|(t, u)| format!("{}/{}", shown(t), shown(u)))
                .collect();
            names.join(", ")
        };
        if types.is_empty() {
            bail!("{}: the pprof profile has no sample types", self.source);
        }
        if let Some(wanted) = wanted {
            return types
                .iter()
                .position(|&(t, u)| t == wanted || format!("{t}/{u}") == wanted)
                .with_context(|| {
                    format!(
                        "{}: no sample type {wanted:?} in this profile; it has {}",
                        self.source,
                        listed()
                    )
                });
        }
        let default = self.string(self.profile.default_sample_type);
        let by_default = types
            .iter()
            .position(|&(t, _)| !default.is_empty() && t == default);
        let preferred = ["samples", "cpu"]
            .iter()
            .find_map(|&name| types.iter().position(|&(t, _)| t == name));
        if let Some(index) = preferred.filter(|_| by_default.is_none()) {
            return Ok(index);
        }
        let index = by_default.unwrap_or(types.len() - 1);
        if types.len() > 1 {
            note(format!(
                "{}: reading sample type {}/{} (this profile has {}; choose with --sample-type)",
                self.source,
                shown(types[index].0),
                shown(types[index].1),
                listed()
            ));
        }
        Ok(index)
    }

    /// Every location's frames, outermost first, interned in `frames`.
    fn location_frames(&self, frames: &mut Frames) -> FxHashMap<u64, Vec<FrameId>> {
        let names = FunctionNames::new(self);
        self.locations
            .iter()
            .map(|(&id, location)| {
                let ids: Vec<FrameId> = if location.line.is_empty() {
                    vec![frames.intern(&self.unsymbolized(location))]
                } else {
                    location
                        .line
                        .iter()
                        .rev()
                        .map(|line| names.intern(line.function_id, frames))
                        .collect()
                };
                (id, ids)
            })
            .collect()
    }

    /// A location without lines: a pseudo-frame naming its binary, as perf
    /// writes one.
    fn unsymbolized(&self, location: &proto::Location) -> String {
        let file = self
            .mappings
            .get(&location.mapping_id)
            .map(|m| self.string(m.filename))
            .unwrap_or("");
        match file.rsplit('/').next() {
            Some(base) if !base.is_empty() => format!("[{}]", clean(base)),
            _ => "[unknown]".to_string(),
        }
    }
}

/// A name from the profile's string table as a message shows it: on one
/// line, and short (the table holds whatever the file holds).
fn shown(name: &str) -> String {
    snippet(clean(name).as_bytes())
}

/// The printed name of each function, how to tell apart functions that
/// print alike, and where each is written.
struct FunctionNames {
    names: FxHashMap<u64, (String, Option<String>)>,
    sources: FxHashMap<u64, SourceLocation>,
}

impl FunctionNames {
    /// Names every function; where two distinct functions (name, system
    /// name, file, first line) print alike, each also gets an identity.
    fn new(reader: &Reader<'_>) -> Self {
        let described: Vec<(u64, String, String)> = reader
            .functions
            .iter()
            .map(|(&id, f)| {
                let name = match (reader.string(f.name), reader.string(f.system_name)) {
                    ("", "") => "[unknown]".to_string(),
                    ("", system) => clean(system),
                    (name, _) => clean(name),
                };
                let identity = format!(
                    "{}\u{1f}{}:{}",
                    reader.string(f.system_name),
                    reader.string(f.filename),
                    f.start_line
                );
                (id, name, identity)
            })
            .collect();
        let mut identities: FxHashMap<&str, rustc_hash::FxHashSet<&str>> = FxHashMap::default();
        for (_, name, identity) in &described {
            identities.entry(name).or_default().insert(identity);
        }
        let names = described
            .iter()
            .map(|(id, name, identity)| {
                let shared = identities[name.as_str()].len() > 1;
                (*id, (name.clone(), shared.then(|| identity.clone())))
            })
            .collect();
        let sources = reader
            .functions
            .iter()
            .filter_map(|(&id, f)| {
                let line = u64::try_from(f.start_line).ok();
                Some((id, SourceLocation::new(reader.string(f.filename), line)?))
            })
            .collect();
        Self { names, sources }
    }

    /// The frame of function `id` (a pseudo-frame when it is unknown),
    /// with its file and first line where the profile has them.
    fn intern(&self, id: u64, frames: &mut Frames) -> FrameId {
        let frame = match self.names.get(&id) {
            Some((name, None)) => frames.intern(name),
            Some((name, Some(identity))) => frames.intern_symbol(name, identity),
            None => frames.intern("[unknown]"),
        };
        if let Some(source) = self.sources.get(&id) {
            frames.set_source(frame, source.clone());
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile of one sample, `walk` calling `walk` calling `leaf`: `walk`
    /// written in /src/walk.go from line 12, `leaf` with no file.
    fn walk_profile() -> proto::Profile {
        let strings = ["", "samples", "count", "walk", "/src/walk.go", "leaf"];
        let function = |id, name, filename, start_line| proto::Function {
            id,
            name,
            system_name: name,
            filename,
            start_line,
        };
        let location = |id, function_id| proto::Location {
            id,
            line: vec![proto::Line {
                function_id,
                ..Default::default()
            }],
            ..Default::default()
        };
        proto::Profile {
            sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
            sample: vec![proto::Sample {
                location_id: vec![2, 1, 1],
                value: vec![5],
                ..Default::default()
            }],
            location: vec![location(1, 1), location(2, 2)],
            function: vec![function(1, 3, 4, 12), function(2, 5, 0, 0)],
            string_table: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_function_is_located_at_its_file_and_start_line() {
        let profile = walk_profile();
        let source = Source::File("walk.pb".into());
        let read = Reader::new(&profile, &source)
            .unwrap()
            .read(None, 0)
            .unwrap()
            .finish();
        let frames = &read.profile.frames;
        let source_of = |name: &str| {
            let id = frames.get(name).unwrap();
            frames.source(id).map(ToString::to_string)
        };
        assert_eq!(read.profile.lines(), ["walk;walk;leaf 5"]);
        assert_eq!(source_of("walk").as_deref(), Some("/src/walk.go:12"));
        assert_eq!(source_of("leaf"), None);
    }
}
