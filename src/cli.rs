//! The command line: what each subcommand takes, with the help text users see.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::engine::EngineOptions;
use crate::engine::fold::FoldOptions;
use crate::engine::graph::FrameFilter;
use crate::input::root_label::RootLabel;
use crate::input::{ReadOptions, Source};
use crate::output::diff::DiffOptions;
use crate::output::render::{Palette, RenderOptions, defaults};
use crate::output::{Destination, Exports, ReportFormat};
use crate::record::{CallGraph, RecordOptions, Target, perf_binary};

/// Flame graphs of recursive programs, with every recursion cycle folded
/// into one frame.
///
/// autofold finds direct recursion, mutual recursion (even -> odd -> even)
/// and longer loops in the call graph by itself, names each cycle from its
/// members, and folds every run of it into one frame, so what the recursion
/// spends its time on is visible again.
#[derive(Debug, Parser)]
#[command(name = "autofold", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fold the recursion cycles of a profile from any profiler.
    ///
    /// Reads folded stacks, perf script output, perf.data, pprof (Go,
    /// pprof-rs, Pyroscope, Parca), Chrome/Node .cpuprofile, py-spy and more
    /// (gzip-compressed or not; the format is detected from the content).
    /// Writes the folded stacks to standard output (or -o FILE), and with
    /// --svg / --report / --pprof / --speedscope / --firefox also the flame
    /// graph, the JSON cycle report, a gzipped pprof and the files
    /// speedscope and the Firefox Profiler open.
    ///
    /// Example: autofold fold stacks.folded --svg flame.svg > folded.txt
    Fold(FoldArgs),
    /// Report the recursion cycles of a profile, most samples first.
    ///
    /// Example: autofold report stacks.folded --format json
    Report(ReportArgs),
    /// Profile a command and write its folded flame graph.
    ///
    /// Runs CMD and samples it, with every thread and child process it
    /// starts, through the kernel's perf events (no perf binary needed, no
    /// file written; --perf records with `perf record` instead): each
    /// sample's stack copied and unwound as it arrives (DWARF, JIT code
    /// included, stacks kept far past perf's default of 127 frames),
    /// symbols and inline frames resolved once per address at the end. Then
    /// folds the recursion cycles, writes the flame graph (-o, default
    /// flamegraph.svg) and prints the cycle report to standard error.
    ///
    /// Exits as a shell would: with the command's exit code (128 + N if
    /// signal N killed it), also when it failed too briefly to be sampled;
    /// 127 if the command is not found; 126 if it cannot be run (a
    /// directory, no execute permission); 1 for autofold's own errors.
    ///
    /// Example: autofold record -- ./target/debug/even-odd 200
    Record(RecordArgs),
    /// Print a shell's completion script for autofold.
    ///
    /// Example (bash): autofold completions bash > ~/.local/share/bash-completion/completions/autofold
    Completions(CompletionsArgs),
    /// Print autofold's man page (roff), or write every page to a directory.
    ///
    /// --out DIR writes autofold.1, one autofold-SUBCOMMAND.1 per subcommand
    /// and cargo-autofold.1.
    ///
    /// Example: autofold man --out ~/.local/share/man/man1
    Man(ManArgs),
    /// Compare two profiles: a differential flame graph and what changed.
    ///
    /// Finds the recursion cycles of both profiles together, so each
    /// recursion has one name on both sides (also where one side never
    /// recursed), folds both with that one set, writes the differential
    /// flame graph (-o, default diff.svg: widths as AFTER, red grew, blue
    /// shrank) and prints each cycle's share before and after and the frames
    /// whose self time changed most, largest change first.
    ///
    /// Example: autofold diff before.folded after.folded -o change.svg
    Diff(DiffArgs),
}

