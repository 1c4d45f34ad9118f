//! One kernel perf event: what it samples (the `perf_event_attr` that
//! `perf record -F FREQ --call-graph dwarf,65528` would ask for), opening it
//! for one task on one CPU, enabling it, and sending its records into
//! another event's ring buffer.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use byteorder::NativeEndian;
use linux_perf_event_reader::constants::{PERF_REG_X86_BP, PERF_REG_X86_IP, PERF_REG_X86_SP};
use linux_perf_event_reader::{Endianness, PerfEventAttr, RecordParseInfo};
use perf_event_open_sys as sys;
use sys::bindings::{
    PERF_COUNT_SW_CONTEXT_SWITCHES, PERF_COUNT_SW_CPU_CLOCK, PERF_FLAG_FD_CLOEXEC,
    PERF_SAMPLE_CALLCHAIN, PERF_SAMPLE_IDENTIFIER, PERF_SAMPLE_IP, PERF_SAMPLE_PERIOD,
    PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER, PERF_SAMPLE_TID, PERF_SAMPLE_TIME,
    PERF_TYPE_SOFTWARE, perf_event_attr,
};

use crate::record::DWARF_STACK_DUMP;

/// The user registers the unwinder starts from (x86_64 numbering).
const UNWIND_REGISTERS: u64 = 1 << PERF_REG_X86_BP | 1 << PERF_REG_X86_SP | 1 << PERF_REG_X86_IP;

/// What every event of a recording samples, and when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Samples per second of CPU time, per thread.
    pub freq: u32,
    /// Copy each sample's user registers and stack (the largest copy the
    /// kernel allows) for DWARF unwinding; else the kernel walks the user
    /// stack's frame pointers into the call chain.
    pub stack_copy: bool,
    /// Sample kernel code and record kernel call chains too (off where
    /// `kernel.perf_event_paranoid` allows user space only).
    pub kernel: bool,
    /// Start sampling when the task calls `exec` (a command held just before
    /// it), rather than when enabled.
    pub enable_on_exec: bool,
    /// Also sample every thread as it leaves the CPU, and record when each
    /// leaves and comes back (`record --off-cpu`): see [`Sampling::attrs`].
    pub off_cpu: bool,
}

impl Sampling {
    /// The kernel's description of the event: the CPU clock sampled at
    /// `freq` in every thread and child the task starts (inherit), with
    /// the records that follow processes (COMM with exec, FORK, EXIT,
    /// executable MMAP2) and timestamps of `CLOCK_MONOTONIC` on all of them,
    /// so that the records of every CPU's buffer can be put in time order.
    /// The reader is woken once `wakeup_bytes` wait in a ring buffer.
    ///
    /// With `off_cpu`, each sample also carries its event's id (to tell the
    /// events apart in one buffer) and its period (the CPU time it stands
    /// for, in nanoseconds), and the kernel writes a SWITCH record each
    /// time a followed thread leaves or comes back to a CPU (saying whether
    /// it was preempted, still runnable).
    pub fn attr(&self, wakeup_bytes: u32) -> perf_event_attr {
        let mut attr = perf_event_attr {
            type_: PERF_TYPE_SOFTWARE,
            size: std::mem::size_of::<perf_event_attr>() as u32,
            config: PERF_COUNT_SW_CPU_CLOCK.into(),
            sample_type: (PERF_SAMPLE_IP
                | PERF_SAMPLE_TID
                | PERF_SAMPLE_TIME
                | PERF_SAMPLE_CALLCHAIN)
                .into(),
            clockid: libc::CLOCK_MONOTONIC,
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_freq = self.freq.into();
        attr.__bindgen_anon_2.wakeup_watermark = wakeup_bytes;
        if self.stack_copy {
            attr.sample_type |= u64::from(PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER);
            attr.sample_regs_user = UNWIND_REGISTERS;
            attr.sample_stack_user = DWARF_STACK_DUMP;
            // User frames come from unwinding the copy, as with perf.
            attr.set_exclude_callchain_user(1);
        }
        attr.set_freq(1);
        attr.set_disabled(1);
        attr.set_inherit(1);
        attr.set_enable_on_exec(self.enable_on_exec.into());
        attr.set_exclude_kernel((!self.kernel).into());
        attr.set_exclude_hv(1);
        attr.set_mmap(1);
        attr.set_mmap2(1);
        attr.set_comm(1);
        attr.set_comm_exec(1);
        attr.set_task(1);
        attr.set_sample_id_all(1);
        attr.set_use_clockid(1);
        attr.set_watermark(1);
        if self.off_cpu {
            attr.sample_type |= u64::from(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_PERIOD);
            attr.set_context_switch(1);
        }
        attr
    }

    /// The events of a recording, the ring buffer's owner first: the CPU
    /// clock ([`Sampling::attr`]), and with `off_cpu` the software event
    /// `context-switches` sampled at every switch (period 1) with the same
    /// stack copy, so each time a thread leaves the CPU its stack is
    /// recorded. Only the first writes the records that follow processes.
    pub fn attrs(&self, wakeup_bytes: u32) -> Vec<perf_event_attr> {
        let clock = self.attr(wakeup_bytes);
        if !self.off_cpu {
            return vec![clock];
        }
        let mut switches = clock;
        switches.config = PERF_COUNT_SW_CONTEXT_SWITCHES.into();
        switches.__bindgen_anon_1.sample_period = 1;
        switches.set_freq(0);
        switches.set_mmap(0);
        switches.set_mmap2(0);
        switches.set_comm(0);
        switches.set_comm_exec(0);
        switches.set_task(0);
        switches.set_context_switch(0);
        vec![clock, switches]
    }
}

/// The id the kernel gave `event`, which its records carry
/// (`PERF_SAMPLE_IDENTIFIER`).
pub fn id(event: &OwnedFd) -> io::Result<u64> {
    let mut id = 0u64;
    // SAFETY: an ioctl on a perf event descriptor we own, writing one u64.
    check(unsafe { sys::ioctls::ID(event.as_raw_fd(), &mut id) })?;
    Ok(id)
}

/// How to read the records of events opened with `attr`.
pub fn parse_info(attr: &perf_event_attr) -> io::Result<RecordParseInfo> {
    // SAFETY: perf_event_attr is plain data; its bytes are what the kernel
    // is given.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (attr as *const perf_event_attr).cast::<u8>(),
            std::mem::size_of::<perf_event_attr>(),
        )
    };
    let (parsed, _) = PerfEventAttr::parse::<_, NativeEndian>(bytes)?;
    Ok(RecordParseInfo::new(&parsed, Endianness::NATIVE))
}

