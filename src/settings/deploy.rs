//! Resolves the deploy inputs into a typed `DeployPlan`: which environment (the `environment`
//! input, or the branch through `branch-environments`), which functions (`function-name` with
//! `{environment}`, or the `targets` map), and per function the alias, region, role, traffic
//! shift, smoke test and alarms.
//! Owns: validation of every deploy input (names, ARNs, shift specs, JSON). Must not: call AWS,
//! read anything but the `targets` file, print.

use std::path::Path;
use std::time::Duration;

use regex::Regex;
use serde::Serialize;

use super::function_config::{self, EnvironmentMode, FunctionConfig};
use super::values;
use crate::base::InputError;
use crate::base::diagnostic::Span;
use crate::base::suggest::nearest;
use crate::base::yaml::{self, Kind, Node};
use crate::cli::Inputs;
use crate::env::Env;

/// Keys a `targets` entry may have.
const TARGET_KEYS: [&str; 17] = [
    "function",
    "alias",
    "region",
    "role-to-assume",
    "traffic-shift",
    "smoke-test",
    "smoke-test-expect",
    "smoke-test-tenant-id",
    "alarms",
    "keep-versions",
    "publish-to",
    "config",
    "environment-variables",
    "create-function",
    "preview",
    "preview-url",
    "paths",
];

/// How traffic moves from the old version to the new one.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum TrafficShift {
    #[default]
    AllAtOnce,
    /// `percent` of traffic for `wait`, then everything.
    Canary { percent: f64, wait: Duration },
    /// `percent` more every `interval` until everything.
    Linear { percent: f64, interval: Duration },
}

impl std::fmt::Display for TrafficShift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrafficShift::AllAtOnce => write!(f, "all-at-once"),
            TrafficShift::Canary { percent, wait } => {
                write!(f, "canary {percent}% for {}s", wait.as_secs_f64())
            }
            TrafficShift::Linear { percent, interval } => {
                write!(f, "linear {percent}% every {}s", interval.as_secs_f64())
            }
        }
    }
}

/// The invoke that must pass before traffic moves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmokeTest {
    /// Valid JSON, sent as it is.
    pub payload: String,
    /// A JSON subset the response must contain.
    pub expect: Option<serde_json::Value>,
    /// The tenant to invoke as, for a function with tenant isolation (`TenancyConfig`).
    pub tenant_id: Option<String>,
}

/// One function to deploy to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionTarget {
    /// As given: a name, or a full ARN.
    pub function: String,
    /// The function's name (the last part of an ARN).
    pub name: String,
    /// Region to call: the ARN's, the target's or the `region` input; `None` = SDK chain.
    pub region: Option<String>,
    pub alias: String,
    pub role_to_assume: Option<String>,
    pub traffic_shift: TrafficShift,
    pub smoke_test: Option<SmokeTest>,
    pub alarms: Vec<String>,
    /// After a successful deploy, delete published versions beyond the N newest (never an
    /// aliased one, the one deployed or the one it replaced).
    pub keep_versions: Option<u32>,
    /// Publish to `$LATEST.PUBLISHED` (PublishVersion's `PublishTo`), for Lambda Managed
    /// Instances.
    pub publish_to_latest_published: bool,
    /// The configuration set before PublishVersion (`function-config`, the target's `config`),
    /// `{environment}` expanded.
    pub config: Option<FunctionConfig>,
    /// How `Environment.Variables` applies.
    pub environment_variables: EnvironmentMode,
    /// Create the function (from `config` and the package) when it does not exist.
    pub create_function: bool,
}

/// Where packages over 50 MB go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

/// Everything the deploy needs, resolved before the build runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployPlan {
    /// The selected environment; `default` when none is needed.
    pub environment: String,
    /// Empty: nothing to deploy (no `function-name` and no `targets`).
    pub targets: Vec<FunctionTarget>,
    /// Things worth saying once when the deploy starts (read-only configuration fields ignored).
    pub notes: Vec<String>,
    pub force: bool,
    pub dry_run: bool,
    #[serde(serialize_with = "values::show_duration")]
    pub wait_timeout: Duration,
    pub s3: Option<S3Location>,
    pub notify: Option<super::notify::NotifySettings>,
    /// A pull request's preview (`preview: true` on a `pull_request` event).
    pub preview: Option<super::preview::Preview>,
    /// `paths`: build and deploy only when a file changed since the deployed commit matches.
    pub paths: Option<super::preview::Paths>,
    /// A `rollback` asked for by the Roll back button of a deploy's check run.
    pub button: Option<super::button::ButtonRollback>,
}

