//! The call chain the kernel recorded with a sample: addresses, innermost
//! first, split into contexts (kernel, user) by `PERF_CONTEXT_*` markers.

use linux_perf_event_reader::RawDataU64;
use linux_perf_event_reader::constants::{
    PERF_CONTEXT_GUEST_KERNEL, PERF_CONTEXT_GUEST_USER, PERF_CONTEXT_HV, PERF_CONTEXT_KERNEL,
    PERF_CONTEXT_MAX, PERF_CONTEXT_USER,
};

/// Which side of the system call boundary a frame is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Kernel,
    User,
    /// Hypervisor or guest frames: kept, named `[unknown]`.
    Other,
}

/// Context markers of frames perf can name (others, such as a newer
/// kernel's markers, end the chain: perf 6.1 drops such a chain whole).
const KNOWN_CONTEXTS: [u64; 5] = [
    PERF_CONTEXT_HV,
    PERF_CONTEXT_KERNEL,
    PERF_CONTEXT_USER,
    PERF_CONTEXT_GUEST_KERNEL,
    PERF_CONTEXT_GUEST_USER,
];

/// One address of a call chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainFrame {
    pub context: Context,
    pub address: u64,
    /// The first address of its context: where the CPU was, not a return
    /// address (so it is looked up as it is, not as the call before it).
    pub is_ip: bool,
}

/// The frames of `chain`, innermost first, without the context markers.
/// Frames before any marker belong to `initial` (the sample's CPU mode).
pub fn frames(chain: RawDataU64<'_>, initial: Context) -> impl Iterator<Item = ChainFrame> + '_ {
    let mut context = initial;
    let mut is_ip = true;
    let markers_known = (0..chain.len())
        .filter_map(move |index| chain.get(index))
        .take_while(|&address| address < PERF_CONTEXT_MAX || KNOWN_CONTEXTS.contains(&address));
    markers_known.filter_map(move |address| {
        if address >= PERF_CONTEXT_MAX {
            context = match address {
                PERF_CONTEXT_KERNEL => Context::Kernel,
                PERF_CONTEXT_USER => Context::User,
                _ => Context::Other,
            };
            is_ip = true;
            return None;
        }
        let frame = ChainFrame {
            context,
            address,
            is_ip,
        };
        is_ip = false;
        Some(frame)
    })
}
