//! The reporters that write to the terminal and the runner's files, and the renderings they
//! share with the GitHub and SNS reporters: the live console (`console`), plain messages
//! (`terminal`), workflow commands and file commands (`workflow`, `files`), the job summary
//! and check-run text (`summary`), annotations (`annotations`) and the report file. Sinks
//! never decide pass or fail.
//! Owns: stdout, stderr, the report file, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY.
//! Must not: run a stage, call AWS or GitHub.

pub mod annotations;
pub mod console;
pub mod files;
pub mod summary;
pub mod terminal;
pub mod workflow;

use std::path::Path;

use crate::base::report::RunReport;
use crate::redact::Redactor;

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
