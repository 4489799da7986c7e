//! Spec §12 conformance cases (all but the G artifact cases) and the general rules of §5–§7,
//! each run through the real binary in a temporary workspace. Observables: phase states in the
//! report, build status, exit code, command output in order, exported variables. One file per
//! section of the spec; the helpers below are the ones only these sections use (the shared
//! ones, such as `assert_phases`, are in `crate::harness`).

mod environment;
mod general;
mod inputs;
mod parsing;
mod run_as;
mod runtime_versions;
mod shell;
mod shell_state;
mod transitions;
mod yaml;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::process::{drain, wait_until};
use crate::harness::{Output, Test};

// ---------------------------------------------------------------- helpers

/// Removes the common indentation of a raw string literal and its first line break.
fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = text
        .lines()
        .map(|l| if l.len() >= indent { &l[indent..] } else { "" })
        .collect();
    while out.last() == Some(&"") {
        out.pop();
    }
    out.join("\n") + "\n"
}

/// A `build` run of `spec` in a fresh workspace.
fn build(spec: &str) -> Output {
    Test::new().buildspec(&dedent(spec)).arg("build").run()
}

fn test(spec: &str) -> Test {
    Test::new().buildspec(&dedent(spec)).arg("build")
}

#[track_caller]
fn assert_output(out: &Output, expected: &[&str]) {
    assert_eq!(out.command_output(), expected, "{out}");
}

/// The `[Container]` log lines.
fn agent_lines(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("[Container]"))
        .map(|l| l.splitn(4, ' ').nth(3).unwrap_or_default().to_owned())
        .collect()
}

fn warnings(out: &Output) -> Vec<String> {
    out.report()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect()
}

fn exit_codes(out: &Output, phase: &str) -> Vec<Option<i64>> {
    let report = out.report();
    let phase = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == phase)
        .unwrap_or_else(|| panic!("no phase {phase}; {out}"))
        .clone();
    phase["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["exit_code"].as_i64())
        .collect()
}

fn canonical(path: &Path) -> String {
    path.canonicalize().unwrap().to_string_lossy().into_owned()
}

/// A buildspec error run: exit 2, nothing ran, DOWNLOAD_SOURCE FAILED with YAML_FILE_ERROR.
#[track_caller]
fn assert_yaml_file_error(out: &Output) {
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("YAML_FILE_ERROR"), "{out}");
    assert_eq!(out.command_output(), Vec::<String>::new(), "{out}");
    assert_eq!(out.report()["status"], "FAILED", "{out}");
    assert_eq!(
        out.phases(),
        vec![("DOWNLOAD_SOURCE".to_owned(), "FAILED".to_owned())],
        "{out}"
    );
}

/// Spawns the build and fails (instead of hanging) if it does not end within `limit`. The
/// limit is a deadlock detector far above any normal run, not a speed assertion.
fn run_with_deadline(test: Test, limit: Duration, on_hang: impl FnOnce(&Path)) -> Output {
    let report = test.report_path();
    let workspace = test.workspace();
    let mut command = test.command();
    command
        .arg(format!("--report-file={}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_until(&mut child, limit);
    let Some(status) = status else {
        on_hang(&workspace);
        let _ = child.kill();
        let _ = child.wait();
        panic!("the build did not finish within {limit:?}: it waited for a background job");
    };
    let files = test.dir.path().join("files");
    let out = Output {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        workspace,
        report_path: report,
        outputs_path: files.join("output"),
        summary_path: files.join("summary"),
    };
    std::mem::forget(test.dir);
    out
}
