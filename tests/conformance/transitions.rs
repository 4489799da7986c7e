//! D. Phase transitions: on-failure, finally, retries.

use crate::harness::assert::{assert_phases, assert_status};
use crate::harness::{Output, Test};

use super::{agent_lines, assert_output, build, exit_codes, test};

#[test]
fn c29_failing_command_stops_its_phase_post_build_still_runs() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo a
              - exit 2
              - echo b
          post_build:
            commands:
              - echo post
        ",
    );
    assert_output(&out, &["a", "post"]);
    assert!(
        agent_lines(&out)
            .contains(&"Command did not exit successfully exit 2 exit status 2".to_owned()),
        "{out}"
    );
    assert!(
        agent_lines(&out).contains(
            &"Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 2. Reason: exit status 2".to_owned()
        ),
        "{out}"
    );
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
    assert_eq!(out.report()["failed_phase"], "BUILD");
}

#[test]
fn c30_codebuild_build_succeeding_transitions() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - echo "pre=$CODEBUILD_BUILD_SUCCEEDING"
          build:
            commands:
              - echo "build=$CODEBUILD_BUILD_SUCCEEDING"
              - "false"
          post_build:
            commands:
              - echo "post=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["pre=1", "build=1", "post=0"]);
    assert_status(&out, "FAILED");
}

#[test]
fn c31_install_failure_skips_everything_including_artifacts() {
    let out = test(
        r#"
        version: 0.2
        phases:
          install:
            commands:
              - "false"
          pre_build:  { commands: [ "echo pre" ] }
          build:      { commands: [ "echo build" ] }
          post_build: { commands: [ "echo post" ] }
        artifacts:
          files: [ a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    assert_output(&out, &[]);
    assert_phases(&out, "I✗ P— B— PB— U—");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c32_pre_build_failure_behaves_like_install_failure() {
    let out = test(
        r#"
        version: 0.2
        phases:
          install: { commands: [ "echo inst" ] }
          pre_build:
            commands:
              - "false"
          build:      { commands: [ "echo build" ] }
          post_build: { commands: [ "echo post" ] }
        artifacts:
          files: [ a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    assert_output(&out, &["inst"]);
    assert_phases(&out, "I✓ P✗ B— PB— U—");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c33_post_build_failure_still_uploads_artifacts() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:      { commands: [ "echo built > out.txt" ] }
          post_build: { commands: [ "exit 1" ] }
        artifacts:
          files: [ out.txt, a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    // The artifact list itself is checked by the packaging tests.
    assert_phases(&out, "I✓ P✓ B✓ PB✗ U?");
    assert_status(&out, "FAILED");
}

#[test]
fn c34_finally_runs_after_a_failure() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo c1
              - "false"
              - echo c3
            finally:
              - echo f1
              - echo f2
        "#,
    );
    assert_output(&out, &["c1", "f1", "f2"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c35_failing_finally_fails_a_phase_whose_commands_succeeded() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands: [ "echo ok" ]
            finally:  [ "exit 4" ]
          build:
            commands: [ "echo build" ]
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_phases(&out, "I✓ P✗ B— PB—");
    assert_status(&out, "FAILED");
}

#[test]
fn c36_install_finally_runs_though_later_phases_are_skipped() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "exit 1" ]
            finally:  [ "echo cleanup" ]
          build:
            commands: [ "echo build" ]
        "#,
    );
    assert_output(&out, &["cleanup"]);
    assert_phases(&out, "I✗ P— B— PB—");
    assert_status(&out, "FAILED");
}

#[test]
fn c38_abort_on_build_suppresses_post_build_and_upload() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: ABORT
            commands: [ "exit 1" ]
          post_build:
            commands: [ "echo should-not-run" ]
        artifacts:
          files: [ buildspec.yml ]
        "#,
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✓ P✓ B✗ PB— U—");
    assert_status(&out, "FAILED");
}

const FLAKY: &str = r#"n=$(cat .tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > .tries; echo "attempt $n"; [ "$n" -ge 3 ]"#;

fn flaky(on_failure: &str) -> Output {
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    on-failure: {on_failure}\n    commands:\n      - '{FLAKY}'\n"
    );
    Test::new().buildspec(&spec).arg("build").run()
}

#[test]
fn c39_retry_count_on_a_flaky_command() {
    let out = flaky("RETRY-2");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
    // Every attempt is in the report.
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(1), Some(1), Some(0)]);
}

