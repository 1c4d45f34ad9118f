//! Recordings perf did not finish writing (perf killed, disk full): perf
//! writes the data size and the feature sections (build ids, …) only when
//! it stops, so such a file's header says "no data" and points at features
//! past its end. Repaired in memory: the data runs to the end of the file,
//! no features.

/// Little-endian perf.data magic.
const MAGIC: &[u8; 8] = b"PERFILE2";
/// Offset of the data section's (offset, size) pair in the header.
const DATA_SECTION: usize = 40;
/// Offset and length of the feature bitmap in the header.
const FEATURES: usize = 72;
const FEATURES_LEN: usize = 32;

/// A copy of `file` with its header repaired, if it is a little-endian
/// perf.data file whose data section starts inside it.
pub fn repair(file: &[u8]) -> Option<Vec<u8>> {
    if file.get(..MAGIC.len())? != MAGIC || file.len() < FEATURES + FEATURES_LEN {
        return None;
    }
    let field = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(file.get(at..at + 8)?.try_into().ok()?))
    };
    let data_offset = field(DATA_SECTION)?;
    let file_len = u64::try_from(file.len()).ok()?;
    if data_offset == 0 || data_offset >= file_len {
        return None;
    }
    let mut repaired = file.to_vec();
    let size_at = DATA_SECTION + 8;
    repaired[size_at..size_at + 8].copy_from_slice(&(file_len - data_offset).to_le_bytes());
    repaired[FEATURES..FEATURES + FEATURES_LEN].fill(0);
    Some(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_runs_to_the_end_and_features_are_dropped() {
        let mut file = vec![0u8; 0x200];
        file[..8].copy_from_slice(MAGIC);
        file[DATA_SECTION..DATA_SECTION + 8].copy_from_slice(&0x108u64.to_le_bytes());
        file[FEATURES] = 0xff;
        let repaired = repair(&file).unwrap();
        let size = u64::from_le_bytes(repaired[48..56].try_into().unwrap());
        assert_eq!(size, 0x200 - 0x108);
        assert!(
            repaired[FEATURES..FEATURES + FEATURES_LEN]
                .iter()
                .all(|&b| b == 0)
        );
    }

    #[test]
    fn other_files_are_left_alone() {
        assert!(
            repair(b"not a perf.data file at all, not at all, no no no no no no no no no no")
                .is_none()
        );
    }
}
