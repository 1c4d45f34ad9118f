//! The command to profile, started but held just before it runs: its
//! process exists (so its events can be opened, to start at its `exec`)
//! but runs none of the program's code until released. `perf record --
//! CMD` does the same, so nothing the command does goes unrecorded.
//!
//! The child is spawned by the standard library (PATH search, errors of
//! `exec`, inherited standard streams); a hook it runs between `fork` and
//! `exec` tells its pid through one pipe and waits on another.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};

use crate::record::exit_code::exec_error;

/// A command whose process waits just before `exec`. Dropped without
/// being released, the process exits without running the program.
pub struct Held {
    pid: i32,
    /// Written to to let the process go on; closed, to make it give up.
    go: Option<OwnedFd>,
    /// The thread spawning it: `spawn` returns once the `exec` is done (or
    /// the process gave up).
    spawning: Option<JoinHandle<io::Result<Child>>>,
    program: OsString,
}

/// Starts `command` (program, then arguments), with `env` added to its
/// environment, held before its `exec`.
pub fn hold(command: &[OsString], env: &[(OsString, OsString)]) -> Result<Held> {
    let (pid_read, pid_write) = pipe()?;
    let (go_read, go_write) = pipe()?;
    let mut child = Command::new(&command[0]);
    child
        .args(&command[1..])
        .envs(env.iter().map(|(k, v)| (k, v)));
    // The child's copy of the write end must be closed, or it would wait
    // on itself when autofold gives up before releasing it.
    let go_write_in_child = go_write.as_raw_fd();
    // SAFETY: the hook runs in the child between fork and exec, and only
    // makes async-signal-safe calls (close, getpid, write, read).
    unsafe {
        child.pre_exec(move || {
            libc::close(go_write_in_child);
            wait_to_go(&pid_write, &go_read)
        });
    }
    let spawning = std::thread::spawn(move || child.spawn());
    let mut pid = [0u8; 4];
    match read_fully(&pid_read, &mut pid) {
        Ok(()) => Ok(Held {
            pid: i32::from_ne_bytes(pid),
            go: Some(go_write),
            spawning: Some(spawning),
            program: command[0].clone(),
        }),
        // The pipe closed without a pid: spawning failed before the fork.
        Err(_) => Err(spawn_error(&command[0], spawning.join())),
    }
}

impl Held {
    /// The process's id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the process `exec` the program; the running child, or an error
    /// that exits as a shell would when the `exec` fails.
    pub fn release(mut self) -> Result<Child> {
        // One byte says go; a process whose pipe closes without it exits.
        let go = self.go.take().expect("released once");
        write_byte(&go).context("cannot start the command")?;
        drop(go);
        self.spawning
            .take()
            .expect("released once")
            .join()
            .map_err(|_| anyhow!("the thread starting the command panicked"))?
            .map_err(|error| exec_error(&self.program, &error))
    }
}

impl Drop for Held {
    /// Makes a process never released give up, and waits until the
    /// standard library has heard so from it (else the process, writing
    /// its error to a closed pipe, aborts with a message of its own).
    fn drop(&mut self) {
        drop(self.go.take());
        if let Some(spawning) = self.spawning.take() {
            let _ = spawning.join();
        }
    }
}

/// In the child: says its pid, then waits for the byte that lets it go on
/// (an error, so no `exec`, if the pipe closes without it).
fn wait_to_go(pid_out: &OwnedFd, go: &OwnedFd) -> io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let bytes = pid.to_ne_bytes();
    // SAFETY: writing a local buffer to a descriptor we own.
    let written = unsafe { libc::write(pid_out.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
    if written != bytes.len() as isize {
        return Err(io::Error::last_os_error());
    }
    let mut byte = [0u8];
    loop {
        // SAFETY: reading into a local buffer from a descriptor we own.
        let read = unsafe { libc::read(go.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
        match read {
            1 => return Ok(()),
            0 => return Err(io::Error::from_raw_os_error(libc::ECANCELED)),
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            _ => return Err(io::Error::last_os_error()),
        }
    }
}

/// The error of a spawn that failed before it forked.
fn spawn_error(
    program: &OsString,
    spawned: std::thread::Result<io::Result<Child>>,
) -> anyhow::Error {
    let name = program.to_string_lossy();
    match spawned {
        Ok(Err(error)) => anyhow!("cannot run {name}: {error}"),
        Ok(Ok(_)) => anyhow!("cannot run {name}: it did not say its pid"),
        Err(_) => anyhow!("cannot run {name}: the thread starting it panicked"),
    }
}

/// A pipe whose ends are closed on `exec`.
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error()).context("cannot create a pipe");
    }
    use std::os::fd::FromRawFd;
    // SAFETY: both descriptors were just created and are ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn read_fully(fd: &OwnedFd, buffer: &mut [u8]) -> io::Result<()> {
    let mut file = std::fs::File::from(fd.try_clone()?);
    io::Read::read_exact(&mut file, buffer)
}

fn write_byte(fd: &OwnedFd) -> io::Result<()> {
    let mut file = std::fs::File::from(fd.try_clone()?);
    io::Write::write_all(&mut file, &[1])
}
