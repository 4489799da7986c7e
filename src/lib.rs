//! lambda-pipeline: one process that does what CodeCommit → CodePipeline → CodeBuild → Lambda does.
//!
//! Data flow, one stage per module:
//! `cli::Cli` (raw flags and action inputs) → `settings::Settings` (typed, validated) →
//! `buildspec::Buildspec` (parsed, positions kept) → `build::BuildOutcome` (phases run in
//! CodeBuild order) → `package::Package` (reproducible zip) → `deploy::Deployment` (Lambda
//! versions and alias) → `report::RunReport` → renderers (console, workflow files, check run,
//! SNS).
//!
//! Stages never print: they return data and emit `events::Event`s. Reporters consume events.
//! Every string that leaves the process passes `redact::Redactor`.

pub mod aws;
pub mod build;
pub mod buildspec;
pub mod cancel;
pub mod cli;
pub mod deploy;
pub mod diagnostic;
pub mod env;
pub mod events;
pub mod exit_status;
pub mod github;
pub mod notify;
pub mod outputs;
pub mod package;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod settings;
pub mod workspace_owner;

pub use exit_status::ExitStatus;
