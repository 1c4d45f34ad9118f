//! Frame text as `inferno-collapse-perf` writes it for `perf script`
//! output, so that in-process stacks equal the ones autofold gets from
//! `perf script` (its fallback) and the two can be diffed: the command
//! name here, function names in `crate::demangle`.

/// The label that roots every stack: the command name, spaces made `_`.
pub fn comm_label(comm: &str) -> String {
    comm.replace(' ', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_spaces_become_underscores() {
        assert_eq!(comm_label("V8 Worker"), "V8_Worker");
    }
}
