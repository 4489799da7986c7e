//! The deploy stage against the shared moto server: target selection, the safe sequence,
//! unchanged redeploys, S3 uploads, canary weights, rollback, SNS, OIDC, and (through the
//! fault-injecting proxy) what moto cannot do. Function names are unique per test because
//! every test shares one moto.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine as _;
use lambda_pipeline::base::report::{ArtifactReport, RunReport};
use lambda_pipeline::cancel::CancelToken;
use lambda_pipeline::cli::Cli;
use lambda_pipeline::commands::{self, Context, Reporters};
use lambda_pipeline::deploy::{self, DeployStatus};
use lambda_pipeline::env::Env;
use lambda_pipeline::events::{Event, EventBus, Recorder, StageContext};
use lambda_pipeline::redact::Redactor;
use lambda_pipeline::settings::Settings;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::harness::aws::{
    alias, aws, aws_at, code_sha, create_function, handler_code, isolated_with, lambda_client,
    received, topic_with_queue, unique, versions, write_zip,
};
use crate::harness::faults::{FaultProxy, Rule};
use crate::harness::{Moto, Test, parse_file_commands};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// A zip holding `files`, written under a temp dir, described as packaging would.
pub(crate) fn package(files: &[(&str, &[u8])]) -> ArtifactReport {
    let (path, uncompressed) = write_zip(files);
    describe_zip(&path, uncompressed)
}

fn describe_zip(path: &Path, uncompressed: u64) -> ArtifactReport {
    let bytes = std::fs::read(path).unwrap();
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    ArtifactReport {
        identifier: "primary".into(),
        zip: path.display().to_string(),
        size: bytes.len() as u64,
        uncompressed_size: uncompressed,
        sha256: sha,
        needs_s3: bytes.len() as u64 > 50 * 1024 * 1024,
        ..ArtifactReport::default()
    }
}

pub(crate) fn handler(version: &str) -> ArtifactReport {
    package(&[("lambda_function.py", handler_code(version).as_bytes())])
}

/// One in-process deploy run: inputs as the runner passes them, pointed at moto (or a proxy).
struct Deploy {
    env: Vec<(String, String)>,
    cancel: CancelToken,
    outputs: PathBuf,
    recorder: Recorder,
}

