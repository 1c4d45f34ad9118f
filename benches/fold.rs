//! Speed and memory of `autofold fold` against `inferno-collapse-recursive`,
//! on profiles of several shapes.
//!
//! Run with `cargo bench --bench fold`. For each shape of [`synth::SHAPES`]
//! (deep and shallow recursion; few and many distinct stacks once folded;
//! helpers called from inside the recursion; fresh, pooled and repeated
//! lines; sorted and unsorted) it generates the profile in a temporary
//! directory, runs the tools on it in turn, and prints the medians of wall
//! time and peak resident memory against the goals:
//!
//! * `autofold fold` takes at most half the time of
//!   `inferno-collapse-recursive`, on every shape;
//! * `autofold fold --svg` takes at most a fifth of the time of
//!   `inferno-collapse-recursive | inferno-flamegraph`;
//! * autofold's peak memory is at most half the input's size, and at most
//!   100 MB on the repeated line (memory grows with distinct stacks).
//!
//! Environment:
//!
//! * `AUTOFOLD_BENCH_SHAPES` — which shapes, by number from 1 (e.g. `1,3`);
//!   default all;
//! * `AUTOFOLD_BENCH_SCALE` — the share of each shape's size to generate
//!   (default 1);
//! * `AUTOFOLD_BENCH_RUNS` — runs of each tool (default 5);
//! * `AUTOFOLD_BENCH_SEED` — generator seed (default 42);
//! * `AUTOFOLD_BENCH_SVG=0` — leave out the flame-graph comparison;
//! * `AUTOFOLD_BENCH_HTML=0` — leave out the `--html` page (written,
//!   weighed and opened in headless Chromium, `html_page.rs`);
//! * `AUTOFOLD_BENCH_KEEP` — a directory to copy the generated profiles to,
//!   for profiling the tools by hand.
//!
//! Run as a test (`cargo test --benches`, without `--bench`), it generates
//! a thousandth of each shape and runs each tool once, as a smoke test.

mod html_page;
mod runner;
mod synth;

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process;
use std::time::Instant;

use runner::{Sample, Tool, env_number, mb, measure, median};
use synth::{SHAPES, Shape};

/// Runs of each tool by default.
const DEFAULT_RUNS: usize = 5;
/// Seed by default.
const DEFAULT_SEED: u64 = 42;
/// Share of each shape generated as a smoke test.
const SMOKE_SCALE: f64 = 0.001;
/// Goal: autofold fold time / inferno-collapse-recursive time at most this.
const FOLD_GOAL: f64 = 0.5;
/// Goal: autofold fold --svg time / inferno's collapse and flame graph at
/// most this.
const SVG_GOAL: f64 = 0.2;
/// Goal: autofold peak RSS / input size at most this.
const MEMORY_GOAL: f64 = 0.5;
/// Goal: autofold's peak RSS on a repeated line, at most this (bytes).
const REPEATED_MEMORY_GOAL: u64 = 100_000_000;

/// What to measure.
struct Config {
    shapes: Vec<usize>,
    scale: f64,
    runs: usize,
    seed: u64,
    svg: bool,
    html: bool,
    /// Whether run by `cargo bench` (not as a smoke test).
    benching: bool,
    keep: Option<PathBuf>,
}

fn main() {
    if let Ok(job) = env::var(GENERATE) {
        return generate_and_exit(&job);
    }
    if let Err(err) = run() {
        eprintln!("fold bench: {err}");
        process::exit(1);
    }
}

/// Measures every shape asked for, then prints the table of all.
fn run() -> io::Result<()> {
    let config = config()?;
    check_deterministic(config.seed)?;
    let inferno = find_inferno();
    if inferno.is_none() {
        println!(
            "inferno-collapse-recursive / inferno-flamegraph not found on PATH or in \
             ~/.cargo/bin; measuring autofold only (`cargo install inferno` to compare)"
        );
    }
    let mut rows = Vec::new();
    for &number in &config.shapes {
        let shape = &SHAPES[number - 1];
        rows.push(measure_shape(number, shape, &config, inferno.as_ref())?);
    }
    print_table(&rows, config.runs);
    let pages: Vec<_> = rows
        .iter()
        .filter_map(|r| r.page.map(|p| (r.number, r.shape.name, p)))
        .collect();
    if !pages.is_empty() && !html_page::print_table(&pages) {
        println!("SOME PAGE GOALS MISSED");
    }
    Ok(())
}

