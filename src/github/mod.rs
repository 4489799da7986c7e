//! Reporting a run back to GitHub: the check run (live while the build runs) and the opt-in
//! deployment. A reporter: `Reporting` is started by a command once it knows the environment
//! and finished with the final `RunReport`. It never changes the outcome: every problem here
//! becomes a warning (a 403 on a fork pull request degrades to the job summary plus workflow
//! annotations).
//! Owns: GitHub API calls. Must not: decide the exit status, touch a stage, write workflow
//! files other than through `report::files`.

pub mod check_run;
pub mod client;
pub mod comment;
pub mod deployment;

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::base::Level;
use crate::base::report::{PhaseReport, RunReport, Warning};
use crate::cancel::{CancelToken, StopReason};
use crate::events::{Event, EventBus, Reporter};
use crate::redact::Redactor;
use crate::report::annotations::Annotation;
use crate::report::files::WorkflowFiles;
use crate::report::summary;
use crate::report::terminal::Terminal;
use crate::settings::button::{self, DeployRecord, DeployedFunction};
use crate::settings::github::{GithubContext, check_name};
use crate::settings::{GithubSettings, Workflow};
use check_run::{CheckRun, Output};
use client::Client;
use deployment::Deployment;

/// How long `finish` waits for pending progress updates before completing the check run.
const PROGRESS_DRAIN: Duration = Duration::from_secs(30);

/// The GitHub side of one run. Cheap to create; does nothing until `start`.
pub struct Reporting {
    settings: GithubSettings,
    workflow: Workflow,
    files: WorkflowFiles,
    terminal: Terminal,
    bus: EventBus,
    redactor: Redactor,
    cancel: CancelToken,
    active: Mutex<Option<Active>>,
}

impl std::fmt::Debug for Reporting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporting")
    }
}

struct Active {
    client: Option<Client>,
    check: Option<LiveCheck>,
    deployment: Option<Deployment>,
    environment: Option<String>,
    warnings: Vec<String>,
}

struct LiveCheck {
    run: CheckRun,
    updates: mpsc::UnboundedSender<Message>,
    worker: tokio::task::JoinHandle<()>,
}

enum Message {
    Progress(Vec<PhaseReport>),
    Stop,
}

impl Reporting {
    pub fn new(
        settings: &GithubSettings,
        workflow: &Workflow,
        files: &WorkflowFiles,
        bus: &EventBus,
        redactor: &Redactor,
        cancel: &CancelToken,
    ) -> Reporting {
        Reporting {
            settings: settings.clone(),
            workflow: workflow.clone(),
            files: files.clone(),
            terminal: Terminal::new(redactor.clone()),
            bus: bus.clone(),
            redactor: redactor.clone(),
            cancel: cancel.clone(),
            active: Mutex::new(None),
        }
    }

    /// Creates the check run (and the deployment, when asked), records the check run id in
    /// `GITHUB_STATE` and registers the bus reporter that updates it as phases end.
    /// `environment` names the check run and the deployment.
    pub async fn start(&self, environment: Option<&str>) {
        let mut active = Active {
            client: None,
            check: None,
            deployment: None,
            environment: environment.map(str::to_owned),
            warnings: Vec::new(),
        };
        if let Some((client, context)) = self.connect() {
            self.start_check(&client, &context, &mut active).await;
            if self.settings.deployment {
                self.start_deployment(&client, &context, &mut active).await;
            }
            active.client = Some(client);
        }
        *self.lock() = Some(active);
    }

    /// The problems found at start, for the report's warnings.
    pub fn take_warnings(&self, report: &mut RunReport) {
        if let Some(active) = self.lock().as_mut() {
            for warning in active.warnings.drain(..) {
                report.warnings.push(Warning {
                    message: warning,
                    position: None,
                });
            }
        }
    }

    /// True while a check run carries the run's annotations.
    pub fn has_check_run(&self) -> bool {
        self.lock().as_ref().is_some_and(|a| a.check.is_some())
    }

