//! Deploys that live in the pull request (issue 17), end to end: a preview per pull request,
//! `paths` (deploy only what changed) and the Roll back button of a deploy's check run.
//!
//! The real binary runs against moto through the fault proxy, which keeps function URLs per
//! alias (moto 5.2 keeps one per function and ignores the qualifier) and records every Lambda
//! call, so that "`live` is never touched" is checked on the wire as well as in moto. GitHub is
//! the fake of `harness::github`: every request body, and every event payload a workflow would
//! receive, is validated against GitHub's OpenAPI description. Git histories are made here, in
//! temporary repositories, with the real `git`.

use std::path::Path;

use serde_json::Value;

use crate::harness::aws::{alias, create_function, handler_code, lambda_client, unique, versions};
use crate::harness::faults::FaultProxy;
use crate::harness::github::{
    CHECK_RUN_ID, FakeGithub, HEAD_SHA, TOKEN, completion, creates, on_event, pull_request_event,
    requested_action_event,
};
use crate::harness::{Moto, Output, Test};

/// Copies the handler the commit carries into the package.
const BUILDSPEC: &str = "version: 0.2
phases:
  build:
    commands:
      - echo building the handler
      - mkdir -p out && cp services/api/lambda_function.py out/lambda_function.py
artifacts:
  base-directory: out
  files:
    - '**/*'
";

async fn run(test: Test) -> Output {
    tokio::task::spawn_blocking(move || test.run())
        .await
        .expect("the run finished")
}

/// A `run` of the project whose handler returns `code`, reporting to `github`, calling AWS
/// through `proxy`.
fn project(github: &FakeGithub, proxy: &FaultProxy, function: &str, code: &str) -> Test {
    Test::new()
        .aws()
        .github_actions()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("environment", "dev")
        .input("function-name", function)
        .buildspec(BUILDSPEC)
        .file("services/api/lambda_function.py", &handler_code(code))
        .arg("run")
}

/// The same, as the preview workflow runs it on pull request `number` (`action`).
fn preview(
    github: &FakeGithub,
    proxy: &FaultProxy,
    function: &str,
    code: &str,
    action: &str,
    number: u64,
) -> Test {
    let event = pull_request_event(action, number, HEAD_SHA, "octo/hello", false);
    on_event(
        project(github, proxy, function, code)
            .input("preview", "true")
            .input("preview-url", "true"),
        "pull_request",
        &event,
    )
}

