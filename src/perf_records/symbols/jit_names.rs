//! JIT-compiled functions named as their language's tools name them, from
//! the text a runtime writes into `/tmp/perf-PID.map` or a jitdump:
//!
//! - V8 (`node --perf-basic-prof`): `JS:*walk /app/walk.js:13:14` is
//!   `walk (walk.js:13)`, as autofold names a `.cpuprofile`'s frames. The
//!   tier marker (`~` interpreted, `^` baseline, `+` Maglev, `*`
//!   optimized) is left out of the name and of the identity, so every
//!   tier of one function is one frame.
//! - HotSpot (`-XX:+DumpPerfMapAtExit`, `jcmd PID Compiler.perfmap`):
//!   `java.lang.Long Calc$Eval.visitAdd(Calc$Add)` is `Calc$Eval.visitAdd`;
//!   the whole text (return type, parameters) stays its identity, so
//!   overloads stay apart and every compiled tier is one frame.
//! - CPython 3.12+ (`PYTHONPERFSUPPORT=1`): `py::walk:/app/walk.py` is
//!   `walk (walk.py)`.
//!
//! Anything else (V8's builtins and bytecode handlers, HotSpot's
//! `Interpreter` and stubs) keeps its text as name and identity. Whose
//! code a function is comes from its script ([`origin::of_script`]), or
//! for a Java method from its class's package ([`origin::of_java_class`]).
//! Where it is written is V8's script and line, or CPython's file (no
//! line); a HotSpot map says neither.

use super::SymbolFrame;
use crate::profile::origin;
use crate::profile::{Origin, SourceLocation};

/// The frame a JIT runtime's text for a function stands for. A `;` (the
/// frame separator of folded stacks) is printed as `:`, as for any frame.
pub fn jit_frame(raw: &str) -> SymbolFrame {
    let frame = v8_frame(raw)
        .or_else(|| python_frame(raw))
        .or_else(|| java_frame(raw))
        .unwrap_or_else(|| SymbolFrame {
            name: raw.to_owned(),
            identity: None,
            origin: Origin::Other,
            source: None,
        });
    SymbolFrame {
        name: frame.name.replace(';', ":"),
        ..frame
    }
}

/// V8's tier markers, first character after `JS:`.
const V8_TIERS: [char; 4] = ['~', '^', '+', '*'];

/// `JS:<tier><name> <script>:<line>:<column>` (also `Eval:`, `Script:`,
/// `Function:`, `LazyCompile:`).
fn v8_frame(raw: &str) -> Option<SymbolFrame> {
    let (kind, rest) = raw.split_once(':')?;
    if !matches!(kind, "JS" | "Eval" | "Script" | "Function" | "LazyCompile") {
        return None;
    }
    let rest = rest.strip_prefix(V8_TIERS).unwrap_or(rest);
    let (function, position) = match rest.rsplit_once(' ') {
        Some((function, position)) => (function, Some(position)),
        None => (rest, None),
    };
    let function = if function.is_empty() {
        "(anonymous)"
    } else {
        function
    };
    let Some((script, line, column)) = position.and_then(script_position) else {
        return Some(SymbolFrame {
            name: function.to_owned(),
            identity: Some(format!("{kind}:{rest}")),
            origin: Origin::Other,
            source: None,
        });
    };
    Some(SymbolFrame {
        name: format!("{function} ({}:{line})", short_script(script)),
        identity: Some(format!("{kind}:{function} {script}:{line}:{column}")),
        origin: origin::of_script(script),
        source: SourceLocation::parse_line(script, line),
    })
}

/// `script:line:column` split, from the right (scripts may hold `:`).
fn script_position(position: &str) -> Option<(&str, &str, &str)> {
    let (rest, column) = position.rsplit_once(':')?;
    let (script, line) = rest.rsplit_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(line) && digits(column) && !script.is_empty()).then_some((script, line, column))
}

/// The last part of a script's path or URL, as in a `.cpuprofile` frame.
fn short_script(script: &str) -> &str {
    script.rsplit('/').next().unwrap_or(script)
}

/// `py::<qualified name>:<file>`.
fn python_frame(raw: &str) -> Option<SymbolFrame> {
    let (function, file) = raw.strip_prefix("py::")?.split_once(':')?;
    if function.is_empty() || file.is_empty() {
        return None;
    }
    Some(SymbolFrame {
        name: format!("{function} ({})", short_script(file)),
        identity: Some(raw.to_owned()),
        origin: origin::of_script(file),
        source: SourceLocation::new(file, None),
    })
}

