//! What the run knows about its GitHub context: repository, API URL, the commit to report on
//! (from the event payload), the check run's name and its idempotency key.
//! Owns: reading `GITHUB_*` variables and `GITHUB_EVENT_PATH`. Must not: call the API.

use serde_json::Value;

use crate::env::Env;

pub const DEFAULT_API_URL: &str = "https://api.github.com";

#[derive(Debug, Clone, PartialEq, Eq)]
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
/// `workflow_run.head_sha`, `deployment.sha`, else `GITHUB_SHA`.
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

/// `<run id>-<attempt>-<job>-<environment>`: the same attempt of the same job finds its own
/// check run again; a re-run attempt gets a fresh one.
pub fn external_id(env: &Env, environment: Option<&str>) -> String {
    format!(
        "{}-{}-{}-{}",
        env.get("GITHUB_RUN_ID").unwrap_or("local"),
        env.get("GITHUB_RUN_ATTEMPT").unwrap_or("1"),
        env.get("GITHUB_JOB").unwrap_or("job"),
        environment.unwrap_or("default")
    )
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
        assert_eq!(external_id(&env, Some("prod")), "9-2-ship-prod");
    }
}
