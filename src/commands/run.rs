//! `lambda-pipeline run` and `build`: buildspec → DOWNLOAD_SOURCE → phases → package →
//! deploy (`run` only) → reporters. The order of the stages, and what each outcome means for
//! the run, live here; the work lives in the stages.

use std::collections::BTreeMap;

use super::reporters::{Reporters, buildspec_position, download_source_failed};
use super::{Context, Outcome};
use crate::base::report::{ArtifactReport, RunReport, RunStatus, Warning};
use crate::base::{InputError, Level, Phase, Position};
use crate::build::environment::BuildIdentity;
use crate::build::prepare::{self, StateDir};
use crate::build::{self, BuildContext, BuildOutcome};
use crate::buildspec::{self, Buildspec};
use crate::cli::Command;
use crate::deploy::{self, DeployStatus};
use crate::notify::NotifyEvent;
use crate::package::PackageOptions;

pub async fn run(context: &Context) -> Outcome {
    let settings = &context.settings;
    let command = &settings.command;
    let build = &settings.build;
    let environment = build.environment.as_deref();
    if *command == Command::Run
        && let Some(outcome) = super::gates::pull_request(context).await
    {
        return outcome;
    }
    let spec = match buildspec::load(build.buildspec.as_deref(), &build.source_dir) {
        Ok(spec) => spec,
        Err(err) => return invalid_buildspec(context, &err).await,
    };
    if *command == Command::Run
        && let Err(err) = check_package_sources(context, &spec)
    {
        let reporters = Reporters::quiet(context);
        reporters.write_report_file(&failed_report(command, "INPUT_ERROR"));
        reporters.input_error(&err);
        return Outcome::InvalidInput;
    }
    if *command == Command::Run
        && let Err(err) = deploy::preflight(&context.stage, &settings.env, &settings.deploy).await
    {
        let reporters = Reporters::quiet(context);
        reporters.write_report_file(&failed_report(command, "INPUT_ERROR"));
        reporters.input_error(&err);
        return Outcome::InvalidInput;
    }
    let reporters = Reporters::new(context);
    reporters.start(environment).await;
    if let Some(limit) = build.timeout {
        context.stage.cancel.stop_after(limit);
    }
    let region = match settings.region.clone() {
        Some(region) => region,
        None => crate::aws::default_region()
            .await
            .unwrap_or_else(|| "us-east-1".to_owned()),
    };
    let identity = BuildIdentity::new(&settings.env, &region);
    let mut report = RunReport::new(command.name(), &identity.build_id);
    report.buildspec = spec.file.clone();
    report.commit = identity.commit.clone();
    report.run_url = identity.run_url.clone();
    report.environment = environment.map(str::to_owned);
    report_parse_warnings(context, &spec, &mut report);
    if *command == Command::Run && super::gates::unchanged(context, &mut report).await {
        return finish(context, &reporters, report).await;
    }

    let state = match StateDir::create(build, &identity.build_id) {
        Ok(state) => state,
        Err(err) => {
            reporters.terminal.err(&format!(
                "error: cannot create the build's state directory: {err}"
            ));
            return Outcome::Failed;
        }
    };
    let stage = &context.stage;
    let prepared =
        match prepare::prepare(&spec, build, &settings.env, &identity, &stage.redactor).await {
            Ok(prepared) => prepared,
            Err(message) => {
                stage.bus.log(Level::Error, message.clone());
                reporters.terminal.err(&message);
                report.status = RunStatus::Failed;
                report.failed_phase = Some(Phase::DownloadSource);
                report.error = Some(message.clone());
                report.phases.push(download_source_failed(message));
                state.clean(&[]);
                return finish(context, &reporters, report).await;
            }
        };
    for note in &prepared.notes {
        stage.bus.log(Level::Info, note.clone());
    }
    for warning in &prepared.warnings {
        stage.bus.log(Level::Warning, warning.clone());
        report.warnings.push(Warning {
            message: warning.clone(),
            position: None,
        });
    }
    let package_options = PackageOptions {
        source_dir: build.source_dir.clone(),
        output_dir: state.artifacts.clone(),
        // With `zip-file` or `package-directory`, `output` names the deployed package instead.
        primary_output: settings
            .package
            .output
            .clone()
            .filter(|_| !settings.package.other_source()),
        source_date_epoch: settings.package.source_date_epoch,
    };
    let build_context = BuildContext {
        spec: &spec,
        source_dir: build.source_dir.clone(),
        env: prepared.env,
        shell: prepared.shell,
        state_dir: state.scripts.clone(),
        runtime_commands: prepared.runtime_commands,
        package: Some(package_options.clone()),
        bus: stage.bus.clone(),
        redactor: stage.redactor.clone(),
        cancel: stage.cancel.clone(),
    };
    match build::run(build_context).await {
        Ok(outcome) => apply_outcome(&mut report, outcome),
        Err(err) => {
            let message = format!("the build could not run: {err}");
            reporters.terminal.err(&format!("error: {message}"));
            report.status = RunStatus::Failed;
            report.error = Some(message);
        }
    }
    let (test_reports, problems) = build::test_reports::collect(&spec.reports, &build.source_dir);
    report.test_reports = test_reports;
    for problem in problems {
        stage.bus.log(Level::Warning, problem.message.clone());
        report.warnings.push(Warning {
            message: problem.message,
            position: None,
        });
    }
    let notify = if *command == Command::Run && !settings.deploy.is_empty() {
        deploy_after_build(context, &reporters, &package_options, &mut report).await
    } else {
        None
    };
    state.clean(&reported_files(context, &report));
    if let Some(event) = notify {
        reporters.notify(event, &mut report, None).await;
    }
    finish(context, &reporters, report).await
}

