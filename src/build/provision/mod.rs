//! Runtimes for `runtime-versions` on an image without CodeBuild's manifest: found in the
//! runner's tool cache (`<Tool>/<version>/<arch>/` with `<arch>.complete`, as
//! `actions/setup-python` and `setup-node` fill it), in the cache of earlier on-demand
//! installs, or installed on demand with checksums verified (nodejs from the npm registry's
//! `node-linux-<arch>` packages, python from python-build-standalone). A selection is a
//! directory of links (`python`, `python3`, `pip`, `pip3` or `node`, `npm`, `npx`,
//! `corepack`) that goes first on the build's `PATH`.
//! Owns: the cache directory and the links. Must not: print, run build commands.

pub mod fetch;
mod node;
mod python;
pub mod version;

use std::path::{Path, PathBuf};

use crate::settings::RuntimeSources;
pub use fetch::Fetcher;
pub use version::{Request, Version};

/// The runtimes installed on demand.
pub const ON_DEMAND: [&str; 2] = ["python", "nodejs"];

/// Where a selected runtime came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    ToolCache,
    /// Installed on demand by an earlier build of this job.
    Cached,
    /// Installed on demand now: how many bytes were downloaded.
    Downloaded {
        bytes: u64,
    },
}

/// A runtime chosen for the build.
#[derive(Debug, Clone)]
pub struct Selected {
    pub runtime: String,
    pub version: Version,
    /// The runtime's own directory (`…/3.9.25/x64`).
    pub home: PathBuf,
    pub source: Source,
    /// The directories to put first on `PATH`: the links, then the runtime's `bin`.
    pub path: Vec<PathBuf>,
}

impl Selected {
    pub fn describe(&self) -> String {
        let from = match &self.source {
            Source::ToolCache => "the runner's tool cache".to_owned(),
            Source::Cached => "the cache of on-demand installs".to_owned(),
            Source::Downloaded { bytes } => format!(
                "installed on demand ({:.1} MB, checksum verified)",
                *bytes as f64 / 1e6
            ),
        };
        format!(
            "{} {} from {from}, {}",
            self.runtime,
            self.version,
            self.home.display()
        )
    }
}

/// The tool cache's name for a runtime, and for this machine's architecture.
fn tool_cache_names(runtime: &str, arch: &str) -> Option<(&'static str, &'static str)> {
    let tool = match runtime {
        "python" => "Python",
        "nodejs" => "node",
        _ => return None,
    };
    let arch = match arch {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        _ => return None,
    };
    Some((tool, arch))
}

/// A runtime already on this machine: the runner's tool cache first, then earlier on-demand
/// installs. No network.
pub fn find_local(
    runtime: &str,
    request: &Request,
    sources: &RuntimeSources,
) -> std::io::Result<Option<Selected>> {
    if let Some(found) = in_tool_cache(runtime, request, sources) {
        return link(found, sources).map(Some);
    }
    match in_cache(runtime, request, sources) {
        Some(found) => link(found, sources).map(Some),
        None => Ok(None),
    }
}

fn in_tool_cache(runtime: &str, request: &Request, sources: &RuntimeSources) -> Option<Selected> {
    let (tool, arch) = tool_cache_names(runtime, &sources.arch)?;
    let root = sources.tool_cache.as_ref()?.join(tool);
    let candidates = std::fs::read_dir(&root).ok()?.filter_map(|entry| {
        let entry = entry.ok()?;
        let version = Version::parse(&entry.file_name().to_string_lossy())?;
        let dir = entry.path();
        dir.join(format!("{arch}.complete"))
            .is_file()
            .then(|| (version, dir.join(arch)))
    });
    let (version, home) = newest(runtime, request, candidates)?;
    Some(Selected {
        runtime: runtime.to_owned(),
        version,
        home,
        source: Source::ToolCache,
        path: Vec::new(),
    })
}

/// `<cache>/<runtime>/<version>-<arch>/`, complete when `<version>-<arch>.complete` exists.
fn cache_home(sources: &RuntimeSources, runtime: &str, version: &Version) -> PathBuf {
    sources
        .cache_dir
        .join(runtime)
        .join(format!("{version}-{}", sources.arch))
}

fn complete_marker(home: &Path) -> PathBuf {
    let mut name = home.file_name().unwrap_or_default().to_owned();
    name.push(".complete");
    home.with_file_name(name)
}

