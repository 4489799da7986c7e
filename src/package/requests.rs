//! The artifact definitions the `package` command zips without running a phase: `name` and
//! `base-directory` evaluated by the shell, as the build's UPLOAD_ARTIFACTS would see them.
//! Owns: that evaluation. Must not: run a phase, print.

use std::collections::BTreeMap;
use std::path::Path;

use super::{ArtifactRequest, PackageError};
use crate::buildspec::Buildspec;

/// Why the definitions could not be read: the input (exit 2) or packaging (exit 1).
#[derive(Debug)]
pub enum RequestError {
    Input(String),
    Package(PackageError),
}

/// The artifact definitions of `spec`, with `name` and `base-directory` evaluated by the shell.
pub fn requests(
    spec: &Buildspec,
    variables: &BTreeMap<String, String>,
    source: &Path,
) -> Result<Vec<ArtifactRequest>, RequestError> {
    let Some(artifacts) = &spec.artifacts else {
        return Err(RequestError::Input(format!(
            "{}: the buildspec has no `artifacts` section; add one, or set `package-directory`",
            spec.file
        )));
    };
    let Some(primary) = &artifacts.primary else {
        return Err(RequestError::Package(PackageError::NoPrimaryArtifacts));
    };
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
                .map(|f| evaluate(&f.value, variables, source))
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

/// Evaluates `expression` as the shell would inside double quotes.
fn evaluate(
    expression: &str,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<String, RequestError> {
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
