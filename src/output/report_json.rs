//! The cycle report as JSON (schema in `docs/REPORT.md`).

use std::io::{self, Write};

use crate::engine::report::Report;

impl Report {
    /// Writes the report as pretty JSON.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}