    /// Completes the check run (with `found` as its annotations) and the deployment, and
    /// writes the pull request's preview comment.
    pub async fn finish(&self, report: &mut RunReport, found: &[Annotation]) {
        let Some(mut active) = self.lock().take() else {
            return;
        };
        if let (Some(client), Some(number)) = (&active.client, self.settings.preview_comment) {
            self.comment(client, number, report).await;
        }
        if let (Some(client), Some(check)) = (&active.client, active.check.take()) {
            report.check_run_id = Some(check.run.id);
            self.complete_check(client, check, report, found).await;
        }
        if let (Some(client), Some(deployment)) = (&active.client, &active.deployment) {
            let state = deployment::state(report.status);
            let description = summary::title(report);
            if let Err(err) = deployment
                .set_status(client, state, &description, report.run_url.as_deref())
                .await
            {
                self.warn(report, format!("the deployment status was not set: {err}"));
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The API client and context, or `None` (with a note when the user asked for reporting).
    fn connect(&self) -> Option<(Client, GithubContext)> {
        let Some(token) = &self.settings.token else {
            if self.workflow.actions {
                self.note("no `github-token`: the check run is skipped; the job summary and annotations still report the run".to_owned());
            }
            return None;
        };
        let context = match &self.settings.context {
            Ok(context) => context.clone(),
            Err(reason) => {
                self.note(format!("no check run: {reason}"));
                return None;
            }
        };
        match Client::new(
            &context.api_url,
            &context.repository,
            token,
            self.redactor.clone(),
        ) {
            Ok(client) => Some((client, context)),
            Err(err) => {
                self.note(format!("no check run: {err}"));
                None
            }
        }
    }

    async fn start_check(&self, client: &Client, context: &GithubContext, active: &mut Active) {
        let environment = active.environment.as_deref();
        let name = check_name(self.settings.check_name.as_deref(), environment);
        let external_id = self.settings.external_id(environment);
        let run_url = self.workflow.run_url.clone();
        let output = check_run::Output {
            title: "Running".to_owned(),
            summary: summary::progress(&[], run_url.as_deref()),
            text: None,
        };
        match check_run::start(client, &name, &context.sha, &external_id, &output).await {
            Ok(check) => {
                self.files
                    .save_state(&[("check_run_id".to_owned(), check.id.to_string())]);
                self.watch_cancellation();
                let (updates, receiver) = mpsc::unbounded_channel();
                let worker = tokio::spawn(progress_worker(
                    client.clone(),
                    check.clone(),
                    receiver,
                    run_url,
                ));
                self.bus.add(Box::new(PhaseReporter {
                    phases: Vec::new(),
                    updates: updates.clone(),
                }));
                active.check = Some(LiveCheck {
                    run: check,
                    updates,
                    worker,
                });
            }
            Err(err) if err.is_forbidden() => {
                let message = format!(
                    "the check run could not be created, so the run is reported in the job summary and workflow annotations only: {err}. \
                     A pull request from a fork gets a read-only token; otherwise grant the job `permissions: checks: write`"
                );
                self.note_warning(active, message);
            }
            Err(err) => {
                self.note_warning(active, format!("the check run could not be created: {err}"));
            }
        }
    }

    async fn start_deployment(
        &self,
        client: &Client,
        context: &GithubContext,
        active: &mut Active,
    ) {
        let Some(environment) = active.environment.clone() else {
            self.note_warning(
                active,
                "`github-deployment` needs an `environment`; no GitHub deployment is created"
                    .to_owned(),
            );
            return;
        };
        let run_url = self.workflow.run_url.clone();
        match deployment::create(client, &context.sha, &environment, run_url.as_deref()).await {
            Ok(deployment) => active.deployment = Some(deployment),
            Err(err) => self.note_warning(
                active,
                format!(
                    "the GitHub deployment was not created: {err}; it needs `permissions: deployments: write`"
                ),
            ),
        }
    }

    /// When the run is stopped, records why in `GITHUB_STATE`, so that `post` can conclude a
    /// check run that a hard kill left in progress.
    fn watch_cancellation(&self) {
        let cancel = self.cancel.clone();
        let files = self.files.clone();
        tokio::spawn(async move {
            let reason = match cancel.stopped().await {
                StopReason::Cancelled => "cancelled",
                StopReason::TimedOut => "timed_out",
            };
            files.save_state(&[("stop_reason".to_owned(), reason.to_owned())]);
        });
    }

    async fn complete_check(
        &self,
        client: &Client,
        check: LiveCheck,
        report: &mut RunReport,
        found: &[Annotation],
    ) {
        let _ = check.updates.send(Message::Stop);
        if tokio::time::timeout(PROGRESS_DRAIN, check.worker)
            .await
            .is_err()
        {
            tracing::warn!("pending check run updates were dropped");
        }
        let output = check_run::Output {
            title: summary::title(report),
            summary: summary::check_run_summary(report),
            text: summary::check_run_text(report),
        };
        let conclusion = check_run::conclusion(report.status);
        let button = self.rollback_button(report);
        if let Err(err) = check
            .run
            .complete(client, conclusion, &output, found, button.as_ref())
            .await
        {
            self.warn(report, format!("the check run was not completed: {err}"));
        }
    }

    /// The Roll back button, on the check run of a `run` that moved every alias of a
    /// non-preview environment from an earlier version to a new one.
    fn rollback_button(&self, report: &mut RunReport) -> Option<check_run::Button> {
        let moved = |e: &crate::base::report::DeployEntry| {
            e.error.is_none()
                && !e.rolled_back
                && !e.previous_version.is_empty()
                && e.previous_version != e.version
        };
        if report.command != "run"
            || report.status != crate::base::report::RunStatus::Succeeded
            || report.preview.is_some()
            || report.deploy.is_empty()
            || !report.deploy.iter().all(moved)
        {
            return None;
        }
        let record = DeployRecord {
            run_key: self.settings.run_key.clone(),
            environment: report.environment.clone().unwrap_or_default(),
            alias: report.deploy[0].alias.clone(),
            functions: report
                .deploy
                .iter()
                .map(|e| DeployedFunction {
                    name: e.function_name.clone(),
                    version: e.version.clone(),
                    previous: e.previous_version.clone(),
                })
                .collect(),
        };
        let Some(external_id) = record.render() else {
            report.notes.push(format!(
                "No Roll back button: what this deploy moved does not fit in the check run's `external_id` ({} characters at most); `lambda-pipeline rollback` still moves the alias back",
                button::EXTERNAL_ID_LIMIT
            ));
            return None;
        };
        Some(check_run::Button {
            external_id,
            label: button::LABEL.to_owned(),
            description: record.description(),
            identifier: button::IDENTIFIER.to_owned(),
        })
    }

    /// Creates or updates the pull request's preview comment. A token without
    /// `pull-requests: write` only loses the comment.
    async fn comment(&self, client: &Client, number: u64, report: &mut RunReport) {
        let environment = report.environment.clone().unwrap_or_default();
        let text = summary::preview_comment(report);
        match comment::upsert(client, number, &environment, &text).await {
            Ok(comment::Upserted::Created(id)) => {
                self.note(format!("created the preview comment ({id}) on #{number}"))
            }
            Ok(comment::Upserted::Updated(id)) => {
                self.note(format!("updated the preview comment ({id}) on #{number}"))
            }
            Err(err) if err.is_forbidden() => report.notes.push(format!(
                "The pull request was not commented on: {err}. Grant the job `permissions: pull-requests: write` for the preview comment"
            )),
            Err(err) => self.warn(report, format!("the preview comment was not written: {err}")),
        }
    }

    /// A reporting problem found at start: shown now, and in the summary at the end.
    fn note_warning(&self, active: &mut Active, message: String) {
        self.bus.log(Level::Warning, message.clone());
        active.warnings.push(message);
    }

    /// An informational note: shown now only.
    fn note(&self, message: String) {
        self.bus.log(Level::Info, message);
    }

    /// A reporting problem found at the end.
    fn warn(&self, report: &mut RunReport, message: String) {
        let message = self.redactor.redact(&message).into_owned();
        self.terminal.warn(self.workflow.actions, &message);
        report.warnings.push(Warning {
            message,
            position: None,
        });
    }
}

/// Sends the latest phase table after each phase; skips snapshots that a newer one replaced.
async fn progress_worker(
    client: Client,
    check: CheckRun,
    mut receiver: mpsc::UnboundedReceiver<Message>,
    run_url: Option<String>,
) {
    while let Some(first) = receiver.recv().await {
        let mut latest = None;
        let mut stop = false;
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Progress(phases) => latest = Some(phases),
                Message::Stop => stop = true,
            }
            next = receiver.try_recv().ok();
        }
        if let Some(phases) = latest {
            let output = check_run::Output {
                title: format!("Running ({} phases done)", phases.len()),
                summary: summary::progress(&phases, run_url.as_deref()),
                text: None,
            };
            if let Err(err) = check.update(&client, &output).await {
                tracing::warn!("check run update failed: {err}");
            }
        }
        if stop {
            break;
        }
    }
}

/// Feeds phase results to the progress worker. Never blocks the build.
struct PhaseReporter {
    phases: Vec<PhaseReport>,
    updates: mpsc::UnboundedSender<Message>,
}

impl Reporter for PhaseReporter {
    fn handle(&mut self, event: &Event) {
        if let Event::PhaseFinished {
            phase,
            status,
            duration,
            context,
        } = event
        {
            self.phases.push(PhaseReport {
                name: *phase,
                status: *status,
                duration_ms: duration.as_millis() as u64,
                commands: Vec::new(),
                context: context.clone(),
                log_tail: Vec::new(),
            });
            let _ = self.updates.send(Message::Progress(self.phases.clone()));
        }
    }
}

/// `post`: completes the check run the main step recorded in `GITHUB_STATE`, when it is still in
/// progress. `Ok` says what happened; `Err` is a warning.
pub async fn complete_stale(
    settings: &GithubSettings,
    workflow: &Workflow,
    redactor: &Redactor,
) -> Result<String, String> {
    let Some(id) = settings.recorded_check_run.as_deref() else {
        return Ok("post: no check run was recorded; nothing to complete".to_owned());
    };
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| format!("post: `STATE_check_run_id` is `{id}`, not a check run id"))?;
    let token = settings
        .token
        .as_ref()
        .ok_or_else(|| format!("post: no `github-token`, so check run {id} cannot be completed"))?;
    let repository = settings
        .repository
        .as_deref()
        .ok_or("post: `GITHUB_REPOSITORY` is not set")?;
    let client = Client::new(&settings.api_url, repository, token, redactor.clone())
        .map_err(|e| format!("post: {e}"))?;
    let check = CheckRun {
        id,
        name: String::new(),
        head_sha: String::new(),
    };
    let status = check
        .status(&client)
        .await
        .map_err(|e| format!("post: cannot read check run {id}: {e}"))?;
    if status == "completed" {
        return Ok(format!("post: check run {id} is already completed"));
    }
    let (conclusion, why) = match settings.recorded_stop_reason.as_deref() {
        Some("cancelled") => ("cancelled", "the run was cancelled"),
        Some("timed_out") => ("timed_out", "the run timed out"),
        _ => (
            "failure",
            "the run ended without reporting (it crashed or was killed)",
        ),
    };
    let mut summary = format!(
        "The main step left this check run in progress: {why}. It was completed by the action's post step."
    );
    if let Some(url) = &workflow.run_url {
        summary.push_str(&format!("\n\n[Workflow run]({url})\n"));
    }
    let output = Output {
        title: format!("Ended: {}", conclusion.replace('_', " ")),
        summary,
        text: None,
    };
    check
        .complete(&client, conclusion, &output, &[], None)
        .await
        .map_err(|e| format!("post: cannot complete check run {id}: {e}"))?;
    Ok(format!("post: check run {id} completed as `{conclusion}`"))
}
