//! Spec §12 conformance cases (all but the G artifact cases) and the general rules of §5–§7,
//! each run through the real binary in a temporary workspace. Observables: phase states in the
//! report, build status, exit code, command output in order, exported variables.
//!
//! Phase shorthand in `assert_phases`: `I P B PB U` with `✓` SUCCEEDED, `✗` FAILED, `—` not run
//! (SKIPPED, or for U also absent), `?` attempted (present and not SKIPPED: used for
//! UPLOAD_ARTIFACTS, whose result belongs to the packaging tests).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Moto, Output, Test};

// ---------------------------------------------------------------- helpers

/// Removes the common indentation of a raw string literal and its first line break.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = text
        .lines()
        .map(|l| if l.len() >= indent { &l[indent..] } else { "" })
        .collect();
    while out.last() == Some(&"") {
        out.pop();
    }
    out.join("\n") + "\n"
}

/// A `build` run of `spec` in a fresh workspace.
fn build(spec: &str) -> Output {
    Test::new().buildspec(&dedent(spec)).arg("build").run()
}

fn test(spec: &str) -> Test {
    Test::new().buildspec(&dedent(spec)).arg("build")
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A name no other test uses, for state in the shared moto server.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

const ORDER: [&str; 5] = [
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
];

/// Checks the report's phases against shorthand like `I✓ P✓ B✗ PB✓ U?`.
#[track_caller]
pub fn assert_phases(out: &Output, expected: &str) {
    let got = out.phases();
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    let mut wanted_names = Vec::new();
    for token in expected.split_whitespace() {
        let mark = token.chars().last().unwrap();
        let abbr = &token[..token.len() - mark.len_utf8()];
        let name = match abbr {
            "I" => "INSTALL",
            "P" => "PRE_BUILD",
            "B" => "BUILD",
            "PB" => "POST_BUILD",
            "U" => "UPLOAD_ARTIFACTS",
            other => panic!("bad phase abbreviation {other}"),
        };
        let status = out.phase_status(name);
        match mark {
            '✓' => assert_eq!(status.as_deref(), Some("SUCCEEDED"), "{name}; {out}"),
            '✗' => assert_eq!(status.as_deref(), Some("FAILED"), "{name}; {out}"),
            '—' if name == "UPLOAD_ARTIFACTS" => assert!(
                matches!(status.as_deref(), None | Some("SKIPPED")),
                "{name} must not run, got {status:?}; {out}"
            ),
            '—' => assert_eq!(status.as_deref(), Some("SKIPPED"), "{name}; {out}"),
            '?' => assert!(
                status.as_deref().is_some_and(|s| s != "SKIPPED"),
                "{name} must be attempted, got {status:?}; {out}"
            ),
            other => panic!("bad mark {other}"),
        }
        if status.is_some() {
            wanted_names.push(name);
        }
    }
    let ordered: Vec<&str> = ORDER
        .iter()
        .copied()
        .filter(|n| names.contains(n))
        .collect();
    assert_eq!(names, ordered, "phases out of order; {out}");
    if !expected.contains('U') {
        assert!(
            !names.contains(&"UPLOAD_ARTIFACTS"),
            "no artifacts section, so no UPLOAD_ARTIFACTS; {out}"
        );
    }
    for name in &names {
        assert!(
            wanted_names.contains(name) || *name == "UPLOAD_ARTIFACTS",
            "unexpected phase {name}; {out}"
        );
    }
}

/// Checks the report's build status and the matching exit code.
#[track_caller]
pub fn assert_status(out: &Output, status: &str) {
    assert_eq!(out.report()["status"], status, "{out}");
    let code = match status {
        "SUCCEEDED" => 0,
        "STOPPED" => 130,
        _ => 1,
    };
    assert_eq!(out.code, code, "{out}");
}

#[track_caller]
fn assert_output(out: &Output, expected: &[&str]) {
    assert_eq!(out.command_output(), expected, "{out}");
}

/// The `[Container]` log lines.
fn agent_lines(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("[Container]"))
        .map(|l| l.splitn(4, ' ').nth(3).unwrap_or_default().to_owned())
        .collect()
}

fn warnings(out: &Output) -> Vec<String> {
    out.report()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect()
}

fn exit_codes(out: &Output, phase: &str) -> Vec<Option<i64>> {
    let report = out.report();
    let phase = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == phase)
        .unwrap_or_else(|| panic!("no phase {phase}; {out}"))
        .clone();
    phase["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["exit_code"].as_i64())
        .collect()
}

fn canonical(path: &Path) -> String {
    path.canonicalize().unwrap().to_string_lossy().into_owned()
}

/// A buildspec error run: exit 2, nothing ran, DOWNLOAD_SOURCE FAILED with YAML_FILE_ERROR.
#[track_caller]
fn assert_yaml_file_error(out: &Output) {
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("YAML_FILE_ERROR"), "{out}");
    assert_eq!(out.command_output(), Vec::<String>::new(), "{out}");
    assert_eq!(out.report()["status"], "FAILED", "{out}");
    assert_eq!(
        out.phases(),
        vec![("DOWNLOAD_SOURCE".to_owned(), "FAILED".to_owned())],
        "{out}"
    );
}

// ---------------------------------------------------------------- A. parsing and bookkeeping

#[test]
fn c01_minimal_build() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo hello
        ",
    );
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_output(&out, &["hello"]);
    assert_status(&out, "SUCCEEDED");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    let agent = agent_lines(&out);
    assert!(
        agent.contains(&"Entering phase INSTALL".to_owned()),
        "{out}"
    );
    assert!(
        agent.contains(&"Phase complete: INSTALL State: SUCCEEDED".to_owned()),
        "{out}"
    );
}

