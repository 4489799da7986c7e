//! `lambda-pipeline import` (issue 16): CodePipeline pipelines in moto, imported live and from
//! the JSON the aws CLI saves, give the same workflow byte for byte; the workflow passes
//! actionlint and gives this action only real inputs; the seed's setup and a pipeline with a
//! CodeDeploy Lambda deployment, parallel actions and a notification rule are snapshotted;
//! bad input names what is wrong and writes nothing. Also the inputs import relies on:
//! `parameter-store`, `secrets-manager` and `{environment}`.
//!
//! moto cannot store notification rules or a deployment group's alarms, and its GetPipeline
//! timestamps are strings the Rust SDK refuses: `harness::pipelines::live_proxy` adds those in
//! front of moto. The orders-api pipeline's offline files are written by hand from the API's
//! shapes (`tests/fixtures/import/orders-api`); the seed's are saved with the aws CLI.

use std::path::{Path, PathBuf};

use crate::harness::faults::{FaultProxy, Rule};
use crate::harness::pipelines::{
    self, ACCOUNT, Aws, ORDERS_REGION, SEED_REGION, fixture, seed_notification_rule,
};
use crate::harness::workflow_lint::{actionlint, assert_real_inputs};
use crate::harness::{Moto, Output, Test, repo_path};

const SEED_WORKFLOW: &str = ".github/workflows/my-lambda.yml";
const ORDERS_WORKFLOW: &str = ".github/workflows/orders-api.yml";
const ORDERS_BUILDSPEC: &str = ".github/workflows/orders-api/package.buildspec.yml";

fn seed_buildspec() -> String {
    std::fs::read_to_string(repo_path(
        "tests/fixtures/seeds/multi-environment/buildspec.yml",
    ))
    .unwrap()
}

/// An import run in a job (`GITHUB_REPOSITORY=octo/hello`, a job summary file), with the AWS
/// API at `endpoint`.
fn import_in_job(endpoint: &str) -> Test {
    Test::new()
        .github_actions()
        .env("AWS_ENDPOINT_URL", endpoint)
        .arg("import")
}

fn path_arg(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

fn assert_ok(out: &Output) {
    assert_eq!(out.code, 0, "{out}");
}

/// The generated workflow: actionlint, real inputs only.
fn check_workflow(out: &Output, path: &str) -> String {
    let text = out
        .workspace_file(path)
        .unwrap_or_else(|| panic!("no {path}; {out}"));
    actionlint(&out.path(path));
    assert_real_inputs(&text);
    text
}

/// Where the aws CLI's saved output goes.
fn saved_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("lp-import-saved-")
        .tempdir()
        .unwrap();
    dir.keep()
}

