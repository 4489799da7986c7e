//! The findings of a run as annotations: the failing buildspec command, failed tests with a
//! known file and line, buildspec warnings, and deploy errors. One list, rendered two ways: as
//! check-run annotations (`github::check_run`) and as `::error` workflow commands (here).
//! Owns: what gets annotated and where. Must not: send or print anything.

use std::path::Path;

use crate::base::report::RunReport;
use crate::report::workflow;

/// The runner shows at most this many error (and warning) workflow annotations per step.
pub const WORKFLOW_ANNOTATION_LIMIT: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Notice,
    Warning,
    Failure,
}

/// Where a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The buildspec command that failed the build.
    Command,
    Deploy,
    Test,
    /// A buildspec warning; the console already printed it as a workflow annotation.
    Buildspec,
}

/// One finding. `path` is relative to the repository root; `None` for findings that belong to
/// no file (deploy errors), which only workflow commands can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub source: Source,
    pub severity: Severity,
    pub path: Option<String>,
    pub line: Option<usize>,
    pub title: String,
    pub message: String,
}

/// Maps paths as the build saw them (relative to the source directory) to paths relative to
/// the repository root, as annotations need them.
#[derive(Debug, Clone)]
pub struct RepoPaths {
    /// The source directory relative to the workspace: `""` or `services/api`.
    prefix: String,
    source: std::path::PathBuf,
    workspace: Option<std::path::PathBuf>,
}

impl RepoPaths {
    pub fn new(source_dir: &Path, workspace: Option<&Path>) -> RepoPaths {
        let workspace = workspace.and_then(|w| w.canonicalize().ok());
        let prefix = workspace
            .as_deref()
            .and_then(|w| source_dir.strip_prefix(w).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        RepoPaths {
            prefix,
            source: source_dir.to_owned(),
            workspace,
        }
    }

    /// `path` relative to the repository root. Absolute paths outside the workspace are kept.
    pub fn relative(&self, path: &str) -> String {
        let as_path = Path::new(path);
        if as_path.is_absolute() {
            let root = self.workspace.as_deref().unwrap_or(&self.source);
            return as_path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| path.to_owned());
        }
        let path = path.trim_start_matches("./");
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }
}

/// Every annotation for `report`, most important first.
pub fn collect(report: &RunReport, paths: &RepoPaths) -> Vec<Annotation> {
    let mut out = Vec::new();
    out.extend(failing_command(report, paths));
    out.extend(deploy_errors(report));
    out.extend(test_failures(report, paths));
    out.extend(buildspec_warnings(report, paths));
    out
}

fn failing_command(report: &RunReport, paths: &RepoPaths) -> Option<Annotation> {
    let position = report.error_position.as_ref()?;
    let phase = report.failed_phase.map(|p| p.name()).unwrap_or("BUILD");
    let command = report
        .phases
        .iter()
        .flat_map(|p| &p.commands)
        .rfind(|c| c.line == position.line);
    let status = match (command, command.and_then(|c| c.exit_code)) {
        (_, Some(code)) => format!("exit status {code}"),
        (Some(_), None) => "stopped".to_owned(),
        // No command failed: the buildspec itself was rejected before any phase ran.
        (None, None) => "invalid buildspec".to_owned(),
    };
    let message = report
        .error
        .clone()
        .unwrap_or_else(|| format!("the command failed with {status}"));
    Some(Annotation {
        source: Source::Command,
        severity: Severity::Failure,
        path: Some(paths.relative(&position.file)),
        line: Some(position.line),
        title: format!("{phase} failed: {status}"),
        message,
    })
}

fn deploy_errors(report: &RunReport) -> Vec<Annotation> {
    report
        .deploy
        .iter()
        .filter_map(|entry| {
            let error = entry.error.as_ref()?;
            Some(Annotation {
                source: Source::Deploy,
                severity: Severity::Failure,
                path: None,
                line: None,
                title: format!("deploy of `{}` failed", entry.function_name),
                message: error.clone(),
            })
        })
        .collect()
}

fn test_failures(report: &RunReport, paths: &RepoPaths) -> Vec<Annotation> {
    report
        .test_reports
        .iter()
        .flat_map(|group| &group.failures)
        .filter_map(|failure| {
            let file = failure.file.as_deref()?;
            let line = failure.line?;
            Some(Annotation {
                source: Source::Test,
                severity: Severity::Failure,
                path: Some(paths.relative(file)),
                line: Some(line.max(1)),
                title: format!("{} › {}", failure.suite, failure.name),
                message: if failure.message.is_empty() {
                    "the test failed".to_owned()
                } else {
                    failure.message.clone()
                },
            })
        })
        .collect()
}

fn buildspec_warnings(report: &RunReport, paths: &RepoPaths) -> Vec<Annotation> {
    report
        .warnings
        .iter()
        .filter_map(|warning| {
            let position = warning.position.as_ref()?;
            Some(Annotation {
                source: Source::Buildspec,
                severity: Severity::Warning,
                path: Some(paths.relative(&position.file)),
                line: Some(position.line.max(1)),
                title: "buildspec".to_owned(),
                message: warning.message.clone(),
            })
        })
        .collect()
}

/// `::error file=…,line=…::` lines for the failing command and deploy errors; with
/// `everything`, also for the other findings (used when no check run can carry them), up to
/// the runner's limit of 10 per kind.
pub fn workflow_commands(annotations: &[Annotation], everything: bool) -> Vec<String> {
    let mut errors = 0;
    let mut warnings = 0;
    let mut lines = Vec::new();
    for annotation in annotations {
        let wanted = match annotation.source {
            Source::Command | Source::Deploy => true,
            Source::Test => everything,
            Source::Buildspec => false,
        };
        if !wanted {
            continue;
        }
        let (kind, count) = match annotation.severity {
            Severity::Failure => ("error", &mut errors),
            Severity::Warning => ("warning", &mut warnings),
            Severity::Notice => ("notice", &mut warnings),
        };
        *count += 1;
        if *count > WORKFLOW_ANNOTATION_LIMIT {
            continue;
        }
        lines.push(workflow::annotation(
            kind,
            &annotation.message,
            annotation.path.as_deref(),
            annotation.line,
            None,
            Some(&annotation.title),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_to_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let source = root.join("services/api");
        std::fs::create_dir_all(&source).unwrap();
        let paths = RepoPaths::new(&source, Some(&root));
        assert_eq!(
            paths.relative("buildspec.yml"),
            "services/api/buildspec.yml"
        );
        assert_eq!(
            paths.relative(&root.join("tests/x.py").to_string_lossy()),
            "tests/x.py"
        );
        let flat = RepoPaths::new(&root, Some(&root));
        assert_eq!(flat.relative("./buildspec.yml"), "buildspec.yml");
    }
}
