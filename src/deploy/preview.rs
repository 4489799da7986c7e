//! A pull request's preview in Lambda, around the deploy itself (which `lambda` runs against
//! alias `pr-<number>` like any other): the function URL of the preview alias
//! (`preview-url`) after a deploy, and the clean-up when the pull request closes: the URL, the
//! alias, and the versions only the preview used.
//!
//! "Only the preview used" means: published for this preview (the version description carries
//! `preview=pr-<number>`, see `settings::preview::version_tag`), pointed at by no other alias
//! (primary or weighted) and recorded as no alias's `previous=` (its rollback target). A
//! version the preview reused because the code was unchanged was not published for it and is
//! never deleted. When the pull request was merged, a preview version that runs the function's
//! current code is kept too: the deploy of the merge can reuse it instead of publishing again.
//! Owns: function URL configurations and resource-policy statements of preview aliases,
//! deleting a preview's alias and versions. Must not: touch any alias but `pr-<number>`, print,
//! call GitHub.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::types::FunctionUrlAuthType;
use tokio::time::Instant;

use super::listing;
use super::retry::{self, Limiter};
use super::rollback::AliasRecord;
use crate::base::Level;
use crate::base::report::{DeployEntry, PreviewFunction, PreviewReport};
use crate::env::Env;
use crate::events::StageContext;
use crate::settings::deploy::{DeployPlan, FunctionTarget};
use crate::settings::preview::{Preview, UrlAuth, version_tag};

/// The statement that lets anyone invoke a `NONE` URL (`lambda:InvokeFunctionUrl`).
const URL_STATEMENT: &str = "lambda-pipeline-preview-url";
/// Since October 2025 a public URL also needs `lambda:InvokeFunction` through the URL.
const INVOKE_STATEMENT: &str = "lambda-pipeline-preview-invoke";
/// Deletions give up sooner than `wait-timeout`: a version Lambda refuses to delete (an alias
/// took it meanwhile) is left, with a warning.
const DELETE_BUDGET: Duration = Duration::from_secs(30);

/// One Lambda client per (region, role).
struct Clients<'a> {
    ctx: &'a StageContext,
    env: &'a Env,
    clients: HashMap<(Option<String>, Option<String>), aws_sdk_lambda::Client>,
}

impl Clients<'_> {
    async fn get(&mut self, target: &FunctionTarget) -> aws_sdk_lambda::Client {
        let key = (target.region.clone(), target.role_to_assume.clone());
        if let Some(client) = self.clients.get(&key) {
            return client.clone();
        }
        let config = crate::aws::sdk_config(
            self.env,
            key.0.as_deref(),
            key.1.as_deref(),
            &self.ctx.redactor,
        )
        .await;
        let client = aws_sdk_lambda::Client::new(&config);
        self.clients.insert(key, client.clone());
        client
    }
}

/// After a successful preview deploy: the report of each function's preview, with its function
/// URL created (or kept, or switched to the asked auth type) when `preview-url` is on.
pub async fn expose(
    ctx: &StageContext,
    env: &Env,
    plan: &DeployPlan,
    preview: &Preview,
    entries: &[DeployEntry],
) -> PreviewReport {
    let limiter = Limiter::new();
    let deadline = Instant::now() + plan.wait_timeout;
    let mut clients = Clients {
        ctx,
        env,
        clients: HashMap::new(),
    };
    let mut functions = Vec::new();
    for (target, entry) in plan.targets.iter().zip(entries) {
        let mut function = PreviewFunction {
            function_name: target.name.clone(),
            alias_arn: entry.alias_arn.clone(),
            version: entry.version.clone(),
            ..PreviewFunction::default()
        };
        if let Some(auth) = preview.url {
            let client = clients.get(target).await;
            let url = Url {
                client: &client,
                limiter: &limiter,
                function: &target.function,
                alias: &preview.alias,
                deadline,
            };
            match url.ensure(auth).await {
                Ok(address) => {
                    ctx.bus.emit(crate::events::Event::DeployProgress {
                        function: target.name.clone(),
                        message: format!(
                            "preview URL of alias `{}` ({}): {address}",
                            preview.alias,
                            auth.name()
                        ),
                    });
                    function.url = Some(address);
                    function.url_auth_type = Some(auth.name().to_owned());
                }
                Err(err) => {
                    let message = format!("the preview's function URL was not set up: {err}");
                    ctx.bus
                        .log(Level::Warning, format!("`{}`: {message}", target.name));
                    function.error = Some(message);
                }
            }
        }
        functions.push(function);
    }
    PreviewReport {
        number: preview.number,
        alias: preview.alias.clone(),
        functions,
        removed: false,
    }
}

