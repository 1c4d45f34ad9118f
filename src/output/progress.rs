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
