//! `Settings::resolve`: every input a command uses, turned once into typed settings before
//! anything runs, or the first `InputError` (exit 2, nothing run, nothing changed in AWS or
//! GitHub). Stages receive only their own part (`BuildSettings`, `PackageSettings`,
//! `DeployPlan`); reporters receive `Workflow`, `GithubSettings` and `NotifySettings`.
//! `--show-settings` prints the result, secrets redacted.
//! Owns: reading `Cli` and `Env`. Must not: run anything, call AWS or GitHub, print.

pub mod button;
pub mod deploy;
pub mod function_config;
pub mod github;
pub mod import;
pub mod notify;
pub mod preview;
pub mod runtimes;
pub mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::base::InputError;
use crate::base::secret_ref::SecretRef;
use crate::cli::{Cli, Command};
use crate::env::Env;
pub use deploy::DeployPlan;
pub use github::GithubSettings;
pub use import::ImportSettings;
pub use notify::NotifySettings;
pub use runtimes::RuntimeSources;

/// The default runtime manifest of the image (`runtime-versions`).
pub const RUNTIMES_MANIFEST: &str = "/codebuild/image/config/runtimes.yml";

/// Everything one command needs, resolved. Parts a command does not use keep their defaults.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub command: Command,
    pub build: BuildSettings,
    pub package: PackageSettings,
    /// `run` and `rollback`; empty (no targets) when nothing is to be deployed.
    pub deploy: DeployPlan,
    pub github: GithubSettings,
    /// `import` only.
    pub import: Option<ImportSettings>,
    pub workflow: Workflow,
    /// `report-file`, absolute.
    pub report_file: Option<PathBuf>,
    /// `region`, when given; otherwise the SDK's chain decides.
    pub region: Option<String>,
    /// The process environment, for what the build inherits and the AWS SDK reads.
    #[serde(skip)]
    pub env: Env,
}

/// What the build stage needs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildSettings {
    /// `buildspec`: a path relative to `source_dir`, or inline YAML; `None` = `buildspec.yml`.
    pub buildspec: Option<String>,
    /// `$CODEBUILD_SRC_DIR`: `working-directory` inside the workspace, canonical.
    pub source_dir: PathBuf,
    #[serde(serialize_with = "show_timeout")]
    pub timeout: Option<Duration>,
    pub strict_runtime_versions: bool,
    pub allow_workflow_commands: bool,
    /// `env-vars`, in order. Only the names are shown.
    #[serde(serialize_with = "show_names")]
    pub env_vars: Vec<(String, String)>,
    /// `parameter-store`: variable name → parameter name, in order.
    pub parameter_store: Vec<(String, String)>,
    /// `secrets-manager`: variable name → reference, in order.
    pub secrets_manager: Vec<(String, SecretRef)>,
    /// The environment given to the build as `LAMBDA_PIPELINE_ENVIRONMENT`: the deploy's
    /// (from `branch-environments` too), else the `environment` input.
    pub environment: Option<String>,
    /// The `runtime-versions` manifest.
    pub runtimes_manifest: PathBuf,
    /// Where `runtime-versions` finds runtimes when the image has no manifest.
    pub runtimes: RuntimeSources,
    /// Where scripts and zips of a build live: `<state_dir>/<uuid>/`.
    pub state_dir: PathBuf,
}

/// What packaging needs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageSettings {
    pub zip_file: Option<String>,
    pub package_directory: Option<String>,
    /// `output`, absolute.
    pub output: Option<PathBuf>,
    /// `image-uri`, unexpanded (`${NAME}` is filled in after the build).
    pub image_uri: Option<String>,
    pub source_date_epoch: Option<i64>,
}

impl PackageSettings {
    /// `zip-file` or `package-directory` names the package instead of the artifacts section.
    pub fn other_source(&self) -> bool {
        self.zip_file.is_some() || self.package_directory.is_some()
    }
}

/// The runner's side of a job: where its files are and how to link to the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Workflow {
    /// Inside a GitHub Actions job (`GITHUB_ACTIONS=true`).
    pub actions: bool,
    pub output_file: Option<PathBuf>,
    pub summary_file: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
    /// `https://github.com/o/r/actions/runs/<id>/attempts/<n>`.
    pub run_url: Option<String>,
    /// `GITHUB_SHA`.
    pub commit: Option<String>,
}

/// `--show-settings`: how to print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowFormat {
    Yaml,
    Json,
}

