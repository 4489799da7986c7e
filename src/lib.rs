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

pub mod aws;
pub mod base;
pub mod build;
pub mod buildspec;
pub mod cancel;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod env;
pub mod events;
pub mod github;
pub mod import;
pub mod notify;
pub mod package;
pub mod redact;
pub mod report;
pub mod settings;
pub mod workspace_owner;

pub use base::ExitStatus;
