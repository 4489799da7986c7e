//! Container-image functions against moto with `MOTO_LAMBDA_STUB_ECR=false`, so that moto
//! resolves images through its own ECR as Lambda does: `image-uri` from an exported variable,
//! the digest from ECR `DescribeImages`, the unchanged-digest skip, the zip/image mismatch
//! errors, and the digest in the outputs, the summary and the SNS message. Docker itself (a
//! build that builds and pushes an image) runs in `.ci/container-test`.

use serde_json::Value;

use crate::harness::aws::{ROLE, aws_at, create_role_at, create_zip_function_at};
use crate::harness::faults::FaultProxy;
use crate::harness::{Moto, Output, Test};

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A moto that resolves image URIs through its ECR, with the test role and a repository.
fn moto_with_ecr(repository: &str) -> Moto {
    let moto = Moto::isolated_with_env(&[("MOTO_LAMBDA_STUB_ECR", "false")]);
    create_role_at(&moto);
    aws_at(
        &moto,
        &["ecr", "create-repository", "--repository-name", repository],
    );
    moto
}

/// Puts an image manifest under `tag`; returns its digest (`sha256:...`).
fn push_manifest(moto: &Moto, repository: &str, tag: &str, config_size: u64) -> String {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": config_size,
            "digest": format!("sha256:{:064x}", config_size),
        },
        // moto's digest is the hash of the layer digests: one layer per image tells them apart.
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": config_size,
            "digest": format!("sha256:{:064x}", config_size * 7),
        }],
    })
    .to_string();
    let answer = aws_at(
        moto,
        &[
            "ecr",
            "put-image",
            "--repository-name",
            repository,
            "--image-tag",
            tag,
            "--image-manifest",
            &manifest,
        ],
    );
    answer["image"]["imageId"]["imageDigest"]
        .as_str()
        .expect("a digest")
        .to_owned()
}

fn create_image_function(moto: &Moto, name: &str, uri: &str) {
    aws_at(
        moto,
        &[
            "lambda",
            "create-function",
            "--function-name",
            name,
            "--package-type",
            "Image",
            "--code",
            &format!("ImageUri={uri}"),
            "--role",
            ROLE,
        ],
    );
}

fn function_code(moto: &Moto, name: &str) -> Value {
    aws_at(moto, &["lambda", "get-function", "--function-name", name])
}

/// A build that exports `IMAGE_URI`, deployed with `image-uri: ${IMAGE_URI}`.
fn image_run(moto_endpoint: &str, function: &str, uri: &str) -> Output {
    Test::new()
        .buildspec(&format!(
            "version: 0.2\nenv:\n  exported-variables:\n    - IMAGE_URI\nphases:\n  build:\n    commands:\n      - export IMAGE_URI={uri}\n"
        ))
        .aws()
        .github_actions()
        .env("AWS_ENDPOINT_URL", moto_endpoint)
        .input("function-name", function)
        .input("image-uri", "${IMAGE_URI}")
        .arg("run")
        .run()
}

