//! `runtime-versions` honoured as CodeBuild honours them (issue 13): python 3.9 and nodejs 22
//! from a runner tool cache the test builds, or installed on demand from a registry and a
//! mirror the test serves on 127.0.0.1 (checksums verified, the install cached for the next
//! build), the selection first on `PATH` for every later command, and a clear warning (or
//! error, with `strict-runtime-versions`) when nothing has the version.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use crate::harness::file_server::{FileServer, tar_gz};
use crate::harness::{Output, Test};

const BUILDSPEC: &str = r#"version: 0.2
phases:
  install:
    runtime-versions:
      python: 3.9
      nodejs: 22
  build:
    commands:
      - python --version
      - python3 --version
      - pip --version
      - pip3 --version
      - node --version
      - npm --version
      - npx --version
      - corepack --version
"#;

/// The tool cache's and npm's name for this machine's architecture.
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => panic!("no runtime packages for {other}"),
    }
}

fn script(text: &str) -> Vec<u8> {
    format!("#!/bin/sh\n{text}\n").into_bytes()
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, script(text)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A tool cache as setup-python and setup-node leave it, with stand-ins that print versions.
fn tool_cache(root: &Path) {
    let arch = arch();
    for (tool, version, bins) in [
        (
            "Python",
            "3.9.25",
            vec![
                ("python", "echo Python 3.9.25 from-tool-cache"),
                ("python3", "echo Python 3.9.25 from-tool-cache"),
                ("pip", "echo pip 23.0 from-tool-cache"),
                ("pip3", "echo pip 23.0 from-tool-cache"),
            ],
        ),
        ("Python", "3.12.4", vec![("python3", "echo Python 3.12.4")]),
        (
            "node",
            "22.4.1",
            vec![
                ("node", "echo v22.4.1-from-tool-cache"),
                ("npm", "echo 10.8.1-from-tool-cache"),
                ("npx", "echo 10.8.1-from-tool-cache"),
                ("corepack", "echo 0.28.2-from-tool-cache"),
            ],
        ),
        // Incomplete (no `x64.complete`): never used.
        ("node", "22.9.0", vec![("node", "echo incomplete")]),
    ] {
        let dir = root.join(tool).join(version);
        for (name, text) in bins {
            write_executable(&dir.join(arch).join("bin").join(name), text);
        }
        if version != "22.9.0" {
            std::fs::write(dir.join(format!("{arch}.complete")), "").unwrap();
        }
    }
}

fn lines(out: &Output) -> Vec<String> {
    out.command_output()
}

#[test]
fn python_3_9_and_nodejs_22_come_from_the_runner_tool_cache() {
    let test = Test::new().buildspec(BUILDSPEC);
    let cache = test.dir.path().join("toolcache");
    tool_cache(&cache);
    let out = test
        .env("RUNNER_TOOL_CACHE", cache.to_str().unwrap())
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        lines(&out),
        [
            "Python 3.9.25 from-tool-cache",
            "Python 3.9.25 from-tool-cache",
            "pip 23.0 from-tool-cache",
            "pip 23.0 from-tool-cache",
            "v22.4.1-from-tool-cache",
            "10.8.1-from-tool-cache",
            "10.8.1-from-tool-cache",
            "0.28.2-from-tool-cache",
        ],
        "{out}"
    );
    let said = |text: &str| out.stdout.matches(text).count();
    assert_eq!(
        said(
            "Selecting 'python' runtime version '3.9' based on manual selections... python 3.9.25 from the runner's tool cache"
        ),
        1,
        "{out}"
    );
    assert_eq!(
        said(
            "Selecting 'nodejs' runtime version '22' based on manual selections... nodejs 22.4.1 from the runner's tool cache"
        ),
        1,
        "{out}"
    );
    assert!(
        out.report()["warnings"].as_array().unwrap().is_empty(),
        "{out}"
    );
}

#[test]
fn three_x_and_latest_pick_the_newest_in_the_tool_cache() {
    let test = Test::new().buildspec(
        "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.x\n      nodejs: latest\n  build:\n    commands:\n      - python3 --version\n      - node --version\n",
    );
    let cache = test.dir.path().join("toolcache");
    tool_cache(&cache);
    let out = test
        .env("RUNNER_TOOL_CACHE", cache.to_str().unwrap())
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        lines(&out),
        ["Python 3.12.4", "v22.4.1-from-tool-cache"],
        "{out}"
    );
}

/// A registry and a python mirror on 127.0.0.1 with small stand-ins for node 22.4.1 (and
/// 20.1.0), npm 10.8.1, corepack 0.30.0 and python 3.9.25. Returns the server and the
/// `LAMBDA_PIPELINE_PYTHON_DOWNLOADS` file.
struct Mirror {
    server: FileServer,
    downloads: PathBuf,
}