#[test]
fn c02_phase_order_is_fixed() {
    let out = build(
        r#"
        version: 0.2
        phases:
          post_build: { commands: [ "echo 4" ] }
          build:      { commands: [ "echo 3" ] }
          pre_build:  { commands: [ "echo 2" ] }
          install:    { commands: [ "echo 1" ] }
        "#,
    );
    assert_output(&out, &["1", "2", "3", "4"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c04_working_directory_persists_across_commands_and_phases() {
    let out = build(
        "
        version: 0.2
        phases:
          pre_build:
            commands:
              - mkdir -p out/deep
              - cd out
          build:
            commands:
              - cd deep
              - pwd
        ",
    );
    let expected = format!("{}/out/deep", canonical(&out.workspace));
    assert_output(&out, &[expected.as_str()]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c05_version_01_isolates_every_command() {
    let out = build(
        r#"
        version: 0.1
        phases:
          build:
            commands:
              - mkdir -p sub && cd sub
              - pwd
              - FOO=1
              - echo "foo=${FOO:-unset}"
        "#,
    );
    let ws = canonical(&out.workspace);
    assert_output(&out, &[ws.as_str(), "foo=unset"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c06_version_01_environment_block() {
    let out = build(
        r#"
        version: 0.1
        environment_variables:
          plaintext:
            GREETING: "hi there"
        phases:
          build:
            commands:
              - echo "$GREETING"
        "#,
    );
    assert_output(&out, &["hi there"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c07_missing_buildspec_file() {
    let out = Test::new().arg("build").run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml"), "{out}");
    assert!(!out.stdout.contains("Entering phase"), "{out}");
}

#[test]
fn c08_tab_indentation() {
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n\tcommands:\n      - echo never\n")
        .arg("build")
        .run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:4:"), "{out}");
    assert!(out.stderr.contains("tab"), "{out}");
}

#[test]
fn c09_unknown_keys_are_warnings() {
    let out = build(
        r#"
        version: 0.2
        foo: bar
        phases:
          build:
            env:
              variables: { X: "1" }
            commands:
              - echo "x=${X:-unset}"
        "#,
    );
    assert_output(&out, &["x=unset"]);
    assert_status(&out, "SUCCEEDED");
    let warnings = warnings(&out);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("The following keys cannot be identified: foo")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("In the section BUILD")
            && w.contains("The following keys cannot be identified: env")),
        "{warnings:?}"
    );
    // The positions are kept.
    let report = out.report();
    let foo = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["message"].as_str().unwrap().contains(": foo"))
        .unwrap();
    assert_eq!(foo["position"]["line"], 2);
    assert_eq!(foo["position"]["column"], 1);
    assert!(
        out.stdout
            .contains("Found possible syntax errors in buildspec"),
        "{out}"
    );
}

#[test]
fn c10a_quoted_version_string() {
    let out = build(
        r#"
        version: "0.2"
        phases:
          build:
            commands:
              - echo ok
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c10b_unknown_version_is_rejected() {
    let out = build(
        "
        version: 0.3
        phases:
          build:
            commands:
              - echo never
        ",
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:1:10"), "{out}");
}

#[test]
fn c11_json_buildspec() {
    let out = Test::new()
        .buildspec(r#"{"version": "0.2", "phases": {"build": {"commands": ["echo json-ok"]}}}"#)
        .arg("build")
        .run();
    assert_output(&out, &["json-ok"]);
    assert_status(&out, "SUCCEEDED");
}

// ---------------------------------------------------------------- B. YAML gotchas

#[test]
fn c12_unquoted_boolean_commands_are_command_text() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - true
              - false
              - echo unreachable
        ",
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(1)], "{out}");
    let report = out.report();
    let commands = report["phases"][2]["commands"].as_array().unwrap();
    assert_eq!(commands[0]["command"], "true");
    assert_eq!(commands[1]["command"], "false");
    assert_status(&out, "FAILED");
}

#[test]
fn c14_space_hash_starts_a_comment() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo #1 issue
              - echo tag#1
        ",
    );
    assert_output(&out, &["", "tag#1"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c16_plain_multi_line_scalar_folds() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo first
                echo second
        ",
    );
    assert_output(&out, &["first echo second"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c17a_command_starting_with_a_flow_sequence_is_an_error() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - [ -f package.json ] && echo has-pkg
        ",
    )
    .file("package.json", "{}")
    .run();
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:5:"), "{out}");
}

#[test]
fn c17b_command_starting_with_a_backtick_is_an_error() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - `date`
        ",
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:5:"), "{out}");
}

#[test]
fn c17c_quoted_indicator_command_runs() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - '[ -f package.json ] && echo has-pkg'
        ",
    )
    .file("package.json", "{}")
    .run();
    assert_output(&out, &["has-pkg"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c18_scalar_text_preserved_in_env_values() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            PYV: 3.10
            FLAG: yes
            OCT: 010
            EXP: 1e3
            OFF: false
        phases:
          build:
            commands:
              - echo "$PYV $FLAG $OCT $EXP $OFF"
        "#,
    );
    assert_output(&out, &["3.10 yes 010 1e3 false"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn merge_keys_and_anchors_work() {
    let out = build(
        r#"
        version: 0.2
        x-common: &common
          commands:
            - echo shared
        phases:
          pre_build: *common
          build:
            <<: *common
            finally:
              - echo merged-finally
        "#,
    );
    assert_output(&out, &["shared", "shared", "merged-finally"]);
    assert_status(&out, "SUCCEEDED");
}

// ---------------------------------------------------------------- C. shell execution model

#[test]
fn c23_functions_and_arrays_do_not_persist() {
    let out = build(
        r#"
        version: 0.2
        env:
          shell: bash
        phases:
          build:
            commands:
              - greet() { echo hi; }; greet
              - declare -A m; m[k]=v; echo "in=${m[k]}"
              - echo "out=${m[k]:-lost}"
              - greet
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines[..3], ["hi", "in=v", "out=lost"], "{out}");
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[3].ends_with("script.sh: line 4: greet: command not found"),
        "{out}"
    );
    assert_eq!(
        exit_codes(&out, "BUILD"),
        vec![Some(0), Some(0), Some(0), Some(127)]
    );
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c24_pipeline_status_is_the_last_elements() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - false | true
              - echo step2
              - true | false
              - echo step4
        ",
    );
    assert_output(&out, &["step2"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(0), Some(1)]);
    assert_status(&out, "FAILED");
}

#[test]
fn c25_failed_test_inside_if_silently_succeeds() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - if [ "$NOT_SET" -ge 9 ]; then echo big; fi
              - echo next
        "#,
    );
    let lines = out.command_output();
    assert!(lines[0].contains("Illegal number"), "{out}");
    assert_eq!(lines[1..], ["next"], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26a_default_shell_is_sh() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - if [[ 1 == 1 ]]; then echo bashy; fi
        ",
    );
    let lines = out.command_output();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].ends_with("script.sh: 4: [[: not found"), "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26b_shell_bash_enables_bash_syntax() {
    let out = build(
        "
        version: 0.2
        env:
          shell: bash
        phases:
          build:
            commands:
              - if [[ 1 == 1 ]]; then echo bashy; fi
        ",
    );
    assert_output(&out, &["bashy"]);
    assert!(
        agent_lines(&out).iter().all(|l| !l.contains("not found")),
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c26c_source_is_not_found_under_dash() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - source ./env.sh
        ",
    )
    .file("env.sh", "X=1\n")
    .run();
    let lines = out.command_output();
    assert!(lines[0].ends_with("source: not found"), "{out}");
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(127)]);
    assert_status(&out, "FAILED");
}

#[test]
fn c27_codebuild_last_exit_reflects_the_previous_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - "true"
              - echo "last=$CODEBUILD_LAST_EXIT"
              - sh -c 'exit 3'
          post_build:
            commands:
              - echo "last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["last=0", "last=3"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

/// Spawns the build and fails (instead of hanging) if it does not end within `limit`. The
/// limit is a deadlock detector far above any normal run, not a speed assertion.
fn run_with_deadline(test: Test, limit: Duration, on_hang: impl FnOnce(&Path)) -> Output {
    let report = test.report_path();
    let workspace = test.workspace();
    let mut command = test.command();
    command
        .arg(format!("--report-file={}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_until(&mut child, limit);
    let Some(status) = status else {
        on_hang(&workspace);
        let _ = child.kill();
        let _ = child.wait();
        panic!("the build did not finish within {limit:?}: it waited for a background job");
    };
    let files = test.dir.path().join("files");
    let out = Output {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        workspace,
        report_path: report,
        outputs_path: files.join("output"),
        summary_path: files.join("summary"),
    };
    std::mem::forget(test.dir);
    out
}

pub(crate) fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

pub(crate) fn wait_until(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn c28_background_process_does_not_block() {
    // The background job holds the output pipe open until the test releases it, which the test
    // only does once the binary has exited: a runner that waits for EOF deadlocks here.
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - nohup sh -c 'while [ ! -f "$CODEBUILD_SRC_DIR/release" ]; do sleep 0.2; done; echo late' &
              - echo started
        "#,
    );
    let out = run_with_deadline(t, Duration::from_secs(120), |ws| {
        std::fs::write(ws.join("release"), "").unwrap();
    });
    assert!(
        out.command_output().contains(&"started".to_owned()),
        "{out}"
    );
    assert!(!out.command_output().contains(&"late".to_owned()), "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e11_nohup_sleep_in_background_never_blocks() {
    let t = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - nohup sleep 30 &
              - echo after-sleep
          post_build:
            commands:
              - echo post
        ",
    );
    let out = run_with_deadline(t, Duration::from_secs(25), |_| {});
    assert_eq!(
        out.command_output()
            .into_iter()
            .filter(|l| !l.contains("nohup"))
            .collect::<Vec<_>>(),
        ["after-sleep", "post"],
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}

// ---------------------------------------------------------------- §5.2 table E1–E12

#[test]
fn e1_plain_assignments_persist_and_are_exported() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - TAG=abc
          build:
            commands:
              - sh -c 'echo "child=$TAG"'
              - echo "shell=$TAG"
        "#,
    );
    assert_output(&out, &["child=abc", "shell=abc"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e3_shell_options_aliases_and_umask_do_not_persist() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - umask
              - set -e; umask 077; alias hi='echo alias'; trap 'echo trapped' EXIT
              - false; echo still-running
              - umask
              - hi
        "#,
    );
    let lines = out.command_output();
    // `trap ... EXIT` fires at the end of its own script only.
    assert_eq!(
        lines[1..4],
        ["trapped", "still-running", lines[0].as_str()],
        "{out}"
    );
    assert!(lines[4].ends_with("hi: not found"), "{out}");
    assert_eq!(
        exit_codes(&out, "BUILD"),
        vec![Some(0), Some(0), Some(0), Some(0), Some(127)]
    );
}

#[test]
fn e4_exit_ends_only_the_current_command() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo a; exit 0; echo never
              - echo b
        ",
    );
    assert_output(&out, &["a", "b"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e5_state_of_a_command_that_exits_early_is_lost() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - KEPT=1; mkdir -p sub
              - LOST=1; cd sub; exit 0
              - echo "lost=${LOST:-unset} kept=$KEPT dir=$(basename "$PWD")"
              - set -e; LOST2=1; cd sub; false; echo never
          post_build:
            commands:
              - echo "lost2=${LOST2:-unset} dir=$(basename "$PWD")"
        "#,
    );
    assert_output(&out, &["lost=unset kept=1 dir=ws", "lost2=unset dir=ws"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
}

#[test]
fn e6_multi_line_command_status_is_its_last_line() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - |
                false
                echo ok
              - |
                echo first
                false
              - echo never
        "#,
    );
    assert_output(&out, &["ok", "first"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0), Some(1)]);
    assert_status(&out, "FAILED");
    // The command keeps its line in the file: a block scalar's first line of text.
    let report = out.report();
    assert_eq!(report["phases"][2]["commands"][0]["line"], 6);
    assert_eq!(report["phases"][2]["commands"][1]["line"], 9);
}

#[test]
fn e8_last_exit_after_a_failure_fixed_by_continue() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands:
              - exit 7
          pre_build:
            commands:
              - echo "last=$CODEBUILD_LAST_EXIT"
              - echo "last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["last=7", "last=0"]);
    assert_phases(&out, "I✗ P✓ B✓ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn e9_unset_persists() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            FROM_SPEC: spec
        phases:
          build:
            commands:
              - MINE=mine
              - unset FROM_SPEC MINE
              - echo "spec=${FROM_SPEC-unset} mine=${MINE-unset}"
              - sh -c 'echo "child=${FROM_SPEC-unset}"'
        "#,
    );
    assert_output(&out, &["spec=unset mine=unset", "child=unset"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn e10_values_with_newlines_and_quotes_round_trip() {
    let spec = r#"
        version: 0.2
        env:
          exported-variables:
            - TRICKY
        phases:
          pre_build:
            commands:
              - |
                TRICKY="line 1
                it's \"quoted\" \$HOME \\ back\`tick
                  indented;  two  spaces"
          build:
            commands:
              - printf '[%s]\n' "$TRICKY"
        "#;
    let expected = "line 1\nit's \"quoted\" $HOME \\ back`tick\n  indented;  two  spaces";
    for shell in ["sh", "bash"] {
        let spec = dedent(spec).replace("phases:", &format!("  shell: {shell}\nphases:"));
        let out = Test::new()
            .buildspec(&spec)
            .arg("build")
            .github_actions()
            .run();
        let printed = out.command_output().join("\n");
        assert_eq!(printed, format!("[{expected}]"), "{shell}: {out}");
        assert_eq!(
            out.report()["exported_variables"]["TRICKY"],
            expected,
            "{shell}"
        );
        assert_eq!(out.outputs()["TRICKY"], expected, "{shell}");
        assert_status(&out, "SUCCEEDED");
    }
}

#[test]
fn e12_wait_cannot_reach_a_job_of_an_earlier_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - sleep 30 >/dev/null 2>&1 & echo $! > bg.pid
              - wait "$(cat bg.pid)"; echo "rc=$?"
        "#,
    );
    assert_output(&out, &["rc=127"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn a_broken_path_does_not_stop_the_next_command() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            PATH: /nonexistent
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - echo "path=$PATH"
              - echo still-runs
              - ls
          post_build:
            commands:
              - echo post-runs
              - PATH=/also/nonexistent
              - echo after-reassign
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines[..2], ["path=/nonexistent", "still-runs"], "{out}");
    assert!(lines[2].ends_with("ls: not found"), "{out}");
    assert_eq!(lines[3..], ["post-runs", "after-reassign"], "{out}");
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
}

#[test]
fn a_path_broken_by_a_command_does_not_stop_the_next_command() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - export PATH=/nonexistent
              - echo next-runs
              - cd /
              - pwd
        "#,
    );
    assert_output(&out, &["next-runs", "/"]);
    assert_status(&out, "SUCCEEDED");
}

// ---------------------------------------------------------------- D. transitions

#[test]
fn c29_failing_command_stops_its_phase_post_build_still_runs() {
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo a
              - exit 2
              - echo b
          post_build:
            commands:
              - echo post
        ",
    );
    assert_output(&out, &["a", "post"]);
    assert!(
        agent_lines(&out)
            .contains(&"Command did not exit successfully exit 2 exit status 2".to_owned()),
        "{out}"
    );
    assert!(
        agent_lines(&out).contains(
            &"Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 2. Reason: exit status 2".to_owned()
        ),
        "{out}"
    );
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
    assert_eq!(out.report()["failed_phase"], "BUILD");
}

#[test]
fn c30_codebuild_build_succeeding_transitions() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - echo "pre=$CODEBUILD_BUILD_SUCCEEDING"
          build:
            commands:
              - echo "build=$CODEBUILD_BUILD_SUCCEEDING"
              - "false"
          post_build:
            commands:
              - echo "post=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["pre=1", "build=1", "post=0"]);
    assert_status(&out, "FAILED");
}

