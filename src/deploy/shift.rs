//! Moves an alias to a new version: all at once, or step by step through the alias
//! RoutingConfig (`AdditionalVersionWeights`) for canary and linear shifts. CloudWatch `alarms`
//! are checked during the shift; one in ALARM moves the alias back. Cancellation (SIGINT or
//! SIGTERM) mid-shift restores the old routing before returning.
//! Owns: alias updates during a deploy. Must not: publish versions or upload code.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::operation::get_alias::GetAliasOutput;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use tokio::time::Instant;

use super::retry::{self, Limiter};
use crate::cancel::CancelToken;
use crate::settings::deploy::TrafficShift;

/// What the alias looked like before the deploy.
#[derive(Debug, Clone)]
pub struct AliasState {
    pub arn: String,
    pub version: String,
    pub description: String,
    pub routing: HashMap<String, f64>,
    /// Guards every update: another deploy that moved the alias meanwhile makes ours fail
    /// instead of overwriting it.
    pub revision_id: Option<String>,
}

/// One alias move.
pub struct AliasMove<'a> {
    pub lambda: &'a aws_sdk_lambda::Client,
    pub cloudwatch: &'a aws_sdk_cloudwatch::Client,
    pub limiter: &'a Limiter,
    pub cancel: &'a CancelToken,
    pub function: &'a str,
    pub alias: &'a str,
    /// `None` when the alias does not exist yet.
    pub before: Option<AliasState>,
    pub version: &'a str,
    pub description: String,
    pub shift: &'a TrafficShift,
    pub alarms: &'a [String],
    pub call_timeout: Duration,
    pub progress: &'a (dyn Fn(String) + Send + Sync),
    /// The alias's RevisionId as this deploy last left it.
    pub revision_id: Option<String>,
    /// Set when an update found the alias changed by someone else.
    pub lost_race: bool,
}

/// How the move ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    /// The alias points at the new version. Carries the alias ARN.
    Done(String),
    /// An alarm fired; the alias is back on the old version.
    RolledBack { alias_arn: String, reason: String },
    /// Cancelled; the old routing is restored.
    Cancelled { alias_arn: String },
}

enum Watch {
    Quiet,
    Alarm(String),
    Cancelled,
}

