//! Pull-request previews and `paths`, resolved per environment: `preview`, `preview-url`,
//! `preview-url-auth-type` and `paths` (inputs, and `targets` keys), and the `pull_request`
//! event payload they depend on (the number, the action, whether the head is a fork).
//! A preview deploys to alias `pr-<number>` instead of the environment's own, all at once, with
//! no alarms and no pruning; closing the pull request removes it.
//! Owns: reading the `pull_request` payload and these inputs. Must not: call AWS or GitHub,
//! run `git`, print.

use serde::Serialize;
use serde_json::Value;

use super::deploy::{FunctionTarget, TrafficShift};
use super::values;
use crate::base::InputError;
use crate::base::yaml::{Kind, Node};
use crate::cli::Inputs;
use crate::env::Env;

/// The per-environment options of this module, from the inputs and then the `targets` entry.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentOptions {
    pub preview: bool,
    pub preview_url: bool,
    pub paths: Option<Paths>,
}

impl EnvironmentOptions {
    /// The plain inputs, which a `targets` entry may override.
    pub fn from_inputs(inputs: &Inputs) -> Result<EnvironmentOptions, InputError> {
        Ok(EnvironmentOptions {
            preview: values::parse_bool("preview", inputs.preview.as_deref(), false)?,
            preview_url: values::parse_bool("preview-url", inputs.preview_url.as_deref(), false)?,
            paths: inputs
                .paths
                .as_deref()
                .map(|text| Paths::parse("paths", &split_lines(text)))
                .transpose()?,
        })
    }

    /// A `targets` key this module owns (`preview`, `preview-url`, `paths`); the error is the
    /// message to draw at the value.
    pub fn set(&mut self, key: &str, value: &Node) -> Result<(), String> {
        let text = || {
            value
                .as_str()
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| format!("`{key}` must be a string"))
        };
        match key {
            "preview" => self.preview = parse_bool(key, &text()?)?,
            "preview-url" => self.preview_url = parse_bool(key, &text()?)?,
            "paths" => {
                let patterns = match &value.kind {
                    Kind::Seq(items) => items
                        .iter()
                        .map(|item| {
                            item.as_str()
                                .map(|s| s.trim().to_owned())
                                .ok_or_else(|| "`paths` must be a list of globs".to_owned())
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => split_lines(&text()?),
                };
                self.paths = Some(Paths::parse(key, &patterns).map_err(|e| e.message)?);
            }
            other => return Err(format!("`{other}` is not a preview key")),
        }
        Ok(())
    }
}

fn parse_bool(key: &str, text: &str) -> Result<bool, String> {
    values::parse_bool(key, Some(text), false).map_err(|e| format!("`{key}`: {}", e.message))
}

/// Non-empty lines, trimmed. Globs may hold commas (`{a,b}`), so only lines separate them.
fn split_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `paths`: globs over repository-relative paths (`*` stays within a directory, `**` crosses
/// them); `!glob` excludes. A file matches when the last pattern that matches it is not an
/// exclusion; with exclusions only, every other file matches.
#[derive(Debug, Clone)]
pub struct Paths {
    patterns: Vec<String>,
    matchers: Vec<(bool, globset::GlobMatcher)>,
}

impl PartialEq for Paths {
    fn eq(&self, other: &Paths) -> bool {
        self.patterns == other.patterns
    }
}

impl Serialize for Paths {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(serializer)
    }
}

impl Paths {
    pub fn parse(input: &str, patterns: &[String]) -> Result<Paths, InputError> {
        if patterns.is_empty() {
            return Err(InputError::new(input, "names no glob")
                .with_hint("give one glob per line, e.g. `services/api/**`"));
        }
        let mut matchers = Vec::new();
        for pattern in patterns {
            let (include, glob) = match pattern.strip_prefix('!') {
                Some(rest) => (false, rest),
                None => (true, pattern.as_str()),
            };
            let glob = glob.trim_start_matches("./").trim_start_matches('/');
            let matcher = globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|err| {
                    InputError::new(input, format!("`{pattern}` is not a glob: {}", err.kind()))
                        .with_hint("write globs relative to the repository root, e.g. `services/api/**` or `!**/*.md`")
                })?
                .compile_matcher();
            matchers.push((include, matcher));
        }
        Ok(Paths {
            patterns: patterns.to_vec(),
            matchers,
        })
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a changed file (relative to the repository root) counts.
    pub fn matches(&self, path: &str) -> bool {
        let last = self
            .matchers
            .iter()
            .rev()
            .find(|(_, matcher)| matcher.is_match(path));
        match last {
            Some((include, _)) => *include,
            None => self.matchers.iter().all(|(include, _)| !include),
        }
    }
}

/// The function URL's auth type (`preview-url-auth-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum UrlAuth {
    /// Callers sign their requests (SigV4) and need `lambda:InvokeFunctionUrl`.
    #[default]
    #[serde(rename = "AWS_IAM")]
    AwsIam,
    /// Anyone with the URL can call it.
    #[serde(rename = "NONE")]
    None,
}

