//! Malformed buildspecs: every one exits 2 before anything runs, with `file:line:col`, the
//! offending line and a caret under the culprit. Plus snapshots of a few rendered errors and
//! the `validate` command.

use crate::harness::{Output, Test};

/// One malformed buildspec and where its error must point.
struct Case {
    name: &'static str,
    text: &'static str,
    /// `line:col` of the error.
    at: &'static str,
    /// A fragment the message must contain.
    says: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "tab indentation",
        text: "version: 0.2\nphases:\n  build:\n\tcommands:\n      - echo hi\n",
        at: "4:1",
        says: "tab",
    },
    Case {
        name: "phases is a list",
        text: "version: 0.2\nphases:\n  - build\n",
        at: "3:3",
        says: "`phases` must be a mapping, found a list",
    },
    Case {
        name: "unknown phase",
        text: "version: 0.2\nphases:\n  biuld:\n    commands:\n      - echo hi\n",
        at: "3:3",
        says: "unknown phase `biuld`",
    },
    Case {
        name: "bad on-failure value",
        text: "version: 0.2\nphases:\n  build:\n    on-failure: MAYBE\n    commands:\n      - echo hi\n",
        at: "4:17",
        says: "`on-failure` is `MAYBE`",
    },
    Case {
        name: "bad secret reference",
        text: "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: \"a:b:c:d:e\"\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "4:12",
        says: "secret reference `a:b:c:d:e`",
    },
    Case {
        name: "secret reference with an empty id",
        text: "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: :password\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "4:12",
        says: "the secret id is empty",
    },
    Case {
        name: "unquoted key: value command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n      - echo \"a: b\"\n",
        at: "6:9",
        says: "Expected Commands[1] to be of string type: found subkeys",
    },
    Case {
        name: "unquoted key: value in finally",
        text: "version: 0.2\nphases:\n  build:\n    finally:\n      - curl -H Accept: json\n",
        at: "5:9",
        says: "Expected Finally[0] to be of string type",
    },
    Case {
        name: "unknown version",
        text: "version: 0.3\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "1:10",
        says: "`version` is `0.3`",
    },
    Case {
        name: "version is a list",
        text: "version: [0.2]\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "1:10",
        says: "`version` must be 0.1 or 0.2, found a list",
    },
    Case {
        name: "missing version",
        text: "phases:\n  build:\n    commands:\n      - echo hi\n",
        at: "1:1",
        says: "no `version`",
    },
    Case {
        name: "missing phases",
        text: "version: 0.2\nenv:\n  variables:\n    A: b\n",
        at: "1:1",
        says: "no `phases` section",
    },
    Case {
        name: "empty file",
        text: "",
        at: "1:1",
        says: "the buildspec is empty",
    },
    Case {
        name: "document is a list",
        text: "- version: 0.2\n",
        at: "1:1",
        says: "must be a mapping, found a list",
    },
    Case {
        name: "commands as a string",
        text: "version: 0.2\nphases:\n  build:\n    commands: echo hi\n",
        at: "4:15",
        says: "`commands` must be a list of commands, found a single string",
    },
    Case {
        name: "commands as a mapping",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      run: echo hi\n",
        at: "5:7",
        says: "`commands` must be a list of commands, found a mapping",
    },
    Case {
        name: "a mapping command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - { run: echo }\n",
        at: "5:9",
        says: "Expected Commands[0] to be of string type: found subkeys",
    },
    Case {
        name: "a list command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo ok\n      - [a, b]\n",
        at: "6:9",
        says: "Expected Commands[1] to be of string type: found a list",
    },
    Case {
        name: "empty command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo ok\n      -\n      - echo after\n",
        at: "6:8",
        says: "Commands[1] is empty",
    },
    Case {
        name: "bad bool",
        text: "version: 0.2\nenv:\n  git-credential-helper: maybe\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "3:26",
        says: "`env.git-credential-helper` is `maybe`; expected yes or no",
    },
    Case {
        name: "bad artifact bool",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files:\n    - a.txt\n  discard-paths: sometimes\n",
        at: "9:18",
        says: "`discard-paths` is `sometimes`",
    },
    Case {
        name: "bad shell",
        text: "version: 0.2\nenv:\n  shell: zsh\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "3:10",
        says: "`env.shell` is `zsh`",
    },
    Case {
        name: "windows shell",
        text: "version: 0.2\nenv:\n  shell: powershell.exe\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "3:10",
        says: "a Windows shell",
    },
    Case {
        name: "bad file-format",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nreports:\n  unit:\n    files:\n      - report.xml\n    file-format: JUNIT\n",
        at: "10:18",
        says: "`file-format` is `JUNIT`",
    },
    Case {
        name: "report group without files",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nreports:\n  unit:\n    base-directory: out\n",
        at: "7:3",
        says: "`reports.unit` has no `files`",
    },
    Case {
        name: "bad exported variable name",
        text: "version: 0.2\nenv:\n  exported-variables:\n    - OK\n    - 1BAD\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "5:7",
        says: "`1BAD` is not a valid variable name",
    },
    Case {
        name: "bad variable name",
        text: "version: 0.2\nenv:\n  variables:\n    MY-VAR: x\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "4:5",
        says: "`MY-VAR` is not a valid variable name",
    },
    Case {
        name: "variables as a list",
        text: "version: 0.2\nenv:\n  variables:\n    - A=b\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "4:5",
        says: "`env.variables` must be a mapping, found a list",
    },
    Case {
        name: "variable value is a mapping",
        text: "version: 0.2\nenv:\n  variables:\n    A:\n      nested: x\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "5:7",
        says: "`env.variables.A` must be a string, found a mapping",
    },
    Case {
        name: "empty parameter name",
        text: "version: 0.2\nenv:\n  parameter-store:\n    PW: \"\"\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "4:9",
        says: "a parameter name is empty",
    },
    Case {
        name: "retry count over 100",
        text: "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-101\n    commands:\n      - echo hi\n",
        at: "4:17",
        says: "at most 100 retries",
    },
    Case {
        name: "bad retry regex",
        text: "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-2-(unclosed\n    commands:\n      - echo hi\n",
        at: "4:17",
        says: "not a valid regular expression",
    },
    Case {
        name: "JSON syntax error",
        text: "{\"version\": \"0.2\",\n \"phases\": {\"build\": {\"commands\": [\"echo hi\"]}\n",
        at: "2:12",
        says: "unclosed bracket",
    },
    Case {
        name: "duplicate key",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one\n    commands:\n      - echo two\n",
        at: "6:5",
        says: "`commands` appears twice",
    },
    Case {
        name: "duplicate top-level key",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one\nversion: 0.2\n",
        at: "6:1",
        says: "`version` appears twice",
    },
    Case {
        name: "unquoted **/* pattern",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files:\n    - **/*\n",
        at: "8:7",
        says: "quote",
    },
    Case {
        name: "unquoted flow-sequence command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - [ -f package.json ] && echo has-pkg\n",
        at: "5:29",
        says: "YAML syntax error",
    },
    Case {
        name: "backtick command",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - `date`\n",
        at: "5:9",
        says: "YAML syntax error",
    },
    Case {
        name: "unclosed quote",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - \"echo hi\n",
        at: "5:17",
        says: "YAML syntax error",
    },
    Case {
        name: "alias without an anchor",
        text: "version: 0.2\nphases:\n  build: *missing\n",
        at: "3:10",
        says: "a value starting with `*` reads as a YAML alias",
    },
    Case {
        name: "merge key with a scalar",
        text: "version: 0.2\nphases:\n  build:\n    <<: 5\n    commands:\n      - echo hi\n",
        at: "4:9",
        says: "merge key",
    },
    Case {
        name: "run-as is a list",
        text: "version: 0.2\nrun-as: [root]\nphases:\n  build:\n    commands:\n      - echo hi\n",
        at: "2:9",
        says: "`run-as` must be a string, found a list",
    },
    Case {
        name: "phase is a list",
        text: "version: 0.2\nphases:\n  build:\n    - echo hi\n",
        at: "4:5",
        says: "`build` must be a mapping, found a list",
    },
    Case {
        name: "artifacts files is a mapping",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files:\n    a: b\n",
        at: "8:5",
        says: "`artifacts.files` must be a list of strings, found a mapping",
    },
    Case {
        name: "secondary artifact without files",
        text: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files: [a]\n  secondary-artifacts:\n    extra:\n      name: x\n",
        at: "9:5",
        says: "`secondary-artifacts.extra` has no `files`",
    },
];

fn run(text: &str, command: &str) -> Output {
    Test::new().buildspec(text).arg(command).run()
}

/// The error's line, column, the offending line and the caret; `Err` says what is wrong.
fn check_located(case: &Case, out: &Output) -> Result<(), String> {
    let (line, col): (usize, usize) = {
        let (l, c) = case.at.split_once(':').unwrap();
        (l.parse().unwrap(), c.parse().unwrap())
    };
    let context = format!("case `{}`:\n{out}", case.name);
    let check = |ok: bool, what: String| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what}; {context}"))
        }
    };
    check(out.code == 2, "exit status 2".to_owned())?;
    check(
        out.stderr.contains("YAML_FILE_ERROR"),
        "YAML_FILE_ERROR".to_owned(),
    )?;
    check(
        out.stderr.contains(case.says),
        format!("message {:?}", case.says),
    )?;
    let arrow = format!("--> buildspec.yml:{line}:{col}\n");
    check(out.stderr.contains(&arrow), format!("want {arrow:?}"))?;
    let Some(source) = case.text.lines().nth(line - 1) else {
        // An empty document has no line to show.
        return check(case.text.is_empty(), format!("line {line} exists"));
    };
    let shown = source.replace('\t', "    ");
    let gutter = " ".repeat(line.to_string().len());
    let quoted = format!("\n{line} | {shown}\n");
    check(out.stderr.contains(&quoted), format!("want {quoted:?}"))?;
    let caret_line = out
        .stderr
        .split(&quoted)
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_default();
    let pad: usize = source
        .chars()
        .take(col - 1)
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    let caret_prefix = format!("{gutter} | {}^", " ".repeat(pad));
    check(
        caret_line.starts_with(&caret_prefix),
        format!("caret line {caret_line:?} must start with {caret_prefix:?}"),
    )
}

#[test]
fn malformed_buildspecs_exit_2_with_position_line_and_caret() {
    assert!(CASES.len() >= 25);
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in CASES {
        assert!(names.insert(case.name), "duplicate case {}", case.name);
        let out = run(case.text, "build");
        if let Err(failure) = check_located(case, &out) {
            failures.push(failure);
            continue;
        }
        // Nothing ran, and the report says why.
        assert!(
            !out.stdout.contains("Entering phase"),
            "{}: {out}",
            case.name
        );
        let report = out.report();
        assert_eq!(report["status"], "FAILED", "{}", case.name);
        assert_eq!(
            report["phases"][0]["name"], "DOWNLOAD_SOURCE",
            "{}",
            case.name
        );
        assert_eq!(report["error"], "YAML_FILE_ERROR", "{}", case.name);
        // `validate` says the same.
        let out = run(case.text, "validate");
        if let Err(failure) = check_located(case, &out) {
            failures.push(format!("validate: {failure}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn github_actions_gets_an_error_annotation_at_the_position() {
    let out = Test::new()
        .buildspec(CASES[3].text)
        .arg("build")
        .github_actions()
        .run();
    assert_eq!(out.code, 2, "{out}");
    let annotation = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation; {out}"));
    assert!(
        annotation.starts_with("::error file=buildspec.yml,line=4,col=17,title=YAML_FILE_ERROR::"),
        "{annotation}"
    );
}

fn rendered(text: &str) -> String {
    let out = run(text, "validate");
    assert_eq!(out.code, 2, "{out}");
    out.stderr
}

#[test]
fn snapshot_bad_on_failure() {
    insta::assert_snapshot!(rendered(CASES[3].text));
}

#[test]
fn snapshot_unquoted_colon_command() {
    insta::assert_snapshot!(rendered(CASES[6].text));
}

#[test]
fn snapshot_tab_indentation() {
    insta::assert_snapshot!(rendered(CASES[0].text));
}

#[test]
fn snapshot_unknown_phase_with_suggestion() {
    insta::assert_snapshot!(rendered(CASES[2].text));
}

#[test]
fn snapshot_unquoted_glob() {
    let case = CASES
        .iter()
        .find(|c| c.name == "unquoted **/* pattern")
        .unwrap();
    insta::assert_snapshot!(rendered(case.text));
}

