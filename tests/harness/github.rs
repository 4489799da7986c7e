//! The GitHub REST API as the tests see it: an in-process fake (wiremock on 127.0.0.1) that
//! records every request, and the check that each recorded body matches GitHub's official
//! OpenAPI description (npm `@octokit/openapi@23.0.2`, provisioned by `harness::provision`);
//! a body that does not match fails the test.
//!
//! Pull request comments (`with_comments`) are kept in a store, listed, created and updated as
//! GitHub does. The event payloads a workflow receives (`pull_request_event`,
//! `requested_action_event`) are built from the description's own examples and validated
//! against its webhook schemas (`x-webhooks`) before a test uses them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{Test, provision, repo_path};

pub const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
pub const TOKEN: &str = "ghs_FakeTokenForTests0123456789abcdef";
pub const CHECK_RUN_ID: u64 = 17;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: Value,
    pub authorization: String,
}

/// The fake GitHub API, with the happy path mounted at the lowest priority.
pub struct FakeGithub {
    pub server: MockServer,
}

impl FakeGithub {
    pub async fn start() -> FakeGithub {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/repos/octo/hello/commits/[0-9a-f]+/check-runs$",
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": 0, "check_runs": []})),
            )
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/octo/hello/check-runs"))
            .respond_with(ResponseTemplate::new(201).set_body_json(check_run("in_progress")))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path(format!("/repos/octo/hello/check-runs/{CHECK_RUN_ID}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(check_run("completed")))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/repos/octo/hello/check-runs/{CHECK_RUN_ID}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(check_run("in_progress")))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/octo/hello/deployments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/octo/hello/deployments/99/statuses$"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
            .with_priority(10)
            .mount(&server)
            .await;
        FakeGithub { server }
    }

    /// A test in a simulated Actions job that reports to this fake.
    pub fn test(&self) -> Test {
        Test::new()
            .github_actions()
            .env("GITHUB_API_URL", &self.server.uri())
            .input("github-token", TOKEN)
            .input("environment", "dev")
            .arg("build")
    }

    pub async fn requests(&self) -> Vec<Recorded> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|request| Recorded {
                method: request.method.to_string(),
                path: request.url.path().to_owned(),
                query: request.url.query().unwrap_or_default().to_owned(),
                body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
                authorization: request
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }

    /// Every request after checking the bodies against the official schema.
    pub async fn validated_requests(&self) -> Vec<Recorded> {
        let requests = self.requests().await;
        validate_against_openapi(&requests);
        requests
    }
}

/// The pull request comments of the fake repository, as GitHub would keep them.
#[derive(Clone, Default)]
pub struct Comments {
    store: Arc<Mutex<Vec<Value>>>,
    next: Arc<AtomicU64>,
}

impl Comments {
    /// Every comment, oldest first.
    pub fn all(&self) -> Vec<Value> {
        self.store.lock().unwrap().clone()
    }

    /// The comments on pull request `number`.
    pub fn on(&self, number: u64) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|c| {
                c["issue_url"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with(&format!("/issues/{number}"))
            })
            .collect()
    }

    /// A comment someone else wrote, to be left alone.
    pub fn add(&self, number: u64, body: &str) -> u64 {
        let id = 1000 + self.next.fetch_add(1, Ordering::SeqCst);
        self.store.lock().unwrap().push(comment(id, number, body));
        id
    }
}

fn comment(id: u64, number: u64, body: &str) -> Value {
    json!({
        "id": id,
        "body": body,
        "user": {"login": "github-actions[bot]"},
        "issue_url": format!("https://api.github.com/repos/octo/hello/issues/{number}"),
        "html_url": format!("https://github.com/octo/hello/pull/{number}#issuecomment-{id}"),
    })
}

