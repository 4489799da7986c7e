//! Deploys the packaged zip to the environment's Lambda functions, safely: target selection
//! (`target`), credentials (`credentials`), the per-function sequence (`lambda`, `wait`,
//! `retry`), the smoke test (`smoke`), traffic shifting (`shift`), rollback (`rollback`), then
//! SNS notifications, step outputs and `report.deploy` entries.
//!
//! Entry points, called by `pipeline`: `plan` before the build (bad inputs exit 2 with nothing
//! run), `run` after a SUCCEEDED build, `rollback_command` for `lambda-pipeline rollback`, and
//! `notify_build_failure` when the build fails before any deploy.
//! Owns: everything that changes Lambda. Must not: run the build, decide the exit code.

pub mod credentials;
pub mod image;
pub mod lambda;
pub mod retry;
pub mod rollback;
pub mod shift;
pub mod smoke;
pub mod target;
pub mod wait;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::time::Instant;

use crate::ExitStatus;
use crate::events::{Event, Level};
use crate::notify::{self, Notification, NotifyEvent};
use crate::pipeline::Run;
use crate::report::model::{ArtifactReport, DeployEntry, RunReport, RunStatus, Warning};
use crate::report::workflow;
use crate::settings::InputError;

pub use target::{DeployPlan, FunctionTarget, TrafficShift};

/// How the deploy ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployStatus {
    /// Nothing to deploy: no `function-name` and no `targets`.
    Skipped,
    /// Every function deployed (or was already up to date).
    Succeeded,
    /// A function failed before or while its alias moved.
    Failed,
    /// An alarm moved an alias back.
    RolledBack,
    /// SIGINT/SIGTERM during the deploy; the old routing is restored.
    Cancelled,
}

impl DeployStatus {
    pub fn is_success(self) -> bool {
        matches!(self, DeployStatus::Skipped | DeployStatus::Succeeded)
    }
}

/// Resolves every deploy input. Called before the build: a bad input exits 2 and nothing runs.
pub fn plan(run: &Run) -> Result<DeployPlan, InputError> {
    let source = crate::pipeline::source_dir(&run.cli, &run.env)
        .unwrap_or_else(|_| std::env::current_dir().unwrap_or_default());
    target::resolve(&run.cli.inputs, &run.env, &source)
}

/// Clients and credentials, one per (region, role).
struct ClientCache {
    clients: HashMap<(Option<String>, Option<String>), Result<lambda::Clients, String>>,
}

impl ClientCache {
    async fn build(run: &Run, plan: &DeployPlan, limiter: &retry::Limiter) -> ClientCache {
        let mut clients = HashMap::new();
        for target in &plan.targets {
            let key = (target.region.clone(), target.role_to_assume.clone());
            if clients.contains_key(&key) {
                continue;
            }
            let config = credentials::sdk_config(
                &run.env,
                key.0.as_deref(),
                key.1.as_deref(),
                &run.redactor,
            )
            .await;
            let result = match credentials::check(&config).await {
                Ok(()) => Ok(lambda::Clients::new(&config)),
                Err(err) => Err(format!("cannot get AWS credentials: {err}")),
            };
            clients.insert(key, result);
        }
        let mut cache = ClientCache { clients };
        cache.check_alarms(plan, limiter).await;
        cache
    }

    /// A missing alarm fails its targets before anything changes.
    async fn check_alarms(&mut self, plan: &DeployPlan, limiter: &retry::Limiter) {
        for target in &plan.targets {
            let key = (target.region.clone(), target.role_to_assume.clone());
            if let Some(Ok(clients)) = self.clients.get(&key)
                && let Err(err) =
                    lambda::check_alarms(clients, limiter, &target.alarms, plan.wait_timeout).await
            {
                self.clients.insert(key, Err(err));
            }
        }
    }

    fn get(&self, target: &FunctionTarget) -> Result<lambda::Clients, String> {
        self.clients
            .get(&(target.region.clone(), target.role_to_assume.clone()))
            .cloned()
            .unwrap_or_else(|| Err("no AWS clients".to_owned()))
    }
}

