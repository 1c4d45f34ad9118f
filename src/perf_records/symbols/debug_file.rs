//! Where a binary's separate debug file is: by build id under
//! `/usr/lib/debug/.build-id/`, else by its `.gnu_debuglink` name next to
//! it, in its `.debug/` directory, or under `/usr/lib/debug/` (the places
//! gdb and perf look).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::elf_files::ElfImage;
use super::super::modules::hex;

/// The system's directory of debug files.
const DEBUG_ROOT: &str = "/usr/lib/debug";

/// The debug file of `image`, if one is installed and belongs to it (same
/// build id, when both have one).
pub fn find(image: &ElfImage) -> Option<Arc<ElfImage>> {
    let build_id = image.build_id();
    let by_build_id = build_id.as_deref().and_then(build_id_path);
    let by_link = image
        .debuglink()
        .map(|name| debuglink_paths(image.path(), &name))
        .unwrap_or_default();
    by_build_id
        .into_iter()
        .chain(by_link)
        .filter(|path| path != image.path())
        .filter_map(|path| ElfImage::open(&path))
        .find(|debug| build_id.is_none() || debug.build_id() == build_id)
}

/// `/usr/lib/debug/.build-id/ab/cdef….debug`.
fn build_id_path(build_id: &[u8]) -> Option<PathBuf> {
    let hex = hex(build_id);
    (hex.len() > 2).then(|| {
        Path::new(DEBUG_ROOT)
            .join(".build-id")
            .join(&hex[..2])
            .join(format!("{}.debug", &hex[2..]))
    })
}

/// The places a debuglink `name` of the binary at `binary` may be.
fn debuglink_paths(binary: &Path, name: &str) -> Vec<PathBuf> {
    let dir = binary.parent().unwrap_or(Path::new("/"));
    let under_root = Path::new(DEBUG_ROOT).join(dir.strip_prefix("/").unwrap_or(dir));
    vec![
        dir.join(name),
        dir.join(".debug").join(name),
        under_root.join(name),
    ]
}
