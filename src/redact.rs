//! The one `Redactor`: every secret value the run knows, and the `***` replacement applied to
//! everything that leaves the process (log lines, check-run text, job summary, SNS messages,
//! step outputs, the report file).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

/// The text that replaces a secret.
pub const MASK: &str = "***";

/// Called with each new secret piece, before any text could print it: the command wires it to
/// the workflow-files reporter, which registers the piece with the runner (`::add-mask::`).
pub type OnSecret = Arc<dyn Fn(&str) + Send + Sync>;

/// A cheap, shareable set of secret values.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
    on_secret: Arc<RwLock<Option<OnSecret>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets().len())
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Registers a secret, and the pieces of it that may be printed on their own: each line of
    /// a multi-line value and each string inside a JSON value. Returns the values that were new;
    /// each was handed to the `on_secret` hook first.
    pub fn add(&self, secret: &str) -> Vec<String> {
        let mut added = Vec::new();
        {
            let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
            for piece in pieces(secret) {
                if !secrets.contains(&piece) {
                    secrets.push(piece.clone());
                    added.push(piece);
                }
            }
            // Longest first, so that a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        let hook = self
            .on_secret
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(hook) = hook {
            added.iter().for_each(|piece| hook(piece));
        }
        added
    }

    /// Sets the hook every new secret piece is handed to (see `OnSecret`).
    pub fn on_secret(&self, hook: OnSecret) {
        *self.on_secret.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    pub fn secrets(&self) -> Vec<String> {
        self.secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = Cow::Borrowed(text);
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        out
    }
}

fn pieces(secret: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let trimmed = secret.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return pieces;
    }
    pieces.push(trimmed.to_owned());
    if trimmed.contains('\n') {
        pieces.extend(
            trimmed
                .lines()
                .map(str::trim)
                .filter(|line| line.len() >= 4)
                .map(str::to_owned),
        );
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) {
        collect_json_strings(&value, &mut pieces);
    }
    // A secret printed inside JSON appears with its quotes and backslashes escaped.
    let escaped: Vec<String> = pieces
        .iter()
        .map(|piece| json_escaped(piece))
        .filter(|escaped| !pieces.contains(escaped))
        .collect();
    pieces.extend(escaped);
    pieces
}

/// `text` as it appears inside a JSON string.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn collect_json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if s.len() >= 4 => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_json_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_json_strings(v, out)),
        _ => {}
    }
}

/// A value that must never be printed. `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_longest_first() {
        let redactor = Redactor::new();
        redactor.add("hunter2");
        redactor.add("hunter2-xyz");
        assert_eq!(redactor.redact("a hunter2-xyz b hunter2"), "a *** b ***");
    }

    #[test]
    fn masks_lines_of_multi_line_secrets_and_json_strings() {
        let redactor = Redactor::new();
        let added = redactor.add("{\"user\":\"admin-user\",\"password\":\"p4ssw0rd!\"}");
        assert!(added.contains(&"p4ssw0rd!".to_owned()));
        assert_eq!(redactor.redact("password: p4ssw0rd!"), "password: ***");
        redactor.add("line-one-secret\nline-two-secret\n");
        assert_eq!(redactor.redact("x line-two-secret"), "x ***");
    }

    #[test]
    fn masks_a_secret_escaped_inside_json() {
        let redactor = Redactor::new();
        redactor.add("pa\"ss\\word");
        assert_eq!(
            redactor.redact(r#"{"p": "pa\"ss\\word"}"#),
            r#"{"p": "***"}"#
        );
    }

    #[test]
    fn the_hook_sees_each_new_piece_once() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let redactor = Redactor::new();
        let sink = seen.clone();
        redactor.on_secret(Arc::new(move |piece| {
            sink.lock().unwrap().push(piece.to_owned())
        }));
        redactor.add("top-secret");
        redactor.add("top-secret");
        assert_eq!(*seen.lock().unwrap(), ["top-secret"]);
    }

    #[test]
    fn secret_never_displays() {
        let secret = Secret::new("token");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"***\"");
    }
}
