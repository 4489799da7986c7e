//! The step outputs the action declares, in one list that `action.yml` must match (see
//! `tests/action_yml.rs`). Exported buildspec variables become outputs too, under their own
//! names; those are the user's, and are not listed here.
//! Owns: output names and descriptions. Must not: write outputs (that is `report::files`).

/// Every output `(name, description)` the binary may write, besides exported variables.
pub const OUTPUTS: &[(&str, &str)] = &[
    (
        "status",
        "How the run ended: SUCCEEDED, FAILED, TIMED_OUT or STOPPED.",
    ),
    (
        "function-arn",
        "ARN of the function that was deployed (the first, when several are).",
    ),
    ("version", "The Lambda version published by this run."),
    (
        "previous-version",
        "The version the alias pointed at before this run.",
    ),
    ("alias-arn", "ARN of the alias that was moved."),
    (
        "code-sha256",
        "Base64 SHA-256 of the deployed zip, as Lambda reports CodeSha256.",
    ),
    (
        "deployed",
        "true when new code was published, false when the function already ran it.",
    ),
    (
        "rolled-back",
        "true when the alias was moved back after a failed smoke test or alarm.",
    ),
    (
        "image-digest",
        "Digest (sha256:...) of the container image deployed to an image function.",
    ),
    ("package-size", "Size of the deployment zip in bytes."),
    ("check-run-id", "ID of the check run this run reported to."),
    (
        "preview-url",
        "Function URL of the pull request's preview alias (preview-url).",
    ),
];

/// The names in `OUTPUTS`.
pub fn output_names() -> impl Iterator<Item = &'static str> {
    OUTPUTS.iter().map(|(name, _)| *name)
}
