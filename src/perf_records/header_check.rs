//! A perf.data header checked against the file's length before
//! `linux-perf-data` reads it: that crate allocates whatever size the
//! header (or its feature table) states before reading, so a corrupt size
//! would abort the process instead of failing.

/// Header fields (file offsets).
const ATTR_SIZE: usize = 16;
const ATTR_SECTION: usize = 24;
const DATA_SECTION: usize = 40;
const EVENT_TYPES_SECTION: usize = 56;
const FEATURES: usize = 72;
/// Header length up to the end of the feature bitmap (4 × u64).
const HEADER_LEN: usize = FEATURES + 32;
/// The smallest `perf_event_attr` (PERF_ATTR_SIZE_VER0).
const MIN_ATTR_SIZE: u64 = 64;

/// Whether every section the header and its feature table name lies inside
/// `file`, and the attribute size is plausible. `false` for files that are
/// not perf.data (the reader then says why).
pub fn fits(file: &[u8]) -> bool {
    let little = match file.get(..8) {
        Some(b"PERFILE2") => true,
        Some(b"2ELIFREP") => false,
        _ => return true,
    };
    let len = file.len() as u64;
    let field = |at: usize| -> Option<u64> {
        let bytes: [u8; 8] = file.get(at..at + 8)?.try_into().ok()?;
        Some(if little {
            u64::from_le_bytes(bytes)
        } else {
            u64::from_be_bytes(bytes)
        })
    };
    let section_fits = |at: usize| -> Option<bool> {
        let (offset, size) = (field(at)?, field(at + 8)?);
        Some(offset.checked_add(size).is_some_and(|end| end <= len))
    };
    let check = || -> Option<bool> {
        if file.len() < HEADER_LEN || field(ATTR_SIZE)? < MIN_ATTR_SIZE {
            return Some(false);
        }
        let header_fits = section_fits(ATTR_SECTION)?
            && section_fits(DATA_SECTION)?
            && section_fits(EVENT_TYPES_SECTION)?;
        if !header_fits {
            return Some(false);
        }
        let features: u32 = (0..4)
            .map(|word| field(FEATURES + 8 * word).map(u64::count_ones))
            .sum::<Option<u32>>()?;
        let table = usize::try_from(field(DATA_SECTION)? + field(DATA_SECTION + 8)?).ok()?;
        (0..features as usize).try_fold(true, |all, index| {
            Some(all && section_fits(table.checked_add(16 * index)?)?)
        })
    };
    check().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(data_offset: u64, data_size: u64, len: usize) -> Vec<u8> {
        let mut file = vec![0u8; len];
        file[..8].copy_from_slice(b"PERFILE2");
        file[ATTR_SIZE..ATTR_SIZE + 8].copy_from_slice(&136u64.to_le_bytes());
        file[DATA_SECTION..DATA_SECTION + 8].copy_from_slice(&data_offset.to_le_bytes());
        file[DATA_SECTION + 8..DATA_SECTION + 16].copy_from_slice(&data_size.to_le_bytes());
        file
    }

    #[test]
    fn sections_inside_the_file_fit() {
        assert!(fits(&header(0x100, 0x80, 0x200)));
    }

    #[test]
    fn a_section_past_the_end_does_not() {
        assert!(!fits(&header(0x100, 0x1_0000_0000, 0x200)));
    }

    #[test]
    fn a_feature_table_past_the_end_does_not() {
        let mut file = header(0x100, 0xf8, 0x200);
        file[FEATURES] = 1;
        assert!(!fits(&file));
    }
}
