//! Turns buildspec artifacts into reproducible deployment zips (spec §8): selection with globs,
//! base directories, exclusions and symlink rules; deterministic, parallel, streamed zipping
//! with CodeSha256; Lambda's size limits. Owns: the zip files. Must not: run commands, call AWS.

use std::path::PathBuf;

use crate::buildspec::model::ArtifactSpec;
use crate::events::Level;
use crate::report::model::ArtifactsReport;

/// One artifact definition to package, with its shell-evaluated fields.
#[derive(Debug, Clone)]
pub struct ArtifactRequest {
    /// `primary`, or the secondary artifact identifier.
    pub identifier: String,
    pub spec: ArtifactSpec,
    /// `artifacts.name` after shell evaluation.
    pub name: Option<String>,
    /// `base-directory` after variable expansion.
    pub base_directory: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// `$CODEBUILD_SRC_DIR`: every relative path resolves from here, never from the last `cd`.
    pub source_dir: PathBuf,
    /// Where zips are written, as `<name or identifier>.zip`.
    pub output_dir: PathBuf,
    /// Exact path for the primary zip (the `output` input), overriding `output_dir`.
    pub primary_output: Option<PathBuf>,
    /// Fixed timestamp for every entry (`SOURCE_DATE_EPOCH`), else 1980-01-01.
    pub source_date_epoch: Option<i64>,
}

/// Why UPLOAD_ARTIFACTS failed. `Display` is CodeBuild's phase context message.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("CLIENT_ERROR: no matching artifact paths found (patterns: {patterns})")]
    NoMatchingPaths { patterns: String },
    #[error("CLIENT_ERROR: no matching base directory path found for {base}")]
    NoMatchingBaseDirectory { base: String },
    #[error("CLIENT_ERROR: no definition for primary artifacts in buildspec")]
    NoPrimaryArtifacts,
    #[error("CLIENT_ERROR: {0}")]
    Invalid(String),
    #[error("failed to package `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Packages every requested artifact. `log` receives CodeBuild-style lines
/// (`Expanding dist/**/*`, `Skipping invalid file path x`, `Found 3 file(s)`).
pub fn collect(
    requests: &[ArtifactRequest],
    options: &PackageOptions,
    log: &dyn Fn(Level, String),
) -> Result<ArtifactsReport, PackageError> {
    let _ = (requests, options, log);
    Err(PackageError::Invalid(
        "packaging is not built yet".to_owned(),
    ))
}