/// The files a report points at: the zips, when a report file names them.
fn reported_files<'r>(context: &Context, report: &'r RunReport) -> Vec<&'r std::path::Path> {
    if context.settings.report_file.is_none() {
        return Vec::new();
    }
    report
        .artifacts
        .iter()
        .flat_map(|a| a.primary.iter().chain(&a.secondary))
        .map(|artifact| std::path::Path::new(artifact.zip.as_str()))
        .collect()
}

/// Packages and deploys a SUCCEEDED build. Returns the notification the run still owes: a
/// build that failed, or a package that could not be made, is a failure nothing deployed.
async fn deploy_after_build(
    context: &Context,
    reporters: &Reporters,
    options: &PackageOptions,
    report: &mut RunReport,
) -> Option<NotifyEvent> {
    let settings = &context.settings;
    if report.status != RunStatus::Succeeded {
        return Some(NotifyEvent::Failure);
    }
    let package = deployment_package(context, options, report);
    if report.status != RunStatus::Succeeded {
        return Some(NotifyEvent::Failure);
    }
    // `None` with a SUCCEEDED run is an image deploy.
    let image_uri = match (&package, &settings.package.image_uri) {
        (None, Some(uri)) => match expand_image_uri(context, uri, report) {
            Ok(uri) => Some(uri),
            Err(err) => {
                reporters.terminal.err(&err.to_string());
                report.status = RunStatus::Failed;
                report.input_error = true;
                report.error = Some(err.to_string());
                return None;
            }
        },
        _ => None,
    };
    let code = match (&package, &image_uri) {
        (Some(package), _) => deploy::Code::Zip(package),
        (None, Some(uri)) => deploy::Code::Image(uri),
        (None, None) => return None,
    };
    deploy(context, reporters, code, report).await;
    None
}

/// Deploys `code` to the plan's functions and notifies SNS of the start and of how it ended.
/// The outcome is recorded in `report`; step outputs and the other sinks are the caller's
/// `Reporters::finish`.
pub async fn deploy(
    context: &Context,
    reporters: &Reporters,
    code: deploy::Code<'_>,
    report: &mut RunReport,
) -> DeployStatus {
    let settings = &context.settings;
    report.environment = Some(settings.deploy.environment.clone());
    for note in &settings.deploy.notes {
        context.stage.bus.log(Level::Info, note.clone());
    }
    reporters.deploy_started(report).await;
    let outcome = deploy::run(
        &context.stage,
        &settings.env,
        &settings.deploy,
        code,
        &settings.workflow,
    )
    .await;
    outcome.record(report);
    super::gates::preview_deployed(context, report).await;
    if let Some(error) = report
        .error
        .as_ref()
        .filter(|_| !outcome.status.is_success())
    {
        reporters.terminal.err(&format!("error: {error}"));
    }
    let event = match outcome.status {
        DeployStatus::Succeeded => NotifyEvent::Success,
        DeployStatus::RolledBack => NotifyEvent::Rollback,
        _ => NotifyEvent::Failure,
    };
    reporters
        .notify(event, report, outcome.failed_step.as_deref())
        .await;
    outcome.status
}

/// `image-uri` with `${NAME}` taken from the build's exported variables, then the environment.
fn expand_image_uri(
    context: &Context,
    uri: &str,
    report: &RunReport,
) -> Result<String, InputError> {
    let mut vars: BTreeMap<String, String> = context
        .settings
        .env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.extend(report.exported_variables.clone());
    deploy::image::expand(uri, &vars)
}

