//! The command line, and the action inputs that mirror it.
//!
//! Every flag `--some-name` is also the action input `some-name`. When a flag is absent from the
//! command line, its value comes from `INPUT_SOME-NAME` (as the runner spells it) or
//! `INPUT_SOME_NAME` (as a shell user can type it). Values stay raw strings here; `settings`
//! turns them into typed settings and reports bad values by input name.
//! Owns: argument parsing. Must not: read files, call AWS or GitHub, print.

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::env::Env;

/// Run a CodeBuild buildspec, package a reproducible zip and deploy it to AWS Lambda.
#[derive(Debug, Parser)]
#[command(name = "lambda-pipeline", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub inputs: Inputs,
    /// Print the resolved settings as yaml (the default) or json, secrets redacted, and exit
    /// without building, deploying or calling GitHub. A flag only, not an action input.
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "yaml"
    )]
    pub show_settings: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// The full pipeline: build, package, deploy, notify and report.
    Run,
    /// Run the buildspec phases and collect artifacts; deploy nothing.
    Build,
    /// Parse and check the buildspec; run nothing.
    Validate,
    /// Zip the artifacts section (or a directory) without running any phase.
    Package,
    /// Move the environment's alias back to the version recorded before the last deploy.
    Rollback,
    /// Post-entrypoint: complete a check run that a crashed or killed run left in progress.
    Post,
    /// Write a GitHub workflow that uses this action from CodePipeline pipelines (read live or
    /// from saved JSON), and a migration report.
    Import(ImportArgs),
}

/// The flags of `import`. They live on the command line only, not in `action.yml`: a migration
/// is run once, by a person, against their pipelines; a job that runs on every push never needs
/// them. `--dry-run`, `--force`, `--region`, `--role-to-assume` and `--working-directory` are
/// the shared flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args, serde::Serialize)]
pub struct ImportArgs {
    /// A pipeline to read through the AWS API (GetPipeline, BatchGetProjects, and the
    /// notification rules where allowed); repeatable.
    #[arg(long = "pipeline", value_name = "NAME")]
    pub pipelines: Vec<String>,
    /// Saved `aws codepipeline get-pipeline` output, instead of --pipeline; repeatable.
    #[arg(long = "pipeline-file", value_name = "FILE")]
    pub pipeline_files: Vec<String>,
    /// Saved `aws codebuild batch-get-projects` output; repeatable.
    #[arg(long = "project-file", value_name = "FILE")]
    pub project_files: Vec<String>,
    /// Saved `aws deploy get-deployment-group` output, for CodeDeploy actions; repeatable.
    #[arg(long = "deployment-group-file", value_name = "FILE")]
    pub deployment_group_files: Vec<String>,
    /// Saved `aws codestar-notifications describe-notification-rule` output; repeatable.
    #[arg(long = "notification-rule-file", value_name = "FILE")]
    pub notification_rule_files: Vec<String>,
    /// Name of the workflow and of its file under .github/workflows. Default: the pipelines'
    /// common name.
    #[arg(long = "name", value_name = "NAME")]
    pub name: Option<String>,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Build => "build",
            Command::Validate => "validate",
            Command::Package => "package",
            Command::Rollback => "rollback",
            Command::Post => "post",
            Command::Import(_) => "import",
        }
    }

    fn from_input(value: &str) -> Option<Command> {
        [
            Command::Run,
            Command::Build,
            Command::Validate,
            Command::Package,
            Command::Rollback,
            Command::Post,
        ]
        .into_iter()
        .find(|command| command.name() == value.trim())
    }
}

/// Every input, as a raw string. Doc comments are the input descriptions in `action.yml`.
#[derive(Debug, Clone, Default, Args)]
pub struct Inputs {
    /// Which command to run when none is given on the command line: run, build, validate,
    /// package, rollback or post.
    #[arg(long = "command", global = true, value_name = "COMMAND")]
    pub command: Option<String>,