#[test]
fn c31_install_failure_skips_everything_including_artifacts() {
    let out = test(
        r#"
        version: 0.2
        phases:
          install:
            commands:
              - "false"
          pre_build:  { commands: [ "echo pre" ] }
          build:      { commands: [ "echo build" ] }
          post_build: { commands: [ "echo post" ] }
        artifacts:
          files: [ a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    assert_output(&out, &[]);
    assert_phases(&out, "I✗ P— B— PB— U—");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c32_pre_build_failure_behaves_like_install_failure() {
    let out = test(
        r#"
        version: 0.2
        phases:
          install: { commands: [ "echo inst" ] }
          pre_build:
            commands:
              - "false"
          build:      { commands: [ "echo build" ] }
          post_build: { commands: [ "echo post" ] }
        artifacts:
          files: [ a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    assert_output(&out, &["inst"]);
    assert_phases(&out, "I✓ P✗ B— PB— U—");
    assert!(out.report()["artifacts"].is_null(), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c33_post_build_failure_still_uploads_artifacts() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:      { commands: [ "echo built > out.txt" ] }
          post_build: { commands: [ "exit 1" ] }
        artifacts:
          files: [ out.txt, a.txt ]
        "#,
    )
    .file("a.txt", "a")
    .run();
    // The artifact list itself is checked by the packaging tests.
    assert_phases(&out, "I✓ P✓ B✓ PB✗ U?");
    assert_status(&out, "FAILED");
}

#[test]
fn c34_finally_runs_after_a_failure() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo c1
              - "false"
              - echo c3
            finally:
              - echo f1
              - echo f2
        "#,
    );
    assert_output(&out, &["c1", "f1", "f2"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c35_failing_finally_fails_a_phase_whose_commands_succeeded() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands: [ "echo ok" ]
            finally:  [ "exit 4" ]
          build:
            commands: [ "echo build" ]
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_phases(&out, "I✓ P✗ B— PB—");
    assert_status(&out, "FAILED");
}

#[test]
fn c36_install_finally_runs_though_later_phases_are_skipped() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "exit 1" ]
            finally:  [ "echo cleanup" ]
          build:
            commands: [ "echo build" ]
        "#,
    );
    assert_output(&out, &["cleanup"]);
    assert_phases(&out, "I✗ P— B— PB—");
    assert_status(&out, "FAILED");
}

#[test]
fn c38_abort_on_build_suppresses_post_build_and_upload() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: ABORT
            commands: [ "exit 1" ]
          post_build:
            commands: [ "echo should-not-run" ]
        artifacts:
          files: [ buildspec.yml ]
        "#,
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✓ P✓ B✗ PB— U—");
    assert_status(&out, "FAILED");
}

const FLAKY: &str = r#"n=$(cat .tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > .tries; echo "attempt $n"; [ "$n" -ge 3 ]"#;

fn flaky(on_failure: &str) -> Output {
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    on-failure: {on_failure}\n    commands:\n      - '{FLAKY}'\n"
    );
    Test::new().buildspec(&spec).arg("build").run()
}

#[test]
fn c39_retry_count_on_a_flaky_command() {
    let out = flaky("RETRY-2");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
    // Every attempt is in the report.
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(1), Some(1), Some(0)]);
}