impl Default for DeployPlan {
    fn default() -> Self {
        DeployPlan {
            environment: "default".to_owned(),
            targets: Vec::new(),
            notes: Vec::new(),
            force: false,
            dry_run: false,
            wait_timeout: crate::base::limits::DEFAULT_WAIT_TIMEOUT,
            s3: None,
            notify: None,
            preview: None,
            paths: None,
            button: None,
        }
    }
}

impl Serialize for TrafficShift {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl DeployPlan {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Resolves every deploy input. `source_dir` is where a `targets` file path is read from.
pub fn resolve(inputs: &Inputs, env: &Env, source_dir: &Path) -> Result<DeployPlan, InputError> {
    let mut notes = Vec::new();
    let defaults = TargetDefaults::from_inputs(inputs, source_dir, &mut notes)?;
    let targets_map = inputs
        .targets
        .as_deref()
        .map(|value| load_targets(value, source_dir))
        .transpose()?;
    if targets_map.is_some() && inputs.function_name.is_some() {
        return Err(
            InputError::new("targets", "`targets` and `function-name` are both set")
                .with_hint("use `function-name` for one naming pattern, or `targets`, not both"),
        );
    }
    let environment = select_environment(inputs, env)?;
    let (mut targets, options) = match (&targets_map, &inputs.function_name) {
        (Some(map), _) => targets_from_map(
            map,
            environment.as_deref(),
            &defaults,
            source_dir,
            &mut notes,
        )?,
        (None, Some(names)) => (
            targets_from_names(names, environment.as_deref(), &defaults)?,
            defaults.environment.clone(),
        ),
        (None, None) => (Vec::new(), defaults.environment.clone()),
    };
    let image = inputs.image_uri.is_some();
    for target in &mut targets {
        if let (Some(config), Some(environment)) = (&target.config, &environment) {
            target.config = Some(config.expand(environment));
        }
        if target.create_function {
            check_creatable(target, image)?;
        }
    }
    let url_auth = super::preview::UrlAuth::parse(inputs.preview_url_auth_type.as_deref())?;
    let preview = super::preview::apply(env, &options, url_auth, &mut targets)?;
    Ok(DeployPlan {
        environment: environment.unwrap_or_else(|| "default".to_owned()),
        targets,
        notes,
        force: values::parse_bool("force", inputs.force.as_deref(), false)?,
        dry_run: values::parse_bool("dry-run", inputs.dry_run.as_deref(), false)?,
        wait_timeout: inputs
            .wait_timeout
            .as_deref()
            .map(|v| values::parse_duration("wait-timeout", v))
            .transpose()?
            .unwrap_or(crate::base::limits::DEFAULT_WAIT_TIMEOUT),
        s3: s3_location(inputs)?,
        notify: super::notify::settings(inputs)?,
        preview,
        paths: options.paths,
        button: None,
    })
}

/// Values from plain inputs that every target starts from.
#[derive(Clone)]
struct TargetDefaults {
    alias: String,
    region: Option<String>,
    role_to_assume: Option<String>,
    traffic_shift: TrafficShift,
    smoke_test: Option<SmokeTest>,
    /// `smoke-test-tenant-id`, kept apart so a target's own `smoke-test` gets it too.
    tenant_id: Option<String>,
    alarms: Vec<String>,
    keep_versions: Option<u32>,
    publish_to_latest_published: bool,
    config: Option<FunctionConfig>,
    environment_variables: EnvironmentMode,
    create_function: bool,
    /// `preview`, `preview-url`, `paths`: per environment, not per function.
    environment: super::preview::EnvironmentOptions,
}

impl TargetDefaults {
    fn from_inputs(
        inputs: &Inputs,
        source_dir: &Path,
        notes: &mut Vec<String>,
    ) -> Result<TargetDefaults, InputError> {
        let alias = match inputs.alias.as_deref().map(str::trim) {
            Some(alias) if !alias.is_empty() => parse_alias("alias", alias)?,
            _ => "live".to_owned(),
        };
        let smoke_test = inputs
            .smoke_test
            .as_deref()
            .map(|payload| {
                parse_smoke_test(
                    "smoke-test",
                    payload,
                    inputs.smoke_test_expect.as_deref(),
                    "smoke-test-expect",
                )
            })
            .transpose()?;
        let tenant_id = inputs
            .smoke_test_tenant_id
            .as_deref()
            .map(|t| parse_tenant_id("smoke-test-tenant-id", t))
            .transpose()?;
        let smoke_test = smoke_test.map(|test| SmokeTest {
            tenant_id: tenant_id.clone(),
            ..test
        });
        if smoke_test.is_none() && inputs.smoke_test_expect.is_some() {
            return Err(
                InputError::new("smoke-test-expect", "is set but `smoke-test` is not").with_hint(
                    "set `smoke-test` to the JSON payload to invoke the new version with",
                ),
            );
        }
        Ok(TargetDefaults {
            alias,
            region: inputs
                .region
                .as_deref()
                .map(|r| parse_region("region", r))
                .transpose()?,
            role_to_assume: inputs
                .role_to_assume
                .as_deref()
                .map(|r| parse_role_arn("role-to-assume", r))
                .transpose()?,
            traffic_shift: inputs
                .traffic_shift
                .as_deref()
                .map(|s| parse_traffic_shift("traffic-shift", s))
                .transpose()?
                .unwrap_or(TrafficShift::AllAtOnce),
            smoke_test,
            tenant_id,
            alarms: inputs.alarms.as_deref().map(split_list).unwrap_or_default(),
            keep_versions: inputs
                .keep_versions
                .as_deref()
                .map(|n| parse_keep_versions("keep-versions", n))
                .transpose()?,
            publish_to_latest_published: inputs
                .publish_to
                .as_deref()
                .map(|v| parse_publish_to("publish-to", v))
                .transpose()?
                .unwrap_or(false),
            config: inputs
                .function_config
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    function_config::load("function-config", v, source_dir)
                        .map(|parsed| noted(parsed, "function-config", notes))
                })
                .transpose()?,
            environment_variables: inputs
                .environment_variables
                .as_deref()
                .map(|v| parse_environment_mode("environment-variables", v))
                .transpose()?
                .unwrap_or_default(),
            create_function: values::parse_bool(
                "create-function",
                inputs.create_function.as_deref(),
                false,
            )?,
            environment: super::preview::EnvironmentOptions::from_inputs(inputs)?,
        })
    }

