//! Orchestrates a run: inputs → settings → buildspec → build → package → deploy → reports →
//! exit status. The only module that decides the exit status (through `ExitStatus`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::ExitStatus;
use crate::build::{self, BuildContext, BuildOutcome, environment, runtimes};
use crate::buildspec::{self, Buildspec};
use crate::cancel::{CancelToken, StopReason};
use crate::cli::{Cli, Command};
use crate::env::Env;
use crate::events::{Event, EventBus, Level, Phase, Position};
use crate::package::PackageOptions;
use crate::redact::Redactor;
use crate::report::console::Console;
use crate::report::model::{
    ArtifactReport, PhaseReport, PhaseStatus, RunReport, RunStatus, Warning,
};
use crate::report::{self, workflow};
use crate::settings::{self, InputError};

/// The binary's entry point.
pub fn main() -> ExitStatus {
    let started = std::time::SystemTime::now();
    let env = Env::from_process();
    let cli = match Cli::parse_with_inputs(std::env::args().collect(), &env) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitStatus::InvalidInput
            } else {
                ExitStatus::Success
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitStatus::Failure;
        }
    };
    let status = runtime.block_on(run(cli, env.clone()));
    for warning in crate::workspace_owner::restore(&env, started) {
        eprintln!("warning: {warning}");
    }
    // Background work (a detached output reader) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    status
}

/// Everything shared by the commands of one run.
pub struct Run {
    pub cli: Cli,
    pub env: Env,
    pub redactor: Redactor,
    pub bus: EventBus,
    pub cancel: CancelToken,
    pub started: Instant,
    /// Check run, deployment, job summary and annotations (`github::Reporting`).
    pub reporting: crate::github::Reporting,
}

pub async fn run(cli: Cli, env: Env) -> ExitStatus {
    let cancel = CancelToken::new();
    cancel.listen_for_signals();
    let redactor = Redactor::new();
    register_credentials(&cli, &env, &redactor);
    let command = cli.command.unwrap_or(Command::Run);
    let run = Run {
        cli,
        env,
        redactor,
        bus: EventBus::new(),
        cancel,
        started: Instant::now(),
        reporting: Default::default(),
    };
    match command {
        Command::Validate => validate(&run),
        Command::Run | Command::Build => build_command(&run, command).await,
        Command::Package => crate::package::command::package_command(&run).await,
        Command::Post => crate::github::post::run(&run).await,
        Command::Rollback => crate::deploy::rollback_command(&run).await,
    }
}

/// Registers the credentials we hold with the redactor and, in Actions, masks them.
fn register_credentials(cli: &Cli, env: &Env, redactor: &Redactor) {
    let mut secrets: Vec<String> = Vec::new();
    secrets.extend(cli.inputs.github_token.clone());
    for name in [
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
    ] {
        secrets.extend(env.get(name).map(str::to_owned));
    }
    if let Some(key_id) = env.get("AWS_ACCESS_KEY_ID").filter(|k| k.len() >= 16) {
        secrets.push(key_id.to_owned());
    }
    for secret in secrets {
        mask(env, redactor, &secret);
    }
}

/// Adds a secret to the redactor and, inside Actions, registers it with the runner first.
pub fn mask(env: &Env, redactor: &Redactor, secret: &str) {
    let added = redactor.add(secret);
    if env.in_github_actions() {
        for piece in added {
            for line in workflow::add_mask(&piece) {
                println!("{line}");
            }
        }
    }
}

