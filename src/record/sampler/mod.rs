//! autofold's own sampler: the kernel's perf events opened and read by
//! autofold itself, no perf binary and no file. Each record goes to the
//! same record stream a perf.data file's records go through
//! ([`RecordStream`]), as it arrives: a sample's stack copy is unwound and
//! dropped at once, so memory grows with the distinct stacks, not with
//! time, and nothing is written to disk.
//!
//! One concern a file: [`event`] (what an event samples, opening it),
//! [`events`] (one per task followed and CPU, a ring buffer per CPU),
//! [`ring`] (reading a ring buffer in place), [`merge`] (the CPUs' records
//! in time order), [`launch`] (the command held before `exec`), [`proc`]
//! (a running process's threads and mappings for `--pid`), [`reading`] (the
//! loop), [`refused`] (what to say when the kernel says no).

mod event_group;
mod kernel_event;
pub(crate) mod launch;
mod merge;
mod proc;
mod reading;
mod refused;
mod ring;

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use crate::console::note;
use crate::perf_records::RecordStream;
use crate::profile::{InputInfo, ReadProfile};
use crate::record::perf::interrupted;
use crate::record::{CallGraph, RecordOptions, Recording, command_line, jvm};
use event_group::Events;
use kernel_event::Sampling;
use refused::Permissions;

/// How long a command may go on after Ctrl-C before it is sent SIGTERM (as
/// `perf record` sends it at once).
const GRACE_AFTER_CTRL_C: Duration = Duration::from_secs(2);

/// Runs `command` (program, then arguments) with `env` added to its
/// environment and records it, with every thread and child process it
/// starts, until it exits.
pub fn record_command(
    command: &[OsString],
    env: &[(OsString, OsString)],
    options: &RecordOptions,
) -> Result<Recording> {
    // Ctrl-C from here on is noted, not fatal: the command stops, autofold
    // renders.
    interrupted();
    let held = launch::hold(command, env)?;
    let mut events = open(options, held.pid(), true)?;
    let mut stream = RecordStream::live(&options.read_options());
    let mut child = held.release()?;
    let pidfd = pidfd(child.id() as i32);
    let mut stop = CommandStop::default();
    reading::read_until(&mut events, &mut stream, wake_fd(&pidfd), || {
        stop.is_over(&mut child)
    })
    .context("reading the kernel's records")?;
    let status = child.wait().context("waiting for the command")?;
    // The terminal's SIGINT may end the command before autofold's handler
    // has noted it.
    let stopped_by_ctrl_c = status.signal() == Some(libc::SIGINT);
    say_if_interrupted(stopped_by_ctrl_c);
    let name = command_line(command);
    Ok(Recording {
        profile: profile_of(stream, &name),
        status: Some(status),
    })
}

/// Records every thread of process `pid` (and what they start) until
/// Ctrl-C or until it exits.
pub fn record_pid(pid: u32, options: &RecordOptions) -> Result<Recording> {
    let pid = i32::try_from(pid).map_err(|_| anyhow!("no process with pid {pid} is running"))?;
    let ctrl_c = interrupted();
    let mut events = open(options, pid, false)?;
    events.enable().context("cannot start the perf events")?;
    let threads = follow_threads(&mut events, pid)?;
    let mut stream = RecordStream::live(&options.read_options());
    proc::describe(pid, &threads, &mut stream)
        .with_context(|| format!("cannot read /proc/{pid}"))?;
    eprintln!("autofold: recording process {pid}; press Ctrl-C to stop");
    let pidfd = pidfd(pid);
    reading::read_until(&mut events, &mut stream, wake_fd(&pidfd), || {
        Ok(ctrl_c.load(Ordering::SeqCst) || has_exited(pid, pidfd.as_ref()))
    })
    .context("reading the kernel's records")?;
    say_if_interrupted(false);
    if options.jit_setup {
        // Before symbols are looked up: a JVM's JIT code is named there.
        jvm::write_perf_map(pid as u32);
    }
    Ok(Recording {
        profile: profile_of(stream, &format!("pid {pid}")),
        status: None,
    })
}

/// The sampling `options` ask for.
fn sampling(options: &RecordOptions, enable_on_exec: bool) -> Sampling {
    Sampling {
        freq: options.freq,
        stack_copy: options.call_graph == CallGraph::Dwarf,
        kernel: true,
        enable_on_exec,
        off_cpu: options.off_cpu,
    }
}