/// `run` only, before anything runs: exactly one package source (spec: issue 3). An image
/// deploy (`image-uri`) needs no zip.
fn check_package_sources(context: &Context, spec: &Buildspec) -> Result<(), InputError> {
    let package = &context.settings.package;
    if package.image_uri.is_some() {
        return Ok(());
    }
    crate::package::check_sources(
        spec.artifacts.is_some(),
        package.zip_file.as_deref(),
        package.package_directory.as_deref(),
    )
}

/// After a successful build: the package `run` deploys (`zip-file`, `package-directory`, else the
/// primary artifact), recorded as the report's primary artifact. `None` (and the run failed)
/// when it cannot be produced; `None` too for image deploys.
fn deployment_package(
    context: &Context,
    options: &PackageOptions,
    report: &mut RunReport,
) -> Option<ArtifactReport> {
    let package = &context.settings.package;
    if package.image_uri.is_some() {
        return None;
    }
    let options = PackageOptions {
        primary_output: package.output.clone(),
        ..options.clone()
    };
    let bus = context.stage.bus.clone();
    let log = move |level: Level, message: String| bus.log(level, message);
    let (zip_file, directory) = (
        package.zip_file.as_deref(),
        package.package_directory.as_deref(),
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
    let bus = &context.stage.bus;
    match result {
        Ok(mut deployed) => {
            let artifacts = report.artifacts.get_or_insert_with(Default::default);
            if let Some(source) = zip_file
                .map(|_| "zip-file")
                .or(directory.map(|_| "package-directory"))
            {
                deployed.identifier = source.to_owned();
                artifacts.secondary.splice(0..0, artifacts.primary.take());
                artifacts.primary = Some(deployed.clone());
            }
            bus.log(
                Level::Info,
                format!(
                    "Package to deploy: {} ({}, {} files, {} bytes, CodeSha256 {})",
                    deployed.zip,
                    deployed.identifier,
                    deployed.files.len(),
                    deployed.size,
                    deployed.sha256
                ),
            );
            Some(deployed)
        }
        Err(err) => {
            let message = format!("cannot prepare the package to deploy: {err}");
            bus.log(Level::Error, message.clone());
            report.status = RunStatus::Failed;
            report.error = Some(message);
            None
        }
    }
}

fn report_parse_warnings(context: &Context, spec: &Buildspec, report: &mut RunReport) {
    let bus = &context.stage.bus;
    for warning in &spec.warnings {
        let position = Position {
            file: spec.file.clone(),
            line: warning.span.line,
            column: warning.span.column,
        };
        bus.emit(crate::events::Event::Log {
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
        bus.log(Level::Info, message.clone());
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

/// A minimal failed report for the report file: DOWNLOAD_SOURCE failed with `code`.
fn failed_report(command: &Command, code: &str) -> RunReport {
    let mut report = RunReport::new(command.name(), "");
    report.status = RunStatus::Failed;
    report.failed_phase = Some(Phase::DownloadSource);
    report.error = Some(code.to_owned());
    report.phases.push(download_source_failed(code.to_owned()));
    report
}

/// A buildspec that cannot run: its error once (with an annotation at its line in a job), the
/// report file says YAML_FILE_ERROR, and the check run and job summary still report the run,
/// failed in DOWNLOAD_SOURCE.
async fn invalid_buildspec(context: &Context, err: &buildspec::BuildspecError) -> Outcome {
    let settings = &context.settings;
    let command = &settings.command;
    let reporters = Reporters::quiet(context);
    reporters.buildspec_error(err);
    let environment = settings.build.environment.as_deref();
    let mut report = RunReport::new(command.name(), "");
    let message = format!("YAML_FILE_ERROR: {} ({})", err.message, err.location());
    report.buildspec = err.file.clone();
    report.environment = environment.map(str::to_owned);
    report.status = RunStatus::Failed;
    report.failed_phase = Some(Phase::DownloadSource);
    report.error = Some(message.clone());
    report.error_position = buildspec_position(err);
    report.run_url = settings.workflow.run_url.clone();
    report.commit = settings.workflow.commit.clone();
    report.phases.push(download_source_failed(message));
    reporters.start(environment).await;
    reporters
        .finish_invalid(&mut report, &failed_report(command, "YAML_FILE_ERROR"))
        .await;
    Outcome::InvalidInput
}

/// Writes every report sink and decides the outcome.
async fn finish(context: &Context, reporters: &Reporters, mut report: RunReport) -> Outcome {
    report.duration_ms = context.started.elapsed().as_millis() as u64;
    reporters.finish(&mut report, true).await;
    Outcome::of_run(report.status, report.input_error, &context.stage.cancel)
}
