//! Chrome and Node `.cpuprofile` JSON (`node --cpu-prof`, Chrome DevTools'
//! "Save profile"): a tree of call-frame nodes and the leaf node of every
//! sample.
//!
//! Each sampled node's stack is its path from the tree's `(root)` (left out:
//! every stack has it) down to it. A frame is named `function (file:line)`
//! after its function, the last part of its script's URL and the function's
//! first line (1-based); `(anonymous)` for a function without a name;
//! V8's own nodes (`(program)`, `(idle)`, `(garbage collector)`) as they
//! are. Counts are the number of samples (`samples`), or `hitCount` in
//! profiles without them. A function's script says whose code it is
//! (`origin.rs`): a file is the author's, `node:internal/…` is not; with
//! its first line it is the frame's source location.

use anyhow::{Result, bail};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;

use crate::input::folded::count_overflow_error;
use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input, Source, clean, one_line};
use crate::profile::origin;
use crate::profile::{FrameId, Frames, ProfileBuilder, SourceLocation};

/// The `.cpuprofile` format.
pub struct CpuProfile;

impl Format for CpuProfile {
    fn name(&self) -> &'static str {
        "Chrome/Node .cpuprofile"
    }

    /// A JSON object whose first key is `nodes`, with a `callFrame` soon
    /// after (V8 writes `nodes` first; the samples come after the tree).
    fn detect(&self, head: &Head) -> bool {
        let Some(text) = head.text() else {
            return false;
        };
        let Some(rest) = text.trim_start().strip_prefix('{') else {
            return false;
        };
        rest.trim_start().starts_with("\"nodes\"") && text.contains("\"callFrame\"")
    }

    fn root_labels(&self) -> Labels {
        Labels::Never
    }

    fn read(&self, input: Input<'_>) -> Result<ProfileBuilder> {
        let source = input.source;
        let document: Document = serde_json::from_reader(input.reader).map_err(|e| {
            anyhow::anyhow!(
                "{source}:{}:{}: not a valid .cpuprofile: {}",
                e.line(),
                e.column(),
                one_line(&without_position(&e))
            )
        })?;
        Tree::new(&document, source)?.profile(&document, input.samples_before)
    }
}

/// serde_json's message without its trailing "at line L column C".
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// The parts of a `.cpuprofile` autofold reads.
#[derive(Deserialize)]
struct Document {
    nodes: Vec<Node>,
    #[serde(default)]
    samples: Option<Vec<u64>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: u64,
    call_frame: CallFrame,
    #[serde(default)]
    hit_count: u64,
    #[serde(default)]
    children: Vec<u64>,
    /// Trace-event profiles name the parent instead of the children.
    #[serde(default)]
    parent: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallFrame {
    function_name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    line_number: i64,
    #[serde(default)]
    column_number: i64,
}

/// The node tree: each node's parent and frame.
struct Tree {
    parent: FxHashMap<u64, u64>,
    index: FxHashMap<u64, usize>,
    source: Source,
}

impl Tree {
    fn new(document: &Document, source: &Source) -> Result<Self> {
        let mut parent = FxHashMap::default();
        for node in &document.nodes {
            for &child in &node.children {
                parent.insert(child, node.id);
            }
            if let Some(p) = node.parent {
                parent.insert(node.id, p);
            }
        }
        let index: FxHashMap<u64, usize> = document
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i))
            .collect();
        if index.len() != document.nodes.len() {
            bail!("{source}: two nodes of the .cpuprofile share an id");
        }
        Ok(Self {
            parent,
            index,
            source: source.clone(),
        })
    }

    /// Samples per node: from `samples`, else from `hitCount`.
    fn counts(&self, document: &Document) -> Result<Vec<(u64, u64)>> {
        let mut counts: FxHashMap<u64, u64> = FxHashMap::default();
        match &document.samples {
            Some(samples) => {
                for (n, id) in samples.iter().enumerate() {
                    if !self.index.contains_key(id) {
                        bail!(
                            "{}: sample {} is of node {id}, which is not in the tree",
                            self.source,
                            n + 1
                        );
                    }
                    *counts.entry(*id).or_default() += 1;
                }
            }
            None => {
                for node in document.nodes.iter().filter(|n| n.hit_count > 0) {
                    counts.insert(node.id, node.hit_count);
                }
            }
        }
        let mut counts: Vec<(u64, u64)> = counts.into_iter().collect();
        counts.sort_unstable();
        Ok(counts)
    }

    /// The profile: one stack per sampled node.
    fn profile(&self, document: &Document, samples_before: u128) -> Result<ProfileBuilder> {
        let mut profile = ProfileBuilder::new();
        let names = FrameNames::new(document, profile.frames_mut());
        let mut total = samples_before;
        let mut stack = Vec::new();
        for (id, count) in self.counts(document)? {
            total += u128::from(count);
            if total > u128::from(u64::MAX) {
                bail!("{}: node {id}: {:#}", self.source, count_overflow_error());
            }
            self.stack_of(id, document, &names, &mut stack)?;
            profile.push_unlabelled(&stack, count);
        }
        Ok(profile)
    }

    /// The frames from the tree's root (left out) down to node `id`.
    fn stack_of(
        &self,
        id: u64,
        document: &Document,
        names: &FrameNames,
        stack: &mut Vec<FrameId>,
    ) -> Result<()> {
        stack.clear();
        let mut node = id;
        // A parent loop in a broken file must not hang: no path is longer
        // than the tree.
        for _ in 0..=document.nodes.len() {
            let Some(parent) = self.parent.get(&node) else {
                // `node` is the tree's root: left out.
                stack.reverse();
                return Ok(());
            };
            stack.push(names.frame(self.index[&node]));
            if !self.index.contains_key(parent) {
                bail!(
                    "{}: node {node} has the parent {parent}, which is not in the tree",
                    self.source
                );
            }
            node = *parent;
        }
        bail!("{}: node {id}: the tree's parents loop", self.source)
    }
}

