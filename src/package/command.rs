//! The `package` command: zips the buildspec's artifacts section (or `package-directory`, or
//! describes `zip-file`) without running any phase, prints a short summary and writes the
//! report file. Owns: nothing beyond the command's flow. Must not: run build phases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{ArtifactRequest, PackageError, PackageOptions, limits};
use crate::ExitStatus;
use crate::build::environment;
use crate::buildspec::Buildspec;
use crate::events::Level;
use crate::pipeline::{self, Run};
use crate::report::console::Console;
use crate::report::model::{ArtifactReport, ArtifactsReport, RunReport, RunStatus};
use crate::settings::InputError;

/// Why the command stopped: bad input (exit 2) or a packaging failure (exit 1).
enum Failure {
    Input(String),
    /// Already rendered with its position and hint.
    Buildspec(String),
    Package(PackageError),
}

/// `lambda-pipeline package`: see the module header.
pub async fn package_command(run: &Run) -> ExitStatus {
    run.bus.add(Box::new(Console::new(
        run.env.in_github_actions(),
        false,
        run.redactor.clone(),
    )));
    let mut report = RunReport::new("package", "");
    let result = tokio::task::block_in_place(|| package(run, &mut report));
    let status = match result {
        Ok(artifacts) => {
            summarize(&artifacts);
            report.artifacts = Some(artifacts);
            ExitStatus::Success
        }
        Err(Failure::Input(message)) => fail(&mut report, message, ExitStatus::InvalidInput),
        Err(Failure::Buildspec(rendered)) => {
            eprintln!("{rendered}");
            report.status = RunStatus::Failed;
            report.error = Some("YAML_FILE_ERROR".to_owned());
            ExitStatus::InvalidInput
        }
        Err(Failure::Package(err)) => fail(&mut report, err.to_string(), ExitStatus::Failure),
    };
    report.duration_ms = run.started.elapsed().as_millis() as u64;
    write_report(run, &report);
    status
}

fn fail(report: &mut RunReport, message: String, status: ExitStatus) -> ExitStatus {
    eprintln!("error: {message}");
    report.status = RunStatus::Failed;
    report.error = Some(message);
    status
}

fn write_report(run: &Run, report: &RunReport) {
    let Some(path) = run.cli.inputs.report_file.as_deref() else {
        return;
    };
    let path = from_cwd(path);
    if let Err(err) = crate::report::write_report_file(report, &path, &run.redactor) {
        eprintln!(
            "warning: cannot write the report file `{}`: {err}",
            path.display()
        );
    }
}

/// A path input relative to the current directory.
fn from_cwd(path: &str) -> PathBuf {
    std::env::current_dir().unwrap_or_default().join(path)
}

fn input_error(err: InputError) -> Failure {
    Failure::Input(err.to_string())
}

/// Picks the source and packages it.
fn package(run: &Run, report: &mut RunReport) -> Result<ArtifactsReport, Failure> {
    let inputs = &run.cli.inputs;
    let source = pipeline::source_dir(&run.cli, &run.env).map_err(input_error)?;
    let zip_file = inputs.zip_file.as_deref();
    let directory = inputs.package_directory.as_deref();
    super::check_sources(true, zip_file, directory).map_err(input_error)?;
    let options = PackageOptions {
        source_dir: source.clone(),
        output_dir: std::env::current_dir().unwrap_or_default(),
        primary_output: inputs.output.as_deref().map(from_cwd),
        source_date_epoch: run
            .env
            .get("SOURCE_DATE_EPOCH")
            .and_then(|v| v.trim().parse().ok()),
    };
    let bus = run.bus.clone();
    let log = move |level: Level, message: String| bus.log(level, message);
    if zip_file.is_some() || directory.is_some() {
        let options = PackageOptions {
            primary_output: Some(
                options
                    .primary_output
                    .clone()
                    .unwrap_or_else(|| from_cwd("deployment.zip")),
            ),
            ..options
        };
        let primary = super::deploy_package(zip_file, directory, None, &options, &log)
            .map_err(Failure::Package)?;
        return Ok(ArtifactsReport {
            primary: Some(primary),
            secondary: Vec::new(),
        });
    }
    let spec = crate::buildspec::load(inputs.buildspec.as_deref(), &source)
        .map_err(|err| Failure::Buildspec(err.to_string()))?;
    report.buildspec = spec.file.clone();
    let requests = requests(run, &spec, &source)?;
    let options = PackageOptions {
        primary_output: options.primary_output.clone().or_else(|| {
            let named = requests.first().is_some_and(|r| r.name.is_some());
            (!named).then(|| from_cwd("deployment.zip"))
        }),
        ..options
    };
    super::collect(&requests, &options, &log).map_err(Failure::Package)
}

