//! What `run` decides around the build besides building: a pull request's preview that closes
//! (clean up instead of building) or comes from a fork (build and deploy nothing), `paths` with
//! no matching change since the commit the alias serves (skip the build and the deploy), and
//! after a preview deploys, its function URL. The work is the stages' (`deploy::preview`,
//! `deploy::served`, `changes`); the order, and what each answer means for the run, are here.
//! Must not: parse inputs, print except through the reporters.

use super::reporters::Reporters;
use super::{Context, Outcome};
use crate::base::Level;
use crate::base::report::{DeployEntry, RunReport, RunStatus, SkipReport, Warning};
use crate::build::environment::BuildIdentity;
use crate::changes::{self, Comparison};
use crate::deploy;
use crate::settings::preview::PreviewAction;

/// Before anything is read: a preview whose pull request closed is removed, and one from a
/// fork does nothing. `None`: build as usual.
pub async fn pull_request(context: &Context) -> Option<Outcome> {
    let settings = &context.settings;
    let plan = &settings.deploy;
    let preview = plan.preview.as_ref()?;
    let (skipped, remove) = match &preview.action {
        PreviewAction::Deploy => return None,
        PreviewAction::Fork { head } => (
            SkipReport {
                title: "No preview: the pull request comes from a fork".to_owned(),
                detail: format!(
                    "The head of #{} is in `{head}`. A fork's pull request runs with a read-only token and without secrets, so nothing was built or deployed. To preview it, push the branch to this repository.",
                    preview.number
                ),
            },
            false,
        ),
        PreviewAction::Close => (
            SkipReport {
                title: format!("Preview `{}` removed", preview.alias),
                detail: format!(
                    "#{} was {}: its alias `{}`, its function URL and the versions only it used are deleted; nothing was built.",
                    preview.number,
                    if preview.merged { "merged" } else { "closed" },
                    preview.alias
                ),
            },
            true,
        ),
    };
    let reporters = Reporters::new(context);
    reporters.start(Some(&plan.environment)).await;
    let mut report = new_report(context);
    context.stage.bus.log(
        if remove { Level::Info } else { Level::Notice },
        format!("{}: {}", skipped.title, skipped.detail),
    );
    report.skipped = Some(skipped);
    if remove && plan.dry_run {
        report.notes.push(format!(
            "dry run: alias `{}`, its function URL and the versions only it used would be deleted; nothing changed",
            preview.alias
        ));
    } else if remove {
        let removed = deploy::preview::close(&context.stage, &settings.env, plan, preview).await;
        let problems: Vec<String> = removed
            .functions
            .iter()
            .filter_map(|f| {
                f.error
                    .as_ref()
                    .map(|e| format!("`{}`: {e}", f.function_name))
            })
            .collect();
        if !problems.is_empty() {
            report.status = RunStatus::Failed;
            report.error = Some(format!(
                "the preview of #{} was not entirely removed: {}",
                preview.number,
                problems.join("; ")
            ));
        }
        report.preview = Some(removed);
    }
    if let Some(error) = &report.error {
        reporters.terminal.err(&format!("error: {error}"));
    }
    report.duration_ms = context.started.elapsed().as_millis() as u64;
    reporters.finish(&mut report, true).await;
    Some(Outcome::of_run(
        report.status,
        report.input_error,
        &context.stage.cancel,
    ))
}

fn new_report(context: &Context) -> RunReport {
    let settings = &context.settings;
    let identity = BuildIdentity::new(&settings.env, settings.region.as_deref().unwrap_or(""));
    let mut report = RunReport::new(settings.command.name(), &identity.build_id);
    report.commit = identity.commit;
    report.run_url = identity.run_url;
    report.environment = Some(settings.deploy.environment.clone());
    report
}

