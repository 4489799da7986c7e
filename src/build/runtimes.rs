//! `runtime-versions` (spec §9). With CodeBuild's runtime manifest in the image, the selected
//! version's commands run at the start of INSTALL, as CodeBuild does. Without it, python and
//! nodejs are selected as CodeBuild selects among its installed runtimes, from these sources
//! in order: the runner's tool cache, earlier on-demand installs, the image's own runtime when
//! it matches, a new on-demand install (`provision`). The selection goes first on `PATH`.
//! Other runtimes, and requests no source can meet, are compared with what is installed: a
//! mismatch is a warning naming both versions and what is missing, or an error with
//! `strict-runtime-versions`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::provision::{self, Fetcher, Request};
use crate::base::Phase;
use crate::base::diagnostic;
use crate::base::yaml::{self, Kind, Node};
use crate::buildspec::Buildspec;
use crate::settings::BuildSettings;

/// What runtime selection decided before INSTALL.
#[derive(Debug, Default)]
pub struct RuntimePlan {
    /// Commands to run at the start of INSTALL, with the runtime they select.
    pub commands: Vec<String>,
    pub warnings: Vec<String>,
    /// One line per selected runtime, as CodeBuild prints its selection.
    pub notes: Vec<String>,
    /// Directories to put first on the build's `PATH`, in order.
    pub path: Vec<PathBuf>,
}

/// Resolves every requested runtime. `Err` fails the build before INSTALL.
pub async fn plan(
    spec: &Buildspec,
    env: &BTreeMap<String, String>,
    settings: &BuildSettings,
) -> Result<RuntimePlan, String> {
    let strict = settings.strict_runtime_versions;
    let Some(install) = spec.phase(Phase::Install) else {
        return Ok(RuntimePlan::default());
    };
    if install.runtime_versions.is_empty() {
        return Ok(RuntimePlan::default());
    }
    let mut plan = RuntimePlan::default();
    let manifest = std::fs::read_to_string(&settings.runtimes_manifest)
        .ok()
        .and_then(|text| yaml::parse(&text).ok());
    let fetcher = Fetcher::new();
    for (runtime, version) in &install.runtime_versions {
        let requested = expand(&version.value, env);
        let located = |message: &str| {
            diagnostic::render("error", message, &spec.file, &spec.source, version.span)
        };
        if let Some(manifest) = &manifest {
            let commands = manifest_commands(manifest, &runtime.value, &requested).ok_or_else(|| {
                located(&format!(
                    "runtime `{}` version `{requested}` is not available in this image's runtime manifest",
                    runtime.value
                ))
            })?;
            plan.commands.extend(commands);
            continue;
        }
        let selection = format!(
            "Selecting '{}' runtime version '{requested}' based on manual selections...",
            runtime.value
        );
        match select(&runtime.value, &requested, settings, &fetcher).await {
            Selection::Chosen(chosen) => {
                plan.notes
                    .push(format!("{selection} {}", chosen.describe()));
                plan.path.extend(chosen.path);
            }
            Selection::Installed(installed) => {
                plan.notes.push(format!(
                    "{selection} {} {installed}, installed in this image",
                    runtime.value
                ));
            }
            Selection::Unmet(message) => {
                if strict {
                    return Err(located(&message));
                }
                plan.warnings.push(message);
            }
        }
    }
    Ok(plan)
}

/// How one request was met.
enum Selection {
    Chosen(provision::Selected),
    /// The image's own runtime matches (no `PATH` change).
    Installed(String),
    /// Nothing matches: the message names what is missing.
    Unmet(String),
}

async fn select(
    runtime: &str,
    requested: &str,
    settings: &BuildSettings,
    fetcher: &Fetcher,
) -> Selection {
    let sources = &settings.runtimes;
    let installed = detect(runtime);
    let on_demand = provision::ON_DEMAND.contains(&runtime);
    let request = Request::parse(requested).filter(|_| on_demand);
    let mut missing = Vec::new();
    if let Some(request) = &request {
        match provision::find_local(runtime, request, sources) {
            Ok(Some(found)) => return Selection::Chosen(found),
            Ok(None) => {}
            Err(err) => missing.push(format!("the cache could not be used ({err})")),
        }
    }
    if let Some(installed) = &installed
        && matches(requested, installed)
    {
        return Selection::Installed(installed.clone());
    }
    if let Some(request) = &request {
        match provision::install(runtime, request, sources, fetcher).await {
            Ok(found) => return Selection::Chosen(found),
            Err(err) => missing.push(format!("installing it on demand failed: {err}")),
        }
    } else if !on_demand {
        missing.push(format!(
            "{runtime} is not installed on demand (python and nodejs are); host mode (`OWNER/lambda-pipeline/host@v1`) runs the build on the runner, whose tool cache has it, or install it in the install phase"
        ));
    }
    let have = match &installed {
        Some(installed) => format!("this image has {runtime} {installed}"),
        None => format!("{runtime} is not installed in this image"),
    };
    let mut message = format!("runtime-versions asks for {runtime} {requested}, but {have}");
    if !missing.is_empty() {
        message.push_str("; ");
        message.push_str(&missing.join("; "));
    }
    Selection::Unmet(message)
}

