//! Deterministic synthetic profiles for the fold benchmark, in several
//! shapes, so that no one shape decides the figures.
//!
//! Every line is a folded stack (`frame;frame;...;frame COUNT`) shaped like
//! a recursive program: a root label, a start-up prefix, a few application
//! frames, then one of five recursion families (below) entered for a depth
//! drawn from an exponential distribution, then helpers. A [`Shape`] varies
//! what matters to a folder's speed and memory:
//!
//! * **depth**: deep recursion (mean 120 frames, long lines of about 2 KB)
//!   or shallow (mean 5, short lines);
//! * **helpers**: `Few` (six fixed helper chains at the leaf: folded, the
//!   profile has a few hundred distinct stacks) or `Many` (helpers drawn from
//!   a pool of thousands of names, at the leaf and also called from inside
//!   the recursion at random, calling back into it: folded, most stacks stay
//!   distinct, about 100,000 in the full profile);
//! * **repeats**: every line new, or lines drawn from a pool of a thousand
//!   (merged runs), or one line repeated (memory grows with lines or not);
//! * **order**: as generated, or sorted (what collapsers write).
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
//! Everything comes from a splitmix64 generator seeded by the caller, so the
//! same shape and seed always give byte-identical output.

use std::io::{self, Write};

/// Largest recursion depth (frames).
pub const MAX_DEPTH: usize = 1500;

/// Largest sample count of a line; counts are 1 to this, mostly small.
pub const MAX_COUNT: u64 = 20;

/// The process name every stack starts with.
const ROOT: &str = "synth";

/// Helper names in the pool of [`Helpers::Many`].
const HELPER_POOL: usize = 4000;

/// In [`Helpers::Many`], one recursion step in this many goes through a
/// helper that calls back into the recursion.
const HELPER_INSIDE_ONE_IN: usize = 25;

/// The line of [`Repeats::One`]: 27 bytes.
const ONE_LINE: &str = "synth;even;odd;even;work 1\n";

/// Distinct lines in the pool of [`Repeats::Pool`].
const LINE_POOL: usize = 1000;

/// What helpers the recursion calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helpers {
    /// One of six fixed helper chains at the leaf.
    Few,
    /// Helpers from a pool of [`HELPER_POOL`] names, at the leaf and inside
    /// the recursion.
    Many,
}

/// How lines repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeats {
    /// Every line generated afresh (repeats only by chance).
    None,
    /// Lines drawn from a pool of [`LINE_POOL`] generated ones, the first
    /// far more often than the last (merged runs of one program).
    Pool,
    /// One short line (`synth;even;odd;even;work 1`), repeated.
    One,
}

/// The shape of a generated profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Its name in the bench's table.
    pub name: &'static str,
    /// Mean recursion depth (exponential).
    pub mean_depth: f64,
    /// What the recursion calls.
    pub helpers: Helpers,
    /// How lines repeat.
    pub repeats: Repeats,
    /// Whether lines are sorted, as collapsers write them.
    pub sorted: bool,
    /// Bytes to write, about (whole lines).
    pub bytes: u64,
}

/// The shapes the fold bench measures, about 200 MB each (the repeated line
/// 810 MB: thirty million lines).
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "deep, few helpers",
        mean_depth: 120.0,
        helpers: Helpers::Few,
        repeats: Repeats::None,
        sorted: false,
        bytes: 200_000_000,
    },
    Shape {
        name: "deep, few helpers, sorted",
        mean_depth: 120.0,
        helpers: Helpers::Few,
        repeats: Repeats::None,
        sorted: true,
        bytes: 200_000_000,
    },
    Shape {
        name: "deep, many helpers",
        mean_depth: 120.0,
        helpers: Helpers::Many,
        repeats: Repeats::None,
        sorted: false,
        bytes: 200_000_000,
    },
    Shape {
        name: "deep, many helpers, sorted",
        mean_depth: 120.0,
        helpers: Helpers::Many,
        repeats: Repeats::None,
        sorted: true,
        bytes: 200_000_000,
    },
    Shape {
        name: "shallow, many helpers",
        mean_depth: 5.0,
        helpers: Helpers::Many,
        repeats: Repeats::None,
        sorted: false,
        bytes: 200_000_000,
    },
    Shape {
        name: "shallow, pooled lines, sorted",
        mean_depth: 5.0,
        helpers: Helpers::Many,
        repeats: Repeats::Pool,
        sorted: true,
        bytes: 200_000_000,
    },
    Shape {
        name: "one line x 30 million",
        mean_depth: 2.0,
        helpers: Helpers::Few,
        repeats: Repeats::One,
        sorted: false,
        bytes: 810_000_000,
    },
];

/// What a generated profile contains.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Lines (stacks) written.
    pub stacks: u64,
    /// Frames in all stacks, the root label included.
    pub frames: u64,
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

    fn add(&mut self, line: &[u8], frames: usize, count: u64) {
        self.stacks += 1;
        self.frames += frames as u64;
        self.bytes += line.len() as u64;
        self.samples += count;
    }
}

