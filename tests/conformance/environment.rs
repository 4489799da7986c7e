//! E. The environment: variables, parameter-store, secrets-manager, exported-variables.

use crate::harness::Moto;
use crate::harness::assert::assert_status;
use crate::harness::aws::{create_secret, put_parameter, unique};
use crate::harness::process::block_on;

use super::{
    agent_lines, assert_output, assert_yaml_file_error, build, canonical, exit_codes, test,
    warnings,
};

#[test]
fn c41_env_vars_input_overrides_buildspec_variables() {
    let out = test(
        r#"
        version: 0.2
        env:
          variables:
            STAGE: dev
            OTHER: keep
        phases:
          build:
            commands:
              - echo "$STAGE $OTHER"
        "#,
    )
    .input("env-vars", "STAGE=prod")
    .run();
    assert_output(&out, &["prod keep"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn env_vars_input_format() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "a=$A b=$B c=$C"
        "#,
    )
    .input(
        "env-vars",
        "# a comment\nA=1\n\nB=\"quoted stays\"\nC=x=y\n",
    )
    .run();
    assert_output(&out, &["a=1 b=\"quoted stays\" c=x=y"]);
    // Reserved names are refused, naming the input.
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo never
        ",
    )
    .input("env_vars", "CODEBUILD_BUILD_ID=x")
    .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("env-vars"), "{out}");
    assert_output(&out, &[]);
}

#[test]
fn c42_command_set_values_override_buildspec_values() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            STAGE: dev
        phases:
          pre_build:
            commands:
              - export STAGE=staging
          post_build:
            commands:
              - echo "$STAGE"
        "#,
    );
    assert_output(&out, &["staging"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn variables_are_literal() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            LITERAL: "$HOME:$(echo no)"
        phases:
          build:
            commands:
              - printf '%s\n' "$LITERAL"
        "#,
    );
    assert_output(&out, &["$HOME:$(echo no)"]);
}

