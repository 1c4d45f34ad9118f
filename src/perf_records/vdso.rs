//! The vdso of the running kernel: the small ELF image the kernel maps into
//! every process (`clock_gettime` and friends). A recording made on this
//! machine names its mapping `[vdso]` but no file; every process of one
//! kernel maps the same image, so autofold's own copy unwinds and names the
//! profiled processes' vdso frames.

use std::path::Path;
use std::sync::Arc;

use super::elf_files::ElfImage;

/// The vdso mapped into autofold itself, copied; `None` where there is none
/// or it cannot be found.
pub fn this_kernels() -> Option<Arc<ElfImage>> {
    // SAFETY: getauxval only reads the auxiliary vector.
    let start = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    if start == 0 {
        return None;
    }
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let len = mapping_len(&maps, start)?;
    // SAFETY: the kernel maps the vdso readable, at `start` for `len` bytes
    // (as /proc/self/maps says), for the whole life of the process.
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, len) };
    ElfImage::from_bytes(Path::new("[vdso]"), bytes)
}

/// The length of the `[vdso]` mapping at `start` in `/proc/self/maps` text.
fn mapping_len(maps: &str, start: u64) -> Option<usize> {
    maps.lines()
        .filter(|line| line.ends_with("[vdso]"))
        .find_map(|line| {
            let range = line.split_whitespace().next()?;
            let (from, to) = range.split_once('-')?;
            let from = u64::from_str_radix(from, 16).ok()?;
            let to = u64::from_str_radix(to, 16).ok()?;
            (from == start && to > from).then(|| usize::try_from(to - from).ok())?
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vdso_mapping_is_found_by_its_start() {
        let maps = "7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]\n";
        assert_eq!(mapping_len(maps, 0x7ffd1000), Some(0x2000));
        assert_eq!(mapping_len(maps, 0x7ffd2000), None);
    }

    #[test]
    fn this_kernels_vdso_is_an_elf_image_with_clock_gettime() {
        let image = this_kernels().expect("x86_64 Linux maps a vdso");
        let file = image.parse().unwrap();
        use object::{Object, ObjectSymbol};
        assert!(
            file.dynamic_symbols()
                .any(|s| s.name().is_ok_and(|n| n.contains("clock_gettime"))),
            "the vdso exports clock_gettime"
        );
    }
}
