//! The import's result, as the renderers see it: the workflow's jobs with the action's
//! `with:` inputs, the files written beside it, a row per pipeline element and the steps left
//! for a person. `mapping` fills it; `workflow`, `report` and `output` read it.
//! Owns: that data. Must not: decide anything, render, print.

/// The action this workflow uses.
pub fn action_ref() -> String {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let path = repository
        .strip_prefix("https://github.com/")
        .unwrap_or("OWNER/lambda-pipeline");
    format!("{path}@v1")
}

/// The workflow to write and everything the report says.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    /// `.github/workflows/<name>.yml`.
    pub path: String,
    pub pipelines: Vec<String>,
    /// `on.push.branches`, in pipeline order.
    pub branches: Vec<String>,
    /// `on.workflow_dispatch`: a pipeline without a branch (an S3 or ECR source).
    pub dispatch: bool,
    pub jobs: Vec<Job>,
    /// Inline buildspecs, written beside the workflow.
    pub files: Vec<GeneratedFile>,
    /// What became of every pipeline element, in pipeline order.
    pub elements: Vec<Element>,
    /// What a person must do, in order.
    pub todos: Vec<String>,
    /// Facts worth knowing that need no action.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    /// Relative to the working directory.
    pub path: String,
    pub content: String,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub provider: String,
    pub became: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub needs: Vec<String>,
    /// `(branch, environment)` for each pipeline it serves, in order. `branch` is `None` for a
    /// pipeline without one (it runs on `workflow_dispatch`); `environment` is empty when the
    /// project names none (no `ENV`) and nothing else does.
    pub environments: Vec<(Option<String>, String)>,
    /// A manual approval comes before it: the job gets a GitHub environment.
    pub approval: bool,
    /// The action step's name.
    pub step_name: String,
    /// The action's `with:`, in order.
    pub inputs: Vec<(String, Value)>,
}

impl Job {
    /// The distinct environments, in order; none for a job whose projects name none.
    pub fn environment_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (_, env) in &self.environments {
            if !env.is_empty() && !names.contains(&env.as_str()) {
                names.push(env);
            }
        }
        names
    }

    pub fn branches(&self) -> Vec<&str> {
        self.environments
            .iter()
            .filter_map(|(b, _)| b.as_deref())
            .collect()
    }
}

/// A `with:` value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    /// One item per line (`env-vars`, `branch-environments`).
    Lines(Vec<String>),
    /// A value a person must replace, and why (a comment beside it).
    Placeholder(String, String),
}
