//! The check run of one environment: created `in_progress` (or found again by `external_id`),
//! updated as phases end, completed with a conclusion, the report as its output and the
//! findings as annotations, 50 per request.
//! Owns: check-run request bodies and their limits. Must not: render Markdown (that is
//! `report::summary`) or decide the run's outcome.

use serde_json::{Value, json};

use super::client::{ApiError, Client};
use crate::base::report::RunStatus;
use crate::report::annotations::{Annotation, Severity};

/// GitHub accepts at most this many annotations per request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Annotation `title` limit.
const TITLE_LIMIT: usize = 255;
/// Annotation `message` limit (64 KB); kept well under.
const MESSAGE_LIMIT: usize = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
}

/// The fields of `output`, already rendered and within limits.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub title: String,
    pub summary: String,
    pub text: Option<String>,
}

impl Output {
    fn json(&self, annotations: &[Value]) -> Value {
        let mut output = json!({ "title": self.title, "summary": self.summary });
        if let Some(text) = &self.text {
            output["text"] = json!(text);
        }
        if !annotations.is_empty() {
            output["annotations"] = json!(annotations);
        }
        output
    }
}

/// A requested action on the completed check run (the Roll back button), and the `external_id`
/// that tells its workflow what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub external_id: String,
    /// At most 20 characters.
    pub label: String,
    /// At most 40 characters.
    pub description: String,
    /// At most 20 characters.
    pub identifier: String,
}

/// `success`, `failure`, `cancelled` or `timed_out`.
pub fn conclusion(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "success",
        RunStatus::Failed => "failure",
        RunStatus::Stopped => "cancelled",
        RunStatus::TimedOut => "timed_out",
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as the API documents timestamps.
pub fn timestamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Starts the check run: reuses the latest run of this name on this commit when it carries the
/// same `external_id` and is not completed (a retried step of the same attempt), else creates
/// one.
pub async fn start(
    client: &Client,
    name: &str,
    head_sha: &str,
    external_id: &str,
    output: &Output,
) -> Result<CheckRun, ApiError> {
    let started_at = timestamp(chrono::Utc::now());
    if let Some(id) = find_existing(client, name, head_sha, external_id).await {
        let body = json!({
            "status": "in_progress",
            "started_at": started_at,
            "output": output.json(&[]),
        });
        client
            .patch(&client.route(&format!("/check-runs/{id}")), &body)
            .await?;
        return Ok(CheckRun {
            id,
            name: name.to_owned(),
            head_sha: head_sha.to_owned(),
        });
    }
    let body = json!({
        "name": name,
        "head_sha": head_sha,
        "external_id": external_id,
        "status": "in_progress",
        "started_at": started_at,
        "output": output.json(&[]),
    });
    let created = client.post(&client.route("/check-runs"), &body).await?;
    let id = created
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::Status {
            method: "POST",
            route: client.route("/check-runs"),
            status: 201,
            message: "the answer has no check run `id`".to_owned(),
        })?;
    Ok(CheckRun {
        id,
        name: name.to_owned(),
        head_sha: head_sha.to_owned(),
    })
}

/// The id of an unfinished check run with our name and `external_id` on `head_sha`. Any error
/// means "none": creating a new run is always safe.
async fn find_existing(
    client: &Client,
    name: &str,
    head_sha: &str,
    external_id: &str,
) -> Option<u64> {
    let query = format!(
        "/commits/{head_sha}/check-runs?check_name={}&filter=latest&per_page=100",
        percent_encode(name)
    );
    let listed = client.get(&client.route(&query)).await.ok()?;
    listed
        .get("check_runs")?
        .as_array()?
        .iter()
        .find(|run| {
            run.get("external_id").and_then(Value::as_str) == Some(external_id)
                && run.get("status").and_then(Value::as_str) != Some("completed")
        })
        .and_then(|run| run.get("id")?.as_u64())
}

impl CheckRun {
    fn route(&self, client: &Client) -> String {
        client.route(&format!("/check-runs/{}", self.id))
    }

    /// A progress update: new output, still `in_progress`.
    pub async fn update(&self, client: &Client, output: &Output) -> Result<(), ApiError> {
        let body = json!({ "status": "in_progress", "output": output.json(&[]) });
        client.patch(&self.route(client), &body).await.map(|_| ())
    }

    /// Sends every annotation, 50 per request, then completes the run with `conclusion`; the
    /// last batch rides on the completing request, with the `button` when there is one.
    pub async fn complete(
        &self,
        client: &Client,
        conclusion: &str,
        output: &Output,
        annotations: &[Annotation],
        button: Option<&Button>,
    ) -> Result<(), ApiError> {
        let values: Vec<Value> = annotations.iter().filter_map(annotation_json).collect();
        let mut batches: Vec<&[Value]> = values.chunks(ANNOTATIONS_PER_REQUEST).collect();
        let last = batches.pop().unwrap_or(&[]);
        for batch in batches {
            let body = json!({ "output": output.json(batch) });
            client.patch(&self.route(client), &body).await?;
        }
        let mut body = json!({
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": timestamp(chrono::Utc::now()),
            "output": output.json(last),
        });
        if let Some(button) = button {
            body["external_id"] = json!(button.external_id);
            body["actions"] = json!([{
                "label": clip(&button.label, 20),
                "description": clip(&button.description, 40),
                "identifier": clip(&button.identifier, 20),
            }]);
        }
        client.patch(&self.route(client), &body).await.map(|_| ())
    }

    /// The run's current `status` (`queued`, `in_progress`, `completed`).
    pub async fn status(&self, client: &Client) -> Result<String, ApiError> {
        let run = client.get(&self.route(client)).await?;
        Ok(run
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}

/// A check-run annotation; `None` for findings without a file and line.
fn annotation_json(annotation: &Annotation) -> Option<Value> {
    let path = annotation.path.as_ref()?;
    let line = annotation.line?.max(1);
    let level = match annotation.severity {
        Severity::Notice => "notice",
        Severity::Warning => "warning",
        Severity::Failure => "failure",
    };
    Some(json!({
        "path": path,
        "start_line": line,
        "end_line": line,
        "annotation_level": level,
        "title": clip(&annotation.title, TITLE_LIMIT),
        "message": clip(&annotation.message, MESSAGE_LIMIT),
    }))
}

fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit - 1).collect();
    out.push('…');
    out
}

/// Percent-encodes a query value (check names contain spaces and slashes).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names_and_formats_times() {
        assert_eq!(
            percent_encode("lambda-pipeline / dev"),
            "lambda-pipeline%20%2F%20dev"
        );
        let time = chrono::DateTime::parse_from_rfc3339("2026-11-21T22:01:13.685852060Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(timestamp(time), "2026-11-21T22:01:13Z");
    }

    #[test]
    fn annotations_need_a_place_and_respect_limits() {
        let place = Annotation {
            source: crate::report::annotations::Source::Test,
            severity: Severity::Failure,
            path: Some("tests/a.py".into()),
            line: Some(3),
            title: "t".repeat(300),
            message: "m".into(),
        };
        let value = annotation_json(&place).unwrap();
        assert_eq!(value["title"].as_str().unwrap().chars().count(), 255);
        let nowhere = Annotation {
            path: None,
            ..place
        };
        assert!(annotation_json(&nowhere).is_none());
    }
}
