//! `function-config`: the function's configuration as code, in the API's own spelling (the
//! fields of `UpdateFunctionConfiguration`, plus `Architectures`), from YAML or JSON, inline or
//! a file. The output of `aws lambda get-function-configuration` is accepted as it is: its
//! read-only fields are ignored with one note. Every error names the field, its line and column,
//! and suggests the nearest known field.
//! Owns: parsing and checking that text. Must not: call AWS, print.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::base::InputError;
use crate::base::diagnostic::Span;
use crate::base::suggest::nearest;
use crate::base::yaml::{self, Kind, Node};

/// Fields `function-config` may set.
const FIELDS: [&str; 18] = [
    "MemorySize",
    "Timeout",
    "Handler",
    "Runtime",
    "Description",
    "Role",
    "Environment",
    "Layers",
    "EphemeralStorage",
    "TracingConfig",
    "LoggingConfig",
    "VpcConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "FileSystemConfigs",
    "ImageConfig",
    "SnapStart",
    "Architectures",
];

/// Fields of `get-function-configuration`'s output that nobody sets: ignored with one note.
const READ_ONLY: [&str; 22] = [
    "FunctionName",
    "FunctionArn",
    "CodeSize",
    "CodeSha256",
    "Version",
    "LastModified",
    "RevisionId",
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "PackageType",
    "MasterArn",
    "SigningProfileVersionArn",
    "SigningJobArn",
    "RuntimeVersionConfig",
    "ImageConfigResponse",
    "TenancyConfig",
    "CapacityProviderConfig",
    "DurableConfig",
];

/// How `Environment.Variables` applies: keys given are set and `null` removes (merge), or the
/// given set is the whole set (replace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentMode {
    #[default]
    Merge,
    Replace,
}

/// The configuration a deploy sets before it publishes. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `Environment.Variables`: a value sets, `None` (YAML `null`) removes. Values are secrets:
    /// only the names are ever shown.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "variable_names"
    )]
    pub environment: Option<BTreeMap<String, Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// `EphemeralStorage.Size`, MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<i32>,
    /// `TracingConfig.Mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// `DeadLetterConfig.TargetArn`; empty removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_target_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    /// `(Arn, LocalMountPath)` pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_configs: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_config: Option<ImageConfig>,
    /// `SnapStart.ApplyOn`: `PublishedVersions` or `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snap_start: Option<String>,
    /// Goes with the code (UpdateFunctionCode), not the configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_allowed_for_dual_stack: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
}

/// A parsed `function-config`, and the read-only fields it carried (for the one note).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub config: FunctionConfig,
    pub ignored: Vec<String>,
}

/// `top` when it is set, else `base`.
fn pick<T: Clone>(base: &Option<T>, top: &Option<T>) -> Option<T> {
    top.clone().or_else(|| base.clone())
}

impl FunctionConfig {
    /// `other`'s fields over these; environment variables merged key by key.
    pub fn overlay(&self, other: &FunctionConfig) -> FunctionConfig {
        let environment = match (&self.environment, &other.environment) {
            (Some(base), Some(top)) => {
                let mut merged = base.clone();
                merged.extend(top.clone());
                Some(merged)
            }
            (base, top) => top.clone().or_else(|| base.clone()),
        };
        FunctionConfig {
            memory_size: other.memory_size.or(self.memory_size),
            timeout: other.timeout.or(self.timeout),
            handler: pick(&self.handler, &other.handler),
            runtime: pick(&self.runtime, &other.runtime),
            description: pick(&self.description, &other.description),
            role: pick(&self.role, &other.role),
            environment,
            layers: pick(&self.layers, &other.layers),
            ephemeral_storage: other.ephemeral_storage.or(self.ephemeral_storage),
            tracing_mode: pick(&self.tracing_mode, &other.tracing_mode),
            logging_config: pick(&self.logging_config, &other.logging_config),
            vpc_config: pick(&self.vpc_config, &other.vpc_config),
            dead_letter_target_arn: pick(
                &self.dead_letter_target_arn,
                &other.dead_letter_target_arn,
            ),
            kms_key_arn: pick(&self.kms_key_arn, &other.kms_key_arn),
            file_system_configs: pick(&self.file_system_configs, &other.file_system_configs),
            image_config: pick(&self.image_config, &other.image_config),
            snap_start: pick(&self.snap_start, &other.snap_start),
            architectures: pick(&self.architectures, &other.architectures),
        }
    }

