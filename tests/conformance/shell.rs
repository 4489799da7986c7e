//! C. The shell execution model.

use std::time::Duration;

use crate::harness::assert::{assert_phases, assert_status};

use super::{agent_lines, assert_output, build, exit_codes, run_with_deadline, test};

#[test]
fn c23_functions_and_arrays_do_not_persist() {
    let out = build(
        r#"
        version: 0.2
        env:
          shell: bash
        phases:
          build:
            commands:
              - greet() { echo hi; }; greet
              - declare -A m; m[k]=v; echo "in=${m[k]}"
              - echo "out=${m[k]:-lost}"
              - greet
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines[..3], ["hi", "in=v", "out=lost"], "{out}");
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[3].ends_with("script.sh: line 4: greet: command not found"),
        "{out}"
    );
    assert_eq!(
        exit_codes(&out, "BUILD"),
        vec![Some(0), Some(0), Some(0), Some(127)]
    );
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c24_pipeline_status_is_the_last_elements() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - false | true
              - echo step2
              - true | false
              - echo step4
        ",
    );
    assert_output(&out, &["step2"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(0), Some(1)]);
    assert_status(&out, "FAILED");
}

#[test]
fn c25_failed_test_inside_if_silently_succeeds() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - if [ "$NOT_SET" -ge 9 ]; then echo big; fi
              - echo next
        "#,
    );
    let lines = out.command_output();
    assert!(lines[0].contains("Illegal number"), "{out}");
    assert_eq!(lines[1..], ["next"], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26a_default_shell_is_sh() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - if [[ 1 == 1 ]]; then echo bashy; fi
        ",
    );
    let lines = out.command_output();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].ends_with("script.sh: 4: [[: not found"), "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26b_shell_bash_enables_bash_syntax() {
    let out = build(
        "
        version: 0.2
        env:
          shell: bash
        phases:
          build:
            commands:
              - if [[ 1 == 1 ]]; then echo bashy; fi
        ",
    );
    assert_output(&out, &["bashy"]);
    assert!(
        agent_lines(&out).iter().all(|l| !l.contains("not found")),
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26c_source_is_not_found_under_dash() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - source ./env.sh
        ",
    )
    .file("env.sh", "X=1\n")
    .run();
    let lines = out.command_output();
    assert!(lines[0].ends_with("source: not found"), "{out}");
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(127)]);
    assert_status(&out, "FAILED");
}

#[test]
fn c27_codebuild_last_exit_reflects_the_previous_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - "true"
              - echo "last=$CODEBUILD_LAST_EXIT"
              - sh -c 'exit 3'
          post_build:
            commands:
              - echo "last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["last=0", "last=3"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c28_background_process_does_not_block() {
    // The background job holds the output pipe open until the test releases it, which the test
    // only does once the binary has exited: a runner that waits for EOF deadlocks here.
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - nohup sh -c 'while [ ! -f "$CODEBUILD_SRC_DIR/release" ]; do sleep 0.2; done; echo late' &
              - echo started
        "#,
    );
    let out = run_with_deadline(t, Duration::from_secs(120), |ws| {
        std::fs::write(ws.join("release"), "").unwrap();
    });
    assert!(
        out.command_output().contains(&"started".to_owned()),
        "{out}"
    );
    assert!(!out.command_output().contains(&"late".to_owned()), "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e11_nohup_sleep_in_background_never_blocks() {
    let t = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - nohup sleep 30 &
              - echo after-sleep
          post_build:
            commands:
              - echo post
        ",
    );
    let out = run_with_deadline(t, Duration::from_secs(25), |_| {});
    assert_eq!(
        out.command_output()
            .into_iter()
            .filter(|l| !l.contains("nohup"))
            .collect::<Vec<_>>(),
        ["after-sleep", "post"],
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}
