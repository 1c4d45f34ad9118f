//! A JIT file read as its runtime appends to it: opened as untrusted input
//! ([`jit_file::open`]) once it exists, then each read takes only the
//! bytes added since, within the file's [`jit_file::MAX_BYTES`] bound
//! overall, and keeps what its reader could not use yet (a line or a
//! record still being written).

use std::fs::File;
use std::io::{Read, Take};
use std::path::{Path, PathBuf};

use super::jit_file;

/// A perf map or jitdump, read as it grows.
#[derive(Debug)]
pub struct GrowingFile {
    path: PathBuf,
    process_uid: Option<u32>,
    state: State,
    /// Bytes read but not consumed yet.
    pending: Vec<u8>,
}

#[derive(Debug)]
enum State {
    /// Not there yet.
    Waiting,
    Open(Take<File>),
    /// Refused, unreadable, or corrupt: never read again.
    Closed,
}

impl GrowingFile {
    /// The file at `path`, written by a process running as `process_uid`
    /// where known; nothing is read before [`GrowingFile::read_new`].
    pub fn new(path: &Path, process_uid: Option<u32>) -> Self {
        Self {
            path: path.to_owned(),
            process_uid,
            state: State::Waiting,
            pending: Vec::new(),
        }
    }

    /// The path read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes not consumed yet, after reading those added since the
    /// last call (opening the file if it has appeared).
    pub fn read_new(&mut self) -> &[u8] {
        if matches!(self.state, State::Waiting) {
            self.state = match jit_file::open(&self.path, self.process_uid) {
                Some(file) => State::Open(file),
                // A refusal was noted: a planted file is never read.
                None if std::fs::symlink_metadata(&self.path).is_ok() => State::Closed,
                None => State::Waiting,
            };
        }
        if let State::Open(file) = &mut self.state
            && file.read_to_end(&mut self.pending).is_err()
        {
            self.state = State::Closed;
        }
        &self.pending
    }

    /// Drops the first `bytes` of what [`GrowingFile::read_new`] gave.
    pub fn consume(&mut self, bytes: usize) {
        self.pending.drain(..bytes.min(self.pending.len()));
    }

    /// Stops reading: what follows cannot be trusted.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.pending = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn each_read_takes_what_was_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        let mut file = GrowingFile::new(&path, None);
        assert!(file.read_new().is_empty(), "not there yet");
        let mut writer = File::create(&path).unwrap();
        writer.write_all(b"10 4 f\n20").unwrap();
        assert_eq!(file.read_new(), b"10 4 f\n20");
        file.consume(7);
        writer.write_all(b" 4 g\n").unwrap();
        assert_eq!(file.read_new(), b"20 4 g\n");
    }

    #[test]
    fn a_link_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real");
        std::fs::write(&target, "10 4 f\n").unwrap();
        let path = dir.path().join("perf-2.map");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let mut file = GrowingFile::new(&path, None);
        assert!(file.read_new().is_empty());
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "10 4 f\n").unwrap();
        assert!(file.read_new().is_empty(), "closed for good");
    }
}