    /// `{environment}` replaced in every string value (names of variables included).
    pub fn expand(&self, environment: &str) -> FunctionConfig {
        let s = |v: &Option<String>| v.as_ref().map(|t| t.replace("{environment}", environment));
        let list = |v: &Option<Vec<String>>| {
            v.as_ref().map(|items| {
                items
                    .iter()
                    .map(|t| t.replace("{environment}", environment))
                    .collect()
            })
        };
        FunctionConfig {
            handler: s(&self.handler),
            runtime: s(&self.runtime),
            description: s(&self.description),
            role: s(&self.role),
            environment: self.environment.as_ref().map(|vars| {
                vars.iter()
                    .map(|(k, v)| {
                        (
                            k.replace("{environment}", environment),
                            v.as_ref().map(|t| t.replace("{environment}", environment)),
                        )
                    })
                    .collect()
            }),
            layers: list(&self.layers),
            tracing_mode: s(&self.tracing_mode),
            logging_config: self.logging_config.as_ref().map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.replace("{environment}", environment)))
                    .collect()
            }),
            vpc_config: self.vpc_config.as_ref().map(|v| VpcConfig {
                subnet_ids: list(&Some(v.subnet_ids.clone())).unwrap_or_default(),
                security_group_ids: list(&Some(v.security_group_ids.clone())).unwrap_or_default(),
                ipv6_allowed_for_dual_stack: v.ipv6_allowed_for_dual_stack,
            }),
            dead_letter_target_arn: s(&self.dead_letter_target_arn),
            kms_key_arn: s(&self.kms_key_arn),
            file_system_configs: self.file_system_configs.as_ref().map(|f| {
                f.iter()
                    .map(|(a, p)| {
                        (
                            a.replace("{environment}", environment),
                            p.replace("{environment}", environment),
                        )
                    })
                    .collect()
            }),
            image_config: self.image_config.as_ref().map(|i| ImageConfig {
                entry_point: list(&i.entry_point),
                command: list(&i.command),
                working_directory: s(&i.working_directory),
            }),
            snap_start: s(&self.snap_start),
            architectures: list(&self.architectures),
            ..self.clone()
        }
    }
}

fn variable_names<S: serde::Serializer>(
    vars: &Option<BTreeMap<String, Option<String>>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let names = vars.iter().flatten().map(|(name, value)| match value {
        Some(_) => format!("{name}=***"),
        None => format!("{name} (removed)"),
    });
    serializer.collect_seq(names)
}

/// Reads `value`: inline YAML or JSON, or the path of a file (relative to `source_dir`).
/// `input` names the input (or the `targets` key) in errors.
pub fn load(input: &str, value: &str, source_dir: &Path) -> Result<Parsed, InputError> {
    let trimmed = value.trim();
    let looks_like_path = !trimmed.contains(['\n', ':', '{']);
    let (file, text) = if looks_like_path {
        let path = source_dir.join(trimmed);
        let text = fs_err::read_to_string(&path).map_err(|err| {
            InputError::new(input, format!("cannot read `{trimmed}`: {err}")).with_hint(
                "give the path of a YAML or JSON file (relative to the working directory), or the configuration itself",
            )
        })?;
        (Some(trimmed.to_owned()), text)
    } else {
        (None, value.to_owned())
    };
    let root = yaml::parse(&text)
        .map_err(|err| InputError::new(input, err.message).at(file.as_deref(), &text, err.span))?;
    parse_node(input, file.as_deref(), &text, &root)
}

/// Parses an already-read node (a `targets` entry's `config:` mapping).
pub fn parse_node(
    input: &str,
    file: Option<&str>,
    text: &str,
    root: &Node,
) -> Result<Parsed, InputError> {
    Parser { input, file, text }.config(root)
}

