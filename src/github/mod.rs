//! Reporting a run back to GitHub: the check run (live while the build runs), the opt-in
//! deployment, the job summary, workflow annotations and the `post` command.
//!
//! `Reporting` is started by `pipeline::build_command` once the buildspec is loaded and
//! finished by `pipeline::finish` with the final `RunReport`. Reporting never changes the
//! outcome: every problem here becomes a warning (a 403 on a fork pull request degrades to the
//! job summary plus workflow annotations).
//! Owns: GitHub API calls, `GITHUB_STATE`, `GITHUB_STEP_SUMMARY`. Must not: decide the exit
//! status or touch a stage.

pub mod check_run;
pub mod client;
pub mod context;
pub mod deployment;
pub mod post;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::buildspec::model::ReportGroup;
use crate::cancel::StopReason;
use crate::cli::Command;
use crate::events::{Event, Level, Reporter};
use crate::pipeline::Run;
use crate::redact::{Redactor, Secret};
use crate::report::annotations::{self, RepoPaths};
use crate::report::model::{PhaseReport, RunReport, Warning};
use crate::report::{summary, test_reports, workflow};
use check_run::CheckRun;
use client::Client;
use context::GithubContext;
use deployment::Deployment;

/// How long `finish` waits for pending progress updates before completing the check run.
const PROGRESS_DRAIN: Duration = Duration::from_secs(30);

/// The GitHub side of one run. Cheap to create; does nothing until `start`.
#[derive(Default)]
pub struct Reporting {
    active: Mutex<Option<Active>>,
}

impl std::fmt::Debug for Reporting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporting")
    }
}

struct Active {
    actions: bool,
    client: Option<Client>,
    check: Option<LiveCheck>,
    deployment: Option<Deployment>,
    environment: Option<String>,
    reports: Vec<ReportGroup>,
    source_dir: PathBuf,
    paths: RepoPaths,
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
    /// Creates the check run (and the deployment, when asked), records the check run id in
    /// `GITHUB_STATE` and registers the bus reporter that updates it as phases end.
    /// `environment` names the check run and the deployment.
    pub async fn start(
        &self,
        run: &Run,
        reports: &[ReportGroup],
        command: Command,
        environment: Option<&str>,
    ) {
        let source_dir = crate::pipeline::source_dir(&run.cli, &run.env).unwrap_or_default();
        let workspace = run.env.get("GITHUB_WORKSPACE").map(Path::new);
        let mut active = Active {
            actions: run.env.in_github_actions(),
            client: None,
            check: None,
            deployment: None,
            environment: environment.map(str::to_owned),
            reports: reports.to_vec(),
            paths: RepoPaths::new(&source_dir, workspace),
            source_dir,
            warnings: Vec::new(),
        };
        if let Some((client, context)) = connect(run, &mut active) {
            start_check(run, &client, &context, &mut active).await;
            if command == Command::Run {
                start_deployment(run, &client, &context, &mut active).await;
            }
            active.client = Some(client);
        }
        *self.lock() = Some(active);
    }

    /// Reads the test reports into `report`, completes the check run and the deployment,
    /// writes the job summary (or prints the report in CLI mode) and the workflow annotations.
    pub async fn finish(&self, run: &Run, report: &mut RunReport) {
        self.finish_with(run, report, true).await;
    }

    /// `finish`, without printing workflow annotations (the caller printed its own).
    pub async fn finish_quietly(&self, run: &Run, report: &mut RunReport) {
        self.finish_with(run, report, false).await;
    }