/// What a deploy sends to Lambda.
#[derive(Debug, Clone, Copy)]
pub enum Code<'a> {
    /// A zip package.
    Zip(&'a ArtifactReport),
    /// A container image: the `image-uri` input, expanded after the build.
    Image(&'a str),
}

/// Deploys the code to every target, concurrently. Fills `report.deploy`, writes step
/// outputs, notifies SNS. Call only after a SUCCEEDED build.
pub async fn run(
    run: &Run,
    plan: &DeployPlan,
    code: Code<'_>,
    report: &mut RunReport,
) -> DeployStatus {
    if plan.is_empty() {
        return DeployStatus::Skipped;
    }
    let started = std::time::Instant::now();
    report.environment = Some(plan.environment.clone());
    if plan.dry_run {
        run.bus.log(
            Level::Info,
            format!("Deploy plan (dry run):\n{}", describe(plan)),
        );
    }
    let limiter = retry::Limiter::new();
    if !plan.dry_run {
        notify_event(run, plan, report, NotifyEvent::Start, &[], None, started).await;
    }
    let cache = ClientCache::build(run, plan, &limiter).await;
    let (package, image) = match code {
        Code::Zip(package) => (package.clone(), None),
        Code::Image(uri) => match image_code(run, plan, &cache, uri, report).await {
            Ok((package, image)) => (package, Some(image)),
            Err(status) => return status,
        },
    };
    let package = &package;
    let shared = Arc::new(lambda::Shared {
        environment: plan.environment.clone(),
        package: package.clone(),
        image,
        force: plan.force,
        dry_run: plan.dry_run,
        wait_timeout: plan.wait_timeout,
        s3: plan.s3.clone(),
        commit: report.commit.clone(),
        run_url: report.run_url.clone(),
        limiter,
        bus: run.bus.clone(),
        cancel: run.cancel.clone(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    let mut results: Vec<Option<lambda::FunctionResult>> = vec![None; plan.targets.len()];
    for (index, target) in plan.targets.iter().enumerate() {
        match cache.get(target) {
            Ok(clients) => {
                let shared = shared.clone();
                let target = target.clone();
                tasks.spawn(async move { (index, lambda::deploy(shared, clients, target).await) });
            }
            Err(err) => results[index] = Some(credentials_failure(plan, target, package, err)),
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(err) => tracing::error!("a deploy task failed: {err}"),
        }
    }
    if !plan.dry_run {
        undo_partial_deploy(plan, &cache, &shared, &mut results).await;
    }
    let results: Vec<lambda::FunctionResult> = results.into_iter().flatten().collect();
    let status = summarize(&results, report);
    write_outputs(run, &report.deploy);
    if !plan.dry_run {
        let event = match status {
            DeployStatus::Succeeded => NotifyEvent::Success,
            DeployStatus::RolledBack => NotifyEvent::Rollback,
            _ => NotifyEvent::Failure,
        };
        let failed_phase = results.iter().find_map(|r| r.failed_phase);
        notify_event(run, plan, report, event, &results, failed_phase, started).await;
    }
    status
}

/// Resolves the image to deploy and describes it as the package: `zip` is the URI and
/// `sha256` the digest's hex. An ECR image that cannot be found fails the deploy before
/// anything changes; another registry that cannot be asked only loses the unchanged check.
async fn image_code(
    run: &Run,
    plan: &DeployPlan,
    cache: &ClientCache,
    uri: &str,
    report: &mut RunReport,
) -> Result<(ArtifactReport, image::Image), DeployStatus> {
    let fail = |report: &mut RunReport, message: String| {
        report.status = RunStatus::Failed;
        report.error = Some(message);
        DeployStatus::Failed
    };
    let name = image::ImageName::parse(uri).map_err(|err| {
        report.input_error = true;
        fail(report, err.to_string())
    })?;
    let clients = cache
        .get(&plan.targets[0])
        .map_err(|err| fail(report, err))?;
    let image = match image::resolve(&clients.config, name.clone()).await {
        Ok(image) => image,
        Err(err) if name.ecr().is_some() => return Err(fail(report, err)),
        Err(err) => {
            let message = format!("{err}; deploying `{uri}` without comparing digests");
            run.bus.log(Level::Warning, message.clone());
            report.warnings.push(Warning {
                message,
                position: None,
            });
            image::Image {
                name,
                digest: None,
                pushed_at: None,
            }
        }
    };
    run.bus.log(
        Level::Info,
        format!(
            "Image to deploy: {} (digest {}{})",
            image.name.uri,
            image.digest.as_deref().unwrap_or("unknown"),
            image
                .pushed_at
                .as_deref()
                .map(|at| format!(", pushed {at}"))
                .unwrap_or_default()
        ),
    );
    report.image = Some(crate::report::model::ImageReport {
        uri: image.name.uri.clone(),
        repository: image.name.without_tag_or_digest(),
        digest: image.digest.clone(),
        pushed_at: image.pushed_at.clone(),
    });
    let package = ArtifactReport {
        identifier: "image".to_owned(),
        zip: image.deploy_uri(),
        sha256: image.code_sha256().unwrap_or_default().to_owned(),
        ..ArtifactReport::default()
    };
    Ok((package, image))
}

/// All or nothing across functions: when one function's deploy did not succeed, the aliases
/// that did move are moved back to the versions they had, so the environment never runs a mix
/// of old and new code.
async fn undo_partial_deploy(
    plan: &DeployPlan,
    cache: &ClientCache,
    shared: &lambda::Shared,
    results: &mut [Option<lambda::FunctionResult>],
) {
    use lambda::Outcome;
    let succeeded = |slot: &Option<lambda::FunctionResult>| {
        slot.as_ref()
            .is_some_and(|r| r.outcome == Outcome::Succeeded)
    };
    if results.iter().all(succeeded) {
        return;
    }
    let deadline = Instant::now() + plan.wait_timeout;
    for (target, slot) in plan.targets.iter().zip(results.iter_mut()) {
        let Some(result) = slot else { continue };
        let entry = &mut result.entry;
        let moved = result.outcome == Outcome::Succeeded && entry.version != entry.previous_version;
        if !moved {
            continue;
        }
        if entry.previous_version.is_empty() {
            entry.error = Some(format!(
                "another function of this deploy failed, but alias `{}` had no earlier version to go back to; it stays on version {}",
                entry.alias, entry.version
            ));
            result.outcome = Outcome::Failed;
            continue;
        }
        let record = rollback::AliasRecord {
            previous: None,
            commit: shared.commit.clone(),
            run_url: shared.run_url.clone(),
        };
        let undone = match cache.get(target) {
            Ok(clients) => {
                rollback::roll_back(
                    &clients.lambda,
                    &shared.limiter,
                    &target.name,
                    &target.alias,
                    record,
                    deadline,
                )
                .await
            }
            Err(err) => Err(err),
        };
        match undone {
            Ok(rolled) => {
                let reason = "another function of this deploy failed".to_owned();
                shared.bus.emit(Event::RolledBack {
                    function: target.name.clone(),
                    to_version: rolled.to.clone(),
                    reason: reason.clone(),
                });
                entry.version = rolled.to;
                entry.rolled_back = true;
                entry.error = Some(format!("rolled back: {reason}"));
                result.outcome = Outcome::RolledBack;
            }
            Err(err) => {
                entry.error = Some(format!(
                    "another function of this deploy failed, and moving alias `{}` back to version {} failed too: {err}",
                    entry.alias, entry.previous_version
                ));
                result.outcome = Outcome::Failed;
            }
        }
    }
}

fn credentials_failure(
    plan: &DeployPlan,
    target: &FunctionTarget,
    package: &ArtifactReport,
    err: String,
) -> lambda::FunctionResult {
    lambda::FunctionResult {
        entry: DeployEntry {
            function_name: target.name.clone(),
            environment: plan.environment.clone(),
            region: target.region.clone().unwrap_or_default(),
            alias: target.alias.clone(),
            code_sha256: package.sha256.clone(),
            package_size: package.size,
            upload: "none".to_owned(),
            error: Some(err),
            ..DeployEntry::default()
        },
        outcome: lambda::Outcome::Failed,
        failed_phase: Some("credentials"),
    }
}

/// Records the entries in the report and decides the deploy status.
fn summarize(results: &[lambda::FunctionResult], report: &mut RunReport) -> DeployStatus {
    use lambda::Outcome;
    report.deploy = results.iter().map(|r| r.entry.clone()).collect();
    let any = |outcome: Outcome| results.iter().any(|r| r.outcome == outcome);
    let status = if any(Outcome::Cancelled) {
        DeployStatus::Cancelled
    } else if any(Outcome::Failed) {
        DeployStatus::Failed
    } else if any(Outcome::RolledBack) {
        DeployStatus::RolledBack
    } else {
        DeployStatus::Succeeded
    };
    if results
        .iter()
        .any(|r| r.failed_phase == Some(lambda::PACKAGE_TYPE_PHASE))
    {
        report.input_error = true;
    }
    if !status.is_success() {
        report.status = match status {
            DeployStatus::Cancelled => RunStatus::Stopped,
            _ => RunStatus::Failed,
        };
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| {
                r.entry.error.as_ref().map(|e| {
                    let phase = r
                        .failed_phase
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default();
                    format!("deploy to `{}` failed{phase}: {e}", r.entry.function_name)
                })
            })
            .collect();
        report.error = Some(errors.join("\n"));
    }
    status
}

/// The plan, one line per function, for `dry-run`.
pub fn describe(plan: &DeployPlan) -> String {
    let mut lines = Vec::new();
    lines.push(format!("environment: {}", plan.environment));
    for target in &plan.targets {
        lines.push(format!(
            "  {} (region {}, alias {}, {}{}{}{})",
            target.function,
            target.region.as_deref().unwrap_or("from the SDK chain"),
            target.alias,
            target.traffic_shift,
            target
                .role_to_assume
                .as_deref()
                .map(|r| format!(", role {r}"))
                .unwrap_or_default(),
            if target.smoke_test.is_some() {
                ", smoke test"
            } else {
                ""
            },
            if target.alarms.is_empty() {
                String::new()
            } else {
                format!(", alarms {}", target.alarms.join(", "))
            },
        ));
    }
    if plan.force {
        lines.push("  force: deploy even when the code is unchanged".to_owned());
    }
    if let Some(s3) = &plan.s3 {
        lines.push(format!(
            "  packages over 50 MB go to s3://{}/{}",
            s3.bucket, s3.prefix
        ));
    }
    if let Some(notify) = &plan.notify {
        let events: Vec<&str> = notify.events.iter().map(|e| e.name()).collect();
        lines.push(format!(
            "  notify {} on {}",
            notify.topic_arn,
            events.join(", ")
        ));
    }
    lines.join("\n")
}

/// Step outputs. One function: its values; several: comma-separated in target order, and
/// `deployed`/`rolled-back` true when true for any.
fn write_outputs(run: &Run, entries: &[DeployEntry]) {
    let Some(path) = run.env.get("GITHUB_OUTPUT") else {
        return;
    };
    if let Err(err) = workflow::append_records(Path::new(path), &output_records(entries)) {
        eprintln!("warning: cannot write deploy outputs to GITHUB_OUTPUT: {err}");
    }
}

pub fn output_records(entries: &[DeployEntry]) -> Vec<(String, String)> {
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

/// Publishes one notification when `notify-on` asks for it; a failure becomes a warning.
async fn notify_event(
    run: &Run,
    plan: &DeployPlan,
    report: &mut RunReport,
    event: NotifyEvent,
    results: &[lambda::FunctionResult],
    failed_phase: Option<&str>,
    started: std::time::Instant,
) {
    let Some(settings) = &plan.notify else {
        return;
    };
    if !settings.wants(event) {
        return;
    }
    let first = results.first().map(|r| &r.entry);
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let notification = Notification {
        status: event.status(),
        environment: plan.environment.clone(),
        functions: plan.targets.iter().map(|t| t.name.clone()).collect(),
        version: first.and_then(|e| non_empty(&e.version)),
        previous_version: first.and_then(|e| non_empty(&e.previous_version)),
        alias: plan
            .targets
            .first()
            .map(|t| t.alias.clone())
            .unwrap_or_default(),
        code_sha256: first.map(|e| e.code_sha256.clone()).or_else(|| {
            report
                .artifacts
                .as_ref()
                .and_then(|a| a.primary.as_ref())
                .map(|p| p.sha256.clone())
        }),
        image: report.image.clone(),
        commit: report.commit.clone(),
        run_url: report.run_url.clone(),
        duration_ms: started.elapsed().as_millis() as u64,
        failed_phase: failed_phase
            .map(str::to_owned)
            .or_else(|| report.failed_phase.map(|p| p.name().to_owned())),
        error: report.error.clone(),
        deployments: if results.len() > 1 {
            results.iter().map(|r| r.entry.clone()).collect()
        } else {
            Vec::new()
        },
    };
    publish(run, settings, &notification, report).await;
}

async fn publish(
    run: &Run,
    settings: &notify::NotifySettings,
    notification: &Notification,
    report: &mut RunReport,
) {
    let config =
        credentials::sdk_config(&run.env, Some(&settings.region), None, &run.redactor).await;
    match notify::sns::publish(&config, settings, notification, &run.redactor).await {
        Ok(id) => run.bus.log(
            Level::Info,
            format!(
                "Notified {} ({}, message {id})",
                settings.topic_arn, notification.status
            ),
        ),
        Err(err) => {
            let message = format!("SNS notification not sent: {err}");
            run.bus.log(Level::Warning, message.clone());
            report.warnings.push(Warning {
                message,
                position: None,
            });
        }
    }
}

/// Tells SNS subscribers that the build failed, so nothing was deployed.
pub async fn notify_build_failure(run: &Run, plan: &DeployPlan, report: &mut RunReport) {
    if plan.is_empty() || plan.dry_run {
        return;
    }
    let started = run.started;
    notify_event(run, plan, report, NotifyEvent::Failure, &[], None, started).await;
}

/// `lambda-pipeline rollback`: moves each target's alias back to the version its description
/// records.
pub async fn rollback_command(run: &Run) -> ExitStatus {
    let plan = match plan(run) {
        Ok(plan) if !plan.is_empty() => plan,
        Ok(_) => {
            eprintln!(
                "error: input `function-name`: rollback needs `function-name` or `targets` to know which alias to move"
            );
            return ExitStatus::InvalidInput;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitStatus::InvalidInput;
        }
    };
    run.bus.add(Box::new(crate::report::console::Console::new(
        run.env.in_github_actions(),
        false,
        run.redactor.clone(),
    )));
    let started = std::time::Instant::now();
    let identity = crate::build::environment::BuildIdentity::new(
        &run.env,
        plan.targets[0].region.as_deref().unwrap_or("us-east-1"),
    );
    let mut report = RunReport::new("rollback", &identity.build_id);
    report.commit = identity.commit.clone();
    report.run_url = identity.run_url.clone();
    report.environment = Some(plan.environment.clone());
    let limiter = retry::Limiter::new();
    let cache = ClientCache::build(
        run,
        &DeployPlan {
            targets: plan
                .targets
                .iter()
                .map(|t| FunctionTarget {
                    alarms: Vec::new(),
                    ..t.clone()
                })
                .collect(),
            ..plan.clone()
        },
        &limiter,
    )
    .await;
    let mut results = Vec::new();
    for target in &plan.targets {
        results.push(rollback_one(run, &plan, &cache, &limiter, target).await);
    }
    let failed = results.iter().any(|r| r.outcome == lambda::Outcome::Failed);
    report.deploy = results.iter().map(|r| r.entry.clone()).collect();
    if failed {
        report.status = RunStatus::Failed;
        report.error = Some(
            results
                .iter()
                .filter_map(|r| r.entry.error.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    write_outputs(run, &report.deploy);
    let event = if failed {
        NotifyEvent::Failure
    } else {
        NotifyEvent::Rollback
    };
    notify_event(run, &plan, &mut report, event, &results, None, started).await;
    report.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(path) = &run.cli.inputs.report_file
        && let Err(err) = crate::report::write_report_file(&report, Path::new(path), &run.redactor)
    {
        eprintln!("warning: cannot write the report file: {err}");
    }
    run.bus.emit(Event::Finished {
        status: report.status,
    });
    if let Some(error) = &report.error {
        eprintln!("error: {error}");
    }
    if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

async fn rollback_one(
    run: &Run,
    plan: &DeployPlan,
    cache: &ClientCache,
    limiter: &retry::Limiter,
    target: &FunctionTarget,
) -> lambda::FunctionResult {
    let mut entry = DeployEntry {
        function_name: target.name.clone(),
        environment: plan.environment.clone(),
        region: target.region.clone().unwrap_or_default(),
        alias: target.alias.clone(),
        upload: "none".to_owned(),
        ..DeployEntry::default()
    };
    let record = rollback::AliasRecord {
        previous: None,
        commit: run.env.get("GITHUB_SHA").map(str::to_owned),
        run_url: crate::build::environment::run_url(&run.env),
    };
    let result = match cache.get(target) {
        Ok(clients) => {
            rollback::roll_back(
                &clients.lambda,
                limiter,
                &target.function,
                &target.alias,
                record,
                Instant::now() + plan.wait_timeout,
            )
            .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(done) => {
            entry.alias_arn = done.alias_arn.clone();
            entry.function_arn = done
                .alias_arn
                .rsplit_once(':')
                .map(|(arn, _)| arn.to_owned())
                .unwrap_or_default();
            entry.version = done.to.clone();
            entry.previous_version = done.from.clone();
            entry.rolled_back = true;
            run.bus.emit(Event::RolledBack {
                function: target.name.clone(),
                to_version: done.to,
                reason: format!("requested by `rollback` (was version {})", done.from),
            });
            lambda::FunctionResult {
                entry,
                outcome: lambda::Outcome::RolledBack,
                failed_phase: None,
            }
        }
        Err(err) => {
            entry.error = Some(format!("rollback of `{}` failed: {err}", target.name));
            lambda::FunctionResult {
                entry,
                outcome: lambda::Outcome::Failed,
                failed_phase: Some("rollback"),
            }
        }
    }
}