/// The artifact definitions of `spec`, with `name` and `base-directory` evaluated by the shell.
fn requests(run: &Run, spec: &Buildspec, source: &Path) -> Result<Vec<ArtifactRequest>, Failure> {
    let Some(artifacts) = &spec.artifacts else {
        return Err(Failure::Input(format!(
            "{}: the buildspec has no `artifacts` section; add one, or set `package-directory`",
            spec.file
        )));
    };
    let Some(primary) = &artifacts.primary else {
        return Err(Failure::Package(PackageError::NoPrimaryArtifacts));
    };
    let variables = variables(run, spec, source)?;
    let mut definitions = vec![(super::PRIMARY.to_owned(), primary.clone())];
    definitions.extend(
        artifacts
            .secondary
            .iter()
            .map(|(id, s)| (id.value.clone(), s.clone())),
    );
    let mut requests = Vec::new();
    for (identifier, spec) in definitions {
        let evaluate = |field: Option<&crate::buildspec::model::At<String>>| {
            field
                .map(|f| evaluate(&f.value, &variables, source))
                .transpose()
        };
        requests.push(ArtifactRequest {
            identifier,
            name: evaluate(spec.name.as_ref())?,
            base_directory: evaluate(spec.base_directory.as_ref())?,
            spec,
        });
    }
    Ok(requests)
}

/// The variables a name can refer to: the process environment, CodeBuild's built-ins, the
/// buildspec's `env.variables`, then `env-vars`.
fn variables(
    run: &Run,
    spec: &Buildspec,
    source: &Path,
) -> Result<BTreeMap<String, String>, Failure> {
    let mut env = environment::inherited(&run.env);
    env.insert("CODEBUILD_SRC_DIR".to_owned(), source.display().to_string());
    env.extend(spec.variables());
    if let Some(lines) = run.cli.inputs.env_vars.as_deref() {
        env.extend(environment::parse_env_vars(lines).map_err(input_error)?);
    }
    Ok(env)
}

/// Evaluates `expression` as the shell would inside double quotes.
fn evaluate(
    expression: &str,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<String, Failure> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' \"{expression}\""))
        .env_clear()
        .envs(env)
        .current_dir(cwd)
        .output()
        .map_err(|err| {
            Failure::Input(format!("cannot run `sh` to evaluate `{expression}`: {err}"))
        })?;
    if !output.status.success() {
        return Err(Failure::Input(format!(
            "the shell could not evaluate `{expression}`: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn summarize(artifacts: &ArtifactsReport) {
    for artifact in artifacts.primary.iter().chain(&artifacts.secondary) {
        println!("{}", summary_line(artifact));
        if artifact.needs_s3 {
            println!(
                "note: `{}` is over Lambda's 50 MB direct upload limit; the deploy uploads it through S3 (set `s3-bucket`)",
                artifact.zip
            );
        }
    }
}

/// `packaged deployment.zip: 3 files, 1.2 kB (4.5 kB unzipped), CodeSha256 …`.
pub fn summary_line(artifact: &ArtifactReport) -> String {
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
