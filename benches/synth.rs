//! A deterministic synthetic profile for the fold benchmark.
//!
//! [`write_profile`] writes folded stacks (`frame;frame;...;frame COUNT`),
//! one per line, shaped like a deep-recursion workload: a root label, a
//! start-up prefix, a few application frames, then one of five recursion
//! families entered for a depth drawn from an exponential distribution with
//! mean [`MEAN_DEPTH`], then a short chain of leaf helpers.
//!
//! The families:
//!
//! * parity — two mutual members, `parity::is_even` / `parity::is_odd`;
//! * calc — three mutual members, a recursive-descent parser
//!   (`calc::expr` / `calc::term` / `calc::factor`);
//! * ast — four mutual members, a visitor (`ast::visit_item` / `_block` /
//!   `_stmt` / `_expr`);
//! * tree — one self-recursive member, `tree::walk`;
//! * vm — an interpreter loop (`vm::eval` → `vm::call_function` →
//!   `vm::dispatch` → `vm::dispatch::{{closure}}` → `vm::eval`, sometimes
//!   through `vm::eval_binop`).
//!
//! With 100,000 stacks the profile averages about 130 frames a stack and
//! about 2 KB a line, about 200 MB in all. Everything comes from a
//! splitmix64 generator seeded by the caller, so the same seed always gives
//! byte-identical output.

use std::io::{self, Write};

/// Mean of the exponential distribution the recursion depth is drawn from.
pub const MEAN_DEPTH: f64 = 120.0;

/// Largest recursion depth (frames); reached by about 4 stacks in a million.
pub const MAX_DEPTH: usize = 1500;

/// Largest sample count of a line; counts are 1 to this, mostly small.
pub const MAX_COUNT: u64 = 20;

/// The process name every stack starts with.
const ROOT: &str = "synth";

/// What a generated profile contains.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Lines (stacks) written.
    pub stacks: u64,
    /// Frames in all stacks, the root label included.
    pub frames: u64,
    /// Frames inside the recursion families (the drawn depths, summed).
    pub recursion_frames: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Samples (the counts, summed).
    pub samples: u64,
}

impl Stats {
    /// Average frames per stack.
    pub fn mean_frames(&self) -> f64 {
        self.frames as f64 / self.stacks.max(1) as f64
    }

    /// Average recursion depth a family was entered for.
    pub fn mean_depth(&self) -> f64 {
        self.recursion_frames as f64 / self.stacks.max(1) as f64
    }
}

/// Writes `stacks` folded stacks generated from `seed` to `out`.
pub fn write_profile(stacks: usize, seed: u64, out: &mut impl Write) -> io::Result<()> {
    write_profile_with_stats(stacks, seed, out).map(|_| ())
}

/// Like [`write_profile`], and says what it wrote.
pub fn write_profile_with_stats(
    stacks: usize,
    seed: u64,
    out: &mut impl Write,
) -> io::Result<Stats> {
    let mut rng = Rng::new(seed);
    let mut frames: Vec<&'static str> = Vec::with_capacity(MAX_DEPTH + 64);
    let mut line: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut stats = Stats::default();
    for _ in 0..stacks {
        frames.clear();
        let depth = build_stack(&mut rng, &mut frames);
        let count = draw_count(&mut rng);
        render_line(&frames, count, &mut line);
        out.write_all(&line)?;
        stats.stacks += 1;
        stats.frames += frames.len() as u64;
        stats.recursion_frames += depth as u64;
        stats.bytes += line.len() as u64;
        stats.samples += count;
    }
    out.flush()?;
    Ok(stats)
}

/// Fills `frames` with one stack, root first; returns its recursion depth.
fn build_stack(rng: &mut Rng, frames: &mut Vec<&'static str>) -> usize {
    frames.push(ROOT);
    frames.extend_from_slice(rng.pick(PREFIXES));
    let middle = rng.below(4);
    for _ in 0..middle {
        frames.push(rng.pick(APP_FRAMES));
    }
    let family = rng.pick(&FAMILIES);
    frames.push(rng.pick(family.entries()));
    let depth = draw_depth(rng);
    family.recurse(depth, rng, frames);
    push_leaves(rng, frames);
    depth
}

