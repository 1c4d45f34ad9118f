//! The one place every output file goes through: what the path names
//! decides how it is written, so that no output flag can replace, remove or
//! create anything but the file it names.
//!
//! - A regular file (or a new one) is replaced atomically: written to a
//!   temporary file beside it and renamed over it once whole, keeping its
//!   mode and, where the process may, its owner.
//! - A symbolic link is followed: the file it names is replaced atomically
//!   and the link stays a link.
//! - Anything else (a device such as `/dev/null`, a named pipe, a socket,
//!   `/dev/stdout`, `/dev/fd/N`) is written straight into, as a shell's `>`
//!   would: nothing is created, renamed or removed there.
//! - An input is never written over, also through a link.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::source::Source;

/// How many symbolic links are followed before giving up (as Linux does).
const MAX_LINKS: usize = 40;

/// What an output path turned out to be, links followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A regular file, or none yet: replaced (or created) atomically.
    File {
        /// The file itself, every link on the way followed.
        path: PathBuf,
        /// Its mode and owner when it exists.
        existing: Option<Owner>,
    },
    /// A file descriptor the process already has open (`/dev/stdout`,
    /// `/dev/fd/N`, `/proc/self/fd/N`): written through a duplicate of it.
    Descriptor(RawFd),
    /// A device or a named pipe: opened for writing as it is.
    Device(PathBuf),
    /// A Unix domain socket: connected to and written to.
    Socket(PathBuf),
}

/// The mode and owner of an existing file, kept when it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    mode: u32,
    uid: u32,
    gid: u32,
    dev: u64,
    ino: u64,
}

