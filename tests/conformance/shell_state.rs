//! §5.2 table E1–E12: what one command leaves to the next.

use crate::harness::Test;
use crate::harness::assert::{assert_phases, assert_status};

use super::{assert_output, build, dedent, exit_codes};

#[test]
fn e1_plain_assignments_persist_and_are_exported() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - TAG=abc
          build:
            commands:
              - sh -c 'echo "child=$TAG"'
              - echo "shell=$TAG"
        "#,
    );
    assert_output(&out, &["child=abc", "shell=abc"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e3_shell_options_aliases_and_umask_do_not_persist() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - umask
              - set -e; umask 077; alias hi='echo alias'; trap 'echo trapped' EXIT
              - false; echo still-running
              - umask
              - hi
        "#,
    );
    let lines = out.command_output();
    // `trap ... EXIT` fires at the end of its own script only.
    assert_eq!(
        lines[1..4],
        ["trapped", "still-running", lines[0].as_str()],
        "{out}"
    );
    assert!(lines[4].ends_with("hi: not found"), "{out}");
    assert_eq!(
        exit_codes(&out, "BUILD"),
        vec![Some(0), Some(0), Some(0), Some(0), Some(127)]
    );
}

#[test]
fn e4_exit_ends_only_the_current_command() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo a; exit 0; echo never
              - echo b
        ",
    );
    assert_output(&out, &["a", "b"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e5_state_of_a_command_that_exits_early_is_lost() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - KEPT=1; mkdir -p sub
              - LOST=1; cd sub; exit 0
              - echo "lost=${LOST:-unset} kept=$KEPT dir=$(basename "$PWD")"
              - set -e; LOST2=1; cd sub; false; echo never
          post_build:
            commands:
              - echo "lost2=${LOST2:-unset} dir=$(basename "$PWD")"
        "#,
    );
    assert_output(&out, &["lost=unset kept=1 dir=ws", "lost2=unset dir=ws"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
}

#[test]
fn e6_multi_line_command_status_is_its_last_line() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - |
                false
                echo ok
              - |
                echo first
                false
              - echo never
        "#,
    );
    assert_output(&out, &["ok", "first"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(1)]);
    assert_status(&out, "FAILED");
    // The command keeps its line in the file: a block scalar's first line of text.
    let report = out.report();
    assert_eq!(report["phases"][2]["commands"][0]["line"], 6);
    assert_eq!(report["phases"][2]["commands"][1]["line"], 9);
}

#[test]
fn e8_last_exit_after_a_failure_fixed_by_continue() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands:
              - exit 7
          pre_build:
            commands:
              - echo "last=$CODEBUILD_LAST_EXIT"
              - echo "last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["last=7", "last=0"]);
    assert_phases(&out, "I✗ P✓ B✓ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn e9_unset_persists() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            FROM_SPEC: spec
        phases:
          build:
            commands:
              - MINE=mine
              - unset FROM_SPEC MINE
              - echo "spec=${FROM_SPEC-unset} mine=${MINE-unset}"
              - sh -c 'echo "child=${FROM_SPEC-unset}"'
        "#,
    );
    assert_output(&out, &["spec=unset mine=unset", "child=unset"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e10_values_with_newlines_and_quotes_round_trip() {
    let spec = r#"
        version: 0.2
        env:
          exported-variables:
            - TRICKY
        phases:
          pre_build:
            commands:
              - |
                TRICKY="line 1
                it's \"quoted\" \$HOME \\ back\`tick
                  indented;  two  spaces"
          build:
            commands:
              - printf '[%s]\n' "$TRICKY"
        "#;
    let expected = "line 1\nit's \"quoted\" $HOME \\ back`tick\n  indented;  two  spaces";
    for shell in ["sh", "bash"] {
        let spec = dedent(spec).replace("phases:", &format!("  shell: {shell}\nphases:"));
        let out = Test::new()
            .buildspec(&spec)
            .arg("build")
            .github_actions()
            .run();
        let printed = out.command_output().join("\n");
        assert_eq!(printed, format!("[{expected}]"), "{shell}: {out}");
        assert_eq!(
            out.report()["exported_variables"]["TRICKY"],
            expected,
            "{shell}"
        );
        assert_eq!(out.outputs()["TRICKY"], expected, "{shell}");
        assert_status(&out, "SUCCEEDED");
    }
}

#[test]
fn e12_wait_cannot_reach_a_job_of_an_earlier_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - sleep 30 >/dev/null 2>&1 & echo $! > bg.pid
              - wait "$(cat bg.pid)"; echo "rc=$?"
        "#,
    );
    assert_output(&out, &["rc=127"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn a_broken_path_does_not_stop_the_next_command() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            PATH: /nonexistent
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - echo "path=$PATH"
              - echo still-runs
              - ls
          post_build:
            commands:
              - echo post-runs
              - PATH=/also/nonexistent
              - echo after-reassign
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines[..2], ["path=/nonexistent", "still-runs"], "{out}");
    assert!(lines[2].ends_with("ls: not found"), "{out}");
    assert_eq!(lines[3..], ["post-runs", "after-reassign"], "{out}");
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
}

#[test]
fn a_path_broken_by_a_command_does_not_stop_the_next_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - export PATH=/nonexistent
              - echo next-runs
              - cd /
              - pwd
        "#,
    );
    assert_output(&out, &["next-runs", "/"]);
    assert_status(&out, "SUCCEEDED");
}