impl Respond for Comments {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let number = |prefix: &str| -> Option<u64> {
            path.strip_prefix(prefix)?
                .strip_suffix("/comments")?
                .parse()
                .ok()
        };
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match request.method.as_str() {
            "GET" => {
                let Some(number) = number("/repos/octo/hello/issues/") else {
                    return ResponseTemplate::new(404);
                };
                let query: std::collections::HashMap<String, String> =
                    request.url.query_pairs().into_owned().collect();
                let per_page: usize = query
                    .get("per_page")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30);
                let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                let listed: Vec<Value> = self
                    .on(number)
                    .into_iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .collect();
                ResponseTemplate::new(200).set_body_json(listed)
            }
            "POST" => {
                let Some(number) = number("/repos/octo/hello/issues/") else {
                    return ResponseTemplate::new(404);
                };
                let id = 1000 + self.next.fetch_add(1, Ordering::SeqCst);
                let created = comment(id, number, body["body"].as_str().unwrap_or_default());
                self.store.lock().unwrap().push(created.clone());
                ResponseTemplate::new(201).set_body_json(created)
            }
            "PATCH" => {
                let id: Option<u64> = path
                    .strip_prefix("/repos/octo/hello/issues/comments/")
                    .and_then(|id| id.parse().ok());
                let mut store = self.store.lock().unwrap();
                match store.iter_mut().find(|c| c["id"].as_u64() == id) {
                    Some(found) => {
                        found["body"] = body["body"].clone();
                        ResponseTemplate::new(200).set_body_json(found.clone())
                    }
                    None => ResponseTemplate::new(404),
                }
            }
            _ => ResponseTemplate::new(405),
        }
    }
}

impl FakeGithub {
    /// Serves the pull request comments from a store, which it returns.
    pub async fn with_comments(&self) -> Comments {
        let comments = Comments::default();
        Mock::given(path_regex(r"^/repos/octo/hello/issues/[0-9]+/comments$"))
            .respond_with(comments.clone())
            .with_priority(5)
            .mount(&self.server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/repos/octo/hello/issues/comments/[0-9]+$"))
            .respond_with(comments.clone())
            .with_priority(5)
            .mount(&self.server)
            .await;
        comments
    }
}

/// GitHub's OpenAPI description, parsed once.
fn description() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(provision::github_openapi_json())
            .expect("read GitHub's OpenAPI description");
        serde_json::from_str(&text).expect("GitHub's OpenAPI description is JSON")
    })
}

/// One of the description's examples (`components.examples.<name>.value`).
fn example(name: &str) -> Value {
    description()["components"]["examples"][name]["value"].clone()
}

/// Validates an event payload against the webhook schema `name`; panics with the findings.
pub fn validate_event(name: &str, payload: &Value) {
    let (valid, report) = run_validator(&[json!({"webhook": name, "body": payload})]);
    assert!(
        valid,
        "the `{name}` payload does not match GitHub's webhook schema:\n{report}"
    );
}

/// The repository of every event: `octo/hello`.
fn repository() -> Value {
    let mut repository = example("check-run-requested-action")["repository"].clone();
    repository["name"] = json!("hello");
    repository["full_name"] = json!("octo/hello");
    repository
}

/// A `pull_request` event (`opened`, `synchronize`, `closed`...) on #`number`, whose head is
/// `head_sha` in `head_repo` (`octo/hello`, or a fork's), as GitHub sends it to a workflow.
pub fn pull_request_event(
    action: &str,
    number: u64,
    head_sha: &str,
    head_repo: &str,
    merged: bool,
) -> Value {
    let mut pull = example("pull-request");
    pull["number"] = json!(number);
    pull["requested_teams"] = json!([]);
    pull["head"]["sha"] = json!(head_sha);
    pull["head"]["repo"]["full_name"] = json!(head_repo);
    pull["head"]["repo"]["fork"] = json!(head_repo != "octo/hello");
    pull["base"]["repo"]["full_name"] = json!("octo/hello");
    for side in ["head", "base"] {
        pull[side]["repo"]["visibility"] = json!("public");
    }
    if action == "closed" {
        pull["state"] = json!("closed");
        pull["merged"] = json!(merged);
        pull["closed_at"] = json!("2026-11-30T12:00:00Z");
        pull["merged_at"] = if merged {
            json!("2026-11-30T12:00:00Z")
        } else {
            Value::Null
        };
    }
    let mut event = json!({
        "action": action,
        "number": number,
        "pull_request": pull,
        "repository": repository(),
        "sender": example("check-run-requested-action")["sender"].clone(),
    });
    if action == "synchronize" {
        event["before"] = json!("f".repeat(40));
        event["after"] = json!(head_sha);
    }
    validate_event(&format!("pull-request-{action}"), &event);
    event
}

