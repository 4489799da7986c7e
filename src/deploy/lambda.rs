//! The deploy sequence for one function (DESIGN.md "Lambda deploy sequence"):
//! GetFunction → wait until Active and not InProgress → compare CodeSha256 (unchanged: no
//! upload and no publish, but make sure the alias points at the current version; `force`
//! overrides) → the account's storage checked → UpdateFunctionCode (directly up to the
//! account's zipped limit, through S3 above) with the RevisionId → wait → PublishVersion with a
//! CodeSha256 guard → wait until the version reads Active (SnapStart, Managed Instances) →
//! smoke test (as the tenant, with tenant isolation) → move the alias → wait until its
//! provisioned concurrency is READY (else move it back) → delete versions beyond
//! `keep-versions`.
//! Never changes the function's configuration: this is a code deploy.
//! Owns: Lambda and S3 calls of one deploy. Must not: print, decide the exit status.

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionVersionLatestPublished, PackageType};
use base64::Engine as _;
use tokio::time::Instant;

use super::account::AccountLimits;
use super::config;
use super::contents::{self, FunctionCode};
use super::image::Image;
use super::listing;
use super::retry::{self, Limiter};
use super::rollback::AliasRecord;
use super::shift::{AliasMove, AliasState, Moved};
use super::wait::{self, Settled};
use super::{shift, smoke};
use crate::base::Level;
use crate::base::report::{ArtifactReport, DeployEntry};
use crate::cancel::CancelToken;
use crate::events::{Event, EventBus};
use crate::settings::deploy::{FunctionTarget, S3Location};

/// The AWS clients for one region and role.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The config they were made from (region and credentials), for other services.
    pub config: aws_config::SdkConfig,
    pub lambda: aws_sdk_lambda::Client,
    pub s3: aws_sdk_s3::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// The account's limits in this region (`GetAccountSettings`, else the documented ones).
    pub limits: AccountLimits,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig) -> Clients {
        // An IP endpoint (a local emulator) cannot take virtual-hosted bucket names.
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Clients {
            config: config.clone(),
            lambda: aws_sdk_lambda::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            limits: AccountLimits::documented("not read yet"),
        }
    }
}

/// What every function's deploy shares.
#[derive(Debug)]
pub struct Shared {
    pub environment: String,
    /// The zip, or for an image deploy its stand-in: `zip` is the image URI and `sha256` the
    /// digest's hex (Lambda's CodeSha256 for an image), empty when the digest is unknown.
    pub package: ArtifactReport,
    /// Set for an image deploy (`image-uri`).
    pub image: Option<Image>,
    pub force: bool,
    pub dry_run: bool,
    pub wait_timeout: Duration,
    pub s3: Option<S3Location>,
    pub commit: Option<String>,
    pub run_url: Option<String>,
    /// A word for every published version's description: `preview=pr-<n>` for a preview.
    pub version_note: Option<String>,
    pub limiter: Limiter,
    pub bus: EventBus,
    pub cancel: CancelToken,
}

/// How one function's deploy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    RolledBack,
    Cancelled,
}

/// The result of one function's deploy.
#[derive(Debug, Clone)]
pub struct FunctionResult {
    pub entry: DeployEntry,
    pub outcome: Outcome,
    /// The step that failed: `wait`, `upload`, `publish`, `smoke-test`, `alias`...
    pub failed_phase: Option<&'static str>,
    /// What the deploy noticed and went on with (a package without the handler).
    pub warnings: Vec<String>,
}

/// The step name of a zip/image mismatch: an input error, not a deploy failure.
pub const PACKAGE_TYPE_PHASE: &str = "package-type";

/// What the function's configuration says about a new version.
#[derive(Debug, Clone, Default)]
struct Features {
    /// Tenant isolation (`TenancyConfig`): every invoke needs a tenant id.
    tenancy: bool,
    /// The capacity provider of a function on Lambda Managed Instances.
    capacity_provider: Option<String>,
}

/// The function as GetFunction found it.
struct Live {
    settled: Settled,
    features: Features,
    config: aws_sdk_lambda::types::FunctionConfiguration,
}

/// A failed step and why.
struct Failure {
    phase: &'static str,
    message: String,
}

fn fail(phase: &'static str) -> impl Fn(String) -> Failure {
    move |message| Failure { phase, message }
}

/// Deploys the shared package to one function.
pub async fn deploy(
    shared: Arc<Shared>,
    clients: Clients,
    target: FunctionTarget,
) -> FunctionResult {
    let started = StdInstant::now();
    let mut entry = DeployEntry {
        function_name: target.name.clone(),
        environment: shared.environment.clone(),
        region: target.region.clone().unwrap_or_default(),
        alias: target.alias.clone(),
        code_sha256: shared.package.sha256.clone(),
        package_size: shared.package.size,
        upload: "none".to_owned(),
        image_digest: shared.image.as_ref().and_then(|i| i.digest.clone()),
        ..DeployEntry::default()
    };
    shared.bus.emit(Event::DeployStarted {
        function: target.name.clone(),
        environment: shared.environment.clone(),
    });
    let deployer = Deployer {
        shared: &shared,
        clients: &clients,
        target: &target,
        warnings: std::sync::Mutex::new(Vec::new()),
    };
    let result = deployer.sequence(&mut entry).await;
    if matches!(result, Ok(Outcome::Succeeded)) && !shared.dry_run {
        deployer.prune(&mut entry, false).await;
    }
    // `$LATEST` keeps a configuration the alias does not serve only when a later step failed.
    entry.latest_differs &= !matches!(result, Ok(Outcome::Succeeded));
    entry.duration_ms = started.elapsed().as_millis() as u64;
    let (outcome, failed_phase) = match result {
        Ok(outcome) => (outcome, None),
        Err(failure) => {
            entry.version = deployer.alias_version_after(&failure, &entry).await;
            entry.error = Some(failure.message);
            (Outcome::Failed, Some(failure.phase))
        }
    };
    if outcome != Outcome::Failed {
        shared.bus.emit(Event::Deployed {
            entry: Box::new(entry.clone()),
        });
    }
    let warnings = deployer
        .warnings
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    FunctionResult {
        entry,
        outcome,
        failed_phase,
        warnings,
    }
}

