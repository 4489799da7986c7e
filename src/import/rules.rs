//! The small rules of an import, each a pure function: which providers import knows, names of
//! workflows and jobs, what a buildspec setting is, which notification events and CodeDeploy
//! configurations map to what, and the report's short descriptions.
//! Owns: those rules. Must not: read, call AWS, render YAML, print.

use super::model::{Action, NotificationRule, Pipeline};
use super::source::place;
use crate::base::InputError;
use crate::base::suggest::nearest;

/// The variables that name a project's environment, in the order they are looked for.
pub const ENVIRONMENT_VARIABLES: [&str; 3] = ["ENV", "ENVIRONMENT", "STAGE"];

/// `notify-on` events in the order the action lists them.
pub const EVENT_ORDER: [&str; 4] = ["start", "success", "failure", "rollback"];

/// Providers import knows. An action whose owner is AWS or ThirdParty and whose provider is not
/// here is an error; a `Custom` action type is listed for a person.
pub const KNOWN_PROVIDERS: [&str; 28] = [
    "CodeCommit",
    "CodeStarSourceConnection",
    "GitHub",
    "S3",
    "ECR",
    "CodeBuild",
    "ECRBuildAndPublish",
    "Jenkins",
    "CodeDeploy",
    "CodeDeployToECS",
    "ECS",
    "EKS",
    "EC2",
    "CloudFormation",
    "CloudFormationStackSet",
    "CloudFormationStackInstances",
    "ElasticBeanstalk",
    "AppConfig",
    "OpsWorks",
    "ServiceCatalog",
    "AlexaSkillsKit",
    "DeviceFarm",
    "Manual",
    "Lambda",
    "StepFunctions",
    "InspectorScan",
    "Commands",
    "Snyk",
];

