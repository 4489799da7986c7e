//! Today's Lambda, through the real binary: versions that take time to become Active
//! (SnapStart, Managed Instances), a version that fails, provisioned concurrency on the alias,
//! tenant isolation, the account's limits (through the fault proxy, which rewrites what moto
//! cannot say), and `keep-versions` pruning (against moto itself).

use serde_json::{Value, json};

use crate::harness::aws::{
    alias, aws, create_function, handler_code, received, topic_with_queue, unique, versions,
};
use crate::harness::faults::{FaultProxy, Recorded, Rule};
use crate::harness::{Moto, Output, Test};

const BUILD: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built > ran\n";

/// A `run` of `name` with a handler that returns `code_version`, straight to moto, in a
/// simulated Actions job (so that the job summary and step outputs are files).
fn deploy(name: &str, code_version: &str) -> Test {
    Test::new()
        .github_actions()
        .buildspec(BUILD)
        .file("lambda_function.py", &handler_code(code_version))
        .aws()
        .input("function-name", name)
        .input("package-directory", ".")
        .arg("run")
}

/// The same, through `proxy`.
fn deploy_through(proxy: &FaultProxy, name: &str, code_version: &str) -> Test {
    deploy(name, code_version).env("AWS_ENDPOINT_URL", &proxy.endpoint())
}

fn proxy() -> FaultProxy {
    FaultProxy::start(&Moto::shared().endpoint())
}

/// `configuration?Qualifier=<version>` of `name`: the published version's reads.
fn version_reads(name: &str, version: &str) -> String {
    format!("/functions/{name}/configuration?Qualifier={version}")
}

fn index_of(requests: &[Recorded], what: impl Fn(&Recorded) -> bool) -> Option<usize> {
    requests.iter().position(what)
}