/// Inputs and cycle options shared by every subcommand that reads profiles.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Profiles to read; standard input when none is given or for `-`.
    /// Several are merged.
    ///
    /// The format is detected from the content: folded stacks, `perf script`
    /// output, perf.data, pprof (Go, pprof-rs, Pyroscope, Parca), Chrome/Node
    /// .cpuprofile, DTrace, macOS sample, VTune and Visual Studio CSV,
    /// xctrace XML, GHC .prof; any of them gzip-compressed.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// How the inputs are read.
    #[command(flatten)]
    pub read: ReadArgs,

    /// How cycles are found and folded.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// How inputs are read: shared by every subcommand that reads profiles.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Whether the first frame of each stack is a process name (as in stacks
    /// collapsed from perf) rather than a function. `auto` decides per input:
    /// from its format, or for folded stacks from the shape of the first
    /// frames (docs/INPUTS.md).
    #[arg(long, value_enum, default_value_t = RootLabel::Auto, value_name = "WHEN")]
    pub root_label: RootLabel,

    /// Which value of pprof samples to count (e.g. `samples`, `cpu`,
    /// `alloc_space`, or `TYPE/UNIT`) [default: the first of samples and cpu,
    /// else the profile's default].
    #[arg(long, value_name = "NAME")]
    pub sample_type: Option<String>,
}

impl ReadArgs {
    /// How to read the inputs.
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            root_label: self.root_label,
            sample_type: self.sample_type.clone(),
            timeline: false,
        }
    }
}

/// How cycles are found and folded: shared by every subcommand.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Frames whose name matches REGEX never join a cycle (repeatable).
    ///
    /// Use it to cut a trampoline that links unrelated recursions; the report
    /// suggests one for every cycle of more than 8 members.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,

    /// Leave stacks that perf cut mid-recursion where they are, instead of
    /// re-attaching them under the path by which the recursion is entered.
    #[arg(long)]
    pub no_reroot: bool,

    /// Leave cycles of more than N members unfolded (they are still reported).
    #[arg(long, value_name = "N")]
    pub max_cycle_members: Option<usize>,
}

impl EngineArgs {
    /// The engine options these arguments ask for.
    pub fn options(&self) -> Result<EngineOptions> {
        Ok(EngineOptions {
            filter: FrameFilter::new(&self.exclude)?,
            fold: FoldOptions {
                reroot: !self.no_reroot,
                max_cycle_members: self.max_cycle_members,
                ..FoldOptions::default()
            },
            refold: false,
        })
    }
}

impl InputArgs {
    /// The sources to read, in order.
    pub fn sources(&self) -> Vec<Source> {
        Source::from_args(&self.files)
    }

    /// The engine options these arguments ask for.
    pub fn engine_options(&self) -> Result<EngineOptions> {
        self.engine.options()
    }

    /// How to read the inputs.
    pub fn read_options(&self) -> ReadOptions {
        self.read.options()
    }
}

/// `autofold fold`.
#[derive(Debug, Args)]
pub struct FoldArgs {
    /// The profiles to read, and how.
    #[command(flatten)]
    pub input: InputArgs,

    /// Write the folded stacks to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also render the folded flame graph to FILE (SVG).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Also write the cycle report to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Also write the folded profile to FILE as gzipped pprof, for `go tool
    /// pprof`, Pyroscope or Parca (cycle frames included).
    #[arg(long, value_name = "FILE")]
    pub pprof: Option<PathBuf>,

    /// Also write one self-contained HTML page to FILE (no network, no other
    /// files): the flame graph (zoom, search), a table of the cycles, and a
    /// drawing of each cycle's own call graph: who calls whom inside it,
    /// where it is entered, where it leaves.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// The folded profile for other viewers.
    #[command(flatten)]
    pub viewers: ViewerArgs,

    /// How the flame graph looks.
    #[command(flatten)]
    pub render: RenderArgs,
}

/// The folded profile for other profilers' viewers: shared by `fold`,
/// `report`, `record` and `cargo autofold`.
#[derive(Debug, Args)]
pub struct ViewerArgs {
    /// Also write the folded profile to FILE in speedscope's format (JSON),
    /// one profile per thread of a recording (samples in time order), else
    /// per process name, each cycle one frame with its members in the
    /// frame's file: open it in speedscope.app ("Browse") for its time
    /// order, left-heavy and sandwich views.
    #[arg(long, value_name = "FILE")]
    pub speedscope: Option<PathBuf>,

    /// Also write the folded profile to FILE in the Firefox Profiler's
    /// format (gzipped where FILE ends in .gz), a recording's processes and
    /// threads with their sample times (else one thread per process name),
    /// cycle frames in a "Recursion cycle" category: open it with
    /// `samply load FILE` or profiler.firefox.com ("Load a profile from
    /// file") for its call tree, flame graph and stack chart.
    #[arg(long, value_name = "FILE")]
    pub firefox: Option<PathBuf>,
}