/// The frame of each node (by position in `nodes`).
struct FrameNames {
    frames: Vec<FrameId>,
}

impl FrameNames {
    /// Names each node's frame; distinct functions (URL, line, column) that
    /// print alike stay distinct frames.
    fn new(document: &Document, frames: &mut Frames) -> Self {
        let described: Vec<(String, String)> = document
            .nodes
            .iter()
            .map(|n| (frame_name(&n.call_frame), identity(&n.call_frame)))
            .collect();
        let mut identities: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
        for (name, identity) in &described {
            identities.entry(name).or_default().insert(identity);
        }
        let frames = described
            .iter()
            .zip(&document.nodes)
            .map(|((name, identity), node)| {
                let id = match identities[name.as_str()].len() {
                    1 => frames.intern(name),
                    _ => frames.intern_symbol(name, identity),
                };
                if !node.call_frame.url.is_empty() {
                    frames.set_origin(id, origin::of_script(&node.call_frame.url));
                }
                if let Some(source) = source_of(&node.call_frame) {
                    frames.set_source(id, source);
                }
                id
            })
            .collect();
        Self { frames }
    }

    fn frame(&self, node: usize) -> FrameId {
        self.frames[node]
    }
}

/// `function (file:line)`, or V8's own node names as they are.
fn frame_name(frame: &CallFrame) -> String {
    let function = match frame.function_name.as_str() {
        "" => "(anonymous)",
        name => name,
    };
    let file = frame.url.rsplit('/').next().unwrap_or("");
    let name = match (file, frame.line_number) {
        ("", _) => function.to_string(),
        (file, line) if line >= 0 => format!("{function} ({file}:{})", i128::from(line) + 1),
        (file, _) => format!("{function} ({file})"),
    };
    clean(&name)
}

/// Where the function is written: its script (a `file://` URL as a path)
/// and its first line, which V8 counts from 0; `None` for V8's own nodes,
/// which have no script.
fn source_of(frame: &CallFrame) -> Option<SourceLocation> {
    let line = u64::try_from(frame.line_number).ok().map(|line| line + 1);
    SourceLocation::new(&frame.url, line)
}

/// What tells a function apart from another that prints alike.
fn identity(frame: &CallFrame) -> String {
    format!(
        "{}\u{1f}{}:{}:{}",
        frame.function_name, frame.url, frame.line_number, frame.column_number
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<ProfileBuilder> {
        let input = Input {
            reader: Box::new(json.as_bytes()),
            source: &Source::File("x.cpuprofile".into()),
            options: &Default::default(),
            samples_before: 0,
        };
        CpuProfile.read(input)
    }

    fn node(id: u64, name: &str, children: &[u64]) -> String {
        format!(
            r#"{{"id":{id},"callFrame":{{"functionName":"{name}","url":"file:///a/b.js","lineNumber":{id},"columnNumber":0}},"children":{children:?}}}"#
        )
    }

    #[test]
    fn a_parent_loop_is_an_error_not_a_hang() {
        let json = format!(
            r#"{{"nodes":[{},{}],"samples":[2]}}"#,
            node(1, "a", &[2]),
            node(2, "b", &[1])
        );
        let err = format!("{:#}", read(&json).unwrap_err());
        assert!(err.contains("loop"), "{err}");
    }

    #[test]
    fn a_sample_of_a_missing_node_names_the_sample() {
        let json = format!(
            r#"{{"nodes":[{}],"samples":[1,7]}}"#,
            node(1, "(root)", &[])
        );
        let err = format!("{:#}", read(&json).unwrap_err());
        assert_eq!(
            err,
            "x.cpuprofile: sample 2 is of node 7, which is not in the tree"
        );
    }

    #[test]
    fn broken_json_names_line_and_column() {
        let err = format!("{:#}", read("{\"nodes\": [\n{\"id\": }").unwrap_err());
        assert!(
            err.starts_with("x.cpuprofile:2:8: not a valid .cpuprofile"),
            "{err}"
        );
    }

    #[test]
    fn a_function_is_located_at_its_script_and_first_line() {
        // V8 counts lines from 0: node 2's lineNumber 2 is the third line.
        let json = format!(
            r#"{{"nodes":[{},{},{}],"samples":[3]}}"#,
            node(1, "(root)", &[2]),
            node(2, "f", &[3]),
            r#"{"id":3,"callFrame":{"functionName":"(program)","url":"","lineNumber":-1,"columnNumber":-1}}"#
        );
        let read = read(&json).unwrap().finish();
        let frames = &read.profile.frames;
        let source = |name: &str| {
            let id = frames.get(name).unwrap();
            frames.source(id).map(ToString::to_string)
        };
        assert_eq!(source("f (b.js:3)").as_deref(), Some("/a/b.js:3"));
        assert_eq!(source("(program)"), None);
    }
}