const NODE_TGZ: &str = "/node-linux-ARCH/-/node-linux-ARCH-22.4.1.tgz";
const PYTHON_TGZ: &str = "/pbs/20251031/cpython-3.9.25+20251031-install_only_stripped.tar.gz";

fn integrity(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

fn hex_sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Mirror {
    fn start(dir: &Path, python_sha256: Option<&str>) -> Mirror {
        let server = FileServer::start();
        let arch = arch();
        let node_tgz = NODE_TGZ.replace("ARCH", arch);
        let node = tar_gz(&[
            ("package/bin/node", 0o755, &script("echo v22.4.1-on-demand")),
            ("package/LICENSE", 0o644, b"MIT"),
        ]);
        let old_node = tar_gz(&[("package/bin/node", 0o755, &script("echo v20.1.0"))]);
        // npm ships its scripts without execute bits; they are made executable on install.
        let npm = tar_gz(&[
            (
                "package/bin/npm-cli.js",
                0o644,
                &script("echo 10.8.1-on-demand"),
            ),
            (
                "package/bin/npx-cli.js",
                0o644,
                &script("echo npx-10.8.1-on-demand"),
            ),
        ]);
        let corepack = tar_gz(&[(
            "package/dist/corepack.js",
            0o644,
            &script("echo 0.30.0-on-demand"),
        )]);
        let packument = |name: &str, versions: &[(&str, &str, &[u8])]| {
            let mut map = serde_json::Map::new();
            for (version, path, bytes) in versions {
                map.insert(
                    (*version).to_owned(),
                    json!({"name": name, "version": version, "dist": {"tarball": server.url(path), "integrity": integrity(bytes)}}),
                );
            }
            json!({"name": name, "versions": map}).to_string()
        };
        let node_name = format!("node-linux-{arch}");
        let old_path = format!("/{node_name}/-/{node_name}-20.1.0.tgz");
        server.put(
            &format!("/{node_name}"),
            packument(
                &node_name,
                &[
                    ("22.4.1", &node_tgz, &node),
                    ("20.1.0", &old_path, &old_node),
                ],
            ),
        );
        server.put(&node_tgz, node.clone());
        server.put(&old_path, old_node.clone());
        server.put(
            "/npm",
            packument(
                "npm",
                &[
                    ("10.8.1", "/npm/-/npm-10.8.1.tgz", &npm),
                    ("11.0.0", "/npm/-/npm-11.0.0.tgz", b"x"),
                ],
            ),
        );
        server.put("/npm/-/npm-10.8.1.tgz", npm);
        server.put(
            "/corepack",
            packument(
                "corepack",
                &[("0.30.0", "/corepack/-/corepack-0.30.0.tgz", &corepack)],
            ),
        );
        server.put("/corepack/-/corepack-0.30.0.tgz", corepack);

        let python = tar_gz(&[
            (
                "python/bin/python3",
                0o755,
                &script("echo Python 3.9.25 on-demand"),
            ),
            ("python/bin/pip3", 0o755, &script("echo pip 25.0 on-demand")),
        ]);
        server.put(PYTHON_TGZ, python.clone());
        let sha256 = python_sha256.map_or_else(|| hex_sha256(&python), str::to_owned);
        // The list names the real release host; the mirror setting redirects it here.
        let downloads = dir.join("python-downloads.json");
        let url = format!(
            "https://github.com/astral-sh/python-build-standalone/releases/download{}",
            PYTHON_TGZ.trim_start_matches("/pbs")
        );
        std::fs::write(
            &downloads,
            json!([
                {"version": "3.9.25", "arch": std::env::consts::ARCH, "url": url, "sha256": sha256},
                {"version": "3.12.9", "arch": std::env::consts::ARCH, "url": "https://example.invalid/x", "sha256": "00"},
            ])
            .to_string(),
        )
        .unwrap();
        Mirror { server, downloads }
    }

    fn configure(&self, test: Test, cache: &Path) -> Test {
        test.env("NPM_CONFIG_REGISTRY", &self.server.url("/"))
            .env("LAMBDA_PIPELINE_PYTHON_MIRROR", &self.server.url("/pbs"))
            .env(
                "LAMBDA_PIPELINE_PYTHON_DOWNLOADS",
                self.downloads.to_str().unwrap(),
            )
            .env("LAMBDA_PIPELINE_RUNTIMES_CACHE", cache.to_str().unwrap())
    }

    fn tarball_hits(&self) -> usize {
        self.server
            .all_hits()
            .iter()
            .filter(|p| p.ends_with(".tgz") || p.ends_with(".tar.gz"))
            .count()
    }
}

#[test]
fn on_demand_installs_are_verified_put_first_on_path_and_cached_for_the_next_build() {
    let shared = tempfile::tempdir().unwrap();
    let mirror = Mirror::start(shared.path(), None);
    let cache = shared.path().join("runtimes");

    let first = mirror
        .configure(Test::new().buildspec(BUILDSPEC), &cache)
        .arg("build")
        .run();
    assert_eq!(first.code, 0, "{first}");
    assert_eq!(
        lines(&first),
        [
            "Python 3.9.25 on-demand",
            "Python 3.9.25 on-demand",
            "pip 25.0 on-demand",
            "pip 25.0 on-demand",
            "v22.4.1-on-demand",
            "10.8.1-on-demand",
            "npx-10.8.1-on-demand",
            "0.30.0-on-demand",
        ],
        "{first}"
    );
    assert!(
        first.stdout.contains(
            "Selecting 'python' runtime version '3.9' based on manual selections... python 3.9.25 from installed on demand"
        ),
        "{first}"
    );
    assert!(first.stdout.contains("checksum verified"), "{first}");
    let node_tgz = NODE_TGZ.replace("ARCH", arch());
    assert_eq!(mirror.server.hits(&node_tgz), 1);
    assert_eq!(mirror.server.hits(PYTHON_TGZ), 1);
    assert_eq!(
        mirror.tarball_hits(),
        4,
        "node, npm, corepack, python: {:?}",
        mirror.server.all_hits()
    );

    // The next build of the job: everything from the cache, nothing downloaded or asked.
    let before = mirror.server.all_hits().len();
    let second = mirror
        .configure(Test::new().buildspec(BUILDSPEC), &cache)
        .arg("build")
        .run();
    assert_eq!(second.code, 0, "{second}");
    assert_eq!(lines(&second), lines(&first), "{second}");
    assert_eq!(
        mirror.server.all_hits().len(),
        before,
        "a second download: {:?}",
        mirror.server.all_hits()
    );
    assert!(
        second
            .stdout
            .contains("python 3.9.25 from the cache of on-demand installs"),
        "{second}"
    );
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let shared = tempfile::tempdir().unwrap();
    let mirror = Mirror::start(shared.path(), Some(&"0".repeat(64)));
    let cache = shared.path().join("runtimes");
    let spec = "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.9\n  build:\n    commands:\n      - python3 --version\n";
    let out = mirror
        .configure(Test::new().buildspec(spec), &cache)
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "a warning, as for any unmet request: {out}");
    let warnings = out.report()["warnings"].to_string();
    assert!(
        warnings.contains("does not match its published checksum")
            && warnings.contains("runtime-versions asks for python 3.9"),
        "{out}"
    );
    assert!(
        !lines(&out).iter().any(|l| l.contains("on-demand")),
        "{out}"
    );
    let leftovers: Vec<_> = walkdir::WalkDir::new(&cache)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("3.9.25"))
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let strict = mirror
        .configure(Test::new().buildspec(spec), &cache)
        .input("strict-runtime-versions", "true")
        .env("LAMBDA_PIPELINE_RUNTIMES_FILE", "/nonexistent/runtimes.yml")
        .arg("build")
        .run();
    assert_eq!(strict.code, 1, "{strict}");
    assert_eq!(
        strict.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED")
    );
    assert!(strict.stderr.contains("buildspec.yml:5:15"), "{strict}");
}

#[test]
fn a_runtime_without_an_on_demand_source_names_what_is_missing() {
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  install:\n    runtime-versions:\n      java: corretto11\n  build:\n    commands: [ 'true' ]\n")
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let warnings = out.report()["warnings"].to_string();
    assert!(
        warnings.contains("runtime-versions asks for java corretto11")
            && warnings.contains("host mode"),
        "{out}"
    );
}

#[test]
fn a_command_that_exits_127_gets_one_hint_naming_the_tool() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  pre_build:\n    on-failure: CONTINUE\n    commands:\n      - sam-xyz-not-a-tool --version\n  build:\n    commands:\n      - mvn-xyz-not-a-tool package\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 1, "{out}");
    let warnings: Vec<String> = out.report()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect();
    let hints: Vec<&String> = warnings.iter().filter(|w| w.starts_with("hint:")).collect();
    assert_eq!(hints.len(), 1, "{warnings:?}");
    assert!(
        hints[0].contains("`sam-xyz-not-a-tool` is not installed here (exit status 127)")
            && hints[0].contains("host mode"),
        "{hints:?}"
    );
    assert_eq!(out.stdout.matches("hint: `").count(), 1, "{out}");
}
