//! The notification inputs: `sns-topic-arn` (checked against the ARN format, its region taken
//! from it) and `notify-on` (which events notify).

use std::collections::BTreeSet;

use regex::Regex;
use serde::Serialize;

use crate::base::InputError;
use crate::cli::Inputs;

/// What happened, as `notify-on` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyEvent {
    Start,
    Success,
    Failure,
    Rollback,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 4] = [
        NotifyEvent::Start,
        NotifyEvent::Success,
        NotifyEvent::Failure,
        NotifyEvent::Rollback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NotifyEvent::Start => "start",
            NotifyEvent::Success => "success",
            NotifyEvent::Failure => "failure",
            NotifyEvent::Rollback => "rollback",
        }
    }

    /// The `status` field and attribute: `started`, `succeeded`, `failed`, `rolled-back`.
    pub fn status(self) -> &'static str {
        match self {
            NotifyEvent::Start => "started",
            NotifyEvent::Success => "succeeded",
            NotifyEvent::Failure => "failed",
            NotifyEvent::Rollback => "rolled-back",
        }
    }
}

/// `sns-topic-arn` and `notify-on`, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifySettings {
    pub topic_arn: String,
    /// The topic's region, from its ARN.
    pub region: String,
    pub events: BTreeSet<NotifyEvent>,
}

impl NotifySettings {
    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.events.contains(&event)
    }
}

/// Resolves the notification inputs; `None` when no topic is set.
pub fn settings(inputs: &Inputs) -> Result<Option<NotifySettings>, InputError> {
    let events = parse_notify_on(inputs.notify_on.as_deref())?;
    let Some(arn) = inputs
        .sns_topic_arn
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    else {
        return Ok(None);
    };
    static TOPIC: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r"^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$",
        )
        .expect("valid regex")
    });
    let captures = TOPIC.captures(arn).ok_or_else(|| {
        InputError::new(
            "sns-topic-arn",
            format!("`{arn}` is not a valid SNS topic ARN"),
        )
        .with_hint("write `arn:aws:sns:<region>:<12-digit account>:<topic name>`")
    })?;
    Ok(Some(NotifySettings {
        topic_arn: arn.to_owned(),
        region: captures[1].to_owned(),
        events,
    }))
}

fn parse_notify_on(value: Option<&str>) -> Result<BTreeSet<NotifyEvent>, InputError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok([
            NotifyEvent::Success,
            NotifyEvent::Failure,
            NotifyEvent::Rollback,
        ]
        .into());
    };
    value
        .split([',', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|word| {
            NotifyEvent::ALL
                .into_iter()
                .find(|e| e.name() == word.to_ascii_lowercase())
                .ok_or_else(|| {
                    InputError::new("notify-on", format!("`{word}` is not an event"))
                        .with_hint("list any of start, success, failure, rollback")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_on_defaults_and_errors() {
        let defaults = parse_notify_on(None).unwrap();
        assert!(!defaults.contains(&NotifyEvent::Start));
        assert_eq!(defaults.len(), 3);
        assert_eq!(parse_notify_on(Some("start, failure")).unwrap().len(), 2);
        assert_eq!(
            parse_notify_on(Some("done")).unwrap_err().input,
            "notify-on"
        );
    }
}
