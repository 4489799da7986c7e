//! The GitHub reporting inputs and context: the token, the check run's name and idempotency
//! key, the commit to report on (from the event payload), `github-deployment`, and what `post`
//! reads back from `GITHUB_STATE`.
//! Owns: reading `GITHUB_*` variables and `GITHUB_EVENT_PATH`. Must not: call the API.

use serde::Serialize;
use serde_json::Value;

use super::values;
use crate::base::InputError;
use crate::cli::{Command, Inputs};
use crate::env::Env;
use crate::redact::Secret;

/// Everything the check run, the deployment and `post` need.
#[derive(Debug, Clone, Serialize)]
pub struct GithubSettings {
    /// `github-token`, else `GITHUB_TOKEN`; blank counts as unset.
    pub token: Option<Secret>,
    pub check_name: Option<String>,
    /// The repository and commit to report on, or why there are none.
    pub context: Result<GithubContext, String>,
    /// `GITHUB_REPOSITORY` and `GITHUB_API_URL`, for `post` (which needs no commit).
    pub repository: Option<String>,
    pub api_url: String,
    /// `github-deployment` (`run` only).
    pub deployment: bool,
    /// `<run id>-<attempt>-<job>`: with the environment, the check run's `external_id`.
    pub run_key: String,
    /// The pull request whose single preview comment is created or updated (`preview`).
    pub preview_comment: Option<u64>,
    /// `STATE_check_run_id` and `STATE_stop_reason`, for `post`.
    pub recorded_check_run: Option<String>,
    pub recorded_stop_reason: Option<String>,
}

impl GithubSettings {
    /// `command` decides what is checked: `github-deployment` is used by `run` only and
    /// checked by every command but `post`, which must never fail the job.
    pub fn resolve(
        inputs: &Inputs,
        env: &Env,
        command: Command,
    ) -> Result<GithubSettings, InputError> {
        let deployment = match command {
            Command::Post => false,
            _ => {
                values::parse_bool(
                    "github-deployment",
                    inputs.github_deployment.as_deref(),
                    false,
                )? && command == Command::Run
            }
        };
        Ok(GithubSettings {
            token: inputs
                .github_token
                .clone()
                .or_else(|| env.get("GITHUB_TOKEN").map(str::to_owned))
                .filter(|t| !t.trim().is_empty())
                .map(Secret::new),
            check_name: inputs.check_name.clone(),
            context: GithubContext::resolve(env, inputs.sha.as_deref()),
            repository: env.get("GITHUB_REPOSITORY").map(str::to_owned),
            api_url: env
                .get("GITHUB_API_URL")
                .unwrap_or(DEFAULT_API_URL)
                .to_owned(),
            deployment,
            run_key: format!(
                "{}-{}-{}",
                env.get("GITHUB_RUN_ID").unwrap_or("local"),
                env.get("GITHUB_RUN_ATTEMPT").unwrap_or("1"),
                env.get("GITHUB_JOB").unwrap_or("job"),
            ),
            preview_comment: None,
            recorded_check_run: env.get("STATE_check_run_id").map(str::to_owned),
            recorded_stop_reason: env.get("STATE_stop_reason").map(str::to_owned),
        })
    }

    /// `<run id>-<attempt>-<job>-<environment>`: the same attempt of the same job finds its own
    /// check run again; a re-run attempt gets a fresh one.
    pub fn external_id(&self, environment: Option<&str>) -> String {
        format!("{}-{}", self.run_key, environment.unwrap_or("default"))
    }
}

pub const DEFAULT_API_URL: &str = "https://api.github.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GithubContext {
    pub api_url: String,
    /// `owner/repo`.
    pub repository: String,
    /// The commit the check run and deployment belong to.
    pub sha: String,
    pub event_name: String,
}

impl GithubContext {
    /// The context, or why there is none (not in a repository's workflow, no commit).
    pub fn resolve(env: &Env, sha_input: Option<&str>) -> Result<GithubContext, String> {
        let repository = env
            .get("GITHUB_REPOSITORY")
            .ok_or("`GITHUB_REPOSITORY` is not set")?
            .to_owned();
        let event_name = env.get("GITHUB_EVENT_NAME").unwrap_or_default().to_owned();
        let sha = head_sha(env, sha_input)
            .ok_or("no commit to report on: set the `sha` input or `GITHUB_SHA`")?;
        Ok(GithubContext {
            api_url: env
                .get("GITHUB_API_URL")
                .unwrap_or(DEFAULT_API_URL)
                .to_owned(),
            repository,
            sha,
            event_name,
        })
    }
}