impl UrlAuth {
    pub fn parse(value: Option<&str>) -> Result<UrlAuth, InputError> {
        match value.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
            None | Some("") | Some("AWS_IAM") => Ok(UrlAuth::AwsIam),
            Some("NONE") => Ok(UrlAuth::None),
            Some(other) => Err(InputError::new(
                "preview-url-auth-type",
                format!("`{other}` is not a function URL auth type"),
            )
            .with_hint("use AWS_IAM (callers sign requests) or NONE (public)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UrlAuth::AwsIam => "AWS_IAM",
            UrlAuth::None => "NONE",
        }
    }
}

/// What the preview does on this event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreviewAction {
    /// Opened, pushed to, reopened: deploy to `pr-<number>`.
    Deploy,
    /// Closed (merged or not): delete the alias, its URL and the versions only it used.
    Close,
    /// The head is in another repository: its token is read-only and it has no secrets, so
    /// nothing is built or deployed.
    Fork { head: String },
}

/// A pull request's preview in this environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub number: u64,
    /// `pr-<number>`: the alias the targets deploy to.
    pub alias: String,
    /// The environment's own alias (`live`), which a preview never touches.
    pub base_alias: String,
    pub action: PreviewAction,
    /// `preview-url`: keep a function URL on the preview alias, with this auth type.
    pub url: Option<UrlAuth>,
    /// The pull request was merged (on `closed`).
    pub merged: bool,
    /// The pull request's head commit. A preview records it (not `GITHUB_SHA`, a test merge
    /// commit that a later checkout no longer has), so that `paths` can compare with it.
    pub head_sha: Option<String>,
}

impl Preview {
    /// The tag a version published for this preview carries in its description.
    pub fn version_tag(&self) -> String {
        version_tag(&self.alias)
    }
}

/// `preview=pr-<number>`, in the description of every version a preview publishes: closing
/// the pull request deletes only versions that carry it.
pub fn version_tag(alias: &str) -> String {
    format!("preview={alias}")
}

/// The `pull_request` event, as far as previews care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub action: String,
    pub merged: bool,
    /// The head repository when it is not the base repository (`owner/repo`, or `a deleted
    /// fork`).
    pub fork: Option<String>,
    pub head_sha: Option<String>,
}

impl PullRequest {
    /// Reads `GITHUB_EVENT_PATH` of a `pull_request` event.
    pub fn from_event(env: &Env) -> Result<PullRequest, String> {
        let path = env
            .get("GITHUB_EVENT_PATH")
            .ok_or("`GITHUB_EVENT_PATH` is not set")?;
        let text = fs_err::read_to_string(path).map_err(|e| e.to_string())?;
        let payload: Value = serde_json::from_str(&text)
            .map_err(|e| format!("`{path}` is not a JSON event payload: {e}"))?;
        PullRequest::from_payload(&payload)
    }