/// A recursion depth: exponential with mean [`MEAN_DEPTH`], 1 to [`MAX_DEPTH`].
fn draw_depth(rng: &mut Rng) -> usize {
    let x = rng.exponential(MEAN_DEPTH).round() as usize;
    x.clamp(1, MAX_DEPTH)
}

/// A sample count from 1 to [`MAX_COUNT`], small ones far more likely.
fn draw_count(rng: &mut Rng) -> u64 {
    let u = rng.unit();
    1 + ((u * u * u) * MAX_COUNT as f64) as u64
}

/// Appends the leaf frames: usually the start of one helper chain, cut where
/// the sample landed; sometimes none (time spent in the recursion itself).
fn push_leaves(rng: &mut Rng, frames: &mut Vec<&'static str>) {
    if rng.below(8) == 0 {
        return;
    }
    let chain = rng.pick(LEAF_CHAINS);
    let take = 1 + rng.below(chain.len());
    frames.extend_from_slice(&chain[..take]);
}

/// Writes `frames` joined by `;`, a space, `count` and a newline into `line`.
fn render_line(frames: &[&str], count: u64, line: &mut Vec<u8>) {
    line.clear();
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            line.push(b';');
        }
        line.extend_from_slice(frame.as_bytes());
    }
    // Writing into a Vec cannot fail.
    let _ = writeln!(line, " {count}");
}

/// The recursion families.
#[derive(Debug, Clone, Copy)]
enum Family {
    /// Two mutual members.
    Parity,
    /// Three mutual members.
    Calc,
    /// Four mutual members.
    Ast,
    /// One self-recursive member.
    Tree,
    /// An interpreter loop of five members.
    Vm,
}

/// Every family, drawn with equal weight.
const FAMILIES: [Family; 5] = [
    Family::Parity,
    Family::Calc,
    Family::Ast,
    Family::Tree,
    Family::Vm,
];

impl Family {
    /// Frames that call into the family (not members of it).
    fn entries(self) -> &'static [&'static str] {
        match self {
            Family::Parity => &["parity::check", "parity::check_all::{{closure}}"],
            Family::Calc => &["calc::Parser::parse", "calc::eval_str"],
            Family::Ast => &["ast::Visitor::visit_crate", "ast::lower::lower_module"],
            Family::Tree => &["tree::Tree::for_each", "tree::Tree::depth_first"],
            Family::Vm => &["vm::Interpreter::run", "vm::Interpreter::call_main"],
        }
    }

    /// The member recursion starts at.
    fn first(self, rng: &mut Rng) -> &'static str {
        match self {
            Family::Parity => rng.pick(&[IS_EVEN, IS_ODD]),
            Family::Calc => EXPR,
            Family::Ast => rng.pick(&[VISIT_ITEM, VISIT_BLOCK]),
            Family::Tree => WALK,
            Family::Vm => EVAL,
        }
    }

    /// The member `current` calls next.
    fn next(self, current: &str, rng: &mut Rng) -> &'static str {
        match (self, current) {
            (Family::Parity, IS_EVEN) => IS_ODD,
            (Family::Parity, _) => IS_EVEN,
            (Family::Calc, EXPR) => TERM,
            (Family::Calc, TERM) => FACTOR,
            // A parenthesised expression, or a unary minus.
            (Family::Calc, _) => choose(rng, 9, EXPR, FACTOR),
            (Family::Ast, VISIT_ITEM) => VISIT_BLOCK,
            (Family::Ast, VISIT_BLOCK) => VISIT_STMT,
            (Family::Ast, VISIT_STMT) => choose(rng, 7, VISIT_EXPR, VISIT_ITEM),
            (Family::Ast, _) => choose(rng, 6, VISIT_BLOCK, VISIT_EXPR),
            (Family::Tree, _) => WALK,
            (Family::Vm, EVAL) => choose(rng, 8, CALL_FUNCTION, EVAL_BINOP),
            (Family::Vm, EVAL_BINOP) => EVAL,
            (Family::Vm, CALL_FUNCTION) => DISPATCH,
            (Family::Vm, DISPATCH) => DISPATCH_CLOSURE,
            (Family::Vm, _) => EVAL,
        }
    }

    /// Appends `depth` frames of this family's recursion.
    fn recurse(self, depth: usize, rng: &mut Rng, frames: &mut Vec<&'static str>) {
        let mut frame = self.first(rng);
        for _ in 0..depth {
            frames.push(frame);
            frame = self.next(frame, rng);
        }
    }
}

