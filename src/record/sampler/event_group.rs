//! The events of a recording: one of each kind ([`Sampling::attrs`]: the
//! CPU clock, and with `--off-cpu` context switches) for each task followed
//! on each CPU, every CPU's records in one ring buffer (the first event's;
//! the others' are sent into it), so memory grows with CPUs, not with
//! threads. Records of several kinds carry their event's id, and
//! [`EventKinds`] says which kind an id is.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use rustc_hash::FxHashMap;

use perf_event_open_sys::bindings::perf_event_attr;

use super::kernel_event::{self, Sampling};
use super::ring::{Ring, page_size};

/// A CPU's ring buffer is at most this large …
const MAX_RING_BYTES: usize = 8 << 20;
/// … all of them together at most this …
const MAX_TOTAL_RING_BYTES: usize = 128 << 20;
/// … and at least this (two of the largest samples), else mapping fails.
const MIN_RING_BYTES: usize = 128 << 10;

/// Which kind of event (its index in [`Sampling::attrs`]) each event id
/// is.
#[derive(Debug, Clone, Default)]
pub struct EventKinds {
    by_id: FxHashMap<u64, usize>,
}

impl EventKinds {
    /// The kind of the event with id `id`; the first kind where the record
    /// carries no id (there is only one kind) or an unknown one.
    pub fn of(&self, id: Option<u64>) -> usize {
        id.and_then(|id| self.by_id.get(&id).copied()).unwrap_or(0)
    }
}

/// Open events and their ring buffers.
pub struct Events {
    /// The kinds of event, the ring buffers' owner first.
    attrs: Vec<perf_event_attr>,
    kinds: EventKinds,
    /// CPU numbers, in the order of `rings`.
    cpus: Vec<i32>,
    /// The events whose buffers `rings` are, one per CPU.
    leaders: Vec<OwnedFd>,
    /// Events sending their records into a leader's buffer.
    followers: Vec<OwnedFd>,
    rings: Vec<Ring>,
    /// Tasks with events.
    tasks: Vec<i32>,
    /// Whether the events were started: those opened later start at once.
    enabled: bool,
}

impl Events {
    /// Opens `sampling`'s event for task `first` on every online CPU, each
    /// with its ring buffer.
    pub fn open(sampling: &Sampling, first: i32) -> io::Result<Events> {
        let cpus = online_cpus();
        let mut ring_bytes = ring_bytes(cpus.len());
        let mut attrs = sampling.attrs(wakeup_bytes(ring_bytes));
        let parse_info = kernel_event::parse_info(&attrs[0])?;
        let mut leaders = Vec::with_capacity(cpus.len());
        let mut rings = Vec::with_capacity(cpus.len());
        for &cpu in &cpus {
            let (fd, ring) = loop {
                let fd = kernel_event::open(&attrs[0], first, cpu)?;
                match Ring::map(&fd, ring_bytes, parse_info) {
                    Ok(ring) => break (fd, ring),
                    // Locked memory is limited for users without
                    // CAP_IPC_LOCK: smaller buffers, as perf takes.
                    Err(error) if ring_bytes > MIN_RING_BYTES && is_limit(&error) => {
                        ring_bytes /= 2;
                        attrs = sampling.attrs(wakeup_bytes(ring_bytes));
                    }
                    Err(error) => return Err(error),
                }
            };
            leaders.push(fd);
            rings.push(ring);
        }
        let mut events = Events {
            attrs,
            kinds: EventKinds::default(),
            cpus,
            leaders,
            followers: Vec::new(),
            rings,
            tasks: vec![first],
            enabled: false,
        };
        if events.attrs.len() > 1 {
            for leader in &events.leaders {
                events.kinds.by_id.insert(kernel_event::id(leader)?, 0);
            }
        }
        events.open_followers(first, 1)?;
        Ok(events)
    }

    /// Which kind each event id is.
    pub fn kinds(&self) -> &EventKinds {
        &self.kinds
    }

    /// Opens the kinds of event from `first_kind` on for task `tid` on every
    /// CPU, their records sent into the CPU's buffer, started if the others
    /// are.
    fn open_followers(&mut self, tid: i32, first_kind: usize) -> io::Result<()> {
        let several = self.attrs.len() > 1;
        for (kind, attr) in self.attrs.iter().enumerate().skip(first_kind) {
            for (&cpu, leader) in self.cpus.iter().zip(&self.leaders) {
                let fd = kernel_event::open(attr, tid, cpu)?;
                kernel_event::redirect(&fd, leader)?;
                if several {
                    self.kinds.by_id.insert(kernel_event::id(&fd)?, kind);
                }
                if self.enabled {
                    kernel_event::enable(&fd)?;
                }
                self.followers.push(fd);
            }
        }
        Ok(())
    }

