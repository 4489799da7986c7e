//! Deploys a package (or an image) to the environment's Lambda functions, safely: the
//! per-function sequence (`lambda`, `wait`, `retry`), the smoke test (`smoke`), traffic shifting
//! (`shift`), rollback (`rollback`). Returns a `DeployOutcome`; emits progress events.
//!
//! Entry points, called by the `run` and `rollback` commands: `run` after a SUCCEEDED build and
//! `rollback` for `lambda-pipeline rollback`. The plan itself is resolved by
//! `settings::deploy` before anything runs.
//! Owns: everything that changes Lambda. Must not: run the build, print, write workflow files,
//! call GitHub or SNS, decide the exit code.

pub mod account;
pub mod config;
pub mod contents;
pub mod image;
pub mod lambda;
pub mod listing;
pub mod preview;
pub mod retry;
pub mod rollback;
pub mod served;
pub mod shift;
pub mod smoke;
pub mod wait;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::base::report::{
    ArtifactReport, DeployEntry, ImageReport, RunReport, RunStatus, Warning,
};
use crate::base::{InputError, Level};
use crate::env::Env;
use crate::events::{Event, StageContext};
use crate::settings::Workflow;
pub use crate::settings::deploy::{
    DeployPlan, FunctionTarget, S3Location, SmokeTest, TrafficShift,
};

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

/// Clients and credentials, one per (region, role).
struct ClientCache {
    clients: HashMap<(Option<String>, Option<String>), Result<lambda::Clients, String>>,
}