/// Lambda calls that changed something (anything but a read) on `alias` of `function`.
fn writes_to_alias(proxy: &FaultProxy, function: &str, alias: &str) -> Vec<String> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(&format!("/functions/{function}/")))
        .filter(|r| {
            let on_alias = r.path.contains(&format!("/aliases/{alias}"))
                || r.path.contains(&format!("Qualifier={alias}"));
            let creates = r.method == "POST"
                && r.path.ends_with("/aliases")
                && r.body.contains(&format!("\"Name\":\"{alias}\""));
            (on_alias && r.method != "GET") || creates
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// `(version, description)` of every published version.
async fn published(function: &str) -> Vec<(String, String)> {
    let config = Moto::shared().sdk_config().await;
    lambda_client(&config)
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .filter(|v| v.version() != Some("$LATEST"))
        .map(|v| {
            (
                v.version().unwrap_or_default().to_owned(),
                v.description().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_deploys_updates_on_push_and_is_removed_on_close_while_live_stays() {
    let github = FakeGithub::start().await;
    let comments = github.with_comments().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_function_urls();
    let name = unique("preview");
    create_function(&name).await;

    // `live`, deployed from the default branch.
    let main = run(project(&github, &proxy, &name, "main")).await;
    assert_eq!(main.code, 0, "{main}");
    let live = alias(&name, "live").await.expect("live exists");
    assert_eq!(live.0, "1");
    let someone_else = comments.add(12, "Looks good to me");

    // #12 opens: a new version on `pr-12`, a function URL, one comment.
    let opened = run(preview(&github, &proxy, &name, "pr12-a", "opened", 12)).await;
    assert_eq!(opened.code, 0, "{opened}");
    let outputs = opened.outputs();
    assert_eq!(outputs["version"], "2", "{opened}");
    assert_eq!(outputs["deployed"], "true");
    assert!(
        outputs["alias-arn"].ends_with(&format!(":{name}:pr-12")),
        "{outputs:?}"
    );
    assert_eq!(alias(&name, "pr-12").await.unwrap().0, "2");
    let urls = proxy.function_urls();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert_eq!(
        (urls[0].qualifier.as_str(), urls[0].auth_type.as_str()),
        ("pr-12", "AWS_IAM")
    );
    assert_eq!(outputs["preview-url"], urls[0].url);
    let tagged = published(&name).await;
    assert!(tagged[1].1.contains("preview=pr-12"), "{tagged:?}");
    assert!(!tagged[0].1.contains("preview="), "{tagged:?}");
    let requests = github.validated_requests().await;
    let done = completion(&requests);
    let summary = done.body["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("### Preview `pr-12`"), "{summary}");
    assert!(summary.contains(&outputs["alias-arn"]), "{summary}");
    assert!(summary.contains(&urls[0].url), "{summary}");
    assert_eq!(done.body["output"]["title"], "Preview `pr-12` deployed");
    assert!(
        done.body.get("actions").is_none(),
        "no Roll back button on a preview"
    );
    assert!(
        opened.summary().contains(&urls[0].url),
        "job summary: {}",
        opened.summary()
    );
    let on_12 = comments.on(12);
    assert_eq!(on_12.len(), 2, "{on_12:#?}");
    assert_eq!(on_12[0]["id"], someone_else);
    assert_eq!(on_12[0]["body"], "Looks good to me");
    let ours = on_12[1]["body"].as_str().unwrap();
    assert!(
        ours.starts_with("<!-- lambda-pipeline preview: dev -->"),
        "{ours}"
    );
    assert!(
        ours.contains(&urls[0].url) && ours.contains("| 2 |"),
        "{ours}"
    );

    // A push to #12, now with a public URL: a new version, the same URL, the same comment.
    let pushed = run(preview(&github, &proxy, &name, "pr12-b", "synchronize", 12)
        .input("preview-url-auth-type", "NONE"))
    .await;
    assert_eq!(pushed.code, 0, "{pushed}");
    assert_eq!(pushed.outputs()["version"], "3", "{pushed}");
    assert_eq!(alias(&name, "pr-12").await.unwrap().0, "3");
    let urls = proxy.function_urls();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert_eq!(urls[0].auth_type, "NONE");
    assert_eq!(pushed.outputs()["preview-url"], urls[0].url);
    let permissions: Vec<String> = proxy
        .requests_to("POST", &format!("/functions/{name}/policy"))
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(permissions.len(), 2, "{permissions:?}");
    assert!(
        permissions[0].contains("lambda:InvokeFunctionUrl")
            && permissions[0].contains("\"FunctionUrlAuthType\":\"NONE\""),
        "{permissions:?}"
    );
    assert!(
        permissions[1].contains("lambda:InvokeFunction\"")
            && permissions[1].contains("\"InvokedViaFunctionUrl\":true"),
        "{permissions:?}"
    );
    let on_12 = comments.on(12);
    assert_eq!(on_12.len(), 2, "updated, not added: {on_12:#?}");
    let ours = on_12[1]["body"].as_str().unwrap();
    assert!(ours.contains("| 3 |") && ours.contains("(NONE)"), "{ours}");
    let requests = github.validated_requests().await;
    let created_comments = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/comments"))
        .count();
    assert_eq!(created_comments, 1, "one comment per pull request");

    // #13: another preview; an alias `qa` sends 10% of its traffic to #12's first version.
    let other = run(preview(&github, &proxy, &name, "pr13", "opened", 13)).await;
    assert_eq!(other.code, 0, "{other}");
    assert_eq!(alias(&name, "pr-13").await.unwrap().0, "4");
    let config = Moto::shared().sdk_config().await;
    lambda_client(&config)
        .create_alias()
        .function_name(&name)
        .name("qa")
        .function_version("1")
        .routing_config(
            aws_sdk_lambda::types::AliasRoutingConfiguration::builder()
                .additional_version_weights("2", 0.1)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // #12 closes: its URL, alias and version 3 go; version 2 stays for `qa`; #13 and live stay.
    let closed = run(on_event(
        project(&github, &proxy, &name, "irrelevant")
            .input("preview", "true")
            .input("preview-url", "true"),
        "pull_request",
        &pull_request_event("closed", 12, HEAD_SHA, "octo/hello", false),
    ))
    .await;
    assert_eq!(closed.code, 0, "{closed}");
    assert!(
        !closed.stdout.contains("building the handler"),
        "nothing is built: {closed}"
    );
    assert_eq!(alias(&name, "pr-12").await, None);
    assert_eq!(alias(&name, "pr-13").await.unwrap().0, "4");
    let left: Vec<String> = proxy
        .function_urls()
        .into_iter()
        .map(|u| u.qualifier)
        .collect();
    assert_eq!(left, ["pr-13"]);
    assert_eq!(versions(&name).await, ["1", "2", "4"]);
    let report = closed.report();
    assert_eq!(
        report["preview"]["functions"][0]["deleted_versions"],
        serde_json::json!(["3"])
    );
    let kept = report["preview"]["functions"][0]["kept_versions"].to_string();
    assert!(kept.contains("alias `qa` sends it traffic"), "{kept}");
    assert_eq!(closed.outputs()["deployed"], "false");
    let ours = comments.on(12)[1]["body"].as_str().unwrap().to_owned();
    assert!(ours.contains("Preview `pr-12` removed"), "{ours}");
    let requests = github.validated_requests().await;
    assert_eq!(
        completion(&requests).body["output"]["title"],
        "Preview `pr-12` removed"
    );

    // #13 is merged: the version that runs the merged code stays for the deploy of the merge,
    // which reuses it instead of publishing again.
    let merged = run(on_event(
        project(&github, &proxy, &name, "irrelevant").input("preview", "true"),
        "pull_request",
        &pull_request_event("closed", 13, HEAD_SHA, "octo/hello", true),
    ))
    .await;
    assert_eq!(merged.code, 0, "{merged}");
    assert_eq!(alias(&name, "pr-13").await, None);
    assert_eq!(versions(&name).await, ["1", "2", "4"]);
    assert!(
        merged.report()["preview"]["functions"][0]["kept_versions"]
            .to_string()
            .contains("runs the merged code"),
        "{merged}"
    );

    // `live` was never touched by a preview: in moto, and on the wire.
    assert_eq!(alias(&name, "live").await, Some(live));
    let on_live = writes_to_alias(&proxy, &name, "live");
    assert_eq!(
        on_live.len(),
        1,
        "only the first deploy created `live`: {on_live:?}"
    );

    let after_merge = run(project(&github, &proxy, &name, "pr13")).await;
    assert_eq!(after_merge.code, 0, "{after_merge}");
    assert_eq!(
        after_merge.outputs()["version"],
        "4",
        "the merge reuses #13's version"
    );
    assert_eq!(versions(&name).await, ["1", "2", "4"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fork_pull_request_builds_and_deploys_nothing() {
    let github = FakeGithub::start().await;
    let comments = github.with_comments().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_function_urls();
    let name = unique("fork");
    create_function(&name).await;
    let event = pull_request_event("opened", 7, HEAD_SHA, "mallory/hello", false);
    let out = run(on_event(
        project(&github, &proxy, &name, "from-a-fork")
            .input("preview", "true")
            .input("preview-url", "true"),
        "pull_request",
        &event,
    ))
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains("building the handler"), "{out}");
    assert!(
        out.stdout
            .contains("No preview: the pull request comes from a fork"),
        "{out}"
    );
    let summary = out.summary();
    assert!(
        summary.contains("`mallory/hello`") && summary.contains("read-only token"),
        "{summary}"
    );
    assert_eq!(out.outputs()["deployed"], "false");
    assert!(versions(&name).await.is_empty());
    assert!(
        proxy.requests().is_empty(),
        "no AWS call: {:?}",
        proxy.requests()
    );
    assert!(comments.all().is_empty(), "a fork's token cannot comment");
    let requests = github.validated_requests().await;
    assert_eq!(completion(&requests).body["conclusion"], "success");
}

/// A git repository in `dir`, with the project committed; returns the commit.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is required by the `paths` tests (apt-get install git)");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A run of `paths: services/api/**` on the checkout at `test`'s workspace, at `commit`.
fn with_paths(test: Test, commit: &str) -> Test {
    test.env("GITHUB_SHA", commit)
        .input("paths", "services/api/**\nbuildspec.yml\n!**/*.md")
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_skip_an_unchanged_function_and_deploy_a_changed_one() {
    let github = FakeGithub::start().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let name = unique("paths");
    create_function(&name).await;
    let test = project(&github, &proxy, &name, "a").file("docs/guide.md", "v1");
    let ws = test.workspace();
    git(&ws, &["init", "-q"]);
    let first = commit(&ws, &[], "the project");
    let out = run(with_paths(test, &first)).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("alias `live` does not exist yet"),
        "{out}"
    );
    assert_eq!(out.outputs()["version"], "1");
    let recorded = alias(&name, "live").await.unwrap().2;
    assert!(
        recorded.contains(&format!("commit={}", &first[..12])),
        "{recorded}"
    );

    // Only docs and a Markdown file next to the code changed: nothing is built or deployed.
    let docs = commit(
        &ws,
        &[("docs/guide.md", "v2"), ("services/api/NOTES.md", "notes")],
        "docs",
    );
    let skipped = run(with_paths(reuse(&github, &proxy, &name, &ws), &docs)).await;
    assert_eq!(skipped.code, 0, "{skipped}");
    assert!(
        !skipped.stdout.contains("building the handler"),
        "{skipped}"
    );
    assert!(skipped.phases().is_empty(), "no phase ran: {skipped}");
    let outputs = skipped.outputs();
    assert_eq!(outputs["deployed"], "false");
    assert_eq!(outputs["version"], "1");
    assert_eq!(outputs["status"], "SUCCEEDED");
    let short = &first[..12];
    let summary = skipped.summary();
    assert!(
        summary.contains(&format!("Unchanged since {short}")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("(https://github.com/octo/hello/commit/{short})")),
        "a link to the commit: {summary}"
    );
    assert_eq!(versions(&name).await, ["1"]);
    let requests = github.validated_requests().await;
    let done = completion(&requests);
    assert_eq!(done.body["conclusion"], "success");
    assert_eq!(
        done.body["output"]["title"],
        format!("Unchanged since {short}")
    );

    // The handler changed: built and deployed.
    let code = commit(
        &ws,
        &[("services/api/lambda_function.py", &handler_code("b"))],
        "the handler",
    );
    let deployed = run(with_paths(reuse(&github, &proxy, &name, &ws), &code)).await;
    assert_eq!(deployed.code, 0, "{deployed}");
    assert!(
        deployed.stdout.contains("building the handler"),
        "{deployed}"
    );
    assert!(
        deployed.stdout.contains("services/api/lambda_function.py"),
        "names the file that matched: {deployed}"
    );
    assert_eq!(deployed.outputs()["deployed"], "true");
    assert_eq!(deployed.outputs()["version"], "2");
}

/// A run in a new test whose workspace is a copy of the repository at `ws` (a fresh checkout).
fn reuse(github: &FakeGithub, proxy: &FaultProxy, function: &str, ws: &Path) -> Test {
    let test = Test::new()
        .aws()
        .github_actions()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("environment", "dev")
        .input("function-name", function)
        .arg("run");
    git(
        &test.workspace(),
        &["clone", "-q", &format!("file://{}", ws.display()), "."],
    );
    test
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shallow_clone_says_fetch_depth_0_is_needed_and_builds() {
    let github = FakeGithub::start().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let name = unique("shallow");
    create_function(&name).await;
    let test = project(&github, &proxy, &name, "a");
    let ws = test.workspace();
    git(&ws, &["init", "-q"]);
    let first = commit(&ws, &[], "the project");
    let out = run(with_paths(test, &first)).await;
    assert_eq!(out.code, 0, "{out}");
    let docs = commit(&ws, &[("docs/guide.md", "v2")], "docs only");

    // actions/checkout's default: one commit deep.
    let shallow = Test::new()
        .aws()
        .github_actions()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("environment", "dev")
        .input("function-name", &name)
        .arg("run");
    git(
        &shallow.workspace(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", ws.display()),
            ".",
        ],
    );
    let out = run(with_paths(shallow, &docs)).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("fetch-depth: 0"), "{out}");
    assert!(
        out.stdout.contains("building the handler"),
        "builds as usual: {out}"
    );
    assert!(
        out.summary().contains("fetch-depth: 0"),
        "{}",
        out.summary()
    );
    let warnings = out.report()["warnings"].to_string();
    assert!(warnings.contains(&first[..12]), "{warnings}");
}

/// Deploys `code` to `live` from the default branch; returns the check run's `external_id`
/// and `actions` as the completing request set them.
async fn deploy_from_main(
    github: &FakeGithub,
    proxy: &FaultProxy,
    name: &str,
    code: &str,
) -> (Output, Value) {
    let out = run(project(github, proxy, name, code)).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    (out, completion(&requests).body.clone())
}

/// The workflow `on: check_run: types: [requested_action]` of examples/workflows/rollback.yml,
/// after someone clicked `identifier` on the check run completed with `completed`.
fn click(github: &FakeGithub, proxy: &FaultProxy, completed: &Value, identifier: &str) -> Test {
    let event = requested_action_event(
        CHECK_RUN_ID,
        "lambda-pipeline / dev",
        HEAD_SHA,
        completed["external_id"]
            .as_str()
            .unwrap_or("4242-1-deploy-dev"),
        identifier,
    );
    on_event(
        Test::new()
            .aws()
            .github_actions()
            .env("AWS_ENDPOINT_URL", &proxy.endpoint())
            .env("GITHUB_API_URL", &github.server.uri())
            .env("GITHUB_SHA", "fedcba9876543210fedcba9876543210fedcba98")
            .env("GITHUB_RUN_ID", "5151")
            .input("github-token", TOKEN)
            .arg("rollback"),
        "check_run",
        &event,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_roll_back_button_rolls_back_exactly_what_its_check_run_deployed() {
    let github = FakeGithub::start().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let name = unique("button");
    create_function(&name).await;
    let (_, first) = deploy_from_main(&github, &proxy, &name, "one").await;
    assert!(
        first.get("actions").is_none(),
        "nothing to go back to: {first}"
    );
    let (_, second) = deploy_from_main(&github, &proxy, &name, "two").await;
    assert_eq!(
        second["actions"],
        serde_json::json!([{
            "label": "Roll back",
            "description": "Move live back to version 1",
            "identifier": "rollback",
        }])
    );
    let external_id = second["external_id"].as_str().unwrap();
    assert_eq!(
        external_id,
        format!("lambda-pipeline/1 run=4242-1-deploy env=dev alias=live fn={name}@2:1")
    );
    assert_eq!(alias(&name, "live").await.unwrap().0, "2");

    let before = github.requests().await.len();
    let out = run(click(&github, &proxy, &second, "rollback")).await;
    assert_eq!(out.code, 0, "{out}");
    let (version, _, description) = alias(&name, "live").await.unwrap();
    assert_eq!(version, "1");
    assert!(
        description.starts_with("lambda-pipeline previous=2 "),
        "{description}"
    );
    assert_eq!(out.outputs()["version"], "1");
    assert_eq!(out.outputs()["rolled-back"], "true");
    let requests = github.validated_requests().await;
    let new: Vec<_> = requests[before..].to_vec();
    let created = creates(&new);
    assert_eq!(created.len(), 1, "a new check run: {new:#?}");
    assert_eq!(created[0].body["name"], "lambda-pipeline / dev");
    assert_eq!(
        created[0].body["head_sha"], HEAD_SHA,
        "beside the deploy's check run"
    );
    let done = completion(&new);
    assert_eq!(done.body["conclusion"], "success");
    assert_eq!(done.body["output"]["title"], "Rolled back");
    let summary = done.body["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Roll back button of [check run 17]"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("`{name}` from version 2 back to 1")),
        "{summary}"
    );
    assert!(done.body.get("actions").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_roll_back_button_refuses_when_something_newer_serves_or_the_check_run_is_not_ours() {
    let github = FakeGithub::start().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint());
    let name = unique("refuse");
    create_function(&name).await;
    deploy_from_main(&github, &proxy, &name, "one").await;
    let (_, second) = deploy_from_main(&github, &proxy, &name, "two").await;
    deploy_from_main(&github, &proxy, &name, "three").await;
    let live = alias(&name, "live").await.unwrap();
    assert_eq!(live.0, "3");

    // Version 2's button, while version 3 serves.
    let before = github.requests().await.len();
    let out = run(click(&github, &proxy, &second, "rollback")).await;
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr.contains("now serves version 3")
            && out.stderr.contains("nothing was rolled back"),
        "{out}"
    );
    assert_eq!(alias(&name, "live").await, Some(live.clone()));
    let requests = github.validated_requests().await;
    let done = completion(&requests[before..]);
    assert_eq!(done.body["conclusion"], "failure");
    assert_eq!(done.body["output"]["title"], "Rollback failed");
    assert!(
        done.body["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("now serves version 3")
    );

    // A check run that is not one of ours (a `run` before this feature, or another tool's).
    let count = proxy.requests().len();
    let foreign = serde_json::json!({"external_id": "4242-1-deploy-dev"});
    let out = run(click(&github, &proxy, &foreign, "rollback")).await;
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("records no deploy"), "{out}");
    let out = run(click(&github, &proxy, &second, "fix_it")).await;
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("asks for `fix_it`"), "{out}");
    assert_eq!(proxy.requests().len(), count, "no AWS call");
    assert_eq!(alias(&name, "live").await, Some(live));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_with_paths_starts_only_when_its_code_moves_and_keeps_its_comment() {
    let github = FakeGithub::start().await;
    let comments = github.with_comments().await;
    let proxy = FaultProxy::start(&Moto::shared().endpoint()).with_function_urls();
    let name = unique("preview-paths");
    create_function(&name).await;
    let test = project(&github, &proxy, &name, "a").file("docs/guide.md", "v1");
    let repo = test.workspace();
    git(&repo, &["init", "-q"]);
    let first = commit(&repo, &[], "the project");
    let main = run(with_paths(test, &first)).await;
    assert_eq!(main.code, 0, "{main}");
    // The checkout holds the test merge commit; the event names the head commit.
    let pull = |action: &str, head: &str| {
        let test = reuse(&github, &proxy, &name, &repo);
        let ws = test.workspace();
        git(&ws, &["checkout", "-q", "-b", "merge"]);
        let merge = commit(&ws, &[("MERGE_MARKER", head)], "test merge commit");
        on_event(
            with_paths(test, &merge)
                .input("preview", "true")
                .input("preview-url", "true"),
            "pull_request",
            &pull_request_event(action, 5, head, "octo/hello", false),
        )
    };

    // #5 changes only the docs: compared with what `live` serves, nothing to preview.
    let docs = commit(&repo, &[("docs/guide.md", "v2")], "docs");
    let out = run(pull("opened", &docs)).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains("building the handler"), "{out}");
    assert_eq!(alias(&name, "pr-5").await, None);
    let ours = comments.on(5)[0]["body"].as_str().unwrap().to_owned();
    assert!(
        ours.contains(&format!("Unchanged since {}", &first[..12])),
        "{ours}"
    );

    // Then the handler: the preview starts.
    let code = commit(
        &repo,
        &[("services/api/lambda_function.py", &handler_code("b"))],
        "the handler",
    );
    let out = run(pull("synchronize", &code)).await;
    assert_eq!(out.code, 0, "{out}");
    let (version, _, record) = alias(&name, "pr-5").await.unwrap();
    assert_eq!(version, "2");
    assert!(
        record.contains(&format!("commit={}", &code[..12])),
        "the head, not the merge: {record}"
    );
    let url = out.outputs()["preview-url"].clone();

    // Docs again: nothing rebuilt, and the comment still says where the preview is.
    let again = commit(&repo, &[("docs/guide.md", "v3")], "more docs");
    let out = run(pull("synchronize", &again)).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains("building the handler"), "{out}");
    assert_eq!(out.outputs()["preview-url"], url);
    let on_5 = comments.on(5);
    assert_eq!(on_5.len(), 1, "{on_5:#?}");
    let ours = on_5[0]["body"].as_str().unwrap();
    assert!(
        ours.contains(&format!("Unchanged since {}", &code[..12])),
        "{ours}"
    );
    assert!(ours.contains(&url), "{ours}");
    assert_eq!(versions(&name).await, ["1", "2"]);
    assert_eq!(alias(&name, "live").await.unwrap().0, "1");
    github.validated_requests().await;
}