struct Parser<'a> {
    input: &'a str,
    file: Option<&'a str>,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, node: &Node, message: impl Into<String>) -> InputError {
        let span = Span::new(node.span.line, node.span.column, node.span.len.max(1));
        InputError::new(self.input, message).at(self.file, self.text, span)
    }

    fn entries<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], InputError> {
        match &node.kind {
            Kind::Map(entries) => Ok(entries),
            _ => Err(self.error(
                node,
                format!("{what} must be a mapping, found {}", node.kind_name()),
            )),
        }
    }

    fn config(&self, root: &Node) -> Result<Parsed, InputError> {
        let mut parsed = Parsed::default();
        let entries = self.entries(root, "the configuration").map_err(|err| {
            err.with_hint("write fields of UpdateFunctionConfiguration, e.g. `MemorySize: 512`")
        })?;
        let config = &mut parsed.config;
        for (key, value) in entries {
            let name = key.as_str().unwrap_or("");
            match name {
                "MemorySize" => config.memory_size = Some(self.int(value, name, 128, 10_240)?),
                "Timeout" => config.timeout = Some(self.int(value, name, 1, 900)?),
                "Handler" => config.handler = Some(self.string(value, name)?),
                "Runtime" => config.runtime = Some(self.string(value, name)?),
                "Description" => config.description = Some(self.string(value, name)?),
                "Role" => config.role = Some(self.string(value, name)?),
                "KMSKeyArn" => config.kms_key_arn = Some(self.string(value, name)?),
                "Environment" => config.environment = Some(self.environment(value)?),
                "Layers" => config.layers = Some(self.layers(value)?),
                "EphemeralStorage" => {
                    let size = self.field(value, name, "Size")?;
                    config.ephemeral_storage =
                        Some(self.int(size, "EphemeralStorage.Size", 512, 10_240)?);
                }
                "TracingConfig" => {
                    let mode = self.field(value, name, "Mode")?;
                    config.tracing_mode = Some(self.one_of(
                        mode,
                        "TracingConfig.Mode",
                        &["Active", "PassThrough"],
                    )?);
                }
                "LoggingConfig" => config.logging_config = Some(self.logging(value)?),
                "VpcConfig" => config.vpc_config = Some(self.vpc(value)?),
                "DeadLetterConfig" => {
                    let entries = self.entries(value, name)?;
                    config.dead_letter_target_arn = Some(match entries.first() {
                        None => String::new(),
                        Some(_) => self.string(self.field(value, name, "TargetArn")?, name)?,
                    });
                }
                "FileSystemConfigs" => {
                    config.file_system_configs = Some(self.file_systems(value)?);
                }
                "ImageConfig" => config.image_config = Some(self.image_config(value)?),
                "SnapStart" => {
                    let apply_on = self.field(value, name, "ApplyOn")?;
                    config.snap_start = Some(self.one_of(
                        apply_on,
                        "SnapStart.ApplyOn",
                        &["PublishedVersions", "None"],
                    )?);
                }
                "Architectures" => {
                    let list = self.strings(value, name)?;
                    for arch in &list {
                        if arch != "x86_64" && arch != "arm64" {
                            return Err(self.error(
                                value,
                                format!(
                                    "`Architectures` holds `{arch}`; Lambda has x86_64 and arm64"
                                ),
                            ));
                        }
                    }
                    if list.len() != 1 {
                        return Err(
                            self.error(value, "`Architectures` takes exactly one architecture")
                        );
                    }
                    config.architectures = Some(list);
                }
                other if READ_ONLY.contains(&other) => parsed.ignored.push(other.to_owned()),
                other => return Err(self.unknown(key, other, &FIELDS, "the configuration")),
            }
        }
        Ok(parsed)
    }

    fn unknown(&self, key: &Node, name: &str, known: &[&str], within: &str) -> InputError {
        let suggestion = nearest(name, known)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        let span = Span::new(key.span.line, key.span.column, name.chars().count().max(1));
        InputError::new(
            self.input,
            format!("unknown field `{name}` in {within}{suggestion}"),
        )
        .at(self.file, self.text, span)
        .with_hint(format!("{within} may set {}", known.join(", ")))
    }

    /// The value of `key` in the mapping `node` (an error when missing). Other keys are errors,
    /// except the read-only ones of get-function-configuration's output.
    fn field<'n>(&self, node: &'n Node, what: &str, key: &str) -> Result<&'n Node, InputError> {
        const OUTPUT_ONLY: [&str; 2] = ["OptimizationStatus", "Error"];
        let entries = self.entries(node, what)?;
        for (k, _) in entries {
            let name = k.as_str().unwrap_or("");
            if name != key && !OUTPUT_ONLY.contains(&name) {
                return Err(self.unknown(k, name, &[key], what));
            }
        }
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .ok_or_else(|| self.error(node, format!("`{what}` needs `{key}`")))
    }

    fn string(&self, node: &Node, name: &str) -> Result<String, InputError> {
        node.as_str().map(str::to_owned).ok_or_else(|| {
            self.error(
                node,
                format!("`{name}` must be a string, found {}", node.kind_name()),
            )
        })
    }

    fn int(&self, node: &Node, name: &str, low: i32, high: i32) -> Result<i32, InputError> {
        let text = self.string(node, name)?;
        match text.trim().parse::<i32>() {
            Ok(n) if (low..=high).contains(&n) => Ok(n),
            Ok(n) => Err(self.error(
                node,
                format!("`{name}` is {n}; Lambda takes {low} to {high}"),
            )),
            Err(_) => Err(self.error(
                node,
                format!("`{name}` must be a whole number, found `{text}`"),
            )),
        }
    }

    fn boolean(&self, node: &Node, name: &str) -> Result<bool, InputError> {
        match self.string(node, name)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(self.error(
                node,
                format!("`{name}` must be true or false, found `{other}`"),
            )),
        }
    }

    fn one_of(&self, node: &Node, name: &str, choices: &[&str]) -> Result<String, InputError> {
        let value = self.string(node, name)?;
        if choices.contains(&value.as_str()) {
            return Ok(value);
        }
        let suggestion = nearest(&value, choices)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Err(self.error(
            node,
            format!(
                "`{name}` is `{value}`; expected one of {}{suggestion}",
                choices.join(", ")
            ),
        ))
    }

    fn strings(&self, node: &Node, name: &str) -> Result<Vec<String>, InputError> {
        match &node.kind {
            Kind::Seq(items) => items.iter().map(|item| self.string(item, name)).collect(),
            Kind::Null => Ok(Vec::new()),
            _ => Err(self.error(
                node,
                format!("`{name}` must be a list, found {}", node.kind_name()),
            )),
        }
    }

    fn environment(&self, node: &Node) -> Result<BTreeMap<String, Option<String>>, InputError> {
        let variables = self.field(node, "Environment", "Variables")?;
        let mut vars = BTreeMap::new();
        for (key, value) in self.entries(variables, "Environment.Variables")? {
            let name = key.as_str().unwrap_or("").to_owned();
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
            if !valid {
                return Err(self.error(
                    key,
                    format!("`{name}` is not a valid environment variable name"),
                ));
            }
            let value = match &value.kind {
                Kind::Null => None,
                Kind::Scalar { text, .. } => Some(text.clone()),
                _ => {
                    return Err(self.error(
                        value,
                        format!("the value of `{name}` must be a string (or null to remove it)"),
                    ));
                }
            };
            vars.insert(name, value);
        }
        Ok(vars)
    }

    /// `Layers`: ARNs, or `get-function-configuration`'s `{Arn, CodeSize}` objects.
    fn layers(&self, node: &Node) -> Result<Vec<String>, InputError> {
        let Kind::Seq(items) = &node.kind else {
            return Err(self.error(
                node,
                format!("`Layers` must be a list, found {}", node.kind_name()),
            ));
        };
        items
            .iter()
            .map(|item| match &item.kind {
                Kind::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some("Arn"))
                    .map(|(_, v)| self.string(v, "Layers.Arn"))
                    .unwrap_or_else(|| Err(self.error(item, "a layer needs its `Arn`"))),
                _ => self.string(item, "Layers"),
            })
            .collect()
    }

    fn logging(&self, node: &Node) -> Result<BTreeMap<String, String>, InputError> {
        const KEYS: [&str; 4] = [
            "LogFormat",
            "ApplicationLogLevel",
            "SystemLogLevel",
            "LogGroup",
        ];
        let mut out = BTreeMap::new();
        for (key, value) in self.entries(node, "LoggingConfig")? {
            let name = key.as_str().unwrap_or("");
            let field = format!("LoggingConfig.{name}");
            let text = match name {
                "LogFormat" => self.one_of(value, &field, &["JSON", "Text"])?,
                "ApplicationLogLevel" => self.one_of(
                    value,
                    &field,
                    &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
                )?,
                "SystemLogLevel" => self.one_of(value, &field, &["DEBUG", "INFO", "WARN"])?,
                "LogGroup" => self.string(value, &field)?,
                other => return Err(self.unknown(key, other, &KEYS, "LoggingConfig")),
            };
            out.insert(name.to_owned(), text);
        }
        Ok(out)
    }

    fn vpc(&self, node: &Node) -> Result<VpcConfig, InputError> {
        const KEYS: [&str; 3] = ["SubnetIds", "SecurityGroupIds", "Ipv6AllowedForDualStack"];
        let mut vpc = VpcConfig::default();
        for (key, value) in self.entries(node, "VpcConfig")? {
            match key.as_str().unwrap_or("") {
                "SubnetIds" => vpc.subnet_ids = self.strings(value, "VpcConfig.SubnetIds")?,
                "SecurityGroupIds" => {
                    vpc.security_group_ids = self.strings(value, "VpcConfig.SecurityGroupIds")?
                }
                "Ipv6AllowedForDualStack" => {
                    vpc.ipv6_allowed_for_dual_stack =
                        Some(self.boolean(value, "VpcConfig.Ipv6AllowedForDualStack")?)
                }
                // Read-only in get-function-configuration's output.
                "VpcId" => {}
                other => return Err(self.unknown(key, other, &KEYS, "VpcConfig")),
            }
        }
        Ok(vpc)
    }

    fn file_systems(&self, node: &Node) -> Result<Vec<(String, String)>, InputError> {
        let Kind::Seq(items) = &node.kind else {
            return Err(self.error(node, "`FileSystemConfigs` must be a list"));
        };
        items
            .iter()
            .map(|item| {
                let mut arn = None;
                let mut path = None;
                for (key, value) in self.entries(item, "FileSystemConfigs")? {
                    match key.as_str().unwrap_or("") {
                        "Arn" => arn = Some(self.string(value, "FileSystemConfigs.Arn")?),
                        "LocalMountPath" => {
                            path = Some(self.string(value, "FileSystemConfigs.LocalMountPath")?)
                        }
                        other => {
                            return Err(self.unknown(
                                key,
                                other,
                                &["Arn", "LocalMountPath"],
                                "FileSystemConfigs",
                            ));
                        }
                    }
                }
                match (arn, path) {
                    (Some(arn), Some(path)) => Ok((arn, path)),
                    _ => Err(self.error(item, "a file system needs `Arn` and `LocalMountPath`")),
                }
            })
            .collect()
    }

    fn image_config(&self, node: &Node) -> Result<ImageConfig, InputError> {
        const KEYS: [&str; 3] = ["EntryPoint", "Command", "WorkingDirectory"];
        let mut image = ImageConfig::default();
        for (key, value) in self.entries(node, "ImageConfig")? {
            match key.as_str().unwrap_or("") {
                "EntryPoint" => {
                    image.entry_point = Some(self.strings(value, "ImageConfig.EntryPoint")?)
                }
                "Command" => image.command = Some(self.strings(value, "ImageConfig.Command")?),
                "WorkingDirectory" => {
                    image.working_directory =
                        Some(self.string(value, "ImageConfig.WorkingDirectory")?)
                }
                other => return Err(self.unknown(key, other, &KEYS, "ImageConfig")),
            }
        }
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed, InputError> {
        load("function-config", text, Path::new("/nonexistent"))
    }

    #[test]
    fn the_api_spelling_in_yaml_and_json() {
        let yaml = parse(
            "MemorySize: 512\nTimeout: 30\nEnvironment:\n  Variables:\n    API_KEY: abc\n    OLD: null\nLayers:\n  - arn:aws:lambda:us-east-1:123456789012:layer:x:3\nArchitectures: [arm64]\n",
        )
        .unwrap();
        assert_eq!(yaml.config.memory_size, Some(512));
        assert_eq!(yaml.config.timeout, Some(30));
        let env = yaml.config.environment.as_ref().unwrap();
        assert_eq!(env["API_KEY"].as_deref(), Some("abc"));
        assert_eq!(env["OLD"], None);
        let json = parse(r#"{"MemorySize": 512, "TracingConfig": {"Mode": "Active"}}"#).unwrap();
        assert_eq!(json.config.memory_size, Some(512));
        assert_eq!(json.config.tracing_mode.as_deref(), Some("Active"));
    }

    #[test]
    fn get_function_configuration_output_is_accepted_with_read_only_fields_noted() {
        let output = r#"{
    "FunctionName": "hello",
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hello",
    "Runtime": "python3.12",
    "Role": "arn:aws:iam::123456789012:role/r",
    "Handler": "lambda_function.lambda_handler",
    "CodeSize": 179,
    "Timeout": 3,
    "MemorySize": 128,
    "CodeSha256": "abc=",
    "Version": "$LATEST",
    "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""},
    "Environment": {"Variables": {"A": "1"}},
    "TracingConfig": {"Mode": "PassThrough"},
    "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:x:3", "CodeSize": 10}],
    "State": "Active",
    "LastUpdateStatus": "Successful",
    "PackageType": "Zip",
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/hello"}
}"#;
        let parsed = parse(output).unwrap();
        assert_eq!(
            parsed.config.handler.as_deref(),
            Some("lambda_function.lambda_handler")
        );
        assert_eq!(parsed.config.layers.as_ref().unwrap().len(), 1);
        assert!(parsed.ignored.contains(&"CodeSha256".to_owned()));
        assert!(parsed.ignored.contains(&"FunctionArn".to_owned()));
    }

    #[test]
    fn an_unknown_field_is_drawn_at_its_place_with_a_suggestion() {
        let err = parse("Timeout: 30\nMemorySise: 512\n").unwrap_err();
        assert_eq!(err.input, "function-config");
        assert!(err.message.contains("did you mean `MemorySize`"), "{err}");
        assert_eq!(
            err.position().as_deref(),
            Some("line 2, column 1 of `function-config`")
        );
        assert!(err.to_string().contains("^^^^^^^^^^"), "{err}");
    }

    #[test]
    fn ranges_and_types_are_checked() {
        for (text, expected) in [
            ("MemorySize: 64", "Lambda takes 128 to 10240"),
            ("MemorySize: 20000", "Lambda takes 128 to 10240"),
            ("Timeout: 901", "Lambda takes 1 to 900"),
            ("Timeout: soon", "whole number"),
            ("EphemeralStorage: {Size: 100}", "512 to 10240"),
            ("TracingConfig: {Mode: Actve}", "did you mean `Active`"),
            ("Architectures: [sparc]", "x86_64 and arm64"),
            (
                "Environment: {Variables: {API_KEY: [1]}}",
                "must be a string",
            ),
            ("Layers: arn", "must be a list"),
        ] {
            let err = parse(&format!("{text}\n")).unwrap_err();
            assert!(err.to_string().contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn overlay_and_expand() {
        let base = parse("MemorySize: 256\nEnvironment: {Variables: {A: '1', B: '2'}}\n").unwrap();
        let top = parse("Timeout: 10\nEnvironment: {Variables: {B: null, C: '{environment}-x'}}\n")
            .unwrap();
        let merged = base.config.overlay(&top.config).expand("prod");
        assert_eq!(merged.memory_size, Some(256));
        assert_eq!(merged.timeout, Some(10));
        let env = merged.environment.unwrap();
        assert_eq!(env["A"].as_deref(), Some("1"));
        assert_eq!(env["B"], None);
        assert_eq!(env["C"].as_deref(), Some("prod-x"));
    }

    #[test]
    fn show_settings_never_shows_variable_values() {
        let parsed = parse("Environment: {Variables: {API_KEY: s3cr3t, OLD: null}}\n").unwrap();
        let json = serde_json::to_string(&parsed.config).unwrap();
        assert!(!json.contains("s3cr3t"), "{json}");
        assert!(json.contains("API_KEY=***"), "{json}");
        assert!(json.contains("OLD (removed)"), "{json}");
    }
}