    /// Opens events for task `tid` too, on every CPU (its records go into
    /// the CPU's buffer), started if the others are. Tasks that already
    /// have events are left alone.
    pub fn follow(&mut self, tid: i32) -> io::Result<()> {
        if self.tasks.contains(&tid) {
            return Ok(());
        }
        self.open_followers(tid, 0)?;
        self.tasks.push(tid);
        Ok(())
    }

    /// Starts every event (those not waiting for an `exec`).
    pub fn enable(&mut self) -> io::Result<()> {
        self.enabled = true;
        self.leaders
            .iter()
            .chain(&self.followers)
            .try_for_each(kernel_event::enable)
    }

    /// The ring buffers, one per CPU.
    pub fn rings(&mut self) -> &mut [Ring] {
        &mut self.rings
    }

    /// The descriptors to poll: one per ring buffer.
    pub fn poll_fds(&self) -> Vec<RawFd> {
        self.leaders.iter().map(AsRawFd::as_raw_fd).collect()
    }
}

/// The bytes of each CPU's ring buffer: a power of two, at most
/// [`MAX_RING_BYTES`], all `cpus` together at most [`MAX_TOTAL_RING_BYTES`].
fn ring_bytes(cpus: usize) -> usize {
    let share = MAX_TOTAL_RING_BYTES / cpus.max(1);
    let bytes = share.clamp(MIN_RING_BYTES, MAX_RING_BYTES).max(page_size());
    // The largest power of two that fits.
    1 << (usize::BITS - 1 - bytes.leading_zeros())
}

/// When to wake the reader: once a quarter of a buffer of `ring_bytes` is
/// filled, so that it has three quarters' time to read before records are
/// lost.
fn wakeup_bytes(ring_bytes: usize) -> u32 {
    u32::try_from(ring_bytes / 4).unwrap_or(u32::MAX)
}

/// Whether mapping failed for want of locked memory.
fn is_limit(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOMEM))
}

/// The online CPUs (`/sys/devices/system/cpu/online`, such as `0-3,8`),
/// else as many as the process may run on, from 0.
fn online_cpus() -> Vec<i32> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| cpu_list(list.trim()))
        .unwrap_or_else(|| {
            let count = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..count as i32).collect()
        })
}

/// The CPUs of a kernel CPU list (`0-3,8`).
fn cpu_list(list: &str) -> Option<Vec<i32>> {
    let mut cpus = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((first, last)) => cpus.extend(first.parse::<i32>().ok()?..=last.parse().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_ranges_and_single_cpus() {
        assert_eq!(cpu_list("0-3,8"), Some(vec![0, 1, 2, 3, 8]));
        assert_eq!(cpu_list("0"), Some(vec![0]));
        assert_eq!(cpu_list("x"), None);
    }

    #[test]
    fn ring_buffers_shrink_with_many_cpus() {
        assert_eq!(ring_bytes(2), 8 << 20);
        assert_eq!(ring_bytes(64), 2 << 20);
        assert_eq!(ring_bytes(4096), 128 << 10);
        assert!(ring_bytes(3).is_power_of_two());
    }
}

#[cfg(test)]
mod sampling_itself {
    use linux_perf_event_reader::{EventRecord, RecordType};

    use super::*;
    use crate::record::sampler::merge::in_time_order;

    /// Busy for `millis` of CPU time.
    fn spin(millis: u64) -> u64 {
        let started = std::time::Instant::now();
        let mut acc = 0u64;
        while started.elapsed().as_millis() < u128::from(millis) {
            acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(7));
        }
        acc
    }

    #[test]
    fn a_thread_sampling_itself_reads_its_samples_in_time_order() {
        if std::env::var_os("AUTOFOLD_SKIP_PERF_TESTS").is_some_and(|v| v == "1") {
            return;
        }
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let sampling = Sampling {
            freq: 2000,
            stack_copy: true,
            kernel: false,
            enable_on_exec: false,
            off_cpu: false,
        };
        let mut events = Events::open(&sampling, tid).expect("perf events may be opened here");
        events.enable().unwrap();
        spin(300);
        let mut times = Vec::new();
        let mut samples = 0;
        in_time_order(events.rings(), u64::MAX, |ring| {
            let record = ring.peek().unwrap();
            times.push(record.timestamp().unwrap());
            if record.record_type == RecordType::SAMPLE {
                let Ok(EventRecord::Sample(sample)) = record.parse() else {
                    panic!("a sample parses");
                };
                assert_eq!(sample.tid, Some(tid));
                let (_, dyn_size) = sample.user_stack.expect("a stack copy");
                assert!(dyn_size > 0);
                assert!(sample.user_regs.is_some());
                samples += 1;
            }
            ring.consume();
        });
        // 300 ms at 2000 Hz is 600 samples; the machine may be busy.
        assert!((100..=700).contains(&samples), "{samples} samples");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    }
}
