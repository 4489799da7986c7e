//! The runner's file commands and the lines it reads as commands, one writer each: secret masks
//! (`::add-mask::`), step outputs (`GITHUB_OUTPUT`), saved state (`GITHUB_STATE`), the job
//! summary (`GITHUB_STEP_SUMMARY`; printed to stderr outside a job), and the workflow
//! annotations of a finished run.
//! Owns: those files and lines. Must not: decide anything about the run.

use std::io::Write as _;
use std::path::Path;

use super::annotations::{self, Annotation};
use super::terminal::Terminal;
use super::{summary, workflow};
use crate::base::report::{DeployEntry, RunReport};
use crate::redact::Redactor;
use crate::settings::Workflow;

#[derive(Clone, Debug)]
pub struct WorkflowFiles {
    workflow: Workflow,
    redactor: Redactor,
    terminal: Terminal,
}

impl WorkflowFiles {
    pub fn new(workflow: Workflow, redactor: Redactor) -> WorkflowFiles {
        WorkflowFiles {
            workflow,
            terminal: Terminal::new(redactor.clone()),
            redactor,
        }
    }

    pub fn actions(&self) -> bool {
        self.workflow.actions
    }

    /// Registers one secret piece with the runner, in a job. The one line that must carry the
    /// secret itself, so it bypasses the redactor. A failed write is dropped, as in
    /// `report::terminal`: with stdout gone, nothing reaches the log to be masked either.
    pub fn mask(&self, piece: &str) {
        if self.workflow.actions {
            let mut stdout = std::io::stdout().lock();
            for line in workflow::add_mask(piece) {
                let _ = writeln!(stdout, "{line}");
            }
        }
    }

    /// Appends `name=value` records to `GITHUB_STATE`, for the `post` step.
    pub fn save_state(&self, records: &[(String, String)]) {
        if let Some(path) = &self.workflow.state_file
            && let Err(err) = workflow::append_records(path, records)
        {
            tracing::warn!("cannot record state in GITHUB_STATE: {err}");
        }
    }

    /// Step outputs, once, at the end: the deploy's (when there was one), the exported
    /// variables, the run's status and the check run's id.
    pub fn write_outputs(&self, report: &RunReport) {
        let Some(path) = &self.workflow.output_file else {
            return;
        };
        let mut records = if report.deploy.is_empty() {
            // A run that chose to deploy nothing still says so.
            report
                .skipped
                .iter()
                .map(|_| ("deployed".to_owned(), "false".to_owned()))
                .collect()
        } else {
            deploy_records(&report.deploy)
        };
        records.extend(
            report
                .exported_variables
                .iter()
                .map(|(name, value)| (name.clone(), self.redactor.redact(value).into_owned())),
        );
        records.push(("status".to_owned(), report.status.name().to_owned()));
        if let Some(id) = report.check_run_id {
            records.push(("check-run-id".to_owned(), id.to_string()));
        }
        if let Some(preview) = report.preview.as_ref().filter(|p| !p.removed) {
            let urls: Vec<&str> = preview
                .functions
                .iter()
                .filter_map(|f| f.url.as_deref())
                .collect();
            if !urls.is_empty() {
                records.push(("preview-url".to_owned(), urls.join(",")));
            }
        }
        if let Err(err) = workflow::append_records(path, &records) {
            self.terminal.err(&format!(
                "warning: cannot write step outputs to GITHUB_OUTPUT: {err}"
            ));
        }
    }

    /// The finished run's annotations as workflow commands, in a job; `everything` when no
    /// check run carries them.
    pub fn annotate(&self, found: &[Annotation], everything: bool) {
        if self.workflow.actions {
            for line in annotations::workflow_commands(found, everything) {
                self.terminal.out(&line);
            }
        }
    }

    /// Appends the report to `GITHUB_STEP_SUMMARY` in Actions; prints it to stderr otherwise.
    pub fn write_summary(&self, report: &RunReport) {
        if !self.workflow.actions {
            self.terminal
                .err(&format!("\n{}", summary::markdown(report)));
            return;
        }
        let Some(path) = &self.workflow.summary_file else {
            return;
        };
        if let Err(err) = append_summary(path, report, &self.redactor) {
            self.terminal.err(&format!(
                "warning: cannot write the job summary to `{}`: {err}",
                path.display()
            ));
        }
    }

    /// Appends a command's own Markdown (`import`'s report) to `GITHUB_STEP_SUMMARY`, in a job
    /// only; the command prints it anyway.
    pub fn append_summary_markdown(&self, markdown: &str) {
        let (true, Some(path)) = (self.workflow.actions, &self.workflow.summary_file) else {
            return;
        };
        let used = fs_err::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let room = summary::STEP_SUMMARY_LIMIT.saturating_sub(used + 4096);
        let text = self.redactor.redact(markdown).into_owned();
        let text = summary::truncate_end(&text, room, summary::TRUNCATED_END, summary::Unit::Bytes);
        let written = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(text.as_bytes()));
        if let Err(err) = written {
            self.terminal.err(&format!(
                "warning: cannot write the job summary to `{}`: {err}",
                path.display()
            ));
        }
    }
}

fn append_summary(path: &Path, report: &RunReport, redactor: &Redactor) -> std::io::Result<()> {
    let used = fs_err::metadata(path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let room = summary::STEP_SUMMARY_LIMIT.saturating_sub(used + 4096);
    let text = redactor
        .redact(&summary::step_summary(report, room))
        .into_owned();
    let text = summary::truncate_end(&text, room, summary::TRUNCATED_END, summary::Unit::Bytes);
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// The deploy's step outputs. One function: its values; several: comma-separated in target
/// order, and `deployed`/`rolled-back` true when true for any.
pub fn deploy_records(entries: &[DeployEntry]) -> Vec<(String, String)> {
    let join =
        |f: &dyn Fn(&DeployEntry) -> String| entries.iter().map(f).collect::<Vec<_>>().join(",");
    vec![
        ("function-arn".to_owned(), join(&|e| e.function_arn.clone())),
        ("version".to_owned(), join(&|e| e.version.clone())),
        (
            "previous-version".to_owned(),
            join(&|e| e.previous_version.clone()),
        ),
        ("alias-arn".to_owned(), join(&|e| e.alias_arn.clone())),
        (
            "code-sha256".to_owned(),
            entries
                .first()
                .map(|e| e.code_sha256.clone())
                .unwrap_or_default(),
        ),
        (
            "deployed".to_owned(),
            entries.iter().any(|e| e.deployed).to_string(),
        ),
        (
            "rolled-back".to_owned(),
            entries.iter().any(|e| e.rolled_back).to_string(),
        ),
        (
            "image-digest".to_owned(),
            entries
                .first()
                .and_then(|e| e.image_digest.clone())
                .unwrap_or_default(),
        ),
        (
            "package-size".to_owned(),
            entries
                .first()
                .map(|e| e.package_size.to_string())
                .unwrap_or_default(),
        ),
    ]
}
