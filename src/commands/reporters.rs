//! Every reporter of one command, wired once: the console on the event bus, the check run and
//! deployment (`github`), SNS (`notify`), the runner's files (`report::files`) and the report
//! file. Every command that runs a stage gets the same set; adding a reporter touches this file
//! and no stage.

use std::path::PathBuf;

use super::Context;
use crate::base::report::{PhaseReport, PhaseStatus, RunReport};
use crate::base::{InputError, Phase, Position};
use crate::events::Event;
use crate::github::Reporting;
use crate::notify::{Notifier, NotifyEvent};
use crate::report::annotations::{self, RepoPaths};
use crate::report::console::Console;
use crate::report::files::WorkflowFiles;
use crate::report::terminal::Terminal;
use crate::settings::Settings;

pub struct Reporters {
    pub terminal: Terminal,
    files: WorkflowFiles,
    github: Reporting,
    notifier: Notifier,
    paths: RepoPaths,
    report_file: Option<PathBuf>,
    context: crate::events::StageContext,
    actions: bool,
}

impl Reporters {
    /// The reporters of `context`'s command, with the console on the bus.
    pub fn new(context: &Context) -> Reporters {
        let reporters = Reporters::quiet(context);
        let settings = &context.settings;
        context.stage.bus.add(Box::new(Console::new(
            settings.workflow.actions,
            settings.build.allow_workflow_commands,
            context.stage.redactor.clone(),
        )));
        reporters
    }

    /// The reporters without the console (a buildspec that cannot be read: its error is
    /// printed once, already).
    pub fn quiet(context: &Context) -> Reporters {
        let Settings {
            github,
            workflow,
            build,
            deploy,
            env,
            report_file,
            ..
        } = &context.settings;
        let stage = &context.stage;
        Reporters {
            terminal: Terminal::new(stage.redactor.clone()),
            files: context.files.clone(),
            github: Reporting::new(
                github,
                workflow,
                &context.files,
                &stage.bus,
                &stage.redactor,
                &stage.cancel,
            ),
            notifier: Notifier::new(deploy, env, &stage.redactor, &stage.bus),
            paths: RepoPaths::new(&build.source_dir, workflow.workspace.as_deref()),
            report_file: report_file.clone(),
            context: stage.clone(),
            actions: workflow.actions,
        }
    }

    /// Starts the check run (and the deployment) for `environment`.
    pub async fn start(&self, environment: Option<&str>) {
        self.github.start(environment).await;
    }

    /// The deploy begins.
    pub async fn deploy_started(&self, report: &mut RunReport) {
        self.notifier.deploy_started(report).await;
    }

    /// Tells SNS subscribers (who asked for `event`) how the deploy went.
    pub async fn notify(
        &self,
        event: NotifyEvent,
        report: &mut RunReport,
        failed_step: Option<&str>,
    ) {
        self.notifier.publish(event, report, failed_step).await;
    }

    /// Writes every sink for the finished run, in order: the annotations, the check run and
    /// deployment, the job summary, the console's last line, the report file and the step
    /// outputs. `annotate` is false when the caller already printed its error as an annotation.
    pub async fn finish(&self, report: &mut RunReport, annotate: bool) {
        self.github.take_warnings(report);
        let found = annotations::collect(report, &self.paths);
        if annotate {
            self.files.annotate(&found, !self.github.has_check_run());
        }
        self.github.finish(report, &found).await;
        self.files.write_summary(report);
        self.context.bus.emit(Event::Finished {
            status: report.status,
        });
        self.write_report_file(report);
        self.files.write_outputs(report);
    }

    /// The sinks for a run whose buildspec could not be read (its error was printed already):
    /// the check run and job summary get `report`, the report file gets `file_report`.
    pub async fn finish_invalid(&self, report: &mut RunReport, file_report: &RunReport) {
        self.github.take_warnings(report);
        let found = annotations::collect(report, &self.paths);
        self.github.finish(report, &found).await;
        self.files.write_summary(report);
        self.write_report_file(file_report);
        self.files.write_outputs(report);
    }

    /// The step outputs alone (a deploy driven by a library caller).
    pub fn write_outputs(&self, report: &RunReport) {
        self.files.write_outputs(report);
    }

    /// The report file alone (an input error before anything ran).
    pub fn write_report_file(&self, report: &RunReport) {
        if let Some(path) = &self.report_file
            && let Err(err) = crate::report::write_report_file(report, path, &self.context.redactor)
        {
            self.terminal.err(&format!(
                "warning: cannot write the report file `{}`: {err}",
                path.display()
            ));
        }
    }

    /// An input error found after the settings: said once, as an error line.
    pub fn input_error(&self, err: &InputError) {
        self.terminal.err(&format!("error: {err}"));
    }

    /// A buildspec error: drawn on stderr and, in a job, an annotation at its line.
    pub fn buildspec_error(&self, err: &crate::buildspec::BuildspecError) {
        self.terminal.err(&err.to_string());
        if self.actions {
            let (line, column) = err
                .span
                .map(|s| (Some(s.line), Some(s.column)))
                .unwrap_or((None, None));
            self.terminal.out(&crate::report::workflow::annotation(
                "error",
                &err.message,
                Some(&err.file),
                line,
                column,
                Some("YAML_FILE_ERROR"),
            ));
        }
    }
}

/// The DOWNLOAD_SOURCE row of a build that failed before INSTALL (CodeBuild's phase context).
pub fn download_source_failed(context: impl Into<String>) -> PhaseReport {
    PhaseReport {
        name: Phase::DownloadSource,
        status: PhaseStatus::Failed,
        duration_ms: 0,
        commands: Vec::new(),
        context: Some(context.into()),
        log_tail: Vec::new(),
    }
}

/// `file:line:column` of a buildspec error, for the report.
pub fn buildspec_position(err: &crate::buildspec::BuildspecError) -> Option<Position> {
    err.span.map(|span| Position {
        file: err.file.clone(),
        line: span.line,
        column: span.column,
    })
}
