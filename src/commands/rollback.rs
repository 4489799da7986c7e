//! `lambda-pipeline rollback`: moves each target's alias back to the version its description
//! records, with the same reporters as `run`: console, check run, job summary, SNS, report
//! file and step outputs. From the Roll back button (a `check_run` event), it moves exactly
//! the versions that check run deployed back, and refuses when something newer serves.

use super::reporters::Reporters;
use super::{Context, Outcome};
use crate::base::InputError;
use crate::base::report::RunReport;
use crate::build::environment::BuildIdentity;
use crate::deploy::DeployStatus;
use crate::notify::NotifyEvent;

pub async fn run(context: &Context) -> Outcome {
    let settings = &context.settings;
    let plan = &settings.deploy;
    if plan.is_empty() {
        let err = InputError::new(
            "function-name",
            "rollback needs `function-name` or `targets` to know which alias to move",
        );
        Reporters::quiet(context).input_error(&err);
        return Outcome::InvalidInput;
    }
    let reporters = Reporters::new(context);
    reporters.start(Some(&plan.environment)).await;
    let identity = BuildIdentity::new(
        &settings.env,
        plan.targets[0].region.as_deref().unwrap_or("us-east-1"),
    );
    let mut report = RunReport::new("rollback", &identity.build_id);
    report.commit = identity.commit.clone();
    report.run_url = identity.run_url.clone();
    report.environment = Some(plan.environment.clone());
    if let Some(button) = &plan.button {
        let check_run = match &button.check_run_url {
            Some(url) => format!("[check run {}]({url})", button.check_run_id),
            None => format!("check run {}", button.check_run_id),
        };
        let by = button
            .requested_by
            .as_deref()
            .map(|login| format!(" by @{login}"))
            .unwrap_or_default();
        let moves: Vec<String> = button
            .record
            .functions
            .iter()
            .map(|f| {
                format!(
                    "`{}` from version {} back to {}",
                    f.name, f.version, f.previous
                )
            })
            .collect();
        report.notes.push(format!(
            "Requested{by} with the Roll back button of {check_run}: alias `{}` of {}",
            button.record.alias,
            moves.join(", ")
        ));
    }
    let outcome =
        crate::deploy::rollback(&context.stage, &settings.env, plan, &settings.workflow).await;
    outcome.record(&mut report);
    report.duration_ms = context.started.elapsed().as_millis() as u64;
    let (event, result) = match outcome.status {
        DeployStatus::Failed => (NotifyEvent::Failure, Outcome::Failed),
        _ => (NotifyEvent::Rollback, Outcome::Succeeded),
    };
    if let Some(error) = &report.error {
        reporters.terminal.err(&format!("error: {error}"));
    }
    reporters
        .notify(event, &mut report, outcome.failed_step.as_deref())
        .await;
    reporters.finish(&mut report, true).await;
    result
}
