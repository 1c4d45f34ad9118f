//! Writing files atomically, never over an input, and writing to standard
//! output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::input::Source;

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
