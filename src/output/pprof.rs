//! The folded profile as gzipped pprof (`--pprof FILE`), the format `go
//! tool pprof`, Pyroscope and Parca read: every folded stack one sample,
//! cycle frames included, so the recursion shows as one function there too.
//!
//! Each distinct frame becomes one function with one location (no
//! addresses: the stacks are already symbolized); a root label becomes the
//! outermost function, as it is the outermost frame of the folded text. The
//! one sample type is `samples/count`, so the totals are the input's; an
//! off-CPU profile (`record --off-cpu`) has two, `cpu/microseconds` (the
//! stacks on the CPU, 0 for those that end in `[off-cpu]`) and
//! `wall/microseconds` (every stack), wall last and the default, so `go
//! tool pprof` and autofold show wall-clock time unless asked for cpu.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message;
use rustc_hash::FxHashMap;

use crate::pprof_proto as proto;
use crate::profile::{FrameId, OFF_CPU_FRAME, Profile, Unit, printed};

/// Writes `folded` as a gzip-compressed pprof profile.
pub fn write_pprof(folded: &Profile, out: &mut dyn Write) -> io::Result<()> {
    let profile = pprof_of(folded)?;
    let mut encoder = GzEncoder::new(out, Compression::default());
    encoder.write_all(&profile.encode_to_vec())?;
    encoder.finish()?;
    Ok(())
}

/// The pprof message for `folded`.
fn pprof_of(folded: &Profile) -> io::Result<proto::Profile> {
    let mut builder = Builder::default();
    let timed = folded.unit == Unit::Microseconds;
    let sample_types: Vec<proto::ValueType> = match timed {
        true => vec![
            builder.value_type("cpu", "microseconds"),
            builder.value_type("wall", "microseconds"),
        ],
        false => vec![builder.value_type("samples", "count")],
    };
    let mut profile = proto::Profile {
        sample_type: sample_types.clone(),
        period_type: sample_types.last().cloned(),
        period: 1,
        default_sample_type: sample_types.last().map_or(0, |t| t.r#type),
        ..Default::default()
    };
    let off_cpu = folded.frames.get(OFF_CPU_FRAME);
    for (frames, count) in folded.stacks() {
        let value = i64::try_from(count).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a stack has {count} samples, more than pprof can hold (2^63 - 1)"),
            )
        })?;
        let location_id = printed(frames)
            .iter()
            .rev()
            .map(|&frame| builder.location(frame, folded))
            .collect();
        let value = match timed {
            true if off_cpu.is_some() && frames.last() == off_cpu.as_ref() => vec![0, value],
            true => vec![value, value],
            false => vec![value],
        };
        profile.sample.push(proto::Sample {
            location_id,
            value,
            label: Vec::new(),
        });
    }
    builder.finish(&mut profile);
    Ok(profile)
}

/// The string, function and location tables, filled as stacks are added.
#[derive(Default)]
struct Builder {
    strings: Vec<Vec<u8>>,
    string_ids: FxHashMap<String, i64>,
    locations: FxHashMap<FrameId, u64>,
    function_of_name: FxHashMap<i64, u64>,
    functions: Vec<proto::Function>,
}

impl Builder {
    /// The index of `text` in the string table (entry 0 is "").
    fn string(&mut self, text: &str) -> i64 {
        if self.strings.is_empty() {
            self.strings.push(Vec::new());
            self.string_ids.insert(String::new(), 0);
        }
        if let Some(&id) = self.string_ids.get(text) {
            return id;
        }
        let id = self.strings.len() as i64;
        self.strings.push(text.as_bytes().to_vec());
        self.string_ids.insert(text.to_string(), id);
        id
    }

    /// A sample type, its strings in the table.
    fn value_type(&mut self, kind: &str, unit: &str) -> proto::ValueType {
        proto::ValueType {
            r#type: self.string(kind),
            unit: self.string(unit),
        }
    }

    /// The location (and function) id of `frame`: one function per printed
    /// name, so frames that print alike are one function, as in the text.
    fn location(&mut self, frame: FrameId, folded: &Profile) -> u64 {
        if let Some(&id) = self.locations.get(&frame) {
            return id;
        }
        let name = self.string(folded.frames.name(frame));
        let next = self.functions.len() as u64 + 1;
        let id = *self.function_of_name.entry(name).or_insert(next);
        if id == next {
            self.functions.push(proto::Function {
                id,
                name,
                system_name: name,
                filename: 0,
                start_line: 0,
            });
        }
        self.locations.insert(frame, id);
        id
    }

    /// Moves the tables into `profile`: one location per function.
    fn finish(self, profile: &mut proto::Profile) {
        profile.location = self
            .functions
            .iter()
            .map(|f| proto::Location {
                id: f.id,
                line: vec![proto::Line {
                    function_id: f.id,
                    line: 0,
                    column: 0,
                }],
                ..Default::default()
            })
            .collect();
        profile.function = self.functions;
        profile.string_table = self.strings;
    }
}
