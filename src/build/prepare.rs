//! DOWNLOAD_SOURCE: what a build needs before INSTALL, resolved from its settings. The starting
//! environment (inherited, CodeBuild's variables, the buildspec's, Parameter Store and Secrets
//! Manager values, `env-vars`, `LAMBDA_PIPELINE_ENVIRONMENT`), the shell, the runtime
//! selection, and the build's private state directory.
//! Owns: that preparation. Must not: run a phase, print.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::environment::{self, BuildIdentity};
use super::{docker, runtimes, secrets};
use crate::buildspec::Buildspec;
use crate::buildspec::model::Shell;
use crate::env::Env;
use crate::redact::Redactor;
use crate::settings::BuildSettings;

/// What DOWNLOAD_SOURCE resolved.
#[derive(Debug)]
pub struct Prepared {
    pub env: BTreeMap<String, String>,
    pub shell: PathBuf,
    pub runtime_commands: Vec<String>,
    /// What was selected (`runtime-versions`), one line each, for the log.
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Resolves the build's environment, shell and runtimes. `Err` fails the build before INSTALL
/// with a message for people. Secret values are added to `redactor`.
pub async fn prepare(
    spec: &Buildspec,
    settings: &BuildSettings,
    process_env: &Env,
    identity: &BuildIdentity,
    redactor: &Redactor,
) -> Result<Prepared, String> {
    super::check_run_as(spec)?;
    let mut env = environment::inherited(process_env);
    env.extend(environment::builtin_variables(
        process_env,
        identity,
        &settings.source_dir,
    ));
    let host_workspace =
        docker::host_workspace(&|name| env.get(name).cloned(), &settings.source_dir);
    env.insert(docker::HOST_WORKSPACE.to_owned(), host_workspace);
    env.extend(spec.variables());
    if !spec.env.parameter_store.is_empty() || !spec.env.secrets_manager.is_empty() {
        let config =
            crate::aws::sdk_config(process_env, Some(&identity.region), None, redactor).await;
        let values = secrets::resolve(spec, &config).await.map_err(|e| e.0)?;
        for (_, value) in &values {
            redactor.add(value);
        }
        env.extend(values);
    }
    env.extend(settings.env_vars.iter().cloned());
    if let Some(environment) = &settings.environment {
        env.insert(
            "LAMBDA_PIPELINE_ENVIRONMENT".to_owned(),
            environment.clone(),
        );
    }
    let shell = resolve_shell(spec)?;
    let plan = runtimes::plan(spec, &env, settings).await?;
    if !plan.path.is_empty() {
        let mut path: Vec<PathBuf> = plan.path.clone();
        let current = env.get("PATH").cloned().unwrap_or_default();
        path.extend(std::env::split_paths(&current));
        let joined =
            std::env::join_paths(path).map_err(|e| format!("error: cannot set PATH: {e}"))?;
        env.insert("PATH".to_owned(), joined.to_string_lossy().into_owned());
    }
    Ok(Prepared {
        env,
        shell,
        runtime_commands: plan.commands,
        notes: plan.notes,
        warnings: plan.warnings,
    })
}

fn resolve_shell(spec: &Buildspec) -> Result<PathBuf, String> {
    let name = match spec.env.shell.as_ref().map(|s| &s.value) {
        None | Some(Shell::Sh) => "sh".to_owned(),
        Some(Shell::Bash) => "bash".to_owned(),
        Some(Shell::Path(path)) => return Ok(PathBuf::from(path)),
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "error: the shell `{name}` selected by env.shell is not installed in this image"
            )
        })
}

/// Where scripts, state files and zips live for one build: `<state_dir>/<uuid>/`.
#[derive(Debug)]
pub struct StateDir {
    pub run: PathBuf,
    pub scripts: PathBuf,
    pub artifacts: PathBuf,
}

impl StateDir {
    pub fn create(settings: &BuildSettings, build_id: &str) -> std::io::Result<StateDir> {
        use std::os::unix::fs::PermissionsExt;
        let run = settings
            .state_dir
            .join(build_id.rsplit(':').next().unwrap_or(build_id));
        let scripts = run.join("scripts");
        let artifacts = run.join("artifacts");
        fs_err::create_dir_all(&scripts)?;
        fs_err::create_dir_all(&artifacts)?;
        // `run-as` users write their state files here too.
        fs_err::set_permissions(&scripts, std::fs::Permissions::from_mode(0o1777))?;
        Ok(StateDir {
            run,
            scripts,
            artifacts,
        })
    }

    /// Removes the build's directory at the end of a run. `keep` lists files a report points
    /// at (zips named in the report file): when one lies in the artifacts directory, that
    /// directory stays and only the scripts go.
    pub fn clean(&self, keep: &[&Path]) {
        let artifacts = normalize(&self.artifacts);
        if keep
            .iter()
            .any(|path| normalize(path).starts_with(&artifacts))
        {
            let _ = std::fs::remove_dir_all(&self.scripts);
        } else {
            let _ = std::fs::remove_dir_all(&self.run);
        }
    }
}

fn normalize(path: &Path) -> PathBuf {
    crate::package::select::normalize(path)
}
