//! Which package a `run` deploys: the zip the buildspec built (`zip-file`), a directory to zip
//! (`package-directory`), or the buildspec's primary artifact. Exactly one source is used.
//! Owns: the source rules. Must not: deploy or run commands.

use std::path::Path;

use super::{ArtifactRequest, PackageError, PackageOptions, archive, limits, select};
use crate::base::InputError;
use crate::base::Level;
use crate::base::diagnostic::Span;
use crate::base::report::{ArtifactReport, ArtifactsReport};
use crate::buildspec::model::{ArtifactSpec, Artifacts, At};

/// Checks, before anything runs, that the inputs name exactly one package source.
pub fn check_sources(
    has_artifacts: bool,
    zip_file: Option<&str>,
    package_directory: Option<&str>,
) -> Result<(), InputError> {
    let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    match (set(zip_file), set(package_directory)) {
        (true, true) => Err(InputError::new(
            "zip-file",
            "`zip-file` and `package-directory` are both set; only one package can be deployed",
        )
        .with_hint("keep `zip-file` to deploy the zip your buildspec builds, or `package-directory` to zip a directory, not both")),
        (false, false) if !has_artifacts => Err(InputError::new(
            "package-directory",
            "nothing to deploy: the buildspec has no `artifacts` section, and neither `zip-file` nor `package-directory` is set",
        )
        .with_hint("set `zip-file` to the zip your buildspec builds, set `package-directory` to a directory to zip, or add an `artifacts` section to the buildspec")),
        _ => Ok(()),
    }
}

/// The package to deploy after a successful build: `zip-file` as it is, else
/// `package-directory` zipped (to `primary_output`, else `<output_dir>/package.zip`), else the
/// buildspec's primary artifact.
pub fn deploy_package(
    zip_file: Option<&str>,
    package_directory: Option<&str>,
    built: Option<&ArtifactsReport>,
    options: &PackageOptions,
    log: &dyn Fn(Level, String),
) -> Result<ArtifactReport, PackageError> {
    let given = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(zip) = given(zip_file) {
        return describe_zip(&select::normalize(&options.source_dir.join(zip)));
    }
    if let Some(dir) = given(package_directory) {
        let zip = options
            .primary_output
            .clone()
            .unwrap_or_else(|| options.output_dir.join("package.zip"));
        return zip_directory(&dir, &zip, options, log);
    }
    let built = built.ok_or(PackageError::NoPrimaryArtifacts)?;
    if let Some(primary) = &built.primary {
        return Ok(primary.clone());
    }
    let first = built
        .secondary
        .first()
        .ok_or(PackageError::NoPrimaryArtifacts)?;
    log(
        Level::Info,
        format!(
            "The buildspec has no primary artifact; deploying secondary artifact `{}`, the first one written",
            first.identifier
        ),
    );
    Ok(first.clone())
}

/// Which package `run` would deploy, in one sentence, for `validate`.
pub fn describe_source(
    artifacts: Option<&Artifacts>,
    zip_file: Option<&str>,
    package_directory: Option<&str>,
    image_uri: Option<&str>,
) -> String {
    let given = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(uri) = given(image_uri) {
        return format!("the image `{uri}` (image-uri)");
    }
    if let Some(zip) = given(zip_file) {
        return format!("`{zip}` as it is (zip-file)");
    }
    if let Some(dir) = given(package_directory) {
        return format!("every file under `{dir}`, zipped (package-directory)");
    }
    match artifacts {
        Some(Artifacts {
            primary: Some(_), ..
        }) => "the primary artifact (artifacts.files)".to_owned(),
        Some(Artifacts { secondary, .. }) if !secondary.is_empty() => {
            let first = &secondary[0].0.value;
            let others = if secondary.len() > 1 {
                "; set `package-directory` to another one's base directory to deploy it instead"
            } else {
                ""
            };
            format!(
                "secondary artifact `{first}` (the buildspec has no primary artifact, and it is the first secondary one){others}"
            )
        }
        _ => "nothing: the buildspec has no `artifacts` section; set `zip-file` or `package-directory`".to_owned(),
    }
}

/// Zips every file under `dir` (relative to the source directory) into `zip`.
pub fn zip_directory(
    dir: &str,
    zip: &Path,
    options: &PackageOptions,
    log: &dyn Fn(Level, String),
) -> Result<ArtifactReport, PackageError> {
    let spec = ArtifactSpec {
        files: vec![At::new("**/*".to_owned(), Span::default())],
        ..ArtifactSpec::default()
    };
    let request = ArtifactRequest {
        identifier: super::PRIMARY.to_owned(),
        spec,
        name: None,
        base_directory: Some(dir.to_owned()),
    };
    let outputs = [zip.to_owned()];
    let rules = select::Rules {
        source_dir: &options.source_dir,
        base_directory: Some(dir),
        files: vec!["**/*".to_owned()],
        exclude_paths: Vec::new(),
        discard_paths: false,
        enable_symlinks: false,
        outputs: &outputs,
    };
    let entries = select::select(&rules, log).map_err(|err| match err {
        PackageError::NoMatchingBaseDirectory { .. } => PackageError::Invalid(format!(
            "package-directory `{dir}` is not a directory under `{}`",
            options.source_dir.display()
        )),
        PackageError::NoMatchingPaths { .. } => {
            PackageError::Invalid(format!("package-directory `{dir}` holds no files"))
        }
        other => other,
    })?;
    super::zip_entries(&entries, zip, &request, options)
}

/// Describes a zip built elsewhere: entries, sizes, CodeSha256 from the file's bytes.
pub fn describe_zip(path: &Path) -> Result<ArtifactReport, PackageError> {
    let io = |source| PackageError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs_err::File::open(path).map_err(|err| {
        PackageError::Invalid(format!(
            "zip-file `{}` cannot be read: {err}; check that the buildspec writes it there",
            path.display()
        ))
    })?;
    let mut archive = zip::ZipArchive::new(file.into_parts().0).map_err(|err| {
        PackageError::Invalid(format!("zip-file `{}` is not a zip: {err}", path.display()))
    })?;
    let mut entries: Vec<(String, u64)> = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| io(std::io::Error::other(e)))?;
        if !entry.is_dir() {
            let name = entry.name().map_err(|e| io(std::io::Error::other(e)))?;
            entries.push((name.into_owned(), entry.size()));
        }
    }
    entries.sort();
    let shown = path.display().to_string();
    let total = limits::check_unzipped(&shown, entries.iter().map(|(n, s)| (n.as_str(), *s)))?;
    let (digest, size) = archive::sha256_file(path)?;
    Ok(ArtifactReport {
        identifier: super::PRIMARY.to_owned(),
        name: None,
        files: entries.into_iter().map(|(name, _)| name).collect(),
        zip: shown,
        size,
        uncompressed_size: total,
        sha256: super::code_sha256(&digest),
        needs_s3: limits::needs_s3(size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_conflict_or_missing() {
        let both = check_sources(true, Some("a.zip"), Some("dist")).unwrap_err();
        assert!(
            both.to_string()
                .contains("`zip-file` and `package-directory`")
        );
        let none = check_sources(false, None, Some(" ")).unwrap_err();
        assert!(none.to_string().contains("nothing to deploy"));
        assert!(check_sources(true, None, None).is_ok());
        assert!(check_sources(false, Some("a.zip"), None).is_ok());
    }
}
