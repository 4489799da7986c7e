//! Test support shared by every suite: the `Test` builder that runs the binary in a temporary
//! workspace, and its `Output`. Suites import helpers from here and never from each other:
//!
//! - `moto`: the shared (or an isolated) moto server;
//! - `aws`: AWS set-up and inspection against moto (the aws CLI, roles, functions, secrets);
//! - `github`: the fake GitHub REST API and the OpenAPI check of what it received;
//! - `faults`: the fault-injecting proxy in front of moto;
//! - `process`: child processes (pipes, waiting with a limit, pids);
//! - `assert`: assertions on a run's report;
//! - `provision`: the outside tools the tests need, installed on first use when missing.

#![allow(dead_code)]

pub mod assert;
pub mod aws;
pub mod faults;
pub mod file_server;
pub mod github;
pub mod moto;
pub mod process;
pub mod provision;
pub mod zip_function;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub use moto::Moto;

/// One run of the binary: a workspace, a buildspec, inputs, environment and arguments.
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    remove_env: Vec<String>,
    aws: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub workspace: PathBuf,
    pub report_path: PathBuf,
    pub outputs_path: PathBuf,
    pub summary_path: PathBuf,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    pub fn new() -> Test {
        let dir = tempfile::Builder::new()
            .prefix("lp-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("ws")).unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        Test {
            dir,
            args: Vec::new(),
            env: BTreeMap::new(),
            remove_env: Vec::new(),
            aws: false,
        }
    }

    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    /// Writes `buildspec.yml` in the workspace.
    pub fn buildspec(self, text: &str) -> Test {
        self.file("buildspec.yml", text)
    }

    /// Writes a file in the workspace, creating parent directories.
    pub fn file(self, path: &str, contents: &str) -> Test {
        let full = self.workspace().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
        self
    }

    pub fn arg(mut self, arg: &str) -> Test {
        self.args.push(arg.to_owned());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Test {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets an action input as the runner does: `INPUT_NAME-WITH-HYPHENS`.
    pub fn input(self, name: &str, value: &str) -> Test {
        let key = format!("INPUT_{}", name.to_uppercase());
        self.env(&key, value)
    }

    /// Points the AWS SDK and CLI at the shared moto server.
    pub fn aws(mut self) -> Test {
        self.aws = true;
        self
    }

    /// Runs inside a simulated GitHub Actions job: file commands in temp files.
    pub fn github_actions(self) -> Test {
        let files = self.dir.path().join("files");
        let ws = self.workspace();
        self.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", ws.to_str().unwrap())
            .env("GITHUB_OUTPUT", files.join("output").to_str().unwrap())
            .env(
                "GITHUB_STEP_SUMMARY",
                files.join("summary").to_str().unwrap(),
            )
            .env("GITHUB_STATE", files.join("state").to_str().unwrap())
            .env("GITHUB_ENV", files.join("env").to_str().unwrap())
            .env("GITHUB_REPOSITORY", "octo/hello")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_RUN_NUMBER", "7")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_REF_NAME", "main")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_JOB", "deploy")
            .env("GITHUB_ACTOR", "octocat")
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-pipeline"));
        command.current_dir(self.workspace());
        for (key, _) in std::env::vars() {
            if key.starts_with("INPUT_") || key.starts_with("GITHUB_") || key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command.env_remove("CI").env("RUST_BACKTRACE", "1");
        command.env("LAMBDA_PIPELINE_STATE_DIR", self.dir.path().join("state"));
        // runtime-versions installs nothing from the internet: a test that wants an on-demand
        // install serves a registry or mirror on 127.0.0.1 and says so with `env`.
        command.env(
            "LAMBDA_PIPELINE_RUNTIMES_CACHE",
            self.dir.path().join("runtimes"),
        );
        command.env("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/");
        command.env("LAMBDA_PIPELINE_PYTHON_MIRROR", "http://127.0.0.1:9");
        command.env_remove("RUNNER_TOOL_CACHE");
        if self.aws {
            for (key, value) in Moto::shared().env() {
                command.env(key, value);
            }
            // Buildspecs call `aws`; when the machine has none, the provisioned one.
            if let Some(dir) = provision::aws_cli_path_dir() {
                let path = std::env::var_os("PATH").unwrap_or_default();
                let paths = std::iter::once(dir).chain(std::env::split_paths(&path));
                command.env("PATH", std::env::join_paths(paths).unwrap());
            }
        } else {
            // Any AWS call fails fast instead of reaching out.
            command.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
            command.env("AWS_EC2_METADATA_DISABLED", "true");
            command.env("AWS_REGION", "us-east-1");
            command.env("AWS_ACCESS_KEY_ID", "testing");
            command.env("AWS_SECRET_ACCESS_KEY", "testing");
        }
        for name in &self.remove_env {
            command.env_remove(name);
        }
        command.envs(&self.env);
        command.args(&self.args);
        command
    }

    pub fn report_path(&self) -> PathBuf {
        self.dir.path().join("files").join("report.json")
    }

    /// Runs the binary with `--report-file` and waits.
    pub fn run(self) -> Output {
        let report_path = self.report_path();
        let mut command = self.command();
        command.arg(format!("--report-file={}", report_path.display()));
        command.stdin(Stdio::null());
        let output = command.output().expect("run lambda-pipeline");
        let files = self.dir.path().join("files");
        let out = Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            workspace: self.workspace(),
            report_path,
            outputs_path: files.join("output"),
            summary_path: files.join("summary"),
        };
        // Keep the temp dir alive for inspection through `out` paths.
        std::mem::forget(self.dir);
        out
    }
}

impl Output {
    /// The report file as JSON. Panics with the run's output when it is missing.
    pub fn report(&self) -> Value {
        let text = std::fs::read_to_string(&self.report_path)
            .unwrap_or_else(|e| panic!("no report file ({e}); {self}"));
        serde_json::from_str(&text).unwrap()
    }

    /// `(phase name, status)` for every phase in the report.
    pub fn phases(&self) -> Vec<(String, String)> {
        self.report()["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    pub fn phase_status(&self, name: &str) -> Option<String> {
        self.phases()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// Command output lines only: the lines the commands printed, without agent log lines.
    pub fn command_output(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|line| !line.starts_with("[Container]") && !line.starts_with("::"))
            .map(str::to_owned)
            .collect()
    }

    /// Step outputs written to `GITHUB_OUTPUT`, decoded from the file-command format.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(&self.outputs_path).unwrap_or_default();
        parse_file_commands(&text)
    }

    pub fn summary(&self) -> String {
        std::fs::read_to_string(&self.summary_path).unwrap_or_default()
    }

    pub fn workspace_file(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.workspace.join(path)).ok()
    }

    pub fn path(&self, path: &str) -> PathBuf {
        self.workspace.join(path)
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Decodes `name=value` and `name<<DELIM ... DELIM` records.
pub fn parse_file_commands(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for inner in lines.by_ref() {
                if inner == delimiter {
                    break;
                }
                value.push(inner);
            }
            out.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_owned(), value.to_owned());
        }
    }
    out
}

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