/// `<return type> <class>.<method>(<parameter types>)`.
fn java_frame(raw: &str) -> Option<SymbolFrame> {
    let (head, parameters) = raw.strip_suffix(')')?.split_once('(')?;
    let (return_type, method) = head.split_once(' ')?;
    let (class, name) = method.rsplit_once('.')?;
    let is_type = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '$' | '_' | '[' | ']'))
    };
    let is_method = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "$_<>".contains(c));
    let well_formed = is_type(return_type)
        && is_method
        && !class.is_empty()
        && !class.contains(' ')
        && !parameters.contains('(');
    well_formed.then(|| SymbolFrame {
        name: method.to_owned(),
        identity: Some(raw.to_owned()),
        origin: origin::of_java_class(class),
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> String {
        jit_frame(raw).name
    }

    #[test]
    fn v8_tiers_of_one_function_are_one_frame() {
        let tiers: Vec<SymbolFrame> = ["*", "~", "^", "+"]
            .iter()
            .map(|tier| jit_frame(&format!("JS:{tier}walk /tmp/app/walk.js:13:14")))
            .collect();
        assert_eq!(tiers[0].name, "walk (walk.js:13)");
        assert_eq!(tiers[0].origin, Origin::Author);
        assert!(tiers.iter().all(|t| *t == tiers[0]), "{tiers:?}");
        let other = jit_frame("JS:*walk /tmp/other/walk.js:13:14");
        assert_ne!(other.identity, tiers[0].identity, "another script's walk");
    }

    #[test]
    fn v8_anonymous_and_internal_functions() {
        assert_eq!(
            name("JS:~ node:internal/main/run_main_module:1:1"),
            "(anonymous) (run_main_module:1)"
        );
        assert_eq!(
            jit_frame("JS:~Module._load node:internal/modules/cjs/loader:1003:24").origin,
            Origin::Other
        );
        assert_eq!(
            name("Eval:~ /tmp/app/walk.js:1:1"),
            "(anonymous) (walk.js:1)"
        );
        assert_eq!(name("JS:*f file:///srv/a.mjs:2:3"), "f (a.mjs:2)");
        assert_eq!(
            jit_frame("JS:*f file:///srv/a.mjs:2:3").origin,
            Origin::Author
        );
    }

    #[test]
    fn v8_builtins_keep_their_text() {
        assert_eq!(name("Builtin:ArrayMap"), "Builtin:ArrayMap");
        assert_eq!(name("BytecodeHandler:Wide"), "BytecodeHandler:Wide");
    }

    #[test]
    fn java_methods_lose_return_type_and_parameters() {
        let frame = jit_frame("java.lang.Long Calc$Eval.visitAdd(Calc$Add)");
        assert_eq!(frame.name, "Calc$Eval.visitAdd");
        assert_eq!(
            frame.identity.as_deref(),
            Some("java.lang.Long Calc$Eval.visitAdd(Calc$Add)")
        );
        assert_eq!(name("void Calc$Eval.<init>()"), "Calc$Eval.<init>");
        assert_eq!(
            name("java.lang.Object[] java.util.Arrays.copyOf(java.lang.Object[], int)"),
            "java.util.Arrays.copyOf"
        );
        assert_eq!(frame.origin, Origin::Author);
        assert_eq!(
            jit_frame("int java.lang.String.hashCode()").origin,
            Origin::Other
        );
        // Overloads print alike but stay two functions.
        assert_ne!(
            jit_frame("long Calc.crunch(long)").identity,
            jit_frame("long Calc.crunch(int)").identity
        );
    }

    #[test]
    fn hotspot_stubs_keep_their_text() {
        for raw in ["Interpreter", "StubRoutines (1)", "I2C/C2I adapters"] {
            assert_eq!(name(raw), raw);
        }
    }

    #[test]
    fn python_functions_are_named_with_their_file() {
        let frame = jit_frame("py::walk:/tmp/app/walk.py");
        assert_eq!(frame.name, "walk (walk.py)");
        assert_eq!(frame.origin, Origin::Author);
        let frozen = jit_frame("py::_find_and_load:<frozen importlib._bootstrap>");
        assert_eq!(
            frozen.name,
            "_find_and_load (<frozen importlib._bootstrap>)"
        );
        assert_eq!(frozen.origin, Origin::Other);
    }

    #[test]
    fn scripts_and_lines_locate_functions() {
        let source = |raw: &str| jit_frame(raw).source.map(|s| s.to_string());
        assert_eq!(
            source("JS:*parseExpr /path/parser.js:12:20").as_deref(),
            Some("/path/parser.js:12")
        );
        assert_eq!(
            source("JS:~f file:///srv/a.mjs:2:3").as_deref(),
            Some("/srv/a.mjs:2")
        );
        assert_eq!(
            source("py::walk:/tmp/app/walk.py").as_deref(),
            Some("/tmp/app/walk.py")
        );
        assert_eq!(source("JS:*f"), None);
        assert_eq!(source("Builtin:ArrayMap"), None);
        assert_eq!(source("void Calc$Eval.<init>()"), None);
    }

    proptest::proptest! {
        /// A perf map's text is the runtime's (untrusted): any line names
        /// a frame, never a panic; V8's tiers of any function are one.
        #[test]
        fn any_text_names_a_frame(raw in ".{0,80}") {
            let frame = jit_frame(&raw);
            proptest::prop_assert!(!frame.name.is_empty() || raw.is_empty());
            proptest::prop_assert!(!frame.name.contains(';'));
        }

        #[test]
        fn every_v8_tier_is_one_identity(
            function in "[a-zA-Z_$. ]{0,12}",
            script in "[a-z/:._-]{1,30}",
            line in 1u32..100_000,
            column in 1u32..1000,
        ) {
            let frames: Vec<SymbolFrame> = ["~", "^", "+", "*"]
                .iter()
                .map(|tier| jit_frame(&format!("JS:{tier}{function} {script}:{line}:{column}")))
                .collect();
            for frame in &frames[1..] {
                proptest::prop_assert_eq!(frame, &frames[0]);
            }
        }
    }
}
