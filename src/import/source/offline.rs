//! Saved `aws` CLI output → `Imported`: `--pipeline-file` (`aws codepipeline get-pipeline`),
//! `--project-file` (`aws codebuild batch-get-projects`), `--deployment-group-file` (`aws deploy
//! get-deployment-group`) and `--notification-rule-file` (`aws codestar-notifications
//! describe-notification-rule`). A file that is not what its flag expects is an error at the
//! place serde stopped, naming the file and the command that writes the right JSON; a project
//! or deployment group an action names but no file holds is an error naming the action.
//! Owns: reading those files. Must not: call AWS, print.

use serde::de::DeserializeOwned;

use super::{check_configuration, referenced_deployment_groups, referenced_projects};
use crate::base::InputError;
use crate::base::diagnostic::Span;
use crate::import::model::{
    BatchGetProjectsOutput, GetDeploymentGroupOutput, GetPipelineOutput, Imported, NotificationRule,
};
use crate::settings::import::{GivenPath, ImportFiles};

/// Reads every file; the first problem is the error.
pub fn read(files: &ImportFiles) -> Result<Imported, InputError> {
    let mut imported = Imported::default();
    for file in &files.pipelines {
        let output: GetPipelineOutput = parse(
            file,
            "pipeline-file",
            "aws codepipeline get-pipeline --name NAME",
        )?;
        let mut pipeline = output.pipeline;
        pipeline.arn = output.metadata.and_then(|m| m.pipeline_arn);
        if imported.pipelines.iter().any(|p| p.name == pipeline.name) {
            return Err(InputError::new(
                "pipeline-file",
                format!(
                    "pipeline `{}` is given twice (again in `{}`)",
                    pipeline.name, file.given
                ),
            ));
        }
        imported.pipelines.push(pipeline);
    }
    crate::import::rules::check_providers(&imported.pipelines)?;
    check_configuration(&imported.pipelines)?;
    let mut not_found: Vec<(String, String)> = Vec::new();
    for file in &files.projects {
        let output: BatchGetProjectsOutput = parse(
            file,
            "project-file",
            "aws codebuild batch-get-projects --names NAME ...",
        )?;
        for project in output.projects {
            imported.projects.insert(project.name.clone(), project);
        }
        not_found.extend(
            output
                .projects_not_found
                .into_iter()
                .map(|name| (name, file.given.clone())),
        );
    }
    for (project, place) in referenced_projects(&imported.pipelines) {
        if imported.projects.contains_key(&project) {
            continue;
        }
        let message = match not_found.iter().find(|(name, _)| *name == project) {
            Some((_, file)) => format!(
                "{place} builds CodeBuild project `{project}`, which `{file}` lists as not found"
            ),
            None => format!(
                "{place} builds CodeBuild project `{project}`, which no --project-file holds"
            ),
        };
        return Err(InputError::new("project-file", message).with_hint(format!(
            "save it with `aws codebuild batch-get-projects --names {project} > {project}.json` \
             and add `--project-file {project}.json`"
        )));
    }
    for file in &files.deployment_groups {
        let output: GetDeploymentGroupOutput = parse(
            file,
            "deployment-group-file",
            "aws deploy get-deployment-group --application-name APP --deployment-group-name GROUP",
        )?;
        let group = output.deployment_group_info;
        imported.deployment_groups.insert(
            (
                group.application_name.clone(),
                group.deployment_group_name.clone(),
            ),
            group,
        );
    }
    for ((app, group), place) in referenced_deployment_groups(&imported.pipelines) {
        if imported
            .deployment_groups
            .contains_key(&(app.clone(), group.clone()))
        {
            continue;
        }
        return Err(InputError::new(
            "deployment-group-file",
            format!(
                "{place} deploys with CodeDeploy deployment group `{group}` of application \
                 `{app}`, which no --deployment-group-file holds"
            ),
        )
        .with_hint(format!(
            "save it with `aws deploy get-deployment-group --application-name {app} \
             --deployment-group-name {group} > {group}.json` and add \
             `--deployment-group-file {group}.json`"
        )));
    }
    for file in &files.notification_rules {
        let rule: NotificationRule = parse(
            file,
            "notification-rule-file",
            "aws codestar-notifications describe-notification-rule --arn ARN",
        )?;
        imported.notification_rules.push(rule);
    }
    Ok(imported)
}

/// Reads and parses one file; an error names the file, the place and the command to use.
fn parse<T: DeserializeOwned>(
    file: &GivenPath,
    flag: &str,
    command: &str,
) -> Result<T, InputError> {
    let text = fs_err::read_to_string(&file.path)
        .map_err(|err| InputError::new(flag, format!("cannot read `{}`: {err}", file.given)))?;
    serde_json::from_str(&text).map_err(|err| {
        let what = command.split(" --").next().unwrap_or(command);
        let error = InputError::new(
            flag,
            format!(
                "`{}` is not `{what}` output: {}",
                file.given,
                json_reason(&err)
            ),
        )
        .with_hint(format!("save it with `{command} > {}`", file.given));
        if err.line() == 0 {
            error
        } else {
            error.at(
                Some(&file.given),
                &text,
                Span::new(err.line(), err.column().max(1), 1),
            )
        }
    })
}

/// serde_json's message without its ` at line L column C` tail (the caret shows the place).
fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}