impl ViewerArgs {
    /// Whether a viewer's file is asked for: a recording then keeps its
    /// samples' times and threads for it.
    pub fn wanted(&self) -> bool {
        self.speedscope.is_some() || self.firefox.is_some()
    }
}

/// How the flame graph looks (names and meanings as in cargo-flamegraph).
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Title of the flame graph [default: "Flame graph: N recursion cycles folded"].
    #[arg(long)]
    pub title: Option<String>,

    /// Colour palette for frames that are not cycles (inferno's names: hot,
    /// mem, io, red, green, blue, aqua, yellow, purple, orange, wakeup, java,
    /// perl, js, rust). Cycle frames are always blue.
    #[arg(long, default_value = "hot")]
    pub palette: Palette,

    /// Plot the flame graph upside down (icicle graph).
    #[arg(long)]
    pub inverted: bool,

    /// Omit frames narrower than this many pixels.
    #[arg(long, default_value_t = 0.1, value_name = "PIXELS")]
    pub min_width: f64,

    /// Image width in pixels [default: inferno's, 1200].
    #[arg(long, value_name = "PIXELS")]
    pub image_width: Option<usize>,

    /// Reverse every stack, leaf first: what calls the functions at the
    /// top of the flame graph ("who calls this"). Cycle frames stay blue and
    /// keep their members in their tooltips.
    #[arg(long)]
    pub reverse: bool,

    /// Notes to embed in the SVG (a comment at its top).
    #[arg(long, value_name = "STRING")]
    pub notes: Option<String>,

    /// Font size in points.
    #[arg(long, value_name = "POINTS", default_value_t = defaults::FONT_SIZE)]
    pub font_size: usize,

    /// Height of a frame in pixels.
    #[arg(long, value_name = "PIXELS", default_value_t = defaults::FRAME_HEIGHT)]
    pub frame_height: usize,

    /// What a count is called in tooltips.
    #[arg(long, value_name = "NAME", default_value = defaults::COUNT_NAME)]
    pub count_name: String,
}

impl RenderArgs {
    /// The renderer's options.
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            title: self.title.clone(),
            palette: self.palette,
            inverted: self.inverted,
            min_width: self.min_width,
            image_width: self.image_width,
            reverse: self.reverse,
            notes: self.notes.clone().unwrap_or_default(),
            font_size: self.font_size,
            frame_height: self.frame_height,
            count_name: self.count_name.clone(),
        }
    }
}

/// `autofold record`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["command", "pid", "perf_data"])))]
pub struct RecordArgs {
    /// The command to profile, with its arguments (after `--`).
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,

    /// Attach to a running process instead of running a command; stop with Ctrl-C.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,

    /// Skip recording: process this existing perf.data.
    #[arg(long, value_name = "FILE")]
    pub perf_data: Option<PathBuf>,

    /// How to record, fold and write.
    #[command(flatten)]
    pub profiling: ProfilingArgs,
}

impl RecordArgs {
    /// What to profile.
    pub fn target(&self) -> Target {
        match (&self.pid, &self.perf_data) {
            (Some(pid), _) => Target::Pid(*pid),
            (None, Some(data)) => Target::PerfData(data.clone()),
            (None, None) => Target::Command(self.command.clone()),
        }
    }
}

/// How to record, fold and write a profile: every option of `autofold
/// record` except what to profile. `cargo autofold` flattens the same
/// struct, so the two commands take the same flags.
#[derive(Debug, Args)]
pub struct ProfilingArgs {
    /// Record with the perf binary (`perf record`, writing a perf.data to a
    /// temporary directory, about 64 KB a sample with DWARF call graphs)
    /// instead of autofold's own sampler. The perf binary is $PERF if set,
    /// else `perf` on PATH.
    #[arg(long)]
    pub perf: bool,

    /// Record with the perf binary (as --perf) and keep its perf.data in
    /// FILE, for `perf script` or `perf report` (it grows by about 64 KB a
    /// sample with DWARF call graphs).
    #[arg(long, value_name = "FILE")]
    pub keep_perf_data: Option<PathBuf>,

