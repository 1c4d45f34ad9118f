//! The folded profile in other profilers' viewers: `--speedscope` loaded
//! in the real speedscope page (the npm package `speedscope`, served on
//! 127.0.0.1 to headless Chromium), and `--firefox` checked against the
//! invariants the Firefox Profiler's processed format keeps (its app is in
//! no registry, so it cannot be loaded here). `record` writes both too,
//! with the recording's own threads and sample times.
//!
//! A missing speedscope or Chromium fails the browser test saying what to
//! install, unless `AUTOFOLD_SKIP_BROWSER_TESTS=1`.

use std::fs;
use std::io::Read;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::util::browser::Browser;
use crate::util::perf::{self, busy_threads, even_odd, skip};
use crate::util::serve::Server;
use crate::util::tools::speedscope_page;
use crate::util::{autofold, fixture};

/// The cycle of the even/odd fixture, as autofold names it.
const CYCLE: &str = "even_odd::{even,odd}";

/// What speedscope and the Firefox Profiler say of that cycle's members.
const MEMBERS: &str = "recursion cycle: even_odd::even, even_odd::odd";

/// `autofold fold` of the even/odd fixture in `dir`, with `extra` options;
/// the folded text goes to `folded.txt`.
fn fold_even_odd(dir: &Path, extra: &[&str]) {
    autofold()
        .current_dir(dir)
        .arg("fold")
        .arg(fixture("even-odd/even-odd.folded"))
        .args(["-o", "folded.txt"])
        .args(extra)
        .success();
}

/// A JSON file, gunzipped first where it is gzip.
fn read_json(path: &Path) -> Value {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = match bytes.starts_with(&[0x1f, 0x8b]) {
        true => {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .expect("gzip");
            text
        }
        false => bytes,
    };
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn speedscope_loads_the_file_and_shows_the_cycle_frame_with_its_members() {
    let dir = TempDir::new().unwrap();
    fold_even_odd(dir.path(), &["--speedscope", "even-odd.speedscope.json"]);
    let Some((members, title)) = cycle_row_in_speedscope(dir.path(), "even-odd.speedscope.json")
    else {
        return;
    };
    assert_eq!(members, MEMBERS);
    assert!(
        title.contains("even-odd"),
        "speedscope's title names the profile: {title}"
    );
}

#[test]
fn speedscope_loads_a_recording_of_one_profile_per_thread_with_the_cycle() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    perf::record(dir.path())
        .args(["--speedscope", "run.json", "--"])
        .arg(even_odd())
        .success();
    let file = read_json(&dir.path().join("run.json"));
    let names = profile_names(&file);
    assert!(
        names.iter().all(|n| n.starts_with("even-odd (")),
        "one profile per thread of even-odd: {names:?}"
    );
    let Some((members, _)) = cycle_row_in_speedscope(dir.path(), "run.json") else {
        return;
    };
    assert_eq!(members, MEMBERS);
}

/// Loads `dir/file` in the real speedscope page and returns the title of
/// the even/odd cycle's row in its sandwich table (the members) and the
/// page's title; `None` where speedscope or Chromium is missing and the
/// browser tests are skipped.
fn cycle_row_in_speedscope(dir: &Path, file: &str) -> Option<(String, String)> {
    let page = speedscope_page()?;
    let mut browser = Browser::launch()?;
    let server = Server::start(&[("speedscope", &page), ("profiles", dir)]);
    let profile = server.url(&format!("/profiles/{file}"));
    // The sandwich view lists every frame in a table of the DOM (the other
    // views draw on a canvas), a cell's title the frame's file. The table
    // draws only the rows in view, most self time first, and a cycle frame
    // has little of its own: a tall viewport draws a recording's 60-odd
    // rows (under load, with more kernel frames, the cycle's fell out of
    // a 900-pixel one).
    browser.set_viewport(1400, 4000);
    browser.open(&format!(
        "{}#profileURL={profile}&view=sandwich",
        server.url("/speedscope/index.html")
    ));
    let cell =
        format!("[...document.querySelectorAll('td')].find(td => td.textContent === {CYCLE:?})");
    browser.wait_for(&format!("{cell} !== undefined"));
    let members = browser.eval(&format!("{cell}.title"));
    let title = browser.eval("document.title");
    let errors = browser.script_errors();
    assert!(errors.is_empty(), "speedscope raised: {errors:?}");
    let text = |value: Value| value.as_str().unwrap_or_default().to_string();
    Some((text(members), text(title)))
}