    fn target(&self, function: &str, input: &str) -> Result<FunctionTarget, InputError> {
        let (name, arn_region) = parse_function(input, function)?;
        Ok(FunctionTarget {
            function: function.to_owned(),
            name,
            region: arn_region.or_else(|| self.region.clone()),
            alias: self.alias.clone(),
            role_to_assume: self.role_to_assume.clone(),
            traffic_shift: self.traffic_shift.clone(),
            smoke_test: self.smoke_test.clone(),
            alarms: self.alarms.clone(),
            keep_versions: self.keep_versions,
            publish_to_latest_published: self.publish_to_latest_published,
            config: self.config.clone(),
            environment_variables: self.environment_variables,
            create_function: self.create_function,
        })
    }
}

/// The environment from `environment`, else from the branch through `branch-environments`.
pub fn select_environment(inputs: &Inputs, env: &Env) -> Result<Option<String>, InputError> {
    if let Some(name) = inputs.environment.as_deref().map(str::trim)
        && !name.is_empty()
    {
        return Ok(Some(name.to_owned()));
    }
    let Some(map) = inputs.branch_environments.as_deref() else {
        return Ok(None);
    };
    let pairs = parse_string_map("branch-environments", map)?;
    let branch = current_branch(env).ok_or_else(|| {
        InputError::new(
            "branch-environments",
            "cannot tell the branch: neither GITHUB_REF_NAME nor GITHUB_REF is set",
        )
        .with_hint("set `environment` when running outside GitHub Actions")
    })?;
    for (pattern, environment) in &pairs {
        if branch_matches(pattern, &branch) {
            return Ok(Some(environment.clone()));
        }
    }
    let known: Vec<&str> = pairs.iter().map(|(b, _)| b.as_str()).collect();
    Err(InputError::new(
        "branch-environments",
        format!(
            "branch `{branch}` has no environment; mapped branches: {}",
            known.join(", ")
        ),
    )
    .with_hint("add the branch to `branch-environments`, or set `environment`"))
}

/// The branch being built: GITHUB_REF_NAME, else GITHUB_REF without `refs/heads/`.
fn current_branch(env: &Env) -> Option<String> {
    if let Some(name) = env.get("GITHUB_REF_NAME") {
        return Some(name.to_owned());
    }
    env.get("GITHUB_REF")
        .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_owned())
}

/// Exact match, or a glob (`release/*`).
fn branch_matches(pattern: &str, branch: &str) -> bool {
    if pattern == branch {
        return true;
    }
    pattern.contains(['*', '?', '['])
        && globset::Glob::new(pattern)
            .map(|g| g.compile_matcher().is_match(branch))
            .unwrap_or(false)
}

