//! Renders one `RunReport` to every sink; sinks never decide pass or fail.
//! Owns: the report file, the console log, workflow commands and step outputs.

pub mod annotations;
pub mod console;
pub mod model;
pub mod summary;
pub mod test_reports;
pub mod workflow;

use std::path::Path;

use crate::redact::Redactor;
use model::RunReport;

/// Writes the report as JSON to `path`, redacted.
pub fn write_report_file(
    report: &RunReport,
    path: &Path,
    redactor: &Redactor,
) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(path, redactor.redact(&json).as_bytes())
}
