//! Resolves `env.parameter-store` and `env.secrets-manager` before INSTALL (spec §7.3–§7.4).
//! The caller (`build::prepare`) adds every value it gets back to the `Redactor`, whose hook
//! registers it with the runner through `::add-mask::`.

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

async fn parameters(
    spec: &Buildspec,
    config: &SdkConfig,
) -> Result<Vec<(String, String)>, SecretError> {
    let client = aws_sdk_ssm::Client::new(config);
    let mut values = Vec::new();
    for chunk in spec.env.parameter_store.chunks(10) {
        let names: Vec<String> = chunk.iter().map(|(_, param)| param.value.clone()).collect();
        let output = client
            .get_parameters()
            .set_names(Some(names))
            .with_decryption(true)
            .send()
            .await
            .map_err(|err| {
                error_at(
                    spec,
                    &chunk[0].1,
                    &format!("Parameter Store: {}", crate::aws::describe(&err)),
                )
            })?;
        for (name, param) in chunk {
            let found = output
                .parameters()
                .iter()
                .find(|p| p.name() == Some(param.value.as_str()));
            match found.and_then(|p| p.value()) {
                Some(value) => values.push((name.value.clone(), value.to_owned())),
                None => {
                    return Err(error_at(
                        spec,
                        param,
                        &format!(
                            "parameter `{}` was not found in Parameter Store",
                            param.value
                        ),
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
