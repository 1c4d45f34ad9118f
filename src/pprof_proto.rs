//! The pprof protobuf schema (`profile.proto` of google/pprof), as `prost`
//! messages written by hand: the schema is small and stable, and this
//! spares a `protoc` build step.
//!
//! Strings are kept as bytes: a profile from elsewhere may hold names that
//! are not UTF-8, and they are read lossily rather than refused.

/// A whole profile.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// What each value of a sample measures, in order.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Mapped binaries.
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// Code locations, each with its (inlined) lines.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Every string, addressed by index; entry 0 is the empty string.
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_table: Vec<Vec<u8>>,
    /// Frames to drop (a regex, as a string index).
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    /// Frames to keep (a regex, as a string index).
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    /// When the profile was taken (ns since the epoch).
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// How long the profile covers (ns).
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// What `period` counts.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Events between two samples.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indices).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// The sample type a viewer shows by default (a string index).
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// A sample type: what it counts and in which unit (string indices).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    /// e.g. `samples`, `cpu`, `alloc_space`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// e.g. `count`, `nanoseconds`, `bytes`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// One sample: a stack (leaf first) and one value per sample type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Location ids, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per `sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Labels (thread names, pids, …).
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A sample label.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// The key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// A string value (string index).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// A numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
    /// The unit of `num` (string index).
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// A mapped binary.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Mapping {
    /// Its id, referenced by locations.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Start of the mapping in memory.
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// End of the mapping in memory.
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// Offset in the file.
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// The file (string index).
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// Its build id (string index).
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    /// Whether its locations were symbolized.
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    /// Whether file names were resolved.
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    /// Whether line numbers were resolved.
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    /// Whether inline frames were resolved.
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// A code location: an address and, when symbolized, its lines.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Its id, referenced by samples.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Its mapping (0: none).
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// The instruction address.
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Inlined functions first, the function they were inlined into last.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    /// Whether several addresses were folded into this one.
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// A line in a function.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    /// The function (id).
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// The line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
    /// The column number.
    #[prost(int64, tag = "3")]
    pub column: i64,
}

/// A function.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Its id, referenced by lines.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Its name for people (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// Its name as the system knows it, e.g. mangled (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Its source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// Its first line.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}
