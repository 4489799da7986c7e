//! The deploy record kept in the alias description, and `lambda-pipeline rollback`.
//!
//! Every alias move writes `lambda-pipeline previous=<version> commit=<sha7> run=<url>` (at
//! most 256 characters, Lambda's limit) into the alias description, so that a rollback needs
//! no other state: it reads `previous` and moves the alias back, recording the version it left.
//! Owns: the record's format. Must not: publish or upload.

use std::collections::HashMap;

use tokio::time::Instant;

use super::retry::{self, Limiter};

/// Lambda's limit on an alias description.
const DESCRIPTION_LIMIT: usize = 256;
const MARKER: &str = "lambda-pipeline";

/// What an alias description records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AliasRecord {
    pub previous: Option<String>,
    pub commit: Option<String>,
    pub run_url: Option<String>,
}

impl AliasRecord {
    pub fn render(&self) -> String {
        let mut text = MARKER.to_owned();
        if let Some(previous) = &self.previous {
            text.push_str(&format!(" previous={previous}"));
        }
        if let Some(commit) = &self.commit {
            text.push_str(&format!(" commit={}", &commit[..commit.len().min(12)]));
        }
        if let Some(url) = &self.run_url
            && text.len() + url.len() + 5 <= DESCRIPTION_LIMIT
        {
            text.push_str(&format!(" run={url}"));
        }
        text
    }

    /// Reads a description we wrote; `None` for any other description.
    pub fn parse(description: &str) -> Option<AliasRecord> {
        let mut words = description.split_whitespace();
        if words.next() != Some(MARKER) {
            return None;
        }
        let mut record = AliasRecord::default();
        for word in words {
            match word.split_once('=') {
                Some(("previous", v)) => record.previous = Some(v.to_owned()),
                Some(("commit", v)) => record.commit = Some(v.to_owned()),
                Some(("run", v)) => record.run_url = Some(v.to_owned()),
                _ => {}
            }
        }
        Some(record)
    }
}

/// The result of rolling one alias back.
#[derive(Debug, Clone)]
pub struct RolledBack {
    pub alias_arn: String,
    pub from: String,
    pub to: String,
}

/// Moves `alias` of `function` back to the version its description records.
pub async fn roll_back(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    alias: &str,
    record: AliasRecord,
    deadline: Instant,
) -> Result<RolledBack, String> {
    let current = retry::call(limiter, "GetAlias", deadline, || {
        client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
    })
    .await
    .map_err(|e| {
        if e.is_not_found() {
            format!("`{function}` has no alias `{alias}`; there is nothing to roll back")
        } else {
            e.message
        }
    })?;
    let from = current.function_version().unwrap_or_default().to_owned();
    let description = current.description().unwrap_or_default();
    let previous = AliasRecord::parse(description)
        .and_then(|r| r.previous)
        .ok_or_else(|| {
            format!(
                "alias `{alias}` of `{function}` records no previous version (description `{description}`); only an alias moved by lambda-pipeline can be rolled back"
            )
        })?;
    let record = AliasRecord {
        previous: Some(from.clone()),
        ..record
    };
    let output = retry::call(limiter, "UpdateAlias", deadline, || {
        client
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(&previous)
            .routing_config(
                aws_sdk_lambda::types::AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(HashMap::new()))
                    .build(),
            )
            .description(record.render())
            .send()
    })
    .await
    .map_err(|e| e.message)?;
    Ok(RolledBack {
        alias_arn: output.alias_arn().unwrap_or_default().to_owned(),
        from,
        to: previous,
    })
}

/// Checks that `alias` of `function` serves exactly `expected` (no weighted routing), as the
/// Roll back button requires; otherwise says what it serves now and which deploy moved it there.
pub async fn check_serves(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    alias: &str,
    expected: &str,
    deadline: Instant,
) -> Result<Option<String>, String> {
    let current = retry::call(limiter, "GetAlias", deadline, || {
        client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
    })
    .await
    .map_err(|e| {
        if e.is_not_found() {
            format!("`{function}` has no alias `{alias}` any more; there is nothing to roll back")
        } else {
            e.message
        }
    })?;
    let version = current.function_version().unwrap_or_default();
    let weights = current
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .filter(|w| !w.is_empty());
    if version == expected && weights.is_none() {
        return Ok(current.revision_id().map(str::to_owned));
    }
    let mut serving = format!("version {version}");
    if let Some(weights) = weights {
        let mut parts: Vec<String> = weights.iter().map(|(v, w)| format!("{v} at {w}")).collect();
        parts.sort();
        serving.push_str(&format!(" with weighted routing ({})", parts.join(", ")));
    }
    let moved_by = current
        .description()
        .and_then(AliasRecord::parse)
        .map(|record| {
            let mut by = Vec::new();
            if let Some(commit) = record.commit {
                by.push(format!("commit {commit}"));
            }
            if let Some(url) = record.run_url {
                by.push(url);
            }
            if by.is_empty() {
                String::new()
            } else {
                format!(", moved there by {}", by.join(", "))
            }
        })
        .unwrap_or_default();
    Err(format!(
        "alias `{alias}` of `{function}` now serves {serving}{moved_by}, not version {expected}; something newer is live, so nothing was rolled back"
    ))
}

/// The Roll back button: moves `alias` of `function` from `from` (the version a check run
/// deployed, which it must still serve) to `to` (the version that deploy replaced), guarded by
/// the alias's RevisionId, recording the version it left.
#[allow(clippy::too_many_arguments)]
pub async fn roll_back_exact(
    client: &aws_sdk_lambda::Client,
    limiter: &Limiter,
    function: &str,
    alias: &str,
    from: &str,
    to: &str,
    record: AliasRecord,
    deadline: Instant,
) -> Result<RolledBack, String> {
    let revision = check_serves(client, limiter, function, alias, from, deadline).await?;
    let record = AliasRecord {
        previous: Some(from.to_owned()),
        ..record
    };
    let output = retry::call(limiter, "UpdateAlias", deadline, || {
        client
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(to)
            .routing_config(
                aws_sdk_lambda::types::AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(HashMap::new()))
                    .build(),
            )
            .description(record.render())
            .set_revision_id(revision.clone())
            .send()
    })
    .await
    .map_err(|e| {
        if e.is_not_found() {
            format!("version {to} of `{function}` no longer exists (deleted or pruned), so `{alias}` cannot go back to it")
        } else {
            e.message
        }
    })?;
    Ok(RolledBack {
        alias_arn: output.alias_arn().unwrap_or_default().to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_fits() {
        let record = AliasRecord {
            previous: Some("7".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            run_url: Some("https://github.com/octo/hello/actions/runs/4242".into()),
        };
        let text = record.render();
        assert_eq!(
            text,
            "lambda-pipeline previous=7 commit=0123456789ab run=https://github.com/octo/hello/actions/runs/4242"
        );
        let parsed = AliasRecord::parse(&text).unwrap();
        assert_eq!(parsed.previous.as_deref(), Some("7"));
        assert!(AliasRecord::parse("my own description").is_none());
        let long = AliasRecord {
            run_url: Some("x".repeat(300)),
            ..record
        };
        assert!(long.render().len() <= DESCRIPTION_LIMIT);
    }
}
