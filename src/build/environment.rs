//! The build's starting environment (spec §7.1–§7.2): the image's variables, CodeBuild's
//! built-in variables mapped from the GitHub context, the buildspec's variables, resolved
//! secrets, and the `env-vars` input on top.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::env::Env;

/// Identity of this build, shared by the CodeBuild variables and the report.
#[derive(Debug, Clone)]
pub struct BuildIdentity {
    /// `<project>:<uuid>`.
    pub build_id: String,
    pub build_arn: String,
    pub build_number: String,
    pub region: String,
    pub start_time_ms: i64,
    pub commit: Option<String>,
    pub run_url: Option<String>,
}

impl BuildIdentity {
    pub fn new(env: &Env, region: &str) -> BuildIdentity {
        let project = env
            .get("GITHUB_REPOSITORY")
            .and_then(|repo| repo.rsplit('/').next())
            .unwrap_or("lambda-pipeline")
            .to_owned();
        let uuid = match (env.get("GITHUB_RUN_ID"), env.get("GITHUB_RUN_ATTEMPT")) {
            (Some(run), attempt) => uuid_from(&format!(
                "{run}-{}-{}",
                attempt.unwrap_or("1"),
                env.get("GITHUB_JOB").unwrap_or_default()
            )),
            (None, _) => uuid::Uuid::new_v4().to_string(),
        };
        let build_id = format!("{project}:{uuid}");
        BuildIdentity {
            build_arn: format!("arn:aws:codebuild:{region}:000000000000:build/{build_id}"),
            build_id,
            build_number: env.get("GITHUB_RUN_NUMBER").unwrap_or("1").to_owned(),
            region: region.to_owned(),
            start_time_ms: chrono::Utc::now().timestamp_millis(),
            commit: env.get("GITHUB_SHA").map(str::to_owned),
            run_url: crate::settings::github::run_url(env),
        }
    }
}

fn uuid_from(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// CodeBuild's built-in variables (spec §7.2), mapped from the GitHub context where one exists.
pub fn builtin_variables(
    env: &Env,
    identity: &BuildIdentity,
    source_dir: &Path,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        vars.insert(name.to_owned(), value);
    };
    set(
        "CODEBUILD_SRC_DIR",
        source_dir.to_string_lossy().into_owned(),
    );
    set("CODEBUILD_BUILD_ID", identity.build_id.clone());
    set("CODEBUILD_BUILD_ARN", identity.build_arn.clone());
    set("CODEBUILD_BUILD_NUMBER", identity.build_number.clone());
    set(
        "CODEBUILD_BUILD_IMAGE",
        format!("lambda-pipeline:{}", env!("CARGO_PKG_VERSION")),
    );
    set("CODEBUILD_BUILD_SUCCEEDING", "1".to_owned());
    set("CODEBUILD_LAST_EXIT", "0".to_owned());
    set("CODEBUILD_START_TIME", identity.start_time_ms.to_string());
    set("CODEBUILD_CI", "true".to_owned());
    set("CODEBUILD_LOCAL_BUILD", "true".to_owned());
    set(
        "CODEBUILD_LOG_PATH",
        identity
            .build_id
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned(),
    );
    set(
        "CODEBUILD_KMS_KEY_ID",
        format!("arn:aws:kms:{}:000000000000:alias/aws/s3", identity.region),
    );
    set(
        "CODEBUILD_INITIATOR",
        env.get("GITHUB_ACTOR")
            .map(|actor| format!("github/{actor}"))
            .unwrap_or_else(|| "lambda-pipeline".to_owned()),
    );
    set("AWS_REGION", identity.region.clone());
    set("AWS_DEFAULT_REGION", identity.region.clone());
    if nix::unistd::geteuid().is_root() {
        set("HOME", "/root".to_owned());
    }
    if let Some(url) = &identity.run_url {
        set("CODEBUILD_PUBLIC_BUILD_URL", url.clone());
        set("CODEBUILD_BUILD_URL", url.clone());
    }
    if let Some(repo) = env.get("GITHUB_REPOSITORY") {
        let server = env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com");
        set("CODEBUILD_SOURCE_REPO_URL", format!("{server}/{repo}.git"));
    }
    let commit = identity.commit.clone().or_else(|| git_head(source_dir));
    if let Some(commit) = &commit {
        set("CODEBUILD_RESOLVED_SOURCE_VERSION", commit.clone());
    }
    set_webhook_variables(env, commit.as_deref(), &mut vars);
    vars
}