    /// Write the flame graph to FILE.
    #[arg(short, long, value_name = "FILE", default_value = "flamegraph.svg")]
    pub output: PathBuf,

    /// Also write the folded stacks to FILE.
    #[arg(long, value_name = "FILE")]
    pub folded: Option<PathBuf>,

    /// Also write the cycle report to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Also write the folded profile to FILE as gzipped pprof, for `go tool
    /// pprof`, Pyroscope or Parca (cycle frames included).
    #[arg(long, value_name = "FILE")]
    pub pprof: Option<PathBuf>,

    /// Also write one self-contained HTML page to FILE (no network, no other
    /// files): the flame graph (zoom, search), a table of the cycles, and a
    /// drawing of each cycle's own call graph: who calls whom inside it,
    /// where it is entered, where it leaves.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// The folded profile for other viewers.
    #[command(flatten)]
    pub viewers: ViewerArgs,

    /// Sampling frequency in Hz.
    #[arg(short = 'F', long, default_value_t = 997)]
    pub freq: u32,

    /// How call chains are collected: a copy of each sample's stack
    /// unwound by DWARF, frame pointers walked by the kernel, or Intel's LBR
    /// (through the perf binary, as --perf).
    #[arg(long, value_enum, default_value_t = CallGraph::Dwarf)]
    pub call_graph: CallGraph,

    /// Leave inlined functions out: each frame is the function its code was
    /// compiled into. By default every inlined call is a frame, as in perf
    /// script.
    #[arg(long)]
    pub no_inline: bool,

    /// Turn the recording into stacks with `perf script` (and inferno's
    /// perf collapser), as autofold did before it read perf.data itself:
    /// slower (minutes on big binaries, for inline frames), and blind to
    /// JIT code, but perf's own names. Records with the perf binary (implies
    /// --perf).
    #[arg(long)]
    pub perf_script: bool,

    /// Exit 0 even when the profiled command fails (1 if it failed before
    /// it could be sampled; still 127 or 126 if it could not be run).
    #[arg(long)]
    pub ignore_status: bool,

    /// Leave JIT runtimes alone. By default a command run by `node`,
    /// `java` (or `javac`, `jshell`) or `python3` gets the runtime's own
    /// switches for perf in its environment (`NODE_OPTIONS`,
    /// `JAVA_TOOL_OPTIONS`, `PYTHONPERFSUPPORT`, added to what is set, said
    /// in a note), and a JVM recorded with `--pid` is asked for its perf
    /// map. A CPython before 3.12, which cannot name its functions to perf,
    /// is recorded through py-spy where it is installed ($PYSPY, else
    /// PATH; not with --perf, --perf-script, --keep-perf-data or LBR):
    /// with this flag, with perf events like any program.
    #[arg(long)]
    pub no_jit_setup: bool,

    /// Also record where the command waits, and for how long: every time a
    /// thread leaves the CPU to wait (sleep, I/O, a lock, a child), its
    /// stack, ending in the frame `[off-cpu]`, weighed by the time it stayed
    /// off. One flame graph of wall-clock time, in microseconds; each
    /// cycle's on-CPU and off-CPU time in the report. No BPF, no root:
    /// the kernel's context-switch events, as for sampling. autofold's own
    /// sampler only (not with --perf, --keep-perf-data, --perf-script).
    #[arg(long, conflicts_with_all = ["perf", "keep_perf_data", "perf_script"])]
    pub off_cpu: bool,

    /// With --off-cpu, leave out waits shorter than DURATION (such as
    /// 100us, 2ms, 1s); a note says how many there were and how much time
    /// they held. By default every wait is kept.
    #[arg(long, value_name = "DURATION", requires = "off_cpu", value_parser = duration)]
    pub off_cpu_min: Option<Duration>,

    /// How cycles are found and folded.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// How the flame graph looks.
    #[command(flatten)]
    pub render: RenderArgs,
}

