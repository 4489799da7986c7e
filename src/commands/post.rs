//! `lambda-pipeline post`, the action's `post-entrypoint`: completes a check run that the main
//! step left `in_progress` because it crashed, was OOM-killed or was killed after a cancel.
//! The main step recorded `check_run_id` (and, when stopped, `stop_reason`) in `GITHUB_STATE`;
//! the runner hands them back as `STATE_check_run_id` and `STATE_stop_reason`.
//! Never fails the job: it always exits 0.

use super::{Context, Outcome};
use crate::report::terminal::Terminal;

pub async fn run(context: &Context) -> Outcome {
    let settings = &context.settings;
    let terminal = Terminal::new(context.stage.redactor.clone());
    match crate::github::complete_stale(
        &settings.github,
        &settings.workflow,
        &context.stage.redactor,
    )
    .await
    {
        Ok(message) => terminal.err(&message),
        Err(message) => terminal.warn(settings.workflow.actions, &message),
    }
    Outcome::Succeeded
}
