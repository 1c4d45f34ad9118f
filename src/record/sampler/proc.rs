//! A process that ran before recording began (`--pid`), as `/proc` shows
//! it: its threads, their names and its executable mappings, described to
//! the record stream with the same COMM and MMAP2 records the kernel sends
//! for what happens later.

use std::io;
use std::os::unix::ffi::OsStrExt;

use linux_perf_event_reader::{
    CommOrExecRecord, CpuMode, EventRecord, Mmap2FileId, Mmap2InodeAndVersion, Mmap2Record, RawData,
};
use proc_maps::MapRange;

use crate::perf_records::RecordStream;

/// The threads of process `pid` (its own id among them).
pub fn threads(pid: i32) -> io::Result<Vec<i32>> {
    let mut tids: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// Tells `stream` the name of each of `tids` (threads of `pid`) and the
/// executable mappings of `pid`, as they are now.
pub fn describe(pid: i32, tids: &[i32], stream: &mut RecordStream) -> io::Result<()> {
    for &tid in tids {
        let Ok(comm) = std::fs::read(format!("/proc/{pid}/task/{tid}/comm")) else {
            continue; // the thread has exited since
        };
        let name = comm.strip_suffix(b"\n").unwrap_or(&comm);
        stream.event(EventRecord::Comm(CommOrExecRecord {
            pid,
            tid,
            name: RawData::Single(name),
            is_execve: false,
        }));
    }
    for map in proc_maps::get_process_maps(pid)?
        .iter()
        .filter(|m| m.is_exec())
    {
        let path = map.filename().map_or(&[][..], |p| p.as_os_str().as_bytes());
        stream.event(EventRecord::Mmap2(mmap_record(pid, map, path)));
    }
    Ok(())
}

/// The MMAP2 record the kernel would have sent for `map` of `pid`.
fn mmap_record<'a>(pid: i32, map: &MapRange, path: &'a [u8]) -> Mmap2Record<'a> {
    let protection = libc::PROT_EXEC
        | if map.is_read() { libc::PROT_READ } else { 0 }
        | if map.is_write() { libc::PROT_WRITE } else { 0 };
    Mmap2Record {
        pid,
        tid: pid,
        address: map.start() as u64,
        length: map.size() as u64,
        page_offset: map.offset as u64,
        file_id: Mmap2FileId::InodeAndVersion(Mmap2InodeAndVersion {
            major: 0,
            minor: 0,
            inode: map.inode as u64,
            inode_generation: 0,
        }),
        protection: protection as u32,
        flags: libc::MAP_PRIVATE as u32,
        cpu_mode: CpuMode::User,
        path: RawData::Single(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_this_thread_and_its_own_executable_mapped() {
        let pid = std::process::id() as i32;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        assert!(threads(pid).unwrap().contains(&tid));
        let exe = std::env::current_exe().unwrap();
        let maps = proc_maps::get_process_maps(pid).unwrap();
        let text = maps
            .iter()
            .find(|m| m.is_exec() && m.filename() == Some(exe.as_path()))
            .expect("the test binary's code is mapped");
        let path = exe.as_os_str().as_bytes();
        let record = mmap_record(pid, text, path);
        assert_eq!(
            record.protection & libc::PROT_EXEC as u32,
            libc::PROT_EXEC as u32
        );
        assert_eq!(record.address, text.start() as u64);
    }
}
