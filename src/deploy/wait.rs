//! Bounded waits for a function to settle: `State` Active and `LastUpdateStatus` not
//! InProgress. Polls GetFunctionConfiguration with growing intervals, through the shared
//! limiter, until `wait-timeout`; the timeout message names the state the function was stuck
//! in, and a Failed update names Lambda's reason.
//! Owns: polling. Must not: change the function.

use std::time::Duration;

use aws_sdk_lambda::types::{LastUpdateStatus, State};
use tokio::time::Instant;

use super::retry::{self, Limiter};

/// A function's state, as far as waiting cares.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub state: Option<State>,
    pub last_update: Option<LastUpdateStatus>,
    pub reason: Option<String>,
    pub revision_id: Option<String>,
    pub code_sha256: Option<String>,
}

impl Settled {
    pub fn from_config(config: &aws_sdk_lambda::types::FunctionConfiguration) -> Settled {
        Settled {
            state: config.state().cloned(),
            last_update: config.last_update_status().cloned(),
            reason: config
                .last_update_status_reason()
                .or(config.state_reason())
                .map(str::to_owned),
            revision_id: config.revision_id().map(str::to_owned),
            code_sha256: config.code_sha256().map(str::to_owned),
        }
    }

    /// Ready for the next change: Active (or unknown) and not updating.
    pub fn is_ready(&self) -> bool {
        let active = matches!(self.state, None | Some(State::Active));
        let idle = !matches!(self.last_update, Some(LastUpdateStatus::InProgress));
        active && idle
    }

    fn failure(&self) -> Option<String> {
        if matches!(self.last_update, Some(LastUpdateStatus::Failed)) {
            return Some(format!(
                "the update failed (LastUpdateStatus `Failed`): {}",
                self.reason.as_deref().unwrap_or("Lambda gave no reason")
            ));
        }
        if matches!(self.state, Some(State::Failed | State::Inactive))
            && !matches!(self.last_update, Some(LastUpdateStatus::InProgress))
        {
            let state = self.state.as_ref().map(|s| s.as_str()).unwrap_or("?");
            return Some(format!(
                "the function is in state `{state}`: {}",
                self.reason.as_deref().unwrap_or("Lambda gave no reason")
            ));
        }
        None
    }

    /// `State `Pending`, LastUpdateStatus `InProgress``.
    pub fn describe(&self) -> String {
        format!(
            "State `{}`, LastUpdateStatus `{}`",
            self.state.as_ref().map(|s| s.as_str()).unwrap_or("unknown"),
            self.last_update
                .as_ref()
                .map(|s| s.as_str())
                .unwrap_or("unknown")
        )
    }
}

/// Polls until the function is ready, starting from `current` (skips polling when it already
/// is). `progress` hears about each wait.
pub async fn until_ready(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    current: Settled,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Settled, String> {
    let deadline = Instant::now() + timeout;
    let mut settled = current;
    let mut interval = Duration::from_millis(250);
    let mut announced = false;
    loop {
        if let Some(failure) = settled.failure() {
            return Err(failure);
        }
        if settled.is_ready() {
            return Ok(settled);
        }
        if !announced {
            progress(format!(
                "waiting for the function to settle ({})",
                settled.describe()
            ));
            announced = true;
        }
        if Instant::now() + interval > deadline {
            return Err(format!(
                "the function was still in {} after {}s; raise `wait-timeout` or look at the function in the console",
                settled.describe(),
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
        let config = retry::call(limiter, "GetFunctionConfiguration", deadline, || {
            client
                .get_function_configuration()
                .function_name(function)
                .send()
        })
        .await
        .map_err(|e| e.message)?;
        settled = Settled {
            state: config.state().cloned(),
            last_update: config.last_update_status().cloned(),
            reason: config
                .last_update_status_reason()
                .or(config.state_reason())
                .map(str::to_owned),
            revision_id: config.revision_id().map(str::to_owned),
            code_sha256: config.code_sha256().map(str::to_owned),
        };
    }
}
