//! A perf.data file checked against its own length before `linux-perf-data`
//! reads it: that crate allocates whatever size the header, its feature
//! table, the event descriptions or an AUXTRACE record state before reading
//! what it sized, so a corrupt size would abort the process instead of
//! failing.

use std::ops::Range;

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
/// Feature bits whose sections describe the events (`HEADER_EVENT_DESC`,
/// `HEADER_SIMPLEPERF_META_INFO`).
const EVENT_DESC: usize = 12;
const SIMPLEPERF_META_INFO: usize = 129;
/// An (offset, size) pair naming a section.
const SECTION_LEN: usize = 16;
/// `PERF_RECORD_AUXTRACE`: its body is followed by as many bytes of trace
/// as its first field says.
const AUXTRACE: u32 = 71;

const SECTIONS: &str = "its header names sections past the end of the file";
const EVENTS: &str = "its event descriptions hold more than their section";
const AUX_DATA: &str = "an AUXTRACE record names trace data past the end of the data";

/// `Ok` where every section the header, its feature table and its event
/// descriptions name lies inside `file`, and every AUXTRACE record's trace
/// data inside the data section; else what is wrong, for the reader to
/// say. `Ok` for files that are not perf.data (the reader then says why).
pub fn check(file: &[u8]) -> Result<(), &'static str> {
    let little = match file.get(..8) {
        Some(b"PERFILE2") => true,
        Some(b"2ELIFREP") => false,
        _ => return Ok(()),
    };
    let file = Bytes { file, little };
    let attr_size = file.u64_at(ATTR_SIZE).unwrap_or(0);
    if file.len() < HEADER_LEN || !(MIN_ATTR_SIZE..=file.len() as u64).contains(&attr_size) {
        return Err(SECTIONS);
    }
    let section = |at| file.section(at).ok_or(SECTIONS);
    let (attrs, data) = (section(ATTR_SECTION)?, section(DATA_SECTION)?);
    let event_types = section(EVENT_TYPES_SECTION)?;
    let features = file.features(data.end).ok_or(SECTIONS)?;
    let has = |feature| features.iter().find(|(bit, _)| *bit == feature);
    // The events are described by the first of these the file has, as the
    // crate reads them.
    let attr_size = attr_size as usize;
    let events_fit = match has(EVENT_DESC) {
        Some((_, desc)) => event_desc_fits(&file.within(desc.clone())),
        None if !event_types.is_empty() => file.id_sections_fit(event_types, attr_size),
        // simpleperf's attributes end in their id section's (offset, size).
        None if has(SIMPLEPERF_META_INFO).is_some() => {
            file.id_sections_fit(attrs, attr_size - SECTION_LEN)
        }
        None => true,
    };
    if !events_fit {
        return Err(EVENTS);
    }
    if !file.aux_data_fits(data) {
        return Err(AUX_DATA);
    }
    Ok(())
}

/// A perf.data file's bytes, read in its byte order.
struct Bytes<'a> {
    file: &'a [u8],
    little: bool,
}

impl Bytes<'_> {
    fn len(&self) -> usize {
        self.file.len()
    }

    /// A copy reading only `range` of the file (which must lie inside it).
    fn within(&self, range: Range<usize>) -> Bytes<'_> {
        Bytes {
            file: &self.file[range],
            little: self.little,
        }
    }

    fn u64_at(&self, at: usize) -> Option<u64> {
        let bytes: [u8; 8] = self.file.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self.little {
            true => u64::from_le_bytes(bytes),
            false => u64::from_be_bytes(bytes),
        })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let bytes: [u8; 2] = self.file.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self.little {
            true => u16::from_le_bytes(bytes),
            false => u16::from_be_bytes(bytes),
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let bytes: [u8; 4] = self.file.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self.little {
            true => u32::from_le_bytes(bytes),
            false => u32::from_be_bytes(bytes),
        })
    }

    /// The section whose (offset, size) pair is at `at`, if it lies inside
    /// the file.
    fn section(&self, at: usize) -> Option<Range<usize>> {
        let offset = usize::try_from(self.u64_at(at)?).ok()?;
        let size = usize::try_from(self.u64_at(at + 8)?).ok()?;
        let end = offset.checked_add(size)?;
        (end <= self.len()).then_some(offset..end)
    }

    /// The feature sections, as (feature bit, section), in the order of the
    /// table at `table` (the end of the data section), if every one lies
    /// inside the file.
    fn features(&self, table: usize) -> Option<Vec<(usize, Range<usize>)>> {
        let bits = (0..256).filter(|&bit| {
            self.u64_at(FEATURES + 8 * (bit / 64))
                .is_some_and(|word| word & (1 << (bit % 64)) != 0)
        });
        bits.enumerate()
            .map(|(index, bit)| {
                let at = table.checked_add(SECTION_LEN * index)?;
                Some((bit, self.section(at)?))
            })
            .collect()
    }

    /// Whether the event id sections named by `entries` (each an
    /// attribute of `attr_len` bytes, then its id section's (offset, size))
    /// lie inside the file.
    fn id_sections_fit(&self, entries: Range<usize>, attr_len: usize) -> bool {
        let entry_len = attr_len + SECTION_LEN;
        let count = entries.len() / entry_len;
        (0..count).all(|i| {
            self.section(entries.start + i * entry_len + attr_len)
                .is_some()
        })
    }

    /// Whether the trace data of every AUXTRACE record in `data` (records
    /// read in order, as the crate reads them) lies inside it.
    fn aux_data_fits(&self, data: Range<usize>) -> bool {
        let mut at = data.start;
        while at + 8 <= data.end {
            let (kind, size) = (self.u32_at(at), self.u16_at(at + 6));
            let (Some(kind), Some(size)) = (kind, size) else {
                return true;
            };
            if size < 8 {
                // The crate stops at a record shorter than its header.
                return true;
            }
            let mut end = at + usize::from(size);
            if kind == AUXTRACE {
                let aux = self.u64_at(at + 8).map(usize::try_from);
                match aux {
                    Some(Ok(aux)) if aux <= data.end.saturating_sub(end) => end += aux,
                    _ => return false,
                }
            }
            at = end;
        }
        true
    }
}

