//! The deploy sequence for one function (DESIGN.md "Lambda deploy sequence"):
//! GetFunction → wait until Active and not InProgress → compare CodeSha256 (unchanged: no
//! upload and no publish, but make sure the alias points at the current version; `force`
//! overrides) → UpdateFunctionCode (directly up to 50 MB, through S3 above) with the RevisionId
//! → wait → PublishVersion with a CodeSha256 guard → smoke test → move the alias.
//! Never changes the function's configuration: this is a code deploy.
//! Owns: Lambda and S3 calls of one deploy. Must not: print, decide the exit status.

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::PackageType;
use base64::Engine as _;
use tokio::time::Instant;

use super::contents::{self, FunctionCode};
use super::image::Image;
use super::retry::{self, Limiter};
use super::rollback::AliasRecord;
use super::shift::{AliasMove, AliasState, Moved};
use super::wait::{self, Settled};
use super::{shift, smoke};
use crate::base::Level;
use crate::base::limits::{
    MAX_DIRECT_UPLOAD as DIRECT_UPLOAD_LIMIT, MAX_UNZIPPED as UNZIPPED_LIMIT,
};
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
            entry: entry.clone(),
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
        if package.uncompressed_size > UNZIPPED_LIMIT {
            return Err(Failure {
                phase: "package",
                message: format!(
                    "the package unzips to {} bytes, over Lambda's limit of {UNZIPPED_LIMIT} bytes; exclude files from the artifacts",
                    package.uncompressed_size
                ),
            });
        }
        let (settled, code) = self.current(entry).await?;
        self.check_contents(&code);
        let settled = self.wait_until_ready(settled).await?;
        let alias = self.alias_state().await?;
        entry.previous_version = alias
            .as_ref()
            .map(|a| a.version.clone())
            .unwrap_or_default();
        let unchanged = settled.code_sha256.as_deref() == Some(package.sha256.as_str());
        if self.shared.dry_run {
            self.describe_plan(unchanged, alias.as_ref());
            entry.version = entry.previous_version.clone();
            return Ok(Outcome::Succeeded);
        }
        let version = if unchanged && !self.shared.force {
            self.progress(format!(
                "code unchanged (CodeSha256 {}); nothing to upload",
                package.sha256
            ));
            self.current_version(alias.as_ref(), entry).await?
        } else {
            let (revision, code_sha256) = self.upload(entry, settled.revision_id.clone()).await?;
            entry.deployed = true;
            if self.shared.image.is_some() {
                entry.code_sha256 = code_sha256.clone().unwrap_or_default();
            }
            let published = self.publish(revision, code_sha256).await?;
            entry.published_version = Some(published.clone());
            published
        };
        entry.version = version.clone();
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
        if let Some(test) = &self.target.smoke_test {
            self.progress(format!("smoke test: invoking version {version}"));
            smoke::run(
                &self.clients.lambda,
                &self.shared.limiter,
                self.function(),
                &version,
                test,
                self.deadline(),
            )
            .await
            .map_err(fail("smoke-test"))?;
            self.progress("smoke test passed".to_owned());
        }
        self.move_alias(entry, alias, &version).await
    }

    /// GetFunction: the function's ARN, settle state, handler and runtime. Refuses a zip for
    /// an image function and an image for a zip function.
    async fn current(&self, entry: &mut DeployEntry) -> Result<(Settled, FunctionCode), Failure> {
        let function = retry::call(&self.shared.limiter, "GetFunction", self.deadline(), || {
            self.clients
                .lambda
                .get_function()
                .function_name(self.function())
                .send()
        })
        .await
        .map_err(|e| Failure {
            phase: "wait",
            message: if e.is_not_found() {
                format!(
                    "function `{}` does not exist{}; lambda-pipeline deploys code to existing functions, create it first",
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
        let code = FunctionCode {
            handler: config.handler().map(str::to_owned),
            runtime: config.runtime().map(|r| r.as_str().to_owned()),
        };
        Ok((settled, code))
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
        let mut newest: Option<u64> = None;
        let mut marker: Option<String> = None;
        loop {
            let page = retry::call(
                &self.shared.limiter,
                "ListVersionsByFunction",
                self.deadline(),
                || {
                    self.clients
                        .lambda
                        .list_versions_by_function()
                        .function_name(self.function())
                        .set_marker(marker.clone())
                        .send()
                },
            )
            .await
            .map_err(|e| fail("alias")(e.message))?;
            for version in page.versions() {
                if version.code_sha256() == Some(sha.as_str())
                    && let Some(number) = version.version().and_then(|v| v.parse::<u64>().ok())
                {
                    newest = Some(newest.map_or(number, |n| n.max(number)));
                }
            }
            marker = page.next_marker().map(str::to_owned);
            if marker.is_none() {
                break;
            }
        }
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
    ) -> Result<(Option<String>, Option<String>), Failure> {
        let package = &self.shared.package;
        let through_s3 = package.needs_s3 || package.size > DIRECT_UPLOAD_LIMIT;
        let mut request = self
            .clients
            .lambda
            .update_function_code()
            .function_name(self.function())
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
                    "the package is {} bytes, over Lambda's 50 MB direct-upload limit, and `s3-bucket` is not set",
                    package.size
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
                    .send()
            },
        )
        .await
        .map_err(|e| fail("publish")(e.message))?;
        let version = output.version().unwrap_or_default().to_owned();
        self.progress(format!("published version {version}"));
        Ok(version)
    }

    /// `<commit> <run url>`, within Lambda's 256 characters.
    fn version_description(&self) -> String {
        let commit = self.shared.commit.as_deref().unwrap_or("local");
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

    fn describe_plan(&self, unchanged: bool, alias: Option<&AliasState>) {
        let package = &self.shared.package;
        let code = if unchanged && !self.shared.force {
            "code unchanged: no upload, no publish".to_owned()
        } else if package.needs_s3 || package.size > DIRECT_UPLOAD_LIMIT {
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
        self.progress(format!(
            "dry run: {code}; {alias_text}{smoke}; nothing changed"
        ));
    }
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