fn in_cache(runtime: &str, request: &Request, sources: &RuntimeSources) -> Option<Selected> {
    let suffix = format!("-{}", sources.arch);
    let candidates = std::fs::read_dir(sources.cache_dir.join(runtime))
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = Version::parse(name.strip_suffix(&suffix)?)?;
            let home = entry.path();
            complete_marker(&home).is_file().then_some((version, home))
        });
    let (version, home) = newest(runtime, request, candidates)?;
    Some(Selected {
        runtime: runtime.to_owned(),
        version,
        home,
        source: Source::Cached,
        path: Vec::new(),
    })
}

/// The newest candidate the request accepts; `latest` on nodejs prefers an even (LTS) major.
fn newest(
    runtime: &str,
    request: &Request,
    candidates: impl Iterator<Item = (Version, PathBuf)>,
) -> Option<(Version, PathBuf)> {
    let all: Vec<(Version, PathBuf)> = candidates.collect();
    if request.latest && runtime == "nodejs" {
        let lts = all.iter().filter(|(v, _)| v.major() % 2 == 0).cloned();
        if let Some(found) = request.newest(lts) {
            return Some(found);
        }
    }
    request.newest(all)
}

/// Installs `runtime` on demand into the cache (unless a complete install of the resolved
/// version is there already) and links it.
pub async fn install(
    runtime: &str,
    request: &Request,
    sources: &RuntimeSources,
    fetcher: &Fetcher,
) -> Result<Selected, String> {
    let plan = match runtime {
        "nodejs" => node::resolve(request, sources, fetcher).await?,
        "python" => python::resolve(request, sources)?,
        other => return Err(format!("no on-demand source for `{other}`")),
    };
    let home = cache_home(sources, runtime, &plan.version);
    let mut selected = Selected {
        runtime: runtime.to_owned(),
        version: plan.version.clone(),
        home: home.clone(),
        source: Source::Cached,
        path: Vec::new(),
    };
    if !complete_marker(&home).is_file() {
        let partial = home.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        let bytes = match runtime {
            "nodejs" => node::install(&plan, &partial, sources, fetcher).await,
            _ => python::install(&plan, &partial, fetcher).await,
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&partial);
                return Err(err);
            }
        };
        let io = |e: std::io::Error| format!("cannot install into `{}`: {e}", home.display());
        let _ = std::fs::remove_dir_all(&home);
        fs_err::rename(&partial, &home).map_err(io)?;
        fs_err::write(complete_marker(&home), plan.version.to_string()).map_err(io)?;
        selected.source = Source::Downloaded { bytes };
    }
    link(selected, sources).map_err(|e| format!("cannot link {runtime}: {e}"))
}

/// What an on-demand source resolved a request to.
#[derive(Debug, Clone)]
struct Resolved {
    version: Version,
    url: String,
    checksum: fetch::Checksum,
}

/// The names each runtime puts on `PATH`, and the files in `bin` they may point at, in order
/// of preference.
fn link_names(runtime: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match runtime {
        "python" => &[
            ("python", &["python3", "python"]),
            ("python3", &["python3", "python"]),
            ("pip", &["pip3", "pip"]),
            ("pip3", &["pip3", "pip"]),
        ],
        _ => &[
            ("node", &["node"]),
            ("npm", &["npm"]),
            ("npx", &["npx"]),
            ("corepack", &["corepack"]),
        ],
    }
}

/// Makes `<cache>/links/<runtime>-<version>-<arch>/` and sets the selection's `PATH` entries.
fn link(mut selected: Selected, sources: &RuntimeSources) -> std::io::Result<Selected> {
    let bin = selected.home.join("bin");
    let links = sources.cache_dir.join("links").join(format!(
        "{}-{}-{}-{}",
        selected.runtime,
        selected.version,
        sources.arch,
        match selected.source {
            Source::ToolCache => "tool-cache",
            _ => "cache",
        }
    ));
    fs_err::create_dir_all(&links)?;
    for (name, targets) in link_names(&selected.runtime) {
        let Some(target) = targets.iter().map(|t| bin.join(t)).find(|t| t.exists()) else {
            continue;
        };
        let path = links.join(name);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(&target, &path)?;
    }
    selected.path = vec![links, bin];
    Ok(selected)
}
