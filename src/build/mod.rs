//! Runs buildspec phases in CodeBuild order (spec §5–§6): INSTALL, PRE_BUILD, BUILD,
//! POST_BUILD, then UPLOAD_ARTIFACTS; `commands` then `finally` in each phase; `on-failure`
//! (ABORT, CONTINUE, RETRY forms) and the default transitions of table 6.1.
//! Owns: phase transitions, the shell session, exported variables. Must not: call GitHub,
//! print (it emits events), or deploy.

pub mod docker;
pub mod environment;
pub mod hints;
pub mod prepare;
pub mod provision;
pub mod runtimes;
pub mod secrets;
pub mod shell;
pub mod test_reports;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::base::report::{ArtifactsReport, CommandReport, PhaseReport, PhaseStatus, RunStatus};
use crate::base::{Block, Level, Phase, Position};
use crate::buildspec::Buildspec;
use crate::buildspec::model::{Command, OnFailure, PhaseSpec};
use crate::cancel::{CancelToken, StopReason};
use crate::events::{Event, EventBus};
use crate::package::{self, ArtifactRequest, PackageOptions};
use crate::redact::Redactor;
use shell::{LineSink, RunAs, ShellSession};

/// Lines of a phase's output kept for the report's log tail.
const LOG_TAIL_LINES: usize = 60;

/// Everything the build needs, resolved before INSTALL.
pub struct BuildContext<'a> {
    pub spec: &'a Buildspec,
    pub source_dir: PathBuf,
    /// The starting environment (spec §7.1), secrets included.
    pub env: BTreeMap<String, String>,
    /// The shell that runs commands, as an absolute path.
    pub shell: PathBuf,
    /// A private directory for scripts and state files.
    pub state_dir: PathBuf,
    /// Runtime selection commands that run first in INSTALL.
    pub runtime_commands: Vec<String>,
    /// Packaging, when the buildspec has artifacts and they are wanted.
    pub package: Option<PackageOptions>,
    pub bus: EventBus,
    pub redactor: Redactor,
    pub cancel: CancelToken,
}

/// What the build did.
#[derive(Debug)]
pub struct BuildOutcome {
    pub status: RunStatus,
    pub phases: Vec<PhaseReport>,
    pub exported_variables: BTreeMap<String, String>,
    pub artifacts: Option<ArtifactsReport>,
    pub failed_phase: Option<Phase>,
    /// The failing command, for annotations.
    pub error_position: Option<Position>,
    /// CodeBuild's phase context of the first failure.
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

/// Where the state machine goes after a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Continue,
    /// Skip the remaining command phases, then upload artifacts.
    SkipToUpload,
    /// Skip everything that is left, artifacts included.
    Finish,
}

pub async fn run(ctx: BuildContext<'_>) -> std::io::Result<BuildOutcome> {
    let users = resolve_users(ctx.spec)?;
    let mut session = ShellSession::new(
        ctx.shell.clone(),
        ctx.spec.version,
        ctx.state_dir.clone(),
        ctx.source_dir.clone(),
        ctx.env.clone(),
    );
    let mut outcome = BuildOutcome {
        status: RunStatus::Succeeded,
        phases: Vec::new(),
        exported_variables: BTreeMap::new(),
        artifacts: None,
        failed_phase: None,
        error_position: None,
        error: None,
        warnings: Vec::new(),
    };
    announce(&ctx);
    let mut runner = PhaseRunner {
        ctx: &ctx,
        session: &mut session,
        succeeding: true,
        last_exit: 0,
        docker_checked: false,
        hinted: None,
    };
    let mut next = Next::Continue;
    for phase in Phase::COMMAND_PHASES {
        if next != Next::Continue || ctx.cancel.is_stopped() {
            outcome.phases.push(skipped(phase));
            continue;
        }
        let spec = ctx.spec.phase(phase);
        let run_as = users.get(&phase).cloned().flatten();
        let report = runner.run_phase(phase, spec, run_as.as_ref()).await?;
        if report.status != PhaseStatus::Succeeded {
            runner.succeeding = false;
            record_failure(&mut outcome, &report, ctx.spec);
            next = transition(
                phase,
                spec.and_then(|s| s.on_failure.as_ref()).map(|o| &o.value),
                report.status,
            );
        }
        outcome.phases.push(report);
    }
    let wants_upload = ctx.spec.artifacts.is_some() && ctx.package.is_some();
    if wants_upload {
        if next == Next::Finish || ctx.cancel.is_stopped() {
            outcome.phases.push(skipped(Phase::UploadArtifacts));
        } else {
            let report = upload_artifacts(&ctx, runner.session, &mut outcome).await;
            if report.status != PhaseStatus::Succeeded {
                record_failure(&mut outcome, &report, ctx.spec);
            }
            outcome.phases.push(report);
        }
    }
    if let Some(hint) = runner.hinted.take() {
        outcome.warnings.push(hint);
    }
    outcome.exported_variables = exported(&ctx, &session, &mut outcome.warnings).await;
    session.kill_all().await;
    outcome.status = final_status(&outcome.phases, ctx.cancel.reason());
    Ok(outcome)
}

