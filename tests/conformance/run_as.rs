//! H. run-as, and background jobs.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::Output;
use crate::harness::assert::assert_status;
use crate::harness::process::{drain, pid_alive, wait_until};

use super::{assert_output, build, run_with_deadline, test};

fn run_as(spec: &str) -> Output {
    use std::os::unix::fs::PermissionsExt;
    let t = test(spec);
    // `nobody` must reach the workspace and the state directory inside the temp dir.
    std::fs::set_permissions(t.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t.run()
}

#[test]
fn c64_phase_run_as_overrides_global_run_as() {
    let out = run_as(
        "
        version: 0.2
        run-as: nobody
        phases:
          pre_build:
            commands: [ 'id -un', 'NOBODY_SET=1' ]
          build:
            run-as: root
            commands: [ 'id -un', 'echo \"carried=$NOBODY_SET\"' ]
          post_build:
            commands: [ 'id -un' ]
        ",
    );
    assert_output(&out, &["nobody", "root", "carried=1", "nobody"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c64_without_run_as_everything_runs_as_root() {
    let out = build(
        "
        version: 0.2
        phases:
          pre_build:
            commands: [ 'id -un' ]
          build:
            commands: [ 'id -un' ]
          post_build:
            commands: [ 'id -un' ]
        ",
    );
    assert_output(&out, &["root", "root", "root"]);
}

#[test]
fn run_as_an_unknown_user_fails() {
    let out = build(
        "
        version: 0.2
        run-as: no-such-user-here
        phases:
          build:
            commands: [ 'echo never' ]
        ",
    );
    assert_output(&out, &[]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("no-such-user-here"), "{out}");
    // The build fails before INSTALL, as CodeBuild fails DOWNLOAD_SOURCE.
    assert_eq!(
        out.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED"),
        "{out}"
    );
    assert_eq!(out.phase_status("INSTALL"), None, "{out}");
}

#[test]
fn a_background_job_that_prints_forever_does_not_block() {
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - nohup sh -c 'while :; do echo tick; sleep 0.01; done' &
              - echo started
          post_build:
            commands:
              - echo post
        "#,
    );
    let out = run_with_deadline(t, Duration::from_secs(120), |_| {});
    let lines: Vec<String> = out
        .command_output()
        .into_iter()
        .filter(|l| l != "tick" && !l.contains("nohup"))
        .collect();
    assert_eq!(lines, ["started", "post"], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn stopping_also_kills_background_jobs_that_ignore_sigterm() {
    let t = test(
        r#"
        version: 0.2
        phases:
          install:
            commands:
              - nohup sh -c 'trap "" TERM; echo $$ > stubborn1.pid; while :; do sleep 1; done' >/dev/null 2>&1 &
              - nohup sh -c 'trap "" TERM; echo $$ > stubborn2.pid; while :; do sleep 1; done' >/dev/null 2>&1 &
          build:
            commands:
              - sh -c 'trap "" TERM; echo $$ > current.pid; while :; do sleep 1; done'
              - touch ran-next-command
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
    let pids = loop {
        let pids: Vec<Option<i32>> = ["stubborn1.pid", "stubborn2.pid", "current.pid"]
            .iter()
            .map(|n| read_pid(n))
            .collect();
        if pids.iter().all(Option::is_some) {
            break pids.into_iter().map(Option::unwrap).collect::<Vec<_>>();
        }
        assert!(Instant::now() < deadline, "the commands never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_until(&mut child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the build did not stop"));
    let context = format!("{}\n{}", stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(130), "{context}");
    let gone = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| pid_alive(*p)) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in &pids {
        assert!(!pid_alive(*pid), "{pid} survived; {context}");
    }
    assert!(!workspace.join("ran-next-command").exists(), "{context}");
    std::mem::forget(t.dir);
}
