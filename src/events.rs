//! Typed events that stages emit while they work, and the bus that hands them to reporters.
//!
//! Stages know nothing about reporting: they call `EventBus::emit`. Reporters (console,
//! workflow commands, check run, SNS) implement `Reporter`. Adding a reporter never touches a
//! stage. A reporter must not fail the run: it records its own problems as warnings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::base::report::{ArtifactReport, DeployEntry, PhaseStatus, RunStatus};
use crate::base::{Block, Level, Phase, Position};

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
        entry: Box<DeployEntry>,
    },
    RolledBack {
        function: String,
        to_version: String,
        reason: String,
    },
    /// The whole run ended.
    Finished {
        status: RunStatus,
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

/// What every stage is handed besides its own settings: where to emit events, the secrets to
/// keep out of them, and the stop signal.
#[derive(Clone, Debug, Default)]
pub struct StageContext {
    pub bus: EventBus,
    pub redactor: crate::redact::Redactor,
    pub cancel: crate::cancel::CancelToken,
}