impl AliasMove<'_> {
    pub async fn run(mut self) -> Result<Moved, String> {
        let Some(before) = self.before.clone() else {
            return self.create().await.map(Moved::Done);
        };
        self.revision_id = before.revision_id.clone();
        match self.shift(&before).await {
            Ok(moved) => Ok(moved),
            Err(err) => Err(self.recover(&before, err).await),
        }
    }

    /// A step failed: the alias may be weighted, or already moved by a call whose answer was
    /// lost. Puts the old routing back, so a failed deploy leaves the alias as it was.
    async fn recover(&mut self, before: &AliasState, err: String) -> String {
        if self.lost_race {
            return format!(
                "{err}: another deploy moved alias `{}` while this one ran; it is left as that deploy set it",
                self.alias
            );
        }
        match self.restore(before).await {
            Ok(_) => format!(
                "{err}; alias `{}` is back on version {}",
                self.alias, before.version
            ),
            Err(restore) => format!(
                "{err}; moving alias `{}` back to version {} failed too ({restore}); check it with `aws lambda get-alias`",
                self.alias, before.version
            ),
        }
    }

    async fn shift(&mut self, before: &AliasState) -> Result<Moved, String> {
        let weights: Vec<f64> = match self.shift {
            _ if before.version == self.version => Vec::new(),
            TrafficShift::AllAtOnce => Vec::new(),
            TrafficShift::Canary { percent, .. } => vec![*percent],
            TrafficShift::Linear { percent, .. } => {
                let mut steps = Vec::new();
                let mut at = *percent;
                while at < 100.0 - 1e-9 {
                    steps.push(at);
                    at += percent;
                }
                steps
            }
        };
        let hold = match self.shift {
            TrafficShift::Canary { wait, .. } => *wait,
            TrafficShift::Linear { interval, .. } => *interval,
            TrafficShift::AllAtOnce => Duration::ZERO,
        };
        for percent in weights {
            let weight = (percent / 100.0 * 10_000.0).round() / 10_000.0;
            let description = self.description.clone();
            self.update(
                &before.version,
                &[(self.version.to_owned(), weight)].into(),
                &description,
            )
            .await?;
            (self.progress)(format!(
                "alias `{}`: {percent}% to version {}, {}% on version {}; holding {}s",
                self.alias,
                self.version,
                100.0 - percent,
                before.version,
                hold.as_secs_f64()
            ));
            match self.watch(hold).await? {
                Watch::Quiet => {}
                Watch::Alarm(name) => return self.roll_back(before, &name).await,
                Watch::Cancelled => {
                    let alias_arn = self.restore(before).await?;
                    (self.progress)(format!(
                        "cancelled: alias `{}` restored to version {}",
                        self.alias, before.version
                    ));
                    return Ok(Moved::Cancelled { alias_arn });
                }
            }
        }
        if self.cancel.is_stopped() {
            let alias_arn = self.restore(before).await?;
            return Ok(Moved::Cancelled { alias_arn });
        }
        let (version, description) = (self.version, self.description.clone());
        let alias_arn = self.update(version, &HashMap::new(), &description).await?;
        (self.progress)(format!(
            "alias `{}` → version {} (was {})",
            self.alias, self.version, before.version
        ));
        if before.version != self.version
            && let Some(name) = self.firing_alarm().await?
        {
            return self.roll_back(before, &name).await;
        }
        Ok(Moved::Done(alias_arn))
    }

    async fn create(&self) -> Result<String, String> {
        let deadline = Instant::now() + self.call_timeout;
        let output = retry::call(self.limiter, "CreateAlias", deadline, || {
            self.lambda
                .create_alias()
                .function_name(self.function)
                .name(self.alias)
                .function_version(self.version)
                .description(&self.description)
                .send()
        })
        .await;
        let output = match output {
            Ok(output) => output,
            Err(err) => return self.created_anyway(err.message).await,
        };
        (self.progress)(format!(
            "alias `{}` created → version {}",
            self.alias, self.version
        ));
        Ok(output.alias_arn().unwrap_or_default().to_owned())
    }

    /// CreateAlias failed, but a retried call whose first answer was lost fails with "already
    /// exists" although the alias was made: it counts when the alias points at our version.
    async fn created_anyway(&self, err: String) -> Result<String, String> {
        match self.read_alias().await {
            Ok(alias) if is_routed(&alias, self.version, &HashMap::new()) => {
                Ok(alias.alias_arn().unwrap_or_default().to_owned())
            }
            _ => Err(err),
        }
    }

    /// Points the alias at `version` with `weights` for other versions, guarded by the
    /// RevisionId this deploy last saw. Returns its ARN.
    async fn update(
        &mut self,
        version: &str,
        weights: &HashMap<String, f64>,
        description: &str,
    ) -> Result<String, String> {
        let deadline = Instant::now() + self.call_timeout;
        let routing = AliasRoutingConfiguration::builder()
            .set_additional_version_weights(Some(weights.clone()))
            .build();
        let revision = self.revision_id.clone();
        let result = retry::call(self.limiter, "UpdateAlias", deadline, || {
            self.lambda
                .update_alias()
                .function_name(self.function)
                .name(self.alias)
                .function_version(version)
                .routing_config(routing.clone())
                .description(description)
                .set_revision_id(revision.clone())
                .send()
        })
        .await;
        match result {
            Ok(output) => {
                self.revision_id = output.revision_id().map(str::to_owned);
                Ok(output.alias_arn().unwrap_or_default().to_owned())
            }
            Err(err) if err.code.as_deref() == Some("PreconditionFailedException") => {
                // Our own earlier call may have taken effect with its answer lost: then the
                // alias already is what we asked for.
                match self.read_alias().await {
                    Ok(alias) if is_routed(&alias, version, weights) => {
                        self.revision_id = alias.revision_id().map(str::to_owned);
                        Ok(alias.alias_arn().unwrap_or_default().to_owned())
                    }
                    _ => {
                        self.lost_race = true;
                        Err(err.message)
                    }
                }
            }
            Err(err) => Err(err.message),
        }
    }

    async fn read_alias(&self) -> Result<GetAliasOutput, retry::CallError> {
        let deadline = Instant::now() + self.call_timeout;
        retry::call(self.limiter, "GetAlias", deadline, || {
            self.lambda
                .get_alias()
                .function_name(self.function)
                .name(self.alias)
                .send()
        })
        .await
    }

    async fn restore(&mut self, before: &AliasState) -> Result<String, String> {
        self.update(&before.version, &before.routing, &before.description)
            .await
    }

    async fn roll_back(&mut self, before: &AliasState, alarm: &str) -> Result<Moved, String> {
        let alias_arn = self
            .update(&before.version, &HashMap::new(), &before.description)
            .await?;
        Ok(Moved::RolledBack {
            alias_arn,
            reason: format!("alarm `{alarm}` is in ALARM"),
        })
    }

    /// Holds for `duration`, checking alarms and cancellation.
    async fn watch(&self, duration: Duration) -> Result<Watch, String> {
        let end = Instant::now() + duration;
        let poll = (duration / 5).clamp(Duration::from_millis(500), Duration::from_secs(30));
        loop {
            if self.cancel.is_stopped() {
                return Ok(Watch::Cancelled);
            }
            if let Some(name) = self.firing_alarm().await? {
                return Ok(Watch::Alarm(name));
            }
            let now = Instant::now();
            if now >= end {
                return Ok(Watch::Quiet);
            }
            let nap = poll.min(end - now);
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = self.cancel.stopped() => return Ok(Watch::Cancelled),
            }
        }
    }

    async fn firing_alarm(&self) -> Result<Option<String>, String> {
        firing_alarm(
            self.cloudwatch,
            self.limiter,
            self.alarms,
            self.call_timeout,
        )
        .await
    }
}