/// `a` with probability `tenths`/10, else `b`.
fn choose(rng: &mut Rng, tenths: usize, a: &'static str, b: &'static str) -> &'static str {
    if rng.below(10) < tenths { a } else { b }
}

const IS_EVEN: &str = "parity::is_even";
const IS_ODD: &str = "parity::is_odd";
const EXPR: &str = "calc::expr";
const TERM: &str = "calc::term";
const FACTOR: &str = "calc::factor";
const VISIT_ITEM: &str = "ast::visit_item";
const VISIT_BLOCK: &str = "ast::visit_block";
const VISIT_STMT: &str = "ast::visit_stmt";
const VISIT_EXPR: &str = "ast::visit_expr";
const WALK: &str = "tree::walk";
const EVAL: &str = "vm::eval";
const EVAL_BINOP: &str = "vm::eval_binop";
const CALL_FUNCTION: &str = "vm::call_function";
const DISPATCH: &str = "vm::dispatch";
const DISPATCH_CLOSURE: &str = "vm::dispatch::{{closure}}";

/// Start-up frames below the application: the main thread and two kinds of
/// worker thread.
const PREFIXES: &[&[&str]] = &[
    &[
        "_start",
        "__libc_start_main",
        "__libc_start_call_main",
        "main",
        "std::rt::lang_start_internal",
        "std::rt::lang_start::{{closure}}",
        "std::sys::backtrace::__rust_begin_short_backtrace",
        "synth::main",
        "app::run",
    ],
    &[
        "clone3",
        "start_thread",
        "std::sys::pal::unix::thread::Thread::new::thread_start",
        "core::ops::function::FnOnce::call_once{{vtable.shim}}",
        "std::thread::Builder::spawn_unchecked_::{{closure}}",
        "app::worker::Worker::run",
    ],
    &[
        "clone3",
        "start_thread",
        "std::sys::pal::unix::thread::Thread::new::thread_start",
        "rayon_core::registry::ThreadBuilder::run",
        "rayon_core::registry::WorkerThread::wait_until_cold",
        "<rayon_core::job::StackJob<L,F,R> as rayon_core::job::Job>::execute",
        "app::par::run_chunk",
    ],
];

/// Application frames between the start-up prefix and a family.
const APP_FRAMES: &[&str] = &[
    "app::pipeline::Stage::process",
    "app::task::Task::poll",
    "<app::Handler as app::Service>::call",
    "app::run::{{closure}}",
    "app::batch::process_batch",
    "core::iter::traits::iterator::Iterator::for_each",
];

/// Helper chains the recursion calls into, outermost first.
const LEAF_CHAINS: &[&[&str]] = &[
    &[
        "alloc::vec::Vec<T,A>::push",
        "alloc::raw_vec::RawVec<T,A>::grow_one",
        "alloc::raw_vec::finish_grow",
        "__rust_realloc",
        "realloc",
        "_int_realloc",
    ],
    &[
        "alloc::fmt::format::format_inner",
        "core::fmt::write",
        "<alloc::string::String as core::fmt::Write>::write_str",
        "__memcpy_avx_unaligned_erms",
    ],
    &[
        "hashbrown::map::HashMap<K,V,S,A>::insert",
        "core::hash::BuildHasher::hash_one",
        "<rustc_hash::FxHasher as core::hash::Hasher>::write",
    ],
    &[
        "alloc::alloc::exchange_malloc",
        "__rust_alloc",
        "malloc",
        "_int_malloc",
    ],
    &[
        "<alloc::vec::Vec<T> as core::clone::Clone>::clone",
        "alloc::slice::<impl [T]>::to_vec",
        "memcpy",
    ],
    &["core::ptr::drop_in_place<app::Value>", "free", "_int_free"],
];

/// splitmix64: tiny, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Exponentially distributed with the given mean.
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// A uniformly chosen element of `items` (not empty).
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