/// The names of a speedscope file's profiles.
fn profile_names(file: &Value) -> Vec<String> {
    let profiles = file["profiles"].as_array().unwrap();
    (profiles.iter())
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn speedscope_file_holds_the_folded_stacks_with_their_weights() {
    let dir = TempDir::new().unwrap();
    fold_even_odd(dir.path(), &["--speedscope", "s.json"]);
    let file = read_json(&dir.path().join("s.json"));
    assert_eq!(
        file["$schema"],
        "https://www.speedscope.app/file-format-schema.json"
    );
    let folded = fs::read_to_string(dir.path().join("folded.txt")).unwrap();
    let frames = file["shared"]["frames"].as_array().unwrap();
    let mut stacks = Vec::new();
    for profile in file["profiles"].as_array().unwrap() {
        assert_eq!(profile["type"], "sampled");
        assert_eq!(profile["unit"], "none");
        let samples = profile["samples"].as_array().unwrap();
        let weights = profile["weights"].as_array().unwrap();
        assert_eq!(samples.len(), weights.len());
        let sum: u64 = weights.iter().map(|w| w.as_u64().unwrap()).sum();
        assert_eq!(profile["endValue"], sum);
        for (sample, weight) in samples.iter().zip(weights) {
            let names: Vec<&str> = sample
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    frames[i.as_u64().unwrap() as usize]["name"]
                        .as_str()
                        .unwrap()
                })
                .collect();
            let label = profile["name"].as_str().unwrap();
            stacks.push(format!("{label};{} {weight}", names.join(";")));
        }
    }
    let expected: Vec<&str> = folded.lines().collect();
    assert_eq!(stacks, expected, "the samples are the folded lines");
    let cycle = frames
        .iter()
        .find(|f| f["name"] == CYCLE)
        .expect("the cycle frame");
    assert_eq!(cycle["file"], MEMBERS);
    let size = |name: &str| fs::metadata(dir.path().join(name)).unwrap().len();
    assert!(size("s.json") <= size("folded.txt"));
}