impl Settings {
    /// Resolves the inputs `cli.command` uses (the full set for `run`). The first bad one is the
    /// error.
    pub fn resolve(cli: &Cli, env: &Env) -> Result<Settings, InputError> {
        let command = cli.command.clone().unwrap_or(Command::Run);
        let inputs = &cli.inputs;
        let uses = |commands: &[Command]| commands.contains(&command);
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut secrets_manager = Vec::new();
        let source_dir = match source_dir(inputs.working_directory.as_deref(), env) {
            Ok(dir) => dir,
            // `post` reads no files; `rollback` reads only a `targets` file, from here then.
            Err(_) if uses(&[Command::Post, Command::Rollback]) => cwd.clone(),
            Err(err) => return Err(err),
        };
        let mut build = if uses(&[Command::Run, Command::Build, Command::Package]) {
            BuildSettings {
                buildspec: inputs.buildspec.clone(),
                source_dir: source_dir.clone(),
                timeout: inputs
                    .timeout
                    .as_deref()
                    .map(|t| values::parse_duration("timeout", t))
                    .transpose()?,
                strict_runtime_versions: values::parse_bool(
                    "strict-runtime-versions",
                    inputs.strict_runtime_versions.as_deref(),
                    false,
                )?,
                allow_workflow_commands: values::parse_bool(
                    "allow-workflow-commands",
                    inputs.allow_workflow_commands.as_deref(),
                    false,
                )?,
                env_vars: inputs
                    .env_vars
                    .as_deref()
                    .map(values::parse_env_vars)
                    .transpose()?
                    .unwrap_or_default(),
                parameter_store: inputs
                    .parameter_store
                    .as_deref()
                    .map(values::parse_parameter_store)
                    .transpose()?
                    .unwrap_or_default(),
                secrets_manager: Vec::new(),
                environment: None,
                runtimes_manifest: PathBuf::from(
                    env.get("LAMBDA_PIPELINE_RUNTIMES_FILE")
                        .unwrap_or(RUNTIMES_MANIFEST),
                ),
                runtimes: RuntimeSources::resolve(env, &source_dir),
                state_dir: env
                    .get("LAMBDA_PIPELINE_STATE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| std::env::temp_dir().join("lambda-pipeline")),
            }
        } else {
            BuildSettings {
                buildspec: inputs.buildspec.clone(),
                source_dir: source_dir.clone(),
                ..BuildSettings::default()
            }
        };
        let deploy = if uses(&[Command::Rollback])
            && let Some(plan) = button::resolve(inputs, env, &source_dir)?
        {
            plan
        } else if uses(&[Command::Run, Command::Rollback]) {
            deploy::resolve(inputs, env, &source_dir)?
        } else {
            DeployPlan::default()
        };
        if uses(&[Command::Run, Command::Build, Command::Package])
            && let Some(text) = inputs.secrets_manager.as_deref()
        {
            secrets_manager = values::parse_variable_lines("secrets-manager", text)?;
        }
        build.environment = if !deploy.is_empty() {
            Some(deploy.environment.clone())
        } else if uses(&[Command::Run, Command::Build]) {
            deploy::select_environment(inputs, env)?
        } else {
            inputs.environment.clone()
        };
        let environment = build.environment.as_deref();
        values::fill_environment("env-vars", &mut build.env_vars, environment)?;
        values::fill_environment("parameter-store", &mut build.parameter_store, environment)?;
        values::fill_environment("secrets-manager", &mut secrets_manager, environment)?;
        build.secrets_manager = values::parse_secrets_manager(secrets_manager)?;
        let package = PackageSettings {
            zip_file: inputs.zip_file.clone(),
            package_directory: inputs.package_directory.clone(),
            output: inputs.output.as_deref().map(|p| cwd.join(p)),
            image_uri: inputs.image_uri.clone(),
            source_date_epoch: env
                .get("SOURCE_DATE_EPOCH")
                .and_then(|v| v.trim().parse().ok()),
        };
        let mut github = GithubSettings::resolve(inputs, env, command.clone())?;
        if let Some(preview) = &deploy.preview {
            // The environment's GitHub deployment stays the environment's: a preview is not it.
            github.deployment = false;
            if !matches!(preview.action, preview::PreviewAction::Fork { .. }) {
                github.preview_comment = Some(preview.number);
            }
        }
        let import = match &command {
            Command::Import(args) => Some(ImportSettings::resolve(args, inputs, &source_dir)?),
            _ => None,
        };
        Ok(Settings {
            command,
            build,
            package,
            deploy,
            github,
            import,
            workflow: Workflow::resolve(env),
            report_file: inputs.report_file.as_deref().map(|p| cwd.join(p)),
            region: inputs.region.clone(),
            env: env.clone(),
        })
    }

    /// The settings as `--show-settings` prints them. Secrets are `***` already (`Secret`);
    /// the caller passes the text through the redactor as it does all output.
    pub fn show(&self, format: ShowFormat) -> String {
        match format {
            ShowFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            ShowFormat::Yaml => serde_saphyr::to_string(self).unwrap_or_default(),
        }
    }
}

impl Workflow {
    pub fn resolve(env: &Env) -> Workflow {
        let path = |name: &str| env.get(name).map(PathBuf::from);
        Workflow {
            actions: env.in_github_actions(),
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
            state_file: path("GITHUB_STATE"),
            workspace: path("GITHUB_WORKSPACE"),
            run_url: github::run_url(env),
            commit: env.get("GITHUB_SHA").map(str::to_owned),
        }
    }
}

impl ShowFormat {
    /// `--show-settings` with no value, `yaml`, or `json`.
    pub fn parse(value: &str) -> Result<ShowFormat, InputError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "yaml" | "true" => Ok(ShowFormat::Yaml),
            "json" => Ok(ShowFormat::Json),
            other => Err(
                InputError::new("show-settings", format!("`{other}` is not a format"))
                    .with_hint("use yaml or json"),
            ),
        }
    }
}

/// The build's source directory: `working-directory` (relative to the workspace), else the
/// workspace, else the current directory.
fn source_dir(working_directory: Option<&str>, env: &Env) -> Result<PathBuf, InputError> {
    let base = env
        .get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let dir = match working_directory {
        Some(dir) => base.join(dir),
        None => base,
    };
    let dir = dir.canonicalize().map_err(|err| {
        InputError::new(
            "working-directory",
            format!("`{}` cannot be used: {err}", dir.display()),
        )
        .with_hint("set working-directory to a directory inside the workspace")
    })?;
    if !Path::new(&dir).is_dir() {
        return Err(InputError::new(
            "working-directory",
            format!("`{}` is not a directory", dir.display()),
        ));
    }
    Ok(dir)
}

fn show_timeout<S: serde::Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(duration) => values::show_duration(duration, serializer),
        None => serializer.serialize_none(),
    }
}

fn show_names<S: serde::Serializer>(
    vars: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(vars.iter().map(|(name, _)| format!("{name}=***")))
}
