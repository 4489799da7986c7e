//! What each pipeline element becomes: `Imported` → `Plan` (jobs with their `with:` inputs, the
//! files written beside the workflow, and for the report a row per element and the steps a
//! person must take).
//!
//! The rules: a source action's branch becomes `on.push.branches`; each wave of a pipeline
//! (actions of a stage with one run order) becomes jobs that need the previous wave's; a
//! CodeBuild action becomes a job running its project's buildspec (`command: build`), and a
//! CodeDeploy Lambda deployment fed by it turns that job into a deploy (`traffic-shift`,
//! `alarms`); a manual approval puts a GitHub environment on the jobs after it. Jobs of several
//! pipelines that differ only in the environment (a project's `ENV`, and values that embed it)
//! become one job with `branch-environments` and `{environment}` in its values. Anything else
//! is listed for a person, with what it did. A provider import does not know is an error.
//! Owns: those decisions. Must not: read, call AWS, render YAML, print.

use std::collections::BTreeMap;

use super::model::{
    Action, AppSpec, DeploymentGroup, Imported, NotificationRule, Pipeline, Project,
};
pub use super::plan::{Element, GeneratedFile, Job, Plan, Value};
pub use super::rules::check_providers;
use super::rules::{
    BuildspecRef, ENVIRONMENT_VARIABLES, EVENT_ORDER, buildspec_ref, capitalize, category_verb,
    config_summary, job_id, join_step_names, notify_event, rule_is_for, traffic_shift,
    workflow_name,
};
use super::source::place;
use crate::base::InputError;

/// The provider column of a notification rule's row.
const NOTIFICATION_RULE: &str = "notification rule";

/// What `{environment}` stands for in the action's inputs.
const PLACEHOLDER: &str = "{environment}";

/// What the caller knows besides the pipelines.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// `--name`.
    pub name: Option<String>,
    /// `--role-to-assume`: used instead of a placeholder.
    pub role_to_assume: Option<String>,
    /// `owner/repo` for the OIDC `sub` claims (`GITHUB_REPOSITORY`), else a placeholder.
    pub repository: Option<String>,
}

/// Maps the pipelines. Fails on an action provider import does not know.
pub fn map(imported: &Imported, options: &MapOptions) -> Result<Plan, InputError> {
    check_providers(&imported.pipelines)?;
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| workflow_name(&imported.pipelines));
    let mut mapper = Mapper {
        imported,
        options,
        name: name.clone(),
        plan: Plan {
            path: format!(".github/workflows/{name}.yml"),
            name,
            pipelines: imported.pipelines.iter().map(|p| p.name.clone()).collect(),
            branches: Vec::new(),
            dispatch: false,
            jobs: Vec::new(),
            files: Vec::new(),
            elements: Vec::new(),
            todos: Vec::new(),
            notes: imported.notes.clone(),
        },
        pending: Vec::new(),
    };
    let drafted: Vec<Drafted> = imported
        .pipelines
        .iter()
        .map(|pipeline| mapper.pipeline(pipeline))
        .collect();
    mapper.merge(drafted);
    mapper.finish();
    Ok(mapper.plan)
}

/// What one action step runs, with literal values.
#[derive(Debug, Clone, PartialEq, Default)]
struct StepSpec {
    /// `command: build` (the buildspec deploys, or nothing does); else `run`.
    build_only: bool,
    buildspec: Option<BuildspecRef>,
    env_vars: Vec<(String, String)>,
    parameter_store: Vec<(String, String)>,
    secrets_manager: Vec<(String, String)>,
    timeout_minutes: Option<i32>,
    function: Option<String>,
    alias: Option<String>,
    traffic_shift: Option<String>,
    alarms: Vec<String>,
    region: Option<String>,
    sns_topic: Option<String>,
    notify_on: Vec<&'static str>,
}

/// The spec that serves every member `(environment, spec)`: values equal in all members stay
/// as they are; a value that differs only by the member's environment becomes a template with
/// `{environment}` (where the input takes it: `env-vars`, `parameter-store`, `secrets-manager`,
/// `function-name`). `None` when the members differ in anything else.
fn common(members: &[(&str, &StepSpec)]) -> Option<StepSpec> {
    let (first_env, first) = *members.first()?;
    let same = |f: &dyn Fn(&StepSpec) -> String| members.iter().all(|(_, m)| f(m) == f(first));
    let fixed = same(&|m| {
        format!(
            "{:?}",
            (
                m.build_only,
                &m.buildspec,
                m.timeout_minutes,
                &m.alias,
                &m.traffic_shift,
                &m.alarms,
                &m.region,
                &m.sns_topic,
                &m.notify_on,
                m.function.is_some(),
            )
        )
    });
    let names = |vars: &[(String, String)]| vars.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let same_names = members.iter().all(|(_, m)| {
        names(&m.env_vars) == names(&first.env_vars)
            && names(&m.parameter_store) == names(&first.parameter_store)
            && names(&m.secrets_manager) == names(&first.secrets_manager)
    });
    if !fixed || !same_names {
        return None;
    }
    // One value slot across the members: kept, templated, or not mergeable.
    let slot = |values: Vec<&str>| -> Option<String> {
        if values.iter().all(|v| *v == values[0]) {
            return Some(values[0].to_owned());
        }
        if first_env.is_empty() || !values[0].contains(first_env) {
            return None;
        }
        let template = values[0].replace(first_env, PLACEHOLDER);
        members
            .iter()
            .zip(&values)
            .all(|((env, _), value)| template.replace(PLACEHOLDER, env) == **value)
            .then_some(template)
    };
    let mut spec = first.clone();
    type Read = fn(&StepSpec) -> &Vec<(String, String)>;
    type Write = fn(&mut StepSpec) -> &mut Vec<(String, String)>;
    let lists: [(Read, Write); 3] = [
        (|s| &s.env_vars, |s| &mut s.env_vars),
        (|s| &s.parameter_store, |s| &mut s.parameter_store),
        (|s| &s.secrets_manager, |s| &mut s.secrets_manager),
    ];
    for (read, write) in lists {
        for i in 0..read(first).len() {
            let values: Vec<&str> = members.iter().map(|(_, m)| read(m)[i].1.as_str()).collect();
            write(&mut spec)[i].1 = slot(values)?;
        }
    }
    if first.function.is_some() {
        let values: Vec<String> = members
            .iter()
            .map(|(_, m)| m.function.clone().unwrap_or_default())
            .collect();
        spec.function = Some(slot(values.iter().map(String::as_str).collect())?);
    }
    Some(spec)
}

/// One job of one pipeline, before jobs of several pipelines merge.
#[derive(Debug, Clone)]
struct Draft {
    id_hint: String,
    environment: String,
    /// Indices of this pipeline's drafts it needs.
    needs: Vec<usize>,
    approval: bool,
    spec: StepSpec,
    /// The CodeBuild action it runs, if any.
    action: Option<String>,
    /// Its buildspec calls `aws lambda update-function-code` itself: `(buildspec, project)`.
    self_deploy: Option<(String, String)>,
    step_name: String,
    /// `(stage, action, provider, what it became)`; "job `x`" is put in front after merging.
    rows: Vec<(String, String, String, String)>,
    /// Manual approvals before it: `(stage, action)`.
    approvals: Vec<(String, String)>,
}

/// A pipeline's drafts and its branch.
struct Drafted {
    pipeline: String,
    branch: Option<String>,
    drafts: Vec<Draft>,
}

struct Mapper<'a> {
    imported: &'a Imported,
    options: &'a MapOptions,
    name: String,
    plan: Plan,
    /// Approval rows, completed in `merge` with the job that waits for the approval.
    pending: Vec<Element>,
}

