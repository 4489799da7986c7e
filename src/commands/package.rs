//! `lambda-pipeline package`: zips the buildspec's artifacts section (or `package-directory`,
//! or describes `zip-file`) without running any phase, prints a short summary and writes the
//! report file.

use std::collections::BTreeMap;

use super::reporters::Reporters;
use super::{Context, Outcome};
use crate::base::Level;
use crate::base::report::{ArtifactReport, ArtifactsReport, RunReport, RunStatus};
use crate::build::environment;
use crate::package::requests::{self, RequestError};
use crate::package::{self, PackageError, PackageOptions, limits};

/// Why the command stopped: bad input (exit 2) or a packaging failure (exit 1).
enum Failure {
    Input(String),
    Buildspec(crate::buildspec::BuildspecError),
    Package(PackageError),
}

impl From<RequestError> for Failure {
    fn from(err: RequestError) -> Failure {
        match err {
            RequestError::Input(message) => Failure::Input(message),
            RequestError::Package(err) => Failure::Package(err),
        }
    }
}

pub async fn run(context: &Context) -> Outcome {
    let reporters = Reporters::new(context);
    let mut report = RunReport::new("package", "");
    let result = tokio::task::block_in_place(|| package(context, &mut report));
    let outcome = match result {
        Ok(artifacts) => {
            summarize(&reporters, &artifacts);
            report.artifacts = Some(artifacts);
            Outcome::Succeeded
        }
        Err(Failure::Input(message)) => {
            fail(&reporters, &mut report, message, Outcome::InvalidInput)
        }
        Err(Failure::Buildspec(err)) => {
            reporters.terminal.err(&err.to_string());
            report.status = RunStatus::Failed;
            report.error = Some("YAML_FILE_ERROR".to_owned());
            Outcome::InvalidInput
        }
        Err(Failure::Package(err)) => {
            fail(&reporters, &mut report, err.to_string(), Outcome::Failed)
        }
    };
    report.duration_ms = context.started.elapsed().as_millis() as u64;
    reporters.write_report_file(&report);
    outcome
}

fn fail(
    reporters: &Reporters,
    report: &mut RunReport,
    message: String,
    outcome: Outcome,
) -> Outcome {
    reporters.terminal.err(&format!("error: {message}"));
    report.status = RunStatus::Failed;
    report.error = Some(message);
    outcome
}

/// Picks the source and packages it.
fn package(context: &Context, report: &mut RunReport) -> Result<ArtifactsReport, Failure> {
    let settings = &context.settings;
    let build = &settings.build;
    let package = &settings.package;
    let cwd = std::env::current_dir().unwrap_or_default();
    package::check_sources(
        true,
        package.zip_file.as_deref(),
        package.package_directory.as_deref(),
    )
    .map_err(|err| Failure::Input(err.to_string()))?;
    let options = PackageOptions {
        source_dir: build.source_dir.clone(),
        output_dir: cwd.clone(),
        primary_output: package.output.clone(),
        source_date_epoch: package.source_date_epoch,
    };
    let bus = context.stage.bus.clone();
    let log = move |level: Level, message: String| bus.log(level, message);
    if package.other_source() {
        let options = PackageOptions {
            primary_output: Some(
                options
                    .primary_output
                    .clone()
                    .unwrap_or_else(|| cwd.join("deployment.zip")),
            ),
            ..options
        };
        let primary = package::deploy_package(
            package.zip_file.as_deref(),
            package.package_directory.as_deref(),
            None,
            &options,
            &log,
        )
        .map_err(Failure::Package)?;
        return Ok(ArtifactsReport {
            primary: Some(primary),
            secondary: Vec::new(),
        });
    }
    let spec = crate::buildspec::load(build.buildspec.as_deref(), &build.source_dir)
        .map_err(Failure::Buildspec)?;
    report.buildspec = spec.file.clone();
    // The variables a name can refer to: the process environment, CodeBuild's built-ins, the
    // buildspec's `env.variables`, then `env-vars`.
    let mut variables: BTreeMap<String, String> = environment::inherited(&settings.env);
    variables.insert(
        "CODEBUILD_SRC_DIR".to_owned(),
        build.source_dir.display().to_string(),
    );
    variables.extend(spec.variables());
    variables.extend(build.env_vars.iter().cloned());
    let requests = requests::requests(&spec, &variables, &build.source_dir)?;
    let options = PackageOptions {
        primary_output: options.primary_output.clone().or_else(|| {
            let named = requests.first().is_some_and(|r| r.name.is_some());
            (!named).then(|| cwd.join("deployment.zip"))
        }),
        ..options
    };
    package::collect(&requests, &options, &log).map_err(Failure::Package)
}

fn summarize(reporters: &Reporters, artifacts: &ArtifactsReport) {
    for artifact in artifacts.primary.iter().chain(&artifacts.secondary) {
        reporters.terminal.out(&summary_line(artifact));
        if artifact.needs_s3 {
            reporters.terminal.out(&format!(
                "note: `{}` is over Lambda's 50 MB direct upload limit; the deploy uploads it through S3 (set `s3-bucket`)",
                artifact.zip
            ));
        }
    }
}

/// `packaged deployment.zip: 3 files, 1.2 kB (4.5 kB unzipped), CodeSha256 …`.
fn summary_line(artifact: &ArtifactReport) -> String {
    format!(
        "packaged {} ({}): {} files, {} ({} unzipped), CodeSha256 {}",
        artifact.zip,
        artifact.identifier,
        artifact.files.len(),
        limits::human(artifact.size),
        limits::human(artifact.uncompressed_size),
        artifact.sha256
    )
}
