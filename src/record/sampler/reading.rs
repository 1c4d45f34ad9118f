//! Reading the ring buffers while the profiled processes run: woken when a
//! buffer fills past its mark (or every few milliseconds), every record
//! written by then goes to the record stream in time order, until the
//! recording is over; then whatever is left.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::event_group::{EventKinds, Events};
use super::merge::in_time_order;
use super::ring::Ring;
use crate::perf_records::{RecordStream, monotonic_ns};

/// How long to sleep at most between looks at the buffers and at the
/// processes.
const TICK: Duration = Duration::from_millis(50);

/// Records stamped within this much of now stay in their buffers until the
/// next look: one stamped just before it may still be on its way into
/// another CPU's buffer.
const IN_FLIGHT_NS: u64 = 2_000_000;

/// Reads every record of `events`' buffers into `stream` until `over` says
/// the recording is over (asked after each wait, before reading, so that
/// all the records written before the end are read); `wake` (a pidfd, say)
/// cuts a wait short. Returns how many records were read.
pub fn read_until(
    events: &mut Events,
    stream: &mut RecordStream,
    wake: Option<RawFd>,
    mut over: impl FnMut() -> io::Result<bool>,
) -> io::Result<u64> {
    let mut waiting = Waiting::new(events.poll_fds(), wake);
    let mut read = 0;
    loop {
        waiting.wait(TICK)?;
        let done = over()?;
        let until = if done {
            u64::MAX
        } else {
            monotonic_ns().saturating_sub(IN_FLIGHT_NS)
        };
        let kinds = events.kinds().clone();
        read += drain(events.rings(), &kinds, stream, until);
        if done {
            return Ok(read);
        }
    }
}

/// Feeds `stream` every record of `rings` stamped at most `until`, in time
/// order, each with its event's kind (`kinds`), each freed once handled.
fn drain(rings: &mut [Ring], kinds: &EventKinds, stream: &mut RecordStream, until: u64) -> u64 {
    in_time_order(rings, until, |ring| {
        if let Some(record) = ring.peek() {
            stream.record(kinds.of(record.id()), &record);
        }
        ring.consume();
    })
}

/// The descriptors a wait watches.
struct Waiting {
    polls: Vec<libc::pollfd>,
}

impl Waiting {
    fn new(rings: Vec<RawFd>, wake: Option<RawFd>) -> Self {
        let polls = rings
            .into_iter()
            .chain(wake)
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        Self { polls }
    }

    /// Waits until a buffer passed its mark, the wake descriptor is ready,
    /// or `most` has passed. A descriptor that hung up (every task of its
    /// event has exited) is not watched again: it would end every wait.
    fn wait(&mut self, most: Duration) -> io::Result<()> {
        let timeout = i32::try_from(most.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: `polls` is a valid array of pollfd for the call.
        let ready = unsafe {
            libc::poll(
                self.polls.as_mut_ptr(),
                self.polls.len() as libc::nfds_t,
                timeout,
            )
        };
        if ready < 0 {
            let error = io::Error::last_os_error();
            return match error.kind() {
                io::ErrorKind::Interrupted => Ok(()),
                _ => Err(error),
            };
        }
        for poll in &mut self.polls {
            if poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                // A negative descriptor is skipped by poll.
                poll.fd = -1;
            }
        }
        Ok(())
    }
}
