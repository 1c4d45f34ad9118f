//! Name tables of text files that list address ranges — kallsyms and
//! `/tmp/perf-PID.map` — looked up the same way.

/// A named range: start, end (exclusive; `None`: up to the next start),
/// name.
pub type Range = (u64, Option<u64>, String);

/// Named address ranges, sorted by start.
#[derive(Debug, Default)]
pub struct AddressTable {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    start: u64,
    end: u64,
    name: String,
}

impl AddressTable {
    /// A table of `(start, end, name)` ranges, `end` exclusive; `None` as
    /// end means "up to the next start". Of ranges with one start, the last
    /// one listed is kept (code re-generated at an address replaces the old).
    pub fn new(ranges: impl IntoIterator<Item = Range>) -> Self {
        let mut listed: Vec<(usize, u64, Option<u64>, String)> = ranges
            .into_iter()
            .enumerate()
            .map(|(order, (start, end, name))| (order, start, end, name))
            .collect();
        listed.sort_by_key(|&(order, start, ..)| (start, std::cmp::Reverse(order)));
        listed.dedup_by_key(|entry| entry.1);
        let next_starts: Vec<u64> = listed
            .iter()
            .skip(1)
            .map(|entry| entry.1)
            .chain([u64::MAX])
            .collect();
        let entries = listed
            .into_iter()
            .zip(next_starts)
            .map(|((_, start, end, name), next)| Entry {
                start,
                end: end.unwrap_or(next),
                name,
            })
            .collect();
        Self { entries }
    }

    /// The name of the range holding `address`.
    pub fn lookup(&self, address: u64) -> Option<&str> {
        let index = self.entries.partition_point(|e| e.start <= address);
        let entry = self.entries.get(index.checked_sub(1)?)?;
        (address < entry.end).then_some(entry.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_ended_ranges_reach_the_next_start() {
        let table = AddressTable::new([
            (0x10, None, "a".to_owned()),
            (0x20, Some(0x28), "b".to_owned()),
            (0x30, None, "c".to_owned()),
        ]);
        assert_eq!(table.lookup(0x1f), Some("a"));
        assert_eq!(table.lookup(0x27), Some("b"));
        assert_eq!(table.lookup(0x29), None);
        assert_eq!(table.lookup(0x8), None);
    }

    #[test]
    fn the_last_listed_range_at_a_start_wins() {
        let table = AddressTable::new([
            (0x10, Some(0x20), "old".to_owned()),
            (0x10, Some(0x20), "new".to_owned()),
        ]);
        assert_eq!(table.lookup(0x18), Some("new"));
    }
}