#[test]
fn c39_retry_count_exhausted() {
    let out = flaky("RETRY-1");
    assert_output(&out, &["attempt 1", "attempt 2"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn c39_retry_pattern_that_does_not_match() {
    let out = flaky("RETRY-2-database");
    assert_output(&out, &["attempt 1"]);
    assert_status(&out, "FAILED");
}

#[test]
fn retry_pattern_that_matches_the_output() {
    let out = flaky("RETRY-5-attempt [0-9]");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_status(&out, "SUCCEEDED");
    // A pattern alone means up to 3 retries; `Retry-` is accepted in any case.
    let out = flaky("Retry-.*exit status 1.*");
    assert_output(&out, &["attempt 1", "attempt 2", "attempt 3"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn plain_retry_means_three_retries() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: RETRY
            commands:
              - echo try
              - "false"
        "#,
    );
    assert_output(&out, &["try", "try", "try", "try"]);
    assert_status(&out, "FAILED");
    let out = flaky("RETRY-0");
    assert_output(&out, &["attempt 1"]);
}

#[test]
fn retry_reruns_finally_and_keeps_shell_state() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            on-failure: RETRY-1
            commands:
              - N=$((${N:-0}+1)); echo "n=$N"
              - '[ "$N" -ge 2 ]'
            finally:
              - echo "finally n=$N succeeding=$CODEBUILD_BUILD_SUCCEEDING"
          post_build:
            commands:
              - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(
        &out,
        &[
            "n=1",
            "finally n=1 succeeding=0",
            "n=2",
            "finally n=2 succeeding=1",
            "post succeeding=1",
        ],
    );
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
}

/// Where the state machine goes after phase `failing` fails under each `on-failure` value.
#[test]
fn transitions_for_every_phase_and_on_failure_value() {
    let phases = ["install", "pre_build", "build", "post_build"];
    let abbr = ["I", "P", "B", "PB"];
    for (index, failing) in phases.iter().enumerate() {
        for mode in [None, Some("ABORT"), Some("CONTINUE"), Some("RETRY-1")] {
            let mut spec = "version: 0.2\nphases:\n".to_owned();
            for phase in phases {
                spec.push_str(&format!("  {phase}:\n"));
                if phase == *failing
                    && let Some(mode) = mode
                {
                    spec.push_str(&format!("    on-failure: {mode}\n"));
                }
                spec.push_str(&format!("    commands:\n      - echo ran-{phase}\n"));
                if phase == *failing {
                    spec.push_str("      - \"false\"\n");
                }
            }
            spec.push_str("artifacts:\n  files:\n    - buildspec.yml\n");
            let out = Test::new().buildspec(&spec).arg("build").run();

            let later_runs = match mode {
                Some("ABORT") => false,
                Some("CONTINUE") => true,
                _ => index >= 2,
            };
            let upload = match mode {
                Some("ABORT") => false,
                Some("CONTINUE") => true,
                _ => index >= 2,
            };
            let mut shorthand = Vec::new();
            let mut output = Vec::new();
            for (j, phase) in phases.iter().enumerate() {
                let mark = if j < index {
                    "✓"
                } else if j == index {
                    "✗"
                } else if later_runs {
                    "✓"
                } else {
                    "—"
                };
                shorthand.push(format!("{}{mark}", abbr[j]));
                if mark != "—" {
                    output.push(format!("ran-{phase}"));
                    if j == index && mode == Some("RETRY-1") {
                        output.push(format!("ran-{phase}"));
                    }
                }
            }
            shorthand.push(if upload { "U?" } else { "U—" }.to_owned());
            let context = format!("{failing} failing with {mode:?}");
            assert_eq!(out.command_output(), output, "{context}: {out}");
            assert_phases(&out, &shorthand.join(" "));
            assert_eq!(out.report()["status"], "FAILED", "{context}");
            assert_eq!(out.code, 1, "{context}");
            assert_eq!(
                out.report()["failed_phase"],
                failing.to_uppercase(),
                "{context}"
            );
        }
    }
}

#[test]
fn remaining_finally_commands_stop_at_the_first_failure() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo c1
            finally:
              - echo "f1 succeeding=$CODEBUILD_BUILD_SUCCEEDING"
              - "false"
              - echo f3
          post_build:
            commands:
              - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["c1", "f1 succeeding=1", "post succeeding=0"]);
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn finally_of_a_failing_phase_sees_succeeding_0() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - "false"
            finally:
              - echo "finally succeeding=$CODEBUILD_BUILD_SUCCEEDING last=$CODEBUILD_LAST_EXIT"
        "#,
    );
    assert_output(&out, &["finally succeeding=0 last=1"]);
}

#[test]
fn finally_of_a_skipped_phase_does_not_run() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "false" ]
          pre_build:
            commands: [ "echo pre" ]
            finally: [ "echo pre-finally" ]
          post_build:
            finally: [ "echo post-finally" ]
        "#,
    );
    assert_output(&out, &[]);
    assert_phases(&out, "I✗ P— B— PB—");
}

#[test]
fn finally_failure_with_continue_goes_on() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands: [ "echo inst" ]
            finally: [ "exit 9" ]
          pre_build:
            commands: [ 'echo "pre succeeding=$CODEBUILD_BUILD_SUCCEEDING"' ]
        "#,
    );
    assert_output(&out, &["inst", "pre succeeding=0"]);
    assert_phases(&out, "I✗ P✓ B✓ PB✓");
    assert_status(&out, "FAILED");
}

// ---------------------------------------------------------------- E. environment

#[test]
fn c41_env_vars_input_overrides_buildspec_variables() {
    let out = test(
        r#"
        version: 0.2
        env:
          variables:
            STAGE: dev
            OTHER: keep
        phases:
          build:
            commands:
              - echo "$STAGE $OTHER"
        "#,
    )
    .input("env-vars", "STAGE=prod")
    .run();
    assert_output(&out, &["prod keep"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn env_vars_input_format() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "a=$A b=$B c=$C"
        "#,
    )
    .input(
        "env-vars",
        "# a comment\nA=1\n\nB=\"quoted stays\"\nC=x=y\n",
    )
    .run();
    assert_output(&out, &["a=1 b=\"quoted stays\" c=x=y"]);
    // Reserved names are refused, naming the input.
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo never
        ",
    )
    .input("env_vars", "CODEBUILD_BUILD_ID=x")
    .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("env-vars"), "{out}");
    assert_output(&out, &[]);
}

#[test]
fn c42_command_set_values_override_buildspec_values() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            STAGE: dev
        phases:
          pre_build:
            commands:
              - export STAGE=staging
          post_build:
            commands:
              - echo "$STAGE"
        "#,
    );
    assert_output(&out, &["staging"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn variables_are_literal() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            LITERAL: "$HOME:$(echo no)"
        phases:
          build:
            commands:
              - printf '%s\n' "$LITERAL"
        "#,
    );
    assert_output(&out, &["$HOME:$(echo no)"]);
}