/// The build's source directory: `working-directory` (relative to the workspace), else the
/// workspace, else the current directory.
pub fn source_dir(cli: &Cli, env: &Env) -> Result<PathBuf, InputError> {
    let base = env
        .get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let dir = match cli.inputs.working_directory.as_deref() {
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
    if !dir.is_dir() {
        return Err(InputError::new(
            "working-directory",
            format!("`{}` is not a directory", dir.display()),
        ));
    }
    Ok(dir)
}

fn input_failure(err: &InputError) -> ExitStatus {
    eprintln!("error: {err}");
    ExitStatus::InvalidInput
}

fn load_buildspec(run: &Run, source: &Path) -> Result<Buildspec, buildspec::BuildspecError> {
    buildspec::load(run.cli.inputs.buildspec.as_deref(), source).map_err(|err| {
        eprintln!("{err}");
        if run.env.in_github_actions() {
            let (line, column) = err
                .span
                .map(|s| (Some(s.line), Some(s.column)))
                .unwrap_or((None, None));
            println!(
                "{}",
                workflow::annotation(
                    "error",
                    &err.message,
                    Some(&err.file),
                    line,
                    column,
                    Some("YAML_FILE_ERROR")
                )
            );
        }
        err
    })
}

fn validate(run: &Run) -> ExitStatus {
    let source = match source_dir(&run.cli, &run.env) {
        Ok(dir) => dir,
        Err(err) => return input_failure(&err),
    };
    let spec = match load_buildspec(run, &source) {
        Ok(spec) => spec,
        Err(_) => return ExitStatus::InvalidInput,
    };
    for warning in &spec.warnings {
        eprintln!(
            "warning: {} ({}:{}:{})",
            warning.message, spec.file, warning.span.line, warning.span.column
        );
    }
    for section in &spec.not_applicable {
        eprintln!(
            "note: `{}` is accepted but not applicable outside CodeBuild; it is ignored",
            section.value
        );
    }
    let commands: usize = spec
        .phases
        .iter()
        .map(|p| p.commands.len() + p.finally.len())
        .sum();
    println!(
        "{}: valid (version {:?}, {} phases, {commands} commands)",
        spec.file,
        spec.version,
        spec.phases.len()
    );
    ExitStatus::Success
}

/// Settings the build needs, resolved from inputs.
struct BuildSettings {
    source: PathBuf,
    timeout: Option<std::time::Duration>,
    strict_runtimes: bool,
    allow_workflow_commands: bool,
    env_vars: Vec<(String, String)>,
    report_file: Option<PathBuf>,
    output: Option<PathBuf>,
}

fn build_settings(run: &Run) -> Result<BuildSettings, InputError> {
    let inputs = &run.cli.inputs;
    let source = source_dir(&run.cli, &run.env)?;
    let timeout = inputs
        .timeout
        .as_deref()
        .map(|t| settings::parse_duration("timeout", t))
        .transpose()?;
    let relative = |path: &str| -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        }
    };
    Ok(BuildSettings {
        source,
        timeout,
        strict_runtimes: settings::parse_bool(
            "strict-runtime-versions",
            inputs.strict_runtime_versions.as_deref(),
            false,
        )?,
        allow_workflow_commands: settings::parse_bool(
            "allow-workflow-commands",
            inputs.allow_workflow_commands.as_deref(),
            false,
        )?,
        env_vars: inputs
            .env_vars
            .as_deref()
            .map(environment::parse_env_vars)
            .transpose()?
            .unwrap_or_default(),
        report_file: inputs.report_file.as_deref().map(relative),
        output: inputs.output.as_deref().map(relative),
    })
}

