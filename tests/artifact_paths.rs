//! Artifact paths as CodeBuild reads them (issue 13): variables in `files`, `exclude-paths` and
//! secondary artifacts; absolute paths inside the source directory; buildspecs with only
//! `secondary-artifacts`; the package checked against the function's handler before a deploy;
//! and the small things a first run shows (the log's wording, `validate`'s version, the help
//! text, the build's temporary directory).

use std::path::Path;

use serde_json::Value;

use crate::harness::zip_function::{create, unique_name, write_zip};
use crate::harness::{Output, Test};

fn files(artifact: &Value) -> Vec<String> {
    artifact["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files in {artifact}"))
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

/// A workspace with `target/app.jar`, `target/skip/x.txt`, `README.md` and `buildspec.yml`.
fn tree(artifacts: &str) -> Test {
    Test::new()
        .file("target/app.jar", "jar\n")
        .file("target/skip/x.txt", "skip\n")
        .file("README.md", "readme\n")
        .buildspec(&format!(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\nartifacts:\n{artifacts}"
        ))
}

fn canonical_workspace(test: &Test) -> String {
    test.workspace()
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn variables_are_expanded_in_files_and_exclude_paths() {
    // The AWS tutorial's form, and an exclusion through a buildspec variable.
    let out = tree("")
        .buildspec(
            "version: 0.2\nenv:\n  variables:\n    SKIP: target/skip\nphases:\n  build:\n    commands:\n      - echo built\nartifacts:\n  files:\n    - $CODEBUILD_SRC_DIR/target/**\n  exclude-paths:\n    - ${SKIP}/**/*\n",
        )
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(files(&out.report()["artifacts"]), ["target/app.jar"]);
}

#[test]
fn variables_set_by_a_command_are_expanded_in_secondary_artifacts() {
    let out = tree("")
    .buildspec(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - OUT=target; JAR=app.jar; SKIP_ALL='skip/**/*'\nartifacts:\n  files:\n    - README.md\n  secondary-artifacts:\n    jar:\n      base-directory: $OUT\n      files:\n        - $JAR\n        - '**/*'\n      exclude-paths: $SKIP_ALL\n",
    )
    .arg("build")
    .run();
    assert_eq!(out.code, 0, "{out}");
    let secondary = &out.report()["artifacts"]["secondary"][0];
    assert_eq!(secondary["identifier"], "jar");
    assert_eq!(files(secondary), ["app.jar"]);
}

#[test]
fn package_command_expands_variables_in_files_too() {
    let test = tree("  files:\n    - $CODEBUILD_SRC_DIR/target/*.jar\n");
    let zip = test.dir.path().join("files/out.zip");
    let out = test
        .args(&["package", "--output", zip.to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(files(&out.report()["artifacts"]), ["target/app.jar"]);
}

#[test]
fn an_absolute_path_inside_the_source_directory_is_taken_relative_to_it() {
    let test = Test::new();
    let root = canonical_workspace(&test);
    let out = test
        .file("dist/a.js", "a\n")
        .file("dist/sub/b.js", "b\n")
        .buildspec(&format!(
            "version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\nartifacts:\n  base-directory: dist\n  files:\n    - {root}/dist/**/*\n  exclude-paths: {root}/dist/sub/*\n"
        ))
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(files(&out.report()["artifacts"]), ["a.js"]);
}

#[test]
fn an_absolute_path_outside_is_refused_with_a_true_message() {
    let test = Test::new();
    let root = canonical_workspace(&test);
    let outside = tree(&format!(
        "  files:\n    - /etc/hostname\n    - {root}/README.md\n"
    ))
    .arg("build")
    .run();
    assert_eq!(outside.code, 1, "{outside}");
    let text = outside.report().to_string();
    assert!(
        text.contains("`/etc/hostname` is outside the source directory"),
        "{outside}"
    );
    assert!(!text.contains("leaves the base directory"), "{outside}");

    let test = Test::new();
    let root = canonical_workspace(&test);
    let out = test
        .file("dist/a.js", "a\n")
        .file("lib/c.js", "c\n")
        .buildspec(&format!(
            "version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\nartifacts:\n  base-directory: dist\n  files:\n    - {root}/lib/c.js\n"
        ))
        .arg("build")
        .run();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.report()
            .to_string()
            .contains("/lib/c.js` is outside base-directory `dist`"),
        "{out}"
    );
}

const SECONDARY_ONLY: &str = "version: 0.2\nphases:\n  build:\n    commands:\n      - \"mkdir -p out && echo 'def handler(e, c): return 1' > out/app.py\"\nartifacts:\n  secondary-artifacts:\n    app:\n      base-directory: out\n      files: [ '**/*' ]\n    docs:\n      files: [ buildspec.yml ]\n";

#[test]
fn a_buildspec_with_only_secondary_artifacts_builds() {
    let out = Test::new().buildspec(SECONDARY_ONLY).arg("build").run();
    assert_eq!(out.code, 0, "{out}");
    let report = out.report();
    let secondary = report["artifacts"]["secondary"].as_array().unwrap();
    let ids: Vec<&str> = secondary
        .iter()
        .map(|a| a["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["app", "docs"]);
    assert_eq!(files(&secondary[0]), ["app.py"]);
    assert_eq!(
        out.phase_status("UPLOAD_ARTIFACTS").as_deref(),
        Some("SUCCEEDED")
    );
}

#[test]
fn validate_says_which_artifact_the_deploy_would_use() {
    let out = Test::new().buildspec(SECONDARY_ONLY).arg("validate").run();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("deploy package: secondary artifact `app`"),
        "{out}"
    );
    let zip = Test::new()
        .buildspec(SECONDARY_ONLY)
        .args(&["validate", "--zip-file", "build/app.zip"])
        .run();
    assert!(
        zip.stdout
            .contains("deploy package: `build/app.zip` as it is (zip-file)"),
        "{zip}"
    );
    let primary = tree("  files: [ README.md ]\n").arg("validate").run();
    assert!(
        primary
            .stdout
            .contains("deploy package: the primary artifact"),
        "{primary}"
    );
}

#[test]
fn validate_prints_the_version_as_written() {
    let out = tree("  files: [ README.md ]\n").arg("validate").run();
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("(version 0.2,"), "{out}");
    assert!(!out.stdout.contains("V02"), "{out}");
}

fn deploy(test: Test, function: &str) -> Output {
    test.aws().args(&["run", "--function-name", function]).run()
}

fn report_warnings(out: &Output) -> Vec<String> {
    out.report()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect()
}

/// A python3.12 function `app.handler` created from a zip holding `app.py`.
fn python_function(dir: &Path) -> String {
    let name = unique_name("paths");
    let zip = write_zip(
        &dir.join("initial.zip"),
        &[("app.py", b"def handler(e, c):\n    return 0\n")],
    );
    create(&name, "python3.12", "app.handler", &zip);
    name
}

#[test]
fn secondary_artifacts_only_deploy_the_first_and_zip_file_is_not_blocked() {
    let test = Test::new().buildspec(SECONDARY_ONLY);
    let function = python_function(test.dir.path());
    let out = deploy(test, &function);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("deploying secondary artifact `app`, the first one written"),
        "{out}"
    );
    assert_eq!(out.report()["deploy"][0]["version"], "1", "{out}");
    assert!(
        report_warnings(&out).is_empty(),
        "{:?}",
        report_warnings(&out)
    );

    // With `zip-file`, the same buildspec deploys the zip it builds.
    let zipped = SECONDARY_ONLY.replace(
        "      - \"mkdir -p out",
        "      - mkdir -p build && printf 'def handler(e, c):\\n    return 2\\n' > build/app.py && (cd build && python3 -m zipfile -c app.zip app.py)\n      - \"mkdir -p out",
    );
    let test = Test::new().buildspec(&zipped);
    let function = python_function(test.dir.path());
    let out = deploy(test.input("zip-file", "build/app.zip"), &function);
    assert_eq!(out.code, 0, "{out}");
    let report = out.report();
    assert_eq!(report["artifacts"]["identifier"], "zip-file", "{report:#}");
    assert_eq!(files(&report["artifacts"]), ["app.py"]);
}

#[test]
fn a_zip_inside_the_zip_is_deployed_with_a_warning() {
    let test = Test::new().buildspec(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - \"echo 'def handler(e, c): return 1' > app.py\"\n      - python3 -m zipfile -c deployment.zip app.py\nartifacts:\n  files: [ deployment.zip ]\n",
    );
    let function = python_function(test.dir.path());
    let out = deploy(test.github_actions(), &function);
    assert_eq!(out.code, 0, "a warning, never a failure: {out}");
    let warnings = report_warnings(&out);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("holds only `deployment.zip`") && warnings[0].contains("`zip-file`"),
        "{warnings:?}"
    );
    assert!(
        out.stdout.contains("::warning::") && out.stdout.contains("holds only `deployment.zip`"),
        "said in the log as an annotation: {out}"
    );
    assert!(
        out.summary().contains("holds only `deployment.zip`"),
        "{}",
        out.summary()
    );
}