#[test]
fn c43_built_in_variables_have_documented_shapes() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - test "$PWD" = "$CODEBUILD_SRC_DIR"
              - test "$HOME" = /root
              - test "$CODEBUILD_BUILD_SUCCEEDING" = 1
              - echo "$CODEBUILD_START_TIME" | grep -Eq '^[0-9]{13}$'
              - case "$CODEBUILD_BUILD_ID" in *:*) true;; *) false;; esac
              - case "$CODEBUILD_BUILD_ARN" in arn:aws:codebuild:*:*:build/*:*) true;; *) false;; esac
              - test -n "$AWS_REGION" && test -n "$AWS_DEFAULT_REGION"
        "#,
    );
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0); 7], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn built_in_variables_map_the_github_context() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "src=$CODEBUILD_SRC_DIR"
              - echo "sha=$CODEBUILD_RESOLVED_SOURCE_VERSION"
              - echo "number=$CODEBUILD_BUILD_NUMBER"
              - echo "trigger=$CODEBUILD_WEBHOOK_TRIGGER"
              - echo "id=${CODEBUILD_BUILD_ID%%:*}"
              - echo "inputs=$(env | grep -c '^INPUT_' || true)"
        "#,
    )
    .github_actions()
    .input("github-token", "ghs_dont_leak_me")
    .run();
    let ws = canonical(&out.workspace);
    assert_output(
        &out,
        &[
            &format!("src={ws}"),
            "sha=0123456789abcdef0123456789abcdef01234567",
            "number=7",
            "trigger=branch/main",
            "id=hello",
            "inputs=0",
        ],
    );
}

#[test]
fn lambda_pipeline_environment_is_given_to_the_build() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "env=${LAMBDA_PIPELINE_ENVIRONMENT:-unset}"
        "#,
    )
    .input("environment", "staging")
    .run();
    assert_output(&out, &["env=staging"]);
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "env=${LAMBDA_PIPELINE_ENVIRONMENT:-unset}"
        "#,
    );
    assert_output(&out, &["env=unset"]);
}

/// Puts a new value; returns its version id. The old version becomes AWSPREVIOUS.
async fn put_secret_value(name: &str, value: &str) -> String {
    let config = Moto::shared().sdk_config().await;
    let out = aws_sdk_secretsmanager::Client::new(&config)
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("put_secret_value on moto");
    out.version_id().unwrap().to_owned()
}

#[test]
fn c44_parameter_store_value_is_masked_in_logs() {
    let param = format!("/{}/pw", unique("c44"));
    block_on(put_parameter(&param, "hunter2-xyz"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: {param}
        phases:
          build:
            commands:
              - echo "pw=$PW"
              - echo "hunter2-xyz typed literally"
              - echo "$PW" | rev
              - printf '%s' "$PW" > seen.txt
        "#
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &["pw=***", "*** typed literally", "zyx-2retnuh"]);
    let agent = agent_lines(&out);
    assert!(
        agent.contains(&r#"Running command echo "pw=$PW""#.to_owned()),
        "{out}"
    );
    assert!(
        agent.contains(&r#"Running command echo "*** typed literally""#.to_owned()),
        "{out}"
    );
    assert!(!out.stdout.contains("hunter2-xyz"), "{out}");
    assert!(!out.stderr.contains("hunter2-xyz"), "{out}");
    let report = std::fs::read_to_string(&out.report_path).unwrap();
    assert!(!report.contains("hunter2-xyz"), "{report}");
    // The processes see the real value; masking is log-only.
    assert_eq!(out.workspace_file("seen.txt").unwrap(), "hunter2-xyz");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn secrets_are_registered_as_masks_in_actions() {
    let param = format!("/{}/token", unique("mask"));
    block_on(put_parameter(&param, "s3cr3t-multi\nsecond-line-value"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            TOKEN: {param}
        phases:
          build:
            commands:
              - printf '%s\n' "$TOKEN"
        "#
    );
    let out = test(&spec).aws().github_actions().run();
    assert!(out.stdout.contains("::add-mask::s3cr3t-multi"), "{out}");
    assert!(
        out.stdout.contains("::add-mask::second-line-value"),
        "{out}"
    );
    assert_output(&out, &["***", "***"]);
}

#[test]
fn missing_parameter_fails_before_install() {
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: /{}/missing
        phases:
          install:
            commands:
              - echo never
        "#,
        unique("missing")
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &[]);
    assert_eq!(
        out.phases(),
        vec![("DOWNLOAD_SOURCE".to_owned(), "FAILED".to_owned())]
    );
    assert!(out.stderr.contains("buildspec.yml:4:9"), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c45_exported_variables_snapshot_after_post_build() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ IMAGE_TAG, UNSET_ONE ]
        phases:
          build:
            commands: [ "IMAGE_TAG=v1" ]
          post_build:
            commands: [ "IMAGE_TAG=v2" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "SUCCEEDED");
    let report = out.report();
    assert_eq!(report["exported_variables"]["IMAGE_TAG"], "v2");
    assert_eq!(report["exported_variables"]["UNSET_ONE"], "");
    let outputs = out.outputs();
    assert_eq!(outputs["IMAGE_TAG"], "v2");
    assert_eq!(outputs["UNSET_ONE"], "");
    assert_eq!(outputs["status"], "SUCCEEDED");
    assert!(
        warnings(&out).iter().any(|w| w.contains("UNSET_ONE")),
        "{out}"
    );
}

#[test]
fn c45_variant_aws_variables_cannot_be_exported() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ AWS_REGION, OK_ONE ]
        phases:
          build:
            commands: [ "OK_ONE=yes" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "SUCCEEDED");
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("AWS_REGION") && w.contains("cannot be exported")),
        "{out}"
    );
    let report = out.report();
    assert!(report["exported_variables"].get("AWS_REGION").is_none());
    assert_eq!(report["exported_variables"]["OK_ONE"], "yes");
    assert!(!out.outputs().contains_key("AWS_REGION"));
}

#[test]
fn exported_variables_even_when_the_build_fails() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ STEP ]
        phases:
          build:
            commands: [ "STEP=build", "false" ]
          post_build:
            commands: [ "STEP=post" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "FAILED");
    assert_eq!(out.outputs()["STEP"], "post");
    assert_eq!(out.outputs()["status"], "FAILED");
}

#[test]
fn c47_secrets_manager_positional_fields() {
    let name = format!("ci/{}", unique("token"));
    let (arn, version_id) = block_on(async {
        let arn = create_secret(&name, "old-token-value").await;
        let id = put_secret_value(&name, "{\"user\":\"bot\",\"n\":42}").await;
        (arn, id)
    });
    let spec = format!(
        r#"
        version: 0.2
        env:
          secrets-manager:
            PREVIOUS: "{name}::AWSPREVIOUS"
            BY_ID: "{name}:::{version_id}"
            CURRENT: "{name}"
            USER: "{name}:user"
            NUMBER: "{name}:n:AWSCURRENT"
            BY_ARN: "{arn}:user"
        phases:
          build:
            commands:
              - printf '%s|' "$PREVIOUS" "$BY_ID" "$CURRENT" "$USER" "$NUMBER" "$BY_ARN" > seen.txt
        "#
    );
    let out = test(&spec).aws().run();
    assert_status(&out, "SUCCEEDED");
    assert_eq!(
        out.workspace_file("seen.txt").unwrap(),
        "old-token-value|{\"user\":\"bot\",\"n\":42}|{\"user\":\"bot\",\"n\":42}|bot|42|bot|"
    );
}

#[test]
fn c47_secret_reference_with_both_stage_and_id_is_an_error() {
    let out = build(
        r#"
        version: 0.2
        env:
          secrets-manager:
            TOKEN: "ci/token::AWSPREVIOUS:3f2a0000-uuid"
        phases:
          build:
            commands:
              - echo never
        "#,
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:4:12"), "{out}");
}

#[test]
fn missing_secret_fails_before_install() {
    let spec = format!(
        r#"
        version: 0.2
        env:
          secrets-manager:
            TOKEN: "{}"
        phases:
          install:
            commands:
              - echo never
        "#,
        unique("nope")
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &[]);
    assert_eq!(
        out.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED")
    );
    assert_status(&out, "FAILED");
}

#[test]
fn precedence_input_over_secrets_over_parameters_over_variables() {
    let id = unique("prec");
    block_on(async {
        for name in ["b", "c", "d"] {
            put_parameter(&format!("/{id}/{name}"), &format!("ssm-{name}-value")).await;
        }
        for name in ["c", "d"] {
            create_secret(&format!("{id}-{name}"), &format!("sm-{name}-value")).await;
        }
    });
    let spec = format!(
        r#"
        version: 0.2
        env:
          variables:
            A: var-a
            B: var-b
            C: var-c
            D: var-d
          parameter-store:
            B: /{id}/b
            C: /{id}/c
            D: /{id}/d
          secrets-manager:
            C: {id}-c
            D: {id}-d
        phases:
          build:
            commands:
              - printf '%s ' "$A" "$B" "$C" "$D" > seen.txt
        "#
    );
    let out = test(&spec).aws().input("env-vars", "D=input-d").run();
    assert_status(&out, "SUCCEEDED");
    assert_eq!(
        out.workspace_file("seen.txt").unwrap(),
        "var-a ssm-b-value sm-c-value input-d "
    );
}
