//! Stacks before symbolization: raw frames (module, address) interned, and
//! distinct stacks counted, so that symbolization sees each address once.

use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::modules::{ModuleId, UNKNOWN_MODULE};

/// A frame before symbolization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawFrame {
    pub module: ModuleId,
    /// The address to look up, in the module's own address space: a return
    /// address is already moved back into its call instruction.
    pub address: u64,
    /// Found by unwinding a stack copy, not recorded in a call chain.
    pub unwound: bool,
    /// For JIT code, the code that was at the address when the sample was
    /// taken (an entry of the process's `JitCode`): a runtime reuses the
    /// addresses of code it freed.
    pub jit_code: Option<u32>,
}

impl RawFrame {
    /// A frame whose address is in no known mapping (all such frames are
    /// one: `[unknown]`).
    pub const UNKNOWN: RawFrame = RawFrame {
        module: UNKNOWN_MODULE,
        address: 0,
        unwound: false,
        jit_code: None,
    };

    /// This frame, naming the JIT code `jit_code` (see
    /// [`RawFrame::jit_code`]).
    pub fn with_jit_code(self, jit_code: Option<u32>) -> Self {
        Self { jit_code, ..self }
    }

    /// This frame, marked as found by unwinding.
    pub fn unwound(self) -> Self {
        Self {
            unwound: true,
            ..self
        }
    }
}

/// The address to look `address` up at: where the thread was (`is_ip`) as
/// it is, a return address one byte back, inside its call instruction (the
/// instruction after a call can belong to the next function, or to another
/// inlined scope).
pub fn lookup_address(address: u64, is_ip: bool) -> u64 {
    if is_ip {
        address
    } else {
        address.wrapping_sub(1)
    }
}

/// Index of a raw frame in [`RawStacks::frames`].
pub type RawFrameId = u32;

/// Index of a command name in [`RawStacks::comms`].
pub type CommId = u32;

/// Index of a distinct raw stack, in the order of [`RawStacks::stacks`].
pub type RawStackId = u32;

/// Distinct raw stacks with their sample counts.
#[derive(Debug, Default)]
pub struct RawStacks {
    frames: Vec<RawFrame>,
    frame_ids: FxHashMap<RawFrame, RawFrameId>,
    comms: Vec<String>,
    comm_ids: FxHashMap<String, CommId>,
    /// Key: the comm id, then frame ids outermost first; in order of first
    /// sample, so that a stack's index ([`RawStackId`]) names it.
    stacks: IndexMap<Box<[u32]>, u64, FxBuildHasher>,
    /// The stack being built (innermost first).
    pending: Vec<u32>,
}

impl RawStacks {
    /// The id of command name `comm`.
    pub fn comm(&mut self, comm: &str) -> CommId {
        if let Some(&id) = self.comm_ids.get(comm) {
            return id;
        }
        let id = CommId::try_from(self.comms.len()).expect("fewer than 2^32 names");
        self.comms.push(comm.to_owned());
        self.comm_ids.insert(comm.to_owned(), id);
        id
    }

    /// The id of `frame`, interned on first use.
    pub fn intern(&mut self, frame: RawFrame) -> RawFrameId {
        let next = RawFrameId::try_from(self.frames.len()).expect("fewer than 2^32 frames");
        let id = *self.frame_ids.entry(frame).or_insert(next);
        if id == next {
            self.frames.push(frame);
        }
        id
    }

    /// Adds `frame` to the stack being built; frames come innermost first.
    pub fn push_frame(&mut self, frame: RawFrame) {
        let id = self.intern(frame);
        self.pending.push(id);
    }

    /// Adds `weight` to the stack built since the last call, under the
    /// command `comm`; returns the stack's id.
    pub fn finish_weighted(&mut self, comm: CommId, weight: u64) -> RawStackId {
        let pending = std::mem::take(&mut self.pending);
        let id = self.add(comm, &pending, weight);
        self.pending = pending;
        self.pending.clear();
        id
    }

    /// The stack built since the last call (innermost first), taken away
    /// unfinished: a thread's stack as it leaves the CPU, weighed once it
    /// comes back.
    pub fn take_stack(&mut self) -> Vec<RawFrameId> {
        std::mem::take(&mut self.pending)
    }

    /// Adds `weight` to the stack of `frames` (innermost first) under the
    /// command `comm`; returns the stack's id.
    pub fn add(&mut self, comm: CommId, frames: &[RawFrameId], weight: u64) -> RawStackId {
        let mut key = Vec::with_capacity(frames.len() + 1);
        key.push(comm);
        key.extend(frames.iter().rev());
        let entry = self.stacks.entry(key.into_boxed_slice());
        let id = RawStackId::try_from(entry.index()).expect("fewer than 2^32 stacks");
        *entry.or_insert(0) += weight;
        id
    }

    /// Every distinct raw frame, indexed by [`RawFrameId`].
    pub fn frames(&self) -> &[RawFrame] {
        &self.frames
    }

    /// Command names, indexed by [`CommId`].
    pub fn comms(&self) -> &[String] {
        &self.comms
    }

    /// Distinct stacks, by [`RawStackId`]: the comm id, then raw frame ids
    /// outermost first; and the number of samples.
    pub fn stacks(&self) -> impl Iterator<Item = (CommId, &[RawFrameId], u64)> {
        self.stacks
            .iter()
            .map(|(key, &count)| (key[0], &key[1..], count))
    }
}
