//! `function-config` through the real binary against moto, which stores configuration and
//! freezes it into each version: merge and replace, null removes, a configuration-only change
//! publishes a version, no change publishes none, dry runs, `create-function`, rollback taking
//! configuration back with code, bad input at its line, secrets never shown; and, through the
//! fault proxy, the failures moto cannot make.

use serde_json::{Value, json};

use crate::harness::aws::{alias, aws, create_function, handler_code, unique, versions};
use crate::harness::faults::{FaultProxy, Rule};
use crate::harness::{Moto, Output, Test};

const BUILD: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built > ran\n";
const SECRET: &str = "s3cr3t-VALUE-4711";

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

/// `get-function-configuration` of `name` (a version or alias when `qualifier` is given).
fn configuration(name: &str, qualifier: Option<&str>) -> Value {
    let mut args = vec![
        "lambda",
        "get-function-configuration",
        "--function-name",
        name,
    ];
    if let Some(q) = qualifier {
        args.extend(["--qualifier", q]);
    }
    aws(&args)
}

fn variables(config: &Value) -> Value {
    config["Environment"]["Variables"].clone()
}

/// A function with `A=1`, `B=2` and version 1 live.
async fn function_with_variables(prefix: &str) -> String {
    let name = unique(prefix);
    create_function(&name).await;
    aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        &name,
        "--environment",
        r#"{"Variables":{"A":"1","B":"2"}}"#,
    ]);
    let out = deploy(&name, "v1").run();
    assert_eq!(out.code, 0, "{out}");
    name
}

