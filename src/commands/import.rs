//! `lambda-pipeline import`: read the pipelines (live or saved), map them, render the workflow
//! and the report, then write the files (or, with `--dry-run`, print the workflow on stdout and
//! the rest on stderr). The report goes to stdout and, in a job, to the job summary. A bad
//! pipeline, project, file or provider exits 2 and writes nothing; an AWS failure exits 1.
//! Owns: the order of the import's stages and their outcome. Must not: map or render anything
//! itself, print except through `report::terminal` and `report::files`.

use super::{Context, Outcome};
use crate::base::InputError;
use crate::import::mapping::{self, MapOptions};
use crate::import::output::{self, WriteError};
use crate::import::source::{self, ReadError};
use crate::import::{report, workflow};
use crate::report::terminal::Terminal;
use crate::settings::import::{ImportSettings, ImportSource};

pub async fn run(context: &Context) -> Outcome {
    let terminal = Terminal::new(context.stage.redactor.clone());
    let Some(settings) = context.settings.import.as_ref() else {
        terminal.err("error: `import` has no settings");
        return Outcome::InvalidInput;
    };
    match import(context, settings, &terminal).await {
        Ok(()) => Outcome::Succeeded,
        Err(Failure::Input(err)) => {
            terminal.err(&format!("error: {err}"));
            Outcome::InvalidInput
        }
        Err(Failure::Other(message)) => {
            terminal.err(&format!("error: {message}"));
            Outcome::Failed
        }
    }
}

/// Why an import stopped.
enum Failure {
    Input(InputError),
    Other(String),
}

impl From<InputError> for Failure {
    fn from(err: InputError) -> Failure {
        Failure::Input(err)
    }
}

async fn import(
    context: &Context,
    settings: &ImportSettings,
    terminal: &Terminal,
) -> Result<(), Failure> {
    let mut imported = match &settings.source {
        ImportSource::Live { pipelines } => {
            let config = crate::aws::sdk_config(
                &context.settings.env,
                settings.region.as_deref(),
                None,
                &context.stage.redactor,
            )
            .await;
            source::live::read(pipelines, &config)
                .await
                .map_err(|err| match err {
                    ReadError::Input(err) => Failure::Input(err),
                    ReadError::Aws(message) => Failure::Other(message),
                })?
        }
        ImportSource::Files(files) => source::offline::read(files)?,
    };
    imported.appspec = source::read_appspec(&settings.output_dir)?;
    source::read_local_buildspecs(&settings.output_dir, &mut imported);
    source::normalize(&mut imported);
    let options = MapOptions {
        name: settings.name.clone(),
        role_to_assume: settings.role_to_assume.clone(),
        repository: context
            .settings
            .env
            .get("GITHUB_REPOSITORY")
            .map(str::to_owned),
    };
    let plan = mapping::map(&imported, &options)?;
    let yaml = workflow::render(&plan).map_err(Failure::Other)?;
    let markdown = report::markdown(&plan);
    if settings.dry_run {
        terminal.out(yaml.trim_end());
        for file in &plan.files {
            terminal.err(&format!("# {}\n{}", file.path, file.content.trim_end()));
        }
        terminal.err(&format!("\n{}", markdown.trim_end()));
    } else {
        let written =
            output::write(&plan, &yaml, &settings.output_dir, settings.force).map_err(|err| {
                match err {
                    WriteError::Exists(err) => Failure::Input(err),
                    WriteError::Io(message) => Failure::Other(format!("cannot write: {message}")),
                }
            })?;
        for path in written {
            terminal.out(&format!("wrote {path}"));
        }
        terminal.out(&format!("\n{}", markdown.trim_end()));
    }
    context.files.append_summary_markdown(&markdown);
    Ok(())
}
