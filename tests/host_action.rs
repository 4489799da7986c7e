//! Host mode (`host/action.yml` and `host/run.sh`): the same inputs and outputs as the
//! container action, every input passed to the binary, the release pinned to the crate's
//! version; and the script run against a release served on 127.0.0.1 (the real binary in a
//! tarball with its SHA256SUMS), including a checksum mismatch that must run nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use sha2::Digest as _;

use crate::harness::file_server::{FileServer, tar_gz};
use crate::harness::repo_path;

#[derive(Debug, Deserialize)]
struct Action {
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, Output>,
    runs: Runs,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Input {
    description: String,
    #[serde(default)]
    required: bool,
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Output {
    description: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Runs {
    using: String,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    id: Option<String>,
    run: Option<String>,
    shell: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn read(path: &str) -> Action {
    let text = std::fs::read_to_string(repo_path(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn crate_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[test]
fn host_action_has_the_container_action_s_inputs_and_outputs() {
    let container = read("action.yml");
    let host = read("host/action.yml");
    assert_eq!(host.runs.using, "composite");
    assert_eq!(
        host.inputs.keys().collect::<Vec<_>>(),
        container.inputs.keys().collect::<Vec<_>>(),
        "host/action.yml must declare the container action's inputs, in the same order"
    );
    for (name, input) in &container.inputs {
        assert_eq!(&host.inputs[name], input, "input `{name}` differs");
    }
    assert_eq!(
        host.outputs.keys().collect::<Vec<_>>(),
        container.outputs.keys().collect::<Vec<_>>()
    );
    let [step] = host.runs.steps.as_slice() else {
        panic!("one step expected: {:?}", host.runs.steps);
    };
    let id = step
        .id
        .as_deref()
        .expect("the step needs an id for the outputs");
    for (name, output) in &container.outputs {
        assert_eq!(
            host.outputs[name].description, output.description,
            "output `{name}`"
        );
        assert_eq!(
            host.outputs[name].value.as_deref(),
            Some(format!("${{{{ steps.{id}.outputs.{name} }}}}").as_str()),
            "output `{name}` must come from the step"
        );
    }
    // Every input reaches the binary, as the runner would pass it to the container.
    for name in container.inputs.keys() {
        let variable = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        assert_eq!(
            step.env.get(&variable).map(String::as_str),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "input `{name}` is not passed as {variable}"
        );
    }
    assert_eq!(step.shell.as_deref(), Some("bash"));
    assert!(step.run.as_deref().unwrap_or_default().contains("run.sh"));
    assert_eq!(
        step.env.get("LAMBDA_PIPELINE_VERSION").map(String::as_str),
        Some(crate_version()),
        "host/action.yml must run the release of this version"
    );
}

#[test]
fn the_release_workflow_publishes_what_run_sh_downloads() {
    let workflow = std::fs::read_to_string(repo_path(".github/workflows/release.yml")).unwrap();
    for needle in [
        "SHA256SUMS",
        "lambda-pipeline-$version-$target.tar.gz",
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "gh release upload",
    ] {
        assert!(
            workflow.contains(needle),
            "release.yml does not mention `{needle}`"
        );
    }
}

fn target() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-gnu",
        "aarch64" => "aarch64-unknown-linux-gnu",
        other => panic!("no release for {other}"),
    }
}

fn runner_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "X64",
        _ => "ARM64",
    }
}

/// A release of the real binary on 127.0.0.1: `v<version>/<asset>` and `SHA256SUMS`, the
/// latter giving `sums_for` as the asset's digest when set.
fn release(sums_for: Option<&str>) -> (FileServer, String) {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_lambda-pipeline")).unwrap();
    let asset = format!("lambda-pipeline-{}-{}.tar.gz", crate_version(), target());
    let tarball = tar_gz(&[("lambda-pipeline", 0o755, &binary)]);
    let digest: String = sha2::Sha256::digest(&tarball)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let server = FileServer::start();
    let dir = format!("/releases/v{}", crate_version());
    server.put(&format!("{dir}/{asset}"), tarball);
    server.put(
        &format!("{dir}/SHA256SUMS"),
        format!(
            "{}  {asset}\n{}  lambda-pipeline-{}-other.tar.gz\n",
            sums_for.unwrap_or(&digest),
            "0".repeat(64),
            crate_version()
        ),
    );
    (server, format!("{dir}/{asset}"))
}

/// Runs `host/run.sh` as the composite step would: inputs as `INPUT_*`.
fn run_script(server: &FileServer, runner: &Path, inputs: &[(&str, &str)]) -> std::process::Output {
    let workspace = runner.join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(
        workspace.join("buildspec.yml"),
        "version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\n",
    )
    .unwrap();
    let mut command = Command::new("bash");
    command
        .arg(repo_path("host/run.sh"))
        .current_dir(&workspace)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", runner)
        .env("LAMBDA_PIPELINE_VERSION", crate_version())
        .env("LAMBDA_PIPELINE_REPOSITORY", "octo/lambda-pipeline")
        .env("LAMBDA_PIPELINE_RELEASES", server.url("/releases"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", runner_arch())
        .env("RUNNER_TOOL_CACHE", runner.join("toolcache"))
        .env("GITHUB_WORKSPACE", &workspace);
    for (name, value) in inputs {
        command.env(
            format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
            value,
        );
    }
    command.output().expect("bash is required")
}

fn text(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn run_sh_downloads_verifies_and_runs_the_release_binary() {
    let (server, asset) = release(None);
    let runner = tempfile::tempdir().unwrap();
    let output = run_script(&server, runner.path(), &[("command", "validate")]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("SHA-256") && shown.contains("verified"),
        "{shown}"
    );
    assert!(
        shown.contains("buildspec.yml: valid (version 0.2"),
        "{shown}"
    );
    assert_eq!(server.hits(&asset), 1);

    // The next step of the job runs the kept binary without downloading it again.
    let again = run_script(&server, runner.path(), &[("command", "validate")]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(server.hits(&asset), 1, "downloaded twice");
}

#[test]
fn run_sh_refuses_a_checksum_mismatch_and_runs_nothing() {
    let (server, asset) = release(Some(&"ab".repeat(32)));
    let runner = tempfile::tempdir().unwrap();
    let output = run_script(&server, runner.path(), &[("command", "validate")]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(shown.contains("checksum mismatch"), "{shown}");
    assert!(!shown.contains("valid (version"), "the binary ran: {shown}");
    assert_eq!(server.hits(&asset), 1);
    let kept: Vec<_> = walkdir::WalkDir::new(runner.path().join("toolcache"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(kept.is_empty(), "nothing may be kept: {kept:?}");
}

#[test]
fn run_sh_names_an_unsupported_runner() {
    let (server, _) = release(None);
    let mut command = Command::new("bash");
    command
        .arg(repo_path("host/run.sh"))
        .env("LAMBDA_PIPELINE_VERSION", crate_version())
        .env("LAMBDA_PIPELINE_RELEASES", server.url("/releases"))
        .env("RUNNER_OS", "Windows")
        .env("RUNNER_ARCH", "X64");
    let output = command.output().unwrap();
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("host mode runs on Linux runners; this runner is Windows"),
        "{shown}"
    );
}