fn targets_from_names(
    names: &str,
    environment: Option<&str>,
    defaults: &TargetDefaults,
) -> Result<Vec<FunctionTarget>, InputError> {
    let mut targets = Vec::new();
    for name in split_list(names) {
        let function = if name.contains("{environment}") {
            let environment = environment.ok_or_else(|| {
                InputError::new(
                    "function-name",
                    format!("`{name}` uses `{{environment}}` but no environment is selected"),
                )
                .with_hint(
                    "set `environment`, or `branch-environments` to derive it from the branch",
                )
            })?;
            name.replace("{environment}", environment)
        } else {
            name
        };
        targets.push(defaults.target(&function, "function-name")?);
    }
    if targets.is_empty() {
        return Err(InputError::new("function-name", "names no function"));
    }
    Ok(targets)
}

/// The `targets` input: the parsed map, and where it came from for error messages.
pub struct TargetsSource {
    /// `targets`, or the file's path.
    origin: String,
    text: String,
    root: Node,
}

/// Reads `targets`: inline YAML, or the path of a YAML file (relative to `source_dir`).
fn load_targets(value: &str, source_dir: &Path) -> Result<TargetsSource, InputError> {
    let trimmed = value.trim();
    let looks_like_path = !trimmed.contains(['\n', ':', '{']);
    let (origin, text) = if looks_like_path {
        let path = source_dir.join(trimmed);
        let text = fs_err::read_to_string(&path).map_err(|err| {
            InputError::new("targets", format!("cannot read `{trimmed}`: {err}")).with_hint(
                "give the path of a YAML file (relative to the working directory) or inline YAML",
            )
        })?;
        (trimmed.to_owned(), text)
    } else {
        ("targets".to_owned(), value.to_owned())
    };
    let root = yaml::parse(&text).map_err(|err| {
        located(&origin, &text, err.span.line, err.span.column, &err.message)
            .with_hint("`targets` is a YAML map: `dev: {function: hello-dev}`")
    })?;
    if !matches!(root.kind, Kind::Map(_)) {
        return Err(located(
            &origin,
            &text,
            root.span.line,
            root.span.column,
            &format!(
                "expected a map from environment to target, found {}",
                root.kind_name()
            ),
        )
        .with_hint("write `dev: {function: hello-dev}`, one line per environment"));
    }
    Ok(TargetsSource { origin, text, root })
}

/// An error in `targets` at a position, drawn with the offending line and a caret.
fn located(origin: &str, text: &str, line: usize, column: usize, message: &str) -> InputError {
    let file = (origin != "targets").then_some(origin);
    InputError::new("targets", message).at(file, text, Span::new(line, column, 1))
}

fn map_entries(node: &Node) -> &[(Node, Node)] {
    match &node.kind {
        Kind::Map(entries) => entries,
        _ => &[],
    }
}

fn targets_from_map(
    source: &TargetsSource,
    environment: Option<&str>,
    defaults: &TargetDefaults,
    source_dir: &Path,
    notes: &mut Vec<String>,
) -> Result<(Vec<FunctionTarget>, super::preview::EnvironmentOptions), InputError> {
    let entries = map_entries(&source.root);
    let names: Vec<String> = entries
        .iter()
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect();
    let environment = environment.ok_or_else(|| {
        InputError::new(
            "environment",
            format!(
                "no environment is selected; `targets` defines {}",
                names.join(", ")
            ),
        )
        .with_hint("set `environment`, or `branch-environments` to derive it from the branch")
    })?;
    let Some((_, entry)) = entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(environment))
    else {
        return Err(InputError::new(
            "environment",
            format!(
                "`{environment}` has no target; `{}` defines {}",
                source.origin,
                names.join(", ")
            ),
        )
        .with_hint("choose one of those environments, or add it to `targets`"));
    };
    target_entry(source, entry, defaults, source_dir, notes)
}