/// What an action is, for the mapping.
enum Role<'a> {
    Source,
    Build(&'a Project),
    Deploy(&'a DeploymentGroup),
    Approval,
    /// A person ports it: what it did, and how to port it.
    Person(String, String),
}

impl<'a> Mapper<'a> {
    fn role(&self, action: &'a Action) -> Role<'a> {
        let category = action.action_type_id.category.as_str();
        let provider = action.provider();
        if action.action_type_id.owner == "Custom" {
            return Role::Person(
                format!(
                    "ran the custom action type `{provider}` ({category}, version {}){}",
                    action.action_type_id.version,
                    config_summary(action)
                ),
                "run what its job worker did in a step".to_owned(),
            );
        }
        match (category, provider) {
            ("Source", _) => Role::Source,
            (_, "CodeBuild") => match action
                .config("ProjectName")
                .and_then(|p| self.imported.projects.get(p))
            {
                Some(project) => Role::Build(project),
                None => Role::Person(
                    format!("ran CodeBuild{}", config_summary(action)),
                    "add a job that runs its buildspec with this action".to_owned(),
                ),
            },
            ("Deploy", "CodeDeploy") => {
                let key = (
                    action.config("ApplicationName").unwrap_or("").to_owned(),
                    action
                        .config("DeploymentGroupName")
                        .unwrap_or("")
                        .to_owned(),
                );
                match self.imported.deployment_groups.get(&key) {
                    Some(group)
                        if group
                            .compute_platform
                            .as_deref()
                            .is_none_or(|p| p == "Lambda") =>
                    {
                        Role::Deploy(group)
                    }
                    Some(group) => Role::Person(
                        format!(
                            "deployed with CodeDeploy to {} (application `{}`, deployment group \
                             `{}`)",
                            group.compute_platform.as_deref().unwrap_or("?"),
                            group.application_name,
                            group.deployment_group_name
                        ),
                        "this action deploys Lambda only: keep a step that runs `aws deploy \
                         create-deployment`"
                            .to_owned(),
                    ),
                    None => Role::Person(
                        format!("deployed with CodeDeploy{}", config_summary(action)),
                        "set `function-name` and `traffic-shift` on the job that builds it"
                            .to_owned(),
                    ),
                }
            }
            ("Approval", "Manual") => Role::Approval,
            ("Invoke", "Lambda") => Role::Person(
                format!(
                    "invoked the Lambda function `{}`{}",
                    action.config("FunctionName").unwrap_or("?"),
                    action
                        .config("UserParameters")
                        .map(|u| format!(" with user parameters `{u}`"))
                        .unwrap_or_default(),
                ),
                format!(
                    "the function answered CodePipeline with PutJobSuccessResult, which has no \
                     equivalent in a workflow: when it checks the deployed version, give its \
                     payload to `smoke-test`; otherwise run its logic in a step (`aws lambda \
                     invoke --function-name {}` after aws-actions/configure-aws-credentials)",
                    action.config("FunctionName").unwrap_or("FUNCTION"),
                ),
            ),
            ("Compute", "Commands") => Role::Person(
                format!(
                    "ran commands on CodeBuild compute: `{}`",
                    action.commands.join("; ")
                ),
                "run them in a `run:` step".to_owned(),
            ),
            _ => Role::Person(
                format!(
                    "{} with {provider}{}",
                    category_verb(category),
                    config_summary(action)
                ),
                "do it in a step, with the action's own GitHub Action or the aws CLI".to_owned(),
            ),
        }
    }

    /// One pipeline's drafts; report rows for what makes no job.
    fn pipeline(&mut self, pipeline: &'a Pipeline) -> Drafted {
        let region = pipeline.region_and_account().map(|(r, _)| r.to_owned());
        let notify = self.notifications(pipeline);
        let mut branch: Option<String> = None;
        let mut drafts: Vec<Draft> = Vec::new();
        // The drafts of the last wave that made any, for `needs`.
        let mut previous: Vec<usize> = Vec::new();
        let mut approvals: Vec<(String, String)> = Vec::new();
        for stage in &pipeline.stages {
            let mut orders: Vec<i32> = stage.actions.iter().map(|a| a.run_order).collect();
            orders.sort_unstable();
            orders.dedup();
            for order in orders {
                let wave: Vec<&Action> = stage
                    .actions
                    .iter()
                    .filter(|a| a.run_order == order)
                    .collect();
                let mut made: Vec<usize> = Vec::new();
                let mut wave_approvals: Vec<(String, String)> = Vec::new();
                for action in &wave {
                    let row = |became: String| Element {
                        pipeline: pipeline.name.clone(),
                        stage: stage.name.clone(),
                        action: action.name.clone(),
                        provider: action.provider().to_owned(),
                        became,
                    };
                    match self.role(action) {
                        Role::Source => {
                            let became = self.source(action, &mut branch);
                            self.plan.elements.push(row(became));
                        }
                        Role::Build(project) => {
                            let id_hint = if wave.len() > 1 {
                                action.name.clone()
                            } else {
                                stage.name.clone()
                            };
                            let mut draft = self.build_draft(project, &id_hint, region.clone());
                            draft.action = Some(action.name.clone());
                            draft.rows.push((
                                stage.name.clone(),
                                action.name.clone(),
                                "CodeBuild".to_owned(),
                                build_detail(project, &draft),
                            ));
                            draft.needs = previous.clone();
                            draft.approval = !approvals.is_empty();
                            draft.approvals = approvals.clone();
                            made.push(drafts.len());
                            drafts.push(draft);
                        }
                        Role::Deploy(group) => {
                            let producer = drafts.iter().position(|d| {
                                d.spec.build_only
                                    && d.action.as_deref().is_some_and(|built| {
                                        action.input_artifacts.iter().any(|input| {
                                            self.produces(pipeline, built, &input.name)
                                        })
                                    })
                            });
                            // The build right before the deploy becomes the deploy; otherwise
                            // the deploy job builds again.
                            let merge_into =
                                producer.filter(|p| previous.contains(p) && approvals.is_empty());
                            let index = match merge_into {
                                Some(index) => index,
                                None => {
                                    let mut draft = match producer {
                                        Some(p) => {
                                            let mut copy = drafts[p].clone();
                                            copy.rows.clear();
                                            copy.approvals.clear();
                                            copy
                                        }
                                        None => self.bare_draft(
                                            &group.deployment_group_name,
                                            region.clone(),
                                        ),
                                    };
                                    draft.id_hint = if wave.len() > 1 {
                                        action.name.clone()
                                    } else {
                                        stage.name.clone()
                                    };
                                    draft.needs = previous.clone();
                                    draft.approval = !approvals.is_empty();
                                    draft.approvals = approvals.clone();
                                    made.push(drafts.len());
                                    drafts.push(draft);
                                    drafts.len() - 1
                                }
                            };
                            let mut detail = self.deploy_into(&mut drafts[index], group, &notify);
                            if merge_into.is_some() {
                                // The deploy waited for every action before it, not only for
                                // the build it deploys.
                                let siblings: Vec<usize> =
                                    previous.iter().copied().filter(|s| *s != index).collect();
                                for sibling in &siblings {
                                    if !drafts[index].needs.contains(sibling) {
                                        drafts[index].needs.push(*sibling);
                                    }
                                }
                                if !siblings.is_empty() {
                                    detail.push_str(&format!(
                                        "; it waits for {}, as the deploy waited for the whole \
                                         stage before it",
                                        siblings
                                            .iter()
                                            .filter_map(|s| drafts[*s].action.as_deref())
                                            .map(|a| format!("`{a}`"))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ));
                                }
                            }
                            let detail = match (merge_into, producer) {
                                (Some(_), _) => {
                                    format!("{detail}; the build job deploys (`command: run`)")
                                }
                                (None, Some(p)) => format!(
                                    "{detail}; this job builds `{}` again, then deploys",
                                    drafts[p].action.as_deref().unwrap_or("?")
                                ),
                                (None, None) => format!(
                                    "{detail}; no CodeBuild action of this pipeline produces its \
                                     input, so the job runs the default buildspec before deploying"
                                ),
                            };
                            drafts[index].rows.push((
                                stage.name.clone(),
                                action.name.clone(),
                                "CodeDeploy".to_owned(),
                                detail,
                            ));
                        }
                        Role::Approval => {
                            wave_approvals.push((stage.name.clone(), action.name.clone()));
                            let mut notes = Vec::new();
                            if let Some(topic) = action.config("NotificationArn") {
                                notes.push(format!(
                                    "it notified `{topic}`; GitHub notifies the required reviewers itself"
                                ));
                            }
                            if let Some(data) = action.config("CustomData") {
                                notes.push(format!("its message was “{data}”"));
                            }
                            if let Some(link) = action.config("ExternalEntityLink") {
                                notes.push(format!("it linked to {link}"));
                            }
                            self.pending.push(row(notes.join("; ")));
                        }
                        Role::Person(did, how) => {
                            self.plan
                                .elements
                                .push(row(format!("a step for a person (to do): it {did}")));
                            self.plan.todos.push(format!(
                                "Port {} by hand: it {did}; {how}.",
                                place(pipeline, &stage.name, action),
                            ));
                        }
                    }
                }
                if !made.is_empty() {
                    previous = made;
                    approvals.clear();
                }
                approvals.extend(wave_approvals);
            }
        }
        if let Some(topic) = &notify.topic
            && drafts.iter().all(|d| d.spec.build_only)
        {
            for element in self
                .plan
                .elements
                .iter_mut()
                .filter(|e| e.pipeline == pipeline.name && e.provider == NOTIFICATION_RULE)
            {
                element.became = element
                    .became
                    .replace("on the deploy jobs", "once a job deploys (to do)");
            }
            self.plan.todos.push(format!(
                "Pipeline `{}` notified SNS topic `{topic}`; the action notifies only when it \
                 deploys, so its build-only jobs (`command: build`) send nothing. When you let \
                 the action deploy (set `function-name` and drop the buildspec's own deploy \
                 commands), add `sns-topic-arn: {topic}` and `notify-on: {}`.",
                pipeline.name,
                if notify.events.is_empty() {
                    "failure, rollback".to_owned()
                } else {
                    notify.events.join(", ")
                }
            ));
        }
        // `needs: [a, b]` where `b` already needs `a` reads as `needs: [b]`.
        let reduced: Vec<Vec<usize>> = drafts
            .iter()
            .map(|draft| {
                draft
                    .needs
                    .iter()
                    .copied()
                    .filter(|n| {
                        !draft
                            .needs
                            .iter()
                            .any(|other| other != n && reaches(&drafts, *other, *n))
                    })
                    .collect()
            })
            .collect();
        for (draft, needs) in drafts.iter_mut().zip(reduced) {
            draft.needs = needs;
        }
        for draft in drafts
            .iter_mut()
            .filter(|d| d.approval && d.environment.is_empty())
        {
            // A GitHub environment needs a name: the job's.
            draft.environment = job_id(&draft.id_hint);
        }
        for (stage, action) in approvals {
            self.plan.elements.push(Element {
                pipeline: pipeline.name.clone(),
                stage,
                action,
                provider: "Manual".to_owned(),
                became: "nothing: no job follows this approval".to_owned(),
            });
        }
        Drafted {
            pipeline: pipeline.name.clone(),
            branch,
            drafts,
        }
    }

    /// Whether the pipeline's action `producer` outputs the artifact `name`.
    fn produces(&self, pipeline: &Pipeline, producer: &str, name: &str) -> bool {
        pipeline.stages.iter().any(|stage| {
            stage
                .actions
                .iter()
                .any(|a| a.name == producer && a.output_artifacts.iter().any(|o| o.name == name))
        })
    }

    /// A source action: the branch, and what a person must do about the repository.
    fn source(&self, action: &Action, branch: &mut Option<String>) -> String {
        let found = match action.provider() {
            "CodeCommit" => action.config("BranchName"),
            "CodeStarSourceConnection" => action.config("BranchName"),
            "GitHub" => action.config("Branch"),
            _ => None,
        };
        let repository = match action.provider() {
            "CodeCommit" => action
                .config("RepositoryName")
                .map(|r| format!("CodeCommit repository `{r}`")),
            "CodeStarSourceConnection" => action
                .config("FullRepositoryId")
                .map(|r| format!("repository `{r}` (through a connection)")),
            "GitHub" => match (action.config("Owner"), action.config("Repo")) {
                (Some(owner), Some(repo)) => Some(format!("GitHub repository `{owner}/{repo}`")),
                _ => None,
            },
            "S3" => Some(format!(
                "S3 object `s3://{}/{}`",
                action.config("S3Bucket").unwrap_or("?"),
                action.config("S3ObjectKey").unwrap_or("?")
            )),
            "ECR" => action
                .config("RepositoryName")
                .map(|r| format!("ECR repository `{r}`")),
            _ => None,
        }
        .unwrap_or_else(|| "the source".to_owned());
        match (found, branch.as_ref()) {
            (Some(name), None) => {
                *branch = Some(name.to_owned());
                format!("`on.push.branches: {name}` and `actions/checkout` of {repository}")
            }
            (Some(name), Some(first)) => format!(
                "a second source ({repository}, branch `{name}`): only `{first}` triggers; check \
                 it out in the jobs that need it (`actions/checkout` with `repository:`)"
            ),
            (None, _) => format!(
                "{repository} has no branch: the jobs of this pipeline run on \
                 `workflow_dispatch`; start them where that object is produced"
            ),
        }
    }

    /// The pipeline's notification rules: the SNS topic and `notify-on` events for its deploy
    /// jobs, and report rows.
    fn notifications(&mut self, pipeline: &Pipeline) -> Notify {
        let mut notify = Notify::default();
        let rules: Vec<&NotificationRule> = self
            .imported
            .notification_rules
            .iter()
            .filter(|rule| rule_is_for(rule, pipeline))
            .collect();
        for rule in rules {
            let row = |became: String| Element {
                pipeline: pipeline.name.clone(),
                stage: "—".to_owned(),
                action: rule.label().to_owned(),
                provider: NOTIFICATION_RULE.to_owned(),
                became,
            };
            if !rule.enabled() {
                self.plan
                    .elements
                    .push(row("nothing: the rule is disabled".to_owned()));
                continue;
            }
            let mut said = Vec::new();
            let mut events: Vec<&'static str> = Vec::new();
            let mut unmapped: Vec<&str> = Vec::new();
            for event in &rule.event_types {
                match notify_event(&event.event_type_id) {
                    Some(mapped) => {
                        for name in mapped {
                            if !events.contains(name) {
                                events.push(name);
                            }
                        }
                    }
                    None => unmapped.push(&event.event_type_id),
                }
            }
            for target in &rule.targets {
                if target.target_type == "SNS" {
                    match &notify.topic {
                        None => {
                            notify.topic = Some(target.target_address.clone());
                            said.push(format!("`sns-topic-arn: {}`", target.target_address));
                        }
                        Some(topic) if *topic == target.target_address => {}
                        Some(topic) => {
                            self.plan.todos.push(format!(
                                "Notification rule `{}` also notified SNS topic `{}`; the \
                                 action publishes to one topic (`{topic}`): subscribe the other \
                                 topic's subscribers to it.",
                                rule.label(),
                                target.target_address
                            ));
                        }
                    }
                } else {
                    self.plan.todos.push(format!(
                        "Notification rule `{}` sent to {} `{}`: subscribe it to the SNS topic \
                         the action publishes to, or add a step that notifies it.",
                        rule.label(),
                        target.target_type,
                        target.target_address
                    ));
                    said.push(format!("{} target listed for a person", target.target_type));
                }
            }
            for event in &events {
                if !notify.events.contains(event) {
                    notify.events.push(event);
                }
            }
            notify
                .events
                .sort_by_key(|e| EVENT_ORDER.iter().position(|x| x == e));
            events.sort_by_key(|e| EVENT_ORDER.iter().position(|x| x == e));
            if !events.is_empty() {
                said.push(format!(
                    "`notify-on: {}` on the deploy jobs",
                    events.join(", ")
                ));
            }
            if !unmapped.is_empty() {
                said.push(format!(
                    "no equivalent for {}",
                    unmapped
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            self.plan.elements.push(row(said.join("; ")));
        }
        notify
    }

    /// A job that runs a CodeBuild project.
    fn build_draft(&mut self, project: &Project, id_hint: &str, region: Option<String>) -> Draft {
        let variables = &project.environment.environment_variables;
        let environment = ENVIRONMENT_VARIABLES
            .iter()
            .find_map(|name| {
                variables.iter().find(|v| {
                    v.name == *name && v.kind == "PLAINTEXT" && !v.value.trim().is_empty()
                })
            })
            .map(|v| v.value.trim().to_owned())
            .unwrap_or_default();
        let mut spec = StepSpec {
            build_only: true,
            buildspec: Some(buildspec_ref(project.source.buildspec.as_deref())),
            timeout_minutes: project.timeout_in_minutes.filter(|t| *t > 0),
            region,
            ..StepSpec::default()
        };
        for variable in variables {
            let pair = (variable.name.clone(), variable.value.clone());
            match variable.kind.as_str() {
                "PARAMETER_STORE" => spec.parameter_store.push(pair),
                "SECRETS_MANAGER" => spec.secrets_manager.push(pair),
                _ if variable.value.contains('\n') => self.plan.todos.push(format!(
                    "Project `{}` sets `{}` to a value of several lines, which `env-vars` \
                     cannot carry: set it in the buildspec's `env.variables`.",
                    project.name, variable.name
                )),
                _ => spec.env_vars.push(pair),
            }
        }
        self.project_notes(project);
        Draft {
            id_hint: id_hint.to_owned(),
            environment,
            needs: Vec::new(),
            approval: false,
            action: None,
            self_deploy: self.self_deploy(project),
            step_name: format!("CodeBuild project {}", project.name),
            spec,
            rows: Vec::new(),
            approvals: Vec::new(),
        }
    }

    /// Whether the project's buildspec (inline, or a file of the working directory) deploys
    /// with the aws CLI itself.
    fn self_deploy(&self, project: &Project) -> Option<(String, String)> {
        let (name, text) = match buildspec_ref(project.source.buildspec.as_deref()) {
            BuildspecRef::Inline(text) => ("its inline buildspec".to_owned(), text),
            BuildspecRef::Default => (
                "`buildspec.yml`".to_owned(),
                self.imported.local_buildspecs.get("buildspec.yml")?.clone(),
            ),
            BuildspecRef::Path(path) => (
                format!("`{path}`"),
                self.imported.local_buildspecs.get(&path)?.clone(),
            ),
            BuildspecRef::S3 { .. } => return None,
        };
        text.contains("update-function-code")
            .then(|| (name, project.name.clone()))
    }

    /// A deploy job with no build to take its settings from.
    fn bare_draft(&self, environment: &str, region: Option<String>) -> Draft {
        let spec = StepSpec {
            build_only: false,
            region,
            ..StepSpec::default()
        };
        Draft {
            id_hint: environment.to_owned(),
            environment: environment.to_owned(),
            needs: Vec::new(),
            approval: false,
            action: None,
            self_deploy: None,
            step_name: String::new(),
            spec,
            rows: Vec::new(),
            approvals: Vec::new(),
        }
    }

    /// Turns `draft` into a deploy with `group`'s traffic shift and alarms, and the function the
    /// AppSpec names. Returns what the deploy became, for the report.
    fn deploy_into(
        &mut self,
        draft: &mut Draft,
        group: &DeploymentGroup,
        notify: &Notify,
    ) -> String {
        let mut said = Vec::new();
        draft.spec.build_only = false;
        if draft.environment.is_empty() {
            draft.environment = group.deployment_group_name.clone();
        }
        let config = group
            .deployment_config_name
            .as_deref()
            .unwrap_or("CodeDeployDefault.LambdaAllAtOnce");
        match traffic_shift(config) {
            Some(shift) => {
                said.push(format!("`traffic-shift: {shift}` (from `{config}`)"));
                draft.spec.traffic_shift = Some(shift);
            }
            None => {
                said.push(format!(
                    "deployment configuration `{config}` listed for a person"
                ));
                self.plan.todos.push(format!(
                    "CodeDeploy deployment group `{}` uses the custom deployment configuration \
                     `{config}`: read its traffic routing with `aws deploy \
                     get-deployment-config --deployment-config-name {config}` and set \
                     `traffic-shift` (`canary <percent> <minutes>m` or `linear <percent> \
                     <minutes>m`) on the deploy job.",
                    group.deployment_group_name
                ));
            }
        }
        if let Some(alarms) = group.alarm_configuration.as_ref().filter(|a| a.enabled) {
            draft.spec.alarms = alarms.alarms.iter().map(|a| a.name.clone()).collect();
            if !draft.spec.alarms.is_empty() {
                said.push(format!("`alarms: {}`", draft.spec.alarms.join(", ")));
            }
            if alarms.ignore_poll_alarm_failure {
                self.plan.notes.push(format!(
                    "Deployment group `{}` ignored failures to read its alarms; the action \
                     treats an unreadable alarm as a reason to roll back.",
                    group.deployment_group_name
                ));
            }
        }
        if let Some(rollback) = group
            .auto_rollback_configuration
            .as_ref()
            .filter(|r| r.enabled)
        {
            self.plan.notes.push(format!(
                "Deployment group `{}` rolled back automatically on {}; the action always moves \
                 the alias back when the smoke test fails or an alarm fires during the shift.",
                group.deployment_group_name,
                if rollback.events.is_empty() {
                    "failure".to_owned()
                } else {
                    rollback.events.join(", ")
                }
            ));
        }
        match self.imported.appspec.as_ref() {
            Some(appspec) if !appspec.functions.is_empty() => {
                let function = &appspec.functions[0];
                draft.spec.function = Some(function.name.clone());
                draft.spec.alias = function.alias.clone();
                said.push(format!(
                    "`function-name: {}`{} (from `{}`)",
                    function.name,
                    function
                        .alias
                        .as_ref()
                        .map(|a| format!(", `alias: {a}`"))
                        .unwrap_or_default(),
                    appspec.file
                ));
                self.appspec_notes(appspec);
            }
            _ => {
                said.push("`function-name` placeholder".to_owned());
                self.plan.todos.push(format!(
                    "Set `function-name` (and `alias`) of the deploy job for CodeDeploy \
                     deployment group `{}` of application `{}`: they came from the AppSpec the \
                     build produced, and there is no `appspec.yml` in the working directory.",
                    group.deployment_group_name, group.application_name
                ));
            }
        }
        draft.spec.sns_topic = notify.topic.clone();
        draft.spec.notify_on = notify.events.clone();
        let name = format!(
            "CodeDeploy {}/{}",
            group.application_name, group.deployment_group_name
        );
        draft.step_name = if draft.step_name.is_empty() {
            name
        } else {
            format!("{} + {name}", draft.step_name)
        };
        said.join(", ")
    }

    fn appspec_notes(&mut self, appspec: &AppSpec) {
        if appspec.functions.len() > 1 {
            self.plan.todos.push(format!(
                "`{}` deploys {} functions; the deploy job deploys `{}`: add the others to \
                 `function-name` (comma-separated) if they share the package.",
                appspec.file,
                appspec.functions.len(),
                appspec.functions[0].name
            ));
        }
        for (hook, function) in &appspec.hooks {
            let note = format!(
                "The AppSpec hook `{hook}` ran `{function}`; port its check to `smoke-test` (a \
                 payload the new version is invoked with before traffic moves) or to a step after \
                 the deploy."
            );
            if !self.plan.todos.contains(&note) {
                self.plan.todos.push(note);
            }
        }
    }

    /// Notes and steps for what a project does that the action does another way.
    fn project_notes(&mut self, project: &Project) {
        let name = &project.name;
        let push_note = |plan: &mut Plan, note: String| {
            if !plan.notes.contains(&note) {
                plan.notes.push(note);
            }
        };
        if project.environment.privileged_mode == Some(true) {
            push_note(
                &mut self.plan,
                format!(
                    "Project `{name}` runs in privileged mode (docker): the runner mounts its \
                     docker socket into the action's container, so docker commands in the \
                     buildspec work (README: Docker in the build)."
                ),
            );
        }
        if let Some(cache) = project.cache.as_ref().filter(|c| c.kind != "NO_CACHE") {
            push_note(
                &mut self.plan,
                format!(
                    "Project `{name}` used a {} cache; keep tool caches in the workspace with \
                     `actions/cache` in a step before the action.",
                    cache.kind
                ),
            );
        }
        if let Some(vpc) = &project.vpc_config
            && vpc.vpc_id.is_some()
        {
            let todo = format!(
                "Project `{name}` ran in VPC `{}`: run its job on a self-hosted runner in that \
                 VPC (`runs-on`).",
                vpc.vpc_id.as_deref().unwrap_or("?")
            );
            if !self.plan.todos.contains(&todo) {
                self.plan.todos.push(todo);
            }
        }
        if !project.secondary_sources.is_empty() {
            let todo = format!(
                "Project `{name}` has {} secondary sources: check them out in its job \
                 (`actions/checkout` with `repository:` and `path:`).",
                project.secondary_sources.len()
            );
            if !self.plan.todos.contains(&todo) {
                self.plan.todos.push(todo);
            }
        }
        if !project.environment.kind.is_empty()
            && !matches!(
                project.environment.kind.as_str(),
                "LINUX_CONTAINER" | "LINUX_LAMBDA_CONTAINER"
            )
        {
            let todo = format!(
                "Project `{name}` ran on `{}`; the action runs on Linux x86-64 runners: choose \
                 `runs-on` accordingly (e.g. `ubuntu-24.04-arm` for ARM).",
                project.environment.kind
            );
            if !self.plan.todos.contains(&todo) {
                self.plan.todos.push(todo);
            }
        }
        if let BuildspecRef::S3 { arn, key } = buildspec_ref(project.source.buildspec.as_deref()) {
            let todo = format!(
                "Project `{name}` reads its buildspec from `{arn}`: copy it into the \
                 repository at `{key}`."
            );
            if !self.plan.todos.contains(&todo) {
                self.plan.todos.push(todo);
            }
        }
    }

    /// Merges the drafts of all pipelines into jobs.
    fn merge(&mut self, drafted: Vec<Drafted>) {
        // (pipeline, draft) → job index
        let mut placed: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        // Per job: the drafts it serves, and the spec common to them.
        let mut sources: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut commons: Vec<StepSpec> = Vec::new();
        for (p, pipeline) in drafted.iter().enumerate() {
            if let Some(branch) = &pipeline.branch {
                if !self.plan.branches.contains(branch) {
                    self.plan.branches.push(branch.clone());
                }
            } else if !pipeline.drafts.is_empty() {
                self.plan.dispatch = true;
            }
            for d in topological(&pipeline.drafts) {
                let draft = &pipeline.drafts[d];
                let needs: Vec<String> = draft
                    .needs
                    .iter()
                    .filter_map(|n| placed.get(&(p, *n)))
                    .map(|j| self.plan.jobs[*j].id.clone())
                    .collect();
                let mut found: Option<(usize, StepSpec)> = None;
                if let Some(branch) = &pipeline.branch {
                    for (j, job) in self.plan.jobs.iter().enumerate() {
                        let fits = job.needs == needs
                            && job.approval == draft.approval
                            && job.environment_names().is_empty() == draft.environment.is_empty()
                            && !job
                                .environments
                                .iter()
                                .any(|(b, _)| b.as_ref().is_none_or(|b| b == branch));
                        if !fits {
                            continue;
                        }
                        let mut members: Vec<(&str, &StepSpec)> = sources[j]
                            .iter()
                            .map(|(p, d)| {
                                let member = &drafted[*p].drafts[*d];
                                (member.environment.as_str(), &member.spec)
                            })
                            .collect();
                        members.push((draft.environment.as_str(), &draft.spec));
                        if let Some(spec) = common(&members) {
                            found = Some((j, spec));
                            break;
                        }
                    }
                }
                let index = match found {
                    Some((index, spec)) => {
                        self.plan.jobs[index]
                            .environments
                            .push((pipeline.branch.clone(), draft.environment.clone()));
                        commons[index] = spec;
                        index
                    }
                    None => {
                        let id = self.unique_id(&draft.id_hint, &draft.environment);
                        self.plan.jobs.push(Job {
                            id,
                            needs,
                            environments: vec![(
                                pipeline.branch.clone(),
                                draft.environment.clone(),
                            )],
                            approval: draft.approval,
                            step_name: draft.step_name.clone(),
                            inputs: Vec::new(),
                        });
                        commons.push(draft.spec.clone());
                        sources.push(Vec::new());
                        self.plan.jobs.len() - 1
                    }
                };
                sources[index].push((p, d));
                placed.insert((p, d), index);
            }
        }
        // Inputs, once every job knows its environments.
        let mut self_deploys: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for index in 0..self.plan.jobs.len() {
            let spec = commons[index].clone();
            let mut names: Vec<String> = Vec::new();
            for (p, d) in &sources[index] {
                let step = &drafted[*p].drafts[*d].step_name;
                for part in step.split(" + ") {
                    if !names.iter().any(|n| n == part) {
                        names.push(part.to_owned());
                    }
                }
            }
            self.plan.jobs[index].step_name = join_step_names(&names);
            if spec.build_only {
                for (p, d) in &sources[index] {
                    let Some((buildspec, project)) = &drafted[*p].drafts[*d].self_deploy else {
                        continue;
                    };
                    let job = self.plan.jobs[index].id.clone();
                    match self_deploys.iter_mut().find(|(b, _, _)| b == buildspec) {
                        Some((_, projects, jobs)) => {
                            if !projects.contains(project) {
                                projects.push(project.clone());
                            }
                            if !jobs.contains(&job) {
                                jobs.push(job);
                            }
                        }
                        None => {
                            self_deploys.push((buildspec.clone(), vec![project.clone()], vec![job]))
                        }
                    }
                }
            }
            let inputs = self.inputs(index, &spec);
            self.plan.jobs[index].inputs = inputs;
        }
        for (buildspec, projects, jobs) in self_deploys {
            let quoted = |items: &[String]| {
                items
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.plan.todos.push(format!(
                "{} ({} {}) deploys the function itself (`aws lambda update-function-code`), so \
                 {} {} {} `command: build` and the buildspec keeps deploying. To let the action \
                 deploy instead (skip unchanged code, publish a version, smoke-test it, move an \
                 alias, roll back, notify SNS), remove those commands and set `function-name` \
                 (`{{environment}}` in it is the job's environment).",
                capitalize(&buildspec),
                if projects.len() == 1 {
                    "project"
                } else {
                    "projects"
                },
                quoted(&projects),
                if jobs.len() == 1 { "job" } else { "jobs" },
                quoted(&jobs),
                if jobs.len() == 1 { "runs" } else { "run" },
            ));
        }
        // Report rows, now that jobs have ids.
        for (index, job_sources) in sources.iter().enumerate() {
            for (p, d) in job_sources {
                let draft = &drafted[*p].drafts[*d];
                let job = &self.plan.jobs[index];
                for (stage, action, provider, detail) in &draft.rows {
                    self.plan.elements.push(Element {
                        pipeline: drafted[*p].pipeline.clone(),
                        stage: stage.clone(),
                        action: action.clone(),
                        provider: provider.clone(),
                        became: if draft.environment.is_empty() {
                            format!("job `{}`: {detail}", job.id)
                        } else {
                            format!(
                                "job `{}`, environment `{}`: {detail}",
                                job.id, draft.environment
                            )
                        },
                    });
                }
                for (stage, action) in &draft.approvals {
                    let Some(pending) = self.pending.iter().position(|pending| {
                        pending.pipeline == drafted[*p].pipeline
                            && pending.stage == *stage
                            && pending.action == *action
                    }) else {
                        continue;
                    };
                    // An approval before several jobs: one row, one step for the person.
                    let mut element = self.pending.remove(pending);
                    let extra = std::mem::take(&mut element.became);
                    element.became = format!(
                        "GitHub environment `{}` on job `{}`: add required reviewers to it{}",
                        draft.environment,
                        job.id,
                        if extra.is_empty() {
                            String::new()
                        } else {
                            format!("; {extra}")
                        }
                    );
                    self.plan.elements.push(element);
                    self.plan.todos.push(format!(
                        "Add required reviewers to the GitHub environment `{}` (Settings → \
                         Environments → {} → Required reviewers): it replaces the manual \
                         approval `{action}` of pipeline `{}`; job `{}` waits for them.",
                        draft.environment, draft.environment, drafted[*p].pipeline, job.id
                    ));
                }
            }
        }
        let mut elements = std::mem::take(&mut self.plan.elements);
        elements.sort_by_key(|e| {
            let pipeline = self
                .plan
                .pipelines
                .iter()
                .position(|p| *p == e.pipeline)
                .unwrap_or(usize::MAX);
            let stage = self.stage_position(pipeline, &e.stage, &e.action);
            (pipeline, stage)
        });
        self.plan.elements = elements;
    }

    /// `(stage index, action index)` of an element, for sorting the report in pipeline order;
    /// notification rules last.
    fn stage_position(&self, pipeline: usize, stage: &str, action: &str) -> (usize, usize) {
        let Some(pipeline) = self.imported.pipelines.get(pipeline) else {
            return (usize::MAX, usize::MAX);
        };
        for (s, st) in pipeline.stages.iter().enumerate() {
            if st.name != stage {
                continue;
            }
            let a = st
                .actions
                .iter()
                .position(|x| x.name == action)
                .unwrap_or(usize::MAX);
            return (s, a);
        }
        (usize::MAX, usize::MAX)
    }

    fn unique_id(&self, hint: &str, environment: &str) -> String {
        let base = job_id(hint);
        let taken = |id: &str| self.plan.jobs.iter().any(|j| j.id == id);
        if !taken(&base) {
            return base;
        }
        let with_env = job_id(&format!("{hint}-{environment}"));
        if !taken(&with_env) {
            return with_env;
        }
        (2..)
            .map(|n| format!("{with_env}-{n}"))
            .find(|id| !taken(id))
            .unwrap_or(with_env)
    }

    /// The action's `with:` for job `index`.
    fn inputs(&mut self, index: usize, spec: &StepSpec) -> Vec<(String, Value)> {
        let job = self.plan.jobs[index].clone();
        let mut inputs: Vec<(String, Value)> = Vec::new();
        let mut put = |name: &str, value: Value| inputs.push((name.to_owned(), value));
        if spec.build_only {
            put("command", Value::Text("build".to_owned()));
        }
        let environments = job.environment_names();
        if environments.len() > 1 {
            put(
                "branch-environments",
                Value::Lines(
                    job.environments
                        .iter()
                        .filter_map(|(b, e)| b.as_ref().map(|b| format!("{b}: {e}")))
                        .collect(),
                ),
            );
        } else if let Some(environment) = environments.first() {
            put("environment", Value::Text((*environment).to_owned()));
        }
        match &spec.buildspec {
            Some(BuildspecRef::Path(path)) => put("buildspec", Value::Text(path.clone())),
            Some(BuildspecRef::S3 { key, .. }) => put("buildspec", Value::Text(key.clone())),
            Some(BuildspecRef::Inline(text)) => {
                let path = match self.plan.files.iter().find(|f| f.content == *text) {
                    Some(file) => file.path.clone(),
                    None => {
                        let path =
                            format!(".github/workflows/{}/{}.buildspec.yml", self.name, job.id);
                        self.plan.files.push(GeneratedFile {
                            path: path.clone(),
                            content: if text.ends_with('\n') {
                                text.clone()
                            } else {
                                format!("{text}\n")
                            },
                        });
                        path
                    }
                };
                put("buildspec", Value::Text(path));
            }
            Some(BuildspecRef::Default) | None => {}
        }
        let lines = |vars: &[(String, String)]| -> Vec<String> {
            vars.iter().map(|(n, v)| format!("{n}={v}")).collect()
        };
        if !spec.env_vars.is_empty() {
            put("env-vars", Value::Lines(lines(&spec.env_vars)));
        }
        if !spec.parameter_store.is_empty() {
            put(
                "parameter-store",
                Value::Lines(lines(&spec.parameter_store)),
            );
        }
        if !spec.secrets_manager.is_empty() {
            put(
                "secrets-manager",
                Value::Lines(lines(&spec.secrets_manager)),
            );
        }
        if let Some(minutes) = spec.timeout_minutes {
            put("timeout", Value::Text(format!("{minutes}m")));
        }
        if !spec.build_only {
            match &spec.function {
                Some(function) => put("function-name", Value::Text(function.clone())),
                None => put(
                    "function-name",
                    Value::Placeholder(
                        "<function from the AppSpec>".to_owned(),
                        "set the function CodeDeploy deployed (migration report)".to_owned(),
                    ),
                ),
            }
            if let Some(alias) = &spec.alias {
                put("alias", Value::Text(alias.clone()));
            }
            if let Some(shift) = &spec.traffic_shift {
                put("traffic-shift", Value::Text(shift.clone()));
            }
            if !spec.alarms.is_empty() {
                put("alarms", Value::Text(spec.alarms.join(", ")));
            }
        }
        if let Some(region) = &spec.region {
            put("region", Value::Text(region.clone()));
        }
        match &self.options.role_to_assume {
            Some(role) => put("role-to-assume", Value::Text(role.clone())),
            None => put(
                "role-to-assume",
                Value::Placeholder(
                    self.role_placeholder(),
                    "placeholder: create this role (migration report)".to_owned(),
                ),
            ),
        }
        if let Some(topic) = &spec.sns_topic {
            put("sns-topic-arn", Value::Text(topic.clone()));
            if !spec.notify_on.is_empty() && spec.notify_on != ["success", "failure", "rollback"] {
                put("notify-on", Value::Text(spec.notify_on.join(", ")));
            }
        }
        inputs
    }

    /// `arn:aws:iam::<account>:role/github-actions-<name>`, in the pipelines' account.
    fn role_placeholder(&self) -> String {
        let account = self
            .imported
            .pipelines
            .iter()
            .find_map(|p| p.region_and_account().map(|(_, a)| a.to_owned()))
            .unwrap_or_else(|| "123456789012".to_owned());
        format!("arn:aws:iam::{account}:role/github-actions-{}", self.name)
    }

    /// The report's steps and notes that concern the whole workflow.
    fn finish(&mut self) {
        self.role_todos();
        self.repository_todos();
        self.pipeline_todos();
        self.image_notes();
        self.rule_notes();
    }

    /// The role: its OIDC trust policy (the `sub` claims of the branches and environments) and
    /// what it may call; and the old pipelines, which must stop.
    fn role_todos(&mut self) {
        let repository = self
            .options
            .repository
            .clone()
            .unwrap_or_else(|| "OWNER/REPO".to_owned());
        let subjects: Vec<String> = self
            .plan
            .branches
            .iter()
            .map(|b| format!("`repo:{repository}:ref:refs/heads/{b}`"))
            .collect();
        let mut gated: Vec<String> = Vec::new();
        for job in self.plan.jobs.iter().filter(|j| j.approval) {
            for environment in job.environment_names() {
                let subject = format!("`repo:{repository}:environment:{environment}`");
                if !gated.contains(&subject) {
                    gated.push(subject);
                }
            }
        }
        let roles: Vec<String> = {
            let mut roles: Vec<String> = Vec::new();
            for project in self.imported.projects.values() {
                if let Some(role) = &project.service_role
                    && !roles.contains(role)
                {
                    roles.push(role.clone());
                }
            }
            roles
        };
        let role = self
            .options
            .role_to_assume
            .clone()
            .unwrap_or_else(|| self.role_placeholder());
        let what = if self.options.role_to_assume.is_some() {
            format!("Let the role `{role}` (`role-to-assume`)")
        } else {
            format!("Create the IAM role `{role}` (the `role-to-assume` placeholder) and let it")
        };
        let mut trust = format!(
            "{what} trust GitHub's OIDC provider `token.actions.githubusercontent.com` with \
             `aud` `sts.amazonaws.com` and `sub` {}",
            subjects.join(" or ")
        );
        if !gated.is_empty() {
            trust.push_str(&format!(
                ", and {} for the jobs with a GitHub environment (their token names the \
                 environment instead of the branch)",
                gated.join(" or ")
            ));
        }
        trust.push('.');
        if !roles.is_empty() {
            trust.push_str(&format!(
                " Give it what the builds need of the projects' service roles ({}).",
                roles
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let deploys: Vec<&Job> = self
            .plan
            .jobs
            .iter()
            .filter(|j| j.inputs.iter().any(|(k, _)| k == "function-name"))
            .collect();
        if !deploys.is_empty() {
            let has = |input: &str| {
                deploys
                    .iter()
                    .any(|j| j.inputs.iter().any(|(k, _)| k == input))
            };
            let mut calls = vec![
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:UpdateFunctionCode",
                "lambda:PublishVersion",
                "lambda:GetAlias",
                "lambda:CreateAlias",
                "lambda:UpdateAlias",
                "lambda:InvokeFunction",
            ];
            if has("alarms") {
                calls.push("cloudwatch:DescribeAlarms");
            }
            if has("sns-topic-arn") {
                calls.push("sns:Publish");
            }
            trust.push_str(&format!(
                " In the deploy {}, the action calls {} on what it names.",
                if deploys.len() == 1 { "job" } else { "jobs" },
                calls
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if self.options.repository.is_none() {
            trust.push_str(" Replace `OWNER/REPO` with the GitHub repository.");
        }
        self.plan.todos.insert(0, trust);
        self.plan.todos.push(format!(
            "Once the workflow has run, disable the old pipeline{} ({}): until then a push \
             builds and deploys twice.",
            if self.plan.pipelines.len() == 1 {
                ""
            } else {
                "s"
            },
            self.plan
                .pipelines
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    /// Where the workflow goes: the repositories the pipelines read.
    fn repository_todos(&mut self) {
        let moves: Vec<String> = self
            .imported
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter())
            .flat_map(|s| s.actions.iter())
            .filter(|a| a.action_type_id.category == "Source" && a.provider() == "CodeCommit")
            .filter_map(|a| a.config("RepositoryName").map(str::to_owned))
            .fold(Vec::new(), |mut acc, r| {
                if !acc.contains(&r) {
                    acc.push(r);
                }
                acc
            });
        let hosted: Vec<String> = self
            .imported
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter())
            .flat_map(|s| s.actions.iter())
            .filter(|a| a.action_type_id.category == "Source")
            .filter_map(|a| match a.provider() {
                "CodeStarSourceConnection" => a.config("FullRepositoryId").map(str::to_owned),
                "GitHub" => match (a.config("Owner"), a.config("Repo")) {
                    (Some(owner), Some(repo)) => Some(format!("{owner}/{repo}")),
                    _ => None,
                },
                _ => None,
            })
            .fold(Vec::new(), |mut acc, r| {
                if !acc.contains(&r) {
                    acc.push(r);
                }
                acc
            });
        for repo in hosted.iter().rev() {
            self.plan.todos.insert(
                0,
                format!(
                    "Commit `{}` to `{repo}`, the repository the pipeline read (if it is on \
                     GitHub; otherwise move it there first).",
                    self.plan.path
                ),
            );
        }
        for repo in moves.iter().rev() {
            self.plan.todos.insert(
                0,
                format!(
                    "Move the CodeCommit repository `{repo}` to GitHub with its branches \
                     (`git clone --mirror` it, then `git push --mirror` to the new repository) \
                     and commit `{}` there.",
                    self.plan.path
                ),
            );
        }
    }

    /// Pipeline features the workflow does not carry: trigger filters and variables.
    fn pipeline_todos(&mut self) {
        for pipeline in &self.imported.pipelines {
            if !pipeline.triggers.is_empty() {
                self.plan.todos.push(format!(
                    "Pipeline `{}` has {} trigger(s) with filters ({}); the workflow triggers \
                     on pushes to the source branch: copy branch, tag and path filters to `on:`.",
                    pipeline.name,
                    pipeline.triggers.len(),
                    pipeline
                        .triggers
                        .iter()
                        .map(|t| t.provider_type.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !pipeline.variables.is_empty() {
                self.plan.todos.push(format!(
                    "Pipeline `{}` declares variables ({}): make them `workflow_dispatch` \
                     inputs or repository variables.",
                    pipeline.name,
                    pipeline
                        .variables
                        .iter()
                        .map(|v| format!("`{}`", v.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }

    /// The build images, one note per image.
    fn image_notes(&mut self) {
        let mut images: Vec<(&str, Vec<&str>)> = Vec::new();
        for project in self.imported.projects.values() {
            let image = project.environment.image.as_str();
            if image.is_empty() {
                continue;
            }
            match images.iter_mut().find(|(i, _)| *i == image) {
                Some((_, projects)) => projects.push(&project.name),
                None => images.push((image, vec![&project.name])),
            }
        }
        for (image, projects) in images {
            self.plan.notes.push(format!(
                "{} built on `{image}`; the action's image is Debian with bash, python, node and \
                 the aws CLI, and `runtime-versions` is checked, not switched.",
                if projects.len() == 1 {
                    format!("Project `{}`", projects[0])
                } else {
                    format!(
                        "Projects {}",
                        projects
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
        }
    }

    /// Notification rules for pipelines that were not imported.
    fn rule_notes(&mut self) {
        for rule in &self.imported.notification_rules {
            if !self.imported.pipelines.iter().any(|p| rule_is_for(rule, p)) {
                self.plan.notes.push(format!(
                    "Notification rule `{}` is for `{}`, which is not imported; it was left out.",
                    rule.label(),
                    rule.resource.as_deref().unwrap_or("another resource")
                ));
            }
        }
    }
}

/// Whether draft `from` needs `to`, directly or through others.
fn reaches(drafts: &[Draft], from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; drafts.len()];
    while let Some(d) = stack.pop() {
        for n in &drafts[d].needs {
            if *n == to {
                return true;
            }
            if !seen[*n] {
                seen[*n] = true;
                stack.push(*n);
            }
        }
    }
    false
}

/// Draft indices with every draft after the drafts it needs.
fn topological(drafts: &[Draft]) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::new();
    while order.len() < drafts.len() {
        let next = (0..drafts.len())
            .find(|d| !order.contains(d) && drafts[*d].needs.iter().all(|n| order.contains(n)));
        match next {
            Some(d) => order.push(d),
            // Needs only point backwards or sideways, never in a cycle; keep going regardless.
            None => order.extend(
                (0..drafts.len())
                    .filter(|d| !order.contains(d))
                    .collect::<Vec<_>>(),
            ),
        }
    }
    order
}

/// The SNS topic and events of a pipeline's notification rules.
#[derive(Debug, Clone, Default)]
struct Notify {
    topic: Option<String>,
    events: Vec<&'static str>,
}

/// What a build job carries over from its project, for the report.
fn build_detail(project: &Project, draft: &Draft) -> String {
    let spec = &draft.spec;
    let mut said = vec![format!("project `{}`", project.name)];
    said.push(match &spec.buildspec {
        Some(BuildspecRef::Inline(_)) => {
            "its inline buildspec written beside the workflow".to_owned()
        }
        Some(BuildspecRef::Path(path)) => format!("`buildspec: {path}`"),
        Some(BuildspecRef::S3 { key, .. }) => format!("`buildspec: {key}` (copy it from S3)"),
        _ => "`buildspec.yml`".to_owned(),
    });
    let names = |vars: &[(String, String)]| {
        vars.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !spec.env_vars.is_empty() {
        said.push(format!("`env-vars` {}", names(&spec.env_vars)));
    }
    if !spec.parameter_store.is_empty() {
        said.push(format!(
            "`parameter-store` {} (references, fetched by the build)",
            names(&spec.parameter_store)
        ));
    }
    if !spec.secrets_manager.is_empty() {
        said.push(format!(
            "`secrets-manager` {} (references, fetched by the build)",
            names(&spec.secrets_manager)
        ));
    }
    if let Some(minutes) = spec.timeout_minutes {
        said.push(format!("`timeout: {minutes}m`"));
    }
    if project.environment.privileged_mode == Some(true) {
        said.push("privileged mode (docker) noted".to_owned());
    }
    said.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_differing_only_by_environment_share_a_template() {
        let spec = |env: &str, shared: &str| StepSpec {
            env_vars: vec![("ENV".into(), env.into()), ("X".into(), shared.into())],
            parameter_store: vec![("DB".into(), format!("/app/{env}/db"))],
            function: Some(format!("fn-{env}")),
            region: Some("eu-west-1".into()),
            ..StepSpec::default()
        };
        let (dev, prod) = (spec("dev", "devbox"), spec("prod", "devbox"));
        let common = common(&[("dev", &dev), ("prod", &prod)]).unwrap();
        assert_eq!(common.env_vars[0].1, "{environment}");
        assert_eq!(common.env_vars[1].1, "devbox", "equal values stay literal");
        assert_eq!(common.parameter_store[0].1, "/app/{environment}/db");
        assert_eq!(common.function.as_deref(), Some("fn-{environment}"));
        let other = StepSpec {
            timeout_minutes: Some(5),
            ..spec("prod", "devbox")
        };
        assert!(common_of(&dev, &other).is_none(), "a timeout differs");
        let unrelated = spec("prod", "other");
        assert!(
            common_of(&dev, &unrelated).is_none(),
            "a value differs by more than the environment"
        );
    }

    fn common_of(a: &StepSpec, b: &StepSpec) -> Option<StepSpec> {
        common(&[("dev", a), ("prod", b)])
    }

    use crate::import::model::{
        ActionTypeId, Artifact, DeploymentGroup, EnvironmentVariable, ProjectEnvironment,
        ProjectSource, Stage,
    };

    fn action(name: &str, category: &str, provider: &str, config: &[(&str, &str)]) -> Action {
        Action {
            name: name.into(),
            action_type_id: ActionTypeId {
                category: category.into(),
                owner: "AWS".into(),
                provider: provider.into(),
                version: "1".into(),
            },
            run_order: 1,
            configuration: config
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            input_artifacts: Vec::new(),
            output_artifacts: Vec::new(),
            region: None,
            commands: Vec::new(),
        }
    }

    fn project(name: &str, env: &str) -> Project {
        Project {
            name: name.into(),
            arn: None,
            source: ProjectSource {
                kind: "CODEPIPELINE".into(),
                buildspec: None,
                source_identifier: None,
            },
            environment: ProjectEnvironment {
                kind: "LINUX_CONTAINER".into(),
                image: String::new(),
                compute_type: String::new(),
                environment_variables: vec![EnvironmentVariable {
                    name: "ENV".into(),
                    value: env.into(),
                    kind: "PLAINTEXT".into(),
                }],
                privileged_mode: None,
            },
            service_role: None,
            timeout_in_minutes: None,
            secondary_sources: Vec::new(),
            vpc_config: None,
            cache: None,
        }
    }

    /// Source → Build (project `app-prod`) → Approval → Deploy (CodeDeploy of the build's
    /// output), plus a custom action.
    fn approved_deploy() -> Imported {
        let mut build = action(
            "Build",
            "Build",
            "CodeBuild",
            &[("ProjectName", "app-prod")],
        );
        build.output_artifacts = vec![Artifact { name: "Out".into() }];
        let mut deploy = action(
            "Deploy",
            "Deploy",
            "CodeDeploy",
            &[("ApplicationName", "app"), ("DeploymentGroupName", "prod")],
        );
        deploy.input_artifacts = vec![Artifact { name: "Out".into() }];
        let mut custom = action("Scan", "Test", "AcmeScanner", &[]);
        custom.action_type_id.owner = "Custom".into();
        let stage = |name: &str, actions: Vec<Action>| Stage {
            name: name.into(),
            actions,
        };
        let pipeline = Pipeline {
            name: "app".into(),
            arn: Some("arn:aws:codepipeline:eu-west-1:111122223333:app".into()),
            stages: vec![
                stage(
                    "Source",
                    vec![action(
                        "Source",
                        "Source",
                        "CodeCommit",
                        &[("RepositoryName", "app"), ("BranchName", "main")],
                    )],
                ),
                stage("Build", vec![build, custom]),
                stage(
                    "Approve",
                    vec![action("Approve", "Approval", "Manual", &[])],
                ),
                stage("Deploy", vec![deploy]),
            ],
            pipeline_type: None,
            triggers: Vec::new(),
            variables: Vec::new(),
        };
        let mut imported = Imported {
            pipelines: vec![pipeline],
            ..Imported::default()
        };
        imported
            .projects
            .insert("app-prod".into(), project("app-prod", "prod"));
        imported.deployment_groups.insert(
            ("app".into(), "prod".into()),
            DeploymentGroup {
                application_name: "app".into(),
                deployment_group_name: "prod".into(),
                deployment_config_name: Some(
                    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute".into(),
                ),
                compute_platform: Some("Lambda".into()),
                alarm_configuration: None,
                auto_rollback_configuration: None,
            },
        );
        imported
    }

    #[test]
    fn a_deploy_after_an_approval_builds_again_behind_the_environment() {
        let options = MapOptions {
            role_to_assume: Some("arn:aws:iam::111122223333:role/deployer".into()),
            ..MapOptions::default()
        };
        let plan = map(&approved_deploy(), &options).unwrap();
        let ids: Vec<&str> = plan.jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["build", "deploy"]);
        let deploy = &plan.jobs[1];
        assert!(deploy.approval, "the approval gates the deploy");
        assert_eq!(deploy.needs, ["build"]);
        let input = |job: &Job, name: &str| {
            job.inputs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            input(deploy, "traffic-shift"),
            Some(Value::Text("linear 10 1m".into()))
        );
        assert_eq!(
            input(deploy, "env-vars"),
            Some(Value::Lines(vec!["ENV=prod".into()]))
        );
        assert!(matches!(
            input(deploy, "function-name"),
            Some(Value::Placeholder(..))
        ));
        assert_eq!(
            input(&plan.jobs[0], "command"),
            Some(Value::Text("build".into()))
        );
        assert_eq!(
            input(deploy, "role-to-assume"),
            Some(Value::Text(
                "arn:aws:iam::111122223333:role/deployer".into()
            )),
            "--role-to-assume replaces the placeholder"
        );
        assert_eq!(
            input(deploy, "region"),
            Some(Value::Text("eu-west-1".into()))
        );
        let custom = plan.elements.iter().find(|e| e.action == "Scan").unwrap();
        assert!(
            custom.became.starts_with("a step for a person"),
            "{custom:?}"
        );
        assert!(plan.todos.iter().any(|t| t.contains("`AcmeScanner`")));
        assert!(
            plan.todos
                .iter()
                .any(|t| t.starts_with("Set `function-name`")),
            "{:?}",
            plan.todos
        );
        assert!(
            plan.todos
                .iter()
                .any(|t| t.contains("`repo:OWNER/REPO:environment:prod`")),
            "{:?}",
            plan.todos
        );
    }

    #[test]
    fn an_unknown_provider_is_an_error_with_a_suggestion() {
        let mut imported = approved_deploy();
        imported.pipelines[0].stages[3].actions[0]
            .action_type_id
            .provider = "CodeDepoly".into();
        let err = map(&imported, &MapOptions::default()).unwrap_err();
        assert!(err.message.contains("`CodeDepoly`"), "{err}");
        assert!(err.message.contains("did you mean `CodeDeploy`?"), "{err}");
    }
}