// ---------------------------------------------------------------- validate

#[test]
fn validate_accepts_a_valid_buildspec_and_runs_nothing() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  install:\n    commands:\n      - touch ran\n  build:\n    commands:\n      - echo a\n    finally:\n      - echo b\n",
        )
        .arg("validate")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("buildspec.yml: valid"), "{out}");
    assert!(out.stdout.contains("3 commands"), "{out}");
    assert!(!out.path("ran").exists());
    assert!(!out.stdout.contains("Entering phase"), "{out}");
}

#[test]
fn validate_warns_about_unknown_keys_with_positions() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nfoo: bar\nenv:\n  compute-type: small\nphases:\n  build:\n    env:\n      variables: {}\n    comands:\n      - echo a\ncache:\n  key: x\n",
        )
        .arg("validate")
        .run();
    assert_eq!(out.code, 0, "{out}");
    for (key, at) in [
        ("foo", "buildspec.yml:2:1"),
        ("compute-type", "buildspec.yml:4:3"),
        ("env", "buildspec.yml:7:5"),
        ("comands", "buildspec.yml:9:5"),
    ] {
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains(&format!("cannot be identified: {key}")))
            .unwrap_or_else(|| panic!("no warning for `{key}`; {out}"));
        assert!(line.starts_with("warning: "), "{line}");
        assert!(line.contains(at), "`{key}` at {at}: {line}");
    }
    assert!(
        out.stderr.contains("did you mean `commands`?"),
        "a near miss gets a suggestion; {out}"
    );
    assert!(
        out.stderr
            .contains("`cache` is accepted but not applicable"),
        "{out}"
    );
}

#[test]
fn validate_accepts_every_example() {
    let examples = crate::harness::repo_path("examples");
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(&examples) {
        let entry = entry.unwrap();
        if entry.file_name() != "buildspec.yml" {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let out = run(&text, "validate");
        assert_eq!(out.code, 0, "{}: {out}", entry.path().display());
    }
    assert!(seen > 0, "no examples found");
}

#[test]
fn validate_json_and_version_01() {
    let out = run(
        r#"{"version": 0.1, "phases": {"build": {"commands": ["echo hi"]}}}"#,
        "validate",
    );
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("(version 0.1,"), "{out}");
}

#[test]
fn validate_missing_file() {
    let out = Test::new().arg("validate").run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("YAML_FILE_ERROR"), "{out}");
    assert!(out.stderr.contains("buildspec.yml"), "{out}");
}
