//! py-spy's raw output (`py-spy record -f raw`): folded stacks whose every
//! frame is `function (file:line)`, read like any folded file, with two
//! things py-spy says by its shape: its stacks start at the thread's first
//! Python frame (no process name, unless `--threads` or `--subprocesses`
//! put `thread (TID)` or `process PID:"CMD"` first), and they are never cut,
//! so none of them begins mid-recursion. Each function is then made one
//! frame, its line dropped (`function_of`). A frame whose file is a full
//! path (`--full-filenames`, as `autofold record` runs py-spy) prints its
//! file's name only and keeps the path to tell whose code it is
//! (`name_by_file`). A function's source location is its file and the
//! first of its lines seen (`first_lines`).

use anyhow::Result;
use rustc_hash::FxHashMap;

use crate::input::folded::{is_empty_stack, read_folded, trim_line};
use crate::input::root_label::Labels;
use crate::input::{Format, Head, Input};
use crate::profile::{FrameId, Frames, Origin, ProfileBuilder, SourceLocation, origin};

/// py-spy's raw folded output.
pub struct PySpy;

/// How many lines of the head are checked frame by frame.
const LINES_CHECKED: usize = 200;

impl Format for PySpy {
    fn name(&self) -> &'static str {
        "py-spy folded stacks"
    }

    /// Every frame of the first lines (below a `process …` label) is
    /// `function (location)`, and each line ends in a count.
    fn detect(&self, head: &Head) -> bool {
        let lines: Vec<&[u8]> = head
            .lines()
            .map(|line| trim_line(line.as_bytes()))
            .filter(|line| !line.is_empty() && !is_empty_stack(line))
            .take(LINES_CHECKED)
            .collect();
        !lines.is_empty() && lines.iter().all(|line| is_py_spy_line(line))
    }

    fn root_labels(&self) -> Labels {
        Labels::FromEvidence(is_py_spy_label)
    }

    fn keeps_whole_stacks(&self) -> bool {
        true
    }

    /// Read as folded stacks, then each function made one frame whatever
    /// line it stood on (see `function_of`), located at the first of its
    /// lines (see `first_lines`).
    fn read(&self, input: Input<'_>) -> Result<ProfileBuilder> {
        let mut profile = read_folded(input.reader, input.source, input.samples_before)?;
        let sources = first_lines(&profile.profile().frames);
        profile.merge_frames(function_of);
        locate(profile.frames_mut(), &sources);
        name_by_file(profile.frames_mut());
        Ok(profile)
    }
}

/// Gives every frame whose file is a full path (`evaluate
/// (/app/calc.py)`) the name its file's last part makes (`evaluate
/// (calc.py)`, as CPython 3.12's perf map names it), keeps the full name as
/// its identity (two files' `__init__` stay apart), and says whose code it
/// is from that path ([`origin::of_script`]: the program's tree, not the
/// standard library or site-packages). Only Python source is the author's:
/// a native frame's file is a library or a C source
/// ([`is_python_source`]).
fn name_by_file(frames: &mut Frames) {
    frames.identify(|frame| {
        let (function, path) = full_path_frame(frame)?;
        let file = path.rsplit('/').next().unwrap_or(path);
        Some(format!("{function} ({file})"))
    });
    for id in 0..frames.len() as FrameId {
        let Some((_, path)) = frames.identity(id).and_then(full_path_frame) else {
            continue;
        };
        let whose = match is_python_source(path) {
            true => origin::of_script(path),
            false => Origin::Other,
        };
        frames.set_origin(id, whose);
    }
}

/// `function (/full/path)` split into its function and its path; `None`
/// for any other frame (a relative file, `<frozen …>`, a label).
fn full_path_frame(frame: &str) -> Option<(&str, &str)> {
    let (function, _) = frame.strip_suffix(')')?.split_once(" (/")?;
    let path = &frame[function.len() + 2..frame.len() - 1];
    (!function.is_empty() && !path.ends_with('/')).then_some((function, path))
}

