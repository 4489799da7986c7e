//! YAML node tree → typed `Buildspec`. Type errors become `BuildspecError`s with a position;
//! unknown keys become warnings with a position, as CodeBuild's agent reports them.

use super::error::BuildspecError;
use super::model::*;
use crate::base::Phase;
use crate::base::diagnostic::Span;
use crate::base::suggest::nearest;
use crate::base::yaml::{self, Kind, Node};

type Result<T> = std::result::Result<T, BuildspecError>;

const TOP_KEYS: &[&str] = &[
    "version",
    "run-as",
    "env",
    "phases",
    "artifacts",
    "reports",
    "cache",
    "batch",
    "proxy",
    "environment_variables",
];
const ENV_KEYS: &[&str] = &[
    "shell",
    "variables",
    "parameter-store",
    "secrets-manager",
    "exported-variables",
    "git-credential-helper",
];
const PHASE_KEYS: &[&str] = &["install", "pre_build", "build", "post_build"];
const PHASE_FIELDS: &[&str] = &[
    "run-as",
    "on-failure",
    "runtime-versions",
    "commands",
    "finally",
];
const ARTIFACT_KEYS: &[&str] = &[
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
    "secondary-artifacts",
    "type",
];
const REPORT_KEYS: &[&str] = &["files", "base-directory", "discard-paths", "file-format"];
const CACHE_KEYS: &[&str] = &["paths", "key", "fallback-keys", "action"];
const REPORT_FORMATS: &[&str] = &[
    "JUNITXML",
    "CUCUMBERJSON",
    "NUNITXML",
    "NUNIT3XML",
    "TESTNGXML",
    "VISUALSTUDIOTRX",
    "CLOVERXML",
    "COBERTURAXML",
    "JACOCOXML",
    "SIMPLECOV",
];

/// Parses buildspec `source`; `file` names it in messages.
pub fn parse(file: &str, source: &str) -> Result<Buildspec> {
    let reader = Reader { file, source };
    let root = yaml::parse(source).map_err(|err| reader.syntax_error(err))?;
    reader.buildspec(&root)
}

struct Reader<'a> {
    file: &'a str,
    source: &'a str,
}

/// Where the parse collects warnings.
#[derive(Default)]
struct Found {
    warnings: Vec<ParseWarning>,
    not_applicable: Vec<At<String>>,
}

