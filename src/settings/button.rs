//! The Roll back button of a deploy's check run.
//!
//! A successful deploy's check run records what it did in its `external_id` (`DeployRecord`):
//! `lambda-pipeline/1 run=<run id>-<attempt>-<job> env=<environment> alias=<alias>
//! fn=<function>@<deployed version>:<previous version>[,...]`, at most 255 characters (GitHub
//! documents no limit; we keep to a common column size). Clicking the button sends a
//! `check_run` event with the action `requested_action` and the identifier `rollback`;
//! `resolve` reads it back for `lambda-pipeline rollback` after checking that the check run is
//! one of ours (created by GitHub Actions, named as this environment's check run, carrying our
//! record), and narrows the plan to exactly the functions and versions that check run deployed.
//! Owns: the `external_id` format and the `check_run` payload. Must not: call AWS or GitHub,
//! print.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::deploy::{self, DeployPlan};
use super::github::check_name;
use crate::base::InputError;
use crate::cli::Inputs;
use crate::env::Env;

/// The requested action's identifier (GitHub: at most 20 characters).
pub const IDENTIFIER: &str = "rollback";
/// The button's label (at most 20 characters).
pub const LABEL: &str = "Roll back";
/// GitHub's limit on an action's description.
pub const DESCRIPTION_LIMIT: usize = 40;
/// The longest `external_id` we write.
pub const EXTERNAL_ID_LIMIT: usize = 255;
/// The app of check runs made with `GITHUB_TOKEN`; only its buttons reach workflows.
pub const GITHUB_ACTIONS_APP: &str = "github-actions";
const PREFIX: &str = "lambda-pipeline/1";

/// One function a deploy moved: from `previous` to `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployedFunction {
    pub name: String,
    pub version: String,
    pub previous: String,
}

/// What a successful deploy's check run records in its `external_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployRecord {
    /// `<run id>-<attempt>-<job>`.
    pub run_key: String,
    pub environment: String,
    pub alias: String,
    pub functions: Vec<DeployedFunction>,
}

impl DeployRecord {
    /// The `external_id`, or `None` when it would not fit in `EXTERNAL_ID_LIMIT`.
    pub fn render(&self) -> Option<String> {
        let functions: Vec<String> = self
            .functions
            .iter()
            .map(|f| format!("{}@{}:{}", f.name, f.version, f.previous))
            .collect();
        let text = format!(
            "{PREFIX} run={} env={} alias={} fn={}",
            encode(&self.run_key),
            encode(&self.environment),
            encode(&self.alias),
            functions.join(",")
        );
        (text.len() <= EXTERNAL_ID_LIMIT).then_some(text)
    }