/// One environment's entry: a function name, a list of names, or a map of settings; with the
/// environment's own options.
fn target_entry(
    source: &TargetsSource,
    entry: &Node,
    defaults: &TargetDefaults,
    source_dir: &Path,
    notes: &mut Vec<String>,
) -> Result<(Vec<FunctionTarget>, super::preview::EnvironmentOptions), InputError> {
    let error = |node: &Node, message: &str| {
        located(
            &source.origin,
            &source.text,
            node.span.line,
            node.span.column,
            message,
        )
    };
    let function_list = |node: &Node| -> Result<Vec<(String, Node)>, InputError> {
        match &node.kind {
            Kind::Scalar { text, .. } => Ok(split_list(text)
                .into_iter()
                .map(|n| (n, node.clone()))
                .collect()),
            Kind::Seq(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(|s| (s.trim().to_owned(), item.clone()))
                        .ok_or_else(|| error(item, "a function must be a name or an ARN"))
                })
                .collect(),
            _ => Err(error(
                node,
                "`function` must be a name, an ARN or a list of them",
            )),
        }
    };
    let mut functions = Vec::new();
    let mut settings = defaults.clone();
    match &entry.kind {
        Kind::Scalar { .. } | Kind::Seq(_) => functions = function_list(entry)?,
        Kind::Map(pairs) => {
            let mut expect: Option<String> = None;
            let mut smoke: Option<(String, Node)> = None;
            for (key, value) in pairs {
                let key_name = key.as_str().unwrap_or("");
                let text = || -> Result<String, InputError> {
                    scalar_text(value)
                        .ok_or_else(|| error(value, &format!("`{key_name}` must be a string")))
                };
                let wrap =
                    |err: InputError| error(value, &format!("`{key_name}`: {}", err.message));
                match key_name {
                    "function" => functions = function_list(value)?,
                    "alias" => settings.alias = parse_alias(key_name, &text()?).map_err(wrap)?,
                    "region" => {
                        settings.region = Some(parse_region(key_name, &text()?).map_err(wrap)?)
                    }
                    "role-to-assume" => {
                        settings.role_to_assume =
                            Some(parse_role_arn(key_name, &text()?).map_err(wrap)?)
                    }
                    "traffic-shift" => {
                        settings.traffic_shift =
                            parse_traffic_shift(key_name, &text()?).map_err(wrap)?
                    }
                    "smoke-test" => smoke = Some((json_text(value), value.clone())),
                    "smoke-test-expect" => expect = Some(json_text(value)),
                    "smoke-test-tenant-id" => {
                        settings.tenant_id =
                            Some(parse_tenant_id(key_name, &text()?).map_err(wrap)?)
                    }
                    "keep-versions" => {
                        settings.keep_versions =
                            Some(parse_keep_versions(key_name, &text()?).map_err(wrap)?)
                    }
                    "publish-to" => {
                        settings.publish_to_latest_published =
                            parse_publish_to(key_name, &text()?).map_err(wrap)?
                    }
                    "config" => {
                        let parsed = match &value.kind {
                            Kind::Scalar { text, .. } => {
                                function_config::load("targets", text, source_dir)?
                            }
                            _ => function_config::parse_node(
                                "targets",
                                (source.origin != "targets").then_some(source.origin.as_str()),
                                &source.text,
                                value,
                            )?,
                        };
                        let parsed = noted(parsed, "targets", notes);
                        settings.config = Some(match &settings.config {
                            Some(base) => base.overlay(&parsed),
                            None => parsed,
                        });
                    }
                    "environment-variables" => {
                        settings.environment_variables =
                            parse_environment_mode(key_name, &text()?).map_err(wrap)?
                    }
                    "create-function" => {
                        settings.create_function =
                            values::parse_bool(key_name, Some(&text()?), false).map_err(wrap)?
                    }
                    "alarms" => {
                        settings.alarms = match &value.kind {
                            Kind::Seq(items) => items.iter().filter_map(scalar_text).collect(),
                            _ => split_list(&text()?),
                        }
                    }
                    "preview" | "preview-url" | "paths" => settings
                        .environment
                        .set(key_name, value)
                        .map_err(|message| error(value, &message))?,
                    other => {
                        let suggestion = nearest(other, &TARGET_KEYS)
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default();
                        return Err(error(key, &format!("unknown key `{other}`{suggestion}"))
                            .with_hint(format!("a target may set {}", TARGET_KEYS.join(", "))));
                    }
                }
            }
            if let Some((payload, node)) = smoke {
                settings.smoke_test = Some(
                    parse_smoke_test(
                        "smoke-test",
                        &payload,
                        expect.as_deref(),
                        "smoke-test-expect",
                    )
                    .map_err(|err| error(&node, &err.message))?,
                );
            }
            if let Some(test) = &mut settings.smoke_test {
                test.tenant_id = settings.tenant_id.clone();
            }
            if functions.is_empty() {
                return Err(error(entry, "the target has no `function`")
                    .with_hint("add `function: <name or ARN>` to the environment's entry"));
            }
        }
        _ => {
            return Err(error(entry, "the target is empty")
                .with_hint("write `function: <name or ARN>` under the environment"));
        }
    }
    let targets = functions
        .into_iter()
        .map(|(function, node)| {
            settings
                .target(&function, "targets")
                .map_err(|err| error(&node, &err.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((targets, settings.environment))
}

/// A scalar's text, or a flow/block map or list re-rendered as JSON (for `smoke-test`).
fn json_text(node: &Node) -> String {
    match &node.kind {
        Kind::Scalar { text, .. } => text.clone(),
        _ => node_to_json(node).to_string(),
    }
}

fn node_to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Scalar { text, plain } => {
            if *plain {
                if let Ok(number) = text.parse::<i64>() {
                    return Value::from(number);
                }
                if let Ok(number) = text.parse::<f64>() {
                    return Value::from(number);
                }
                if text == "true" || text == "false" {
                    return Value::Bool(text == "true");
                }
            }
            Value::String(text.clone())
        }
        Kind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or("").to_owned(), node_to_json(v)))
                .collect(),
        ),
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    node.as_str().map(|s| s.trim().to_owned())
}