impl Reader<'_> {
    fn error(&self, span: Span, message: impl Into<String>) -> BuildspecError {
        BuildspecError::at(self.file, self.source, span, message)
    }

    fn syntax_error(&self, mut err: yaml::SyntaxError) -> BuildspecError {
        if let Some(end) = self.end_of_text(err.span) {
            // An error at the end of the file (an unclosed quote or bracket) is drawn at the
            // end of the last line, so that there is a line to show.
            err.span = end;
        }
        let line = crate::base::diagnostic::yaml_lines(self.source)
            .nth(err.span.line.saturating_sub(1))
            .unwrap_or("");
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        let span = match indent.find('\t') {
            // Point at the tab itself, not at what follows it.
            Some(tab) => Span::new(err.span.line, tab + 1, 1),
            None => err.span,
        };
        let mut error = self.error(span, format!("YAML syntax error: {}", err.message));
        if line.trim_start_matches(' ').starts_with('\t') || line.contains('\t') {
            error = error.with_hint("YAML does not allow tabs for indentation; indent with spaces");
        } else if line.trim_start().trim_start_matches("- ").starts_with('*')
            || err.message.contains("unknown anchor")
        {
            error = error.with_hint(
                "a value starting with `*` reads as a YAML alias; quote it, e.g. '**/*'",
            );
        }
        error
    }

    /// The end of the last non-blank line, when `span` lies past it.
    fn end_of_text(&self, span: Span) -> Option<Span> {
        let (index, last) = crate::base::diagnostic::yaml_lines(self.source)
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .last()?;
        (span.line > index + 1).then(|| Span::new(index + 1, last.chars().count() + 1, 1))
    }

    fn buildspec(&self, root: &Node) -> Result<Buildspec> {
        let entries = match &root.kind {
            Kind::Map(entries) => entries,
            Kind::Null => {
                return Err(self.error(
                    root.span,
                    "the buildspec is empty; it needs `version` and `phases`",
                ));
            }
            _ => {
                return Err(self.error(
                    root.span,
                    format!(
                        "the buildspec must be a mapping, found {}",
                        root.kind_name()
                    ),
                ));
            }
        };
        let mut found = Found::default();
        self.check_keys(entries, TOP_KEYS, "the top level", &mut found)?;
        let version = self.version(root, entries)?;
        let mut env = EnvSection::default();
        let mut phases = Vec::new();
        let mut artifacts = None;
        let mut reports = Vec::new();
        let mut run_as = None;
        let mut has_phases = false;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "run-as" => run_as = self.optional_string(value, "run-as")?,
                "env" => env = self.env(value, version, &mut found)?,
                "environment_variables" if version == Version::V01 => {
                    env.variables = self.legacy_variables(value, &mut found)?;
                }
                "environment_variables" => found.warnings.push(ParseWarning {
                    message: "`environment_variables` is the version 0.1 spelling and is ignored under 0.2; use `env.variables`"
                        .to_owned(),
                    span: key.span,
                }),
                "phases" => {
                    has_phases = true;
                    phases = self.phases(value, &mut found)?;
                }
                "artifacts" => artifacts = Some(self.artifacts(value, &mut found)?),
                "reports" => reports = self.reports(value, &mut found)?,
                "cache" => {
                    self.cache(value, &mut found)?;
                    found.not_applicable.push(At::new("cache".to_owned(), key.span));
                }
                "batch" | "proxy" => {
                    self.map(value, key.as_str().unwrap_or_default())?;
                    found.not_applicable.push(At::new(key.as_str().unwrap_or_default().to_owned(), key.span));
                }
                _ => {}
            }
        }
        if !has_phases {
            return Err(self
                .error(root.span, "the buildspec has no `phases` section")
                .with_hint(
                    "add `phases:` with at least one of install, pre_build, build, post_build",
                ));
        }
        if version == Version::V01 {
            self.warn_newer_keys(&phases, &env, &mut found);
        }
        Ok(Buildspec {
            file: self.file.to_owned(),
            source: self.source.to_owned(),
            version,
            run_as,
            env,
            phases,
            artifacts,
            reports,
            not_applicable: found.not_applicable,
            warnings: found.warnings,
        })
    }

    fn version(&self, root: &Node, entries: &[(Node, Node)]) -> Result<Version> {
        let Some((_, value)) = entries
            .iter()
            .find(|(key, _)| key.as_str() == Some("version"))
        else {
            return Err(self
                .error(root.span, "the buildspec has no `version`")
                .with_hint("add `version: 0.2` at the top"));
        };
        match value.as_str() {
            Some("0.2") => Ok(Version::V02),
            Some("0.1") => Ok(Version::V01),
            Some(other) => Err(self
                .error(
                    value.span,
                    format!("`version` is `{other}`; supported versions are 0.1 and 0.2"),
                )
                .with_hint("use `version: 0.2`")),
            None => Err(self.error(
                value.span,
                format!("`version` must be 0.1 or 0.2, found {}", value.kind_name()),
            )),
        }
    }

    fn check_keys(
        &self,
        entries: &[(Node, Node)],
        known: &[&str],
        section: &str,
        found: &mut Found,
    ) -> Result<()> {
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in entries {
            let Some(name) = key.as_str() else {
                return Err(self.error(
                    key.span,
                    format!(
                        "keys in {section} must be strings, found {}",
                        key.kind_name()
                    ),
                ));
            };
            if seen.contains(&name) {
                return Err(self
                    .error(key.span, format!("`{name}` appears twice in {section}"))
                    .with_hint("YAML keeps only one of them; remove or merge the duplicate"));
            }
            seen.push(name);
            if !known.contains(&name) {
                let mut message = format!(
                    "Found possible syntax errors in buildspec: In the section {section} The following keys cannot be identified: {name}"
                );
                if let Some(near) = nearest(name, known) {
                    message.push_str(&format!(" (did you mean `{near}`?)"));
                }
                found.warnings.push(ParseWarning {
                    message,
                    span: key.span,
                });
            }
        }
        Ok(())
    }

    fn map<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Node, Node)]> {
        match &node.kind {
            Kind::Map(entries) => Ok(entries),
            Kind::Null => Ok(&[]),
            _ => Err(self.error(
                node.span,
                format!("`{what}` must be a mapping, found {}", node.kind_name()),
            )),
        }
    }

    fn string(&self, node: &Node, what: &str) -> Result<String> {
        match &node.kind {
            Kind::Scalar { text, .. } => Ok(text.clone()),
            Kind::Null => Ok(String::new()),
            _ => Err(self.error(
                node.span,
                format!("`{what}` must be a string, found {}", node.kind_name()),
            )),
        }
    }

    fn optional_string(&self, node: &Node, what: &str) -> Result<Option<At<String>>> {
        let text = self.string(node, what)?;
        Ok((!text.is_empty()).then(|| At::new(text, node.span)))
    }

    fn bool_ish(&self, node: &Node, what: &str) -> Result<bool> {
        let text = self.string(node, what)?;
        match text.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(true),
            "no" | "false" | "off" | "" => Ok(false),
            _ => Err(self.error(
                node.span,
                format!("`{what}` is `{text}`; expected yes or no"),
            )),
        }
    }

    /// A list of strings; `single` also accepts one string in place of the list.
    fn string_list(&self, node: &Node, what: &str, single: bool) -> Result<Vec<At<String>>> {
        match &node.kind {
            Kind::Null => Ok(Vec::new()),
            Kind::Scalar { text, .. } if single => Ok(vec![At::new(text.clone(), node.span)]),
            Kind::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match &item.kind {
                    Kind::Scalar { text, .. } => Ok(At::new(text.clone(), item.span)),
                    _ => Err(self.error(
                        item.span,
                        format!(
                            "`{what}[{index}]` must be a string, found {}",
                            item.kind_name()
                        ),
                    )),
                })
                .collect(),
            _ => Err(self.error(
                node.span,
                format!(
                    "`{what}` must be a list of strings, found {}",
                    node.kind_name()
                ),
            )),
        }
    }

    fn env(&self, node: &Node, version: Version, found: &mut Found) -> Result<EnvSection> {
        let entries = self.map(node, "env")?;
        self.check_keys(entries, ENV_KEYS, "env", found)?;
        let mut env = EnvSection::default();
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "shell" => env.shell = Some(self.shell(value)?),
                "variables" => env.variables = self.variables(value, "env.variables", found)?,
                "parameter-store" => {
                    env.parameter_store = self
                        .string_map(value, "env.parameter-store")?
                        .into_iter()
                        .map(|(name, param)| {
                            self.non_empty(param, "a parameter name")
                                .map(|param| (name, param))
                        })
                        .collect::<Result<_>>()?;
                }
                "secrets-manager" => {
                    env.secrets_manager = self
                        .string_map(value, "env.secrets-manager")?
                        .into_iter()
                        .map(|(name, reference)| self.secret_ref(reference).map(|r| (name, r)))
                        .collect::<Result<_>>()?;
                }
                "exported-variables" => env.exported_variables = self.exported(value, found)?,
                "git-credential-helper" => {
                    env.git_credential_helper = self.bool_ish(value, "env.git-credential-helper")?
                }
                _ => {}
            }
        }
        let _ = version;
        Ok(env)
    }

    fn non_empty(&self, value: At<String>, what: &str) -> Result<At<String>> {
        if value.value.trim().is_empty() {
            return Err(self.error(value.span, format!("{what} is empty")));
        }
        Ok(value)
    }

    fn shell(&self, node: &Node) -> Result<At<Shell>> {
        let text = self.string(node, "env.shell")?;
        let shell = match text.as_str() {
            "sh" => Shell::Sh,
            "bash" => Shell::Bash,
            "/bin/sh" | "/bin/bash" | "/usr/bin/bash" | "/usr/bin/sh" => Shell::Path(text.clone()),
            "powershell.exe" | "pwsh" | "cmd.exe" => {
                return Err(self
                    .error(node.span, format!("`env.shell` is `{text}`, a Windows shell; this runner runs Linux shells"))
                    .with_hint("use sh or bash"));
            }
            _ => {
                return Err(self.error(
                    node.span,
                    format!("`env.shell` is `{text}`; expected sh, bash, /bin/sh or /bin/bash"),
                ));
            }
        };
        Ok(At::new(shell, node.span))
    }

    fn string_map(&self, node: &Node, what: &str) -> Result<Vec<(At<String>, At<String>)>> {
        self.map(node, what)?
            .iter()
            .map(|(key, value)| {
                let name = self.string(key, what)?;
                let text = self.string(value, &format!("{what}.{name}"))?;
                Ok((At::new(name, key.span), At::new(text, value.span)))
            })
            .collect()
    }

    fn variables(
        &self,
        node: &Node,
        what: &str,
        found: &mut Found,
    ) -> Result<Vec<(At<String>, String)>> {
        let mut variables = Vec::new();
        for (name, value) in self.string_map(node, what)? {
            if !is_variable_name(&name.value) {
                return Err(self
                    .error(
                        name.span,
                        format!("`{}` is not a valid variable name", name.value),
                    )
                    .with_hint("use letters, digits and underscores, not starting with a digit"));
            }
            if name.value.starts_with("CODEBUILD_") {
                found.warnings.push(ParseWarning {
                    message: format!("`{}`: names starting with CODEBUILD_ are reserved; the variable is ignored", name.value),
                    span: name.span,
                });
                continue;
            }
            variables.push((name, value.value));
        }
        Ok(variables)
    }

    fn legacy_variables(
        &self,
        node: &Node,
        found: &mut Found,
    ) -> Result<Vec<(At<String>, String)>> {
        let entries = self.map(node, "environment_variables")?;
        self.check_keys(entries, &["plaintext"], "environment_variables", found)?;
        match entries
            .iter()
            .find(|(key, _)| key.as_str() == Some("plaintext"))
        {
            Some((_, value)) => self.variables(value, "environment_variables.plaintext", found),
            None => Ok(Vec::new()),
        }
    }

    fn secret_ref(&self, reference: At<String>) -> Result<At<SecretRef>> {
        parse_secret_ref(&reference.value)
            .map(|parsed| At::new(parsed, reference.span))
            .map_err(|message| {
                self.error(reference.span, format!("secret reference `{}`: {message}", reference.value))
                    .with_hint("write secret-id[:json-key[:version-stage[:version-id]]], e.g. prod/db:password or prod/db::AWSPREVIOUS")
            })
    }

    fn exported(&self, node: &Node, found: &mut Found) -> Result<Vec<At<String>>> {
        let mut names = Vec::new();
        for name in self.string_list(node, "env.exported-variables", false)? {
            if !is_variable_name(&name.value) {
                return Err(self.error(
                    name.span,
                    format!("`{}` is not a valid variable name", name.value),
                ));
            }
            if name.value.starts_with("AWS_") {
                found.warnings.push(ParseWarning {
                    message: format!(
                        "`{}`: variables starting with AWS_ cannot be exported; it is skipped",
                        name.value
                    ),
                    span: name.span,
                });
                continue;
            }
            names.push(name);
        }
        Ok(names)
    }

    fn phases(&self, node: &Node, found: &mut Found) -> Result<Vec<PhaseSpec>> {
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            _ => {
                return Err(self.error(
                    node.span,
                    format!("`phases` must be a mapping, found {}", node.kind_name()),
                ));
            }
        };
        for (key, _) in entries {
            let name = self.string(key, "phases")?;
            if !PHASE_KEYS.contains(&name.as_str()) {
                let mut error = self.error(
                    key.span,
                    format!("unknown phase `{name}`; phases are install, pre_build, build and post_build"),
                );
                if let Some(near) = nearest(&name, PHASE_KEYS) {
                    error = error.with_hint(format!("did you mean `{near}`?"));
                }
                return Err(error);
            }
        }
        self.check_keys(entries, PHASE_KEYS, "phases", found)?;
        let mut phases = Vec::new();
        for phase in Phase::COMMAND_PHASES {
            if let Some((key, value)) = entries
                .iter()
                .find(|(key, _)| key.as_str() == Some(phase.key()))
            {
                phases.push(self.phase(phase, key.span, value, found)?);
            }
        }
        Ok(phases)
    }

    fn phase(&self, phase: Phase, span: Span, node: &Node, found: &mut Found) -> Result<PhaseSpec> {
        let entries = self.map(node, phase.key())?;
        self.check_keys(entries, PHASE_FIELDS, phase.name(), found)?;
        let mut spec = PhaseSpec {
            phase,
            span,
            run_as: None,
            on_failure: None,
            runtime_versions: Vec::new(),
            commands: Vec::new(),
            finally: Vec::new(),
        };
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "run-as" => spec.run_as = self.optional_string(value, "run-as")?,
                "on-failure" => spec.on_failure = Some(self.on_failure(value)?),
                "runtime-versions" if phase == Phase::Install => {
                    spec.runtime_versions = self.string_map(value, "runtime-versions")?;
                }
                "runtime-versions" => found.warnings.push(ParseWarning {
                    message: format!(
                        "Found possible syntax errors in buildspec: In the section {} The following keys cannot be identified: runtime-versions (runtime-versions is only read under install)",
                        phase.name()
                    ),
                    span: key.span,
                }),
                "commands" => spec.commands = self.commands(value, "commands")?,
                "finally" => spec.finally = self.commands(value, "finally")?,
                _ => {}
            }
        }
        Ok(spec)
    }

    fn commands(&self, node: &Node, what: &str) -> Result<Vec<Command>> {
        let items = match &node.kind {
            Kind::Seq(items) => items,
            Kind::Null => return Ok(Vec::new()),
            Kind::Scalar { .. } => {
                return Err(self
                    .error(
                        node.span,
                        format!("`{what}` must be a list of commands, found a single string"),
                    )
                    .with_hint(format!(
                        "write each command as a list item: `{what}:` then `  - your command`"
                    )));
            }
            Kind::Map(_) => {
                return Err(self.error(
                    node.span,
                    format!("`{what}` must be a list of commands, found a mapping"),
                ));
            }
        };
        let label = if what == "commands" {
            "Commands"
        } else {
            "Finally"
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match &item.kind {
                Kind::Scalar { text, .. } => Ok(Command { text: text.clone(), line: item.span.line, column: item.span.column }),
                Kind::Map(_) => Err(self
                    .error(
                        item.span,
                        format!("Expected {label}[{index}] to be of string type: found subkeys instead at line {}", item.span.line),
                    )
                    .with_hint("a command containing `: ` reads as a YAML mapping; quote the whole command, e.g. - \"echo a: b\"")),
                Kind::Seq(_) => Err(self
                    .error(item.span, format!("Expected {label}[{index}] to be of string type: found a list instead"))
                    .with_hint("a command starting with `[` reads as a YAML list; quote the whole command")),
                Kind::Null => Err(self.error(item.span, format!("{label}[{index}] is empty"))),
            })
            .collect()
    }

    fn on_failure(&self, node: &Node) -> Result<At<OnFailure>> {
        let text = self.string(node, "on-failure")?;
        parse_on_failure(&text).map(|value| At::new(value, node.span)).map_err(|message| {
            self.error(node.span, format!("`on-failure` is `{text}`: {message}"))
                .with_hint("use ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or RETRY-<count>-<regex>")
        })
    }

    fn artifacts(&self, node: &Node, found: &mut Found) -> Result<Artifacts> {
        let entries = self.map(node, "artifacts")?;
        let primary = self.artifact_spec(entries, "artifacts", true, found)?;
        let mut secondary = Vec::new();
        if let Some((_, value)) = entries
            .iter()
            .find(|(key, _)| key.as_str() == Some("secondary-artifacts"))
        {
            for (key, value) in self.map(value, "secondary-artifacts")? {
                let id = self.string(key, "secondary-artifacts")?;
                let what = format!("secondary-artifacts.{id}");
                let spec = self.artifact_spec(self.map(value, &what)?, &what, false, found)?;
                let spec =
                    spec.ok_or_else(|| self.error(key.span, format!("`{what}` has no `files`")))?;
                secondary.push((At::new(id, key.span), spec));
            }
        }
        Ok(Artifacts {
            primary,
            secondary,
            span: node.span,
        })
    }

    fn artifact_spec(
        &self,
        entries: &[(Node, Node)],
        what: &str,
        primary: bool,
        found: &mut Found,
    ) -> Result<Option<ArtifactSpec>> {
        let known: Vec<&str> = ARTIFACT_KEYS
            .iter()
            .copied()
            .filter(|k| primary || *k != "secondary-artifacts")
            .collect();
        self.check_keys(entries, &known, what, found)?;
        let mut spec = ArtifactSpec::default();
        let mut has_files = false;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "files" => {
                    has_files = true;
                    spec.files = self.string_list(value, &format!("{what}.files"), true)?;
                }
                "name" => spec.name = self.optional_string(value, "name")?,
                "discard-paths" => spec.discard_paths = self.bool_ish(value, "discard-paths")?,
                "base-directory" => {
                    spec.base_directory = self.optional_string(value, "base-directory")?
                }
                "exclude-paths" => {
                    spec.exclude_paths = self.string_list(value, "exclude-paths", true)?
                }
                "enable-symlinks" => {
                    spec.enable_symlinks = self.bool_ish(value, "enable-symlinks")?
                }
                "s3-prefix" => {
                    spec.s3_prefix = self.optional_string(value, "s3-prefix")?.map(|s| s.value)
                }
                _ => {}
            }
        }
        Ok(has_files.then_some(spec))
    }

    fn reports(&self, node: &Node, found: &mut Found) -> Result<Vec<ReportGroup>> {
        let mut groups = Vec::new();
        for (key, value) in self.map(node, "reports")? {
            let name = self.string(key, "reports")?;
            let what = format!("reports.{name}");
            let entries = self.map(value, &what)?;
            self.check_keys(entries, REPORT_KEYS, &what, found)?;
            let mut group = ReportGroup {
                name: At::new(name, key.span),
                files: Vec::new(),
                base_directory: None,
                discard_paths: false,
                file_format: At::new("JUNITXML".to_owned(), key.span),
            };
            for (field, value) in entries {
                match field.as_str().unwrap_or_default() {
                    "files" => {
                        group.files = self.string_list(value, &format!("{what}.files"), true)?
                    }
                    "base-directory" => {
                        group.base_directory = self.optional_string(value, "base-directory")?
                    }
                    "discard-paths" => {
                        group.discard_paths = self.bool_ish(value, "discard-paths")?
                    }
                    "file-format" => {
                        let format = self.string(value, "file-format")?.to_ascii_uppercase();
                        if !REPORT_FORMATS.contains(&format.as_str()) {
                            return Err(self.error(
                                value.span,
                                format!(
                                    "`file-format` is `{format}`; expected one of {}",
                                    REPORT_FORMATS.join(", ")
                                ),
                            ));
                        }
                        group.file_format = At::new(format, value.span);
                    }
                    _ => {}
                }
            }
            if group.files.is_empty() {
                return Err(self.error(key.span, format!("`{what}` has no `files`")));
            }
            groups.push(group);
        }
        Ok(groups)
    }

    fn cache(&self, node: &Node, found: &mut Found) -> Result<()> {
        let entries = self.map(node, "cache")?;
        self.check_keys(entries, CACHE_KEYS, "cache", found)?;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "paths" | "fallback-keys" => {
                    self.string_list(value, "cache.paths", true)?;
                }
                _ => {
                    self.string(value, "cache")?;
                }
            }
        }
        Ok(())
    }

    fn warn_newer_keys(&self, phases: &[PhaseSpec], env: &EnvSection, found: &mut Found) {
        let mut note = |what: &str, span: Span| {
            found.warnings.push(ParseWarning {
                message: format!("`{what}` is a version 0.2 feature; it is honoured, but set `version: 0.2` to be safe"),
                span,
            });
        };
        for phase in phases {
            if !phase.finally.is_empty() {
                note("finally", phase.span);
            }
            if let Some(on_failure) = &phase.on_failure {
                note("on-failure", on_failure.span);
            }
        }
        if let Some(shell) = &env.shell {
            note("env.shell", shell.span);
        }
    }
}