/// The `check_run` `requested_action` event GitHub sends to workflows when someone clicks the
/// button `identifier` of a completed check run (`name`, `external_id`, on `head_sha`) that
/// GitHub Actions created.
pub fn requested_action_event(
    check_run_id: u64,
    name: &str,
    head_sha: &str,
    external_id: &str,
    identifier: &str,
) -> Value {
    let mut event = example("check-run-requested-action");
    let run = &mut event["check_run"];
    run["id"] = json!(check_run_id);
    run["name"] = json!(name);
    run["head_sha"] = json!(head_sha);
    run["external_id"] = json!(external_id);
    run["status"] = json!("completed");
    run["conclusion"] = json!("success");
    run["completed_at"] = json!("2026-11-30T12:00:00Z");
    run["html_url"] = json!(format!("https://github.com/octo/hello/runs/{check_run_id}"));
    run["app"]["id"] = json!(15368);
    run["app"]["slug"] = json!("github-actions");
    run["app"]["name"] = json!("GitHub Actions");
    run["check_suite"]["status"] = json!("completed");
    run["check_suite"]["conclusion"] = json!("success");
    run["check_suite"]["head_sha"] = json!(head_sha);
    event["requested_action"] = json!({"identifier": identifier});
    event["repository"] = repository();
    validate_event("check-run-requested-action", &event);
    event
}

/// The test runs on `event` (`GITHUB_EVENT_NAME`), its payload in `GITHUB_EVENT_PATH`.
pub fn on_event(test: Test, name: &str, payload: &Value) -> Test {
    let file = test
        .dir
        .path()
        .join("files")
        .join(format!("{name}-event.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(payload).unwrap()).unwrap();
    test.env("GITHUB_EVENT_NAME", name)
        .env("GITHUB_EVENT_PATH", file.to_str().unwrap())
}

/// A check run as GitHub returns it, in `status`.
pub fn check_run(status: &str) -> Value {
    json!({
        "id": CHECK_RUN_ID,
        "head_sha": HEAD_SHA,
        "status": status,
        "name": "lambda-pipeline / dev",
        "external_id": "4242-1-deploy-dev",
    })
}

pub fn patches(requests: &[Recorded]) -> Vec<&Recorded> {
    requests.iter().filter(|r| r.method == "PATCH").collect()
}

pub fn creates(requests: &[Recorded]) -> Vec<&Recorded> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .collect()
}

pub fn completion(requests: &[Recorded]) -> &Recorded {
    requests
        .iter()
        .rfind(|r| r.method == "PATCH" && r.body["status"] == "completed")
        .unwrap_or_else(|| panic!("no completing PATCH in {requests:#?}"))
}

/// Runs the validator on `bodies`; returns whether they all passed, and its findings.
pub fn run_validator(bodies: &[Value]) -> (bool, String) {
    let spec = provision::github_openapi_json();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("requests.json");
    std::fs::write(&file, serde_json::to_vec(bodies).unwrap()).unwrap();
    let mut command = std::process::Command::new("python3");
    if let Some(path) = provision::validator_pythonpath() {
        command.env("PYTHONPATH", path);
    }
    let output = command
        .arg(repo_path("tests/fixtures/github/validate_requests.py"))
        .arg(&spec)
        .arg(&file)
        .output()
        .expect("python3 is required to validate GitHub request bodies");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

/// Validates every recorded body with `tests/fixtures/github/validate_requests.py` (Python
/// `openapi-schema-validator`). Panics with the validator's findings.
pub fn validate_against_openapi(requests: &[Recorded]) {
    let bodies: Vec<Value> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| json!({"method": r.method, "path": r.path, "body": r.body}))
        .collect();
    assert!(!bodies.is_empty(), "no request body was sent");
    let (valid, report) = run_validator(&bodies);
    assert!(
        valid,
        "request bodies do not match GitHub's OpenAPI description \
         (needs `pip install openapi-schema-validator==0.9.0`):\n{report}"
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("VALID ")).count(),
        bodies.len(),
        "{report}"
    );
}
