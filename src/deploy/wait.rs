//! Bounded waits for a function to settle: `State` Active and `LastUpdateStatus` not
//! InProgress. Polls GetFunctionConfiguration with growing intervals, through the shared
//! limiter, until `wait-timeout`; the timeout message names the state the function was stuck
//! in, and a Failed update names Lambda's reason.
//! `until_version_active` waits the same way for a published version to read Active.
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

/// A published version that reads Active.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionReady {
    /// How long it took to read Active (zero when it already was).
    pub waited: Duration,
    /// The version has a SnapStart snapshot (`SnapStart.OptimizationStatus` On).
    pub snap_start: bool,
}

/// Polls the published `version` (GetFunctionConfiguration with its qualifier) until its
/// `State` is Active: a SnapStart or Managed Instances version is Pending while its snapshot or
/// instances are made. Starts at 100 ms and backs off to 5 s (the AWS waiter
/// `published-version-active` polls every 5 s), bounded by `timeout`. `Failed` is an error with
/// Lambda's `StateReasonCode` and `StateReason`.
pub async fn until_version_active(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    version: &str,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<VersionReady, String> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut interval = Duration::from_millis(100);
    let mut announced = false;
    loop {
        let config = retry::call(limiter, "GetFunctionConfiguration", deadline, || {
            client
                .get_function_configuration()
                .function_name(function)
                .qualifier(version)
                .send()
        })
        .await
        .map_err(|e| e.message)?;
        let snap_start = config
            .snap_start()
            .and_then(|s| s.optimization_status())
            .is_some_and(|s| s.as_str() == "On");
        match config.state() {
            None | Some(State::Active | State::Inactive) => {
                return Ok(VersionReady {
                    waited: if announced {
                        started.elapsed()
                    } else {
                        Duration::ZERO
                    },
                    snap_start,
                });
            }
            Some(State::Failed) => {
                return Err(format!(
                    "version {version} did not become Active: State `Failed`, {}: {}",
                    config
                        .state_reason_code()
                        .map(|c| c.as_str())
                        .unwrap_or("no StateReasonCode"),
                    config.state_reason().unwrap_or("Lambda gave no reason")
                ));
            }
            Some(state) => {
                if !announced {
                    progress(format!(
                        "waiting for version {version} to become Active (State `{}`{})",
                        state.as_str(),
                        if snap_start {
                            ", SnapStart snapshot"
                        } else {
                            ""
                        }
                    ));
                    announced = true;
                }
                if Instant::now() + interval > deadline {
                    return Err(format!(
                        "version {version} was still in State `{}` after {}s; raise `wait-timeout` or look at the version in the console",
                        state.as_str(),
                        timeout.as_secs()
                    ));
                }
            }
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
    }
}
