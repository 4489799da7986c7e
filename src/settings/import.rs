//! `ImportSettings`: the flags of `import` resolved once: where the pipelines come from (the
//! AWS API or saved JSON files), the workflow's name, where it goes, and the shared flags it
//! honours (`--dry-run`, `--force`, `--region`, `--role-to-assume`).
//! Owns: checking those flags. Must not: read the files it names, call AWS, print.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Serialize;

use super::{deploy, values};
use crate::base::InputError;
use crate::cli::{ImportArgs, Inputs};

/// Where the pipelines are read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportSource {
    /// `--pipeline NAME`: GetPipeline, BatchGetProjects, GetDeploymentGroup and the
    /// notification rules, through the AWS API.
    Live { pipelines: Vec<String> },
    /// `--pipeline-file` and friends: saved `aws` CLI output.
    Files(ImportFiles),
}

/// Saved `aws` CLI output, each path as given and as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportFiles {
    pub pipelines: Vec<GivenPath>,
    pub projects: Vec<GivenPath>,
    pub deployment_groups: Vec<GivenPath>,
    pub notification_rules: Vec<GivenPath>,
}

/// A file named on the command line: as the user wrote it (for messages) and absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GivenPath {
    pub given: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSettings {
    pub source: ImportSource,
    /// `--name`; `None`: derived from the pipelines' names.
    pub name: Option<String>,
    /// The working directory: the workflow goes to `.github/workflows/` under it, and an
    /// `appspec.yml` there names the function of a CodeDeploy deployment.
    pub output_dir: PathBuf,
    /// `--dry-run`: print the workflow instead of writing it.
    pub dry_run: bool,
    /// `--force`: overwrite an existing workflow.
    pub force: bool,
    /// `--region` for the API calls; `None` = the SDK's chain.
    pub region: Option<String>,
    /// `--role-to-assume`: written into the workflow instead of a placeholder.
    pub role_to_assume: Option<String>,
}

impl ImportSettings {
    /// `output_dir` is the resolved working directory; file paths are relative to the current
    /// directory, as on any command line.
    pub fn resolve(
        args: &ImportArgs,
        inputs: &Inputs,
        output_dir: &Path,
    ) -> Result<ImportSettings, InputError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let given = |paths: &[String]| -> Vec<GivenPath> {
            paths
                .iter()
                .map(|p| GivenPath {
                    given: p.clone(),
                    path: cwd.join(p),
                })
                .collect()
        };
        let files = ImportFiles {
            pipelines: given(&args.pipeline_files),
            projects: given(&args.project_files),
            deployment_groups: given(&args.deployment_group_files),
            notification_rules: given(&args.notification_rule_files),
        };
        let source = match (args.pipelines.is_empty(), files.pipelines.is_empty()) {
            (true, true) => {
                return Err(
                    InputError::new("pipeline", "no pipeline to import").with_hint(
                        "name one with `--pipeline NAME` (read through the AWS API), or give saved \
                     `aws codepipeline get-pipeline` output with `--pipeline-file FILE`",
                    ),
                );
            }
            (false, false) => {
                return Err(InputError::new(
                    "pipeline-file",
                    "`--pipeline` and `--pipeline-file` are both given",
                )
                .with_hint(
                    "read every pipeline through the AWS API (`--pipeline`) or every one from \
                     saved JSON (`--pipeline-file`, `--project-file`), not a mix",
                ));
            }
            (false, true) => {
                let offline_only = [
                    ("project-file", &files.projects),
                    ("deployment-group-file", &files.deployment_groups),
                    ("notification-rule-file", &files.notification_rules),
                ];
                if let Some((flag, _)) = offline_only.iter().find(|(_, list)| !list.is_empty()) {
                    return Err(InputError::new(
                        flag,
                        format!("`--{flag}` goes with `--pipeline-file`, not `--pipeline`"),
                    )
                    .with_hint(
                        "with `--pipeline NAME` the projects, deployment groups and notification \
                         rules are read through the AWS API",
                    ));
                }
                for name in &args.pipelines {
                    check_pipeline_name(name)?;
                }
                ImportSource::Live {
                    pipelines: dedup(&args.pipelines),
                }
            }
            (true, false) => ImportSource::Files(files),
        };
        let name = args.name.as_deref().map(check_workflow_name).transpose()?;
        Ok(ImportSettings {
            source,
            name,
            output_dir: output_dir.to_path_buf(),
            dry_run: values::parse_bool("dry-run", inputs.dry_run.as_deref(), false)?,
            force: values::parse_bool("force", inputs.force.as_deref(), false)?,
            region: inputs.region.clone().filter(|r| !r.trim().is_empty()),
            role_to_assume: inputs
                .role_to_assume
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .map(|r| deploy::parse_role_arn("role-to-assume", r))
                .transpose()?,
        })
    }
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// CodePipeline's name rule: `[A-Za-z0-9.@\-_]+`, at most 100 characters.
fn check_pipeline_name(name: &str) -> Result<(), InputError> {
    static NAME: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Za-z0-9.@_-]{1,100}$").expect("valid regex"));
    if NAME.is_match(name) {
        Ok(())
    } else {
        Err(
            InputError::new("pipeline", format!("`{name}` is not a pipeline name"))
                .with_hint("a pipeline name has up to 100 letters, digits, `.`, `@`, `-` or `_`"),
        )
    }
}