/// Table 6.1 and §6.3: where to go after `phase` ended `status` (not SUCCEEDED).
fn transition(phase: Phase, on_failure: Option<&OnFailure>, status: PhaseStatus) -> Next {
    if matches!(status, PhaseStatus::TimedOut | PhaseStatus::Stopped) {
        return Next::Finish;
    }
    match on_failure {
        Some(OnFailure::Abort) => Next::Finish,
        Some(OnFailure::Continue) => Next::Continue,
        _ => match phase {
            Phase::Install | Phase::PreBuild => Next::Finish,
            Phase::Build => Next::Continue,
            _ => Next::SkipToUpload,
        },
    }
}

fn final_status(phases: &[PhaseReport], stop: Option<StopReason>) -> RunStatus {
    match stop {
        Some(StopReason::Cancelled) => RunStatus::Stopped,
        Some(StopReason::TimedOut) => RunStatus::TimedOut,
        None if phases
            .iter()
            .all(|p| matches!(p.status, PhaseStatus::Succeeded | PhaseStatus::Skipped)) =>
        {
            RunStatus::Succeeded
        }
        None => RunStatus::Failed,
    }
}

fn skipped(phase: Phase) -> PhaseReport {
    PhaseReport {
        name: phase,
        status: PhaseStatus::Skipped,
        duration_ms: 0,
        commands: Vec::new(),
        context: None,
        log_tail: Vec::new(),
    }
}

fn record_failure(outcome: &mut BuildOutcome, report: &PhaseReport, spec: &Buildspec) {
    if outcome.failed_phase.is_some() {
        return;
    }
    outcome.failed_phase = Some(report.name);
    outcome.error = report.context.clone();
    outcome.error_position = report
        .commands
        .iter()
        .rev()
        .find(|c| c.exit_code != Some(0))
        .map(|c| Position {
            file: spec.file.clone(),
            line: c.line,
            column: 1,
        });
}

/// CodeBuild's opening lines: how many commands each declared phase has.
fn announce(ctx: &BuildContext<'_>) {
    let declared: Vec<(Phase, usize)> = ctx
        .spec
        .phases
        .iter()
        .map(|p| (p.phase, p.commands.len() + p.finally.len()))
        .collect();
    ctx.bus.emit(Event::BuildStarted {
        build_id: ctx
            .env
            .get("CODEBUILD_BUILD_ID")
            .cloned()
            .unwrap_or_default(),
        declared,
    });
}

/// Looks up every `run-as` user before anything runs.
/// Checks every `run-as` user before the build starts (DOWNLOAD_SOURCE), so that a missing user
/// fails the build with its name before any phase runs.
pub fn check_run_as(spec: &Buildspec) -> Result<(), String> {
    resolve_users(spec)
        .map(|_| ())
        .map_err(|err| format!("error: {err}"))
}

