//! CodePipeline setups in moto, for the `import` tests, made with the aws CLI as a person
//! would: the seed's CodeCommit → CodePipeline → CodeBuild → Lambda setup (a project per
//! environment with `ENV` and a Parameter Store variable, pipelines on `develop` and `main`, a
//! manual approval before prod, an SNS notification rule), and the `orders-api` pipeline of
//! `tests/fixtures/import/orders-api` (parallel actions, a CodeDeploy Lambda deployment, a
//! Lambda invoke, a notification rule).
//!
//! What moto 5.2 cannot do goes through a `FaultProxy` (`live_proxy`): it has no
//! codestar-notifications service (the proxy answers ListNotificationRules and
//! DescribeNotificationRule with the rules given, in the API's shape), it drops a deployment
//! group's `alarmConfiguration` (patched back in), and its GetPipeline `metadata` carries ISO
//! date strings where the API has epoch seconds, which the Rust SDK refuses (patched to
//! numbers; the aws CLI reads either).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use super::Moto;
use super::faults::{FaultProxy, Rule};

/// The seed's region (ap-northeast-2, as in the seed document) and moto's account.
pub const SEED_REGION: &str = "ap-northeast-2";
pub const ACCOUNT: &str = "123456789012";

/// The orders-api fixtures' region.
pub const ORDERS_REGION: &str = "eu-west-1";

/// The aws CLI against one endpoint and region.
pub struct Aws {
    endpoint: String,
    region: String,
}

impl Aws {
    pub fn new(moto: &Moto, region: &str) -> Aws {
        Aws::at(&moto.endpoint(), region)
    }

    pub fn at(endpoint: &str, region: &str) -> Aws {
        Aws {
            endpoint: endpoint.to_owned(),
            region: region.to_owned(),
        }
    }

    /// Runs `aws <args>` and returns its stdout; panics with stderr when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("aws")
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("AWS_REGION", &self.region)
            .env("AWS_DEFAULT_REGION", &self.region)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output()
            .expect("the aws CLI is required: pip install awscli");
        assert!(
            output.status.success(),
            "aws {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `aws <args> --cli-input-json <input>`.
    pub fn with_input(&self, args: &[&str], input: &Value) -> String {
        let input = input.to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--cli-input-json", &input]);
        self.run(&all)
    }

    /// Writes `aws <args>` output to `path` (what `--pipeline-file` and friends read).
    pub fn save(&self, args: &[&str], path: &std::path::Path) {
        std::fs::write(path, self.run(args)).unwrap();
    }

    fn role(&self, name: &str, service: &str) -> String {
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole"
            }]
        });
        self.run(&[
            "iam",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            &trust.to_string(),
        ]);
        format!("arn:aws:iam::{ACCOUNT}:role/{name}")
    }
}

/// A fixture of `tests/fixtures/import/`.
pub fn fixture(path: &str) -> PathBuf {
    super::repo_path(&format!("tests/fixtures/import/{path}"))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(path)).unwrap()).unwrap()
}

fn action(name: &str, category: &str, provider: &str, configuration: Value) -> Value {
    json!({
        "name": name,
        "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
        "runOrder": 1,
        "configuration": configuration,
    })
}

fn source_stage(branch: &str) -> Value {
    let mut source = action(
        "Source",
        "Source",
        "CodeCommit",
        json!({"RepositoryName": "my-lambda", "BranchName": branch, "PollForSourceChanges": "false"}),
    );
    source["outputArtifacts"] = json!([{"name": "SourceOutput"}]);
    json!({"name": "Source", "actions": [source]})
}

fn build_stage(stage: &str, project: &str, output: &str) -> Value {
    let mut build = action(
        "Build",
        "Build",
        "CodeBuild",
        json!({"ProjectName": project}),
    );
    build["inputArtifacts"] = json!([{"name": "SourceOutput"}]);
    build["outputArtifacts"] = json!([{"name": output}]);
    json!({"name": stage, "actions": [build]})
}