/// A YAML map of strings (`develop: dev`), in order.
fn parse_string_map(input: &str, text: &str) -> Result<Vec<(String, String)>, InputError> {
    let root = yaml::parse(text).map_err(|err| {
        InputError::new(input, format!("line {}: {}", err.span.line, err.message))
    })?;
    let Kind::Map(entries) = &root.kind else {
        return Err(InputError::new(input, "expected a map, e.g. `main: prod`")
            .with_hint("write one `branch: environment` per line"));
    };
    entries
        .iter()
        .map(|(k, v)| match (k.as_str(), v.as_str()) {
            (Some(k), Some(v)) => Ok((k.to_owned(), v.trim().to_owned())),
            _ => Err(InputError::new(
                input,
                format!("line {}: expected `branch: environment`", k.span.line),
            )),
        })
        .collect()
}

/// Items separated by commas or line breaks, trimmed, empties dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A function name or ARN; returns the name and the ARN's region.
pub fn parse_function(input: &str, value: &str) -> Result<(String, Option<String>), InputError> {
    static NAME: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,64}$").expect("valid regex"));
    static ARN: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^arn:aws[a-z-]*:lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([A-Za-z0-9_-]{1,64})$")
            .expect("valid regex")
    });
    if value.starts_with("arn:") {
        let captures = ARN.captures(value).ok_or_else(|| {
            InputError::new(input, format!("`{value}` is not a valid Lambda function ARN"))
                .with_hint("write `arn:aws:lambda:<region>:<account>:function:<name>` without a version or alias; set the alias with `alias`")
        })?;
        return Ok((captures[3].to_owned(), Some(captures[1].to_owned())));
    }
    if !NAME.is_match(value) {
        return Err(InputError::new(
            input,
            format!("`{value}` is not a valid function name"),
        )
        .with_hint("a function name has 1 to 64 letters, digits, `-` or `_`; or give the function's ARN"));
    }
    Ok((value.to_owned(), None))
}

pub fn parse_role_arn(input: &str, value: &str) -> Result<String, InputError> {
    static ROLE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
            .expect("valid regex")
    });
    let value = value.trim();
    if ROLE.is_match(value) {
        Ok(value.to_owned())
    } else {
        Err(
            InputError::new(input, format!("`{value}` is not a valid IAM role ARN"))
                .with_hint("write `arn:aws:iam::<12-digit account>:role/<name>`"),
        )
    }
}

fn parse_region(input: &str, value: &str) -> Result<String, InputError> {
    static REGION: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-\d$").expect("valid regex"));
    let value = value.trim();
    if REGION.is_match(value) {
        Ok(value.to_owned())
    } else {
        Err(
            InputError::new(input, format!("`{value}` is not an AWS region"))
                .with_hint("write a region code such as `us-east-1` or `eu-west-2`"),
        )
    }
}

fn parse_alias(input: &str, value: &str) -> Result<String, InputError> {
    static ALIAS: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[A-Za-z_-][A-Za-z0-9_-]{0,127}$").expect("valid regex")
    });
    let value = value.trim();
    if ALIAS.is_match(value) && value.parse::<u64>().is_err() {
        Ok(value.to_owned())
    } else {
        Err(InputError::new(input, format!("`{value}` is not a valid alias name"))
            .with_hint("an alias has letters, digits, `-` or `_` and does not start with a digit, e.g. `live`"))
    }
}

