//! Downloads for on-demand runtimes: HTTP GET with retries (connection errors, 429 and 5xx,
//! with exponential backoff), the body checked against a published digest (a SHA-256 in hex,
//! or npm's `sha512-<base64>` integrity) before anything is unpacked, and `.tar.gz` unpacking
//! with the archive's top directory stripped.
//! Owns: those bytes until they are on disk. Must not: decide versions, print.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use base64::Engine as _;
use sha2::Digest as _;

/// A digest the body must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// A hex SHA-256 (python-build-standalone's `SHA256SUMS`).
    Sha256(String),
    /// An npm integrity string, `sha512-<base64>`.
    Integrity(String),
}

impl Checksum {
    fn verify(&self, url: &str, bytes: &[u8]) -> Result<(), String> {
        let (expected, actual) = match self {
            Checksum::Sha256(hex) => {
                let digest = sha2::Sha256::digest(bytes);
                let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                (hex.to_ascii_lowercase(), actual)
            }
            Checksum::Integrity(sri) => {
                let Some(expected) = sri.strip_prefix("sha512-") else {
                    return Err(format!(
                        "`{url}`: the registry gives integrity `{sri}`, and only sha512 is accepted"
                    ));
                };
                let digest = sha2::Sha512::digest(bytes);
                (
                    expected.to_owned(),
                    base64::engine::general_purpose::STANDARD.encode(digest),
                )
            }
        };
        if expected == actual {
            Ok(())
        } else {
            Err(format!(
                "`{url}` does not match its published checksum (expected {expected}, got {actual}); nothing was installed"
            ))
        }
    }
}

/// One HTTP client for a build's downloads.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher::new()
    }
}

impl Fetcher {
    pub fn new() -> Fetcher {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("lambda-pipeline/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Fetcher { client }
    }

    /// The body of `url`, retried on transient failures.
    pub async fn get(&self, url: &str, accept: Option<&str>) -> Result<Vec<u8>, String> {
        let attempt = || async {
            let mut request = self.client.get(url);
            if let Some(accept) = accept {
                request = request.header(reqwest::header::ACCEPT, accept);
            }
            let response = request
                .send()
                .await
                .map_err(|e| Failure::transient(url, e))?;
            let status = response.status();
            if !status.is_success() {
                let transient = status.is_server_error() || status.as_u16() == 429;
                return Err(Failure {
                    message: format!("GET `{url}` answered {status}"),
                    transient,
                });
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| Failure::transient(url, e))?;
            Ok(bytes.to_vec())
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(500))
                    .with_max_times(3)
                    .with_jitter(),
            )
            .when(|failure: &Failure| failure.transient)
            .await
            .map_err(|failure| failure.message)
    }

    /// Downloads `url`, checks it against `checksum`, and unpacks it (a `.tar.gz`) into
    /// `into`, without the archive's top directory (`package/`, `python/`).
    pub async fn install(
        &self,
        url: &str,
        checksum: &Checksum,
        into: &Path,
    ) -> Result<u64, String> {
        let bytes = self.get(url, None).await?;
        checksum.verify(url, &bytes)?;
        let size = bytes.len() as u64;
        let into = into.to_owned();
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            unpack(&bytes, &into).map_err(|e| format!("cannot unpack `{url}`: {e}"))
        })
        .await
        .map_err(|e| e.to_string())??;
        Ok(size)
    }
}

struct Failure {
    message: String,
    transient: bool,
}

impl Failure {
    /// Timeouts and broken transfers are worth another try; a refused connection or an
    /// unknown host is not.
    fn transient(url: &str, err: reqwest::Error) -> Failure {
        let transient = !err.is_connect() && !err.is_builder();
        let mut message = format!("GET `{url}` failed: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Failure { message, transient }
    }
}

/// Unpacks a `.tar.gz` into `into`, dropping the first path component of every entry and
/// refusing entries that would land outside `into`.
pub fn unpack(bytes: &[u8], into: &Path) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    fs_err::create_dir_all(into)?;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let Some(relative) = strip_top(&path) else {
            continue;
        };
        let target = into.join(&relative);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        if entry.header().entry_type() == tar::EntryType::Link {
            // A hard link names another entry of the archive, top directory included.
            let source = entry
                .link_name()?
                .as_deref()
                .and_then(strip_top)
                .ok_or_else(|| {
                    std::io::Error::other(format!("bad hard link `{}`", path.display()))
                })?;
            let _ = std::fs::remove_file(&target);
            fs_err::hard_link(into.join(source), &target)?;
            continue;
        }
        entry.unpack(&target)?;
    }
    Ok(())
}

/// `package/bin/node` → `bin/node`; `None` for the top directory itself and for paths with
/// `..` or a root.
fn strip_top(path: &Path) -> Option<PathBuf> {
    let mut components = path.components();
    components.next()?;
    let rest: PathBuf = components.collect();
    let safe = rest.components().all(|c| matches!(c, Component::Normal(_)));
    (safe && !rest.as_os_str().is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_checked_before_use() {
        let body = b"hello";
        let sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(
            Checksum::Sha256(sha256.to_owned())
                .verify("u", body)
                .is_ok()
        );
        let err = Checksum::Sha256("00".to_owned())
            .verify("u", body)
            .unwrap_err();
        assert!(
            err.contains("does not match its published checksum"),
            "{err}"
        );
        let sri = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(body))
        );
        assert!(Checksum::Integrity(sri).verify("u", body).is_ok());
        assert!(
            Checksum::Integrity("sha1-abc".to_owned())
                .verify("u", body)
                .is_err()
        );
    }

    #[test]
    fn the_top_directory_is_stripped_and_escapes_are_dropped() {
        assert_eq!(
            strip_top(Path::new("package/bin/node")),
            Some(PathBuf::from("bin/node"))
        );
        assert_eq!(strip_top(Path::new("package/")), None);
        assert_eq!(strip_top(Path::new("python/../../etc/x")), None);
    }
}
