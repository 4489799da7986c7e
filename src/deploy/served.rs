//! What each target's alias serves now, read without changing anything: the version and the
//! commit its description records (`commit=`, see `rollback::AliasRecord`), so that `paths` can
//! compare it with the commit being built. A preview whose alias does not exist yet is compared
//! with the environment's own alias.
//! Owns: reading aliases for that comparison. Must not: change Lambda, print, call GitHub.

use std::collections::HashMap;

use tokio::time::Instant;

use super::retry::{self, Limiter};
use super::rollback::AliasRecord;
use crate::env::Env;
use crate::events::StageContext;
use crate::settings::deploy::{DeployPlan, FunctionTarget};

/// One target's alias as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub function: String,
    pub function_arn: String,
    pub region: String,
    /// The alias read: the target's, or the environment's own for a new preview.
    pub alias: String,
    pub alias_arn: String,
    pub version: String,
    /// The commit the alias description records (12 characters), when it records one.
    pub commit: Option<String>,
}

/// Each target's alias, in target order: `Ok(None)` when the function has no such alias yet.
pub async fn read(
    ctx: &StageContext,
    env: &Env,
    plan: &DeployPlan,
) -> Vec<Result<Option<Served>, String>> {
    let limiter = Limiter::new();
    let deadline = Instant::now() + plan.wait_timeout;
    let mut clients: HashMap<(Option<String>, Option<String>), aws_sdk_lambda::Client> =
        HashMap::new();
    let mut results = Vec::new();
    for target in &plan.targets {
        let key = (target.region.clone(), target.role_to_assume.clone());
        if !clients.contains_key(&key) {
            let config =
                crate::aws::sdk_config(env, key.0.as_deref(), key.1.as_deref(), &ctx.redactor)
                    .await;
            clients.insert(key.clone(), aws_sdk_lambda::Client::new(&config));
        }
        let client = &clients[&key];
        let mut aliases = vec![target.alias.clone()];
        if let Some(preview) = &plan.preview {
            aliases.push(preview.base_alias.clone());
        }
        let mut found = Ok(None);
        for alias in aliases {
            found = alias_of(client, &limiter, target, &alias, deadline).await;
            if !matches!(found, Ok(None)) {
                break;
            }
        }
        results.push(found);
    }
    results
}

async fn alias_of(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    target: &FunctionTarget,
    alias: &str,
    deadline: Instant,
) -> Result<Option<Served>, String> {
    let answer = retry::call(limiter, "GetAlias", deadline, || {
        client
            .get_alias()
            .function_name(&target.function)
            .name(alias)
            .send()
    })
    .await;
    let found = match answer {
        Ok(found) => found,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.message),
    };
    let alias_arn = found.alias_arn().unwrap_or_default().to_owned();
    Ok(Some(Served {
        function: target.name.clone(),
        function_arn: alias_arn
            .rsplit_once(':')
            .map(|(arn, _)| arn.to_owned())
            .unwrap_or_default(),
        region: alias_arn.split(':').nth(3).unwrap_or_default().to_owned(),
        alias: alias.to_owned(),
        alias_arn,
        version: found.function_version().unwrap_or_default().to_owned(),
        commit: found
            .description()
            .and_then(AliasRecord::parse)
            .and_then(|record| record.commit),
    }))
}
