//! Whose code a frame is, from where it comes from: the program's own
//! source tree, or the toolchain's, the system's, a package registry's, the
//! runtime's. No list of library names: only the places such code lives
//! (docs/NAMING.md, "The author's functions"). Readers that know a frame's
//! source file or script (perf.data's DWARF and JIT maps, `.cpuprofile`)
//! use it; a Java method's class says by its package ([`of_java_class`]).

/// Whose code a frame is, as far as its reader could tell from where the
/// code came from (its source file, its script): the naming rule lists the
/// author's functions first (docs/NAMING.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    /// Nothing said (names-only input): the engine judges by name.
    #[default]
    Unknown,
    /// The profiled program's own code.
    Author,
    /// Code from elsewhere: the toolchain, the system, a package registry,
    /// the runtime.
    Other,
}

/// Where a module's (ELF file's) code comes from, before its source files
/// are looked at: a shared library or a file under a system directory is
/// never the author's; an executable elsewhere may be (its source files
/// decide).
pub fn of_module(path: &str, is_executable: bool) -> Origin {
    if !is_executable || is_system_path(path) {
        Origin::Other
    } else {
        Origin::Unknown
    }
}

/// Whose code a function is, given the module's origin ([`of_module`]) and
/// the source file DWARF gives for it.
pub fn of_function(module: Origin, source_file: Option<&str>) -> Origin {
    match (module, source_file) {
        (Origin::Other, _) => Origin::Other,
        (_, Some(file)) => of_source_file(file),
        (origin, None) => origin,
    }
}

/// Whose code a source file is: the author's unless it lies where a
/// toolchain, the system or a package registry keeps its sources.
pub fn of_source_file(path: &str) -> Origin {
    if is_toolchain_path(path) || is_system_path(path) || is_registry_path(path) {
        Origin::Other
    } else {
        Origin::Author
    }
}

/// Whose code a JIT-compiled function is, given the script it came from
/// (a path, a `file://` URL, or a runtime's own name such as
/// `node:internal/…` or `<frozen importlib._bootstrap>`).
pub fn of_script(script: &str) -> Origin {
    let path = script.strip_prefix("file://").unwrap_or(script);
    if path.starts_with('/') {
        of_source_file(path)
    } else {
        Origin::Other
    }
}

/// The packages of the JDK's own modules (`java.base`, `java.xml`,
/// `jdk.compiler`, …): `java.`, `javax.`, `jdk.`, `sun.`, `com.sun.`, and
/// the standards the JDK carries (`org.w3c.`, `org.xml.`, `org.ietf.`).
const JDK_PACKAGES: [&str; 8] = [
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
    "org.w3c.",
    "org.xml.",
    "org.ietf.",
];

/// Whose code a Java method is, by its class (`Calc$Eval`,
/// `java.util.ArrayList`): the runtime's when the class is in one of the
/// JDK's packages, else the program's. A perf map does not say where a
/// class was loaded from, so a library's jar on the class path counts as
/// the program's too (docs/NAMING.md).
pub fn of_java_class(class: &str) -> Origin {
    if JDK_PACKAGES
        .iter()
        .any(|package| class.starts_with(package))
    {
        Origin::Other
    } else {
        Origin::Author
    }
}

/// Directories of the operating system: its programs, libraries, headers.
fn is_system_path(path: &str) -> bool {
    const SYSTEM: [&str; 7] = [
        "/usr/", "/lib/", "/lib32/", "/lib64/", "/bin/", "/sbin/", "/snap/",
    ];
    SYSTEM.iter().any(|dir| path.starts_with(dir)) || path.starts_with('[')
}

