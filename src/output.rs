//! Writing outputs: atomically, never over an input, folded text streamed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::Analysis;
use crate::input::Source;
use crate::profile::Profile;
use crate::render::{RenderOptions, render_svg};

/// Where the folded stacks go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
}

/// Everything a command writes besides its messages.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// The folded stacks.
    pub folded: Option<Destination>,
    /// The flame graph (SVG).
    pub svg: Option<PathBuf>,
    /// The cycle report (JSON).
    pub report: Option<PathBuf>,
    /// How the flame graph looks.
    pub render: RenderOptions,
}

/// Writes every export of `analysis`; none may overwrite one of `inputs`.
pub fn export(analysis: &Analysis, exports: &Exports, inputs: &[Source]) -> Result<()> {
    if let Some(path) = &exports.svg {
        write_atomically(path, inputs, |out| {
            render_svg(&analysis.folded, &analysis.report, &exports.render, out)
        })?;
    }
    if let Some(path) = &exports.report {
        write_atomically(path, inputs, |out| analysis.report.write_json(out))?;
    }
    match &exports.folded {
        Some(Destination::File(path)) => {
            write_atomically(path, inputs, |out| write_folded(&analysis.folded, out))
        }
        Some(Destination::Stdout) => write_stdout(|out| write_folded(&analysis.folded, out)),
        None => Ok(()),
    }
}

/// Writes `path` through `write`: into a temporary file beside it, renamed
/// over `path` only once everything is written, so a failure leaves any
/// existing file untouched. Refuses to write over one of `inputs`.
pub fn write_atomically(
    path: &Path,
    inputs: &[Source],
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    refuse_to_overwrite_input(path, inputs)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::NamedTempFile::new_in(dir).with_context(|| {
        format!(
            "{}: cannot create a temporary file in {}",
            path.display(),
            dir.display()
        )
    })?;
    let mut out = BufWriter::new(temp);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    std::fs::set_permissions(temp.path(), permissions_for(path))
        .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("{}: cannot replace", path.display()))?;
    Ok(())
}

/// The mode a new output gets: the old file's, or `rw-r--r--`.
fn permissions_for(path: &Path) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644))
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

fn refuse_to_overwrite_input(path: &Path, inputs: &[Source]) -> Result<()> {
    let Ok(out) = std::fs::metadata(path) else {
        return Ok(());
    };
    for input in inputs {
        if let Source::File(input) = input
            && let Ok(meta) = File::open(input).and_then(|f| f.metadata())
            && (meta.dev(), meta.ino()) == (out.dev(), out.ino())
        {
            bail!(
                "{}: refusing to overwrite an input file; choose another output path",
                path.display()
            );
        }
    }
    Ok(())
}

/// Writes the profile's stacks as folded lines, `frame;frame;... COUNT`.
pub fn write_folded(profile: &Profile, out: &mut dyn Write) -> io::Result<()> {
    for (ids, count) in profile.stacks() {
        write_line(profile, ids, count, out)?;
    }
    Ok(())
}

/// The profile's stacks as folded lines, for the renderer.
pub fn folded_lines(profile: &Profile) -> Vec<String> {
    profile
        .stacks()
        .map(|(ids, count)| {
            let mut line = Vec::new();
            write_line(profile, ids, count, &mut line).expect("writing to a Vec cannot fail");
            line.pop(); // the line ending
            String::from_utf8(line).expect("frame names are UTF-8")
        })
        .collect()
}

/// Writes one `frame;frame;... COUNT` line.
fn write_line(profile: &Profile, ids: &[u32], count: u64, out: &mut dyn Write) -> io::Result<()> {
    for (i, &id) in ids.iter().enumerate() {
        if i > 0 {
            out.write_all(b";")?;
        }
        out.write_all(profile.frames.name(id).as_bytes())?;
    }
    writeln!(out, " {count}")
}
