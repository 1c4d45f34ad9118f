//! What a test needs from the machine besides autofold: perf events and the
//! perf binary, other profilers, compilers and runtimes, Chromium.
//! `scripts/test` installs them all, so a missing one fails the tests that
//! need it, saying what to install, unless a variable says to skip that
//! kind of test on purpose ([`Kind`]); a skipped test prints `skipped: …`
//! and passes.

use std::path::PathBuf;

/// A kind of test that may be skipped on purpose.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Tests that record with perf events: `AUTOFOLD_SKIP_PERF_TESTS=1`
    /// skips them all (where perf events cannot be recorded, perf being
    /// installed or not).
    Perf,
    /// Tests that run another profiler, a compiler or a runtime:
    /// `AUTOFOLD_SKIP_PROFILER_TESTS=1` skips those whose program is missing.
    Profiler,
    /// Tests that load pages in headless Chromium:
    /// `AUTOFOLD_SKIP_BROWSER_TESTS=1` skips them where Chromium is missing.
    Browser,
}

impl Kind {
    /// The variable that skips tests of this kind when set to `1`.
    pub fn variable(self) -> &'static str {
        match self {
            Kind::Perf => "AUTOFOLD_SKIP_PERF_TESTS",
            Kind::Profiler => "AUTOFOLD_SKIP_PROFILER_TESTS",
            Kind::Browser => "AUTOFOLD_SKIP_BROWSER_TESTS",
        }
    }
}

/// Whether tests of `kind` are to be skipped (its variable is `1`); when
/// so, prints `skipped: WHY (VARIABLE=1)`.
pub fn skipping(kind: Kind, why: &str) -> bool {
    let variable = kind.variable();
    let skip = std::env::var_os(variable).is_some_and(|v| v == "1");
    if skip {
        eprintln!("skipped: {why} ({variable}=1)");
    }
    skip
}

/// The program a test needs: `$VAR` if set, else the first of `names` on
/// `PATH`. Where there is none, `None` when `kind`'s variable skips the
/// test (said as [`skipping`] says it); otherwise the test fails, saying
/// how to install it (`install`).
pub fn tool(kind: Kind, names: &[&str], var: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| on_path(names));
    if found.is_some() {
        return found;
    }
    let missing = format!("{} not found", names.join(" or "));
    if skipping(kind, &missing) {
        return None;
    }
    panic!(
        "{missing}: {install}, or set ${var}; {}=1 skips this test",
        kind.variable()
    )
}

/// The profiler, compiler or runtime `program` (`$VAR`, else on `PATH`),
/// or `None` where it is missing and `AUTOFOLD_SKIP_PROFILER_TESTS=1`.
pub fn profiler(program: &str, var: &str, install: &str) -> Option<PathBuf> {
    tool(Kind::Profiler, &[program], var, install)
}

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// CPython `version` (`3.12`): `$AUTOFOLD_PYTHON3_12` (the variable for
/// that version) if set, else pyenv's build of it (`$PYENV_ROOT`, else
/// `~/.pyenv`), else `python3.12` on `PATH`; a missing one fails the test
/// saying to install it with pyenv, unless `AUTOFOLD_SKIP_PROFILER_TESTS=1`.
pub fn cpython(version: &str) -> Option<PathBuf> {
    let program = format!("python{version}");
    let var = format!("AUTOFOLD_PYTHON{}", version.replace('.', "_"));
    if std::env::var_os(&var).is_none()
        && let Some(found) = pyenv_python(version, &program)
    {
        return Some(found);
    }
    let install = format!("`pyenv install {version}` (scripts/test does)");
    tool(Kind::Profiler, &[&program], &var, &install)
}

/// pyenv's newest build of CPython `version`, if it has one.
fn pyenv_python(version: &str, program: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")))?;
    let prefix = format!("{version}.");
    let mut builds: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
        .map(|entry| entry.path().join("bin").join(program))
        .filter(|path| path.is_file())
        .collect();
    builds.sort();
    builds.pop()
}