/// The medians measured on one shape.
struct Row {
    number: usize,
    shape: &'static Shape,
    input_bytes: u64,
    fold: Sample,
    inferno: Option<Sample>,
    svg: Option<Sample>,
    inferno_svg: Option<Sample>,
    page: Option<html_page::PageFigures>,
}

/// Generates `shape` and measures the tools on it.
fn measure_shape(
    number: usize,
    shape: &'static Shape,
    config: &Config,
    inferno: Option<&(PathBuf, PathBuf)>,
) -> io::Result<Row> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("profile.folded");
    let started = Instant::now();
    let stats = generate_in_child(number, config, &input)?;
    println!(
        "\nshape {number}: {}: {} lines, {:.1} MB, {:.1} frames a line (generated in {:.1} s)",
        shape.name,
        stats.stacks,
        mb(stats.bytes),
        stats.mean_frames(),
        started.elapsed().as_secs_f64(),
    );
    if let Some(keep) = &config.keep {
        fs::create_dir_all(keep)?;
        fs::copy(&input, keep.join(format!("shape-{number}.folded")))?;
    }
    let out = dir.path();
    let mut tools = vec![autofold_fold(&input, out)];
    if let Some((collapse, _)) = inferno {
        tools.push(inferno_collapse(collapse, &input, out));
    }
    if config.html {
        tools.push(html_page::tool(&input, out));
    }
    if config.svg {
        tools.push(autofold_svg(&input, out));
        if let Some((collapse, flamegraph)) = inferno {
            tools.push(inferno_flamegraph(collapse, flamegraph, &input, out));
        }
    }
    let medians: Vec<Sample> = measure(&tools, config.runs)?
        .iter()
        .map(|s| median(s))
        .collect();
    let find = |name: &str| {
        tools
            .iter()
            .position(|t| t.name == name)
            .map(|i| medians[i])
    };
    let page = match find(html_page::AUTOFOLD_HTML) {
        Some(write) => Some(html_page::figures(
            out,
            write,
            config.runs,
            config.benching,
        )?),
        None => None,
    };
    Ok(Row {
        number,
        shape,
        input_bytes: stats.bytes,
        page,
        fold: find(AUTOFOLD_FOLD).expect("autofold is always measured"),
        inferno: find(INFERNO_COLLAPSE),
        svg: find(AUTOFOLD_SVG),
        inferno_svg: find(INFERNO_SVG),
    })
}

/// The environment variable that makes this program a generator.
const GENERATE: &str = "AUTOFOLD_BENCH_GENERATE";

/// Generates shape `number` into `path` in a process of its own: sorting a
/// shape holds it in memory, and a process's peak memory is counted into
/// the peaks of the tools it starts afterwards.
fn generate_in_child(number: usize, config: &Config, path: &Path) -> io::Result<synth::Stats> {
    let job = format!(
        "{number} {} {} {}",
        config.scale,
        config.seed,
        path.display()
    );
    let output = process::Command::new(env::current_exe()?)
        .env(GENERATE, job)
        .stderr(process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "generating shape {number} failed"
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [stacks, frames, bytes, samples] => Ok(synth::Stats {
            stacks,
            frames,
            bytes,
            samples,
        }),
        _ => Err(io::Error::other(format!("the generator said {text:?}"))),
    }
}

/// Generates one shape as `NUMBER SCALE SEED PATH` says, prints its
/// figures (`stacks frames bytes samples`) and exits.
fn generate_and_exit(job: &str) {
    let result = (|| -> io::Result<synth::Stats> {
        let mut parts = job.splitn(4, ' ');
        let mut field = || parts.next().ok_or_else(|| io::Error::other("short job"));
        let number: usize = field()?.parse().map_err(io::Error::other)?;
        let scale: f64 = field()?.parse().map_err(io::Error::other)?;
        let seed: u64 = field()?.parse().map_err(io::Error::other)?;
        let path = PathBuf::from(field()?);
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        synth::write_profile(&SHAPES[number - 1], scale, seed, &mut out)
    })();
    match result {
        Ok(s) => println!("{} {} {} {}", s.stacks, s.frames, s.bytes, s.samples),
        Err(err) => {
            eprintln!("fold bench generator: {err}");
            process::exit(1);
        }
    }
}

