//! `RunReport`: the one model of what happened, built from stage results and rendered by every
//! sink (report file, console, job summary, check run, SNS). Pure data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Block, Phase, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Succeeded,
    Failed,
    TimedOut,
    Stopped,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
            RunStatus::TimedOut => "TIMED_OUT",
            RunStatus::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhaseStatus {
    Succeeded,
    Failed,
    Skipped,
    TimedOut,
    Stopped,
}

impl PhaseStatus {
    pub fn name(self) -> &'static str {
        match self {
            PhaseStatus::Succeeded => "SUCCEEDED",
            PhaseStatus::Failed => "FAILED",
            PhaseStatus::Skipped => "SKIPPED",
            PhaseStatus::TimedOut => "TIMED_OUT",
            PhaseStatus::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    pub command: String,
    /// 1-based line of the command in the buildspec.
    pub line: usize,
    /// `None` when the command was killed by a signal or never finished.
    pub exit_code: Option<i32>,
    pub block: Block,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    pub name: Phase,
    pub status: PhaseStatus,
    pub duration_ms: u64,
    pub commands: Vec<CommandReport>,
    /// CodeBuild's phase context message, when the phase failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The last lines of the phase's output (redacted), for the check run text.
    #[serde(skip)]
    pub log_tail: Vec<String>,
}

/// One zip that the run produced or was given.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ArtifactReport {
    /// `primary`, or the secondary artifact's identifier.
    pub identifier: String,
    /// The evaluated `artifacts.name`, when the buildspec sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sorted entry names.
    pub files: Vec<String>,
    pub zip: String,
    pub size: u64,
    pub uncompressed_size: u64,
    /// CodeSha256: base64 of the SHA-256 of the zip, as Lambda reports it.
    pub sha256: String,
    /// Over Lambda's 50 MB direct-upload limit: must go through S3.
    pub needs_s3: bool,
}

/// The artifacts section of the report: the primary zip and any secondary ones.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ArtifactsReport {
    #[serde(flatten)]
    pub primary: Option<ArtifactReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary: Vec<ArtifactReport>,
}

/// The result of deploying to one function.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DeployEntry {
    pub function_name: String,
    pub function_arn: String,
    pub environment: String,
    pub region: String,
    pub alias: String,
    pub alias_arn: String,
    /// The version the alias points at after the deploy.
    pub version: String,
    /// The version this run published, when it published one (it may not be the one the
    /// alias serves: a failed smoke test or alarm leaves the alias where it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_version: Option<String>,
    /// The version the alias pointed at before.
    pub previous_version: String,
    pub code_sha256: String,
    /// False when the code was unchanged and nothing was uploaded or published.
    pub deployed: bool,
    pub rolled_back: bool,
    pub package_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// How the package reached Lambda: `direct`, `s3://bucket/key` or `image`.
    pub upload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The deployed version has a SnapStart snapshot.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub snap_start: bool,
    /// How long the published version took to read Active, when it had to be waited for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_wait_ms: Option<u64>,
    /// The alias's provisioned concurrency, which the move allocated for the new version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<i32>,
    /// The capacity provider of a function on Lambda Managed Instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_provider: Option<String>,
    /// Published versions deleted after the deploy (`keep-versions`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pruned_versions: Vec<String>,
    /// Problems that did not fail the deploy, e.g. a version that could not be deleted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What `function-config` changed (environment variables by name only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_changes: Vec<ConfigChange>,
    /// `$LATEST` took the new configuration but the alias serves another version (a later step
    /// failed); the next run reconciles it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub latest_differs: bool,
    /// The function was created by this run (`create-function`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// One configuration field a deploy changed: `MemorySize`, `128 → 512`; or
/// `Environment.Variables`, `API_KEY changed`.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct ConfigChange {
    pub field: String,
    pub change: String,
}

/// The container image of an image deploy.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct ImageReport {
    pub uri: String,
    /// `<registry>/<repository>`.
    pub repository: String,
    /// `sha256:<hex>`; `None` when the registry could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// When it was pushed (ECR), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<String>,
}

/// A test case that failed, from the buildspec `reports` section.
#[derive(Debug, Clone, Serialize)]
pub struct TestFailure {
    pub suite: String,
    pub name: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct TestReport {
    pub name: String,
    pub files: Vec<String>,
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub duration_ms: u64,
    pub failures: Vec<TestFailure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// A pull request's preview environment (`preview: true`).
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct PreviewReport {
    pub number: u64,
    /// `pr-<number>`.
    pub alias: String,
    /// One entry per function.
    pub functions: Vec<PreviewFunction>,
    /// The pull request closed and its preview was removed.
    pub removed: bool,
}

/// One function's preview.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct PreviewFunction {
    pub function_name: String,
    pub alias_arn: String,
    /// The version the preview alias serves (empty once removed).
    pub version: String,
    /// The function URL of the preview alias (`preview-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `AWS_IAM` or `NONE`, with `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_auth_type: Option<String>,
    /// Versions deleted when the pull request closed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted_versions: Vec<String>,
    /// Versions the preview published that were kept, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A run that chose to build and deploy nothing: a short title for the check run, and the
/// Markdown that explains it.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct SkipReport {
    pub title: String,
    pub detail: String,
}

/// Everything a run did, in one value.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub status: RunStatus,
    /// An input turned out invalid only at deploy time (a zip/image mismatch): exit 2.
    #[serde(skip)]
    pub input_error: bool,
    /// The container image an image deploy sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageReport>,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub build_id: String,
    pub buildspec: String,
    pub phases: Vec<PhaseReport>,
    pub exported_variables: BTreeMap<String, String>,
    pub artifacts: Option<ArtifactsReport>,
    pub deploy: Vec<DeployEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test_reports: Vec<TestReport>,
    pub warnings: Vec<Warning>,
    /// The phase that failed first, e.g. `BUILD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<Phase>,
    /// The error that ended the run, rendered for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failing command's position, for annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_position: Option<Position>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// The check run this run reported to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_run_id: Option<u64>,
    /// A pull request's preview: what it deployed, or what closing it removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewReport>,
    /// Why the run built and deployed nothing, when it chose not to (`paths`, a fork's pull
    /// request, a closed pull request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReport>,
    /// What a reader should know that is neither a warning nor an error (a shallow clone, who
    /// asked for a rollback).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub duration_ms: u64,
}

impl RunReport {
    pub fn new(command: &str, build_id: &str) -> RunReport {
        RunReport {
            status: RunStatus::Succeeded,
            input_error: false,
            image: None,
            check_run_id: None,
            command: command.to_owned(),
            environment: None,
            build_id: build_id.to_owned(),
            buildspec: String::new(),
            phases: Vec::new(),
            exported_variables: BTreeMap::new(),
            artifacts: None,
            deploy: Vec::new(),
            test_reports: Vec::new(),
            warnings: Vec::new(),
            failed_phase: None,
            error: None,
            error_position: None,
            commit: None,
            run_url: None,
            preview: None,
            skipped: None,
            notes: Vec::new(),
            started_at: chrono::Utc::now(),
            duration_ms: 0,
        }
    }
}
