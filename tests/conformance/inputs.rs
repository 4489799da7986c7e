//! Action inputs, workflow-command hygiene and cancellation.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::Test;
use crate::harness::assert::assert_status;
use crate::harness::process::{drain, pid_alive, wait_until};

use super::{assert_output, build, canonical, test};

#[test]
fn inline_buildspec_from_the_flag_and_the_input() {
    let inline = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo inline-ok\n";
    let out = Test::new().args(&["build", "--buildspec", inline]).run();
    assert_output(&out, &["inline-ok"]);
    assert_status(&out, "SUCCEEDED");
    let out = Test::new().arg("build").input("buildspec", inline).run();
    assert_output(&out, &["inline-ok"]);
    let out = Test::new()
        .arg("build")
        .input(
            "buildspec",
            r#"{"version": "0.2", "phases": {"build": {"commands": ["echo json-inline"]}}}"#,
        )
        .run();
    assert_output(&out, &["json-inline"]);
    // An inline error names the inline buildspec and its line.
    let out = Test::new()
        .arg("build")
        .input(
            "buildspec",
            "version: 0.2\nphases:\n  build:\n    on-failure: MAYBE\n",
        )
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("inline buildspec:4:17"), "{out}");
}

#[test]
fn buildspec_path_input() {
    let out = Test::new()
        .file(
            "ci/other.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo other\n",
        )
        .arg("build")
        .input("buildspec", "ci/other.yml")
        .run();
    assert_output(&out, &["other"]);
}

#[test]
fn working_directory_input_in_both_spellings() {
    for name in ["INPUT_WORKING-DIRECTORY", "INPUT_WORKING_DIRECTORY"] {
        let out = Test::new()
            .file(
                "svc/buildspec.yml",
                "version: 0.2\nphases:\n  build:\n    commands:\n      - pwd\n      - echo \"src=$CODEBUILD_SRC_DIR\"\n",
            )
            .arg("build")
            .env(name, "svc")
            .run();
        let dir = canonical(&out.workspace.join("svc"));
        assert_output(&out, &[dir.as_str(), &format!("src={dir}")]);
        assert_status(&out, "SUCCEEDED");
    }
    let out = Test::new()
        .arg("build")
        .input("working-directory", "does-not-exist")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("working-directory"), "{out}");
}

#[test]
fn groups_per_phase_in_github_actions() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo inside
        ",
    )
    .github_actions()
    .run();
    let markers: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::group::") || l.starts_with("::endgroup::"))
        .collect();
    assert_eq!(
        markers,
        [
            "::group::INSTALL",
            "::endgroup::",
            "::group::PRE_BUILD",
            "::endgroup::",
            "::group::BUILD",
            "::endgroup::",
            "::group::POST_BUILD",
            "::endgroup::"
        ],
        "{out}"
    );
    // Output sits inside its phase's group.
    let build_group = out.stdout.split("::group::BUILD").nth(1).unwrap();
    let build_group = build_group.split("::endgroup::").next().unwrap();
    assert!(build_group.lines().any(|l| l == "inside"), "{out}");
    // Outside Actions there are no workflow commands.
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo inside
        ",
    );
    assert!(!out.stdout.contains("::group::"), "{out}");
}

#[test]
fn build_output_cannot_issue_workflow_commands_by_default() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo '::error::injected'
        ",
    )
    .github_actions()
    .run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "::error::injected")
        .unwrap();
    let stop = lines[..at]
        .iter()
        .rev()
        .find(|l| l.starts_with("::stop-commands::"))
        .expect("output is wrapped in stop-commands");
    let token = stop.strip_prefix("::stop-commands::").unwrap();
    assert!(
        lines[at..].contains(&format!("::{token}::").as_str()),
        "{out}"
    );
}

#[test]
fn timeout_input_times_the_build_out() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo before
              - sleep 60
              - echo never
          post_build:
            commands:
              - echo never-post
        ",
    )
    .input("timeout", "2s")
    .run();
    assert_output(&out, &["before"]);
    assert_eq!(out.report()["status"], "TIMED_OUT", "{out}");
    assert_eq!(out.phase_status("BUILD").as_deref(), Some("TIMED_OUT"));
    assert_eq!(out.phase_status("POST_BUILD").as_deref(), Some("SKIPPED"));
    assert_eq!(out.code, 1, "{out}");
}

#[test]
fn a_bad_timeout_is_an_input_error() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo never
        ",
    )
    .input("timeout", "soon")
    .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("input `timeout`"), "{out}");
    assert_output(&out, &[]);
}

fn cancel_with(signal: &str) {
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - sleep 300 & echo $! > child.pid; sh -c 'echo $$ > grandchild.pid; exec sleep 301' & wait
              - touch ran-next-command
            finally:
              - touch ran-finally
          post_build:
            commands:
              - touch ran-post-build
        "#,
    );
    let workspace = t.workspace();
    let report = t.report_path();
    let mut command = t.command();
    command
        .arg(format!("--report-file={}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let read_pid = |name: &str| -> Option<i32> {
        std::fs::read_to_string(workspace.join(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (pid, grandchild) = loop {
        if let (Some(a), Some(b)) = (read_pid("child.pid"), read_pid("grandchild.pid")) {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A hang detector, far above the 5 s the engine allows itself.
    let status = wait_until(&mut child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the build did not stop after SIG{signal}"));
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let context = format!("SIG{signal}\n{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(130), "{context}");
    let gone = Instant::now() + Duration::from_secs(10);
    while (pid_alive(pid) || pid_alive(grandchild)) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !pid_alive(pid),
        "background child {pid} survived; {context}"
    );
    assert!(
        !pid_alive(grandchild),
        "grandchild {grandchild} survived; {context}"
    );
    for never in ["ran-next-command", "ran-finally", "ran-post-build"] {
        assert!(!workspace.join(never).exists(), "{never}; {context}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["status"], "STOPPED", "{context}");
    std::mem::forget(t.dir);
}

#[test]
fn sigterm_stops_the_process_group_and_exits_130() {
    cancel_with("TERM");
}

#[test]
fn sigint_stops_the_process_group_and_exits_130() {
    cancel_with("INT");
}