/// Reads the configuration from the environment; a smoke test when not run
/// by `cargo bench` (which passes `--bench`).
fn config() -> io::Result<Config> {
    let benching = env::args().any(|arg| arg == "--bench");
    let (scale, runs) = match benching {
        true => (1.0, DEFAULT_RUNS),
        false => (SMOKE_SCALE, 1),
    };
    let shapes = match env::var("AUTOFOLD_BENCH_SHAPES") {
        Ok(list) => parse_shapes(&list)?,
        Err(_) => (1..=SHAPES.len()).collect(),
    };
    Ok(Config {
        shapes,
        scale: env_number("AUTOFOLD_BENCH_SCALE", scale)?,
        runs: env_number("AUTOFOLD_BENCH_RUNS", runs)?.max(1),
        seed: env_number("AUTOFOLD_BENCH_SEED", DEFAULT_SEED)?,
        svg: env::var("AUTOFOLD_BENCH_SVG").map_or(true, |v| v != "0"),
        html: env::var("AUTOFOLD_BENCH_HTML").map_or(true, |v| v != "0"),
        benching,
        keep: env::var_os("AUTOFOLD_BENCH_KEEP").map(PathBuf::from),
    })
}

/// Shape numbers from `1,3,5`.
fn parse_shapes(list: &str) -> io::Result<Vec<usize>> {
    list.split(',')
        .map(|n| match n.trim().parse::<usize>() {
            Ok(n) if (1..=SHAPES.len()).contains(&n) => Ok(n),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "AUTOFOLD_BENCH_SHAPES: {n:?} is not a shape number from 1 to {}",
                    SHAPES.len()
                ),
            )),
        })
        .collect()
}

/// Checks that the generator gives the same bytes twice for one seed.
fn check_deterministic(seed: u64) -> io::Result<()> {
    for shape in SHAPES {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        synth::write_profile(shape, SMOKE_SCALE / 10.0, seed, &mut first)?;
        synth::write_profile(shape, SMOKE_SCALE / 10.0, seed, &mut second)?;
        if first != second {
            return Err(io::Error::other(format!(
                "the profile generator is not deterministic ({})",
                shape.name
            )));
        }
    }
    Ok(())
}

const AUTOFOLD_FOLD: &str = "autofold fold";
const INFERNO_COLLAPSE: &str = "inferno-collapse-recursive";
const AUTOFOLD_SVG: &str = "autofold fold --svg";
const INFERNO_SVG: &str = "inferno collapse | flamegraph";

/// `autofold fold INPUT -o OUTPUT`.
fn autofold_fold(input: &Path, dir: &Path) -> Tool {
    let out = dir.join("autofold.out");
    let args = vec!["fold".into(), input.into(), "-o".into(), out.clone().into()];
    autofold(AUTOFOLD_FOLD, args, vec![out], dir)
}

/// `autofold fold INPUT --svg SVG -o OUTPUT`.
fn autofold_svg(input: &Path, dir: &Path) -> Tool {
    let (svg, folded) = (dir.join("autofold.svg"), dir.join("autofold-svg.out"));
    let args = vec![
        "fold".into(),
        input.into(),
        "--svg".into(),
        svg.clone().into(),
        "-o".into(),
        folded.clone().into(),
    ];
    autofold(AUTOFOLD_SVG, args, vec![svg, folded], dir)
}

fn autofold(name: &'static str, args: Vec<OsString>, outputs: Vec<PathBuf>, dir: &Path) -> Tool {
    Tool {
        name,
        program: PathBuf::from(env!("CARGO_BIN_EXE_autofold")),
        args,
        stdout: None,
        stderr: dir.join("autofold.err"),
        outputs,
    }
}

/// `inferno-collapse-recursive INPUT > OUTPUT`.
fn inferno_collapse(program: &Path, input: &Path, dir: &Path) -> Tool {
    Tool {
        name: INFERNO_COLLAPSE,
        program: program.to_path_buf(),
        args: vec![input.into()],
        stdout: Some(dir.join("inferno.out")),
        stderr: dir.join("inferno.err"),
        outputs: Vec::new(),
    }
}

