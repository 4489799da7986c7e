//! The commands: one module each (`run` also serves `build`), the only code that sequences
//! stages, and the only code that maps an outcome to an exit status (`Outcome::exit_status`).
//! `main` parses the command line, resolves `Settings` once, wires the reporters
//! (`reporters::Reporters`) and dispatches.
//! Owns: the order of stages and the exit status. Must not: parse raw inputs (that is
//! `settings`), print except through a reporter.

mod gates;
mod import;
mod package;
mod post;
mod reporters;
pub mod rollback;
pub mod run;
mod validate;

use std::time::{Instant, SystemTime};

use crate::base::report::RunStatus;
use crate::base::{ExitStatus, InputError};
use crate::cancel::{CancelToken, StopReason};
use crate::cli::{Cli, Command};
use crate::env::Env;
use crate::events::{EventBus, StageContext};
use crate::redact::Redactor;
use crate::report::files::WorkflowFiles;
use crate::report::terminal::Terminal;
use crate::settings::{Settings, ShowFormat, Workflow};
pub use reporters::Reporters;

/// How a command ended. The one place an outcome becomes an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did what it was asked (a no-op deploy included).
    Succeeded,
    /// The build, the package or the deploy failed.
    Failed,
    /// An input or the buildspec is invalid; nothing ran.
    InvalidInput,
    /// SIGINT or SIGTERM stopped the run.
    Cancelled,
}

impl Outcome {
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Outcome::Succeeded => ExitStatus::Success,
            Outcome::Failed => ExitStatus::Failure,
            Outcome::InvalidInput => ExitStatus::InvalidInput,
            Outcome::Cancelled => ExitStatus::Cancelled,
        }
    }

    /// A finished run: cancelled, an input found bad late, succeeded or failed.
    fn of_run(status: RunStatus, input_error: bool, cancel: &CancelToken) -> Outcome {
        match (status, cancel.reason()) {
            (_, Some(StopReason::Cancelled)) => Outcome::Cancelled,
            _ if input_error => Outcome::InvalidInput,
            (RunStatus::Succeeded, _) => Outcome::Succeeded,
            _ => Outcome::Failed,
        }
    }
}

/// What every command gets: its settings, the stage context and the start time.
pub struct Context {
    pub settings: Settings,
    pub stage: StageContext,
    /// The runner's files; also the redactor's mask hook.
    pub files: WorkflowFiles,
    pub started: Instant,
}

impl Context {
    /// A command's context: the runner's files wired as the redactor's mask hook.
    pub fn new(settings: Settings, stage: StageContext) -> Context {
        let files = WorkflowFiles::new(settings.workflow.clone(), stage.redactor.clone());
        mask_with(&stage.redactor, &files);
        Context {
            settings,
            stage,
            files,
            started: Instant::now(),
        }
    }
}

/// Every new secret piece is registered with the runner by `files`.
fn mask_with(redactor: &Redactor, files: &WorkflowFiles) {
    let files = files.clone();
    redactor.on_secret(std::sync::Arc::new(move |piece| files.mask(piece)));
}

/// The binary's entry point.
pub fn main() -> ExitStatus {
    let started = SystemTime::now();
    let env = Env::from_process();
    let terminal = Terminal::default();
    let cli = match Cli::parse_with_inputs(std::env::args().collect(), &env) {
        Ok(cli) => cli,
        Err(err) => {
            let text = err.render().to_string();
            let text = text.trim_end();
            return if err.use_stderr() {
                terminal.err(text);
                ExitStatus::InvalidInput
            } else {
                terminal.out(text);
                ExitStatus::Success
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            terminal.err(&format!("error: cannot start the async runtime: {err}"));
            return ExitStatus::Failure;
        }
    };
    let status = runtime.block_on(run(cli, env.clone()));
    for warning in crate::workspace_owner::restore(&env, started) {
        terminal.err(&format!("warning: {warning}"));
    }
    // Background work (a detached output reader) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    status
}

/// Resolves the settings, then runs the command. Library callers (tests) start here.
pub async fn run(cli: Cli, env: Env) -> ExitStatus {
    let stage = StageContext {
        bus: EventBus::new(),
        redactor: Redactor::new(),
        cancel: CancelToken::new(),
    };
    let terminal = Terminal::new(stage.redactor.clone());
    // Masks first: every secret the run learns is registered with the runner before any text
    // could carry it.
    let files = WorkflowFiles::new(Workflow::resolve(&env), stage.redactor.clone());
    mask_with(&stage.redactor, &files);
    register_credentials(&cli, &env, &stage.redactor);
    let show = match cli.show_settings.as_deref().map(ShowFormat::parse) {
        Some(Ok(format)) => Some(format),
        Some(Err(err)) => return input_failure(&terminal, &err),
        None => None,
    };
    let settings = match Settings::resolve(&cli, &env) {
        Ok(settings) => settings,
        Err(err) => return input_failure(&terminal, &err),
    };
    if let Some(format) = show {
        terminal.out(settings.show(format).trim_end());
        return ExitStatus::Success;
    }
    stage.cancel.listen_for_signals();
    let context = Context::new(settings, stage);
    let outcome = match &context.settings.command {
        Command::Validate => validate::run(&context),
        Command::Run | Command::Build => run::run(&context).await,
        Command::Package => package::run(&context).await,
        Command::Post => post::run(&context).await,
        Command::Rollback => rollback::run(&context).await,
        Command::Import(_) => import::run(&context).await,
    };
    outcome.exit_status()
}

/// An input error: said once on stderr; exit 2.
fn input_failure(terminal: &Terminal, err: &InputError) -> ExitStatus {
    terminal.err(&format!("error: {err}"));
    Outcome::InvalidInput.exit_status()
}

/// Registers the credentials we hold with the redactor (its hook masks them in a job).
fn register_credentials(cli: &Cli, env: &Env, redactor: &Redactor) {
    let mut secrets: Vec<String> = Vec::new();
    secrets.extend(cli.inputs.github_token.clone());
    for name in [
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
    ] {
        secrets.extend(env.get(name).map(str::to_owned));
    }
    if let Some(key_id) = env.get("AWS_ACCESS_KEY_ID").filter(|k| k.len() >= 16) {
        secrets.push(key_id.to_owned());
    }
    for secret in secrets {
        redactor.add(&secret);
    }
}
