//! The AWS SDK configuration shared by every stage that calls AWS: region, credentials
//! (default chain, or OIDC web identity set up by `deploy`), and `AWS_ENDPOINT_URL` for local
//! emulators, which the SDK honours by itself.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The SDK config for `region` (or the SDK's own region chain, falling back to us-east-1).
pub async fn config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .load()
            .await;
    }
    config
}

/// The region the SDK would use, without loading credentials.
pub async fn default_region() -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    aws_config::default_provider::region::default_provider()
        .region()
        .await
        .map(|r| r.to_string())
}

/// The error's message as AWS wrote it, with its code: `ParameterNotFound: ...`.
pub fn describe<E>(err: &aws_sdk_ssm::error::SdkError<E>) -> String
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("no message")
        ),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        }
    }
}
