//! What an import reads: pipelines, CodeBuild projects, CodeDeploy deployment groups and
//! notification rules, in the shapes (and JSON spellings) of the AWS API, which the `aws` CLI
//! prints. `source` fills them from saved JSON or from the SDK; both give equal values.
//! Owns: the data. Must not: read files, call AWS, print.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Everything read, keyed for lookup, in a fixed order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// In the order given.
    pub pipelines: Vec<Pipeline>,
    /// By project name.
    pub projects: BTreeMap<String, Project>,
    /// By (application, deployment group).
    pub deployment_groups: BTreeMap<(String, String), DeploymentGroup>,
    /// Sorted by ARN.
    pub notification_rules: Vec<NotificationRule>,
    /// The function and hooks of a CodeDeploy Lambda deployment, from the working directory.
    pub appspec: Option<AppSpec>,
    /// The buildspec files the projects name that exist in the working directory, by path.
    pub local_buildspecs: BTreeMap<String, String>,
    /// What could not be read (for the report), e.g. notification rules without permission.
    pub notes: Vec<String>,
}

/// `aws codepipeline get-pipeline` output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineOutput {
    pub pipeline: Pipeline,
    #[serde(default)]
    pub metadata: Option<PipelineMetadata>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineMetadata {
    #[serde(default)]
    pub pipeline_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    pub name: String,
    /// From the metadata (`arn:aws:codepipeline:<region>:<account>:<name>`), when known.
    #[serde(skip)]
    pub arn: Option<String>,
    pub stages: Vec<Stage>,
    /// `V1` or `V2`.
    #[serde(default)]
    pub pipeline_type: Option<String>,
    /// V2 triggers (with filters on branches, tags, paths).
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// V2 pipeline-level variables.
    #[serde(default)]
    pub variables: Vec<PipelineVariable>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub provider_type: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineVariable {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub name: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub name: String,
    pub action_type_id: ActionTypeId,
    /// Actions of a stage with the same run order run in parallel. Default 1.
    #[serde(default = "first_run_order")]
    pub run_order: i32,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    #[serde(default)]
    pub input_artifacts: Vec<Artifact>,
    #[serde(default)]
    pub output_artifacts: Vec<Artifact>,
    #[serde(default)]
    pub region: Option<String>,
    /// The shell commands of a `Commands` action.
    #[serde(default)]
    pub commands: Vec<String>,
}

fn first_run_order() -> i32 {
    1
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionTypeId {
    /// Source, Build, Test, Deploy, Approval, Invoke, Compute.
    pub category: String,
    /// AWS, ThirdParty, Custom.
    pub owner: String,
    pub provider: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Artifact {
    pub name: String,
}

impl Action {
    /// A configuration value, when set and not blank.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.configuration
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    pub fn provider(&self) -> &str {
        &self.action_type_id.provider
    }
}

impl Pipeline {
    /// `(region, account)` from the ARN.
    pub fn region_and_account(&self) -> Option<(&str, &str)> {
        let arn = self.arn.as_deref()?;
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "codepipeline", region, account, _] => Some((region, account)),
            _ => None,
        }
    }
}

/// `aws codebuild batch-get-projects` output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetProjectsOutput {
    pub projects: Vec<Project>,
    #[serde(default)]
    pub projects_not_found: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    pub source: ProjectSource,
    pub environment: ProjectEnvironment,
    #[serde(default)]
    pub service_role: Option<String>,
    #[serde(default)]
    pub timeout_in_minutes: Option<i32>,
    #[serde(default)]
    pub secondary_sources: Vec<ProjectSource>,
    #[serde(default)]
    pub vpc_config: Option<VpcConfig>,
    #[serde(default)]
    pub cache: Option<ProjectCache>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSource {
    /// CODEPIPELINE, CODECOMMIT, GITHUB, S3, NO_SOURCE, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// A path, an S3 ARN, or an inline buildspec; `None`: `buildspec.yml`.
    #[serde(default)]
    pub buildspec: Option<String>,
    #[serde(default)]
    pub source_identifier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEnvironment {
    /// LINUX_CONTAINER, ARM_CONTAINER, WINDOWS_CONTAINER, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub compute_type: String,
    #[serde(default)]
    pub environment_variables: Vec<EnvironmentVariable>,
    #[serde(default)]
    pub privileged_mode: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentVariable {
    pub name: String,
    pub value: String,
    /// PLAINTEXT (the default), PARAMETER_STORE or SECRETS_MANAGER.
    #[serde(rename = "type", default = "plaintext")]
    pub kind: String,
}

fn plaintext() -> String {
    "PLAINTEXT".to_owned()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    #[serde(default)]
    pub vpc_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProjectCache {
    #[serde(rename = "type")]
    pub kind: String,
}

/// `aws deploy get-deployment-group` output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDeploymentGroupOutput {
    pub deployment_group_info: DeploymentGroup,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentGroup {
    pub application_name: String,
    pub deployment_group_name: String,
    /// `CodeDeployDefault.LambdaCanary10Percent5Minutes`, or a custom configuration.
    #[serde(default)]
    pub deployment_config_name: Option<String>,
    /// Lambda, Server or ECS.
    #[serde(default)]
    pub compute_platform: Option<String>,
    #[serde(default)]
    pub alarm_configuration: Option<AlarmConfiguration>,
    #[serde(default)]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmConfiguration {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub ignore_poll_alarm_failure: bool,
    #[serde(default)]
    pub alarms: Vec<Alarm>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alarm {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollbackConfiguration {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub events: Vec<String>,
}

/// `aws codestar-notifications describe-notification-rule` output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationRule {
    pub arn: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub event_types: Vec<EventType>,
    /// The pipeline's ARN.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    /// ENABLED or DISABLED.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventType {
    /// `codepipeline-pipeline-pipeline-execution-failed`, ...
    pub event_type_id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub target_address: String,
    /// SNS, AWSChatbotSlack, AWSChatbotMicrosoftTeams.
    pub target_type: String,
    #[serde(default)]
    pub target_status: Option<String>,
}

impl NotificationRule {
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.arn)
    }

    pub fn enabled(&self) -> bool {
        self.status.as_deref() != Some("DISABLED")
    }
}

/// A CodeDeploy AppSpec for Lambda (`appspec.yml` in the working directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    /// The file's name, for the report.
    pub file: String,
    pub functions: Vec<AppSpecFunction>,
    /// `(hook, function)`, e.g. `("BeforeAllowTraffic", "validate-before")`.
    pub hooks: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpecFunction {
    pub name: String,
    pub alias: Option<String>,
}
