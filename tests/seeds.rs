//! Every complete buildspec of `shared/seeds/` runs unchanged (copies in
//! `tests/fixtures/seeds/`). Their `aws lambda update-function-code` calls reach moto through
//! `AWS_ENDPOINT_URL`; each test creates the functions first and then checks that the
//! function's CodeSha256 became the SHA-256 of the zip the build produced.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::harness::assert::{assert_phases, assert_status};
use crate::harness::aws::unique;
use crate::harness::process::block_on;
use crate::harness::{Moto, Output, Test, provision, repo_path};

fn fixture(name: &str) -> PathBuf {
    repo_path("tests/fixtures/seeds").join(name)
}

/// A workspace holding a copy of the seed project `name`.
fn seed(name: &str) -> Test {
    let test = Test::new().aws();
    copy_dir(&fixture(name), &test.workspace());
    test
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the real `aws` CLI against moto (test set-up only).
fn aws_cli(args: &[&str]) -> String {
    let output = Command::new(provision::aws_cli())
        .args(args)
        .envs(Moto::shared().env())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the aws CLI ({e})"));
    assert!(
        output.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An IAM role Lambda accepts (moto checks that it exists).
fn lambda_role() -> String {
    let name = unique("seed-role");
    aws_cli(&[
        "iam",
        "create-role",
        "--role-name",
        &name,
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    ]);
    format!("arn:aws:iam::123456789012:role/{name}")
}

/// A small zip holding one file.
fn zip_of(name: &str, contents: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut buffer);
    writer
        .start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(contents.as_bytes()).unwrap();
    writer.finish().unwrap();
    buffer.into_inner()
}

fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

async fn lambda() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&Moto::shared().sdk_config().await)
}

/// Creates `name` with placeholder code; returns its CodeSha256.
async fn create_function(name: &str, role: &str) -> String {
    let code = zip_of("lambda_function.py", &format!("# placeholder for {name}\n"));
    let out = lambda()
        .await
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("lambda_function.lambda_handler")
        .role(role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(code))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_function {name} on moto: {e:?}"));
    out.code_sha256().unwrap().to_owned()
}

async fn deployed_sha(name: &str) -> String {
    let out = lambda()
        .await
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_function {name}: {e:?}"));
    out.configuration()
        .and_then(|c| c.code_sha256())
        .unwrap()
        .to_owned()
}

fn warnings(out: &Output) -> Vec<String> {
    out.report()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect()
}

/// `pip` must not reach an index: the seed installs a local wheel.
fn offline(test: Test) -> Test {
    test.env("PIP_NO_INDEX", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
}

#[test]
fn seed_lambda_cicd_pipeline_deploys_the_zip_it_built() {
    provision::require_program("zip", "apt-get install zip");
    let role = lambda_role();
    let before = block_on(create_function("my-lambda-function", &role));
    let test = offline(seed("lambda-cicd")).arg("build");
    // No runtime manifest: the installed python is compared with `python: 3.9`.
    let missing = test.dir.path().join("no-runtimes.yml");
    let out = test
        .env("LAMBDA_PIPELINE_RUNTIMES_FILE", missing.to_str().unwrap())
        .run();

    // Every command phase ran; UPLOAD_ARTIFACTS (packaging) was attempted after them.
    assert_phases(&out, "I✓ P✓ B✓ PB✓ U?");
    let lines = out.command_output();
    for expected in [
        "Installing dependencies...",
        "Packaging Lambda function...",
        "Deploying to Lambda...",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected}; {out}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Deployment completed on ")),
        "{out}"
    );

    // python here is not 3.9: a warning naming both versions, not a failure.
    let installed = python_version();
    assert!(
        warnings(&out)
            .iter()
            .any(|w| w.contains("python 3.9") && w.contains(&installed)),
        "{out}"
    );

    let zip = std::fs::read(out.path("deployment.zip")).expect("the seed built deployment.zip");
    let built = code_sha256(&zip);
    let after = block_on(deployed_sha("my-lambda-function"));
    assert_ne!(before, after, "the function's code did not change");
    assert_eq!(
        after, built,
        "moto holds a different zip than the one built"
    );
    // The zip holds the installed dependency and the handler.
    let names: Vec<String> = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .unwrap()
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    assert!(
        names.contains(&"lambda_function.py".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"tinydep/__init__.py".to_owned()),
        "{names:?}"
    );
}

#[test]
fn seed_multi_environment_picks_the_function_from_env() {
    let role = lambda_role();
    let functions = ["my-lambda-dev", "my-lambda-staging", "my-lambda-prod"];
    let before: Vec<String> = block_on(async {
        let mut shas = Vec::new();
        for name in functions {
            shas.push(create_function(name, &role).await);
        }
        shas
    });

    let zip = zip_of(
        "lambda_function.py",
        &std::fs::read_to_string(fixture("multi-environment/lambda_function.py")).unwrap(),
    );
    let test = seed("multi-environment").arg("build");
    std::fs::write(test.workspace().join("deployment.zip"), &zip).unwrap();
    let out = test.input("env-vars", "ENV=prod").run();
    assert_phases(&out, "I✓ P✓ B✓ PB✓");
    assert_status(&out, "SUCCEEDED");
    let after: Vec<String> = block_on(async {
        let mut shas = Vec::new();
        for name in functions {
            shas.push(deployed_sha(name).await);
        }
        shas
    });
    assert_eq!(after[2], code_sha256(&zip), "prod got the zip");
    assert_eq!(after[0], before[0], "dev untouched");
    assert_eq!(after[1], before[1], "staging untouched");

    // Without the override the buildspec's own `ENV: "dev"` applies.
    let zip = zip_of("lambda_function.py", "# dev build\n");
    let test = seed("multi-environment").arg("build");
    std::fs::write(test.workspace().join("deployment.zip"), &zip).unwrap();
    let out = test.run();
    assert_status(&out, "SUCCEEDED");
    assert_eq!(block_on(deployed_sha("my-lambda-dev")), code_sha256(&zip));
}

fn python_version() -> String {
    let output = Command::new("python3")
        .arg("--version")
        .output()
        .expect("python3 is required");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}
