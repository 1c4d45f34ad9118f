//! The frame table: each distinct frame stored once and addressed by a
//! small integer id, so that stacks are slices of `u32`s and every later
//! step compares integers, not strings.

use std::hash::{Hash, Hasher};

use indexmap::{Equivalent, IndexSet};
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::frame_modules::{FrameModule, FrameModules, ModuleCode};
use super::origin::Origin;
use super::source_location::SourceLocation;

/// Index of an interned frame.
pub type FrameId = u32;

/// The frame in the root-label slot of a stack whose profiler writes no root
/// label (py-spy, pprof, Chrome): every stack starts with a label slot, so the
/// engine treats all stacks alike, and this one prints as nothing.
pub const NO_LABEL: FrameId = 0;

/// What makes two frames the same frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FrameKey {
    /// A frame known only by its name (folded text, `perf script`): one
    /// name, one frame.
    Name(Box<str>),
    /// A function known by more than its name (its symbol, its inline
    /// instance): one identity, one frame, even where two identities print
    /// the same name (two instances of one generic).
    Symbol { name: Box<str>, identity: Box<str> },
    /// The empty root-label slot ([`NO_LABEL`]).
    NoLabel,
}

impl Hash for FrameKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            // Hashed like a plain `str`, so lookups by name need no key.
            FrameKey::Name(name) => name.hash(state),
            FrameKey::Symbol { identity, .. } => (1u8, identity).hash(state),
            FrameKey::NoLabel => 2u8.hash(state),
        }
    }
}

/// A lookup of a plain-name frame by `&str`, without building a key.
struct ByName<'a>(&'a str);

impl Hash for ByName<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Equivalent<FrameKey> for ByName<'_> {
    fn equivalent(&self, key: &FrameKey) -> bool {
        matches!(key, FrameKey::Name(name) if **name == *self.0)
    }
}

/// The frame table: each distinct frame once, addressed by [`FrameId`].
/// Frame [`NO_LABEL`] is always there.
#[derive(Debug, Clone)]
pub struct Frames {
    keys: IndexSet<FrameKey, FxBuildHasher>,
    /// Where each frame's code comes from, by id, where a reader said
    /// (see [`Origin`]); ids past its end are [`Origin::Unknown`].
    origins: Vec<Origin>,
    /// Where each frame's function is written, for the frames whose reader
    /// said (see [`SourceLocation`]): by id, and only those, so that names-
    /// only input (folded text) pays nothing for it.
    sources: FxHashMap<FrameId, SourceLocation>,
    /// The module each frame came from, for the frames whose reader said
    /// (a recording's): likewise only those.
    modules: FrameModules,
}

impl Default for Frames {
    fn default() -> Self {
        let mut keys = IndexSet::default();
        keys.insert(FrameKey::NoLabel);
        Self {
            keys,
            origins: Vec::new(),
            sources: FxHashMap::default(),
            modules: FrameModules::default(),
        }
    }
}

