//! Reporting to GitHub, end to end: the real binary against the fake GitHub REST API of
//! `harness::github`, which records every request. Every recorded body is validated against
//! GitHub's official OpenAPI description (npm `@octokit/openapi@23.0.2`, which the harness
//! installs on first use); a body that does not match fails the test.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::github::{
    CHECK_RUN_ID, FakeGithub, HEAD_SHA, Recorded, TOKEN, check_run, completion, creates, patches,
    run_validator,
};
use crate::harness::{Output, Test};

#[tokio::test(flavor = "multi_thread")]
async fn invalid_buildspec_still_gets_a_failed_check_run_at_the_line() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    on-failure: MAYBE
    commands:
      - echo never
";
    let out = run(github.test().buildspec(buildspec)).await;
    assert_eq!(out.code, 2, "{out}");
    assert!(!out.stdout.contains("never"), "nothing ran: {out}");
    let requests = github.validated_requests().await;
    assert_eq!(creates(&requests).len(), 1, "{requests:#?}");
    let last = completion(&requests);
    assert_eq!(last.body["conclusion"], "failure");
    let annotations = last.body["output"]["annotations"].as_array().unwrap();
    assert_eq!(annotations[0]["path"], "buildspec.yml");
    assert_eq!(annotations[0]["start_line"], 4);
    assert_eq!(
        annotations[0]["title"],
        "DOWNLOAD_SOURCE failed: invalid buildspec"
    );
    assert!(
        annotations[0]["message"]
            .as_str()
            .unwrap()
            .contains("MAYBE"),
        "{annotations:#?}"
    );
    let summary = last.body["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("DOWNLOAD_SOURCE"), "{summary}");
    // One `::error` line, the one with the column that `load_buildspec` prints.
    let errors: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].starts_with("::error file=buildspec.yml,line=4,col=17,"),
        "{out}"
    );
}

async fn run(test: Test) -> Output {
    tokio::task::spawn_blocking(move || test.run())
        .await
        .expect("the run finished")
}

fn assert_no_token(requests: &[Recorded], out: &Output) {
    for request in requests {
        assert_eq!(request.authorization, format!("Bearer {TOKEN}"));
        assert!(!request.body.to_string().contains(TOKEN), "{request:?}");
    }
    // `::add-mask::` is the one line allowed to carry it: the runner consumes it.
    let printed = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .any(|l| l.contains(TOKEN));
    assert!(!printed && !out.stderr.contains(TOKEN), "{out}");
    assert!(!out.summary().contains(TOKEN));
}

const PASSING: &str = "version: 0.2
phases:
  install:
    commands:
      - echo installing
  build:
    commands:
      - echo building
";

