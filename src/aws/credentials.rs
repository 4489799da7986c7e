//! AWS credentials and the one SDK configuration every caller uses (`sdk_config`): the SDK's
//! default chain (which covers a previous `configure-aws-credentials` step), or, with
//! `role-to-assume`, the runner's OIDC token exchanged through AssumeRoleWithWebIdentity. Credentials are re-minted whenever the
//! SDK's identity cache finds them close to expiry, so a long traffic shift outlives a 1 h
//! session. A refused assume-role names the token's `sub` and `aud` claims.
//! Owns: token requests and STS calls. Must not: call Lambda, print. Every token and key it
//! mints is added to the `Redactor`, whose hook masks it in the job log.

use std::time::SystemTime;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use base64::Engine as _;

use crate::env::Env;
use crate::redact::Redactor;

/// The audience AWS expects in a GitHub OIDC token.
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// The SDK config for one region and, optionally, one role. Reads the endpoint and static
/// credentials from `env` so that the library never depends on the process environment.
pub async fn sdk_config(
    env: &Env,
    region: Option<&str>,
    role: Option<&str>,
    redactor: &Redactor,
) -> SdkConfig {
    let region = region
        .map(str::to_owned)
        .or_else(|| env.get("AWS_REGION").map(str::to_owned))
        .or_else(|| env.get("AWS_DEFAULT_REGION").map(str::to_owned))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.clone()));
    if let Some(endpoint) = env.get("AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = static_credentials(env) {
        loader = loader.credentials_provider(credentials);
    }
    let base = loader.load().await;
    let Some(role) = role else {
        return base;
    };
    let provider = match (
        env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
        env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        (Some(url), Some(token)) => SharedCredentialsProvider::new(OidcProvider {
            request_url: url.to_owned(),
            request_token: token.to_owned(),
            role_arn: role.to_owned(),
            session_name: session_name(env),
            sts: unsigned_sts(&base),
            http: reqwest::Client::new(),
            redactor: redactor.clone(),
        }),
        _ => SharedCredentialsProvider::new(
            aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(session_name(env))
                .configure(&base)
                .build()
                .await,
        ),
    };
    base.into_builder().credentials_provider(provider).build()
}

/// Loads credentials once, so that a refused role or a missing token fails early and clearly.
pub async fn check(config: &SdkConfig) -> Result<(), String> {
    let Some(provider) = config.credentials_provider() else {
        return Err("no AWS credentials are configured".to_owned());
    };
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|err| super::error::error_chain(&err))
}

fn static_credentials(env: &Env) -> Option<Credentials> {
    let key = env.get("AWS_ACCESS_KEY_ID")?;
    let secret = env.get("AWS_SECRET_ACCESS_KEY")?;
    Some(Credentials::new(
        key,
        secret,
        env.get("AWS_SESSION_TOKEN").map(str::to_owned),
        None,
        "environment",
    ))
}

fn session_name(env: &Env) -> String {
    let run = env.get("GITHUB_RUN_ID").unwrap_or("local");
    let name: String = format!("lambda-pipeline-{run}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
        .take(64)
        .collect();
    name
}

/// An STS client that signs nothing: AssumeRoleWithWebIdentity needs no credentials.
fn unsigned_sts(base: &SdkConfig) -> aws_sdk_sts::Client {
    let mut builder = aws_sdk_sts::config::Builder::from(base);
    builder.set_credentials_provider(None);
    aws_sdk_sts::Client::from_conf(builder.build())
}

/// Exchanges the runner's OIDC token for role credentials, every time it is asked.
#[derive(Debug)]
struct OidcProvider {
    request_url: String,
    request_token: String,
    role_arn: String,
    session_name: String,
    sts: aws_sdk_sts::Client,
    http: reqwest::Client,
    redactor: Redactor,
}

impl ProvideCredentials for OidcProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.mint())
    }
}

impl OidcProvider {
    async fn mint(&self) -> Result<Credentials, CredentialsError> {
        let token = self
            .fetch_token()
            .await
            .map_err(CredentialsError::provider_error)?;
        self.redactor.add(&token);
        let output = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .web_identity_token(&token)
            .send()
            .await
            .map_err(|err| {
                CredentialsError::provider_error(format!(
                    "AssumeRoleWithWebIdentity for `{}` was refused: {}; the token's claims: {}",
                    self.role_arn,
                    super::error::describe(&err),
                    describe_claims(&token)
                ))
            })?;
        let credentials = output.credentials().ok_or_else(|| {
            CredentialsError::provider_error("AssumeRoleWithWebIdentity returned no credentials")
        })?;
        self.redactor.add(credentials.secret_access_key());
        self.redactor.add(credentials.session_token());
        let expiry = SystemTime::try_from(*credentials.expiration()).ok();
        Ok(Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            expiry,
            "github-oidc",
        ))
    }

    /// GETs the runner's token endpoint with our audience.
    async fn fetch_token(&self) -> Result<String, String> {
        let separator = if self.request_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}audience={AUDIENCE}", self.request_url);
        let response = self
            .http
            .get(&url)
            .bearer_auth(&self.request_token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot request the OIDC token: {}",
                    super::error::error_chain(&e)
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "the OIDC token endpoint answered {status}; does the job have `permissions: id-token: write`?"
            ));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("the OIDC token endpoint sent no JSON: {e}"))?;
        body["value"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "the OIDC token endpoint's answer has no `value`".to_owned())
    }
}

/// `sub=`...`, aud=`...`` from a JWT, the claims trust policies usually reject on.
pub fn describe_claims(token: &str) -> String {
    let claims = token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let Some(claims) = claims else {
        return "the token is not a JWT".to_owned();
    };
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    };
    format!(
        "sub=`{}`, aud=`{}`",
        text(&claims["sub"]),
        text(&claims["aud"])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_from_a_jwt() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"repo:octo/hello:ref:refs/heads/main","aud":"sts.amazonaws.com"}"#);
        assert_eq!(
            describe_claims(&format!("e30.{payload}.sig")),
            "sub=`repo:octo/hello:ref:refs/heads/main`, aud=`sts.amazonaws.com`"
        );
        assert_eq!(describe_claims("garbage"), "the token is not a JWT");
    }
}