impl Deploy {
    fn new() -> Deploy {
        let outputs = tempfile::tempdir().unwrap().keep().join("output");
        let mut env = Moto::shared().env();
        env.extend(
            [
                ("GITHUB_SHA", COMMIT),
                ("GITHUB_REPOSITORY", "octo/hello"),
                ("GITHUB_RUN_ID", "4242"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_OUTPUT", outputs.to_str().unwrap()),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        Deploy {
            env,
            cancel: CancelToken::new(),
            outputs,
            recorder: Recorder::default(),
        }
    }

    fn input(mut self, name: &str, value: &str) -> Deploy {
        self.env
            .push((format!("INPUT_{}", name.to_uppercase()), value.to_owned()));
        self
    }

    fn env(mut self, name: &str, value: &str) -> Deploy {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    fn without(mut self, name: &str) -> Deploy {
        self.env.retain(|(k, _)| k != name);
        self
    }

    fn through(self, proxy: &FaultProxy) -> Deploy {
        self.env("AWS_ENDPOINT_URL", &proxy.endpoint())
    }

    /// The command's context, as `lambda-pipeline <command>` resolves it.
    fn context(&self, command: &str) -> Context {
        let env = Env::from_pairs(self.env.clone());
        let cli = Cli::parse_with_inputs(vec!["lambda-pipeline".into(), command.into()], &env)
            .expect("inputs parse");
        let settings = Settings::resolve(&cli, &env).expect("a valid plan");
        let bus = EventBus::new();
        bus.add(Box::new(self.recorder.clone()));
        let stage = StageContext {
            bus,
            redactor: Redactor::new(),
            cancel: self.cancel.clone(),
        };
        Context::new(settings, stage)
    }

    /// `run`'s deploy step for `package`, then the step outputs.
    async fn run(&self, package: &ArtifactReport) -> Deployed {
        let context = self.context("run");
        let reporters = Reporters::quiet(&context);
        let mut report = RunReport::new("run", "lambda-pipeline:test");
        report.commit = Some(COMMIT.to_owned());
        report.run_url = Some("https://github.com/octo/hello/actions/runs/4242".to_owned());
        let status = commands::run::deploy(
            &context,
            &reporters,
            deploy::Code::Zip(package),
            &mut report,
        )
        .await;
        reporters.write_outputs(&report);
        Deployed {
            status,
            report,
            outputs: self.outputs(),
            log: self.log(),
        }
    }

    async fn rollback(&self) -> lambda_pipeline::ExitStatus {
        let context = self.context("rollback");
        commands::rollback::run(&context).await.exit_status()
    }

    fn outputs(&self) -> std::collections::BTreeMap<String, String> {
        parse_file_commands(&std::fs::read_to_string(&self.outputs).unwrap_or_default())
    }

    fn log(&self) -> Vec<String> {
        self.recorder
            .events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::DeployProgress { function, message } => {
                    Some(format!("{function}: {message}"))
                }
                Event::Log { message, .. } => Some(message.clone()),
                Event::RolledBack {
                    function,
                    to_version,
                    reason,
                } => Some(format!("{function}: rolled back to {to_version}: {reason}")),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug)]
struct Deployed {
    status: DeployStatus,
    report: RunReport,
    outputs: std::collections::BTreeMap<String, String>,
    log: Vec<String>,
}

impl Deployed {
    fn entry(&self) -> &lambda_pipeline::base::report::DeployEntry {
        &self.report.deploy[0]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_from_the_branch_and_a_name_template() {
    let base = unique("tmpl");
    let staging = format!("{base}-staging");
    let prod = format!("{base}-prod");
    create_function(&staging).await;
    create_function(&prod).await;
    let code = handler("v1");
    let done = Deploy::new()
        .input("function-name", &format!("{base}-{{environment}}"))
        .input(
            "branch-environments",
            "develop: dev\n'release/*': staging\nmain: prod",
        )
        .env("GITHUB_REF", "refs/heads/release/2.0")
        .run(&code)
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let entry = done.entry();
    assert_eq!(entry.function_name, staging);
    assert_eq!(entry.environment, "staging");
    assert!(entry.deployed);
    assert_eq!(entry.version, "1");
    assert_eq!(entry.previous_version, "");
    assert_eq!(entry.upload, "direct");
    assert_eq!(code_sha(&staging).await, code.sha256);
    assert_ne!(code_sha(&prod).await, code.sha256, "prod must not change");
    let (version, weights, description) = alias(&staging, "live").await.expect("alias live");
    assert_eq!(version, "1");
    assert!(weights.is_empty());
    assert!(
        description.starts_with("lambda-pipeline commit=0123456789ab"),
        "{description}"
    );
    // Step outputs.
    let outputs = &done.outputs;
    assert_eq!(outputs["version"], "1");
    assert_eq!(outputs["deployed"], "true");
    assert_eq!(outputs["rolled-back"], "false");
    assert_eq!(outputs["code-sha256"], code.sha256);
    assert_eq!(outputs["package-size"], code.size.to_string());
    assert!(outputs["function-arn"].ends_with(&format!(":function:{staging}")));
    assert!(outputs["alias-arn"].ends_with(&format!(":function:{staging}:live")));
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_from_targets_with_several_functions() {
    let base = unique("tgt");
    let dev = format!("{base}-dev");
    let (api, worker) = (format!("{base}-api"), format!("{base}-worker"));
    for name in [&dev, &api, &worker] {
        create_function(name).await;
    }
    let targets = format!(
        "dev:\n  function: {dev}\nprod:\n  function: [{api}, {worker}]\n  alias: current\n"
    );
    let code = handler("v1");
    let done = Deploy::new()
        .input("environment", "prod")
        .input("targets", &targets)
        .run(&code)
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let names: Vec<_> = done
        .report
        .deploy
        .iter()
        .map(|e| e.function_name.clone())
        .collect();
    assert_eq!(names, [api.clone(), worker.clone()]);
    for name in [&api, &worker] {
        assert_eq!(alias(name, "current").await.unwrap().0, "1");
    }
    assert!(versions(&dev).await.is_empty(), "dev must not change");
    assert_eq!(done.outputs["version"], "1,1");
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_redeploy_publishes_no_version() {
    let name = unique("same");
    create_function(&name).await;
    let code = handler("v1");
    let deploy = Deploy::new().input("function-name", &name);
    let first = deploy.run(&code).await;
    assert_eq!(first.status, DeployStatus::Succeeded, "{first:#?}");
    assert_eq!(versions(&name).await, ["1"]);

    let again = Deploy::new().input("function-name", &name).run(&code).await;
    assert_eq!(again.status, DeployStatus::Succeeded, "{again:#?}");
    let entry = again.entry();
    assert!(!entry.deployed);
    assert_eq!(entry.version, "1");
    assert_eq!(entry.previous_version, "1");
    assert_eq!(entry.upload, "none");
    assert_eq!(versions(&name).await, ["1"], "no new version");
    assert_eq!(again.outputs["deployed"], "false");
    assert!(
        again.log.iter().any(|l| l.contains("code unchanged")),
        "{:?}",
        again.log
    );

    // `force` deploys anyway.
    let forced = Deploy::new()
        .input("function-name", &name)
        .input("force", "true")
        .run(&code)
        .await;
    assert_eq!(forced.status, DeployStatus::Succeeded, "{forced:#?}");
    assert!(forced.entry().deployed);
}

#[tokio::test(flavor = "multi_thread")]
async fn alias_is_repaired_when_code_is_unchanged() {
    let name = unique("repair");
    create_function(&name).await;
    let v1 = handler("v1");
    let first = Deploy::new().input("function-name", &name).run(&v1).await;
    assert_eq!(first.status, DeployStatus::Succeeded, "{first:#?}");
    // Someone points the alias elsewhere by hand.
    let config = Moto::shared().sdk_config().await;
    lambda_client(&config)
        .update_alias()
        .function_name(&name)
        .name("live")
        .function_version("$LATEST")
        .send()
        .await
        .unwrap();
    let again = Deploy::new().input("function-name", &name).run(&v1).await;
    assert_eq!(again.status, DeployStatus::Succeeded, "{again:#?}");
    assert!(!again.entry().deployed);
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    assert_eq!(versions(&name).await, ["1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_over_50_mb_goes_through_s3() {
    let name = unique("big");
    create_function(&name).await;
    let bucket = unique("lp-artifacts");
    aws(&["s3api", "create-bucket", "--bucket", &bucket]);
    let mut noise = vec![0u8; 51 * 1024 * 1024];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for chunk in noise.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let code = package(&[
        ("blob.bin", &noise),
        (
            "lambda_function.py",
            b"def lambda_handler(e, c):\n    return 1\n",
        ),
    ]);
    assert!(code.size > 50 * 1024 * 1024);
    let done = Deploy::new()
        .input("function-name", &name)
        .input("s3-bucket", &bucket)
        .input("s3-key-prefix", "deploys/")
        .run(&code)
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let upload = &done.entry().upload;
    let hex: String = base64::engine::general_purpose::STANDARD
        .decode(&code.sha256)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = format!("deploys/{name}/{hex}.zip");
    assert_eq!(upload, &format!("s3://{bucket}/{key}"));
    let head = aws(&["s3api", "head-object", "--bucket", &bucket, "--key", &key]);
    assert_eq!(head["ContentLength"].as_u64(), Some(code.size));
    assert_eq!(code_sha(&name).await, code.sha256);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_over_50_mb_without_a_bucket_fails_before_uploading() {
    let name = unique("big-nobucket");
    create_function(&name).await;
    let mut code = handler("v1");
    code.size = 60 * 1024 * 1024;
    code.needs_s3 = true;
    let done = Deploy::new().input("function-name", &name).run(&code).await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("`s3-bucket` is not set"), "{error}");
    assert!(versions(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_sets_weights_then_clears_them() {
    let name = unique("canary");
    create_function(&name).await;
    let first = Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    assert_eq!(first.status, DeployStatus::Succeeded, "{first:#?}");
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let done = Deploy::new()
        .input("function-name", &name)
        .input("traffic-shift", "canary 10 1s")
        .through(&proxy)
        .run(&handler("v2"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let updates: Vec<Value> = proxy
        .requests_to("PUT", &format!("/functions/{name}/aliases/live"))
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(updates.len(), 2, "{updates:#?}");
    assert_eq!(updates[0]["FunctionVersion"], "1");
    assert_eq!(
        updates[0]["RoutingConfig"]["AdditionalVersionWeights"],
        json!({"2": 0.1})
    );
    assert_eq!(updates[1]["FunctionVersion"], "2");
    assert_eq!(
        updates[1]["RoutingConfig"]["AdditionalVersionWeights"],
        json!({})
    );
    let (version, weights, description) = alias(&name, "live").await.unwrap();
    assert_eq!((version.as_str(), weights.len()), ("2", 0));
    assert!(description.contains("previous=1"), "{description}");
}

#[tokio::test(flavor = "multi_thread")]
async fn linear_shift_steps_through_the_weights() {
    let name = unique("linear");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let done = Deploy::new()
        .input("function-name", &name)
        .input("traffic-shift", "linear 40 500ms")
        .through(&proxy)
        .run(&handler("v2"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let weights: Vec<Value> = proxy
        .requests_to("PUT", &format!("/functions/{name}/aliases/live"))
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["RoutingConfig"]["AdditionalVersionWeights"].clone())
        .collect();
    assert_eq!(weights, [json!({"2": 0.4}), json!({"2": 0.8}), json!({})]);
}

/// A proxy that answers CloudWatch DescribeAlarms with `alarms` as `(name, state)`.
fn alarms_proxy(alarms: &[(&str, &str)]) -> FaultProxy {
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let metric_alarms: Vec<Value> = alarms
        .iter()
        .map(|(name, state)| json!({"AlarmName": name, "StateValue": state}))
        .collect();
    proxy.rule(
        Rule::on("POST", "/operation/DescribeAlarms")
            .respond_cbor(&json!({"MetricAlarms": metric_alarms})),
    );
    proxy
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_mid_shift_restores_the_old_routing() {
    let name = unique("cancel");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let deploy = Deploy::new()
        .input("function-name", &name)
        .input("traffic-shift", "canary 10 5m");
    let cancel = deploy.cancel.clone();
    let watched = name.clone();
    let watcher = tokio::spawn(async move {
        // Cancel once the canary weight is in place, as SIGTERM would.
        loop {
            if let Some((_, weights, _)) = alias(&watched, "live").await
                && !weights.is_empty()
            {
                cancel.stop(lambda_pipeline::cancel::StopReason::Cancelled);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let done = deploy.run(&handler("v2")).await;
    watcher.await.unwrap();
    assert_eq!(done.status, DeployStatus::Cancelled, "{done:#?}");
    let (version, weights, description) = alias(&name, "live").await.unwrap();
    assert_eq!(
        (version.as_str(), weights.len()),
        ("1", 0),
        "old routing restored"
    );
    assert!(
        !description.contains("previous=1"),
        "old description restored: {description}"
    );
    assert!(
        done.log.iter().any(|l| l.contains("cancelled")),
        "{:?}",
        done.log
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_during_the_shift_rolls_back() {
    let name = unique("alarm");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let alarm = unique("errors");
    let proxy = alarms_proxy(&[(&alarm, "ALARM")]);
    let done = Deploy::new()
        .input("function-name", &name)
        .input("traffic-shift", "canary 20 10s")
        .input("alarms", &alarm)
        .through(&proxy)
        .run(&handler("v2"))
        .await;
    assert_eq!(done.status, DeployStatus::RolledBack, "{done:#?}");
    let entry = done.entry();
    assert!(entry.rolled_back);
    assert_eq!(entry.version, "1");
    assert!(entry.error.as_deref().unwrap().contains(&alarm));
    assert_eq!(done.outputs["rolled-back"], "true");
    let updates: Vec<Value> = proxy
        .requests_to("PUT", &format!("/functions/{name}/aliases/live"))
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(updates.len(), 2, "{updates:#?}");
    assert_eq!(
        updates[0]["RoutingConfig"]["AdditionalVersionWeights"],
        json!({"2": 0.2})
    );
    assert_eq!(updates[1]["FunctionVersion"], "1");
    let (version, weights, _) = alias(&name, "live").await.unwrap();
    assert_eq!((version.as_str(), weights.len()), ("1", 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_alarm_lets_the_shift_finish() {
    let name = unique("quiet");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let proxy = alarms_proxy(&[("errors-quiet", "OK")]);
    let done = Deploy::new()
        .input("function-name", &name)
        .input("traffic-shift", "canary 20 1s")
        .input("alarms", "errors-quiet")
        .through(&proxy)
        .run(&handler("v2"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    assert!(proxy.requests_to("POST", "DescribeAlarms").len() >= 3);
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_alarm_fails_before_anything_changes() {
    let name = unique("noalarm");
    create_function(&name).await;
    let proxy = alarms_proxy(&[]);
    let done = Deploy::new()
        .input("function-name", &name)
        .input("alarms", "no-such-alarm-anywhere")
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("`no-such-alarm-anywhere`"), "{error}");
    assert!(versions(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_command_moves_the_alias_back() {
    let name = unique("rollback");
    create_function(&name).await;
    let deploy = || {
        Deploy::new()
            .input("function-name", &name)
            .input("environment", "prod")
    };
    assert_eq!(
        deploy().run(&handler("v1")).await.status,
        DeployStatus::Succeeded
    );
    let second = deploy().run(&handler("v2")).await;
    assert_eq!(second.entry().version, "2", "{second:#?}");
    assert_eq!(second.entry().previous_version, "1");

    let rollback = deploy();
    assert_eq!(
        rollback.rollback().await,
        lambda_pipeline::ExitStatus::Success
    );
    let (version, _, description) = alias(&name, "live").await.unwrap();
    assert_eq!(version, "1");
    assert!(description.contains("previous=2"), "{description}");
    let outputs = rollback.outputs();
    assert_eq!(outputs["version"], "1");
    assert_eq!(outputs["previous-version"], "2");
    assert_eq!(outputs["rolled-back"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_without_a_record_fails_clearly() {
    let name = unique("norecord");
    create_function(&name).await;
    let first = Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    assert_eq!(first.status, DeployStatus::Succeeded);
    // The first deploy created the alias: there is no previous version to go back to.
    let rollback = Deploy::new().input("function-name", &name);
    assert_eq!(
        rollback.rollback().await,
        lambda_pipeline::ExitStatus::Failure
    );
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_test_mismatch_fails_before_traffic_moves() {
    let name = unique("smoke");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    // moto's Docker-free backend echoes the payload back.
    let passed = Deploy::new()
        .input("function-name", &name)
        .input("smoke-test", r#"{"name": "smoke", "n": 1}"#)
        .input("smoke-test-expect", r#"{"n": 1}"#)
        .run(&handler("v2"))
        .await;
    assert_eq!(passed.status, DeployStatus::Succeeded, "{passed:#?}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");

    let failed = Deploy::new()
        .input("function-name", &name)
        .input("smoke-test", r#"{"name": "smoke", "n": 1}"#)
        .input("smoke-test-expect", r#"{"n": 2}"#)
        .run(&handler("v3"))
        .await;
    assert_eq!(failed.status, DeployStatus::Failed);
    let error = failed.entry().error.clone().unwrap();
    assert!(error.contains("$.n is 1, expected 2"), "{error}");
    assert_eq!(
        alias(&name, "live").await.unwrap().0,
        "2",
        "traffic must not move"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_message_read_back_through_sqs() {
    let name = unique("notify");
    create_function(&name).await;
    let (topic, queue) = topic_with_queue();
    let code = handler("v1");
    let done = Deploy::new()
        .input("function-name", &name)
        .input("environment", "dev")
        .input("sns-topic-arn", &topic)
        .input("notify-on", "start,success")
        .run(&code)
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let mut envelopes = received(&queue);
    envelopes.extend(received(&queue));
    assert_eq!(envelopes.len(), 2, "{envelopes:#?}");
    let success = envelopes
        .iter()
        .find(|e| e["MessageAttributes"]["status"]["Value"] == "succeeded")
        .expect("a success message");
    assert_eq!(success["Subject"], format!("Deployed {name} v1 to dev"));
    assert_eq!(success["MessageAttributes"]["environment"]["Value"], "dev");
    assert_eq!(
        success["MessageAttributes"]["function"]["Value"],
        name.as_str()
    );
    let message: Value = serde_json::from_str(success["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["status"], "succeeded");
    assert_eq!(message["environment"], "dev");
    assert_eq!(message["functions"], json!([name]));
    assert_eq!(message["version"], "1");
    assert_eq!(message["alias"], "live");
    assert_eq!(message["code_sha256"], code.sha256.as_str());
    assert_eq!(message["commit"], COMMIT);
    assert_eq!(
        message["run_url"],
        "https://github.com/octo/hello/actions/runs/4242"
    );
    assert!(message["duration_ms"].is_u64());
    assert!(
        envelopes
            .iter()
            .any(|e| e["MessageAttributes"]["status"]["Value"] == "started")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_sns_publish_is_a_warning() {
    let name = unique("notify-missing");
    create_function(&name).await;
    let done = Deploy::new()
        .input("function-name", &name)
        .input(
            "sns-topic-arn",
            "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        )
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    assert!(
        done.report
            .warnings
            .iter()
            .any(|w| w.message.contains("SNS notification not sent")),
        "{:?}",
        done.report.warnings
    );
}

/// A JWT-shaped token with the claims GitHub puts in.
fn github_token() -> String {
    let encode = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2ln",
        encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        encode(
            r#"{"sub":"repo:octo/hello:environment:prod","aud":"sts.amazonaws.com","iss":"https://token.actions.githubusercontent.com"}"#
        )
    )
}

async fn token_endpoint() -> wiremock::MockServer {
    use wiremock::matchers::{header, method, path, query_param};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("audience", "sts.amazonaws.com"))
        .and(header("authorization", "Bearer request-token-xyz"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(json!({"value": github_token()})),
        )
        .expect(1..)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_through_a_local_token_endpoint() {
    let name = unique("oidc");
    create_function(&name).await;
    let server = token_endpoint().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let done = Deploy::new()
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .without("AWS_SESSION_TOKEN")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/token?api-version=2.0", server.uri()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-xyz")
        .input("function-name", &name)
        .input(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/gha-deploy",
        )
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    server.verify().await;
    let sts = proxy.requests_to("POST", "/");
    assert!(
        sts.iter()
            .any(|r| r.body.contains("Action=AssumeRoleWithWebIdentity")
                && r.body.contains("gha-deploy")),
        "{sts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expiring_role_credentials_are_minted_again() {
    let name = unique("oidc-remint");
    create_function(&name).await;
    let server = token_endpoint().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    // Credentials that expire in 5 s: inside the SDK's refresh buffer, so every later call
    // needs new ones, as a long traffic shift past a 1 h session would.
    let expiration = (chrono::Utc::now() + chrono::Duration::seconds(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAREMINT</AccessKeyId><SecretAccessKey>remint-secret</SecretAccessKey><SessionToken>remint-session</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/gha-deploy/x</Arn><AssumedRoleId>AROAREMINT:x</AssumedRoleId></AssumedRoleUser></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    );
    proxy.rule(
        Rule::on("POST", "/")
            .body_contains("AssumeRoleWithWebIdentity")
            .respond(200, &[("content-type", "text/xml")], &body),
    );
    let done = Deploy::new()
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .without("AWS_SESSION_TOKEN")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/token?api-version=2.0", server.uri()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-xyz")
        .input("function-name", &name)
        .input(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/gha-deploy",
        )
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/token")
        .count();
    let assumes = proxy
        .requests_to("POST", "/")
        .iter()
        .filter(|r| r.body.contains("AssumeRoleWithWebIdentity"))
        .count();
    assert!(tokens >= 2, "the token was fetched {tokens} times");
    assert_eq!(tokens, assumes, "each fresh token is exchanged once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_assume_role_names_the_token_claims() {
    let name = unique("oidc-refused");
    create_function(&name).await;
    let server = token_endpoint().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(Rule::on("POST", "/").body_contains("AssumeRoleWithWebIdentity").respond(
        403,
        &[("content-type", "text/xml")],
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>1</RequestId></ErrorResponse>",
    ));
    let done = Deploy::new()
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/token?api-version=2.0", server.uri()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-xyz")
        .input("function-name", &name)
        .input(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/gha-deploy",
        )
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("AccessDenied"), "{error}");
    assert!(
        error.contains("sub=`repo:octo/hello:environment:prod`"),
        "{error}"
    );
    assert!(error.contains("aud=`sts.amazonaws.com`"), "{error}");
    assert!(versions(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn in_progress_then_successful_is_waited_for() {
    let name = unique("inprogress");
    create_function(&name).await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("GET", &format!("/functions/{name}"))
            .times(1)
            .patch("Configuration.LastUpdateStatus", json!("InProgress")),
    );
    proxy.rule(
        Rule::on("PUT", &format!("/functions/{name}/code"))
            .times(1)
            .patch("LastUpdateStatus", json!("InProgress")),
    );
    proxy.rule(
        Rule::on("GET", &format!("/functions/{name}/configuration"))
            .times(2)
            .patch("LastUpdateStatus", json!("InProgress")),
    );
    let done = Deploy::new()
        .input("function-name", &name)
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let polls = proxy.requests_to("GET", &format!("/functions/{name}/configuration"));
    assert!(polls.len() >= 3, "{polls:#?}");
    // The update happened only once the function had settled.
    let order: Vec<String> = proxy
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let first_poll = order
        .iter()
        .position(|r| r.contains("/configuration"))
        .unwrap();
    let update = order
        .iter()
        .position(|r| r.starts_with("PUT") && r.contains("/code"))
        .unwrap();
    assert!(first_poll < update, "{order:#?}");
    assert!(
        done.log.iter().any(|l| l.contains("InProgress")),
        "{:?}",
        done.log
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_update_stops_the_deploy() {
    let name = unique("failed");
    create_function(&name).await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("PUT", &format!("/functions/{name}/code"))
            .patch("LastUpdateStatus", json!("InProgress")),
    );
    proxy.rule(
        Rule::on("GET", &format!("/functions/{name}/configuration"))
            .patch("LastUpdateStatus", json!("Failed"))
            .patch(
                "LastUpdateStatusReason",
                json!("unzipped size must be smaller than 262144000 bytes"),
            ),
    );
    let done = Deploy::new()
        .input("function-name", &name)
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("LastUpdateStatus `Failed`"), "{error}");
    assert!(error.contains("262144000"), "{error}");
    assert!(versions(&name).await.is_empty(), "nothing published");
    assert!(alias(&name, "live").await.is_none(), "no alias");
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_timeout_names_the_stuck_state() {
    let name = unique("stuck");
    create_function(&name).await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("GET", &format!("/functions/{name}/configuration"))
            .patch("LastUpdateStatus", json!("InProgress")),
    );
    proxy.rule(
        Rule::on("GET", &format!("/functions/{name}"))
            .patch("Configuration.LastUpdateStatus", json!("InProgress"))
            .patch("Configuration.State", json!("Active")),
    );
    let done = Deploy::new()
        .input("function-name", &name)
        .input("wait-timeout", "2s")
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("LastUpdateStatus `InProgress`"), "{error}");
    assert!(error.contains("wait-timeout"), "{error}");
    assert_ne!(code_sha(&name).await, handler("v1").sha256, "no upload");
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_conflicts_and_server_errors_are_retried() {
    let name = unique("retry");
    create_function(&name).await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("PUT", &format!("/functions/{name}/code"))
            .times(2)
            .aws_error(429, "TooManyRequestsException", "Rate exceeded"),
    );
    proxy.rule(
        Rule::on("POST", &format!("/functions/{name}/versions"))
            .times(1)
            .aws_error(409, "ResourceConflictException", "An update is in progress"),
    );
    proxy.rule(
        Rule::on("POST", &format!("/functions/{name}/aliases"))
            .times(2)
            .aws_error(503, "ServiceException", "try again"),
    );
    let done = Deploy::new()
        .input("function-name", &name)
        .through(&proxy)
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    let injected = |method: &str, path: &str| {
        proxy
            .requests_to(method, path)
            .iter()
            .filter(|r| r.injected)
            .count()
    };
    assert_eq!(injected("PUT", "/code"), 2);
    assert_eq!(injected("POST", "/versions"), 1);
    assert_eq!(injected("POST", "/aliases"), 2);
    assert_eq!(versions(&name).await, ["1"]);
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_error_in_the_smoke_test_keeps_traffic_where_it_was() {
    let name = unique("smoke-error");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("POST", &format!("/functions/{name}/invocations")).respond(
            200,
            &[
                ("x-amz-function-error", "Unhandled"),
                ("content-type", "application/json"),
            ],
            r#"{"errorMessage":"boom","errorType":"RuntimeError"}"#,
        ),
    );
    let done = Deploy::new()
        .input("function-name", &name)
        .input("smoke-test", r#"{"name":"smoke"}"#)
        .through(&proxy)
        .run(&handler("v2"))
        .await;
    assert_eq!(done.status, DeployStatus::Failed);
    let error = done.entry().error.clone().unwrap();
    assert!(error.contains("FunctionError (`Unhandled`)"), "{error}");
    assert!(error.contains("boom"), "{error}");
    let invoke = proxy.requests_to("POST", "/invocations");
    assert!(invoke[0].path.contains("Qualifier=2"), "{invoke:#?}");
    assert_eq!(
        alias(&name, "live").await.unwrap().0,
        "1",
        "traffic must not move"
    );
    assert!(proxy.requests_to("PUT", "/aliases/live").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing() {
    let name = unique("dry");
    create_function(&name).await;
    let before = code_sha(&name).await;
    let done = Deploy::new()
        .input("function-name", &name)
        .input("dry-run", "true")
        .input("traffic-shift", "canary 10 5m")
        .run(&handler("v1"))
        .await;
    assert_eq!(done.status, DeployStatus::Succeeded, "{done:#?}");
    assert!(
        done.log.iter().any(|l| l.contains("dry run: would upload")),
        "{:?}",
        done.log
    );
    assert_eq!(code_sha(&name).await, before);
    assert!(versions(&name).await.is_empty());
    assert!(alias(&name, "live").await.is_none());
}

/// A bad deploy input: exit 2, a message naming the input, no build command run, and nothing
/// changed in moto.
fn rejects(inputs: &[(&str, &str)], expected: &[&str]) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = unique("bad");
    runtime.block_on(create_function(&name));
    let sha = runtime.block_on(code_sha(&name));
    let mut test = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - touch ran\n")
        .aws()
        .input("function-name", &name);
    for (input, value) in inputs {
        test = test.input(input, &value.replace("{name}", &name));
    }
    let out = test.arg("run").run();
    assert_eq!(out.code, 2, "{out}");
    for text in expected {
        assert!(out.stderr.contains(text), "expected `{text}` in\n{out}");
    }
    assert!(
        out.workspace_file("ran").is_none(),
        "the build must not run"
    );
    assert_eq!(runtime.block_on(code_sha(&name)), sha);
    assert!(runtime.block_on(versions(&name)).is_empty());
    assert!(runtime.block_on(alias(&name, "live")).is_none());
}

#[test]
fn bad_input_unknown_environment() {
    rejects(
        &[
            ("function-name", ""),
            ("environment", "qa"),
            ("targets", "dev: {name}\nprod: {name}\n"),
        ],
        &["input `environment`", "`qa` has no target", "dev, prod"],
    );
}

#[test]
fn bad_input_malformed_targets() {
    rejects(
        &[
            ("function-name", ""),
            ("environment", "dev"),
            ("targets", "dev:\n  function: {name}\n  alais: live\n"),
        ],
        &[
            "input `targets`",
            "line 3, column 3",
            "unknown key `alais`",
            "did you mean `alias`",
        ],
    );
    rejects(
        &[
            ("function-name", ""),
            ("environment", "dev"),
            ("targets", "dev:\n  function: [{name}\n"),
        ],
        &["input `targets`", "line 2, column 13", "unclosed bracket"],
    );
}

#[test]
fn bad_input_traffic_shift() {
    rejects(
        &[("traffic-shift", "canary 150 5m")],
        &["input `traffic-shift`", "above 0 and below 100"],
    );
    rejects(
        &[("traffic-shift", "blue-green")],
        &["input `traffic-shift`", "canary <percent> <duration>"],
    );
}

#[test]
fn bad_input_invalid_arns() {
    rejects(
        &[(
            "function-name",
            "arn:aws:lambda:us-east-1:1234:function:{name}",
        )],
        &["input `function-name`", "not a valid Lambda function ARN"],
    );
    rejects(
        &[("role-to-assume", "arn:aws:iam::123:role/x")],
        &["input `role-to-assume`", "not a valid IAM role ARN"],
    );
    rejects(
        &[("sns-topic-arn", "deploys")],
        &["input `sns-topic-arn`", "not a valid SNS topic ARN"],
    );
}

// ----- end to end, through the binary -----

fn copy_project(from: &Path, test: &Test) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = test
            .workspace()
            .join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn sha_of(path: &Path) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn seed_lambda_cicd_buildspec_as_it_is_then_versioned_and_aliased() {
    crate::harness::provision::require_program("zip", "apt-get install zip");
    let moto = isolated_with(&["my-lambda-function"]);
    let test = Test::new().aws().github_actions();
    copy_project(
        &crate::harness::repo_path("tests/fixtures/seeds/lambda-cicd"),
        &test,
    );
    let missing = test.dir.path().join("no-runtimes.yml");
    let out = test
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("PIP_NO_INDEX", "1")
        .env("LAMBDA_PIPELINE_RUNTIMES_FILE", missing.to_str().unwrap())
        .input("function-name", "my-lambda-function")
        .input("zip-file", "deployment.zip")
        .arg("run")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let built = sha_of(&out.path("deployment.zip"));
    let outputs = out.outputs();
    // The seed's own post_build already uploaded this zip: no second upload, but a version
    // is published for it and the alias created.
    assert_eq!(outputs["code-sha256"], built);
    assert_eq!(outputs["version"], "1");
    assert!(
        outputs["alias-arn"].ends_with(":function:my-lambda-function:live"),
        "{outputs:?}"
    );
    let report = out.report();
    assert_eq!(report["deploy"][0]["upload"], "none");
    assert_eq!(report["deploy"][0]["version"], "1");
}

#[test]
fn seed_multi_environment_buildspec_as_it_is_with_the_environment_input() {
    let functions = ["my-lambda-dev", "my-lambda-staging", "my-lambda-prod"];
    let moto = isolated_with(&functions);
    let test = Test::new().aws().github_actions();
    copy_project(
        &crate::harness::repo_path("tests/fixtures/seeds/multi-environment"),
        &test,
    );
    let zip = package(&[(
        "lambda_function.py",
        b"def lambda_handler(e, c):\n    return 'prod'\n",
    )]);
    std::fs::copy(&zip.zip, test.workspace().join("deployment.zip")).unwrap();
    let out = test
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .input("env-vars", "ENV=prod")
        .input("environment", "prod")
        .input("function-name", "my-lambda-{environment}")
        .input("zip-file", "deployment.zip")
        .arg("run")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let outputs = out.outputs();
    assert_eq!(outputs["code-sha256"], zip.sha256);
    assert_eq!(outputs["version"], "1");
    assert!(outputs["function-arn"].ends_with(":function:my-lambda-prod"));
    let alias = aws_at(
        &moto,
        &[
            "lambda",
            "get-alias",
            "--function-name",
            "my-lambda-prod",
            "--name",
            "live",
        ],
    );
    assert_eq!(alias["FunctionVersion"], "1");
    for untouched in ["my-lambda-dev", "my-lambda-staging"] {
        let versions = aws_at(
            &moto,
            &[
                "lambda",
                "list-versions-by-function",
                "--function-name",
                untouched,
            ],
        );
        assert_eq!(
            versions["Versions"].as_array().unwrap().len(),
            1,
            "{untouched}: only $LATEST"
        );
    }
}

#[test]
fn examples_hello_deploys_then_redeploys_as_a_no_op() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = unique("hello");
    let name = format!("{base}-dev");
    runtime.block_on(create_function(&name));
    let (topic, queue) = topic_with_queue();
    let run = || {
        let test = Test::new().aws().github_actions();
        copy_project(&crate::harness::repo_path("examples/hello"), &test);
        test.env("PIP_NO_INDEX", "1")
            .input("environment", "dev")
            .input("function-name", &format!("{base}-{{environment}}"))
            .input("sns-topic-arn", &topic)
            .arg("run")
            .run()
    };
    let first = run();
    assert_eq!(first.code, 0, "{first}");
    let outputs = first.outputs();
    assert_eq!(outputs["deployed"], "true", "{first}");
    assert_eq!(outputs["version"], "1");
    assert!(
        first
            .stdout
            .contains(&format!("{name}: deployed; alias live → version 1")),
        "{first}"
    );
    assert_eq!(runtime.block_on(code_sha(&name)), outputs["code-sha256"]);

    let second = run();
    assert_eq!(second.code, 0, "{second}");
    let outputs = second.outputs();
    assert_eq!(outputs["deployed"], "false", "{second}");
    assert_eq!(outputs["version"], "1");
    assert_eq!(outputs["previous-version"], "1");
    assert_eq!(runtime.block_on(versions(&name)), ["1"]);
    let statuses: Vec<String> = received(&queue)
        .into_iter()
        .chain(received(&queue))
        .map(|e| {
            e["MessageAttributes"]["status"]["Value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(statuses, ["succeeded", "succeeded"], "one message per run");
}

#[test]
fn a_failed_build_deploys_nothing_and_notifies_failure() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = unique("broken");
    runtime.block_on(create_function(&name));
    let (topic, queue) = topic_with_queue();
    let out = Test::new()
        .aws()
        .github_actions()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - exit 3\nartifacts:\n  files: ['**/*']\n")
        .input("function-name", &name)
        .input("sns-topic-arn", &topic)
        .arg("run")
        .run();
    assert_eq!(out.code, 1, "{out}");
    assert!(runtime.block_on(versions(&name)).is_empty());
    let messages = received(&queue);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message: Value = serde_json::from_str(messages[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["status"], "failed");
    assert_eq!(message["failed_phase"], "BUILD");
}

/// All or nothing across functions: one function failing moves the others' aliases back.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_function_rolls_back_the_functions_that_moved() {
    let good = unique("pair-good");
    let missing = unique("pair-missing");
    create_function(&good).await;
    let first = Deploy::new()
        .input("function-name", &good)
        .run(&handler("v1"))
        .await;
    assert_eq!(first.status, DeployStatus::Succeeded, "{first:#?}");
    assert_eq!(alias(&good, "live").await.unwrap().0, "1");

    let both = format!("{good},{missing}");
    let done = Deploy::new()
        .input("function-name", &both)
        .input("wait-timeout", "20s")
        .run(&handler("v2"))
        .await;
    assert!(!done.status.is_success(), "{done:#?}");
    let entry = done
        .report
        .deploy
        .iter()
        .find(|e| e.function_name == good)
        .unwrap();
    assert!(entry.rolled_back, "{entry:#?}");
    assert_eq!(entry.version, "1");
    assert_eq!(
        alias(&good, "live").await.unwrap().0,
        "1",
        "the alias is back on the version it had"
    );
    assert_eq!(
        versions(&good).await,
        ["1", "2"],
        "the new version exists but serves nothing"
    );
    assert!(
        done.log
            .iter()
            .any(|l| l.contains(&format!("{good}: rolled back to 1"))),
        "{:?}",
        done.log
    );
}

/// Bug: after a failed smoke test, the summary's Version column showed the version the alias
/// still served, so the old version read as the deployed one.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deploy_summary_names_the_published_version_not_the_old_one() {
    let name = unique("summary-failed");
    create_function(&name).await;
    Deploy::new()
        .input("function-name", &name)
        .run(&handler("v1"))
        .await;
    let failed = Deploy::new()
        .input("function-name", &name)
        .input("smoke-test", r#"{"n": 1}"#)
        .input("smoke-test-expect", r#"{"n": 2}"#)
        .run(&handler("v2"))
        .await;
    assert_eq!(failed.status, DeployStatus::Failed);
    assert_eq!(failed.entry().published_version.as_deref(), Some("2"));
    assert_eq!(failed.entry().version, "1", "the alias stays on 1");
    let markdown = lambda_pipeline::report::summary::markdown(&failed.report);
    let row = markdown
        .lines()
        .find(|line| line.starts_with(&format!("| `{name}`")))
        .unwrap_or_else(|| panic!("no deploy row in\n{markdown}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(
        cells[2], "2",
        "the Version column is what this run published: {row}"
    );
    assert!(row.contains("alias serves version 1"), "{row}");
    assert!(row.contains('❌'), "{row}");
}

/// A reader that goes away (`lambda-pipeline run | head -1`) ends the output, not the deploy.
/// Standard output and error are pipes whose read ends are closed before the process starts,
/// so every write fails with EPIPE; the run still builds, deploys, moves the alias and writes
/// its report, and exits 0 (a panic on the first write would exit 101 with the alias unmoved).
#[test]
fn a_closed_stdout_does_not_stop_a_deploy() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = unique("pipe");
    runtime.block_on(create_function(&name));
    let test = Test::new()
        .aws()
        .github_actions()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - seq 1 5000\nartifacts:\n  files: [lambda_function.py]\n",
        )
        .file(
            "lambda_function.py",
            "def lambda_handler(event, context):\n    return 'piped'\n",
        )
        .input("function-name", &name)
        .arg("run");
    let report_path = test.report_path();
    let (stdout_reader, stdout_writer) = std::io::pipe().unwrap();
    let (stderr_reader, stderr_writer) = std::io::pipe().unwrap();
    drop((stdout_reader, stderr_reader));
    let status = test
        .command()
        .arg(format!("--report-file={}", report_path.display()))
        .stdin(Stdio::null())
        .stdout(stdout_writer)
        .stderr(stderr_writer)
        .status()
        .expect("run lambda-pipeline");
    let report = std::fs::read_to_string(&report_path).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{status:?}; report: {report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["status"], "SUCCEEDED", "{report:#}");
    assert_eq!(runtime.block_on(versions(&name)), ["1"]);
    assert_eq!(runtime.block_on(alias(&name, "live")).unwrap().0, "1");
}
