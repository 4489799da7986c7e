//! Runs one buildspec command the way CodeBuild's agent does (spec §5.1): a small script per
//! command whose preamble restores the saved directory and exported variables and whose
//! epilogue saves them again, run by the selected shell in its own process group, with stdout
//! and stderr merged into one stream that is read line by line.
//! Owns: child processes and the state files. Must not: decide phase transitions.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::sync::Notify;

use crate::buildspec::model::Version;
use crate::cancel::CancelToken;

/// Longest piece of a line handed on at once; longer lines are split, never buffered whole.
pub const MAX_LINE: usize = 1024 * 1024;
/// How much of the latest output is kept for RETRY patterns and the report's log tail.
const TAIL_BYTES: usize = 64 * 1024;
/// How long a killed command's process group gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_millis(2000);
/// After a command that left a background job: how long its output may pause, and the longest
/// wait for it, before the next command starts.
const BACKGROUND_IDLE: Duration = Duration::from_millis(50);
const BACKGROUND_LIMIT: Duration = Duration::from_millis(1000);
/// After a command without one: the same, while the reader catches up with buffered output.
const DRAIN_IDLE: Duration = Duration::from_millis(1000);
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Receives each output line (without its line break).
pub type LineSink = Arc<dyn Fn(&str) + Send + Sync>;

/// A user to run commands as (`run-as`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// The result of one command.
#[derive(Debug, Clone)]
pub struct CommandResult {
    /// `None` when the command was killed by a signal.
    pub exit_code: Option<i32>,
    pub duration: Duration,
    /// Whether the run was stopped (cancel or timeout) while this command ran.
    pub stopped: bool,
}

/// The state that carries from one command to the next: cwd and exported variables.
pub struct ShellSession {
    shell: PathBuf,
    version: Version,
    state_dir: PathBuf,
    source_dir: PathBuf,
    initial_env: BTreeMap<String, String>,
    cwd: PathBuf,
    /// True once a command saved a variable snapshot; from then on scripts start from it.
    has_snapshot: bool,
    tail: Arc<Mutex<Tail>>,
    /// Process groups started so far; background jobs may still live in them.
    groups: Vec<i32>,
}