/// `sh -c 'inferno-collapse-recursive INPUT | inferno-flamegraph > SVG'`:
/// the time of the whole pipeline, the memory of its largest process.
fn inferno_flamegraph(collapse: &Path, flamegraph: &Path, input: &Path, dir: &Path) -> Tool {
    let script = "\"$1\" \"$3\" | \"$2\" > \"$4\"";
    Tool {
        name: INFERNO_SVG,
        program: PathBuf::from("/bin/sh"),
        args: vec![
            "-c".into(),
            script.into(),
            "sh".into(),
            collapse.into(),
            flamegraph.into(),
            input.into(),
            dir.join("inferno.svg").into(),
        ],
        stdout: None,
        stderr: dir.join("inferno-svg.err"),
        outputs: vec![dir.join("inferno.svg")],
    }
}

/// inferno's `inferno-collapse-recursive` and `inferno-flamegraph`, on PATH
/// or in ~/.cargo/bin.
fn find_inferno() -> Option<(PathBuf, PathBuf)> {
    Some((
        runner::find_program("inferno-collapse-recursive")?,
        runner::find_program("inferno-flamegraph")?,
    ))
}

/// Prints every shape's medians and ratios against the goals.
fn print_table(rows: &[Row], runs: usize) {
    println!("\nmedians of {runs} run(s); ratios against the goals (PASS/MISS)\n");
    println!(
        "{:<34} {:>7} {:>8} {:>12} {:>7} {:>8} {:>12} {:>12} {:>7}",
        "shape",
        "fold s",
        "inferno",
        "fold/inferno",
        "svg s",
        "inferno",
        "svg/inferno",
        "fold RSS MB",
        "svg RSS"
    );
    let mut all_pass = true;
    for row in rows {
        let fold_ratio = row.inferno.map(|i| row.fold.seconds / i.seconds);
        let svg_ratio = row
            .svg
            .zip(row.inferno_svg)
            .map(|(a, i)| a.seconds / i.seconds);
        let rss = row.fold.max_rss_bytes;
        let memory_ok = match row.shape.repeats {
            synth::Repeats::One => rss <= REPEATED_MEMORY_GOAL,
            _ => rss as f64 <= MEMORY_GOAL * row.input_bytes as f64,
        };
        let verdicts = [
            fold_ratio.is_none_or(|r| r <= FOLD_GOAL),
            svg_ratio.is_none_or(|r| r <= SVG_GOAL),
            memory_ok,
        ];
        all_pass &= verdicts.iter().all(|&v| v);
        println!(
            "{:<34} {:>7.2} {:>8} {:>7} {:<4} {:>7} {:>8} {:>7} {:<4} {:>7.1} {:<4} {:>7}",
            format!("{}. {}", row.number, row.shape.name),
            row.fold.seconds,
            seconds(row.inferno),
            ratio(fold_ratio),
            verdict(verdicts[0]),
            seconds(row.svg),
            seconds(row.inferno_svg),
            ratio(svg_ratio),
            verdict(verdicts[1]),
            mb(rss),
            verdict(verdicts[2]),
            row.svg
                .map_or("n/a".into(), |s| format!("{:.1}", mb(s.max_rss_bytes))),
        );
    }
    println!(
        "\ngoals: fold <= {FOLD_GOAL} x inferno-collapse-recursive; fold --svg <= {SVG_GOAL} x \
         inferno-collapse-recursive | inferno-flamegraph; autofold fold's peak RSS <= \
         {MEMORY_GOAL} x input (<= {} MB on the repeated line)",
        mb(REPEATED_MEMORY_GOAL)
    );
    println!(
        "{}",
        if all_pass {
            "all goals met"
        } else {
            "SOME GOALS MISSED"
        }
    );
}

fn seconds(sample: Option<Sample>) -> String {
    sample.map_or("n/a".into(), |s| format!("{:.2}", s.seconds))
}

fn ratio(ratio: Option<f64>) -> String {
    ratio.map_or("n/a".into(), |r| format!("{r:.2}"))
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}