/// Writes a profile of `shape`, scaled to `scale` of its size (1.0 in the
/// bench, small in a smoke test), generated from `seed`, to `out`.
pub fn write_profile(
    shape: &Shape,
    scale: f64,
    seed: u64,
    out: &mut impl Write,
) -> io::Result<Stats> {
    let budget = (shape.bytes as f64 * scale) as u64;
    let mut lines = Lines::new(shape, seed);
    let mut stats = Stats::default();
    if !shape.sorted {
        while stats.bytes < budget {
            let (line, frames, count) = lines.next();
            out.write_all(line)?;
            stats.add(line, frames, count);
        }
        out.flush()?;
        return Ok(stats);
    }
    let mut all: Vec<Vec<u8>> = Vec::new();
    while stats.bytes < budget {
        let (line, frames, count) = lines.next();
        stats.add(line, frames, count);
        all.push(line.to_vec());
    }
    all.sort_unstable();
    for line in &all {
        out.write_all(line)?;
    }
    out.flush()?;
    Ok(stats)
}

/// The lines of one shape, one after another.
struct Lines {
    shape: Shape,
    rng: Rng,
    helpers: Vec<String>,
    frames: Vec<String>,
    line: Vec<u8>,
    /// Lines to draw from, for [`Repeats::Pool`] and [`Repeats::One`]:
    /// (line, frames).
    pool: Vec<(Vec<u8>, usize)>,
}

impl Lines {
    fn new(shape: &Shape, seed: u64) -> Self {
        let mut lines = Lines {
            shape: *shape,
            rng: Rng::new(seed),
            helpers: (0..HELPER_POOL).map(helper_name).collect(),
            frames: Vec::with_capacity(MAX_DEPTH + 64),
            line: Vec::with_capacity(64 * 1024),
            pool: Vec::new(),
        };
        if shape.repeats == Repeats::One {
            lines.pool.push((ONE_LINE.as_bytes().to_vec(), 5));
        }
        let pooled = match shape.repeats {
            Repeats::Pool => LINE_POOL,
            Repeats::None | Repeats::One => 0,
        };
        for _ in 0..pooled {
            let (line, frames, _) = lines.fresh();
            let line = line.to_vec();
            lines.pool.push((line, frames));
        }
        lines
    }

    /// The next line, its frames and its count.
    fn next(&mut self) -> (&[u8], usize, u64) {
        if self.pool.is_empty() {
            return self.fresh();
        }
        // Squaring a uniform draw favours the first lines of the pool.
        let u = self.rng.unit();
        let pick = ((u * u) * self.pool.len() as f64) as usize;
        let (line, frames) = &self.pool[pick.min(self.pool.len() - 1)];
        let count = count_of(line);
        (line, *frames, count)
    }

    /// A line generated afresh, its frames and its count.
    fn fresh(&mut self) -> (&[u8], usize, u64) {
        self.frames.clear();
        self.build_stack();
        let count = draw_count(&mut self.rng);
        render_line(&self.frames, count, &mut self.line);
        (&self.line, self.frames.len(), count)
    }

    /// Fills `frames` with one stack, root first.
    fn build_stack(&mut self) {
        let rng = &mut self.rng;
        self.frames.push(ROOT.into());
        self.frames
            .extend(rng.pick(PREFIXES).iter().map(|f| f.to_string()));
        for _ in 0..rng.below(4) {
            self.frames.push(rng.pick(APP_FRAMES).into());
        }
        let family = rng.pick(&FAMILIES);
        self.frames.push(rng.pick(family.entries()).into());
        let depth = draw_depth(rng, self.shape.mean_depth);
        let mut frame = family.first(rng);
        for _ in 0..depth {
            self.frames.push(frame.into());
            if self.shape.helpers == Helpers::Many && rng.below(HELPER_INSIDE_ONE_IN) == 0 {
                self.frames.push(rng.pick_ref(&self.helpers).clone());
            }
            frame = family.next(frame, rng);
        }
        self.push_leaves();
    }

    /// Appends the leaf frames: usually helpers, cut where the sample
    /// landed; sometimes none (time spent in the recursion itself).
    fn push_leaves(&mut self) {
        let rng = &mut self.rng;
        if rng.below(8) == 0 {
            return;
        }
        match self.shape.helpers {
            Helpers::Few => {
                let chain = rng.pick(LEAF_CHAINS);
                let take = 1 + rng.below(chain.len());
                self.frames
                    .extend(chain[..take].iter().map(|f| f.to_string()));
            }
            Helpers::Many => {
                for _ in 0..1 + rng.below(3) {
                    self.frames.push(rng.pick_ref(&self.helpers).clone());
                }
            }
        }
    }
}

/// The name of helper `i` of the pool: a Rust-like path.
fn helper_name(i: usize) -> String {
    const MODULES: &[&str] = &["util", "fmt", "collections", "io", "codec", "cache"];
    format!(
        "app::{}::helper_{i}::<impl app::Value>::apply",
        MODULES[i % MODULES.len()]
    )
}

/// The count at the end of a line.
fn count_of(line: &[u8]) -> u64 {
    let text = std::str::from_utf8(line).unwrap_or_default().trim_end();
    text.rsplit(' ')
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

/// A recursion depth: exponential with mean `mean`, 1 to [`MAX_DEPTH`].
fn draw_depth(rng: &mut Rng, mean: f64) -> usize {
    let x = rng.exponential(mean).round() as usize;
    x.clamp(1, MAX_DEPTH)
}

/// A sample count from 1 to [`MAX_COUNT`], small ones far more likely.
fn draw_count(rng: &mut Rng) -> u64 {
    let u = rng.unit();
    1 + ((u * u * u) * MAX_COUNT as f64) as u64
}

/// Writes `frames` joined by `;`, a space, `count` and a newline into `line`.
fn render_line(frames: &[String], count: u64, line: &mut Vec<u8>) {
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

    /// A uniformly chosen element of `items` (not empty), by reference.
    fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
