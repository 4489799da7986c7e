//! python on demand, from python-build-standalone (the builds uv's managed Python installs):
//! the newest patch of the requested minor for this architecture, from the list built into
//! the binary (`python-downloads.json`, taken from uv's `download-metadata.json`) or the file
//! `LAMBDA_PIPELINE_PYTHON_DOWNLOADS` names; URLs under `LAMBDA_PIPELINE_PYTHON_MIRROR` when
//! set; each archive checked against its published SHA-256.
//! Owns: that list and the python layout (`python` and `pip` beside `python3` and `pip3`).
//! Must not: print.

use std::path::Path;

use serde::Deserialize;

use super::fetch::{Checksum, Fetcher};
use super::{Request, Resolved, Version};
use crate::settings::RuntimeSources;

/// Where python-build-standalone publishes its archives; a mirror replaces this prefix.
pub const RELEASES: &str = "https://github.com/astral-sh/python-build-standalone/releases/download";

const BUILT_IN: &str = include_str!("python-downloads.json");

#[derive(Debug, Clone, Deserialize)]
struct Download {
    version: String,
    arch: String,
    url: String,
    sha256: String,
}

fn downloads(sources: &RuntimeSources) -> Result<Vec<Download>, String> {
    let (text, origin) = match &sources.python_downloads {
        Some(path) => (
            fs_err::read_to_string(path).map_err(|e| e.to_string())?,
            path.display().to_string(),
        ),
        None => (BUILT_IN.to_owned(), "the built-in list".to_owned()),
    };
    serde_json::from_str(&text).map_err(|e| format!("python downloads in {origin}: {e}"))
}

pub(super) fn resolve(request: &Request, sources: &RuntimeSources) -> Result<Resolved, String> {
    let all = downloads(sources)?;
    let mine: Vec<&Download> = all.iter().filter(|d| d.arch == sources.arch).collect();
    let candidates = mine
        .iter()
        .filter_map(|d| Some((Version::parse(&d.version)?, *d)));
    let Some((version, download)) = request.newest(candidates) else {
        let mut known: Vec<Version> = mine
            .iter()
            .filter_map(|d| Version::parse(&d.version))
            .collect();
        known.sort();
        let range = match (known.first(), known.last()) {
            (Some(first), Some(last)) => format!("{first} to {last}"),
            _ => "none".to_owned(),
        };
        return Err(format!(
            "python-build-standalone has no matching python for {} (it has {range})",
            sources.arch
        ));
    };
    let url = match &sources.python_mirror {
        Some(mirror) => match download.url.strip_prefix(RELEASES) {
            Some(rest) => format!("{mirror}{rest}"),
            None => download.url.clone(),
        },
        None => download.url.clone(),
    };
    Ok(Resolved {
        version,
        url,
        checksum: Checksum::Sha256(download.sha256.clone()),
    })
}

/// Unpacks the archive into `into` and adds `python` and `pip` where only `python3` and
/// `pip3` exist. Returns the bytes downloaded.
pub(super) async fn install(
    plan: &Resolved,
    into: &Path,
    fetcher: &Fetcher,
) -> Result<u64, String> {
    let bytes = fetcher.install(&plan.url, &plan.checksum, into).await?;
    let bin = into.join("bin");
    for (name, target) in [("python", "python3"), ("pip", "pip3")] {
        if !bin.join(name).exists() && bin.join(target).exists() {
            std::os::unix::fs::symlink(target, bin.join(name))
                .map_err(|e| format!("cannot link `{name}`: {e}"))?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(mirror: Option<&str>) -> RuntimeSources {
        RuntimeSources {
            arch: "x86_64".to_owned(),
            python_mirror: mirror.map(str::to_owned),
            ..RuntimeSources::default()
        }
    }

    #[test]
    fn the_built_in_list_resolves_minors_majors_and_latest() {
        let pick = |text: &str| {
            resolve(&Request::parse(text).unwrap(), &sources(None)).map(|r| r.version.to_string())
        };
        assert!(pick("3.9").unwrap().starts_with("3.9."));
        assert!(pick("3.12").unwrap().starts_with("3.12."));
        let newest = pick("3.x").unwrap();
        assert_eq!(pick("latest").unwrap(), newest);
        let err = pick("3.7").unwrap_err();
        assert!(
            err.contains("has no matching python") && err.contains("3.8."),
            "{err}"
        );
    }

    #[test]
    fn a_mirror_replaces_the_release_prefix() {
        let resolved = resolve(
            &Request::parse("3.9").unwrap(),
            &sources(Some("http://127.0.0.1:1/pbs")),
        )
        .unwrap();
        assert!(
            resolved.url.starts_with("http://127.0.0.1:1/pbs/"),
            "{}",
            resolved.url
        );
        assert!(matches!(resolved.checksum, Checksum::Sha256(ref hex) if hex.len() == 64));
    }
}