/// Every action's provider is known, or `Custom`. `source` checks it as soon as the pipelines
/// are read, so that an unknown provider is the error, not what follows from it.
pub fn check_providers(pipelines: &[Pipeline]) -> Result<(), InputError> {
    for pipeline in pipelines {
        for stage in &pipeline.stages {
            for action in &stage.actions {
                let provider = action.provider();
                if action.action_type_id.owner == "Custom" || KNOWN_PROVIDERS.contains(&provider) {
                    continue;
                }
                let suggestion = nearest(provider, &KNOWN_PROVIDERS)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(InputError::new(
                    "pipeline",
                    format!(
                        "{} uses the action provider `{provider}` (category {}, owner {}), which \
                         import does not know{suggestion}",
                        place(pipeline, &stage.name, action),
                        action.action_type_id.category,
                        action.action_type_id.owner,
                    ),
                )
                .with_hint(format!(
                    "import knows {}; remove the action from the saved pipeline JSON \
                     (`--pipeline-file`) to import the rest, and port it by hand",
                    KNOWN_PROVIDERS.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// The pipelines' common name (`my-lambda-develop`, `my-lambda-main` → `my-lambda`), else the
/// first pipeline's, as a file name.
pub fn workflow_name(pipelines: &[Pipeline]) -> String {
    let names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
    let mut prefix = names.first().copied().unwrap_or("pipeline").to_owned();
    for name in &names[1.min(names.len())..] {
        while !name.starts_with(&prefix) {
            prefix.pop();
        }
    }
    let prefix = prefix.trim_end_matches(['-', '_', '.', '@']);
    let chosen = if prefix.len() >= 2 {
        prefix
    } else {
        names.first().copied().unwrap_or("pipeline")
    };
    let cleaned: String = chosen
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "pipeline".to_owned()
    } else {
        cleaned
    }
}

/// A job id: lowercase words joined by `-` (`UnitTests` → `unit-tests`), starting with a
/// letter.
pub fn job_id(text: &str) -> String {
    let mut id = String::new();
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            let new_word = c.is_ascii_uppercase()
                && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if new_word && !id.ends_with('-') {
                id.push('-');
            }
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
        previous = Some(c);
    }
    let id = id.trim_matches('-').to_owned();
    match id.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => id,
        Some(_) => format!("job-{id}"),
        None => "job".to_owned(),
    }
}

/// The buildspec a project runs.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildspecRef {
    /// `buildspec.yml` at the source root.
    Default,
    Path(String),
    /// An inline buildspec: written beside the workflow.
    Inline(String),
    /// An S3 object (`arn:aws:s3:::bucket/key`): copied into the repository at `key`.
    S3 {
        arn: String,
        key: String,
    },
}

pub fn rule_is_for(rule: &NotificationRule, pipeline: &Pipeline) -> bool {
    let Some(resource) = rule.resource.as_deref() else {
        return false;
    };
    match &pipeline.arn {
        Some(arn) => resource == arn,
        None => resource.rsplit(':').next() == Some(pipeline.name.as_str()),
    }
}

/// `notify-on` events for a CodePipeline notification event type.
pub fn notify_event(id: &str) -> Option<&'static [&'static str]> {
    let rest = id.strip_prefix("codepipeline-pipeline-")?;
    let kind = [
        "pipeline-execution-",
        "stage-execution-",
        "action-execution-",
    ]
    .iter()
    .find_map(|prefix| rest.strip_prefix(prefix))?;
    match kind {
        "started" => Some(&["start"]),
        "succeeded" => Some(&["success"]),
        "failed" => Some(&["failure", "rollback"]),
        _ => None,
    }
}

/// `traffic-shift` for a CodeDeploy deployment configuration name: the predefined Lambda
/// configurations (`LambdaCanary10Percent5Minutes` → `canary 10 5m`,
/// `LambdaLinear10PercentEvery1Minute` → `linear 10 1m`, `LambdaAllAtOnce` → `all-at-once`).
pub fn traffic_shift(config: &str) -> Option<String> {
    let name = config.strip_prefix("CodeDeployDefault.").unwrap_or(config);
    let name = name.strip_prefix("Lambda")?;
    if name == "AllAtOnce" {
        return Some("all-at-once".to_owned());
    }
    let (kind, rest) = if let Some(rest) = name.strip_prefix("Canary") {
        ("canary", rest)
    } else if let Some(rest) = name.strip_prefix("Linear") {
        ("linear", rest)
    } else {
        return None;
    };
    let (percent, rest) = rest.split_once("Percent")?;
    let rest = rest.strip_prefix("Every").unwrap_or(rest);
    let minutes = rest
        .strip_suffix("Minutes")
        .or_else(|| rest.strip_suffix("Minute"))?;
    let percent: u32 = percent.parse().ok()?;
    let minutes: u32 = minutes.parse().ok()?;
    if percent == 0 || percent >= 100 || minutes == 0 {
        return None;
    }
    Some(format!("{kind} {percent} {minutes}m"))
}

pub fn buildspec_ref(buildspec: Option<&str>) -> BuildspecRef {
    let Some(text) = buildspec.filter(|b| !b.trim().is_empty()) else {
        return BuildspecRef::Default;
    };
    if text.contains('\n') {
        return BuildspecRef::Inline(text.to_owned());
    }
    let text = text.trim();
    if let Some(object) = text.strip_prefix("arn:aws:s3:::") {
        let key = object.split_once('/').map(|(_, k)| k).unwrap_or(object);
        return BuildspecRef::S3 {
            arn: text.to_owned(),
            key: key.to_owned(),
        };
    }
    if text == "buildspec.yml" {
        BuildspecRef::Default
    } else {
        BuildspecRef::Path(text.to_owned())
    }
}

pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

pub fn join_step_names(names: &[String]) -> String {
    // "CodeBuild project a", "CodeBuild project b" → "CodeBuild projects a, b".
    let projects: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("CodeBuild project "))
        .collect();
    let others: Vec<&str> = names
        .iter()
        .filter(|n| !n.starts_with("CodeBuild project "))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    match projects.len() {
        0 => {}
        1 => parts.push(format!("CodeBuild project {}", projects[0])),
        _ => parts.push(format!("CodeBuild projects {}", projects.join(", "))),
    }
    parts.extend(others.iter().map(|s| (*s).to_owned()));
    parts.join(" + ")
}

pub fn category_verb(category: &str) -> &'static str {
    match category {
        "Build" => "built",
        "Test" => "tested",
        "Deploy" => "deployed",
        "Invoke" => "invoked",
        "Approval" => "asked for approval",
        "Compute" => "ran",
        _ => "ran",
    }
}

