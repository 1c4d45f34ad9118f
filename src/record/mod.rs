//! `autofold record`: three ways in, one way out. A command or a running
//! process is sampled by autofold's own sampler ([`sampler`]: the kernel's
//! perf events, no perf binary, no file), or recorded by `perf record`
//! ([`perf`], with `--perf`); an existing perf.data is read as it is. Both
//! the sampler's records and a perf.data file's go through the same reader
//! (`perf_records`: processes, mappings, unwinding, symbols), or with
//! `--perf-script` through `perf script` ([`perf_script`]).
//!
//! This is a thin front end: what it produces is an ordinary [`Profile`] for
//! the same engine that `fold` and `report` use. A command is checked
//! before either recorder starts, and autofold's exit code follows a
//! shell's ([`exit_code`]: 127, 126, the command's own).
//!
//! A CPython before 3.12 cannot name its functions to perf: it is recorded
//! through py-spy where py-spy is installed ([`py_spy`], [`python_version`]).

pub mod exit_code;
pub mod jit_setup;
pub mod jvm;
pub mod perf;
pub mod perf_script;
pub mod py_spy;
pub mod python_version;
pub mod sampler;

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::console::note;
use crate::files::move_output;
use crate::perf_records::{self, read_in_process};
use crate::profile::{InputInfo, ProfileBuilder, ReadProfile};
use crate::record::exit_code::{check_command, no_samples};
use crate::record::perf::{check_perf, perf_record};
use crate::record::perf_script::perf_script;

/// The largest user-stack dump perf can take per sample (bytes).
pub const DWARF_STACK_DUMP: u32 = 65528;

/// How deep `perf script` unwinds: far past perf's default of 127 frames.
pub const MAX_STACK: u32 = 65535;

/// How perf collects call chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallGraph {
    /// DWARF unwinding of a copied user stack: works without frame pointers.
    Dwarf,
    /// Frame pointers: cheap, needs `-C force-frame-pointers` / `-fno-omit-frame-pointer`.
    Fp,
    /// Last Branch Record (Intel hardware only).
    Lbr,
}

impl CallGraph {
    fn perf_arg(self) -> String {
        match self {
            CallGraph::Dwarf => format!("dwarf,{DWARF_STACK_DUMP}"),
            CallGraph::Fp => "fp".into(),
            CallGraph::Lbr => "lbr".into(),
        }
    }
}

/// What to profile.
#[derive(Debug, Clone)]
pub enum Target {
    /// Run this command (program and arguments) under perf.
    Command(Vec<OsString>),
    /// Attach to a running process until Ctrl-C.
    Pid(u32),
    /// Skip recording: use this existing `perf.data`.
    PerfData(PathBuf),
}

/// How to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Record with the perf binary (`perf record`) rather than autofold's
    /// own sampler.
    pub with_perf: bool,
    /// The perf binary.
    pub perf: OsString,
    /// Samples per second.
    pub freq: u32,
    /// How call chains are collected.
    pub call_graph: CallGraph,
    /// Leave inlined functions out (each frame is the function its code
    /// belongs to).
    pub no_inline: bool,
    /// Turn the recording into stacks with `perf script` (and inferno's
    /// perf collapser) instead of reading it in-process.
    pub perf_script: bool,
    /// Where to keep the recording; removed after use when `None`.
    pub keep_perf_data: Option<PathBuf>,
    /// Set the switches a JIT runtime (node, java, python3) needs to be
    /// seen by perf in the command's environment, and ask a running JVM
    /// for its perf map (`jit_setup.rs`, `jvm.rs`).
    pub jit_setup: bool,
    /// Also record where threads wait, and for how long (`--off-cpu`):
    /// weights become microseconds of wall-clock time.
    pub off_cpu: bool,
    /// Off-CPU stretches shorter than this are left out (`--off-cpu-min`).
    pub off_cpu_min: Duration,
    /// Keep every sample's time, thread and stack beside the profile, for
    /// the viewers' exports (`--firefox`, `--speedscope`).
    pub timeline: bool,
}