#[test]
fn c43_built_in_variables_have_documented_shapes() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - test "$PWD" = "$CODEBUILD_SRC_DIR"
              - test "$HOME" = /root
              - test "$CODEBUILD_BUILD_SUCCEEDING" = 1
              - echo "$CODEBUILD_START_TIME" | grep -Eq '^[0-9]{13}$'
              - case "$CODEBUILD_BUILD_ID" in *:*) true;; *) false;; esac
              - case "$CODEBUILD_BUILD_ARN" in arn:aws:codebuild:*:*:build/*:*) true;; *) false;; esac
              - test -n "$AWS_REGION" && test -n "$AWS_DEFAULT_REGION"
        "#,
    );
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(0); 7], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn built_in_variables_map_the_github_context() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "src=$CODEBUILD_SRC_DIR"
              - echo "sha=$CODEBUILD_RESOLVED_SOURCE_VERSION"
              - echo "number=$CODEBUILD_BUILD_NUMBER"
              - echo "trigger=$CODEBUILD_WEBHOOK_TRIGGER"
              - echo "id=${CODEBUILD_BUILD_ID%%:*}"
              - echo "inputs=$(env | grep -c '^INPUT_' || true)"
        "#,
    )
    .github_actions()
    .input("github-token", "ghs_dont_leak_me")
    .run();
    let ws = canonical(&out.workspace);
    assert_output(
        &out,
        &[
            &format!("src={ws}"),
            "sha=0123456789abcdef0123456789abcdef01234567",
            "number=7",
            "trigger=branch/main",
            "id=hello",
            "inputs=0",
        ],
    );
}

#[test]
fn lambda_pipeline_environment_is_given_to_the_build() {
    let out = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "env=${LAMBDA_PIPELINE_ENVIRONMENT:-unset}"
        "#,
    )
    .input("environment", "staging")
    .run();
    assert_output(&out, &["env=staging"]);
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo "env=${LAMBDA_PIPELINE_ENVIRONMENT:-unset}"
        "#,
    );
    assert_output(&out, &["env=unset"]);
}

pub(crate) async fn put_parameter(name: &str, value: &str) {
    let config = Moto::shared().sdk_config().await;
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put_parameter on moto");
}

pub(crate) async fn create_secret(name: &str, value: &str) -> String {
    let config = Moto::shared().sdk_config().await;
    let out = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create_secret on moto");
    out.arn().unwrap().to_owned()
}

/// Puts a new value; returns its version id. The old version becomes AWSPREVIOUS.
async fn put_secret_value(name: &str, value: &str) -> String {
    let config = Moto::shared().sdk_config().await;
    let out = aws_sdk_secretsmanager::Client::new(&config)
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("put_secret_value on moto");
    out.version_id().unwrap().to_owned()
}

#[test]
fn c44_parameter_store_value_is_masked_in_logs() {
    let param = format!("/{}/pw", unique("c44"));
    block_on(put_parameter(&param, "hunter2-xyz"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: {param}
        phases:
          build:
            commands:
              - echo "pw=$PW"
              - echo "hunter2-xyz typed literally"
              - echo "$PW" | rev
              - printf '%s' "$PW" > seen.txt
        "#
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &["pw=***", "*** typed literally", "zyx-2retnuh"]);
    let agent = agent_lines(&out);
    assert!(
        agent.contains(&r#"Running command echo "pw=$PW""#.to_owned()),
        "{out}"
    );
    assert!(
        agent.contains(&r#"Running command echo "*** typed literally""#.to_owned()),
        "{out}"
    );
    assert!(!out.stdout.contains("hunter2-xyz"), "{out}");
    assert!(!out.stderr.contains("hunter2-xyz"), "{out}");
    let report = std::fs::read_to_string(&out.report_path).unwrap();
    assert!(!report.contains("hunter2-xyz"), "{report}");
    // The processes see the real value; masking is log-only.
    assert_eq!(out.workspace_file("seen.txt").unwrap(), "hunter2-xyz");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn secrets_are_registered_as_masks_in_actions() {
    let param = format!("/{}/token", unique("mask"));
    block_on(put_parameter(&param, "s3cr3t-multi\nsecond-line-value"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            TOKEN: {param}
        phases:
          build:
            commands:
              - printf '%s\n' "$TOKEN"
        "#
    );
    let out = test(&spec).aws().github_actions().run();
    assert!(out.stdout.contains("::add-mask::s3cr3t-multi"), "{out}");
    assert!(
        out.stdout.contains("::add-mask::second-line-value"),
        "{out}"
    );
    assert_output(&out, &["***", "***"]);
}

#[test]
fn missing_parameter_fails_before_install() {
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: /{}/missing
        phases:
          install:
            commands:
              - echo never
        "#,
        unique("missing")
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &[]);
    assert_eq!(
        out.phases(),
        vec![("DOWNLOAD_SOURCE".to_owned(), "FAILED".to_owned())]
    );
    assert!(out.stderr.contains("buildspec.yml:4:9"), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c45_exported_variables_snapshot_after_post_build() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ IMAGE_TAG, UNSET_ONE ]
        phases:
          build:
            commands: [ "IMAGE_TAG=v1" ]
          post_build:
            commands: [ "IMAGE_TAG=v2" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "SUCCEEDED");
    let report = out.report();
    assert_eq!(report["exported_variables"]["IMAGE_TAG"], "v2");
    assert_eq!(report["exported_variables"]["UNSET_ONE"], "");
    let outputs = out.outputs();
    assert_eq!(outputs["IMAGE_TAG"], "v2");
    assert_eq!(outputs["UNSET_ONE"], "");
    assert_eq!(outputs["status"], "SUCCEEDED");
    assert!(
        warnings(&out).iter().any(|w| w.contains("UNSET_ONE")),
        "{out}"
    );
}

#[test]
fn c45_variant_aws_variables_cannot_be_exported() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ AWS_REGION, OK_ONE ]
        phases:
          build:
            commands: [ "OK_ONE=yes" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "SUCCEEDED");
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("AWS_REGION") && w.contains("cannot be exported")),
        "{out}"
    );
    let report = out.report();
    assert!(report["exported_variables"].get("AWS_REGION").is_none());
    assert_eq!(report["exported_variables"]["OK_ONE"], "yes");
    assert!(!out.outputs().contains_key("AWS_REGION"));
}

#[test]
fn exported_variables_even_when_the_build_fails() {
    let out = test(
        r#"
        version: 0.2
        env:
          exported-variables: [ STEP ]
        phases:
          build:
            commands: [ "STEP=build", "false" ]
          post_build:
            commands: [ "STEP=post" ]
        "#,
    )
    .github_actions()
    .run();
    assert_status(&out, "FAILED");
    assert_eq!(out.outputs()["STEP"], "post");
    assert_eq!(out.outputs()["status"], "FAILED");
}

#[test]
fn c47_secrets_manager_positional_fields() {
    let name = format!("ci/{}", unique("token"));
    let (arn, version_id) = block_on(async {
        let arn = create_secret(&name, "old-token-value").await;
        let id = put_secret_value(&name, "{\"user\":\"bot\",\"n\":42}").await;
        (arn, id)
    });
    let spec = format!(
        r#"
        version: 0.2
        env:
          secrets-manager:
            PREVIOUS: "{name}::AWSPREVIOUS"
            BY_ID: "{name}:::{version_id}"
            CURRENT: "{name}"
            USER: "{name}:user"
            NUMBER: "{name}:n:AWSCURRENT"
            BY_ARN: "{arn}:user"
        phases:
          build:
            commands:
              - printf '%s|' "$PREVIOUS" "$BY_ID" "$CURRENT" "$USER" "$NUMBER" "$BY_ARN" > seen.txt
        "#
    );
    let out = test(&spec).aws().run();
    assert_status(&out, "SUCCEEDED");
    assert_eq!(
        out.workspace_file("seen.txt").unwrap(),
        "old-token-value|{\"user\":\"bot\",\"n\":42}|{\"user\":\"bot\",\"n\":42}|bot|42|bot|"
    );
}

#[test]
fn c47_secret_reference_with_both_stage_and_id_is_an_error() {
    let out = build(
        r#"
        version: 0.2
        env:
          secrets-manager:
            TOKEN: "ci/token::AWSPREVIOUS:3f2a0000-uuid"
        phases:
          build:
            commands:
              - echo never
        "#,
    );
    assert_yaml_file_error(&out);
    assert!(out.stderr.contains("buildspec.yml:4:12"), "{out}");
}

#[test]
fn missing_secret_fails_before_install() {
    let spec = format!(
        r#"
        version: 0.2
        env:
          secrets-manager:
            TOKEN: "{}"
        phases:
          install:
            commands:
              - echo never
        "#,
        unique("nope")
    );
    let out = test(&spec).aws().run();
    assert_output(&out, &[]);
    assert_eq!(
        out.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED")
    );
    assert_status(&out, "FAILED");
}

#[test]
fn precedence_input_over_secrets_over_parameters_over_variables() {
    let id = unique("prec");
    block_on(async {
        for name in ["b", "c", "d"] {
            put_parameter(&format!("/{id}/{name}"), &format!("ssm-{name}-value")).await;
        }
        for name in ["c", "d"] {
            create_secret(&format!("{id}-{name}"), &format!("sm-{name}-value")).await;
        }
    });
    let spec = format!(
        r#"
        version: 0.2
        env:
          variables:
            A: var-a
            B: var-b
            C: var-c
            D: var-d
          parameter-store:
            B: /{id}/b
            C: /{id}/c
            D: /{id}/d
          secrets-manager:
            C: {id}-c
            D: {id}-d
        phases:
          build:
            commands:
              - printf '%s ' "$A" "$B" "$C" "$D" > seen.txt
        "#
    );
    let out = test(&spec).aws().input("env-vars", "D=input-d").run();
    assert_status(&out, "SUCCEEDED");
    assert_eq!(
        out.workspace_file("seen.txt").unwrap(),
        "var-a ssm-b-value sm-c-value input-d "
    );
}

// ---------------------------------------------------------------- inputs

#[test]
fn inline_buildspec_from_the_flag_and_the_input() {
    let inline = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo inline-ok\n";
    let out = Test::new().args(&["build", "--buildspec", inline]).run();
    assert_output(&out, &["inline-ok"]);
    assert_status(&out, "SUCCEEDED");
    let out = Test::new().arg("build").input("buildspec", inline).run();
    assert_output(&out, &["inline-ok"]);
    let out = Test::new()
        .arg("build")
        .input(
            "buildspec",
            r#"{"version": "0.2", "phases": {"build": {"commands": ["echo json-inline"]}}}"#,
        )
        .run();
    assert_output(&out, &["json-inline"]);
    // An inline error names the inline buildspec and its line.
    let out = Test::new()
        .arg("build")
        .input(
            "buildspec",
            "version: 0.2\nphases:\n  build:\n    on-failure: MAYBE\n",
        )
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("inline buildspec:4:17"), "{out}");
}

#[test]
fn buildspec_path_input() {
    let out = Test::new()
        .file(
            "ci/other.yml",
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo other\n",
        )
        .arg("build")
        .input("buildspec", "ci/other.yml")
        .run();
    assert_output(&out, &["other"]);
}

#[test]
fn working_directory_input_in_both_spellings() {
    for name in ["INPUT_WORKING-DIRECTORY", "INPUT_WORKING_DIRECTORY"] {
        let out = Test::new()
            .file(
                "svc/buildspec.yml",
                "version: 0.2\nphases:\n  build:\n    commands:\n      - pwd\n      - echo \"src=$CODEBUILD_SRC_DIR\"\n",
            )
            .arg("build")
            .env(name, "svc")
            .run();
        let dir = canonical(&out.workspace.join("svc"));
        assert_output(&out, &[dir.as_str(), &format!("src={dir}")]);
        assert_status(&out, "SUCCEEDED");
    }
    let out = Test::new()
        .arg("build")
        .input("working-directory", "does-not-exist")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("working-directory"), "{out}");
}

#[test]
fn groups_per_phase_in_github_actions() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo inside
        ",
    )
    .github_actions()
    .run();
    let markers: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::group::") || l.starts_with("::endgroup::"))
        .collect();
    assert_eq!(
        markers,
        [
            "::group::INSTALL",
            "::endgroup::",
            "::group::PRE_BUILD",
            "::endgroup::",
            "::group::BUILD",
            "::endgroup::",
            "::group::POST_BUILD",
            "::endgroup::"
        ],
        "{out}"
    );
    // Output sits inside its phase's group.
    let build_group = out.stdout.split("::group::BUILD").nth(1).unwrap();
    let build_group = build_group.split("::endgroup::").next().unwrap();
    assert!(build_group.lines().any(|l| l == "inside"), "{out}");
    // Outside Actions there are no workflow commands.
    let out = build(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo inside
        ",
    );
    assert!(!out.stdout.contains("::group::"), "{out}");
}

#[test]
fn build_output_cannot_issue_workflow_commands_by_default() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo '::error::injected'
        ",
    )
    .github_actions()
    .run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "::error::injected")
        .unwrap();
    let stop = lines[..at]
        .iter()
        .rev()
        .find(|l| l.starts_with("::stop-commands::"))
        .expect("output is wrapped in stop-commands");
    let token = stop.strip_prefix("::stop-commands::").unwrap();
    assert!(
        lines[at..].contains(&format!("::{token}::").as_str()),
        "{out}"
    );
}

#[test]
fn timeout_input_times_the_build_out() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo before
              - sleep 60
              - echo never
          post_build:
            commands:
              - echo never-post
        ",
    )
    .input("timeout", "2s")
    .run();
    assert_output(&out, &["before"]);
    assert_eq!(out.report()["status"], "TIMED_OUT", "{out}");
    assert_eq!(out.phase_status("BUILD").as_deref(), Some("TIMED_OUT"));
    assert_eq!(out.phase_status("POST_BUILD").as_deref(), Some("SKIPPED"));
    assert_eq!(out.code, 1, "{out}");
}

#[test]
fn a_bad_timeout_is_an_input_error() {
    let out = test(
        "
        version: 0.2
        phases:
          build:
            commands:
              - echo never
        ",
    )
    .input("timeout", "soon")
    .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("input `timeout`"), "{out}");
    assert_output(&out, &[]);
}

fn pid_alive(pid: i32) -> bool {
    // A zombie still answers `kill -0`; treat it as dead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn cancel_with(signal: &str) {
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - sleep 300 & echo $! > child.pid; sh -c 'echo $$ > grandchild.pid; exec sleep 301' & wait
              - touch ran-next-command
            finally:
              - touch ran-finally
          post_build:
            commands:
              - touch ran-post-build
        "#,
    );
    let workspace = t.workspace();
    let report = t.report_path();
    let mut command = t.command();
    command
        .arg(format!("--report-file={}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let read_pid = |name: &str| -> Option<i32> {
        std::fs::read_to_string(workspace.join(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (pid, grandchild) = loop {
        if let (Some(a), Some(b)) = (read_pid("child.pid"), read_pid("grandchild.pid")) {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A hang detector, far above the 5 s the engine allows itself.
    let status = wait_until(&mut child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the build did not stop after SIG{signal}"));
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let context = format!("SIG{signal}\n{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(130), "{context}");
    let gone = Instant::now() + Duration::from_secs(10);
    while (pid_alive(pid) || pid_alive(grandchild)) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !pid_alive(pid),
        "background child {pid} survived; {context}"
    );
    assert!(
        !pid_alive(grandchild),
        "grandchild {grandchild} survived; {context}"
    );
    for never in ["ran-next-command", "ran-finally", "ran-post-build"] {
        assert!(!workspace.join(never).exists(), "{never}; {context}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["status"], "STOPPED", "{context}");
    std::mem::forget(t.dir);
}

#[test]
fn sigterm_stops_the_process_group_and_exits_130() {
    cancel_with("TERM");
}

#[test]
fn sigint_stops_the_process_group_and_exits_130() {
    cancel_with("INT");
}

// ---------------------------------------------------------------- F. runtime-versions

#[test]
fn c48_runtime_versions_outside_install_is_a_warning() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            runtime-versions: { nodejs: 18 }
            commands: [ "echo ok" ]
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("In the section BUILD")
                && w.contains("The following keys cannot be identified: runtime-versions")),
        "{out}"
    );
}

const MANIFEST: &str = r#"
runtimes:
  nodejs:
    versions:
      18:
        commands:
          - echo "Installing Node.js version 18 ..."
          - export NODE_SELECTED=18
      20:
        commands:
          - echo "Installing Node.js version 20 ..."
"#;

fn with_manifest(spec: &str, manifest: Option<&str>) -> Output {
    let t = test(spec);
    let path = t.dir.path().join("runtimes.yml");
    if let Some(manifest) = manifest {
        std::fs::write(&path, manifest).unwrap();
    }
    t.env("LAMBDA_PIPELINE_RUNTIMES_FILE", path.to_str().unwrap())
        .run()
}

#[test]
fn c49a_runtime_selection_commands_precede_install_commands() {
    let out = with_manifest(
        r#"
        version: 0.2
        phases:
          install:
            runtime-versions: { nodejs: 18 }
            commands: [ "echo user-install" ]
          build:
            commands: [ 'echo "selected=$NODE_SELECTED"' ]
        "#,
        Some(MANIFEST),
    );
    assert_output(
        &out,
        &[
            "Installing Node.js version 18 ...",
            "user-install",
            "selected=18",
        ],
    );
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c49b_unknown_runtime_version_fails_early() {
    let out = with_manifest(
        r#"
        version: 0.2
        phases:
          install:
            runtime-versions: { nodejs: 99 }
            commands: [ "echo user-install" ]
        "#,
        Some(MANIFEST),
    );
    assert_output(&out, &[]);
    assert_eq!(
        out.phases(),
        vec![("DOWNLOAD_SOURCE".to_owned(), "FAILED".to_owned())],
        "{out}"
    );
    assert!(out.stderr.contains("buildspec.yml:4:33"), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn c49c_image_without_manifest_skips_runtime_install() {
    let out = with_manifest(
        r#"
        version: 0.2
        phases:
          install:
            runtime-versions: { nodejs: 18 }
            commands: [ "echo user-install" ]
        "#,
        None,
    );
    assert_output(&out, &["user-install"]);
    assert_status(&out, "SUCCEEDED");
    // Without the manifest, the runtime is selected from other sources (issue 13), or the
    // build goes on with a warning that says what is missing.
    assert!(
        out.stdout
            .contains("Selecting 'nodejs' runtime version '18'")
            || out.stdout.contains("runtime-versions asks for nodejs 18"),
        "{out}"
    );
}

fn python_version() -> String {
    let output = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .expect("python3 is required");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    text.split_whitespace().nth(1).unwrap().to_owned()
}

#[test]
fn runtime_version_mismatch_warns_naming_both_versions() {
    let installed = python_version();
    assert!(
        !installed.starts_with("3.9."),
        "this test needs python != 3.9"
    );
    let spec = r#"
        version: 0.2
        phases:
          install:
            runtime-versions:
              python: 3.9
            commands: [ "echo installed" ]
        "#;
    let out = with_manifest(spec, None);
    assert_output(&out, &["installed"]);
    assert_status(&out, "SUCCEEDED");
    let warning = warnings(&out)
        .into_iter()
        .find(|w| w.contains("3.9") && w.contains(&installed))
        .unwrap_or_else(|| panic!("no warning naming 3.9 and {installed}; {out}"));
    assert!(warning.contains("python"), "{warning}");

    let t = test(spec).input("strict-runtime-versions", "true");
    let missing = t.dir.path().join("no-manifest.yml");
    let out = t
        .env("LAMBDA_PIPELINE_RUNTIMES_FILE", missing.to_str().unwrap())
        .run();
    assert_output(&out, &[]);
    assert_eq!(
        out.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED")
    );
    assert!(
        out.stderr.contains("3.9") && out.stderr.contains(&installed),
        "{out}"
    );
    assert!(out.stderr.contains("buildspec.yml:5:15"), "{out}");
    assert_status(&out, "FAILED");
}

#[test]
fn matching_runtime_version_does_not_warn() {
    let installed = python_version();
    let minor: String = installed.split('.').take(2).collect::<Vec<_>>().join(".");
    let spec = format!(
        "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: {minor}\n    commands: [ \"echo ok\" ]\n"
    );
    let t = Test::new()
        .buildspec(&spec)
        .arg("build")
        .input("strict-runtime-versions", "true");
    let missing = t.dir.path().join("no-manifest.yml");
    let out = t
        .env("LAMBDA_PIPELINE_RUNTIMES_FILE", missing.to_str().unwrap())
        .run();
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
    assert!(
        !warnings(&out).iter().any(|w| w.contains("asks for")),
        "{out}"
    );
}

// ---------------------------------------------------------------- H. run-as

fn run_as(spec: &str) -> Output {
    use std::os::unix::fs::PermissionsExt;
    let t = test(spec);
    // `nobody` must reach the workspace and the state directory inside the temp dir.
    std::fs::set_permissions(t.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t.run()
}

#[test]
fn c64_phase_run_as_overrides_global_run_as() {
    let out = run_as(
        "
        version: 0.2
        run-as: nobody
        phases:
          pre_build:
            commands: [ 'id -un', 'NOBODY_SET=1' ]
          build:
            run-as: root
            commands: [ 'id -un', 'echo \"carried=$NOBODY_SET\"' ]
          post_build:
            commands: [ 'id -un' ]
        ",
    );
    assert_output(&out, &["nobody", "root", "carried=1", "nobody"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn c64_without_run_as_everything_runs_as_root() {
    let out = build(
        "
        version: 0.2
        phases:
          pre_build:
            commands: [ 'id -un' ]
          build:
            commands: [ 'id -un' ]
          post_build:
            commands: [ 'id -un' ]
        ",
    );
    assert_output(&out, &["root", "root", "root"]);
}

#[test]
fn run_as_an_unknown_user_fails() {
    let out = build(
        "
        version: 0.2
        run-as: no-such-user-here
        phases:
          build:
            commands: [ 'echo never' ]
        ",
    );
    assert_output(&out, &[]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("no-such-user-here"), "{out}");
    // The build fails before INSTALL, as CodeBuild fails DOWNLOAD_SOURCE.
    assert_eq!(
        out.phase_status("DOWNLOAD_SOURCE").as_deref(),
        Some("FAILED"),
        "{out}"
    );
    assert_eq!(out.phase_status("INSTALL"), None, "{out}");
}

#[test]
fn a_background_job_that_prints_forever_does_not_block() {
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - nohup sh -c 'while :; do echo tick; sleep 0.01; done' &
              - echo started
          post_build:
            commands:
              - echo post
        "#,
    );
    let out = run_with_deadline(t, Duration::from_secs(120), |_| {});
    let lines: Vec<String> = out
        .command_output()
        .into_iter()
        .filter(|l| l != "tick" && !l.contains("nohup"))
        .collect();
    assert_eq!(lines, ["started", "post"], "{out}");
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn stopping_also_kills_background_jobs_that_ignore_sigterm() {
    let t = test(
        r#"
        version: 0.2
        phases:
          install:
            commands:
              - nohup sh -c 'trap "" TERM; echo $$ > stubborn1.pid; while :; do sleep 1; done' >/dev/null 2>&1 &
              - nohup sh -c 'trap "" TERM; echo $$ > stubborn2.pid; while :; do sleep 1; done' >/dev/null 2>&1 &
          build:
            commands:
              - sh -c 'trap "" TERM; echo $$ > current.pid; while :; do sleep 1; done'
              - touch ran-next-command
        "#,
    );
    let workspace = t.workspace();
    let report = t.report_path();
    let mut command = t.command();
    command
        .arg(format!("--report-file={}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let read_pid = |name: &str| -> Option<i32> {
        std::fs::read_to_string(workspace.join(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let pids = loop {
        let pids: Vec<Option<i32>> = ["stubborn1.pid", "stubborn2.pid", "current.pid"]
            .iter()
            .map(|n| read_pid(n))
            .collect();
        if pids.iter().all(Option::is_some) {
            break pids.into_iter().map(Option::unwrap).collect::<Vec<_>>();
        }
        assert!(Instant::now() < deadline, "the commands never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_until(&mut child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the build did not stop"));
    let context = format!("{}\n{}", stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(130), "{context}");
    let gone = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| pid_alive(*p)) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in &pids {
        assert!(!pid_alive(*pid), "{pid} survived; {context}");
    }
    assert!(!workspace.join("ran-next-command").exists(), "{context}");
    std::mem::forget(t.dir);
}

// ---------------------------------------------------------------- more general rules

#[test]
fn output_is_streamed_live() {
    // The command waits for a file that the test only creates after reading the command's
    // first line from the binary's stdout: buffered output would deadlock.
    let t = test(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo ready; while [ ! -f go ]; do sleep 0.1; done; echo done
        "#,
    );
    let workspace = t.workspace();
    let mut command = t.command();
    command
        .arg(format!("--report-file={}", t.report_path().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("`ready` never reached stdout while the command ran");
        seen.push(line.clone());
        if line == "ready" {
            break;
        }
    }
    std::fs::write(workspace.join("go"), "").unwrap();
    let status = wait_until(&mut child, Duration::from_secs(60)).expect("the build ended");
    seen.extend(receiver.iter());
    assert_eq!(status.code(), Some(0), "{seen:?}");
    assert!(seen.contains(&"done".to_owned()), "{seen:?}");
    std::mem::forget(t.dir);
}

#[test]
fn stdout_and_stderr_are_one_stream_in_order() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo one; echo two >&2; echo three; printf 'no-newline'
              - printf 'crlf\r\n'
        "#,
    );
    assert_output(&out, &["one", "two", "three", "no-newline", "crlf"]);
}

#[test]
fn stdin_is_not_a_terminal_and_reads_nothing() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - if [ -t 0 ]; then echo tty; else echo no-tty; fi
              - read line; echo "read=$?"
        "#,
    );
    assert_output(&out, &["no-tty", "read=1"]);
}

#[test]
fn explicit_bin_sh_shell() {
    let out = build(
        r#"
        version: 0.2
        env:
          shell: /bin/sh
        phases:
          build:
            commands:
              - X=1
              - echo "x=$X"
        "#,
    );
    assert_output(&out, &["x=1"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn codebuild_names_in_variables_are_ignored_with_a_warning() {
    let out = build(
        r#"
        version: 0.2
        env:
          variables:
            CODEBUILD_BUILD_SUCCEEDING: "0"
            MINE: kept
        phases:
          build:
            commands:
              - echo "$CODEBUILD_BUILD_SUCCEEDING $MINE"
        "#,
    );
    assert_output(&out, &["1 kept"]);
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("CODEBUILD_BUILD_SUCCEEDING") && w.contains("reserved")),
        "{out}"
    );
}

#[test]
fn legacy_environment_variables_under_02_are_ignored_with_a_warning() {
    let out = build(
        r#"
        version: 0.2
        environment_variables:
          plaintext:
            OLD: style
        phases:
          build:
            commands:
              - echo "old=${OLD:-unset}"
        "#,
    );
    assert_output(&out, &["old=unset"]);
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("environment_variables")),
        "{out}"
    );
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn batch_proxy_and_cache_are_accepted_and_noted() {
    let out = build(
        r#"
        version: 0.2
        proxy:
          upload-artifacts: no
          logs: no
        batch:
          fast-fail: false
        cache:
          paths:
            - '/root/.cache/pip/**/*'
        phases:
          build:
            commands:
              - echo ok
        "#,
    );
    assert_output(&out, &["ok"]);
    assert_status(&out, "SUCCEEDED");
    let warnings = warnings(&out);
    for section in ["batch", "proxy", "cache"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&format!("`{section}`")) && w.contains("not applicable")),
            "{section}: {warnings:?}"
        );
    }
}