/// Whether the `HEADER_EVENT_DESC` section `section` holds the events it
/// counts: each an attribute, a count of ids, a name (length, bytes) and
/// the ids, all inside it.
fn event_desc_fits(section: &Bytes<'_>) -> bool {
    let walk = || -> Option<()> {
        let events = section.u32_at(0)?;
        let attr_size = section.u32_at(4)? as usize;
        let mut at = 8usize;
        // Each event takes at least 8 bytes: the walk ends within the section.
        for _ in 0..events {
            at = at.checked_add(attr_size)?;
            let ids = section.u32_at(at)? as usize;
            let name = section.u32_at(at + 4)? as usize;
            at = at.checked_add(8 + name)?.checked_add(ids.checked_mul(8)?)?;
            if at > section.len() {
                return None;
            }
        }
        Some(())
    };
    walk().is_some()
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

    fn put(file: &mut [u8], at: usize, bytes: &[u8]) {
        file[at..at + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn sections_inside_the_file_fit() {
        assert_eq!(check(&header(0x100, 0x80, 0x200)), Ok(()));
    }

    #[test]
    fn a_section_past_the_end_does_not() {
        assert_eq!(check(&header(0x100, 0x1_0000_0000, 0x200)), Err(SECTIONS));
    }

    #[test]
    fn a_feature_table_past_the_end_does_not() {
        let mut file = header(0x100, 0xf8, 0x200);
        file[FEATURES] = 1;
        assert_eq!(check(&file), Err(SECTIONS));
    }

    /// A file whose only feature is an event description section of
    /// `desc` (at 0x180).
    fn with_event_desc(desc: &[u8]) -> Vec<u8> {
        let mut file = header(0x100, 0x40, 0x180 + desc.len());
        file[FEATURES + 1] = 1 << (EVENT_DESC - 8);
        put(&mut file, 0x140, &0x180u64.to_le_bytes());
        put(&mut file, 0x148, &(desc.len() as u64).to_le_bytes());
        put(&mut file, 0x180, desc);
        file
    }

    /// One event: an attribute of 8 bytes, two ids, a 4-byte name.
    fn one_event(events: u32) -> Vec<u8> {
        [
            &events.to_le_bytes()[..],
            &8u32.to_le_bytes(),
            &[0; 8],
            &2u32.to_le_bytes(),
            &4u32.to_le_bytes(),
            b"clk\0",
            &[0; 16],
        ]
        .concat()
    }

    #[test]
    fn event_descriptions_inside_their_section_fit() {
        assert_eq!(check(&with_event_desc(&one_event(1))), Ok(()));
    }

    #[test]
    fn more_events_than_the_section_holds_do_not() {
        // The crate would reserve room for 4 billion descriptions.
        assert_eq!(check(&with_event_desc(&one_event(u32::MAX))), Err(EVENTS));
        let mut desc = one_event(1);
        put(&mut desc, 16, &u32::MAX.to_le_bytes());
        assert_eq!(check(&with_event_desc(&desc)), Err(EVENTS), "ids");
        let mut desc = one_event(1);
        put(&mut desc, 20, &u32::MAX.to_le_bytes());
        assert_eq!(check(&with_event_desc(&desc)), Err(EVENTS), "name");
    }

    #[test]
    fn event_types_with_an_id_section_past_the_end_do_not_fit() {
        let mut file = header(0x100, 0x40, 0x280);
        put(&mut file, EVENT_TYPES_SECTION, &0x180u64.to_le_bytes());
        put(
            &mut file,
            EVENT_TYPES_SECTION + 8,
            &(136u64 + 16).to_le_bytes(),
        );
        assert_eq!(check(&file), Ok(()));
        put(&mut file, 0x180 + 136 + 8, &u64::MAX.to_le_bytes());
        assert_eq!(check(&file), Err(EVENTS));
    }

    /// A data section at 0x100 of one record of `kind`, 16 bytes long,
    /// whose first field is `first`.
    fn with_record(kind: u32, first: u64) -> Vec<u8> {
        let mut file = header(0x100, 0x10, 0x110);
        put(&mut file, 0x100, &kind.to_le_bytes());
        put(&mut file, 0x106, &16u16.to_le_bytes());
        put(&mut file, 0x108, &first.to_le_bytes());
        file
    }

    #[test]
    fn auxtrace_data_past_the_data_section_does_not_fit() {
        // The crate would grow its buffer to the size stated.
        assert_eq!(check(&with_record(AUXTRACE, 1 << 40)), Err(AUX_DATA));
        assert_eq!(check(&with_record(AUXTRACE, 0)), Ok(()));
        // Another record's first field is no size.
        assert_eq!(check(&with_record(9, 1 << 40)), Ok(()));
    }
}
