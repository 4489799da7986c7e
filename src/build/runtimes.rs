//! `runtime-versions` (spec §9). With CodeBuild's runtime manifest in the image, the selected
//! version's commands run at the start of INSTALL, as CodeBuild does. Without it, the runtime
//! that is actually installed is detected and compared with the request: a mismatch is a
//! warning naming both versions, or an error with `strict-runtime-versions`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::base::Phase;
use crate::base::diagnostic;
use crate::base::yaml::{self, Kind, Node};
use crate::buildspec::Buildspec;

/// What runtime selection decided before INSTALL.
#[derive(Debug, Default)]
pub struct RuntimePlan {
    /// Commands to run at the start of INSTALL, with the runtime they select.
    pub commands: Vec<String>,
    /// Extra variables (`VERSION` for a manifest's `default` entry).
    pub warnings: Vec<String>,
}

/// Resolves every requested runtime. `Err` fails the build before INSTALL.
pub fn plan(
    spec: &Buildspec,
    env: &BTreeMap<String, String>,
    manifest_path: &Path,
    strict: bool,
) -> Result<RuntimePlan, String> {
    let Some(install) = spec.phase(Phase::Install) else {
        return Ok(RuntimePlan::default());
    };
    if install.runtime_versions.is_empty() {
        return Ok(RuntimePlan::default());
    }
    let mut plan = RuntimePlan::default();
    let manifest = std::fs::read_to_string(manifest_path)
        .ok()
        .and_then(|text| yaml::parse(&text).ok());
    for (runtime, version) in &install.runtime_versions {
        let requested = expand(&version.value, env);
        let located = |message: &str| {
            diagnostic::render("error", message, &spec.file, &spec.source, version.span)
        };
        match &manifest {
            Some(manifest) => {
                let commands = manifest_commands(manifest, &runtime.value, &requested).ok_or_else(|| {
                    located(&format!(
                        "runtime `{}` version `{requested}` is not available in this image's runtime manifest",
                        runtime.value
                    ))
                })?;
                plan.commands.extend(commands);
            }
            None => match detect(&runtime.value) {
                Some(installed) if matches(&requested, &installed) => {}
                Some(installed) => {
                    let message = format!(
                        "runtime-versions asks for {} {requested}, but this image has {} {installed}",
                        runtime.value, runtime.value
                    );
                    if strict {
                        return Err(located(&message));
                    }
                    plan.warnings.push(message);
                }
                None => {
                    let message = format!(
                        "runtime-versions asks for {} {requested}, but {} is not installed in this image",
                        runtime.value, runtime.value
                    );
                    if strict {
                        return Err(located(&message));
                    }
                    plan.warnings.push(message);
                }
            },
        }
    }
    if manifest.is_none() {
        // CodeBuild's own notice for images without the manifest (spec C49c), always first.
        let outcome = if plan.warnings.is_empty() {
            "the installed runtimes match"
        } else {
            "the installed runtimes were compared instead"
        };
        plan.warnings.insert(
            0,
            format!("Skipping install of runtimes. Runtime version selection is not supported by this build image; {outcome}"),
        );
    }
    Ok(plan)
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
