//! Parsers for the value kinds every input uses: booleans, durations and `NAME=value` lines.
//! A bad value is an `InputError` that names the input and says what to write instead.

use std::time::Duration;

use crate::base::InputError;
use crate::base::secret_ref::{SecretRef, parse_secret_ref};

/// Parses a boolean input: true/false, yes/no, 1/0, on/off (any case). Unset is `default`.
pub fn parse_bool(input: &str, value: Option<&str>, default: bool) -> Result<bool, InputError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(
            InputError::new(input, format!("`{value}` is not a boolean"))
                .with_hint("use true or false"),
        ),
    }
}

/// Parses a duration input: `90`, `90s`, `15m`, `1h`, `1h30m`, `500ms`.
pub fn parse_duration(input: &str, value: &str) -> Result<Duration, InputError> {
    let text = value.trim();
    let bad = || {
        InputError::new(input, format!("`{value}` is not a duration"))
            .with_hint("write a number with a unit, e.g. 90s, 15m or 1h30m")
    };
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let number: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            Duration::from_millis(1)
        } else {
            match c {
                's' => Duration::from_secs(1),
                'm' => Duration::from_secs(60),
                'h' => Duration::from_secs(3600),
                'd' => Duration::from_secs(86_400),
                _ => return Err(bad()),
            }
        };
        total += unit * u32::try_from(number).map_err(|_| bad())?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// Parses the `env-vars` input: `NAME=value` per line; blank lines and `#` comments skipped;
/// quotes are kept as written (as CodeBuild's env-file does).
pub fn parse_env_vars(text: &str) -> Result<Vec<(String, String)>, InputError> {
    parse_variable_lines("env-vars", text)
}

/// `{environment}` in a value, filled in once the environment is known. A value that uses it
/// while no environment is selected is an error naming `input`.
pub fn fill_environment(
    input: &str,
    vars: &mut [(String, String)],
    environment: Option<&str>,
) -> Result<(), InputError> {
    for (name, value) in vars.iter_mut() {
        if !value.contains(ENVIRONMENT_PLACEHOLDER) {
            continue;
        }
        let Some(environment) = environment else {
            return Err(InputError::new(
                input,
                format!("`{name}` uses `{ENVIRONMENT_PLACEHOLDER}` but no environment is selected"),
            )
            .with_hint(
                "set `environment`, or `branch-environments` to derive it from the branch",
            ));
        };
        *value = value.replace(ENVIRONMENT_PLACEHOLDER, environment);
    }
    Ok(())
}

/// What `{environment}` stands for in `env-vars`, `parameter-store`, `secrets-manager` and
/// `function-name`.
pub const ENVIRONMENT_PLACEHOLDER: &str = "{environment}";

/// `NAME=value` lines of `input` (`env-vars`, `parameter-store`, `secrets-manager`).
pub fn parse_variable_lines(input: &str, text: &str) -> Result<Vec<(String, String)>, InputError> {
    let mut vars = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(InputError::new(
                input,
                format!("line {} is `{trimmed}`; expected NAME=value", index + 1),
            ));
        };
        let name = name.trim();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
        if !valid {
            return Err(InputError::new(
                input,
                format!("line {}: `{name}` is not a valid variable name", index + 1),
            ));
        }
        if name.starts_with("CODEBUILD_") {
            return Err(InputError::new(
                input,
                format!(
                    "line {}: `{name}` starts with CODEBUILD_, which is reserved",
                    index + 1
                ),
            )
            .with_hint("choose another name; CODEBUILD_ variables are set by the build itself"));
        }
        vars.push((name.to_owned(), value.to_owned()));
    }
    Ok(vars)
}

/// The `parameter-store` input: `NAME=parameter-name` lines, names trimmed. `{environment}`
/// is filled in later (`fill_environment`).
pub fn parse_parameter_store(text: &str) -> Result<Vec<(String, String)>, InputError> {
    let mut vars = parse_variable_lines("parameter-store", text)?;
    for (name, value) in &mut vars {
        *value = value.trim().to_owned();
        if value.is_empty() {
            return Err(
                InputError::new("parameter-store", format!("`{name}` names no parameter"))
                    .with_hint("write NAME=/path/of/the/parameter"),
            );
        }
    }
    Ok(vars)
}

/// The `secrets-manager` references, after `{environment}` is filled in.
pub fn parse_secrets_manager(
    vars: Vec<(String, String)>,
) -> Result<Vec<(String, SecretRef)>, InputError> {
    vars.into_iter()
        .map(|(name, reference)| {
            let reference = reference.trim();
            parse_secret_ref(reference)
                .map(|parsed| (name.clone(), parsed))
                .map_err(|why| {
                    InputError::new(
                        "secrets-manager",
                        format!("`{name}={reference}` is not a secret reference: {why}"),
                    )
                    .with_hint("write NAME=secret-id[:json-key[:version-stage[:version-id]]]")
                })
        })
        .collect()
}

/// Serializes a duration as `90s` (for `--show-settings`).
pub fn show_duration<S: serde::Serializer>(
    value: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{}s", value.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("t", "90").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration("t", "1h30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_duration("t", "250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert!(parse_duration("t", "5 minutes").is_err());
        assert!(parse_duration("t", "10x").is_err());
        assert!(parse_duration("t", "").is_err());
    }

    #[test]
    fn booleans_name_the_input() {
        assert!(parse_bool("force", Some("YES"), false).unwrap());
        assert!(!parse_bool("force", None, false).unwrap());
        let err = parse_bool("force", Some("maybe"), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input `force`: `maybe` is not a boolean\n\nhint: use true or false"
        );
    }

    #[test]
    fn references_and_the_environment_placeholder() {
        let mut params = parse_parameter_store("DB= /app/{environment}/db \n").unwrap();
        fill_environment("parameter-store", &mut params, Some("prod")).unwrap();
        assert_eq!(params, vec![("DB".to_owned(), "/app/prod/db".to_owned())]);
        let err = fill_environment(
            "parameter-store",
            &mut [("DB".into(), "/{environment}".into())],
            None,
        )
        .unwrap_err();
        assert_eq!(err.input, "parameter-store");
        assert!(err.message.contains("no environment is selected"), "{err}");
        assert!(
            parse_parameter_store("DB=")
                .unwrap_err()
                .message
                .contains("names no parameter")
        );
        let secrets =
            parse_secrets_manager(vec![("TOKEN".into(), "ci/token:key::v1".into())]).unwrap();
        assert_eq!(secrets[0].1.json_key.as_deref(), Some("key"));
        assert_eq!(secrets[0].1.version_id.as_deref(), Some("v1"));
        let err = parse_secrets_manager(vec![("T".into(), "a:b:c:d:e".into())]).unwrap_err();
        assert_eq!(err.input, "secrets-manager");
        assert!(err.message.contains("`T=a:b:c:d:e`"), "{err}");
    }

    #[test]
    fn env_vars_input() {
        let vars = parse_env_vars("# comment\nENV=prod\n\nQUOTED=\"x y\"\nEMPTY=\n").unwrap();
        assert_eq!(
            vars,
            vec![
                ("ENV".to_owned(), "prod".to_owned()),
                ("QUOTED".to_owned(), "\"x y\"".to_owned()),
                ("EMPTY".to_owned(), String::new())
            ]
        );
        assert!(
            parse_env_vars("CODEBUILD_X=1")
                .unwrap_err()
                .to_string()
                .contains("reserved")
        );
        assert!(
            parse_env_vars("no equals")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }
}