#[test]
fn version_01_honours_newer_keys_with_a_warning() {
    let out = build(
        r#"
        version: 0.1
        phases:
          build:
            on-failure: CONTINUE
            commands:
              - "false"
            finally:
              - echo cleanup
          post_build:
            commands:
              - echo "post=$CODEBUILD_BUILD_SUCCEEDING"
        "#,
    );
    assert_output(&out, &["cleanup", "post=0"]);
    assert!(
        warnings(&out).iter().any(|w| w.contains("finally")),
        "{out}"
    );
    assert_status(&out, "FAILED");
}

#[test]
fn runtime_versions_take_variables_latest_and_default() {
    let manifest = r#"
runtimes:
  nodejs:
    versions:
      18:
        commands:
          - echo "node 18"
      20:
        commands:
          - echo "node 20"
      default:
        commands:
          - echo "custom node $VERSION"
"#;
    let spec = |version: &str| {
        format!(
            "version: 0.2\nenv:\n  variables:\n    NODE_V: \"18\"\nphases:\n  install:\n    runtime-versions:\n      nodejs: {version}\n    commands:\n      - echo user\n"
        )
    };
    for (version, first) in [
        ("\"$NODE_V\"", "node 18"),
        ("latest", "node 20"),
        ("18.x", "node 18"),
        ("21", "custom node 21"),
    ] {
        let t = Test::new().buildspec(&spec(version)).arg("build");
        let path = t.dir.path().join("runtimes.yml");
        std::fs::write(&path, manifest).unwrap();
        let out = t
            .env("LAMBDA_PIPELINE_RUNTIMES_FILE", path.to_str().unwrap())
            .run();
        assert_output(&out, &[first, "user"]);
        assert_status(&out, "SUCCEEDED");
    }
}