#[test]
fn a_package_without_the_handler_is_deployed_with_a_warning() {
    // Templates only: the SAM buildspec shape whose artifact is not the function's code.
    let test = Test::new().buildspec(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - \"mkdir -p src && echo 'def handler(e, c): return 1' > src/app.py\"\n      - \"echo 'Resources: {}' > packaged.yml\"\nartifacts:\n  files: [ packaged.yml, 'src/*' ]\n",
    );
    let function = python_function(test.dir.path());
    let out = deploy(test, &function);
    assert_eq!(out.code, 0, "{out}");
    let warnings = report_warnings(&out);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("matches the handler `app.handler`")
            && warnings[0].contains("looks for `app.py`")
            && warnings[0].contains("`package-directory`"),
        "{warnings:?}"
    );
    assert!(
        out.stdout.contains("matches the handler `app.handler`"),
        "{out}"
    );

    // Fixed through the input the warning names: no warning.
    let test = Test::new().buildspec(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - \"mkdir -p src && echo 'def handler(e, c): return 1' > src/app.py\"\n      - \"echo 'Resources: {}' > packaged.yml\"\nartifacts:\n  files: [ packaged.yml, 'src/*' ]\n",
    );
    let function = python_function(test.dir.path());
    let out = deploy(test.input("package-directory", "src"), &function);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(report_warnings(&out), Vec::<String>::new());
}