/// Opens an event as `attr` describes for task `pid` on CPU `cpu`.
pub fn open(attr: &perf_event_attr, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    let mut attr = *attr;
    // SAFETY: `attr` is a valid perf_event_attr; the kernel may write its
    // expected size back into the copy.
    let fd = unsafe { sys::perf_event_open(&mut attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC.into()) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Starts the event (one opened disabled, without enable-on-exec).
pub fn enable(event: &OwnedFd) -> io::Result<()> {
    // SAFETY: an ioctl on a perf event descriptor we own.
    check(unsafe { sys::ioctls::ENABLE(event.as_raw_fd(), 0) })
}

/// Sends `event`'s records into `target`'s ring buffer (both on one CPU),
/// so that one buffer per CPU serves every thread of a process.
pub fn redirect(event: &OwnedFd, target: &OwnedFd) -> io::Result<()> {
    // SAFETY: an ioctl on perf event descriptors we own.
    check(unsafe { sys::ioctls::SET_OUTPUT(event.as_raw_fd(), target.as_raw_fd()) })
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_perf_event_reader::SampleFormat;

    fn dwarf() -> Sampling {
        Sampling {
            freq: 997,
            stack_copy: true,
            kernel: true,
            enable_on_exec: true,
            off_cpu: false,
        }
    }

    #[test]
    fn dwarf_sampling_copies_registers_and_the_largest_stack() {
        let attr = dwarf().attr(1 << 20);
        assert_eq!(attr.sample_stack_user, 65528);
        assert_eq!(attr.exclude_callchain_user(), 1);
        assert_eq!(attr.inherit(), 1);
        assert_eq!(attr.enable_on_exec(), 1);
        let info = parse_info(&attr).unwrap();
        assert!(
            info.sample_format
                .contains(SampleFormat::REGS_USER | SampleFormat::STACK_USER | SampleFormat::TIME)
        );
        assert_eq!(info.user_regs_count, 3);
        assert!(
            info.nonsample_record_time_offset_from_end.is_some(),
            "every record has a time (sample_id_all)"
        );
    }

    #[test]
    fn off_cpu_adds_a_switch_event_with_the_same_samples() {
        let sampling = Sampling {
            off_cpu: true,
            ..dwarf()
        };
        let attrs = sampling.attrs(1 << 20);
        assert_eq!(attrs.len(), 2);
        let (clock, switches) = (&attrs[0], &attrs[1]);
        assert_eq!(clock.context_switch(), 1, "SWITCH records");
        assert_eq!(switches.config, u64::from(PERF_COUNT_SW_CONTEXT_SWITCHES));
        // SAFETY: reading the union member this code set.
        assert_eq!(unsafe { switches.__bindgen_anon_1.sample_period }, 1);
        assert_eq!(switches.freq(), 0);
        assert_eq!(switches.mmap(), 0, "one event follows the processes");
        assert_eq!(
            clock.sample_type, switches.sample_type,
            "one parse for both"
        );
        let info = parse_info(switches).unwrap();
        assert!(
            info.sample_format
                .contains(SampleFormat::IDENTIFIER | SampleFormat::PERIOD)
        );
        assert_eq!(dwarf().attrs(1 << 20).len(), 1);
    }

    #[test]
    fn frame_pointer_sampling_leaves_the_stack_to_the_kernel() {
        let attr = Sampling {
            stack_copy: false,
            kernel: false,
            ..dwarf()
        }
        .attr(1 << 20);
        assert_eq!(attr.sample_stack_user, 0);
        assert_eq!(attr.exclude_callchain_user(), 0);
        assert_eq!(attr.exclude_kernel(), 1);
        let info = parse_info(&attr).unwrap();
        assert!(!info.sample_format.contains(SampleFormat::STACK_USER));
    }
}