impl ShellSession {
    pub fn new(
        shell: PathBuf,
        version: Version,
        state_dir: PathBuf,
        source_dir: PathBuf,
        initial_env: BTreeMap<String, String>,
    ) -> ShellSession {
        ShellSession {
            shell,
            version,
            cwd: source_dir.clone(),
            state_dir,
            source_dir,
            initial_env,
            has_snapshot: false,
            tail: Arc::new(Mutex::new(Tail::default())),
            groups: Vec::new(),
        }
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    fn env_file(&self) -> PathBuf {
        self.state_dir.join("env.sh")
    }

    /// The latest output, up to 64 KiB, for RETRY patterns and log tails.
    pub fn output_tail(&self) -> String {
        self.tail.lock().unwrap_or_else(|e| e.into_inner()).text()
    }

    pub fn clear_tail(&self) {
        *self.tail.lock().unwrap_or_else(|e| e.into_inner()) = Tail::default();
    }

    /// Runs `command`. `succeeding` and `last_exit` become `CODEBUILD_BUILD_SUCCEEDING` and
    /// `CODEBUILD_LAST_EXIT` inside it.
    pub async fn run(
        &mut self,
        command: &str,
        succeeding: bool,
        last_exit: i32,
        run_as: Option<&RunAs>,
        sink: LineSink,
        cancel: &CancelToken,
    ) -> std::io::Result<CommandResult> {
        let started = Instant::now();
        let script = self.write_script(command, succeeding, last_exit)?;
        let (reader, writer) = nix::unistd::pipe().map_err(std::io::Error::from)?;
        let mut child = {
            let mut process = tokio::process::Command::new(&self.shell);
            process
                .arg(&script)
                .current_dir(self.start_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::from(writer.try_clone()?))
                .stderr(Stdio::from(writer))
                .process_group(0)
                .kill_on_drop(false);
            if self.version == Version::V01 || !self.has_snapshot {
                process.env_clear().envs(&self.initial_env);
            } else {
                process.env_clear();
            }
            if let Some(user) = run_as {
                process.uid(user.uid).gid(user.gid);
            }
            process.spawn()?
            // `process` drops here, closing our copies of the pipe's write end.
        };
        let pgid = child.id().map(|id| id as i32).unwrap_or_default();
        self.groups.push(pgid);
        let reading = spawn_reader(reader, sink, self.tail.clone());
        let mut stopped = false;
        let status = tokio::select! {
            status = child.wait() => status?,
            _ = cancel.stopped() => {
                stopped = true;
                // This command's group and every background job of earlier commands, at once,
                // so that the whole stop stays within one grace period.
                terminate_groups(&self.groups, Some(&mut child)).await;
                child.wait().await?
            }
        };
        let background = pgid > 0 && killpg(Pid::from_raw(pgid), None).is_ok();
        reading.settle(background).await;
        self.prune_groups();
        if !stopped {
            self.adopt_state();
        }
        Ok(CommandResult {
            exit_code: status.code(),
            duration: started.elapsed(),
            stopped,
        })
    }

    /// Evaluates shell words in the final state (after the last command), e.g. an artifact
    /// `name` or `"${IMAGE_TAG-}"`. Each expression is placed inside double quotes.
    pub async fn evaluate(&self, expressions: &[String]) -> std::io::Result<Vec<Option<String>>> {
        if expressions.is_empty() {
            return Ok(Vec::new());
        }
        let mut script = self.preamble(true, 0);
        script.push_str(&format!(
            "cd -- {}\n",
            quote(&self.source_dir.to_string_lossy())
        ));
        for expression in expressions {
            script.push_str(&format!(
                "printf '%s\\001' \"{expression}\" || printf '\\002\\001'\n"
            ));
        }
        let path = self.state_dir.join("evaluate.sh");
        fs_err::write(&path, script)?;
        let mut process = tokio::process::Command::new(&self.shell);
        process
            .arg(&path)
            .current_dir(&self.source_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if self.version == Version::V01 || !self.has_snapshot {
            process.env_clear().envs(&self.initial_env);
        } else {
            process.env_clear();
        }
        let output = process.output().await?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut values: Vec<Option<String>> = text
            .split('\u{1}')
            .map(|v| (v != "\u{2}").then(|| v.to_owned()))
            .collect();
        values.truncate(expressions.len());
        values.resize(expressions.len(), None);
        Ok(values)
    }

    /// The final value of each variable: `None` when it is unset.
    pub async fn variables(
        &self,
        names: &[String],
    ) -> std::io::Result<BTreeMap<String, Option<String>>> {
        let expressions: Vec<String> = names
            .iter()
            .map(|n| format!("${{{n}+set}}:${{{n}-}}"))
            .collect();
        let values = self.evaluate(&expressions).await?;
        Ok(names
            .iter()
            .zip(values)
            .map(|(name, value)| {
                let value = value.and_then(|v| v.strip_prefix("set:").map(str::to_owned));
                (name.clone(), value)
            })
            .collect())
    }

    /// Sends SIGTERM, then SIGKILL, to every process group this session started: background
    /// jobs included. Called when the build ends or is stopped.
    pub async fn kill_all(&mut self) {
        self.prune_groups();
        terminate_groups(&std::mem::take(&mut self.groups), None).await;
    }

    /// Forgets process groups that have no member left, so that an id the system has recycled
    /// for an unrelated process is never signalled.
    fn prune_groups(&mut self) {
        self.groups
            .retain(|pgid| *pgid > 0 && killpg(Pid::from_raw(*pgid), None).is_ok());
    }

    fn start_dir(&self) -> &Path {
        if self.cwd.is_dir() {
            &self.cwd
        } else {
            &self.source_dir
        }
    }

    fn preamble(&self, succeeding: bool, last_exit: i32) -> String {
        let restore = if self.version == Version::V02 && self.has_snapshot {
            format!("set -a; . {}\n", quote(&self.env_file().to_string_lossy()))
        } else {
            "set -a\n".to_owned()
        };
        let cwd = match self.version {
            Version::V02 => &self.cwd,
            Version::V01 => &self.source_dir,
        };
        format!(
            "{restore}cd -- {} || exit 1\nCODEBUILD_BUILD_SUCCEEDING={}; CODEBUILD_LAST_EXIT={last_exit}\n",
            quote(&cwd.to_string_lossy()),
            u8::from(succeeding)
        )
    }

    /// Lines 1–3 restore state, the command starts at line 4, the epilogue saves state.
    fn write_script(
        &self,
        command: &str,
        succeeding: bool,
        last_exit: i32,
    ) -> std::io::Result<PathBuf> {
        let env_next = self.state_dir.join("env.next");
        let dir_next = self.state_dir.join("dir.next");
        for stale in [&env_next, &dir_next] {
            let _ = std::fs::remove_file(stale);
        }
        let mut script = self.preamble(succeeding, last_exit);
        script.push_str(command);
        script.push_str(&format!(
            "\nCODEBUILD_LAST_EXIT=$?\nexport -p > {} 2>/dev/null\npwd > {} 2>/dev/null\nexit $CODEBUILD_LAST_EXIT\n",
            quote(&env_next.to_string_lossy()),
            quote(&dir_next.to_string_lossy())
        ));
        let path = self.state_dir.join("script.sh");
        fs_err::write(&path, script)?;
        Ok(path)
    }

    /// Takes the state a command saved, if it finished normally (spec E5).
    fn adopt_state(&mut self) {
        if self.version == Version::V01 {
            return;
        }
        let env_next = self.state_dir.join("env.next");
        let dir_next = self.state_dir.join("dir.next");
        let (Ok(dir), true) = (std::fs::read_to_string(&dir_next), env_next.exists()) else {
            return;
        };
        if std::fs::rename(&env_next, self.env_file()).is_ok() {
            self.has_snapshot = true;
            let dir = dir.strip_suffix('\n').unwrap_or(&dir);
            if !dir.is_empty() {
                self.cwd = PathBuf::from(dir);
            }
        }
    }
}

/// Quotes `text` for sh: `'it'\''s'`.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Sends SIGTERM to every group, gives them one shared grace period (reaping `child`, our own
/// direct child, meanwhile), then SIGKILLs what is left.
async fn terminate_groups(pgids: &[i32], child: Option<&mut tokio::process::Child>) {
    let mut groups: Vec<Pid> = pgids
        .iter()
        .filter(|pgid| **pgid > 0)
        .map(|pgid| Pid::from_raw(*pgid))
        .filter(|group| killpg(*group, Signal::SIGTERM).is_ok())
        .collect();
    let deadline = Instant::now() + KILL_GRACE;
    if let Some(child) = child {
        // Until it is reaped, our child counts as a live member of its group.
        let _ = tokio::time::timeout(KILL_GRACE, child.wait()).await;
    }
    loop {
        groups.retain(|group| killpg(*group, None).is_ok());
        if groups.is_empty() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for group in groups {
        let _ = killpg(group, Signal::SIGKILL);
    }
}

/// The last bytes of output.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
}

impl Tail {
    fn push(&mut self, line: &str) {
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        if self.bytes.len() > TAIL_BYTES * 2 {
            let cut = self.bytes.len() - TAIL_BYTES;
            self.bytes.drain(..cut);
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// A reader of one command's output pipe.
struct Reading {
    eof: Arc<(AtomicBool, Notify)>,
    progress: Arc<std::sync::atomic::AtomicU64>,
}

impl Reading {
    /// Waits until the pipe is drained: EOF, or the output goes quiet. With `background` (the
    /// command's process group still has members, so a job may hold the pipe open for ever) it
    /// only waits for output that is still arriving, and never long (spec E11): the reader keeps
    /// forwarding the job's later output. Without, EOF is due as soon as the reader catches up,
    /// so it is given time to, unless a process that left the group (`setsid`) holds the pipe.
    async fn settle(&self, background: bool) {
        let (idle, limit) = if background {
            (BACKGROUND_IDLE, BACKGROUND_LIMIT)
        } else {
            (DRAIN_IDLE, DRAIN_LIMIT)
        };
        let started = Instant::now();
        let mut seen = self.progress.load(Ordering::SeqCst);
        let mut changed = Instant::now();
        loop {
            let notified = self.eof.1.notified();
            if self.eof.0.load(Ordering::SeqCst) {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), notified).await;
            if self.eof.0.load(Ordering::SeqCst) {
                return;
            }
            let now = self.progress.load(Ordering::SeqCst);
            if now != seen {
                seen = now;
                changed = Instant::now();
            }
            if changed.elapsed() >= idle || started.elapsed() >= limit {
                return;
            }
        }
    }
}

fn spawn_reader(fd: OwnedFd, sink: LineSink, tail: Arc<Mutex<Tail>>) -> Reading {
    let eof = Arc::new((AtomicBool::new(false), Notify::new()));
    let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reading = Reading {
        eof: eof.clone(),
        progress: progress.clone(),
    };
    tokio::spawn(async move {
        let Ok(mut pipe) = tokio::net::unix::pipe::Receiver::from_owned_fd(fd) else {
            eof.0.store(true, Ordering::SeqCst);
            eof.1.notify_waiters();
            return;
        };
        let mut pending: Vec<u8> = Vec::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let emit = |bytes: &[u8]| {
            let line = String::from_utf8_lossy(bytes);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            tail.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            sink(line);
        };
        loop {
            let read = match pipe.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            pending.extend_from_slice(&buffer[..read]);
            let mut start = 0;
            while let Some(offset) = pending[start..].iter().position(|b| *b == b'\n') {
                emit(&pending[start..start + offset]);
                start += offset + 1;
            }
            pending.drain(..start);
            while pending.len() >= MAX_LINE {
                let piece: Vec<u8> = pending.drain(..MAX_LINE).collect();
                emit(&piece);
            }
            progress.fetch_add(read as u64, Ordering::SeqCst);
        }
        if !pending.is_empty() {
            emit(&pending);
        }
        eof.0.store(true, Ordering::SeqCst);
        eof.1.notify_waiters();
    });
    reading
}
