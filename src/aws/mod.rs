//! AWS access shared by every stage and reporter that calls AWS: the SDK configuration
//! (`sdk_config`: region, endpoint for local emulators, credentials, OIDC role), the region the
//! SDK would pick, and how AWS errors are described.
//! Owns: building `SdkConfig`. Must not: call a service on a stage's behalf, print.

pub mod credentials;
pub mod error;

pub use credentials::sdk_config;
pub use error::{describe, error_chain};

/// The region the SDK would use, without loading credentials.
pub async fn default_region() -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    aws_config::default_provider::region::default_provider()
        .region()
        .await
        .map(|r| r.to_string())
}