impl Frames {
    /// The id of the frame called `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> FrameId {
        if let Some(id) = self.keys.get_index_of(&ByName(name)) {
            return id as FrameId;
        }
        self.keys.insert_full(FrameKey::Name(name.into())).0 as FrameId
    }

    /// The id of the function `identity`, printed as `name`, adding it if
    /// it is new. Two identities never share an id, whatever their names.
    pub fn intern_symbol(&mut self, name: &str, identity: &str) -> FrameId {
        let key = FrameKey::Symbol {
            name: name.into(),
            identity: identity.into(),
        };
        self.keys.insert_full(key).0 as FrameId
    }

    /// The id of the plain-name frame `name`, if it is in the table.
    pub fn get(&self, name: &str) -> Option<FrameId> {
        self.keys.get_index_of(&ByName(name)).map(|i| i as FrameId)
    }

    /// The name `id` prints as (empty for [`NO_LABEL`]).
    pub fn name(&self, id: FrameId) -> &str {
        match &self.keys[id as usize] {
            FrameKey::Name(name) | FrameKey::Symbol { name, .. } => name,
            FrameKey::NoLabel => "",
        }
    }

    /// What tells `id` apart from other frames of the same name, when known.
    pub fn identity(&self, id: FrameId) -> Option<&str> {
        match &self.keys[id as usize] {
            FrameKey::Symbol { identity, .. } => Some(identity),
            _ => None,
        }
    }

    /// Re-keys every frame known only by its name for which `display_of`
    /// gives another name (a demangled symbol): identified from now on by
    /// its old name, printed as the new one. Ids do not change.
    pub fn identify(&mut self, display_of: impl Fn(&str) -> Option<String>) {
        let keys = std::mem::take(&mut self.keys);
        let count = keys.len();
        self.keys = keys
            .into_iter()
            .map(|key| match key {
                FrameKey::Name(raw) => match display_of(&raw) {
                    Some(name) => FrameKey::Symbol {
                        name: name.into(),
                        identity: raw,
                    },
                    None => FrameKey::Name(raw),
                },
                other => other,
            })
            .collect();
        // A raw name is never also the identity of another frame, so no two
        // keys become one and ids keep their meaning.
        assert_eq!(self.keys.len(), count, "re-keying merged two frames");
    }

    /// A table where every frame known only by its name for which `key_of`
    /// gives another name is known by that name instead, frames that now
    /// print alike being one; and for every frame of this table, its id
    /// there. Frames known by their identity keep it. Ids stay in order,
    /// so where nothing merged they are the same.
    pub(super) fn rekeyed(
        &self,
        key_of: impl Fn(&str) -> Option<String>,
    ) -> (Frames, Vec<FrameId>) {
        let mut table = Frames::default();
        let ids = (0..self.len() as FrameId)
            .map(|id| {
                let key = &self.keys[id as usize];
                let renamed = match key {
                    FrameKey::Name(name) => key_of(name),
                    _ => None,
                };
                let Some(name) = renamed else {
                    return table.adopt(self, id);
                };
                let new = table.intern(&name);
                table.take_what_is_known(new, self, id);
                new
            })
            .collect();
        (table, ids)
    }

    /// For every frame, the frame known only by the name it prints (added
    /// where missing): text output merges frames that print alike.
    pub fn by_printed_name(&mut self) -> Vec<FrameId> {
        let symbols: Vec<(FrameId, Box<str>)> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(id, key)| match key {
                FrameKey::Symbol { name, .. } => Some((id as FrameId, name.clone())),
                _ => None,
            })
            .collect();
        let mut ids: Vec<FrameId> = (0..self.len() as FrameId).collect();
        for (id, name) in symbols {
            ids[id as usize] = self.intern(&name);
        }
        self.keep_what_merged_frames_agree_on(&ids);
        ids
    }

    /// Gives each frame that others became (frame `ids[f]` for frame `f`)
    /// the origin, the module and the source location all of them that
    /// know one agree on, and none where they disagree: one frame of two
    /// libraries is in neither.
    fn keep_what_merged_frames_agree_on(&mut self, ids: &[FrameId]) {
        let merged = || {
            let pairs = ids
                .iter()
                .enumerate()
                .map(|(from, &to)| (from as FrameId, to));
            pairs.filter(|(from, to)| from != to)
        };
        let known_origin = |id| Some(self.origin(id)).filter(|&o| o != Origin::Unknown);
        for (id, origin) in agreed(merged(), known_origin) {
            self.set_origin(id, origin.unwrap_or_default());
        }
        if !self.modules.is_empty() {
            for (id, module) in agreed(merged(), |id| self.modules.index(id)) {
                self.modules.set_index(id, module);
            }
        }
        if !self.sources.is_empty() {
            for (id, source) in agreed(merged(), |id| self.sources.get(&id).cloned()) {
                match source {
                    Some(source) => self.sources.insert(id, source),
                    None => self.sources.remove(&id),
                };
            }
        }
    }

    /// Records where frame `id`'s code comes from.
    pub fn set_origin(&mut self, id: FrameId, origin: Origin) {
        let index = id as usize;
        if index >= self.origins.len() {
            if origin == Origin::Unknown {
                return;
            }
            self.origins.resize(index + 1, Origin::Unknown);
        }
        self.origins[index] = origin;
    }

    /// Where frame `id`'s code comes from, if its reader said.
    pub fn origin(&self, id: FrameId) -> Origin {
        self.origins.get(id as usize).copied().unwrap_or_default()
    }

    /// Records where frame `id`'s function is written: the first location
    /// given stays (frames merged into one keep the first one's), unless a
    /// later one says more (a line where it has a file alone).
    pub fn set_source(&mut self, id: FrameId, source: SourceLocation) {
        if source.says_more_than(self.sources.get(&id)) {
            self.sources.insert(id, source);
        }
    }

    /// Where frame `id`'s function is written, if its reader said.
    pub fn source(&self, id: FrameId) -> Option<&SourceLocation> {
        self.sources.get(&id)
    }

    /// Records that frame `id`'s code is in `module` (an ELF file,
    /// `[kernel.kallsyms]`, a JIT map): the first module given stays.
    pub fn set_module(&mut self, id: FrameId, module: &FrameModule) {
        self.modules.set(id, &module.path, module.code);
    }

    /// The path of the module frame `id`'s code is in, if its reader said.
    pub fn module(&self, id: FrameId) -> Option<&str> {
        self.modules.path(id)
    }

    /// What code the module frame `id`'s code is in holds, if its reader
    /// said.
    pub fn module_code(&self, id: FrameId) -> Option<ModuleCode> {
        self.modules.code(id)
    }

    /// Whether some frame is known by its identity (not only by its name).
    pub fn has_symbols(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k, FrameKey::Symbol { .. }))
    }

    /// How many distinct frames there are, [`NO_LABEL`] included.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the table holds only [`NO_LABEL`].
    pub fn is_empty(&self) -> bool {
        self.keys.len() <= 1
    }

    /// Every `(id, name)` pair, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FrameId, &str)> {
        (0..self.keys.len() as FrameId).map(|id| (id, self.name(id)))
    }

    /// The id in this table of frame `id` of `other`, added if new.
    pub(super) fn adopt(&mut self, other: &Frames, id: FrameId) -> FrameId {
        let key = &other.keys[id as usize];
        let adopted = match self.keys.get_index_of(key) {
            Some(i) => i as FrameId,
            None => self.keys.insert_full(key.clone()).0 as FrameId,
        };
        self.take_what_is_known(adopted, other, id);
        adopted
    }

    /// Gives frame `id` the origin, source location and module of frame
    /// `from` of `other`, where it has none of its own yet.
    fn take_what_is_known(&mut self, id: FrameId, other: &Frames, from: FrameId) {
        if self.origin(id) == Origin::Unknown {
            self.set_origin(id, other.origin(from));
        }
        if let Some(source) = other.source(from) {
            self.set_source(id, source.clone());
        }
        if let (Some(path), Some(code)) = (other.module(from), other.module_code(from)) {
            self.modules.set(id, path, code);
        }
    }

    /// For every frame of `other`, its id in this table (added if new).
    pub(super) fn adopt_all(&mut self, other: &Frames) -> Vec<FrameId> {
        (0..other.len() as FrameId)
            .map(|id| self.adopt(other, id))
            .collect()
    }
}