/// A function with version 1 live, through moto directly.
async fn live_on_version_1(prefix: &str) -> String {
    let name = unique(prefix);
    create_function(&name).await;
    let out = deploy(&name, "v1").run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    name
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_version_is_waited_for_before_the_smoke_test_and_the_alias() {
    let name = live_on_version_1("pending").await;
    let proxy = proxy();
    proxy
        .rule(
            Rule::on("GET", &version_reads(&name, "2"))
                .patch("State", json!("Pending"))
                .patch("StateReasonCode", json!("Creating"))
                .times(3),
        )
        .rule(Rule::on("GET", &version_reads(&name, "2")).patch(
            "SnapStart",
            json!({"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}),
        ))
        .rule(
            Rule::on("POST", &format!("/functions/{name}/invocations"))
                .aws_error(
                    409,
                    "SnapStartNotReadyException",
                    "Lambda is initializing your function",
                )
                .times(1),
        );
    let out = tokio::task::spawn_blocking({
        let proxy_test = deploy_through(&proxy, &name, "v2").input("smoke-test", "{}");
        move || proxy_test.run()
    })
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
    let requests = proxy.requests();
    let reads: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "GET" && r.path.contains(&version_reads(&name, "2")))
        .map(|(i, _)| i)
        .collect();
    assert!(
        reads.len() >= 4,
        "three Pending reads, then Active: {requests:#?}"
    );
    let active_read = reads[3];
    let first_invoke = index_of(&requests, |r| r.path.contains("/invocations")).expect("invoked");
    let alias_move = index_of(&requests, |r| {
        r.method == "PUT" && r.path.contains(&format!("/functions/{name}/aliases/live"))
    })
    .expect("the alias moved");
    assert!(
        first_invoke > active_read && alias_move > active_read,
        "nothing touches version 2 before it reads Active: {requests:#?}"
    );
    let invokes = requests
        .iter()
        .filter(|r| r.path.contains("/invocations"))
        .count();
    assert_eq!(
        invokes, 2,
        "SnapStartNotReadyException is retried: {requests:#?}"
    );
    assert!(
        out.stdout
            .contains("waiting for version 2 to become Active"),
        "{out}"
    );
    let summary = out.summary();
    assert!(
        summary.contains("version 2 has a SnapStart snapshot; Active after"),
        "{summary}"
    );
    let report = out.report();
    assert_eq!(report["deploy"][0]["snap_start"], true);
    assert!(report["deploy"][0]["active_wait_ms"].is_u64(), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_version_fails_the_deploy_with_its_reason_and_leaves_the_alias() {
    let name = live_on_version_1("failed-version").await;
    let (topic, queue) = topic_with_queue();
    let proxy = proxy();
    proxy.rule(
        Rule::on("GET", &version_reads(&name, "2"))
            .patch("State", json!("Failed"))
            .patch("StateReasonCode", json!("SnapStartTimeout"))
            .patch(
                "StateReason",
                json!("The snapshot could not be created in time"),
            ),
    );
    let test = deploy_through(&proxy, &name, "v2")
        .input("sns-topic-arn", &topic)
        .input("notify-on", "failure");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(
        alias(&name, "live").await.unwrap().0,
        "1",
        "the alias stays"
    );
    assert!(
        !proxy
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.contains("/aliases/live")),
        "the alias is never touched"
    );
    for (place, text) in [
        ("stderr", out.stderr.clone()),
        ("summary", out.summary()),
        ("report", out.report()["error"].to_string()),
    ] {
        assert!(text.contains("SnapStartTimeout"), "{place}: {text}");
        assert!(
            text.contains("The snapshot could not be created in time"),
            "{place}: {text}"
        );
    }
    let messages = received(&queue);
    let failure = messages
        .iter()
        .map(|m| serde_json::from_str::<Value>(m["Message"].as_str().unwrap()).unwrap())
        .find(|m| m["status"] == "failed")
        .unwrap_or_else(|| panic!("no failure message in {messages:#?}"));
    assert!(
        failure["error"]
            .as_str()
            .unwrap()
            .contains("SnapStartTimeout"),
        "{failure:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_code_waits_for_a_pending_last_version() {
    let name = live_on_version_1("unchanged-pending").await;
    let proxy = proxy();
    proxy.rule(
        Rule::on("GET", &version_reads(&name, "1"))
            .patch("State", json!("Pending"))
            .times(2),
    );
    let test = deploy_through(&proxy, &name, "v1");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("waiting for version 1 to become Active"),
        "{out}"
    );
    assert_eq!(out.outputs()["deployed"], "false");
    assert_eq!(versions(&name).await, ["1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_instances_are_recognised_and_publish_to_latest_published() {
    let name = live_on_version_1("managed").await;
    let provider = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet";
    let proxy = proxy();
    proxy.rule(Rule::on("GET", &format!("/functions/{name}")).patch(
        "Configuration.CapacityProviderConfig",
        json!({"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": provider}}),
    ));
    let test = deploy_through(&proxy, &name, "v2").input("publish-to", "latest-published");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    let publish = proxy
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with(&format!("/functions/{name}/versions")))
        .expect("PublishVersion");
    assert!(
        publish.body.contains("\"PublishTo\":\"LATEST_PUBLISHED\""),
        "{publish:#?}"
    );
    assert!(
        out.stdout.contains("runs on Lambda Managed Instances"),
        "{out}"
    );
    assert!(out.summary().contains(provider), "{}", out.summary());
}

/// `GetProvisionedConcurrencyConfig` of the alias: `statuses` in order, then the last forever.
fn provisioned(proxy: &FaultProxy, name: &str, statuses: &[(&str, &str)]) {
    let path = format!("/functions/{name}/provisioned-concurrency?Qualifier=live");
    for (index, (status, reason)) in statuses.iter().enumerate() {
        let mut body = json!({
            "RequestedProvisionedConcurrentExecutions": 5,
            "AllocatedProvisionedConcurrentExecutions": 5,
            "AvailableProvisionedConcurrentExecutions": 5,
            "Status": status,
        });
        if !reason.is_empty() {
            body["StatusReason"] = json!(reason);
        }
        let rule = Rule::on("GET", &path).respond(
            200,
            &[("content-type", "application/json")],
            &body.to_string(),
        );
        proxy.rule(if index + 1 < statuses.len() {
            rule.times(1)
        } else {
            rule
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioned_concurrency_is_waited_for_after_the_move() {
    let name = live_on_version_1("provisioned").await;
    let proxy = proxy();
    // Before the move (the old version's), then two reads in progress, then READY.
    provisioned(
        &proxy,
        &name,
        &[
            ("READY", ""),
            ("IN_PROGRESS", ""),
            ("IN_PROGRESS", ""),
            ("READY", ""),
        ],
    );
    let dry = deploy_through(&proxy, &name, "v2").input("dry-run", "true");
    let out = tokio::task::spawn_blocking(move || dry.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("the move allocates provisioned concurrency (5) for the new version"),
        "the plan says so: {out}"
    );
    let proxy = self::proxy();
    provisioned(
        &proxy,
        &name,
        &[
            ("READY", ""),
            ("IN_PROGRESS", ""),
            ("IN_PROGRESS", ""),
            ("READY", ""),
        ],
    );
    let test = deploy_through(&proxy, &name, "v2");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
    let reads = proxy.requests_to("GET", "/provisioned-concurrency");
    assert_eq!(
        reads.len(),
        4,
        "one before the move, three after: {reads:#?}"
    );
    assert!(out.stdout.contains("is READY for version 2"), "{out}");
    assert!(
        out.summary()
            .contains("allocated provisioned concurrency (5) for version 2"),
        "{}",
        out.summary()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_provisioned_concurrency_moves_the_alias_back() {
    let name = live_on_version_1("provisioned-failed").await;
    let proxy = proxy();
    provisioned(
        &proxy,
        &name,
        &[
            ("READY", ""),
            ("FAILED", "Insufficient capacity for 5 environments"),
        ],
    );
    let test = deploy_through(&proxy, &name, "v2");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "1", "moved back");
    assert!(
        out.stderr
            .contains("Insufficient capacity for 5 environments"),
        "{out}"
    );
    assert!(out.stderr.contains("is back on version 1"), "{out}");
    assert_eq!(
        out.report()["deploy"][0]["version"],
        "1",
        "{}",
        out.report()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_isolation_needs_a_tenant_for_the_smoke_test() {
    let name = live_on_version_1("tenants").await;
    let isolated = || {
        let proxy = proxy();
        proxy.rule(
            Rule::on("GET", &format!("/functions/{name}/configuration")).patch(
                "TenancyConfig",
                json!({"TenantIsolationMode": "PER_TENANT"}),
            ),
        );
        proxy.rule(Rule::on("GET", &format!("/functions/{name}")).patch(
            "Configuration.TenancyConfig",
            json!({"TenantIsolationMode": "PER_TENANT"}),
        ));
        proxy
    };
    let proxy = isolated();
    let test = deploy_through(&proxy, &name, "v2").input("smoke-test", "{}");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 2, "an input error before anything runs: {out}");
    assert!(out.stderr.contains("input `smoke-test-tenant-id`"), "{out}");
    assert!(
        out.workspace_file("ran").is_none(),
        "nothing was built: {out}"
    );
    assert_eq!(versions(&name).await, ["1"]);

    let proxy = isolated();
    let test = deploy_through(&proxy, &name, "v2")
        .input("smoke-test", "{}")
        .input("smoke-test-tenant-id", "tenant-42");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    let invoke = proxy
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/invocations"))
        .expect("the smoke test ran");
    assert_eq!(
        invoke.tenant_id.as_deref(),
        Some("tenant-42"),
        "{invoke:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_get_account_settings_falls_back_to_the_documented_limits() {
    let name = live_on_version_1("limits-refused").await;
    let proxy = proxy();
    proxy.rule(Rule::on("GET", "/account-settings").aws_error(
        403,
        "AccessDeniedException",
        "not authorized to perform: lambda:GetAccountSettings",
    ));
    let test = deploy_through(&proxy, &name, "v2");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out}");
    assert!(proxy.arrived("GET", "/account-settings"), "it was asked");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
}

fn account_settings(total: u64, used: u64, zipped: u64) -> Rule {
    let body = json!({
        "AccountLimit": {
            "TotalCodeSize": total,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": zipped,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000,
        },
        "AccountUsage": {"TotalCodeSize": used, "FunctionCount": 3},
    });
    Rule::on("GET", "/account-settings").respond(
        200,
        &[("content-type", "application/json")],
        &body.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn full_code_storage_fails_before_uploading_and_suggests_keep_versions() {
    let name = live_on_version_1("limits-full").await;
    let proxy = proxy();
    proxy.rule(account_settings(1_000_000, 999_990, 52_428_800));
    let test = deploy_through(&proxy, &name, "v2");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("999990 of 1000000 bytes used"), "{out}");
    assert!(out.stderr.contains("keep-versions"), "{out}");
    assert!(
        !proxy.arrived("PUT", &format!("/functions/{name}/code")),
        "nothing was uploaded"
    );
    assert_eq!(versions(&name).await, ["1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_accounts_zipped_limit_decides_the_upload_path() {
    let name = live_on_version_1("limits-zipped").await;
    let proxy = proxy();
    proxy.rule(account_settings(80_530_636_800, 0, 64));
    let test = deploy_through(&proxy, &name, "v2");
    let out = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr
            .contains("over the account's direct-upload limit of 64 bytes (GetAccountSettings)"),
        "{out}"
    );
    assert!(out.stderr.contains("`s3-bucket` is not set"), "{out}");
}

/// Deploys `name` with code `v<n>` for each n, straight to moto.
fn deploy_versions(name: &str, range: std::ops::RangeInclusive<u32>) {
    for n in range {
        let out = deploy(name, &format!("v{n}")).run();
        assert_eq!(out.code, 0, "v{n}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_versions_keeps_the_newest_and_every_aliased_version() {
    let name = unique("prune");
    create_function(&name).await;
    deploy_versions(&name, 1..=4);
    assert_eq!(versions(&name).await, ["1", "2", "3", "4"]);
    aws(&[
        "lambda",
        "create-alias",
        "--function-name",
        &name,
        "--name",
        "pinned",
        "--function-version",
        "1",
    ]);
    aws(&[
        "lambda",
        "create-alias",
        "--function-name",
        &name,
        "--name",
        "beta",
        "--function-version",
        "1",
        "--routing-config",
        r#"{"AdditionalVersionWeights":{"2":0.1}}"#,
    ]);
    let name_for_dry = name.clone();
    let dry = tokio::task::spawn_blocking(move || {
        deploy(&name_for_dry, "v5")
            .input("keep-versions", "1")
            .input("dry-run", "true")
            .run()
    })
    .await
    .unwrap();
    assert_eq!(dry.code, 0, "{dry}");
    assert!(dry.stdout.contains("would delete version(s) 3"), "{dry}");
    assert_eq!(
        versions(&name).await,
        ["1", "2", "3", "4"],
        "a dry run deletes nothing"
    );

    let name_for_run = name.clone();
    let out = tokio::task::spawn_blocking(move || {
        deploy(&name_for_run, "v5")
            .input("keep-versions", "1")
            .run()
    })
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{out}");
    // Kept: 5 (newest, deployed), 4 (replaced), 1 (pinned, beta's primary), 2 (beta's weight).
    assert_eq!(versions(&name).await, ["1", "2", "4", "5"]);
    assert_eq!(out.report()["deploy"][0]["pruned_versions"], json!(["3"]));
    assert!(
        out.summary()
            .contains("deleted version(s) 3 (`keep-versions`)"),
        "{}",
        out.summary()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deletion_is_a_warning() {
    let name = unique("prune-refused");
    create_function(&name).await;
    deploy_versions(&name, 1..=2);
    let proxy = proxy();
    proxy.rule(
        Rule::on("DELETE", &format!("/functions/{name}?Qualifier=1")).aws_error(
            403,
            "AccessDeniedException",
            "not authorized to perform: lambda:DeleteFunction",
        ),
    );
    let test = deploy_through(&proxy, &name, "v3").input("keep-versions", "1");
    let out: Output = tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap();
    assert_eq!(
        out.code, 0,
        "a failed deletion does not fail the deploy: {out}"
    );
    assert_eq!(alias(&name, "live").await.unwrap().0, "3");
    let warnings = out.report()["warnings"].to_string();
    assert!(warnings.contains("version 1 was not deleted"), "{warnings}");
    assert!(versions(&name).await.contains(&"1".to_owned()));
}
