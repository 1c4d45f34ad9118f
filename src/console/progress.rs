//! Progress shown to people while autofold works: on standard error, and
//! only when it is a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner counting the `perf script` output read so far; hidden when
/// standard error is not a terminal.
pub fn post_processing() -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template(
            "{spinner} post-processing perf data: {bytes} of perf script output ({elapsed})",
        )
        .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over the bytes of a perf.data file as its records are read;
/// hidden when standard error is not a terminal.
pub fn reading_perf_data(bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(bytes).with_style(
        ProgressStyle::with_template(
            "{spinner} reading perf.data [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
