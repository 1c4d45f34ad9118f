//! A running JVM's perf map: `autofold record --pid` of a JVM asks it to
//! write `/tmp/perf-PID.map` (`jcmd PID Compiler.perfmap`) once perf has
//! stopped, so the recording's JIT frames have names. A JVM that autofold
//! starts writes it at exit instead (`jit_setup.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::console::note;

/// If process `pid` is a JVM, has it write its perf map, and says so (or
/// why it could not) in one note.
pub fn write_perf_map(pid: u32) {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return;
    };
    if exe.file_name().is_none_or(|name| name != "java") {
        return;
    }
    let jcmd = jcmd_beside(&exe);
    let output = Command::new(&jcmd)
        .arg(pid.to_string())
        .arg("Compiler.perfmap")
        .output();
    match output {
        Ok(out) if out.status.success() => note(format!(
            "asked JVM {pid} for its perf map (jcmd {pid} Compiler.perfmap): /tmp/perf-{pid}.map"
        )),
        Ok(out) => note(format!(
            "JVM {pid} wrote no perf map ({} {pid} Compiler.perfmap failed: {}); its JIT frames are unnamed",
            jcmd.display(),
            crate::record::perf::first_line(&String::from_utf8_lossy(&out.stdout))
        )),
        Err(error) => note(format!(
            "JVM {pid} wrote no perf map (cannot run {}: {error}); its JIT frames are unnamed",
            jcmd.display()
        )),
    }
}

/// The `jcmd` of the JDK `java` belongs to, else the one on `PATH`.
fn jcmd_beside(java: &Path) -> PathBuf {
    let beside = java.with_file_name("jcmd");
    if beside.is_file() {
        beside
    } else {
        PathBuf::from("jcmd")
    }
}
