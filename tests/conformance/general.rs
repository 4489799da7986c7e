//! More general rules of §5–§7.

use std::process::Stdio;
use std::time::Duration;

use crate::harness::Test;
use crate::harness::assert::{assert_phases, assert_status};
use crate::harness::aws::{put_parameter, unique};
use crate::harness::process::{block_on, wait_until};

use super::{agent_lines, assert_output, build, exit_codes, test, warnings};

#[test]
fn output_is_streamed_live() {
    // The command waits for a file that the test only creates after reading the command's
    // first line from the binary's stdout: buffered output would deadlock.
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo ready; while [ ! -f go ]; do sleep 0.1; done; echo done
        "#,
    );
    let workspace = t.workspace();
    let mut command = t.command();
    command
        .arg(format!("--report-file={}", t.report_path().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("`ready` never reached stdout while the command ran");
        seen.push(line.clone());
        if line == "ready" {
            break;
        }
    }
    std::fs::write(workspace.join("go"), "").unwrap();
    let status = wait_until(&mut child, Duration::from_secs(60)).expect("the build ended");
    seen.extend(receiver.iter());
    assert_eq!(status.code(), Some(0), "{seen:?}");
    assert!(seen.contains(&"done".to_owned()), "{seen:?}");
    std::mem::forget(t.dir);
}

#[test]
fn stdout_and_stderr_are_one_stream_in_order() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo one; echo two >&2; echo three; printf 'no-newline'
              - printf 'crlf\r\n'
        "#,
    );
    assert_output(&out, &["one", "two", "three", "no-newline", "crlf"]);
}

#[test]
fn stdin_is_not_a_terminal_and_reads_nothing() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - if [ -t 0 ]; then echo tty; else echo no-tty; fi
              - read line; echo "read=$?"
        "#,
    );
    assert_output(&out, &["no-tty", "read=1"]);
}

#[test]
fn explicit_bin_sh_shell() {
    let out = build(
        r#"
        version: 0.2
        env:
          shell: /bin/sh
        phases:
          build:
            commands:
              - X=1
              - echo "x=$X"
        "#,
    );
    assert_output(&out, &["x=1"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn codebuild_names_in_variables_are_ignored_with_a_warning() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            CODEBUILD_BUILD_SUCCEEDING: "0"
            MINE: kept
        phases:
          build:
            commands:
              - echo "$CODEBUILD_BUILD_SUCCEEDING $MINE"
        "#,
    );
    assert_output(&out, &["1 kept"]);
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("CODEBUILD_BUILD_SUCCEEDING") && w.contains("reserved")),
        "{out}"
    );
}

#[test]
fn legacy_environment_variables_under_02_are_ignored_with_a_warning() {
    let out = build(
        r#"
        version: 0.2
        environment_variables:
          plaintext:
            OLD: style
        phases:
          build:
            commands:
              - echo "old=${OLD:-unset}"
        "#,
    );
    assert_output(&out, &["old=unset"]);
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("environment_variables")),
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn batch_proxy_and_cache_are_accepted_and_noted() {
    let out = build(
        r#"
        version: 0.2
        proxy:
          upload-artifacts: no
          logs: no
        batch:
          fast-fail: false
        cache:
          paths:
            - '/root/.cache/pip/**/*'
        phases:
          build:
            commands:
              - echo ok
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
    let warnings = warnings(&out);
    for section in ["batch", "proxy", "cache"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&format!("`{section}`")) && w.contains("not applicable")),
            "{section}: {warnings:?}"
        );
    }
}

#[test]
fn version_01_honours_newer_keys_with_a_warning() {
    let out = build(
        r#"
        version: 0.1
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - "false"
            finally:
              - echo cleanup
          post_build:
            commands:
              - echo "post=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["cleanup", "post=0"]);
    assert!(
        warnings(&out).iter().any(|w| w.contains("finally")),
        "{out}"
    );
    assert_status(&out, "FAILED");
}

#[test]
fn runtime_versions_take_variables_latest_and_default() {
    let manifest = r#"
runtimes:
  nodejs:
    versions:
      18:
        commands:
          - echo "node 18"
      20:
        commands:
          - echo "node 20"
      default:
        commands:
          - echo "custom node $VERSION"
"#;
    let spec = |version: &str| {
        format!(
            "version: 0.2\nenv:\n  variables:\n    NODE_V: \"18\"\nphases:\n  install:\n    runtime-versions:\n      nodejs: {version}\n    commands:\n      - echo user\n"
        )
    };
    for (version, first) in [
        ("\"$NODE_V\"", "node 18"),
        ("latest", "node 20"),
        ("18.x", "node 18"),
        ("21", "custom node 21"),
    ] {
        let t = Test::new().buildspec(&spec(version)).arg("build");
        let path = t.dir.path().join("runtimes.yml");
        std::fs::write(&path, manifest).unwrap();
        let out = t
            .env("LAMBDA_PIPELINE_RUNTIMES_FILE", path.to_str().unwrap())
            .run();
        assert_output(&out, &[first, "user"]);
        assert_status(&out, "SUCCEEDED");
    }
}

#[test]
fn opening_log_lines_follow_codebuild() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "true" ]
          build:
            commands: [ "true", "true" ]
            finally: [ "true" ]
        "#,
    );
    let agent = agent_lines(&out);
    assert_eq!(agent[0], "Phases found in YAML: 2", "{out}");
    assert_eq!(agent[1], " INSTALL: 1 commands", "{out}");
    assert_eq!(agent[2], " BUILD: 3 commands", "{out}");
    assert!(agent.contains(&"Running command true".to_owned()), "{out}");
    let report = out.report();
    assert!(report["phases"][0]["duration_ms"].is_u64());
    assert_eq!(report["phases"][2]["commands"][2]["block"], "finally");
}