impl ClientCache {
    async fn build(
        ctx: &StageContext,
        env: &Env,
        plan: &DeployPlan,
        limiter: &retry::Limiter,
    ) -> ClientCache {
        let mut clients = HashMap::new();
        for target in &plan.targets {
            let key = (target.region.clone(), target.role_to_assume.clone());
            if clients.contains_key(&key) {
                continue;
            }
            let config =
                crate::aws::sdk_config(env, key.0.as_deref(), key.1.as_deref(), &ctx.redactor)
                    .await;
            let result = match crate::aws::credentials::check(&config).await {
                Ok(()) => {
                    let mut clients = lambda::Clients::new(&config);
                    let deadline = Instant::now() + plan.wait_timeout;
                    clients.limits = account::read(&clients.lambda, limiter, deadline).await;
                    Ok(clients)
                }
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

/// Before anything runs: a smoke test against a function with tenant isolation needs a tenant
/// (`smoke-test-tenant-id`). Reads each such target's configuration; a function that cannot be
/// read is left to the deploy to report.
pub async fn preflight(ctx: &StageContext, env: &Env, plan: &DeployPlan) -> Result<(), InputError> {
    for target in &plan.targets {
        let Some(test) = &target.smoke_test else {
            continue;
        };
        if test.tenant_id.is_some() {
            continue;
        }
        let config = crate::aws::sdk_config(
            env,
            target.region.as_deref(),
            target.role_to_assume.as_deref(),
            &ctx.redactor,
        )
        .await;
        let client = aws_sdk_lambda::Client::new(&config);
        // One attempt, briefly: this only looks ahead; the deploy reports a function it
        // cannot reach.
        let read = tokio::time::timeout(
            Duration::from_secs(10),
            client
                .get_function_configuration()
                .function_name(&target.function)
                .send(),
        )
        .await
        .map_err(|_| ())
        .and_then(|r| r.map_err(|_| ()));
        let isolated = read.ok().is_some_and(|c| {
            c.tenancy_config()
                .is_some_and(|t| t.tenant_isolation_mode().as_str() != "NONE")
        });
        if isolated {
            return Err(InputError::new(
                "smoke-test-tenant-id",
                format!(
                    "`{}` has tenant isolation, so the smoke test must name the tenant to invoke as",
                    target.name
                ),
            )
            .with_hint("set `smoke-test-tenant-id` (or `smoke-test-tenant-id:` in the target), or remove `smoke-test`"));
        }
    }
    Ok(())
}

/// What a deploy sends to Lambda.
#[derive(Debug, Clone, Copy)]
pub enum Code<'a> {
    /// A zip package.
    Zip(&'a ArtifactReport),
    /// A container image: the `image-uri` input, expanded after the build.
    Image(&'a str),
}

/// What one deploy did: one entry per function, and how it ended.
#[derive(Debug, Clone)]
pub struct DeployOutcome {
    pub status: DeployStatus,
    pub entries: Vec<DeployEntry>,
    /// The image of an image deploy.
    pub image: Option<ImageReport>,
    pub warnings: Vec<String>,
    /// Why it failed, one line per function.
    pub error: Option<String>,
    /// A bad input that only the deploy could see (an image reference, a package type): exit 2.
    pub input_error: bool,
    /// The first step that failed (`credentials`, `smoke-test`, ...), for notifications.
    pub failed_step: Option<String>,
    pub duration: Duration,
}

impl DeployOutcome {
    fn new(status: DeployStatus) -> DeployOutcome {
        DeployOutcome {
            status,
            entries: Vec::new(),
            image: None,
            warnings: Vec::new(),
            error: None,
            input_error: false,
            failed_step: None,
            duration: Duration::ZERO,
        }
    }

    fn failed(message: String) -> DeployOutcome {
        DeployOutcome {
            error: Some(message),
            ..DeployOutcome::new(DeployStatus::Failed)
        }
    }

    /// Records the outcome in the run's report: its entries, image and warnings, and, when it
    /// did not succeed, the run's status and error.
    pub fn record(&self, report: &mut RunReport) {
        report.deploy = self.entries.clone();
        if self.image.is_some() {
            report.image = self.image.clone();
        }
        report
            .warnings
            .extend(self.warnings.iter().map(|message| Warning {
                message: message.clone(),
                position: None,
            }));
        report.input_error |= self.input_error;
        if !self.status.is_success() {
            report.status = match self.status {
                DeployStatus::Cancelled => RunStatus::Stopped,
                _ => RunStatus::Failed,
            };
            report.error = self.error.clone();
        }
    }
}

/// Deploys the code to every target, concurrently. Call only after a SUCCEEDED build.
pub async fn run(
    ctx: &StageContext,
    env: &Env,
    plan: &DeployPlan,
    code: Code<'_>,
    workflow: &Workflow,
) -> DeployOutcome {
    if plan.is_empty() {
        return DeployOutcome::new(DeployStatus::Skipped);
    }
    let started = std::time::Instant::now();
    if plan.dry_run {
        ctx.bus.log(
            Level::Info,
            format!("Deploy plan (dry run):\n{}", describe(plan)),
        );
    }
    let limiter = retry::Limiter::new();
    let cache = ClientCache::build(ctx, env, plan, &limiter).await;
    let (package, image) = match code {
        Code::Zip(package) => (package.clone(), None),
        Code::Image(uri) => match image_code(ctx, plan, &cache, uri).await {
            Ok((package, image, report)) => (package, Some((image, report))),
            Err(outcome) => return *outcome,
        },
    };
    let (image, image_report, image_warnings) = match image {
        Some((image, (report, warnings))) => (Some(image), Some(report), warnings),
        None => (None, None, Vec::new()),
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
        // A preview records its pull request's head: `GITHUB_SHA` is a test merge commit.
        commit: plan
            .preview
            .as_ref()
            .and_then(|p| p.head_sha.clone())
            .or_else(|| workflow.commit.clone()),
        run_url: workflow.run_url.clone(),
        version_note: plan.preview.as_ref().map(|p| p.version_tag()),
        limiter,
        bus: ctx.bus.clone(),
        cancel: ctx.cancel.clone(),
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
    let mut outcome = summarize(&results);
    outcome.image = image_report;
    outcome.warnings.splice(0..0, image_warnings);
    outcome.duration = started.elapsed();
    outcome
}

/// Resolves the image to deploy and describes it as the package: `zip` is the URI and
/// `sha256` the digest's hex. An ECR image that cannot be found fails the deploy before
/// anything changes; another registry that cannot be asked only loses the unchanged check.
async fn image_code(
    ctx: &StageContext,
    plan: &DeployPlan,
    cache: &ClientCache,
    uri: &str,
) -> Result<(ArtifactReport, image::Image, (ImageReport, Vec<String>)), Box<DeployOutcome>> {
    let name = image::ImageName::parse(uri).map_err(|err| {
        Box::new(DeployOutcome {
            input_error: true,
            ..DeployOutcome::failed(err.to_string())
        })
    })?;
    let clients = cache
        .get(&plan.targets[0])
        .map_err(|err| Box::new(DeployOutcome::failed(err)))?;
    let mut warnings = Vec::new();
    let image = match image::resolve(&clients.config, name.clone()).await {
        Ok(image) => image,
        Err(err) if name.ecr().is_some() => return Err(Box::new(DeployOutcome::failed(err))),
        Err(err) => {
            let message = format!("{err}; deploying `{uri}` without comparing digests");
            ctx.bus.log(Level::Warning, message.clone());
            warnings.push(message);
            image::Image {
                name,
                digest: None,
                pushed_at: None,
            }
        }
    };
    ctx.bus.log(
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
    let report = ImageReport {
        uri: image.name.uri.clone(),
        repository: image.name.without_tag_or_digest(),
        digest: image.digest.clone(),
        pushed_at: image.pushed_at.clone(),
    };
    let package = ArtifactReport {
        identifier: "image".to_owned(),
        zip: image.deploy_uri(),
        sha256: image.code_sha256().unwrap_or_default().to_owned(),
        ..ArtifactReport::default()
    };
    Ok((package, image, (report, warnings)))
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
        warnings: Vec::new(),
    }
}

/// The entries and the deploy status.
fn summarize(results: &[lambda::FunctionResult]) -> DeployOutcome {
    use lambda::Outcome;
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
    let mut outcome = DeployOutcome::new(status);
    outcome.entries = results.iter().map(|r| r.entry.clone()).collect();
    outcome.warnings = results
        .iter()
        .flat_map(|r| {
            let entry = r
                .entry
                .warnings
                .iter()
                .map(|w| format!("`{}`: {w}", r.entry.function_name));
            r.warnings.iter().cloned().chain(entry)
        })
        .collect();
    outcome.input_error = results
        .iter()
        .any(|r| r.failed_phase == Some(lambda::PACKAGE_TYPE_PHASE));
    outcome.failed_step = results
        .iter()
        .find_map(|r| r.failed_phase.map(str::to_owned));
    if !status.is_success() {
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
        outcome.error = Some(errors.join("\n"));
    }
    outcome
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
        if let Some(config) = &target.config {
            let fields = serde_json::to_value(config)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                .unwrap_or_default();
            lines.push(format!(
                "    configuration: {} (environment variables: {})",
                fields.join(", "),
                match target.environment_variables {
                    crate::settings::function_config::EnvironmentMode::Merge => "merge",
                    crate::settings::function_config::EnvironmentMode::Replace => "replace",
                }
            ));
        }
        if target.create_function {
            lines.push("    create the function when it does not exist".to_owned());
        }
        if let Some(keep) = target.keep_versions {
            lines.push(format!("    keep the {keep} newest published versions"));
        }
        if target.publish_to_latest_published {
            lines.push("    publish to $LATEST.PUBLISHED".to_owned());
        }
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

/// `lambda-pipeline rollback`: moves each target's alias back to the version its description
/// records.
pub async fn rollback(
    ctx: &StageContext,
    env: &Env,
    plan: &DeployPlan,
    workflow: &Workflow,
) -> DeployOutcome {
    let started = std::time::Instant::now();
    let limiter = retry::Limiter::new();
    let without_alarms = DeployPlan {
        targets: plan
            .targets
            .iter()
            .map(|t| FunctionTarget {
                alarms: Vec::new(),
                ..t.clone()
            })
            .collect(),
        ..plan.clone()
    };
    let cache = ClientCache::build(ctx, env, &without_alarms, &limiter).await;
    let refused = check_button(plan, &cache, &limiter).await;
    if refused.iter().any(Option::is_some) {
        let reasons: Vec<String> = refused.iter().flatten().cloned().collect();
        let mut outcome = DeployOutcome::failed(reasons.join("\n"));
        outcome.failed_step = Some("rollback".to_owned());
        outcome.entries = plan
            .targets
            .iter()
            .zip(refused)
            .map(|(target, error)| DeployEntry {
                function_name: target.name.clone(),
                environment: plan.environment.clone(),
                region: target.region.clone().unwrap_or_default(),
                alias: target.alias.clone(),
                upload: "none".to_owned(),
                error,
                ..DeployEntry::default()
            })
            .collect();
        outcome.duration = started.elapsed();
        return outcome;
    }
    let mut results = Vec::new();
    for target in &plan.targets {
        results.push(rollback_one(ctx, plan, &cache, &limiter, target, workflow).await);
    }
    let failed = results.iter().any(|r| r.outcome == lambda::Outcome::Failed);
    // A rollback that was asked for and done is this command's success.
    let mut outcome = DeployOutcome::new(if failed {
        DeployStatus::Failed
    } else {
        DeployStatus::Succeeded
    });
    outcome.entries = results.iter().map(|r| r.entry.clone()).collect();
    if failed {
        outcome.failed_step = Some("rollback".to_owned());
        outcome.error = Some(
            results
                .iter()
                .filter_map(|r| r.entry.error.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    outcome.duration = started.elapsed();
    outcome
}

/// The Roll back button rolls back only what its check run deployed: before anything moves,
/// every alias must still serve the version that check run deployed. Per target, why not.
async fn check_button(
    plan: &DeployPlan,
    cache: &ClientCache,
    limiter: &retry::Limiter,
) -> Vec<Option<String>> {
    let mut refused = vec![None; plan.targets.len()];
    let Some(button) = plan.button.as_ref() else {
        return refused;
    };
    let deadline = Instant::now() + plan.wait_timeout;
    for (index, target) in plan.targets.iter().enumerate() {
        let Some(deployed) = button
            .record
            .functions
            .iter()
            .find(|f| f.name == target.name)
        else {
            continue;
        };
        let checked = match cache.get(target) {
            Ok(clients) => rollback::check_serves(
                &clients.lambda,
                limiter,
                &target.function,
                &target.alias,
                &deployed.version,
                deadline,
            )
            .await
            .map(|_| ()),
            Err(err) => Err(err),
        };
        if let Err(err) = checked {
            refused[index] = Some(format!(
                "refused to roll back `{}` for check run {}: {err}",
                target.name, button.check_run_id
            ));
        }
    }
    refused
}

async fn rollback_one(
    ctx: &StageContext,
    plan: &DeployPlan,
    cache: &ClientCache,
    limiter: &retry::Limiter,
    target: &FunctionTarget,
    workflow: &Workflow,
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
        commit: workflow.commit.clone(),
        run_url: workflow.run_url.clone(),
    };
    let deployed = plan.button.as_ref().and_then(|button| {
        button
            .record
            .functions
            .iter()
            .find(|f| f.name == target.name)
    });
    let result = match (cache.get(target), deployed) {
        (Ok(clients), Some(deployed)) => {
            rollback::roll_back_exact(
                &clients.lambda,
                limiter,
                &target.function,
                &target.alias,
                &deployed.version,
                &deployed.previous,
                record,
                Instant::now() + plan.wait_timeout,
            )
            .await
        }
        (Ok(clients), None) => {
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
        (Err(err), _) => Err(err),
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
            ctx.bus.emit(Event::RolledBack {
                function: target.name.clone(),
                to_version: done.to,
                reason: format!("requested by `rollback` (was version {})", done.from),
            });
            lambda::FunctionResult {
                entry,
                outcome: lambda::Outcome::RolledBack,
                failed_phase: None,
                warnings: Vec::new(),
            }
        }
        Err(err) => {
            entry.error = Some(format!("rollback of `{}` failed: {err}", target.name));
            lambda::FunctionResult {
                entry,
                outcome: lambda::Outcome::Failed,
                failed_phase: Some("rollback"),
                warnings: Vec::new(),
            }
        }
    }
}
