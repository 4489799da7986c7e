//! `action.yml` against the binary: the same inputs (names, descriptions), the same outputs, the
//! image pinned to the crate's version, and the post-entrypoint the binary dispatches on.

use std::collections::BTreeMap;

use clap::CommandFactory as _;
use lambda_pipeline::base::outputs::OUTPUTS;
use lambda_pipeline::cli::{self, Cli, Command};
use lambda_pipeline::env::Env;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Action {
    name: String,
    description: String,
    author: String,
    branding: BTreeMap<String, String>,
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, Output>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
struct Input {
    description: String,
    #[serde(default)]
    required: bool,
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Output {
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Runs {
    using: String,
    image: String,
    entrypoint: Option<String>,
    post_entrypoint: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

fn action() -> Action {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml");
    let text = std::fs::read_to_string(path).expect("read action.yml");
    serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("action.yml: {err}"))
}

/// Whitespace-collapsed, without a final period (clap drops it from one-line help).
fn normalize(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.trim_end_matches('.').to_owned()
}

/// `name → description` of every flag, from the `///` comments in `src/cli.rs`.
fn flag_descriptions() -> BTreeMap<String, String> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let help = arg.get_long_help().or(arg.get_help())?;
            Some((long.to_owned(), help.to_string()))
        })
        .collect()
}

#[test]
fn inputs_match_the_binary_both_ways() {
    let action = action();
    let binary: Vec<String> = cli::input_names();
    let missing: Vec<&String> = binary
        .iter()
        .filter(|name| !action.inputs.contains_key(*name))
        .collect();
    let extra: Vec<&String> = action
        .inputs
        .keys()
        .filter(|name| !binary.contains(name))
        .collect();
    let descriptions = flag_descriptions();
    let snippet: String = missing
        .iter()
        .map(|name| {
            format!(
                "  {name}:\n    description: '{}'\n    required: false\n    default: ''\n",
                descriptions[*name].replace('\'', "''")
            )
        })
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "action.yml and src/cli.rs disagree.\nflags without an input: {missing:?}\ninputs without a flag: {extra:?}\nadd to action.yml:\n{snippet}"
    );
}

#[test]
fn input_descriptions_are_the_flag_docs() {
    let action = action();
    let descriptions = flag_descriptions();
    for (name, input) in &action.inputs {
        let Some(doc) = descriptions.get(name) else {
            continue; // reported by inputs_match_the_binary_both_ways
        };
        assert_eq!(
            normalize(&input.description),
            normalize(doc),
            "input `{name}`: action.yml's description differs from the `///` doc in src/cli.rs"
        );
        assert!(
            !input.required,
            "input `{name}`: the binary validates inputs itself; keep `required: false`"
        );
    }
}

#[test]
fn every_input_has_a_default_and_the_special_ones_are_right() {
    let action = action();
    for (name, input) in &action.inputs {
        let default = input
            .default
            .as_deref()
            .unwrap_or_else(|| panic!("input `{name}` has no `default`"));
        match name.as_str() {
            "github-token" => assert_eq!(default, "${{ github.token }}"),
            "command" => assert_eq!(default, "run"),
            // Empty means "unset" to the binary; any other default would hide its own.
            _ => assert_eq!(default, "", "input `{name}`: the binary owns its defaults"),
        }
    }
}

#[test]
fn outputs_match_the_binary_both_ways() {
    let action = action();
    let declared: BTreeMap<&str, &str> = OUTPUTS.iter().copied().collect();
    let missing: Vec<&&str> = declared
        .keys()
        .filter(|name| !action.outputs.contains_key(**name))
        .collect();
    let extra: Vec<&String> = action
        .outputs
        .keys()
        .filter(|name| !declared.contains_key(name.as_str()))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "action.yml and src/outputs.rs disagree.\noutputs not in action.yml: {missing:?}\naction.yml outputs not in OUTPUTS: {extra:?}"
    );
    for (name, output) in &action.outputs {
        assert_eq!(
            normalize(&output.description),
            normalize(declared[name.as_str()]),
            "output `{name}`: description differs from src/outputs.rs"
        );
    }
}

#[test]
fn the_image_is_the_prebuilt_one_for_this_version() {
    let action = action();
    assert_eq!(action.runs.using, "docker");
    let image = action
        .runs
        .image
        .strip_prefix("docker://")
        .unwrap_or_else(|| {
            panic!(
                "runs.image `{}` must be a prebuilt `docker://` image",
                action.runs.image
            )
        });
    let (repository, tag) = image.rsplit_once(':').expect("runs.image has a tag");
    assert!(
        repository.starts_with("ghcr.io/"),
        "image `{image}` is not on ghcr.io"
    );
    assert!(repository.ends_with("/lambda-pipeline"), "image `{image}`");
    assert_eq!(
        tag,
        env!("CARGO_PKG_VERSION"),
        "runs.image tag must be the crate version"
    );
    assert!(
        action.runs.entrypoint.is_none(),
        "the image's ENTRYPOINT is the binary"
    );
    assert!(
        action.runs.args.is_empty(),
        "inputs travel as INPUT_* variables, not args"
    );
    assert!(!action.name.is_empty() && !action.description.is_empty() && !action.author.is_empty());
    assert!(action.branding.contains_key("icon") && action.branding.contains_key("color"));
}

