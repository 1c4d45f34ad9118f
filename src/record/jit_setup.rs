//! JIT runtimes made visible to perf without flags: the switches each
//! runtime reads from its environment, added for the profiled command.
//!
//! A JIT runtime's generated code is anonymous memory: perf sees its
//! samples but cannot unwind through it or name it unless the runtime
//! keeps frame pointers and writes `/tmp/perf-PID.map`. Node, the JVM and
//! CPython 3.12+ each have switches for it, and each reads them from an
//! environment variable, so `autofold record -- node app.js` sets them
//! there: added after what the user set (never replacing it), said in one
//! note line, and turned off with `--no-jit-setup`. The runtime is known by
//! the program's file name, also behind `env`. See docs/RECORD.md.
//!
//! [`jit_setup`] is a pure function of the command and the environment, so
//! whatever spawns the command (perf, or a sampler) applies its result.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// What to add to a command's environment for its JIT runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitSetup {
    /// Variables to set, each with its whole new value (the user's own
    /// value first, then what autofold adds).
    pub env: Vec<(OsString, OsString)>,
    /// The note that says what was set (without the `autofold: note: `
    /// prefix).
    pub note: String,
}

/// A JIT runtime autofold knows the switches of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Node,
    Java,
    Python,
}

impl Runtime {
    /// The variable the runtime reads its switches from.
    fn variable(self) -> &'static str {
        match self {
            Runtime::Node => "NODE_OPTIONS",
            Runtime::Java => "JAVA_TOOL_OPTIONS",
            Runtime::Python => "PYTHONPERFSUPPORT",
        }
    }

    /// The switches, in the variable's syntax.
    fn switches(self) -> &'static [&'static str] {
        match self {
            // Functions only: node 20's `--perf-basic-prof` also writes a
            // V8 log (`isolate-…-v8.log`) into the working directory; V8's
            // builtins are named from node's own symbol table anyway.
            // Frames of functions V8 interprets are its interpreter's
            // trampoline unless each gets a copy of its own.
            Runtime::Node => &[
                "--perf-basic-prof-only-functions",
                "--interpreted-frames-native-stack",
            ],
            // The map is written at exit (`jcmd PID Compiler.perfmap` for a
            // running JVM); frame pointers let compiled frames be unwound.
            Runtime::Java => &[
                "-XX:+PreserveFramePointer",
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:+DumpPerfMapAtExit",
            ],
            Runtime::Python => &["1"],
        }
    }

    /// What the switches are for, in the note.
    fn purpose(self) -> &'static str {
        match self {
            Runtime::Node => "so perf can unwind and name JavaScript frames",
            Runtime::Java => "so perf can unwind and name Java frames (/tmp/perf-PID.map at exit)",
            Runtime::Python => {
                "so Python functions are named and unwound through (CPython 3.12 or later)"
            }
        }
    }
}

/// The environment to add for the JIT runtime `command` starts (program
/// and arguments), given the current environment (`env` looks a variable
/// up); `None` when the program is no runtime autofold knows, or
/// everything is set already.
pub fn jit_setup(command: &[OsString], env: &dyn Fn(&str) -> Option<OsString>) -> Option<JitSetup> {
    let (index, runtime) = runtime_of(command)?;
    let args = &command[index + 1..];
    let variable = runtime.variable();
    let current = env(variable).map(|v| v.to_string_lossy().into_owned());
    let value = match runtime {
        Runtime::Python if current.is_some() || python_perf_given(args) => return None,
        Runtime::Python => "1".to_owned(),
        _ => {
            let current = current.unwrap_or_default();
            let given = |switch: &&str| {
                let same = |word: &str| same_switch(word, switch);
                current.split_whitespace().any(same)
                    || args.iter().any(|arg| same(&arg.to_string_lossy()))
            };
            let added: Vec<&str> = runtime
                .switches()
                .iter()
                .filter(|s| !given(s))
                .copied()
                .collect();
            if added.is_empty() {
                return None;
            }
            let added = added.join(" ");
            match current.trim() {
                "" => added,
                mine => format!("{mine} {added}"),
            }
        }
    };
    let program = file_name(&command[index]);
    let note = format!(
        "{program}: set {variable}={value} {} (--no-jit-setup to leave it alone)",
        runtime.purpose()
    );
    Some(JitSetup {
        env: vec![(variable.into(), value.into())],
        note,
    })
}