fn expand(value: &str, env: &BTreeMap<String, String>) -> String {
    let name = value
        .trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}');
    if value.starts_with('$') {
        env.get(name).cloned().unwrap_or_default()
    } else {
        value.to_owned()
    }
}

/// `3.9` matches `3.9.18`; `3.x` matches any 3; `latest` matches anything; `18` matches `18.20.1`.
pub fn matches(requested: &str, installed: &str) -> bool {
    let requested = requested.trim().trim_start_matches('v');
    if requested == "latest" {
        return true;
    }
    let wanted: Vec<&str> = requested.split('.').filter(|part| *part != "x").collect();
    let have: Vec<&str> = installed.trim_start_matches('v').split('.').collect();
    wanted.len() <= have.len() && wanted.iter().zip(&have).all(|(w, h)| w == h)
}

/// The installed version of `runtime`, or `None` when it is absent.
fn detect(runtime: &str) -> Option<String> {
    let (program, args): (&str, &[&str]) = match runtime {
        "python" => ("python3", &["--version"]),
        "nodejs" => ("node", &["--version"]),
        "java" | "corretto" => ("java", &["-version"]),
        "golang" => ("go", &["version"]),
        "ruby" => ("ruby", &["--version"]),
        "dotnet" => ("dotnet", &["--version"]),
        "php" => ("php", &["--version"]),
        _ => return None,
    };
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    version_in(&text)
}

/// The first `digits(.digits)*` run in `text`.
fn version_in(text: &str) -> Option<String> {
    let re = regex::Regex::new(r"\d+(?:\.\d+)+|\d+").ok()?;
    re.find(text).map(|m| m.as_str().to_owned())
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// The manifest's commands for `runtime` at `requested`: an exact key, `<major>.x` or
/// `latest` among the keys, else the `default` entry with `VERSION` set.
fn manifest_commands(manifest: &Node, runtime: &str, requested: &str) -> Option<Vec<String>> {
    let root = get(manifest, "runtimes").unwrap_or(manifest);
    let versions = get(get(root, runtime)?, "versions")?;
    let Kind::Map(entries) = &versions.kind else {
        return None;
    };
    let keys: Vec<&str> = entries
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .filter(|k| *k != "default")
        .collect();
    let chosen = if keys.contains(&requested) {
        Some(requested.to_owned())
    } else if requested == "latest" || requested.ends_with(".x") {
        keys.iter()
            .filter(|k| matches(requested, k))
            .max_by(|a, b| compare_versions(a, b))
            .map(|k| (*k).to_owned())
    } else {
        None
    };
    let (entry, prefix) = match chosen {
        Some(key) => (get(versions, &key)?, String::new()),
        None => (
            get(versions, "default")?,
            format!("VERSION={}; ", super::shell::quote(requested)),
        ),
    };
    let commands = get(entry, "commands")?;
    let Kind::Seq(items) = &commands.kind else {
        return None;
    };
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    if !prefix.is_empty() {
        out.insert(0, prefix.trim_end_matches("; ").to_owned());
    }
    Some(out)
}

fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a).cmp(&parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matching() {
        assert!(matches("3.9", "3.9.18"));
        assert!(!matches("3.9", "3.11.7"));
        assert!(matches("3.x", "3.11.7"));
        assert!(matches("18", "18.20.1"));
        assert!(matches("latest", "1.0"));
        assert!(!matches("3.10", "3.1.0"));
    }

    #[test]
    fn manifest_lookup() {
        let manifest = yaml::parse(
            "runtimes:\n  nodejs:\n    versions:\n      18:\n        commands:\n          - echo node18\n      20:\n        commands:\n          - echo node20\n      default:\n        commands:\n          - echo custom $VERSION\n",
        )
        .unwrap();
        assert_eq!(
            manifest_commands(&manifest, "nodejs", "18").unwrap(),
            vec!["echo node18"]
        );
        assert_eq!(
            manifest_commands(&manifest, "nodejs", "latest").unwrap(),
            vec!["echo node20"]
        );
        assert_eq!(
            manifest_commands(&manifest, "nodejs", "99").unwrap(),
            vec!["VERSION='99'", "echo custom $VERSION"]
        );
        assert!(manifest_commands(&manifest, "python", "3.9").is_none());
    }
}