#[test]
fn c39_retry_count_exhausted() {
    let out = flaky("RETRY-1");
    assert_output(&out, &["attempt 1", "attempt 2"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c39_retry_pattern_that_does_not_match() {
    let out = flaky("RETRY-2-database");
    assert_output(&out, &["attempt 1"]);
    assert_status(&out, "FAILED");
}

#[test]
fn retry_pattern_that_matches_the_output() {
    let out = flaky("RETRY-5-attempt [0-9]");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_status(&out, "SUCCEEDED");
    // A pattern alone means up to 3 retries; `Retry-` is accepted in any case.
    let out = flaky("Retry-.*exit status 1.*");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn plain_retry_means_three_retries() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: RETRY
            commands:
              - echo try
              - "false"
        "#,
    );
    assert_output(&out, &["try", "try", "try", "try"]);
    assert_status(&out, "FAILED");
    let out = flaky("RETRY-0");
    assert_output(&out, &["attempt 1"]);
}

#[test]
fn retry_reruns_finally_and_keeps_shell_state() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: RETRY-1
            commands:
              - N=$((${N:-0}+1)); echo "n=$N"
              - '[ "$N" -ge 2 ]'
            finally:
              - echo "finally n=$N succeeding=$CODEBUILD_BUILD_SUCCEEDING"
          post_build:
            commands:
              - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(
        &out,
        &[
            "n=1",
            "finally n=1 succeeding=0",
            "n=2",
            "finally n=2 succeeding=1",
            "post succeeding=1",
        ],
    );
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

/// Where the state machine goes after phase `failing` fails under each `on-failure` value.
#[test]
fn transitions_for_every_phase_and_on_failure_value() {
    let phases = ["install", "pre_build", "build", "post_build"];
    let abbr = ["I", "P", "B", "PB"];
    for (index, failing) in phases.iter().enumerate() {
        for mode in [None, Some("ABORT"), Some("CONTINUE"), Some("RETRY-1")] {
            let mut spec = "version: 0.2\nphases:\n".to_owned();
            for phase in phases {
                spec.push_str(&format!("  {phase}:\n"));
                if phase == *failing
                    && let Some(mode) = mode
                {
                    spec.push_str(&format!("    on-failure: {mode}\n"));
                }
                spec.push_str(&format!("    commands:\n      - echo ran-{phase}\n"));
                if phase == *failing {
                    spec.push_str("      - \"false\"\n");
                }
            }
            spec.push_str("artifacts:\n  files:\n    - buildspec.yml\n");
            let out = Test::new().buildspec(&spec).arg("build").run();

            let later_runs = match mode {
                Some("ABORT") => false,
                Some("CONTINUE") => true,
                _ => index >= 2,
            };
            let upload = match mode {
                Some("ABORT") => false,
                Some("CONTINUE") => true,
                _ => index >= 2,
            };
            let mut shorthand = Vec::new();
            let mut output = Vec::new();
            for (j, phase) in phases.iter().enumerate() {
                let mark = if j < index {
                    "✓"
                } else if j == index {
                    "✗"
                } else if later_runs {
                    "✓"
                } else {
                    "—"
                };
                shorthand.push(format!("{}{mark}", abbr[j]));
                if mark != "—" {
                    output.push(format!("ran-{phase}"));
                    if j == index && mode == Some("RETRY-1") {
                        output.push(format!("ran-{phase}"));
                    }
                }
            }
            shorthand.push(if upload { "U?" } else { "U—" }.to_owned());
            let context = format!("{failing} failing with {mode:?}");
            assert_eq!(out.command_output(), output, "{context}: {out}");
            assert_phases(&out, &shorthand.join(" "));
            assert_eq!(out.report()["status"], "FAILED", "{context}");
            assert_eq!(out.code, 1, "{context}");
            assert_eq!(
                out.report()["failed_phase"],
                failing.to_uppercase(),
                "{context}"
            );
        }
    }
}

#[test]
fn remaining_finally_commands_stop_at_the_first_failure() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo c1
            finally:
              - echo "f1 succeeding=$CODEBUILD_BUILD_SUCCEEDING"
              - "false"
              - echo f3
          post_build:
            commands:
              - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["c1", "f1 succeeding=1", "post succeeding=0"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn finally_of_a_failing_phase_sees_succeeding_0() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - "false"
            finally:
              - echo "finally succeeding=$CODEBUILD_BUILD_SUCCEEDING last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["finally succeeding=0 last=1"]);
}

#[test]
fn finally_of_a_skipped_phase_does_not_run() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "false" ]
          pre_build:
            commands: [ "echo pre" ]
            finally: [ "echo pre-finally" ]
          post_build:
            finally: [ "echo post-finally" ]
        "#,
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✗ P— B— PB—");
}

#[test]
fn finally_failure_with_continue_goes_on() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands: [ "echo inst" ]
            finally: [ "exit 9" ]
          pre_build:
            commands: [ 'echo "pre succeeding=$CODEBUILD_BUILD_SUCCEEDING"' ]
        "#,
    );
    assert_output(&out, &["inst", "pre succeeding=0"]);
    assert_phases(&out, "I✗ P✓ B✓ PB✓");
    assert_status(&out, "FAILED");
}
