//! The function's configuration as code, on Lambda's side: the diff between `function-config`
//! and the live configuration (field: old → new; environment variables by name only, since
//! their values are secrets), the UpdateFunctionConfiguration request that sends only what
//! changed, the CreateFunction request for `create-function`, and which field a Lambda error is
//! about.
//! Owns: those requests and the diff. Must not: wait, publish, print.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::update_function_configuration::builders::UpdateFunctionConfigurationFluentBuilder;
use aws_sdk_lambda::types::{
    Architecture, DeadLetterConfig, Environment, EphemeralStorage, FileSystemConfig,
    FunctionConfiguration, ImageConfig, LoggingConfig, Runtime, SnapStart, SnapStartApplyOn,
    TracingConfig, TracingMode, VpcConfig,
};

use crate::base::report::ConfigChange;
use crate::settings::function_config::{EnvironmentMode, FunctionConfig};

/// What a deploy changes in the configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigPlan {
    /// Field by field, for the plan, the summary and the report.
    pub changes: Vec<ConfigChange>,
    /// The fields to send (those that differ).
    desired: FunctionConfig,
    /// The whole variable set to send, when it changes.
    environment: Option<HashMap<String, String>>,
    /// The architecture to send with the code, when it changes.
    pub architectures: Option<Vec<Architecture>>,
}

impl ConfigPlan {
    /// True when UpdateFunctionConfiguration has something to send.
    pub fn updates_configuration(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !c.field.starts_with("Architectures"))
    }

    /// UpdateFunctionConfiguration with only the changed fields.
    pub fn request(
        &self,
        builder: UpdateFunctionConfigurationFluentBuilder,
        live: &FunctionConfiguration,
    ) -> UpdateFunctionConfigurationFluentBuilder {
        let d = &self.desired;
        let mut b = builder
            .set_memory_size(d.memory_size)
            .set_timeout(d.timeout)
            .set_handler(d.handler.clone())
            .set_runtime(d.runtime.as_deref().map(Runtime::from))
            .set_description(d.description.clone())
            .set_role(d.role.clone())
            .set_kms_key_arn(d.kms_key_arn.clone())
            .set_layers(d.layers.clone())
            .set_ephemeral_storage(d.ephemeral_storage.and_then(ephemeral))
            .set_tracing_config(d.tracing_mode.as_deref().map(tracing))
            .set_dead_letter_config(d.dead_letter_target_arn.as_deref().map(dead_letter))
            .set_file_system_configs(d.file_system_configs.as_deref().map(file_systems))
            .set_image_config(d.image_config.as_ref().map(image))
            .set_snap_start(d.snap_start.as_deref().map(snap_start))
            .set_vpc_config(d.vpc_config.as_ref().map(vpc));
        if let Some(fields) = &d.logging_config {
            b = b.logging_config(logging(fields, live.logging_config()));
        }
        if let Some(vars) = &self.environment {
            b = b.environment(
                Environment::builder()
                    .set_variables(Some(vars.clone()))
                    .build(),
            );
        }
        b
    }
}