async fn build_command(run: &Run, command: Command) -> ExitStatus {
    let settings = match build_settings(run) {
        Ok(settings) => settings,
        Err(err) => return input_failure(&err),
    };
    // Deploy inputs are resolved before anything runs: a bad one exits 2 with nothing changed.
    let deploy_plan = match command {
        Command::Run => match crate::deploy::plan(run) {
            Ok(plan) => Some(plan),
            Err(err) => return input_failure(&err),
        },
        _ => None,
    };
    // The deploy's resolved environment (from `branch-environments` too), else the input.
    let environment = deploy_plan
        .as_ref()
        .filter(|plan| !plan.is_empty())
        .map(|plan| plan.environment.as_str())
        .or(run.cli.inputs.environment.as_deref());
    let spec = match load_buildspec(run, &settings.source) {
        Ok(spec) => spec,
        Err(err) => {
            write_failed_report(run, &settings, command, "YAML_FILE_ERROR");
            report_invalid_buildspec(run, command, environment, &err).await;
            return ExitStatus::InvalidInput;
        }
    };
    if command == Command::Run
        && let Err(err) = check_package_sources(run, &spec)
    {
        write_failed_report(run, &settings, command, "INPUT_ERROR");
        return input_failure(&err);
    }
    run.bus.add(Box::new(Console::new(
        run.env.in_github_actions(),
        settings.allow_workflow_commands,
        run.redactor.clone(),
    )));
    run.reporting
        .start(run, &spec.reports, command, environment)
        .await;
    if let Some(limit) = settings.timeout {
        run.cancel.stop_after(limit);
    }
    let region = match run.cli.inputs.region.clone() {
        Some(region) => region,
        None => crate::aws::default_region()
            .await
            .unwrap_or_else(|| "us-east-1".to_owned()),
    };
    let identity = environment::BuildIdentity::new(&run.env, &region);
    let mut report = RunReport::new(command.name(), &identity.build_id);
    report.buildspec = spec.file.clone();
    report.commit = identity.commit.clone();
    report.run_url = identity.run_url.clone();
    report.environment = run.cli.inputs.environment.clone();
    report_parse_warnings(run, &spec, &mut report);

    let state = match StateDir::create(&run.env, &identity.build_id) {
        Ok(state) => state,
        Err(err) => {
            eprintln!("error: cannot create the build's state directory: {err}");
            return ExitStatus::Failure;
        }
    };
    let prepared = match prepare(run, &spec, &settings, &identity, &region).await {
        Ok(prepared) => prepared,
        Err(message) => {
            run.bus.log(Level::Error, message.clone());
            eprintln!("{message}");
            report.status = RunStatus::Failed;
            report.failed_phase = Some(Phase::DownloadSource);
            report.error = Some(message.clone());
            report.phases.push(download_source_failed(message));
            return finish(run, &settings, report).await;
        }
    };
    for warning in &prepared.warnings {
        run.bus.log(Level::Warning, warning.clone());
        report.warnings.push(Warning {
            message: warning.clone(),
            position: None,
        });
    }
    let package_options = PackageOptions {
        source_dir: settings.source.clone(),
        output_dir: state.artifacts.clone(),
        // With `zip-file` or `package-directory`, `output` names the deployed package instead.
        primary_output: settings
            .output
            .clone()
            .filter(|_| !other_package_source(run)),
        source_date_epoch: run
            .env
            .get("SOURCE_DATE_EPOCH")
            .and_then(|v| v.trim().parse().ok()),
    };
    let ctx = BuildContext {
        spec: &spec,
        source_dir: settings.source.clone(),
        env: prepared.env,
        shell: prepared.shell,
        state_dir: state.scripts.clone(),
        runtime_commands: prepared.runtime_commands,
        package: Some(package_options.clone()),
        bus: run.bus.clone(),
        redactor: run.redactor.clone(),
        cancel: run.cancel.clone(),
    };
    match build::run(ctx).await {
        Ok(outcome) => apply_outcome(&mut report, outcome),
        Err(err) => {
            let message = format!("the build could not run: {err}");
            eprintln!("error: {message}");
            report.status = RunStatus::Failed;
            report.error = Some(message);
        }
    }
    let deployment_package = match command {
        Command::Run if report.status == RunStatus::Succeeded => {
            deployment_package(run, &settings, &package_options, &mut report)
        }
        _ => None,
    };
    if let Some(plan) = &deploy_plan {
        deploy_after_build(run, plan, deployment_package, &mut report).await;
    }
    state.clean();
    finish(run, &settings, report).await
}

