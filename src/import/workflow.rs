//! `Plan` → the workflow's YAML, through serde-saphyr (never by pasting strings): `on.push`
//! with the pipelines' branches, `permissions` (`contents: read`, `checks: write`,
//! `id-token: write`), and per job its `needs`, the branch condition, the GitHub environment of
//! an approval, `concurrency` per environment, `actions/checkout` and this action with its
//! `with:`. A placeholder carries a comment beside it; a two-line header says where the file
//! came from.
//! Owns: the workflow's syntax. Must not: decide what a pipeline element becomes, print, write.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_saphyr::{Commented, FlowSeq, LitString, SerializerOptions};

use super::plan::{Job, Plan, Value, action_ref};

/// The runner the jobs use, as the README's examples do.
pub const RUNS_ON: &str = "ubuntu-24.04";

/// The checkout step's action.
pub const CHECKOUT: &str = "actions/checkout@v6";

/// The workflow file's text.
pub fn render(plan: &Plan) -> Result<String, String> {
    let workflow = WorkflowYaml {
        name: &plan.name,
        on: On {
            push: (!plan.branches.is_empty()).then(|| Push {
                branches: FlowSeq(plan.branches.clone()),
            }),
            workflow_dispatch: plan.dispatch.then(BTreeMap::new),
        },
        permissions: Permissions {
            contents: "read",
            checks: "write",
            id_token: "write",
        },
        jobs: Jobs(plan.jobs.iter().map(|job| job_yaml(plan, job)).collect()),
    };
    // YAML 1.2 keeps `on` unquoted; lists are indented under their key, as people write them.
    let mut options = SerializerOptions::default();
    options.yaml_12 = true;
    options.no_lang_directive = true;
    options.compact_list_indent = false;
    // A long expression stays on one line rather than folded.
    options.folded_wrap_chars = 1000;
    let mut text = String::new();
    serde_saphyr::to_fmt_writer_with_options(&mut text, &workflow, options)
        .map_err(|err| format!("cannot render the workflow: {err}"))?;
    let header = format!(
        "# Written by `lambda-pipeline import` from the CodePipeline pipeline{} {}.\n\
         # The migration report lists what became of each element, and what is left to do.\n",
        if plan.pipelines.len() == 1 { "" } else { "s" },
        plan.pipelines.join(", ")
    );
    Ok(header + &text)
}

#[derive(Serialize)]
struct WorkflowYaml<'a> {
    name: &'a str,
    on: On,
    permissions: Permissions,
    jobs: Jobs,
}

#[derive(Serialize)]
struct On {
    #[serde(skip_serializing_if = "Option::is_none")]
    push: Option<Push>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_dispatch: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
struct Push {
    branches: FlowSeq<Vec<String>>,
}

#[derive(Serialize)]
struct Permissions {
    contents: &'static str,
    checks: &'static str,
    #[serde(rename = "id-token")]
    id_token: &'static str,
}

/// Jobs in the plan's order (a map whose keys keep their order).
struct Jobs(Vec<(String, JobYaml)>);

impl Serialize for Jobs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, job) in &self.0 {
            map.serialize_entry(id, job)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct JobYaml {
    #[serde(skip_serializing_if = "Option::is_none")]
    needs: Option<FlowSeq<Vec<String>>>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(rename = "runs-on")]
    runs_on: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
    concurrency: Concurrency,
    steps: Vec<StepYaml>,
}

#[derive(Serialize)]
struct Concurrency {
    group: String,
    #[serde(rename = "cancel-in-progress")]
    cancel_in_progress: bool,
}

#[derive(Serialize)]
struct StepYaml {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    uses: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    with: Option<With>,
}

/// `with:` in the plan's order.
struct With(Vec<(String, Value)>);

impl Serialize for With {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                Value::Text(text) => map.serialize_entry(name, text)?,
                Value::Lines(lines) if lines.len() == 1 => map.serialize_entry(name, &lines[0])?,
                Value::Lines(lines) => {
                    map.serialize_entry(name, &LitString(lines.join("\n") + "\n"))?
                }
                Value::Placeholder(text, why) => {
                    map.serialize_entry(name, &Commented(text.clone(), why.clone()))?
                }
            }
        }
        map.end()
    }
}

fn job_yaml(plan: &Plan, job: &Job) -> (String, JobYaml) {
    let environments = job.environment_names();
    let environment = environment_expression(job);
    (
        job.id.clone(),
        JobYaml {
            needs: (!job.needs.is_empty()).then(|| FlowSeq(job.needs.clone())),
            condition: condition(plan, job),
            runs_on: RUNS_ON,
            environment: job.approval.then(|| environment.clone()),
            concurrency: Concurrency {
                group: format!(
                    "{}-{}-{}",
                    plan.name,
                    job.id,
                    match environments.len() {
                        // No environment: one run of the job per branch at a time.
                        0 => "${{ github.ref_name }}".to_owned(),
                        _ => environment,
                    }
                ),
                // A deploy cut short leaves traffic split: queue, never cancel.
                cancel_in_progress: false,
            },
            steps: vec![
                StepYaml {
                    name: None,
                    uses: CHECKOUT.to_owned(),
                    with: None,
                },
                StepYaml {
                    name: (!job.step_name.is_empty()).then(|| job.step_name.clone()),
                    uses: action_ref(),
                    with: Some(With(job.inputs.clone())),
                },
            ],
        },
    )
}

/// The job's environment: its name, or an expression that picks it by branch.
fn environment_expression(job: &Job) -> String {
    let names = job.environment_names();
    if names.len() <= 1 {
        return names.first().copied().unwrap_or("default").to_owned();
    }
    let map: serde_json::Map<String, serde_json::Value> = job
        .environments
        .iter()
        .filter_map(|(branch, environment)| {
            branch
                .as_ref()
                .map(|b| (b.clone(), serde_json::Value::String(environment.clone())))
        })
        .collect();
    let json = serde_json::Value::Object(map)
        .to_string()
        .replace('\'', "''");
    format!("${{{{ fromJSON('{json}')[github.ref_name] }}}}")
}

/// `if:` when the job runs on fewer branches than the workflow, or only on a dispatch.
fn condition(plan: &Plan, job: &Job) -> Option<String> {
    let branches = job.branches();
    if branches.is_empty() {
        return Some("github.event_name == 'workflow_dispatch'".to_owned());
    }
    if plan.branches.iter().all(|b| branches.contains(&b.as_str())) {
        return None;
    }
    Some(
        branches
            .iter()
            .map(|b| format!("github.ref_name == '{}'", b.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(" || "),
    )
}
