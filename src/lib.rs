//! autofold: flame graphs of recursive programs, with every recursion cycle
//! folded into one frame.
//!
//! The data flow, one folder a stage (see `docs/ARCHITECTURE.md`):
//! [`input`] reads a profile in any supported format, and [`record`] makes one
//! with perf; both produce the interned [`profile::Profile`]. [`engine`] finds
//! the recursion cycles of its call graph, names them and folds them;
//! [`output`] writes the folded stacks, the report and the flame graph.
//! [`pipeline`] strings record → engine → output together for `autofold
//! record` and for [`cargo`] (`cargo autofold`), which builds a crate's
//! program first. [`completions`] and [`man`] are generated from [`cli`].

pub mod cargo;
pub mod cli;
pub mod completions;
pub mod console;
pub mod demangle;
pub mod engine;
pub mod files;
pub mod input;
pub mod man;
pub mod output;
pub mod perf_records;
pub mod pipeline;
pub mod pprof_proto;
pub mod profile;
pub mod record;
pub mod source;