#[test]
fn the_seed_pipelines_import_live_and_from_saved_json_to_the_same_workflow() {
    let moto = Moto::isolated();
    pipelines::create_seed(&moto);
    let rule = seed_notification_rule();
    let proxy = pipelines::live_proxy(&moto, std::slice::from_ref(&rule), &[]);

    let live = import_in_job(&proxy.endpoint())
        .buildspec(&seed_buildspec())
        .args(&[
            "--pipeline",
            "my-lambda-develop",
            "--pipeline",
            "my-lambda-main",
            "--region",
            SEED_REGION,
        ])
        .run();
    assert_ok(&live);
    assert_eq!(
        proxy.requests_to("POST", "/listNotificationRules").len(),
        2,
        "the notification rules of both pipelines are asked for"
    );
    let workflow = check_workflow(&live, SEED_WORKFLOW);

    // The same pipelines saved with the aws CLI, imported offline.
    let saved = saved_dir();
    let aws = Aws::new(&moto, SEED_REGION);
    for name in ["my-lambda-develop", "my-lambda-main"] {
        aws.save(
            &["codepipeline", "get-pipeline", "--name", name],
            &saved.join(format!("{name}.json")),
        );
    }
    aws.save(
        &[
            "codebuild",
            "batch-get-projects",
            "--names",
            "my-lambda-dev",
            "my-lambda-staging",
            "my-lambda-prod",
        ],
        &saved.join("projects.json"),
    );
    Aws::at(&proxy.endpoint(), SEED_REGION).save(
        &[
            "codestar-notifications",
            "describe-notification-rule",
            "--arn",
            rule["Arn"].as_str().unwrap(),
        ],
        &saved.join("rule.json"),
    );
    let offline = import_in_job("http://127.0.0.1:9")
        .buildspec(&seed_buildspec())
        .args(&[
            "--pipeline-file",
            &path_arg(&saved.join("my-lambda-develop.json")),
            "--pipeline-file",
            &path_arg(&saved.join("my-lambda-main.json")),
            "--project-file",
            &path_arg(&saved.join("projects.json")),
            "--notification-rule-file",
            &path_arg(&saved.join("rule.json")),
        ])
        .run();
    assert_ok(&offline);
    assert_eq!(
        offline.workspace_file(SEED_WORKFLOW).unwrap(),
        workflow,
        "live and offline give the same bytes"
    );
    assert_eq!(offline.stdout, live.stdout, "and the same report");

    // The mapping, spelled out where it matters; the snapshot holds the rest.
    assert!(workflow.contains("branches: [develop, main]"), "{workflow}");
    assert!(
        workflow.contains(
            "branch-environments: |\n            develop: dev\n            main: staging\n"
        ),
        "{workflow}"
    );
    assert!(
        workflow.contains("env-vars: ENV={environment}"),
        "{workflow}"
    );
    assert!(
        workflow.contains("parameter-store: DB_PASSWORD=/my-lambda/{environment}/db-password"),
        "{workflow}"
    );
    assert!(workflow.contains("    environment: prod\n"), "{workflow}");
    assert!(
        workflow.contains("contents: read\n  checks: write\n  id-token: write"),
        "{workflow}"
    );
    let report = &live.stdout;
    assert!(
        report.contains("Add required reviewers to the GitHub environment `prod`"),
        "{report}"
    );
    assert!(
        report.contains(
            "`repo:octo/hello:ref:refs/heads/develop` or `repo:octo/hello:ref:refs/heads/main`"
        ) && report.contains("`repo:octo/hello:environment:prod`"),
        "the OIDC trust policy's sub claims: {report}"
    );
    let summary = live.summary();
    assert!(
        summary.starts_with("## Migration report: `my-lambda`"),
        "the report is the job summary: {summary}"
    );
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{workflow}```")),
        "README's \"Migrating from CodePipeline\" shows exactly what import writes for the seed"
    );
    insta::assert_snapshot!("seed_workflow", workflow);
    insta::assert_snapshot!("seed_report", summary);
}

#[test]
fn a_codedeploy_pipeline_with_parallel_actions_and_a_notification_rule_imports_live_and_offline() {
    let moto = Moto::isolated();
    pipelines::create_orders_api(&moto);
    let rule = pipelines::fixture_json("orders-api/notification-rule.json");
    let group = pipelines::fixture_json("orders-api/deployment-group.json");
    let alarms = group["deploymentGroupInfo"]["alarmConfiguration"].clone();
    let proxy = pipelines::live_proxy(&moto, &[rule], &[("orders-api-prod", alarms)]);
    let appspec = std::fs::read_to_string(fixture("orders-api/appspec.yml")).unwrap();

    let live = import_in_job(&proxy.endpoint())
        .file("appspec.yml", &appspec)
        .args(&["--pipeline", "orders-api", "--region", ORDERS_REGION])
        .run();
    assert_ok(&live);
    let workflow = check_workflow(&live, ORDERS_WORKFLOW);
    let buildspec = live.workspace_file(ORDERS_BUILDSPEC).unwrap();

    let files = |name: &str| path_arg(&fixture(&format!("orders-api/{name}")));
    let offline = import_in_job("http://127.0.0.1:9")
        .file("appspec.yml", &appspec)
        .args(&[
            "--pipeline-file",
            &files("pipeline.json"),
            "--project-file",
            &files("projects.json"),
            "--deployment-group-file",
            &files("deployment-group.json"),
            "--notification-rule-file",
            &files("notification-rule.json"),
        ])
        .run();
    assert_ok(&offline);
    assert_eq!(offline.workspace_file(ORDERS_WORKFLOW).unwrap(), workflow);
    assert_eq!(offline.workspace_file(ORDERS_BUILDSPEC).unwrap(), buildspec);
    assert_eq!(offline.stdout, live.stdout);

    assert!(
        workflow.contains("traffic-shift: canary 10 5m"),
        "{workflow}"
    );
    assert!(
        workflow.contains("alarms: orders-api-errors, orders-api-p99-latency"),
        "{workflow}"
    );
    assert!(
        workflow.contains("sns-topic-arn: arn:aws:sns:eu-west-1:123456789012:orders-api-deploys"),
        "{workflow}"
    );
    assert!(workflow.contains("needs: [unit-tests]"), "{workflow}");
    assert!(workflow.contains("needs: [package]"), "{workflow}");
    assert!(
        workflow.contains(&format!(
            "role-to-assume: arn:aws:iam::{ACCOUNT}:role/github-actions-orders-api # placeholder"
        )),
        "{workflow}"
    );
    // The inline buildspec is the project's, byte for byte, and the action can parse it.
    let project = &pipelines::fixture_json("orders-api/projects.json")["projects"][0];
    assert_eq!(buildspec, project["source"]["buildspec"].as_str().unwrap());
    let validated = Test::new()
        .file(ORDERS_BUILDSPEC, &buildspec)
        .args(&["validate", "--buildspec", ORDERS_BUILDSPEC])
        .run();
    assert_ok(&validated);
    assert!(
        live.stdout.contains("orders-api-smoke") && live.stdout.contains("AWSChatbotSlack"),
        "the Lambda invoke and the Slack target are steps for a person: {}",
        live.stdout
    );
    insta::assert_snapshot!("orders_api_workflow", workflow);
    insta::assert_snapshot!("orders_api_report", live.summary());
}

fn orders_offline(test: Test) -> Test {
    let files = |name: &str| path_arg(&fixture(&format!("orders-api/{name}")));
    test.arg("import").args(&[
        "--pipeline-file",
        &files("pipeline.json"),
        "--project-file",
        &files("projects.json"),
        "--deployment-group-file",
        &files("deployment-group.json"),
    ])
}

#[test]
fn dry_run_prints_the_workflow_and_writes_nothing() {
    let written = orders_offline(Test::new()).run();
    assert_ok(&written);
    let dry = orders_offline(Test::new()).arg("--dry-run").run();
    assert_ok(&dry);
    assert_eq!(
        dry.stdout,
        written.workspace_file(ORDERS_WORKFLOW).unwrap(),
        "stdout is the workflow alone"
    );
    assert!(
        dry.stderr.contains(&format!("# {ORDERS_BUILDSPEC}\n"))
            && dry.stderr.contains("## Migration report"),
        "the buildspec beside it and the report go to stderr: {}",
        dry.stderr
    );
    assert!(!dry.path(".github").exists(), "nothing written");
}

#[test]
fn an_existing_workflow_is_kept_unless_forced() {
    let first = orders_offline(Test::new()).run();
    assert_ok(&first);
    let mine = "# mine\n";
    let test = Test::new().file(ORDERS_WORKFLOW, mine);
    let refused = orders_offline(test).run();
    assert_eq!(refused.code, 2, "{refused}");
    assert!(
        refused
            .stderr
            .contains(&format!("`{ORDERS_WORKFLOW}` exists; nothing was written")),
        "{refused}"
    );
    assert!(refused.stderr.contains("--force"), "{refused}");
    assert_eq!(refused.workspace_file(ORDERS_WORKFLOW).unwrap(), mine);
    assert!(
        refused.workspace_file(ORDERS_BUILDSPEC).is_none(),
        "not even the files beside it"
    );
    let forced = orders_offline(Test::new().file(ORDERS_WORKFLOW, mine))
        .arg("--force")
        .run();
    assert_ok(&forced);
    assert_eq!(
        forced.workspace_file(ORDERS_WORKFLOW),
        first.workspace_file(ORDERS_WORKFLOW)
    );
}

/// A copy of the orders-api pipeline with `edit` applied.
fn edited_pipeline(edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut pipeline = pipelines::fixture_json("orders-api/pipeline.json");
    edit(&mut pipeline);
    let path = saved_dir().join("pipeline.json");
    std::fs::write(&path, serde_json::to_string_pretty(&pipeline).unwrap()).unwrap();
    path
}

fn assert_rejected(out: &Output, needles: &[&str]) {
    assert_eq!(out.code, 2, "{out}");
    for needle in needles {
        assert!(out.stderr.contains(needle), "missing `{needle}`: {out}");
    }
    assert!(!out.path(".github").exists(), "nothing written: {out}");
}

#[test]
fn an_unknown_action_provider_is_named_with_its_action() {
    let pipeline = edited_pipeline(|p| {
        p["pipeline"]["stages"][1]["actions"][0]["actionTypeId"]["provider"] = "CodeBiuld".into();
    });
    let out = Test::new()
        .args(&["import", "--pipeline-file", &path_arg(&pipeline)])
        .run();
    assert_rejected(
        &out,
        &[
            "action `Package` (stage `Build` of pipeline `orders-api`)",
            "the action provider `CodeBiuld`",
            "did you mean `CodeBuild`?",
        ],
    );
}

#[test]
fn a_project_or_deployment_group_no_file_holds_is_named() {
    let files = |name: &str| path_arg(&fixture(&format!("orders-api/{name}")));
    let out = Test::new()
        .args(&["import", "--pipeline-file", &files("pipeline.json")])
        .run();
    assert_rejected(
        &out,
        &[
            "input `project-file`",
            "builds CodeBuild project `orders-api-package`, which no --project-file holds",
            "aws codebuild batch-get-projects --names orders-api-package",
        ],
    );
    let out = Test::new()
        .args(&[
            "import",
            "--pipeline-file",
            &files("pipeline.json"),
            "--project-file",
            &files("projects.json"),
        ])
        .run();
    assert_rejected(
        &out,
        &[
            "action `Deploy` (stage `Deploy` of pipeline `orders-api`)",
            "deployment group `orders-api-prod` of application `orders-api`",
        ],
    );
}

#[test]
fn a_file_that_is_not_the_expected_json_is_named_with_its_place() {
    let files = |name: &str| path_arg(&fixture(&format!("orders-api/{name}")));
    let projects = files("projects.json");
    let out = Test::new()
        .args(&["import", "--pipeline-file", &projects])
        .run();
    assert_rejected(
        &out,
        &[
            &format!(
                "`{projects}` is not `aws codepipeline get-pipeline` output: missing field `pipeline`"
            ),
            "hint: save it with `aws codepipeline get-pipeline --name NAME >",
        ],
    );
    let broken = saved_dir().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"pipeline\": {\n    \"name\": \"x\",\n    \"stages\": [,]\n",
    )
    .unwrap();
    let out = Test::new()
        .args(&["import", "--pipeline-file", &path_arg(&broken)])
        .run();
    assert_rejected(
        &out,
        &[
            &format!("--> {}:4:", broken.display()),
            "4 |     \"stages\": [,]",
        ],
    );
}

