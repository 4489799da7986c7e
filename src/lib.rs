//! lambda-pipeline: one process that does what CodeCommit → CodePipeline → CodeBuild → Lambda does.
//!
//! Data flow of one `run` (ARCHITECTURE.md draws it): `cli::Cli` (raw flags and action inputs)
//! → `settings::Settings` (typed, resolved once) → `commands::run` sequences the stages:
//! `buildspec::Buildspec` → `build::BuildOutcome` → `package` (the deployment zip) →
//! `deploy::DeployOutcome` → `base::report::RunReport` → the reporters (console, workflow
//! files, check run, SNS, report file), wired in `commands::Reporters`.
//!
//! Layers, top to bottom; imports only go down: `commands` → reporters (`github`, `notify`,
//! `report`) and stages (`deploy`, `changes`, `build` → `package` → `buildspec`, `import`) → `settings`, `aws` →
//! `events`, `cli`, `env`, `redact`, `cancel`, `workspace_owner` → `base`.
//! Stages never print: they return data and emit `events::Event`s. Every string that leaves
//! the process passes `redact::Redactor`.
//!
//! The modules that call AWS or GitHub (`aws`, the stages `build`, `deploy`, `import`, the
//! reporters `github`, `notify`, and `commands` above them) need the default feature `aws`;
//! the rest builds without the SDK, as the fuzz targets use it.

#[cfg(feature = "aws")]
pub mod aws;
pub mod base;
#[cfg(feature = "aws")]
pub mod build;
pub mod buildspec;
pub mod cancel;
pub mod changes;
pub mod cli;
#[cfg(feature = "aws")]
pub mod commands;
#[cfg(feature = "aws")]
pub mod deploy;
pub mod env;
pub mod events;
#[cfg(feature = "aws")]
pub mod github;
#[cfg(feature = "aws")]
pub mod import;
#[cfg(feature = "aws")]
pub mod notify;
pub mod package;
pub mod redact;
pub mod report;
pub mod settings;
pub mod workspace_owner;

pub use base::ExitStatus;
