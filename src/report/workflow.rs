//! GitHub workflow commands and file commands, done right once: escaping, `::add-mask::`,
//! `::stop-commands::`, and step outputs in the multi-line delimiter form.

use std::io::Write as _;
use std::path::Path;

/// Escapes a command's message: `%`, `\r`, `\n`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value: also `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=F,line=L,col=C,title=T::message` (or warning/notice).
pub fn annotation(
    level: &str,
    message: &str,
    file: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
    title: Option<&str>,
) -> String {
    let mut properties = Vec::new();
    if let Some(file) = file {
        properties.push(format!("file={}", escape_property(file)));
    }
    if let Some(line) = line {
        properties.push(format!("line={line}"));
    }
    if let Some(column) = column {
        properties.push(format!("col={column}"));
    }
    if let Some(title) = title {
        properties.push(format!("title={}", escape_property(title)));
    }
    let properties = if properties.is_empty() {
        String::new()
    } else {
        format!(" {}", properties.join(","))
    };
    format!("::{level}{properties}::{}", escape_data(message))
}

/// `::add-mask::` lines for a secret: one per line of the value, as the runner masks per line.
pub fn add_mask(secret: &str) -> Vec<String> {
    secret
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("::add-mask::{}", escape_data(line)))
        .collect()
}

/// A random token for `::stop-commands::`.
pub fn stop_token() -> String {
    format!("lp-{}", uuid::Uuid::new_v4().simple())
}

/// Appends `name=value` records to a file command (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV),
/// using `name<<delimiter` for every value so that line breaks and `=` are always safe. A
/// value that contains the delimiter gets a fresh one.
pub fn append_records(path: &Path, records: &[(String, String)]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for (name, value) in records {
        if name.is_empty() || name.contains(['\n', '\r', '=', '<']) {
            return Err(std::io::Error::other(format!(
                "`{}` is not a valid output name",
                name.escape_debug()
            )));
        }
        let mut delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
        while value.contains(&delimiter) {
            delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
        }
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(
            annotation(
                "error",
                "failed\nhere",
                Some("build,spec.yml"),
                Some(4),
                None,
                None
            ),
            "::error file=build%2Cspec.yml,line=4::failed%0Ahere"
        );
    }

    #[test]
    fn records_use_delimiters_and_survive_injection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let hostile = "x\nversion=666\nghadelimiter_fake".to_owned();
        append_records(
            &path,
            &[("a".into(), hostile.clone()), ("b".into(), "plain".into())],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        let delimiter = first.strip_prefix("a<<").unwrap();
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        assert_eq!(value.join("\n"), hostile);
        assert!(append_records(&path, &[("bad\nname".into(), "v".into())]).is_err());
    }
}