/// Compares `desired` with the live configuration.
pub fn plan(
    desired: &FunctionConfig,
    mode: EnvironmentMode,
    live: &FunctionConfiguration,
) -> ConfigPlan {
    let now = live_fields(live);
    let want = desired_fields(desired);
    let mut plan = ConfigPlan::default();
    let mut differs = std::collections::BTreeSet::new();
    for (field, new) in &want {
        let old = now.get(field).cloned().unwrap_or_default();
        if &old != new {
            plan.changes.push(ConfigChange {
                field: (*field).to_owned(),
                change: format!("{} → {}", shown(&old), shown(new)),
            });
            differs.insert(field.split('.').next().unwrap_or(field).to_owned());
        }
    }
    let has = |field: &str| differs.contains(field);
    plan.desired = FunctionConfig {
        memory_size: desired.memory_size.filter(|_| has("MemorySize")),
        timeout: desired.timeout.filter(|_| has("Timeout")),
        handler: desired.handler.clone().filter(|_| has("Handler")),
        runtime: desired.runtime.clone().filter(|_| has("Runtime")),
        description: desired.description.clone().filter(|_| has("Description")),
        role: desired.role.clone().filter(|_| has("Role")),
        environment: None,
        layers: desired.layers.clone().filter(|_| has("Layers")),
        ephemeral_storage: desired
            .ephemeral_storage
            .filter(|_| has("EphemeralStorage")),
        tracing_mode: desired
            .tracing_mode
            .clone()
            .filter(|_| has("TracingConfig")),
        logging_config: desired
            .logging_config
            .clone()
            .filter(|_| has("LoggingConfig")),
        vpc_config: desired.vpc_config.clone().filter(|_| has("VpcConfig")),
        dead_letter_target_arn: desired
            .dead_letter_target_arn
            .clone()
            .filter(|_| has("DeadLetterConfig")),
        kms_key_arn: desired.kms_key_arn.clone().filter(|_| has("KMSKeyArn")),
        file_system_configs: desired
            .file_system_configs
            .clone()
            .filter(|_| has("FileSystemConfigs")),
        image_config: desired.image_config.clone().filter(|_| has("ImageConfig")),
        snap_start: desired.snap_start.clone().filter(|_| has("SnapStart")),
        architectures: None,
    };
    if has("Architectures") {
        plan.architectures = desired.architectures.as_ref().map(|list| {
            list.iter()
                .map(|a| Architecture::from(a.as_str()))
                .collect()
        });
    }
    if let Some(vars) = &desired.environment {
        let current: BTreeMap<String, String> = live
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut next = match mode {
            EnvironmentMode::Merge => current.clone(),
            EnvironmentMode::Replace => BTreeMap::new(),
        };
        for (name, value) in vars {
            match value {
                Some(value) => {
                    next.insert(name.clone(), value.clone());
                }
                None => {
                    next.remove(name);
                }
            }
        }
        let names: std::collections::BTreeSet<&String> =
            current.keys().chain(next.keys()).collect();
        for name in names {
            let change = match (current.get(name), next.get(name)) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(a), Some(b)) if a != b => "changed",
                _ => continue,
            };
            plan.changes.push(ConfigChange {
                field: "Environment.Variables".to_owned(),
                change: format!("{name} {change}"),
            });
        }
        if next != current {
            plan.environment = Some(next.into_iter().collect());
        }
    }
    plan
}

/// CreateFunction's configuration, from `desired` (Role, and Runtime and Handler for a zip,
/// were checked before anything ran).
pub fn create_request(
    builder: CreateFunctionFluentBuilder,
    desired: &FunctionConfig,
) -> CreateFunctionFluentBuilder {
    let d = desired;
    let variables: Option<HashMap<String, String>> = d.environment.as_ref().map(|vars| {
        vars.iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect()
    });
    builder
        .set_memory_size(d.memory_size)
        .set_timeout(d.timeout)
        .set_handler(d.handler.clone())
        .set_runtime(d.runtime.as_deref().map(Runtime::from))
        .set_description(d.description.clone())
        .set_role(d.role.clone())
        .set_kms_key_arn(d.kms_key_arn.clone())
        .set_layers(d.layers.clone())
        .set_ephemeral_storage(d.ephemeral_storage.and_then(ephemeral))
        .set_tracing_config(d.tracing_mode.as_deref().map(tracing))
        .set_dead_letter_config(d.dead_letter_target_arn.as_deref().map(dead_letter))
        .set_file_system_configs(d.file_system_configs.as_deref().map(file_systems))
        .set_image_config(d.image_config.as_ref().map(image))
        .set_snap_start(d.snap_start.as_deref().map(snap_start))
        .set_vpc_config(d.vpc_config.as_ref().map(vpc))
        .set_logging_config(d.logging_config.as_ref().map(|f| logging(f, None)))
        .set_environment(variables.map(|v| Environment::builder().set_variables(Some(v)).build()))
        .set_architectures(d.architectures.as_ref().map(|list| {
            list.iter()
                .map(|a| Architecture::from(a.as_str()))
                .collect()
        }))
}

