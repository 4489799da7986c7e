//! The typed buildspec: every field of spec §3, scalars kept as written, positions kept where
//! a later stage may need to point at them.

use std::collections::BTreeMap;

use crate::base::Phase;
use crate::base::diagnostic::Span;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Span,
}

impl<T> At<T> {
    pub fn new(value: T, span: Span) -> At<T> {
        At { value, span }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `0.1`: every command runs in a fresh shell.
    V01,
    /// `0.2`: cwd and variables carry over.
    V02,
}

impl Version {
    /// As a buildspec writes it: `0.1` or `0.2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V01 => "0.1",
            Version::V02 => "0.2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    Sh,
    Bash,
    /// An explicit path such as `/bin/sh`.
    Path(String),
}

#[derive(Debug, Clone, Default)]
pub struct EnvSection {
    pub shell: Option<At<Shell>>,
    /// Ordered as written.
    pub variables: Vec<(At<String>, String)>,
    pub parameter_store: Vec<(At<String>, At<String>)>,
    pub secrets_manager: Vec<(At<String>, At<SecretRef>)>,
    pub exported_variables: Vec<At<String>>,
    pub git_credential_helper: bool,
}

/// `secret-id[:json-key[:version-stage[:version-id]]]` (spec §7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub secret_id: String,
    pub json_key: Option<String>,
    pub version_stage: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnFailure {
    Abort,
    Continue,
    /// `RETRY`, `RETRY-<count>`, `RETRY-<regex>`, `RETRY-<count>-<regex>`.
    Retry {
        count: u32,
        pattern: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command text, exactly as YAML delivers it.
    pub text: String,
    /// 1-based line of the command in the buildspec.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct PhaseSpec {
    pub phase: Phase,
    pub span: Span,
    pub run_as: Option<At<String>>,
    pub on_failure: Option<At<OnFailure>>,
    /// `install` only: runtime → version, as written.
    pub runtime_versions: Vec<(At<String>, At<String>)>,
    pub commands: Vec<Command>,
    pub finally: Vec<Command>,
}

#[derive(Debug, Clone, Default)]
pub struct ArtifactSpec {
    pub files: Vec<At<String>>,
    pub name: Option<At<String>>,
    pub base_directory: Option<At<String>>,
    pub discard_paths: bool,
    pub exclude_paths: Vec<At<String>>,
    pub enable_symlinks: bool,
    pub s3_prefix: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    /// `None` when the section has only `secondary-artifacts` (an error at upload time).
    pub primary: Option<ArtifactSpec>,
    pub secondary: Vec<(At<String>, ArtifactSpec)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ReportGroup {
    pub name: At<String>,
    pub files: Vec<At<String>>,
    pub base_directory: Option<At<String>>,
    pub discard_paths: bool,
    /// Upper-cased: JUNITXML, CUCUMBERJSON, ...
    pub file_format: At<String>,
}

/// A warning found while parsing; the build goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub message: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Buildspec {
    /// Shown in messages: the path as given, or `inline buildspec`.
    pub file: String,
    pub source: String,
    pub version: Version,
    pub run_as: Option<At<String>>,
    pub env: EnvSection,
    /// Declared phases, in CodeBuild order (not file order).
    pub phases: Vec<PhaseSpec>,
    pub artifacts: Option<Artifacts>,
    pub reports: Vec<ReportGroup>,
    /// Sections parsed but not applicable here (`batch`, `proxy`, `cache`).
    pub not_applicable: Vec<At<String>>,
    pub warnings: Vec<ParseWarning>,
}

impl Buildspec {
    pub fn phase(&self, phase: Phase) -> Option<&PhaseSpec> {
        self.phases.iter().find(|spec| spec.phase == phase)
    }

    pub fn variables(&self) -> BTreeMap<String, String> {
        self.env
            .variables
            .iter()
            .map(|(name, value)| (name.value.clone(), value.clone()))
            .collect()
    }
}