/// Where in `command` the runtime is (past `env`, its options and its
/// assignments), and which one; `None` when it is none autofold knows, or
/// when `env` clears the environment or sets or unsets the runtime's
/// variable itself (the user's setting for this run: the environment
/// autofold gives `env` cannot add to it).
fn runtime_of(command: &[OsString]) -> Option<(usize, Runtime)> {
    let (index, env) = past_env(command)?;
    let runtime = runtime_named(&file_name(command.get(index)?))?;
    let variable = runtime.variable();
    let touched = env.clears || env.touched.iter().any(|name| name == variable);
    (!touched).then_some((index, runtime))
}

/// Where in `command` its program is: past `env`, its options and its
/// assignments (`None` for an empty command).
pub fn program_index(command: &[OsString]) -> Option<usize> {
    past_env(command).map(|(index, _)| index)
}

/// Whether a Python command line turns perf support on itself (`-X perf`,
/// `-X perf_jit`, `-Xperf`): that is the user's setting for this run.
fn python_perf_given(args: &[OsString]) -> bool {
    let words: Vec<String> = args
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    words.iter().enumerate().any(|(i, word)| {
        let option = match word.strip_prefix("-X") {
            Some("") => words.get(i + 1).map(String::as_str),
            Some(option) => Some(option),
            None => None,
        };
        option.is_some_and(|o| o == "perf" || o == "perf_jit")
    })
}

/// Whether `word`, a switch the user gave, does what `switch` does: V8's
/// perf map is written by any of its three switches.
fn same_switch(word: &str, switch: &str) -> bool {
    const PERF_MAPS: [&str; 3] = [
        "--perf-basic-prof",
        "--perf-basic-prof-only-functions",
        "--perf-prof",
    ];
    word == switch || (PERF_MAPS.contains(&word) && PERF_MAPS.contains(&switch))
}

/// What `env` does to the environment before it runs a program.
#[derive(Debug, Default)]
struct EnvWords {
    /// `-i`: the environment is emptied.
    clears: bool,
    /// Variables assigned (`NAME=VALUE`) or unset (`-u NAME`).
    touched: Vec<String>,
}

/// Where the program is in `command`: after `env` with its options and
/// assignments, if `command` starts with `env`; and what `env` does.
fn past_env(command: &[OsString]) -> Option<(usize, EnvWords)> {
    let mut env = EnvWords::default();
    if file_name(command.first()?) != "env" {
        return Some((0, env));
    }
    let mut index = 1;
    while let Some(word) = command.get(index) {
        let word = word.to_string_lossy();
        index += 1;
        match word.as_ref() {
            "--" => break,
            "-i" | "--ignore-environment" => env.clears = true,
            "-u" | "--unset" => {
                let name = command.get(index)?.to_string_lossy().into_owned();
                env.touched.push(name);
                index += 1;
            }
            "-C" | "--chdir" | "-S" | "--split-string" => index += 1,
            _ if word.starts_with("--unset=") => env.touched.push(word[8..].to_owned()),
            _ if word.starts_with('-') => {
                env.clears |= !word.starts_with("--") && word.contains('i')
            }
            _ => match word.split_once('=') {
                Some((name, _)) => env.touched.push(name.to_owned()),
                None => return Some((index - 1, env)),
            },
        }
    }
    Some((index, env))
}

/// The runtime a program's file name says it is.
fn runtime_named(name: &str) -> Option<Runtime> {
    match name {
        "node" | "nodejs" | "npm" | "npx" => Some(Runtime::Node),
        // The JDK's own tools are JVMs too, and read JAVA_TOOL_OPTIONS.
        "java" | "javac" | "jshell" | "javadoc" | "jar" => Some(Runtime::Java),
        "python" | "python3" => Some(Runtime::Python),
        _ => {
            // python3.12 and later; python3.11 and earlier have no perf
            // support.
            let minor = name.strip_prefix("python3.")?.parse::<u32>().ok()?;
            (minor >= 12).then_some(Runtime::Python)
        }
    }
}