/// The seed's notification rule: failures and approvals of the main pipeline go to the
/// `deploy-notifications` topic (DescribeNotificationRule's shape).
pub fn seed_notification_rule() -> Value {
    json!({
        "Arn": format!("arn:aws:codestar-notifications:{SEED_REGION}:{ACCOUNT}:notificationrule/6b0c4d2e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c"),
        "Name": "my-lambda-main-notifications",
        "EventTypes": [
            {"EventTypeId": "codepipeline-pipeline-pipeline-execution-failed", "ServiceName": "CodePipeline", "EventTypeName": "Pipeline execution: Failed", "ResourceType": "Pipeline"},
            {"EventTypeId": "codepipeline-pipeline-manual-approval-needed", "ServiceName": "CodePipeline", "EventTypeName": "Manual approval: Needed", "ResourceType": "Pipeline"}
        ],
        "Resource": format!("arn:aws:codepipeline:{SEED_REGION}:{ACCOUNT}:my-lambda-main"),
        "Targets": [{"TargetAddress": format!("arn:aws:sns:{SEED_REGION}:{ACCOUNT}:deploy-notifications"), "TargetType": "SNS", "TargetStatus": "ACTIVE"}],
        "DetailType": "FULL",
        "CreatedBy": format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        "Status": "ENABLED",
        "CreatedTimestamp": 1764547200.0,
        "LastModifiedTimestamp": 1764547200.0,
        "Tags": {}
    })
}

/// The seed's setup in `moto`: a CodeCommit repository, a CodeBuild project per environment
/// (`ENV` and a Parameter Store `DB_PASSWORD`), the SNS topic, and two pipelines: `develop`
/// builds dev; `main` builds staging, waits for a manual approval, then builds prod.
pub fn create_seed(moto: &Moto) {
    let aws = Aws::new(moto, SEED_REGION);
    let pipeline_role = aws.role("codepipeline-my-lambda", "codepipeline.amazonaws.com");
    let build_role = aws.role("codebuild-my-lambda", "codebuild.amazonaws.com");
    aws.run(&[
        "codecommit",
        "create-repository",
        "--repository-name",
        "my-lambda",
    ]);
    aws.run(&["sns", "create-topic", "--name", "deploy-notifications"]);
    for env in ["dev", "staging", "prod"] {
        aws.with_input(
            &["codebuild", "create-project"],
            &json!({
                "name": format!("my-lambda-{env}"),
                "source": {"type": "CODEPIPELINE", "location": "my-lambda", "buildspec": "buildspec.yml"},
                "artifacts": {"type": "NO_ARTIFACTS"},
                "environment": {
                    "type": "LINUX_CONTAINER",
                    "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                    "computeType": "BUILD_GENERAL1_SMALL",
                    "environmentVariables": [
                        {"name": "ENV", "value": env, "type": "PLAINTEXT"},
                        {"name": "DB_PASSWORD", "value": format!("/my-lambda/{env}/db-password"), "type": "PARAMETER_STORE"}
                    ]
                },
                "serviceRole": build_role,
                "timeoutInMinutes": 30
            }),
        );
    }
    let pipeline = |name: &str, stages: Vec<Value>| {
        json!({"pipeline": {
            "name": name,
            "roleArn": pipeline_role,
            "artifactStore": {"type": "S3", "location": "codepipeline-artifacts-my-lambda"},
            "stages": stages
        }})
    };
    aws.with_input(
        &["codepipeline", "create-pipeline"],
        &pipeline(
            "my-lambda-develop",
            vec![
                source_stage("develop"),
                build_stage("Build", "my-lambda-dev", "DevOutput"),
            ],
        ),
    );
    let approval = json!({"name": "Approval", "actions": [action(
        "ApproveProd",
        "Approval",
        "Manual",
        json!({
            "CustomData": "Staging looks good? Approve to deploy to prod.",
            "NotificationArn": format!("arn:aws:sns:{SEED_REGION}:{ACCOUNT}:deploy-notifications")
        }),
    )]});
    aws.with_input(
        &["codepipeline", "create-pipeline"],
        &pipeline(
            "my-lambda-main",
            vec![
                source_stage("main"),
                build_stage("Build", "my-lambda-staging", "StagingOutput"),
                approval,
                build_stage("Prod", "my-lambda-prod", "ProdOutput"),
            ],
        ),
    );
}