/// Deploys a SUCCEEDED build's package; a failed build only notifies.
async fn deploy_after_build(
    run: &Run,
    plan: &crate::deploy::DeployPlan,
    package: Option<ArtifactReport>,
    report: &mut RunReport,
) {
    if plan.is_empty() {
        return;
    }
    if report.status != RunStatus::Succeeded {
        crate::deploy::notify_build_failure(run, plan, report).await;
        return;
    }
    // `deployment_package` already failed the run when the package could not be produced;
    // `None` with a SUCCEEDED run is an image deploy.
    let image_uri = match (&package, &run.cli.inputs.image_uri) {
        (None, Some(uri)) => match expand_image_uri(run, uri, report) {
            Ok(uri) => Some(uri),
            Err(err) => {
                eprintln!("{err}");
                report.status = RunStatus::Failed;
                report.input_error = true;
                report.error = Some(err.to_string());
                return;
            }
        },
        _ => None,
    };
    let code = match (&package, &image_uri) {
        (Some(package), _) => crate::deploy::Code::Zip(package),
        (None, Some(uri)) => crate::deploy::Code::Image(uri),
        (None, None) => return,
    };
    let status = crate::deploy::run(run, plan, code, report).await;
    if let Some(error) = report.error.as_ref().filter(|_| !status.is_success()) {
        eprintln!("error: {error}");
    }
}

/// `image-uri` with `${NAME}` taken from the build's exported variables, then the environment.
fn expand_image_uri(run: &Run, uri: &str, report: &RunReport) -> Result<String, InputError> {
    let mut vars: std::collections::BTreeMap<String, String> = run
        .env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.extend(report.exported_variables.clone());
    crate::deploy::image::expand(uri, &vars)
}

/// `run` only, before anything runs: exactly one package source (spec: issue 3). An image
/// deploy (`image-uri`) needs no zip.
fn check_package_sources(run: &Run, spec: &Buildspec) -> Result<(), InputError> {
    if run.cli.inputs.image_uri.is_some() {
        return Ok(());
    }
    crate::package::check_sources(
        spec.artifacts.is_some(),
        run.cli.inputs.zip_file.as_deref(),
        run.cli.inputs.package_directory.as_deref(),
    )
}

fn other_package_source(run: &Run) -> bool {
    run.cli.inputs.zip_file.is_some() || run.cli.inputs.package_directory.is_some()
}

/// After a successful build: the package `run` deploys (`zip-file`, `package-directory`, else the
/// primary artifact), recorded as the report's primary artifact. `None` (and the run failed)
/// when it cannot be produced; `None` too for image deploys.
fn deployment_package(
    run: &Run,
    settings: &BuildSettings,
    options: &PackageOptions,
    report: &mut RunReport,
) -> Option<ArtifactReport> {
    let inputs = &run.cli.inputs;
    if inputs.image_uri.is_some() {
        return None;
    }
    let options = PackageOptions {
        primary_output: settings.output.clone(),
        ..options.clone()
    };
    let bus = run.bus.clone();
    let log = move |level: Level, message: String| bus.log(level, message);
    let (zip_file, directory) = (
        inputs.zip_file.as_deref(),
        inputs.package_directory.as_deref(),
    );
    let result = tokio::task::block_in_place(|| {
        crate::package::deploy_package(
            zip_file,
            directory,
            report.artifacts.as_ref(),
            &options,
            &log,
        )
    });
    match result {
        Ok(mut package) => {
            let artifacts = report.artifacts.get_or_insert_with(Default::default);
            if let Some(source) = zip_file
                .map(|_| "zip-file")
                .or(directory.map(|_| "package-directory"))
            {
                package.identifier = source.to_owned();
                artifacts.secondary.splice(0..0, artifacts.primary.take());
                artifacts.primary = Some(package.clone());
            }
            run.bus.log(
                Level::Info,
                format!(
                    "Package to deploy: {} ({}, {} files, {} bytes, CodeSha256 {})",
                    package.zip,
                    package.identifier,
                    package.files.len(),
                    package.size,
                    package.sha256
                ),
            );
            Some(package)
        }
        Err(err) => {
            let message = format!("cannot prepare the package to deploy: {err}");
            run.bus.log(Level::Error, message.clone());
            report.status = RunStatus::Failed;
            report.error = Some(message);
            None
        }
    }
}

