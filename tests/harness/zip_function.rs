//! Zip functions on the shared moto for suites that deploy: a name no other test uses, the
//! role moto needs, a function created from a zip with the aws CLI, and small zips built in
//! memory. Must not: start servers (that is `moto`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::Moto;

const ROLE_NAME: &str = "lambda-pipeline-zip-function";

/// `<prefix>-<pid>-<n>`: unique across the tests of this process.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The aws CLI against the shared moto; its JSON answer. Panics with stderr on failure.
pub fn aws(args: &[&str]) -> Value {
    let moto = Moto::shared();
    let output = std::process::Command::new("aws")
        .args(["--endpoint-url", &moto.endpoint()])
        .args(args)
        .envs(moto.env())
        .output()
        .expect("the aws CLI is required (pip install awscli)");
    assert!(
        output.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

fn role() -> String {
    static ARN: OnceLock<String> = OnceLock::new();
    ARN.get_or_init(|| {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let created = aws(&[
            "iam",
            "create-role",
            "--role-name",
            ROLE_NAME,
            "--assume-role-policy-document",
            policy,
        ]);
        created["Role"]["Arn"].as_str().unwrap().to_owned()
    })
    .clone()
}

/// Creates `name` with `runtime` and `handler`, running the zip at `zip`.
pub fn create(name: &str, runtime: &str, handler: &str, zip: &Path) {
    aws(&[
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        runtime,
        "--handler",
        handler,
        "--role",
        &role(),
        "--zip-file",
        &format!("fileb://{}", zip.display()),
    ]);
}

/// Writes a stored zip holding `files` at `path` (fixed timestamps: the same files give the
/// same bytes).
pub fn write_zip(path: &Path, files: &[(&str, &[u8])]) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    for (name, contents) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap();
    path.to_owned()
}
