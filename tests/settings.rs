//! Settings resolved once, before anything runs: `--show-settings` for every command (secrets
//! redacted, nothing run), the environment chosen through `branch-environments` reaching the
//! build, and a bad boolean exiting 2 like every other bad input.

use serde_json::Value;

use crate::harness::Test;

const TOUCH: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - touch ran\n";
const TOKEN: &str = "ghs_ShowSettingsSecret0123456789abcdef";

#[test]
fn show_settings_resolves_without_running_anything() {
    let out = Test::new()
        .buildspec(TOUCH)
        .input("branch-environments", "main: prod\ndevelop: dev")
        .input("function-name", "fn-{environment}")
        .input("github-token", TOKEN)
        .input("timeout", "15m")
        .input("env-vars", "API_KEY=hunter2-value")
        .env("GITHUB_REF_NAME", "main")
        .args(&["run", "--show-settings=json"])
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.workspace_file("ran").is_none(),
        "nothing is built: {out}"
    );
    assert!(!out.report_path.exists(), "no report is written: {out}");
    let settings: Value = serde_json::from_str(&out.stdout).expect("JSON settings");
    assert_eq!(settings["command"], "run");
    assert_eq!(settings["deploy"]["environment"], "prod");
    assert_eq!(settings["deploy"]["targets"][0]["name"], "fn-prod");
    assert_eq!(settings["build"]["environment"], "prod");
    assert_eq!(settings["build"]["timeout"], "900s");
    assert_eq!(settings["github"]["token"], "***");
    assert_eq!(settings["build"]["env_vars"][0], "API_KEY=***");
    assert!(!out.stdout.contains(TOKEN), "the token is redacted: {out}");
    assert!(
        !out.stdout.contains("hunter2-value"),
        "env-vars values are hidden: {out}"
    );
}

#[test]
fn show_settings_works_for_every_command_and_defaults_to_yaml() {
    for command in ["run", "build", "validate", "package", "rollback", "post"] {
        let out = Test::new()
            .buildspec(TOUCH)
            .input("function-name", "hello")
            .input("github-token", TOKEN)
            .args(&[command, "--show-settings"])
            .run();
        assert_eq!(out.code, 0, "{command}: {out}");
        assert!(
            out.stdout.contains(&format!("command: {command}")),
            "{command}: {out}"
        );
        assert!(
            out.stdout.contains("token: '***'")
                || out.stdout.contains("token: \"***\"")
                || out.stdout.contains("token: ***"),
            "{command}: {out}"
        );
        assert!(!out.stdout.contains(TOKEN), "{command}: {out}");
        assert!(out.workspace_file("ran").is_none(), "{command}: {out}");
    }
}

#[test]
fn show_settings_reports_a_bad_input_like_a_run() {
    let out = Test::new()
        .buildspec(TOUCH)
        .input("timeout", "soon")
        .args(&["build", "--show-settings"])
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("input `timeout`"), "{out}");
    let out = Test::new()
        .buildspec(TOUCH)
        .args(&["build", "--show-settings=toml"])
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("`toml` is not a format"), "{out}");
}

/// `--dry-run`, `--force` and `--show-settings` take their value only after `=`, so they go
/// before or after the command alike: the word after such a flag is the command, never read as
/// the flag's value (`lambda-pipeline --dry-run import` used to fail with "`import` is not a
/// boolean").
#[test]
fn optional_value_flags_go_before_or_after_the_command() {
    let orders: [&[&str]; 3] = [
        &["--dry-run", "--force", "--show-settings", "run"],
        &["run", "--dry-run", "--force", "--show-settings"],
        &[
            "--dry-run=true",
            "--force=yes",
            "--show-settings=yaml",
            "run",
        ],
    ];
    for args in orders {
        let out = Test::new()
            .buildspec(TOUCH)
            .input("function-name", "hello")
            .args(args)
            .run();
        assert_eq!(out.code, 0, "{args:?}: {out}");
        for line in ["command: run", "  force: true", "  dry_run: true"] {
            assert!(
                out.stdout.lines().any(|l| l == line),
                "{args:?}: `{line}` in {out}"
            );
        }
    }
    let out = Test::new()
        .buildspec(TOUCH)
        .args(&["--dry-run=false", "--show-settings", "run"])
        .input("function-name", "hello")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.lines().any(|l| l == "  dry_run: false"), "{out}");
    // A value after a space is a stray word, refused before anything runs.
    let out = Test::new()
        .buildspec(TOUCH)
        .args(&["run", "--dry-run", "false"])
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("unexpected argument 'false'"), "{out}");
    assert!(out.workspace_file("ran").is_none(), "{out}");
}

/// Bug: the build saw the raw `environment` input, so an environment chosen through
/// `branch-environments` never reached `LAMBDA_PIPELINE_ENVIRONMENT`.
#[test]
fn the_build_sees_the_environment_chosen_by_the_branch() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"env=$LAMBDA_PIPELINE_ENVIRONMENT\" > seen\n",
        )
        .aws()
        .input("branch-environments", "main: prod\ndevelop: dev")
        .input("function-name", "fn-{environment}-not-created")
        .input("package-directory", ".")
        .env("GITHUB_REF_NAME", "main")
        .arg("run")
        .run();
    // The function does not exist, so the deploy fails; the build ran first.
    assert_eq!(
        out.workspace_file("seen").as_deref(),
        Some("env=prod\n"),
        "{out}"
    );
}

/// Bug: `github-deployment: maybe` was a warning and the run went on.
#[test]
fn a_bad_github_deployment_value_exits_2_before_anything_runs() {
    for command in ["run", "build"] {
        let out = Test::new()
            .buildspec(TOUCH)
            .input("github-deployment", "maybe")
            .arg(command)
            .run();
        assert_eq!(out.code, 2, "{command}: {out}");
        assert!(
            out.stderr
                .contains("input `github-deployment`: `maybe` is not a boolean"),
            "{command}: {out}"
        );
        assert!(out.workspace_file("ran").is_none(), "{command}: {out}");
    }
}
