//! What to tell the user when the kernel refuses to open perf events: one
//! line saying why (as far as the error and the machine's settings tell)
//! and what to do.

use std::io;

/// The machine's settings that decide whether perf events may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    /// `kernel.perf_event_paranoid`, if readable.
    pub paranoid: Option<i32>,
    /// Whether autofold runs as root (paranoid does not apply).
    pub root: bool,
}

impl Permissions {
    /// This machine's, now.
    pub fn here() -> Self {
        Self {
            paranoid: read_number("/proc/sys/kernel/perf_event_paranoid"),
            // SAFETY: geteuid has no preconditions.
            root: unsafe { libc::geteuid() } == 0,
        }
    }

    /// Whether `error` may go away with user-space sampling only, as perf
    /// falls back to (paranoid 2 forbids kernel sampling to users).
    pub fn user_space_only_may_work(&self, error: &io::Error) -> bool {
        is_denied(error) && !self.root && self.paranoid.is_some_and(|level| level >= 2)
    }
}

/// One line saying why the kernel refused to open an event with `error`
/// and what to do; `freq` is the sampling frequency asked for.
pub fn explain(error: &io::Error, permissions: Permissions, freq: u32) -> String {
    let paranoid = permissions
        .paranoid
        .map_or("unreadable".to_owned(), |level| level.to_string());
    let code = error.raw_os_error();
    if is_denied(error) && !permissions.root && permissions.paranoid.is_some_and(|level| level >= 2)
    {
        return format!(
            "perf events are not permitted here (kernel.perf_event_paranoid is {paranoid}): allow them with `sudo sysctl kernel.perf_event_paranoid=1`, or run as root"
        );
    }
    if is_denied(error) {
        let who = if permissions.root {
            " and autofold runs as root"
        } else {
            ""
        };
        return format!(
            "perf events were refused ({error}) although kernel.perf_event_paranoid is {paranoid}{who}: a container's seccomp profile or a security module blocks them (docker: --cap-add PERFMON --security-opt seccomp=unconfined), or the process belongs to another user"
        );
    }
    match code {
        Some(libc::ENOSYS) => format!(
            "perf events are not available here ({error}): the kernel has none, or a container's seccomp profile blocks perf_event_open (docker: --security-opt seccomp=unconfined)"
        ),
        Some(libc::ENOENT | libc::ENODEV | libc::EOPNOTSUPP) => format!(
            "the kernel offers no CPU-clock event to sample ({error}): perf events are switched off in this virtual machine or container"
        ),
        Some(libc::EINVAL) => match read_number("/proc/sys/kernel/perf_event_max_sample_rate") {
            Some(max) if i64::from(freq) > i64::from(max) => format!(
                "-F {freq} is above kernel.perf_event_max_sample_rate ({max}): use a lower -F"
            ),
            _ => format!("the kernel rejected the sampling event ({error})"),
        },
        Some(libc::EMFILE | libc::ENFILE) => format!(
            "too many open files for one event per thread and CPU ({error}): raise the limit (`ulimit -n`)"
        ),
        Some(libc::ESRCH) => "the process exited before recording began".to_owned(),
        _ => format!("cannot open perf events ({error})"),
    }
}

/// Whether `error` says permission was denied.
fn is_denied(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

fn read_number(path: &str) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    const USER_AT_2: Permissions = Permissions {
        paranoid: Some(2),
        root: false,
    };
    const ROOT: Permissions = Permissions {
        paranoid: Some(1),
        root: true,
    };

    #[test]
    fn paranoid_above_one_names_the_sysctl_to_run() {
        let line = explain(
            &os(libc::EACCES),
            Permissions {
                paranoid: Some(3),
                ..USER_AT_2
            },
            997,
        );
        assert!(line.contains("kernel.perf_event_paranoid is 3"), "{line}");
        assert!(
            line.contains("sudo sysctl kernel.perf_event_paranoid=1"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn refused_to_root_blames_the_container() {
        let line = explain(&os(libc::EPERM), ROOT, 997);
        assert!(line.contains("seccomp"), "{line}");
        assert!(line.contains("runs as root"), "{line}");
    }

    #[test]
    fn no_perf_events_at_all_is_said_so() {
        let line = explain(&os(libc::ENOSYS), ROOT, 997);
        assert!(
            line.starts_with("perf events are not available here"),
            "{line}"
        );
    }

    #[test]
    fn user_space_only_is_tried_where_paranoid_forbids_the_kernel() {
        assert!(USER_AT_2.user_space_only_may_work(&os(libc::EACCES)));
        assert!(!ROOT.user_space_only_may_work(&os(libc::EACCES)));
        assert!(!USER_AT_2.user_space_only_may_work(&os(libc::ENOSYS)));
    }
}
