//! A process's memory map: which module each executable address range
//! holds, as the MMAP/MMAP2 records told.

use super::modules::ModuleId;

/// One mapped range of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// First address (AVMA, the process's address).
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    pub module: ModuleId,
    /// `avma - bias` is the address the module's own files use (SVMA):
    /// symbol tables and DWARF are looked up with it.
    pub bias: u64,
}

impl Mapping {
    /// `avma` as the module's own address.
    pub fn module_address(&self, avma: u64) -> u64 {
        avma.wrapping_sub(self.bias)
    }
}

/// Non-overlapping mappings, sorted by start.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    sorted: Vec<Mapping>,
}

impl Mappings {
    /// Adds `mapping`; older mappings it overlaps are cut back or removed,
    /// as a new `mmap` replaces what was mapped there. Returns the start
    /// addresses of the mappings that were removed or cut (their unwind
    /// modules are stale).
    pub fn insert(&mut self, mapping: Mapping) -> Vec<u64> {
        let mut displaced = Vec::new();
        let mut kept = Vec::with_capacity(self.sorted.len() + 2);
        for old in self.sorted.drain(..) {
            if old.end <= mapping.start || mapping.end <= old.start {
                kept.push(old);
                continue;
            }
            displaced.push(old.start);
            if old.start < mapping.start {
                kept.push(Mapping {
                    end: mapping.start,
                    ..old
                });
            }
            if mapping.end < old.end {
                kept.push(Mapping {
                    start: mapping.end,
                    ..old
                });
            }
        }
        kept.push(mapping);
        kept.sort_unstable_by_key(|m| m.start);
        self.sorted = kept;
        displaced
    }

    /// The mapping that holds `avma`.
    pub fn find(&self, avma: u64) -> Option<&Mapping> {
        let index = self.sorted.partition_point(|m| m.start <= avma);
        let candidate = self.sorted.get(index.checked_sub(1)?)?;
        (avma < candidate.end).then_some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(start: u64, end: u64, module: ModuleId) -> Mapping {
        Mapping {
            start,
            end,
            module,
            bias: 0,
        }
    }

    #[test]
    fn finds_the_mapping_holding_an_address() {
        let mut maps = Mappings::default();
        maps.insert(mapping(0x1000, 0x2000, 1));
        maps.insert(mapping(0x3000, 0x4000, 2));
        assert_eq!(maps.find(0x1000).map(|m| m.module), Some(1));
        assert_eq!(maps.find(0x1fff).map(|m| m.module), Some(1));
        assert_eq!(maps.find(0x2000), None);
        assert_eq!(maps.find(0x3500).map(|m| m.module), Some(2));
        assert_eq!(maps.find(0x10), None);
    }

    #[test]
    fn a_new_mapping_cuts_the_old_ones_it_overlaps() {
        let mut maps = Mappings::default();
        maps.insert(mapping(0x1000, 0x4000, 1));
        let displaced = maps.insert(mapping(0x2000, 0x3000, 2));
        assert_eq!(displaced, vec![0x1000]);
        assert_eq!(maps.find(0x1800).map(|m| m.module), Some(1));
        assert_eq!(maps.find(0x2800).map(|m| m.module), Some(2));
        assert_eq!(maps.find(0x3800).map(|m| m.module), Some(1));
    }
}
