//! autofold: flame graphs of recursive programs, with every recursion cycle
//! folded into one frame.
//!
//! The data flow, one module a step (see `docs/ARCHITECTURE.md`):
//! [`input`] reads folded stacks or `perf script` output into an interned
//! [`profile`]; [`graph`] finds the recursion cycles of its call graph;
//! [`naming`] names them; [`fold`] folds every run of a cycle into one frame
//! while [`stats`] gathers figures; [`report`] and [`render`] present the
//! result; [`output`] writes it. [`engine`] chains the middle steps.

pub mod cli;
pub mod engine;
pub mod fold;
pub mod folded;
pub mod graph;
pub mod input;
pub mod naming;
pub mod output;
pub mod profile;
pub mod progress;
pub mod record;
pub mod render;
pub mod report;
pub mod report_text;
pub mod reroot;
pub mod split;
pub mod stats;
