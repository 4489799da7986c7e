//! The GitHub REST client: octocrab (rustls) pointed at `GITHUB_API_URL`, raw JSON requests,
//! redaction of every body, and retries of rate limits honouring `retry-after`.
//! Owns: the token (only ever in the `Authorization` header) and the retry policy.
//! Must not: decide what to report, print, or fail the run.

use std::time::Duration;

use serde_json::Value;

use crate::redact::{Redactor, Secret};

/// How many times one request is tried.
const ATTEMPTS: u32 = 4;
/// The longest single wait for a rate limit; a longer reset gives up instead.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 403 that is not a rate limit, e.g. `Resource not accessible by integration` on a fork
    /// pull request, or `You must authenticate via a GitHub App` for a personal token.
    #[error("GitHub refused `{method} {route}` (403): {message}")]
    Forbidden {
        method: &'static str,
        route: String,
        message: String,
    },
    #[error("GitHub answered `{method} {route}` with {status}: {message}")]
    Status {
        method: &'static str,
        route: String,
        status: u16,
        message: String,
    },
    #[error("GitHub could not be reached for `{method} {route}`: {message}")]
    Transport {
        method: &'static str,
        route: String,
        message: String,
    },
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

impl ApiError {
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Forbidden { .. })
    }
}

/// Where to report: `owner/repo` on the API at `base`.
#[derive(Clone)]
pub struct Client {
    crab: octocrab::Octocrab,
    redactor: Redactor,
    pub owner: String,
    pub repo: String,
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// What one attempt produced.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    remaining_zero: bool,
    body: String,
}

impl Client {
    /// A client for `repository` (`owner/repo`) at `api_url` (`https://api.github.com` or
    /// `https://HOST/api/v3`).
    pub fn new(
        api_url: &str,
        repository: &str,
        token: &Secret,
        redactor: Redactor,
    ) -> Result<Client, ApiError> {
        let (owner, repo) = repository.split_once('/').ok_or_else(|| {
            ApiError::Setup(format!(
                "`GITHUB_REPOSITORY` is `{repository}`; expected `owner/repo`"
            ))
        })?;
        let crab = octocrab::Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(|err| ApiError::Setup(format!("`GITHUB_API_URL` `{api_url}`: {err}")))?
            .personal_token(token.expose().to_owned())
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|err| ApiError::Setup(err.to_string()))?;
        Ok(Client {
            crab,
            redactor,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }

    /// `/repos/{owner}/{repo}{rest}`.
    pub fn route(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    pub async fn get(&self, route: &str) -> Result<Value, ApiError> {
        self.send(Method::Get, route, None).await
    }

    pub async fn post(&self, route: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(Method::Post, route, Some(body)).await
    }

    pub async fn patch(&self, route: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(Method::Patch, route, Some(body)).await
    }

    async fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let body = body.map(|b| redact_value(b, &self.redactor));
        let mut attempt = 1;
        loop {
            let answer = match self.attempt(method, route, body.as_ref()).await {
                Ok(answer) => answer,
                Err(message) if attempt < ATTEMPTS => {
                    tracing::debug!("{} {route}: {message}; retrying", method.name());
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(message) => {
                    return Err(ApiError::Transport {
                        method: method.name(),
                        route: route.to_owned(),
                        message,
                    });
                }
            };
            if (200..300).contains(&answer.status) {
                return Ok(serde_json::from_str(&answer.body).unwrap_or(Value::Null));
            }
            if attempt < ATTEMPTS
                && let Some(wait) = retry_wait(&answer, attempt)
            {
                tracing::debug!(
                    "{} {route}: {} ; retrying in {wait:?}",
                    method.name(),
                    answer.status
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(self.error(method, route, &answer));
        }
    }

    async fn attempt(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let response = match method {
            Method::Get => self.crab._get(route).await,
            Method::Post => self.crab._post(route, body).await,
            Method::Patch => self.crab._patch(route, body).await,
        }
        .map_err(|err| self.redactor.redact(&err.to_string()).into_owned())?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .or_else(|| {
                let reset: i64 = headers
                    .get("x-ratelimit-reset")?
                    .to_str()
                    .ok()?
                    .parse()
                    .ok()?;
                let now = chrono::Utc::now().timestamp();
                Some(Duration::from_secs(reset.saturating_sub(now).max(1) as u64))
            });
        let remaining_zero = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            == Some("0");
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|err| err.to_string())?;
        Ok(Answer {
            status,
            retry_after,
            remaining_zero,
            body,
        })
    }

    fn error(&self, method: Method, route: &str, answer: &Answer) -> ApiError {
        let message = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| answer.body.chars().take(200).collect());
        let message = self.redactor.redact(&message).into_owned();
        if answer.status == 403 {
            ApiError::Forbidden {
                method: method.name(),
                route: route.to_owned(),
                message,
            }
        } else {
            ApiError::Status {
                method: method.name(),
                route: route.to_owned(),
                status: answer.status,
                message,
            }
        }
    }
}

/// How long to wait before retrying, or `None` when the answer is final. 429 and secondary
/// rate limits (403 with `retry-after`, with `x-ratelimit-remaining: 0`, or saying so) wait as
/// GitHub asks; 5xx back off briefly.
fn retry_wait(answer: &Answer, attempt: u32) -> Option<Duration> {
    let rate_limited = answer.status == 429
        || answer.status == 403
            && (answer.retry_after.is_some()
                || answer.remaining_zero
                || answer.body.to_lowercase().contains("rate limit"));
    if rate_limited {
        let wait = answer.retry_after.unwrap_or_else(|| backoff(attempt) * 30);
        return (wait <= LONGEST_WAIT).then_some(wait);
    }
    (answer.status >= 500).then(|| backoff(attempt))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 * 2u64.pow(attempt - 1))
}

/// `value` with every string passed through the redactor.
pub fn redact_value(value: &Value, redactor: &Redactor) -> Value {
    match value {
        Value::String(text) => Value::String(redactor.redact(text).into_owned()),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_value(v, redactor)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(v, redactor)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<u64>, body: &str) -> Answer {
        Answer {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            remaining_zero: false,
            body: body.to_owned(),
        }
    }

    #[test]
    fn retries_rate_limits_not_permissions() {
        assert_eq!(
            retry_wait(&answer(429, Some(2), ""), 1),
            Some(Duration::from_secs(2))
        );
        assert!(
            retry_wait(
                &answer(403, None, "You have exceeded a secondary rate limit"),
                1
            )
            .is_some()
        );
        assert_eq!(
            retry_wait(
                &answer(403, None, "Resource not accessible by integration"),
                1
            ),
            None
        );
        assert_eq!(retry_wait(&answer(429, Some(3600), ""), 1), None);
        assert_eq!(retry_wait(&answer(422, None, ""), 1), None);
        assert!(retry_wait(&answer(502, None, ""), 1).is_some());
    }

    #[test]
    fn bodies_are_redacted() {
        let redactor = Redactor::new();
        redactor.add("s3cr3t-value");
        let body = serde_json::json!({"output": {"summary": "x s3cr3t-value y", "n": 1}});
        assert_eq!(
            redact_value(&body, &redactor),
            serde_json::json!({"output": {"summary": "x *** y", "n": 1}})
        );
    }
}