    // ----- build -----
    /// Path of the buildspec (relative to the working directory), or an inline YAML document.
    #[arg(long, global = true, value_name = "PATH|YAML")]
    pub buildspec: Option<String>,
    /// Source directory of the build ($CODEBUILD_SRC_DIR). Defaults to the workspace.
    #[arg(long, global = true, value_name = "DIR")]
    pub working_directory: Option<String>,
    /// Build environment variables, one NAME=value per line. They override the buildspec's
    /// env.variables, as a CodeBuild project's variables do. `{environment}` in a value is the
    /// selected environment.
    #[arg(long, global = true, value_name = "LINES")]
    pub env_vars: Option<String>,
    /// Build variables from Parameter Store, one NAME=parameter-name per line, fetched before
    /// the install phase and masked, as a CodeBuild project's PARAMETER_STORE variables are.
    /// `{environment}` in a name is the selected environment.
    #[arg(long, global = true, value_name = "LINES")]
    pub parameter_store: Option<String>,
    /// Build variables from Secrets Manager, one
    /// NAME=secret-id[:json-key[:version-stage[:version-id]]] per line, fetched and masked as a
    /// CodeBuild project's SECRETS_MANAGER variables are. `{environment}` as in parameter-store.
    #[arg(long, global = true, value_name = "LINES")]
    pub secrets_manager: Option<String>,
    /// Bound on the whole build, e.g. 30m, 1h, 90s. When it fires the build is TIMED_OUT.
    #[arg(long, global = true, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Fail the build when a runtime-versions entry does not match the installed runtime.
    #[arg(long, global = true, value_name = "BOOL")]
    pub strict_runtime_versions: Option<String>,
    /// Let build output issue GitHub workflow commands (::add-mask::, ::error::). Off by
    /// default: command output is wrapped in ::stop-commands::.
    #[arg(long, global = true, value_name = "BOOL")]
    pub allow_workflow_commands: Option<String>,
    /// Write the result as JSON to this path.
    #[arg(long, global = true, value_name = "PATH")]
    pub report_file: Option<String>,

    // ----- package -----
    /// A zip the buildspec builds itself; it is deployed as it is.
    #[arg(long, global = true, value_name = "PATH")]
    pub zip_file: Option<String>,
    /// A directory (relative to the working directory) whose files are zipped and deployed
    /// instead of the buildspec's artifacts, which are still packaged.
    #[arg(long, global = true, value_name = "DIR")]
    pub package_directory: Option<String>,
    /// Where to write the deployment zip (package command). Defaults to a file beside the build.
    #[arg(long, global = true, value_name = "PATH")]
    pub output: Option<String>,
    /// A container image to deploy to an image function, e.g. ${IMAGE_URI} from an exported
    /// variable.
    #[arg(long, global = true, value_name = "URI")]
    pub image_uri: Option<String>,

    // ----- target -----
    /// Environment to deploy to, e.g. dev, staging or prod.
    #[arg(long, global = true, value_name = "NAME")]
    pub environment: Option<String>,
    /// Map from branch to environment, e.g. `develop: dev` and `main: prod` (YAML).
    #[arg(long, global = true, value_name = "YAML")]
    pub branch_environments: Option<String>,
    /// Function name or ARN; may contain {environment}; several separated by commas or lines.
    #[arg(long, global = true, value_name = "NAME")]
    pub function_name: Option<String>,
    /// YAML map (inline or a file) from environment to function, alias, region,
    /// role-to-assume, traffic-shift and smoke-test.
    #[arg(long, global = true, value_name = "YAML|PATH")]
    pub targets: Option<String>,
    /// Alias to move to the new version.
    #[arg(long, global = true, value_name = "NAME")]
    pub alias: Option<String>,
    /// AWS region of the functions. Defaults to the SDK's region chain.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Role to assume through the runner's OIDC token (AssumeRoleWithWebIdentity).
    #[arg(long, global = true, value_name = "ARN")]
    pub role_to_assume: Option<String>,

    // ----- deploy -----
    /// all-at-once, `canary <percent> <duration>` or `linear <percent> <interval>`.
    #[arg(long, global = true, value_name = "SPEC")]
    pub traffic_shift: Option<String>,
    /// CloudWatch alarm names, comma or newline separated; one in ALARM rolls back the shift.
    #[arg(long, global = true, value_name = "NAMES")]
    pub alarms: Option<String>,
    /// JSON payload to invoke the new version with before any traffic moves.
    #[arg(long, global = true, value_name = "JSON")]
    pub smoke_test: Option<String>,
    /// JSON that the smoke test response must contain (a subset match).
    #[arg(long, global = true, value_name = "JSON")]
    pub smoke_test_expect: Option<String>,
    /// Tenant to invoke the smoke test as, for a function with tenant isolation.
    #[arg(long, global = true, value_name = "ID")]
    pub smoke_test_tenant_id: Option<String>,
    /// After a successful deploy, delete published versions beyond this many newest ones
    /// (never a version an alias points at).
    #[arg(long, global = true, value_name = "N")]
    pub keep_versions: Option<String>,
    /// latest-published to publish to $LATEST.PUBLISHED (Lambda Managed Instances).
    #[arg(long, global = true, value_name = "TARGET")]
    pub publish_to: Option<String>,
    /// The function's configuration, set before each version is published: fields of
    /// UpdateFunctionConfiguration (YAML or JSON, inline or a file).
    #[arg(long, global = true, value_name = "YAML|JSON|PATH")]
    pub function_config: Option<String>,
    /// merge (keys given are set, null removes, others kept) or replace the function's
    /// environment variables.
    #[arg(long, global = true, value_name = "MODE")]
    pub environment_variables: Option<String>,
    /// Create the function from function-config and the package when it does not exist.
    #[arg(long, global = true, value_name = "BOOL")]
    pub create_function: Option<String>,
    /// Deploy even when the function already runs this exact code (import: overwrite an
    /// existing workflow).
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub force: Option<String>,
    /// S3 bucket for packages over 50 MB.
    #[arg(long, global = true, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,
    /// Key prefix in s3-bucket.
    #[arg(long, global = true, value_name = "PREFIX")]
    pub s3_key_prefix: Option<String>,
    /// Bound on every wait for the function to settle, e.g. 5m.
    #[arg(long, global = true, value_name = "DURATION")]
    pub wait_timeout: Option<String>,
    /// Resolve everything and print the plan, change nothing (import: print the workflow
    /// instead of writing it).
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub dry_run: Option<String>,

