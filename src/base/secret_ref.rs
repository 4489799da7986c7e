//! A Secrets Manager reference, `secret-id[:json-key[:version-stage[:version-id]]]` (spec
//! §7.4): the grammar shared by the buildspec's `env.secrets-manager` and the
//! `secrets-manager` input.
//! Owns: parsing the reference. Must not: fetch anything.

/// `secret-id[:json-key[:version-stage[:version-id]]]` (spec §7.4).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretRef {
    pub secret_id: String,
    pub json_key: Option<String>,
    pub version_stage: Option<String>,
    pub version_id: Option<String>,
}

/// Parses `secret-id[:json-key[:version-stage[:version-id]]]`; an ARN's own colons belong to
/// the secret id.
pub fn parse_secret_ref(reference: &str) -> std::result::Result<SecretRef, String> {
    let parts: Vec<&str> = reference.split(':').collect();
    let (secret_id, rest) = if reference.starts_with("arn:") {
        if parts.len() < 7 {
            return Err(
                "an ARN needs arn:partition:secretsmanager:region:account:secret:name".to_owned(),
            );
        }
        (parts[..7].join(":"), &parts[7..])
    } else {
        (parts[0].to_owned(), &parts[1..])
    };
    if secret_id.trim().is_empty() {
        return Err("the secret id is empty".to_owned());
    }
    if rest.len() > 3 {
        return Err("too many `:` fields".to_owned());
    }
    let field = |i: usize| {
        rest.get(i)
            .filter(|s| !s.is_empty())
            .map(|s| (*s).to_owned())
    };
    let parsed = SecretRef {
        secret_id,
        json_key: field(0),
        version_stage: field(1),
        version_id: field(2),
    };
    if parsed.version_stage.is_some() && parsed.version_id.is_some() {
        return Err("give a version stage or a version id, not both".to_owned());
    }
    Ok(parsed)
}