/// The commit a check run must be created on (research table §2.5): the `sha` input, else the
/// pull request's head for `pull_request*` events (`GITHUB_SHA` is a test merge commit there),
/// `workflow_run.head_sha`, `deployment.sha`, `check_run.head_sha` (a Roll back button reports
/// beside the check run it came from), else `GITHUB_SHA`.
pub fn head_sha(env: &Env, sha_input: Option<&str>) -> Option<String> {
    if let Some(sha) = sha_input.map(str::trim).filter(|s| !s.is_empty()) {
        return Some(sha.to_owned());
    }
    let event = env.get("GITHUB_EVENT_NAME").unwrap_or_default();
    let pointer = if event.starts_with("pull_request") {
        Some("/pull_request/head/sha")
    } else if event == "workflow_run" {
        Some("/workflow_run/head_sha")
    } else if event == "deployment" {
        Some("/deployment/sha")
    } else if event == "check_run" {
        Some("/check_run/head_sha")
    } else {
        None
    };
    let from_event = pointer.and_then(|pointer| {
        let payload = read_event(env)?;
        payload.pointer(pointer)?.as_str().map(str::to_owned)
    });
    from_event.or_else(|| env.get("GITHUB_SHA").map(str::to_owned))
}

fn read_event(env: &Env) -> Option<Value> {
    let path = env.get("GITHUB_EVENT_PATH")?;
    let text = fs_err::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The check run's name: the `check-name` input, else `lambda-pipeline / <environment>`.
pub fn check_name(input: Option<&str>, environment: Option<&str>) -> String {
    match (input.map(str::trim).filter(|s| !s.is_empty()), environment) {
        (Some(name), _) => name.to_owned(),
        (None, Some(environment)) => format!("lambda-pipeline / {environment}"),
        (None, None) => "lambda-pipeline".to_owned(),
    }
}

/// `https://github.com/o/r/actions/runs/<id>/attempts/<n>`, inside Actions.
pub fn run_url(env: &Env) -> Option<String> {
    let server = env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com");
    let repo = env.get("GITHUB_REPOSITORY")?;
    let run = env.get("GITHUB_RUN_ID")?;
    let mut url = format!("{server}/{repo}/actions/runs/{run}");
    if let Some(attempt) = env.get("GITHUB_RUN_ATTEMPT") {
        url.push_str(&format!("/attempts/{attempt}"));
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_pull_request_head() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"pull_request":{"head":{"sha":"headsha"}},"workflow_run":{"head_sha":"wr"}}"#,
        )
        .unwrap();
        let mut env = Env::from_pairs([
            ("GITHUB_SHA", "mergesha"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_EVENT_NAME", "pull_request_target"),
        ]);
        assert_eq!(head_sha(&env, None).as_deref(), Some("headsha"));
        assert_eq!(head_sha(&env, Some("given")).as_deref(), Some("given"));
        env.set("GITHUB_EVENT_NAME", "workflow_run");
        assert_eq!(head_sha(&env, None).as_deref(), Some("wr"));
        env.set("GITHUB_EVENT_NAME", "push");
        assert_eq!(head_sha(&env, None).as_deref(), Some("mergesha"));
    }

    #[test]
    fn names_and_ids() {
        assert_eq!(check_name(None, Some("dev")), "lambda-pipeline / dev");
        assert_eq!(check_name(None, None), "lambda-pipeline");
        assert_eq!(check_name(Some("deploy"), Some("dev")), "deploy");
        let env = Env::from_pairs([
            ("GITHUB_RUN_ID", "9"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "ship"),
        ]);
        let settings = GithubSettings::resolve(&Inputs::default(), &env, Command::Build).unwrap();
        assert_eq!(settings.external_id(Some("prod")), "9-2-ship-prod");
    }
}
