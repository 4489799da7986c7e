//! AWS set-up and inspection against moto: the aws CLI, the test role, functions, aliases,
//! parameters and secrets, and names that no other test uses. Tests use these to arrange and
//! check AWS state; the binary under test finds moto through `Test::aws()`.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::{Moto, provision};

/// The role every test function runs as; `role()` and `create_role_at` create it.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/lambda-pipeline-tests";

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A name no other test uses: `<prefix>-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs the aws CLI against the shared moto and parses its JSON answer.
pub fn aws(args: &[&str]) -> Value {
    aws_at(Moto::shared(), args)
}

/// Runs the aws CLI against `moto` and parses its JSON answer.
pub fn aws_at(moto: &Moto, args: &[&str]) -> Value {
    let output = std::process::Command::new(provision::aws_cli())
        .args(["--endpoint-url", &moto.endpoint()])
        .args(args)
        .envs(Moto::shared().env())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the aws CLI ({e})"));
    assert!(
        output.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// The IAM role moto needs before it creates a function; created once in the shared moto.
pub fn role() -> &'static str {
    static CREATED: OnceLock<()> = OnceLock::new();
    CREATED.get_or_init(|| create_role_at(Moto::shared()));
    ROLE
}

/// Creates the role `ROLE` names in `moto`.
pub fn create_role_at(moto: &Moto) {
    aws_at(
        moto,
        &[
            "iam",
            "create-role",
            "--role-name",
            "lambda-pipeline-tests",
            "--assume-role-policy-document",
            TRUST_POLICY,
        ],
    );
}

/// An isolated moto with the role and `functions` created, for seed buildspecs whose
/// function names are fixed.
pub fn isolated_with(functions: &[&str]) -> Moto {
    let moto = Moto::isolated();
    create_role_at(&moto);
    for name in functions {
        create_zip_function_at(&moto, name);
    }
    moto
}

/// A zip function running `handler_zip("v0")` in `moto`.
pub fn create_zip_function_at(moto: &Moto, name: &str) {
    let zip = handler_zip("v0");
    aws_at(
        moto,
        &[
            "lambda",
            "create-function",
            "--function-name",
            name,
            "--runtime",
            "python3.12",
            "--role",
            ROLE,
            "--handler",
            "lambda_function.lambda_handler",
            "--zip-file",
            &format!("fileb://{}", zip.display()),
        ],
    );
}

/// Writes a zip holding `files` (stored, fixed timestamps) under a temp dir that is kept;
/// returns its path and the files' total size.
pub fn write_zip(files: &[(&str, &[u8])]) -> (PathBuf, u64) {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("package.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let mut uncompressed = 0;
    for (name, contents) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
        uncompressed += contents.len() as u64;
    }
    writer.finish().unwrap();
    (path, uncompressed)
}

/// A Python handler that returns `{"version": version}`.
pub fn handler_code(version: &str) -> String {
    format!("def lambda_handler(event, context):\n    return {{\"version\": \"{version}\"}}\n")
}

/// A zip holding `lambda_function.py` with `handler_code(version)`.
pub fn handler_zip(version: &str) -> PathBuf {
    write_zip(&[("lambda_function.py", handler_code(version).as_bytes())]).0
}

pub fn lambda_client(config: &aws_config::SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(config)
}

/// Creates a function in the shared moto running `handler_zip("v0")`.
pub async fn create_function(name: &str) {
    let config = Moto::shared().sdk_config().await;
    let zip = std::fs::read(handler_zip("v0")).unwrap();
    lambda_client(&config)
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role())
        .handler("lambda_function.lambda_handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// Published version numbers of `name`.
pub async fn versions(name: &str) -> Vec<String> {
    let config = Moto::shared().sdk_config().await;
    lambda_client(&config)
        .list_versions_by_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .filter_map(|v| v.version().map(str::to_owned))
        .filter(|v| v != "$LATEST")
        .collect()
}

pub async fn code_sha(name: &str) -> String {
    code_sha_of(name, None).await
}

/// The CodeSha256 of `$LATEST`, or of a published version.
pub async fn code_sha_of(name: &str, version: Option<&str>) -> String {
    let config = Moto::shared().sdk_config().await;
    lambda_client(&config)
        .get_function_configuration()
        .function_name(name)
        .set_qualifier(version.map(str::to_owned))
        .send()
        .await
        .unwrap()
        .code_sha256()
        .unwrap_or_default()
        .to_owned()
}

/// `(version, routing weights, description)` of an alias, `None` when missing.
pub async fn alias(name: &str, alias: &str) -> Option<(String, Vec<(String, f64)>, String)> {
    let config = Moto::shared().sdk_config().await;
    let found = lambda_client(&config)
        .get_alias()
        .function_name(name)
        .name(alias)
        .send()
        .await
        .ok()?;
    let weights = found
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    Some((
        found.function_version().unwrap_or_default().to_owned(),
        weights,
        found.description().unwrap_or_default().to_owned(),
    ))
}

/// Puts a SecureString parameter in the shared moto.
pub async fn put_parameter(name: &str, value: &str) {
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

/// Creates a secret in the shared moto; returns its ARN.
pub async fn create_secret(name: &str, value: &str) -> String {
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

/// Creates an SNS topic with an SQS queue subscribed; returns (topic ARN, queue URL).
pub fn topic_with_queue() -> (String, String) {
    let topic = aws(&["sns", "create-topic", "--name", &unique("deploys")])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = aws(&["sqs", "create-queue", "--queue-name", &unique("inbox")])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue_arn = aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &queue,
        "--attribute-names",
        "QueueArn",
    ])["Attributes"]["QueueArn"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        &queue_arn,
    ]);
    (topic, queue)
}

/// Every SNS envelope waiting in `queue`.
pub fn received(queue: &str) -> Vec<Value> {
    let answer = aws(&[
        "sqs",
        "receive-message",
        "--queue-url",
        queue,
        "--max-number-of-messages",
        "10",
        "--wait-time-seconds",
        "1",
    ]);
    answer["Messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| serde_json::from_str(m["Body"].as_str().unwrap()).unwrap())
        .collect()
}