/// `all-at-once`, `canary <percent> <duration>` or `linear <percent> <interval>`.
pub fn parse_traffic_shift(input: &str, value: &str) -> Result<TrafficShift, InputError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let bad = |why: &str| {
        InputError::new(input, format!("`{}` {why}", value.trim())).with_hint(
            "write `all-at-once`, `canary <percent> <duration>` (e.g. `canary 10 5m`) or `linear <percent> <interval>` (e.g. `linear 20 2m`)",
        )
    };
    match words.as_slice() {
        [] | ["all-at-once"] => Ok(TrafficShift::AllAtOnce),
        [kind @ ("canary" | "linear"), percent, duration] => {
            let percent: f64 = percent
                .trim_end_matches('%')
                .parse()
                .map_err(|_| bad("has a percent that is not a number"))?;
            if !(percent > 0.0 && percent < 100.0) {
                return Err(bad("needs a percent above 0 and below 100"));
            }
            let duration = values::parse_duration(input, duration)
                .map_err(|_| bad("has a duration that is not one (use 90s, 5m, 1h)"))?;
            Ok(if *kind == "canary" {
                TrafficShift::Canary {
                    percent,
                    wait: duration,
                }
            } else {
                TrafficShift::Linear {
                    percent,
                    interval: duration,
                }
            })
        }
        ["canary" | "linear", ..] => Err(bad("needs a percent and a duration")),
        _ => Err(bad("is not a traffic shift")),
    }
}

fn parse_smoke_test(
    input: &str,
    payload: &str,
    expect: Option<&str>,
    expect_input: &str,
) -> Result<SmokeTest, InputError> {
    serde_json::from_str::<serde_json::Value>(payload).map_err(|err| {
        InputError::new(input, format!("is not valid JSON: {err}"))
            .with_hint("give the invoke payload as JSON, e.g. `{\"name\": \"smoke\"}`")
    })?;
    let expect = expect
        .map(|text| {
            serde_json::from_str(text).map_err(|err| {
                InputError::new(expect_input, format!("is not valid JSON: {err}"))
                    .with_hint("give a JSON value that the response must contain, e.g. `{\"statusCode\": 200}`")
            })
        })
        .transpose()?;
    Ok(SmokeTest {
        payload: payload.to_owned(),
        expect,
        tenant_id: None,
    })
}

/// A parsed configuration; its ignored read-only fields become one note.
fn noted(parsed: function_config::Parsed, input: &str, notes: &mut Vec<String>) -> FunctionConfig {
    if !parsed.ignored.is_empty() {
        notes.push(format!(
            "`{input}`: read-only fields of get-function-configuration's output are ignored: {}",
            parsed.ignored.join(", ")
        ));
    }
    parsed.config
}

/// `environment-variables`: `merge` (the default) or `replace`.
fn parse_environment_mode(input: &str, value: &str) -> Result<EnvironmentMode, InputError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "merge" => Ok(EnvironmentMode::Merge),
        "replace" => Ok(EnvironmentMode::Replace),
        other => Err(
            InputError::new(input, format!("`{other}` is not a mode")).with_hint(
                "use `merge` (keys given are set, null removes, others are kept) or `replace`",
            ),
        ),
    }
}

/// `create-function` needs what CreateFunction needs, before anything runs.
fn check_creatable(target: &FunctionTarget, image: bool) -> Result<(), InputError> {
    let config = target.config.clone().unwrap_or_default();
    let mut missing = Vec::new();
    if config.role.is_none() {
        missing.push("Role");
    }
    if !image {
        if config.runtime.is_none() {
            missing.push("Runtime");
        }
        if config.handler.is_none() {
            missing.push("Handler");
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(InputError::new(
        "function-config",
        format!(
            "`create-function` creates `{}` when it is missing, and that needs {} in `function-config`",
            target.name,
            missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .with_hint(if image {
        "add `Role:` (the execution role ARN)"
    } else {
        "add `Role:` (the execution role ARN), `Runtime:` and `Handler:`"
    }))
}

/// A tenant id: 1 to 256 printable characters, no spaces at either end.
fn parse_tenant_id(input: &str, value: &str) -> Result<String, InputError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(
            InputError::new(input, format!("`{value}` is not a tenant id")).with_hint(
                "give the tenant to invoke the smoke test as: 1 to 256 printable characters",
            ),
        );
    }
    Ok(value.to_owned())
}

/// `keep-versions`: how many published versions to keep, at least 1.
fn parse_keep_versions(input: &str, value: &str) -> Result<u32, InputError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(InputError::new(
            input,
            format!("`{}` is not a number of versions", value.trim()),
        )
        .with_hint("write how many published versions to keep, 1 or more, e.g. 10")),
    }
}