impl ProfilingArgs {
    /// How to record.
    pub fn record_options(&self) -> RecordOptions {
        RecordOptions {
            with_perf: self.perf,
            perf: perf_binary(),
            freq: self.freq,
            call_graph: self.call_graph,
            no_inline: self.no_inline,
            perf_script: self.perf_script,
            keep_perf_data: self.keep_perf_data.clone(),
            jit_setup: !self.no_jit_setup,
            off_cpu: self.off_cpu,
            off_cpu_min: self.off_cpu_min.unwrap_or_default(),
            timeline: self.viewers.wanted(),
        }
    }

    /// The engine options these arguments ask for (who calls whom inside
    /// each cycle is gathered for the HTML page).
    pub fn engine_options(&self) -> Result<EngineOptions> {
        for_page(self.engine.options()?, self.html.is_some(), true)
    }

    /// The files to write: the flame graph always, the rest on request.
    pub fn exports(&self) -> Exports {
        Exports {
            folded: self.folded.clone().map(Destination::File),
            svg: Some(self.output.clone()),
            report: self.report.clone(),
            pprof: self.pprof.clone(),
            html: self.html.clone(),
            speedscope: self.viewers.speedscope.clone(),
            firefox: self.viewers.firefox.clone(),
            render: self.render.options(),
        }
    }
}

impl FoldArgs {
    /// How to read the inputs: a recording's timeline kept for the viewers'
    /// files, if asked.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            timeline: self.viewers.wanted(),
            ..self.input.read_options()
        }
    }

    /// The engine options these arguments ask for (who calls whom inside
    /// each cycle is gathered for the HTML page).
    pub fn engine_options(&self) -> Result<EngineOptions> {
        for_page(self.input.engine_options()?, self.html.is_some(), true)
    }

    /// The files to write: folded stacks always, SVG and report on request.
    pub fn exports(&self) -> Exports {
        Exports {
            folded: Some(match &self.output {
                Some(path) => Destination::File(path.clone()),
                None => Destination::Stdout,
            }),
            svg: self.svg.clone(),
            report: self.report.clone(),
            pprof: self.pprof.clone(),
            html: self.html.clone(),
            speedscope: self.viewers.speedscope.clone(),
            firefox: self.viewers.firefox.clone(),
            render: self.render.options(),
        }
    }
}

/// `autofold report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The profiles to read, and how.
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Also write one self-contained HTML page to FILE (no network, no other
    /// files): the flame graph (zoom, search), a table of the cycles, and a
    /// drawing of each cycle's own call graph: who calls whom inside it,
    /// where it is entered, where it leaves.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// The folded profile for other viewers.
    #[command(flatten)]
    pub viewers: ViewerArgs,
}

impl ReportArgs {
    /// How to read the inputs: a recording's timeline kept for the viewers'
    /// files, if asked.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            timeline: self.viewers.wanted(),
            ..self.input.read_options()
        }
    }

    /// The engine options these arguments ask for (who calls whom inside
    /// each cycle is gathered for the HTML page).
    pub fn engine_options(&self) -> Result<EngineOptions> {
        for_page(self.input.engine_options()?, self.html.is_some(), true)
    }

    /// The files to write besides the printed report: the HTML page and
    /// the viewers' files, if asked.
    pub fn exports(&self) -> Exports {
        Exports {
            html: self.html.clone(),
            speedscope: self.viewers.speedscope.clone(),
            firefox: self.viewers.firefox.clone(),
            ..Exports::default()
        }
    }
}

/// `autofold completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `autofold man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every man page into DIR (created if missing) instead of
    /// printing autofold's own page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `autofold diff`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("sides").required(true).args(["before_profile", "before"])))]
pub struct DiffArgs {
    /// The profile before the change: folded stacks or `perf script` output
    /// (`-` for standard input).
    #[arg(value_name = "BEFORE", requires = "after_profile")]
    pub before_profile: Option<PathBuf>,

    /// The profile after the change.
    #[arg(value_name = "AFTER")]
    pub after_profile: Option<PathBuf>,

