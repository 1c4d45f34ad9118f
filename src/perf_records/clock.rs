//! The clock perf events stamp records with here: `CLOCK_MONOTONIC`
//! (the sampler asks for it with `use_clockid`), so that a time read now
//! compares with the records' times.

/// Now on `CLOCK_MONOTONIC`, the clock the sampler stamps records with.
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into `now`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}