#[test]
fn opening_log_lines_follow_codebuild() {
    let out = build(
        r#"
        version: 0.2
        phases:
          install:
            commands: [ "true" ]
          build:
            commands: [ "true", "true" ]
            finally: [ "true" ]
        "#,
    );
    let agent = agent_lines(&out);
    assert_eq!(agent[0], "Phases found in YAML: 2", "{out}");
    assert_eq!(agent[1], " INSTALL: 1 commands", "{out}");
    assert_eq!(agent[2], " BUILD: 3 commands", "{out}");
    assert!(agent.contains(&"Running command true".to_owned()), "{out}");
    let report = out.report();
    assert!(report["phases"][0]["duration_ms"].is_u64());
    assert_eq!(report["phases"][2]["commands"][2]["block"], "finally");
}

#[test]
fn folded_block_joins_lines_and_a_comment_swallows_the_rest() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - >
                echo first
                echo second
              - >
                echo kept
                # a comment line
                echo swallowed
        "#,
    );
    assert_output(&out, &["first echo second", "kept"]);
    assert_status(&out, "SUCCEEDED");
}

#[test]
fn a_block_starting_with_set_e_fails_at_its_first_error() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - |
                set -e
                echo one
                false
                echo never
        "#,
    );
    assert_output(&out, &["one"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![Some(1)]);
    assert_status(&out, "FAILED");
}

