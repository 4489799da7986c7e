//! B. YAML gotchas.

use crate::harness::assert::{assert_phases, assert_status};

use super::{assert_output, assert_yaml_file_error, build, exit_codes, test};

#[test]
fn c12_unquoted_boolean_commands_are_command_text() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - true
              - false
              - echo unreachable
        ",
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(1)], "{out}");
    let report = out.report();
    let commands = report["phases"][2]["commands"].as_array().unwrap();
    assert_eq!(commands[0]["command"], "true");
    assert_eq!(commands[1]["command"], "false");
    assert_status(&out, "FAILED");
}

#[test]
fn c14_space_hash_starts_a_comment() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo #1 issue
              - echo tag#1
        ",
    );
    assert_output(&out, &["", "tag#1"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c16_plain_multi_line_scalar_folds() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo first
                echo second
        ",
    );
    assert_output(&out, &["first echo second"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c17a_command_starting_with_a_flow_sequence_is_an_error() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - [ -f package.json ] && echo has-pkg
        ",
    )
    .file("package.json", "{}")
    .run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:5:"), "{out}");
}

#[test]
fn c17b_command_starting_with_a_backtick_is_an_error() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - `date`
        ",
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:5:"), "{out}");
}

#[test]
fn c17c_quoted_indicator_command_runs() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - '[ -f package.json ] && echo has-pkg'
        ",
    )
    .file("package.json", "{}")
    .run();
    assert_output(&out, &["has-pkg"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c18_scalar_text_preserved_in_env_values() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            PYV: 3.10
            FLAG: yes
            OCT: 010
            EXP: 1e3
            OFF: false
        phases:
          build:
            commands:
              - echo "$PYV $FLAG $OCT $EXP $OFF"
        "#,
    );
    assert_output(&out, &["3.10 yes 010 1e3 false"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn merge_keys_and_anchors_work() {
    let out = build(
        r#"
        version: 0.2
        x-common: &common
          commands:
            - echo shared
        phases:
          pre_build: *common
          build:
            <<: *common
            finally:
              - echo merged-finally
        "#,
    );
    assert_output(&out, &["shared", "shared", "merged-finally"]);
    assert_status(&out, "SUCCEEDED");
}