    /// Reads an `external_id` we wrote; `None` for anything else.
    pub fn parse(text: &str) -> Option<DeployRecord> {
        let mut words = text.split(' ');
        if words.next() != Some(PREFIX) {
            return None;
        }
        let mut fields = std::collections::BTreeMap::new();
        for word in words {
            let (key, value) = word.split_once('=')?;
            fields.insert(key, value);
        }
        let functions = fields
            .get("fn")?
            .split(',')
            .map(|item| {
                let (name, versions) = item.split_once('@')?;
                let (version, previous) = versions.split_once(':')?;
                let numeric = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                (!name.is_empty() && numeric(version) && numeric(previous)).then(|| {
                    DeployedFunction {
                        name: name.to_owned(),
                        version: version.to_owned(),
                        previous: previous.to_owned(),
                    }
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(DeployRecord {
            run_key: decode(fields.get("run")?)?,
            environment: decode(fields.get("env")?)?,
            alias: decode(fields.get("alias")?)?,
            functions,
        })
    }

    /// The button's description, within GitHub's 40 characters.
    pub fn description(&self) -> String {
        let text = match self.functions.as_slice() {
            [one] => format!("Move {} back to version {}", self.alias, one.previous),
            _ => format!("Move {} back on every function", self.alias),
        };
        if text.chars().count() <= DESCRIPTION_LIMIT {
            text
        } else {
            "Move the alias back to the last version".to_owned()
        }
    }
}

/// Percent-encodes what would break the record's syntax.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A rollback asked for by the button: the check run it came from and what that run deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ButtonRollback {
    pub check_run_id: u64,
    /// The check run's page, for the report.
    pub check_run_url: Option<String>,
    /// The commit that check run was on; the rollback reports on it too.
    pub head_sha: String,
    /// Who clicked (`sender.login`).
    pub requested_by: Option<String>,
    pub record: DeployRecord,
}

/// On a `check_run` event, the rollback plan of the check run whose button was clicked: the
/// environment and functions from its record, their region and role from `targets` or the
/// plain inputs. `None` on any other event. A check run that is not one of ours, or an event
/// that is not our button, is an input error: nothing is rolled back.
pub fn resolve(
    inputs: &Inputs,
    env: &Env,
    source_dir: &Path,
) -> Result<Option<DeployPlan>, InputError> {
    if env.get("GITHUB_EVENT_NAME") != Some("check_run") {
        return Ok(None);
    }
    let payload = read_payload(env)?;
    let button = from_payload(&payload, inputs.check_name.as_deref())?;
    let record = &button.record;
    if let Some(given) = inputs.environment.as_deref().map(str::trim)
        && !given.is_empty()
        && given != record.environment
    {
        return Err(refusal(format!(
            "check run {} deployed to `{}`, but `environment` is `{given}`",
            button.check_run_id, record.environment
        ))
        .with_hint("leave `environment` unset in the rollback workflow: the check run names it"));
    }
    let mut inputs = inputs.clone();
    inputs.environment = Some(record.environment.clone());
    inputs.branch_environments = None;
    if inputs.targets.is_none() && inputs.function_name.is_none() {
        let names: Vec<&str> = record.functions.iter().map(|f| f.name.as_str()).collect();
        inputs.function_name = Some(names.join(","));
    }
    let mut plan = deploy::resolve(&inputs, env, source_dir)?;
    let mut targets = Vec::new();
    for function in &record.functions {
        let target = plan
            .targets
            .iter()
            .find(|t| t.name == function.name)
            .ok_or_else(|| {
                refusal(format!(
                    "check run {} deployed `{}`, which the rollback's `targets` or `function-name` does not list for `{}`",
                    button.check_run_id, function.name, record.environment
                ))
                .with_hint("give the rollback workflow the same `targets` as the deploy, or none")
            })?;
        let mut target = target.clone();
        target.alias = record.alias.clone();
        targets.push(target);
    }
    plan.targets = targets;
    plan.preview = None;
    plan.paths = None;
    plan.button = Some(button);
    Ok(Some(plan))
}

fn refusal(message: String) -> InputError {
    InputError::new("check_run", message)
}

fn read_payload(env: &Env) -> Result<Value, InputError> {
    let unreadable = |why: String| {
        refusal(format!("cannot read the `check_run` event: {why}"))
            .with_hint("run `lambda-pipeline rollback` from a workflow `on: check_run: types: [requested_action]`")
    };
    let path = env
        .get("GITHUB_EVENT_PATH")
        .ok_or_else(|| unreadable("`GITHUB_EVENT_PATH` is not set".to_owned()))?;
    let text = fs_err::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| unreadable(format!("`{path}`: {e}")))
}

/// The button's request in a `check_run` payload, after checking it is ours.
pub fn from_payload(
    payload: &Value,
    check_name_input: Option<&str>,
) -> Result<ButtonRollback, InputError> {
    let text = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str);
    let action = text("/action").unwrap_or_default();
    if action != "requested_action" {
        return Err(refusal(format!(
            "the `check_run` event is `{action}`, not the `requested_action` a button sends"
        ))
        .with_hint(
            "trigger the rollback workflow with `on: check_run: types: [requested_action]`",
        ));
    }
    let id = payload
        .pointer("/check_run/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| refusal("the event has no `check_run.id`".to_owned()))?;
    let identifier = text("/requested_action/identifier").unwrap_or_default();
    if identifier != IDENTIFIER {
        return Err(refusal(format!(
            "check run {id}'s button asks for `{identifier}`, not `{IDENTIFIER}`"
        ))
        .with_hint(format!(
            "run the rollback step only `if: github.event.requested_action.identifier == '{IDENTIFIER}'`"
        )));
    }
    let app = text("/check_run/app/slug").unwrap_or("no app");
    if app != GITHUB_ACTIONS_APP {
        return Err(refusal(format!(
            "check run {id} was created by `{app}`, not by GitHub Actions; lambda-pipeline's check runs come from the job's `GITHUB_TOKEN`"
        )));
    }
    let external_id = text("/check_run/external_id").unwrap_or_default();
    let record = DeployRecord::parse(external_id).ok_or_else(|| {
        refusal(format!(
            "check run {id} is not a lambda-pipeline deploy: its external_id `{external_id}` records no deploy"
        ))
        .with_hint("only the check run of a successful `lambda-pipeline run` carries the Roll back button")
    })?;
    let name = text("/check_run/name").unwrap_or_default();
    let expected = check_name(check_name_input, Some(&record.environment));
    if name != expected {
        return Err(refusal(format!(
            "check run {id} is named `{name}`, but lambda-pipeline names `{}`'s check run `{expected}`",
            record.environment
        ))
        .with_hint("give the rollback workflow the deploy's `check-name`, or none when the deploy used the default"));
    }
    Ok(ButtonRollback {
        check_run_id: id,
        check_run_url: text("/check_run/html_url").map(str::to_owned),
        head_sha: text("/check_run/head_sha").unwrap_or_default().to_owned(),
        requested_by: text("/sender/login").map(str::to_owned),
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> DeployRecord {
        DeployRecord {
            run_key: "4242-1-deploy".to_owned(),
            environment: "prod eu".to_owned(),
            alias: "live".to_owned(),
            functions: vec![DeployedFunction {
                name: "hello-prod".to_owned(),
                version: "7".to_owned(),
                previous: "6".to_owned(),
            }],
        }
    }

    #[test]
    fn the_record_round_trips_and_keeps_to_its_limits() {
        let text = record().render().unwrap();
        assert_eq!(
            text,
            "lambda-pipeline/1 run=4242-1-deploy env=prod%20eu alias=live fn=hello-prod@7:6"
        );
        assert_eq!(DeployRecord::parse(&text), Some(record()));
        assert_eq!(record().description(), "Move live back to version 6");
        assert!(LABEL.len() <= 20 && IDENTIFIER.len() <= 20);
        assert!(DeployRecord::parse("4242-1-deploy-prod").is_none());
        assert!(DeployRecord::parse("lambda-pipeline/1 run=x env=y alias=z fn=a@b:c").is_none());
        let many = DeployRecord {
            functions: (0..5)
                .map(|i| DeployedFunction {
                    name: format!("{}-{i}", "f".repeat(60)),
                    version: "10".to_owned(),
                    previous: "9".to_owned(),
                })
                .collect(),
            ..record()
        };
        assert_eq!(many.render(), None);
        assert!(many.description().chars().count() <= DESCRIPTION_LIMIT);
    }

    fn payload(external_id: &str, name: &str, app: &str, identifier: &str) -> Value {
        json!({
            "action": "requested_action",
            "requested_action": {"identifier": identifier},
            "check_run": {
                "id": 17,
                "name": name,
                "external_id": external_id,
                "head_sha": "abc",
                "html_url": "https://github.com/octo/hello/runs/17",
                "app": {"slug": app},
            },
            "sender": {"login": "octocat"},
        })
    }

    #[test]
    fn only_our_check_runs_are_accepted() {
        let id = record().render().unwrap();
        let ours = from_payload(
            &payload(
                &id,
                "lambda-pipeline / prod eu",
                "github-actions",
                "rollback",
            ),
            None,
        )
        .unwrap();
        assert_eq!(ours.record, record());
        assert_eq!(ours.requested_by.as_deref(), Some("octocat"));
        let refused =
            |p: Value, check_name: Option<&str>| from_payload(&p, check_name).unwrap_err().message;
        assert!(
            refused(
                payload(
                    "42-1-x-prod",
                    "lambda-pipeline / prod eu",
                    "github-actions",
                    "rollback"
                ),
                None
            )
            .contains("records no deploy")
        );
        assert!(
            refused(payload(&id, "deploy", "github-actions", "rollback"), None)
                .contains("is named `deploy`")
        );
        assert!(
            from_payload(
                &payload(&id, "deploy", "github-actions", "rollback"),
                Some("deploy")
            )
            .is_ok()
        );
        assert!(
            refused(
                payload(&id, "lambda-pipeline / prod eu", "my-app", "rollback"),
                None
            )
            .contains("`my-app`")
        );
        assert!(
            refused(
                payload(&id, "lambda-pipeline / prod eu", "github-actions", "fix"),
                None
            )
            .contains("asks for `fix`")
        );
    }
}