    pub fn from_payload(payload: &Value) -> Result<PullRequest, String> {
        let pull = payload
            .get("pull_request")
            .ok_or("the event payload has no `pull_request`")?;
        let number = payload
            .get("number")
            .or_else(|| pull.get("number"))
            .and_then(Value::as_u64)
            .ok_or("the event payload has no pull request `number`")?;
        let full_name = |side: &str| {
            pull.pointer(&format!("/{side}/repo/full_name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        // `head.repo.fork` is also true for a branch of a repository that is itself a fork,
        // so the two repositories are compared; a deleted fork has no `head.repo`.
        let fork = match (full_name("head"), full_name("base")) {
            (Some(head), Some(base)) if head != base => Some(head),
            (None, _) if pull.pointer("/head/repo").is_some_and(Value::is_null) => {
                Some("a deleted fork".to_owned())
            }
            _ => None,
        };
        Ok(PullRequest {
            number,
            action: payload
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            merged: pull.get("merged").and_then(Value::as_bool).unwrap_or(false),
            fork,
            head_sha: pull
                .pointer("/head/sha")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// The preview of this run, when `preview` is on and the event is a pull request; points every
/// target at `pr-<number>`, all at once, without alarms or pruning. Other events deploy as
/// usual.
pub fn apply(
    env: &Env,
    options: &EnvironmentOptions,
    url_auth: UrlAuth,
    targets: &mut [FunctionTarget],
) -> Result<Option<Preview>, InputError> {
    if !options.preview || targets.is_empty() {
        return Ok(None);
    }
    match env.get("GITHUB_EVENT_NAME").unwrap_or_default() {
        "pull_request" => {}
        "pull_request_target" => {
            return Err(InputError::new(
                "preview",
                "previews deploy on `pull_request` events, not `pull_request_target`",
            )
            .with_hint("`pull_request_target` runs with a write token and secrets, so deploying the pull request's code there would hand them to any fork; trigger the workflow on `pull_request`"));
        }
        _ => return Ok(None),
    }
    let pull = PullRequest::from_event(env).map_err(|why| {
        InputError::new("preview", format!("cannot read the pull request: {why}"))
            .with_hint("`preview` reads the number from the `pull_request` event payload")
    })?;
    let alias = format!("pr-{}", pull.number);
    let base_alias = targets[0].alias.clone();
    for target in targets.iter_mut() {
        target.alias = alias.clone();
        target.traffic_shift = TrafficShift::AllAtOnce;
        target.alarms.clear();
        target.keep_versions = None;
    }
    let action = match (&pull.fork, pull.action.as_str()) {
        (Some(head), _) => PreviewAction::Fork { head: head.clone() },
        (None, "closed") => PreviewAction::Close,
        (None, _) => PreviewAction::Deploy,
    };
    Ok(Some(Preview {
        number: pull.number,
        alias,
        base_alias,
        action,
        url: options.preview_url.then_some(url_auth),
        merged: pull.merged,
        head_sha: pull.head_sha,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(patterns: &[&str]) -> Paths {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Paths::parse("paths", &patterns).unwrap()
    }

    #[test]
    fn globs_stay_in_their_directory_and_the_last_match_decides() {
        let api = paths(&["services/api/**", "!**/*.md", "shared/*.py"]);
        assert!(api.matches("services/api/handler.py"));
        assert!(api.matches("services/api/deep/er/x.py"));
        assert!(!api.matches("services/api/README.md"));
        assert!(!api.matches("services/web/handler.py"));
        assert!(api.matches("shared/util.py"));
        assert!(!api.matches("shared/sub/util.py"));
        let everything_but_docs = paths(&["!docs/**"]);
        assert!(everything_but_docs.matches("src/main.rs"));
        assert!(!everything_but_docs.matches("docs/index.md"));
        assert!(paths(&["{a,b}/*.txt"]).matches("b/x.txt"));
        let err = Paths::parse("paths", &["src/[".to_owned()]).unwrap_err();
        assert!(err.message.contains("is not a glob"), "{err}");
    }

    fn event(action: &str, head: Option<&str>) -> Value {
        json!({
            "action": action,
            "number": 12,
            "pull_request": {
                "number": 12,
                "merged": action == "closed",
                "head": {"repo": head.map(|h| json!({"full_name": h, "fork": h != "octo/hello"}))},
                "base": {"repo": {"full_name": "octo/hello", "fork": false}},
            }
        })
    }

    #[test]
    fn a_fork_is_another_head_repository() {
        let same = PullRequest::from_payload(&event("synchronize", Some("octo/hello"))).unwrap();
        assert_eq!(same.number, 12);
        assert_eq!(same.fork, None);
        let fork = PullRequest::from_payload(&event("opened", Some("mallory/hello"))).unwrap();
        assert_eq!(fork.fork.as_deref(), Some("mallory/hello"));
        let gone = PullRequest::from_payload(&event("opened", None)).unwrap();
        assert_eq!(gone.fork.as_deref(), Some("a deleted fork"));
        let closed = PullRequest::from_payload(&event("closed", Some("octo/hello"))).unwrap();
        assert!(closed.merged);
        assert!(PullRequest::from_payload(&json!({"action": "opened"})).is_err());
    }

    fn plan(
        targets: &str,
        event_name: &str,
        payload: &Value,
    ) -> Result<super::super::DeployPlan, InputError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        std::fs::write(&file, payload.to_string()).unwrap();
        let env = Env::from_pairs([
            ("GITHUB_EVENT_NAME", event_name),
            ("GITHUB_EVENT_PATH", file.to_str().unwrap()),
        ]);
        let inputs = Inputs {
            environment: Some("dev".to_owned()),
            targets: Some(targets.to_owned()),
            ..Inputs::default()
        };
        super::super::deploy::resolve(&inputs, &env, dir.path())
    }

    #[test]
    fn targets_turn_previews_and_paths_on_per_environment() {
        let targets = "dev:\n  function: [a, b]\n  traffic-shift: canary 10 5m\n  alarms: [errors]\n  keep-versions: 3\n  preview: true\n  preview-url: true\n  paths: [services/a/**, '!**/*.md']\nprod: c\n";
        let opened = plan(
            targets,
            "pull_request",
            &event("opened", Some("octo/hello")),
        )
        .unwrap();
        let preview = opened.preview.expect("a preview");
        assert_eq!(preview.alias, "pr-12");
        assert_eq!(preview.base_alias, "live");
        assert_eq!(preview.action, PreviewAction::Deploy);
        assert_eq!(preview.url, Some(UrlAuth::AwsIam));
        for target in &opened.targets {
            assert_eq!(target.alias, "pr-12");
            assert_eq!(target.traffic_shift, TrafficShift::AllAtOnce);
            assert!(target.alarms.is_empty() && target.keep_versions.is_none());
        }
        assert_eq!(
            opened.paths.as_ref().unwrap().patterns(),
            ["services/a/**", "!**/*.md"]
        );
        let closed = plan(
            targets,
            "pull_request",
            &event("closed", Some("octo/hello")),
        )
        .unwrap();
        assert_eq!(closed.preview.unwrap().action, PreviewAction::Close);
        let pushed = plan(targets, "push", &json!({})).unwrap();
        assert!(pushed.preview.is_none());
        assert_eq!(pushed.targets[0].alias, "live");
        let err = plan(targets, "pull_request_target", &json!({})).unwrap_err();
        assert_eq!(err.input, "preview");
        let err = plan("dev:\n  function: a\n  pathz: x\n", "push", &json!({})).unwrap_err();
        assert!(err.message.contains("did you mean `paths`"), "{err}");
        let err = plan(
            "dev:\n  function: a\n  paths: 'src/['\n",
            "push",
            &json!({}),
        )
        .unwrap_err();
        assert!(err.message.contains("is not a glob"), "{err}");
    }

    #[test]
    fn auth_types() {
        assert_eq!(UrlAuth::parse(None).unwrap(), UrlAuth::AwsIam);
        assert_eq!(UrlAuth::parse(Some("none")).unwrap(), UrlAuth::None);
        assert!(UrlAuth::parse(Some("public")).is_err());
    }
}