#[tokio::test(flavor = "multi_thread")]
async fn push_build_creates_updates_and_completes_its_check_run() {
    let github = FakeGithub::start().await;
    let out = run(github.test().buildspec(PASSING)).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    assert_no_token(&requests, &out);

    let lookup = &requests[0];
    assert_eq!(lookup.method, "GET");
    assert_eq!(
        lookup.path,
        format!("/repos/octo/hello/commits/{HEAD_SHA}/check-runs")
    );
    assert!(
        lookup
            .query
            .contains("check_name=lambda-pipeline%20%2F%20dev"),
        "{}",
        lookup.query
    );

    let created = creates(&requests);
    assert_eq!(created.len(), 1);
    let body = &created[0].body;
    assert_eq!(body["name"], "lambda-pipeline / dev");
    assert_eq!(body["head_sha"], HEAD_SHA);
    assert_eq!(body["status"], "in_progress");
    assert_eq!(body["external_id"], "4242-1-deploy-dev");

    let updates: Vec<_> = patches(&requests)
        .into_iter()
        .filter(|r| r.body["status"] == "in_progress")
        .collect();
    assert!(!updates.is_empty(), "no progress update: {requests:#?}");
    assert!(
        updates.len() <= 6,
        "updates must follow phases, not commands: {}",
        updates.len()
    );
    let last = completion(&requests);
    assert_eq!(last.body["conclusion"], "success");
    let summary = last.body["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("| BUILD | ✅ SUCCEEDED |"), "{summary}");
    assert!(summary.contains("https://github.com/octo/hello/actions/runs/4242/attempts/1"));
    assert!(last.body["output"].get("text").is_none());

    let state = std::fs::read_to_string(out.summary_path.with_file_name("state")).unwrap();
    let state = crate::harness::parse_file_commands(&state);
    assert_eq!(state.get("check_run_id").map(String::as_str), Some("17"));
    let job_summary = out.summary();
    assert!(
        job_summary.contains("## lambda-pipeline · dev: ✅ SUCCEEDED"),
        "{job_summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_reports_on_the_head_commit_from_the_event() {
    let github = FakeGithub::start().await;
    let head = "feedfacefeedfacefeedfacefeedfacefeedface";
    let event = json!({"pull_request": {"number": 5, "head": {"sha": head}}});
    let test = github.test().buildspec(PASSING);
    let event_path = test.dir.path().join("files/event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let test = test
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event_path.to_str().unwrap());
    let out = run(test).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    assert_eq!(
        requests[0].path,
        format!("/repos/octo/hello/commits/{head}/check-runs")
    );
    assert_eq!(creates(&requests)[0].body["head_sha"], head);
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_command_is_annotated_at_its_buildspec_line() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - echo compiling
      - echo 'error in widget.c line 3, missing semicolon'; exit 3
";
    let out = run(github.test().buildspec(buildspec)).await;
    assert_eq!(out.code, 1, "{out}");
    let requests = github.validated_requests().await;
    let last = completion(&requests);
    assert_eq!(last.body["conclusion"], "failure");
    let annotations = last.body["output"]["annotations"].as_array().unwrap();
    let annotation = &annotations[0];
    assert_eq!(annotation["path"], "buildspec.yml");
    assert_eq!(annotation["start_line"], 6);
    assert_eq!(annotation["annotation_level"], "failure");
    assert_eq!(annotation["title"], "BUILD failed: exit status 3");
    let text = last.body["output"]["text"].as_str().unwrap();
    assert!(
        text.contains("error in widget.c line 3, missing semicolon"),
        "{text}"
    );
    assert!(
        out.stdout.lines().any(|l| l.starts_with(
            "::error file=buildspec.yml,line=6,title=BUILD failed%3A exit status 3::"
        )),
        "{out}"
    );
}

fn junit(failures: usize) -> String {
    let mut xml = format!(
        "<testsuite name=\"unit\" tests=\"{}\" time=\"2.5\">\n",
        failures + 1
    );
    xml.push_str("  <testcase classname=\"app.test_ok\" name=\"passes\" time=\"0.1\"/>\n");
    for n in 0..failures {
        xml.push_str(&format!(
            "  <testcase classname=\"app.test_math\" name=\"case_{n}\" file=\"tests/test_math.py\" line=\"{}\">\
             <failure message=\"assert {n} == {m}\">AssertionError</failure></testcase>\n",
            n + 10,
            m = n + 1
        ));
    }
    xml.push_str("</testsuite>\n");
    xml
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_tests_are_annotated_fifty_per_request() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/reports && cp fixtures/junit.xml out/reports/unit.xml
reports:
  unit:
    files:
      - '**/*.xml'
    base-directory: out/reports
    file-format: JUNITXML
";
    let test = github
        .test()
        .buildspec(buildspec)
        .file("fixtures/junit.xml", &junit(120));
    let out = run(test).await;
    assert_eq!(out.code, 0, "failed tests do not fail the build: {out}");
    let requests = github.validated_requests().await;
    let batches: Vec<usize> = patches(&requests)
        .iter()
        .filter_map(|r| r.body["output"]["annotations"].as_array().map(Vec::len))
        .collect();
    assert_eq!(batches, vec![50, 50, 20]);
    let first = patches(&requests)
        .into_iter()
        .find(|r| r.body["output"]["annotations"].is_array())
        .unwrap();
    let annotation = &first.body["output"]["annotations"][0];
    assert_eq!(annotation["path"], "tests/test_math.py");
    assert_eq!(annotation["start_line"], 10);
    assert_eq!(annotation["message"], "assert 0 == 1\nAssertionError");
    assert_eq!(completion(&requests).body["conclusion"], "success");
    let report = out.report();
    assert_eq!(report["test_reports"][0]["failed"], 120);
    assert!(
        out.summary()
            .contains("| unit | 121 | 1 | 120 | 0 | 2.5 s |"),
        "{}",
        out.summary()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn output_over_the_limit_is_truncated_with_a_marker() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - for i in $(seq 1 80); do printf 'line %s %s\\n' $i $(head -c 1500 /dev/zero | tr '\\0' x); done; exit 1
";
    let out = run(github.test().buildspec(buildspec)).await;
    assert_eq!(out.code, 1, "{out}");
    let requests = github.validated_requests().await;
    let last = completion(&requests);
    let text = last.body["output"]["text"].as_str().unwrap();
    assert!(text.encode_utf16().count() <= 65_535, "{}", text.len());
    assert!(text.len() > 60_000, "{}", text.len());
    assert!(
        text.starts_with("… (earlier output truncated"),
        "{}",
        &text[..100]
    );
    assert!(text.contains("line 80 xxx"));
    assert!(text.trim_end().ends_with("```"));
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_check_run_degrades_to_summary_and_annotations() {
    let github = FakeGithub::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/octo/hello/check-runs"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .with_priority(1)
        .mount(&github.server)
        .await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - exit 4
reports:
  unit:
    files:
      - junit.xml
";
    let test = github
        .test()
        .buildspec(buildspec)
        .file("junit.xml", &junit(2));
    let out = run(test).await;
    assert_eq!(
        out.report()["test_reports"][0]["failed"],
        2,
        "read after a failed build"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::error file=tests/test_math.py,line=11,")),
        "without a check run, failed tests become workflow annotations: {out}"
    );
    assert_eq!(
        out.code, 1,
        "the build outcome decides the exit status: {out}"
    );
    let requests = github.validated_requests().await;
    assert_eq!(creates(&requests).len(), 1, "a 403 is not retried");
    assert!(patches(&requests).is_empty());
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::warning")
            && l.contains("Resource not accessible by integration")
            && l.contains("checks: write")),
        "{out}"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::error file=buildspec.yml,line=5,")),
        "{out}"
    );
    let summary = out.summary();
    assert!(
        summary.contains("Resource not accessible by integration"),
        "{summary}"
    );
    assert!(summary.contains("| BUILD | ❌ FAILED |"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_is_retried_after_the_requested_wait() {
    let github = FakeGithub::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/octo/hello/check-runs"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&github.server)
        .await;
    let out = run(github.test().buildspec(PASSING)).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    let created = creates(&requests);
    assert_eq!(created.len(), 2, "one 429, one success");
    assert_eq!(created[0].body, created[1].body);
    assert_eq!(completion(&requests).body["conclusion"], "success");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_run_completes_its_check_run_as_cancelled() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - echo started; sleep 60
";
    let test = github.test().buildspec(buildspec);
    let state_path = test.dir.path().join("files/state");
    let mut child = test
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while creates(&github.requests().await).is_empty() {
        assert!(Instant::now() < deadline, "the check run was never created");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let requests = github.validated_requests().await;
    let last = completion(&requests);
    assert_eq!(last.body["conclusion"], "cancelled");
    let state = crate::harness::parse_file_commands(&std::fs::read_to_string(state_path).unwrap());
    assert_eq!(
        state.get("stop_reason").map(String::as_str),
        Some("cancelled")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn post_completes_a_check_run_left_in_progress() {
    let github = FakeGithub::start().await;
    let test = Test::new()
        .github_actions()
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .env("STATE_check_run_id", "17")
        .env("STATE_stop_reason", "cancelled")
        .arg("post");
    let out = run(test).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/repos/octo/hello/check-runs/17");
    let last = completion(&requests);
    assert_eq!(last.body["conclusion"], "cancelled");
    assert!(out.stderr.contains("completed as `cancelled`"), "{out}");

    // A crash without a recorded stop reason concludes `failure`.
    let github = FakeGithub::start().await;
    let test = Test::new()
        .github_actions()
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .env("STATE_check_run_id", "17")
        .arg("post");
    let out = run(test).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        completion(&github.validated_requests().await).body["conclusion"],
        "failure"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn post_leaves_a_completed_check_run_alone() {
    let github = FakeGithub::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octo/hello/check-runs/17"))
        .respond_with(ResponseTemplate::new(200).set_body_json(check_run("completed")))
        .with_priority(1)
        .mount(&github.server)
        .await;
    let test = Test::new()
        .github_actions()
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .env("STATE_check_run_id", "17")
        .arg("post");
    let out = run(test).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.requests().await;
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert!(out.stderr.contains("already completed"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_printed_by_a_command_reach_no_request() {
    let github = FakeGithub::start().await;
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - echo \"key=$AWS_SECRET_ACCESS_KEY token=$GITHUB_TOKEN\"; exit 1
";
    let test = github
        .test()
        .buildspec(buildspec)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("GITHUB_TOKEN", TOKEN);
    let out = run(test).await;
    assert_eq!(out.code, 1, "{out}");
    let requests = github.validated_requests().await;
    assert_no_token(&requests, &out);
    for request in &requests {
        assert!(!request.body.to_string().contains(secret), "{request:?}");
    }
    let text = completion(&requests).body["output"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("key=*** token=***"), "{text}");
    assert!(!out.summary().contains(secret));
    assert!(
        out.stdout.contains(&format!("::add-mask::{secret}")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reused_check_run_of_the_same_attempt_is_updated_not_duplicated() {
    let github = FakeGithub::start().await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/repos/octo/hello/commits/[0-9a-f]+/check-runs$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1,
            "check_runs": [check_run("in_progress")]
        })))
        .with_priority(1)
        .mount(&github.server)
        .await;
    let out = run(github.test().buildspec(PASSING)).await;
    assert_eq!(out.code, 0, "{out}");
    let requests = github.validated_requests().await;
    assert!(creates(&requests).is_empty(), "{requests:#?}");
    assert_eq!(patches(&requests)[0].body["status"], "in_progress");
    assert_eq!(completion(&requests).body["conclusion"], "success");
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_bodies_match_the_schema() {
    use lambda_pipeline::github::{client::Client, deployment};
    use lambda_pipeline::redact::{Redactor, Secret};
    let github = FakeGithub::start().await;
    let client = Client::new(
        &github.server.uri(),
        "octo/hello",
        &Secret::new(TOKEN),
        Redactor::new(),
    )
    .unwrap();
    let created = deployment::create(&client, HEAD_SHA, "prod", Some("https://github.com/run"))
        .await
        .unwrap();
    created
        .set_status(&client, "success", &"d".repeat(300), None)
        .await
        .unwrap();
    let requests = github.validated_requests().await;
    let body = &requests[0].body;
    assert_eq!(body["auto_merge"], false);
    assert_eq!(body["required_contexts"], json!([]));
    assert_eq!(body["environment"], "prod");
    assert_eq!(body["production_environment"], true);
    assert_eq!(requests[1].body["state"], "in_progress");
    assert_eq!(requests[2].body["description"].as_str().unwrap().len(), 140);
}

#[tokio::test(flavor = "multi_thread")]
async fn job_summary_of_a_real_run() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - echo 'boom' && exit 2
  post_build:
    commands:
      - echo after
";
    let out = run(github.test().buildspec(buildspec)).await;
    assert_eq!(out.code, 1, "{out}");
    insta::with_settings!({filters => vec![
        (r"\d+ m \d+ s", "[DURATION]"),
        (r"\d+(\.\d+)? (ms|s)\b", "[DURATION]"),
    ]}, {
        insta::assert_snapshot!("job_summary_of_a_failed_build", out.summary());
    });
}

mod summary_snapshots {
    use lambda_pipeline::base::report::*;
    use lambda_pipeline::base::{Block, Phase, Position};
    use lambda_pipeline::report::summary;

    fn phase(name: Phase, status: PhaseStatus, duration_ms: u64) -> PhaseReport {
        PhaseReport {
            name,
            status,
            duration_ms,
            commands: Vec::new(),
            context: None,
            log_tail: Vec::new(),
        }
    }

    fn base(status: RunStatus) -> RunReport {
        let mut report = RunReport::new("run", "hello:0000");
        report.status = status;
        report.environment = Some("staging".to_owned());
        report.buildspec = "buildspec.yml".to_owned();
        report.commit = Some("0123456789abcdef0123456789abcdef01234567".to_owned());
        report.run_url =
            Some("https://github.com/octo/hello/actions/runs/4242/attempts/1".to_owned());
        report.duration_ms = 83_400;
        report
    }

    #[test]
    fn deployed_run() {
        let mut report = base(RunStatus::Succeeded);
        report.phases = vec![
            phase(Phase::Install, PhaseStatus::Succeeded, 12_300),
            phase(Phase::PreBuild, PhaseStatus::Skipped, 0),
            phase(Phase::Build, PhaseStatus::Succeeded, 45_000),
            phase(Phase::PostBuild, PhaseStatus::Succeeded, 640),
            phase(Phase::UploadArtifacts, PhaseStatus::Succeeded, 1_200),
        ];
        report.artifacts = Some(ArtifactsReport {
            primary: Some(ArtifactReport {
                identifier: "primary".to_owned(),
                files: vec!["app.py".to_owned(), "lib/util.py".to_owned()],
                zip: "/tmp/primary.zip".to_owned(),
                size: 48_213,
                sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".to_owned(),
                ..ArtifactReport::default()
            }),
            secondary: Vec::new(),
        });
        report.deploy = vec![
            DeployEntry {
                function_name: "hello-staging".to_owned(),
                alias: "live".to_owned(),
                version: "8".to_owned(),
                previous_version: "7".to_owned(),
                deployed: true,
                ..DeployEntry::default()
            },
            DeployEntry {
                function_name: "worker-staging".to_owned(),
                alias: "live".to_owned(),
                version: "3".to_owned(),
                previous_version: "3".to_owned(),
                deployed: false,
                ..DeployEntry::default()
            },
        ];
        insta::assert_snapshot!("summary_deployed_run", summary::markdown(&report));
    }

    #[test]
    fn failed_run_with_tests() {
        let mut report = base(RunStatus::Failed);
        let mut build = phase(Phase::Build, PhaseStatus::Failed, 3_100);
        build.commands.push(CommandReport {
            command: "pytest".to_owned(),
            line: 9,
            exit_code: Some(1),
            block: Block::Commands,
            duration_ms: 3_000,
        });
        build.log_tail = vec!["collected 3 items".to_owned(), "1 failed".to_owned()];
        report.phases = vec![
            phase(Phase::Install, PhaseStatus::Succeeded, 900),
            build,
            phase(Phase::PostBuild, PhaseStatus::Succeeded, 10),
        ];
        report.failed_phase = Some(Phase::Build);
        report.error = Some(
            "COMMAND_EXECUTION_ERROR: Error while executing command: pytest. Reason: exit status 1"
                .to_owned(),
        );
        report.error_position = Some(Position {
            file: "buildspec.yml".to_owned(),
            line: 9,
            column: 1,
        });
        report.test_reports = vec![TestReport {
            name: "unit".to_owned(),
            files: vec!["junit.xml".to_owned()],
            total: 3,
            passed: 2,
            failed: 1,
            skipped: 0,
            duration_ms: 1_500,
            failures: vec![TestFailure {
                suite: "tests.test_app".to_owned(),
                name: "test_handler".to_owned(),
                message: "assert 500 == 200\nfull trace".to_owned(),
                file: Some("tests/test_app.py".to_owned()),
                line: Some(14),
            }],
        }];
        report.warnings = vec![Warning {
            message: "unknown key `phase`".to_owned(),
            position: Some(Position {
                file: "buildspec.yml".to_owned(),
                line: 3,
                column: 1,
            }),
        }];
        insta::assert_snapshot!(
            "summary_failed_run",
            summary::step_summary(&report, summary::STEP_SUMMARY_LIMIT)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn timed_out_build_concludes_timed_out() {
    let github = FakeGithub::start().await;
    let buildspec = "version: 0.2
phases:
  build:
    commands:
      - sleep 30
";
    let out = run(github.test().buildspec(buildspec).input("timeout", "1s")).await;
    assert_eq!(out.code, 1, "{out}");
    let requests = github.validated_requests().await;
    assert_eq!(completion(&requests).body["conclusion"], "timed_out");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_run_prints_the_report_at_the_end() {
    let out = run(Test::new().buildspec(PASSING).arg("build")).await;
    assert_eq!(out.code, 0, "{out}");
    let at = out
        .stderr
        .find("## lambda-pipeline: ✅ SUCCEEDED")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        out.stderr[at..].contains("| BUILD | ✅ SUCCEEDED |"),
        "{out}"
    );
}

#[test]
fn the_schema_check_rejects_what_github_would() {
    let annotation = json!({"path": "a", "start_line": 1, "end_line": 1,
                            "annotation_level": "failure", "message": "m"});
    let cases = [
        json!({"title": "t", "summary": "s".repeat(65_536)}),
        json!({"title": "t", "summary": "s", "annotations": vec![annotation; 51]}),
    ];
    for output in cases {
        let body = json!({"status": "completed", "conclusion": "success", "output": output});
        let (valid, report) = run_validator(&[
            json!({"method": "PATCH", "path": "/repos/o/r/check-runs/1", "body": body}),
        ]);
        assert!(!valid, "{report}");
    }
    let no_conclusion = json!({"status": "completed", "output": {"title": "t", "summary": "s"}});
    let (valid, report) = run_validator(&[
        json!({"method": "PATCH", "path": "/repos/o/r/check-runs/1", "body": no_conclusion}),
    ]);
    assert!(!valid, "{report}");
}

/// Bug: the declared output `check-run-id` was never written (only GITHUB_STATE had the id).
#[tokio::test(flavor = "multi_thread")]
async fn the_check_run_id_is_a_step_output() {
    let github = FakeGithub::start().await;
    let out = run(github.test().buildspec(PASSING)).await;
    assert_eq!(out.code, 0, "{out}");
    github.validated_requests().await;
    assert_eq!(
        out.outputs().get("check-run-id").map(String::as_str),
        Some(CHECK_RUN_ID.to_string().as_str()),
        "{out}"
    );
}

/// Bug: `rollback` created no check run and wrote no job summary; `run` does both.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_reports_a_check_run_and_a_job_summary() {
    let github = FakeGithub::start().await;
    let out = run(Test::new()
        .github_actions()
        .aws()
        .env("GITHUB_API_URL", &github.server.uri())
        .input("github-token", TOKEN)
        .input("environment", "dev")
        .input("function-name", "rollback-without-a-function")
        .arg("rollback"))
    .await;
    assert_eq!(out.code, 1, "nothing to roll back to: {out}");
    let requests = github.validated_requests().await;
    assert_eq!(creates(&requests).len(), 1, "{requests:#?}");
    assert_eq!(completion(&requests).body["conclusion"], "failure");
    let summary = out.summary();
    assert!(summary.contains("rollback-without-a-function"), "{summary}");
    assert_eq!(
        out.outputs().get("status").map(String::as_str),
        Some("FAILED")
    );
}
