//! Frames that stand for a runtime's machinery rather than a function of
//! the program: a runtime runs or calls every function through them, so by
//! name they recurse through everything. They are pseudo-frames to the
//! engine (never a cycle member, never a link between two functions), and
//! the recorder leaves CPython's out between Python frames.

/// Frames in which a runtime runs a function it interprets, in place of
/// that function: HotSpot's template interpreter (`Interpreter` in its perf
/// map, one frame for every interpreted Java method) and V8's interpreter
/// entry builtins (one for every interpreted JavaScript function unless
/// `--interpreted-frames-native-stack`). Each is many functions at once, so
/// as a cycle member it would join every recursion that passes through
/// interpreted code, and make a cycle of its own out of the whole program.
pub fn is_interpreter_trampoline(name: &str) -> bool {
    const TRAMPOLINES: [&str; 6] = [
        "Interpreter",
        "Builtins_InterpreterEntryTrampoline",
        "Builtins_InterpreterEnterAtBytecode",
        "Builtins_InterpreterEnterAtNextBytecode",
        "Builtins_BaselineOrInterpreterEnterAtBytecode",
        "Builtins_BaselineOrInterpreterEnterAtNextBytecode",
    ];
    TRAMPOLINES.contains(&name)
}

/// CPython functions (3.8 to 3.13) that only run or call a function: the
/// eval loop, its entry points (running a module's code, `exec`, the
/// `import` statement's way into importlib), and the paths of a call
/// (vectorcall, bound methods, class instantiation, `__init__` and
/// `__call__` slots).
const MACHINERY: [&str; 41] = [
    "_PyEval_EvalFrameDefault",
    "_PyEval_EvalFrame",
    "_PyEval_Vector",
    "_PyEval_EvalCode",
    "PyEval_EvalCode",
    "PyEval_EvalCodeEx",
    "py_trampoline_evaluator",
    "_PyObject_Call",
    "PyObject_Call",
    "_PyObject_MakeTpCall",
    "_PyObject_Call_Prepend",
    "_PyObject_FastCallDictTstate",
    "_PyObject_FastCall",
    "PyObject_CallOneArg",
    "PyObject_CallNoArgs",
    "_PyObject_CallNoArgs",
    "PyObject_CallObject",
    "PyObject_CallFunctionObjArgs",
    "PyObject_CallMethodObjArgs",
    "PyObject_CallMethodOneArg",
    "object_vacall",
    "cfunction_call",
    "function_code_fastcall",
    "method_call",
    "slot_tp_call",
    "slot_tp_init",
    "slot_tp_new",
    "type_call",
    "run_mod",
    "run_eval_code_obj",
    "PyRun_StringFlags",
    "_PyRun_StringFlagsWithName",
    "builtin_exec",
    "builtin_exec_impl",
    "import_name",
    "import_find_and_load",
    "PyImport_ImportModuleLevelObject",
    "PyImport_Import",
    "PyImport_ImportModule",
    "builtin___import__",
    "builtin___import___impl",
];

/// Whether `name` is one of CPython's call machinery functions: one of
/// [`MACHINERY`], or a vectorcall path (`PyObject_Vectorcall`,
/// `_PyObject_VectorcallTstate`, `method_vectorcall_O`,
/// `cfunction_vectorcall_FASTCALL`, `_PyFunction_Vectorcall`, …). GCC's
/// split-off parts (`_PyEval_EvalFrameDefault.cold`) are the function's.
pub fn is_call_machinery(name: &str) -> bool {
    let name = name.split_once('.').map_or(name, |(function, _)| function);
    MACHINERY.contains(&name) || name.contains("Vectorcall") || name.contains("vectorcall")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpython_call_paths_are_machinery() {
        for name in [
            "_PyEval_EvalFrameDefault",
            "_PyEval_EvalFrameDefault.cold",
            "PyObject_Vectorcall",
            "_PyObject_VectorcallTstate",
            "method_vectorcall_FASTCALL_KEYWORDS",
            "cfunction_vectorcall_O",
            "type_call",
            "py_trampoline_evaluator",
            "run_eval_code_obj",
            "import_name",
        ] {
            assert!(is_call_machinery(name), "{name}");
        }
        for name in [
            "builtin_sorted",
            "PyUnicode_Concat",
            "_PyAST_Compile",
            "evaluate (calc.py)",
            "call",
        ] {
            assert!(!is_call_machinery(name), "{name}");
        }
    }
}
