//! Resolves `env.parameter-store` and `env.secrets-manager` before INSTALL (spec §7.3–§7.4),
//! and the `parameter-store` and `secrets-manager` inputs (a CodeBuild project's
//! PARAMETER_STORE and SECRETS_MANAGER variables). The caller (`build::prepare`) adds every
//! value it gets back to the `Redactor`, whose hook registers it with the runner through
//! `::add-mask::`.

use aws_config::SdkConfig;

use crate::base::diagnostic;
use crate::buildspec::Buildspec;
use crate::buildspec::model::{At, SecretRef};

/// A reference that could not be resolved; the build fails in DOWNLOAD_SOURCE.
#[derive(Debug, Clone)]
pub struct SecretError(pub String);

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every referenced value, by variable name, in buildspec order: parameter store first, then
/// secrets manager, so a name in both takes the Secrets Manager value (spec §7.1).
pub async fn resolve(
    spec: &Buildspec,
    config: &SdkConfig,
) -> Result<Vec<(String, String)>, SecretError> {
    let mut values = Vec::new();
    if !spec.env.parameter_store.is_empty() {
        values.extend(parameters(spec, config).await?);
    }
    if !spec.env.secrets_manager.is_empty() {
        let client = aws_sdk_secretsmanager::Client::new(config);
        for (name, reference) in &spec.env.secrets_manager {
            let value = secret(&client, &reference.value)
                .await
                .map_err(|message| error_at(spec, reference, &message))?;
            values.push((name.value.clone(), value));
        }
    }
    Ok(values)
}

/// The `parameter-store` and `secrets-manager` inputs' values, by variable name, in that
/// order; an error names the input and the variable.
pub async fn resolve_inputs(
    parameter_store: &[(String, String)],
    secrets_manager: &[(String, SecretRef)],
    config: &SdkConfig,
) -> Result<Vec<(String, String)>, SecretError> {
    let mut values = Vec::new();
    if !parameter_store.is_empty() {
        let client = aws_sdk_ssm::Client::new(config);
        let names: Vec<String> = parameter_store.iter().map(|(_, p)| p.clone()).collect();
        let found = get_parameters(&client, &names)
            .await
            .map_err(|(index, message)| {
                SecretError(format!(
                    "error: input `parameter-store`: {}: {message}",
                    parameter_store[index].0
                ))
            })?;
        values.extend(parameter_store.iter().map(|(n, _)| n.clone()).zip(found));
    }
    if !secrets_manager.is_empty() {
        let client = aws_sdk_secretsmanager::Client::new(config);
        for (name, reference) in secrets_manager {
            let value = secret(&client, reference).await.map_err(|message| {
                SecretError(format!("error: input `secrets-manager`: {name}: {message}"))
            })?;
            values.push((name.clone(), value));
        }
    }
    Ok(values)
}

async fn parameters(
    spec: &Buildspec,
    config: &SdkConfig,
) -> Result<Vec<(String, String)>, SecretError> {
    let client = aws_sdk_ssm::Client::new(config);
    let params = &spec.env.parameter_store;
    let names: Vec<String> = params
        .iter()
        .map(|(_, param)| param.value.clone())
        .collect();
    let values = get_parameters(&client, &names)
        .await
        .map_err(|(index, message)| error_at(spec, &params[index].1, &message))?;
    Ok(params
        .iter()
        .map(|(name, _)| name.value.clone())
        .zip(values)
        .collect())
}

/// The decrypted value of every parameter in `names`, in order, ten per GetParameters call.
/// An error carries the index of the parameter it is about.
async fn get_parameters(
    client: &aws_sdk_ssm::Client,
    names: &[String],
) -> Result<Vec<String>, (usize, String)> {
    let mut values = Vec::new();
    for (chunk_index, chunk) in names.chunks(10).enumerate() {
        let first = chunk_index * 10;
        let output = client
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|err| {
                (
                    first,
                    format!("Parameter Store: {}", crate::aws::describe(&err)),
                )
            })?;
        for (offset, name) in chunk.iter().enumerate() {
            let found = output
                .parameters()
                .iter()
                .find(|p| p.name() == Some(name.as_str()));
            match found.and_then(|p| p.value()) {
                Some(value) => values.push(value.to_owned()),
                None => {
                    return Err((
                        first + offset,
                        format!("parameter `{name}` was not found in Parameter Store"),
                    ));
                }
            }
        }
    }
    Ok(values)
}

async fn secret(
    client: &aws_sdk_secretsmanager::Client,
    reference: &SecretRef,
) -> Result<String, String> {
    let output = client
        .get_secret_value()
        .secret_id(&reference.secret_id)
        .set_version_stage(reference.version_stage.clone())
        .set_version_id(reference.version_id.clone())
        .send()
        .await
        .map_err(|err| {
            format!(
                "secret `{}`: {}",
                reference.secret_id,
                crate::aws::describe(&err)
            )
        })?;
    let text = output
        .secret_string()
        .map(str::to_owned)
        .or_else(|| {
            output
                .secret_binary()
                .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        })
        .unwrap_or_default();
    let Some(key) = &reference.json_key else {
        return Ok(text);
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
        format!(
            "secret `{}` is not JSON, so it has no key `{key}`",
            reference.secret_id
        )
    })?;
    match json.get(key) {
        Some(serde_json::Value::String(value)) => Ok(value.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!(
            "secret `{}` has no JSON key `{key}`",
            reference.secret_id
        )),
    }
}

fn error_at<T>(spec: &Buildspec, at: &At<T>, message: &str) -> SecretError {
    SecretError(diagnostic::render(
        "error",
        message,
        &spec.file,
        &spec.source,
        at.span,
    ))
}
