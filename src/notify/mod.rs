//! SNS notifications about a deploy, as a reporter: the message a subscriber receives (JSON
//! body, short subject, filterable attributes) and publishing it when `notify-on` asks for the
//! event. A failed publish becomes a warning and never changes the outcome.
//! Owns: the notification format and the SNS calls. Must not: decide pass/fail, touch a stage.

pub mod sns;

use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::base::Level;
use crate::base::report::{DeployEntry, ImageReport, RunReport, Warning};
use crate::env::Env;
use crate::events::EventBus;
use crate::redact::Redactor;
use crate::settings::DeployPlan;
pub use crate::settings::notify::{NotifyEvent, NotifySettings};

/// The SNS reporter of one run: publishes the events `notify-on` asks for, about the plan's
/// functions. Inactive without a topic, without targets, and in a dry run.
#[derive(Debug)]
pub struct Notifier {
    plan: DeployPlan,
    env: Env,
    redactor: Redactor,
    bus: EventBus,
    /// When the run began, and when its deploy began: a notification's duration counts from
    /// the deploy when there was one.
    started: Instant,
    deploy_started: Mutex<Option<Instant>>,
}

impl Notifier {
    pub fn new(plan: &DeployPlan, env: &Env, redactor: &Redactor, bus: &EventBus) -> Notifier {
        Notifier {
            plan: plan.clone(),
            env: env.clone(),
            redactor: redactor.clone(),
            bus: bus.clone(),
            started: Instant::now(),
            deploy_started: Mutex::new(None),
        }
    }

    fn settings(&self) -> Option<&NotifySettings> {
        self.plan
            .notify
            .as_ref()
            .filter(|_| !self.plan.is_empty() && !self.plan.dry_run)
    }

    /// The deploy begins: `start` subscribers hear of it.
    pub async fn deploy_started(&self, report: &mut RunReport) {
        *self
            .deploy_started
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        self.publish(NotifyEvent::Start, report, None).await;
    }

    /// Publishes `event` about the run in `report` (`failed_step` names the deploy step that
    /// failed, when one did). A failure becomes a warning in the report.
    pub async fn publish(
        &self,
        event: NotifyEvent,
        report: &mut RunReport,
        failed_step: Option<&str>,
    ) {
        let Some(settings) = self.settings() else {
            return;
        };
        if !settings.wants(event) {
            return;
        }
        let since = self
            .deploy_started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or(self.started);
        let entries: &[DeployEntry] = if event == NotifyEvent::Start {
            &[]
        } else {
            &report.deploy
        };
        let first = entries.first();
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let notification = Notification {
            status: event.status(),
            environment: self.plan.environment.clone(),
            functions: self.plan.targets.iter().map(|t| t.name.clone()).collect(),
            version: first.and_then(|e| non_empty(&e.version)),
            previous_version: first.and_then(|e| non_empty(&e.previous_version)),
            alias: self
                .plan
                .targets
                .first()
                .map(|t| t.alias.clone())
                .unwrap_or_default(),
            code_sha256: first.map(|e| e.code_sha256.clone()).or_else(|| {
                report
                    .artifacts
                    .as_ref()
                    .and_then(|a| a.primary.as_ref())
                    .map(|p| p.sha256.clone())
            }),
            image: report.image.clone(),
            commit: report.commit.clone(),
            run_url: report.run_url.clone(),
            duration_ms: since.elapsed().as_millis() as u64,
            failed_phase: failed_step
                .map(str::to_owned)
                .or_else(|| report.failed_phase.map(|p| p.name().to_owned())),
            error: report.error.clone(),
            deployments: if entries.len() > 1 {
                entries.to_vec()
            } else {
                Vec::new()
            },
        };
        let config =
            crate::aws::sdk_config(&self.env, Some(&settings.region), None, &self.redactor).await;
        match sns::publish(&config, settings, &notification, &self.redactor).await {
            Ok(id) => self.bus.log(
                Level::Info,
                format!(
                    "Notified {} ({}, message {id})",
                    settings.topic_arn, notification.status
                ),
            ),
            Err(err) => {
                let message = format!("SNS notification not sent: {err}");
                self.bus.log(Level::Warning, message.clone());
                report.warnings.push(Warning {
                    message,
                    position: None,
                });
            }
        }
    }
}

/// The JSON body of a notification.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub status: &'static str,
    pub environment: String,
    pub functions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    pub alias: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// The container image of an image deploy: URI, repository, digest, pushed time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// One entry per function, for multi-function deploys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<DeployEntry>,
}

impl Notification {
    /// A short human subject, within SNS's 100 characters.
    pub fn subject(&self) -> String {
        let functions = match self.functions.as_slice() {
            [one] => one.clone(),
            many => format!("{} functions", many.len()),
        };
        let version = self
            .version
            .as_deref()
            .map(|v| format!(" v{v}"))
            .unwrap_or_default();
        let subject = match self.status {
            "started" => format!("Deploying {functions} to {}", self.environment),
            "succeeded" => format!("Deployed {functions}{version} to {}", self.environment),
            "rolled-back" => format!("Rolled back {functions} in {}", self.environment),
            _ => format!("Deploy of {functions} to {} failed", self.environment),
        };
        truncate_subject(&subject)
    }
}

/// SNS subjects: at most 100 printable ASCII characters, no line breaks.
fn truncate_subject(subject: &str) -> String {
    let clean: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.len() <= 100 {
        clean
    } else {
        format!("{}...", &clean[..97])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_short() {
        let subject = truncate_subject(&"x".repeat(300));
        assert_eq!(subject.len(), 100);
    }
}
