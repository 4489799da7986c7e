//! Docker in the build: the daemon socket the runner mounts into container actions, the one
//! message a build gets when it calls docker without one, and `LAMBDA_PIPELINE_HOST_WORKSPACE`,
//! the host path of the workspace, for `docker run -v` of a sibling container (the daemon
//! resolves bind-mount paths on the host, not in our container).
//! Owns: docker detection. Must not: run the build's docker commands.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// The variable that holds the host path of the workspace.
pub const HOST_WORKSPACE: &str = "LAMBDA_PIPELINE_HOST_WORKSPACE";
/// Where a container action sees the workspace.
const ACTION_WORKSPACE: &str = "/github/workspace";
const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Whether a command line calls docker (or docker-compose / docker compose).
pub fn mentions_docker(command: &str) -> bool {
    static DOCKER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(^|[\s;&|(`$])(sudo\s+)?docker(-compose)?(\s|$)").expect("valid regex")
    });
    DOCKER.is_match(command)
}

/// The daemon's unix socket: `DOCKER_HOST=unix://...`, else the default. `None` when
/// `DOCKER_HOST` names a TCP or SSH daemon, which cannot be checked by a file.
fn socket(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env("DOCKER_HOST").filter(|h| !h.is_empty()) {
        Some(host) => host.strip_prefix("unix://").map(PathBuf::from),
        None => Some(PathBuf::from(DEFAULT_SOCKET)),
    }
}

/// Why docker commands will fail, and what to do, when no daemon socket is there.
pub fn missing_daemon(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let socket = socket(env)?;
    if socket.exists() {
        return None;
    }
    Some(format!(
        "this build calls docker, but there is no Docker daemon socket at {}: docker commands \
         will fail. On GitHub, use a Linux runner with Docker (ubuntu-*; the runner mounts \
         /var/run/docker.sock into the action); running the image by hand, add \
         `-v /var/run/docker.sock:/var/run/docker.sock`; or set DOCKER_HOST to a daemon you can reach.",
        socket.display()
    ))
}

/// The workspace as the Docker daemon's host sees it. In a container action the runner mounts
/// the job's workspace at /github/workspace: `docker inspect` of our own container names the
/// source, else the runner's layout (`$RUNNER_WORKSPACE/<repository name>`) gives it. Outside a
/// container the workspace is its own host path. An explicit value is kept.
pub fn host_workspace(env: &dyn Fn(&str) -> Option<String>, workspace: &Path) -> String {
    if let Some(explicit) = env(HOST_WORKSPACE).filter(|v| !v.is_empty()) {
        return explicit;
    }
    let own = workspace.to_string_lossy().into_owned();
    if workspace != Path::new(ACTION_WORKSPACE) {
        return own;
    }
    if let Some(source) = inspect_own_mount(env) {
        return source;
    }
    match (env("RUNNER_WORKSPACE"), env("GITHUB_REPOSITORY")) {
        (Some(runner), Some(repository)) => {
            let name = repository.rsplit('/').next().unwrap_or(&repository);
            format!("{}/{name}", runner.trim_end_matches('/'))
        }
        _ => own,
    }
}

/// The host source of our container's /github/workspace mount, through the daemon.
fn inspect_own_mount(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if missing_daemon(env).is_some() {
        return None;
    }
    let container = own_container_id()?;
    let output = std::process::Command::new("docker")
        .args(["inspect", "--format", "{{json .Mounts}}", &container])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let mounts: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).ok()?;
    mounts
        .iter()
        .find(|m| m["Destination"] == ACTION_WORKSPACE)
        .and_then(|m| m["Source"].as_str())
        .map(str::to_owned)
}

/// Our container's ID: Docker bind-mounts /etc/hostname from `.../containers/<id>/hostname`,
/// which shows in /proc/self/mountinfo even with `--network host` (where /etc/hostname holds the
/// host's name); else the hostname, which is the short ID on the default network.
fn own_container_id() -> Option<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    container_id_in(&mountinfo).or_else(|| {
        let hostname = std::fs::read_to_string("/etc/hostname").ok()?;
        Some(hostname.trim().to_owned()).filter(|h| !h.is_empty())
    })
}

fn container_id_in(mountinfo: &str) -> Option<String> {
    static ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/containers/([0-9a-f]{64})/hostname").expect("valid regex"));
    mountinfo
        .lines()
        .find_map(|line| ID.captures(line).map(|c| c[1].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn docker_calls_are_recognised_in_command_lines() {
        for yes in [
            "docker build -t x .",
            "cd app && docker push x",
            "$(aws ecr get-login) ; docker pull x",
            "sudo docker ps",
            "docker-compose up -d",
            "docker",
        ] {
            assert!(mentions_docker(yes), "{yes}");
        }
        for no in [
            "echo dockerfile",
            "cat Dockerfile",
            "mydocker run",
            "npm run docker:build",
        ] {
            assert!(!mentions_docker(no), "{no}");
        }
    }

    #[test]
    fn a_missing_socket_names_the_path_and_what_to_do() {
        let message = missing_daemon(&env(&[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]))
            .expect("no socket there");
        assert!(message.contains("/nonexistent/docker.sock"), "{message}");
        assert!(message.contains("-v /var/run/docker.sock:/var/run/docker.sock"));
        assert_eq!(
            missing_daemon(&env(&[("DOCKER_HOST", "tcp://127.0.0.1:2375")])),
            None
        );
    }

    #[test]
    fn the_container_id_comes_from_the_hostname_mount() {
        let id = "4f".repeat(32);
        let mountinfo = format!(
            "700 650 0:52 / / rw master:1 - overlay overlay rw\n\
             712 700 252:1 /var/lib/docker/containers/{id}/hostname /etc/hostname rw - ext4 /dev/vda rw\n"
        );
        assert_eq!(container_id_in(&mountinfo), Some(id));
        assert_eq!(
            container_id_in("700 650 0:52 / / rw - overlay overlay rw\n"),
            None
        );
    }

    #[test]
    fn host_workspace_follows_the_runner_layout() {
        let runner = [
            ("RUNNER_WORKSPACE", "/home/runner/work/hello"),
            ("GITHUB_REPOSITORY", "octo/hello"),
            ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
        ];
        assert_eq!(
            host_workspace(&env(&runner), Path::new("/github/workspace")),
            "/home/runner/work/hello/hello"
        );
        assert_eq!(
            host_workspace(&env(&runner), Path::new("/src/app")),
            "/src/app"
        );
        let explicit = [(HOST_WORKSPACE, "/srv/ws")];
        assert_eq!(
            host_workspace(&env(&explicit), Path::new("/github/workspace")),
            "/srv/ws"
        );
    }
}