/// A compiler's or interpreter's own sources: Rust's standard library
/// (`/rustc/<commit>/library/…`, or a toolchain's `rust-src` under
/// rustup), an interpreter's standard library (`…/lib/python3.12/…`).
fn is_toolchain_path(path: &str) -> bool {
    let components: Vec<&str> = path.split('/').collect();
    path.starts_with("/rustc/")
        || follows(&components, ".rustup", "toolchains")
        || under_env(path, "RUSTUP_HOME", "toolchains")
        || components.windows(2).any(|pair| {
            pair[0] == "lib"
                && pair[1]
                    .strip_prefix("python")
                    .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
}

/// Where package managers unpack the packages a program depends on:
/// cargo's registry and git checkouts, Go's module cache, `node_modules`,
/// Python's `site-packages`/`dist-packages`.
fn is_registry_path(path: &str) -> bool {
    let components: Vec<&str> = path.split('/').collect();
    follows(&components, ".cargo", "registry")
        || follows(&components, ".cargo", "git")
        || under_env(path, "CARGO_HOME", "registry")
        || under_env(path, "CARGO_HOME", "git")
        || (follows(&components, "pkg", "mod") && components.iter().any(|c| c.contains('@')))
        || components
            .iter()
            .any(|c| matches!(*c, "node_modules" | "site-packages" | "dist-packages"))
}

/// Whether `first` is directly followed by `second` among `components`.
fn follows(components: &[&str], first: &str, second: &str) -> bool {
    components
        .windows(2)
        .any(|pair| pair[0] == first && pair[1] == second)
}

/// Whether `path` lies under `$VAR/dir`.
fn under_env(path: &str, var: &str, dir: &str) -> bool {
    std::env::var(var).is_ok_and(|home| {
        let base = format!("{}/{dir}/", home.trim_end_matches('/'));
        !home.is_empty() && path.starts_with(&base)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_programs_own_sources_are_the_authors() {
        assert_eq!(of_source_file("/tmp/lang/cpp/doc.cpp"), Origin::Author);
        assert_eq!(
            of_source_file("/home/me/src/asyncrec/src/main.rs"),
            Origin::Author
        );
    }

    #[test]
    fn toolchain_system_and_registry_sources_are_not() {
        for path in [
            "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/future/future.rs",
            "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/std/src/rt.rs",
            "/usr/include/c++/12/variant",
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.48.0/src/runtime/park.rs",
            "/home/me/.cargo/git/checkouts/syn-123/src/expr.rs",
            "/home/me/go/pkg/mod/golang.org/x/text@v0.3.0/width.go",
            "/srv/app/node_modules/lodash/lodash.js",
            "/home/me/venv/lib/python3.12/site-packages/requests/api.py",
            "/root/.pyenv/versions/3.12.1/lib/python3.12/json/decoder.py",
        ] {
            assert_eq!(of_source_file(path), Origin::Other, "{path}");
        }
    }

    #[test]
    fn libraries_and_system_programs_are_never_the_authors() {
        assert_eq!(of_module("/work/prog", true), Origin::Unknown);
        assert_eq!(of_module("/work/libmine.so", false), Origin::Other);
        assert_eq!(of_module("/usr/bin/node", true), Origin::Other);
        assert_eq!(of_module("[vdso]", true), Origin::Other);
        assert_eq!(
            of_function(Origin::Other, Some("/work/src/a.c")),
            Origin::Other
        );
        assert_eq!(
            of_function(Origin::Unknown, Some("/work/src/a.c")),
            Origin::Author
        );
        assert_eq!(of_function(Origin::Unknown, None), Origin::Unknown);
    }

    #[test]
    fn java_classes_by_package() {
        for class in [
            "Calc$Eval",
            "Lang$Bin",
            "com.example.app.Parser",
            "org.acme.Walk",
        ] {
            assert_eq!(of_java_class(class), Origin::Author, "{class}");
        }
        for class in [
            "java.util.ArrayList",
            "java.lang.invoke.LambdaForm$DMH/0x0000000800c01000",
            "jdk.internal.misc.Unsafe",
            "sun.nio.cs.UTF_8$Encoder",
            "com.sun.tools.javac.Main",
            "javax.xml.parsers.DocumentBuilder",
            "org.w3c.dom.Node",
        ] {
            assert_eq!(of_java_class(class), Origin::Other, "{class}");
        }
    }

    #[test]
    fn scripts_by_path_or_url() {
        assert_eq!(of_script("/tmp/app/walk.js"), Origin::Author);
        assert_eq!(of_script("file:///tmp/app/walk.mjs"), Origin::Author);
        assert_eq!(of_script("node:internal/modules/cjs/loader"), Origin::Other);
        assert_eq!(of_script("<frozen importlib._bootstrap>"), Origin::Other);
        assert_eq!(
            of_script("/srv/app/node_modules/express/lib/router.js"),
            Origin::Other
        );
    }
}