/// `publish-to`: `latest-published` (`$LATEST.PUBLISHED`), or empty/`version` for the default.
fn parse_publish_to(input: &str, value: &str) -> Result<bool, InputError> {
    match value.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "" | "version" => Ok(false),
        "latest-published" | "$latest.published" => Ok(true),
        other => Err(InputError::new(input, format!("`{other}` is not a publish target"))
            .with_hint("use `latest-published` for Lambda Managed Instances' $LATEST.PUBLISHED, or leave it unset")),
    }
}

fn s3_location(inputs: &Inputs) -> Result<Option<S3Location>, InputError> {
    let Some(bucket) = inputs.s3_bucket.as_deref().map(str::trim) else {
        if inputs.s3_key_prefix.is_some() {
            return Err(InputError::new(
                "s3-key-prefix",
                "is set but `s3-bucket` is not",
            ));
        }
        return Ok(None);
    };
    static BUCKET: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$").expect("valid regex")
    });
    if !BUCKET.is_match(bucket) {
        return Err(InputError::new(
            "s3-bucket",
            format!("`{bucket}` is not a valid bucket name"),
        )
        .with_hint("give the bucket's name, not an `s3://` URL or an ARN"));
    }
    let prefix = inputs
        .s3_key_prefix
        .as_deref()
        .map(|p| p.trim().trim_matches('/').to_owned())
        .unwrap_or_default();
    Ok(Some(S3Location {
        bucket: bucket.to_owned(),
        prefix,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        let mut inputs = Inputs::default();
        for (name, value) in pairs {
            let value = Some((*value).to_owned());
            match *name {
                "environment" => inputs.environment = value,
                "branch-environments" => inputs.branch_environments = value,
                "function-name" => inputs.function_name = value,
                "targets" => inputs.targets = value,
                "traffic-shift" => inputs.traffic_shift = value,
                "alias" => inputs.alias = value,
                other => panic!("unknown input {other}"),
            }
        }
        inputs
    }

    fn resolve_with(
        pairs: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<DeployPlan, InputError> {
        resolve(
            &inputs(pairs),
            &Env::from_pairs(env.iter().copied()),
            Path::new("."),
        )
    }

    #[test]
    fn template_and_branch_map() {
        let plan = resolve_with(
            &[
                ("function-name", "hello-{environment}, other"),
                (
                    "branch-environments",
                    "develop: dev\nmain: prod\n'release/*': staging",
                ),
            ],
            &[("GITHUB_REF", "refs/heads/release/1.2")],
        )
        .unwrap();
        assert_eq!(plan.environment, "staging");
        let names: Vec<_> = plan.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["hello-staging", "other"]);
        assert_eq!(plan.targets[0].alias, "live");
    }

    #[test]
    fn targets_map_with_settings() {
        let plan = resolve_with(
            &[
                ("environment", "prod"),
                (
                    "targets",
                    "dev: hello-dev\nprod:\n  function: [a, 'arn:aws:lambda:eu-west-1:123456789012:function:b']\n  alias: current\n  traffic-shift: canary 10 5m\n  smoke-test: {name: smoke}\n",
                ),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(plan.targets.len(), 2);
        assert_eq!(plan.targets[1].region.as_deref(), Some("eu-west-1"));
        assert_eq!(plan.targets[0].alias, "current");
        assert_eq!(
            plan.targets[0].traffic_shift,
            TrafficShift::Canary {
                percent: 10.0,
                wait: Duration::from_secs(300)
            }
        );
        assert_eq!(
            plan.targets[0].smoke_test.as_ref().unwrap().payload,
            r#"{"name":"smoke"}"#
        );
    }

    #[test]
    fn errors_name_the_choices_and_lines() {
        let err = resolve_with(
            &[("environment", "qa"), ("targets", "dev: a\nprod: b\n")],
            &[],
        )
        .unwrap_err();
        assert_eq!(err.input, "environment");
        assert!(err.message.contains("dev, prod"), "{err}");

        let err = resolve_with(
            &[("environment", "dev"), ("targets", "dev:\n  functon: a\n")],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err.position().as_deref(),
            Some("line 2, column 3 of `targets`"),
            "{err}"
        );
        assert!(err.to_string().contains("2 |   functon: a\n"), "{err}");
        assert!(err.message.contains("did you mean `function`"), "{err}");

        let err = resolve_with(&[("traffic-shift", "canary ten 5m")], &[]).unwrap_err();
        assert_eq!(err.input, "traffic-shift");

        let err = resolve_with(
            &[("function-name", "arn:aws:lambda:us-east-1:12:function:x")],
            &[],
        )
        .unwrap_err();
        assert!(
            err.message.contains("not a valid Lambda function ARN"),
            "{err}"
        );
    }
}