impl Owner {
    fn of(meta: &Metadata) -> Self {
        Owner {
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

impl Target {
    /// What `path` names, every symbolic link followed.
    pub fn of(path: &Path) -> Result<Target> {
        let mut current = absolute(path)?;
        for _ in 0..MAX_LINKS {
            if let Some(fd) = open_descriptor(&current) {
                return Ok(Target::Descriptor(fd));
            }
            let meta = match std::fs::symlink_metadata(&current) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Ok(Target::File {
                        path: current,
                        existing: None,
                    });
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: cannot look at", path.display()));
                }
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                let link = std::fs::read_link(&current)
                    .with_context(|| format!("{}: cannot read link", current.display()))?;
                current = resolved_link(&current, &link);
                continue;
            }
            return Ok(if kind.is_file() {
                Target::File {
                    path: current,
                    existing: Some(Owner::of(&meta)),
                }
            } else if kind.is_dir() {
                bail!(
                    "{}: is a directory; give a file name for the output",
                    path.display()
                );
            } else if kind.is_socket() {
                Target::Socket(current)
            } else {
                Target::Device(current)
            });
        }
        bail!(
            "{}: too many levels of symbolic links (more than {MAX_LINKS})",
            path.display()
        )
    }

    /// Fails when writing here would overwrite one of `inputs`: a regular
    /// file that is an input (also reached through links, or standard input
    /// redirected from it). Devices and pipes are never overwritten.
    fn refuse_inputs(&self, path: &Path, inputs: &[Source]) -> Result<()> {
        let identity = match self {
            Target::File {
                existing: Some(owner),
                ..
            } => Some((owner.dev, owner.ino)),
            Target::Descriptor(fd) => regular_file_identity(*fd),
            _ => None,
        };
        let Some(identity) = identity else {
            return Ok(());
        };
        if inputs.iter().any(|i| input_identity(i) == Some(identity)) {
            bail!(
                "{}: refusing to overwrite an input file; choose another output path",
                path.display()
            );
        }
        Ok(())
    }

    /// Writes `write`'s bytes here (see the module's documentation).
    fn write(
        &self,
        path: &Path,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<()> {
        let cannot_write = || format!("{}: cannot write", path.display());
        match self {
            Target::File {
                path: file,
                existing,
            } => replace_file(file, *existing, write).with_context(cannot_write),
            Target::Descriptor(fd) => {
                // SAFETY: `open_descriptor` checked that the process has
                // `fd` open; it is borrowed only to be duplicated.
                let borrowed = unsafe { BorrowedFd::borrow_raw(*fd) };
                let file = File::from(borrowed.try_clone_to_owned().with_context(cannot_write)?);
                write_all_to(file, write).with_context(cannot_write)
            }
            Target::Device(device) => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(device)
                    .with_context(|| format!("{}: cannot open for writing", path.display()))?;
                write_all_to(file, write).with_context(cannot_write)
            }
            Target::Socket(socket) => {
                let stream = UnixStream::connect(socket)
                    .with_context(|| format!("{}: cannot connect to the socket", path.display()))?;
                write_all_to(stream, write).with_context(cannot_write)
            }
        }
    }
}

/// Writes the output `path` through `write`, as its [`Target`] requires:
/// a regular file atomically (a failure leaves the old file untouched),
/// anything else straight through. Refuses to write over one of `inputs`.
pub fn write_output(
    path: &Path,
    inputs: &[Source],
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let target = Target::of(path)?;
    target.refuse_inputs(path, inputs)?;
    target.write(path, write)
}

/// Puts the finished file `from` (a temporary file autofold made) at the
/// output `path`: renamed into place where `path` is a regular file on the
/// same file system, copied otherwise (into a device or pipe as bytes).
pub fn move_output(from: &Path, path: &Path, inputs: &[Source]) -> Result<()> {
    let target = Target::of(path)?;
    target.refuse_inputs(path, inputs)?;
    if let Target::File {
        path: file,
        existing,
    } = &target
    {
        let mode = existing.map_or_else(new_file_mode, |o| o.mode);
        if std::fs::set_permissions(from, std::fs::Permissions::from_mode(mode)).is_ok()
            && std::fs::rename(from, file).is_ok()
        {
            if let Some(owner) = existing {
                keep_owner(file, owner);
            }
            return Ok(());
        }
    }
    let mut source =
        File::open(from).with_context(|| format!("{}: cannot read", from.display()))?;
    target.write(path, |out| io::copy(&mut source, out).map(|_| ()))
}

/// Writes through `write` into a temporary file beside `file`, then renames
/// it over `file`, with the old file's mode and owner (or a new file's
/// mode).
fn replace_file(
    file: &Path,
    existing: Option<Owner>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".autofold-")
        .tempfile_in(dir)?;
    let mut out = BufWriter::with_capacity(1 << 16, temp);
    write(&mut out)?;
    out.flush()?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    let mode = existing.map_or_else(new_file_mode, |o| o.mode);
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    if let Some(owner) = existing {
        // Only root may give a file away; others keep the file as theirs.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(owner.uid), Some(owner.gid));
    }
    temp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// Gives `file` the owner of the file it replaced, where allowed.
fn keep_owner(file: &Path, owner: &Owner) {
    let _ = std::os::unix::fs::chown(file, Some(owner.uid), Some(owner.gid));
}

/// Writes everything into `sink`, buffered, and flushes it.
fn write_all_to(
    sink: impl Write,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, sink);
    write(&mut out)?;
    out.flush()
}

/// The mode of a new file: `rw-rw-rw-` less the process's umask, as a
/// shell's `>` creates it.
fn new_file_mode() -> u32 {
    // SAFETY: umask cannot fail; it is set back at once.
    let mask = unsafe {
        let mask = libc::umask(0o022);
        libc::umask(mask);
        mask
    };
    0o666 & !(mask as u32)
}

/// `path` made absolute against the working directory, `.` and `..`
/// components resolved where its parent exists (links in the parent
/// included), so that every link it names can be followed.
fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = std::env::current_dir()
        .context("cannot find the working directory")?
        .join(path);
    let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) else {
        return Ok(joined);
    };
    Ok(match std::fs::canonicalize(parent) {
        Ok(parent) => parent.join(name),
        Err(_) => joined,
    })
}

