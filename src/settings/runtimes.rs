//! Where `runtime-versions` finds runtimes, resolved once: the runner's tool cache
//! (`RUNNER_TOOL_CACHE`), the cache of on-demand installs, the npm registry as npm is
//! configured, and the python-build-standalone mirror and download list.
//! Owns: reading those settings. Must not: download or install anything.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::env::Env;

/// The npm registry when npm is not configured otherwise.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// The sources of runtimes a build may use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuntimeSources {
    /// `RUNNER_TOOL_CACHE`, when it names a directory this process can see (on the runner
    /// itself; a container action gets the host's path, which is not mounted).
    pub tool_cache: Option<PathBuf>,
    /// On-demand installs: `LAMBDA_PIPELINE_RUNTIMES_CACHE`, else
    /// `$XDG_CACHE_HOME/lambda-pipeline/runtimes`, else `$HOME/.cache/lambda-pipeline/runtimes`.
    /// In a container action `HOME` is the job's `/github/home`, kept across the job's steps.
    pub cache_dir: PathBuf,
    /// `NPM_CONFIG_REGISTRY`, else `registry=` in the source directory's or `HOME`'s
    /// `.npmrc`, else npm's default; always ending in `/`.
    pub npm_registry: String,
    /// `LAMBDA_PIPELINE_PYTHON_MIRROR`: replaces python-build-standalone's release URL prefix
    /// (as uv's `UV_PYTHON_INSTALL_MIRROR` does).
    pub python_mirror: Option<String>,
    /// `LAMBDA_PIPELINE_PYTHON_DOWNLOADS`: a JSON file listing the python archives (version,
    /// arch, url, sha256) instead of the list built into the binary.
    pub python_downloads: Option<PathBuf>,
    /// This machine's architecture, as Rust names it (`x86_64`, `aarch64`).
    pub arch: String,
}

impl RuntimeSources {
    pub fn resolve(env: &Env, source_dir: &Path) -> RuntimeSources {
        let home = env.get("HOME").map(PathBuf::from);
        let cache_dir = env
            .get("LAMBDA_PIPELINE_RUNTIMES_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                env.get("XDG_CACHE_HOME")
                    .map(|d| Path::new(d).join("lambda-pipeline/runtimes"))
            })
            .or_else(|| {
                home.as_ref()
                    .map(|h| h.join(".cache/lambda-pipeline/runtimes"))
            })
            .unwrap_or_else(|| std::env::temp_dir().join("lambda-pipeline-runtimes"));
        let npmrc = |dir: Option<&Path>| dir.and_then(|d| npmrc_registry(&d.join(".npmrc")));
        let registry = env
            .get("NPM_CONFIG_REGISTRY")
            .or_else(|| env.get("npm_config_registry"))
            .map(str::to_owned)
            .or_else(|| npmrc(Some(source_dir)))
            .or_else(|| npmrc(home.as_deref()))
            .unwrap_or_else(|| DEFAULT_NPM_REGISTRY.to_owned());
        RuntimeSources {
            tool_cache: env
                .get("RUNNER_TOOL_CACHE")
                .map(PathBuf::from)
                .filter(|dir| dir.is_dir()),
            cache_dir,
            npm_registry: format!("{}/", registry.trim().trim_end_matches('/')),
            python_mirror: env
                .get("LAMBDA_PIPELINE_PYTHON_MIRROR")
                .map(|m| m.trim().trim_end_matches('/').to_owned())
                .filter(|m| !m.is_empty()),
            python_downloads: env
                .get("LAMBDA_PIPELINE_PYTHON_DOWNLOADS")
                .map(PathBuf::from),
            arch: std::env::consts::ARCH.to_owned(),
        }
    }
}

/// `registry=<url>` from an `.npmrc`, as npm reads it (`key = value`, `;` and `#` comments).
fn npmrc_registry(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with(';') && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == "registry")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_registry_as_npm_is_configured() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("HOME", "/nonexistent")]);
        assert_eq!(
            RuntimeSources::resolve(&env, dir.path()).npm_registry,
            DEFAULT_NPM_REGISTRY
        );
        std::fs::write(
            dir.path().join(".npmrc"),
            "; comment\nregistry = http://127.0.0.1:4873\n",
        )
        .unwrap();
        assert_eq!(
            RuntimeSources::resolve(&env, dir.path()).npm_registry,
            "http://127.0.0.1:4873/"
        );
        let env = Env::from_pairs([
            ("HOME", "/nonexistent"),
            ("NPM_CONFIG_REGISTRY", "http://mirror/npm/"),
        ]);
        assert_eq!(
            RuntimeSources::resolve(&env, dir.path()).npm_registry,
            "http://mirror/npm/"
        );
    }

    #[test]
    fn the_cache_follows_home_and_the_tool_cache_must_exist() {
        let env = Env::from_pairs([
            ("HOME", "/github/home"),
            ("RUNNER_TOOL_CACHE", "/opt/not-mounted"),
        ]);
        let sources = RuntimeSources::resolve(&env, Path::new("/"));
        assert_eq!(
            sources.cache_dir,
            Path::new("/github/home/.cache/lambda-pipeline/runtimes")
        );
        assert_eq!(sources.tool_cache, None);
    }
}