    /// A file of the profile before, instead of BEFORE AFTER (repeatable:
    /// several are merged).
    #[arg(
        long,
        value_name = "FILE",
        requires = "after",
        conflicts_with = "before_profile"
    )]
    pub before: Vec<PathBuf>,

    /// A file of the profile after (repeatable: several are merged).
    #[arg(
        long,
        value_name = "FILE",
        requires = "before",
        conflicts_with = "before_profile"
    )]
    pub after: Vec<PathBuf>,

    /// Write the differential flame graph to FILE.
    #[arg(short, long, value_name = "FILE", default_value = "diff.svg")]
    pub output: PathBuf,

    /// Scale the before profile's counts to the after profile's total (as
    /// `inferno-diff-folded --normalize`), so a longer or shorter recording
    /// does not colour everything red or blue. Done by default when the
    /// totals differ by more than a tenth (the page and the subtitle say
    /// so); this flag does it always. The report compares shares, which
    /// this does not change.
    #[arg(long)]
    pub normalize: bool,

    /// Never scale the before profile's counts, even when the totals differ
    /// by more than a tenth: colours then show absolute growth.
    #[arg(long, conflicts_with = "normalize")]
    pub no_normalize: bool,

    /// Format of the report printed to standard output.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Also write one self-contained HTML page to FILE: the differential
    /// flame graph, each cycle's share before and after, and a drawing of
    /// each cycle's call graph (as the after side shows it).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Also write both folded profiles to FILE as one speedscope file
    /// (JSON): the before side's profiles, then the after side's, named
    /// `before: …` and `after: …`, each cycle one frame on both sides.
    #[arg(long, value_name = "FILE")]
    pub speedscope: Option<PathBuf>,

    /// How the inputs are read.
    #[command(flatten)]
    pub read: ReadArgs,

    /// How cycles are found and folded.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// How the flame graph looks.
    #[command(flatten)]
    pub render: RenderArgs,
}

impl DiffArgs {
    /// The sources of the before and the after profile.
    pub fn sides(&self) -> Result<(Vec<Source>, Vec<Source>)> {
        let side = |profile: &Option<PathBuf>, files: &[PathBuf]| -> Vec<Source> {
            profile
                .iter()
                .chain(files)
                .map(|f| Source::from_arg(f))
                .collect()
        };
        let before = side(&self.before_profile, &self.before);
        let after = side(&self.after_profile, &self.after);
        let stdin = before.iter().chain(&after).filter(|s| **s == Source::Stdin);
        if stdin.count() > 1 {
            anyhow::bail!("only one input of `autofold diff` can be standard input (`-`)");
        }
        Ok((before, after))
    }

    /// How the two sides are compared and named in the flame graph.
    pub fn diff_options(&self, before: &[Source], after: &[Source]) -> DiffOptions {
        let names = |sources: &[Source]| {
            sources
                .iter()
                .map(Source::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        DiffOptions {
            normalize: self.normalize,
            no_normalize: self.no_normalize,
            before_name: names(before),
            after_name: names(after),
            output: self.output.clone(),
            html: self.html.clone(),
            speedscope: self.speedscope.clone(),
            format: self.format,
            inputs: [before, after].concat(),
        }
    }

    /// The engine options these arguments ask for (who calls whom inside
    /// each cycle is gathered for the HTML page).
    pub fn engine_options(&self) -> Result<EngineOptions> {
        for_page(self.engine.options()?, self.html.is_some(), false)
    }
}

/// `options`, gathering what the HTML page shows when there is one: who
/// calls whom inside each cycle, and (`refold`) the profile before the fold,
/// for the page to unfold a cycle.
fn for_page(mut options: EngineOptions, page: bool, refold: bool) -> Result<EngineOptions> {
    options.fold.calls = page;
    options.refold = page && refold;
    Ok(options)
}

/// A duration as a user writes it: a number and a unit (`ns`, `us` or
/// `µs`, `ms`, `s`), such as `100us` or `1.5ms`.
fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanoseconds_per = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "" => {
            return Err(format!(
                "{text:?} has no unit: write it as 100us, 2ms or 1s"
            ));
        }
        other => return Err(format!("unknown unit {other:?}: use ns, us, ms or s")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 100us, 2ms or 1s"))?;
    Ok(Duration::from_nanos(
        (value * nanoseconds_per).round() as u64
    ))
}

#[cfg(test)]
mod duration_tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(duration("1.5ms"), Ok(Duration::from_micros(1500)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(duration("3µs"), Ok(Duration::from_micros(3)));
        assert!(duration("100").unwrap_err().contains("no unit"));
        assert!(duration("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(duration("ms").is_err());
    }
}
