//! The live log: CodeBuild-style `[Container]` lines, command output, and, inside GitHub
//! Actions, a `::group::` per phase, annotations for warnings, and `::stop-commands::` around
//! command output so that a dependency cannot issue workflow commands.

use std::io::Write;

use crate::base::Level;
use crate::events::{Event, Reporter};
use crate::redact::Redactor;
use crate::report::workflow;

pub struct Console {
    actions: bool,
    /// `Some` while command output must not be read as workflow commands.
    stop_token: Option<String>,
    redactor: Redactor,
    out: Box<dyn Write + Send>,
}

impl Console {
    pub fn new(actions: bool, allow_workflow_commands: bool, redactor: Redactor) -> Console {
        Console {
            actions,
            stop_token: (actions && !allow_workflow_commands).then(workflow::stop_token),
            redactor,
            out: Box::new(std::io::stdout()),
        }
    }

    fn line(&mut self, text: &str) {
        let text = self.redactor.redact(text);
        let _ = writeln!(self.out, "{text}");
    }

    /// One agent log line per line of `message` (a multi-line command, a rendered error), each
    /// with the prefix, so that no part of it can pass for command output.
    fn agent(&mut self, message: &str) {
        let now = chrono::Utc::now().format("%Y/%m/%d %H:%M:%S%.6f");
        let mut lines = message.lines().peekable();
        if lines.peek().is_none() {
            self.line(&format!("[Container] {now} "));
        }
        for line in lines {
            self.line(&format!("[Container] {now} {line}"));
        }
    }

    fn stop_commands(&mut self) {
        if let Some(token) = &self.stop_token {
            let _ = writeln!(self.out, "::stop-commands::{token}");
        }
    }

    fn resume_commands(&mut self) {
        if let Some(token) = &self.stop_token {
            let _ = writeln!(self.out, "::{token}::");
        }
    }
}

impl Reporter for Console {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::BuildStarted { declared, .. } => {
                self.agent(&format!("Phases found in YAML: {}", declared.len()));
                for (phase, count) in declared {
                    self.agent(&format!(" {}: {count} commands", phase.name()));
                }
            }
            Event::PhaseStarted { phase } => {
                if self.actions {
                    let _ = writeln!(self.out, "::group::{}", phase.name());
                }
                self.agent(&format!("Entering phase {}", phase.name()));
            }
            Event::CommandStarted { command, .. } => {
                self.agent(&format!("Running command {command}"));
                self.stop_commands();
            }
            Event::Output { text, .. } => self.line(text),
            Event::CommandFinished {
                command, exit_code, ..
            } => {
                self.resume_commands();
                match exit_code {
                    Some(0) => {}
                    Some(code) => self.agent(&format!(
                        "Command did not exit successfully {command} exit status {code}"
                    )),
                    None => self.agent(&format!("Command was stopped {command}")),
                }
            }
            Event::PhaseFinished {
                phase,
                status,
                context,
                ..
            } => {
                self.agent(&format!(
                    "Phase complete: {} State: {}",
                    phase.name(),
                    status.name()
                ));
                if let Some(context) = context {
                    let (code, message) = context.split_once(": ").unwrap_or(("", context));
                    self.agent(&format!(
                        "Phase context status code: {code} Message: {message}"
                    ));
                }
                if self.actions {
                    let _ = writeln!(self.out, "::endgroup::");
                }
            }
            Event::Log {
                level,
                message,
                position,
            } => {
                // In a job, a warning or an error is said once, as the annotation the runner
                // shows in the log; elsewhere as a log line.
                let annotate = self.actions && matches!(level, Level::Warning | Level::Error);
                if annotate {
                    let kind = if *level == Level::Error {
                        "error"
                    } else {
                        "warning"
                    };
                    let message = self.redactor.redact(message).into_owned();
                    let (file, line, column) = match position {
                        Some(p) => (Some(p.file.as_str()), Some(p.line), Some(p.column)),
                        None => (None, None, None),
                    };
                    let _ = writeln!(
                        self.out,
                        "{}",
                        workflow::annotation(kind, &message, file, line, column, None)
                    );
                } else {
                    self.agent(message);
                }
            }
            Event::Packaged { artifact } => self.agent(&format!(
                "Packaged {} ({} files, {} bytes, CodeSha256 {})",
                artifact.zip,
                artifact.files.len(),
                artifact.size,
                artifact.sha256
            )),
            Event::DeployStarted {
                function,
                environment,
            } => {
                self.agent(&format!("Deploying {function} ({environment})"));
            }
            Event::DeployProgress { function, message } => {
                self.agent(&format!("{function}: {message}"))
            }
            Event::Deployed { entry } => {
                let verdict = if entry.deployed {
                    "deployed"
                } else {
                    "unchanged"
                };
                let previous = if entry.previous_version.is_empty() {
                    "the alias is new".to_owned()
                } else {
                    format!("previous {}", entry.previous_version)
                };
                self.agent(&format!(
                    "{}: {verdict}; alias {} → version {} ({previous})",
                    entry.function_name, entry.alias, entry.version
                ));
            }
            Event::RolledBack {
                function,
                to_version,
                reason,
            } => {
                self.agent(&format!(
                    "{function}: rolled back to version {to_version}: {reason}"
                ));
            }
            Event::Finished { status } => self.agent(&format!("Run complete: {}", status.name())),
        }
        let _ = self.out.flush();
    }
}
