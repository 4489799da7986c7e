//! The artifact definitions to package, with their fields expanded as UPLOAD_ARTIFACTS sees
//! them: `name` and `base-directory` evaluated by the shell, and every `files` and
//! `exclude-paths` entry that mentions a variable (`$CODEBUILD_SRC_DIR/target/**`). The build
//! evaluates in its final shell state; the `package` command, which runs no phase, here.
//! Owns: which fields are expanded, and that evaluation for `package`. Must not: run a phase,
//! print.

use std::collections::BTreeMap;
use std::path::Path;

use super::{ArtifactRequest, PackageError};
use crate::buildspec::Buildspec;
use crate::buildspec::model::{ArtifactSpec, At};

/// Why the definitions could not be read: the input (exit 2) or packaging (exit 1).
#[derive(Debug)]
pub enum RequestError {
    Input(String),
    Package(PackageError),
}

/// Every artifact definition of `spec`: `(identifier, definition)`, the primary first, then
/// the secondary artifacts in the order written. Empty without an `artifacts` section.
pub fn definitions(spec: &Buildspec) -> Vec<(String, ArtifactSpec)> {
    let Some(artifacts) = &spec.artifacts else {
        return Vec::new();
    };
    let mut definitions = Vec::new();
    if let Some(primary) = &artifacts.primary {
        definitions.push((super::PRIMARY.to_owned(), primary.clone()));
    }
    definitions.extend(
        artifacts
            .secondary
            .iter()
            .map(|(id, s)| (id.value.clone(), s.clone())),
    );
    definitions
}

/// The texts of one definition the shell expands, in the order `request` reads their values:
/// `name` and `base-directory` (empty when absent), then each `files` and `exclude-paths`
/// entry that holds a `$` (the others are taken as written, so a glob's `\` stays as it is).
pub fn expressions(spec: &ArtifactSpec) -> Vec<String> {
    let field = |f: &Option<At<String>>| f.as_ref().map(|f| f.value.clone()).unwrap_or_default();
    let mut expressions = vec![field(&spec.name), field(&spec.base_directory)];
    expressions.extend(
        spec.files
            .iter()
            .chain(&spec.exclude_paths)
            .filter(|f| mentions_variable(&f.value))
            .map(|f| f.value.clone()),
    );
    expressions
}

fn mentions_variable(text: &str) -> bool {
    text.contains('$')
}

/// The request for one definition from the values of `expressions(&spec)`, in order; a value
/// the shell could not give (`None`) leaves a pattern as written.
pub fn request(
    identifier: String,
    spec: ArtifactSpec,
    values: &[Option<String>],
) -> ArtifactRequest {
    let mut values = values.iter();
    let mut next = || values.next().cloned().flatten();
    let name = next().filter(|v| !v.is_empty() && spec.name.is_some());
    let base_directory = next().filter(|v| !v.is_empty() && spec.base_directory.is_some());
    let mut spec = spec;
    for pattern in spec.files.iter_mut().chain(spec.exclude_paths.iter_mut()) {
        if mentions_variable(&pattern.value)
            && let Some(value) = next()
        {
            pattern.value = value;
        }
    }
    ArtifactRequest {
        identifier,
        spec,
        name,
        base_directory,
    }
}

/// The artifact definitions of `spec`, expanded by `sh` with `variables`, for the `package`
/// command.
pub fn requests(
    spec: &Buildspec,
    variables: &BTreeMap<String, String>,
    source: &Path,
) -> Result<Vec<ArtifactRequest>, RequestError> {
    if spec.artifacts.is_none() {
        return Err(RequestError::Input(format!(
            "{}: the buildspec has no `artifacts` section; add one, or set `package-directory`",
            spec.file
        )));
    }
    let mut requests = Vec::new();
    for (identifier, definition) in definitions(spec) {
        let values = expressions(&definition)
            .iter()
            .map(|expression| evaluate(expression, variables, source).map(Some))
            .collect::<Result<Vec<_>, _>>()?;
        requests.push(request(identifier, definition, &values));
    }
    Ok(requests)
}

/// Evaluates `expression` as the shell would inside double quotes.
fn evaluate(
    expression: &str,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<String, RequestError> {
    if expression.is_empty() {
        return Ok(String::new());
    }
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' \"{expression}\""))
        .env_clear()
        .envs(env)
        .current_dir(cwd)
        .output()
        .map_err(|err| {
            RequestError::Input(format!("cannot run `sh` to evaluate `{expression}`: {err}"))
        })?;
    if !output.status.success() {
        return Err(RequestError::Input(format!(
            "the shell could not evaluate `{expression}`: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::Span;

    fn at(text: &str) -> At<String> {
        At::new(text.to_owned(), Span::default())
    }

    #[test]
    fn patterns_with_a_variable_take_the_shell_s_value() {
        let spec = ArtifactSpec {
            files: vec![at("$CODEBUILD_SRC_DIR/target/**"), at("README.md")],
            exclude_paths: vec![at("${SKIP}/**/*")],
            base_directory: Some(at("$OUT")),
            ..ArtifactSpec::default()
        };
        let expressions = expressions(&spec);
        assert_eq!(
            expressions,
            ["", "$OUT", "$CODEBUILD_SRC_DIR/target/**", "${SKIP}/**/*"]
        );
        let values = [
            Some(String::new()),
            Some("out".to_owned()),
            Some("/src/target/**".to_owned()),
            None,
        ];
        let request = request("primary".to_owned(), spec, &values);
        assert_eq!(request.name, None);
        assert_eq!(request.base_directory.as_deref(), Some("out"));
        let files: Vec<&str> = request
            .spec
            .files
            .iter()
            .map(|f| f.value.as_str())
            .collect();
        assert_eq!(files, ["/src/target/**", "README.md"]);
        assert_eq!(request.spec.exclude_paths[0].value, "${SKIP}/**/*");
    }
}