struct Deployer<'a> {
    shared: &'a Shared,
    clients: &'a Clients,
    target: &'a FunctionTarget,
    warnings: std::sync::Mutex<Vec<String>>,
}

impl Deployer<'_> {
    fn function(&self) -> &str {
        &self.target.function
    }

    fn progress(&self, message: String) {
        self.shared.bus.emit(Event::DeployProgress {
            function: self.target.name.clone(),
            message,
        });
    }

    /// Waits, bounded by `wait-timeout`, until the function is Active and not InProgress.
    async fn wait_until_ready(&self, settled: Settled) -> Result<Settled, Failure> {
        let progress = |message: String| self.progress(message);
        wait::until_ready(
            &self.clients.lambda,
            &self.shared.limiter,
            self.function(),
            settled,
            self.shared.wait_timeout,
            &progress,
        )
        .await
        .map_err(fail("wait"))
    }

    /// Where the alias is after a failed deploy, for the report. Before the alias step it was
    /// never touched; after it, the alias is read back, because a failed move tries to restore
    /// the old routing and that too can fail.
    async fn alias_version_after(&self, failure: &Failure, entry: &DeployEntry) -> String {
        if failure.phase != "alias" {
            return entry.previous_version.clone();
        }
        match self.alias_state().await {
            Ok(Some(alias)) if alias.routing.is_empty() => alias.version,
            Ok(Some(alias)) => {
                let weights: Vec<String> = alias
                    .routing
                    .iter()
                    .map(|(version, weight)| format!("{version}={weight}"))
                    .collect();
                format!("{} (weighted: {})", alias.version, weights.join(", "))
            }
            Ok(None) => String::new(),
            Err(_) => format!("unknown (was {})", entry.previous_version),
        }
    }

    /// A warning: said now, and kept for the report.
    fn warn(&self, message: String) {
        self.shared.bus.log(Level::Warning, message.clone());
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }

    /// Before a zip goes to the function: does it look like that function's package?
    fn check_contents(&self, code: &FunctionCode) {
        let package = &self.shared.package;
        if self.shared.image.is_some() {
            return;
        }
        let shown = std::path::Path::new(&package.zip)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| package.zip.clone());
        if let Some(message) = contents::check(&self.target.name, &shown, &package.files, code) {
            self.warn(message);
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.shared.wait_timeout
    }

    async fn sequence(&self, entry: &mut DeployEntry) -> Result<Outcome, Failure> {
        let package = &self.shared.package;
        let limits = &self.clients.limits;
        if package.uncompressed_size > limits.code_size_unzipped {
            return Err(Failure {
                phase: "package",
                message: format!(
                    "the package unzips to {} bytes, over Lambda's limit of {} bytes ({}); exclude files from the artifacts",
                    package.uncompressed_size, limits.code_size_unzipped, limits.source
                ),
            });
        }
        let Some(Live {
            settled,
            features,
            config: live,
        }) = self.current(entry).await?
        else {
            return self.create(entry).await;
        };
        // The handler and runtime the new version will have: `function-config`'s, else the
        // function's.
        let desired = self.target.config.as_ref();
        self.check_contents(&FunctionCode {
            handler: desired
                .and_then(|c| c.handler.clone())
                .or_else(|| live.handler().map(str::to_owned)),
            runtime: desired
                .and_then(|c| c.runtime.clone())
                .or_else(|| live.runtime().map(|r| r.as_str().to_owned())),
        });
        if let Some(provider) = &features.capacity_provider {
            entry.capacity_provider = Some(provider.clone());
            self.progress(format!(
                "runs on Lambda Managed Instances (capacity provider {provider}): a published version starts its instances before it is Active"
            ));
        }
        if features.tenancy
            && let Some(test) = &self.target.smoke_test
            && test.tenant_id.is_none()
        {
            return Err(Failure {
                phase: PACKAGE_TYPE_PHASE,
                message: format!(
                    "`{}` has tenant isolation: every invoke needs a tenant; set `smoke-test-tenant-id` for the smoke test",
                    self.function()
                ),
            });
        }
        let settled = self.wait_until_ready(settled).await?;
        let alias = self.alias_state().await?;
        entry.previous_version = alias
            .as_ref()
            .map(|a| a.version.clone())
            .unwrap_or_default();
        let unchanged = settled.code_sha256.as_deref() == Some(package.sha256.as_str());
        let provisioned = self.provisioned_concurrency().await;
        let changes = self
            .target
            .config
            .as_ref()
            .map(|desired| config::plan(desired, self.target.environment_variables, &live))
            .unwrap_or_default();
        entry.config_changes = changes.changes.clone();
        if !changes.changes.is_empty() {
            self.progress(format!(
                "configuration{}: {}",
                if self.shared.dry_run {
                    " (would change)"
                } else {
                    ""
                },
                describe_changes(&changes.changes)
            ));
        }
        if self.shared.dry_run {
            self.describe_plan(unchanged, alias.as_ref(), provisioned);
            self.prune(entry, true).await;
            entry.version = entry.previous_version.clone();
            return Ok(Outcome::Succeeded);
        }
        let settled = if changes.updates_configuration() {
            let settled = self.update_configuration(&changes, &live, settled).await?;
            entry.latest_differs = true;
            settled
        } else {
            settled
        };
        let code_changes = !unchanged || self.shared.force || changes.architectures.is_some();
        let version = if !code_changes && changes.updates_configuration() {
            self.progress("code unchanged; publishing the new configuration".to_owned());
            entry.deployed = true;
            let published = self.publish(settled.revision_id.clone(), None).await?;
            entry.published_version = Some(published.clone());
            published
        } else if !code_changes {
            self.progress(format!(
                "code unchanged (CodeSha256 {}); nothing to upload",
                package.sha256
            ));
            self.current_version(alias.as_ref(), entry).await?
        } else {
            if self.shared.image.is_none() {
                limits
                    .check_storage(package.size)
                    .map_err(|message| Failure {
                        phase: "package",
                        message: format!(
                            "{message}; set `keep-versions` to delete old versions after each deploy, or delete unused versions"
                        ),
                    })?;
            }
            let (revision, code_sha256) = self
                .upload(
                    entry,
                    settled.revision_id.clone(),
                    changes.architectures.clone(),
                )
                .await?;
            entry.deployed = true;
            if self.shared.image.is_some() {
                entry.code_sha256 = code_sha256.clone().unwrap_or_default();
            }
            let published = self.publish(revision, code_sha256).await?;
            entry.published_version = Some(published.clone());
            published
        };
        entry.version = version.clone();
        self.wait_until_active(&version, entry).await?;
        let already_live = alias
            .as_ref()
            .is_some_and(|a| a.version == version && a.routing.is_empty());
        if let Some(live) = alias.as_ref().filter(|_| already_live) {
            entry.alias_arn = live.arn.clone();
            self.progress(format!(
                "alias `{}` already points at version {version}",
                self.target.alias
            ));
            return Ok(Outcome::Succeeded);
        }
        self.smoke_test(&version).await?;
        if let Some(count) = provisioned {
            entry.provisioned_concurrency = Some(count);
            self.progress(format!(
                "alias `{}` has provisioned concurrency ({count}): moving it allocates {count} execution environments for version {version}",
                self.target.alias
            ));
        }
        let before = alias.clone();
        let outcome = self.move_alias(entry, alias, &version).await?;
        if outcome == Outcome::Succeeded && provisioned.is_some() {
            self.wait_provisioned(entry, before, &version).await?;
        }
        Ok(outcome)
    }

    /// The smoke test against `version`, when the target has one.
    async fn smoke_test(&self, version: &str) -> Result<(), Failure> {
        let Some(test) = &self.target.smoke_test else {
            return Ok(());
        };
        self.progress(format!("smoke test: invoking version {version}"));
        smoke::run(
            &self.clients.lambda,
            &self.shared.limiter,
            self.function(),
            version,
            test,
            self.deadline(),
        )
        .await
        .map_err(fail("smoke-test"))?;
        self.progress("smoke test passed".to_owned());
        Ok(())
    }

    /// Waits until the published `version` reads Active; records whether it has a SnapStart
    /// snapshot and how long the wait took.
    async fn wait_until_active(
        &self,
        version: &str,
        entry: &mut DeployEntry,
    ) -> Result<(), Failure> {
        let progress = |message: String| self.progress(message);
        let ready = wait::until_version_active(
            &self.clients.lambda,
            &self.shared.limiter,
            self.function(),
            version,
            self.shared.wait_timeout,
            &progress,
        )
        .await
        .map_err(fail("version-active"))?;
        entry.snap_start = ready.snap_start;
        if !ready.waited.is_zero() {
            entry.active_wait_ms = Some(ready.waited.as_millis() as u64);
            self.progress(format!(
                "version {version} is Active after {:.1}s{}",
                ready.waited.as_secs_f64(),
                if ready.snap_start {
                    " (SnapStart snapshot taken)"
                } else {
                    ""
                }
            ));
        }
        Ok(())
    }

    /// GetProvisionedConcurrencyConfig of the target's alias.
    async fn read_provisioned(
        &self,
        deadline: Instant,
    ) -> Result<
        aws_sdk_lambda::operation::get_provisioned_concurrency_config::GetProvisionedConcurrencyConfigOutput,
        retry::CallError,
    >{
        retry::call(
            &self.shared.limiter,
            "GetProvisionedConcurrencyConfig",
            deadline,
            || {
                self.clients
                    .lambda
                    .get_provisioned_concurrency_config()
                    .function_name(self.function())
                    .qualifier(&self.target.alias)
                    .send()
            },
        )
        .await
    }

    /// The alias's provisioned concurrency, when it has some (`None` when it has none, or when
    /// it cannot be read: that only loses the wait for READY).
    async fn provisioned_concurrency(&self) -> Option<i32> {
        match self.read_provisioned(self.deadline()).await {
            Ok(config) => config.requested_provisioned_concurrent_executions(),
            Err(err) => {
                if !matches!(
                    err.code.as_deref(),
                    Some(
                        "ProvisionedConcurrencyConfigNotFoundException"
                            | "ResourceNotFoundException"
                    )
                ) {
                    tracing::debug!("provisioned concurrency not read: {}", err.message);
                }
                None
            }
        }
    }

    /// After a move onto an alias with provisioned concurrency: waits until Lambda reports it
    /// READY for the new version. FAILED, or the wait running out, moves the alias back.
    async fn wait_provisioned(
        &self,
        entry: &mut DeployEntry,
        before: Option<AliasState>,
        version: &str,
    ) -> Result<(), Failure> {
        let deadline = self.deadline();
        let mut interval = Duration::from_millis(250);
        let problem = loop {
            let config = match self.read_provisioned(deadline).await {
                Ok(config) => config,
                Err(err) => break err.message,
            };
            match config.status().map(|s| s.as_str()) {
                Some("READY") => {
                    self.progress(format!(
                        "provisioned concurrency of alias `{}` is READY for version {version}",
                        self.target.alias
                    ));
                    return Ok(());
                }
                Some("FAILED") => {
                    break format!(
                        "provisioned concurrency of alias `{}` FAILED for version {version}: {}",
                        self.target.alias,
                        config.status_reason().unwrap_or("Lambda gave no reason")
                    );
                }
                status => {
                    if tokio::time::Instant::now() + interval > deadline {
                        break format!(
                            "provisioned concurrency of alias `{}` was still {} after {}s; raise `wait-timeout`",
                            self.target.alias,
                            status.unwrap_or("unknown"),
                            self.shared.wait_timeout.as_secs()
                        );
                    }
                }
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(5));
        };
        let Some(before) = before else {
            return Err(fail("provisioned-concurrency")(format!(
                "{problem}; alias `{}` had no earlier version to go back to",
                self.target.alias
            )));
        };
        let record = AliasRecord {
            previous: None,
            commit: self.shared.commit.clone(),
            run_url: self.shared.run_url.clone(),
        };
        let moved_back = super::rollback::roll_back(
            &self.clients.lambda,
            &self.shared.limiter,
            self.function(),
            &self.target.alias,
            record,
            self.deadline(),
        )
        .await;
        match moved_back {
            Ok(rolled) => {
                entry.version = rolled.to;
                Err(fail("provisioned-concurrency")(format!(
                    "{problem}; alias `{}` is back on version {}",
                    self.target.alias, before.version
                )))
            }
            Err(err) => Err(fail("provisioned-concurrency")(format!(
                "{problem}; moving alias `{}` back to version {} failed too: {err}",
                self.target.alias, before.version
            ))),
        }
    }

    /// `keep-versions`: deletes published versions beyond the N newest, never one an alias
    /// points at (primary or weighted), `$LATEST`, the version deployed or the one it
    /// replaced. In a dry run, says what it would delete. A failed deletion is a warning.
    async fn prune(&self, entry: &mut DeployEntry, dry_run: bool) {
        let Some(keep) = self.target.keep_versions else {
            return;
        };
        let candidates = match self.prune_candidates(entry, keep as usize).await {
            Ok(candidates) => candidates,
            Err(err) => {
                entry
                    .warnings
                    .push(format!("old versions were not pruned: {err}"));
                return;
            }
        };
        if candidates.is_empty() {
            return;
        }
        if dry_run {
            self.progress(format!(
                "dry run: keep-versions {keep} would delete version(s) {}",
                candidates.join(", ")
            ));
            return;
        }
        for version in candidates {
            let result = retry::call(
                &self.shared.limiter,
                "DeleteFunction",
                self.deadline(),
                || {
                    self.clients
                        .lambda
                        .delete_function()
                        .function_name(self.function())
                        .qualifier(&version)
                        .send()
                },
            )
            .await;
            match result {
                Ok(_) => entry.pruned_versions.push(version),
                Err(err) => entry.warnings.push(format!(
                    "version {version} was not deleted: {}",
                    err.message
                )),
            }
        }
        if !entry.pruned_versions.is_empty() {
            self.progress(format!(
                "keep-versions {keep}: deleted version(s) {}",
                entry.pruned_versions.join(", ")
            ));
        }
    }

    /// Every version of the function (`$LATEST` included), all pages.
    async fn list_versions(
        &self,
    ) -> Result<Vec<aws_sdk_lambda::types::FunctionConfiguration>, String> {
        listing::versions(
            &self.clients.lambda,
            &self.shared.limiter,
            self.deadline(),
            self.function(),
        )
        .await
    }

    /// The published versions `prune` may delete, oldest first.
    async fn prune_candidates(
        &self,
        entry: &DeployEntry,
        keep: usize,
    ) -> Result<Vec<String>, String> {
        let versions: Vec<u64> = self
            .list_versions()
            .await?
            .iter()
            .filter_map(|v| v.version()?.parse::<u64>().ok())
            .collect();
        let mut protected: Vec<String> =
            vec![entry.version.clone(), entry.previous_version.clone()];
        let aliases = listing::aliases(
            &self.clients.lambda,
            &self.shared.limiter,
            self.deadline(),
            self.function(),
        )
        .await?;
        for alias in &aliases {
            protected.extend(alias.function_version().map(str::to_owned));
            if let Some(weights) = alias
                .routing_config()
                .and_then(|r| r.additional_version_weights())
            {
                protected.extend(weights.keys().cloned());
            }
        }
        Ok(prunable(versions, &protected, keep))
    }

    /// UpdateFunctionConfiguration with the changed fields and the settled RevisionId, then
    /// waits until the update is done. Errors name the field Lambda complained about.
    async fn update_configuration(
        &self,
        changes: &config::ConfigPlan,
        live: &aws_sdk_lambda::types::FunctionConfiguration,
        settled: Settled,
    ) -> Result<Settled, Failure> {
        let request = changes.request(
            self.clients
                .lambda
                .update_function_configuration()
                .function_name(self.function())
                .set_revision_id(settled.revision_id.clone()),
            live,
        );
        let output = retry::call(
            &self.shared.limiter,
            "UpdateFunctionConfiguration",
            self.deadline(),
            || request.clone().send(),
        )
        .await
        .map_err(|e| fail("configuration")(config::name_the_field(&e.message)))?;
        self.progress(format!(
            "configuration updated ({} change(s))",
            changes.changes.len()
        ));
        let after = Settled {
            state: output.state().cloned(),
            last_update: output.last_update_status().cloned(),
            reason: output.last_update_status_reason().map(str::to_owned),
            revision_id: output.revision_id().map(str::to_owned),
            code_sha256: output.code_sha256().map(str::to_owned),
        };
        self.wait_until_ready(after)
            .await
            .map_err(|f| fail("configuration")(config::name_the_field(&f.message)))
    }

    /// `create-function`: CreateFunction from `function-config` and the package, published as
    /// version 1, Active, smoke-tested, then the alias created.
    async fn create(&self, entry: &mut DeployEntry) -> Result<Outcome, Failure> {
        let desired = self.target.config.clone().unwrap_or_default();
        if self.shared.dry_run {
            self.progress(format!(
                "dry run: `{}` does not exist; would create it from `function-config`, publish version 1 and create alias `{}`; nothing changed",
                self.function(),
                self.target.alias
            ));
            return Ok(Outcome::Succeeded);
        }
        let package = &self.shared.package;
        let mut code = aws_sdk_lambda::types::FunctionCode::builder();
        let mut request = config::create_request(
            self.clients
                .lambda
                .create_function()
                .function_name(self.function())
                .publish(true),
            &desired,
        );
        if let Some(image) = &self.shared.image {
            code = code.image_uri(image.deploy_uri());
            entry.upload = "image".to_owned();
            request = request.package_type(PackageType::Image);
        } else if package.needs_s3 || package.size > self.clients.limits.code_size_zipped {
            let (bucket, key) = self.put_object().await?;
            entry.upload = format!("s3://{bucket}/{key}");
            code = code.s3_bucket(bucket).s3_key(key);
        } else {
            let bytes = fs_err::read(&package.zip).map_err(|e| fail("create")(e.to_string()))?;
            entry.upload = "direct".to_owned();
            code = code.zip_file(Blob::new(bytes));
        }
        let request = request.code(code.build());
        self.progress(format!(
            "`{}` does not exist; creating it (create-function)",
            self.function()
        ));
        let output = retry::call(
            &self.shared.limiter,
            "CreateFunction",
            self.deadline(),
            || request.clone().send(),
        )
        .await
        .map_err(|e| fail("create")(config::name_the_field(&e.message)))?;
        entry.created = true;
        entry.deployed = true;
        entry.function_arn = output.function_arn().unwrap_or_default().to_owned();
        if entry.region.is_empty() {
            entry.region = entry
                .function_arn
                .split(':')
                .nth(3)
                .unwrap_or("")
                .to_owned();
        }
        let settled = Settled {
            state: output.state().cloned(),
            last_update: output.last_update_status().cloned(),
            reason: output.state_reason().map(str::to_owned),
            revision_id: output.revision_id().map(str::to_owned),
            code_sha256: output.code_sha256().map(str::to_owned),
        };
        self.wait_until_ready(settled).await?;
        let version = match output.version().filter(|v| *v != "$LATEST") {
            Some(version) => version.to_owned(),
            None => self.publish(None, None).await?,
        };
        self.progress(format!("created `{}`, version {version}", self.function()));
        entry.published_version = Some(version.clone());
        entry.version = version.clone();
        self.wait_until_active(&version, entry).await?;
        self.smoke_test(&version).await?;
        self.move_alias(entry, None, &version).await
    }

    /// GetFunction: the function's ARN, settle state, features and live configuration; `None`
    /// when it does not exist and `create-function` is set. Refuses a zip for an image function
    /// and an image for a zip function.
    async fn current(&self, entry: &mut DeployEntry) -> Result<Option<Live>, Failure> {
        let found = retry::call(&self.shared.limiter, "GetFunction", self.deadline(), || {
            self.clients
                .lambda
                .get_function()
                .function_name(self.function())
                .send()
        })
        .await;
        if matches!(&found, Err(e) if e.is_not_found()) && self.target.create_function {
            return Ok(None);
        }
        let function = found.map_err(|e| Failure {
            phase: "wait",
            message: if e.is_not_found() {
                format!(
                    "function `{}` does not exist{}; create it first, or set `create-function: true` with its `function-config`",
                    self.function(),
                    self.target
                        .region
                        .as_deref()
                        .map(|r| format!(" in `{r}`"))
                        .unwrap_or_default()
                )
            } else {
                e.message
            },
        })?;
        let config = function.configuration().ok_or_else(|| Failure {
            phase: "wait",
            message: "GetFunction returned no configuration".to_owned(),
        })?;
        entry.function_arn = config.function_arn().unwrap_or_default().to_owned();
        if entry.region.is_empty() {
            entry.region = entry
                .function_arn
                .split(':')
                .nth(3)
                .unwrap_or("")
                .to_owned();
        }
        let features = Features {
            tenancy: config
                .tenancy_config()
                .is_some_and(|t| t.tenant_isolation_mode().as_str() != "NONE"),
            capacity_provider: config
                .capacity_provider_config()
                .and_then(|c| c.lambda_managed_instances_capacity_provider_config())
                .map(|c| c.capacity_provider_arn().to_owned()),
        };
        let image_function = config.package_type() == Some(&PackageType::Image);
        if image_function != self.shared.image.is_some() {
            return Err(Failure {
                phase: PACKAGE_TYPE_PHASE,
                message: if image_function {
                    format!(
                        "`{}` has PackageType Image: it runs a container image, not a zip; deploy it with `image-uri`",
                        self.function()
                    )
                } else {
                    format!(
                        "`{}` has PackageType Zip: `image-uri` deploys only to image functions; deploy a zip to it, or name an image function",
                        self.function()
                    )
                },
            });
        }
        let mut settled = Settled::from_config(config);
        if image_function {
            // The digest Lambda resolved the image to, when it says so.
            let resolved = function
                .code()
                .and_then(|c| c.resolved_image_uri())
                .and_then(|uri| uri.split_once("@sha256:"))
                .map(|(_, hex)| hex.to_owned());
            settled.code_sha256 = resolved.or(settled.code_sha256);
        }
        Ok(Some(Live {
            settled,
            features,
            config: config.clone(),
        }))
    }

    async fn alias_state(&self) -> Result<Option<AliasState>, Failure> {
        let result = retry::call(&self.shared.limiter, "GetAlias", self.deadline(), || {
            self.clients
                .lambda
                .get_alias()
                .function_name(self.function())
                .name(&self.target.alias)
                .send()
        })
        .await;
        match result {
            Ok(alias) => Ok(Some(AliasState {
                arn: alias.alias_arn().unwrap_or_default().to_owned(),
                version: alias.function_version().unwrap_or_default().to_owned(),
                description: alias.description().unwrap_or_default().to_owned(),
                routing: alias
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .cloned()
                    .unwrap_or_default(),
                revision_id: alias.revision_id().map(str::to_owned),
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(fail("alias")(e.message)),
        }
    }

    /// The published version that runs the current code: the alias's own when its code
    /// matches, else the newest published version with this CodeSha256, else a new publish.
    async fn current_version(
        &self,
        alias: Option<&AliasState>,
        entry: &mut DeployEntry,
    ) -> Result<String, Failure> {
        let sha = &self.shared.package.sha256;
        if let Some(alias) = alias
            && alias.version != "$LATEST"
        {
            let config = retry::call(
                &self.shared.limiter,
                "GetFunctionConfiguration",
                self.deadline(),
                || {
                    self.clients
                        .lambda
                        .get_function_configuration()
                        .function_name(self.function())
                        .qualifier(&alias.version)
                        .send()
                },
            )
            .await
            .map_err(|e| fail("alias")(e.message))?;
            if config.code_sha256() == Some(sha.as_str()) {
                self.progress(format!(
                    "version {} already runs this code; nothing to publish",
                    alias.version
                ));
                return Ok(alias.version.clone());
            }
        }
        let newest = self
            .list_versions()
            .await
            .map_err(fail("alias"))?
            .iter()
            .filter(|v| v.code_sha256() == Some(sha.as_str()))
            .filter_map(|v| v.version()?.parse::<u64>().ok())
            .max();
        match newest {
            Some(number) => {
                self.progress(format!(
                    "version {number} already runs this code; nothing to publish"
                ));
                Ok(number.to_string())
            }
            None => {
                self.progress("no published version runs this code yet; publishing one".to_owned());
                entry.deployed = true;
                self.publish(None, None).await
            }
        }
    }

    /// UpdateFunctionCode (the zip directly or through S3, or the image URI), then waits.
    /// Returns the settled RevisionId and CodeSha256.
    async fn upload(
        &self,
        entry: &mut DeployEntry,
        revision: Option<String>,
        architectures: Option<Vec<aws_sdk_lambda::types::Architecture>>,
    ) -> Result<(Option<String>, Option<String>), Failure> {
        let package = &self.shared.package;
        let through_s3 = package.needs_s3 || package.size > self.clients.limits.code_size_zipped;
        let mut request = self
            .clients
            .lambda
            .update_function_code()
            .function_name(self.function())
            .set_architectures(architectures)
            .set_revision_id(revision);
        if let Some(image) = &self.shared.image {
            let uri = image.deploy_uri();
            self.progress(format!("pointing the function at image {uri}"));
            entry.upload = "image".to_owned();
            entry.image_digest = image.digest.clone();
            request = request.image_uri(uri);
        } else if through_s3 {
            let (bucket, key) = self.put_object().await?;
            entry.upload = format!("s3://{bucket}/{key}");
            request = request.s3_bucket(bucket).s3_key(key);
        } else {
            let bytes = fs_err::read(&package.zip).map_err(|e| fail("upload")(e.to_string()))?;
            self.progress(format!("uploading {} bytes directly", bytes.len()));
            entry.upload = "direct".to_owned();
            request = request.zip_file(Blob::new(bytes));
        }
        let output = retry::call(
            &self.shared.limiter,
            "UpdateFunctionCode",
            self.deadline(),
            || request.clone().send(),
        )
        .await
        .map_err(|e| fail("upload")(e.message))?;
        let settled = Settled {
            state: output.state().cloned(),
            last_update: output.last_update_status().cloned(),
            reason: output.last_update_status_reason().map(str::to_owned),
            revision_id: output.revision_id().map(str::to_owned),
            code_sha256: output.code_sha256().map(str::to_owned),
        };
        let settled = self.wait_until_ready(settled).await?;
        // An image's CodeSha256 is Lambda's own digest of it; a zip's is the package's.
        if self.shared.image.is_none()
            && let Some(deployed) = &settled.code_sha256
            && deployed != &package.sha256
        {
            return Err(fail("upload")(format!(
                "Lambda reports CodeSha256 {deployed} after the upload, but the package's is {}",
                package.sha256
            )));
        }
        Ok((settled.revision_id, settled.code_sha256))
    }

    /// Puts the package at `<prefix>/<function>/<sha256 hex>.zip`.
    async fn put_object(&self) -> Result<(String, String), Failure> {
        let package = &self.shared.package;
        let Some(location) = &self.shared.s3 else {
            return Err(Failure {
                phase: "upload",
                message: format!(
                    "the package is {} bytes, over the account's direct-upload limit of {} bytes ({}), and `s3-bucket` is not set",
                    package.size, self.clients.limits.code_size_zipped, self.clients.limits.source
                ),
            });
        };
        let hex = base64::engine::general_purpose::STANDARD
            .decode(&package.sha256)
            .map(|bytes| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .unwrap_or_else(|_| package.sha256.replace(['/', '+', '='], "_"));
        let key = [
            location.prefix.as_str(),
            &self.target.name,
            &format!("{hex}.zip"),
        ]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
        self.progress(format!(
            "uploading {} bytes to s3://{}/{key}",
            package.size, location.bucket
        ));
        let path = std::path::PathBuf::from(&package.zip);
        retry::call(&self.shared.limiter, "PutObject", self.deadline(), || {
            let path = path.clone();
            let client = self.clients.s3.clone();
            let bucket = location.bucket.clone();
            let key = key.clone();
            async move {
                let body = aws_sdk_s3::primitives::ByteStream::from_path(&path)
                    .await
                    .map_err(|e| {
                        aws_sdk_s3::error::SdkError::construction_failure(std::io::Error::other(
                            format!("cannot read `{}`: {e}", path.display()),
                        ))
                    })?;
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body)
                    .send()
                    .await
            }
        })
        .await
        .map_err(|e| fail("upload")(e.message))?;
        Ok((location.bucket.clone(), key))
    }

    /// PublishVersion, guarded by the package's CodeSha256 and the settled RevisionId.
    async fn publish(
        &self,
        revision: Option<String>,
        code_sha256: Option<String>,
    ) -> Result<String, Failure> {
        let guard = match &self.shared.image {
            Some(_) => code_sha256,
            None => Some(self.shared.package.sha256.clone()),
        };
        let description = self.version_description();
        let output = retry::call(
            &self.shared.limiter,
            "PublishVersion",
            self.deadline(),
            || {
                self.clients
                    .lambda
                    .publish_version()
                    .function_name(self.function())
                    .set_code_sha256(guard.clone())
                    .description(&description)
                    .set_revision_id(revision.clone())
                    .set_publish_to(
                        self.target
                            .publish_to_latest_published
                            .then_some(FunctionVersionLatestPublished::LatestPublished),
                    )
                    .send()
            },
        )
        .await
        .map_err(|e| {
            fail("publish")(explain_publish_error(
                self.shared.image.is_some(),
                e.message,
            ))
        })?;
        let version = output.version().unwrap_or_default().to_owned();
        self.progress(format!("published version {version}"));
        Ok(version)
    }

    /// `<commit> [<note>] <run url>`, within Lambda's 256 characters.
    fn version_description(&self) -> String {
        let commit = self.shared.commit.as_deref().unwrap_or("local");
        let commit = match &self.shared.version_note {
            Some(note) => format!("{commit} {note}"),
            None => commit.to_owned(),
        };
        let text = match &self.shared.run_url {
            Some(url) => format!("{commit} {url}"),
            None => commit.to_owned(),
        };
        text.chars().take(256).collect()
    }

    async fn move_alias(
        &self,
        entry: &mut DeployEntry,
        before: Option<AliasState>,
        version: &str,
    ) -> Result<Outcome, Failure> {
        let record = AliasRecord {
            previous: before.as_ref().map(|a| a.version.clone()),
            commit: self.shared.commit.clone(),
            run_url: self.shared.run_url.clone(),
        };
        let progress = |message: String| self.progress(message);
        let mover = AliasMove {
            lambda: &self.clients.lambda,
            cloudwatch: &self.clients.cloudwatch,
            limiter: &self.shared.limiter,
            cancel: &self.shared.cancel,
            function: self.function(),
            alias: &self.target.alias,
            before: before.clone(),
            version,
            description: record.render(),
            shift: &self.target.traffic_shift,
            alarms: &self.target.alarms,
            call_timeout: self.shared.wait_timeout,
            progress: &progress,
            revision_id: None,
            lost_race: false,
        };
        match mover.run().await.map_err(fail("alias"))? {
            Moved::Done(arn) => {
                entry.alias_arn = arn;
                Ok(Outcome::Succeeded)
            }
            Moved::RolledBack { alias_arn, reason } => {
                entry.alias_arn = alias_arn;
                entry.rolled_back = true;
                let to = before.map(|b| b.version).unwrap_or_default();
                entry.error = Some(format!("rolled back to version {to}: {reason}"));
                self.shared.bus.emit(Event::RolledBack {
                    function: self.target.name.clone(),
                    to_version: to.clone(),
                    reason,
                });
                entry.version = to;
                Ok(Outcome::RolledBack)
            }
            Moved::Cancelled { alias_arn } => {
                entry.alias_arn = alias_arn;
                entry.version = entry.previous_version.clone();
                entry.error = Some(
                    "cancelled during the traffic shift; the old routing is restored".to_owned(),
                );
                Ok(Outcome::Cancelled)
            }
        }
    }

    fn describe_plan(&self, unchanged: bool, alias: Option<&AliasState>, provisioned: Option<i32>) {
        let package = &self.shared.package;
        let code = if unchanged && !self.shared.force {
            "code unchanged: no upload, no publish".to_owned()
        } else if package.needs_s3 || package.size > self.clients.limits.code_size_zipped {
            format!(
                "would upload {} bytes through S3 and publish a version",
                package.size
            )
        } else {
            format!(
                "would upload {} bytes directly and publish a version",
                package.size
            )
        };
        let alias_text = match alias {
            Some(a) => format!(
                "move alias `{}` from version {} ({})",
                self.target.alias, a.version, self.target.traffic_shift
            ),
            None => format!("create alias `{}`", self.target.alias),
        };
        let smoke = if self.target.smoke_test.is_some() {
            "; smoke test first"
        } else {
            ""
        };
        let allocation = provisioned
            .map(|count| {
                format!(
                    "; the move allocates provisioned concurrency ({count}) for the new version"
                )
            })
            .unwrap_or_default();
        self.progress(format!(
            "dry run: {code}; {alias_text}{smoke}{allocation}; nothing changed"
        ));
    }
}

/// `MemorySize 128 → 512; Environment.Variables API_KEY changed`.
fn describe_changes(changes: &[crate::base::report::ConfigChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {}", c.field, c.change))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A PublishVersion refusal, with what to do when it is SnapStart's for an image.
fn explain_publish_error(image: bool, message: String) -> String {
    if image && message.contains("SnapStart") {
        format!(
            "{message}. An image function with SnapStart needs the image to allow it: add `LABEL com.amazonaws.lambda.feature.snapstart=\"Allow\"` to the Dockerfile, or implement the runtime's restore hooks (/restore/next)"
        )
    } else {
        message
    }
}

/// The versions beyond the `keep` newest that nothing protects, oldest first.
fn prunable(mut versions: Vec<u64>, protected: &[String], keep: usize) -> Vec<String> {
    versions.sort_unstable_by(|a, b| b.cmp(a));
    versions.dedup();
    let mut old: Vec<String> = versions
        .into_iter()
        .skip(keep)
        .map(|v| v.to_string())
        .filter(|v| !protected.contains(v))
        .collect();
    old.reverse();
    old
}

/// Checks that every alarm exists, before anything changes.
pub async fn check_alarms(
    clients: &Clients,
    limiter: &Limiter,
    alarms: &[String],
    timeout: Duration,
) -> Result<(), String> {
    let found = shift::alarm_states(&clients.cloudwatch, limiter, alarms, timeout).await?;
    let missing: Vec<&str> = alarms
        .iter()
        .filter(|name| !found.iter().any(|(n, _)| n == *name))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "CloudWatch alarm(s) {} do not exist; check `alarms`",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{explain_publish_error, prunable};

    #[test]
    fn a_snapstart_refusal_for_an_image_says_what_the_image_needs() {
        let refused =
            "publish: InvalidParameterValueException: SnapStart is not supported for this image"
                .to_owned();
        let explained = explain_publish_error(true, refused.clone());
        assert!(explained.starts_with(&refused), "{explained}");
        assert!(
            explained.contains("LABEL com.amazonaws.lambda.feature.snapstart=\"Allow\""),
            "{explained}"
        );
        assert_eq!(explain_publish_error(false, refused.clone()), refused);
        assert_eq!(explain_publish_error(true, "other".to_owned()), "other");
    }

    #[test]
    fn pruning_keeps_the_newest_and_every_protected_version() {
        let protected = vec!["2".to_owned(), "9".to_owned()];
        assert_eq!(
            prunable(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10], &protected, 3),
            ["1", "3", "4", "5", "6", "7"]
        );
        assert!(prunable(vec![1, 2], &protected, 5).is_empty());
    }
}
