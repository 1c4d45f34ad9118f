//! CPython's call machinery left out between Python frames, as py-spy
//! leaves it out of `--native` stacks.
//!
//! With perf support on (3.12+), every Python call goes through C: the
//! caller's eval loop (`_PyEval_EvalFrameDefault`), a call path
//! (`PyObject_Vectorcall`, `_PyObject_VectorcallTstate`, `method_vectorcall`,
//! `type_call`, …), `py_trampoline_evaluator`, then the callee's trampoline,
//! which is the Python frame (`evaluate (calc.py)`). These frames stand for
//! no function of the program: they are the same few for every call, so
//! in a call graph they make one cycle of the whole program, welding every
//! recursion (an evaluator and a printer, importlib) into one through the
//! eval loop. Below the first Python frame of a stack they are dropped:
//! the Python caller calls the Python callee directly, the eval loop's own
//! time is the time of the Python function it runs, and every other C
//! function (a builtin, a C extension's recursion, `json`'s encoder, the
//! allocator) keeps its frame. Above the first Python frame (the
//! interpreter starting up, `Py_RunMain`) nothing is dropped.

use super::{Frame, FrameId};
use crate::profile::runtime_frames::is_call_machinery;

/// Which frames of a recording are Python functions, and which are
/// CPython's call machinery.
#[derive(Debug, Default)]
pub struct CallMachinery {
    /// By frame id: a Python function (a trampoline named `py::…`).
    python: Vec<bool>,
    /// By frame id: a machinery frame (see [`is_call_machinery`]).
    machinery: Vec<bool>,
}

impl CallMachinery {
    /// The kinds of `frames` (indexed by frame id).
    pub fn new(frames: &[Frame]) -> Self {
        Self {
            python: frames.iter().map(is_python_function).collect(),
            machinery: frames
                .iter()
                .map(|frame| frame.identity.is_some() && is_call_machinery(&frame.name))
                .collect(),
        }
    }

    /// Whether the recording holds any Python function (else nothing is
    /// ever dropped).
    pub fn has_python(&self) -> bool {
        self.python.contains(&true)
    }

    /// Drops the machinery frames below the first Python frame of `stack`
    /// (outermost first).
    pub fn strip(&self, stack: &mut Vec<FrameId>) {
        let is = |kinds: &[bool], frame: FrameId| kinds.get(frame as usize) == Some(&true);
        let Some(first) = stack.iter().position(|&f| is(&self.python, f)) else {
            return;
        };
        let mut kept = first + 1;
        for index in first + 1..stack.len() {
            let frame = stack[index];
            if !is(&self.machinery, frame) {
                stack[kept] = frame;
                kept += 1;
            }
        }
        stack.truncate(kept);
    }
}

/// Whether `frame` is a Python function: CPython 3.12+'s perf map names
/// each trampoline `py::<qualified name>:<file>`.
fn is_python_function(frame: &Frame) -> bool {
    frame
        .identity
        .as_deref()
        .is_some_and(|identity| identity.starts_with("py::"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Origin;

    fn frame(name: &str) -> Frame {
        let identity = match name.split_once(" (") {
            Some((function, file)) => format!("py::{function}:{}", file.trim_end_matches(')')),
            None => format!("python!{name}"),
        };
        Frame {
            name: name.to_owned(),
            identity: Some(identity),
            origin: Origin::Unknown,
            source: None,
            module: None,
        }
    }

    /// `stack` (`;`-separated) with the machinery stripped.
    fn stripped(stack: &str) -> String {
        let frames: Vec<Frame> = stack.split(';').map(frame).collect();
        let machinery = CallMachinery::new(&frames);
        let mut ids: Vec<FrameId> = (0..frames.len() as FrameId).collect();
        machinery.strip(&mut ids);
        let names: Vec<&str> = ids
            .iter()
            .map(|&id| frames[id as usize].name.as_str())
            .collect();
        names.join(";")
    }

    #[test]
    fn python_callers_call_python_callees_directly() {
        let call = "_PyEval_EvalFrameDefault;PyObject_Vectorcall;_PyObject_VectorcallTstate;py_trampoline_evaluator";
        let stack = format!(
            "main;Py_RunMain;PyEval_EvalCode;_PyEval_Vector;py_trampoline_evaluator;<module> (calc.py);{call};evaluate (calc.py);{call};eval_binop (calc.py);_PyEval_EvalFrameDefault"
        );
        assert_eq!(
            stripped(&stack),
            "main;Py_RunMain;PyEval_EvalCode;_PyEval_Vector;py_trampoline_evaluator;<module> (calc.py);evaluate (calc.py);eval_binop (calc.py)"
        );
    }

    #[test]
    fn c_functions_between_and_below_python_frames_stay() {
        assert_eq!(
            stripped(
                "main;f (a.py);_PyEval_EvalFrameDefault;cfunction_vectorcall_O;builtin_sorted;list_sort_impl;_PyObject_VectorcallTstate;g (a.py);_PyEval_EvalFrameDefault.cold;PyUnicode_Concat;_PyObject_Malloc"
            ),
            "main;f (a.py);builtin_sorted;list_sort_impl;g (a.py);PyUnicode_Concat;_PyObject_Malloc"
        );
    }

    #[test]
    fn stacks_without_python_frames_are_left_alone() {
        let stack = "main;_PyEval_EvalFrameDefault;PyObject_Vectorcall;type_call";
        assert_eq!(stripped(stack), stack);
    }

    #[test]
    fn a_frame_without_identity_is_never_machinery() {
        // A folded frame or pseudo-frame that only happens to have the name.
        let frames = [
            frame("f (a.py)"),
            Frame {
                name: "type_call".into(),
                identity: None,
                origin: Origin::Unknown,
                source: None,
                module: None,
            },
        ];
        let machinery = CallMachinery::new(&frames);
        let mut ids = vec![0, 1];
        machinery.strip(&mut ids);
        assert_eq!(ids, [0, 1]);
    }
}
