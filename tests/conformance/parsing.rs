//! A. Parsing and bookkeeping.

use crate::harness::Test;
use crate::harness::assert::{assert_phases, assert_status};

use super::{agent_lines, assert_output, assert_yaml_file_error, build, canonical, warnings};

#[test]
fn c01_minimal_build() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo hello
        ",
    );
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_output(&out, &["hello"]);
    assert_status(&out, "SUCCEEDED");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    let agent = agent_lines(&out);
    assert!(
        agent.contains(&"Entering phase INSTALL".to_owned()),
        "{out}"
    );
    assert!(
        agent.contains(&"Phase complete: INSTALL State: SUCCEEDED".to_owned()),
        "{out}"
    );
}

#[test]
fn c02_phase_order_is_fixed() {
    let out = build(
        r#"
        version: 0.2
        phases:
          post_build: { commands: [ "echo 4" ] }
          build:      { commands: [ "echo 3" ] }
          pre_build:  { commands: [ "echo 2" ] }
          install:    { commands: [ "echo 1" ] }
        "#,
    );
    assert_output(&out, &["1", "2", "3", "4"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c04_working_directory_persists_across_commands_and_phases() {
    let out = build(
        "
        version: 0.2
        phases:
          pre_build:
            commands:
              - mkdir -p out/deep
              - cd out
          build:
            commands:
              - cd deep
              - pwd
        ",
    );
    let expected = format!("{}/out/deep", canonical(&out.workspace));
    assert_output(&out, &[expected.as_str()]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c05_version_01_isolates_every_command() {
    let out = build(
        r#"
        version: 0.1
        phases:
          build:
            commands:
              - mkdir -p sub && cd sub
              - pwd
              - FOO=1
              - echo "foo=${FOO:-unset}"
        "#,
    );
    let ws = canonical(&out.workspace);
    assert_output(&out, &[ws.as_str(), "foo=unset"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c06_version_01_environment_block() {
    let out = build(
        r#"
        version: 0.1
        environment_variables:
          plaintext:
            GREETING: "hi there"
        phases:
          build:
            commands:
              - echo "$GREETING"
        "#,
    );
    assert_output(&out, &["hi there"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c07_missing_buildspec_file() {
    let out = Test::new().arg("build").run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml"), "{out}");
    assert!(!out.stdout.contains("Entering phase"), "{out}");
}

#[test]
fn c08_tab_indentation() {
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n\tcommands:\n      - echo never\n")
        .arg("build")
        .run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:4:"), "{out}");
    assert!(out.stderr.contains("tab"), "{out}");
}

#[test]
fn c09_unknown_keys_are_warnings() {
    let out = build(
        r#"
        version: 0.2
        foo: bar
        phases:
          build:
            env:
              variables: { X: "1" }
            commands:
              - echo "x=${X:-unset}"
        "#,
    );
    assert_output(&out, &["x=unset"]);
    assert_status(&out, "SUCCEEDED");
    let warnings = warnings(&out);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("The following keys cannot be identified: foo")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("In the section BUILD")
            && w.contains("The following keys cannot be identified: env")),
        "{warnings:?}"
    );
    // The positions are kept.
    let report = out.report();
    let foo = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["message"].as_str().unwrap().contains(": foo"))
        .unwrap();
    assert_eq!(foo["position"]["line"], 2);
    assert_eq!(foo["position"]["column"], 1);
    assert!(
        out.stdout
            .contains("Found possible syntax errors in buildspec"),
        "{out}"
    );
}

#[test]
fn c10a_quoted_version_string() {
    let out = build(
        r#"
        version: "0.2"
        phases:
          build:
            commands:
              - echo ok
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c10b_unknown_version_is_rejected() {
    let out = build(
        "
        version: 0.3
        phases:
          build:
            commands:
              - echo never
        ",
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:1:10"), "{out}");
}

#[test]
fn c11_json_buildspec() {
    let out = Test::new()
        .buildspec(r#"{"version": "0.2", "phases": {"build": {"commands": ["echo json-ok"]}}}"#)
        .arg("build")
        .run();
    assert_output(&out, &["json-ok"]);
    assert_status(&out, "SUCCEEDED");
}