/// A Lambda error about the configuration, with the field it is about named first when the
/// message says (`function-config `Role`: ...`).
pub fn name_the_field(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let field = [
        ("role", "Role"),
        ("layer", "Layers"),
        ("subnet", "VpcConfig"),
        ("security group", "VpcConfig"),
        ("vpc", "VpcConfig"),
        ("kms", "KMSKeyArn"),
        ("dead letter", "DeadLetterConfig"),
        ("deadletter", "DeadLetterConfig"),
        ("file system", "FileSystemConfigs"),
        ("filesystem", "FileSystemConfigs"),
        ("memory", "MemorySize"),
        ("timeout", "Timeout"),
        ("handler", "Handler"),
        ("runtime", "Runtime"),
        ("environment", "Environment"),
        ("ephemeral", "EphemeralStorage"),
        ("snapstart", "SnapStart"),
        ("log group", "LoggingConfig"),
        ("logging", "LoggingConfig"),
        ("image config", "ImageConfig"),
        ("tracing", "TracingConfig"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, field)| *field);
    match field {
        Some(field) => format!("function-config `{field}`: {message}"),
        None => format!("function-config: {message}"),
    }
}

fn shown(value: &str) -> &str {
    if value.is_empty() { "(none)" } else { value }
}

fn live_fields(live: &FunctionConfiguration) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let mut put = |field: &'static str, value: Option<String>| {
        out.insert(field, value.unwrap_or_default());
    };
    put("MemorySize", live.memory_size().map(|m| m.to_string()));
    put("Timeout", live.timeout().map(|t| t.to_string()));
    put("Handler", live.handler().map(str::to_owned));
    put("Runtime", live.runtime().map(|r| r.as_str().to_owned()));
    put("Description", live.description().map(str::to_owned));
    put("Role", live.role().map(str::to_owned));
    put("KMSKeyArn", live.kms_key_arn().map(str::to_owned));
    put(
        "Layers",
        Some(join(live.layers().iter().filter_map(|l| l.arn()))),
    );
    put(
        "EphemeralStorage.Size",
        live.ephemeral_storage().map(|e| e.size().to_string()),
    );
    put(
        "TracingConfig.Mode",
        live.tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str().to_owned()),
    );
    let logging = live.logging_config();
    put(
        "LoggingConfig.LogFormat",
        logging
            .and_then(|l| l.log_format())
            .map(|v| v.as_str().to_owned()),
    );
    put(
        "LoggingConfig.ApplicationLogLevel",
        logging
            .and_then(|l| l.application_log_level())
            .map(|v| v.as_str().to_owned()),
    );
    put(
        "LoggingConfig.SystemLogLevel",
        logging
            .and_then(|l| l.system_log_level())
            .map(|v| v.as_str().to_owned()),
    );
    put(
        "LoggingConfig.LogGroup",
        logging.and_then(|l| l.log_group()).map(str::to_owned),
    );
    let vpc_config = live.vpc_config();
    put(
        "VpcConfig.SubnetIds",
        vpc_config.map(|v| join(sorted(v.subnet_ids()).iter().map(String::as_str))),
    );
    put(
        "VpcConfig.SecurityGroupIds",
        vpc_config.map(|v| join(sorted(v.security_group_ids()).iter().map(String::as_str))),
    );
    put(
        "VpcConfig.Ipv6AllowedForDualStack",
        vpc_config
            .and_then(|v| v.ipv6_allowed_for_dual_stack())
            .map(|b| b.to_string()),
    );
    put(
        "DeadLetterConfig.TargetArn",
        live.dead_letter_config()
            .and_then(|d| d.target_arn())
            .map(str::to_owned),
    );
    put(
        "FileSystemConfigs",
        Some(join(
            live.file_system_configs()
                .iter()
                .map(|f| format!("{}={}", f.arn(), f.local_mount_path()))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        )),
    );
    let image_config = live.image_config_response().and_then(|r| r.image_config());
    put(
        "ImageConfig.EntryPoint",
        image_config.map(|i| join(i.entry_point().iter().map(String::as_str))),
    );
    put(
        "ImageConfig.Command",
        image_config.map(|i| join(i.command().iter().map(String::as_str))),
    );
    put(
        "ImageConfig.WorkingDirectory",
        image_config
            .and_then(|i| i.working_directory())
            .map(str::to_owned),
    );
    put(
        "SnapStart.ApplyOn",
        live.snap_start()
            .and_then(|s| s.apply_on())
            .map(|a| a.as_str().to_owned())
            .filter(|a| a != "None"),
    );
    put(
        "Architectures",
        Some(join(live.architectures().iter().map(|a| a.as_str()))),
    );
    out
}

