//! Members' source locations shown short in a cycle's member table: the
//! full `file:line` is in the cell's tooltip; the cell shows the path
//! below the directory the cycle's members share, at most its last two
//! components (`src/parser.rs:12`), so a column of long absolute paths
//! reads as the files that differ.

/// How many trailing path components a short location keeps at most.
const KEPT_COMPONENTS: usize = 2;

/// A member's location as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShownSource {
    /// The location as the report has it (`file:line`), for the tooltip.
    pub full: String,
    /// The path below the shared directory, with the line.
    pub short: String,
}

/// Each location of `sources` (a cycle's members' `file:line`, or none)
/// shown short, against the directory all of them share.
pub fn shown_sources(sources: &[Option<String>]) -> Vec<Option<ShownSource>> {
    let shared = shared_directory(sources.iter().flatten().map(String::as_str));
    sources
        .iter()
        .map(|source| {
            let full = source.as_ref()?;
            Some(ShownSource {
                full: full.clone(),
                short: short(&full[shared..]),
            })
        })
        .collect()
}

/// The length of the directory (up to and with its last `/`) that every
/// location of `sources` starts with; 0 when they share none.
fn shared_directory<'a>(mut sources: impl Iterator<Item = &'a str>) -> usize {
    let Some(first) = sources.next() else {
        return 0;
    };
    let common = sources.fold(first.len(), |common, other| {
        let same = first
            .bytes()
            .zip(other.bytes())
            .take(common)
            .take_while(|(a, b)| a == b)
            .count();
        common.min(same)
    });
    // `common` may end inside a character (two paths whose names differ
    // in a later byte of one): look for the slash in bytes.
    (first.as_bytes()[..common].iter())
        .rposition(|&b| b == b'/')
        .map_or(0, |slash| slash + 1)
}

/// `path` cut to its last [`KEPT_COMPONENTS`] components, `…/` marking the
/// cut.
fn short(path: &str) -> String {
    let slashes: Vec<usize> = path.match_indices('/').map(|(i, _)| i).collect();
    match slashes.len().checked_sub(KEPT_COMPONENTS) {
        Some(cut) => format!("…{}", &path[slashes[cut]..]),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_differ_inside_a_character_share_the_directory_before_it() {
        // `é` and `è` share their first byte.
        let sources = [Some("/src/café/a.rs:1"), Some("/src/cafè/b.rs:2")];
        assert_eq!(
            shorts(&sources),
            [
                Some("café/a.rs:1".to_string()),
                Some("cafè/b.rs:2".to_string())
            ]
        );
    }

    fn shorts(sources: &[Option<&str>]) -> Vec<Option<String>> {
        let sources: Vec<Option<String>> = sources.iter().map(|s| s.map(String::from)).collect();
        shown_sources(&sources)
            .into_iter()
            .map(|s| s.map(|s| s.short))
            .collect()
    }

    #[test]
    fn the_shared_directory_is_left_out() {
        assert_eq!(
            shorts(&[
                Some("/home/me/calc/src/parse/expr.rs:12"),
                None,
                Some("/home/me/calc/src/eval.rs:40"),
            ]),
            [
                Some("parse/expr.rs:12".to_string()),
                None,
                Some("eval.rs:40".to_string())
            ]
        );
        assert_eq!(
            shorts(&[Some("/a/src/main.rs:29"), Some("/a/src/main.rs:39")]),
            [
                Some("main.rs:29".to_string()),
                Some("main.rs:39".to_string())
            ]
        );
    }

    #[test]
    fn long_paths_keep_their_last_two_components() {
        assert_eq!(
            shorts(&[
                Some("/home/me/calc/src/deep/er/expr.rs:12"),
                Some("/home/me/.cargo/registry/src/x/lib.rs:3"),
            ]),
            [
                Some("…/er/expr.rs:12".to_string()),
                Some("…/x/lib.rs:3".to_string())
            ]
        );
        assert_eq!(shorts(&[Some("walk.py")]), [Some("walk.py".to_string())]);
    }

    #[test]
    fn the_full_location_is_kept_for_the_tooltip() {
        let shown = shown_sources(&[Some("/a/b/c.js:7".to_string())]);
        assert_eq!(shown[0].as_ref().unwrap().full, "/a/b/c.js:7");
    }
}