/// Whether the alias points at `version` with exactly `weights` for other versions.
fn is_routed(alias: &GetAliasOutput, version: &str, weights: &HashMap<String, f64>) -> bool {
    let empty = HashMap::new();
    let routing = alias
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .unwrap_or(&empty);
    alias.function_version() == Some(version) && routing == weights
}

/// The first of `alarms` in state ALARM.
pub async fn firing_alarm(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    limiter: &Limiter,
    alarms: &[String],
    timeout: Duration,
) -> Result<Option<String>, String> {
    let states = alarm_states(cloudwatch, limiter, alarms, timeout).await?;
    Ok(states
        .into_iter()
        .find(|(_, state)| state == "ALARM")
        .map(|(name, _)| name))
}

/// `(name, state)` of every alarm found among `alarms`.
pub async fn alarm_states(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    limiter: &Limiter,
    alarms: &[String],
    timeout: Duration,
) -> Result<Vec<(String, String)>, String> {
    if alarms.is_empty() {
        return Ok(Vec::new());
    }
    let deadline = Instant::now() + timeout;
    let output = retry::call(limiter, "DescribeAlarms", deadline, || {
        cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(alarms.to_vec()))
            .send()
    })
    .await
    .map_err(|e| e.message)?;
    let mut states: Vec<(String, String)> = output
        .metric_alarms()
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap_or_default().to_owned(),
                a.state_value()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    states.extend(output.composite_alarms().iter().map(|a| {
        (
            a.alarm_name().unwrap_or_default().to_owned(),
            a.state_value()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        )
    }));
    Ok(states)
}