#[test]
fn an_off_cpu_profile_is_exported_in_microseconds() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("off.folded");
    fs::write(&input, "app;main;read;[off-cpu] 1500\napp;main;work 250\n").unwrap();
    autofold()
        .current_dir(dir.path())
        .arg("report")
        .arg(&input)
        .args(["--speedscope", "s.json", "--firefox", "f.json"])
        .success();
    let file = read_json(&dir.path().join("s.json"));
    assert_eq!(file["profiles"][0]["unit"], "microseconds");
    assert_eq!(file["profiles"][0]["endValue"], 1750);
    // Firefox: weights in microseconds; CPU time only for the stack on the
    // CPU; times advance by each weight, in milliseconds.
    let file = read_json(&dir.path().join("f.json"));
    check_firefox(&file, "Recursion cycle");
    let samples = &file["threads"][0]["samples"];
    let mut weights: Vec<i64> = samples["weight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_i64().unwrap())
        .collect();
    weights.sort();
    assert_eq!(weights, [250, 1500]);
    let cpu: Vec<u64> = samples["threadCPUDelta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .collect();
    assert!(cpu.contains(&0) && cpu.contains(&250), "CPU deltas {cpu:?}");
    let deltas = samples["timeDeltas"].as_array().unwrap();
    assert_eq!(deltas[0].as_f64(), Some(0.0));
    let second = deltas[1].as_f64().unwrap();
    assert!(second == 1.5 || second == 0.25, "time deltas {deltas:?}");
}

/// Fails unless `file` keeps the processed format's invariants: versions
/// set, every stack, frame, function and string index in range (a stack's
/// prefix earlier than itself), the sample times ascending; returns the
/// names of the functions of the category `category` over all threads.
fn check_firefox(file: &Value, category: &str) -> Vec<String> {
    let meta = &file["meta"];
    assert!(meta["version"].as_u64().is_some(), "meta.version: {meta}");
    assert!(meta["preprocessedProfileVersion"].as_u64().is_some());
    let categories = meta["categories"].as_array().unwrap();
    let wanted = categories
        .iter()
        .position(|c| c["name"] == category)
        .unwrap_or_else(|| panic!("no category {category}: {categories:?}"));
    let mut names = Vec::new();
    for thread in file["threads"].as_array().unwrap() {
        let strings = thread["stringArray"].as_array().unwrap();
        let funcs = &thread["funcTable"];
        let frames = &thread["frameTable"];
        let stacks = &thread["stackTable"];
        let samples = &thread["samples"];
        for name in column(funcs, "name") {
            assert!(
                name < strings.len(),
                "function name {name} of {}",
                strings.len()
            );
        }
        let resources = &thread["resourceTable"];
        let resource_count = resources["length"].as_u64().unwrap() as usize;
        for resource in funcs["resource"].as_array().unwrap() {
            let resource = resource.as_i64().unwrap();
            assert!(
                resource < resource_count as i64,
                "function's resource {resource}"
            );
        }
        let lib_count = file["libs"].as_array().unwrap().len();
        for lib in column(resources, "lib") {
            assert!(lib < lib_count, "resource's library {lib} of {lib_count}");
        }
        let func_count = funcs["length"].as_u64().unwrap() as usize;
        for (func, category) in column(frames, "func")
            .into_iter()
            .zip(column(frames, "category"))
        {
            assert!(func < func_count, "frame's function {func} of {func_count}");
            assert!(category < categories.len());
        }
        names.extend(functions_in_category(thread, wanted));
        let frame_count = frames["length"].as_u64().unwrap() as usize;
        for frame in column(stacks, "frame") {
            assert!(
                frame < frame_count,
                "stack's frame {frame} of {frame_count}"
            );
        }
        for (index, prefix) in stacks["prefix"].as_array().unwrap().iter().enumerate() {
            if let Some(prefix) = prefix.as_u64() {
                assert!((prefix as usize) < index, "stack {index}'s prefix {prefix}");
            }
        }
        let stack_count = stacks["length"].as_u64().unwrap() as usize;
        for stack in column(samples, "stack") {
            assert!(
                stack < stack_count,
                "sample's stack {stack} of {stack_count}"
            );
        }
        for delta in samples["timeDeltas"].as_array().unwrap() {
            assert!(
                delta.as_f64().unwrap() >= 0.0,
                "sample times go back: {delta}"
            );
        }
    }
    names
}

/// The names of the functions of the frames of `thread` whose category is
/// the one at index `category`.
fn functions_in_category(thread: &Value, category: usize) -> Vec<String> {
    let strings = thread["stringArray"].as_array().unwrap();
    let names = column(&thread["funcTable"], "name");
    let frames = &thread["frameTable"];
    (column(frames, "func").into_iter())
        .zip(column(frames, "category"))
        .filter(|&(_, c)| c == category)
        .map(|(func, _)| strings[names[func]].as_str().unwrap().to_string())
        .collect()
}

/// The index of the category named `name` of a Firefox file.
fn category_index(file: &Value, name: &str) -> usize {
    let categories = file["meta"]["categories"].as_array().unwrap();
    (categories.iter().position(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no category {name}: {categories:?}"))
}

/// The times of a Firefox thread's samples, in milliseconds since the
/// profile's zero (the format stores the differences).
fn sample_times(thread: &Value) -> Vec<f64> {
    let deltas = thread["samples"]["timeDeltas"].as_array().unwrap();
    (deltas.iter())
        .scan(0.0, |time, delta| {
            *time += delta.as_f64().unwrap();
            Some(*time)
        })
        .collect()
}

/// `autofold record` (with `recorder`'s options) of busy-threads in `dir`,
/// 200 rounds 100 deep, writing `s.json` (speedscope) and `f.json.gz`
/// (Firefox) besides `out.folded`; returns the wall time the program
/// printed for itself, in milliseconds.
fn record_busy_threads(dir: &Path, recorder: &[&str]) -> f64 {
    let output = perf::record(dir)
        .args(recorder)
        .args(["--speedscope", "s.json", "--firefox", "f.json.gz", "--"])
        .arg(busy_threads())
        .args(["200", "100"])
        .success();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let wall = stdout.lines().find_map(|l| l.strip_prefix("wall_ms "));
    wall.unwrap_or_else(|| panic!("no wall time in {stdout}"))
        .parse()
        .unwrap()
}

/// Checks the Firefox file of busy-threads run for `wall_ms`: its threads
/// are the program's (one process, the workers under their own names and
/// ids), each with its samples in time order across the program's run,
/// the mutual recursion's frame in the "Recursion cycle" category on the
/// ping-pong thread only, and the weights those of the folded profile.
fn check_recorded_firefox(dir: &Path, wall_ms: f64) {
    let file = read_json(&dir.join("f.json.gz"));
    check_firefox(&file, "Recursion cycle");
    let threads = file["threads"].as_array().unwrap();
    let field = |thread: &Value, name: &str| thread[name].as_str().unwrap().to_string();
    let pid = field(&threads[0], "pid");
    let mut tids = Vec::new();
    for thread in threads {
        assert_eq!(field(thread, "pid"), pid, "one process");
        assert_eq!(field(thread, "processName"), "busy-threads");
        tids.push(field(thread, "tid"));
    }
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), threads.len(), "one thread per tid: {tids:?}");
    let cycle = category_index(&file, "Recursion cycle");
    let mut first = f64::MAX;
    let mut last: f64 = 0.0;
    for name in ["ping-pong", "descend"] {
        let thread = (threads.iter().find(|t| t["name"] == name))
            .unwrap_or_else(|| panic!("no thread {name}"));
        assert_ne!(field(thread, "tid"), pid, "{name} is not the main thread");
        let times = sample_times(thread);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{name}: {times:?}");
        first = first.min(times[0]);
        last = last.max(times[times.len() - 1]);
        let cycles = functions_in_category(thread, cycle);
        let ping_pong = cycles.iter().any(|c| c == "busy_threads::{ping,pong}");
        assert_eq!(ping_pong, name == "ping-pong", "{name}: {cycles:?}");
    }
    // Both workers recurse from their start to the program's end: their
    // samples span its run, less its start and the sampling period.
    let span = last - first;
    assert!(
        span > 0.7 * wall_ms && span < wall_ms + 100.0,
        "samples span {span} ms of a {wall_ms} ms run"
    );
    let folded = fs::read_to_string(dir.join("out.folded")).unwrap();
    let weights: i64 = (threads.iter())
        .flat_map(|t| t["samples"]["weight"].as_array().unwrap())
        .map(|w| w.as_i64().unwrap())
        .sum();
    assert_eq!(weights as u64, crate::util::fold::total(&folded));
}

/// Checks the speedscope file of busy-threads: one profile per thread of
/// the Firefox file (`process (pid) / thread (tid)`), and every sample's
/// stack folded as the folded profile's: summed by stack, the samples are
/// the folded lines (below their root labels).
fn check_recorded_speedscope(dir: &Path) {
    let file = read_json(&dir.join("s.json"));
    let firefox = read_json(&dir.join("f.json.gz"));
    let mut expected_names: Vec<String> = (firefox["threads"].as_array().unwrap().iter())
        .map(|t| {
            let field = |name: &str| t[name].as_str().unwrap();
            let (process, pid) = (field("processName"), field("pid"));
            let (name, tid) = (field("name"), field("tid"));
            format!("{process} ({pid}) / {name} ({tid})")
        })
        .collect();
    let mut names = profile_names(&file);
    names.sort();
    expected_names.sort();
    assert_eq!(names, expected_names);
    let frames = file["shared"]["frames"].as_array().unwrap();
    let mut sampled: std::collections::BTreeMap<String, u64> = Default::default();
    for profile in file["profiles"].as_array().unwrap() {
        let samples = profile["samples"].as_array().unwrap();
        for (sample, weight) in samples.iter().zip(profile["weights"].as_array().unwrap()) {
            let names: Vec<&str> = (sample.as_array().unwrap().iter())
                .map(|i| {
                    frames[i.as_u64().unwrap() as usize]["name"]
                        .as_str()
                        .unwrap()
                })
                .collect();
            *sampled.entry(names.join(";")).or_default() += weight.as_u64().unwrap();
        }
    }
    let mut folded: std::collections::BTreeMap<String, u64> = Default::default();
    for line in fs::read_to_string(dir.join("out.folded")).unwrap().lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let below = stack.split_once(';').map_or("", |(_, below)| below);
        *folded.entry(below.to_string()).or_default() += count.parse::<u64>().unwrap();
    }
    assert_eq!(sampled, folded, "the samples fold as the profile");
}

