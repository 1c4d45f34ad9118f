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

/// CPython 3.`minor`: `$PYTHON3_<minor>` if set, else pyenv's newest build
/// of it (`$(pyenv root)/versions/3.<minor>.*/bin/python3.<minor>`), else
/// `python3.<minor>` on `PATH` (Debian's `/usr/bin/python3.11`). Missing,
/// the test fails saying how to install it, unless
/// `AUTOFOLD_SKIP_PROFILER_TESTS=1` (then `None`).
pub fn cpython(minor: u32) -> Option<PathBuf> {
    let name = format!("python3.{minor}");
    let var = format!("PYTHON3_{minor}");
    if std::env::var_os(&var).is_none()
        && let Some(built) = pyenv_build(minor)
    {
        return Some(built);
    }
    let install = format!("pyenv install 3.{minor} (or apt-get install {name})");
    tool(Kind::Profiler, &[&name], &var, &install)
}

/// pyenv's newest build of CPython 3.`minor`, if pyenv has one.
fn pyenv_build(minor: u32) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| {
            let out = std::process::Command::new("pyenv")
                .arg("root")
                .output()
                .ok()?;
            let root = String::from_utf8(out.stdout).ok()?;
            out.status.success().then(|| PathBuf::from(root.trim()))
        })?;
    let prefix = format!("3.{minor}.");
    std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|version| {
            let patch: u32 = version.strip_prefix(&prefix)?.parse().ok()?;
            Some((patch, version))
        })
        .max()
        .map(|(_, version)| {
            root.join("versions")
                .join(version)
                .join("bin")
                .join(format!("python3.{minor}"))
        })
        .filter(|python| python.is_file())
}

/// The page of the npm package `speedscope` (its `dist/release/`
/// directory, holding `index.html`): `$SPEEDSCOPE_DIR` if set, else where
/// `scripts/test` installs it, `target/test-tools/node_modules/speedscope`.
/// Missing, the test fails saying how to install it, unless
/// `AUTOFOLD_SKIP_BROWSER_TESTS=1` (then `None`).
pub fn speedscope_page() -> Option<PathBuf> {
    let dir = std::env::var_os("SPEEDSCOPE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/test-tools/node_modules/speedscope/dist/release")
        });
    if dir.join("index.html").is_file() {
        return Some(dir);
    }
    let missing = format!("speedscope's page not found in {}", dir.display());
    if skipping(Kind::Browser, &missing) {
        return None;
    }
    panic!(
        "{missing}: npm install --prefix target/test-tools speedscope (scripts/test does; \
         npm is in Debian's package npm), or set $SPEEDSCOPE_DIR; {}=1 skips this test",
        Kind::Browser.variable()
    )
}