#[test]
fn the_log_says_when_an_alias_is_new_and_never_contradicts_itself() {
    let dir = tempfile::tempdir().unwrap();
    // The function already runs the exact zip: nothing to upload, but nothing was published
    // yet, so a version is published.
    let zip = write_zip(
        &dir.path().join("app.zip"),
        &[("app.py", b"def handler(e, c):\n    return 0\n")],
    );
    let name = unique_name("log");
    create(&name, "python3.12", "app.handler", &zip);
    let test = Test::new().buildspec("version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\n");
    std::fs::copy(&zip, test.workspace().join("app.zip")).unwrap();
    let out = deploy(test.input("zip-file", "app.zip"), &name);
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains("(previous )"), "{out}");
    assert!(out.stdout.contains("(the alias is new)"), "{out}");
    assert!(
        !out.stdout.contains("nothing to upload or publish"),
        "then it publishes: {out}"
    );
    assert!(out.stdout.contains("nothing to upload"), "{out}");
    assert!(out.stdout.contains("publishing one"), "{out}");

    let test = Test::new().buildspec("version: 0.2\nphases:\n  build:\n    commands: [ 'true' ]\n");
    std::fs::copy(&zip, test.workspace().join("app.zip")).unwrap();
    let again = deploy(test.input("zip-file", "app.zip"), &name);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        again
            .stdout
            .contains("version 1 already runs this code; nothing to publish"),
        "{again}"
    );
    assert!(again.stdout.contains("(previous 1)"), "{again}");
}

#[test]
fn package_directory_help_says_what_it_does() {
    let out = Test::new().arg("--help").run();
    let help = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("zipped and deployed instead of the buildspec's artifacts"),
        "{help}"
    );
    assert!(
        !help.contains("when the buildspec has no artifacts section"),
        "{help}"
    );
}

/// What a run leaves in its state directory, as relative paths.
fn left_in(state: &Path) -> Vec<String> {
    walkdir::WalkDir::new(state)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            e.unwrap()
                .path()
                .strip_prefix(state)
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn a_run_leaves_no_temporary_files_unless_a_report_points_at_them() {
    let test = tree("  files: [ README.md ]\n");
    let state = test.dir.path().join("state");
    let output = test.command().arg("build").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(left_in(&state), Vec::<String>::new());

    let out = tree("  files: [ README.md ]\n").arg("build").run();
    assert_eq!(out.code, 0, "{out}");
    let zip = out.report()["artifacts"]["zip"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(Path::new(&zip).is_file(), "the report file names {zip}");
    let state = out
        .report_path
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("state");
    let left = left_in(&state);
    assert!(
        left.iter().all(|p| !p.contains("scripts")),
        "scripts are removed: {left:?}"
    );
}