    async fn finish_with(&self, run: &Run, report: &mut RunReport, print_annotations: bool) {
        let Some(mut active) = self.lock().take() else {
            return;
        };
        add_test_reports(run, &active, report);
        for warning in active.warnings.drain(..) {
            report.warnings.push(Warning {
                message: warning,
                position: None,
            });
        }
        let found = annotations::collect(report, &active.paths);
        if active.actions && print_annotations {
            let everything = active.check.is_none();
            for line in annotations::workflow_commands(&found, everything) {
                println!("{}", run.redactor.redact(&line));
            }
        }
        if let (Some(client), Some(check)) = (&active.client, active.check.take()) {
            complete_check(run, client, check, report, &found).await;
        }
        if let (Some(client), Some(deployment)) = (&active.client, &active.deployment) {
            let state = deployment::state(report.status);
            let description = summary::title(report);
            if let Err(err) = deployment
                .set_status(client, state, &description, report.run_url.as_deref())
                .await
            {
                warn(
                    run,
                    report,
                    format!("the deployment status was not set: {err}"),
                );
            }
        }
        write_summary(run, report);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The GitHub token: the `github-token` input, else `GITHUB_TOKEN`; blank counts as unset.
pub(crate) fn token(run: &Run) -> Option<Secret> {
    run.cli
        .inputs
        .github_token
        .clone()
        .or_else(|| run.env.get("GITHUB_TOKEN").map(str::to_owned))
        .filter(|t| !t.trim().is_empty())
        .map(Secret::new)
}

/// The API client and context, or `None` (with a note when the user asked for reporting).
fn connect(run: &Run, active: &mut Active) -> Option<(Client, GithubContext)> {
    let Some(token) = token(run) else {
        if active.actions {
            note(run, active, "no `github-token`: the check run is skipped; the job summary and annotations still report the run".to_owned());
        }
        return None;
    };
    let context = match GithubContext::resolve(&run.env, run.cli.inputs.sha.as_deref()) {
        Ok(context) => context,
        Err(reason) => {
            note(run, active, format!("no check run: {reason}"));
            return None;
        }
    };
    match Client::new(
        &context.api_url,
        &context.repository,
        &token,
        run.redactor.clone(),
    ) {
        Ok(client) => Some((client, context)),
        Err(err) => {
            note(run, active, format!("no check run: {err}"));
            None
        }
    }
}

async fn start_check(run: &Run, client: &Client, context: &GithubContext, active: &mut Active) {
    let environment = active.environment.as_deref();
    let name = context::check_name(run.cli.inputs.check_name.as_deref(), environment);
    let external_id = context::external_id(&run.env, environment);
    let run_url = crate::build::environment::run_url(&run.env);
    let output = check_run::Output {
        title: "Running".to_owned(),
        summary: summary::progress(&[], run_url.as_deref()),
        text: None,
    };
    match check_run::start(client, &name, &context.sha, &external_id, &output).await {
        Ok(check) => {
            record_state(run, &check);
            watch_cancellation(run);
            let (updates, receiver) = mpsc::unbounded_channel();
            let worker = tokio::spawn(progress_worker(
                client.clone(),
                check.clone(),
                receiver,
                run_url,
            ));
            run.bus.add(Box::new(PhaseReporter {
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
            note_warning(run, active, message);
        }
        Err(err) => {
            note_warning(
                run,
                active,
                format!("the check run could not be created: {err}"),
            );
        }
    }
}

async fn start_deployment(
    run: &Run,
    client: &Client,
    context: &GithubContext,
    active: &mut Active,
) {
    let wanted = match crate::settings::parse_bool(
        "github-deployment",
        run.cli.inputs.github_deployment.as_deref(),
        false,
    ) {
        Ok(wanted) => wanted,
        Err(err) => {
            note_warning(
                run,
                active,
                format!("{err}; no GitHub deployment is created"),
            );
            false
        }
    };
    if !wanted {
        return;
    }
    let Some(environment) = active.environment.clone() else {
        note_warning(
            run,
            active,
            "`github-deployment` needs an `environment`; no GitHub deployment is created"
                .to_owned(),
        );
        return;
    };
    let run_url = crate::build::environment::run_url(&run.env);
    match deployment::create(client, &context.sha, &environment, run_url.as_deref()).await {
        Ok(deployment) => active.deployment = Some(deployment),
        Err(err) => note_warning(
            run,
            active,
            format!(
                "the GitHub deployment was not created: {err}; it needs `permissions: deployments: write`"
            ),
        ),
    }
}

/// `check_run_id=<id>` in `GITHUB_STATE`, for the `post` command.
fn record_state(run: &Run, check: &CheckRun) {
    if let Some(path) = run.env.get("GITHUB_STATE") {
        let records = [("check_run_id".to_owned(), check.id.to_string())];
        if let Err(err) = workflow::append_records(Path::new(path), &records) {
            tracing::warn!("cannot record the check run in GITHUB_STATE: {err}");
        }
    }
}

/// When the run is stopped, records why in `GITHUB_STATE`, so that `post` can conclude a
/// check run that a hard kill left in progress.
fn watch_cancellation(run: &Run) {
    let Some(path) = run.env.get("GITHUB_STATE").map(PathBuf::from) else {
        return;
    };
    let cancel = run.cancel.clone();
    tokio::spawn(async move {
        let reason = match cancel.stopped().await {
            StopReason::Cancelled => "cancelled",
            StopReason::TimedOut => "timed_out",
        };
        let _ = workflow::append_records(&path, &[("stop_reason".to_owned(), reason.to_owned())]);
    });
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

async fn complete_check(
    run: &Run,
    client: &Client,
    check: LiveCheck,
    report: &mut RunReport,
    found: &[annotations::Annotation],
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
    if let Err(err) = check.run.complete(client, conclusion, &output, found).await {
        warn(
            run,
            report,
            format!("the check run was not completed: {err}"),
        );
    }
}

fn add_test_reports(run: &Run, active: &Active, report: &mut RunReport) {
    if active.reports.is_empty() {
        return;
    }
    let (reports, problems) = test_reports::collect(&active.reports, &active.source_dir);
    report.test_reports = reports;
    for problem in problems {
        run.bus.log(Level::Warning, problem.message.clone());
        report.warnings.push(Warning {
            message: problem.message,
            position: None,
        });
    }
}

/// Appends the report to `GITHUB_STEP_SUMMARY` in Actions; prints it to stderr otherwise.
fn write_summary(run: &Run, report: &RunReport) {
    if !run.env.in_github_actions() {
        eprintln!("\n{}", run.redactor.redact(&summary::markdown(report)));
        return;
    }
    let Some(path) = run.env.get("GITHUB_STEP_SUMMARY") else {
        return;
    };
    if let Err(err) = append_summary(Path::new(path), report, &run.redactor) {
        eprintln!("warning: cannot write the job summary to `{path}`: {err}");
    }
}

fn append_summary(path: &Path, report: &RunReport, redactor: &Redactor) -> std::io::Result<()> {
    use std::io::Write as _;
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

/// A reporting problem found at start: shown now, and in the summary at the end.
fn note_warning(run: &Run, active: &mut Active, message: String) {
    run.bus.log(Level::Warning, message.clone());
    active.warnings.push(message);
}

/// An informational note: shown now only.
fn note(run: &Run, _active: &mut Active, message: String) {
    run.bus.log(Level::Info, message);
}

/// A reporting problem found at the end.
fn warn(run: &Run, report: &mut RunReport, message: String) {
    let message = run.redactor.redact(&message).into_owned();
    eprintln!("warning: {message}");
    if run.env.in_github_actions() {
        println!(
            "{}",
            workflow::annotation("warning", &message, None, None, None, None)
        );
    }
    report.warnings.push(Warning {
        message,
        position: None,
    });
}
