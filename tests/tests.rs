//! autofold's integration tests: one test binary (cargo links it once, not
//! once per file), one module per area, and one set of helpers in `util/`
//! (`util::autofold()` is the one way the tests start autofold).
//!
//! Run one area with `cargo test --test tests AREA::`, e.g.
//! `scripts/test --test tests record::`.

mod util;

mod browser;
mod cargo_autofold;
mod cases;
mod cli;
mod cpython;
mod diff;
mod frame_identity;
mod html;
mod html_page;
mod input_errors;
mod inputs;
mod languages;
mod long_lines;
mod off_cpu;
mod other_formats;
mod outputs;
mod perf_data;
mod profilers;
mod properties;
mod py_spy_record;
mod real_profiles;
mod record;
mod record_errors;
mod sampler;
mod source_locations;
mod untrusted_inputs;
mod untrusted_perf_data;
mod viewers;

/// Cargo builds only this file's modules (`autotests = false`): a test file
/// left out of the list above would never run.
#[test]
fn every_test_file_is_a_module_of_the_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let declared = include_str!("tests.rs");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module != "tests" {
            let line = format!("\nmod {module};\n");
            assert!(
                declared.contains(&line),
                "tests/{name} is not declared in tests/tests.rs"
            );
        }
    }
}