impl Default for RecordOptions {
    /// perf from `$PERF` or `PATH`, 997 Hz, DWARF call graphs, inline frames
    /// resolved, the recording not kept; recorded by autofold's sampler.
    fn default() -> Self {
        Self {
            with_perf: false,
            perf: perf_binary(),
            freq: 997,
            call_graph: CallGraph::Dwarf,
            no_inline: false,
            perf_script: false,
            keep_perf_data: None,
            jit_setup: true,
            off_cpu: false,
            off_cpu_min: Duration::ZERO,
            timeline: false,
        }
    }
}

impl RecordOptions {
    /// Whether `perf record` records: when asked, and for what only perf
    /// can do (a perf.data to keep, `perf script`, LBR call chains).
    pub fn records_with_perf(&self) -> bool {
        self.with_perf
            || self.perf_script
            || self.keep_perf_data.is_some()
            || self.call_graph == CallGraph::Lbr
    }

    /// How the records are turned into stacks.
    pub fn read_options(&self) -> perf_records::Options {
        perf_records::Options {
            inline: !self.no_inline,
            perf_compat: false,
            off_cpu: self.off_cpu.then_some(perf_records::OffCpuOptions {
                min_ns: u64::try_from(self.off_cpu_min.as_nanos()).unwrap_or(u64::MAX),
            }),
            timeline: self.timeline,
        }
    }
}

/// A finished recording, turned into a profile.
#[derive(Debug)]
pub struct Recording {
    /// The collapsed stacks.
    pub profile: ReadProfile,
    /// The profiled command's exit status, when autofold ran it.
    pub status: Option<ExitStatus>,
}

/// The perf binary: `$PERF` if set, else `perf` on `PATH`.
pub fn perf_binary() -> OsString {
    std::env::var_os("PERF").unwrap_or_else(|| "perf".into())
}

/// Records `target` and collapses the recording into a profile.
pub fn record(target: &Target, options: &RecordOptions) -> Result<Recording> {
    check_off_cpu(target, options)?;
    let mut options = Cow::Borrowed(options);
    // Off-CPU time needs the kernel's switch events: py-spy has none.
    if !options.off_cpu
        && let Some(python) = py_spy::python_without_perf_names(target, &options)
    {
        match py_spy::py_spy_for(&python, &options) {
            Some(py_spy) => return with_samples(py_spy::record(target, &py_spy, &options)?),
            // Nothing to set up in an interpreter that cannot name its
            // functions to perf: one note said so.
            None => options.to_mut().jit_setup = false,
        }
    }
    let options = options.as_ref();
    let recording = match target {
        Target::Command(command) if !options.records_with_perf() => {
            check_command(&command[0])?;
            let env = jit_environment(command, options);
            sampler::record_command(command, &env, options)?
        }
        Target::Pid(pid) if !options.records_with_perf() => {
            check_pid(*pid)?;
            if let Some(line) = python_version::attach_note(*pid) {
                note(line);
            }
            sampler::record_pid(*pid, options)?
        }
        _ => return record_with_perf(target, options),
    };
    with_samples(recording)
}

/// `recording`, or the error that it holds no samples.
fn with_samples(recording: Recording) -> Result<Recording> {
    if recording.profile.profile.total_samples() == 0 {
        let message = format!("recorded no samples: {TOO_BRIEF}");
        return Err(no_samples(recording.status, message));
    }
    Ok(recording)
}

/// Fails when `--off-cpu` is asked of what cannot give it: it needs
/// autofold's own sampler, recording now.
fn check_off_cpu(target: &Target, options: &RecordOptions) -> Result<()> {
    if !options.off_cpu {
        return Ok(());
    }
    if matches!(target, Target::PerfData(_)) {
        bail!(
            "--off-cpu records where threads wait as it samples; it cannot be used with --perf-data"
        );
    }
    if options.records_with_perf() {
        bail!(
            "--off-cpu records with autofold's own sampler; leave out --perf, --keep-perf-data, --perf-script and --call-graph lbr"
        );
    }
    Ok(())
}

/// Why a recording may hold no samples, and what to try.
const TOO_BRIEF: &str = "the command probably ran too briefly for -F (try a longer run or a higher --freq), or the process was idle";

