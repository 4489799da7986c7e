//! Checks on a generated GitHub workflow: actionlint (never skipped: when it is not at hand the
//! harness installs it, and a failed install fails the test with how to do it by hand), and
//! that every `with:` key given to this action is an input of `action.yml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Where actionlint is: `ACTIONLINT`, else the lint venv `.ci/run` creates
/// (`${LAMBDA_PIPELINE_CI_CACHE:-.ci-cache}/lint-venv/bin/actionlint`), else `PATH`, else the
/// harness installs it (`provision::actionlint`).
pub fn actionlint_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ACTIONLINT") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("LAMBDA_PIPELINE_CI_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo_path(".ci-cache"));
    let venv = cache.join("lint-venv/bin/actionlint");
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("actionlint"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(super::provision::actionlint)
}

/// Runs actionlint on `workflow`; panics with its findings.
pub fn actionlint(workflow: &Path) {
    let output = Command::new(actionlint_binary())
        .arg("-no-color")
        .arg(workflow)
        .output()
        .expect("run actionlint");
    assert!(
        output.status.success(),
        "actionlint found problems in {}:\n{}{}",
        workflow.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The inputs `action.yml` declares.
pub fn action_inputs() -> BTreeSet<String> {
    let text = std::fs::read_to_string(super::repo_path("action.yml")).unwrap();
    let action: Value = serde_saphyr::from_str(&text).unwrap();
    action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// `(job, key)` of every `with:` key given to a step that `uses` something containing
/// `lambda-pipeline`.
pub fn action_with_keys(workflow: &str) -> Vec<(String, String)> {
    let workflow: Value = serde_saphyr::from_str(workflow).unwrap();
    let mut keys = Vec::new();
    for (job, body) in workflow["jobs"].as_object().unwrap() {
        for step in body["steps"].as_array().unwrap() {
            let uses = step["uses"].as_str().unwrap_or_default();
            if !uses.contains("lambda-pipeline") {
                continue;
            }
            for key in step["with"].as_object().into_iter().flat_map(|w| w.keys()) {
                keys.push((job.clone(), key.clone()));
            }
        }
    }
    keys
}

/// Every `with:` key given to this action is an input of `action.yml`, and there is at least
/// one such step.
pub fn assert_real_inputs(workflow: &str) {
    let inputs = action_inputs();
    let keys = action_with_keys(workflow);
    assert!(!keys.is_empty(), "no step uses the action:\n{workflow}");
    let unknown: Vec<&(String, String)> = keys
        .iter()
        .filter(|(_, key)| !inputs.contains(key))
        .collect();
    assert!(
        unknown.is_empty(),
        "`with:` keys that are not inputs of action.yml: {unknown:?}"
    );
}