/// Where the link at `link_path` with text `link` points, made absolute,
/// its parent's links resolved.
fn resolved_link(link_path: &Path, link: &Path) -> PathBuf {
    let base = link_path.parent().unwrap_or(Path::new("/"));
    let target = base.join(link);
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return target;
    };
    match std::fs::canonicalize(parent) {
        Ok(parent) => parent.join(name),
        Err(_) => target,
    }
}

/// The descriptor `path` names when it is one of this process's open file
/// descriptors (`/proc/self/fd/N`, `/dev/fd/N` and `/dev/stdout` resolve to
/// `/proc/PID/fd/N`).
fn open_descriptor(path: &Path) -> Option<RawFd> {
    let parts: Vec<Component> = path.components().collect();
    let fd = match parts.as_slice() {
        [Component::RootDir, proc, pid, fd, n] if proc.as_os_str() == "proc" => {
            let pid = pid.as_os_str().to_str()?;
            let ours = pid == "self"
                || pid == "thread-self"
                || pid.parse::<u32>().ok() == Some(std::process::id());
            (ours && fd.as_os_str() == "fd").then_some(n)?
        }
        [Component::RootDir, proc, pid, task, _, fd, n]
            if proc.as_os_str() == "proc" && task.as_os_str() == "task" =>
        {
            let ours = pid.as_os_str().to_str()?.parse::<u32>().ok() == Some(std::process::id());
            (ours && fd.as_os_str() == "fd").then_some(n)?
        }
        _ => return None,
    };
    let fd: RawFd = fd.as_os_str().to_str()?.parse().ok()?;
    // SAFETY: fcntl(F_GETFD) only asks whether `fd` is open.
    (unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1).then_some(fd)
}

/// The (device, inode) of what descriptor `fd` has open, if a regular file.
fn regular_file_identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: `fd` was checked to be open; it is only looked at.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let file = File::from(borrowed.try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// The (device, inode) of an input that is a regular file (standard input
/// too, when it is redirected from one).
fn input_identity(input: &Source) -> Option<(u64, u64)> {
    let meta = match input {
        Source::File(path) => std::fs::metadata(path).ok()?,
        Source::Stdin => io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from)?
            .metadata()
            .ok()?,
    };
    meta.is_file().then(|| (meta.dev(), meta.ino()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_stdout_is_a_descriptor() {
        assert_eq!(
            Target::of(Path::new("/dev/stdout")).unwrap(),
            Target::Descriptor(1)
        );
        assert_eq!(
            Target::of(Path::new("/dev/fd/2")).unwrap(),
            Target::Descriptor(2)
        );
        assert_eq!(
            Target::of(Path::new("/proc/self/fd/1")).unwrap(),
            Target::Descriptor(1)
        );
    }

    #[test]
    fn dev_null_is_a_device() {
        assert_eq!(
            Target::of(Path::new("/dev/null")).unwrap(),
            Target::Device("/dev/null".into())
        );
    }

    #[test]
    fn a_link_is_followed_to_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("real.svg");
        std::fs::write(&file, "old").unwrap();
        let link = dir.path().join("link.svg");
        std::os::unix::fs::symlink("real.svg", &link).unwrap();
        let Target::File { path, existing } = Target::of(&link).unwrap() else {
            panic!("not a file");
        };
        assert_eq!(path, std::fs::canonicalize(&file).unwrap());
        assert!(existing.is_some());
    }

    #[test]
    fn a_dangling_link_names_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.svg");
        std::os::unix::fs::symlink("sub/../new.svg", &link).unwrap();
        let target = Target::of(&link).unwrap();
        assert!(
            matches!(target, Target::File { existing: None, .. }),
            "{target:?}"
        );
    }

    #[test]
    fn a_loop_of_links_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let err = format!("{:#}", Target::of(&a).unwrap_err());
        assert!(err.contains("too many levels of symbolic links"), "{err}");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", Target::of(dir.path()).unwrap_err());
        assert!(
            err.ends_with("is a directory; give a file name for the output"),
            "{err}"
        );
    }
}
