//! The one comment a pull request's preview keeps on the pull request: found again by a hidden
//! marker (one per environment), created on the first deploy, then updated on every push and
//! when the pull request closes, never a second comment. Needs `pull-requests: write`.
//! Owns: issue-comment requests. Must not: render the report (`report::summary` does), decide
//! the run's outcome.

use serde_json::{Value, json};

use super::client::{ApiError, Client};

/// GitHub's limit on a comment's body.
const BODY_LIMIT: usize = 65_536;
/// Comments read while looking for ours: 10 pages of 100.
const PAGES: u32 = 10;

/// The hidden first line that marks our comment for `environment`.
pub fn marker(environment: &str) -> String {
    format!("<!-- lambda-pipeline preview: {environment} -->")
}

/// What `upsert` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(u64),
    Updated(u64),
}

/// Creates the pull request's comment for `environment`, or updates the one it already has.
pub async fn upsert(
    client: &Client,
    number: u64,
    environment: &str,
    text: &str,
) -> Result<Upserted, ApiError> {
    let marker = marker(environment);
    let mut body = format!("{marker}\n{text}");
    if body.chars().count() > BODY_LIMIT {
        body = body.chars().take(BODY_LIMIT - 2).collect();
        body.push('…');
    }
    if let Some(id) = find(client, number, &marker).await? {
        client
            .patch(
                &client.route(&format!("/issues/comments/{id}")),
                &json!({ "body": body }),
            )
            .await?;
        return Ok(Upserted::Updated(id));
    }
    let created = client
        .post(
            &client.route(&format!("/issues/{number}/comments")),
            &json!({ "body": body }),
        )
        .await?;
    Ok(Upserted::Created(
        created
            .get("id")
            .and_then(Value::as_u64)
            .unwrap_or_default(),
    ))
}

/// The id of the comment that starts with `marker`, oldest first.
async fn find(client: &Client, number: u64, marker: &str) -> Result<Option<u64>, ApiError> {
    for page in 1..=PAGES {
        let listed = client
            .get(&client.route(&format!(
                "/issues/{number}/comments?per_page=100&page={page}"
            )))
            .await?;
        let comments = listed.as_array().cloned().unwrap_or_default();
        let found = comments.iter().find(|comment| {
            comment
                .get("body")
                .and_then(Value::as_str)
                .is_some_and(|body| body.starts_with(marker))
        });
        if let Some(id) = found.and_then(|c| c.get("id")).and_then(Value::as_u64) {
            return Ok(Some(id));
        }
        if comments.len() < 100 {
            break;
        }
    }
    Ok(None)
}