fn set_webhook_variables(env: &Env, commit: Option<&str>, vars: &mut BTreeMap<String, String>) {
    let git_ref = env.get("GITHUB_REF").unwrap_or_default();
    let pr_number = git_ref
        .strip_prefix("refs/pull/")
        .and_then(|rest| rest.split('/').next());
    let event = env.get("GITHUB_EVENT_NAME").unwrap_or_default();
    let mut set = |name: &str, value: String| {
        vars.insert(name.to_owned(), value);
    };
    if let Some(number) = pr_number {
        set("CODEBUILD_SOURCE_VERSION", format!("pr/{number}"));
        set("CODEBUILD_WEBHOOK_TRIGGER", format!("pr/{number}"));
        if let Some(head) = env.get("GITHUB_HEAD_REF") {
            set("CODEBUILD_WEBHOOK_HEAD_REF", format!("refs/heads/{head}"));
        }
        if let Some(base) = env.get("GITHUB_BASE_REF") {
            set("CODEBUILD_WEBHOOK_BASE_REF", format!("refs/heads/{base}"));
        }
        if let Some(sha) = env.get("GITHUB_SHA") {
            set("CODEBUILD_WEBHOOK_MERGE_COMMIT", sha.to_owned());
        }
        set("CODEBUILD_WEBHOOK_EVENT", "PULL_REQUEST_UPDATED".to_owned());
    } else {
        if let Some(commit) = commit {
            set("CODEBUILD_SOURCE_VERSION", commit.to_owned());
        }
        if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
            set("CODEBUILD_WEBHOOK_TRIGGER", format!("branch/{branch}"));
        } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
            set("CODEBUILD_WEBHOOK_TRIGGER", format!("tag/{tag}"));
        }
        if !git_ref.is_empty() {
            set("CODEBUILD_WEBHOOK_HEAD_REF", git_ref.to_owned());
        }
        if event == "push" {
            set("CODEBUILD_WEBHOOK_EVENT", "PUSH".to_owned());
        }
    }
    if let Some(actor_id) = env.get("GITHUB_ACTOR_ID") {
        set("CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID", actor_id.to_owned());
    }
}

/// The commit checked out in `dir`, read from `.git` without running git.
fn git_head(dir: &Path) -> Option<String> {
    let git = dir.join(".git");
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let sha = match head.strip_prefix("ref: ") {
        Some(reference) => std::fs::read_to_string(git.join(reference))
            .ok()?
            .trim()
            .to_owned(),
        None => head.to_owned(),
    };
    (sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

/// Variables of our own process that never reach the build: action inputs (they hold the
/// GitHub token) and names a shell cannot hold.
pub fn inherited(env: &Env) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(name, _)| !name.starts_with("INPUT_") && !name.starts_with("STATE_"))
        .filter(|(name, _)| name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_id_is_stable_for_a_run() {
        let env = Env::from_pairs([("GITHUB_RUN_ID", "42"), ("GITHUB_REPOSITORY", "o/hello")]);
        let a = BuildIdentity::new(&env, "eu-west-1");
        let b = BuildIdentity::new(&env, "eu-west-1");
        assert_eq!(a.build_id, b.build_id);
        assert!(a.build_id.starts_with("hello:"));
        assert!(
            a.build_arn
                .starts_with("arn:aws:codebuild:eu-west-1:000000000000:build/hello:")
        );
    }
}