/// A workflow name that is also a file name: letters, digits, `.`, `-`, `_`.
fn check_workflow_name(name: &str) -> Result<String, InputError> {
    static NAME: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$").expect("valid regex")
    });
    let name = name.trim();
    let name = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .unwrap_or(name);
    if NAME.is_match(name) {
        Ok(name.to_owned())
    } else {
        Err(
            InputError::new("name", format!("`{name}` cannot name a workflow file"))
                .with_hint("use letters, digits, `.`, `-` or `_`, e.g. `deploy`"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: ImportArgs) -> Result<ImportSettings, InputError> {
        ImportSettings::resolve(&args, &Inputs::default(), Path::new("/ws"))
    }

    #[test]
    fn live_or_files_not_both_and_not_neither() {
        let err = resolve(ImportArgs::default()).unwrap_err();
        assert_eq!(err.input, "pipeline");
        let both = ImportArgs {
            pipelines: vec!["p".into()],
            pipeline_files: vec!["p.json".into()],
            ..ImportArgs::default()
        };
        assert_eq!(resolve(both).unwrap_err().input, "pipeline-file");
        let live_with_project_file = ImportArgs {
            pipelines: vec!["p".into()],
            project_files: vec!["projects.json".into()],
            ..ImportArgs::default()
        };
        assert_eq!(
            resolve(live_with_project_file).unwrap_err().input,
            "project-file"
        );
        let live = ImportArgs {
            pipelines: vec!["p".into(), "q".into(), "p".into()],
            ..ImportArgs::default()
        };
        assert_eq!(
            resolve(live).unwrap().source,
            ImportSource::Live {
                pipelines: vec!["p".into(), "q".into()]
            }
        );
    }

    #[test]
    fn names_are_checked() {
        let bad = ImportArgs {
            pipelines: vec!["has space".into()],
            ..ImportArgs::default()
        };
        assert!(resolve(bad).unwrap_err().message.contains("has space"));
        let named = ImportArgs {
            pipelines: vec!["p".into()],
            name: Some("deploy.yml".into()),
            ..ImportArgs::default()
        };
        assert_eq!(resolve(named).unwrap().name.as_deref(), Some("deploy"));
        let bad_name = ImportArgs {
            pipelines: vec!["p".into()],
            name: Some("../x".into()),
            ..ImportArgs::default()
        };
        assert_eq!(resolve(bad_name).unwrap_err().input, "name");
    }
}