    // ----- pull requests and monorepos -----
    /// On a pull_request event, deploy to alias pr-<number> instead of the environment's alias,
    /// and delete it when the pull request closes.
    #[arg(long, global = true, value_name = "BOOL")]
    pub preview: Option<String>,
    /// Keep a function URL on the preview alias.
    #[arg(long, global = true, value_name = "BOOL")]
    pub preview_url: Option<String>,
    /// Auth type of the preview's function URL: AWS_IAM (the default) or NONE (public).
    #[arg(long, global = true, value_name = "TYPE")]
    pub preview_url_auth_type: Option<String>,
    /// Globs, one per line (!glob excludes): build and deploy only when a file changed since
    /// the commit the alias serves matches one.
    #[arg(long, global = true, value_name = "GLOBS")]
    pub paths: Option<String>,

    // ----- notify -----
    /// SNS topic for deploy notifications.
    #[arg(long, global = true, value_name = "ARN")]
    pub sns_topic_arn: Option<String>,
    /// Which events notify: any of start, success, failure, rollback.
    #[arg(long, global = true, value_name = "EVENTS")]
    pub notify_on: Option<String>,

    // ----- GitHub -----
    /// Token for the check run and deployments; the action passes github.token.
    #[arg(long, global = true, value_name = "TOKEN")]
    pub github_token: Option<String>,
    /// Name of the check run. Default `lambda-pipeline / <environment>`.
    #[arg(long, global = true, value_name = "NAME")]
    pub check_name: Option<String>,
    /// Commit to report on. Default: the pull request head, else GITHUB_SHA.
    #[arg(long, global = true, value_name = "SHA")]
    pub sha: Option<String>,
    /// Create a GitHub deployment for the environment and set its statuses.
    #[arg(long, global = true, value_name = "BOOL")]
    pub github_deployment: Option<String>,
}

impl Cli {
    /// Parses `argv`, filling every flag absent from it from its action input in `env`.
    pub fn parse_with_inputs(argv: Vec<String>, env: &Env) -> Result<Cli, clap::Error> {
        let mut argv = argv;
        let given: Vec<String> = argv.iter().map(|arg| flag_name(arg)).collect();
        for long in input_names() {
            if given.iter().any(|flag| flag == &long) {
                continue;
            }
            if let Some(value) = env.input(&long) {
                argv.push(format!("--{long}={value}"));
            }
        }
        let invoked_as_post = argv
            .first()
            .is_some_and(|program| is_post_entrypoint(program));
        let mut cli = Cli::try_parse_from(argv)?;
        if cli.command.is_none() && invoked_as_post {
            cli.command = Some(Command::Post);
        }
        if cli.command.is_none() {
            cli.command = match cli.inputs.command.as_deref() {
                Some(value) => Some(Command::from_input(value).ok_or_else(|| {
                    Cli::command().error(
                        clap::error::ErrorKind::InvalidValue,
                        format!(
                            "input `command` is `{value}`; expected one of run, build, validate, package, rollback, post"
                        ),
                    )
                })?),
                None => None,
            };
        }
        Ok(cli)
    }
}

/// The long name of every input, in declaration order (`function-name`, ...).
pub fn input_names() -> Vec<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .filter(|long| !NOT_INPUTS.contains(&long.as_str()))
        .collect()
}

/// Flags that are not action inputs.
const NOT_INPUTS: [&str; 3] = ["help", "version", "show-settings"];

/// The name of the post-entrypoint link (`runs.post-entrypoint` in `action.yml`).
pub const POST_ENTRYPOINT: &str = "lambda-pipeline-post";

/// True when the binary was started through the post-entrypoint link. The runner passes an
/// entrypoint with no arguments and the same inputs as the main step (`command: run`
/// included), so the program name is the only way to tell the stages apart.
fn is_post_entrypoint(program: &str) -> bool {
    std::path::Path::new(program)
        .file_name()
        .is_some_and(|name| name == POST_ENTRYPOINT)
}

fn flag_name(arg: &str) -> String {
    arg.strip_prefix("--")
        .map(|rest| rest.split('=').next().unwrap_or(rest).to_owned())
        .unwrap_or_default()
}