async fn run(test: Test) -> Output {
    tokio::task::spawn_blocking(move || test.run())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_merge_null_removes_and_the_version_freezes_it() {
    let name = function_with_variables("cfg-merge").await;
    let out = run(deploy(&name, "v2").input(
        "function-config",
        "MemorySize: 256\nEnvironment:\n  Variables:\n    A: '9'\n    B: null\n    C: '3'\n",
    ))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
    let published = configuration(&name, Some("2"));
    assert_eq!(published["MemorySize"], 256);
    assert_eq!(variables(&published), json!({"A": "9", "C": "3"}));
    let before = configuration(&name, Some("1"));
    assert_eq!(
        before["MemorySize"], 128,
        "version 1 keeps its configuration"
    );
    assert_eq!(variables(&before), json!({"A": "1", "B": "2"}));
    let changes = out.report()["deploy"][0]["config_changes"].clone();
    assert_eq!(
        changes,
        json!([
            {"field": "MemorySize", "change": "128 → 256"},
            {"field": "Environment.Variables", "change": "A changed"},
            {"field": "Environment.Variables", "change": "B removed"},
            {"field": "Environment.Variables", "change": "C added"},
        ])
    );
    assert!(
        out.summary().contains("`MemorySize` 128 → 256"),
        "{}",
        out.summary()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replace_sets_the_whole_variable_set() {
    let name = function_with_variables("cfg-replace").await;
    let out = run(deploy(&name, "v1")
        .input(
            "function-config",
            r#"{"Environment": {"Variables": {"ONLY": "x"}}}"#,
        )
        .input("environment-variables", "replace"))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        variables(&configuration(&name, Some("live"))),
        json!({"ONLY": "x"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configuration_change_alone_publishes_a_version_and_moves_the_alias() {
    let name = function_with_variables("cfg-only").await;
    let out = run(deploy(&name, "v1").input("function-config", "Timeout: 42\n")).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(versions(&name).await, ["1", "2"]);
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
    assert_eq!(configuration(&name, Some("2"))["Timeout"], 42);
    assert_eq!(out.outputs()["deployed"], "true");
    assert!(
        out.stdout.contains("publishing the new configuration"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_change_publishes_nothing_and_sends_no_update() {
    let name = function_with_variables("cfg-same").await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let out = run(deploy(&name, "v1")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input(
            "function-config",
            "MemorySize: 128\nEnvironment: {Variables: {A: '1'}}\n",
        ))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert!(
        !proxy.arrived("PUT", &format!("/functions/{name}/configuration")),
        "no UpdateFunctionConfiguration"
    );
    assert_eq!(versions(&name).await, ["1"]);
    assert_eq!(out.outputs()["deployed"], "false");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_lists_the_changes_and_changes_nothing() {
    let name = function_with_variables("cfg-dry").await;
    let out = run(deploy(&name, "v1")
        .input("function-config", "MemorySize: 1024\n")
        .input("dry-run", "true"))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("configuration (would change): MemorySize 128 → 1024"),
        "{out}"
    );
    assert_eq!(configuration(&name, None)["MemorySize"], 128);
    assert_eq!(versions(&name).await, ["1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_function_creates_publishes_and_aliases() {
    let name = unique("cfg-create");
    let config = format!(
        "Role: {}\nRuntime: python3.12\nHandler: lambda_function.lambda_handler\nMemorySize: 256\nEnvironment: {{Variables: {{STAGE: '{{environment}}'}}}}\n",
        crate::harness::aws::role()
    );
    let out = run(deploy(&name, "v1")
        .input("environment", "dev")
        .input("function-config", &config)
        .input("create-function", "true"))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(versions(&name).await, ["1"]);
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    let live = configuration(&name, Some("live"));
    assert_eq!(live["MemorySize"], 256);
    assert_eq!(variables(&live), json!({"STAGE": "dev"}));
    assert_eq!(out.report()["deploy"][0]["created"], true);
    assert!(
        out.summary().contains("was created by this run"),
        "{}",
        out.summary()
    );
}

#[test]
fn create_function_without_what_it_needs_is_an_input_error() {
    let out = deploy(&unique("cfg-create-bad"), "v1")
        .input("function-config", "MemorySize: 256\n")
        .input("create-function", "true")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("`Role`, `Runtime`, `Handler`"), "{out}");
    assert!(
        out.workspace_file("ran").is_none(),
        "nothing was built: {out}"
    );
}

#[test]
fn an_unknown_field_is_drawn_at_its_line_with_the_nearest_one() {
    let out = deploy("never-deployed", "v1")
        .file("config/fn.yml", "Timeout: 30\nMemorySise: 512\n")
        .input("function-config", "config/fn.yml")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("--> config/fn.yml:2:1"), "{out}");
    assert!(out.stderr.contains("did you mean `MemorySize`?"), "{out}");
    assert!(out.stderr.contains("2 | MemorySise: 512"), "{out}");
    assert!(out.workspace_file("ran").is_none(), "{out}");
    for (config, expected) in [
        ("MemorySize: 64\n", "Lambda takes 128 to 10240"),
        ("Timeout: 1000\n", "Lambda takes 1 to 900"),
        ("EphemeralStorage: {Size: 20000}\n", "512 to 10240"),
        ("Timeout: [1]\n", "must be a string"),
    ] {
        let out = deploy("never-deployed", "v1")
            .input("function-config", config)
            .run();
        assert_eq!(out.code, 2, "{config}: {out}");
        assert!(out.stderr.contains(expected), "{config}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_function_configuration_output_is_a_starting_point() {
    let name = function_with_variables("cfg-output").await;
    let mut saved = configuration(&name, None);
    saved["MemorySize"] = json!(384);
    let out = run(deploy(&name, "v1").input("function-config", &saved.to_string())).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("read-only fields of get-function-configuration's output are ignored"),
        "{out}"
    );
    assert_eq!(configuration(&name, Some("live"))["MemorySize"], 384);
    let changes = out.report()["deploy"][0]["config_changes"].clone();
    assert_eq!(
        changes,
        json!([{"field": "MemorySize", "change": "128 → 384"}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn variable_values_never_leave_the_process() {
    let name = function_with_variables("cfg-secret").await;
    let config = format!("Environment: {{Variables: {{API_KEY: {SECRET}}}}}\n");
    let out = run(deploy(&name, "v2").input("function-config", &config)).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        variables(&configuration(&name, Some("live")))["API_KEY"],
        SECRET,
        "the value reached Lambda"
    );
    let outputs = std::fs::read_to_string(&out.outputs_path).unwrap_or_default();
    for (place, text) in [
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("summary", out.summary()),
        ("report", out.report().to_string()),
        ("outputs", outputs),
    ] {
        assert!(!text.contains(SECRET), "{place} shows the value:\n{text}");
    }
    assert!(out.summary().contains("API_KEY added"), "{}", out.summary());
    let shown = deploy(&name, "v2")
        .input("function-config", &config)
        .arg("--show-settings=json")
        .run();
    assert_eq!(shown.code, 0, "{shown}");
    assert!(!shown.stdout.contains(SECRET), "{shown}");
    assert!(shown.stdout.contains("API_KEY=***"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_configuration_update_names_the_field_and_leaves_the_alias() {
    let name = function_with_variables("cfg-refused").await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("PUT", &format!("/functions/{name}/configuration")).aws_error(
            400,
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        ),
    );
    let out = run(deploy(&name, "v2")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input(
            "function-config",
            "Role: arn:aws:iam::123456789012:role/nobody\n",
        ))
    .await;
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("function-config `Role`"), "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    assert_eq!(versions(&name).await, ["1"], "nothing was published");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_configuration_update_fails_before_the_code() {
    let name = function_with_variables("cfg-failed").await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    proxy.rule(
        Rule::on("PUT", &format!("/functions/{name}/configuration"))
            .patch("LastUpdateStatus", json!("Failed"))
            .patch(
                "LastUpdateStatusReason",
                json!("The subnet has no free addresses"),
            ),
    );
    let out = run(deploy(&name, "v2")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input("function-config", "MemorySize: 512\n"))
    .await;
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr.contains("The subnet has no free addresses"),
        "{out}"
    );
    assert!(out.stderr.contains("function-config `VpcConfig`"), "{out}");
    assert!(
        !proxy.arrived("PUT", &format!("/functions/{name}/code")),
        "no code update after a failed configuration update"
    );
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_says_when_latest_differs_from_what_the_alias_serves() {
    let name = function_with_variables("cfg-latest").await;
    let out = run(deploy(&name, "v2")
        .input("function-config", "Timeout: 9\n")
        .input("smoke-test", r#"{"n": 1}"#)
        .input("smoke-test-expect", r#"{"n": 2}"#))
    .await;
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    assert_eq!(configuration(&name, None)["Timeout"], 9, "$LATEST took it");
    assert!(
        out.summary()
            .contains("has the new configuration, but alias `live` serves version 1"),
        "{}",
        out.summary()
    );
    assert_eq!(out.report()["deploy"][0]["latest_differs"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_takes_the_configuration_back_with_the_code() {
    let name = function_with_variables("cfg-rollback").await;
    for memory in ["256", "512"] {
        let out =
            run(deploy(&name, "v1").input("function-config", &format!("MemorySize: {memory}\n")))
                .await;
        assert_eq!(out.code, 0, "{out}");
    }
    assert_eq!(configuration(&name, Some("live"))["MemorySize"], 512);
    let out = run(Test::new()
        .github_actions()
        .aws()
        .input("function-name", &name)
        .arg("rollback"))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");
    assert_eq!(configuration(&name, Some("live"))["MemorySize"], 256);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_takes_its_own_config_with_the_environment_expanded() {
    let name = unique("cfg-target");
    create_function(&format!("{name}-prod")).await;
    let targets = format!(
        "prod:\n  function: {name}-prod\n  config:\n    Description: 'served in {{environment}}'\n    Timeout: 20\n"
    );
    let out = run(Test::new()
        .github_actions()
        .buildspec(BUILD)
        .file("lambda_function.py", &handler_code("v1"))
        .aws()
        .input("environment", "prod")
        .input("targets", &targets)
        .input("function-config", "MemorySize: 256\n")
        .input("package-directory", ".")
        .arg("run"))
    .await;
    assert_eq!(out.code, 0, "{out}");
    // A published version's description is PublishVersion's (commit and run); the function's
    // own `Description` is `$LATEST`'s.
    let latest = configuration(&format!("{name}-prod"), None);
    assert_eq!(latest["Description"], "served in prod");
    let live = configuration(&format!("{name}-prod"), Some("live"));
    assert_eq!(live["Timeout"], 20);
    assert_eq!(live["MemorySize"], 256, "the input's fields apply too");
}