/// Fails when there is no process `pid`.
fn check_pid(pid: u32) -> Result<()> {
    if !Path::new(&format!("/proc/{pid}")).exists() {
        bail!("no process with pid {pid} is running");
    }
    Ok(())
}

/// Records `target` with `perf record` (or takes its perf.data), and reads
/// the recording.
fn record_with_perf(target: &Target, options: &RecordOptions) -> Result<Recording> {
    if !matches!(target, Target::PerfData(_)) {
        check_perf(&options.perf)?;
    }
    let temp = tempfile::tempdir().context("cannot create a temporary directory for perf.data")?;
    let (data, status) = match target {
        Target::PerfData(path) => {
            std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?;
            (path.clone(), None)
        }
        Target::Command(command) => {
            check_command(&command[0])?;
            let data = temp.path().join("perf.data");
            let env = jit_environment(command, options);
            let status = perf_record(options, &data, command_args(command), &env)?;
            (data, Some(status))
        }
        Target::Pid(pid) => {
            check_pid(*pid)?;
            let data = temp.path().join("perf.data");
            eprintln!("autofold: recording process {pid}; press Ctrl-C to stop");
            let pid_args = vec!["--pid".into(), pid.to_string().into()];
            perf_record(options, &data, pid_args, &[])?;
            if options.jit_setup {
                jvm::write_perf_map(*pid);
            }
            (data, None)
        }
    };
    let kept = options
        .keep_perf_data
        .as_ref()
        .filter(|_| !matches!(target, Target::PerfData(_)));
    let name = recording_name(target, kept, &data);
    let profile = profile_of_recording(&data, &name, options);
    if let Some(keep) = kept {
        // Kept whether or not it could be read: a recording that cannot be
        // read is one to look at.
        move_output(&data, keep, &[])?;
    }
    let profile = profile?;
    if profile.profile().total_samples() == 0 {
        let message = format!("perf recorded no samples in {name}: {TOO_BRIEF} or the pid wrong");
        return Err(no_samples(status, message));
    }
    Ok(Recording {
        profile: profile.finish(),
        status,
    })
}

/// What a recording through perf is called in messages and the report's
/// inputs: the perf.data kept or given, else what was recorded (the
/// temporary perf.data is gone by the time anyone reads them).
fn recording_name(target: &Target, kept: Option<&PathBuf>, data: &Path) -> String {
    match (kept, target) {
        (Some(path), _) => path.display().to_string(),
        (None, Target::Command(command)) => command_line(command),
        (None, Target::Pid(pid)) => format!("pid {pid}"),
        (None, Target::PerfData(_)) => data.display().to_string(),
    }
}

/// The command as one line, for messages and the report's inputs.
pub(crate) fn command_line(command: &[OsString]) -> String {
    command
        .iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stacks of the perf.data at `data` (called `name` in messages): what
/// `record` does once perf has recorded, and what `fold` and `report` do
/// with a perf.data input. Read in-process, or by `perf script` when asked.
/// Errors name the recording.
pub fn profile_of_recording(
    data: &Path,
    name: &str,
    options: &RecordOptions,
) -> Result<ProfileBuilder> {
    let mut profile = if options.perf_script {
        check_perf(&options.perf)?;
        perf_script(options, data)?
    } else {
        read_in_process(data, name, &options.read_options()).with_context(|| name.to_string())?
    };
    profile.add_input(InputInfo {
        source: name.to_string(),
        format: "perf.data".into(),
        root_labels: true,
    });
    Ok(profile)
}

/// The variables to add to `command`'s environment for its JIT runtime,
/// said in a note; none with `--no-jit-setup`.
fn jit_environment(command: &[OsString], options: &RecordOptions) -> Vec<(OsString, OsString)> {
    if !options.jit_setup {
        return Vec::new();
    }
    let lookup = |name: &str| std::env::var_os(name);
    match jit_setup::jit_setup(command, &lookup) {
        Some(setup) => {
            note(setup.note);
            setup.env
        }
        None => Vec::new(),
    }
}

fn command_args(command: &[OsString]) -> Vec<OsString> {
    let mut args = vec![OsString::from("--")];
    args.extend(command.iter().cloned());
    args
}
