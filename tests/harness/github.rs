//! The GitHub REST API as the tests see it: an in-process fake (wiremock on 127.0.0.1) that
//! records every request, and the check that each recorded body matches GitHub's official
//! OpenAPI description (npm `@octokit/openapi@23.0.2`, provisioned by `harness::provision`);
//! a body that does not match fails the test.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
