//! Pacing and retrying of Lambda control-plane calls: one `Limiter` per run keeps every call,
//! over all functions deployed concurrently, within 10 per second; `call` retries throttling,
//! 5xx, update conflicts and not-yet-ready versions with jittered exponential backoff, up to a
//! deadline.
//! Owns: the call budget and the retry policy. Must not: know what a call does.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use rand::Rng as _;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// At most `MAX_CALLS` starts in any `WINDOW`.
pub const MAX_CALLS: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(1);

/// A sliding-window limiter shared by every concurrent deploy of a run.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    starts: Arc<Mutex<VecDeque<Instant>>>,
}

impl Limiter {
    pub fn new() -> Limiter {
        Limiter::default()
    }

    /// Waits until one more call fits in the window, and books it.
    pub async fn acquire(&self) {
        let mut starts = self.starts.lock().await;
        let now = Instant::now();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            starts.pop_front();
        }
        if starts.len() >= MAX_CALLS {
            let oldest = starts[starts.len() - MAX_CALLS];
            tokio::time::sleep_until(oldest + WINDOW).await;
        }
        starts.push_back(Instant::now());
        if starts.len() > MAX_CALLS * 4 {
            let excess = starts.len() - MAX_CALLS;
            starts.drain(..excess);
        }
    }
}

/// Why a retried call gave up.
#[derive(Debug)]
pub struct CallError {
    pub message: String,
    /// The AWS error code, e.g. `ResourceNotFoundException`.
    pub code: Option<String>,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl CallError {
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref() == Some("ResourceNotFoundException")
    }
}

/// Runs `operation` (one AWS call, named `what` for messages), paced by `limiter`, retrying
/// retryable errors until `deadline`.
pub async fn call<T, E, R, F, Fut>(
    limiter: &Limiter,
    what: &str,
    deadline: Instant,
    mut operation: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut attempt: u32 = 0;
    loop {
        limiter.acquire().await;
        let err = match operation().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let code = err.code().map(str::to_owned);
        let message = describe(&err, what);
        let delay = backoff(attempt);
        attempt += 1;
        if !is_retryable(&err) || attempt >= 12 || Instant::now() + delay > deadline {
            return Err(CallError { message, code });
        }
        tracing::debug!("{message}; retrying in {delay:?}");
        tokio::time::sleep(delay).await;
    }
}

/// Full jitter: a random delay up to 200 ms × 2^attempt, capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(200)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(5));
    let millis = rand::rng().random_range(cap.as_millis() as u64 / 4..=cap.as_millis() as u64);
    Duration::from_millis(millis)
}

/// Throttling, server errors, update conflicts and a version that is not ready yet
/// (`SnapStartNotReadyException`, `ResourceNotReadyException` while a SnapStart or Managed
/// Instances version becomes Active) are worth another try.
///
/// moto answers a conflicting update with `ConflictException` where Lambda says
/// `ResourceConflictException`; both mean "an update is in progress, try again".
fn is_retryable<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("");
            matches!(
                code,
                "TooManyRequestsException"
                    | "ThrottlingException"
                    | "Throttling"
                    | "ResourceConflictException"
                    | "ConflictException"
                    | "ServiceException"
                    | "EC2ThrottledException"
                    | "SnapStartNotReadyException"
                    | "ResourceNotReadyException"
                    | "InternalFailure"
                    | "ServiceUnavailable"
            )
        }
        _ => false,
    }
}

/// `<what>: <Code>: <message>`, or the transport error chain (`aws::describe`), with what a
/// failed RevisionId guard means.
fn describe<E, R>(err: &SdkError<E, R>, what: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = crate::aws::describe(err);
    match err.as_service_error().and_then(|e| e.code()) {
        Some("PreconditionFailedException") => format!(
            "{what}: {text} (another deploy or change updated the function or alias during this one; its RevisionId no longer matches)"
        ),
        _ => format!("{what}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_keeps_ten_per_second() {
        let limiter = Limiter::new();
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..15 {
            limiter.acquire().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(MAX_CALLS) {
            assert!(*t - times[i - MAX_CALLS] >= WINDOW, "call {i} at {t:?}");
        }
    }
}
