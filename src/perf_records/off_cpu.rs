//! Off-CPU time (`record --off-cpu`): each time a thread leaves the CPU,
//! the stack it left with, and how long it stayed off.
//!
//! The sampler records three things per switch, in this order in time: a
//! sample of the `context-switches` event (period 1) with the thread's
//! stack as it leaves; a SWITCH record (out) saying whether it was
//! preempted (still runnable) or went to wait; a SWITCH record (in) when
//! it runs again. The stretch from the sample to the switch-in is the
//! thread's time off the CPU. A wait (sleep, I/O, a lock, a child) is
//! off-CPU time, its stack ending in the frame `[off-cpu]`; a preemption is
//! time the thread wanted the CPU, so it counts as on-CPU time of the
//! stack it was preempted at (no `[off-cpu]` frame).
//!
//! Weights are nanoseconds here (an on-CPU sample weighs its period, the
//! CPU time since the thread's previous sample); the profile counts
//! microseconds.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::console::wording::{duration, plural};

use super::raw_stacks::RawFrameId;

/// How off-CPU time is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OffCpuOptions {
    /// Waits shorter than this many nanoseconds are left out (and counted
    /// in [`OffCpuStats::short`]).
    pub min_ns: u64,
}

/// What off-CPU accounting saw besides stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OffCpuStats {
    /// Waits kept, and their nanoseconds.
    pub waits: u64,
    pub wait_ns: u64,
    /// Waits shorter than `--off-cpu-min`, and their nanoseconds.
    pub short: u64,
    pub short_ns: u64,
    /// Preemptions (counted as on-CPU time), and their nanoseconds.
    pub preemptions: u64,
    pub preempted_ns: u64,
    /// Switch-ins with no switch sample before them (the sample was lost,
    /// or the thread left before recording began) of a thread that had
    /// left the CPU before: their time is unknown. A new thread's first
    /// switch-in is its start, not counted.
    pub unmatched: u64,
    /// Threads still off the CPU when recording ended, counted up to the
    /// last record.
    pub open_at_end: u64,
}

impl OffCpuStats {
    /// One line on what was counted off the CPU and what was left out.
    pub fn line(&self) -> String {
        let mut parts = vec![format!(
            "{} wait{} ({}) end in [off-cpu]",
            self.waits,
            plural(self.waits as usize),
            duration(self.wait_ns)
        )];
        if self.preemptions > 0 {
            parts.push(format!(
                "{} preemption{} ({}) counted as on-CPU time",
                self.preemptions,
                plural(self.preemptions as usize),
                duration(self.preempted_ns)
            ));
        }
        if self.short > 0 {
            parts.push(format!(
                "{} wait{} shorter than --off-cpu-min left out ({})",
                self.short,
                plural(self.short as usize),
                duration(self.short_ns)
            ));
        }
        if self.unmatched > 0 {
            parts.push(format!(
                "{} return{} to the CPU without a recorded stack (time not counted)",
                self.unmatched,
                plural(self.unmatched as usize)
            ));
        }
        if self.open_at_end > 0 {
            parts.push(format!(
                "{} thread{} still waiting when recording stopped (counted to the end)",
                self.open_at_end,
                plural(self.open_at_end as usize)
            ));
        }
        format!("off-CPU: {}", parts.join("; "))
    }
}

/// A thread off the CPU: the stack it left with (innermost first), since
/// when, and whether it was preempted.
#[derive(Debug, Clone)]
struct Away {
    frames: Vec<RawFrameId>,
    since: u64,
    preempted: bool,
}

/// A stretch off the CPU, closed: the stack (innermost first, `[off-cpu]`
/// included for a wait), its thread, when it began and its nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    pub tid: i32,
    pub frames: Vec<RawFrameId>,
    pub since: u64,
    pub ns: u64,
}

/// The threads off the CPU now, and what was closed so far.
#[derive(Debug, Default)]
pub struct OffCpu {
    options: OffCpuOptions,
    away: FxHashMap<i32, Away>,
    /// Threads seen leaving the CPU.
    known: FxHashSet<i32>,
    /// The `[off-cpu]` frame's raw id.
    marker: RawFrameId,
    stats: OffCpuStats,
    /// The latest time seen, to close what is still open at the end.
    last_time: u64,
}

impl OffCpu {
    /// Accounting with `options`; `marker` is the raw frame `[off-cpu]`.
    pub fn new(options: OffCpuOptions, marker: RawFrameId) -> Self {
        Self {
            options,
            marker,
            ..Self::default()
        }
    }

    /// What was seen so far.
    pub fn stats(&self) -> &OffCpuStats {
        &self.stats
    }

    /// Notes the time of any record.
    pub fn saw_time(&mut self, time: u64) {
        self.last_time = self.last_time.max(time);
    }

    /// Thread `tid` leaves the CPU at `time` with `frames` (innermost
    /// first): the switch sample.
    pub fn leaves(&mut self, tid: i32, time: u64, frames: Vec<RawFrameId>) {
        self.saw_time(time);
        self.known.insert(tid);
        let away = Away {
            frames,
            since: time,
            preempted: false,
        };
        self.away.insert(tid, away);
    }

    /// The SWITCH record (out) of thread `tid`: whether it was preempted.
    pub fn switched_out(&mut self, tid: i32, time: u64, preempted: bool) {
        self.saw_time(time);
        if let Some(away) = self.away.get_mut(&tid) {
            away.preempted = preempted;
        }
    }