#[test]
fn live_reads_name_what_does_not_exist_and_note_what_they_may_not_read() {
    let missing = Test::new()
        .aws()
        .args(&["import", "--pipeline", "no-such-pipeline"])
        .run();
    assert_rejected(
        &missing,
        &["pipeline `no-such-pipeline` does not exist in us-east-1"],
    );

    let moto = Moto::isolated();
    let aws = Aws::new(&moto, SEED_REGION);
    pipelines::create_seed(&moto);

    // Notification rules "where allowed": a refusal is a note in the report.
    let refusing = FaultProxy::start(&moto.endpoint());
    refusing.rule(Rule::on("POST", "/listNotificationRules").aws_error(
        400,
        "AccessDeniedException",
        "User is not authorized to perform: codestar-notifications:ListNotificationRules",
    ));
    refusing.rule(pipelines::epoch_timestamps());
    let out = Test::new()
        .env("AWS_ENDPOINT_URL", &refusing.endpoint())
        .args(&[
            "import",
            "--pipeline",
            "my-lambda-develop",
            "--region",
            SEED_REGION,
            "--dry-run",
        ])
        .run();
    assert_ok(&out);
    assert!(
        out.stderr.contains(
            "the notification rules of pipeline `my-lambda-develop` could not be read \
             (AccessDeniedException: User is not authorized"
        ),
        "{out}"
    );

    // A pipeline whose build names a project that was deleted.
    aws.run(&["codebuild", "delete-project", "--name", "my-lambda-prod"]);
    let proxy = pipelines::live_proxy(&moto, &[], &[]);
    let out = Test::new()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .args(&[
            "import",
            "--pipeline",
            "my-lambda-main",
            "--region",
            SEED_REGION,
        ])
        .run();
    assert_rejected(
        &out,
        &[
            "action `Build` (stage `Prod` of pipeline `my-lambda-main`) builds CodeBuild project `my-lambda-prod`, which does not exist",
        ],
    );
}