/// `paths`: reads the commit each alias serves and what changed since. When no change matches
/// for any function, fills `report` (each function unchanged, `deployed=false`) and returns
/// true: nothing is built or deployed. A commit missing from the clone (a shallow checkout),
/// or no recorded commit, builds as usual, and says why.
pub async fn unchanged(context: &Context, report: &mut RunReport) -> bool {
    let settings = &context.settings;
    let plan = &settings.deploy;
    let Some(paths) = plan.paths.as_ref().filter(|_| !plan.is_empty()) else {
        return false;
    };
    let bus = &context.stage.bus;
    if plan.force {
        bus.log(Level::Info, "force: `paths` is not compared");
        return false;
    }
    let served = deploy::served::read(&context.stage, &settings.env, plan).await;
    // A pull request builds its test merge commit, which is what the checkout holds; a
    // preview's alias records the head it was built from, an ancestor of the next head, so
    // the diff can only be wider than the pull request's own changes, never narrower.
    let new = match (&plan.preview, settings.workflow.commit.as_deref()) {
        (None, Some(commit)) => commit,
        _ => "HEAD",
    };
    let mut unchanged = Vec::new();
    for (target, served) in plan.targets.iter().zip(served) {
        let why_build = match served {
            Err(err) => format!("its alias could not be read ({err})"),
            Ok(None) => format!("alias `{}` does not exist yet", target.alias),
            Ok(Some(served)) => match served.commit.clone() {
                None => format!(
                    "alias `{}` records no commit (it was not moved by lambda-pipeline)",
                    served.alias
                ),
                Some(commit) => {
                    let dir = settings.build.source_dir.clone();
                    let comparison =
                        tokio::task::block_in_place(|| changes::compare(&dir, &commit, new, paths));
                    match comparison {
                        Comparison::Unchanged { changed } => {
                            bus.log(
                                Level::Info,
                                format!(
                                    "`{}`: {changed} file(s) changed since commit {commit}, none under `paths`",
                                    target.name
                                ),
                            );
                            unchanged.push((served, commit));
                            continue;
                        }
                        Comparison::Changed { matched, count } => format!(
                            "{count} changed file(s) match `paths` since commit {commit}: {}",
                            matched.join(", ")
                        ),
                        Comparison::Missing { shallow } => {
                            let message = if shallow {
                                format!(
                                    "`{}`: alias `{}` serves commit {commit}, which this shallow clone does not have; check out with `fetch-depth: 0` (actions/checkout) so that `paths` can compare. Building as usual",
                                    target.name, served.alias
                                )
                            } else {
                                format!(
                                    "`{}`: alias `{}` serves commit {commit}, which this repository does not have (rewritten history?). Building as usual",
                                    target.name, served.alias
                                )
                            };
                            warn(context, report, message);
                            return false;
                        }
                        Comparison::Failed(err) => {
                            warn(
                                context,
                                report,
                                format!("`paths` could not be compared: {err}. Building as usual"),
                            );
                            return false;
                        }
                    }
                }
            },
        };
        bus.log(
            Level::Info,
            format!("`{}`: building: {why_build}", target.name),
        );
        return false;
    }
    let links: Vec<String> = unchanged
        .iter()
        .map(|(_, commit)| commit_link(context, commit))
        .collect();
    let mut distinct = links.clone();
    distinct.sort();
    distinct.dedup();
    let title = match unchanged.first() {
        Some((_, commit)) if distinct.len() == 1 => format!("Unchanged since {commit}"),
        _ => "Unchanged since the deployed commits".to_owned(),
    };
    let serving: Vec<String> = unchanged
        .iter()
        .zip(&links)
        .map(|((served, _), link)| {
            format!(
                "alias `{}` of `{}` serves version {} (deployed from {link})",
                served.alias, served.function, served.version
            )
        })
        .collect();
    let patterns: Vec<String> = paths.patterns().iter().map(|p| format!("`{p}`")).collect();
    let detail = format!(
        "No file changed since {} matches `paths` ({}), so nothing was built or deployed: {}.",
        distinct.join(", "),
        patterns.join(", "),
        serving.join("; ")
    );
    bus.log(
        Level::Notice,
        format!("{title}: nothing to build or deploy"),
    );
    report.deploy = unchanged
        .into_iter()
        .map(|(served, _)| DeployEntry {
            function_name: served.function,
            function_arn: served.function_arn,
            environment: plan.environment.clone(),
            region: served.region,
            alias: served.alias,
            alias_arn: served.alias_arn,
            version: served.version.clone(),
            previous_version: served.version,
            deployed: false,
            upload: "none".to_owned(),
            ..DeployEntry::default()
        })
        .collect();
    report.skipped = Some(SkipReport { title, detail });
    // A preview that exists keeps showing where it is (its comment is rewritten).
    if let Some(preview) = &plan.preview
        && report.deploy.iter().all(|e| e.alias == preview.alias)
    {
        preview_deployed(context, report).await;
    }
    true
}

/// `[`abc123456789`](<server>/<repo>/commit/abc123456789)`, or the plain commit outside
/// Actions.
fn commit_link(context: &Context, commit: &str) -> String {
    let env = &context.settings.env;
    match env.get("GITHUB_REPOSITORY") {
        Some(repository) => format!(
            "[`{commit}`]({}/{repository}/commit/{commit})",
            env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com")
        ),
        None => format!("`{commit}`"),
    }
}

fn warn(context: &Context, report: &mut RunReport, message: String) {
    context.stage.bus.log(Level::Warning, message.clone());
    report.warnings.push(Warning {
        message,
        position: None,
    });
}

/// After a preview deploy that succeeded: its function URL, and what the check run, the job
/// summary and the pull request comment show.
pub async fn preview_deployed(context: &Context, report: &mut RunReport) {
    let settings = &context.settings;
    let Some(preview) = &settings.deploy.preview else {
        return;
    };
    if report.status != RunStatus::Succeeded || report.deploy.is_empty() || settings.deploy.dry_run
    {
        return;
    }
    let exposed = deploy::preview::expose(
        &context.stage,
        &settings.env,
        &settings.deploy,
        preview,
        &report.deploy,
    )
    .await;
    for function in &exposed.functions {
        if let Some(error) = &function.error {
            report.warnings.push(Warning {
                message: format!("`{}`: {error}", function.function_name),
                position: None,
            });
        }
    }
    report.preview = Some(exposed);
}
