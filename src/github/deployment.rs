//! Opt-in GitHub deployments (`github-deployment: true`): one deployment per run for the
//! environment, on the reported commit, with `auto_merge: false` and `required_contexts: []`
//! so GitHub never merges or blocks; its status follows the run.
//! Owns: deployment request bodies. Must not: deploy anything or decide the outcome.

use serde_json::{Value, json};

use super::client::{ApiError, Client};
use crate::base::report::RunStatus;

/// GitHub's limit on a deployment status `description`.
const DESCRIPTION_LIMIT: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: u64,
    pub environment: String,
}

/// Creates the deployment and marks it `in_progress`.
pub async fn create(
    client: &Client,
    sha: &str,
    environment: &str,
    log_url: Option<&str>,
) -> Result<Deployment, ApiError> {
    let production = matches!(environment, "prod" | "production");
    let body = json!({
        "ref": sha,
        "task": "deploy",
        "auto_merge": false,
        "required_contexts": [],
        "environment": environment,
        "description": format!("lambda-pipeline deploy to {environment}"),
        "transient_environment": false,
        "production_environment": production,
    });
    let route = client.route("/deployments");
    let created = client.post(&route, &body).await?;
    let id = created
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::Status {
            method: "POST",
            route: route.clone(),
            status: 202,
            message: created
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no deployment was created")
                .to_owned(),
        })?;
    let deployment = Deployment {
        id,
        environment: environment.to_owned(),
    };
    deployment
        .set_status(client, "in_progress", "deploying", log_url)
        .await?;
    Ok(deployment)
}

/// The deployment status for a finished run.
pub fn state(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "success",
        RunStatus::Failed | RunStatus::TimedOut => "failure",
        RunStatus::Stopped => "error",
    }
}

impl Deployment {
    pub async fn set_status(
        &self,
        client: &Client,
        state: &str,
        description: &str,
        log_url: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut body = json!({
            "state": state,
            "description": description.chars().take(DESCRIPTION_LIMIT).collect::<String>(),
            "environment": self.environment,
        });
        if let Some(url) = log_url {
            body["log_url"] = json!(url);
        }
        let route = client.route(&format!("/deployments/{}/statuses", self.id));
        client.post(&route, &body).await.map(|_| ())
    }
}
