//! The bottom layer: the types every other module uses and nothing else defines. Phases,
//! statuses, positions and spans; the run report's data model; input errors and how a user
//! error is drawn; YAML with positions; "did you mean" suggestions; Lambda's limits; the step
//! output names; the exit status; the Secrets Manager reference grammar.
//! Owns: plain data and pure functions. Must not: import any other module of this crate, do
//! I/O, print.

pub mod diagnostic;
pub mod exit_status;
pub mod input_error;
pub mod limits;
pub mod outputs;
pub mod report;
pub mod secret_ref;
pub mod suggest;
pub mod yaml;

use serde::Serialize;

pub use exit_status::ExitStatus;
pub use input_error::InputError;

/// A build phase, in CodeBuild's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    DownloadSource,
    Install,
    PreBuild,
    Build,
    PostBuild,
    UploadArtifacts,
}

impl Phase {
    /// The four phases that run user commands, in order.
    pub const COMMAND_PHASES: [Phase; 4] = [
        Phase::Install,
        Phase::PreBuild,
        Phase::Build,
        Phase::PostBuild,
    ];

    /// CodeBuild's name: `PRE_BUILD`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::DownloadSource => "DOWNLOAD_SOURCE",
            Phase::Install => "INSTALL",
            Phase::PreBuild => "PRE_BUILD",
            Phase::Build => "BUILD",
            Phase::PostBuild => "POST_BUILD",
            Phase::UploadArtifacts => "UPLOAD_ARTIFACTS",
        }
    }

    /// The buildspec key: `pre_build`.
    pub fn key(self) -> &'static str {
        match self {
            Phase::DownloadSource => "download_source",
            Phase::Install => "install",
            Phase::PreBuild => "pre_build",
            Phase::Build => "build",
            Phase::PostBuild => "post_build",
            Phase::UploadArtifacts => "upload_artifacts",
        }
    }
}

/// Which list of a phase a command belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Block {
    Commands,
    Finally,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Notice,
    Warning,
    Error,
}

/// A place in the buildspec (1-based line and column), for annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
}