/// The pull request closed: for each function, deletes the preview's URL, its alias and the
/// versions only it used. Problems are recorded per function; the rest goes on.
pub async fn close(
    ctx: &StageContext,
    env: &Env,
    plan: &DeployPlan,
    preview: &Preview,
) -> PreviewReport {
    let limiter = Limiter::new();
    let mut clients = Clients {
        ctx,
        env,
        clients: HashMap::new(),
    };
    let mut functions = Vec::new();
    for target in &plan.targets {
        let client = clients.get(target).await;
        let cleanup = Cleanup {
            ctx,
            client: &client,
            limiter: &limiter,
            target,
            preview,
            deadline: Instant::now() + plan.wait_timeout,
        };
        functions.push(cleanup.run().await);
    }
    PreviewReport {
        number: preview.number,
        alias: preview.alias.clone(),
        functions,
        removed: true,
    }
}

/// The function URL of one preview alias.
struct Url<'a> {
    client: &'a aws_sdk_lambda::Client,
    limiter: &'a Limiter,
    function: &'a str,
    alias: &'a str,
    deadline: Instant,
}

impl Url<'_> {
    /// Creates the URL, or keeps it (switching its auth type when it differs); a `NONE` URL
    /// gets the two statements that let anyone call it, an `AWS_IAM` one loses them.
    async fn ensure(&self, auth: UrlAuth) -> Result<String, String> {
        let wanted = match auth {
            UrlAuth::AwsIam => FunctionUrlAuthType::AwsIam,
            UrlAuth::None => FunctionUrlAuthType::None,
        };
        let current = retry::call(self.limiter, "GetFunctionUrlConfig", self.deadline, || {
            self.client
                .get_function_url_config()
                .function_name(self.function)
                .qualifier(self.alias)
                .send()
        })
        .await;
        let address = match current {
            Ok(config) if config.auth_type() == &wanted => config.function_url().to_owned(),
            Ok(_) => retry::call(
                self.limiter,
                "UpdateFunctionUrlConfig",
                self.deadline,
                || {
                    self.client
                        .update_function_url_config()
                        .function_name(self.function)
                        .qualifier(self.alias)
                        .auth_type(wanted.clone())
                        .send()
                },
            )
            .await
            .map_err(|e| e.message)?
            .function_url()
            .to_owned(),
            Err(err) if err.is_not_found() => retry::call(
                self.limiter,
                "CreateFunctionUrlConfig",
                self.deadline,
                || {
                    self.client
                        .create_function_url_config()
                        .function_name(self.function)
                        .qualifier(self.alias)
                        .auth_type(wanted.clone())
                        .send()
                },
            )
            .await
            .map_err(|e| e.message)?
            .function_url()
            .to_owned(),
            Err(err) => return Err(err.message),
        };
        let present = self.statements().await?;
        match auth {
            UrlAuth::None => self.allow_public(&present).await?,
            UrlAuth::AwsIam => self.remove_statements(&present).await?,
        }
        Ok(address)
    }

    /// The `Sid`s of the alias's resource policy (none when it has no policy).
    async fn statements(&self) -> Result<Vec<String>, String> {
        let answer = retry::call(self.limiter, "GetPolicy", self.deadline, || {
            self.client
                .get_policy()
                .function_name(self.function)
                .qualifier(self.alias)
                .send()
        })
        .await;
        let policy = match answer {
            Ok(answer) => answer.policy().unwrap_or_default().to_owned(),
            Err(err) if err.is_not_found() => return Ok(Vec::new()),
            Err(err) => return Err(err.message),
        };
        let policy: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
        Ok(policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
            .collect())
    }

    async fn allow_public(&self, present: &[String]) -> Result<(), String> {
        if !present.iter().any(|s| s == URL_STATEMENT) {
            retry::call(self.limiter, "AddPermission", self.deadline, || {
                self.client
                    .add_permission()
                    .function_name(self.function)
                    .qualifier(self.alias)
                    .statement_id(URL_STATEMENT)
                    .action("lambda:InvokeFunctionUrl")
                    .principal("*")
                    .function_url_auth_type(FunctionUrlAuthType::None)
                    .send()
            })
            .await
            .map_err(|e| e.message)?;
        }
        if !present.iter().any(|s| s == INVOKE_STATEMENT) {
            retry::call(self.limiter, "AddPermission", self.deadline, || {
                self.client
                    .add_permission()
                    .function_name(self.function)
                    .qualifier(self.alias)
                    .statement_id(INVOKE_STATEMENT)
                    .action("lambda:InvokeFunction")
                    .principal("*")
                    .invoked_via_function_url(true)
                    .send()
            })
            .await
            .map_err(|e| e.message)?;
        }
        Ok(())
    }

    async fn remove_statements(&self, present: &[String]) -> Result<(), String> {
        for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
            if !present.iter().any(|s| s == sid) {
                continue;
            }
            let removed = retry::call(self.limiter, "RemovePermission", self.deadline, || {
                self.client
                    .remove_permission()
                    .function_name(self.function)
                    .qualifier(self.alias)
                    .statement_id(sid)
                    .send()
            })
            .await;
            match removed {
                Ok(_) => {}
                Err(err) if err.is_not_found() => {}
                Err(err) => return Err(err.message),
            }
        }
        Ok(())
    }
}