/// For each frame others became (`merged` holds a `(from, to)` pair for
/// each), what `known_of` says of them all (`to` included) where they
/// agree, `None` where they do not; frames none of whose `from` frames
/// know anything are left out.
fn agreed<T: Clone + Eq>(
    merged: impl Iterator<Item = (FrameId, FrameId)>,
    known_of: impl Fn(FrameId) -> Option<T>,
) -> Vec<(FrameId, Option<T>)> {
    let mut agreed: FxHashMap<FrameId, Option<T>> = FxHashMap::default();
    for (from, to) in merged {
        let Some(known) = known_of(from) else {
            continue;
        };
        let value = (agreed.entry(to)).or_insert_with(|| known_of(to).or(Some(known.clone())));
        if value.as_ref() != Some(&known) {
            *value = None;
        }
    }
    agreed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_printed_alike_share_a_module_only_where_theirs_agree() {
        let mut frames = Frames::default();
        let a = frames.intern_symbol("walk", "app!walk");
        let b = frames.intern_symbol("walk", "app!walk@0x10");
        let c = frames.intern_symbol("init", "liba.so!init");
        let d = frames.intern_symbol("init", "libb.so!init");
        frames.set_module(a, &FrameModule::file("/bin/app"));
        frames.set_module(b, &FrameModule::file("/bin/app"));
        frames.set_module(c, &FrameModule::file("/lib/liba.so"));
        frames.set_module(d, &FrameModule::file("/lib/libb.so"));
        let printed = frames.by_printed_name();
        let walk = printed[a as usize];
        assert_eq!(printed[b as usize], walk);
        assert_eq!(frames.name(walk), "walk");
        assert_eq!(frames.module(walk), Some("/bin/app"));
        // Two libraries' `init`, printed as one frame, is in neither.
        let init = printed[c as usize];
        assert_eq!(printed[d as usize], init);
        assert_eq!(frames.module(init), None);
        assert_eq!(frames.module(c), Some("/lib/liba.so"));
    }

    #[test]
    fn functions_printed_alike_share_an_origin_only_where_theirs_agree() {
        let mut frames = Frames::default();
        let a = frames.intern_symbol("walk", "app!walk");
        let b = frames.intern_symbol("walk", "app!walk@0x10");
        let c = frames.intern_symbol("init", "liba.so!init");
        let d = frames.intern_symbol("init", "libb.so!init");
        frames.set_origin(a, Origin::Author);
        frames.set_origin(c, Origin::Author);
        frames.set_origin(d, Origin::Other);
        let printed = frames.by_printed_name();
        // `b`'s origin is unknown: `a`'s stands.
        assert_eq!(frames.origin(printed[b as usize]), Origin::Author);
        assert_eq!(frames.origin(printed[c as usize]), Origin::Unknown);
    }

    #[test]
    fn functions_printed_alike_share_a_source_location_only_where_theirs_agree() {
        let mut frames = Frames::default();
        let a = frames.intern_symbol("walk", "app!walk");
        let b = frames.intern_symbol("walk", "app!walk@0x10");
        let c = frames.intern_symbol("step", "app!step@0x20");
        let d = frames.intern_symbol("step", "app!step@0x30");
        let at = |file: &str, line| SourceLocation::new(file, Some(line)).unwrap();
        frames.set_source(a, at("src/walk.rs", 3));
        frames.set_source(b, at("src/walk.rs", 3));
        frames.set_source(c, at("a.c", 11));
        frames.set_source(d, at("b.c", 11));
        let printed = frames.by_printed_name();
        assert_eq!(
            frames.source(printed[a as usize]),
            Some(&at("src/walk.rs", 3))
        );
        // Two files' `step`, printed as one frame, is written in neither.
        assert_eq!(frames.source(printed[c as usize]), None);
        assert_eq!(frames.source(c), Some(&at("a.c", 11)));
    }
}