/// The last component of a program's path, as text.
fn file_name(program: &OsStr) -> String {
    Path::new(program)
        .file_name()
        .unwrap_or(program)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &str) -> Vec<OsString> {
        words.split(' ').map(OsString::from).collect()
    }

    fn setup(words: &str, env: &[(&str, &str)]) -> Option<JitSetup> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        };
        jit_setup(&command(words), &lookup)
    }

    fn set(words: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
        setup(words, env)
            .map(|s| s.env)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect()
    }

    fn pair(variable: &str, value: &str) -> Vec<(String, String)> {
        vec![(variable.to_owned(), value.to_owned())]
    }

    #[test]
    fn python_given_x_perf_is_left_alone() {
        assert!(setup("python3.13 -X perf_jit app.py", &[]).is_none());
        assert!(setup("python3.12 -Xperf app.py", &[]).is_none());
        assert!(setup("python3.12 app.py -X perf", &[]).is_none());
        assert!(setup("python3.12 -X dev app.py", &[]).is_some());
    }

    #[test]
    fn node_gets_perf_maps_and_native_interpreted_frames() {
        let node = "--perf-basic-prof-only-functions --interpreted-frames-native-stack";
        assert_eq!(set("node app.js", &[]), pair("NODE_OPTIONS", node));
        assert_eq!(
            set("/usr/bin/nodejs app.js", &[]),
            pair("NODE_OPTIONS", node)
        );
        let note = setup("node app.js", &[]).unwrap().note;
        assert!(
            note.starts_with("node: set NODE_OPTIONS=--perf-basic-prof-only-functions"),
            "{note}"
        );
        assert!(note.contains("--no-jit-setup"), "{note}");
    }

    #[test]
    fn the_users_value_is_kept_first_and_nothing_is_repeated() {
        assert_eq!(
            set(
                "node app.js",
                &[("NODE_OPTIONS", "--max-old-space-size=4096")]
            ),
            pair(
                "NODE_OPTIONS",
                "--max-old-space-size=4096 --perf-basic-prof-only-functions --interpreted-frames-native-stack"
            )
        );
        assert_eq!(
            set("node --perf-basic-prof app.js", &[]),
            pair("NODE_OPTIONS", "--interpreted-frames-native-stack")
        );
        let all = "--perf-prof --interpreted-frames-native-stack";
        assert_eq!(setup("node app.js", &[("NODE_OPTIONS", all)]), None);
        assert_eq!(
            set(
                "java Calc",
                &[("JAVA_TOOL_OPTIONS", "-Xmx1g -XX:+PreserveFramePointer")]
            ),
            pair(
                "JAVA_TOOL_OPTIONS",
                "-Xmx1g -XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit"
            )
        );
        assert_eq!(setup("python3 a.py", &[("PYTHONPERFSUPPORT", "0")]), None);
    }

    #[test]
    fn java_gets_frame_pointers_and_a_perf_map_at_exit() {
        for words in ["java -cp . Calc", "/usr/lib/jvm/bin/javac A.java", "jshell"] {
            assert_eq!(
                set(words, &[]),
                pair(
                    "JAVA_TOOL_OPTIONS",
                    "-XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit"
                ),
                "{words}"
            );
        }
    }

    #[test]
    fn python_from_3_12_or_of_unknown_version() {
        for python in [
            "python3",
            "python",
            "/usr/local/bin/python3.12",
            "python3.13",
        ] {
            assert_eq!(
                set(&format!("{python} app.py"), &[]),
                pair("PYTHONPERFSUPPORT", "1"),
                "{python}"
            );
        }
        assert_eq!(setup("python3.11 app.py", &[]), None);
        assert_eq!(setup("python2 app.py", &[]), None);
    }

    #[test]
    fn other_programs_get_nothing() {
        for words in [
            "./target/release/prog",
            "ruby a.rb",
            "nodemon app.js",
            "javap A.class",
        ] {
            assert_eq!(setup(words, &[]), None, "{words}");
        }
    }

    #[test]
    fn the_runtime_is_found_behind_env() {
        let node = "--perf-basic-prof-only-functions --interpreted-frames-native-stack";
        assert_eq!(
            set("env FOO=1 -u BAR node app.js", &[]),
            pair("NODE_OPTIONS", node)
        );
        assert_eq!(
            set("/usr/bin/env -- node app.js", &[]),
            pair("NODE_OPTIONS", node)
        );
        // env's own setting of the variable, or a cleared environment, is
        // the user's for this run.
        assert_eq!(setup("env NODE_OPTIONS=--x node app.js", &[]), None);
        assert_eq!(setup("env -i node app.js", &[]), None);
        assert_eq!(setup("env -u NODE_OPTIONS node app.js", &[]), None);
    }
}