/// Removing one function's preview.
struct Cleanup<'a> {
    ctx: &'a StageContext,
    client: &'a aws_sdk_lambda::Client,
    limiter: &'a Limiter,
    target: &'a FunctionTarget,
    preview: &'a Preview,
    deadline: Instant,
}

impl Cleanup<'_> {
    fn function(&self) -> &str {
        &self.target.function
    }

    fn progress(&self, message: String) {
        self.ctx.bus.emit(crate::events::Event::DeployProgress {
            function: self.target.name.clone(),
            message,
        });
    }

    async fn run(&self) -> PreviewFunction {
        let mut report = PreviewFunction {
            function_name: self.target.name.clone(),
            ..PreviewFunction::default()
        };
        if let Err(err) = self.remove_alias(&mut report).await {
            report.error = Some(err);
            return report;
        }
        match self.unused_versions().await {
            Ok((delete, kept)) => {
                report.kept_versions = kept;
                for version in delete {
                    match self.delete_version(&version).await {
                        Ok(()) => report.deleted_versions.push(version),
                        Err(err) => {
                            let message = format!("version {version} was not deleted: {err}");
                            self.ctx
                                .bus
                                .log(Level::Warning, format!("`{}`: {message}", self.target.name));
                            report.error.get_or_insert(message);
                        }
                    }
                }
            }
            Err(err) => report.error = Some(format!("the preview's versions were not read: {err}")),
        }
        if !report.deleted_versions.is_empty() {
            self.progress(format!(
                "deleted version(s) {} of preview `{}`",
                report.deleted_versions.join(", "),
                self.preview.alias
            ));
        }
        report
    }

    /// The URL (and its statements), then the alias. An alias that is already gone is fine.
    async fn remove_alias(&self, report: &mut PreviewFunction) -> Result<(), String> {
        let alias = &self.preview.alias;
        let found = retry::call(self.limiter, "GetAlias", self.deadline, || {
            self.client
                .get_alias()
                .function_name(self.function())
                .name(alias)
                .send()
        })
        .await;
        let found = match found {
            Ok(found) => found,
            Err(err) if err.is_not_found() => {
                self.progress(format!(
                    "no alias `{alias}`: nothing to remove but its versions"
                ));
                return Ok(());
            }
            Err(err) => return Err(err.message),
        };
        report.alias_arn = found.alias_arn().unwrap_or_default().to_owned();
        let url = Url {
            client: self.client,
            limiter: self.limiter,
            function: self.function(),
            alias,
            deadline: self.deadline,
        };
        let deleted_url = retry::call(
            self.limiter,
            "DeleteFunctionUrlConfig",
            self.deadline,
            || {
                self.client
                    .delete_function_url_config()
                    .function_name(self.function())
                    .qualifier(alias)
                    .send()
            },
        )
        .await;
        match deleted_url {
            Ok(_) => self.progress(format!("deleted the function URL of `{alias}`")),
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err.message),
        }
        let present = url.statements().await?;
        url.remove_statements(&present).await?;
        retry::call(self.limiter, "DeleteAlias", self.deadline, || {
            self.client
                .delete_alias()
                .function_name(self.function())
                .name(alias)
                .send()
        })
        .await
        .map_err(|e| e.message)?;
        self.progress(format!(
            "deleted alias `{alias}` (it served version {})",
            found.function_version().unwrap_or_default()
        ));
        Ok(())
    }

    /// The versions to delete, and the notes on versions kept: published for this preview,
    /// used by no alias, the rollback target of none.
    async fn unused_versions(&self) -> Result<(Vec<String>, Vec<String>), String> {
        let tag = version_tag(&self.preview.alias);
        let mut published = Vec::new();
        let versions =
            listing::versions(self.client, self.limiter, self.deadline, self.function()).await?;
        for version in &versions {
            let number = version.version().unwrap_or_default();
            let tagged = version
                .description()
                .is_some_and(|d| d.split_whitespace().any(|word| word == tag));
            if tagged && number != "$LATEST" {
                published.push((
                    number.to_owned(),
                    version.code_sha256().unwrap_or_default().to_owned(),
                ));
            }
        }
        if published.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let protected = self.protected().await?;
        let current_code = if self.preview.merged {
            Some(self.latest_code().await?)
        } else {
            None
        };
        let mut delete = Vec::new();
        let mut kept = Vec::new();
        for (version, code) in published {
            if let Some(why) = protected.get(&version) {
                kept.push(format!("{version} ({why})"));
            } else if current_code.as_deref() == Some(code.as_str()) {
                kept.push(format!(
                    "{version} (it runs the merged code, which the next deploy can reuse)"
                ));
            } else {
                delete.push(version);
            }
        }
        Ok((delete, kept))
    }

    /// Every version another alias needs, and why: served (primary or weighted), or recorded
    /// as its `previous=`.
    async fn protected(&self) -> Result<HashMap<String, String>, String> {
        let mut protected = HashMap::new();
        let aliases =
            listing::aliases(self.client, self.limiter, self.deadline, self.function()).await?;
        for alias in &aliases {
            let name = alias.name().unwrap_or_default();
            if name == self.preview.alias {
                continue;
            }
            if let Some(version) = alias.function_version() {
                protected.insert(version.to_owned(), format!("alias `{name}` serves it"));
            }
            for version in alias
                .routing_config()
                .and_then(|r| r.additional_version_weights())
                .into_iter()
                .flat_map(|w| w.keys())
            {
                protected.insert(version.clone(), format!("alias `{name}` sends it traffic"));
            }
            if let Some(previous) = alias
                .description()
                .and_then(AliasRecord::parse)
                .and_then(|r| r.previous)
            {
                protected
                    .entry(previous)
                    .or_insert_with(|| format!("alias `{name}` would roll back to it"));
            }
        }
        Ok(protected)
    }

    /// `$LATEST`'s CodeSha256.
    async fn latest_code(&self) -> Result<String, String> {
        let config = retry::call(
            self.limiter,
            "GetFunctionConfiguration",
            self.deadline,
            || {
                self.client
                    .get_function_configuration()
                    .function_name(self.function())
                    .send()
            },
        )
        .await
        .map_err(|e| e.message)?;
        Ok(config.code_sha256().unwrap_or_default().to_owned())
    }

    async fn delete_version(&self, version: &str) -> Result<(), String> {
        let deadline = self.deadline.min(Instant::now() + DELETE_BUDGET);
        retry::call(self.limiter, "DeleteFunction", deadline, || {
            self.client
                .delete_function()
                .function_name(self.function())
                .qualifier(version)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| e.message)
    }
}