/// The orders-api fixtures in `moto`: the pipeline, its three projects, and the CodeDeploy
/// application and deployment group (whose alarms moto drops; `live_proxy` puts them back).
pub fn create_orders_api(moto: &Moto) {
    let aws = Aws::new(moto, ORDERS_REGION);
    aws.role("codepipeline-orders-api", "codepipeline.amazonaws.com");
    aws.role("codebuild-orders-api", "codebuild.amazonaws.com");
    aws.role("codedeploy-orders-api", "codedeploy.amazonaws.com");
    for project in fixture_json("orders-api/projects.json")["projects"]
        .as_array()
        .unwrap()
    {
        let mut source = project["source"].clone();
        // moto wants a location even for a CODEPIPELINE source; the API ignores it there.
        source["location"] = json!("orders-api");
        aws.with_input(
            &["codebuild", "create-project"],
            &json!({
                "name": project["name"],
                "source": source,
                "artifacts": {"type": "NO_ARTIFACTS"},
                "cache": project["cache"],
                "environment": project["environment"],
                "serviceRole": project["serviceRole"],
                "timeoutInMinutes": project["timeoutInMinutes"]
            }),
        );
    }
    let group = &fixture_json("orders-api/deployment-group.json")["deploymentGroupInfo"];
    aws.run(&[
        "deploy",
        "create-application",
        "--application-name",
        "orders-api",
        "--compute-platform",
        "Lambda",
    ]);
    aws.with_input(
        &["deploy", "create-deployment-group"],
        &json!({
            "applicationName": group["applicationName"],
            "deploymentGroupName": group["deploymentGroupName"],
            "deploymentConfigName": group["deploymentConfigName"],
            "serviceRoleArn": group["serviceRoleArn"],
            "alarmConfiguration": group["alarmConfiguration"],
            "autoRollbackConfiguration": group["autoRollbackConfiguration"],
            "deploymentStyle": group["deploymentStyle"]
        }),
    );
    let mut pipeline = fixture_json("orders-api/pipeline.json")["pipeline"].clone();
    pipeline.as_object_mut().unwrap().remove("version");
    aws.with_input(
        &["codepipeline", "create-pipeline"],
        &json!({"pipeline": pipeline}),
    );
}

/// A proxy in front of `moto` that adds what moto lacks (see the module's header): the
/// notification `rules` (DescribeNotificationRule's shape; ListNotificationRules answers with
/// the ones whose `Resource` is asked for), deployment group `alarms`
/// (`(group name, alarmConfiguration)`), and epoch timestamps in GetPipeline.
pub fn live_proxy(moto: &Moto, rules: &[Value], alarms: &[(&str, Value)]) -> FaultProxy {
    let proxy = FaultProxy::start(&moto.endpoint());
    let json_type = [("content-type", "application/json")];
    for rule in rules {
        let resource = rule["Resource"].as_str().unwrap();
        let arn = rule["Arn"].as_str().unwrap();
        let listed = json!({"NotificationRules": [{"Id": arn.rsplit('/').next(), "Arn": arn}]});
        proxy.rule(
            Rule::on("POST", "/listNotificationRules")
                .body_contains(resource)
                .respond(200, &json_type, &listed.to_string()),
        );
        proxy.rule(
            Rule::on("POST", "/describeNotificationRule")
                .body_contains(arn)
                .respond(200, &json_type, &rule.to_string()),
        );
    }
    proxy.rule(Rule::on("POST", "/listNotificationRules").respond(
        200,
        &json_type,
        r#"{"NotificationRules": []}"#,
    ));
    for (group, configuration) in alarms {
        proxy.rule(
            Rule::on("POST", "/")
                .body_contains(&format!("\"deploymentGroupName\":\"{group}\""))
                .patch(
                    "deploymentGroupInfo.alarmConfiguration",
                    configuration.clone(),
                ),
        );
    }
    proxy.rule(epoch_timestamps());
    proxy
}

/// GetPipeline's `metadata.created` and `updated` as epoch seconds, as the API sends them
/// (moto sends ISO strings, which the Rust SDK refuses).
pub fn epoch_timestamps() -> Rule {
    Rule::on("POST", "/")
        .body_contains("{\"name\":")
        .patch("metadata.created", json!(1764547200))
        .patch("metadata.updated", json!(1764633600))
}