/// ` (Key=value, ...)` of an action's configuration, for the report.
pub fn config_summary(action: &Action) -> String {
    if action.configuration.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = action
        .configuration
        .iter()
        .map(|(k, v)| {
            let v = if v.chars().count() > 60 {
                format!("{}…", v.chars().take(60).collect::<String>())
            } else {
                v.clone()
            };
            format!("{k}={v}")
        })
        .collect();
    format!(" ({})", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_configurations_become_traffic_shifts() {
        let cases = [
            (
                "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                Some("canary 10 5m"),
            ),
            (
                "CodeDeployDefault.LambdaCanary10Percent30Minutes",
                Some("canary 10 30m"),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                Some("linear 10 1m"),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
                Some("linear 10 10m"),
            ),
            ("CodeDeployDefault.LambdaAllAtOnce", Some("all-at-once")),
            ("CodeDeployDefault.OneAtATime", None),
            ("MyCustomConfig", None),
        ];
        for (config, expected) in cases {
            assert_eq!(traffic_shift(config).as_deref(), expected, "{config}");
        }
    }

    #[test]
    fn notification_events() {
        assert_eq!(
            notify_event("codepipeline-pipeline-pipeline-execution-failed"),
            Some(&["failure", "rollback"][..])
        );
        assert_eq!(
            notify_event("codepipeline-pipeline-action-execution-succeeded"),
            Some(&["success"][..])
        );
        assert_eq!(
            notify_event("codepipeline-pipeline-pipeline-execution-canceled"),
            None
        );
        assert_eq!(
            notify_event("codepipeline-pipeline-manual-approval-needed"),
            None
        );
    }

    #[test]
    fn names() {
        assert_eq!(job_id("Deploy Prod"), "deploy-prod");
        assert_eq!(job_id("UnitTests"), "unit-tests");
        assert_eq!(job_id("ApproveProd"), "approve-prod");
        assert_eq!(job_id("SMOKE"), "smoke");
        assert_eq!(job_id("1st"), "job-1st");
        assert_eq!(job_id("__"), "job");
        let pipeline = |name: &str| Pipeline {
            name: name.to_owned(),
            arn: None,
            stages: Vec::new(),
            pipeline_type: None,
            triggers: Vec::new(),
            variables: Vec::new(),
        };
        assert_eq!(
            workflow_name(&[pipeline("my-lambda-develop"), pipeline("my-lambda-main")]),
            "my-lambda"
        );
        assert_eq!(workflow_name(&[pipeline("a"), pipeline("b")]), "a");
        assert_eq!(workflow_name(&[pipeline("only")]), "only");
    }

    #[test]
    fn buildspecs() {
        assert_eq!(buildspec_ref(None), BuildspecRef::Default);
        assert_eq!(buildspec_ref(Some("buildspec.yml")), BuildspecRef::Default);
        assert_eq!(
            buildspec_ref(Some("ci/buildspec-test.yml")),
            BuildspecRef::Path("ci/buildspec-test.yml".into())
        );
        assert!(matches!(
            buildspec_ref(Some("version: 0.2\nphases: {}\n")),
            BuildspecRef::Inline(_)
        ));
        assert_eq!(
            buildspec_ref(Some("arn:aws:s3:::bucket/specs/build.yml")),
            BuildspecRef::S3 {
                arn: "arn:aws:s3:::bucket/specs/build.yml".into(),
                key: "specs/build.yml".into()
            }
        );
    }
}