#[test]
fn the_post_entrypoint_runs_the_post_command() {
    let post = action().runs.post_entrypoint.expect("runs.post-entrypoint");
    assert_eq!(post, format!("/usr/local/bin/{}", cli::POST_ENTRYPOINT));
    // The runner gives the post container the same inputs, `command: run` included.
    let env = Env::from_pairs([("INPUT_COMMAND", "run"), ("INPUT_ENVIRONMENT", "dev")]);
    let parsed = Cli::parse_with_inputs(vec![post.clone()], &env).unwrap();
    assert_eq!(parsed.command, Some(Command::Post));
    assert_eq!(parsed.inputs.environment.as_deref(), Some("dev"));
    let main = Cli::parse_with_inputs(vec!["/usr/local/bin/lambda-pipeline".into()], &env).unwrap();
    assert_eq!(main.command, Some(Command::Run));
    let explicit = Cli::parse_with_inputs(vec![post, "validate".into()], &env).unwrap();
    assert_eq!(explicit.command, Some(Command::Validate));
}

/// The Dockerfile's stages as `(name, instructions)`, comments and continuations left as they are.
fn dockerfile_stages() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().map(str::trim_start) {
        if line.starts_with('#') {
            continue;
        }
        if let Some(from) = line.strip_prefix("FROM ") {
            let name = from.rsplit(" AS ").next().unwrap_or(from).trim().to_owned();
            stages.push((name, Vec::new()));
        } else if let Some((_, lines)) = stages.last_mut() {
            lines.push(line.to_owned());
        }
    }
    stages
}

#[test]
fn dockerfile_follows_the_container_action_rules() {
    let stages = dockerfile_stages();
    let names: Vec<&str> = stages.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "docker-cli",
            "aws-tools",
            "base",
            "builder",
            "release",
            "runtime"
        ]
    );
    // `builder`, `docker-cli` and `aws-tools` only produce files for the shipped stages.
    let shipped = stages
        .iter()
        .filter(|(name, _)| !["builder", "docker-cli", "aws-tools"].contains(&name.as_str()));
    for (name, lines) in shipped {
        for line in lines {
            assert!(
                !line.starts_with("USER "),
                "stage `{name}`: no USER, actions run as root"
            );
            assert!(
                !line.starts_with("WORKDIR "),
                "stage `{name}`: no WORKDIR, the runner sets it"
            );
        }
    }
    let base = &stages
        .iter()
        .find(|(name, _)| name == "base")
        .expect("a base stage")
        .1;
    assert!(
        base.iter()
            .any(|l| l == r#"ENTRYPOINT ["/usr/local/bin/lambda-pipeline"]"#)
    );
    let post_link = format!(
        "ln -s lambda-pipeline /usr/local/bin/{}",
        cli::POST_ENTRYPOINT
    );
    assert!(
        base.iter().any(|l| l.contains(&post_link)),
        "the post-entrypoint link"
    );
    for tool in [
        "bash",
        "git",
        "zip",
        "unzip",
        "curl",
        "jq",
        "ca-certificates",
        "python3-pip",
        "python3-venv",
        "nodejs",
    ] {
        assert!(
            base.iter()
                .any(|l| l.trim_end_matches(" \\").trim() == tool),
            "base stage installs `{tool}`"
        );
    }
    // From the registries, not Debian: npm and corepack (yarn, pnpm), the aws and SAM CLIs.
    for needle in [
        "fetch npm ",
        "fetch corepack ",
        "corepack enable",
        "COPY --from=aws-tools /opt/aws /opt/aws",
        "ln -s /opt/aws/bin/sam /usr/local/bin/sam",
        "COPY --chmod=0755 docker/aws /usr/local/bin/aws",
    ] {
        assert!(
            base.iter().any(|l| l.contains(needle)),
            "base stage: `{needle}`"
        );
    }
    let aws_tools = &stages[1].1;
    assert!(
        aws_tools
            .iter()
            .any(|l| l.contains("\"awscli==${AWSCLI_VERSION}\" \"aws-sam-cli==${SAM_VERSION}\"")),
        "aws-tools installs the aws and SAM CLIs"
    );
}

/// Every workflow we show users: `examples/workflows/*.yml`, the README's workflow blocks, and
/// our own CI (which runs the action through `uses: ./`).
fn shown_workflows() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut workflows = Vec::new();
    for dir in ["examples/workflows", ".github/workflows"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "yml") {
                workflows.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (index, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let block = block.split("\n```").next().unwrap_or_default();
        if block.contains("\njobs:") {
            workflows.push((
                format!("README.md yaml block {}", index + 1),
                block.to_owned(),
            ));
        }
    }
    workflows
}

#[test]
fn examples_give_the_action_only_real_inputs() {
    let inputs = cli::input_names();
    let mut uses_found = 0;
    for (name, text) in shown_workflows() {
        let workflow: serde_json::Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        let jobs = workflow["jobs"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no jobs"));
        for (job, body) in jobs {
            for step in body["steps"].as_array().into_iter().flatten() {
                let uses = step["uses"].as_str().unwrap_or_default();
                if !(uses.starts_with("OWNER/lambda-pipeline@") || uses == "./") {
                    continue;
                }
                uses_found += 1;
                for key in step["with"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    assert!(
                        inputs.contains(key),
                        "{name}: job `{job}` gives the action `{key}`, which is not an input"
                    );
                }
            }
        }
    }
    assert!(
        uses_found >= 8,
        "only {uses_found} uses of the action found in the examples"
    );
}