fn report_parse_warnings(run: &Run, spec: &Buildspec, report: &mut RunReport) {
    for warning in &spec.warnings {
        let position = Position {
            file: spec.file.clone(),
            line: warning.span.line,
            column: warning.span.column,
        };
        run.bus.emit(Event::Log {
            level: Level::Warning,
            message: warning.message.clone(),
            position: Some(position.clone()),
        });
        report.warnings.push(Warning {
            message: warning.message.clone(),
            position: Some(position),
        });
    }
    for section in &spec.not_applicable {
        let message = format!(
            "`{}` is accepted but not applicable outside CodeBuild; it is ignored",
            section.value
        );
        run.bus.log(Level::Info, message.clone());
        report.warnings.push(Warning {
            message,
            position: Some(Position {
                file: spec.file.clone(),
                line: section.span.line,
                column: section.span.column,
            }),
        });
    }
}

fn apply_outcome(report: &mut RunReport, outcome: BuildOutcome) {
    report.status = outcome.status;
    report.phases = outcome.phases;
    report.exported_variables = outcome.exported_variables;
    report.artifacts = outcome.artifacts;
    report.failed_phase = outcome.failed_phase;
    report.error = outcome.error;
    report.error_position = outcome.error_position;
    report
        .warnings
        .extend(outcome.warnings.into_iter().map(|message| Warning {
            message,
            position: None,
        }));
}

/// What DOWNLOAD_SOURCE resolved.
struct Prepared {
    env: BTreeMap<String, String>,
    shell: PathBuf,
    runtime_commands: Vec<String>,
    warnings: Vec<String>,
}

/// DOWNLOAD_SOURCE: environment, secrets, shell and runtimes. `Err` fails the build before INSTALL.
async fn prepare(
    run: &Run,
    spec: &Buildspec,
    settings: &BuildSettings,
    identity: &environment::BuildIdentity,
    region: &str,
) -> Result<Prepared, String> {
    build::check_run_as(spec)?;
    let mut env = environment::inherited(&run.env);
    env.extend(environment::builtin_variables(
        &run.env,
        identity,
        &settings.source,
    ));
    let host_workspace =
        build::docker::host_workspace(&|name| env.get(name).cloned(), &settings.source);
    env.insert(build::docker::HOST_WORKSPACE.to_owned(), host_workspace);
    env.extend(spec.variables());
    if !spec.env.parameter_store.is_empty() || !spec.env.secrets_manager.is_empty() {
        let config = crate::aws::config(Some(region)).await;
        let values = build::secrets::resolve(spec, &config)
            .await
            .map_err(|e| e.0)?;
        for (_, value) in &values {
            mask(&run.env, &run.redactor, value);
        }
        env.extend(values);
    }
    env.extend(settings.env_vars.iter().cloned());
    if let Some(environment) = &run.cli.inputs.environment {
        env.insert(
            "LAMBDA_PIPELINE_ENVIRONMENT".to_owned(),
            environment.clone(),
        );
    }
    let shell = resolve_shell(spec)?;
    let manifest = run
        .env
        .get("LAMBDA_PIPELINE_RUNTIMES_FILE")
        .unwrap_or(runtimes::MANIFEST)
        .to_owned();
    let plan = runtimes::plan(spec, &env, Path::new(&manifest), settings.strict_runtimes)?;
    Ok(Prepared {
        env,
        shell,
        runtime_commands: plan.commands,
        warnings: plan.warnings,
    })
}

fn resolve_shell(spec: &Buildspec) -> Result<PathBuf, String> {
    use crate::buildspec::model::Shell;
    let name = match spec.env.shell.as_ref().map(|s| &s.value) {
        None | Some(Shell::Sh) => "sh".to_owned(),
        Some(Shell::Bash) => "bash".to_owned(),
        Some(Shell::Path(path)) => return Ok(PathBuf::from(path)),
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "error: the shell `{name}` selected by env.shell is not installed in this image"
            )
        })
}

/// Where scripts, state files and zips live for one build.
struct StateDir {
    scripts: PathBuf,
    artifacts: PathBuf,
}