    /// Thread `tid` runs again at `time` (SWITCH in): its stretch, if it
    /// is one to keep.
    pub fn comes_back(&mut self, tid: i32, time: u64) -> Option<Stretch> {
        self.saw_time(time);
        let Some(away) = self.away.remove(&tid) else {
            if self.known.contains(&tid) {
                self.stats.unmatched += 1;
            }
            return None;
        };
        self.close(tid, away, time)
    }

    /// Thread `tid` exited: a stretch it had open is forgotten (a thread
    /// switches out to exit).
    pub fn exited(&mut self, tid: i32) {
        self.away.remove(&tid);
        self.known.remove(&tid);
    }

    /// The stretches still open, closed at the last time seen.
    pub fn finish(&mut self) -> Vec<Stretch> {
        let end = self.last_time;
        let away: Vec<(i32, Away)> = self.away.drain().collect();
        self.stats.open_at_end += away.len() as u64;
        let mut closed: Vec<Stretch> = away
            .into_iter()
            .filter_map(|(tid, away)| self.close(tid, away, end))
            .collect();
        closed.sort_by_key(|stretch| stretch.tid);
        closed
    }

    /// The stretch of `away` ending at `end`, counted in the stats.
    fn close(&mut self, tid: i32, away: Away, end: u64) -> Option<Stretch> {
        let ns = end.saturating_sub(away.since);
        let mut frames = away.frames;
        if away.preempted {
            self.stats.preemptions += 1;
            self.stats.preempted_ns += ns;
        } else if ns < self.options.min_ns {
            self.stats.short += 1;
            self.stats.short_ns += ns;
            return None;
        } else {
            self.stats.waits += 1;
            self.stats.wait_ns += ns;
            frames.insert(0, self.marker);
        }
        (ns > 0).then_some(Stretch {
            tid,
            frames,
            since: away.since,
            ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: RawFrameId = 99;

    fn off_cpu(min_ns: u64) -> OffCpu {
        OffCpu::new(OffCpuOptions { min_ns }, MARKER)
    }

    #[test]
    fn a_wait_ends_in_the_off_cpu_frame_and_lasts_until_switch_in() {
        let mut off = off_cpu(0);
        off.leaves(7, 1_000, vec![1, 2, 3]);
        off.switched_out(7, 1_001, false);
        let stretch = off.comes_back(7, 51_000).unwrap();
        assert_eq!(stretch.frames, [MARKER, 1, 2, 3]);
        assert_eq!((stretch.since, stretch.ns), (1_000, 50_000));
        assert_eq!(off.stats().waits, 1);
        assert_eq!(off.stats().wait_ns, 50_000);
    }

    #[test]
    fn a_preemption_is_on_cpu_time_of_its_stack() {
        let mut off = off_cpu(0);
        off.leaves(7, 1_000, vec![1, 2]);
        off.switched_out(7, 1_000, true);
        let stretch = off.comes_back(7, 3_000).unwrap();
        assert_eq!(stretch.frames, [1, 2], "no [off-cpu] frame");
        assert_eq!(off.stats().preempted_ns, 2_000);
        assert_eq!(off.stats().waits, 0);
    }

    #[test]
    fn short_waits_are_dropped_and_counted() {
        let mut off = off_cpu(10_000);
        off.leaves(7, 0, vec![1]);
        assert!(off.comes_back(7, 9_999).is_none());
        off.leaves(7, 20_000, vec![1]);
        assert_eq!(off.comes_back(7, 30_000).unwrap().ns, 10_000);
        assert_eq!((off.stats().short, off.stats().short_ns), (1, 9_999));
    }

    #[test]
    fn threads_are_apart_and_a_lone_switch_in_is_counted() {
        let mut off = off_cpu(0);
        off.leaves(1, 0, vec![1]);
        off.leaves(2, 5, vec![2]);
        assert!(off.comes_back(3, 10).is_none(), "a new thread starts");
        assert_eq!(off.stats().unmatched, 0);
        assert_eq!(off.comes_back(2, 15).unwrap().frames, [MARKER, 2]);
        assert_eq!(off.comes_back(1, 20).unwrap().ns, 20);
        assert!(
            off.comes_back(1, 30).is_none(),
            "its switch sample was lost"
        );
        assert_eq!(off.stats().unmatched, 1);
    }

    #[test]
    fn the_line_says_what_was_counted_and_left_out() {
        let stats = OffCpuStats {
            waits: 2,
            wait_ns: 1_500_000_000,
            short: 1,
            short_ns: 2_000,
            preemptions: 0,
            ..OffCpuStats::default()
        };
        assert_eq!(
            stats.line(),
            "off-CPU: 2 waits (1.50 s) end in [off-cpu]; 1 wait shorter than --off-cpu-min left out (2 µs)"
        );
    }

    #[test]
    fn what_is_open_at_the_end_closes_at_the_last_time_seen() {
        let mut off = off_cpu(0);
        off.leaves(1, 100, vec![1]);
        off.leaves(2, 150, vec![2]);
        off.exited(2);
        off.saw_time(400);
        let open = off.finish();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].ns, 300);
        assert_eq!(off.stats().open_at_end, 1);
    }
}
