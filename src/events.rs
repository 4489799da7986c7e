//! Typed events that stages emit while they work, and the bus that hands them to reporters.
//!
//! Stages know nothing about reporting: they call `EventBus::emit`. Reporters (console,
//! workflow commands, check run, SNS) implement `Reporter`. Adding a reporter never touches a
//! stage. A reporter must not fail the run: it records its own problems as warnings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::report::model::{ArtifactReport, DeployEntry, PhaseStatus};

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

#[derive(Debug, Clone)]
pub enum Event {
    /// The build is about to enter INSTALL. `phases` lists the declared phases and their
    /// command counts, for CodeBuild's `Phases found in YAML` line.
    BuildStarted {
        build_id: String,
        declared: Vec<(Phase, usize)>,
    },
    PhaseStarted {
        phase: Phase,
    },
    CommandStarted {
        phase: Phase,
        block: Block,
        command: String,
        line: usize,
    },
    /// One line of command output (stdout and stderr merged), already redacted, without its
    /// line break. Lines over 1 MiB arrive in pieces.
    Output {
        phase: Phase,
        text: String,
    },
    CommandFinished {
        phase: Phase,
        block: Block,
        command: String,
        line: usize,
        exit_code: Option<i32>,
        duration: Duration,
    },
    PhaseFinished {
        phase: Phase,
        status: PhaseStatus,
        duration: Duration,
        /// CodeBuild's phase context, e.g. `COMMAND_EXECUTION_ERROR: Error while executing ...`.
        context: Option<String>,
    },
    /// An agent-style log line (`Entering phase BUILD`, `Expanding dist/**/*`).
    Log {
        level: Level,
        message: String,
        position: Option<Position>,
    },
    Packaged {
        artifact: ArtifactReport,
    },
    DeployStarted {
        function: String,
        environment: String,
    },
    /// Progress inside a deploy: waits, uploads, weight steps.
    DeployProgress {
        function: String,
        message: String,
    },
    Deployed {
        entry: DeployEntry,
    },
    RolledBack {
        function: String,
        to_version: String,
        reason: String,
    },
    /// The whole run ended.
    Finished {
        status: crate::report::model::RunStatus,
    },
}

/// Consumes events. Called synchronously, in order, from whichever task emits.
pub trait Reporter: Send {
    fn handle(&mut self, event: &Event);
}

/// Hands every event to every reporter, in registration order.
#[derive(Clone, Default)]
pub struct EventBus {
    reporters: Arc<Mutex<Vec<Box<dyn Reporter>>>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventBus")
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        EventBus::default()
    }

    pub fn add(&self, reporter: Box<dyn Reporter>) {
        self.lock().push(reporter);
    }

    pub fn emit(&self, event: Event) {
        for reporter in self.lock().iter_mut() {
            reporter.handle(&event);
        }
    }

    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.emit(Event::Log {
            level,
            message: message.into(),
            position: None,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Reporter>>> {
        self.reporters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A reporter that keeps every event, for tests and for building the final report.
#[derive(Clone, Default)]
pub struct Recorder {
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Reporter for Recorder {
    fn handle(&mut self, event: &Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}
