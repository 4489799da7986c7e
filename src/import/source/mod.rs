//! Reading what an import maps: `live` (GetPipeline, BatchGetProjects, GetDeploymentGroup and
//! the notification rules, through the AWS API) or `offline` (saved `aws` CLI JSON), into one
//! `model::Imported`, plus the `appspec.yml` of the working directory. Both give equal values
//! for the same pipelines, so the workflow comes out byte for byte the same.
//! Owns: those reads and their errors (which name the pipeline, project or file). Must not:
//! decide what anything becomes, print, change anything in AWS.

pub mod live;
pub mod offline;

use std::path::Path;

use super::model::{Action, AppSpec, AppSpecFunction, Imported, Pipeline};
use crate::base::InputError;
use crate::base::diagnostic::Span;
use crate::base::yaml::{self, Kind, Node};

/// Why nothing could be imported.
#[derive(Debug)]
pub enum ReadError {
    /// A pipeline, project or file that does not exist or is not what it should be (exit 2).
    Input(InputError),
    /// AWS refused or failed (exit 1).
    Aws(String),
}

impl From<InputError> for ReadError {
    fn from(err: InputError) -> ReadError {
        ReadError::Input(err)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Input(err) => write!(f, "{err}"),
            ReadError::Aws(message) => f.write_str(message),
        }
    }
}

/// Where an action sits, for messages: ``action `Build` (stage `Build` of pipeline `p`)``.
pub fn place(pipeline: &Pipeline, stage: &str, action: &Action) -> String {
    format!(
        "action `{}` (stage `{stage}` of pipeline `{}`)",
        action.name, pipeline.name
    )
}

/// Every CodeBuild project the pipelines' build and test actions name, with the first action
/// that names it.
pub fn referenced_projects(pipelines: &[Pipeline]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pipeline in pipelines {
        for stage in &pipeline.stages {
            for action in &stage.actions {
                if action.provider() != "CodeBuild" {
                    continue;
                }
                if let Some(project) = action.config("ProjectName")
                    && !out.iter().any(|(p, _)| p == project)
                {
                    out.push((project.to_owned(), place(pipeline, &stage.name, action)));
                }
            }
        }
    }
    out
}

/// Every CodeDeploy (application, deployment group) the pipelines' deploy actions name, with
/// the first action that names it.
pub fn referenced_deployment_groups(pipelines: &[Pipeline]) -> Vec<((String, String), String)> {
    let mut out: Vec<((String, String), String)> = Vec::new();
    for pipeline in pipelines {
        for stage in &pipeline.stages {
            for action in &stage.actions {
                if action.provider() != "CodeDeploy" {
                    continue;
                }
                if let (Some(app), Some(group)) = (
                    action.config("ApplicationName"),
                    action.config("DeploymentGroupName"),
                ) {
                    let key = (app.to_owned(), group.to_owned());
                    if !out.iter().any(|(k, _)| *k == key) {
                        out.push((key, place(pipeline, &stage.name, action)));
                    }
                }
            }
        }
    }
    out
}

/// An action that needs a configuration key it lacks.
pub fn missing_config(
    pipeline: &Pipeline,
    stage: &str,
    action: &Action,
    key: &str,
) -> Option<InputError> {
    action.config(key).is_none().then(|| {
        InputError::new(
            "pipeline",
            format!(
                "{} uses {} but has no `{key}` in its configuration",
                place(pipeline, stage, action),
                action.provider()
            ),
        )
    })
}

/// Checks that every CodeBuild and CodeDeploy action names what it needs.
pub fn check_configuration(pipelines: &[Pipeline]) -> Result<(), InputError> {
    for pipeline in pipelines {
        for stage in &pipeline.stages {
            for action in &stage.actions {
                let keys: &[&str] = match action.provider() {
                    "CodeBuild" => &["ProjectName"],
                    "CodeDeploy" => &["ApplicationName", "DeploymentGroupName"],
                    _ => &[],
                };
                for key in keys {
                    if let Some(err) = missing_config(pipeline, &stage.name, action, key) {
                        return Err(err);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The AppSpec in `dir` (`appspec.yml`, `appspec.yaml` or `appspec.json`), when there is one:
/// the Lambda functions it deploys and its hooks.
pub fn read_appspec(dir: &Path) -> Result<Option<AppSpec>, InputError> {
    let Some((file, text)) = ["appspec.yml", "appspec.yaml", "appspec.json"]
        .into_iter()
        .find_map(|name| {
            fs_err::read_to_string(dir.join(name))
                .ok()
                .map(|text| (name.to_owned(), text))
        })
    else {
        return Ok(None);
    };
    let root = yaml::parse(&text).map_err(|err| {
        InputError::new("appspec", format!("`{file}` is not YAML: {}", err.message)).at(
            Some(&file),
            &text,
            err.span,
        )
    })?;
    let mut spec = AppSpec {
        file: file.clone(),
        functions: Vec::new(),
        hooks: Vec::new(),
    };
    for resource in seq(get(&root, "Resources")) {
        for (_, body) in map(resource) {
            let kind = get(body, "Type").and_then(Node::as_str);
            if kind != Some("AWS::Lambda::Function") {
                continue;
            }
            let properties = get(body, "Properties");
            let name = properties
                .and_then(|p| get(p, "Name"))
                .and_then(Node::as_str);
            let Some(name) = name else {
                return Err(InputError::new(
                    "appspec",
                    format!("a Lambda resource of `{file}` has no `Properties.Name`"),
                )
                .at(
                    Some(&file),
                    &text,
                    Span::new(body.span.line, body.span.column, 1),
                ));
            };
            spec.functions.push(AppSpecFunction {
                name: name.trim().to_owned(),
                alias: properties
                    .and_then(|p| get(p, "Alias"))
                    .and_then(Node::as_str)
                    .map(|a| a.trim().to_owned()),
            });
        }
    }
    for hook in seq(get(&root, "Hooks")) {
        for (key, value) in map(hook) {
            if let (Some(key), Some(value)) = (key.as_str(), value.as_str()) {
                spec.hooks.push((key.to_owned(), value.trim().to_owned()));
            }
        }
    }
    Ok(Some(spec))
}

/// The buildspec files of `dir` that the projects name (`buildspec.yml` when they name none),
/// for what the report says about them.
pub fn read_local_buildspecs(dir: &Path, imported: &mut Imported) {
    for project in imported.projects.values() {
        let path = match project.source.buildspec.as_deref().map(str::trim) {
            None | Some("") => "buildspec.yml",
            Some(text) if text.contains('\n') || text.starts_with("arn:") => continue,
            Some(path) => path,
        };
        if let Ok(text) = fs_err::read_to_string(dir.join(path)) {
            imported.local_buildspecs.insert(path.to_owned(), text);
        }
    }
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    map(node)
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn map(node: &Node) -> &[(Node, Node)] {
    match &node.kind {
        Kind::Map(entries) => entries,
        _ => &[],
    }
}

fn seq(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items,
        _ => &[],
    }
}

/// Sorts and dedups what both reads produce, so that equal inputs give equal values.
pub fn normalize(imported: &mut Imported) {
    imported
        .notification_rules
        .sort_by(|a, b| a.arn.cmp(&b.arn));
    imported.notification_rules.dedup_by(|a, b| a.arn == b.arn);
}