fn resolve_users(spec: &Buildspec) -> std::io::Result<BTreeMap<Phase, Option<RunAs>>> {
    let mut users = BTreeMap::new();
    for phase in Phase::COMMAND_PHASES {
        let name = spec
            .phase(phase)
            .and_then(|p| p.run_as.as_ref())
            .or(spec.run_as.as_ref())
            .map(|n| n.value.clone());
        let user = match name {
            Some(name) => Some(lookup_user(&name)?),
            None => None,
        };
        users.insert(phase, user);
    }
    Ok(users)
}

fn lookup_user(name: &str) -> std::io::Result<RunAs> {
    let user = nix::unistd::User::from_name(name)
        .map_err(std::io::Error::from)?
        .ok_or_else(|| {
            std::io::Error::other(format!("run-as user `{name}` does not exist in this image"))
        })?;
    let current = nix::unistd::geteuid();
    if !current.is_root() && current != user.uid {
        return Err(std::io::Error::other(format!(
            "run-as `{name}` needs the build to run as root; it runs as uid {current}"
        )));
    }
    Ok(RunAs {
        name: name.to_owned(),
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

struct PhaseRunner<'a, 'b> {
    ctx: &'a BuildContext<'b>,
    session: &'a mut ShellSession,
    succeeding: bool,
    last_exit: i32,
    /// Whether the missing-daemon message was looked at already: it is said once.
    docker_checked: bool,
    /// The hint for the first command that exited 127: said once.
    hinted: Option<String>,
}

/// How one attempt at a phase ended.
struct Attempt {
    failed: bool,
    context: Option<String>,
    commands: Vec<CommandReport>,
}

impl PhaseRunner<'_, '_> {
    async fn run_phase(
        &mut self,
        phase: Phase,
        spec: Option<&PhaseSpec>,
        run_as: Option<&RunAs>,
    ) -> std::io::Result<PhaseReport> {
        let started = Instant::now();
        let bus = &self.ctx.bus;
        bus.emit(Event::PhaseStarted { phase });
        let (mut commands, mut finally) = (Vec::new(), Vec::new());
        if let Some(spec) = spec {
            commands = spec.commands.clone();
            finally = spec.finally.clone();
        }
        if phase == Phase::Install {
            let runtime: Vec<Command> = self
                .ctx
                .runtime_commands
                .iter()
                .map(|text| Command {
                    text: text.clone(),
                    line: 0,
                    column: 0,
                })
                .collect();
            commands.splice(0..0, runtime);
        }
        let (retries, pattern) = match spec.and_then(|s| s.on_failure.as_ref()).map(|o| &o.value) {
            Some(OnFailure::Retry { count, pattern }) => (*count, pattern.clone()),
            _ => (0, None),
        };
        let mut all_commands = Vec::new();
        let mut attempt_number = 0;
        let attempt = loop {
            self.session.clear_tail();
            let attempt = self.attempt(phase, &commands, &finally, run_as).await?;
            all_commands.extend(attempt.commands.iter().cloned());
            let can_retry =
                attempt.failed && attempt_number < retries && !self.ctx.cancel.is_stopped();
            let matched = can_retry
                && retry_matches(
                    pattern.as_deref(),
                    &self.session.output_tail(),
                    attempt.context.as_deref(),
                );
            if !matched {
                break attempt;
            }
            attempt_number += 1;
            bus.log(
                Level::Info,
                format!(
                    "Phase {} failed; retrying ({attempt_number} of {retries})",
                    phase.name()
                ),
            );
        };
        let status = match (attempt.failed, self.ctx.cancel.reason()) {
            (_, Some(StopReason::Cancelled)) => PhaseStatus::Stopped,
            (_, Some(StopReason::TimedOut)) => PhaseStatus::TimedOut,
            (true, None) => PhaseStatus::Failed,
            (false, None) => PhaseStatus::Succeeded,
        };
        let duration = started.elapsed();
        let context = match status {
            PhaseStatus::TimedOut => Some("BUILD_TIMED_OUT: Build timed out".to_owned()),
            PhaseStatus::Stopped => Some("BUILD_STOPPED: Build was stopped".to_owned()),
            _ => attempt.context,
        };
        bus.emit(Event::PhaseFinished {
            phase,
            status,
            duration,
            context: context.clone(),
        });
        Ok(PhaseReport {
            name: phase,
            status,
            duration_ms: duration.as_millis() as u64,
            commands: all_commands,
            context,
            log_tail: self.log_tail(),
        })
    }

    /// Runs `commands` (stopping at the first failure), then `finally` (same rule).
    async fn attempt(
        &mut self,
        phase: Phase,
        commands: &[Command],
        finally: &[Command],
        run_as: Option<&RunAs>,
    ) -> std::io::Result<Attempt> {
        let mut attempt = Attempt {
            failed: false,
            context: None,
            commands: Vec::new(),
        };
        for (block, list) in [(Block::Commands, commands), (Block::Finally, finally)] {
            for command in list {
                if self.ctx.cancel.is_stopped() {
                    return Ok(Attempt {
                        failed: true,
                        ..attempt
                    });
                }
                let report = self
                    .command(phase, block, command, !attempt.failed, run_as)
                    .await?;
                let failed = report.exit_code != Some(0);
                attempt.commands.push(report.clone());
                if failed {
                    if !attempt.failed {
                        attempt.context = Some(failure_context(&command.text, report.exit_code));
                    }
                    attempt.failed = true;
                    break;
                }
            }
        }
        Ok(attempt)
    }

    async fn command(
        &mut self,
        phase: Phase,
        block: Block,
        command: &Command,
        attempt_ok: bool,
        run_as: Option<&RunAs>,
    ) -> std::io::Result<CommandReport> {
        let ctx = self.ctx;
        ctx.bus.emit(Event::CommandStarted {
            phase,
            block,
            command: command.text.clone(),
            line: command.line,
        });
        if !self.docker_checked && docker::mentions_docker(&command.text) {
            self.docker_checked = true;
            if let Some(message) = docker::missing_daemon(&|name| ctx.env.get(name).cloned()) {
                ctx.bus.log(Level::Error, message);
            }
        }
        let sink = output_sink(&ctx.bus, &ctx.redactor, phase);
        let succeeding = self.succeeding && attempt_ok;
        let result = self
            .session
            .run(
                &command.text,
                succeeding,
                self.last_exit,
                run_as,
                sink,
                &ctx.cancel,
            )
            .await?;
        if let Some(code) = result.exit_code {
            self.last_exit = code;
        }
        if result.exit_code == Some(127)
            && self.hinted.is_none()
            && let Some(tool) = hints::missing_tool(&self.session.output_tail())
        {
            let hint = hints::hint(&tool);
            ctx.bus.log(Level::Warning, hint.clone());
            self.hinted = Some(hint);
        }
        let exit_code = if result.stopped {
            None
        } else {
            result.exit_code
        };
        ctx.bus.emit(Event::CommandFinished {
            phase,
            block,
            command: command.text.clone(),
            line: command.line,
            exit_code,
            duration: result.duration,
        });
        Ok(CommandReport {
            command: command.text.clone(),
            line: command.line,
            exit_code,
            block,
            duration_ms: result.duration.as_millis() as u64,
        })
    }

    /// The last lines of this phase's output, redacted.
    fn log_tail(&self) -> Vec<String> {
        let tail = self
            .ctx
            .redactor
            .redact(&self.session.output_tail())
            .into_owned();
        let lines: Vec<String> = tail.lines().map(str::to_owned).collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].to_vec()
    }
}

/// `Error while executing command: <command>. Reason: exit status <N>`.
fn failure_context(command: &str, exit_code: Option<i32>) -> String {
    let reason = match exit_code {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_owned(),
    };
    format!("COMMAND_EXECUTION_ERROR: Error while executing command: {command}. Reason: {reason}")
}

/// RETRY patterns match the failed attempt's output and its context message (spec §6.3).
fn retry_matches(pattern: Option<&str>, output: &str, context: Option<&str>) -> bool {
    let Some(pattern) = pattern else { return true };
    let Ok(regex) = regex::Regex::new(pattern) else {
        return false;
    };
    regex.is_match(output) || context.is_some_and(|c| regex.is_match(c))
}

fn output_sink(bus: &EventBus, redactor: &Redactor, phase: Phase) -> LineSink {
    let bus = bus.clone();
    let redactor = redactor.clone();
    Arc::new(move |line: &str| {
        bus.emit(Event::Output {
            phase,
            text: redactor.redact(line).into_owned(),
        });
    })
}

/// UPLOAD_ARTIFACTS: evaluates names and base directories in the final shell state, then packages.
async fn upload_artifacts(
    ctx: &BuildContext<'_>,
    session: &ShellSession,
    outcome: &mut BuildOutcome,
) -> PhaseReport {
    let started = Instant::now();
    ctx.bus.emit(Event::PhaseStarted {
        phase: Phase::UploadArtifacts,
    });
    let result = match artifact_requests(ctx, session).await {
        Ok(requests) => {
            let options = ctx
                .package
                .clone()
                .expect("upload only runs with package options");
            let bus = ctx.bus.clone();
            let log = move |level: Level, message: String| bus.log(level, message);
            tokio::task::block_in_place(|| package::collect(&requests, &options, &log))
                .map_err(|e| e.to_string())
        }
        Err(err) => Err(format!("CLIENT_ERROR: {err}")),
    };
    let (status, context) = match result {
        Ok(artifacts) => {
            for artifact in artifacts.primary.iter().chain(&artifacts.secondary) {
                ctx.bus.emit(Event::Packaged {
                    artifact: artifact.clone(),
                });
            }
            outcome.artifacts = Some(artifacts);
            (PhaseStatus::Succeeded, None)
        }
        Err(message) => (PhaseStatus::Failed, Some(message)),
    };
    let duration = started.elapsed();
    ctx.bus.emit(Event::PhaseFinished {
        phase: Phase::UploadArtifacts,
        status,
        duration,
        context: context.clone(),
    });
    PhaseReport {
        name: Phase::UploadArtifacts,
        status,
        duration_ms: duration.as_millis() as u64,
        commands: Vec::new(),
        context,
        log_tail: Vec::new(),
    }
}

async fn artifact_requests(
    ctx: &BuildContext<'_>,
    session: &ShellSession,
) -> std::io::Result<Vec<ArtifactRequest>> {
    let definitions = package::requests::definitions(ctx.spec);
    let per_definition: Vec<Vec<String>> = definitions
        .iter()
        .map(|(_, spec)| package::requests::expressions(spec))
        .collect();
    let values = session.evaluate(&per_definition.concat()).await?;
    let mut values = values.as_slice();
    let mut requests = Vec::new();
    for ((identifier, spec), expressions) in definitions.into_iter().zip(&per_definition) {
        let (own, rest) = values.split_at(expressions.len().min(values.len()));
        values = rest;
        requests.push(package::requests::request(identifier, spec, own));
    }
    Ok(requests)
}

/// `env.exported-variables`, from the state after the last command (spec §7.6).
async fn exported(
    ctx: &BuildContext<'_>,
    session: &ShellSession,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let names: Vec<String> = ctx
        .spec
        .env
        .exported_variables
        .iter()
        .map(|n| n.value.clone())
        .collect();
    let values = session.variables(&names).await.unwrap_or_default();
    let mut exported = BTreeMap::new();
    for name in names {
        let value = match values.get(&name).cloned().flatten() {
            Some(value) => value,
            None => {
                let message = format!(
                    "exported variable `{name}` is not set at the end of the build; it is exported empty"
                );
                ctx.bus.log(Level::Warning, message.clone());
                warnings.push(message);
                String::new()
            }
        };
        exported.insert(name, value);
    }
    exported
}
