//! `lambda-pipeline post`, the action's `post-entrypoint`: completes a check run that the main
//! step left `in_progress` because it crashed, was OOM-killed or was killed after a cancel.
//! The main step recorded `check_run_id` (and, when stopped, `stop_reason`) in `GITHUB_STATE`;
//! the runner hands them back as `STATE_check_run_id` and `STATE_stop_reason`.
//! Owns: that clean-up. Must not: fail the job (it always exits 0).

use super::check_run::{CheckRun, Output};
use super::client::Client;
use crate::ExitStatus;
use crate::pipeline::Run;

pub async fn run(run: &Run) -> ExitStatus {
    match complete_stale(run).await {
        Ok(message) => eprintln!("{message}"),
        Err(message) => {
            let message = run.redactor.redact(&message).into_owned();
            eprintln!("warning: {message}");
            if run.env.in_github_actions() {
                println!(
                    "{}",
                    crate::report::workflow::annotation(
                        "warning", &message, None, None, None, None
                    )
                );
            }
        }
    }
    ExitStatus::Success
}

async fn complete_stale(run: &Run) -> Result<String, String> {
    let Some(id) = run.env.get("STATE_check_run_id") else {
        return Ok("post: no check run was recorded; nothing to complete".to_owned());
    };
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| format!("post: `STATE_check_run_id` is `{id}`, not a check run id"))?;
    let token = super::token(run)
        .ok_or_else(|| format!("post: no `github-token`, so check run {id} cannot be completed"))?;
    let repository = run
        .env
        .get("GITHUB_REPOSITORY")
        .ok_or("post: `GITHUB_REPOSITORY` is not set")?;
    let api_url = run
        .env
        .get("GITHUB_API_URL")
        .unwrap_or(super::context::DEFAULT_API_URL);
    let client = Client::new(api_url, repository, &token, run.redactor.clone())
        .map_err(|e| format!("post: {e}"))?;
    let check = CheckRun {
        id,
        name: String::new(),
        head_sha: String::new(),
    };
    let status = check
        .status(&client)
        .await
        .map_err(|e| format!("post: cannot read check run {id}: {e}"))?;
    if status == "completed" {
        return Ok(format!("post: check run {id} is already completed"));
    }
    let (conclusion, why) = match run.env.get("STATE_stop_reason") {
        Some("cancelled") => ("cancelled", "the run was cancelled"),
        Some("timed_out") => ("timed_out", "the run timed out"),
        _ => (
            "failure",
            "the run ended without reporting (it crashed or was killed)",
        ),
    };
    let mut summary = format!(
        "The main step left this check run in progress: {why}. It was completed by the action's post step."
    );
    if let Some(url) = crate::build::environment::run_url(&run.env) {
        summary.push_str(&format!("\n\n[Workflow run]({url})\n"));
    }
    let output = Output {
        title: format!("Ended: {}", conclusion.replace('_', " ")),
        summary,
        text: None,
    };
    check
        .complete(&client, conclusion, &output, &[])
        .await
        .map_err(|e| format!("post: cannot complete check run {id}: {e}"))?;
    Ok(format!("post: check run {id} completed as `{conclusion}`"))
}