pub use crate::base::secret_ref::parse_secret_ref;

/// Parses an `on-failure` value (spec §6.3).
pub fn parse_on_failure(text: &str) -> std::result::Result<OnFailure, String> {
    let upper = text.to_ascii_uppercase();
    match upper.as_str() {
        "ABORT" => return Ok(OnFailure::Abort),
        "CONTINUE" => return Ok(OnFailure::Continue),
        "RETRY" => {
            return Ok(OnFailure::Retry {
                count: 3,
                pattern: None,
            });
        }
        _ => {}
    }
    if !upper.starts_with("RETRY-") {
        return Err("not a known value".to_owned());
    }
    let rest = &text["RETRY-".len()..];
    let (count, pattern) = if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
        (
            rest.parse::<u32>()
                .map_err(|_| "the retry count is too large")?,
            None,
        )
    } else {
        match rest.split_once('-') {
            Some((digits, regex))
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (
                    digits
                        .parse::<u32>()
                        .map_err(|_| "the retry count is too large")?,
                    Some(regex.to_owned()),
                )
            }
            _ => (3, Some(rest.to_owned())),
        }
    };
    if count > 100 {
        return Err(format!(
            "the retry count is {count}; at most 100 retries are allowed"
        ));
    }
    if let Some(regex) = &pattern {
        if regex.is_empty() {
            return Err("the retry pattern is empty".to_owned());
        }
        regex::Regex::new(regex)
            .map_err(|err| format!("the retry pattern is not a valid regular expression: {err}"))?;
    }
    Ok(OnFailure::Retry { count, pattern })
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_failure_forms() {
        assert_eq!(parse_on_failure("abort"), Ok(OnFailure::Abort));
        assert_eq!(
            parse_on_failure("RETRY"),
            Ok(OnFailure::Retry {
                count: 3,
                pattern: None
            })
        );
        assert_eq!(
            parse_on_failure("RETRY-2"),
            Ok(OnFailure::Retry {
                count: 2,
                pattern: None
            })
        );
        assert_eq!(
            parse_on_failure("Retry-3-.*connection timed out.*"),
            Ok(OnFailure::Retry {
                count: 3,
                pattern: Some(".*connection timed out.*".to_owned())
            })
        );
        assert_eq!(
            parse_on_failure("RETRY-invalid+"),
            Ok(OnFailure::Retry {
                count: 3,
                pattern: Some("invalid+".to_owned())
            })
        );
        assert!(parse_on_failure("RETRY-101").is_err());
        assert!(parse_on_failure("RETRY-(").is_err());
        assert!(parse_on_failure("MAYBE").is_err());
    }

    #[test]
    fn errors_show_the_right_line_with_carriage_return_line_ends() {
        for newline in ["\r", "\r\n", "\n"] {
            let text = [
                "version: 0.2",
                "phases:",
                "  build:",
                "    on-failure: MAYBE",
                "",
            ]
            .join(newline);
            let err = parse("buildspec.yml", &text).unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.contains("--> buildspec.yml:4:17"),
                "{newline:?}: {shown}"
            );
            assert!(
                shown.contains("4 |     on-failure: MAYBE\n"),
                "{newline:?}: {shown}"
            );
        }
    }

    #[test]
    fn secret_refs() {
        let r = parse_secret_ref("ci/token::AWSPREVIOUS").unwrap();
        assert_eq!(
            (r.secret_id.as_str(), r.json_key, r.version_stage.as_deref()),
            ("ci/token", None, Some("AWSPREVIOUS"))
        );
        let r = parse_secret_ref(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC:password",
        )
        .unwrap();
        assert_eq!(
            r.secret_id,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC"
        );
        assert_eq!(r.json_key.as_deref(), Some("password"));
        assert!(parse_secret_ref("x::AWSCURRENT:abc").is_err());
        assert!(parse_secret_ref(":key").is_err());
        assert!(parse_secret_ref("a:b:c:d:e").is_err());
    }
}
