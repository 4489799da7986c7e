//! `lambda-pipeline validate`: parses and checks the buildspec, runs nothing, and says what it
//! found.

use super::reporters::Reporters;
use super::{Context, Outcome};

pub fn run(context: &Context) -> Outcome {
    let reporters = Reporters::quiet(context);
    let build = &context.settings.build;
    let spec = match crate::buildspec::load(build.buildspec.as_deref(), &build.source_dir) {
        Ok(spec) => spec,
        Err(err) => {
            reporters.buildspec_error(&err);
            return Outcome::InvalidInput;
        }
    };
    let terminal = &reporters.terminal;
    for warning in &spec.warnings {
        terminal.err(&format!(
            "warning: {} ({}:{}:{})",
            warning.message, spec.file, warning.span.line, warning.span.column
        ));
    }
    for section in &spec.not_applicable {
        terminal.err(&format!(
            "note: `{}` is accepted but not applicable outside CodeBuild; it is ignored",
            section.value
        ));
    }
    let commands: usize = spec
        .phases
        .iter()
        .map(|p| p.commands.len() + p.finally.len())
        .sum();
    terminal.out(&format!(
        "{}: valid (version {}, {} phases, {commands} commands)",
        spec.file,
        spec.version.as_str(),
        spec.phases.len()
    ));
    let package = &context.settings.package;
    terminal.out(&format!(
        "deploy package: {}",
        crate::package::describe_source(
            spec.artifacts.as_ref(),
            package.zip_file.as_deref(),
            package.package_directory.as_deref(),
            package.image_uri.as_deref(),
        )
    ));
    Outcome::Succeeded
}
