//! `import`: CodePipeline pipelines, with the CodeBuild projects, CodeDeploy deployment groups
//! and notification rules they use, become one GitHub workflow that runs this action, and a
//! migration report. `source` reads them (through the AWS API, or from saved `aws` CLI JSON)
//! into `model`; `mapping` decides what every element becomes (a `plan::Plan`), with the small
//! pure rules in `rules`; `workflow` renders the YAML; `report` says what became of each element
//! and what a person must do; `output` writes the files.
//! Owns: the migration. Must not: print (the command prints through `report::terminal`),
//! change anything in AWS.

pub mod mapping;
pub mod model;
pub mod output;
pub mod plan;
pub mod report;
pub mod rules;
pub mod source;
pub mod workflow;