/// Whether a frame's file is Python source (`.py`, `.pyw`, Cython's
/// `.pyx`), rather than what `--native` frames carry: a shared library, an
/// executable, a C file from debug information.
fn is_python_source(path: &str) -> bool {
    [".py", ".pyw", ".pyx"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The frame `function (file:line)` as one frame per function,
/// `function (file)`; `None` for a frame without a line: a label
/// (`thread (TID)`, `process PID:"CMD"`), a native frame without one
/// (`PyObject_Call (libpython3.11.so.1.0)`, `0x7f3a… (?)`), a frame py-spy
/// wrote with `--nolineno`.
///
/// py-spy writes the line a frame stands on *now*, so one function would
/// be several frames, some in a recursion and some among its exits: `even
/// (x.py:33)` calling `odd`, `even (x.py:30)` calling `crunch`. Python's
/// own tools (and `py-spy --function`) count by function.
fn function_of(frame: &str) -> Option<String> {
    let location = frame.strip_suffix(')')?;
    let (file, line) = location.rsplit_once(':')?;
    let numbered = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    let in_parentheses = file
        .find(" (")
        .is_some_and(|open| open > 0 && open + 2 < file.len());
    (numbered && in_parentheses).then(|| format!("{file})"))
}

/// Where each function (by the frame `function_of` makes of it) is
/// written: its file, and the smallest line any of its frames stood on.
/// That is the function's own first line where py-spy recorded with
/// `--function` (as `autofold record` runs it: each frame on its function's
/// first line), and otherwise the first line a sample saw run.
fn first_lines(frames: &Frames) -> FxHashMap<String, SourceLocation> {
    let mut first: FxHashMap<String, SourceLocation> = FxHashMap::default();
    for (_, frame) in frames.iter() {
        let Some(function) = function_of(frame) else {
            continue;
        };
        let Some(source) = source_of(frame) else {
            continue;
        };
        let earlier = first.get(&function).and_then(|known| known.line);
        if earlier.is_none_or(|line| source.line.is_some_and(|new| new < line)) {
            first.insert(function, source);
        }
    }
    first
}

/// The file and line of a frame `function (file:line)`: the file is what
/// follows the `(` of a full path (`--full-filenames`), else the last `(`.
fn source_of(frame: &str) -> Option<SourceLocation> {
    let (head, line) = frame.strip_suffix(')')?.rsplit_once(':')?;
    let file = match head.split_once(" (/") {
        Some((_, path)) => &head[head.len() - path.len() - 1..],
        None => head.rsplit_once(" (")?.1,
    };
    SourceLocation::parse_line(file, line)
}

/// Gives each frame its function's location from `sources`.
fn locate(frames: &mut Frames, sources: &FxHashMap<String, SourceLocation>) {
    for id in 0..frames.len() as FrameId {
        if let Some(source) = sources.get(frames.name(id)) {
            frames.set_source(id, source.clone());
        }
    }
}

/// Whether a folded line is py-spy's: `frame;frame;… COUNT`, every frame
/// `function (location)` (a leading `process PID:"CMD"` allowed).
fn is_py_spy_line(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let Some((stack, count)) = line.rsplit_once(' ') else {
        return false;
    };
    if count.parse::<u64>().is_err() {
        return false;
    }
    let mut frames = stack.split(';').peekable();
    if frames.peek().is_some_and(|first| is_process_label(first)) {
        frames.next();
    }
    frames.all(is_py_spy_frame)
}

/// `function (location)`: what py-spy writes for a Python (or, with
/// `--native`, a native) frame, and for `--threads`' `thread (TID)`.
fn is_py_spy_frame(frame: &str) -> bool {
    frame.ends_with(')')
        && frame
            .find(" (")
            .is_some_and(|open| open > 0 && open + 2 < frame.len() - 1)
}

/// `process PID:"CMD"`, the first frame `--subprocesses` writes.
fn is_process_label(frame: &str) -> bool {
    frame
        .strip_prefix("process ")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(pid, cmd)| pid.bytes().all(|b| b.is_ascii_digit()) && cmd.starts_with('"'))
}

/// Whether a first frame is one of py-spy's labels: `thread (TID)` or
/// `process PID:"CMD"`.
pub fn is_py_spy_label(frame: &str) -> bool {
    is_process_label(frame) || (frame.starts_with("thread (") && frame.ends_with(')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_named_by_its_function_and_file_without_the_line() {
        let cases = [
            ("<module> (x.py:1)", Some("<module> (x.py)")),
            ("even (even_odd.py:33)", Some("even (even_odd.py)")),
            ("<lambda> (a b.py:3)", Some("<lambda> (a b.py)")),
            ("f (g) (x.py:12)", Some("f (g) (x.py)")),
            ("/tmp/a:b.py:3", None),
            ("f (/tmp/a:b.py:3)", Some("f (/tmp/a:b.py)")),
            (
                "_find_and_load (<frozen importlib._bootstrap>:1178)",
                Some("_find_and_load (<frozen importlib._bootstrap>)"),
            ),
            // Native frames with a line from debug information.
            (
                "_PyEval_EvalFrameDefault (Python/ceval.c:4181)",
                Some("_PyEval_EvalFrameDefault (Python/ceval.c)"),
            ),
            ("f (x.py)", None),
            ("PyEval_EvalFrameDefault (libpython3.11.so.1.0)", None),
            ("0x7f3a2b1c (/usr/lib/libc.so.6)", None),
            ("0x7f3a2b1c (?)", None),
            ("process 12:\"python x.py\"", None),
            ("process 12:\"python x.py:3\"", None),
            ("thread (9409)", None),
            ("thread (0x7f12ab)", None),
            ("thread (0x7f12ab): Thread-1 (work)", None),
            ("f (x.py:)", None),
            ("f (x.py:3a)", None),
            ("(x.py:3)", None),
            (" (x.py:3)", None),
            ("main", None),
        ];
        for (frame, function) in cases {
            assert_eq!(function_of(frame).as_deref(), function, "{frame}");
        }
    }

    #[test]
    fn full_paths_print_as_file_names_and_say_whose_code_it_is() {
        let mut profile = ProfileBuilder::of_lines(&[
            "python;<module> (/app/calc.py:85);evaluate (/app/calc.py:23);evaluate (/app/calc.py:28)",
            "python;<module> (/app/calc.py:85);loads (/opt/py/lib/python3.11/json/__init__.py:346)",
            "python;<module> (/app/calc.py:85);get (/app/venv/lib/python3.11/site-packages/requests/api.py:73)",
            "python;<module> (/app/calc.py:85);gc_collect_main (/opt/py/lib/libpython3.11.so.1.0)",
            "python;<module> (/app/calc.py:85);f (/build/Python-3.11.7/Python/ceval.c:4181)",
            "python;<module> (/app/calc.py:85);__init__ (/app/a/core.py:3);__init__ (/app/b/core.py:3)",
            "python;_find_and_load (<frozen importlib._bootstrap>:1178)",
        ]);
        profile.merge_frames(function_of);
        name_by_file(profile.frames_mut());
        let frames = &profile.profile().frames;
        let whose = |name: &str| {
            let ids: Vec<FrameId> = frames
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(id, _)| id)
                .collect();
            assert!(!ids.is_empty(), "{name} is a frame");
            ids.iter().map(|&id| frames.origin(id)).collect::<Vec<_>>()
        };
        assert_eq!(whose("evaluate (calc.py)"), [Origin::Author]);
        assert_eq!(whose("<module> (calc.py)"), [Origin::Author]);
        assert_eq!(whose("loads (__init__.py)"), [Origin::Other]);
        assert_eq!(whose("get (api.py)"), [Origin::Other]);
        assert_eq!(
            whose("gc_collect_main (libpython3.11.so.1.0)"),
            [Origin::Other]
        );
        assert_eq!(whose("f (ceval.c)"), [Origin::Other]);
        // Two files' functions print alike and stay two frames.
        assert_eq!(
            whose("__init__ (core.py)"),
            [Origin::Author, Origin::Author]
        );
        assert_eq!(
            whose("_find_and_load (<frozen importlib._bootstrap>)"),
            [Origin::Unknown]
        );
    }

    #[test]
    fn py_spy_lines_are_told_from_other_folded_stacks() {
        let yes = [
            "<module> (even_odd.py:58);main (even_odd.py:53);even (even_odd.py:33) 4",
            "thread (9409);<module> (<string>:1) 115",
            "process 12:\"python x.py\";<module> (x.py:1) 2",
            "_find_and_load (<frozen importlib._bootstrap>:1178) 1",
        ];
        for line in yes {
            assert!(is_py_spy_line(line.as_bytes()), "{line}");
        }
        let no = [
            "even-odd;_start;main 3",
            "prog;foo(int);bar 1",
            "java/lang/Thread.run;a 1",
            "<module> (x.py:1);prog 1",
        ];
        for line in no {
            assert!(!is_py_spy_line(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn a_function_is_located_at_the_first_of_its_lines() {
        let profile = PySpy
            .read(Input {
                reader: Box::new(
                    "<module> (/app/x.py:40);even (/app/x.py:33);odd (/app/x.py:27);even (/app/x.py:30) 3\n\
                     <module> (/app/x.py:40);even (/app/x.py:31) 1\n\
                     <module> (/app/x.py:40);f (g) (y.py:7) 1\n\
                     <module> (/app/x.py:40);PyObject_Call (libpython3.11.so.1.0) 1\n"
                        .as_bytes(),
                ),
                source: &crate::input::Source::File("x.txt".into()),
                options: &Default::default(),
                samples_before: 0,
            })
            .unwrap();
        let frames = &profile.profile().frames;
        let source = |name: &str| {
            let id = frames.iter().find(|(_, n)| *n == name).unwrap().0;
            frames.source(id).map(ToString::to_string)
        };
        assert_eq!(source("even (x.py)").as_deref(), Some("/app/x.py:30"));
        assert_eq!(source("odd (x.py)").as_deref(), Some("/app/x.py:27"));
        assert_eq!(source("<module> (x.py)").as_deref(), Some("/app/x.py:40"));
        assert_eq!(source("f (g) (y.py)").as_deref(), Some("y.py:7"));
        assert_eq!(source("PyObject_Call (libpython3.11.so.1.0)"), None);
    }
}