#[test]
fn quoted_colon_space_command_runs() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - "echo a: b"
              - 'echo "c: d" # not a comment inside quotes'
        "#,
    );
    assert_output(&out, &["a: b", "c: d"]);
}

#[test]
fn long_output_arrives_whole_and_in_order() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - seq 1 20000
              - printf 'ünïcødé ✓\n'
        "#,
    );
    let lines = out.command_output();
    assert_eq!(lines.len(), 20001, "{}", lines.len());
    assert!(
        lines[..20000]
            .iter()
            .enumerate()
            .all(|(i, l)| *l == (i + 1).to_string())
    );
    assert_eq!(lines[20000], "ünïcødé ✓");
}

#[test]
fn a_command_killed_by_a_signal_fails_its_phase() {
    let out = build(
        r#"
        version: 0.2
        phases:
          build:
            commands:
              - echo before; kill -KILL $$
              - echo never
          post_build:
            commands:
              - echo post
        "#,
    );
    assert_output(&out, &["before", "post"]);
    assert_eq!(exit_codes(&out, "BUILD"), vec![None], "{out}");
    assert_phases(&out, "I✓ P✓ B✗ PB✓");
    assert_status(&out, "FAILED");
}

#[test]
fn codebuild_src_dir_does_not_follow_cd() {
    let out = build(
        r#"
        version: 0.2
        phases:
          pre_build:
            commands:
              - mkdir -p a && cd a
          post_build:
            commands:
              - echo "$(basename "$PWD") $(basename "$CODEBUILD_SRC_DIR")"
        "#,
    );
    assert_output(&out, &["a ws"]);
}

#[test]
fn numeric_json_version_and_version_01_json() {
    let out = Test::new()
        .buildspec(r#"{"version": 0.2, "phases": {"build": {"commands": ["X=1", "echo x=$X"]}}}"#)
        .arg("build")
        .run();
    assert_output(&out, &["x=1"]);
}

#[test]
fn secrets_never_reach_outputs_or_the_report() {
    let param = format!("/{}/pw", unique("leak"));
    block_on(put_parameter(&param, "super-secret-value-42"));
    let spec = format!(
        r#"
        version: 0.2
        env:
          parameter-store:
            PW: {param}
          exported-variables: [ DERIVED ]
        phases:
          build:
            commands:
              - DERIVED="prefix-$PW"
              - echo "$PW" >&2
        "#
    );
    let out = test(&spec).aws().github_actions().run();
    assert_status(&out, "SUCCEEDED");
    assert_output(&out, &["***"]);
    assert_eq!(out.outputs()["DERIVED"], "prefix-***");
    let report = std::fs::read_to_string(&out.report_path).unwrap();
    assert!(!report.contains("super-secret-value-42"), "{report}");
    // Only the runner's own mask registration may carry the value.
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.contains("super-secret-value-42"))
            .all(|l| l == "::add-mask::super-secret-value-42"),
        "{out}"
    );
    let outputs = std::fs::read_to_string(&out.outputs_path).unwrap();
    assert!(!outputs.contains("super-secret-value-42"), "{outputs}");
}

#[test]
fn more_parameters_than_one_get_parameters_call_takes() {
    let id = unique("many");
    block_on(async {
        for i in 0..13 {
            put_parameter(&format!("/{id}/p{i}"), &format!("value-{i:02}")).await;
        }
    });
    let mut spec = "version: 0.2\nenv:\n  parameter-store:\n".to_owned();
    for i in 0..13 {
        spec.push_str(&format!("    P{i}: /{id}/p{i}\n"));
    }
    spec.push_str("phases:\n  build:\n    commands:\n      - 'for i in 0 1 2 3 4 5 6 7 8 9 10 11 12; do eval \"printf %s, \\\"\\$P$i\\\"\"; done > seen.txt'\n");
    let out = Test::new().buildspec(&spec).arg("build").aws().run();
    assert_status(&out, "SUCCEEDED");
    let expected: String = (0..13).map(|i| format!("value-{i:02},")).collect();
    assert_eq!(out.workspace_file("seen.txt").unwrap(), expected);
}