#[test]
fn project_references_are_fetched_by_the_build_for_the_branchs_environment() {
    let moto = Moto::shared();
    let aws = Aws::new(moto, "us-east-1");
    let prefix = format!("lp-import-{}", uuid::Uuid::new_v4().simple());
    aws.run(&[
        "ssm",
        "put-parameter",
        "--name",
        &format!("/{prefix}/dev/db-password"),
        "--type",
        "SecureString",
        "--value",
        "s3cret-dev",
    ]);
    aws.run(&[
        "secretsmanager",
        "create-secret",
        "--name",
        &format!("{prefix}/token"),
        "--secret-string",
        r#"{"token":"t0k3n-value"}"#,
    ]);
    let buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - test \"$DB_PASSWORD\" = s3cret-dev\n      - test \"$TOKEN\" = t0k3n-value\n      - test \"$ENV\" = dev\n      - echo \"password $DB_PASSWORD for $ENV\"\n";
    let build = |parameter: &str| {
        Test::new()
            .aws()
            .buildspec(buildspec)
            .env("GITHUB_REF_NAME", "develop")
            .input("branch-environments", "develop: dev\nmain: prod")
            .input("env-vars", "ENV={environment}")
            .input("parameter-store", &format!("DB_PASSWORD={parameter}"))
            .input("secrets-manager", &format!("TOKEN={prefix}/token:token"))
            .arg("build")
            .run()
    };
    let out = build(&format!("/{prefix}/{{environment}}/db-password"));
    assert_ok(&out);
    assert!(
        out.stdout.contains("password *** for dev"),
        "the value is masked: {out}"
    );
    assert!(!out.stdout.contains("s3cret-dev"), "{out}");

    let missing = build(&format!("/{prefix}/{{environment}}/nothing"));
    assert_eq!(missing.code, 1, "{missing}");
    assert!(
        format!("{}{}", missing.stdout, missing.stderr).contains(&format!(
            "input `parameter-store`: DB_PASSWORD: parameter `/{prefix}/dev/nothing` was not found in Parameter Store"
        )),
        "{missing}"
    );
}

#[test]
fn references_without_an_environment_or_malformed_exit_2() {
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - true\n")
        .input("parameter-store", "DB=/app/{environment}/db")
        .arg("build")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains(
            "input `parameter-store`: `DB` uses `{environment}` but no environment is selected"
        ),
        "{out}"
    );
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - true\n")
        .input("secrets-manager", "TOKEN=a:b:c:d:e")
        .arg("build")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr
            .contains("input `secrets-manager`: `TOKEN=a:b:c:d:e` is not a secret reference"),
        "{out}"
    );
}