#[test]
fn folded_block_joins_lines_and_a_comment_swallows_the_rest() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - >
                echo first
                echo second
              - >
                echo kept
                # a comment line
                echo swallowed
        "#,
    );
    assert_output(&out, &["first echo second", "kept"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn a_block_starting_with_set_e_fails_at_its_first_error() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - |
                set -e
                echo one
                false
                echo never
        "#,
    );
    assert_output(&out, &["one"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(1)]);
    assert_status(&out, "FAILED");
}

#[test]
fn quoted_colon_space_command_runs() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - "echo a: b"
              - 'echo "c: d" # not a comment inside quotes'
        "#,
    );
    assert_output(&out, &["a: b", "c: d"]);
}

#[test]
fn long_output_arrives_whole_and_in_order() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - seq 1 20000
              - printf 'ünïcødé ✓\n'
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines.len(), 20001, "{}", lines.len());
    assert!(
        lines[..20000]
            .iter()
            .enumerate()
            .all(|(i, l)| *l == (i + 1).to_string())
    );
    assert_eq!(lines[20000], "ünïcødé ✓");
}

#[test]
fn a_command_killed_by_a_signal_fails_its_phase() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo before; kill -KILL $$
              - echo never
          post_build:
            commands:
              - echo post
        "#,
    );
    assert_output(&out, &["before", "post"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![None], "{out}");
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn codebuild_src_dir_does_not_follow_cd() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - mkdir -p a && cd a
          post_build:
            commands:
              - echo "$(basename "$PWD") $(basename "$CODEBUILD_SRC_DIR")"
        "#,
    );
    assert_output(&out, &["a ws"]);
}

#[test]
fn numeric_json_version_and_version_01_json() {
    let out = Test::new()
        .buildspec(r#"{"version": 0.2, "phases": {"build": {"commands": ["X=1", "echo x=$X"]}}}"#)
        .arg("build")
        .run();
    assert_output(&out, &["x=1"]);
}

#[test]
fn secrets_never_reach_outputs_or_the_report() {
    let param = format!("/{}/pw", unique("leak"));
    block_on(put_parameter(&param, "super-secret-value-42"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: {param}
          exported-variables: [ DERIVED ]
        phases:
          build:
            commands:
              - DERIVED="prefix-$PW"
              - echo "$PW" >&2
        "#
    );
    let out = test(&spec).aws().github_actions().run();
    assert_status(&out, "SUCCEEDED");
    assert_output(&out, &["***"]);
    assert_eq!(out.outputs()["DERIVED"], "prefix-***");
    let report = std::fs::read_to_string(&out.report_path).unwrap();
    assert!(!report.contains("super-secret-value-42"), "{report}");
    // Only the runner's own mask registration may carry the value.
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.contains("super-secret-value-42"))
            .all(|l| l == "::add-mask::super-secret-value-42"),
        "{out}"
    );
    let outputs = std::fs::read_to_string(&out.outputs_path).unwrap();
    assert!(!outputs.contains("super-secret-value-42"), "{outputs}");
}

#[test]
fn more_parameters_than_one_get_parameters_call_takes() {
    let id = unique("many");
    block_on(async {
        for i in 0..13 {
            put_parameter(&format!("/{id}/p{i}"), &format!("value-{i:02}")).await;
        }
    });
    let mut spec = "version: 0.2\nenv:\n  parameter-store:\n".to_owned();
    for i in 0..13 {
        spec.push_str(&format!("    P{i}: /{id}/p{i}\n"));
    }
    spec.push_str("phases:\n  build:\n    commands:\n      - 'for i in 0 1 2 3 4 5 6 7 8 9 10 11 12; do eval \"printf %s, \\\"\\$P$i\\\"\"; done > seen.txt'\n");
    let out = Test::new().buildspec(&spec).arg("build").aws().run();
    assert_status(&out, "SUCCEEDED");
    let expected: String = (0..13).map(|i| format!("value-{i:02},")).collect();
    assert_eq!(out.workspace_file("seen.txt").unwrap(), expected);
}