#[test]
fn the_samplers_recording_keeps_its_threads_and_sample_times() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let wall_ms = record_busy_threads(dir.path(), &[]);
    check_recorded_firefox(dir.path(), wall_ms);
    check_recorded_speedscope(dir.path());
}

#[test]
fn a_perf_recording_keeps_its_threads_and_sample_times() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let wall_ms = record_busy_threads(dir.path(), &["--perf"]);
    check_recorded_firefox(dir.path(), wall_ms);
    check_recorded_speedscope(dir.path());
}

/// The column `name` of a table, as indices.
fn column(table: &Value, name: &str) -> Vec<usize> {
    let values = table[name]
        .as_array()
        .unwrap_or_else(|| panic!("no column {name}"));
    let length = table["length"].as_u64().unwrap() as usize;
    assert_eq!(values.len(), length, "column {name}'s length");
    values
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn firefox_file_keeps_the_format_invariants_with_the_cycle_in_its_category() {
    let dir = TempDir::new().unwrap();
    fold_even_odd(dir.path(), &["--firefox", "f.json.gz"]);
    let gzipped = fs::read(dir.path().join("f.json.gz")).unwrap();
    assert!(gzipped.starts_with(&[0x1f, 0x8b]), "a .gz name is gzipped");
    let file = read_json(&dir.path().join("f.json.gz"));
    let cycles = check_firefox(&file, "Recursion cycle");
    assert!(cycles.contains(&CYCLE.to_string()), "{cycles:?}");
    let categories = file["meta"]["categories"].as_array().unwrap();
    let cycle = categories
        .iter()
        .find(|c| c["name"] == "Recursion cycle")
        .unwrap();
    assert!(
        cycle["subcategories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == MEMBERS)
    );
    let folded = fs::read_to_string(dir.path().join("folded.txt")).unwrap();
    let total: u64 = crate::util::fold::total(&folded);
    let weights: i64 = file["threads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["samples"]["weight"].as_array().unwrap())
        .map(|w| w.as_i64().unwrap())
        .sum();
    assert_eq!(weights as u64, total, "the weights are the folded counts");
    assert!(gzipped.len() as u64 <= fs::metadata(dir.path().join("folded.txt")).unwrap().len());
    // Folded text names no modules: no library, every function a label.
    assert_eq!(file["libs"], Value::Array(Vec::new()));
    assert_eq!(file["meta"]["symbolicated"], false);
    assert!(function_libraries(&file).values().all(Option::is_none));
}

/// Every function of a Firefox file (over all threads) by name, with the
/// name of its library where it has one.
fn function_libraries(file: &Value) -> std::collections::BTreeMap<String, Option<String>> {
    let libs = file["libs"].as_array().unwrap();
    let mut functions = std::collections::BTreeMap::new();
    for thread in file["threads"].as_array().unwrap() {
        let strings = thread["stringArray"].as_array().unwrap();
        let funcs = &thread["funcTable"];
        let resource_libs = column(&thread["resourceTable"], "lib");
        let resources = funcs["resource"].as_array().unwrap();
        for (name, resource) in column(funcs, "name").into_iter().zip(resources) {
            let library = usize::try_from(resource.as_i64().unwrap())
                .ok()
                .map(|r| libs[resource_libs[r]]["name"].as_str().unwrap().to_string());
            let name = strings[name].as_str().unwrap().to_string();
            functions.insert(name, library);
        }
    }
    functions
}

#[test]
fn a_recordings_functions_are_named_with_their_libraries_and_categories() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    perf::record(dir.path())
        .args(["--firefox", "f.json", "--"])
        .arg(even_odd())
        .success();
    let file = read_json(&dir.path().join("f.json"));
    check_firefox(&file, "Recursion cycle");
    assert_eq!(file["meta"]["symbolicated"], true, "synthetic addresses");
    // A library is named by its file's name, and listed by its full path.
    let program = fs::canonicalize(even_odd()).unwrap();
    let program_name = program.file_name().unwrap().to_str().unwrap();
    for lib in file["libs"].as_array().unwrap() {
        let (name, path) = (lib["name"].as_str().unwrap(), lib["path"].as_str().unwrap());
        assert!(path == name || path.ends_with(&format!("/{name}")), "{lib}");
        if name == program_name {
            assert_eq!(path, program.to_str().unwrap());
        }
    }
    let functions = function_libraries(&file);
    let library = |name: &str| {
        (functions.get(name))
            .unwrap_or_else(|| panic!("no function {name}: {functions:?}"))
            .as_deref()
    };
    // The program's own functions are in its file; glibc's start-up code,
    // below every stack of the main thread, in libc; the cycle frame is a
    // label, in no library.
    let user = category_index(&file, "User");
    let users: Vec<String> = (file["threads"].as_array().unwrap().iter())
        .flat_map(|thread| functions_in_category(thread, user))
        .collect();
    for own in ["even_odd::main", "even_odd::crunch"] {
        assert_eq!(library(own), Some(program_name), "{own}");
        // Written in the fixture's own source: the author's code.
        assert!(users.iter().any(|u| u == own), "{own} not User: {users:?}");
    }
    let libc = library("__libc_start_call_main").unwrap();
    assert!(
        libc.starts_with("libc.so"),
        "__libc_start_call_main in {libc}"
    );
    assert_eq!(library(CYCLE), None);
    // The kernel's functions (where sampled) are the kernel's, in its
    // category.
    let kernel = category_index(&file, "Kernel");
    let kernels: Vec<String> = (file["threads"].as_array().unwrap().iter())
        .flat_map(|thread| functions_in_category(thread, kernel))
        .collect();
    for (name, library) in &functions {
        if name.starts_with("entry_SYSCALL") || name.starts_with("asm_") {
            assert_eq!(library.as_deref(), Some("[kernel.kallsyms]"), "{name}");
        }
        if library.as_deref() == Some("[kernel.kallsyms]") {
            assert!(kernels.contains(name), "{name} not Kernel: {kernels:?}");
        }
    }
    // Functions keep the names the folded profile gives them.
    let folded = fs::read_to_string(dir.path().join("out.folded")).unwrap();
    let frames: std::collections::BTreeSet<&str> = (folded.lines())
        .filter_map(|line| line.rsplit_once(' '))
        .flat_map(|(stack, _)| stack.split(';').skip(1))
        .collect();
    for name in functions.keys() {
        assert!(frames.contains(name.as_str()), "{name} is no folded frame");
    }
}

#[test]
fn firefox_without_gz_is_plain_json() {
    let dir = TempDir::new().unwrap();
    fold_even_odd(dir.path(), &["--firefox", "f.json"]);
    let bytes = fs::read(dir.path().join("f.json")).unwrap();
    assert_eq!(bytes.first(), Some(&b'{'));
    check_firefox(&read_json(&dir.path().join("f.json")), "Recursion cycle");
}

#[test]
fn record_writes_both_viewers_files_with_the_cycle() {
    if skip() {
        return;
    }
    let dir = TempDir::new().unwrap();
    perf::record(dir.path())
        .args(["--speedscope", "run.json", "--firefox", "run.json.gz", "--"])
        .arg(even_odd())
        .success();
    let speedscope = read_json(&dir.path().join("run.json"));
    let frames = speedscope["shared"]["frames"].as_array().unwrap();
    assert!(
        frames
            .iter()
            .any(|f| f["name"] == CYCLE && f["file"] == MEMBERS)
    );
    assert!(
        speedscope["profiles"][0]["name"]
            .as_str()
            .unwrap()
            .contains("even-odd")
    );
    let firefox = read_json(&dir.path().join("run.json.gz"));
    let cycles = check_firefox(&firefox, "Recursion cycle");
    assert!(cycles.contains(&CYCLE.to_string()), "{cycles:?}");
    assert!(
        firefox["threads"][0]["name"]
            .as_str()
            .unwrap()
            .contains("even-odd")
    );
}

#[test]
fn diff_writes_both_sides_into_one_speedscope_file_sharing_the_cycle_frame() {
    let dir = TempDir::new().unwrap();
    let before = dir.path().join("before.folded");
    let after = dir.path().join("after.folded");
    fs::write(&before, "app;main;even;odd;even;leaf 3\napp;main;other 1\n").unwrap();
    fs::write(&after, "app;main;even;odd;even;odd;even;leaf 5\n").unwrap();
    autofold()
        .current_dir(dir.path())
        .arg("diff")
        .args([&before, &after])
        .args(["--speedscope", "diff.json"])
        .success();
    let file = read_json(&dir.path().join("diff.json"));
    let names: Vec<&str> = file["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["before: app", "after: app"]);
    let weights: Vec<&Value> = file["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["endValue"])
        .collect();
    assert_eq!(weights, [4, 5]);
    let frames = file["shared"]["frames"].as_array().unwrap();
    let cycles: Vec<&Value> = frames.iter().filter(|f| f.get("file").is_some()).collect();
    assert_eq!(
        cycles.len(),
        1,
        "one cycle frame for both sides: {frames:?}"
    );
    assert_eq!(cycles[0]["file"], "recursion cycle: even, odd");
}