/// Opens the events for task `pid`: kernel and user space, or user space
/// only where `kernel.perf_event_paranoid` allows no more (as perf does,
/// with a note). Errors are one line saying what to do.
fn open(options: &RecordOptions, pid: i32, enable_on_exec: bool) -> Result<Events> {
    let full = sampling(options, enable_on_exec);
    let permissions = Permissions::here();
    let refused = |error: io::Error| anyhow!(refused::explain(&error, permissions, options.freq));
    match Events::open(&full, pid) {
        Ok(events) => Ok(events),
        Err(error) if permissions.user_space_only_may_work(&error) => {
            let user_only = Sampling {
                kernel: false,
                ..full
            };
            let events = Events::open(&user_only, pid).map_err(refused)?;
            note(format!(
                "kernel.perf_event_paranoid is {}: recording user space only, as perf does (`sudo sysctl kernel.perf_event_paranoid=1` for kernel frames too)",
                permissions.paranoid.unwrap_or(2)
            ));
            Ok(events)
        }
        Err(error) => Err(refused(error)),
    }
}

/// Opens events for every thread of `pid` until no new one turns up
/// (threads that start after their creator has events inherit them);
/// returns the threads.
fn follow_threads(events: &mut Events, pid: i32) -> Result<Vec<i32>> {
    let mut known = Vec::new();
    loop {
        let threads =
            proc::threads(pid).with_context(|| format!("cannot read /proc/{pid}/task"))?;
        let new: Vec<i32> = threads
            .iter()
            .copied()
            .filter(|t| !known.contains(t))
            .collect();
        if new.is_empty() {
            return Ok(threads);
        }
        for tid in new {
            match events.follow(tid) {
                // A thread that exited meanwhile has nothing to record.
                Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {}
                result => result.with_context(|| format!("cannot follow thread {tid}"))?,
            }
            known.push(tid);
        }
    }
}

/// When the recording of a command is over: when it has exited. After
/// Ctrl-C (which the command gets from the terminal too), a command still
/// running after a grace period is sent SIGTERM, as `perf record` does.
#[derive(Default)]
pub(crate) struct CommandStop {
    interrupted_at: Option<Instant>,
    terminated: bool,
}

impl CommandStop {
    /// Whether `child` has exited; sends it SIGTERM when Ctrl-C's grace
    /// period is over.
    pub(crate) fn is_over(&mut self, child: &mut Child) -> io::Result<bool> {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        if self.interrupted_at.is_none() && interrupted().load(Ordering::SeqCst) {
            self.interrupted_at = Some(Instant::now());
        }
        let overdue = self
            .interrupted_at
            .is_some_and(|at| at.elapsed() >= GRACE_AFTER_CTRL_C);
        if overdue && !self.terminated {
            // SAFETY: kill has no memory preconditions; the child is not
            // reaped yet, so its pid is still its own.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            self.terminated = true;
        }
        Ok(false)
    }
}

/// A descriptor that becomes readable when process `pid` exits (kernels
/// since 5.3), to end a wait at once.
fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: the descriptor was just created and is ours.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn wake_fd(pidfd: &Option<OwnedFd>) -> Option<i32> {
    pidfd.as_ref().map(AsRawFd::as_raw_fd)
}

/// Whether process `pid` (not a child of autofold) has exited: its pidfd
/// is readable, or without one, it is gone.
fn has_exited(pid: i32, pidfd: Option<&OwnedFd>) -> bool {
    match pidfd {
        Some(fd) => {
            let mut poll = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no wait.
            let ready = unsafe { libc::poll(&mut poll, 1, 0) };
            ready > 0
        }
        None => {
            // SAFETY: signal 0 only checks that the process exists.
            let found = unsafe { libc::kill(pid, 0) };
            found != 0
        }
    }
}

/// Says that Ctrl-C ended the recording, if it did (or `anyway`).
pub(crate) fn say_if_interrupted(anyway: bool) {
    if anyway || interrupted().load(Ordering::SeqCst) {
        eprintln!("autofold: interrupted; rendering what was recorded");
    }
}

/// The profile of everything `stream` read (recorded from `name`), with a
/// note of what the kernel lost.
fn profile_of(stream: RecordStream, name: &str) -> ReadProfile {
    let stacks = stream.finish();
    if let Some(line) = stacks.stats.loss_line_of("the sampler") {
        note(format!("{name}: {line}"));
    }
    if let Some(off_cpu) = &stacks.off_cpu {
        note(format!("{name}: {}", off_cpu.line()));
    }
    let mut profile = stacks.into_profile();
    profile.add_input(InputInfo {
        source: name.to_owned(),
        format: "perf events".into(),
        root_labels: true,
    });
    profile.finish()
}
