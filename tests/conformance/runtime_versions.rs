//! F. runtime-versions.

use crate::harness::assert::assert_status;
use crate::harness::{Output, Test};

use super::{assert_output, build, test, warnings};

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
