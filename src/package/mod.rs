//! Turns buildspec artifacts into reproducible deployment zips (spec §8): selection with globs,
//! base directories, exclusions and symlink rules; deterministic, parallel, streamed zipping
//! with CodeSha256; Lambda's size limits; the deployment package from `zip-file` or
//! `package-directory` (`sources`); the artifact definitions the `package` command evaluates
//! (`requests`). Owns: the zip files. Must not: run build commands (only `requests` asks the
//! shell to expand a name), call AWS, print.

pub mod archive;
pub mod limits;
pub mod requests;
pub mod select;
mod sources;

use std::path::{Path, PathBuf};

use base64::Engine;

use crate::base::Level;
use crate::base::report::{ArtifactReport, ArtifactsReport};
use crate::buildspec::model::ArtifactSpec;

pub use sources::{check_sources, deploy_package, describe_source};

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
    #[error(
        "CLIENT_ERROR: symlink `{}` points outside the source tree (to `{}`); replace it with the file it points to, or exclude it",
        path.display(),
        target.display()
    )]
    SymlinkEscape { path: PathBuf, target: PathBuf },
    #[error(
        "CLIENT_ERROR: `{zip}` is {} unzipped, over Lambda's 250 MB limit (262144000 bytes); the largest paths:\n{largest}",
        limits::human(*total)
    )]
    TooLarge {
        zip: String,
        total: u64,
        largest: String,
    },
    #[error("failed to package `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Packages every requested artifact: the primary first, then one zip per secondary.
/// `log` receives CodeBuild-style lines (`Expanding dist/**/*`, `Found 3 file(s)`).
pub fn collect(
    requests: &[ArtifactRequest],
    options: &PackageOptions,
    log: &dyn Fn(Level, String),
) -> Result<ArtifactsReport, PackageError> {
    let outputs = requests
        .iter()
        .map(|r| zip_path(r, options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = ArtifactsReport::default();
    for (request, zip) in requests.iter().zip(&outputs) {
        let artifact = package_one(request, zip, &outputs, options, log)?;
        if request.identifier == PRIMARY && report.primary.is_none() {
            report.primary = Some(artifact);
        } else {
            report.secondary.push(artifact);
        }
    }
    Ok(report)
}

/// The identifier of the primary artifact.
pub const PRIMARY: &str = "primary";

/// Where one artifact's zip goes: `primary_output` for the primary, else
/// `<output_dir>/<name or identifier>.zip` (the name may contain `/`).
pub fn zip_path(
    request: &ArtifactRequest,
    options: &PackageOptions,
) -> Result<PathBuf, PackageError> {
    if request.identifier == PRIMARY
        && let Some(path) = &options.primary_output
    {
        return Ok(path.clone());
    }
    let name = request.name.as_deref().unwrap_or(&request.identifier);
    let relative = Path::new(name);
    let escapes = relative
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)));
    if name.is_empty() || escapes {
        return Err(PackageError::Invalid(format!(
            "artifact name `{name}` must be a relative path without `..`"
        )));
    }
    let file = if name.ends_with(".zip") {
        name.to_owned()
    } else {
        format!("{name}.zip")
    };
    Ok(options.output_dir.join(file))
}

/// Selects, checks and zips one artifact definition.
fn package_one(
    request: &ArtifactRequest,
    zip: &Path,
    outputs: &[PathBuf],
    options: &PackageOptions,
    log: &dyn Fn(Level, String),
) -> Result<ArtifactReport, PackageError> {
    let spec = &request.spec;
    let rules = select::Rules {
        source_dir: &options.source_dir,
        base_directory: request.base_directory.as_deref(),
        files: spec.files.iter().map(|f| f.value.clone()).collect(),
        exclude_paths: spec.exclude_paths.iter().map(|f| f.value.clone()).collect(),
        discard_paths: spec.discard_paths,
        enable_symlinks: spec.enable_symlinks,
        outputs,
    };
    let entries = select::select(&rules, log)?;
    zip_entries(&entries, zip, request, options)
}

/// Checks the unzipped limit, writes the zip and describes it.
pub fn zip_entries(
    entries: &[select::Entry],
    zip: &Path,
    request: &ArtifactRequest,
    options: &PackageOptions,
) -> Result<ArtifactReport, PackageError> {
    let shown = zip.display().to_string();
    limits::check_unzipped(&shown, entries.iter().map(|e| (e.name.as_str(), e.size)))?;
    let written = archive::write(entries, zip, options.source_date_epoch)?;
    Ok(ArtifactReport {
        identifier: request.identifier.clone(),
        name: request.name.clone(),
        files: entries.iter().map(|e| e.name.clone()).collect(),
        zip: shown,
        size: written.size,
        uncompressed_size: written.uncompressed_size,
        sha256: code_sha256(&written.sha256),
        needs_s3: limits::needs_s3(written.size),
    })
}

/// CodeSha256 as Lambda reports it: base64 of the SHA-256 digest.
pub fn code_sha256(digest: &[u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}