impl StateDir {
    fn create(env: &Env, build_id: &str) -> std::io::Result<StateDir> {
        use std::os::unix::fs::PermissionsExt;
        let base = env
            .get("LAMBDA_PIPELINE_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("lambda-pipeline"));
        let run = base.join(build_id.rsplit(':').next().unwrap_or(build_id));
        let scripts = run.join("scripts");
        let artifacts = run.join("artifacts");
        fs_err::create_dir_all(&scripts)?;
        fs_err::create_dir_all(&artifacts)?;
        // `run-as` users write their state files here too.
        fs_err::set_permissions(&scripts, std::fs::Permissions::from_mode(0o1777))?;
        Ok(StateDir { scripts, artifacts })
    }

    fn clean(&self) {
        let _ = std::fs::remove_dir_all(&self.scripts);
    }
}

/// The DOWNLOAD_SOURCE row of a build that failed before INSTALL (CodeBuild's phase context).
fn download_source_failed(context: impl Into<String>) -> PhaseReport {
    PhaseReport {
        name: Phase::DownloadSource,
        status: PhaseStatus::Failed,
        duration_ms: 0,
        commands: Vec::new(),
        context: Some(context.into()),
        log_tail: Vec::new(),
    }
}

/// A buildspec that cannot run still gets its check run and job summary: failed in
/// DOWNLOAD_SOURCE, annotated at the offending line.
async fn report_invalid_buildspec(
    run: &Run,
    command: Command,
    environment: Option<&str>,
    err: &buildspec::BuildspecError,
) {
    let mut report = RunReport::new(command.name(), "");
    let message = format!("YAML_FILE_ERROR: {} ({})", err.message, err.location());
    report.buildspec = err.file.clone();
    report.environment = environment.map(str::to_owned);
    report.status = RunStatus::Failed;
    report.failed_phase = Some(Phase::DownloadSource);
    report.error = Some(message.clone());
    report.error_position = err.span.map(|span| Position {
        file: err.file.clone(),
        line: span.line,
        column: span.column,
    });
    report.run_url = environment::run_url(&run.env);
    report.commit = run.env.get("GITHUB_SHA").map(str::to_owned);
    report.phases.push(download_source_failed(message));
    run.reporting.start(run, &[], command, environment).await;
    // `load_buildspec` already printed the `::error` annotation with its column.
    run.reporting.finish_quietly(run, &mut report).await;
}

fn write_failed_report(run: &Run, settings: &BuildSettings, command: Command, code: &str) {
    let Some(path) = &settings.report_file else {
        return;
    };
    let mut report = RunReport::new(command.name(), "");
    report.status = RunStatus::Failed;
    report.failed_phase = Some(Phase::DownloadSource);
    report.error = Some(code.to_owned());
    report.phases.push(download_source_failed(code.to_owned()));
    let _ = report::write_report_file(&report, path, &run.redactor);
}

/// Writes every report sink and decides the exit status.
async fn finish(run: &Run, settings: &BuildSettings, mut report: RunReport) -> ExitStatus {
    report.duration_ms = run.started.elapsed().as_millis() as u64;
    run.reporting.finish(run, &mut report).await;
    run.bus.emit(Event::Finished {
        status: report.status,
    });
    if let Some(path) = &settings.report_file
        && let Err(err) = report::write_report_file(&report, path, &run.redactor)
    {
        eprintln!("warning: cannot write the report file: {err}");
    }
    write_outputs(run, &report);
    match (report.status, run.cancel.reason()) {
        (_, Some(StopReason::Cancelled)) => ExitStatus::Cancelled,
        _ if report.input_error => ExitStatus::InvalidInput,
        (RunStatus::Succeeded, _) => ExitStatus::Success,
        _ => ExitStatus::Failure,
    }
}

/// Step outputs: exported variables and the run's status.
fn write_outputs(run: &Run, report: &RunReport) {
    let Some(path) = run.env.get("GITHUB_OUTPUT") else {
        return;
    };
    let mut records: Vec<(String, String)> = report
        .exported_variables
        .iter()
        .map(|(name, value)| (name.clone(), run.redactor.redact(value).into_owned()))
        .collect();
    records.push(("status".to_owned(), report.status.name().to_owned()));
    if let Err(err) = workflow::append_records(Path::new(path), &records) {
        eprintln!("warning: cannot write step outputs to GITHUB_OUTPUT: {err}");
    }
}