fn desired_fields(d: &FunctionConfig) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let mut put = |field: &'static str, value: Option<String>| {
        if let Some(value) = value {
            out.insert(field, value);
        }
    };
    put("MemorySize", d.memory_size.map(|m| m.to_string()));
    put("Timeout", d.timeout.map(|t| t.to_string()));
    put("Handler", d.handler.clone());
    put("Runtime", d.runtime.clone());
    put("Description", d.description.clone());
    put("Role", d.role.clone());
    put("KMSKeyArn", d.kms_key_arn.clone());
    put(
        "Layers",
        d.layers
            .as_ref()
            .map(|l| join(l.iter().map(String::as_str))),
    );
    put(
        "EphemeralStorage.Size",
        d.ephemeral_storage.map(|s| s.to_string()),
    );
    put("TracingConfig.Mode", d.tracing_mode.clone());
    if let Some(fields) = &d.logging_config {
        for (key, value) in fields {
            let field = match key.as_str() {
                "LogFormat" => "LoggingConfig.LogFormat",
                "ApplicationLogLevel" => "LoggingConfig.ApplicationLogLevel",
                "SystemLogLevel" => "LoggingConfig.SystemLogLevel",
                _ => "LoggingConfig.LogGroup",
            };
            put(field, Some(value.clone()));
        }
    }
    if let Some(v) = &d.vpc_config {
        put(
            "VpcConfig.SubnetIds",
            Some(join(sorted(&v.subnet_ids).iter().map(String::as_str))),
        );
        put(
            "VpcConfig.SecurityGroupIds",
            Some(join(
                sorted(&v.security_group_ids).iter().map(String::as_str),
            )),
        );
        put(
            "VpcConfig.Ipv6AllowedForDualStack",
            v.ipv6_allowed_for_dual_stack.map(|b| b.to_string()),
        );
    }
    put(
        "DeadLetterConfig.TargetArn",
        d.dead_letter_target_arn.clone(),
    );
    put(
        "FileSystemConfigs",
        d.file_system_configs.as_ref().map(|f| {
            join(
                f.iter()
                    .map(|(a, p)| format!("{a}={p}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            )
        }),
    );
    if let Some(i) = &d.image_config {
        put(
            "ImageConfig.EntryPoint",
            i.entry_point
                .as_ref()
                .map(|l| join(l.iter().map(String::as_str))),
        );
        put(
            "ImageConfig.Command",
            i.command
                .as_ref()
                .map(|l| join(l.iter().map(String::as_str))),
        );
        put("ImageConfig.WorkingDirectory", i.working_directory.clone());
    }
    put(
        "SnapStart.ApplyOn",
        d.snap_start
            .clone()
            .map(|s| if s == "None" { String::new() } else { s }),
    );
    put(
        "Architectures",
        d.architectures
            .as_ref()
            .map(|l| join(l.iter().map(String::as_str))),
    );
    out
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items
}

fn ephemeral(size: i32) -> Option<EphemeralStorage> {
    EphemeralStorage::builder().size(size).build().ok()
}

fn tracing(mode: &str) -> TracingConfig {
    TracingConfig::builder()
        .mode(TracingMode::from(mode))
        .build()
}

fn dead_letter(arn: &str) -> DeadLetterConfig {
    DeadLetterConfig::builder().target_arn(arn).build()
}

fn file_systems(list: &[(String, String)]) -> Vec<FileSystemConfig> {
    list.iter()
        .filter_map(|(arn, path)| {
            FileSystemConfig::builder()
                .arn(arn)
                .local_mount_path(path)
                .build()
                .ok()
        })
        .collect()
}

fn image(config: &crate::settings::function_config::ImageConfig) -> ImageConfig {
    ImageConfig::builder()
        .set_entry_point(config.entry_point.clone())
        .set_command(config.command.clone())
        .set_working_directory(config.working_directory.clone())
        .build()
}

fn snap_start(apply_on: &str) -> SnapStart {
    SnapStart::builder()
        .apply_on(SnapStartApplyOn::from(apply_on))
        .build()
}

fn vpc(config: &crate::settings::function_config::VpcConfig) -> VpcConfig {
    VpcConfig::builder()
        .set_subnet_ids(Some(config.subnet_ids.clone()))
        .set_security_group_ids(Some(config.security_group_ids.clone()))
        .set_ipv6_allowed_for_dual_stack(config.ipv6_allowed_for_dual_stack)
        .build()
}

/// The live logging configuration with the given fields over it (the API takes it whole).
fn logging(fields: &BTreeMap<String, String>, live: Option<&LoggingConfig>) -> LoggingConfig {
    use aws_sdk_lambda::types::{ApplicationLogLevel, LogFormat, SystemLogLevel};
    let get = |key: &str| fields.get(key).map(String::as_str);
    LoggingConfig::builder()
        .set_log_format(
            get("LogFormat")
                .map(LogFormat::from)
                .or_else(|| live.and_then(|l| l.log_format()).cloned()),
        )
        .set_application_log_level(
            get("ApplicationLogLevel")
                .map(ApplicationLogLevel::from)
                .or_else(|| live.and_then(|l| l.application_log_level()).cloned()),
        )
        .set_system_log_level(
            get("SystemLogLevel")
                .map(SystemLogLevel::from)
                .or_else(|| live.and_then(|l| l.system_log_level()).cloned()),
        )
        .set_log_group(
            get("LogGroup")
                .map(str::to_owned)
                .or_else(|| live.and_then(|l| l.log_group()).map(str::to_owned)),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::function_config::load;

    fn live() -> FunctionConfiguration {
        FunctionConfiguration::builder()
            .memory_size(128)
            .timeout(3)
            .handler("lambda_function.lambda_handler")
            .runtime(Runtime::Python312)
            .environment(
                aws_sdk_lambda::types::EnvironmentResponse::builder()
                    .variables("A", "1")
                    .variables("B", "2")
                    .build(),
            )
            .architectures(Architecture::X8664)
            .build()
    }

    fn desired(text: &str) -> FunctionConfig {
        load("function-config", text, std::path::Path::new("/"))
            .unwrap()
            .config
    }

    #[test]
    fn nothing_given_that_differs_is_no_change() {
        let plan = plan(
            &desired("MemorySize: 128\nHandler: lambda_function.lambda_handler\n"),
            EnvironmentMode::Merge,
            &live(),
        );
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        assert!(!plan.updates_configuration());
    }

    #[test]
    fn fields_change_and_variables_are_named_never_shown() {
        let plan = plan(
            &desired(
                "MemorySize: 512\nEnvironment:\n  Variables:\n    A: s3cr3t\n    B: null\n    C: x\n",
            ),
            EnvironmentMode::Merge,
            &live(),
        );
        let text: Vec<String> = plan
            .changes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.change))
            .collect();
        assert_eq!(
            text,
            [
                "MemorySize: 128 → 512",
                "Environment.Variables: A changed",
                "Environment.Variables: B removed",
                "Environment.Variables: C added"
            ]
        );
        assert!(!format!("{:?}", plan.changes).contains("s3cr3t"));
        let vars = plan.environment.unwrap();
        assert_eq!(vars.len(), 2);
        assert_eq!(vars["A"], "s3cr3t");
    }

    #[test]
    fn replace_drops_what_is_not_given() {
        let plan = plan(
            &desired("Environment: {Variables: {A: '1'}}\n"),
            EnvironmentMode::Replace,
            &live(),
        );
        assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
        assert_eq!(plan.changes[0].change, "B removed");
    }

    #[test]
    fn architectures_go_with_the_code() {
        let plan = plan(
            &desired("Architectures: [arm64]\n"),
            EnvironmentMode::Merge,
            &live(),
        );
        assert!(!plan.updates_configuration());
        assert_eq!(plan.architectures, Some(vec![Architecture::Arm64]));
    }

    #[test]
    fn lambda_errors_name_the_field() {
        assert_eq!(
            name_the_field(
                "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
            ),
            "function-config `Role`: InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
        );
        assert!(
            name_the_field("AccessDeniedException: cannot read layer arn:x").contains("`Layers`")
        );
    }
}