#[test]
fn image_deploys_compare_digests_and_report_them() {
    let repository = "hello-image";
    let moto = moto_with_ecr(repository);
    let first = push_manifest(&moto, repository, "v1", 1111);
    let function = "hello-image-fn";
    create_image_function(&moto, function, &format!("{REGISTRY}/{repository}:v1"));
    let topic = aws_at(&moto, &["sns", "create-topic", "--name", "deploys"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same image: no UpdateFunctionCode; a first version is published for it, and the
    // alias made.
    let out = image_run(
        &moto.endpoint(),
        function,
        &format!("{REGISTRY}/{repository}:v1"),
    );
    assert_eq!(out.code, 0, "{out}");
    let outputs = out.outputs();
    assert_eq!(outputs["image-digest"], first, "{outputs:?}");
    assert_eq!(outputs["version"], "1", "{outputs:?}");
    assert!(out.stdout.contains("code unchanged"), "{out}");
    assert_eq!(out.report()["deploy"][0]["upload"], "none");

    // A new tag: UpdateFunctionCode pinned to the digest, published, alias moved, reported.
    let second = push_manifest(&moto, repository, "v2", 2222);
    let proxy = FaultProxy::start(&moto.endpoint());
    let out = Test::new()
        .buildspec(&format!(
            "version: 0.2\nenv:\n  exported-variables:\n    - IMAGE_URI\nphases:\n  build:\n    commands:\n      - export IMAGE_URI={REGISTRY}/{repository}:v2\n"
        ))
        .aws()
        .github_actions()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .input("function-name", function)
        .input("image-uri", "${IMAGE_URI}")
        .input("sns-topic-arn", &topic)
        .arg("run")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let outputs = out.outputs();
    assert_eq!(outputs["deployed"], "true", "{outputs:?}");
    assert_eq!(outputs["image-digest"], second, "{outputs:?}");
    assert_eq!(outputs["version"], "2", "{outputs:?}");
    let code = function_code(&moto, function);
    assert_eq!(
        code["Code"]["ImageUri"],
        format!("{REGISTRY}/{repository}@{second}"),
        "{code:#}"
    );
    assert_eq!(
        code["Configuration"]["CodeSha256"],
        second.trim_start_matches("sha256:"),
        "{code:#}"
    );
    let alias = aws_at(
        &moto,
        &[
            "lambda",
            "get-alias",
            "--function-name",
            function,
            "--name",
            "live",
        ],
    );
    assert_eq!(alias["FunctionVersion"], "2");
    let report = out.report();
    assert_eq!(report["deploy"][0]["upload"], "image");
    assert_eq!(report["image"]["digest"], second.as_str());
    assert_eq!(
        report["image"]["repository"],
        format!("{REGISTRY}/{repository}")
    );
    assert!(report["image"]["pushed_at"].is_string(), "{report:#}");
    let summary = out.summary();
    assert!(summary.contains("### Image"), "{summary}");
    assert!(summary.contains(&second), "{summary}");
    let sns = proxy
        .requests()
        .into_iter()
        .find(|r| r.body.contains("Action=Publish"))
        .expect("an SNS message");
    assert!(
        sns.body.contains(second.trim_start_matches("sha256:")),
        "{}",
        sns.body
    );

    // Again: the digest matches what the function runs, so nothing is updated or published.
    let out = image_run(
        &moto.endpoint(),
        function,
        &format!("{REGISTRY}/{repository}:v2"),
    );
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.outputs()["deployed"], "false");
    assert_eq!(out.outputs()["version"], "2");
    let versions = aws_at(
        &moto,
        &[
            "lambda",
            "list-versions-by-function",
            "--function-name",
            function,
        ],
    );
    assert_eq!(
        versions["Versions"].as_array().unwrap().len(),
        3,
        "{versions:#}"
    );

    // A zip for the image function: an input error that names its package type.
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files:\n    - buildspec.yml\n")
        .aws()
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .input("function-name", function)
        .arg("run")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("has PackageType Image"), "{out}");
    assert!(out.stderr.contains("image-uri"), "{out}");
    assert_eq!(
        function_code(&moto, function)["Code"]["ImageUri"],
        code["Code"]["ImageUri"]
    );
}

#[test]
fn an_image_for_a_zip_function_is_an_input_error() {
    let repository = "zip-target";
    let moto = moto_with_ecr(repository);
    push_manifest(&moto, repository, "v1", 3333);
    create_zip_function_at(&moto, "zip-fn");
    let before = function_code(&moto, "zip-fn")["Configuration"]["CodeSha256"].clone();
    let out = image_run(
        &moto.endpoint(),
        "zip-fn",
        &format!("{REGISTRY}/{repository}:v1"),
    );
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("`zip-fn` has PackageType Zip"), "{out}");
    assert_eq!(
        function_code(&moto, "zip-fn")["Configuration"]["CodeSha256"],
        before
    );

    // An image the build never exported: the input is named, nothing changes.
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\n")
        .aws()
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .input("function-name", "zip-fn")
        .input("image-uri", "${IMAGE_URI}")
        .arg("run")
        .run();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("input `image-uri`"), "{out}");
    assert!(out.stderr.contains("IMAGE_URI"), "{out}");
}

// ---------------------------------------------------------------- docker in the build

#[test]
fn docker_without_a_daemon_socket_gets_one_clear_message() {
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - docker version || true\n      - docker build -t x . || true\n      - echo after\n",
        )
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg("build")
        .run();
    assert_eq!(out.code, 0, "{out}");
    let everything = format!("{}{}", out.stdout, out.stderr);
    let said = everything
        .matches("there is no Docker daemon socket at /nonexistent/docker.sock")
        .count();
    assert_eq!(said, 1, "{out}");
    assert!(
        everything.contains("-v /var/run/docker.sock:/var/run/docker.sock"),
        "{out}"
    );

    // A build that never calls docker hears nothing about it.
    let out = Test::new()
        .buildspec("version: 0.2\nphases:\n  build:\n    commands:\n      - echo Dockerfile\n")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .arg("build")
        .run();
    assert!(!out.stdout.contains("Docker daemon socket"), "{out}");
}

#[test]
fn the_build_sees_the_host_path_of_its_workspace() {
    let test = Test::new().buildspec(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"host=$LAMBDA_PIPELINE_HOST_WORKSPACE\"\n",
    );
    let workspace = test.workspace();
    let out = test.arg("build").run();
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("host={}", workspace.display())),
        "{out}"
    );
    let out = Test::new()
        .buildspec(
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"host=$LAMBDA_PIPELINE_HOST_WORKSPACE\"\n",
        )
        .env("LAMBDA_PIPELINE_HOST_WORKSPACE", "/srv/checkout")
        .arg("build")
        .run();
    assert!(
        out.stdout.lines().any(|l| l == "host=/srv/checkout"),
        "{out}"
    );
}
