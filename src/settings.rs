//! Typed settings resolved from `cli::Inputs` and the environment. Only resolved settings reach
//! the stages. A bad value is an `InputError` that names the input and says what to do.

use std::fmt;
use std::time::Duration;

/// A problem with an input value. Exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input's kebab-case name, e.g. `traffic-shift`.
    pub input: String,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl InputError {
    pub fn new(input: &str, message: impl Into<String>) -> InputError {
        InputError {
            input: input.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> InputError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input `{}`: {}", self.input, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

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
}
